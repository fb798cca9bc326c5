"""The seeds' own code, ported minimally as a learner would (python 3, ``np.exp``), run through
the checker with only the arguments the README shows: ``check_backprop(loss, grads, params, x,
y)``. Each bug must be *named* in the printed report; a correct backprop must get no
diagnosis at all (issue 13).

Seed 000 (``/work/shared/seeds/000_*``): a 2-2-1 sigmoid net in scalar Python, one sample
``(0.5, 0.5) -> 0.25``, lr 0.5. The author's loss is the printed ``sgrErr = errValO *
errValO`` (no ½). The port keeps the author's names; ``port000(fixed=...)`` switches the
author's bugs off one at a time, as the learner fixing them would.

Seed 002's answer: a vectorised sigmoid net with a bias column whose ``cost`` and
``backpropagate`` both divide by a *global* ``m`` (the training-set size) and whose output
delta lacks the sigmoid's derivative.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_edu.gradcheck import check_backprop
from tinygrad_edu.gradcheck import diagnose as dg

# =========================================================================== seed 000
lr = 0.5  # the author's module-level learning rate: the backprop reads it, the checker is not told
START = {"w11": 0.45, "w12": 0.28, "w21": 0.36, "w22": 0.75, "w13": 0.14, "w23": 0.40}
INP, TRUE_VAL = np.array([0.5, 0.5]), 0.25
BUGS000 = ("weights", "sign", "stale", "rounding")


def port000(fixed=(), half=False, round_forward=False):
    """The author's forward pass and backprop as ``(loss, grads)``, bugs in ``fixed`` repaired.

    ``half`` takes ``0.5 * err**2`` as the loss instead of the author's ``err**2``;
    ``round_forward`` keeps the author's ``float("%.3f" % v)`` in the forward pass (the loss).
    """
    rounding = "rounding" not in fixed

    def r3(v):
        return float("%.3f" % v) if rounding else v  # noqa: UP031 (the author's line)

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    def forward(w, inp):
        resValSig11 = sigmoid(w["w11"] * inp[0] + w["w21"] * inp[1])
        resValSig21 = sigmoid(w["w12"] * inp[0] + w["w22"] * inp[1])
        if "weights" in fixed:
            resValSum31 = w["w13"] * resValSig11 + w["w23"] * resValSig21
        else:  # the author's: w12 where w13 belongs, w13 where w23 belongs
            resValSum31 = w["w12"] * resValSig11 + w["w13"] * resValSig21
        return resValSig11, resValSig21, sigmoid(resValSum31)

    def loss(w, inp, trueVal):
        resValSig31 = forward(w, inp)[2]
        if round_forward:
            resValSig31 = r3(resValSig31)
        errValO = trueVal - resValSig31
        return (0.5 if half else 1.0) * errValO * errValO

    def grads(w, inp, trueVal):
        resValSig11, resValSig21, resValSig31 = forward(w, inp)
        resValSig31 = r3(resValSig31)
        errValO = r3(resValSig31 - trueVal if "sign" in fixed else trueVal - resValSig31)
        deltaWO = errValO * (resValSig31 * (1 - resValSig31))
        g13, g23 = resValSig11 * deltaWO, resValSig21 * deltaWO
        w13, w23 = w["w13"], w["w23"]
        if "stale" not in fixed:  # the author updates the output weights first
            w13, w23 = r3(w13 - g13 * lr), r3(w23 - g23 * lr)
        deltaWH11 = w13 * deltaWO * (resValSig11 * (1 - resValSig11))
        deltaWH21 = w23 * deltaWO * (resValSig21 * (1 - resValSig21))
        return {"w11": inp[0] * deltaWH11, "w12": inp[0] * deltaWH21,
                "w21": inp[1] * deltaWH11, "w22": inp[1] * deltaWH21, "w13": g13, "w23": g23}

    return loss, grads


def check000(*fixes, **options):
    loss, grads = port000(*fixes, **options)
    return check_backprop(loss, grads, START, INP, TRUE_VAL)


def all_but(bug):
    return tuple(b for b in BUGS000 if b != bug)


def test_sign_alone_says_sign_first_and_the_half_of_the_squared_error_second():
    report = check000(all_but("sign"))
    text = str(report)
    top = report.diagnosis
    assert top.kind == dg.SIGN and top.confidence == "high" and top.factor == -0.5
    assert set(top.params) == set(START)
    assert "sign flipped, and a factor 1/2" in top.message and "2*err" in top.message
    assert text.index("sign flipped") < text.index("1/2")
    # with the loss 0.5 * err**2 it is the sign alone
    half = check000(all_but("sign"), half=True).diagnosis
    assert half.kind == dg.SIGN and half.factor == -1.0 and "1/2" not in half.message


@pytest.mark.parametrize("half", [False, True], ids=["err**2", "0.5*err**2"])
def test_stale_weights_found_without_lr(half):
    report = check000(all_but("stale"), half=half)
    top = report.diagnosis
    assert top.kind == dg.STALE_WEIGHTS and top.confidence == "high"
    assert top.detail["inferred"] and top.detail["lr"] == pytest.approx(lr, rel=1e-9)
    assert "w11, w21 computed with w13 already updated" in str(report)
    assert "w12, w22 computed with w23 already updated" in str(report)
    assert ("factor 1/2" in top.message) is not half  # the author's err**2: the ½ as well
    assert [h.kind for h in report.hypotheses] == [dg.STALE_WEIGHTS]


def test_stale_weights_with_rounded_new_weights_is_still_stale():
    loss, grads = port000(("weights", "sign"), half=True)   # stale + rounding left
    report = check_backprop(loss, grads, START, INP, TRUE_VAL)
    stale = [h for h in report.hypotheses if h.kind == dg.STALE_WEIGHTS]
    assert len(stale) == 1 and stale[0].confidence in ("medium", "low")
    assert stale[0].detail["lr"] == pytest.approx(lr, rel=5e-2)


@pytest.mark.parametrize("half", [False, True], ids=["err**2", "0.5*err**2"])
def test_rounding_in_the_backprop_is_rounding_not_a_confident_factor(half):
    report = check000(all_but("rounding"), half=half)
    top = report.diagnosis
    assert top.confidence != "high" and "rounding or low precision" in top.message
    if half:
        assert top.kind == dg.PRECISION and top.factor == pytest.approx(1.0, abs=1e-3)
        assert {r.verdict for r in report} == {"suspicious"}
    else:  # the ½ of err**2, and the rounding on top of it
        assert top.kind == dg.FACTOR and "factor 1/2" in top.message
        assert top.factor == pytest.approx(0.5, rel=1e-3) and top.factor != 0.5
    assert not any(h.kind == dg.FACTOR and h.confidence == "high" for h in report.hypotheses)


def test_rounding_in_the_forward_pass_is_a_rounded_loss_not_unused_weights():
    # numerical only: autograd cannot follow float("%.3f" % v), whatever it reports about it
    report = check000(all_but("rounding"), half=True, round_forward=True)
    assert not report.passed and {r.verdict for r in report} == {"unchecked"}
    top = report.diagnosis
    assert top.kind == dg.ROUNDING and top.confidence == "high"
    assert "the loss is rounded" in top.message and "piecewise constant" in top.message
    assert dg.WRONG_WEIGHTS not in report.kinds()
    assert "nothing could be checked" in report.headline()


def test_the_most_literal_port_math_exp_and_rounding_everywhere():
    def loss(w, inp, trueVal):  # math.exp and float("%.3f"): the author's very lines
        s11 = 1 / (1 + math.exp(-(w["w11"] * inp[0] + w["w21"] * inp[1])))
        s21 = 1 / (1 + math.exp(-(w["w12"] * inp[0] + w["w22"] * inp[1])))
        s31 = float("%.3f" % (1 / (1 + math.exp(-(w["w12"] * s11 + w["w13"] * s21)))))
        errValO = float("%.3f" % (trueVal - s31))
        return float("%.3f" % (errValO * errValO))

    report = check_backprop(loss, port000()[1], START, INP, TRUE_VAL)
    assert report.diagnosis.kind == dg.ROUNDING and "the loss is rounded" in str(report)
    assert dg.WRONG_WEIGHTS not in report.kinds()
    # what stopped autograd is named, at the author's line, with the fix
    assert "`math.exp` turned a value that requires grad into a Python float" in str(report)
    assert "Use `np.exp`" in str(report) and "does not depend" not in str(report)


def test_wrong_forward_weights_alone():
    report = check000(all_but("weights"))
    assert report.diagnosis.kind == dg.WRONG_WEIGHTS
    assert "the loss does not depend on w23" in str(report)


def test_as_written_the_top_diagnosis_is_the_wrong_weights():
    report = check000()
    assert report.diagnosis.kind == dg.WRONG_WEIGHTS and not report.passed


def test_fixing_one_bug_at_a_time_each_is_named_then_it_passes():
    """The learner's path: at every step the report names each bug still there."""
    words = {"weights": "disagree about which weights", "sign": "sign flipped",
             "stale": "stale weights", "rounding": "rounding or low precision"}
    fixed: list[str] = []
    for bug in ("weights", "sign", "stale", "rounding"):
        report = check000(tuple(fixed), half=True)
        text = str(report)
        assert not report.passed and words[bug] in text, (fixed, text)
        fixed.append(bug)
    report = check000(tuple(fixed), half=True)
    assert report.passed and report.hypotheses == [] and report.diagnosis is None


