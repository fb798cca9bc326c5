"""``Function`` and its ``Context``: how every differentiable operation is defined.

A primitive is a subclass of :class:`Function` with two static methods side by side:

* ``forward(ctx, *inputs, **options)`` runs on **numpy arrays** (tensor arguments arrive as
  their ``.data``; other arguments as given) and returns one array;
* ``backward(ctx, grad_output)`` returns one gradient per positional input (``None`` where an
  input needs none). It is written with numpy operations. In ordinary backward passes it runs on
  arrays; with ``create_graph=True`` the same code runs on Tensors (through numpy's dispatch
  protocols), so the gradient is itself differentiable.

The engine sums a gradient whose shape was broadcast back to the input's shape, and casts it
to the input's dtype: a backward rule never un-broadcasts by hand.

The library's own primitives use exactly this mechanism, and so can users:

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> class Cube(tg.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, grad):
...         (x,) = ctx.saved_tensors
...         return grad * 3 * x ** 2
>>> x = tg.tensor([1.0, 2.0], requires_grad=True)
>>> Cube.apply(x).sum().backward()
>>> x.grad
tensor([ 3., 12.])
"""

from __future__ import annotations

import itertools
import os
import traceback
from typing import Any, NoReturn

import numpy as np

from .grad_mode import AnomalyError, flags

# Bound by tinygrad_edu.tensor once the Tensor class exists (it imports this module).
Tensor: Any = None


class Context:
    """The node of the graph a Function call leaves behind (what PyTorch calls ``grad_fn``).

    Holds the inputs (``parents``), what ``forward`` saved, and which inputs need a gradient.
    Any other attribute may be set on it in ``forward`` (``ctx.axis = axis``).
    """

    # Set on every recorded call; the rarer fields below are class-level defaults that an
    # instance overrides in its __dict__ only when needed (keeps the per-op cost low).
    __slots__ = ("__dict__", "_epoch", "_seq", "needs_input_grad", "parents", "saved")
    _function: type[Function]
    _tensor_mode = False
    _output = None
    created_at = None

    @property
    def _freed(self) -> bool:
        """Whether backward has freed the saved values (``saved`` is then None)."""
        return self.saved is None

    @property
    def name(self) -> str:
        """The op's name, e.g. ``"Mul"``."""
        return self._function.__name__

    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays (or any values) for ``backward``; read them back with ``saved_tensors``."""
        self.saved = values

    @property
    def saved_tensors(self) -> tuple:
        """What ``forward`` saved: arrays, or Tensors when the backward builds a graph."""
        if self.saved is None:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (op {self.name}): its "
                "saved values were freed after the first backward. Pass retain_graph=True to "
                "the first backward() if you need to call it twice."
            )
        if not self._tensor_mode:
            return self.saved
        return tuple(self._as_graph_value(v) for v in self.saved)

    def _as_graph_value(self, value: Any) -> Any:
        """Map a saved array back to the Tensor it came from (input or output of this op)."""
        if not isinstance(value, np.ndarray):
            return value
        for p in self.parents:
            if isinstance(p, Tensor) and p.data is value:
                return p
        out = self._output
        if out is not None and out.data is value:
            return out
        return value  # an intermediate of forward: a constant for the gradient's graph

    @property
    def next_functions(self) -> tuple:
        """The nodes of the inputs, as in PyTorch: ``(ctx or None, 0)`` per input."""
        return tuple(((p._ctx if isinstance(p, Tensor) else None), 0) for p in self.parents)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    @property
    def _saved_self(self) -> Any:
        """PyTorch's name for a saved first input: that input itself."""
        return _saved_input(self, 0, "_saved_self")

    @property
    def _saved_other(self) -> Any:
        """PyTorch's name for a saved second input: that input itself."""
        return _saved_input(self, 1, "_saved_other")

    @property
    def _saved_result(self) -> Any:
        """PyTorch's name for a saved output: a Tensor of its values."""
        own = {id(getattr(p, "data", None)) for p in self.parents}
        found = [v for v in self.saved or () if isinstance(v, np.ndarray) and id(v) not in own]
        if len(found) != 1:
            raise _no_saved(self, "_saved_result")
        return Tensor._wrap(found[0])


_new_tensor = object.__new__
_ndarray = np.ndarray
_generic = np.generic
_FLOAT32 = np.dtype(np.float32)
_FLOAT64 = np.dtype(np.float64)
# needs_input_grad of ops of one to three inputs that record nothing, and of a recorded
# one-input op
_NOT_NEEDED_1 = (False,)
_NOT_NEEDED_2 = (False, False)
_NOT_NEEDED_3 = (False, False, False)
_NEEDED_1 = (True,)
# Creation numbers of recorded nodes: a node's inputs were all made before it, so backward may
# run the nodes in decreasing creation order (see ``engine.backward_order``).
_next_seq = itertools.count(1).__next__


def _saved_input(ctx: Context, i: int, name: str) -> Any:
    parents = ctx.parents
    if i < len(parents) and isinstance(parents[i], Tensor) and any(
            v is parents[i].data for v in ctx.saved or ()):
        return parents[i]
    raise _no_saved(ctx, name)


