"""The checker on deeplearning.ai-style data, one sample per column (X of shape (n_x, m)):
a missing 1/m is named with the batch size m, not with the number of features."""

from __future__ import annotations

import numpy as np

from tinygrad_edu.gradcheck import check_backprop

rng = np.random.default_rng(1)
X = rng.normal(size=(4, 3))  # 4 features, 3 samples
Y = np.array([[1, 1, 0]])
PARAMS = {"W1": rng.normal(size=(5, 4)), "b1": rng.normal(size=(5, 1)),
          "W2": rng.normal(size=(1, 5)), "b2": rng.normal(size=(1, 1))}


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def loss(p, X, Y):
    A1 = np.maximum(0, p["W1"] @ X + p["b1"])
    A2 = sigmoid(p["W2"] @ A1 + p["b2"])
    m = X.shape[1]
    return -1 / m * np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))


def grads(p, X, Y, forget_m_in_db1=False):
    m = X.shape[1]
    Z1 = p["W1"] @ X + p["b1"]
    A1 = np.maximum(0, Z1)
    dZ2 = sigmoid(p["W2"] @ A1 + p["b2"]) - Y
    dZ1 = (p["W2"].T @ dZ2) * (Z1 > 0)
    scale = 1.0 if forget_m_in_db1 else 1.0 / m
    return {"W1": 1.0 / m * dZ1 @ X.T, "b1": scale * np.sum(dZ1, axis=1, keepdims=True),
            "W2": 1.0 / m * dZ2 @ A1.T, "b2": 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)}


def test_a_missing_one_over_m_is_named_with_the_column_count() -> None:
    assert check_backprop(loss, grads, PARAMS, X, Y).passed
    report = check_backprop(loss, lambda p, X, Y: grads(p, X, Y, True), PARAMS, X, Y)
    assert not report.passed and not report["W1"].diagnosis and report["b1"].diagnosis
    assert "factor m (m = batch size 3)" in str(report)  # X is (4 features, 3 samples)
