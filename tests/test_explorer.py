"""The explorer page's content, without a browser: the replayed backward pass (its order, its
numbers against the engine's ``.grad``), the rule table, collapsed views, freed and
modified graphs, the page being self-contained. The page in a real browser:
tests/test_explorer_browser.py."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.autograd.engine import topological_order
from tinygrad_edu.viz import draw_graph
from tinygrad_edu.viz.replay import lines, trace
from tinygrad_edu.viz.rules import RULES, rule_for


class Cube(tg.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        """3x² times the incoming gradient."""
        (x,) = ctx.saved_tensors
        return g * 3 * x**2


def page_data(page: str) -> dict:
    text = page.split('<script type="application/json" id="explorer-data">', 1)[1]
    return json.loads(text.split("</script>", 1)[0])


def mlp_loss():
    tg.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    loss = nn.functional.mse_loss(mlp(tg.randn(4, 2)), tg.randn(4, 1))
    return mlp, loss


# ------------------------------------------------------------------ the replayed numbers
shapes = st.sampled_from([((3,), (3,)), ((2, 3), (3,)), ((2, 3), (1, 3)), ((2, 3), (2, 1)),
                          ((4, 1), (1, 2)), ((), (2,))])


@given(shapes=shapes, data=st.data())
def test_replayed_gradients_are_the_engines_for_broadcasts_reuse_and_user_functions(
        shapes, data) -> None:
    """a and b are each used twice, broadcast against each other, and go through a user
    Function: each leaf's shown gradient is what backward() puts in .grad."""
    values = [data.draw(st.lists(st.floats(-1.5, 1.5), min_size=int(np.prod(s)),
                                 max_size=int(np.prod(s)))) for s in shapes]
    a, b = (tg.tensor(np.reshape(v, s), requires_grad=True) for v, s in zip(values, shapes))
    loss = (Cube.apply(a * b + a).tanh() * b).sum()
    loss.backward(retain_graph=True)
    t = trace(draw_graph(loss, {"a": a, "b": b})._layout)
    rows = {leaf.name: leaf for leaf in t.leaves}
    for name, p in (("a", a), ("b", b)):
        assert rows[name].check == "= .grad ✓", rows[name]
        assert rows[name].lines == lines(p.grad)
    # each leaf's contributions add up, shown as a running sum ending at its gradient
    for name, p in (("a", a), ("b", b)):
        contributions = [s for step in t.steps for s in step.sections
                         if step.phase == "backward" and s.label.startswith("→")
                         and s.label.endswith(f"= {name}")]
        assert len(contributions) == 2
        assert contributions[0].note.startswith("contribution 1 of 2")
        assert contributions[1].note == "contribution 2 of 2; the sum:"
        assert contributions[1].sum == lines(p.grad)
    assert not t.notice


def test_backward_steps_follow_the_engines_order_and_forward_the_topological_one() -> None:
    mlp, loss = mlp_loss()
    order = topological_order([loss])
    d = draw_graph(loss, mlp)
    t = trace(d._layout)
    forward = [s for s in t.steps if s.phase == "forward"]
    backward = [s for s in t.steps if s.phase == "backward"]
    assert [s.node for s in backward] == [str(id(loss))] + [d.node_id(x) for x in
                                                           reversed(order)]
    seen = set()
    base = d._layout.walk()
    preds = base.predecessors()
    for s in forward:  # every node after the nodes it takes
        assert set(preds[s.node]) <= seen, s.head
        seen.add(s.node)
    assert seen == set(base.nodes)
    assert forward[-1].head == "output ()"
    assert backward[0].head == "output: the seed" and "∂L/∂L = 1" in backward[0].rule[0]
    assert backward[1].head == "MSELoss" and backward[1].rule == [RULES["MSELoss"].backward]


def test_a_linear_step_shows_the_rule_incoming_gradient_and_each_inputs_share() -> None:
    mlp, loss = mlp_loss()
    t = trace(draw_graph(loss, mlp)._layout)
    linear = next(s for s in t.steps if s.phase == "backward" and s.head == "Linear")
    labels = [s.label for s in linear.sections]
    assert labels == ["∂L/∂out (the incoming gradient)", "→ x = the output of Relu",
                      "→ W = 2.weight", "→ b = 2.bias"]
    assert linear.rule == ["x gets g @ W, W gets gᵀ @ x, b gets g summed over the rows"]
    loss.backward()
    assert linear.sections[2].lines == lines(mlp[2].weight.grad)
    assert linear.sections[3].lines == lines(mlp[2].bias.grad)
    # a squared error written out squares (Sub output)·(Sub output): the Sub's gradient is
    # two contributions
    x = tg.tensor([[0.5, -1.0]], requires_grad=True)
    d = x - 1.0
    squared = trace(draw_graph((d * d).mean())._layout)
    sub = next(s for s in squared.steps if s.phase == "backward" and s.head.startswith("Sub"))
    assert sub.sections[0].label.endswith("the sum of 2 contributions")


