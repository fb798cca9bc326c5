"""keras.io's guides "The Sequential model" and "Training & evaluation with the built-in
methods", as a learner would port them (our own scripts, tests/keras_guides.py, with only
their imports changed): every number Keras's semantics define is checked against numpy,
and what is not supported fails saying what to write instead."""

from __future__ import annotations

import contextlib
import io
import os
import warnings

import numpy as np
import pytest

from tinygrad_edu import keras
from tinygrad_edu.keras import layers
from tinygrad_edu.serialization import SerializationError
from tinygrad_edu.train import TrainingWarning

from .keras_guides import FEATURE_EXTRACTION, SCRIPTS, port


def run_script(source: str, label: str) -> tuple[dict, str]:
    """Run a ported guide script as ``__main__``; its namespace and what it printed."""
    out = io.StringIO()
    namespace: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the diagnostics' notes on tiny synthetic data
        exec(compile(source, label, "exec"), namespace)
    return namespace, out.getvalue()


def _run(name: str) -> tuple[dict, str]:
    return run_script(port(SCRIPTS[name]), f"<keras guide {name}>")


@pytest.fixture(scope="module")
def guides() -> dict[str, tuple[dict, str]]:
    return {}


def _script(guides: dict, name: str) -> tuple[dict, str]:
    if name not in guides:
        guides[name] = _run(name)
    return guides[name]


