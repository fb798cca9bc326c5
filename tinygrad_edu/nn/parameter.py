"""``Parameter``: a tensor that a ``Module`` registers as one of its learnable weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that requires grad by default and that a :class:`Module` registers when it is
    assigned as an attribute (``self.weight = Parameter(...)``).

    It shares memory with the tensor or numpy array it is made from, as in PyTorch.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu.nn import Parameter
    >>> p = Parameter(tg.ones(2))
    >>> p.requires_grad, p.is_leaf
    (True, True)
    >>> p
    Parameter containing:
    tensor([1., 1.], requires_grad=True)
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=dtypes.get_default_dtype())
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

