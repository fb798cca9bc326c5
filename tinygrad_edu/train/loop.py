"""``fit``, ``evaluate`` and ``predict``: the training loop with Keras's semantics on
PyTorch-style models, losses and optimizers.

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> from tinygrad_edu import nn, optim
>>> _ = tg.manual_seed(0)
>>> x = np.random.default_rng(0).uniform(-1, 1, size=(64, 1)).astype(np.float32)
>>> model = nn.Linear(1, 1)
>>> history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.5), (x, 3 * x + 1),
...               epochs=30, batch_size=16, metrics=["mae"], verbose=0)
>>> sorted(history.history), len(history.epoch)
(['loss', 'mae'], 30)
>>> round(float(model.weight.item()), 2), round(float(model.bias.item()), 2)
(3.0, 1.0)
"""

from __future__ import annotations

import contextlib
import inspect
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .. import dtypes
from ..autograd.grad_mode import no_grad
from ..data import DataLoader
from ..random import Generator
from ..tensor import Tensor
from . import inputs
from .callbacks import Callback, CallbackList
from .coverage import InputDistribution
from .diagnostics import Diagnostics
from .errors import TrainingDiverged, TrainingInterrupted
from .history import History
from .interrupt import sigint_deferred, uninterrupted
from .metrics import Metric, get
from .progress import progress_logger


class Trainer:
    """The state of one ``fit`` call, shared with the callbacks."""

    def __init__(self, model: Any, optimizer: Any, params: dict) -> None:
        self.model = model
        self.optimizer = optimizer
        self.params = params
        self.stop_training = False
        self.epoch = 0


def _model_dtype(model: Any) -> np.dtype:
    params = getattr(model, "parameters", None)
    if params is not None:
        for p in params():
            if p.data.dtype.kind == "f":
                return p.data.dtype
    return dtypes.get_default_dtype()


def _set_mode(model: Any, training: bool) -> None:
    fn = getattr(model, "train", None)
    if callable(fn):
        fn(training)


def _loss_value(loss: Any) -> float:
    data = loss.data if isinstance(loss, Tensor) else None
    if data is None or data.size != 1:
        shape = getattr(data, "shape", None)
        raise ValueError(
            "loss_fn must return a scalar Tensor (one number per batch), got "
            f"{type(loss).__name__}{f' of shape {shape}' if shape is not None else ''}; use a "
            "loss with reduction='mean'"
        )
    return float(data.reshape(()))


def _batch_loss(loss_fn: Any, pred: Tensor, y: Tensor, weight: Any) -> Any:
    """``loss_fn(pred, y)``, or with per-sample weights ``loss_fn(pred, y,
    sample_weight=weight)``: the loss must then weigh each sample's loss itself (Keras's
    losses in ``tinygrad_edu.keras`` do: ``sum(loss_i * w_i) / n``)."""
    if weight is None:
        return loss_fn(pred, y)
    try:
        accepts = "sample_weight" in inspect.signature(loss_fn).parameters
    except (TypeError, ValueError):
        accepts = False
    if not accepts:
        raise TypeError(
            f"sample weights were given but the loss {getattr(loss_fn, '__name__', loss_fn)!r} "
            "does not take sample_weight=; use a loss that weighs each sample (a "
            "tinygrad_edu.keras loss in model.compile), or leave the weights out"
        )
    return loss_fn(pred, y, sample_weight=weight)


def _metrics(metrics: Sequence[Any] | None, warn: bool) -> list[Metric]:
    if metrics is None:
        return []
    if isinstance(metrics, str | Metric) or callable(metrics):
        metrics = [metrics]
    out = [get(m, warn=warn) for m in metrics]
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise ValueError(f"metrics have repeated names: {names}")
    return out


def _update_metrics(metrics: list[Metric], pred: Tensor, y: Tensor, weight: Any) -> None:
    """Add a batch to each metric; one that says ``takes_sample_weight`` (Keras's
    ``weighted_metrics``) also gets the batch's sample weights."""
    for m in metrics:
        if getattr(m, "takes_sample_weight", False):
            m.update(pred, y, weight)
        else:
            m.update(pred, y)


