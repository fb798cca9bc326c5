"""numpy functions as differentiable Tensor compositions, with numpy's signatures and meaning.

:mod:`tinygrad_edu.numpy_interop` maps numpy's functions to these when they are called on
Tensors. Each is built from primitives (a few new ones: ``Einsum``, ``Cumsum``, the trig
family), so first and second derivatives come for free, and each keeps numpy's conventions:
``axis=None`` flattens, ``keepdims``, negative axes, lists of arrays accepted.

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> prod(x, axis=1)
tensor([ 2., 12.], grad_fn=<GetItemBackward>)
>>> np.einsum("ij,ij->", x, x).backward()
>>> x.grad
tensor([[2., 4.],
        [6., 8.]])
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import functional as F
from .dims import normalize_dim
from .ops import einsum as _einsum
from .ops import movement as _mv
from .ops import pointwise as _pw
from .ops import scan as _scan
from .ops.reduce import RootOfSquares
from .tensor import Rounding, Tensor, _operand


def as_tensor(x: Any) -> Tensor:
    """``x`` as a Tensor, with numpy's dtype inference for plain data (no copy of arrays)."""
    return x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x))


def _axis_index(axis: int, ndim: int, fn: str) -> int:
    """numpy's axis check, made by the library's one dim check (its error is an AxisError)."""
    return normalize_dim(axis, ndim, fn)


def _axes(axis: Any, ndim: int, fn: str) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int | np.integer):
        axis = (int(axis),)
    return tuple(_axis_index(int(a), ndim, fn) for a in axis)


def _size(t: Tensor, axes: Sequence[int]) -> int:
    """How many elements ``axes`` of ``t`` hold together (a reshape's -1 cannot say it when
    another axis has size 0)."""
    return int(np.prod([t.shape[i] for i in axes]))


def _no_out(fn: str, out: Any) -> None:
    if out is not None:
        raise TypeError(f"np.{fn}(..., out=...) cannot record a gradient; assign the result")


