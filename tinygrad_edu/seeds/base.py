"""The interface shared by every seed net, and the small helpers they use.

A *seed net* is a frozen dataclass that describes one hand-written network from the seed
threads (``/work/shared/seeds``).  It holds no weights: parameters travel as a plain
``dict[str, np.ndarray]`` (float64), so every method is a pure function of its arguments.

``forward`` and ``loss`` are written with operators, ``.T``, indexing, numpy ufuncs and a
few array functions (``np.dot``, ``np.concatenate``, ``np.sum``, ``np.mean``,
``np.ones``) only, so the same code runs on an autograd Tensor that implements
``__array_ufunc__``/``__array_function__``.  ``grads`` is the author's hand-written
backprop: the amount the author subtracts from each parameter, divided by the learning
rate.  For a correct backprop it equals the gradient of ``loss``.

Every net takes ``bugs``, a frozenset of bug names.  Its module exports ``BUGS`` (name ->
:class:`BugKind`), ``AS_WRITTEN`` (every bug of the author) and ``CORRECTED`` (none).

>>> import numpy as np
>>> sigmoid(np.array([0.0, 2.0])).round(4)
array([0.5   , 0.8808])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

Params = dict[str, np.ndarray]
"""Parameter name -> float64 array.  Methods never mutate it."""


class BugKind(str, Enum):
    """What kind of mistake a bug is: what a gradient checker should diagnose.

    >>> BugKind.SIGN.value
    'sign'
    """

    SIGN = "sign"
    """The step goes up the loss: the hand gradient is the true one times -1."""
    FACTOR = "factor"
    """The hand gradient is the true one times a constant other than 1."""
    WRONG_WEIGHTS = "wrong_weights"
    """The forward pass reads other weights than the backprop assumes."""
    STALE_WEIGHTS = "stale_weights"
    """The backprop reads weights from another moment than the forward pass did
    (for instance weights already updated in this step)."""
    ROUNDING = "rounding"
    """Values are rounded, so the hand gradient is off by a small, quantised amount."""
    MISSING_ACTIVATION_DERIVATIVE = "missing_activation_derivative"
    """A delta lacks the derivative of its layer's activation."""


@runtime_checkable
class SeedNet(Protocol):
    """What every seed net provides (a structural type: nets do not inherit from it).

    >>> from tinygrad_edu.seeds.seed000 import Seed000Net
    >>> isinstance(Seed000Net(), SeedNet)
    True
    """

    bugs: frozenset[str]

    @property
    def param_names(self) -> tuple[str, ...]:
        """Names of the parameters, in a stable order."""
        ...

    def init_params(self, rng: np.random.Generator) -> Params:
        """The author's own initialisation (float64)."""
        ...

    def forward(self, params: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
        """The net's output, as the author computes it (forward bugs included)."""
        ...

    def loss(self, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The scalar the author's backprop is meant to descend."""
        ...

    def grads(self, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> Params:
        """The author's hand-written backprop: the subtracted step divided by the rate."""
        ...


class TrainResult(NamedTuple):
    """What a training loop returns.

    ``losses[k]`` is the loss on the batch of step ``k``, measured before that step's update.
    """

    params: Params
    losses: np.ndarray


def check_bugs(bugs: Iterable[str], known: Mapping[str, BugKind]) -> frozenset[str]:
    """Return ``bugs`` as a frozenset, or raise ``ValueError`` naming the unknown ones.

    >>> sorted(check_bugs(["a"], {"a": BugKind.SIGN, "b": BugKind.FACTOR}))
    ['a']
    >>> check_bugs(["c"], {"a": BugKind.SIGN})
    Traceback (most recent call last):
    ...
    ValueError: unknown bug(s) ['c']; known: ['a']
    """
    bugs = frozenset(bugs)
    unknown = sorted(bugs - set(known))
    if unknown:
        raise ValueError(f"unknown bug(s) {unknown}; known: {sorted(known)}")
    return bugs


def sigmoid(z):
    """Logistic function ``1 / (1 + exp(-z))``, written with ops only.

    >>> float(sigmoid(0.0))
    0.5
    """
    return 1.0 / (1.0 + np.exp(-z))


def n_samples(x: np.ndarray, feature_ndim: int = 1) -> int:
    """How many samples ``x`` holds: 1 for a single sample, else its leading length.

    >>> n_samples(np.zeros(3)), n_samples(np.zeros((5, 3)))
    (1, 5)
    """
    x = np.asarray(x)
    return 1 if x.ndim <= feature_ndim else int(np.prod(x.shape[: x.ndim - feature_ndim]))


def as_params(values: Mapping[str, object]) -> Params:
    """Copy a mapping of numbers/arrays into fresh float64 arrays.

    >>> as_params({"w": 1})["w"].dtype
    dtype('float64')
    """
    return {name: np.array(value, dtype=np.float64) for name, value in values.items()}


def sgd_train(
    net: SeedNet,
    params: Mapping[str, np.ndarray],
    xs: np.ndarray,
    ys: np.ndarray,
    rate: float,
    *,
    epochs: int = 1,
    batch_size: int = 1,
    after_step: Callable[[Params], Params] | None = None,
) -> TrainResult:
    """Plain SGD with ``net.grads``: ``p -= rate * g`` on consecutive batches, in order.

    ``xs`` and ``ys`` are indexed along their first axis; each step sees a batch (with a
    leading batch axis, also when ``batch_size`` is 1).

    ``after_step`` post-processes the new parameters (seed 000 rounds them).  Returns the
    trained parameters and the loss of each step's batch before its update.

    >>> from tinygrad_edu.seeds.seed000 import CORRECTED, Seed000Net
    >>> net = Seed000Net(bugs=CORRECTED)
    >>> xs, ys = np.array([[0.5, 0.5]]), np.array([0.25])
    >>> result = sgd_train(net, net.init_params(np.random.default_rng(0)), xs, ys, 0.5, epochs=50)
    >>> bool(result.losses[-1] < result.losses[0])
    True
    """
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    params = as_params(params)
    losses = []
    for _ in range(epochs):
        for start in range(0, len(xs), batch_size):
            xb, yb = xs[start : start + batch_size], ys[start : start + batch_size]
            losses.append(float(net.loss(params, xb, yb)))
            g = net.grads(params, xb, yb)
            params = {name: params[name] - rate * g[name] for name in params}
            if after_step is not None:
                params = after_step(params)
    return TrainResult(params, np.array(losses))
