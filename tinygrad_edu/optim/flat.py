"""Flat buffers for the foreach updates: a parameter group's gradients and optimizer state
laid out end to end in one array each, so that an update costs a dozen numpy calls per group
instead of a dozen per parameter.

The state keeps PyTorch's layout: ``optimizer.state[p]["exp_avg"]`` is still one array of
``p``'s shape, which is a view into the group's flat buffer. Anything that breaks that link
is noticed at the next step and repaired by copying the values into a fresh flat buffer
(``load_state_dict``, assigning a new array to a state entry, a change in which parameters
have gradients); a group whose parameters are in different conditions (some with state,
some without; different step counts; gradients of another dtype) takes the per-parameter
update instead. Both compute the same elementwise operations in the same order on the same
dtypes, so their results are bit-identical.

Parameters themselves stay where they are (their ``.data`` is never replaced, so arrays a
user holds, e.g. from ``p.numpy()``, keep seeing the updates): the update is computed flat
and added to each parameter in place, one call per parameter. That gather and scatter make
the flat update pay only for updates of several numpy calls on small parameters, which is
where the default (``foreach=None``) uses it; see ``FIXED_CALLS`` and ``MAX_MEAN_SIZE``.

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> from tinygrad_edu import optim
>>> a, b = tg.ones(2, 2, requires_grad=True), tg.ones(3, requires_grad=True)
>>> opt = optim.Adam([a, b], lr=0.1, foreach=True)  # flat whenever the group allows it
>>> (a.sum() + b.sum()).backward()
>>> opt.step()
>>> m_a, m_b = opt.state[a]["exp_avg"], opt.state[b]["exp_avg"]
>>> m_a.shape, m_b.shape, np.shares_memory(m_a, m_b)
((2, 2), (3,), False)
>>> m_a.base is m_b.base is not None  # two views of one buffer
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd.versions import bump_many

# When the flat update pays (measured on float32 groups of six parameters, one thread): it
# copies the gradients into one array and adds the update back parameter by parameter, about
# two numpy calls per parameter plus FIXED_CALLS' worth of Python per group, to do the
# update's own calls once per group instead of once per parameter. Adam or RMSprop (about
# ten calls per parameter) take half the time flat on small parameters; plain SGD (two
# calls) would take 1.2x as long, so it keeps the loop. Above MAX_MEAN_SIZE elements per
# parameter the extra pass over memory costs more than the calls saved (Adam flat: 0.82x at
# 4096, 1.0x at 16384; SGD with momentum 1.2x at 4096).
FIXED_CALLS = 6
MAX_MEAN_SIZE = 4096


class FlatGroup:
    """The parameters of one step (those with a gradient), laid out end to end.

    ``grad`` is the flat gradient (gathered by :func:`flat_group`), ``buffers[key]`` the
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
        # pays(calls) is calls * n > calls + 2n + FIXED_CALLS (and not too large), i.e. for
        # integer calls: calls > (2n + FIXED_CALLS) // (n - 1); worked out once, as it is
        # asked every step
        n = len(self.params)
        self._pays_above = ((2 * n + FIXED_CALLS) // (n - 1)
                            if n > 1 and self.size <= MAX_MEAN_SIZE * n else math.inf)
        self.states: list[dict] = []  # the parameters' state dicts, for the current step
        self.buffers: dict[str, np.ndarray] = {}
        self.views: dict[str, list[np.ndarray]] = {}
        self.grad: np.ndarray | None = None  # allocated by the first flat update
        self._data: np.ndarray | None = None  # gathered parameters (weight decay)

    def pays(self, calls: int) -> bool:
        """Whether updating these parameters flat is faster than one by one, for an update
        of ``calls`` numpy calls per parameter (see ``FIXED_CALLS``)."""
        return calls > self._pays_above

    def allocate(self) -> None:
        """The work arrays: the gradient, the update (also a scratch array) and a scratch."""
        if self.grad is None:
            self.grad = np.empty(self.size, self.dtype)
            self.update = np.empty(self.size, self.dtype)
            self.update_views = self.views_of(self.update)
            self.scratch = np.empty(self.size, self.dtype)

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

    def gather_data(self) -> np.ndarray:
        if self._data is None:
            self._data = np.empty(self.size, self.dtype)
        np.concatenate([p.data for p in self.params], axis=None, out=self._data)
        return self._data

    def scatter_add(self, update: np.ndarray) -> None:
        """``p.data += update[p's part]`` for every parameter (``update`` is ``self.update``
        or another array laid out like it), and bump each parameter's version."""
        views = self.update_views if update is self.update else self.views_of(update)
        changed = []
        try:
            for p, u in zip(self.params, views):
                data = p._data
                changed.append(data)
                data += u
        finally:
            bump_many(changed)

    def scale_data(self, factor: float) -> None:
        """``p.data *= factor`` for every parameter (decoupled weight decay)."""
        for p in self.params:
            p.data *= factor


