"""Homework submissions as students write them, for the ``tinygrad-edu check`` tests: the
seeds' hand-written nets (seed 000's 2-2-1 net with each of its author's mistakes, seed 002's
question v1 and v2, and its answer as a notebook), and small files that misbehave."""

from __future__ import annotations

import json

# ----------------------------------------------------------------------------- seed 000
# The author's training step, turned into loss/grads the way a course asks for it: grads
# returns (old - new) / lr. Every one of the author's mistakes is here, marked.
SEED000_AS_WRITTEN = '''\
# Seed 000: a 2-2-1 sigmoid net learns to multiply two numbers
import numpy as np

lr = 0.5
x = np.array([0.5, 0.5])
y = 0.25
params = {"w11": 0.45, "w12": 0.28, "w21": 0.36, "w22": 0.75, "w13": 0.14, "w23": 0.40}


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def r3(v):
    return float("%.3f" % v)


def forward(p, x):
    h1 = sigmoid(p["w11"] * x[0] + p["w21"] * x[1])
    h2 = sigmoid(p["w12"] * x[0] + p["w22"] * x[1])
    out = sigmoid(p["w12"] * h1 + p["w13"] * h2)
    return h1, h2, out


def loss(p, x, y):
    return 0.5 * (y - forward(p, x)[2]) ** 2


def update(p, x, y):
    """One step of my training loop: the new weights."""
    h1, h2, out = forward(p, x)
    out = r3(out)
    err = r3(y - out)
    delta_o = err * out * (1 - out)
    new = dict(p)
    new["w13"] = r3(p["w13"] - lr * h1 * delta_o)
    new["w23"] = r3(p["w23"] - lr * h2 * delta_o)
    delta_h1 = new["w13"] * delta_o * h1 * (1 - h1)
    delta_h2 = new["w23"] * delta_o * h2 * (1 - h2)
    new["w11"] = r3(p["w11"] - lr * x[0] * delta_h1)
    new["w21"] = r3(p["w21"] - lr * x[1] * delta_h1)
    new["w12"] = r3(p["w12"] - lr * x[0] * delta_h2)
    new["w22"] = r3(p["w22"] - lr * x[1] * delta_h2)
    return new


def grads(p, x, y):
    new = update(p, x, y)
    return {name: (p[name] - new[name]) / lr for name in p}
'''

# each mistake: (the line as written, the line corrected)
SEED000_FIXES = {
    "rounding": [('    return float("%.3f" % v)', "    return v")],
    "wrong_weights": [('sigmoid(p["w12"] * h1 + p["w13"] * h2)',
                       'sigmoid(p["w13"] * h1 + p["w23"] * h2)')],
    "sign": [("err = r3(y - out)", "err = r3(out - y)")],
    "stale_weights": [('new["w13"] * delta_o', 'p["w13"] * delta_o'),
                      ('new["w23"] * delta_o', 'p["w23"] * delta_o')],
}


def seed000(keep: set[str]) -> str:
    """Seed 000's file with only the mistakes in ``keep`` (the others corrected)."""
    source = SEED000_AS_WRITTEN
    for mistake, fixes in SEED000_FIXES.items():
        if mistake not in keep:
            for bug, fix in fixes:
                assert bug in source, bug
                source = source.replace(bug, fix)
    return source


# ----------------------------------------------------------------------------- seed 002
SEED002_V1 = '''\
# Seed 002, question v1: tanh on every layer, no biases, one sample per step
import numpy as np

rate = 0.1
neurons = [1, 6, 1]
rng = np.random.default_rng(0)
params = {f"W{l}": rng.normal(scale=1 / np.sqrt(neurons[l]), size=(neurons[l], neurons[l + 1]))
          for l in range(len(neurons) - 1)}
x = np.array([0.7])
y = np.tanh(np.sin(x))


def feedforward(p, x):
    inputs, outputs = [x], []
    for layer in range(len(neurons) - 1):
        outputs.append(np.tanh(inputs[layer]))
        inputs.append(np.dot(p[f"W{layer}"].T, outputs[layer]))
    outputs.append(np.tanh(inputs[-1]))
    return outputs


def loss(p, x, y):
    return 0.5 * np.sum((feedforward(p, x)[-1] - y) ** 2)


def grads(p, x, y):
    outputs = feedforward(p, x)
    errors = [None] * len(outputs)
    errors[-1] = (1 - outputs[-1] * outputs[-1]) * (outputs[-1] - y)
    for layer in reversed(range(len(outputs) - 1)):
        gradient = 1 - outputs[layer] * outputs[layer]
        errors[layer] = gradient * np.dot(p[f"W{layer}"], errors[layer + 1])
    return {f"W{l}": np.outer(outputs[l], errors[l + 1]) for l in range(len(neurons) - 1)}
'''

