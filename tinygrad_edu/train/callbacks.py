"""Callbacks: code that ``fit`` calls at the start and end of training, epochs and batches.

Keras's names and semantics: ``Callback``, ``EarlyStopping``, ``ModelCheckpoint``,
``LambdaCallback``, ``ReduceLROnPlateau``, ``TerminateOnNaN``. Epochs and batches are
0-based in the hooks; messages count from 1, as the progress bar does.

A callback sees ``self.model``, ``self.optimizer``, ``self.params`` (``epochs``, ``steps``,
``verbose``) and stops training with ``self.stop_training()`` (or Keras's spelling
``self.model.stop_training = True``).

>>> log = []
>>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: log.append((epoch, logs["loss"])))
>>> cb.on_epoch_end(0, {"loss": 0.5})
>>> log
[(0, 0.5)]
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .errors import TrainingWarning, user_stacklevel
from .weights import restore, snapshot

_MAX_NAMES = ("acc", "accuracy", "auc", "r2", "r2_score", "precision", "recall", "f1")


class Callback:
    """Base class: override any of the ``on_*`` methods; ``logs`` is a dict of numbers."""

    def __init__(self) -> None:
        self.trainer: Any = None
        self.model: Any = None
        self.optimizer: Any = None
        self.params: dict[str, Any] = {}

    def set_trainer(self, trainer: Any) -> None:
        """Called by ``fit`` before training: the loop state, model, optimizer and params."""
        self.trainer = trainer
        self.model = trainer.model
        self.optimizer = trainer.optimizer
        self.params = trainer.params

    def stop_training(self) -> None:
        """Ask ``fit`` to stop after the current epoch."""
        if self.trainer is not None:
            self.trainer.stop_training = True

    def on_train_begin(self, logs: dict | None = None) -> None:
        pass

    def on_train_end(self, logs: dict | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        pass


def _overrides(cb: Callback, name: str) -> bool:
    method = getattr(cb, name)
    return getattr(method, "__func__", method) is not getattr(Callback, name)


class CallbackList:
    """Calls a list of callbacks in order; batch hooks only on callbacks that define them.
    ``logs`` is always a dict (``{}`` where there is nothing to log yet), as in Keras."""

    def __init__(self, callbacks: Iterable[Callback], trainer: Any = None) -> None:
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be Callback instances, got {type(cb).__name__}; wrap a "
                    "function in LambdaCallback(on_epoch_end=fn)"
                )
            if trainer is not None:
                cb.set_trainer(trainer)
        self._batch_begin = [c for c in self.callbacks if _overrides(c, "on_batch_begin")]
        self._batch_end = [c for c in self.callbacks if _overrides(c, "on_batch_end")]

    @property
    def wants_batch_logs(self) -> bool:
        return bool(self._batch_begin or self._batch_end)

    def on_train_begin(self, logs: dict | None = None) -> None:
        for cb in self.callbacks:
            cb.on_train_begin({} if logs is None else logs)

    def on_train_end(self, logs: dict | None = None) -> None:
        for cb in self.callbacks:
            cb.on_train_end({} if logs is None else logs)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, {} if logs is None else logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, {} if logs is None else logs)

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        for cb in self._batch_begin:
            cb.on_batch_begin(batch, {} if logs is None else logs)

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        for cb in self._batch_end:
            cb.on_batch_end(batch, {} if logs is None else logs)

    def wants(self, *hooks: str) -> bool:
        """Whether a callback defines one of ``hooks`` (Keras's ``on_test_*`` /
        ``on_predict_*``, which only Keras-style callbacks have) with a body of its own."""
        return any(_defines(cb, hook) for cb in self.callbacks for hook in hooks)

    def call(self, hook: str, *args: Any) -> None:
        """Call ``hook(*args)`` on every callback that defines it."""
        for cb in self.callbacks:
            if _defines(cb, hook):
                getattr(cb, hook)(*args)


def _defines(cb: Callback, hook: str) -> bool:
    """``cb.hook`` exists and is not a base class's empty default (marked ``noop``)."""
    method = getattr(cb, hook, None)
    return method is not None and not getattr(method, "noop", False)


