"""Tests of tinygrad_edu.seeds: the hand-written backprops of the seed threads.

Every corrected backprop must equal the gradient of its loss; every bug must be wrong in
its own recognisable way.  The reference gradients come from two helpers defined here:

* ``numeric_grads``: central differences, ``h = 1e-6``, what a gradient checker uses;
* ``complex_step_grads``: ``Im f(p + i*h) / h`` with ``h = 1e-30``, exact to rounding
  (the losses are analytic and written with ufuncs, so they run on complex arrays).

Central differences carry an absolute error of about ``eps * |loss| / h`` (~1e-10), so a
per-entry relative error of 1e-7 is demanded only above that noise floor (see
``assert_grads_close``).  The complex step has no such floor.

Hypothesis runs under the profile of ``conftest.py`` (``HYPOTHESIS_PROFILE=explore`` for
many more examples).
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.lib.mixins import NDArrayOperatorsMixin

from tinygrad_edu import seeds
from tinygrad_edu.seeds import base, seed000, seed002, seed002_answer
from tinygrad_edu.seeds.seed000 import Seed000Net
from tinygrad_edu.seeds.seed002 import Seed002V1Net, Seed002V2Net
from tinygrad_edu.seeds.seed002_answer import Seed002AnswerNet

H = 1e-6
RTOL = 1e-7
EPS = np.finfo(np.float64).eps


# --- reference gradients and comparisons ------------------------------------------------


def numeric_grads(f, params, h=H):
    """Central differences of the scalar ``f(params)`` for every entry of every param."""
    out = {}
    for name, value in params.items():
        value = np.asarray(value, dtype=np.float64)
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            plus, minus = value.copy(), value.copy()
            plus[idx] += h
            minus[idx] -= h
            g[idx] = (f({**params, name: plus}) - f({**params, name: minus})) / (2 * h)
        out[name] = g
    return out


def complex_step_grads(f, params, h=1e-30):
    """Derivatives by the complex step: no subtraction, so no cancellation."""
    out = {}
    for name, value in params.items():
        value = np.asarray(value, dtype=np.float64)
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            shifted = value.astype(np.complex128)
            shifted[idx] += 1j * h
            g[idx] = np.imag(f({**params, name: shifted})) / h
        out[name] = g
    return out


def rel_err(a, n):
    """``|a - n| / max(|a|, |n|)`` entrywise, with 0/0 taken as 0."""
    a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
    scale = np.maximum(np.abs(a), np.abs(n))
    return np.where(scale == 0, 0.0, np.abs(a - n) / np.where(scale == 0, 1.0, scale))


def max_rel_err(a, n):
    return max(float(np.max(rel_err(a[k], n[k]))) for k in n)


def fd_noise(loss_value, h=H):
    """The absolute error floor of central differences on a loss of this size."""
    return 64 * EPS * max(abs(float(loss_value)), 1.0) / h


def assert_grads_close(a, n, loss_value, rtol=RTOL):
    """Entrywise ``|a - n| <= rtol * max(|a|, |n|) + fd_noise``, naming the worst entry."""
    assert set(a) == set(n)
    noise = fd_noise(loss_value)
    for name in n:
        ai, ni = np.asarray(a[name]), np.asarray(n[name])
        assert ai.shape == ni.shape, f"{name}: shape {ai.shape} != {ni.shape}"
        excess = np.abs(ai - ni) - rtol * np.maximum(np.abs(ai), np.abs(ni)) - noise
        if excess.size and excess.max() > 0:
            i = np.unravel_index(np.argmax(excess), excess.shape)
            raise AssertionError(
                f"{name}{list(i)}: hand {ai[i]!r} vs reference {ni[i]!r} "
                f"(rel err {rel_err(ai[i], ni[i]):.3g}, noise floor {noise:.2g})"
            )


# --- strategies ---------------------------------------------------------------------------


def away_from_zero(lo, hi):
    """Floats with ``lo <= |v| <= hi``: no NaN, no inf, no vanishing entries."""
    return st.one_of(st.floats(-hi, -lo), st.floats(lo, hi))


def arrays(shape, elements):
    return hnp.arrays(np.float64, shape, elements=elements)


@st.composite
def seed000_case(draw, batch=True):
    """Weights, a sample (or a batch of 1..4) and targets for the 2-2-1 net."""
    params = {
        name: np.array(draw(away_from_zero(0.1, 2.0)), dtype=np.float64)
        for name in seed000.PARAM_NAMES
    }
    m = draw(st.integers(0, 4)) if batch else 0
    shape = (2,) if m == 0 else (m, 2)
    x = draw(arrays(shape, st.floats(0.1, 1.0)))
    y = draw(arrays(shape[:-1], st.floats(0.0, 1.0)))
    return params, x, y


@st.composite
def question_case(draw):
    """A v1 or v2 net of 2..4 layers, weights, and a sample or batch."""
    cls = draw(st.sampled_from([Seed002V1Net, Seed002V2Net]))
    sizes = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=4)))
    net = cls(sizes=sizes, squash_input=draw(st.booleans()))
    shapes = {k: v.shape for k, v in net.init_params(np.random.default_rng(0)).items()}
    # Bounded so that no unit saturates deeply: there ``1 - o*o`` (the author's tanh
    # derivative) cancels and loses digits, which is rounding, not a wrong gradient.
    params = {k: draw(arrays(s, away_from_zero(0.1, 1.5))) for k, s in shapes.items()}
    m = draw(st.integers(0, 4))
    x = draw(arrays((sizes[0],) if m == 0 else (m, sizes[0]), away_from_zero(0.1, 1.0)))
    y = draw(arrays((sizes[-1],) if m == 0 else (m, sizes[-1]), away_from_zero(0.1, 2.0)))
    return net, params, x, y


@st.composite
def answer_case(draw, bugs, m=None, n_out=None):
    """An answer net (sigmoid or tanh), weights, inputs and targets inside its range."""
    activation = draw(st.sampled_from(seed002_answer.ACTIVATIONS))
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    sizes = (*sizes, n_out or draw(st.integers(1, 3)))
    net = Seed002AnswerNet(sizes=sizes, activation=activation, bugs=bugs)
    shapes = {k: v.shape for k, v in net.init_params(np.random.default_rng(0)).items()}
    # Up to 4x the answer's init scale; wider, a saturated output makes the cross-entropy
    # ill-conditioned (log of 1 - H near 0) and central differences lose their digits.
    params = {k: draw(arrays(s, away_from_zero(0.05, 0.5))) for k, s in shapes.items()}
    m = m or draw(st.integers(1, 4))
    X = draw(arrays((m, sizes[0]), away_from_zero(0.1, 1.0)))
    Y = draw(arrays((m, sizes[-1]), st.floats(0.05, 0.95)))
    if activation == "tanh":
        Y = 2 * Y - 1
    return net, params, X, Y


# --- the common interface -------------------------------------------------------------


ALL_NETS = [
    Seed000Net(bugs=seed000.AS_WRITTEN),
    Seed000Net(bugs=seed000.CORRECTED),
    Seed002V1Net(sizes=(2, 3, 1)),
    Seed002V2Net(sizes=(1, 5, 1)),
    Seed002AnswerNet(sizes=(1, 6, 4, 1), activation="sigmoid"),
    Seed002AnswerNet(sizes=(2, 3, 2), activation="tanh", bugs=seed002_answer.CORRECTED),
]


def _net_id(net) -> str:
    """A stable test id: frozenset reprs change order between processes (pytest-xdist)."""
    shape = "x".join(map(str, getattr(net, "sizes", ())))
    extra = getattr(net, "activation", "")
    bugs = "+".join(sorted(net.bugs)) or "corrected"
    return "-".join(p for p in (type(net).__name__, shape, extra, bugs) if p)


def _sample_for(net, m=3):
    rng = np.random.default_rng(1)
    if isinstance(net, Seed000Net):
        return rng.random((m, 2)), rng.random(m)
    n_in, n_out = net.sizes[0], net.sizes[-1]
    y = rng.uniform(0.1, 0.9, (m, n_out))
    return rng.uniform(-1, 1, (m, n_in)), y


@pytest.mark.parametrize("net", ALL_NETS, ids=_net_id)
def test_interface_names_shapes_and_purity(net):
    assert isinstance(net, base.SeedNet)
    params = net.init_params(np.random.default_rng(0))
    assert tuple(params) == net.param_names
    assert all(v.dtype == np.float64 for v in params.values())
    x, y = _sample_for(net)
    before = {k: v.copy() for k, v in params.items()}
    loss = net.loss(params, x, y)
    g = net.grads(params, x, y)
    assert np.ndim(loss) == 0 and np.isfinite(loss)
    assert tuple(g) == net.param_names
    for name in net.param_names:
        assert g[name].shape == params[name].shape and g[name].dtype == np.float64
        np.testing.assert_array_equal(params[name], before[name])  # nothing mutated
    assert net.loss(params, x, y) == loss  # deterministic
    assert set(net.bug_kinds) >= net.bugs
    assert all(isinstance(kind, base.BugKind) for kind in net.bug_kinds.values())


@pytest.mark.parametrize(
    "make",
    [
        lambda: Seed000Net(bugs={"no_such_bug"}),
        lambda: Seed002V1Net(bugs={"ascent_sign"}),
        lambda: Seed002AnswerNet(bugs={"rounding"}),
        lambda: Seed002AnswerNet(activation="relu"),
        lambda: Seed002V2Net(sizes=(3,)),
    ],
)
def test_bad_arguments_raise(make):
    with pytest.raises(ValueError):
        make()


def test_bug_tables():
    assert frozenset(seed000.BUGS) == seed000.AS_WRITTEN and len(seed000.BUGS) == 4
    assert seed000.BUGS == {
        "wrong_output_weights": base.BugKind.WRONG_WEIGHTS,
        "ascent_sign": base.BugKind.SIGN,
        "updated_output_weights": base.BugKind.STALE_WEIGHTS,
        "round_3_decimals": base.BugKind.ROUNDING,
    }
    assert seed002.BUGS == {} and seed002.AS_WRITTEN == seed002.CORRECTED == frozenset()
    assert seed002_answer.BUGS == {
        "missing_output_derivative": base.BugKind.MISSING_ACTIVATION_DERIVATIVE
    }
    for module in (seed000, seed002, seed002_answer):
        assert not module.CORRECTED


class Traced(NDArrayOperatorsMixin):
    """A stand-in for the core's Tensor: runs numpy, refuses to be turned into an array,
    and accepts only the array functions that the seed nets promise to use."""

    ALLOWED = frozenset({np.dot, np.outer, np.concatenate, np.sum, np.mean, np.ones_like})

    def __init__(self, value):
        self.value = np.asarray(value)

    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: self.value.ndim)
    T = property(lambda self: Traced(self.value.T))

    def __getitem__(self, idx):
        return Traced(self.value[idx])

    def __array__(self, *args, **kwargs):
        raise TypeError("a seed net converted a parameter to a plain array")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raw = [i.value if isinstance(i, Traced) else i for i in inputs]
        return Traced(getattr(ufunc, method)(*raw, **kwargs))

    def __array_function__(self, func, types, args, kwargs):
        assert func in self.ALLOWED, f"{func.__name__} is not in the promised set"

        def unwrap(a):
            if isinstance(a, Traced):
                return a.value
            if isinstance(a, list | tuple):
                return type(a)(unwrap(v) for v in a)
            return a

        return Traced(func(*unwrap(args), **unwrap(kwargs)))


@pytest.mark.parametrize("net", ALL_NETS, ids=_net_id)
def test_forward_and_loss_run_on_a_tensor_like_type(net):
    params = net.init_params(np.random.default_rng(0))
    x, y = _sample_for(net)
    traced = {k: Traced(v) for k, v in params.items()}
    loss = net.loss(traced, x, y)
    assert isinstance(loss, Traced)
    assert float(loss.value) == pytest.approx(float(net.loss(params, x, y)), rel=1e-15)
    if isinstance(net, Seed000Net | Seed002V1Net):
        one = net.loss(traced, x[0], y[0])  # a single sample, without a batch axis
        assert isinstance(one, Traced)


@pytest.mark.parametrize("net", ALL_NETS, ids=_net_id)
def test_autograd_on_the_same_loss_gives_the_corrected_gradient(net):
    # The core's Tensor runs the very same numpy loss; backward must reproduce the
    # corrected backprop, and for the answer as written, the gradient of cross-entropy.
    import tinygrad_edu as tg

    params = net.init_params(np.random.default_rng(0))
    x, y = _sample_for(net)
    if isinstance(net, Seed000Net):
        net = Seed000Net(bugs=seed000.CORRECTED)  # as written it is no gradient at all
    answer_as_written = isinstance(net, Seed002AnswerNet) and bool(net.bugs)
    loss = net.cross_entropy_loss if answer_as_written else net.loss
    tensors = {k: tg.tensor(v, requires_grad=True) for k, v in params.items()}
    loss(tensors, x, y).backward()
    expected = net.grads(params, x, y)
    for name in net.param_names:
        np.testing.assert_allclose(
            tensors[name].grad.numpy(), expected[name], rtol=1e-12, atol=1e-15
        )


@pytest.mark.parametrize("module", [base, seed000, seed002, seed002_answer, seeds])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# --- seed 000 -----------------------------------------------------------------------------


def _hidden(p, x):
    h1 = 1 / (1 + np.exp(-(p["w11"] * x[..., 0] + p["w21"] * x[..., 1])))
    h2 = 1 / (1 + np.exp(-(p["w12"] * x[..., 0] + p["w22"] * x[..., 1])))
    return h1, h2


@given(seed000_case())
def test_seed000_corrected_grads_are_the_gradient(case):
    params, x, y = case
    net = Seed000Net(bugs=seed000.CORRECTED)
    a = net.grads(params, x, y)

    def f(p):
        return net.loss(p, x, y)

    assert_grads_close(a, numeric_grads(f, params), f(params))
    assert max_rel_err(a, complex_step_grads(f, params)) <= 1e-9


@given(seed000_case(batch=False))
def test_seed000_sign_bug_flips_every_gradient(case):
    params, x, y = case
    net = Seed000Net(bugs={seed000.ASCENT_SIGN})
    a = net.grads(params, x, y)
    n = numeric_grads(lambda p: net.loss(p, x, y), params)
    assert_grads_close(a, {k: -v for k, v in n.items()}, net.loss(params, x, y))
    big = [k for k in n if abs(n[k]) > 1e3 * fd_noise(1.0)]
    assert all(a[k] / n[k] == pytest.approx(-1.0, abs=1e-6) for k in big)


@given(seed000_case(batch=False))
def test_seed000_wrong_output_weights(case):
    params, x, y = case
    net = Seed000Net(bugs={seed000.WRONG_OUTPUT_WEIGHTS})
    a = net.grads(params, x, y)
    n = numeric_grads(lambda p: net.loss(p, x, y), params)
    # w23 takes no part in the buggy forward pass, yet the author keeps moving it.
    assert n["w23"] == 0.0
    assert a["w23"] != 0.0
    # w13 multiplies h2 in that forward pass, but its update is built from h1.
    h1, h2 = _hidden(params, x)
    assert a["w13"] * h2 == pytest.approx(n["w13"] * h1, rel=1e-6, abs=fd_noise(1.0))
    # The forward pass itself really is the buggy one.
    out = net.forward(params, x)
    expected = 1 / (1 + np.exp(-(params["w12"] * h1 + params["w13"] * h2)))
    assert out == pytest.approx(expected, rel=1e-15)


@given(seed000_case(batch=False))
def test_seed000_hidden_errors_with_updated_weights(case):
    params, x, y = case
    net = Seed000Net(bugs={seed000.UPDATED_OUTPUT_WEIGHTS})
    a = net.grads(params, x, y)
    n = numeric_grads(lambda p: net.loss(p, x, y), params)
    loss = net.loss(params, x, y)
    # The output layer is right ...
    assert_grads_close({k: a[k] for k in ("w13", "w23")}, {k: n[k] for k in ("w13", "w23")}, loss)
    # ... the hidden layer is the true gradient scaled by (updated / used) output weight.
    lr = net.lr
    f1 = (params["w13"] - lr * n["w13"]) / params["w13"]
    f2 = (params["w23"] - lr * n["w23"]) / params["w23"]
    expected = {"w11": n["w11"] * f1, "w21": n["w21"] * f1, "w12": n["w12"] * f2,
                "w22": n["w22"] * f2}  # fmt: skip
    assert_grads_close({k: a[k] for k in expected}, expected, loss, rtol=1e-6)


@given(seed000_case(batch=False))
def test_seed000_rounding(case):
    params, x, y = case
    net = Seed000Net(bugs={seed000.ROUND_3_DECIMALS})
    a = net.grads(params, x, y)
    n = numeric_grads(lambda p: net.loss(p, x, y), params)
    for name in seed000.PARAM_NAMES:
        new = params[name] - net.lr * a[name]
        assert abs(new * 1000 - np.round(new * 1000)) < 1e-6  # each step lands on the grid
        # Off by no more than the rounding can explain: 0.0005 / lr from the weight,
        # about 0.00075 from the rounded output and error.
        assert abs(a[name] - n[name]) <= 2e-3


def test_seed000_rounding_changes_the_authors_gradient():
    net = Seed000Net(bugs={seed000.ROUND_3_DECIMALS})
    params = net.init_params()
    x, y = np.array(seed000.AUTHOR_X), np.array(seed000.AUTHOR_Y)
    a = net.grads(params, x, y)
    n = numeric_grads(lambda p: net.loss(p, x, y), params)
    assert max_rel_err(a, n) > 1e-3


def test_seed000_as_written_is_flagged_at_the_start():
    net = Seed000Net()
    params = net.init_params()
    x, y = np.array(seed000.AUTHOR_X), np.array(seed000.AUTHOR_Y)
    a = net.grads(params, x, y)
    n = numeric_grads(lambda p: net.loss(p, x, y), params)
    assert net.bugs == seed000.AS_WRITTEN
    assert max_rel_err(a, n) > 0.5


def _author_loop_literally(steps):
    """The author's scalar loop, re-typed independently of the package."""

    def r3(v):
        return float(f"{v:.3f}")

    def s(z):
        return 1 / (1 + np.exp(-z))

    lr, x1, x2, t = 0.5, 0.5, 0.5, 0.25
    w11, w12, w21, w22, w13, w23 = 0.45, 0.28, 0.36, 0.75, 0.14, 0.40
    outs = []
    for _ in range(steps):
        h1, h2 = s(w11 * x1 + w21 * x2), s(w12 * x1 + w22 * x2)
        out = r3(s(w12 * h1 + w13 * h2))
        outs.append(out)
        err = r3(t - out)
        d = err * out * (1 - out)
        w13, w23 = r3(w13 - h1 * d * lr), r3(w23 - h2 * d * lr)
        d1, d2 = w13 * d * h1 * (1 - h1), w23 * d * h2 * (1 - h2)
        w11, w12 = r3(w11 - x1 * d1 * lr), r3(w12 - x1 * d2 * lr)
        w21, w22 = r3(w21 - x2 * d1 * lr), r3(w22 - x2 * d2 * lr)
    weights = dict(zip(seed000.PARAM_NAMES, (w11, w12, w21, w22, w13, w23)))
    return weights, outs


