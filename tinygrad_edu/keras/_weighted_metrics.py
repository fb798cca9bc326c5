"""Keras's metrics that take ``sample_weight``: ``Mean``, ``Precision``, ``Recall``, ``AUC``
(also by the names ``'precision'``, ``'recall'``, ``'auc'``), and :class:`Weighted`, which
makes any per-sample metric a weighted one for ``compile(weighted_metrics=[...])``.

Keras's formulas: ``Mean`` is ``sum(w * v) / sum(w)``; ``Precision`` is ``TP / (TP + FP)``
and ``Recall`` ``TP / (TP + FN)``, counting every entry with ``y_pred > threshold`` (0.5)
as a predicted positive and a non-zero ``y_true`` as a positive (0 when the denominator
is 0); ``AUC`` counts TP/FP/TN/FN at ``num_thresholds`` thresholds (``-1e-7``,
``1/(n-1)``, ..., ``1 + 1e-7``) and sums the ROC curve's trapezoids (Keras's
``'interpolation'``), or its lower / upper steps (``'minoring'`` / ``'majoring'``). The
sums are kept in float64 (Keras's float32 rounds them).

>>> import numpy as np
>>> m = AUC(num_thresholds=3)
>>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]); float(m.result())   # Keras's example
0.75
>>> p = Precision(); p.update_state([0, 1, 1, 1], [1, 0, 1, 1]); float(p.result())
0.6666666666666666
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..train import metrics as _m
from .metrics import Metric, _np

_EPSILON = 1e-7  # keras.backend.epsilon()


def _weights_like(sample_weight: Any, values: np.ndarray, who: str) -> np.ndarray:
    """``sample_weight`` broadcast to ``values`` (one weight per sample, or per entry)."""
    if sample_weight is None:
        return np.ones_like(values, dtype=np.float64)
    w = np.asarray(_np(sample_weight), dtype=np.float64)
    while w.ndim < values.ndim:
        w = w[..., None]
    try:
        return np.broadcast_to(w, values.shape)
    except ValueError:
        raise ValueError(f"{who}: sample_weight of shape {w.shape} does not fit values of "
                         f"shape {values.shape}; give one weight per sample") from None


class Mean(Metric):
    """The (weighted) mean of the values given to ``update_state(values, sample_weight)``;
    e.g. a loss tracker in a ``train_step`` of your own.

    >>> m = Mean(name="loss"); m.update_state([1.0, 3.0]); m.update_state(5.0)
    >>> float(m.result()), m.name
    (3.0, 'loss')
    """

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), dtype="float64", name="total")
        self.count = self.add_variable(shape=(), dtype="float64", name="count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        v = np.asarray(_np(values), dtype=np.float64)
        w = _weights_like(sample_weight, v, f"metric {self.name!r}")
        self.total.assign_add(np.sum(v * w))
        self.count.assign_add(np.sum(w))

    def result(self) -> float:
        count = float(self.count)
        return float(self.total) / count if count else 0.0

    def __call__(self, values: Any, sample_weight: Any = None) -> float:  # type: ignore[override]
        """``update_state(values, sample_weight)``, then ``result()``."""
        self.update_state(values, sample_weight)
        return self.result()


class _Confusion(Metric):
    """True/false positives/negatives at thresholds, counted Keras's way (see the module
    docstring)."""

    def __init__(self, thresholds: Any, name: str | None, dtype: Any) -> None:
        super().__init__(name=name, dtype=dtype)
        self.thresholds = np.asarray(thresholds, dtype=np.float64).reshape(-1)
        n = self.thresholds.size
        self.true_positives = self.add_variable(shape=(n,), dtype="float64",
                                                name="true_positives")
        self.false_positives = self.add_variable(shape=(n,), dtype="float64",
                                                 name="false_positives")
        self.true_negatives = self.add_variable(shape=(n,), dtype="float64",
                                                name="true_negatives")
        self.false_negatives = self.add_variable(shape=(n,), dtype="float64",
                                                 name="false_negatives")

    def _predictions(self, y_pred: np.ndarray) -> np.ndarray:
        return y_pred

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t = np.asarray(_np(y_true))
        p = self._predictions(np.asarray(_np(y_pred), dtype=np.float64))
        if t.shape != p.shape:
            if t.size != p.size:
                raise ValueError(f"metric {self.name!r}: targets of shape {t.shape} and "
                                 f"predictions of shape {p.shape} do not match (one "
                                 "probability per target entry)")
            t = t.reshape(p.shape)
        w = _weights_like(sample_weight, p, f"metric {self.name!r}").reshape(-1)
        positive = t.reshape(-1) != 0
        predicted = p.reshape(-1)[None, :] > self.thresholds[:, None]  # (thresholds, n)
        self.true_positives.assign_add((predicted & positive) @ w)
        self.false_positives.assign_add((predicted & ~positive) @ w)
        self.true_negatives.assign_add((~predicted & ~positive) @ w)
        self.false_negatives.assign_add((~predicted & positive) @ w)


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a / b``, 0 where ``b`` is 0 (Keras's ``divide_no_nan``)."""
    out = np.zeros_like(a, dtype=np.float64)
    np.divide(a, b, out=out, where=b != 0)
    return out


