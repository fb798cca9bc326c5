"""Plots for training: loss curves, 1-D regression fits, 2-D decision boundaries, gradient norms.

matplotlib (a dependency) is imported only when a plot is drawn, never by
``import tinygrad_edu`` or ``import tinygrad_edu.viz``, so that those stay quick. Without a
display the Agg backend is used. Every function returns the matplotlib ``Figure`` and writes
a PNG when given ``save=path``. Metrics shown in titles are the honest ones: RMSE is
``sqrt(mean(squared error))``, accuracy is the fraction of points classified right.

>>> fig = plot_history({"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6]})
>>> [len(ax.lines) for ax in fig.axes]
[2]
>>> close(fig)
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import dtypes
from ..autograd import no_grad
from ..tensor import Tensor
from .gradnorms import GradNormRecorder

INSTALL_HINT = ("plotting needs matplotlib, a dependency of tinygrad_edu that cannot be "
                "imported here: pip install matplotlib (or pip install tinygrad_edu[plot])")


def _pyplot() -> Any:
    """matplotlib.pyplot, imported now; the Agg backend when there is no display."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    if "matplotlib.pyplot" not in sys.modules and _headless():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _headless() -> bool:
    if os.environ.get("MPLBACKEND"):  # set by Jupyter kernels and by users: respect it
        return False
    if not sys.platform.startswith("linux"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def close(fig: Any) -> None:
    """Close a figure made here (frees it from pyplot's list of open figures)."""
    _pyplot().close(fig)


def _finish(fig: Any, save: str | os.PathLike | None) -> Any:
    fig.tight_layout()
    if save is not None:
        path = Path(save)
        fig.savefig(path, format=path.suffix[1:].lower() or "png", dpi=100)
    return fig


def _array(v: Any) -> np.ndarray:
    return np.asarray(v.data if isinstance(v, Tensor) else v)


def _predict(model_or_fn: Callable, x: np.ndarray) -> np.ndarray:
    """Call the model (or function) on a Tensor batch without recording a graph."""
    with no_grad():
        out = model_or_fn(Tensor(x.astype(dtypes.get_default_dtype())))
    return np.asarray(_array(out), dtype=np.float64)


# ---------------------------------------------------------------------------- history
def plot_history(
    history: Any,
    metrics: Sequence[str] | None = None,
    *,
    logy: bool = False,
    title: str | None = None,
    save: str | os.PathLike | None = None,
) -> Any:
    """One panel per metric, training and ``val_`` curves per epoch.

    ``history`` is a History (anything with a ``.history`` dict, as Keras's ``fit()``
    returns) or the dict itself. ``metrics`` defaults to every key without ``val_``.

    >>> fig = plot_history({"loss": [3, 2], "mae": [1, 0.5], "val_mae": [1.2, 0.9]})
    >>> [ax.get_title() for ax in fig.axes]
    ['loss', 'mae']
    >>> close(fig)
    """
    hist = getattr(history, "history", history)
    if not isinstance(hist, Mapping):
        raise TypeError(
            f"plot_history needs a History or a dict name → list of values, got "
            f"{type(history).__name__}"
        )
    if metrics is None:
        metrics = [k for k in hist if not k.startswith("val_")]
        metrics += [k for k in hist if k.startswith("val_") and k[4:] not in hist]
    missing = [m for m in metrics if m not in hist and "val_" + m not in hist]
    if missing or not metrics:
        raise KeyError(f"plot_history: no {missing or 'metrics'} in the history "
                       f"(it has {', '.join(hist) or 'nothing'})")
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.5), squeeze=False)
    for ax, m in zip(axes[0], metrics):
        for k in (m, "val_" + m if not m.startswith("val_") else None):
            if k is not None and k in hist:
                values = [float(v) for v in hist[k]]
                ax.plot(range(1, len(values) + 1), values, marker="." if len(values) < 30
                        else None, label=k)
        ax.set_title(m)
        ax.set_xlabel("epoch")
        if logy:
            ax.set_yscale("log")
        ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return _finish(fig, save)


# ---------------------------------------------------------------------------- regression
def plot_regression_1d(
    model_or_fn: Callable,
    x: Any,
    y: Any,
    *,
    target_fn: Callable[[np.ndarray], np.ndarray] | None = None,
    x_range: tuple[float, float] | None = None,
    num: int = 300,
    title: str | None = None,
    ax: Any = None,
    save: str | os.PathLike | None = None,
) -> Any:
    """Data points, the model's curve on ``x_range`` (default: the data's), and optionally the
    true function ``target_fn`` (numpy in, numpy out). The title gives the RMSE on the data.

    ``model_or_fn`` is called on a Tensor of shape ``(num, 1)`` under ``no_grad``.

    >>> import numpy as np
    >>> x = np.arange(10.0)
    >>> fig = plot_regression_1d(lambda t: 2 * t, x, 2 * x + 1, target_fn=lambda t: 2 * t + 1)
    >>> len(fig.axes[0].lines), fig.axes[0].get_title()
    (2, 'RMSE 1 on 10 points')
    >>> close(fig)
    """
    xs = _array(x).astype(np.float64).reshape(-1)
    ys = _array(y).astype(np.float64).reshape(-1)
    if xs.shape != ys.shape:
        raise ValueError(f"x has {xs.size} values and y {ys.size}; they must match")
    lo, hi = x_range if x_range is not None else (xs.min(), xs.max())
    grid = np.linspace(lo, hi, num)
    curve = _predict(model_or_fn, grid[:, None]).reshape(-1)
    fitted = _predict(model_or_fn, xs[:, None]).reshape(-1)
    if curve.size != grid.size:
        raise ValueError(f"the model returned {curve.size} values for {grid.size} inputs; a 1-D "
                         "regression model maps shape (N, 1) to (N, 1) or (N,)")
    rmse = math.sqrt(float(np.mean((fitted - ys) ** 2)))
    plt = _pyplot()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6, 4))
    ax.scatter(xs, ys, s=10, alpha=0.5, color="tab:gray", label="data")
    ax.plot(grid, curve, color="tab:blue", label="prediction")
    if target_fn is not None:
        ax.plot(grid, np.asarray(target_fn(grid)), "--", color="tab:green", label="target")
    ax.set_title(title or f"RMSE {rmse:.4g} on {xs.size} points")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend()
    ax.grid(alpha=0.3)
    return _finish(fig, save)


