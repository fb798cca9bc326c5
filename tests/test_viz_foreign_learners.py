"""Graphs as tutorials and learners draw them: a micrograd-style neuron drawn after
backward to read its gradients, a small CNN classifier, a training step that detaches and
uses no_grad, retain_grad on a hidden layer, float64/int/non-finite values, and a long
recurrent loop that must be cut down rather than hang."""

import subprocess
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F
from tinygrad_edu.viz import draw_graph

from .test_viz import find, parse


def renders(drawing):
    run = subprocess.run(["dot", "-Tsvg"], input=drawing.to_dot().encode(),
                         capture_output=True, check=False)
    return run.returncode == 0 and not run.stderr and b"<svg" in run.stdout


def test_neuron_drawn_after_backward_shows_each_gradient():
    x1, x2 = tg.tensor(2.0, requires_grad=True), tg.tensor(0.0, requires_grad=True)
    w1, w2 = tg.tensor(-3.0, requires_grad=True), tg.tensor(1.0, requires_grad=True)
    b = tg.tensor(6.8813735870195432, requires_grad=True)
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    o.backward()
    grads = {k: t.grad.item() for k, t in dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b).items()}
    nodes, edges = parse(draw_graph(o, dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b),
                                    show_values=True, show_grads=True).to_dot())
    for name, g in grads.items():
        shown = [line for line in nodes[find(nodes, name)]["lines"] if line.startswith("grad ")]
        assert float(shown[0].split()[1]) == pytest.approx(g, rel=1e-3), (name, shown)
    assert nodes[find(nodes, "w2")]["lines"][-1] == "grad all zero"  # x2 = 0: w2 learns nothing
    assert len(edges) == len(nodes) - 1
    for t in (x1, w1, b):  # drawing after backward changed no gradient
        assert t.grad.item() == grads[{id(x1): "x1", id(w1): "w1", id(b): "b"}[id(t)]]


def test_cnn_classifier_graph_renders_with_layer_names():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 10))
    loss = F.cross_entropy(model(tg.randn(2, 1, 8, 8)), tg.tensor([3, 7]))
    d = draw_graph(loss, model)
    nodes, _ = parse(d.to_dot())
    assert nodes[find(nodes, "0.weight")]["lines"][1] == "(4, 1, 3, 3) float32"
    assert nodes[find(nodes, "4.weight")]["lines"][1] == "(10, 64) float32"
    assert renders(d) and renders(draw_graph(loss, model, collapse_modules=True))


def test_detach_no_grad_and_retain_grad_in_a_training_step():
    tg.manual_seed(1)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    x = tg.randn(5, 3)
    hidden = net[1](net[0](x))
    hidden.retain_grad()
    with tg.no_grad():
        baseline = net(x)  # no graph: drawn, if at all, as a constant
    target = hidden.detach().sum(axis=1, keepdims=True)
    loss = ((net[2](hidden) - target - baseline) ** 2).mean()
    loss.backward()
    d = draw_graph(loss, net, show_grads=True)
    nodes, edges = parse(d.to_dot())
    consts = [k for k, a in nodes.items() if a["lines"][0] == "const"]
    assert len(consts) == 3  # x, the detached target, the no_grad baseline: leaves
    assert not any(dst in consts for _, dst, _ in edges)  # nothing flows into a constant
    tanh = nodes[find(nodes, "Tanh")]
    assert any(line.startswith("grad") for line in tanh["lines"])  # retain_grad's .grad
    assert renders(d)


def test_dtypes_and_non_finite_values():
    a = tg.tensor([1.0, 0.0], dtype=tg.float64, requires_grad=True)
    counts = tg.tensor([1, 2])
    with np.errstate(divide="ignore"):
        y = (a.log() * counts).sum()
    nodes, _ = parse(draw_graph(y, {"a": a}, show_values=True).to_dot())
    assert nodes[find(nodes, "a")]["lines"][1] == "(2,) float64"
    log = nodes[find(nodes, "Log")]
    assert log["lines"][1] == "(2,) float64" and "nan appears here" in log["lines"]
    assert log["color"] == "red"
    assert nodes[find(nodes, "const")]["lines"][1] == "(2,) int64"


def test_long_recurrent_loop_is_cut_down_with_a_warning():
    cell = nn.Linear(2, 2)
    h = tg.zeros(1, 2)
    for _ in range(1000):
        h = cell(h).tanh()
    with pytest.warns(UserWarning, match="more than max_nodes=200"):
        d = draw_graph(h.sum(), cell)
    assert d.num_nodes <= 201 and d.total_nodes > 2000
    assert renders(d)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = draw_graph(h.sum(), cell, max_nodes=None)
    assert full.num_nodes == full.total_nodes == d.total_nodes