def test_corrected_port_has_no_diagnosis_and_the_authors_loss_gets_its_half():
    loss, grads = port000(BUGS000, half=True)
    report = check_backprop(loss, grads, START, INP, TRUE_VAL)
    assert report.passed and report.hypotheses == [] and report.notes == []
    assert "< noise" in str(report)
    half = check000(BUGS000)  # err**2 with the backprop of 0.5 * err**2
    assert half.diagnosis.kind == dg.FACTOR and half.diagnosis.factor == 0.5


# =========================================================================== seed 002 answer
neurons = [1, 6, 1]
L = len(neurons)
m = 1000  # the answer's global: the size of its training set


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def feedforward(weights, X):
    n = X.shape[0]
    inputs, outputs = [None], [np.concatenate((np.ones([n, 1]), X), axis=1)]
    for i in range(1, L):
        inputs.append(np.dot(outputs[i - 1], weights[f"W{i - 1}"].T))
        h = sigmoid(inputs[i])
        outputs.append(np.concatenate((np.ones([n, 1]), h), axis=1) if i < L - 1 else h)
    return inputs, outputs


def cost(weights, X, Y):  # reads the global m, as the answer does
    H = feedforward(weights, X)[1][L - 1]
    return np.sum(np.sum(np.power((Y - H), 2), axis=0)) / (2 * m)


