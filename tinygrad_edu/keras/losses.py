"""Keras's losses: functions ``loss(y_true, y_pred)`` (Keras's argument order) that return
one value per sample, the loss classes, and ``get``.

Probabilities are clipped to ``[1e-7, 1 - 1e-7]`` before a logarithm, as Keras does, so a
saturated sigmoid or softmax output gives a large finite loss rather than inf.
``compile(loss=...)`` accepts a name, a loss object or a function ``fn(y_true, y_pred)``;
:func:`as_training_loss` turns it into the scalar ``loss(pred, target)`` that
``tinygrad_edu.train.fit`` minimises (the mean over samples).

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> y_true, y_pred = np.array([[0.0], [1.0]]), tg.tensor([[0.5], [3.0]])
>>> mean_squared_error(y_true, y_pred).tolist()
[0.25, 4.0]
>>> as_training_loss("mse")(y_pred, y_true).item()
2.125
>>> get("mean_square_error")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: unknown loss 'mean_square_error'; known: binary_crossentropy, ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..nn import functional as F
from ..tensor import Tensor
from .backend import class_from_config

EPSILON = 1e-7  # Keras's backend.epsilon()


def _pair(y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor]:
    pred = y_pred if isinstance(y_pred, Tensor) else Tensor(np.asarray(y_pred, np.float32))
    true = y_true.data if isinstance(y_true, Tensor) else np.asarray(y_true)
    if true.dtype.kind in "biuf" and true.dtype != pred.dtype:
        true = true.astype(pred.dtype)
    if true.shape != pred.shape and true.size == pred.data.size:
        true = true.reshape(pred.shape)  # (n,) against (n, 1), as Keras squeezes/expands
    return Tensor._wrap(true), pred


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean((y_pred - y_true)**2)`` over the last axis."""
    t, p = _pair(y_true, y_pred)
    return ((p - t) ** 2).mean(axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(|y_pred - y_true|)`` over the last axis."""
    t, p = _pair(y_true, y_pred)
    return (p - t).abs().mean(axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    """``100 * mean(|(y_true - y_pred) / y_true|)``, ``|y_true|`` floored at 1e-7."""
    t, p = _pair(y_true, y_pred)
    return 100.0 * ((t - p) / t.abs().clamp(EPSILON, None)).abs().mean(axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean((log(1 + y_pred) - log(1 + y_true))**2)``, both clipped at 1e-7."""
    t, p = _pair(y_true, y_pred)
    return ((p.clamp(EPSILON, None) + 1).log() - (t.clamp(EPSILON, None) + 1).log()) \
        .pow(2).mean(axis=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    """Quadratic below ``delta``, linear above (Keras's ``huber``)."""
    t, p = _pair(y_true, y_pred)
    return F.huber_loss(p, t, reduction="none", delta=delta).mean(axis=-1)


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False) -> Tensor:
    """``-(y log p + (1 - y) log(1 - p))`` averaged over the last axis; ``p`` clipped to
    ``[1e-7, 1 - 1e-7]`` (or the sigmoid of logits, computed stably)."""
    t, p = _pair(y_true, y_pred)
    if from_logits:
        return F.binary_cross_entropy_with_logits(p, t, reduction="none").mean(axis=-1)
    p = p.clamp(EPSILON, 1.0 - EPSILON)
    return -(t * p.log() + (1.0 - t) * (1.0 - p).log()).mean(axis=-1)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False) -> Tensor:
    """``-sum(y log p)`` over the classes (last axis) for one-hot ``y``; probabilities are
    renormalised to sum to 1 and clipped, as Keras does."""
    t, p = _pair(y_true, y_pred)
    if from_logits:
        return -(t * p.log_softmax(-1)).sum(axis=-1)
    p = (p / p.sum(axis=-1, keepdims=True)).clamp(EPSILON, 1.0 - EPSILON)
    return -(t * p.log()).sum(axis=-1)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any,
                                    from_logits: bool = False) -> Tensor:
    """``-log p[label]`` for integer class labels ``y_true`` of shape ``(n,)`` or ``(n, 1)``."""
    p = y_pred if isinstance(y_pred, Tensor) else Tensor(np.asarray(y_pred, np.float32))
    raw = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
    if raw.size != int(np.prod(p.shape[:-1])):
        raise ValueError(f"sparse_categorical_crossentropy: one integer label per sample is "
                         f"needed for predictions of shape {p.shape}, got labels of shape "
                         f"{raw.shape} (one-hot labels go with categorical_crossentropy)")
    if raw.dtype.kind == "f" and not (np.mod(raw, 1) == 0).all():
        raise ValueError("sparse_categorical_crossentropy: labels must be whole class "
                         f"indices, got non-integer values such as {raw.reshape(-1)[0]}")
    labels = raw.reshape(p.shape[:-1]).astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= p.shape[-1]):
        raise ValueError(f"sparse_categorical_crossentropy: labels must be in [0, "
                         f"{p.shape[-1]}) for {p.shape[-1]} classes, got {labels.min()} .. "
                         f"{labels.max()}")
    if from_logits:
        logp = p.log_softmax(-1)
    else:
        logp = (p / p.sum(axis=-1, keepdims=True)).clamp(EPSILON, 1.0 - EPSILON).log()
    flat = logp.reshape(-1, p.shape[-1])
    picked = flat[np.arange(flat.shape[0]), labels.reshape(-1)]
    return -picked.reshape(labels.shape)


