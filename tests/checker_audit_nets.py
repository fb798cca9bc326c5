"""Hand-written numpy backprops, as students write them, for auditing the homework checker.

Each net has a correct ``grads`` and planted mistakes, one at a time (``bug=``). A
:class:`Case` says which parameters the mistake makes wrong and which hint kinds would be a
right diagnosis of it; :func:`audit` runs the checker and grades its verdict and hint:

* a hint is **right** when every story the checker tells about the mistake (the best
  hypothesis of each wrong row, and every confident hypothesis across parameters) is of an
  accepted kind, **absent** when it tells none (or only says *where* the numbers differ:
  ``some_entries``, ``zero_gradient``, an unnamed factor), **wrong** when it names another
  kind of mistake;
* a **missed** detection is a wrong parameter that passes, a **false alarm** a right one that
  fails.

The nets are split in two: :data:`DEV` (the checker was tuned while looking at these) and
:data:`HELD_OUT` (only measured). ``python -m tests.checker_audit_nets`` prints the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinygrad_edu.gradcheck import check_gradients
from tinygrad_edu.gradcheck import diagnose as dg

SIGN, FACTOR, TRANSPOSED, SHAPE = dg.SIGN, dg.FACTOR, dg.TRANSPOSED, dg.SHAPE
MISSING = dg.MISSING_ACTIVATION_DERIVATIVE
SWAPPED = getattr(dg, "SWAPPED", "swapped")
NEUTRAL = {dg.SOME_ENTRIES, dg.ZERO_GRADIENT}  # say where the numbers differ, not why


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class Net:
    """A loss, a hand-written backprop with an optional planted ``bug``, parameters and a
    batch. ``scale`` multiplies the inputs (badly scaled values); ``dtype`` is the dtype the
    backprop computes in (float32 homework)."""

    def __init__(self, bug: str | None = None, *, seed: int = 0, m: int = 6, scale: float = 1.0,
                 dtype=np.float64) -> None:
        self.bug, self.seed, self.m, self.scale, self.dtype = bug, seed, m, scale, dtype

    def cast(self, p):
        return {n: np.asarray(v).astype(self.dtype) for n, v in p.items()}

    def problem(self):
        rng = np.random.default_rng(self.seed)
        params = self.init_params(rng)
        x, y = self.batch(rng)
        return params, x, y


# ============================================================================ dev nets
class SoftmaxRegression(Net):
    """Softmax regression with mean cross-entropy; ``W`` is (in, out), ``b`` a vector."""

    def init_params(self, rng):
        return {"W": rng.normal(size=(4, 3)) * 0.5, "b": rng.normal(size=3) * 0.1}

    def batch(self, rng):
        return rng.normal(size=(self.m, 4)) * self.scale, rng.integers(0, 3, size=self.m)

    def loss(self, p, x, y):
        z = x @ p["W"] + p["b"]
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -logp[np.arange(len(y)), y].mean()

    def grads(self, p, x, y):
        p, bug, m = self.cast(p), self.bug, len(y)
        z = x.astype(self.dtype) @ p["W"] + p["b"]
        probs = _softmax(z, axis=0 if bug == "broadcast" else 1)
        probs[np.arange(m), y] -= 1
        dz = probs if bug == "no_mean" else probs / m
        g = {"W": x.T @ dz, "b": dz if bug == "bias_not_summed" else dz.sum(0)}
        if bug == "sign":
            g["W"] = -g["W"]
        if bug == "factor2":
            g["b"] = 2 * g["b"]
        if bug == "transposed":
            g["W"] = g["W"].T
        return g


class TanhL2(Net):
    """2-layer tanh net, squared error over the batch mean plus L2 on the weights; W1 square."""

    lam = 0.1

    def init_params(self, rng):
        return {"W1": rng.normal(size=(4, 4)) * 0.5, "b1": rng.normal(size=4) * 0.1,
                "W2": rng.normal(size=(4, 2)) * 0.5, "b2": np.zeros(2)}

    def batch(self, rng):
        return rng.normal(size=(self.m, 4)) * self.scale, rng.normal(size=(self.m, 2))

    def loss(self, p, x, y):
        h = np.tanh(x @ p["W1"] + p["b1"])
        out = h @ p["W2"] + p["b2"]
        reg = 0.5 * self.lam * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
        return 0.5 * np.sum((out - y) ** 2) / len(x) + reg

    def grads(self, p, x, y):
        p, bug, m = self.cast(p), self.bug, len(x)
        h = np.tanh(x @ p["W1"] + p["b1"])
        d2 = (h @ p["W2"] + p["b2"] - y) / m
        if bug == "sign_delta":
            d2 = -d2
        dh = d2 @ p["W2"].T
        if bug == "missing_derivative":
            d1 = dh
        elif bug == "wrong_point":
            d1 = dh * (1 - np.tanh(h) ** 2)  # tanh' at h = tanh(z), not at z
        else:
            d1 = dh * (1 - h ** 2)
        reg1 = 0 if bug == "missing_reg" else self.lam * p["W1"]
        g = {"W1": x.T @ d1 + reg1, "b1": d1.sum(0), "W2": h.T @ d2 + self.lam * p["W2"],
             "b2": d2.sum(0)}
        if bug == "sign":
            g["W2"] = -g["W2"]
        if bug == "transposed_square":
            g["W1"] = g["W1"].T
        if bug == "transposed":
            g["W2"] = g["W2"].T
        if bug == "reg_factor2":
            g["W2"] = h.T @ d2 + 2 * self.lam * p["W2"]
        return g


class ReluNet3(Net):
    """3-layer relu net, ``z = x @ W + b`` with biases as row vectors (1, n); mean squared
    error over every entry. Both hidden layers have width 5."""

    def init_params(self, rng):
        return {"W1": rng.normal(size=(3, 5)), "b1": rng.normal(size=(1, 5)) * 0.1,
                "W2": rng.normal(size=(5, 5)) * 0.5, "b2": rng.normal(size=(1, 5)) * 0.1,
                "W3": rng.normal(size=(5, 2)) * 0.5, "b3": np.zeros((1, 2))}

    def batch(self, rng):
        return rng.normal(size=(self.m, 3)) * self.scale, rng.normal(size=(self.m, 2))

    def forward(self, p, x):
        z1 = x @ p["W1"] + p["b1"]
        a1 = np.maximum(z1, 0)
        z2 = a1 @ p["W2"] + p["b2"]
        a2 = np.maximum(z2, 0)
        return z1, a1, z2, a2, a2 @ p["W3"] + p["b3"]

    def loss(self, p, x, y):
        return np.mean((self.forward(p, x)[-1] - y) ** 2)

    def grads(self, p, x, y):
        p, bug = self.cast(p), self.bug
        z1, a1, z2, a2, out = self.forward(p, x)
        d3 = (1.0 if bug == "factor2" else 2.0) * (out - y) / out.size
        if bug == "sign_delta":
            d3 = -d3
        g = {"W3": a2.T @ d3, "b3": d3.sum(0, keepdims=True)}
        da2 = d3 @ p["W3"].T
        if bug == "missing_derivative":
            d2 = da2
        elif bug == "wrong_point":
            d2 = da2 * (z1 > 0)  # the mask of the layer below
        elif bug == "mask_of_output":
            d2 = da2 * (a2 > 0)  # a2 > 0 exactly where z2 > 0: still right
        else:
            d2 = da2 * (z2 > 0)
        g["W2"], g["b2"] = a1.T @ d2, d2.sum(0, keepdims=True)
        d1 = (d2 @ p["W2"].T) * (z1 > 0)
        g["W1"] = x.T @ d1
        g["b1"] = d1 if bug == "bias_not_summed" else d1.sum(0, keepdims=bug != "bias_vector")
        if bug == "transposed_square":
            g["W2"] = g["W2"].T
        if bug == "sign":
            g["b2"] = -g["b2"]
        return g


class ColumnNg(Net):
    """Andrew Ng's convention: ``X`` is (features, m), ``W`` is (out, in), ``b`` is (out, 1);
    a sigmoid hidden layer, a sigmoid output and mean binary cross-entropy."""

    def init_params(self, rng):
        return {"W1": rng.normal(size=(4, 3)), "b1": np.zeros((4, 1)),
                "W2": rng.normal(size=(1, 4)), "b2": np.zeros((1, 1))}

    def batch(self, rng):
        return (rng.normal(size=(3, self.m)) * self.scale,
                rng.integers(0, 2, size=(1, self.m)).astype(float))

    def loss(self, p, X, Y):
        A1 = _sigmoid(p["W1"] @ X + p["b1"])
        A2 = _sigmoid(p["W2"] @ A1 + p["b2"])
        m = X.shape[1]
        return -np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m

    def grads(self, p, X, Y):
        p, bug, m = self.cast(p), self.bug, X.shape[1]
        X = X.astype(self.dtype)
        A1 = _sigmoid(p["W1"] @ X + p["b1"])
        A2 = _sigmoid(p["W2"] @ A1 + p["b2"])
        dZ2 = A2 - Y
        if bug == "extra_output_derivative":
            dZ2 = dZ2 * A2 * (1 - A2)
        dW2 = dZ2 @ A1.T / (1 if bug == "missing_mean_W2" else m)
        db2 = np.sum(dZ2, axis=1, keepdims=True) / m
        dA1 = p["W2"].T @ dZ2
        if bug == "wrong_point":
            s = _sigmoid(A1)
            dZ1 = dA1 * s * (1 - s)  # sigmoid'(a) for sigmoid'(z)
        elif bug == "missing_derivative":
            dZ1 = dA1
        else:
            dZ1 = dA1 * A1 * (1 - A1)
        dW1 = (X @ dZ1.T if bug == "transposed" else dZ1 @ X.T) / m
        db1 = np.sum(dZ1, axis=0 if bug == "wrong_axis" else 1, keepdims=True) / m
        g = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
        if bug == "sign":
            g["b1"] = -g["b1"]
        return g


class BatchNormNet(Net):
    """``x @ W`` through batch norm (``gamma``, ``beta``) and tanh, squared error."""

    def init_params(self, rng):
        return {"W": rng.normal(size=(3, 4)), "gamma": 1 + 0.1 * rng.normal(size=4),
                "beta": 0.1 * rng.normal(size=4)}

    def batch(self, rng):
        return rng.normal(size=(self.m, 3)) * self.scale, rng.normal(size=(self.m, 4))

    def forward(self, p, x):
        z = x @ p["W"]
        mu = z.mean(0)
        var = z.var(0)
        zhat = (z - mu) / np.sqrt(var + 1e-5)
        return z, mu, var, zhat, np.tanh(p["gamma"] * zhat + p["beta"])

    def loss(self, p, x, y):
        return 0.5 * np.sum((self.forward(p, x)[-1] - y) ** 2)

    def grads(self, p, x, y):
        p, bug = self.cast(p), self.bug
        _, _, var, zhat, out = self.forward(p, x)
        dbn = (out - y) * (1 - out ** 2)
        g = {"gamma": dbn * zhat if bug == "gamma_not_summed" else (dbn * zhat).sum(0),
             "beta": dbn.sum(0)}
        dzhat = dbn * p["gamma"]
        inv = 1 / np.sqrt(var + 1e-5)
        if bug == "constant_stats":  # mean and variance treated as constants
            dz = dzhat * inv
        elif bug == "constant_var":
            dz = (dzhat - dzhat.mean(0)) * inv
        else:
            dz = inv * (dzhat - dzhat.mean(0) - zhat * (dzhat * zhat).mean(0))
        g["W"] = x.T @ dz
        if bug == "sign":
            g["beta"] = -g["beta"]
        if bug == "factor2":
            g["W"] = 2 * g["W"]
        return g


class AttentionHead(Net):
    """One attention head, ``softmax(Q K^T / sqrt(d)) V`` with ``d = 3``, squared error."""

    def init_params(self, rng):
        return {n: rng.normal(size=(3, 3)) * 0.7 for n in ("Wq", "Wk", "Wv")}

    def batch(self, rng):
        return rng.normal(size=(self.m, 3)) * self.scale, rng.normal(size=(self.m, 3))

    def forward(self, p, x):
        Q, K, V = x @ p["Wq"], x @ p["Wk"], x @ p["Wv"]
        A = _softmax(Q @ K.T / np.sqrt(3.0), axis=1)
        return Q, K, V, A, A @ V

    def loss(self, p, x, y):
        return 0.5 * np.sum((self.forward(p, x)[-1] - y) ** 2)

    def grads(self, p, x, y):
        p, bug = self.cast(p), self.bug
        Q, K, V, A, O = self.forward(p, x)
        dO = O - y
        dA = dO @ V.T
        dV = A.T @ dO
        # softmax_diagonal: the Jacobian's diagonal only
        dS = A * dA if bug == "softmax_diagonal" else A * (dA - (dA * A).sum(1, keepdims=True))
        if bug != "missing_scale":
            dS = dS / np.sqrt(3.0)
        dQ, dK = dS @ K, dS.T @ Q
        g = {"Wq": x.T @ dQ, "Wk": x.T @ dK, "Wv": x.T @ dV}
        if bug == "swapped":
            g["Wq"], g["Wk"] = g["Wk"], g["Wq"]
        if bug == "transposed_square":
            g["Wv"] = g["Wv"].T
        if bug == "sign":
            g["Wq"] = -g["Wq"]
        return g


# ============================================================================ held-out nets
class RNNCell(Net):
    """A tanh RNN cell unrolled over 3 steps, ``h = tanh(x_t Wx + h Wh + b)``, a linear
    read-out of the last state, squared error averaged over the batch. ``Wh`` is square."""

    steps = 3

    def init_params(self, rng):
        return {"Wx": rng.normal(size=(2, 4)) * 0.5, "Wh": rng.normal(size=(4, 4)) * 0.5,
                "b": np.zeros(4), "Wy": rng.normal(size=(4, 1)) * 0.5}

    def batch(self, rng):
        return rng.normal(size=(self.steps, self.m, 2)) * self.scale, rng.normal(size=(self.m, 1))

    def states(self, p, x):
        hs = [np.zeros((x.shape[1], 4))]
        for t in range(self.steps):
            hs.append(np.tanh(x[t] @ p["Wx"] + hs[-1] @ p["Wh"] + p["b"]))
        return hs

    def loss(self, p, x, y):
        return 0.5 * np.sum((self.states(p, x)[-1] @ p["Wy"] - y) ** 2) / x.shape[1]

    def grads(self, p, x, y):
        p, bug = self.cast(p), self.bug
        hs = self.states(p, x)
        dy = (hs[-1] @ p["Wy"] - y) / x.shape[1]
        g = {"Wy": hs[-1].T @ dy, "Wx": np.zeros_like(p["Wx"]), "Wh": np.zeros_like(p["Wh"]),
             "b": np.zeros_like(p["b"])}
        dh = dy @ p["Wy"].T
        for t in reversed(range(self.steps)):
            dz = dh if bug == "missing_derivative" else dh * (1 - hs[t + 1] ** 2)
            if bug == "overwrite":  # = instead of += over the steps
                g["Wx"], g["Wh"], g["b"] = x[t].T @ dz, hs[t].T @ dz, dz.sum(0)
            else:
                g["Wx"] += x[t].T @ dz
                g["Wh"] += hs[t].T @ dz
                g["b"] += dz.sum(0)
            dh = np.zeros_like(dh) if bug == "truncated" else dz @ p["Wh"].T
        if bug == "transposed_square":
            g["Wh"] = g["Wh"].T
        if bug == "sign":
            g["Wy"] = -g["Wy"]
        return g


class Conv1dPool(Net):
    """A valid conv1d (kernel of 3, a scalar bias), relu, max-pool of 2, a linear read-out,
    mean squared error."""

    def init_params(self, rng):
        return {"w": rng.normal(size=3), "c": np.array(0.1), "V": rng.normal(size=(4, 1))}

    def batch(self, rng):
        return rng.normal(size=(self.m, 10)) * self.scale, rng.normal(size=(self.m, 1))

    def forward(self, p, x):
        cols = np.stack([x[:, i:i + 3] for i in range(8)], axis=1)  # (m, 8, 3)
        z = cols @ p["w"] + p["c"]
        a = np.maximum(z, 0)
        pooled = a.reshape(len(x), 4, 2).max(axis=2)
        return cols, z, a, pooled, pooled @ p["V"]

    def loss(self, p, x, y):
        return np.mean((self.forward(p, x)[-1] - y) ** 2)

    def grads(self, p, x, y):
        p, bug = self.cast(p), self.bug
        cols, z, a, pooled, out = self.forward(p, x)
        dout = 2 * (out - y) / len(x)
        g = {"V": pooled.T @ dout}
        dpooled = dout @ p["V"].T
        pairs = a.reshape(len(x), 4, 2)
        first = np.zeros_like(pairs)
        first[..., 0] = 1
        win = first if bug == "pool_first" else (pairs == pairs.max(2, keepdims=True))
        da = (win * dpooled[..., None]).reshape(len(x), 8)
        dz = da * (z > 0)
        g["w"] = np.einsum("mi,mik->k", dz, cols)
        if bug == "flipped_kernel":
            g["w"] = g["w"][::-1]
        g["c"] = dz.sum(0) if bug == "bias_not_summed" else dz.sum()
        if bug == "sign":
            g["V"] = -g["V"]
        return g


class DropoutHuber(Net):
    """sigmoid hidden layer, dropout with a fixed mask (keep 0.8, inverted), linear output,
    Huber loss (delta 1) averaged over the batch."""

    keep = 0.8

    def init_params(self, rng):
        return {"W1": rng.normal(size=(3, 6)), "b1": np.zeros(6), "W2": rng.normal(size=(6, 1))}

    def batch(self, rng):
        x = rng.normal(size=(self.m, 3)) * self.scale
        return x, 3 * rng.normal(size=(self.m, 1))

    def mask(self, m):
        return (np.random.default_rng(123).uniform(size=(m, 6)) < self.keep).astype(float)

    def forward(self, p, x):
        z = x @ p["W1"] + p["b1"]
        a = _sigmoid(z)
        d = a * self.mask(len(x)) / self.keep
        return z, a, d, d @ p["W2"]

    def loss(self, p, x, y):
        r = self.forward(p, x)[-1] - y
        ar = np.abs(r)
        return np.mean(np.where(ar <= 1, 0.5 * r ** 2, ar - 0.5))

    def grads(self, p, x, y):
        p, bug = self.cast(p), self.bug
        _, a, d, out = self.forward(p, x)
        r = out - y
        dr = (np.sign(r) if bug == "l1_derivative" else np.clip(r, -1, 1)) / len(x)
        g = {"W2": d.T @ dr}
        dd = dr @ p["W2"].T
        if bug == "forgot_mask":
            da = dd / self.keep
        elif bug == "forgot_keep":
            da = dd * self.mask(len(x))
        else:
            da = dd * self.mask(len(x)) / self.keep
        if bug == "wrong_point":
            s = _sigmoid(a)
            dz = da * s * (1 - s)
        else:
            dz = da * a * (1 - a)
        g["W1"], g["b1"] = x.T @ dz, dz.sum(0)
        if bug == "sign":
            g["W1"] = -g["W1"]
        return g


class LogisticSum(Net):
    """Logistic regression, BCE with logits summed over the batch (not averaged); ``w`` is a
    column (in, 1), ``b`` a number."""

    def init_params(self, rng):
        return {"w": rng.normal(size=(4, 1)), "b": np.array(0.2)}

    def batch(self, rng):
        return rng.normal(size=(self.m, 4)) * self.scale, rng.integers(0, 2, (self.m, 1)) * 1.0

    def loss(self, p, x, y):
        z = x @ p["w"] + p["b"]
        return np.sum(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))

    def grads(self, p, x, y):
        p, bug = self.cast(p), self.bug
        z = x @ p["w"] + p["b"]
        dz = _sigmoid(z) - y
        if bug == "sign_delta":
            dz = -dz
        if bug == "averaged":
            dz = dz / len(x)
        if bug == "broadcast":
            dz = _sigmoid(z) - y.ravel()  # (m, 1) - (m,) is (m, m)
            dz = dz.mean(1, keepdims=True)
        g = {"w": x.T @ dz, "b": dz.sum()}
        if bug == "factor2":
            g = {n: 2 * v for n, v in g.items()}
        return g


class SquareSigmoid(Net):
    """Two sigmoid layers with square (out, in) weights, ``h = sigmoid(W x)`` on column
    vectors, squared error / 2 summed; a gradient accumulated in a buffer that the learner
    forgets to zero between calls is planted as ``accumulate``."""

    def init_params(self, rng):
        return {"W1": rng.normal(size=(3, 3)), "W2": rng.normal(size=(3, 3))}

    def batch(self, rng):
        return rng.normal(size=(3, self.m)) * self.scale, rng.uniform(0, 1, size=(3, self.m))

    def loss(self, p, X, Y):
        A2 = _sigmoid(p["W2"] @ _sigmoid(p["W1"] @ X))
        return 0.5 * np.sum((A2 - Y) ** 2)

    def fresh(self, p, X, Y):
        A1 = _sigmoid(p["W1"] @ X)
        A2 = _sigmoid(p["W2"] @ A1)
        dZ2 = (A2 - Y) * A2 * (1 - A2)
        dZ1 = (p["W2"].T @ dZ2) * A1 * (1 - A1)
        return {"W1": dZ1 @ X.T, "W2": dZ2 @ A1.T}

    def grads(self, p, X, Y):
        p, bug = self.cast(p), self.bug
        g = self.fresh(p, X, Y)
        if bug == "accumulate":  # a buffer from an earlier call, not zeroed
            if not hasattr(self, "buffer"):
                self.buffer = {n: np.zeros_like(v) for n, v in g.items()}
                for n in g:
                    self.buffer[n] += g[n]
            for n in g:
                self.buffer[n] += g[n]
            g = {n: v.copy() for n, v in self.buffer.items()}
        if bug == "swapped":
            g["W1"], g["W2"] = g["W2"], g["W1"]
        if bug == "transposed_square":
            g["W2"] = g["W2"].T
        if bug == "sign":
            g["W1"] = -g["W1"]
        return g


# ============================================================================ cases
@dataclass(frozen=True)
class Case:
    """A net with one planted mistake: the parameters it makes wrong and the hint kinds that
    would name it (empty: no kind fits, the hint should be absent)."""

    net: type
    bug: str | None
    wrong: frozenset
    kinds: frozenset = frozenset()
    options: tuple = ()

    @property
    def id(self) -> str:
        extra = "".join(f",{k}={v}" for k, v in self.options)
        return f"{self.net.__name__}:{self.bug or 'correct'}{extra}"

    def make(self) -> Net:
        return self.net(self.bug, **dict(self.options))


def _case(net, bug, wrong="", kinds=(), **options):
    return Case(net, bug, frozenset(wrong.split()), frozenset(kinds), tuple(options.items()))


def _correct(net):
    """A right backprop must pass: in float64, in float32, with badly scaled inputs."""
    return [_case(net, None), _case(net, None, dtype=np.float32), _case(net, None, scale=30.0),
            _case(net, None, scale=1e-3)]


DEV = [
    *_correct(SoftmaxRegression),
    _case(SoftmaxRegression, "sign", "W", [SIGN]),
    _case(SoftmaxRegression, "no_mean", "W b", [FACTOR]),
    _case(SoftmaxRegression, "factor2", "b", [FACTOR]),
    _case(SoftmaxRegression, "transposed", "W", [TRANSPOSED]),
    _case(SoftmaxRegression, "bias_not_summed", "b", [SHAPE]),
    _case(SoftmaxRegression, "broadcast", "W b"),
    *_correct(TanhL2),
    _case(TanhL2, "sign", "W2", [SIGN]),
    _case(TanhL2, "sign_delta", "W1 b1 W2 b2", [SIGN]),  # the L2 term keeps its sign
    _case(TanhL2, "missing_derivative", "W1 b1", [MISSING]),
    _case(TanhL2, "wrong_point", "W1 b1"),
    _case(TanhL2, "missing_reg", "W1"),
    _case(TanhL2, "reg_factor2", "W2"),
    _case(TanhL2, "transposed_square", "W1", [TRANSPOSED]),
    _case(TanhL2, "transposed", "W2", [TRANSPOSED]),
    *_correct(ReluNet3),
    _case(ReluNet3, "mask_of_output", ""),
    _case(ReluNet3, "sign", "b2", [SIGN]),
    _case(ReluNet3, "sign_delta", "W1 b1 W2 b2 W3 b3", [SIGN]),
    _case(ReluNet3, "factor2", "W1 b1 W2 b2 W3 b3", [FACTOR]),
    _case(ReluNet3, "missing_derivative", "W1 b1 W2 b2", [MISSING]),
    _case(ReluNet3, "wrong_point", "W1 b1 W2 b2"),
    _case(ReluNet3, "bias_not_summed", "b1", [SHAPE]),
    _case(ReluNet3, "bias_vector", "b1", [SHAPE]),
    _case(ReluNet3, "transposed_square", "W2", [TRANSPOSED]),
    *_correct(ColumnNg),
    _case(ColumnNg, "sign", "b1", [SIGN]),
    _case(ColumnNg, "missing_mean_W2", "W2", [FACTOR]),
    _case(ColumnNg, "extra_output_derivative", "W1 b1 W2 b2"),
    _case(ColumnNg, "wrong_point", "W1 b1"),
    _case(ColumnNg, "missing_derivative", "W1 b1", [MISSING]),
    _case(ColumnNg, "transposed", "W1", [TRANSPOSED]),
    _case(ColumnNg, "wrong_axis", "b1", [SHAPE]),
    *_correct(BatchNormNet),
    _case(BatchNormNet, "sign", "beta", [SIGN]),
    _case(BatchNormNet, "factor2", "W", [FACTOR]),
    _case(BatchNormNet, "constant_stats", "W"),
    _case(BatchNormNet, "constant_var", "W"),
    _case(BatchNormNet, "gamma_not_summed", "gamma", [SHAPE]),
    *_correct(AttentionHead),
    _case(AttentionHead, "sign", "Wq", [SIGN]),
    _case(AttentionHead, "swapped", "Wq Wk", [SWAPPED]),
    _case(AttentionHead, "transposed_square", "Wv", [TRANSPOSED]),
    _case(AttentionHead, "missing_scale", "Wq Wk", [FACTOR]),
    _case(AttentionHead, "softmax_diagonal", "Wq Wk"),
]

HELD_OUT = [
    *_correct(RNNCell),
    _case(RNNCell, "sign", "Wy", [SIGN]),
    _case(RNNCell, "missing_derivative", "Wx Wh b", [MISSING]),
    _case(RNNCell, "overwrite", "Wx Wh b", [dg.ZERO_GRADIENT]),  # dWh ends as h0.T @ dz = 0
    _case(RNNCell, "truncated", "Wx Wh b"),
    _case(RNNCell, "transposed_square", "Wh", [TRANSPOSED]),
    *_correct(Conv1dPool),
    _case(Conv1dPool, "sign", "V", [SIGN]),
    _case(Conv1dPool, "flipped_kernel", "w"),
    _case(Conv1dPool, "pool_first", "w c"),
    _case(Conv1dPool, "bias_not_summed", "c", [SHAPE]),
    *_correct(DropoutHuber),
    _case(DropoutHuber, "sign", "W1", [SIGN]),
    _case(DropoutHuber, "forgot_mask", "W1 b1"),
    _case(DropoutHuber, "forgot_keep", "W1 b1", [FACTOR]),
    _case(DropoutHuber, "wrong_point", "W1 b1"),
    _case(DropoutHuber, "l1_derivative", "W1 b1 W2"),
    *_correct(LogisticSum),
    _case(LogisticSum, "sign_delta", "w b", [SIGN]),
    _case(LogisticSum, "averaged", "w b", [FACTOR]),
    _case(LogisticSum, "factor2", "w b", [FACTOR]),
    _case(LogisticSum, "broadcast", "w"),  # the bias gradient comes out right
    *_correct(SquareSigmoid),
    _case(SquareSigmoid, "accumulate", "W1 W2", [FACTOR]),
    _case(SquareSigmoid, "swapped", "W1 W2", [SWAPPED]),
    _case(SquareSigmoid, "transposed_square", "W2", [TRANSPOSED]),
    _case(SquareSigmoid, "sign", "W1", [SIGN]),
]


# ============================================================================ grading
@dataclass
class Outcome:
    """How the checker did on one case."""

    case: Case
    flagged: frozenset
    hint: str  # "right", "absent" or "wrong"
    told: tuple  # the kinds of the stories it told
    report: object

    @property
    def missed(self) -> frozenset:
        return self.case.wrong - self.flagged

    @property
    def false_alarms(self) -> frozenset:
        return self.flagged - self.case.wrong


def stories(report) -> list:
    """What the checker tells about the mistake: each failing row's best hypothesis and
    every cross-parameter hypothesis of medium confidence or more, unless it is vague."""
    out = [r.diagnosis for r in report if not r.passed and r.diagnosis is not None]
    out += [h for h in report.hypotheses if h.rank >= 2]
    return [h for h in out if not h.vague]  # an unnamed factor says that, not why


def grade(case: Case, report) -> Outcome:
    flagged = frozenset(r.name for r in report if not r.passed)
    told = tuple(sorted({h.kind for h in stories(report)} - NEUTRAL))
    if not told:
        hint = "absent"
    elif set(told) <= case.kinds:
        hint = "right"
    else:
        hint = "wrong"
    return Outcome(case, flagged, hint, told, report)


def changed(case: Case) -> frozenset:
    """The parameters whose gradient the planted mistake changes on this batch (a mistake
    can be invisible on a batch: the Huber loss's clip is the sign when every residual is
    over 1)."""
    params, x, y = case.make().problem()
    right = case.net(None, **dict(case.options)).grads(params, x, y)
    hand = case.make().grads(params, x, y)
    return frozenset(n for n in right if np.shape(hand[n]) != np.shape(right[n])
                     or not np.allclose(hand[n], right[n], rtol=1e-6, atol=1e-12))


def audit(case: Case, check: Callable = check_gradients) -> Outcome:
    net = case.make()
    params, x, y = net.problem()
    return grade(case, check(net, params, x, y))


def table(cases) -> tuple[list[str], dict]:
    """One line per case and the counts."""
    lines, counts = [], {"right": 0, "absent": 0, "wrong": 0, "missed": 0, "false alarms": 0}
    for case in cases:
        try:
            o = audit(case)
        except Exception as e:
            lines.append(f"{case.id:45s} CRASH {type(e).__name__}: {e}")
            counts["crash"] = counts.get("crash", 0) + 1
            continue
        counts[o.hint] += 1
        counts["missed"] += bool(o.missed)
        counts["false alarms"] += bool(o.false_alarms)
        flag = "" if not (o.missed or o.false_alarms) else (
            f" MISSED {sorted(o.missed)}" if o.missed else "") + (
            f" FALSE {sorted(o.false_alarms)}" if o.false_alarms else "")
        lines.append(f"{case.id:45s} {o.hint:6s} told={list(o.told)} want={sorted(case.kinds)}"
                     f"{flag}")
    return lines, counts


if __name__ == "__main__":
    for title, cases in (("dev", DEV), ("held-out", HELD_OUT)):
        lines, counts = table(cases)
        print(f"== {title}: {len(cases)} cases: {counts}")
        print("\n".join(lines))
