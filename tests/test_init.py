"""``nn.init`` and the layers' default initialisation: fans and gains against PyTorch's
functions, distributions checked by their bounds and moments, generators for reproducibility.

The statistical checks use 60 000 samples and 6-sigma bounds on the moments, so a correct
implementation fails them with probability below 1e-8, while a wrong fan or gain (off by a
factor of sqrt(2) or more) fails them always.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import init

N = (200, 300)  # 60 000 samples, fan_in 300, fan_out 200


def _uniform_ok(a: np.ndarray, bound: float) -> None:
    """Samples of U(-bound, bound): inside, reaching near the ends, the right moments."""
    n = a.size
    assert np.abs(a).max() <= bound
    assert np.abs(a).max() > bound * (1 - 1e-3)
    std = bound / math.sqrt(3)
    assert abs(a.mean()) < 6 * std / math.sqrt(n)
    # the variance of x² for U(-b, b) is 4 b⁴ / 45
    assert abs(a.var() - std**2) < 6 * math.sqrt(4 * bound**4 / 45 / n)


def _normal_ok(a: np.ndarray, mean: float, std: float) -> None:
    n = a.size
    assert abs(a.mean() - mean) < 6 * std / math.sqrt(n)
    assert abs(a.std() - std) < 6 * std / math.sqrt(2 * n)


@given(shape=hnp.array_shapes(min_dims=2, max_dims=5, max_side=5))
def test_fans_match_pytorch(shape) -> None:
    ours = init.calculate_fan_in_and_fan_out(tg.zeros(*shape))
    theirs = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))
    assert ours == theirs


def test_fan_of_a_vector_is_an_error_like_pytorch() -> None:
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(tg.zeros(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(tg.zeros(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None),
])
def test_gains_match_pytorch(nonlinearity, param) -> None:
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


def test_uniform_normal_constant() -> None:
    _uniform_ok(init.uniform_(tg.zeros(*N), -0.12, 0.12).numpy(), 0.12)  # seed 002's answer
    a = init.uniform_(tg.zeros(*N, dtype=np.float64), 2.0, 3.0).numpy()
    assert a.min() >= 2.0 and a.max() < 3.0 and abs(a.mean() - 2.5) < 0.01
    _normal_ok(init.normal_(tg.zeros(*N), 1.5, 0.3).numpy(), 1.5, 0.3)
    assert (init.constant_(tg.zeros(3), 0.7).numpy() == np.float32(0.7)).all()
    assert (init.zeros_(tg.ones(3)).numpy() == 0).all()
    assert (init.ones_(tg.zeros(3)).numpy() == 1).all()
    t = init.trunc_normal_(tg.zeros(*N), 0.0, 1.0, -0.5, 1.0)
    assert t.numpy().min() >= -0.5 and t.numpy().max() <= 1.0


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_glorot(gain) -> None:
    fan_in, fan_out = N[1], N[0]
    std = gain * math.sqrt(2 / (fan_in + fan_out))
    _uniform_ok(init.xavier_uniform_(tg.zeros(*N), gain).numpy(), math.sqrt(3) * std)
    _normal_ok(init.xavier_normal_(tg.zeros(*N), gain).numpy(), 0.0, std)
    assert init.glorot_uniform_ is init.xavier_uniform_
    assert init.glorot_normal_ is init.xavier_normal_


@pytest.mark.parametrize("mode,nonlinearity,a", [
    ("fan_in", "leaky_relu", 0.0), ("fan_out", "relu", 0.0), ("fan_in", "leaky_relu", 0.2),
    ("fan_in", "tanh", 0.0),
])
def test_kaiming_he(mode, nonlinearity, a) -> None:
    fan = N[1] if mode == "fan_in" else N[0]
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    w = init.kaiming_uniform_(tg.zeros(*N), a, mode, nonlinearity).numpy()
    _uniform_ok(w, math.sqrt(3) * std)
    _normal_ok(init.kaiming_normal_(tg.zeros(*N), a, mode, nonlinearity).numpy(), 0.0, std)
    assert init.he_uniform_ is init.kaiming_uniform_ and init.he_normal_ is init.kaiming_normal_


def test_conv_weight_fans_include_the_kernel() -> None:
    w = tg.zeros(64, 50, 3, 3)  # fan_in 450, fan_out 576
    _uniform_ok(init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu").numpy(),
                math.sqrt(3) * math.sqrt(2) / math.sqrt(576))


def test_generators_make_draws_reproducible() -> None:
    fns = [
        lambda t, g: init.uniform_(t, -1, 1, generator=g),
        lambda t, g: init.normal_(t, generator=g),
        lambda t, g: init.xavier_uniform_(t, generator=g),
        lambda t, g: init.xavier_normal_(t, generator=g),
        lambda t, g: init.kaiming_uniform_(t, generator=g),
        lambda t, g: init.kaiming_normal_(t, generator=g),
        lambda t, g: init.trunc_normal_(t, generator=g),
    ]
    for fn in fns:
        a = fn(tg.zeros(4, 5), tg.Generator(1)).numpy()
        b = fn(tg.zeros(4, 5), tg.Generator(1)).numpy()
        c = fn(tg.zeros(4, 5), tg.Generator(2)).numpy()
        assert (a == b).all() and not (a == c).all()
    tg.manual_seed(3)
    a = nn.Linear(4, 4).weight.numpy().copy()
    tg.manual_seed(3)
    assert (nn.Linear(4, 4).weight.numpy() == a).all()
    g1, g2 = tg.Generator(5), tg.Generator(5)
    assert (nn.Linear(3, 3, generator=g1).weight.numpy()
            == nn.Linear(3, 3, generator=g2).weight.numpy()).all()


def test_init_works_on_parameters_without_recording_a_graph() -> None:
    p = nn.Parameter(tg.zeros(3, 3))
    out = init.kaiming_uniform_(p)
    assert out is p and p.is_leaf and p.grad_fn is None and p.requires_grad


# --------------------------------------------------------------------------- layer defaults
def test_linear_default_init_is_pytorchs() -> None:
    layer = nn.Linear(N[1], N[0])  # kaiming_uniform_(a=sqrt(5)): U(±1/sqrt(fan_in))
    _uniform_ok(layer.weight.numpy(), 1 / math.sqrt(N[1]))
    big = nn.Linear(400, 60_000)
    _uniform_ok(big.bias.numpy(), 1 / math.sqrt(400))
    assert layer.weight.dtype == np.float32 and layer.weight.requires_grad


def test_conv2d_default_init_is_pytorchs() -> None:
    conv = nn.Conv2d(24, 600, 5, groups=2)  # fan_in = 12 * 25 = 300
    _uniform_ok(conv.weight.numpy(), 1 / math.sqrt(300))
    wide = nn.Conv2d(4, 60_000, 2, groups=2)  # fan_in = 2 * 4 = 8
    _uniform_ok(wide.bias.numpy(), 1 / math.sqrt(8))


def test_embedding_and_norm_default_init_are_pytorchs() -> None:
    emb = nn.Embedding(200, 300, padding_idx=3)
    w = emb.weight.numpy()
    assert (w[3] == 0).all()
    _normal_ok(np.delete(w, 3, axis=0), 0.0, 1.0)
    for layer in (nn.BatchNorm1d(5), nn.BatchNorm2d(5), nn.LayerNorm(5)):
        assert (layer.weight.numpy() == 1).all() and (layer.bias.numpy() == 0).all()
    bn = nn.BatchNorm1d(5)
    assert (bn.running_mean.numpy() == 0).all() and (bn.running_var.numpy() == 1).all()
    assert int(bn.num_batches_tracked) == 0
