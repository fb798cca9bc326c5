"""``Linear`` (a dense layer), ``LazyLinear``, ``Identity``, ``Flatten`` and ``Unflatten``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..dims import normalize_dim
from ..tensor import Tensor
from . import functional as F
from . import init
from ._utils import check_device, float_dtype
from .module import Module
from .parameter import Parameter


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored).

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> nn.Identity(54, unused="x")(tg.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x @ weight.T + bias`` with ``weight`` of shape (out_features, in_features), as
    in PyTorch (so state_dicts move between the two unchanged).

    Initialised like PyTorch: weight by ``kaiming_uniform_(a=sqrt(5))`` and bias by
    U(-1/sqrt(in_features), 1/sqrt(in_features)), both from ``generator`` when given.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> layer = nn.Linear(3, 2)
    >>> layer.weight.shape, layer.bias.shape
    ((2, 3), (2,))
    >>> layer(tg.ones(5, 3)).shape
    (5, 2)
    >>> layer
    Linear(in_features=3, out_features=2, bias=True)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None, generator: Any = None) -> None:
        super().__init__()
        check_device(device)
        if in_features < 0 or out_features < 0:
            raise ValueError(
                f"Linear: in_features and out_features must be non-negative, got "
                f"({in_features}, {out_features})"
            )
        dt = float_dtype(dtype)
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dt))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Any = None) -> None:
        """Re-draw the weights with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, input: Tensor) -> Tensor:
        params = self._parameters  # two dict reads: cheaper than two Module.__getattr__
        try:
            weight, bias = params["weight"], params["bias"]
        except KeyError:  # e.g. a weight set as a plain attribute
            weight, bias = self.weight, self.bias
        return F.linear(input, weight, bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class LazyLinear(Linear):
    """``Linear`` whose ``in_features`` is read from its first input, as PyTorch's
    ``nn.LazyLinear`` (d2l.ai's layers are written with it).

    Until that first call the weight is an empty (out_features, 0) placeholder; the call gives
    it its shape and PyTorch's default initialisation, in place, so an optimizer made earlier
    from ``parameters()`` updates the initialised values. The module then is an ``nn.Linear``.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> layer = nn.LazyLinear(2)
    >>> layer.weight.shape
    (2, 0)
    >>> layer(tg.ones(5, 3)).shape, layer.weight.shape, type(layer).__name__
    ((5, 2), (2, 3), 'Linear')
    """

    def __init__(self, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None, generator: Any = None) -> None:
        super().__init__(0, out_features, bias, device, dtype, generator)
        self._generator = generator

    def reset_parameters(self, generator: Any = None) -> None:
        if self.in_features:  # nothing to draw before the first call gives the shape
            super().reset_parameters(generator)

    def forward(self, input: Tensor) -> Tensor:
        x = input.data if isinstance(input, Tensor) else np.asarray(input)
        if x.ndim == 0:
            raise ValueError("LazyLinear: the first input must have at least one dimension, "
                             "its last one being the number of input features")
        self.in_features = int(x.shape[-1])
        self.weight.data = np.empty((self.out_features, self.in_features),
                                    dtype=self.weight.data.dtype)
        Linear.reset_parameters(self, self._generator)
        del self._generator
        self.__class__ = Linear  # as PyTorch's cls_to_become: from now on a plain Linear
        return Linear.forward(self, input)


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` (by default all but the batch dimension).

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> nn.Flatten()(tg.zeros(2, 3, 4, 5)).shape
    (2, 60)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size``.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> nn.Unflatten(1, (3, 4))(tg.zeros(2, 12)).shape
    (2, 3, 4)
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        d = normalize_dim(self.dim, input.ndim, "Unflatten", input.shape)
        return input.reshape(*input.shape[:d], *self.unflattened_size, *input.shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
