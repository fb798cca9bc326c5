"""Property tests of a learner's own ops (``tests/learner_ops.py``), written with
``tinygrad_edu.testing`` as one would write them with hypothesis and
``torch.autograd.gradcheck``: every correct op passes across shapes and values (float64
against central differences and against its PyTorch 2.13 twin; float32 close to float64),
every planted mistake is caught and shrunk to a small counterexample whose report names the
input, the entry and both values, kinks are kept away by ``avoid`` without flaky failures,
no health check fires, and misuse fails with a message that says what to do.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import find, given, seed, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.gradcheck import GradcheckError, GradcheckPrecisionWarning, gradcheck
from tinygrad_edu.testing import assert_close, assert_grad_close
from tinygrad_edu.testing import strategies as tst

from . import learner_ops as L

# Health checks on (a learner's default settings); no deadline: timing is not asserted here.
PROPERTY = settings(max_examples=12, deadline=None, database=None,
                    suppress_health_check=())


# --------------------------------------------------------------------------- the cases
@dataclass(frozen=True)
class Case:
    """An op, how to draw its inputs (a tuple of Tensors/values and a dict of options), how
    to call it, and its PyTorch twin on the same arguments."""

    name: str
    inputs: Callable[[], st.SearchStrategy[tuple[tuple, dict]]]
    call: Callable  # call(op, inputs, options) -> Tensor or tuple of Tensors
    twin: Callable  # twin(torch inputs, options) -> torch tensor or tuple


def _x(**options):
    return tst.tensors(tst.shapes(), requires_grad=True, **options)


@st.composite
def _unary(draw, **options):
    return (draw(_x(**options)),), {}


@st.composite
def _with_axis(draw, min_value=-2.0, max_value=2.0, avoid=(), keepdim=False, p=False):
    x = draw(tst.tensors(tst.shapes(min_dims=1), requires_grad=True, min_value=min_value,
                         max_value=max_value, avoid=avoid))
    options = {"axis": draw(st.integers(-x.ndim, x.ndim - 1))}
    if keepdim:
        options["keepdim"] = draw(st.booleans())
    if p:
        options["p"] = draw(st.floats(1.5, 4.0))
    return (x,), options


@st.composite
def _last_axis(draw):
    return (draw(tst.tensors(tst.shapes(min_dims=1), requires_grad=True)),), {}


@st.composite
def _broadcast3(draw):
    shapes = draw(tst.broadcastable_shapes(num_shapes=3))
    return tuple(draw(tst.tensors(s, requires_grad=True)) for s in shapes), {}


@st.composite
def _pair(draw, avoid=(), min_value=-2.0, max_value=2.0, delta=False):
    shape = draw(tst.shapes())
    a, b = (draw(tst.tensors(shape, requires_grad=True, avoid=avoid, min_value=min_value,
                             max_value=max_value)) for _ in range(2))
    return (a, b), ({"delta": draw(st.sampled_from([0.5, 1.0, 1.5]))} if delta else {})


@st.composite
def _linear(draw):
    n, fan_in, fan_out = (draw(st.integers(1, 3)) for _ in range(3))
    x = draw(tst.tensors((n, fan_in), requires_grad=True))
    w = draw(tst.tensors((fan_out, fan_in), requires_grad=True))
    b = draw(tst.tensors((fan_out,), requires_grad=True))
    return (x, w, b), {}


@st.composite
def _embedding(draw):
    rows, dim = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    weight = draw(tst.tensors((rows, dim), requires_grad=True))
    indices = draw(tst.arrays(tst.shapes(min_dims=1, max_dims=2), np.int64, 0, rows - 1))
    return (weight, tg.tensor(indices)), {}


def _apply(op, inputs, options):
    return op.apply(*inputs, **options)


def _huber_twin(t, o):
    return F.huber_loss(t[0], t[1], reduction="none", delta=o["delta"])


CASES = {
    "swish": Case("swish", lambda: _unary(min_value=-6.0, max_value=6.0), _apply,
                  lambda t, o: F.silu(t[0])),
    "softplus": Case("softplus", lambda: _unary(min_value=-50.0, max_value=50.0), _apply,
                     lambda t, o: F.softplus(t[0])),
    "logsumexp": Case("logsumexp", lambda: _with_axis(-30.0, 30.0, keepdim=True), _apply,
                      lambda t, o: torch.logsumexp(t[0], o["axis"], o["keepdim"])),
    "layernorm": Case("layernorm", _last_axis, _apply,
                      lambda t, o: F.layer_norm(t[0], t[0].shape[-1:], eps=1e-5)),
    "muladd": Case("muladd", _broadcast3, _apply, lambda t, o: t[0] * t[1] + t[2]),
    "mean": Case("mean", _with_axis, _apply,
                 lambda t, o: t[0].mean(o["axis"], keepdim=True)),
    "huber": Case("huber", lambda: _pair(delta=True), _apply, _huber_twin),
    "clamp": Case("clamp", lambda: _unary(min_value=-3.0, max_value=3.0, avoid=(-1.0, 1.0)),
                  _apply, lambda t, o: t[0].clamp(-1.0, 1.0)),
    "polar": Case("polar", lambda: _pair(avoid=(0.0,)), lambda op, i, o: op(*i),
                  lambda t, o: (torch.hypot(t[0], t[1]), torch.atan2(t[1], t[0]))),
    "linear": Case("linear", _linear, _apply, lambda t, o: F.linear(*t)),
    "pnorm": Case("pnorm", lambda: _with_axis(avoid=(0.0,), p=True), _apply,
                  lambda t, o: torch.linalg.vector_norm(t[0], ord=o["p"], dim=o["axis"])),
    "embedding": Case("embedding", _embedding, _apply, lambda t, o: F.embedding(t[1], t[0])),
}
CORRECT = {"swish": L.Swish, "softplus": L.Softplus, "logsumexp": L.LogSumExp,
           "layernorm": L.LayerNorm, "muladd": L.MulAdd, "mean": L.MeanKeepdim,
           "huber": L.Huber, "clamp": L.Clamp, "polar": L.polar, "linear": L.Linear,
           "pnorm": L.PNorm, "embedding": L.Embedding}


def _outputs(out) -> tuple:
    return out if isinstance(out, tuple) else (out,)


def _torch(inputs) -> list:
    return [torch.tensor(t.data, requires_grad=t.requires_grad) for t in inputs]


def _check_against_torch(case: Case, op, inputs, options) -> None:
    """Values, and gradients for one random output gradient, against the PyTorch twin."""
    ours = _outputs(case.call(op, inputs, options))
    t_in = _torch(inputs)
    theirs = _outputs(case.twin(t_in, options))
    rng = np.random.default_rng(0)
    vs = [rng.uniform(-1, 1, o.shape) for o in ours]
    for o, t in zip(ours, theirs):  # torch's softplus is x itself above 20: off by 1e-10
        assert_close(o, t.detach().numpy(), atol=1e-12, rtol=1e-8, what=f"{case.name} value")
    diff = [i for i, t in enumerate(inputs) if t.requires_grad]
    got = tg.grad(list(ours), [inputs[i] for i in diff], grad_outputs=[tg.tensor(v) for v in vs])
    want = torch.autograd.grad(theirs, [t_in[i] for i in diff],
                               grad_outputs=[torch.tensor(v) for v in vs])
    for i, g, w in zip(diff, got, want):
        assert_close(g, w.numpy(), atol=1e-10, rtol=1e-8, what=f"{case.name} grad {i}")


# --------------------------------------------------------------------------- (1) correct ops pass
@pytest.mark.parametrize("name", list(CASES))
def test_correct_op_passes_property_tests_in_float64(name):
    case, op = CASES[name], CORRECT[name]

    @PROPERTY
    @given(drawn=case.inputs())
    def prop(drawn):
        inputs, options = drawn
        assert_grad_close(lambda *xs: case.call(op, xs, options), inputs)
        _check_against_torch(case, op, inputs, options)

    prop()


def _float32(inputs) -> tuple:
    return tuple(tg.tensor(t.data.astype(np.float32), requires_grad=True)
                 if t.dtype == np.float64 else t for t in inputs)


@pytest.mark.parametrize("name", list(CASES))
def test_correct_op_in_float32_is_close_to_float64(name):
    """float32 is checked as the library advises: gradients against central differences in
    float64 only; in float32 the same op gives values and gradients within float32 rounding
    of the float64 ones."""
    case, op = CASES[name], CORRECT[name]

    @PROPERTY
    @given(drawn=case.inputs())
    def prop(drawn):
        inputs, options = drawn
        low = _float32(inputs)
        outs64, outs32 = (_outputs(case.call(op, xs, options)) for xs in (inputs, low))
        for o64, o32 in zip(outs64, outs32):
            assert o32.dtype == np.float32
            scale = float(np.abs(o64.data).max(initial=1.0))
            assert_close(o32, o64, atol=1e-5 * scale, rtol=1e-5, what="float32 value")
        for outs in (outs64, outs32):
            sum(o.sum() for o in outs).backward()
        for t64, t32 in zip(inputs, low):
            if t64.requires_grad:
                scale = float(np.abs(t64.grad.data).max(initial=1.0))
                assert_close(t32.grad, t64.grad, atol=1e-4 * scale, rtol=1e-4,
                             what="float32 grad")

    prop()


def test_gradcheck_of_float32_inputs_warns_and_says_to_use_float64():
    x = tg.tensor([0.3, -1.2], requires_grad=True)
    with pytest.warns(GradcheckPrecisionWarning, match=r"float32, not float64.*\.double\(\)"), \
            pytest.raises(GradcheckError, match=r"input 0 is float32: expect errors of this "
                                                r"size from rounding alone; check in float64"):
        assert_grad_close(L.Swish.apply, x)


def test_softplus_large_inputs_do_not_overflow_in_float32():
    x = np.array([-1000.0, -88.0, 0.0, 88.0, 1000.0], dtype=np.float32)
    with np.errstate(over="raise"):
        out = L.Softplus.apply(tg.tensor(x, requires_grad=True))
    assert_close(out, F.softplus(torch.tensor(x)).numpy(), atol=1e-6, rtol=1e-6)


# ------------------------------------------------------------------------ (2) mistakes are caught
def _failure(case: Case, op, drawn):
    """The error the property test raises on these inputs, or None if it passes."""
    inputs, options = drawn
    try:
        assert_grad_close(lambda *xs: case.call(op, xs, options), inputs)
    except (GradcheckError, RuntimeError, ValueError) as e:
        return e
    return None


def _smallest_failure(case: Case, op):
    """What hypothesis shrinks a failing input to (``find`` runs the same search and
    shrinking as a failing ``@given`` test)."""
    return find(case.inputs(), lambda d: _failure(case, op, d) is not None,
                settings=settings(max_examples=200, database=None, derandomize=True,
                                  suppress_health_check=()))


BUGS = [  # (case, buggy op, the inputs whose gradients are wrong)
    ("swish", L.SwishMissingProductTerm, {0}),
    ("softplus", L.SoftplusNoChainRule, {0}),
    ("layernorm", L.LayerNormStdAsConstant, {0}),
    ("muladd", L.MulAddSwapped, {0, 1}),
    ("mean", L.MeanKeepdimMissingFactor, {0}),
    ("huber", L.HuberUnclipped, {0, 1}),
    ("huber", L.HuberTargetSign, {1}),
    ("clamp", L.ClampForgotLow, {0}),
    ("pnorm", L.PNormForgotSign, {0}),
    ("embedding", L.EmbeddingOverwrites, {0}),
]


def _jacobian_entry(case: Case, op, inputs, options, m) -> float:
    """d output[m.output_index] / d input[m.input_index] of ``op`` by autograd."""
    outs = _outputs(case.call(op, inputs, options))
    out = outs[m.output]
    seed_grad = np.zeros(out.shape)
    seed_grad[m.output_index] = 1.0
    (g,) = tg.grad(out, inputs[m.input], grad_outputs=tg.tensor(seed_grad), allow_unused=True)
    return 0.0 if g is None else float(g.data[m.input_index])


@pytest.mark.parametrize(("name", "bug", "wrong_inputs"), BUGS,
                         ids=[b[1].__name__ for b in BUGS])
def test_planted_mistake_is_caught_shrunk_and_reported(name, bug, wrong_inputs):
    case = CASES[name]
    drawn = _smallest_failure(case, bug)
    inputs, options = drawn
    assert sum(t.data.size for t in inputs) <= 6, drawn  # shrunk to a readable example
    err = _failure(case, bug, drawn)
    assert isinstance(err, GradcheckError)
    assert {m.input for m in err.failures} == wrong_inputs
    for m in err.failures:
        # the numbers it prints are the buggy backward's entry and the true derivative
        assert m.analytical == pytest.approx(_jacobian_entry(case, bug, inputs, options, m),
                                             abs=1e-9)
        true = _jacobian_entry(case, CORRECT[name], inputs, options, m)
        assert m.numerical == pytest.approx(true, rel=1e-6, abs=1e-8)
        assert re.search(rf"w\.r\.t\. input {m.input} .*\n +worst: d output\[.*\] / "
                         rf"d input\[.*\]: analytical \S+, numerical \S+", str(err))
    assert "kink" not in str(err)  # avoid keeps kinks away: no hint, and never a wrong one


def test_wrong_keepdims_in_logsumexp_is_caught():
    """g lined up with the wrong axis: either numpy cannot broadcast (an error in the
    learner's backward line) or the gradient is wrong; both fail the property test."""
    err = _failure(CASES["logsumexp"], L.LogSumExpWrongKeepdims,
                   ((tg.tensor(np.ones((2, 3)), requires_grad=True),), {"axis": 1}))
    assert isinstance(err, ValueError) and "broadcast" in str(err)
    drawn = _smallest_failure(CASES["logsumexp"], L.LogSumExpWrongKeepdims)
    (x,), options = drawn
    assert x.ndim >= 2 and not options["keepdim"] and x.data.size <= 4


def test_transposed_weight_gradient_is_a_shape_error_or_a_wrong_entry():
    case = CASES["linear"]
    x, w, b = (tg.tensor(np.ones(s), requires_grad=True) for s in ((2, 3), (4, 3), (4,)))
    err = _failure(case, L.LinearTransposedWeightGrad, ((x, w, b), {}))
    assert isinstance(err, RuntimeError)
    assert str(err).startswith("LinearTransposedWeightGradBackward: the gradient has shape "
                               "(3, 4), which cannot be summed to the input's shape (4, 3)")
    square = [tg.tensor(np.arange(4.0).reshape(2, 2) + k, requires_grad=True) for k in (0, 1)]
    err = _failure(case, L.LinearTransposedWeightGrad,
                   ((square[0], square[1], tg.tensor(np.zeros(2), requires_grad=True)), {}))
    assert isinstance(err, GradcheckError) and [m.input for m in err.failures] == [1]


def test_two_output_op_reports_the_output_and_input():
    case = CASES["polar"]
    buggy = Case("polar", case.inputs, lambda op, i, o: (L.Radius.apply(*i),
                                                         L.AngleSignFlipped.apply(*i)),
                 case.twin)
    err = _failure(buggy, None, _smallest_failure(buggy, None))
    assert {(m.output, m.input) for m in err.failures} == {(1, 0), (1, 1)}
    assert "output 1 " in str(err) and "output 0 " not in str(err)


def test_wrongly_shaped_gradient_names_the_op_and_both_shapes():
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=re.escape(
            "MeanKeepdimUnexpandedBackward: the gradient has shape (1, 3), which cannot be "
            "summed to the input's shape (2, 3); the op's backward returned a gradient of the "
            "wrong shape")):
        assert_grad_close(lambda t: L.MeanKeepdimUnexpanded.apply(t, axis=0), x)


