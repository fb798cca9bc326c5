"""Keras's callbacks: ``tinygrad_edu.train``'s, with Keras's semantics where they differ.

- ``Callback``: the base class. Keras 3's batch hooks ``on_train_batch_begin`` /
  ``on_train_batch_end`` are called (they are what ``fit`` calls ``on_batch_*``).
- ``EarlyStopping``: Keras's rule for ``restore_best_weights``: the best weights are put
  back **only when training stops early** (``tinygrad_edu.train.EarlyStopping`` also
  restores them when the last epoch is reached).
- ``ModelCheckpoint``: saves the whole model with ``model.save`` (architecture and weights,
  ``.npz`` or ``.safetensors``), or only the weights with ``save_weights_only=True``.
- ``LearningRateScheduler``: ``schedule(epoch, lr)`` (or ``schedule(epoch)``) sets the
  learning rate at the start of each epoch; logged as ``learning_rate``.
- ``CSVLogger``: one CSV row per epoch, Keras's columns (``epoch``, then the sorted log
  names), written and flushed as each epoch ends.
- ``History``, ``LambdaCallback``, ``ReduceLROnPlateau``: as in ``tinygrad_edu.train``
  (already Keras's semantics). ``TerminateOnNaN``: with it, a NaN/inf loss ends ``fit``
  quietly (Keras's behaviour) instead of raising ``TrainingDiverged``; the NaN batch's
  update is not applied.

>>> import numpy as np
>>> from tinygrad_edu import keras
>>> keras.utils.set_random_seed(0)
>>> model = keras.Sequential([keras.layers.Dense(1, input_dim=1)])
>>> model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
>>> x = np.linspace(-1, 1, 40).reshape(-1, 1)
>>> stop = EarlyStopping(monitor="loss", patience=2, min_delta=1e-3)
>>> h = model.fit(x, 2 * x, epochs=500, verbose=0, callbacks=[stop])
>>> len(h.epoch) < 500, h.history["loss"][-1] < 1e-2
(True, True)
"""

from __future__ import annotations

import csv
import inspect
import io
import math
import numbers
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ..train import callbacks as _train_callbacks
from ..train.callbacks import (
    LambdaCallback,
    ReduceLROnPlateau,
    TerminateOnNaN,
    _lr_groups,
    noop,
)
from ..train.history import History
from ..train.weights import restore

_INTERNAL_BATCH_KEYS = ("batch_loss", "size")  # tinygrad_edu.train's, not Keras's


def _keras_batch_logs(logs: dict | None) -> dict:
    """A training batch's logs as Keras gives them: the running loss and metrics only."""
    return {k: v for k, v in (logs or {}).items() if k not in _INTERNAL_BATCH_KEYS}


def _as_batch_hook(keras_hook: Callable) -> Callable:
    def hook(self: Any, batch: int, logs: dict | None = None) -> Any:
        return keras_hook(self, batch, _keras_batch_logs(logs))

    hook.__name__ = keras_hook.__name__
    return hook


