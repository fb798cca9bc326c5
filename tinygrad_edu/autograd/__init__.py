"""Autograd: the Function mechanism, the backward engine and the grad-mode switches.

``tinygrad_edu.autograd`` is ``torch.autograd``'s namespace: ``Function`` here is PyTorch's
custom Function (forward and backward on Tensors, see :mod:`.custom`), while
``tinygrad_edu.Function`` is the library's own kind (forward on numpy arrays).
"""

from . import functional, graph
from .api import Variable, backward
from .custom import Function, FunctionCtx, once_differentiable
from .engine import grad, unbroadcast
from .function import Context
from .grad_mode import (
    AnomalyError,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from .jit import CompiledStep, compile_step

__all__ = [
    "AnomalyError",
    "CompiledStep",
    "Context",
    "Function",
    "FunctionCtx",
    "Variable",
    "backward",
    "compile_step",
    "detect_anomaly",
    "enable_grad",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "graph",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "once_differentiable",
    "set_detect_anomaly",
    "set_grad_enabled",
    "unbroadcast",
]


def __getattr__(name: str) -> object:
    """``gradcheck`` and ``gradgradcheck`` (from :mod:`tinygrad_edu.gradcheck`), imported on
    first use: that package needs Tensor, which needs this one."""
    if name in ("gradcheck", "gradgradcheck"):
        from ..gradcheck import check

        return getattr(check, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
