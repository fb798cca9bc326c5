"""Pointwise primitives PyTorch names that numpy composites would get wrong at the edges:
exact ``log2``/``log10``/``exp2``, ``erfinv``, ``xlogy`` (0 where x == 0), and ``remainder``
and ``fmod`` with numpy's (= PyTorch's) values (``a - floor(a / b) * b`` gives 0 for
``1.0 % 0.1``; the true remainder, and numpy's, is 0.0999...).

Backward rules use numpy functions, so they also run on Tensors under ``create_graph=True``.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from .trig import _unary

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)



def _via_float64(fn):
    """``fn`` computed in float64 and rounded to the input's float dtype (numpy's float32
    log10 and log2 are a few ulp off: log10(100) = 2.0000002); integers give float32, as
    PyTorch's default dtype."""

    def forward(x):
        x = np.asarray(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.float32
        return fn(x.astype(np.float64)).astype(dtype, copy=False)

    return forward


Log2 = _unary("Log2", _via_float64(np.log2), lambda x: 1 / (x * _LN2),
              "log₂ x; d/dx = 1 / (x ln 2)")
Log10 = _unary("Log10", _via_float64(np.log10), lambda x: 1 / (x * _LN10),
               "log₁₀ x; d/dx = 1 / (x ln 10)")
Exp2 = _unary("Exp2", _via_float64(np.exp2), lambda x: np.exp2(x) * _LN2,
              "2^x; d/dx = 2^x ln 2")
for _cls in (Log2, Log10, Exp2):
    _cls.__module__ = __name__

_erf = np.frompyfunc(math.erf, 1, 1)
_erfc = np.frompyfunc(math.erfc, 1, 1)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _erfinv_guess(x: np.ndarray) -> np.ndarray:
    """M. Giles' single-precision approximation of erfinv ("Approximating the erfinv
    function", GPU Computing Gems, 2011): ~1e-7 relative error on (-1, 1)."""
    w = -np.log((1 - x) * (1 + x))
    central, tail = w - 2.5, np.sqrt(w) - 3
    p = np.full_like(x, 2.81022636e-08)
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p = c + p * central
    q = np.full_like(x, -0.000200214257)
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        q = c + q * tail
    return np.where(w < 5, p, q) * x


def erfinv(x: np.ndarray) -> np.ndarray:
    """The inverse error function (float64 internally): Giles' approximation polished by
    Newton steps, on ``log erfc(|y|) = log(1 - |x|)`` for |x| >= 0.5 (1 - |x| is exact there;
    ``erf(y) = x`` would lose its digits); ±inf at ±1, nan outside [-1, 1], as in PyTorch."""
    x64 = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = np.abs(x64) < 1
        xs = np.where(inside, x64, 0.0)
        a = np.abs(xs)
        tail = 1 - a
        y = np.abs(_erfinv_guess(xs))
        central = a < 0.5
        log_tail = np.log(np.where(central, 1.0, tail))
        for _ in range(4):
            slope = _TWO_OVER_SQRT_PI * np.exp(-y * y)
            erfc = np.asarray(_erfc(y), dtype=np.float64)
            # Newton on erf(y) = a centrally, on log(erfc(y)) = log(1 - a) in the tails (far
            # from 1 - a's scale, plain Newton on erfc overshoots)
            y = np.where(central, y - (np.asarray(_erf(y), dtype=np.float64) - a) / slope,
                         y + (np.log(erfc) - log_tail) * erfc / slope)
        y = np.copysign(y, xs)
        out = np.where(inside, y, np.where(np.abs(x64) == 1, np.sign(x64) * np.inf, np.nan))
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float32)


class Erfinv(Function):
    """``erfinv(x)``; d/dx = √π / 2 · exp(erfinv(x)²)."""

    @staticmethod
    def forward(ctx, x):
        out = erfinv(np.asarray(x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (1 / _TWO_OVER_SQRT_PI) * np.exp(out * out)


class Xlogy(Function):
    """``x * log(y)``, 0 where ``x == 0`` (unless y is nan), as PyTorch's ``xlogy``.

    Gradients as PyTorch's: d/dx = log(y), but 0 where x == 0 and y <= 0; d/dy = x / y."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((x == 0) & ~np.isnan(y), 0, x * np.log(y))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        gx = gy = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if nx:
                dead = (x == 0) & (y <= 0)
                gx = np.where(dead, 0, g * np.log(np.where(dead, 1, y)))
            if ny:
                gy = g * x / y
        return gx, gy


class Remainder(Function):
    """``a mod b`` with the sign of ``b`` (Python's ``%``, numpy's ``remainder``); d/da = 1,
    d/db = -floor(a / b) (numpy's ``floor_divide``, consistent with the value)."""

    @staticmethod
    def forward(ctx, a, b):
        _check_int_divisor(a, b)
        ctx.save_for_backward(a, b)
        return np.remainder(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (g if na else None), (-g * np.floor_divide(a, b) if nb else None)


class Fmod(Function):
    """C's ``fmod``: the remainder with the sign of ``a``; d/da = 1, d/db = -trunc(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        _check_int_divisor(a, b)
        ctx.save_for_backward(a, b)
        return np.fmod(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (g if na else None), (-g * np.trunc(a / b) if nb else None)


def _check_int_divisor(a, b) -> None:
    """Integer division by zero has no value (numpy would give 0 and a warning)."""
    if np.result_type(a, b).kind in "iub" and np.any(np.asarray(b) == 0):
        raise ZeroDivisionError("integer division or remainder by zero")


class RoundedDiv(Function):
    """``a / b`` rounded: ``mode='floor'`` as Python's ``//`` (numpy's ``floor_divide``),
    ``'trunc'`` toward zero; integer inputs give exact integer results. Piecewise constant,
    so both gradients are 0 (PyTorch's rule)."""

    @staticmethod
    def forward(ctx, a, b, mode="floor"):
        _check_int_divisor(a, b)
        if mode == "floor":
            return np.floor_divide(a, b)
        if np.result_type(a, b).kind in "iu":
            q = np.floor_divide(a, b)
            # floor and trunc differ where the division is inexact and the signs differ
            return q + ((q * b != a) & ((np.asarray(a) < 0) != (np.asarray(b) < 0)))
        return np.trunc(np.true_divide(a, b))

    @staticmethod
    def backward(ctx, g):
        na, nb = ctx.needs_input_grad
        return (g * 0 if na else None), (g * 0 if nb else None)
