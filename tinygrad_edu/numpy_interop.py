"""numpy functions on Tensors: ``np.exp(t)``, ``np.dot(W, t)``, ``ndarray * t`` give Tensors.

Tensor implements numpy's dispatch protocols (``__array_ufunc__``, NEP 13, and
``__array_function__``, NEP 18) for the functions listed here, which map to differentiable
Tensor operations. Two things follow:

* a student's forward pass written in numpy runs unchanged on Tensors, so autograd can
  differentiate it and a gradient checker can compare it with their hand-written backward;
* the backward rules of the primitives, written in numpy, run on Tensors when
  ``create_graph=True``, which makes gradients differentiable.

A numpy function without a mapping still works when no input requires grad (it runs on the
arrays); when one does and the result is floating point, it raises ``TypeError`` rather than
silently cutting the gradient.

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> w = tg.tensor([[0.5, -1.0]], requires_grad=True)
>>> loss = np.sum(np.tanh(np.dot(w, np.array([1.0, 2.0]))) ** 2)
>>> loss.backward()
>>> w.grad.shape
(1, 2)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from . import functional as F
from .autograd.grad_mode import flags
from .ops import elementwise as _ew
from .ops import linalg as _la
from .tensor import Rounding, Tensor, _operand


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x))


def _unary(method: str) -> Callable:
    return lambda x: getattr(_t(x), method)()


def _nograd(ufunc: np.ufunc) -> Callable:
    def fn(*args: Any) -> Tensor:
        return Tensor._wrap(np.asarray(ufunc(*[_unwrap(a) for a in args])))

    return fn


def _rounding(fn: Callable) -> Callable:
    return lambda x: Rounding.apply(_t(x), fn=fn)


UFUNCS: dict[np.ufunc, Callable] = {
    np.add: lambda a, b: _ew.Add.apply(_operand(a), _operand(b)),
    np.subtract: lambda a, b: _ew.Sub.apply(_operand(a), _operand(b)),
    np.multiply: lambda a, b: _ew.Mul.apply(_operand(a), _operand(b)),
    np.divide: lambda a, b: _ew.Div.apply(_operand(a), _operand(b)),
    np.power: lambda a, b: _ew.Pow.apply(_operand(a), _operand(b)),
    np.float_power: lambda a, b: _ew.Pow.apply(_operand(a), _operand(b)),
    np.matmul: lambda a, b: _la.MatMul.apply(a, b),
    np.maximum: F.maximum,
    np.minimum: F.minimum,
    np.negative: lambda x: _ew.Neg.apply(x),
    np.positive: lambda x: x,
    np.square: lambda x: _ew.Mul.apply(x, x),
    np.reciprocal: lambda x: _ew.Div.apply(1.0, x),
    np.exp: _unary("exp"),
    np.log: _unary("log"),
    np.sqrt: _unary("sqrt"),
    np.absolute: _unary("abs"),
    np.fabs: _unary("abs"),
    np.sin: _unary("sin"),
    np.cos: _unary("cos"),
    np.tanh: _unary("tanh"),
    np.log1p: _unary("log1p"),
    np.expm1: _unary("expm1"),
    np.sign: _rounding(np.sign),
    np.floor: _rounding(np.floor),
    np.ceil: _rounding(np.ceil),
    np.rint: _rounding(np.rint),
}
for _uf in (
    np.greater,
    np.greater_equal,
    np.less,
    np.less_equal,
    np.equal,
    np.not_equal,
    np.logical_and,
    np.logical_or,
    np.logical_xor,
    np.logical_not,
    np.isnan,
    np.isinf,
    np.isfinite,
    np.signbit,
):
    UFUNCS[_uf] = _nograd(_uf)


def _reduction(method: str, ddof_default: int | None = None) -> Callable:
    def fn(
        a: Any,
        axis: Any = None,
        dtype: Any = None,
        out: Any = None,
        keepdims: bool = False,
        ddof: int | None = None,
        **kwargs: Any,
    ) -> Tensor:
        if out is not None:
            raise TypeError(f"np.{method} with out= is not supported on tinygrad_edu tensors")
        t = _t(a)
        if dtype is not None:
            t = t.astype(dtype)
        if ddof_default is not None:
            return getattr(t, method)(
                axis, keepdims=keepdims, ddof=ddof_default if ddof is None else ddof
            )
        return getattr(t, method)(axis, keepdims=keepdims)

    return fn


def _dot(a: Any, b: Any) -> Tensor:
    a, b = _t(a), _t(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim > 2 or b.ndim > 2:
        raise TypeError(
            "np.dot of arrays with more than 2 dimensions is not supported; use np.matmul"
        )
    return a @ b


def _outer(a: Any, b: Any) -> Tensor:
    return _t(a).reshape(-1, 1) * _t(b).reshape(1, -1)


def _np_split(a: Any, indices_or_sections: Any, axis: int = 0) -> list:
    t = _t(a)
    n = t.shape[axis]
    if isinstance(indices_or_sections, int | np.integer):
        if n % indices_or_sections:
            raise ValueError("np.split: array split does not result in an equal division")
        return list(t.split(n // int(indices_or_sections), axis))
    bounds = [0, *[int(i) for i in indices_or_sections], n]
    return list(t.split([hi - lo for lo, hi in itertools.pairwise(bounds)], axis))


def _norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:
    if ord not in (None, 2, "fro") or (ord == 2 and axis is None and _t(x).ndim == 2):
        raise TypeError(f"np.linalg.norm with ord={ord!r} is not supported on tensors")
    t = _t(x)
    return (t * t).sum(axis, keepdims=keepdims).sqrt()


def _pad(array: Any, pad_width: Any, mode: str = "constant", constant_values: float = 0) -> Tensor:
    if mode != "constant":
        raise TypeError(f"np.pad mode={mode!r} is not supported on tensors (only 'constant')")
    return _t(array).pad(pad_width, value=constant_values)


def _like(fill: float | None) -> Callable:
    def fn(a: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Tensor:
        arr = _unwrap(a)
        value = kwargs.pop("fill_value", args[0] if args else 0) if fill is None else fill
        return Tensor._wrap(np.full(np.shape(arr), value, dtype=dtype or arr.dtype))

    return fn


def _vstack(tup: Any) -> Tensor:
    ts = [_t(x) for x in tup]
    return F.cat([t.reshape(1, -1) if t.ndim == 1 else t for t in ts], axis=0)


def _hstack(tup: Any) -> Tensor:
    ts = [_t(x) for x in tup]
    return F.cat(ts, axis=0 if ts[0].ndim == 1 else 1)


FUNCTIONS: dict[Callable, Callable] = {
    np.sum: _reduction("sum"),
    np.mean: _reduction("mean"),
    np.max: _reduction("amax"),
    np.amax: _reduction("amax"),
    np.min: _reduction("amin"),
    np.amin: _reduction("amin"),
    np.var: _reduction("var", ddof_default=0),
    np.std: _reduction("std", ddof_default=0),
    np.argmax: lambda a, axis=None, **kw: _t(a).argmax(axis, **kw),
    np.argmin: lambda a, axis=None, **kw: _t(a).argmin(axis, **kw),
    np.dot: _dot,
    np.outer: _outer,
    np.transpose: lambda a, axes=None: _t(a).T if axes is None else _t(a).permute(axes),
    np.reshape: lambda a, shape=None, order="C", **kw: _t(a).reshape(kw.get("newshape", shape)),
    np.ravel: lambda a: _t(a).reshape(-1),
    np.squeeze: lambda a, axis=None: _t(a).squeeze(axis),
    np.expand_dims: lambda a, axis: _t(a).unsqueeze(axis),
    np.swapaxes: lambda a, axis1, axis2: _t(a).swapaxes(axis1, axis2),
    np.broadcast_to: lambda a, shape, **kw: _t(a).broadcast_to(shape),
    np.concatenate: lambda arrays, axis=0, **kw: F.cat(list(arrays), axis=axis),
    np.stack: lambda arrays, axis=0, **kw: F.stack(list(arrays), axis=axis),
    np.vstack: _vstack,
    np.hstack: _hstack,
    np.split: _np_split,
    np.where: lambda condition, x=None, y=None: (
        tuple(Tensor._wrap(i) for i in np.nonzero(_unwrap(condition)))
        if x is None and y is None
        else F.where(condition, x, y)
    ),
    np.clip: lambda a, a_min=None, a_max=None, **kw: _t(a).clamp(
        kw.get("min", a_min), kw.get("max", a_max)
    ),
    np.pad: _pad,
    np.round: lambda a, decimals=0, out=None: _t(a).round(decimals),
    np.around: lambda a, decimals=0, out=None: _t(a).round(decimals),
    np.copy: lambda a, **kw: _t(a).clone(),
    np.ones_like: _like(1),
    np.zeros_like: _like(0),
    np.full_like: _like(None),
    np.empty_like: _like(0),
    np.shape: lambda a: np.shape(_unwrap(a)),
    np.ndim: lambda a: np.ndim(_unwrap(a)),
    np.size: lambda a, axis=None: np.size(_unwrap(a), axis),
    np.linalg.norm: _norm,
}


def _unwrap(x: Any) -> Any:
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, list | tuple):
        return type(x)(_unwrap(i) for i in x)
    return x


def _needs_grad(x: Any) -> bool:
    if isinstance(x, Tensor):
        return x.requires_grad
    if isinstance(x, list | tuple):
        return any(_needs_grad(i) for i in x)
    return False


def _fallback(name: str, call: Callable, args: tuple, kwargs: dict) -> Any:
    """Run a numpy function without a mapping on the arrays; refuse to cut a gradient."""
    result = call(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
    if isinstance(result, np.ndarray):
        if (
            result.dtype.kind in "fc"
            and flags.grad_enabled
            and (_needs_grad(args) or _needs_grad(list(kwargs.values())))
        ):
            raise TypeError(
                f"numpy's {name} has no gradient in tinygrad_edu, and an input requires grad. "
                "Use Tensor methods (see tinygrad_edu.numpy_interop.FUNCTIONS for the numpy "
                "functions that work), or call it on x.detach().numpy() if no gradient is needed."
            )
        return Tensor._wrap(result)
    return result


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    fn = UFUNCS.get(ufunc)
    if fn is not None and method == "__call__" and not kwargs:
        return fn(*inputs)
    return _fallback(f"{ufunc.__name__}.{method}", getattr(ufunc, method), inputs, kwargs)


def array_function(func: Callable, args: tuple, kwargs: dict) -> Any:
    fn = FUNCTIONS.get(func)
    if fn is not None:
        return fn(*args, **kwargs)
    return _fallback(f"np.{func.__name__}", func, args, kwargs)


def _install() -> None:
    def __array_ufunc__(self: Tensor, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any):
        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self: Tensor, func: Callable, types: tuple, args: tuple, kwargs: dict):
        return array_function(func, args, kwargs)

    Tensor.__array_ufunc__ = __array_ufunc__  # type: ignore[attr-defined]
    Tensor.__array_function__ = __array_function__  # type: ignore[attr-defined]


_install()