def noop(fn: Callable) -> Callable:
    """Mark a base class's empty hook, so :class:`CallbackList` skips it."""
    fn.noop = True  # type: ignore[attr-defined]
    return fn


def _resolve_mode(mode: str, monitor: str, who: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    base = monitor[4:] if monitor.startswith("val_") else monitor
    return "max" if base.endswith(_MAX_NAMES) else "min"


class _Monitor(Callback):
    """Shared by the callbacks that watch one logged value for improvement."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        super().__init__()
        self.monitor = monitor
        self.auto_mode = mode == "auto"  # the direction was guessed from the name
        self.mode = _resolve_mode(mode, monitor, type(self).__name__)
        self.min_delta = abs(float(min_delta))
        self._warned_missing = False

    def _worst(self) -> float:
        return math.inf if self.mode == "min" else -math.inf

    def _improved(self, current: float, reference: float) -> bool:
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def _current(self, logs: dict | None) -> float | None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            if not self._warned_missing:
                self._warned_missing = True
                hint = (" (val_ metrics exist only with validation_data or validation_split)"
                        if self.monitor.startswith("val_") else "")
                warnings.warn(
                    f"{type(self).__name__} monitors '{self.monitor}', which is not in the logs"
                    f"{hint}; available: {', '.join(sorted(logs or {})) or 'none'}. It does "
                    "nothing.", TrainingWarning, stacklevel=user_stacklevel())
            return None
        return float(value)


class EarlyStopping(_Monitor):
    """Stop training when ``monitor`` has stopped improving for ``patience`` epochs.

    - ``min_delta``: a change smaller than this is no improvement.
    - ``mode``: 'min', 'max' or 'auto' (max for accuracy/r2-like names, else min).
    - ``baseline``: training stops if ``monitor`` has not beaten it within ``patience``
      epochs (improvements that do not beat it do not reset the patience counter).
    - ``start_from_epoch``: epochs of warm-up during which nothing is monitored.
    - ``restore_best_weights``: put back the weights of the best epoch when training ends,
      whether it stopped early *or* ran to the last epoch (Keras restores only when it
      stops early, so a run that peaks at epoch 3 of 10 without triggering keeps epoch 10's
      weights).

    ``stopped_epoch``, ``best_epoch`` (0-based) and ``best`` are set after training.
    ``stops_on_improvements_short_of_baseline`` (True) makes the baseline rule hold also
    while the monitor still improves; Keras's code never stops on an improving epoch, which
    its facade's subclass follows.

    >>> es = EarlyStopping(monitor="val_loss", patience=1)
    >>> for epoch, loss in enumerate([1.0, 0.5, 0.6]):
    ...     es.on_epoch_end(epoch, {"val_loss": loss})
    >>> es.best, es.best_epoch, es.stopped_epoch
    (0.5, 1, 2)
    """

    stops_on_improvements_short_of_baseline = True

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0) -> None:
        super().__init__(monitor, mode, min_delta)
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = int(start_from_epoch)
        self.on_train_begin()

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self._worst()
        self.best_epoch = 0
        self.best_weights: dict | None = None
        self._last_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._last_epoch = epoch
        current = self._current(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = snapshot(self.model)  # the first monitored epoch
            self.best_epoch = epoch
        self.wait += 1
        if self._improved(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = snapshot(self.model)
            if self.baseline is None or self._improved(current, self.baseline):
                self.wait = 0
                return
            if not self.stops_on_improvements_short_of_baseline:
                return
        if self.wait >= self.patience and epoch > 0:
            self._stop(epoch)

    def _stop(self, epoch: int) -> None:
        self.stopped_epoch = epoch
        self.stop_training()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping "
                  f"(best {self.monitor} {self.best:.4g} at epoch {self.best_epoch + 1})")
        if (self.restore_best_weights and self.best_weights is not None
                and self.best_epoch != self._last_epoch):
            restore(self.model, self.best_weights)
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")


class ModelCheckpoint(_Monitor):
    """Save the model's ``state_dict`` with ``tinygrad_edu.save`` after every epoch, or
    only when ``monitor`` improved (``save_best_only=True``).

    ``filepath`` may contain Keras-style fields: ``{epoch}`` (1-based) and any logged value,
    e.g. ``"ckpt/epoch{epoch:02d}-{val_loss:.3f}.safetensors"``. The extension picks the
    format (``.safetensors`` or ``.npz``); writes are atomic.
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, mode: str = "auto") -> None:
        super().__init__(monitor, mode, 0.0)
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        from ..serialization import check_extension

        check_extension(self.filepath)
        self.best = self._worst()

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.best = self._worst()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = self._current(logs)
            if current is None or not self._improved(current, self.best):
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5g} to "
                      f"{current:.5g}, saving model to {path}")
            self.best = current
        elif self.verbose:
            print(f"Epoch {epoch + 1}: saving model to {path}")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self._save(path)

    def _save(self, path: str) -> None:
        """Write the checkpoint (the model's state_dict); subclasses save other things."""
        from ..serialization import save

        save(self.model.state_dict(), path)


