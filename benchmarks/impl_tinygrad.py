"""(d) tinygrad_edu, written against its planned PyTorch-like API.

Each factory first checks that the names it uses exist and raises ``Unavailable`` (reported as
"n/a") when ``tinygrad_edu`` does not import or lacks one, so the benchmarks run while the
core is being written. Adapt this module, and only this one, when the core's API settles.

What it uses:
  tg.Tensor(ndarray, requires_grad=True)   float32 kept; .data is the numpy array, written in
                                           place to load the initial weights; .grad a Tensor
  ops                                      @ + - * with tensors, ** 2 and / with Python
                                           scalars; .sigmoid() .relu() .tanh() .sum() .mean()
                                           .reshape(*shape) .backward()
  tg.cat([...], axis=1)                    W1's bias column
  tg.nn.Linear(in, out)                    .weight (out, in) or (in, out): found by probing
  tg.nn.Conv2d(in, out, k)                 .weight (out, in, k, k), .bias; stride 1, no pad
  tg.nn.functional.max_pool2d(x, 2)        or tg.max_pool2d, or tg.nn.MaxPool2d(2); floor mode
  tg.nn.functional.cross_entropy(z, y)     y a Tensor of int64 class indices; mean reduction
  tg.nn.functional.mse_loss(h, y, reduction=)  W1 (sum) and W2 (mean), as PyTorch users write it
  tg.optim.SGD(params, lr=, momentum=)     PyTorch's semantics, .zero_grad(), .step()
  tg.optim.Adam(params, lr=, betas=, eps=) PyTorch's formula
  tg.gradcheck.gradcheck(fn, inputs, fast_mode=)   W6 only; float64 inputs; truthy on success
  tg.autograd.compile_step(fn, optimizer)  the "-jit" variants of W1-W4 (a captured step)
"""

from __future__ import annotations

import importlib
import inspect
import itertools

import numpy as np

from benchmarks.harness import Phases, Runner, Unavailable

_MISSING = object()


def _tg():
    try:
        import tinygrad_edu
    except Exception as e:  # ImportError, or a half-written package failing at import
        raise Unavailable(f"import tinygrad_edu failed: {type(e).__name__}: {e}") from None
    return tinygrad_edu


def _resolve(tg, path: str):
    """``tg`` + "nn.functional.cross_entropy" → the object, importing submodules as needed."""
    obj, module = tg, tg.__name__
    for part in path.split("."):
        nxt = getattr(obj, part, _MISSING)
        if nxt is _MISSING and inspect.ismodule(obj):
            name = f"{module}.{part}"
            try:
                nxt = importlib.import_module(name)
            except Exception as e:
                if isinstance(e, ModuleNotFoundError) and e.name == name:
                    return _MISSING
                # The module exists but fails to import (mid-edit): n/a, not a crashed run.
                raise Unavailable(f"import {name} failed: {type(e).__name__}: {e}") from None
        if nxt is _MISSING:
            return _MISSING
        obj, module = nxt, f"{module}.{part}"
    return obj


def _require(tg, *paths: str) -> list:
    paths = tuple(dict.fromkeys(paths))  # unique, in order
    found = [_resolve(tg, p) for p in paths]
    missing = [p for p, f in zip(paths, found, strict=True) if f is _MISSING]
    if missing:
        raise Unavailable("tinygrad_edu lacks " + ", ".join(f"tg.{p}" for p in missing))
    return found


def _load(p, a: np.ndarray, transpose: bool = False) -> None:
    """Copy the initial values ``a`` (transposed if asked) into parameter ``p``, in place."""
    a = a.T if transpose else a
    if p.data.shape != a.shape:
        raise Unavailable(f"tinygrad_edu parameter of shape {p.data.shape}, expected {a.shape}")
    p.data[...] = a


def _export(p, transpose: bool = False) -> np.ndarray:
    data = np.asarray(p.data)
    return (data.T if transpose else data).copy()


def _linear_is_transposed(linear) -> bool:
    """Whether tg.nn.Linear keeps its weight as (in, out) rather than PyTorch's (out, in)."""
    shape = tuple(linear(3, 2).weight.data.shape)
    if shape not in ((2, 3), (3, 2)):
        raise Unavailable(f"tg.nn.Linear(3, 2).weight has shape {shape}")
    return shape == (3, 2)