# --------------------------------------------------------------------------- (3) no flakes
@pytest.mark.parametrize("name", ["clamp", "pnorm", "layernorm", "polar", "huber"])
def test_kinks_and_singularities_never_flake_across_seeds(name):
    """The ops with kinks or singularities pass on every seed (the examples differ)."""
    case, op = CASES[name], CORRECT[name]
    seen = set()

    def prop(drawn):
        inputs, options = drawn
        seen.add(tuple(float(t.data.ravel()[0]) for t in inputs))
        assert_grad_close(lambda *xs: case.call(op, xs, options), inputs)

    for s in range(4):
        seed(s)(settings(PROPERTY, max_examples=10, derandomize=False)(
            given(drawn=case.inputs())(prop)))()
    assert len(seen) > 10  # the seeds drew different examples


# --------------------------------------------------------------------------- (4) strategies
@settings(PROPERTY, max_examples=40)
@given(x=tst.arrays((5,), np.float32, min_value=0.1, max_value=10.0))
def test_float32_bounds_a_float32_cannot_hold_are_rounded_inwards(x):
    assert x.dtype == np.float32 and x.min() >= np.float32(0.1) and x.max() <= 10.0


@settings(PROPERTY, max_examples=40)
@given(x=tst.arrays(tst.shapes(min_dims=1), np.int64, -3, 3, avoid=(0,)))
def test_integer_arrays_are_integers_in_range_avoiding_points(x):
    assert x.dtype == np.int64 and x.min() >= -3 and x.max() <= 3 and (x != 0).all()