def test_seed000_reproduces_the_authors_run():
    result = seed000.reproduce_author()
    weights, outs = _author_loop_literally(seed000.AUTHOR_STEPS)
    for name, value in weights.items():
        assert result.params[name] == pytest.approx(value, abs=1e-12)
    # The symptom: the error grows at every step and the output creeps towards 1.
    losses = result.losses
    assert len(losses) == 99
    assert np.all(np.diff(losses) > 0)
    assert losses[-1] > 4 * losses[0]
    net = Seed000Net()
    final_out = float(net.forward(result.params, np.array(seed000.AUTHOR_X)))
    assert outs[0] < 0.6 < 0.9 < final_out < 1.0
    assert final_out == pytest.approx(outs[-1], abs=0.01)


def test_seed000_sign_alone_makes_the_error_grow_and_the_fix_makes_it_shrink():
    ascent = seed000.reproduce_author(Seed000Net(bugs={seed000.ASCENT_SIGN}))
    assert ascent.losses[-1] > ascent.losses[0]
    fixed = seed000.reproduce_author(Seed000Net(bugs=seed000.CORRECTED))
    assert np.all(np.diff(fixed.losses) < 0)
    assert fixed.losses[-1] < 0.05 * fixed.losses[0]


def test_seed000_corrected_net_learns_to_multiply():
    net, result = seed000.train_multiply(np.random.default_rng(0), n=1000, epochs=2, lr=2.0)
    xs, ys = seed000.multiply_data(np.random.default_rng(1), 2000)
    rmse = float(np.sqrt(np.mean((net.forward(result.params, xs) - ys) ** 2)))
    start_rmse = float(np.sqrt(np.mean((net.forward(net.init_params(), xs) - ys) ** 2)))
    assert rmse < 0.65 * ys.std() < start_rmse  # well below the best constant guess


