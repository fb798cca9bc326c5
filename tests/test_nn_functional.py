"""Every function of ``tinygrad_edu.nn.functional`` (layers, activations, losses), driven by
one table: values against PyTorch, gradients against PyTorch and against float64 central
differences, on hypothesis-drawn shapes and options. Then the error messages."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F

from .helpers import assert_close, autograd_vjp, evaluate, numeric_vjp

# PyTorch's own note that 'same' padding with an even kernel copies the input
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


@dataclass
class Case:
    name: str
    draw: Callable  # st.composite: -> (arrays, kwargs)
    ours: Callable  # on tinygrad_edu tensors, with kwargs
    theirs: Callable  # on torch tensors, with the same kwargs
    # the kwargs for the central-difference check (embedding's padding row is constant by
    # design: its gradient is 0 although the output depends on it)
    fd_kwargs: Callable = lambda kw: kw


def _rng(draw) -> np.random.Generator:
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def _away(x: np.ndarray, points=(0.0,), margin: float = 0.05) -> np.ndarray:
    for p in points:
        d = x - p
        x = np.where(np.abs(d) < margin, p + np.where(d >= 0, margin, -margin), x)
    return x


def _tt(a):
    """A numpy kwarg for torch: float arrays become float64 tensors, int arrays long."""
    if isinstance(a, np.ndarray):
        return torch.from_numpy(a.copy())
    return a


def _torch_kwargs(kw: dict) -> dict:
    return {k: _tt(v) for k, v in kw.items()}


def _our_kwargs(kw: dict) -> dict:
    return {k: (tg.Tensor(v.copy()) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}


reductions = st.sampled_from(["mean", "sum", "none"])


# --------------------------------------------------------------------------- strategies
@st.composite
def linear_case(draw):
    rng = _rng(draw)
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    i, o = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    arrays = [rng.uniform(-2, 2, (*lead, i)), rng.uniform(-1, 1, (o, i))]
    if draw(st.booleans()):
        arrays.append(rng.uniform(-1, 1, (o,)))
    return arrays, {}


@st.composite
def conv_case(draw):
    rng = _rng(draw)
    groups = draw(st.integers(1, 2))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from(["same", "valid", 0, 1, (1, 0)]))
    stride = (1, 1) if padding == "same" else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (0, 0) if isinstance(padding, str) else np.broadcast_to(padding, 2)
    h = draw(st.integers(max(1, dil[0] * (k[0] - 1) + 1 - 2 * p[0]), 5))
    w = draw(st.integers(max(1, dil[1] * (k[1] - 1) + 1 - 2 * p[1]), 5))
    x = rng.uniform(-2, 2, (draw(st.integers(1, 2)), groups * cg, h, w))
    arrays = [x, rng.uniform(-1, 1, (groups * og, cg, *k))]
    if draw(st.booleans()):
        arrays.append(rng.uniform(-1, 1, (groups * og,)))
    return arrays, {"stride": stride, "padding": padding, "dilation": dil, "groups": groups}


def _conv(lib):
    def fn(x, w, b=None, **kw):
        return (F.conv2d if lib == "tg" else TF.conv2d)(x, w, b, **kw)

    return fn


@st.composite
def pad_case(draw):
    rng = _rng(draw)
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    if mode == "constant":
        shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
        pads = []
        for s in reversed(shape[len(shape) - draw(st.integers(1, len(shape))):]):
            crop = -((s - 1) // 2)  # keep at least one element
            pads += [draw(st.integers(crop, 2)), draw(st.integers(crop, 2))]
        kw = {"pad": tuple(pads), "mode": mode, "value": draw(st.sampled_from([0.0, 1.5]))}
    else:
        spatial = tuple(draw(st.lists(st.integers(2, 4), min_size=1, max_size=2)))
        shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *spatial)
        pads = []
        for s in reversed(spatial):
            limit = s - 1 if mode == "reflect" else (s if mode == "circular" else 3)
            pads += [draw(st.integers(0, limit)), draw(st.integers(0, limit))]
        kw = {"pad": tuple(pads), "mode": mode}
    return [rng.uniform(-2, 2, shape)], kw


@st.composite
def pool_case(draw, kind="max"):
    rng = _rng(draw)
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.sampled_from([None, 1, 2, (1, 2), (3, 1)]))
    pad = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    ceil_mode = draw(st.booleans())
    kw = {"kernel_size": k, "stride": stride, "padding": pad, "ceil_mode": ceil_mode}
    dil = (1, 1)
    if kind == "max":
        dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        kw["dilation"] = dil
    else:
        kw["count_include_pad"] = draw(st.booleans())
        kw["divisor_override"] = draw(st.sampled_from([None, None, 3]))
    h = draw(st.integers(max(1, dil[0] * (k[0] - 1) + 1 - 2 * pad[0]), 6))
    w = draw(st.integers(max(1, dil[1] * (k[1] - 1) + 1 - 2 * pad[1]), 6))
    lead = (draw(st.integers(1, 2)),) if draw(st.booleans()) else ()
    shape = (*lead, draw(st.integers(1, 2)), h, w)
    x = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1  # distinct: no ties
    return [x], kw


@st.composite
def batch_norm_case(draw, training=True):
    rng = _rng(draw)
    c = draw(st.integers(1, 3))
    spatial = draw(st.sampled_from([(), (3,), (2, 2)]))
    n = draw(st.integers(2 if not spatial else 1, 3))
    x = rng.uniform(-2, 2, (n, c, *spatial))
    kw = {
        "running_mean": rng.uniform(-1, 1, c),
        "running_var": rng.uniform(0.5, 2, c),
        "momentum": draw(st.sampled_from([0.1, 0.5, 1.0])),
        "eps": draw(st.sampled_from([1e-5, 0.1])),
        "training": training,
    }
    arrays = [x]
    if draw(st.booleans()):
        arrays += [rng.uniform(0.5, 2, c), rng.uniform(-1, 1, c)]
    return arrays, kw


def _batch_norm(lib):
    def fn(x, weight=None, bias=None, running_mean=None, running_var=None, **kw):
        if lib == "tg":
            rm, rv = tg.Tensor(running_mean.copy()), tg.Tensor(running_var.copy())
            return F.batch_norm(x, rm, rv, weight, bias, **kw)
        rm, rv = torch.from_numpy(running_mean.copy()), torch.from_numpy(running_var.copy())
        return TF.batch_norm(x, rm, rv, weight, bias, **kw)

    return fn


@st.composite
def layer_norm_case(draw):
    rng = _rng(draw)
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    k = draw(st.integers(1, len(shape)))
    ns = shape[len(shape) - k:]
    if math.prod(ns) == 1:  # a single value: variance 0, the gradient is all eps
        shape = (*shape[:-1], 2)
        ns = shape[len(shape) - k:]
    arrays = [rng.uniform(-2, 2, shape)]
    if draw(st.booleans()):
        arrays += [rng.uniform(0.5, 2, ns), rng.uniform(-1, 1, ns)]
    return arrays, {"normalized_shape": ns, "eps": draw(st.sampled_from([1e-5, 0.1]))}


def _layer_norm(lib):
    def fn(x, weight=None, bias=None, normalized_shape=(), eps=1e-5):
        f = F.layer_norm if lib == "tg" else TF.layer_norm
        return f(x, normalized_shape, weight, bias, eps)

    return fn


@st.composite
def embedding_case(draw):
    rng = _rng(draw)
    n, d = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    idx_shape = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    idx = rng.integers(0, n, idx_shape)
    padding_idx = draw(st.sampled_from([None, 0, n - 1]))
    return [rng.uniform(-1, 1, (n, d))], {"input": idx, "padding_idx": padding_idx}


def _embedding(lib):
    def fn(weight, input=None, padding_idx=None):
        if lib == "tg":
            return F.embedding(tg.tensor(input), weight, padding_idx)
        return TF.embedding(torch.from_numpy(input), weight, padding_idx)

    return fn


@st.composite
def activation_case(draw, lo=-3.0, hi=3.0, kinks=(), **options):
    rng = _rng(draw)
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    kw = {k: draw(v) for k, v in options.items()}
    x = rng.uniform(lo, hi, shape)
    points = kinks(kw) if callable(kinks) else kinks
    return [_away(x, points, 0.05)], kw


# --------------------------------------------------------------------------- losses
@st.composite
def regression_case(draw, kinks=lambda kw: (), **options):
    rng = _rng(draw)
    shape = tuple(draw(st.lists(st.integers(1, 4), max_size=3)))
    kw = {"reduction": draw(reductions), **{k: draw(v) for k, v in options.items()}}
    x, y = rng.uniform(-3, 3, shape), rng.uniform(-3, 3, shape)
    d = _away(x - y, [p for k in kinks(kw) for p in (k, -k)], 0.05)
    return [y + d, y], kw


@st.composite
def bce_case(draw, logits=False):
    rng = _rng(draw)
    shape = tuple(draw(st.lists(st.integers(1, 4), max_size=3)))
    x = rng.uniform(-4, 4, shape) if logits else rng.uniform(0.02, 0.98, shape)
    y = rng.uniform(0, 1, shape)
    if draw(st.booleans()):
        y = np.round(y)
    kw = {"reduction": draw(reductions)}
    if draw(st.booleans()):
        kw["weight"] = rng.uniform(0.5, 2, shape[-1:] if shape and draw(st.booleans()) else shape)
    if logits and draw(st.booleans()):
        kw["pos_weight"] = rng.uniform(0.5, 3, shape[-1:] if shape else ())
    return [x, y], kw


@st.composite
def class_case(draw, probabilities=False, log_probs=False):
    """(input, [target]) for cross_entropy/nll_loss with shape (C,), (N, C) or (N, C, d)."""
    rng = _rng(draw)
    c = draw(st.integers(1, 4))
    layout = draw(st.sampled_from(["C", "NC", "NC", "NCd"]))
    n, d = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = {"C": (c,), "NC": (n, c), "NCd": (n, c, d)}[layout]
    idx_shape = {"C": (), "NC": (n,), "NCd": (n, d)}[layout]
    x = rng.uniform(-3, 3, shape)
    kw = {"reduction": draw(reductions)}
    if draw(st.booleans()):
        kw["weight"] = rng.uniform(0.5, 2, c)
    if not log_probs:
        kw["label_smoothing"] = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5]))
    if probabilities:
        p = rng.uniform(0, 1, shape)
        p = p / p.sum(axis=0 if layout == "C" else 1, keepdims=True)
        return [x, p], kw
    t = rng.integers(0, c, idx_shape)
    if draw(st.booleans()) and t.size > 1:  # ignore the first target, keep the last
        ignore = draw(st.sampled_from([-100, 0])) if c > 1 else -100
        kw["ignore_index"] = ignore
        t.reshape(-1)[0] = ignore
        t.reshape(-1)[-1] = 1 if ignore == 0 else t.reshape(-1)[-1]
    kw["target"] = t
    return [x], kw


def _class_loss(lib, name):
    def fn(x, target=None, **kw):
        if lib == "tg":
            return getattr(F, name)(x, tg.tensor(target), **_our_kwargs(kw))
        return getattr(TF, name)(x, torch.from_numpy(target), **_torch_kwargs(kw))

    return fn


def _prob_loss(lib):
    def fn(x, p, **kw):
        if lib == "tg":
            return F.cross_entropy(x, p, **_our_kwargs(kw))
        return TF.cross_entropy(x, p, **_torch_kwargs(kw))

    return fn


def _with_kwargs(lib, name):
    """``F.name(*tensors, **kwargs)`` with array kwargs converted for the library."""

    def fn(*xs, **kw):
        if lib == "tg":
            return getattr(F, name)(*xs, **_our_kwargs(kw))
        return getattr(TF, name)(*xs, **_torch_kwargs(kw))

    return fn


def _case(name, draw, fname=None):
    fname = fname or name
    return Case(name, draw, _with_kwargs("tg", fname), _with_kwargs("torch", fname))


CASES = [
    _case("linear", linear_case()),
    Case("conv2d", conv_case(), _conv("tg"), _conv("torch")),
    _case("pad", pad_case()),
    _case("max_pool2d", pool_case("max")),
    _case("avg_pool2d", pool_case("avg")),
    Case("batch_norm_train", batch_norm_case(True), _batch_norm("tg"), _batch_norm("torch")),
    Case("batch_norm_eval", batch_norm_case(False), _batch_norm("tg"), _batch_norm("torch")),
    Case("layer_norm", layer_norm_case(), _layer_norm("tg"), _layer_norm("torch")),
    Case("embedding", embedding_case(), _embedding("tg"), _embedding("torch"),
         fd_kwargs=lambda kw: {**kw, "padding_idx": None}),
    _case("relu", activation_case(kinks=(0.0,))),
    _case("leaky_relu", activation_case(kinks=(0.0,), negative_slope=st.sampled_from([0.01, 0.3]))),
    _case("elu", activation_case(kinks=(0.0,), alpha=st.sampled_from([1.0, 0.5]))),
    _case("gelu", activation_case(approximate=st.sampled_from(["none", "tanh"]))),
    _case("sigmoid", activation_case()),
    _case("tanh", activation_case()),
    _case("softplus", activation_case(
        kinks=lambda kw: (kw["threshold"] / kw["beta"],),
        beta=st.sampled_from([0.5, 1.0, 2.0]), threshold=st.sampled_from([1.0, 20.0]))),
    _case("silu", activation_case()),
    _case("logsigmoid", activation_case(lo=-30, hi=30)),
    _case("softmax", activation_case(dim=st.integers(-1, 0))),
    _case("log_softmax", activation_case(dim=st.integers(-1, 0))),
    _case("mse_loss", regression_case()),
    _case("l1_loss", regression_case(kinks=lambda kw: (0.0,))),
    _case("huber_loss", regression_case(kinks=lambda kw: (kw["delta"],),
                                        delta=st.sampled_from([0.5, 1.0, 2.0]))),
    _case("smooth_l1_loss", regression_case(kinks=lambda kw: (0.0, kw["beta"]),
                                            beta=st.sampled_from([0.0, 0.5, 1.0]))),
    _case("binary_cross_entropy", bce_case()),
    _case("binary_cross_entropy_with_logits", bce_case(logits=True)),
    Case("cross_entropy_indices", class_case(), _class_loss("tg", "cross_entropy"),
         _class_loss("torch", "cross_entropy")),
    Case("cross_entropy_probs", class_case(probabilities=True), _prob_loss("tg"),
         _prob_loss("torch")),
    Case("nll_loss", class_case(log_probs=True), _class_loss("tg", "nll_loss"),
         _class_loss("torch", "nll_loss")),
]
ids = [c.name for c in CASES]


def test_the_table_covers_every_public_function() -> None:
    covered = {c.name.removesuffix("_train").removesuffix("_eval").removesuffix("_indices")
               .removesuffix("_probs") for c in CASES}
    covered |= {"cross_entropy", "batch_norm", "dropout", "one_hot"}  # dropout, one_hot below
    assert set(F.__all__) <= covered, set(F.__all__) - covered


def _torch_out(case: Case, arrays, kwargs, requires_grad=False):
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad) for a in arrays]
    return ts, case.theirs(*ts, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=ids)
@given(data=st.data())
def test_forward_matches_pytorch(case: Case, data) -> None:
    arrays, kwargs = data.draw(case.draw)
    ours = evaluate(case.ours, arrays, kwargs)
    _, theirs = _torch_out(case, arrays, kwargs)
    assert_close(ours, theirs.detach().numpy(), atol=1e-12, rtol=1e-10,
                 what=f"{case.name} forward")


@pytest.mark.parametrize("case", CASES, ids=ids)
@given(data=st.data())
def test_gradients_match_pytorch(case: Case, data) -> None:
    arrays, kwargs = data.draw(case.draw)
    out_shape = evaluate(case.ours, arrays, kwargs).shape
    cot = np.random.default_rng(0).uniform(-1, 1, out_shape)
    grads = autograd_vjp(case.ours, arrays, kwargs, cot)
    ts, out = _torch_out(case, arrays, kwargs, requires_grad=True)
    (out * torch.from_numpy(cot)).sum().backward()
    for i, (g, t) in enumerate(zip(grads, ts)):
        expected = np.zeros_like(arrays[i]) if t.grad is None else t.grad.numpy()
        assert_close(g, expected, atol=1e-10, rtol=1e-8, what=f"{case.name} grad {i} vs torch")


@pytest.mark.parametrize("case", CASES, ids=ids)
@given(data=st.data())
def test_gradients_match_central_differences(case: Case, data) -> None:
    arrays, kwargs = data.draw(case.draw)
    kwargs = case.fd_kwargs(kwargs)
    out_shape = evaluate(case.ours, arrays, kwargs).shape
    cot = np.random.default_rng(1).uniform(-1, 1, out_shape)
    grads = autograd_vjp(case.ours, arrays, kwargs, cot)
    for i, g in enumerate(grads):
        numeric = numeric_vjp(case.ours, arrays, kwargs, cot, i)
        assert_close(g, numeric, atol=1e-6, rtol=1e-5, what=f"{case.name} d/d input {i}")


SMOOTH = ["linear", "conv2d", "pad", "avg_pool2d", "batch_norm_train", "batch_norm_eval",
          "layer_norm", "embedding", "gelu", "sigmoid", "tanh", "silu", "logsigmoid", "softmax",
          "log_softmax", "mse_loss", "huber_loss", "binary_cross_entropy",
          "binary_cross_entropy_with_logits", "cross_entropy_indices", "cross_entropy_probs",
          "nll_loss"]
SMOOTH_CASES = [c for c in CASES if c.name in SMOOTH]


def _second_order(lib, case, arrays, kwargs, cot, weights):
    """d/d inputs of sum_i <grad_i(sum(f * cot)), weights_i>: a Hessian-vector product."""
    if lib == "tg":
        ts = [tg.tensor(a, requires_grad=True) for a in arrays]
        out = case.ours(*ts, **kwargs)
        grads = tg.grad((out * cot).sum(), ts, create_graph=True, allow_unused=True)
        total = sum(((g * w).sum() for g, w in zip(grads, weights) if g is not None),
                    tg.tensor(0.0, dtype=np.float64))
        if not total.requires_grad:
            return [np.zeros_like(a) for a in arrays]
        second = tg.grad(total, ts, allow_unused=True)
        return [np.zeros_like(a) if g is None else g.numpy() for g, a in zip(second, arrays)]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = case.theirs(*ts, **kwargs)
    grads = torch.autograd.grad((out * torch.from_numpy(cot)).sum(), ts, create_graph=True,
                                allow_unused=True)
    total = sum(((g * torch.from_numpy(w)).sum() for g, w in zip(grads, weights)
                 if g is not None), torch.tensor(0.0, dtype=torch.float64))
    if not total.requires_grad:
        return [np.zeros_like(a) for a in arrays]
    second = torch.autograd.grad(total, ts, allow_unused=True)
    return [np.zeros_like(a) if g is None else g.numpy() for g, a in zip(second, arrays)]


@pytest.mark.parametrize("case", SMOOTH_CASES, ids=[c.name for c in SMOOTH_CASES])
@given(data=st.data())
def test_second_derivatives_match_pytorch(case: Case, data) -> None:
    """Everything is differentiable twice (create_graph=True), with PyTorch's values."""
    arrays, kwargs = data.draw(case.draw)
    rng = np.random.default_rng(3)
    cot = rng.uniform(-1, 1, evaluate(case.ours, arrays, kwargs).shape)
    weights = [rng.uniform(-1, 1, a.shape) for a in arrays]
    ours = _second_order("tg", case, arrays, kwargs, cot, weights)
    theirs = _second_order("torch", case, arrays, kwargs, cot, weights)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert_close(a, b, atol=1e-9, rtol=1e-7, what=f"{case.name} second derivative {i}")