def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    """``sum(y_true * log(y_true / y_pred))`` over the last axis, both clipped to
    ``[1e-7, 1]``."""
    t, p = _pair(y_true, y_pred)
    t, p = t.clamp(EPSILON, 1.0), p.clamp(EPSILON, 1.0)
    return (t * (t / p).log()).sum(axis=-1)


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(y_pred - y_true * log(y_pred + 1e-7))`` over the last axis."""
    t, p = _pair(y_true, y_pred)
    return (p - t * (p + EPSILON).log()).mean(axis=-1)


def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(log(cosh(y_pred - y_true)))``, computed as ``x + softplus(-2x) - log 2``."""
    t, p = _pair(y_true, y_pred)
    d = p - t
    return (d + (d * -2.0).softplus() - float(np.log(2.0))).mean(axis=-1)


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(max(1 - y_true * y_pred, 0))``; 0/1 labels are turned into -1/1 as Keras
    does."""
    t, p = _pair(y_true, y_pred)
    t = _signed_labels(t)
    return (1.0 - t * p).relu().mean(axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(max(1 - y_true * y_pred, 0)**2)`` (0/1 labels turned into -1/1)."""
    t, p = _pair(y_true, y_pred)
    t = _signed_labels(t)
    return ((1.0 - t * p).relu() ** 2).mean(axis=-1)


def _signed_labels(t: Tensor) -> Tensor:
    arr = t.data
    if arr.size and np.isin(arr, (0.0, 1.0)).all():
        return Tensor._wrap(arr * 2.0 - 1.0)
    return t


_FUNCTIONS: dict[str, Callable[..., Tensor]] = {
    "mean_squared_error": mean_squared_error,
    "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
    "mae": mean_absolute_error,
    "mean_absolute_percentage_error": mean_absolute_percentage_error,
    "mape": mean_absolute_percentage_error,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error,
    "msle": mean_squared_logarithmic_error,
    "huber": huber,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "kl_divergence": kl_divergence,
    "kld": kl_divergence,
    "poisson": poisson,
    "log_cosh": log_cosh,
    "logcosh": log_cosh,
    "hinge": hinge,
    "squared_hinge": squared_hinge,
}

# Keras's short names in compile(); aliases
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
logcosh = log_cosh


DEFAULT_REDUCTION = "sum_over_batch_size"
_REDUCTIONS = ("sum_over_batch_size", "auto", "sum", "none", None)


class Loss:
    """A loss object: ``loss(y_true, y_pred, sample_weight=None)`` applies its
    ``reduction`` to the per-sample losses (each multiplied by its weight):
    ``'sum_over_batch_size'`` (the default: ``sum(loss * w) / n``), ``'sum'``, or
    ``'none'`` / ``None`` (one value per sample). Subclass it and define
    ``call(y_true, y_pred)`` returning one loss per sample for a loss of your own."""

    fn: Callable[..., Tensor] = staticmethod(mean_squared_error)

    def __init__(self, name: str | None = None, reduction: str | None = DEFAULT_REDUCTION,
                 **kwargs: Any) -> None:
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of "
                             f"{list(_REDUCTIONS)}, got {reduction!r}")
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction
        self.kwargs = kwargs

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        """Per-sample losses."""
        return type(self).fn(y_true, y_pred, **self.kwargs)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        """The per-sample losses, each multiplied by its ``sample_weight`` when given,
        reduced as ``reduction`` says."""
        values = self.call(y_true, y_pred)
        if self.reduction in ("sum_over_batch_size", "auto"):
            return reduce_weighted(values, sample_weight)
        weighted = reduce_weighted(values, sample_weight, reduce=False)
        return weighted.sum() if self.reduction == "sum" else weighted

    def get_config(self) -> dict[str, Any]:
        config = {"name": self.name, **self.kwargs}
        if self.reduction != DEFAULT_REDUCTION:
            config["reduction"] = self.reduction
        return config

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.kwargs.items())})"


