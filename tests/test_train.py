"""fit(), History, callbacks, metrics, progress output and the training diagnostics.

The diagnostics are triggered by reproducing the seed threads' bugs: seed 001's unscaled
integer products (scale warning, a loss stuck near 7e9, NaN under SGD), seed 000's sign
error (gradient ascent: the loss rises), Keras's ReLU output layer (dead units).
"""

from __future__ import annotations

import doctest
import io
import math
import re
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.metrics as public_metrics
from tinygrad_edu import nn, optim
from tinygrad_edu.data import DataLoader, LogScaler, StandardScaler, TensorDataset
from tinygrad_edu.serialization import load
from tinygrad_edu.train import (
    Callback,
    Diagnostics,
    EarlyStopping,
    History,
    LambdaCallback,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
    TrainingDiverged,
    TrainingWarning,
    callbacks,
    diagnostics,
    errors,
    evaluate,
    fit,
    history,
    inputs,
    loop,
    metrics,
    predict,
    progress,
    weights,
)

MODULES = [callbacks, diagnostics, errors, history, inputs, loop, metrics, progress, weights,
           public_metrics, __import__("tinygrad_edu.train").train]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_doctests(module):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# ----------------------------------------------------------------------------- fixtures
def xor_data():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    return x, np.array([[0], [1], [1], [0]], np.float32)


def multiply_data(n, seed):
    """Seed 000's answer: x ~ U[0, 1)^2, y = x1 * x2."""
    x = np.random.default_rng(seed).uniform(size=(n, 2)).astype(np.float32)
    return x, x[:, :1] * x[:, 1:]


def seed001_data(n=2000):
    """Seed 001: integers in [0, 500), the target is their product (up to ~250 000)."""
    x = np.random.default_rng(1).integers(0, 500, size=(n, 2))
    return x, x[:, :1] * x[:, 1:]


def seed001_net():
    """Seed 001's Keras net 2-3-5-3-5-1: first Dense linear, the rest ReLU (output too)."""
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 3), nn.ReLU(),
                         nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 1), nn.ReLU())


def mlp(hidden=16, seed=0):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, 1))


class AscentSGD:
    """Seed 000's sign bug as an optimizer: err = target - out, then w -= lr * err * ...
    is w += lr * grad: gradient *ascent* on the squared error."""

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr
        self.param_groups = [{"lr": lr, "params": self.params}]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        for p in self.params:
            p.data += self.lr * p.grad.data


def training_warnings(record):
    return [w for w in record if issubclass(w.category, TrainingWarning)]


@pytest.fixture
def no_training_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingWarning)
        yield


# ----------------------------------------------------------------------------- learning
def test_fit_learns_xor(no_training_warnings):
    x, y = xor_data()
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    h = fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.05), (x, y), epochs=300,
            batch_size=4, metrics=["binary_accuracy"], verbose=0)
    assert h.history["loss"][-1] < 1e-2            # stated: MSE below 0.01
    assert h.history["binary_accuracy"][-1] == 1.0
    assert predict(model, x).numpy().round().tolist() == y.tolist()


def test_fit_learns_seed000_multiplication(no_training_warnings):
    """The answer's setting (1000 samples, 10 epochs, batch 10, adam, MSE), honest metrics:
    the true RMSE on 5000 test samples is below 0.03 (the thread printed sqrt(sum) = 5.10)."""
    x, y = multiply_data(1000, seed=0)
    model = mlp()
    h = fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.01), (x, y), epochs=10,
            batch_size=10, metrics=["rmse", "mae"], verbose=0,
            generator=tg.Generator().manual_seed(0))
    assert h.history["loss"][-1] < 1e-3
    xt, yt = multiply_data(5000, seed=1)
    result = evaluate(model, nn.MSELoss(), (xt, yt), metrics=["rmse", "r2"])
    assert result["rmse"] < 0.03 and result["r2"] > 0.98
    assert math.isclose(result["rmse"], math.sqrt(result["loss"]), rel_tol=1e-6)
    sqrt_of_sum = float(np.sqrt(((predict(model, xt).numpy() - yt) ** 2).sum()))
    assert sqrt_of_sum > 50 * result["rmse"]          # the seed's "rmse" is not one


