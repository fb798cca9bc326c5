"""Small helpers shared by the layer modules: dtype and device arguments, int pairs."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes


def float_dtype(dtype: Any) -> np.dtype:
    """The dtype for new parameters: ``dtype`` or the default float dtype."""
    dt = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"layer parameters must have a floating dtype, got {dt}")
    return dt


def check_device(device: Any) -> None:
    """Accept PyTorch's ``device=`` argument when it names the CPU (all there is here)."""
    if device is not None and not str(device).startswith("cpu"):
        raise ValueError(f"tinygrad_edu runs on the CPU only; got device={device!r}")


def pair(v: Any, name: str) -> tuple[int, int]:
    """An int or a pair of ints as a pair (PyTorch's ``_pair``)."""
    if isinstance(v, int | np.integer):
        return int(v), int(v)
    v = tuple(int(i) for i in v)
    if len(v) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {v}")
    return v  # type: ignore[return-value]