def _sparse_ce(probs: np.ndarray, labels: np.ndarray, logits: bool = False) -> np.ndarray:
    """Per-sample cross-entropy as Keras computes it (probabilities clipped at 1e-7)."""
    p = np.asarray(probs, dtype=np.float64)
    if logits:
        p = np.exp(p - p.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
    else:
        p = np.clip(p / p.sum(axis=1, keepdims=True), 1e-7, 1 - 1e-7)
    return -np.log(p[np.arange(len(labels)), labels])


# ----------------------------------------------------------------------- the Sequential model
def test_sequential_guide_layers_lazy_weights_input_and_summary(guides) -> None:
    ns, printed = _script(guides, "sequential")
    assert "output shape: (3, 4)" in printed and ns["same_as_calls"]
    assert ns["n_layers_after_pop"] == 2 and ns["removed"].units == 4
    assert ns["named"].name == "my_sequential"
    assert [layer.name for layer in ns["named"].layers] == ["layer1", "layer2", "layer3"]
    assert (ns["weights_before"], ns["weights_after"]) == (0, 2)
    assert (ns["kernel_shape"], ns["bias_shape"]) == ((4, 3), (3,))
    assert "not yet been built" in ns["summary_before_build"]
    assert "Number of weights after calling the model: 6" in printed
    assert ns["layers_with_input"] == 1  # the Input is not a layer of model.layers
    assert ns["built_later"].built and ns["built_later"].layers[0].kernel.shape == (4, 2)
    # the parameter counts keras.io prints for the guide's convolutional stack
    assert "Total params: 11,680" in printed and "Total params: 48,672" in printed
    assert printed.count("9,248") == 1 + 5 and "2,432" in printed
    assert "(None, 40, 40, 32)" in printed and "(None, 4, 4, 32)" in printed
    assert ns["conv_params"] == 48_672 + 32 * 10 + 10
    np.testing.assert_allclose(ns["small_out"], [[8.5, 10.5]])  # [1,0,2] @ K + b by hand


def test_feature_extraction_with_the_functional_api_matches_calling_the_layers() -> None:
    """The guide's feature extractor (``keras.Model(initial_model.inputs, [layer.output
    ...])``) runs now, and its features are those of calling the layers in turn."""
    ns: dict = {}
    exec(compile(port(FEATURE_EXTRACTION), "<feature extraction>", "exec"), ns)
    ours = _run("feature_extraction_ours")[0]
    ours["initial_model"].set_weights(ns["initial_model"].get_weights())
    by_hand, h = [], np.ones((1, 16))
    for layer in ours["initial_model"].layers:
        h = layer(h)
        by_hand.append(h.numpy())
    assert [tuple(f.shape) for f in ns["features"]] == [(1, 8), (1, 6), (1, 3)]
    for got, want in zip(ns["features"], by_hand):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    model = keras.Sequential([layers.Dense(2)])  # no input shape: no symbolic output
    with pytest.raises(AttributeError, match="never been called on a KerasTensor.*keras.Input"):
        _ = model.layers[0].output
    assert not hasattr(model.layers[0], "output")
    assert ours["feature_shapes"] == [(2, 8), (2, 6), (2, 3)]
    np.testing.assert_allclose(ours["features"][-1].numpy(), ours["final"], rtol=1e-6)


# ----------------------------------------------------------------------- transfer learning
def test_frozen_layers_are_not_trained_and_leave_trainable_weights(guides) -> None:
    ns, _ = _script(guides, "transfer")
    assert (ns["n_trainable"], ns["n_frozen"]) == (2, 4)
    for before, after in zip(ns["frozen_before"], ns["frozen_after"]):
        np.testing.assert_array_equal(before, after)
    assert not np.allclose(ns["head_before"][0], ns["head_after"][0])
    for before, after in zip(ns["base_before"], ns["base_after"]):
        np.testing.assert_array_equal(before, after)
    assert ns["stacked_trainable"] == 2
    lines: list[str] = []
    ns["stacked"].summary(print_fn=lines.append)
    assert "Trainable params: 27 " in "\n".join(lines)  # the head: 8 * 3 + 3
    assert "Non-trainable params: 168 " in "\n".join(lines)  # the base: 20 * 8 + 8


def test_freezing_after_training_with_adam_stops_every_update() -> None:
    """Adam's moments from the trainable epochs must not keep moving a frozen layer, nor
    may a gradient left over from them be applied again."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 5)), rng.integers(0, 2, size=64)
    model = keras.Sequential([keras.Input(shape=(5,)), layers.Dense(4, activation="tanh"),
                              layers.Dense(2)])
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=2, verbose=0, diagnostics=False)
    model.layers[0].trainable = False
    frozen = model.layers[0].get_weights()
    model.fit(x, y, epochs=2, verbose=0, diagnostics=False)
    for before, after in zip(frozen, model.layers[0].get_weights()):
        np.testing.assert_array_equal(before, after)


def test_nested_sequential_saves_and_loads_with_its_frozen_flag(tmp_path) -> None:
    base = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3)])
    base.trainable = False
    model = keras.Sequential([base, layers.Dense(2)])
    path = tmp_path / "nested.npz"
    model.save(path)
    again = keras.models.load_model(path)
    x = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(again.layers[0], keras.Sequential) and not again.layers[0].trainable
    assert len(again.trainable_weights) == 2


# ----------------------------------------------------------------------- training & evaluation
def test_training_guide_history_evaluate_and_predict_mean_what_keras_means(guides) -> None:
    ns, printed = _script(guides, "training")
    history = ns["history"].history
    assert list(history) == ["loss", "sparse_categorical_accuracy", "val_loss",
                             "val_sparse_categorical_accuracy"]
    assert all(len(v) == 2 and all(isinstance(e, float) for e in v) for v in history.values())
    model, x_test, y_test = ns["model"], ns["x_test"], ns["y_test"]
    assert ns["predictions"].shape == (3, 10)
    assert ns["names"] == ["loss", "sparse_categorical_accuracy"]
    # evaluate: the mean over all 200 samples (batches of 128 and 72), not of the batch means
    loss, acc = ns["results"]
    first = ns["history"].model  # the first model, compiled with the class objects
    probs = first.predict(x_test, verbose=0)
    np.testing.assert_allclose(loss, _sparse_ce(probs, y_test).mean(), rtol=1e-5)
    assert acc == np.mean(probs.argmax(axis=1) == y_test)
    assert ns["as_dict"] == {"loss": loss, "sparse_categorical_accuracy": acc}
    assert "test loss, test acc: [" in printed and "predictions shape: (3, 10)" in printed
    # validation_split=0.2: the LAST 80 of the 400 training samples, before any shuffling
    x_train, y_train = ns["x_train"], ns["y_train"]
    val = model.evaluate(x_train[320:], y_train[320:], verbose=0, return_dict=True)
    split = ns["split_history"].history
    np.testing.assert_allclose(split["val_loss"][0], val["loss"], rtol=1e-6)
    assert split["val_sparse_categorical_accuracy"][0] == val["sparse_categorical_accuracy"]


def test_epoch_loss_and_metrics_average_over_samples_with_a_short_last_batch(guides) -> None:
    ns, _ = _script(guides, "training")
    model, x, y = ns["logits_model"], ns["x_train"], ns["y_train"]  # learning rate 0
    logits = model.predict(x, verbose=0)
    per_sample = _sparse_ce(logits, y, logits=True)
    h = model.fit(x, y, batch_size=128, epochs=1, verbose=0,  # 128 + 128 + 128 + 16
                  diagnostics=False)
    np.testing.assert_allclose(h.history["loss"][0], per_sample.mean(), rtol=1e-5)
    hits = np.mean(logits.argmax(axis=1) == y)
    assert h.history["sparse_categorical_accuracy"][0] == hits == h.history["accuracy"][0]
    values = model.evaluate(x, y, batch_size=150, verbose=0)
    assert len(values) == 3 and model.metrics_names == ["loss", "sparse_categorical_accuracy",
                                                        "accuracy"]
    np.testing.assert_allclose(values[0], per_sample.mean(), rtol=1e-5)
    scalar = ns["loss_only"].evaluate(x, np.eye(10)[y], verbose=0)
    assert isinstance(scalar, float)  # no metrics: the loss alone, not a list


def test_class_weight_and_sample_weight_weigh_the_loss_as_keras_does(guides) -> None:
    ns, _ = _script(guides, "weighting")
    # class_weight {5: 2} is sample_weight 2 on class 5: the same run, step for step
    assert ns["class_history"].history == ns["sample_history"].history
    np.testing.assert_array_equal(ns["class_weighted_kernel"], ns["sample_weighted_kernel"])
    assert ns["class_history"].history["loss"] != ns["plain_history"].history["loss"]
    # the weighted loss is sum(w_i * loss_i) / n, and only the loss is weighted
    x, y = ns["x_test"], ns["y_test"]
    model = ns["get_compiled_model"](learning_rate=0.0)
    logits = model.predict(x, verbose=0)
    per_sample = _sparse_ce(logits, y, logits=True)
    w = np.random.default_rng(1).uniform(0, 3, size=len(y))
    weighted = (w * per_sample).sum() / len(y)
    loss, acc = model.evaluate(x, y, sample_weight=w, batch_size=64, verbose=0)
    np.testing.assert_allclose(loss, weighted, rtol=1e-5)
    assert acc == np.mean(logits.argmax(axis=1) == y)
    h = model.fit(x, y, sample_weight=w, batch_size=64, epochs=1, verbose=0, diagnostics=False)
    np.testing.assert_allclose(h.history["loss"][0], weighted, rtol=1e-5)
    h = model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y, w), diagnostics=False)
    np.testing.assert_allclose(h.history["val_loss"][0], weighted, rtol=1e-5)
    loss_object = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    np.testing.assert_allclose(loss_object(y, logits, sample_weight=w).item(), weighted,
                               rtol=1e-5)


def test_a_weighted_step_moves_the_weights_by_the_weighted_gradient() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(12, 4)), rng.integers(0, 3, size=12)
    class_weight = {0: 0.5, 1: 3.0, 2: 1.0}
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    kernel, bias = (w.astype(np.float64) for w in model.get_weights())
    model.fit(x, y, class_weight=class_weight, batch_size=12, epochs=1, verbose=0,
              diagnostics=False)
    logits = x @ kernel + bias
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    w = np.array([class_weight[c] for c in y])
    dlogits = (p - np.eye(3)[y]) * w[:, None] / len(y)
    new_kernel, new_bias = model.get_weights()
    np.testing.assert_allclose(new_kernel, kernel - 0.1 * x.T @ dlogits, atol=1e-6)
    np.testing.assert_allclose(new_bias, bias - 0.1 * dlogits.sum(axis=0), atol=1e-6)


def test_class_weight_validation_is_unweighted_and_bad_weights_are_refused() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(50, 3)), rng.integers(0, 2, size=50)
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    h = model.fit(x, y, class_weight={0: 1.0, 1: 10.0}, validation_split=0.2, verbose=0)
    np.testing.assert_allclose(h.history["val_loss"][0],
                               model.evaluate(x[40:], y[40:], verbose=0), rtol=1e-6)
    w = np.arange(50.0)  # sample weights are split with the samples: the last 10 validate
    h = model.fit(x, y, sample_weight=w, validation_split=0.2, verbose=0, diagnostics=False)
    held_out = _sparse_ce(model.predict(x[40:], verbose=0), y[40:], logits=True)
    np.testing.assert_allclose(h.history["val_loss"][0], (w[40:] * held_out).mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="not both"):
        model.fit(x, y, class_weight={0: 1.0}, sample_weight=np.ones(50), verbose=0)
    with pytest.raises(ValueError, match="give every class a weight"):
        model.fit(x, y, class_weight={0: 1.0}, verbose=0)
    with pytest.raises(ValueError, match=r"one weight per sample, shape \(50,\)"):
        model.fit(x, y, sample_weight=np.ones(49), verbose=0)
    plain = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2)])
    plain.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0),
                  loss=lambda y_true, y_pred: ((y_pred - 1.0) ** 2).mean(axis=-1))
    w = np.arange(50.0)
    h = plain.fit(x, y, sample_weight=w, batch_size=50, verbose=0, diagnostics=False)
    per_sample = ((plain.predict(x, verbose=0) - 1.0) ** 2).mean(axis=-1)
    np.testing.assert_allclose(h.history["loss"][0], (w * per_sample).mean(), rtol=1e-5)
    plain.compile(optimizer="sgd", loss=lambda y_true, y_pred: ((y_pred - 1.0) ** 2).mean())
    with pytest.raises(ValueError, match="one loss per sample.*mean\\(axis=-1\\)"):
        plain.fit(x, y, sample_weight=w, verbose=0, diagnostics=False)
    one_hot = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2, activation="softmax")])
    one_hot.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0),
                    loss="categorical_crossentropy")
    weights = np.where(y == 1, 4.0, 1.0)
    by_class = one_hot.train_on_batch(x, np.eye(2)[y], class_weight={0: 1.0, 1: 4.0})
    by_sample = one_hot.train_on_batch(x, np.eye(2)[y], sample_weight=weights)
    assert by_class == by_sample == one_hot.test_on_batch(x, np.eye(2)[y], sample_weight=weights)


# ----------------------------------------------------------------------- callbacks
def _keras_early_stopping_epochs(values: list[float], patience: int, min_delta: float) -> int:
    """How many epochs Keras's EarlyStopping lets run on this val_loss sequence."""
    best, wait = np.inf, 0
    for epoch, value in enumerate(values):
        wait += 1
        if value < best - min_delta:
            best, wait = value, 0
        elif wait >= patience and epoch > 0:
            return epoch + 1
    return len(values)


def test_callbacks_guide_early_stopping_checkpoints_and_custom_callback(guides) -> None:
    ns, printed = _script(guides, "callbacks")
    history = ns["history"].history
    epochs = len(ns["history"].epoch)
    assert epochs == _keras_early_stopping_epochs(history["val_loss"], 2, 1e-2)
    improved = [e for e, v in enumerate(history["val_loss"]) if v < min(
        history["val_loss"][:e], default=np.inf)]
    assert ns["checkpoints"] == sorted(f"mymodel_{e + 1}.weights.npz" for e in improved)
    assert "Epoch 1: val_loss improved from inf to" in printed
    cb = ns["loss_history"]
    assert len(cb.per_batch_losses) == epochs * 5  # 320 samples in batches of 64
    assert cb.batch_keys == ["batch_loss", "loss", "size", "sparse_categorical_accuracy"]
    assert cb.epochs_seen[0] == (0, ["loss", "sparse_categorical_accuracy", "val_loss",
                                     "val_sparse_categorical_accuracy"])
    # a constant loss: best at epoch 0, no improvement for 2 epochs, stop after epoch 2
    assert len(ns["still_history"].epoch) == 3 and ns["stopper"].stopped_epoch == 2
    assert ns["plateau_history"].history["learning_rate"] == [1e-3, 1e-3, 5e-4, 2.5e-4]
    np.testing.assert_array_equal(ns["reloaded"], ns["expected"])


def test_weights_load_into_a_fresh_model_by_structure_not_by_generated_names(tmp_path) -> None:
    def build() -> keras.Sequential:
        return keras.Sequential([keras.Input(shape=(3,)), layers.Dense(4), layers.Dense(2)])

    first, second = build(), build()
    assert first.layers[0].name != second.layers[0].name
    path = tmp_path / "w.safetensors"
    first.save_weights(path)
    second.load_weights(path)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    other = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(5), layers.Dense(2)])
    with pytest.raises(SerializationError, match="Missing key"):
        other.load_weights(path)


