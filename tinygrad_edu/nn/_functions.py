"""The primitives the nn layer adds: ``Linear`` (``x @ w.T + b`` as a single graph node), its
twin ``DenseOp`` for Keras's kernel layout (``x @ k + b``), and the losses as single nodes:
``MSELoss`` (squared error with its reduction), ``CrossEntropyLoss`` (log-softmax and the
negative log-likelihood together) and ``NLLLoss`` (picking the targets' log-probabilities).

As a composite, a dense layer records three nodes (a transpose, a product and a sum) and its
backward runs three rules; on the small nets of the seed problems that per-node overhead is
most of a training step. Measured on benchmark W2 (seed 000's 2-2-4-1 net, batch 10,
interleaved minimum of 15 blocks): 386 µs per step with the composite, 249 µs with this
primitive (W2-sgd: 337 → 205 µs). The same holds for the losses: ``((x - y) ** 2).mean()``
is three nodes and five array passes, ``MSELoss`` one node and three passes (see
``benchmarks/README.md`` for the budget of a step).

Each backward is written with numpy operations. On arrays it reuses what forward kept; under
``create_graph=True`` (on Tensors) it recomputes those intermediates from the inputs with
primitives, so that the gradient is itself differentiable.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.engine import cached_ones
from ..autograd.function import Function
from ..ops.activation import LogSoftmax, Softmax
from ..ops.linalg import blas_matrices, mm

_ndarray = np.ndarray


def _sum_rows(g):
    """``g.sum(0)``; on arrays as a product with a vector of ones, which BLAS does several
    times faster than numpy's reduction over the leading axis (3x for (10, 4), 2x for
    (128, 256) float32)."""
    if type(g) is not np.ndarray:  # a Tensor, under create_graph
        return g.sum(0)
    return mm(cached_ones((g.shape[0],), g.dtype), g)


def _affine_backward(kernel_in_out: bool):
    """The backward rule of ``x @ w.T + b`` (``w`` (out, in)) or, with ``kernel_in_out``, of
    ``x @ k + b`` (``k`` (in, out)): one gradient per input given (``b`` may be absent).

    A layer's usual case, 2-D float32 or float64 arrays of one dtype, calls ``np.dot``
    directly: exactly the products :func:`mm` would make, with its checks made once."""

    def backward(ctx, g) -> tuple:
        saved = ctx.saved
        if saved is not None and not ctx._tensor_mode:
            x, w = saved
            if blas_matrices(g, x, w):
                needs = ctx.needs_input_grad
                gx = (np.dot(g, w.T) if kernel_in_out else np.dot(g, w)) if needs[0] else None
                gw = (np.dot(x.T, g) if kernel_in_out else np.dot(g.T, x)) if needs[1] else None
                if len(needs) == 2:
                    return gx, gw
                if not needs[2]:
                    return gx, gw, None
                return gx, gw, np.dot(cached_ones((g.shape[0],), g.dtype), g)  # as _sum_rows
        x, w = ctx.saved_tensors  # the freed graph's error; Tensors under create_graph
        needs = ctx.needs_input_grad
        gx = (mm(g, w.T) if kernel_in_out else mm(g, w)) if needs[0] else None
        gw = gb = None
        has_bias = len(needs) > 2
        if needs[1] or (has_bias and needs[2]):
            if g.ndim != 2:  # (..., out): the leading dimensions are all batch
                g = g.reshape(-1, g.shape[-1])
                x = x.reshape(-1, x.shape[-1])
            if needs[1]:
                gw = mm(x.T, g) if kernel_in_out else mm(g.T, x)
            if has_bias and needs[2]:
                gb = _sum_rows(g)
        return (gx, gw, gb) if has_bias else (gx, gw)

    return staticmethod(backward)


def _affine(x, w_t, b):
    """``x @ w_t + b`` with ``w_t`` (in, out); the bias is added in place when that keeps
    the result's dtype."""
    out = mm(x, w_t)
    if b is None:
        return out
    if type(out) is _ndarray and type(b) is _ndarray and b.ndim == 1 and b.dtype is out.dtype:
        out += b
        return out
    return out + b


class Linear(Function):
    """``x @ w.T + b`` with ``w`` of shape (out, in); ``x`` (..., in); ``b`` (out,) or absent."""

    _fresh_grads = True  # every gradient is a new product

    @staticmethod
    def forward(ctx, x, w, b=None):
        ctx.saved = (x, w)  # save_for_backward, inlined
        return _affine(x, w.T, b)

    backward = _affine_backward(kernel_in_out=False)


