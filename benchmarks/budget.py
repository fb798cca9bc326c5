"""Where an eager tinygrad_edu training step spends its time: numpy work vs framework, per
phase (forward, backward, optimizer), next to the hand-written numpy step.

    python -m benchmarks.budget                      # W1, W2, W2-sgd
    python -m benchmarks.budget --only W2 --repeats 30
    python -m benchmarks.budget --variants           # also: the per-parameter optimizer
                                                     # loop, the loss as a composite

How the split is made, for each phase of ``impls_tinygrad``'s eager step
(``loss = forward(); zero_grad(); backward(loss); step()``):

* **total** — the phase's time in ordinary steps (a ``perf_counter`` around each call);
* **numpy work** — in separate steps, every ``Function``'s ``forward`` and ``backward`` is
  wrapped in a timer: the time spent inside the primitives' rules, i.e. their numpy calls
  (a rule called by another rule is counted once). For the optimizer phase, the time the
  hand-written numpy optimizer of ``impl_numpy`` takes for the same update on arrays of the
  same shapes;
* **framework** — total minus numpy work: Tensor and graph-node creation, argument checks,
  the graph walk, gradient bookkeeping (including the engine's own numpy calls: the seed
  gradient, copies into ``.grad``, accumulations), the optimizer's Python.

Blocks of steps of every measurement (numpy baseline, tinygrad_edu phases, instrumented
tinygrad_edu, numpy optimizer) run interleaved, in a rotating order, ``--repeats`` times;
the figures are medians over the repeats with the interquartile range. The machine's load
moves every figure together, so compare within a run, and compare runs by the ratio to
numpy's step.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import impl_numpy, impl_tinygrad
from benchmarks.harness import Phases, Runner
from benchmarks.run import one_thread_env, single_threaded, steady_allocator
from benchmarks.workloads import WORKLOADS

perf_counter = time.perf_counter
PHASES = ("forward", "backward", "optimizer")


# --------------------------------------------------------------------------------------------
# time inside the primitives' rules


class RuleTimer:
    """Wraps ``forward`` and ``backward`` of every ``Function`` subclass with a timer while
    active (``with timer:``); ``timer.total`` is the seconds spent inside them."""

    def __init__(self) -> None:
        self.total = 0.0
        self._depth = 0
        self._saved: list[tuple[type, str, object]] = []

    def _wrap(self, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            if self._depth:  # a rule calling another primitive: counted by the outer one
                return fn(*args, **kwargs)
            self._depth = 1
            t0 = perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.total += perf_counter() - t0
                self._depth = 0

        return timed

    def __enter__(self) -> RuleTimer:
        from tinygrad_edu.autograd.function import Function

        stack, seen = [Function], set()
        while stack:
            cls = stack.pop()
            for sub in cls.__subclasses__():
                if sub not in seen:
                    seen.add(sub)
                    stack.append(sub)
        for cls in seen:
            for name in ("forward", "backward"):
                if name in vars(cls):
                    original = vars(cls)[name]
                    self._saved.append((cls, name, original))
                    setattr(cls, name, staticmethod(self._wrap(getattr(cls, name))))
        return self

    def __exit__(self, *exc: object) -> None:
        for cls, name, original in reversed(self._saved):
            setattr(cls, name, original)
        self._saved.clear()


# --------------------------------------------------------------------------------------------
# one workload


@dataclass
class Samples:
    """Microseconds per step, one value per repeat, for each figure."""

    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, key: str, seconds_per_step: float) -> None:
        self.values.setdefault(key, []).append(seconds_per_step * 1e6)

    def median(self, key: str) -> float:
        return float(np.median(self.values[key]))

    def iqr(self, key: str) -> tuple[float, float]:
        q25, q75 = np.percentile(self.values[key], [25, 75])
        return float(q25), float(q75)


def _phase_block(phases: Phases, k: int, timer: RuleTimer | None) -> dict[str, float]:
    """Run ``k`` eager steps; seconds per step in each phase (inside the rules if timed)."""
    forward, zero_grad, backward, update = (
        phases.forward, phases.zero_grad, phases.backward, phases.update
    )
    spent = dict.fromkeys(PHASES, 0.0)
    for _ in range(k):
        if timer is None:
            t0 = perf_counter()
            loss = forward()
            t1 = perf_counter()
            zero_grad()
            t2 = perf_counter()
            backward(loss)
            t3 = perf_counter()
            update()
            t4 = perf_counter()
            spent["forward"] += t1 - t0
            spent["backward"] += t3 - t2
            spent["optimizer"] += (t2 - t1) + (t4 - t3)
        else:
            r0 = timer.total
            loss = forward()
            r1 = timer.total
            zero_grad()
            backward(loss)
            r2 = timer.total
            update()
            spent["forward"] += r1 - r0
            spent["backward"] += r2 - r1
    return {p: v / k for p, v in spent.items()}


def _numpy_optimizer(phases: Phases, spec: dict) -> Callable[[], None]:
    """The hand-written optimizer of ``impl_numpy`` on copies of the parameters, fed the
    current gradients: the numpy work an update needs."""
    params = [p for g in phases.optimizer.param_groups for p in g["params"]]
    copies = [np.array(p.data) for p in params]
    opt = impl_numpy.make_optimizer(copies, spec)
    grads = [np.array(p.grad.data) if p.grad is not None else np.zeros_like(c)
             for p, c in zip(params, copies, strict=True)]
    return lambda: opt.step(grads)


def _timed_block(fn: Callable[[], None], k: int) -> float:
    t0 = perf_counter()
    for _ in range(k):
        fn()
    return (perf_counter() - t0) / k


def _steps_per_block(fn: Callable[[], None], block_s: float) -> int:
    for _ in range(20):  # warm-up
        fn()
    t = _timed_block(fn, 20)
    return max(1, round(block_s / max(t, 1e-9)))


def _factory(workload_id: str) -> Callable:
    return getattr(impl_tinygrad, workload_id.split("-")[0].lower())


def _per_parameter(runner: Runner) -> Runner:
    """The optimizer's per-parameter loop (``foreach=False``)."""
    runner.phases.optimizer.foreach = False
    return runner


