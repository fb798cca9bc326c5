"""Timing, ratios, the printed table and the JSON file.

Every implementation of a workload is timed in the same process, interleaved: repeat r times
a block of steps of each implementation in turn (the order rotates each repeat), so that a
slow drift of the machine (thermal, a neighbour's job) lands on all of them alike. The figure
that matters is the ratio to the workload's baseline measured in the same run; it is taken
per repeat (implementation's block / baseline's block of the same repeat) and summarised by
its median and quartiles.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


class Unavailable(Exception):
    """An implementation cannot run here (a library or a name it needs is missing): "n/a"."""


@dataclass
class Runner:
    """One implementation of one workload, set up and ready.

    ``step()`` does one training step (forward, backward, update). ``params()`` returns the
    current parameters as numpy arrays in the workload's canonical order and layout (used by
    the correctness check, never while timing).
    """

    step: Callable[[], None]
    params: Callable[[], list[np.ndarray]]
    # tinygrad_edu's eager runners: the step as three calls, for ``benchmarks.budget``
    phases: Phases | None = None


@dataclass
class Phases:
    """One eager training step split where its time is spent: ``loss = forward()``, then
    ``zero_grad()``, ``backward(loss)``, ``update()`` (the optimizer's step)."""

    forward: Callable[[], Any]
    zero_grad: Callable[[], None]
    backward: Callable[[Any], None]
    update: Callable[[], None]
    optimizer: Any = None  # the optimizer object (its param_groups, for the budget)


@dataclass(frozen=True)
class TimingConfig:
    repeats: int = 21
    warmup_s: float = 0.5  # minimum warm-up time per implementation (not in the results)
    warmup_min_steps: int = 3
    block_s: float = 0.1  # target duration of one timed block
    max_steps_per_block: int = 100_000


QUICK = TimingConfig(repeats=5, warmup_s=0.1, warmup_min_steps=2, block_s=0.02)
FULL = TimingConfig()


@dataclass
class ImplResult:
    name: str
    status: str = "ok"  # "ok" | "n/a" | "error" | "wrong"
    reason: str = ""
    steps_per_block: int = 0
    times_s: list[float] = field(default_factory=list)  # seconds per step, one per repeat
    median_s: float | None = None
    q25_s: float | None = None
    q75_s: float | None = None
    min_s: float | None = None
    max_s: float | None = None
    ratio: float | None = None  # median of the per-repeat ratios to the baseline
    ratio_q25: float | None = None
    ratio_q75: float | None = None
    ratio_of_mins: float | None = None  # best block / baseline's best block: least disturbed
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class WorkloadResult:
    id: str
    title: str
    baseline: str
    status: str = "ok"  # "ok" | "skipped"
    reason: str = ""
    check: dict[str, Any] = field(default_factory=dict)
    impls: list[ImplResult] = field(default_factory=list)
    elapsed_s: float = 0.0  # wall time of the whole workload: setup, check, timing


# --------------------------------------------------------------------------------------------
# timing


def _calibrate(step: Callable[[], None], cfg: TimingConfig) -> int:
    """Warm the implementation up and choose how many steps make one timed block.
    With no warm-up asked for (a step of many seconds), a block is one step."""
    times: list[float] = []
    start = t1 = time.perf_counter()
    while len(times) < cfg.warmup_min_steps or t1 - start < cfg.warmup_s:
        t0 = time.perf_counter()
        step()
        t1 = time.perf_counter()
        times.append(t1 - t0)
    if not times:
        return 1
    # The first steps pay one-off costs (allocation, lazy imports): estimate from the rest.
    per_step = float(np.median(times[len(times) // 2 :]))
    return int(max(1, min(cfg.max_steps_per_block, round(cfg.block_s / max(per_step, 1e-9)))))


def time_interleaved(
    runners: dict[str, Runner], cfg: TimingConfig
) -> tuple[dict[str, list[float]], dict[str, int], dict[str, str]]:
    """Time ``runners`` interleaved. Returns (seconds per step per repeat, steps per block,
    errors). An implementation that raises is dropped from the rest of the run, with its error.
    """
    errors: dict[str, str] = {}
    ks: dict[str, int] = {}
    for name, runner in runners.items():
        try:
            ks[name] = _calibrate(runner.step, cfg)
        except Exception as e:
            errors[name] = f"{type(e).__name__}: {e}"
    names = [n for n in runners if n in ks]
    samples: dict[str, list[float]] = {n: [] for n in names}
    # Collect garbage before every block so that no block pays for another's cycles. Freezing
    # what exists now (torch's import alone leaves ~10^6 objects) makes those collections scan
    # only what the steps create: a fraction of a millisecond instead of most of a second.
    gc.collect()
    gc.freeze()
    try:
        for r in range(cfg.repeats):
            shift = r % len(names) if names else 0
            for name in names[shift:] + names[:shift]:
                if name in errors:
                    continue
                step, k = runners[name].step, ks[name]
                gc.collect()
                try:
                    t0 = time.perf_counter()
                    for _ in range(k):
                        step()
                    samples[name].append((time.perf_counter() - t0) / k)
                except Exception as e:
                    errors[name] = f"{type(e).__name__}: {e}"
    finally:
        gc.unfreeze()
    return samples, ks, errors


def summarize(result: ImplResult, times: Sequence[float], base: Sequence[float] | None) -> None:
    """Fill the statistics of ``result`` from its per-repeat times (and the baseline's)."""
    t = np.asarray(times, dtype=np.float64)
    result.times_s = [float(v) for v in t]
    result.median_s = float(np.median(t))
    result.q25_s, result.q75_s = (float(v) for v in np.percentile(t, [25, 75]))
    result.min_s, result.max_s = float(t.min()), float(t.max())
    if base is not None and len(base) == len(t) and len(t):
        ratios = t / np.asarray(base, dtype=np.float64)  # paired: same repeat, same drift
        result.ratio = float(np.median(ratios))
        result.ratio_q25, result.ratio_q75 = (float(v) for v in np.percentile(ratios, [25, 75]))
        result.ratio_of_mins = float(t.min() / min(base))


# --------------------------------------------------------------------------------------------
# memory


def peak_traced_bytes(fn: Callable[[], None]) -> int:
    """Peak of the memory traced by tracemalloc while ``fn`` runs (Python objects and numpy
    buffers; not the C++ allocations of a library such as torch)."""
    import tracemalloc

    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        if not was_tracing:
            tracemalloc.stop()


def _malloc_trim() -> None:
    """Hand freed heap memory back to the OS (glibc), so the RSS starts from a low mark."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def peak_rss_delta(fn: Callable[[], None], interval_s: float = 0.001) -> int | None:
    """Approximate rise of the resident set size while ``fn`` runs, sampled by a thread.

    Sees every allocator (unlike tracemalloc), but is coarse: the sampler needs the GIL, and
    memory freed earlier and kept by malloc can be reused without raising the RSS.
    """
    statm = Path("/proc/self/statm")
    if not statm.exists():
        return None
    page = os.sysconf("SC_PAGE_SIZE")

    def rss() -> int:
        return int(statm.read_text().split()[1]) * page

    gc.collect()
    _malloc_trim()
    base = peak = rss()
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss())
            stop.wait(interval_s)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        fn()
    finally:
        stop.set()
        sampler.join()
    return peak - base


# --------------------------------------------------------------------------------------------
# formatting


def fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def fmt_bytes(b: float | None) -> str:
    if b is None:
        return "-"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(b) >= scale:
            return f"{b / scale:.3g} {unit}"
    return f"{b:.0f} B"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.2f}" if r >= 0.1 else f"{r:.2g}"  # keep two digits for tiny ratios


def _table(rows: list[list[str]], header: list[str], indent: str = "  ") -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append(indent + "  ".join(cells).rstrip())
    return "\n".join(lines)


def format_workload(w: WorkloadResult) -> str:
    out = [f"{w.id}: {w.title}"]
    if w.status == "skipped":
        out.append(f"  skipped: {w.reason}")
        return "\n".join(out)
    if w.check:
        parts = []
        for name, c in w.check.items():
            if c["status"] == "ok":
                parts.append(f"{name} ok (max |diff| {c.get('max_abs_diff', 0):.1e})")
            else:
                parts.append(f"{name} {c['status']}")
        out.append("  check vs " + w.baseline + ": " + ", ".join(parts))
    rows, notes = [], []
    for r in w.impls:
        if r.status != "ok":
            rows.append([r.name, r.status, "", "", "", "", ""])
            notes.append(f"  {r.name}: {r.status}: {r.reason}")
            continue
        rows.append(
            [
                r.name + (" (baseline)" if r.name == w.baseline else ""),
                fmt_time(r.median_s),
                f"{fmt_time(r.q25_s)} – {fmt_time(r.q75_s)}",
                f"{fmt_time(r.min_s)} – {fmt_time(r.max_s)}",
                fmt_ratio(r.ratio),
                ""
                if r.ratio_q25 is None or r.name == w.baseline
                else f"{fmt_ratio(r.ratio_q25)} – {fmt_ratio(r.ratio_q75)}",
                "" if r.name == w.baseline else fmt_ratio(r.ratio_of_mins),
            ]
        )
        if r.extra.get("summary"):
            notes.append(f"  {r.name}: {r.extra['summary']}")
    header = ["impl", "median/step", "IQR", "min – max", "ratio", "ratio IQR", "min/min"]
    out.append(_table(rows, header))
    out.extend(notes)
    return "\n".join(out)


def format_summary(results: list[WorkloadResult]) -> str:
    """One table of ratios; workloads whose implementations share no name with the first one
    (W6's gradcheck modes) get a table of their own rather than widening it."""
    groups: list[tuple[list[str], list[WorkloadResult]]] = []
    for w in results:
        if w.status == "skipped":
            continue
        names = [r.name for r in w.impls]
        for group_names, members in groups:
            if set(names) & set(group_names):
                group_names.extend(n for n in names if n not in group_names)
                members.append(w)
                break
        else:
            groups.append((names, [w]))
    tables = []
    for names, members in groups:
        rows = []
        for w in members:
            by_name = {r.name: r for r in w.impls}
            row = [w.id, w.baseline]
            for n in names:
                r = by_name.get(n)
                if r is None:
                    row.append("")
                else:
                    row.append(fmt_ratio(r.ratio) if r.status == "ok" else r.status)
            rows.append(row)
        tables.append(_table(rows, ["workload", "baseline", *names]))
    title = "Ratios to the baseline (median time per step / baseline's; lower is faster)"
    return "\n\n".join([title + "\n" + tables[0], *tables[1:]]) if tables else title


def to_json(meta: dict[str, Any], results: list[WorkloadResult]) -> str:
    return json.dumps({"meta": meta, "workloads": [asdict(w) for w in results]}, indent=2)
