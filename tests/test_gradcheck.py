"""gradcheck / gradgradcheck: core ops pass, wrong backwards fail with a short worst-entry report,
fast mode agrees with full mode (and costs a few calls whatever the size), float32 warns,
kinks are named."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.gradcheck import (
    GradcheckError,
    GradcheckPrecisionWarning,
    gradcheck,
    gradgradcheck,
)

RNG = np.random.default_rng(0)


def t64(*shape, lo=-1.5, hi=1.5, requires_grad=True, seed=None):
    rng = RNG if seed is None else np.random.default_rng(seed)
    return tg.tensor(rng.uniform(lo, hi, size=shape), dtype=tg.float64,
                     requires_grad=requires_grad)


# --------------------------------------------------------------------------- core ops pass
CORE = {
    "add_broadcast": (lambda a, b: a + b, lambda: (t64(2, 3), t64(3))),
    "mul": (lambda a, b: a * b, lambda: (t64(2, 3), t64(2, 3))),
    "div": (lambda a, b: a / b, lambda: (t64(3), t64(3, lo=0.5, hi=2.0))),
    "exp_log": (lambda a: (a.exp() + 1).log(), lambda: (t64(4),)),
    "tanh_sigmoid": (lambda a: a.tanh() * a.sigmoid(), lambda: (t64(2, 2),)),
    "matmul": (lambda a, b: a @ b, lambda: (t64(2, 3), t64(3, 4))),
    "softmax": (lambda a: a.softmax(-1), lambda: (t64(2, 4),)),
    "log_softmax": (lambda a: a.log_softmax(0), lambda: (t64(3, 2),)),
    "sum_mean": (lambda a: a.sum(0) * a.mean(), lambda: (t64(3, 2),)),
    "getitem_cat": (lambda a, b: tg.cat([a[1:], b * 2], axis=0), lambda: (t64(3, 2), t64(1, 2))),
    "pow_sqrt": (lambda a: (a ** 3).abs().sqrt(), lambda: (t64(3, lo=0.5, hi=2.0),)),
    "reshape_T": (lambda a: a.reshape(3, 2).T @ a.reshape(3, 2), lambda: (t64(6),)),
}


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
@pytest.mark.parametrize("name", list(CORE))
def test_core_ops_pass(name, fast_mode):
    fn, make = CORE[name]
    assert gradcheck(fn, make(), fast_mode=fast_mode) is True


SMOOTH = ["mul", "div", "exp_log", "tanh_sigmoid", "matmul", "softmax", "pow_sqrt"]


@pytest.mark.parametrize("name", SMOOTH)
def test_core_ops_pass_gradgradcheck(name):
    fn, make = CORE[name]
    assert gradgradcheck(fn, make()) is True


def test_multiple_outputs_and_passthrough_inputs():
    a, b = t64(3), t64(3)
    idx = tg.tensor([2, 0], dtype=tg.int64)

    def fn(x, y, index, scale):
        return (x * y)[index] * scale, (x + y).sin(), idx.long()  # an int output is ignored

    assert gradcheck(fn, (a, b, idx, 2.5))


def test_input_without_requires_grad_is_not_checked():
    class WrongForY(tg.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y, g * x * 3  # wrong for y

    x, y = t64(3), t64(3, requires_grad=False)
    assert gradcheck(WrongForY.apply, (x, y))
    y.requires_grad_()
    with pytest.raises(GradcheckError, match="w.r.t. input 1"):
        gradcheck(WrongForY.apply, (x, y))


def test_no_differentiable_input_is_an_error():
    with pytest.raises(ValueError, match="requires grad"):
        gradcheck(lambda a: a * 2, t64(2, requires_grad=False))


# --------------------------------------------------------------------------- wrong backwards
def _bad_function(kind: str):
    class Bad(tg.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return np.tanh(x @ w)

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            d = g * (1 - np.tanh(x @ w) ** 2)
            gx, gw = d @ w.T, x.T @ d
            if kind == "sign":
                gw = -gw
            elif kind == "factor":
                gw = gw * 2
            elif kind == "one_entry":
                gw = np.array(gw)
                gw[1, 0] += 0.3
            elif kind == "rows_swapped_x":
                gx = gx[::-1]
            return gx, gw

    return Bad


BAD_KINDS = ["sign", "factor", "one_entry", "rows_swapped_x"]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_wrong_backward_fails_with_worst_entry(kind):
    x, w = t64(3, 2, seed=1), t64(2, 4, seed=2)
    fn = _bad_function(kind).apply
    assert gradcheck(fn, (x, w), raise_exception=False) is False
    with pytest.raises(GradcheckError) as info:
        gradcheck(fn, (x, w))
    err = info.value
    assert isinstance(err, AssertionError)
    (m, *_) = err.failures
    assert m.input == (0 if kind == "rows_swapped_x" else 1)
    # the reported worst entry is a real disagreement, with both values given
    assert abs(m.analytical - m.numerical) > 1e-5 + 1e-3 * abs(m.numerical)
    msg = str(err)
    assert "worst: d output" in msg and f"{m.analytical:.8g}" in msg and f"{m.numerical:.8g}" in msg
    assert "max abs err" in msg and "max rel err" in msg
    if kind == "one_entry":
        assert m.input_index == (1, 0) and m.n_bad == 12  # one column: all 12 outputs


def test_report_is_short_for_large_jacobians():
    class Off(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * 2.1

    with pytest.raises(GradcheckError) as info:
        gradcheck(Off.apply, t64(40, 40))
    msg = str(info.value)
    assert len(msg.splitlines()) <= 4 and len(msg) < 600
    assert "1600 of 2560000" in msg


# --------------------------------------------------------------------------- fast mode
@pytest.mark.parametrize("kind", [None, *BAD_KINDS])
def test_fast_mode_agrees_with_full_mode_and_locates_the_failure(kind):
    x, w = t64(3, 2, seed=3), t64(2, 4, seed=4)
    fn = (lambda a, b: (a @ b).tanh()) if kind is None else _bad_function(kind).apply
    full = gradcheck(fn, (x, w), raise_exception=False)
    fast = gradcheck(fn, (x, w), raise_exception=False, fast_mode=True)
    assert full == fast == (kind is None)
    if kind is None:
        return
    with pytest.raises(GradcheckError) as slow_info:
        gradcheck(fn, (x, w))
    with pytest.raises(GradcheckError) as fast_info:
        gradcheck(fn, (x, w), fast_mode=True)
    slow_m, fast_m = slow_info.value.failures[0], fast_info.value.failures[0]
    assert fast_m.fast is not None and "v^T J u" in str(fast_info.value)
    assert (fast_m.input, fast_m.input_index, fast_m.output_index) == \
        (slow_m.input, slow_m.input_index, slow_m.output_index)
    assert fast_m.analytical == slow_m.analytical


def test_fast_mode_is_reproducible_and_seeded():
    x, w = t64(3, 2, seed=5), t64(2, 4, seed=6)
    fn = _bad_function("factor").apply

    def projection(seed):
        with pytest.raises(GradcheckError) as info:
            gradcheck(fn, (x, w), fast_mode=True, seed=seed)
        return info.value.failures[0].fast

    assert projection(0) == projection(0)
    assert projection(0) != projection(1)


class _Counter:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args):
        self.calls += 1
        return self.fn(*args)


@pytest.mark.parametrize("width", [3, 30])
def test_fast_mode_cost_does_not_grow_with_parameter_count(width):
    """vᵀJu: one backward for vᵀJ, two calls for Ju, whatever the number of entries."""
    w1, w2 = t64(4, width, seed=7), t64(width, 1, seed=8)
    x = tg.tensor(np.random.default_rng(9).normal(size=(5, 4)))

    def loss(a, b):
        return ((x @ a).tanh() @ b).sum()

    fast, full = _Counter(loss), _Counter(loss)
    assert gradcheck(fast, (w1, w2), fast_mode=True)
    assert gradcheck(full, (w1, w2))
    assert fast.calls == 3  # the recorded call, f(x + eps u), f(x - eps u)
    assert full.calls == 1 + 2 * (w1.numel() + w2.numel())


# --------------------------------------------------------------------------- precision, kinks
def test_float32_inputs_warn_and_say_why():
    x = tg.tensor([0.3, 1.2], requires_grad=True)  # float32
    with pytest.warns(GradcheckPrecisionWarning) as record:
        gradcheck(lambda t: (t * t).sum(), x, raise_exception=False)
    message = str(record[0].message)
    assert "float32" in message and ".double()" in message and "rounding" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(lambda t: (t * t).sum(), x.double().detach().requires_grad_())


def test_float32_failure_mentions_precision():
    x = tg.tensor([3.0, -2.0], requires_grad=True)
    with pytest.warns(GradcheckPrecisionWarning), pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: (t ** 3).sum() * 1000.0, x)
    assert "float32" in str(info.value)


def test_relu_at_zero_is_reported_as_a_kink():
    x = tg.tensor([0.0, 0.7, -0.4], dtype=tg.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: t.relu(), x)
    msg = str(info.value)
    assert "kink" in msg and "left 0, right 1" in msg
    m = info.value.failures[0]
    assert m.input_index == (0,) and m.numerical == pytest.approx(0.5)
    # away from the kink relu passes
    assert gradcheck(lambda t: t.relu(), tg.tensor([0.3, 0.7, -0.4], dtype=tg.float64,
                                                   requires_grad=True))


def test_a_genuine_error_is_not_called_a_kink():
    with pytest.raises(GradcheckError) as info:
        gradcheck(_bad_function("factor").apply, (t64(3, 2), t64(2, 4)))
    assert "kink" not in str(info.value)


# --------------------------------------------------------------------------- nondeterminism
class NoisyBackward(tg.Function):
    calls = 0

    @staticmethod
    def forward(ctx, x):
        return x * 2.0

    @staticmethod
    def backward(ctx, g):
        NoisyBackward.calls += 1
        return g * (2.0 + 1e-9 * NoisyBackward.calls)


def test_nondeterministic_backward_needs_nondet_tol():
    x = t64(3)
    with pytest.raises(GradcheckError, match="not deterministic"):
        gradcheck(NoisyBackward.apply, x)
    assert gradcheck(NoisyBackward.apply, x, nondet_tol=1e-6)


# --------------------------------------------------------------------------- second order
class SquareCutDoubleBackward(tg.Function):
    """Right first derivative, but its backward cuts the graph (np.asarray on a Tensor), so
    the second derivative is missing a term."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * (x.detach() if isinstance(x, tg.Tensor) else x)  # cuts the graph


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = t64(3)
    assert gradcheck(SquareCutDoubleBackward.apply, x)
    with pytest.raises(GradcheckError):
        gradgradcheck(SquareCutDoubleBackward.apply, x)
    assert gradgradcheck(lambda t: t * t, x)


def test_gradgradcheck_fast_mode_and_explicit_grad_outputs():
    a, b = t64(2, 3), t64(3, 2)
    go = tg.tensor(np.ones((2, 2)), dtype=tg.float64)  # not requiring grad: not perturbed
    assert gradgradcheck(lambda p, q: (p @ q).tanh(), (a, b), go)
    assert gradgradcheck(lambda p, q: (p @ q).tanh(), (a, b), fast_mode=True)
    with pytest.raises(ValueError, match="grad_outputs"):
        gradgradcheck(lambda p, q: (p @ q).tanh(), (a, b), (go, go))
