"""The primitives' numpy shortcuts must give numpy's values: ``mm`` (``np.dot`` for 1-D/2-D
float products) equals ``@`` for every layout, and everything it does not take goes to ``@``
unchanged (errors included)."""

from __future__ import annotations

import contextlib
import operator
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.ops import elementwise as ew
from tinygrad_edu.ops import linalg
from tinygrad_edu.ops.linalg import mm


def _layout(rng: np.random.Generator, shape: tuple, dtype: type, kind: str) -> np.ndarray:
    """An array of ``shape``: contiguous, a transposed view, or a strided slice."""
    if kind == "transposed" and len(shape) == 2:
        return rng.uniform(-2, 2, shape[::-1]).astype(dtype).T
    if kind == "strided":
        big = rng.uniform(-2, 2, tuple(2 * s for s in shape)).astype(dtype)
        return big[tuple(slice(None, None, 2) for _ in shape)]
    return rng.uniform(-2, 2, shape).astype(dtype)


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(0, 7), k=st.integers(0, 5), m=st.integers(0, 7),
    kind=st.sampled_from(["mm", "vm", "mv", "vv"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    layouts=st.tuples(*[st.sampled_from(["contiguous", "transposed", "strided"])] * 2),
    seed=st.integers(0, 2**32 - 1),
)
def test_mm_equals_matmul(n, k, m, kind, dtype, layouts, seed) -> None:
    rng = np.random.default_rng(seed)
    shape_a = (n, k) if kind in ("mm", "mv") else (k,)
    shape_b = (k, m) if kind in ("mm", "vm") else (k,)
    a, b = _layout(rng, shape_a, dtype, layouts[0]), _layout(rng, shape_b, dtype, layouts[1])
    got, expected = np.asarray(mm(a, b)), np.asarray(a @ b)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    # the same BLAS sums in either order: equal to a few units in the last place of the scale
    scale = max(k, 1) * 4.0 * np.finfo(dtype).eps
    np.testing.assert_allclose(got, expected, rtol=scale, atol=scale)


@pytest.mark.parametrize(
    "a, b",
    [
        (np.arange(6).reshape(2, 3), np.arange(3).reshape(3, 1)),  # integers
        (np.ones((2, 3), np.float32), np.ones((3, 2), np.float64)),  # mixed dtypes
        (np.ones((2, 2, 3)), np.ones((3, 4))),  # a batch
        (np.ones((2, 3), np.float16), np.ones((3, 2), np.float16)),  # not a BLAS type
    ],
    ids=["int", "mixed", "batched", "float16"],
)
def test_mm_leaves_the_rest_to_matmul(a, b) -> None:
    got, expected = mm(a, b), a @ b
    assert got.dtype == expected.dtype and np.array_equal(got, expected)


def test_mm_keeps_matmuls_errors_for_scalars_and_shapes() -> None:
    with pytest.raises(ValueError, match="MatMul: both arguments to matmul need to be at least 1D"):
        tg.ones(2, 3) @ tg.tensor(5.0)
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(2, 3\) are not aligned"):
        tg.ones(2, 3) @ tg.ones(2, 3)


def test_linear_with_one_input_feature_is_an_exact_outer_product() -> None:
    # one input feature (the seeds' sine net): x @ w.T + b has a single term per entry
    rng = np.random.default_rng(0)
    layer = nn.Linear(1, 6)
    x = tg.tensor(rng.uniform(-3, 3, (1000, 1)).astype(np.float32), requires_grad=True)
    out = layer(x)
    expected = x.data * layer.weight.data.T + layer.bias.data
    assert np.array_equal(out.data, expected)
    g = rng.uniform(-1, 1, out.shape).astype(np.float32)
    out.backward(tg.tensor(g))
    np.testing.assert_allclose(x.grad.data, g @ layer.weight.data, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.weight.grad.data, g.T @ x.data, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------- Linear, MSELoss, Relu rules

from tinygrad_edu.nn import _functions as nnf  # noqa: E402
from tinygrad_edu.ops.elementwise import Div, Relu  # noqa: E402


@contextlib.contextmanager
def _general_rules_only():
    """Linear's and DenseOp's backward shortcut off: ``blas_matrices`` says no to every call,
    so each takes the general path (mm, _sum_rows, saved_tensors)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nnf, "blas_matrices", lambda g, a, b: False)
        yield


def _affine_grads(layer_kind, x_arr, w_arr, b_arr, g_arr, needs):
    x = tg.tensor(x_arr, requires_grad=needs[0])
    w = tg.tensor(w_arr, requires_grad=needs[1])
    b = None if b_arr is None else tg.tensor(b_arr, requires_grad=needs[2])
    fn = nnf.Linear if layer_kind == "linear" else nnf.DenseOp
    out = fn.apply(x, w) if b is None else fn.apply(x, w, b)
    out.backward(tg.tensor(g_arr))
    return [None if t is None or t.grad is None else t.grad.data for t in (x, w, b)]


@settings(max_examples=120, deadline=None)
@given(
    n=st.integers(1, 6), k=st.integers(1, 5), m=st.integers(1, 6),
    dtype=st.sampled_from([np.float32, np.float64]),
    layer_kind=st.sampled_from(["linear", "dense"]),
    bias=st.booleans(),
    needs=st.tuples(st.booleans(), st.booleans(), st.booleans()).filter(any),
    layout=st.sampled_from(["contiguous", "transposed", "strided"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_affine_backward_shortcut_equals_the_general_path_and_pytorch(
    n, k, m, dtype, layer_kind, bias, needs, layout, seed
) -> None:
    if not bias and not any(needs[:2]):
        needs = (True, needs[1], needs[2])
    rng = np.random.default_rng(seed)
    x = _layout(rng, (n, k), dtype, layout)
    w = _layout(rng, (m, k) if layer_kind == "linear" else (k, m), dtype, "contiguous")
    b = rng.uniform(-2, 2, m).astype(dtype) if bias else None
    g = rng.uniform(-2, 2, (n, m)).astype(dtype)
    fast = _affine_grads(layer_kind, x, w, b, g, needs)
    with _general_rules_only():
        general = _affine_grads(layer_kind, x, w, b, g, needs)
    for f, gen in zip(fast, general):
        assert (f is None) == (gen is None)
        if f is not None:
            assert f.dtype == dtype and np.array_equal(f, gen)  # bit for bit
    tx, tw = (torch.tensor(np.float64(a), requires_grad=True) for a in (x, w))
    tb = None if b is None else torch.tensor(np.float64(b), requires_grad=True)
    tout = tx @ (tw.T if layer_kind == "linear" else tw) + (0 if tb is None else tb)
    tout.backward(torch.tensor(np.float64(g)))
    tol = 1e-4 if dtype == np.float32 else 1e-12
    for f, t in zip(fast, (tx, tw, tb)):
        if f is not None:
            np.testing.assert_allclose(f, t.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize(
    "x_dtype, w_dtype, b_dtype, x_shape",
    [
        (np.float32, np.float64, np.float32, (3, 4)),  # mixed dtypes
        (np.float16, np.float16, np.float16, (3, 4)),  # not a BLAS type
        (np.float32, np.float32, np.float32, (2, 3, 4)),  # a batch of rows
        (np.float64, np.float64, None, (4,)),  # one row, no bias
    ],
    ids=["mixed", "float16", "batched", "vector"],
)
def test_affine_backward_falls_back_to_the_general_path(x_dtype, w_dtype, b_dtype,
                                                        x_shape) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, x_shape).astype(x_dtype)
    w = rng.uniform(-1, 1, (5, 4)).astype(w_dtype)
    b = None if b_dtype is None else rng.uniform(-1, 1, 5).astype(b_dtype)
    out_shape = (*x_shape[:-1], 5)
    g = rng.uniform(-1, 1, out_shape)
    res_dtype = np.result_type(x_dtype, w_dtype)
    fast = _affine_grads("linear", x, w, b, g.astype(res_dtype), (True, True, True))
    with _general_rules_only():
        general = _affine_grads("linear", x, w, b, g.astype(res_dtype), (True, True, True))
    tx, tw = (torch.tensor(np.float64(a), requires_grad=True) for a in (x, w))
    tb = None if b is None else torch.tensor(np.float64(b), requires_grad=True)
    (tx @ tw.T + (0 if tb is None else tb)).backward(torch.tensor(g))
    tol = 2e-2 if np.float16 in (x_dtype, w_dtype) else 1e-5
    for f, gen, t, arr in zip(fast, general, (tx, tw, tb), (x, w, b)):
        if arr is None:
            continue
        assert f.dtype == arr.dtype and f.shape == arr.shape
        assert np.array_equal(f, gen)
        np.testing.assert_allclose(f, t.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_mse_relu_double_backward_matches_pytorch(dtype) -> None:
    # create_graph: the rules run on Tensors (the shortcuts must step aside)
    rng = np.random.default_rng(1)
    x0, w0, b0 = rng.uniform(-1, 1, (6, 3)), rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, 4)
    y0 = rng.uniform(-1, 1, (6, 4))
    x = tg.tensor(x0.astype(dtype), requires_grad=True)
    w = tg.tensor(w0.astype(dtype), requires_grad=True)
    b = tg.tensor(b0.astype(dtype), requires_grad=True)
    loss = tg.nn.functional.mse_loss(tg.nn.functional.linear(x, w, b).tanh().relu(),
                                     tg.tensor(y0.astype(dtype)))
    gx, gw = tg.grad(loss, [x, w], create_graph=True)
    ((gx * gx).sum() + (gw * gw).sum()).backward()
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x0, w0, b0))
    tloss = torch.nn.functional.mse_loss(torch.relu(torch.tanh(tx @ tw.T + tb)),
                                         torch.tensor(y0))
    tgx, tgw = torch.autograd.grad(tloss, [tx, tw], create_graph=True)
    ((tgx * tgx).sum() + (tgw * tgw).sum()).backward()
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for t, tt in zip((x, w, b), (tx, tw, tb)):
        np.testing.assert_allclose(t.grad.data, tt.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("make", ["linear", "mse", "relu"])
def test_a_rule_called_on_a_freed_node_still_names_the_problem(make) -> None:
    x = tg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    if make == "linear":
        out = tg.nn.functional.linear(x, tg.tensor(np.ones((4, 3), np.float32)))
    elif make == "mse":
        out = tg.nn.functional.mse_loss(x, tg.tensor(np.zeros((2, 3), np.float32)))
    else:
        out = x.relu()
    ctx = out._ctx
    out.sum().backward()  # frees the node
    with pytest.raises(RuntimeError, match="second time"):
        ctx._function.backward(ctx, np.ones(out.shape, np.float32))


@settings(max_examples=80, deadline=None)
@given(
    values=st.lists(st.sampled_from([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan, 1e-30]),
                    min_size=1, max_size=8),
    grads=st.lists(st.sampled_from([1.0, -1.0, 0.0, -0.0, np.nan, np.inf]), min_size=8,
                   max_size=8),
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
)
def test_relu_and_its_float_mask_are_numpys_max_with_0_bit_for_bit(values, grads, dtype) -> None:
    x = np.array(values, dtype)
    g = np.array(grads[: len(values)], dtype)
    ctx = Relu._backward_cls()
    ctx.needs_input_grad = (True,)
    with np.errstate(invalid="ignore"):
        out = Relu.forward(ctx, x)
        got = Relu.backward(ctx, g)
        expected_out = np.maximum(x, 0)
        expected = g * (expected_out > 0)
    assert out.dtype == expected_out.dtype and got.dtype == expected.dtype
    assert out.tobytes() == expected_out.tobytes()
    assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_relu_of_integers_and_bools_keeps_numpys_dtype(dtype) -> None:
    x = np.array([3, 0, 1], dtype) if dtype is np.bool_ else np.array([3, -2, 0], dtype)
    out = tg.tensor(x).relu()
    expected = np.maximum(x, 0)
    assert out.dtype == expected.dtype and np.array_equal(out.data, expected)


@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple),
    op=st.sampled_from(["sum", "mean"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**32 - 1),
)
def test_full_reductions_give_arrays_and_unshared_gradients(shape, op, dtype, seed) -> None:
    # a full reduction returns a 0-d array; its gradient (a new array) becomes .grad as it is
    rng = np.random.default_rng(seed)
    values = rng.uniform(-2, 2, shape).astype(dtype)
    x = tg.tensor(values, requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = getattr(x, op)()
        expected = getattr(values, op)() if values.size or op == "sum" else np.nan
    assert type(out.data) is np.ndarray and out.shape == () and out.dtype == dtype
    np.testing.assert_allclose(out.data, expected, rtol=1e-5)
    out.backward()
    first = x.grad.data
    assert first.shape == shape and first.dtype == dtype
    assert not np.shares_memory(first, x.data)
    first[...] = 7  # the user owns it: writing to it changes nothing else
    y = tg.tensor(values, requires_grad=True)
    getattr(y, op)().backward()
    tx = torch.tensor(np.float64(values), requires_grad=True)
    getattr(tx, op)().backward()
    np.testing.assert_allclose(y.grad.data, tx.grad.numpy(), rtol=1e-6)


def test_relu_backward_after_its_output_is_changed_in_place() -> None:
    # Relu saves its mask, not its output: a later in-place change of the output is no
    # concern of its gradient
    x = tg.tensor(np.array([1.5, -2.0, 0.0, 3.0], np.float32), requires_grad=True)
    h = x.relu()
    h += 10.0
    (h * h).sum().backward()
    tx = torch.tensor([1.5, -2.0, 0.0, 3.0], dtype=torch.float64, requires_grad=True)
    th = tx.relu().clone()
    th = th + 10.0
    (th * th).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-6)
    assert x.grad.dtype == np.float32


def test_relu_under_no_grad_records_nothing_and_computes_max() -> None:
    x = tg.tensor(np.array([1.0, -1.0], np.float32), requires_grad=True)
    with tg.no_grad():
        out = x.relu()
    assert out._ctx is None and np.array_equal(out.data, [1.0, 0.0])


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(0, 6),
    reduction=st.sampled_from(["mean", "sum"]),
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
    g_value=st.sampled_from([1.0, -0.5, 0.3, 7.1e-3, 3e4, 0.0, -0.0, np.inf, np.nan]),
    seed=st.integers(0, 2**32 - 1),
)
def test_mse_backward_of_a_0d_gradient_is_the_array_formula_bit_for_bit(
    n, reduction, dtype, g_value, seed
) -> None:
    # the 0-d gradient is multiplied as a numpy scalar: the same product as the 0-d array's
    rng = np.random.default_rng(seed)
    x, y = (rng.uniform(-3, 3, (n, 2)).astype(dtype) for _ in range(2))
    ctx = nnf.MSELoss._backward_cls()
    ctx.needs_input_grad = (True, True)
    with np.errstate(all="ignore"):
        nnf.MSELoss.forward(ctx, x, y, reduction=reduction)
        g = np.array(g_value, dtype)
        gx, gy = nnf.MSELoss.backward(ctx, g)
        scale = 2.0 if reduction == "sum" else (2.0 / (2 * n) if n else np.nan)
        expected = (x - y) * np.multiply(g, scale)  # the ufunc on the 0-d array
    assert gx.dtype == expected.dtype and gx.tobytes() == expected.tobytes()
    assert gy.tobytes() == (-expected).tobytes()


@settings(max_examples=80, deadline=None)
@given(
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
    g_value=st.sampled_from([1.0, -0.5, 0.3, 7.1e-3, 3e4, 0.0, -0.0, np.inf, np.nan]),
    x_value=st.floats(-100, 100),
    divisor=st.sampled_from([2000, 3, 0.7, -1e-3, 0, "array", "0-d"]),
)
def test_div_backward_of_a_0d_gradient_is_the_array_formula_bit_for_bit(
    dtype, g_value, x_value, divisor
) -> None:
    x = np.array(x_value, dtype)
    y = {"array": np.array([0.5, -3.0], dtype), "0-d": np.array(1.7, dtype)}.get(divisor, divisor)
    ctx = Div._backward_cls()
    ctx.needs_input_grad = (True, isinstance(y, np.ndarray))
    g = np.array(g_value, dtype)
    with np.errstate(all="ignore"):
        Div.forward(ctx, x, y)
        got = Div.backward(ctx, g)
        gx = np.divide(g, y)  # the ufunc on the 0-d array
        expected = (gx, -gx * x / y if ctx.needs_input_grad[1] else None)
    for a, b in zip(got, expected):
        assert (a is None) == (b is None)
        if a is not None:
            assert np.asarray(a).dtype == np.asarray(b).dtype
            assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


@contextlib.contextmanager
def _general_matmul_only():
    """MatMul's shortcut off: ``blas_matrices`` says no, so every backward takes the general
    path (mm, swapaxes)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(linalg, "blas_matrices", lambda g, a, b: False)
        yield


def _matmul_grads(a_arr, b_arr, g_arr, needs):
    a = tg.tensor(a_arr, requires_grad=needs[0])
    b = tg.tensor(b_arr, requires_grad=needs[1])
    (a @ b).backward(tg.tensor(g_arr))
    return [None if t.grad is None else t.grad.data for t in (a, b)]


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 6), k=st.integers(1, 5), m=st.integers(1, 6),
    dtype=st.sampled_from([np.float32, np.float64]),
    needs=st.sampled_from([(True, True), (True, False), (False, True)]),
    layouts=st.tuples(*[st.sampled_from(["contiguous", "transposed", "strided"])] * 2),
    seed=st.integers(0, 2**32 - 1),
)
def test_matmul_backward_shortcut_equals_the_general_path_and_pytorch(
    n, k, m, dtype, needs, layouts, seed
) -> None:
    rng = np.random.default_rng(seed)
    a, b = _layout(rng, (n, k), dtype, layouts[0]), _layout(rng, (k, m), dtype, layouts[1])
    g = rng.uniform(-2, 2, (n, m)).astype(dtype)
    fast = _matmul_grads(a, b, g, needs)
    with _general_matmul_only():
        general = _matmul_grads(a, b, g, needs)
    ta, tb = (torch.tensor(np.float64(v), requires_grad=True) for v in (a, b))
    (ta @ tb).backward(torch.tensor(np.float64(g)))
    tol = 1e-4 if dtype == np.float32 else 1e-12
    for f, gen, t, need in zip(fast, general, (ta, tb), needs):
        assert (f is None) == (gen is None) == (not need)
        if f is not None:
            assert f.dtype == dtype and f.tobytes() == gen.tobytes()
            np.testing.assert_allclose(f, t.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize(
    "shape_a, shape_b, dtype_a, dtype_b",
    [
        ((3, 4), (4,), np.float32, np.float32),  # matrix @ vector
        ((4,), (4, 2), np.float64, np.float64),  # vector @ matrix
        ((2, 3, 4), (4, 2), np.float32, np.float32),  # a batch
        ((3, 4), (4, 2), np.float32, np.float64),  # mixed dtypes
        ((3, 4), (4, 2), np.float16, np.float16),  # not a BLAS type
    ],
    ids=["mv", "vm", "batched", "mixed", "float16"],
)
def test_matmul_backward_falls_back_to_the_general_path(shape_a, shape_b, dtype_a,
                                                        dtype_b) -> None:
    rng = np.random.default_rng(3)
    a = rng.uniform(-1, 1, shape_a).astype(dtype_a)
    b = rng.uniform(-1, 1, shape_b).astype(dtype_b)
    g = rng.uniform(-1, 1, np.matmul(a, b).shape).astype(np.result_type(dtype_a, dtype_b))
    fast = _matmul_grads(a, b, g, (True, True))
    with _general_matmul_only():
        general = _matmul_grads(a, b, g, (True, True))
    ta, tb = (torch.tensor(np.float64(v), requires_grad=True) for v in (a, b))
    (ta @ tb).backward(torch.tensor(np.float64(g)))
    tol = 2e-2 if np.float16 in (dtype_a, dtype_b) else 1e-5
    for f, gen, t, arr in zip(fast, general, (ta, tb), (a, b)):
        assert f.dtype == arr.dtype and f.shape == arr.shape and np.array_equal(f, gen)
        np.testing.assert_allclose(f, t.grad.numpy(), rtol=tol, atol=tol)


@settings(max_examples=80, deadline=None)
@given(
    values=st.lists(st.sampled_from([0.0, -0.0, 0.3, -2.5, 40.0, -100.0, 1e4, np.inf, -np.inf,
                                     np.nan]), min_size=1, max_size=6),
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
    op=st.sampled_from(["Sigmoid", "Tanh"]),
)
def test_sigmoid_tanh_with_typed_ones_are_the_python_1_formulas_bit_for_bit(values, dtype,
                                                                            op) -> None:
    x = np.array(values, dtype)
    g = np.linspace(-1, 1, len(values)).astype(dtype)
    ctx = getattr(ew, op)._backward_cls()
    ctx.needs_input_grad = (True,)
    with np.errstate(all="ignore"):
        out = getattr(ew, op).forward(ctx, x)
        got = getattr(ew, op).backward(ctx, g)
        if op == "Sigmoid":
            e = np.exp(-x)
            e += 1
            expected_out = np.reciprocal(e)
            expected = g * expected_out * (1 - expected_out)
        else:
            expected_out = np.tanh(x)
            expected = g * (1 - expected_out * expected_out)
    assert out.dtype == expected_out.dtype and out.tobytes() == expected_out.tobytes()
    assert got.dtype == expected.dtype and got.tobytes() == expected.tobytes()


# --------------------------------------------------------------- cat's dims


@settings(max_examples=80, deadline=None)
@given(
    ndim=st.integers(1, 3), dim=st.integers(-4, 3),
    spelling=st.sampled_from(["axis", "dim", "np.int64"]),
    widths=st.lists(st.integers(0, 3), min_size=1, max_size=3),
)
def test_cat_takes_every_dim_spelling_as_pytorch(ndim, dim, spelling, widths) -> None:
    # an in-range int skips normalize_dim; negative, numpy and out-of-range dims go through it
    shapes = []
    for w in widths:
        shape = [2] * ndim
        shape[dim % ndim] = w
        shapes.append(shape)
    arrays = [np.arange(np.prod(s), dtype=np.float64).reshape(s) for s in shapes]
    d = np.int64(dim) if spelling == "np.int64" else dim
    kw = {"dim": d} if spelling == "dim" else {"axis": d}
    ts = [tg.tensor(a, requires_grad=True) for a in arrays]
    if not -ndim <= dim < ndim:
        with pytest.raises(IndexError, match=r"cat: Dimension out of range"):
            tg.cat(ts, **kw)
        return
    out = tg.cat(ts, **kw)
    expected = torch.cat([torch.from_numpy(a) for a in arrays], dim=dim).numpy()
    assert out.shape == expected.shape and np.array_equal(out.numpy(), expected)
    cot = np.random.default_rng(0).uniform(-1, 1, out.shape)
    (out * tg.tensor(cot)).sum().backward()
    grads = np.split(cot, np.cumsum(widths)[:-1], axis=dim % ndim)
    for t, g in zip(ts, grads):
        assert np.array_equal(t.grad.numpy(), g)


@pytest.mark.parametrize("dim", [True, 1.0, "1"])
def test_cat_refuses_a_dim_that_is_not_an_int(dim) -> None:
    with pytest.raises(TypeError, match="cat: a dim must be an int"):
        tg.cat([tg.ones(2, 2), tg.ones(2, 2)], dim=dim)


# --------------------------------------------------------------- 0-d arithmetic on numpy scalars

_ZERO_D_VALUES = [0.0, -0.0, 1.5, -2.5e-3, 3e38, -3e38, 1e-40, 1e300, np.inf, -np.inf, np.nan]
_OTHER_OPERANDS = [0, 1, -7, 2000, 2**24 + 1, 2**53 + 1, 2**63, 10**39, 10**400, True, 0.0,
                   -0.0, 0.1, 1e300, np.inf, np.nan, 1j, np.float32(2.5)]


def _outcome(fn):
    """What ``fn()`` gives: (dtype, bytes, shape) or the exception's type; and the warnings'
    categories (numpy's scalar and array messages differ in wording: 'scalar divide')."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            r = np.asarray(fn())
            result = (r.dtype, r.tobytes(), r.shape)
        except Exception as e:  # the array op's exception must be the same
            result = type(e)
    return result, sorted({w.category.__name__ for w in caught})


@settings(max_examples=300, deadline=None)
@given(
    op=st.sampled_from(["Add", "Sub", "Mul", "Div"]),
    x_dtype=st.sampled_from([np.float16, np.float32, np.float64, np.int64, np.int32]),
    x_value=st.sampled_from(_ZERO_D_VALUES),
    y=st.one_of(
        st.sampled_from(_OTHER_OPERANDS),
        st.tuples(st.sampled_from([*_ZERO_D_VALUES, 3, -1]),
                  st.sampled_from([np.float32, np.float64, np.int64, np.int8, np.bool_]),
                  st.sampled_from([(), (2,)])),
    ),
)
def test_0d_arithmetic_on_numpy_scalars_is_the_ufunc_on_0d_arrays(op, x_dtype, x_value, y) -> None:
    # the rules compute a 0-d array's sums, products and quotients as numpy scalars: the
    # value, dtype, exception and warnings of the ufunc on the 0-d array
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # casting nan or 3e38 to an integer or float16
        x = np.array(x_value).astype(x_dtype)
        if isinstance(y, tuple):
            y = np.full(y[2], y[0]).astype(y[1])
    rule = getattr(ew, op)
    ctx = rule._backward_cls()
    ctx.needs_input_grad = (True, True)
    got = _outcome(lambda: rule.forward(ctx, x, y))
    expected = _outcome(lambda: getattr(operator, op.lower().replace("div", "truediv"))(x, y))
    assert got == expected


def test_a_loss_divided_by_a_number_keeps_its_dtype_value_and_gradient() -> None:
    w = tg.tensor(np.array([1.5, -2.0], np.float32), requires_grad=True)
    loss = (w * w).sum() / 2000 * 0.5 + 1 - tg.tensor(np.float32(0.25))
    expected = np.float32(np.float32(np.float32(6.25) / 2000) * 0.5) + np.float32(0.75)
    assert loss.dtype == np.float32 and loss.shape == () and loss.item() == expected
    ctx = ew.Div._backward_cls()
    ctx.needs_input_grad = (True, False)
    # a 0-d array, not the numpy scalar that apply would have to convert
    assert type(ew.Div.forward(ctx, np.array(6.25, np.float32), 2000)) is np.ndarray
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), w.data / 2000, rtol=1e-6)