def _optimizer(tg, params, spec: dict):
    if spec["kind"] == "sgd":
        (sgd,) = _require(tg, "optim.SGD")
        return sgd(params, lr=spec["lr"], momentum=spec.get("momentum", 0.0))
    (adam,) = _require(tg, "optim.Adam")
    return adam(params, lr=spec["lr"], betas=spec["betas"], eps=spec["eps"])


def _phases(forward, opt) -> Phases:
    return Phases(forward, opt.zero_grad, lambda loss: loss.backward(), opt.step, opt)


def _eager_step(phases: Phases):
    forward, zero_grad, backward, update = (
        phases.forward, phases.zero_grad, phases.backward, phases.update
    )

    def step() -> None:
        loss = forward()
        zero_grad()
        backward(loss)
        update()

    return step


def _training_runner(tg, model, params, transposed, s, batches, loss_fn, jit=False) -> Runner:
    opt = _optimizer(tg, params, s.optimizer)
    state = {"i": 0}

    def export() -> list[np.ndarray]:
        return [_export(p, t) for p, t in zip(params, transposed, strict=True)]

    if jit:
        (compile_step,) = _require(tg, "autograd.compile_step")
        captured = compile_step(lambda x, y: loss_fn(model(x), y), opt)

        def step() -> None:
            x, y = batches[state["i"] % len(batches)]
            state["i"] += 1
            captured(x, y)

        step.captured = captured
        return Runner(step, export)

    def forward():
        x, y = batches[state["i"] % len(batches)]
        state["i"] += 1
        return loss_fn(model(x), y)

    phases = _phases(forward, opt)
    return Runner(_eager_step(phases), export, phases)


_TENSOR_OPS = ("Tensor", "Tensor.backward", "Tensor.sum", "Tensor.mean")


def w1(s, jit: bool = False, composite_loss: bool = False) -> Runner:
    """``composite_loss`` writes J as ``((y - h) ** 2).sum() / (2m)`` (four graph nodes)
    instead of ``mse_loss`` (used by ``benchmarks.budget`` to show what the fused loss buys).
    """
    tg = _tg()
    (tensor, cat, sgd, mse_loss, *_) = _require(
        tg, "Tensor", "cat", "optim.SGD", "nn.functional.mse_loss", *_TENSOR_OPS,
        "Tensor.sigmoid"
    )
    # Weights are kept transposed, (in + 1, out), so the forward needs no transpose op.
    w_hidden = tensor(s.params[0].T.copy(), requires_grad=True)
    w_out = tensor(s.params[1].T.copy(), requires_grad=True)
    a0, y = tensor(s.a0), tensor(s.Y)
    m = s.m
    ones = tensor(np.ones((m, 1), np.float32))
    opt = sgd([w_hidden, w_out], lr=s.lr)

    def loss_fn():
        a1 = (a0 @ w_hidden).sigmoid()
        h = (cat([ones, a1], axis=1) @ w_out).sigmoid()
        if composite_loss:
            return ((y - h) ** 2).sum() / (2 * m)
        return mse_loss(h, y, reduction="sum") / (2 * m)  # J = sum((Y - H)²) / (2m)

    def export() -> list[np.ndarray]:
        return [_export(w_hidden, True), _export(w_out, True)]

    if jit:
        (compile_step,) = _require(tg, "autograd.compile_step")
        return Runner(compile_step(loss_fn, opt), export)
    phases = _phases(loss_fn, opt)
    return Runner(_eager_step(phases), export, phases)


def _linear_stack(tg, s, out_relu: bool):
    (linear,) = _require(tg, "nn.Linear")
    layers = [linear(i, o) for i, o in itertools.pairwise(s.sizes)]
    params = [p for layer in layers for p in (layer.weight, layer.bias)]
    transposed = [_linear_is_transposed(linear), False] * len(layers)
    for p, a, t in zip(params, s.params, transposed, strict=True):
        _load(p, a, t)

    def model(x):
        for i, layer in enumerate(layers):
            x = layer(x)
            if out_relu or i < len(layers) - 1:
                x = x.relu()
        return x

    return model, params, transposed


def _composite_mse(out, y):
    return ((out - y) ** 2).mean()


def w2(s, jit: bool = False, composite_loss: bool = False) -> Runner:
    """``composite_loss``: ``((out - y) ** 2).mean()`` (three nodes) instead of mse_loss."""
    tg = _tg()
    (tensor, mse_loss, *_) = _require(
        tg, "Tensor", "nn.functional.mse_loss", *_TENSOR_OPS, "Tensor.relu"
    )
    model, params, transposed = _linear_stack(tg, s, out_relu=True)
    batches = [(tensor(x), tensor(y)) for x, y in s.batches]
    loss = _composite_mse if composite_loss else mse_loss
    return _training_runner(tg, model, params, transposed, s, batches, loss, jit)


