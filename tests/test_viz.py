"""tinygrad_edu.viz graph drawing: DOT content, styles, collapsing, rendering, missing `dot`."""

import doctest
import importlib
import re
import time
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.viz import GraphDrawing, GraphvizNotFoundError, draw_graph

# ------------------------------------------------------------------ DOT parsing helpers
_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s\]]+)')
_NODE = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|\S+) \[(.*)\]$')
_EDGE = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|\S+) -> ("(?:[^"\\]|\\.)*"|\S+)(?: \[(.*)\])?$')


def _unquote(s):
    return s[1:-1] if s.startswith('"') else s


def _attrs(text):
    return {k: _unquote(v) for k, v in _ATTR.findall(text or "")}


def parse(dot):
    """(nodes: id → attrs with 'label' split into lines, edges: [(src, dst, attrs)])."""
    nodes, edges = {}, []
    for line in dot.splitlines():
        m = _EDGE.match(line)
        if m:
            edges.append((_unquote(m[1]), _unquote(m[2]), _attrs(m[3])))
            continue
        m = _NODE.match(line)
        if m and m[1] not in ("graph", "node", "edge"):
            a = _attrs(m[2])
            a["lines"] = a.get("label", "").split("\\n")
            nodes[_unquote(m[1])] = a
    return nodes, edges


def find(nodes, first_line):
    hits = [k for k, a in nodes.items() if a["lines"][0] == first_line]
    assert len(hits) == 1, (first_line, [a["lines"] for a in nodes.values()])
    return hits[0]


def edge_set(edges):
    return {(s, d) for s, d, _ in edges}


def neuron():
    w = tg.tensor([0.5, -0.3, 0.2], requires_grad=True)
    b = tg.tensor([0.1], requires_grad=True)
    x = tg.tensor([1.0, 2.0, 3.0])
    y = (w * x + b).sigmoid()
    return w, b, x, y


def plain_mlp():
    tg.manual_seed(0)
    x = tg.randn(4, 2)
    target = tg.randn(4, 1)
    w1 = tg.randn(2, 3, requires_grad=True)
    b1 = tg.zeros(3, requires_grad=True)
    w2 = tg.randn(3, 1, requires_grad=True)
    b2 = tg.zeros(1, requires_grad=True)
    out = (x @ w1 + b1).relu() @ w2 + b2
    loss = ((out - target) ** 2).mean()
    return {"w1": w1, "b1": b1, "w2": w2, "b2": b2}, loss


# ------------------------------------------------------------------ structure and labels
def test_neuron_nodes_labels_and_edges_follow_the_data():
    w, b, _x, y = neuron()
    d = draw_graph(y, params={"w": w, "b": b})
    assert isinstance(d, GraphDrawing)
    nodes, edges = parse(d.to_dot())
    iw, ib, ix = find(nodes, "w"), find(nodes, "b"), find(nodes, "const")
    mul, add, sig, out = (find(nodes, t) for t in ("Mul", "Add", "Sigmoid", "output"))
    assert nodes[iw]["lines"] == ["w", "(3,) float32"]
    assert nodes[ib]["lines"] == ["b", "(1,) float32"]
    assert nodes[mul]["lines"] == ["Mul", "(3,)"]
    assert edge_set(edges) == {(iw, mul), (ix, mul), (mul, add), (ib, add), (add, sig),
                               (sig, out)}
    # torchviz conventions: ids from id(), leaves light blue, ops grey, output green
    assert iw == str(id(w)) == d.node_id(w) and sig == str(id(y.grad_fn)) == d.node_id(y)
    assert nodes[iw]["fillcolor"] == nodes[ib]["fillcolor"] == "lightblue"
    assert nodes[mul]["fillcolor"] == "lightgrey"
    assert nodes[out]["fillcolor"] == "darkolivegreen1"
    assert nodes[ix]["fillcolor"] == "white"
    header = d.to_dot().split("\n", 4)[:4]
    assert "rankdir=LR" in header[1] and "fontname=monospace" in header[2]
    assert "fontsize=10" in header[2] and "shape=box" in header[2]


