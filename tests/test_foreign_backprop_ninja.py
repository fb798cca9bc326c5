"""The "backprop ninja" exercise (``tests/backprop_ninja.py``: a char-level MLP with batch norm
and cross-entropy written out, backpropagated by hand step by step), run on tinygrad_edu as
``torch`` and on PyTorch 2.13: every hand-written gradient and every autograd gradient agree
between the two libraries (float64) and with each other (``cmp``, float32 as the learner runs
it); the shortcuts, the training loop and the sampling run; the learner's typical slips are
caught by ``cmp`` and named by ``check_backprop``, and a correct backward gets no diagnosis.

Then the PyTorch features the exercise leans on, each against PyTorch: ``index_add(_)``
(repeated indices accumulate), ``multinomial``, ``torch.all``, ``nelement``, a ``.grad`` laid
out as its tensor (``w.grad.view(-1)`` writes into ``w.grad``), the warning on reading the
``.grad`` of a non-leaf that did not ``retain_grad()``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as GF
from tests import backprop_ninja as bn
from tinygrad_edu.gradcheck import check_backprop

LIBS = {"torch": (torch, TF), "tg": (tg, GF)}
GRAD_NAMES = ("logprobs", "probs", "counts_sum_inv", "counts_sum", "counts", "norm_logits",
              "logit_maxes", "logits", "h", "W2", "b2", "hpreact", "bngain", "bnbias", "bnraw",
              "bnvar_inv", "bnvar", "bndiff2", "bndiff", "bnmeani", "hprebn", "embcat", "W1",
              "b1", "emb", "C")


def _arrays(seed: int, n_embd: int, n_hidden: int, block: int, dtype=np.float64) -> list:
    """Starting values shared by both libraries (their generators draw different numbers)."""
    rng = np.random.default_rng(seed)
    shapes = [(bn.VOCAB, n_embd), (n_embd * block, n_hidden), (n_hidden,), (n_hidden, bn.VOCAB),
              (bn.VOCAB,), (1, n_hidden), (1, n_hidden)]
    arrays = [rng.standard_normal(s) * 0.5 for s in shapes]
    arrays[5] += 1.0
    return [a.astype(dtype) for a in arrays]


def _batch(seed: int, n: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    x, y = rng.integers(0, bn.VOCAB, (n, block)), rng.integers(0, bn.VOCAB, n)
    x[-1] = x[0]  # a repeated context: its rows of dC must add up
    return x, y


def _run(lib_name: str, arrays: list, x: np.ndarray, y: np.ndarray, mistake=None) -> dict:
    """Forward, autograd and the hand-written backward; for every name (hand, autograd,
    cmp's (exact, approximate, maxdiff))."""
    lib, F = LIBS[lib_name]
    params = bn.params_from_numpy(lib, arrays)
    fw = bn.forward(lib, F, params, lib.tensor(x), lib.tensor(y))
    hand = bn.manual_backward(lib, F, fw, params, mistake)
    named = dict(zip(bn.NAMES, params))
    out = {}
    for name in GRAD_NAMES:
        t = named[name] if name in named else getattr(fw, name)
        out[name] = (hand[name], t.grad, bn.cmp(lib, name, hand[name], t))
    out["fw"], out["params"] = fw, params
    return out


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(3, 10), n_embd=st.integers(1, 4),
       n_hidden=st.integers(1, 6), block=st.integers(1, 3))
