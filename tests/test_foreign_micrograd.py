"""Ported from karpathy/micrograd's test_engine.py: two scalar expressions (the "sanity check"
and "more ops") built once with tinygrad_edu and once with PyTorch in float64, values and
gradients compared, as micrograd does. Written here in our API, both as plain expressions and
with micrograd's in-place spelling (``c += c + 1``), which on tensors rebinds in place.

Then in-place writes through repeated indices (``h[[0, 0]] += b``), where numpy's meaning
(the last write wins, once) is the function's true derivative; PyTorch's index_put counts a
repeated index once per occurrence in the gradient, so the reference here is central
differences, not PyTorch."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg


def _sanity(lib, x):
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    return h + q + q * x


def _more_ops(lib, a, b, in_place: bool):
    c = a + b
    d = a * b + b ** 3
    if in_place:
        c += c + 1
        c += 1 + c + (-a)
        d += d * 2 + (b + a).relu()
        d += 3 * d + (b - a).relu()
    else:
        c = c + (c + 1)
        c = c + (1 + c + (-a))
        d = d + (d * 2 + (b + a).relu())
        d = d + (3 * d + (b - a).relu())
    f = (c - d) ** 2
    g = f / 2.0
    return g + 10.0 / f


def _run(lib, program: Callable, values: list[float], **kw) -> tuple[float, list[float]]:
    leaves = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in values]
    out = program(lib, *leaves, **kw)
    out.backward()
    return out.item(), [leaf.grad.item() for leaf in leaves]


@settings(max_examples=25, deadline=None)
@given(x=st.floats(-5, 5).filter(lambda v: abs(v) > 1e-3 and abs(3 * v + 2) > 1e-3))
def test_sanity_check_against_pytorch(x) -> None:
    ours, theirs = _run(tg, _sanity, [x]), _run(torch, _sanity, [x])
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)


@pytest.mark.parametrize("in_place", [False, True])
def test_more_ops_against_pytorch(in_place) -> None:
    ours = _run(tg, _more_ops, [-4.0, 2.0], in_place=in_place)
    theirs = _run(torch, _more_ops, [-4.0, 2.0], in_place=in_place)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)


def _repeated_writes(h: tg.Tensor, b: tg.Tensor) -> tg.Tensor:
    h = h * 2
    h[[0, 0]] += b  # row 0 gets b once: numpy's h[[0, 0]] = h[[0, 0]] + b
    h[1, [1, 1]] = b[:2]  # (1, 1) ends as b[1]
    return h


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_repeated_index_writes_have_the_numeric_gradient(seed) -> None:
    rng = np.random.default_rng(seed)
    h0, b0, w = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((3, 4))

    def loss(h: np.ndarray, b: np.ndarray) -> float:
        return float((_repeated_writes(tg.tensor(h), tg.tensor(b)).numpy() * w).sum())

    h, b = tg.tensor(h0, requires_grad=True), tg.tensor(b0, requires_grad=True)
    (_repeated_writes(h, b) * tg.tensor(w)).sum().backward()
    for got, base, which in ((h.grad, h0, 0), (b.grad, b0, 1)):
        numeric = np.zeros_like(base)
        for i in np.ndindex(base.shape):
            up, down = base.copy(), base.copy()
            up[i] += 1e-6
            down[i] -= 1e-6
            args_up = (up, b0) if which == 0 else (h0, up)
            args_down = (down, b0) if which == 0 else (h0, down)
            numeric[i] = (loss(*args_up) - loss(*args_down)) / 2e-6
        np.testing.assert_allclose(got.numpy(), numeric, atol=1e-6)
