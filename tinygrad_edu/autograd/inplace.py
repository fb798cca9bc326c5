"""In-place changes of tensors that take part in a graph: numpy's aliasing, PyTorch's rebase.

``z += b``, ``z[mask] = 0``, ``z.mul_(w)``, ``v = z[0]; v += x`` — on a tensor that is part of
a recorded graph, or with a value that requires grad — work like this:

1. **The write happens in memory**, so every alias sees it, as in numpy: views of the tensor,
   the tensor a view was taken from, ``detach()`` copies of it.
2. **The graph is rebased** (PyTorch's rule): the tensor object keeps its identity but its
   history becomes "old value, then this op". The old value is kept in a *snapshot*: a private
   Tensor holding a copy of the values and the old history. Ops recorded before the change go
   on using the snapshot; the engine maps them to it by epoch (:func:`resolve_parents`), so a
   value used before ``z += b`` is differentiated as it was then.
3. **Aliases follow**: when the tensor is a view (``z[0]``, ``z.T``, ``z.reshape(...)``) the
   tensor it views gets a new history too ("old base with this region replaced"), and every
   other live view of the same memory is regathered from it, so a value read through any alias
   after the change has the right gradient.
4. **Versions live on memory** (:mod:`.versions`): an op that saved values for backward and
   finds them changed when backward runs raises, naming the op. The op that computed the
   tensor itself is spared that error: its saved output is moved to the snapshot's copy.

Changing a leaf that requires grad (a parameter) while recording, or a view of one, is refused
with the fix (``no_grad()``), as in PyTorch. With nothing requiring grad (or under
``no_grad``) an in-place op is a plain numpy write plus a version bump.

>>> import tinygrad_edu as tg
>>> x = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
>>> z = x * 2
>>> z[z < 0] = 0          # numpy's ReLU, in place
>>> z += x                # a bias, in place
>>> z.sum().backward()
>>> x.grad
tensor([3., 1., 3.])
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from . import function as _function
from . import versions
from .grad_mode import flags

_new_tensor = object.__new__

LEAF_MESSAGE = (
    "{op}: a leaf tensor that requires grad (e.g. a parameter) cannot be changed in place "
    "while operations are recorded; do the update inside `with tinygrad_edu.no_grad():` (as "
    "optimizers do), or compute a new tensor (w2 = w + 1)"
)
VIEW_OF_LEAF_MESSAGE = (
    "{op}: this tensor is a view of a leaf tensor that requires grad (e.g. w[0] or w.T of a "
    "parameter), so the change would change the parameter in place while operations are "
    "recorded; do it inside `with tinygrad_edu.no_grad():`, or clone() the view first"
)


# ----------------------------------------------------------------------------- view tracking
def track_view(src: Any, out: Any) -> Any:
    """Remember that ``out`` (made by a view method of ``src``) shares ``src``'s memory.

    Parameters are not tracked: they cannot be changed in place while recording anyway.
    """
    if out is src or out._data.base is None or (src._ctx is None and src._requires_grad):
        return out
    out._view_src = src
    views = src._views  # (a class default; reading __dict__ would slow the tensor down)
    if views is None:
        views = src._views = weakref.WeakSet()
    views.add(out)
    return out


def _source(t: Any) -> Any:
    """The tensor a view method made ``t`` from (tracked, or the recorded op's input)."""
    if t._view_src is not None:
        return t._view_src
    ctx = t._ctx
    if ctx is not None and ctx.parents and isinstance(ctx.parents[0], _function.Tensor):
        return ctx.parents[0]
    return None


def view_base(t: Any) -> Any:
    """The tensor ``t`` is ultimately a view of, or None."""
    base = None
    src = _source(t)
    while src is not None and versions.shares_root(src.data, t.data):
        base = src
        src = _source(src)
    return base


def _live_views(top: Any) -> list:
    """Every tracked view of ``top``'s memory, views of views included."""
    found: list = []
    seen = {id(top)}
    stack = [top]
    while stack:
        t = stack.pop()
        for v in list(t._views or ()):
            if id(v) not in seen and versions.shares_root(v.data, top.data):
                seen.add(id(v))
                found.append(v)
                stack.append(v)
    return found


def _element_offsets(a: np.ndarray) -> np.ndarray:
    """Byte offset of each element of ``a`` from the start of its memory root."""
    root = versions.memory_root(a)
    start = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    offsets = np.full(a.shape, start, dtype=np.int64)
    for axis, (n, stride) in enumerate(zip(a.shape, a.strides)):
        shape = [1] * a.ndim
        shape[axis] = n
        offsets = offsets + (np.arange(n, dtype=np.int64) * stride).reshape(shape)
    return offsets


def _positions(inner: np.ndarray, outer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each element of ``inner``: its flat (C-order) position in ``outer`` and whether it
    lies in ``outer`` at all (both arrays view one memory)."""
    outer_off = _element_offsets(outer).ravel()
    order = np.argsort(outer_off, kind="stable")
    ordered = outer_off[order]
    inner_off = _element_offsets(inner).ravel()
    idx = np.searchsorted(ordered, inner_off)
    idx_ok = np.minimum(idx, max(len(ordered) - 1, 0))
    found = (idx < len(ordered)) & (ordered[idx_ok] == inner_off) if len(ordered) else idx < 0
    positions = np.where(found, order[idx_ok] if len(ordered) else 0, 0)
    return positions.reshape(inner.shape), found.reshape(inner.shape)


# ----------------------------------------------------------------------------- graph pieces
# Internal reshapes and gathers go straight to the primitives: a Tensor method would track
# its result as a user-visible view.
def _reshape(t: Any, shape: tuple) -> Any:
    from ..ops.movement import Reshape

    return t if t.shape == shape else Reshape.apply(t, shape=shape)


def _take(t: Any, positions: np.ndarray) -> Any:
    from ..ops.movement import GetItem

    return GetItem.apply(t, index=(positions,))


def _broadcast(t: Any, shape: tuple) -> Any:
    from ..ops.movement import Expand

    if t.shape == shape:
        return t
    if np.broadcast_shapes(t.shape, shape) != shape:  # a ValueError when they do not broadcast
        raise ValueError(f"cannot broadcast {t.shape} to {shape}")
    return Expand.apply(t, shape=shape)


def index_put(old: Any, index: tuple, value: Any) -> Any:
    """``old`` with ``old[index] = value`` (numpy's rules: broadcasting, last write wins), as
    differentiable ops: ``value`` gets the gradient of the places it was written to."""
    Tensor = _function.Tensor
    from ..functional import where
    from ..ops.movement import ScatterAdd

    size = old.data.size
    try:
        places = np.arange(size).reshape(old.shape)[index]
    except IndexError as e:
        raise IndexError(f"__setitem__: {e} (tensor of shape {old.shape})") from None
    if not isinstance(value, Tensor):
        value = np.asarray(value)
        if np.can_cast(value.dtype, old.dtype, "same_kind"):
            # numpy stores a constant in the array's dtype: z[mask] = 0 writes float zeros
            # (an int64 array of them would make the where float64, then cast back)
            value = value.astype(old.dtype, copy=False)
        value = Tensor._wrap(value)
    try:
        value = _broadcast(value, places.shape)
    except ValueError:
        raise ValueError(
            f"__setitem__: could not broadcast a value of shape {value.shape} into the "
            f"{places.shape} places selected in a tensor of shape {old.shape}"
        ) from None
    flat = places.reshape(-1)
    values = _reshape(value, (-1,))
    if len(np.unique(flat)) != len(flat):  # repeated places: the last write wins, as in numpy
        _, first_from_end = np.unique(flat[::-1], return_index=True)
        chosen = len(flat) - 1 - first_from_end
        flat, values = flat[chosen], _take(values, chosen)
    keep = np.ones(size, dtype=bool)
    keep[flat] = False
    written = _reshape(ScatterAdd.apply(values, shape=(size,), index=(flat,)), old.shape)
    return where(keep.reshape(old.shape), old, written)


def _scatter_view(base_old: Any, view: Any, base: Any) -> Any:
    """The base after a change through ``view``: ``base_old`` with the view's region replaced."""
    from ..functional import where
    from ..ops.movement import ScatterAdd

    positions, _ = _positions(view.data, base.data)
    flat = positions.reshape(-1)
    keep = np.ones(base.data.size, dtype=bool)
    keep[flat] = False
    written = ScatterAdd.apply(_reshape(view, (-1,)), shape=(base.data.size,), index=(flat,))
    return where(keep.reshape(base.shape), base_old, _reshape(written, base.shape))


def _regather(top: Any, view: Any, view_old: Any) -> Any:
    """A view's value after its memory changed: read from ``top`` where it lies in it."""
    from ..functional import where

    positions, inside = _positions(view.data, top.data)
    gathered = _reshape(_take(_reshape(top, (-1,)), positions.reshape(-1)), view.shape)
    return gathered if inside.all() else where(inside, gathered, view_old)


# ----------------------------------------------------------------------------- rebase
def _snapshot(t: Any) -> Any:
    """A private Tensor with a copy of ``t``'s values and ``t``'s history."""
    s = _new_tensor(type(t))
    s.data = t.data.copy()
    s._ctx = ctx = t._ctx
    s._requires_grad = t._requires_grad
    if ctx is not None and ctx.saved:  # the op that made t saved its output: keep the copy
        ctx.saved = tuple(s.data if v is t.data else v for v in ctx.saved)
    return s


def _adopt(target: Any, new: Any, old: Any, epoch: int) -> None:
    """Give ``target`` the history of ``new`` (its values are already in target's memory);
    ops recorded before ``epoch`` keep using ``old``."""
    ctx = new._ctx
    target._ctx = ctx
    target._requires_grad = new._requires_grad
    if ctx is not None:
        ctx._epoch = epoch
        if ctx.saved:
            ctx.saved = tuple(target.data if v is new.data else v for v in ctx.saved)
    rebases = target._rebases
    if rebases is None:
        rebases = target._rebases = []
    rebases.append((epoch, old))


def _conform(new: Any, target: Any, op: str, casting: str) -> Any:
    if new.shape != target.shape:
        raise ValueError(
            f"{op}: the result has shape {new.shape}, but the tensor changed in place has shape "
            f"{target.shape}; an in-place op cannot change the shape (write z = z + b instead)"
        )
    if new.dtype != target.dtype:
        if not np.can_cast(new.dtype, target.dtype, casting=casting):
            raise TypeError(
                f"{op}: cannot store a {new.dtype} result in a tensor of dtype {target.dtype} "
                f"in place (numpy's '{casting}' casting rule); convert first"
            )
        new = new.astype(target.dtype)
    return new


def rebase(
    target: Any, op: str, compute: Callable[..., Any], operands: Iterable[Any] = (),
    casting: str = "same_kind",
) -> Any:
    """Change ``target`` in place to ``compute(old, *operands)`` with its graph rebased.

    ``compute`` builds the new value out of place from a snapshot of the old one (operands
    that are ``target`` itself, or the tensor it views, are replaced by their snapshots).
    """
    Tensor = _function.Tensor
    if target._ctx is None and target._requires_grad:
        raise RuntimeError(LEAF_MESSAGE.format(op=op))
    if not target.data.flags.writeable:
        raise RuntimeError(
            f"{op}: this tensor's memory is read-only (a broadcast view made by expand() or "
            "broadcast_to(), where one memory location stands for many elements); clone() it "
            "before changing it in place"
        )
    base = view_base(target)
    if base is not None and base._ctx is None and base._requires_grad:
        raise RuntimeError(VIEW_OF_LEAF_MESSAGE.format(op=op))
    top = target if base is None else base
    family = [v for v in _live_views(top) if v is not target]

    old = _snapshot(target)
    base_old = None if base is None else _snapshot(base)
    family_old = [(v, _snapshot(v)) for v in family]
    swap = {id(target): old}
    if base is not None:
        swap[id(base)] = base_old
    args = [swap.get(id(o), o) if isinstance(o, Tensor) else o for o in operands]

    prev = flags.grad_enabled
    flags.grad_enabled = True
    first = _function._next_seq()  # the ops this change records are numbered after it
    try:
        new = _conform(compute(old, *args), target, op, casting)
        np.copyto(target.data, new.data, casting="unsafe")
        epoch = versions.bump(target.data, op)
        _adopt(target, new, old, epoch)
        if base is not None:
            _adopt(base, _scatter_view(base_old, target, base), base_old, epoch)
        for v, v_old in family_old:
            _adopt(v, _regather(top, v, v_old), v_old, epoch)
    finally:
        flags.grad_enabled = prev
    _mark_write(op, first, [target, *([] if base is None else [base]), *family])
    return target


def _mark_write(op: str, first: int, changed: list) -> None:
    """Tag the new nodes of the tensors one in-place change gave a new history with
    ``(op, first)``: the ops recorded for it are those numbered after ``first`` that lead to
    them. Drawings show them as one box (``viz.collapse.group_writes``), not as the where,
    scatter and reshape ops that implement, say, ``z[mask] = 0``."""
    for t in changed:
        ctx = t._ctx
        if ctx is not None and ctx._seq > first:  # (not an older node compute returned)
            ctx._write = (op, first)


# ----------------------------------------------------------------------------- engine side
def resolve_parents(ctx: Any) -> tuple:
    """``ctx.parents`` as they were when ``ctx`` was recorded: a parent changed in place later
    is replaced by its snapshot from before the change (done once; the result is stored)."""
    Tensor = _function.Tensor
    epoch = ctx._epoch
    changed = False
    parents = []
    for p in ctx.parents:
        if isinstance(p, Tensor):
            rebases = p._rebases
            if rebases:
                for when, old in rebases:
                    if when > epoch:
                        p = old
                        changed = True
                        break
        parents.append(p)
    if changed:
        ctx.parents = tuple(parents)
    return ctx.parents
