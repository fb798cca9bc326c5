"""Ctrl-C during ``fit``: never half an optimizer step.

A ``KeyboardInterrupt`` is raised by Python's SIGINT handler between any two bytecodes, so
Ctrl-C during ``optimizer.step()`` can leave some parameters (and Adam moments) updated and
the others not. While ``fit`` runs, :class:`sigint_deferred` replaces the handler with one
that, inside an :class:`uninterrupted` block (the optimizer step, the History update),
only notes the signal; the block finishes and the interrupt is raised as it ends, through
the handler that was there before. Outside such blocks Ctrl-C acts at once, as usual.

Only the main thread receives SIGINT, so only there is anything installed; elsewhere both
contexts cost a counter increment.

>>> import os, signal
>>> done = []
>>> with sigint_deferred():
...     try:
...         with uninterrupted():
...             os.kill(os.getpid(), signal.SIGINT)   # Ctrl-C in the middle of the block
...             done.append("rest of the block")
...     except KeyboardInterrupt:
...         done.append("interrupted after it")
>>> done
['rest of the block', 'interrupted after it']
"""

from __future__ import annotations

import signal
import threading
from typing import Any

_MAIN = threading.main_thread().ident


class _State:
    depth = 0                 # nesting of uninterrupted blocks in the main thread
    pending: Any = None       # (signum, frame) of a SIGINT noted inside a block
    previous: Any = None      # the handler that was installed before ours
    installs = 0              # nesting of sigint_deferred (fit inside a callback's fit)


def _handler(signum: int, frame: Any) -> None:
    if _State.depth > 0:
        _State.pending = (signum, frame)
        return
    _State.previous(signum, frame)


def _deliver() -> None:
    signum, frame = _State.pending
    _State.pending = None
    previous = _State.previous
    if callable(previous):
        previous(signum, frame)
    else:  # pragma: no cover - the handler was replaced under us; act as Python's default
        raise KeyboardInterrupt


class sigint_deferred:
    """Install the deferring SIGINT handler for the duration of the block (main thread
    only, and only when the current handler is a Python function such as Python's
    default; an ignored or OS-default SIGINT is left alone)."""

    __slots__ = ("_installed",)

    def __enter__(self) -> sigint_deferred:
        self._installed = False
        if threading.get_ident() != _MAIN:
            return self
        if _State.installs:
            _State.installs += 1
            self._installed = True
            return self
        current = signal.getsignal(signal.SIGINT)
        if callable(current):
            _State.previous = current
            signal.signal(signal.SIGINT, _handler)
            _State.installs = 1
            self._installed = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self._installed:
            return
        _State.installs -= 1
        if _State.installs == 0:
            if signal.getsignal(signal.SIGINT) is _handler:
                signal.signal(signal.SIGINT, _State.previous)
            _State.previous = None
            _State.pending = None


class uninterrupted:
    """A block that Ctrl-C does not cut in half: a SIGINT arriving inside it is raised
    when the block ends (while :class:`sigint_deferred` is active)."""

    __slots__ = ("_main",)

    def __enter__(self) -> None:
        self._main = threading.get_ident() == _MAIN
        if self._main:
            _State.depth += 1

    def __exit__(self, *exc: Any) -> None:
        if not self._main:
            return
        _State.depth -= 1
        if _State.depth == 0 and _State.pending is not None:
            _deliver()
