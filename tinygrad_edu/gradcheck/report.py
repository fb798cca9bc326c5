"""The homework checker's report: error measures, verdict bands, a table in text and HTML.

Relative error is CS231n's, entry by entry: ``|a - n| / max(|a|, |n|)``, with ``0/0 = 0``;
differences no larger than the rounding noise of the comparison count as 0 (otherwise an
entry whose true gradient is 0 would score 1 against a numerical ``1e-11``). A parameter's
error is the largest over its checked entries, and falls in one of the bands students know:

============  ==================  ==========================================================
rel. error    verdict             meaning
============  ==================  ==========================================================
<= 1e-7       correct
<= 1e-4       ok only with kinks  fine where the loss has kinks (ReLU, max); too large for a
                                  smooth net (tanh, sigmoid, softmax)
<= 1e-2       suspicious
> 1e-2        wrong
============  ==================  ==========================================================

More verdicts: ``kink`` (the hand-written gradient is right, and the numerical one is off
because ``x +- eps`` straddles a kink), ``missing``/``wrong shape`` when the hand-written
gradient is absent or has another shape than its parameter, and ``unchecked`` when the loss
itself is rounded (piecewise constant): no gradient can be checked against it.

In the table an error of 0 reads ``< noise``: the difference is within the rounding noise of
the comparison (the errors themselves stay numbers in :class:`ParamCheck`). A check whose
gradients all pass can still carry a diagnosis of the *loss* (it divides by a fixed number,
not the batch size): the headline says so.

>>> import numpy as np
>>> relative_error(np.array([1.0, 0.0, 2.0]), np.array([1.0, 0.0, 1.0])).tolist()
[0.0, 0.0, 0.5]
>>> verdict_for(3e-9), verdict_for(5e-6), verdict_for(1e-3), verdict_for(0.5)
('correct', 'ok only with kinks', 'suspicious', 'wrong')
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from .diagnose import Hypothesis, best

BANDS = ((1e-7, "correct"), (1e-4, "ok only with kinks"), (1e-2, "suspicious"),
         (float("inf"), "wrong"))
PASSING = ("correct", "kink")


def relative_error(a: np.ndarray, b: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Entrywise ``|a - b| / max(|a|, |b|)``; ``0/0 = 0``; differences ``<= floor`` are 0;
    a NaN or inf on one side only is an error of ``inf``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - b)
        denom = np.maximum(np.abs(a), np.abs(b))
        rel = np.divide(diff, denom, out=np.zeros_like(diff), where=denom > 0)
    rel = np.where(diff <= floor, 0.0, rel)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return np.where(np.isfinite(rel) | same, np.where(same, 0.0, rel), np.inf)


def verdict_for(rel: float) -> str:
    """The CS231n band of a relative error."""
    for bound, name in BANDS:
        if rel <= bound:
            return name
    return "wrong"


@dataclass
class ParamCheck:
    """One parameter's row: what was compared, the errors, the verdict and the diagnosis.

    ``hand``, ``autograd`` are whole arrays (``autograd`` is None when the loss could not be
    run on Tensors); ``indices`` are the flat indices checked by central differences and
    ``numeric`` their values. ``rel_error`` is hand vs numerical (CS231n), ``rel_error_autograd``
    hand vs autograd over every entry. ``worst`` is ``(index, hand, numerical, autograd)``
    at the entry with the largest error. ``reference`` says which gradient the verdict and
    the diagnosis compare with: ``"autograd"`` (every entry) or ``"numerical"`` (the checked
    entries; used when autograd is unavailable or disagrees with central differences).
    """

    name: str
    shape: tuple
    hand: np.ndarray | None
    autograd: np.ndarray | None
    indices: np.ndarray
    numeric: np.ndarray
    rel_error: float = float("nan")
    rel_error_autograd: float | None = None
    abs_error: float = float("nan")
    worst: tuple | None = None
    verdict: str = "correct"
    reference: str = "autograd"
    hypotheses: list[Hypothesis] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.verdict in PASSING

    @property
    def n_checked(self) -> int:
        return len(self.indices)

    @property
    def n_entries(self) -> int:
        return int(np.prod(self.shape))

    @property
    def diagnosis(self) -> Hypothesis | None:
        """The most confident hypothesis for this parameter (None if it passed)."""
        return best(self.hypotheses)

    @property
    def kinds(self) -> set[str]:
        return {h.kind for h in self.hypotheses}

    def cells(self) -> list[str]:
        d = self.diagnosis
        auto = "-" if self.rel_error_autograd is None else _e(self.rel_error_autograd)
        num = "-" if self.verdict == "unchecked" else _e(self.rel_error)
        if self.verdict == "unchecked":
            auto = "-"
        return [self.name, str(self.shape), f"{self.n_checked}/{self.n_entries}",
                num, auto, self.verdict, d.message if d else ""]


def _e(x: float) -> str:
    if x is None or np.isnan(x):
        return "-"
    return "< noise" if x == 0 else f"{x:.1e}"


HEADERS = ["parameter", "shape", "checked", "rel.err numeric", "rel.err autograd", "verdict",
           "diagnosis"]
_COLOURS = {"correct": "#d4edda", "kink": "#d4edda", "ok only with kinks": "#fff3cd",
            "suspicious": "#fff3cd", "unchecked": "#fff3cd"}


class GradientReport:
    """What :func:`~tinygrad_edu.gradcheck.check_gradients` found.

    ``passed`` is True when every parameter passed; ``rows`` (also ``report["W1"]``,
    iteration) give the per-parameter :class:`ParamCheck`; ``hypotheses`` the diagnoses
    that span parameters; ``kinds()`` every hypothesis kind found. ``str(report)`` is a table;
    in Jupyter the report renders as an HTML table.
    """

    def __init__(self, rows: list[ParamCheck], hypotheses: list[Hypothesis], *, loss: float,
                 eps: float, notes: list[str]) -> None:
        self.rows = rows
        self.hypotheses = hypotheses
        self.loss = loss
        self.eps = eps
        self.notes = notes

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    def __bool__(self) -> bool:
        return self.passed

    def __getitem__(self, name: str) -> ParamCheck:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    def __iter__(self) -> Iterator[ParamCheck]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def diagnosis(self) -> Hypothesis | None:
        """The most confident diagnosis spanning parameters, else the most confident row's."""
        return best(self.hypotheses) or best([h for r in self.rows for h in r.hypotheses])

    def kinds(self) -> set[str]:
        """Every hypothesis kind in the report (overall and per parameter)."""
        return {h.kind for h in self.hypotheses} | {k for r in self.rows for k in r.kinds}

    def headline(self) -> str:
        bad = [r.name for r in self.rows if not r.passed]
        status = "PASSED" if not bad else f"FAILED: {len(bad)} of {len(self.rows)} wrong"
        if not bad and self.hypotheses:
            status += ", but see the diagnosis of the loss below"
        elif bad and all(r.verdict == "unchecked" for r in self.rows):
            status = "FAILED: nothing could be checked"
        return (f"Gradient check of {len(self.rows)} parameters at loss {self.loss:.6g} "
                f"(eps {self.eps:g}): {status}")

    def __str__(self) -> str:
        table = [HEADERS] + [[*r.cells()[:-1], r.diagnosis.kind if r.diagnosis else ""]
                             for r in self.rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        lines = [self.headline(), ""]
        for i, row in enumerate(table):
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        details = self._details()
        if details:
            lines += ["", *details]
        return "\n".join(lines)

    __repr__ = __str__

    def _details(self) -> list[str]:
        out = []
        if self.hypotheses:
            out.append("Diagnosis:")
            out += [f"  - {h}" for h in self.hypotheses]
        for r in self.rows:
            if r.passed and not r.notes and not r.hypotheses:
                continue
            covering = [h for h in self.hypotheses if r.name in h.params]
            covered = {h.kind for h in covering}
            bar = max((h.rank for h in covering), default=0)  # weaker row guesses add noise
            lines = [f"  - {h}" for h in sorted(r.hypotheses, key=lambda h: -h.rank)
                     if h not in self.hypotheses and h.kind not in covered and h.rank >= bar]
            if r.worst is not None and not r.passed:
                idx, h, n, a = r.worst
                auto = "" if a is None else f", autograd {a:.8g}"
                at = f"worst entry {list(map(int, idx))}" if len(idx) else "value"
                lines.insert(0, f"  {at}: hand-written {h:.8g}, numerical {n:.8g}{auto}")
            lines += [f"  note: {n}" for n in r.notes]
            if lines:
                out += [f"{r.name} ({r.verdict}):", *lines]
        out += [f"note: {n}" for n in self.notes]
        return out

    def _repr_html_(self) -> str:
        e = html.escape
        head = "".join(f"<th style='text-align:left'>{e(h)}</th>" for h in HEADERS)
        body = []
        for r in self.rows:
            colour = _COLOURS.get(r.verdict, "#f8d7da")
            cells = r.cells()
            tds = "".join(f"<td>{e(c)}</td>" for c in cells[:5])
            tds += f"<td style='background:{colour}'><b>{e(cells[5])}</b></td>"
            tds += f"<td>{e(cells[6])}</td>"
            body.append(f"<tr>{tds}</tr>")
        details = self._details()
        pre = f"<pre>{e(chr(10).join(details))}</pre>" if details else ""
        return (f"<div><p><b>{e(self.headline())}</b></p><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table>{pre}</div>")
