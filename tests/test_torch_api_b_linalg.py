"""torch_math's linear algebra, norms and statistics against PyTorch 2.13: values and
gradients on hypothesis-drawn (batches of) matrices, float64 central differences, singular
matrices, and the zero-vector gradients of norms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg

from .torch_api_b_oracle import against_torch, floats, gradcheck64, second_order_against_torch


def _well_conditioned(data, batch: tuple, n: int) -> np.ndarray:
    """A (batch..., n, n) matrix: entries in [-0.9, 0.9] plus ±(n + 1)·I, strictly diagonally
    dominant, so far from singular."""
    a = data.draw(floats(-0.9, 0.9, (*batch, n, n)))
    return a + (n + 1) * np.eye(n) * data.draw(st.sampled_from([1.0, -1.0]))


_BATCH = st.sampled_from([(), (2,), (2, 1)])

LINALG = {
    "inv": (tg.linalg.inv, torch.linalg.inv),
    "det": (tg.linalg.det, torch.linalg.det),
    "logabsdet": (lambda a: tg.linalg.slogdet(a).logabsdet,
                  lambda a: torch.linalg.slogdet(a).logabsdet),
    "inverse": (lambda a: a.inverse(), lambda a: a.inverse()),
    "Tensor.det": (lambda a: a.det(), lambda a: a.det()),
    "logdet": (tg.logdet, torch.logdet),
}


@pytest.mark.parametrize("name", sorted(LINALG))
@settings(max_examples=12)
@given(data=st.data(), batch=_BATCH, n=st.integers(1, 4))
def test_square_matrix_functions_match_torch(name, data, batch, n):
    ours, theirs = LINALG[name]
    a = _well_conditioned(data, batch, n)
    against_torch(ours, theirs, [a], atol=1e-8, rtol=1e-7)
    against_torch(ours, theirs, [a.astype(np.float32)], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", ["inv", "det", "logabsdet"])
@settings(max_examples=8)
@given(data=st.data(), n=st.integers(1, 3))
def test_square_matrix_gradients_central_differences(name, data, n):
    gradcheck64(LINALG[name][0], [_well_conditioned(data, (2,), n)])


def test_slogdet_sign_and_logdet_of_negative_and_singular_matrices():
    a = np.array([[[-2.0, 0.0], [0.0, 3.0]], [[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [1.0, 2.0]]])
    sign, logabsdet = tg.linalg.slogdet(tg.tensor(a))
    ref = torch.linalg.slogdet(torch.tensor(a))
    assert np.array_equal(sign.numpy(), ref.sign.numpy())
    assert np.allclose(logabsdet.numpy(), ref.logabsdet.numpy())
    assert tg.tensor(a).slogdet().sign.tolist() == [-1.0, 0.0, 1.0]
    logdet = tg.logdet(tg.tensor(a)).numpy()
    assert np.isnan(logdet[0]) and logdet[1] == -np.inf and logdet[2] == pytest.approx(np.log(3))


def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix():
    # PyTorch 2.13 gives 0 at an exactly singular matrix; the derivative is the cofactor
    # matrix (nonzero at rank n - 1), which central differences confirm
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])  # rank 2
    gradcheck64(tg.linalg.det, [a])
    gradcheck64(tg.linalg.det, [np.array([[[-1.0, 1.0], [1.0, -1.0]], [[0.0, 0.0], [0.0, 0.0]]])])
    x = tg.tensor(a, requires_grad=True)
    tg.linalg.det(x).backward()
    assert np.allclose(x.grad.numpy(), [[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("fn", [tg.linalg.inv, lambda a: tg.linalg.solve(a, tg.ones(2, 1))])
def test_singular_matrices_raise_linalg_error(fn):
    singular = tg.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 4.0]]])
    with pytest.raises(tg.linalg.LinAlgError, match=r"singular \(batch element \(1,\)\)"):
        fn(singular)
    assert issubclass(tg.linalg.LinAlgError, RuntimeError)


def test_non_square_and_integer_matrices_are_refused():
    with pytest.raises(tg.linalg.LinAlgError, match=r"square.*\(2, 3\)"):
        tg.linalg.det(tg.ones(2, 3))
    with pytest.raises(tg.linalg.LinAlgError, match="floating-point"):
        tg.linalg.inv(tg.tensor([[1, 0], [0, 1]]))


@settings(max_examples=12)
@given(data=st.data(), batch=_BATCH, n=st.integers(1, 3), k=st.integers(1, 3),
       form=st.sampled_from(["matrix", "vector", "batched vector", "left=False"]))
def test_solve_matches_torch(data, batch, n, k, form):
    a = _well_conditioned(data, batch, n)
    b_shape = {"matrix": (*batch, n, k), "vector": (n,), "batched vector": (*batch, n),
               "left=False": (*batch, k, n)}[form]
    b = data.draw(floats(-3, 3, b_shape))
    kw = {"left": False} if form == "left=False" else {}
    against_torch(lambda p, q: tg.linalg.solve(p, q, **kw),
                  lambda p, q: torch.linalg.solve(p, q, **kw), [a, b], atol=1e-8, rtol=1e-7)


@settings(max_examples=8)
@given(data=st.data(), n=st.integers(1, 3))
def test_solve_gradient_central_differences_with_broadcast_batch(data, n):
    a = _well_conditioned(data, (2,), n)
    b = data.draw(floats(-3, 3, (n, 2)))
    gradcheck64(tg.linalg.solve, [a, b])


A2 = [[2.0, 1.0], [0.5, 3.0]]
SECOND_ORDER = {
    "inv": (tg.linalg.inv, torch.linalg.inv, [A2]),
    "det": (tg.linalg.det, torch.linalg.det, [A2]),
    "logdet": (tg.logdet, torch.logdet, [A2]),
    "solve": (tg.linalg.solve, torch.linalg.solve, [A2, [[1.0], [-2.0]]]),
    "vector_norm_3": (lambda x: tg.linalg.vector_norm(x, 3), lambda x: torch.linalg.vector_norm(
        x, 3), [A2]),
    # torch.cdist has no second derivative: its definition written out
    "cdist": (tg.cdist, lambda a, b: torch.linalg.vector_norm(a[:, None] - b[None], dim=-1),
              [A2, [[0.0, 1.0]]]),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_derivatives_match_torch(name):
    ours, theirs, arrays = SECOND_ORDER[name]
    second_order_against_torch(ours, theirs, [np.array(a) for a in arrays])


# ----------------------------------------------------------------------------- norms
VECTOR_ORDS = [2, 1, 3, 0.5, np.inf, -np.inf, 0, -1]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
@settings(max_examples=12)
@given(data=st.data(), shape=st.sampled_from([(4,), (2, 3), (2, 1, 3)]), keepdim=st.booleans())
def test_vector_norm_matches_torch(ord, data, shape, keepdim):
    dim = data.draw(st.sampled_from([None, -1, 0] + ([(0, -1)] if len(shape) > 1 else [])))
    x = data.draw(floats(-3, 3, shape).filter(lambda a: np.unique(np.abs(a)).size == a.size))
    grad = ord not in (0,)  # a count: PyTorch's gradient is 0, ours none
    against_torch(lambda t: tg.linalg.vector_norm(t, ord, dim, keepdim),
                  lambda t: torch.linalg.vector_norm(t, ord, dim, keepdim), [x], grad=grad,
                  atol=1e-8, rtol=1e-7)


@pytest.mark.parametrize("ord", [2, 1, 3, np.inf])
def test_vector_norm_gradient_of_a_zero_vector_is_zero(ord):
    against_torch(lambda t: tg.linalg.vector_norm(t, ord), lambda t: torch.linalg.vector_norm(
        t, ord), [np.zeros(3)])
    against_torch(lambda t: tg.norm(t, ord, dim=1), lambda t: torch.norm(t, ord, dim=1),
                  [np.array([[0.0, 0.0], [3.0, -4.0]])])


@pytest.mark.parametrize("ord", ["fro", 1, -1, np.inf, -np.inf])
@settings(max_examples=12)
@given(data=st.data(), batch=_BATCH, keepdim=st.booleans())
def test_matrix_norm_matches_torch(ord, data, batch, keepdim):
    x = data.draw(floats(-3, 3, (*batch, 3, 2)).filter(lambda a: np.unique(a).size == a.size))
    against_torch(lambda t: tg.linalg.matrix_norm(t, ord, keepdim=keepdim),
                  lambda t: torch.linalg.matrix_norm(t, ord, keepdim=keepdim), [x], atol=1e-8)


def test_matrix_norm_refuses_singular_value_norms():
    with pytest.raises(NotImplementedError, match="'nuc'"):
        tg.linalg.matrix_norm(tg.ones(2, 2), "nuc")
    with pytest.raises(TypeError, match="floating-point"):
        tg.linalg.vector_norm(tg.tensor([1, 2]))


NORM_CALLS = [
    ((), {}),
    ((), {"ord": 1}),
    ((), {"ord": np.inf, "dim": 1}),
    ((), {"dim": (0, 1)}),
    ((), {"ord": -1, "dim": (1, 0), "keepdim": True}),
]


@pytest.mark.parametrize(("args", "kwargs"), NORM_CALLS)
@settings(max_examples=12)
@given(data=st.data())
def test_linalg_norm_matches_torch(args, kwargs, data):
    x = data.draw(floats(-3, 3, (3, 2)).filter(lambda a: np.unique(a).size == a.size))
    against_torch(lambda t: tg.linalg.norm(t, *args, **kwargs),
                  lambda t: torch.linalg.norm(t, *args, **kwargs), [x], atol=1e-8)


TORCH_NORM_CALLS = [((), {}), ((2, 1), {}), ((1,), {}), (("fro",), {"dim": (0, 1)}),
                    ((), {"p": 3, "dim": 0, "keepdim": True}), ((float("inf"),), {})]


@pytest.mark.parametrize(("args", "kwargs"), TORCH_NORM_CALLS)
@settings(max_examples=12)
@given(data=st.data())
def test_torch_norm_and_method_match_torch(args, kwargs, data):
    x = data.draw(floats(-3, 3, (3, 2)).filter(lambda a: np.unique(np.abs(a)).size == a.size))
    against_torch(lambda t: tg.norm(t, *args, **kwargs),
                  lambda t: torch.norm(t, *args, **kwargs), [x], atol=1e-8)
    against_torch(lambda t: t.norm(*args, **kwargs), lambda t: t.norm(*args, **kwargs), [x],
                  atol=1e-8)


def test_norm_of_vectors_and_numpy_mode_share_the_vector_norm():
    x = tg.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    np.linalg.norm(x, ord=3, axis=1).sum().backward()  # numpy mode: zero row, gradient 0
    assert np.isfinite(x.grad.numpy()).all() and x.grad.numpy()[0].tolist() == [0.0, 0.0]


# ----------------------------------------------------------------------------- statistics
@pytest.mark.parametrize("fn", ["var_mean", "std_mean"])
@settings(max_examples=12)
@given(data=st.data(), shape=st.sampled_from([(5,), (3, 4), (2, 3, 2)]), keepdim=st.booleans(),
       correction=st.sampled_from([None, 0, 1]))
def test_var_mean_and_std_mean_match_torch(fn, data, shape, keepdim, correction):
    dim = data.draw(st.sampled_from([None, -1, 0] + ([(0, -1)] if len(shape) > 1 else [])))
    x = data.draw(floats(-3, 3, shape).filter(lambda a: np.ptp(a) > 0.1))
    kw = {"dim": dim, "keepdim": keepdim}
    if correction is not None:
        kw["correction"] = correction
    for k in (0, 1):
        against_torch(lambda t, k=k: getattr(tg, fn)(t, **kw)[k],
                      lambda t, k=k: getattr(torch, fn)(t, **kw)[k], [x], atol=1e-8)
    against_torch(lambda t: getattr(tg, fn)(t, 0, False)[0],  # the legacy (dim, unbiased)
                  lambda t: getattr(torch, fn)(t, 0, False)[0], [x], atol=1e-8)


@settings(max_examples=12)
@given(data=st.data(), batch=st.sampled_from([(), (2,)]), p=st.sampled_from([2.0, 1.0, 3.0]),
       rows=st.integers(1, 3), cols=st.integers(1, 3))
def test_cdist_matches_torch(data, batch, p, rows, cols):
    x1 = data.draw(floats(-3, 3, (*batch, rows, 2)))
    x2 = data.draw(floats(-3, 3, (*batch, cols, 2)))
    against_torch(lambda a, b: tg.cdist(a, b, p=p), lambda a, b: torch.cdist(a, b, p=p),
                  [x1, x2], atol=1e-7, rtol=1e-6)


def test_cdist_gradient_at_zero_distance_is_zero():
    x = np.array([[1.0, 2.0], [0.0, 0.0]])
    against_torch(tg.cdist, torch.cdist, [x, x.copy()])
    with pytest.raises(RuntimeError, match="same M"):
        tg.cdist(tg.ones(2, 3), tg.ones(2, 2))
