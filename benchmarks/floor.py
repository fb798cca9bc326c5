"""W1's floor for an eager engine that runs the library's own rules: the rules' ``forward``
and ``backward`` called directly on arrays with their Context objects (no Tensors, no graph,
no engine, no checks) plus the two SGD updates, timed against the hand-written numpy step and
the real eager step in one process, alternating.

    python -m benchmarks.floor

What the rules alone cost is what no engine can go below; the difference to the eager step
is the framework's share (see benchmarks/README.md, "Issue 16's fifth round").
"""

from __future__ import annotations

import timeit

import numpy as np

from benchmarks.harness import Runner
from benchmarks.run import single_threaded
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


def main(rounds: int = 4) -> None:
    w = WORKLOADS["W1"]
    s = w.setup(False)
    steps = {"numpy": w.impls["numpy"](s).step, "rules only": rules_only(s).step,
             "eager": w.impls["tinygrad_edu"](s).step}
    stack, _ = single_threaded()
    with stack:
        for _ in range(rounds):
            us = {k: min(timeit.repeat(f, number=1000, repeat=7)) / 1000 * 1e6
                  for k, f in steps.items()}
            print("  ".join(f"{k} {v:.1f} µs" for k, v in us.items()),
                  f"| rules only / numpy {us['rules only'] / us['numpy']:.3f}",
                  f"| eager / numpy {us['eager'] / us['numpy']:.3f}")


if __name__ == "__main__":
    main()
