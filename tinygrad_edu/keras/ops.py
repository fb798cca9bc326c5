"""``keras.ops``: the numpy-like functions Keras 3 code writes custom losses, metrics and
layers with (``ops.mean(ops.square(y_true - y_pred), axis=-1)``).

They are numpy's functions: on a ``Tensor`` they record gradients (tinygrad_edu's numpy
dispatch), on arrays they are plain numpy; so a custom loss written with them trains, and a
custom metric written with them runs on the numpy arrays a metric receives. A name Keras
has and this module lacks raises ``AttributeError`` naming the numpy function to use.

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> y_true = np.array([[0.0, 1.0]]); y_pred = tg.tensor([[0.5, 0.5]], requires_grad=True)
>>> loss = mean(square(y_true - y_pred), axis=-1)
>>> loss.tolist(), loss.requires_grad
([0.25], True)
>>> one_hot(np.array([2, 0]), 3).tolist()
[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from . import activations
from .utils import to_categorical

_NUMPY = (
    "abs", "absolute", "add", "all", "any", "arange", "argmax", "argmin", "argsort", "clip",
    "concatenate", "cos", "cumsum", "divide", "dot", "equal", "exp", "expand_dims", "eye",
    "floor", "full", "greater", "greater_equal", "less", "less_equal", "linspace", "log",
    "log1p", "logical_and", "logical_not", "logical_or", "matmul", "max", "maximum", "mean",
    "min", "minimum", "multiply", "negative", "not_equal", "ones", "ones_like", "power",
    "prod", "reshape", "round", "sign", "sin", "sqrt", "square", "squeeze", "stack",
    "subtract", "sum", "tanh", "transpose", "var", "std", "where", "zeros", "zeros_like",
)
for _name in _NUMPY:
    globals()[_name] = getattr(np, _name)


def _array(x: Any) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def cast(x: Any, dtype: Any) -> Any:
    """``x`` as ``dtype`` (a Tensor stays a Tensor; a float cast keeps its gradient)."""
    if isinstance(x, Tensor):
        return x.astype(np.dtype(dtype))
    return np.asarray(x).astype(np.dtype(dtype))


def convert_to_tensor(x: Any, dtype: Any = None) -> Tensor:
    """A ``Tensor`` of ``x`` (floats as float32 unless ``dtype`` says otherwise)."""
    arr = _array(x)
    if dtype is not None:
        arr = arr.astype(np.dtype(dtype))
    elif arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    return Tensor(arr)


def convert_to_numpy(x: Any) -> np.ndarray:
    """``x`` as a numpy array (a Tensor's values, without its gradient)."""
    return np.array(_array(x), copy=True)


def shape(x: Any) -> tuple[int, ...]:
    """The shape of ``x`` as a tuple."""
    return tuple(_array(x).shape)


def one_hot(x: Any, num_classes: int) -> np.ndarray:
    """One-hot rows (float32) for integer labels."""
    return to_categorical(_array(x), num_classes)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """Softmax along ``axis``."""
    return activations.softmax(_tensor(x), axis=axis)


def relu(x: Any) -> Tensor:
    """``max(x, 0)``."""
    return activations.relu(_tensor(x))


def sigmoid(x: Any) -> Tensor:
    """``1 / (1 + exp(-x))``."""
    return activations.sigmoid(_tensor(x))


def _tensor(x: Any) -> Tensor:
    """``x`` as a Tensor (a Tensor as it is)."""
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    hint = (f"; numpy's np.{name} works on tinygrad_edu tensors (with gradients where "
            "defined)" if hasattr(np, name) else "")
    raise AttributeError(f"keras.ops.{name} is not in tinygrad_edu.keras.ops{hint}")


__all__ = [*_NUMPY, "cast", "convert_to_numpy", "convert_to_tensor", "one_hot", "relu",
           "shape", "sigmoid", "softmax"]
