"""keras.io's guides "The Functional API", "Making new layers and models via subclassing",
"Writing your own callbacks" and "Customizing what happens in fit()" (PyTorch backend), as
a learner would port them (our own scripts, tests/keras_guides2.py, imports changed only);
plus the metrics a previous session left open (Mean, Precision, Recall, AUC,
weighted_metrics) and steps_per_epoch. Numbers are checked against numpy written from
Keras's documented formulas, or against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tinygrad_edu import keras
from tinygrad_edu.keras import layers

from .keras_guides2 import SCRIPTS, port
from .test_foreign_keras_guides import run_script


def _run(name: str) -> tuple[dict, str]:
    return run_script(port(SCRIPTS[name]), f"<keras guide {name}>")


@pytest.fixture(scope="module")
def guides() -> dict[str, tuple[dict, str]]:
    return {}


def _script(guides: dict, name: str) -> tuple[dict, str]:
    if name not in guides:
        guides[name] = _run(name)
    return guides[name]


def _dense(layer, x: np.ndarray) -> np.ndarray:
    """A Dense layer by hand, in float64, with its activation (relu, tanh or none)."""
    kernel, bias = (w.astype(np.float64) for w in layer.get_weights())
    out = np.asarray(x, np.float64) @ kernel + bias
    act = layer.get_config()["activation"]
    return {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh, "linear": lambda v: v,
            "sigmoid": lambda v: 1 / (1 + np.exp(-v))}[act](out)


def _sparse_ce_logits(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    return -(z - np.log(np.exp(z).sum(axis=1, keepdims=True)))[np.arange(len(labels)), labels]


def _bce_logits(logits: np.ndarray, t: np.ndarray) -> float:
    """Keras's binary cross-entropy from logits, mean over samples (and the last axis)."""
    z = logits.astype(np.float64)
    return float(np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))))


def _cce_logits(logits: np.ndarray, onehot: np.ndarray) -> float:
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(np.mean(-(onehot * logp).sum(axis=1)))


# ----------------------------------------------------------------------- the Functional API
def test_functional_classifier_summary_and_losses_match_numpy(guides) -> None:
    ns, printed = _script(guides, "functional")
    assert 'Model: "mnist_model"' in printed and "(InputLayer)" in printed
    for count in ("50,240", "4,160", "650", "Total params: 55,050"):
        assert count in printed
    assert "shape=(None, 784)" in ns["input_repr"]
    model, history = ns["model"], ns["history"]
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    logits = model.predict(ns["x_test"], verbose=0).astype(np.float64)
    loss, acc = ns["test_scores"]
    assert loss == pytest.approx(_sparse_ce_logits(logits, ns["y_test"]).mean(), rel=1e-5)
    assert acc == pytest.approx(np.mean(logits.argmax(1) == ns["y_test"]))
    x_val, y_val = ns["x_train"][-48:], ns["y_train"][-48:]  # the last 20%, before shuffling
    h = x_val
    for layer in model.layers[1:]:
        h = _dense(layer, h)
    assert history.history["val_loss"][-1] == pytest.approx(
        _sparse_ce_logits(h, y_val).mean(), rel=1e-5)


def test_models_are_callable_like_layers_nested_and_ensembled(guides) -> None:
    ns, printed = _script(guides, "functional")
    auto, encoder, decoder = ns["autoencoder"], ns["encoder"], ns["decoder"]
    assert [layer.name for layer in auto.layers] == ["img", "encoder", "decoder"]
    assert "encoder (Functional)" in printed and "(None, 16)" in printed
    assert auto.count_params() == encoder.count_params() + decoder.count_params()
    x = np.random.default_rng(0).normal(size=(5, 16))
    h = x
    for layer in encoder.layers[1:] + decoder.layers[1:]:
        h = _dense(layer, h)
    np.testing.assert_allclose(auto.predict(x, verbose=0), h, rtol=1e-5, atol=1e-6)
    by_hand = np.mean([_dense(m.layers[1], ns["ensemble_x"])
                       for m in (ns["model1"], ns["model2"], ns["model3"])], axis=0)
    np.testing.assert_allclose(ns["ensemble_out"], by_hand, rtol=1e-5, atol=1e-6)


def _ticket_layers(model) -> dict[tuple, object]:
    return {tuple(layer.kernel.shape): layer for layer in model.layers
            if hasattr(layer, "kernel")}