@settings(PROPERTY, max_examples=40)
@given(x=tst.arrays((8,), avoid=(0.0, 1.0), margin=0.05, distinct=0.01))
def test_distinct_values_stay_away_from_avoided_points(x):
    assert len(np.unique(x)) == x.size
    assert np.abs(x).min() >= 0.05 and np.abs(x - 1.0).min() >= 0.05 - 1e-12


def test_distinct_and_avoid_keep_the_order_of_values():
    x = np.array([-0.03, 0.0, 0.02, 0.2, -0.5])
    out = tst._push_away_keeping_order(x, (0.0,), 0.05)
    assert np.argsort(out).tolist() == np.argsort(x).tolist()
    assert np.abs(out).min() >= 0.05 and out[3:].tolist() == [0.2, -0.5]


# --------------------------------------------------------------------------- (5) misuse
X64 = tg.tensor([0.5, -1.5], dtype=tg.float64, requires_grad=True)


@pytest.mark.parametrize(("fn", "what"), [
    (lambda t: L.Swish.apply(t).sum().item(), "float"),
    (lambda t: L.Swish.apply(t).data, "a numpy array"),
    (lambda t: None, "NoneType"),
])
def test_gradcheck_refuses_outputs_without_a_graph(fn, what):
    with pytest.raises(TypeError, match=rf"fn returned {what} as output 0, which has no graph"
                                        r".*return the Tensor itself"):
        gradcheck(fn, X64)


