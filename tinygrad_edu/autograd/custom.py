"""PyTorch's ``torch.autograd.Function``: a custom op whose ``forward`` and ``backward`` run on
Tensors, so that code written for PyTorch ports by renaming the import.

``tinygrad_edu.Function`` (the library's own primitives) runs ``forward`` on numpy arrays;
``tinygrad_edu.autograd.Function`` is PyTorch's contract, built on it:

* ``forward(ctx, *args)`` gets the arguments as they were passed (Tensors stay Tensors) and
  runs without recording; or, PyTorch's second style, ``forward(*args)`` plus
  ``setup_context(ctx, inputs, output)``;
* it may return one Tensor or a tuple (integer outputs, and those passed to
  ``ctx.mark_non_differentiable``, get no gradient);
* ``backward(ctx, *grad_outputs)`` gets one gradient Tensor per output (zeros for an output
  that got none) and returns one gradient, or ``None``, per argument of ``forward``;
* ``ctx.save_for_backward(*tensors)`` / ``ctx.saved_tensors``, ``ctx.needs_input_grad``,
  other values as attributes of ``ctx``; ``@once_differentiable`` on ``backward``.

The result is an ordinary graph node of the engine (``grad_fn`` prints ``<MyExpBackward>``):
gradients are checked for shape and count with the function's name, the in-place check
covers what was saved, and ``create_graph=True`` differentiates ``backward`` itself.

>>> import tinygrad_edu as tg
>>> class MyExp(tg.autograd.Function):
...     @staticmethod
...     def forward(ctx, i):
...         result = i.exp()
...         ctx.save_for_backward(result)
...         return result
...     @staticmethod
...     def backward(ctx, grad_output):
...         (result,) = ctx.saved_tensors
...         return grad_output * result
>>> x = tg.tensor([0.0, 1.0], requires_grad=True)
>>> y = MyExp.apply(x)
>>> y.grad_fn
<MyExpBackward>
>>> y.sum().backward()
>>> x.grad
tensor([1.      , 2.718282])
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import function as _function
from .function import Context
from .grad_mode import flags

_Core = _function.Function


class FunctionCtx(Context):
    """The ``ctx`` of a :class:`Function`: PyTorch's ``save_for_backward``,
    ``saved_tensors``, ``needs_input_grad``, ``mark_non_differentiable``, ``mark_dirty`` and
    ``set_materialize_grads``; any other value may be kept as an attribute."""

    __slots__ = ()
    _n_saved = 0
    _outputs_info: tuple = ()

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep Tensors (or ``None``) for ``backward``; read them with ``saved_tensors``."""
        Tensor = _function.Tensor
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"{self.name}: save_for_backward can only save tensors (or None), but "
                    f"argument {i} is a {type(t).__name__}; keep other values as attributes "
                    f"(ctx.value = value)"
                )
        # the arrays too: the engine's in-place check reads them (and an in-place change of a
        # saved output moves its array to a copy of the old values; see saved_tensors)
        self.saved = (*tensors, *(None if t is None else t.data for t in tensors))
        self._n_saved = len(tensors)

    @property
    def saved_tensors(self) -> tuple:
        """What ``forward`` saved, as Tensors."""
        saved = self.saved
        if saved is None:
            return Context.saved_tensors.fget(self)  # raises: backward freed them
        if self._tensor_mode and self.__dict__.get("_intermediates"):
            warnings.warn(_intermediates_message(self), UserWarning, stacklevel=2)
        n = self._n_saved
        Tensor = _function.Tensor
        return tuple(t if t is None or t.data is a else Tensor._wrap(a)
                     for t, a in zip(saved[:n], saved[n:]))

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """Outputs that get no gradient (indices, masks): they do not require grad."""
        self.__dict__["_non_differentiable"] = {id(t) for t in tensors}

    def mark_dirty(self, *tensors: Any) -> None:
        """Not supported: say how to write the op without changing an input in place."""
        raise NotImplementedError(
            f"{self.name}: ctx.mark_dirty (a custom Function that changes an input in place) is "
            "not supported by tinygrad_edu; return a new tensor from forward instead (e.g. "
            "x * 2 instead of x.mul_(2)), or change the tensor in place after the call, where "
            "the engine rebases its graph"
        )

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for PyTorch code, without effect: an output that got no gradient always
        gets zeros in ``backward`` (PyTorch's default), never None; a backward written to
        handle None gives the same result with zeros, its gradient being linear in them."""


def _intermediates_message(ctx: FunctionCtx) -> str:
    shapes = ", ".join(f"{tuple(t.shape)} {t.dtype}" for t in ctx._intermediates)
    return (
        f"{ctx.name} saved a tensor computed inside forward ({shapes}), neither an input nor "
        "an output. forward runs without recording, so with create_graph=True the second "
        "derivative does not see how that tensor depends on the inputs, and may be wrong. Save "
        "the inputs and recompute it in backward, or return it as an output (PyTorch's docs on "
        "double backward say the same)."
    )


class Function:
    """Base class of custom ops with PyTorch's contract (see the module docstring).

    Subclass it with static ``forward`` and ``backward`` and call ``YourOp.apply(*args)``.
    """

    _node: type  # the engine's Function made for each subclass (see _node_class)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._node = _node_class(cls)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            f"{type(self).__name__}()(...) is the legacy style of autograd functions; call the "
            f"static methods on the class: {type(self).__name__}.apply(...)"
        )

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "a custom autograd Function must define a static forward(ctx, *inputs)"
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
        """PyTorch's second style: ``forward(*inputs)`` without ctx, then this."""

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(
            "a custom autograd Function must define a static backward(ctx, *grad_outputs) to "
            "be used in backward()"
        )

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise NotImplementedError(
            "forward-mode AD (jvp) is not supported by tinygrad_edu; "
            "tinygrad_edu.autograd.functional.jvp computes a Jacobian-vector product in "
            "reverse mode"
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` without recording, then record one node for all the outputs."""
        if flags.tracer is not None:
            flags.tracer.refuse(f"it calls the custom autograd Function {cls.__name__}")
        Tensor = _function.Tensor
        split = cls.setup_context is not Function.setup_context
        if split:  # as PyTorch: setup_context sees every argument, defaults included
            bound = inspect.signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, {}
        ctx = cls._node._backward_cls()
        ctx.saved = ()
        needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        record = flags.grad_enabled and any(needs)
        ctx.needs_input_grad = needs if record else (False,) * len(args)
        prev = flags.grad_enabled
        flags.grad_enabled = False
        try:
            if split:
                out = cls.forward(*args)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        finally:
            flags.grad_enabled = prev
        if flags.anomaly:  # where the node was made, for an anomaly found in its backward
            ctx.created_at = _function._user_frame()
        return _record_outputs(cls, ctx, args, out, record)


def _as_output(cls: type, value: Any) -> Any:
    """An output of forward as a Tensor (a numpy result is wrapped: its gradient must not be
    lost); other Python values are returned as they are, as in PyTorch."""
    if isinstance(value, np.ndarray | np.generic):
        return _function.Tensor._wrap(np.asarray(value))
    return value


def _record_outputs(cls: type, ctx: FunctionCtx, args: tuple, out: Any, record: bool) -> Any:
    """Make the outputs of ``forward`` the outputs of one graph node ``ctx``.

    One differentiable output is the node's own output. Several are packed into one hidden
    1-D tensor (the node's output), each output a part of it, so that ``backward`` runs once
    with the gradients of all of them (zeros for those that got none)."""
    Tensor = _function.Tensor
    several = isinstance(out, tuple)
    outs = [_as_output(cls, o) for o in (out if several else (out,))]
    skip = ctx.__dict__.get("_non_differentiable", ())
    arg_ids = {id(a) for a in args}
    seen: set[int] = set()
    diff = []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            continue
        differentiable = record and o.data.dtype.kind in "fc" and id(o) not in skip
        if differentiable and o.data.dtype.kind == "c":
            _function.complex_refused(cls.__name__, args)
        if id(o) in arg_ids or id(o) in seen or o._ctx is not None or o._requires_grad:
            o = outs[i] = Tensor._wrap(o.data)  # an input or a value from outside: an alias
        seen.add(id(o))
        if differentiable:
            diff.append(i)
    if diff:
        _find_intermediates(ctx, args, out if several else (out,), outs)
        ctx._outputs_info = tuple((o.shape, o.dtype) if isinstance(o, Tensor) else None
                                  for o in outs)
        ctx.parents = args
        ctx._epoch = flags.inplace_epoch
        if len(diff) == 1:
            ctx.__dict__["_parts"] = {diff[0]: None}
            _attach(outs[diff[0]], ctx)
        else:
            _pack(cls, ctx, [outs[i] for i in diff], diff)
    return tuple(outs) if several else outs[0]


def _find_intermediates(ctx: FunctionCtx, *known: Any) -> None:
    """Remember the saved float tensors that are neither inputs nor outputs (see
    ``saved_tensors``)."""
    n = ctx._n_saved
    if not n:
        return
    ids = {id(t) for group in known for t in group}
    found = [t for t in ctx.saved[:n]
             if t is not None and id(t) not in ids and t.data.dtype.kind in "fc"]
    if found:
        ctx.__dict__["_intermediates"] = found


def _attach(t: Any, ctx: Context) -> None:
    """Make ``t`` the output of the recorded node ``ctx``."""
    ctx._seq = _function._next_seq()
    t._ctx = ctx
    t._requires_grad = True


def _pack(cls: type, ctx: FunctionCtx, outs: list, positions: list) -> None:
    Tensor = _function.Tensor
    dtype = np.result_type(*(o.data.dtype for o in outs))
    packed = Tensor._wrap(np.concatenate([o.data.ravel().astype(dtype) for o in outs]))
    _attach(packed, ctx)
    parts = {}
    start = 0
    for pos, o in zip(positions, outs):
        stop = start + o.data.size
        parts[pos] = (start, stop)
        part = cls._node._part.apply(packed, start, stop, o.shape)
        _attach(o, part._ctx)  # the output keeps its identity (forward may have saved it)
        start = stop
    ctx.__dict__["_parts"] = parts


def _node_class(user: type) -> type:
    """The engine's Function for the custom Function ``user`` (same name, so that
    ``grad_fn`` prints ``<MyExpBackward>``), and the one taking each output out of the packed
    outputs."""

    def backward(ctx: Any, g: Any) -> tuple:
        return _run_backward(user, ctx, g)

    backward.__doc__ = user.backward.__doc__
    space = {"__module__": user.__module__, "__qualname__": user.__qualname__,
             "backward": staticmethod(backward)}
    node = type(user.__name__, (_Core,), space)
    node._backward_cls = type(f"{user.__name__}Backward", (FunctionCtx,),
                              {"__slots__": (), "_function": node})
    node._part = type(user.__name__, (OutputPart,), {"__module__": user.__module__})
    return node


def _grads_of_outputs(ctx: FunctionCtx, g: Any) -> list:
    """The gradient of each output of forward, from the gradient of the node's output."""
    Tensor = _function.Tensor
    tensor_mode = isinstance(g, Tensor)
    grads = []
    for i, info in enumerate(ctx._outputs_info):
        if info is None:
            grads.append(None)
            continue
        part = ctx._parts.get(i, False)
        if part is False:  # not differentiable: zeros, as PyTorch passes
            gi = np.zeros(info[0], info[1])
            grads.append(Tensor._wrap(gi))
            continue
        gi = g if part is None else g[part[0]:part[1]].reshape(info[0])
        grads.append(gi if tensor_mode else Tensor._wrap(gi))
    return grads


def _run_backward(user: type, ctx: FunctionCtx, g: Any) -> tuple:
    """Call the user's ``backward`` on Tensors and check what it returns."""
    Tensor = _function.Tensor
    tensor_mode = isinstance(g, Tensor)
    result = user.backward(ctx, *_grads_of_outputs(ctx, g))
    grads = result if isinstance(result, tuple | list) else (result,)
    n = len(ctx.parents)
    if len(grads) != n and not (len(grads) > n and all(x is None for x in grads[n:])):
        raise RuntimeError(
            f"{user.__name__}.backward returned {len(grads)} gradient(s), but forward took {n} "
            "argument(s): return one gradient per argument of forward (None for an argument "
            "that needs none, such as a number or a flag)"
        )
    out = []
    for i, (p, need, gp) in enumerate(zip(ctx.parents, ctx.needs_input_grad, grads)):
        if gp is None:
            out.append(None)
            continue
        if not isinstance(p, Tensor):
            raise RuntimeError(
                f"{user.__name__}.backward returned a gradient for argument {i} of forward, a "
                f"{type(p).__name__}, which is not a tensor: return None in its place"
            )
        if isinstance(gp, np.ndarray | np.generic):
            gp = Tensor._wrap(np.asarray(gp))
        if not isinstance(gp, Tensor):
            raise RuntimeError(
                f"{user.__name__}.backward returned a {type(gp).__name__} as the gradient of "
                f"argument {i} of forward (shape {tuple(p.shape)}, {p.dtype}); return a tensor "
                "of that shape, or None"
            )
        if need:
            _check_grad_shape(user, i, gp, p)
        out.append(gp if tensor_mode else gp.data)
    return tuple(out)


def _check_grad_shape(user: type, i: int, grad: Any, inp: Any) -> None:
    """A gradient must have its input's shape, or one that sums to it (broadcast)."""
    gshape, shape = tuple(grad.shape), tuple(inp.shape)
    lead = len(gshape) - len(shape)
    if gshape == shape or (lead >= 0 and all(
            s == 1 or s == gs for s, gs in zip(shape, gshape[lead:]))):
        return
    raise RuntimeError(
        f"{user.__name__}.backward returned a gradient of shape {gshape} ({grad.dtype}) for "
        f"argument {i} of forward, which has shape {shape} ({inp.dtype}): the gradient of an "
        "input has the input's shape"
    )


class OutputPart(_Core):
    """One output of a custom Function with several: its part of the packed outputs."""

    @staticmethod
    def forward(ctx: Context, packed: np.ndarray, start: int, stop: int, shape: tuple) -> Any:
        ctx.part = (start, stop, packed.shape[0])
        return packed[start:stop].reshape(shape)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        start, _, size = ctx.part
        return PlacePart.call(g, start, size), None, None, None


class PlacePart(_Core):
    """``g`` flattened into zeros of length ``size`` at ``start``: OutputPart's gradient."""

    @staticmethod
    def forward(ctx: Context, g: np.ndarray, start: int, size: int) -> np.ndarray:
        ctx.part = (start, start + g.size, g.shape)
        out = np.zeros(size, g.dtype)
        out[start:start + g.size] = g.ravel()
        return out

    @staticmethod
    def backward(ctx: Context, h: Any) -> tuple:
        start, stop, shape = ctx.part
        return OutputPart.call(h, start, stop, shape), None, None


class OnceDifferentiable(_Core):
    """Marks a gradient made by a ``@once_differentiable`` backward: differentiating it
    again raises instead of giving a second derivative that leaves that backward out."""

    @staticmethod
    def forward(ctx: Context, g: np.ndarray, name: str) -> np.ndarray:
        ctx.of = name
        return g

    @staticmethod
    def backward(ctx: Context, h: Any) -> tuple:
        raise RuntimeError(
            f"trying to differentiate twice a function that was marked with "
            f"@once_differentiable ({ctx.of}): its backward was run without a graph, so a "
            "second derivative through it cannot be computed. Remove @once_differentiable "
            "and write backward with differentiable tensor operations."
        )


def once_differentiable(backward: Callable) -> Callable:
    """PyTorch's decorator for a ``backward`` that is not itself differentiable: it runs
    without recording, and a gradient it made refuses to be differentiated again (PyTorch
    gives such a gradient no graph, which can drop a second-derivative term silently)."""

    @functools.wraps(backward)
    def wrapper(ctx: Any, *grads: Any) -> Any:
        if not flags.grad_enabled:
            return backward(ctx, *grads)
        flags.grad_enabled = False
        try:
            result = backward(ctx, *(g.detach() if g is not None else None for g in grads))
        finally:
            flags.grad_enabled = True
        several = isinstance(result, tuple | list)
        marked = tuple(_mark_once(g, ctx.name) for g in (result if several else (result,)))
        return marked if several else marked[0]

    return wrapper


def _mark_once(g: Any, name: str) -> Any:
    Tensor = _function.Tensor
    if not isinstance(g, Tensor) or g.data.dtype.kind not in "fc":
        return g
    leaf = Tensor._wrap(g.data)
    leaf._requires_grad = True
    return OnceDifferentiable.apply(leaf, name)
