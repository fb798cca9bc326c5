"""Scores of the wrong kind given to a classification loss train badly without any error;
tinygrad_edu warns: probabilities (a final Softmax) into cross_entropy, scores that are not
log-probabilities into nll_loss."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn
from tinygrad_edu.testing import strategies as tst

logits_shapes = st.tuples(st.integers(1, 6), st.integers(2, 5))


def _no_warning(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn()


@settings(max_examples=30, deadline=None)
@given(shape=logits_shapes, data=st.data())
def test_softmax_before_cross_entropy_is_warned_about(shape, data) -> None:
    logits = data.draw(tst.tensors(shape, min_value=-5, max_value=5))
    target = tg.tensor(data.draw(tst.arrays((shape[0],), np.int64, 0, shape[1] - 1)))
    with pytest.warns(UserWarning, match="cross_entropy: the input looks like probabilities.*"
                      "applied twice.*drop the model's final Softmax"):
        F.cross_entropy(logits.softmax(dim=1), target)
    with pytest.warns(UserWarning, match="looks like probabilities"):  # the module too
        nn.CrossEntropyLoss()(nn.Softmax(dim=1)(logits), target)


@settings(max_examples=30, deadline=None)
@given(shape=logits_shapes, data=st.data())
def test_raw_scores_with_a_negative_entry_are_not_warned_about(shape, data) -> None:
    logits = data.draw(tst.tensors(shape, min_value=-5, max_value=5))
    logits = logits - logits.max() - 0.5  # some entry below 0: not probabilities
    target = tg.tensor(data.draw(tst.arrays((shape[0],), np.int64, 0, shape[1] - 1)))
    _no_warning(lambda: F.cross_entropy(logits, target))
    _no_warning(lambda: F.nll_loss(logits.log_softmax(dim=1), target))
    _no_warning(lambda: F.cross_entropy(logits, logits.softmax(dim=1)))  # soft targets


def test_nll_loss_on_raw_scores_or_probabilities_is_warned_about() -> None:
    scores = tg.tensor([[2.0, -1.0, 0.5], [0.1, 0.3, -2.0]], requires_grad=True)
    target = tg.tensor([0, 2])
    with pytest.warns(UserWarning, match=r"nll_loss: the input has positive entries \(up to "
                      r"2\).*log_softmax.*cross_entropy"):
        F.nll_loss(scores, target)
    with pytest.warns(UserWarning, match="not log-probabilities"):
        nn.NLLLoss()(scores.softmax(dim=1), target)


def test_log_of_probabilities_with_a_small_epsilon_is_not_warned_about() -> None:
    """``log(p + 1e-8)`` of a probability of 1 is slightly positive: still log-probabilities."""
    p = tg.tensor([[1.0, 0.0], [0.5, 0.5]])
    _no_warning(lambda: F.nll_loss((p + 1e-3).log(), tg.tensor([0, 1])))


def test_the_loss_is_computed_as_before_when_it_warns() -> None:
    """A warning, not an error: the value is PyTorch's for the inputs given."""
    torch = pytest.importorskip("torch")
    x = np.array([[0.2, 0.8], [0.6, 0.4]], np.float32)
    with pytest.warns(UserWarning):
        ours = F.cross_entropy(tg.tensor(x), tg.tensor([1, 0])).item()
    theirs = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor([1, 0])).item()
    assert ours == pytest.approx(theirs, rel=1e-6)


def test_a_single_class_is_warned_about() -> None:
    """nn.Linear(n, 1) + CrossEntropyLoss: the loss is 0 whatever the scores."""
    scores = tg.randn(8, 1, requires_grad=True)
    with pytest.warns(UserWarning, match="single class .* always 0 .*binary_cross_entropy_"
                                         "with_logits"):
        loss = F.cross_entropy(scores, tg.zeros(8, dtype=tg.int64))
    loss.backward()
    assert loss.item() == 0.0 and not scores.grad.numpy().any()  # what the warning says


@pytest.mark.parametrize("labels, hint", [([-1.0, 1.0, 1.0, -1.0], r"\(y \+ 1\) / 2"),
                                          ([1.0, 2.0, 2.0, 1.0], "y - 1"),
                                          ([0.0, 3.0, 1.0, 0.0], "scale them")])
@pytest.mark.parametrize("with_logits", [False, True])
def test_binary_targets_outside_0_1_are_warned_about(labels, hint, with_logits) -> None:
    scores = tg.randn(4, requires_grad=True)
    fn = (F.binary_cross_entropy_with_logits if with_logits
          else lambda s, y: F.binary_cross_entropy(s.sigmoid(), y))
    with pytest.warns(UserWarning, match=r"target has values outside \[0, 1\].*" + hint):
        fn(scores, tg.tensor(labels))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 8), data=st.data())
def test_binary_targets_in_0_1_are_not_warned_about(n, data) -> None:
    scores = data.draw(tst.tensors((n,), requires_grad=True))
    probs = data.draw(tst.tensors((n,), min_value=0, max_value=1))
    labels = tg.tensor(data.draw(tst.arrays((n,), np.int64, 0, 1))).float()
    for y in (probs, labels):
        _no_warning(lambda y=y: F.binary_cross_entropy_with_logits(scores, y))
        _no_warning(lambda y=y: nn.BCELoss()(scores.sigmoid(), y))


def test_swapped_arguments_are_warned_about_or_named() -> None:
    probs = tg.randn(4, 1, requires_grad=True).sigmoid()
    labels = tg.tensor([[0.0], [1.0], [1.0], [0.0]])
    with pytest.warns(UserWarning, match=r"binary_cross_entropy: the target requires grad but "
                      r"the input does not: are the arguments swapped\?"):
        F.binary_cross_entropy(labels, probs)
    _no_warning(lambda: F.mse_loss(labels, probs))  # symmetric: nothing to say
    scores = tg.randn(4, 3, requires_grad=True)
    with pytest.raises(ValueError, match=r"The input holds int64 values: are the arguments "
                       r"swapped\? cross_entropy\(input, target\) takes the scores first"):
        F.cross_entropy(tg.tensor([0, 2, 1, 0]), scores)