_TEST_HOOKS = ("on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end")
_PREDICT_HOOKS = ("on_predict_begin", "on_predict_end", "on_predict_batch_begin",
                  "on_predict_batch_end")


def _step_data(x: Tensor, y: Any, w: Any) -> tuple:
    """A batch as Keras's ``train_step`` / ``test_step`` receive it."""
    return (x, y) if w is None else (x, y, w)


def step_logs(logs: Any, who: str) -> dict[str, float]:
    """The logs a ``train_step`` / ``test_step`` returned, as numbers (Tensors and arrays of
    one value become floats; a nested dict, such as Keras's ``compile_metrics``, is
    flattened)."""
    if not isinstance(logs, dict):
        raise TypeError(f"{who} must return a dict of logs such as {{'loss': ...}}, got "
                        f"{type(logs).__name__}")
    out: dict[str, float] = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            out.update(step_logs(value, who))
            continue
        arr = np.asarray(value.data if isinstance(value, Tensor) else value)
        if arr.size != 1:
            raise ValueError(f"{who}: the log {key!r} must be one number, got shape "
                             f"{arr.shape}")
        out[key] = float(arr.reshape(()))
    return out


def _run_eval(model: Any, loss_fn: Any, loader: Any, metrics: list[Metric],
              dtype: np.dtype, hooks: CallbackList | None = None,
              test_step: Callable | None = None) -> dict[str, float]:
    """The loss and metrics over ``loader``; with ``hooks``, Keras's ``on_test_begin``,
    ``on_test_batch_begin`` / ``_end`` (the running logs) and ``on_test_end``. With a
    ``test_step``, its logs of the last batch."""
    total, count = 0.0, 0
    for m in metrics:
        m.reset()
    weighted = inputs.yields_sample_weights(loader)
    if hooks is not None:
        hooks.call("on_test_begin", {})
    with no_grad():
        for step, batch in enumerate(loader):
            if hooks is not None:
                hooks.call("on_test_batch_begin", step, {})
            x, y, w = inputs.unpack(batch, weighted)
            if test_step is not None:
                logs = step_logs(test_step(_step_data(inputs.cast_input(x, dtype), y, w)),
                                 "test_step")
                count += 1
                if hooks is not None:
                    hooks.call("on_test_batch_end", step, dict(logs))
                continue
            pred = model(inputs.cast_input(x, dtype))
            y = inputs.align_target(pred, y)
            n = len(y) if y.ndim else 1
            total += _loss_value(_batch_loss(loss_fn, pred, y, w)) * n
            count += n
            _update_metrics(metrics, pred, y, w)
            if hooks is not None:
                hooks.call("on_test_batch_end", step,
                           {"loss": total / count, **{m.name: m.result() for m in metrics}})
    if count == 0:
        raise ValueError("evaluation data is empty")
    if test_step is None:
        logs = {"loss": total / count, **{m.name: m.result() for m in metrics}}
    if hooks is not None:
        hooks.call("on_test_end", dict(logs))
    return logs


def _hooks(callbacks: Iterable[Callback], model: Any, names: tuple[str, ...],
           params: dict) -> CallbackList | None:
    """The callbacks of an ``evaluate`` / ``predict`` run (``None`` when none defines one of
    ``names``), each told the model."""
    cbs = CallbackList(list(callbacks), Trainer(model, None, params))
    return cbs if cbs.wants(*names) else None


