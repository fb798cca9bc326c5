"""numpy functions on Tensors: ``np.exp(t)``, ``np.dot(W, t)``, ``ndarray * t`` give Tensors.

Tensor implements numpy's dispatch protocols (``__array_ufunc__``, NEP 13, and
``__array_function__``, NEP 18): a numpy function called on a Tensor runs the differentiable
version listed here (most are compositions in :mod:`tinygrad_edu.numpy_functions`). So

* a student's forward pass written in numpy runs unchanged on Tensors, and autograd can
  differentiate it (see :mod:`tinygrad_edu.numpy_mode` for numpy's *method* semantics too);
* the backward rules of the primitives, written in numpy, run on Tensors when
  ``create_graph=True``, which makes gradients differentiable.

**Never a silent lost gradient**: a numpy function without a mapping still runs when no input
requires grad, or when its result is not floating point (``np.argsort``, ``np.isclose``); when
an input requires grad and the result is floating point, it raises ``TypeError`` naming the
function instead of returning a plain array. ``out=`` into a Tensor is an in-place change (the
graph is rebased); into a numpy array it works only when nothing requires grad (so
``p.data -= lr * p.grad`` keeps ``.data`` an array).

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> w = tg.tensor([[0.5, -1.0]], requires_grad=True)
>>> loss = np.sum(np.tanh(np.dot(w, np.array([1.0, 2.0]))) ** 2)
>>> loss.backward()
>>> w.grad.shape
(1, 2)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import functional as F
from . import numpy_functions as nf
from .autograd.grad_mode import flags
from .dims import normalize_dims
from .ops import elementwise as _ew
from .ops import linalg as _la
from .ops import pointwise as _pw
from .ops import trig as _trig
from .tensor import Rounding, Tensor, _operand

_t = nf.as_tensor


def _unary(method: str) -> Callable:
    return lambda x: getattr(_t(x), method)()


def _primitive(fn: type) -> Callable:
    return lambda *xs: fn.apply(*(_t(x) for x in xs))


def _nograd(ufunc: np.ufunc) -> Callable:
    def fn(*args: Any) -> Tensor:
        return Tensor._wrap(np.asarray(ufunc(*[_unwrap(a) for a in args])))

    return fn


def _rounding(fn: Callable) -> Callable:
    """A piecewise-constant ufunc: its value, with gradient zero."""
    return lambda x: Rounding.apply(_t(x), fn=fn)


def _binary(op: type) -> Callable:
    return lambda a, b: op.apply(_operand(a), _operand(b))


UFUNCS: dict[np.ufunc, Callable] = {
    np.add: _binary(_ew.Add),
    np.subtract: _binary(_ew.Sub),
    np.multiply: _binary(_ew.Mul),
    np.divide: _binary(_ew.Div),
    np.power: _binary(_ew.Pow),
    np.float_power: lambda a, b: _ew.Pow.apply(_operand(a), _operand(b)),
    np.matmul: lambda a, b: _la.MatMul.apply(a, b),
    np.maximum: F.maximum,
    np.minimum: F.minimum,
    np.fmax: nf.fmax,
    np.fmin: nf.fmin,
    np.negative: lambda x: _ew.Neg.apply(x),
    np.positive: lambda x: x,
    np.conjugate: lambda x: x,
    np.square: lambda x: _ew.Mul.apply(x, x),
    np.reciprocal: lambda x: _ew.Div.apply(1.0, x),
    np.exp: _unary("exp"),
    np.exp2: _primitive(_pw.Exp2),
    np.expm1: _unary("expm1"),
    np.log: _unary("log"),
    np.log2: _primitive(_pw.Log2),
    np.log10: _primitive(_pw.Log10),
    np.log1p: _unary("log1p"),
    np.logaddexp: nf.logaddexp,
    np.logaddexp2: nf.logaddexp2,
    np.sqrt: _unary("sqrt"),
    np.cbrt: _primitive(_trig.Cbrt),
    np.absolute: _unary("abs"),
    np.fabs: _unary("abs"),
    np.sin: _unary("sin"),
    np.cos: _unary("cos"),
    np.tan: _primitive(_trig.Tan),
    np.arcsin: _primitive(_trig.Arcsin),
    np.arccos: _primitive(_trig.Arccos),
    np.arctan: _primitive(_trig.Arctan),
    np.arctan2: _primitive(_trig.Arctan2),
    np.hypot: nf.hypot,
    np.sinh: _primitive(_trig.Sinh),
    np.cosh: _primitive(_trig.Cosh),
    np.tanh: _unary("tanh"),
    np.arcsinh: _primitive(_trig.Arcsinh),
    np.arccosh: _primitive(_trig.Arccosh),
    np.arctanh: _primitive(_trig.Arctanh),
    np.deg2rad: nf.scale(np.pi / 180),
    np.radians: nf.scale(np.pi / 180),
    np.rad2deg: nf.scale(180 / np.pi),
    np.degrees: nf.scale(180 / np.pi),
    np.remainder: nf.remainder,
    np.fmod: nf.fmod,
    np.copysign: nf.copysign,
    np.floor_divide: lambda a, b: _pw.RoundedDiv.apply(_operand(a), _operand(b), mode="floor"),
    np.sign: _rounding(np.sign),
    np.floor: _rounding(np.floor),
    np.ceil: _rounding(np.ceil),
    np.rint: _rounding(np.rint),
    np.trunc: _rounding(np.trunc),
    np.heaviside: lambda x, h: Rounding.apply(_t(x), fn=lambda v: np.heaviside(v, _unwrap(h))),
}
for _uf in (
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_xor, np.logical_not,
    np.isnan, np.isinf, np.isfinite, np.signbit,
    np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert,
):
    UFUNCS[_uf] = _nograd(_uf)

# ufunc methods: np.add.reduce(x, axis) is np.sum(x, axis), and so on
REDUCE: dict[np.ufunc, Callable] = {
    np.add: nf.reduce("sum"),
    np.multiply: nf.prod,
    np.maximum: nf.reduce("amax"),
    np.minimum: nf.reduce("amin"),
}
ACCUMULATE: dict[np.ufunc, Callable] = {np.add: nf.cumsum, np.multiply: nf.cumprod}


def _clip(a: Any, a_min: Any = np._NoValue, a_max: Any = np._NoValue, out: Any = None,
          **kw: Any) -> Tensor:
    nf._no_out("clip", out)
    lo = kw.get("min", None if a_min is np._NoValue else a_min)
    hi = kw.get("max", None if a_max is np._NoValue else a_max)
    t = _t(a)
    if isinstance(lo, Tensor) or isinstance(hi, Tensor) or np.ndim(lo) or np.ndim(hi):
        if lo is not None:
            t = F.maximum(t, _t(lo))
        if hi is not None:
            t = F.minimum(t, _t(hi))
        return t
    return t.clamp(lo, hi)


def _pad(array: Any, pad_width: Any, mode: str = "constant", constant_values: float = 0,
         **kw: Any) -> Tensor:
    if mode != "constant":
        raise TypeError(f"np.pad mode={mode!r} is not supported on tensors (only 'constant')")
    return _t(array).pad(pad_width, value=constant_values)


def _reshape(a: Any, shape: Any = None, order: str = "C", **kw: Any) -> Tensor:
    """np.reshape; ``order='F'`` reads and writes in column-major order (axes reversed)."""
    t, shape = _t(a), kw.get("newshape", shape)
    if order == "F":
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        flip = lambda x: x.permute(tuple(reversed(range(x.ndim))))  # noqa: E731
        return flip(flip(t).reshape(tuple(reversed(shape))))
    if order not in ("C", "A"):
        raise ValueError(f"reshape: order must be 'C' or 'F', got {order!r}")
    return t.reshape(shape)


# numpy's in-place functions, as indexed assignments (which record; the fallback would write
# into the array behind the graph's back and the gradient would ignore the change)
def _in_place(func: Callable, write: Callable[..., None]) -> Callable:
    """``func(target, ...)``: ``write`` it when the target is a Tensor; numpy itself on a plain
    array, unless a value written requires grad (the array could not hold the gradient)."""
    def run(target: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(target, Tensor):
            return write(target, *args, **kwargs)
        if flags.grad_enabled and (_needs_grad(args) or _needs_grad(kwargs)):
            raise TypeError(
                f"{_numpy_name(func)}: the destination is a plain numpy array, which cannot "
                "hold a gradient; write into an array made from the parameter "
                "(np.zeros_like(param)) or build the result with np.where")
        return func(target, *_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})

    return run


def _cycled(values: Any, n: int) -> Any:
    """numpy's rule for a values argument shorter than the places it fills: repeat it."""
    if np.ndim(values) == 0 or np.size(values) == n:
        return values
    return np.reshape(values, -1)[np.arange(n) % np.size(values)]


