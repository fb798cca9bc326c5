"""The reverse-mode engine: topological order, gradient propagation, ``grad()``.

No walk of the graph recurses: nodes run in decreasing creation order off a heap
(:func:`backward_order`), so a chain of a million ops backpropagates like a chain of ten. A
plain ``backward()`` walks and propagates in one loop. In-place changes are found cheaply: every
in-place op advances a global epoch and stamps the tensor with it, so only a node created in
an earlier epoch than the current one looks at its saved tensors' stamps.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from heapq import heapify, heappop, heappush, heapreplace
from typing import Any

import numpy as np

from . import function as _function
from . import versions
from .function import Context
from .grad_mode import AnomalyError, flags
from .inplace import resolve_parents


def unbroadcast(grad: Any, shape: tuple, op_name: str = "") -> Any:
    """Sum ``grad`` down to ``shape``: the one place where broadcasting is undone.

    Works on arrays and on Tensors (when the backward builds a graph). When the shapes differ
    the result is always a new sum, never a view of ``grad`` (the engine may adopt it as a
    ``.grad`` without a copy).

    >>> import numpy as np
    >>> unbroadcast(np.ones((4, 2, 3)), (2, 1)).tolist()
    [[12.0], [12.0]]
    """
    gshape = grad.shape
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    ok = lead >= 0 and all(s == 1 or s == gs for s, gs in zip(shape, gshape[lead:]))
    if not ok:
        raise RuntimeError(
            f"{op_name or 'backward'}: the gradient has shape {tuple(gshape)}, which cannot be "
            f"summed to the input's shape {tuple(shape)}; the op's backward returned a gradient "
            "of the wrong shape"
        )
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and gshape[lead + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _guarded_arrays(ctx: Context):
    """The arrays a node's backward reads: what it saved and its guarded attributes (an
    index array, say)."""
    for value in ctx.saved:
        yield value
    for name in ctx._function._guarded_attrs:
        value = getattr(ctx, name, None)
        if isinstance(value, tuple):
            yield from value
        else:
            yield value


def _check_versions(ctx: Context) -> None:
    """Fail if memory that backward needs was changed in place after the op was recorded.

    Versions belong to memory (see :mod:`.versions`), so a change through any alias counts:
    a view, ``detach()``, the base of a view, an index array.
    """
    for value in _guarded_arrays(ctx):
        if isinstance(value, np.ndarray) and versions.version(value) > ctx._epoch:
            raise RuntimeError(
                f"one of the tensors needed for the gradient of {ctx.name} (shape "
                f"{tuple(value.shape)}, {value.dtype}) has been modified by an in-place "
                f"operation ({versions.last_writer(value)}) after {ctx.name} was recorded, "
                "through this tensor or another one sharing its memory (a view, detach(), "
                "an index). Do the in-place change before using the tensor, use an "
                "out-of-place op (x = x + y instead of x += y), or clone() the tensor first."
            )


def _check_backward(ctx: Context, grad_out: Any, grads: tuple) -> None:
    """Anomaly mode: fail at the first backward that turns finite gradients into inf/nan."""
    if not np.isfinite(np.asarray(getattr(grad_out, "data", grad_out))).all():
        return
    for i, g in enumerate(grads):
        if g is None:
            continue
        arr = np.asarray(getattr(g, "data", g))
        if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
            where = getattr(ctx, "created_at", None) or "(made before anomaly detection was on)"
            raise AnomalyError(
                f"{ctx.name}Backward produced inf/nan in the gradient of its input {i} "
                f"(shape {arr.shape}) from a finite incoming gradient.\n"
                f"the op was created at:\n  {where}"
            )


def _leaf_accumulate(t: Any, g: Any, create_graph: bool, owned: bool = False) -> None:
    """Add the gradient ``g`` into ``t.grad``: the one place that writes a ``.grad``.

    ``owned``: nothing but this backward refers to the array ``g``, so it may become the new
    ``.grad`` itself; any other array is copied (it may be the caller's, or shared with
    another gradient). Accumulation makes a new array (a ``.grad`` the user kept stays as it
    was). The array is kept as it is in ``t._grad``; ``Tensor.grad`` wraps it in a Tensor
    when first read (see there), so a training step pays for no Tensor per parameter."""
    Tensor = _function.Tensor
    if type(g) is not np.ndarray and isinstance(g, Tensor):
        if create_graph:
            g = g if g.dtype == t.dtype else g.astype(t.dtype)
            old = t.grad
            t._grad = g if old is None else old + g
            return
        g = g.data
    dt = t._data.dtype
    old = t._grad
    if old is None:
        if not owned or type(g) is not np.ndarray or g.dtype is not dt:
            g = np.array(g, dtype=dt)  # a copy: the array may be shared
    else:
        if type(old) is not np.ndarray:
            old = old.data
        # `is`: the common case, where numpy's add is quicker without a dtype argument
        g = np.add(old, g) if old.dtype is dt and g.dtype is dt else np.add(old, g, dtype=dt)
        # what it was added to (not kept alive): optimizers tell a forgotten zero_grad()
        t._grad_base = weakref.ref(old)
    if not g.flags.c_contiguous and t._data.flags.c_contiguous:
        # PyTorch's layout contract: a .grad is laid out as its tensor is. A transposed
        # gradient (the rule of w.T) would make ``w.grad.view(-1)`` a copy, and an in-place
        # change through it (hand-written clipping) would silently miss ``w.grad``.
        g = np.ascontiguousarray(g)
    t._grad = g


def _freed_error(ctx: Context) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time (op {ctx.name}): "
        "the graph was freed by the first backward. Pass retain_graph=True to the "
        "first backward() (or grad()) if you need to differentiate twice."
    )


def backward_order(roots: Sequence[Any]) -> list:
    """Tensors reachable from ``roots`` through inputs that need grad, in the order backward
    processes them: users before their inputs.

    The one order of every backward (the engine's plain and general paths, ``compile_step``'s
    recording, the explorer): recorded nodes by decreasing creation number (a node's inputs
    are always made before it, in-place rebases included), then leaves, in the order they were
    first reached. A heap, never recursion, so a chain of a million ops is like a chain of ten.
    """
    order: list = []
    emit = order.append
    epoch = flags.inplace_epoch
    seen: set[int] = set()
    heap: list = []
    n_leaves = 0
    for t in roots:
        if id(t) in seen:
            continue
        seen.add(id(t))
        ctx = t._ctx
        if ctx is None:
            heap.append((n_leaves, t))
            n_leaves += 1
        else:
            heap.append((-ctx._seq, t))
    heapify(heap)
    while heap:
        t = heappop(heap)[1]
        emit(t)
        ctx = t._ctx
        if ctx is None:
            continue
        if ctx.saved is None:
            raise _freed_error(ctx)
        # an op recorded before an in-place change may refer to a tensor rebased since
        parents = ctx.parents if ctx._epoch == epoch else resolve_parents(ctx)
        for p, need in zip(parents, ctx.needs_input_grad):
            if need and id(p) not in seen:
                seen.add(id(p))
                pctx = p._ctx
                if pctx is None:
                    heappush(heap, (n_leaves, p))
                    n_leaves += 1
                else:
                    heappush(heap, (-pctx._seq, p))
    return order


def topological_order(roots: Sequence[Any]) -> list:
    """:func:`backward_order` reversed: inputs before the ops that use them."""
    order = backward_order(roots)
    order.reverse()
    return order


def run_backward(
    roots: Sequence[Any],
    root_grads: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Any] | None = None,
) -> list | None:
    """Propagate ``root_grads`` from ``roots`` to every tensor that requires grad.

    With ``inputs=None`` gradients are accumulated into the ``.grad`` of leaves (and of
    tensors that called ``retain_grad()``); otherwise nothing is accumulated and the gradients
    of ``inputs`` are returned, in order (``None`` for an input that was not reached).
    """
    order = backward_order(roots)
    grads: dict[int, Any] = {}
    for r, g in zip(roots, root_grads):
        k = id(r)
        grads[k] = g if k not in grads else grads[k] + g
    capture = None if inputs is None else {id(t): i for i, t in enumerate(inputs)}
    captured: list = [None] * (0 if inputs is None else len(inputs))

    prev_mode = flags.grad_enabled
    flags.grad_enabled = create_graph
    anomaly = flags.anomaly
    epoch = flags.inplace_epoch
    pop_grad = grads.pop
    get_grad = grads.get
    owned: set[int] = set()  # gradients (by tensor id) that only this backward refers to
    own = owned.add
    ctx, in_grads = None, ()  # (for the error message of a gradient that is not an array)
    try:
        for t in order:
            g = pop_grad(id(t), None)
            ctx = t._ctx
            if g is None:  # no gradient reached this tensor (all its users returned None)
                if ctx is not None and not retain_graph:
                    ctx.saved = None  # frees the saved arrays; marks the node as freed
                continue
            if t._hooks:
                g = _run_hooks(t, g)
            if capture is not None:
                i = capture.get(id(t))
                if i is not None:
                    captured[i] = g
            elif ctx is None or t._retains_grad:
                _leaf_accumulate(t, g, create_graph, not t._hooks and id(t) in owned)
                if t._hooks and ctx is None:
                    _run_post_accumulate_hooks(t)
            if ctx is None:
                continue
            parents = ctx.parents
            if ctx._epoch != epoch:
                _check_versions(ctx)
            if create_graph:
                in_grads = _call_backward_graph(ctx, t, g)
            else:
                in_grads = ctx._function.backward(ctx, g)
            if not retain_graph:
                ctx.saved = None
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if len(in_grads) != len(parents):
                _wrong_count(ctx, in_grads)
            if anomaly:
                _check_backward(ctx, g, in_grads)
            fresh = ctx._function._fresh_grads
            for p, need, gp in zip(parents, ctx.needs_input_grad, in_grads):
                if not need or gp is None:
                    continue
                pdata = p._data
                new = fresh
                if gp.shape != pdata.shape:
                    gp = unbroadcast(gp, pdata.shape, ctx.name + "Backward")
                    new = True  # a sum: a new array (or a Tensor, never adopted as an array)
                dt = gp.dtype
                if dt is not pdata.dtype and dt != pdata.dtype:  # `is`: the common case, fast
                    gp = gp.astype(pdata.dtype)
                    new = True
                k = id(p)
                prev = get_grad(k)
                if prev is None:
                    grads[k] = gp
                    if new:
                        own(k)
                else:
                    grads[k] = prev + gp
                    own(k)
    except AttributeError as e:
        _explain_non_array_gradient(e, ctx, in_grads)
        raise
    finally:
        flags.grad_enabled = prev_mode
    return captured if inputs is not None else None


def backward(root: Any, gradient: Any, retain_graph: bool | None, create_graph: bool) -> None:
    """``root.backward(gradient, retain_graph, create_graph)``: accumulate the gradient of
    ``root`` into ``.grad`` of every leaf it depends on (see ``Tensor.backward``)."""
    seed = root_gradient(root, gradient, create_graph, "backward()")
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph or flags._anomaly:
        run_backward([root], [seed], retain_graph, create_graph)
    else:
        _run_plain(root, seed, retain_graph)


def _run_plain(root: Any, seed: Any, retain_graph: bool) -> None:
    """``run_backward`` in the common case (one root, accumulate into ``.grad``, no
    ``create_graph``, no anomaly mode): the walk of :func:`backward_order` fused with the
    propagation, so a node is reached only through a gradient. Same nodes, same order, same
    arithmetic as the general path (``tests/test_engine_plain.py`` checks that the two agree
    bit for bit).

    The next node is the newest of those reached and not yet run. A node that reaches a
    single new one, while no other waits (a chain: most of a net's backward), hands it on
    directly; the heap orders the rest. Leaves come last in that order, in the order they
    were first reached, and push nothing: they wait in a list until every node has run."""
    epoch = flags.inplace_epoch
    grads: dict[int, Any] = {id(root): seed}
    heap: list = []
    if root._ctx is None:
        t = None
        leaves: list = [root]
    else:
        t = root
        leaves = []
    pop_grad = grads.pop
    get_grad = grads.get
    # gradients (by tensor id) that something besides this backward may refer to: most
    # rules return new arrays, so the set of the others is the smaller one to keep
    shared: set[int] = {id(root)}  # the seed may be the caller's array
    share = shared.add
    reach_leaf = leaves.append
    prev_mode = flags.grad_enabled
    flags.grad_enabled = False
    ctx, in_grads = None, ()  # (for the error message of a gradient that is not an array)
    try:
        while t is not None:
            k = id(t)
            g = pop_grad(k)
            ctx = t._ctx
            if ctx.saved is None:
                raise _freed_error(ctx)
            hooks = t._hooks
            if hooks:
                g = _run_hooks(t, g)
            if t._retains_grad:
                _leaf_accumulate(t, g, False, not hooks and k not in shared)
            if ctx._epoch == epoch:
                parents = ctx.parents
            else:
                parents = resolve_parents(ctx)
                _check_versions(ctx)
            fn = ctx._function
            in_grads = fn.backward(ctx, g)
            if not retain_graph:
                ctx.saved = None
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if len(in_grads) != len(parents):
                _wrong_count(ctx, in_grads)
            fresh = fn._fresh_grads
            nxt = None  # the first node reached here first: it may skip the heap
            for p, need, gp in zip(parents, ctx.needs_input_grad, in_grads):
                if not need or gp is None:
                    continue
                pdata = p._data
                new = fresh
                if gp.shape != pdata.shape:
                    gp = unbroadcast(gp, pdata.shape, ctx.name + "Backward")
                    new = True  # a sum: a new array
                dt = gp.dtype
                pdt = pdata.dtype
                if dt is not pdt and dt != pdt:  # `is`: the common case, fast
                    gp = gp.astype(pdt)
                    new = True
                kp = id(p)
                prev = get_grad(kp)
                if prev is None:
                    grads[kp] = gp
                    if not new:
                        share(kp)
                    pctx = p._ctx
                    if pctx is None:
                        reach_leaf(p)
                    elif nxt is None:
                        nxt = p
                        nseq = -pctx._seq
                    else:
                        heappush(heap, (-pctx._seq, p))
                else:
                    grads[kp] = prev + gp  # a new array
                    shared.discard(kp)
            if nxt is None:
                t = heappop(heap)[1] if heap else None
            elif heap and heap[0][0] < nseq:  # a node waiting is newer
                t = heapreplace(heap, (nseq, nxt))[1]
            else:
                t = nxt
        for t in leaves:  # accumulate into .grad
            k = id(t)
            g = pop_grad(k)
            if t._hooks:
                _leaf_accumulate(t, _run_hooks(t, g), False, False)
                _run_post_accumulate_hooks(t)
            elif t._grad is None and type(g) is np.ndarray and g.dtype is t._data.dtype and (
                k not in shared
            ):  # _leaf_accumulate's common case inlined: g becomes the new .grad as it is
                t._grad = g
            else:
                _leaf_accumulate(t, g, False, k not in shared)
    except AttributeError as e:
        _explain_non_array_gradient(e, ctx, in_grads)
        raise
    finally:
        flags.grad_enabled = prev_mode


def _call_backward_graph(ctx: Context, out: Any, g: Any) -> Any:
    """Run a backward rule on Tensors, so that the gradient it returns has a graph."""
    ctx._tensor_mode = True
    ctx._output = out
    try:
        return ctx._function.backward(ctx, g)
    finally:
        del ctx._tensor_mode
        del ctx._output


def _explain_non_array_gradient(e: AttributeError, ctx: Context | None, grads: tuple) -> None:
    """An AttributeError raised by a backward loop itself (not inside a rule or a hook): when
    a rule returned a gradient that is not an array (``return 2.0``, a list), say so."""
    tb = e.__traceback__
    if ctx is None or tb is None or tb.tb_next is not None:
        return
    for i, gp in enumerate(grads):
        if gp is not None and not hasattr(gp, "shape"):
            raise TypeError(
                f"{ctx.name}.backward returned a {type(gp).__name__} as the gradient of its "
                f"input {i}; return a numpy array of that input's shape (for a constant "
                "derivative c: g * c), or None for no gradient"
            ) from None


def _wrong_count(ctx: Context, grads: tuple) -> None:
    if len(grads) == 1 and isinstance(grads[0], list):  # a list is one value, as in PyTorch
        raise RuntimeError(
            f"{ctx.name}.backward returned a list of {len(grads[0])} gradient(s); return them "
            f"as a tuple, one gradient (or None) per input ({len(ctx.parents)} input(s))"
        )
    raise RuntimeError(
        f"{ctx.name}.backward returned {len(grads)} gradient(s), but forward took "
        f"{len(ctx.parents)} input(s): return one gradient (or None) per input"
    )


class PostAccumulateGradHook:
    """A hook of ``register_post_accumulate_grad_hook``: kept with the gradient hooks (so a
    tensor without hooks pays nothing), called with the tensor after its ``.grad`` is
    updated, not with the gradient before."""

    __slots__ = ("hook",)

    def __init__(self, hook: Any) -> None:
        self.hook = hook


def _run_post_accumulate_hooks(t: Any) -> None:
    for hook in list(t._hooks.values()):
        if type(hook) is PostAccumulateGradHook and hook.hook(t) is not None:
            raise RuntimeError(
                f"post-accumulate-grad hook {_hook_name(hook.hook)!r} returned a value; it must "
                "return None (it may change tensor.grad in place)"
            )


def _run_hooks(t: Any, g: Any) -> Any:
    Tensor = _function.Tensor
    is_tensor = isinstance(g, Tensor)
    for hook in t._hooks.values():
        if type(hook) is PostAccumulateGradHook:
            continue
        out = check_hook_result(hook, g, hook(g if is_tensor else Tensor._wrap(g)))
        if out is not None:
            g = out if is_tensor else (out.data if isinstance(out, Tensor) else out)
    return g


def _hook_name(hook: Any) -> str:
    return getattr(hook, "__name__", None) or repr(hook)


def check_hook_result(hook: Any, grad: Any, out: Any) -> Any:
    """What a gradient hook returned, checked: ``None`` (keep the gradient) or a tensor of the
    gradient's shape and dtype, as in PyTorch. The one check for every kind of hook.

    >>> import numpy as np
    >>> def f(g):
    ...     return np.ones(5)
    >>> check_hook_result(f, np.ones(2), f(None))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    RuntimeError: hook 'f' has changed the size of value: expected (2,), got (5,). A hook ...
    """
    if out is None:
        return None
    Tensor = _function.Tensor
    if not isinstance(out, Tensor | np.ndarray):
        raise TypeError(
            f"hook {_hook_name(hook)!r} returned {type(out).__name__}, expected a tensor (the new "
            "gradient) or None (to keep the gradient)"
        )
    what = None
    if tuple(out.shape) != tuple(grad.shape):
        what = f"size of value: expected {tuple(grad.shape)}, got {tuple(out.shape)}"
    elif out.dtype != grad.dtype:
        what = f"type of value: expected {grad.dtype}, got {out.dtype}"
    if what is not None:
        raise RuntimeError(
            f"hook {_hook_name(hook)!r} has changed the {what}. A hook must return a gradient "
            "of the same shape and dtype, or None to keep the gradient."
        )
    return out


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    *,
    materialize_grads: bool = False,
) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    Like ``torch.autograd.grad``. With ``create_graph=True`` the results are differentiable,
    so higher derivatives are ``grad`` of a ``grad``. An input the outputs do not depend on
    is an error, or gets ``None`` with ``allow_unused=True``, or zeros with
    ``materialize_grads=True``.

    >>> import tinygrad_edu as tg
    >>> x = tg.tensor(3.0, requires_grad=True)
    >>> (dy,) = tg.grad(x ** 3, x, create_graph=True)
    >>> (d2y,) = tg.grad(dy, x)
    >>> float(dy), float(d2y)
    (27.0, 18.0)
    """
    Tensor = _function.Tensor
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single_input = isinstance(inputs, Tensor)
    inputs = [inputs] if single_input else list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(
                f"grad(): input {i} does not require grad; call requires_grad_() on it before "
                "computing the outputs"
            )
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, list | tuple):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad(): got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    seeds = [root_gradient(o, g, create_graph, "grad()") for o, g in zip(outputs, grad_outputs)]
    result = run_backward(
        outputs,
        seeds,
        retain_graph=create_graph if retain_graph is None else retain_graph,
        create_graph=create_graph,
        inputs=inputs,
    )
    assert result is not None
    out = []
    for i, g in enumerate(result):
        if g is None and materialize_grads:
            g = np.zeros(inputs[i].data.shape, inputs[i].data.dtype)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad(): input {i} (shape {tuple(inputs[i].shape)}) was not used to compute "
                    "the outputs; pass allow_unused=True to get None for it"
                )
            out.append(None)
        elif isinstance(g, Tensor):
            out.append(g if g.dtype == inputs[i].dtype else g.astype(inputs[i].dtype))
        else:
            out.append(Tensor._wrap(np.array(g, dtype=inputs[i].data.dtype)))
    return tuple(out)


