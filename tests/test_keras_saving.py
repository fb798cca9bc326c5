"""Keras model files that do not fit their model: weights and optimizer state are checked
against the model before anything is assigned, and every problem is a SerializationError
naming the file and the weight."""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import keras
from tinygrad_edu.keras.models import load_model
from tinygrad_edu.serialization import SerializationError, load, save


def _model() -> keras.Sequential:
    keras.backend.clear_session()  # layer names dense, dense_1
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(3, activation="tanh", input_dim=2),
                              keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


@pytest.fixture
def saved(tmp_path):
    """A trained model's file and its content (config, weights, Adam's moments)."""
    model = _model()
    x = np.random.default_rng(0).random((8, 2))
    model.fit(x, x.sum(1, keepdims=True), epochs=2, verbose=0)
    path = tmp_path / "model.npz"
    model.save(path)
    return path, load(path)


def _rewrite(path, content) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save(content, path)


def _refused(path, *patterns, call=load_model):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning on the way to the error
        with pytest.raises(SerializationError) as info:
            call(path)
    msg = str(info.value)
    assert str(path) in msg, msg
    for p in patterns:
        assert p in msg, msg


def test_a_string_kernel_is_refused(saved):
    """The arrays of an .npz written by hand (save() refuses text arrays)."""
    path, _ = saved
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["weights.dense.kernel"] = np.full((2, 3), "0.5")
    np.savez(path, **arrays)
    _refused(path, "entry 'weights.dense.kernel' is an array of strings")


def test_a_kernel_edited_into_text_is_refused(saved):
    path, content = saved
    content["weights"]["dense.kernel"] = "0.5"
    _rewrite(path, content)
    _refused(path, "dense.kernel is a str (0.5), not an array")


def test_complex_weights_are_refused_not_truncated(saved):
    path, content = saved
    content["weights"]["dense_1.kernel"] = content["weights"]["dense_1.kernel"].numpy() + 1j
    _rewrite(path, content)
    _refused(path, "dense_1.kernel is complex (complex64)", "imaginary part")


def test_load_weights_assigns_nothing_unless_every_weight_fits(saved, tmp_path):
    path, content = saved
    content["weights"]["dense_1.bias"] = content["weights"]["dense_1.bias"].numpy() + 1j
    _rewrite(path, content)
    model = _model()
    before = [w.copy() for w in model.get_weights()]
    _refused(path, "do not fit model 'sequential'", "dense_1.bias is complex",
             call=model.load_weights)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # dense.kernel etc. were not overwritten


def _edit_adam_state(content, edit: str) -> None:
    opt = content["optimizer"]
    if edit == "shape":
        opt["state"][0]["m"] = np.zeros((5, 5), np.float32)
    elif edit == "complex":
        opt["state"][1]["v"] = opt["state"][1]["v"] + 1j
    elif edit == "text":
        opt["state"][0]["m"] = "zeros"
    elif edit == "missing":
        del opt["state"][2]["v"]
    elif edit == "index":
        opt["state"][7] = opt["state"][0]
    elif edit == "lr":
        opt["param_groups"][0]["lr"] = -1.0
    elif edit == "iterations":
        opt["param_groups"][0]["iterations"] = 2.5
    elif edit == "params":
        opt["param_groups"][0]["params"] = [0, 1]
    elif edit == "layout":
        opt["param_groups"] = opt["param_groups"] * 2