def test_multi_input_multi_output_losses_weights_and_one_step_match_torch(guides) -> None:
    ns, _ = _script(guides, "functional")
    model = ns["ticket_model"]
    title, body, tags = ns["title_data"], ns["body_data"], ns["tags_data"]
    prio, dept = ns["priority_targets"], ns["dept_targets"]
    by_shape = _ticket_layers(model)
    model.set_weights(ns["ticket_weights_before"])

    def forward(lib, w):
        t = lib.relu(lib.as_tensor(title, dtype=lib.float64) @ w[0] + w[1])
        b = lib.relu(lib.as_tensor(body, dtype=lib.float64) @ w[2] + w[3])
        joined = lib.cat([t, b, lib.as_tensor(tags, dtype=lib.float64)], 1)
        return joined @ w[4] + w[5], joined @ w[6] + w[7]

    keys = [(10, 8), (20, 8), (28, 1), (28, 4)]
    w0 = [torch.tensor(a.astype(np.float64), requires_grad=True)
          for k in keys for a in by_shape[k].get_weights()]
    p_logits, d_logits = forward(torch, w0)
    p_loss = _bce_logits(p_logits.detach().numpy(), prio)
    d_loss = _cce_logits(d_logits.detach().numpy(), dept)
    before = ns["ticket_eval_before"]
    assert before["priority_loss"] == pytest.approx(p_loss, rel=1e-5)
    assert before["department_loss"] == pytest.approx(d_loss, rel=1e-5)
    assert before["loss"] == pytest.approx(p_loss + 0.2 * d_loss, rel=1e-5)
    assert before["department_accuracy"] == pytest.approx(
        np.mean(d_logits.detach().numpy().argmax(1) == dept.argmax(1)))
    total = (torch.nn.functional.binary_cross_entropy_with_logits(
        p_logits, torch.as_tensor(prio, dtype=torch.float64))
        + 0.2 * torch.nn.functional.cross_entropy(d_logits, torch.as_tensor(dept.argmax(1))))
    total.backward()
    assert ns["ticket_history"].history["loss"][0] == pytest.approx(total.item(), rel=1e-5)
    model.fit({"title": title, "body": body, "tags": tags},
              {"priority": prio, "department": dept}, epochs=1, batch_size=len(title),
              shuffle=False, verbose=0, diagnostics=False)
    after = [a for k in keys for a in _ticket_layers(model)[k].get_weights()]
    for got, w in zip(after, w0):  # one SGD step, lr 0.1, the loss weights in the gradient
        np.testing.assert_allclose(got, (w - 0.1 * w.grad).detach().numpy(), rtol=1e-4,
                                   atol=1e-6)
    preds = ns["ticket_predictions"]
    assert isinstance(preds, dict) and preds["priority"].shape == (48, 1)
    assert preds["department"].shape == (48, 4)


def test_residual_and_shared_layers_and_feature_extraction_match_numpy(guides) -> None:
    ns, printed = _script(guides, "functional")
    resnet, x = ns["resnet"], ns["resnet_x"]
    assert " (Add) " in printed and 'Model: "toy_resnet"' in printed
    d1, d2, d3, d4 = [layer for layer in resnet.layers if hasattr(layer, "kernel")]
    add_row = next(line for line in printed.splitlines() if " (Add) " in line)
    assert add_row.endswith(f"{d3.name}[0][0], {d2.name}[0][0]")  # Keras's "Connected to"
    assert printed.count("Connected to") == 1  # the chains print no such column
    h1 = _dense(d1, x)
    block1 = _dense(d2, h1)
    block2 = _dense(d3, block1) + block1
    want = [x, h1, block1, _dense(d3, block1), block2, _dense(d4, block2)]
    np.testing.assert_allclose(resnet.predict(x, verbose=0), want[-1], rtol=1e-5, atol=1e-6)
    extracted = ns["extracted"]
    assert len(extracted) == len(resnet.layers) == 6
    for got, expected in zip(extracted, want):
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)
    shared, layer = ns["shared_model"], ns["shared_dense"]
    rows: list[str] = []
    shared.summary(print_fn=rows.append)
    assert next(r for r in rows if r.startswith(" shared (Dense)")).endswith("a[0][0], b[0][0]")
    assert sum(1 for m in shared.layers if m is layer) == 1 and shared.count_params() == 15
    a, b = np.ones((2, 4)), np.arange(8.0).reshape(2, 4)
    np.testing.assert_allclose(shared([a, b]).numpy(),
                               np.concatenate([_dense(layer, a), _dense(layer, b)], 1),
                               rtol=1e-5)
    np.testing.assert_allclose(shared({"a": a, "b": b}).numpy(), shared([a, b]).numpy())


