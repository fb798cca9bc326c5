"""fit's and predict's diagnostics name the seeds' training mistakes (issue 13, item 4 and 5),
on ports of the seeds' own setups, and stay silent on the healthy nets of the notebooks.

- seed 000: one training sample; ``metrics=['accuracy']`` on a regression target and an
  "rmse" that is ``sqrt(sum(err**2))``;
- seed 001: integers up to 500 into a relu net whose layers die one after another until the
  output is a dead ReLU (every prediction 0.0, the loss at 7.6e9);
- seed 002: tanh on the raw inputs (v1), raw x up to 4π into a tanh/sigmoid layer (the
  answer's data), and ``f(3)`` asked of a net trained on ``x ~ N(0, 1)``.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import keras, nn, optim
from tinygrad_edu.train import InputDistribution, TrainingWarning, fit, predict

NOTEBOOK_01 = Path(__file__).resolve().parents[1] / "notebooks" / "01_build_a_net.ipynb"


def said(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, TrainingWarning)]


def fit_recording(*args, **kwargs):
    with warnings.catch_warnings(record=True) as record, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        history = fit(*args, **kwargs)
    return history, said(record)


# ----------------------------------------------------------------------------- seed 000
def seed000_net():
    """The author's 2-2-1 sigmoid net without biases."""
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 2, bias=False), nn.Sigmoid(), nn.Linear(2, 1, bias=False),
                         nn.Sigmoid())


def test_one_training_sample_warns():
    x, y = np.array([[0.5, 0.5]], np.float32), np.array([[0.25]], np.float32)
    model = seed000_net()
    _, messages = fit_recording(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.5),
                                (x, y), epochs=99, verbose=0)
    one = [m for m in messages if m.startswith("1 training sample for 6 trainable parameters")]
    assert len(one) == 1 and "cannot teach a function" in one[0]
    assert "1000 samples" in one[0]


def test_one_training_sample_warns_in_the_keras_facade():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(2, activation="sigmoid", input_dim=2),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    with pytest.warns(TrainingWarning, match="1 training sample for 9 trainable parameters"):
        model.fit(np.array([[0.5, 0.5]]), np.array([0.25]), epochs=5, verbose=0)


def test_few_samples_warn_but_many_samples_and_a_truth_table_do_not():
    model = seed000_net()
    x = np.random.default_rng(0).random((5, 2), dtype=np.float32)
    _, messages = fit_recording(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.5),
                                (x, x[:, :1] * x[:, 1:]), epochs=2, verbose=0)
    assert any(m.startswith("only 5 training samples for 6 trainable parameters") for m in
               messages)
    # XOR: 4 samples, 17 parameters, but every case there is: no warning
    xor = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    tg.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    _, messages = fit_recording(net, nn.MSELoss(), optim.Adam(net.parameters(), lr=0.05),
                                (xor, np.array([[0], [1], [1], [0]], np.float32)), epochs=5,
                                batch_size=4, verbose=0)
    assert not any("training sample" in m for m in messages)


def test_accuracy_on_a_regression_target_explains_what_rmse_is():
    """The answer's Keras code: metrics=['accuracy'] on y = x1 * x2."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((200, 2))
    model = keras.Sequential([keras.layers.Dense(4, activation="relu", input_dim=2),
                              keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mean_squared_error", metrics=["accuracy"])
    with pytest.warns(TrainingWarning) as record:
        model.fit(x, x[:, 0] * x[:, 1], epochs=1, batch_size=10, verbose=0)
    msg = next(m for m in said(record) if "'accuracy' on a regression target" in m)
    assert "sqrt(mean(err**2))" in msg and "sqrt(sum(err**2)) is not it" in msg
    assert "grows with the number of samples" in msg


# ----------------------------------------------------------------------------- seed 001
def seed001_port(seed):
    """The author's 2-3-5-3-5-1 net: first layer linear, the rest relu, output too."""
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 3), nn.ReLU(),
                         nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 1), nn.ReLU())


def seed001_data():
    x = np.random.default_rng(1).integers(0, 500, size=(1000, 2))
    return x, x[:, :1] * x[:, 1:]


