"""The primitives' numpy shortcuts must give numpy's values: ``mm`` (``np.dot`` for 1-D/2-D
float products) equals ``@`` for every layout, and everything it does not take goes to ``@``
unchanged (errors included)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn
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
