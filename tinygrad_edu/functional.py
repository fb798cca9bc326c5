"""Functions over tensors that are not methods: joining, convolution, pooling, and the
module-level spelling of the elementwise methods (``tg.exp(x)`` as ``x.exp()``).

Everything here is a composite of primitives, so its gradient (of any order) comes for free.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .dims import normalize_dim
from .ops import conv as _conv
from .ops import elementwise as _ew
from .ops import movement as _mv
from .tensor import Tensor, _operand, where

__all__ = [
    "avg_pool2d",
    "cat",
    "concat",
    "concatenate",
    "conv2d",
    "max_pool2d",
    "maximum",
    "minimum",
    "split",
    "stack",
    "where",
]


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def cat(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis.

    >>> import tinygrad_edu as tg
    >>> tg.cat([tg.ones(1, 2), tg.zeros(1, 2)], axis=0).shape
    (2, 2)
    """
    if len(tensors) == 0:
        raise ValueError("cat: expected a non-empty list of tensors")
    first = tensors[0]
    a = axis if dim is None else dim
    ndim = first.data.ndim if isinstance(first, Tensor) else np.ndim(first)
    if type(a) is not int or not 0 <= a < ndim:  # an int in range is already normalized
        shape = first.shape if isinstance(first, Tensor) else np.shape(first)
        a = normalize_dim(a, ndim, "cat", shape)
    return _mv.Concatenate.apply(*tensors, axis=a)


concatenate = cat
concat = cat  # PyTorch's other alias of cat