@given(data=st.data())
def test_linear_primitive_second_derivative_matches_central_differences(data) -> None:
    """F.linear is the nn layer's own primitive: its backward must be right to second order."""
    arrays, kwargs = data.draw(linear_case())
    rng = np.random.default_rng(4)
    cot = rng.uniform(-1, 1, evaluate(F.linear, arrays, kwargs).shape)
    weights = [rng.uniform(-1, 1, a.shape) for a in arrays]

    def first_derivative_dot(*ts):
        with tg.enable_grad():
            inputs = [t.detach().requires_grad_() for t in ts]
            grads = tg.grad((F.linear(*inputs) * cot).sum(), inputs, create_graph=True)
            return sum(((g * w).sum() for g, w in zip(grads, weights)),
                       tg.tensor(0.0, dtype=np.float64)).detach()

    ours = _second_order("tg", CASES[0], arrays, kwargs, cot, weights)
    for i, a in enumerate(ours):
        numeric = numeric_vjp(first_derivative_dot, arrays, {}, np.ones(()), i)
        assert_close(a, numeric, atol=1e-6, rtol=1e-5, what=f"linear second derivative {i}")


# --------------------------------------------------------------------------- dropout
@given(p=st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0]), seed=st.integers(0, 1000))
def test_dropout_mask_scale_and_gradient(p: float, seed: int) -> None:
    x = np.random.default_rng(seed).uniform(0.5, 2, (50, 40))

    def fn(t):
        return F.dropout(t, p, training=True, generator=tg.Generator(seed))

    out = evaluate(fn, [x], {})
    kept = out != 0
    if p < 1:
        assert_close(out[kept], x[kept] / (1 - p), atol=1e-12, what="kept values are scaled")
    frac = 1 - kept.mean()
    assert abs(frac - p) < 5 * math.sqrt(p * (1 - p) / x.size) + 1e-12, (frac, p)
    cot = np.random.default_rng(2).uniform(-1, 1, x.shape)
    (g,) = autograd_vjp(fn, [x], {}, cot)
    assert_close(g, np.where(kept, cot / (1 - p) if p < 1 else 0, 0), atol=1e-12,
                 what="dropout gradient is the mask, scaled")


