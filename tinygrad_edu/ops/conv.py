"""Sliding windows for convolution and pooling: ``Unfold`` (im2col) and its adjoint ``Fold``.

``Unfold`` turns an (N, C, H, W) array into (N, C, kh, kw, OH, OW) windows with stride tricks,
without copying; convolution is then one batched matrix product and pooling one reduction.
``Fold`` adds windows back into an image with a loop over the kh*kw kernel offsets (never over
pixels). Each is the other's backward, so convolution is differentiable to any order.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd.function import Function


def output_size(size: int, kernel: int, stride: int, dilation: int) -> int:
    """Number of window positions along one spatial axis (no padding)."""
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def _windows(x: np.ndarray, kernel, stride, dilation) -> np.ndarray:
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = output_size(h, kh, sh, dh), output_size(w, kw, sw, dw)
    if oh <= 0 or ow <= 0:
        raise ValueError(
            f"the kernel {kernel} (dilation {dilation}) is larger than the input's spatial size "
            f"{(h, w)} after padding; use a smaller kernel or more padding"
        )
    s = x.strides
    return as_strided(
        x,
        shape=(n, c, kh, kw, oh, ow),
        strides=(s[0], s[1], s[2] * dh, s[3] * dw, s[2] * sh, s[3] * sw),
        writeable=False,
    )


class Unfold(Function):
    """(N, C, H, W) -> (N, C, kh, kw, OH, OW) sliding windows (a read-only view)."""

    @staticmethod
    def forward(ctx, x, kernel=(1, 1), stride=(1, 1), dilation=(1, 1)):
        ctx.geometry = (x.shape, kernel, stride, dilation)
        return _windows(x, kernel, stride, dilation)

    @staticmethod
    def backward(ctx, g):
        shape, kernel, stride, dilation = ctx.geometry
        return Fold.call(g, shape=shape, kernel=kernel, stride=stride, dilation=dilation)


class Fold(Function):
    """Sum (N, C, kh, kw, OH, OW) windows back into an (N, C, H, W) image."""

    @staticmethod
    def forward(ctx, cols, shape=(), kernel=(1, 1), stride=(1, 1), dilation=(1, 1)):
        ctx.geometry = (kernel, stride, dilation)
        (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
        oh, ow = cols.shape[-2:]
        out = np.zeros(shape, dtype=cols.dtype)
        for i in range(kh):
            for j in range(kw):
                out[
                    :,
                    :,
                    i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                    j * dw : j * dw + sw * (ow - 1) + 1 : sw,
                ] += cols[:, :, i, j]
        return out

    @staticmethod
    def backward(ctx, g):
        kernel, stride, dilation = ctx.geometry
        return Unfold.call(g, kernel=kernel, stride=stride, dilation=dilation)
