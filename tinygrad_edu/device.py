"""Devices, PyTorch style: tinygrad_edu computes on the CPU (with numpy), so ``"cpu"`` is the one
device. PyTorch code that names a device runs unchanged when the device is the CPU — the
usual ``device = "cuda" if torch.cuda.is_available() else "cpu"`` picks it — and any other
device is refused with a clear error instead of being ignored.

>>> import tinygrad_edu as tg
>>> dev = tg.device("cuda" if tg.cuda.is_available() else "cpu")
>>> tg.zeros(2, device=dev).device
device(type='cpu')
>>> tg.ones(1).to("cuda")  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
RuntimeError: tinygrad_edu computes on the CPU only (with numpy), and 'cuda' was asked for; ...
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

__all__ = ["accelerator", "backends", "cuda", "device", "get_default_device",
           "set_default_device"]


class device:
    """``torch.device``: only ``"cpu"`` (or ``"cpu:0"``) is accepted."""

    __slots__ = ("index", "type")

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        name, _, number = str(type).partition(":")
        if name != "cpu":
            raise RuntimeError(
                f"tinygrad_edu computes on the CPU only (with numpy), and {str(type)!r} was "
                "asked for; use the device 'cpu' (e.g. device = 'cuda' if "
                "tg.cuda.is_available() else 'cpu')"
            )
        self.type = "cpu"
        self.index = int(number) if number else index

    def __repr__(self) -> str:
        return f"device(type='cpu'{'' if self.index is None else f', index={self.index}'})"

    def __str__(self) -> str:
        return "cpu" if self.index is None else f"cpu:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other) if other.partition(":")[0] == "cpu" else None
        return isinstance(other, device) and other.type == self.type

    def __hash__(self) -> int:
        return hash(self.type)


CPU = device("cpu")


def check_device(dev: Any) -> None:
    """Accept ``None`` or the CPU (as a string or :class:`device`); refuse anything else."""
    if dev is not None:
        device(dev)


def set_default_device(dev: Any) -> None:
    """``torch.set_default_device``: only the CPU can be the default."""
    check_device(dev)


def get_default_device() -> device:
    return CPU


cuda = SimpleNamespace(
    is_available=lambda: False,
    device_count=lambda: 0,
    is_initialized=lambda: False,
    manual_seed=lambda seed: None,
    manual_seed_all=lambda seed: None,
)
"""``torch.cuda``: no GPU here (``is_available()`` is False; seeding is a no-op)."""

backends = SimpleNamespace(mps=SimpleNamespace(is_available=lambda: False,
                                               is_built=lambda: False),
                           cudnn=SimpleNamespace(is_available=lambda: False))

accelerator = SimpleNamespace(is_available=lambda: False, current_accelerator=lambda: None)
