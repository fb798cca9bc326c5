"""Seed 002, the question: "my numpy backprop does not work" (versions 1 and 2).

The author's class ``Neuralnet(neurons)`` keeps weights, inputs, outputs and errors as
mutable state.  Here the same nets are pure functions of a parameter dict.

**Version 1** (:class:`Seed002V1Net`): tanh on *every* layer, the input layer included;
weights ``W_l`` of shape ``[n_l, n_{l+1}]`` drawn from ``N(0, 1/sqrt(n_l))``; no biases;
online training, one sample per step, ``W_l -= rate * outer(o_l, delta_{l+1})`` with rate
0.1.  **Version 2** (:class:`Seed002V2Net`) adds biases ("offsets", same init), makes the
output linear and lowers the rate to 0.01.  The loss is ``0.5 * ||out - t||^2``.

Both backprops are correct: ``grads`` equals the gradient of ``loss`` (the tests check
this against finite differences, the complex step and autograd), so ``BUGS`` is empty and
``AS_WRITTEN == CORRECTED``.  The nets fail for other reasons:

* **tanh on the input layer** squashes ``x`` before the first weight: ``tanh(2) = 0.964``,
  ``tanh(3) = 0.995``, ``tanh(5) = 0.9999``.  Everything past ``|x| ~ 2`` is crammed into
  a sliver next to 1, where ``sin`` still swings from 0.9 to -0.96.  Since tanh is
  1-Lipschitz, ``|f(3) - f(2)| <= 0.031 * prod ||W_l||``: at the init scale the net cannot
  even separate the targets at 2 (0.72) and 3 (0.14).  Trained as the author does, v1
  answers about 0.75 at 3, the same as at 2.  v2 on ``U(-5, 5)`` ends near an RMSE of 0.7
  over ``[-5, 5]``, no better than predicting 0; with ``squash_input=False`` the same net,
  rate and steps reach about 0.1.
* **Training data barely cover the query** (v1 sine): ``x ~ N(0, 1)`` puts 0.3% of the
  samples beyond ``|x| = 3``; even unsquashed, v1 answers about 0.4 at 3.  The answer
  also remarks that the target ``tanh(sin x)`` only reaches +-0.76.
* **No biases in v1**: the net is an odd function, ``f(-x) = -f(x)``, and ``f(0) = 0``
  for *every* weight.  XOR asks ``f(0, 0) = -1``: impossible, whatever the training.
* **v2's XOR and identity examples print** ``outputs[-1]``, which in v2 is the last
  *hidden* layer's activation, not the net's output (``inputs[-1]``).

A numerical footnote for gradient checkers: deep in saturation the author's derivative
``1 - o*o`` cancels (``o*o`` is within ``1e-9`` of 1 at ``|z| ~ 11``), so the hand gradient
carries a relative rounding error of about ``eps / (1 - o*o)`` there.

>>> import numpy as np
>>> net = Seed002V1Net(sizes=(2, 2, 1))
>>> params = net.init_params(np.random.default_rng(0))
>>> float(net.forward(params, np.array([0.0, 0.0]))[0])    # no biases: f(0) = 0
0.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar

import numpy as np

from .base import BugKind, Params, TrainResult, check_bugs, n_samples, sgd_train

BUGS: dict[str, BugKind] = {}
AS_WRITTEN: frozenset[str] = frozenset()
CORRECTED: frozenset[str] = frozenset()

V1_SINE_QUERY = 3.0  # the author predicts tanh(sin 3) = 0.1402
V2_SINE_QUERY = np.pi  # ... and sin(pi) = 0


@dataclass(frozen=True)
class _QuestionNet:
    """Shared code of versions 1 and 2 (see the subclasses)."""

    sizes: tuple[int, ...] = (1, 6, 1)
    rate: float = 0.1
    bugs: frozenset[str] = AS_WRITTEN
    squash_input: bool = True

    HAS_BIASES: ClassVar[bool] = False
    LINEAR_OUTPUT: ClassVar[bool] = False
    bug_kinds: ClassVar[Mapping[str, BugKind]] = MappingProxyType(BUGS)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", tuple(int(n) for n in self.sizes))
        object.__setattr__(self, "bugs", check_bugs(self.bugs, BUGS))
        if len(self.sizes) < 2 or min(self.sizes) < 1:
            raise ValueError(f"sizes must have >= 2 positive entries, got {self.sizes}")

    @property
    def n_layers(self) -> int:
        """Number of weight matrices."""
        return len(self.sizes) - 1

    @property
    def param_names(self) -> tuple[str, ...]:
        """``W0, W1, ...`` (and ``b0, b1, ...`` with biases)."""
        names = tuple(f"W{l}" for l in range(self.n_layers))
        if self.HAS_BIASES:
            names += tuple(f"b{l}" for l in range(self.n_layers))
        return names

    def init_params(self, rng: np.random.Generator) -> Params:
        """``W_l, b_l ~ N(0, 1/sqrt(n_l))`` (a standard deviation of ``1/sqrt(fan_in)``)."""
        params = {}
        for l, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            params[f"W{l}"] = rng.normal(scale=1 / np.sqrt(n_in), size=(n_in, n_out))
        if self.HAS_BIASES:
            for l, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
                params[f"b{l}"] = rng.normal(scale=1 / np.sqrt(n_in), size=n_out)
        return params

    def _pre_activation(self, params: Mapping[str, np.ndarray], o, l: int):
        z = o @ params[f"W{l}"]
        if self.HAS_BIASES:
            z = z + params[f"b{l}"]
        return z

    def forward(self, params: Mapping[str, np.ndarray], x: np.ndarray):
        """The output for one sample ``(n_0,)`` or a batch ``(m, n_0)``."""
        o = np.tanh(x) if self.squash_input else x
        for l in range(self.n_layers):
            z = self._pre_activation(params, o, l)
            o = np.tanh(z)
        return z if self.LINEAR_OUTPUT else o

    def loss(self, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray):
        """``0.5 * ||out - y||^2``, averaged over the samples of a batch."""
        return np.sum(0.5 * (self.forward(params, x) - y) ** 2) / n_samples(x)

    def grads(self, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> Params:
        """The author's backprop (averaged over a batch; for one sample exactly his step)."""
        m = n_samples(x)
        x2 = np.atleast_2d(np.asarray(x, dtype=np.float64))
        y2 = np.asarray(y, dtype=np.float64).reshape(len(x2), -1)
        outs = [np.tanh(x2) if self.squash_input else x2]  # o_l: what W_l multiplies
        for l in range(self.n_layers):
            z = self._pre_activation(params, outs[-1], l)
            outs.append(z if self.LINEAR_OUTPUT and l == self.n_layers - 1 else np.tanh(z))
        out = outs[-1]
        delta = out - y2 if self.LINEAR_OUTPUT else (1 - out * out) * (out - y2)
        g = {}
        for l in reversed(range(self.n_layers)):
            g[f"W{l}"] = outs[l].T @ delta / m
            if self.HAS_BIASES:
                g[f"b{l}"] = np.sum(delta, axis=0) / m
            o = outs[l]
            delta = (1 - o * o) * (delta @ np.asarray(params[f"W{l}"]).T)
        return {name: g[name] for name in self.param_names}

    def train(
        self,
        params: Mapping[str, np.ndarray],
        xs: np.ndarray,
        ys: np.ndarray,
        epochs: int = 1,
    ) -> TrainResult:
        """Online training as the author does it: one sample per step, in order."""
        xs = np.asarray(xs, dtype=np.float64).reshape(len(xs), self.sizes[0])
        ys = np.asarray(ys, dtype=np.float64).reshape(len(ys), self.sizes[-1])
        return sgd_train(self, params, xs, ys, self.rate, epochs=epochs)


