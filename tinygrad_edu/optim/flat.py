"""Flat buffers for the foreach updates: a parameter group's gradients and optimizer state
laid out end to end in one array each, so that an update costs a dozen numpy calls per group
instead of a dozen per parameter.

The state keeps PyTorch's layout: ``optimizer.state[p]["exp_avg"]`` is still one array of
``p``'s shape, which is a view into the group's flat buffer. Anything that breaks that link
is noticed at the next step and repaired by copying the values into a fresh flat buffer
(``load_state_dict``, assigning a new array to a state entry, a parameter that gets its
first gradient); a group whose parameters are in different conditions (some with state,
some without; different step counts; gradients of another dtype) takes the per-parameter
update instead. Both compute the same elementwise operations in the same order on the same
dtypes, so their results are bit-identical.

Parameters themselves stay where they are (their ``.data`` is never replaced): the update is
computed flat and added to each parameter in place, one call per parameter.

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> from tinygrad_edu import optim
>>> a, b = tg.ones(2, 2, requires_grad=True), tg.ones(3, requires_grad=True)
>>> opt = optim.Adam([a, b], lr=0.1)
>>> (a.sum() + b.sum()).backward()
>>> opt.step()
>>> m_a, m_b = opt.state[a]["exp_avg"], opt.state[b]["exp_avg"]
>>> m_a.shape, m_b.shape, np.shares_memory(m_a, m_b)  # two views of one buffer
((2, 2), (3,), False)
>>> m_a.base is m_b.base
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class FlatGroup:
    """The parameters of one step (those with a gradient), laid out end to end.

    ``grad`` is the flat gradient (gathered by :meth:`gather_grads`), ``buffers[key]`` the
    flat state array whose per-parameter views are ``views[key]``; ``scatter_add`` adds a
    flat update to the parameters.
    """

    def __init__(self, params: Sequence[Any], dtype: np.dtype) -> None:
        self.params = list(params)
        self.dtype = dtype
        self.shapes = [p.data.shape for p in self.params]
        sizes = [int(np.prod(s)) for s in self.shapes]
        self.offsets = np.cumsum([0, *sizes]).tolist()
        self.size = self.offsets[-1]
        self.grad = np.empty(self.size, dtype)
        self._data: np.ndarray | None = None  # gathered parameters (weight decay)
        self.update = np.empty(self.size, dtype)  # the step's update; also a scratch array
        self.update_views = self.views_of(self.update)
        self.scratch = np.empty(self.size, dtype)
        self.states: list[dict] = []  # the parameters' state dicts, for the current step
        self.buffers: dict[str, np.ndarray] = {}
        self.views: dict[str, list[np.ndarray]] = {}

    def views_of(self, flat: np.ndarray) -> list[np.ndarray]:
        """One view of ``flat`` per parameter, in the parameter's shape."""
        o = self.offsets
        return [flat[o[i]:o[i + 1]].reshape(s) for i, s in enumerate(self.shapes)]

    def new_buffer(self, key: str) -> np.ndarray:
        """A new flat state array ``key`` of zeros, with its per-parameter views (arrays
        that still refer to an earlier one are left alone)."""
        flat = self.buffers[key] = np.zeros(self.size, self.dtype)
        self.views[key] = self.views_of(flat)
        return flat

    def gather_grads(self) -> np.ndarray:
        np.concatenate([p.grad.data for p in self.params], axis=None, out=self.grad)
        return self.grad

    def gather_data(self) -> np.ndarray:
        if self._data is None:
            self._data = np.empty(self.size, self.dtype)
        np.concatenate([p.data for p in self.params], axis=None, out=self._data)
        return self._data

    def scatter_add(self, update: np.ndarray) -> None:
        """``p.data += update[p's part]`` for every parameter (``update`` is ``self.update``
        or another array laid out like it), and bump each parameter's version."""
        views = self.update_views if update is self.update else self.views_of(update)
        for p, u in zip(self.params, views):
            p.data += u
            p._bump_version()

    def scale_data(self, factor: float) -> None:
        """``p.data *= factor`` for every parameter (decoupled weight decay)."""
        for p in self.params:
            p.data *= factor


def flat_group(opt: Any, group: dict, keys: Sequence[str], *,
               counts_steps: bool) -> tuple[FlatGroup, bool] | None:
    """The flat layout for this step of ``group``, with its state arrays ``keys`` as views of
    flat buffers; None when the per-parameter update must run instead (``opt.foreach`` is
    False, the group has no gradient, mixed dtypes, or parameters in different states).

    Returns ``(flat, fresh)``: ``fresh`` means no parameter had state yet; then every
    ``opt.state[p]`` has been created (``{"step": 0}`` when ``counts_steps``, plus the views;
    nothing when there is neither) and the buffers hold zeros. Otherwise the buffers hold the
    parameters' state. ``flat.states`` lists the parameters' state dicts.
    """
    if opt.foreach is False:
        return None
    params = [p for p in group["params"] if p.grad is not None]
    if not params:
        return None
    dtype = params[0].data.dtype
    for p in params:
        if p.data.dtype != dtype or p.grad.data.dtype != dtype:
            return None
    key = tuple((id(p), p.data.shape) for p in params)
    cache = opt._flat_groups
    flat = cache.get(key)
    if flat is None or flat.dtype != dtype:
        if len(cache) >= 16:
            cache.clear()
        flat = cache[key] = FlatGroup(params, dtype)
    state = opt.state
    states = [state.get(p) for p in params]
    if all(st is None for st in states):
        for k in keys:
            flat.new_buffer(k)
        if keys or counts_steps:
            for i, p in enumerate(params):
                st = states[i] = state[p] = {"step": 0} if counts_steps else {}
                for k in keys:
                    st[k] = flat.views[k][i]
        flat.states = states
        return flat, True
    if any(st is None for st in states):
        return None
    if counts_steps and len({st.get("step") for st in states}) != 1:
        return None
    for k in keys:
        views = flat.views.get(k)
        if views is not None and all(st.get(k) is v for st, v in zip(states, views)):
            continue
        # adopt: copy each parameter's array into a new flat buffer; the state keeps views
        arrays = [st.get(k) for st in states]
        if any(type(a) is not np.ndarray or a.shape != s or a.dtype != dtype
               for a, s in zip(arrays, flat.shapes)):
            return None
        np.concatenate(arrays, axis=None, out=flat.new_buffer(k))
        for st, v in zip(states, flat.views[k]):
            st[k] = v
    flat.states = states
    return flat, False
