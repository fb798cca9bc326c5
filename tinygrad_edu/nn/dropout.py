"""``Dropout``: random zeroing during training, identity in evaluation."""

from __future__ import annotations

from ..random import Generator
from ..tensor import Tensor
from . import functional as F
from .module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` in training (scaling the rest by
    ``1 / (1 - p)``); the identity after ``eval()``. Draws from ``generator`` when given, else
    from the default generator that ``tinygrad_edu.manual_seed`` seeds.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> drop = nn.Dropout(0.5, generator=tg.Generator(0))
    >>> sorted(set(drop(tg.ones(100)).tolist()))
    [0.0, 2.0]
    >>> drop.eval()(tg.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    >>> drop
    Dropout(p=0.5, inplace=False)
    """

    def __init__(self, p: float = 0.5, inplace: bool = False,
                 generator: Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace, self.generator = p, inplace, generator

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
