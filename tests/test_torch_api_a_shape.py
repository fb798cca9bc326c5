"""torch_shape's methods and functions against torch (values, indices, gradients) on
hypothesis-generated matrices, plus float64 central differences and the error cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tests.helpers import assert_close, numeric_vjp

# Distinct values: no ties, so indices and gradients are defined the same way in both.
MATRICES = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=2, max_side=4),
    elements=st.floats(-10, 10, allow_nan=False).map(lambda v: round(v, 3)),
    unique=True,
)

# (name, f(lib, x)): the same code runs with lib=tg on a tg tensor and lib=torch on a torch one.
CASES = {
    "max_dim": lambda m, x: m.max(x, dim=1).values,
    "max_all": lambda m, x: m.max(x),
    "min_dim_keep": lambda m, x: m.min(x, 0, keepdim=True).values,
    "max_binary": lambda m, x: m.max(x, x.flip(0)),
    "prod": lambda m, x: m.prod(x, dim=1),
    "prod_all": lambda m, x: x.prod(),
    "cumsum": lambda m, x: m.cumsum(x, dim=1),
    "cumprod": lambda m, x: x.cumprod(0),
    "sort": lambda m, x: m.sort(x, dim=0).values,
    "sort_desc": lambda m, x: x.sort(descending=True).values,
    "topk": lambda m, x: m.topk(x, 2, dim=1).values,
    "topk_small": lambda m, x: x.topk(1, dim=0, largest=False).values,
    "median_all": lambda m, x: m.median(x),
    "median_dim": lambda m, x: x.median(dim=1).values,
    "flip": lambda m, x: m.flip(x, [0, 1]),
    "roll": lambda m, x: m.roll(x, 1, 1),
    "roll_flat": lambda m, x: x.roll(-3),
    "tril": lambda m, x: m.tril(x, -1),
    "triu": lambda m, x: x.triu(1),
    "diag": lambda m, x: m.diag(x, 1),
    "diag_vec": lambda m, x: m.diag(x[0]),
    "diagonal": lambda m, x: x.diagonal(-1),
    "trace": lambda m, x: m.trace(x),
    "t": lambda m, x: x.t(),
    "mT": lambda m, x: x.unsqueeze(0).mT,
    "repeat": lambda m, x: x.repeat(2, 1, 3),
    "tile": lambda m, x: m.tile(x, (2,)),
    "repeat_interleave": lambda m, x: m.repeat_interleave(x, 2, dim=0),
    "narrow": lambda m, x: m.narrow(x, 1, 1, 1),
    "select": lambda m, x: x.select(1, -1),
    "unbind": lambda m, x: m.unbind(x, 1)[0],
    "chunk": lambda m, x: m.chunk(x, 2, 0)[-1],
    "index_select": lambda m, x: m.index_select(x, 1, _index(m, [1, 0, 1])),
    "take": lambda m, x: x.take(_index(m, [[0, 3], [1, 1]])),
    "gather": lambda m, x: m.gather(x, 1, _index(m, [[1, 0], [0, 0]])),
    "masked_select": lambda m, x: m.masked_select(x, _mask(m, x)),
    "masked_fill": lambda m, x: x.masked_fill(_mask(m, x), 2.5),
    "scatter_add": lambda m, x: x.scatter_add(0, _index(m, [[1, 1], [0, 1]]), x[:2, :2] * 2),
    "scatter": lambda m, x: m.scatter(x, 1, _index(m, [[1, 0], [0, 1]]), x[:2, :2] * 2),
    "scatter_value": lambda m, x: x.scatter(0, _index(m, [[1], [0]]), value=-1.0),
    "hstack": lambda m, x: m.hstack([x, x * 2]),
    "vstack": lambda m, x: m.vstack([x, x[0]]),
    "broadcast": lambda m, x: m.broadcast_tensors(x[:, :1], x[0])[1],
    "meshgrid_xy": lambda m, x: m.meshgrid(x[0], x[:, 0], indexing="xy")[0] * 2
    + m.meshgrid(x[0], x[:, 0], indexing="xy")[1],
    "meshgrid_ij": lambda m, x: m.meshgrid(x[0], x[:, 1], indexing="ij")[1],
    "unflatten": lambda m, x: x.reshape(-1).unflatten(0, (x.shape[0], -1)),
    "view_as": lambda m, x: x.reshape(-1).view_as(x),
    "expand_as": lambda m, x: x[:1].expand_as(x),
    "clone": lambda m, x: m.clone(x) * 3,
}


def _mask(m, x):
    """A mask that does not depend on x's values (finite differences must not flip it)."""
    return m.tensor(np.arange(x.numel()).reshape(x.shape) % 3 == 1)