def test_dropout_identity_when_not_training_and_reproducible_with_a_seed() -> None:
    x = tg.rand(100)
    assert F.dropout(x, 0.5, training=False) is x
    a = F.dropout(x, 0.5, generator=tg.Generator(3))
    b = F.dropout(x, 0.5, generator=tg.Generator(3))
    c = F.dropout(x, 0.5, generator=tg.Generator(4))
    assert (a.numpy() == b.numpy()).all() and not (a.numpy() == c.numpy()).all()
    tg.manual_seed(7)
    d = F.dropout(x, 0.5)
    tg.manual_seed(7)
    assert (F.dropout(x, 0.5).numpy() == d.numpy()).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


def test_one_hot_matches_pytorch() -> None:
    t = np.array([[0, 2], [1, 1]])
    assert (F.one_hot(tg.tensor(t), 4).numpy() == TF.one_hot(torch.from_numpy(t), 4).numpy()).all()
    assert F.one_hot(tg.tensor([3, 0])).shape == (2, 4)
    assert F.one_hot(tg.tensor([3, 0])).dtype == np.int64
    with pytest.raises(ValueError, match=r"0\.\.2"):
        F.one_hot(tg.tensor([3]), 3)
    with pytest.raises(TypeError, match="long"):
        F.one_hot(tg.tensor([1.0]), 3)