def _no_saved(ctx: Context, name: str) -> AttributeError:
    state = ("freed by backward" if ctx.saved is None
             else _describe_inputs(ctx.saved) or "nothing")
    return AttributeError(
        f"{type(ctx).__name__} has no {name}: tinygrad_edu does not name saved values as "
        f"PyTorch does; grad_fn.saved_tensors holds what {ctx.name} saved ({state}), and "
        "grad_fn.next_functions its inputs' nodes"
    )


def _describe_inputs(args: tuple) -> str:
    parts = []
    for a in args:
        if isinstance(a, Tensor | np.ndarray):
            parts.append(f"{tuple(a.shape)} {a.dtype}")
        else:
            parts.append(type(a).__name__)
    return ", ".join(parts)


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _user_frame() -> str:
    """The innermost stack frame outside tinygrad_edu: where the user created the op."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f'File "{frame.filename}", line {frame.lineno}, in {frame.name}: {frame.line}'
    return "(created inside tinygrad_edu)"


class Function:
    """Base class of differentiable operations (``torch.autograd.Function`` style).

    Subclass it, write static ``forward`` and ``backward``, call ``YourOp.apply(*inputs)``.
    See the module docstring for the contract and an example.
    """

    _backward_cls: type[Context]
    # True when backward returns new arrays that nothing else refers to, one per input (the
    # results of products, say, never ``g`` itself or a view of it): the engine may then make
    # a leaf's .grad from such an array without copying it. Internal; off by default.
    _fresh_grads = False
    # Names of ctx attributes holding arrays that backward reads (an index, say): the engine
    # checks them, with what was saved, for in-place changes made after the op was recorded.
    _guarded_attrs: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._backward_cls = type(
            f"{cls.__name__}Backward", (Context,), {"__slots__": (), "_function": cls}
        )

    @staticmethod
    def forward(ctx: Context, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError("a Function must define a static forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx: Context, grad_output: Any) -> Any:
        raise NotImplementedError("a Function must define a static backward(ctx, grad_output)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` on the inputs' arrays and record the op if any input requires grad."""
        # The hot path of every op: one pass over the arguments (unrolled for one, two and
        # three inputs, most ops, whose forward is then called without packing a tuple, and
        # without ** when there are no options: that call costs even with an empty dict), no
        # per-op work that is not needed (anomaly checks only when enabled, the in-place epoch
        # a plain integer).
        ctx = cls._backward_cls()
        ctx.saved = ()
        n = len(args)
        # forward's errors get the op's name and the inputs' shapes (the argument handling
        # around the calls raises none of these)
        try:
            if n == 2:
                a, b = args
                if isinstance(a, Tensor):
                    ra = a._requires_grad
                    a = a._data
                else:
                    ra = False
                if isinstance(b, Tensor):
                    rb = b._requires_grad
                    b = b._data
                else:
                    rb = False
                record = (ra or rb) and flags.grad_enabled
                ctx.needs_input_grad = (ra, rb) if record else _NOT_NEEDED_2
                out = cls.forward(ctx, a, b, **kwargs) if kwargs else cls.forward(ctx, a, b)
            elif n == 1:
                a = args[0]
                if isinstance(a, Tensor):
                    record = a._requires_grad and flags.grad_enabled
                    a = a._data
                else:
                    record = False
                ctx.needs_input_grad = _NEEDED_1 if record else _NOT_NEEDED_1
                out = cls.forward(ctx, a, **kwargs) if kwargs else cls.forward(ctx, a)
            elif n == 3:  # Linear and convolutions with a bias, where, clip
                a, b, c = args
                if isinstance(a, Tensor):
                    ra = a._requires_grad
                    a = a._data
                else:
                    ra = False
                if isinstance(b, Tensor):
                    rb = b._requires_grad
                    b = b._data
                else:
                    rb = False
                if isinstance(c, Tensor):
                    rc = c._requires_grad
                    c = c._data
                else:
                    rc = False
                record = (ra or rb or rc) and flags.grad_enabled
                ctx.needs_input_grad = (ra, rb, rc) if record else _NOT_NEEDED_3
                out = cls.forward(ctx, a, b, c, **kwargs) if kwargs else cls.forward(ctx, a, b, c)
            else:
                arrays = []
                marks = []
                record = False
                for a in args:
                    if isinstance(a, Tensor):
                        arrays.append(a._data)
                        if a._requires_grad:
                            record = True
                            marks.append(True)
                        else:
                            marks.append(False)
                    else:
                        arrays.append(a)
                        marks.append(False)
                record = record and flags.grad_enabled
                ctx.needs_input_grad = tuple(marks) if record else (False,) * n
                out = cls.forward(ctx, *arrays, **kwargs)
        except (ValueError, IndexError, TypeError, AttributeError) as e:
            _forward_error(cls, e, args)
        if type(out) is not _ndarray:
            out = _fix_output(cls, ctx, out)
        t = _new_tensor(Tensor)
        t._data = out
        # float32 and float64 (numpy's dtype singletons) by identity; then any float; complex
        # results are refused (their gradients would need PyTorch's conjugate convention)
        if record and ((dt := out.dtype) is _FLOAT32 or dt is _FLOAT64 or dt.kind == "f" or (
                dt.kind == "c" and complex_refused(cls.__name__, args))):
            t._requires_grad = True
            t._ctx = ctx
            ctx.parents = args
            ctx._epoch = flags.inplace_epoch  # for the in-place check in backward
            ctx._seq = _next_seq()
        else:
            t._requires_grad = False
            t._ctx = None
        if flags.slow:  # anomaly detection, or a step being captured
            if flags.anomaly:
                _check_forward(cls, ctx, args, out)
            if flags.tracer is not None:
                flags.tracer.record(cls, ctx, args, kwargs, t)
        return t

    @classmethod
    def call(cls, *args: Any, **kwargs: Any) -> Any:
        """``apply`` on Tensors, plain ``forward`` on arrays (no Tensor, no graph).

        Backward rules use this to call another primitive so that the same rule runs on arrays
        in an ordinary backward and builds a graph under ``create_graph=True``.
        """
        for a in args:
            if isinstance(a, Tensor):
                return cls.apply(*args, **kwargs)
        ctx = cls._backward_cls()  # a node that records nothing, as apply's unrecorded ones
        ctx.saved = ()
        ctx.needs_input_grad = (False,) * len(args)
        return cls.forward(ctx, *args, **kwargs)