class LambdaCallback(Callback):
    """A callback made of functions: ``on_epoch_end(epoch, logs)``, ``on_batch_end(batch,
    logs)``, ``on_train_begin(logs)`` and so on (Keras's ``LambdaCallback``)."""

    def __init__(self, on_epoch_begin: Callable | None = None,
                 on_epoch_end: Callable | None = None, on_batch_begin: Callable | None = None,
                 on_batch_end: Callable | None = None, on_train_begin: Callable | None = None,
                 on_train_end: Callable | None = None) -> None:
        super().__init__()
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_batch_begin=on_batch_begin, on_batch_end=on_batch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end)
        for name, fn in given.items():
            if fn is not None:
                setattr(self, name, fn)


def _lr_groups(optimizer: Any, who: str) -> list[dict]:
    schedule = getattr(optimizer, "lr_schedule", None)
    if schedule is not None:
        raise TypeError(
            f"{who} cannot set the learning rate of an optimizer whose learning_rate is a "
            f"schedule ({type(schedule).__name__}), which sets it before every step (Keras "
            f"refuses this too); use either the schedule or {who}"
        )
    groups = getattr(optimizer, "param_groups", None)
    if not groups or "lr" not in groups[0]:
        raise TypeError(
            f"{who} needs an optimizer with param_groups holding 'lr' (tinygrad_edu.optim), "
            f"got {type(optimizer).__name__}"
        )
    return groups


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs; wait ``cooldown`` epochs after a reduction; never below ``min_lr``.
    Logs the learning rate as ``learning_rate``.

    >>> from types import SimpleNamespace
    >>> opt = SimpleNamespace(param_groups=[{"lr": 0.1}])
    >>> cb = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
    >>> cb.set_trainer(SimpleNamespace(model=None, optimizer=opt, params={}))
    >>> for epoch, loss in enumerate([1.0, 1.0, 1.0]):
    ...     cb.on_epoch_end(epoch, {"loss": loss})
    >>> opt.param_groups[0]["lr"]
    0.025
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0) -> None:
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), got {factor}")
        super().__init__(monitor, mode, min_delta)
        self.factor = factor
        self.patience = int(patience)
        self.verbose = verbose
        self.cooldown = int(cooldown)
        self.min_lr = float(min_lr)
        self.on_train_begin()

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.optimizer is not None:  # refuse an unsuitable optimizer before any epoch
            _lr_groups(self.optimizer, "ReduceLROnPlateau")
        self.best = self._worst()
        self.wait = 0
        self.cooldown_counter = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        groups = _lr_groups(self.optimizer, "ReduceLROnPlateau")
        if logs is not None:
            logs["learning_rate"] = float(groups[0]["lr"])
        current = self._current(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current, self.best):
            self.best = current
            self.wait = 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            for g in groups:
                old = float(g["lr"])
                new = max(old * self.factor, self.min_lr)
                if old - new > np.finfo(np.float32).eps * max(old, 1e-30):
                    g["lr"] = new
                    if self.verbose:
                        print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new:.4g}.")
            self.cooldown_counter = self.cooldown
            self.wait = 0


class TerminateOnNaN(Callback):
    """Stop training when a batch's loss is NaN or inf (for ``diagnostics=False``; with
    diagnostics on, ``fit`` raises ``TrainingDiverged`` instead)."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("batch_loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch + 1}: invalid loss {loss}, terminating training")
            self.stop_training()