class DenseOp(Function):
    """``x @ k + b`` with ``k`` of shape (in, out), Keras's layout (``keras.layers.Dense``,
    whose ``kernel``, ``get_weights()`` and saved files read as in Keras); otherwise
    :class:`Linear`."""

    _fresh_grads = True  # every gradient is a new product

    @staticmethod
    def forward(ctx, x, k, b=None):
        ctx.saved = (x, k)  # save_for_backward, inlined
        return _affine(x, k, b)

    backward = _affine_backward(kernel_in_out=True)


class ConcatAffine(Function):
    """``cat(pieces, axis=-1) @ k (+ b)`` without the concatenated matrix: the sum of each
    piece's product with its rows of ``k``. 2-D float arrays of one dtype only.

    Eager execution cannot know that a concatenation only feeds a product; a captured step
    can (``compile_step`` puts this op in place of the pair, see
    :mod:`tinygrad_edu.autograd.jit_fusions`). A bias column, ``cat([ones, a]) @ w`` as in
    the seeds, is the usual case: the concatenation copies row by row, and its gradient,
    sliced out of the product's, is a strided array that makes every later elementwise pass
    several times slower. Here each piece's gradient is its own contiguous product.

    Inputs: the pieces, then the weight (``(in, out)``, or ``(out, in)`` when
    ``weight_out_in``: ``nn.Linear``'s), then the bias when ``has_bias``. Equal to the pair
    up to rounding (the products are summed in another order).

    >>> import numpy as np
    >>> a, b, k = np.ones((4, 1)), np.arange(8.0).reshape(4, 2), np.arange(6.0).reshape(3, 2)
    >>> ctx = ConcatAffine._backward_cls()
    >>> out = ConcatAffine.forward(ctx, a, b, k, sizes=(1, 2), weight_out_in=False,
    ...                            has_bias=False)
    >>> bool(np.allclose(out, np.concatenate([a, b], axis=1) @ k))
    True
    """

    _fresh_grads = True  # every gradient is a new product

    @staticmethod
    def forward(ctx, *args, sizes, weight_out_in, has_bias):
        n = len(sizes)
        pieces, w = args[:n], args[n]
        k = w.T if weight_out_in else w
        ctx.saved = (*pieces, k)
        ctx.sizes, ctx.weight_out_in = sizes, weight_out_in
        out = None
        start = 0
        for x, size in zip(pieces, sizes):
            part = np.dot(x, k[start:start + size])
            start += size
            if out is None:
                out = part
            else:
                out += part
        if has_bias:
            out += args[n + 1]
        return out

    @staticmethod
    def backward(ctx, g):
        *pieces, k = ctx.saved
        needs = ctx.needs_input_grad
        n = len(pieces)
        grads = []
        start = 0
        gk = np.empty(k.shape, k.dtype) if needs[n] else None
        for x, size, need in zip(pieces, ctx.sizes, needs):
            rows = slice(start, start + size)
            start += size
            grads.append(np.dot(g, k[rows].T) if need else None)
            if gk is not None:
                np.dot(x.T, g, out=gk[rows])
        if gk is not None and ctx.weight_out_in:
            gk = np.ascontiguousarray(gk.T)  # (out, in), as nn.Linear's weight
        grads.append(gk)
        if len(needs) > n + 1:  # the bias
            grads.append(_sum_rows(g) if needs[n + 1] else None)
        return tuple(grads)


def _named_error(kind: type, message: str) -> Exception:
    err = kind(message)
    err.named_op = True  # the message names the function: Function.apply keeps it
    return err


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
            raise _named_error(IndexError, (
                f"{fname}: target holds class index {bad} (at position {at}) but the input has "
                f"{n_classes} classes, so indices must be in 0..{n_classes - 1} (ignore_index="
                f"{ignore_index} is skipped). Check the size of the last layer, or whether the "
                "labels start at 1 instead of 0."
            ))
    return True


def _class_weights(weight, n_classes: int, dtype, fname: str):
    """``weight`` as an array of one value per class in ``dtype`` (None stays None)."""
    if weight is None:
        return None
    w = np.asarray(weight, dtype=dtype)
    if w.shape != (n_classes,):
        raise _named_error(ValueError, (
            f"{fname}: weight must hold one value per class, shape ({n_classes},), got shape "
            f"{w.shape}"
        ))
    return w


