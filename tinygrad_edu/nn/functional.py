"""Layers and losses as functions, with PyTorch's names and arguments
(``import tinygrad_edu.nn.functional as F``).

Nearly everything here is a composite of the core's primitives, so gradients (of any order)
come for free. The exceptions are the hot spots of a training step, which are primitives of
their own in :mod:`tinygrad_edu.nn._functions` (one graph node each, differentiable to any
order too): ``linear``, ``mse_loss``, ``cross_entropy`` and ``nll_loss``.

Losses check their inputs and fail with a message that says what to pass:

* regression losses (``mse_loss``, ``l1_loss``, ``huber_loss``, ``smooth_l1_loss``) and the
  binary cross-entropies **raise** ``ValueError`` when input and target shapes differ. PyTorch
  only warns for the regression losses, and then broadcasts: an (N, 1) prediction against an
  (N,) target becomes an (N, N) loss that trains on the wrong objective. We refuse instead;
  use ``target.expand(input.shape)`` when broadcasting is really meant.
* ``cross_entropy``/``nll_loss`` accept class indices (an integer tensor of the input's shape
  without the class dimension) or class probabilities (a float tensor of the input's shape),
  and say which was expected when the target is neither, or holds a class out of range.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import functional as _core
from ..autograd.grad_mode import no_grad
from ..random import Generator, numpy_rng
from ..tensor import Tensor, where
from ._functions import CrossEntropyLoss as _CrossEntropyLoss
from ._functions import Linear as _Linear
from ._functions import MSELoss as _MSELoss
from ._functions import NLLLoss as _NLLLoss
from ._loss_inputs import (
    warn_if_not_binary_targets,
    warn_if_not_log_probabilities,
    warn_if_probabilities,
    warn_if_single_class,
    warn_if_swapped,
)
from ._utils import pair as _pair

__all__ = [
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "gelu",
    "huber_loss",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "pad",
    "relu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
]

_REDUCTIONS = ("mean", "sum", "none")
# The training step's ops, bound once (``_Linear.apply(...)`` builds a bound method per call)
_linear_op, _mse_op = _Linear.apply, _MSELoss.apply


def _t(x: Any) -> Tensor:
    """``x`` as a Tensor (numpy arrays keep their dtype)."""
    return x if isinstance(x, Tensor) else Tensor(x)


# ------------------------------------------------------------------------- layers
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``, with ``weight`` of shape (out_features, in_features) as
    in PyTorch. One graph node (see :mod:`tinygrad_edu.nn._functions` for why).

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.linear(tg.ones(4, 3), tg.ones(2, 3), tg.zeros(2)).shape
    (4, 2)
    """
    input = _t(input)
    x, w = input._data, weight._data  # the arrays themselves: cheaper than the properties
    if w.ndim != 2 or x.ndim == 0:  # np.dot would accept these and silently compute nonsense
        raise _linear_error(input, weight)
    # A wrong number of input features makes the product fail; that check (two shapes) is
    # paid only then, to replace the product's message with one that says what to do.
    try:
        if bias is None:
            return _linear_op(input, weight)
        return _linear_op(input, weight, bias)
    except ValueError:
        if x.shape[-1] != w.shape[1]:
            raise _linear_error(input, weight) from None
        raise