def moveaxis(a: Any, source: Any, destination: Any) -> Tensor:
    t = as_tensor(a)
    src = _axes(source, t.ndim, "moveaxis")
    dst = _axes(destination, t.ndim, "moveaxis")
    if len(src) != len(dst):
        raise ValueError("moveaxis: `source` and `destination` need the same number of elements")
    order = [n for n in range(t.ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return t.permute(order) if order != list(range(t.ndim)) else t


def rollaxis(a: Any, axis: int, start: int = 0) -> Tensor:
    t = as_tensor(a)
    n = t.ndim
    axis = _axis_index(axis, n, "rollaxis")
    start = start + n if start < 0 else start
    if not 0 <= start <= n:
        raise np.exceptions.AxisError(f"rollaxis: start {start} is out of bounds for {n} dims")
    if axis < start:
        start -= 1
    if axis == start:
        return t
    order = [i for i in range(n) if i != axis]
    order.insert(start, axis)
    return t.permute(order)


def _to_last(t: Tensor, axis: int | None) -> tuple[Tensor, int]:
    """Flatten (axis None) or move ``axis`` last; returns the tensor and the axis used."""
    if axis is None:
        return t.reshape(-1), 0
    axis = _axis_index(axis, t.ndim, "reduction")
    return moveaxis(t, axis, -1), axis


def _product_last(x: Tensor) -> Tensor:
    """The product over the last axis by halving (exact gradients, also with zeros)."""
    n = x.shape[-1]
    if n == 0:
        return Tensor._wrap(np.ones(x.shape[:-1], dtype=x.dtype)) + x.sum(-1)
    while n > 1:
        h = n // 2
        y = x[..., :h] * x[..., h : 2 * h]
        x = F.cat([y, x[..., 2 * h :]], axis=-1) if n % 2 else y
        n = x.shape[-1]
    return x[..., 0]


def prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
         **kw: Any) -> Tensor:
    _no_out("prod", out)
    _no_extras("prod", kw)
    t = as_tensor(a)
    if dtype is not None:
        t = t.astype(dtype)
    axes = _axes(axis, t.ndim, "prod")
    rest = [i for i in range(t.ndim) if i not in axes]
    moved = t.permute(rest + list(axes)) if axes else t
    flat = moved.reshape(*[t.shape[i] for i in rest], _size(t, axes)) if axes else (
        moved.reshape(*t.shape, 1))
    result = _product_last(flat)
    if keepdims:
        result = result.reshape([1 if i in axes else s for i, s in enumerate(t.shape)])
    return result


def cumsum(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Tensor:
    _no_out("cumsum", out)
    t = as_tensor(a)
    if dtype is not None:
        t = t.astype(dtype)
    if axis is not None:
        axis = _axis_index(axis, t.ndim, "cumsum")
    return _scan.Cumsum.apply(t, axis=axis)


def cumprod(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Tensor:
    """Inclusive product scan in log-many steps (exact gradients, also with zeros)."""
    _no_out("cumprod", out)
    t = as_tensor(a)
    if dtype is not None:
        t = t.astype(dtype)
    x, ax = _to_last(t, axis)
    n = x.shape[-1]
    shift = 1
    while shift < n:
        ones = Tensor._wrap(np.ones((*x.shape[:-1], shift), dtype=x.dtype))
        x = x * F.cat([ones, x[..., : n - shift]], axis=-1)
        shift *= 2
    return x if axis is None else moveaxis(x, -1, ax)


def _no_extras(fn: str, kw: dict) -> None:
    bad = [k for k, v in kw.items()
           if not (v is np._NoValue or v is None or (k == "where" and v is True))]
    if bad:
        raise TypeError(f"np.{fn}: {', '.join(bad)}= is not supported on tensors")


def einsum(subscripts: Any, *operands: Any, out: Any = None, optimize: Any = False,
           **kw: Any) -> Tensor:
    _no_out("einsum", out)
    if not isinstance(subscripts, str):
        raise TypeError("np.einsum on tensors needs the subscripts as a string ('ij,jk->ik')")
    return _einsum.Einsum.apply(*[as_tensor(o) for o in operands], subscripts=subscripts)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def tensordot(a: Any, b: Any, axes: Any = 2) -> Tensor:
    a, b = as_tensor(a), as_tensor(b)
    if isinstance(axes, int | np.integer):
        axes_a = list(range(a.ndim - int(axes), a.ndim))
        axes_b = list(range(int(axes)))
    else:
        axes_a, axes_b = axes
        axes_a = [axes_a] if isinstance(axes_a, int | np.integer) else list(axes_a)
        axes_b = [axes_b] if isinstance(axes_b, int | np.integer) else list(axes_b)
    axes_a = [_axis_index(i, a.ndim, "tensordot") for i in axes_a]
    axes_b = [_axis_index(i, b.ndim, "tensordot") for i in axes_b]
    if len(axes_a) != len(axes_b) or any(a.shape[i] != b.shape[j]
                                         for i, j in zip(axes_a, axes_b)):
        raise ValueError(f"tensordot: shape-mismatch for sum ({a.shape} axes {axes_a}, "
                         f"{b.shape} axes {axes_b})")
    letters = iter(_LETTERS)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(axes_a, axes_b):
        sb[j] = sa[i]
    out = [c for i, c in enumerate(sa) if i not in axes_a]
    out += [c for j, c in enumerate(sb) if j not in axes_b]
    return einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", a, b)


def dot(a: Any, b: Any, out: Any = None) -> Tensor:
    """numpy's ``dot``: products for scalars, a sum over the last axis of ``a`` and the
    second-to-last of ``b`` (the only one for 1-D) otherwise."""
    _no_out("dot", out)
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim <= 2 and b.ndim <= 2:
        return a @ b
    return tensordot(a, b, axes=([-1], [0 if b.ndim == 1 else -2]))


def vdot(a: Any, b: Any) -> Tensor:
    return as_tensor(a).reshape(-1) @ as_tensor(b).reshape(-1)


def inner(a: Any, b: Any) -> Tensor:
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, axes=([-1], [-1]))


def outer(a: Any, b: Any, out: Any = None) -> Tensor:
    _no_out("outer", out)
    return as_tensor(a).reshape(-1, 1) * as_tensor(b).reshape(1, -1)


def kron(a: Any, b: Any) -> Tensor:
    a, b = as_tensor(a), as_tensor(b)
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + a.shape
    sb = (1,) * (nd - b.ndim) + b.shape
    inter_a = [d for s in sa for d in (s, 1)]
    inter_b = [d for s in sb for d in (1, s)]
    prod_ = a.reshape(inter_a) * b.reshape(inter_b)
    return prod_.reshape([x * y for x, y in zip(sa, sb)])


def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Tensor:
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(as_tensor(a), axisa, -1)
    b = moveaxis(as_tensor(b), axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError("cross: incompatible dimensions for cross product "
                         "(dimension must be 2 or 3)")
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    if a.shape[-1] == 2 and b.shape[-1] == 2:
        return a0 * b1 - a1 * b0
    a2 = a[..., 2] if a.shape[-1] == 3 else None
    b2 = b[..., 2] if b.shape[-1] == 3 else None
    if a2 is None:
        c = [a1 * b2, -(a0 * b2), a0 * b1 - a1 * b0]
    elif b2 is None:
        c = [-(a2 * b1), a2 * b0, a0 * b1 - a1 * b0]
    else:
        c = [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0]
    shape = np.broadcast_shapes(*(x.shape for x in c))
    result = F.stack([x.broadcast_to(shape) for x in c], axis=-1)
    return moveaxis(result, -1, axisc)


def take(a: Any, indices: Any, axis: int | None = None, out: Any = None,
         mode: str = "raise") -> Tensor:
    _no_out("take", out)
    if mode != "raise":
        raise TypeError("np.take with mode= other than 'raise' is not supported on tensors")
    t = as_tensor(a)
    idx = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if axis is None:
        return t.reshape(-1)[idx]
    axis = _axis_index(axis, t.ndim, "take")
    return t[(slice(None),) * axis + (idx,)]


def take_along_axis(arr: Any, indices: Any, axis: int | None = -1) -> Tensor:
    t = as_tensor(arr)
    idx = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if axis is None:
        t, axis = t.reshape(-1), 0
    axis = _axis_index(axis, t.ndim, "take_along_axis")
    if idx.ndim != t.ndim:
        raise ValueError("take_along_axis: `indices` and `arr` must have the same number of "
                         "dimensions")
    index = []
    for d in range(t.ndim):
        if d == axis:
            index.append(idx)
        else:
            shape = [1] * t.ndim
            shape[d] = t.shape[d]
            index.append(np.arange(t.shape[d]).reshape(shape))
    return t[tuple(index)]


def sort(a: Any, axis: int | None = -1, kind: Any = None, order: Any = None,
         **kw: Any) -> Tensor:
    t = as_tensor(a)
    if axis is None:
        t, axis = t.reshape(-1), 0
    idx = np.argsort(t.data, axis=axis, kind="stable")
    return take_along_axis(t, idx, axis)


def partition(a: Any, kth: Any, axis: int | None = -1, kind: str = "introselect",
              order: Any = None) -> Tensor:
    t = as_tensor(a)
    if axis is None:
        t, axis = t.reshape(-1), 0
    return take_along_axis(t, np.argpartition(t.data, kth, axis=axis), axis)


def median(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
           keepdims: bool = False) -> Tensor:
    _no_out("median", out)
    t = as_tensor(a)
    axes = _axes(axis, t.ndim, "median")
    rest = [i for i in range(t.ndim) if i not in axes]
    flat = t.permute(rest + list(axes)).reshape(*[t.shape[i] for i in rest], _size(t, axes))
    s = sort(flat, axis=-1)
    n = s.shape[-1]
    if n == 0:  # numpy: the median of nothing is nan
        mid = s.sum(-1) * np.nan
    else:
        mid = s[..., n // 2] if n % 2 else (s[..., n // 2 - 1] + s[..., n // 2]) / 2
    if keepdims:
        mid = mid.reshape([1 if i in axes else d for i, d in enumerate(t.shape)])
    return mid


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    t = as_tensor(a)
    if t.ndim < 2:
        raise ValueError("diagonal: the array must be at least 2-d")
    t = moveaxis(t, (axis1, axis2), (-2, -1))
    rows, cols = t.shape[-2], t.shape[-1]
    start_r, start_c = (0, offset) if offset >= 0 else (-offset, 0)
    n = max(0, min(rows - start_r, cols - start_c))
    r = np.arange(start_r, start_r + n)
    c = np.arange(start_c, start_c + n)
    return t[..., r, c]


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
          out: Any = None) -> Tensor:
    _no_out("trace", out)
    d = diagonal(a, offset, axis1, axis2)
    return (d if dtype is None else d.astype(dtype)).sum(-1)


def diag(v: Any, k: int = 0) -> Tensor:
    t = as_tensor(v)
    if t.ndim == 2:
        return diagonal(t, k)
    if t.ndim != 1:
        raise ValueError("diag: input must be 1- or 2-d")
    n = t.shape[0] + abs(k)
    i = np.arange(t.shape[0])
    rows, cols = (i, i + k) if k >= 0 else (i - k, i)
    return _mv.ScatterAdd.apply(t, shape=(n, n), index=(rows, cols))


def _triangle(m: Any, k: int, lower: bool) -> Tensor:
    t = as_tensor(m)
    shape = t.shape[-2:] if t.ndim >= 2 else (t.shape[0], t.shape[0])
    mask = (np.tril if lower else np.triu)(np.ones(shape, dtype=bool), k)
    if t.ndim < 2:
        t = t.broadcast_to(shape)
    return F.where(mask, t, Tensor._wrap(np.zeros((), dtype=t.dtype)))


def tril(m: Any, k: int = 0) -> Tensor:
    return _triangle(m, k, lower=True)


def triu(m: Any, k: int = 0) -> Tensor:
    return _triangle(m, k, lower=False)


def tile(A: Any, reps: Any) -> Tensor:
    t = as_tensor(A)
    reps = (int(reps),) if isinstance(reps, int | np.integer) else tuple(int(r) for r in reps)
    nd = max(t.ndim, len(reps))
    t = t.reshape((1,) * (nd - t.ndim) + t.shape)
    reps = (1,) * (nd - len(reps)) + reps
    index = np.ix_(*[np.tile(np.arange(s), r) for s, r in zip(t.shape, reps)])
    return t[index] if nd else t


def repeat(a: Any, repeats: Any, axis: int | None = None) -> Tensor:
    t = as_tensor(a)
    if axis is None:
        t, axis = t.reshape(-1), 0
    axis = _axis_index(axis, t.ndim, "repeat")
    idx = np.repeat(np.arange(t.shape[axis]), np.asarray(repeats))
    return t[(slice(None),) * axis + (idx,)]


def flip(m: Any, axis: Any = None) -> Tensor:
    t = as_tensor(m)
    axes = _axes(axis, t.ndim, "flip")
    if not axes:
        return t
    index = tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(t.ndim))
    return t[index]


def fliplr(m: Any) -> Tensor:
    if as_tensor(m).ndim < 2:
        raise ValueError("fliplr: the array must be at least 2-d")
    return flip(m, 1)


def flipud(m: Any) -> Tensor:
    if as_tensor(m).ndim < 1:
        raise ValueError("flipud: the array must be at least 1-d")
    return flip(m, 0)


def roll(a: Any, shift: Any, axis: Any = None) -> Tensor:
    t = as_tensor(a)
    if axis is None:
        return roll(t.reshape(-1), shift, 0).reshape(t.shape)
    shifts = np.broadcast_to(np.atleast_1d(shift), np.broadcast_shapes(
        np.shape(np.atleast_1d(shift)), np.shape(np.atleast_1d(axis))))
    axes = np.broadcast_to(np.atleast_1d(axis), shifts.shape)
    total: dict[int, int] = {}
    for s, ax in zip(shifts.tolist(), axes.tolist()):
        ax = _axis_index(ax, t.ndim, "roll")
        total[ax] = total.get(ax, 0) + s
    for ax, s in total.items():
        n = t.shape[ax]
        if n:
            idx = (np.arange(n) - s) % n
            t = t[(slice(None),) * ax + (idx,)]
    return t


def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = np._NoValue,
         append: Any = np._NoValue) -> Tensor:
    t = as_tensor(a)
    axis = _axis_index(axis, t.ndim, "diff")
    parts = []
    for extra in (prepend,):
        if extra is not np._NoValue:
            parts.append(_edge(extra, t, axis))
    parts.append(t)
    if append is not np._NoValue:
        parts.append(_edge(append, t, axis))
    if len(parts) > 1:
        t = F.cat(parts, axis=axis)
    lead = (slice(None),) * axis
    for _ in range(n):
        t = t[(*lead, slice(1, None))] - t[(*lead, slice(None, -1))]
    return t


def _edge(value: Any, t: Tensor, axis: int) -> Tensor:
    v = as_tensor(value)
    if v.ndim == 0:
        shape = list(t.shape)
        shape[axis] = 1
        v = v.broadcast_to(tuple(shape))
    return v


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Tensor:
    if len(condlist) != len(choicelist):
        raise ValueError("select: list of cases must be same length as list of conditions")
    result = as_tensor(default)
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        c = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
        result = F.where(c.astype(bool), as_tensor(choice), result)
    return result


def atleast_nd(n: int, arys: tuple) -> Any:
    out = []
    for a in arys:
        t = as_tensor(a)
        if t.ndim < n:
            if n == 3 and t.ndim == 1:
                t = t.reshape(1, -1, 1)
            elif n == 3 and t.ndim == 2:
                t = t.reshape(*t.shape, 1)
            else:
                t = t.reshape((1,) * (n - t.ndim) + t.shape)
        out.append(t)
    return out[0] if len(out) == 1 else tuple(out)


def column_stack(tup: Sequence[Any]) -> Tensor:
    cols = []
    for a in tup:
        t = as_tensor(a)
        cols.append(t.reshape(-1, 1) if t.ndim < 2 else t)
    return F.cat(cols, axis=1)


def dstack(tup: Sequence[Any]) -> Tensor:
    return F.cat([atleast_nd(3, (a,)) for a in tup], axis=2)


def vstack(tup: Sequence[Any], **kw: Any) -> Tensor:
    return F.cat([atleast_nd(2, (a,)) for a in tup], axis=0)


def hstack(tup: Sequence[Any], **kw: Any) -> Tensor:
    ts = [atleast_nd(1, (a,)) for a in tup]
    return F.cat(ts, axis=0 if ts[0].ndim == 1 else 1)


def concatenate(arrays: Sequence[Any], axis: int | None = 0, out: Any = None,
                **kw: Any) -> Tensor:
    _no_out("concatenate", out)
    ts = [as_tensor(a) for a in arrays]
    if axis is None:
        return F.cat([t.reshape(-1) for t in ts], axis=0)
    return F.cat(ts, axis=axis)


def stack(arrays: Sequence[Any], axis: int = 0, out: Any = None, **kw: Any) -> Tensor:
    _no_out("stack", out)
    return F.stack([as_tensor(a) for a in arrays], axis=axis)


def append(arr: Any, values: Any, axis: int | None = None) -> Tensor:
    return concatenate([arr, values], axis=axis)


def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    t = as_tensor(ary)
    axis = _axis_index(axis, t.ndim, "array_split")
    n = t.shape[axis]
    if isinstance(indices_or_sections, int | np.integer):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("array_split: number sections must be larger than 0.")
        each, extra = divmod(n, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        bounds = [0, *itertools.accumulate(sizes)]
    else:
        bounds = [0, *[int(i) for i in indices_or_sections], n]
    lead = (slice(None),) * axis
    return [t[(*lead, slice(lo, max(lo, hi)))] for lo, hi in itertools.pairwise(bounds)]


def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    t = as_tensor(ary)
    if isinstance(indices_or_sections, int | np.integer):
        n = t.shape[_axis_index(axis, t.ndim, "split")]
        if n % int(indices_or_sections):
            raise ValueError("array split does not result in an equal division")
    return array_split(t, indices_or_sections, axis)


def hsplit(ary: Any, indices_or_sections: Any) -> list[Tensor]:
    t = as_tensor(ary)
    if t.ndim == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return split(t, indices_or_sections, 1 if t.ndim > 1 else 0)


def vsplit(ary: Any, indices_or_sections: Any) -> list[Tensor]:
    if as_tensor(ary).ndim < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, 0)


def dsplit(ary: Any, indices_or_sections: Any) -> list[Tensor]:
    if as_tensor(ary).ndim < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, 2)