VARIANTS: dict[str, Callable[[Callable, Any], Runner]] = {
    "foreach=False": lambda f, s: _per_parameter(f(s)),
    "composite loss": lambda f, s: f(s, composite_loss=True),
    "composite loss, foreach=False": lambda f, s: _per_parameter(f(s, composite_loss=True)),
}


def measure(workload_id: str, repeats: int, block_s: float,
            variants: Sequence[str] = ()) -> dict[str, Samples]:
    """Samples for the tinygrad_edu runner of ``workload_id`` (``"default"``) and for each
    of ``variants`` (names in ``VARIANTS``), all interleaved with the numpy baseline."""
    w = WORKLOADS[workload_id]
    s = w.setup(False)
    baseline = getattr(impl_numpy, workload_id.split("-")[0].lower())(s)
    factory = _factory(workload_id)
    runners = {"default": factory(s)}
    for name in variants:
        runners[name] = VARIANTS[name](factory, s)
    spec = getattr(s, "optimizer", None) or {"kind": "sgd", "lr": s.lr}
    opt_numpy = {name: _numpy_optimizer(r.phases, spec) for name, r in runners.items()}
    k_base = _steps_per_block(baseline.step, block_s)
    ks = {name: _steps_per_block(r.step, block_s) for name, r in runners.items()}
    k_opt = _steps_per_block(opt_numpy["default"], block_s / 4)
    timer = RuleTimer()
    out = {name: Samples() for name in runners}
    jobs = [("numpy", "step")] + [(n, kind) for n in runners for kind in ("phases", "rules")]
    jobs.append(("numpy", "optimizer"))
    gc.collect()
    gc.freeze()
    try:
        for rep in range(repeats):
            shift = rep % len(jobs)
            for name, kind in jobs[shift:] + jobs[:shift]:
                gc.collect()
                if name == "numpy":
                    if kind == "step":
                        t = _timed_block(baseline.step, k_base)
                        key = "numpy step"
                    else:  # the same hand-written update for every variant
                        t = _timed_block(opt_numpy["default"], k_opt)
                        key = "optimizer numpy"
                    for sm in out.values():
                        sm.add(key, t)
                    continue
                r, sm = runners[name], out[name]
                if kind == "phases":
                    spent = _phase_block(r.phases, ks[name], None)
                    for p, v in spent.items():
                        sm.add(f"{p} total", v)
                    sm.add("step total", sum(spent.values()))
                else:
                    with timer:
                        spent = _phase_block(r.phases, ks[name], timer)
                    sm.add("forward numpy", spent["forward"])
                    sm.add("backward numpy", spent["backward"])
    finally:
        gc.unfreeze()
    for sm in out.values():
        for p in PHASES:
            sm.values[f"{p} framework"] = [
                t - n for t, n in zip(sm.values[f"{p} total"], sm.values[f"{p} numpy"],
                                      strict=True)
            ]
        sm.values["ratio"] = [
            t / n for t, n in zip(sm.values["step total"], sm.values["numpy step"], strict=True)
        ]
    return out


