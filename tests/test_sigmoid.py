"""The sigmoid computes exp(-x) in a numpy context that ignores overflow (not a per-call
``np.errstate``): it must stay exact, quiet for any input, and leave the caller's numpy error
state alone, in every thread."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.ops import elementwise as ew

from .helpers import assert_close, numeric_vjp

_HUGE = [-1e300, -1e30, -1e4, -800.0, -710.0, -100.0, -89.0, -88.0, 88.0, 89.0, 710.0, 1e4,
         1e30, 1e300, np.inf, -np.inf]


def _values(dtype):
    """Arrays of ``dtype``: any finite numbers of that type, and the values whose exp(-x)
    overflows (or underflows) in float32 or float64."""
    finite = st.floats(allow_nan=False, allow_infinity=False, width=np.finfo(dtype).bits)
    return st.lists(st.one_of(finite, st.sampled_from(_HUGE)), min_size=1, max_size=8).map(
        lambda v: np.array(v, dtype=np.float64).astype(dtype))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64]))
def test_sigmoid_of_any_value_is_quiet_exact_and_pytorchs(data, dtype) -> None:
    with np.errstate(over="ignore"):  # the cast of 1e300 to float32 is inf
        x = data.draw(_values(dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = tg.tensor(x).sigmoid().numpy()
    assert out.dtype == dtype and not np.isnan(out).any() and ((out >= 0) & (out <= 1)).all()
    with np.errstate(over="ignore"):  # the formula the rule computes, where exp overflows too
        formula = 1 / (1 + np.exp(-x))
    assert out.tobytes() == formula.tobytes()
    exact = torch.sigmoid(torch.from_numpy(x.astype(np.float64))).numpy()
    # at most a few ulp off; 0 where the true value is below the smallest normal number
    tiny = np.finfo(dtype).tiny
    np.testing.assert_allclose(out, exact, rtol=4 * np.finfo(dtype).eps, atol=tiny)
    assert (out[x < -1e4] == 0).all() and (out[x > 1e4] == 1).all()


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(-30, 30), min_size=1, max_size=6))
def test_sigmoid_gradient_matches_float64_central_differences(values) -> None:
    x = np.array(values)
    cot = np.linspace(-1, 1, x.size)
    t = tg.tensor(x, requires_grad=True)
    (t.sigmoid() * tg.tensor(cot)).sum().backward()
    numeric = numeric_vjp(lambda a: a.sigmoid(), [x], {}, cot, 0)
    assert_close(t.grad.numpy(), numeric, atol=1e-8, rtol=1e-6, what="sigmoid gradient")


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.floats(-20, 20), min_size=1, max_size=5))
def test_sigmoid_second_derivative_matches_central_differences(values) -> None:
    x = np.array(values)

    def first_derivative(a):
        with tg.enable_grad():
            a = a.detach().requires_grad_()
            (g,) = tg.grad(a.sigmoid().sum(), [a], create_graph=True)
            return g.detach()

    t = tg.tensor(x, requires_grad=True)
    (g,) = tg.grad(t.sigmoid().sum(), [t], create_graph=True)
    g.sum().backward()
    numeric = numeric_vjp(first_derivative, [x], {}, np.ones(x.shape), 0)
    assert_close(t.grad.numpy(), numeric, atol=1e-8, rtol=1e-6, what="sigmoid second derivative")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_of_0d_values_and_numpy_scalars(dtype) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x in (np.array(-1000, dtype), dtype(-1000), np.array(1000, dtype)):
            out = tg.tensor(x).sigmoid()
            assert out.shape == () and out.dtype == dtype
            assert out.item() == (0.0 if x < 0 else 1.0)
        assert tg.tensor(dtype(0.5)).sigmoid().item() == 1 / (1 + np.exp(dtype(-0.5)))


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128, np.int64, np.int32])
def test_sigmoid_of_complex_and_integer_arrays_is_the_reciprocal_formula(dtype) -> None:
    # numpy's complex reciprocal and 1 / z differ in the last bits: the rule keeps the former
    rng = np.random.default_rng(5)
    x = (rng.uniform(-30, 30, 64) + (1j * rng.uniform(-3, 3, 64) if dtype().dtype.kind == "c"
                                      else 0)).astype(dtype)
    e = np.exp(-x)
    e += 1
    expected = np.reciprocal(e)
    out = ew.Sigmoid.forward(ew.Sigmoid._backward_cls(), x)
    assert out.dtype == expected.dtype and out.tobytes() == expected.tobytes()


def test_sigmoid_of_integers_is_float64_as_numpys_exp() -> None:
    out = tg.tensor([-1000, 0, 3]).sigmoid()
    assert out.dtype == np.float64
    assert out.numpy().tolist() == [0.0, 0.5, 1 / (1 + np.exp(-3.0))]


def test_sigmoid_leaves_the_callers_error_state_alone() -> None:
    with np.errstate(over="raise", under="raise"):
        assert tg.tensor([-1e4, 1e4]).sigmoid().numpy().tolist() == [0.0, 1.0]
        assert np.geterr()["over"] == "raise"
        with pytest.raises(FloatingPointError):
            np.exp(np.float32(100))
    with pytest.warns(RuntimeWarning, match="overflow"):  # numpy's default again
        np.exp(np.float32(100))


def test_sigmoid_is_quiet_and_exact_in_several_threads_at_once() -> None:
    x = np.linspace(-1000, 1000, 2001).astype(np.float32)
    expected = ew._sigmoid(x).tobytes()
    results, errors = [], []

    def work() -> None:
        try:
            results.extend(ew._sigmoid(x).tobytes() for _ in range(200))
        except Exception as e:  # reported by the assert below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    with warnings.catch_warnings():  # the filters are the process's: every thread's warning
        warnings.simplefilter("error")
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == [] and set(results) == {expected} and len(results) == 800
