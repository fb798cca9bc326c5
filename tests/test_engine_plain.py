"""The engine's plain path (``backward()`` with no ``create_graph``, no anomaly mode) fuses the
walk with the propagation; the general path (``grad()``, anomaly mode, ``create_graph``) walks
first. Both must run the same nodes in the same order and give the same gradients bit for bit,
and both must match PyTorch (float64) on random graphs with shared subexpressions, broadcasting
and in-place changes."""

from __future__ import annotations

import operator

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.autograd.engine import backward_order, topological_order

SHAPES = [(3, 4), (4,), (1, 4), (3, 1), ()]
UNARY = ["tanh", "sigmoid", "neg"]
BINARY = ["add", "mul", "sub"]


@st.composite
def graphs(draw):
    """A recipe: leaf shapes and values, then ops on earlier values (any earlier value may be
    used many times, so gradients accumulate from several users), then the outputs summed."""
    n_leaves = draw(st.integers(1, 4))
    shapes = [draw(st.sampled_from(SHAPES)) for _ in range(n_leaves)]
    seed = draw(st.integers(0, 2**32 - 1))
    ops = []
    for i in range(draw(st.integers(1, 12))):
        size = n_leaves + i
        if draw(st.booleans()):
            ops.append((draw(st.sampled_from(UNARY)), draw(st.integers(0, size - 1))))
        else:
            ops.append((draw(st.sampled_from(BINARY)), draw(st.integers(0, size - 1)),
                        draw(st.integers(0, size - 1))))
    total = n_leaves + len(ops)
    outs = draw(st.lists(st.integers(0, total - 1), min_size=1, max_size=4))
    return shapes, seed, ops, outs


def _build(recipe, leaf, unary, binary):
    shapes, seed, ops, outs = recipe
    rng = np.random.default_rng(seed)
    values = [leaf(rng.uniform(-1, 1, s)) for s in shapes]
    leaves = list(values)
    for op in ops:
        if len(op) == 2:
            values.append(unary(op[0], values[op[1]]))
        else:
            values.append(binary(op[0], values[op[1]], values[op[2]]))
    loss = values[outs[0]].sum()
    for i in outs[1:]:
        loss = loss + values[i].sum()
    return leaves, loss


def _unary(name, x):
    return -x if name == "neg" else getattr(x, name)()


def _binary(name, x, y):  # the same operators on our tensors and torch's
    return {"add": operator.add, "mul": operator.mul, "sub": operator.sub}[name](x, y)


def _tg_graph(recipe, dtype=np.float64):
    def leaf(a):
        return tg.tensor(a.astype(dtype), requires_grad=True)

    return _build(recipe, leaf, _unary, _binary)


def _torch_graph(recipe):
    def leaf(a):
        return torch.tensor(a, dtype=torch.float64, requires_grad=True)

    return _build(recipe, leaf, _unary, _binary)


def _leaf_grads(leaves):
    return [None if x.grad is None else x.grad.data for x in leaves]


@given(graphs())
def test_plain_backward_matches_the_general_path_bit_for_bit(recipe) -> None:
    leaves, loss = _tg_graph(recipe, np.float32)
    plain_leaves, plain_loss = _tg_graph(recipe, np.float32)
    plain_loss.backward()  # the plain path
    general = tg.grad(loss, leaves, allow_unused=True)  # the general path (captures)
    for p, g in zip(_leaf_grads(plain_leaves), general):
        assert (p is None) == (g is None)
        if p is not None:
            assert p.dtype == np.float32
            assert np.array_equal(p, g.data)
    # anomaly mode takes the general path while accumulating into .grad
    anomaly_leaves, anomaly_loss = _tg_graph(recipe, np.float32)
    with tg.autograd.detect_anomaly():
        anomaly_loss.backward()
    for p, a in zip(_leaf_grads(plain_leaves), _leaf_grads(anomaly_leaves)):
        assert (p is None) == (a is None)
        if p is not None:
            assert np.array_equal(p, a)


@given(graphs())
def test_plain_backward_matches_pytorch(recipe) -> None:
    leaves, loss = _tg_graph(recipe)
    loss.backward()
    t_leaves, t_loss = _torch_graph(recipe)
    t_loss.backward()
    for x, tx in zip(leaves, t_leaves):
        if tx.grad is None:
            assert x.grad is None
        else:
            np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@given(graphs())
def test_backward_order_runs_users_before_their_inputs(recipe) -> None:
    _, loss = _tg_graph(recipe)
    order = backward_order([loss])
    position = {id(t): i for i, t in enumerate(order)}
    assert len(position) == len(order)  # each tensor once
    for t in order:
        if t._ctx is not None:
            for p, need in zip(t._ctx.parents, t._ctx.needs_input_grad):
                if need:
                    assert position[id(p)] > position[id(t)]
    assert order[0] is loss
    assert [id(t) for t in topological_order([loss])] == [id(t) for t in reversed(order)]


def test_in_place_changes_keep_the_order_and_the_gradients() -> None:
    # z is rebased twice; ops recorded before each change use the value from before it
    x = tg.tensor([1.0, -2.0, 3.0], dtype=tg.float64, requires_grad=True)
    z = x * 2
    early = z + x
    z += x
    middle = z.tanh()
    z *= x
    loss = (early + middle + z).sum()
    order = backward_order([loss])
    position = {id(t): i for i, t in enumerate(order)}
    for t in order:
        if t._ctx is not None:
            for p, need in zip(t._ctx.parents, t._ctx.needs_input_grad):
                if need:
                    assert position[id(p)] > position[id(t)]
    loss.backward()
    tx = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    tz = tx * 2
    t_early = tz + tx
    tz = tz + tx
    t_middle = tz.tanh()
    tz = tz * tx
    (t_early + t_middle + tz).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)


