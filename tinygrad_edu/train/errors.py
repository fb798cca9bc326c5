"""The warning and error classes of training, so that users can filter or catch them.

>>> import warnings
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore", TrainingWarning)   # silence every training diagnostic
...     warnings.warn("inputs far from unit scale", TrainingWarning)
"""

from __future__ import annotations

import os
import sys
from typing import Any

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_stacklevel() -> int:
    """The ``stacklevel`` for ``warnings.warn`` that points at the first frame outside
    tinygrad_edu (the user's ``fit`` or metric call), counted from the caller."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
            _PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    return level


class TrainingWarning(UserWarning):
    """A training diagnostic: data far from unit scale, rising loss, vanishing gradients,
    dead ReLUs, a metric that means nothing for the task. Each says what to try."""


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or inf, or rose by orders of magnitude above its best and stayed
    there. ``epoch`` and ``step`` (both 0-based) say where, ``loss`` is the batch's loss and
    ``history`` (set by ``fit``) holds the epochs finished before."""

    def __init__(self, message: str, epoch: int | None = None, step: int | None = None,
                 loss: float | None = None) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.step = step
        self.loss = loss
        self.history: Any = None


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``fit``: a ``KeyboardInterrupt`` (``except KeyboardInterrupt`` catches
    it) that carries what was done. ``history`` is the ``History`` of the finished epochs,
    ``epoch`` and ``step`` (0-based) where the interrupt came, ``steps_done`` the number of
    optimizer steps applied in all (each one whole: Ctrl-C never lands inside a step).

    >>> e = TrainingInterrupted("fit interrupted", history=None, epoch=2, step=5,
    ...                         steps_done=25)
    >>> isinstance(e, KeyboardInterrupt), e.epoch, e.steps_done
    (True, 2, 25)
    """

    def __init__(self, message: str, history: Any, epoch: int, step: int | None,
                 steps_done: int) -> None:
        super().__init__(message)
        self.history = history
        self.epoch = epoch
        self.step = step
        self.steps_done = steps_done
