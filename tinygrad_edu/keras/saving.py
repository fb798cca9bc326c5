"""``model.save`` / ``load_model``: architecture, weights and optimizer state in one
``.npz`` or ``.safetensors`` file that loading never executes.

The file is a ``tinygrad_edu.serialization`` file holding

- ``keras_config``: a JSON **string** with the model's class, its layers' configs (class
  names and arguments) and the ``compile()`` settings (optimizer, loss, metrics) when they
  are names or Keras objects;
- ``weights``: the state dict (``'dense.kernel'`` of shape (in, out), ``'dense.bias'``, ...);
- ``optimizer`` (optional): the Keras optimizer's state (moments, iteration count), so
  training resumes where it stopped.

``load_model`` parses the JSON and builds only the layer classes of
:data:`.layers.LAYER_CLASSES` with the stored arguments: a file cannot name code to run. An
activation, initializer or regularizer that was a plain Python function is stored by its
name and must be handed back with ``custom_objects={'name': fn}``. A corrupt, truncated or foreign
file raises ``SerializationError`` saying what is wrong.

>>> import os, tempfile
>>> import numpy as np
>>> from tinygrad_edu import keras
>>> keras.utils.set_random_seed(0)
>>> model = keras.Sequential([keras.layers.Dense(3, activation="relu", input_dim=2),
...                           keras.layers.Dense(1)])
>>> model.compile(optimizer="adam", loss="mse")
>>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
>>> model.save(path)
>>> again = load_model(path)
>>> x = np.random.random_sample((4, 2))
>>> bool((again.predict(x, verbose=0) == model.predict(x, verbose=0)).all())
True
>>> [layer.name for layer in again.layers] == [layer.name for layer in model.layers]
True
>>> again.loss, again.optimizer.iterations == model.optimizer.iterations
('mse', True)
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections import OrderedDict
from typing import Any

import numpy as np

from ..serialization import SerializationError, _non_numeric, check_extension, load, save
from ..tensor import Tensor
from . import losses, optimizers
from . import metrics as _metrics
from .layers import LAYER_CLASSES, Layer, weights_from_file

FORMAT = "tinygrad_edu.keras"
VERSION = 1


def _check_path(filepath: str | os.PathLike, overwrite: bool) -> str:
    path = os.fspath(filepath)
    ext = os.path.splitext(path)[1].lower()
    if ext in (".keras", ".h5", ".hdf5", ".tf", ".pb"):
        raise ValueError(f"{path}: tinygrad_edu.keras saves .npz or .safetensors files, not "
                         f"Keras's own {ext} format; use e.g. model.save('model.npz')")
    check_extension(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists and overwrite=False")
    return path


def _compile_config(model: Any) -> dict[str, Any] | None:
    if not model.compiled:
        return None
    problems = []
    opt = optimizers.serialize(model.optimizer)
    if opt is None:
        problems.append(f"the optimizer ({type(model.optimizer).__name__}) is not a "
                        "keras.optimizers one")
    loss = losses.serialize(model.loss) if model.loss is not None else None
    if model.loss is not None and loss is None:
        problems.append("the loss is a Python function or object")
    if model._output_names() is not None:
        problems.append("the model has several outputs (their losses and metrics are not "
                        "saved)")
    metric_specs = _metric_configs(model._metric_specs, problems)
    weighted_specs = _metric_configs(model._weighted_specs, problems)
    if problems:
        warnings.warn(f"model {model.name!r} is saved without its compile() settings: "
                      f"{'; '.join(problems)}. load_model() returns it uncompiled; call "
                      "compile() again after loading.", UserWarning, stacklevel=4)
        return None
    config = {"optimizer": opt, "loss": loss, "metrics": metric_specs}
    if weighted_specs:
        config["weighted_metrics"] = weighted_specs
    if model._loss_weights is not None:
        config["loss_weights"] = model._loss_weights
    return config


def _metric_configs(specs: Any, problems: list[str]) -> list[Any]:
    """``compile``'s metric list as JSON (names, or the built-in classes by name); what
    cannot be saved is added to ``problems``."""
    out: list[Any] = []
    if specs is None:
        return out
    for m in specs if isinstance(specs, list | tuple) else [specs]:
        if isinstance(m, str):
            out.append(m)
        elif type(m) in _SAVABLE_METRICS.values():
            out.append({"class_name": type(m).__name__})
        else:
            problems.append(f"the metric {getattr(m, 'name', m)!r} is a Python function or "
                            "object")
    return out


_SAVABLE_METRICS = {cls.__name__: cls for cls in (
    _metrics.MeanSquaredError, _metrics.RootMeanSquaredError, _metrics.MeanAbsoluteError,
    _metrics.R2Score, _metrics.BinaryAccuracy, _metrics.CategoricalAccuracy,
    _metrics.SparseCategoricalAccuracy)}


def _config_json(model: Any, compile_config: dict | None) -> str:
    try:
        config = model.get_config()
    except NotImplementedError as e:
        raise SerializationError(f"cannot save model {model.name!r}: {e}") from None
    body = {"format": FORMAT, "version": VERSION, "class_name": type(model).__name__,
            "config": config, "compile_config": compile_config}
    return json.dumps(body)


def save_model(model: Any, filepath: str | os.PathLike, overwrite: bool = True,
               include_optimizer: bool = True) -> None:
    """Save ``model`` (architecture, weights, compile settings, optimizer state)."""
    path = _check_path(filepath, overwrite)
    if not model.built:
        raise ValueError(f"save: model {model.name!r} is not built yet, so it has no weights "
                         "to save; fit it, call it on data or give it an input shape first")
    compile_config = _compile_config(model)
    content: dict[str, Any] = {"keras_config": _config_json(model, compile_config),
                               "weights": OrderedDict(model.state_dict())}
    opt = model.optimizer
    if include_optimizer and isinstance(opt, optimizers.Optimizer) and opt.built \
            and compile_config is not None:
        content["optimizer"] = opt._bound.state_dict()
    save(content, path)


def save_weights(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Save the model's weights only (its state dict)."""
    path = _check_path(filepath, overwrite)
    if not model.built:
        raise ValueError(f"save_weights: model {model.name!r} is not built yet")
    save(OrderedDict(model.state_dict()), path)