def test_layers_dying_over_training_each_warn_and_a_dead_output_gets_no_gradient():
    """Adam at lr=1 on the raw integers: layer '4' dies in epoch 2, '6' in epoch 3, the
    output ReLU '8' in epoch 5; from then on every prediction is 0.0 and the loss sits at
    mean(y**2) = 7.6e9."""
    x, y = seed001_data()
    model = seed001_port(seed=1)
    h, messages = fit_recording(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=1.0),
                                (x, y), epochs=6, batch_size=10, verbose=0)
    assert not predict(model, x).numpy().any()
    assert h.history["loss"][-1] == pytest.approx(float(np.mean(y.astype(float) ** 2)),
                                                  rel=1e-3)
    dead = [re.match(r"dead ReLUs in epoch (\d+): '(\d+)'", m) for m in messages]
    assert [(d[1], d[2]) for d in dead if d] == [("2", "4"), ("3", "6"), ("5", "8")]
    no_grad = [m for m in messages if m.startswith("no gradient reaches the weights")]
    assert len(no_grad) == 1 and "in epoch 5" in no_grad[0]
    assert "Every prediction in the sampled batches was exactly 0.0" in no_grad[0]
    assert "7.598e+09" in no_grad[0] and "linear output layer" in no_grad[0]


def test_no_gradient_is_rechecked_after_an_epoch_1_vanishing_warning():
    """The same port from seed 3: in epoch 1 the first layers get no gradient (a vanishing
    warning); from epoch 2 no weight matrix does. Both must be said."""
    x, y = seed001_data()
    model = seed001_port(seed=3)
    _, messages = fit_recording(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=1.0),
                                (x, y), epochs=3, batch_size=10, verbose=0)
    assert any(m.startswith("vanishing gradients in epoch 1") for m in messages)
    no_grad = [m for m in messages if m.startswith("no gradient reaches the weights")]
    assert len(no_grad) == 1 and "in epoch 2" in no_grad[0]
    assert "only biases still learn" in no_grad[0]


# ----------------------------------------------------------------------------- seed 002
def answer_data():
    """The answer's offline set: 1000 points on [0, 4π], target sin x; x left raw."""
    x = np.linspace(0, 4 * np.pi, 1000, dtype=np.float32).reshape(-1, 1)
    return x, np.sin(x)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_raw_inputs_saturate_the_first_layer_in_the_keras_facade(activation):
    """Dense(6, tanh/sigmoid) on raw x up to 4π: most pre-activations beyond ±3 from the
    first batch; the net ends near a constant guess (loss ~ var(sin x) = 0.5)."""
    x, y = answer_data()
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(6, activation=activation, input_dim=1),
                              keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    with pytest.warns(TrainingWarning) as record:
        h = model.fit(x, y, epochs=3, verbose=0)
    assert h.history["loss"][-1] > 0.3
    sat = [m for m in said(record) if m.startswith("saturated first layer")]
    assert len(sat) == 1
    assert f"'dense.activation' ({activation}) lie beyond ±3" in sat[0]
    assert "The inputs reach |x| = 12.57" in sat[0] and "StandardScaler" in sat[0]


def test_saturation_while_the_loss_stays_near_a_constant_guess_is_named_at_an_epoch_end():
    """Initial weights that do not saturate (the answer's U(-0.12, 0.12)) but SGD that drives
    the first layer into saturation on raw x while the loss stays above half that of
    predicting the mean."""
    x, y = answer_data()
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 6), nn.Sigmoid(), nn.Linear(6, 1))
    with tg.no_grad():
        for p in model.parameters():
            p.data[...] = np.random.default_rng(0).uniform(-0.12, 0.12, p.shape)
    _, messages = fit_recording(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.5),
                                (x, y), epochs=20, batch_size=32, verbose=0)
    sat = [m for m in messages if m.startswith("saturated first layer")]
    assert len(sat) == 1 and re.search(r"in epoch \d+, and the loss", sat[0]), messages
    assert "that of always predicting the targets' mean" in sat[0]


def test_scaled_inputs_do_not_saturate():
    x, y = answer_data()
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 6), nn.Tanh(), nn.Linear(6, 1))
    _, messages = fit_recording(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.02),
                                (x / (2 * np.pi) - 1, y), epochs=300, batch_size=1000,
                                verbose=0)
    assert messages == []


