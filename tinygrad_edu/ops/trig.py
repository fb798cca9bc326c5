"""Trigonometric and hyperbolic primitives and their inverses: tan, arcsin ... arctanh, arctan2,
cbrt.

Each is numpy's function forward and ``g * derivative(x)`` backward, the derivative written with
numpy functions: on arrays in an ordinary backward, on Tensors (so differentiable again) under
``create_graph=True``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autograd.function import Function


def _unary(name: str, forward: Callable, derivative: Callable, doc: str) -> type[Function]:
    def fwd(ctx, x):
        ctx.save_for_backward(x)
        return forward(x)

    def bwd(ctx, g):
        (x,) = ctx.saved_tensors
        return g * derivative(x)

    return type(name, (Function,), {"__doc__": doc, "__module__": __name__,
                                    "forward": staticmethod(fwd), "backward": staticmethod(bwd)})


Tan = _unary("Tan", np.tan, lambda x: 1 + np.tan(x) ** 2, "tan x; d/dx = 1 + tan² x")
Sinh = _unary("Sinh", np.sinh, np.cosh, "sinh x; d/dx = cosh x")
Cosh = _unary("Cosh", np.cosh, np.sinh, "cosh x; d/dx = sinh x")
Arcsin = _unary("Arcsin", np.arcsin, lambda x: 1 / np.sqrt(1 - x * x),
                "arcsin x; d/dx = 1 / sqrt(1 - x²)")
Arccos = _unary("Arccos", np.arccos, lambda x: -1 / np.sqrt(1 - x * x),
                "arccos x; d/dx = -1 / sqrt(1 - x²)")
Arctan = _unary("Arctan", np.arctan, lambda x: 1 / (1 + x * x), "arctan x; d/dx = 1 / (1 + x²)")
Arcsinh = _unary("Arcsinh", np.arcsinh, lambda x: 1 / np.sqrt(x * x + 1),
                 "arcsinh x; d/dx = 1 / sqrt(x² + 1)")
Arccosh = _unary("Arccosh", np.arccosh, lambda x: 1 / np.sqrt(x * x - 1),
                 "arccosh x; d/dx = 1 / sqrt(x² - 1)")
Arctanh = _unary("Arctanh", np.arctanh, lambda x: 1 / (1 - x * x),
                 "arctanh x; d/dx = 1 / (1 - x²)")
Cbrt = _unary("Cbrt", np.cbrt, lambda x: 1 / (3 * np.cbrt(x) ** 2), "cube root; d/dx = 1 / (3 x^⅔)")


class Arctan2(Function):
    """``arctan2(y, x)``, the angle of the point (x, y); d/dy = x / r², d/dx = -y / r²."""

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx, g):
        y, x = ctx.saved_tensors
        ny, nx = ctx.needs_input_grad
        r2 = x * x + y * y
        origin = r2 == 0  # PyTorch's gradient at the origin (no direction there): 0, not NaN
        scale = np.where(origin, 0.0, g / np.where(origin, 1.0, r2))
        return (scale * x if ny else None), (-scale * y if nx else None)
