"""Cumulative sum along an axis (numpy's ``cumsum``; ``axis=None`` runs over the flattened
array). Its backward is the cumulative sum of the gradient taken from the other end."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class Cumsum(Function):
    @staticmethod
    def forward(ctx, x, axis=None):
        ctx.in_shape = x.shape
        ctx.axis = axis
        return np.cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, g):
        axis = 0 if ctx.axis is None else ctx.axis % len(ctx.in_shape)
        flip = (slice(None),) * axis + (slice(None, None, -1),)
        return Cumsum.call(g[flip], axis=axis)[flip].reshape(ctx.in_shape)
