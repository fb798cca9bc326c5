"""Metrics: streaming ``Metric`` objects for ``fit`` and plain functions for everyone.

Each metric accumulates over the batches of an epoch and reports the value over *all* its
samples: ``rmse`` is the true root mean squared error ``sqrt(mean((pred - target)**2))``
(seeds 000 and 001 print ``sqrt(sum(...))``, which grows with the number of samples), and
``r2`` pools the whole epoch rather than averaging per-batch scores.

Asking for accuracy on a regression target (continuous float targets) warns with a
``TrainingWarning``: accuracy counts exact class matches, which says nothing about how close
a regression is (seed 000 asks Keras for ``metrics=['accuracy']`` on ``y = x1 * x2``).

>>> import numpy as np
>>> pred, target = np.array([1.0, 2.0, 4.0]), np.array([1.0, 2.0, 1.0])
>>> rmse(pred, target), mse(pred, target), mae(pred, target)
(1.7320508075688772, 3.0, 1.0)
>>> m = get("rmse")
>>> m.update(pred[:2], target[:2]); m.update(pred[2:], target[2:])
>>> m.result()                                   # the same value, streamed by batches
1.7320508075688772
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .errors import TrainingWarning, user_stacklevel


def _np(x: Any) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _aligned(pred: Any, target: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    """Float arrays of equal shape; ``(n, 1)`` against ``(n,)`` is squeezed, nothing else is
    broadcast (a broadcast would compare every prediction with every target)."""
    p, t = _np(pred), _np(target)
    if p.shape != t.shape:
        if p.size == t.size and p.squeeze().shape == t.squeeze().shape:
            t = t.reshape(p.shape)
        else:
            raise ValueError(
                f"{who}: predictions of shape {p.shape} and targets of shape {t.shape} do not "
                "match; a metric compares them sample by sample"
            )
    return p.astype(np.float64, copy=False), t.astype(np.float64, copy=False)


class Metric:
    """A metric that accumulates over batches: ``reset()``, ``update(pred, target)``,
    ``result()``. Subclasses set ``name`` and accumulate sums in float64."""

    name = "metric"
    higher_is_better = False

    def __init__(self, name: str | None = None) -> None:
        if name is not None:
            self.name = name
        self.reset()

    def reset(self) -> None:
        self._sum = 0.0
        self._count = 0

    def update(self, pred: Any, target: Any) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def result(self) -> float:
        return self._sum / self._count if self._count else float("nan")

    def __call__(self, pred: Any, target: Any) -> float:
        """The metric of one set of predictions (resets first)."""
        self.reset()
        self.update(pred, target)
        return self.result()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class MeanSquaredError(Metric):
    """``mean((pred - target)**2)`` over all samples and outputs."""

    name = "mse"

    def update(self, pred: Any, target: Any) -> None:
        p, t = _aligned(pred, target, self.name)
        self._sum += float(np.square(p - t).sum())
        self._count += p.size


class RootMeanSquaredError(MeanSquaredError):
    """``sqrt(mean((pred - target)**2))``: the true RMSE, in the target's units."""

    name = "rmse"

    def result(self) -> float:
        return float(np.sqrt(super().result()))


class MeanAbsoluteError(Metric):
    """``mean(|pred - target|)``."""

    name = "mae"

    def update(self, pred: Any, target: Any) -> None:
        p, t = _aligned(pred, target, self.name)
        self._sum += float(np.abs(p - t).sum())
        self._count += p.size


class R2Score(Metric):
    """Coefficient of determination ``1 - SSE / SST`` per output, averaged over outputs
    (scikit-learn's ``r2_score``); 1 is perfect, 0 is as good as predicting the mean.
    Streams the target's mean and spread with Chan's update, so it is exact over an epoch.
    A constant target scores 1 if predicted exactly, else 0 (as scikit-learn)."""

    name = "r2"
    higher_is_better = True

    def reset(self) -> None:
        self._n = 0
        self._mean: np.ndarray | float = 0.0
        self._m2: np.ndarray | float = 0.0
        self._sse: np.ndarray | float = 0.0

    def update(self, pred: Any, target: Any) -> None:
        p, t = _aligned(pred, target, self.name)
        if p.ndim == 0:
            p, t = p.reshape(1), t.reshape(1)
        p, t = p.reshape(len(p), -1), t.reshape(len(t), -1)
        nb = len(t)
        if nb == 0:
            return
        mb = t.mean(axis=0)
        m2b = np.square(t - mb).sum(axis=0)
        n = self._n + nb
        delta = mb - self._mean
        self._mean = self._mean + delta * nb / n
        self._m2 = self._m2 + m2b + np.square(delta) * self._n * nb / n
        self._sse = self._sse + np.square(p - t).sum(axis=0)
        self._n = n

    def result(self) -> float:
        if self._n == 0:
            return float("nan")
        sst = np.asarray(self._m2, dtype=np.float64)
        sse = np.asarray(self._sse, dtype=np.float64)
        const = sst <= 1e-12 * np.maximum(np.square(np.asarray(self._mean)) * self._n, 1e-300)
        safe = np.where(const, 1.0, sst)
        score = np.where(const, np.where(sse <= 1e-12, 1.0, 0.0), 1.0 - sse / safe)
        return float(score.mean())