@dataclass(frozen=True)
class Seed002V1Net(_QuestionNet):
    """Question v1: tanh everywhere (input and output too), no biases, rate 0.1.

    Parameters ``W0 .. W{L-2}``, ``W_l`` of shape ``[n_l, n_{l+1}]``; ``out = tanh(...
    tanh(tanh(x) @ W0) ... @ W_{L-2})``.

    >>> net = Seed002V1Net(sizes=(1, 3, 1))
    >>> p = net.init_params(np.random.default_rng(0))
    >>> net.param_names, p["W0"].shape
    (('W0', 'W1'), (1, 3))
    >>> x = np.array([0.7])
    >>> bool(np.allclose(net.forward(p, -x), -net.forward(p, x)))   # an odd function
    True
    """


@dataclass(frozen=True)
class Seed002V2Net(_QuestionNet):
    """Question v2: biases ("offsets"), a linear output layer, rate 0.01, net [1, 5, 1].

    Parameters ``W_l`` ``[n_l, n_{l+1}]`` and ``b_l`` ``[n_{l+1}]``; the input is still
    squashed by tanh.

    >>> net = Seed002V2Net()
    >>> p = net.init_params(np.random.default_rng(0))
    >>> net.param_names, p["b0"].shape
    (('W0', 'W1', 'b0', 'b1'), (5,))
    >>> net.forward(p, np.array([[0.1], [0.2]])).shape
    (2, 1)
    """

    sizes: tuple[int, ...] = (1, 5, 1)
    rate: float = 0.01

    HAS_BIASES: ClassVar[bool] = True
    LINEAR_OUTPUT: ClassVar[bool] = True