def test_functional_api_errors_say_what_to_do() -> None:
    a, b = keras.Input(shape=(2,), name="a"), keras.Input(shape=(2,), name="b")
    out = layers.Dense(1)(layers.concatenate([a, b]))
    with pytest.raises(ValueError, match="Graph disconnected.*name=b"):
        keras.Model(a, out)
    with pytest.raises(ValueError, match="expects 2 input"):
        keras.Model([a, b], out)(np.ones((1, 2)))
    with pytest.raises(NotImplementedError, match="unknown axis.*shape=\\(100,\\)"):
        layers.Dense(2)(keras.Input(shape=(None, 3)))
    with pytest.raises(TypeError, match="symbolic"):
        bool(a)
    with pytest.raises(ValueError, match="every input must be made by keras.Input"):
        keras.Model(layers.Dense(2)(a), out)
    twice = (a * 2.0 - a) / 1.0
    np.testing.assert_allclose(keras.Model(a, twice)(np.array([[1.0, 3.0]])).numpy(),
                               [[1.0, 3.0]])


# ----------------------------------------------------------------------- subclassing
def test_layers_hold_weights_track_them_and_nest(guides) -> None:
    ns, printed = _script(guides, "subclassing")
    layer = ns["linear_layer"]
    assert ns["weights_are_tracked"] and [w.path for w in layer.weights] == [
        f"{layer.name}/w", f"{layer.name}/b"]
    np.testing.assert_allclose(ns["linear_out"], np.ones((2, 2)) @ layer.w.numpy()
                               + layer.b.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(ns["sums"][0], [2.0, 2.0])
    np.testing.assert_array_equal(ns["sums"][1], [4.0, 4.0])
    assert "weights: 1\nnon-trainable weights: 1\ntrainable_weights: []" in printed
    assert not ns["lazy_built_before"] and ns["lazy_shapes"] == [(2, 32), (32,)]
    assert "weights: 6\ntrainable weights: 6" in printed
    assert sorted(ns["mlp"].state_dict())[:2] == ["linear_1.b", "linear_1.w"]


def test_add_loss_is_reset_per_call_and_added_to_the_training_loss(guides) -> None:
    ns, _ = _script(guides, "subclassing")
    assert ns["n_losses"] == [0, 1, 1]
    assert ns["reg_losses"] == pytest.approx([1e-3 * float(np.sum(ns["reg_kernel"] ** 2))],
                                             rel=1e-5)
    x, y = ns["act_x"], ns["act_y"]  # the model is the identity plus its activity penalty
    assert ns["act_eval_with_loss"] == pytest.approx(
        np.mean((y - x) ** 2) + 1e-2 * np.mean(x), rel=1e-5)
    assert ns["act_eval_without_loss"] == pytest.approx(1e-2 * np.mean(x), rel=1e-5)


def test_configs_the_training_argument_and_the_vae(guides) -> None:
    ns, printed = _script(guides, "subclassing")
    config = ns["config"]
    assert config == {"name": ns["layer"].name, "trainable": True, "dtype": "float32",
                      "units": 64} and str(config) in printed
    assert ns["new_layer"].units == 64 and ns["new_layer"].name == ns["layer"].name
    np.testing.assert_array_equal(ns["dropout_inference"], 1.0)
    assert set(np.unique(ns["dropout_training"])) == {0.0, 2.0}
    vae, x = ns["vae"], ns["x_train"][:7]
    vae(x)
    enc = vae.encoder
    hidden = _dense(enc.dense_proj, x)
    mean, log_var = _dense(enc.dense_mean, hidden), _dense(enc.dense_log_var, hidden)
    kl = -0.5 * np.mean(log_var - mean ** 2 - np.exp(log_var) + 1)
    assert [float(v.numpy()) for v in vae.losses] == pytest.approx([kl], rel=1e-5)
    losses = ns["vae_history"].history["loss"]
    assert len(losses) == 4 and losses[-1] < losses[0]


def test_add_weight_keeps_keras2_and_name_first_forms_and_refuses_constraints() -> None:
    class Scales(layers.Layer):
        def build(self, input_shape):
            self.add_weight("first", (2,), "ones")
            self.second = self.add_weight((2,), "zeros", name="second")
            self.third = self.add_weight(shape=(2,))

    layer = Scales()
    layer(np.ones((1, 2)))
    assert [k for k, _ in layer.named_parameters()] == ["first", "second", "third"]
    np.testing.assert_array_equal(layer.first.numpy(), [1.0, 1.0])
    with pytest.raises(NotImplementedError, match="constraint.*on_train_batch_end"):
        layer.add_weight(shape=(1,), constraint=lambda w: w)
    with pytest.raises(ValueError, match="cannot be assigned"):
        layer.first.assign(np.zeros(3))


# ----------------------------------------------------------------------- callbacks
def _hook_lines(batches: dict[str, int]) -> list[str]:
    """The lines the guide's CustomCallback prints, as Keras prints them."""
    keys = "['loss', 'mean_absolute_error']"
    lines = ["Starting training; got log keys: []", "Start epoch 0 of training; got log keys: []"]
    for b in range(batches["train"]):
        lines += [f"...Training: start of batch {b}; got log keys: []",
                  f"...Training: end of batch {b}; got log keys: {keys}"]

    def testing(n: int) -> list[str]:
        out = ["Start testing; got log keys: []"]
        for b in range(n):
            out += [f"...Evaluating: start of batch {b}; got log keys: []",
                    f"...Evaluating: end of batch {b}; got log keys: {keys}"]
        return [*out, f"Stop testing; got log keys: {keys}"]

    val_keys = "['loss', 'mean_absolute_error', 'val_loss', 'val_mean_absolute_error']"
    lines += testing(batches["val"])
    lines += [f"End epoch 0 of training; got log keys: {val_keys}",
              f"Stop training; got log keys: {val_keys}"]
    lines += testing(batches["test"])
    lines.append("Start predicting; got log keys: []")
    for b in range(batches["predict"]):
        lines += [f"...Predicting: start of batch {b}; got log keys: []",
                  f"...Predicting: end of batch {b}; got log keys: ['outputs']"]
    return [*lines, "Stop predicting; got log keys: []"]


def test_every_hook_is_called_in_keras_order_with_keras_log_keys(guides) -> None:
    _, printed = _script(guides, "callbacks")
    lines = printed.splitlines()
    want = _hook_lines({"train": 1, "val": 1, "test": 2, "predict": 2})
    assert lines[:len(want)] == want


def test_batch_logs_are_running_means_and_epoch_logs_match(guides) -> None:
    ns, _ = _script(guides, "callbacks")
    printing, history = ns["printing"], ns["printing_history"].history
    assert len(printing.train_batch) == 8 and len(printing.test_batch) == 2
    assert printing.train_batch[3] == pytest.approx(history["loss"][0])
    assert printing.train_batch[7] == pytest.approx(history["loss"][1])
    assert printing.test_batch[-1] == pytest.approx(ns["printing_eval"][0])


def test_early_stopping_at_min_loss_restores_the_best_weights(guides) -> None:
    ns, printed = _script(guides, "callbacks")
    stopper, losses = ns["stopper"], ns["stopping_history"].history["loss"]
    best = int(np.argmin(losses))
    assert stopper.stopped_epoch == best + 1 == len(losses) - 1
    assert f"Epoch {stopper.stopped_epoch + 1}: early stopping" in printed
    for got, want in zip(ns["weights_after_stopping"], stopper.weights_by_epoch[best]):
        np.testing.assert_array_equal(got, want)


def test_learning_rate_scheduler_sets_the_rate_the_updates_use(guides) -> None:
    ns, printed = _script(guides, "callbacks")
    rates = [0.1, 0.05, 0.05, 0.01, 0.005, 0.005]
    assert ns["scheduler"].rates == pytest.approx(rates)
    assert "Epoch 3: Learning rate is 0.01." in printed
    x, y = ns["x_train"].astype(np.float64), ns["y_train"].astype(np.float64).reshape(-1, 1)
    kernel, bias = (w.astype(np.float64) for w in ns["scheduled_initial"])
    for lr in rates:  # full-batch gradient descent on the mean squared error, by hand
        err = x @ kernel + bias - y
        kernel, bias = (kernel - lr * 2 * x.T @ err / len(x),
                        bias - lr * 2 * err.sum(0) / len(x))
    np.testing.assert_allclose(ns["scheduled_final"][0], kernel, rtol=1e-4)
    np.testing.assert_allclose(ns["scheduled_final"][1], bias, rtol=1e-4)


# ----------------------------------------------------------------------- customizing fit()
def test_a_torch_style_train_step_trains_exactly_like_fit(guides) -> None:
    ns, _ = _script(guides, "custom_fit")
    custom, plain = ns["custom_history"].history, ns["plain_history"].history
    assert sorted(custom) == sorted(plain) == ["loss", "mae"]
    for key in plain:
        assert custom[key] == pytest.approx(plain[key], rel=1e-12)
    for got, want in zip(ns["custom_weights"], ns["plain_weights"]):
        np.testing.assert_array_equal(got, want)
    assert type(ns["model"]).__name__ == "CustomModel" and ns["model"].layers[0].name


def test_own_metrics_are_reset_every_epoch_and_track_batch_losses(guides) -> None:
    ns, _ = _script(guides, "custom_fit")
    history, batches = ns["low_level_history"].history, ns["batch_losses"].epochs
    assert [len(b) for b in batches] == [3, 3, 3]
    assert history["loss"] == pytest.approx([np.mean(b) for b in batches], rel=1e-5)
    assert sorted(history) == ["loss", "mae"]


def test_sample_weighted_train_step_matches_torch(guides) -> None:
    ns, _ = _script(guides, "custom_fit")
    x, y, sw = (torch.as_tensor(ns[k], dtype=torch.float64) for k in ("x", "y", "sw"))
    w = [torch.tensor(a.astype(np.float64), requires_grad=True)
         for a in ns["weighted_initial"]]
    pred = torch.tanh(x @ w[0] + w[1]) @ w[2] + w[3]
    loss = (sw * ((pred - y) ** 2).mean(1)).sum() / len(x)  # Keras: sum(w * loss) / n
    loss.backward()
    assert ns["weighted_history"].history["loss"][0] == pytest.approx(loss.item(), rel=1e-5)
    for got, p in zip(ns["weighted_final"], w):
        np.testing.assert_allclose(got, (p - 0.05 * p.grad).detach().numpy(), rtol=1e-4,
                                   atol=1e-6)


def test_test_step_gives_evaluate_its_logs(guides) -> None:
    ns, _ = _script(guides, "custom_fit")
    pred, y = ns["eval_predictions"].astype(np.float64), ns["y"].astype(np.float64)
    loss, mae = ns["eval_results"]
    assert loss == pytest.approx(np.mean((pred - y) ** 2), rel=1e-5)
    assert mae == pytest.approx(np.mean(np.abs(pred - y)), rel=1e-5)


def test_a_model_without_trainable_weights_reports_its_loss_and_stays_put() -> None:
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1)])
    model.trainable = False
    model.compile(optimizer="sgd", loss="mse")
    before = model.get_weights()
    x, y = np.arange(8.0).reshape(4, 2), np.ones(4)
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        history = model.fit(x, y, epochs=2, verbose=0)
    pred = x @ before[0] + before[1]
    assert history.history["loss"] == pytest.approx([np.mean((pred[:, 0] - 1) ** 2)] * 2)
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)


