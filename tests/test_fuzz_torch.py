"""Random programs of 3-6 public ops, run here and in PyTorch in float64: same values, same
gradients, same second derivatives (issue 12, item 6).

tests/test_ops.py checks each op alone against central differences; this file checks that ops
compose: broadcasting between steps, reductions feeding movement ops, views of views, a leaf
used twice, gradients of gradients. A program is drawn step by step while PyTorch runs it, so
each step can see the current value: an op is only drawn where it is differentiable (no tie
at a max, no zero under an ``abs``, no constant under a ``std``, nothing huge under an
``exp``), and hypothesis shrinks a failing program to a short readable one, printed as the
list of steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg

# Fixed example counts and derandomized draws, so every CI run checks the same programs.
FUZZ = settings(max_examples=250, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FUZZ_SECOND_ORDER = settings(FUZZ, max_examples=150)

# float64 throughout: both libraries evaluate the same formulas in the same precision, so
# forward values agree to a few ulps; gradients pass through up to six backward rules that
# may order their sums differently (numpy's pairwise sums vs ATen's), which costs a few more
# digits, never more than about 1e-12 relative on these magnitudes.
RTOL, ATOL = 1e-9, 1e-11


def both(fn: Callable) -> tuple[Callable, Callable]:
    """One body for both libraries: ``fn(lib, x, ...)`` with ``lib`` tinygrad_edu or torch."""
    return (lambda *a: fn(tg, *a)), (lambda *a: fn(torch, *a))


@dataclass(repr=False)
class Step:
    """One op of a program: its readable form and how to run it in each library.

    ``args`` are the extra leaves the step brings (a second operand, a weight matrix), as
    float64 numpy arrays; they become leaves that require grad in both libraries.
    """

    text: str
    run: Callable  # run(lib, x, *extra_leaves) -> tensor
    args: list[np.ndarray] = field(default_factory=list)

    def __repr__(self) -> str:
        shapes = ", ".join(str(a.shape) for a in self.args)
        return f"{self.text}" + (f" [new leaves {shapes}]" if shapes else "")


def _softplus(lib, x):
    return x.softplus() if lib is tg else TF.softplus(x)


# Unary steps, each with when it may be drawn (the input as a numpy array).
def _small(x: np.ndarray) -> bool:
    return bool(np.all(np.abs(x) < 20))


def _away_from_zero(x: np.ndarray) -> bool:
    return bool(np.all(np.abs(x) > 1e-3))


UNARY: dict[str, tuple[Callable, Callable[[np.ndarray], bool]]] = {
    "tanh": (lambda lib, x: x.tanh(), lambda x: True),
    "sigmoid": (lambda lib, x: x.sigmoid(), lambda x: True),
    "sin": (lambda lib, x: x.sin(), lambda x: True),
    "cos": (lambda lib, x: x.cos(), lambda x: True),
    "neg": (lambda lib, x: -x, lambda x: True),
    "square": (lambda lib, x: x * x, _small),
    "cube": (lambda lib, x: x ** 3, _small),
    "exp": (lambda lib, x: x.exp(), _small),
    "softplus": (_softplus, lambda x: True),
    "log(x*x + 1)": (lambda lib, x: (x * x + 1).log(), _small),
    "sqrt(x*x + 0.5)": (lambda lib, x: (x * x + 0.5).sqrt(), _small),
    "(x*x + 1) ** 1.5": (lambda lib, x: (x * x + 1) ** 1.5, _small),
    "1 / (x*x + 1)": (lambda lib, x: 1 / (x * x + 1), _small),
    "abs": (lambda lib, x: x.abs(), _away_from_zero),
    "relu": (lambda lib, x: x.relu(), _away_from_zero),
    "clamp(-0.5, 0.5)": (lambda lib, x: x.clamp(-0.5, 0.5),
                         lambda x: bool(np.all(np.abs(np.abs(x) - 0.5) > 1e-3))),
    "2.5 * x - 1": (lambda lib, x: 2.5 * x - 1, lambda x: True),
}

BINARY: dict[str, Callable] = {
    "x + y": lambda lib, x, y: x + y,
    "x - y": lambda lib, x, y: x - y,
    "x * y": lambda lib, x, y: x * y,
    "x / (y*y + 1)": lambda lib, x, y: x / (y * y + 1),
    "maximum(x, y)": lambda lib, x, y: lib.maximum(x, y),
    "where(y > 0, x, y)": lambda lib, x, y: lib.where(y > 0, x, y),
    "x * y + x": lambda lib, x, y: x * y + x,  # x used twice in one step
}


def _no_ties(x: np.ndarray, dim: int | None) -> bool:
    """The largest value along ``dim`` (or overall) is unique, by a margin: max is smooth."""
    if x.size == 0:
        return False
    flat = x.reshape(-1, 1) if dim is None else np.moveaxis(x, dim, -1).reshape(-1, x.shape[dim])
    if flat.shape[-1] < 2:
        return True
    top = np.sort(flat, axis=-1)[:, -2:]
    return bool(np.all(top[:, 1] - top[:, 0] > 1e-4))


def _not_constant(x: np.ndarray, dim: int | None) -> bool:
    """Spread well above zero along ``dim``: std is smooth (its 0/0 point is tested elsewhere)."""
    return bool(np.all(np.std(x, axis=dim) > 1e-3)) and (
        x.size > 1 if dim is None else x.shape[dim] > 1)


def _dims(ndim: int) -> st.SearchStrategy:
    return st.integers(-ndim, ndim - 1) if ndim else st.sampled_from([0, -1])


@st.composite
def step(draw, x: np.ndarray) -> Step | None:
    """A step applicable to the value ``x`` (a numpy array), or None if the one drawn is not."""
    nd = x.ndim
    kind = draw(st.sampled_from(["unary", "unary", "binary", "binary", "reduce", "move",
                                 "move", "matmul", "softmax", "join", "index"]))
    if kind == "unary":
        name = draw(st.sampled_from(sorted(UNARY)))
        fn, ok = UNARY[name]
        return Step(name, fn) if ok(x) else None
    if kind == "binary":
        name = draw(st.sampled_from(sorted(BINARY)))
        # y broadcasts against x: drop leading dims and set some sizes to 1, or add a dim
        start = draw(st.integers(0, nd))
        shape = [1 if draw(st.booleans()) else s for s in x.shape[start:]]
        if start == 0 and nd < 3 and draw(st.integers(0, 3)) == 0:
            shape = [draw(st.integers(1, 3)), *shape]  # y brings a new leading dim
        y = draw(_leaf_values(tuple(shape)))
        if name == "maximum(x, y)" and not np.all(np.abs(x - y) > 1e-4):
            return None  # a tie: maximum has no derivative there
        fn = BINARY[name]
        if draw(st.booleans()):  # the other operand order: y op x
            return Step(f"{name}, with x and y swapped", lambda lib, a, b: fn(lib, b, a), [y])
        return Step(name, fn, [y])
    if kind == "reduce":
        op = draw(st.sampled_from(["sum", "mean", "amax", "amin", "std", "var", "logsumexp",
                                   "max(dim)"]))
        dim = None if (nd == 0 or draw(st.booleans())) and op not in (
            "logsumexp", "max(dim)") else draw(_dims(nd))
        keep = draw(st.booleans())
        d = None if dim is None or nd == 0 else dim % nd
        if op in ("amax", "amin", "max(dim)") and not _no_ties(x if op != "amin" else -x, d):
            return None
        if op in ("std", "var") and (nd == 0 or not _not_constant(x, d)):
            return None
        kw = {} if dim is None else {"dim": dim, "keepdim": keep}
        if op == "max(dim)":
            return Step(f"x.max(dim={dim}, keepdim={keep}).values",
                        lambda lib, v: v.max(dim=dim, keepdim=keep)[0])
        if op in ("std", "var"):
            corr = draw(st.sampled_from([0, 1]))
            if corr and (x.size if d is None else x.shape[d]) < 2:
                return None
            return Step(f"x.{op}({kw}, correction={corr})",
                        lambda lib, v: getattr(v, op)(correction=corr, **kw))
        return Step(f"x.{op}({kw})", lambda lib, v: getattr(v, op)(**kw))
    if kind == "move":
        if nd == 0:
            return Step("x.reshape(1, 1)", lambda lib, v: v.reshape(1, 1))
        op = draw(st.sampled_from(["reshape", "flatten", "transpose", "permute", "unsqueeze",
                                   "squeeze", "expand", "T"]))
        if op == "reshape":  # to 2-D, keeping the first dim
            shape = (x.shape[0], -1)
            return Step(f"x.reshape{shape}", lambda lib, v: v.reshape(*shape))
        if op == "flatten":
            return Step("x.flatten()", lambda lib, v: v.flatten())
        if op in ("transpose", "T") and nd >= 2:
            a, b = draw(_dims(nd)), draw(_dims(nd))
            return Step(f"x.transpose({a}, {b})", lambda lib, v: v.transpose(a, b))
        if op == "permute":
            perm = tuple(draw(st.permutations(range(nd))))
            return Step(f"x.permute{perm}", lambda lib, v: v.permute(*perm))
        if op == "unsqueeze" and nd < 4:
            d = draw(st.integers(-nd - 1, nd))
            return Step(f"x.unsqueeze({d})", lambda lib, v: v.unsqueeze(d))
        if op == "squeeze" and 1 in x.shape:
            d = x.shape.index(1)
            return Step(f"x.squeeze({d})", lambda lib, v: v.squeeze(d))
        if op == "expand":  # sizes of 1 grow to 3, or a new leading dim of 2
            if 1 in x.shape:
                sizes = tuple(3 if s == 1 else s for s in x.shape)
                return Step(f"x.expand{sizes}", lambda lib, v: v.expand(*sizes))
            sizes = (2, *x.shape)
            return Step(f"x.expand{sizes}", lambda lib, v: v.expand(*sizes))
        return None
    if kind == "matmul":
        if nd == 0:
            return None
        k = draw(st.integers(1, 3))
        w = draw(_leaf_values((x.shape[-1], k) if draw(st.booleans()) else (x.shape[-1],)))
        return Step("x @ w", lambda lib, v, wt: v @ wt, [w])
    if kind == "softmax":
        if nd == 0:
            return None
        d = draw(_dims(nd))
        op = draw(st.sampled_from(["softmax", "log_softmax"]))
        return Step(f"x.{op}(dim={d})", lambda lib, v: getattr(v, op)(dim=d))
    if kind == "join":
        d = draw(_dims(nd)) if nd else 0
        op = draw(st.sampled_from(["cat", "stack"]))
        if op == "cat" and nd == 0:
            return None
        return Step(f"{op}([x, 2 * x.sin()], dim={d})",
                    lambda lib, v: getattr(lib, op)([v, 2 * v.sin()], dim=d))
    # index: basic and advanced, with a repeated index (gradients accumulate)
    if nd == 0:
        return None
    n = x.shape[0]
    form = draw(st.sampled_from(["int", "slice", "list", "mask"]))
    if form == "int":
        i = draw(st.integers(-n, n - 1))
        return Step(f"x[{i}]", lambda lib, v: v[i])
    if form == "slice":
        start, stepsize = draw(st.integers(0, n - 1)), draw(st.integers(1, 2))
        return Step(f"x[..., {start}::{stepsize}]" if x.shape[-1] > start else f"x[{start}::]",
                    (lambda lib, v: v[..., start::stepsize]) if x.shape[-1] > start
                    else (lambda lib, v: v[start::]))
    if form == "list":
        idx = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))
        return Step(f"x[{idx}]", lambda lib, v: v[_index(lib, idx)])
    mask = x > np.median(x)
    if not mask.any():
        return None
    return Step("x[x > median(x)]", lambda lib, v: v[_index(lib, mask)])


def _index(lib, idx):
    return torch.as_tensor(np.asarray(idx)) if lib is torch else tg.tensor(np.asarray(idx))


def _leaf_values(shape: tuple) -> st.SearchStrategy:
    """Values in [-2, 2], made distinct by a small ramp (hypothesis likes repeating 0.0)."""
    elements = st.floats(-2, 2, allow_nan=False, allow_infinity=False, width=64)
    return hnp.arrays(np.float64, shape, elements=elements).map(_distinct)


def _distinct(x: np.ndarray) -> np.ndarray:
    ramp = np.argsort(np.argsort(x.ravel(), kind="stable"), kind="stable") * 0.0137
    return (x.ravel() + ramp + 0.011).reshape(x.shape)


def _run(lib, program: list[Step], x0: np.ndarray):
    """Run a program: returns (output, leaves), every leaf a float64 tensor requiring grad."""
    def leaf(a: np.ndarray):
        if lib is torch:
            return torch.tensor(a, dtype=torch.float64, requires_grad=True)
        return tg.tensor(a, dtype=tg.float64, requires_grad=True)

    leaves = [leaf(x0)]
    v = leaves[0]
    for s in program:
        extra = [leaf(a) for a in s.args]
        leaves += extra
        v = s.run(lib, v, *extra)
    return v, leaves


@st.composite
def programs(draw) -> tuple[np.ndarray, list[Step]]:
    """A start value and 3-6 steps, each drawn where it applies to the value so far."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    x0 = draw(_leaf_values(shape))
    program: list[Step] = []
    wanted = draw(st.integers(3, 6))
    for _attempt in range(40):
        if len(program) == wanted:
            break
        current, _ = _run(torch, program, x0)
        s = draw(step(current.detach().numpy()))
        if s is None:
            continue
        trial, _ = _run(torch, [*program, s], x0)
        value = trial.detach().numpy()
        if value.size == 0 or value.size > 400 or not np.all(np.isfinite(value)):
            continue
        program.append(s)
    return x0, program