def test_seed001_in_log_space_learns_the_product(no_training_warnings):
    """Seed 001's fix: log-scale inputs and target (a product becomes a sum), standardise."""
    x, y = seed001_data()
    x, y = x + 1, (x[:, :1] + 1) * (x[:, 1:] + 1)
    lx, ly, sx, sy = LogScaler(), LogScaler(), StandardScaler(), StandardScaler()
    xs, ys = sx.fit_transform(lx.fit_transform(x)), sy.fit_transform(ly.fit_transform(y))
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    h = fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.01), (xs, ys), epochs=6,
            batch_size=32, validation_split=0.2, metrics=["r2"], verbose=0)
    assert h.history["val_r2"][-1] > 0.99
    xt = np.random.default_rng(5).integers(1, 501, size=(500, 2))
    pred = ly.inverse_transform(sy.inverse_transform(
        predict(model, sx.transform(lx.transform(xt))).numpy().astype(np.float64)))
    rel = np.abs(pred - xt[:, :1] * xt[:, 1:]) / (xt[:, :1] * xt[:, 1:])
    assert np.median(rel) < 0.05


# ----------------------------------------------------------------------------- diagnostics
def test_seed001_unscaled_warns_about_scale_and_stays_huge():
    x, y = seed001_data()
    model = seed001_net()
    with pytest.warns(TrainingWarning) as record:
        h = fit(model, nn.MSELoss(), optim.Adam(model.parameters()), (x, y), epochs=2,
                batch_size=10, verbose=0)
    scale = [str(w.message) for w in training_warnings(record) if "unit scale" in str(w.message)]
    assert len(scale) == 1
    msg = scale[0]
    assert "|x| = 499" in msg and "|y| = 2.386e+05" in msg       # the actual magnitudes
    for hint in ("StandardScaler", "MinMaxScaler", "LogScaler"):
        assert hint in msg
    assert h.history["loss"][-1] > 1e9                           # seed 001's "loss ≈ 7e9"


def test_nan_loss_stops_with_training_diverged():
    """Seed 001's data under plain SGD: the loss overflows within a few steps."""
    x, y = seed001_data()
    model = seed001_net()
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", TrainingWarning)
        with pytest.raises(TrainingDiverged) as info:
            fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.01), (x, y), epochs=3,
                batch_size=10, verbose=0)
    e = info.value
    assert isinstance(e, FloatingPointError)
    assert e.epoch == 0 and e.step is not None and not math.isfinite(e.loss)
    msg = str(e)
    assert f"epoch 1 of 3, step {e.step + 1} of 200" in msg
    for hint in ("lr=0.01", "StandardScaler", "detect_anomaly"):
        assert hint in msg
    # fit stopped before applying the update of the bad step
    assert all(np.isfinite(p.data).all() for p in model.parameters())


def test_anomaly_mode_error_goes_through():
    x, y = seed001_data()
    model = seed001_net()
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", TrainingWarning)
        with pytest.raises(FloatingPointError) as info, tg.detect_anomaly():
            fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.01), (x, y), epochs=3,
                batch_size=10, verbose=0)
    assert not isinstance(info.value, TrainingDiverged)
    assert "produced inf/nan" in str(info.value)


def test_nan_in_the_data_is_named():
    x, y = multiply_data(64, 0)
    x[0, 0] = np.nan
    model = mlp()
    with pytest.raises(TrainingDiverged, match="inputs contain NaN/inf"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), batch_size=8,
            shuffle=False, verbose=0)


