"""Elementwise primitives: arithmetic, unary math, activations, selections."""

from __future__ import annotations

import contextvars
import math
import operator
import threading
from typing import Any

import numpy as np

from ..autograd import function as _function
from ..autograd.function import Function

_ndarray = np.ndarray


def _on_scalars(op: Any, x: np.ndarray, y: Any) -> Any:
    """``op(x, y)`` for a 0-d array ``x`` (a loss divided by a number, say).

    When ``x`` is float32/float64 and ``y`` a Python int or float or a 0-d array, computed on
    numpy scalars and returned as a 0-d array: numpy's scalar arithmetic takes ~0.1 µs where
    its ufunc on 0-d arrays takes ~0.6 µs, and returns a numpy scalar that ``apply`` would
    convert. The same value and dtype: both follow NEP 50 (a Python number takes the array's
    dtype). Integer arrays keep the ufunc, which wraps on overflow where scalars warn."""
    t = type(y)
    if x.dtype in _ONE and (t is float or t is int or (t is _ndarray and not y.ndim)):
        return op(x[()], y[()] if t is _ndarray else y).__array__()
    return op(x, y)


class Add(Function):
    @staticmethod
    def forward(ctx, x, y):
        if type(x) is _ndarray and not x.ndim:
            return _on_scalars(operator.add, x, y)
        return x + y

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    @staticmethod
    def forward(ctx, x, y):
        if type(x) is _ndarray and not x.ndim:
            return _on_scalars(operator.sub, x, y)
        return x - y

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    _fresh_grads = True  # new products, one per input

    @staticmethod
    def forward(ctx, x, y):
        # save only what backward reads: a value changed in place later (d += d * 2) must
        # not fail a backward that never needed it
        nx, ny = ctx.needs_input_grad
        ctx.saved = (x if ny else None, y if nx else None)  # save_for_backward, inlined
        if type(x) is _ndarray and not x.ndim:
            return _on_scalars(operator.mul, x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        return (g * y if nx else None), (g * x if ny else None)


class Div(Function):
    _fresh_grads = True  # new products, one per input

    @staticmethod
    def forward(ctx, x, y):
        ctx.saved = (x if ctx.needs_input_grad[1] else None, y)  # save_for_backward, inlined
        if type(x) is _ndarray and not x.ndim:
            return _on_scalars(operator.truediv, x, y)
        return x / y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        if type(g) is np.ndarray and not g.ndim:  # a loss divided by a number, say
            g = g[()]  # as a numpy scalar: the same quotient, ~0.5 µs sooner
        gx = g / y
        return (gx if nx else None), (-gx * x / y if ny else None)


class Pow(Function):
    """``x ** y``; the gradient with respect to ``y`` is ``out * log(x)`` (0 where x == 0)."""

    @staticmethod
    def forward(ctx, x, y):
        # ``**`` rather than np.power: for a Python exponent numpy's operator takes its fast
        # paths (x ** 2 is a square, 2x faster than pow on small float32 arrays)
        out = x**y if type(y) is int or type(y) is float else np.power(x, y)
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, g):
        # As PyTorch's pow_backward: d/dx is 0 where the exponent is 0 (not 0 * 0 ** -1 = nan at
        # x = 0), so x ** 0 at 0 and the second derivative of x ** 1 at 0 are 0; d/dy is 0 where
        # x == 0 and y >= 0. Masked only where the formula is 0/0, so mixed derivatives survive.
        x, y, out = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        gx = gy = None
        if nx and type(y) is int and y == 2:  # the common square: no x ** 1 (numpy's slow path)
            gx = g * 2 * x
        elif nx:
            zero_zero = (_value(y) == 0) & (_value(x) == 0)  # 0 * 0 ** -1
            if np.any(zero_zero):  # 1 on the masked side: no 0/0 at any order
                gx = np.where(zero_zero, 0, g * y * np.where(zero_zero, 1, x) ** (y - 1))
            else:
                gx = g * y * x ** (y - 1)
        if ny:
            base_zero = (_value(x) == 0) & (_value(y) >= 0)
            with np.errstate(divide="ignore", invalid="ignore"):  # log of 0 or of x < 0
                if np.any(base_zero):
                    gy = np.where(base_zero, 0, g * out * np.log(np.where(base_zero, 1, x)))
                else:
                    gy = g * out * np.log(x)
        return gx, gy