class Callback(_train_callbacks.Callback):
    """Base class of Keras-style callbacks: override any of Keras 3's hooks,
    ``on_train_begin/end``, ``on_epoch_begin/end``, ``on_train_batch_begin/end`` (``fit``),
    ``on_test_begin/end`` and ``on_test_batch_begin/end`` (``evaluate``, and ``fit``'s
    validation), ``on_predict_begin/end`` and ``on_predict_batch_begin/end``
    (``predict``); ``self.model`` is the Keras model (``self.model.stop_training = True``
    stops training after the epoch). Batch logs hold the running mean of the loss and
    metrics over the epoch's batches so far, as in Keras (``predict``'s: ``'outputs'``).

    >>> class Count(Callback):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.batches = 0
    ...     def on_train_batch_end(self, batch, logs=None):
    ...         self.batches += 1
    >>> c = Count(); c.on_batch_end(0, {}); c.batches
    1
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for keras_name, name in (("on_train_batch_begin", "on_batch_begin"),
                                 ("on_train_batch_end", "on_batch_end")):
            if keras_name in cls.__dict__ and name not in cls.__dict__:
                setattr(cls, name, _as_batch_hook(cls.__dict__[keras_name]))

    @noop
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        pass

    @noop
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        pass

    @noop
    def on_test_begin(self, logs: dict | None = None) -> None:
        pass

    @noop
    def on_test_end(self, logs: dict | None = None) -> None:
        pass

    @noop
    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        pass

    @noop
    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        pass

    @noop
    def on_predict_begin(self, logs: dict | None = None) -> None:
        pass

    @noop
    def on_predict_end(self, logs: dict | None = None) -> None:
        pass

    @noop
    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        pass

    @noop
    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        pass


def refuse_unknown_direction(callback: Any) -> None:
    """With ``mode='auto'``, a monitored metric of your own (a ``keras.metrics.Metric``
    subclass) has no known direction: Keras refuses to guess, and so does this (the name
    rule would take 'min', silently wrong for a count of hits)."""
    if not getattr(callback, "auto_mode", False) or callback.model is None:
        return
    from .metrics import Metric

    base = callback.monitor.removeprefix("val_")
    for spec in getattr(callback.model, "_metric_specs", []):
        custom = isinstance(spec, Metric) or (isinstance(spec, type)
                                              and issubclass(spec, Metric))
        if custom and getattr(spec, "name", None) == base:
            raise ValueError(
                f"{type(callback).__name__} received monitor={callback.monitor!r}, a metric of "
                "your own, and cannot tell whether it should be maximized or minimized. Pass "
                "mode='max' to keep its highest value, or mode='min' for its lowest.")


class EarlyStopping(_train_callbacks.EarlyStopping):
    """Stop training when ``monitor`` (default ``'val_loss'``) has not improved by more than
    ``min_delta`` for ``patience`` epochs; Keras's arguments and defaults
    (``patience=0``, ``mode='auto'``, ``baseline=None``, ``restore_best_weights=False``,
    ``start_from_epoch=0``). With ``restore_best_weights=True`` the weights of the best
    epoch are restored when training stops early, and only then, as in Keras.

    >>> es = EarlyStopping(monitor="loss", patience=1)
    >>> for epoch, loss in enumerate([1.0, 0.5, 0.6]):
    ...     es.on_epoch_end(epoch, {"loss": loss})
    >>> es.stopped_epoch, es.best_epoch
    (2, 1)
    """

    stops_on_improvements_short_of_baseline = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        refuse_unknown_direction(self)
        super().on_train_begin(logs)

    def _stop(self, epoch: int) -> None:
        super()._stop(epoch)
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            restore(self.model, self.best_weights)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


class ModelCheckpoint(_train_callbacks.ModelCheckpoint):
    """Save the model after every epoch (or when ``monitor`` improved, with
    ``save_best_only=True``): ``model.save(path)``, or ``model.save_weights(path)`` with
    ``save_weights_only=True``. ``filepath`` may hold ``{epoch}`` (1-based) and logged
    values, e.g. ``"ckpt/model-{epoch:02d}-{val_loss:.3f}.npz"``; the extension
    (``.npz`` or ``.safetensors``) picks the format. ``initial_value_threshold``: with
    ``save_best_only``, save only values better than it. ``save_freq`` must be
    ``'epoch'`` (saving every N batches is not supported)."""

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss",
                 verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto",
                 save_freq: Any = "epoch", initial_value_threshold: float | None = None) -> None:
        from .saving import _check_path

        _check_path(filepath, overwrite=True)  # Keras's .keras / .weights.h5: say what to use
        if save_freq != "epoch":
            raise NotImplementedError(f"ModelCheckpoint: save_freq={save_freq!r} (every N "
                                      "batches) is not supported by tinygrad_edu.keras; use "
                                      "save_freq='epoch' (the default)")
        super().__init__(filepath, monitor=monitor, verbose=verbose,
                         save_best_only=save_best_only, mode=mode)
        self.save_weights_only = bool(save_weights_only)
        self.initial_value_threshold = initial_value_threshold

    def on_train_begin(self, logs: dict | None = None) -> None:
        refuse_unknown_direction(self)
        super().on_train_begin(logs)
        if self.initial_value_threshold is not None:
            self.best = float(self.initial_value_threshold)

    def _save(self, path: str) -> None:
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


def _takes_lr(schedule: Callable) -> bool:
    """Whether ``schedule`` accepts ``(epoch, lr)`` (Keras 2's form is ``(epoch)``)."""
    try:
        inspect.signature(schedule).bind(0, 0.1)
    except TypeError:
        return False
    except ValueError:  # no signature (a builtin): Keras's form
        return True
    return True


class LearningRateScheduler(Callback):
    """At the start of every epoch set the learning rate to ``schedule(epoch, lr)``
    (``epoch`` 0-based, ``lr`` the current rate) or, for a one-argument function,
    ``schedule(epoch)``; ``verbose=1`` prints each change. The rate in force is logged as
    ``learning_rate`` (so ``history.history['learning_rate']``).

    >>> import numpy as np
    >>> from tinygrad_edu import keras
    >>> model = keras.Sequential([keras.layers.Dense(1, input_dim=1)])
    >>> model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    >>> halve = LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr / 2)
    >>> x = np.linspace(-1, 1, 8).reshape(-1, 1)
    >>> h = model.fit(x, x, epochs=3, verbose=0, callbacks=[halve])
    >>> h.history["learning_rate"], model.optimizer.learning_rate
    ([0.1, 0.05, 0.025], 0.025)
    """

    def __init__(self, schedule: Callable, verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be a function "
                            f"schedule(epoch, lr) -> new lr, got {type(schedule).__name__}")
        self.schedule = schedule
        self.verbose = verbose
        self._two_args = _takes_lr(schedule)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        groups = _lr_groups(self.optimizer, "LearningRateScheduler")
        lr = float(groups[0]["lr"])
        new = self.schedule(epoch, lr) if self._two_args else self.schedule(epoch)
        if isinstance(new, bool) or not isinstance(new, numbers.Real | np.ndarray) \
                or np.ndim(new) != 0 or not math.isfinite(float(new)) or float(new) < 0:
            raise ValueError(f"LearningRateScheduler: the schedule returned {new!r} at epoch "
                             f"{epoch}; it must return the new learning rate, a non-negative "
                             "float (e.g. return lr * 0.9)")
        for g in groups:
            g["lr"] = float(new)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{float(new)}.")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(_lr_groups(self.optimizer,
                                                     "LearningRateScheduler")[0]["lr"])