def class_coefficients(shape: tuple, dtype, t: np.ndarray, weight, ignore_index: int,
                       reduction: str, fname: str, label_smoothing: float = 0.0
                       ) -> tuple[np.ndarray, bool]:
    """The constant array ``coef`` (of the log-probabilities' ``shape``) for which the
    negative log-likelihood of class indices ``t`` is ``sum(coef * logp)``, summed over the
    class dimension (``reduction='none'``) or over everything; and whether any target
    counted (the mean of none is NaN, its gradient 0, as in PyTorch).

    ``coef`` holds ``-w[t] / denominator`` at each target's class and 0 elsewhere (PyTorch's
    weighting and mean; a target equal to ``ignore_index`` counts for nothing). With label
    smoothing ``e`` the target's share is ``1 - e`` and every class of a counted position
    gets ``-e / C * w[c] / denominator`` more, as PyTorch's cross_entropy does.
    """
    class_dim = 0 if len(shape) == 1 else 1
    n_classes = shape[class_dim]
    w_class = _class_weights(weight, n_classes, dtype, fname)
    keep = None
    if check_class_range(t, n_classes, ignore_index, fname):
        keep = t != ignore_index
        t = np.where(keep, t, 0)
    if w_class is None and keep is None:
        w, total = 1.0, float(t.size)
    else:
        w = keep.astype(dtype) if w_class is None else w_class[t]
        if w_class is not None and keep is not None:
            w = w * keep
        total = float(w.sum())
    scale = -1.0
    if reduction == "mean":  # nothing counted: coef 0 (the value is made NaN by the caller)
        scale = -1.0 / total if total else 0.0
    values = w * (scale * (1.0 - label_smoothing))
    coef = np.zeros(shape, dtype=dtype)
    if len(shape) == 2:
        coef[np.arange(t.shape[0]), t] = values
    elif len(shape) == 1:
        coef[t] = values
    else:
        values = np.broadcast_to(values, t.shape)
        np.put_along_axis(coef, np.expand_dims(t, 1), np.expand_dims(values, 1), axis=1)
    if label_smoothing:
        spread = scale * label_smoothing / n_classes
        per_class = spread if w_class is None else (w_class * spread).reshape(
            (n_classes,) + (1,) * (len(shape) - class_dim - 1))
        coef += per_class if keep is None else per_class * np.expand_dims(keep, class_dim)
    return coef, total != 0


def _reduce_classes(ctx, prod: np.ndarray, reduction: str, class_dim: int,
                    counted: bool = True):
    """Sum ``coef * logp`` over the class dimension ('none') or everything; remember the
    shape that puts the class dimension back into the incoming gradient. The mean when no
    target ``counted`` (all ignored, or of weight 0) is NaN, as in PyTorch."""
    if reduction == "none":
        shape = prod.shape
        ctx.kept = (*shape[:class_dim], 1, *shape[class_dim + 1:])
        return np.add.reduce(prod, axis=class_dim)
    ctx.kept = None
    total = np.add.reduce(prod, axis=None)
    if reduction == "mean" and (prod.size == 0 or not counted):  # NaN, as PyTorch
        total = total * np.nan
    return np.asarray(total)  # a 0-d array: apply has no numpy scalar to convert


def _on_arrays(g) -> bool:
    """Whether a backward runs on arrays (False: on Tensors, under ``create_graph=True``)."""
    return isinstance(g, np.ndarray | np.generic)


class NLLLoss(Function):
    """``-w[t] * logp[.., t, ..]`` per position, reduced as PyTorch's nll_loss does; ``logp``
    (N, C), (C,) or (N, C, d1, ...), ``target`` integer class indices (no gradient).

    Picking is a product with a constant array (:func:`class_coefficients`), then a sum: the
    backward is that array times the incoming gradient. Everything that depends on the
    targets' values (the range check, ignore_index, the weights' sum) happens in
    ``forward``, on arrays, so a captured step (:func:`tinygrad_edu.autograd.compile_step`)
    replays it with each batch's labels.
    """

    _fresh_grads = True  # g * coef: a new product

    @staticmethod
    def forward(ctx, logp, t, weight=None, ignore_index=-100, reduction="mean",
                fname="nll_loss"):
        coef, counted = class_coefficients(logp.shape, logp.dtype, t, weight, ignore_index,
                                           reduction, fname)
        ctx.save_for_backward(coef)
        return _reduce_classes(ctx, logp * coef, reduction, 0 if logp.ndim == 1 else 1,
                               counted)

    @staticmethod
    def backward(ctx, g):
        (coef,) = ctx.saved_tensors
        if ctx.kept is not None:
            g = g.reshape(ctx.kept)
        return g * coef, None