def _read(filepath: str | os.PathLike) -> tuple[str, Any]:
    path = os.fspath(filepath)
    _check_path(path, True)
    return path, load(path)


def load_weights(model: Any, filepath: str | os.PathLike) -> None:
    """Load weights from a ``save_weights`` or ``save`` file into a built model. Every
    weight is checked (name, shape, a real number dtype) before any is assigned, so a file
    that does not fit leaves the model as it was.

    As in Keras, weights are matched by the model's structure, not by the layers'
    generated names: a file saved from one model loads into a fresh model built by the
    same code (whose layers are ``dense_7``... instead of ``dense``...) when the weights'
    shapes agree in order. With the same names, names decide."""
    path, content = _read(filepath)
    if isinstance(content, dict) and "keras_config" in content:
        content = content.get("weights")
    if not isinstance(content, dict):
        raise SerializationError(f"{path}: holds no weights (a dict of arrays)")
    if not model.built:
        raise ValueError(f"load_weights: build model {model.name!r} first (give it an input "
                         "shape or call it on data), so its weights exist")
    model.load_state_dict(_checked_weights(path, model, _by_structure(content, model),
                                           f"do not fit model {model.name!r}"))


def _by_structure(weights: dict[str, Any], model: Any) -> dict[str, Any]:
    """``weights`` renamed to the model's weight names, in order, when their names differ
    but the shapes agree one by one (the same architecture, other layer names); else as
    they are (and the name check reports the difference)."""
    own = model.state_dict()
    if set(weights) == set(own) or len(weights) != len(own):
        return weights
    shapes = [getattr(v, "shape", None) for v in weights.values()]
    if shapes != [tuple(t.shape) for t in own.values()]:
        return weights
    return OrderedDict(zip(own, weights.values()))