def _numpy(t) -> np.ndarray:
    return t.detach().numpy(force=True) if isinstance(t, torch.Tensor) else t.numpy()


def _weights(shape: tuple) -> np.ndarray:
    """Fixed, uneven weights for the scalar we differentiate (a plain sum hides permutations)."""
    return np.cos(np.arange(int(np.prod(shape))) * 0.7 + 0.3).reshape(shape)


def _assert_close(ours, theirs, what: str, program) -> None:
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL,
                               err_msg=f"{what} differ for the program {program}")


@FUZZ
@given(programs())
def test_values_and_gradients_match_pytorch(case) -> None:
    x0, program = case
    out_t, leaves_t = _run(torch, program, x0)
    out_g, leaves_g = _run(tg, program, x0)
    assert out_g.shape == tuple(out_t.shape), program
    assert out_g.dtype == np.float64, program
    _assert_close(_numpy(out_g), _numpy(out_t), "values", program)

    w = _weights(tuple(out_t.shape))
    (out_t * torch.from_numpy(w)).sum().backward()
    (out_g * tg.tensor(w)).sum().backward()
    for i, (lg, lt) in enumerate(zip(leaves_g, leaves_t, strict=True)):
        expected = np.zeros(lt.shape) if lt.grad is None else lt.grad.numpy()
        assert lg.grad is not None, f"leaf {i} lost its gradient in {program}"
        _assert_close(lg.grad.numpy(), expected, f"gradients of leaf {i}", program)


