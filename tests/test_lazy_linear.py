"""nn.LazyLinear (d2l.ai's layers): the first input gives in_features; then it is an nn.Linear
initialised as PyTorch's, with the Parameter objects an earlier optimizer holds."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn, optim


@settings(max_examples=25, deadline=None)
@given(batch=st.integers(1, 4), n_in=st.integers(1, 6), n_out=st.integers(1, 4),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_the_first_call_makes_pytorchs_linear(batch, n_in, n_out, bias, seed) -> None:
    x = np.random.default_rng(seed).normal(size=(batch, n_in))
    ours, theirs = nn.LazyLinear(n_out, bias=bias, dtype=tg.float64), torch.nn.LazyLinear(
        n_out, bias=bias, dtype=torch.float64)
    assert ours.weight.shape == (n_out, 0)
    out = ours(tg.tensor(x))
    theirs(torch.tensor(x))
    assert type(ours) is nn.Linear and type(theirs) is torch.nn.Linear
    assert ours.in_features == theirs.in_features == n_in
    assert ours.weight.shape == tuple(theirs.weight.shape)
    bound = 1 / math.sqrt(n_in)  # kaiming_uniform_(a=sqrt(5)) and the bias: U(-bound, bound)
    assert np.abs(ours.weight.data).max() <= bound
    if bias:
        assert np.abs(ours.bias.data).max() <= bound
    else:
        assert ours.bias is None
    # with PyTorch's values, the same output and gradients
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.data))
        if bias:
            theirs.bias.copy_(torch.tensor(ours.bias.data))
    expected = theirs(torch.tensor(x))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-12)


def test_an_optimizer_made_before_the_first_call_trains_the_initialised_weights() -> None:
    net = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(1))
    opt = optim.SGD(net.parameters(), lr=0.1)
    x, y = tg.ones(5, 3), tg.zeros(5, 1)
    loss = ((net(x) - y) ** 2).mean()
    w = net[0].weight
    before = w.data.copy()
    loss.backward()
    opt.step()
    np.testing.assert_allclose(w.data, before - 0.1 * w.grad.data, rtol=1e-6)
    assert [p.shape for p in net.parameters()] == [(4, 3), (4,), (1, 4), (1,)]
    assert repr(net[2]) == "Linear(in_features=4, out_features=1, bias=True)"


def test_a_generator_makes_it_reproducible_and_the_state_dict_loads_into_linear() -> None:
    a, b = (nn.LazyLinear(3, generator=tg.Generator(7)) for _ in range(2))
    a(tg.ones(2, 5))
    b(tg.ones(1, 5))
    assert np.array_equal(a.weight.data, b.weight.data)
    plain = nn.Linear(5, 3)
    plain.load_state_dict(a.state_dict())
    assert np.array_equal(plain(tg.ones(2, 5)).data, a(tg.ones(2, 5)).data)


def test_a_0d_first_input_is_refused() -> None:
    with pytest.raises(ValueError, match="LazyLinear: the first input must have at least one"):
        nn.LazyLinear(2)(tg.tensor(1.0))
