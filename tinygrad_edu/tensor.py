"""``Tensor``: a numpy array that remembers how it was computed, so it can be differentiated.

Every method that computes something calls a primitive from ``tinygrad_edu.ops`` or is built
from them (composites have no backward of their own). Argument names follow PyTorch, and the
numpy spellings are accepted where they differ (``dim``/``axis``, ``keepdim``/``keepdims``).
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import device as _device
from . import dims as _dims
from . import dtypes
from .autograd import api as _api
from .autograd import engine
from .autograd import function as _function
from .autograd import inplace as _inplace
from .autograd import versions as _versions
from .autograd.grad_mode import flags
from .lost_gradient import lost
from .ops import activation as _act
from .ops import elementwise as _ew
from .ops import linalg as _la
from .ops import movement as _mv
from .ops import reduce as _red
from .torch_math import MathMethods, array2string_options, floor_divide
from .torch_shape import ShapeMethods, along

Axis = int | Sequence[int] | None
_new_tensor = object.__new__
_generic = np.generic  # a global read: cheaper than np.generic in the arithmetic dunders
# The commonest ops' ``apply``, bound once: ``_ew.Relu.apply(x)`` builds a new bound method
# at every call (~0.06 µs of a ~1 µs op).
_add, _sub, _mul, _div, _pow = (_ew.Add.apply, _ew.Sub.apply, _ew.Mul.apply, _ew.Div.apply,
                                _ew.Pow.apply)
_matmul, _neg, _exp, _log = _la.MatMul.apply, _ew.Neg.apply, _ew.Exp.apply, _ew.Log.apply
_tanh, _sigmoid, _relu = _ew.Tanh.apply, _ew.Sigmoid.apply, _ew.Relu.apply
_sum, _mean = _red.Sum.apply, _red.Mean.apply


def _axis(t: Tensor, axis: Axis, dim: Axis, op: str) -> int | tuple | None:
    """The dims an op works on (``axis`` or ``dim``), checked against ``t``'s shape."""
    return _dims.normalize_dims(dim if axis is None else axis, t.ndim, op, t.shape)


def _keep(keepdims: bool, keepdim: bool | None) -> bool:
    return bool(keepdims or keepdim)


def _at_index(t: Tensor, index: Tensor, axis: int, keep: bool) -> MinMaxResult:
    """``max(dim)``/``min(dim)``: the values taken at ``index`` (argmax/argmin with
    keepdim), so the gradient goes to that entry alone, as in PyTorch."""
    values = t.clone() if t.ndim == 0 else along(t, index.data, axis)
    if not keep and t.ndim:
        values, index = values.squeeze(axis), index.squeeze(axis)
    return MinMaxResult(values, index)


def _shape_args(shape: tuple) -> tuple:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1 and isinstance(shape[0], list | tuple):
        return tuple(shape[0])
    return tuple(shape)


def _operand(x: Any) -> Any:
    """numpy scalars act like Python scalars (so float32 math stays float32), as in PyTorch."""
    if isinstance(x, _generic):
        return x.item()
    return x


class MinMaxResult(NamedTuple):
    """``(values, indices)`` returned by ``max(dim)`` and ``min(dim)``, as in PyTorch."""

    values: Tensor
    indices: Tensor

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError(
            "max(dim)/min(dim) return (values, indices) as in PyTorch; use .values, or "
            "amax(dim)/amin(dim) for the values alone"
        )


_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed: backward() "
    "does not fill it (it is None). Call .retain_grad() on the tensor before backward() to "
    "keep its gradient, or read the .grad of the leaf (the parameter) instead."
)


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: dict, key: int) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)


class GradDtypeError(TypeError, RuntimeError):
    """A tensor of a dtype without gradients was asked to require them. A TypeError here, and
    a RuntimeError as PyTorch raises, so code written for either catches it."""


