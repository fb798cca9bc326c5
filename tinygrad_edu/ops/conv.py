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


def check_window(h: int, w: int, kernel, stride, dilation) -> tuple[int, int]:
    """The output size (OH, OW) of windows over an (h, w) image; an error if there is none."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = output_size(h, kh, sh, dh), output_size(w, kw, sw, dw)
    if oh <= 0 or ow <= 0:
        raise ValueError(
            f"the kernel {kernel} (dilation {dilation}) is larger than the input's spatial size "
            f"{(h, w)} after padding; use a smaller kernel or more padding"
        )
    return oh, ow


def _windows(x: np.ndarray, kernel, stride, dilation) -> np.ndarray:
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = check_window(h, w, kernel, stride, dilation)
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
        return _col2im(cols, shape, kernel, stride, dilation)

    @staticmethod
    def backward(ctx, g):
        kernel, stride, dilation = ctx.geometry
        return Unfold.call(g, kernel=kernel, stride=stride, dilation=dilation)


def _col2im(cols: np.ndarray, shape, kernel, stride, dilation) -> np.ndarray:
    """(N, C, kh, kw, OH, OW) windows summed into an ``shape`` image, one strided slab
    addition per kernel offset (never a loop over pixels)."""
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


class Conv2d(Function):
    """``conv2d`` as one node: zero padding, im2col and one batched product per group.

    ``x`` (N, C, H, W), ``w`` (O, C // groups, kh, kw), optional ``b`` (O,). On arrays the
    backward reuses the patches forward copied (the weight's gradient is one product with
    them) and adds the patches' gradient back per kernel offset (col2im); under
    ``create_graph`` it builds the same gradients from ``Unfold``/``Fold`` and products, so
    convolution stays differentiable to any order.
    """

    @staticmethod
    def forward(ctx, x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        n, c, h, wd = x.shape
        o, cg, kh, kw = w.shape
        (ph, pw) = padding
        if ph or pw:
            xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw), dtype=x.dtype)
            xp[:, :, ph : ph + h, pw : pw + wd] = x
        else:
            xp = x
        win = _windows(xp, (kh, kw), stride, dilation)
        oh, ow = win.shape[-2:]
        cols = np.ascontiguousarray(win).reshape(n, groups, cg * kh * kw, oh * ow)
        w_mat = w.reshape(groups, o // groups, cg * kh * kw)
        out = np.matmul(w_mat, cols).reshape(n, o, oh, ow)
        if b is not None:
            if b.dtype == out.dtype:
                out += b.reshape(1, o, 1, 1)
            else:  # mixed dtypes promote, as ``out + b`` does
                out = out + b.reshape(1, o, 1, 1)
        ctx.geometry = (xp.shape, stride, padding, dilation, groups)
        if ctx.needs_input_grad[1]:
            ctx.save_for_backward(x, w, cols)
        else:
            ctx.save_for_backward(x, w, None)
        return out

    @staticmethod
    def backward(ctx, g):
        x, w, cols = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if ctx._tensor_mode:
            return _conv2d_backward_graph(ctx, g, x, w)
        padded, stride, (ph, pw), dilation, groups = ctx.geometry
        n, o, oh, ow = g.shape
        _, cg, kh, kw = w.shape
        g4 = g.reshape(n, groups, o // groups, oh * ow)
        gx = gw = None
        if needs[0]:
            w_mat = w.reshape(groups, o // groups, cg * kh * kw)
            if stride == (1, 1):
                gx = _input_grad_stride1(g, w_mat, padded, (kh, kw), dilation, groups)
            else:
                gcols = np.matmul(w_mat.transpose(0, 2, 1), g4)
                gcols = gcols.reshape(n, groups * cg, kh, kw, oh, ow)
                gx = _col2im(gcols, padded, (kh, kw), stride, dilation)
            if ph or pw:
                gx = gx[:, :, ph : padded[2] - ph, pw : padded[3] - pw]
        if needs[1]:
            gw = np.matmul(g4, cols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(w.shape)
        if len(needs) == 2:
            return gx, gw
        gb = g.sum(axis=(0, 2, 3)) if needs[2] else None
        return gx, gw, gb


def _input_grad_stride1(g, w_mat, padded, kernel, dilation, groups) -> np.ndarray:
    """The (padded) input's gradient of a stride-1 convolution on arrays, col2im on flat rows.

    The patches' gradient is computed for output rows as wide as the padded input (``g``
    padded with zero columns), so each kernel offset's slab is one shifted run of OH*Wp
    elements in the flattened image: kh*kw additions over long contiguous runs instead of
    strided ones with runs of OW. The extra columns carry zeros, so a run that spills past a
    row's end into the next adds nothing there."""
    n, o, oh, ow = g.shape
    _, c, hp, wp = padded
    (kh, kw), (dh, dw) = kernel, dilation
    gp = np.zeros((n, o, oh, wp), dtype=g.dtype)
    gp[:, :, :, :ow] = g
    gcols = np.matmul(w_mat.transpose(0, 2, 1), gp.reshape(n, groups, o // groups, oh * wp))
    gcols = gcols.reshape(n, c, kh * kw, oh * wp)
    flat = np.zeros((n, c, hp * wp + (kw - 1) * dw), dtype=gcols.dtype)
    for i in range(kh):
        for j in range(kw):
            start = i * dh * wp + j * dw
            flat[:, :, start : start + oh * wp] += gcols[:, :, i * kw + j]
    return flat[:, :, : hp * wp].reshape(n, c, hp, wp)


def _conv2d_backward_graph(ctx, g, x, w):
    """``Conv2d``'s gradients as a graph of primitives (``create_graph=True``)."""
    padded, stride, (ph, pw), dilation, groups = ctx.geometry
    needs = ctx.needs_input_grad
    n, o, oh, ow = g.shape
    _, cg, kh, kw = w.shape
    g4 = g.reshape(n, groups, o // groups, oh * ow)
    gx = gw = gb = None
    if needs[0]:
        w_mat = w.reshape(groups, o // groups, cg * kh * kw)
        gcols = (w_mat.transpose(1, 2) @ g4).reshape(n, groups * cg, kh, kw, oh, ow)
        gx = Fold.apply(gcols, shape=padded, kernel=(kh, kw), stride=stride, dilation=dilation)
        if ph or pw:
            gx = gx[:, :, ph : padded[2] - ph, pw : padded[3] - pw]
    if needs[1]:
        xp = x.pad(((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
        cols = Unfold.apply(xp, kernel=(kh, kw), stride=stride, dilation=dilation)
        cols = cols.reshape(n, groups, cg * kh * kw, oh * ow)
        gw = (g4 @ cols.transpose(2, 3)).sum(0).reshape(w.shape)
    if len(needs) > 2 and needs[2]:
        gb = g.sum((0, 2, 3))
    return (gx, gw) if len(needs) == 2 else (gx, gw, gb)


def _tile_offsets(x: np.ndarray, kernel) -> list[np.ndarray]:
    """The kh*kw strided views of (N, C, H, W) ``x``, one per offset inside a kh x kw tile:
    view (i, j) holds element (i, j) of every complete tile (an incomplete last row or column
    of tiles is left out, as floor-mode pooling does). Each is an (N, C, OH, OW) view."""
    kh, kw = kernel
    oh, ow = x.shape[2] // kh, x.shape[3] // kw
    return [x[:, :, i : oh * kh : kh, j : ow * kw : kw] for i in range(kh) for j in range(kw)]


def _spread_tiles(ctx, g):
    """Backward of a pooling over tiles: element (i, j) of every tile gets the tile's gradient
    times ``share[k]`` (k = i * kw + j), an array of the output's shape or a number; elements
    outside every complete tile get 0."""
    (share,) = ctx.saved_tensors
    shape, (kh, kw) = ctx.geometry
    n, c, h, w = shape
    if ctx._tensor_mode:
        oh, ow = g.shape[2:]
        tiles = share.reshape(kh, kw, *share.shape[1:]).transpose(2, 3, 4, 0, 5, 1)
        gx = (g.reshape(n, c, oh, 1, ow, 1) * tiles).reshape(n, c, oh * kh, ow * kw)
        if (h, w) == (oh * kh, ow * kw):
            return gx
        return gx.pad(((0, 0), (0, 0), (0, h - oh * kh), (0, w - ow * kw)))
    exact = h % kh == 0 and w % kw == 0
    gx = np.empty(shape, g.dtype) if exact else np.zeros(shape, g.dtype)
    for k, v in enumerate(_tile_offsets(gx, (kh, kw))):
        np.multiply(g, share[k], out=v)
    return gx


class MaxPoolTiles(Function):
    """Max pooling whose windows tile the input (kernel == stride, no padding, no dilation):
    the elementwise maximum of the kh*kw strided views of the tiles, with no window copy
    (numpy's reduction over two short strided axes is ~10x slower). Tied maxima share the
    gradient equally, as the general path's ``amax`` does; forward keeps each offset's share
    (1/ties where it is maximal, else 0), so the input may change in place afterwards."""

    @staticmethod
    def forward(ctx, x, kernel=(2, 2)):
        views = _tile_offsets(x, kernel)
        out = np.maximum(views[0], views[1]) if len(views) > 1 else views[0].copy()
        for v in views[2:]:
            np.maximum(out, v, out=out)
        if ctx.needs_input_grad[0]:
            share = np.empty((len(views), *out.shape), dtype=x.dtype)
            for k, v in enumerate(views):
                np.equal(v, out, out=share[k], casting="unsafe")
            share /= share.sum(axis=0)
            ctx.save_for_backward(share)
            ctx.geometry = (x.shape, kernel)
        return out

    backward = staticmethod(_spread_tiles)


class AvgPoolTiles(Function):
    """Average pooling whose windows tile a floating-point input (kernel == stride, no
    padding): the sum of the kh*kw strided views of the tiles, divided by kh*kw; each element
    of a tile gets 1/(kh*kw) of its gradient."""

    @staticmethod
    def forward(ctx, x, kernel=(2, 2)):
        views = _tile_offsets(x, kernel)
        out = views[0] + views[1] if len(views) > 1 else views[0].copy()
        for v in views[2:]:
            out += v
        out /= len(views)
        share = np.full((len(views), 1, 1, 1, 1), 1.0 / len(views), dtype=x.dtype)
        ctx.save_for_backward(share)
        ctx.geometry = (x.shape, kernel)
        return out

    backward = staticmethod(_spread_tiles)
