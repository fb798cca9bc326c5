"""The cheap observers behind the training diagnostics: the loss trend (divergence), ReLU
layers (dead units) and the first tanh/sigmoid layer (saturation). Each keeps a few numbers
per batch or per sampled batch; :class:`~tinygrad_edu.train.diagnostics.Diagnostics` reads
them and words the warnings.

>>> trend = LossTrend(factor=1e3, checks=3, steps=1)
>>> [trend.update(v, 0, s) for s, v in enumerate([0.2, 0.1, 1e3, 1e6, 1e7, 1e7])]
[False, False, False, False, True, True]
>>> round(trend.best, 3), trend.best_at
(0.1, (0, 1))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor


class LossTrend:
    """Divergence: the batch losses, smoothed in log space (an exponential moving average of
    ``log10(loss)`` over about ``min(steps, 10)`` batches), rose more than ``factor`` above
    their best *and* above where training started, for ``checks`` batches in a row.

    Orders of magnitude, not a percentage: noise, Adam's spikes near a minimum and a high but
    stable learning rate stay far below; only a run-away loss (Adam at lr=1e6 goes from 0.17
    to 1e13 in one step) gets there. The start guard keeps a spike after a near-perfect fit
    (best 1e-9) from counting. Losses that can be negative switch the check off.
    """

    __slots__ = ("alpha", "best_at", "checks", "decades", "first", "log_best", "off", "run",
                 "smooth")

    def __init__(self, factor: float, checks: int, steps: int) -> None:
        self.decades = math.log10(factor)
        self.checks = max(int(checks), 1)
        self.alpha = 1.0 / min(10, max(int(steps), 1))
        self.first: float | None = None     # log10 of the first batch's loss
        self.smooth: float | None = None
        self.log_best = math.inf            # the best smoothed value
        self.best_at: tuple[int, int] = (0, 0)
        self.run = 0                        # batches in a row above the limit
        self.off = False

    def update(self, loss: float, epoch: int, step: int) -> bool:
        """Record one batch's (finite) loss; True when training has diverged."""
        if self.off:
            return False
        if loss <= 0:
            if loss < 0:
                self.off = True
                return False
            if self.first is None:
                return False
            v = self.first - 12.0              # an exact 0: far below, but finite
        else:
            v = math.log10(loss)
        if self.first is None:
            self.first = self.smooth = v
        else:
            self.smooth += self.alpha * (v - self.smooth)
        if self.smooth < self.log_best:
            self.log_best, self.best_at = self.smooth, (epoch, step)
        if self.smooth > self.log_best + self.decades and self.smooth > self.first:
            self.run += 1
        else:
            self.run = 0
        return self.run >= self.checks

    @property
    def rising(self) -> bool:
        """Above the limit at the last batch (not yet for ``checks`` batches)."""
        return self.run > 0

    @property
    def best(self) -> float:
        return 10.0 ** self.log_best

    @property
    def current(self) -> float:
        return 10.0 ** self.smooth if self.smooth is not None else math.nan

    @property
    def start(self) -> float:
        return 10.0 ** self.first if self.first is not None else math.nan


class ReluWatch:
    """A forward hook: which units of a ReLU layer were positive at least once this epoch.
    Once every unit has fired it does nothing for the rest of the epoch."""

    __slots__ = ("alive", "done", "name", "recording")

    def __init__(self, name: str) -> None:
        self.name = name
        self.recording = True
        self.reset()

    def reset(self) -> None:
        self.alive: np.ndarray | None = None
        self.done = False

    def __call__(self, module: Any, inputs: Any, output: Any) -> None:
        if self.done or not self.recording:
            return
        out = output.data if isinstance(output, Tensor) else None
        if out is None or out.ndim < 2:
            return
        axes = (0,) if out.ndim == 2 else (0, *range(2, out.ndim))  # units: features/channels
        fired = (out > 0).any(axis=axes)
        if self.alive is None or self.alive.shape != fired.shape:
            self.alive = fired
        else:
            self.alive |= fired
        self.done = bool(self.alive.all())

    def dead(self) -> tuple[float, int]:
        if self.alive is None:
            return 0.0, 0
        return 1.0 - float(self.alive.mean()), int(self.alive.size)


# |pre-activation| beyond which a unit counts as saturated: its slope there is 1% (tanh) or
# 18% (sigmoid) of its slope at 0, and over a batch it acts as an on/off switch
SATURATION = {"Tanh": 3.0, "Sigmoid": 3.0}


def first_squash(model: Any) -> tuple[str, str, bool] | None:
    """The first tanh/sigmoid module of ``model`` (in registration order) when it acts on the
    raw inputs or right after the first layer with weights: ``(name, kind, on_inputs)``;
    ``None`` when there is none or layers with weights come before it.

    >>> from tinygrad_edu import nn
    >>> first_squash(nn.Sequential(nn.Linear(1, 6), nn.Tanh(), nn.Linear(6, 1)))
    ('1', 'Tanh', False)
    >>> first_squash(nn.Sequential(nn.Tanh(), nn.Linear(1, 6), nn.Sigmoid()))
    ('0', 'Tanh', True)
    """
    named = getattr(model, "named_modules", None)
    if named is None:
        return None
    weighted = 0
    for name, mod in named():
        kind = type(mod).__name__
        if kind in SATURATION and weighted <= 1:
            return name or kind, kind, weighted == 0
        own = getattr(mod, "_parameters", {})
        if any(p is not None for p in own.values()):
            weighted += 1
            if weighted > 1:
                return None
    return None


class SaturationWatch:
    """A forward hook on the first layer's tanh/sigmoid: the share of its inputs (the
    pre-activations) beyond :data:`SATURATION`, per unit, over the batches it records."""

    __slots__ = ("beyond", "kind", "limit", "name", "recording", "samples")

    def __init__(self, name: str, kind: str) -> None:
        self.name, self.kind = name, kind
        self.limit = SATURATION[kind]
        self.recording = False
        self.reset()

    def reset(self) -> None:
        self.beyond: np.ndarray | None = None
        self.samples = 0

    def __call__(self, module: Any, inputs: Any, output: Any) -> None:
        if not self.recording:
            return
        z = inputs[0] if isinstance(inputs, tuple) and inputs else inputs
        z = z.data if isinstance(z, Tensor) else None
        if z is None or z.ndim < 2 or z.dtype.kind != "f":
            return
        flat = z.reshape(len(z), -1)
        counts = (np.abs(flat) > self.limit).sum(axis=0)
        if self.beyond is None or self.beyond.shape != counts.shape:
            self.beyond, self.samples = counts, 0
        else:
            self.beyond = self.beyond + counts
        self.samples += len(z)

    def shares(self) -> tuple[float, int, int]:
        """``(share of all pre-activations beyond the limit, units saturated for most
        samples, units)``."""
        if self.beyond is None or not self.samples:
            return 0.0, 0, 0
        per_unit = self.beyond / self.samples
        return float(per_unit.mean()), int((per_unit > 0.5).sum()), int(per_unit.size)