def _gradient_1d(f: Tensor, axis: int, spacing: Any, edge_order: int) -> Tensor:
    n = f.shape[axis]
    if n < edge_order + 1:
        raise ValueError("gradient: shape of array too small to calculate a numerical gradient, "
                         "at least (edge_order + 1) elements are required.")
    lead = (slice(None),) * axis

    def at(s: Any) -> Tensor:
        return f[(*lead, s)]

    bshape = [1] * f.ndim
    bshape[axis] = -1
    coords = np.asarray(spacing.data if isinstance(spacing, Tensor) else spacing, dtype=float)
    if coords.ndim == 0:  # uniform spacing h
        h = float(coords)
        inner = (at(slice(2, None)) - at(slice(None, -2))) / (2 * h)
        if edge_order == 1:
            first = (at(slice(1, 2)) - at(slice(0, 1))) / h
            last = (at(slice(-1, None)) - at(slice(-2, -1))) / h
        else:
            first = (-1.5 * at(slice(0, 1)) + 2 * at(slice(1, 2)) - 0.5 * at(slice(2, 3))) / h
            last = (0.5 * at(slice(-3, -2)) - 2 * at(slice(-2, -1)) + 1.5 * at(slice(-1, None))) / h
        return F.cat([first, inner, last], axis=axis)
    if coords.shape != (n,):
        raise ValueError("gradient: when 1d, distances must match the length of the "
                         "corresponding dimension")
    dx = np.diff(coords)
    hs, hd = dx[:-1], dx[1:]
    a = (-hd / (hs * (hd + hs))).reshape(bshape)
    b = ((hd - hs) / (hd * hs)).reshape(bshape)
    c = (hs / (hd * (hd + hs))).reshape(bshape)
    inner = a * at(slice(None, -2)) + b * at(slice(1, -1)) + c * at(slice(2, None))
    if edge_order == 1:
        first = (at(slice(1, 2)) - at(slice(0, 1))) / dx[0]
        last = (at(slice(-1, None)) - at(slice(-2, -1))) / dx[-1]
    else:
        d1, d2 = dx[0], dx[1]
        first = (-(2 * d1 + d2) / (d1 * (d1 + d2)) * at(slice(0, 1))
                 + (d1 + d2) / (d1 * d2) * at(slice(1, 2))
                 - d1 / (d2 * (d1 + d2)) * at(slice(2, 3)))
        d1, d2 = dx[-2], dx[-1]
        last = (d2 / (d1 * (d1 + d2)) * at(slice(-3, -2))
                - (d2 + d1) / (d1 * d2) * at(slice(-2, -1))
                + (2 * d2 + d1) / (d2 * (d1 + d2)) * at(slice(-1, None)))
    return F.cat([first, inner, last], axis=axis)


