"""Keras's metrics for ``compile(metrics=[...])``, on top of ``tinygrad_edu.train.metrics``.

A metric is a name, a metric object or a function. Names ``fit`` knows ('accuracy', 'mse',
'mae', 'rmse', 'r2', their long forms, 'binary_accuracy', ...) are passed through, so
'accuracy' is binary accuracy for one output and categorical for several, as in Keras, and
it **warns** (``TrainingWarning``) on a regression target, where it means nothing. Any
Keras loss name ('mape', 'msle', 'binary_crossentropy', ...) is also a metric: the mean
of that loss. A function is called Keras's way, ``fn(y_true, y_pred)``. The classes carry
Keras's default names, which become the ``History`` keys
(``RootMeanSquaredError()`` -> ``'root_mean_squared_error'``).

>>> import numpy as np
>>> [m if isinstance(m, str) else m.name for m in resolve(["accuracy", "mape"])]
['accuracy', 'mape']
>>> m = resolve([RootMeanSquaredError()])[0]
>>> m.name, m(np.array([1.0, 3.0]), np.array([1.0, 1.0]))
('root_mean_squared_error', 1.4142135623730951)
>>> resolve(["precision_at_k"])  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: unknown metric 'precision_at_k'; known: acc, accuracy, ...
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from ..train import metrics as _m
from . import losses


class _KerasOrder:
    """Keras's metric API on a ``tinygrad_edu.train`` metric: ``update_state(y_true,
    y_pred)`` (Keras's argument order; ``fit`` calls ``update(pred, target)``),
    ``result()``, ``reset_state()``, and calling the metric, which adds the batch to its
    state and returns the result so far, as in Keras."""

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if sample_weight is not None:
            raise NotImplementedError(
                f"{type(self).__name__}: sample_weight is not supported by tinygrad_edu.keras "
                "metrics (compile's metrics are unweighted, as in Keras); leave it out")
        self.update(y_pred, y_true)

    def reset_state(self) -> None:
        self.reset()

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()


class MeanSquaredError(_KerasOrder, _m.MeanSquaredError):
    name = "mean_squared_error"


class RootMeanSquaredError(_KerasOrder, _m.RootMeanSquaredError):
    name = "root_mean_squared_error"


class MeanAbsoluteError(_KerasOrder, _m.MeanAbsoluteError):
    name = "mean_absolute_error"


class R2Score(_KerasOrder, _m.R2Score):
    name = "r2_score"


class BinaryAccuracy(_KerasOrder, _m.BinaryAccuracy):
    """Fraction of ``(y_pred > threshold) == y_true`` for 0/1 targets.

    >>> BinaryAccuracy()(np.array([1.0, 0.0]), np.array([0.9, 0.2]))   # (y_true, y_pred)
    1.0
    """


class CategoricalAccuracy(_KerasOrder, _m.CategoricalAccuracy):
    """Fraction of samples whose argmax class is the one-hot target's."""


class SparseCategoricalAccuracy(_KerasOrder, _m.SparseCategoricalAccuracy):
    """Fraction of samples whose argmax class is the integer label.

    >>> m = SparseCategoricalAccuracy()
    >>> m.update_state([1, 0], [[0.1, 0.9], [0.3, 0.7]]); m.result()
    0.5
    """


class Variable:
    """A metric's state, made by ``Metric.add_variable`` / ``add_weight``: a numpy array
    with Keras's ``assign``, ``assign_add``, ``assign_sub`` and ``numpy()``; it converts to
    an array or a float and takes part in arithmetic as its value."""

    def __init__(self, value: np.ndarray, name: str | None = None) -> None:
        self.name = name
        self.initial = np.array(value, copy=True)
        self.value = np.array(value, copy=True)

    def assign(self, value: Any) -> None:
        self.value[...] = _np(value)

    def assign_add(self, value: Any) -> None:
        self.value[...] = self.value + _np(value)

    def assign_sub(self, value: Any) -> None:
        self.value[...] = self.value - _np(value)

    def numpy(self) -> np.ndarray:
        return self.value.copy()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.value if dtype is None else self.value.astype(dtype)

    def __float__(self) -> float:
        return float(self.value)

    def __add__(self, other: Any) -> np.ndarray:
        return self.value + _np(other)

    def __sub__(self, other: Any) -> np.ndarray:
        return self.value - _np(other)

    def __rsub__(self, other: Any) -> np.ndarray:
        return _np(other) - self.value

    def __mul__(self, other: Any) -> np.ndarray:
        return self.value * _np(other)

    def __truediv__(self, other: Any) -> np.ndarray:
        return self.value / _np(other)

    def __rtruediv__(self, other: Any) -> np.ndarray:
        return _np(other) / self.value

    __radd__ = __add__
    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"<Variable {self.name!r} {self.value!r}>"


def _np(value: Any) -> np.ndarray:
    if isinstance(value, Variable):
        return value.value
    return value.data if isinstance(value, Tensor) else np.asarray(value)


class Metric(_m.Metric):
    """Keras's base class for a metric of your own: create state with
    ``self.add_variable(shape=(), initializer="zeros", name=...)`` (Keras 2:
    ``add_weight``) in ``__init__``, define ``update_state(self, y_true, y_pred,
    sample_weight=None)`` (it receives numpy arrays: use numpy or ``keras.ops``),
    ``result(self)`` and, if the variables do not simply go back to their initial values,
    ``reset_state(self)``. ``compile(metrics=[MyMetric()])`` reports it every epoch.

    >>> class Hits(Metric):
    ...     def __init__(self, name="hits"):
    ...         super().__init__(name=name)
    ...         self.hits = self.add_variable(shape=(), initializer="zeros", name="hits")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         self.hits.assign_add(np.sum(y_pred.argmax(axis=-1) == y_true))
    ...     def result(self):
    ...         return self.hits
    >>> m = Hits(); m.update_state(np.array([1, 0]), np.array([[0.2, 0.8], [0.1, 0.9]]))
    >>> float(m.result()), m.reset_state(), float(m.result())
    (1.0, None, 0.0)
    """

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        self._variables: list[Variable] = []
        self.dtype = np.dtype(dtype or "float32")
        super().__init__(name or getattr(type(self), "name", None))

    def add_variable(self, shape: Any = (), initializer: Any = "zeros", dtype: Any = None,
                     aggregation: str = "sum", name: str | None = None) -> Variable:
        """A new state variable (its initial value comes back on ``reset_state``)."""
        from .initializers import get as initializer_get

        shape = tuple(shape)
        value = initializer_get(initializer)(shape, dtype=np.dtype(dtype or self.dtype))
        var = Variable(np.asarray(value), name)
        self._variables.append(var)
        return var

    def add_weight(self, name: str | None = None, shape: Any = (),
                   initializer: Any = "zeros", dtype: Any = None) -> Variable:
        """Keras 2's spelling of :meth:`add_variable`."""
        return self.add_variable(shape, initializer, dtype, name=name)

    @property
    def variables(self) -> list[Variable]:
        return list(self._variables)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define update_state(self, "
                                  "y_true, y_pred, sample_weight=None)")

    def reset_state(self) -> None:
        for var in self._variables:
            var.assign(var.initial)

    def update(self, pred: Any, target: Any) -> None:
        self.update_state(_np(target), _np(pred))

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        """``update_state`` with this batch, then ``result()`` (Keras's call)."""
        self.update_state(_np(y_true), _np(y_pred), sample_weight)
        return self.result()


class _Reported(_m.Metric):
    """A Keras-style ``Metric`` as ``fit`` reports it: its ``result()`` as a float."""

    def __init__(self, metric: Metric) -> None:
        self.metric = metric
        super().__init__(metric.name)

    def reset(self) -> None:
        if "metric" in self.__dict__:
            self.metric.reset_state()

    def update(self, pred: Any, target: Any) -> None:
        self.metric.update(pred, target)

    def result(self) -> float:
        value = self.metric.result()
        arr = _np(value)
        if arr.size != 1:
            raise ValueError(f"metric {self.metric.name!r}: result() must return one number, "
                             f"got shape {arr.shape}")
        return float(arr.reshape(()))


def _keras_order(fn: Callable[..., Any], name: str) -> _m.Metric:
    """A metric that calls ``fn(y_true, y_pred)`` and averages the result over samples."""

    def metric(pred: Any, target: Any) -> float:
        value = fn(target, pred)
        arr = value.data if isinstance(value, Tensor) else np.asarray(value)
        return float(np.mean(arr))

    return _m.MeanMetricWrapper(metric, name=name)


def _known() -> list[str]:
    return sorted(set(_m._REGISTRY) | set(losses._FUNCTIONS) | set(_BY_NAME))


_BY_NAME = {"precision": "Precision", "recall": "Recall", "auc": "AUC"}


def resolve(metrics: Any, weighted_metrics: Any = None) -> list[str | _m.Metric]:
    """The metric list ``tinygrad_edu.train.fit`` takes for Keras's ``metrics=`` and
    ``weighted_metrics=``: fresh objects for names that need wrapping, metric objects as
    given; a weighted metric whose name an unweighted one already has is reported as
    ``weighted_<name>``, as in Keras."""
    out = _resolve(metrics)
    taken = set(names(out))
    for spec in _as_list(weighted_metrics):
        name = _spec_name(spec)
        weighted = Weighted(spec, f"weighted_{name}" if name in taken else name)
        taken.add(weighted.name)
        out.append(weighted)
    return out


def _as_list(metrics: Any) -> list[Any]:
    if metrics is None:
        return []
    if isinstance(metrics, dict):
        raise TypeError("metrics as a dict (one list per output) are for multi-output "
                        "models; pass a list")
    return list(metrics) if isinstance(metrics, list | tuple) else [metrics]


def _spec_name(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    return getattr(spec, "name", None) or getattr(spec, "__name__", "metric")


def _resolve(metrics: Any) -> list[str | _m.Metric]:
    if metrics is None:
        return []
    if isinstance(metrics, dict):
        raise TypeError("metrics as a dict (one list per output) are for multi-output "
                        "models, which tinygrad_edu.keras does not support; pass a list")
    if isinstance(metrics, str | _m.Metric) or callable(metrics):
        metrics = [metrics]
    out: list[str | _m.Metric] = []
    for m in metrics:
        if isinstance(m, Metric):
            out.append(_Reported(m))
        elif isinstance(m, _m.Metric):
            out.append(m)
        elif isinstance(m, str):
            key = m.lower().replace(" ", "_")
            if key in _BY_NAME:
                out.append(_Reported(globals()[_BY_NAME[key]](name=m)))
            elif key in _m._REGISTRY:
                out.append(m)
            elif key in losses._FUNCTIONS:
                out.append(_keras_order(losses._FUNCTIONS[key], m))
            else:
                raise ValueError(f"unknown metric {m!r}; known: {', '.join(_known())}")
        elif isinstance(m, type) and issubclass(m, _m.Metric):
            made = m()
            out.append(_Reported(made) if isinstance(made, Metric) else made)
        elif callable(m):
            out.append(_keras_order(m, getattr(m, "name", None)
                                    or getattr(m, "__name__", "metric")))
        else:
            raise TypeError(f"a metric is a name, a Metric or a function fn(y_true, y_pred), "
                            f"got {type(m).__name__}")
    return out


class _KerasAPI:
    """A compiled metric with Keras's metric API, for ``model.metrics`` (a ``train_step``
    of your own updates them): ``update_state(y_true, y_pred, sample_weight=None)``,
    ``result()``, ``reset_state()``, ``name``."""

    def __init__(self, metric: _m.Metric) -> None:
        self.metric = metric

    @property
    def name(self) -> str:
        return self.metric.name

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if getattr(self.metric, "takes_sample_weight", False):
            self.metric.update(y_pred, y_true, sample_weight)
        else:
            self.metric.update(y_pred, y_true)

    def result(self) -> float:
        return self.metric.result()

    def reset_state(self) -> None:
        self.metric.reset()

    def __repr__(self) -> str:
        return f"<compiled metric {self.name!r}>"


def as_keras_metric(resolved: str | _m.Metric) -> Any:
    """A resolved metric (see :func:`resolve`) with Keras's metric API."""
    if isinstance(resolved, _Reported):
        return resolved.metric
    return _KerasAPI(_m.get(resolved) if isinstance(resolved, str) else resolved)


def names(metrics: Sequence[str | _m.Metric]) -> list[str]:
    """The log names of resolved metrics, in order."""
    return [m if isinstance(m, str) else m.name for m in metrics]


from ._weighted_metrics import AUC, Mean, Precision, Recall, Weighted  # noqa: E402

__all__ = ["AUC", "BinaryAccuracy", "CategoricalAccuracy", "Mean", "MeanAbsoluteError",
           "MeanSquaredError", "Metric", "Precision", "R2Score", "Recall",
           "RootMeanSquaredError", "SparseCategoricalAccuracy", "Variable", "Weighted", "names",
           "resolve"]


def __getattr__(name: str) -> Any:
    from .backend import missing_name

    raise missing_name("keras.metrics", name, __all__)