def test_every_gradient_agrees_with_pytorch_and_with_autograd(seed, n, n_embd, n_hidden,
                                                               block) -> None:
    arrays = _arrays(seed, n_embd, n_hidden, block)
    x, y = _batch(seed, n, block)
    ours, theirs = _run("tg", arrays, x, y), _run("torch", arrays, x, y)
    np.testing.assert_allclose(ours["fw"].loss.item(), theirs["fw"].loss.item(), rtol=1e-12)
    for name in GRAD_NAMES:
        hand, auto, (_, approximate, maxdiff) = ours[name]
        assert hand.dtype == auto.dtype == tg.float64, name
        assert (hand.shape, auto.shape) == (theirs[name][0].shape, theirs[name][1].shape), name
        assert approximate and maxdiff < 1e-12, (name, maxdiff)
        scale = max(1.0, float(np.abs(theirs[name][1].numpy()).max()))
        for mine, ref in ((hand, theirs[name][0]), (auto, theirs[name][1])):
            np.testing.assert_allclose(mine.detach().numpy(), ref.detach().numpy(),
                                       rtol=1e-9, atol=1e-12 * scale, err_msg=name)
    # dC without the loop: index_add_ and a one-hot product, in both libraries
    for lib_name, run in (("tg", ours), ("torch", theirs)):
        lib, F = LIBS[lib_name]
        C, demb, Xb = run["params"][0], run["emb"][0], lib.tensor(x)
        for dC in (bn.dC_by_index_add(lib, C, Xb, demb), bn.dC_by_index_put(lib, C, Xb, demb),
                   bn.dC_by_one_hot(lib, F, C, Xb, demb)):
            np.testing.assert_allclose(dC.detach().numpy(), run["C"][1].numpy(), rtol=1e-10,
                                       atol=1e-14)


def test_float32_as_the_learner_runs_it() -> None:
    """torch.Generator, randn(generator=), randint batches, float32: cmp says approximate
    (allclose) for every tensor, with PyTorch's dtypes, and the shortcuts agree."""
    for lib_name, (lib, F) in LIBS.items():
        X, Y = bn.build_dataset(lib, bn.make_words(60))
        params = bn.init_params(lib, n_embd=5, n_hidden=16)
        assert sum(p.nelement() for p in params) == 27 * 5 + 15 * 16 + 16 + 16 * 27 + 27 + 32
        Xb, Yb = bn.batch(lib, X, Y, 32, lib.Generator().manual_seed(1))
        fw = bn.forward(lib, F, params, Xb, Yb)
        hand = bn.manual_backward(lib, F, fw, params)
        named = dict(zip(bn.NAMES, params))
        for name in GRAD_NAMES:
            t = named[name] if name in named else getattr(fw, name)
            assert str(hand[name].dtype).endswith("float32"), (lib_name, name)
            _, approximate, maxdiff = bn.cmp(lib, name, hand[name], t)
            assert approximate and maxdiff < 1e-6, (lib_name, name, maxdiff)
        assert abs(bn.loss_fast(lib, F, fw).item() - fw.loss.item()) < 1e-6
        assert bn.cmp(lib, "logits", bn.dlogits_fast(lib, F, fw), fw.logits)[1]
        fast = bn.hpreact_fast(lib, fw, named["bngain"], named["bnbias"])
        assert (fast - fw.hpreact).abs().max().item() < 1e-5
        dhprebn = bn.dhprebn_fast(lib, fw, named["bngain"], fw.hpreact.grad)
        assert bn.cmp(lib, "hprebn", dhprebn, fw.hprebn)[1]


def test_training_with_hand_written_gradients_then_sampling() -> None:
    """Exercise 4: manual gradients under no_grad drive the updates; at every check they
    equal autograd's; the loss falls; split_loss (a @no_grad() function) and sampling run."""
    for lib_name, (lib, F) in LIBS.items():
        X, Y = bn.build_dataset(lib, bn.make_words(80))
        params = bn.init_params(lib, n_embd=5, n_hidden=16)
        before = [p.detach().clone() for p in params]
        lossi, gaps = bn.train(lib, F, params, X, Y, max_steps=40, check_every=13)
        assert len(gaps) == 4 and max(gaps) < 1e-5, (lib_name, gaps)
        assert np.mean(lossi[-8:]) < np.mean(lossi[:8]), lib_name
        assert all(not p.requires_grad or p.grad is None for p in params)
        assert all((p - b).abs().max().item() > 0 for p, b in zip(params, before))
        bnmean, bnvar = bn.calibrate(lib, params, X)
        value, requires_grad = bn.split_loss_fn(lib, F, params, bnmean, bnvar)(X, Y)
        assert np.isfinite(value) and requires_grad is False
        words = bn.sample(lib, F, params, bnmean, bnvar, count=4)
        assert len(words) == 4 and all(set(w) <= set(bn.CHARS[1:]) for w in words)