def test_mlp_from_plain_ops_has_every_op_and_edge():
    params, loss = plain_mlp()
    nodes, edges = parse(draw_graph(loss, params).to_dot())
    firsts = sorted(a["lines"][0] for a in nodes.values())
    assert firsts == sorted(["const", "const", "w1", "b1", "w2", "b2", "MatMul", "Add", "Relu",
                             "MatMul", "Add", "Sub", "Pow ^2", "Mean", "output"])
    es = edge_set(edges)
    by = {k: a["lines"][0] for k, a in nodes.items()}
    named = {(by[s], by[d]) for s, d in es}
    assert {("w1", "MatMul"), ("b1", "Add"), ("Add", "Relu"), ("Relu", "MatMul"),
            ("w2", "MatMul"), ("b2", "Add"), ("Add", "Sub"), ("Sub", "Pow ^2"),
            ("Pow ^2", "Mean"), ("Mean", "output")} <= named
    # no edge points against the data flow: leaves have no inputs, the output no consumers
    assert not any(by[d] in ("w1", "b1", "w2", "b2", "const") for _, d in es)
    assert not any(by[s] == "output" for s, _ in es)
    # the layer shapes are in the labels
    relu = find(nodes, "Relu")
    assert nodes[relu]["lines"][1] == "(4, 3)"


def test_inputs_params_and_constants_are_styled_apart():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    x = tg.tensor([3.0, 4.0], requires_grad=True)  # an input we want d/dx of
    c = tg.tensor([5.0, 6.0])
    nodes, _ = parse(draw_graph((w * x + c).sum(), {"w": w}).to_dot())
    assert nodes[str(id(w))]["fillcolor"] == "lightblue"
    assert nodes[str(id(x))]["lines"][0] == "input"
    assert nodes[str(id(x))]["fillcolor"] == "lightyellow"
    assert nodes[str(id(c))]["lines"][0] == "const"
    assert nodes[str(id(c))]["fillcolor"] == "white" and nodes[str(id(c))]["color"] == "gray50"
    # without names, every leaf that requires grad looks like a parameter (torchviz)
    nodes, _ = parse(draw_graph((w * x + c).sum()).to_dot())
    assert nodes[str(id(x))]["fillcolor"] == "lightblue"
    assert nodes[str(id(x))]["lines"] == ["(2,) float32"]


def test_plain_numbers_fold_into_op_labels_and_arrays_get_const_nodes():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    arr = np.array([3.0, 4.0], dtype=np.float32)
    y = ((2.0 - x) * 3 / 4.5) ** 2 + x * arr
    nodes, edges = parse(draw_graph(y.sum()).to_dot())
    titles = {a["lines"][0] for a in nodes.values()}
    assert {"Sub 2−·", "Mul ×3", "Div ÷4.5", "Pow ^2", "Mul"} <= titles
    const = find(nodes, "const")
    assert nodes[const]["lines"][1] == "(2,) float32"
    assert (const, find(nodes, "Mul")) in edge_set(edges)


def test_values_small_in_full_large_as_statistics():
    w = tg.tensor([1.5, -2.0], requires_grad=True)
    big = tg.tensor(np.arange(100, dtype=np.float32).reshape(10, 10), requires_grad=True)
    y = (w * 2.0).sum() + big.sum()
    nodes, _ = parse(draw_graph(y, {"w": w, "big": big}, show_values=True).to_dot())
    assert "data [ 1.5, -2. ]" in nodes[str(id(w))]["lines"]
    lines = nodes[str(id(big))]["lines"]
    assert lines[1] == "(10, 10) float32"
    assert lines[2] == "data mean 49.5 std 28.87" and lines[3].split() == ["min", "0", "max", "99"]
    assert nodes[find(nodes, "output")]["lines"][2] == "data 4949."
    # without show_values no data line
    nodes, _ = parse(draw_graph(y, {"w": w, "big": big}).to_dot())
    assert not any("data" in x for a in nodes.values() for x in a["lines"])