def stack(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join same-shaped tensors along a new axis.

    >>> import tinygrad_edu as tg
    >>> tg.stack([tg.ones(3), tg.zeros(3)]).shape
    (2, 3)
    """
    if len(tensors) == 0:
        raise ValueError("stack: expected a non-empty list of tensors")
    ts = [_as_tensor(t) for t in tensors]
    shapes = {t.shape for t in ts}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    a = normalize_dim(axis if dim is None else dim, ts[0].ndim + 1, "stack", ts[0].shape)
    return cat([t.unsqueeze(a) for t in ts], axis=a)


def split(t: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple:
    """Split ``t`` into pieces (see :meth:`Tensor.split`)."""
    return t.split(split_size_or_sections, dim)


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise maximum; ties share the gradient."""
    return _ew.Maximum.apply(_operand(x), _operand(y))


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise minimum; ties share the gradient."""
    return _ew.Minimum.apply(_operand(x), _operand(y))


def _pair(v: int | Sequence[int], name: str) -> tuple[int, int]:
    if isinstance(v, int | np.integer):
        return int(v), int(v)
    v = tuple(int(i) for i in v)
    if len(v) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {v}")
    return v  # type: ignore[return-value]


def _batched(x: Tensor, op: str) -> tuple[Tensor, bool]:
    if x.ndim == 3:
        return x.unsqueeze(0), True
    if x.ndim != 4:
        raise ValueError(
            f"{op}: expected input of shape (N, C, H, W) or (C, H, W), got {tuple(x.shape)}"
        )
    return x, False


def _pad2d(x: Tensor, padding: tuple[int, int], value: float = 0.0) -> Tensor:
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return x.pad(((0, 0), (0, 0), (ph, ph), (pw, pw)), value=value)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] | str = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch): im2col windows and one matmul.

    ``input`` (N, C, H, W), ``weight`` (O, C // groups, kh, kw), ``bias`` (O,). ``padding`` may
    be an int, a pair, ``'valid'`` or ``'same'`` (stride 1).

    >>> import tinygrad_edu as tg
    >>> x = tg.ones(1, 1, 4, 4)
    >>> w = tg.ones(2, 1, 3, 3)
    >>> tg.conv2d(x, w, padding=1).shape
    (1, 2, 4, 4)
    """
    x, unbatched = _batched(_as_tensor(input), "conv2d")
    weight = _as_tensor(weight)
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be (O, C/groups, kh, kw), got {tuple(weight.shape)}")
    c = x.shape[1]
    o, cg, kh, kw = weight.shape
    if c != cg * groups or o % groups:
        raise ValueError(
            f"conv2d: input has {c} channels and weight {tuple(weight.shape)} with "
            f"groups={groups}; need channels == {cg} * groups and out_channels divisible by groups"
        )
    st, dl = _pair(stride, "stride"), _pair(dilation, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            pad = (0, 0)
        elif padding == "same":
            if st != (1, 1):
                raise ValueError("conv2d: padding='same' needs stride 1")
            th, tw = dl[0] * (kh - 1), dl[1] * (kw - 1)
            if th % 2 or tw % 2:
                x = x.pad(((0, 0), (0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2)))
                pad = (0, 0)
            else:
                pad = (th // 2, tw // 2)
        else:
            raise ValueError(
                f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}"
            )
    else:
        pad = _pair(padding, "padding")
    opts = {"stride": st, "padding": pad, "dilation": dl, "groups": groups}
    if bias is None:
        out = _conv.Conv2d.apply(x, weight, **opts)
    else:
        out = _conv.Conv2d.apply(x, weight, _as_tensor(bias).reshape(o), **opts)
    return out[0] if unbatched else out


def _pool_windows(x: Tensor, kernel_size, stride, padding, dilation, pad_value, op):
    x, unbatched = _batched(_as_tensor(x), op)
    k = _pair(kernel_size, "kernel_size")
    st = k if stride is None else _pair(stride, "stride")
    pad = _pair(padding, "padding")
    if pad[0] > k[0] // 2 or pad[1] > k[1] // 2:
        raise ValueError(f"{op}: padding {pad} must be at most half the kernel size {k}")
    x = _pad2d(x, pad, pad_value)
    cols = _conv.Unfold.apply(x, kernel=k, stride=st, dilation=_pair(dilation, "dilation"))
    n, c, kh, kw, oh, ow = cols.shape
    return cols.reshape(n, c, kh * kw, oh, ow), unbatched


def _tiled(x: Any, k: tuple[int, int], stride: Any, padding: Any, dilation: Any) -> bool:
    """Whether pooling windows of size ``k`` tile ``x`` (N, C, H, W) or (C, H, W): stride equal
    to the kernel, no padding, no dilation, at least one window per axis."""
    return (
        isinstance(x, Tensor)
        and x.ndim in (3, 4)
        and (stride is None or _pair(stride, "stride") == k)
        and _pair(padding, "padding") == (0, 0)
        and _pair(dilation, "dilation") == (1, 1)
        and x.shape[-2] >= k[0]
        and x.shape[-1] >= k[1]
    )


def max_pool2d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: Any = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
) -> Tensor:
    """Max over sliding windows (stride defaults to the kernel size); padding is -inf.

    >>> import tinygrad_edu as tg
    >>> tg.max_pool2d(tg.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    k = _pair(kernel_size, "kernel_size")
    if _tiled(input, k, stride, padding, dilation):  # windows tile the input: no copy
        x, unbatched = _batched(input, "max_pool2d")
        out = _conv.MaxPoolTiles.apply(x, kernel=k)
        return out[0] if unbatched else out
    cols, unbatched = _pool_windows(
        input, kernel_size, stride, padding, dilation, -np.inf, "max_pool2d"
    )
    out = cols.amax(axis=2)
    return out[0] if unbatched else out


def avg_pool2d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: Any = None,
    padding: int | Sequence[int] = 0,
) -> Tensor:
    """Mean over sliding windows (zero padding counted, as PyTorch's default)."""
    k = _pair(kernel_size, "kernel_size")
    if _tiled(input, k, stride, padding, 1) and input.dtype.kind == "f":
        x, unbatched = _batched(input, "avg_pool2d")
        out = _conv.AvgPoolTiles.apply(x, kernel=k)
        return out[0] if unbatched else out
    cols, unbatched = _pool_windows(input, kernel_size, stride, padding, 1, 0.0, "avg_pool2d")
    out = cols.mean(axis=2)
    return out[0] if unbatched else out


def _method(name: str):
    def fn(x: Any, *args: Any, **kwargs: Any) -> Tensor:
        return getattr(_as_tensor(x), name)(*args, **kwargs)

    fn.__name__ = name
    fn.__doc__ = f"``tg.{name}(x, ...)`` is ``x.{name}(...)``; see :meth:`Tensor.{name}`."
    return fn


_METHODS = [
    "exp",
    "log",
    "sqrt",
    "abs",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "relu",
    "leaky_relu",
    "elu",
    "gelu",
    "softplus",
    "clamp",
    "clip",
    "erf",
    "square",
    "sum",
    "mean",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "var",
    "std",
    "logsumexp",
    "softmax",
    "log_softmax",
    "matmul",
    "reshape",
    "flatten",
    "squeeze",
    "unsqueeze",
    "permute",
    "transpose",
    "swapaxes",
    "broadcast_to",
    "pad",
    "round",
    "sign",
    "floor",
    "ceil",
    "log1p",
    "expm1",
    "reciprocal",
]
for _name in _METHODS:
    globals()[_name] = _method(_name)
__all__ += _METHODS