@pytest.mark.parametrize("edit, message", [
    ("shape", "moment 'm' of dense.kernel has shape (5, 5), the model's weight has (2, 3)"),
    ("complex", "moment 'v' of dense.bias is complex"),
    ("text", "moment 'm' of dense.kernel is a str"),
    ("missing", "the moments of dense_1.kernel are ['m'], expected ['m', 'v']"),
    ("index", "moments for weight number 7, the model has 4 weights"),
    ("lr", "the learning rate -1.0 is not a non-negative number"),
    ("iterations", "the step count 2.5 is not a non-negative integer"),
    ("params", "it is for 2 weights, the model has 4"),
    ("layout", "needs one parameter group"),
])
def test_optimizer_state_that_does_not_fit_is_refused_at_load(saved, edit, message):
    """Before, wrong-shaped moments loaded and crashed the next fit()."""
    path, content = saved
    _edit_adam_state(content, edit)
    _rewrite(path, content)
    _refused(path, "the optimizer state does not fit model 'sequential' (Adam)", message,
             "compile=False")
    assert not load_model(path, compile=False).compiled  # the way around it still works


def test_a_fitting_optimizer_state_resumes_in_the_weights_dtype(saved):
    path, content = saved
    content["optimizer"]["state"][0]["m"] = content["optimizer"]["state"][0]["m"].astype(
        np.float64)
    _rewrite(path, content)
    model = load_model(path)
    moments = model.optimizer._bound.state_dict()["state"][0]
    assert moments["m"].dtype == np.float32 and moments["m"].shape == (2, 3)
    x = np.random.default_rng(1).random((4, 2))
    model.fit(x, x.sum(1, keepdims=True), epochs=1, verbose=0)
    assert model.optimizer.iterations == 3



def _config_paths(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from _config_paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield (*prefix, i)
            yield from _config_paths(v, (*prefix, i))


_CONFIG = {"format": "tinygrad_edu.keras", "version": 1, "class_name": "Sequential",
           "config": {"name": "s", "trainable": True, "layers": [
               {"class_name": "Dense", "config": {
                   "name": "dense", "trainable": True, "dtype": "float32",
                   "batch_input_shape": [None, 2], "units": 3, "activation": "relu",
                   "use_bias": True, "kernel_initializer": "glorot_uniform",
                   "bias_initializer": "zeros"}},
               {"class_name": "Dropout", "config": {"name": "dropout", "rate": 0.1}}]},
           "compile_config": {"optimizer": {"class_name": "SGD", "config": {
               "learning_rate": 0.1, "momentum": 0.9, "clipnorm": 1.0}},
               "loss": "mse", "metrics": ["mae"]}}


_WEIGHTS = {"dense.kernel": np.full((2, 3), 0.5, np.float32), "dense.bias": np.zeros(3, np.float32)}


@pytest.mark.parametrize("where, value, message", [
    (("version",), "1", "its model config has no valid version ('1')"),
    (("compile_config", "optimizer", "config", "clipnorm"), "x",
     "SGD: clipnorm must be a positive number, got 'x'"),
    (("compile_config", "optimizer", "config", "clipnorm"), [1], "got [1]"),
])
def test_edited_config_values_are_refused_at_load(tmp_path, where, value, message):
    """Before, a TypeError at load, or a crash in the first fit() step."""
    config = copy.deepcopy(_CONFIG)
    parent = config
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = value
    save({"keras_config": json.dumps(config), "weights": _WEIGHTS}, tmp_path / "m.npz")
    _refused(tmp_path / "m.npz", message)


@given(where=st.sampled_from(list(_config_paths(_CONFIG))),
       value=st.sampled_from([None, True, -1, 0, 1.5, "x", "relu", [], [None, "2"], {},
                              {"class_name": "Dense"}, float("nan"), "<delete>"]))
def test_any_edit_of_the_model_config_loads_or_says_what_is_wrong(tmp_path_factory, where,
                                                                  value):
    """An edited config is refused with a SerializationError naming the file, or loads."""
    config = copy.deepcopy(_CONFIG)
    parent = config
    for key in where[:-1]:
        parent = parent[key]
    if value == "<delete>":
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    path = tmp_path_factory.mktemp("config") / "m.npz"
    save({"keras_config": json.dumps(config), "weights": _WEIGHTS}, path)
    try:
        load_model(path)
    except SerializationError as e:
        assert str(path) in str(e)