def _snake(name: str) -> str:
    from .backend import snake_case

    return snake_case(name)


class MeanSquaredError(Loss):
    """``mean((y_pred - y_true)**2)``."""

    fn = staticmethod(mean_squared_error)


class MeanAbsoluteError(Loss):
    """``mean(|y_pred - y_true|)``."""

    fn = staticmethod(mean_absolute_error)


class MeanAbsolutePercentageError(Loss):
    """``100 * mean(|(y_true - y_pred) / y_true|)``."""

    fn = staticmethod(mean_absolute_percentage_error)


class MeanSquaredLogarithmicError(Loss):
    """``mean((log(1 + y_pred) - log(1 + y_true))**2)``."""

    fn = staticmethod(mean_squared_logarithmic_error)


class KLDivergence(Loss):
    """``sum(y_true * log(y_true / y_pred))``."""

    fn = staticmethod(kl_divergence)


class Poisson(Loss):
    """``mean(y_pred - y_true * log(y_pred))``."""

    fn = staticmethod(poisson)


class LogCosh(Loss):
    """``mean(log(cosh(y_pred - y_true)))``."""

    fn = staticmethod(log_cosh)


class Hinge(Loss):
    """``mean(max(1 - y_true * y_pred, 0))``."""

    fn = staticmethod(hinge)


class SquaredHinge(Loss):
    """``mean(max(1 - y_true * y_pred, 0)**2)``."""

    fn = staticmethod(squared_hinge)


class Huber(Loss):
    """Huber loss with ``delta`` (default 1)."""

    fn = staticmethod(huber)

    def __init__(self, delta: float = 1.0, name: str | None = None,
                 reduction: str | None = DEFAULT_REDUCTION) -> None:
        super().__init__(name, reduction, delta=float(delta))


class BinaryCrossentropy(Loss):
    """Binary cross-entropy on probabilities (or logits with ``from_logits=True``)."""

    fn = staticmethod(binary_crossentropy)

    def __init__(self, from_logits: bool = False, name: str | None = None,
                 reduction: str | None = DEFAULT_REDUCTION) -> None:
        super().__init__(name, reduction, from_logits=bool(from_logits))


