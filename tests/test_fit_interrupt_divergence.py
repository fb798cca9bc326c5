"""fit stops safely: a loss that runs away by orders of magnitude raises TrainingDiverged for
every optimizer (issue 12: Adam at lr=1e6 used to end at 7e12 with a "vanishing gradients"
warning), and Ctrl-C never leaves an optimizer step half-applied and keeps the History.

Ctrl-C is delivered deterministically: ``os.kill(os.getpid(), SIGINT)`` from inside the
optimizer step (after its first parameter group) or from the forward pass of a chosen batch.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import keras, nn, optim
from tinygrad_edu.train import (
    Diagnostics,
    LambdaCallback,
    TrainingDiverged,
    TrainingInterrupted,
    TrainingWarning,
    fit,
)
from tinygrad_edu.train.interrupt import sigint_deferred, uninterrupted
from tinygrad_edu.train.watches import LossTrend


def multiply_data(n=1000, seed=0):
    """The README's data: seed 000's x1 * x2 on [0, 1)^2."""
    x = np.random.default_rng(seed).random((n, 2), dtype=np.float32)
    return x, x[:, :1] * x[:, 1:]


def readme_net(seed=0, act=nn.Tanh):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 16), act(), nn.Linear(16, 1))


# ----------------------------------------------------------------------------- divergence
OPTIMIZERS = {
    "SGD": lambda p, lr: optim.SGD(p, lr=lr),
    "SGD momentum": lambda p, lr: optim.SGD(p, lr=lr, momentum=0.9),
    "Adam": lambda p, lr: optim.Adam(p, lr=lr),
    "AdamW": lambda p, lr: optim.AdamW(p, lr=lr),
    "RMSprop": lambda p, lr: optim.RMSprop(p, lr=lr),
    "Adagrad": lambda p, lr: optim.Adagrad(p, lr=lr),
}


@pytest.mark.parametrize("act", [nn.Tanh, nn.ReLU], ids=["tanh", "relu"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_at_lr_1e6_stops_with_training_diverged(name, act):
    x, y = multiply_data()
    model = readme_net(act=act)
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        with pytest.raises(TrainingDiverged) as info:
            fit(model, nn.MSELoss(), OPTIMIZERS[name](model.parameters(), 1e6), (x, y),
                epochs=5, batch_size=32, verbose=0)
    e = info.value
    assert e.epoch == 0 and e.step < 12             # within a dozen steps of the first
    assert "lr=1e+06 now" in str(e)
    assert e.history is not None and e.history.epoch == []
    said = " ".join(str(w.message) for w in caught if issubclass(w.category, TrainingWarning))
    assert "vanishing" not in said and "no gradient" not in said and "dead ReLU" not in said


def test_adam_runaway_is_caught_while_the_loss_is_still_finite():
    """Adam's steps are about lr in size, so the loss stays finite (1e12-1e14): the old
    NaN/inf check never fired."""
    x, y = multiply_data()
    model = readme_net()
    with pytest.raises(TrainingDiverged) as info:
        fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=1e6), (x, y), epochs=5,
            batch_size=32, verbose=0)
    e = info.value
    assert math.isfinite(e.loss) and e.loss > 1e9
    msg = str(e)
    assert "ran away by orders of magnitude" in msg and "at its best (epoch 1, step 1)" in msg
    assert "fit stopped before this update" in msg and "symptom, not the cause" in msg
    assert all(np.isfinite(p.data).all() for p in model.parameters())


def test_keras_facade_adam_at_lr_1e6_diverges_and_keeps_the_history():
    x, y = multiply_data()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(16, activation="tanh", input_dim=2),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e6), loss="mse")
    with pytest.raises(TrainingDiverged) as info:
        model.fit(x, y, epochs=3, verbose=0)
    assert model.history is info.value.history


def test_a_runaway_in_the_last_epochs_raises_at_the_end():
    """Full-batch SGD at lr=3 (0.18, 33, 7e3): three epochs end before the loss has stayed
    1000x above its best for 3 checks; fit still does not return a diverged net."""
    x, y = multiply_data(256)
    model = readme_net()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)
        with pytest.raises(TrainingDiverged, match="at the end of training") as info:
            fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=3.0), (x, y), epochs=3,
                batch_size=256, verbose=0)
    assert len(info.value.history.history["loss"]) == 3 and info.value.step is None


def test_loss_trend_ignores_what_is_not_a_runaway():
    rng = np.random.default_rng(0)
    # Adam near a minimum: 1e-7 with spikes up to 1e-3 (10 000x) that stay below the start
    trend = LossTrend(1e3, 3, steps=1)
    losses = [0.25, 0.1, 1e-3, 1e-5, 1e-7] + [1e-3, 1e-3, 1e-3, 1e-3, 1e-7] * 20
    assert not any(trend.update(v, 0, i) for i, v in enumerate(losses))
    # one huge batch (an outlier sample) among normal ones: smoothed away
    trend = LossTrend(1e3, 3, steps=100)
    losses = [0.1] * 50 + [1e4] + [0.1] * 50
    assert not any(trend.update(v, 0, i) for i, v in enumerate(losses))
    # batch-1 training: per-sample losses spread over 6 decades (log-normal), 20 000 steps
    trend = LossTrend(1e3, 3, steps=20_000)
    losses = 10.0 ** rng.normal(-3, 1.5, 20_000)
    assert not any(trend.update(float(v), 0, i) for i, v in enumerate(losses))
    # an exact zero (a perfect fit) and then ordinary losses
    trend = LossTrend(1e3, 3, steps=1)
    assert not any(trend.update(v, 0, i) for i, v in enumerate([0.3, 0.0, 0.0, 1e-4, 0.01]))
    # a loss that can be negative (a log-likelihood) has no orders of magnitude: off
    trend = LossTrend(1e3, 3, steps=1)
    assert not any(trend.update(v, 0, i) for i, v in enumerate([1.0, -2.0, 1e9, 1e12, 1e15]))


def test_loss_trend_fires_on_a_runaway_that_persists():
    trend = LossTrend(1e3, 3, steps=32)
    flags = [trend.update(v, 0, i) for i, v in enumerate([0.17] + [1e13] * 10)]
    assert flags.index(True) == 5                  # smoothed: 3 batches above 1000x the best
    assert trend.best == pytest.approx(0.17) and trend.best_at == (0, 0)


def test_diverge_factor_is_tunable():
    x, y = multiply_data(256)
    model = readme_net()
    with pytest.raises(TrainingDiverged, match="above 10x its best"):
        fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=3.0), (x, y), epochs=5,
            batch_size=32, verbose=0,
            diagnostics=Diagnostics(diverge_factor=10.0))


# ----------------------------------------------------------------------------- Ctrl-C
@pytest.fixture
def python_sigint():
    """Python's own SIGINT handler (a test runner's worker may have set another)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def _ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)


