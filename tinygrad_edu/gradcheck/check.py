"""``gradcheck`` and ``gradgradcheck``, as in PyTorch: autograd's Jacobian against central
differences.

For every differentiable output ``i`` and every input ``j`` that requires grad, the analytical
Jacobian (from backward, one pass per output entry) is compared with the numerical one
(``(f(x + eps e_k) - f(x - eps e_k)) / 2 eps``, two calls of ``fn`` per input entry); an entry
passes when ``|analytical - numerical| <= atol + rtol * |numerical|``.

``fast_mode=True`` checks one random projection ``v^T J u`` per output instead (PyTorch's fast
mode): ``v^T J`` by one backward pass, ``J u`` by two calls of ``fn`` with every input moved
along ``u`` at once. The cost does not grow with the number of entries. ``u`` and ``v`` come
from a generator seeded with ``seed``, so a run is reproducible; as in PyTorch, the entries
are uniform in [0, 1) and normalised, and ``atol`` is scaled by ``sum(u) * sum(v)``. When the
projection disagrees, the failing (output, input) pairs are found with one projection per
input and then checked entry by entry, so the report names the worst entry as in slow mode.

The report gives, per failing (output, input) pair, the maximum absolute and relative error,
and the worst entry with both values (never whole matrices). If the function has a kink
between ``x - eps`` and ``x + eps`` at that entry (one-sided differences that disagree), the
report says so.

>>> import tinygrad_edu as tg
>>> x = tg.tensor([0.5, -1.5, 2.0], dtype=tg.float64, requires_grad=True)
>>> gradcheck(lambda t: (t * t.sin()).sum(), x)
True
>>> gradcheck(lambda t: t.tanh(), x, fast_mode=True)
True
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autograd.engine import grad as _grad
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor
from . import numeric


class GradcheckError(AssertionError):
    """A gradient check failed; ``failures`` holds one :class:`Mismatch` per failing
    (output, input) pair (and the message says what they found)."""

    def __init__(self, message: str, failures: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.failures = list(failures)


class GradcheckPrecisionWarning(UserWarning):
    """Raised (as a warning) when a gradient check runs on float32/float16 inputs."""


@dataclass
class Mismatch:
    """Where analytical and numerical derivatives of output ``output`` w.r.t. input ``input``
    disagree: error sizes, and the worst entry (its index in the output and in the input,
    and both values). ``fast`` holds ``(analytical, numerical)`` of ``v^T J u`` in fast mode;
    ``note`` says more (a kink, float32 precision, a non-deterministic backward)."""

    output: int
    input: int
    output_shape: tuple
    input_shape: tuple
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    n_bad: int = 0
    n_entries: int = 0
    output_index: tuple = ()
    input_index: tuple = ()
    analytical: float = float("nan")
    numerical: float = float("nan")
    fast: tuple[float, float] | None = None
    note: str = ""

    def describe(self) -> str:
        head = f"output {self.output} {self.output_shape} w.r.t. input {self.input} " \
               f"{self.input_shape}"
        lines = []
        if self.fast is not None:
            a, n = self.fast
            lines.append(f"{head}: v^T J u (fast mode) analytical {a:.6g} vs numerical {n:.6g}")
        if self.n_entries:
            lines.append(
                f"{head}: {self.n_bad} of {self.n_entries} Jacobian entries outside "
                f"atol + rtol*|numerical|; max abs err {self.max_abs_error:.3g}, max rel err "
                f"{self.max_rel_error:.3g}")
            lines.append(
                f"    worst: d output{list(self.output_index)} / d input{list(self.input_index)}"
                f": analytical {self.analytical:.8g}, numerical {self.numerical:.8g}")
        elif self.fast is not None:
            lines.append("    every entry of the full Jacobian is within tolerance: the error "
                         "is spread over many entries")
        if self.note:
            lines.append("    " + self.note)
        return "\n".join(lines)


# ----------------------------------------------------------------------------- helpers
def _as_inputs(inputs: Any) -> tuple:
    if isinstance(inputs, Tensor):
        return (inputs,)
    if isinstance(inputs, list | tuple):
        return tuple(inputs)
    return (inputs,)


def _outputs(out: Any) -> tuple:
    if isinstance(out, list | tuple):
        return tuple(out)
    return (out,)


def _is_float_output(o: Any) -> bool:
    return isinstance(o, Tensor | np.ndarray) and o.dtype.kind == "f"


def _output_array(o: Any) -> np.ndarray | None:
    if not _is_float_output(o):
        return None
    return np.array(o.data if isinstance(o, Tensor) else o, dtype=np.float64)


def _check_outputs(outputs: tuple) -> None:
    """Refuse outputs that cannot be checked, instead of passing without checking anything:
    a number or a numpy array has no graph (its analytical gradient would read as 0)."""
    for k, o in enumerate(outputs):
        if isinstance(o, np.ndarray) or not isinstance(o, Tensor):
            what = "a numpy array" if isinstance(o, np.ndarray) else type(o).__name__
            raise TypeError(
                f"gradcheck: fn returned {what} as output {k}, which has no graph to "
                "differentiate; return the Tensor itself (or a tuple of Tensors), not "
                ".item(), .numpy(), .data or float(...)")
    if not any(_is_float_output(o) for o in outputs):
        raise ValueError(
            "gradcheck: fn returned no floating-point Tensor (dtypes: "
            f"{', '.join(str(o.dtype) for o in outputs) or 'no outputs'}), so there is "
            "nothing to check; return the float result whose gradient you want checked")


def _differentiable(inputs: tuple) -> list[int]:
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError(
            "gradcheck: no input requires grad, so there is nothing to check; create the inputs "
            "with requires_grad=True (inputs that do not require grad are passed through)")
    return diff


PRECISION_MESSAGE = (
    "gradcheck: input {which} is {dtype}, not float64. Central differences with eps={eps:g} "
    "in {dtype} are dominated by rounding: f(x+eps) and f(x-eps) agree in all but the last "
    "few of {dtype}'s ~{digits} significant digits, so their difference divided by 2*eps is "
    "off by roughly {noise:.0e} * |f| — far more than atol/rtol allow. Convert the inputs "
    "with .double() (and compute in float64) before checking gradients.")


def _warn_precision(inputs: tuple, diff: list[int], eps: float) -> bool:
    low = [i for i in diff if inputs[i].dtype != np.float64]
    if not low:
        return False
    dtype = np.dtype(inputs[low[0]].dtype)
    finfo = np.finfo(dtype)
    warnings.warn(
        PRECISION_MESSAGE.format(which=", ".join(map(str, low)), dtype=dtype.name, eps=eps,
                                 digits=finfo.precision, noise=float(finfo.eps) / eps),
        GradcheckPrecisionWarning, stacklevel=3)
    return True


class _Problem:
    """The function, its inputs and what the checks need to evaluate it again."""

    def __init__(self, fn: Callable, inputs: tuple, eps: float) -> None:
        self.fn, self.inputs, self.eps = fn, inputs, eps
        self.diff = _differentiable(inputs)
        self.tensors = [inputs[j] for j in self.diff]
        self.bases = {j: np.array(inputs[j].data, dtype=np.float64) for j in self.diff}
        self.dtypes = {j: np.dtype(inputs[j].dtype) for j in self.diff}
        self.outputs = _outputs(fn(*inputs))
        _check_outputs(self.outputs)
        self.float_outputs = [k for k, o in enumerate(self.outputs) if _is_float_output(o)]

    def evaluate(self, replace: dict[int, np.ndarray]) -> list:
        """Outputs of ``fn`` with some inputs replaced by arrays (as constant tensors)."""
        args = list(self.inputs)
        for j, arr in replace.items():
            args[j] = Tensor._wrap(arr)
        with no_grad():
            outs = _outputs(self.fn(*args))
        return [_output_array(o) for o in outs]

    def vjp(self, k: int, v: np.ndarray) -> list[np.ndarray]:
        """``v^T J_kj`` for every differentiable input j (zeros if not reached)."""
        out = self.outputs[k]
        if not (isinstance(out, Tensor) and out.requires_grad):
            return [np.zeros(t.shape) for t in self.tensors]
        gs = _grad(out, self.tensors, grad_outputs=v.astype(out.dtype), retain_graph=True,
                   allow_unused=True)
        return [np.zeros(t.shape) if g is None else np.asarray(g.data, dtype=np.float64)
                for g, t in zip(gs, self.tensors)]

    def analytical_rows(self, k: int) -> list[np.ndarray]:
        """The analytical Jacobian of output k: one (out.size, in.size) matrix per input."""
        shape = self.outputs[k].shape
        n_out = int(np.prod(shape))
        rows = [np.zeros((n_out, t.data.size)) for t in self.tensors]
        for r in range(n_out):
            e = np.zeros(n_out)
            e[r] = 1.0
            for m, g in zip(rows, self.vjp(k, e.reshape(shape))):
                m[r] = g.ravel()
        return rows

    def numerical_columns(self, pos: int) -> dict[int, np.ndarray]:
        """The numerical Jacobian w.r.t. differentiable input ``self.diff[pos]``, for every
        float output: ``{k: (out.size, in.size)}``."""
        j = self.diff[pos]
        base = self.bases[j]
        cols: dict[int, np.ndarray] = {}
        for flat, columns in numeric.jacobian_columns(self.evaluate, base, j, self.dtypes[j],
                                                      self.eps):
            for k in self.float_outputs:
                c = columns[k]
                if k not in cols:
                    cols[k] = np.zeros((c.size, base.size))
                cols[k][:, flat] = c
        return cols


def _compare(a: np.ndarray, n: np.ndarray, atol: float,
             rtol: float) -> tuple[np.ndarray, np.ndarray]:
    err = np.abs(a - n)
    err = np.where(np.isnan(err) & ~(np.isnan(a) & np.isnan(n)), np.inf, np.nan_to_num(err))
    bound = atol + rtol * np.abs(n)
    return err, bound


def _pair_mismatch(p: _Problem, k: int, pos: int, a: np.ndarray, n: np.ndarray, atol: float,
                   rtol: float) -> Mismatch | None:
    err, bound = _compare(a, n, atol, rtol)
    bad = err > bound
    if not bad.any():
        return None
    out_shape = tuple(p.outputs[k].shape)
    in_shape = tuple(p.tensors[pos].shape)
    worst = np.unravel_index(int(np.argmax(np.where(bad, err - bound, -np.inf))), err.shape)
    denom = np.maximum(np.abs(a), np.abs(n))
    rel = np.divide(err, denom, out=np.zeros_like(err), where=denom > 0)
    r, c = int(worst[0]), int(worst[1])
    m = Mismatch(
        output=k, input=p.diff[pos], output_shape=out_shape, input_shape=in_shape,
        max_abs_error=float(err.max()), max_rel_error=float(rel.max()), n_bad=int(bad.sum()),
        n_entries=int(err.size),
        output_index=tuple(int(i) for i in np.unravel_index(r, out_shape)),
        input_index=tuple(int(i) for i in np.unravel_index(c, in_shape)),
        analytical=float(a[r, c]), numerical=float(n[r, c]))
    m.note = _explain_entry(p, k, pos, r, c, m.analytical, atol, rtol)
    return m


def _explain_entry(p: _Problem, k: int, pos: int, r: int, c: int, analytical: float,
                   atol: float, rtol: float) -> str:
    """A kink or float32 rounding at the worst entry, if that is what it looks like."""
    j = p.diff[pos]
    notes = []
    left, central, right = numeric.one_sided(p.evaluate, p.bases[j], j, p.dtypes[j], p.eps, c,
                                             k, r)
    jump = abs(right - left)
    if np.isfinite(jump) and jump > max(atol, 1e-3 * max(abs(left), abs(right))):
        l2, c2, r2 = numeric.one_sided(p.evaluate, p.bases[j], j, p.dtypes[j], p.eps / 10, c,
                                       k, r)
        if numeric.is_kink(left, central, right, l2, c2, r2):
            side = ("the left slope" if abs(analytical - left) <= atol + rtol * abs(left)
                    else "the right slope" if abs(analytical - right) <= atol + rtol * abs(right)
                    else "neither slope")
            notes.append(
                f"kink: the function is not differentiable between x-eps and x+eps here "
                f"(one-sided slopes: left {left:.6g}, right {right:.6g}; the central "
                f"difference averages them); analytical matches {side}. Not necessarily a "
                "wrong gradient: move the input away from the kink (ReLU/abs/max at 0).")
    if p.dtypes[j] != np.float64:
        notes.append(f"input {j} is {p.dtypes[j].name}: expect errors of this size from "
                     "rounding alone; check in float64 (.double())")
    return "\n    ".join(notes)


# ----------------------------------------------------------------------------- the checks
def _slow(p: _Problem, atol: float, rtol: float, pairs: Sequence[tuple[int, int]] | None = None,
          ) -> list[Mismatch]:
    pairs = pairs or [(k, pos) for k in p.float_outputs for pos in range(len(p.diff))]
    need_k = sorted({k for k, _ in pairs})
    need_pos = sorted({pos for _, pos in pairs})
    analytical = {k: p.analytical_rows(k) for k in need_k}
    numerical = {pos: p.numerical_columns(pos) for pos in need_pos}
    out = []
    for k, pos in pairs:
        m = _pair_mismatch(p, k, pos, analytical[k][pos], numerical[pos][k], atol, rtol)
        if m is not None:
            out.append(m)
    return out


def _unit_random(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    v = rng.random(shape)
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def _fast(p: _Problem, atol: float, rtol: float, rng: np.random.Generator) -> list[Mismatch]:
    us = [rng.random(p.bases[j].shape) for j in p.diff]
    total = float(np.sqrt(sum(float((u * u).sum()) for u in us))) or 1.0
    us = [u / total for u in us]
    directions = dict(zip(p.diff, us))
    ju = numeric.directional_derivative(p.evaluate, p.bases, directions, p.dtypes, p.eps)
    sum_u = [float(u.sum()) for u in us]
    failures = []
    for k in p.float_outputs:
        v = _unit_random(rng, tuple(p.outputs[k].shape))
        parts = [float((g * u).sum()) for g, u in zip(p.vjp(k, v), us)]
        a, n = sum(parts), float(v.ravel() @ ju[k])
        if abs(a - n) <= atol * sum(sum_u) * float(v.sum()) + rtol * abs(n):
            continue
        # locate: one projection per input, then entry by entry for the failing inputs
        bad = []
        for pos, j in enumerate(p.diff):
            only = numeric.directional_derivative(p.evaluate, p.bases, {j: us[pos]}, p.dtypes,
                                                  p.eps)
            n_j = float(v.ravel() @ only[k])
            if abs(parts[pos] - n_j) > atol * sum_u[pos] * float(v.sum()) + rtol * abs(n_j):
                bad.append(pos)
        for pos in bad or range(len(p.diff)):
            found = _slow(p, atol, rtol, [(k, pos)])
            m = found[0] if found else Mismatch(
                output=k, input=p.diff[pos], output_shape=tuple(p.outputs[k].shape),
                input_shape=tuple(p.tensors[pos].shape))
            m.fast = (a, n)
            failures.append(m)
    return failures


def _check_reentrant(p: _Problem, nondet_tol: float, rng: np.random.Generator) -> list[Mismatch]:
    """Two backward passes with the same ``v`` must agree to ``nondet_tol``."""
    out = []
    for k in p.float_outputs:
        if not (isinstance(p.outputs[k], Tensor) and p.outputs[k].requires_grad):
            continue
        v = _unit_random(rng, tuple(p.outputs[k].shape))
        first, second = p.vjp(k, v), p.vjp(k, v)
        for pos, (g1, g2) in enumerate(zip(first, second)):
            diff = float(np.max(np.abs(g1 - g2))) if g1.size else 0.0
            if diff > nondet_tol:
                out.append(Mismatch(
                    output=k, input=p.diff[pos], output_shape=tuple(p.outputs[k].shape),
                    input_shape=tuple(p.tensors[pos].shape),
                    note=f"backward is not deterministic: two passes with the same v differ "
                         f"by {diff:.3g} > nondet_tol={nondet_tol:g}"))
        break  # one output is enough to see a non-deterministic backward
    return out


def gradcheck(
    fn: Callable,
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    fast_mode: bool = False,
    seed: int = 0,
) -> bool:
    """Check autograd's gradients of ``fn(*inputs)`` against central differences.

    ``inputs`` is a Tensor or a tuple of them (other values, e.g. integer tensors or Python
    numbers, are passed through); only inputs with ``requires_grad=True`` are checked, and
    they should be float64 (a :class:`GradcheckPrecisionWarning` says why otherwise). ``fn``
    returns a Tensor or a tuple of Tensors; non-float outputs are ignored.

    Returns True, or raises :class:`GradcheckError` (an ``AssertionError``) with a short report
    — or returns False when ``raise_exception=False``. ``fast_mode`` checks a random
    projection ``v^T J u`` (seeded by ``seed``) instead of every entry, for a cost of a few
    forward and backward passes. ``nondet_tol`` is the allowed difference between two
    backward passes with the same input.

    >>> import tinygrad_edu as tg
    >>> class BadSquare(tg.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return g * x            # should be 2 * x
    >>> x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    >>> gradcheck(BadSquare.apply, x, raise_exception=False)
    False
    >>> try:
    ...     gradcheck(BadSquare.apply, x)
    ... except GradcheckError as e:
    ...     print(str(e).splitlines()[2])
        worst: d output[1] / d input[1]: analytical 2, numerical 4
    """
    inputs = _as_inputs(inputs)
    diff = _differentiable(inputs)
    _warn_precision(inputs, diff, eps)
    p = _Problem(fn, inputs, eps)
    rng = np.random.default_rng(seed)
    failures = _check_reentrant(p, nondet_tol, rng)
    if not failures:
        failures = _fast(p, atol, rtol, rng) if fast_mode else _slow(p, atol, rtol)
    if not failures:
        return True
    if raise_exception:
        mode = "fast mode" if fast_mode else "every entry"
        head = (f"gradcheck failed ({mode}; eps={eps:g}, atol={atol:g}, rtol={rtol:g}):")
        raise GradcheckError("\n".join([head, *(m.describe() for m in failures)]), failures)
    return False


def gradgradcheck(
    fn: Callable,
    inputs: Any,
    grad_outputs: Any = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    fast_mode: bool = False,
    seed: int = 0,
) -> bool:
    """Check second derivatives: :func:`gradcheck` of the map
    ``(inputs, grad_outputs) -> grad(fn(inputs), inputs, grad_outputs, create_graph=True)``.

    ``grad_outputs`` (one per float output of ``fn``) default to random tensors (seeded by
    ``seed``) that require grad, so the check covers both arguments of the backward, as in
    PyTorch.

    >>> import tinygrad_edu as tg
    >>> x = tg.tensor([0.3, -0.7], dtype=tg.float64, requires_grad=True)
    >>> gradgradcheck(lambda t: t.tanh() * t, x)
    True
    """
    inputs = _as_inputs(inputs)
    diff = _differentiable(inputs)
    n_in = len(inputs)
    outs = [o for o in _outputs(fn(*inputs)) if _is_float_output(o)]
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        grad_outputs = tuple(
            Tensor(rng.uniform(-1, 1, size=o.shape).astype(o.dtype), requires_grad=True)
            for o in outs)
    else:
        grad_outputs = _as_inputs(grad_outputs)
    if len(grad_outputs) != len(outs):
        raise ValueError(f"gradgradcheck: {len(grad_outputs)} grad_outputs for {len(outs)} "
                         "float outputs")

    def first_derivative(*args: Any) -> tuple:
        xs, gos = list(args[:n_in]), args[n_in:]
        with enable_grad():
            for i in diff:
                if not xs[i].requires_grad:
                    xs[i] = xs[i].detach().requires_grad_()
            ys = [o for o in _outputs(fn(*xs)) if _is_float_output(o)]
            keep = [(y, g) for y, g in zip(ys, gos) if isinstance(y, Tensor) and y.requires_grad]
            if not keep:
                return tuple(Tensor._wrap(np.zeros(xs[i].shape, xs[i].dtype)) for i in diff)
            gs = _grad([y for y, _ in keep], [xs[i] for i in diff],
                       grad_outputs=[g for _, g in keep], create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_derivative, (*inputs, *grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     fast_mode=fast_mode, seed=seed)