def _linear_error(input: Tensor, weight: Tensor) -> ValueError:
    expects = (f"(out_features, in_features) expects {weight.shape[-1]}" if weight.ndim
               else "is not (out_features, in_features)")
    return ValueError(
        f"linear: input of shape {tuple(input.shape)} has "
        f"{input.shape[-1] if input.ndim else 0} features in its last dimension, but the "
        f"weight of shape {tuple(weight.shape)} {expects}. Check the layer's "
        "in_features, or reshape/flatten the input."
    )


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
           stride: int | Sequence[int] = 1, padding: int | Sequence[int] | str = 0,
           dilation: int | Sequence[int] = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation), as :func:`tinygrad_edu.conv2d`.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.conv2d(tg.ones(1, 3, 5, 5), tg.ones(4, 3, 3, 3), padding="same").shape
    (1, 4, 5, 5)
    """
    return _core.conv2d(input, weight, bias, stride, padding, dilation, groups)


def _pool_out(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> tuple[int, int]:
    """Output length and the extra right padding PyTorch's pooling implies (ceil_mode)."""
    eff = d * (k - 1) + 1
    num = size + 2 * p - eff
    if num < 0:
        raise ValueError(
            f"pooling: the window ({k}, dilation {d}) is larger than the padded input ({size} + "
            f"2*{p})"
        )
    if ceil_mode:
        out = -(-num // s) + 1
        if (out - 1) * s >= size + p:  # the last window would start in the right padding
            out -= 1
    else:
        out = num // s + 1
    return out, max((out - 1) * s + eff - (size + 2 * p), 0)


def max_pool2d(input: Tensor, kernel_size: int | Sequence[int], stride: Any = None,
               padding: int | Sequence[int] = 0, dilation: int | Sequence[int] = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """Max over sliding windows of an (N, C, H, W) or (C, H, W) input; stride defaults to
    the kernel size; padding counts as -inf.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.max_pool2d(tg.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    >>> F.max_pool2d(tg.arange(9.0).reshape(1, 1, 3, 3), 2, ceil_mode=True).tolist()
    [[[[4.0, 5.0], [7.0, 8.0]]]]
    """
    if return_indices:
        raise NotImplementedError("max_pool2d: return_indices=True is not supported")
    input = _t(input)
    k = _pair(kernel_size, "kernel_size")
    st = k if stride is None or stride == [] else _pair(stride, "stride")
    p, d = _pair(padding, "padding"), _pair(dilation, "dilation")
    if not ceil_mode:
        return _core.max_pool2d(input, k, st, p, d)
    if input.ndim not in (3, 4):
        raise ValueError(f"max_pool2d: expected (N, C, H, W) or (C, H, W), got {input.shape}")
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"max_pool2d: padding {p} must be at most half the kernel size {k}")
    _, eh = _pool_out(input.shape[-2], k[0], st[0], p[0], d[0], True)
    _, ew = _pool_out(input.shape[-1], k[1], st[1], p[1], d[1], True)
    lead = ((0, 0),) * (input.ndim - 2)
    x = input.pad((*lead, (p[0], p[0] + eh), (p[1], p[1] + ew)), value=-np.inf)
    return _core.max_pool2d(x, k, st, 0, d)


def _avg_divisor(size: int, k: int, s: int, p: int, out: int, include_pad: bool) -> np.ndarray:
    """Per output position, how many elements PyTorch divides by along one axis."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    full = end - start
    clipped = np.minimum(end, size) - np.maximum(start, 0)
    return full if include_pad else clipped


def avg_pool2d(input: Tensor, kernel_size: int | Sequence[int], stride: Any = None,
               padding: int | Sequence[int] = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over sliding windows; the divisor follows PyTorch (``count_include_pad``,
    ``ceil_mode``, ``divisor_override``).

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.avg_pool2d(tg.ones(1, 1, 3, 3), 2, padding=1, count_include_pad=False).tolist()
    [[[[1.0, 1.0], [1.0, 1.0]]]]
    """
    input = _t(input)
    k = _pair(kernel_size, "kernel_size")
    st = k if stride is None or stride == [] else _pair(stride, "stride")
    p = _pair(padding, "padding")
    if not ceil_mode and count_include_pad and divisor_override is None:
        return _core.avg_pool2d(input, k, st, p)
    if input.ndim not in (3, 4):
        raise ValueError(f"avg_pool2d: expected (N, C, H, W) or (C, H, W), got {input.shape}")
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"avg_pool2d: padding {p} must be at most half the kernel size {k}")
    h, w = input.shape[-2:]
    oh, eh = _pool_out(h, k[0], st[0], p[0], 1, ceil_mode)
    ow, ew = _pool_out(w, k[1], st[1], p[1], 1, ceil_mode)
    lead = ((0, 0),) * (input.ndim - 2)
    x = input.pad((*lead, (p[0], p[0] + eh), (p[1], p[1] + ew)))
    sums = _core.avg_pool2d(x, k, st, 0) * float(k[0] * k[1])
    if divisor_override is not None:
        return sums / float(divisor_override)
    div = np.outer(_avg_divisor(h, k[0], st[0], p[0], oh, count_include_pad),
                   _avg_divisor(w, k[1], st[1], p[1], ow, count_include_pad))
    return sums / div.astype(input.dtype)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """Pad with PyTorch's convention: ``pad`` lists (left, right) for the **last** dimension
    first, then the one before, ... Negative amounts crop. ``mode`` is ``'constant'``,
    ``'reflect'``, ``'replicate'`` or ``'circular'``.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.pad(tg.ones(1, 2), (1, 2)).tolist()
    [[0.0, 1.0, 1.0, 0.0, 0.0]]
    >>> F.pad(tg.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect").tolist()
    [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
    """
    input = _t(input)
    pad = [int(v) for v in pad]
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad: expected an even number of pads, at most 2 per dimension ({2 * input.ndim} "
            f"for this {input.ndim}-d input), got {len(pad)}"
        )
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(
            f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}"
        )
    if mode != "constant" and value not in (None, 0):
        raise ValueError(f"pad: value is only used with mode='constant', not {mode!r}")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    # negative widths crop first
    if any(b < 0 or a < 0 for b, a in widths):
        crop = tuple(
            slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(widths, input.shape)
        )
        input = input[crop]
        widths = [(max(b, 0), max(a, 0)) for b, a in widths]
    if not any(b or a for b, a in widths):
        return input
    if mode == "constant":
        return input.pad(tuple(widths), value=0.0 if value is None else value)
    out = input
    for axis, (before, after) in enumerate(widths):
        if not (before or after):
            continue
        n = out.shape[axis]
        j = np.arange(-before, n + after)
        if mode == "replicate":
            idx = np.clip(j, 0, n - 1)
        elif mode == "circular":
            if before > n or after > n:
                raise ValueError(f"pad: circular padding of {max(before, after)} needs a "
                                 f"dimension of at least that size, got {n}")
            idx = j % n
        else:
            if before >= n or after >= n:
                raise ValueError(
                    f"pad: reflect padding ({before}, {after}) must be smaller than the "
                    f"dimension's size {n}"
                )
            idx = np.abs(j)
            idx = np.where(idx > n - 1, 2 * (n - 1) - idx, idx)
        out = out[(slice(None),) * axis + (idx,)]
    return out


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Class indices → one-hot int64 rows (``num_classes=-1`` uses max index + 1).

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.one_hot(tg.tensor([0, 2]), 3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    idx = np.asarray(tensor.data if isinstance(tensor, Tensor) else tensor)
    if idx.dtype.kind not in "iu":
        raise TypeError(
            f"one_hot: expected integer class indices, got {idx.dtype}; convert with .long()"
        )
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(
            f"one_hot: class values must be in 0..{num_classes - 1}, got min {idx.min()} and "
            f"max {idx.max()}"
        )
    out = np.zeros((*idx.shape, num_classes), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.int64), 1, axis=-1)
    return Tensor._wrap(out)


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) picked by integer ``input``; the result has
    shape ``input.shape + (dim,)``. The row ``padding_idx`` gets no gradient.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> w = tg.arange(6.0).reshape(3, 2)
    >>> F.embedding(tg.tensor([[2, 0]]), w).tolist()
    [[[4.0, 5.0], [0.0, 1.0]]]
    """
    idx = np.asarray(input.data if isinstance(input, Tensor) else input)
    n = weight.shape[0]
    if idx.dtype.kind not in "iu":
        raise TypeError(
            f"embedding: indices must be integers (int64), got {idx.dtype}; convert with .long()"
        )
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(
            f"embedding: index {bad} is out of range for an embedding of {n} rows (valid "
            f"0..{n - 1})"
        )
    out = weight[idx]
    if padding_idx is not None and weight.requires_grad:
        pi = padding_idx % n
        mask = (idx == pi)[..., None]
        if mask.any():
            out = where(mask, out.detach(), out)
    return out


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
            generator: Generator | None = None) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (in
    training only; identity otherwise). ``generator`` makes the mask reproducible.
    ``inplace`` is accepted for compatibility and ignored: the result is a new tensor.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> y = F.dropout(tg.ones(1000), 0.5, generator=tg.Generator(0))
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    >>> F.dropout(tg.ones(3), 0.5, training=False).tolist()
    [1.0, 1.0, 1.0]
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    input = _t(input)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = numpy_rng(generator).random(input.shape) >= p
    scale = np.multiply(keep, 1.0 / (1.0 - p), dtype=input.dtype)
    return input * scale


# ------------------------------------------------------------------------- normalisation
def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) of an (N, C, ...) input.

    In training, the batch's mean and biased variance normalise, and ``running_mean`` and
    ``running_var`` (when given) are updated in place with ``momentum``, the variance
    unbiased (``n / (n - 1)``), as in PyTorch. Otherwise the running statistics normalise.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> x = tg.tensor([[1.0], [3.0]])
    >>> rm, rv = tg.zeros(1), tg.ones(1)
    >>> F.batch_norm(x, rm, rv, training=True, eps=0.0).tolist()
    [[-1.0], [1.0]]
    >>> rm.tolist(), rv.tolist()  # 0.9 * old + 0.1 * batch (variance 2, unbiased)
    ([0.20000000298023224], [1.100000023841858])
    """
    input = _t(input)
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got {input.shape}")
    c = input.shape[1]
    shape = (1, c) + (1,) * (input.ndim - 2)
    if training:
        n = input.data.size // max(c, 1)
        if n <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size "
                f"{tuple(input.shape)}: batch statistics need a batch of at least 2 (or "
                "spatial positions); use eval() for single samples"
            )
        axes = (0, *range(2, input.ndim))
        mean = input.mean(axes, keepdims=True)
        centered = input - mean
        var = (centered * centered).mean(axes, keepdims=True)
        out = centered / (var + eps).sqrt()
        if running_mean is not None or running_var is not None:
            with no_grad():
                if running_mean is not None:
                    rm = running_mean.data
                    new = momentum * mean.data.reshape(c) + (1 - momentum) * rm
                    rm[...] = new
                    running_mean._bump_version()
                if running_var is not None:
                    rv = running_var.data
                    unbiased = var.data.reshape(c) * (n / (n - 1))
                    rv[...] = momentum * unbiased + (1 - momentum) * rv
                    running_var._bump_version()
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm: running_mean and running_var are needed when training=False "
                "(or pass training=True to use batch statistics)"
            )
        out = (input - running_mean.reshape(shape)) / (running_var.reshape(shape) + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int],
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dimensions (biased variance).

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.layer_norm(tg.tensor([[1.0, 3.0]]), (2,), eps=0.0).tolist()
    [[-1.0, 1.0]]
    """
    input = _t(input)
    ns = (normalized_shape,) if isinstance(normalized_shape, int | np.integer) \
        else tuple(normalized_shape)
    k = len(ns)
    if tuple(input.shape[input.ndim - k:]) != ns or k > input.ndim:
        raise ValueError(
            f"layer_norm: normalized_shape {ns} must match the last {k} dimension(s) of the "
            f"input, whose shape is {tuple(input.shape)}"
        )
    axes = tuple(range(input.ndim - k, input.ndim))
    mean = input.mean(axes, keepdims=True)
    centered = input - mean
    var = (centered * centered).mean(axes, keepdims=True)
    out = centered / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


# ------------------------------------------------------------------------- activations
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)`` (``inplace`` is accepted and ignored).

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.relu(tg.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    return _t(input).relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` for x > 0, ``negative_slope * x`` otherwise.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.leaky_relu(tg.tensor([-2.0, 2.0]), 0.25).tolist()
    [-0.5, 2.0]
    """
    return _t(input).leaky_relu(negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> [round(v, 4) for v in F.elu(tg.tensor([-1.0, 2.0])).tolist()]
    [-0.6321, 2.0]
    """
    return _t(input).elu(alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Φ(x)`` (``approximate='tanh'`` for the tanh formula).

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> [round(v, 4) for v in F.gelu(tg.tensor([-1.0, 1.0])).tolist()]
    [-0.1587, 0.8413]
    """
    return _t(input).gelu(approximate)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.sigmoid(tg.tensor([0.0])).tolist()
    [0.5]
    """
    return _t(input).sigmoid()


def tanh(input: Tensor) -> Tensor:
    """``tanh(x)``.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.tanh(tg.tensor([0.0])).tolist()
    [0.0]
    """
    return _t(input).tanh()


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, linear above ``threshold``.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> [round(v, 4) for v in F.softplus(tg.tensor([0.0, 30.0])).tolist()]
    [0.6931, 30.0]
    """
    return _t(input).softplus(beta, threshold)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (also called swish).

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.silu(tg.tensor([0.0, 100.0])).tolist()
    [0.0, 100.0]
    """
    input = _t(input)
    return input * input.sigmoid()


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, computed stably: ``-softplus(-x)``.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> round(F.logsigmoid(tg.tensor([-200.0], dtype=tg.float64)).item(), 6)
    -200.0
    """
    return -(-_t(input)).softplus(1.0, math.inf)


def _legacy_dim(ndim: int) -> int:
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """Softmax along ``dim`` (PyTorch's legacy choice of dim when it is None).

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.softmax(tg.zeros(1, 4), dim=1).tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    """
    input = _t(input)
    if dtype is not None:
        input = input.astype(dtype)
    return input.softmax(_legacy_dim(input.ndim) if dim is None else dim)


def log_softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """Log of softmax along ``dim``, computed stably.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> [round(v, 4) for v in F.log_softmax(tg.tensor([0.0, 0.0]), dim=0).tolist()]
    [-0.6931, -0.6931]
    """
    input = _t(input)
    if dtype is not None:
        input = input.astype(dtype)
    return input.log_softmax(_legacy_dim(input.ndim) if dim is None else dim)


# ------------------------------------------------------------------------- losses
def _check_reduction(reduction: str, fname: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{fname}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
        )


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _regression_target(input: Tensor, target: Any, fname: str) -> Tensor:
    """``target`` as a Tensor in the input's dtype, of exactly the input's shape."""
    if not isinstance(target, Tensor):
        target = Tensor._wrap(np.asarray(target, dtype=input.dtype))
    elif target.dtype != input.dtype and not target.requires_grad:
        target = Tensor._wrap(target.data.astype(input.dtype))
    if target.shape != input.shape:
        raise ValueError(
            f"{fname}: input has shape {tuple(input.shape)} but target has shape "
            f"{tuple(target.shape)}; they must be equal. Broadcasting them would compare every "
            f"prediction with every target (an (N, 1) output against an (N,) target gives an "
            f"(N, N) loss) and silently optimise the wrong objective. Reshape one of them, e.g. "
            f"target.reshape({tuple(input.shape)}) or input.squeeze(-1); if broadcasting is "
            "really meant, pass target.expand(input.shape)."
        )
    return target


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error ``(input - target)²``, reduced by ``reduction``; one graph node
    (``MSELoss``).

    Raises ``ValueError`` (PyTorch only warns) when the shapes differ; see the module
    docstring.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.mse_loss(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 4.0])).item()
    2.0
    >>> F.mse_loss(tg.zeros(3, 1), tg.zeros(3))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: mse_loss: input has shape (3, 1) but target has shape (3,); they must be ...
    """
    if isinstance(input, Tensor) and isinstance(target, Tensor) and reduction in _REDUCTIONS:
        x, y = input.data, target.data
        if x.dtype is y.dtype and x.shape == y.shape:  # the common case: nothing to convert
            if reduction == "mean":  # MSELoss's default: an op called with options costs
                return _mse_op(input, target)  # ~0.4 µs more
            return _mse_op(input, target, reduction=reduction)
    _check_reduction(reduction, "mse_loss")
    input = _t(input)
    target = _regression_target(input, target, "mse_loss")
    return _mse_op(input, target, reduction=reduction)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error ``|input - target|`` (shapes must match, as in ``mse_loss``).

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.l1_loss(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 4.0]), reduction="sum").item()
    2.0
    """
    _check_reduction(reduction, "l1_loss")
    input = _t(input)
    return _reduce((input - _regression_target(input, target, "l1_loss")).abs(), reduction)


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """``0.5 d²`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``, d = input - target.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.huber_loss(tg.tensor([0.5, 3.0]), tg.zeros(2), reduction="none").tolist()
    [0.125, 2.5]
    """
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    input = _t(input)
    d = input - _regression_target(input, target, "huber_loss")
    ad = d.abs()
    loss = where(ad.data < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
    return _reduce(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Any, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """``0.5 d² / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (L1 when beta is 0).

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.smooth_l1_loss(tg.tensor([0.5, 3.0]), tg.zeros(2), reduction="none").tolist()
    [0.125, 2.5]
    """
    _check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    input = _t(input)
    d = input - _regression_target(input, target, "smooth_l1_loss")
    ad = d.abs()
    if beta == 0:
        return _reduce(ad, reduction)
    loss = where(ad.data < beta, (0.5 / beta) * d * d, ad - 0.5 * beta)
    return _reduce(loss, reduction)


def _binary_target(input: Tensor, target: Any, fname: str) -> Tensor:
    warn_if_swapped(input, target, fname, stacklevel=4)
    if not isinstance(target, Tensor):
        target = Tensor._wrap(np.asarray(target, dtype=input.dtype))
    elif target.dtype != input.dtype and not target.requires_grad:
        target = Tensor._wrap(target.data.astype(input.dtype))
    if target.shape != input.shape:
        raise ValueError(
            f"{fname}: target of shape {tuple(target.shape)} must have the same shape as the "
            f"input {tuple(input.shape)} (one 0/1 label or probability per output); reshape "
            f"it, e.g. target.reshape({tuple(input.shape)})"
        )
    warn_if_not_binary_targets(target.data, fname, stacklevel=4)
    return target


_LOG_FLOOR = -100.0  # PyTorch clamps log(p) at -100 so that p = 0 gives a finite loss


def _clamped_log(x: Tensor) -> Tensor:
    """``max(log(x), -100)``, with a zero (not NaN) gradient where it is clamped."""
    tiny = x.data < math.exp(_LOG_FLOOR)
    if not tiny.any():
        return x.log()
    safe = where(tiny, 1.0, x)
    return where(tiny, _LOG_FLOOR, safe.log())


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None,
                         reduction: str = "mean") -> Tensor:
    """``-w (y log p + (1 - y) log(1 - p))`` for probabilities ``p`` in [0, 1]; each log is
    clamped at -100 as in PyTorch (where clamped, the gradient is 0).

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> round(F.binary_cross_entropy(tg.tensor([0.5]), tg.tensor([1.0])).item(), 4)
    0.6931
    >>> F.binary_cross_entropy(tg.tensor([0.0]), tg.tensor([1.0])).item()
    100.0
    """
    _check_reduction(reduction, "binary_cross_entropy")
    input = _t(input)
    target = _binary_target(input, target, "binary_cross_entropy")
    x = input.data
    if x.size and (x.min() < 0 or x.max() > 1 or np.isnan(x).any()):
        raise ValueError(
            f"binary_cross_entropy: all elements of input should be probabilities in [0, 1], "
            f"got min {x.min():.4g} and max {x.max():.4g}. Apply sigmoid() first, or use "
            "binary_cross_entropy_with_logits (BCEWithLogitsLoss) on the raw scores, which "
            "is also numerically safer."
        )
    loss = -(target * _clamped_log(input) + (1 - target) * _clamped_log(1 - input))
    if weight is not None:
        loss = loss * _t(weight)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Any = None,
                                     reduction: str = "mean", pos_weight: Any = None) -> Tensor:
    """Sigmoid and binary cross-entropy in one stable formula:
    ``(1 - y) x - (1 + (pos_weight - 1) y) logsigmoid(x)``, times ``weight``.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> round(F.binary_cross_entropy_with_logits(tg.tensor([0.0]), tg.tensor([1.0])).item(), 4)
    0.6931
    >>> F.binary_cross_entropy_with_logits(tg.tensor([-200.0]), tg.tensor([1.0])).item()
    200.0
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    input = _t(input)
    target = _binary_target(input, target, "binary_cross_entropy_with_logits")
    log_sig = logsigmoid(input)
    if pos_weight is not None:
        log_sig = log_sig * ((_t(pos_weight) - 1) * target + 1)
    loss = (1 - target) * input - log_sig
    if weight is not None:
        loss = loss * _t(weight)
    return _reduce(loss, reduction)


def _class_target(input: Tensor, target: Any, fname: str) -> Tensor:
    """Check a target for (log-)probabilities over classes in dim 1 (or dim 0 of a 1-d input).

    Returns the target as a Tensor: integer class indices (the input's shape without the
    class dimension) or float probabilities (the input's shape).
    """
    if input.ndim == 0:
        raise ValueError(f"{fname}: input must have a class dimension, got a 0-d tensor")
    if not isinstance(target, Tensor):
        arr = np.asarray(target)
        if arr.dtype.kind == "f":
            arr = arr.astype(input.dtype)
        target = Tensor._wrap(arr)
    shape, tshape = tuple(input.shape), tuple(target.shape)
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = shape[class_dim]
    index_shape = shape[:class_dim] + shape[class_dim + 1:]
    kind = target.dtype.kind
    if kind in "iu" and tshape == index_shape:  # the common case, checked first and cheaply
        return target
    what = (
        f"{fname}: input of shape {shape} has {n_classes} classes in dim {class_dim}; the target "
        f"must be class indices (an integer tensor of shape {index_shape}) or class "
        f"probabilities (a float tensor of shape {shape}), but got a {target.dtype} target of "
        f"shape {tshape}."
    )
    if input.dtype.kind in "iub":  # scores are never integers: labels came first
        what += (f" The input holds {input.dtype} values: are the arguments swapped? "
                 f"{fname}(input, target) takes the scores first, then the labels.")
    if kind == "f":
        if tshape == shape:
            return target
        hint = ""
        if tshape == index_shape:
            hint = " These look like class indices stored as floats: pass target.long()."
        elif tshape == (*index_shape, 1):
            hint = " Pass target.squeeze(-1).long() for class indices."
        raise ValueError(what + hint)
    hint = ""
    if kind in "iu" and tshape == (*index_shape, 1):
        hint = " Squeeze the trailing dimension: target.squeeze(-1)."
    elif kind in "iu" and tshape == shape:
        hint = (" A target of the input's shape must hold float probabilities "
                "(one-hot rows: target.float()).")
    raise ValueError(what + hint)


def _nll(logp: Tensor, target: Tensor, weight: Any, ignore_index: int, reduction: str,
         fname: str) -> Tensor:
    """``-w[t] * logp[.., t, ..]`` per position, reduced as PyTorch's nll_loss does (one
    primitive; see :class:`tinygrad_edu.nn._functions.NLLLoss`)."""
    w = None if weight is None else _t(weight).data
    return _NLLLoss.apply(logp, target, weight=w, ignore_index=ignore_index,
                          reduction=reduction, fname=fname)


def nll_loss(input: Tensor, target: Any, weight: Any = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices, given log-probabilities ``input`` of shape
    (N, C), (C,) or (N, C, d1, ...). With ``weight`` (C,), the mean divides by the summed
    weights of the targets, as in PyTorch; targets equal to ``ignore_index`` count for nothing.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> logp = tg.tensor([[-0.5, -1.0], [-2.0, -0.25]])
    >>> F.nll_loss(logp, tg.tensor([0, 1])).item()
    0.375
    """
    _check_reduction(reduction, "nll_loss")
    input = _t(input)
    target = _class_target(input, target, "nll_loss")
    warn_if_not_log_probabilities(input.data, "nll_loss")
    if target.dtype.kind == "f":
        raise ValueError(
            f"nll_loss: takes class indices (integers), got a float target of shape "
            f"{tuple(target.shape)}; for class probabilities use cross_entropy on the logits"
        )
    return _nll(input, target, weight, ignore_index, reduction, "nll_loss")