def _index(m, data):
    return m.tensor(data, dtype=m.int64)


def _run(name, data, lib):
    x = lib.tensor(data, requires_grad=True)
    out = CASES[name](lib, x)
    weights = np.linspace(0.5, 1.5, int(np.prod(out.shape))).reshape(out.shape)
    (out * lib.tensor(weights)).sum().backward()
    return np.asarray(out.detach().numpy()), np.asarray(x.grad.numpy())


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=8, deadline=None)
@given(data=MATRICES)
def test_matches_torch(name, data):
    out, grad = _run(name, data, tg)
    want_out, want_grad = _run(name, data, torch)
    assert_close(out, want_out, what=f"{name} values")
    assert_close(grad, want_grad, what=f"{name} grad")


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=2, deadline=None)
@given(data=MATRICES)
def test_central_differences(name, data):
    def fn(x):
        return CASES[name](tg, x)

    with tg.no_grad():
        shape = fn(tg.tensor(data)).shape
    cot = np.linspace(-1, 1, int(np.prod(shape))).reshape(shape)
    x = tg.tensor(data, requires_grad=True)
    (fn(x) * tg.tensor(cot)).sum().backward()
    assert_close(x.grad.numpy(), numeric_vjp(fn, [data], {}, cot, 0), atol=1e-5, what=name)


@settings(max_examples=15, deadline=None)
@given(data=MATRICES, descending=st.booleans(), dim=st.sampled_from([0, 1, -1]))
def test_indices_match_torch(data, descending, dim):
    x, tx = tg.tensor(data), torch.tensor(data)
    np.testing.assert_array_equal(x.argsort(dim, descending).numpy(),
                                  tx.argsort(dim, descending).numpy())
    np.testing.assert_array_equal(x.topk(2, dim).indices.numpy(), tx.topk(2, dim).indices.numpy())
    np.testing.assert_array_equal(tg.max(x, dim).indices.numpy(), torch.max(tx, dim).indices)
    np.testing.assert_array_equal(x.median(dim).indices.numpy(), tx.median(dim).indices)


# Ties: integer-valued data with repeats.
TIED = hnp.arrays(np.float64, (3, 4), elements=st.integers(0, 2).map(float))


@settings(max_examples=25, deadline=None)
@given(data=TIED)
def test_ties_like_torch(data):
    """Full max/min/median share the gradient among ties; max(dim), as a function or a
    method, gives it to the first index; a stable sort keeps tied entries in order
    (torch's stable=True)."""
    for f in (lambda m, x: m.max(x), lambda m, x: m.min(x), lambda m, x: m.median(x),
              lambda m, x: m.max(x, 1).values, lambda m, x: m.min(x, 0).values,
              lambda m, x: x.max(1).values, lambda m, x: x.min(dim=0, keepdim=True).values):
        x, tx = tg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        f(tg, x).sum().backward()
        f(torch, tx).sum().backward()
        assert_close(x.grad.numpy(), tx.grad.numpy())
    for desc in (False, True):
        want = torch.tensor(data).sort(dim=1, descending=desc, stable=True).indices
        np.testing.assert_array_equal(tg.tensor(data).argsort(1, desc).numpy(), want)


def test_integer_results_and_dtypes():
    xi = tg.tensor([[1, 2], [3, 4]])
    ti = torch.tensor([[1, 2], [3, 4]])
    for f in (lambda m, x: m.prod(x), lambda m, x: m.cumsum(x, 0), lambda m, x: x.trace(),
              lambda m, x: m.count_nonzero(x - 1, dim=1), lambda m, x: m.nonzero(x > 2),
              lambda m, x: m.median(x), lambda m, x: (x > 1).cumsum(1)):
        got, want = f(tg, xi), f(torch, ti)
        assert str(got.dtype) == str(want.dtype).replace("torch.", "")
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    rows, cols = tg.nonzero(xi > 1, as_tuple=True)
    assert rows.tolist() == [0, 1, 1] and cols.tolist() == [1, 0, 1]


