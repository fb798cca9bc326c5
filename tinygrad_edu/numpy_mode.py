"""numpy's meaning for numpy code: ``NumpyTensor``, ``numpy_grad``, and never a lost gradient.

Design
------
``Tensor`` keeps PyTorch's semantics (``x.max(dim)`` gives ``(values, indices)``, ``std`` has
``correction=1``, ``x.size()`` is a method). A learner's numpy code means numpy's:
``x.max(axis=1)`` is values, ``x.std()`` has ddof=0, ``x.size`` is an int, ``z += b`` and
``z[mask] = 0`` change ``z`` in place. Both run on the same engine, through one mechanism:

* **One value type per meaning.** :class:`NumpyTensor` is a ``Tensor`` subclass whose methods,
  operators and attributes are ndarray's (HIPS autograd's ``ArrayBox`` idea: box the value,
  keep numpy's interface). Its methods *are* numpy's functions applied to it (``x.sum(...)`` is
  ``np.sum(x, ...)``), dispatched through :mod:`tinygrad_edu.numpy_interop`, so a method and
  its function cannot disagree.
* **Results keep the meaning of their inputs.** Any op with a NumpyTensor input gives a
  NumpyTensor when the result is floating point, and a plain ndarray otherwise (comparisons,
  ``argmax``, ``astype(int)``) — as numpy would. Internally every op runs with PyTorch
  semantics: for the duration of the call, NumpyTensor inputs act as plain Tensors.
* **In-place updates are real** (``z += b``, ``z[idx] = v``, ``np.add(z, b, out=z)``): the
  shared in-place machinery (:mod:`tinygrad_edu.autograd.inplace`) writes memory and rebases
  the graph, with version counters on memory.
* **Never silent.** Turning a value that requires grad into something without a gradient —
  ``float(v)``, ``math.exp(v)``, ``"%.3f" % v``, ``v.item()``, ``np.asarray`` of a list of
  traced values, writing it into an ``np.zeros`` array — raises :class:`LostGradientError`
  naming what did it, the user's line, and what to use instead. Inside :func:`tracing`
  (used by :func:`numpy_grad` and the homework checker) ``np.array``/``np.asarray`` of lists
  of traced values and ``np.r_``/``np.c_`` build differentiable arrays instead.

>>> import numpy as np
>>> def loss(p, x, y):
...     z = x @ p["W"]
...     z += p["b"]                                  # numpy's in-place bias
...     z = z - z.max(axis=1, keepdims=True)         # numpy's max: values
...     logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
...     return -logp[np.arange(len(y)), y].mean()
>>> rng = np.random.default_rng(0)
>>> params = {"W": rng.normal(size=(3, 4)), "b": np.zeros(4)}
>>> x, y = rng.normal(size=(5, 3)), np.array([0, 1, 2, 3, 0])
>>> grads = numpy_grad(loss)(params, x, y)
>>> sorted(grads), grads["W"].shape, type(grads["b"]).__name__
(['W', 'b'], (3, 4), 'ndarray')
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import numpy_interop as _interop
from .autograd.engine import grad as _grad
from .autograd.grad_mode import flags
from .lost_gradient import LostGradientError, lost, lost_gradient_in
from .tensor import Tensor

__all__ = ["LostGradientError", "NumpyTensor", "as_numpy_tensor", "numpy_grad",
           "numpy_value_and_grad", "trace", "tracing"]

def _requires(t: Tensor) -> bool:
    return t._requires_grad and flags.grad_enabled


# ----------------------------------------------------------------------------- running ops
def _tensors_in(items: Any, found: list, depth: int = 0) -> None:
    for a in items:
        if isinstance(a, Tensor):
            found.append(a)
        elif depth < 3 and isinstance(a, list | tuple):
            _tensors_in(a, found, depth + 1)
        elif depth < 3 and isinstance(a, dict):
            _tensors_in(a.values(), found, depth + 1)


def _run(fn: Callable, args: tuple, kwargs: dict) -> Any:
    """Call ``fn`` with PyTorch semantics for every NumpyTensor among the arguments, then give
    the result numpy's meaning."""
    found: list = []
    _tensors_in(args, found)
    _tensors_in(kwargs.values(), found)
    swapped = [t for t in found if type(t) is NumpyTensor]
    plain = {id(t) for t in found if type(t) is not NumpyTensor}
    for t in swapped:
        t.__class__ = Tensor
    try:
        out = fn(*args, **kwargs)
    finally:
        for t in swapped:
            t.__class__ = NumpyTensor
    return _numpy_result(out, plain)