class CrossEntropyLoss(Function):
    """Log-softmax over the class dimension (1, or 0 for a (C,) input) and the negative
    log-likelihood in one node: the loss is ``sum(coef * logp)``, reduced as PyTorch's
    cross_entropy does.

    ``target`` is class indices (integers, no gradient; ``coef`` from
    :func:`class_coefficients`, with ``weight``, ``ignore_index`` and ``label_smoothing``)
    or class probabilities of the input's shape (differentiable; ``coef`` is
    ``-w (target (1 - e) + e / C) / denominator``). The gradient with respect to the logits
    is ``coef - softmax * sum_c(coef)``: one pass over the softmax that forward kept, where
    the composite ran log-softmax's backward and the picking's.
    """

    _fresh_grads = True  # new products, one per input

    @staticmethod
    def forward(ctx, x, target, weight=None, ignore_index=-100, reduction="mean",
                label_smoothing=0.0):
        class_dim = 0 if x.ndim == 1 else 1
        n_classes = x.shape[class_dim]
        shifted = x - np.max(x, axis=class_dim, keepdims=True)
        softmax = np.exp(shifted)
        total = np.add.reduce(softmax, axis=class_dim, keepdims=True)
        logp = shifted - np.log(total)
        softmax /= total
        ctx.class_dim = class_dim
        ctx.target_scale = None
        counted = True
        if target.dtype.kind in "fc":  # probabilities
            w = _class_weights(weight, n_classes, logp.dtype, "cross_entropy")
            w = 1.0 if w is None else w.reshape((n_classes,) + (1,) * (x.ndim - class_dim - 1))
            scale = -1.0
            if reduction == "mean":  # over the positions (everything but the classes)
                positions = x.size // n_classes if n_classes else 0
                scale = -1.0 / positions if positions else math.nan
            # coef = target * a + b: ``a`` is also d loss / d (target * logp)
            ctx.target_scale = w * (scale * (1.0 - label_smoothing))
            ctx.offset = w * (scale * label_smoothing / n_classes) if label_smoothing else 0.0
            coef = target * ctx.target_scale
            if label_smoothing:
                coef = coef + ctx.offset
        else:
            coef, counted = class_coefficients(x.shape, logp.dtype, target, weight,
                                               ignore_index, reduction, "cross_entropy",
                                               label_smoothing)
        ctx.save_for_backward(x, target, softmax, logp, coef)
        return _reduce_classes(ctx, coef * logp, reduction, class_dim, counted)

    @staticmethod
    def backward(ctx, g):
        x, target, softmax, logp, coef = ctx.saved_tensors
        cd = ctx.class_dim
        need_x, need_target = ctx.needs_input_grad[:2]
        if ctx.kept is not None:
            g = g.reshape(ctx.kept)
        if not _on_arrays(g):  # differentiable: rebuild forward's intermediates from inputs
            softmax = Softmax.call(x, axis=cd)
            logp = LogSoftmax.call(x, axis=cd)
            if ctx.target_scale is not None:
                coef = target * ctx.target_scale + ctx.offset
        gx = gt = None
        if need_x:
            gx = (coef - softmax * coef.sum(axis=cd, keepdims=True)) * g
        if need_target:
            gt = logp * ctx.target_scale * g
        return gx, gt


class MSELoss(Function):
    """``(x - y)²`` reduced by ``reduction`` ('mean', 'sum' or 'none') in one node; the
    sum of squares is one dot product. Shapes are checked by ``F.mse_loss`` (it refuses to
    broadcast; here ``x - y`` broadcasts and the engine sums each gradient back)."""

    _fresh_grads = True  # new products, one per input

    @staticmethod
    def forward(ctx, x, y, reduction="mean"):
        # saved: x, y, d = x - y and the scale of d in the gradient (None: 'none', 2 g d)
        d = x - y
        if reduction == "none":
            ctx.saved = (x, y, d, None)
            return d * d
        flat = d.ravel()  # as reshape(-1), quicker (a view of a C-contiguous d)
        total = np.dot(flat, flat)
        if reduction == "mean":  # the mean of nothing is NaN, as in PyTorch
            n = flat.shape[0]
            ctx.saved = (x, y, d, 2.0 / n if n else math.nan)
            total = total * (1.0 / n if n else math.nan)
        else:
            ctx.saved = (x, y, d, 2.0)
        return np.asarray(total)  # a 0-d array: apply has no numpy scalar to convert

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved
        if saved is None or ctx._tensor_mode:
            saved = ctx.saved_tensors  # the freed graph's error; Tensors under create_graph
        x, y, d, scale = saved
        if type(g) is not _ndarray and not _on_arrays(g):  # differentiable: d from the inputs
            d = x - y
        need_x, need_y = ctx.needs_input_grad
        if type(g) is _ndarray and not g.ndim:  # a loss's 0-d gradient
            g = g[()]  # as a numpy scalar: its product with the float is the same, ~0.5 µs sooner
        gd = d * (g * (2.0 if scale is None else scale))
        return (gd if need_x else None), (-gd if need_y else None)
