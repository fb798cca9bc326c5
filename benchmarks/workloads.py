"""The workloads: their data and initial weights, which implementations run them, the
correctness check, and running one workload into a ``WorkloadResult``.

Canonical parameter layouts (what every ``Runner.params()`` returns):
  W1   [W_hidden (6, 2), W_out (1, 7)] — seed 002's bias-column weights, column 0 is the bias
  W2-4 PyTorch's: Linear weight (out, in), bias (out,); Conv2d weight (out, in, k, k)
  W5   [x.grad, y] after one chain (both should be [1.0])
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from types import SimpleNamespace
from typing import Any

import numpy as np

from benchmarks import impl_numpy, impl_scalar, impl_tinygrad, impl_torch
from benchmarks.harness import (
    FULL,
    QUICK,
    ImplResult,
    Runner,
    TimingConfig,
    Unavailable,
    WorkloadResult,
    fmt_bytes,
    fmt_time,
    peak_rss_delta,
    peak_traced_bytes,
    summarize,
    time_interleaved,
)

F32 = np.float32

# --------------------------------------------------------------------------------------------
# data and initial weights (numpy, float32, fixed seeds)


def setup_w1(quick: bool) -> SimpleNamespace:
    """Seed 002's answer, offline: m = 1000 points on [0, 4π], noise U(-kx, kx), the target
    scaled into the sigmoid's range, weights U(-0.12, 0.12) of shape [n_{l+1}, n_l + 1]."""
    rng = np.random.default_rng(2)
    m, kx = 1000, 0.1
    x = np.linspace(0.0, 4 * np.pi, m)[:, None]
    y = np.sin(x) + rng.uniform(-kx, kx, size=(m, 1))
    return SimpleNamespace(
        m=m,
        lr=0.5,
        a0=np.concatenate([np.ones((m, 1)), x], axis=1).astype(F32),  # bias column first
        Y=((y / (1 + kx) + 1) / 2).astype(F32),
        params=[rng.uniform(-0.12, 0.12, size=s).astype(F32) for s in ((6, 2), (1, 7))],
    )


def _glorot_uniform(rng, fan_in: int, fan_out: int) -> np.ndarray:
    lim = math.sqrt(6.0 / (fan_in + fan_out))  # Keras's default kernel initializer
    return rng.uniform(-lim, lim, size=(fan_out, fan_in)).astype(F32)


def _torch_default(rng, shape: tuple, fan_in: int) -> np.ndarray:
    lim = 1.0 / math.sqrt(fan_in)  # what nn.Linear / nn.Conv2d's reset_parameters gives
    return rng.uniform(-lim, lim, size=shape).astype(F32)