def test_tiny_values_and_grads_are_not_printed_as_zero():
    # a vanishing gradient must not read "0." (which looks like a dead one) in a small array
    a = tg.tensor(2.0, requires_grad=True)
    v = tg.tensor([1.0, 2.0], requires_grad=True)
    w = tg.tensor([3.0, 1.0], requires_grad=True)
    loss = (a * -3.0).tanh() * 1e-4 + (v * 1e-7).sum() + (w * tg.tensor([0.5, 1e-9])).sum()
    loss.backward()
    d = draw_graph(loss, {"a": a, "v": v, "w": w}, show_grads=True)
    nodes, _ = parse(d.to_dot())
    grad_a = nodes[str(id(a))]["lines"][2]
    assert grad_a.startswith("grad -") and float(grad_a.split()[1]) == pytest.approx(
        float(a.grad.item()), rel=1e-3)
    assert nodes[str(id(v))]["lines"][2] == "grad [1.e-07, 1.e-07]"
    assert "style" not in nodes[str(id(v))]  # small is not dead: not greyed
    # beside a large entry, one far below the printed precision still shows as 0
    assert nodes[str(id(w))]["lines"][2] == "grad [0.5, 0. ]"


def test_grads_after_backward_leaves_and_retained_intermediates_only():
    w, b, x, _y = neuron()
    h = w * x
    h.retain_grad()
    loss = (h + b).sigmoid().sum()
    loss.backward()  # frees saved arrays; the structure stays
    d = draw_graph(loss, {"w": w, "b": b}, show_grads=True)
    nodes, edges = parse(d.to_dot())
    gw = [x for x in nodes[str(id(w))]["lines"] if x.startswith("grad")]
    assert gw == ["grad " + np.array2string(w.grad.data, precision=4, separator=", ",
                                            suppress_small=True)]
    assert any(x.startswith("grad") for x in nodes[d.node_id(h)]["lines"])  # retained
    add = find(nodes, "Add")
    assert not any(x.startswith("grad") for x in nodes[add]["lines"])  # not retained
    assert len(nodes) == 8 and len(edges) == 7  # w, x, Mul, b, Add, Sigmoid, Sum, output


def test_output_list_dict_and_leaf_output():
    a = tg.tensor([1.0], requires_grad=True)
    y1, y2 = a * 2.0, a.exp()
    nodes, _ = parse(draw_graph([y1, y2]).to_dot())
    assert {"output 0", "output 1"} <= {n["lines"][0] for n in nodes.values()}
    nodes, _ = parse(draw_graph({"double": y1, "exp": y2}).to_dot())
    assert {"double", "exp"} <= {n["lines"][0] for n in nodes.values()}
    nodes, edges = parse(draw_graph(a, {"a": a}).to_dot())
    assert list(nodes) == [str(id(a))] and not edges
    assert nodes[str(id(a))]["fillcolor"] == "darkolivegreen1"
    with pytest.raises(TypeError, match="must be a Tensor"):
        draw_graph([y1, 3.0])


def test_rankdir_and_names_are_escaped():
    w = tg.tensor([1.0], requires_grad=True)
    d = draw_graph((w * 2.0).sum(), {'w"\\odd': w}, rankdir="TB")
    assert "rankdir=TB" in d.to_dot()
    assert nodes_first(d, w) == 'w\\"\\\\odd'


def test_anomaly_mode_location_is_the_op_tooltip_and_odd_constants_render():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.detect_anomaly():
        y = (x * 3.0).sum()
    nodes, _ = parse(draw_graph(y).to_dot())
    assert __file__ in nodes[find(nodes, "Mul ×3")]["tooltip"]
    ET.fromstring(draw_graph(y).svg())
    # a Function taking an odd plain value: its repr is folded, escaped, and still renders
    z = Odd.apply(x, 'a"b\\c').sum()
    d = draw_graph(z)
    (odd,) = [a for a in parse(d.to_dot())[0].values() if a["lines"][0].startswith("Odd(")]
    assert odd["lines"][0] == r"""Odd(·, 'a\"b\\\\c')"""  # the repr, DOT-escaped
    svg_text = "".join(ET.fromstring(d.svg()).itertext())
    assert "Odd(·, " + repr('a"b\\c') in svg_text  # drawn as the repr


class Odd(tg.Function):
    @staticmethod
    def forward(ctx, x, tag):
        return x * 1.0

    @staticmethod
    def backward(ctx, g):
        return g, None


def nodes_first(d, t):
    return parse(d.to_dot())[0][d.node_id(t)]["lines"][0]