def _numpy_result(x: Any, keep: set = frozenset()) -> Any:
    """Float tensors made by an op become NumpyTensors; other results plain numpy."""
    if isinstance(x, Tensor):
        if x.data.dtype.kind not in "fc":
            return x.data
        if type(x) is Tensor and id(x) not in keep:
            x.__class__ = NumpyTensor
        return x
    if isinstance(x, list):
        return [_numpy_result(v, keep) for v in x]
    if isinstance(x, tuple) and not hasattr(x, "_fields"):
        return tuple(_numpy_result(v, keep) for v in x)
    return x


def _function(name: str) -> Callable:
    numpy_fn = getattr(np, name)

    def method(self: NumpyTensor, *args: Any, **kwargs: Any) -> Any:
        return numpy_fn(self, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"``np.{name}(self, ...)``: numpy's meaning and arguments."
    return method


def _ufunc(ufunc: np.ufunc, reflected: bool = False) -> Callable:
    if reflected:
        return lambda self, other: ufunc(other, self)
    return lambda self, other: ufunc(self, other)


def _torch_method(name: str) -> Callable:
    fn = getattr(Tensor, name)

    def method(self: NumpyTensor, *args: Any, **kwargs: Any) -> Any:
        return _run(fn, (self, *args), kwargs)

    method.__name__ = name
    method.__doc__ = fn.__doc__
    return method


class NumpyTensor(Tensor):
    """A Tensor with numpy's meaning: methods, operators and attributes are ndarray's.

    Made by :func:`numpy_grad`, the homework checker, or :func:`as_numpy_tensor`; every op
    on one gives NumpyTensors (floating results) or plain ndarrays (the rest).

    >>> import numpy as np
    >>> x = as_numpy_tensor(np.array([[1.0, 5.0], [7.0, 2.0]]), requires_grad=True)
    >>> x.max(axis=1), x.size, x.std()
    (array([5., 7.], requires_grad), 4, array(2.384848, requires_grad))
    >>> x.argmax(axis=1)
    array([1, 0])
    """

    __slots__ = ()
    __array_priority__ = 1001

    # numpy's dispatch: the same tables as Tensor's, with numpy's meaning for the result
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return _run(_interop.array_ufunc, (ufunc, method, inputs, kwargs), {})

    def __array_function__(self, func: Callable, types: tuple, args: tuple,
                           kwargs: dict) -> Any:
        return _run(_interop.array_function, (func, args, kwargs), {})

    # ------------------------------------------------------------------ attributes
    @property
    def size(self) -> int:  # type: ignore[override]
        """The number of elements (an int, as in numpy)."""
        return int(self.data.size)

    @property
    def T(self) -> Any:
        return np.transpose(self)

    @property
    def real(self) -> Any:
        return self

    @property
    def imag(self) -> Any:
        return np.imag(self)

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes)

    @property
    def itemsize(self) -> int:
        return int(self.data.itemsize)

    @property
    def strides(self) -> tuple:
        return self.data.strides

    # ------------------------------------------------------------------ numpy's methods
    sum = _function("sum")
    mean = _function("mean")
    prod = _function("prod")
    cumsum = _function("cumsum")
    cumprod = _function("cumprod")
    max = _function("max")
    min = _function("min")
    std = _function("std")
    var = _function("var")
    argmax = _function("argmax")
    argmin = _function("argmin")
    ptp = _function("ptp")
    clip = _function("clip")
    round = _function("round")
    trace = _function("trace")
    diagonal = _function("diagonal")
    dot = _function("dot")
    copy = _function("copy")
    ravel = _function("ravel")
    swapaxes = _function("swapaxes")
    squeeze = _function("squeeze")
    repeat = _function("repeat")
    take = _function("take")
    argsort = _function("argsort")
    nonzero = _function("nonzero")
    any = _function("any")
    all = _function("all")
    conj = conjugate = _function("conj")

    def reshape(self, *shape: Any, order: str = "C") -> Any:
        """numpy's reshape (``order='F'`` reads and writes in column-major order)."""
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], list | tuple) else shape
        return np.reshape(self, shape, order=order)

    def flatten(self, order: str = "C") -> Any:
        """A flat copy (numpy's flatten)."""
        return np.copy(self.reshape(-1, order=order))

    def transpose(self, *axes: Any) -> Any:
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], list | tuple)):
            axes = axes[0]
        return np.transpose(self, axes or None)

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> Any:
        """Cast; a non-float dtype gives a plain ndarray (numpy's values, no gradient)."""
        dtype = np.dtype(dtype)
        if dtype.kind not in "fc":
            return self.data.astype(dtype)
        return _run(Tensor.astype, (self, dtype), {})

    def sort(self, axis: int = -1, kind: Any = None, order: Any = None) -> None:
        """Sort in place (as ndarray.sort)."""
        self[...] = np.sort(self, axis=axis)

    def fill(self, value: Any) -> None:
        """Fill in place (as ndarray.fill)."""
        self[...] = value

    # ------------------------------------------------------------------ operators
    __add__, __radd__ = _ufunc(np.add), _ufunc(np.add, True)
    __sub__, __rsub__ = _ufunc(np.subtract), _ufunc(np.subtract, True)
    __mul__, __rmul__ = _ufunc(np.multiply), _ufunc(np.multiply, True)
    __truediv__, __rtruediv__ = _ufunc(np.divide), _ufunc(np.divide, True)
    __floordiv__, __rfloordiv__ = _ufunc(np.floor_divide), _ufunc(np.floor_divide, True)
    __mod__, __rmod__ = _ufunc(np.remainder), _ufunc(np.remainder, True)
    __pow__, __rpow__ = _ufunc(np.power), _ufunc(np.power, True)
    __matmul__, __rmatmul__ = _ufunc(np.matmul), _ufunc(np.matmul, True)
    __lt__, __le__ = _ufunc(np.less), _ufunc(np.less_equal)
    __gt__, __ge__ = _ufunc(np.greater), _ufunc(np.greater_equal)
    __eq__, __ne__ = _ufunc(np.equal), _ufunc(np.not_equal)  # type: ignore[assignment]
    __hash__ = Tensor.__hash__

    def __neg__(self) -> Any:
        return np.negative(self)

    def __pos__(self) -> Any:
        return self

    def __abs__(self) -> Any:
        return np.absolute(self)

    def __round__(self, ndigits: int | None = None) -> Any:
        return np.round(self, ndigits or 0)

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self[i]

    # ------------------------------------------------------------------ conversions
    def __float__(self) -> float:
        if _requires(self):
            raise lost("float")
        return float(self.data)

    def __int__(self) -> int:
        if _requires(self):
            raise lost("int")
        return int(self.data)

    def __complex__(self) -> complex:
        if _requires(self):
            raise lost("float")
        return complex(self.data)

    def item(self, *args: Any) -> Any:
        if _requires(self):
            raise lost("item")
        return self.data.item(*args)

    def tolist(self) -> Any:
        if _requires(self):
            raise lost("tolist")
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if _requires(self):
            raise lost("array")
        return Tensor.__array__(self, dtype, copy)

    def __format__(self, spec: str) -> str:
        return format(self.data.item() if self.data.ndim == 0 else self.data, spec)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="array(")
        return f"array({body}{', requires_grad' if self._requires_grad else ''})"

    def __getattr__(self, name: str) -> Any:
        if hasattr(np.ndarray, name):
            raise AttributeError(
                f"ndarray.{name} is not supported on values that tinygrad_edu differentiates; "
                f"use an equivalent numpy function (see tinygrad_edu.numpy_interop.FUNCTIONS)"
            )
        raise AttributeError(f"'NumpyTensor' object has no attribute {name!r}")


