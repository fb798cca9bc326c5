"""``viz.draw_numpy``: the graph of a loss written in plain numpy, with the parameters named
after the learner's own keys."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import LostGradientError, numpy_grad
from tinygrad_edu.viz import draw_numpy

from .test_viz import find, parse


def _nodes(drawing):
    return parse(drawing.to_dot())[0]


def _param_names(nodes):
    return sorted(a["lines"][0] for a in nodes.values() if a.get("fillcolor") == "lightblue")


def two_layer_loss(p, x, y):
    h = np.maximum(0, x @ p["W1"] + p["b1"])
    return ((h @ p["W2"] + p["b2"] - y) ** 2).mean()


def _two_layer():
    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(3, 4)), "b1": np.zeros(4),
              "W2": rng.normal(size=(4, 1)), "b2": np.zeros(1)}
    return params, rng.normal(size=(5, 3)), rng.normal(size=(5, 1))


def test_parameters_are_named_after_the_dicts_keys() -> None:
    params, x, y = _two_layer()
    nodes = _nodes(draw_numpy(two_layer_loss, params, x, y))
    assert _param_names(nodes) == ["W1", "W2", "b1", "b2"]
    assert nodes[find(nodes, "W1")]["lines"][1] == "(3, 4) float64"


def test_nested_dicts_lists_and_a_single_array_are_named_by_path() -> None:
    def nested(p):
        return (p["layer1"]["W"].sum() + p["layer1"]["b"].sum()) * p["scale"][1] ** p["scale"][0]

    p = {"layer1": {"W": np.ones((2, 2)), "b": np.ones(2)}, "scale": [1.0, 2.0], "unused": 0.0}
    nodes = _nodes(draw_numpy(nested, p))
    assert _param_names(nodes) == ["layer1.W", "layer1.b", "scale[0]", "scale[1]"]
    assert nodes[find(nodes, "unused")]["lines"][-1] == "not in graph"

    def cost(theta, x):
        return np.sum((x @ theta) ** 2)

    assert _param_names(_nodes(draw_numpy(cost, np.ones(2), np.ones((3, 2))))) == ["theta"]
    assert _param_names(_nodes(draw_numpy(cost, np.ones(2), np.ones((3, 2)), argnum=1))) == [
        "x"]


def test_show_grads_runs_backward_and_shows_each_parameters_gradient() -> None:
    def loss(w, x):
        return np.sum(w * x)  # d/dw = x

    d = draw_numpy(loss, np.zeros(3), np.array([1.0, 2.0, 3.0]), show_grads=True)
    nodes = _nodes(d)
    assert nodes[find(nodes, "w")]["lines"][2] == "grad [1., 2., 3.]"
    params, x, y = _two_layer()
    expected = numpy_grad(two_layer_loss)(params, x, y)
    nodes = _nodes(draw_numpy(two_layer_loss, params, x, y, show_grads=True))
    shown = nodes[find(nodes, "b2")]["lines"][2]
    assert shown.startswith("grad [") and float(shown[6:-1]) == pytest.approx(
        expected["b2"][0], rel=1e-4)
    # the graph was kept: the explorer page steps through backward
    assert draw_numpy(two_layer_loss, params, x, y, show_grads=True).explorer().steps


def test_the_learners_arrays_are_not_changed_by_in_place_code() -> None:
    def loss(p):
        z = p["W"] * 2
        z += 1
        return (z * p["W"]).sum()

    params = {"W": np.ones((2, 2))}
    nodes = _nodes(draw_numpy(loss, params, show_grads=True))
    assert params["W"].tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert "+= (in place)" in [a["lines"][0] for a in nodes.values()]


def test_a_function_that_does_not_use_its_argument_is_told_so() -> None:
    with pytest.raises(TypeError, match="draw_numpy: the function returned float.*argument 0"):
        draw_numpy(lambda w: 3.0, np.ones(2))


def test_show_grads_needs_a_single_number() -> None:
    with pytest.raises(ValueError, match=r"draw_numpy: show_grads=True .* shape \(2,\)"):
        draw_numpy(lambda w: w * 2, np.ones(2), show_grads=True)
    assert len(_nodes(draw_numpy(lambda w: w * 2, np.ones(2)))) == 3  # fine without grads


def test_a_conversion_that_loses_the_gradient_is_named() -> None:
    import math

    with pytest.raises(LostGradientError, match="math.exp"):
        draw_numpy(lambda w: np.sum(w) * math.exp(w[0]), np.ones(2))