def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    t = as_tensor(f)
    if edge_order not in (1, 2):
        raise ValueError("gradient: 'edge_order' greater than 2 not supported")
    axes = _axes(axis, t.ndim, "gradient")
    if not varargs:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings = [varargs[0]] * len(axes)
    elif len(varargs) == len(axes):
        spacings = list(varargs)
    else:
        raise TypeError("gradient: invalid number of arguments")
    out = [_gradient_1d(t, ax, h, edge_order) for ax, h in zip(axes, spacings)]
    return out[0] if len(out) == 1 else tuple(out)


def average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False,
            keepdims: bool = False) -> Any:
    t = as_tensor(a)
    if weights is None:
        avg = t.mean(axis, keepdims=keepdims)
        count = Tensor._wrap(np.asarray(t.data.size / max(avg.data.size, 1), dtype=t.dtype))
        return (avg, count.broadcast_to(avg.shape)) if returned else avg
    w = as_tensor(weights)
    if w.shape != t.shape:
        if axis is None or w.ndim != 1:
            raise TypeError("average: axis must be specified when shapes of a and weights "
                            "differ.")
        shape = [1] * t.ndim
        shape[_axis_index(axis, t.ndim, "average")] = -1
        w = w.reshape(shape)
    total = (w * t).sum(axis, keepdims=keepdims)
    scale = (w + t * 0).sum(axis, keepdims=keepdims)
    avg = total / scale
    return (avg, scale) if returned else avg


