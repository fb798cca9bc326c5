"""(c) A micrograd-style engine: one Python object per scalar, a closure per op (W2 only).

A reference point for the cost of a graph of Python scalars. Arithmetic is in Python floats
(float64): float32 does not exist at this level.
"""

from __future__ import annotations

import math

import numpy as np

from benchmarks.harness import Runner


class Value:
    __slots__ = ("_back", "_prev", "data", "grad")

    def __init__(self, data: float, prev: tuple = ()):
        self.data, self.grad, self._prev, self._back = data, 0.0, prev, None

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def back():
            self.grad += out.grad
            other.grad += out.grad

        out._back = back
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def back():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._back = back
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,))

        def back():
            if out.data > 0:
                self.grad += out.grad

        out._back = back
        return out

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    __radd__ = __add__
    __rmul__ = __mul__

    def backward(self) -> None:
        """Iterative topological order (no recursion), then the closures in reverse."""
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif node not in seen:
                seen.add(node)
                stack.append((node, True))
                stack.extend((p, False) for p in node._prev)
        self.grad = 1.0
        for node in reversed(order):
            if node._back is not None:
                node._back()


def w2(s) -> Runner:
    """The W2 net: layers of Values, MSE over the batch, Adam or SGD on Python floats."""
    layers = []  # [(W as rows of Values, b as Values)], W (out, in) like the canonical layout
    for i in range(0, len(s.params), 2):
        w, b = s.params[i], s.params[i + 1]
        layers.append(([[Value(float(v)) for v in row] for row in w], [Value(float(v)) for v in b]))
    flat = [v for w, b in layers for v in [*(u for row in w for u in row), *b]]
    batches = [(x.tolist(), y[:, 0].tolist()) for x, y in s.batches]
    spec = s.optimizer
    m, v = [0.0] * len(flat), [0.0] * len(flat)
    state = {"i": 0, "t": 0}

    def forward(xs: list[float]) -> Value:
        h = xs
        for w, b in layers:
            h = [
                sum((wi * hi for wi, hi in zip(row, h, strict=True)), bo).relu()
                for row, bo in zip(w, b, strict=True)
            ]
        return h[0]

    def step() -> None:
        xb, yb = batches[state["i"] % len(batches)]
        state["i"] += 1
        loss = Value(0.0)
        for xs, target in zip(xb, yb, strict=True):
            r = forward(xs) - target
            loss = loss + r * r
        loss = loss * (1.0 / len(yb))
        for p in flat:
            p.grad = 0.0
        loss.backward()
        lr = spec["lr"]
        if spec["kind"] == "sgd":
            for p in flat:
                p.data -= lr * p.grad
            return
        b1, b2 = spec["betas"]
        state["t"] += 1
        step_size = lr / (1.0 - b1 ** state["t"])
        sqrt_bc2 = math.sqrt(1.0 - b2 ** state["t"])
        for j, p in enumerate(flat):
            m[j] = b1 * m[j] + (1.0 - b1) * p.grad
            v[j] = b2 * v[j] + (1.0 - b2) * p.grad * p.grad
            p.data -= step_size * m[j] / (math.sqrt(v[j]) / sqrt_bc2 + spec["eps"])

    def params() -> list[np.ndarray]:
        out = []
        for w, b in layers:
            out.append(np.array([[u.data for u in row] for row in w]))
            out.append(np.array([u.data for u in b]))
        return out

    return Runner(step, params)
