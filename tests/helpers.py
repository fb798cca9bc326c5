"""Numerical helpers for the tests: central differences in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import tinygrad_edu as tg


def evaluate(fn: Callable, arrays: Sequence[np.ndarray], kwargs: dict) -> np.ndarray:
    """``fn`` on fresh constant tensors, as an array."""
    with tg.no_grad():
        out = fn(*[tg.Tensor(a) for a in arrays], **kwargs)
    return np.asarray(out.data, dtype=np.float64)


def numeric_vjp(
    fn: Callable,
    arrays: Sequence[np.ndarray],
    kwargs: dict,
    cotangent: np.ndarray,
    index: int,
    eps: float = 1e-6,
    evaluate: Callable = evaluate,
) -> np.ndarray:
    """d sum(fn(arrays) * cotangent) / d arrays[index], by central differences (``evaluate``
    runs ``fn`` on the arrays: on constant Tensors by default)."""
    arrays = [np.array(a, dtype=np.float64, copy=True) for a in arrays]
    x = arrays[index]
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        orig = x[idx]
        x[idx] = orig + eps
        plus = float((evaluate(fn, arrays, kwargs) * cotangent).sum())
        x[idx] = orig - eps
        minus = float((evaluate(fn, arrays, kwargs) * cotangent).sum())
        x[idx] = orig
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def autograd_vjp(
    fn: Callable, arrays: Sequence[np.ndarray], kwargs: dict, cotangent: np.ndarray
) -> list:
    """Gradients of sum(fn(arrays) * cotangent) w.r.t. each array, by backward()."""
    ts = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts, **kwargs)
    (out * cotangent).sum().backward()
    return [t.grad.numpy() if t.grad is not None else np.zeros_like(a) for t, a in zip(ts, arrays)]


def assert_close(
    actual: np.ndarray, expected: np.ndarray, atol: float = 1e-6, rtol: float = 1e-5, what: str = ""
) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    err = np.abs(actual - expected)
    bound = atol + rtol * np.abs(expected)
    if not (err <= bound).all():
        worst = np.unravel_index(np.argmax(err - bound), err.shape) if err.ndim else ()
        raise AssertionError(
            f"{what}: max abs error {err.max():.3g}; worst at {worst}: {actual[worst]!r} vs "
            f"expected {expected[worst]!r}"
        )
