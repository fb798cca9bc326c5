"""Learning-rate schedulers against PyTorch's: the same rates every epoch (hypothesis over the
arguments, two parameter groups), jumps with step(epoch), state_dict round trips, and the
warning for calling the scheduler before the optimizer."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import optim
from tinygrad_edu.optim import lr_scheduler as ours_sched

theirs_sched = torch.optim.lr_scheduler
EPOCHS = 14


def _lambda(epoch):
    return 0.9**epoch + 0.1 * (epoch % 3)


def _other_lambda(epoch):
    return 1.0 / (epoch + 1)


SCHEDULERS = {
    "StepLR": st.fixed_dictionaries({"step_size": st.integers(1, 4),
                                     "gamma": st.sampled_from([0.1, 0.5, 0.9])}),
    "MultiStepLR": st.fixed_dictionaries({
        "milestones": st.lists(st.integers(1, EPOCHS), max_size=4),
        "gamma": st.sampled_from([0.1, 0.5])}),
    "ExponentialLR": st.fixed_dictionaries({"gamma": st.sampled_from([0.5, 0.9, 0.99])}),
    "CosineAnnealingLR": st.fixed_dictionaries({
        "T_max": st.integers(1, 6), "eta_min": st.sampled_from([0.0, 1e-3, 0.05])}),
    "LambdaLR": st.fixed_dictionaries({
        "lr_lambda": st.sampled_from([_lambda, [_lambda, _other_lambda]])}),
}


def _pair(lrs=(0.1, 0.03)):
    ours_params = [tg.zeros(1, requires_grad=True) for _ in lrs]
    their_params = [torch.zeros(1, requires_grad=True) for _ in lrs]
    ours = optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(ours_params, lrs)], lr=1.0)
    theirs = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(their_params, lrs)],
                             lr=1.0)
    return ours, theirs


def _same(a: list, b: list, what: str) -> None:
    assert len(a) == len(b), what
    for x, y in zip(a, b):
        assert x == pytest.approx(y, rel=1e-13, abs=1e-15), f"{what}: {a} vs {b}"


@pytest.mark.parametrize("name", list(SCHEDULERS))
@given(data=st.data())
def test_schedules_match_pytorch(name, data) -> None:
    kwargs = data.draw(SCHEDULERS[name])
    ours_opt, their_opt = _pair()
    ours = getattr(ours_sched, name)(ours_opt, **kwargs)
    theirs = getattr(theirs_sched, name)(their_opt, **kwargs)
    _same(ours.get_last_lr(), theirs.get_last_lr(), "initial")
    for epoch in range(EPOCHS):
        ours_opt.step()
        their_opt.step()
        ours.step()
        theirs.step()
        _same(ours.get_last_lr(), theirs.get_last_lr(), f"{name} {kwargs} epoch {epoch}")
        _same([g["lr"] for g in ours_opt.param_groups],
              [g["lr"] for g in their_opt.param_groups], "the groups' lr")
    assert ours.last_epoch == theirs.last_epoch == EPOCHS


@pytest.mark.parametrize("name", [n for n in SCHEDULERS if n != "LambdaLR"])
@given(data=st.data(), epoch=st.integers(0, 20))
def test_step_with_an_epoch_uses_the_closed_form_like_pytorch(name, data, epoch) -> None:
    kwargs = data.draw(SCHEDULERS[name])
    ours_opt, their_opt = _pair()
    ours = getattr(ours_sched, name)(ours_opt, **kwargs)
    theirs = getattr(theirs_sched, name)(their_opt, **kwargs)
    ours_opt.step()
    their_opt.step()
    ours.step(epoch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's deprecation of the epoch argument
        theirs.step(epoch)
    _same(ours.get_last_lr(), theirs.get_last_lr(), f"{name} {kwargs} jump to {epoch}")


@given(mode=st.sampled_from(["min", "max"]), factor=st.sampled_from([0.1, 0.5]),
       patience=st.integers(0, 3), threshold=st.sampled_from([1e-4, 0.1]),
       threshold_mode=st.sampled_from(["rel", "abs"]), cooldown=st.integers(0, 2),
       min_lr=st.sampled_from([0.0, 0.01, [0.02, 0.0]]),
       metrics=st.lists(st.sampled_from([1.0, 0.99, 0.95, 0.5, 1.5, 0.9999]), min_size=1,
                        max_size=EPOCHS))
def test_reduce_lr_on_plateau_matches_pytorch(mode, factor, patience, threshold,
                                              threshold_mode, cooldown, min_lr,
                                              metrics) -> None:
    kwargs = dict(mode=mode, factor=factor, patience=patience, threshold=threshold,
                  threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_lr)
    ours_opt, their_opt = _pair()
    ours = ours_sched.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = theirs_sched.ReduceLROnPlateau(their_opt, **kwargs)
    for i, m in enumerate(metrics):
        ours.step(tg.tensor(m, dtype="float64") if i % 2 else m)  # a number or a 0-d tensor
        theirs.step(m)
        _same(ours.get_last_lr(), theirs.get_last_lr(), f"metric {i}")
        assert ours.num_bad_epochs == theirs.num_bad_epochs
        assert ours.cooldown_counter == theirs.cooldown_counter
        assert ours.best == theirs.best


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_state_dict_round_trip_continues_the_schedule(name) -> None:
    kwargs = {"StepLR": {"step_size": 2}, "MultiStepLR": {"milestones": [2, 5]},
              "ExponentialLR": {"gamma": 0.8}, "CosineAnnealingLR": {"T_max": 4},
              "LambdaLR": {"lr_lambda": _lambda}}[name]
    opt, _ = _pair()
    sched = getattr(ours_sched, name)(opt, **kwargs)
    for _ in range(3):
        opt.step()
        sched.step()
    saved_sched, saved_opt = copy.deepcopy(sched.state_dict()), copy.deepcopy(opt.state_dict())
    assert "optimizer" not in saved_sched and saved_sched["last_epoch"] == 3
    expected = []
    for _ in range(4):
        opt.step()
        sched.step()
        expected.append(sched.get_last_lr())
    opt2, _ = _pair()
    sched2 = getattr(ours_sched, name)(opt2, **kwargs)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    got = []
    for _ in range(4):
        opt2.step()
        sched2.step()
        got.append(sched2.get_last_lr())
    assert got == expected


def test_reduce_lr_on_plateau_state_dict_and_errors() -> None:
    opt, _ = _pair()
    sched = ours_sched.ReduceLROnPlateau(opt, patience=0)
    sched.step(1.0)
    sched.step(2.0)
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["best"] == 1.0
    other = ours_sched.ReduceLROnPlateau(_pair()[0], patience=0)
    other.load_state_dict(sd)
    assert other.best == 1.0 and other.last_epoch == 2
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        ours_sched.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="expected 2 min_lrs"):
        ours_sched.ReduceLROnPlateau(opt, min_lr=[0.1])
    with pytest.raises(ValueError, match="mode"):
        ours_sched.ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(TypeError, match="not an Optimizer"):
        ours_sched.StepLR(object(), 2)
    with pytest.raises(KeyError, match="initial_lr"):
        ours_sched.StepLR(_pair()[0], 2, last_epoch=3)


def test_warns_when_the_scheduler_steps_before_the_optimizer() -> None:
    opt, _ = _pair()
    sched = ours_sched.StepLR(opt, 1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt2, _ = _pair()
    sched2 = ours_sched.StepLR(opt2, 1)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()
