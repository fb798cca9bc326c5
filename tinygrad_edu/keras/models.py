"""Keras's models: ``Sequential`` and the ``Model`` base class (subclass it and define
``call``), with ``compile`` / ``fit`` / ``evaluate`` / ``predict`` / ``summary`` / ``save``.

``fit``, ``evaluate`` and ``predict`` are ``tinygrad_edu.train``'s loop (Keras's semantics:
``batch_size`` 32, ``validation_split`` takes the last samples before shuffling, ``History``
with ``val_`` keys, ``verbose`` 0/1/2/'auto'), so its diagnostics come along: data far from
unit scale, fewer samples than parameters, a meaningless ``'accuracy'`` on a regression
target, a saturated first tanh/sigmoid layer, dead ReLUs and no gradient reaching the
weights, a NaN or runaway loss (``TrainingDiverged``, naming the epoch and step), and
``predict`` at inputs outside the training data or in its sparse tail are reported as
``TrainingWarning`` / errors; ``fit(..., diagnostics=False)`` turns them off.

>>> import numpy as np
>>> from tinygrad_edu import keras
>>> from tinygrad_edu.keras.layers import Dense
>>> keras.utils.set_random_seed(0)
>>> x = np.random.random_sample((256, 2))
>>> y = x.sum(axis=1)
>>> model = Sequential([Dense(8, activation="relu", input_dim=2), Dense(1)])
>>> model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse",
...               metrics=["mae"])
>>> history = model.fit(x, y, epochs=40, verbose=0)
>>> sorted(history.history), history.history["loss"][-1] < 0.01
(['loss', 'mae'], True)
>>> model.predict(x[:3], verbose=0).shape
(3, 1)
>>> loss, mae = model.evaluate(x, y, verbose=0)
>>> bool(mae < 0.1)
True
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..data import DataLoader
from ..tensor import Tensor
from ..train import evaluate as _evaluate
from ..train import fit as _fit
from ..train import predict as _predict
from ..train.callbacks import Callback, LambdaCallback, TerminateOnNaN
from ..train.errors import TrainingDiverged, TrainingInterrupted, TrainingWarning, user_stacklevel
from ..train.history import History
from ..train.inputs import align_target as _align_target
from ..train.inputs import split_validation
from ..train.progress import format_logs
from . import _multi_io, activations, backend, losses, optimizers
from . import metrics as _metrics
from .functional import (
    KerasTensor,
    flatten,
    graph_nodes,
    is_symbolic,
    run_graph,
    structure_of,
    symbolic_call,
)
from .layers import (
    InputLayer,
    Layer,
    WeightLists,
    _as_inputs,
    _as_tensor,
    _check_name,
    _shapes_of,
    _with_mode,
    adds_losses,
    outermost_call,
    regularization_losses,
    with_training,
)
from .saving import load_model
from .utils import PyDataset

_NOT_BUILT = (
    "This model has not yet been built. Build it by calling it on a batch of data (fit, "
    "predict and evaluate do that), by calling build(input_shape), or give its first layer "
    "input_dim / input_shape (or start a Sequential with keras.Input(shape=...))."
)


def _unsupported(who: str, **given: Any) -> None:
    used = [k for k, v in given.items() if v is not None]
    if used:
        raise NotImplementedError(f"{who}: {', '.join(used)} "
                                  f"{'is' if len(used) == 1 else 'are'} not supported by "
                                  "tinygrad_edu.keras")


def _is_dataset(x: Any) -> bool:
    return isinstance(x, DataLoader) or (
        hasattr(x, "__getitem__") and hasattr(x, "__len__")
        and not isinstance(x, np.ndarray | Tensor | list | tuple | dict))


def _sample_shape(x: Any) -> tuple[int, ...]:
    """The shape of one batch's inputs as the model will see them (1-D x: one feature)."""
    if isinstance(x, DataLoader) and x.batch_size is None:  # items are batches
        item = x.dataset[0]
        first = item[0] if isinstance(item, tuple | list) else item
        return np.shape(first.data if isinstance(first, Tensor) else first)
    if isinstance(x, DataLoader):
        x = x.dataset
    if _is_dataset(x):
        item = x[0]
        first = item[0] if isinstance(item, tuple | list) else item
        arr = np.asarray(first.data if isinstance(first, Tensor) else first)
        return (1, *arr.shape)
    arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    if arr.ndim == 0:
        raise ValueError(f"x must have a first (sample) axis, got a scalar {arr!r}")
    return (len(arr), 1) if arr.ndim == 1 else arr.shape


def _terminated_on_nan(error: TrainingDiverged, callbacks: Any) -> bool:
    """Whether ``fit`` should end quietly, as Keras does, because a ``TerminateOnNaN`` was
    given and the loss became NaN/inf (the batch's update was not applied)."""
    if not any(isinstance(cb, TerminateOnNaN) for cb in callbacks or []):
        return False
    if error.loss is None or math.isfinite(error.loss):
        return False
    print(f"Batch {(error.step or 0) + 1}: Invalid loss, terminating training")
    return True


def _unpack_step(data: Any) -> tuple[Any, Any, Any]:
    """``(x, y, sample_weight)`` of a step's batch (Keras's ``unpack_x_y_sample_weight``)."""
    if not isinstance(data, tuple | list):
        return data, None, None
    if len(data) not in (1, 2, 3):
        raise ValueError(f"a batch is (x,), (x, y) or (x, y, sample_weight), got "
                         f"{len(data)} items")
    return (*data, *(None,) * (3 - len(data)))


def _inputs_only(step: Callable) -> Callable:
    """``step`` given a batch's inputs alone, as Keras gives a ``train_step`` when ``fit``
    got no targets (the loop carries placeholder targets)."""
    def inputs_step(data: tuple) -> Any:
        return step(data[0])

    return inputs_step