def _value(v):
    """The numbers of ``v`` (an array, a scalar, or a Tensor in a graph-building backward)."""
    return v.data if isinstance(v, _function.Tensor) else v


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (2 * out)


class Abs(Function):
    """``|x|``; its gradient at 0 is 0, as in PyTorch."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * np.sign(x)


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * np.cos(x)


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * np.sin(x)


def _read_only(value: int, dtype: type) -> np.ndarray:
    a = np.array(value, dtype)
    a.flags.writeable = False
    return a


# 0 and 1 as 0-d arrays of a float dtype: numpy computes with them ~0.3 µs sooner than with
# Python's 0 and 1, which it converts on every call (to these same values)
_ZERO = {np.dtype(t): _read_only(0, t) for t in (np.float32, np.float64)}
_ONE = {np.dtype(t): _read_only(1, t) for t in (np.float32, np.float64)}


def _one_like(a):
    """1 as ``_ONE`` has it for a float32/float64 array ``a``; the Python 1 otherwise (a
    Tensor, under create_graph; other dtypes)."""
    return _ONE.get(a.dtype, 1) if type(a) is np.ndarray else 1


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (_one_like(out) - out * out)


def _quiet_exp_context() -> contextvars.Context:
    """A fresh context in which numpy ignores float overflow and underflow."""
    context = contextvars.Context()
    context.run(np.seterr, over="ignore", under="ignore")
    return context


# numpy >= 2 keeps its floating-point error state in a context variable: ``np.exp`` run in a
# context made once with overflow ignored costs ~0.05 µs more than a bare call, where entering
# and leaving ``np.errstate`` costs ~1.2 µs per call. One context per thread (a context cannot
# be entered by two threads at once); an empty one, so it holds none of the caller's state.
if np.lib.NumpyVersion(np.__version__) >= "2.0.0":
    _quiet = threading.local()

    def _quiet_exp(x: Any, out: np.ndarray | None = None) -> Any:
        """``np.exp(x, out)`` without over/underflow warnings (exp(-x) of a large negative
        ``x`` is inf: the sigmoid is then 0, as it should be)."""
        try:
            run = _quiet.run
        except AttributeError:  # the thread's first call
            run = _quiet.run = _quiet_exp_context().run
        return run(np.exp, x, out)

else:  # numpy 1.x keeps the state per thread, and seterr in a context would change it there

    def _quiet_exp(x: Any, out: np.ndarray | None = None) -> Any:
        """``np.exp(x, out)`` without over/underflow warnings."""
        with np.errstate(over="ignore", under="ignore"):
            return np.exp(x, out)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), in place in the array ``-x`` makes; exp overflowing to inf (x below
    about -88.7 in float32, -709.8 in float64) correctly gives 0, without a warning."""
    e = np.negative(x)
    if type(e) is not np.ndarray:  # a 0-d input's numpy scalar
        return 1 / (1 + _quiet_exp(e))
    if e.dtype.kind != "f":  # complex (1 / z is not numpy's reciprocal of z); ints (float64)
        e = _quiet_exp(e) + 1
        return np.reciprocal(e, out=e)
    _quiet_exp(e, e)
    one = _ONE.get(e.dtype, 1)
    e += one
    # divide, not np.reciprocal: the same quotient for real floats, but numpy's reciprocal
    # has no SIMD loop (0.6 µs more on (1000, 6) float32, 2 µs in float64)
    return np.divide(one, e, out=e)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        out = _sigmoid(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out * (_one_like(out) - out)


class Relu(Function):
    """``max(x, 0)``; its gradient at 0 is 0, as in PyTorch.

    Saves where ``x > 0`` as 1s and 0s of ``x``'s dtype: backward's ``g * mask`` is then a
    product of two float arrays, ~3x quicker on small arrays than with a boolean mask (which
    numpy casts on the fly), and the same numbers."""

    _fresh_grads = True  # a new product

    @staticmethod
    def forward(ctx, x):
        zero = _ZERO.get(x.dtype, 0)
        if ctx.needs_input_grad[0]:  # recorded: backward will need the mask
            ctx.saved = ((x > zero).astype(x.dtype),)  # save_for_backward, inlined
        return np.maximum(x, zero)

    @staticmethod
    def backward(ctx, g):
        # the saved array, also under create_graph: the mask is a constant either way
        (mask,) = ctx.saved or ctx.saved_tensors  # (saved_tensors: the freed graph's error)
        return g * mask


class LeakyRelu(Function):
    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return np.where(x > 0, g, g * ctx.negative_slope)


class Elu(Function):
    @staticmethod
    def forward(ctx, x, alpha=1.0):
        out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
        ctx.save_for_backward(x, out)
        ctx.alpha = alpha
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        return np.where(x > 0, g, g * (out + ctx.alpha))


_erf = np.frompyfunc(math.erf, 1, 1)


class Erf(Function):
    """The error function (exact, via ``math.erf``); used by the exact GELU."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.asarray(_erf(x), dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (2 / math.sqrt(math.pi)) * np.exp(-(x * x))


class Softplus(Function):
    """``log(1 + exp(beta x)) / beta``, linear above ``threshold`` as in PyTorch."""

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        bx = x * beta
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        soft = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / beta
        return np.where(bx > threshold, x, soft)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        bx = x * ctx.beta
        # sigmoid(bx) = exp(-softplus(-bx)), finite everywhere
        sig = np.exp(-(np.maximum(-bx, 0) + np.log1p(np.exp(-np.abs(bx)))))
        return np.where(bx > ctx.threshold, g, g * sig)


class Clamp(Function):
    """Clip to ``[min, max]``; the gradient passes where ``min <= x <= max`` (PyTorch's rule)."""

    @staticmethod
    def forward(ctx, x, min=None, max=None):
        ctx.save_for_backward(x)
        ctx.bounds = (min, max)
        return np.clip(x, min, max)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        inside = True
        if lo is not None:
            inside = x >= lo
        if hi is not None:
            inside = inside & (x <= hi) if lo is not None else x <= hi
        return np.where(inside, g, 0)


class Maximum(Function):
    """Elementwise max; at ties each input gets half the gradient (PyTorch's rule)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.maximum(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        half = g * 0.5
        tie = x == y
        gx = np.where(x > y, g, np.where(tie, half, 0))
        gy = np.where(y > x, g, np.where(tie, half, 0))
        return gx, gy


class Minimum(Function):
    """Elementwise min; at ties each input gets half the gradient (PyTorch's rule)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.minimum(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        half = g * 0.5
        tie = x == y
        gx = np.where(x < y, g, np.where(tie, half, 0))
        gy = np.where(y < x, g, np.where(tie, half, 0))
        return gx, gy


class Where(Function):
    """``where(condition, x, y)``; ``condition`` is a boolean array and gets no gradient."""

    @staticmethod
    def forward(ctx, condition, x, y):
        ctx.save_for_backward(condition)
        return np.where(condition, x, y)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        _, nx, ny = ctx.needs_input_grad
        return (
            None,
            np.where(cond, g, 0) if nx else None,
            np.where(cond, 0, g) if ny else None,
        )


class Cast(Function):
    """Change dtype; the gradient is cast back to the input's dtype."""

    @staticmethod
    def forward(ctx, x, dtype=None):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.in_dtype)


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return np.array(x, copy=True)

    @staticmethod
    def backward(ctx, g):
        return g
