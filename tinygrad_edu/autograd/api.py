"""PyTorch's ``torch.autograd.backward``, ``Tensor.backward(inputs=...)`` and ``Variable``, on
the engine.

>>> import tinygrad_edu as tg
>>> x = tg.tensor([1.0, 2.0], requires_grad=True)
>>> w = tg.tensor([3.0, 4.0], requires_grad=True)
>>> (x * w).sum().backward(inputs=[x])      # only x's .grad is filled
>>> x.grad, w.grad
(tensor([3., 4.]), None)
"""

from __future__ import annotations

from typing import Any

from . import engine
from . import function as _function


def _as_list(value: Any) -> list:
    return [value] if isinstance(value, _function.Tensor) else list(value)


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Any = None) -> None:
    """Accumulate the gradients of ``tensors`` (one seed each in ``grad_tensors``; None for a
    single-element tensor) into ``.grad``: of every leaf, or of ``inputs`` only."""
    roots = _as_list(tensors)
    seeds = [None] * len(roots) if grad_tensors is None else _as_list(grad_tensors)
    if len(seeds) != len(roots):
        raise RuntimeError(f"backward(): got {len(seeds)} grad_tensors for {len(roots)} "
                           "tensors; give one per tensor (None for a single-element one)")
    if inputs is None and len(roots) == 1:
        engine.backward(roots[0], seeds[0], retain_graph, create_graph)
        return
    targets = None if inputs is None else _checked_inputs(_as_list(inputs))
    starts = [engine.root_gradient(r, g, create_graph, "backward()") for r, g in zip(roots, seeds)]
    keep = create_graph if retain_graph is None else retain_graph
    found = engine.run_backward(roots, starts, keep, create_graph, inputs=targets)
    for t, g in zip(targets or (), found or ()):
        if g is not None:
            engine._leaf_accumulate(t, g, create_graph)


def _checked_inputs(inputs: list) -> list:
    if not inputs:
        raise RuntimeError("backward(): `inputs` cannot be empty; leave it out to fill the "
                           ".grad of every leaf")
    for i, t in enumerate(inputs):
        if not isinstance(t, _function.Tensor) or not t.requires_grad:
            raise RuntimeError(
                f"backward(): inputs[{i}] does not require grad, so it cannot get a .grad; "
                "pass tensors created with requires_grad=True (or computed from them)"
            )
    return inputs


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:
    """Old PyTorch's ``Variable(t, requires_grad=...)``: today just a Tensor (sharing ``t``'s
    memory), as in PyTorch."""
    from ..creation import tensor

    t = data.detach() if isinstance(data, _function.Tensor) else tensor(data)
    return t.requires_grad_(requires_grad) if requires_grad else t