@FUZZ_SECOND_ORDER
@given(programs())
def test_second_derivatives_match_pytorch(case) -> None:
    """grad(create_graph=True), then the gradient of a weighted sum of those gradients."""
    x0, program = case
    results = []
    for lib, grad in ((torch, torch.autograd.grad), (tg, tg.grad)):
        out, leaves = _run(lib, program, x0)
        w = _weights(tuple(out.shape))
        scalar = (out * (torch.from_numpy(w) if lib is torch else tg.tensor(w))).sum()
        firsts = grad(scalar, leaves, create_graph=True, allow_unused=True)
        total = sum(((g * g).sum() * 0.5 + g.sin().sum()) for g in firsts
                    if g is not None and g.requires_grad)
        seconds = ([None] * len(leaves) if isinstance(total, int)
                   else grad(total, leaves, allow_unused=True))
        seconds = [np.zeros(leaf.shape) if s is None else _numpy(s)
                   for leaf, s in zip(leaves, seconds, strict=True)]
        results.append(([None if g is None else _numpy(g) for g in firsts], seconds))
    (firsts_t, seconds_t), (firsts_g, seconds_g) = results
    for i, (ft, fg) in enumerate(zip(firsts_t, firsts_g, strict=True)):
        _assert_close(np.zeros_like(x0) if fg is None else fg,
                      np.zeros_like(x0) if ft is None else ft, f"first gradients ({i})", program)
    for i, (st_, sg) in enumerate(zip(seconds_t, seconds_g, strict=True)):
        _assert_close(sg, st_, f"second derivatives of leaf {i}", program)