# Every other Tensor method (exp, backward, in-place ops, indexing...) runs with PyTorch's
# semantics on the value and gives its result numpy's meaning.
_KEEP = {"__init__", "__new__", "__getattribute__", "__setattr__", "__delattr__",
         "__init_subclass__", "__subclasshook__", "__class__", "__dir__", "__reduce__",
         "__reduce_ex__", "__sizeof__", "__str__", "__bool__", "__len__", "_wrap",
         "__array_ufunc__", "__array_function__", "__getstate__", "__setstate__"}
# Tensor's own methods and its mixins' (torch_shape.ShapeMethods ...), the subclass's winning.
_METHODS = {k: v for c in reversed(Tensor.__mro__[:-1]) for k, v in vars(c).items()}
for _name, _value in _METHODS.items():
    if (callable(_value) and not isinstance(_value, staticmethod | classmethod | type)
            and _name not in vars(NumpyTensor) and _name not in _KEEP):
        setattr(NumpyTensor, _name, _torch_method(_name))


def as_numpy_tensor(value: Any, requires_grad: bool = False) -> Any:
    """A NumpyTensor around ``value`` (float arrays keep their dtype, other numbers become
    float64, as numpy makes them); non-float data stays a plain ndarray unless it must
    require grad."""
    arr = value.data if isinstance(value, Tensor) else np.asarray(value)
    if arr.dtype.kind not in "fc":
        if not requires_grad:
            return arr
        arr = arr.astype(np.float64)
    t = Tensor._wrap(arr)
    t.__class__ = NumpyTensor
    if requires_grad:
        t.requires_grad = True
    return t