# --------------------------------------------------------------------------------------------
# printing


def _cell(sm: Samples, key: str, stat: str) -> str:
    values = sm.values[key]
    lo, hi = sm.iqr(key)
    if key == "ratio":
        return f"{sm.median(key):.2f} ({lo:.2f}–{hi:.2f})"
    if stat == "min":
        return f"{min(values):.1f}"
    return f"{sm.median(key):.1f} ({lo:.0f}–{hi:.0f})"


def format_budget(workload_id: str, sm: Samples, label: str = "", stat: str = "median") -> str:
    """The budget table. With ``stat="min"`` every figure is the least disturbed one (the
    minimum over the repeats; framework = min(total) - min(numpy work)); the ratio is
    always the median (IQR) of the per-repeat ratios, plus the ratio of the minima."""
    if stat == "min":  # framework from the minima, not the minimum of the differences
        sm = Samples({k: list(v) for k, v in sm.values.items()})
        for p in PHASES:
            sm.values[f"{p} framework"] = [min(sm.values[f"{p} total"])
                                           - min(sm.values[f"{p} numpy"])]
    rows = [["phase", "numpy work µs", "framework µs", "total µs"]]
    for p in PHASES:
        rows.append([p, _cell(sm, f"{p} numpy", stat), _cell(sm, f"{p} framework", stat),
                     _cell(sm, f"{p} total", stat)])
    rows.append(["step", "", "", _cell(sm, "step total", stat)])
    rows.append(["hand-written numpy step", "", "", _cell(sm, "numpy step", stat)])
    rows.append(["ratio to numpy", "", "", _cell(sm, "ratio", stat)])
    mins = min(sm.values["step total"]) / min(sm.values["numpy step"])
    rows.append(["ratio of the minima", "", "", f"{mins:.2f}"])
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    what = "minimum" if stat == "min" else "median (IQR)"
    lines = [f"{workload_id}{' ' + label if label else ''}: {what} over "
             f"{len(sm.values['ratio'])} repeats"]
    for r in rows:
        lines.append("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                      for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(lines)


@contextlib.contextmanager
def _limits() -> Iterator[None]:
    stack, notes = single_threaded()
    notes.append(steady_allocator())
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    with stack:
        yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.budget", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="W1,W2,W2-sgd", help="workloads (W1, W2, W2-sgd)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--block", type=float, default=0.05, help="seconds per timed block")
    parser.add_argument("--json", type=Path, help="also write every sample (µs) here")
    parser.add_argument("--stat", choices=["median", "min"], default="median",
                        help="the figure per cell: median (IQR), or the minimum (least "
                             "disturbed by other load)")
    parser.add_argument("--variants", action="store_true",
                        help="also time " + ", ".join(f"'{v}'" for v in VARIANTS))
    args = parser.parse_args(argv)
    variants = list(VARIANTS) if args.variants else []
    import tinygrad_edu

    print(f"tinygrad_edu from {Path(tinygrad_edu.__file__).parent}")
    dump: dict[str, dict] = {}
    with _limits():
        for wid in [t.strip() for t in args.only.split(",") if t.strip()]:
            if wid not in ("W1", "W2", "W2-sgd"):
                parser.error(f"the budget covers W1, W2 and W2-sgd, not {wid}")
            results = measure(wid, args.repeats, args.block, variants)
            dump[wid] = {name: sm.values for name, sm in results.items()}
            for name, sm in results.items():
                print(format_budget(wid, sm, "" if name == "default" else f"[{name}]",
                                    args.stat))
                print(flush=True)
    if args.json:
        args.json.write_text(json.dumps({"tinygrad_edu": str(Path(tinygrad_edu.__file__).parent),
                                         "samples_us": dump}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    one_thread_env()
    sys.exit(main())