def _array_problem(what: str, value: Any, shape: tuple[int, ...]) -> str | None:
    """Why ``value`` cannot be the weight (or optimizer moment) ``what`` of ``shape``."""
    if isinstance(value, Tensor):
        value = value.data
    if not isinstance(value, np.ndarray):
        return f"{what} is a {type(value).__name__} ({str(value)[:40]}), not an array"
    kind = value.dtype.kind
    if kind == "c":
        return (f"{what} is complex ({value.dtype}); weights are real numbers (casting would "
                "drop the imaginary part)")
    if kind not in "iuf":
        return f"{what} holds {_non_numeric(value.dtype) or 'bools'} ({value.dtype}), not numbers"
    if value.shape != tuple(shape):
        return f"{what} has shape {value.shape}, the model's weight has {tuple(shape)}"
    return None


def _checked_weights(path: str, model: Any, weights: Any, mismatch: str) -> dict[str, Any]:
    """``weights`` if they fit ``model`` exactly (same names, shapes, real numbers), else a
    ``SerializationError`` listing every problem: "{path}: the weights {mismatch}: ..."."""
    if not isinstance(weights, dict):
        raise SerializationError(f"{path}: the file holds no weights (a dict of arrays)")
    own = model.state_dict()
    problems = []
    missing = [k for k in own if k not in weights]
    unexpected = [k for k in weights if k not in own]
    if missing:
        problems.append("Missing key(s): " + ", ".join(map(repr, missing)))
    if unexpected:
        problems.append("Unexpected key(s): " + ", ".join(map(repr, unexpected)))
    problems += [p for k, target in own.items() if k in weights
                 if (p := _array_problem(k, weights[k], target.shape)) is not None]
    if problems:
        raise SerializationError(f"{path}: the weights {mismatch}: " + "; ".join(problems))
    return weights


def _checked_optimizer_state(path: str, model: Any, optimizer: optimizers.Optimizer,
                             state: Any) -> dict[str, Any]:
    """The saved state of ``optimizer`` if it fits ``model``'s weights (moments of each
    weight's shape, real numbers, a sane learning rate and step count), with arrays in the
    weights' dtypes; else a ``SerializationError`` saying what does not fit."""
    named = list(model.named_parameters())

    def bad(problem: str) -> SerializationError:
        return SerializationError(f"{path}: the optimizer state does not fit model "
                                  f"{model.name!r} ({type(optimizer).__name__}): {problem}; "
                                  "the file is corrupt or was edited (load_model(path, "
                                  "compile=False) skips it)")

    if not (isinstance(state, dict) and set(state) == {"state", "param_groups"}
            and isinstance(state["state"], dict) and isinstance(state["param_groups"], list)):
        raise bad("it is not a {'state': ..., 'param_groups': [...]} dict")
    groups = state["param_groups"]
    if len(groups) != 1 or not isinstance(groups[0], dict) \
            or set(groups[0]) != {"lr", "iterations", "params"}:
        raise bad("it needs one parameter group with 'lr', 'iterations' and 'params'")
    group = groups[0]
    lr, step = group["lr"], group["iterations"]
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not 0 <= lr < math.inf:
        raise bad(f"the learning rate {lr!r} is not a non-negative number")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise bad(f"the step count {step!r} is not a non-negative integer")
    if group["params"] != list(range(len(named))):
        raise bad(f"it is for {len(group['params']) if isinstance(group['params'], list) else '?'}"
                  f" weights, the model has {len(named)}")
    moments: dict[int, dict[str, np.ndarray]] = {}
    for index, entry in state["state"].items():
        if isinstance(index, bool) or not isinstance(index, int) \
                or not 0 <= index < len(named):
            raise bad(f"it has moments for weight number {index!r}, the model has "
                      f"{len(named)} weights")
        name, param = named[index]
        expected = optimizer._new_state(param.data)
        if not isinstance(entry, dict) or set(entry) != set(expected):
            keys = sorted(entry) if isinstance(entry, dict) else entry
            raise bad(f"the moments of {name} are {keys!r}, expected {sorted(expected)}")
        for key, value in entry.items():
            problem = _array_problem(f"moment {key!r} of {name}", value, param.shape)
            if problem is not None:
                raise bad(problem)
        moments[index] = {k: np.array(v.data if isinstance(v, Tensor) else v,
                                      dtype=param.data.dtype) for k, v in entry.items()}
    return {"state": moments, "param_groups": [dict(group)]}


