"""Gradient clipping and flattening helpers (PyTorch's ``nn.utils``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]


def _as_list(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(a: np.ndarray, norm_type: float) -> float:
    if norm_type == math.inf:
        return float(np.max(np.abs(a))) if a.size else 0.0
    if norm_type == -math.inf:
        return float(np.min(np.abs(a))) if a.size else math.inf
    if norm_type == 2.0:
        return float(np.sqrt(np.dot(a.ravel(), a.ravel())))
    if norm_type == 1.0:
        return float(np.sum(np.abs(a)))
    if norm_type == 0:
        return float(np.count_nonzero(a))
    return float(np.sum(np.abs(a) ** norm_type) ** (1.0 / norm_type))


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False) -> Tensor:
    """The norm of the norms of ``tensors`` (as if they were one concatenated vector).

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu.nn.utils import get_total_norm
    >>> get_total_norm([tg.tensor([3.0]), tg.tensor([4.0])]).item()
    5.0
    """
    norm_type = float(norm_type)
    arrays = [t.data for t in _as_list(tensors)]
    if not arrays:
        return Tensor._wrap(np.array(0.0, dtype=np.float32))
    norms = np.array([_vector_norm(a.astype(np.float64, copy=False), norm_type)
                      for a in arrays])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._wrap(np.array(total, dtype=arrays[0].dtype))


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: Any = None) -> Tensor:
    """Scale the gradients in place so that their total norm is at most ``max_norm``;
    returns the total norm from before clipping (a 0-d Tensor), as PyTorch.

    The scale is ``min(1, max_norm / (total_norm + 1e-6))``. ``norm_type`` may be ``inf``.
    With ``error_if_nonfinite`` a NaN or infinite norm raises ``RuntimeError``.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> w = tg.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w / 2).sum().backward()  # grad = w, norm 5
    >>> float(nn.utils.clip_grad_norm_([w], max_norm=1.0))
    5.0
    >>> [round(v, 4) for v in w.grad.tolist()]
    [0.6, 0.8]
    """
    params = _as_list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if not grads:
        return total
    coef = min(float(max_norm) / (float(total.data) + 1e-6), 1.0)
    for g in grads:
        np.multiply(g.data, coef, out=g.data, casting="unsafe")
        g._bump_version()
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: Any = None) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]``, in place.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> w = tg.tensor([3.0, -4.0], requires_grad=True)
    >>> (w * w / 2).sum().backward()
    >>> nn.utils.clip_grad_value_([w], 1.0)
    >>> w.grad.tolist()
    [1.0, -1.0]
    """
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)
            p.grad._bump_version()


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened into one 1-D tensor (a copy, not in the graph).

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> nn.utils.parameters_to_vector([tg.ones(2, 2), tg.zeros(1)]).tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0]
    """
    arrays = [p.data.ravel() for p in parameters]
    return Tensor._wrap(np.concatenate(arrays) if arrays else np.zeros(0))


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy slices of the 1-D ``vec`` into the parameters, in order (in place).

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> a, b = tg.zeros(2), tg.zeros(1)
    >>> nn.utils.vector_to_parameters(tg.tensor([1.0, 2.0, 3.0]), [a, b])
    >>> a.tolist(), b.tolist()
    ([1.0, 2.0], [3.0])
    """
    data = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    params = list(parameters)
    total = sum(p.data.size for p in params)
    if data.ndim != 1 or data.size != total:
        raise ValueError(
            f"vector_to_parameters: expected a 1-D vector of {total} elements, got shape "
            f"{data.shape}"
        )
    start = 0
    for p in params:
        n = p.data.size
        p.data[...] = data[start:start + n].reshape(p.data.shape)
        p._bump_version()
        start += n