def _copyto(dst: Any, src: Any, casting: str = "same_kind", where: Any = True) -> None:
    mask = np.broadcast_to(_unwrap(where), dst.shape)
    if mask.all():
        dst[...] = src
    else:
        dst[mask] = np.broadcast_to(src, dst.shape)[mask]


def _fill_diagonal(a: Any, val: Any, wrap: bool = False) -> None:
    shape = a.shape
    if a.ndim == 2:
        step, end = shape[1] + 1, None if wrap else shape[1] * shape[1]
    else:
        step, end = 1 + int(np.cumprod(shape[:-1]).sum()), None
    flat = np.arange(a.data.size)[:end:step]
    a[np.unravel_index(flat, shape)] = _cycled(val, len(flat))


def _putmask(a: Any, mask: Any, values: Any) -> None:
    mask = np.asarray(_unwrap(mask), dtype=bool)
    a[mask] = np.reshape(_cycled(values, a.data.size), a.shape)[mask] if np.ndim(values) else values


def _place(arr: Any, mask: Any, vals: Any) -> None:
    mask = np.asarray(_unwrap(mask), dtype=bool)
    arr[mask] = _cycled(vals, int(mask.sum()))


def _put(a: Any, ind: Any, v: Any, mode: str = "raise") -> None:
    ind, size = np.ravel(ind), a.data.size
    if mode != "raise":
        raise TypeError(f"np.put mode={mode!r} is not supported on tensors (only 'raise')")
    if ((ind >= size) | (ind < -size)).any():
        raise IndexError(f"np.put: index out of range for an array of size {size}")
    a[np.unravel_index(ind % size, a.shape)] = _cycled(v, len(ind))


