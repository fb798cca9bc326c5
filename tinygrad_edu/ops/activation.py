"""Softmax and log-softmax as primitives: numerically stable, one pass each way."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def _shift(x, axis):
    """The max along ``axis`` (kept), subtracted for stability; zeros for an empty tensor,
    whose softmax is empty (numpy's max refuses to reduce nothing)."""
    if x.size == 0:
        return np.zeros(np.sum(x, axis=axis, keepdims=True).shape, dtype=x.dtype)
    return np.max(x, axis=axis, keepdims=True)


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, axis=-1):
        e = np.exp(x - _shift(x, axis))
        e /= np.sum(e, axis=axis, keepdims=True)
        ctx.save_for_backward(e)
        ctx.axis = axis
        return e

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return out * (g - (g * out).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, axis=-1):
        shifted = x - _shift(x, axis)
        out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - np.exp(out) * g.sum(axis=ctx.axis, keepdims=True)
