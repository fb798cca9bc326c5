"""``History``: what ``fit`` returns, the per-epoch logs (Keras's ``History``)."""

from __future__ import annotations

from typing import Any

from .callbacks import Callback
from .interrupt import uninterrupted


class History(Callback):
    """Records every epoch's logs: ``history.history`` maps each name ('loss', 'val_loss',
    'mae', 'val_mae', ...) to a list with one value per epoch; ``history.epoch`` lists the
    epoch indices (0-based, as Keras).

    >>> h = History()
    >>> h.on_train_begin()
    >>> h.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.6})
    >>> h.on_epoch_end(1, {"loss": 0.25, "val_loss": 0.4})
    >>> h.history, h.epoch
    ({'loss': [0.5, 0.25], 'val_loss': [0.6, 0.4]}, [0, 1])
    >>> h
    History(epochs=2, loss=0.25, val_loss=0.4)
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        with uninterrupted():  # Ctrl-C never leaves an epoch recorded under some keys only
            self.epoch.append(epoch)
            for k, v in (logs or {}).items():
                self.history.setdefault(k, []).append(v)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History(epochs={len(self.epoch)}{', ' if last else ''}{last})"

    def __getitem__(self, key: str) -> Any:
        """``history['loss']`` as a shortcut for ``history.history['loss']``."""
        return self.history[key]
