"""tinygrad_edu.testing: the strategies draw what they promise, the assertions fail with
useful messages."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.testing import assert_backprop_correct, assert_close, assert_grad_close
from tinygrad_edu.testing import strategies as tst


# --------------------------------------------------------------------------- strategies
@given(shape=tst.shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
def test_shapes_respect_bounds(shape):
    assert 1 <= len(shape) <= 3 and all(2 <= s <= 3 for s in shape)


@given(shapes=tst.broadcastable_shapes(num_shapes=3, min_dims=1))
def test_broadcastable_shapes_broadcast(shapes):
    assert len(shapes) == 3
    out = np.broadcast_shapes(*shapes)
    assert len(out) >= 1


@given(x=tst.arrays(tst.shapes(min_dims=1), min_value=-1.0, max_value=1.0, avoid=(0.0, 0.5),
                    margin=0.1))
def test_arrays_stay_in_range_and_away_from_kinks(x):
    assert x.dtype == np.float64 and np.isfinite(x).all()
    assert np.all(np.abs(x) >= 0.1) and np.all(np.abs(x - 0.5) >= 0.1 - 1e-12)
    assert np.all(x >= -1.1) and np.all(x <= 1.1)


@given(x=tst.arrays((3, 4), dtype=np.float32, distinct=1e-2))
def test_arrays_distinct_and_float32(x):
    assert x.dtype == np.float32 and len(np.unique(x)) == x.size


@given(t=tst.tensors((2, 3), requires_grad=True))
def test_tensors(t):
    assert isinstance(t, tg.Tensor) and t.shape == (2, 3) and t.dtype == np.float64
    assert t.requires_grad


@given(spec=tst.mlp_specs(max_hidden_layers=2, max_width=4), data=st.data())
def test_mlp_specs_and_params_fit_together(spec, data):
    params = data.draw(tst.mlp_params(spec))
    assert tuple(params) == spec.param_names
    for name, shape in spec.param_shapes().items():
        assert params[name].shape == shape
    assert len(spec.activations) == len(spec.sizes) - 2
    x = data.draw(tst.arrays((3, spec.sizes[0])))
    out = spec.forward(params, x)
    assert out.shape == (3, spec.sizes[-1])
    # the same forward runs on Tensors (numpy interop) and gives the same values
    tout = spec.forward({k: tg.tensor(v) for k, v in params.items()}, x)
    assert_close(tout, out, atol=1e-12, rtol=1e-12)


@given(spec=tst.mlp_specs(activations=("tanh", "sigmoid")), data=st.data())
def test_mlp_loss_gradients_check_out(spec, data):
    params = data.draw(tst.mlp_params(spec))
    x = data.draw(tst.arrays((2, spec.sizes[0])))
    y = data.draw(tst.arrays((2, spec.sizes[-1])))
    names = spec.param_names
    assert_grad_close(lambda *ps: spec.loss(dict(zip(names, ps)), x, y),
                      [params[n] for n in names])


def test_activate_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown activation"):
        tst.activate(np.zeros(2), "swish")


def test_push_away_keeps_the_side():
    assert tst.push_away(np.array([-0.01, 0.0, 0.01, 1.0]), (0.0,), 0.1).tolist() == \
        [-0.1, 0.1, 0.1, 1.0]


# --------------------------------------------------------------------------- assertions
def test_assert_close_passes_and_fails_with_the_worst_entry():
    assert_close(tg.tensor([1.0, 2.0]), np.array([1.0, 2.0]))
    with pytest.raises(AssertionError, match=r"worst at \[1, 0\]: 5\.0 vs expected 4\.0"):
        assert_close(np.array([[1.0, 2.0], [5.0, 4.0]]), np.array([[1.0, 2.0], [4.0, 4.0]]))
    with pytest.raises(AssertionError, match="shape"):
        assert_close(np.zeros(2), np.zeros(3))
    with pytest.raises(AssertionError, match="1 of 2"):
        assert_close(np.array([np.nan, 1.0]), np.array([1.0, 1.0]))
    assert_close(np.array([np.nan]), np.array([np.nan]))


class WrongExp(tg.Function):
    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out * 1.01


def test_assert_grad_close_accepts_arrays_and_reports_failures():
    x = np.array([0.2, -0.4])
    assert_grad_close(lambda t: t.exp(), x)
    assert_grad_close(lambda t, k: t.exp() * k, (x, 3))  # non-arrays pass through
    with pytest.raises(AssertionError, match="worst: d output"):
        assert_grad_close(WrongExp.apply, x)
    with pytest.raises(AssertionError, match="v\\^T J u"):
        assert_grad_close(WrongExp.apply, x, fast_mode=True)


def test_assert_backprop_correct_fails_with_the_report():
    def loss(p, x, y):
        return np.sum((x @ p["W"] - y) ** 2)

    def grads(p, x, y):
        return {"W": x.T @ (x @ p["W"] - y)}  # the factor 2 is missing

    rng = np.random.default_rng(0)
    x, y, p = rng.normal(size=(3, 2)), rng.normal(size=(3, 1)), {"W": rng.normal(size=(2, 1))}
    with pytest.raises(AssertionError, match="factor 1/2"):
        assert_backprop_correct(loss, grads, p, x, y)
    report = assert_backprop_correct(loss, lambda p, x, y: {"W": 2 * grads(p, x, y)["W"]}, p, x, y)
    assert report.passed
