"""``GradNormRecorder``: the gradient norm of each parameter (or layer), step by step.

Call it after ``backward()`` in a training loop; plot the result with
:func:`tinygrad_edu.viz.plot_grad_norms`. Vanishing gradients show as curves sinking toward
zero in the first layers, exploding ones as curves climbing; a parameter that receives no
gradient at all is recorded as ``nan`` (a gap in the plot), one that receives zeros as ``0``.

>>> import tinygrad_edu as tg
>>> w = tg.tensor([3.0, 4.0], requires_grad=True)
>>> rec = GradNormRecorder()
>>> (w * w).sum().backward()
>>> rec.record({"w": w})
>>> rec.norms
{'w': [10.0]}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np


class GradNormRecorder:
    """Record ``‖grad‖₂`` per parameter, or per module with ``per="module"``.

    ``record(named_parameters)`` takes ``model.named_parameters()``, a dict name→Tensor or
    ``(name, tensor)`` pairs. With ``per="module"`` the parameters ``layers.0.weight`` and
    ``layers.0.bias`` are combined into one norm for ``layers.0``. ``norms`` is a dict
    name → list of floats, one entry per ``record`` call (``nan`` when no gradient).
    """

    def __init__(self, per: str = "parameter") -> None:
        if per not in ("parameter", "module"):
            raise ValueError(f"per must be 'parameter' or 'module', got {per!r}")
        self.per = per
        self.norms: dict[str, list[float]] = {}
        self.steps = 0

    def record(self, named_parameters: Any) -> None:
        """Append the current gradient norms (call after ``backward()``, before ``zero_grad``)."""
        items: Iterable = (
            named_parameters.items() if isinstance(named_parameters, Mapping)
            else named_parameters
        )
        squares: dict[str, float] = {}
        for name, p in items:
            group = name.rsplit(".", 1)[0] if self.per == "module" and "." in name else name
            g = p.grad
            sq = math.nan if g is None else float(np.sum(np.square(g.data, dtype=np.float64)))
            prev = squares.get(group)
            squares[group] = sq if prev is None else (
                sq if math.isnan(prev) else prev if math.isnan(sq) else prev + sq
            )
        for name, sq in squares.items():
            history = self.norms.setdefault(name, [math.nan] * self.steps)
            history.append(math.sqrt(sq))
        self.steps += 1
        for history in self.norms.values():
            if len(history) < self.steps:
                history.append(math.nan)

    __call__ = record

    def __repr__(self) -> str:
        return f"GradNormRecorder({len(self.norms)} series, {self.steps} steps)"