# ----------------------------------------------------------------------- metrics
def _confusion(y: np.ndarray, p: np.ndarray, w: np.ndarray, t: float) -> tuple:
    """TP, FP, TN, FN at threshold t, by a loop over the samples."""
    tp = fp = tn = fn = 0.0
    for yi, pi, wi in zip(y, p, w):
        if pi > t:
            tp, fp = (tp + wi, fp) if yi else (tp, fp + wi)
        else:
            fn, tn = (fn + wi, tn) if yi else (fn, tn + wi)
    return tp, fp, tn, fn


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_precision_recall_auc_follow_keras_formulas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=60)
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, size=60), 0, 1)
    w = rng.uniform(0, 2, size=60)
    tp, fp, _, fn = _confusion(y, p, w, 0.5)
    for cls, want in ((keras.metrics.Precision, tp / (tp + fp)),
                      (keras.metrics.Recall, tp / (tp + fn))):
        m = cls()
        m.update_state(y[:30], p[:30], sample_weight=w[:30])
        m.update_state(y[30:], p[30:], sample_weight=w[30:])
        assert m.result() == pytest.approx(want, rel=1e-12)
    n = 50
    thresholds = [-1e-7] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + 1e-7]
    rates = [(c[0] / (c[0] + c[3]), c[1] / (c[1] + c[2]))
             for c in (_confusion(y, p, w, t) for t in thresholds)]
    want = sum((rates[i][1] - rates[i + 1][1]) * (rates[i][0] + rates[i + 1][0]) / 2
               for i in range(n - 1))
    auc = keras.metrics.AUC(num_thresholds=n)
    auc.update_state(y, p, sample_weight=w)
    assert auc.result() == pytest.approx(want, rel=1e-12)
    fine = keras.metrics.AUC(num_thresholds=20001)
    fine.update_state(y, p)
    pos, neg = p[y == 1], p[y == 0]  # the exact ROC AUC: P(positive scores higher)
    exact = np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))
    assert fine.result() == pytest.approx(exact, abs=1e-3)
    logits = keras.metrics.AUC(num_thresholds=n, from_logits=True)
    logits.update_state(y, np.log(p + 1e-12) - np.log1p(-p + 1e-12), sample_weight=w)
    assert logits.result() == pytest.approx(want, abs=1e-9)


