"""numpy code differentiated as numpy means it: every row of tests/numpy_table.py against numpy
itself (values), float64 central differences of numpy itself (gradients) and of the first
derivative (second derivatives); then what must never be silent, numpy_grad, and the line
between numpy's meaning (NumpyTensor) and PyTorch's (Tensor)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.numpy_mode import (
    LostGradientError,
    NumpyTensor,
    as_numpy_tensor,
    numpy_grad,
    numpy_value_and_grad,
    tracing,
)

from .helpers import assert_close, numeric_vjp
from .numpy_table import NP, NpSpec

ids = [s.name for s in NP]


def _run(spec: NpSpec, arrays, kwargs, requires_grad=True):
    xs = [as_numpy_tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad)
          for a in arrays]
    with tracing():
        return xs, spec.fn(*xs, **kwargs)


def _numpy(spec: NpSpec, arrays, kwargs) -> np.ndarray:
    return np.asarray(spec.fn(*[np.array(a, dtype=np.float64) for a in arrays], **kwargs),
                      dtype=np.float64)


def _numeric_vjp(spec, arrays, kwargs, cot, i) -> np.ndarray:
    return numeric_vjp(spec.fn, arrays, kwargs, cot, i,
                       evaluate=lambda fn, arrs, kw: _numpy(spec, arrs, kw))


def _cot(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, size=shape)


@pytest.mark.parametrize("spec", NP, ids=ids)
@settings(max_examples=10)
@given(data=st.data())
def test_values_match_numpy_and_carry_the_graph(spec: NpSpec, data) -> None:
    arrays, kwargs = data.draw(spec.cases)
    expected = _numpy(spec, arrays, kwargs)
    _, got = _run(spec, arrays, kwargs)
    assert isinstance(got, NumpyTensor), f"{spec.name} returned {type(got).__name__}"
    assert got.requires_grad, f"{spec.name}: the result lost the graph"
    assert_close(got.data, expected, atol=1e-12, rtol=1e-10, what=f"{spec.name} value")


@pytest.mark.parametrize("spec", NP, ids=ids)
@settings(max_examples=10)
@given(data=st.data())
def test_gradients_match_central_differences_of_numpy(spec: NpSpec, data) -> None:
    arrays, kwargs = data.draw(spec.cases)
    xs, out = _run(spec, arrays, kwargs)
    cot = _cot(out.shape)
    (out * cot).sum().backward()
    for i, x in enumerate(xs):
        numeric = _numeric_vjp(spec, arrays, kwargs, cot, i)
        actual = np.zeros_like(numeric) if x.grad is None else x.grad.data
        assert_close(actual, numeric, atol=1e-6, rtol=1e-5, what=f"{spec.name} d/d input {i}")


SMOOTH = [s for s in NP if s.smooth]


@pytest.mark.parametrize("spec", SMOOTH, ids=[s.name for s in SMOOTH])
@settings(max_examples=6)
@given(data=st.data())
def test_second_derivatives_match_central_differences(spec: NpSpec, data) -> None:
    arrays, kwargs = data.draw(spec.cases)
    cot = _cot(_numpy(spec, arrays, kwargs).shape, seed=1)
    weights = [_cot(np.shape(a), seed=2 + i) for i, a in enumerate(arrays)]

    def first_derivative_dot(*arrs):
        xs = [as_numpy_tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrs]
        with tracing():
            out = spec.fn(*xs, **kwargs)
        grads = tg.grad((out * cot).sum(), xs, create_graph=True, allow_unused=True)
        total = as_numpy_tensor(0.0)
        for g, w in zip(grads, weights):
            if g is not None:
                total = total + (g * w).sum()
        return xs, total

    xs, total = first_derivative_dot(*arrays)
    if not total.requires_grad:  # linear: the first derivative is constant
        return
    second = tg.grad(total, xs, allow_unused=True)
    for i in range(len(arrays)):
        x = np.array(arrays[i], dtype=np.float64)
        numeric = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            shifted = [np.array(a, dtype=np.float64) for a in arrays]
            shifted[i][idx] += 1e-6
            plus = float(first_derivative_dot(*shifted)[1].data)
            shifted[i][idx] -= 2e-6
            minus = float(first_derivative_dot(*shifted)[1].data)
            numeric[idx] = (plus - minus) / 2e-6
        actual = np.zeros_like(x) if second[i] is None else second[i].data
        assert_close(actual, numeric, atol=1e-5, rtol=1e-4,
                     what=f"{spec.name} second derivative w.r.t. input {i}")


# ------------------------------------------------------------------------- never silent
def _traced(*values):
    return [as_numpy_tensor(np.array(v, dtype=np.float64), requires_grad=True) for v in values]


@pytest.mark.parametrize("call, what", [
    (lambda v: math.exp(v[0]), "math.exp"),
    (lambda v: float("%.3f" % v[0]), "string formatting"),  # noqa: UP031  (the seed's code)
    (lambda v: float(v.sum()), "float()"),
    (lambda v: v.sum().item(), ".item()"),
    (lambda v: v.tolist(), ".tolist()"),
    (lambda v: int(v[0]), "int()"),
    (lambda v: np.mean([v[0], v[1]]), "np.mean"),
])
def test_conversions_that_lose_the_gradient_raise_naming_them(call, what) -> None:
    (v,) = _traced([0.5, 1.5])
    with pytest.raises(LostGradientError) as info:
        call(v)
    assert what in str(info.value)
    assert info.value.lineno > 0 and "call(v)" not in info.value.line


def test_writing_into_a_plain_numpy_array_is_named_and_suggests_zeros_like() -> None:
    def loss(w):
        out = np.zeros(2)
        out[0] = w[0] * 2
        return out.sum()

    with pytest.raises(LostGradientError, match="assignment into a numpy array.*zeros_like"):
        numpy_grad(loss)(np.ones(2))

    def fixed(w):
        out = np.zeros_like(w)
        out[0] = w[0] * 2
        return out.sum()

    assert numpy_grad(fixed)(np.ones(2)).tolist() == [2.0, 0.0]


@pytest.mark.parametrize("fn", [
    lambda x: np.linalg.inv(x.reshape(1, 1) + 2),
    lambda x: np.sinc(x),
    lambda x: np.linalg.det(x.reshape(1, 1)),
    lambda x: np.tan(np.linalg.det(x.reshape(1, 1))),
])
def test_a_numpy_function_without_a_gradient_raises_instead_of_returning_a_plain_value(fn):
    (x,) = _traced([0.7])
    with pytest.raises((TypeError, LostGradientError)):
        fn(x)


@given(st.floats(-1, 1))
def test_no_numpy_scalar_escapes_from_a_0d_value(v) -> None:
    (x,) = _traced([v, 0.5])
    for out in (np.tan(x.sum()), np.prod(x[0]), np.trace(np.outer(x, x)), np.cosh(x[0]),
                np.arcsinh(x.mean()), np.cumprod(x)[1]):
        assert isinstance(out, NumpyTensor) and out.requires_grad


def test_non_float_results_are_plain_numpy_as_in_numpy() -> None:
    (x,) = _traced([[1.0, 5.0], [7.0, 2.0]])
    assert type(x > 2) is np.ndarray and (x > 2).dtype == bool
    assert type(x.argmax(axis=1)) is np.ndarray and x.argmax(axis=1).tolist() == [1, 0]
    assert type(x.astype(int)) is np.ndarray
    assert np.argsort(x, axis=1).tolist() == [[0, 1], [1, 0]]
    assert x.size == 4 and x.ndim == 2 and x.shape == (2, 2) and len(x) == 2


def test_numpy_methods_keep_numpy_defaults_where_pytorch_differs() -> None:
    data = np.array([[1.0, 5.0], [7.0, 2.0]])
    (x,) = _traced(data)
    assert np.allclose(x.max(axis=1).data, data.max(axis=1))
    assert np.allclose(x.std().data, data.std())  # ddof=0, not PyTorch's correction=1
    assert np.allclose(x.var(axis=0, ddof=1).data, data.var(axis=0, ddof=1))
    assert np.allclose(x.transpose(1, 0).data, data.transpose(1, 0))
    assert np.allclose(x.repeat(2).data, data.repeat(2))  # numpy's repeat, not torch's tile
    t = tg.tensor(data)
    assert t.max(dim=1).indices.tolist() == [1, 0] and t.size() == (2, 2)  # Tensor: PyTorch's
    assert np.isclose(t.std().item(), data.std(ddof=1))


def test_stable_softmax_cross_entropy_as_courses_write_it() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 3)), np.array([0, 1, 2, 3, 0, 1])

    def loss(p):
        z = x @ p["W"]
        z += p["b"]
        z -= z.max(axis=1, keepdims=True)
        probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return -np.log(probs[np.arange(len(y)), y]).mean()

    params = {"W": rng.normal(size=(3, 4)), "b": np.zeros(4)}
    value, grads = numpy_value_and_grad(loss)(params)
    for name, p in params.items():
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[name][idx] += 1e-6
            minus[name][idx] -= 1e-6
            numeric[idx] = (loss(plus) - loss(minus)) / 2e-6
        assert_close(grads[name], numeric, atol=1e-7, rtol=1e-5, what=name)
    assert np.isclose(value, loss(params))


def test_numpy_grad_structures_and_errors() -> None:
    g = numpy_grad(lambda ws: np.sum(ws[0] * ws[1]))([np.array([1.0, 2.0]), np.array(3.0)])
    assert g[0].tolist() == [3.0, 3.0] and float(g[1]) == 3.0
    assert numpy_grad(lambda w: w ** 3)(2.0) == 12.0
    assert numpy_grad(lambda w, x: np.sum(x * w[0]))(np.ones(2), np.ones(3)).tolist() == [3, 0]
    with pytest.raises(TypeError, match="does not depend"):
        numpy_grad(lambda w, x: np.sum(x))(np.ones(2), np.ones(3))
    with pytest.raises(TypeError, match="does not depend"):
        numpy_grad(lambda w: 1.0)(np.ones(2))
    with pytest.raises(ValueError, match="single number"):
        numpy_grad(lambda w: w * 2)(np.ones(2))


def test_tracing_restores_numpy_and_plain_code_is_untouched() -> None:
    array, asarray, r_ = np.array, np.asarray, np.r_
    with tracing():
        assert np.array([1.0, 2.0]).dtype == np.float64 and type(np.array([1])) is np.ndarray
        assert np.r_[0:3, 5].tolist() == [0, 1, 2, 5]
    assert (np.array, np.asarray, np.r_) == (array, asarray, r_)


def test_pytorch_tensors_refuse_the_numpy_conversion_that_would_drop_the_gradient() -> None:
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(LostGradientError, match="np.array"):
        np.array([w, w])
    with tg.no_grad():
        assert np.asarray(w).tolist() == [1.0, 2.0]  # no gradient is recorded: allowed
    assert np.asarray(w.detach()).tolist() == [1.0, 2.0]


def test_plain_update_of_data_keeps_an_ndarray() -> None:
    p = tg.nn.Parameter(tg.tensor([1.0, 2.0]))
    (p * p).sum().backward()
    p.data -= 0.5 * p.grad
    assert type(p.data) is np.ndarray and p.data.tolist() == [0.0, 0.0]
