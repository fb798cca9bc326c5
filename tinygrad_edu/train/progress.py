"""Progress output of ``fit``, Keras's ``verbose``: 0 silent, 1 a progress bar per epoch,
2 one line per epoch.

The bar is tqdm's (``tqdm.auto`` in a Jupyter notebook). It is drawn only where carriage
returns work: a terminal or a notebook. When stdout is a file or a pipe (logs, CI), verbose=1
prints one line per epoch, like verbose=2, so the file gets no carriage-return spam.

>>> import io
>>> out = io.StringIO()
>>> logger = progress_logger(1, epochs=2, steps=10, file=out)    # not a terminal: lines
>>> logger.on_train_begin(); logger.on_epoch_begin(0)
>>> logger.on_epoch_end(0, {"loss": 0.123456, "val_loss": 0.2})
>>> out.getvalue().split(" - ")[0], out.getvalue().split(" - ")[2:]
('Epoch 1/2', ['10 steps', 'loss: 0.1235', 'val_loss: 0.2000\\n'])
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import time
from typing import IO, Any

from .callbacks import Callback


def format_value(v: float) -> str:
    """Four decimals, or scientific notation for very large and very small values."""
    a = abs(v)
    if (a != 0 and (a >= 1e5 or a < 1e-3)) or a != a:
        return f"{v:.4e}"
    return f"{v:.4f}"


def format_logs(logs: dict | None) -> str:
    return " - ".join(f"{k}: {format_value(v)}" for k, v in (logs or {}).items()
                      if isinstance(v, int | float))


def in_notebook() -> bool:
    """Whether we run in a Jupyter kernel (where tqdm.auto draws a widget)."""
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if get is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _isatty(file: Any) -> bool:
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _size(file: Any) -> dict:
    """Follow the terminal's width, unless it reports a size of 0 (some ptys in CI and
    containers), where tqdm would draw nothing: then a fixed size from $COLUMNS or 100x24."""
    try:
        cols, rows = os.get_terminal_size(file.fileno())
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        cols = rows = 0
    if cols > 0 and rows > 0:
        return {"dynamic_ncols": True}
    cols, rows = shutil.get_terminal_size((100, 24))
    return {"ncols": cols or 100, "nrows": rows or 24}


class _LineLogger(Callback):
    """verbose=2 (or 1 without a terminal): ``Epoch 3/10 - 0.12s - loss: ... - val_loss: ...``"""

    def __init__(self, epochs: int, steps: int, file: IO | None) -> None:
        super().__init__()
        self.epochs, self.steps, self.file = epochs, steps, file
        self._t0 = 0.0

    def _out(self) -> IO:
        return self.file if self.file is not None else sys.stdout

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        secs = time.perf_counter() - self._t0
        line = f"Epoch {epoch + 1}/{self.epochs} - {secs:.2f}s - {self.steps} steps"
        body = format_logs(logs)
        out = self._out()
        out.write(line + (" - " + body if body else "") + "\n")
        out.flush()

    def close(self) -> None:
        pass


_BAR_FORMAT = ("{desc}: {percentage:3.0f}%|{bar:16}| {n_fmt}/{total_fmt} "
               "[{elapsed}<{remaining}{postfix}]")


class _BarLogger(_LineLogger):
    """verbose=1 on a terminal or in a notebook: a tqdm bar per epoch with the running loss."""

    def __init__(self, epochs: int, steps: int, file: IO | None, notebook: bool) -> None:
        super().__init__(epochs, steps, file)
        self.notebook = notebook
        self.bar: Any = None
        self._every = max(steps // 50, 1)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.notebook:
            from tqdm.auto import tqdm
        else:
            from tqdm import tqdm
        self.close()
        out = self._out()
        self.bar = tqdm(total=self.steps, desc=f"Epoch {epoch + 1}/{self.epochs}",
                        unit="step", file=out, leave=True, mininterval=0.1,
                        bar_format=_BAR_FORMAT, **_size(out))

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        bar = self.bar
        if bar is None:
            return
        if logs and batch % self._every == 0:
            bar.set_postfix_str(f"loss: {format_value(logs['loss'])}", refresh=False)
        bar.update(1)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        bar = self.bar
        if bar is None:
            return
        text = format_logs(logs)
        bar.set_postfix_str(text, refresh=False)
        width = bar.ncols if not self.notebook else None
        # the bar's fixed part takes ~56 columns: when the logs would be cut off, print them
        # in full on their own line
        too_wide = width is not None and len(bar.desc) + 56 + len(text) > width
        self.close()
        if too_wide:
            out = self._out()
            out.write("  " + text + "\n")
            out.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def progress_logger(verbose: Any, epochs: int, steps: int,
                    file: IO | None = None) -> _LineLogger | None:
    """The callback that prints progress for ``verbose`` (0, 1, 2 or 'auto' = 1), writing
    to ``file`` (default: ``sys.stdout`` at the time of printing)."""
    if verbose == "auto":
        verbose = 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0 (silent), 1 (progress bar), 2 (one line per "
                         f"epoch) or 'auto', got {verbose!r}")
    if verbose == 0:
        return None
    if verbose == 1:
        notebook = in_notebook()
        if notebook or _isatty(file if file is not None else sys.stdout):
            return _BarLogger(epochs, steps, file, notebook)
    return _LineLogger(epochs, steps, file)