def test_keras_file_formats_are_refused_naming_ours(tmp_path) -> None:
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2)])
    for name in ("model.keras", "ckpt.weights.h5"):
        with pytest.raises(ValueError, match=r"\.npz or \.safetensors"):
            model.save_weights(tmp_path / name)
    with pytest.raises(ValueError, match=r"\.npz"):
        keras.callbacks.ModelCheckpoint(os.fspath(tmp_path / "mymodel_{epoch}.keras"))


# ----------------------------------------------------------------------- learning-rate schedules
def test_exponential_decay_sets_the_rate_of_every_step(guides) -> None:
    ns, _ = _script(guides, "schedule")
    assert ns["recorder"].rates == [0.1 * 0.5 ** (step // 4) for step in range(12)]
    assert ns["optimizer"].iterations == 12
    sched = keras.optimizers.schedules
    assert sched.ExponentialDecay(1.0, 10, 0.5)(5) == pytest.approx(0.5 ** 0.5)
    assert sched.InverseTimeDecay(1.0, 10, 1.0)(20) == pytest.approx(1 / 3)
    assert sched.PolynomialDecay(1.0, 10, end_learning_rate=0.0)(5) == pytest.approx(0.5)
    assert sched.PolynomialDecay(1.0, 10, end_learning_rate=0.0)(50) == 0.0
    assert sched.CosineDecay(1.0, 10)(5) == pytest.approx(0.5)
    warm = sched.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4)
    assert (warm(2), warm(4), warm(14)) == (0.5, 1.0, 0.0)
    steps = sched.PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1])
    assert [steps(s) for s in range(6)] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.1]