# --- seed 002, the question ---------------------------------------------------------------


@given(question_case())
def test_seed002_question_grads_are_the_gradient(case):
    net, params, x, y = case
    assert net.bugs == seed002.AS_WRITTEN == seed002.CORRECTED
    a = net.grads(params, x, y)

    def f(p):
        return net.loss(p, x, y)

    assert_grads_close(a, numeric_grads(f, params), f(params))
    assert max_rel_err(a, complex_step_grads(f, params)) <= 1e-9


@given(question_case())
def test_seed002_question_one_sample_is_the_authors_outer_product(case):
    net, params, x, y = case
    x, y = np.atleast_2d(x)[0], np.atleast_2d(y)[0]
    g = net.grads(params, x, y)
    # Redo the author's per-sample recursion literally: o_l, then errors from the top.
    outs, o = [], np.tanh(x) if net.squash_input else x
    for l in range(net.n_layers):
        outs.append(o)
        z = params[f"W{l}"].T @ o + (params[f"b{l}"] if net.HAS_BIASES else 0)
        o = z if net.LINEAR_OUTPUT and l == net.n_layers - 1 else np.tanh(z)
    err = o - y if net.LINEAR_OUTPUT else (1 - o * o) * (o - y)
    for l in reversed(range(net.n_layers)):
        np.testing.assert_allclose(g[f"W{l}"], np.outer(outs[l], err), rtol=1e-10, atol=1e-12)
        if net.HAS_BIASES:
            np.testing.assert_allclose(g[f"b{l}"], err, rtol=1e-10, atol=1e-12)
        err = (1 - outs[l] ** 2) * (params[f"W{l}"] @ err)


