"""Dimension arguments, checked in one place: every op that takes ``dim``/``axis`` calls
:func:`normalize_dim` or :func:`normalize_dims`, so a bad dim is always the same clear error.

PyTorch's rules: dims count from 0, or from -1 for the last; a 0-d tensor accepts dim 0 and -1
(a reduction over it changes nothing); a dim listed twice is an error.

>>> normalize_dim(-1, 3, "softmax")
2
>>> normalize_dims((0, -1), 3, "sum")
(0, 2)
>>> try:  # doctest: +NORMALIZE_WHITESPACE
...     normalize_dim(5, 2, "transpose", (2, 3))
... except IndexError as e:
...     print(e)
transpose: Dimension out of range (expected to be in range of [-2, 1], but got 5) for a tensor of
shape (2, 3); dims count from 0, or from -1 for the last
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class DimensionError(np.exceptions.AxisError):
    """A dim out of range: an ``IndexError`` as in PyTorch (and numpy's ``AxisError``, so numpy
    code that catches that keeps working)."""


def _as_int(dim: Any, op: str) -> int:
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
        raise TypeError(f"{op}: a dim must be an int, got {type(dim).__name__} ({dim!r})")
    return int(dim)


def normalize_dim(dim: Any, ndim: int, op: str, shape: Sequence[int] | None = None) -> int:
    """``dim`` as an index in ``range(ndim)`` (0 for a 0-d tensor), or a :class:`DimensionError`
    naming ``op``. ``ndim`` is the number of dims the op counts (``ndim + 1`` for unsqueeze)."""
    d = _as_int(dim, op)
    n = max(ndim, 1)
    if not -n <= d < n:
        where = f" for a tensor of shape {tuple(shape)}" if shape is not None else ""
        raise DimensionError(
            f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got "
            f"{d}){where}; dims count from 0, or from -1 for the last"
        )
    return d % n


def normalize_dims(
    dims: Any, ndim: int, op: str, shape: Sequence[int] | None = None
) -> int | tuple[int, ...] | None:
    """``None`` (all dims) as is; an int or a sequence of ints normalised by
    :func:`normalize_dim` (an int stays an int). On a 0-d tensor the valid dims give ``()``:
    a reduction over no axes."""
    if dims is None:
        return None
    single = not isinstance(dims, Sequence | np.ndarray)
    out = tuple(normalize_dim(d, ndim, op, shape) for d in ((dims,) if single else dims))
    if ndim == 0:
        return ()
    if len(set(out)) != len(out):
        twice = next(d for d in out if out.count(d) > 1)
        raise RuntimeError(f"{op}: dim {twice} appears multiple times in the list of dims")
    return out[0] if single else out


class EmptyReductionError(RuntimeError, IndexError, ValueError):
    """A max/min/argmax over nothing. PyTorch raises ``RuntimeError`` (no dim given) or
    ``IndexError`` (a dim of size 0), numpy ``ValueError``: this is all three."""


def check_reduced_sizes(shape: Sequence[int], dims: Any, op: str) -> None:
    """Fail if ``op`` (a reduction with no identity: max, min, argmax...) would reduce over no
    elements; ``dims`` as :func:`normalize_dims` returns them.

    >>> check_reduced_sizes((0, 3), 1, "amax")  # each of the 0 rows has 3 elements
    >>> check_reduced_sizes((0, 3), 0, "amax")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tinygrad_edu.dims.EmptyReductionError: amax(): Expected reduction dim 0 to have non-zero size...
    """
    if 0 not in tuple(shape):
        return
    if dims is None:
        raise EmptyReductionError(
            f"{op}(): Expected reduction dim to be specified for input.numel() == 0: the tensor "
            f"of shape {tuple(shape)} has no elements, and the {op} of nothing is undefined. "
            "Reduce over a dim of non-zero size with dim=..., or check why the tensor is empty."
        )
    for d in (dims,) if isinstance(dims, int) else dims:
        if shape[d] == 0:
            raise EmptyReductionError(
                f"{op}(): Expected reduction dim {d} to have non-zero size (the tensor has shape "
                f"{tuple(shape)}): the {op} of nothing is undefined. Reduce over a dim of "
                "non-zero size, or check why the tensor is empty."
            )