def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Tensor:
    _no_out("ptp", out)
    t = as_tensor(a)
    return t.amax(axis, keepdims) - t.amin(axis, keepdims)


def vector_norm(t: Tensor, ord: Any, axes: tuple | None, keepdims: bool) -> Tensor:
    """The vector ``ord``-norm of ``t`` over ``axes`` (None: all), numpy's and PyTorch's
    meaning; gradient 0 at a zero vector (not 0/0), as in PyTorch."""
    if ord is None or ord == 2:
        return RootOfSquares.apply((t * t).sum(axes, keepdims=keepdims))
    a = t.abs()
    if ord == np.inf:
        return a.amax(axes, keepdims)
    if ord == -np.inf:
        return a.amin(axes, keepdims)
    if ord == 0:  # a count: no gradient
        return (a > 0).astype(t.dtype).sum(axes, keepdims)
    if ord == 1:
        return a.sum(axes, keepdims=keepdims)
    zero_elements = a.data == 0
    if zero_elements.any():  # |0| ** ord is 0 (or inf for ord < 0), its gradient 0, not nan
        safe = F.where(zero_elements, Tensor._wrap(np.ones((), t.dtype)), a)
        at_zero = Tensor._wrap(np.asarray(0 if ord > 0 else np.inf, t.dtype))
        a_pow = F.where(zero_elements, at_zero, safe ** ord)
    else:
        a_pow = a ** ord
    total = a_pow.sum(axes, keepdims=keepdims)
    zero = total.data == 0
    if ord < 0 or not zero.any():
        return total ** (1.0 / ord)
    # a zero vector: norm 0 with gradient 0 (the root's gradient there is inf * 0)
    safe = F.where(zero, Tensor._wrap(np.ones((), t.dtype)), total)
    return F.where(zero, Tensor._wrap(np.zeros((), t.dtype)), safe ** (1.0 / ord))


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:
    t = as_tensor(x)
    if axis is None and ord is not None and t.ndim == 2:
        axis = (0, 1)
    axes = _axes(axis, t.ndim, "norm") if axis is not None else None
    matrix = axes is not None and len(axes) == 2
    if ord is None or (ord == "fro" and (matrix or axes is None)):  # gradient 0 at zeros
        return vector_norm(t, None, axes, keepdims)
    if matrix:
        a = t.abs()
        r, c = axes
        if ord in (1, -1):
            s = a.sum(r, keepdims=True)
            s = s.amax(c, keepdims=True) if ord == 1 else s.amin(c, keepdims=True)
        elif ord in (np.inf, -np.inf):
            s = a.sum(c, keepdims=True)
            s = s.amax(r, keepdims=True) if ord == np.inf else s.amin(r, keepdims=True)
        else:
            raise TypeError(f"np.linalg.norm with ord={ord!r} on matrices is not supported on "
                            "tensors (use ord=None/'fro', 1, -1, inf or -inf)")
        return s if keepdims else s.reshape([d for i, d in enumerate(s.shape) if i not in axes])
    if isinstance(ord, str):
        raise ValueError(f"np.linalg.norm: invalid norm order {ord!r} for vectors")
    return vector_norm(t, ord, axes, keepdims)


