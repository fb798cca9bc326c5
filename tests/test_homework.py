"""The homework checker on the seeds' hand-written backprops (as written and corrected) and on
small synthetic nets with one planted mistake per diagnosis rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.gradcheck import check_backprop, check_gradients
from tinygrad_edu.gradcheck import diagnose as dg
from tinygrad_edu.seeds import (
    Seed000Net,
    Seed002AnswerNet,
    Seed002V1Net,
    Seed002V2Net,
    seed000,
    seed002_answer,
)
from tinygrad_edu.testing import assert_close
from tinygrad_edu.testing import strategies as tst

X000, Y000 = np.array([0.5, 0.5]), np.array(0.25)


def autograd_grads(loss, params, x, y):
    tp = {n: tg.tensor(np.asarray(v, dtype=np.float64), requires_grad=True)
          for n, v in params.items()}
    gs = tg.grad(loss(tp, x, y), list(tp.values()), allow_unused=True)
    return {n: np.zeros(np.shape(params[n])) if g is None else g.numpy()
            for n, g in zip(tp, gs)}


# =========================================================================== seed 000
@pytest.mark.parametrize("bug", sorted(seed000.BUGS))
def test_seed000_each_bug_gets_its_diagnosis(bug):
    net = Seed000Net(bugs={bug})
    report = check_gradients(net, net.init_params(), X000, Y000)
    assert not report.passed
    top = report.diagnosis
    assert top.kind == seed000.BUGS[bug].value
    assert top.confidence == "high"


def test_seed000_sign_flip_covers_every_weight():
    net = Seed000Net(bugs={seed000.ASCENT_SIGN})
    report = check_gradients(net, net.init_params(), X000, Y000)
    (sign,) = [h for h in report.hypotheses if h.kind == dg.SIGN]
    assert set(sign.params) == set(seed000.PARAM_NAMES) and sign.factor == -1.0
    for row in report:
        assert row.rel_error == pytest.approx(2.0) and row.verdict == "wrong"
        assert row.hand == pytest.approx(-row.autograd)


def test_seed000_wrong_forward_weights_w23_has_no_effect():
    net = Seed000Net(bugs={seed000.WRONG_OUTPUT_WEIGHTS})
    report = check_gradients(net, net.init_params(), X000, Y000)
    w23 = report["w23"]
    assert float(w23.autograd) == 0.0 and float(w23.numeric[0]) == 0.0 and float(w23.hand) > 0.04
    assert w23.diagnosis.kind == dg.WRONG_WEIGHTS and "w23" in w23.diagnosis.message
    assert all(not r.passed for r in report)  # the forward bug changes every gradient


def test_seed000_stale_weights_names_the_updated_weights():
    net = Seed000Net(bugs={seed000.UPDATED_OUTPUT_WEIGHTS})
    report = check_gradients(net, net.init_params(), X000, Y000)
    assert report["w13"].passed and report["w23"].passed
    assert [r.name for r in report if not r.passed] == ["w11", "w12", "w21", "w22"]
    msg = report.diagnosis.message
    assert "w11, w21 computed with w13" in msg and "w12, w22 computed with w23" in msg
    assert report.diagnosis.detail["lr"] == 0.5 and not report.diagnosis.detail["inferred"]
    # without a learning rate (the README's call) the rate is inferred from the gradients
    no_lr = check_gradients(net.loss, net.grads, net.init_params(), X000, Y000)
    top = no_lr.diagnosis
    assert top.kind == dg.STALE_WEIGHTS and top.confidence == "high"
    assert top.detail["inferred"] and top.detail["lr"] == pytest.approx(0.5, rel=1e-9)
    assert top.detail["reads"] == {"w11": ["w13"], "w21": ["w13"], "w12": ["w23"],
                                   "w22": ["w23"]}


def test_seed000_rounding_is_suspicious_not_wrong():
    net = Seed000Net(bugs={seed000.ROUND_3_DECIMALS})
    report = check_gradients(net, net.init_params(), X000, Y000)
    assert {r.verdict for r in report} == {"suspicious"}
    (rounded,) = [h for h in report.hypotheses if h.kind == dg.ROUNDING]
    assert rounded.detail["decimals"] == 3 and rounded.confidence == "high"
    assert len(rounded.params) == 6


def test_seed000_as_written_flags_all_the_mistakes():
    net = Seed000Net()  # every bug on
    report = check_gradients(net, net.init_params(), X000, Y000)
    assert not report.passed and all(r.verdict == "wrong" for r in report)
    assert {dg.SIGN, dg.WRONG_WEIGHTS, dg.ROUNDING} <= report.kinds()
    assert report.diagnosis.kind == dg.WRONG_WEIGHTS


def test_seed000_corrected_passes():
    net = Seed000Net(bugs=seed000.CORRECTED)
    for x, y in [(X000, Y000), seed000.multiply_data(np.random.default_rng(1), 7)]:
        report = check_gradients(net, net.init_params(), x, y)
        assert report.passed, str(report)
        assert all(r.rel_error <= 1e-7 and r.rel_error_autograd <= 1e-7 for r in report)


# =========================================================================== seed 002 question
@pytest.mark.parametrize("net", [
    Seed002V1Net(sizes=(2, 2, 1)), Seed002V1Net(sizes=(1, 3, 1)), Seed002V1Net(sizes=(1, 6, 1)),
    Seed002V1Net(sizes=(3, 4, 3, 2)), Seed002V2Net(), Seed002V2Net(sizes=(2, 3, 4, 1)),
], ids=lambda n: f"{type(n).__name__}{n.sizes}")
@pytest.mark.parametrize("batch", [None, 5])
def test_seed002_question_backprops_are_correct(net, batch):
    rng = np.random.default_rng(2)
    params = net.init_params(rng)
    shape_x = (net.sizes[0],) if batch is None else (batch, net.sizes[0])
    shape_y = (net.sizes[-1],) if batch is None else (batch, net.sizes[-1])
    x, y = rng.normal(size=shape_x), rng.uniform(-0.9, 0.9, size=shape_y)
    report = check_backprop(net, params, x, y)
    assert report.passed, str(report)
    hand = net.grads(params, x, y)
    auto = autograd_grads(net.loss, params, x, y)
    for row in report:
        assert_close(hand[row.name], auto[row.name], atol=1e-13, rtol=1e-10, what=row.name)
        assert_close(row.numeric, auto[row.name].ravel()[row.indices], atol=1e-8, rtol=1e-6,
                     what=row.name)


# =========================================================================== seed 002 answer
def _answer_batch(activation: str, m: int = 16):
    rng = np.random.default_rng(3)
    X, Y = seed002_answer.sine_data(rng, m=m)
    return rng, X, seed002_answer.scale_targets(Y, activation)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_seed002_answer_is_the_gradient_of_cross_entropy_not_of_its_cost(activation):
    net = Seed002AnswerNet(activation=activation, sizes=(1, 6, 1))
    rng, X, Y = _answer_batch(activation)
    params = net.init_params(rng)
    report = check_gradients(net, params, X, Y)
    assert not report.passed
    missing = [h for h in report.hypotheses if h.kind == dg.MISSING_ACTIVATION_DERIVATIVE]
    assert len(missing) == 1 and missing[0].confidence == "high"
    assert f"output activation ({activation}" in missing[0].message
    other = [h for h in report.hypotheses if h.kind == dg.DIFFERENT_LOSS]
    assert len(other) == 1 and "cross_entropy_loss" in other[0].message
    assert other[0].confidence == "high" and other[0].factor == 1.0
    # and directly: the hand-written "gradient" is autograd's gradient of the cross-entropy
    hand = net.grads(params, X, Y)
    ce = autograd_grads(net.cross_entropy_loss, params, X, Y)
    for n in net.param_names:
        assert_close(hand[n], ce[n], atol=1e-13, rtol=1e-10, what=n)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_seed002_answer_corrected_passes(activation):
    net = Seed002AnswerNet(activation=activation, sizes=(1, 6, 4, 1),
                           bugs=seed002_answer.CORRECTED)
    rng, X, Y = _answer_batch(activation)
    report = check_gradients(net, net.init_params(rng), X, Y)
    assert report.passed, str(report)


def test_missing_output_derivative_without_alternatives_is_still_found():
    net = Seed002AnswerNet(activation="sigmoid")
    rng, X, Y = _answer_batch("sigmoid")
    report = check_gradients(net.loss, net.grads, net.init_params(rng), X, Y)
    assert report.diagnosis.kind == dg.MISSING_ACTIVATION_DERIVATIVE
    assert "cross-entropy" in report.diagnosis.message


# =========================================================================== property tests
@st.composite
def seed_cases(draw):
    kind = draw(st.sampled_from(["000", "v1", "v2", "answer_sigmoid", "answer_tanh"]))
    m = draw(st.integers(1, 4))
    if kind == "000":
        net = Seed000Net(bugs=seed000.CORRECTED)
        x = draw(tst.arrays((m, 2), min_value=0.0, max_value=1.0))
        y = draw(tst.arrays((m,), min_value=0.0, max_value=1.0))
    else:
        sizes = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=4)))
        if kind == "v1":
            net = Seed002V1Net(sizes=sizes)
        elif kind == "v2":
            net = Seed002V2Net(sizes=sizes)
        else:
            net = Seed002AnswerNet(sizes=sizes, activation=kind.split("_")[1],
                                   bugs=seed002_answer.CORRECTED)
        x = draw(tst.arrays((m, sizes[0]), min_value=-3.0, max_value=3.0))
        y = draw(tst.arrays((m, sizes[-1]), min_value=0.05, max_value=0.95))
    shapes = {n: np.shape(v) for n, v in net.init_params(np.random.default_rng(0)).items()}
    params = {n: draw(tst.arrays(s, min_value=-1.5, max_value=1.5)) for n, s in shapes.items()}
    return net, params, x, y


@given(case=seed_cases())
def test_corrected_hand_gradients_equal_autograd_and_central_differences(case):
    net, params, x, y = case
    hand = net.grads(params, x, y)
    auto = autograd_grads(net.loss, params, x, y)
    report = check_gradients(net, params, x, y)
    for row in report:
        assert_close(hand[row.name], auto[row.name], atol=1e-13, rtol=1e-10, what=row.name)
        assert_close(row.numeric, auto[row.name].ravel()[row.indices], atol=1e-8, rtol=1e-5,
                     what=f"{row.name} numerical")
    assert report.passed and report.hypotheses == [], str(report)  # no story on a right one


# =========================================================================== planted mistakes
class TwoLayer:
    """A 2-layer tanh net with a correct hand-written backprop and one optional planted bug."""

    def __init__(self, bug=None, sizes=(3, 4, 2), lr=0.1):
        self.bug, self.sizes, self.lr = bug, sizes, lr

    def init_params(self, seed=0):
        rng = np.random.default_rng(seed)
        a, b, c = self.sizes
        return {"W0": rng.normal(size=(a, b)), "b0": rng.normal(size=b),
                "W1": rng.normal(size=(b, c)) / 2, "b1": rng.normal(size=c)}

    def loss(self, p, x, y):
        h = np.tanh(x @ p["W0"] + p["b0"])
        return np.sum((h @ p["W1"] + p["b1"] - y) ** 2) / (2 * len(x))

    def sum_loss(self, p, x, y):
        return self.loss(p, x, y) * len(x)

    def grads(self, p, x, y):
        m, bug = len(x), self.bug
        h = np.tanh(x @ p["W0"] + p["b0"])
        d1 = (h @ p["W1"] + p["b1"] - y) / (1 if bug == "no_mean" else m)
        g = {"W1": h.T @ d1, "b1": d1 if bug == "per_sample" else d1.sum(0)}
        W1 = p["W1"] - self.lr * g["W1"] if bug == "stale" else p["W1"]
        d0 = d1 @ W1.T
        if bug != "hidden_derivative":
            d0 = d0 * (1 - h * h)
        g["W0"], g["b0"] = x.T @ d0, d0.sum(0)
        if bug == "transposed":
            g["W0"] = g["W0"].T
        if bug == "row":
            g["W1"] = g["W1"].copy()
            g["W1"][1] *= 3.0
        return g


def _two_layer_report(bug, sizes=(3, 4, 2), **options):
    net = TwoLayer(bug, sizes)
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(5, sizes[0])), rng.normal(size=(5, sizes[-1]))
    return check_gradients(net, net.init_params(), x, y, **options)


def test_two_layer_correct_passes():
    report = _two_layer_report(None)
    assert report.passed and report.hypotheses == []


def test_factor_of_the_batch_size_is_named_and_matches_the_sum_loss():
    report = _two_layer_report("no_mean")
    factor = [h for h in report.hypotheses if h.kind == dg.FACTOR]
    assert len(factor) == 1 and factor[0].factor == pytest.approx(5.0)
    assert "m (m = batch size 5)" in factor[0].message
    other = [h for h in report.hypotheses if h.kind == dg.DIFFERENT_LOSS]
    assert len(other) == 1 and "'sum_loss'" in other[0].message


def test_transposed_gradient():
    report = _two_layer_report("transposed")
    row = report["W0"]
    assert row.verdict == "wrong shape" and row.diagnosis.kind == dg.TRANSPOSED
    square = _two_layer_report("transposed", sizes=(4, 4, 2))["W0"]
    assert square.diagnosis.kind == dg.TRANSPOSED and square.hand.shape == (4, 4)


def test_per_sample_gradients_not_summed():
    row = _two_layer_report("per_sample")["b1"]
    assert row.verdict == "wrong shape" and row.diagnosis.kind == dg.SHAPE
    assert "summed over the first axis" in row.diagnosis.message


def test_some_entries_wrong_names_the_row():
    report = _two_layer_report("row")
    assert [r.name for r in report if not r.passed] == ["W1"]
    top = report["W1"].diagnosis
    assert top.kind == dg.SOME_ENTRIES and "exactly row(s) [1]" in top.message
    assert "correct: W0, b0, b1" in " ".join(report.notes)


def test_missing_hidden_activation_derivative():
    report = _two_layer_report("hidden_derivative")
    assert [r.name for r in report if not r.passed] == ["W0", "b0"]
    top = report.diagnosis
    assert top.kind == dg.MISSING_ACTIVATION_DERIVATIVE and "hidden activation (tanh" in top.message


def test_stale_weight_matrix():
    report = _two_layer_report("stale")
    top = report.diagnosis
    assert top.kind == dg.STALE_WEIGHTS and "W0, b0 computed with W1 already updated" in top.message


def test_missing_gradient_and_extra_names():
    net = TwoLayer()
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(3, 3)), rng.normal(size=(3, 2))

    def grads(p, x, y):
        g = net.grads(p, x, y)
        g["W2"] = g.pop("b1")
        return g

    report = check_gradients(net.loss, grads, net.init_params(), x, y)
    assert report["b1"].verdict == "missing" and not report.passed
    assert any("W2" in n for n in report.notes)


def test_sampling_caps_entries_per_parameter_and_is_seeded():
    net = TwoLayer(sizes=(6, 8, 2))
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(4, 6)), rng.normal(size=(4, 2))
    a = check_gradients(net, net.init_params(), x, y, max_entries_per_param=5, seed=1)
    b = check_gradients(net, net.init_params(), x, y, max_entries_per_param=5, seed=1)
    c = check_gradients(net, net.init_params(), x, y, max_entries_per_param=5, seed=2)
    assert {r.name: r.n_checked for r in a} == {"W0": 5, "b0": 5, "W1": 5, "b1": 2}
    assert all(np.array_equal(r.indices, s.indices) for r, s in zip(a, b))
    assert not np.array_equal(a["W0"].indices, c["W0"].indices)
    assert a.passed and c.passed


# =========================================================================== numerical trust
def _relu_loss(p, x, y):
    return np.sum(np.maximum(x @ p["W"], 0.0) * y)


def _relu_grads(p, x, y):
    z = x @ p["W"]
    return {"W": x.T @ ((z > 0) * y)}


def test_kink_is_reported_as_kink_and_passes():
    x, y = np.array([[1.0, -1.0]]), np.array([[1.0, 2.0]])
    params = {"W": np.array([[0.5, 0.3], [0.5, 0.2]])}  # z = [0, 0.1]: on the kink
    report = check_gradients(_relu_loss, _relu_grads, params, x, y)
    row = report["W"]
    assert row.verdict == "kink" and report.passed
    assert row.rel_error > 1e-2  # CS231n's number alone would say "wrong"
    (kink,) = [h for h in row.hypotheses if h.kind == dg.KINK]
    assert kink.detail["entries"] == [(0, 0), (1, 0)]


def test_wrong_gradient_at_a_kink_is_still_wrong():
    x, y = np.array([[1.0, -1.0]]), np.array([[1.0, 2.0]])
    params = {"W": np.array([[0.5, 0.3], [0.5, 0.2]])}
    report = check_gradients(_relu_loss, lambda p, x, y: {"W": -_relu_grads(p, x, y)["W"]},
                             params, x, y)
    assert report["W"].verdict == "wrong"


def test_numpy_conversions_that_keep_values_keep_the_gradient_too():
    def loss(p, x, y):  # np.asarray of an array is a no-op in numpy: so it is here
        return np.sum((np.tanh(x @ np.asarray(p["W0"])) + p["b0"] - y) ** 2)

    def grads(p, x, y, factor=1.0):
        h = np.tanh(x @ p["W0"])
        d = 2 * (h + p["b0"] - y)
        return {"W0": factor * x.T @ (d * (1 - h * h)), "b0": d.sum(0)}

    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    params = {"W0": rng.normal(size=(2, 2)), "b0": rng.normal(size=2)}
    report = check_gradients(loss, grads, params, x, y)
    assert report.passed
    assert report["W0"].reference == "autograd" and report["b0"].reference == "autograd"
    wrong = check_gradients(loss, lambda p, x, y: grads(p, x, y, factor=2.0), params, x, y)
    assert wrong["W0"].verdict == "wrong" and wrong["W0"].diagnosis.kind == dg.FACTOR


def test_a_loss_that_turns_parameters_into_floats_is_named_not_called_independent():
    def loss(p, x, y):  # the most literal port of seed 000: scalar math on numpy values
        h = 1 / (1 + math.exp(-float(x[0] * p["w"][0] + x[1] * p["w"][1])))
        return (h - y) ** 2

    def grads(p, x, y):
        h = 1 / (1 + np.exp(-(x @ p["w"])))
        return {"w": 2 * (h - y) * h * (1 - h) * x}

    x, y = np.array([0.5, 0.5]), 0.25
    report = check_gradients(loss, grads, {"w": np.array([0.45, 0.28])}, x, y)
    assert report.passed and report["w"].reference == "numerical"
    note = " ".join(report.notes)
    assert "`float()`" in note and "line" in note and "does not depend" not in str(report)

    def plain_loss(p, x, y):  # no Tensor at all
        return float(loss({k: np.asarray(v) for k, v in p.items()}, x, y))

    report = check_gradients(plain_loss, grads, {"w": np.array([0.45, 0.28])}, x, y)
    assert report.passed and all(r.reference == "numerical" for r in report)
    assert any("autograd could not" in n for n in report.notes)


def test_numerical_noise_is_not_blamed_on_the_gradient():
    def loss(p, x, y):  # a cancellation: the loss keeps only ~8 significant digits
        return (np.sum((x @ p["W"] - y) ** 2) + 1e8) - 1e8

    def grads(p, x, y):
        return {"W": 2 * x.T @ (x @ p["W"] - y)}

    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    report = check_gradients(loss, grads, {"W": rng.normal(size=(3, 2))}, x, y)
    assert report.passed
    assert report["W"].rel_error > 1e-7  # the numerical gradient alone looks imprecise
    assert dg.NUMERICAL_NOISE in report["W"].kinds


def test_float32_loss_is_noted():
    def loss(p, x, y):
        return np.sum((x @ p["W"]).astype(np.float32) ** 2)

    def grads(p, x, y):
        return {"W": 2 * x.T @ (x @ p["W"])}

    rng = np.random.default_rng(9)
    x = rng.normal(size=(3, 2))
    report = check_gradients(loss, grads, {"W": rng.normal(size=(2, 2))}, x, None)
    assert report.passed
    assert any("float32" in n for n in report.notes)


# =========================================================================== report
def test_report_renders_as_text_and_html_and_rows_are_accessible():
    report = _two_layer_report("row")
    text = str(report)
    assert text.startswith("Gradient check of 4 parameters") and "FAILED: 1 of 4" in text
    assert "some_entries" in text and "rel.err numeric" in text
    html = report._repr_html_()
    assert html.count("<tr>") == 5 and "W1" in html and "wrong" in html
    assert [r.name for r in report] == ["W0", "b0", "W1", "b1"] and len(report) == 4
    assert report["W1"].n_entries == 8 and not bool(report)
    with pytest.raises(KeyError):
        report["nope"]


def test_net_and_function_forms_agree():
    net = TwoLayer("no_mean")
    rng = np.random.default_rng(10)
    x, y = rng.normal(size=(3, 3)), rng.normal(size=(3, 2))
    p = net.init_params()
    a = check_backprop(net, p, x, y)
    b = check_gradients(net, params=p, x=x, y=y)
    c = check_gradients(net.loss, net.grads, p, x, y)
    assert [r.rel_error for r in a] == [r.rel_error for r in b] == [r.rel_error for r in c]
    assert check_backprop is check_gradients
    with pytest.raises(TypeError):
        check_gradients(net.loss, None, p, x, y)


# =========================================================================== issue 13
def test_corrected_backprops_get_no_diagnosis_at_all():
    for bug_free in (_two_layer_report(None), _two_layer_report(None, sizes=(4, 4, 4))):
        assert bug_free.passed and bug_free.hypotheses == [] and bug_free.notes == []
        assert bug_free.diagnosis is None and "< noise" in str(bug_free)
        assert all(r.rel_error == 0.0 for r in bug_free)  # the number stays a number


def _square(p, x, y):
    h = np.tanh(x @ p["W0"])
    return np.sum((h @ p["W1"] - y) ** 2) / (2 * len(x))


def _square_grads(p, x, y, transpose=True):
    h = np.tanh(x @ p["W0"])
    d = (h @ p["W1"] - y) / len(x)
    g0 = x.T @ ((d @ p["W1"].T) * (1 - h * h))
    return {"W0": g0.T if transpose else g0, "W1": h.T @ d}


@pytest.mark.parametrize("autograd", [True, False], ids=["autograd", "numerical"])
def test_transposed_square_matrix_is_a_transpose_not_some_entries(autograd):
    rng = np.random.default_rng(11)
    p = {"W0": rng.normal(size=(4, 4)), "W1": rng.normal(size=(4, 2))}
    x, y = rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    loss = _square if autograd else (lambda p, x, y: float(_square(p, x, y)))
    report = check_gradients(loss, _square_grads, p, x, y)
    row = report["W0"]
    assert row.diagnosis.kind == dg.TRANSPOSED and row.diagnosis.confidence == "high"
    assert dg.SOME_ENTRIES not in row.kinds and "of 16" not in str(report)
    assert row.reference == ("autograd" if autograd else "numerical")


def test_negative_named_factor_says_sign_first():
    net = TwoLayer()
    rng = np.random.default_rng(12)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    report = check_gradients(net.loss, lambda p, x, y: {k: -2 * v for k, v in
                                                        net.grads(p, x, y).items()},
                             net.init_params(), x, y)
    top = report.diagnosis
    assert top.kind == dg.SIGN and top.factor == -2.0 and len(top.params) == 4
    assert top.message.index("sign flipped") < top.message.index("factor 2")


@pytest.mark.parametrize("scale", [1 + 3e-4, 0.5 * (1 + 3e-4)])
def test_rounding_sized_error_on_matrices_is_precision_not_a_factor(scale):
    net = TwoLayer()
    rng = np.random.default_rng(13)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    report = check_gradients(net.loss, lambda p, x, y: {k: scale * v for k, v in
                                                        net.grads(p, x, y).items()},
                             net.init_params(), x, y)
    top = report.diagnosis
    assert top.confidence == "medium" and "rounding or low precision" in top.message
    assert top.kind == (dg.PRECISION if scale > 1 else dg.FACTOR)
    assert not any(h.confidence == "high" for h in report.hypotheses)


def _three_layer_loss(p, x, y):
    h1 = np.tanh(x @ p["W0"])
    h2 = np.tanh(h1 @ p["W1"])
    return np.sum((h2 @ p["W2"] - y) ** 2) / (2 * len(x))


def _three_layer_stale(p, x, y, lr=0.05):
    """Updates each layer before sending the delta through it: W0 reads new W1 and W2."""
    h1 = np.tanh(x @ p["W0"])
    h2 = np.tanh(h1 @ p["W1"])
    d3 = (h2 @ p["W2"] - y) / len(x)
    g = {"W2": h2.T @ d3}
    W2 = p["W2"] - lr * g["W2"]
    d2 = (d3 @ W2.T) * (1 - h2 * h2)
    g["W1"] = h1.T @ d2
    W1 = p["W1"] - lr * g["W1"]
    g["W0"] = x.T @ ((d2 @ W1.T) * (1 - h1 * h1))
    return g


@pytest.mark.parametrize("lr", [0.05, 0.8])
def test_stale_weights_through_two_layers_infers_the_rate(lr):
    rng = np.random.default_rng(14)
    p = {"W0": rng.normal(size=(3, 4)), "W1": rng.normal(size=(4, 3)),
         "W2": rng.normal(size=(3, 2))}
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    report = check_gradients(_three_layer_loss, lambda p, x, y: _three_layer_stale(p, x, y, lr),
                             p, x, y)
    top = report.diagnosis
    assert top.kind == dg.STALE_WEIGHTS and top.confidence == "high"
    assert top.detail["lr"] == pytest.approx(lr, rel=1e-8)
    assert top.detail["reads"] == {"W1": ["W2"], "W0": ["W1", "W2"]}


@pytest.mark.parametrize("bug", ["no_mean", "per_sample", "hidden_derivative", "transposed",
                                 "row"])
@pytest.mark.parametrize("seed", [0, 1])
def test_other_mistakes_are_not_called_stale_weights(bug, seed):
    net = TwoLayer(bug)
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    report = check_gradients(net.loss, net.grads, net.init_params(seed), x, y)  # no lr
    assert dg.STALE_WEIGHTS not in report.kinds()
    assert dg.LOSS_NORMALISATION not in report.kinds() and dg.ROUNDING not in report.kinds()


def test_loss_rounded_with_np_round_is_unchecked_not_unused_weights():
    net = TwoLayer()
    rng = np.random.default_rng(15)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    report = check_gradients(lambda p, x, y: np.round(net.loss(p, x, y), 3), net.grads,
                             net.init_params(), x, y)
    assert {r.verdict for r in report} == {"unchecked"} and not report.passed
    assert [h.kind for h in report.hypotheses] == [dg.ROUNDING]
    assert dg.WRONG_WEIGHTS not in report.kinds()


def test_a_loss_that_ignores_a_weight_is_not_called_rounded():
    def loss(p, x, y):
        return np.sum((x @ p["a"] - y) ** 2)

    def grads(p, x, y):
        return {"a": 2 * x.T @ (x @ p["a"] - y), "b": np.ones(2)}

    rng = np.random.default_rng(16)
    x, y = rng.normal(size=(4, 2)), rng.normal(size=4)
    report = check_gradients(loss, grads, {"a": rng.normal(size=2), "b": np.zeros(2)}, x, y)
    assert report["b"].diagnosis.kind == dg.WRONG_WEIGHTS and report["a"].passed
    assert dg.ROUNDING not in report.kinds()


def test_divisor_from_an_enclosing_function_is_named():
    def make(m):
        def loss(p, x, y):
            return np.sum((x @ p["w"] - y) ** 2) / m

        def grads(p, x, y):
            return {"w": 2 * x.T @ (x @ p["w"] - y) / len(x)}
        return loss, grads

    rng = np.random.default_rng(17)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=6)
    report = check_gradients(*make(100), {"w": rng.normal(size=3)}, x, y)
    top = report.diagnosis
    assert top.kind == dg.LOSS_NORMALISATION and top.detail["where"] == "enclosing"
    assert "`m` = 100 of the enclosing function" in top.message


def test_sum_and_regularised_losses_are_not_a_normalisation_mistake():
    rng = np.random.default_rng(18)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=6)
    w = {"w": rng.normal(size=3)}
    lam = 0.1  # a global the loss reads, but does not divide by

    def mean_l2(p, x, y):
        return np.mean((x @ p["w"] - y) ** 2) + lam * np.sum(p["w"] ** 2)

    def mean_l2_grads(p, x, y):
        return {"w": 2 * x.T @ (x @ p["w"] - y) / len(x) + 2 * lam * p["w"]}

    def sum_l2(p, x, y):
        return np.sum((x @ p["w"] - y) ** 2) + lam * np.sum(p["w"] ** 2)

    def sum_l2_grads(p, x, y):
        return {"w": 2 * x.T @ (x @ p["w"] - y) + 2 * lam * p["w"]}

    for loss, grads in ((mean_l2, mean_l2_grads), (sum_l2, sum_l2_grads)):
        report = check_gradients(loss, grads, w, x, y)
        assert report.passed and report.hypotheses == [], str(report)
    assert any("neither a mean nor a sum" in n for n in report.notes)  # sum + L2: a note


def test_the_probe_leaves_the_users_globals_as_they_were():
    import tests.test_seed_ports as ports

    before = dict(vars(ports))
    check_backprop(ports.cost, ports.backpropagate_fixed, *ports.answer_batch())
    assert vars(ports) == before


def test_a_wrong_lr_falls_back_to_the_inferred_rate():
    net = Seed000Net(bugs={seed000.UPDATED_OUTPUT_WEIGHTS})
    report = check_gradients(net.loss, net.grads, net.init_params(), X000, Y000, lr=0.1)
    top = report.diagnosis
    assert top.kind == dg.STALE_WEIGHTS and top.detail["inferred"]
    assert top.detail["lr"] == pytest.approx(0.5, rel=1e-9)


def test_a_loss_tied_to_its_batch_size_skips_the_batch_probe():
    target = np.array([1.0, -1.0, 0.5])

    def loss(p, x, y):  # reads a fixed-length global array: another batch size fails
        return np.mean((x @ p["w"] - target) ** 2)

    def grads(p, x, y):
        return {"w": 2 * x.T @ (x @ p["w"] - target) / 3}

    rng = np.random.default_rng(19)
    report = check_gradients(loss, grads, {"w": rng.normal(size=2)}, rng.normal(size=(3, 2)),
                             None)
    assert report.passed and report.hypotheses == [] and report.notes == []