def _np_of(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


class _ScaledLoss:
    """A single output's loss times ``compile(loss_weights=w)``."""

    def __init__(self, loss_fn: Callable, weight: Any) -> None:
        if isinstance(weight, list | tuple) and len(weight) == 1:
            weight = weight[0]
        if isinstance(weight, dict | list | tuple):
            raise ValueError(f"compile: loss_weights={weight!r} is for a model with several "
                             "outputs; this one has one, give a number")
        self.loss_fn, self.weight = loss_fn, float(weight)

    def __call__(self, pred: Tensor, target: Any, sample_weight: Any = None) -> Tensor:
        loss = (self.loss_fn(pred, target) if sample_weight is None
                else self.loss_fn(pred, target, sample_weight=sample_weight))
        return loss * self.weight


class _ResetMetrics(Callback):
    """Keras's ``model.reset_metrics()`` at the start of every epoch and evaluation, for a
    model with its own ``train_step`` (whose logs are its metrics' running results)."""

    def __init__(self, model: Model) -> None:
        super().__init__()
        self.keras_model = model

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.keras_model.reset_metrics()

    def on_test_begin(self, logs: dict | None = None) -> None:
        self.keras_model.reset_metrics()


def _functional_arguments(args: tuple, kwargs: dict[str, Any]) -> bool:
    """Whether a Model subclass is being built from inputs and outputs (Keras's rule: two
    positional arguments, or ``inputs`` and ``outputs`` by keyword), symbolic ones."""
    if len(args) == 2 or (len(args) == 1 and "outputs" in kwargs):
        inputs = args[0]
    elif "inputs" in kwargs and "outputs" in kwargs:
        inputs = kwargs["inputs"]
    else:
        return False
    return is_symbolic(inputs)


def _functional_subclass(cls: type) -> type:
    """``cls`` with ``Functional`` mixed in (cached), so a subclass of Model built from
    inputs and outputs is a functional model that keeps the subclass's methods."""
    made = _FUNCTIONAL_SUBCLASSES.get(cls)
    if made is None:
        made = _FUNCTIONAL_SUBCLASSES[cls] = type(cls.__name__, (cls, Functional),
                                                  {"__module__": cls.__module__})
    return made


_FUNCTIONAL_SUBCLASSES: dict[type, type] = {}


def _no_loss(pred: Tensor, target: Any, sample_weight: Any = None) -> Tensor:
    """The compiled loss of a model compiled without one: zero (its layers' ``add_loss``
    terms are the whole loss), connected to the output so ``backward`` runs."""
    return (pred * 0.0).sum()


def _readable_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GB"  # pragma: no cover


class _PenalizedLoss:
    """``loss(pred, y) + sum(model.losses)``: the compiled loss with the regularizers'
    penalties added (a Tensor sum, so their gradients reach the weights)."""

    def __init__(self, loss_fn: Callable, model: Any) -> None:
        self.loss_fn = loss_fn
        self.model = model

    def __call__(self, pred: Tensor, target: Tensor, sample_weight: Any = None) -> Tensor:
        total = (self.loss_fn(pred, target) if sample_weight is None
                 else self.loss_fn(pred, target, sample_weight=sample_weight))
        for penalty in self.model.losses:
            total = total + penalty
        return total


class Model(WeightLists, nn.Module):
    """Base class of Keras models. Subclass it, create layers in ``__init__`` (after
    ``super().__init__()``) and define ``call(self, inputs)``; then ``compile`` / ``fit`` /
    ``predict`` work as for a ``Sequential``. ``Model(inputs, outputs)`` on KerasTensors
    makes a :class:`Functional` model (Keras's functional API).

    >>> import numpy as np
    >>> from tinygrad_edu import keras
    >>> class TwoLayer(keras.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = keras.layers.Dense(4, activation="tanh")
    ...         self.out = keras.layers.Dense(1)
    ...     def call(self, inputs):
    ...         return self.out(self.hidden(inputs))
    >>> model = TwoLayer()
    >>> model.predict(np.zeros((5, 3)), verbose=0).shape, model.count_params()
    ((5, 1), 21)
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        """``keras.Model(inputs, outputs)`` makes a ``Functional`` model (Keras's rule); so
        does a subclass given inputs and outputs (``CustomModel(inputs, outputs)`` with its
        own ``train_step``): it becomes a functional model with the subclass's methods."""
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            return super().__new__(Functional)
        if not issubclass(cls, Functional | Sequential) and _functional_arguments(args, kwargs):
            return super().__new__(_functional_subclass(cls))
        return super().__new__(cls)

    def __init__(self, *args: Any, name: str | None = None, trainable: bool = True,
                 **kwargs: Any) -> None:
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise NotImplementedError(
                f"{type(self).__name__}: a subclass of Model that passes inputs and outputs to "
                "super().__init__() (a subclassed functional model) is not supported by "
                "tinygrad_edu.keras: build keras.Model(inputs, outputs) and use it as a layer "
                "of your subclass, or define call()")
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                            f"{kwargs}")
        super().__init__()
        self.name = _check_name(name, "model") if name is not None else backend.unique_name(
            type(self).__name__)
        self.built = False
        self.training = False  # calls outside fit() are inference, as in Keras
        self.compiled = False
        self.optimizer: Any = None
        self.loss: Any = None
        self.stop_training = False
        self.history: History | None = None
        self._loss_fn: Callable | None = None
        self._metric_specs: list[Any] = []
        self._weighted_specs: Any = None
        self._loss_weights: Any = None
        self._build_input_shape: tuple | None = None
        self._trainable = bool(trainable)

    # ----------------------------------------------------------------- calling
    def call(self, inputs: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define call(self, inputs)")

    def forward(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        return self.call(inputs, *args, **with_training(type(self), kwargs, self.training))

    def __call__(self, inputs: Any, training: bool | None = None, **kwargs: Any) -> Any:
        if is_symbolic(inputs):
            return symbolic_call(self, inputs, _with_mode(kwargs, training))
        x = _as_inputs(inputs, self._dtype())
        if not self.built:
            self.built = True
            self._build_input_shape = _shapes_of(x)
        with outermost_call(self):
            if training is None or training == self.training:
                return nn.Module.__call__(self, x, **kwargs)
            was = self.training
            self.train(bool(training))
            try:
                return nn.Module.__call__(self, x, **kwargs)
            finally:
                self.train(was)

    def _dtype(self) -> np.dtype:
        for p in self.parameters():
            return p.data.dtype
        return np.dtype(backend.floatx())

    def build(self, input_shape: Sequence[int | None]) -> None:
        """Create every layer's weights for inputs of ``input_shape`` (batch axis first;
        ``None`` or a number)."""
        shape = tuple(input_shape)
        batch = 1 if shape[0] is None else shape[0]
        if any(s is None for s in shape[1:]):
            raise ValueError(f"build: every axis but the batch axis must be known, got {shape}")
        was = self.training
        self.eval()
        try:
            with no_grad():
                self(np.zeros((batch, *shape[1:]), dtype=self._dtype()))
        finally:
            self.train(was)
        self._build_input_shape = (None, *shape[1:])

    def _ensure_built(self, x: Any) -> None:
        shape = _sample_shape(x)
        if not self.built:
            self.build((None, *shape[1:]))
        self._check_input(shape)

    def _check_input(self, shape: tuple[int, ...]) -> None:
        expected = self._build_input_shape
        if expected is None:
            return
        want, got = tuple(expected[1:]), tuple(shape[1:])
        if len(want) != len(got) or any(w is not None and w != g for w, g in zip(want, got)):
            raise ValueError(
                f"Input 0 of model {self.name!r} is incompatible with it: expected "
                f"shape={expected}, found shape={tuple(shape)} ({want[-1] if want else 0} "
                f"features per sample expected, the data has {got[-1] if got else 0})"
            )

    # ----------------------------------------------------------------- layers & weights
    @property
    def layers(self) -> list[Layer]:
        """The model's layers (an ``InputLayer`` is not listed, as in Keras)."""
        return [m for m in self.children() if isinstance(m, Layer | Model)
                and not isinstance(m, InputLayer)]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in ``layers``."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in self.layers]}.")

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self.layers:
            layer.trainable = value

    def _sync_trainable(self, allowed: bool = True) -> None:
        """Keras's rule: a layer's weights train only if the layer and every model around
        it are trainable, so ``base.trainable = False`` keeps a layer of ``base`` frozen
        even after ``base.layers[-1].trainable = True`` (Keras then trains nothing of
        ``base``). Run before training and before counting weights."""
        allowed = allowed and self._trainable
        for layer in self.layers:
            if isinstance(layer, Model):
                layer._sync_trainable(allowed)
            else:
                layer._apply_trainable(allowed)

    @property
    def trainable_weights(self) -> list[nn.Parameter]:
        self._sync_trainable()
        return super().trainable_weights

    @property
    def non_trainable_weights(self) -> list[nn.Parameter]:
        self._sync_trainable()
        return super().non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights as numpy arrays, layer by layer (a Dense layer gives
        ``kernel`` of shape (in, out), then ``bias``)."""
        self._require_built("get_weights")
        return [np.array(p.data, copy=True) for p in self.parameters()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set all weights from arrays shaped as ``get_weights()`` returns them."""
        self._require_built("set_weights")
        own = list(self.named_parameters())
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(f"You called `set_weights(weights)` on model {self.name!r} with a "
                             f"weight list of length {len(weights)}, but the model was "
                             f"expecting {len(own)} weights")
        arrays = [np.asarray(w.data if isinstance(w, Tensor) else w) for w in weights]
        for (key, p), w in zip(own, arrays):
            if w.shape != p.data.shape:
                raise ValueError(f"weight {key!r} has shape {p.data.shape}, but the provided "
                                 f"weight has shape {w.shape}")
        for (_, p), w in zip(own, arrays):
            p.data[...] = w
            p._bump_version()

    def count_params(self) -> int:
        """The number of scalar weights."""
        self._require_built("count_params")
        return sum(p.data.size for p in self.parameters())

    @property
    def losses(self) -> list[Tensor]:
        """The losses ``add_loss`` added in the last forward pass, then the penalties of
        every layer's weight regularizers (nested layers included), from the current
        weights (Keras's ``model.losses``); training minimises the loss plus their sum."""
        return regularization_losses(self)

    def _loss_with_penalties(self) -> Callable:
        """The compiled loss, plus ``losses`` when any layer has a regularizer or adds a
        loss: the loss ``fit`` minimises and, as in Keras, reports (``loss``, ``val_loss``,
        ``evaluate``). Compiled without a loss, a model whose layers ``add_loss`` trains on
        those alone."""
        if not adds_losses(self):
            if self._loss_fn is None:
                raise RuntimeError("compile() was called without a loss and no layer calls "
                                   "add_loss(); call compile() with loss=..., e.g. loss='mse'")
            return self._loss_fn
        return _PenalizedLoss(self._loss_fn or _no_loss, self)

    @property
    def input_shape(self) -> tuple:
        """The input shape with the batch axis as ``None`` (``(None, 28, 28, 1)``)."""
        self._require_built("input_shape")
        return tuple(self._build_input_shape)

    @property
    def output_shape(self) -> tuple:
        """The output shape with the batch axis as ``None`` (``(None, 10)``)."""
        self._require_built("output_shape")
        last = self.layers[-1] if self.layers else None
        if last is None or getattr(last, "_build_input_shape", None) is None:
            raise ValueError(f"model {self.name!r}: its output shape is not known "
                             "(a subclassed model's call() decides it)")
        return tuple(last.output_shape)

    def _require_built(self, who: str) -> None:
        if not self.built:
            raise ValueError(f"{who}: {_NOT_BUILT}")

    # ----------------------------------------------------------------- compile
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None,
                loss_weights: Any = None, weighted_metrics: Any = None,
                run_eagerly: bool = False, steps_per_execution: int = 1,
                jit_compile: Any = "auto", **kwargs: Any) -> None:
        """Set the optimizer (a name, a ``keras.optimizers`` instance, or a
        ``tinygrad_edu.optim`` instance), the loss (a name, a ``keras.losses`` object, a
        function ``fn(y_true, y_pred)`` or an ``nn`` loss module) and the metrics.
        ``run_eagerly``, ``steps_per_execution`` and ``jit_compile`` are accepted and have
        no effect (everything runs eagerly)."""
        if kwargs:
            raise TypeError(f"compile: unexpected keyword arguments {sorted(kwargs)}")
        opt = optimizers.get(optimizer)
        outputs = self._output_names()
        if outputs is not None:  # several outputs: one loss and metric list per output
            loss_fn = (_multi_io.MultiLoss(loss, loss_weights, outputs, self._output_shapes())
                       if loss is not None else None)
            specs = metrics if metrics is not None else []
        else:
            loss_fn = losses.as_training_loss(loss) if loss is not None else None
            if loss_fn is not None and loss_weights is not None:
                loss_fn = _ScaledLoss(loss_fn, loss_weights)
            specs = metrics if metrics is not None else []
            _metrics.resolve(specs, weighted_metrics)  # fail now on an unknown name
            specs = list(specs) if isinstance(specs, list | tuple) else [specs]
        # plain attributes even when the loss is an nn module (not a child of the model)
        self.__dict__.update(optimizer=opt, loss=loss, _loss_fn=loss_fn)
        self._loss_weights = loss_weights
        self._metric_specs = specs
        self._weighted_specs = weighted_metrics
        self.__dict__.pop("_metric_objects", None)
        self.compiled = True

    def _resolved_metrics(self) -> list[Any]:
        """Fresh metrics of ``compile(metrics=..., weighted_metrics=...)``, in log order
        (with several outputs: each output's loss, then its metrics)."""
        if isinstance(self._loss_fn, _multi_io.MultiLoss):
            return _multi_io.output_metrics(self._loss_fn, self._metric_specs,
                                            self._weighted_specs)
        return _metrics.resolve(self._metric_specs, self._weighted_specs)

    def _output_names(self) -> list[str] | None:
        """The names of a model's outputs when it has several (else ``None``)."""
        return None

    def _output_shapes(self) -> list[tuple]:
        return []

    def _packings(self, x: Any, y: Any) -> tuple[Any, Any] | None:
        """The layouts that pack several inputs / outputs into one array (``None`` for a
        model with one input and one output)."""
        return None

    # ----------------------------------------------------------------- custom steps
    def train_step(self, data: tuple) -> dict[str, Any]:
        """One training step on a batch ``data = (x, y)`` or ``(x, y, sample_weight)``,
        as Keras 3's torch backend writes it: forward pass, :meth:`compute_loss`,
        ``loss.backward()``, ``optimizer.apply`` on the trainable weights' gradients, the
        metrics updated; returns the logs. ``fit`` runs its own equivalent loop unless a
        subclass overrides this (or ``test_step``): then each batch goes through the
        override, which may call ``super().train_step(data)``."""
        x, y, sample_weight = _unpack_step(data)
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        weights = self.trainable_weights
        if weights:
            loss.backward()
            self.optimizer.apply([w.grad for w in weights], weights)
        else:  # Keras 3's torch trainer says the same, and reports the loss
            warnings.warn("The model does not have any trainable weights.", UserWarning,
                          stacklevel=2)
        return self.compute_metrics(x, y, y_pred, sample_weight, loss)

    def test_step(self, data: tuple) -> dict[str, Any]:
        """One evaluation step (no update): the loss and metrics of the batch, running."""
        x, y, sample_weight = _unpack_step(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                 training=False)
        return self.compute_metrics(x, y, y_pred, sample_weight, loss)

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None,
                     sample_weight: Any = None, training: bool = True) -> Tensor:
        """The compiled loss of ``y_pred`` against ``y`` (weighted per sample with
        ``sample_weight``) plus ``self.losses`` (regularizers, ``add_loss``): the scalar
        Tensor ``fit`` minimises."""
        self._require_compiled("compute_loss")
        y_pred = _as_tensor(y_pred, self._dtype())
        target = _align_target(y_pred, y)
        loss_fn = self._loss_with_penalties()
        return (loss_fn(y_pred, target) if sample_weight is None
                else loss_fn(y_pred, target, sample_weight=_np_of(sample_weight)))

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None,
                        loss: Any = None) -> dict[str, Any]:
        """Update ``self.metrics`` with a batch (the ``'loss'`` tracker with ``loss``) and
        return every metric's result so far."""
        for metric in self.metrics:
            if metric.name == "loss":
                if loss is not None:
                    metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight)
        return {m.name: m.result() for m in self.metrics}

    @property
    def metrics(self) -> list[Any]:
        """Keras 3's ``model.metrics``: a ``Mean`` named ``'loss'``, then the compiled
        metrics (Keras's metric API: ``update_state(y_true, y_pred, sample_weight)``,
        ``result()``, ``reset_state()``); ``[]`` before ``compile``. A subclass may
        override it to list metrics of its own, which ``fit`` then resets every epoch."""
        if not self.compiled:
            return []
        made = self.__dict__.get("_metric_objects")
        if made is None:
            made = [_metrics.Mean(name="loss"),
                    *(_metrics.as_keras_metric(m) for m in self._resolved_metrics())]
            self.__dict__["_metric_objects"] = made
        return list(made)

    def reset_metrics(self) -> None:
        """Reset every metric in ``self.metrics`` (``fit`` does it each epoch)."""
        for metric in self.metrics:
            metric.reset_state()

    def _custom_steps(self) -> tuple[Callable | None, Callable | None]:
        """The overridden ``train_step`` / ``test_step`` (``None`` when not overridden and
        the model has weights to train); overriding one runs both batch loops through the
        steps. A model without trainable weights trains through :meth:`train_step` too,
        which reports its loss and updates nothing, as in Keras."""
        cls = type(self)
        if cls.train_step is Model.train_step and cls.test_step is Model.test_step \
                and self.trainable_weights:
            return None, None
        return self.train_step, self.test_step

    def _require_compiled(self, who: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"You must call compile() before {who}(): the model has no "
                               "optimizer and loss yet, e.g. model.compile(optimizer='adam', "
                               "loss='mean_squared_error'); call compile() first")

    def _bound_optimizer(self) -> Any:
        self._sync_trainable()
        params = list(self.parameters())
        if not params:
            raise ValueError(f"model {self.name!r} has no weights to train")
        opt = self.optimizer
        if isinstance(opt, optimizers.Optimizer):
            return opt.build(params)
        own = {id(p) for p in params}
        theirs = {id(p) for g in opt.param_groups for p in g["params"]}
        if not own & theirs:
            raise ValueError(
                f"the {type(opt).__name__} given to compile() updates none of this model's "
                "weights (was it created from another model's parameters?); pass "
                "optim.X(model.parameters(), ...) or a keras optimizer such as "
                "keras.optimizers.Adam()"
            )
        return opt

    # ----------------------------------------------------------------- fit
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None,
            epochs: int = 1, verbose: Any = "auto", callbacks: Iterable[Callback] | None = None,
            validation_split: float = 0.0, validation_data: Any = None, shuffle: bool = True,
            class_weight: Any = None, sample_weight: Any = None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None,
            validation_batch_size: int | None = None, validation_freq: int = 1,
            diagnostics: Any = True) -> History:
        """Train for ``epochs`` epochs on ``(x, y)`` (arrays or tensors; or ``x`` a
        ``tinygrad_edu.data`` Dataset/DataLoader of ``(x, y)`` pairs and ``y=None``);
        returns the ``History`` (also kept as ``model.history``). Keras's arguments and
        defaults; ``diagnostics`` is tinygrad_edu's (see ``tinygrad_edu.train.fit``).
        ``x`` may be a ``keras.utils.PyDataset`` of batches. ``sample_weight`` (one weight
        per sample) or ``class_weight`` (``{class: weight}``) multiply each sample's loss:
        the loss is ``sum(w * loss) / n``, metrics are unweighted, and validation samples
        carry only their own weights (``validation_data=(x, y, w)``; with
        ``validation_split`` the held-out part of ``sample_weight``, never class weights).
        A model with its own ``train_step`` may be fit on ``x`` alone (no ``y``): its
        step then receives each batch's inputs, not a tuple, as in Keras.
        Interrupted by Ctrl-C (``TrainingInterrupted``, a ``KeyboardInterrupt``) or stopped
        by ``TrainingDiverged``, it still leaves the finished epochs in ``model.history``."""
        args = dict(locals())
        layouts = self._packings(x, y) if x is not None and not _is_dataset(x) else None
        if layouts is not None:  # several inputs or outputs: fit their packed arrays
            x, y, validation_data = self._packed_data(layouts, x, y, validation_data)
            with _multi_io.packed(self, *layouts):
                del args["self"]
                return self.fit(**{**args, "x": x, "y": y, "validation_data": validation_data})
        self._require_compiled("fit")
        _unsupported("fit", validation_steps=validation_steps)
        if validation_freq != 1:
            raise NotImplementedError("fit: validation_freq other than 1 is not supported")
        if class_weight is not None and sample_weight is not None:
            raise ValueError("fit: pass class_weight or sample_weight, not both (Keras refuses "
                             "the pair too); multiply the class weights into sample_weight")
        if diagnostics and self._output_names() is None:
            self._check_output_fits_loss()
        x_only = (y is None and x is not None and not _is_dataset(x)
                  and type(self).train_step is not Model.train_step)
        if x_only:  # a train_step of its own may train on inputs alone (a GAN's images)
            y = np.zeros(len(_np_of(x)), dtype=np.float32)
        data = self._data(x, y, "fit", sample_weight, shuffle=bool(shuffle))
        if isinstance(x, PyDataset):  # its batches decide; Keras ignores batch_size too
            batch_size = None
            callbacks = [*(callbacks or []),
                         LambdaCallback(on_epoch_end=lambda epoch, logs: x.on_epoch_end())]
        if validation_data is not None:
            validation_data = self._validation_data(validation_data)
        if class_weight is not None:
            data, validation_data, validation_split = self._class_weighted(
                data, class_weight, validation_data, validation_split)
        self._ensure_built(data if _is_dataset(data) else data[0])
        train_step, test_step = self._custom_steps()
        if x_only:
            train_step = _inputs_only(self.train_step)
        opt = self._bound_optimizer() if any(True for _ in self.parameters()) else None
        self.stop_training = False
        if train_step is not None:  # Keras resets model.metrics every epoch and evaluation
            callbacks = [*(callbacks or []), _ResetMetrics(self)]
        try:
            loss_fn = self._loss_with_penalties() if train_step is None else None
            history = _fit(self, loss_fn, opt, data, epochs=epochs,
                           batch_size=batch_size, validation_data=validation_data,
                           validation_split=validation_split, shuffle=bool(shuffle),
                           metrics=self._resolved_metrics(),
                           callbacks=list(callbacks or []), verbose=verbose,
                           initial_epoch=initial_epoch,
                           validation_batch_size=validation_batch_size, diagnostics=diagnostics,
                           steps_per_epoch=steps_per_epoch, train_step=train_step,
                           test_step=test_step)
        except TrainingDiverged as e:
            self.history = e.history  # the finished epochs, as Keras keeps them
            if not _terminated_on_nan(e, callbacks):
                raise
            history = e.history
        except TrainingInterrupted as e:
            self.history = e.history
            raise
        history.params = {"verbose": 1 if verbose == "auto" else verbose,
                          "epochs": epochs, "steps": history.params.get("steps")}
        self.history = history
        return history

    @staticmethod
    def _data(x: Any, y: Any, who: str, sample_weight: Any = None,
              shuffle: bool = False) -> Any:
        """``(x, y)``, ``(x, y, sample_weight)`` or a Dataset / DataLoader given as ``x``
        (a ``PyDataset`` of batches becomes a loader of its batches)."""
        if x is None:
            raise ValueError(f"{who}: x is missing")
        if isinstance(x, PyDataset):
            x = DataLoader(x, batch_size=None, shuffle=shuffle)
        if y is None:
            if _is_dataset(x):
                if sample_weight is not None:
                    raise NotImplementedError(
                        f"{who}: sample_weight with a Dataset / DataLoader is not supported; "
                        f"pass arrays model.{who}(x, y, sample_weight=w)")
                return x
            raise ValueError(f"{who}: y is missing; pass the targets: model.{who}(x, y) (or a "
                             "Dataset / DataLoader of (x, y) pairs as x)")
        return (x, y) if sample_weight is None else (x, y, sample_weight)

    def _check_output_fits_loss(self) -> None:
        """Warn when a cross-entropy loss's ``from_logits`` does not match the activation
        of the last layer (see :func:`.losses.logits_mismatch`)."""
        problem = losses.logits_mismatch(self.loss, self._last_activation())
        if problem is not None:
            warnings.warn(f"model {self.name!r}: {problem}.", TrainingWarning,
                          stacklevel=user_stacklevel())

    def _last_activation(self) -> str | None:
        """The name of the activation a Sequential's output comes out of ('linear' for
        none), when its last layer says so; ``None`` when it cannot tell (a subclassed
        model's call() decides which layer is last)."""
        stack = getattr(self, "_stack", None)
        last = stack[-1] if stack else None
        if isinstance(last, Model):
            return last._last_activation()
        if type(last).__name__ == "Softmax":
            return "softmax"
        spec = getattr(last, "_activation_spec", "unknown")
        return activations.serialize(spec) if spec != "unknown" else None

    def _class_weighted(self, data: Any, class_weight: Any, validation_data: Any,
                        validation_split: float) -> tuple[Any, Any, float]:
        """The training data with each sample weighted by its class; as in Keras, the
        validation samples (held out first, the last ``validation_split`` of them) are
        not weighted."""
        if _is_dataset(data):
            raise NotImplementedError("fit: class_weight with a Dataset / DataLoader is not "
                                      "supported; pass arrays model.fit(x, y, class_weight=...)")
        if validation_split and validation_data is None:
            data, validation_data = split_validation(data, validation_split, False, None,
                                                     self._dtype())
            validation_split = 0.0
        return ((*data, _class_weights_per_sample(class_weight, data)), validation_data,
                validation_split)

    @staticmethod
    def _validation_data(data: Any) -> Any:
        if isinstance(data, PyDataset):
            return DataLoader(data, batch_size=None)
        if isinstance(data, tuple | list):
            if len(data) == 3 and data[2] is None:
                data = data[:2]
            if len(data) not in (2, 3):
                raise ValueError(f"validation_data must be (x_val, y_val) or (x_val, y_val, "
                                 f"val_sample_weight), got a {type(data).__name__} of length "
                                 f"{len(data)}")
            return tuple(data)
        return data

    # ----------------------------------------------------------------- evaluate & predict
    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
                 callbacks: Any = None, return_dict: bool = False) -> Any:
        """The loss on ``(x, y)`` (a float) or, with metrics, ``[loss, *metrics]`` in the
        order of ``compile(metrics=...)``; a dict with ``return_dict=True``. Averaged over
        all samples, in inference mode (Dropout off)."""
        layouts = self._packings(x, y) if x is not None and not _is_dataset(x) else None
        if layouts is not None:
            x, y, _ = self._packed_data(layouts, x, y, None)
            with _multi_io.packed(self, *layouts):
                return self.evaluate(x, y, batch_size=batch_size, verbose=verbose,
                                     sample_weight=sample_weight, steps=steps,
                                     callbacks=callbacks, return_dict=return_dict)
        self._require_compiled("evaluate")
        _unsupported("evaluate", steps=steps)
        data = self._data(x, y, "evaluate", sample_weight)
        if isinstance(x, PyDataset):  # its batches decide, as in Keras
            batch_size = None
        self._ensure_built(data if _is_dataset(data) else data[0])
        resolved = self._resolved_metrics()
        t0 = time.perf_counter()
        _, test_step = self._custom_steps()
        if test_step is not None:
            self.reset_metrics()
        logs = _evaluate(self, None if test_step else self._loss_with_penalties(), data,
                         batch_size=batch_size, metrics=resolved,
                         callbacks=list(callbacks or []), test_step=test_step)
        self._report(verbose, data, batch_size, t0, logs)
        if test_step is not None and not return_dict:  # the step's logs decide, in order
            values = list(logs.values())
            return values[0] if len(values) == 1 else values
        return self._results(logs, resolved, return_dict)

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
                steps: int | None = None, callbacks: Any = None) -> np.ndarray:
        """The model's outputs for ``x`` as a numpy array (inference mode, no gradients,
        ``batch_size`` samples at a time, default 32). Warns (``TrainingWarning``) when
        ``x`` lies outside the inputs of the last ``fit`` or in their sparse tail."""
        layouts = self._packings(x, None) if not _is_dataset(x) else None
        if layouts is not None:
            packed_x = self._packed_data(layouts, x, None, None)[0]
            with _multi_io.packed(self, *layouts):
                out = self.predict(packed_x, batch_size=batch_size, verbose=verbose,
                                   steps=steps, callbacks=callbacks)
            return self._unpacked_outputs(layouts[1], out)
        _unsupported("predict", steps=steps)
        if isinstance(x, PyDataset):  # its batches decide, as in Keras
            x, batch_size = DataLoader(x, batch_size=None), None
        self._ensure_built(x)
        t0 = time.perf_counter()
        out = _predict(self, x, batch_size=batch_size, callbacks=list(callbacks or [])).numpy()
        self._report(verbose, x, batch_size, t0, None)
        return out

    def _packed_data(self, layouts: tuple, x: Any, y: Any, validation_data: Any
                     ) -> tuple[Any, Any, Any]:
        """``x``, ``y`` and ``validation_data`` of a model with several inputs / outputs,
        each packed into one array (see :mod:`._multi_io`)."""
        ins, outs = layouts
        dtype = self._dtype()

        def pack_x(v: Any) -> np.ndarray:
            return ins.pack(_multi_io.by_position(v, [t.name for t in self.inputs],
                                                  "the model's inputs"), dtype)

        def pack_y(v: Any) -> Any:
            if outs is None or v is None:
                return v
            return outs.pack(_multi_io.by_position(v, self._output_names(),
                                                   "the model's outputs"), dtype)

        if outs is not None and isinstance(self._loss_fn, _multi_io.MultiLoss):
            self._loss_fn.target_layout = outs
        if isinstance(validation_data, tuple | list) and len(validation_data) in (2, 3):
            validation_data = (pack_x(validation_data[0]), pack_y(validation_data[1]),
                               *validation_data[2:])
        return pack_x(x), pack_y(y), validation_data

    def _unpacked_outputs(self, outs: Any, out: np.ndarray) -> Any:
        """``predict``'s packed outputs as Keras returns them: a list (or a dict, for a
        dict of outputs) of arrays."""
        if outs is None:
            return out
        parts = outs.split(out)
        names = self._output_names()
        return dict(zip(names, parts)) if isinstance(self.output, dict) else parts

    def _report(self, verbose: Any, data: Any, batch_size: int | None, t0: float,
                logs: dict | None) -> None:
        """Keras's one-line summary of an evaluate/predict run (verbose 1, 2 or 'auto')."""
        if verbose == "auto":
            verbose = 1
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
        if not verbose:
            return
        if isinstance(data, DataLoader):
            steps = len(data)
        else:
            first = data[0] if isinstance(data, tuple) else data
            n = len(first)
            bs = batch_size or 32
            steps = max(1, -(-n // bs))
        secs = time.perf_counter() - t0
        per = secs / steps
        per_text = f"{per * 1e3:.0f}ms/step" if per >= 1e-3 else f"{per * 1e6:.0f}us/step"
        body = format_logs(logs) if logs else ""
        print(f"{steps}/{steps} - {secs:.0f}s - {per_text}" + (f" - {body}" if body else ""))

    # ----------------------------------------------------------------- batches
    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: Any = None, return_dict: bool = False) -> Any:
        """One update on one batch; returns the loss (and metrics) of that batch, before
        the update, as Keras does (a dict with ``return_dict=True``)."""
        self._require_compiled("train_on_batch")
        self._ensure_built(x)
        opt = self._bound_optimizer()
        resolved = self._resolved_metrics()
        data = self._data(x, y, "train_on_batch", sample_weight)
        if class_weight is not None:
            data = (*data, _class_weights_per_sample(class_weight, data))
        h = _fit(self, self._loss_with_penalties(), opt, data, epochs=1,
                 batch_size=_sample_shape(x)[0],
                 shuffle=False, metrics=resolved, verbose=0, diagnostics=False)
        return self._results({k: v[-1] for k, v in h.history.items()}, resolved, return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      return_dict: bool = False) -> Any:
        """``evaluate`` on one batch."""
        return self.evaluate(x, y, batch_size=_sample_shape(x)[0], sample_weight=sample_weight,
                             verbose=0, return_dict=return_dict)

    @staticmethod
    def _results(logs: dict[str, float], resolved: list, return_dict: bool) -> Any:
        """Keras's return value of evaluate / train_on_batch: the logs as a dict, the loss
        alone (no metrics), or ``[loss, *metrics]`` in ``metrics_names`` order."""
        if return_dict:
            return logs
        values = [logs["loss"], *(logs[n] for n in _metrics.names(resolved))]
        return values[0] if len(values) == 1 else values

    @property
    def metrics_names(self) -> list[str]:
        """The names of ``evaluate``'s values, in order: ``['loss', *metrics]``
        (Keras 2's meaning; ``history.history`` uses the same keys)."""
        if not self.compiled:
            return []
        return ["loss", *_metrics.names(self._resolved_metrics())]

    def predict_on_batch(self, x: Any) -> np.ndarray:
        """``predict`` on one batch."""
        return self.predict(x, batch_size=_sample_shape(x)[0], verbose=0)

    # ----------------------------------------------------------------- summary
    def summary(self, line_length: int | None = None, positions: Sequence[float] | None = None,
                print_fn: Callable[[str], Any] | None = None, **kwargs: Any) -> None:
        """Print a table of the layers: name (type), output shape, parameter count, and the
        totals (Keras's layout); for a functional model whose graph is not a chain, a
        "Connected to" column too (``layer[call][output]`` of each input, as Keras writes
        it). ``print_fn`` receives the text line by line."""
        self._require_built("summary")
        self._sync_trainable()
        connections = self._connections()
        line_length = line_length or (65 if connections is None else 98)
        positions = list(positions or ([0.45, 0.85, 1.0] if connections is None
                                       else [0.33, 0.55, 0.67, 1.0]))
        if positions[-1] <= 1:
            positions = [int(line_length * p) for p in positions]
        emit = print_fn or print

        def row(fields: Sequence[str]) -> str:
            line, start = "", 0
            for i, (text, stop) in enumerate(zip(fields, positions)):
                cell = (" " + text if i == 0 else text)[: max(stop - start - 1, 1)]
                line = line.ljust(start) + cell
                start = stop
            return line.rstrip()

        header = ["Layer (type)", "Output Shape", "Param #"]
        lines = [f'Model: "{self.name}"', "_" * line_length,
                 row(header + ([] if connections is None else ["Connected to"])),
                 "=" * line_length]
        for layer in self.layers:
            shape = self._layer_shape(layer)
            count = sum(p.data.size for p in layer.parameters())
            fields = [f"{layer.name} ({type(layer).__name__})", shape, f"{count:,}"]
            if connections is not None:
                fields.append(connections.get(id(layer), "-"))
            lines.append(row(fields))
        total = sum(p.data.size for p in self.parameters())
        trainable = sum(p.data.size for p in self.parameters() if p.requires_grad)
        nbytes = sum(p.data.nbytes for p in self.parameters())
        tbytes = sum(p.data.nbytes for p in self.parameters() if p.requires_grad)
        lines += ["=" * line_length,
                  f"Total params: {total:,} ({_readable_size(nbytes)})",
                  f"Trainable params: {trainable:,} ({_readable_size(tbytes)})",
                  f"Non-trainable params: {total - trainable:,} "
                  f"({_readable_size(nbytes - tbytes)})",
                  "_" * line_length]
        for line in lines:
            emit(line)

    def _layer_shape(self, layer: Any) -> str:
        """The output shape of ``layer`` as ``summary`` prints it."""
        return _shape_text(layer)

    def _connections(self) -> dict[int, str] | None:
        """``summary``'s "Connected to" entries by layer id (``None``: no such column)."""
        return None

    # ----------------------------------------------------------------- saving
    def save(self, filepath: str | os.PathLike, overwrite: bool = True,
             include_optimizer: bool = True) -> None:
        """Save architecture (a JSON config), weights and, when compiled with a Keras
        optimizer, the optimizer state to ``.npz`` or ``.safetensors``
        (see :mod:`.saving`)."""
        from .saving import save_model

        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath: str | os.PathLike, overwrite: bool = True) -> None:
        """Save only the weights (a state dict: ``'dense.kernel'``, ...)."""
        from .saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: str | os.PathLike) -> None:
        """Load weights saved by ``save_weights`` or ``save`` into this (built) model."""
        from .saving import load_weights

        load_weights(self, filepath)

    @classmethod
    def from_config(cls, config: dict[str, Any],
                    custom_objects: dict[str, Any] | None = None) -> Model:
        """A new model (new weights) from ``get_config()``'s output: a functional model's
        graph (custom layer classes come from ``custom_objects``), else ``cls(**config)``
        (Keras's rule for a subclassed model whose ``get_config`` gives its arguments)."""
        if isinstance(config, dict) and "nodes" in config and "layers" in config:
            from .saving import build_functional

            return build_functional(config, dict(custom_objects or {}), "from_config")
        return cls(**config)

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__}: a subclassed model has no config; "
                                  "save its weights with save_weights() and rebuild it in code")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _class_weights_per_sample(class_weight: Any, data: tuple) -> np.ndarray:
    """Keras's ``class_weight``: each sample's weight is its class's entry (the label for
    integer targets, the argmax of one-hot rows, the 0/1 value of a binary target);
    classes missing from the dict weigh 1, as in Keras 3."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"fit: class_weight must be a dict {{class index: weight}}, got "
                        f"{type(class_weight).__name__}")
    y = data[1]
    y = np.asarray(y.data if isinstance(y, Tensor) else y)
    if y.ndim >= 2 and y.shape[-1] > 1:
        labels = y.argmax(axis=-1)
    else:
        labels = y.reshape(len(y), -1)[:, 0] if y.ndim else y
        if labels.dtype.kind == "f" and not (np.mod(labels, 1) == 0).all():
            raise ValueError("fit: class_weight needs class labels as targets (integers, "
                             "one-hot rows or 0/1), got continuous values")
    labels = labels.astype(np.int64).reshape(-1)
    keys = [int(k) for k in class_weight]
    if labels.size and labels.min() < 0:
        raise ValueError(f"fit: class_weight needs class labels 0, 1, ..., got "
                         f"{int(labels.min())}")
    if labels.size and labels.max() > max(keys):
        raise ValueError(f"fit: class_weight has weights for classes {sorted(keys)}, but the "
                         f"targets hold class {int(labels.max())}; give every class a weight")
    table = np.ones(max(keys) + 1, dtype=np.float64)
    for k, v in class_weight.items():
        table[int(k)] = float(v)
    return table[labels]


def _shape_text(layer: Any) -> str:
    try:
        return str(layer.output_shape)
    except (AttributeError, ValueError):
        return "?"


def _declared_input_shape(layer: Any) -> tuple | None:
    """The input shape a Sequential's first layer fixes: its declared ``input_shape`` /
    ``input_dim``, or, for a layer (or model) already built with weights (reused from
    another model), the shape it was built for."""
    declared = getattr(layer, "_batch_input_shape", None)
    if declared is not None:
        return declared
    built_for = getattr(layer, "_build_input_shape", None)
    if layer.built and built_for is not None and any(True for _ in layer.parameters()):
        return built_for
    return None


class Sequential(Model):
    """A stack of layers, each feeding the next. Layers come as a list or one by one with
    ``add``; the model is built as soon as the input shape is known (from the first layer's
    ``input_dim`` / ``input_shape``, an ``Input``, or the first data it sees).

    >>> from tinygrad_edu import keras
    >>> from tinygrad_edu.keras.layers import Dense
    >>> keras.backend.clear_session()
    >>> model = Sequential()
    >>> model.add(Dense(units=2, activation="relu", input_dim=2))
    >>> model.add(Dense(units=4, activation="relu"))
    >>> model.add(Dense(units=1, activation="relu"))
    >>> [layer.name for layer in model.layers], model.count_params()
    (['dense', 'dense_1', 'dense_2'], 23)
    >>> model.summary()
    Model: "sequential"
    _________________________________________________________________
     Layer (type)                Output Shape              Param #
    =================================================================
     dense (Dense)               (None, 2)                 6
     dense_1 (Dense)             (None, 4)                 12
     dense_2 (Dense)             (None, 1)                 5
    =================================================================
    Total params: 23 (92.00 B)
    Trainable params: 23 (92.00 B)
    Non-trainable params: 0 (0.00 B)
    _________________________________________________________________
    """

    def __init__(self, layers: Iterable[Layer] | None = None, name: str | None = None,
                 trainable: bool = True) -> None:
        super().__init__(name=name, trainable=trainable)
        self._stack: list[Layer] = []
        if layers is not None:
            if isinstance(layers, Layer):
                layers = [layers]
            for layer in layers:
                self.add(layer)

    def add(self, layer: Layer) -> None:
        """Append a layer (built at once if the model's input shape is known); a
        ``keras.Input(...)`` adds its ``InputLayer``."""
        if isinstance(layer, KerasTensor) and layer.node is not None and layer.node.is_input:
            layer = layer.node.layer
        if not isinstance(layer, Layer | Model):
            hint = (" (a tinygrad_edu.nn module: use tinygrad_edu.nn.Sequential for those, or "
                    "the Keras layers here)" if isinstance(layer, nn.Module) else "")
            raise TypeError(f"Only instances of keras Layer can be added to a Sequential "
                            f"model. Received: {layer!r} (of type {type(layer).__name__}){hint}")
        if isinstance(layer, InputLayer) and self._stack:
            raise ValueError("an InputLayer / Input can only be the first layer of a Sequential")
        if any(other.name == layer.name for other in self._stack):
            raise ValueError("All layers added to a Sequential model should have unique names. "
                             f"Name {layer.name!r} is already the name of a layer in this "
                             "model. Update the `name` argument to pass a unique name.")
        if hasattr(self, layer.name):
            raise ValueError(f"layer name {layer.name!r} clashes with the Sequential attribute "
                             "of that name; choose another name")
        shape = self._output_shape_so_far()
        if shape is None and not self._stack:
            shape = _declared_input_shape(layer)
            if shape is not None:
                self._build_input_shape = (None, *shape[1:])
        if shape is not None and not layer.built:
            layer.build(shape)
        elif shape is not None and layer.built and layer._build_input_shape is not None \
                and not isinstance(layer, InputLayer):
            self._check_layer_fits(layer, shape)
        if not self._trainable:
            layer.trainable = False
        self._stack.append(layer)
        self.add_module(layer.name, layer)
        layer.__dict__.setdefault("_sequentials", []).append(self)
        self.__dict__.pop("_traced", None)
        if isinstance(layer, InputLayer):
            self._build_input_shape = layer.shape
        self.built = self._build_input_shape is not None and all(m.built for m in self._stack)

    def _check_layer_fits(self, layer: Layer, shape: tuple) -> None:
        have = layer._build_input_shape
        if tuple(have[1:]) != tuple(shape[1:]):
            raise ValueError(f"layer {layer.name!r} was built for inputs of shape {have}, but "
                             f"the previous layer outputs shape {shape}")

    def _output_shape_so_far(self) -> tuple | None:
        if not self._stack:
            return None
        last = self._stack[-1]
        return last.output_shape if last.built and last._build_input_shape is not None else None

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        del self._modules[layer.name]
        return layer

    def build(self, input_shape: Sequence[int | None] | None = None) -> None:
        """Build every layer for inputs of ``input_shape`` (``(None, features)``)."""
        if input_shape is None:
            if self._build_input_shape is None:
                raise ValueError(f"build: {_NOT_BUILT}")
            input_shape = self._build_input_shape
        shape = (None, *tuple(input_shape)[1:])
        for layer in self._stack:
            if not layer.built:
                layer.build(shape)
            shape = layer.output_shape
        self._build_input_shape = (None, *tuple(input_shape)[1:])
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        x = inputs
        for layer in self._stack:
            x = layer(x)
        return x

    def __call__(self, inputs: Any, training: bool | None = None) -> Any:
        if not self.built:
            x = _as_tensor(inputs, self._dtype())
            self.build((None, *x.shape[1:]))
        return super().__call__(inputs, training=training)

    def _trace_symbolic(self) -> tuple[KerasTensor, KerasTensor] | None:
        """The model's graph on a ``keras.Input`` of its input shape (traced once, when
        asked for): Keras's ``model.inputs`` / ``model.outputs`` and each layer's
        ``input`` / ``output``, for feature extraction with ``keras.Model(inputs,
        outputs)``."""
        traced = self.__dict__.get("_traced")
        if traced is None and self._build_input_shape is not None and self._stack:
            first = self._stack[0]
            if isinstance(first, InputLayer) and first.__dict__.get("_inbound_nodes"):
                x = first.__dict__["_inbound_nodes"][0].outputs[0]
            else:
                from .layers import Input

                x = Input(batch_shape=self._build_input_shape)
            start = x
            for layer in self._stack:
                if not isinstance(layer, InputLayer):
                    x = layer(x)
            traced = self.__dict__["_traced"] = (start, x)
        return traced

    def _symbolic_attr(self, name: str) -> Any:
        traced = self._trace_symbolic()
        if traced is None:
            return super()._symbolic_attr(name)
        tensor = traced[0] if name.startswith("input") else traced[1]
        return [tensor] if name.endswith("s") else tensor

    def get_config(self) -> dict[str, Any]:
        """``{'name': ..., 'layers': [{'class_name': 'Dense', 'config': {...}}, ...]}``; the
        first layer's config carries the input shape."""
        configs = []
        for i, layer in enumerate(self._stack):
            config = layer.get_config()
            if i == 0 and "batch_input_shape" not in config and self._build_input_shape:
                config["batch_input_shape"] = list(self._build_input_shape)
            configs.append({"class_name": type(layer).__name__, "config": config})
        return {"name": self.name, "trainable": self.trainable, "layers": configs}