def evaluate(model: Any, loss_fn: Any, data: Any, batch_size: int | None = None,
             metrics: Sequence[Any] = (), verbose: int = 0,
             callbacks: Iterable[Callback] = (),
             test_step: Callable | None = None) -> dict[str, float]:
    """The loss and metrics of ``model`` on ``data`` ((x, y), a Dataset or a DataLoader),
    averaged over all samples, in eval mode and without recording gradients. Callbacks get
    Keras's ``on_test_*`` hooks (batch logs: the running loss and metrics).

    >>> import numpy as np
    >>> from tinygrad_edu import nn
    >>> model = nn.Linear(1, 1)
    >>> with __import__("tinygrad_edu").no_grad():
    ...     _ = model.weight.fill_(2.0); _ = model.bias.fill_(0.0)
    >>> evaluate(model, nn.MSELoss(), (np.array([[1.0], [2.0]]), np.array([[2.0], [5.0]])),
    ...          metrics=["rmse"])
    {'loss': 0.5, 'rmse': 0.7071067811865476}
    """
    dtype = _model_dtype(model)
    loader, _ = inputs.as_loader(data, batch_size, False, None, dtype, "evaluate")
    was_training = getattr(model, "training", None)
    _set_mode(model, False)
    try:
        hooks = _hooks(callbacks, model, _TEST_HOOKS, {"steps": len(loader), "verbose": verbose})
        logs = _run_eval(model, loss_fn, loader, _metrics(metrics, warn=True), dtype, hooks,
                         test_step)
    finally:
        if was_training is not None:
            _set_mode(model, was_training)
    if verbose:
        from .progress import format_logs

        print(format_logs(logs))
    return logs


def predict(model: Any, x: Any, batch_size: int | None = None,
            callbacks: Iterable[Callback] = ()) -> Tensor:
    """The model's outputs for inputs ``x`` (array, tensor, or a Dataset/DataLoader of
    ``(x, y)`` or of inputs), in eval mode, without gradients, batch by batch. Callbacks get
    Keras's ``on_predict_*`` hooks (batch logs: ``{'outputs': the batch's outputs}``).

    After ``fit`` the model carries its training inputs' distribution
    (``model.training_distribution``); an array ``x`` that lies outside it or in its sparse
    tail gets a ``TrainingWarning``: the net extrapolates there (see
    :mod:`tinygrad_edu.train.coverage`).

    >>> import numpy as np, warnings
    >>> from tinygrad_edu import nn, optim
    >>> x = np.random.default_rng(0).normal(size=(2000, 1)).astype(np.float32)
    >>> model = nn.Linear(1, 1)
    >>> _ = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, np.sin(x)),
    ...         verbose=0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     at_3 = predict(model, [[3.0]])
    >>> print(caught[0].message)                                    # doctest: +ELLIPSIS
    predict: x = 3 lies in the sparse tail of the training data: only 0.03% of the 2000 ...
    """
    dtype = _model_dtype(model)
    bs = 32 if batch_size is None else batch_size
    was_training = getattr(model, "training", None)
    _set_mode(model, False)
    outs: list[np.ndarray] = []
    hooks = _hooks(callbacks, model, _PREDICT_HOOKS, {"verbose": 0})

    def run(xb: Any) -> None:
        if hooks is not None:
            hooks.call("on_predict_batch_begin", len(outs), {})
        outs.append(model(inputs.cast_input(xb, dtype)).data)
        if hooks is not None:
            hooks.call("on_predict_batch_end", len(outs) - 1, {"outputs": outs[-1]})

    try:
        if hooks is not None:
            hooks.call("on_predict_begin", {})
        with no_grad():
            is_dataset = hasattr(x, "__getitem__") and hasattr(x, "__len__") and not isinstance(
                x, np.ndarray | Tensor | list | tuple)
            if isinstance(x, DataLoader) or is_dataset:
                for batch in x if isinstance(x, DataLoader) else DataLoader(x, bs):
                    run(batch[0] if isinstance(batch, tuple | list) else batch)
            else:
                arr = inputs.to_array(x, "predict: x")
                if arr.ndim == 1:
                    arr = arr.reshape(-1, 1)
                seen = getattr(model, "training_distribution", None)
                if isinstance(seen, InputDistribution):
                    seen.warn(arr)
                for start in range(0, len(arr), bs):
                    run(arr[start:start + bs])
        if hooks is not None:
            hooks.call("on_predict_end", {})
    finally:
        if was_training is not None:
            _set_mode(model, was_training)
    if not outs:
        raise ValueError("predict: no inputs")
    return Tensor._wrap(np.concatenate(outs))


