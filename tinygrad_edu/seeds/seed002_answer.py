"""Seed 002, the answer: a vectorised net with a bias column, trained on a noisy sine.

The answer's ``Neuralnet(neurons, activation)`` prepends a column of ones to every layer's
output (``concatenate(ones, X)``), so ``W_l`` has shape ``[n_{l+1}, n_l + 1]`` and column 0
holds the biases; weights start ``U(-0.12, 0.12)``.  Every layer, the output included, uses
the same activation: sigmoid or tanh.  The cost is ``J = sum((Y - H)^2) / (2m)``, and the
backprop sets ``grad_l = delta_{l+1}.T @ a_l / m``.

Its bug (the key of :data:`BUGS`):

``missing_output_derivative`` (:attr:`BugKind.MISSING_ACTIVATION_DERIVATIVE`)
    The output delta is ``H - Y``, without the activation's derivative.  That is not the
    gradient of ``J``; it *is* the gradient of a cross-entropy
    (:meth:`Seed002AnswerNet.cross_entropy_loss`): the mean binary cross-entropy for a
    sigmoid output, and for tanh the cross-entropy between ``(1+H)/2`` and ``(1+Y)/2``.
    Descending that still fits the targets, which is why the answer's plots look fine, and
    for a sigmoid output it even fits them faster: the true gradient of ``J`` carries the
    factor ``H(1 - H) <= 1/4``.  In one run of the answer's offline set-up (``[1, 6, 1]``,
    rate 0.5, 20 000 full-batch steps) the as-written net reached ``J = 0.003``, the
    corrected one ``J = 0.037``.  The mistake is the mismatch with the stated cost.

Other flaws of the answer's script, not in the gradients:

* ``cost()`` and ``backpropagate()`` read a *global* ``m`` (the script's training-set or
  batch size); they are right only because the script sets it to the batch size.  Here
  both use the batch's own length.
* The comments say the inputs must be scaled into the activation's range, but only the
  targets are: ``x`` in ``[0, 4pi]`` goes in raw (:func:`scale_inputs` does it).
* The online cost ``cost_online`` compares the net's output, which lives in the *scaled*
  target range, with the unscaled ``sin x``; its plotted curve is not the cost minimised.
* ``range(sampling_count / m)`` and ``raw_input`` are Python 2; in Python 3 the online
  script stops with a ``TypeError``.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> net = Seed002AnswerNet(bugs=CORRECTED)
>>> X, Y = sine_data(rng, m=200)
>>> Ys = scale_targets(Y, net.activation)
>>> r = net.train_offline(net.init_params(rng), X, Ys, iterations=300)
>>> bool(r.losses[-1] < r.losses[0])
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar

import numpy as np

from .base import BugKind, Params, TrainResult, check_bugs, sgd_train, sigmoid

MISSING_OUTPUT_DERIVATIVE = "missing_output_derivative"
BUGS: dict[str, BugKind] = {MISSING_OUTPUT_DERIVATIVE: BugKind.MISSING_ACTIVATION_DERIVATIVE}
AS_WRITTEN: frozenset[str] = frozenset(BUGS)
CORRECTED: frozenset[str] = frozenset()

ACTIVATIONS = ("sigmoid", "tanh")
INIT_EPS = 0.12
KX = 0.1  # noise amplitude of the targets
X_RANGE = (0.0, 4 * np.pi)
OFFLINE_RATE, OFFLINE_M, OFFLINE_ITERATIONS = 0.5, 1000, 20_000
ONLINE_RATE, ONLINE_SAMPLES = 0.2, 100_000


@dataclass(frozen=True)
class Seed002AnswerNet:
    """The answer's net: ``W_l`` ``[n_{l+1}, n_l + 1]`` with the bias in column 0.

    ``X`` has shape ``(m, n_0)`` and ``Y`` ``(m, n_{L-1})``; one sample is ``m = 1``.
    ``rate`` is the answer's offline rate; its online run uses :data:`ONLINE_RATE`.

    >>> net = Seed002AnswerNet(sizes=(1, 6, 4, 1), activation="tanh")
    >>> p = net.init_params(np.random.default_rng(0))
    >>> [p[n].shape for n in net.param_names]
    [(6, 2), (4, 7), (1, 5)]
    >>> net.forward(p, np.zeros((3, 1))).shape
    (3, 1)
    """

    sizes: tuple[int, ...] = (1, 6, 1)
    activation: str = "sigmoid"
    rate: float = OFFLINE_RATE
    bugs: frozenset[str] = AS_WRITTEN

    bug_kinds: ClassVar[Mapping[str, BugKind]] = MappingProxyType(BUGS)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", tuple(int(n) for n in self.sizes))
        object.__setattr__(self, "bugs", check_bugs(self.bugs, BUGS))
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if len(self.sizes) < 2 or min(self.sizes) < 1:
            raise ValueError(f"sizes must have >= 2 positive entries, got {self.sizes}")

    @property
    def n_layers(self) -> int:
        """Number of weight matrices."""
        return len(self.sizes) - 1

    @property
    def param_names(self) -> tuple[str, ...]:
        """``W0, W1, ...``."""
        return tuple(f"W{l}" for l in range(self.n_layers))

    def init_params(self, rng: np.random.Generator) -> Params:
        """``W_l ~ U(-0.12, 0.12)`` of shape ``[n_{l+1}, n_l + 1]``."""
        return {
            f"W{l}": rng.uniform(-INIT_EPS, INIT_EPS, size=(n_out, n_in + 1))
            for l, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]))
        }

    def _act(self, z):
        return sigmoid(z) if self.activation == "sigmoid" else np.tanh(z)

    def _act_prime_from_output(self, h: np.ndarray) -> np.ndarray:
        return h * (1 - h) if self.activation == "sigmoid" else 1 - h * h

    def forward(self, params: Mapping[str, np.ndarray], X: np.ndarray):
        """``H``, the last layer's activation, shape ``(m, n_{L-1})``."""
        ones = np.ones((X.shape[0], 1))
        a = np.concatenate((ones, X), axis=1)
        for l in range(self.n_layers):
            h = self._act(a @ params[f"W{l}"].T)
            if l < self.n_layers - 1:
                a = np.concatenate((ones, h), axis=1)
        return h

    def loss(self, params: Mapping[str, np.ndarray], X: np.ndarray, Y: np.ndarray):
        """The answer's own cost ``J = sum((Y - H)^2) / (2m)``.

        >>> net = Seed002AnswerNet()
        >>> p = {"W0": np.zeros((6, 2)), "W1": np.zeros((1, 7))}
        >>> float(net.loss(p, np.zeros((4, 1)), np.ones((4, 1))))   # H = 0.5 everywhere
        0.125
        """
        return np.sum((Y - self.forward(params, X)) ** 2) / (2 * X.shape[0])

    def cross_entropy_loss(self, params: Mapping[str, np.ndarray], X: np.ndarray, Y: np.ndarray):
        """The loss whose gradient the as-written backprop computes.

        Sigmoid: ``-sum(Y log H + (1-Y) log(1-H)) / m``.  Tanh: the same with
        ``P = (1+H)/2`` and ``Q = (1+Y)/2`` in place of ``H`` and ``Y``.  Either way the
        derivative with respect to the output pre-activation is ``(H - Y) / m``.

        >>> net = Seed002AnswerNet()
        >>> p = {"W0": np.zeros((6, 2)), "W1": np.zeros((1, 7))}
        >>> round(float(net.cross_entropy_loss(p, np.zeros((2, 1)), np.ones((2, 1)))), 4)
        0.6931
        """
        H = self.forward(params, X)
        if self.activation == "sigmoid":
            P, Q = H, Y
        else:
            P, Q = (1 + H) / 2, (1 + Y) / 2
        return -np.sum(Q * np.log(P) + (1 - Q) * np.log(1 - P)) / X.shape[0]

    def grads(self, params: Mapping[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> Params:
        """The answer's backprop: ``delta_{l+1}.T @ a_l / m`` for every layer.

        >>> net = Seed002AnswerNet()
        >>> p = net.init_params(np.random.default_rng(0))
        >>> net.grads(p, np.ones((5, 1)), np.zeros((5, 1)))["W1"].shape
        (1, 7)
        """
        X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
        W = [np.asarray(params[name], dtype=np.float64) for name in self.param_names]
        m = X.shape[0]
        ones = np.ones((m, 1))
        a_list = [np.concatenate((ones, X), axis=1)]  # a_l: what W_l multiplies
        h_list = []
        for l in range(self.n_layers):
            h = self._act(a_list[-1] @ W[l].T)
            h_list.append(h)
            if l < self.n_layers - 1:
                a_list.append(np.concatenate((ones, h), axis=1))
        H = h_list[-1]
        delta = H - Y
        if MISSING_OUTPUT_DERIVATIVE not in self.bugs:
            delta = delta * self._act_prime_from_output(H)
        g = {}
        for l in reversed(range(self.n_layers)):
            g[f"W{l}"] = delta.T @ a_list[l] / m
            if l > 0:
                delta = (delta @ W[l][:, 1:]) * self._act_prime_from_output(h_list[l - 1])
        return {name: g[name] for name in self.param_names}

    def train_offline(
        self,
        params: Mapping[str, np.ndarray],
        X: np.ndarray,
        Y: np.ndarray,
        iterations: int = OFFLINE_ITERATIONS,
    ) -> TrainResult:
        """Full-batch gradient descent (the answer's ``train``); ``losses`` is ``J_history``."""
        return sgd_train(self, params, X, Y, self.rate, epochs=iterations, batch_size=len(X))

    def train_online(
        self,
        params: Mapping[str, np.ndarray],
        rng: np.random.Generator,
        samples: int = ONLINE_SAMPLES,
        batch_size: int = 1,
        rate: float = ONLINE_RATE,
        kx: float = KX,
    ) -> TrainResult:
        """The answer's online mode: each step draws a fresh batch from :func:`sine_batch`.

        >>> net = Seed002AnswerNet(bugs=CORRECTED)
        >>> r = net.train_online(net.init_params(np.random.default_rng(0)),
        ...                      np.random.default_rng(1), samples=50)
        >>> r.losses.shape
        (50,)
        """
        steps = samples // batch_size
        X, Y = sine_batch(rng, steps * batch_size, kx)
        Ys = scale_targets(Y, self.activation, kx)
        return sgd_train(self, params, X, Ys, rate, batch_size=batch_size)


def sine_data(
    rng: np.random.Generator, m: int = OFFLINE_M, kx: float = KX
) -> tuple[np.ndarray, np.ndarray]:
    """The offline set: ``m`` evenly spaced ``x`` on ``[0, 4pi]``, ``sin x + U(-kx, kx)``.

    >>> X, Y = sine_data(np.random.default_rng(0), m=5)
    >>> X.shape, Y.shape, bool(np.all(np.abs(Y - np.sin(X)) <= KX))
    ((5, 1), (5, 1), True)
    """
    X = np.linspace(*X_RANGE, num=m).reshape(m, 1)
    noise = (2.0 * rng.uniform(0, kx, m) - kx).reshape(m, 1)
    return X, np.sin(X) + noise


def sine_batch(rng: np.random.Generator, m: int, kx: float = KX) -> tuple[np.ndarray, np.ndarray]:
    """The online samples: ``x ~ U(0, 4pi)``, ``sin x + U(-kx, kx)``.

    >>> X, Y = sine_batch(np.random.default_rng(0), 3)
    >>> X.shape, bool(np.all((X >= 0) & (X < 4 * np.pi)))
    ((3, 1), True)
    """
    X = rng.uniform(*X_RANGE, m).reshape(m, 1)
    noise = (2.0 * rng.uniform(0, kx, m) - kx).reshape(m, 1)
    return X, np.sin(X) + noise


def scale_targets(Y: np.ndarray, activation: str, kx: float = KX) -> np.ndarray:
    """Map ``|Y| <= 1 + kx`` into the activation's range: ``(Y/(1+kx) + 1)/2`` or ``Y/(1+kx)``.

    >>> scale_targets(np.array([-1.1, 0.0, 1.1]), "sigmoid").tolist()
    [0.0, 0.5, 1.0]
    """
    if activation == "sigmoid":
        return (Y / (1 + kx) + 1) / 2.0
    return Y / (1 + kx)


def unscale_outputs(H: np.ndarray, activation: str, kx: float = KX) -> np.ndarray:
    """Inverse of :func:`scale_targets`.

    >>> y = np.array([-0.3, 0.9])
    >>> bool(np.allclose(unscale_outputs(scale_targets(y, "tanh"), "tanh"), y))
    True
    """
    if activation == "sigmoid":
        return (2.0 * H - 1.0) * (1 + kx)
    return H * (1 + kx)


def scale_inputs(X: np.ndarray, activation: str) -> np.ndarray:
    """What the answer's comments ask for and its code skips: ``[0, 4pi]`` to ``[0, 1]``
    (sigmoid) or ``[-1, 1]`` (tanh).

    >>> scale_inputs(np.array([0.0, 4 * np.pi]), "tanh").tolist()
    [-1.0, 1.0]
    """
    unit = (X - X_RANGE[0]) / (X_RANGE[1] - X_RANGE[0])
    return unit if activation == "sigmoid" else 2 * unit - 1