def w3(s, jit: bool = False) -> Runner:
    tg = _tg()
    (tensor, xent, *_) = _require(
        tg, "Tensor", "nn.functional.cross_entropy", *_TENSOR_OPS, "Tensor.relu"
    )
    model, params, transposed = _linear_stack(tg, s, out_relu=False)
    batches = [(tensor(x), tensor(y)) for x, y in s.batches]
    return _training_runner(tg, model, params, transposed, s, batches, xent, jit)


def _max_pool2(tg):
    for path in ("nn.functional.max_pool2d", "max_pool2d"):
        fn = _resolve(tg, path)
        if fn is not _MISSING:
            return lambda x: fn(x, 2)
    cls = _resolve(tg, "nn.MaxPool2d")
    if cls is not _MISSING:
        return cls(2)
    raise Unavailable("tinygrad_edu lacks tg.nn.functional.max_pool2d and tg.nn.MaxPool2d")


def w4(s, jit: bool = False) -> Runner:
    tg = _tg()
    (tensor, conv, linear, xent, *_) = _require(
        tg,
        "Tensor",
        "nn.Conv2d",
        "nn.Linear",
        "nn.functional.cross_entropy",
        *_TENSOR_OPS,
        "Tensor.relu",
        "Tensor.reshape",
    )
    pool = _max_pool2(tg)
    (c1, c2), k = s.channels, s.kernel
    flat = c2 * s.flat_hw[0] * s.flat_hw[1]
    conv1, conv2 = conv(s.in_channels, c1, k), conv(c1, c2, k)
    fc = linear(flat, s.classes)
    params = [conv1.weight, conv1.bias, conv2.weight, conv2.bias, fc.weight, fc.bias]
    transposed = [False] * 4 + [_linear_is_transposed(linear), False]
    for p, a, t in zip(params, s.params, transposed, strict=True):
        _load(p, a, t)

    def model(x):
        h = pool(conv1(x).relu())
        h = pool(conv2(h).relu())
        return fc(h.reshape(s.batch, flat))

    batches = [(tensor(x), tensor(y)) for x, y in s.batches]
    return _training_runner(tg, model, params, transposed, s, batches, xent, jit)


def w5(s) -> Runner:
    """A chain of s.nodes elementwise ops on a 1-element tensor, then backward."""
    tg = _tg()
    (tensor, *_) = _require(tg, *_TENSOR_OPS)
    two, one, half = (tensor(np.array([v], np.float32)) for v in (2.0, 1.0, 0.5))
    x0 = np.ones(1, np.float32)
    last: dict[str, np.ndarray] = {}

    def step() -> None:
        x = tensor(x0.copy(), requires_grad=True)
        y = x
        for _ in range(s.nodes // 4):  # y → 2y → 2y+1 → y+0.5 → y: exact in float32
            y = y * two
            y = y + one
            y = y * half
            y = y - half
        y.sum().backward()
        last["grad"], last["y"] = np.array(x.grad.data), np.array(y.data)

    return Runner(step, lambda: [last["grad"], last["y"]])


def gradcheck_fn():
    """tinygrad_edu's gradcheck if it exists and takes ``fast_mode``; else Unavailable."""
    tg = _tg()
    (fn,) = _require(tg, "gradcheck.gradcheck")
    try:
        has_fast = "fast_mode" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        has_fast = False
    if not has_fast:
        raise Unavailable("tinygrad_edu.gradcheck.gradcheck has no fast_mode argument")
    return fn


def w6(s, fast_mode: bool) -> Runner:
    tg = _tg()
    gradcheck = gradcheck_fn()
    (tensor, *_) = _require(tg, *_TENSOR_OPS, "Tensor.tanh")
    params = [tensor(p.copy(), requires_grad=True) for p in s.params]
    x, y = tensor(s.x), tensor(s.y)

    def loss(*ps):
        h = x
        for i in range(0, len(ps), 2):
            h = h @ ps[i] + ps[i + 1]
            if i + 2 < len(ps):
                h = h.tanh()
        return ((h - y) ** 2).mean()

    def step() -> None:
        if not gradcheck(loss, params, fast_mode=fast_mode):
            raise AssertionError("tinygrad_edu gradcheck failed")

    return Runner(step, lambda: [])
