"""tinygrad_edu.keras: regularizers (penalty values, gradients, the loss fit minimises and
reports), LearningRateScheduler, CSVLogger, TerminateOnNaN, ``history.params``, and
``model.input_shape`` / ``output_shape``, each against hand computations in numpy.
"""

from __future__ import annotations

import contextlib
import csv
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import keras, optim
from tinygrad_edu.gradcheck import gradcheck
from tinygrad_edu.keras import layers, regularizers
from tinygrad_edu.keras.callbacks import CSVLogger, LearningRateScheduler, TerminateOnNaN
from tinygrad_edu.keras.models import Sequential, load_model
from tinygrad_edu.serialization import SerializationError
from tinygrad_edu.train import TrainingDiverged

X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
Y = (X @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)).astype(np.float32)


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()


def _linear(regularizer=None, bias_regularizer=None, lr=0.0, optimizer=None) -> Sequential:
    """Dense(1) with kernel ones / bias 0.5, compiled with SGD (lr 0: the weights stay)."""
    model = Sequential([layers.Dense(1, input_dim=3, kernel_initializer="ones",
                                     bias_initializer=keras.initializers.Constant(0.5),
                                     kernel_regularizer=regularizer,
                                     bias_regularizer=bias_regularizer)])
    model.compile(optimizer=optimizer or keras.optimizers.SGD(learning_rate=lr), loss="mse")
    return model


def _mse(model) -> float:
    pred = X @ model.layers[0].kernel.numpy().astype(np.float64) + model.layers[0].bias.numpy()
    return float(((pred - Y) ** 2).mean())


# ------------------------------------------------------------------ regularizers


@settings(max_examples=20)
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 3)), seed=st.integers(0, 2**16),
       l1=st.floats(0.0, 2.0), l2=st.floats(0.0, 2.0))
def test_regularizer_penalties_and_gradients_match_numpy(shape, seed, l1, l2):
    w = np.random.default_rng(seed).normal(size=shape)
    w[np.abs(w) < 1e-3] = 0.5                      # |w| has a kink at 0
    cases = [(regularizers.L1(l1), l1 * np.abs(w).sum()),
             (regularizers.L2(l2), l2 * (w ** 2).sum()),
             (regularizers.l1_l2(l1=l1, l2=l2), l1 * np.abs(w).sum() + l2 * (w ** 2).sum())]
    for reg, expected in cases:
        assert float(reg(tg.tensor(w)).item()) == pytest.approx(expected, rel=1e-12, abs=1e-12)
        assert gradcheck(reg, (tg.tensor(w, requires_grad=True),))


def test_regularizer_defaults_names_and_errors():
    assert regularizers.l2().get_config() == {"l2": 0.01}          # Keras 3's defaults
    assert regularizers.L1().get_config() == {"l1": 0.01}
    assert regularizers.l1_l2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.l1 is regularizers.L1 and regularizers.L1L2 is regularizers.l1_l2
    assert repr(regularizers.get("l1_l2")) == "L1L2(l1=0.0, l2=0.0)"
    with pytest.raises(ValueError, match="Value for argument l2 must be a non-negative"):
        regularizers.l2(-1.0)
    with pytest.raises(ValueError, match="unknown regularizer 'l3'; known: 'l1', 'l2'"):
        layers.Dense(2, kernel_regularizer="l3")
    with pytest.raises(ValueError, match="unknown regularizer config"):
        regularizers.get({"class_name": "Orthogonal"})
    with pytest.raises(TypeError, match="a regularizer is a name"):
        regularizers.get(0.01)


def test_fit_minimises_and_reports_the_loss_plus_the_penalties():
    model = _linear(regularizers.l2(0.1), bias_regularizer=regularizers.l1(0.2))
    expected = _mse(model) + 0.1 * 3 + 0.2 * 0.5                # kernel ones, bias 0.5
    history = model.fit(X, Y, epochs=2, batch_size=40, verbose=0, validation_data=(X, Y))
    assert history.history["loss"] == pytest.approx([expected] * 2, rel=1e-5)
    assert history.history["val_loss"] == pytest.approx([expected] * 2, rel=1e-5)
    assert model.evaluate(X, Y, verbose=0) == pytest.approx(expected, rel=1e-5)
    assert model.train_on_batch(X, Y) == pytest.approx(expected, rel=1e-5)
    assert [float(p.item()) for p in model.losses] == pytest.approx([0.3, 0.1])