def test_metadata_and_new_tensors():
    x = tg.zeros(2, 3, 4, dtype=tg.float64)
    tx = torch.zeros(2, 3, 4, dtype=torch.float64)
    assert x.stride() == tx.stride() and x.stride(1) == tx.stride(1)
    assert x.element_size() == 8 and x.nbytes == tx.nbytes and x.is_contiguous()
    assert x.new_zeros(2).dtype == np.float64 and x.new_ones((1, 2)).shape == (1, 2)
    assert x.new_full((2,), 3).tolist() == [3.0, 3.0] and x.new_empty(3).shape == (3,)
    n = x.new_tensor([1, 2], requires_grad=True)
    assert n.dtype == np.float64 and n.requires_grad and n.is_leaf
    assert tg.tensor([1, 2]).type_as(x).dtype == np.float64
    assert tg.is_tensor(x) and not tg.is_tensor(np.zeros(1)) and tg.numel(x) == 24
    y = tg.ones(2, requires_grad=True) * 2
    assert y.detach_() is y and y.grad_fn is None and not y.requires_grad


def test_masked_fill_in_place():
    x = tg.tensor([1.0, -2.0, 3.0])
    x.masked_fill_(x < 0, 0.0)
    assert x.tolist() == [1.0, 0.0, 3.0]
    leaf = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.masked_fill_(tg.tensor([True, False]), 0.0)
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = w * 1
    y.masked_fill_(tg.tensor([False, True, False]), 5.0)
    (y * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert w.grad.tolist() == [1.0, 0.0, 3.0] and y.tolist() == [1.0, 5.0, 3.0]


def test_masked_fill_value_gets_gradient():
    v, tv = tg.tensor(2.0, requires_grad=True), torch.tensor(2.0, requires_grad=True)
    tg.zeros(3).masked_fill(tg.tensor([True, False, True]), v).sum().backward()
    torch.zeros(3).masked_fill(torch.tensor([True, False, True]), tv).sum().backward()
    assert v.grad.item() == tv.grad.item() == 2.0


def test_scatter_add_gradient_wrt_src():
    idx = [[0, 2, 0]]
    src, tsrc = tg.ones(1, 3, requires_grad=True), torch.ones(1, 3, requires_grad=True)
    w = np.array([[1.0, 2.0, 3.0]] * 3)
    (tg.zeros(3, 3).scatter_add(0, tg.tensor(idx), src) * tg.tensor(w)).sum().backward()
    (torch.zeros(3, 3).scatter_add(0, torch.tensor(idx), tsrc) * torch.tensor(w)).sum().backward()
    assert_close(src.grad.numpy(), tsrc.grad.numpy())


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: tg.zeros(2, 2, 2).t(), ValueError, "mT"),
    (lambda: tg.zeros(2, 3).repeat(2), ValueError, "repeats"),
    (lambda: tg.zeros(3).narrow(0, 2, 2), IndexError, "narrow"),
    (lambda: tg.zeros(3).tril(), ValueError, "at least 2"),
    (lambda: tg.zeros(3).gather(0, tg.tensor([3])), IndexError, "out of range"),
    (lambda: tg.zeros(3).gather(0, tg.tensor([0.0])), TypeError, "integer"),
    (lambda: tg.zeros(3).masked_fill(tg.tensor([1, 0, 1]), 0), TypeError, "bool mask"),
    (lambda: tg.zeros(3).masked_fill(tg.tensor([True, False]), 0), ValueError, "broadcast"),
    (lambda: tg.zeros(3).topk(4), IndexError, "topk"),
    (lambda: tg.max(tg.zeros(3), 0, out=tg.zeros(3)), TypeError, "out="),
    (lambda: tg.meshgrid(tg.zeros(2), indexing="yx"), ValueError, "indexing"),
    (lambda: tg.zeros(2, 2).diagonal(0, 1, 1), ValueError, "identical"),
    (lambda: tg.zeros(2, 2).flip(), TypeError, "dims"),
    (lambda: tg.zeros(2).scatter(0, tg.tensor([1, 1]), 1.0), ValueError, "more than once"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_numpy_tensor_wraps_the_new_methods():
    """NumpyTensor runs them as it runs every Tensor method: results have numpy's meaning."""
    a = tg.as_numpy_tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    lower = a.tril()
    assert isinstance(lower, tg.NumpyTensor)
    np.sum(lower).backward()
    np.testing.assert_array_equal(a.grad.data, [[1.0, 0.0], [1.0, 1.0]])