def test_a_per_step_schedule_trains_as_the_same_per_epoch_rates(tmp_path) -> None:
    """One full batch per epoch: ExponentialDecay(decay_steps=1) must give the weights that
    LearningRateScheduler(0.1 * 0.5**epoch) gives."""
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    runs = []
    for lr, callbacks in (
            (keras.optimizers.schedules.ExponentialDecay(0.1, 1, 0.5), []),
            (0.1, [keras.callbacks.LearningRateScheduler(lambda epoch: 0.1 * 0.5 ** epoch)])):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mse")
        model.fit(x, y, batch_size=16, epochs=4, callbacks=callbacks, verbose=0,
                  diagnostics=False)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    model.save(tmp_path / "m.npz")  # the schedule's config survives a save
    scheduled = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1)])
    scheduled.compile(optimizer=keras.optimizers.RMSprop(
        learning_rate=keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)), loss="mse")
    scheduled.fit(x, y, batch_size=8, epochs=1, verbose=0, diagnostics=False)
    scheduled.save(tmp_path / "s.npz")
    again = keras.models.load_model(tmp_path / "s.npz")
    assert again.optimizer.learning_rate == pytest.approx(0.05)  # step 2 of decay_steps 2
    assert isinstance(again.optimizer._schedule, keras.optimizers.schedules.ExponentialDecay)
    with pytest.raises(TypeError, match="schedule.*ReduceLROnPlateau"):
        scheduled.fit(x, y, epochs=2, verbose=0,
                      callbacks=[keras.callbacks.ReduceLROnPlateau(monitor="loss")])
    with pytest.raises(TypeError, match="not settable"):
        scheduled.optimizer.learning_rate = 0.01