def test_gradcheck_refuses_a_function_without_a_float_output():
    with pytest.raises(ValueError, match=r"no floating-point Tensor \(dtypes: bool\)"):
        gradcheck(lambda t: t > 0, X64)


def test_gradcheck_without_requires_grad_says_how_to_fix_it():
    with pytest.raises(ValueError, match="no input requires grad.*requires_grad=True"):
        gradcheck(L.Swish.apply, X64.detach())


def test_backward_with_the_wrong_number_of_gradients():
    with pytest.raises(RuntimeError, match=r"SquareWrongCount.backward returned 1 gradient\(s\), "
                                           r"but forward took 2 input\(s\)"):
        L.SquareWrongCount.apply(X64, X64).sum().backward()


def test_backward_returning_a_list_is_told_to_return_a_tuple():
    class ListGrads(L.SquareWrongCount):
        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return [g * y, g * x]

    with pytest.raises(RuntimeError, match=r"returned a list of 2 gradient\(s\); return them "
                                           r"as a tuple"):
        ListGrads.apply(X64, X64).sum().backward()


def test_forward_returning_a_tensor_works_and_two_outputs_are_refused():
    assert gradcheck(L.DoubleReturnsTensor.apply, X64)
    with pytest.raises(TypeError, match="SinCos.forward returned 2 values.*one Function per "
                                        "output"):
        L.SinCos.apply(X64)


def test_saved_tensors_after_backward_says_they_were_freed():
    L.KeepsContext.apply(X64).sum().backward()
    with pytest.raises(RuntimeError, match="op KeepsContext.*saved values were freed.*"
                                           "retain_graph=True"):
        _ = L.KeepsContext.leaked[-1].saved_tensors


def test_integer_inputs_cannot_require_grad_and_get_no_gradient():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        tg.tensor([1, 2], requires_grad=True)
    w = tg.tensor(np.ones((3, 2)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(lambda w, i: L.Embedding.apply(w, i), (w, tg.tensor([0, 2, 0])))


def test_at_a_kink_the_hint_names_the_kink_and_the_slope_the_backward_took():
    """Without ``avoid`` an input may sit on the kink: the report says so, and which one-sided
    slope the backward returned (right for the correct clamp and for the buggy one)."""
    for op, x in ((L.Clamp, 1.0), (L.ClampForgotLow, -1.0)):  # both return the right slope
        with pytest.raises(GradcheckError, match="kink: .*analytical matches the right slope"):
            assert_grad_close(op.apply, tg.tensor([x], dtype=tg.float64, requires_grad=True))
