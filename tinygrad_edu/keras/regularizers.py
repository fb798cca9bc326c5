"""Keras's weight regularizers: ``L1``, ``L2``, ``L1L2`` (and ``l1``, ``l2``, ``l1_l2``).

A regularizer maps a weight to a penalty added to the training loss:
``L1(l1)(w) = l1 * sum(|w|)``, ``L2(l2)(w) = l2 * sum(w**2)`` (no factor 1/2),
``L1L2(l1, l2)`` both. Pass one to a layer (``Dense(..., kernel_regularizer=l2(0.01))``,
also ``bias_regularizer``, ``Conv2D``'s, BatchNormalization's ``gamma_regularizer`` /
``beta_regularizer``); ``fit`` then minimises ``loss + sum(model.losses)`` and, as Keras,
reports that sum as ``loss`` (and ``val_loss``, ``evaluate``). The penalty is a Tensor
of the engine, so its gradient (``2 * l2 * w``, ``l1 * sign(w)``) is the engine's.

Keras 3's defaults: ``L1(l1=0.01)``, ``L2(l2=0.01)``, ``L1L2(l1=0.0, l2=0.0)``
(``l1_l2`` is ``L1L2``; Keras 2's ``l1_l2()`` defaulted to 0.01 each: pass the values).

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> w = tg.tensor(np.array([[1.0, -2.0], [0.5, 0.0]]))
>>> float(L2(0.1)(w).item()), float(l1(0.5)(w).item()), float(l1_l2(l1=1.0, l2=1.0)(w).item())
(0.525, 1.75, 8.75)
>>> get("l2").get_config()
{'l2': 0.01}
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from ..tensor import Tensor


def _factor(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(float(value)) or value < 0:
        raise ValueError(f"Value for argument {what} must be a non-negative finite number, "
                         f"got {value!r}")
    return float(value)


class Regularizer:
    """Base class: ``__call__(weight) -> scalar Tensor`` penalty, ``get_config()``."""

    def __call__(self, x: Tensor) -> Tensor:  # pragma: no cover - overridden
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``; Keras 3's defaults ``l1=0.0, l2=0.0``.

    >>> import tinygrad_edu as tg
    >>> float(L1L2(l2=0.5)(tg.tensor([2.0])).item())
    2.0
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _factor(l1, "l1")
        self.l2 = _factor(l2, "l2")

    def __call__(self, x: Tensor) -> Tensor:
        terms = []
        if self.l1:
            terms.append(x.abs().sum() * self.l1)
        if self.l2:
            terms.append((x * x).sum() * self.l2)
        if not terms:
            return (x * 0.0).sum()
        return terms[0] if len(terms) == 1 else terms[0] + terms[1]

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|x|)`` (default ``l1=0.01``); its gradient is ``l1 * sign(x)``."""

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(x**2)`` (default ``l2=0.01``); its gradient is ``2 * l2 * x``."""

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


l1 = L1
l2 = L2
l1_l2 = L1L2

_CLASSES: dict[str, type[Regularizer]] = {"L1": L1, "L2": L2, "L1L2": L1L2}
_NAMES: dict[str, type[Regularizer]] = {"l1": L1, "l2": L2, "l1_l2": L1L2}


class _Function(Regularizer):
    """A plain function ``fn(weight) -> penalty`` used as a regularizer."""

    def __init__(self, fn: Callable[[Tensor], Tensor]) -> None:
        self.fn = fn

    def __call__(self, x: Tensor) -> Tensor:
        return self.fn(x)


def get(identifier: Any) -> Regularizer | None:
    """A regularizer from ``None``, a name (``'l1'``, ``'l2'``, ``'l1_l2'``: default
    factors), a config dict ``{'class_name': 'L2', 'config': {'l2': 0.1}}``, an instance
    or a function ``fn(weight) -> penalty``.

    >>> get(None), get("l1"), get({"class_name": "L2", "config": {"l2": 0.1}})
    (None, L1(l1=0.01), L2(l2=0.1))
    >>> get("l3")
    Traceback (most recent call last):
    ...
    ValueError: unknown regularizer 'l3'; known: 'l1', 'l2', 'l1_l2', or keras.regularizers.L1(...), L2(...), L1L2(...)
    """  # noqa: E501
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    known = ("known: 'l1', 'l2', 'l1_l2', or keras.regularizers.L1(...), L2(...), "
             "L1L2(...)")
    if isinstance(identifier, str):
        cls = _NAMES.get(identifier.lower())
        if cls is None:
            raise ValueError(f"unknown regularizer {identifier!r}; {known}")
        return cls()
    if isinstance(identifier, dict):
        cls = _CLASSES.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"unknown regularizer config {identifier!r}; {known}")
        return cls.from_config(dict(identifier.get("config") or {}))
    if callable(identifier):
        return _Function(identifier)
    raise TypeError(f"a regularizer is a name, a keras.regularizers object or a function, "
                    f"got {type(identifier).__name__}")


def serialize(regularizer: Regularizer, layer: str) -> dict[str, Any]:
    """The config of a built-in regularizer; a function's name (``{'custom': name}``, to
    hand back with ``load_model(..., custom_objects=...)``) otherwise."""
    if type(regularizer) in _CLASSES.values():
        return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}
    fn = getattr(regularizer, "fn", regularizer)
    return {"custom": getattr(fn, "__name__", type(fn).__name__), "layer": layer}


__all__ = ["L1", "L1L2", "L2", "Regularizer", "get", "l1", "l1_l2", "l2", "serialize"]