def fit(model: Any, loss_fn: Any, optimizer: Any, data: Any, epochs: int = 1,
        batch_size: int | None = None, validation_data: Any = None,
        validation_split: float = 0.0, shuffle: bool = True,
        metrics: Sequence[Any] = (), callbacks: Iterable[Callback] = (), verbose: Any = 1,
        generator: Generator | None = None, diagnostics: bool | Diagnostics = True,
        initial_epoch: int = 0, shuffle_before_split: bool = False,
        validation_batch_size: int | None = None,
        steps_per_epoch: int | None = None, train_step: Callable | None = None,
        test_step: Callable | None = None) -> History:
    """Train ``model`` to minimise ``loss_fn(model(x), y)`` with ``optimizer``; return a
    ``History`` (``history.history['loss']``, ``['val_loss']``, ``['mae']``...).

    Arguments (Keras's ``Model.fit`` semantics):

    - ``data``: ``(x, y)`` arrays/tensors, a ``Dataset`` of ``(x, y)`` items, or a
      ``DataLoader`` (which then decides batch size and shuffling). Inputs are cast to the
      model's float dtype; a 1-D ``x`` is one feature per sample; targets of shape ``(n,)``
      are matched to predictions of shape ``(n, 1)``. ``(x, y, sample_weight)`` weighs
      each sample's loss (``loss_fn`` is then called with ``sample_weight=``; metrics are
      not weighted, as Keras's compiled metrics); ``validation_data`` may carry weights too.
    - ``batch_size``: samples per update (default 32).
    - ``shuffle``: reshuffle the training samples every epoch, with ``generator`` (default:
      the global generator, seeded by ``tinygrad_edu.manual_seed``).
    - ``validation_data``: ``(x_val, y_val)``, a Dataset or a DataLoader, evaluated after
      every epoch (``val_loss``, ``val_<metric>``).
    - ``validation_split``: a fraction of the training data to hold out for validation.
      As in Keras, it is the **last** fraction of the samples, taken **before** shuffling:
      if your data is sorted (by target, by date), the validation set is its tail, not a
      random sample. Pass ``shuffle_before_split=True`` for a seeded random hold-out.
    - ``metrics``: names ('mse', 'rmse', 'mae', 'r2', 'accuracy', 'binary_accuracy',
      'categorical_accuracy'), ``Metric`` objects or functions ``fn(pred, target)``.
      Training metrics are computed on each batch's predictions during the epoch, as in
      Keras; ``rmse`` is the true RMSE.
    - ``callbacks``: ``Callback`` objects (``EarlyStopping``, ``ModelCheckpoint``, ...).
    - ``verbose``: 0 silent, 1 a progress bar per epoch (one line per epoch when stdout is
      not a terminal or notebook), 2 one line per epoch.
    - ``diagnostics``: on by default (see :mod:`tinygrad_edu.train.diagnostics`): a NaN/inf
      loss, or one that runs away by orders of magnitude, raises ``TrainingDiverged``
      naming epoch and step; data far from unit scale, fewer samples than parameters, a
      saturated first tanh/sigmoid layer, a rising loss, vanishing or no gradients and dead
      ReLUs warn (``TrainingWarning``, once each). The training inputs' distribution is
      kept as ``model.training_distribution`` for :func:`predict` to warn about queries
      outside it. ``False`` turns all this off; a ``Diagnostics`` object tunes it.
    - ``initial_epoch``: the epoch to start counting from (to resume training).
    - ``train_step`` / ``test_step``: ``fn(data) -> logs`` run on each training /
      validation batch instead of the built-in step (Keras's overridable
      ``Model.train_step``): ``data`` is ``(x, y)`` or ``(x, y, sample_weight)``, the
      function makes the update itself, and its logs (numbers, or Tensors of one value) are
      the batch's and, from the last batch, the epoch's. ``loss_fn`` is then unused and
      the diagnostics are off.
    - ``steps_per_epoch``: batches per epoch; the batches continue across epochs, a new
      pass over the data starting when one ends (see :class:`~.inputs.StepsPerEpoch`).

    Ctrl-C (``KeyboardInterrupt``) never cuts an optimizer step in half: a step under way
    is finished, then ``fit`` raises :class:`~tinygrad_edu.train.TrainingInterrupted` (a
    ``KeyboardInterrupt``) carrying the ``History`` of the finished epochs (``.history``)
    and saying where it stopped (one line on stderr unless ``verbose=0``).

    The training ``loss`` of an epoch is the mean over its samples of the loss as it was
    when each batch was seen (the weights change during the epoch); ``val_loss`` uses the
    weights at the end of the epoch. The model is put in train mode for training, eval mode
    for validation, and left in the mode it had before.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    diag = (diagnostics if isinstance(diagnostics, Diagnostics)
            else Diagnostics() if diagnostics and train_step is None else None)
    dtype = _model_dtype(model)
    if validation_split and validation_data is None:
        data, validation_data = inputs.split_validation(
            data, validation_split, shuffle_before_split, generator, dtype)
    elif validation_split and validation_data is not None:
        raise ValueError("pass validation_data or validation_split, not both")
    loader, arrays = inputs.as_loader(data, batch_size, shuffle, generator, dtype, "fit")
    if steps_per_epoch is not None:
        loader = inputs.StepsPerEpoch(loader, steps_per_epoch)
    val_loader = None
    if validation_data is not None:
        val_bs = validation_batch_size or batch_size
        val_loader, _ = inputs.as_loader(validation_data, val_bs, False, None, dtype,
                                         "fit: validation_data")
    steps = len(loader)
    weighted = inputs.yields_sample_weights(loader)
    if steps == 0:
        raise ValueError(f"fit: no training batches ({len(loader.dataset)} samples, "
                         f"batch_size={loader.batch_size}, drop_last={loader.drop_last})")
    train_metrics = _metrics(metrics, warn=diag is not None)
    val_metrics = _metrics(metrics, warn=False) if val_loader is not None else []

    trainer = Trainer(model, optimizer, {"epochs": epochs, "steps": steps, "verbose": verbose,
                                         "metrics": [m.name for m in train_metrics]})
    history = History()
    printer = progress_logger(verbose, epochs, steps)
    cbs = CallbackList([*callbacks, history, *([printer] if printer else [])], trainer)
    test_hooks = cbs.wants(*_TEST_HOOKS)  # Keras calls them around each validation too
    if getattr(model, "stop_training", False) is True:  # Keras's flag, left from a last run
        model.stop_training = False
    _remember_inputs(model, arrays if diag is not None else None)
    was_training = getattr(model, "training", None)
    logs: dict[str, float] = {}
    first = True
    epoch, step, steps_done, stepped = initial_epoch, None, 0, False
    if diag is not None:
        diag.begin(model, optimizer, steps)
    try:
        with sigint_deferred():
            cbs.on_train_begin()
            for epoch in range(initial_epoch, epochs):
                trainer.epoch = epoch
                step = None
                _set_mode(model, True)
                if diag is not None:
                    diag.record(True)
                cbs.on_epoch_begin(epoch)
                for m in train_metrics:
                    m.reset()
                total, count = 0.0, 0
                batch_logs = cbs.wants_batch_logs
                for step, batch in enumerate(loader):
                    stepped = False
                    if batch_logs:
                        cbs.on_batch_begin(step)
                    xb, yb, wb = inputs.unpack(batch, weighted)
                    xb = inputs.cast_input(xb, dtype)
                    if train_step is not None:  # the model's own step makes the update
                        with uninterrupted():
                            logs = step_logs(train_step(_step_data(xb, yb, wb)), "train_step")
                            steps_done, stepped = steps_done + 1, True
                        if batch_logs:
                            cbs.on_batch_end(step, dict(logs))
                        continue
                    if diag is not None:
                        diag.begin_batch(epoch, step)
                    pred = model(xb)
                    yb = inputs.align_target(pred, yb)
                    if first and diag is not None:
                        first = False
                        _first_batch_checks(diag, loss_fn, arrays, loader, xb, yb, pred)
                    loss = _batch_loss(loss_fn, pred, yb, wb)
                    value = _loss_value(loss)
                    if diag is not None:
                        diag.check_loss(value, epoch, step, epochs, (xb, yb))
                    optimizer.zero_grad()
                    loss.backward()
                    if diag is not None and diag.wants_gradients(step):
                        diag.sample_gradients(model, pred)
                    with uninterrupted():  # Ctrl-C waits for the whole step
                        optimizer.step()
                        steps_done, stepped = steps_done + 1, True
                    n = len(yb) if yb.ndim else 1
                    total += value * n
                    count += n
                    _update_metrics(train_metrics, pred, yb, wb)
                    if batch_logs:
                        cbs.on_batch_end(step, {"loss": total / count,
                                                **{m.name: m.result() for m in train_metrics},
                                                "batch_loss": value, "size": n})
                if train_step is None:
                    logs = {"loss": total / max(count, 1),
                            **{m.name: m.result() for m in train_metrics}}
                else:
                    logs = dict(logs)
                if val_loader is not None:
                    if diag is not None:
                        diag.record(False)
                    _set_mode(model, False)
                    val = _run_eval(model, loss_fn, val_loader, val_metrics, dtype,
                                    cbs if test_hooks else None, test_step)
                    _set_mode(model, True)
                    logs.update({"val_" + k: v for k, v in val.items()})
                if diag is not None:
                    diag.end_epoch(epoch, logs["loss"])
                cbs.on_epoch_end(epoch, logs)
                if trainer.stop_training or getattr(model, "stop_training", False) is True:
                    break
            if diag is not None:
                diag.finish()
            cbs.on_train_end(logs)
    except TrainingDiverged as e:
        e.history = history
        raise
    except KeyboardInterrupt as e:  # also a TrainingInterrupted of a fit run by a callback
        message = _interrupted_message(history, epoch, epochs, step, steps, steps_done,
                                       stepped)
        if printer is not None:
            printer.close()
        if verbose:
            print(message, file=sys.stderr)
        raise TrainingInterrupted(message, history, epoch, step, steps_done) from e
    finally:
        if printer is not None:
            printer.close()
        if diag is not None:
            diag.end()
        if was_training is not None:
            _set_mode(model, was_training)
    return history


def _remember_inputs(model: Any, arrays: tuple | None) -> None:
    """Keep the training inputs' distribution on the model for ``predict`` (``None``
    without diagnostics or when the inputs are not known as one array)."""
    dist = InputDistribution.of(arrays[0]) if arrays is not None else None
    with contextlib.suppress(AttributeError, TypeError):  # a model without attributes
        model.training_distribution = dist


def _first_batch_checks(diag: Diagnostics, loss_fn: Any, arrays: tuple | None, loader: Any,
                        xb: Tensor, yb: Tensor, pred: Tensor) -> None:
    """The data checks, on the whole training arrays when known, else on the first batch."""
    src = arrays if arrays is not None else (xb.data, yb.data)
    y_check = src[1] if yb.dtype.kind == "f" else None
    where = "" if arrays is not None else " (in the first batch)"
    try:  # a loader without batching yields whole batches: its length is not a count
        n_samples: int | None = (len(loader.dataset)
                                 if getattr(loader, "batch_size", 1) is not None else None)
    except TypeError:
        n_samples = None
    diag.check_data(np.asarray(src[0]), y_check, where, n_samples)
    diag.check_shapes(pred, yb)
    diag.measure_constant(loss_fn, pred, y_check, yb)
    diag.check_saturation_start()


def _interrupted_message(history: History, epoch: int, epochs: int, step: int | None,
                         steps: int, steps_done: int, stepped: bool) -> str:
    done = len(history.epoch)
    where = (f"epoch {epoch + 1} of {epochs}" if step is None
             else f"epoch {epoch + 1} of {epochs}, step {step + 1} of {steps}")
    this = ("" if step is None else
            " (the step of that batch was applied whole)" if stepped else
            " (the step of that batch was not applied)")
    return (f"fit interrupted (Ctrl-C) in {where}: {steps_done} optimizer steps applied, "
            f"each one whole{this}; the History of the {done} finished epoch"
            f"{'' if done == 1 else 's'} is kept (on the exception as .history).")
