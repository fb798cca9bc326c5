"""Uses of torchviz's ``make_dot`` as its README, its examples notebook, its tests and
learners' scripts write them (an MLP built with ``add_module``, ``params=dict(...)`` with the
input added, ``show_attrs``/``show_saved``, a double-backprop graph, a tuple of outputs,
``.render(name, format=...)``, ``.source``), ported to tinygrad_edu's names."""

import subprocess

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.viz import make_dot

from .test_viz import find, parse


def readme_mlp():
    tg.manual_seed(0)
    model = nn.Sequential()
    model.add_module("W0", nn.Linear(8, 16))
    model.add_module("tanh", nn.Tanh())
    model.add_module("W1", nn.Linear(16, 1))
    return model, tg.randn(1, 8)


def dot_ok(source):
    run = subprocess.run(["dot", "-Tcanon"], input=source.encode(), capture_output=True,
                         check=False)
    return run.returncode == 0 and not run.stderr


def test_readme_mlp_names_every_parameter_with_its_shape():
    model, x = readme_mlp()
    dot = make_dot(model(x).mean(), params=dict(model.named_parameters()))
    nodes, edges = parse(dot.source)
    for name, shape in [("W0.weight", "(16, 8)"), ("W0.bias", "(16,)"),
                        ("W1.weight", "(1, 16)"), ("W1.bias", "(1,)")]:
        assert nodes[find(nodes, name)]["lines"][1] == f"{shape} float32"
    assert find(nodes, "Tanh") and find(nodes, "Mean")
    assert len(edges) == len(nodes) - 1  # a tree: each node feeds one op, to the output
    assert dot_ok(dot.source)


def test_show_attrs_and_show_saved_list_what_each_op_kept():
    model, x = readme_mlp()
    y = model(x).sum(axis=1) + model.W0(x).mean()
    plain = make_dot(y, params=dict(model.named_parameters())).source
    dot = make_dot(y, params=dict(model.named_parameters()), show_attrs=True, show_saved=True)
    nodes, _ = parse(dot.source)
    total = nodes[find(nodes, "Sum")]["lines"]
    assert total[:3] == ["Sum", "(1,)", "in_shape: (1, 1)"]
    tanh = nodes[find(nodes, "Tanh")]["lines"]
    assert "saved[0] (1, 16) float32" in tanh
    assert "scale: 0.0625" in nodes[find(nodes, "Mean")]["lines"]  # a number, unquoted
    assert "saved[" not in plain and "in_shape" not in plain
    short = make_dot(y, show_attrs=True, max_attr_chars=8).source
    assert "in_sh..." in short and dot_ok(dot.source)


def test_double_backprop_graph_with_the_input_among_params():
    model, x = readme_mlp()
    x.requires_grad_(True)
    y = model(x).mean()
    grad, = tg.autograd.grad(y, x, create_graph=True, retain_graph=True)
    z = (grad ** 2).mean() + y
    params = {**dict(model.named_parameters()), "x": x}  # the input named too
    dot = make_dot(z, params=params)
    nodes, edges = parse(dot.source)
    x_node = find(nodes, "x")
    assert nodes[x_node]["fillcolor"] == "lightblue"
    assert sum(s == x_node for s, _, _ in edges) == 1  # x feeds the forward Linear only
    assert len(nodes) > 2 * len(parse(make_dot(y, params=params).source)[0]) - 4
    assert dot_ok(dot.source)
    z.backward()
    assert x.grad is not None and model.W0.weight.grad is not None


def test_tuple_of_outputs_draws_one_green_node_each():
    model, x = readme_mlp()
    h = model.W0(x)
    outs = (h.tanh(), h.sigmoid())  # an LSTM cell's (h, c)
    nodes, _ = parse(make_dot(outs, params=dict(model.named_parameters())).source)
    greens = [a["lines"][0] for a in nodes.values() if a["fillcolor"] == "darkolivegreen1"]
    assert greens == ["output 0", "output 1"]


def test_render_with_a_format_and_the_digraph_attributes(tmp_path):
    model, x = readme_mlp()
    dot = make_dot(model(x), params=dict(model.named_parameters()))
    out = dot.render(str(tmp_path / "attached"), format="png")
    assert out.endswith("attached.png")
    assert (tmp_path / "attached.png").read_bytes()[:4] == b"\x89PNG"
    assert "W0.weight" in (tmp_path / "attached").read_text()  # the DOT source beside it
    assert dot.render(str(tmp_path / "model")).endswith("model.pdf")  # graphviz's default
    assert (tmp_path / "model.pdf").read_bytes()[:4] == b"%PDF"
    dot.format = "svg"
    dot.render(str(tmp_path / "g"), cleanup=True)
    assert (tmp_path / "g.svg").exists() and not (tmp_path / "g").exists()
    dot.graph_attr.update(size="12,12")  # resize_graph's way
    assert 'size="12,12"' in dot.source and dot_ok(dot.source)
    bundle = dot._repr_mimebundle_()  # what Jupyter shows for the cell's last line
    assert "W0.weight" in bundle["image/svg+xml"]


def test_mistakes_a_port_makes_are_named_with_the_fix(tmp_path):
    model, x = readme_mlp()
    with pytest.raises(TypeError, match=r"the Module Sequential: .*draw_graph\(model\(x\)"):
        make_dot(model)
    with pytest.raises(TypeError, match=r"without a name .*dict\(model.named_parameters\(\)\)"):
        make_dot(model(x), params=model.parameters())
    with pytest.raises(TypeError, match="plain ndarray"):
        make_dot(np.ones(3))
    from tinygrad_edu.viz import draw_graph
    with pytest.raises(ValueError, match="max_nodes=0; .* None for no limit"):
        draw_graph(model(x), max_nodes=0)
    with pytest.raises(ValueError, match="rankdir='lr'; use one of TB, LR"):
        draw_graph(model(x), rankdir="lr")
    saved = make_dot(model(x)).save(tmp_path / "new" / "folder" / "g.jpg")  # folders made
    assert saved.read_bytes()[:3] == b"\xff\xd8\xff"


def test_a_failed_render_leaves_the_old_file_whole(tmp_path, monkeypatch):
    import graphviz

    model, x = readme_mlp()
    dot = make_dot(model(x), params=dict(model.named_parameters()))
    assert dot.render(str(tmp_path / "net"), format="png") == str(tmp_path / "net.png")
    good = (tmp_path / "net.png").read_bytes()
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dot").write_text(  # a dot that dies half-way through writing its output
        '#!/bin/sh\nfor a; do last="$a"; done\n'  # graphviz runs dot -Tpng -O <source>
        'printf "\\211PNG half" > "$last.png"\nexit 1\n')
    (fake / "dot").chmod(0o755)
    monkeypatch.setenv("PATH", str(fake))
    with pytest.raises(graphviz.CalledProcessError):
        dot.render(str(tmp_path / "net"), format="png")
    assert (tmp_path / "net.png").read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "net", "net.png"]
