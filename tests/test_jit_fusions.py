"""compile_step's rewrite of a concatenation that only feeds a matrix product
(``ConcatAffine``): its gradients against central differences, a rewritten replay against
eager execution for every kind of product and of which pieces need a gradient, and the cases
that must not be rewritten."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import optim
from tinygrad_edu.autograd import compile_step
from tinygrad_edu.gradcheck import gradcheck
from tinygrad_edu.keras._dense_op import DenseOp
from tinygrad_edu.nn._functions import ConcatAffine

FUSED = "as ConcatAffine"  # the generated code's comment on a rewritten pair
KINDS = ("matmul", "linear", "dense")


@st.composite
def layers(draw):
    """Pieces (rows, width_i), a product kind, a bias or not, who needs a gradient."""
    rows = draw(st.integers(1, 5))
    widths = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    out = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(KINDS))
    bias = kind != "matmul" and draw(st.booleans())
    needs = draw(st.lists(st.booleans(), min_size=len(widths), max_size=len(widths)))
    seed = draw(st.integers(0, 2**16))
    return rows, widths, out, kind, bias, needs, seed


def _make(rows, widths, out, kind, bias, needs, seed):
    rng = np.random.default_rng(seed)
    pieces = [tg.tensor(rng.normal(size=(rows, w)), requires_grad=n)
              for w, n in zip(widths, needs)]
    shape = (out, sum(widths)) if kind == "linear" else (sum(widths), out)
    w = tg.tensor(rng.normal(size=shape), requires_grad=True)
    b = tg.tensor(rng.normal(size=out), requires_grad=True) if bias else None
    return pieces, w, b


def _product(kind, x, w, b):
    if kind == "matmul":
        return x @ w
    if kind == "linear":
        return F.linear(x, w, b)
    return DenseOp.apply(x, w) if b is None else DenseOp.apply(x, w, b)


@settings(max_examples=40, deadline=None)
@given(layers())
def test_concat_affine_gradients_match_central_differences(layer) -> None:
    rows, widths, out, kind, bias, _needs, seed = layer
    pieces, w, b = _make(rows, widths, out, kind, bias, [True] * len(widths), seed)
    if kind == "matmul":
        bias = False
    args = [*pieces, w] + ([b] if bias else [])

    def fn(*ts):
        return ConcatAffine.apply(*ts, sizes=tuple(widths), weight_out_in=kind == "linear",
                                  has_bias=bias)

    assert gradcheck(fn, args, eps=1e-6, atol=1e-7, rtol=1e-6)
    expected = _product(kind, tg.cat(pieces, dim=1), w, b if bias else None)
    np.testing.assert_allclose(fn(*args).data, expected.data, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(layers())
def test_a_rewritten_replay_agrees_with_eager(layer) -> None:
    """Three calls without an optimizer: gradients accumulate as three backward() calls
    would (two recordings, then a replay of the rewritten program)."""
    rows, widths, out, kind, bias, needs, seed = layer
    results = []
    for jit in (False, True):
        pieces, w, b = _make(rows, widths, out, kind, bias, needs, seed)

        def loss(*ps, w=w, b=b):
            h = _product(kind, tg.cat(list(ps), dim=1), w, b).tanh()
            return (h * h).sum() + ps[0].sum()  # the first piece also feeds the loss

        step = compile_step(loss) if jit else None
        values = []
        for _ in range(3):
            if jit:
                values.append(step(*pieces).item())
            else:
                out_ = loss(*pieces)
                out_.backward()
                values.append(out_.item())
        leaves = [*pieces, w] + ([b] if b is not None else [])
        results.append((values, [None if t.grad is None else t.grad.data for t in leaves]))
        if jit:
            assert step.replays == 1 and FUSED in step.source
    (eager_values, eager_grads), (jit_values, jit_grads) = results
    np.testing.assert_allclose(jit_values, eager_values, rtol=1e-12)
    for a, g in zip(eager_grads, jit_grads):
        assert (a is None) == (g is None)
        if a is not None:
            np.testing.assert_allclose(g, a, rtol=1e-12, atol=1e-12)


def _sine_net(fuse: bool, steps: int = 6):
    """Seed 002's net: a bias column joined before each product, float32, SGD."""
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.uniform(0, 6, size=(50, 1)).astype(np.float32))
    y = tg.tensor(np.sin(x.data) * 0.4 + 0.5)
    ones = tg.ones(50, 1)
    w1 = tg.tensor(rng.normal(size=(2, 6)).astype(np.float32), requires_grad=True)
    w2 = tg.tensor(rng.normal(size=(7, 1)).astype(np.float32), requires_grad=True)
    opt = optim.SGD([w1, w2], lr=0.5)

    def loss():
        a1 = (tg.cat([ones, x], dim=1) @ w1).sigmoid()
        h = (tg.cat([ones, a1], dim=1) @ w2).sigmoid()
        return F.mse_loss(h, y, reduction="sum") / 100

    step = compile_step(loss, opt, fuse=fuse)
    losses = [step().item() for _ in range(steps)]
    return step, losses, w1.data.copy(), w2.data.copy()


def test_the_seed_net_trains_the_same_fused_or_not() -> None:
    fused, losses, *params = _sine_net(fuse=True)
    plain, plain_losses, *plain_params = _sine_net(fuse=False)
    assert fused.source.count(FUSED) == 2 and FUSED not in plain.source
    assert fused.replays == plain.replays == 4
    np.testing.assert_allclose(losses, plain_losses, rtol=1e-5)
    for a, b in zip(params, plain_params):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fuse_false_replays_bit_for_bit() -> None:
    w = tg.tensor(np.arange(6.0).reshape(3, 2) / 7, requires_grad=True)
    x = tg.tensor(np.linspace(-1, 1, 8).reshape(4, 2), requires_grad=True)
    ones = tg.ones(4, 1, dtype=tg.float64)
    step = compile_step(lambda: (tg.cat([ones, x], dim=1) @ w).tanh().sum(), fuse=False)
    for _ in range(3):
        step()
    v = tg.tensor(w.data.copy(), requires_grad=True)
    u = tg.tensor(x.data.copy(), requires_grad=True)
    for _ in range(3):
        (tg.cat([ones, u], dim=1) @ v).tanh().sum().backward()
    assert np.array_equal(w.grad.data, v.grad.data) and np.array_equal(x.grad.data, u.grad.data)


def test_a_concatenation_used_elsewhere_or_returned_is_not_rewritten() -> None:
    w = tg.tensor(np.ones((3, 1)), requires_grad=True)
    x = tg.tensor(np.ones((4, 2)), requires_grad=True)
    ones = tg.ones(4, 1, dtype=tg.float64)

    def twice():
        c = tg.cat([ones, x], dim=1)
        return (c @ w).sum() + c.sum()

    def returned():
        c = tg.cat([ones, x], dim=1)
        return (c @ w).sum(), c

    v = tg.tensor(np.ones((4, 1)), requires_grad=True)

    def other_axis():  # rows joined: not a split of the product's inner dimension
        return (tg.cat([ones.T, x.T], dim=0) @ v).sum()

    for fn in (twice, returned, other_axis):
        step = compile_step(fn)
        for _ in range(3):
            step()
        assert step.replays == 1 and FUSED not in step.source, fn.__name__