@given(st.data())
def test_seed002_v1_is_odd_so_xor_is_impossible(data):
    sizes = (2, *data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)), 1)
    net = Seed002V1Net(sizes=sizes)
    params = net.init_params(np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))))
    x = data.draw(arrays((2,), st.floats(-3, 3)))
    np.testing.assert_array_equal(net.forward(params, np.zeros(2)), 0.0)
    np.testing.assert_allclose(net.forward(params, -x), -net.forward(params, x), atol=1e-15)
    # XOR wants f(0, 0) = -1: the loss on that case is 0.5 whatever the weights.
    assert net.loss(params, np.zeros(2), np.array([-1.0])) == 0.5


@given(st.integers(0, 2**32 - 1))
def test_seed002_v1_squashed_input_makes_3_look_like_2(seed):
    # tanh is 1-Lipschitz, so |f(3) - f(2)| <= (tanh 3 - tanh 2) * prod ||W_l||_2.
    net = Seed002V1Net(sizes=(1, 6, 1))
    params = net.init_params(np.random.default_rng(seed))
    f2, f3 = (net.forward(params, np.array([v]))[0] for v in (2.0, 3.0))
    lipschitz = np.prod([np.linalg.norm(params[k], 2) for k in net.param_names])
    bound = (np.tanh(3.0) - np.tanh(2.0)) * lipschitz
    assert abs(f3 - f2) <= bound + 1e-15
    # At the author's init scale the net cannot even tell the two targets apart: it would
    # need weights many times larger.
    assert bound < abs(np.tanh(np.sin(3.0)) - np.tanh(np.sin(2.0)))