# ------------------------------------------------------------------ highlighting
def test_nan_is_red_and_the_first_op_making_it_is_named():
    x = tg.tensor([1.0, -1.0], requires_grad=True)
    with np.errstate(all="ignore"):
        y = (x.log() * 2.0).sum()
    nodes, _ = parse(draw_graph(y, {"x": x}).to_dot())
    log, mul = find(nodes, "Log"), find(nodes, "Mul ×2")
    assert nodes[log]["color"] == "red" and nodes[log]["fillcolor"] == "mistyrose"
    assert nodes[log]["lines"][-1] == "nan appears here"
    assert nodes[mul]["color"] == "red" and nodes[mul]["lines"][-1] == "nan/inf"
    assert "color" not in nodes[str(id(x))]  # the finite input is not red
    # an infinite gradient is red too: d sqrt(x)/dx at 0
    z = tg.tensor([0.0, 1.0], requires_grad=True)
    s = z.sqrt().sum()
    with np.errstate(all="ignore"):
        s.backward()
    nodes, _ = parse(draw_graph(s, {"z": z}, show_grads=True).to_dot())
    assert nodes[str(id(z))]["color"] == "red"
    assert nodes[str(id(z))]["lines"][2:] == ["grad [inf, 0.5]", "nan/inf"]
    assert "color" not in nodes[find(nodes, "Sqrt")]


def test_dead_relu_parameter_is_greyed_and_dashed_after_backward():
    w_dead = tg.tensor([1.0, 2.0], requires_grad=True)
    w_live = tg.tensor([1.0, 2.0], requires_grad=True)
    x = tg.tensor([-1.0, -3.0])
    loss = (w_dead * x).relu().sum() + (w_live * x).sum()
    params = {"w_dead": w_dead, "w_live": w_live}
    before, _ = parse(draw_graph(loss, params).to_dot())
    assert "style" not in before[str(id(w_dead))]  # not judged before backward
    loss.backward()
    nodes, edges = parse(draw_graph(loss, params).to_dot())
    dead, live = nodes[str(id(w_dead))], nodes[str(id(w_live))]
    assert "dashed" in dead["style"] and dead["fontcolor"] == "gray40"
    assert dead["lines"][-1] == "grad all zero"
    assert "style" not in live and live["lines"][-1] == "(2,) float32"
    out_of_dead = [a for s, _, a in edges if s == str(id(w_dead))]
    assert out_of_dead == [{"color": "gray55", "style": "dashed"}]


def test_detached_branch_and_missing_grad():
    w1 = tg.tensor([1.0], requires_grad=True)
    w2 = tg.tensor([2.0], requires_grad=True)
    w3 = tg.tensor([3.0], requires_grad=True)
    x = tg.tensor([4.0])
    y = w1 * x + (w2 * x).detach()
    other = (w3 * x).sum()
    loss = y.sum()
    loss.backward()  # w3 gets no gradient: only loss was differentiated
    nodes, edges = parse(draw_graph([loss, other], {"w1": w1, "w2": w2, "w3": w3}).to_dot())
    n2 = nodes[str(id(w2))]
    assert n2["lines"][-1] == "not in graph" and "dashed" in n2["style"]
    assert not any(str(id(w2)) in (s, d) for s, d, _ in edges)  # drawn, but unconnected
    assert nodes[str(id(w3))]["lines"][-1] == "no grad" and "dashed" in nodes[str(id(w3))]["style"]
    assert "style" not in nodes[str(id(w1))]
    # the detached value appears as a constant input of the Add
    consts = [k for k, a in nodes.items() if a["lines"][0] == "const"]
    assert len(consts) == 2  # x and the detached product


def test_highlight_path_from_a_parameter():
    w, b, _x, y = neuron()
    for source in (b, "b"):
        d = draw_graph(y, {"w": w, "b": b}, highlight_path_from=source)
        nodes, edges = parse(d.to_dot())
        bold = {(s, t) for s, t, a in edges if a.get("color") == "blue"}
        ib, add, sig, out = (find(nodes, t) for t in ("b", "Add", "Sigmoid", "output"))
        assert bold == {(ib, add), (add, sig), (sig, out)}
        assert {k for k, a in nodes.items() if a.get("color") == "blue"} == {ib, add, sig, out}
        assert nodes[ib]["penwidth"] == "3"
    with pytest.raises(ValueError, match="no parameter of that name"):
        draw_graph(y, {"w": w, "b": b}, highlight_path_from="nope")
    with pytest.raises(ValueError, match="not in the graph"):
        draw_graph(y, {"w": w, "b": b}, highlight_path_from=tg.tensor([1.0], requires_grad=True))