def backpropagate(weights, X, Y):  # the answer's: no sigmoid derivative at the output, global m
    inputs, outputs = feedforward(weights, X)
    errors = [None] * L
    errors[L - 1] = outputs[L - 1] - Y
    for i in range(L - 2, 0, -1):
        errors[i] = np.dot(errors[i + 1], weights[f"W{i}"][:, 1:]) * (
            sigmoid(inputs[i]) * (1 - sigmoid(inputs[i])))
    return {f"W{i}": np.dot(errors[i + 1].T, outputs[i]) / m for i in range(L - 1)}


def backpropagate_fixed(weights, X, Y):  # the output delta with H(1 - H)
    inputs, outputs = feedforward(weights, X)
    H = outputs[L - 1]
    errors = [None] * L
    errors[L - 1] = (H - Y) * H * (1 - H)
    for i in range(L - 2, 0, -1):
        errors[i] = np.dot(errors[i + 1], weights[f"W{i}"][:, 1:]) * (
            sigmoid(inputs[i]) * (1 - sigmoid(inputs[i])))
    return {f"W{i}": np.dot(errors[i + 1].T, outputs[i]) / m for i in range(L - 1)}


def cost_local(weights, X, Y):
    H = feedforward(weights, X)[1][L - 1]
    return np.sum((Y - H) ** 2) / (2 * X.shape[0])


def backpropagate_local(weights, X, Y):
    return {k: v * m / X.shape[0] for k, v in backpropagate_fixed(weights, X, Y).items()}