def test_seed002_v1_sine_misses_at_3_as_the_author_saw():
    net, result = seed002.train_sine(np.random.default_rng(0), version=1, steps=8_000)
    f2 = net.forward(result.params, np.array([2.0]))[0]
    f3 = net.forward(result.params, np.array([seed002.V1_SINE_QUERY]))[0]
    target3 = np.tanh(np.sin(3.0))  # 0.1402
    assert result.losses[-1000:].mean() < result.losses[:1000].mean()  # it does learn ...
    assert abs(f3 - target3) > 0.4  # ... but not at 3,
    assert abs(f3 - f2) < 0.1  # which it cannot tell from 2.


def test_seed002_v2_input_squash_is_what_breaks_the_sine():
    grid = np.linspace(-5, 5, 101).reshape(-1, 1)

    def grid_rmse(squash):
        # 4000 of the author's 10 000 steps already tell the two apart.
        net, r = seed002.train_sine(
            np.random.default_rng(0), version=2, steps=4_000, squash_input=squash
        )
        return float(np.sqrt(np.mean((net.forward(r.params, grid) - np.sin(grid)) ** 2)))

    as_written, unsquashed = grid_rmse(True), grid_rmse(False)
    assert as_written > 0.5  # no better than predicting 0 (rms of sin is 0.71)
    assert unsquashed < 0.5 * as_written


