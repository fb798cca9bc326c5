"""Autograd: the Function mechanism, the backward engine and the grad-mode switches."""

from .engine import grad, unbroadcast
from .function import Context, Function
from .grad_mode import (
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
    "CompiledStep",
    "Context",
    "Function",
    "compile_step",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "set_detect_anomaly",
    "set_grad_enabled",
    "unbroadcast",
]
