"""torch_math's elementwise and product functions against PyTorch 2.13: values, dtypes,
gradients (hypothesis-drawn shapes and values), float64 central differences, and the edge
cases the PyTorch docs name (sign rules, rounding modes, 0 ** n, inf/nan)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg

from .torch_api_b_oracle import (
    against_torch,
    floats,
    gradcheck64,
    second_order_against_torch,
    small_shapes,
)

# name -> (our function, torch's, input range): smooth unary functions inside their domains
UNARY = {
    "rsqrt": (tg.rsqrt, torch.rsqrt, (0.1, 10)),
    "tan": (tg.tan, torch.tan, (-1.2, 1.2)),
    "atan": (tg.atan, torch.atan, (-5, 5)),
    "asin": (tg.asin, torch.asin, (-0.95, 0.95)),
    "acos": (tg.acos, torch.acos, (-0.95, 0.95)),
    "sinh": (tg.sinh, torch.sinh, (-3, 3)),
    "cosh": (tg.cosh, torch.cosh, (-3, 3)),
    "asinh": (tg.asinh, torch.asinh, (-5, 5)),
    "acosh": (tg.acosh, torch.acosh, (1.1, 5)),
    "atanh": (tg.atanh, torch.atanh, (-0.9, 0.9)),
    "log2": (tg.log2, torch.log2, (0.1, 10)),
    "log10": (tg.log10, torch.log10, (0.1, 10)),
    "exp2": (tg.exp2, torch.exp2, (-5, 5)),
    "logit": (tg.logit, torch.logit, (0.05, 0.95)),
    "erfinv": (tg.erfinv, torch.erfinv, (-0.95, 0.95)),
    "neg": (tg.neg, torch.neg, (-5, 5)),
    "frac": (tg.frac, torch.frac, (-5, 5)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=12)
@given(data=st.data())
def test_unary_matches_torch(name, data):
    ours, theirs, (lo, hi) = UNARY[name]
    x = data.draw(floats(lo, hi, small_shapes()))
    against_torch(ours, theirs, [x], atol=1e-9, rtol=1e-7)
    x32 = x.astype(np.float32)
    against_torch(ours, theirs, [x32], atol=1e-5, rtol=2e-5)
    against_torch(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), [x32],
                  atol=1e-5, rtol=2e-5)


@pytest.mark.parametrize("name", ["rsqrt", "tan", "asin", "acosh", "log2", "exp2", "logit",
                                  "erfinv", "frac"])
@settings(max_examples=10)
@given(data=st.data())
def test_unary_gradient_central_differences(name, data):
    ours, _, (lo, hi) = UNARY[name]
    x = data.draw(floats(lo, hi, small_shapes(1, 2)))
    assume(np.all(np.abs(x - np.round(x)) > 1e-3))  # frac jumps at the integers
    gradcheck64(ours, [x])


def test_sgn_is_the_sign_with_zero_gradient():
    x = tg.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    y = tg.sgn(x)
    y.sum().backward()
    assert y.tolist() == torch.sgn(torch.tensor([-2.0, 0.0, 3.0])).tolist()
    assert x.grad.tolist() == [0.0, 0.0, 0.0] and x.sgn().tolist() == y.tolist()


def _divisor(lo: float = 0.3, hi: float = 4) -> st.SearchStrategy:
    """Nonzero divisors of either sign, away from 0."""
    return st.floats(lo, hi).flatmap(lambda v: st.sampled_from([v, -v]))


BINARY = {
    "atan2": (tg.atan2, torch.atan2, _divisor(0.1, 3), _divisor()),  # no branch cut
    "xlogy": (tg.xlogy, torch.xlogy, st.floats(-3, 3), st.floats(0.1, 5)),
    "remainder": (tg.remainder, torch.remainder, st.floats(-10, 10), _divisor()),
    "fmod": (tg.fmod, torch.fmod, st.floats(-10, 10), _divisor()),
    "div": (tg.div, torch.div, st.floats(-10, 10), _divisor()),
    "mul": (tg.mul, torch.mul, st.floats(-10, 10), st.floats(-10, 10)),
    "pow": (tg.pow, torch.pow, st.floats(0.1, 3), st.floats(-2, 2)),
    "add": (lambda a, b: tg.add(a, b, alpha=-2.5), lambda a, b: torch.add(a, b, alpha=-2.5),
            st.floats(-10, 10), st.floats(-10, 10)),
    "sub": (lambda a, b: tg.sub(a, b, alpha=3), lambda a, b: torch.sub(a, b, alpha=3),
            st.floats(-10, 10), st.floats(-10, 10)),
}


def _broadcast_pair(data, left: st.SearchStrategy, right: st.SearchStrategy):
    shape = data.draw(small_shapes(1, 3))
    other = data.draw(st.sampled_from([shape, shape[1:], (1, *shape[1:])]))
    a = data.draw(hnp.arrays(np.float64, shape, elements=left))
    b = data.draw(hnp.arrays(np.float64, other, elements=right))
    return a, b


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=12)
@given(data=st.data())
def test_binary_matches_torch(name, data):
    ours, theirs, left, right = BINARY[name]
    a, b = _broadcast_pair(data, left, right)
    against_torch(ours, theirs, [a, b], atol=1e-9, rtol=1e-7)
    against_torch(ours, theirs, [a.astype(np.float32), b.astype(np.float32)], atol=1e-5,
                  rtol=2e-5)


@pytest.mark.parametrize("name", ["atan2", "xlogy", "pow", "div"])
@settings(max_examples=12)
@given(data=st.data())
def test_binary_gradient_central_differences(name, data):
    ours, _, left, right = BINARY[name]
    gradcheck64(ours, list(_broadcast_pair(data, left, right)))


@settings(max_examples=12)
@given(data=st.data())
def test_lerp_matches_torch(data):
    shape = data.draw(small_shapes(1, 3))
    a, b, w = (data.draw(floats(-5, 5, shape)) for _ in range(3))
    against_torch(tg.lerp, torch.lerp, [a, b, w], atol=1e-9, rtol=1e-7)
    against_torch(lambda s, e: s.lerp(e, 0.3), lambda s, e: s.lerp(e, 0.3), [a, b])
    gradcheck64(tg.lerp, [a, b, w])


# ----------------------------------------------------------------------------- edge cases
SIGNS = np.array([-7.5, -7.0, -3.0, -0.5, 0.0, 0.5, 3.0, 7.0, 7.5])


@pytest.mark.parametrize("name", ["remainder", "fmod"])
def test_remainder_and_fmod_sign_rules(name):
    a, b = SIGNS[:, None], np.array([-2.0, 2.0, -0.1, 0.1])[None]
    against_torch(getattr(tg, name), getattr(torch, name), [a, b])
    # the true remainder of 1.0 by 0.1 (0.0999...), not 1.0 - floor(1.0 / 0.1) * 0.1 = 0
    assert getattr(tg, name)(tg.tensor(1.0, dtype=tg.float64), 0.1).item() == pytest.approx(
        getattr(torch, name)(torch.tensor(1.0, dtype=torch.float64), 0.1).item(), abs=1e-15)
    ints = np.array([-7, -6, 6, 7]), np.array([2, -2, 3, -3])
    against_torch(getattr(tg, name), getattr(torch, name), ints, grad=False)
    with pytest.raises(ZeroDivisionError):
        getattr(tg, name)(tg.tensor([1, 2]), tg.tensor([1, 0]))


def test_tensor_mod_and_numpy_mode_share_the_remainder():
    x = tg.tensor([1.0, -1.0], dtype=tg.float64, requires_grad=True)
    y = x % 0.1
    assert np.allclose(y.numpy(), np.remainder([1.0, -1.0], 0.1), rtol=0, atol=0)
    assert np.array_equal(np.remainder(x.detach(), 0.1).numpy(), y.detach().numpy())


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_div_rounding_modes_with_negatives(mode):
    a, b = SIGNS[:, None], np.array([-2.0, 2.0, -0.1, 0.1, 3.0])[None]
    against_torch(lambda x, y: tg.div(x, y, rounding_mode=mode),
                  lambda x, y: torch.div(x, y, rounding_mode=mode), [a, b])
    ints = np.array([[-7], [-6], [6], [7], [0]]), np.array([[2, -2, 3, -3]])
    against_torch(lambda x, y: tg.div(x, y, rounding_mode=mode),
                  lambda x, y: torch.div(x, y, rounding_mode=mode), ints, grad=False)
    with pytest.raises(ZeroDivisionError):
        tg.div(tg.tensor([1]), 0, rounding_mode=mode)
    with pytest.raises(ValueError, match="rounding_mode"):
        tg.div(tg.tensor([1.0]), 2, rounding_mode="round")


def test_floor_divide_matches_python():
    against_torch(tg.floor_divide, torch.floor_divide,  # torch has no floor_divide gradient
                  [np.array([1.0, -1.0, 7.5, -7.5]), np.array([0.1, 0.1, -2.0, 2.0])], grad=False)
    assert tg.floor_divide(tg.tensor([7, -7]), 2).tolist() == [3, -4]
    assert tg.tensor([7.0, -7.0]).floor_divide(2).tolist() == [3.0, -4.0]


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, -1, -2, 0.5, 2.0, 3.0])
def test_pow_of_negative_bases_and_zero(exponent):
    x = np.array([-2.0, -1.0, 0.0, 1.0, 3.0])
    against_torch(lambda t: tg.pow(t, exponent), lambda t: torch.pow(t, exponent), [x])


def test_pow_with_a_number_base_and_integer_tensors():
    against_torch(lambda t: tg.pow(2, t), lambda t: torch.pow(2, t), [np.array([-1.0, 0.0, 3.0])])
    against_torch(lambda t: tg.pow(t, 2), lambda t: torch.pow(t, 2), [np.array([-3, 4])],
                  grad=False)


def test_rsqrt_of_zero_is_inf_with_inf_gradient():
    against_torch(tg.rsqrt, torch.rsqrt, [np.array([0.0, 4.0])])
    x = tg.tensor([0.0], requires_grad=True)
    tg.rsqrt(x).sum().backward()
    assert tg.rsqrt(tg.tensor(0.0)).item() == np.inf and x.grad.item() == -np.inf


def test_logit_eps_and_the_ends():
    x = np.array([0.0, 1e-8, 0.3, 1.0 - 1e-8, 1.0])
    for eps in (None, 1e-6, 0.25):
        against_torch(lambda t, e=eps: tg.logit(t, eps=e), lambda t, e=eps: torch.logit(t, eps=e),
                      [x])
    against_torch(lambda t: t.logit(0.1), lambda t: t.logit(0.1), [np.array([0.05, 0.5, 1.2])])


def test_xlogy_at_zero_nan_and_negative():
    x = np.array([0.0, 0.0, 0.0, 0.0, 2.0, 2.0, np.nan])
    y = np.array([0.0, -1.0, 3.0, np.nan, 0.0, 3.0, 1.0])
    against_torch(tg.xlogy, torch.xlogy, [x, y])
    assert tg.xlogy(0.0, tg.tensor(0.0)).item() == 0
    against_torch(lambda t: t.xlogy(2.0), lambda t: t.xlogy(2.0), [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_to_num_defaults_follow_the_dtype(dtype):
    x = np.array([np.nan, np.inf, -np.inf, 1.5], dtype=dtype)
    against_torch(tg.nan_to_num, torch.nan_to_num, [x])
    against_torch(lambda t: t.nan_to_num(nan=1.0, posinf=2.0, neginf=-2.0),
                  lambda t: t.nan_to_num(nan=1.0, posinf=2.0, neginf=-2.0), [x])
    assert tg.nan_to_num(tg.tensor([1, 2])).tolist() == [1, 2]


def test_isclose_allclose_equal_with_nan_and_inf():
    a = np.array([1.0, np.nan, np.inf, -np.inf, 1.0, 0.0])
    b = np.array([1.0 + 1e-9, np.nan, np.inf, np.inf, 1.1, 1e-9])
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.2}, {"atol": 0.0, "rtol": 0.0}):
        expected = torch.isclose(torch.tensor(a), torch.tensor(b), **kw).numpy()
        assert np.array_equal(tg.isclose(tg.tensor(a), tg.tensor(b), **kw).numpy(), expected)
        assert np.array_equal(tg.tensor(a).isclose(tg.tensor(b), **kw).numpy(), expected)
        expected_all = torch.allclose(torch.tensor(a[:1]), torch.tensor(b[:1]), **kw)
        assert tg.allclose(tg.tensor(a[:1]), tg.tensor(b[:1]), **kw) is expected_all
    assert tg.allclose(tg.tensor([np.nan]), tg.tensor([np.nan])) is False
    assert tg.allclose(tg.tensor([np.nan]), tg.tensor([np.nan]), equal_nan=True) is True
    assert tg.equal(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.0])) is True
    assert tg.equal(tg.tensor([np.nan]), tg.tensor([np.nan])) is False
    assert tg.tensor([1.0]).equal(tg.tensor([1.0, 1.0])) is False


def test_isnan_isinf_isfinite_and_logical_ops_match_torch():
    x = np.array([0.0, np.nan, np.inf, -np.inf, -2.0])
    y = np.array([1.0, 0.0, 0.0, 2.0, 0.0])
    for name in ("isnan", "isinf", "isfinite"):
        assert np.array_equal(getattr(tg, name)(tg.tensor(x)).numpy(),
                              getattr(torch, name)(torch.tensor(x)).numpy())
    assert tg.tensor(x).isinf().dtype == np.bool_
    for name in ("logical_and", "logical_or", "logical_xor"):
        expected = getattr(torch, name)(torch.tensor(x), torch.tensor(y)).numpy()
        assert np.array_equal(getattr(tg, name)(tg.tensor(x), tg.tensor(y)).numpy(), expected)
        assert np.array_equal(getattr(tg.tensor(x), name)(tg.tensor(y)).numpy(), expected)
    assert np.array_equal(tg.logical_not(tg.tensor(y)).numpy(),
                          torch.logical_not(torch.tensor(y)).numpy())


def test_out_is_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"tg.add\(..., out=...\) is not supported"):
        tg.add(tg.ones(2), tg.ones(2), out=tg.zeros(2))


# ----------------------------------------------------------------------------- products
def _mats(data, *shapes):
    return [data.draw(floats(-3, 3, s)) for s in shapes]


@settings(max_examples=12)
@given(data=st.data(), n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4),
       b=st.integers(1, 3))
def test_mm_bmm_dot_outer_addmm_match_torch(data, n, k, m, b):
    x, w = _mats(data, (n, k), (k, m))
    against_torch(tg.mm, torch.mm, [x, w])
    against_torch(lambda p, q: p.mm(q), lambda p, q: p.mm(q), [x, w])
    xb, wb = _mats(data, (b, n, k), (b, k, m))
    against_torch(tg.bmm, torch.bmm, [xb, wb])
    u, v = _mats(data, (k,), (k,))
    against_torch(tg.dot, torch.dot, [u, v])
    against_torch(tg.outer, torch.outer, [u, x[0]])
    bias = data.draw(floats(-3, 3, st.sampled_from([(n, m), (m,), (1, m)])))
    against_torch(lambda c, p, q: tg.addmm(c, p, q, beta=0.5, alpha=-2),
                  lambda c, p, q: torch.addmm(c, p, q, beta=0.5, alpha=-2), [bias, x, w])
    against_torch(lambda c, p, q: c.addmm(p, q), lambda c, p, q: c.addmm(p, q), [bias, x, w])
    gradcheck64(lambda c, p, q: tg.addmm(c, p, q, beta=0.5, alpha=-2), [bias, x, w])


def test_addmm_with_beta_zero_ignores_nan_in_input():
    out = tg.addmm(tg.tensor([np.nan]), tg.ones(1, 2), tg.ones(2, 1), beta=0)
    assert out.tolist() == [[2.0]]


@pytest.mark.parametrize(("fn", "shapes", "match"), [
    (tg.mm, [(2, 3), (4, 2)], "cannot be multiplied"),
    (tg.mm, [(2, 3, 1), (1, 2)], "matrices"),
    (tg.bmm, [(2, 2, 3), (3, 3, 2)], "batch"),
    (tg.dot, [(2,), (3,)], "same number"),
    (tg.dot, [(2, 2), (2,)], "1D tensors"),
    (tg.outer, [(2, 2), (2,)], "1-D"),
])
def test_product_shape_errors_name_the_op_and_shapes(fn, shapes, match):
    with pytest.raises(RuntimeError, match=match):
        fn(*[tg.ones(*s) for s in shapes])


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("i,j->ij", [(2,), (3,)]),
    ("...ij,...jk", [(2, 2, 3), (3, 1)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 2), (1, 2, 2, 2)]),
    ("ij->", [(2, 3)]),
    ("ij,ij,ij->i", [(2, 2), (2, 2), (2, 2)]),
]


@pytest.mark.parametrize(("equation", "shapes"), EINSUMS)
@settings(max_examples=12)
@given(data=st.data())
def test_einsum_matches_torch(equation, shapes, data):
    arrays = _mats(data, *shapes)
    against_torch(lambda *ts: tg.einsum(equation, *ts),
                  lambda *ts: torch.einsum(equation, *ts), arrays)
    against_torch(lambda *ts: tg.einsum(equation, list(ts)),
                  lambda *ts: torch.einsum(equation, list(ts)), arrays)
    gradcheck64(lambda *ts: tg.einsum(equation, *ts), arrays)


def test_einsum_refuses_the_sublist_format():
    with pytest.raises(TypeError, match="sublist"):
        tg.einsum(tg.ones(2), [0])


@pytest.mark.parametrize(("shapes", "dims"), [
    ([(3, 4, 2), (4, 2, 5)], 2),
    ([(3, 4), (4, 5)], 1),
    ([(3, 2), (4, 5)], 0),
    ([(3, 4, 2), (2, 3, 5)], ([0, 2], [1, 0])),
    ([(3, 4), (4, 3)], ([[0], [1]])),
])
@settings(max_examples=12)
@given(data=st.data())
def test_tensordot_matches_torch(shapes, dims, data):
    arrays = _mats(data, *shapes)
    against_torch(lambda a, b: tg.tensordot(a, b, dims=dims),
                  lambda a, b: torch.tensordot(a, b, dims=dims), arrays)


SECOND_ORDER = {  # a function of one or two inputs and the arrays to differentiate it at
    "log2": (lambda x: tg.log2(x), lambda x: torch.log2(x), [[0.5, 2.0]]),
    "exp2": (lambda x: tg.exp2(x), lambda x: torch.exp2(x), [[-1.0, 0.5]]),
    "erfinv": (tg.erfinv, torch.erfinv, [[-0.5, 0.3]]),
    "logit": (tg.logit, torch.logit, [[0.2, 0.7]]),
    "rsqrt": (tg.rsqrt, torch.rsqrt, [[0.5, 2.0]]),
    "atan2": (tg.atan2, torch.atan2, [[0.5, -1.0], [1.5, 2.0]]),
    "xlogy": (tg.xlogy, torch.xlogy, [[0.5, -1.0], [1.5, 2.0]]),
    "remainder": (tg.remainder, torch.remainder, [[2.5, -1.0], [0.7, 0.3]]),
    "fmod": (tg.fmod, torch.fmod, [[2.5, -1.0], [0.7, 0.3]]),
    "lerp": (lambda a, b: tg.lerp(a, b, b), lambda a, b: torch.lerp(a, b, b),
             [[2.5, -1.0], [0.7, 0.3]]),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_derivatives_match_torch(name):
    ours, theirs, arrays = SECOND_ORDER[name]
    second_order_against_torch(ours, theirs, [np.array(a) for a in arrays])


def test_tensor_methods_take_alpha_and_rounding_mode_and_floordiv_keeps_integers():
    a, b = np.array([-7.0, 7.0, 1.0]), np.array([2.0, -2.0, 0.1])
    against_torch(lambda x, y: x.add(y, alpha=2), lambda x, y: x.add(y, alpha=2), [a, b])
    against_torch(lambda x, y: x.sub(y, alpha=0.5), lambda x, y: x.sub(y, alpha=0.5), [a, b])
    against_torch(lambda x, y: x.div(y), lambda x, y: x.div(y), [a, b])
    for mode in ("trunc", "floor"):
        against_torch(lambda x, y, m=mode: x.div(y, rounding_mode=m),
                      lambda x, y, m=mode: x.div(y, rounding_mode=m), [a, b])
    # // as Python's (1.0 // 0.1 is 9.0) and PyTorch's (integers stay integers)
    assert (tg.tensor(a) // tg.tensor(b)).tolist() == (torch.tensor(a) // torch.tensor(b)).tolist()
    ints = tg.tensor([7, -7]) // 2
    assert ints.dtype == np.int64 and ints.tolist() == [3, -4]
    assert (7 // tg.tensor([2, -2])).tolist() == [3, -4]


def test_erfinv_is_accurate_to_the_last_bits_in_the_tails():
    import mpmath  # installed with torch (through sympy)
    x = np.array([-1 + 2.0**-52, -0.999999999, -0.5, -1e-10, 0.3, 0.5, 0.99, 1 - 1e-13,
                  1 - 2.0**-53])
    with mpmath.workdps(40):  # 1 - x has few digits left at 15 near ±1
        exact = np.array([float(mpmath.erfinv(mpmath.mpf(v))) for v in x])
    assert np.allclose(tg.erfinv(tg.tensor(x)).numpy(), exact, rtol=4e-16, atol=0)
    edges = tg.erfinv(tg.tensor([-1.0, 1.0, 1.5, np.nan])).numpy()
    assert edges[0] == -np.inf and edges[1] == np.inf and np.isnan(edges[2:]).all()