def cross_entropy(input: Tensor, target: Any, weight: Any = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between logits ``input`` ((N, C), (C,) or (N, C, d1, ...)) and either
    class indices (integers of shape (N,) or (N, d1, ...)) or class probabilities (floats of
    the input's shape). Supports ``weight`` per class, ``ignore_index`` (indices only) and
    ``label_smoothing``, with PyTorch's formulas and normalisation. One graph node
    (``CrossEntropyLoss``: log-softmax and the likelihood together).

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> logits = tg.zeros(2, 4)
    >>> round(F.cross_entropy(logits, tg.tensor([0, 3])).item(), 4)  # log(4)
    1.3863
    >>> round(F.cross_entropy(logits, tg.full((2, 4), 0.25)).item(), 4)
    1.3863
    >>> F.cross_entropy(logits, tg.tensor([0, 4]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    IndexError: cross_entropy: target holds class index 4 (at position (1,)) but the input ...
    """
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    input = _t(input)
    target = _class_target(input, target, "cross_entropy")
    warn_if_probabilities(input.data, "cross_entropy")
    warn_if_single_class(input.data, "cross_entropy")
    warn_if_swapped(input, target, "cross_entropy")
    w = None if weight is None else _t(weight).data
    return _CrossEntropyLoss.apply(input, target, weight=w, ignore_index=ignore_index,
                                   reduction=reduction, label_smoothing=label_smoothing)
