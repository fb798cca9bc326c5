"""Every differentiable op, driven by the table in op_table.py: values against PyTorch,
gradients against float64 central differences and against PyTorch, and second derivatives
of the smooth ops against central differences of the first derivative."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg

from .helpers import assert_close, autograd_vjp, evaluate, numeric_vjp
from .op_table import OPS, OpSpec

ids = [op.name for op in OPS]


def _torch_inputs(arrays, requires_grad=True):
    return [torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad) for a in arrays]


def _cotangent(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, size=shape)


@pytest.mark.parametrize("op", OPS, ids=ids)
@given(data=st.data())
def test_forward_matches_pytorch(op: OpSpec, data) -> None:
    arrays, kwargs = data.draw(op.cases)
    ours = evaluate(op.ours, arrays, kwargs)
    theirs = op.theirs(*_torch_inputs(arrays, requires_grad=False), **kwargs)
    assert_close(ours, theirs.numpy(), atol=1e-12, rtol=1e-10, what=f"{op.name} forward")


@pytest.mark.parametrize("op", OPS, ids=ids)
@given(data=st.data())
def test_gradient_matches_finite_differences(op: OpSpec, data) -> None:
    arrays, kwargs = data.draw(op.cases)
    out_shape = evaluate(op.ours, arrays, kwargs).shape
    cot = _cotangent(out_shape)
    grads = autograd_vjp(op.ours, arrays, kwargs, cot)
    for i, g in enumerate(grads):
        numeric = numeric_vjp(op.ours, arrays, kwargs, cot, i)
        assert_close(g, numeric, atol=1e-6, rtol=1e-5, what=f"{op.name} d/d input {i}")


@pytest.mark.parametrize("op", OPS, ids=ids)
@given(data=st.data())
def test_gradient_matches_pytorch(op: OpSpec, data) -> None:
    arrays, kwargs = data.draw(op.cases)
    ours = evaluate(op.ours, arrays, kwargs)
    cot = _cotangent(ours.shape)
    grads = autograd_vjp(op.ours, arrays, kwargs, cot)
    tin = _torch_inputs(arrays)
    out = op.theirs(*tin, **kwargs)
    (out * torch.tensor(cot)).sum().backward()
    for i, (g, t) in enumerate(zip(grads, tin)):
        expected = t.grad.numpy() if t.grad is not None else np.zeros_like(arrays[i])
        assert_close(g, expected, atol=1e-12, rtol=1e-9, what=f"{op.name} grad {i} vs torch")


SMOOTH = [op for op in OPS if op.smooth]


@pytest.mark.parametrize("op", SMOOTH, ids=[op.name for op in SMOOTH])
@given(data=st.data())
def test_second_derivative_matches_finite_differences(op: OpSpec, data) -> None:
    """d/dx_j of sum(grad_x(sum(f * c)) * w), analytic (create_graph) vs numeric."""
    arrays, kwargs = data.draw(op.cases)
    cot = _cotangent(evaluate(op.ours, arrays, kwargs).shape, seed=1)
    weights = [_cotangent(a.shape, seed=2 + i) for i, a in enumerate(arrays)]

    def first_derivative_dot(*ts, **kw):
        inputs = [t if t.requires_grad else t.detach().requires_grad_() for t in ts]
        out = op.ours(*inputs, **kw)
        grads = tg.grad((out * cot).sum(), inputs, create_graph=True, allow_unused=True)
        total = tg.tensor(0.0, dtype=np.float64)
        for g, w in zip(grads, weights):
            if g is not None:
                total = total + (g * w).sum()
        return total

    def numeric_first_derivative_dot(*ts, **kw):
        with tg.enable_grad():
            return first_derivative_dot(*ts, **kw).detach()

    ts = [tg.tensor(a, requires_grad=True) for a in arrays]
    total = first_derivative_dot(*ts, **kwargs)
    if not total.requires_grad:  # the op is linear: its first derivative is constant
        return
    second = tg.grad(total, ts, allow_unused=True)
    for i, g in enumerate(second):
        numeric = numeric_vjp(numeric_first_derivative_dot, arrays, kwargs, np.ones(()), i)
        actual = np.zeros_like(arrays[i]) if g is None else g.numpy()
        assert_close(
            actual,
            numeric,
            atol=1e-5,
            rtol=1e-4,
            what=f"{op.name} second derivative w.r.t. input {i}",
        )