def _same_layout(flat: FlatGroup, params: list) -> list | None:
    """The gradient arrays of the parameters with a gradient if ``flat`` lays out exactly
    those (same shapes, same dtype); else None. Runs every step: one cheap pass."""
    dtype, laid_out, shapes = flat.dtype, flat.params, flat.shapes
    n = len(laid_out)
    grads = []
    i = 0
    for p in params:
        g = p._grad
        if g is None:
            continue
        if i == n or p is not laid_out[i]:
            return None
        data = p._data
        if type(g) is not np.ndarray:  # see Tensor.grad
            g = g.data
        if data.shape != shapes[i] or data.dtype != dtype or g.dtype != dtype:
            return None
        grads.append(g)
        i += 1
    return grads if i == n else None


def _new_layout(params: list) -> FlatGroup | None:
    """A layout of the parameters that have a gradient, if they share one dtype."""
    params = [p for p in params if p.grad is not None]
    if not params:
        return None
    dtype = params[0].data.dtype
    for p in params:
        if p.data.dtype != dtype or p.grad.data.dtype != dtype:
            return None
    return FlatGroup(params, dtype)


def flat_group(opt: Any, group: dict, keys: Sequence[str], *, counts_steps: bool,
               calls: int) -> tuple[FlatGroup, bool] | None:
    """The flat layout for this step of ``group`` with its gradients gathered and its state
    arrays ``keys`` as views of flat buffers; None when the per-parameter update must run
    instead: ``opt.foreach`` is False, the group has no gradient, mixed dtypes, parameters in
    different states, or (unless ``opt.foreach`` is True) the flat update would not pay:
    ``calls``, the numpy calls of the per-parameter update, too few for the group's number
    of parameters, or parameters too large (see ``FIXED_CALLS`` and ``MAX_MEAN_SIZE``).

    Returns ``(flat, fresh)``: ``fresh`` means no parameter had state yet; then every
    ``opt.state[p]`` has been created (``{"step": 0}`` when ``counts_steps``, plus the views;
    nothing when there is neither) and the buffers hold zeros. Otherwise the buffers hold the
    parameters' state. ``flat.states`` lists the parameters' state dicts, ``flat.grad`` the
    gradients.
    """
    if opt.foreach is False:
        return None
    params = group["params"]
    cache = opt._flat_groups
    flat = cache.get(id(group))
    if flat is not None and opt.foreach is None and not flat.pays(calls):
        return None  # decided on the group's layout (a heuristic: results are the same)
    grads = None if flat is None else _same_layout(flat, params)
    if grads is None:
        flat = _new_layout(params)
        if flat is None:
            return None
        if len(cache) >= 64:
            cache.clear()
        cache[id(group)] = flat
        if opt.foreach is None and not flat.pays(calls):
            return None
        grads = [p.grad.data for p in flat.params]
    flat.allocate()
    state = opt.state
    states = [state.get(p) for p in flat.params]
    fresh = False
    if states.count(None) == len(states):  # (state dicts are never == None)
        fresh = True
        for k in keys:
            flat.new_buffer(k)
        if keys or counts_steps:
            for i, p in enumerate(flat.params):
                st = states[i] = state[p] = {"step": 0} if counts_steps else {}
                for k in keys:
                    st[k] = flat.views[k][i]
    elif not _adopt(flat, states, keys, counts_steps):
        return None
    flat.states = states
    np.concatenate(grads, axis=None, out=flat.grad)
    return flat, fresh


def _adopt(flat: FlatGroup, states: list, keys: Sequence[str], counts_steps: bool) -> bool:
    """Make every state array ``keys`` a view of the flat buffers (copying those that are
    not); False if the states differ (one missing, other step counts, shapes or dtypes)."""
    if None in states:
        return False
    if counts_steps:
        step = states[0].get("step")
        for st in states:
            if st.get("step") != step:
                return False
    for k in keys:
        views = flat.views.get(k)
        if views is not None:
            for st, v in zip(states, views):
                if st.get(k) is not v:
                    break
            else:
                continue
        arrays = [st.get(k) for st in states]
        if any(type(a) is not np.ndarray or a.shape != s or a.dtype != flat.dtype
               for a, s in zip(arrays, flat.shapes)):
            return False
        np.concatenate(arrays, axis=None, out=flat.new_buffer(k))
        for st, v in zip(states, flat.views[k]):
            st[k] = v
    return True