def atleast_1d(*arys: Any) -> Any:
    return atleast_nd(1, arys)


def atleast_2d(*arys: Any) -> Any:
    return atleast_nd(2, arys)


def atleast_3d(*arys: Any) -> Any:
    return atleast_nd(3, arys)


def broadcast_arrays(*args: Any, subok: bool = False) -> tuple:
    ts = [as_tensor(a) for a in args]
    shape = np.broadcast_shapes(*(t.shape for t in ts))
    return tuple(t.broadcast_to(shape) for t in ts)


def real(val: Any) -> Tensor:
    return as_tensor(val)


def imag(val: Any) -> Tensor:
    t = as_tensor(val)
    return t * 0


def conj(x: Any, *args: Any, **kw: Any) -> Tensor:
    return as_tensor(x)


def angle(z: Any, deg: bool = False) -> Tensor:
    t = as_tensor(z)
    return Rounding.apply(t, fn=lambda x: np.angle(x, deg=deg))


def real_if_close(a: Any, tol: float = 100) -> Tensor:
    return as_tensor(a)


# --------------------------------------------------------------------------- ufunc helpers
def logaddexp(a: Any, b: Any) -> Tensor:
    """log(exp(a) + exp(b)), shifted by max(a, b) held constant (exact gradients, no
    overflow)."""
    a, b = as_tensor(a), as_tensor(b)
    m = np.maximum(a.data, b.data)
    m = np.where(np.isfinite(m), m, 0)
    return ((a - m).exp() + (b - m).exp()).log() + m