class CtrlCMidStep(optim.Adam):
    """Adam whose step ``at`` (1-based) is hit by Ctrl-C after its first parameter group
    (the model's parameters are in four groups: weight and bias of two layers)."""

    def __init__(self, model, at, **kw):
        super().__init__([{"params": [p]} for p in model.parameters()], **kw)
        self.at = at

    def _update_group(self, group):
        super()._update_group(group)
        if self._step_count + 1 == self.at and group is self.param_groups[0]:
            _ctrl_c()


def _train(model, opt, x, y, epochs, **kw):
    return fit(model, nn.MSELoss(), opt, (x, y), epochs=epochs, batch_size=32, shuffle=False,
               verbose=0, **kw)


def test_ctrl_c_inside_an_adam_step_finishes_the_step_whole(python_sigint, capsys):
    x, y = multiply_data(320)                      # 10 steps per epoch
    ref13 = readme_net()
    opt13 = optim.Adam([{"params": [p]} for p in ref13.parameters()], lr=1e-2)
    _train(ref13, opt13, x, y, epochs=1)
    _train(ref13, opt13, x[:96], y[:96], epochs=1)        # 10 + 3 = 13 steps

    model = readme_net()
    opt = CtrlCMidStep(model, at=13, lr=1e-2)
    with pytest.raises(KeyboardInterrupt) as info:
        _train(model, opt, x, y, epochs=3)
    e = info.value
    assert isinstance(e, TrainingInterrupted)
    assert e.steps_done == 13 and (e.epoch, e.step) == (1, 2)
    # never half: every parameter group took step 13, exactly as an uninterrupted run
    assert {st["step"] for st in opt.state.values()} == {13}
    for p, q in zip(model.parameters(), ref13.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert e.history.epoch == [0] and len(e.history.history["loss"]) == 1
    assert "epoch 2 of 3, step 3 of 10" in str(e) and "applied whole" in str(e)
    assert "13 optimizer steps applied" in str(e)
    assert capsys.readouterr().err == ""           # verbose=0: the exception says it
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_before_the_step_skips_it_whole(python_sigint):
    x, y = multiply_data(320)
    model = readme_net()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    calls = []

    def hit_batch_5(module, inputs):
        calls.append(1)
        if len(calls) == 5:
            _ctrl_c()

    model.register_forward_pre_hook(hit_batch_5)
    with pytest.raises(TrainingInterrupted) as info:
        _train(model, opt, x, y, epochs=2, diagnostics=False)
    assert info.value.steps_done == 4
    assert {st["step"] for st in opt.state.values()} == {4}
    assert "(the step of that batch was not applied)" in str(info.value)


def test_ctrl_c_says_so_in_one_line_and_the_history_stays_consistent(python_sigint, capsys):
    x, y = multiply_data(320)
    model = readme_net()
    seen: list[int] = []
    stop_in_epoch_3 = LambdaCallback(
        on_batch_end=lambda batch, logs: _ctrl_c() if len(seen) == 2 and batch == 4 else None,
        on_epoch_end=lambda epoch, logs: seen.append(epoch))
    with pytest.raises(TrainingInterrupted) as info:
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=5,
            batch_size=32, validation_split=0.2, metrics=["rmse"], verbose=2,
            callbacks=[stop_in_epoch_3])
    h = info.value.history
    assert h.epoch == [0, 1]
    assert {k: len(v) for k, v in h.history.items()} == dict.fromkeys(
        ["loss", "rmse", "val_loss", "val_rmse"], 2)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fit interrupted (Ctrl-C) in epoch 3 of 5")
    assert err[0] == str(info.value)