# ----------------------------------------------------------------------------- tracing scope
def _contains_traced(obj: Any, depth: int = 0) -> bool:
    if isinstance(obj, Tensor):
        return True
    if depth < 32 and isinstance(obj, list | tuple):
        return any(_contains_traced(o, depth + 1) for o in obj)
    return False


def _stack_nested(obj: Any) -> Any:
    if isinstance(obj, list | tuple):
        parts = [_stack_nested(o) for o in obj]
        return np.stack([p if isinstance(p, Tensor) else as_numpy_tensor(p) for p in parts])
    return obj


class _Patched:
    """numpy entry points that cannot dispatch on list contents, replaced while tracing."""

    def __init__(self) -> None:
        self.array, self.asarray, self.asanyarray = np.array, np.asarray, np.asanyarray
        self.r_, self.c_ = np.r_, np.c_

    def make_array(self, original: Callable, copy_default: bool) -> Callable:
        def array(obj: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
            if isinstance(obj, Tensor):
                out = obj if isinstance(obj, NumpyTensor) else as_numpy_tensor(obj)
                if kwargs.get("copy", copy_default) and out is obj:
                    out = np.copy(out)
                return out if dtype is None else out.astype(dtype)
            if _contains_traced(obj):
                out = _stack_nested(obj)
                return out if dtype is None else out.astype(dtype)
            return original(obj, dtype, *args, **kwargs)

        array.__doc__ = original.__doc__
        return array


class _Concatenator:
    """``np.r_`` / ``np.c_`` that keep traced values differentiable."""

    def __init__(self, original: Any, columns: bool) -> None:
        self.original, self.columns = original, columns

    def __getitem__(self, key: Any) -> Any:
        items = key if isinstance(key, tuple) else (key,)
        if not any(_contains_traced(i) for i in items):
            return self.original[key]
        if any(isinstance(i, str) for i in items):
            raise TypeError("np.r_/np.c_ with a directive string is not supported on values "
                            "that tinygrad_edu differentiates; use np.concatenate")
        parts = []
        for i in items:
            if isinstance(i, slice):
                i = self.original[i]
            t = i if isinstance(i, Tensor) else as_numpy_tensor(np.asarray(i, dtype=float))
            if self.columns:
                t = t.reshape(-1, 1) if t.ndim < 2 else t
            elif t.ndim == 0:
                t = t.reshape(1)
            parts.append(t)
        return np.concatenate(parts, axis=1 if self.columns else 0)

    def __len__(self) -> int:
        return 0


_depth = [0]


@contextlib.contextmanager
def tracing() -> Iterator[None]:
    """While active, ``np.array``/``np.asarray``/``np.asanyarray`` of traced values (or lists
    of them) and ``np.r_``/``np.c_`` give differentiable NumpyTensors instead of plain arrays.

    Used by :func:`numpy_grad` and the homework checker; nests; restores numpy on exit.
    """
    if _depth[0]:
        _depth[0] += 1
        try:
            yield
        finally:
            _depth[0] -= 1
        return
    saved = _Patched()
    np.array = saved.make_array(saved.array, True)
    np.asarray = saved.make_array(saved.asarray, False)
    np.asanyarray = saved.make_array(saved.asanyarray, False)
    np.r_ = _Concatenator(saved.r_, columns=False)
    np.c_ = _Concatenator(saved.c_, columns=True)
    _depth[0] = 1
    try:
        yield
    finally:
        _depth[0] = 0
        np.array, np.asarray, np.asanyarray = saved.array, saved.asarray, saved.asanyarray
        np.r_, np.c_ = saved.r_, saved.c_


# ----------------------------------------------------------------------------- numpy_grad
def _box(value: Any, leaves: list) -> Any:
    if isinstance(value, dict):
        return {k: _box(v, leaves) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_box(v, leaves) for v in value)
    t = as_numpy_tensor(np.array(value, dtype=np.result_type(np.asarray(value).dtype,
                                                              np.float64), copy=True),
                        requires_grad=True)
    leaves.append(t)
    return t


def _unbox(structure: Any, grads: Iterator) -> Any:
    if isinstance(structure, dict):
        return {k: _unbox(v, grads) for k, v in structure.items()}
    if isinstance(structure, list | tuple):
        return type(structure)(_unbox(v, grads) for v in structure)
    return next(grads)


def trace(fn: Callable, args: tuple, argnum: int = 0, kwargs: dict | None = None
          ) -> tuple[Any, Any, list]:
    """Run plain-numpy ``fn(*args)`` with argument ``argnum`` (an array, a number, or a
    dict/list/tuple of them) boxed as NumpyTensor leaves that require grad, inside
    :func:`tracing`. Returns (result, the boxed argument, its leaves in order).

    A conversion that loses the gradient raises :class:`LostGradientError` itself, even where
    numpy wrapped it in an error of its own.
    """
    if argnum >= len(args):
        raise TypeError(f"argument {argnum} was not given ({len(args)} given)")
    leaves: list = []
    boxed = _box(args[argnum], leaves)
    call = list(args)
    call[argnum] = boxed
    with tracing():
        try:
            out = fn(*call, **(kwargs or {}))
        except Exception as e:
            cause = lost_gradient_in(e)
            if cause is None or cause is e:
                raise
            raise cause from None  # numpy wrapped it in a vaguer error of its own
    return out, boxed, leaves


def check_traced(out: Any, argnum: int, caller: str) -> None:
    """Fail unless what a traced function returned was computed from its argument."""
    if not isinstance(out, Tensor):
        raise TypeError(
            f"{caller}: the function returned {type(out).__name__} "
            f"{np.asarray(out).ravel()[:3]!s}..., not a value computed from its argument "
            f"{argnum}: it does not depend on it through numpy operations"
        )


def numpy_value_and_grad(fn: Callable, argnum: int = 0) -> Callable:
    """``fn``'s value and its gradient with respect to argument ``argnum`` (an array, a number,
    or a dict/list/tuple of them), for ``fn`` written with plain numpy.

    Inside ``fn`` the argument behaves as numpy arrays do (see :class:`NumpyTensor`);
    gradients come back as float64 numpy arrays in the argument's structure. A conversion that
    would lose the gradient raises :class:`LostGradientError`.

    >>> import numpy as np
    >>> value, g = numpy_value_and_grad(lambda w: np.sum(np.tanh(w) ** 2))(np.zeros(3))
    >>> float(value), g.tolist()
    (0.0, [0.0, 0.0, 0.0])
    """

    def wrapper(*args: Any, **kwargs: Any) -> tuple[float, Any]:
        out, _, leaves = trace(fn, args, argnum, kwargs)
        check_traced(out, argnum, "numpy_grad")
        if out.data.size != 1:
            raise ValueError(f"numpy_grad: the function must return a single number, got an "
                             f"array of shape {out.shape}; reduce it (np.sum, np.mean) first")
        value = float(out.data.reshape(()))
        if not out.requires_grad:
            grads = [np.zeros_like(t.data) for t in leaves]
        else:
            found = _grad(out.reshape(()), leaves, allow_unused=True)
            grads = [np.zeros_like(t.data) if g is None else np.array(g.data)
                     for g, t in zip(found, leaves)]
        return value, _unbox(args[argnum], iter(grads))

    return wrapper


def numpy_grad(fn: Callable, argnum: int = 0) -> Callable:
    """The gradient of a scalar function written in plain numpy (HIPS autograd's ``grad``).

    >>> import numpy as np
    >>> g = numpy_grad(lambda w, x: np.mean((x @ w) ** 2))
    >>> g(np.ones(2), np.array([[1.0, 2.0]])).tolist()
    [6.0, 12.0]
    """
    value_and_grad = numpy_value_and_grad(fn, argnum)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return value_and_grad(*args, **kwargs)[1]

    return wrapper
