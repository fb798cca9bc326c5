"""Edge cases that must never give a silent wrong answer (issue 12, items 2 and 5): hooks that
change a gradient's shape or dtype, 0/0 forms of derivatives that exist, empty tensors, and
bad dims or operands. PyTorch (float64) is the oracle for values and for the kind of error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.numpy_mode import as_numpy_tensor, tracing

# ---------------------------------------------------------------------------- hooks


def _leaf(x):
    return x


def _nonleaf(x):
    return x * 2


@pytest.mark.parametrize("make", [_leaf, _nonleaf], ids=["leaf", "non-leaf"])
def test_hook_changing_the_size_is_an_error_naming_the_hook(make):
    def f(g):
        return tg.ones(5)

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = make(x)
    y.register_hook(f)
    with pytest.raises(RuntimeError, match=r"hook 'f' has changed the size of value: expected "
                       r"\(2,\), got \(5,\)"):
        y.sum().backward()
    assert x.grad is None
    # PyTorch refuses it too
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = make(tx)
    ty.register_hook(lambda g: torch.ones(5))
    with pytest.raises(RuntimeError, match="changed the size"):
        ty.sum().backward()


@pytest.mark.parametrize("make", [_leaf, _nonleaf], ids=["leaf", "non-leaf"])
def test_hook_changing_the_dtype_is_an_error(make):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = make(x)
    y.register_hook(lambda g: g.long())
    with pytest.raises(RuntimeError, match=r"hook '<lambda>' has changed the type of value"):
        y.sum().backward()


def test_hook_returning_something_else_is_a_type_error():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: 5)
    with pytest.raises(TypeError, match=r"hook '<lambda>' returned int"):
        x.sum().backward()


# ---------------------------------------------------------------------------- 0/0 forms


def _grads_torch(fn, arrays, order):
    """First (order 1) or second (order 2, of the sum of the first) derivatives by torch."""
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(*ts).sum()
    gs = torch.autograd.grad(out, ts, create_graph=order == 2, allow_unused=True)
    if order == 2:
        s = sum(g.sum() for g in gs if g is not None and g.requires_grad)
        if not torch.is_tensor(s) or not s.requires_grad:
            return [np.zeros_like(a) for a in arrays]
        gs = torch.autograd.grad(s, ts, allow_unused=True)
    return [np.zeros_like(a) if g is None else g.detach().numpy() for g, a in zip(gs, arrays)]


def _grads_ours(fn, arrays, order):
    ts = [tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*ts).sum()
    gs = tg.grad(out, ts, create_graph=order == 2, allow_unused=True)
    if order == 2:
        parts = [g.sum() for g in gs if g is not None and g.requires_grad]
        if not parts:
            return [np.zeros_like(a) for a in arrays]
        gs = tg.grad(sum(parts[1:], parts[0]), ts, allow_unused=True)
    return [np.zeros_like(a) if g is None else g.numpy() for g, a in zip(gs, arrays)]


def _same(ours, theirs, what):
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=what)


# values with exact zeros, many of them
_with_zeros = st.lists(
    st.one_of(st.just(0.0), st.floats(-3, 3, allow_nan=False).filter(lambda v: abs(v) > 1e-3)),
    min_size=1,
    max_size=6,
).map(np.array)


@settings(max_examples=60, deadline=None)
@given(
    x=_with_zeros,
    exponent=st.sampled_from([0, 1, 2, 3, 0.0, 1.0, 2.0]),
    order=st.sampled_from([1, 2]),
)
def test_pow_with_a_number_exponent_matches_pytorch_at_zero(x, exponent, order):
    def fn(t):
        return t**exponent

    _same(_grads_ours(fn, [x], order)[0], _grads_torch(fn, [x], order)[0], f"x**{exponent}")


@settings(max_examples=60, deadline=None)
@given(
    base=st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]), min_size=3, max_size=3),
    exponent=st.lists(st.sampled_from([0.0, 1.0, 2.0, 0.5, -1.0]), min_size=3, max_size=3),
)
def test_pow_with_a_tensor_exponent_matches_pytorch_at_zero(base, exponent):
    arrays = [np.array(base), np.array(exponent)]

    def fn(a, b):
        return a**b

    for ours, theirs, name in zip(_grads_ours(fn, arrays, 1), _grads_torch(fn, arrays, 1), "xy"):
        _same(ours, theirs, f"d(x**y)/d{name} at x={base}, y={exponent}")


def test_the_measured_0_over_0_forms():
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    (x**0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    x = tg.tensor(0.0, requires_grad=True)
    (g,) = tg.grad(x**1, x, create_graph=True)
    (g2,) = tg.grad(g, x)
    assert float(g2) == 0.0
    for f in ("std", "var"):
        x = tg.tensor([2.0, 2.0, 2.0], requires_grad=True)
        getattr(x, f)().backward()
        assert x.grad.tolist() == [0.0, 0.0, 0.0], f


_dims_kw = st.sampled_from(
    [{}, {"dim": 0}, {"dim": 1}, {"dim": -1, "keepdim": True}, {"dim": (0, 1)}]
)


@settings(max_examples=80, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    constant=st.booleans(),
    seed=st.integers(0, 2**16),
    kw=_dims_kw,
    correction=st.sampled_from([0, 1]),
    fname=st.sampled_from(["std", "var"]),
    order=st.sampled_from([1, 2]),
)
def test_std_and_var_match_pytorch_also_for_constants(
    shape, constant, seed, kw, correction, fname, order
):
    rng = np.random.default_rng(seed)
    if constant:  # a dyadic constant, so that PyTorch's own mean of it is exact too
        x = np.full(shape, rng.integers(-8, 8) / 4)
    else:
        x = rng.uniform(-2, 2, size=shape)
        x[rng.random(shape) < 0.3] = 0.0

    def fn(t):
        return getattr(t, fname)(correction=correction, **kw)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degrees of freedom <= 0: both warn, both give nan
        theirs = fn(torch.tensor(x)).numpy()
        ours = fn(tg.tensor(x)).numpy()
        _same(ours, theirs, f"{fname}{kw} value")
        _same(_grads_ours(fn, [x], order)[0], _grads_torch(fn, [x], order)[0],
              f"{fname}({kw}, correction={correction}) order {order} of {x}")


@pytest.mark.parametrize("fname", ["std", "var"])
def test_numpy_mode_std_of_a_constant_has_gradient_zero(fname):
    # 0.1 has no exact mean over 7 copies: without care the std is 1e-17 and its gradient O(1)
    x = as_numpy_tensor(np.full((2, 7), 0.1), requires_grad=True)
    with tracing():
        y = getattr(np, fname)(x, axis=1)  # numpy's ddof=0
    y.sum().backward()
    assert y.data.tolist() == [0.0, 0.0]
    assert x.grad.tolist() == [[0.0] * 7] * 2


def test_norm_of_zeros_has_gradient_zero_as_in_pytorch():
    x = as_numpy_tensor(np.array([0.0, 0.0, 3.0]), requires_grad=True)
    with tracing():
        y = np.linalg.norm(x[:2]) + np.linalg.norm(x)
    y.backward()
    t = torch.tensor([0.0, 0.0, 3.0], dtype=torch.float64, requires_grad=True)
    (torch.linalg.vector_norm(t[:2]) + torch.linalg.vector_norm(t)).backward()
    assert x.grad.tolist() == t.grad.tolist() == [0.0, 0.0, 1.0]
