"""What kind of mistake a wrong gradient looks like: the rules, one function each.

Every rule compares the hand-written gradient ``h`` with a candidate ``c`` built from the true
gradient ``g`` (autograd's, or central differences where autograd is not available) and
reports the *residual* ``||h - c|| / max(||h||, ||c||)`` (0/0 = 0). The residual sets the
confidence: ``high`` up to 1e-6 (the hypothesis explains the gradient to rounding error),
``medium`` up to 1e-3, ``low`` up to 5e-2 (it explains most of it; something else is wrong
too). Above that the hypothesis is dropped.

=========================  ===================================================================
rule (``kind``)            fires when
=========================  ===================================================================
``sign``                   ``h = k g`` with ``k < 0``: the sign first, then the size (``-1/2``
                           is "sign flipped, and a factor 1/2"). On a single number (a scalar
                           weight) ``-1`` could be a coincidence, so alone it is at most
                           ``medium``.
``factor``                 ``h = k g`` for one constant ``k > 0, k != 1`` (least squares fit).
                           Named when ``k`` is 2, 1/2 (the 2 of a squared error), the batch
                           size ``m``, ``1/m``, ``2m``, ``1/(2m)``, the learning rate or its
                           inverse, up to 1% (the rest is called rounding). Needs two or more
                           entries with a non-zero true gradient: any two numbers have a ratio.
                           Across parameters: the same ``k`` for all wrong parameters. An
                           unnamed ``k`` is a weak story: any mechanism that explains the same
                           parameters (a missing derivative ...) is preferred, and drops it.
``transposed``             ``h.T = g`` (up to a factor): shapes ``(a, b)`` vs ``(b, a)``, or a
                           square matrix that matches transposed and not as it is (its
                           diagonal is right, so "some entries wrong" is not said).
``shape``                  other shape mismatches: per-sample gradients not summed/averaged
                           (``h.sum(0)`` or ``h.mean(0)`` is ``g``), the right values in another
                           shape, or no relation.
``zero_gradient``          ``h`` is 0 at every checked entry and ``g`` is not: a gradient never
                           computed, or a sum over steps overwritten (``=`` for ``+=``) by a
                           term that is 0.
``swapped``                ``h`` of one parameter is the true gradient of another of the same
                           shape (both ways: the two gradients are swapped).
``wrong_weights``          the loss does not depend on the parameter (autograd finds no path,
                           or the true gradient is exactly 0), while ``h`` is not 0: the
                           backprop believes the forward uses a weight that it does not.
``some_entries``           some entries match to 1e-6 and others do not: which ones, and whether
                           they fill whole rows or columns.
``rounding``               every entry of ``h`` is a multiple of ``10**-d`` (``d <= 6``) and
                           within one such step of ``g``: values rounded to ``d`` decimals.
``precision``              a small error (relative 1e-7 .. 1e-2) that no other rule explains,
                           or ``h = k g`` with ``k`` within 1% of 1: rounding or low
                           precision, not a wrong formula.
``different_loss``         ``h`` (or ``k h``) is the gradient of an alternative loss you passed.
                           Like every candidate gradient below, it must explain ``h`` decisively
                           better than a constant factor of the true gradient does (a residual
                           10 times smaller), or it is not told.
``missing_activation_``    ``h`` is the gradient with one activation's derivative dropped
``derivative``             (see :mod:`.homework` for how the activation is found).
``stale_weights``          ``h`` is what backprop gives when it reads some weights *after*
                           their update ``w - lr * h_w`` (see :mod:`.homework`).
``loss_normalisation``     the loss is not a mean over the samples of the batch: it divides by
                           a fixed number (a global ``m``) instead (see :mod:`.homework`).
``kink``                   ``x +- eps`` straddles a kink (ReLU, max, abs): the one-sided
                           differences disagree and do not converge as ``eps`` shrinks.
``numerical_noise``        the numerical derivative, not the hand-written one, is off: its
                           error changes tenfold when ``eps`` changes.
=========================  ===================================================================

>>> import numpy as np
>>> g = np.array([0.5, -1.0, 2.0])
>>> [h.kind for h in diagnose_param("W", -g, g)]
['sign']
>>> print(diagnose_param("W", 2 * g, g)[0].message)  # doctest: +ELLIPSIS
W: hand-written = 2 × the true gradient (factor 2: the derivative of err**2 where ...)
>>> print(diagnose_param("W", -0.5 * g, g)[0].message)  # doctest: +ELLIPSIS
W: sign flipped, and a factor 1/2: hand-written = -0.5 × the true gradient (factor 1/2: ...)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

SIGN = "sign"
FACTOR = "factor"
TRANSPOSED = "transposed"
SHAPE = "shape"
WRONG_WEIGHTS = "wrong_weights"
ZERO_GRADIENT = "zero_gradient"
SWAPPED = "swapped"
SOME_ENTRIES = "some_entries"
ROUNDING = "rounding"
PRECISION = "precision"
DIFFERENT_LOSS = "different_loss"
MISSING_ACTIVATION_DERIVATIVE = "missing_activation_derivative"
STALE_WEIGHTS = "stale_weights"
LOSS_NORMALISATION = "loss_normalisation"
KINK = "kink"
NUMERICAL_NOISE = "numerical_noise"

CONFIDENCE_TIERS = ((1e-6, "high"), (1e-3, "medium"), (5e-2, "low"))
_RANK = {"high": 3, "medium": 2, "low": 1}
MATCH = 1e-6  # residual below which two gradients are "the same"
NEAR = 1e-2  # a factor within 1% of a named one is that one, plus rounding or low precision
DECISIVE = 0.1  # a candidate must leave 10x less residual than the true gradient's best factor


@dataclass(frozen=True)
class Hypothesis:
    """One explanation of a mismatch: its ``kind`` (one of the names above), a sentence,
    a confidence (``"high"``, ``"medium"``, ``"low"``), the residual it leaves, the
    parameters it explains and, for ``factor``, the factor."""

    kind: str
    message: str
    confidence: str
    residual: float = 0.0
    params: tuple[str, ...] = ()
    factor: float | None = None
    detail: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def rank(self) -> int:
        return _RANK.get(self.confidence, 0)

    @property
    def vague(self) -> bool:
        """Says *that* the numbers differ, not *why*: an unnamed factor, some entries, a
        small error. Ranked below a mechanism of the same confidence."""
        return self.kind in (SOME_ENTRIES, PRECISION) or (
            self.kind == FACTOR and not self.detail.get("named"))

    def sort_key(self) -> tuple:
        """Confidence first, then a named mechanism over a vague one, then how many
        parameters it explains, then the smaller residual."""
        return (self.rank, not self.vague, len(self.params), -self.residual)

    def __str__(self) -> str:
        return f"{self.message} [{self.confidence}]"


def confidence_of(residual: float) -> str | None:
    """The confidence tier of a residual, or None when it is too large to count.

    >>> confidence_of(1e-9), confidence_of(1e-4), confidence_of(0.5)
    ('high', 'medium', None)
    """
    for bound, name in CONFIDENCE_TIERS:
        if residual <= bound:
            return name
    return None


def _cap(conf: str, cap: str) -> str:
    return conf if _RANK[conf] <= _RANK[cap] else cap


def residual(h: np.ndarray, c: np.ndarray) -> float:
    """``||h - c|| / max(||h||, ||c||)``, 0 when both are 0.

    >>> residual(np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    0.0
    """
    h = np.asarray(h, dtype=np.float64).ravel()
    c = np.asarray(c, dtype=np.float64).ravel()
    denom = max(float(np.linalg.norm(h)), float(np.linalg.norm(c)))
    if denom == 0.0:
        return 0.0
    if not np.isfinite(denom):
        return float("inf")
    return float(np.linalg.norm(h - c)) / denom


def best(hypotheses: Sequence[Hypothesis]) -> Hypothesis | None:
    """The best-ranked hypothesis (see :meth:`Hypothesis.sort_key`)."""
    if not hypotheses:
        return None
    return max(hypotheses, key=Hypothesis.sort_key)


def ranked(hypotheses: Sequence[Hypothesis]) -> list[Hypothesis]:
    """Best first (see :meth:`Hypothesis.sort_key`)."""
    return sorted(hypotheses, key=Hypothesis.sort_key, reverse=True)


# ----------------------------------------------------------------------------- factors
def named_factors(batch_size: int | None = None, lr: float | None = None) -> dict[str, float]:
    """The constant factors a backprop commonly gets wrong, by name.

    >>> sorted(named_factors(batch_size=4, lr=0.1).values())
    [0.1, 0.125, 0.25, 0.5, 2.0, 4.0, 8.0, 10.0]
    """
    out = {"2": 2.0, "1/2": 0.5}
    if batch_size and batch_size > 1:
        m = float(batch_size)
        tag = f" (m = batch size {batch_size})"
        out.update({"m" + tag: m, "1/m" + tag: 1 / m, "2m" + tag: 2 * m,
                    "1/(2m)" + tag: 1 / (2 * m)})
    if lr and lr not in (1.0, 0.5, 2.0):
        out.update({f"lr = {lr:g}": float(lr), f"1/lr = {1 / lr:g}": 1 / float(lr)})
    return out


def name_factor(k: float, batch_size: int | None = None, lr: float | None = None,
                tol: float = 1e-6) -> str | None:
    """The name of ``k`` among :func:`named_factors`, if it is one of them.

    >>> name_factor(0.2, batch_size=5)
    '1/m (m = batch size 5)'
    """
    for name, value in named_factors(batch_size, lr).items():
        if abs(k - value) <= tol * value:
            return name
    return None


_WHY = {"1/2": "a lost 2, d(err**2)/d(out) = 2*err?",
        "2": "the derivative of err**2 where the loss is 0.5*err**2?"}


class FactorStory(NamedTuple):
    """How to say ``hand = k × true`` (see :func:`describe_factor`)."""

    kind: str
    text: str
    name: str | None
    off: float
    value: float


def describe_factor(k: float, batch_size: int | None = None, lr: float | None = None,
                    spread: float = 0.0) -> FactorStory:
    """How to say ``hand = k × true``.

    ``kind`` is ``sign`` for ``k < 0`` (the sign is what the learner must read first),
    ``precision`` for ``k`` within 1% of 1, else ``factor``. ``text`` completes
    "<params>: ..."; ``name`` is the named factor |k| is (within 1%, or ``spread``), ``off``
    how far |k| is from it (relative: rounding or low precision on top), ``value`` the
    named factor with k's sign when ``off`` is only rounding error, else ``k``.

    >>> describe_factor(-1.0)[:2]
    ('sign', 'sign flipped: hand-written = -1 × the true gradient')
    >>> describe_factor(1.0004).kind, describe_factor(0.5002).name
    ('precision', '1/2')
    """
    a = abs(k)
    if abs(a - 1) <= NEAR:
        name, off, named = "1", abs(a - 1), 1.0
    else:
        name = name_factor(a, batch_size, lr, tol=NEAR)  # a looser fit names nothing
        named = named_factors(batch_size, lr)[name] if name else a
        off = abs(a / named - 1)
    value = float(np.copysign(named, k)) if off <= max(1e-6, spread) else k
    noise = (f"; off by {off:.1e} beyond it: rounding or low precision on top"
             if name and off > max(1e-6, spread) else "")
    size = "" if name in (None, "1") else f" (factor {name}" + (
        f": {_WHY[name]}" if name in _WHY else "") + ")"
    if k < 0:
        if name == "1":
            return FactorStory(SIGN, f"sign flipped: hand-written = {_fmt(k)} × the true "
                               f"gradient{noise}", name, off, value)
        extra = f", and a factor {name}" if name else ", and scaled"
        return FactorStory(SIGN, f"sign flipped{extra}: hand-written = {_fmt(k)} × the true "
                           f"gradient{size}{noise}", name, off, value)
    if name == "1":
        return FactorStory(PRECISION, f"hand-written = {_fmt(k)} × the true gradient: "
                           f"{a - 1:+.1e} relative, the same everywhere: rounding or low "
                           "precision (values rounded to a few decimals, float32), not a wrong "
                           "formula", name, off, value)
    return FactorStory(FACTOR, f"hand-written = {_fmt(k)} × the true gradient{size}{noise}",
                       name, off, value)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def fit_factor(h: np.ndarray, g: np.ndarray) -> tuple[float, float] | None:
    """Least-squares ``k`` with ``h ~ k g`` and the residual it leaves (None if ``g = 0``)."""
    h = np.asarray(h, dtype=np.float64).ravel()
    g = np.asarray(g, dtype=np.float64).ravel()
    gg = float(g @ g)
    if gg == 0.0 or not np.isfinite(gg):
        return None
    k = float(h @ g) / gg
    return k, residual(h, k * g)


# ----------------------------------------------------------------------------- one parameter
def diagnose_param(
    name: str,
    hand: np.ndarray,
    true: np.ndarray,
    *,
    shape: tuple | None = None,
    indices: np.ndarray | None = None,
    unused: bool = False,
    floor: float = 0.0,
    batch_size: int | None = None,
    lr: float | None = None,
) -> list[Hypothesis]:
    """The hypotheses that fit one parameter's hand-written gradient.

    ``true`` is the true gradient: the whole array, or, when ``indices`` is given, its values
    at those flat indices only (a sampled numerical check). ``shape`` is the parameter's
    shape (default ``true``'s). ``unused`` says autograd found no path from the parameter to
    the loss. Differences up to ``floor`` count as equal (rounding noise). Returns ``[]``
    when ``hand`` matches.

    >>> g = np.arange(6.0).reshape(2, 3) + 1
    >>> [h.kind for h in diagnose_param("W", g.T, g)]
    ['transposed']
    >>> diagnose_param("w", np.array(0.3), np.array(0.0), unused=True)[0].kind
    'wrong_weights'
    """
    hand = np.asarray(hand, dtype=np.float64)
    true = np.asarray(true, dtype=np.float64)
    shape = tuple(true.shape if shape is None else shape)
    if hand.shape != shape:
        return _shape_rules(name, hand, true, shape, indices)
    h = hand.ravel() if indices is None else hand.ravel()[indices]
    g = true.ravel()
    out: list[Hypothesis] = []
    diff = np.abs(h - g)
    if not (diff > floor).any():
        return out
    hmax = float(np.max(np.abs(h))) if h.size else 0.0
    if unused or not (np.abs(g) > floor).any():
        why = ("no path from it to the loss in the graph" if unused
               else "its true gradient is 0 at every checked entry")
        out.append(Hypothesis(
            WRONG_WEIGHTS,
            f"{name}: the loss does not depend on {name} ({why}), yet the hand-written "
            f"gradient is {_fmt(hmax) if h.size > 1 else _fmt(float(h[0]))}: the backprop "
            f"assumes the forward pass uses {name}, and it does not",
            "high" if unused else "medium", 1.0, (name,)))
        return out + _rounding_rule(name, h, g)
    if not (np.abs(h) > floor).any():
        return [Hypothesis(
            ZERO_GRADIENT, f"{name}: the hand-written gradient is 0 at every checked entry, the "
            f"true one is not (up to {_fmt(float(np.max(np.abs(g))))}): never computed, a sum over "
            "samples or steps overwritten (= instead of +=) by a term that is 0, or terms "
            "that cancel",
            "high", 1.0, (name,))]
    informative = int(np.count_nonzero(np.abs(g) > floor))
    scalar_like = informative < 2
    fit = fit_factor(h, g)
    if fit and scalar_like:  # one number: only -1 is worth a remark, and not a confident one
        res_sign = residual(-h, g)
        conf = confidence_of(res_sign)
        if conf:
            out.append(Hypothesis(
                SIGN, f"{name}: sign flipped: hand-written = -1 × the true gradient"
                + ("" if conf == "high" else f" (and {res_sign:.1e} off)"),
                _cap(conf, "medium"), res_sign, (name,), -1.0))
    elif fit:
        k, res = fit
        conf = confidence_of(res)
        if conf and abs(k - 1) > 1e-6 and k != 0:
            story = describe_factor(k, batch_size, lr, res) if conf != "low" else \
                describe_factor(k, spread=res)  # a 5% fit is too loose to name m or lr
            if story.kind == PRECISION or story.off > max(1e-6, res):
                conf = _cap(conf, "medium")
            # "k within 1% of 1, the same everywhere: rounding" is no story when more than 1%
            # of the gradient is not proportional at all (as the small-error rule below
            # says): a wrong formula that nearly scales (1/n for 1/(n-1) in batch norm)
            if not (story.kind == PRECISION and res > NEAR):
                out.append(Hypothesis(story.kind, f"{name}: {story.text}", conf, res, (name,),
                                      story.value, detail={"named": story.name}))
    transposed = _transposed_rule(name, hand, true, shape, indices)
    out += transposed
    if not transposed:  # a transpose leaves the diagonal right: not "some entries"
        out += _some_entries_rule(name, h, g, shape, indices, floor)
    out += _rounding_rule(name, h, g)
    if not any(x.rank >= 2 for x in out):
        r = residual(h, g)
        if 1e-7 < r <= 1e-2:
            digits = int(np.floor(-np.log10(r)))
            out.append(Hypothesis(
                PRECISION, f"{name}: small error (relative {r:.1e}): agrees with the true "
                f"gradient to about {digits} significant digits; look for float32 or rounded "
                "values in the backprop", "low", r, (name,)))
    return out


def _transposed_rule(name: str, hand: np.ndarray, true: np.ndarray, shape: tuple,
                     indices: np.ndarray | None) -> list[Hypothesis]:
    """A square matrix whose gradient is the transposed one (up to a factor)."""
    if not (len(shape) == 2 and shape[0] == shape[1] and shape[0] > 1):
        return []
    t = hand.T.ravel() if indices is None else hand.T.ravel()[indices]
    h = hand.ravel() if indices is None else hand.ravel()[indices]
    fit, plain = fit_factor(t, true), fit_factor(h, true)
    if fit is None or fit[1] >= 0.5 * (residual(h, true) if plain is None else plain[1]):
        return []
    k, res = fit
    conf = confidence_of(res)
    if not conf or abs(k) < 1e-12:
        return []
    text = f"{name}: transposed: hand-written = (true gradient).T"
    if abs(k - 1) > max(1e-6, res):
        text += f", × {_fmt(k)}"
    return [Hypothesis(TRANSPOSED, text, conf, res, (name,), k)]


def _shape_rules(name: str, hand: np.ndarray, true: np.ndarray, shape: tuple,
                 indices: np.ndarray | None) -> list[Hypothesis]:
    full = indices is None
    what = f"{name}: the hand-written gradient has shape {hand.shape}, the parameter {shape}"

    def compare(candidate: np.ndarray) -> float:
        c = candidate.ravel() if full else candidate.ravel()[indices]
        return residual(c, true)

    if hand.ndim == 2 and hand.T.shape == shape:
        res = compare(hand.T)
        conf = confidence_of(res)
        if conf:
            return [Hypothesis(TRANSPOSED, f"{what}: it is the transposed gradient", conf, res,
                               (name,))]
    if hand.ndim == len(shape) + 1 and hand.shape[1:] == shape and hand.shape[0] > 1:
        for how, reduce in (("summed", hand.sum(0)), ("averaged", hand.mean(0))):
            res = compare(reduce)
            conf = confidence_of(res)
            if conf:
                return [Hypothesis(
                    SHAPE, f"{what}: per-sample gradients; {how} over the first axis they give "
                    "the gradient", conf, res, (name,))]
    if hand.size == int(np.prod(shape)):
        res = compare(hand.reshape(shape))
        conf = confidence_of(res)
        if conf:
            return [Hypothesis(SHAPE, f"{what}: the right values, in the wrong shape", conf,
                               res, (name,))]
    return [Hypothesis(SHAPE, f"{what}, and no reshaping makes them match", "high", 1.0,
                       (name,))]


def _entry_rel(h: np.ndarray, g: np.ndarray, floor: float) -> np.ndarray:
    diff = np.abs(h - g)
    denom = np.maximum(np.abs(h), np.abs(g))
    rel = np.divide(diff, denom, out=np.zeros_like(diff), where=denom > 0)
    return np.where(diff <= floor, 0.0, rel)


def _some_entries_rule(name: str, h: np.ndarray, g: np.ndarray, shape: tuple,
                       indices: np.ndarray | None, floor: float) -> list[Hypothesis]:
    bad = _entry_rel(h, g, floor) > MATCH
    n_bad, n = int(bad.sum()), bad.size
    # an entry 0 in both (an embedding row the batch does not use) is no evidence that the
    # formula is right anywhere: "some entries" needs a right entry with a gradient
    if n_bad == 0 or not (~bad & ((np.abs(g) > floor) | (np.abs(h) > floor))).any():
        return []
    flat = np.flatnonzero(bad) if indices is None else np.asarray(indices)[bad]
    where = [tuple(int(i) for i in np.unravel_index(f, shape)) for f in flat[:5]]
    where_s = ", ".join(str(w[0]) if len(w) == 1 else str(w) for w in where)
    text = f"{name}: only {n_bad} of {n} checked entries are wrong ({where_s}"
    text += ", ...)" if n_bad > 5 else ")"
    if indices is None and len(shape) == 2:
        mask = bad.reshape(shape)
        cols = [int(j) for j in np.flatnonzero(mask.all(0))]
        rows = [int(i) for i in np.flatnonzero(mask.all(1))]
        if cols and mask[:, cols].sum() == n_bad:
            text += f": exactly column(s) {cols}" + (" (a bias column?)" if cols == [0] else "")
        elif rows and mask[rows, :].sum() == n_bad:
            text += f": exactly row(s) {rows}"
    return [Hypothesis(SOME_ENTRIES, text, "high", n_bad / n, (name,),
                       detail={"wrong": where, "n_wrong": n_bad})]


def _on_grid(v: np.ndarray, d: int) -> bool:
    """Every value a multiple of ``10**-d`` up to the float error of rounding it (a few ulps;
    a looser tolerance puts an unrounded 24.372917 on the 1e-6 grid by chance)."""
    scaled = v * 10.0**d
    return bool(np.all(np.abs(scaled - np.round(scaled))
                       <= 1e-12 * np.maximum(1.0, np.abs(scaled))))


def _simple_fractions(v: np.ndarray) -> bool:
    """Every value a multiple of one ``1/q``, ``q <= 64`` (1/4, -0.6 = -3/5, 3/8 ...): counts
    over a batch of ``m`` samples, a saturated softmax or sigmoid give such values exactly;
    they sit on a decimal grid without being rounded. Unless they are also within a grid
    step of the true gradient, they are no evidence of rounding."""
    for q in range(1, 65):
        scaled = v * q
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-12 * np.maximum(1.0, np.abs(scaled))):
            return True
    return False


def _rounding_rule(name: str, h: np.ndarray, g: np.ndarray) -> list[Hypothesis]:
    big = max(float(np.max(np.abs(h), initial=0.0)), float(np.max(np.abs(g), initial=0.0)))
    nz = h[np.abs(h) > 1e-9 * big]  # float noise around 0 is on every grid: not evidence
    if nz.size == 0:
        return []
    for d in range(1, 7):
        if _on_grid(nz, d):
            if _on_grid(g, d):
                return []  # the true gradient is on the grid too: nothing to tell
            step = 10.0**-d
            off = float(np.max(np.abs(h - g)))
            if off <= step:
                return [Hypothesis(
                    ROUNDING, f"{name}: the hand-written values are multiples of {step:g} and "
                    f"within one such step of the true gradient (max off {off:.2g}): values "
                    f"rounded to {d} decimals somewhere in the computation", "high", off, (name,),
                    detail={"decimals": d})]
            if _simple_fractions(nz):  # far from the truth: the grid is the only evidence
                return []
            return [Hypothesis(
                ROUNDING, f"{name}: the hand-written values are multiples of {step:g} (rounded to "
                f"{d} decimals), and off by more than one step (max {off:.2g}): rounding is not "
                "the only mistake", "low", off, (name,), detail={"decimals": d})]
    return []


# ----------------------------------------------------------------------------- all parameters
def match_candidate(
    hand: Mapping[str, np.ndarray],
    candidate: Mapping[str, np.ndarray],
    names: Sequence[str],
    kind: str,
    label: str,
    batch_size: int | None = None,
    lr: float | None = None,
    true: Mapping[str, np.ndarray] | None = None,
) -> Hypothesis | None:
    """Whether the hand-written gradients of ``names``, together, are (a multiple of) a
    candidate gradient: the gradient of another loss, or of the same loss with a derivative
    dropped. ``label`` completes "hand-written = ...".

    A candidate that is itself a multiple of the ``true`` gradient cannot be told apart from
    a constant factor, so it is matched only exactly, never up to a factor. With ``true``
    given, the candidate must also be decisive: leave at most :data:`DECISIVE` times the
    residual of the best constant factor of the true gradient (a candidate close to the true
    gradient "explains" a nearly right gradient as well as the truth does, and says nothing).
    """
    usable = [n for n in names if n in hand and n in candidate
              and np.shape(hand[n]) == np.shape(candidate[n])]
    if not usable:
        return None
    h = np.concatenate([np.ravel(hand[n]) for n in usable]).astype(np.float64)
    c = np.concatenate([np.ravel(candidate[n]) for n in usable]).astype(np.float64)
    bar = float("inf")
    if true is not None:
        t = np.concatenate([np.ravel(true[n]) for n in usable]).astype(np.float64)
        plain = fit_factor(h, t)
        bar = DECISIVE * (residual(h, t) if plain is None else plain[1])
    res = residual(h, c)
    conf = confidence_of(res)
    if conf and res <= bar:
        return Hypothesis(kind, f"hand-written = {label}", conf, res, tuple(usable), 1.0)
    if true is not None:
        along = fit_factor(c, t)
        if along is not None and along[1] <= MATCH:
            return None
    fit = fit_factor(h, c)
    if fit and len(h) > 1:
        k, res = fit
        conf = confidence_of(res)
        if conf and abs(k) > 0 and res <= bar:
            named = name_factor(abs(k), batch_size, lr, tol=max(1e-6, res))
            tail = f" (factor {'-' if k < 0 else ''}{named})" if named else ""
            return Hypothesis(kind, f"hand-written = {_fmt(k)} × {label}{tail}", conf, res,
                              tuple(usable), k)
    return None


def common_factor(ratios: Mapping[str, float], batch_size: int | None = None,
                  lr: float | None = None) -> Hypothesis | None:
    """One constant ratio hand/true shared by two or more wrong parameters.

    >>> print(common_factor({"a": -1.0, "b": -1.0}).message)
    a, b: sign flipped: hand-written = -1 × the true gradient
    >>> common_factor({"a": 0.5, "b": 0.7}) is None
    True
    >>> common_factor({"a": 1.0004, "b": 1.0004}).kind
    'precision'
    """
    if len(ratios) < 2:
        return None
    ks = np.array(list(ratios.values()), dtype=np.float64)
    if not np.all(np.isfinite(ks)):
        return None
    k = float(np.median(ks))
    spread = float(np.max(np.abs(ks - k))) / max(abs(k), 1e-300)
    conf = confidence_of(spread)
    if not conf or abs(k - 1) <= 1e-6:
        return None
    story = describe_factor(k, batch_size, lr, spread)
    if story.kind == PRECISION or story.off > max(1e-6, spread):
        conf = _cap(conf, "medium")  # a rounding-sized error: not a confident story
    return Hypothesis(story.kind, f"{', '.join(ratios)}: {story.text}", conf, spread,
                      tuple(ratios), story.value, detail={"named": story.name})


SIGN_COSINE = -0.5  # a cosine this negative on every wrong parameter is not a coincidence


def swapped(hand: Mapping[str, np.ndarray], true: Mapping[str, np.ndarray],
            wrong: Sequence[str]) -> list[Hypothesis]:
    """Wrong parameters whose hand-written gradient is the true gradient of *another*
    parameter of the same shape: a gradient returned under the wrong name. ``hand[n]`` and
    ``true[n]`` are compared as given (the same entries of both).

    >>> g = {"a": np.array([1.0, 2.0]), "b": np.array([3.0, -1.0])}
    >>> print(swapped({"a": g["b"], "b": g["a"]}, g, ["a", "b"])[0].message)
    a, b: the hand-written gradients of a and b are swapped: each is the true gradient of ...
    """
    found: dict[str, tuple[str, float]] = {}
    for a in wrong:
        for b in true:
            if b != a and np.shape(hand[a]) == np.shape(true[b]) and np.size(true[b]) > 1 \
                    and np.any(true[b]):
                res = residual(hand[a], true[b])
                if confidence_of(res) and res < found.get(a, ("", np.inf))[1]:
                    found[a] = (b, res)
    out, told = [], set()
    for a, (b, res) in found.items():
        if a in told:
            continue
        both = found.get(b, ("",))[0] == a
        told |= {a, b} if both else {a}
        worst = max(res, found[b][1]) if both else res
        text = (f"{a}, {b}: the hand-written gradients of {a} and {b} are swapped: each is the "
                "true gradient of the other" if both else
                f"{a}: the hand-written gradient of {a} is the true gradient of {b}: the "
                f"gradient of the wrong parameter")
        out.append(Hypothesis(SWAPPED, text, confidence_of(worst), worst,
                              (a, b) if both else (a,)))
    return out


def common_sign(signs: Mapping[str, float]) -> Hypothesis | None:
    """Every wrong parameter's gradient points decisively the other way (the cosine between
    hand-written and true is :data:`SIGN_COSINE` or less), though the sizes differ: a sign
    error with other mistakes on top. A cosine only a little below 0 is what any unrelated
    gradient gives half of the time: it says nothing.

    >>> common_sign({"a": -0.9, "b": -0.6}).kind
    'sign'
    >>> common_sign({"a": -0.9, "b": -0.2}) is None
    True
    """
    if len(signs) < 2 or not all(c <= SIGN_COSINE for c in signs.values()):
        return None
    return Hypothesis(
        SIGN, f"the hand-written gradient points against the true one on {', '.join(signs)}: "
        "a sign error, with other mistakes on top", "low", 1.0,
        tuple(signs), -1.0)