def test_seed002_examples_data():
    xs, ys = seed002.xor_data(3)
    assert xs.shape == (12, 2) and ys.shape == (12, 1)
    rng = np.random.default_rng(0)
    xs, ys = seed002.sine_data(rng, 10_000, version=1)
    np.testing.assert_allclose(ys, np.tanh(np.sin(xs)))
    assert np.mean(np.abs(xs) > 3) < 0.01  # the query point is barely covered
    xs, ys = seed002.identity_data(rng, 5, version=1)
    np.testing.assert_allclose(ys, np.tanh(xs))


# --- seed 002, the answer -----------------------------------------------------------------


@given(answer_case(seed002_answer.CORRECTED))
def test_seed002_answer_corrected_grads_are_the_gradient_of_J(case):
    net, params, X, Y = case
    a = net.grads(params, X, Y)

    def f(p):
        return net.loss(p, X, Y)

    assert_grads_close(a, numeric_grads(f, params), f(params))
    assert max_rel_err(a, complex_step_grads(f, params)) <= 1e-9


@given(answer_case(seed002_answer.AS_WRITTEN))
def test_seed002_answer_as_written_is_the_gradient_of_cross_entropy(case):
    net, params, X, Y = case
    a = net.grads(params, X, Y)

    def f(p):
        return net.cross_entropy_loss(p, X, Y)

    assert_grads_close(a, numeric_grads(f, params), f(params))
    assert max_rel_err(a, complex_step_grads(f, params)) <= 1e-9