def _put_along_axis(arr: Any, indices: Any, values: Any, axis: int | None) -> None:
    if axis is None:
        arr[np.unravel_index(np.ravel(_unwrap(indices)), arr.shape)] = values
        return
    indices = np.asarray(_unwrap(indices))
    axis = axis % arr.ndim
    arr[tuple(indices if d == axis else np.arange(n).reshape([-1 if k == d else 1
                                                              for k in range(arr.ndim)])
              for d, n in enumerate(arr.shape))] = values


def _like(fill: float | None) -> Callable:
    """np.zeros_like(a, dtype, order, subok, shape) and friends; np.full_like(a, fill_value,
    dtype...) takes the fill value first. A fill value that requires grad keeps its gradient
    (every entry is that value)."""
    def fn(a: Any, *args: Any, **kwargs: Any) -> Tensor:
        if fill is None:
            value, args = (args[0], args[1:]) if args else (kwargs.pop("fill_value"), args)
        else:
            value = fill
        arr = _unwrap(a)
        dtype = (args[0] if args else kwargs.get("dtype")) or arr.dtype
        shape = kwargs.get("shape") or np.shape(arr)
        if isinstance(value, Tensor) and value.requires_grad and np.dtype(dtype).kind in "fc":
            return _t(value).astype(dtype).broadcast_to(shape).clone()
        return Tensor._wrap(np.full(shape, _unwrap(value), dtype=dtype))

    return fn


def _where(condition: Any, x: Any = None, y: Any = None) -> Any:
    if x is None and y is None:
        return np.nonzero(_unwrap(condition))
    return F.where(condition, _operand(x), _operand(y))


