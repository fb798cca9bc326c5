"""Cases from PyTorch's documentation of ``torch.clamp`` (``min``/``max`` may be Tensors, and
then they get gradients too) and of ``cross_entropy``/``nll_loss`` with ``ignore_index``
(a batch that is all padding, as in a sequence model's last batch): each run here and in
PyTorch 2.13 in float64, values and gradients compared."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as torch_F
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu.testing import strategies as tgst


def _both(program, *arrays):
    """(value, gradients) of ``program(lib, *leaves)`` summed with fixed weights, per library."""
    results = []
    for lib in (tg, torch):
        leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = program(lib, *leaves)
        weights = np.cos(np.arange(out.numel())).reshape(tuple(out.shape))
        (out * lib.tensor(weights)).sum().backward()
        results.append((out.detach().numpy(), [leaf.grad for leaf in leaves]))
    return results


def _clamp_between(lib, x, lo, hi):
    return lib.clamp(x, min=lo, max=hi) + x.clamp(min=lo) + x.clamp(max=hi)


@st.composite
def _clamp_shapes(draw) -> list[tuple]:
    """The input's shape, and the bounds' shapes, which broadcast to it (PyTorch 2.13's clamp
    backward fails when the bounds would make the output larger than the input)."""
    shape = draw(tgst.shapes(min_dims=1))
    bound = st.sampled_from([shape, shape[1:], (1,) * len(shape)])
    return [shape, draw(bound), draw(bound)]


@settings(max_examples=20, deadline=None)
@given(shapes=_clamp_shapes(), seed=st.integers(0, 2**16))
def test_clamp_with_tensor_bounds_gives_the_bounds_gradients(shapes, seed) -> None:
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    arrays[2] = arrays[2] + 0.5  # mostly above the lower bound; ties have probability 0
    (ours, our_grads), (theirs, their_grads) = _both(_clamp_between, *arrays)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    for mine, reference in zip(our_grads, their_grads, strict=True):
        assert mine is not None, "a bound that requires grad got no gradient"
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("loss, kwargs", [("cross_entropy", {}), ("nll_loss", {}),
                                          ("cross_entropy", {"label_smoothing": 0.1})])
def test_a_batch_whose_targets_are_all_ignored_is_nan_with_gradient_zero(loss, kwargs):
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    results = []
    for lib, functional in ((tg, F), (torch, torch_F)):
        logits = lib.tensor(x, requires_grad=True)
        value = getattr(functional, loss)(logits, lib.full((2, 4), -100), **kwargs)
        value.backward()
        results.append((value.item(), logits.grad.numpy()))
    (ours, our_grad), (theirs, their_grad) = results
    assert np.isnan(ours) and np.isnan(theirs)
    np.testing.assert_array_equal(our_grad, their_grad)
    assert not our_grad.any()