def test_tanh_on_the_raw_inputs_warns_with_the_fix():
    """Question v1: tanh applied to the input layer, x ~ N(0, 1), online training."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 1)).astype(np.float32)
    tg.manual_seed(0)
    model = nn.Sequential(nn.Tanh(), nn.Linear(1, 6, bias=False), nn.Tanh(),
                          nn.Linear(6, 1, bias=False), nn.Tanh())
    _, messages = fit_recording(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1),
                                (x, np.tanh(np.sin(x))), epochs=1, batch_size=1, verbose=0)
    squash = [m for m in messages if m.startswith("tanh is applied to the raw inputs")]
    assert len(squash) == 1
    share = float(re.search(r"and ([0-9.]+)% of the training inputs", squash[0])[1])
    assert share == pytest.approx(100 * np.mean(np.abs(x) > 2), abs=0.01)
    assert "remove the input tanh" in squash[0]
    # the Keras spelling: an Activation layer first
    keras.utils.set_random_seed(0)
    kmodel = keras.Sequential([keras.layers.Activation("tanh", input_shape=(1,)),
                               keras.layers.Dense(6, activation="tanh", use_bias=False),
                               keras.layers.Dense(1, activation="tanh", use_bias=False)])
    kmodel.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    with pytest.warns(TrainingWarning, match="tanh is applied to the raw inputs"):
        kmodel.fit(x[:200], np.tanh(np.sin(x[:200])), epochs=1, batch_size=1, verbose=0)


def test_predict_at_3_after_training_on_a_standard_normal_warns():
    """Question v1's query: f(3) from x ~ N(0, 1) (0.13% of such samples lie beyond 3)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10_000, 1)).astype(np.float32)
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 6), nn.Tanh(), nn.Linear(6, 1))
    fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.01), (x, np.tanh(np.sin(x))),
        epochs=1, verbose=0)
    assert isinstance(model.training_distribution, InputDistribution)
    share = float(np.mean(x >= 3.0))
    with pytest.warns(TrainingWarning) as record:
        predict(model, np.array([[3.0]]))
    (msg,) = said(record)
    assert msg.startswith("predict: x = 3 lies in the sparse tail of the training data")
    reported = float(re.search(r"only ([0-9.]+)% of the 10000", msg)[1]) / 100
    assert reported == pytest.approx(share, abs=5e-4) and "The net extrapolates there" in msg
    lo, hi = float(x.min()), float(x.max())
    with pytest.warns(TrainingWarning, match=rf"x = 5 lies outside the training data "
                      rf"\({lo:.4g} <= x <= {hi:.4g} in all 10000 training samples\)"):
        predict(model, [[5.0]])
    grid = np.linspace(-5, 5, 400).reshape(-1, 1)
    thin = int((np.abs(grid) > 2.58).sum())              # beyond N(0, 1)'s 0.5% tails
    with pytest.warns(TrainingWarning) as record:
        predict(model, grid)
    counted = int(re.match(r"predict: (\d+) of 400 queries", said(record)[0])[1])
    assert abs(counted - thin) <= 4
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingWarning)
        predict(model, [[0.5], [-1.5], [2.0]])               # inside
        predict(model, rng.normal(size=(5000, 1)))           # a test set from the same N(0, 1)


def test_keras_predict_names_the_feature_outside_the_training_data():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((1000, 2))
    model = keras.Sequential([keras.layers.Dense(8, activation="relu", input_dim=2),
                              keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, x[:, 0] * x[:, 1], epochs=1, verbose=0)
    with pytest.warns(TrainingWarning, match=r"x\[:, 1\] = 2 lies outside the training data"):
        model.predict(np.array([[0.5, 2.0]]), verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingWarning)
        model.predict(np.array([[0.5, 0.5]]), verbose=0)
        model.predict(np.random.default_rng(1).random((5000, 2)), verbose=0)


def test_diagnostics_false_keeps_no_distribution_and_predict_is_silent():
    x = np.random.default_rng(0).normal(size=(500, 1)).astype(np.float32)
    model = nn.Linear(1, 1)
    fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, x), verbose=0,
        diagnostics=False)
    assert model.training_distribution is None
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingWarning)
        predict(model, [[10.0]])


# ----------------------------------------------------------------------------- healthy nets
def test_the_notebook_fits_emit_no_training_warning(tmp_path, monkeypatch):
    """Notebook 01's code cells, run in order with every TrainingWarning an error: none of
    the diagnostics fires on its healthy nets (multiply, the sine offline and online, XOR).
    Cells that only draw (no fit, no predict) are left to nbmake's run of the notebook."""
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    cells = [c for c in json.loads(NOTEBOOK_01.read_text())["cells"] if c["cell_type"] == "code"]
    namespace: dict = {"__name__": "__notebook__"}
    ran = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingWarning)
        for i, cell in enumerate(cells):
            source = "".join(cell["source"])
            draws = re.search(r"\bplot_\w+\(|\bplt\.\w+\(", source)
            if draws and not re.search(r"\b(fit|predict)\(", source):
                continue
            code = "\n".join(line for line in source.splitlines() if not line.startswith("%"))
            exec(compile(code, f"{NOTEBOOK_01.name} cell {i + 1}", "exec"), namespace)
            ran += 1
    import matplotlib.pyplot as plt

    plt.close("all")
    assert ran >= 10 and namespace["xor_loss"] < 0.01 and namespace["rmse"] < 0.03