def test_keras_model_history_is_set_when_fit_is_interrupted(python_sigint):
    x, y = multiply_data(320)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(8, activation="tanh", input_dim=2),
                              keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    ctrl_c = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: _ctrl_c() if epoch == 2 else None)
    with pytest.raises(KeyboardInterrupt) as info:
        model.fit(x, y, epochs=5, verbose=0, callbacks=[ctrl_c])
    assert model.history is info.value.history
    assert model.history.epoch == [0, 1] and len(model.history.history["loss"]) == 2


def test_without_ctrl_c_fit_restores_the_handler_and_runs_in_threads(python_sigint):
    x, y = multiply_data(64)
    model = readme_net()
    fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), verbose=0,
        diagnostics=False)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    errors = []

    def run():
        net = readme_net()
        try:
            fit(net, nn.MSELoss(), optim.SGD(net.parameters(), lr=0.1), (x, y), verbose=0)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    assert errors == []


def test_uninterrupted_blocks_nest_and_deliver_once(python_sigint):
    order = []
    with sigint_deferred(), pytest.raises(KeyboardInterrupt):
        with uninterrupted():
            with uninterrupted():
                _ctrl_c()
                order.append("inner")
            order.append("outer")
        order.append("never")
    assert order == ["inner", "outer"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