def _nan_reduce(method: str, fill: float) -> Callable:
    def fn(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
           keepdims: bool = False, **kw: Any) -> Tensor:
        t = _t(a)
        nan = np.isnan(t.data)
        clean = F.where(nan, Tensor._wrap(np.asarray(fill, dtype=t.dtype)), t)
        if method == "mean":
            count = (~nan).sum(axis=axis, keepdims=keepdims)
            return clean.sum(axis, keepdims=keepdims) / count
        return nf.reduce(method)(clean, axis, dtype, out, keepdims, **kw)

    return fn


FUNCTIONS: dict[Callable, Callable] = {
    np.sum: nf.reduce("sum"),
    np.mean: nf.reduce("mean"),
    np.max: nf.reduce("amax"),
    np.amax: nf.reduce("amax"),
    np.min: nf.reduce("amin"),
    np.amin: nf.reduce("amin"),
    np.var: nf.reduce("var"),
    np.std: nf.reduce("std"),
    np.prod: nf.prod,
    np.nansum: _nan_reduce("sum", 0.0),
    np.nanmean: _nan_reduce("mean", 0.0),
    np.nanmax: _nan_reduce("amax", -np.inf),
    np.nanmin: _nan_reduce("amin", np.inf),
    np.cumsum: nf.cumsum,
    np.cumprod: nf.cumprod,
    np.argmax: nf.argreduce("argmax"),
    np.argmin: nf.argreduce("argmin"),
    np.median: nf.median,
    np.average: nf.average,
    np.ptp: nf.ptp,
    np.dot: nf.dot,
    np.vdot: nf.vdot,
    np.inner: nf.inner,
    np.outer: nf.outer,
    np.tensordot: nf.tensordot,
    np.einsum: nf.einsum,
    np.kron: nf.kron,
    np.cross: nf.cross,
    np.trace: nf.trace,
    np.diag: nf.diag,
    np.diagonal: nf.diagonal,
    np.tril: nf.tril,
    np.triu: nf.triu,
    np.transpose: lambda a, axes=None: _t(a).T if axes is None else _t(a).permute(axes),
    np.reshape: _reshape,
    np.ravel: lambda a, order="C": _reshape(a, -1, order),
    np.copyto: _in_place(np.copyto, _copyto),
    np.fill_diagonal: _in_place(np.fill_diagonal, _fill_diagonal),
    np.putmask: _in_place(np.putmask, _putmask),
    np.place: _in_place(np.place, _place),
    np.put: _in_place(np.put, _put),
    np.put_along_axis: _in_place(np.put_along_axis, _put_along_axis),
    np.squeeze: lambda a, axis=None: _t(a).squeeze(axis),
    np.expand_dims: lambda a, axis: _expand_dims(a, axis),
    np.swapaxes: lambda a, axis1, axis2: _t(a).swapaxes(axis1, axis2),
    np.moveaxis: nf.moveaxis,
    np.rollaxis: nf.rollaxis,
    np.broadcast_to: lambda a, shape, **kw: _t(a).broadcast_to(
        (shape,) if isinstance(shape, int) else shape),
    np.broadcast_arrays: nf.broadcast_arrays,
    np.atleast_1d: nf.atleast_1d,
    np.atleast_2d: nf.atleast_2d,
    np.atleast_3d: nf.atleast_3d,
    np.concatenate: nf.concatenate,
    np.stack: nf.stack,
    np.vstack: nf.vstack,
    np.hstack: nf.hstack,
    np.dstack: nf.dstack,
    np.column_stack: nf.column_stack,
    np.append: nf.append,
    np.split: nf.split,
    np.array_split: nf.array_split,
    np.hsplit: nf.hsplit,
    np.vsplit: nf.vsplit,
    np.dsplit: nf.dsplit,
    np.tile: nf.tile,
    np.repeat: nf.repeat,
    np.flip: nf.flip,
    np.fliplr: nf.fliplr,
    np.flipud: nf.flipud,
    np.roll: nf.roll,
    np.sort: nf.sort,
    np.partition: nf.partition,
    np.take: nf.take,
    np.take_along_axis: nf.take_along_axis,
    np.diff: nf.diff,
    np.gradient: nf.gradient,
    np.select: nf.select,
    np.where: _where,
    np.clip: _clip,
    np.pad: _pad,
    np.round: lambda a, decimals=0, out=None: _t(a).round(decimals),
    np.around: lambda a, decimals=0, out=None: _t(a).round(decimals),
    np.fix: lambda a, out=None: Rounding.apply(_t(a), fn=np.fix),
    np.copy: lambda a, **kw: _t(a).clone(),
    np.real: nf.real,
    np.imag: nf.imag,
    np.conj: nf.conj,
    np.angle: nf.angle,
    np.real_if_close: nf.real_if_close,
    np.ones_like: _like(1),
    np.zeros_like: _like(0),
    np.full_like: _like(None),
    np.empty_like: _like(0),
    np.shape: lambda a: np.shape(_unwrap(a)),
    np.ndim: lambda a: np.ndim(_unwrap(a)),
    np.size: lambda a, axis=None: np.size(_unwrap(a), axis),
    np.linalg.norm: nf.norm,
}