def _custom(spec: Any, custom_objects: dict[str, Any], path: str) -> Any:
    """Resolve ``{'custom': name}`` (a saved Python function) from ``custom_objects``."""
    if isinstance(spec, dict) and set(spec) >= {"custom"}:
        name = spec["custom"]
        if name not in custom_objects:
            raise SerializationError(
                f"{path}: layer {spec.get('layer', '?')!r} uses the Python function "
                f"{name!r}, which a file cannot hold; pass it back: "
                f"load_model(path, custom_objects={{{name!r}: {name}}})"
            )
        return custom_objects[name]
    return spec


def _build_layer(entry: Any, custom_objects: dict[str, Any], path: str) -> Any:
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise SerializationError(f"{path}: malformed layer entry in the model config: "
                                 f"{str(entry)[:80]}")
    name = entry.get("class_name")
    if name == "Sequential":  # a model used as a layer (transfer learning)
        return _build_sequential(entry["config"], custom_objects, path)
    if name == "Functional":
        return build_functional(entry["config"], custom_objects, path)
    cls = LAYER_CLASSES.get(name) if isinstance(name, str) else None
    custom = custom_objects.get(name) if isinstance(name, str) else None
    if cls is None and isinstance(custom, type) and issubclass(custom, Layer):
        cls = custom
    if cls is None:
        raise SerializationError(
            f"{path}: unknown layer class {name!r}; known: {', '.join(sorted(LAYER_CLASSES))} "
            "(a custom layer class must be given back: load_model(path, "
            f"custom_objects={{{name!r}: {name}}}))")
    config = dict(entry["config"])
    for key, value in config.items():  # activations, initializers, regularizers
        config[key] = _custom(value, custom_objects, path)
    try:
        with weights_from_file():
            return cls.from_config(config)
    except (TypeError, ValueError, MemoryError) as e:
        raise SerializationError(f"{path}: cannot rebuild layer {config.get('name')!r} "
                                 f"({cls.__name__}) from its config: {e}") from None


def _parse_config(path: str, content: Any) -> dict[str, Any]:
    if not isinstance(content, dict) or "keras_config" not in content:
        kind = ("a state dict (weights only: load it with model.load_weights(path))"
                if isinstance(content, dict) else f"a {type(content).__name__}")
        raise SerializationError(f"{path}: not a tinygrad_edu.keras model file; it holds {kind}")
    text = content["keras_config"]
    try:
        config = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError) as e:
        raise SerializationError(f"{path}: its model config is not valid JSON ({e}); the file "
                                 "is corrupt") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise SerializationError(f"{path}: its model config is not a {FORMAT} config")
    version = config.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SerializationError(f"{path}: its model config has no valid version "
                                 f"({version!r}); the file is corrupt or was edited")
    if version > VERSION:
        raise SerializationError(f"{path}: written by a newer tinygrad_edu.keras (config "
                                 f"version {version}); upgrade tinygrad_edu")
    if config.get("class_name") not in ("Sequential", "Functional") \
            or not isinstance(config.get("config"), dict):
        raise SerializationError(f"{path}: unsupported model class "
                                 f"{config.get('class_name')!r} (Sequential and functional "
                                 "models are saved)")
    return config


def _build_sequential(body: Any, custom_objects: dict[str, Any], path: str) -> Any:
    """A Sequential from its config: its layers (Sequentials nested in it too), in order."""
    from .models import Sequential

    layers_config = body.get("layers") if isinstance(body, dict) else None
    if not isinstance(layers_config, list):
        raise SerializationError(f"{path}: the model config has no layer list")
    model = Sequential(name=body.get("name"))
    for entry in layers_config:
        layer = _build_layer(entry, custom_objects, path)
        with weights_from_file():
            model.add(layer)
    if body.get("trainable", True) is False:
        model.trainable = False
    return model