KERAS_ADAM = {"kind": "adam", "lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-7}
KERAS_SGD = {"kind": "sgd", "lr": 0.01}


def setup_w2(quick: bool, optimizer: dict) -> SimpleNamespace:
    """Seed 000's answer: x ~ U[0,1)^2, y = x1*x2, 1000 samples in batches of 10; Keras's
    Dense init (Glorot uniform kernel, zero bias)."""
    rng = np.random.default_rng(0)
    x = rng.random((1000, 2), dtype=F32)
    y = x[:, :1] * x[:, 1:]
    sizes = [2, 2, 4, 1]
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        params += [_glorot_uniform(rng, fan_in, fan_out), np.zeros(fan_out, F32)]
    batches = [(x[i : i + 10].copy(), y[i : i + 10].copy()) for i in range(0, 1000, 10)]
    return SimpleNamespace(sizes=sizes, params=params, batches=batches, optimizer=optimizer)


def setup_w3(quick: bool) -> SimpleNamespace:
    rng = np.random.default_rng(3)
    sizes, batch = [784, 256, 256, 10], 128
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        params += [
            _torch_default(rng, (fan_out, fan_in), fan_in),
            _torch_default(rng, (fan_out,), fan_in),
        ]
    batches = [
        (rng.random((batch, 784), dtype=F32), rng.integers(0, 10, size=batch)) for _ in range(4)
    ]
    return SimpleNamespace(
        sizes=sizes,
        batch=batch,
        params=params,
        batches=batches,
        optimizer={"kind": "sgd", "lr": 0.01, "momentum": 0.9},
    )


def setup_w4(quick: bool) -> SimpleNamespace:
    """1×28×28 → conv 3x3 8 → relu → pool 2 → conv 3x3 16 → relu → pool 2 → linear 10.
    Valid convolutions, floor pooling: 28 → 26 → 13 → 11 → 5."""
    rng = np.random.default_rng(4)
    batch, cin, (c1, c2), k, classes = 32, 1, (8, 16), 3, 10
    side = ((28 - k + 1) // 2 - k + 1) // 2
    flat = c2 * side * side
    params = [
        _torch_default(rng, (c1, cin, k, k), cin * k * k),
        _torch_default(rng, (c1,), cin * k * k),
        _torch_default(rng, (c2, c1, k, k), c1 * k * k),
        _torch_default(rng, (c2,), c1 * k * k),
        _torch_default(rng, (classes, flat), flat),
        _torch_default(rng, (classes,), flat),
    ]
    batches = [
        (rng.random((batch, cin, 28, 28), dtype=F32), rng.integers(0, classes, size=batch))
        for _ in range(4)
    ]
    return SimpleNamespace(
        batch=batch,
        in_channels=cin,
        channels=(c1, c2),
        kernel=k,
        classes=classes,
        flat_hw=(side, side),
        params=params,
        batches=batches,
        optimizer={"kind": "sgd", "lr": 0.01},
    )


def setup_w5(quick: bool, nodes: int) -> SimpleNamespace:
    return SimpleNamespace(nodes=nodes)


def setup_w6(quick: bool) -> SimpleNamespace:
    """A tanh MLP of ~10k parameters (20-100-80-1; ~1.3k in quick mode), float64, weights in
    (in, out) layout, a fixed batch of 16."""
    rng = np.random.default_rng(6)
    sizes = [10, 40, 20, 1] if quick else [20, 100, 80, 1]
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        params += [
            rng.normal(0, 1 / math.sqrt(fan_in), size=(fan_in, fan_out)),
            rng.normal(0, 0.1, size=fan_out),
        ]
    x = rng.normal(size=(16, sizes[0]))
    return SimpleNamespace(
        sizes=sizes,
        n_params=sum(p.size for p in params),
        params=params,
        x=x,
        y=rng.normal(size=(16, 1)),
    )


# --------------------------------------------------------------------------------------------
# the registry


@dataclass
class Workload:
    id: str
    title: str
    setup: Callable[[bool], Any]
    impls: dict[str, Callable[[Any], Runner]]  # name → factory(setup) -> Runner
    baseline: str = "numpy"
    in_quick: bool = True
    check: bool = True  # compare params after a few steps against the baseline's
    check_steps: int = 3
    timing: TimingConfig | None = None  # None: the run's QUICK or FULL
    measure: Callable[[Any, Runner], dict] | None = None  # extra figures per implementation
    available: Callable[[], str | None] = lambda: None  # a reason to skip the whole workload
    float32: set[str] = field(
        default_factory=lambda: {"numpy", "torch", "tinygrad_edu", "tinygrad_edu-jit"}
    )


def _measure_chain(s, runner: Runner) -> dict:
    traced = peak_traced_bytes(runner.step)
    rss = peak_rss_delta(runner.step)
    out = {"nodes": s.nodes, "traced_peak_bytes": traced, "rss_peak_delta_bytes": rss}
    out["traced_bytes_per_node"] = traced / s.nodes
    if rss is not None:
        out["rss_bytes_per_node"] = rss / s.nodes
    return out


def _w6_available() -> str | None:
    try:
        impl_tinygrad.gradcheck_fn()
    except Unavailable as e:
        return f"{e} (W6 compares tinygrad_edu's gradcheck modes)"
    return None


def _w5(nodes: int, label: str, timing: TimingConfig | None, in_quick: bool, check=True):
    return Workload(
        id=f"W5-{label}",
        title=f"graph scale: chain of {nodes:,} elementwise ops on a 1-element tensor, "
        "forward + backward",
        setup=partial(setup_w5, nodes=nodes),
        impls={"torch": impl_torch.w5, "tinygrad_edu": impl_tinygrad.w5},
        baseline="torch",
        in_quick=in_quick,
        check=check,
        check_steps=1,
        timing=timing,
        measure=_measure_chain,
    )


def _w6_impls() -> dict[str, Callable]:
    return {
        "torch-slow": partial(impl_torch.w6, fast_mode=False),
        "torch-fast": partial(impl_torch.w6, fast_mode=True),
        "tinygrad_edu-slow": partial(impl_tinygrad.w6, fast_mode=False),
        "tinygrad_edu-fast": partial(impl_tinygrad.w6, fast_mode=True),
    }


def _jit(factory: Callable) -> Callable:
    """The same implementation through ``tinygrad_edu.autograd.compile_step`` (a captured
    step: recorded on its first two calls, replayed afterwards)."""
    return partial(factory, jit=True)


_ONE_BY_ONE = TimingConfig(repeats=5, warmup_s=0.0, warmup_min_steps=1, block_s=0.0)

WORKLOADS: dict[str, Workload] = {
    w.id: w
    for w in [
        Workload(
            "W1",
            "seed 002 offline sine: [1,6,1] sigmoid, bias column, m=1000 full batch, SGD 0.5",
            setup_w1,
            {"numpy": impl_numpy.w1, "torch": impl_torch.w1, "tinygrad_edu": impl_tinygrad.w1,
             "tinygrad_edu-jit": _jit(impl_tinygrad.w1)},
        ),
        Workload(
            "W2",
            "seed 000 Keras net: 2-2-4-1 relu, MSE, batch 10, Adam(1e-3, eps 1e-7)",
            partial(setup_w2, optimizer=KERAS_ADAM),
            {
                "numpy": impl_numpy.w2,
                "torch": impl_torch.w2,
                "scalar": impl_scalar.w2,
                "tinygrad_edu": impl_tinygrad.w2,
                "tinygrad_edu-jit": _jit(impl_tinygrad.w2),
            },
        ),
        Workload(
            "W2-sgd",
            "seed 000 Keras net: 2-2-4-1 relu, MSE, batch 10, SGD(0.01)",
            partial(setup_w2, optimizer=KERAS_SGD),
            {
                "numpy": impl_numpy.w2,
                "torch": impl_torch.w2,
                "scalar": impl_scalar.w2,
                "tinygrad_edu": impl_tinygrad.w2,
                "tinygrad_edu-jit": _jit(impl_tinygrad.w2),
            },
        ),
        Workload(
            "W3",
            "MLP 784-256-256-10 relu, batch 128, softmax cross-entropy, SGD momentum 0.9",
            setup_w3,
            {"numpy": impl_numpy.w3, "torch": impl_torch.w3, "tinygrad_edu": impl_tinygrad.w3,
             "tinygrad_edu-jit": _jit(impl_tinygrad.w3)},
        ),
        Workload(
            "W4",
            "conv net 1x28x28: conv3x3 8, relu, pool2, conv3x3 16, relu, pool2, linear 10; "
            "batch 32, cross-entropy, SGD",
            setup_w4,
            {"numpy": impl_numpy.w4, "torch": impl_torch.w4, "tinygrad_edu": impl_tinygrad.w4,
             "tinygrad_edu-jit": _jit(impl_tinygrad.w4)},
        ),
        _w5(10_000, "1e4", None, in_quick=True),
        _w5(100_000, "1e5", replace(_ONE_BY_ONE, repeats=5), in_quick=False),
        # 1e6: ~10 s a chain. No warm-up (1e5 ran the same code), no check (1e4 and 1e5 checked
        # the same code); the two memory measurements take a chain each.
        _w5(1_000_000, "1e6", replace(_ONE_BY_ONE, repeats=3, warmup_min_steps=0), False, False),
        Workload(
            "W6",
            "gradcheck of a ~10k-parameter tanh MLP (float64): fast mode vs per-element mode",
            setup_w6,
            _w6_impls(),
            baseline="torch-slow",
            check=False,
            timing=_ONE_BY_ONE,
            available=_w6_available,
        ),
    ]
}


def select(only: str | None, quick: bool) -> list[Workload]:
    """Workloads named in ``only`` ("W1,W5" — a name also selects its variants, W5 → W5-1e4
    ...), or all; in quick mode only those marked for it."""
    if not only:
        return [w for w in WORKLOADS.values() if w.in_quick or not quick]
    tokens = [t.strip().upper() for t in only.split(",") if t.strip()]
    picked = [
        w
        for w in WORKLOADS.values()
        if any(w.id.upper() == t or w.id.upper().startswith(t + "-") for t in tokens)
    ]
    unknown = [
        t
        for t in tokens
        if not any(
            w.id.upper() == t or w.id.upper().startswith(t + "-") for w in WORKLOADS.values()
        )
    ]
    if unknown:
        raise ValueError(f"unknown workload(s) {unknown}; known: {', '.join(WORKLOADS)}")
    if quick:
        picked = [w for w in picked if w.in_quick] or picked
    return picked


# --------------------------------------------------------------------------------------------
# correctness


class CheckFailed(AssertionError):
    def __init__(self, workload: str, report: dict):
        bad = {k: v for k, v in report.items() if v["status"] not in ("ok", "n/a")}
        super().__init__(f"{workload}: implementations disagree with the baseline: {bad}")
        self.report = report


def check_agreement(
    workload_id: str,
    *,
    steps: int | None = None,
    atol: float = 1e-5,
    rtol: float = 1e-5,
    setup: Any = None,
    raise_on_failure: bool = True,
) -> dict[str, dict]:
    """Run ``steps`` training steps of every implementation from the same initial weights and
    data, and compare the resulting parameters with the baseline's.

    Returns ``{impl: {"status": "ok" | "n/a" | "mismatch" | "error", ...}}``; an unavailable
    implementation (tinygrad_edu not written yet, torch missing) is "n/a", not a failure.
    Raises ``CheckFailed`` on any mismatch or error unless ``raise_on_failure`` is False.
    """
    w = WORKLOADS[workload_id]
    s = w.setup(True) if setup is None else setup
    steps = w.check_steps if steps is None else steps

    def run(name: str) -> list[np.ndarray]:
        runner = w.impls[name](s)
        for _ in range(steps):
            runner.step()
        return runner.params()

    reference = run(w.baseline)
    if w.baseline in w.float32:
        dtypes = {str(p.dtype) for p in reference}
        assert dtypes == {"float32"}, f"{workload_id}: baseline parameters are {dtypes}"
    if getattr(s, "params", None) is not None:  # a check of nothing is not a check
        moved = max(
            float(np.max(np.abs(p - p0))) for p, p0 in zip(reference, s.params, strict=True)
        )
        assert moved > 10 * atol, f"{workload_id}: the baseline's step left the weights alone"
    report: dict[str, dict] = {}
    for name in w.impls:
        if name == w.baseline:
            continue
        try:
            got = run(name)
        except Unavailable as e:
            report[name] = {"status": "n/a", "reason": str(e)}
            continue
        except Exception as e:
            report[name] = {"status": "error", "reason": f"{type(e).__name__}: {e}"}
            continue
        report[name] = _compare(got, reference, atol, rtol, name in w.float32)
    if raise_on_failure and any(r["status"] not in ("ok", "n/a") for r in report.values()):
        raise CheckFailed(workload_id, report)
    return report


def _compare(got, expected, atol, rtol, want_float32: bool) -> dict:
    if len(got) != len(expected):
        return {"status": "mismatch", "reason": f"{len(got)} parameters, expected {len(expected)}"}
    worst = 0.0
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        g = np.asarray(g)
        if g.shape != e.shape:
            return {"status": "mismatch", "reason": f"param {i}: shape {g.shape} != {e.shape}"}
        if want_float32 and g.dtype != np.float32:
            return {"status": "mismatch", "reason": f"param {i}: dtype {g.dtype}, not float32"}
        diff = np.abs(g.astype(np.float64) - e)
        worst = max(worst, float(diff.max()))
        if not np.all(diff <= atol + rtol * np.abs(e)):
            j = np.unravel_index(int(np.argmax(diff)), diff.shape)
            return {
                "status": "mismatch",
                "max_abs_diff": float(diff.max()),
                "reason": f"param {i}{[int(k) for k in j]}: {float(g[j])!r} vs {float(e[j])!r}",
            }
    return {"status": "ok", "max_abs_diff": worst}


# --------------------------------------------------------------------------------------------
# running one workload


def _gradcheck_speedups(rows: dict[str, ImplResult], n_params: int) -> None:
    """W6: how much faster each library's fast mode is than its own per-element mode."""
    for name, fast in rows.items():
        slow = rows.get(name.replace("-fast", "-slow"))
        if not name.endswith("-fast") or slow is None:
            continue
        if fast.status == "ok" and slow.status == "ok" and fast.median_s:
            speedup = slow.median_s / fast.median_s
            fast.extra["speedup_vs_slow"] = speedup
            fast.extra["summary"] = (
                f"{speedup:.3g}x faster than per-element mode on {n_params:,} parameters"
            )


def run_workload(w: Workload, quick: bool, check: bool = True, log=print) -> WorkloadResult:
    result = WorkloadResult(id=w.id, title=w.title, baseline=w.baseline)
    try:
        reason = w.available()
    except Exception as e:
        reason = f"{type(e).__name__}: {e}"
    if reason:
        result.status, result.reason = "skipped", reason
        return result
    s = w.setup(quick)
    rows = {name: ImplResult(name) for name in w.impls}

    if check and w.check:
        log(f"[{w.id}] checking that the implementations agree ...")
        try:
            result.check = check_agreement(w.id, setup=s, raise_on_failure=False)
        except Unavailable as e:  # no baseline (torch for W5): nothing to compare with
            result.check = {w.baseline: {"status": "n/a", "reason": str(e)}}
        except Exception as e:  # the baseline itself fails: report it, time the rest
            result.check = {w.baseline: {"status": "error", "reason": f"{type(e).__name__}: {e}"}}
        for name, c in result.check.items():
            if c["status"] == "mismatch":  # computes something else: not worth timing
                rows[name].status, rows[name].reason = "wrong", c.get("reason", "mismatch")
            elif c["status"] == "error":  # raised during the check: it would raise again
                rows[name].status, rows[name].reason = "error", c["reason"]

    runners: dict[str, Runner] = {}
    for name, factory in w.impls.items():
        if rows[name].status != "ok":
            continue
        try:
            runners[name] = factory(s)
        except Unavailable as e:
            rows[name].status, rows[name].reason = "n/a", str(e)
        except Exception as e:
            rows[name].status, rows[name].reason = "error", f"{type(e).__name__}: {e}"

    cfg = w.timing or (QUICK if quick else FULL)
    if quick and w.timing is not None:  # a workload of long steps (W6): keep --quick short
        cfg = replace(cfg, repeats=min(cfg.repeats, 3))
    log(f"[{w.id}] timing {', '.join(runners) or 'nothing'} ...")
    samples, ks, errors = time_interleaved(runners, cfg)
    base = samples.get(w.baseline) if w.baseline not in errors else None
    for name, runner in runners.items():
        row = rows[name]
        if name in errors:
            row.status, row.reason = "error", errors[name]
            continue
        row.steps_per_block = ks[name]
        summarize(row, samples[name], base)
        if w.measure is not None:
            try:
                row.extra = w.measure(s, runner)
            except Exception as e:
                row.extra = {"error": f"{type(e).__name__}: {e}"}
        nodes = row.extra.get("nodes")
        if nodes:
            x = row.extra
            x["per_node_s"] = row.median_s / nodes
            x["summary"] = (
                f"{fmt_time(x['per_node_s'])}/node; peak memory "
                f"{fmt_bytes(x['traced_peak_bytes'])} traced "
                f"({x['traced_bytes_per_node']:.0f} B/node), "
                f"RSS +{fmt_bytes(x['rss_peak_delta_bytes'])}"
            )
    if w.id == "W6":
        _gradcheck_speedups(rows, s.n_params)
    result.impls = list(rows.values())
    return result