def answer_batch(n=20, seed=0):
    rng = np.random.default_rng(seed)
    weights = {f"W{l}": rng.uniform(-0.12, 0.12, size=(neurons[l + 1], neurons[l] + 1))
               for l in range(L - 1)}
    X = np.linspace(0, 4 * math.pi, n).reshape(n, 1)
    return weights, X, (np.sin(X) / 1.1 + 1) / 2


def test_answer_as_written_names_the_missing_derivative_and_the_global_m():
    report = check_backprop(cost, backpropagate, *answer_batch())
    kinds = [h.kind for h in report.hypotheses]
    assert kinds[0] == dg.MISSING_ACTIVATION_DERIVATIVE and dg.LOSS_NORMALISATION in kinds
    text = str(report)
    assert "output activation (sigmoid" in text and "global `m` = 1000" in text
    assert not any(h.kind == dg.FACTOR for r in report for h in r.hypotheses)


def test_global_m_shared_by_loss_and_backprop_passes_but_is_named():
    report = check_backprop(cost, backpropagate_fixed, *answer_batch())
    assert report.passed  # the gradients agree: both divide by the same wrong number
    (h,) = report.hypotheses
    assert h.kind == dg.LOSS_NORMALISATION and h.detail["name"] == "m"
    assert h.detail["loss"] and h.detail["backprop"] and h.detail["where"] == "global"
    assert "your loss divides by a fixed number, not the batch size" in h.message
    assert "see the diagnosis of the loss" in report.headline()


def test_global_m_in_the_loss_only_explains_the_factor():
    report = check_backprop(cost, backpropagate_local, *answer_batch())
    assert not report.passed
    top = report.diagnosis
    assert top.kind == dg.LOSS_NORMALISATION and top.detail["loss"]
    assert not top.detail["backprop"] and "backprop takes the mean" in top.message
    assert set(top.params) == {"W0", "W1"}
    assert dg.FACTOR not in {h.kind for h in report.hypotheses}  # 50 × is explained


def test_global_m_in_the_backprop_only():
    report = check_backprop(cost_local, backpropagate_fixed, *answer_batch())
    top = report.diagnosis
    assert top.kind == dg.LOSS_NORMALISATION and top.detail["backprop"]
    assert "your backprop divides by a fixed number" in top.message


def test_global_m_equal_to_the_batch_size_is_still_a_fixed_number():
    global m
    saved, m = m, 20
    try:
        report = check_backprop(cost, backpropagate_fixed, *answer_batch(n=20))
    finally:
        m = saved
    (h,) = report.hypotheses
    assert report.passed and h.kind == dg.LOSS_NORMALISATION and "by coincidence" in h.message
    assert m == 1000  # rebinding the global to probe it leaves it as it was


def test_answer_online_batch_of_one_is_the_missing_derivative_not_a_factor_4():
    global m
    saved, m = m, 1
    try:
        weights, X, Y = answer_batch(n=20)
        report = check_backprop(cost, backpropagate, weights, X[7:8], Y[7:8])
    finally:
        m = saved
    top = report.diagnosis
    assert top.kind == dg.MISSING_ACTIVATION_DERIVATIVE and top.confidence == "high"
    assert "≈ 4.0" in top.message  # the ¼ of the sigmoid's derivative, explained
    assert dg.FACTOR not in report.kinds()


def test_answer_corrected_with_the_batch_size_has_no_diagnosis():
    def backpropagate_mean(weights, X, Y):
        return {k: v * m / X.shape[0] for k, v in backpropagate_fixed(weights, X, Y).items()}

    for n in (20, 7):
        report = check_backprop(cost_local, backpropagate_mean, *answer_batch(n=n))
        assert report.passed and report.hypotheses == [] and report.notes == []


# =========================================================================== the demo's notes
def test_demo_notes_say_what_the_checker_names():
    from tinygrad_edu.demos import multiply, sine
    from tinygrad_edu.demos.base import Outcome

    out = Outcome("multiply", "seed 000")
    out.curves["loss"] = {}
    multiply._hand_as_written(out)
    assert "check_backprop names wrong weights, rounding, sign" in out.rows[0].note
    out = Outcome("sine", "seed 002")
    sine._answer_as_written(out, quick=True)
    assert "check_backprop names" in out.rows[0].note
    assert "missing activation derivative" in out.rows[0].note