def test_mean_metric_weighted_and_reset() -> None:
    m = keras.metrics.Mean(name="loss")
    m.update_state([1.0, 2.0, 3.0], sample_weight=[1.0, 0.0, 3.0])
    assert m.result() == pytest.approx((1 + 9) / 4)
    m.reset_state()
    assert m.result() == 0.0 and m(np.array([4.0])) == 4.0


def test_compiled_precision_recall_auc_and_weighted_metrics_match_numpy() -> None:
    rng = np.random.default_rng(9)
    x = rng.normal(size=(90, 3)).astype("float32")
    y = (x[:, 0] + 0.5 * rng.normal(size=90) > 0).astype("float32")
    w = rng.uniform(0.1, 2.0, size=90)
    keras.utils.set_random_seed(9)
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="binary_crossentropy",
                  metrics=["accuracy", "precision", "recall", "auc"],
                  weighted_metrics=["accuracy", keras.metrics.Precision(name="w_precision")])
    history = model.fit(x, y, sample_weight=w, batch_size=30, epochs=1, shuffle=False,
                        verbose=0).history
    assert list(history) == ["loss", "accuracy", "precision", "recall", "auc",
                             "weighted_accuracy", "w_precision"]
    p = model.predict(x, verbose=0)[:, 0].astype(np.float64)
    hit = (p > 0.5) == (y > 0.5)
    tp, fp, _, fn = _confusion(y, p, np.ones(90), 0.5)
    wtp, wfp, _, _ = _confusion(y, p, w, 0.5)
    assert history["accuracy"][0] == pytest.approx(hit.mean())
    assert history["precision"][0] == pytest.approx(tp / (tp + fp), rel=1e-6)
    assert history["recall"][0] == pytest.approx(tp / (tp + fn), rel=1e-6)
    assert history["weighted_accuracy"][0] == pytest.approx(np.sum(w * hit) / np.sum(w))
    assert history["w_precision"][0] == pytest.approx(wtp / (wtp + wfp), rel=1e-6)
    with pytest.raises(NotImplementedError, match="'rmse' is not a mean over samples"):
        model.compile(loss="mse", weighted_metrics=["rmse"])
    with pytest.raises(NotImplementedError, match="curve='PR'.*Precision/Recall"):
        keras.metrics.AUC(curve="PR")