# ----------------------------------------------------------------------- custom losses & metrics
def test_custom_losses_and_metric_written_with_keras_ops(guides) -> None:
    ns, _ = _script(guides, "custom")
    x, y = ns["x_test"], ns["y_test"]
    one_hot = np.eye(10)[y]
    for history, extra in ((ns["function_history"], 0.0), (ns["class_history"], 0.1)):
        model = history.model
        p = model.predict(x, verbose=0).astype(np.float64)
        expected = (((one_hot - p) ** 2).mean(axis=-1) + extra * ((0.5 - p) ** 2).mean(axis=-1))
        np.testing.assert_allclose(model.evaluate(x, one_hot, batch_size=64, verbose=0),
                                   expected.mean(), rtol=1e-5)
    metric_history = ns["metric_history"]
    hits = metric_history.history["val_categorical_true_positives"]
    correct = (metric_history.model.predict(ns["x_val"], verbose=0).argmax(axis=1)
               == ns["y_val"]).sum()
    assert hits[-1] == correct  # counted afresh for the 100 validation samples
    assert all(0 <= h <= 400 and h == int(h) for h in
               metric_history.history["categorical_true_positives"])
    # reduction="sum": each batch's loss is its sum; the epoch value weighs batches by size
    summed = ns["summed"]
    per_sample = _sparse_ce(summed.predict(x, verbose=0), y)
    sums = [per_sample[i:i + 64].sum() * len(per_sample[i:i + 64]) for i in range(0, 200, 64)]
    np.testing.assert_allclose(summed.evaluate(x, y, batch_size=64, verbose=0),
                               sum(sums) / 200, rtol=1e-5)
    with pytest.raises(AttributeError, match="np.fft"):
        _ = keras.ops.fft
    with pytest.raises(AttributeError, match="downloads pretrained weights"):
        _ = keras.applications
    with pytest.raises(ValueError, match="reduction must be one of"):
        keras.losses.MeanSquaredError(reduction="mean")


