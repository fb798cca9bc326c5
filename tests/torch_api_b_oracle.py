"""The oracle for the torch_math tests: run one function here and in PyTorch 2.13 on the same
arrays, compare the values and the gradients of ``sum(out * cotangent)``; and a float64
central-difference check of our gradients."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg

from .helpers import assert_close, autograd_vjp, numeric_vjp


def floats(lo: float, hi: float, shape: Sequence[int] | st.SearchStrategy,
           dtype: type = np.float64) -> st.SearchStrategy:
    """Arrays of ``shape`` with values in ``[lo, hi]``."""
    return hnp.arrays(dtype, shape, elements=st.floats(lo, hi, width=64 if dtype == np.float64
                                                        else 32))


def small_shapes(min_dims: int = 0, max_dims: int = 3) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=4)


def _close(ours: np.ndarray, theirs: np.ndarray, atol: float, rtol: float, what: str) -> None:
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} != torch's {theirs.dtype}"
    if ours.dtype.kind in "biu":
        assert ours.shape == theirs.shape and (ours == theirs).all(), f"{what}: {ours} != {theirs}"
        return
    same_nan = np.isnan(ours) == np.isnan(theirs)
    assert same_nan.all(), f"{what}: nan at different places: {ours} vs {theirs}"
    ok = ~np.isnan(theirs)
    inf = np.isinf(theirs) & ok
    assert (ours[inf] == theirs[inf]).all(), f"{what}: infinities differ: {ours} vs {theirs}"
    finite = ok & ~inf
    assert_close(np.where(finite, ours, 0), np.where(finite, theirs, 0), atol, rtol, what)


def against_torch(ours: Callable, theirs: Callable, arrays: Sequence[np.ndarray],
                  grad: Sequence[bool] | bool = True, atol: float = 1e-6, rtol: float = 1e-5,
                  seed: int = 0) -> None:
    """Values of ``ours(*tensors)`` and ``theirs(*torch_tensors)`` agree, and so do the
    gradients of ``sum(out * c)`` (c random) for the inputs marked in ``grad``."""
    marks = [grad] * len(arrays) if isinstance(grad, bool) else list(grad)
    mine = [tg.tensor(a, requires_grad=m) for a, m in zip(arrays, marks)]
    ref = [torch.tensor(a, requires_grad=m) for a, m in zip(arrays, marks)]
    out, expected = ours(*mine), theirs(*ref)
    _close(out.numpy(), expected.detach().numpy(), atol, rtol, "value")
    if not any(marks):
        return
    c = np.random.default_rng(seed).uniform(-1, 1, np.shape(out.numpy())).astype(out.dtype)
    (out * tg.tensor(c)).sum().backward()
    (expected * torch.tensor(c)).sum().backward()
    for k, (m, t, r) in enumerate(zip(marks, mine, ref)):
        if m:
            assert t.grad is not None, f"input {k} got no gradient"
            _close(t.grad.numpy(), r.grad.numpy(), atol, rtol, f"grad of input {k}")


def gradcheck64(fn: Callable, arrays: Sequence[np.ndarray], atol: float = 1e-5,
                rtol: float = 1e-4, seed: int = 1) -> None:
    """Our gradients of ``sum(fn(*xs) * c)`` against float64 central differences."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    with tg.no_grad():
        shape = fn(*[tg.tensor(a) for a in arrays]).shape
    c = np.random.default_rng(seed).uniform(-1, 1, shape)
    grads = autograd_vjp(fn, arrays, {}, c)
    for k in range(len(arrays)):
        assert_close(grads[k], numeric_vjp(fn, arrays, {}, c, k), atol, rtol, f"grad {k}")



def second_order_against_torch(ours: Callable, theirs: Callable,
                               arrays: Sequence[np.ndarray], atol: float = 1e-8) -> None:
    """The gradient of ``sum(grad(sum(f(xs)), xs)²)`` (second derivatives, through
    ``create_graph=True``) agrees with PyTorch's, in float64."""
    mine = [tg.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    ref = [torch.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    g = tg.grad(ours(*mine).sum(), mine, create_graph=True)
    ours_gg = tg.grad(sum((gi * gi).sum() for gi in g), mine)
    tgrads = torch.autograd.grad(theirs(*ref).sum(), ref, create_graph=True)
    theirs_gg = torch.autograd.grad(sum((gi * gi).sum() for gi in tgrads), ref)
    for k, (a, b) in enumerate(zip(ours_gg, theirs_gg)):
        _close(a.numpy(), b.numpy(), atol, 1e-7, f"second derivative of input {k}")