def test_steps_per_epoch_continues_across_epochs_like_keras3() -> None:
    x = np.arange(100, dtype="float32").reshape(-1, 1) / 100
    model = keras.Sequential([keras.Input(shape=(1,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    per_epoch: list[int] = []
    count = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: per_epoch.append(0),
        on_batch_end=lambda batch, logs: per_epoch.__setitem__(-1, per_epoch[-1] + 1))
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(x, 2 * x, batch_size=10, epochs=4, steps_per_epoch=4,
                            shuffle=False, verbose=0, callbacks=[count])
    assert per_epoch == [4, 4, 2, 4] and history.params["steps"] == 4
    with pytest.raises(ValueError, match="steps_per_epoch must be a positive int"):
        model.fit(x, x, steps_per_epoch=0, verbose=0)


def test_plot_model_draws_the_layer_graph(tmp_path) -> None:
    a, b = keras.Input(shape=(2,), name="a"), keras.Input(shape=(3,), name="b")
    hidden = layers.Dense(2, name="hidden")(b)
    joined = layers.concatenate([a, hidden], name="join")
    model = keras.Model([a, b], layers.Dense(1, name="out")(joined))
    drawing = keras.utils.plot_model(model, str(tmp_path / "model.dot"), show_shapes=True)
    source = drawing.source
    assert "hidden (Dense) | output: (None, 2)" in source and "out (Dense)" in source
    ids = {layer.name: str(id(layer)) for layer in model.layers}
    edges = {(x, y) for x in ids for y in ids if f"{ids[x]} -> {ids[y]}" in source}
    assert edges == {("b", "hidden"), ("a", "join"), ("hidden", "join"), ("join", "out")}
    assert (tmp_path / "model.dot").read_text() == source
    chain = keras.utils.plot_model(keras.Sequential([keras.Input(shape=(2,), name="x"),
                                                     layers.Dense(3, name="d")]), None)
    assert "x (InputLayer)" in chain.source and chain.source.count("->") == 1


def test_call_gets_the_training_flag_in_fit_predict_and_direct_calls() -> None:
    """Regression: ``call(self, inputs, training=None)`` used to get ``None`` always (the
    guide's CustomDropout never dropped in ``fit``, silently)."""
    seen: list = []

    class Spy(layers.Layer):
        def call(self, inputs, training=None):
            seen.append(("layer", training))
            return inputs

    class SpyModel(keras.Model):
        def __init__(self):
            super().__init__()
            self.spy = Spy()
            self.out = layers.Dense(1)

        def call(self, inputs, training=None):
            seen.append(("model", training))
            return self.out(self.spy(inputs))

    model = SpyModel()
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 2))
    model.predict(x, verbose=0)
    seen.clear()
    model.fit(x, np.ones(4), batch_size=4, verbose=0, diagnostics=False)
    assert seen == [("model", True), ("layer", True)]
    seen.clear()
    model.predict(x, verbose=0)
    model(x, training=True)
    Spy()(x, training=True)
    assert seen == [("model", False), ("layer", False), ("model", True), ("layer", True),
                    ("layer", True)]


def test_super_train_step_and_validation_of_several_outputs() -> None:
    class Counting(keras.Model):
        steps = 0

        def train_step(self, data):
            Counting.steps += 1
            return super().train_step(data)

    def build(cls):
        keras.utils.set_random_seed(11)
        inputs = keras.Input(shape=(3,))
        hidden = layers.Dense(4, activation="tanh")(inputs)
        model = cls(inputs, [layers.Dense(1, name="o1")(hidden),
                             layers.Dense(2, name="o2")(hidden)])
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss=["mse", "mae"],
                      loss_weights=[1.0, 0.5], metrics=[["mae"], []])
        return model

    rng = np.random.default_rng(11)
    x, y1, y2 = rng.random((40, 3)), rng.random((40, 1)), rng.random((40, 2))
    runs = []
    for cls in (Counting, keras.Model):
        model = build(cls)
        history = model.fit(x, [y1, y2], validation_split=0.25, batch_size=10, epochs=2,
                            shuffle=False, verbose=0, diagnostics=False).history
        runs.append((history, model.get_weights()))
    assert Counting.steps == 2 * 3
    (custom, w_custom), (plain, w_plain) = runs
    assert list(plain) == ["loss", "o1_loss", "o2_loss", "o1_mae", "val_loss", "val_o1_loss",
                           "val_o2_loss", "val_o1_mae"]
    for key in plain:
        assert custom[key] == pytest.approx(plain[key], rel=1e-6)
    for a, b in zip(w_custom, w_plain):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert plain["loss"][0] == pytest.approx(plain["o1_loss"][0] + 0.5 * plain["o2_loss"][0])
    model = build(keras.Model)
    val = model.evaluate(x[30:], [y1[30:], y2[30:]], verbose=0, return_dict=True)
    p1, p2 = model.predict(x[30:], verbose=0)
    assert val["o1_loss"] == pytest.approx(np.mean((p1 - y1[30:]) ** 2), rel=1e-5)
    assert val["o2_loss"] == pytest.approx(np.mean(np.abs(p2 - y2[30:])), rel=1e-5)