def test_sign_flipped_update_warns_rising_loss_once():
    x, y = multiply_data(256, 0)
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid())
    with pytest.warns(TrainingWarning) as record:
        h = fit(model, nn.MSELoss(), AscentSGD(model.parameters(), lr=0.5), (x, y), epochs=8,
                batch_size=32, verbose=0)
    rising = [str(w.message) for w in training_warnings(record) if "rose" in str(w.message)]
    assert len(rising) == 1                                      # once, not every epoch
    assert "from the first epoch" in rising[0] and "sign error" in rising[0]
    assert "learning rate" in rising[0]
    assert h.history["loss"][-1] > 2 * h.history["loss"][0]


def test_too_high_learning_rate_warns_rising_loss_then_diverges():
    """Full-batch SGD at lr=3: 0.18, 33, 7e3, 2e7, 3e10, ... The rise warns after three
    epochs; once the loss has stayed 1000x above its best for 3 checks, fit stops."""
    x, y = multiply_data(256, 0)
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    with pytest.warns(TrainingWarning) as record, pytest.raises(TrainingDiverged) as info:
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=3.0), (x, y), epochs=8,
            batch_size=256, verbose=0)
    rising = [str(w.message) for w in training_warnings(record) if "rose" in str(w.message)]
    assert len(rising) == 1 and "rose 3 epochs in a row" in rising[0]
    assert "(lr=3 now)" in rising[0]
    e = info.value
    assert (e.epoch, e.step) == (4, 0) and e.loss > 1e10
    assert len(e.history.history["loss"]) == 4            # the epochs before it
    assert "ran away by orders of magnitude" in str(e) and "lr=3 now" in str(e)


def test_vanishing_gradients_name_the_parameter():
    """Ten sigmoid layers: the first layer's gradient is ~1e-11 of the last one's."""
    x, y = multiply_data(64, 0)
    tg.manual_seed(0)
    layers = [nn.Linear(2, 16), nn.Sigmoid()]
    for _ in range(10):
        layers += [nn.Linear(16, 16), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(16, 1))
    with pytest.warns(TrainingWarning, match=r"(?s)vanishing gradients.*'0\.weight'.*ReLU") as rec:
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=2,
            batch_size=32, verbose=0)
    assert sum("vanishing" in str(w.message) for w in training_warnings(rec)) == 1


def test_dead_relu_output_layer_is_named():
    """Keras's answer ends with Dense(1, relu): a negative output bias kills it for good."""
    x, y = multiply_data(64, 0)
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1), nn.ReLU())
    with tg.no_grad():
        model[2].bias.fill_(-10.0)
    with pytest.warns(TrainingWarning) as record:
        fit(model, nn.MSELoss(), optim.Adam(model.parameters()), (x, y), epochs=2, verbose=0)
    messages = [str(w.message) for w in training_warnings(record)]
    dead = [m for m in messages if "dead ReLUs" in m]
    assert len(dead) == 1 and "'3' (1 of 1 units)" in dead[0] and "LeakyReLU" in dead[0]
    no_grad = [m for m in messages if "no gradient reaches the weights" in m]
    assert len(no_grad) == 1 and "in epoch 1" in no_grad[0]
    assert "Every prediction in the sampled batches was exactly 0.0" in no_grad[0]


def test_dead_hidden_relus_and_their_zero_gradients():
    x, y = multiply_data(64, 0)
    model = mlp(hidden=8)
    with tg.no_grad():
        model[0].bias.fill_(-100.0)                  # every unit of layer '1' is dead
    with pytest.warns(TrainingWarning) as record:
        fit(model, nn.MSELoss(), optim.Adam(model.parameters()), (x, y), epochs=1, verbose=0)
    messages = " ".join(str(w.message) for w in training_warnings(record))
    assert "'1' (8 of 8 units)" in messages
    assert "'0.weight' (0.0e+00)" in messages and "exactly 0" in messages


def test_diagnostics_false_is_silent_and_does_not_raise():
    x, y = seed001_data(200)
    model = seed001_net()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("error", TrainingWarning)
        h = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.01), (x, y), epochs=2,
                batch_size=10, verbose=0, diagnostics=False, metrics=["accuracy"])
    assert not math.isfinite(h.history["loss"][-1])