def _threshold_list(thresholds: Any, who: str) -> list[float]:
    if thresholds is None:
        return [0.5]
    values = [float(v) for v in np.atleast_1d(np.asarray(thresholds, dtype=np.float64))]
    if not all(0.0 <= v <= 1.0 for v in values):
        raise ValueError(f"{who}: thresholds must be in [0, 1], got {thresholds!r}")
    return values


def _refuse_top_k(who: str, top_k: Any, class_id: Any) -> None:
    if top_k is not None or class_id is not None:
        raise NotImplementedError(
            f"{who}: top_k and class_id are not supported by tinygrad_edu.keras; slice the "
            "class yourself (a metric function fn(y_true, y_pred) on y_pred[:, k])")


class Precision(_Confusion):
    """``TP / (TP + FP)`` with ``y_pred > thresholds`` (default 0.5) as predicted
    positives; a list of thresholds gives one precision each."""

    def __init__(self, thresholds: Any = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        _refuse_top_k("Precision", top_k, class_id)
        self._one = thresholds is None or np.ndim(thresholds) == 0
        super().__init__(_threshold_list(thresholds, "Precision"), name or "precision", dtype)

    def result(self) -> Any:
        out = _ratio(self.true_positives.value,
                     self.true_positives.value + self.false_positives.value)
        return float(out[0]) if self._one else out


class Recall(_Confusion):
    """``TP / (TP + FN)`` with ``y_pred > thresholds`` (default 0.5) as predicted
    positives."""

    def __init__(self, thresholds: Any = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        _refuse_top_k("Recall", top_k, class_id)
        self._one = thresholds is None or np.ndim(thresholds) == 0
        super().__init__(_threshold_list(thresholds, "Recall"), name or "recall", dtype)

    def result(self) -> Any:
        out = _ratio(self.true_positives.value,
                     self.true_positives.value + self.false_negatives.value)
        return float(out[0]) if self._one else out


class AUC(_Confusion):
    """The area under the ROC curve, from confusion counts at ``num_thresholds``
    thresholds (Keras's approximation, see the module docstring); ``from_logits=True``
    applies a sigmoid to the predictions first."""

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str | None = None,
                 dtype: Any = None, thresholds: Any = None, multi_label: bool = False,
                 num_labels: int | None = None, label_weights: Any = None,
                 from_logits: bool = False) -> None:
        if str(curve).upper() != "ROC":
            raise NotImplementedError(
                f"AUC: curve={curve!r} is not supported by tinygrad_edu.keras, only the ROC "
                "curve; for the area under the precision-recall curve use "
                "keras.metrics.Precision/Recall(thresholds=[...]) and sum the steps yourself")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: summation_method must be 'interpolation', 'minoring' or "
                             f"'majoring', got {summation_method!r}")
        if multi_label or num_labels is not None or label_weights is not None:
            raise NotImplementedError("AUC: multi_label, num_labels and label_weights are not "
                                      "supported by tinygrad_edu.keras (the labels are "
                                      "flattened into one binary problem)")
        if thresholds is not None:
            inner = sorted(_threshold_list(thresholds, "AUC"))
        elif isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) \
                or num_thresholds <= 1:
            raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: "
                             f"num_thresholds={num_thresholds!r}")
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.num_thresholds = len(inner) + 2
        self.summation_method = summation_method
        self.from_logits = bool(from_logits)
        super().__init__([-_EPSILON, *inner, 1.0 + _EPSILON], name or "auc", dtype)

    def _predictions(self, y_pred: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-y_pred)) if self.from_logits else y_pred

    def result(self) -> float:
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        tpr, fpr = _ratio(tp, tp + fn), _ratio(fp, fp + tn)
        if self.summation_method == "interpolation":
            heights = (tpr[:-1] + tpr[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(tpr[:-1], tpr[1:])
        else:
            heights = np.maximum(tpr[:-1], tpr[1:])
        return float(np.sum((fpr[:-1] - fpr[1:]) * heights))


class Weighted(_m.Metric):
    """A metric of ``compile(weighted_metrics=[...])``: each sample counts with its
    ``sample_weight`` (or class weight). A ``keras.metrics.Metric`` gets the weights in
    its ``update_state``; a name or a function is averaged per sample,
    ``sum(w * value) / sum(w)``, ``value`` being the per-sample accuracy (binary,
    categorical or sparse, chosen from the shapes as for ``'accuracy'``) or the per-sample
    loss of a Keras loss name or ``fn(y_true, y_pred)``."""

    takes_sample_weight = True

    def __init__(self, spec: Any, name: str) -> None:
        self.spec = spec
        self.inner = spec if isinstance(spec, Metric) else None
        self.per_sample = None if self.inner is not None else _per_sample(spec)
        self.tracker = self.inner or Mean(name=name)
        super().__init__(name)

    def reset(self) -> None:
        if "tracker" in self.__dict__:
            self.tracker.reset_state()

    def update(self, pred: Any, target: Any, sample_weight: Any = None) -> None:
        if self.inner is not None:
            self.inner.update_state(_np(target), _np(pred), sample_weight)
            return
        values = np.asarray(_np(self.per_sample(_np(target), _np(pred))), dtype=np.float64)
        values = values.reshape(len(values), -1).mean(axis=1) if values.ndim > 1 else values
        self.tracker.update_state(values, sample_weight)

    def result(self) -> float:
        value = np.asarray(_np(self.tracker.result()))
        return float(value.reshape(()))


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per-sample accuracy: binary (one output), categorical (one-hot targets) or sparse
    (class indices), as Keras resolves ``'accuracy'``."""
    if y_pred.ndim == 1 or y_pred.shape[-1] == 1:
        t = y_true.reshape(y_pred.shape)
        return ((y_pred > 0.5) == (t > 0.5)).astype(np.float64).reshape(len(y_pred), -1)
    if y_true.shape == y_pred.shape:
        return (y_pred.argmax(-1) == y_true.argmax(-1)).astype(np.float64)
    return (y_pred.argmax(-1) == y_true.reshape(y_pred.shape[:-1])).astype(np.float64)


_BUILT_IN = {"MeanSquaredError": "mse", "MeanAbsoluteError": "mae",
             "RootMeanSquaredError": "rmse", "R2Score": "r2", "BinaryAccuracy": "accuracy",
             "CategoricalAccuracy": "accuracy", "SparseCategoricalAccuracy": "accuracy",
             "Accuracy": "accuracy"}
"""The built-in metric classes as the per-sample names they average (Keras's classes
weigh each sample's value)."""

_PER_SAMPLE_RESULTS = ("rmse", "root_mean_squared_error", "r2", "r2_score")


def _per_sample(spec: Any) -> Callable[[np.ndarray, np.ndarray], Any]:
    """The per-sample function ``fn(y_true, y_pred)`` behind a weighted metric spec."""
    from . import losses

    if isinstance(spec, str):
        key = spec.lower()
        if key in ("accuracy", "acc", "binary_accuracy", "categorical_accuracy",
                   "sparse_categorical_accuracy"):
            return _accuracy
        if key in losses._FUNCTIONS:
            return losses._FUNCTIONS[key]
        if key in _PER_SAMPLE_RESULTS:
            raise NotImplementedError(
                f"weighted_metrics: {spec!r} is not a mean over samples, so tinygrad_edu.keras "
                "cannot weight it; use 'mse' (or keras.metrics.Mean of your own values)")
        raise ValueError(f"weighted_metrics: unknown metric {spec!r}")
    cls = spec if isinstance(spec, type) else type(spec)
    if issubclass(cls, _m.Metric) and cls.__name__ in _BUILT_IN:
        return _per_sample(_BUILT_IN[cls.__name__])
    if isinstance(spec, _m.Metric) or (isinstance(spec, type) and issubclass(spec, _m.Metric)):
        name = getattr(spec, "name", type(spec).__name__)
        raise NotImplementedError(
            f"weighted_metrics: {name!r} cannot take sample weights in tinygrad_edu.keras; "
            "give its name ('accuracy', 'mse', ...), a function fn(y_true, y_pred) of "
            "per-sample values, or a keras.metrics.Metric subclass whose update_state takes "
            "sample_weight")
    if callable(spec):
        return spec
    raise TypeError(f"a weighted metric is a name, a Metric or a function fn(y_true, y_pred), "
                    f"got {type(spec).__name__}")