MISTAKES = {  # the slip -> the first tensor (in backward order) whose cmp fails
    "sign": "logprobs",
    "no_sum_counts_sum_inv": "counts_sum_inv",
    "no_sum_bnvar": "bnvar_inv",
    "bessel": "bndiff2",
    "dC_assign": "C",
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_cmp_catches_the_learners_slips_in_both_libraries(mistake) -> None:
    arrays = _arrays(3, 3, 5, 3)
    x, y = _batch(3, 8, 3)
    for lib_name in LIBS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch warns about shapes that broadcast
            try:
                run = _run(lib_name, arrays, x, y, mistake)
            except RuntimeError:  # PyTorch refuses the unsummed shape in allclose
                assert lib_name == "torch" and mistake.startswith("no_sum"), lib_name
                continue
        first = next(name for name in GRAD_NAMES if not run[name][2][1])
        assert first == MISTAKES[mistake], (lib_name, first)


def test_a_transposed_matmul_gradient_fails_loudly_naming_the_shapes() -> None:
    arrays = _arrays(0, 3, 5, 3)
    x, y = _batch(0, 8, 3)
    with pytest.raises(RuntimeError):
        _run("torch", arrays, x, y, "transposed_dW2")
    with pytest.raises(ValueError, match=r"\(27, 5\).*\(5, 27\)"):
        _run("tg", arrays, x, y, "transposed_dW2")


def _checker_inputs(seed: int) -> tuple[dict, np.ndarray, np.ndarray]:
    arrays = _arrays(seed, 3, 5, 3)
    x, y = _batch(seed, 6, 3)
    return dict(zip(bn.NAMES, arrays)), x, y


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_checker_passes_a_correct_ninja_backward_without_a_story(seed) -> None:
    params, x, y = _checker_inputs(seed)
    report = check_backprop(bn.numpy_loss, bn.grads_by_hand(tg, GF), params, x, y)
    assert report.passed, report
    assert all(report[name].diagnosis is None for name in bn.NAMES)


@pytest.mark.parametrize(("mistake", "wrong", "kind"), [
    ("sign", {"C", "W1", "W2", "b2", "bngain", "bnbias"}, "sign"),
    ("dC_assign", {"C"}, "some_entries"),  # rows of C the batch reads twice
    ("transposed_dW2", {"W2"}, "transposed"),
    ("no_sum_bnvar", {"C", "W1"}, None),  # wrong, and no confident story (none fits)
    ("bessel", {"C", "W1"}, None),
    ("no_sum_counts_sum_inv", {"C", "W1", "W2", "b2", "bngain", "bnbias"}, None),
])
def test_checker_names_the_ninja_slips(mistake, wrong, kind) -> None:
    """b1's true gradient is 0 (batch norm removes it), so no slip makes it wrong. Entries of
    C that are 0 in both gradients (rows the batch does not read) are not "right entries":
    a slip upstream is not called "only some entries are wrong"."""
    params, x, y = _checker_inputs(1)
    report = check_backprop(bn.numpy_loss, bn.grads_by_hand(tg, GF, mistake), params, x, y)
    assert {name for name in bn.NAMES if not report[name].passed} == wrong
    for name in wrong:
        diagnosis = report[name].diagnosis
        assert (diagnosis and diagnosis.kind) == kind, (name, diagnosis)


# ------------------------------------------------------------- the features, against PyTorch
@settings(max_examples=20, deadline=None)
@given(data=st.data(), ndim=st.integers(1, 3), alpha=st.sampled_from([1, -0.5, 2.0]))
def test_index_add_values_and_gradients_match_pytorch(data, ndim, alpha) -> None:
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    dim = data.draw(st.integers(-ndim, ndim - 1))
    n = shape[dim]
    index = data.draw(st.lists(st.integers(0, n - 1), min_size=0, max_size=6))
    src_shape = list(shape)
    src_shape[dim] = len(index)
    rng = np.random.default_rng(len(index) + 7 * ndim)
    base, src = rng.standard_normal(shape), rng.standard_normal(src_shape)
    weight = rng.standard_normal(shape)
    grads = {}
    for lib_name, (lib, _) in LIBS.items():
        a = lib.tensor(base, requires_grad=True)
        s = lib.tensor(src, requires_grad=True)
        idx = lib.tensor(index, dtype=lib.int64)
        out = a.index_add(dim, idx, s, alpha=alpha)
        inplace = (a * 1).index_add_(dim, idx, s, alpha=alpha)  # in the graph
        ((out + inplace) * lib.tensor(weight)).sum().backward()
        grads[lib_name] = [out.detach().numpy(), inplace.detach().numpy(), a.grad.numpy(),
                           s.grad.numpy()]
    for mine, ref in zip(grads["tg"], grads["torch"]):
        np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-12)