# ------------------------------------------------------------------ modules and collapsing
def small_net():
    tg.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    loss = nn.MSELoss()(net(tg.rand(4, 2)), tg.rand(4, 1))
    return net, loss


def test_module_parameter_names():
    net, loss = small_net()
    nodes, _ = parse(draw_graph(loss, net).to_dot())
    assert nodes[str(id(net[0].weight))]["lines"] == ["0.weight", "(8, 2) float32"]
    assert nodes[str(id(net[2].bias))]["lines"] == ["2.bias", "(1,) float32"]


def test_collapse_modules_draws_one_box_per_layer():
    net, loss = small_net()
    loss.backward()
    d = draw_graph(loss, net, collapse_modules=True, show_grads=True)
    nodes, edges = parse(d.to_dot())
    l0, tanh, l2 = find(nodes, "0: Linear"), find(nodes, "Tanh"), find(nodes, "2: Linear")
    assert nodes[l0]["lines"][1:4] == ["weight (8, 2), bias (8,)", "→ (4, 8)", "1 op: Linear"]
    assert nodes[l0]["style"] == "filled,rounded"
    assert any(x.startswith("|grad| weight") for x in nodes[l0]["lines"])
    es = edge_set(edges)
    assert (l0, tanh) in es and (tanh, l2) in es and (l2, find(nodes, "MSELoss")) in es
    assert d.node_id(net[0].weight) == l0 and d.node_id(net[2].bias) == l2
    assert len(nodes) == 7  # x, box, Tanh, box, target, MSELoss, output
    with pytest.raises(ValueError, match="needs params"):
        draw_graph(loss, collapse_modules=True)


def test_collapse_modules_rule_deepest_module_wins_and_unused_modules_grey():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
            self.scale = nn.Parameter(tg.ones(3))
            self.unused = nn.Linear(3, 3)

        def forward(self, x):
            return self.body(x) * self.scale

    net = Net()
    y = net(tg.rand(5, 2)).sum()
    nodes, edges = parse(draw_graph(y, net, collapse_modules=True).to_dot())
    firsts = [a["lines"][0] for a in nodes.values()]
    assert "body.0: Linear" in firsts and "(root): Net" in firsts and "Relu" in firsts
    unused = nodes[find(nodes, "unused: Linear")]
    assert "dashed" in unused["style"] and unused["lines"][-1] == "not in graph"
    by = {k: a["lines"][0] for k, a in nodes.items()}
    assert ("Relu", "(root): Net") in {(by[s], by[d]) for s, d, _ in edges}


def acyclic(edges):
    """True if the drawn graph has no cycle (Kahn's algorithm)."""
    es = edge_set(edges)
    indeg = {}
    for s, d in es:
        indeg.setdefault(s, 0)
        indeg[d] = indeg.get(d, 0) + 1
    ready = [k for k, n in indeg.items() if n == 0]
    seen = 0
    while ready:
        k = ready.pop()
        seen += 1
        for s, d in es:
            if s == k:
                indeg[d] -= 1
                if indeg[d] == 0:
                    ready.append(d)
    return seen == len(indeg)