def test_terminate_on_nan_without_diagnostics(capsys):
    x, y = seed001_data(200)
    model = seed001_net()
    with np.errstate(all="ignore"):
        h = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.01), (x, y), epochs=5,
                batch_size=10, verbose=0, diagnostics=False, callbacks=[TerminateOnNaN()])
    assert len(h.epoch) == 1 and "terminating training" in capsys.readouterr().out


def test_broadcasting_shapes_warn():
    d = Diagnostics()
    with pytest.warns(TrainingWarning, match=r"broadcast to \(4, 4\)"):
        d.check_shapes(tg.zeros(4, 1), tg.zeros(1, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingWarning)
        d.check_shapes(tg.zeros(4, 3), tg.zeros(4).long())  # class labels: fine


def test_tiny_inputs_warn():
    with pytest.warns(TrainingWarning, match=r"far below unit scale: inputs reach \|x\| = 1e-05"):
        Diagnostics().check_scale(np.full((3, 2), 1e-5), None, "")


# ----------------------------------------------------------------------------- metrics
def test_accuracy_on_regression_warns_and_is_meaningless():
    x, y = multiply_data(200, 0)
    model = mlp()
    with pytest.warns(TrainingWarning, match="'accuracy' on a regression target is meaningless"):
        h = fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.01), (x, y), epochs=2,
                metrics=["accuracy"], verbose=0)
    assert h.history["accuracy"] == [0.0, 0.0]
    with pytest.warns(TrainingWarning, match="rmse"):
        public_metrics.accuracy(np.array([0.2, 0.3]), np.array([0.25, 0.31]))


def test_accuracy_on_classes_does_not_warn(no_training_warnings):
    pred = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert public_metrics.accuracy(pred, np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert public_metrics.categorical_accuracy(pred, np.eye(2)[[1, 1, 1]]) == pytest.approx(2 / 3)
    assert public_metrics.binary_accuracy(np.array([0.2, 0.7]), np.array([0.0, 1.0])) == 1.0
    assert public_metrics.binary_accuracy(np.array([-1.0, 2.0]), np.array([1, 1]),
                                          threshold=0.0) == 0.5


def test_rmse_is_true_rmse_and_streams():
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=(5000, 1)), rng.normal(size=5000)
    want = float(np.sqrt(np.mean((pred[:, 0] - target) ** 2)))
    assert public_metrics.rmse(pred, target) == pytest.approx(want)
    m = public_metrics.get("rmse")
    for s in range(0, 5000, 37):
        m.update(pred[s:s + 37], target[s:s + 37])
    assert m.result() == pytest.approx(want)


def test_r2_streams_exactly():
    rng = np.random.default_rng(0)
    target = rng.normal(loc=1e5, scale=3.0, size=(300, 2))   # a large offset
    pred = target + rng.normal(size=(300, 2))
    sse = ((pred - target) ** 2).sum(axis=0)
    sst = ((target - target.mean(axis=0)) ** 2).sum(axis=0)
    want = float(np.mean(1 - sse / sst))
    m = public_metrics.R2Score()
    for s in range(0, 300, 7):
        m.update(pred[s:s + 7], target[s:s + 7])
    assert m.result() == pytest.approx(want, rel=1e-9)
    assert public_metrics.r2([1.0, 1.0], [1.0, 1.0]) == 1.0