@given(answer_case(seed002_answer.AS_WRITTEN, m=1, n_out=1))
def test_seed002_answer_as_written_lacks_the_output_derivative(case):
    net, params, X, Y = case
    a = net.grads(params, X, Y)
    n = numeric_grads(lambda p: net.loss(p, X, Y), params)
    H = net.forward(params, X)[0, 0]
    assume(abs(H - Y[0, 0]) > 1e-9)  # at the target both gradients are 0: nothing to see
    slope = H * (1 - H) if net.activation == "sigmoid" else 1 - H * H
    # Every hand gradient is the true gradient of J divided by act'(z_out).
    assert_grads_close({k: v * slope for k, v in a.items()}, n, net.loss(params, X, Y))
    if net.activation == "sigmoid":  # slope <= 1/4: at least 4 times too large
        noise = fd_noise(1.0)
        assert all(np.all(np.abs(a[k]) >= 4 * np.abs(n[k]) - noise) for k in n)
        assert max_rel_err(a, n) >= 0.75 - 1e-6  # |a - n| >= 3|n|, up to FD noise


def test_seed002_answer_offline_training_reduces_J():
    for activation in seed002_answer.ACTIVATIONS:
        rng = np.random.default_rng(0)
        net = Seed002AnswerNet(activation=activation, bugs=seed002_answer.CORRECTED)
        X, Y = seed002_answer.sine_data(rng, m=400)  # the answer uses 1000 points
        Ys = seed002_answer.scale_targets(Y, activation)
        result = net.train_offline(net.init_params(rng), X, Ys, iterations=800)
        J = result.losses
        constant_guess = np.sum((Ys - Ys.mean()) ** 2) / (2 * len(Ys))
        assert J[-1] < 0.9 * J[0] and J[-1] < 0.9 * constant_guess, activation
        if activation == "sigmoid":  # full-batch descent with a small enough rate
            assert np.all(np.diff(J) <= 0)
            assert net.loss(result.params, X, Ys) <= J[-1]