def _expand_dims(a: Any, axis: Any) -> Tensor:
    t = _t(a)
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    nd = t.ndim + len(axes)
    axes = sorted(normalize_dims(axes, nd, "expand_dims", t.shape))
    shape = list(t.shape)
    for ax in axes:
        shape.insert(ax, 1)
    return t.reshape(shape)


def _unwrap(x: Any) -> Any:
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, list | tuple):
        return type(x)(_unwrap(i) for i in x)
    return x


def _needs_grad(x: Any) -> bool:
    if isinstance(x, Tensor):
        return x._requires_grad
    if isinstance(x, list | tuple):
        return any(_needs_grad(i) for i in x)
    if isinstance(x, dict):
        return any(_needs_grad(i) for i in x.values())
    return False


def _is_float(result: Any) -> bool:
    if isinstance(result, np.ndarray | np.generic):
        return result.dtype.kind in "fc"
    if isinstance(result, list | tuple):
        return any(_is_float(r) for r in result)
    return isinstance(result, float | complex)


def _wrap_result(result: Any) -> Any:
    if isinstance(result, np.ndarray):
        return Tensor._wrap(result)
    if isinstance(result, list | tuple) and any(isinstance(r, np.ndarray) for r in result):
        return type(result)(_wrap_result(r) for r in result)
    return result


def _fallback(name: str, call: Callable, args: tuple, kwargs: dict) -> Any:
    """Run a numpy function without a mapping on the arrays; refuse to cut a gradient."""
    if flags.grad_enabled and (_needs_grad(args) or _needs_grad(kwargs)):
        result = call(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
        if _is_float(result):
            raise TypeError(
                f"{name} has no gradient in tinygrad_edu, and an input requires grad: its "
                "result would silently lose the gradient. Write it with differentiable numpy "
                "functions (tinygrad_edu.numpy_interop.FUNCTIONS and UFUNCS list them), or "
                "call it on x.detach() if no gradient is needed."
            )
        return _wrap_result(result)
    return _wrap_result(call(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()}))


