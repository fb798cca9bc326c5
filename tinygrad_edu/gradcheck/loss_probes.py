"""Probes of the loss itself, not of its gradient: is it rounded, and is it a mean over the batch?

A gradient check compares two gradients of the *same* loss; two mistakes hide from it because
they live in the loss:

* **a rounded loss** (``float("%.3f" % out)``, ``np.round``): piecewise constant, so central
  differences at a small ``eps`` are exactly 0 and autograd sees no slope through the
  rounding. :func:`piecewise_constant` moves every parameter along one random direction: a
  loss that does not change at all at ``eps`` but does at a larger step is rounded (a loss
  the hand-written gradient says should move, that is: a flat loss is not accused).
* **a fixed normaliser** (seed 002's answer divides by a global ``m = 1000`` in its cost and
  its backprop): the loss and the gradient agree, so the check passes, yet the loss is not
  the mean over the batch it is given. :func:`batch_scaling` evaluates the loss on the batch
  repeated twice and on its two halves: a mean stays the same, a sum doubles.
  :func:`numeric_names` lists the numbers a function reads from outside (module globals,
  closure variables; also through the functions and methods it calls), and :func:`divisors`
  says which of them the result is divided by: rebound to twice its value (and restored at
  once), it halves the result. :func:`normalisation` puts these together into a diagnosis.

>>> import numpy as np
>>> m = 1000
>>> def cost(p, x, y):                     # the seed 002 answer's cost
...     return np.sum((x @ p["w"] - y) ** 2) / (2 * m)
>>> x, y, p = np.ones((4, 2)), np.zeros(4), {"w": np.ones(2)}
>>> batch_scaling(lambda x, y: cost(p, x, y), x, y).kind
'sum'
>>> names = numeric_names(cost)
>>> sorted(names), divisors(lambda: cost(p, x, y), names)
(['m'], ['m'])
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import diagnose as dg

TOL = 1e-9  # relative: a mean/sum/halving is exact up to rounding


# ----------------------------------------------------------------------------- rounding
def piecewise_constant(f: Callable[[Mapping[str, np.ndarray]], float],
                       params: Mapping[str, np.ndarray], f0: float, eps: float,
                       slope: float, seed: int = 0) -> float | None:
    """The step at which a loss that does not move at ``eps`` starts to move, or None.

    ``f`` is evaluated at ``params +- step * u`` for one random unit direction ``u``.
    ``slope(u)`` is what the loss is expected to change per unit step along ``u`` (the
    hand-written gradient dotted with ``u``): when ``|slope| * eps`` is below the rounding
    noise of ``f0`` nothing is tested (a flat loss is not a rounded one).

    >>> P = {"w": np.array([0.3, 0.7])}
    >>> f = lambda p: float(np.round(np.sum(p["w"] ** 2), 3))
    >>> piecewise_constant(f, P, f(P), 1e-6, lambda u: float(2 * P["w"] @ u["w"])) > 1e-6
    True
    >>> piecewise_constant(lambda p: float(np.sum(p["w"] ** 2)), P, 0.58, 1e-6,
    ...                    lambda u: float(2 * P["w"] @ u["w"])) is None
    True
    """
    rng = np.random.default_rng(seed)
    u = {n: rng.standard_normal(np.shape(v)) for n, v in params.items()}
    norm = float(np.sqrt(sum(float(np.sum(d * d)) for d in u.values())))
    if norm == 0.0:
        return None
    u = {n: d / norm for n, d in u.items()}
    if abs(slope(u)) * eps <= 64 * np.finfo(np.float64).eps * max(abs(f0), 1e-300):
        return None

    def moves(step: float) -> bool:
        return any(f({n: np.asarray(v, np.float64) + s * step * u[n] for n, v in params.items()})
                   != f0 for s in (1.0, -1.0))

    if moves(eps):
        return None
    for step in (1e-4, 1e-3, 1e-2, 1e-1):
        if step > eps and moves(step):
            return step
    return None


# ----------------------------------------------------------------------------- batch scaling
@dataclass(frozen=True)
class BatchScaling:
    """How a loss scales with its batch: ``kind`` is ``"mean"``, ``"sum"`` or ``"neither"``;
    ``repeated`` is loss(batch twice) / loss(batch)."""

    kind: str
    repeated: float


def repeat_batch(v: Any, n: int) -> Any | None:
    """``v`` repeated twice along axis 0 if it is per-sample (length ``n``); unchanged if it
    broadcasts (a scalar, None); None if neither."""
    if v is None or np.ndim(v) == 0:
        return v
    if np.shape(v)[0] != n:
        return None
    return np.concatenate([np.asarray(v), np.asarray(v)])


def _part(v: Any, part: slice) -> Any:
    return v if v is None or np.ndim(v) == 0 else np.asarray(v)[part]


def batch_scaling(loss: Callable[[Any, Any], float], x: Any, y: Any) -> BatchScaling | None:
    """Evaluate ``loss(x, y)`` on the batch, the batch repeated twice and its two halves.

    None when ``x`` is not a batch of two or more samples (or ``y`` is neither per-sample
    nor broadcast, or the loss is 0).

    >>> x, y = np.arange(6.0).reshape(3, 2), np.ones(3)
    >>> batch_scaling(lambda x, y: float(np.mean((x.sum(1) - y) ** 2)), x, y).kind
    'mean'
    >>> batch_scaling(lambda x, y: float(np.sum(x) / 6), x, y)
    BatchScaling(kind='sum', repeated=2.0)
    """
    if np.ndim(x) < 2 or np.shape(x)[0] < 2:
        return None
    n = int(np.shape(x)[0])
    x2, y2 = repeat_batch(x, n), repeat_batch(y, n)
    if y2 is None and y is not None:
        return None
    f0 = loss(x, y)
    if f0 == 0.0 or not np.isfinite(f0):
        return None
    a, b = slice(0, n // 2), slice(n // 2, n)
    fa, fb = loss(_part(x, a), _part(y, a)), loss(_part(x, b), _part(y, b))
    r = loss(x2, y2) / f0

    def close(u: float, v: float) -> bool:
        return abs(u - v) <= TOL * max(abs(u), abs(v), 1e-300)

    if close(r, 1.0) and close(f0, ((n // 2) * fa + (n - n // 2) * fb) / n):
        return BatchScaling("mean", r)
    if close(r, 2.0) and close(f0, fa + fb):
        return BatchScaling("sum", r)
    return BatchScaling("neither", r)


# ----------------------------------------------------------------------------- free names
@dataclass(frozen=True)
class FreeName:
    """A number a function reads from outside: a module global (``where = "global"``) or a
    variable of an enclosing function (``"enclosing"``), and how to rebind it."""

    name: str
    where: str
    value: float
    namespace: Any  # the globals dict, or the closure cell

    def rebind(self, value: Any) -> None:
        if self.where == "global":
            self.namespace[self.name] = value
        else:
            self.namespace.cell_contents = value


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(
        v, bool | np.bool_) and np.isfinite(v) and v != 0


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for c in code.co_consts:  # lambdas, comprehensions, inner functions
        if isinstance(c, types.CodeType):
            names |= _code_names(c)
    return names


def numeric_names(fn: Any, depth: int = 3) -> dict[str, FreeName]:
    """The numbers ``fn`` reads from outside, by name: module globals and closure variables
    of ``fn``, and (``depth`` levels down) of the plain functions and the methods of
    ``self`` it refers to that live in the same module (a library's names are never
    listed, so never rebound).

    >>> k = 3
    >>> def f(x):
    ...     return x / k
    >>> numeric_names(f)["k"].value
    3
    """
    found: dict[str, FreeName] = {}
    seen: set[int] = set()
    root = fn.__func__ if inspect.ismethod(fn) else fn
    home = getattr(root, "__globals__", None)

    def visit(obj: Any, level: int) -> None:
        owner = None
        if inspect.ismethod(obj):
            owner, obj = obj.__self__, obj.__func__
        if not isinstance(obj, types.FunctionType) or id(obj) in seen or level > depth:
            return
        if obj.__globals__ is not home:  # only the user's own module, never a library's
            return
        seen.add(id(obj))
        code = obj.__code__
        for name, cell in zip(code.co_freevars, obj.__closure__ or ()):
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if _is_number(value):
                found.setdefault(name, FreeName(name, "enclosing", value, cell))
            else:
                visit(value, level + 1)
        for name in sorted(_code_names(code)):
            if name in obj.__globals__:
                value = obj.__globals__[name]
                if _is_number(value):
                    found.setdefault(name, FreeName(name, "global", value, obj.__globals__))
                else:
                    visit(value, level + 1)
            if owner is not None:
                attr = inspect.getattr_static(owner, name, None)
                if isinstance(attr, types.FunctionType):
                    visit(getattr(owner, name), level + 1)

    visit(fn, 0)
    return found


def divisors(evaluate: Callable[[], Any], names: Mapping[str, FreeName]) -> list[str]:
    """The names whose doubling halves ``evaluate()`` (a number or a dict of arrays): the
    result is divided by them. Each name is rebound only during its evaluation.

    >>> n = 4
    >>> def mean(v):
    ...     return sum(v) / n
    >>> divisors(lambda: mean([1.0, 2.0]), numeric_names(mean))
    ['n']
    """
    def flat(v: Any) -> np.ndarray:
        if isinstance(v, Mapping):
            return np.concatenate([np.ravel(np.asarray(a, np.float64)) for a in v.values()])
        return np.ravel(np.asarray(v, np.float64))

    try:
        base = flat(evaluate())
    except Exception:
        return []
    if not np.any(base) or not np.all(np.isfinite(base)):
        return []
    out = []
    for name, free in names.items():
        try:
            free.rebind(free.value * 2)
            doubled = flat(evaluate())
        except Exception:
            continue
        finally:
            free.rebind(free.value)
        if doubled.shape == base.shape and np.allclose(doubled, base / 2, rtol=1e-9, atol=0):
            out.append(name)
    return out


# ----------------------------------------------------------------------------- the diagnosis
def normalisation(f: Callable[[Mapping[str, np.ndarray], Any, Any], float], loss: Callable,
                  grads: Callable, P: Mapping[str, np.ndarray], H: Mapping[str, np.ndarray],
                  x: Any, y: Any, wrong: Sequence[str]) -> tuple[list[dg.Hypothesis], list[str]]:
    """``(hypotheses, notes)`` about how the loss ``f(P, x, y)`` (the user's ``loss`` as a
    number) and ``grads`` (returning ``H`` on this batch) scale with the batch.

    Named (``loss_normalisation``): a loss that is not a mean and divides by a number read
    from a global or enclosing name; or a backprop that does. ``wrong`` are the parameters
    whose check failed: a divisor in one of the two only explains them. A loss that is
    neither a mean nor a sum, with no such name, gets a note.
    """
    try:
        scaling = batch_scaling(lambda x, y: f(P, x, y), x, y)
    except Exception:  # the loss cannot take another batch size
        return [], []
    if scaling is None:
        return [], []
    n = int(np.shape(x)[0])
    loss_by = divisors(lambda: f(P, x, y), numeric_names(loss)) if scaling.kind != "mean" \
        else []
    try:
        again = grads(dict(P), repeat_batch(x, n), repeat_batch(y, n))
        mean = all(np.allclose(np.asarray(again[k], np.float64), H[k], rtol=1e-9, atol=0)
                   for k in H)
    except Exception:  # the backprop cannot take another batch size
        mean = True
    grads_by = [] if mean else divisors(
        lambda: {k: v for k, v in grads(dict(P), x, y).items() if k in H}, numeric_names(grads))
    if not loss_by and not grads_by:
        notes = [f"the loss is neither a mean nor a sum over the samples: on the batch repeated "
                 f"twice it is {scaling.repeated:.6g} × its value (a mean stays the same, a sum "
                 "doubles)"] if scaling.kind == "neither" else []
        return [], notes
    name = (loss_by or grads_by)[0]
    v = {**numeric_names(grads), **numeric_names(loss)}[name]
    what = f"the global `{name}` = {v.value:g}" if v.where == "global" else \
        f"`{name}` = {v.value:g} of the enclosing function"
    same = " (the size of this batch, by coincidence)" if v.value == n else ""
    params: tuple[str, ...] = tuple(wrong)
    if loss_by and name in grads_by:
        text = (f"your loss divides by a fixed number, not the batch size — a global `{name}`? "
                f"It reads {what}{same} and divides by it, and so does your backprop: the two "
                "agree, so the gradients check, but on the batch repeated twice the loss "
                f"doubles (a mean stays the same). Divide both by the batch size, len(x) = {n} "
                "here")
        params = ()
    elif loss_by:
        backprop = ("your backprop takes the mean over the batch" if mean else
                    "your backprop grows with the batch too (a fixed divisor as well?)")
        text = (f"your loss divides by a fixed number, not the batch size — a global `{name}`? "
                f"It reads {what}{same} and divides by it (on the batch repeated twice it "
                f"doubles; a mean stays the same); {backprop}. Divide by the batch size, "
                f"len(x) = {n} here")
    else:
        text = (f"your backprop divides by a fixed number, not the batch size — a global "
                f"`{name}`? It reads {what}{same} and divides by it; your loss does not. "
                f"Divide by the batch size, len(x) = {n} here")
    return [dg.Hypothesis(dg.LOSS_NORMALISATION, text, "high", 0.0, params,
                          detail={"name": name, "value": v.value, "where": v.where,
                                  "loss": bool(loss_by), "backprop": bool(grads_by),
                                  "scaling": scaling.kind})], []