def test_before_backward_the_page_says_what_backward_will_put_in_grad() -> None:
    mlp, loss = mlp_loss()
    t = trace(draw_graph(loss, mlp)._layout)
    assert [leaf.name for leaf in t.leaves] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(leaf.check.startswith("backward() will put this in .grad") for leaf in t.leaves)
    assert all(p.grad is None for p in mlp.parameters())  # the replay accumulates nothing
    loss.backward()
    for leaf, p in zip(t.leaves, mlp.parameters()):
        assert leaf.lines == lines(p.grad)
        assert t.steps[leaf.step].node == leaf.node and t.steps[leaf.step].phase == "backward"


def test_grad_accumulated_over_two_backwards_is_flagged_not_hidden() -> None:
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    loss.backward(retain_graph=True)
    (row,) = trace(draw_graph(loss, {"w": w})._layout).leaves
    assert row.lines == ["[2., 4.]"]
    assert row.check.startswith(".grad differs: [4., 8.]") and "zero_grad()" in row.check


def test_freed_graph_shows_rules_and_each_leafs_grad_and_says_why() -> None:
    mlp, loss = mlp_loss()
    loss.backward()  # frees the saved values
    t = trace(draw_graph(loss, mlp)._layout)
    assert "retain_graph=True" in t.notice
    relu = next(s for s in t.steps if s.phase == "backward" and s.head == "Relu")
    assert relu.rule == [RULES["Relu"].backward] and not relu.sections
    for leaf, p in zip(t.leaves, mlp.parameters()):
        assert leaf.lines == lines(p.grad) and leaf.check == "this is .grad"


def test_values_changed_in_place_after_forward_are_not_replayed() -> None:
    mlp, loss = mlp_loss()
    with tg.no_grad():
        mlp[2].weight.mul_(2.0)  # an optimizer step between forward and drawing
    t = trace(draw_graph(loss, mlp)._layout)
    assert "in-place operation" in t.notice
    assert sum(s.phase == "backward" for s in t.steps) > 0


def test_hooks_are_not_run_and_the_page_says_so() -> None:
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    w.register_hook(lambda g: calls.append(1) or g * 10)
    loss = (w * w).sum()
    t = trace(draw_graph(loss, {"w": w})._layout)
    assert not calls and "1 tensor(s) here have hooks" in t.notice
    assert t.leaves[0].lines == ["[2., 4.]"]  # without the hook's factor 10


def test_several_outputs_are_each_seeded() -> None:
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    a, b = (w * w).sum(), (w * 3.0).sum()
    t = trace(draw_graph({"a": a, "b": b}, {"w": w})._layout)
    heads = [s.head for s in t.steps if s.phase == "backward"]
    assert heads[:2] == ["a: the seed", "b: the seed"]
    (a + b).backward()
    assert t.leaves[0].lines == lines(w.grad)  # [2w + 3] = [5, 7]


def test_nothing_requires_grad_means_no_backward_pass() -> None:
    x = tg.tensor([1.0, 2.0])
    t = trace(draw_graph((x * 2.0).sum())._layout)
    assert {s.phase for s in t.steps} == {"forward"} and "no backward pass" in t.notice


def test_non_scalar_output_is_seeded_with_ones_and_large_values_are_summaries() -> None:
    w = tg.tensor(np.linspace(-1, 1, 400).reshape(20, 20), requires_grad=True)
    y = w * 3.0
    t = trace(draw_graph(y, {"w": w})._layout)
    seed = next(s for s in t.steps if s.phase == "backward")
    assert "ones" in seed.rule[0] and seed.sections[0].lines[0].startswith("mean 1 std 0")
    (row,) = t.leaves
    assert row.lines == ["mean 3 std 0", "min 3 max 3"]


def test_unused_parameter_is_listed_without_a_gradient() -> None:
    used = tg.tensor([1.0], requires_grad=True)
    unused = tg.tensor([2.0], requires_grad=True)
    t = trace(draw_graph((used * 2.0).sum(), {"used": used, "unused": unused})._layout)
    rows = {leaf.name: leaf for leaf in t.leaves}
    assert rows["unused"].lines == ["no gradient: not in the graph"] and rows["unused"].step == -1
    assert "unused" not in [s.head.split()[0] for s in t.steps]