def test_index_add_into_a_constant_keeps_the_sources_gradient_and_errors_name_the_op() -> None:
    demb = tg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    dC = tg.zeros(4, 2)
    dC.index_add_(0, tg.tensor([3, 0, 3]), demb * 2)  # dC does not require grad, demb does
    assert dC.tolist() == [[6.0, 8.0], [0.0, 0.0], [0.0, 0.0], [12.0, 16.0]]
    (dC * tg.arange(8.0).view(4, 2)).sum().backward()
    assert demb.grad.tolist() == [[12.0, 14.0], [0.0, 2.0], [12.0, 14.0]]
    with pytest.raises(ValueError, match=r"index_add: source has shape \(3, 3\).*needs \(3, 2\)"):
        tg.zeros(4, 2).index_add(0, tg.tensor([0, 1, 2]), tg.ones(3, 3))
    with pytest.raises(TypeError, match=r"index_add: self \(float32\) and source \(float64\)"):
        tg.zeros(4, 2).index_add(0, tg.tensor([0]), tg.ones(1, 2, dtype=tg.float64))
    for bad in (4, -1):  # PyTorch takes no negative index here
        with pytest.raises(IndexError, match=f"index_add: index out of range for dim 0 of "
                                             f"size 4 \\(from 0 to 3\\), got {bad}"):
            tg.zeros(4, 2).index_add_(0, tg.tensor([bad]), tg.ones(1, 2))
    with pytest.raises(RuntimeError, match="index_add_"):  # a parameter, while recording
        tg.zeros(4, 2, requires_grad=True).index_add_(0, tg.tensor([0]), tg.ones(1, 2))


def test_index_put_values_and_gradients_match_pytorch() -> None:
    results = []
    for lib, _ in LIBS.values():
        w = lib.ones(1, requires_grad=True)
        demb = lib.arange(8.0).view(2, 2, 2) * w
        dC = lib.zeros(4, 2)
        dC.index_put_((lib.tensor([[0, 1], [1, 1]]),), demb, accumulate=True)
        a = lib.zeros(3, 2, requires_grad=True)
        b = (a * 1).index_put((lib.tensor([0, 2]), lib.tensor([1, 0])), lib.tensor([5.0, 6.0]))
        ((dC * lib.arange(8.0).view(4, 2)).sum() + (b * lib.arange(6.0).view(3, 2)).sum()
         ).backward()
        results.append((dC.tolist(), w.grad.tolist(), b.tolist(), a.grad.tolist()))
    assert results[0] == results[1]
    with pytest.raises(IndexError, match=r"index_put: .*index 5 is out of bounds.*shape \(3,\)"):
        tg.zeros(3).index_put_((tg.tensor([5]),), tg.tensor(1.0), accumulate=True)
    with pytest.raises(TypeError, match=r"index_put: values \(float64\) must have self's"):
        tg.zeros(3).index_put((tg.tensor([1]),), tg.ones(1, dtype=tg.float64))


def test_scatter_add_in_place_matches_pytorch() -> None:
    results = []
    for lib, _ in LIBS.values():
        src = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        out = lib.zeros(3, 3).scatter_add_(0, lib.tensor([[0, 1, 0], [0, 2, 2]]), src * 1)
        (out * lib.arange(9.0).view(3, 3)).sum().backward()
        results.append((out.tolist(), src.grad.tolist()))
    assert results[0] == results[1]


