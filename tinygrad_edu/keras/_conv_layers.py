"""Keras's image layers, channels_last (``(batch, height, width, channels)``): ``Conv2D``,
``MaxPooling2D``, ``AveragePooling2D``, ``GlobalAveragePooling2D``, ``GlobalMaxPooling2D``.

They are built on ``tinygrad_edu.nn.functional`` (``conv2d``, ``max_pool2d``,
``avg_pool2d``, which take PyTorch's ``(N, C, H, W)``): the input is transposed to
channels-first, the kernel ``(kh, kw, in, out)`` (Keras's layout, what ``get_weights``
returns and files store) to ``(out, in, kh, kw)``, and the result back, all as engine ops,
so the gradients are the engine's. ``padding='same'`` pads as Keras (TensorFlow) does:
``ceil(size / stride)`` outputs, the odd pixel of padding at the bottom/right; max pooling
pads with -inf and average pooling divides by the pixels inside the image only.

>>> import numpy as np
>>> from tinygrad_edu import keras
>>> keras.utils.set_random_seed(0)
>>> model = keras.Sequential([
...     keras.Input(shape=(28, 28, 1)),
...     Conv2D(32, kernel_size=(3, 3), activation="relu"),
...     MaxPooling2D(pool_size=(2, 2)),
...     Conv2D(64, (3, 3), padding="same", strides=2),
...     GlobalAveragePooling2D(),
... ])
>>> [layer.output_shape for layer in model.layers]
[(None, 26, 26, 32), (None, 13, 13, 32), (None, 7, 7, 64), (None, 64)]
>>> [layer.count_params() for layer in model.layers]      # 3*3*1*32 + 32, 3*3*32*64 + 64
[320, 0, 18496, 0]
>>> model.predict(np.zeros((2, 28, 28, 1)), verbose=0).shape
(2, 64)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..nn import functional as F
from ..tensor import Tensor
from .layers import (
    Layer,
    Shape,
    unsupported_arguments,
)


def _pair(value: Any, what: str, layer: str) -> tuple[int, int]:
    """An int or a pair of positive ints, as Keras's ``kernel_size`` / ``strides``."""
    pair = (value, value) if isinstance(value, int | np.integer) else value
    try:
        out = tuple(int(v) for v in pair)
        ok = len(out) == 2 and all(v > 0 and v == w for v, w in zip(out, pair)) \
            and not any(isinstance(v, bool) for v in pair)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{layer}: {what} must be a positive int or a tuple of 2 positive "
                         f"ints, e.g. {what}=(3, 3); got {value!r}")
    return out  # type: ignore[return-value]


def _padding(padding: Any, layer: str) -> str:
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in ("valid", "same"):
        raise ValueError(f"{layer}: padding must be 'valid' or 'same', got {padding!r}"
                         + (" ('causal' is for Conv1D, which tinygrad_edu.keras does not have)"
                            if mode == "causal" else ""))
    return mode


def _channels_last(data_format: Any, layer: str) -> None:
    if data_format not in (None, "channels_last"):
        raise NotImplementedError(
            f"{layer}: data_format={data_format!r} is not supported; tinygrad_edu.keras "
            "layers are channels_last (batch, height, width, channels): transpose the data "
            "with np.transpose(x, (0, 2, 3, 1))")


