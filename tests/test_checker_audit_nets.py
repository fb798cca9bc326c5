"""The homework checker on hand-written backprops it was not written for (see
:mod:`tests.checker_audit_nets`): every planted mistake flags exactly the parameters it makes
wrong, every right backprop passes, and the hint is right or absent — never a wrong kind."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.checker_audit_nets import DEV, HELD_OUT, Case, Outcome, audit, changed
from tinygrad_edu.gradcheck import diagnose as dg

CASES = DEV + HELD_OUT
MISTAKES = [c for c in CASES if c.bug is not None and c.bug != "mask_of_output"]
NETS = sorted({c.net for c in CASES}, key=lambda n: n.__name__)
ROUNDING_STORIES = {dg.PRECISION, dg.SOME_ENTRIES}


def _explain(o: Outcome) -> str:
    return (f"{o.case.id}: flagged {sorted(o.flagged)}, expected {sorted(o.case.wrong)}; "
            f"told {list(o.told)}, accepted {sorted(o.case.kinds)}\n{o.report}")


def _assert_graded(o: Outcome) -> None:
    assert o.flagged == o.case.wrong, _explain(o)
    assert o.hint != "wrong", _explain(o)


def _with(case: Case, **options) -> Case:
    return Case(case.net, case.bug, case.wrong, case.kinds,
                tuple({**dict(case.options), **options}.items()))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_verdict_flags_the_mistake_and_the_hint_is_never_wrong(case):
    assert changed(case) == case.wrong  # the case says what its mistake does
    _assert_graded(audit(case))


@given(case=st.sampled_from(MISTAKES), seed=st.integers(0, 2**16), m=st.integers(3, 9))
def test_any_batch_and_start_the_hint_is_right_or_absent(case, seed, m):
    case = _with(case, seed=seed, m=m)
    _assert_graded(audit(Case(case.net, case.bug, changed(case), case.kinds, case.options)))


@given(net=st.sampled_from(NETS), seed=st.integers(0, 2**16), m=st.integers(3, 9),
       scale=st.sampled_from([1e-3, 0.1, 1.0]))
def test_a_right_backprop_passes_without_a_story(net, seed, m, scale):
    o = audit(Case(net, None, frozenset(), options=(("seed", seed), ("m", m), ("scale", scale))))
    assert not o.flagged and o.report.passed, _explain(o)
    assert not [h for h in o.report.hypotheses if h.kind != dg.LOSS_NORMALISATION], _explain(o)


@given(net=st.sampled_from(NETS), seed=st.integers(0, 2**16), m=st.integers(3, 9),
       scale=st.sampled_from([1e-3, 1.0, 10.0, 30.0]),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_a_right_backprop_in_float32_or_on_large_inputs_is_at_most_imprecise(net, seed, m,
                                                                              scale, dtype):
    """float32 sums that cancel, and large inputs that saturate softmax and sigmoid, make a
    right formula lose digits (float32 rounds a sigmoid to 1). The checker may say so (the
    fixed cases pass outright), never name a wrong formula."""
    o = audit(Case(net, None, frozenset(),
                   options=(("seed", seed), ("m", m), ("scale", scale), ("dtype", dtype))))
    assert set(o.told) <= ROUNDING_STORIES | {dg.LOSS_NORMALISATION, dg.KINK}, _explain(o)


def test_the_named_mistakes_are_named():
    """Not only never wrong: on the planted mistakes that have a name, the checker names
    most of them (the audit's measure; the rest abstain)."""
    named = [audit(c) for c in MISTAKES if c.kinds]
    right = [o for o in named if o.hint == "right"]
    assert len(right) >= 0.9 * len(named), [o.case.id for o in named if o.hint != "right"]
