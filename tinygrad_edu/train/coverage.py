"""Where the training data is thin: each input feature's training distribution, and a check
that a prediction's inputs lie inside it.

``fit`` records an :class:`InputDistribution` of the training inputs (tabular inputs of
shape ``(n, features)``, up to 64 features) on the model as ``model.training_distribution``;
``tinygrad_edu.train.predict`` and the Keras facade's ``model.predict`` check their inputs
against it and warn (``TrainingWarning``) when a query lies outside the training range or
in its sparse tail, where the net extrapolates (seed 002 trained on ``x ~ N(0, 1)`` and
asked for ``f(3)``: 0.13% of such samples lie beyond 3).

A query is in the sparse tail of a feature when fewer than ``1% / (2 * features)`` of the
training samples lie at or beyond it, so a query drawn from the training distribution
itself is flagged with probability at most 1%; a batch of queries warns when more than 5% of
its rows are flagged (a test set from the training distribution stays silent).

>>> import numpy as np
>>> dist = InputDistribution.of(np.random.default_rng(0).normal(size=(10000, 1)))
>>> print(dist.check(np.array([[0.5]])))
None
>>> print(dist.check(np.array([[3.0]])))                        # doctest: +ELLIPSIS
predict: x = 3 lies in the sparse tail of the training data: only 0.093% of the 10000 ...
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .errors import TrainingWarning, user_stacklevel

# probabilities of the stored quantiles: dense in the tails, where the check looks
_PROBS = np.array([0.0, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3,
                   0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995,
                   0.9998, 0.9999, 1.0])
MAX_FEATURES = 64
MAX_ROWS = 200_000
QUERY_RISK = 0.01     # chance that one query from the training distribution is flagged
BATCH_SHARE = 0.05    # a batch warns when more than this share of its rows is flagged


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _percent(f: float) -> str:
    return f"{100 * f:.2g}%"


class InputDistribution:
    """The training distribution of each input feature: ``quantiles`` (one row per
    probability in ``probs``, one column per feature, from the smallest to the largest
    training value) of ``n_samples`` training samples.

    >>> d = InputDistribution.of(np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]]))
    >>> d.minimum.tolist(), d.maximum.tolist(), d.n_samples
    ([0.0, 0.0], [3.0, 1.0], 4)
    >>> d.fraction_at_or_beyond(np.array([[3.0, 5.0]])).round(3).tolist()  # the max; beyond
    [[0.3, 0.0]]
    """

    probs = _PROBS

    def __init__(self, quantiles: np.ndarray, n_samples: int) -> None:
        self.quantiles = np.asarray(quantiles, dtype=np.float64)
        self.n_samples = int(n_samples)

    @classmethod
    def of(cls, x: Any) -> InputDistribution | None:
        """The distribution of training inputs ``x`` (``(n, features)``; at most
        ``MAX_ROWS`` evenly spaced rows are used), or ``None`` when ``x`` is not a table of
        at most ``MAX_FEATURES`` numeric features."""
        a = np.asarray(x)
        if a.ndim != 2 or a.shape[0] == 0 or not 0 < a.shape[1] <= MAX_FEATURES \
                or a.dtype.kind not in "biuf":
            return None
        if len(a) > MAX_ROWS:
            a = a[:: -(-len(a) // MAX_ROWS)]
        a = a.astype(np.float64, copy=False)
        if not np.isfinite(a).all():
            return None
        return cls(np.quantile(a, _PROBS, axis=0, method="inverted_cdf"), len(x))

    @property
    def features(self) -> int:
        return self.quantiles.shape[1]

    @property
    def minimum(self) -> np.ndarray:
        return self.quantiles[0]

    @property
    def maximum(self) -> np.ndarray:
        return self.quantiles[-1]

    def fraction_at_or_beyond(self, x: np.ndarray) -> np.ndarray:
        """For each entry of ``x`` (``(n, features)``), the fraction of training samples at
        or beyond it on its side (``min(P(X <= x), P(X >= x))``, interpolated between the
        stored quantiles); 0 outside the training range."""
        x = np.asarray(x, dtype=np.float64)
        out = np.empty(x.shape)
        p = self.probs
        last = len(p) - 1
        for j in range(x.shape[1]):
            q, v = self.quantiles[:, j], x[:, j]
            # a value equal to a stored quantile (ties: discrete data, the extremes) gets
            # the bound that makes its tail larger, so ties are never over-flagged
            hi = np.searchsorted(q, v, side="right") - 1           # last q <= v
            below = _interpolated(q, p, v, hi, last)               # P(X <= v)
            tie = (hi >= 0) & (hi < last) & (q[np.clip(hi, 0, last)] == v)
            below = np.where(tie, p[np.clip(hi + 1, 0, last)], below)
            lo = np.searchsorted(q, v, side="left")                # first q >= v
            under = _interpolated(q, p, v, lo - 1, last)           # P(X < v)
            tie = (lo > 0) & (lo <= last) & (q[np.clip(lo, 0, last)] == v)
            under = np.where(tie, p[np.clip(lo - 1, 0, last)], under)
            under = np.where(lo == 0, 0.0, np.where(lo > last, 1.0, under))
            out[:, j] = np.minimum(below, 1.0 - under)
        return out

    def check(self, x: Any, who: str = "predict") -> str | None:
        """The warning for queries ``x`` outside the training data or in its sparse tail,
        or ``None`` (also for inputs of another shape, which the model will reject)."""
        a = np.asarray(x)
        if a.ndim == 1 and self.features == 1:
            a = a.reshape(-1, 1)
        if a.ndim != 2 or a.shape[1] != self.features or len(a) == 0 \
                or a.dtype.kind not in "biuf":
            return None
        a = a.astype(np.float64, copy=False)
        frac = self.fraction_at_or_beyond(a)
        limit = QUERY_RISK / (2 * self.features)
        flagged = (frac < limit) & np.isfinite(a)
        rows = flagged.any(axis=1)
        count = int(rows.sum())
        if count == 0 or (len(a) > 1 and count <= BATCH_SHARE * len(a)):
            return None
        # the most extreme flagged entry of each feature, the most extreme feature first
        examples = []
        for j in np.argsort([frac[flagged[:, j], j].min() if flagged[:, j].any() else 2.0
                             for j in range(self.features)]):
            if not flagged[:, j].any():
                continue
            i = int(np.flatnonzero(flagged[:, j])[np.argmin(frac[flagged[:, j], j])])
            examples.append(self._describe(j, float(a[i, j]), float(frac[i, j])))
        head = (f"{who}: " if len(a) == 1 else
                f"{who}: {count} of {len(a)} queries ({_percent(count / len(a))}) lie outside "
                "the training data or in its sparse tail, e.g. ")
        return (head + "; ".join(examples[:3]) + ". The net extrapolates there: no training "
                "sample pins its output down, so the prediction is a guess unless the model's "
                "form carries over (a relu net continues in straight lines, a tanh net goes "
                "flat; seed 002 trained on x ~ N(0, 1) and asked for f(3)). Train on data that "
                "covers the queries.")

    def _describe(self, j: int, value: float, frac: float) -> str:
        name = "x" if self.features == 1 else f"x[:, {j}]"
        lo, hi = float(self.minimum[j]), float(self.maximum[j])
        if value < lo or value > hi:
            return (f"{name} = {_fmt(value)} lies outside the training data ({_fmt(lo)} <= "
                    f"{name} <= {_fmt(hi)} in all {self.n_samples} training samples)")
        count = max(round(frac * self.n_samples), 1)
        return (f"{name} = {_fmt(value)} lies in the sparse tail of the training data: only "
                f"{_percent(frac)} of the {self.n_samples} training samples lie at or beyond "
                f"it (about {count})")

    def warn(self, x: Any, who: str = "predict") -> None:
        """Issue the :meth:`check` message as a ``TrainingWarning``, if there is one."""
        message = self.check(x, who)
        if message is not None:
            warnings.warn(message, TrainingWarning, stacklevel=user_stacklevel())

    def __repr__(self) -> str:
        ranges = ", ".join(f"[{_fmt(lo)}, {_fmt(hi)}]"
                           for lo, hi in zip(self.minimum[:4], self.maximum[:4]))
        more = ", ..." if self.features > 4 else ""
        return (f"InputDistribution({self.n_samples} samples, {self.features} features in "
                f"{ranges}{more})")


def _interpolated(q: np.ndarray, p: np.ndarray, v: np.ndarray, i: np.ndarray,
                  last: int) -> np.ndarray:
    """``P(X <= v)`` from the quantiles, given ``i`` = the last index with ``q[i] <= v``
    (``-1``: below all)."""
    inside = (i >= 0) & (i < last)
    k = np.clip(i, 0, last - 1)
    span = q[k + 1] - q[k]
    t = np.where(span > 0, (v - q[k]) / np.where(span > 0, span, 1.0), 1.0)
    value = p[k] + (p[k + 1] - p[k]) * np.clip(t, 0.0, 1.0)
    return np.where(i < 0, 0.0, np.where(inside, value, 1.0))