def test_metric_errors_and_custom_functions():
    with pytest.raises(ValueError, match="do not match"):
        public_metrics.mse(np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        public_metrics.get("f1")
    x, y = multiply_data(64, 0)

    def max_error(pred, target):
        return float(np.abs(pred.numpy() - target.numpy()).max())

    h = fit(mlp(), nn.MSELoss(), optim.SGD(mlp().parameters(), lr=0.0), (x, y), epochs=1,
            metrics=["mean_absolute_error", max_error], verbose=0)
    assert set(h.history) == {"loss", "mean_absolute_error", "max_error"}
    with pytest.raises(ValueError, match="repeated"):
        fit(mlp(), nn.MSELoss(), optim.SGD(mlp().parameters(), lr=0.0), (x, y),
            metrics=["mae", "mae"], verbose=0)


# ----------------------------------------------------------------------------- fit API
def frozen_linear(weight=0.0):
    """A Linear(1, 1) predicting ``weight * x``, trained with lr=0 so it never changes."""
    model = nn.Linear(1, 1)
    with tg.no_grad():
        model.weight.fill_(weight)
        model.bias.fill_(0.0)
    return model, optim.SGD(model.parameters(), lr=0.0)


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x = np.arange(10, dtype=np.float32).reshape(-1, 1)
    model, opt = frozen_linear()
    h = fit(model, nn.MSELoss(), opt, (x, x), epochs=2, batch_size=3, validation_split=0.2,
            verbose=0, generator=tg.Generator().manual_seed(0))
    assert h.history["val_loss"] == [72.5, 72.5]                 # (8² + 9²) / 2
    assert h.history["loss"][0] == pytest.approx(np.mean(np.arange(8.0) ** 2))
    h = fit(model, nn.MSELoss(), opt, (x, x), epochs=1, validation_split=0.2, verbose=0,
            shuffle_before_split=True, generator=tg.Generator().manual_seed(0))
    assert h.history["val_loss"] != [72.5]
    assert "LAST fraction" in fit.__doc__.replace("**last**", "LAST")
    with pytest.raises(ValueError, match="cannot be split"):
        fit(model, nn.MSELoss(), opt, (x[:1], x[:1]), validation_split=0.5, verbose=0)


def test_history_keys_and_validation_data():
    x, y = multiply_data(100, 0)
    xv, yv = multiply_data(50, 1)
    model = mlp()
    h = fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.01), (x, y), epochs=3,
            validation_data=(xv, yv), metrics=["mae", "rmse"], verbose=0)
    assert isinstance(h, History) and h.epoch == [0, 1, 2]
    assert list(h.history) == ["loss", "mae", "rmse", "val_loss", "val_mae", "val_rmse"]
    assert all(len(v) == 3 for v in h.history.values())
    final = evaluate(model, nn.MSELoss(), (xv, yv), metrics=["mae"])
    assert final["loss"] == pytest.approx(h.history["val_loss"][-1], rel=1e-6)
    assert h["val_mae"] == h.history["val_mae"]


def test_data_forms_and_reproducibility():
    x, y = multiply_data(96, 0)

    def run(data, **kw):
        model = mlp()
        h = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), data, epochs=2,
                verbose=0, **kw)
        return h.history["loss"]

    g = tg.Generator
    a = run((x, y), batch_size=16, generator=g().manual_seed(3))
    assert run((x, y), batch_size=16, generator=g().manual_seed(3)) == a    # seeded
    assert run((x, y), batch_size=16, generator=g().manual_seed(4)) != a
    assert run(TensorDataset(x, y), batch_size=16, generator=g().manual_seed(3)) == a
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True,
                        generator=g().manual_seed(3))
    assert run(loader) == a
    assert run((tg.tensor(x), tg.tensor(y)), batch_size=16, generator=g().manual_seed(3)) == a
    with pytest.raises(ValueError, match="leave batch_size out"):
        run(loader, batch_size=8)
    with pytest.raises(TypeError, match=r"\(x, y\)"):
        run(x)


def test_integer_inputs_and_flat_targets_are_matched_to_the_model():
    """Seed 001 style: int64 inputs, a 1-D integer target against (n, 1) predictions."""
    x = np.arange(20).reshape(10, 2)
    y = x.sum(axis=1)                                           # shape (10,), int64
    model = nn.Linear(2, 1)
    h = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=1e-3), (x, y), epochs=2,
            verbose=0, diagnostics=False)
    assert all(math.isfinite(v) for v in h.history["loss"])
    assert inputs.align_target(tg.zeros(3, 1), np.arange(3)).shape == (3, 1)
    assert inputs.align_target(tg.zeros(3, 4), np.arange(3)).dtype == np.int64   # labels
    x1 = np.linspace(0, 1, 8)                                   # 1-D x: one feature
    model = nn.Linear(1, 1)
    fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x1, 2 * x1), verbose=0)


