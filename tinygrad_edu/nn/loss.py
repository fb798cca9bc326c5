"""Losses as modules; each calls the function of the same name in ``nn.functional``.

Shape rules (see :mod:`tinygrad_edu.nn.functional`): the regression losses and the binary
cross-entropies **raise** ``ValueError`` when input and target shapes differ, instead of
broadcasting (PyTorch warns and broadcasts, which silently computes the wrong loss).
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module


def _buffer(x: Any) -> Tensor | None:
    return x if x is None or isinstance(x, Tensor) else Tensor(x)


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction


class MSELoss(_Loss):
    """Mean squared error; ``reduction`` is ``'mean'``, ``'sum'`` or ``'none'``.
    Raises ``ValueError`` if input and target shapes differ.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> nn.MSELoss()(tg.tensor([[1.0], [2.0]]), tg.tensor([[1.0], [4.0]])).item()
    2.0
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error (shapes must match).

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> nn.L1Loss(reduction="sum")(tg.tensor([1.0, -1.0]), tg.zeros(2)).item()
    2.0
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Quadratic for ``|d| < delta``, linear beyond (shapes must match).

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> nn.HuberLoss(delta=1.0)(tg.tensor([3.0]), tg.tensor([0.0])).item()
    2.5
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Quadratic (divided by ``beta``) for ``|d| < beta``, linear beyond.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> nn.SmoothL1Loss(beta=2.0)(tg.tensor([1.0]), tg.zeros(1)).item()
    0.25
    """

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1] (logs clamped at -100, as PyTorch);
    ``weight`` rescales each element. For raw scores use :class:`BCEWithLogitsLoss`.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> round(nn.BCELoss()(tg.tensor([0.5]), tg.tensor([0.0])).item(), 4)
    0.6931
    """

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one numerically stable formula; ``pos_weight``
    (one per class, broadcast over the last dimension) weighs the positive examples.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> round(nn.BCEWithLogitsLoss(pos_weight=tg.tensor([2.0]))(tg.tensor([0.0]),
    ...                                                        tg.tensor([1.0])).item(), 4)
    1.3863
    """

    def __init__(self, weight: Any = None, reduction: str = "mean",
                 pos_weight: Any = None) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))
        self.register_buffer("pos_weight", _buffer(pos_weight))

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices given log-probabilities (e.g. the output of
    ``LogSoftmax``); ``weight`` per class, ``ignore_index`` skipped.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> nn.NLLLoss()(tg.tensor([[-0.5, -1.0]]), tg.tensor([1])).item()
    1.0
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """Cross-entropy of logits against class indices (int64, shape (N,) or (N, d1, ...)) or
    class probabilities (float, the logits' shape), with ``weight``, ``ignore_index`` and
    ``label_smoothing`` as in PyTorch. A wrong target shape, dtype or class index raises
    an error that says what to pass.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> loss = nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> round(loss(tg.tensor([[2.0, 0.0, -1.0]]), tg.tensor([0])).item(), 4)
    0.3365
    >>> loss(tg.zeros(4, 3), tg.zeros(4, 1))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: cross_entropy: input of shape (4, 3) has 3 classes ... target.squeeze(-1).long() ...
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)