class Functional(Model):
    """A model made by ``keras.Model(inputs, outputs)``: the graph of layer calls between
    ``keras.Input`` tensors and the outputs (one KerasTensor, a list or a dict of them).
    Its ``layers`` are the ``InputLayer`` s then every layer in the order of the graph, each
    once however often it is called (shared layers share their weights); calling the model
    replays the graph on data given in the order (or, as a dict, by the names) of
    ``inputs``. Models are layers too: call one on KerasTensors to nest it.

    >>> import numpy as np
    >>> from tinygrad_edu import keras
    >>> a, b = keras.Input(shape=(2,), name="a"), keras.Input(shape=(3,), name="b")
    >>> shared = keras.layers.Dense(1, kernel_initializer="ones", name="shared")
    >>> joined = keras.layers.concatenate([shared(a), shared(keras.layers.Dense(2)(b))])
    >>> model = keras.Model([a, b], joined)
    >>> model([np.ones((1, 2)), np.zeros((1, 3))]).tolist()
    [[2.0, 0.0]]
    """

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None,
                 trainable: bool = True) -> None:
        Model.__init__(self, name=name, trainable=trainable)
        self._input_list = _graph_ends(inputs, "inputs")
        self._output_list = _graph_ends(outputs, "outputs")
        for t in self._input_list:
            if t.node is None or not t.node.is_input:
                raise ValueError(f"keras.Model: every input must be made by keras.Input(...), "
                                 f"got {t!r}, the output of layer {t.node.layer.name!r}")
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self._nodes = graph_nodes(self._input_list, self._output_list)
        self._graph_layers: list[Any] = []
        for layer in [t.node.layer for t in self._input_list] + [n.layer for n in self._nodes]:
            if any(layer is seen for seen in self._graph_layers):
                continue
            if layer.name in self._modules or hasattr(type(self), layer.name):
                raise ValueError(f"The name {layer.name!r} is used 2 times in the model. All "
                                 "layer names should be unique.")
            self._graph_layers.append(layer)
            self.add_module(layer.name, layer)
        shapes = [t.shape for t in self._input_list]
        self._build_input_shape = shapes[0] if len(shapes) == 1 else shapes
        self.built = True

    @property
    def layers(self) -> list[Any]:
        """The ``InputLayer`` s, then the graph's layers in order (Keras lists both)."""
        return list(self._graph_layers)

    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._input_list)

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._output_list)

    @property
    def input(self) -> Any:
        return self._inputs_struct

    @property
    def output(self) -> Any:
        return self._outputs_struct

    @property
    def input_shape(self) -> Any:
        shapes = [t.shape for t in self._input_list]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self) -> Any:
        return structure_of(self._outputs_struct, lambda t: t.shape)

    def call(self, inputs: Any) -> Any:
        packing = self.__dict__.get("_packing")
        if packing is not None and isinstance(inputs, Tensor):
            inputs = packing[0].split(inputs)
        computed = run_graph(self._input_list, self._nodes, self._input_values(inputs))
        if packing is not None and packing[1] is not None:
            return _multi_io.join([computed[id(t)] for t in self._output_list])
        return structure_of(self._outputs_struct, lambda t: computed[id(t)])

    def _output_names(self) -> list[str] | None:
        if len(self._output_list) == 1:
            return None
        if isinstance(self._outputs_struct, dict):
            return list(self._outputs_struct)
        return [t.name for t in self._output_list]

    def _output_shapes(self) -> list[tuple]:
        return [t.shape[1:] for t in self._output_list]

    def _packings(self, x: Any, y: Any) -> tuple[Any, Any] | None:
        if (len(self._input_list) == 1 and len(self._output_list) == 1) \
                or "_packing" in self.__dict__:
            return None
        ins = _multi_io.Packing.of(_multi_io.by_position(
            x, [t.name for t in self._input_list], "the model's inputs"))
        outs = None
        if len(self._output_list) > 1:
            names = self._output_names()
            outs = (_multi_io.Packing.of(_multi_io.by_position(y, names, "the model's outputs"))
                    if y is not None else _multi_io.Packing(
                        self._output_shapes(), [np.dtype("float64")] * len(names)))
        return ins, outs

    def _input_values(self, inputs: Any) -> list[Any]:
        """The data for each input, from one array, a list (in the order of ``inputs``) or a
        dict keyed by the inputs' names."""
        wanted = self._input_list
        if isinstance(inputs, dict):
            missing = [t.name for t in wanted if t.name not in inputs]
            if missing:
                raise ValueError(f"model {self.name!r}: no data for the input(s) {missing}; "
                                 f"the dict has keys {sorted(inputs)}")
            return [inputs[t.name] for t in wanted]
        values = list(inputs) if isinstance(inputs, list | tuple) else [inputs]
        if len(values) != len(wanted):
            raise ValueError(f"model {self.name!r} expects {len(wanted)} input(s) "
                             f"{[t.name for t in wanted]}, but it received {len(values)}")
        return values

    def _check_input(self, shape: tuple[int, ...]) -> None:
        if len(self._input_list) == 1 and "_packing" not in self.__dict__:
            super()._check_input(shape)

    def _connections(self) -> dict[int, str] | None:
        """Keras's "Connected to" column, unless the graph is a chain (one input and one
        output, every layer called once on the one output of the call before)."""
        calls: dict[int, int] = {}
        index_of: dict[int, int] = {}  # a call's node id -> its number among its layer's
        for node in self._nodes:
            index_of[id(node)] = calls.get(id(node.layer), 0)
            calls[id(node.layer)] = index_of[id(node)] + 1
        chain = len(self._input_list) == 1 and len(self._output_list) == 1 and all(
            len(node.inbound) == 1 and len(node.outputs) == 1 and calls[id(node.layer)] == 1
            and node.inbound[0] is (self._nodes[i - 1].outputs[0] if i else
                                    self._input_list[0])
            for i, node in enumerate(self._nodes))
        if chain:
            return None
        out: dict[int, list[str]] = {}
        for node in self._nodes:
            refs = [f"{t.node.layer.name}[{index_of.get(id(t.node), 0)}][{t.index}]"
                    for t in node.inbound]
            out.setdefault(id(node.layer), []).extend(refs)
        return {k: ", ".join(v) for k, v in out.items()}

    def _layer_shape(self, layer: Any) -> str:
        """The output shape(s) of ``layer`` in this graph, for ``summary``."""
        if isinstance(layer, InputLayer):
            return str(layer.shape)
        for node in self._nodes:
            if node.layer is layer:
                shapes = [t.shape for t in node.outputs]
                return str(shapes[0] if len(shapes) == 1 else shapes)
        return "?"

    def get_config(self) -> dict[str, Any]:
        """The graph as JSON: every layer's class and config, and every call of a layer
        (in an order that computes each input before it is read) with references
        ``[layer name, call number, output number]`` to the KerasTensors it reads."""
        from .functional import graph_config

        return {"name": self.name, "trainable": self.trainable, **graph_config(self)}


def _graph_ends(structure: Any, what: str) -> list[KerasTensor]:
    """The KerasTensors of ``Model(inputs=..., outputs=...)``, refusing anything else."""
    flat = flatten(structure)
    values = (list(structure.values()) if isinstance(structure, dict)
              else list(structure) if isinstance(structure, list | tuple) else [structure])
    if not flat or len(flat) != len(values):
        raise ValueError(f"keras.Model: {what} must be KerasTensors (from keras.Input and "
                         f"calls of layers on them), a list or a dict of them, got "
                         f"{structure!r}")
    return flat


__all__ = ["Functional", "Model", "Sequential", "load_model"]
