"""W1's floor for an eager engine that runs the library's own rules, timed against the
hand-written numpy step and the real eager step in one process, alternating:

* **rules only**: the rules' ``forward`` and ``backward`` called directly on arrays with their
  Context objects (no Tensors, no graph, no engine, no checks) plus the two SGD updates;
* **bare engine**: the least a per-op eager engine does on top of that, and nothing more: one
  slotted object per result, a creation-order tape, backward walking the tape in reverse and
  routing gradients by id, ``p -= lr * grad``. No hooks, version checks, grad mode, anomaly
  mode, tracer, unbroadcasting, dtype casts or error messages.

    python -m benchmarks.floor

What the rules alone cost is what no engine can go below; the bare engine is what the
issue's item 1 (a single-object plain-mode node) could reach with every feature free (see
benchmarks/README.md, "Issue 16's fifth round" and "sixth round").
"""

from __future__ import annotations

import timeit

import numpy as np

from benchmarks.harness import Runner
from benchmarks.run import single_threaded, steady_allocator
from benchmarks.workloads import WORKLOADS
from tinygrad_edu.nn._functions import MSELoss
from tinygrad_edu.ops.elementwise import Div, Sigmoid
from tinygrad_edu.ops.linalg import MatMul
from tinygrad_edu.ops.movement import Concatenate


def rules_only(s) -> Runner:
    """W1's step as the rules alone: the eager step's numpy calls and nothing else."""
    w_hidden, w_out = s.params[0].T.copy(), s.params[1].T.copy()
    a0, y, m = s.a0, s.Y, s.m
    ones = np.ones((m, 1), np.float32)
    lr = np.float32(s.lr)

    def node(cls, needs):
        ctx = cls._backward_cls()
        ctx.needs_input_grad = needs
        return ctx

    def step() -> None:
        c0 = node(MatMul, (False, True))
        c1 = node(Sigmoid, (True,))
        c2 = node(Concatenate, (False, True))
        c3 = node(MatMul, (True, True))
        c4 = node(Sigmoid, (True,))
        c5 = node(MSELoss, (True, False))
        c6 = node(Div, (True, False))
        a1 = Sigmoid.forward(c1, MatMul.forward(c0, a0, w_hidden))
        joined = Concatenate.forward(c2, ones, a1, axis=1)
        h = Sigmoid.forward(c4, MatMul.forward(c3, joined, w_out))
        Div.forward(c6, np.asarray(MSELoss.forward(c5, h, y, reduction="sum")), 2 * m)
        g = MSELoss.backward(c5, Div.backward(c6, np.ones((), np.float32))[0])[0]
        g_joined, g_out = MatMul.backward(c3, Sigmoid.backward(c4, g))
        g = Sigmoid.backward(c1, Concatenate.backward(c2, g_joined)[1])
        g_hidden = MatMul.backward(c0, g)[1]
        w_hidden.__isub__(g_hidden * lr)
        w_out.__isub__(g_out * lr)

    return Runner(step, lambda: [w_hidden.T.copy(), w_out.T.copy()])


class _Value:
    """The bare engine's tensor: an array, whether it needs a gradient, and its tape entry."""

    __slots__ = ("data", "requires_grad")

    def __init__(self, data: np.ndarray, requires_grad: bool = False) -> None:
        self.data = data
        self.requires_grad = requires_grad


class BareEngine:
    """A per-op eager engine with no features: the cheapest way to run the library's rules
    as an autograd engine in Python (one object per result, a tape, a reverse walk)."""

    def __init__(self) -> None:
        self.tape: list = []

    def __call__(self, cls, a, b=None, **options) -> _Value:
        """``cls.apply(a[, b], **options)``: forward on the arrays, one tape entry (one and
        two inputs, unrolled, as ``Function.apply`` does; a ``b`` of None is no input)."""
        ctx = cls._backward_cls()
        ctx.saved = ()
        if type(a) is _Value:
            ra, a_ = a.requires_grad, a.data
        else:
            ra, a_ = False, a
        if b is None:
            ctx.needs_input_grad = (ra,)
            out = cls.forward(ctx, a_, **options) if options else cls.forward(ctx, a_)
            parents = (a,)
        else:
            if type(b) is _Value:
                rb, b_ = b.requires_grad, b.data
            else:
                rb, b_ = False, b
            ctx.needs_input_grad = (ra, rb)
            out = cls.forward(ctx, a_, b_, **options) if options else cls.forward(ctx, a_, b_)
            parents = (a, b)
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        t = _Value(out, True)
        self.tape.append((t, cls.backward, ctx, parents))
        return t

    def backward(self, root: _Value) -> dict[int, np.ndarray]:
        """The gradients of everything on the tape that ``root`` depends on, by id."""
        grads = {id(root): np.ones((), root.data.dtype)}
        pop, get = grads.pop, grads.get
        for t, rule, ctx, parents in reversed(self.tape):
            g = pop(id(t), None)
            if g is None:
                continue
            in_grads = rule(ctx, g)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            for p, need, gp in zip(parents, ctx.needs_input_grad, in_grads):
                if need and gp is not None:
                    prev = get(id(p))
                    grads[id(p)] = gp if prev is None else prev + gp
        self.tape.clear()
        return grads


def bare_engine(s) -> Runner:
    """W1's eager step on :class:`BareEngine`: the same rules, options and updates as the
    eager runner, through the least engine there can be."""
    op = BareEngine()
    w_hidden = _Value(s.params[0].T.copy(), True)
    w_out = _Value(s.params[1].T.copy(), True)
    a0, y, m = _Value(s.a0), _Value(s.Y), s.m
    ones = _Value(np.ones((m, 1), np.float32))
    lr = np.float32(s.lr)
    params = (w_hidden, w_out)

    def step() -> None:
        a1 = op(Sigmoid, op(MatMul, a0, w_hidden))
        h = op(Sigmoid, op(MatMul, op(Concatenate, ones, a1, axis=1), w_out))
        loss = op(Div, op(MSELoss, h, y, reduction="sum"), 2 * m)
        grads = op.backward(loss)
        for p in params:
            p.data -= grads[id(p)] * lr

    return Runner(step, lambda: [w_hidden.data.T.copy(), w_out.data.T.copy()])


def main(rounds: int = 4) -> None:
    w = WORKLOADS["W1"]
    s = w.setup(False)
    steps = {"numpy": w.impls["numpy"](s).step, "rules only": rules_only(s).step,
             "bare engine": bare_engine(s).step, "eager": w.impls["tinygrad_edu"](s).step}
    stack, _ = single_threaded()
    steady_allocator()
    with stack:
        for _ in range(rounds):
            us = {k: min(timeit.repeat(f, number=1000, repeat=7)) / 1000 * 1e6
                  for k, f in steps.items()}
            print("  ".join(f"{k} {v:.1f} µs" for k, v in us.items()), "| / numpy:",
                  "  ".join(f"{k} {v / us['numpy']:.3f}" for k, v in us.items()
                            if k != "numpy"))


if __name__ == "__main__":
    main()