# --------------------------------------------------------------------------- saturation
def test_binary_cross_entropy_clamps_the_log_at_minus_100_like_pytorch() -> None:
    p = np.array([0.0, 1.0, 1e-50, 0.5])
    y = np.array([1.0, 0.0, 1.0, 1.0])
    ours = F.binary_cross_entropy(tg.tensor(p, requires_grad=True), tg.tensor(y), reduction="none")
    theirs = TF.binary_cross_entropy(torch.tensor(p), torch.tensor(y), reduction="none")
    assert_close(ours.numpy(), theirs.numpy(), atol=1e-12)
    x = tg.tensor(p, requires_grad=True)
    F.binary_cross_entropy(x, tg.tensor(y)).backward()
    assert np.isfinite(x.grad.numpy()).all()  # no NaN where the log is clamped


def test_stable_losses_do_not_overflow_on_huge_logits() -> None:
    x = tg.tensor([[1000.0, -1000.0], [-1000.0, 1000.0]], dtype=np.float64, requires_grad=True)
    loss = F.cross_entropy(x, tg.tensor([0, 0]))
    assert_close(loss.numpy(), np.array(1000.0), atol=1e-9)
    loss.backward()
    assert np.isfinite(x.grad.numpy()).all()
    z = tg.tensor([800.0, -800.0], dtype=np.float64, requires_grad=True)
    bce = F.binary_cross_entropy_with_logits(z, tg.tensor([0.0, 1.0], dtype=np.float64))
    assert_close(bce.numpy(), np.array(800.0), atol=1e-9)
    bce.backward()
    assert np.isfinite(z.grad.numpy()).all()


