"""``torch.autograd.graph``'s saved-tensor hooks: ``save_on_cpu`` (a no-op here) and
``saved_tensors_hooks`` (refused, saying why)."""

from __future__ import annotations

from typing import Any


class saved_tensors_hooks:
    """PyTorch's pack/unpack hooks for saved tensors: not supported (refused with why)."""

    def __init__(self, pack_hook: Any, unpack_hook: Any) -> None:
        raise NotImplementedError(
            "torch.autograd.graph.saved_tensors_hooks is not supported by tinygrad_edu: ops keep "
            "what backward needs as numpy arrays on the node (see y.grad_fn.saved_tensors), and "
            "no hook can run when they are saved or read. To save memory, recompute instead "
            "(call the forward again under no_grad) or use a smaller batch."
        )


class save_on_cpu:
    """PyTorch's ``save_on_cpu``: a no-op here, where every tensor lives on the CPU."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        self.pin_memory = pin_memory

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