# ------------------------------------------------------------------ rules
def _library_functions() -> set[type]:
    for info in pkgutil.walk_packages(tg.__path__, "tinygrad_edu."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    found, todo = set(), [tg.Function]
    while todo:
        for cls in todo.pop().__subclasses__():
            todo.append(cls)
            if cls.__module__.startswith("tinygrad_edu."):
                found.add(cls)
    return found


def test_every_op_of_the_library_has_its_rule_in_words() -> None:
    missing = sorted(c.__name__ for c in _library_functions() if c.__name__ not in RULES)
    assert not missing, f"add a Rule for {missing} to tinygrad_edu/viz/rules.py"
    for name, rule in RULES.items():
        assert rule.forward.startswith("out") and rule.backward, name


def test_a_user_function_gets_the_generic_rule_with_its_docstring() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    t = trace(draw_graph(Cube.apply(x).sum(), {"x": x})._layout)
    cube = next(s for s in t.steps if s.phase == "backward" and s.head == "Cube")
    assert cube.rule == ["Cube.backward, its own rule: 3x² times the incoming gradient."]
    assert cube.sections[1].lines == ["[ 3., 12.]"]
    assert rule_for("Nameless").backward.endswith("what forward saved")
    assert rule_for("Nameless").input_name(2) == "input 2"


# ------------------------------------------------------------------ the page
def test_page_is_self_contained_and_names_no_other_resource(tmp_path) -> None:
    mlp, loss = mlp_loss()
    path = draw_graph(loss, mlp, show_values=True).save(tmp_path / "graph.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "default-src 'none'" in page  # the browser itself refuses any request
    urls = set(re.findall(r"https?://[^\s\"'<>\\]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)
    data = page_data(page)
    assert data["counts"] == [11, 9]  # the MLP's loss is one fused MSELoss node
    assert len(data["views"]) == 1 and "<svg" in data["views"][0]["svg"]
    assert "</script" not in page.split('id="explorer-data">', 1)[1].split("</script>", 1)[0]
    assert list(tmp_path.iterdir()) == [path]  # written through a temporary file


def test_collapsed_boxes_get_an_expanded_view_each() -> None:
    tg.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 1))
    loss = nn.functional.mse_loss(net(tg.randn(3, 2)), tg.randn(3, 1))
    d = draw_graph(loss, net, collapse_modules=True)
    data = page_data(d.explorer().html())
    main = data["views"][0]
    assert set(data["expand"]) == {"module_0", "module_2", "module_4"}
    assert all(f"<title>{box}</title>" in main["svg"] for box in data["expand"])
    assert main["map"][d.node_id(net[0].weight)] == "module_0"
    expanded = data["views"][data["expand"]["module_2"]]
    assert expanded["name"] == "expanded: 2: Linear"
    weight = str(id(net[2].weight))
    assert expanded["map"][weight] == weight and f"<title>{weight}</title>" in expanded["svg"]
    assert expanded["map"][str(id(net[0].weight))] == "module_0"  # the others stay boxed


def test_graph_over_max_nodes_collapses_the_same_way_and_its_chains_expand() -> None:
    x = tg.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(30):
        y = (y * 1.01).tanh()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = draw_graph(y.sum(), {"x": x}, max_nodes=10)
    data = page_data(d.explorer().html())
    assert d.num_nodes <= 10 and data["views"][0]["svg"] == d.svg()[d.svg().index("<svg"):]
    (chain,) = [k for k in data["expand"] if k.startswith("chain_")]
    expanded = data["views"][data["expand"][chain]]
    assert expanded["svg"].count('class="node"') > 60  # the 60 ops, one by one
    assert data["counts"][1] == 1 + 1 + 60 + 1  # seed, Sum, 60 ops, x


def test_graph_too_big_to_step_through_says_what_to_do(monkeypatch, tmp_path) -> None:
    from tinygrad_edu.viz import explorer

    monkeypatch.setattr(explorer, "MAX_NODES", 20)
    x = tg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(20):
        y = y * 2.0
    d = draw_graph(y, {"x": x})
    with pytest.raises(ValueError, match="22 nodes, more than the explorer's 20.*svg"):
        d.save(tmp_path / "never_written.html")
    assert not list(tmp_path.iterdir())


def test_explorer_needs_a_drawing_from_draw_graph() -> None:
    import graphviz

    from tinygrad_edu.viz import GraphDrawing

    with pytest.raises(ValueError, match="not made by draw_graph"):
        GraphDrawing(graphviz.Digraph()).explorer()


def test_jupyter_shows_the_page_in_an_iframe() -> None:
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    e = draw_graph((w * w).sum(), {"w": w}).explorer(title="a <title>")
    html = e._repr_html_()
    assert html.startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;')
    assert 'title="a &lt;title&gt;"' in html and "<script" not in html
    assert repr(e) == "<Explorer: 4 forward and 4 backward steps; .save('graph.html')>"