class Gated(nn.Module):
    """A layer that records several ops, one of them (Tanh) fed by no parameter directly."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(tg.randn(2, 3))
        self.gain = nn.Parameter(tg.ones(3))
        self.bias = nn.Parameter(tg.zeros(3))

    def forward(self, x):
        return (x @ self.weight).tanh() * self.gain + self.bias


def test_collapsed_box_lists_its_several_ops_in_order():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Gated()
            self.act = nn.ReLU()
            self.head = nn.Linear(3, 1)

        def forward(self, x):
            return self.head(self.act(self.block(x)))

    tg.manual_seed(0)
    net = Net()
    loss = net(tg.randn(5, 2)).pow(2).mean()
    loss.backward()
    d = draw_graph(loss, net, collapse_modules=True, show_grads=True)
    nodes, edges = parse(d.to_dot())
    box = find(nodes, "block: Gated")
    # the Tanh between the MatMul and the gain's Mul joins the box (it lies on a path from the
    # module back into it): without it the drawing would have a cycle box → Tanh → box
    assert nodes[box]["lines"][1:4] == ["weight (2, 3), gain (3,), bias (3,)", "→ (5, 3)",
                                        "4 ops: MatMul, Tanh, Mul, Add"]
    assert [x for x in nodes[box]["lines"] if x.startswith("|grad|")] == [
        f"|grad| {n} {np.linalg.norm(getattr(net.block, n).grad.numpy()):.4g}"
        for n in ("weight", "gain", "bias")]
    assert not any(a["lines"][0] == "Tanh" for a in nodes.values())
    by = {k: a["lines"][0] for k, a in nodes.items()}
    named = {(by[s], by[t]) for s, t in edge_set(edges)}
    assert {("block: Gated", "Relu"), ("Relu", "head: Linear")} <= named
    assert acyclic(edges)
    # the activation module outside the block stays an op of its own
    assert sum(a["lines"][0] == "Relu" for a in nodes.values()) == 1
    # more than four ops are listed as the first four and a count
    class Wide(Gated):
        def forward(self, x):
            return ((x @ self.weight).tanh() * self.gain + self.bias).sigmoid() * self.gain

    tg.manual_seed(0)
    wide = Wide()
    nodes, edges = parse(draw_graph(wide(tg.randn(5, 2)).sum(), wide,
                                    collapse_modules=True).to_dot())
    assert nodes[find(nodes, "(root): Wide")]["lines"][3] == "6 ops: MatMul, Tanh, Mul, Add, … +2"
    assert acyclic(edges)


def test_collapsed_conv_net_has_one_box_per_layer_and_no_cycle():
    tg.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3),
                        nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))
    loss = nn.functional.cross_entropy(net(tg.randn(2, 1, 8, 8)), tg.tensor([0, 2]))
    loss.backward()
    d = draw_graph(loss, net, collapse_modules=True)
    nodes, edges = parse(d.to_dot())
    firsts = [a["lines"][0] for a in nodes.values()]
    assert firsts.count("0: Conv2d") == firsts.count("3: Conv2d") == firsts.count("6: Linear") == 1
    assert nodes[find(nodes, "0: Conv2d")]["lines"][2] == "→ (2, 4, 6, 6)"  # only the output
    assert nodes[find(nodes, "3: Conv2d")]["lines"][2] == "→ (2, 8, 1, 1)"
    assert acyclic(edges)
    ET.fromstring(d.svg())


def test_over_max_nodes_warns_and_merges_chains():
    x = tg.tensor([1.0], requires_grad=True)
    y = x
    for i in range(300):
        y = y * 1.01 if i % 2 else y.tanh()
    with pytest.warns(UserWarning, match=r"302 nodes, more than max_nodes=200.*max_nodes=None"):
        d = draw_graph(y)
    assert d.num_nodes == 3 and d.total_nodes == 302
    nodes, edges = parse(d.to_dot())
    chain = find(nodes, "300 ops")
    assert nodes[chain]["lines"][1:3] == ["Tanh → … → Mul ×1.01", "Tanh×150, Mul×150"]
    assert edge_set(edges) == {(str(id(x)), chain), (chain, find(nodes, "output"))}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert draw_graph(y, max_nodes=None).num_nodes == 302
        assert draw_graph(y, max_nodes=302).num_nodes == 302


def test_wide_graph_is_truncated_to_max_nodes():
    ps = [tg.tensor([float(i)], requires_grad=True) for i in range(150)]
    acc = ps[0] * 2.0
    for p in ps[1:]:
        acc = acc + p * 2.0
    with pytest.warns(UserWarning, match="nearest the output"):
        d = draw_graph(acc.sum(), max_nodes=50)
    assert d.num_nodes == 50
    nodes, edges = parse(d.to_dot())
    more = nodes["more_nodes"]
    # 451 nodes; merging Add → Sum leaves 450, of which 49 are kept
    assert d.total_nodes == 451 and more["lines"][0] == "… 401 more nodes"
    assert any(s == "more_nodes" for s, _, _ in edges)
    assert str(id(ps[-1])) in nodes and str(id(ps[0])) not in nodes  # nearest kept


def test_big_module_model_collapses_to_module_boxes():
    layers = []
    for _ in range(30):
        layers += [nn.Linear(4, 4), nn.Tanh()]
    net = nn.Sequential(*layers)
    loss = net(tg.rand(2, 4)).sum()
    with pytest.warns(UserWarning, match="one box per module"):
        d = draw_graph(loss, net, max_nodes=100)
    assert d.num_nodes <= 100
    firsts = [a["lines"][0] for a in parse(d.to_dot())[0].values()]
    assert firsts.count("0: Linear") == 1 and "58: Linear" in firsts


def test_chain_of_100k_ops_draws_without_recursion_in_seconds():
    x = tg.tensor([1.0], requires_grad=True)
    y = x
    start = time.perf_counter()
    for i in range(100_000):
        y = y * 1.0001 if i % 2 else y + 0.5
    build = time.perf_counter() - start
    start = time.perf_counter()
    with pytest.warns(UserWarning, match="100002 nodes"):
        d = draw_graph(y, {"x": x}, highlight_path_from="x")
    dot = d.to_dot()
    took = time.perf_counter() - start
    assert d.num_nodes == 3 and "100000 ops" in dot
    assert dot.count("color=blue") == 5  # 3 nodes + 2 edges on the path
    # linear time: about as long as building the graph (~1.5x here); compared with that rather
    # than with a fixed number of seconds, so a busy machine does not fail it
    assert took < 5 * build + 2.0, (took, build)


# ------------------------------------------------------------------ rendering and saving
def test_svg_is_valid_xml_with_one_group_per_node(tmp_path):
    params, loss = plain_mlp()
    d = draw_graph(loss, params)
    root = ET.fromstring(d.svg())
    groups = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "node"]
    assert len(groups) == d.num_nodes == 15
    assert d._repr_svg_() == d.svg()
    bundle = d._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
    magic = {".svg": b"<?xml", ".png": b"\x89PNG", ".pdf": b"%PDF", ".dot": b"digraph",
             ".gv": b"digraph"}
    for ext, head in magic.items():
        path = d.save(tmp_path / f"g{ext}")
        assert path.read_bytes().lstrip()[: len(head)] == head
    d.save(tmp_path / "noext", format="png")
    assert (tmp_path / "noext").read_bytes()[:4] == b"\x89PNG"
    assert d.save(tmp_path / "g.jpeg").read_bytes()[:3] == b"\xff\xd8\xff"  # graphviz's
    with pytest.raises(ValueError, match="extension '.xyz'"):
        d.save(tmp_path / "g.xyz")


def test_escaped_names_and_collapsed_graph_render(tmp_path):
    w = tg.tensor([1.0], requires_grad=True)
    y = w
    for _ in range(50):
        y = y.tanh()
    with pytest.warns(UserWarning):
        d = draw_graph(y, {'odd "name" \\ here': w}, max_nodes=10, show_values=True)
    root = ET.fromstring(d.svg())
    assert sum(g.get("class") == "node" for g in root.iter("{http://www.w3.org/2000/svg}g")) == 3
    assert 'odd "name" \\ here' in "".join(root.itertext())


def test_without_dot_program_source_works_and_rendering_explains(tmp_path, monkeypatch):
    w, b, _x, y = neuron()
    d = draw_graph(y, {"w": w, "b": b})
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert d.to_dot().startswith("digraph")
    assert d.save(tmp_path / "g.dot").read_text().startswith("digraph")
    with pytest.raises(GraphvizNotFoundError) as info:
        d.save(tmp_path / "g.svg")
    err = info.value
    assert isinstance(err, RuntimeError) and type(err) is GraphvizNotFoundError
    assert err.__cause__ is None and err.__suppress_context__
    for hint in ("apt-get install graphviz", "brew install graphviz",
                 "conda install -c conda-forge graphviz"):
        assert hint in str(err)
    with pytest.raises(GraphvizNotFoundError):
        d.save(tmp_path / "g.png")
    assert not (tmp_path / "g.svg").exists()
    assert d._repr_svg_() is None  # Jupyter then shows the bundle's text
    bundle = d._repr_mimebundle_()
    assert set(bundle) == {"text/plain"}
    assert "apt-get install graphviz" in bundle["text/plain"] and "digraph" in bundle["text/plain"]


def test_failed_save_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    w, b, _x, y = neuron()
    d = draw_graph(y, {"w": w, "b": b})
    old = d.save(tmp_path / "g.svg").read_text()
    html = d.save(tmp_path / "g.html")  # the explorer page
    assert html.read_text().startswith("<!DOCTYPE html>")

    def broken(*args, **kwargs):
        raise GraphvizNotFoundError("dot crashed")

    monkeypatch.setattr(GraphDrawing, "pipe", broken)
    d2 = draw_graph(y * 2.0, {"w": w, "b": b})
    for name in ("g.svg", "new.png", "new.html"):
        with pytest.raises(GraphvizNotFoundError):
            d2.save(tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.html", "g.svg"]
    assert (tmp_path / "g.svg").read_text() == old


def test_collapse_keep_leaves_nodes_as_they_are_and_changes_no_graph():
    from tinygrad_edu.viz import collapse
    from tinygrad_edu.viz.walk import build

    net, loss = small_net()
    names = {id(p): n for n, p in net.named_parameters()}
    owners = {id(p): n.rsplit(".", 1)[0] for n, p in net.named_parameters()}
    g = build([(None, loss)], names, owners)
    classes = {"0": "Linear", "2": "Linear"}
    boxed = collapse.group_by_module(g, classes)
    assert {k for k, n in boxed.nodes.items() if n.kind == "module"} == {"module_0", "module_2"}
    w2 = str(id(net[2].weight))
    kept = collapse.group_by_module(g, classes, keep=boxed.nodes["module_2"].members)
    assert {k for k, n in kept.nodes.items() if n.kind == "module"} == {"module_0"}
    assert w2 in kept.nodes and kept.nodes[w2] is g.nodes[w2]
    folded = collapse.fold_constants(g)
    assert any(n.folded for n in folded.nodes.values())
    assert not any(n.folded for n in g.nodes.values())  # the walked graph is not changed
    x = tg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5):
        y = y * 2.0
    chain = build([(None, y)], {})
    ops = [k for k, n in chain.nodes.items() if n.kind == "op"]
    assert [n.kind for n in collapse.merge_chains(chain, keep=ops[2:3]).nodes.values()] == [
        "param", "chain", "op", "chain", "output"]
    big = collapse.truncate(build([(None, y)], {}), 3, keep=ops[:1])
    assert ops[0] in big.nodes and len(big.nodes) == 4  # max_nodes 3, plus the kept one


def test_drawing_behaves_like_the_digraph_it_wraps(tmp_path, monkeypatch):
    import graphviz

    w, b, _x, y = neuron()
    d = draw_graph(y, {"w": w, "b": b})
    assert isinstance(d.digraph, graphviz.Digraph)
    assert d.graph_attr["rankdir"] == "LR" and d.node_attr["shape"] == "box"
    assert d.body == d.digraph.body and d.source == d.to_dot()
    d.format = "png"  # as with torchviz: make_dot(y).render("graph", format=...)
    assert d.digraph.format == d.format == "png"
    out = d.render(tmp_path / "graph", format="svg", cleanup=True)
    assert out.endswith("graph.svg") and ET.parse(out).getroot().tag.endswith("svg")
    before = d.svg()
    d.node("extra", "added later")  # the Digraph's own API; the cached SVG follows the source
    d.edge("extra", d.node_id(y))
    assert "added later" in d.svg() and d.svg() != before
    with pytest.raises(AttributeError):
        _ = d.no_such_attribute
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(GraphvizNotFoundError, match="cannot render the graph: .*apt-get"):
        d.render(tmp_path / "again", format="png")


def test_repr_mentions_sizes():
    x = tg.tensor([1.0], requires_grad=True)
    assert repr(draw_graph(x.exp())) == "<GraphDrawing: 3 nodes; .save(path), .to_dot()>"


def test_big_graphs_get_a_size_bound():
    x = tg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(60):
        y = y.tanh()
    assert " size=" not in draw_graph(x.exp()).to_dot()
    assert 'size="15,15"' in draw_graph(y, max_nodes=None).to_dot()


@pytest.mark.parametrize(
    "module", ["__init__", "_format", "walk", "collapse", "render", "graph", "gradnorms",
               "numpy_draw"]
)
def test_doctests(module):
    mod = importlib.import_module(f"tinygrad_edu.viz.{module}".replace(".__init__", ""))
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
