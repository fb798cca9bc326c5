"""PyTorch's shape, indexing, sorting and scan methods (``ShapeMethods``, a mixin of Tensor)
and the matching top-level functions (``tg.sort(x)`` is ``x.sort()``).

Every op here is a composition of existing primitives (indexing, ``where``, the
``numpy_functions`` implementations), so gradients come from those primitives; integer
outputs (indices) carry no gradient, as in PyTorch.

>>> import tinygrad_edu as tg
>>> x = tg.tensor([[3.0, 1.0], [2.0, 5.0]])
>>> tg.sort(x, dim=1).values
tensor([[1., 3.],
        [2., 5.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from . import dims as _dims


class ValuesIndices(NamedTuple):
    """``(values, indices)`` as PyTorch's ``sort``, ``topk``, ``median(dim)`` return it."""

    values: Any
    indices: Any


def _nf():
    """numpy_functions (imported late: it imports tensor.py, which imports this module)."""
    from . import numpy_functions

    return numpy_functions


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.data if hasattr(x, "_ctx") else x)


def _dim(t: Any, dim: Any, op: str) -> int:
    return _dims.normalize_dim(dim, t.ndim, op, t.shape)


def _dim_or_axis(dim: Any, axis: Any, op: str) -> Any:
    """The one dimension given as ``dim`` or as numpy's ``axis`` (PyTorch takes either)."""
    if (dim is None) == (axis is None):
        raise TypeError(f"{op}() needs its dimension once, as dim or as axis "
                        f"(got dim={dim!r}, axis={axis!r})")
    return axis if dim is None else dim


def _sizes(sizes: tuple) -> tuple:
    """``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(sizes) == 1 and isinstance(sizes[0], Sequence | np.ndarray):
        return tuple(int(s) for s in sizes[0])
    return tuple(int(s) for s in sizes)


def along(t: Any, index: np.ndarray, dim: int) -> Any:
    """``t`` indexed by ``index`` along ``dim`` and by position elsewhere (``gather``)."""
    grids = np.indices(index.shape, sparse=True)
    return t[tuple(index if d == dim else g for d, g in enumerate(grids))]


def _integral(dtype: np.dtype) -> bool:
    return dtype.kind in "biu"


def _scan_dtype(t: Any, dtype: Any) -> Any:
    """PyTorch's sum-like result dtype: integers and bools accumulate in int64."""
    if dtype is None and _integral(t.dtype):
        return np.int64
    return dtype


