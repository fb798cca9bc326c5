"""The homework checker: a hand-written backprop against autograd and central differences.

You give the loss you wrote in numpy, ``loss(params, x, y)``, your backprop
``grads(params, x, y) -> {name: array}``, the parameters (a dict name -> array) and a batch.
The checker computes three gradients of the *same* loss:

* yours;
* autograd's, by calling your numpy loss on Tensors (numpy functions such as ``np.tanh``,
  ``np.dot``, ``np.concatenate`` and ``@`` dispatch to differentiable Tensor ops);
* central differences, on every entry or on ``max_entries_per_param`` sampled ones per
  parameter (biases included; the sample is seeded).

Each parameter gets a row with CS231n's relative error against the numerical gradient and
against autograd, a verdict (see :mod:`.report`) and, when it is wrong, the hypotheses that fit
(see :mod:`.diagnose` for the rules). Autograd is the reference when it agrees with the
numerical gradient; where they disagree the checker looks for a kink (one-sided differences
that do not converge: ReLU at 0, not your mistake) or for noise in the numerical derivative
(its error moves tenfold when ``eps`` changes); otherwise it trusts the numerical gradient and
says that autograd could not follow the loss (a parameter turned into a plain array by
``np.asarray``/``float``, or a numpy function without a gradient).

A small error that is only rounding passes, with a note: every difference from autograd within
64 float32 ulps of the parameter's largest gradient entry (float32 values somewhere in the
backprop, or a loss that loses digits to cancellation, such as a saturated softmax).

Hypotheses that need the whole loss, not one parameter:

* **a different loss**: pass ``alternative_losses={"cross-entropy": fn, ...}``; with a net
  object, its other methods named ``*_loss`` are tried too.
* **missing activation derivative** (built in, needs autograd): the checker walks the graph of
  your loss from the loss backwards and collects the activations — tinygrad_edu's ``tanh``,
  ``sigmoid``, ``relu``, ``leaky_relu``, ``elu``, ``softplus`` ops (``np.tanh`` is one), a relu
  written as ``np.maximum(z, 0)``, and a sigmoid written out as ``1 / (1 + np.exp(-z))``. For
  each, nearest to the loss first (the first is the *output* activation), it computes the
  gradient with that activation's derivative replaced by 1: ``g - J_H^T dL/dH + J_z^T dL/dH``
  for ``H = act(z)``. A match means your delta skips that derivative. An activation written
  any other way is not found.
* **stale weights** (needs autograd; see :mod:`.stale`): for a wrong parameter ``p``, the
  loss is recorded, then the other parameters are overwritten *in the recorded graph* by
  ``q - lr * your_grad_q`` before backward, so backward reads updated weights where forward
  used the old ones. The rate is ``lr=`` (or a net's ``lr``/``rate``) when given and fits,
  else inferred from your gradients, together with a common factor (the ½ of a squared
  error, a sign). A match means your backprop used weights already updated in this step;
  the checker names which ones.

Checks of the loss itself (see :mod:`.loss_probes`):

* **a rounded loss**: if the loss does not move at all at ``eps`` along a random direction
  (where your gradient says it should) but does at a larger step, it is piecewise constant;
  every row is ``unchecked`` and the diagnosis says where to look.
* **a fixed normaliser**: on a batch of two or more samples the loss is also evaluated on the
  batch repeated twice and on its halves; a loss that is not a mean, and divides by a number
  it reads from a global (or enclosing) name, is named — also when the gradients check,
  because the backprop divides by the same number.

>>> import numpy as np
>>> def loss(p, x, y):
...     return np.sum((np.tanh(x @ p["W"]) - y) ** 2) / len(x)
>>> def grads(p, x, y):                       # forgets the factor 2 of the square
...     h = np.tanh(x @ p["W"])
...     return {"W": x.T @ ((h - y) * (1 - h * h)) / len(x)}
>>> rng = np.random.default_rng(0)
>>> x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
>>> report = check_gradients(loss, grads, {"W": rng.normal(size=(3, 2))}, x, y)
>>> report.passed
False
>>> print(report["W"].diagnosis.message)
W: hand-written = 0.5 × the true gradient (factor 1/2: a lost 2, d(err**2)/d(out) = 2*err?)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..autograd.engine import grad as _grad
from ..lost_gradient import LostGradientError
from ..numpy_mode import trace
from ..tensor import Tensor
from . import diagnose as dg
from . import loss_probes, numeric
from .report import GradientReport, ParamCheck, relative_error, verdict_for
from .stale import stale_weights

LossFn = Callable[[Mapping[str, Any], Any, Any], Any]
GradsFn = Callable[[Mapping[str, np.ndarray], Any, Any], Mapping[str, Any]]

F32_ULPS = 64  # a right backprop with float32 values in it is this close to autograd (in ulps)
_ACTIVATION_OPS = {"Tanh": "tanh", "Sigmoid": "sigmoid", "Relu": "relu",
                   "LeakyRelu": "leaky_relu", "Elu": "elu", "Softplus": "softplus"}


def _is_net(obj: Any) -> bool:
    return callable(getattr(obj, "loss", None)) and callable(getattr(obj, "grads", None))


def check_gradients(
    loss: LossFn | Any,
    grads: GradsFn | Mapping | None = None,
    params: Mapping[str, Any] | None = None,
    x: Any = None,
    y: Any = None,
    *,
    eps: float = 1e-6,
    max_entries_per_param: int | None = None,
    seed: int = 0,
    alternative_losses: Mapping[str, LossFn] | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
) -> GradientReport:
    """Check a hand-written gradient against autograd and central differences.

    Two forms: ``check_gradients(loss, grads, params, x, y)`` with functions, and
    ``check_gradients(net, params, x, y)`` with an object that has ``.loss(params, x, y)``
    and ``.grads(params, x, y)`` (its ``lr``/``rate`` attribute and its other ``*_loss``
    methods are used by the diagnosis). ``params`` maps names to arrays (converted to
    float64); ``x`` and ``y`` are passed to both functions as given.

    ``max_entries_per_param`` caps the numerical check per parameter (a seeded sample);
    ``alternative_losses`` maps names to losses the backprop might differentiate instead;
    ``lr`` is the rate for the stale-weights test (inferred when not given or when it does
    not fit); ``batch_size`` names factors of ``m`` (by default
    ``len(x)`` for a 2-D or larger ``x``). Returns a :class:`GradientReport`.

    >>> import numpy as np
    >>> from tinygrad_edu.seeds import Seed000Net, seed000
    >>> net = Seed000Net(bugs={seed000.ASCENT_SIGN})
    >>> report = check_gradients(net, net.init_params(), np.array([0.5, 0.5]), np.array(0.25))
    >>> report.passed, report.diagnosis.kind
    (False, 'sign')
    """
    alternatives = dict(alternative_losses or {})
    if _is_net(loss) and not callable(grads):
        net = loss
        if grads is not None:  # check_gradients(net, params, x, y): shift the positionals
            rest = [v for v in (params, x, y) if v is not None]
            if len(rest) != 2:
                raise TypeError("check_gradients(net, params, x, y): give params, x and y")
            params, (x, y) = grads, rest
        loss, grads = net.loss, net.grads
        if lr is None:
            lr = getattr(net, "lr", None) or getattr(net, "rate", None)
        for attr in dir(type(net)):
            if attr.endswith("_loss") and not attr.startswith("_") and attr not in alternatives:
                fn = getattr(net, attr, None)
                if callable(fn):
                    alternatives[attr] = fn
    if params is None or not callable(loss) or not callable(grads):
        raise TypeError("check_gradients(loss, grads, params, x, y): loss and grads must be "
                        "functions (or pass a net with .loss and .grads first)")
    if batch_size is None and np.ndim(x) >= 2:
        batch_size = _samples(np.shape(x), np.shape(y) if y is not None else ())
    return _Checker(loss, grads, params, x, y, eps, max_entries_per_param, seed, alternatives,
                    lr, batch_size).run()


check_backprop = check_gradients


def _samples(xs: tuple, ys: tuple) -> int:
    """The number of samples in ``x``: its rows, unless ``y`` disagrees with them and agrees
    with its columns (one sample per column, as deeplearning.ai's X of shape (n_x, m))."""
    if ys and ys[0] != xs[0] and ys[-1] == xs[-1]:
        return int(xs[-1])
    return int(xs[0])
"""The name used in the issue; the same function as :func:`check_gradients`."""


def _scalar(value: Any) -> float:
    if isinstance(value, Tensor):
        value = value.data
    arr = np.asarray(value, dtype=np.float64)
    if arr.size != 1:
        raise ValueError(f"the loss must be a single number, got shape {arr.shape}")
    return float(arr.reshape(()))


class _Checker:
    def __init__(self, loss: LossFn, grads: GradsFn, params: Mapping[str, Any], x: Any, y: Any,
                 eps: float, max_entries: int | None, seed: int,
                 alternatives: Mapping[str, LossFn], lr: float | None,
                 batch_size: int | None) -> None:
        self.loss, self.grads, self.x, self.y = loss, grads, x, y
        self.eps, self.max_entries, self.seed = eps, max_entries, seed
        self.alternatives, self.lr, self.batch_size = alternatives, lr, batch_size
        self.names = list(params)
        self.P = {n: np.array(params[n], dtype=np.float64, copy=True) for n in self.names}
        self.notes: list[str] = []

    # ------------------------------------------------------------------ evaluation
    def f(self, P: Mapping[str, np.ndarray]) -> float:
        return _scalar(self.loss(dict(P), self.x, self.y))

    def loss_dtype(self) -> np.dtype:
        """The dtype the loss is computed in (float32 makes central differences useless)."""
        value = self.loss({n: v.copy() for n, v in self.P.items()}, self.x, self.y)
        dtype = np.asarray(value.data if isinstance(value, Tensor) else value).dtype
        return dtype if dtype.kind == "f" else np.dtype(np.float64)

    def autograd(self, loss: LossFn | None = None) -> tuple[Any, dict, dict[str, np.ndarray],
                                                          dict[str, bool]]:
        """Record ``loss`` on Tensors with numpy's meaning (see :mod:`tinygrad_edu.numpy_mode`);
        return (loss tensor, tensors, gradients, unused)."""
        L, TP, _ = trace(loss or self.loss, ({n: self.P[n] for n in self.names}, self.x, self.y))
        if not isinstance(L, Tensor):
            raise TypeError(f"on Tensor parameters the loss returned {type(L).__name__}, not a "
                            "Tensor: it converts them to arrays somewhere")
        if L.data.size != 1:
            raise ValueError(f"the loss must be a single number, got shape {L.shape}")
        if not L.requires_grad:
            raise TypeError("the loss on Tensor parameters does not require grad: it does not "
                            "depend on them through differentiable operations")
        gs = _grad(L, [TP[n] for n in self.names], retain_graph=True, allow_unused=True)
        G = {n: (np.zeros(self.P[n].shape) if g is None else np.array(g.data, dtype=np.float64))
             for n, g in zip(self.names, gs)}
        unused = {n: g is None for n, g in zip(self.names, gs)}
        return L, TP, G, unused

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if self.max_entries is None or size <= self.max_entries:
            return np.arange(size)
        return np.sort(rng.choice(size, self.max_entries, replace=False))

    # ------------------------------------------------------------------ the run
    def run(self) -> GradientReport:
        raw = self.grads({n: v.copy() for n, v in self.P.items()}, self.x, self.y)
        if not isinstance(raw, Mapping):
            raise TypeError(f"grads must return a dict name -> array, got {type(raw).__name__}")
        H = {n: np.asarray(raw[n], dtype=np.float64) for n in self.names if n in raw}
        extra = [k for k in raw if k not in self.P]
        if extra:
            self.notes.append(f"grads returned names that are not parameters: {extra}")
        self.H = H
        f0 = self.f(self.P)
        dtype = self.loss_dtype()
        self.floor_num = numeric.rounding_noise(f0, self.eps, dtype)
        if dtype != np.float64:
            self.notes.append(
                f"the loss is computed in {dtype.name}: central differences with eps="
                f"{self.eps:g} cannot resolve differences below ~{self.floor_num:.0e}, so the "
                "numerical check is weak; compute the loss in float64")
        try:
            self.L, self.TP, R, self.unused = self.autograd()
        except LostGradientError as e:  # float(), math.exp, "%.3f" % v... on a parameter
            self.L, R, self.unused = None, None, {}
            self.notes.append(f"autograd could not follow your loss: {e} Until then the "
                              "numerical gradient is the reference.")
        except Exception as e:  # any other failure of the user's loss on Tensors
            self.L, R, self.unused = None, None, {}
            self.notes.append(f"autograd could not run the loss on Tensors "
                              f"({type(e).__name__}: {e}); the numerical gradient is the "
                              "reference")
        self.R = R
        scale = max([float(np.max(np.abs(a), initial=0.0)) for a in [*H.values(),
                    *(R or {}).values()]] + [1e-300])
        self.floor_exact = 64 * float(np.finfo(dtype).eps) * scale
        self.rounded_at = loss_probes.piecewise_constant(self.f, self.P, f0, self.eps,
                                                         self.expected_slope, self.seed)
        rng = np.random.default_rng(self.seed)
        rows = [self.row(n, rng, f0) for n in self.names]
        hypotheses = self.overall(rows)
        return GradientReport(rows, hypotheses, loss=f0, eps=self.eps, notes=self.notes)

    def expected_slope(self, u: Mapping[str, np.ndarray]) -> float:
        """How fast the hand-written (or autograd's) gradient says the loss moves along u."""
        slopes = [sum(float(np.sum(g[n] * u[n])) for n in self.names
                      if n in g and np.shape(g[n]) == np.shape(u[n]))
                  for g in (self.H, self.R or {})]
        return max(abs(v) for v in slopes)

    def row(self, name: str, rng: np.random.Generator, f0: float) -> ParamCheck:
        P, eps = self.P, self.eps
        idx = self.sample(rng, P[name].size)
        d = numeric.partial_derivatives(self.f, P, name, idx, eps, f0)
        hand = self.H.get(name)
        auto = None if self.R is None else self.R[name]
        row = ParamCheck(name, P[name].shape, hand, auto, idx, d.central)
        # which entries of the numerical gradient can be trusted
        kinks = self.kink_entries(name, d, hand, auto)
        ref_auto = auto is not None and self.autograd_trusted(row, d, kinks)
        if hand is None:
            row.verdict = "missing"
            row.hypotheses.append(dg.Hypothesis(dg.SHAPE, f"{name}: grads returned no gradient "
                                                f"for {name}", "high", 1.0, (name,)))
            return row
        if hand.shape != P[name].shape:
            row.verdict = "wrong shape"
            row.reference = "autograd" if ref_auto else "numerical"
            true = auto if ref_auto else d.central
            row.hypotheses += dg.diagnose_param(name, hand, true, shape=P[name].shape,
                                                indices=None if ref_auto else idx)
            return row
        h_idx = hand.ravel()[idx]
        rel_num = relative_error(h_idx, d.central, self.floor_num)
        row.rel_error = float(rel_num.max(initial=0.0))
        explained = kinks & _matches_one_side(h_idx, d, self.floor_num)
        floor = self.floor_exact
        if ref_auto:
            rel = relative_error(hand, auto, floor)
            if 1e-7 < float(rel.max(initial=0.0)) <= 1e-2:
                floor, rel = self.rounding_floor(row, hand, auto, floor, rel)
            row.rel_error_autograd = float(rel.max(initial=0.0))
            rest = rel.ravel().copy()
            rest[idx[explained]] = 0.0  # at a kink, either one-sided slope is a right answer
            w = int(np.argmax(rel)) if rel.size else 0
            row.abs_error = float(np.max(np.abs(hand - auto), initial=0.0))
            pos = np.searchsorted(idx, w)
            n_val = float(d.central[pos]) if pos < len(idx) and idx[pos] == w else float(
                numeric.partial_derivatives(self.f, P, name, np.array([w]), eps, f0).central[0])
            row.worst = (np.unravel_index(w, P[name].shape), float(hand.flat[w]), n_val,
                         float(auto.flat[w]))
            verdict = verdict_for(float(rest.max(initial=0.0)))
            if verdict == "correct" and kinks.any() and (
                    explained.any() or verdict_for(row.rel_error) != "correct"):
                verdict = "kink"
            true, indices = auto, None
        else:
            if auto is not None:
                row.rel_error_autograd = float(relative_error(hand, auto, floor).max(
                    initial=0.0))
            rel_rest = np.where(explained, 0.0, rel_num)
            w = int(np.argmax(rel_num)) if rel_num.size else 0
            row.abs_error = float(np.max(np.abs(h_idx - d.central), initial=0.0))
            row.worst = (np.unravel_index(int(idx[w]), P[name].shape), float(h_idx[w]),
                         float(d.central[w]), None if auto is None else float(auto.flat[idx[w]]))
            verdict = verdict_for(float(rel_rest.max(initial=0.0)))
            if verdict == "correct" and explained.any():
                verdict = "kink"
            true, indices = d.central, idx
            row.reference = "numerical"
        row.verdict = verdict
        if self.rounded_at is not None:
            row.verdict = "unchecked"  # a rounded loss has no gradient to compare with
            return row
        if kinks.any():
            row.hypotheses.append(self.kink_hypothesis(name, idx[kinks], h_idx[kinks], d, kinks))
        if not row.passed:
            row.hypotheses += dg.diagnose_param(
                name, hand, true, shape=P[name].shape, indices=indices,
                unused=self.unused.get(name, False) and ref_auto,
                floor=floor if ref_auto else self.floor_num, batch_size=self.batch_size, lr=self.lr)
            top = row.diagnosis
            if top is not None and (top.kind == dg.PRECISION
                                    or (top.kind == dg.ROUNDING and top.rank >= 2)):
                row.verdict = "suspicious"  # a precision problem, not a wrong formula
        return row

    # ------------------------------------------------------------------ rounding floors
    def rounding_floor(self, row: ParamCheck, hand: np.ndarray, auto: np.ndarray,
                       floor: float, rel: np.ndarray) -> tuple[float, np.ndarray]:
        """A small error that is only rounding: every difference within :data:`F32_ULPS`
        float32 ulps of this parameter's largest gradient entry (float32 values somewhere in
        the backprop, or a loss that loses digits to cancellation). Then the row passes,
        with a note; else the floor and errors stay as they were."""
        largest = float(np.max(np.abs(auto), initial=0.0))
        loose = F32_ULPS * float(np.finfo(np.float32).eps) * largest
        rel_loose = relative_error(hand, auto, loose)
        if loose <= floor or verdict_for(float(rel_loose.max(initial=0.0))) != "correct":
            return floor, rel
        off = float(np.max(np.abs(hand - auto)))
        row.notes.append(
            f"{row.name} differs from autograd by up to {off:.1e} ({off / largest:.1e} of its "
            "largest entry): float32-sized rounding — float32 values somewhere in the "
            "backprop, or a loss that loses digits to cancellation — not a wrong formula")
        return loose, rel_loose

    # ------------------------------------------------------------------ numerical trust
    def kink_entries(self, name: str, d: numeric.Differences, hand: np.ndarray | None,
                     auto: np.ndarray | None) -> np.ndarray:
        """Checked entries where ``x +- eps`` straddles a kink (only entries that disagree
        with the hand-written or autograd gradient are examined)."""
        suspects = np.zeros(len(d.indices), dtype=bool)
        for g in (hand, auto):
            if g is not None and g.shape == self.P[name].shape:
                suspects |= relative_error(g.ravel()[d.indices], d.central, self.floor_num) > 1e-7
        if not suspects.any():
            return suspects
        small = numeric.partial_derivatives(self.f, self.P, name, d.indices[suspects],
                                            self.eps / 10)
        out = np.zeros_like(suspects)
        for k, i in enumerate(np.flatnonzero(suspects)):
            out[i] = numeric.is_kink(d.left[i], d.central[i], d.right[i], small.left[k],
                                     small.central[k], small.right[k]) and \
                abs(d.right[i] - d.left[i]) > 100 * self.floor_num
        return out

    def autograd_trusted(self, row: ParamCheck, d: numeric.Differences,
                         kinks: np.ndarray) -> bool:
        """Autograd agrees with the numerical gradient (away from kinks, up to its noise)."""
        name = row.name
        a = self.R[name].ravel()[d.indices]
        rel = relative_error(a, d.central, self.floor_num)
        bad = (rel > 1e-4) & ~kinks
        if not bad.any():
            if ((rel > 1e-7) & ~kinks).any():
                row.notes.append(self.noise_note(name, d, a, rel > 1e-7))
            return True
        # does the numerical gradient move towards autograd with a larger eps?
        for factor in (100.0, 1e4):
            wider = numeric.partial_derivatives(self.f, self.P, name, d.indices[bad],
                                                self.eps * factor)
            rel_wide = relative_error(a[bad], wider.central, self.floor_num / factor)
            if np.all(rel_wide * 10 <= rel[bad]):
                row.hypotheses.append(dg.Hypothesis(
                    dg.NUMERICAL_NOISE, f"{name}: the numerical derivative is noisy at eps="
                    f"{self.eps:g} (relative error {rel[bad].max():.1e}, {rel_wide.max():.1e} "
                    f"at eps={self.eps * factor:g}): rounding in the loss, a limit of the "
                    "check, not of your gradient", "high", float(rel_wide.max()), (name,)))
                return True
        self.notes.append(
            f"autograd and central differences disagree on {name} (relative error up to "
            f"{rel[bad].max():.1e}): the loss turns {name} into a plain array somewhere "
            "(np.asarray, float, .data) or uses a numpy function without a gradient; the "
            f"numerical gradient is the reference for {name}")
        return False

    def noise_note(self, name: str, d: numeric.Differences, a: np.ndarray,
                   mask: np.ndarray) -> str:
        rel = relative_error(a[mask], d.central[mask], self.floor_num).max(initial=0.0)
        return (f"central differences differ from autograd by up to {rel:.1e} on {name}: "
                "numerical noise (the loss is large, or computed in float32)")

    def kink_hypothesis(self, name: str, flat: np.ndarray, h: np.ndarray,
                        d: numeric.Differences, mask: np.ndarray) -> dg.Hypothesis:
        where = [tuple(int(i) for i in np.unravel_index(f, self.P[name].shape))
                 for f in flat[:5]]
        sides = []
        for hv, lv, rv in zip(h, d.left[mask], d.right[mask]):
            sides.append("left" if abs(hv - lv) <= 1e-4 * max(abs(lv), 1e-12) else
                         "right" if abs(hv - rv) <= 1e-4 * max(abs(rv), 1e-12) else "neither")
        return dg.Hypothesis(
            dg.KINK, f"{name}: x±eps straddles a kink (ReLU, max, abs) at entries {where}: the "
            f"one-sided slopes differ (left {d.left[mask][0]:.6g}, right {d.right[mask][0]:.6g})"
            f" and the central difference averages them; the hand-written value matches the "
            f"{sides[0]} slope. A kink, not a wrong gradient", "high", 0.0, (name,),
            detail={"entries": where, "sides": sides})

    # ------------------------------------------------------------------ across parameters
    def overall(self, rows: list[ParamCheck]) -> list[dg.Hypothesis]:
        if self.rounded_at is not None:
            return self.rounded_loss(rows)
        wrong = [r for r in rows if not r.passed and r.hand is not None
                 and r.hand.shape == r.shape]
        out: list[dg.Hypothesis] = self.normalisation([r.name for r in wrong])
        if not wrong:
            return out
        names = [r.name for r in wrong]
        truth = {r.name: r.autograd if r.reference == "autograd" else None for r in wrong}
        ratios, cosines = {}, {}
        for r in wrong:
            g = truth[r.name]
            h, t = (r.hand, g) if g is not None else (r.hand.ravel()[r.indices], r.numeric)
            fit = dg.fit_factor(h, t)
            if fit and fit[1] <= dg.MATCH:
                ratios[r.name] = fit[0]
            nh, nt = float(np.linalg.norm(h)), float(np.linalg.norm(t))
            if nh > 0 and nt > 0:
                cosines[r.name] = float(np.ravel(h) @ np.ravel(t)) / (nh * nt)
        if len(ratios) == len(wrong):
            common = dg.common_factor(ratios, self.batch_size, self.lr)
            if common:
                out.append(common)
        out += self.swapped(rows, names)
        unused = [r.name for r in wrong if dg.WRONG_WEIGHTS in r.kinds]
        moving = {n: c for n, c in cosines.items() if n not in unused}
        if not any(h.params == tuple(ratios) for h in out) and \
                len(moving) == len(wrong) - len(unused):
            sign = dg.common_sign(moving)
            if sign:
                out.append(sign)
        if unused:
            out.append(dg.Hypothesis(
                dg.WRONG_WEIGHTS, f"the forward pass and the backprop disagree about which "
                f"weights are used: the loss does not depend on {', '.join(unused)}, which the "
                "backprop updates", "high", 1.0, tuple(unused)))
        out += self.candidate_losses(names)
        if self.L is not None:
            out += self.missing_derivative(names)
            stale = stale_weights(self.loss, self.P, self.H, self.R, self.x, self.y, names,
                                  self.lr, self.batch_size)
            if stale is not None:
                out.append(stale)
        done = {h.kind for h in out}
        rounded = [r.name for r in wrong if dg.ROUNDING in r.kinds]
        if rounded and dg.ROUNDING not in done and len(rounded) > 1:
            decimals = {h.detail.get("decimals") for r in wrong for h in r.hypotheses
                        if h.kind == dg.ROUNDING}
            conf = min((h.confidence for r in wrong for h in r.hypotheses
                        if h.kind == dg.ROUNDING), key=lambda c: dg._RANK[c])
            out.append(dg.Hypothesis(
                dg.ROUNDING, f"hand-written values are rounded ({', '.join(rounded)}: "
                f"multiples of 10^-{max(decimals)})", conf, 0.0, tuple(rounded),
                detail={"decimals": max(decimals)}))
        ok = [r.name for r in rows if r.passed]
        if ok:
            self.notes.append(f"correct: {', '.join(ok)}; wrong: {', '.join(names)} — look at "
                              "the backprop of the wrong ones first")
        # a vague story (an unnamed factor) that a mechanism explains is not told
        mechanisms = [h for h in out if not h.vague and h.kind != dg.SIGN]

        def explained(h: dg.Hypothesis) -> bool:
            return h.vague and any(set(h.params) <= set(m.params) and m.rank >= h.rank
                                   for m in mechanisms)

        out = [h for h in out if not explained(h)]
        for r in rows:
            r.hypotheses = [h for h in r.hypotheses if not explained(h)]
            for h in out:  # a correct row gets no story, even one that spans it
                if r.name in h.params and not r.passed and h not in r.hypotheses:
                    r.hypotheses.append(h)
        return dg.ranked(out)

    def swapped(self, rows: list[ParamCheck], wrong: list[str]) -> list[dg.Hypothesis]:
        """A wrong parameter's gradient that is another's (see :func:`.diagnose.swapped`),
        against every parameter whose whole true gradient is known: autograd's, or a
        numerical one that checked every entry."""
        true = {r.name: r.autograd if r.reference == "autograd" else
                r.numeric.reshape(r.shape) for r in rows
                if r.reference == "autograd" or r.n_checked == r.n_entries}
        return dg.swapped(self.H, true, [n for n in wrong if n in self.H])

    def rounded_loss(self, rows: list[ParamCheck]) -> list[dg.Hypothesis]:
        names = tuple(r.name for r in rows)
        h = dg.Hypothesis(
            dg.ROUNDING, f"the loss is rounded: it is piecewise constant — moving the "
            f"parameters by {self.eps:g} leaves it exactly unchanged, by {self.rounded_at:g} "
            "it changes. Something in the forward pass rounds (float(\"%.3f\" % v), round(v, 3), "
            "np.round, int(v)), so central differences see 0 and autograd no slope: no "
            "gradient can be checked against it. Remove the rounding from the loss (round "
            "only what you print), then check again", "high", 0.0, names,
            detail={"step": self.rounded_at})
        for r in rows:
            r.hypotheses = [h]
        return [h]

    def normalisation(self, wrong: list[str]) -> list[dg.Hypothesis]:
        """Whether the loss and the backprop divide by the batch size (see
        :func:`.loss_probes.normalisation`)."""
        if not self.batch_size or self.batch_size < 2:
            return []
        found, notes = loss_probes.normalisation(
            lambda P, x, y: _scalar(self.loss(dict(P), x, y)), self.loss, self.grads, self.P,
            self.H, self.x, self.y, wrong)
        self.notes += notes
        return found

    def candidate_losses(self, names: list[str]) -> list[dg.Hypothesis]:
        out = []
        for label, fn in self.alternatives.items():
            try:
                _, _, G, _ = self.autograd(fn)
            except Exception:
                try:
                    G = self.numerical_gradient(fn)
                except Exception as e:
                    self.notes.append(f"alternative loss {label!r} failed: {type(e).__name__}: {e}")
                    continue
            h = dg.match_candidate(self.H, G, self.names, dg.DIFFERENT_LOSS,
                                   f"the gradient of {label!r}", self.batch_size, self.lr,
                                   self.R)
            if h is not None:
                out.append(h)
        return out

    def numerical_gradient(self, fn: LossFn) -> dict[str, np.ndarray]:
        def f(P: Mapping[str, np.ndarray]) -> float:
            return _scalar(fn(dict(P), self.x, self.y))

        return {n: numeric.partial_derivatives(f, self.P, n, np.arange(self.P[n].size),
                                               self.eps).central.reshape(self.P[n].shape)
                for n in self.names}

    def missing_derivative(self, names: list[str]) -> list[dg.Hypothesis]:
        thetas = [self.TP[n] for n in self.names]
        for act, H, z in _activations(self.L):
            try:
                (gH,) = _grad(self.L, [H], retain_graph=True)
                via_h = _grad(H, thetas, grad_outputs=gH, retain_graph=True, allow_unused=True)
                via_z = _grad(z, thetas, grad_outputs=gH, retain_graph=True, allow_unused=True)
            except Exception:
                continue
            G = {}
            for n, a, b in zip(self.names, via_h, via_z):
                g = self.R[n].copy()
                if a is not None:
                    g -= np.asarray(a.data, dtype=np.float64)
                if b is not None:
                    g += np.asarray(b.data, dtype=np.float64)
                G[n] = g
            # the output activation: the loss depends on the parameters only through it
            through_h = {n: np.zeros(self.P[n].shape) if a is None else
                         np.asarray(a.data, dtype=np.float64) for n, a in zip(self.names, via_h)}
            output = all(dg.residual(through_h[n], self.R[n]) <= dg.MATCH for n in self.names)
            where = "the output activation" if output else "a hidden activation"
            label = (f"the gradient with the derivative of {where} ({act}, shape "
                     f"{tuple(H.shape)}) left out")
            if output and act == "sigmoid":
                label += " — for a squared error after a sigmoid, the cross-entropy gradient"
            near = dg.fit_factor(np.concatenate([np.ravel(self.H[n]) for n in names]),
                                 np.concatenate([np.ravel(self.R[n]) for n in names]))
            if near is not None and near[1] <= 1e-3:
                label += (f"; that derivative is about the same for every sample here, so "
                          f"hand-written ≈ {near[0]:.5g} × the true gradient")
            h = dg.match_candidate(self.H, G, self.names, dg.MISSING_ACTIVATION_DERIVATIVE,
                                   label, self.batch_size, self.lr, self.R)
            if h is not None:
                return [h]
        return []


def _matches_one_side(h: np.ndarray, d: numeric.Differences, floor: float) -> np.ndarray:
    return (relative_error(h, d.left, floor) <= 1e-4) | (relative_error(h, d.right, floor) <= 1e-4)


def _is_constant(v: Any, value: float) -> bool:
    if isinstance(v, Tensor):
        if v.requires_grad:
            return False
        v = v.data
    return np.ndim(v) == 0 and float(np.asarray(v)) == value


def _is_one(v: Any) -> bool:
    return _is_constant(v, 1.0)


def _is_zero(v: Any) -> bool:
    return _is_constant(v, 0.0)


def _op(t: Any) -> str | None:
    return t._ctx.name if isinstance(t, Tensor) and t._ctx is not None else None


def _activation_at(t: Tensor) -> tuple[str, Tensor] | None:
    """``(name, z)`` when ``t = act(z)`` for a known activation, else None."""
    name = _op(t)
    if name in _ACTIVATION_OPS:
        return _ACTIVATION_OPS[name], t._ctx.parents[0]
    if name == "Maximum":  # np.maximum(z, 0), the relu numpy code writes
        a, b = t._ctx.parents
        z = a if _is_zero(b) else b if _is_zero(a) else None
        if z is not None:
            return "relu", z
    if name == "Div":  # 1 / (1 + exp(-z))
        one, den = t._ctx.parents
        if _is_one(one) and _op(den) == "Add":
            a, b = den._ctx.parents
            e = b if _is_one(a) else a if _is_one(b) else None
            if _op(e) == "Exp" and _op(e._ctx.parents[0]) == "Neg":
                return "sigmoid", e._ctx.parents[0]._ctx.parents[0]
    return None


def _activations(root: Tensor) -> list[tuple[str, Tensor, Tensor]]:
    """``(name, H, z)`` for every activation ``H = act(z)`` in root's graph, nearest first
    (breadth-first, no recursion)."""
    found, seen, queue = [], {id(root)}, deque([root])
    while queue:
        t = queue.popleft()
        act = _activation_at(t)
        if act is not None and isinstance(act[1], Tensor) and act[1].requires_grad:
            found.append((act[0], t, act[1]))
        if t._ctx is None:
            continue
        for p in t._ctx.parents:
            if isinstance(p, Tensor) and p._ctx is not None and id(p) not in seen:
                seen.add(id(p))
                queue.append(p)
    return found
