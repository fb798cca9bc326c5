"""compile_step: a replayed step is bit-identical to eager execution, and steps that cannot
be replayed faithfully are detected and run eagerly."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, optim
from tinygrad_edu.autograd import compile_step
from tinygrad_edu.nn import functional as F


def _mlp(seed: int, sizes=(3, 8, 4)) -> nn.Module:
    gen = tg.Generator(seed)
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b, generator=gen))
        if i < len(sizes) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def _batches(n: int, shape_x, classes: int | None = None, seed: int = 0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = tg.tensor(rng.normal(size=shape_x).astype(np.float32))
        if classes is None:
            y = tg.tensor(rng.normal(size=(shape_x[0], 1)).astype(np.float32))
        else:
            y = tg.tensor(rng.integers(0, classes, size=shape_x[0]))
        out.append((x, y))
    return out


def _run_both(make_loss, make_opt, batches, steps=8):
    """Train two identical models, eagerly and through compile_step; return both."""
    results = []
    for jit in (False, True):
        net = _mlp(0)
        opt = make_opt(net.parameters())
        loss_fn = make_loss(net)
        step = compile_step(loss_fn, opt) if jit else None
        losses = []
        for i in range(steps):
            x, y = batches[i % len(batches)]
            if jit:
                losses.append(step(x, y).item())
            else:
                opt.zero_grad()
                loss = loss_fn(x, y)
                loss.backward()
                opt.step()
                losses.append(loss.item())
        results.append((net, losses, step))
    return results


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda ps: optim.SGD(ps, lr=0.1),
        lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda ps: optim.Adam(ps, lr=1e-2),
        lambda ps: optim.AdamW(ps, lr=1e-2),
        lambda ps: optim.RMSprop(ps, lr=1e-2),
    ],
    ids=["sgd", "sgd-nesterov", "adam", "adamw", "rmsprop"],
)
def test_replay_is_bit_identical_to_eager_mse(make_opt) -> None:
    batches = _batches(3, (5, 3))
    (eager_net, eager_losses, _), (jit_net, jit_losses, step) = _run_both(
        lambda net: lambda x, y: F.mse_loss(net(x)[:, :1], y), make_opt, batches
    )
    assert step.replays == 6 and step.reason is None
    assert jit_losses == eager_losses  # exact
    for a, b in zip(eager_net.parameters(), jit_net.parameters()):
        assert np.array_equal(a.data, b.data)
        assert np.array_equal(a.grad.data, b.grad.data)


def test_replay_is_bit_identical_to_eager_cross_entropy_with_new_labels() -> None:
    batches = _batches(4, (6, 3), classes=4)
    (eager_net, eager_losses, _), (jit_net, jit_losses, step) = _run_both(
        lambda net: lambda x, y: F.cross_entropy(net(x), y, label_smoothing=0.1),
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
        batches,
        steps=10,
    )
    assert step.replays == 8
    assert jit_losses == eager_losses
    for a, b in zip(eager_net.parameters(), jit_net.parameters()):
        assert np.array_equal(a.data, b.data)


def test_replay_of_a_conv_net_and_of_a_closure_without_inputs() -> None:
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.normal(size=(2, 1, 8, 8)).astype(np.float32))
    labels = tg.tensor(np.array([1, 3]))

    def make():
        gen = tg.Generator(3)
        return nn.Sequential(nn.Conv2d(1, 4, 3, generator=gen), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(36, 5, generator=gen))

    nets = [make(), make()]
    opts = [optim.SGD(n.parameters(), lr=0.1) for n in nets]
    step = compile_step(lambda: F.cross_entropy(nets[1](x), labels), opts[1])
    for _ in range(5):
        opts[0].zero_grad()
        loss = F.cross_entropy(nets[0](x), labels)
        loss.backward()
        opts[0].step()
        assert step().item() == loss.item()
    assert step.replays == 3
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        assert np.array_equal(a.data, b.data)


def test_without_optimizer_gradients_accumulate_like_backward() -> None:
    w = tg.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    x = tg.tensor(np.ones((4, 2), np.float32))
    step = compile_step(lambda x: ((x @ w).sigmoid() ** 2).sum())
    for _ in range(4):
        out = step(x)
    assert step.replays == 2
    v = tg.tensor(w.data.copy(), requires_grad=True)
    for _ in range(4):
        ((x @ v).sigmoid() ** 2).sum().backward()
    assert np.array_equal(w.grad.data, v.grad.data)
    assert out.grad_fn is None and not out.requires_grad  # the result is detached


def test_step_inputs_can_require_grad_and_several_outputs_are_returned() -> None:
    w = tg.tensor([[1.0, -2.0]], requires_grad=True)

    def fn(x):
        h = x * w
        return (h * h).sum(), h

    step = compile_step(fn)
    xs = [tg.tensor([[float(i), 1.0]], requires_grad=True) for i in range(4)]
    for x in xs:
        loss, h = step(x)
    assert loss.item() == 9.0 + 4.0
    assert step.replays == 2
    assert x.grad.tolist() == [[2 * 3.0 * 1.0, 2 * 1.0 * 4.0]]
    assert h.tolist() == [[3.0, -2.0]]


def test_parameters_changed_outside_the_step_are_seen() -> None:
    w = tg.tensor([2.0], requires_grad=True)
    step = compile_step(lambda x: (x * w).sum())
    x = tg.tensor([3.0])
    for _ in range(3):
        step(x)
    w.data[...] = 5.0  # in place
    assert step(x).item() == 15.0
    w.data = np.array([7.0], np.float32)  # a new array
    assert step(x).item() == 21.0
    assert step.replays == 3


def test_new_shapes_are_recorded_anew_and_anomaly_mode_runs_eagerly() -> None:
    net = _mlp(0)
    step = compile_step(lambda x: net(x).sum())
    for n in (2, 2, 2, 3, 3, 3, 2):
        step(tg.tensor(np.ones((n, 3), np.float32)))
    assert step.replays == 3  # the third call of each shape, and the last
    with tg.detect_anomaly():
        step(tg.tensor(np.ones((2, 3), np.float32)))
    assert step.replays == 3


@pytest.mark.parametrize(
    ("case", "why"),
    [
        ("dropout", "made afresh"),
        ("batchnorm", "in place"),
        ("branch", "ran"),
        ("fresh_leaf", "made afresh"),
    ],
)
def test_what_cannot_be_replayed_runs_eagerly_with_a_warning(case: str, why: str) -> None:
    gen = tg.Generator(0)
    lin = nn.Linear(3, 3, generator=gen)
    bn = nn.BatchNorm1d(3)

    def fn(x):
        if case == "dropout":
            return F.dropout(lin(x), 0.5, generator=gen).sum()
        if case == "batchnorm":
            return bn(lin(x)).sum()
        if case == "branch":  # the graph depends on the data
            h = lin(x)
            return (h.relu() if float(x.data.sum()) > 0 else h.tanh()).sum()
        v = tg.tensor(np.ones(3, np.float32), requires_grad=True)  # a new leaf per call
        return (lin(x) * v).sum()

    step = compile_step(fn)
    xs = [tg.tensor(np.full((4, 3), s, np.float32)) for s in (1.0, -1.0, 1.0, -1.0)]
    with pytest.warns(RuntimeWarning, match=why):
        for x in xs:
            step(x)
    assert step.replays == 0 and why in step.reason
    # eager from then on: no further warning, same results as plain calls
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        step(xs[0])