class CategoricalCrossentropy(Loss):
    """Cross-entropy for one-hot targets (probabilities, or logits with ``from_logits``)."""

    fn = staticmethod(categorical_crossentropy)

    def __init__(self, from_logits: bool = False, name: str | None = None,
                 reduction: str | None = DEFAULT_REDUCTION) -> None:
        super().__init__(name, reduction, from_logits=bool(from_logits))


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy for integer class labels."""

    fn = staticmethod(sparse_categorical_crossentropy)

    def __init__(self, from_logits: bool = False, name: str | None = None,
                 reduction: str | None = DEFAULT_REDUCTION) -> None:
        super().__init__(name, reduction, from_logits=bool(from_logits))


_CLASSES = {c.__name__: c for c in (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, Huber, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, KLDivergence, Poisson, LogCosh, Hinge, SquaredHinge)}


def _mean(v: Any) -> Tensor:
    if not isinstance(v, Tensor):
        v = Tensor(np.asarray(v, dtype=np.float32))
    return v.mean() if v.ndim else v


def reduce_weighted(values: Any, sample_weight: Any = None, reduce: bool = True) -> Tensor:
    """Keras's default reduction (``sum_over_batch_size``): the mean of the per-sample
    losses, each first multiplied by its sample's weight: ``sum(loss_i * w_i) / n``, so
    weights of 2 double a sample's pull and the loss is not renormalised by ``sum(w)``
    (``reduce=False``: the weighted per-sample losses).

    >>> import tinygrad_edu as tg
    >>> reduce_weighted(tg.tensor([1.0, 3.0]), [1.0, 0.0]).item()
    0.5
    """
    if not isinstance(values, Tensor):
        values = Tensor(np.asarray(values, dtype=np.float32))
    if sample_weight is None:
        return _mean(values) if reduce else values
    w = np.asarray(sample_weight.data if isinstance(sample_weight, Tensor) else sample_weight,
                   dtype=values.dtype)
    if values.ndim == 0:
        raise ValueError("sample weights need one loss per sample, but the loss returned one "
                         "number for the whole batch; reduce only over the last axis (e.g. "
                         "return ((y_pred - y_true) ** 2).mean(axis=-1)) so each sample's "
                         "loss can be weighted")
    if w.shape[:1] != values.shape[:1] or w.size != values.shape[0]:
        raise ValueError(f"sample_weight of shape {w.shape} does not give one weight per "
                         f"sample for per-sample losses of shape {values.shape}")
    weighted = values * w.reshape(values.shape[0], *([1] * (values.ndim - 1)))
    return weighted.sum() / float(values.data.size) if reduce else weighted


def get(identifier: Any) -> Callable[..., Any]:
    """A loss from a name, a config dict, a ``Loss`` or a function ``fn(y_true, y_pred)``."""
    if isinstance(identifier, str):
        fn = _FUNCTIONS.get(identifier.lower())
        if fn is None and identifier in _CLASSES:
            return _CLASSES[identifier]()
        if fn is None:
            raise ValueError(f"unknown loss {identifier!r}; known: "
                             f"{', '.join(sorted(_FUNCTIONS))}")
        return fn
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict):
        cls = class_from_config(identifier, _CLASSES, "loss")
        return cls(**identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(f"a loss is a name, a Loss object or a function fn(y_true, y_pred), got "
                    f"{type(identifier).__name__}")


def serialize(identifier: Any) -> Any:
    """A JSON-able form of a loss (its name or class config), or ``None`` for a function.

    >>> serialize("mse"), serialize(BinaryCrossentropy(from_logits=True))
    ('mse', {'class_name': 'BinaryCrossentropy', 'config': {'name': 'binary_crossentropy', 'from_logits': True}})
    """  # noqa: E501
    if isinstance(identifier, str):
        return identifier
    if isinstance(identifier, Loss) and type(identifier).__name__ in _CLASSES:
        return {"class_name": type(identifier).__name__, "config": identifier.get_config()}
    return None


_CROSSENTROPIES = ("sparse_categorical_crossentropy", "categorical_crossentropy",
                   "binary_crossentropy")


def logits_mismatch(identifier: Any, last_activation: str | None) -> str | None:
    """Why a cross-entropy loss does not fit the model's output, or ``None``: probabilities
    (a softmax / sigmoid last layer) given to a loss with ``from_logits=True`` (Keras warns
    too), or raw scores (no activation) given to one expecting probabilities, which it
    clips to [1e-7, 1 - 1e-7] and trains on nonsense (Keras says nothing).

    >>> print(logits_mismatch("sparse_categorical_crossentropy", "linear"))  # doctest: +ELLIPSIS
    the loss 'sparse_categorical_crossentropy' expects probabilities (from_logits=False)...
    >>> logits_mismatch(SparseCategoricalCrossentropy(from_logits=True), "linear") is None
    True
    """
    if isinstance(identifier, str) and identifier.lower() in _CROSSENTROPIES:
        name, from_logits = identifier.lower(), False
    elif isinstance(identifier, BinaryCrossentropy | CategoricalCrossentropy
                    | SparseCategoricalCrossentropy):
        name, from_logits = identifier.name, identifier.kwargs["from_logits"]
    else:
        return None
    if from_logits and last_activation in ("softmax", "sigmoid"):
        return (f"the loss {name!r} has from_logits=True, but the last layer applies "
                f"{last_activation}: its outputs are probabilities, not logits, and the loss "
                f"applies {last_activation} to them again. Use from_logits=False, or drop the "
                "last layer's activation")
    if not from_logits and last_activation == "linear":
        return (f"the loss {name!r} expects probabilities (from_logits=False), but the last "
                "layer has no activation: its outputs are raw scores (logits), which the loss "
                "clips to [1e-7, 1 - 1e-7], so it trains on nonsense. Pass from_logits=True "
                "(e.g. keras.losses.SparseCategoricalCrossentropy(from_logits=True)), or give "
                "the last layer activation='softmax' ('sigmoid' for binary_crossentropy)")
    return None


def as_training_loss(identifier: Any) -> Callable[[Tensor, Any], Tensor]:
    """``loss(pred, target) -> scalar`` for ``tinygrad_edu.train.fit``: Keras's loss (called
    as ``fn(y_true, y_pred)``) averaged over the samples. A ``tinygrad_edu.nn`` loss module
    (``nn.MSELoss()``, PyTorch's argument order ``(input, target)``) is used as it is."""
    from ..nn import Module

    if isinstance(identifier, Module):
        return identifier
    fn = get(identifier)

    def training_loss(pred: Tensor, target: Any, sample_weight: Any = None) -> Tensor:
        if isinstance(fn, Loss):  # its own reduction
            return fn(target, pred, sample_weight=sample_weight)
        return reduce_weighted(fn(target, pred), sample_weight)

    training_loss.__name__ = getattr(fn, "name", getattr(fn, "__name__", "loss"))
    return training_loss


def __getattr__(name: str) -> Any:
    from .backend import missing_name

    raise missing_name("keras.losses", name, [*_CLASSES, *_FUNCTIONS, "Loss"])
