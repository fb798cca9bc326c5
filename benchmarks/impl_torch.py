"""(b) PyTorch CPU eager, written as a PyTorch user would: nn modules, torch.optim, F losses."""

from __future__ import annotations

import itertools

import numpy as np

from benchmarks.harness import Runner, Unavailable


def _torch():
    try:
        import torch
    except Exception as e:
        raise Unavailable(f"import torch failed: {type(e).__name__}: {e}") from None
    return torch


def _load(params, arrays) -> None:
    torch = _torch()
    with torch.no_grad():
        for p, a in zip(params, arrays, strict=True):
            if tuple(p.shape) != a.shape:
                raise ValueError(f"parameter shape {tuple(p.shape)} != init shape {a.shape}")
            p.copy_(torch.from_numpy(a))


def _numpy(params) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in params]


def _optimizer(params, spec: dict):
    torch = _torch()
    if spec["kind"] == "sgd":
        return torch.optim.SGD(params, lr=spec["lr"], momentum=spec.get("momentum", 0.0))
    if spec["kind"] == "adam":
        return torch.optim.Adam(params, lr=spec["lr"], betas=spec["betas"], eps=spec["eps"])
    raise ValueError(spec["kind"])


def _training_runner(model, params, batches, loss_fn, opt) -> Runner:
    state = {"i": 0}

    def step() -> None:
        x, y = batches[state["i"] % len(batches)]
        state["i"] += 1
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return Runner(step, lambda: _numpy(params))


def w1(s) -> Runner:
    torch = _torch()
    w_hidden, w_out = (torch.tensor(p, requires_grad=True) for p in s.params)
    a0, y = torch.from_numpy(s.a0), torch.from_numpy(s.Y)
    m = s.m
    ones = torch.ones(m, 1)
    opt = torch.optim.SGD([w_hidden, w_out], lr=s.lr)

    def step() -> None:
        a1 = torch.sigmoid(a0 @ w_hidden.T)
        h = torch.sigmoid(torch.cat([ones, a1], dim=1) @ w_out.T)
        loss = ((y - h) ** 2).sum() / (2 * m)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return Runner(step, lambda: _numpy([w_hidden, w_out]))


def _relu_mlp(sizes, out_relu: bool):
    nn = _torch().nn
    layers = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(fan_in, fan_out))
        if out_relu or i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def w2(s) -> Runner:
    torch = _torch()
    model = _relu_mlp(s.sizes, out_relu=True)
    params = list(model.parameters())
    _load(params, s.params)
    batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in s.batches]
    opt = _optimizer(params, s.optimizer)
    return _training_runner(model, params, batches, torch.nn.functional.mse_loss, opt)


def w3(s) -> Runner:
    torch = _torch()
    model = _relu_mlp(s.sizes, out_relu=False)
    params = list(model.parameters())
    _load(params, s.params)
    batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in s.batches]
    opt = _optimizer(params, s.optimizer)
    return _training_runner(model, params, batches, torch.nn.functional.cross_entropy, opt)


def w4(s) -> Runner:
    torch = _torch()
    nn = torch.nn
    (c1, c2), k = s.channels, s.kernel
    model = nn.Sequential(
        nn.Conv2d(s.in_channels, c1, k),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, k),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c2 * s.flat_hw[0] * s.flat_hw[1], s.classes),
    )
    params = list(model.parameters())
    _load(params, s.params)
    batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in s.batches]
    opt = _optimizer(params, s.optimizer)
    return _training_runner(model, params, batches, nn.functional.cross_entropy, opt)


def w5(s) -> Runner:
    """A chain of s.nodes elementwise ops on a 1-element tensor, then backward."""
    torch = _torch()
    two, one, half = (torch.tensor([v]) for v in (2.0, 1.0, 0.5))
    x0 = np.ones(1, np.float32)
    last: dict[str, np.ndarray] = {}

    def step() -> None:
        x = torch.tensor(x0, requires_grad=True)
        y = x
        for _ in range(s.nodes // 4):  # y → 2y → 2y+1 → y+0.5 → y: exact in float32
            y = y * two
            y = y + one
            y = y * half
            y = y - half
        y.sum().backward()
        last["grad"], last["y"] = x.grad.numpy().copy(), y.detach().numpy().copy()

    return Runner(step, lambda: [last["grad"], last["y"]])


def w6(s, fast_mode: bool) -> Runner:
    """torch.autograd.gradcheck of the W6 net's loss w.r.t. all its parameters (float64)."""
    torch = _torch()
    params = [torch.tensor(p, requires_grad=True) for p in s.params]
    x, y = torch.from_numpy(s.x), torch.from_numpy(s.y)

    def loss(*ps):
        h = x
        for i in range(0, len(ps), 2):
            h = h @ ps[i] + ps[i + 1]
            if i + 2 < len(ps):
                h = torch.tanh(h)
        return ((h - y) ** 2).mean()

    def step() -> None:
        if not torch.autograd.gradcheck(loss, params, fast_mode=fast_mode):
            raise AssertionError("torch gradcheck failed")

    return Runner(step, lambda: [])
