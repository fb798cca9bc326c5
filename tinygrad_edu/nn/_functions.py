"""The primitives the nn layer adds: ``Linear`` (``x @ w.T + b`` as a single graph node), its
twin ``DenseOp`` for Keras's kernel layout (``x @ k + b``), and ``NLLLoss`` (picking the
targets' log-probabilities).

As a composite, a dense layer records three nodes (a transpose, a product and a sum) and its
backward runs three rules; on the small nets of the seed problems that per-node overhead is
most of a training step. Measured on benchmark W2 (seed 000's 2-2-4-1 net, batch 10,
interleaved minimum of 15 blocks): 386 µs per step with the composite, 249 µs with this
primitive (W2-sgd: 337 → 205 µs). The backward is written with numpy operations, so under
``create_graph=True`` it runs on Tensors and is itself differentiable.
"""

from __future__ import annotations

import math

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


def _affine_backward(ctx, g, kernel_in_out: bool) -> tuple:
    """The gradients of ``x @ w.T + b`` (``w`` (out, in)) or, with ``kernel_in_out``, of
    ``x @ k + b`` (``k`` (in, out)); one per input given (``b`` may be absent)."""
    x, w = ctx.saved_tensors
    needs = ctx.needs_input_grad
    gx = (g @ w.T if kernel_in_out else g @ w) if needs[0] else None
    gw = gb = None
    if needs[1] or (len(needs) > 2 and needs[2]):
        g2 = g.reshape(-1, g.shape[-1])
        if needs[1]:
            x2 = x.reshape(-1, x.shape[-1])
            gw = x2.T @ g2 if kernel_in_out else g2.T @ x2
        if len(needs) > 2 and needs[2]:
            gb = _sum_rows(g2)
    return (gx, gw) if len(needs) == 2 else (gx, gw, gb)


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
        return _affine_backward(ctx, g, kernel_in_out=False)


class DenseOp(Function):
    """``x @ k + b`` with ``k`` of shape (in, out), Keras's layout (``keras.layers.Dense``,
    whose ``kernel``, ``get_weights()`` and saved files read as in Keras); otherwise
    :class:`Linear`."""

    _fresh_grads = True  # every gradient is a new product

    @staticmethod
    def forward(ctx, x, k, b=None):
        ctx.save_for_backward(x, k)
        out = x @ k
        return out if b is None else out + b

    @staticmethod
    def backward(ctx, g):
        return _affine_backward(ctx, g, kernel_in_out=True)


def check_class_range(t: np.ndarray, n_classes: int, ignore_index: int, fname: str) -> bool:
    """Raise if a target (other than ``ignore_index``) is not a class; return whether any
    target equals ``ignore_index``."""
    if not t.size:
        return False
    lo, hi = t.min(), t.max()
    maybe_ignored = lo <= ignore_index <= hi
    if lo >= 0 and hi < n_classes:
        return bool(maybe_ignored) and bool((t == ignore_index).any())
    valid = t[t != ignore_index]
    if valid.size:
        vlo, vhi = valid.min(), valid.max()
        if vlo < 0 or vhi >= n_classes:
            bad = int(vhi) if vhi >= n_classes else int(vlo)
            at = tuple(int(i) for i in np.argwhere(t == bad)[0])
            err = IndexError(
                f"{fname}: target holds class index {bad} (at position {at}) but the input has "
                f"{n_classes} classes, so indices must be in 0..{n_classes - 1} (ignore_index="
                f"{ignore_index} is skipped). Check the size of the last layer, or whether the "
                "labels start at 1 instead of 0."
            )
            err.named_op = True  # the message names the function: Function.apply keeps it
            raise err
    return True


class NLLLoss(Function):
    """``-w[t] * logp[.., t, ..]`` per position, reduced as PyTorch's nll_loss does; ``logp``
    (N, C), (C,) or (N, C, d1, ...), ``target`` integer class indices (no gradient).

    Picking is a product with a constant array that holds ``-w[t] / denominator`` at each
    target's class and 0 elsewhere, then a sum: the backward is that array times the incoming
    gradient. Everything that depends on the targets' values (the range check, ignore_index,
    the weights' sum) happens in ``forward``, on arrays, so a captured step
    (:func:`tinygrad_edu.autograd.compile_step`) replays it with each batch's labels.
    """

    _fresh_grads = True  # g * coef: a new product

    @staticmethod
    def forward(ctx, logp, t, weight=None, ignore_index=-100, reduction="mean",
                fname="nll_loss"):
        class_dim = 0 if logp.ndim == 1 else 1
        n_classes = logp.shape[class_dim]
        any_ignored = check_class_range(t, n_classes, ignore_index, fname)
        keep = None
        if any_ignored:
            keep = t != ignore_index
            t = np.where(keep, t, 0)
        dtype = logp.dtype
        if weight is None and keep is None:
            w, total = 1.0, float(t.size)
        else:
            if weight is None:
                w = keep.astype(dtype)
            else:
                w = np.asarray(weight, dtype=dtype)[t]
                if keep is not None:
                    w = w * keep
            total = float(w.sum())
        scale = -1.0
        if reduction == "mean":  # nothing counted gives NaN, as in PyTorch
            scale = -1.0 / total if total else math.nan
        values = w * scale
        coef = np.zeros(logp.shape, dtype=dtype)
        if logp.ndim == 2:
            coef[np.arange(t.shape[0]), t] = values
        elif logp.ndim == 1:
            coef[t] = values
        else:
            values = np.broadcast_to(values, t.shape)
            np.put_along_axis(coef, np.expand_dims(t, 1), np.expand_dims(values, 1), axis=1)
        ctx.save_for_backward(coef)
        ctx.kept = None
        prod = logp * coef
        if reduction == "none":
            ctx.kept = (*t.shape[:class_dim], 1, *t.shape[class_dim:])
            return np.add.reduce(prod, axis=class_dim)
        return np.add.reduce(prod, axis=None)

    @staticmethod
    def backward(ctx, g):
        (coef,) = ctx.saved_tensors
        if ctx.kept is not None:
            g = g.reshape(ctx.kept)
        return g * coef, None