def test_from_logits_that_does_not_match_the_last_activation_warns() -> None:
    x, y = np.random.default_rng(0).normal(size=(8, 3)), np.arange(8) % 2
    cases = [(layers.Dense(2), "sparse_categorical_crossentropy", "expects probabilities"),
             (layers.Dense(2, activation="softmax"),
              keras.losses.SparseCategoricalCrossentropy(from_logits=True), "applies softmax"),
             (layers.Dense(1), keras.losses.BinaryCrossentropy(), "expects probabilities")]
    for last, loss, message in cases:
        model = keras.Sequential([keras.Input(shape=(3,)), last])
        model.compile(optimizer="sgd", loss=loss)
        with pytest.warns(TrainingWarning, match=message):
            model.fit(x, y, epochs=1, verbose=0, diagnostics=True)
    fine = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2)])
    fine.compile(optimizer="sgd",
                 loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fine.fit(np.random.default_rng(0).normal(size=(64, 3)), np.arange(64) % 2, verbose=0)


def test_keras_metric_objects_take_y_true_first_and_accumulate() -> None:
    """keras.metrics.X()(y_true, y_pred) and update_state(y_true, y_pred): Keras's order
    (swapped, BinaryAccuracy would score 0 here and R2Score -0.5)."""
    y_true, y_pred = np.array([1.0, 0.0, 1.0]), np.array([0.9, 0.2, 0.4])
    assert keras.metrics.BinaryAccuracy()(y_true, y_pred) == pytest.approx(2 / 3)
    assert keras.metrics.R2Score()(np.array([1.0, 2.0, 3.0]),
                                   np.array([1.0, 2.0, 2.0])) == pytest.approx(0.5)
    m = keras.metrics.SparseCategoricalAccuracy()
    m.update_state([1, 0], [[0.1, 0.9], [0.3, 0.7]])
    assert m([1], [[0.2, 0.8]]) == pytest.approx(2 / 3)  # both batches so far
    m.reset_state()
    assert np.isnan(m.result())
    with pytest.raises(NotImplementedError, match="sample_weight"):
        m.update_state([1], [[0.2, 0.8]], sample_weight=[2.0])


def test_weight_names_and_missing_callbacks_say_what_they_are() -> None:
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2, name="hidden")])
    assert [w.name for w in model.weights] == ["kernel", "bias"]
    assert model.weights[0].path == "hidden/kernel"
    with pytest.raises(AttributeError, match="TensorBoard is not supported.*CSVLogger"):
        _ = keras.callbacks.TensorBoard