class ShapeMethods:
    """Tensor methods with PyTorch's names and meaning (see the module docstring)."""

    __slots__ = ()

    # ----------------------------------------------------------------- views and shapes
    def t(self) -> Any:
        """The transpose of a tensor of at most 2 dims (as is for 0-d and 1-d).

        >>> import tinygrad_edu as tg
        >>> tg.tensor([[1, 2, 3]]).t().shape
        (3, 1)
        """
        if self.ndim > 2:
            raise ValueError(f"t() expects a tensor with <= 2 dimensions, but self is "
                             f"{self.ndim}D (shape {self.shape}); use .mT or .transpose(a, b)")
        return self.transpose(0, 1) if self.ndim == 2 else self

    @property
    def mT(self) -> Any:
        """The last two dims swapped (a batch of matrices transposed).

        >>> import tinygrad_edu as tg
        >>> tg.zeros(4, 2, 3).mT.shape
        (4, 3, 2)
        """
        if self.ndim < 2:
            raise ValueError(f"mT: tensor of shape {self.shape} has fewer than 2 dims")
        return self.transpose(-2, -1)

    def view_as(self, other: Any) -> Any:
        """``self.reshape(other.shape)``.

        >>> import tinygrad_edu as tg
        >>> tg.arange(6).view_as(tg.zeros(2, 3)).shape
        (2, 3)
        """
        return self.reshape(other.shape)

    def expand_as(self, other: Any) -> Any:
        """``self.expand(other.shape)``.

        >>> import tinygrad_edu as tg
        >>> tg.tensor([1.0, 2.0]).expand_as(tg.zeros(3, 2)).shape
        (3, 2)
        """
        return self.expand(other.shape)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Any:
        """Split dim ``dim`` into ``sizes`` (one may be -1).

        >>> import tinygrad_edu as tg
        >>> tg.zeros(2, 12).unflatten(1, (3, -1)).shape
        (2, 3, 4)
        """
        d = _dim(self, dim, "unflatten")
        return self.reshape(*self.shape[:d], *sizes, *self.shape[d + 1:])

    def repeat(self, *sizes: Any) -> Any:
        """PyTorch's ``repeat``: tile the tensor ``sizes`` times (numpy's ``tile``, not
        numpy's ``repeat``; for that see ``repeat_interleave``).

        >>> import tinygrad_edu as tg
        >>> tg.tensor([1, 2]).repeat(2)
        tensor([1, 2, 1, 2])
        """
        reps = _sizes(sizes)
        if len(reps) < self.ndim:
            raise ValueError(f"repeat: the number of repeats ({len(reps)}) can not be smaller "
                             f"than the number of dims of the tensor ({self.ndim}, shape "
                             f"{self.shape})")
        return _nf().tile(self, reps)

    def tile(self, *dims: Any) -> Any:
        """Tile the tensor; fewer ``dims`` than dims are padded with 1s in front.

        >>> import tinygrad_edu as tg
        >>> tg.tensor([[1, 2]]).tile(2).tolist()
        [[1, 2, 1, 2]]
        """
        return _nf().tile(self, _sizes(dims))

    def repeat_interleave(self, repeats: Any, dim: int | None = None, *,
                          output_size: int | None = None) -> Any:
        """Repeat each element ``repeats`` times along ``dim`` (flattened if ``None``).

        >>> import tinygrad_edu as tg
        >>> tg.tensor([1, 2]).repeat_interleave(2)
        tensor([1, 1, 2, 2])
        """
        if dim is not None:
            dim = _dim(self, dim, "repeat_interleave")
        return _nf().repeat(self, _array(repeats), dim)

    # ----------------------------------------------------------------- selecting
    def narrow(self, dim: int, start: int, length: int) -> Any:
        """Elements ``start`` to ``start + length`` along ``dim`` (a view).

        >>> import tinygrad_edu as tg
        >>> tg.arange(5).narrow(0, 1, 3)
        tensor([1, 2, 3])
        """
        d = _dim(self, dim, "narrow")
        n = self.shape[d]
        start = int(start) + (n if int(start) < 0 else 0)
        if not (0 <= start <= n and length >= 0 and start + length <= n):
            raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension "
                             f"size ({n}) of dim {d} (shape {self.shape})")
        return self[(slice(None),) * d + (slice(start, start + length),)]

    def select(self, dim: int, index: int) -> Any:
        """The slice at ``index`` of dim ``dim`` (that dim removed).

        >>> import tinygrad_edu as tg
        >>> tg.tensor([[1, 2], [3, 4]]).select(1, 0)
        tensor([1, 3])
        """
        d = _dim(self, dim, "select")
        n = self.shape[d]
        if not -n <= int(index) < n:
            raise IndexError(f"select: index {index} out of range for dim {d} of size {n}")
        return self[(slice(None),) * d + (int(index),)]

    def unbind(self, dim: int = 0) -> tuple:
        """The slices along ``dim``, as a tuple.

        >>> import tinygrad_edu as tg
        >>> tg.tensor([[1, 2], [3, 4]]).unbind(1)
        (tensor([1, 3]), tensor([2, 4]))
        """
        d = _dim(self, dim, "unbind")
        return tuple(self.select(d, i) for i in range(self.shape[d]))

    def index_select(self, dim: int, index: Any) -> Any:
        """The entries of dim ``dim`` at the (1-d) integer ``index``.

        >>> import tinygrad_edu as tg
        >>> tg.tensor([[1, 2], [3, 4]]).index_select(0, tg.tensor([1, 1, 0]))
        tensor([[3, 4],
                [3, 4],
                [1, 2]])
        """
        idx = _index_array(index, "index_select")
        if idx.ndim > 1:
            raise IndexError(f"index_select: index must be 0-d or 1-d, got shape {idx.shape}")
        return _nf().take(self, idx.reshape(-1), _dim(self, dim, "index_select"))

    def take(self, index: Any) -> Any:
        """The entries of the flattened tensor at ``index`` (result has ``index``'s shape).

        >>> import tinygrad_edu as tg
        >>> tg.tensor([[1, 2], [3, 4]]).take(tg.tensor([0, 3]))
        tensor([1, 4])
        """
        return _nf().take(self, _index_array(index, "take"))

    def gather(self, dim: int, index: Any) -> Any:
        """``out[i][j] = self[index[i][j]][j]`` for ``dim=0`` (and so on): ``index`` has as
        many dims as ``self`` and is no larger in the other dims.

        >>> import tinygrad_edu as tg
        >>> tg.tensor([[1, 2], [3, 4]]).gather(1, tg.tensor([[1], [0]]))
        tensor([[2],
                [3]])
        """
        d = _dim(self, dim, "gather")
        idx = _check_index(self, d, index, "gather")
        return along(self, idx, d)

    def scatter_add(self, dim: int, index: Any, src: Any) -> Any:
        """A copy of ``self`` with ``src``'s entries added at ``index`` along ``dim`` (the
        reverse of ``gather``; repeated indices add up). Differentiable in ``self`` and
        ``src``.

        >>> import tinygrad_edu as tg
        >>> tg.zeros(3).scatter_add(0, tg.tensor([0, 0, 2]), tg.tensor([1.0, 2.0, 3.0]))
        tensor([3., 0., 3.])
        """
        placed, _ = _scattered(self, dim, index, src, "scatter_add")
        return self + placed

    def scatter_add_(self, dim: int, index: Any, src: Any) -> Any:
        """In-place ``scatter_add`` (repeated indices add up; differentiable in both).

        >>> import tinygrad_edu as tg
        >>> x = tg.zeros(3)
        >>> _ = x.scatter_add_(0, tg.tensor([0, 0, 2]), tg.tensor([1.0, 2.0, 3.0]))
        >>> x
        tensor([3., 0., 3.])
        """
        return _into_self(self, "scatter_add_", "scatter_add", src, dim, index)

    def index_add(self, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Any:
        """A copy of ``self`` with ``alpha * source[..., i, ...]`` added to
        ``self[..., index[i], ...]`` along ``dim`` for every ``i`` (repeated indices add up:
        an embedding's gradient is ``zeros_like(C).index_add(0, ix.view(-1), demb)``).
        Differentiable in ``self`` and ``source``.

        >>> import tinygrad_edu as tg
        >>> tg.zeros(3, 2).index_add(0, tg.tensor([2, 0, 2]), tg.ones(3, 2))
        tensor([[1., 1.],
                [0., 0.],
                [2., 2.]])
        """
        from .ops.movement import ScatterAdd

        d = _dim(self, dim, "index_add")
        idx = _index_array(index, "index_add")
        if idx.ndim > 1:
            raise IndexError(f"index_add: index must be 0-d or 1-d, got shape {idx.shape}")
        idx = idx.reshape(-1)
        src = source if hasattr(source, "_ctx") else type(self)._wrap(np.asarray(source))
        want = (*self.shape[:d], idx.size, *self.shape[d + 1:])
        if src.shape != want:
            raise ValueError(f"index_add: source has shape {src.shape}, but an input of shape "
                             f"{self.shape} with {idx.size} indices along dim {d} needs {want}")
        if src.dtype != self.dtype:
            raise TypeError(
                f"index_add: self ({self.dtype}) and source ({src.dtype}) must have the same "
                f"dtype; convert one (source.to(self.dtype))")
        n = self.shape[d]
        if idx.size and not (idx.min() >= 0 and idx.max() < n):  # PyTorch: no negatives
            raise IndexError(f"index_add: index out of range for dim {d} of size {n} (from "
                             f"0 to {n - 1}), got {idx.min() if idx.min() < 0 else idx.max()}")
        if not isinstance(alpha, int | float) or alpha != 1:
            src = src * alpha
        return self + ScatterAdd.apply(src, shape=self.shape, index=(slice(None),) * d + (idx,))

    def index_add_(self, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Any:
        """In-place ``index_add`` (differentiable in both, as ``x += ...`` is).

        >>> import tinygrad_edu as tg
        >>> dC = tg.zeros(3)
        >>> _ = dC.index_add_(0, tg.tensor([1, 1]), tg.tensor([1.0, 2.0]))
        >>> dC
        tensor([0., 3., 0.])
        """
        return _into_self(self, "index_add_", "index_add", source, dim, index, alpha=alpha)

    def index_put(self, indices: Any, values: Any, accumulate: bool = False) -> Any:
        """A copy of ``self`` with ``values`` written at ``self[indices]`` (a tuple of index
        tensors); with ``accumulate=True`` added, repeated indices adding up (an embedding's
        gradient: ``zeros_like(C).index_put((Xb,), demb, accumulate=True)``).

        >>> import tinygrad_edu as tg
        >>> tg.zeros(3).index_put((tg.tensor([0, 0, 2]),), tg.tensor(1.0), accumulate=True)
        tensor([2., 0., 1.])
        """
        from .ops.movement import ScatterAdd

        if not isinstance(indices, tuple | list):
            raise TypeError(f"index_put: indices must be a tuple of tensors, got "
                            f"{type(indices).__name__}; write (index,)")
        idx = tuple(_array(i) for i in indices)
        for i in idx:
            if i.dtype != bool and not _integral(i.dtype):
                raise TypeError(f"index_put: indices must be integer or bool tensors, got "
                                f"{i.dtype}")
        v = values if hasattr(values, "_ctx") else type(self)._wrap(
            np.asarray(values, self.dtype))
        if v.dtype != self.dtype:
            raise TypeError(f"index_put: values ({v.dtype}) must have self's dtype "
                            f"({self.dtype}); convert them (values.to({self.dtype}))")
        if accumulate:
            try:
                return self + ScatterAdd.apply(v, shape=self.shape, index=idx)
            except (IndexError, ValueError) as e:
                raise type(e)(f"index_put: {e} (self of shape {self.shape}, values of shape "
                              f"{v.shape})") from None
        out = self.clone()
        out[idx] = v
        return out

    def index_put_(self, indices: Any, values: Any, accumulate: bool = False) -> Any:
        """In-place ``index_put`` (differentiable in both, as ``x[idx] = v`` is)."""
        return _into_self(self, "index_put_", "index_put", values, indices,
                          accumulate=accumulate)

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None,
                reduce: str | None = None) -> Any:
        """A copy of ``self`` with ``src``'s entries (or ``value``) written at ``index`` along
        ``dim``. Repeated target positions are refused (PyTorch leaves their result
        unspecified). Differentiable in ``self`` and ``src``.

        >>> import tinygrad_edu as tg
        >>> tg.zeros(2, 2).scatter(1, tg.tensor([[1], [0]]), 5.0)
        tensor([[0., 5.],
                [5., 0.]])
        """
        from .functional import where

        if reduce is not None:
            raise TypeError("scatter: reduce= is not supported; use scatter_add (sum) or "
                            "scatter_reduce's arithmetic written out")
        src = value if src is None else src
        if not hasattr(src, "_ctx"):  # a scalar: every indexed position gets it
            src = type(self)._wrap(np.full(_array(index).shape, src, dtype=self.dtype))
        placed, targets = _scattered(self, dim, index, src, "scatter")
        hits = np.zeros(self.shape, np.int64)
        np.add.at(hits, targets, 1)
        if (hits > 1).any():
            raise ValueError("scatter: index writes the same position more than once, whose "
                             "result PyTorch leaves unspecified; use scatter_add to add them")
        return where(hits.astype(bool), placed, self)

    def masked_fill(self, mask: Any, value: Any) -> Any:
        """``value`` where ``mask`` is True, ``self`` elsewhere (``mask`` broadcasts).

        >>> import tinygrad_edu as tg
        >>> tg.tensor([1.0, 2.0, 3.0]).masked_fill(tg.tensor([True, False, True]), 0.0)
        tensor([0., 2., 0.])
        """
        from .functional import where

        m = _mask(self, mask, "masked_fill")
        v = value if hasattr(value, "_ctx") else type(self)._wrap(np.asarray(value, self.dtype))
        if v.ndim:
            raise ValueError(f"masked_fill only supports a 0-dimensional value tensor, but got "
                             f"one with {v.ndim} dimension(s)")
        out = where(m, v.astype(self.dtype) if v.dtype != self.dtype else v, self)
        return out if out.shape == self.shape else out.broadcast_to(self.shape)

    def masked_fill_(self, mask: Any, value: Any) -> Any:
        """In-place ``masked_fill`` (``mask`` broadcasts to ``self``'s shape).

        >>> import tinygrad_edu as tg
        >>> x = tg.tensor([1.0, 2.0, 3.0])
        >>> _ = x.masked_fill_(x > 1.5, -1.0)
        >>> x
        tensor([ 1., -1., -1.])
        """
        m = np.broadcast_to(_mask(self, mask, "masked_fill_"), self.shape)
        if hasattr(value, "_ctx") and value.ndim:
            raise ValueError("masked_fill_ only supports a 0-dimensional value tensor")
        self._overwrite("masked_fill_", m, value)
        return self

    def masked_select(self, mask: Any) -> Any:
        """The entries where ``mask`` (broadcast with ``self``) is True, as a 1-d tensor.

        >>> import tinygrad_edu as tg
        >>> x = tg.tensor([[1, 5], [7, 2]])
        >>> x.masked_select(x > 3)
        tensor([5, 7])
        """
        m = _mask(self, mask, "masked_select")
        shape = np.broadcast_shapes(self.shape, m.shape)
        t = self if self.shape == shape else self.broadcast_to(shape)
        return t[np.broadcast_to(m, shape)]

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        """The indices of the nonzero entries: an (n, ndim) int64 tensor, or one 1-d tensor
        per dim with ``as_tuple=True``.

        >>> import tinygrad_edu as tg
        >>> tg.tensor([0, 3, 0, 4]).nonzero()
        tensor([[1],
                [3]])
        """
        wrap = type(self)._wrap
        found = np.nonzero(np.atleast_1d(self.data))
        if as_tuple:
            return tuple(wrap(i.astype(np.int64)) for i in found)
        return wrap(np.stack(found, axis=1).astype(np.int64).reshape(-1, self.ndim))

    def count_nonzero(self, dim: Any = None) -> Any:
        """How many entries are nonzero (over ``dim``), as int64.

        >>> import tinygrad_edu as tg
        >>> tg.tensor([[0, 1], [2, 3]]).count_nonzero(dim=0)
        tensor([1, 2])
        """
        a = _dims.normalize_dims(dim, self.ndim, "count_nonzero", self.shape)
        return type(self)._wrap(np.asarray(np.count_nonzero(self.data, axis=a), np.int64))

    # ----------------------------------------------------------------- reductions, scans
    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
        """The product (over ``dim``); exact gradients also with zeros.

        >>> import tinygrad_edu as tg
        >>> tg.tensor([[1.0, 2.0], [3.0, 4.0]]).prod(1)
        tensor([ 2., 12.])
        """
        if dim is not None:
            dim = _dim(self, dim, "prod")
        return _nf().prod(self, dim, _scan_dtype(self, dtype), keepdims=keepdim)

    def cumsum(self, dim: int | None = None, *, dtype: Any = None, axis: int | None = None) -> Any:
        """Running sums along ``dim`` (``axis=``, numpy's name, as PyTorch accepts it).

        >>> import tinygrad_edu as tg
        >>> tg.tensor([1, 2, 3]).cumsum(0), tg.tensor([[1, 2]]).cumsum(axis=1)
        (tensor([1, 3, 6]), tensor([[1, 3]]))
        """
        d = _dim(self, _dim_or_axis(dim, axis, "cumsum"), "cumsum")
        return _nf().cumsum(self, d, _scan_dtype(self, dtype))

    def cumprod(self, dim: int | None = None, *, dtype: Any = None,
                axis: int | None = None) -> Any:
        """Running products along ``dim`` (or ``axis=``).

        >>> import tinygrad_edu as tg
        >>> tg.tensor([1.0, 2.0, 3.0]).cumprod(0)
        tensor([1., 2., 6.])
        """
        d = _dim(self, _dim_or_axis(dim, axis, "cumprod"), "cumprod")
        return _nf().cumprod(self, d, _scan_dtype(self, dtype))

    def trace(self) -> Any:
        """The sum of the main diagonal of a 2-d tensor.

        >>> import tinygrad_edu as tg
        >>> tg.tensor([[1.0, 2.0], [3.0, 4.0]]).trace()
        tensor(5.)
        """
        if self.ndim != 2:
            raise ValueError(f"trace: expected a matrix, got a tensor of shape {self.shape}")
        return _nf().trace(self, dtype=_scan_dtype(self, None))

    # ----------------------------------------------------------------- sorting
    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        """Indices that sort ``self`` along ``dim`` (ties keep their order).

        >>> import tinygrad_edu as tg
        >>> tg.tensor([3.0, 1.0, 2.0]).argsort(descending=True)
        tensor([0, 2, 1])
        """
        if self.ndim == 0:
            return type(self)._wrap(np.zeros((), np.int64))
        d = _dim(self, dim, "argsort")
        if not descending:
            return type(self)._wrap(np.argsort(self.data, axis=d, kind="stable"))
        rev = np.flip(np.argsort(np.flip(self.data, d), axis=d, kind="stable"), d)
        return type(self)._wrap(self.shape[d] - 1 - rev)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False
             ) -> ValuesIndices:
        """``(values, indices)`` of ``self`` sorted along ``dim``; the gradient of a value goes
        to the entry it came from.

        >>> import tinygrad_edu as tg
        >>> tg.tensor([3.0, 1.0, 2.0]).sort()
        ValuesIndices(values=tensor([1., 2., 3.]), indices=tensor([1, 2, 0]))
        """
        idx = self.argsort(dim, descending)
        if self.ndim == 0:
            return ValuesIndices(self.clone(), idx)
        return ValuesIndices(along(self, idx.data, _dim(self, dim, "sort")), idx)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
             ) -> ValuesIndices:
        """The ``k`` largest (or smallest) entries along ``dim``, with their indices.

        >>> import tinygrad_edu as tg
        >>> tg.tensor([1.0, 5.0, 3.0]).topk(2)
        ValuesIndices(values=tensor([5., 3.]), indices=tensor([1, 2]))
        """
        d = _dim(self, dim, "topk")
        n = self.shape[d] if self.ndim else 1
        if not 0 <= k <= n:
            raise IndexError(f"topk: k ({k}) out of range for dim {d} of size {n}")
        values, indices = self.sort(d, descending=largest)
        if self.ndim == 0:
            return ValuesIndices(values, indices)
        return ValuesIndices(values.narrow(d, 0, k), indices.narrow(d, 0, k))

    def median(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """The lower median (PyTorch's, not the mean of the two middle values); with ``dim``,
        ``(values, indices)``. Without ``dim`` tied entries share the gradient, as in PyTorch.

        >>> import tinygrad_edu as tg
        >>> tg.tensor([4.0, 1.0, 3.0, 2.0]).median()
        tensor(2.)
        """
        if dim is None:
            if self.numel() == 0:
                raise ValueError("median() of an empty tensor is not defined")
            flat = self.reshape(-1)
            m = np.sort(flat.data, kind="stable")[(flat.shape[0] - 1) // 2]
            if not self.is_floating_point():
                return type(self)._wrap(np.asarray(m))
            from .functional import where

            low = type(self)._wrap(np.asarray(-np.inf, self.dtype))
            return where(flat.data == m, flat, low).amax() if m == m else flat[
                int(np.argmax(np.isnan(flat.data)))]
        d = _dim(self, dim, "median")
        if self.ndim and self.shape[d] == 0:
            raise IndexError(f"median: dim {d} of shape {self.shape} is empty")
        values, indices = self.sort(d)
        if self.ndim == 0:
            return ValuesIndices(values, indices)
        pick = (self.shape[d] - 1) // 2
        v, i = values.select(d, pick), indices.select(d, pick)
        if keepdim:
            v, i = v.unsqueeze(d), i.unsqueeze(d)
        return ValuesIndices(v, i)

    # ----------------------------------------------------------------- rearranging
    def flip(self, *dims: Any) -> Any:
        """Reverse the order of entries along ``dims``.

        >>> import tinygrad_edu as tg
        >>> tg.tensor([[1, 2], [3, 4]]).flip(0, 1)
        tensor([[4, 3],
                [2, 1]])
        """
        axes = _sizes(dims)
        if not axes:
            raise TypeError("flip() missing required argument 'dims' (the dims to reverse, "
                            "e.g. x.flip(0) or x.flip((0, 1)))")
        return _nf().flip(self, _dims.normalize_dims(axes, self.ndim, "flip", self.shape))

    def roll(self, shifts: Any, dims: Any = None) -> Any:
        """Shift entries cyclically by ``shifts`` along ``dims`` (flattened when ``None``).

        >>> import tinygrad_edu as tg
        >>> tg.tensor([1, 2, 3]).roll(1)
        tensor([3, 1, 2])
        """
        return _nf().roll(self, shifts, dims)

    def tril(self, diagonal: int = 0) -> Any:
        """Zero the entries above the ``diagonal``-th diagonal (of the last two dims).

        >>> import tinygrad_edu as tg
        >>> tg.ones(2, 2).tril()
        tensor([[1., 0.],
                [1., 1.]])
        """
        _need_matrix(self, "tril")
        return _nf().tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Any:
        """Zero the entries below the ``diagonal``-th diagonal (of the last two dims).

        >>> import tinygrad_edu as tg
        >>> tg.ones(2, 2).triu()
        tensor([[1., 1.],
                [0., 1.]])
        """
        _need_matrix(self, "triu")
        return _nf().triu(self, diagonal)

    def diag(self, diagonal: int = 0) -> Any:
        """A 1-d tensor to a diagonal matrix, or a matrix's ``diagonal``-th diagonal.

        >>> import tinygrad_edu as tg
        >>> tg.tensor([1, 2]).diag()
        tensor([[1, 0],
                [0, 2]])
        """
        if self.ndim not in (1, 2):
            raise ValueError(f"diag: expected a 1-d or 2-d tensor, got shape {self.shape}")
        return _nf().diag(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
        """The diagonal of dims ``dim1`` and ``dim2``, as the last dim.

        >>> import tinygrad_edu as tg
        >>> tg.tensor([[1, 2], [3, 4]]).diagonal()
        tensor([1, 4])
        """
        d1, d2 = _dim(self, dim1, "diagonal"), _dim(self, dim2, "diagonal")
        if d1 == d2:
            raise ValueError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        return _nf().diagonal(self, offset, d1, d2)

    # ----------------------------------------------------------------- new tensors, metadata
    def new_tensor(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> Any:
        """A new tensor of ``data`` with ``self``'s dtype unless ``dtype`` is given.

        >>> import tinygrad_edu as tg
        >>> tg.zeros(2, dtype=tg.float64).new_tensor([1, 2]).dtype
        dtype('float64')
        """
        out = type(self)(_array(data).copy(), dtype=dtype or self.dtype)
        return out.requires_grad_(requires_grad)

    def new_full(self, size: Sequence[int], fill_value: Any, *, dtype: Any = None,
                 requires_grad: bool = False) -> Any:
        """A tensor of ``size`` filled with ``fill_value``, with ``self``'s dtype by default.

        >>> import tinygrad_edu as tg
        >>> tg.zeros(1).new_full((2,), 7.0)
        tensor([7., 7.])
        """
        data = np.full(_sizes((size,)), fill_value, dtype=dtype or self.dtype)
        return type(self)._wrap(data).requires_grad_(requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Any:
        """Zeros of ``size``, with ``self``'s dtype by default.

        >>> import tinygrad_edu as tg
        >>> tg.ones(1).new_zeros(2, 2).shape
        (2, 2)
        """
        return self.new_full(_sizes(size), 0, dtype=dtype, requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Any:
        """Ones of ``size``, with ``self``'s dtype by default.

        >>> import tinygrad_edu as tg
        >>> tg.zeros(1).new_ones(3)
        tensor([1., 1., 1.])
        """
        return self.new_full(_sizes(size), 1, dtype=dtype, requires_grad=requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Any:
        """A tensor of ``size`` (zero-filled here), with ``self``'s dtype by default.

        >>> import tinygrad_edu as tg
        >>> tg.zeros(1).new_empty(2).shape
        (2,)
        """
        return self.new_zeros(*size, dtype=dtype, requires_grad=requires_grad)

    def type_as(self, other: Any) -> Any:
        """``self`` cast to ``other``'s dtype.

        >>> import tinygrad_edu as tg
        >>> tg.tensor([1, 2]).type_as(tg.zeros(1)).dtype
        dtype('float32')
        """
        return self.astype(other.dtype)

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """True: every tensor acts as a contiguous one (``stride()`` says its layout)."""
        return True

    def stride(self, dim: int | None = None) -> Any:
        """The strides (in elements) of a contiguous tensor of this shape, as PyTorch's.

        >>> import tinygrad_edu as tg
        >>> tg.zeros(2, 3, 4).stride()
        (12, 4, 1)
        """
        sizes = np.maximum(np.asarray(self.shape, np.int64), 1)  # (tg.max shadows max here)
        strides = tuple(int(np.prod(sizes[i + 1:])) for i in range(self.ndim))
        return strides if dim is None else strides[_dim(self, dim, "stride")]

    def element_size(self) -> int:
        """Bytes per element.

        >>> import tinygrad_edu as tg
        >>> tg.zeros(1, dtype=tg.float64).element_size()
        8
        """
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of all elements (``numel() * element_size()``)."""
        return self.numel() * self.dtype.itemsize

    def detach_(self) -> Any:
        """Cut this tensor from its graph in place (it becomes a leaf without grad).

        >>> import tinygrad_edu as tg
        >>> y = tg.ones(2, requires_grad=True) * 2
        >>> y.detach_().requires_grad
        False
        """
        self._ctx = None
        self._requires_grad = False
        return self


def _index_array(index: Any, op: str) -> np.ndarray:
    idx = _array(index)
    if not _integral(idx.dtype) or idx.dtype == bool:
        raise TypeError(f"{op}: index must be an integer tensor (int64), got {idx.dtype}")
    return idx


def _check_index(t: Any, d: int, index: Any, op: str) -> np.ndarray:
    """``index`` for gather/scatter: as many dims as ``t``, no larger outside ``d``, in range."""
    idx = _index_array(index, op)
    if idx.ndim != t.ndim:
        raise ValueError(f"{op}: index (shape {idx.shape}) must have as many dims as the "
                         f"input (shape {t.shape})")
    if any(i > s for k, (i, s) in enumerate(zip(idx.shape, t.shape)) if k != d):
        raise ValueError(f"{op}: index of shape {idx.shape} is larger than the input "
                         f"{t.shape} outside dim {d}")
    n = t.shape[d] if t.ndim else 1
    if idx.size and not (-n <= idx.min() and idx.max() < n):
        raise IndexError(f"{op}: index out of range for dim {d} of size {n}")
    return idx


def _scattered(t: Any, dim: int, index: Any, src: Any, op: str) -> tuple:
    """Zeros of ``t``'s shape with ``src``'s (index-shaped corner) entries added at their
    targets, and those targets as a tuple of index arrays."""
    from .ops.movement import ScatterAdd

    d = _dim(t, dim, op)
    idx = _check_index(t, d, index, op)
    src = src if hasattr(src, "_ctx") else type(t)._wrap(np.asarray(src, t.dtype))
    if src.ndim != idx.ndim or any(i > s for i, s in zip(idx.shape, src.shape)):
        raise ValueError(f"{op}: index of shape {idx.shape} must not be larger than src of "
                         f"shape {src.shape}")
    part = src[tuple(slice(0, n) for n in idx.shape)]
    grids = np.indices(idx.shape, sparse=True)
    targets = tuple(np.broadcast_to(idx if k == d else g, idx.shape)
                    for k, g in enumerate(grids))
    return ScatterAdd.apply(part.astype(t.dtype), shape=t.shape, index=targets), targets


def _into_self(t: Any, op: str, method: str, operand: Any, *args: Any, **kwargs: Any) -> Any:
    """``t`` changed in place to ``t.<method>(*args, operand, **kwargs)``: recorded (the graph
    rebased) when ``t`` or ``operand`` requires grad, a plain write otherwise."""
    from .autograd import inplace

    def compute(old: Any, value: Any) -> Any:
        return getattr(old, method)(*args, value, **kwargs)

    if t._records_inplace(operand):
        return inplace.rebase(t, op, compute, (operand,))
    value = operand.detach() if hasattr(operand, "_ctx") else operand
    t._overwrite(op, (Ellipsis,), compute(t.detach(), value))
    return t


def _mask(t: Any, mask: Any, op: str) -> np.ndarray:
    m = _array(mask)
    if m.dtype != bool:
        raise TypeError(f"{op}: expected a bool mask, got dtype {m.dtype}; compare first "
                        "(x > 0) or use mask.bool()")
    try:
        np.broadcast_shapes(m.shape, t.shape)
    except ValueError:
        raise ValueError(f"{op}: mask of shape {m.shape} does not broadcast with the tensor's "
                         f"shape {t.shape}") from None
    return m


def _need_matrix(t: Any, op: str) -> None:
    if t.ndim < 2:
        raise ValueError(f"{op}: input tensor must have at least 2 dimensions, got shape "
                         f"{t.shape}")


# --------------------------------------------------------------------- top-level functions
def _method_function(name: str) -> Any:
    """``tg.<name>(input, ...)``: the method ``input.<name>(...)`` as a function."""

    def function(input: Any, *args: Any, **kwargs: Any) -> Any:
        from .numpy_functions import as_tensor

        return getattr(as_tensor(input), name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``input.{name}(...)``; see :meth:`Tensor.{name}`."
    return function


_METHODS = ("chunk", "unbind", "narrow", "index_select", "masked_select", "gather", "prod",
            "cumsum", "cumprod", "sort", "argsort", "topk", "tril", "triu", "diag",
            "diagonal", "trace", "tile", "repeat_interleave", "nonzero", "median",
            "count_nonzero", "clone", "numel", "scatter", "scatter_add", "take", "masked_fill",
            "index_add")
globals().update({name: _method_function(name) for name in _METHODS})


def flip(input: Any, dims: Sequence[int]) -> Any:
    """``input.flip(dims)`` (``dims`` is required, as in PyTorch).

    >>> import tinygrad_edu as tg
    >>> tg.flip(tg.tensor([1, 2, 3]), [0])
    tensor([3, 2, 1])
    """
    return input.flip(dims)


def roll(input: Any, shifts: Any, dims: Any = None) -> Any:
    """``input.roll(shifts, dims)``.

    >>> import tinygrad_edu as tg
    >>> tg.roll(tg.tensor([1, 2, 3]), -1)
    tensor([2, 3, 1])
    """
    return input.roll(shifts, dims)


def _extreme(name: str, elementwise: str) -> Any:
    def function(input: Any, dim: Any = None, keepdim: bool = False, *,
                 other: Any = None, out: Any = None) -> Any:
        if out is not None:
            raise TypeError(f"{name}: out= is not supported; use the returned tensor")
        if hasattr(dim, "_ctx") or other is not None:  # tg.max(a, b): elementwise
            return getattr(input, elementwise)(dim if other is None else other)
        if dim is None:
            return getattr(input, name)()
        return getattr(input, name)(dim=dim, keepdim=keepdim)

    function.__name__ = function.__qualname__ = name
    return function


max = _extreme("max", "maximum")
max.__doc__ = """The largest entry (tied entries share the gradient, as in PyTorch); with
``dim``, ``(values, indices)`` (the gradient goes to the index); ``tg.max(a, b)`` is
``tg.maximum(a, b)``.

>>> import tinygrad_edu as tg
>>> tg.max(tg.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)
MinMaxResult(values=tensor([5., 7.]), indices=tensor([1, 0]))
"""
min = _extreme("min", "minimum")
min.__doc__ = """The smallest entry; see :func:`max`.

>>> import tinygrad_edu as tg
>>> tg.min(tg.tensor([3.0, 1.0, 2.0]))
tensor(1.)
"""


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a Tensor.

    >>> import tinygrad_edu as tg
    >>> tg.is_tensor(tg.zeros(1)), tg.is_tensor([1.0])
    (True, False)
    """
    return hasattr(obj, "_ctx") and hasattr(obj, "requires_grad_")


def hstack(tensors: Sequence[Any]) -> Any:
    """Concatenate along dim 1 (dim 0 for 1-d tensors).

    >>> import tinygrad_edu as tg
    >>> tg.hstack([tg.tensor([1, 2]), tg.tensor([3])])
    tensor([1, 2, 3])
    """
    return _nf().hstack(tensors)


def vstack(tensors: Sequence[Any]) -> Any:
    """Stack rows (1-d tensors become rows).

    >>> import tinygrad_edu as tg
    >>> tg.vstack([tg.tensor([1, 2]), tg.tensor([3, 4])]).shape
    (2, 2)
    """
    return _nf().vstack(tensors)


def broadcast_tensors(*tensors: Any) -> tuple:
    """The tensors broadcast to their common shape.

    >>> import tinygrad_edu as tg
    >>> [t.shape for t in tg.broadcast_tensors(tg.zeros(2, 1), tg.zeros(3))]
    [(2, 3), (2, 3)]
    """
    return _nf().broadcast_arrays(*tensors)


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple:
    """Coordinate grids of 1-d tensors; ``indexing='xy'`` swaps the first two dims.

    >>> import tinygrad_edu as tg
    >>> xs, ys = tg.meshgrid(tg.tensor([1, 2, 3]), tg.tensor([4, 5]), indexing="ij")
    >>> xs.shape
    (3, 2)
    """
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if any(t.ndim > 1 for t in tensors):
        raise ValueError("meshgrid: expects 0-d or 1-d tensors, got shapes "
                         f"{[t.shape for t in tensors]}")
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    order = [1, 0, *range(2, len(flat))] if swap else list(range(len(flat)))
    shape = [flat[i].shape[0] for i in order]
    out = []
    for t in flat:
        k = order.index(len(out))
        view = [1] * len(flat)
        view[k] = t.shape[0]
        out.append(t.reshape(view).expand(shape))
    return tuple(out)


__all__ = ["ShapeMethods", "ValuesIndices", "broadcast_tensors", "flip", "hstack", "is_tensor",
           "max", "meshgrid", "min", "roll", "vstack", *_METHODS]
