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


class MeanSquaredError(_m.MeanSquaredError):
    name = "mean_squared_error"


class RootMeanSquaredError(_m.RootMeanSquaredError):
    name = "root_mean_squared_error"


class MeanAbsoluteError(_m.MeanAbsoluteError):
    name = "mean_absolute_error"


class R2Score(_m.R2Score):
    name = "r2_score"


BinaryAccuracy = _m.BinaryAccuracy
CategoricalAccuracy = _m.CategoricalAccuracy
SparseCategoricalAccuracy = _m.SparseCategoricalAccuracy
Metric = _m.Metric


def _keras_order(fn: Callable[..., Any], name: str) -> _m.Metric:
    """A metric that calls ``fn(y_true, y_pred)`` and averages the result over samples."""

    def metric(pred: Any, target: Any) -> float:
        value = fn(target, pred)
        arr = value.data if isinstance(value, Tensor) else np.asarray(value)
        return float(np.mean(arr))

    return _m.MeanMetricWrapper(metric, name=name)


def _known() -> list[str]:
    return sorted(set(_m._REGISTRY) | set(losses._FUNCTIONS))


def resolve(metrics: Any) -> list[str | _m.Metric]:
    """The metric list ``tinygrad_edu.train.fit`` takes for Keras's ``metrics=``: fresh
    objects for names that need wrapping, metric objects as given."""
    if metrics is None:
        return []
    if isinstance(metrics, dict):
        raise TypeError("metrics as a dict (one list per output) are for multi-output "
                        "models, which tinygrad_edu.keras does not support; pass a list")
    if isinstance(metrics, str | _m.Metric) or callable(metrics):
        metrics = [metrics]
    out: list[str | _m.Metric] = []
    for m in metrics:
        if isinstance(m, _m.Metric):
            out.append(m)
        elif isinstance(m, str):
            key = m.lower().replace(" ", "_")
            if key in _m._REGISTRY:
                out.append(m)
            elif key in losses._FUNCTIONS:
                out.append(_keras_order(losses._FUNCTIONS[key], m))
            else:
                raise ValueError(f"unknown metric {m!r}; known: {', '.join(_known())}")
        elif isinstance(m, type) and issubclass(m, _m.Metric):
            out.append(m())
        elif callable(m):
            out.append(_keras_order(m, getattr(m, "name", None)
                                    or getattr(m, "__name__", "metric")))
        else:
            raise TypeError(f"a metric is a name, a Metric or a function fn(y_true, y_pred), "
                            f"got {type(m).__name__}")
    return out


def names(metrics: Sequence[str | _m.Metric]) -> list[str]:
    """The log names of resolved metrics, in order."""
    return [m if isinstance(m, str) else m.name for m in metrics]


__all__ = ["BinaryAccuracy", "CategoricalAccuracy", "MeanAbsoluteError", "MeanSquaredError",
           "Metric", "R2Score", "RootMeanSquaredError", "SparseCategoricalAccuracy", "names",
           "resolve"]
