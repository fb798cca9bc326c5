"""The one primitive the nn layer adds: ``Linear`` (``x @ w.T + b`` as a single graph node).

As a composite, a dense layer records three nodes (a transpose, a product and a sum) and its
backward runs three rules; on the small nets of the seed problems that per-node overhead is
most of a training step. Measured on benchmark W2 (seed 000's 2-2-4-1 net, batch 10,
interleaved minimum of 15 blocks): 386 µs per step with the composite, 249 µs with this
primitive (W2-sgd: 337 → 205 µs). The backward is written with numpy operations, so under
``create_graph=True`` it runs on Tensors and is itself differentiable.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function

_ONES: dict[tuple, np.ndarray] = {}


def _sum_rows(g):
    """``g.sum(0)``; on arrays as a product with a vector of ones, which BLAS does several
    times faster than numpy's reduction over the leading axis (3x for (10, 4), 2x for
    (128, 256) float32)."""
    if type(g) is not np.ndarray:  # a Tensor, under create_graph
        return g.sum(0)
    key = (g.shape[0], g.dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 64:
            _ONES.clear()
        ones = _ONES[key] = np.ones(g.shape[0], g.dtype)
        ones.flags.writeable = False
    return ones @ g


class Linear(Function):
    """``x @ w.T + b`` with ``w`` of shape (out, in); ``x`` (..., in); ``b`` (out,) or absent."""

    _fresh_grads = True  # every gradient is a new product

    @staticmethod
    def forward(ctx, x, w, b=None):
        ctx.save_for_backward(x, w)
        out = x @ w.T
        return out if b is None else out + b

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gx = g @ w if needs[0] else None
        gw = gb = None
        if needs[1] or (len(needs) > 2 and needs[2]):
            g2 = g.reshape(-1, g.shape[-1])
            if needs[1]:
                gw = g2.T @ x.reshape(-1, x.shape[-1])
            if len(needs) > 2 and needs[2]:
                gb = _sum_rows(g2)
        return (gx, gw) if len(needs) == 2 else (gx, gw, gb)
