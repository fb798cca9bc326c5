"""What a demo problem returns: :class:`Row` (one line of the table per trained variant) and
:class:`Outcome` (a problem's rows, loss curves, graph and diagnostics), plus small helpers
shared by the problems (honest metrics, seeding, capturing ``TrainingWarning``).

>>> row = Row("xor", "fixed", "2-2-1 tanh", "4 points", "300 it", 0.001, "accuracy", 1.0,
...           check="accuracy = 100%", passed=True)
>>> row.as_dict()["metric"], row.status
('accuracy', 'ok')
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.train import TrainingWarning


@dataclass
class Row:
    """One trained variant of a problem: a line of the demo's table.

    ``metric`` is ``"rmse"`` (the true RMSE on held-out data, ``sqrt(mean(err**2))``) or
    ``"accuracy"``; ``rel_error`` is the median relative error ``|pred - y| / |y|`` on the
    held-out data where it means something (targets away from 0), else ``None``.
    ``query`` reports a prediction at a point the seed asks about.  ``passed`` is ``None``
    for rows that only illustrate (no threshold).
    """

    problem: str
    variant: str
    architecture: str
    data: str
    epochs: str
    final_loss: float | None
    metric: str
    value: float | None
    rel_error: float | None = None
    query: str = ""
    check: str = ""
    passed: bool | None = None
    seconds: float = 0.0
    note: str = ""

    @property
    def status(self) -> str:
        """``"ok"``, ``"FAIL"`` or ``"-"`` (no threshold)."""
        return "-" if self.passed is None else ("ok" if self.passed else "FAIL")

    def as_dict(self) -> dict[str, Any]:
        """The row as plain JSON-able values (``status`` included)."""
        d = asdict(self)
        for k in ("final_loss", "value", "rel_error"):
            if d[k] is not None:
                d[k] = float(d[k])
        d["passed"] = None if self.passed is None else bool(self.passed)
        d["status"] = self.status
        return d


@dataclass
class ExtraPlot:
    """A picture beyond the loss curves: ``draw(path)`` writes a PNG (needs matplotlib)."""

    name: str
    draw: Callable[[Any], Any]


@dataclass
class Outcome:
    """Everything one problem produced.

    ``curves`` maps a plot name to ``{variant: loss per epoch}`` (drawn with
    :func:`tinygrad_edu.viz.plot_history`, one panel per variant); ``graphs`` maps a name
    (``""`` for the main one) to ``(loss Tensor, params)``, drawn with
    :func:`tinygrad_edu.viz.draw_graph` with the leaves named by ``params`` (a Module or a
    dict); ``explorer`` is the ``(loss, params)`` of the explorer page (the seed's own
    hand-written net where there is one; ``None``: the main graph); ``diagnostics`` holds
    the text of every ``TrainingWarning`` that ``fit`` emitted, as ``(variant, message)``.
    """

    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    curves: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    graphs: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    extra_plots: list[ExtraPlot] = field(default_factory=list)
    explorer: tuple[Any, Any] | None = None
    diagnostics: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """True when no row failed its threshold."""
        return all(r.passed is not False for r in self.rows)


def seed_all(seed: int) -> np.random.Generator:
    """Seed tinygrad_edu's global generator and return a numpy Generator with the same seed.

    >>> a = seed_all(3).random(); b = seed_all(3).random()
    >>> a == b
    True
    """
    tg.manual_seed(seed)
    return np.random.default_rng(seed)


def seed_net_graph(net: Any, params: Any, x: Any, y: Any) -> tuple[Any, dict[str, Any]]:
    """A seed's hand-written net run on Tensors: ``(its loss on x, y, the parameters as
    Tensors that require grad)``, the pair ``draw_graph`` and the explorer take.

    >>> from tinygrad_edu.seeds.seed000 import Seed000Net
    >>> net = Seed000Net()
    >>> loss, ps = seed_net_graph(net, net.init_params(), np.array([[0.5, 0.5]]), np.array([0.25]))
    >>> loss.requires_grad, sorted(ps) == sorted(net.param_names)
    (True, True)
    """
    ps = {k: tg.tensor(v, requires_grad=True) for k, v in params.items()}
    return net.loss(ps, tg.tensor(x), tg.tensor(y)), ps


def median_rel_error(pred: Any, y: Any) -> float:
    """``median(|pred - y| / |y|)`` over the samples with ``y != 0``.

    >>> round(median_rel_error([1.1, 2.0, 0.0], [1.0, 2.0, 0.0]), 12)
    0.05
    """
    p, t = _flat(pred), _flat(y)
    keep = t != 0
    return float(np.median(np.abs(p[keep] - t[keep]) / np.abs(t[keep])))


def _flat(v: Any) -> np.ndarray:
    if isinstance(v, tg.Tensor):
        v = v.numpy()
    return np.asarray(v, dtype=np.float64).reshape(-1)


def numpy_out(model: Any, x: np.ndarray) -> np.ndarray:
    """``model(x)`` as a float64 numpy array, without recording a graph.

    >>> from tinygrad_edu import nn
    >>> numpy_out(nn.Identity(), np.ones((2, 1))).dtype
    dtype('float64')
    """
    with tg.no_grad():
        out = model(tg.tensor(np.asarray(x, dtype=np.float32)))
    return np.asarray(out.numpy(), dtype=np.float64)


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``.

    >>> with Timer() as t:
    ...     pass
    >>> t.seconds >= 0
    True
    """

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: Any) -> None:
        self.seconds = time.perf_counter() - self._start


@contextlib.contextmanager
def capture_training_warnings(outcome: Outcome, variant: str) -> Iterator[list[str]]:
    """Record every ``TrainingWarning`` raised inside into ``outcome.diagnostics`` (and
    the yielded list) instead of printing it; other warnings pass through.

    >>> out = Outcome("x", "x")
    >>> with capture_training_warnings(out, "v") as caught:
    ...     warnings.warn("data far from unit scale", TrainingWarning)
    >>> caught, out.diagnostics
    (['data far from unit scale'], [('v', 'data far from unit scale')])
    """
    caught: list[str] = []
    records: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always", TrainingWarning)
            try:
                yield caught
            finally:
                records = list(recorded)
    finally:  # outside catch_warnings, so that re-issued warnings are not recorded again
        for w in records:
            if issubclass(w.category, TrainingWarning):
                text = str(w.message)
                caught.append(text)
                outcome.diagnostics.append((variant, text))
            else:  # pass other warnings on
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def fmt_float(v: float | None, digits: int = 3) -> str:
    """A short number for the table: ``1.23e+09``, ``0.0123``, ``-`` for None.

    >>> fmt_float(1234567.0), fmt_float(0.012345), fmt_float(None), fmt_float(3.0)
    ('1.23e+06', '0.0123', '-', '3')
    """
    if v is None:
        return "-"
    if v != v:
        return "nan"
    a = abs(v)
    if a != 0 and (a >= 1e4 or a < 1e-3):
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}g}"
