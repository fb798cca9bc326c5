"""The engine's shortcuts must not change what users see: gradients adopted without a copy
are never shared, freed graphs still say so, Tensor attributes keep their defaults."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn


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
