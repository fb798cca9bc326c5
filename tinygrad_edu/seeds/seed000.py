"""Seed 000: "why does my net not learn to multiply two numbers?"

The author hand-writes a 2-2-1 sigmoid net without biases in scalar Python and trains it on
ONE sample, ``(0.5, 0.5) -> 0.25``, with learning rate 0.5 for 100 epochs (the loop
``while e < epochs`` with ``e = 1`` runs 99 steps).  Start weights: ``w11=.45 w12=.28
w21=.36 w22=.75`` (input -> hidden; ``wij`` joins input ``i`` to hidden unit ``j``) and
``w13=.14 w23=.40`` (hidden unit ``i`` -> output).  Symptom: the squared error grows and the
output creeps towards 1.

The intended model is ``h1 = s(w11*x1 + w21*x2)``, ``h2 = s(w12*x1 + w22*x2)``,
``out = s(w13*h1 + w23*h2)`` with ``s`` the logistic sigmoid.  The thread never names a
loss; we take ``loss = mean(0.5 * (y - out)**2)`` (one sample: ``0.5 * (y - out)**2``),
for which the corrected backprop is exactly the gradient.

The author's bugs (names are the keys of :data:`BUGS`):

``wrong_output_weights`` (:attr:`BugKind.WRONG_WEIGHTS`)
    The forward pass computes the output from ``w12*h1 + w13*h2`` instead of
    ``w13*h1 + w23*h2``, while the backprop still updates ``w13``/``w23`` as if they fed
    the output.  ``w23`` then has no effect on the loss (true gradient 0), yet the author
    keeps changing it.  This bug changes ``forward`` and ``loss`` too.
``ascent_sign`` (:attr:`BugKind.SIGN`)
    ``err = target - out`` and then ``w -= lr * err * ...``: every step goes *up* the
    squared error; the hand gradient is exactly minus the true one.
``updated_output_weights`` (:attr:`BugKind.STALE_WEIGHTS`)
    The hidden errors are computed with ``w13``/``w23`` already updated in this step,
    not with the weights the forward pass used.  The hidden-layer gradients come out
    scaled by ``w13_new / w13`` and ``w23_new / w23``.
``round_3_decimals`` (:attr:`BugKind.ROUNDING`)
    ``float("%.3f" % v)`` after almost every operation: the output, the error and each
    new weight are rounded to 3 decimals.  Modelled in ``grads`` only (the rounded
    output and error feed the deltas, and each step ``w - lr*g`` lands on the 0.001
    grid); ``forward``/``loss`` stay smooth, as the author meant them.

Not a gradient bug, but the reason the question's goal is out of reach anyway: one
training sample cannot teach multiplication.  :func:`multiply_data` draws many samples
``x ~ U[0, 1)^2, y = x1 * x2`` (the answer's data) for the corrected net.

>>> import numpy as np
>>> net = Seed000Net(bugs=CORRECTED)
>>> params = net.init_params(np.random.default_rng(0))
>>> round(float(net.forward(params, np.array([0.5, 0.5]))), 4)
0.5828
>>> result = reproduce_author()          # the author's loop, all bugs on
>>> bool(result.losses[-1] > result.losses[0])
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar

import numpy as np

from .base import BugKind, Params, TrainResult, as_params, check_bugs, sgd_train, sigmoid

WRONG_OUTPUT_WEIGHTS = "wrong_output_weights"
ASCENT_SIGN = "ascent_sign"
UPDATED_OUTPUT_WEIGHTS = "updated_output_weights"
ROUND_3_DECIMALS = "round_3_decimals"

BUGS: dict[str, BugKind] = {
    WRONG_OUTPUT_WEIGHTS: BugKind.WRONG_WEIGHTS,
    ASCENT_SIGN: BugKind.SIGN,
    UPDATED_OUTPUT_WEIGHTS: BugKind.STALE_WEIGHTS,
    ROUND_3_DECIMALS: BugKind.ROUNDING,
}
AS_WRITTEN: frozenset[str] = frozenset(BUGS)
CORRECTED: frozenset[str] = frozenset()

PARAM_NAMES = ("w11", "w12", "w21", "w22", "w13", "w23")
START_WEIGHTS: dict[str, float] = {
    "w11": 0.45, "w12": 0.28, "w21": 0.36, "w22": 0.75, "w13": 0.14, "w23": 0.40,
}  # fmt: skip
AUTHOR_X = (0.5, 0.5)
AUTHOR_Y = 0.25
AUTHOR_LR = 0.5
AUTHOR_STEPS = 99  # `e = 1; while e < 100` runs 99 updates


def _round3(v):
    return np.round(v, 3)


@dataclass(frozen=True)
class Seed000Net:
    """The 2-2-1 sigmoid net of seed 000, as written (default) or with bugs switched off.

    Parameters are six scalars (0-d float64 arrays) named ``w11 w12 w21 w22 w13 w23``.
    ``x`` is one sample of shape ``(2,)`` or a batch ``(m, 2)``; ``y`` has shape ``()``
    or ``(m,)``.  On a batch, ``loss`` and ``grads`` average over the samples.

    ``lr`` is needed by two bugs: ``updated_output_weights`` (the hidden errors read
    ``w - lr*g``) and ``round_3_decimals`` (the new weights are rounded).

    >>> net = Seed000Net(bugs={ASCENT_SIGN})
    >>> p = net.init_params(np.random.default_rng(0))
    >>> x, y = np.array([0.5, 0.5]), np.array(0.25)
    >>> g_bug = net.grads(p, x, y)
    >>> g_ok = Seed000Net(bugs=CORRECTED).grads(p, x, y)
    >>> bool(np.isclose(g_bug["w13"], -g_ok["w13"]))
    True
    """

    bugs: frozenset[str] = AS_WRITTEN
    lr: float = AUTHOR_LR
    bug_kinds: ClassVar[Mapping[str, BugKind]] = MappingProxyType(BUGS)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bugs", check_bugs(self.bugs, BUGS))

    @property
    def param_names(self) -> tuple[str, ...]:
        """``("w11", "w12", "w21", "w22", "w13", "w23")``."""
        return PARAM_NAMES

    def init_params(self, rng: np.random.Generator | None = None) -> Params:
        """The author's fixed start weights (``rng`` is accepted for the common interface).

        >>> float(Seed000Net().init_params()["w23"])
        0.4
        """
        return as_params(START_WEIGHTS)

    def _hidden(self, params: Mapping[str, np.ndarray], x: np.ndarray):
        x1, x2 = x[..., 0], x[..., 1]
        h1 = sigmoid(params["w11"] * x1 + params["w21"] * x2)
        h2 = sigmoid(params["w12"] * x1 + params["w22"] * x2)
        return h1, h2

    def forward(self, params: Mapping[str, np.ndarray], x: np.ndarray):
        """The output ``s(w13*h1 + w23*h2)``; with ``wrong_output_weights``, ``s(w12*h1 + w13*h2)``.

        >>> net = Seed000Net(bugs=CORRECTED)
        >>> out = net.forward(net.init_params(), np.array([[0.5, 0.5], [0.0, 0.0]]))
        >>> out.shape
        (2,)
        """
        h1, h2 = self._hidden(params, x)
        if WRONG_OUTPUT_WEIGHTS in self.bugs:
            return sigmoid(params["w12"] * h1 + params["w13"] * h2)
        return sigmoid(params["w13"] * h1 + params["w23"] * h2)

    def loss(self, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray):
        """``mean(0.5 * (y - out)**2)`` over the samples.

        >>> net = Seed000Net(bugs=CORRECTED)
        >>> round(float(net.loss(net.init_params(), np.array([0.5, 0.5]), 0.25)), 5)
        0.05539
        """
        return np.mean(0.5 * (y - self.forward(params, x)) ** 2)

    def grads(self, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> Params:
        """The author's backprop: for each weight, (old - new) / ``lr``.

        >>> net = Seed000Net(bugs=CORRECTED)
        >>> g = net.grads(net.init_params(), np.array([0.5, 0.5]), np.array(0.25))
        >>> sorted(g) == sorted(PARAM_NAMES), round(float(g["w13"]), 5)
        (True, 0.04854)
        """
        p = {name: np.asarray(params[name], dtype=np.float64) for name in PARAM_NAMES}
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        rounding = ROUND_3_DECIMALS in self.bugs
        h1, h2 = self._hidden(p, x)
        out = np.asarray(self.forward(p, x))
        if rounding:
            out = _round3(out)
        # The author's error is target - out; the descent direction needs out - target.
        err = out - y
        if ASCENT_SIGN in self.bugs:
            err = -err
        if rounding:
            err = _round3(err)
        delta_out = err * out * (1.0 - out)
        g = {"w13": np.mean(h1 * delta_out), "w23": np.mean(h2 * delta_out)}
        new = {name: p[name] - self.lr * g[name] for name in ("w13", "w23")}
        if rounding:
            new = {name: _round3(v) for name, v in new.items()}
        # Hidden errors: the weights from each hidden unit to the output.
        back = new if UPDATED_OUTPUT_WEIGHTS in self.bugs else p
        delta_h1 = back["w13"] * delta_out * h1 * (1.0 - h1)
        delta_h2 = back["w23"] * delta_out * h2 * (1.0 - h2)
        x1, x2 = x[..., 0], x[..., 1]
        g["w11"] = np.mean(x1 * delta_h1)
        g["w21"] = np.mean(x2 * delta_h1)
        g["w12"] = np.mean(x1 * delta_h2)
        g["w22"] = np.mean(x2 * delta_h2)
        if rounding:
            g = {name: (p[name] - _round3(p[name] - self.lr * g[name])) / self.lr for name in g}
        return {name: np.asarray(g[name], dtype=np.float64) for name in PARAM_NAMES}

    def round_params(self, params: Mapping[str, np.ndarray]) -> Params:
        """Round weights to 3 decimals if ``round_3_decimals`` is on (else just copy).

        >>> float(Seed000Net().round_params({"w11": 0.12345})["w11"])
        0.123
        """
        if ROUND_3_DECIMALS not in self.bugs:
            return as_params(params)
        return {name: _round3(np.asarray(v, dtype=np.float64)) for name, v in params.items()}

    def train(
        self,
        params: Mapping[str, np.ndarray],
        xs: np.ndarray,
        ys: np.ndarray,
        epochs: int = 1,
        batch_size: int = 1,
    ) -> TrainResult:
        """The author's loop: ``w -= lr * g`` per sample (per batch), ``epochs`` passes.

        With ``round_3_decimals`` the new weights are rounded exactly as the author does.

        >>> net = Seed000Net(bugs=CORRECTED)
        >>> r = net.train(net.init_params(), [[0.5, 0.5]], [0.25], epochs=99)
        >>> bool(r.losses[-1] < 1e-3 < r.losses[0])
        True
        """
        return sgd_train(
            self, params, np.asarray(xs, float), np.asarray(ys, float), self.lr,
            epochs=epochs, batch_size=batch_size, after_step=self.round_params,
        )  # fmt: skip


def reproduce_author(net: Seed000Net | None = None, steps: int = AUTHOR_STEPS) -> TrainResult:
    """Run the author's training: one sample ``(0.5, 0.5) -> 0.25``, 99 steps, lr 0.5.

    >>> r = reproduce_author()
    >>> len(r.losses), bool(r.losses[-1] > 4 * r.losses[0])
    (99, True)
    """
    net = Seed000Net() if net is None else net
    xs, ys = np.array([AUTHOR_X]), np.array([AUTHOR_Y])
    return net.train(net.init_params(), xs, ys, epochs=steps)


def multiply_data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples ``x ~ U[0, 1)^2`` with target ``x1 * x2`` (the answer's data).

    >>> xs, ys = multiply_data(np.random.default_rng(0), 4)
    >>> xs.shape, bool(np.allclose(ys, xs[:, 0] * xs[:, 1]))
    ((4, 2), True)
    """
    xs = rng.random((n, 2))
    return xs, xs[:, 0] * xs[:, 1]


def train_multiply(
    rng: np.random.Generator,
    n: int = 1000,
    epochs: int = 20,
    bugs: Iterable[str] = CORRECTED,
    lr: float = AUTHOR_LR,
) -> tuple[Seed000Net, TrainResult]:
    """Train the net per sample on :func:`multiply_data` (from the author's start weights).

    Returns the net and its :class:`TrainResult`.  Measured: 20 passes over 1000 samples at
    lr 0.5 give an RMSE of about 0.10 on fresh data (the best constant guess: 0.22); more
    passes or a larger rate end near 0.09, about what a bias-free 2-2-1 net can do.

    >>> net, r = train_multiply(np.random.default_rng(0), n=200, epochs=5)
    >>> bool(r.losses[-200:].mean() < r.losses[:200].mean())
    True
    """
    net = Seed000Net(bugs=frozenset(bugs), lr=lr)
    xs, ys = multiply_data(rng, n)
    return net, net.train(net.init_params(), xs, ys, epochs=epochs)
