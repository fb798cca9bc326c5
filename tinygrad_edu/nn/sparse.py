"""``Embedding``: a lookup table of learned vectors, indexed by integers."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from . import functional as F
from . import init
from ._utils import check_device, float_dtype
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """``weight[input]``: a (num_embeddings, embedding_dim) table, initialised N(0, 1) as in
    PyTorch; the row ``padding_idx`` (if given) starts at zero and gets no gradient.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> emb = nn.Embedding(10, 3, padding_idx=0)
    >>> emb(tg.tensor([[1, 2, 0]])).shape
    (1, 3, 3)
    >>> emb.weight[0].tolist()
    [0.0, 0.0, 0.0]
    >>> emb
    Embedding(10, 3, padding_idx=0)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Any = None, _freeze: bool = False, device: Any = None,
                 dtype: Any = None, generator: Any = None) -> None:
        super().__init__()
        check_device(device)
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise NotImplementedError(
                "Embedding: max_norm, scale_grad_by_freq and sparse are not supported"
            )
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"padding_idx ({padding_idx}) must be within num_embeddings "
                    f"({num_embeddings})"
                )
            padding_idx = padding_idx % num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        if _weight is None:
            dt = float_dtype(dtype)
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=dt),
                                    requires_grad=not _freeze)
            self.reset_parameters(generator)
        else:
            arr = _weight.data if isinstance(_weight, Tensor) else np.asarray(_weight)
            if arr.shape != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight has shape {arr.shape}, expected "
                    f"({num_embeddings}, {embedding_dim})"
                )
            self.weight = Parameter(arr, requires_grad=not _freeze)

    def reset_parameters(self, generator: Any = None) -> None:
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True,
                        padding_idx: int | None = None) -> Embedding:
        """An Embedding holding ``embeddings`` (2-D), frozen unless ``freeze=False``."""
        arr = embeddings.data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if arr.ndim != 2:
            raise ValueError("Embeddings parameter is expected to be 2-dimensional")
        return cls(arr.shape[0], arr.shape[1], padding_idx=padding_idx, _weight=arr,
                   _freeze=freeze)

    def forward(self, input: Any) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