def test_classification_with_integer_labels(no_training_warnings):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 2)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)      # 3 classes
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    h = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05),
            (x, labels), epochs=30, metrics=["accuracy"], verbose=0)
    assert h.history["accuracy"][-1] > 0.9


def test_model_mode_during_and_after_fit():
    x, y = multiply_data(32, 0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    model.eval()
    seen = []
    cb = LambdaCallback(on_batch_end=lambda b, logs: seen.append(model.training))
    fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.01), (x, y), epochs=1,
        batch_size=8, validation_data=(x, y), callbacks=[cb], verbose=0)
    assert seen == [True] * 4 and model.training is False


def test_loss_must_be_a_scalar():
    x, y = multiply_data(8, 0)
    model = mlp()
    with pytest.raises(ValueError, match="reduction='mean'"):
        fit(model, nn.MSELoss(reduction="none"), optim.SGD(model.parameters(), lr=0.1), (x, y),
            verbose=0)


# ----------------------------------------------------------------------------- callbacks
class Scripted(Callback):
    """Writes a scripted value into the logs, so a monitor sees a known curve; records the
    weights at the end of every epoch."""

    def __init__(self, values):
        super().__init__()
        self.values = values
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        logs["val_score"] = self.values[epoch]
        self.weights.append(self.model.weight.numpy().copy())


def _linear_run(values, es, epochs):
    x, y = multiply_data(64, 0)
    tg.manual_seed(0)
    model = nn.Linear(2, 1)
    script = Scripted(values)
    h = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.5), (x, y), epochs=epochs,
            batch_size=16, callbacks=[script, es], verbose=0)
    return model, script, h


def test_early_stopping_restores_best_weights_at_the_last_epoch():
    """Keras's bug: with no early stop, training ended with the last epoch's weights."""
    es = EarlyStopping(monitor="val_score", patience=10, restore_best_weights=True)
    model, script, h = _linear_run([3.0, 1.0, 2.0, 2.5, 2.8], es, epochs=5)
    assert len(h.epoch) == 5 and es.stopped_epoch == 0          # ran to the end
    assert es.best_epoch == 1 and es.best == 1.0
    np.testing.assert_array_equal(model.weight.numpy(), script.weights[1])
    assert not np.array_equal(script.weights[1], script.weights[4])


def test_early_stopping_stops_and_restores():
    es = EarlyStopping(monitor="val_score", patience=2, restore_best_weights=True, verbose=1)
    model, script, h = _linear_run([3.0, 1.0, 2.0, 2.5, 0.5, 0.1], es, epochs=6)
    assert h.epoch == [0, 1, 2, 3] and es.stopped_epoch == 3
    np.testing.assert_array_equal(model.weight.numpy(), script.weights[1])