def _looks_continuous(t: np.ndarray, binary: bool) -> bool:
    """Float targets that are not class labels: not 0/1 (binary) or not integer-valued."""
    if t.dtype.kind not in "fc" or t.size == 0:
        return False
    sample = t.reshape(-1)[:4096]
    if binary:
        return not np.isin(sample, (0.0, 1.0)).all()
    return not (np.mod(sample, 1) == 0).all()


def _regression_warning(name: str, t: np.ndarray) -> str:
    show = ", ".join(f"{v:.4g}" for v in t.reshape(-1)[:3])
    return (
        f"metric '{name}' on a regression target is meaningless: the targets are continuous "
        f"values (e.g. {show}, ...), so a prediction counts as 'accurate' only when it hits a "
        "class label exactly, which says nothing about how close it is. Use metrics="
        "['mae'], ['rmse'] or ['r2'] for regression (seed 000 asked Keras for accuracy on "
        "y = x1 * x2). RMSE, the root mean squared error, is sqrt(mean(err**2)) over the "
        "samples, in the targets' units; sqrt(sum(err**2)) is not it: it grows with the "
        "number of samples (seed 000's answer printed sqrt(sum) = 5.10 over 5000 samples, "
        "an RMSE of 5.10 / sqrt(5000) = 0.072)."
    )


class _AccuracyBase(Metric):
    higher_is_better = True

    def __init__(self, name: str | None = None, warn: bool = True) -> None:
        self.warn = warn
        self._warned = False
        super().__init__(name)

    def _check_target(self, t: np.ndarray, binary: bool) -> None:
        if self.warn and not self._warned and _looks_continuous(t, binary):
            self._warned = True
            warnings.warn(_regression_warning(self.name, t), TrainingWarning,
                          stacklevel=user_stacklevel())

    def _count_hits(self, hits: np.ndarray) -> None:
        self._sum += float(hits.sum())
        self._count += hits.size


class BinaryAccuracy(_AccuracyBase):
    """Fraction of ``(pred > threshold) == target`` for 0/1 targets (one output per class
    decision; use ``threshold=0`` for logits). As in Keras, a target that is neither 0 nor 1
    never matches, so on a regression target it is ~0 (and warns)."""

    name = "binary_accuracy"

    def __init__(self, name: str | None = None, threshold: float = 0.5, warn: bool = True):
        self.threshold = threshold
        super().__init__(name, warn)

    def update(self, pred: Any, target: Any) -> None:
        p, t = _np(pred), _np(target)
        self._check_target(t, binary=True)
        p, t = _aligned(p, t, self.name)
        # Keras's rule: the thresholded prediction must equal the target
        self._count_hits((p > self.threshold).astype(np.float64) == t)


class CategoricalAccuracy(_AccuracyBase):
    """Fraction of samples whose highest-scoring class (argmax of the last axis) is the
    target's: one-hot targets of the predictions' shape, or class indices (sparse)."""

    name = "categorical_accuracy"

    def update(self, pred: Any, target: Any) -> None:
        p, t = _np(pred), _np(target)
        guess = p.argmax(axis=-1)
        if t.shape == p.shape:
            self._check_target(t, binary=True)
            label = t.argmax(axis=-1)
        elif t.shape == p.shape[:-1] or (t.size == guess.size and t.ndim == p.ndim):
            self._check_target(t, binary=False)
            label = t.reshape(guess.shape)
        else:
            raise ValueError(
                f"{self.name}: predictions {p.shape} need one-hot targets of the same shape or "
                f"class indices of shape {p.shape[:-1]}, got targets of shape {t.shape}"
            )
        self._count_hits(guess == label)


class SparseCategoricalAccuracy(CategoricalAccuracy):
    """``CategoricalAccuracy`` for integer class targets (Keras's name)."""

    name = "sparse_categorical_accuracy"


class Accuracy(_AccuracyBase):
    """Keras's ``'accuracy'``: binary accuracy (threshold 0.5) for one output, categorical
    accuracy (argmax) for several."""

    name = "accuracy"

    def __init__(self, name: str | None = None, threshold: float = 0.5, warn: bool = True):
        self.threshold = threshold
        super().__init__(name, warn)

    def reset(self) -> None:
        super().reset()
        self._inner: _AccuracyBase | None = None

    def update(self, pred: Any, target: Any) -> None:
        if self._inner is None:
            p = _np(pred)
            several = p.ndim >= 2 and p.shape[-1] > 1
            self._inner = (CategoricalAccuracy(self.name, warn=self.warn) if several else
                           BinaryAccuracy(self.name, threshold=self.threshold, warn=self.warn))
            self._inner._warned = self._warned
        self._inner.update(pred, target)
        self._warned = self._inner._warned

    def result(self) -> float:
        return self._inner.result() if self._inner is not None else float("nan")


