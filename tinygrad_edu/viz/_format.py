"""Short text for graph labels: shapes, scalars, and summaries of arrays.

A label must stay a few lines long whatever the tensor's size: small arrays are printed in
full, large ones as their statistics (over the finite entries, with NaN/inf counted apart).

>>> import numpy as np
>>> summarize(np.array([1.0, 2.0]), "data")
['data [1., 2.]']
>>> summarize(np.arange(100.0), "grad")
['grad mean 49.5 std 28.87', '     min 0 max 99']
>>> summarize(np.array([1e-7, -2e-7]), "grad")      # tiny but not zero: not printed as 0.
['grad [ 1.e-07, -2.e-07]']
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Arrays with at most this many entries are printed in full.
SMALL = 6


def shape_text(shape: tuple) -> str:
    """``(3, 4)``, ``(4,)`` or ``()``, as Python prints a tuple."""
    return str(tuple(int(s) for s in shape))


def scalar_text(value: Any) -> str:
    """A plain number (or other constant an op took) in a few characters."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    return text if len(text) <= 16 else text[:15] + "…"


def nonfinite(arr: Any) -> bool:
    """True if a floating-point array holds a NaN or an inf."""
    a = arr if type(arr) is np.ndarray else np.asarray(arr)
    kind = a.dtype.kind
    if kind == "f" and a.size == 1:  # the common scalar case, 10x faster than np.isfinite
        return not math.isfinite(a.item())
    if kind in "fc":
        return not bool(np.isfinite(a).all())
    return False


def is_all_zero(arr: Any) -> bool:
    a = np.asarray(arr)
    return a.dtype.kind in "biufc" and not bool(np.any(a))


def _suppress(a: np.ndarray) -> bool:
    """Print entries far below the largest as 0 (``[0.5, 0.]``, not ``[5.e-01, 1.e-09]``),
    unless every entry is small: then fixed point would turn a vanishing gradient of 1e-7
    into a ``0.`` that looks dead, so numpy's scientific notation is kept (``[1.e-07]``)."""
    if a.dtype.kind not in "fc":
        return True
    finite = np.abs(a[np.isfinite(a)])
    return finite.size == 0 or float(finite.max()) >= 1e-3


def summarize(arr: Any, prefix: str) -> list[str]:
    """Lines describing ``arr``: in full when small, else mean/std/min/max and NaN/inf counts."""
    a = np.asarray(arr)
    if a.dtype.kind not in "biufc":
        return [f"{prefix} <{a.dtype}>"]
    pad = " " * len(prefix)
    if a.size <= SMALL:
        text = np.array2string(a, precision=4, separator=", ", suppress_small=_suppress(a))
        lines = text.split("\n")
        return [f"{prefix} {lines[0]}"] + [f"{pad} {line}" for line in lines[1:]]
    if a.dtype.kind == "b":
        a = a.astype(np.int64)
    if a.dtype.kind == "c":
        a = np.abs(a)
    finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a.ravel()
    lines = []
    if finite.size:
        lines.append(f"{prefix} mean {finite.mean():.4g} std {finite.std():.4g}")
        lines.append(f"{pad} min {finite.min():.4g} max {finite.max():.4g}")
    else:
        lines.append(f"{prefix} no finite entries")
    if a.dtype.kind == "f":
        n_nan = int(np.isnan(a).sum())
        n_inf = int(np.isinf(a).sum())
        if n_nan or n_inf:
            lines.append(f"{pad} nan×{n_nan} inf×{n_inf} of {a.size}")
    return lines