def test_penalties_of_layers_inside_a_custom_layer_and_a_subclassed_model_count():
    class Block(layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = layers.Dense(1, kernel_initializer="ones",
                                      kernel_regularizer=regularizers.l2(0.5))

        def call(self, inputs):
            return self.inner(inputs)

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.block = Block()

        def call(self, inputs):
            return self.block(inputs)

    net = Net()
    net.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    h = net.fit(X, Y, epochs=1, batch_size=40, verbose=0)
    pred = X.astype(np.float64).sum(axis=1, keepdims=True)
    assert [float(p.item()) for p in net.block.losses] == [1.5]           # 0.5 * 3 ones
    assert h.history["loss"] == pytest.approx([((pred - Y) ** 2).mean() + 1.5], rel=1e-5)


def test_a_training_step_follows_the_penalty_gradient():
    model = _linear(regularizers.l2(0.1), lr=0.05)
    k = np.ones((3, 1))
    pred = X.astype(np.float64) @ k + 0.5
    grad = 2 * X.T.astype(np.float64) @ (pred - Y) / len(X) + 2 * 0.1 * k
    model.fit(X, Y, epochs=1, batch_size=40, verbose=0, shuffle=False)
    np.testing.assert_allclose(model.layers[0].kernel.numpy(), k - 0.05 * grad, rtol=1e-5)


def test_a_strong_l1_penalty_drives_the_kernel_towards_zero():
    keras.utils.set_random_seed(0)
    free = _linear(optimizer=keras.optimizers.Adam(0.05))
    lasso = _linear(regularizers.l1(5.0), optimizer=keras.optimizers.Adam(0.05))
    for model in (free, lasso):
        model.fit(X, Y, epochs=30, verbose=0)
    assert np.abs(lasso.layers[0].kernel.numpy()).sum() < 0.3
    assert np.abs(free.layers[0].kernel.numpy()).sum() > 3.0


def test_a_function_regularizer_saves_by_name_and_loads_from_custom_objects(tmp_path):
    def doubled_l2(w):
        return (w * w).sum() * 2.0

    model = _linear(doubled_l2)
    path = tmp_path / "m.npz"
    model.save(path)
    with pytest.raises(SerializationError, match=r"uses the Python function 'doubled_l2'.*"
                                                 r"custom_objects=\{'doubled_l2': doubled_l2\}"):
        load_model(path)
    again = load_model(path, custom_objects={"doubled_l2": doubled_l2})
    assert again.evaluate(X, Y, verbose=0) == pytest.approx(_mse(model) + 6.0, rel=1e-5)


# ------------------------------------------------------------------ callbacks


def test_learning_rate_scheduler_two_and_one_argument_forms():
    model = _linear(lr=0.1)
    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, round(lr, 8)))
        return lr * 0.5

    h = model.fit(X, Y, epochs=3, verbose=0, callbacks=[LearningRateScheduler(schedule)])
    assert seen == [(0, 0.1), (1, 0.05), (2, 0.025)]
    assert h.history["learning_rate"] == pytest.approx([0.05, 0.025, 0.0125])
    assert model.optimizer.learning_rate == pytest.approx(0.0125)
    h = model.fit(X, Y, epochs=2, verbose=0,
                  callbacks=[LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))])
    assert h.history["learning_rate"] == pytest.approx([0.01, 0.02])


def test_learning_rate_scheduler_verbose_and_a_torch_style_optimizer():
    model = Sequential([layers.Dense(1, input_dim=3)])
    model.compile(optimizer=optim.SGD(model.parameters(), lr=0.1), loss="mse")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.fit(X, Y, epochs=1, verbose=0,
                  callbacks=[LearningRateScheduler(lambda e, lr: 0.02, verbose=1)])
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.02." in out.getvalue()
    assert model.optimizer.param_groups[0]["lr"] == 0.02


@pytest.mark.parametrize("returned", [None, "0.1", -0.1, float("nan"), np.array([0.1, 0.2])])
def test_learning_rate_scheduler_rejects_a_bad_schedule_value(returned):
    model = _linear(lr=0.1)
    with pytest.raises(ValueError, match="LearningRateScheduler: the schedule returned .* at "
                                         "epoch 0; it must return the new learning rate"):
        model.fit(X, Y, epochs=1, verbose=0,
                  callbacks=[LearningRateScheduler(lambda e, lr: returned)])
    with pytest.raises(TypeError, match="schedule must be a function"):
        LearningRateScheduler(0.1)


def _read_csv(path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_csv_logger_writes_keras_columns_and_the_history_values(tmp_path):
    path = tmp_path / "logs" / "train.csv"
    model = _linear(lr=0.01)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    h = model.fit(X, Y, epochs=3, verbose=0, validation_split=0.25,
                  callbacks=[CSVLogger(path)])
    rows = _read_csv(path)
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    for col, key in enumerate(rows[0][1:], start=1):
        assert [float(r[col]) for r in rows[1:]] == h.history[key]
    raw = path.read_bytes()
    assert raw.count(b"\r\n") == 4                         # csv.excel line endings, as Keras


def test_csv_logger_append_separator_and_missing_validation_columns(tmp_path):
    path = tmp_path / "log.tsv"
    model = _linear(lr=0.01)
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[CSVLogger(path, separator="\t")])
    model.fit(X, Y, epochs=1, verbose=0,
              callbacks=[CSVLogger(path, separator="\t", append=True)])
    rows = [line.split("\t") for line in path.read_text().splitlines()]
    assert rows[0] == ["epoch", "loss", "val_loss"] and len(rows) == 4    # one header
    assert [r[2] for r in rows[1:]] == ["NA"] * 3
    model.fit(X, Y, epochs=1, verbose=0, callbacks=[CSVLogger(path, separator="\t")])
    assert len(path.read_text().splitlines()) == 2        # append=False starts afresh


