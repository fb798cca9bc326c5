"""Keras's callbacks: ``tinygrad_edu.train``'s, with Keras's semantics where they differ.

- ``Callback``: the base class. Keras 3's batch hooks ``on_train_batch_begin`` /
  ``on_train_batch_end`` are called (they are what ``fit`` calls ``on_batch_*``).
- ``EarlyStopping``: Keras's rule for ``restore_best_weights``: the best weights are put
  back **only when training stops early** (``tinygrad_edu.train.EarlyStopping`` also
  restores them when the last epoch is reached).
- ``ModelCheckpoint``: saves the whole model with ``model.save`` (architecture and weights,
  ``.npz`` or ``.safetensors``), or only the weights with ``save_weights_only=True``.
- ``History``, ``LambdaCallback``, ``ReduceLROnPlateau``, ``TerminateOnNaN``: as in
  ``tinygrad_edu.train`` (already Keras's semantics).

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

import os
from typing import Any

from ..train import callbacks as _train_callbacks
from ..train.callbacks import LambdaCallback, ReduceLROnPlateau, TerminateOnNaN
from ..train.history import History
from ..train.weights import restore


class Callback(_train_callbacks.Callback):
    """Base class of Keras-style callbacks: override ``on_epoch_end(epoch, logs)`` and the
    other hooks; ``self.model`` is the Keras model (``self.model.stop_training = True``
    stops training after the epoch). ``on_train_batch_begin`` / ``on_train_batch_end``
    (Keras 3's names) are the batch hooks ``fit`` calls.

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
                setattr(cls, name, cls.__dict__[keras_name])

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        pass

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        pass


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
    (``.npz`` or ``.safetensors``) picks the format."""

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss",
                 verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto") -> None:
        super().__init__(filepath, monitor=monitor, verbose=verbose,
                         save_best_only=save_best_only, mode=mode)
        self.save_weights_only = bool(save_weights_only)

    def _save(self, path: str) -> None:
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


__all__ = ["Callback", "EarlyStopping", "History", "LambdaCallback", "ModelCheckpoint",
           "ReduceLROnPlateau", "TerminateOnNaN"]