def test_early_stopping_options():
    # min_delta: 0.95 is not an improvement over 1.0 by more than 0.1
    es = EarlyStopping(monitor="val_score", patience=1, min_delta=0.1)
    _, _, h = _linear_run([1.0, 0.95, 0.92, 0.5], es, epochs=4)
    assert h.epoch == [0, 1]
    # mode auto is max for accuracy-like names
    assert EarlyStopping(monitor="val_accuracy").mode == "max"
    assert EarlyStopping(monitor="val_r2").mode == "max"
    assert EarlyStopping(monitor="val_loss").mode == "min"
    # baseline: improvements that do not beat it do not reset the patience
    es = EarlyStopping(monitor="val_score", patience=2, baseline=0.5)
    _, _, h = _linear_run([1.0, 0.9, 0.8, 0.7, 0.6], es, epochs=5)
    assert h.epoch == [0, 1] and es.best == 0.9
    es = EarlyStopping(monitor="val_score", patience=2, baseline=0.5)
    _, _, h = _linear_run([1.0, 0.4, 0.45, 0.3, 0.6, 0.7], es, epochs=6)
    assert h.epoch == [0, 1, 2, 3, 4, 5] and es.best == 0.3
    # start_from_epoch: warm-up epochs are not monitored
    es = EarlyStopping(monitor="val_score", patience=0, start_from_epoch=3)
    _, _, h = _linear_run([1.0, 2.0, 3.0, 4.0, 5.0], es, epochs=5)
    assert h.epoch == [0, 1, 2, 3, 4]
    with pytest.warns(TrainingWarning, match="'val_loss', which is not in the logs"):
        _linear_run([1.0, 1.0], EarlyStopping(), epochs=2)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")


def test_model_checkpoint(tmp_path):
    pattern = str(tmp_path / "ckpt" / "e{epoch:02d}-{val_score:.1f}.safetensors")
    ckpt = ModelCheckpoint(pattern, monitor="val_score", save_best_only=True)
    _, script, _ = _linear_run([3.0, 1.0, 2.0, 0.5], ckpt, epochs=4)
    files = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert files == ["e01-3.0.safetensors", "e02-1.0.safetensors", "e04-0.5.safetensors"]
    saved = load(tmp_path / "ckpt" / "e02-1.0.safetensors")
    np.testing.assert_array_equal(saved["weight"].numpy(), script.weights[1])
    every = ModelCheckpoint(tmp_path / "last.npz")
    _linear_run([1.0, 2.0], every, epochs=2)
    assert (tmp_path / "last.npz").exists()
    with pytest.raises(ValueError, match="unsupported extension"):
        ModelCheckpoint(tmp_path / "model.h5")


def test_lambda_callback_order_and_logs():
    events = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda e, logs: events.append(f"epoch_begin {e}"),
        on_batch_end=lambda b, logs: events.append(f"batch {b} {logs['size']}"),
        on_epoch_end=lambda e, logs: events.append(f"epoch_end {e} {sorted(logs)}"),
        on_train_end=lambda logs: events.append("train_end"),
    )
    x, y = multiply_data(10, 0)
    fit(mlp(), nn.MSELoss(), optim.SGD(mlp().parameters(), lr=0.0), (x, y), epochs=2,
        batch_size=6, callbacks=[cb], metrics=["mae"], verbose=0)
    assert events == ["train_begin", "epoch_begin 0", "batch 0 6", "batch 1 4",
                      "epoch_end 0 ['loss', 'mae']", "epoch_begin 1", "batch 0 6",
                      "batch 1 4", "epoch_end 1 ['loss', 'mae']", "train_end"]
    with pytest.raises(TypeError, match="LambdaCallback"):
        fit(mlp(), nn.MSELoss(), optim.SGD(mlp().parameters(), lr=0.0), (x, y),
            callbacks=[lambda: None], verbose=0)


def test_keras_style_stop_training_flag():
    class StopAtOnce(Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    x, y = multiply_data(10, 0)
    model = mlp()
    h = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.0), (x, y), epochs=5,
            callbacks=[StopAtOnce()], verbose=0)
    assert h.epoch == [0]
    h = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.0), (x, y), epochs=2,
            verbose=0)                                  # the flag is reset for a new run
    assert h.epoch == [0, 1]


def test_reduce_lr_on_plateau():
    x = np.ones((4, 1), np.float32)
    model, _ = frozen_linear()
    opt = optim.SGD(model.parameters(), lr=1e-9)                   # the loss stays put
    cb = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, verbose=0)
    h = fit(model, nn.MSELoss(), opt, (x, x), epochs=6, callbacks=[cb], verbose=0,
            diagnostics=False)
    assert h.history["learning_rate"] == pytest.approx([1e-9, 1e-9, 1e-9, 5e-10, 5e-10, 2.5e-10])