def test_programs_cover_every_kind_of_step() -> None:
    """The generator is not stuck on a few ops: a fixed sample of 300 programs, drawn as the
    tests above draw theirs, uses every kind of step."""
    seen: set[str] = set()

    @settings(max_examples=300, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(programs())
    def collect(case) -> None:
        seen.update(s.text for s in case[1])

    collect()
    for needed in ("x.sum", "x.amax", "x.std", "x.var", "x.logsumexp", "x.softmax", "x @ w",
                   "x.permute", "x.transpose", "x.expand", "cat", "stack", "x + y", "x * y",
                   "maximum", "where", "exp", "abs", "relu"):
        assert any(text.startswith(needed) for text in seen), (needed, sorted(seen))


@pytest.mark.parametrize("count", [3, 6])
def test_a_program_of_the_requested_length_runs_in_both(count) -> None:
    """The harness itself: a hand-written program gives the same numbers as direct calls."""
    x0 = np.array([[0.3, -1.2, 2.0], [0.5, 0.1, -0.7]])
    program = [Step("tanh", UNARY["tanh"][0]), Step("x.sum({'dim': 1})",
               lambda lib, v: v.sum(dim=1)), Step("exp", UNARY["exp"][0])][:count]
    program += [Step("neg", UNARY["neg"][0])] * (count - len(program))
    out, leaves = _run(tg, program, x0)
    expected = np.exp(np.tanh(x0).sum(axis=1)) * (-1) ** (count - 3)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert len(leaves) == 1 and leaves[0].requires_grad