def test_a_pydataset_of_batches_trains_validates_and_predicts(guides) -> None:
    ns, _ = _script(guides, "pydataset")
    history = ns["history"]
    assert history.params["steps"] == 13  # ceil(400 / 32) batches, batch_size=64 ignored
    assert ns["train_py_dataset"].epochs_ended == 2
    model, x_val, y_val = ns["model"], ns["x_val"], ns["y_val"]
    probs = model.predict(x_val, verbose=0)
    np.testing.assert_array_equal(ns["predictions"], probs)
    loss, acc = ns["results"]  # batches of 32, 32, 32 and 4, averaged over the 100 samples
    np.testing.assert_allclose(loss, _sparse_ce(probs, y_val).mean(), rtol=1e-5)
    assert acc == np.mean(probs.argmax(axis=1) == y_val)
    np.testing.assert_allclose(history.history["val_loss"][-1], loss, rtol=1e-6)


def test_checkpoint_threshold_and_save_freq(tmp_path) -> None:
    x, y = np.random.default_rng(0).normal(size=(20, 2)), np.zeros((20, 1))
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    loss = model.evaluate(x, y, verbose=0)
    for threshold, saved in ((loss / 2, 0), (loss * 2, 1)):  # lr 0: the loss stays `loss`
        path = tmp_path / f"t{saved}" / "w_{epoch}.npz"
        ckpt = keras.callbacks.ModelCheckpoint(os.fspath(path), monitor="loss",
                                               save_best_only=True, save_weights_only=True,
                                               initial_value_threshold=threshold)
        model.fit(x, y, epochs=2, verbose=0, callbacks=[ckpt], diagnostics=False)
        assert len(os.listdir(path.parent)) == saved if saved else not path.parent.exists()
    with pytest.raises(NotImplementedError, match="save_freq='epoch'"):
        keras.callbacks.ModelCheckpoint(os.fspath(tmp_path / "w.npz"), save_freq=100)