def _keras_adam_first_step(p: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
    """Keras's Adam, step 1: lr * sqrt(1 - b2) / (1 - b1) * m / (sqrt(v) + 1e-7)."""
    m, v = 0.1 * g, 0.001 * g * g
    return p - lr * np.sqrt(1 - 0.999) / (1 - 0.9) * m / (np.sqrt(v) + 1e-7)


def test_gan_train_step_updates_each_net_with_its_own_optimizer_like_torch(guides) -> None:
    ns, _ = _script(guides, "gan")
    draws = np.random.default_rng(1337)  # keras.random.SeedGenerator(1337)'s stream
    z1 = draws.normal(0.0, 1.0, (64, 4)).astype(np.float32)
    noise = draws.uniform(0.0, 1.0, (128, 1)).astype(np.float32)
    z2 = draws.normal(0.0, 1.0, (64, 4)).astype(np.float32)

    def params(arrays):
        return [torch.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]

    def net(w, x, last=None):
        h = torch.nn.functional.leaky_relu(x @ w[0] + w[1], 0.2) @ w[2] + w[3]
        return h if last is None else last(h)

    bce = torch.nn.functional.binary_cross_entropy_with_logits
    d, g = params(ns["d_initial"]), params(ns["g_initial"])
    real = torch.as_tensor(ns["all_digits"], dtype=torch.float64)
    fake = net(g, torch.as_tensor(z1, dtype=torch.float64), torch.sigmoid)
    labels = torch.cat([torch.ones(64, 1), torch.zeros(64, 1)]).double() + 0.05 * torch.as_tensor(
        noise, dtype=torch.float64)
    d_loss = bce(net(d, torch.cat([fake, real])), labels)
    d_loss.backward()
    d_new = [_keras_adam_first_step(p.detach().numpy(), p.grad.numpy(), 3e-4) for p in d]
    d_after = params(d_new)
    g_loss = bce(net(d_after, net(g, torch.as_tensor(z2, dtype=torch.float64), torch.sigmoid)),
                 torch.zeros(64, 1, dtype=torch.float64))
    for p in g:
        p.grad = None
    g_loss.backward()
    g_new = [_keras_adam_first_step(p.detach().numpy(), p.grad.numpy(), 3e-4) for p in g]
    history = ns["gan_history"].history
    assert history["d_loss"] == pytest.approx([d_loss.item()], rel=1e-5)
    assert history["g_loss"] == pytest.approx([g_loss.item()], rel=1e-5)
    for got, want in zip(ns["d_final"] + ns["g_final"], d_new + g_new):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7)


