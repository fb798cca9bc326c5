"""Keras's merge layers, which take a list of inputs: ``Concatenate``, ``Add``,
``Subtract``, ``Multiply``, ``Average``, ``Maximum``, ``Minimum`` and their functional
forms (``layers.concatenate([a, b])``, ``layers.add([x, shortcut])``, ...); and
``TensorOp``, the layer an arithmetic operator on KerasTensors records.

>>> import numpy as np
>>> a, b = np.array([[1.0, 2.0]]), np.array([[10.0, 20.0]])
>>> Concatenate()([a, b]).tolist(), Add()([a, b]).tolist(), Average()([a, b]).tolist()
([[1.0, 2.0, 10.0, 20.0]], [[11.0, 22.0]], [[5.5, 11.0]])
"""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce
from typing import Any

import numpy as np

from ..tensor import Tensor
from .functional import is_symbolic, symbolic_call
from .layers import Layer, _as_tensor


class _Merge(Layer):
    """A layer of a list of at least two inputs."""

    def __call__(self, inputs: Any, training: bool | None = None, **kwargs: Any) -> Any:
        if not isinstance(inputs, list | tuple) or len(inputs) < 2:
            raise ValueError(f"A merge layer ({type(self).__name__} {self.name!r}) should be "
                             "called on a list of at least 2 inputs, got "
                             f"{type(inputs).__name__}")
        return super().__call__(list(inputs), training=training, **kwargs)

    def forward(self, inputs: list[Tensor]) -> Tensor:
        return self.merge(inputs)

    def merge(self, inputs: list[Tensor]) -> Tensor:
        raise NotImplementedError


def _elementwise(name: str, fn: Callable[[list[Tensor]], Tensor], doc: str) -> type:
    """A merge layer applying ``fn`` to same-shaped inputs."""

    def merge(self: _Merge, inputs: list[Tensor]) -> Tensor:
        shapes = {tuple(t.shape[1:]) for t in inputs}
        if len(shapes) != 1:
            raise ValueError(f"{name} layer {self.name!r}: inputs must have the same shape, "
                             f"got {[tuple(t.shape) for t in inputs]}")
        return fn(inputs)

    return type(name, (_Merge,), {"merge": merge, "__doc__": doc, "__module__": __name__})


Add = _elementwise("Add", lambda ts: reduce(lambda a, b: a + b, ts), "Sum of the inputs.")
Subtract = _elementwise("Subtract", lambda ts: ts[0] - ts[1] if len(ts) == 2 else _two(),
                        "The first input minus the second (exactly two inputs).")
Multiply = _elementwise("Multiply", lambda ts: reduce(lambda a, b: a * b, ts),
                        "Product of the inputs.")
Average = _elementwise("Average", lambda ts: reduce(lambda a, b: a + b, ts) / len(ts),
                       "Mean of the inputs.")
Maximum = _elementwise("Maximum", lambda ts: reduce(lambda a, b: a.maximum(b), ts),
                       "Elementwise maximum of the inputs.")
Minimum = _elementwise("Minimum", lambda ts: reduce(lambda a, b: a.minimum(b), ts),
                       "Elementwise minimum of the inputs.")


def _two() -> Tensor:
    raise ValueError("A Subtract layer should be called on exactly 2 inputs")


class Concatenate(_Merge):
    """Joins the inputs along ``axis`` (default the last)."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = int(axis)

    def merge(self, inputs: list[Tensor]) -> Tensor:
        from .. import functional

        ndim = inputs[0].ndim
        axis = self.axis % ndim
        others = [tuple(s for i, s in enumerate(t.shape) if i != axis) for t in inputs]
        if len(set(others)) != 1 or any(t.ndim != ndim for t in inputs):
            raise ValueError(f"Concatenate layer {self.name!r} requires inputs with matching "
                             f"shapes except for the concatenation axis {self.axis}. Received: "
                             f"input_shape={[tuple(t.shape) for t in inputs]}")
        return functional.cat(inputs, axis)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


def _functional(cls: type) -> Callable[..., Any]:
    def apply(inputs: list[Any], **kwargs: Any) -> Any:
        return cls(**kwargs)(inputs)

    apply.__name__ = cls.__name__.lower()
    apply.__doc__ = f"``{cls.__name__}(**kwargs)(inputs)``."
    return apply


add, subtract, multiply, average, maximum, minimum, concatenate = (
    _functional(c) for c in (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate))


class TensorOp(Layer):
    """An arithmetic operator applied to KerasTensors (``x + y``, ``2 * x``), recorded in the
    graph as a layer without weights."""

    def __init__(self, op: str, fn: Callable[..., Tensor], **kwargs: Any) -> None:
        super().__init__(name=kwargs.pop("name", None) or _op_name(op), **kwargs)
        self.fn = fn

    def __call__(self, inputs: Any, training: bool | None = None, **kwargs: Any) -> Any:
        if is_symbolic(inputs):
            return symbolic_call(self, inputs, kwargs)
        args = [_as_tensor(t, self.dtype) if isinstance(t, np.ndarray) else t for t in inputs]
        return self.fn(*args)


def _op_name(op: str) -> str:
    from .backend import unique_name

    return unique_name(op.capitalize())