def test_hooks_and_retain_grad_on_the_plain_path() -> None:
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = x * 3
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.data.copy()) or g * 2)
    x.register_hook(lambda g: seen.append(g.data.copy()))
    (y * y).sum().backward()
    # y's hook sees 2y, changes it to 4y (retain_grad keeps the changed one, as PyTorch)
    assert np.array_equal(seen[0], [6.0, 12.0])
    assert np.array_equal(y.grad.data, [12.0, 24.0])
    assert np.array_equal(seen[1], [36.0, 72.0])
    assert np.array_equal(x.grad.data, [36.0, 72.0])


def test_a_second_backward_through_a_freed_graph_still_fails() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


class _Weighted(tg.Function):
    """sum_i (i + 1) * x_i over any number of inputs, recording what apply passed in."""

    @staticmethod
    def forward(ctx, *xs):
        ctx.seen = tuple(type(x) for x in xs)
        return sum((i + 1) * np.asarray(x, np.float64) for i, x in enumerate(xs))

    @staticmethod
    def backward(ctx, g):
        return tuple(g * (i + 1) for i in range(len(ctx.needs_input_grad)))


@given(st.lists(st.sampled_from(["grad", "const", "array", "number"]), min_size=1, max_size=4),
       st.booleans())
def test_apply_passes_arrays_and_marks_the_inputs_that_need_grad(kinds, enabled) -> None:
    # apply is unrolled for one and two inputs: every arity must see the same contract
    inputs = []
    for i, kind in enumerate(kinds):
        value = np.full(2, i + 0.5)
        inputs.append({"grad": lambda v: tg.tensor(v, requires_grad=True),
                       "const": tg.tensor, "array": lambda v: v,
                       "number": lambda v: float(v[0])}[kind](value))
    with tg.set_grad_enabled(enabled):
        out = _Weighted.apply(*inputs)
    for kind, seen in zip(kinds, out._ctx.seen if out._ctx else ()):
        assert seen is (float if kind == "number" else np.ndarray)
    wants = [enabled and kind == "grad" for kind in kinds]
    assert out.requires_grad == any(wants)
    if not any(wants):
        assert out._ctx is None
        return
    assert out._ctx.needs_input_grad == tuple(wants)
    out.sum().backward()
    for i, (kind, x) in enumerate(zip(kinds, inputs)):
        if kind == "grad":
            assert np.array_equal(x.grad.data, np.full(2, i + 1.0))


def _record_runs(t, ran: list) -> None:
    key = id(t)
    t.register_hook(lambda g: ran.append(key))


def _watch_runs(loss) -> tuple[list, list]:
    """The nodes' ids in backward_order, and a list their hooks fill as backward runs them."""
    nodes = [t for t in backward_order([loss]) if t._ctx is not None]
    ran: list = []
    for t in nodes:
        _record_runs(t, ran)
    return [id(t) for t in nodes], ran


@given(graphs())
def test_plain_backward_runs_the_nodes_in_backward_order(recipe) -> None:
    # hooks on every node record when it runs: the chain shortcut must keep the heap's order
    _, loss = _tg_graph(recipe)
    expected, ran = _watch_runs(loss)
    loss.backward()
    assert ran == expected


def test_a_branch_and_a_chain_interleave_by_creation_order() -> None:
    # a node reached while an older one waits on the heap runs first only if it is newer
    x = tg.tensor([0.5, -1.0], dtype=tg.float64, requires_grad=True)
    a = x.tanh()  # old, reached from the loss directly
    b = (x * 2).sigmoid().tanh()  # a chain of newer nodes
    loss = (a.sum() + b.sum()) * 3
    order, ran = _watch_runs(loss)
    loss.backward()
    assert ran == order
    tx = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    ((tx.tanh().sum() + (tx * 2).sigmoid().tanh().sum()) * 3).backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)


class _WrongShape(tg.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return np.ones((5, 7))


class _Float64Grad(tg.Function):
    _fresh_grads = True

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g.astype(np.float64) * 2


@pytest.mark.parametrize("path", ["plain", "general"])
def test_a_wrong_shaped_user_gradient_raises_a_clear_error(path) -> None:
    x = tg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    loss = _WrongShape.apply(x.tanh()).sum()
    with pytest.raises(RuntimeError, match=r"_WrongShapeBackward: the gradient has shape \(5, 7\)"
                       r".*input's shape \(2, 3\)"):
        if path == "plain":
            loss.backward()
        else:
            tg.grad(loss, x)


@pytest.mark.parametrize("path", ["plain", "general"])
def test_a_user_gradient_of_another_dtype_is_cast_to_the_input_dtype(path) -> None:
    x = tg.tensor(np.array([1.0, -2.0], np.float32), requires_grad=True)
    h = x.tanh()
    loss = _Float64Grad.apply(h).sum() + _Float64Grad.apply(x).sum()
    if path == "plain":
        loss.backward()
        g = x.grad.data
    else:
        g = tg.grad(loss, x)[0].data
    assert g.dtype == np.float32
    expected = 2 * (1 - np.tanh(np.float64(x.data)) ** 2) + 2
    np.testing.assert_allclose(g, expected.astype(np.float32), rtol=1e-6)
