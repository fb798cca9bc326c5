"""Reductions over axes: sum, mean, max (min is ``-max(-x)``), and the root of a sum of
squares (std, norm)."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def _kept_shape(shape: tuple, axis) -> tuple:
    """``shape`` with the reduced axes set to 1 (the keepdims shape)."""
    if axis is None:
        return (1,) * len(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    ndim = len(shape)
    axes = {a % ndim if ndim else 0 for a in axes}
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand(g, shape: tuple, scale: float = 1.0):
    """``g * scale`` broadcast to ``shape``: a fresh array (faster than ``np.broadcast_to``
    for the small arrays of small nets), or a graph op when ``g`` is a Tensor."""
    if isinstance(g, np.ndarray | np.generic):
        out = np.empty(shape, dtype=g.dtype)
        if scale == 1.0:
            out[...] = g
        else:
            np.multiply(g, scale, out=out)
        return out
    return np.broadcast_to(g * scale if scale != 1.0 else g, shape)


def _as_array(out):
    """A full reduction's numpy scalar as a 0-d array (apply would convert it, slower)."""
    return out if type(out) is np.ndarray else np.asarray(out)


class Sum(Function):
    _fresh_grads = True  # _expand makes a new array

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.in_shape = x.shape
        # a full reduction's 0-d gradient broadcasts as it is: no kept shape to reshape to
        ctx.kept = None if keepdims or axis is None else _kept_shape(x.shape, axis)
        if x.dtype.kind == "b":
            return np.sum(x, axis=axis, keepdims=keepdims)
        return _as_array(np.add.reduce(x, axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx, g):
        if ctx.kept is not None:
            g = g.reshape(ctx.kept)
        return _expand(g, ctx.in_shape)


class Mean(Function):
    _fresh_grads = True  # _expand makes a new array

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        if x.dtype.kind not in "fc":
            x = x.astype(np.float64)
        total = np.add.reduce(x, axis=axis, keepdims=keepdims)
        count = x.size // max(total.size, 1) if x.size else 0
        ctx.in_shape = x.shape
        ctx.kept = None if keepdims or axis is None else _kept_shape(x.shape, axis)
        ctx.scale = 1.0 / count if count else float("nan")
        return _as_array(total * ctx.scale if count else total * np.nan)

    @staticmethod
    def backward(ctx, g):
        if ctx.kept is not None:
            g = g.reshape(ctx.kept)
        return _expand(g, ctx.in_shape, ctx.scale)


class Max(Function):
    """Max over axes; tied maxima share the gradient equally (PyTorch's ``amax`` rule).

    Saves which entries were maximal, not the input: numpy code then changes the input in
    place (``z -= z.max(axis=1, keepdims=True)``) without invalidating the gradient."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        out = np.max(x, axis=axis, keepdims=keepdims)
        kept = _kept_shape(x.shape, axis)
        ctx.kept = None if keepdims else kept
        if ctx.needs_input_grad[0]:
            mask = x == np.reshape(out, kept)
            count = mask.sum(axis=axis, keepdims=True)
            ctx.save_for_backward(mask, count)
        return out

    @staticmethod
    def backward(ctx, g):
        mask, count = ctx.saved_tensors
        if ctx.kept is not None:
            g = g.reshape(ctx.kept)
        return np.where(mask, g / count, 0)


class RootOfSquares(Function):
    """The square root of a sum of squares (a variance for ``std``, a 2-norm): its gradient is
    ``g / (2 * out)``, and 0 where ``out`` is 0 (PyTorch's ``std_backward`` and
    ``norm_backward``): the std of a constant and the norm of zeros have gradient 0, not 0/0."""

    @staticmethod
    def forward(ctx, squares):
        out = np.sqrt(squares)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        zero = out == 0
        safe = np.where(zero, 1, out)  # no 0/0 on the masked side, at any order
        return np.where(zero, 0, g / (2 * safe))
