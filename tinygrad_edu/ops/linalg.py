"""Matrix product, with numpy's rules for 1-D operands and broadcast batch dimensions."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def _matmul_error(a, b) -> ValueError:
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        return ValueError(
            f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and "
            f"{b.ndim}D (shapes {a.shape} and {b.shape}); use * to multiply by a scalar"
        )
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != inner_b:
        where = "second-to-last" if b.ndim > 1 else "only"
        return ValueError(
            f"shapes {a.shape} and {b.shape} are not aligned: the last dimension of the first "
            f"({a.shape[-1]}) must equal the {where} dimension of the second ({inner_b}). "
            "Check the layer sizes, or whether one operand needs .T"
        )
    return ValueError(
        f"the batch dimensions of {a.shape} and {b.shape} cannot be broadcast together"
    )


class MatMul(Function):
    _fresh_grads = True  # every gradient is a new product

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            return a @ b
        except ValueError:
            raise _matmul_error(a, b) from None

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:  # dot product: g is 0-d
            return (g * b if na else None), (g * a if nb else None)
        if a.ndim == 1:  # (n,) @ (..., n, m) -> (..., m)
            ga = (g[..., None, :] @ b.swapaxes(-1, -2))[..., 0, :] if na else None
            gb = a[:, None] * g[..., None, :] if nb else None
            return ga, gb
        if b.ndim == 1:  # (..., n, m) @ (m,) -> (..., n)
            ga = g[..., :, None] * b if na else None
            gb = (a.swapaxes(-1, -2) @ g[..., :, None])[..., 0] if nb else None
            return ga, gb
        ga = g @ b.swapaxes(-1, -2) if na else None
        gb = a.swapaxes(-1, -2) @ g if nb else None
        return ga, gb