# --- the author's examples --------------------------------------------------------------


def xor_data(repeats: int) -> tuple[np.ndarray, np.ndarray]:
    """The four XOR cases with targets +-1, in the author's order, ``repeats`` times.

    >>> xs, ys = xor_data(1)
    >>> xs.tolist(), ys.ravel().tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [-1.0, 1.0, 1.0, -1.0])
    """
    xs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    ys = np.array([[-1], [1], [1], [-1]], dtype=np.float64)
    return np.tile(xs, (repeats, 1)), np.tile(ys, (repeats, 1))


def identity_data(
    rng: np.random.Generator, steps: int, version: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """``x ~ N(0, 1)``; target ``tanh(x)`` in v1, ``x`` in v2.  The author queries -2.

    >>> xs, ys = identity_data(np.random.default_rng(0), 3, version=2)
    >>> bool(np.all(xs == ys))
    True
    """
    xs = rng.normal(size=(steps, 1))
    return xs, (np.tanh(xs) if version == 1 else xs.copy())


def sine_data(
    rng: np.random.Generator, steps: int, version: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """v1: ``x ~ N(0, 1)``, target ``tanh(sin x)``; v2: ``x ~ U(-5, 5)``, target ``sin x``.

    >>> xs, ys = sine_data(np.random.default_rng(0), 1000, version=2)
    >>> bool(xs.min() >= -5 and xs.max() < 5), bool(np.allclose(ys, np.sin(xs)))
    (True, True)
    """
    if version == 1:
        xs = rng.normal(size=(steps, 1))
        return xs, np.tanh(np.sin(xs))
    xs = rng.uniform(-5, 5, size=(steps, 1))
    return xs, np.sin(xs)


def train_sine(
    rng: np.random.Generator,
    version: int = 1,
    steps: int | None = None,
    sizes: Iterable[int] | None = None,
    squash_input: bool = True,
) -> tuple[_QuestionNet, TrainResult]:
    """The author's sine example: v1 ``[1,6,1]``, 100 000 steps; v2 ``[1,5,1]``, 10 000.

    Returns the net and its :class:`TrainResult`; predict with
    ``net.forward(result.params, np.array([V1_SINE_QUERY]))``.

    >>> net, r = train_sine(np.random.default_rng(0), version=2, steps=200)
    >>> r.losses.shape
    (200,)
    """
    if version == 1:
        net: _QuestionNet = Seed002V1Net(sizes=tuple(sizes or (1, 6, 1)), squash_input=squash_input)
    else:
        net = Seed002V2Net(sizes=tuple(sizes or (1, 5, 1)), squash_input=squash_input)
    steps = (100_000 if version == 1 else 10_000) if steps is None else steps
    params = net.init_params(rng)
    xs, ys = sine_data(rng, steps, version)
    return net, net.train(params, xs, ys)