def complex_refused(name: str, args: tuple) -> NoReturn:
    """An op would record a complex result computed from tensors that require grad: refuse,
    rather than give gradients without PyTorch's conjugate (Wirtinger) convention."""
    raise TypeError(
        f"{name}: its result is complex (inputs: {_describe_inputs(args)}) and computed from "
        "tensors that require grad; tinygrad_edu does not differentiate complex values "
        "(PyTorch's gradients of them follow a conjugate convention it does not implement). "
        "Work with the real and imaginary parts as real tensors, or detach() first."
    )


def _forward_error(cls: type[Function], e: Exception, args: tuple) -> NoReturn:
    """Re-raise an error of ``forward`` with the op's name and its inputs' shapes."""
    if getattr(e, "named_op", False):  # its message already names the function
        raise e
    if isinstance(e, AttributeError):
        if "numpy.ndarray" not in str(e):
            raise e
        raise AttributeError(
            f"{cls.__name__}.forward: {e}. A tinygrad_edu.Function runs forward and backward on "
            "numpy arrays (np.exp(x), x.T, x @ w). For PyTorch's custom Function, whose forward "
            "and backward get Tensors (i.exp(), x.mm(w.t())), subclass "
            "tinygrad_edu.autograd.Function (torch.autograd.Function) instead."
        ) from None
    kind = next(k for k in (IndexError, ValueError, TypeError) if isinstance(e, k))
    raise kind(f"{cls.__name__}: {e} (inputs: {_describe_inputs(args)})") from None


def _fix_output(cls: type[Function], ctx: Context, raw: Any) -> np.ndarray:
    """``forward`` returned something other than an array (0-d math gives numpy scalars, as
    every loss does): make it one, and save that array in place of the scalar."""
    # a numpy scalar's own __array__ gives np.asarray's 0-d array, without the dispatch
    out = raw.__array__() if isinstance(raw, _generic) else _as_output_array(cls, raw)
    saved = ctx.saved
    for s in saved:
        if s is raw:
            ctx.saved = tuple(out if v is raw else v for v in saved)
            break
    return out


def _as_output_array(cls: type[Function], out: Any) -> np.ndarray:
    if isinstance(out, Tensor):
        return out.data
    if isinstance(out, tuple | list):
        raise TypeError(
            f"{cls.__name__}.forward returned {len(out)} values; a Function has exactly one "
            "output array. Write one Function per output."
        )
    arr = np.asarray(out)
    if arr.dtype == object:
        raise TypeError(f"{cls.__name__}.forward must return a numpy array, got {type(out)!r}")
    return arr


def _check_forward(cls: type[Function], ctx: Context, args: tuple, out: np.ndarray) -> None:
    """Anomaly mode: remember where the op was made; fail if it is the first to make inf/nan."""
    ctx.created_at = _user_frame()
    if out.dtype.kind not in "fc" or np.isfinite(out).all():
        return
    for a in args:
        arr = a.data if isinstance(a, Tensor) else a
        if isinstance(arr, np.ndarray) and arr.dtype.kind in "fc" and not np.isfinite(arr).all():
            return  # not this op's doing: an input was already non-finite
    raise AnomalyError(
        f"{cls.__name__} produced inf/nan in forward (output shape {out.shape}, {out.dtype}) "
        f"from inputs of shape {', '.join(str(np.shape(getattr(a, 'data', a))) for a in args)}"
        f"\nthe op was created at:\n  {ctx.created_at}"
    )


def __getattr__(name: str) -> Any:
    """PyTorch's ``torch.autograd.function`` names for custom Functions (``from
    torch.autograd.function import once_differentiable``), from :mod:`.custom`."""
    if name in ("once_differentiable", "FunctionCtx"):
        from . import custom

        return getattr(custom, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
