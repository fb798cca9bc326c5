"""Tensor basics: creation and dtype rules, factories and randomness, printing, error
messages, indexing conveniences and numpy interoperability."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import tinygrad_edu as tg


def test_dtype_rules_follow_pytorch() -> None:
    assert tg.tensor(1.5).dtype == np.float32
    assert tg.tensor([1.0, 2.0]).dtype == np.float32
    assert tg.tensor([1, 2]).dtype == np.int64
    assert tg.tensor([True, False]).dtype == np.bool_
    assert tg.tensor(np.arange(3, dtype=np.int32)).dtype == np.int32  # numpy keeps its dtype
    assert tg.tensor(np.ones(2)).dtype == np.float64
    assert tg.Tensor([1, 2]).dtype == np.float32  # Tensor(...) makes floats, like torch.Tensor
    assert tg.tensor([1, 2], dtype=tg.float64).dtype == np.float64
    for data in ([1.0, 2.0], [1, 2], [True]):
        assert str(tg.tensor(data).dtype) == str(torch.tensor(data).dtype).replace("torch.", "")


def test_default_dtype_can_be_changed_and_must_be_floating() -> None:
    tg.set_default_dtype(tg.float64)
    assert tg.tensor([1.0]).dtype == np.float64
    assert tg.zeros(2).dtype == np.float64 and tg.randn(2).dtype == np.float64
    with pytest.raises(TypeError, match="floating"):
        tg.set_default_dtype(np.int32)
    tg.set_default_dtype(tg.float32)
    assert tg.ones(1).dtype == np.float32


def test_tensor_copies_while_from_numpy_and_Tensor_share_memory() -> None:
    a = np.zeros(2)
    t, shared, same = tg.tensor(a), tg.from_numpy(a), tg.Tensor(a)
    a[0] = 5
    assert t.tolist() == [0.0, 0.0]
    assert shared.tolist() == [5.0, 0.0] and same.tolist() == [5.0, 0.0]


def test_factories() -> None:
    assert tg.zeros(2, 3).shape == (2, 3) and tg.zeros((2, 3)).shape == (2, 3)
    assert tg.ones(2).tolist() == [1.0, 1.0]
    assert tg.full((2,), 3).dtype == np.int64 and tg.full((2,), 3.0).dtype == np.float32
    assert tg.arange(3).tolist() == [0, 1, 2] and tg.arange(0, 1, 0.5).dtype == np.float32
    assert tg.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert tg.zeros_like(tg.ones(2, dtype=tg.float64)).dtype == np.float64
    assert tg.ones_like(tg.zeros(3)).tolist() == [1.0, 1.0, 1.0]
    assert tg.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]
    p = tg.zeros(2, requires_grad=True)
    assert p.requires_grad and p.is_leaf


def test_manual_seed_and_generators_make_randomness_reproducible() -> None:
    tg.manual_seed(7)
    a = tg.randn(5)
    tg.manual_seed(7)
    b = tg.randn(5)
    assert (a.numpy() == b.numpy()).all()
    g1, g2 = tg.Generator().manual_seed(3), tg.Generator().manual_seed(3)
    assert (tg.rand(4, generator=g1).numpy() == tg.rand(4, generator=g2).numpy()).all()
    r = tg.rand(1000)
    assert r.numpy().min() >= 0 and r.numpy().max() < 1
    assert sorted(tg.randperm(5, generator=g1).tolist()) == [0, 1, 2, 3, 4]
    ints = tg.randint(3, 6, size=(100,), generator=g1).numpy()
    assert ints.min() >= 3 and ints.max() <= 5


def test_repr_is_readable_and_shows_autograd_state() -> None:
    assert repr(tg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    w = tg.tensor([1.0], requires_grad=True)
    assert repr(w) == "tensor([1.], requires_grad=True)"
    assert repr(w * 2) == "tensor([2.], grad_fn=<MulBackward>)"
    assert repr(tg.tensor([1.0], dtype=tg.float64)) == "tensor([1.], dtype=float64)"
    assert "..." in repr(tg.zeros(1000))


def test_properties_and_conversions() -> None:
    t = tg.tensor([[1.0, 2.0, 3.0]])
    assert t.shape == (1, 3) and t.ndim == 2 and t.dim() == 2 and t.numel() == 3
    assert t.size() == (1, 3) and t.size(1) == 3
    assert isinstance(t.numpy(), np.ndarray)
    assert tg.tensor([2.5]).item() == 2.5 and float(tg.tensor(2.0)) == 2.0
    with pytest.raises(ValueError, match=r"exactly one element.*\(1, 3\)"):
        t.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(t)
    assert t.double().dtype == np.float64 and t.long().dtype == np.int64
    assert t.to(tg.float64).dtype == np.float64 and t.to("cpu") is t
    assert [row.tolist() for row in t] == [[1.0, 2.0, 3.0]] and len(t) == 1


def test_cast_is_differentiable() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 3
    y.sum().backward()
    assert y.dtype == np.float64 and x.grad.dtype == np.float32
    assert x.grad.tolist() == [3.0, 3.0]


def test_comparisons_give_bool_tensors_without_grad() -> None:
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    assert (x == 2.0).tolist() == [False, True, False]
    assert ((x > 1) & (x < 3)).tolist() == [False, True, False]
    assert (~(x > 1)).tolist() == [True, False, False]
    assert x.isfinite().all().item()


def test_max_with_dim_returns_values_and_indices_like_pytorch() -> None:
    x = tg.tensor([[1.0, 5.0], [7.0, 2.0]])
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert x.min(0).indices.tolist() == [0, 1]
    assert x.amax(axis=1).tolist() == [5.0, 7.0]
    with pytest.raises(TypeError, match=r"\(values, indices\).*amax"):
        _ = x - x.max(dim=1)


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (
            lambda: tg.ones(3, 4) @ tg.ones(5, 2),
            r"MatMul: shapes \(3, 4\) and \(5, 2\) are not aligned.*4.*5",
        ),
        (lambda: tg.ones(3) + tg.ones(4), r"Add: .*broadcast.*\(3,\).*\(4,\)"),
        (lambda: tg.ones(2, 3).reshape(4), r"Reshape: .*size 6.*\(4,\)"),
        (lambda: tg.ones(2)[5], r"GetItem: .*index 5.*size 2"),
        (lambda: tg.ones(2)[tg.tensor([0.5])], r"integer or boolean.*long"),
        (
            lambda: tg.cat([tg.ones(2, 2), tg.ones(3, 3)], axis=0),
            r"Concatenate: .*\(2, 2\).*\(3, 3\)",
        ),
        (lambda: tg.ones(2).permute(1, 0), r"permute: .*not a permutation"),
        (
            lambda: tg.conv2d(tg.ones(1, 3, 5, 5), tg.ones(2, 2, 3, 3)),
            r"conv2d: input has 3 channels",
        ),
        (
            lambda: tg.conv2d(tg.ones(1, 1, 2, 2), tg.ones(1, 1, 3, 3)),
            r"kernel.*larger than the input",
        ),
        (lambda: tg.ones(2).clamp(), r"clamp: give at least one"),
        (lambda: tg.tensor([[1.0], [2.0, 3.0]]), r"equal length"),
    ],
)
def test_errors_name_the_op_and_the_shapes(make, pattern) -> None:
    with pytest.raises((ValueError, IndexError, TypeError, RuntimeError), match=pattern):
        make()


def test_split_chunk_stack_and_index_helpers() -> None:
    x = tg.arange(10.0)
    assert [p.shape for p in x.split(4)] == [(4,), (4,), (2,)]
    assert [p.shape for p in x.split([3, 7])] == [(3,), (7,)]
    with pytest.raises(ValueError, match="do not add up"):
        x.split([3, 3])
    assert [p.shape for p in x.chunk(3)] == [(4,), (4,), (2,)]
    m = tg.arange(6.0).reshape(2, 3)
    assert m[:, tg.tensor([2, 0])].tolist() == [[2.0, 0.0], [5.0, 3.0]]
    assert m[m > 2].tolist() == [3.0, 4.0, 5.0]
    assert m.T.shape == (3, 2) and m.transpose(0, 1).shape == (3, 2)
    assert m.unsqueeze(0).shape == (1, 2, 3) and m.unsqueeze(-1).shape == (2, 3, 1)
    assert m.reshape(1, 2, 3).squeeze().shape == (2, 3)
    assert tg.ones(2, 1, 3).squeeze(1).shape == (2, 3)
    assert tg.ones(1, 3).expand(4, -1).shape == (4, 3)
    assert tg.ones(2, 3, 4).flatten(1).shape == (2, 12)


def test_repeated_advanced_indices_accumulate_gradient() -> None:
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_reflected_operators_with_numbers_and_numpy_arrays() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    for y in (1 - x, 2 / x, 2**x, np.array([1.0, 1.0]) - x, np.ones((2, 2)) @ x):
        assert isinstance(y, tg.Tensor) and y.requires_grad
    y = np.float64(3.0) * x  # a numpy scalar behaves like a Python number: stays float32
    assert isinstance(y, tg.Tensor) and y.dtype == np.float32


def test_numpy_functions_dispatch_to_differentiable_tensor_ops() -> None:
    w = tg.tensor([[0.5, -1.0], [2.0, 0.1]], dtype=tg.float64, requires_grad=True)
    x = np.array([1.0, 2.0])
    h = np.tanh(np.dot(w, x))
    out = np.concatenate([np.ones(1), h])
    loss = np.sum(np.square(out)) / 2 + np.mean(np.exp(w)) + np.outer(h, h).sum()
    assert isinstance(loss, tg.Tensor)
    loss.backward()
    tw = torch.tensor(w.numpy(), requires_grad=True)
    th = torch.tanh(tw @ torch.tensor(x))
    tout = torch.cat([torch.ones(1, dtype=torch.float64), th])
    tloss = (tout**2).sum() / 2 + torch.exp(tw).mean() + torch.outer(th, th).sum()
    tloss.backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


def test_numpy_functions_without_a_gradient_rule_refuse_to_cut_the_graph() -> None:
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="sinc has no gradient.*detach"):
        np.sinc(w)
    assert np.sinc(w.detach()).tolist() == pytest.approx([0.0, 0.0], abs=1e-6)  # no grad: fine
    assert np.allclose(w, [1.0, 2.0])  # boolean results are fine too


@pytest.mark.parametrize(
    ("call", "name"),
    [(np.linalg.inv, "np.linalg.inv"), (np.fft.fft, "np.fft.fft"), (np.cov, "np.cov")],
)
def test_a_function_without_a_gradient_is_named_as_a_learner_writes_it(call, name) -> None:
    w = tg.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    with pytest.raises(TypeError, match=f"^{re.escape(name)} has no gradient"):
        call(w)


def test_rounding_has_zero_gradient_like_pytorch() -> None:
    x = tg.tensor([0.1234, 2.5678], requires_grad=True)
    y = (np.round(x, 2) * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.round(x.numpy(), 2), rtol=1e-6)
