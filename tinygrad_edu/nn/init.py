"""Weight initialisation, in place, with PyTorch's names, gains and fan conventions.

Every function fills its tensor without recording a graph and returns it; each takes an
optional ``generator`` (a :class:`tinygrad_edu.Generator`) for reproducible draws.

Fans follow PyTorch: for a weight of shape (out, in, *kernel), ``fan_in = in * prod(kernel)``
and ``fan_out = out * prod(kernel)`` — so a Linear weight, stored (out_features,
in_features), has ``fan_in = in_features``.

>>> import tinygrad_edu as tg
>>> from tinygrad_edu import nn
>>> w = tg.zeros(3, 4)
>>> _ = nn.init.uniform_(w, -0.12, 0.12, generator=tg.Generator(0))  # seed 002's answer
>>> bool((w.abs() <= 0.12).all())
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..random import Generator, numpy_rng
from ..tensor import Tensor

__all__ = [
    "calculate_gain",
    "constant_",
    "glorot_normal_",
    "glorot_uniform_",
    "he_normal_",
    "he_uniform_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for an activation (PyTorch's table).

    ``linear``/``conv*``/``sigmoid``: 1; ``tanh``: 5/3; ``relu``: √2;
    ``leaky_relu``: √(2 / (1 + slope²)) (slope ``param``, default 0.01); ``selu``: 3/4.

    >>> from tinygrad_edu import nn
    >>> nn.init.calculate_gain("tanh")
    1.6666666666666667
    >>> round(nn.init.calculate_gain("leaky_relu", 5 ** 0.5), 6)  # Linear's default init
    0.57735
    """
    linear_fns = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d")
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, bool) or not isinstance(param, int | float):
            raise ValueError(f"negative_slope {param} not a valid number")
        else:
            slope = param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape (out, in, *kernel), as PyTorch computes."""
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(
            f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(shape {shape})"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """Public spelling of :func:`_calculate_fan_in_and_fan_out`.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> nn.init.calculate_fan_in_and_fan_out(tg.zeros(16, 3, 5, 5))
    (75, 400)
    """
    return _calculate_fan_in_and_fan_out(tensor)


def _calculate_correct_fan(tensor: Any, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Tensor, values: np.ndarray | float) -> Tensor:
    with no_grad():
        tensor.copy_(values)
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> Tensor:
    """Fill with samples of U(a, b).

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> w = nn.init.uniform_(tg.zeros(1000), -0.5, 0.5, generator=tg.Generator(0))
    >>> bool(w.min() >= -0.5) and bool(w.max() < 0.5)
    True
    """
    return _fill(tensor, numpy_rng(generator).uniform(a, b, size=tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    """Fill with samples of N(mean, std²).

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> w = nn.init.normal_(tg.zeros(10_000), 2.0, 0.5, generator=tg.Generator(0))
    >>> round(float(w.mean()), 1), round(float(w.std()), 1)
    (2.0, 0.5)
    """
    return _fill(tensor, numpy_rng(generator).normal(mean, std, size=tensor.shape))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std²) samples redrawn until they fall in [a, b].

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> w = nn.init.trunc_normal_(tg.zeros(1000), a=-1.0, b=1.0)
    >>> bool(w.abs().max() <= 1.0)
    True
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    rng = numpy_rng(generator)
    out = rng.normal(mean, std, size=tensor.shape)
    bad = (out < a) | (out > b)
    for _ in range(1000):
        if not bad.any():
            break
        out[bad] = rng.normal(mean, std, size=int(bad.sum()))
        bad = (out < a) | (out > b)
    else:
        np.clip(out, a, b, out=out)
    return _fill(tensor, out)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> nn.init.constant_(tg.zeros(2), 0.5).tolist()
    [0.5, 0.5]
    """
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> nn.init.zeros_(tg.ones(2)).tolist()
    [0.0, 0.0]
    """
    return _fill(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> nn.init.ones_(tg.zeros(2)).tolist()
    [1.0, 1.0]
    """
    return _fill(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: Generator | None = None) -> Tensor:
    """Glorot uniform: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> w = nn.init.xavier_uniform_(tg.zeros(30, 20))  # a = sqrt(6 / 50)
    >>> bool(w.abs().max() <= (6 / 50) ** 0.5)
    True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: Generator | None = None) -> Tensor:
    """Glorot normal: N(0, std²) with ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> w = nn.init.xavier_normal_(tg.zeros(300, 200), generator=tg.Generator(0))
    >>> round(float(w.std()), 3), round((2 / 500) ** 0.5, 3)
    (0.063, 0.063)
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """He uniform: U(-bound, bound) with ``bound = gain * sqrt(3 / fan)``,
    ``gain = calculate_gain(nonlinearity, a)``, ``fan`` by ``mode``.

    PyTorch's Linear and Conv2d use ``a=sqrt(5)``, which makes ``bound = 1 / sqrt(fan_in)``.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> w = nn.init.kaiming_uniform_(tg.zeros(20, 100), nonlinearity="relu")
    >>> bool(w.abs().max() <= (6 / 100) ** 0.5)  # gain sqrt(2): bound sqrt(6 / fan_in)
    True
    """
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """He normal: N(0, std²) with ``std = gain / sqrt(fan)``.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> w = nn.init.kaiming_normal_(tg.zeros(500, 200), mode="fan_out", nonlinearity="relu",
    ...                             generator=tg.Generator(0))
    >>> round(float(w.std()), 3), round((2 / 500) ** 0.5, 3)
    (0.063, 0.063)
    """
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


glorot_uniform_ = xavier_uniform_
glorot_normal_ = xavier_normal_
he_uniform_ = kaiming_uniform_
he_normal_ = kaiming_normal_
