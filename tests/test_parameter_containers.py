"""nn.ParameterList and nn.ParameterDict against PyTorch's: registration names, state_dict,
training through an optimizer, conversion of plain tensors, indexing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import nn, optim


def Polynomial(lib, coeffs):
    """y = (sum_k c_k x^k) * scale + shift, one parameter per degree, in ``lib``'s nn (the
    same code for tinygrad_edu and torch)."""

    class Polynomial(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.c = lib.nn.ParameterList([lib.tensor([c]) for c in coeffs])
            self.affine = lib.nn.ParameterDict({"scale": lib.tensor([1.5]),
                                                "shift": lib.tensor([0.25])})

        def forward(self, x):
            y = 0
            for k, c in enumerate(self.c):
                y = y + c * x ** k
            return y * self.affine["scale"] + self.affine["shift"]

    return Polynomial()


def test_names_state_dict_and_training_match_pytorch() -> None:
    coeffs = [0.5, -1.0, 0.25]
    ours, theirs = Polynomial(tg, coeffs), Polynomial(torch, coeffs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "c.0", "c.1", "c.2", "affine.scale", "affine.shift"]
    opt_ours = optim.SGD(ours.parameters(), lr=0.05)
    opt_theirs = torch.optim.SGD(theirs.parameters(), lr=0.05)
    x = np.linspace(-1, 1, 9).astype(np.float32)
    y = (x ** 2).astype(np.float32)
    for _ in range(5):
        for model, opt, lib in ((ours, opt_ours, tg), (theirs, opt_theirs, torch)):
            opt.zero_grad()
            ((model(lib.tensor(x)) - lib.tensor(y)) ** 2).mean().backward()
            opt.step()
    for (n, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, err_msg=n)


def test_plain_tensors_become_parameters_that_share_memory() -> None:
    t = tg.zeros(2)
    ws = nn.ParameterList([t])
    assert isinstance(ws[0], nn.Parameter) and ws[0].requires_grad and ws[0].is_leaf
    with tg.no_grad():
        ws[0] += 1
    assert t.tolist() == [1.0, 1.0]
    pd = nn.ParameterDict()
    pd["w"] = tg.ones(3)
    assert isinstance(pd["w"], nn.Parameter) and "w" in pd and len(pd) == 1


def test_list_indexing_slicing_and_growth() -> None:
    ws = nn.ParameterList([tg.full((1,), float(i)) for i in range(4)])
    assert ws[-1].item() == 3.0
    assert [p.item() for p in ws[1:3]] == [1.0, 2.0]
    ws.append(tg.ones(1))
    ws += [tg.zeros(1)]
    assert len(ws) == 6 and [n for n, _ in ws.named_parameters()][-1] == "5"
    ws[0] = tg.full((1,), 9.0)
    assert ws[0].item() == 9.0
    with pytest.raises(IndexError, match="index 6 is out of range for a ParameterList of "
                                         "length 6"):
        ws[6]


def test_dict_behaves_as_a_dict() -> None:
    pd = nn.ParameterDict({"a": tg.ones(1), "b": tg.zeros(1)})
    assert list(pd) == list(pd.keys()) == ["a", "b"]
    assert [k for k, _ in pd.items()] == ["a", "b"] and len(list(pd.values())) == 2
    assert pd.get("missing") is None
    popped = pd.pop("a")
    assert popped.item() == 1.0 and list(pd) == ["b"]
    pd.update({"c": tg.ones(2)})
    assert [n for n, _ in pd.named_parameters()] == ["b", "c"]


def test_state_dict_round_trip_and_dtype_moves() -> None:
    a = Polynomial(tg, [1.0, 2.0])
    b = Polynomial(tg, [0.0, 0.0])
    b.load_state_dict(a.state_dict())
    assert [p.item() for p in b.c] == [1.0, 2.0]
    b.double()
    assert all(p.dtype == np.float64 for p in b.parameters())
    assert "Parameter containing: [float64 of size 1]" in repr(b.c)