SEED002_V2 = '''\
# Seed 002, question v2: biases ("offsets") and a linear output
import numpy as np

rate = 0.01
neurons = [1, 5, 1]
rng = np.random.default_rng(1)
params = {}
for l in range(len(neurons) - 1):
    params[f"W{l}"] = rng.normal(scale=1 / np.sqrt(neurons[l]), size=(neurons[l], neurons[l + 1]))
    params[f"b{l}"] = rng.normal(scale=1 / np.sqrt(neurons[l]), size=neurons[l + 1])
x = np.array([1.3])
y = np.sin(x)


def feedforward(p, x):
    inputs, outputs = [x], []
    for layer in range(len(neurons) - 1):
        outputs.append(np.tanh(inputs[layer]))
        inputs.append(p[f"b{layer}"] + np.dot(p[f"W{layer}"].T, outputs[layer]))
    return inputs, outputs


def loss(p, x, y):
    inputs, _ = feedforward(p, x)
    return 0.5 * np.sum((inputs[-1] - y) ** 2)


def grads(p, x, y):
    inputs, outputs = feedforward(p, x)
    errors = [None] * len(inputs)
    errors[-1] = inputs[-1] - y
    for layer in reversed(range(len(inputs) - 1)):
        gradient = 1 - outputs[layer] * outputs[layer]
        errors[layer] = gradient * np.dot(p[f"W{layer}"], errors[layer + 1])
    g = {}
    for l in range(len(neurons) - 1):
        g[f"W{l}"] = np.outer(outputs[l], errors[l + 1])
        g[f"b{l}"] = errors[l + 1]
    return g
'''

# The answer's vectorised net with a bias column, as a notebook: markdown, a magic line, a
# shell line, a %%time cell (its body runs: it defines x and y), a %%bash cell (skipped) and
# old outputs.
SEED002_ANSWER_CELLS = [
    ("markdown", "# The sine, offline, with a [1, 6, 1] sigmoid net\n"),
    ("code", "%matplotlib inline\n!pip install numpy\nimport numpy as np\nimport math\n"),
    ("code", '''\
L = 3  # layers


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def feedforward(p, X):
    m = X.shape[0]
    outputs = [np.concatenate((np.ones([m, 1]), X), axis=1)]
    for i in range(1, L):
        h = sigmoid(np.dot(outputs[i - 1], p[f"W{i - 1}"].T))
        outputs.append(np.concatenate((np.ones([m, 1]), h), axis=1) if i < L - 1 else h)
    return outputs


def loss(p, X, Y):
    H = feedforward(p, X)[-1]
    return np.sum((Y - H) ** 2) / (2 * X.shape[0])


def grads(p, X, Y):
    m = X.shape[0]
    outputs = feedforward(p, X)
    errors = [None] * L
    errors[L - 1] = outputs[L - 1] - Y
    for i in range(L - 2, 0, -1):
        a = outputs[i][:, 1:]
        errors[i] = np.dot(errors[i + 1], p[f"W{i}"][:, 1:]) * a * (1 - a)
    return {f"W{i}": np.dot(errors[i + 1].T, outputs[i]) / m for i in range(L - 1)}
'''),
    ("code", '''\
m, kx = 12, 0.1
rng = np.random.default_rng(2)
X = np.linspace(0, 4 * math.pi, num=m).reshape(m, 1)
Y = np.sin(X) + (2.0 * rng.uniform(0, kx, m) - kx).reshape(m, 1)
Y_scaled = (Y / (1 + kx) + 1) / 2.0
params = {"W0": rng.uniform(-0.12, 0.12, size=(6, 2)), "W1": rng.uniform(-0.12, 0.12, size=(1, 7))}
'''),
    ("code", "%%time\nx, y = X, Y_scaled\nJ = loss(params, x, y)\n"),
    ("code", "%%bash\necho this cell is shell, not Python\n"),
]


def notebook(cells: list[tuple[str, str]]) -> str:
    """An nbformat-4 notebook with these (cell type, source) cells, outputs included."""
    out = []
    for kind, source in cells:
        cell = {"cell_type": kind, "metadata": {}, "source": source.splitlines(True)}
        if kind == "code":
            cell.update(execution_count=1, outputs=[
                {"name": "stdout", "output_type": "stream", "text": ["an old output\n"]}])
        out.append(cell)
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": out},
                      indent=1)


# ----------------------------------------------------------------------------- small files
TWO_LAYER = '''\
import numpy as np

rng = np.random.default_rng(0)
params = {"W1": rng.normal(size=(3, 4)), "b1": np.zeros(4), "W2": rng.normal(size=(4, 1))}
x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
print("training my net...")


def loss(p, x, y):
    h = np.tanh(x @ p["W1"] + p["b1"])
    return ((h @ p["W2"] - y) ** 2).sum() / (2 * len(x))


def grads(p, x, y):
    h = np.tanh(x @ p["W1"] + p["b1"])
    d_out = (h @ p["W2"] - y) / len(x)
    d_h = (d_out @ p["W2"].T) * (1 - h ** 2)
    return {"W1": x.T @ d_h, "b1": d_h.sum(0), "W2": h.T @ d_out}
'''
SIGN_FLIPPED = TWO_LAYER.replace('"W2": h.T @ d_out', '"W2": -(h.T @ d_out)')
SYNTAX_ERROR = TWO_LAYER.replace("def grads(p, x, y):", "def grads(p, x, y)")
LOOPS_FOREVER = TWO_LAYER + "\nsteps = 0\nwhile True:\n    steps += 1\n"
ALLOCATES_10GB = TWO_LAYER + "\nhistory = np.zeros((10 * 1024**3) // 8)\n"
CALLS_SYS_EXIT = TWO_LAYER.replace('print("training my net...")',
                                   'import sys\nprint("done")\nsys.exit(0)')
RAISES_IN_GRADS = TWO_LAYER.replace('    d_out = (h @ p["W2"] - y) / len(x)',
                                    '    d_out = (h @ p["W2"] - y) / len(xs)')