_ONES: dict = {}  # (shape, dtype) -> a read-only array of ones


def cached_ones(shape: tuple, dtype: Any) -> np.ndarray:
    """A read-only array of ones of ``shape`` and ``dtype``, kept for the next call (copying
    it is several times cheaper than ``np.ones`` for the small arrays of backward's seeds and
    of sums written as products). Copy it before handing it to anyone who may write to it.

    >>> import numpy as np
    >>> a = cached_ones((2,), np.float32)
    >>> a is cached_ones((2,), np.float32), a.flags.writeable
    (True, False)
    """
    ones = _ONES.get((shape, dtype))
    if ones is None:
        if len(_ONES) > 64:
            _ONES.clear()
        ones = _ONES[shape, dtype] = np.ones(shape, dtype)
        ones.flags.writeable = False
    return ones


def root_gradient(out: Any, gradient: Any, create_graph: bool, caller: str) -> Any:
    """Check that backward can start at ``out`` and make the seed gradient."""
    Tensor = _function.Tensor
    if not out._requires_grad:
        raise RuntimeError(
            f"{caller}: this tensor (shape {tuple(out.shape)}) does not require grad: none of "
            "the tensors it was computed from has requires_grad=True, or it was computed under "
            "no_grad(). Create the parameters with requires_grad=True."
        )
    values = out._data
    if gradient is None:
        if values.size != 1:
            raise RuntimeError(
                f"{caller}: the output has shape {tuple(out.shape)}, and a gradient can only be "
                "implied for a single-element output. Reduce it first (y.sum() or y.mean()), "
                "or pass gradient=, a tensor of the same shape (ones_like(y) gives the sum)."
            )
        seed = cached_ones(values.shape, values.dtype).copy()
    else:
        seed = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
        if seed.shape != values.shape:
            raise RuntimeError(
                f"{caller}: gradient has shape {seed.shape} but the output has shape "
                f"{values.shape}; they must match"
            )
        seed = seed.astype(values.dtype, copy=False)
    if create_graph:
        if isinstance(gradient, Tensor):
            return gradient
        return Tensor._wrap(seed)
    return seed
