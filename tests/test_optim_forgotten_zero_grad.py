"""Optimizers warn when zero_grad() was forgotten between steps (each step would descend the
sum of all gradients so far), and never for the legitimate ways of resetting or
accumulating gradients."""

from __future__ import annotations

import warnings

import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, optim

OPTIMIZERS = [
    lambda ps: optim.SGD(ps, lr=0.1),
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: optim.Adam(ps, lr=0.01),
    lambda ps: optim.AdamW(ps, lr=0.01),
    lambda ps: optim.RMSprop(ps, lr=0.01),
    lambda ps: optim.Adagrad(ps, lr=0.01),
]


def _setup(make_opt):
    tg.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    x, y = tg.randn(8, 3), tg.randn(8, 1)
    return net, make_opt(net.parameters()), lambda: ((net(x) - y) ** 2).mean()


@pytest.mark.parametrize("make_opt", OPTIMIZERS)
def test_a_forgotten_zero_grad_is_warned_about_at_the_second_step(make_opt) -> None:
    _, opt, loss = _setup(make_opt)
    loss().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()  # the first step: nothing to compare with
    loss().backward()  # added onto the gradients the first step used
    with pytest.warns(UserWarning, match=r"step\(\): the gradients of 4 parameter\(s\) \(shapes "
                      r"\(4, 3\), \(4,\), \(1, 4\), \(1,\)\) still hold those of the previous "
                      r"step: zero_grad\(\) was not called"):
        opt.step()


def _reset_none(net, opt):
    opt.zero_grad()


def _reset_zeros(net, opt):
    opt.zero_grad(set_to_none=False)


def _reset_module(net, opt):
    net.zero_grad()


def _reset_by_hand(net, opt):
    for p in net.parameters():
        p.grad.zero_()  # old tutorials' manual reset, in place


def _reset_to_none_by_hand(net, opt):
    for p in net.parameters():
        p.grad = None


@pytest.mark.parametrize("reset", [_reset_none, _reset_zeros, _reset_module, _reset_by_hand,
                                   _reset_to_none_by_hand])
@pytest.mark.parametrize("batches", [1, 3])
def test_resetting_between_steps_is_never_warned_about(reset, batches) -> None:
    """Reset after step() (or before backward), with one batch or several accumulated."""
    net, opt, loss = _setup(OPTIMIZERS[2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(4):
            for _ in range(batches):
                loss().backward()
            opt.step()
            reset(net, opt)


def test_compile_step_resets_the_gradients_itself() -> None:
    _, opt, loss = _setup(OPTIMIZERS[0])
    step = tg.compile_step(lambda: loss(), opt)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(4):
            step()