def test_keras2_decay_is_inverse_time_decay_and_missing_layers_list_ours() -> None:
    with pytest.warns(DeprecationWarning, match="InverseTimeDecay"):
        opt = keras.optimizers.SGD(learning_rate=0.5, decay=0.25, momentum=0.9, nesterov=True)
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(8, 2)), rng.normal(size=(8, 1))
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1)])
    model.compile(optimizer=opt, loss="mse")
    rates = []
    record = keras.callbacks.LambdaCallback(
        on_batch_begin=lambda batch, logs: rates.append(opt.learning_rate))
    model.fit(x, y, batch_size=2, epochs=1, verbose=0, callbacks=[record], diagnostics=False)
    assert rates == pytest.approx([0.5 / (1 + 0.25 * t) for t in range(4)])
    with pytest.raises(AttributeError, match="LSTM is not in tinygrad_edu.keras.*Dense"):
        _ = layers.LSTM
    with pytest.raises(AttributeError, match="metrics.MeanIoU is not.*SparseCategoricalAcc"):
        _ = keras.metrics.MeanIoU
    assert not hasattr(keras.optimizers, "Nadam") and hasattr(keras.losses, "Huber")


def test_only_datasets_that_say_so_have_their_third_item_read_as_weights() -> None:
    from tinygrad_edu.data import TensorDataset

    rng = np.random.default_rng(7)
    x, y, w = rng.normal(size=(6, 2)), np.arange(6) % 2, np.arange(6.0)
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.raises(TypeError, match=r"each batch must be \(inputs, targets\)"):
        model.fit(TensorDataset(x, y, np.arange(6)), verbose=0, diagnostics=False)  # an index

    class Weighted(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, idx):
            part = slice(3 * idx, 3 * idx + 3)
            return x[part], y[part], w[part]

    per_sample = _sparse_ce(model.predict(x, verbose=0), y, logits=True)
    np.testing.assert_allclose(model.evaluate(Weighted(), batch_size=4, verbose=0),
                               (w * per_sample).mean(), rtol=1e-5)  # batch_size ignored
    assert model.predict(Weighted(), batch_size=4, verbose=0).shape == (6, 2)


def test_a_layer_of_a_frozen_model_stays_frozen_as_in_keras() -> None:
    """base.trainable = False, then base.layers[-1].trainable = True: Keras trains nothing
    of base (a non-trainable model hides its layers' weights)."""
    base = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(4), layers.Dense(4)])
    base.trainable = False
    base.layers[-1].trainable = True
    model = keras.Sequential([base, layers.Dense(1)])
    assert len(model.trainable_weights) == 2 and len(base.trainable_weights) == 0
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    before = base.get_weights()
    rng = np.random.default_rng(8)
    model.fit(rng.normal(size=(16, 3)), rng.normal(size=(16, 1)), verbose=0,
              diagnostics=False)
    for a, b in zip(before, base.get_weights()):
        np.testing.assert_array_equal(a, b)
    base.trainable = True  # unfreezing the model unfreezes its layers
    assert len(model.trainable_weights) == 6


def test_monitoring_a_metric_of_your_own_needs_a_mode(guides) -> None:
    ns, _ = _script(guides, "custom")  # its metric class; a model of this test's own
    model = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=[ns["CategoricalTruePositives"]()])
    x, y = ns["x_val"], ns["y_val"]
    monitor = "val_categorical_true_positives"
    for callback in (keras.callbacks.EarlyStopping(monitor=monitor),
                     keras.callbacks.ModelCheckpoint("unused.npz", monitor=monitor)):
        with pytest.raises(ValueError, match="mode='max'"):
            model.fit(x, y, epochs=1, validation_data=(x, y), callbacks=[callback], verbose=0)
    stop = keras.callbacks.EarlyStopping(monitor=monitor, mode="max", patience=0)
    model.fit(x, y, epochs=3, validation_data=(x, y), callbacks=[stop], verbose=0,
              diagnostics=False)
    assert stop.mode == "max"