# ----------------------------------------------------------------------------- output
def _fit_quietly(verbose, epochs=2):
    x, y = multiply_data(40, 0)
    model = mlp()
    return fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y),
               epochs=epochs, batch_size=10, validation_split=0.25, metrics=["mae"],
               verbose=verbose)


def test_verbose_0_prints_nothing(capsys):
    _fit_quietly(0)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_verbose_2_prints_one_line_per_epoch(capsys):
    _fit_quietly(2, epochs=3)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines):
        assert line.startswith(f"Epoch {i + 1}/3 - ")
        assert " - 3 steps - loss: " in line and " - mae: " in line and " - val_mae: " in line


def test_verbose_1_without_a_terminal_prints_lines_not_bars(capsys):
    """capsys's stdout is not a tty: no carriage-return spam, one line per epoch."""
    _fit_quietly(1, epochs=3)
    out = capsys.readouterr()
    assert "\r" not in out.out and "\r" not in out.err
    assert len(out.out.splitlines()) == 3 and out.out.startswith("Epoch 1/3 - ")


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("columns", [200, 60])
def test_verbose_1_on_a_terminal_draws_a_bar(monkeypatch, columns):
    term = FakeTerminal()
    monkeypatch.setattr("sys.stdout", term)
    monkeypatch.setenv("COLUMNS", str(columns))
    _fit_quietly(1, epochs=2)
    out = term.getvalue()
    assert "\r" in out                                             # a live bar
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "3/3" in out
    lines = [seg for seg in out.replace("\r", "\n").splitlines() if seg.strip()]
    assert all(len(seg) <= columns for seg in lines if seg.startswith("Epoch"))  # bars fit
    full = [seg for seg in lines if re.search(r"val_mae: \d\.\d{4}", seg)]
    assert len(full) == 2                        # each epoch's complete logs are visible once
    assert all(seg.startswith("  loss: ") == (columns == 60) for seg in full)


def test_bad_verbose_and_epochs():
    with pytest.raises(ValueError, match="verbose"):
        _fit_quietly(3)
    x, y = multiply_data(4, 0)
    with pytest.raises(ValueError, match="epochs"):
        fit(mlp(), nn.MSELoss(), optim.SGD(mlp().parameters(), lr=0.1), (x, y), epochs=-1)


def test_progress_value_format():
    assert progress.format_value(0.5) == "0.5000"
    assert progress.format_value(7.1e9) == "7.1000e+09"
    assert progress.format_value(float("nan")) == "nan"


# ----------------------------------------------------------------------------- misc
def test_predict_and_evaluate_accept_loaders():
    x, y = multiply_data(50, 0)
    model = mlp()
    direct = predict(model, x).numpy()
    loader = DataLoader(TensorDataset(x, y), batch_size=7)
    np.testing.assert_allclose(predict(model, loader).numpy(), direct, atol=1e-6)
    np.testing.assert_allclose(predict(model, TensorDataset(x)).numpy(), direct, atol=1e-6)
    a = evaluate(model, nn.MSELoss(), loader)
    b = evaluate(model, nn.MSELoss(), (x, y), batch_size=50)
    assert a["loss"] == pytest.approx(b["loss"], rel=1e-6)
    assert model.training is True                  # left in the mode it had


def test_converging_net_with_small_output_bias_is_not_called_vanishing(no_training_warnings):
    """A tanh net fits sin(2x) (loss 0.6 -> 1e-5) while its output bias stays near 0, so that
    bias's |grad| / |weight| is huge: biases must not be the yardstick for weight matrices."""
    tg.manual_seed(0)
    x = np.random.default_rng(0).uniform(-2, 2, (256, 1)).astype(np.float32)
    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                          nn.Linear(32, 1))
    h = fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.01), (x, np.sin(2 * x)),
            epochs=300, batch_size=256, verbose=0)
    assert h.history["loss"][-1] < 1e-3 * h.history["loss"][0]
