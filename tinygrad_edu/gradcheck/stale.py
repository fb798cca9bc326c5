"""Stale weights: a backprop that reads weights already updated in this training step.

Seed 000 updates the output weights first, ``w13 -= lr * grad13``, and then computes the
hidden errors with the *new* ``w13``. Its hidden "gradients" are then the gradient of the
loss with the backward pass reading ``w13 - lr * grad13`` where the forward pass read
``w13``. This module reproduces that: the loss is recorded on Tensors once per parameter
``p``, then the *data* of the other parameters ``q`` is overwritten by ``q - lr * hand_q``
(your own gradients) before backward, so backward reads updated weights where forward used
the old ones: call that gradient ``g_p(lr)``.

The learning rate is usually unknown to the checker (the README's call has no ``lr=``), so it
is *inferred*: ``hand_p = k * g_p(lr)`` for every wrong parameter at once, with ``k`` a
common factor the learner may also have (1, -1, 1/2, -1/2, 2, the batch size ...) and ``lr``
fitted (Gauss-Newton on ``lr``, starting from the slope of ``g`` at ``lr = 0``). The fit is
accepted when it leaves a residual at least ten times smaller than the best constant factor
alone, with ``lr > 0``, and when the data over-determine ``lr`` (two entries that are not
multiples of each other): one number always fits one equation.

>>> import numpy as np
>>> def loss(p, x, y):
...     return 0.5 * (np.tanh(x * p["a"]) * p["b"] - y) ** 2
>>> def grads(p, x, y, lr=0.3):                       # updates b before using it
...     h = np.tanh(x * p["a"]); d = h * p["b"] - y
...     gb = d * h
...     b = p["b"] - lr * gb                           # the stale read
...     return {"a": d * b * (1 - h * h) * x, "b": gb}
>>> from tinygrad_edu.gradcheck import check_backprop
>>> x, y = np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.2, -0.3])
>>> p = {"a": np.array([0.7, -0.2, 0.4]), "b": np.array([1.5, 0.5, -1.0])}
>>> report = check_backprop(lambda p, x, y: np.sum(loss(p, x, y)), grads, p, x, y)
>>> top = report.diagnosis
>>> top.kind, round(top.detail["lr"], 6)
('stale_weights', 0.3)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..autograd.engine import grad as _grad
from ..numpy_mode import trace
from . import diagnose as dg


class _Probe:
    """The gradient of ``loss`` w.r.t. ``name`` with other parameters' data replaced
    (after the forward pass) by ``P[q] - lr * H[q]``."""

    def __init__(self, loss: Callable, P: Mapping[str, np.ndarray], H: Mapping[str, np.ndarray],
                 x: Any, y: Any, name: str) -> None:
        self.P, self.H, self.name = P, H, name
        self.L, self.T, _ = trace(loss, (dict(P), x, y))

    def grad(self, lr: float, updated: Sequence[str]) -> np.ndarray:
        try:
            for q in updated:
                self.T[q].data[...] = self.P[q] - lr * self.H[q]
            (g,) = _grad(self.L, [self.T[self.name]], retain_graph=True, allow_unused=True)
        finally:
            for q in updated:
                self.T[q].data[...] = self.P[q]
        shape = self.P[self.name].shape
        return np.zeros(shape) if g is None else np.asarray(g.data, np.float64).reshape(shape)


def _candidate_factors(batch_size: int | None) -> list[float]:
    ks = [1.0, *sorted(set(dg.named_factors(batch_size).values()))]
    return ks + [-k for k in ks]


def _overdetermined(r: np.ndarray, d: np.ndarray) -> bool:
    """Two entries where ``d != 0`` whose ``(r, d)`` pairs are not parallel."""
    keep = np.abs(d) > 1e-9 * np.max(np.abs(d), initial=0.0)
    r, d = r[keep], d[keep]
    if len(d) < 2:
        return False
    scale = np.hypot(r, d)
    r, d = r / scale, d / scale
    i = int(np.argmax(np.abs(d)))
    return bool(np.max(np.abs(r[i] * d - d[i] * r)) > 1e-6)


def stale_weights(loss: Callable, P: Mapping[str, np.ndarray], H: Mapping[str, np.ndarray],
                  R: Mapping[str, np.ndarray], x: Any, y: Any, wrong: Sequence[str],
                  lr: float | None = None, batch_size: int | None = None) -> dg.Hypothesis | None:
    """The stale-weights hypothesis for the ``wrong`` parameters, or None.

    ``H`` are the hand-written gradients, ``R`` autograd's; ``lr`` is tried first when
    given, and inferred when not given or when it does not fit.
    """
    if lr is not None:
        found = _stale_weights(loss, P, H, R, x, y, wrong, lr, batch_size)
        if found is not None:
            return found
    return _stale_weights(loss, P, H, R, x, y, wrong, None, batch_size)


def _stale_weights(loss: Callable, P: Mapping[str, np.ndarray], H: Mapping[str, np.ndarray],
                   R: Mapping[str, np.ndarray], x: Any, y: Any, wrong: Sequence[str],
                   lr: float | None, batch_size: int | None) -> dg.Hypothesis | None:
    usable = [n for n in P if n in H and np.shape(H[n]) == np.shape(P[n])]
    wrong = [n for n in wrong if n in usable]
    if not wrong:
        return None
    try:
        probes = {p: _Probe(loss, P, H, x, y, p) for p in wrong}
    except Exception:
        return None
    others = {p: [q for q in usable if q != p] for p in wrong}

    def G(rate: float) -> np.ndarray:
        return np.concatenate([probes[p].grad(rate, others[p]).ravel() for p in wrong])

    h = np.concatenate([np.ravel(H[p]) for p in wrong])
    r = np.concatenate([np.ravel(R[p]) for p in wrong])
    try:
        delta = 1e-3 if lr is None else lr
        slope = (G(delta) - r) / delta
    except Exception:
        return None
    if not np.any(slope) or not _overdetermined(r, slope):
        return None
    plain = dg.fit_factor(h, r)
    baseline = dg.residual(h, r) if plain is None else plain[1]
    # the factor k and the rate: the affine model h/k = r + lr * slope first
    best = None
    for k in _candidate_factors(batch_size):
        target = h / k - r
        rate = lr if lr is not None else float(slope @ target) / float(slope @ slope)
        if rate <= 0:
            continue
        res = dg.residual(h, k * (r + rate * slope))
        if best is None or res < best[0]:
            best = (res, k, rate)
    if best is None:
        return None
    _, k, rate = best
    try:
        g = G(rate)
        if lr is None:  # Gauss-Newton on the rate (g is not affine when a path reads 2 weights)
            for _ in range(6):
                step = rate * 1e-4
                s = (G(rate + step) - g) / step
                if not np.any(s):
                    break
                change = float(s @ (h / k - g)) / float(s @ s)
                rate, g = rate + change, G(rate + change)
                if abs(change) <= 1e-12 * abs(rate):
                    break
    except Exception:
        return None
    res = dg.residual(h, k * g)
    conf = dg.confidence_of(res)
    if not conf or rate <= 0 or res * 10 > baseline:
        return None
    # which parameters read which updated weights
    stale: dict[tuple[str, ...], list[str]] = {}
    for p in wrong:
        base = np.ravel(R[p])
        reads = tuple(q for q in others[p]
                      if dg.residual(probes[p].grad(rate, [q]), base) > 1e-9)
        if reads:
            stale.setdefault(reads, []).append(p)
    if not stale:
        return None
    how = f"lr = {rate:g}" if lr is not None else f"lr = {rate:.4g}, inferred from your gradients"
    which = "; ".join(f"{', '.join(ps)} computed with {', '.join(qs)} already updated"
                      for qs, ps in stale.items())
    text = (f"stale weights: the backprop reads weights already updated in this step "
            f"(w - lr*grad, {how}): {which}")
    if abs(k - 1) > 1e-12:
        factor_text = dg.describe_factor(k, batch_size).text
        text += f"; besides, on every parameter: {factor_text}"
    if res > dg.MATCH:
        text += f"; what is left, {res:.1e} relative, looks like rounding or low precision"
    return dg.Hypothesis(dg.STALE_WEIGHTS, text, conf, res, tuple(wrong), k,
                         detail={"lr": rate, "inferred": lr is None,
                                 "reads": {p: list(qs) for qs, ps in stale.items() for p in ps}})