def test_seed002_answer_online_training_reduces_J():
    net = Seed002AnswerNet()  # as written: it descends the cross-entropy
    params = net.init_params(np.random.default_rng(0))
    X, Y = seed002_answer.sine_data(np.random.default_rng(1), m=500)
    Ys = seed002_answer.scale_targets(Y, net.activation)
    result = net.train_online(params, np.random.default_rng(2), samples=4000)
    assert len(result.losses) == 4000
    assert net.loss(result.params, X, Ys) < 0.95 * net.loss(params, X, Ys)


@given(
    arrays(st.integers(1, 20), st.floats(-1.1, 1.1)),
    st.sampled_from(seed002_answer.ACTIVATIONS),
)
def test_seed002_answer_target_scaling(Y, activation):
    Ys = seed002_answer.scale_targets(Y, activation)
    lo = 0.0 if activation == "sigmoid" else -1.0
    assert np.all((Ys >= lo - 1e-12) & (Ys <= 1.0 + 1e-12))
    back = seed002_answer.unscale_outputs(Ys, activation)
    np.testing.assert_allclose(back, Y, atol=1e-12)
    Xs = seed002_answer.scale_inputs(np.linspace(0, 4 * np.pi, 9), activation)
    assert Xs[0] == pytest.approx(lo) and Xs[-1] == pytest.approx(1.0)


def test_seed002_answer_data():
    X, Y = seed002_answer.sine_data(np.random.default_rng(0))
    assert X.shape == Y.shape == (1000, 1)
    np.testing.assert_allclose(X[:, 0], np.linspace(0, 4 * np.pi, 1000))
    noise = Y - np.sin(X)
    assert np.all(np.abs(noise) <= seed002_answer.KX) and noise.std() > 0.04
    xb, _ = seed002_answer.sine_batch(np.random.default_rng(0), 50)
    assert xb.shape == (50, 1) and np.all((xb >= 0) & (xb < 4 * np.pi))