def _csv_value(value: Any) -> Any:
    """A log value as Keras's CSVLogger writes it (a 1-D array as "[a, b]")."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | np.ndarray) and np.ndim(value) > 0:
        return f"[{', '.join(map(str, value))}]"
    return value


class CSVLogger(Callback):
    """Write one CSV row per epoch to ``filename``: the column ``epoch`` (0-based), then
    every logged value in sorted order (``loss``, ``val_loss``, metrics, and ``val_``
    columns, ``NA`` when there is no validation data), as Keras writes it.

    ``append=False`` starts the file afresh at the start of training; ``append=True`` adds
    to it (the header only when the file is empty or new). Each row is written with one
    ``write`` and flushed with the file closed, so an interrupted run leaves whole rows.

    >>> import os, tempfile
    >>> import numpy as np
    >>> from tinygrad_edu import keras
    >>> model = keras.Sequential([keras.layers.Dense(1, input_dim=1)])
    >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> x = np.linspace(-1, 1, 8).reshape(-1, 1)
    >>> _ = model.fit(x, x, epochs=2, verbose=0, callbacks=[CSVLogger(path)])
    >>> open(path).read().splitlines()[0]
    'epoch,loss,mae,val_loss,val_mae'
    >>> len(open(path).read().splitlines())
    3
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",",
                 append: bool = False) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = bool(append)
        self.keys: list[str] | None = None
        self._write_header = True

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.keys = None
        if self.append and os.path.exists(self.filename):
            self._write_header = os.path.getsize(self.filename) == 0
        else:
            self._write_header = True
            directory = os.path.dirname(self.filename)
            if directory:
                os.makedirs(directory, exist_ok=True)
            with open(self.filename, "w", newline=""):
                pass  # a fresh, empty file now, as Keras's opening it for writing does

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += ["val_" + k for k in self.keys]
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.sep)
        if self._write_header:
            writer.writerow(["epoch", *self.keys])
            self._write_header = False
        writer.writerow([epoch, *(_csv_value(logs.get(k, "NA")) for k in self.keys)])
        with open(self.filename, "a", newline="") as f:
            f.write(buffer.getvalue())
            f.flush()


_NOT_HERE = {
    "TensorBoard": "write the logs with CSVLogger('log.csv') (or plot history.history with "
                   "matplotlib); tinygrad_edu.viz draws the compute graph",
    "BackupAndRestore": "save with ModelCheckpoint(..., save_weights_only=True) and resume "
                        "with model.load_weights(path) and fit(..., initial_epoch=...)",
    "ProgbarLogger": "fit's verbose=1 prints the progress bar",
    "RemoteMonitor": "use a LambdaCallback(on_epoch_end=...) that sends the logs",
    "SwapEMAWeights": "keep an average of the weights in a Callback of your own",
}


def __getattr__(name: str) -> Any:
    if name in _NOT_HERE:
        raise AttributeError(f"keras.callbacks.{name} is not supported by tinygrad_edu.keras: "
                             f"{_NOT_HERE[name]}")
    raise AttributeError(f"module 'tinygrad_edu.keras.callbacks' has no attribute {name!r}")


__all__ = ["CSVLogger", "Callback", "EarlyStopping", "History", "LambdaCallback",
           "LearningRateScheduler", "ModelCheckpoint", "ReduceLROnPlateau", "TerminateOnNaN"]