def logaddexp2(a: Any, b: Any) -> Tensor:
    a, b = as_tensor(a), as_tensor(b)
    m = np.maximum(a.data, b.data)
    m = np.where(np.isfinite(m), m, 0)
    return ((2.0 ** (a - m)) + (2.0 ** (b - m))).log() / np.log(2.0) + m


def _nan_aware(pick: Any) -> Any:
    def fn(a: Any, b: Any) -> Tensor:
        a, b = as_tensor(a), as_tensor(b)
        picked = pick(a, b)
        return F.where(np.isnan(b.data), a, F.where(np.isnan(a.data), b, picked))

    return fn


fmax = _nan_aware(F.maximum)
fmin = _nan_aware(F.minimum)


def remainder(a: Any, b: Any) -> Tensor:
    """numpy's ``mod``: the sign of ``b``, as Python's ``%`` (the ``Remainder`` primitive)."""
    return _pw.Remainder.apply(_operand(a), _operand(b))


def fmod(a: Any, b: Any) -> Tensor:
    """C's remainder: the sign of ``a`` (the ``Fmod`` primitive)."""
    return _pw.Fmod.apply(_operand(a), _operand(b))


def copysign(a: Any, b: Any) -> Tensor:
    a, b = as_tensor(a), as_tensor(b)
    return a.abs() * np.where(np.signbit(b.data), -1.0, 1.0).astype(a.dtype)


