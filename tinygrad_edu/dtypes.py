"""dtype names and the default floating dtype (float32, as in PyTorch)."""

from __future__ import annotations

from typing import Any

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = int_ = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

_default_dtype = [float32]

# PyTorch's legacy tensor type names (``x.type()``, ``torch.FloatTensor(...)``), by dtype name
LEGACY_TYPE_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
    "uint8": "ByteTensor", "bool": "BoolTensor", "complex64": "ComplexFloatTensor",
    "complex128": "ComplexDoubleTensor",
}


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype that Python floats (and ``Tensor(list)``, ``rand``, ``zeros``...) get.

    >>> import tinygrad_edu as tg
    >>> tg.set_default_dtype(tg.float64)
    >>> tg.tensor([1.0]).dtype
    dtype('float64')
    >>> tg.set_default_dtype(tg.float32)
    """
    d = np.dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"the default dtype must be a floating dtype (float32/float64), got {d}")
    _default_dtype[0] = d


def get_default_dtype() -> np.dtype:
    """The current default floating dtype (float32 unless changed)."""
    return _default_dtype[0]


def infer_array(data: Any, dtype: Any = None, ints_as_float: bool = False) -> np.ndarray:
    """Turn Python data into an array with PyTorch's dtype rules.

    Python floats become the default dtype; Python ints become int64 (or the default float
    when ``ints_as_float``, as ``Tensor(...)`` does); bools stay bool. numpy arrays keep their
    dtype. An explicit ``dtype`` wins.
    """
    if isinstance(data, np.ndarray):
        arr = data
    else:
        try:
            arr = np.asarray(data)
        except ValueError as e:
            raise ValueError(
                f"cannot make a tensor from this {type(data).__name__}: nested lists must have "
                f"equal length at every level ({e})"
            ) from None
        if arr.dtype == object:
            raise TypeError(
                f"cannot make a tensor from {type(data).__name__} data: expected numbers, nested "
                "lists of equal length, numpy arrays or tensors"
            )
        if dtype is None and not isinstance(data, np.generic):
            kind = arr.dtype.kind
            if kind == "f" or (ints_as_float and kind in "iub"):
                arr = arr.astype(_default_dtype[0])
            elif kind in "iu":
                arr = arr.astype(np.int64, copy=False)
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    return arr
