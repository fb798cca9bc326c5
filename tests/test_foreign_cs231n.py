"""Ported from the kind of numpy code Stanford's CS231n assignments have learners write (the
linear SVM and softmax classifiers, the two-layer net, batch normalization, max pooling by
reshape, word embeddings, dropout, a temporal softmax with a mask, an RNN's hidden states
stacked from a list): rewritten here as plain numpy functions of a dict of parameters and
differentiated by ``tg.numpy_grad``, each checked against float64 central differences of the
same numpy function, as the assignments' ``eval_numerical_gradient`` does.

Also the assignments' most common way to lose the gradient, ``x.dot(W)`` with ``x`` a plain
array: the error must name ``.dot`` (not another numpy call on the same line) and the fix."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.numpy_mode import LostGradientError


def _central(fn: Callable[[dict], float], params: dict, eps: float = 1e-6) -> dict:
    """d fn / d params[k] by float64 central differences, one entry at a time."""
    grads = {}
    for key, value in params.items():
        grad = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            old = value[i]
            value[i] = old + eps
            up = fn(params)
            value[i] = old - eps
            down = fn(params)
            value[i] = old
            grad[i] = (up - down) / (2 * eps)
        grads[key] = grad
    return grads


def _assert_numpy_grad_is_numeric(fn: Callable[[dict], float], params: dict) -> None:
    got = tg.numpy_grad(fn)(params)
    want = _central(fn, params)
    for key in params:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6, err_msg=key)


def _data(seed: int, n: int, d: int, c: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, c, n)


def _svm_loss(x: np.ndarray, y: np.ndarray, reg: float) -> Callable[[dict], float]:
    """The vectorized multiclass SVM loss, margins zeroed in place at the correct class."""
    def loss(p):
        scores = x @ p["W"]
        correct = scores[np.arange(len(y)), y]
        margins = np.maximum(0, scores - correct[:, np.newaxis] + 1)
        margins[np.arange(len(y)), y] = 0
        return np.sum(margins) / len(y) + 0.5 * reg * np.sum(p["W"] * p["W"])
    return loss


def _two_layer_loss(x: np.ndarray, y: np.ndarray) -> Callable[[dict], float]:
    """affine - relu - affine - softmax, scores shifted by their row max."""
    def loss(p):
        hidden = np.maximum(0, np.dot(x, p["W1"]) + p["b1"])
        scores = np.dot(hidden, p["W2"]) + p["b2"]
        scores = scores - np.max(scores, axis=1, keepdims=True)
        probs = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
        data = -np.sum(np.log(probs[range(len(y)), y])) / len(y)
        return data + 0.05 * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
    return loss


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 5), d=st.integers(1, 4),
       c=st.integers(2, 4))
def test_svm_and_two_layer_net_gradients_are_the_numeric_ones(seed, n, d, c) -> None:
    x, y = _data(seed, n, d, c)
    rng = np.random.default_rng(seed + 1)
    _assert_numpy_grad_is_numeric(_svm_loss(x, y, 0.1), {"W": rng.standard_normal((d, c))})
    params = {"W1": rng.standard_normal((d, 3)), "b1": rng.standard_normal(3),
              "W2": rng.standard_normal((3, c)), "b2": rng.standard_normal(c)}
    _assert_numpy_grad_is_numeric(_two_layer_loss(x, y), params)


def test_batchnorm_forward_over_batch_and_over_space() -> None:
    rng = np.random.default_rng(0)
    x, x4 = rng.standard_normal((5, 4)), rng.standard_normal((2, 3, 2, 2))
    weights = np.arange(20.0).reshape(5, 4)

    def batchnorm(p):
        h = x * p["scale"]
        norm = (h - h.mean(axis=0)) / np.sqrt(h.var(axis=0) + 1e-5)
        return np.sum((p["gamma"] * norm + p["beta"]) * weights)

    def spatial(p):
        h = x4 * p["scale"]
        mu = np.mean(h, axis=(0, 2, 3), keepdims=True)
        var = np.var(h, axis=(0, 2, 3), keepdims=True)
        return np.sum(((h - mu) / np.sqrt(var + 1e-5)) ** 3)

    _assert_numpy_grad_is_numeric(batchnorm, {k: rng.standard_normal(4)
                                              for k in ("scale", "gamma", "beta")})
    _assert_numpy_grad_is_numeric(spatial, {"scale": rng.standard_normal((2, 3, 2, 2))})


def test_max_pool_by_reshape_and_embedding_lookup() -> None:
    rng = np.random.default_rng(1)
    words = np.array([[0, 2, 1], [3, 3, 0]])  # a repeated word accumulates

    def pool(p):
        h = p["x"].reshape(2, 2, 2, 2, 2, 2).max(axis=3).max(axis=4)
        return np.sum(h ** 2)

    def embed(p):
        out = p["W"][words]
        return np.sum(out * np.arange(out.size).reshape(out.shape))

    _assert_numpy_grad_is_numeric(pool, {"x": rng.standard_normal((2, 2, 4, 4))})
    _assert_numpy_grad_is_numeric(embed, {"W": rng.standard_normal((4, 3))})


def test_dropout_temporal_softmax_and_rnn_states_from_a_list() -> None:
    rng = np.random.default_rng(2)
    mask = rng.random((5, 4)) < 0.5
    targets, keep = np.array([0, 1] * 5), np.array([1, 0] * 5, dtype=bool)
    inputs = np.linspace(-1, 1, 12).reshape(4, 3)

    def dropout(p):
        return np.sum((p["x"] * mask / 0.5) ** 2)

    def temporal_softmax(p):
        s = p["x"].reshape(10, 2)
        probs = np.exp(s - np.max(s, axis=1, keepdims=True))
        probs /= np.sum(probs, axis=1, keepdims=True)
        return -np.sum(keep * np.log(probs[np.arange(10), targets])) / 5

    def rnn(p):
        h, states = np.zeros(3), []
        for x_t in inputs:
            h = np.tanh(x_t @ p["Wx"] + h @ p["Wh"] + p["b"])
            states.append(h)
        return np.sum(np.stack(states) ** 2)

    _assert_numpy_grad_is_numeric(dropout, {"x": rng.standard_normal((5, 4))})
    _assert_numpy_grad_is_numeric(temporal_softmax, {"x": rng.standard_normal((5, 4))})
    _assert_numpy_grad_is_numeric(rnn, {k: rng.standard_normal(s) for k, s in
                                        (("Wx", (3, 3)), ("Wh", (3, 3)), ("b", (3,)))})


def test_plain_array_dot_of_a_parameter_is_named_with_its_fix() -> None:
    x = np.ones((5, 4))

    def loss(p):
        s = x.dot(p["W"]); s = np.maximum(0, s)  # noqa: E702  (np.maximum is not the culprit)
        return np.sum(s)

    with pytest.raises(LostGradientError, match=r"`ndarray.dot`.*x @ w.*np.dot\(x, w\)"):
        tg.numpy_grad(loss)({"W": np.ones((4, 3))})
    # the fix the message gives works
    fixed = tg.numpy_grad(lambda p: np.sum(np.maximum(0, np.dot(x, p["W"]))))
    np.testing.assert_array_equal(fixed({"W": np.ones((4, 3))})["W"], np.full((4, 3), 5.0))



def test_in_place_numpy_functions_into_a_plain_array() -> None:
    """np.copyto / np.fill_diagonal into a plain array: numpy's own result when nothing written
    requires grad; refused (not a silently lost gradient) when something does."""
    def loss(w):
        out = np.zeros((2, 2))
        np.copyto(out, w)
        return out.sum()

    with pytest.raises(TypeError, match=r"np.copyto: the destination is a plain numpy array"):
        tg.numpy_grad(loss)(np.ones((2, 2)))
    with tg.no_grad():
        plain = np.zeros((2, 2))
        np.copyto(plain, tg.tensor([[1.0, 2.0], [3.0, 4.0]]))
        np.fill_diagonal(plain, tg.tensor(7.0))
    np.testing.assert_array_equal(plain, [[7.0, 2.0], [3.0, 7.0]])