def hypot(a: Any, b: Any) -> Tensor:
    a, b = as_tensor(a), as_tensor(b)
    return (a * a + b * b).sqrt()


def scale(factor: float) -> Any:
    return lambda x: as_tensor(x) * factor


# ---------------------------------------------------------------------------- reductions
def reduce(method: str) -> Any:
    """A numpy reduction (``np.sum``, ``np.max``...) with numpy's arguments and defaults."""

    def fn(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
           ddof: float = 0, **kw: Any) -> Tensor:
        _no_out(method, out)
        _no_extras(method, kw)
        t = as_tensor(a)
        if dtype is not None:
            t = t.astype(dtype)
        if method in ("var", "std"):
            return getattr(t, method)(axis, keepdims=keepdims, correction=ddof)
        if method in ("mean", "sum") and t.dtype.kind in "biu":
            t = t.astype(np.float64) if method == "mean" else t
        return getattr(t, method)(axis, keepdims=keepdims)

    fn.__name__ = method
    return fn


def argreduce(which: str) -> Any:
    def fn(a: Any, axis: int | None = None, out: Any = None, *, keepdims: bool = False) -> Any:
        _no_out(which, out)
        arr = a.data if isinstance(a, Tensor) else np.asarray(a)
        return getattr(np, which)(arr, axis=axis, keepdims=keepdims)

    return fn


def unsupported(name: str, instead: str) -> Any:
    def fn(*args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"np.{name} has no gradient in tinygrad_edu; {instead}")

    return fn


__all__ = [n for n in dir() if not n.startswith("_") and n not in (
    "annotations", "itertools", "operator", "np", "F", "Any", "Sequence", "Tensor", "Rounding",
    "normalize_dim", "RootOfSquares")]
