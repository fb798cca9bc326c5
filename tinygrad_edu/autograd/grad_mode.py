"""Global switches of the autograd engine: gradient recording and anomaly detection.

The flags live on one small object so that the hot path (``Function.apply``) reads them with a
single attribute lookup. They are process-global, not thread-local: tinygrad_edu runs on one
thread.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _Flags:
    __slots__ = ("_anomaly", "_tracer", "grad_enabled", "inplace_epoch", "slow")

    def __init__(self) -> None:
        self.grad_enabled = True
        self._anomaly = False
        # a step being captured (tinygrad_edu.autograd.jit) records every op here
        self._tracer: Any = None
        # anomaly or tracer: the one flag Function.apply reads for both, so that neither
        # costs anything when off
        self.slow = False
        # advanced by every in-place change of a tensor (see Tensor._bump_version)
        self.inplace_epoch = 0

    @property
    def anomaly(self) -> bool:
        return self._anomaly

    @anomaly.setter
    def anomaly(self, value: bool) -> None:
        self._anomaly = value
        self._update_slow()

    @property
    def tracer(self) -> Any:
        return self._tracer

    @tracer.setter
    def tracer(self, value: Any) -> None:
        self._tracer = value
        self._update_slow()

    def _update_slow(self) -> None:
        self.slow = bool(self._anomaly) or self._tracer is not None


flags = _Flags()


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for backward.

    >>> import tinygrad_edu as tg
    >>> with tg.no_grad():
    ...     tg.is_grad_enabled()
    False
    """
    return flags.grad_enabled


class _ModeContext:
    """A context manager that is also a decorator (``@no_grad()`` and ``@no_grad``)."""

    def _enter_value(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def __new__(cls, func: Callable | None = None, *args: Any, **kwargs: Any):
        self = super().__new__(cls)
        if func is not None and callable(func) and not args and not kwargs:
            # used as a bare decorator: @no_grad
            self.__init__()
            return self(func)
        return self

    def __enter__(self) -> None:
        self._prev = flags.grad_enabled
        flags.grad_enabled = self._enter_value()

    def __exit__(self, *exc: object) -> None:
        flags.grad_enabled = self._prev

    def __call__(self, func: F) -> F:
        mode = type(self)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_ModeContext):
    """Do not record operations: results do not require grad. Use for inference and updates.

    Works as a context manager and as a decorator.

    >>> import tinygrad_edu as tg
    >>> w = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> with tg.no_grad():
    ...     (w * 2).requires_grad
    False
    """

    def _enter_value(self) -> bool:
        return False


class enable_grad(_ModeContext):
    """Record operations again inside a ``no_grad`` block (context manager or decorator).

    >>> import tinygrad_edu as tg
    >>> w = tg.tensor([1.0], requires_grad=True)
    >>> with tg.no_grad(), tg.enable_grad():
    ...     (w * 2).requires_grad
    True
    """

    def _enter_value(self) -> bool:
        return True


class set_grad_enabled:
    """Switch recording on or off; as a function call it sets the mode, as a context manager it
    restores the previous mode on exit.

    >>> import tinygrad_edu as tg
    >>> with tg.set_grad_enabled(False):
    ...     tg.is_grad_enabled()
    False
    >>> tg.is_grad_enabled()
    True
    """

    def __init__(self, mode: bool) -> None:
        self._prev = flags.grad_enabled
        self.mode = bool(mode)
        flags.grad_enabled = self.mode

    def __enter__(self) -> None:
        flags.grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        flags.grad_enabled = self._prev

    def __call__(self, func: F) -> F:
        """``@set_grad_enabled(False)``: the mode holds while ``func`` runs, not from the
        moment the decorator is written (as in PyTorch)."""
        flags.grad_enabled = self._prev
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class AnomalyError(FloatingPointError, RuntimeError):
    """What :class:`detect_anomaly` raises: a ``FloatingPointError`` that is also PyTorch's
    ``RuntimeError``, so ``except RuntimeError`` written for PyTorch catches it too."""


class detect_anomaly:
    """Find the operation that first makes a NaN or inf, in forward or in backward.

    While active, every operation checks its result; the first one whose result is not finite
    (while its inputs were) raises :class:`AnomalyError` (a ``FloatingPointError`` and a
    ``RuntimeError``) naming the op, its input shapes and the
    line of user code that created it. Costs one ``isfinite`` pass per op, so it is off by
    default. Also usable as a decorator.

    >>> import tinygrad_edu as tg
    >>> x = tg.tensor([0.0], requires_grad=True)
    >>> with tg.detect_anomaly():
    ...     try:
    ...         y = x.log() * 0
    ...     except FloatingPointError as e:
    ...         print(str(e).splitlines()[0])
    Log produced inf/nan in forward (output shape (1,), float32) from inputs of shape (1,)
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self._prev = flags.anomaly
        flags.anomaly = self.check_nan

    def __exit__(self, *exc: object) -> None:
        flags.anomaly = self._prev

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def set_detect_anomaly(mode: bool) -> None:
    """Turn anomaly detection on or off globally (see :class:`detect_anomaly`)."""
    flags.anomaly = bool(mode)


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return flags.anomaly