def _same_pads(size: int, k: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """Keras's (TensorFlow's) 'same' padding of one axis: (before, after)."""
    span = dilation * (k - 1) + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def _out_size(size: int | None, k: int, stride: int, padding: str,
              dilation: int = 1) -> int | None:
    if size is None:
        return None
    if padding == "same":
        return -(-size // stride)
    return (size - dilation * (k - 1) - 1) // stride + 1


def _check_image(inputs: Tensor | Shape, layer: Layer) -> None:
    shape = tuple(inputs.shape if isinstance(inputs, Tensor) else inputs)
    if len(shape) != 4:
        raise ValueError(f"Input 0 of layer {layer.name!r} ({type(layer).__name__}) is "
                         f"incompatible with the layer: expected ndim=4 (batch, height, width, "
                         f"channels), found ndim={len(shape)}. Full shape received: {shape}"
                         + (" (add a channel axis: x[..., None] or Reshape((h, w, 1)))"
                            if len(shape) == 3 else ""))


def _spatial_pads(x: Tensor, kernel: Sequence[int], strides: Sequence[int], padding: str,
                  dilation: Sequence[int] = (1, 1)) -> tuple[tuple[int, int], tuple[int, int]]:
    if padding == "valid":
        return (0, 0), (0, 0)
    return (_same_pads(x.shape[1], kernel[0], strides[0], dilation[0]),
            _same_pads(x.shape[2], kernel[1], strides[1], dilation[1]))


def _check_fits(x: Tensor, kernel: Sequence[int], dilation: Sequence[int], layer: Layer,
                what: str) -> None:
    for axis, k, d in zip((1, 2), kernel, dilation):
        if x.shape[axis] < d * (k - 1) + 1:
            raise ValueError(
                f"layer {layer.name!r} ({type(layer).__name__}): the {what} {tuple(kernel)} is "
                f"larger than the input {tuple(x.shape[1:3])} with padding='valid'; use "
                "padding='same', a smaller window, or a larger input")


def _nchw(x: Tensor) -> Tensor:
    return x.permute(0, 3, 1, 2)


def _nhwc(x: Tensor) -> Tensor:
    return x.permute(0, 2, 3, 1)


class Conv2D(Layer):
    """2-D convolution over channels_last images: ``activation(conv(inputs, kernel) +
    bias)`` with ``kernel`` of shape ``(kh, kw, in_channels // groups, filters)`` (Keras's
    layout) and ``bias`` ``(filters,)``.

    Keras's arguments and defaults: ``strides=(1, 1)``, ``padding='valid'`` (or
    ``'same'``), ``dilation_rate=(1, 1)``, ``groups=1``, ``use_bias=True``,
    ``glorot_uniform`` kernel (fans counted as Keras: ``kh * kw * in`` and
    ``kh * kw * out``), zero bias, ``kernel_regularizer`` / ``bias_regularizer``.
    Parameters: ``kh * kw * in * filters + filters``.

    >>> import numpy as np
    >>> conv = Conv2D(2, 3, padding="same", kernel_initializer="ones", input_shape=(4, 4, 1))
    >>> conv(np.ones((1, 4, 4, 1))).numpy()[0, :, :, 0].tolist()[:2]
    [[4.0, 6.0, 6.0, 4.0], [6.0, 9.0, 9.0, 6.0]]
    >>> conv.kernel.shape, conv.output_shape, conv.count_params()
    ((3, 3, 1, 2), (None, 4, 4, 2), 20)
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = (1, 1), groups: int = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        if isinstance(filters, bool) or not isinstance(filters, int | np.integer) \
                or filters <= 0:
            raise ValueError("Invalid value for argument `filters`. Expected a strictly "
                             f"positive value. Received filters={filters!r}.")
        who = "Conv2D"
        _channels_last(data_format, who)
        unsupported_arguments(who, activity_regularizer=activity_regularizer,
                              kernel_constraint=kernel_constraint,
                              bias_constraint=bias_constraint)
        kernel = _pair(kernel_size, "kernel_size", who)
        stride = _pair(strides, "strides", who)
        dilation = _pair(dilation_rate, "dilation_rate", who)
        if stride != (1, 1) and dilation != (1, 1):
            raise ValueError(f"{who}: strides > 1 not supported in conjunction with "
                             "dilation_rate > 1 (as in Keras)")
        mode = _padding(padding, who)
        if isinstance(groups, bool) or not isinstance(groups, int | np.integer) \
                or groups <= 0 or filters % groups:
            raise ValueError(f"{who}: groups must be a positive int dividing filters "
                             f"({filters}), got groups={groups!r}")
        super().__init__(**kwargs)
        self.filters, self.groups, self.padding = int(filters), int(groups), mode
        self.kernel_size, self.strides, self.dilation_rate = kernel, stride, dilation
        self.set_kernel_options(activation, use_bias, kernel_initializer, bias_initializer,
                                kernel_regularizer, bias_regularizer)
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)

    def build(self, input_shape: Sequence[int | None]) -> None:
        _check_image(input_shape, self)
        channels = input_shape[-1]
        if channels is None or channels % self.groups:
            raise ValueError(f"Conv2D layer {self.name!r}: the channel axis (last) of the "
                             f"input must be known and divisible by groups={self.groups}, "
                             f"got input shape {tuple(input_shape)}")
        kh, kw = self.kernel_size
        self.add_kernel_and_bias((kh, kw, channels // self.groups, self.filters))
        super().build(input_shape)

    def forward(self, inputs: Tensor) -> Tensor:
        _check_image(inputs, self)
        if inputs.shape[-1] != self.kernel.shape[2] * self.groups:
            raise ValueError(f"Input of layer {self.name!r} is incompatible with the layer: "
                             f"expected axis -1 of input shape to have value "
                             f"{self.kernel.shape[2] * self.groups}, but received input with "
                             f"shape {tuple(inputs.shape)}")
        (top, bottom), (left, right) = _spatial_pads(inputs, self.kernel_size, self.strides,
                                                     self.padding, self.dilation_rate)
        x = inputs
        if top or bottom or left or right:
            x = x.pad(((0, 0), (top, bottom), (left, right), (0, 0)))
        _check_fits(x, self.kernel_size, self.dilation_rate, self, "kernel")
        weight = self.kernel.permute(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
        out = _nhwc(F.conv2d(_nchw(x), weight, self.bias, self.strides, 0,
                             self.dilation_rate, self.groups))
        act = self.activation
        return out if act is None else act(out)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        batch, h, w, _ = tuple(input_shape)
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.strides, self.dilation_rate
        return (batch, _out_size(h, kh, sh, self.padding, dh),
                _out_size(w, kw, sw, self.padding, dw), self.filters)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "dilation_rate": list(self.dilation_rate),
                "groups": self.groups, **self.kernel_config()}


class _Pooling2D(Layer):
    """Shared code of the 2-D pooling layers: arguments, shapes, configs."""

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        who = type(self).__name__
        _channels_last(data_format, who)
        size = _pair(pool_size, "pool_size", who)
        stride = size if strides is None else _pair(strides, "strides", who)
        mode = _padding(padding, who)
        super().__init__(**kwargs)
        self.pool_size, self.strides, self.padding = size, stride, mode
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)

    def build(self, input_shape: Sequence[int | None]) -> None:
        _check_image(input_shape, self)
        super().build(input_shape)

    def _padded(self, inputs: Tensor, value: float) -> tuple[Tensor, tuple, tuple]:
        _check_image(inputs, self)
        pads = _spatial_pads(inputs, self.pool_size, self.strides, self.padding)
        x = inputs
        if any(pads[0]) or any(pads[1]):
            x = x.pad(((0, 0), pads[0], pads[1], (0, 0)), value=value)
        _check_fits(x, self.pool_size, (1, 1), self, "pool_size")
        return x, pads[0], pads[1]

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        batch, h, w, c = tuple(input_shape)
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        return (batch, _out_size(h, ph, sh, self.padding), _out_size(w, pw, sw, self.padding),
                c)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding}


class MaxPooling2D(_Pooling2D):
    """The maximum over ``pool_size`` windows moved by ``strides`` (default: the pool size),
    per channel; ``padding='same'`` pads with -inf.

    >>> import numpy as np
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> MaxPooling2D()(x).numpy()[0, :, :, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    >>> MaxPooling2D(pool_size=3, strides=2, padding="same")(x).numpy()[0, :, :, 0].tolist()
    [[10.0, 11.0], [14.0, 15.0]]
    """

    def forward(self, inputs: Tensor) -> Tensor:
        x, _, _ = self._padded(inputs, -np.inf)
        return _nhwc(F.max_pool2d(_nchw(x), self.pool_size, self.strides))


def _window_counts(size: int, k: int, stride: int, before: int, out: int) -> np.ndarray:
    """How many pixels of the image (not of the padding) each window holds on one axis."""
    start = np.arange(out) * stride - before
    return np.minimum(start + k, size) - np.maximum(start, 0)


class AveragePooling2D(_Pooling2D):
    """The mean over ``pool_size`` windows moved by ``strides`` (default: the pool size),
    per channel; with ``padding='same'`` a border window averages only the pixels inside
    the image (as Keras).

    >>> import numpy as np
    >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> AveragePooling2D()(x).numpy()[0, :, :, 0].tolist()
    [[2.0]]
    >>> AveragePooling2D(padding="same")(x).numpy()[0, :, :, 0].tolist()
    [[2.0, 3.5], [6.5, 8.0]]
    """

    def forward(self, inputs: Tensor) -> Tensor:
        x, (top, _), (left, _) = self._padded(inputs, 0.0)
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        means = _nhwc(F.avg_pool2d(_nchw(x), self.pool_size, self.strides))
        if self.padding == "valid":
            return means
        oh, ow = means.shape[1:3]
        counts = np.outer(_window_counts(inputs.shape[1], ph, sh, top, oh),
                          _window_counts(inputs.shape[2], pw, sw, left, ow))
        scale = (ph * pw / counts).astype(means.dtype)[None, :, :, None]
        return means * scale


class _GlobalPooling2D(Layer):
    """Shared code of the global poolings: one value per channel (``keepdims`` keeps the
    two spatial axes as size 1)."""

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        _channels_last(data_format, type(self).__name__)
        super().__init__(**kwargs)
        self.keepdims = bool(keepdims)
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)

    def build(self, input_shape: Sequence[int | None]) -> None:
        _check_image(input_shape, self)
        super().build(input_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        batch, _, _, c = tuple(input_shape)
        return (batch, 1, 1, c) if self.keepdims else (batch, c)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling2D):
    """The mean of each channel over height and width: ``(b, h, w, c)`` -> ``(b, c)``.

    >>> import numpy as np
    >>> GlobalAveragePooling2D()(np.arange(8.0).reshape(1, 2, 2, 2)).tolist()
    [[3.0, 4.0]]
    """

    def forward(self, inputs: Tensor) -> Tensor:
        _check_image(inputs, self)
        return inputs.mean(axis=(1, 2), keepdims=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """The maximum of each channel over height and width: ``(b, h, w, c)`` -> ``(b, c)``.

    >>> import numpy as np
    >>> GlobalMaxPooling2D()(np.arange(8.0).reshape(1, 2, 2, 2)).tolist()
    [[6.0, 7.0]]
    """

    def forward(self, inputs: Tensor) -> Tensor:
        _check_image(inputs, self)
        return inputs.amax(axis=(1, 2), keepdims=self.keepdims)


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