class MeanMetricWrapper(Metric):
    """A user function ``fn(pred, target) -> number``, averaged over batches weighted by
    their sizes."""

    def __init__(self, fn: Callable[[Any, Any], Any], name: str | None = None) -> None:
        self.fn = fn
        super().__init__(name or getattr(fn, "__name__", "metric"))

    def update(self, pred: Any, target: Any) -> None:
        value = self.fn(pred, target)
        n = len(_np(pred)) if _np(pred).ndim else 1
        self._sum += float(value.item() if isinstance(value, Tensor) else value) * n
        self._count += n


_REGISTRY: dict[str, Callable[..., Metric]] = {
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "rmse": RootMeanSquaredError,
    "root_mean_squared_error": RootMeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "r2": R2Score,
    "r2_score": R2Score,
    "accuracy": Accuracy,
    "acc": Accuracy,
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
}


def get(metric: str | Metric | Callable, warn: bool = True) -> Metric:
    """A fresh ``Metric`` from a name ('mse', 'rmse', 'mae', 'r2', 'accuracy',
    'binary_accuracy', 'categorical_accuracy', 'sparse_categorical_accuracy' or a long
    Keras name), a ``Metric`` (returned as is) or a function ``fn(pred, target)``.
    The metric is named as asked, so ``History`` keys follow the caller's spelling.

    >>> get("mean_absolute_error").name
    'mean_absolute_error'
    >>> get("accuracy_score")
    Traceback (most recent call last):
    ...
    ValueError: unknown metric 'accuracy_score'; known: acc, accuracy, binary_accuracy, categorical_accuracy, mae, mean_absolute_error, mean_squared_error, mse, r2, r2_score, rmse, root_mean_squared_error, sparse_categorical_accuracy
    """  # noqa: E501
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        key = metric.lower().replace(" ", "_")
        if key not in _REGISTRY:
            raise ValueError(f"unknown metric {metric!r}; known: {', '.join(sorted(_REGISTRY))}")
        cls = _REGISTRY[key]
        if issubclass(cls, _AccuracyBase):
            return cls(name=metric, warn=warn)
        return cls(name=metric)
    if callable(metric):
        return MeanMetricWrapper(metric)
    raise TypeError(f"a metric is a name, a Metric or a function, got {type(metric).__name__}")


# ----------------------------------------------------------------------- plain functions
def mse(pred: Any, target: Any) -> float:
    """Mean squared error.

    >>> mse([0.0, 2.0], [0.0, 0.0])
    2.0
    """
    return MeanSquaredError()(pred, target)


def rmse(pred: Any, target: Any) -> float:
    """Root mean squared error, ``sqrt(mean((pred - target)**2))`` — *not* the square root
    of a sum, which grows with the number of samples (seed 000 printed
    ``sqrt(sum(sq_err)) = 5.10`` over 5000 samples: the RMSE was 5.10 / sqrt(5000) ≈ 0.072).

    >>> import numpy as np
    >>> err = np.full(5000, 0.072)
    >>> round(rmse(err, np.zeros(5000)), 3), round(float(np.sqrt((err ** 2).sum())), 2)
    (0.072, 5.09)
    """
    return RootMeanSquaredError()(pred, target)


def mae(pred: Any, target: Any) -> float:
    """Mean absolute error.

    >>> mae([1.0, -1.0], [0.0, 0.0])
    1.0
    """
    return MeanAbsoluteError()(pred, target)


def r2(pred: Any, target: Any) -> float:
    """Coefficient of determination (1 is perfect, 0 is the mean's score).

    >>> r2([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]), r2([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])
    (1.0, 0.0)
    """
    return R2Score()(pred, target)


def binary_accuracy(pred: Any, target: Any, threshold: float = 0.5) -> float:
    """Fraction of ``(pred > threshold) == target`` for 0/1 targets.

    >>> binary_accuracy([0.2, 0.9, 0.6], [0, 1, 0])
    0.6666666666666666
    """
    return BinaryAccuracy(threshold=threshold)(pred, target)


def categorical_accuracy(pred: Any, target: Any) -> float:
    """Fraction of samples whose argmax class matches (one-hot or index targets).

    >>> categorical_accuracy([[0.1, 0.9], [0.8, 0.2]], [1, 1])
    0.5
    """
    return CategoricalAccuracy()(pred, target)


def accuracy(pred: Any, target: Any, threshold: float = 0.5) -> float:
    """Binary accuracy for one output, categorical accuracy for several (as Keras's
    ``'accuracy'``). Warns (``TrainingWarning``) when the targets are continuous.

    >>> accuracy([[0.1, 0.9], [0.8, 0.2]], [[0, 1], [0, 1]])
    0.5
    """
    return Accuracy(threshold=threshold)(pred, target)
