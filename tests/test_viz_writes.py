"""Drawings of in-place changes: ``z[mask] = 0`` or ``v += x`` through a view is recorded as
where, scatter and reshape ops (autograd.inplace); a drawing shows each change as one box
titled as the user wrote it, with the ops it stands for listed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu.gradcheck import gradcheck
from tinygrad_edu.testing import strategies as tst
from tinygrad_edu.viz import draw_graph
from tinygrad_edu.viz.collapse import group_writes, write_title
from tinygrad_edu.viz.walk import build

from .test_viz import edge_set, find, parse


def _drawn(out, params):
    nodes, edges = parse(draw_graph(out, params).to_dot())
    return nodes, edges


def _op_titles(nodes):
    return [a["lines"][0] for a in nodes.values()]


def test_a_masked_write_is_one_box_between_the_ops_around_it() -> None:
    a = tg.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    z = a * 2
    z[z < 0] = 0  # numpy's ReLU, as learners write it
    nodes, edges = _drawn(z.sum(), {"a": a})
    box = find(nodes, "[…] = (in place)")
    assert nodes[box]["lines"][1:] == ["1 op: Where", "→ (2, 2)"]
    assert "diagonals" in nodes[box]["style"]
    mul, total = find(nodes, "Mul ×2"), find(nodes, "Sum")
    assert {(mul, box), (box, total)} <= edge_set(edges)
    # the mask and the zeros are the box's own: no constant node is drawn for them
    assert not [t for t in _op_titles(nodes) if t in ("const", "Where", "Cast")]


def test_a_constant_is_written_in_the_tensors_dtype() -> None:
    """``z[mask] = 0`` stores float zeros, as numpy does: the where stays float32 (an int64
    array of zeros made it float64, then a cast back)."""
    a = tg.tensor([[1.0, -2.0]], requires_grad=True)
    z = a * 2
    z[z < 0] = 0
    assert z.dtype == np.float32 and z._ctx.name == "Where"
    assert all(p.dtype == np.float32 for p in z._ctx.parents if isinstance(p, tg.Tensor))


def test_a_write_through_a_view_is_one_box_for_the_view_and_its_base() -> None:
    """``b[:, 1] += a[:, 0]`` gives the view and the tensor it views new histories (the add,
    then the scatter back into the base): both belong to the one change."""
    a = tg.randn(4, 3, requires_grad=True)
    b = a * 2
    b[:, 1] += a[:, 0]
    nodes, _ = _drawn(b.sum(), {"a": a})
    titles = _op_titles(nodes)
    assert titles.count("+= (in place)") == 1
    box = find(nodes, "+= (in place)")
    assert nodes[box]["lines"][1].startswith("5 ops: Add, Reshape, ScatterAdd, Reshape")
    assert not {"ScatterAdd", "Reshape", "Add"} & set(titles)


def test_each_change_gets_its_own_box_in_order() -> None:
    a = tg.randn(3, requires_grad=True)
    z = a.exp()
    z += a
    z[0] = 1.0
    z *= 3
    g = group_writes(build([(None, z.sum())], {}))
    boxes = [n for n in g.nodes.values() if n.kind == "write"]
    assert [n.title for n in boxes] == ["+= (in place)", "[…] = (in place)", "*= (in place)"]
    assert [n.lines[0] for n in boxes] == ["1 op: Add", "1 op: Where", "1 op: Mul"]
    succ = g.successors()
    assert [succ[b.id] for b in boxes[:2]] == [[boxes[1].id], [boxes[2].id]]


def test_an_out_of_place_graph_is_drawn_as_before() -> None:
    a = tg.randn(3, requires_grad=True)
    z = a * 2
    z = z + a  # not in place: no box
    nodes, _ = _drawn(z.sum(), {"a": a})
    assert "Add" in _op_titles(nodes)
    assert not [t for t in _op_titles(nodes) if t.endswith("(in place)")]


def test_the_explorer_can_expand_a_write_box() -> None:
    a = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    b = a * 2
    b[1:] += a[:2]
    d = draw_graph(b.sum(), {"a": a})
    names = [v["name"] for v in d.explorer()._data["views"]]
    # Python runs ``b[1:] += v`` as ``t = b[1:]; t += v; b[1:] = t``: two changes
    assert names == ["the graph", "expanded: += (in place)", "expanded: […] = (in place)"]


def test_write_titles_name_the_operator() -> None:
    assert write_title("-=") == "-= (in place)"
    assert write_title("masked_fill_") == "masked_fill_ (in place)"


@settings(max_examples=25, deadline=None)
@given(data=st.data(), shape=tst.shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
       value=st.one_of(st.integers(-3, 3), st.floats(-3, 3)))
def test_writing_a_constant_under_a_mask_matches_numpy_and_central_differences(
        data, shape, value) -> None:
    """The value is numpy's (``out[mask] = value`` on a copy), and the gradient is zero where
    the constant was written and passes through elsewhere (float64 central differences)."""
    x = data.draw(tst.tensors(shape, requires_grad=True))
    mask = data.draw(hnp.arrays(np.bool_, shape))

    def f(t):
        z = t * 1.5
        z[mask] = value
        return z

    expected = x.data * 1.5
    expected[mask] = value
    assert np.array_equal(f(x).data, expected)
    assert gradcheck(f, (x,))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_bool_constant_written_into_a_float_tensor_is_stored_as_a_float(dtype) -> None:
    """numpy's setitem: ``z[mask] = True`` stores 1.0 and ``z`` keeps its dtype."""
    x = tg.tensor(np.array([1.0, 2.0, 3.0], dtype), requires_grad=True)
    z = x * 1
    z[np.array([True, False, True])] = True
    assert z.dtype == dtype and z.tolist() == [1.0, 2.0, 1.0]
