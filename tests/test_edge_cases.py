"""Edge cases that must never give a silent wrong answer (issue 12, items 2 and 5): hooks that
change a gradient's shape or dtype, 0/0 forms of derivatives that exist, empty tensors, and
bad dims or operands. PyTorch (float64) is the oracle for values and for the kind of error."""

from __future__ import annotations

import pytest
import torch

import tinygrad_edu as tg

# ---------------------------------------------------------------------------- hooks


def _leaf(x):
    return x


def _nonleaf(x):
    return x * 2


@pytest.mark.parametrize("make", [_leaf, _nonleaf], ids=["leaf", "non-leaf"])
def test_hook_changing_the_size_is_an_error_naming_the_hook(make):
    def f(g):
        return tg.ones(5)

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = make(x)
    y.register_hook(f)
    with pytest.raises(RuntimeError, match=r"hook 'f' has changed the size of value: expected "
                       r"\(2,\), got \(5,\)"):
        y.sum().backward()
    assert x.grad is None
    # PyTorch refuses it too
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = make(tx)
    ty.register_hook(lambda g: torch.ones(5))
    with pytest.raises(RuntimeError, match="changed the size"):
        ty.sum().backward()


@pytest.mark.parametrize("make", [_leaf, _nonleaf], ids=["leaf", "non-leaf"])
def test_hook_changing_the_dtype_is_an_error(make):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = make(x)
    y.register_hook(lambda g: g.long())
    with pytest.raises(RuntimeError, match=r"hook '<lambda>' has changed the type of value"):
        y.sum().backward()


def test_hook_returning_something_else_is_a_type_error():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: 5)
    with pytest.raises(TypeError, match=r"hook '<lambda>' returned int"):
        x.sum().backward()