def test_logsigmoid_gradient_at_zero_is_one_half() -> None:
    """A logit of exactly 0 (a zero-initialised output layer) must get the true gradient."""
    z = tg.tensor([0.0], dtype=np.float64, requires_grad=True)
    F.binary_cross_entropy_with_logits(z, tg.tensor([1.0], dtype=np.float64)).backward()
    assert_close(z.grad.numpy(), np.array([-0.5]), atol=1e-15)


def test_losses_keep_a_float32_input_float32() -> None:
    x = tg.rand(4, 3, requires_grad=True)
    for loss in (F.mse_loss(x, np.zeros((4, 3))), F.cross_entropy(x, tg.tensor([0, 1, 2, 0])),
                 F.binary_cross_entropy_with_logits(x, tg.zeros(4, 3, dtype=np.float64))):
        assert loss.dtype == np.float32


# --------------------------------------------------------------------------- errors
def test_regression_losses_refuse_to_broadcast_an_n1_output_against_an_n_target() -> None:
    out, y = tg.zeros(5, 1), tg.zeros(5)
    for fn in (F.mse_loss, F.l1_loss, F.huber_loss, F.smooth_l1_loss):
        with pytest.raises(ValueError, match=r"\(5, 1\).*\(5,\).*\(N, N\)"):
            fn(out, y)
    # what the message suggests works
    assert F.mse_loss(out, y.reshape(5, 1)).item() == 0
    assert F.mse_loss(out, y.reshape(5, 1).expand(out.shape)).item() == 0