def test_functional_models_serialize_with_custom_layers_shared_and_nested(tmp_path) -> None:
    """The guide's "Serialization" and "Extend the API using custom layers" sections: a
    graph's config rebuilds it (custom layer classes passed back), and ``save`` /
    ``load_model`` keep shared and nested layers, several inputs and outputs, weights."""

    class CustomDense(layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal",
                                     trainable=True)

        def call(self, inputs):
            return keras.ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {"units": self.units}

    inputs = keras.Input((4,))
    model = keras.Model(inputs, CustomDense(10)(inputs))
    config = model.get_config()
    new_model = keras.Model.from_config(config, custom_objects={"CustomDense": CustomDense})
    assert [type(m).__name__ for m in new_model.layers] == ["InputLayer", "CustomDense"]
    assert new_model.output_shape == (None, 10) and new_model.count_params() == 50
    with pytest.raises(Exception, match="unknown layer class 'CustomDense'"):
        keras.Model.from_config(config)

    a, b = keras.Input(shape=(2,), name="a"), keras.Input(shape=(3,), name="b")
    inner_in = keras.Input(shape=(2,))
    inner = keras.Model(inner_in, layers.Dense(2, activation="tanh")(inner_in), name="inner")
    shared = layers.Dense(2, name="shared")
    joined = layers.add([shared(layers.Dense(2)(a)), shared(inner(layers.Dense(2)(b)))])
    two = keras.Model({"a": a, "b": b}, [joined, layers.Dense(1, name="z")(joined)])
    two.compile(optimizer="adam", loss=["mse", "mse"])
    with pytest.warns(UserWarning, match="several outputs"):
        two.save(tmp_path / "two.npz")
    loaded = keras.models.load_model(tmp_path / "two.npz")
    x = {"a": np.random.default_rng(0).random((3, 2)), "b": np.ones((3, 3))}
    for got, want in zip(loaded.predict(x, verbose=0), two.predict(x, verbose=0)):
        np.testing.assert_array_equal(got, want)
    assert [m.name for m in loaded.layers] == [m.name for m in two.layers]
    assert loaded.count_params() == two.count_params() and not loaded.compiled
    with pytest.raises(Exception, match="arithmetic.*layers.Add"):
        keras.Model(a, a * 2.0).save(tmp_path / "op.npz")


def test_loss_weights_and_weighted_metrics_survive_save_and_load(tmp_path) -> None:
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", loss_weights=0.5,
                  metrics=["accuracy"],
                  weighted_metrics=["accuracy", keras.metrics.MeanAbsoluteError()])
    model.save(tmp_path / "m.npz")
    loaded = keras.models.load_model(tmp_path / "m.npz")
    rng = np.random.default_rng(1)
    x, w = rng.random((8, 2)), np.arange(8.0)
    y = (x[:, 0] > 0.5).astype("float32")
    got = loaded.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert got == model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)[:, 0].astype(np.float64)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert got["loss"] == pytest.approx(0.5 * np.sum(w * bce) / 8, rel=1e-5)
    assert got["mean_absolute_error"] == pytest.approx(np.sum(w * np.abs(p - y)) / w.sum(),
                                                       rel=1e-5)
    assert got["weighted_accuracy"] == pytest.approx(np.sum(w * ((p > 0.5) == y)) / w.sum())


def test_embedding_in_a_functional_model_trains_like_torch(tmp_path) -> None:
    """The guide's ticket model reads word indices through ``layers.Embedding``."""
    keras.utils.set_random_seed(12)
    words = keras.Input(shape=(5,), name="title")
    embedded = layers.Embedding(20, 3, name="embed")(words)
    model = keras.Model(words, layers.Dense(1, name="score")(layers.Flatten()(embedded)))
    assert embedded.shape == (None, 5, 3) and model.count_params() == 60 + 16
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="mse")
    rng = np.random.default_rng(12)
    x, y = rng.integers(0, 15, size=(16, 5)), rng.random((16, 1))  # rows 15-19 unused
    table, kernel, bias = (torch.tensor(a.astype(np.float64), requires_grad=True)
                           for a in model.get_weights())
    pred = table[torch.as_tensor(x)].reshape(16, 15) @ kernel + bias
    loss = ((pred - torch.as_tensor(y)) ** 2).mean()
    loss.backward()
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, diagnostics=False)
    for got, p in zip(model.get_weights(), (table, kernel, bias)):
        np.testing.assert_allclose(got, (p - 0.5 * p.grad).detach().numpy(), rtol=1e-5,
                                   atol=1e-7)
    untouched = sorted(set(range(20)) - set(x.ravel().tolist()))
    moved = model.get_weights()[0] != table.detach().numpy()
    assert untouched and not moved[untouched].any() and moved[x[0]].all()  # rows used move
    model.save(tmp_path / "embed.npz")
    again = keras.models.load_model(tmp_path / "embed.npz")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match=r"indices must be in \[0, 20\)"):
        model.predict(np.full((1, 5), 20), verbose=0)
    with pytest.raises(NotImplementedError, match="mask_zero"):
        layers.Embedding(20, 3, mask_zero=True)