def build_functional(body: Any, custom_objects: dict[str, Any], path: str) -> Any:
    """A functional model from its config (see ``Functional.get_config``): its layers, then
    their calls replayed on ``keras.Input`` tensors."""
    from .functional import flatten, from_ref_config, input_tensor
    from .layers import InputLayer
    from .models import Functional

    if not isinstance(body, dict) or not isinstance(body.get("layers"), list) \
            or not isinstance(body.get("nodes"), list):
        raise SerializationError(f"{path}: the functional model config has no layer or call "
                                 "list")
    layers: dict[str, Any] = {}
    tensors: dict[tuple, Any] = {}
    for entry in body["layers"]:
        layer = _build_layer(entry, custom_objects, path)
        key = entry.get("name", layer.name)
        layers[key] = layer
        if isinstance(layer, InputLayer):
            tensors[(key, 0, 0)] = input_tensor(layer)

    def tensor_of(ref: Any) -> Any:
        try:
            return tensors[tuple(ref)]
        except (KeyError, TypeError):
            raise SerializationError(f"{path}: a layer call reads {ref!r}, which no earlier "
                                     "call made; the config is corrupt") from None

    calls: dict[str, int] = {}
    for node in body["nodes"]:
        key = node.get("layer") if isinstance(node, dict) else None
        if key not in layers:
            raise SerializationError(f"{path}: a call of the unknown layer {key!r}")
        out = layers[key](from_ref_config(node.get("args"), tensor_of),
                          **(node.get("kwargs") or {}))
        index = calls.get(key, 0)
        calls[key] = index + 1
        for i, kt in enumerate(flatten(out)):
            tensors[(key, index, i)] = kt
    model = Functional(from_ref_config(body.get("inputs"), tensor_of),
                       from_ref_config(body.get("outputs"), tensor_of), name=body.get("name"))
    if body.get("trainable", True) is False:
        model.trainable = False
    return model


def load_model(filepath: str | os.PathLike, custom_objects: dict[str, Any] | None = None,
               compile: bool = True) -> Any:
    """Rebuild a model saved by ``model.save``: same layers, names and weights, compiled
    with the saved settings (and optimizer state) unless ``compile=False``."""
    path, content = _read(filepath)
    config = _parse_config(path, content)
    custom_objects = dict(custom_objects or {})
    body = config["config"]
    try:
        if config["class_name"] == "Functional":
            with weights_from_file():  # overwritten below: draw nothing
                model = build_functional(body, custom_objects, path)
        else:
            model = _build_sequential(body, custom_objects, path)
    except (TypeError, ValueError, MemoryError, KeyError) as e:
        if isinstance(e, SerializationError):
            raise
        raise SerializationError(f"{path}: cannot rebuild the model from its config: "
                                 f"{e}") from None
    if not model.built:
        raise SerializationError(f"{path}: the saved config does not give the input shape")
    weights = _checked_weights(path, model, content.get("weights"),
                               "do not match the saved architecture (the file is corrupt or "
                               "was edited)")
    compile_config = config.get("compile_config")
    opt_state = None
    if compile and compile_config:
        _compile_from(model, compile_config, path)
        if isinstance(model.optimizer, optimizers.Optimizer) and "optimizer" in content:
            opt_state = _checked_optimizer_state(path, model, model.optimizer,
                                                 content["optimizer"])
    model.load_state_dict(weights)  # everything was checked: from here nothing fails
    if opt_state is not None:
        model.optimizer.build(list(model.parameters())).load_state_dict(opt_state)
    return model


def _compile_from(model: Any, cc: Any, path: str) -> None:
    """``model.compile`` with the saved optimizer, loss and metrics."""
    try:
        optimizer = optimizers.get(cc["optimizer"])
        loss = cc.get("loss")
        if isinstance(loss, dict):
            loss = losses.get(loss)
        def metric_list(key: str) -> list[Any]:
            return [m if isinstance(m, str) else _SAVABLE_METRICS[m["class_name"]]()
                    for m in cc.get(key) or []]

        model.compile(optimizer=optimizer, loss=loss, metrics=metric_list("metrics"),
                      weighted_metrics=metric_list("weighted_metrics") or None,
                      loss_weights=cc.get("loss_weights"))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise SerializationError(f"{path}: cannot restore the compile() settings: "
                                 f"{type(e).__name__}: {e}") from None


__all__ = ["load_model", "load_weights", "save_model", "save_weights"]
