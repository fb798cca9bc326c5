"""Copies of a model's weights, to restore later (EarlyStopping's ``restore_best_weights``).

Works with any ``Module`` (through ``state_dict``/``load_state_dict``) and, for plain objects,
with whatever ``parameters()`` returns.

>>> import tinygrad_edu as tg
>>> from tinygrad_edu import nn
>>> net = nn.Linear(2, 1)
>>> saved = snapshot(net)
>>> with tg.no_grad():
...     _ = net.weight.fill_(7.0)
>>> restore(net, saved)
>>> bool((net.weight.data == saved["weight"]).all())
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor


def _array(v: Any) -> np.ndarray:
    return v.data if isinstance(v, Tensor) else np.asarray(v)


def snapshot(model: Any) -> dict[str, np.ndarray]:
    """A deep copy of the model's state (name -> array)."""
    if hasattr(model, "state_dict"):
        return {k: np.array(_array(v), copy=True) for k, v in model.state_dict().items()}
    return {str(i): np.array(p.data, copy=True) for i, p in enumerate(model.parameters())}


def restore(model: Any, state: dict[str, np.ndarray]) -> None:
    """Put a ``snapshot`` back (copies, so the snapshot can be restored again)."""
    if hasattr(model, "load_state_dict"):
        model.load_state_dict({k: Tensor._wrap(np.array(v, copy=True)) for k, v in state.items()})
        return
    for i, p in enumerate(model.parameters()):
        p.data[...] = state[str(i)]
        p._bump_version("restore")
