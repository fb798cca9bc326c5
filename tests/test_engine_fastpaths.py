"""The engine's shortcuts must not change what users see: gradients adopted without a copy
are never shared, freed graphs still say so, Tensor attributes keep their defaults."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.autograd.engine import backward_order


def test_adopted_gradients_are_not_shared_with_anything() -> None:
    # Linear's and MatMul's gradients are fresh products, adopted as .grad without a copy
    layer = nn.Linear(3, 2)
    x = tg.tensor(np.ones((4, 3), np.float32), requires_grad=True)
    layer(x).sum().backward()
    grads = [layer.weight.grad.data, layer.bias.grad.data, x.grad.data]
    for i, a in enumerate(grads):
        for b in grads[i + 1:]:
            assert not np.shares_memory(a, b)
    before = [g.copy() for g in grads]
    layer.weight.grad.data[...] = 99  # in place on one gradient touches no other
    assert np.array_equal(layer.bias.grad.data, before[1])
    assert np.array_equal(x.grad.data, before[2])


def test_a_hook_that_keeps_the_gradient_does_not_share_it_with_grad() -> None:
    w = tg.tensor(np.ones((2, 2), np.float32), requires_grad=True)
    seen = []
    w.register_hook(lambda g: seen.append(g))
    (tg.tensor(np.ones((3, 2), np.float32)) @ w).sum().backward()
    assert not np.shares_memory(seen[0].data, w.grad.data)


def test_a_user_gradient_is_copied_not_adopted() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([3.0, 4.0], np.float32)
    (x * 1).backward(gradient=seed)  # Mul is a fresh rule: g * 1 is a new array
    x.grad.data[...] = 0
    assert seed.tolist() == [3.0, 4.0]
    y = tg.tensor([1.0, 2.0], requires_grad=True)
    y.backward(gradient=seed)  # a leaf as the root: its gradient is the caller's array
    assert not np.shares_memory(y.grad.data, seed)


def test_accumulation_across_backward_calls_after_adoption() -> None:
    w = tg.tensor(np.ones((2, 2), np.float32), requires_grad=True)
    x = tg.tensor(np.ones((1, 2), np.float32))
    (x @ w).sum().backward()
    first = w.grad
    first_values = first.data.copy()
    (x @ w).sum().backward()
    assert w.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]]
    assert np.array_equal(first.data, first_values)  # the old .grad object is not mutated


def test_freed_nodes_and_tensor_defaults() -> None:
    x = tg.tensor([1.0], requires_grad=True)
    y = x * 2
    node = y.grad_fn
    assert not node._freed
    y.sum().backward()
    assert node._freed
    with pytest.raises(RuntimeError, match="second time"):
        _ = node.saved_tensors
    t = tg.tensor([1.0])
    assert t.grad is None and t._version == 0 and t._hooks is None and not t._retains_grad
    t.grad = tg.tensor([2.0])
    assert tg.Tensor._grad is None and t.grad.tolist() == [2.0]  # the instance's, not the class's


def test_many_inputs_to_one_op_without_grad() -> None:
    parts = [tg.tensor([float(i)]) for i in range(100)]
    with tg.no_grad():
        assert tg.cat([p.requires_grad_() for p in parts]).shape == (100,)
    assert tg.cat(parts).shape == (100,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_the_implied_seed_is_a_new_array_every_time(dtype, shape) -> None:
    # backward() copies its seed of ones from a cached array: no .grad, hook or rule that
    # changes the gradient it got in place may change the seed of a later backward
    x = tg.tensor(np.full(shape, 2.0, dtype), requires_grad=True)
    x.backward()  # a leaf as the root: its .grad comes from the seed itself
    assert x.grad.dtype == dtype and x.grad.shape == shape
    x.grad.data[...] += 5  # in place on .grad
    x.backward()
    assert np.array_equal(x.grad.data, np.full(shape, 7.0, dtype))
    y = tg.tensor(np.full(shape, 3.0, dtype), requires_grad=True)
    out = y * 1

    def scale_in_place(g):
        g.data *= 10  # in place on the seed

    out.register_hook(scale_in_place)
    out.backward(retain_graph=True)
    out.backward()
    assert np.array_equal(y.grad.data, np.full(shape, 20.0, dtype))
    z = tg.tensor(np.full(shape, 4.0, dtype), requires_grad=True)
    z.backward()
    (z * 1).backward()
    assert np.array_equal(z.grad.data, np.full(shape, 2.0, dtype))
    assert np.array_equal(tg.ones(*shape, dtype=dtype).data, np.ones(shape, dtype))


def test_leaves_reached_in_any_order_accumulate_after_every_node() -> None:
    # leaves wait until every node has run, in the order they were first reached, so a leaf
    # reached early through one path still gets the gradient of a later path
    a = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    b = tg.tensor([3.0, 4.0], dtype=tg.float64, requires_grad=True)
    seen = []
    a.register_hook(lambda g: seen.append(("a", g.data.copy())))
    b.register_hook(lambda g: seen.append(("b", g.data.copy())))
    h = a * b  # reaches b then a...
    loss = ((h * a).tanh() + b * 2).sum()  # ...and later paths reach both again
    leaf_order = [t for t in backward_order([loss]) if t._ctx is None]
    assert leaf_order[0] is b and leaf_order[1] is a
    loss.backward()
    tx = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in ([1.0, 2], [3.0, 4])]
    ((tx[0] * tx[1] * tx[0]).tanh() + tx[1] * 2).sum().backward()
    assert [name for name, _ in seen] == ["b", "a"]
    np.testing.assert_allclose(a.grad.data, tx[0].grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.data, tx[1].grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(seen[0][1], tx[1].grad.numpy(), rtol=1e-12)


def test_broadcast_and_cast_gradients_are_adopted_but_never_shared() -> None:
    # a gradient summed back to a broadcast input (or cast to its dtype) is a new array: it
    # becomes the .grad without a copy, and still shares memory with nothing else
    x = tg.tensor(np.arange(6, dtype=np.float32).reshape(3, 2), requires_grad=True)
    b = tg.tensor(np.ones(2, np.float32), requires_grad=True)
    c = tg.tensor(np.ones((1, 2), np.float64), requires_grad=True)
    seen = []
    out = x + b + c  # b's gradient is summed over rows; c's is summed and cast to float64
    out.register_hook(lambda g: seen.append(g))
    out.backward(gradient=np.ones((3, 2), np.float64), retain_graph=True)
    grads = [x.grad.data, b.grad.data, c.grad.data, seen[0].data]
    for i, a in enumerate(grads):
        for other in grads[i + 1:]:
            assert not np.shares_memory(a, other)
    assert b.grad.tolist() == [3.0, 3.0] and b.grad.dtype == np.float32
    assert c.grad.tolist() == [[3.0, 3.0]] and c.grad.dtype == np.float64
    b.grad.data[...] = 0  # in place on one gradient touches no other
    out.backward(gradient=np.ones((3, 2), np.float64))
    assert b.grad.tolist() == [3.0, 3.0] and c.grad.tolist() == [[6.0, 6.0]]
    assert x.grad.tolist() == [[2.0, 2.0]] * 3


class _AsDtype(tg.Function):
    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g, None


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", ">f8", "<f4"])
def test_every_float_output_is_recorded(dtype) -> None:
    # apply checks float32 and float64 by identity first: other spellings must still record
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    out = _AsDtype.apply(x, np.dtype(dtype))
    assert out.requires_grad and out.grad_fn is not None
    assert out.grad_fn.needs_input_grad == (True, False)
    if out.dtype.kind == "f":
        out.sum().backward()
        assert x.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_a_complex_output_of_a_tensor_that_requires_grad_is_refused(dtype) -> None:
    # recorded, its gradients came out without PyTorch's conjugate convention: wrong, silently
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    with pytest.raises(TypeError, match="_AsDtype: its result is complex"):
        _AsDtype.apply(x, np.dtype(dtype))
    assert _AsDtype.apply(x.detach(), np.dtype(dtype)).dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "uint8"])
def test_integer_and_bool_outputs_are_not_recorded(dtype) -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    out = _AsDtype.apply(x, np.dtype(dtype))
    assert not out.requires_grad and out.grad_fn is None


class _ExpSavingOutput(tg.Function):
    """0-d math returns a numpy scalar: apply makes it an array, saved in its place."""

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        _, out = ctx.saved_tensors
        return g * out


def test_a_scalar_output_is_saved_as_the_output_array() -> None:
    x = tg.tensor(0.5, dtype=tg.float64, requires_grad=True)
    y = _ExpSavingOutput.apply(x)
    assert type(y.data) is np.ndarray and y.shape == ()
    saved_x, saved_out = y.grad_fn.saved
    assert saved_x is x.data and saved_out is y.data  # the scalar replaced, the input kept
    (dy,) = tg.grad(y, x, create_graph=True)  # the saved output maps back to y in a graph
    (d2y,) = tg.grad(dy, x)
    assert float(dy) == float(d2y) == float(np.exp(0.5))


# Backward keeps a new .grad as a bare array; Tensor.grad wraps it on the first read.


def test_grad_is_one_tensor_and_writing_into_it_changes_the_step() -> None:
    w = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.5)
    (w * w).sum().backward()  # grad 2w
    g = w.grad
    assert type(g) is tg.Tensor and g is w.grad and not g.requires_grad
    assert g.dtype == w.dtype and g.shape == w.shape
    g.data[...] *= 0.5  # a hand-written clip, in place: the step must use it
    opt.step()
    np.testing.assert_array_equal(w.numpy(), np.array([0.5, -1.0, 1.5], np.float32))


def test_a_kept_grad_stays_and_accumulation_adds_in_both_forms() -> None:
    for read_between in (False, True):
        x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
        (x * 3).sum().backward()
        kept = x.grad if read_between else None
        (x * x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [5.0, 7.0])
        if kept is not None:
            np.testing.assert_array_equal(kept.numpy(), [3.0, 3.0])
            assert kept is not x.grad


def test_create_graph_accumulates_onto_a_plain_grad() -> None:
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    (x * 3).sum().backward()  # .grad: a bare array
    (x * x * x).sum().backward(create_graph=True)  # + 3x², with a graph
    g = x.grad
    assert g.requires_grad
    np.testing.assert_array_equal(g.numpy(), [6.0, 15.0])
    (second,) = tg.grad(g.sum(), x)  # d/dx of 3 + 3x² summed
    np.testing.assert_array_equal(second.numpy(), [6.0, 12.0])


@pytest.mark.parametrize("make", [
    lambda ps, fe: tg.optim.SGD(ps, lr=0.1, momentum=0.9, foreach=fe),
    lambda ps, fe: tg.optim.Adam(ps, lr=0.1, foreach=fe),
    lambda ps, fe: tg.optim.RMSprop(ps, lr=0.1, foreach=fe),
    lambda ps, fe: tg.optim.Adagrad(ps, lr=0.1, foreach=fe),
], ids=["sgd", "adam", "rmsprop", "adagrad"])
@pytest.mark.parametrize("foreach", [None, False, True])
def test_optimizers_step_the_same_whether_grad_was_read_or_not(make, foreach) -> None:
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((3, 2), (2,), (1, 3))]
    results = []
    for read in (False, True):
        ps = [tg.tensor(a.copy(), requires_grad=True) for a in arrays]
        opt = make(ps, foreach)
        for _ in range(3):
            opt.zero_grad(set_to_none=read)  # zeros in place, or None
            sum(((p * p).sum() for p in ps), tg.tensor(0.0)).backward()
            if read:
                assert all(type(p.grad) is tg.Tensor for p in ps)
            opt.step()
        results.append([p.numpy().copy() for p in ps])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_call_on_arrays_runs_forward_for_every_primitive_that_reads_its_node() -> None:
    # Relu and Max look at needs_input_grad in forward (to save a mask only when recorded)
    from tinygrad_edu.ops.elementwise import Relu
    from tinygrad_edu.ops.reduce import Max

    x = np.array([[-1.0, 2.0], [3.0, -4.0]])
    np.testing.assert_array_equal(Relu.call(x), np.maximum(x, 0))
    np.testing.assert_array_equal(Max.call(x, axis=1), x.max(axis=1))
    t = tg.tensor(x, requires_grad=True)
    out = Relu.call(t)  # on a Tensor: recorded
    assert isinstance(out, tg.Tensor) and out.requires_grad


@pytest.mark.parametrize("graph", [
    lambda x, y: x + y,  # Add hands the same gradient to both inputs
    lambda x, y: (x + y) * 1.0 + x,  # an accumulated gradient next to a passed-on one
    lambda x, y: x - y,
    lambda x, y: (x * y).relu() + y,
])
def test_no_gradient_is_shared_with_another_or_with_the_callers_seed(graph) -> None:
    x = tg.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    y = tg.tensor(np.array([0.5, 4.0, -1.0]), requires_grad=True)
    out = graph(x, y)
    out.retain_grad()
    seed = np.array([1.0, 2.0, 3.0])
    out.backward(gradient=seed)
    arrays = [x.grad.data, y.grad.data, out.grad.data, seed]
    for i, a in enumerate(arrays):
        for b in arrays[i + 1:]:
            assert not np.shares_memory(a, b)