# ---------------------------------------------------------------------------- classification
def plot_decision_boundary(
    model_or_fn: Callable,
    x: Any,
    y: Any,
    *,
    threshold: float | None = None,
    resolution: int = 200,
    margin: float = 0.5,
    title: str | None = None,
    ax: Any = None,
    save: str | os.PathLike | None = None,
) -> Any:
    """The model's output over the plane of 2-D inputs ``x``, with the points coloured by ``y``.

    One output column is a score: the boundary is drawn at ``threshold`` (default 0.5 when
    the targets lie in [0, 1], as for a sigmoid; else 0, as for tanh and ±1 targets, the seed's
    XOR). Several columns are class scores (argmax). The title gives the accuracy on ``x``.

    >>> import numpy as np
    >>> x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    >>> y = np.array([0, 1, 1, 0])
    >>> xor = lambda t: (t[:, :1] - t[:, 1:]) ** 2
    >>> fig = plot_decision_boundary(xor, x, y)
    >>> fig.axes[0].get_title()
    'accuracy 100% (4 points)'
    >>> close(fig)
    """
    xs = _array(x).astype(np.float64)
    if xs.ndim != 2 or xs.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs inputs of shape (N, 2), got {xs.shape}")
    ys = _array(y)
    labels = ys.argmax(1) if ys.ndim == 2 and ys.shape[1] > 1 else ys.reshape(-1)
    binary = not (ys.ndim == 2 and ys.shape[1] > 1)
    if threshold is None:
        threshold = 0.5 if labels.min() >= 0 and labels.max() <= 1 else 0.0
    (x0, y0), (x1, y1) = xs.min(0) - margin, xs.max(0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], 1)
    out = _predict(model_or_fn, grid)
    pred = _predict(model_or_fn, xs)
    plt = _pyplot()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5, 4.5))
    if out.ndim == 2 and out.shape[1] > 1:
        classes = out.argmax(1).reshape(gx.shape)
        n = out.shape[1]
        ax.contourf(gx, gy, classes, levels=np.arange(n + 1) - 0.5, cmap="tab10", alpha=0.3)
        predicted = pred.argmax(1)
        truth = labels
    else:
        score = out.reshape(gx.shape)
        filled = ax.contourf(gx, gy, score, levels=20, cmap="RdBu_r", alpha=0.5)
        fig.colorbar(filled, ax=ax, label="output")
        if score.min() < threshold < score.max():
            ax.contour(gx, gy, score, levels=[threshold], colors="k", linewidths=1.5)
        predicted = pred.reshape(-1) > threshold
        truth = labels > threshold if binary else labels
    ax.scatter(xs[:, 0], xs[:, 1], c=labels, cmap="RdBu_r" if binary else "tab10",
               edgecolors="k", s=40)
    accuracy = float(np.mean(predicted == truth))
    ax.set_title(title or f"accuracy {accuracy:.0%} ({len(xs)} points)")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return _finish(fig, save)


# ---------------------------------------------------------------------------- grad norms
def plot_grad_norms(
    records: GradNormRecorder | Mapping[str, Sequence[float]],
    *,
    logy: bool = True,
    title: str | None = None,
    ax: Any = None,
    save: str | os.PathLike | None = None,
) -> Any:
    """One curve per parameter (or layer): its gradient norm at each recorded step.

    ``records`` is a :class:`GradNormRecorder` or a dict name → list of norms. Steps with no
    gradient (``nan``) are gaps; on the default log scale, zero norms are gaps too.

    >>> fig = plot_grad_norms({"0.weight": [1.0, 0.5], "1.weight": [0.1, 0.01]})
    >>> len(fig.axes[0].lines)
    2
    >>> close(fig)
    """
    norms = records.norms if isinstance(records, GradNormRecorder) else records
    if not isinstance(norms, Mapping) or not norms:
        raise ValueError("plot_grad_norms needs a GradNormRecorder or a non-empty dict "
                         "name → list of norms")
    plt = _pyplot()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6, 4))
    for name, values in norms.items():
        v = np.asarray(values, dtype=np.float64)
        ax.plot(np.arange(1, v.size + 1), v, label=name)
    if logy and any(np.nanmax(np.asarray(v, dtype=np.float64), initial=0) > 0
                    for v in norms.values()):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("gradient norm")
    ax.set_title(title or "gradient norm per " + (
        records.per if isinstance(records, GradNormRecorder) else "parameter"))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _finish(fig, save)