def test_csv_logger_leaves_whole_rows_when_training_stops(tmp_path):
    class Boom(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("stop")

    path = tmp_path / "log.csv"
    with pytest.raises(RuntimeError, match="stop"):
        _linear(lr=0.01).fit(X, Y, epochs=5, verbose=0, callbacks=[CSVLogger(path), Boom()])
    assert [r[0] for r in _read_csv(path)] == ["epoch", "0", "1"]


def test_terminate_on_nan_ends_fit_quietly_like_keras():
    bad = X.copy()
    bad[20:] = np.inf
    model = _linear(lr=0.01)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), np.errstate(invalid="ignore"):
        h = model.fit(bad, Y, epochs=3, batch_size=10, verbose=0, shuffle=False,
                      callbacks=[TerminateOnNaN()])
    assert "Batch 3: Invalid loss, terminating training" in out.getvalue()
    assert h.epoch == [] and model.history is h
    assert np.isfinite(model.layers[0].kernel.numpy()).all()   # the NaN step was not applied
    with pytest.raises(TrainingDiverged, match="the loss is"), np.errstate(invalid="ignore"):
        model.fit(bad, Y, epochs=1, batch_size=10, verbose=0, shuffle=False)


def test_history_params_and_epoch_as_keras():
    model = _linear(lr=0.01)
    h = model.fit(X, Y, epochs=3, batch_size=16, verbose=0)
    assert h.params == {"verbose": 0, "epochs": 3, "steps": 3} and h.epoch == [0, 1, 2]
    with contextlib.redirect_stdout(io.StringIO()):
        h = model.fit(X, Y, epochs=1, verbose="auto")
    assert h.params == {"verbose": 1, "epochs": 1, "steps": 2}


# ------------------------------------------------------------------ Keras 2 script idioms


def test_adadelta_matches_keras_formula_in_float64_and_saves(tmp_path):
    w = tg.tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = keras.optimizers.Adadelta(learning_rate=1.0)
    bound = opt.build([w])
    p, acc_g, acc_d = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    for g in ([0.5, -1.0], [0.25, 3.0], [-1.0, 0.0]):
        w.grad = tg.tensor(np.array(g))
        bound.step()
        acc_g = 0.95 * acc_g + 0.05 * np.square(g)
        delta = -np.sqrt(acc_d + 1e-7) / np.sqrt(acc_g + 1e-7) * np.array(g)
        acc_d = 0.95 * acc_d + 0.05 * delta ** 2
        p = p + 1.0 * delta
        np.testing.assert_allclose(w.numpy(), p, rtol=1e-13)
    assert keras.optimizers.get("adadelta").get_config()["rho"] == 0.95
    model = _linear(optimizer=keras.optimizers.Adadelta(learning_rate=1.0))
    model.fit(X, Y, epochs=2, verbose=0)
    model.save(tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz")
    assert isinstance(again.optimizer, keras.optimizers.Adadelta)
    assert again.optimizer.iterations == model.optimizer.iterations == 4


def test_image_data_format_is_channels_last():
    assert keras.backend.image_data_format() == "channels_last"
    keras.backend.set_image_data_format("channels_last")
    with pytest.raises(NotImplementedError, match="channels_last only; transpose the data"):
        keras.backend.set_image_data_format("channels_first")


# ------------------------------------------------------------------ model shapes


def test_model_input_and_output_shapes():
    model = Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3), layers.Flatten(),
                        layers.Dense(5)])
    assert model.input_shape == (None, 8, 8, 1) and model.output_shape == (None, 5)
    assert [layer.output_shape for layer in model.layers] == [(None, 6, 6, 2), (None, 72),
                                                             (None, 5)]
    assert model.layers[1].input_shape == (None, 6, 6, 2)
    lazy = Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="input_shape: This model has not yet been built"):
        lazy.input_shape  # noqa: B018
    with pytest.raises(ValueError, match="layer 'dense_2' is not built yet: its input"):
        layers.Dense(1).input_shape  # noqa: B018

    class Sub(keras.Model):
        def call(self, inputs):
            return inputs * 2

    sub = Sub()
    sub(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="model 'sub': its output shape is not known"):
        sub.output_shape  # noqa: B018