def test_binary_losses_name_both_shapes_and_bce_checks_the_probability_range() -> None:
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 1\)"):
        F.binary_cross_entropy_with_logits(tg.zeros(3, 1), tg.zeros(3))
    with pytest.raises(ValueError, match=r"\[0, 1\].*sigmoid.*with_logits"):
        F.binary_cross_entropy(tg.tensor([1.5, 0.5]), tg.tensor([1.0, 0.0]))


def test_cross_entropy_of_integer_logits_is_computed_in_floats() -> None:
    """The fused primitive's coefficients take the log-probabilities' float dtype, not the
    logits' integer one (which would truncate them to zero)."""
    ints = tg.tensor([[1.0, 2.0, 3.0], [0.0, 4.0, 1.0]]).long()
    floats = ints.double()
    for target, kw in ((tg.tensor([0, 2]), {}), (tg.tensor([0, 2]), {"label_smoothing": 0.1}),
                       (tg.tensor([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]), {})):
        expected = F.cross_entropy(floats, target, **kw).item()
        assert F.cross_entropy(ints, target, **kw).item() == pytest.approx(expected)


def test_cross_entropy_explains_a_bad_target() -> None:
    logits = tg.zeros(4, 3)
    with pytest.raises(ValueError, match=r"class indices stored as floats.*long\(\)"):
        F.cross_entropy(logits, tg.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=r"shape \(4,\).*shape \(4, 3\).*float32 target of "
                                         r"shape \(4, 2\)"):
        F.cross_entropy(logits, tg.zeros(4, 2))
    with pytest.raises(ValueError, match=r"squeeze\(-1\)"):
        F.cross_entropy(logits, tg.zeros(4, 1, dtype=np.int64))
    with pytest.raises(IndexError, match=r"class index 3 \(at position \(2,\)\).*3 classes.*"
                                         r"0\.\.2.*start at 1"):
        F.cross_entropy(logits, tg.tensor([0, 1, 3, 2]))
    with pytest.raises(IndexError, match="class index -1"):
        F.nll_loss(logits, tg.tensor([0, -1, 2, 2]))
    # the ignored index is not out of range
    F.cross_entropy(logits, tg.tensor([0, -100, 2, 2]))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        F.cross_entropy(logits, tg.tensor([0, 1, 2, 2]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(logits, tg.tensor([0, 1, 2, 2]), label_smoothing=1.5)


def test_layer_errors_name_the_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(2, 5\).*5 features.*\(3, 4\).*expects 4"):
        F.linear(tg.zeros(2, 5), tg.zeros(3, 4))
    with pytest.raises(ValueError, match=r"normalized_shape \(3,\).*\(2, 4\)"):
        F.layer_norm(tg.zeros(2, 4), (3,))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(tg.zeros(1, 3), None, None, training=True)
    with pytest.raises(IndexError, match=r"index 7.*5 rows"):
        F.embedding(tg.tensor([7]), tg.zeros(5, 2))
    with pytest.raises(TypeError, match="long"):
        F.embedding(tg.tensor([1.0]), tg.zeros(5, 2))
    with pytest.raises(ValueError, match="reflect padding"):
        F.pad(tg.zeros(1, 1, 3), (3, 0), mode="reflect")