def _into_out(name: str, out: tuple, compute: Callable, call: Callable, args: tuple,
              kwargs: dict) -> Any:
    """``np.f(..., out=target)``: a Tensor target changes in place (its graph rebased, its old
    value kept for the ops that read it); a numpy target takes the plain result, which is
    only allowed when nothing requires grad."""
    from .autograd import inplace

    if len(out) != 1:
        raise TypeError(f"{name} with several out= arrays is not supported on tensors")
    (target,) = out
    if isinstance(target, Tensor):
        if target._records_inplace() or (flags.grad_enabled and _needs_grad(args)):
            return inplace.rebase(target, name, lambda old, *ins: compute(*ins), args, "unsafe")
        target.copy_(compute(*args))
        return target
    if flags.grad_enabled and (_needs_grad(args) or _needs_grad(kwargs)):
        raise TypeError(
            f"{name}(..., out=<numpy array of shape {target.shape}, {target.dtype}>): the "
            "result requires grad and a numpy array cannot hold a gradient; assign the result "
            "instead (y = f(x)), or detach() the inputs if no gradient is needed. A parameter "
            "update written `p.data += -lr * grad` (p.data is p's numpy array) takes a grad "
            "computed under `with no_grad():`, or grad.detach()"
        )
    return call(*_unwrap(args), out=target, **{k: _unwrap(v) for k, v in kwargs.items()})


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    name = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    out = kwargs.pop("out", None)
    compute = None  # compute(*inputs) -> Tensor
    if method == "__call__":
        fn = UFUNCS.get(ufunc)
        dtype = kwargs.pop("dtype", None) if fn is not None else None
        if fn is not None and not kwargs:
            compute = fn if dtype is None else (lambda *xs: fn(*xs).astype(dtype))
    elif method == "reduce" and ufunc in REDUCE:
        kwargs.setdefault("axis", 0)  # a ufunc reduces axis 0 unless told (np.sum: all axes)
        compute = lambda *xs: REDUCE[ufunc](*xs, **kwargs)  # noqa: E731
    elif method == "accumulate" and ufunc in ACCUMULATE:
        kwargs.setdefault("axis", 0)  # likewise (np.cumsum flattens without an axis)
        compute = lambda *xs: ACCUMULATE[ufunc](*xs, **kwargs)  # noqa: E731
    elif method == "outer" and ufunc in UFUNCS and not kwargs:
        def compute(a: Any, b: Any) -> Tensor:
            a, b = _t(a), _t(b)
            return UFUNCS[ufunc](a.reshape(*a.shape, *(1,) * b.ndim), b)
    elif method == "at" and ufunc in (np.add, np.subtract) and not kwargs:
        return _ufunc_at(ufunc, *inputs)
    if compute is None:
        if out is not None:
            kwargs["out"] = out
        return _fallback(name, getattr(ufunc, method), inputs, kwargs)
    if out is not None:
        return _into_out(name, out, compute, getattr(ufunc, method), inputs, kwargs)
    return compute(*inputs)


def _ufunc_at(ufunc: np.ufunc, a: Any, indices: Any, b: Any = None) -> None:
    """``np.add.at(a, idx, b)``: unbuffered in place, repeated indices accumulate."""
    from .ops.movement import ScatterAdd

    if not isinstance(a, Tensor):
        if _needs_grad((indices, b)) and flags.grad_enabled:
            raise TypeError(f"np.{ufunc.__name__}.at into a numpy array cannot hold a gradient; "
                            "use a Tensor (e.g. np.zeros_like(param)) as the target")
        ufunc.at(a, _unwrap(indices), _unwrap(b))
        return
    idx = indices if isinstance(indices, tuple) else (indices,)
    idx = tuple(_unwrap(i) for i in idx)
    places = np.arange(a.data.size).reshape(a.shape)[idx]
    vals = _t(b).broadcast_to(places.shape).reshape(-1)
    if ufunc is np.subtract:
        vals = -vals
    added = ScatterAdd.apply(vals, shape=(a.data.size,), index=(places.reshape(-1),))
    a.add_(added.reshape(a.shape))


def array_function(func: Callable, args: tuple, kwargs: dict) -> Any:
    fn = FUNCTIONS.get(func)
    if fn is not None:
        return fn(*args, **kwargs)
    return _fallback(_numpy_name(func), func, args, kwargs)


def _numpy_name(func: Callable) -> str:
    """How a learner writes ``func``: ``np.linalg.inv``, ``np.fft.fft``, ``np.sum``.

    >>> _numpy_name(np.linalg.inv), _numpy_name(np.cov)
    ('np.linalg.inv', 'np.cov')
    """
    module = getattr(func, "__module__", None) or "numpy"
    prefix = "np" + module[len("numpy"):] if module.startswith("numpy") else module
    return f"{prefix}.{func.__name__}"


def _install() -> None:
    def __array_ufunc__(self: Tensor, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any):
        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self: Tensor, func: Callable, types: tuple, args: tuple, kwargs: dict):
        return array_function(func, args, kwargs)

    Tensor.__array_ufunc__ = __array_ufunc__  # type: ignore[attr-defined]
    Tensor.__array_function__ = __array_function__  # type: ignore[attr-defined]


_install()
