"""Keras's ``BatchNormalization``, with Keras's rules (which differ from PyTorch's
``nn.BatchNorm2d``, so it is written here from engine ops rather than on top of it):

- ``momentum=0.99`` is the weight of the **old** moving statistic
  (``moving = moving * momentum + batch * (1 - momentum)``; PyTorch's 0.1 weighs the new);
- ``epsilon=1e-3`` (PyTorch: 1e-5);
- the moving variance is updated with the batch's **biased** variance (PyTorch: unbiased);
- it normalises over every axis but ``axis`` (default -1: the channels of a channels_last
  image, the features of a Dense output);
- with ``layer.trainable = False`` it runs in inference mode even inside ``fit`` (Keras's
  rule for fine-tuning).

Its weights are ``gamma``, ``beta`` (trainable), ``moving_mean``, ``moving_variance``
(non-trainable: ``fit`` never updates them by gradient, the forward pass does in
training), in Keras's order, so ``get_weights()``, files and ``summary()`` read as in Keras:
``4 * channels`` parameters, ``2 * channels`` of them non-trainable.

>>> import numpy as np
>>> bn = BatchNormalization(input_shape=(2,))
>>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
>>> out = bn(x, training=True).numpy()    # batch statistics: mean 2, variance 1
>>> [round(v, 4) for v in out[:, 0].tolist()]          # (x - 2) / sqrt(1 + 0.001)
[-0.9995, 0.9995]
>>> [round(v, 6) for v in bn.moving_mean.tolist()]   # 0.99 * 0 + 0.01 * batch mean
[0.02, 0.2]
>>> [w.shape for w in bn.get_weights()], len(bn.trainable_weights)
([(2,), (2,), (2,), (2,)], 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from . import initializers, regularizers
from .layers import Layer, _initializer_config, regularizer_configs, unsupported_arguments

_KERAS2_ONLY = ("renorm", "renorm_clipping", "renorm_momentum", "virtual_batch_size",
                "adjustment")


class BatchNormalization(Layer):
    """Normalise each channel (``axis``) with the batch's mean and variance in training
    and with the moving averages in inference, then scale by ``gamma`` and shift by
    ``beta``: ``gamma * (x - mean) / sqrt(var + epsilon) + beta``. Keras's arguments and
    defaults (``axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True``).
    ``synchronized`` (across devices) and Keras 2's ``fused`` (which kernel computes it) are
    accepted and change nothing here: there is one device and one kernel. Keras 2's batch
    renormalization arguments and the constraints raise ``NotImplementedError``.

    >>> import numpy as np
    >>> bn = BatchNormalization(input_shape=(4, 4, 3))
    >>> bn.count_params(), [w.shape for w in bn.non_trainable_weights]
    (12, [(3,), (3,)])
    >>> bn(np.ones((2, 4, 4, 3))).shape          # inference: moving statistics 0 and 1
    (2, 4, 4, 3)
    >>> BatchNormalization(renorm=True)
    Traceback (most recent call last):
    ...
    NotImplementedError: BatchNormalization: renorm is not supported by tinygrad_edu.keras (Keras 2's batch renormalization); leave it out
    """  # noqa: E501

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, synchronized: bool = False,
                 **kwargs: Any) -> None:
        for arg in _KERAS2_ONLY:
            if kwargs.pop(arg, None) not in (None, False):
                raise NotImplementedError(f"BatchNormalization: {arg} is not supported by "
                                          "tinygrad_edu.keras (Keras 2's batch "
                                          "renormalization); leave it out")
        kwargs.pop("fused", None)  # Keras 2: which kernel computes it; same results
        unsupported_arguments("BatchNormalization", beta_constraint=beta_constraint,
                              gamma_constraint=gamma_constraint)
        if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
            raise NotImplementedError(f"BatchNormalization: axis must be one int (the channel "
                                      f"axis, default -1), got {axis!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"BatchNormalization: momentum must be in [0, 1], got {momentum!r}")
        if not epsilon > 0:
            raise ValueError(f"BatchNormalization: epsilon must be positive, got {epsilon!r}")
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.synchronized = bool(synchronized)  # one device: nothing to synchronise
        self._init_specs = {"beta_initializer": beta_initializer,
                            "gamma_initializer": gamma_initializer,
                            "moving_mean_initializer": moving_mean_initializer,
                            "moving_variance_initializer": moving_variance_initializer}
        for spec in self._init_specs.values():
            initializers.get(spec)  # fail now on an unknown name
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)

    def _channel_axis(self, ndim: int) -> int:
        if not -ndim <= self.axis < ndim or ndim < 2:
            raise ValueError(f"BatchNormalization layer {self.name!r}: axis={self.axis} is out "
                             f"of range for inputs of {ndim} dimensions (batch axis included)")
        axis = self.axis % ndim
        if axis == 0:
            raise ValueError(f"BatchNormalization layer {self.name!r}: axis 0 is the batch "
                             "axis; normalise the features (axis=-1)")
        return axis

    def build(self, input_shape: Sequence[int | None]) -> None:
        axis = self._channel_axis(len(input_shape))
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"BatchNormalization layer {self.name!r}: axis {self.axis} of "
                             f"the input must be known, got input shape {tuple(input_shape)}")
        shape, specs = (int(channels),), self._init_specs
        if self.scale:
            self.add_weight("gamma", shape, specs["gamma_initializer"],
                            regularizer=self.gamma_regularizer)
        else:
            self.register_parameter("gamma", None)
        if self.center:
            self.add_weight("beta", shape, specs["beta_initializer"],
                            regularizer=self.beta_regularizer)
        else:
            self.register_parameter("beta", None)
        self.add_weight("moving_mean", shape, specs["moving_mean_initializer"],
                        trainable=False)
        self.add_weight("moving_variance", shape, specs["moving_variance_initializer"],
                        trainable=False)
        super().build(input_shape)

    def forward(self, inputs: Tensor) -> Tensor:
        axis = self._channel_axis(inputs.ndim)
        channels = self.moving_mean.shape[0]
        if inputs.shape[axis] != channels:
            raise ValueError(f"Input of layer {self.name!r} is incompatible with the layer: "
                             f"expected axis {self.axis} of input shape to have value "
                             f"{channels}, but received input with shape "
                             f"{tuple(inputs.shape)}")
        shape = [1] * inputs.ndim
        shape[axis] = channels
        if self.training and self.trainable:
            reduce = tuple(a for a in range(inputs.ndim) if a != axis)
            mean = inputs.mean(axis=reduce, keepdims=True)
            centered = inputs - mean
            var = (centered * centered).mean(axis=reduce, keepdims=True)
            self._update_moving(mean, var, channels)
        else:
            centered = inputs - self.moving_mean.reshape(shape)
            var = self.moving_variance.reshape(shape)
        out = centered / (var + self.epsilon).sqrt()
        if self.gamma is not None:
            out = out * self.gamma.reshape(shape)
        if self.beta is not None:
            out = out + self.beta.reshape(shape)
        return out

    def _update_moving(self, mean: Tensor, var: Tensor, channels: int) -> None:
        """``moving = moving * momentum + batch * (1 - momentum)`` (Keras's rule)."""
        m = self.momentum
        with no_grad():
            for weight, batch in ((self.moving_mean, mean), (self.moving_variance, var)):
                stat = batch.data.reshape(channels).astype(weight.data.dtype)
                weight.data[...] = weight.data * m + stat * (1 - m)
                weight._bump_version()

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "synchronized": self.synchronized,
                **{k: _initializer_config(v, self.name) for k, v in self._init_specs.items()},
                **regularizer_configs(self, "beta_regularizer", "gamma_regularizer")}