class Tensor(ShapeMethods, MathMethods):
    """An n-dimensional array with reverse-mode automatic differentiation.

    ``Tensor(data)`` stores Python data with the default float dtype (float32) and a numpy
    array as it is (same dtype, same memory). Use :func:`tinygrad_edu.tensor` for PyTorch's
    dtype inference (Python ints become int64).

    >>> import tinygrad_edu as tg
    >>> w = tg.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> loss = (w @ tg.Tensor([1.0, 1.0])).sum()
    >>> loss.backward()
    >>> w.grad
    tensor([[1., 1.],
            [1., 1.]])
    """

    # Every op makes a Tensor, so it sets only the three slots below. The rarer fields are
    # class-level defaults that an instance overrides in its __dict__ when needed (a leaf's
    # grad, a version stamp after an in-place change, hooks, retain_grad).
    __slots__ = ("__dict__", "__weakref__", "_ctx", "_data", "_requires_grad")
    __array_priority__ = 1000
    _grad: Tensor | None = None
    _grad_base: Any = None  # a weak reference to the array .grad was last added onto
    # autograd.inplace's: the live views made from this tensor, and its in-place history.
    # Class defaults, read as attributes: reading an instance's __dict__ makes CPython
    # keep it as a real dict, and every attribute access of that tensor ~3x slower.
    _views: Any = None
    _rebases: list | None = None
    _hooks: dict | None = None
    _retains_grad = False
    _view_src: Tensor | None = None  # the tensor whose memory a view method's result shares

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self._data = (
            data.data
            if isinstance(data, Tensor) and dtype is None
            else dtypes.infer_array(
                data.data if isinstance(data, Tensor) else data, dtype, ints_as_float=True
            )
        )
        self._ctx = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, data: np.ndarray) -> Tensor:
        """A constant Tensor around ``data`` (no copy, no checks): for internal use."""
        t = _new_tensor(Tensor)
        t._data = data
        t._ctx = None
        t._requires_grad = False
        return t

    # ----------------------------------------------------------------- attributes
    # ``t.data``: the numpy array of values. A property only for assignment, which takes a
    # Tensor's array as PyTorch's ``p.data = tensor`` does; reading it (a C getter) costs a
    # few ns more than the slot ``_data`` that the per-op code reads.
    data = property(operator.attrgetter("_data"), lambda t, value: _set_data(t, value), doc=(
        "The values, a numpy array. Assigning a Tensor stores its array (PyTorch's ``p.data = "
        "tensor``: no gradient is recorded); assigning anything else but an array is an error."))

    @property
    def requires_grad(self) -> bool:
        """Whether gradients are computed for this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if value and self.data.dtype.kind == "c":
            raise GradDtypeError(
                f"complex tensors ({self.data.dtype}) cannot require gradients in tinygrad_edu: "
                "PyTorch's gradients of complex values follow a conjugate convention that is not "
                "implemented. Keep the real and imaginary parts as two real tensors."
            )
        if value and self.data.dtype.kind not in "fc":
            raise GradDtypeError(
                f"only floating-point tensors can require gradients, and this one is "
                f"{self.data.dtype}: a gradient is a rate of change, which integers do not have. "
                "Convert first, e.g. x = x.float() or tensor(data, dtype=float32)."
            )
        if not value and self._ctx is not None:
            raise RuntimeError(
                "requires_grad cannot be switched off on a tensor computed from others "
                "(a non-leaf); use y = y.detach() to cut it from the graph"
            )
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self (PyTorch's spelling)."""
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (a Tensor of this tensor's shape and dtype), or None.

        Backward keeps a new gradient as a bare array in ``_grad`` (an optimizer reads the
        array, so a training step makes no Tensor per parameter); the first read here wraps
        it, once: ``p.grad is p.grad``, and writing into ``p.grad`` changes what ``step()``
        uses, as in PyTorch."""
        g = self._grad
        if type(g) is np.ndarray:
            g = self._grad = Tensor._wrap(g)
        elif g is None and self._ctx is not None and not self._retains_grad:
            warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad must be a Tensor or None, not {type(value).__name__}: to "
                    "clear gradients set p.grad = None (micrograd's p.grad = 0 does not carry "
                    "over), or call optimizer.zero_grad() / model.zero_grad()"
                )
            if value.shape != self.data.shape:
                raise RuntimeError(
                    f"assigned grad has shape {value.shape}, but the tensor has shape "
                    f"{self.data.shape}; a gradient has its tensor's shape"
                )
            if value.dtype != self.data.dtype:
                raise RuntimeError(
                    f"assigned grad has dtype {value.dtype}, but the tensor has dtype "
                    f"{self.data.dtype}; convert it first (g.to({self.data.dtype}))"
                )
        self._grad = value

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        """True for tensors not computed by a recorded op (parameters, inputs, constants)."""
        return self._ctx is None

    @property
    def grad_fn(self) -> _function.Context | None:
        """The graph node that computed this tensor (``None`` for a leaf)."""
        return self._ctx

    @property
    def device(self) -> _device.device:
        """Always the CPU (``device(type='cpu')``); see :mod:`tinygrad_edu.device`."""
        return _device.CPU

    @property
    def T(self) -> Tensor:
        """All dimensions reversed (a matrix's transpose)."""
        return self.permute(tuple(range(self.ndim - 1, -1, -1)))

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def multinomial(self, num_samples: int, replacement: bool = False, *,
                    generator: Any = None) -> Tensor:
        """Indices drawn from each row's weights; see :func:`tinygrad_edu.multinomial`."""
        from .creation import multinomial

        return multinomial(self, num_samples, replacement, generator=generator)

    nelement = numel  # PyTorch's older name, still in courses: sum(p.nelement() for p in ...)

    def size(self, dim: int | None = None) -> tuple | int:
        """The shape (PyTorch's ``size()``), or the length of one dimension."""
        if dim is None:
            return self.data.shape
        return self.data.shape[_dims.normalize_dim(dim, self.ndim, "size", self.shape)]

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def numpy(self) -> np.ndarray:
        """The underlying numpy array (shares memory; no copy)."""
        return self.data

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item() needs a tensor with exactly one element; this one has shape "
                f"{self.data.shape}. Index or reduce it first."
            )
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Tensor:
        """The same values (same memory), cut from the graph."""
        return Tensor._wrap(self.data)

    def clone(self) -> Tensor:
        """A copy of the values that stays in the graph."""
        return _ew.Clone.apply(self)

    def cpu(self) -> Tensor:
        return self

    def contiguous(self) -> Tensor:
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that has requires_grad=False")
        if self._ctx is not None:
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        """Whether this non-leaf tensor keeps its ``.grad`` (``retain_grad()`` was called)."""
        return self._retains_grad

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle whose ``remove()`` unregisters it.

        >>> import tinygrad_edu as tg
        >>> x = tg.tensor([1.0, 2.0], requires_grad=True)
        >>> h = x.register_hook(lambda g: g * 10)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([20., 40.])
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self._hooks is None:
            self._hooks = {}
        key = max(self._hooks, default=-1) + 1
        self._hooks[key] = hook
        return RemovableHandle(self._hooks, key)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> Any:
        """Call ``hook(tensor)`` after backward has added to this leaf's ``.grad`` (PyTorch's
        hook for an optimizer step fused into backward). Returns a handle with ``remove()``.

        >>> import tinygrad_edu as tg
        >>> w = tg.tensor([1.0, 2.0], requires_grad=True)
        >>> seen = []
        >>> _ = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
        >>> (w * 3).sum().backward()
        >>> seen
        [[3.0, 3.0]]
        """
        if self._ctx is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors (backward does not fill their .grad)")
        return self.register_hook(engine.PostAccumulateGradHook(hook))

    # ----------------------------------------------------------------- autograd
    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate the gradient of this tensor into ``.grad`` of every leaf it depends on
        (of the tensors in ``inputs`` only, when given).

        A single-element tensor needs no ``gradient``; otherwise pass one of its shape. The
        graph is freed afterwards unless ``retain_graph=True``. With ``create_graph=True`` the
        gradients are themselves differentiable (for higher derivatives).

        >>> import tinygrad_edu as tg
        >>> x = tg.tensor(2.0, requires_grad=True)
        >>> (x ** 2).backward()
        >>> x.grad
        tensor(4.)
        """
        if inputs is None:
            engine.backward(self, gradient, retain_graph, create_graph)
        else:
            _api.backward(self, gradient, retain_graph, create_graph, inputs)

    # ----------------------------------------------------------------- printing
    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a 0-d tensor as its number (PyTorch's rule); any other
        shape takes only the empty format (its repr)."""
        if self.data.ndim == 0:
            return format(self.data.item(), spec)
        return object.__format__(self, spec)

    def __repr__(self) -> str:
        body = np.array2string(
            self.data, separator=", ", prefix="tensor(", **array2string_options()
        )
        extras = []
        if self.data.dtype not in (dtypes.get_default_dtype(), np.int64, np.bool_):
            extras.append(f"dtype={self.data.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{type(self._ctx).__name__}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor of shape {self.data.shape} is ambiguous; use "
                ".any() or .all()"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.data)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if self._requires_grad and flags.grad_enabled:  # numpy would drop the gradient
            raise lost("array")
        if dtype is not None:
            return self.data.astype(dtype, copy=bool(copy))
        return self.data.copy() if copy else self.data

    __hash__ = object.__hash__

    # ----------------------------------------------------------------- arithmetic
    def __add__(self, other: Any) -> Tensor:
        if isinstance(other, _generic):
            other = other.item()
        return _add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        if isinstance(other, _generic):
            other = other.item()
        return _add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        if isinstance(other, _generic):
            other = other.item()
        return _sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        if isinstance(other, _generic):
            other = other.item()
        return _sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        if isinstance(other, _generic):
            other = other.item()
        return _mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        if isinstance(other, _generic):
            other = other.item()
        return _mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        if isinstance(other, _generic):
            other = other.item()
        return _div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        if isinstance(other, _generic):
            other = other.item()
        return _div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        if isinstance(other, _generic):
            other = other.item()
        return _pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        if isinstance(other, _generic):
            other = other.item()
        return _pow(other, self)

    def __mod__(self, other: Any) -> Tensor:
        """Python's ``%`` (the sign of the divisor): ``a - floor(a / b) * b``."""
        from .numpy_functions import remainder

        return remainder(self, _operand(other))

    def __rmod__(self, other: Any) -> Tensor:
        from .numpy_functions import remainder

        return remainder(_operand(other), self)

    def __floordiv__(self, other: Any) -> Tensor:
        """Python's ``//`` (integers stay integers); its gradient is zero, as in PyTorch."""
        return floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return floor_divide(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _matmul(other, self)

    def __neg__(self) -> Tensor:
        return _neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ew.Abs.apply(self)

    remainder = __mod__
    mul = __mul__
    pow = __pow__
    matmul = __matmul__
    neg = __neg__

    # comparisons: boolean results, never differentiable
    def _compare(self, other: Any, ufunc: np.ufunc) -> Tensor:
        try:
            return Tensor._wrap(np.asarray(ufunc(self.data, _data(other))))
        except ValueError as e:  # shapes that do not broadcast: say which op and shapes
            name = _COMPARISONS.get(ufunc, ufunc.__name__)
            raise ValueError(
                f"{name}: {e} (inputs: {_describe(self)}, {_describe(other)}); shapes must "
                "broadcast: counted from the last dim, each pair of sizes equal or one of them 1"
            ) from None

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    lt, le, gt, ge, eq, ne = __lt__, __le__, __gt__, __ge__, __eq__, __ne__

    def __and__(self, other: Any) -> Tensor:
        return self._compare(other, np.logical_and if self.dtype == np.bool_ else np.bitwise_and)

    def __or__(self, other: Any) -> Tensor:
        return self._compare(other, np.logical_or if self.dtype == np.bool_ else np.bitwise_or)

    def __invert__(self) -> Tensor:
        return Tensor._wrap(np.asarray(~self.data))

    def logical_not(self) -> Tensor:
        return Tensor._wrap(np.logical_not(self.data))

    def any(
        self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool = False
    ) -> Tensor:
        a = _axis(self, axis, dim, "any")
        keep = _keep(keepdims, keepdim)
        return Tensor._wrap(np.asarray(np.any(self.data, axis=a, keepdims=keep)))

    def all(
        self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool = False
    ) -> Tensor:
        a = _axis(self, axis, dim, "all")
        keep = _keep(keepdims, keepdim)
        return Tensor._wrap(np.asarray(np.all(self.data, axis=a, keepdims=keep)))

    def isnan(self) -> Tensor:
        return Tensor._wrap(np.isnan(self.data))

    def isfinite(self) -> Tensor:
        return Tensor._wrap(np.isfinite(self.data))

    # ----------------------------------------------------------------- in place
    # On a tensor in a recorded graph (or with a value that requires grad) an in-place op is
    # recorded by autograd.inplace: the memory is written, the graph rebased. Otherwise it is
    # a plain numpy write and a version bump.
    def _records_inplace(self, value: Any = None) -> bool:
        if not flags.grad_enabled:
            return False
        return self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)

    def _inplace(self, op: str, ufunc: np.ufunc, other: Any) -> Tensor:
        if self._records_inplace(other):
            # ufunc(old, other) on Tensors dispatches to the differentiable op
            return _inplace.rebase(self, op, ufunc, (other,))
        try:
            ufunc(self.data, _data(other), out=self.data)
        except (TypeError, ValueError) as e:
            kind = TypeError if isinstance(e, TypeError) else ValueError
            raise kind(
                f"{op}: cannot update a tensor of shape {self.shape} and dtype {self.dtype} in "
                f"place with {_describe(other)}: {e}"
            ) from None
        self._bump_version(op)
        return self

    @property
    def _version(self) -> int:
        """The epoch of the last in-place change of this tensor's memory (through any alias;
        see ``autograd.versions``); 0 if never changed."""
        return _versions.version(self.data)

    def _bump_version(self, op: str = "an in-place operation") -> None:
        """Record an in-place change of this tensor's memory (the engine compares it with the
        epoch in which an op saved the memory)."""
        _versions.bump(self.data, op)

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        """``self += alpha * other`` in place."""
        return self._inplace("add_", np.add, other if alpha == 1 else _scaled(other, alpha))

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        """``self -= alpha * other`` in place."""
        return self._inplace("sub_", np.subtract, other if alpha == 1 else _scaled(other, alpha))

    def mul_(self, other: Any) -> Tensor:
        return self._inplace("mul_", np.multiply, other)

    def div_(self, other: Any) -> Tensor:
        return self._inplace("div_", np.divide, other)

    def pow_(self, exponent: Any) -> Tensor:
        return self._inplace("pow_", np.power, exponent)

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace("+=", np.add, other)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace("-=", np.subtract, other)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace("*=", np.multiply, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace("/=", np.divide, other)

    def __ipow__(self, other: Any) -> Tensor:
        return self._inplace("**=", np.power, other)

    def __imod__(self, other: Any) -> Tensor:
        return self._inplace("%=", np.remainder, other)

    def _overwrite(self, op: str, index: Any, value: Any) -> None:
        """``self[index] = value`` in place (numpy's broadcasting; the dtype is kept)."""
        if self._records_inplace(value):
            _inplace.rebase(
                self, op, lambda old, v: _inplace.index_put(old, index, v), (value,), "unsafe"
            )
            return
        try:
            self.data[index] = _data(value)
        except ValueError as e:
            raise ValueError(
                f"{op}: cannot write {_describe(value)} into a tensor of shape {self.shape}: {e}"
            ) from None
        self._bump_version(op)

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src``'s values into this tensor (broadcasting, casting to this dtype)."""
        self._overwrite("copy_", (Ellipsis,), src)
        return self

    def fill_(self, value: float) -> Tensor:
        self._overwrite("fill_", (Ellipsis,), value)
        return self

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        if self._records_inplace():
            return _inplace.rebase(self, "clamp_", lambda old: old.clamp(min, max))
        np.clip(self.data, min, max, out=self.data)
        self._bump_version("clamp_")
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
        """Fill with samples of U(a, b) (used by ``nn.init``)."""
        from .random import numpy_rng

        return self.copy_(numpy_rng(generator).uniform(a, b, size=self.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
        """Fill with samples of N(mean, std²)."""
        from .random import numpy_rng

        return self.copy_(numpy_rng(generator).normal(mean, std, size=self.shape))

    def __setitem__(self, index: Any, value: Any) -> None:
        self._overwrite("__setitem__", _index(index), value)

    # ----------------------------------------------------------------- elementwise math
    def exp(self) -> Tensor:
        return _exp(self)

    def log(self) -> Tensor:
        return _log(self)

    def sqrt(self) -> Tensor:
        return _ew.Sqrt.apply(self)

    def abs(self) -> Tensor:
        return _ew.Abs.apply(self)

    def sin(self) -> Tensor:
        return _ew.Sin.apply(self)

    def cos(self) -> Tensor:
        return _ew.Cos.apply(self)

    def tanh(self) -> Tensor:
        return _tanh(self)

    def sigmoid(self) -> Tensor:
        return _sigmoid(self)

    def relu(self) -> Tensor:
        return _relu(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return _ew.LeakyRelu.apply(self, negative_slope=negative_slope)

    def elu(self, alpha: float = 1.0) -> Tensor:
        return _ew.Elu.apply(self, alpha=alpha)

    def erf(self) -> Tensor:
        return _ew.Erf.apply(self)

    def gelu(self, approximate: str = "none") -> Tensor:
        """GELU: ``x * Φ(x)`` exactly (``approximate='none'``) or with the tanh formula."""
        if approximate == "tanh":
            inner = (self + 0.044715 * self**3) * float(np.sqrt(2 / np.pi))
            return 0.5 * self * (1 + inner.tanh())
        if approximate != "none":
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        return 0.5 * self * (1 + (self * float(1 / np.sqrt(2))).erf())

    def softplus(self, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
        return _ew.Softplus.apply(self, beta=beta, threshold=threshold)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Limit values to ``[min, max]`` (either may be None)."""
        if min is None and max is None:
            raise ValueError("clamp: give at least one of min and max")
        if isinstance(min, Tensor) or isinstance(max, Tensor):  # bounds with a gradient
            out = self if min is None else self.maximum(min)
            return out if max is None else out.minimum(max)
        return _ew.Clamp.apply(self, min=_operand(min), max=_operand(max))

    clip = clamp

    def maximum(self, other: Any) -> Tensor:
        return _ew.Maximum.apply(self, _operand(other))

    def minimum(self, other: Any) -> Tensor:
        return _ew.Minimum.apply(self, _operand(other))

    def square(self) -> Tensor:
        return _mul(self, self)

    def reciprocal(self) -> Tensor:
        return _div(1.0, self)

    def log1p(self) -> Tensor:
        return (self + 1).log()

    def expm1(self) -> Tensor:
        return self.exp() - 1

    def sign(self) -> Tensor:
        """-1, 0 or 1; its gradient is zero."""
        return Rounding.apply(self, fn=np.sign)

    def round(self, decimals: int = 0) -> Tensor:
        """Round to ``decimals``; its gradient is zero (as in PyTorch)."""
        return Rounding.apply(self, fn=np.round, decimals=decimals)

    def floor(self) -> Tensor:
        return Rounding.apply(self, fn=np.floor)

    def ceil(self) -> Tensor:
        return Rounding.apply(self, fn=np.ceil)

    def where(self, condition: Any, other: Any) -> Tensor:
        """``self`` where ``condition`` holds, else ``other`` (PyTorch's method form)."""
        return where(condition, self, other)

    # ----------------------------------------------------------------- dtype
    def astype(self, dtype: Any) -> Tensor:
        """A copy with another dtype; differentiable between floating dtypes."""
        dtype = np.dtype(dtype)
        if dtype == self.data.dtype:
            return self
        return _ew.Cast.apply(self, dtype=dtype)

    def to(self, *args: Any, dtype: Any = None, device: Any = None, **kwargs: Any) -> Tensor:
        """PyTorch's ``to``: a dtype (or a tensor, for its dtype) changes the dtype; a device
        must be the CPU (``"cpu"``, ``tg.device("cpu")``), anything else is refused."""
        _device.check_device(device)
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, _device.device) or (isinstance(a, str) and not _is_dtype(a)):
                _device.check_device(a)
            else:
                dtype = a
        return self if dtype is None else self.astype(dtype)

    def cuda(self, *args: Any, **kwargs: Any) -> Tensor:
        _device.check_device("cuda")
        return self

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def long(self) -> Tensor:
        return self.astype(np.int64)

    def int(self) -> Tensor:
        return self.astype(np.int32)

    def bool(self) -> Tensor:
        return self.astype(np.bool_)

    def type(self, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
        """PyTorch's ``type``: with no argument the legacy type name (``'torch.FloatTensor'``),
        as a string; with a dtype or such a name, the tensor converted to it.

        >>> import tinygrad_edu as tg
        >>> x = tg.ones(2)
        >>> x.type(), x.type(tg.int64).dtype, x.type("torch.LongTensor").type()
        ('torch.FloatTensor', dtype('int64'), 'torch.LongTensor')
        """
        if dtype is None:
            return f"torch.{dtypes.LEGACY_TYPE_NAMES[self.dtype.name]}"
        if isinstance(dtype, str):
            dtype = _dtype_from_type_name(dtype)
        elif isinstance(dtype, Tensor):
            raise TypeError("type(): dtype must be a type, str, or dtype object, got a Tensor; "
                            "to take another tensor's dtype use x.type_as(other) or x.to(other)")
        return self.astype(dtype)

    # ----------------------------------------------------------------- reductions
    def sum(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Sum over ``axis``/``dim`` (all axes by default)."""
        if axis is None and dim is None and not (keepdims or keepdim):
            return _sum(self)  # Sum's defaults: no options to pass (~0.4 µs less)
        a = _axis(self, axis, dim, "sum")
        return _sum(self, axis=a, keepdims=_keep(keepdims, keepdim))

    def mean(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Mean over ``axis``/``dim`` (all axes by default)."""
        if axis is None and dim is None and not (keepdims or keepdim):
            return _mean(self)  # Mean's defaults: no options to pass (~0.4 µs less)
        a = _axis(self, axis, dim, "mean")
        return _mean(self, axis=a, keepdims=_keep(keepdims, keepdim))

    def amax(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Maximum values over axes; tied maxima share the gradient."""
        a = _axis(self, axis, dim, "amax")
        _dims.check_reduced_sizes(self.shape, a, "amax")
        return _red.Max.apply(self, axis=a, keepdims=_keep(keepdims, keepdim))

    def amin(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Minimum values over axes; tied minima share the gradient."""
        a = _axis(self, axis, dim, "amin")
        _dims.check_reduced_sizes(self.shape, a, "amin")
        return -(-self).amax(a, _keep(keepdims, keepdim))

    def max(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor | MinMaxResult:
        """The maximum; with an axis, ``(values, indices)`` as in PyTorch: the values are
        taken at the indices, so the gradient goes to the returned (first) maximum of each
        slice, as in PyTorch. Tied entries of a full ``max()`` share it (see ``amax``).

        >>> import tinygrad_edu as tg
        >>> x = tg.tensor([[1.0, 5.0], [7.0, 2.0]])
        >>> x.max()
        tensor(7.)
        >>> x.max(dim=1).indices
        tensor([1, 0])
        """
        a = _axis(self, axis, dim, "max")
        _dims.check_reduced_sizes(self.shape, a, "max")
        if a is None:
            return self.amax()
        return _at_index(self, self.argmax(a, True), a, _keep(keepdims, keepdim))

    def min(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor | MinMaxResult:
        """The minimum; with an axis, ``(values, indices)`` as in PyTorch (see ``amin``)."""
        a = _axis(self, axis, dim, "min")
        _dims.check_reduced_sizes(self.shape, a, "min")
        if a is None:
            return self.amin()
        return _at_index(self, self.argmin(a, True), a, _keep(keepdims, keepdim))

    def argmax(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Index of the maximum (of the flattened tensor when no axis is given)."""
        a = _axis(self, axis, dim, "argmax")
        _dims.check_reduced_sizes(self.shape, a, "argmax")
        if a == ():  # a 0-d tensor: its only element
            return Tensor._wrap(np.zeros((), dtype=np.int64))
        return Tensor._wrap(
            np.asarray(np.argmax(self.data, axis=a, keepdims=_keep(keepdims, keepdim)))
        )

    def argmin(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        a = _axis(self, axis, dim, "argmin")
        _dims.check_reduced_sizes(self.shape, a, "argmin")
        if a == ():  # a 0-d tensor: its only element
            return Tensor._wrap(np.zeros((), dtype=np.int64))
        return Tensor._wrap(
            np.asarray(np.argmin(self.data, axis=a, keepdims=_keep(keepdims, keepdim)))
        )

    def var(
        self,
        axis: Axis = None,
        correction: float | None = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
        unbiased: bool | None = None,
        ddof: float | None = None,
    ) -> Tensor:
        """Variance with PyTorch's default ``correction=1`` (``ddof``/``unbiased`` accepted)."""
        if correction is None:
            correction = ddof if ddof is not None else (0 if unbiased is False else 1)
        a = _axis(self, axis, dim, "var")
        return _variance(self, a, correction, _keep(keepdims, keepdim))

    def std(
        self,
        axis: Axis = None,
        correction: float | None = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
        unbiased: bool | None = None,
        ddof: float | None = None,
    ) -> Tensor:
        """Standard deviation (square root of :meth:`var`, same arguments); its gradient is 0
        where it is 0 (a constant), as in PyTorch.

        >>> import tinygrad_edu as tg
        >>> x = tg.tensor([2.0, 2.0, 2.0], requires_grad=True)
        >>> x.std().backward()
        >>> x.grad
        tensor([0., 0., 0.])
        """
        if correction is None:
            correction = ddof if ddof is not None else (0 if unbiased is False else 1)
        a = _axis(self, axis, dim, "std")
        return _red.RootOfSquares.apply(_variance(self, a, correction, _keep(keepdims, keepdim)))

    def logsumexp(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """``log(sum(exp(x)))`` over axes, computed without overflow."""
        a = _axis(self, axis, dim, "logsumexp")
        if 0 in self.shape and (a is None or 0 in [self.shape[i] for i in _as_tuple(a)]):
            # log of an empty sum (PyTorch: -inf); the sum keeps the shape and the graph
            return self.sum(a, _keep(keepdims, keepdim)) - np.inf
        m = self.data.max(axis=a, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        out = (self - m).exp().sum(a, keepdims=True).log() + m
        if not _keep(keepdims, keepdim):
            out = out.reshape(np.squeeze(m, axis=a).shape if a is not None else ())
        return out

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        """Softmax along ``axis`` (stable)."""
        a = _axis(self, axis if dim is None else None, dim, "softmax")
        return _act.Softmax.apply(self, axis=a)

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        """Log of softmax along ``axis`` (stable)."""
        a = _axis(self, axis if dim is None else None, dim, "log_softmax")
        return _act.LogSoftmax.apply(self, axis=a)

    # ----------------------------------------------------------------- movement
    def reshape(self, *shape: Any) -> Tensor:
        """Same values in a new shape; one dimension may be -1."""
        shape = _shape_args(shape)
        if shape == self.data.shape:
            return self
        return _inplace.track_view(self, _mv.Reshape.apply(self, shape=shape))

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions ``start_dim..end_dim`` into one."""
        s = _dims.normalize_dim(start_dim, self.ndim, "flatten", self.shape)
        e = _dims.normalize_dim(end_dim, self.ndim, "flatten", self.shape)
        if s > e:
            raise ValueError(
                f"flatten: start_dim ({start_dim}) comes after end_dim ({end_dim}) for a tensor "
                f"of shape {self.shape}; give start_dim <= end_dim"
            )
        if self.ndim == 0:
            return self.reshape(1)
        shape = self.shape
        return self.reshape((*shape[:s], int(np.prod(shape[s : e + 1])), *shape[e + 1 :]))

    def squeeze(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        """Remove size-1 dimensions (all, or those given)."""
        a = _axis(self, axis, dim, "squeeze")
        if a is None:
            shape = tuple(s for s in self.shape if s != 1)
        else:
            axes = set(_as_tuple(a))
            shape = tuple(s for i, s in enumerate(self.shape) if not (i in axes and s == 1))
        return self.reshape(shape)

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a size-1 dimension at ``dim``."""
        d = _dims.normalize_dim(dim, self.ndim + 1, "unsqueeze", self.shape)
        return self.reshape((*self.shape[:d], 1, *self.shape[d:]))

    def permute(self, *dims: Any) -> Tensor:
        """Reorder dimensions: ``dims`` is a permutation of ``range(ndim)``."""
        given = _shape_args(dims)
        if len(given) != self.ndim:
            raise ValueError(
                f"permute: {given} is not a permutation of the {self.ndim} dims of a tensor of "
                f"shape {self.shape}; list every dim once"
            )
        dims = _dims.normalize_dims(given, self.ndim, "permute", self.shape)
        return _inplace.track_view(self, _mv.Permute.apply(self, axes=dims))

    def transpose(self, *dims: Any) -> Tensor:
        """``transpose(d0, d1)`` swaps two dimensions (PyTorch); ``transpose(axes)`` with one
        tuple, or no arguments, permutes as numpy does."""
        if len(dims) == 2 and all(isinstance(d, int | np.integer) for d in dims):
            return self.swapaxes(*dims)
        if not dims:
            return self.T
        return self.permute(*dims)

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        axis0 = _dims.normalize_dim(axis0, self.ndim, "transpose", self.shape)
        axis1 = _dims.normalize_dim(axis1, self.ndim, "transpose", self.shape)
        if self.ndim == 0:
            return self
        order = list(range(self.ndim))
        order[axis0], order[axis1] = order[axis1], order[axis0]
        return self.permute(order)

    def expand(self, *sizes: Any) -> Tensor:
        """Broadcast to a larger shape without copying; -1 keeps a dimension's size."""
        sizes = _shape_args(sizes)
        lead = len(sizes) - self.ndim
        shape = tuple(
            self.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes)
        )
        return self.broadcast_to(shape)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        shape = tuple(shape)
        if shape == self.data.shape:
            return self
        return _inplace.track_view(self, _mv.Expand.apply(self, shape=shape))

    def __getitem__(self, index: Any) -> Tensor:
        return _inplace.track_view(self, _mv.GetItem.apply(self, index=_index(index)))

    def split(
        self, split_size_or_sections: int | Sequence[int], dim: int = 0, *, axis: int | None = None
    ) -> tuple[Tensor, ...]:
        """Split into pieces of ``split_size`` along ``dim``, or of the listed sizes."""
        d = _dims.normalize_dim(dim if axis is None else axis, self.ndim, "split", self.shape)
        n = self.shape[d]
        if isinstance(split_size_or_sections, int | np.integer):
            size = int(split_size_or_sections)
            if size <= 0:
                raise ValueError(f"split: split_size must be positive, got {size}")
            sizes = [min(size, n - i) for i in range(0, n, size)]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n:
                raise ValueError(f"split: sizes {sizes} do not add up to dim {d}'s size {n}")
        lead = (slice(None),) * d
        out, start = [], 0
        for s in sizes:
            out.append(self[(*lead, slice(start, start + s))])
            start += s
        return tuple(out)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        d = _dims.normalize_dim(dim, self.ndim, "chunk", self.shape)
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks}")
        return self.split(max(-(-self.shape[d] // chunks), 1), d)

    def pad(self, pad_width: Any, value: float = 0.0) -> Tensor:
        """Constant padding, numpy style: an int, (before, after), or one pair per dim."""
        width = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (self.ndim, 2))
        if (width < 0).any():
            raise ValueError(f"pad: widths must be non-negative, got {pad_width}")
        return _mv.Pad.apply(self, pad_width=tuple(map(tuple, width.tolist())), value=value)


class Rounding(_function.Function):
    """A piecewise-constant function (round, floor, ceil, sign): zero gradient."""

    @staticmethod
    def forward(ctx, x, fn=np.round, **kwargs):
        return np.asarray(fn(x, **kwargs))

    @staticmethod
    def backward(ctx, g):
        return g * 0


def _variance(x: Tensor, a: int | tuple | None, correction: float, keep: bool) -> Tensor:
    """The variance over dims ``a`` (normalised). Centred on the mean after a shift by one
    element of each slice (a constant: value and gradient are those of ``x - mean(x)``), so a
    constant slice centres to exact zeros and its variance is exactly 0."""
    axes = range(x.ndim) if a is None else _as_tuple(a)
    n = int(np.prod([x.shape[i] for i in axes]))
    shifted = x
    if n:
        first = tuple(slice(0, 1) if i in axes else slice(None) for i in range(x.ndim))
        shifted = x - x.data[first]
    centered = shifted - shifted.mean(a, keepdims=True)
    if n - correction <= 0:
        warnings.warn(
            f"var/std: degrees of freedom is <= 0 (reducing {n} element(s) with correction="
            f"{correction}): the "
            "result is nan or inf. Correction should be strictly less than the number of "
            "elements reduced.",
            RuntimeWarning,
            stacklevel=3,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        return (centered * centered).sum(a, keep) / max(n - correction, 0)


_COMPARISONS = {
    np.less: "lt",
    np.less_equal: "le",
    np.greater: "gt",
    np.greater_equal: "ge",
    np.equal: "eq",
    np.not_equal: "ne",
    np.logical_and: "logical_and",
    np.logical_or: "logical_or",
    np.bitwise_and: "bitwise_and",
    np.bitwise_or: "bitwise_or",
}


def _as_tuple(a: int | tuple) -> tuple:
    return a if isinstance(a, tuple) else (a,)


def _dtype_from_type_name(name: str) -> np.dtype:
    """The dtype of a legacy type name such as ``'torch.FloatTensor'``, or a clear error."""
    by_name = {f"torch.{v}": np.dtype(k) for k, v in dtypes.LEGACY_TYPE_NAMES.items()}
    if name in by_name:
        return by_name[name]
    if name.startswith("torch.cuda."):
        _device.check_device("cuda")
    raise ValueError(f"type(): invalid type {name!r}; give a dtype (x.type(torch.float64)) "
                     f"or one of {', '.join(sorted(by_name))}")


def _is_dtype(name: str) -> bool:
    try:
        np.dtype(name)
    except TypeError:
        return False
    return True


def _data(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _set_data(t: Tensor, value: Any) -> None:
    """``t.data = value``: an array as it is, a Tensor's array (shared), a numpy scalar as a
    0-d array."""
    if isinstance(value, Tensor):
        value = value._data
    elif isinstance(value, np.generic):
        value = np.asarray(value)
    elif not isinstance(value, np.ndarray):
        raise TypeError(
            f"a tensor's .data must be a numpy array or a Tensor, got {type(value).__name__}; "
            "assign tg.tensor(value) or np.asarray(value)"
        )
    t._data = value


def _scaled(x: Any, alpha: float) -> Any:
    """``alpha * x``, keeping a tensor's graph."""
    return x * alpha if isinstance(x, Tensor) else _data(x) * alpha


def _describe(x: Any) -> str:
    if isinstance(x, Tensor | np.ndarray):
        return f"shape {tuple(x.shape)} ({x.dtype})"
    return repr(x)


def _index(index: Any) -> tuple:
    """Normalise an index: tensors and lists become arrays; always a tuple."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for i in index:
        if isinstance(i, Tensor):
            i = i.data
        elif isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.dtype.kind == "f":
            raise IndexError(
                f"tensors used as indices must be integer or boolean, not {i.dtype}; convert "
                "with .long()"
            )
        out.append(i)
    return tuple(out)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Elements of ``x`` where ``condition`` holds, else of ``y``; differentiable in x and y.

    >>> import tinygrad_edu as tg
    >>> a = tg.tensor([1.0, -2.0, 3.0])
    >>> tg.where(a > 0, a, 0.0)
    tensor([1., 0., 3.])
    """
    cond = np.asarray(_data(condition), dtype=bool)
    return _ew.Where.apply(cond, _operand(x), _operand(y))


_function.Tensor = Tensor