def test_multinomial_draws_by_weight_without_repeats_when_asked() -> None:
    g = tg.Generator().manual_seed(0)
    weights = tg.tensor([[0.0, 1.0, 3.0], [2.0, 0.0, 2.0]])
    draws = tg.multinomial(weights, 4000, replacement=True, generator=g)
    assert draws.shape == (2, 4000) and draws.dtype == tg.int64
    counts = np.stack([np.bincount(row, minlength=3) for row in draws.numpy()])
    assert counts[0, 0] == 0 and counts[1, 1] == 0
    assert abs(counts[0, 2] / 4000 - 0.75) < 0.03 and abs(counts[1, 0] / 4000 - 0.5) < 0.03
    row = weights[1].multinomial(2, generator=g)
    assert sorted(row.tolist()) == [0, 2] and torch.multinomial(
        torch.tensor([2.0, 0.0, 2.0]), 2).shape == tuple(row.shape)
    assert tg.multinomial(tg.tensor([0.0, 5.0]), 1).item() == 1
    for bad, message in ((tg.tensor([1.0, -1.0]), "element < 0"),
                         (tg.tensor([0.0, 0.0]), "sum of probabilities <= 0"),
                         (tg.tensor([1.0, 0.0]), "cannot sample 2 indices without replacement")):
        with pytest.raises(ValueError, match=message):
            tg.multinomial(bad, 2)


def test_all_any_nelement_retains_grad_as_in_pytorch() -> None:
    for lib, _ in LIBS.values():
        x = lib.tensor([[1.0, 0.0], [2.0, 3.0]], requires_grad=True)
        y = x * 2
        y.retain_grad()
        assert lib.all(x > -1).item() is True and lib.any(x > 2).item() is True
        assert lib.all(x > 0, 1).tolist() == [False, True]
        assert x.nelement() == 4 and y.retains_grad and not x.retains_grad
    assert all([1]) and any([1])  # the star import keeps Python's
    ns: dict = {}
    exec("from tinygrad_edu import *", ns)
    assert "all" not in ns and "any" not in ns


def test_a_gradient_is_laid_out_as_its_tensor_so_a_view_of_it_writes_through() -> None:
    """w.grad of x @ w.T arrives transposed; PyTorch stores it contiguous, so
    w.grad.view(-1) is w.grad's memory and hand-written clipping through it changes w.grad."""
    grads = []
    for lib, _ in LIBS.values():
        w = lib.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
        (lib.ones(5, 4, dtype=lib.float64) @ w.T).sum().backward()
        w.grad.view(-1).mul_(0.5)
        grads.append(w.grad.tolist())
    assert grads[0] == grads[1] == [[2.5] * 4] * 3


def test_reading_the_grad_of_a_tensor_that_did_not_retain_it_warns() -> None:
    """The ninja's list of tensors to retain_grad(): one left out has .grad None, which
    PyTorch warns about; then cmp's allclose(dt, None) names the argument, not float - None."""
    x = tg.ones(3, requires_grad=True)
    y, z = x * 2, x * 3
    z.retain_grad()
    (y * z).sum().backward()
    with pytest.warns(UserWarning, match=r"not a leaf Tensor.*retain_grad\(\)"):
        assert y.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None and z.grad is not None  # a leaf, a retained one
        assert tg.zeros(2).grad is None
    with pytest.raises(TypeError, match=r"argument 'other' \(position 2\) must be Tensor, not "
                                        r"NoneType.*retain_grad"):
        tg.allclose(tg.ones(3), None)


def test_a_parameter_update_from_a_gradient_in_the_graph_says_what_to_do() -> None:
    """p.data is p's numpy array: p.data += -lr * grad with grad in the graph cannot keep a
    gradient; the error says so, and the exercise's no_grad() spelling works."""
    p = tg.ones(3, requires_grad=True)
    grad = p * 2  # a hand-written gradient computed outside no_grad
    with pytest.raises(TypeError, match=r"shape \(3,\), float32.*p\.data \+= -lr \* grad.*no_grad"):
        p.data += -0.1 * grad
    with tg.no_grad():
        p.data += -0.1 * (p * 2)
    assert np.allclose(p.detach().numpy(), 0.8) and p.is_leaf and p.requires_grad
