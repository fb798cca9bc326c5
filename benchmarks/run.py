"""Command line: ``python -m benchmarks`` or ``python benchmarks/run.py``.

    --quick          short timings, small cases only (under a minute)
    --only W1,W2     some workloads (a name selects its variants: W2 → W2, W2-sgd)
    --json PATH      where to write the results (default benchmarks/results/latest.json)
    --no-check       skip the agreement check (not recommended)
    --list           list the workloads and exit

Exit status: 0, or 1 if an implementation computed something else than the baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def one_thread_env() -> None:
    """Ask for one thread also where threadpoolctl is missing. BLAS libraries read these when
    they load, so this acts only before numpy and torch are imported. Hence this module
    imports neither at the top: the command line calls this first, while a test calling
    ``main()`` in-process leaves its environment alone."""
    for var in THREAD_ENV:
        os.environ.setdefault(var, "1")


DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"


# glibc's mallopt parameters, and the values that hold its allocator in its steady state
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
STEADY_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's maximum
STEADY_TRIM_THRESHOLD = 1 << 30


def steady_allocator() -> str:
    """Fix glibc's malloc in the state a long training run settles into: blocks below 32 MiB
    come from the heap, never from a fresh mmap, and freed memory is not trimmed back.

    By default glibc serves blocks over 128 KiB with mmap until it frees one, then raises
    that threshold, and trims the heap as it shrinks: whether a workload with temporaries
    of 0.2-1 MB (W4) page-faults on every one of them depends on the process's history, and
    its ratio to numpy moved between 0.9 and 1.7 with it (benchmarks/README.md, "Convolution
    round"). Fixed, every implementation in the process runs under the same allocator.
    Returns a note on what was done.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = (libc.mallopt(M_MMAP_THRESHOLD, STEADY_MMAP_THRESHOLD) == 1
              and libc.mallopt(M_TRIM_THRESHOLD, STEADY_TRIM_THRESHOLD) == 1)
    except (OSError, AttributeError):
        return "allocator: not glibc, left as it is"
    if not ok:
        return "allocator: glibc refused mallopt, left as it is"
    return "allocator: glibc fixed in its steady state (no mmap under 32 MiB, no trimming)"


def single_threaded() -> tuple[contextlib.ExitStack, list[str]]:
    """One thread for every BLAS and OpenMP pool, numpy's and torch's alike, until the
    returned context exits (torch's intra-op setting is restored then too)."""
    notes: list[str] = []
    stack = contextlib.ExitStack()
    try:
        import torch
    except Exception:
        notes.append("torch not importable")
    else:
        stack.callback(torch.set_num_threads, torch.get_num_threads())
        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # allowed only before any inter-op work has started
            notes.append(f"torch inter-op threads left at {torch.get_num_interop_threads()}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        notes.append("threadpoolctl missing: BLAS threads limited only by environment variables")
        return stack, notes
    stack.enter_context(threadpool_limits(1))  # after importing torch, so its pools are seen
    return stack, notes


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for mod in ("numpy", "torch", "tinygrad_edu", "threadpoolctl"):
        try:
            out[mod] = getattr(__import__(mod), "__version__", "?")
        except Exception as e:
            out[mod] = None
            out[f"{mod}_error"] = f"{type(e).__name__}: {e}"
    return out


def _cpu() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def _git_commit() -> str | None:
    with contextlib.suppress(Exception):
        return (
            subprocess.run(
                ["git", "rev-parse", "HEAD"],
                cwd=Path(__file__).parent,
                capture_output=True,
                text=True,
                timeout=5,
            ).stdout.strip()
            or None
        )
    return None


def _meta(args, notes: list[str]) -> dict:
    try:
        from threadpoolctl import threadpool_info

        pools = threadpool_info()
    except ImportError:
        pools = []
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "argv": sys.argv[1:] if args.argv is None else args.argv,
        "quick": args.quick,
        "versions": _versions(),
        "platform": platform.platform(),
        "cpu": _cpu(),
        "cpu_count": os.cpu_count(),
        "git_commit": _git_commit(),
        "threadpools": pools,
        "thread_notes": notes,
        "env": {
            k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", *THREAD_ENV)
        },
    }


def main(argv: list[str] | None = None) -> int:
    from benchmarks import harness
    from benchmarks.workloads import WORKLOADS, run_workload, select

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="short run (< 1 min)")
    parser.add_argument("--only", metavar="W1,W2", help="comma-separated workload names")
    parser.add_argument("--json", metavar="PATH", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--no-check", action="store_true", help="skip the agreement check")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = parser.parse_args(argv)
    args.argv = argv

    if args.list:
        for w in WORKLOADS.values():
            quick = "" if w.in_quick else "  (not in --quick)"
            print(f"{w.id:8} {w.title}{quick}")
        return 0
    try:
        chosen = select(args.only, args.quick)
    except ValueError as e:
        parser.error(str(e))

    limits, notes = single_threaded()
    notes.append(steady_allocator())
    results = []
    start = time.perf_counter()
    with limits:
        meta = _meta(args, notes)
        for w in chosen:
            t0 = time.perf_counter()
            res = run_workload(
                w,
                args.quick,
                check=not args.no_check,
                log=lambda m: print(m, file=sys.stderr, flush=True),
            )
            res.elapsed_s = round(time.perf_counter() - t0, 2)
            results.append(res)
            print(harness.format_workload(res) + "\n", flush=True)
    meta["elapsed_s"] = round(time.perf_counter() - start, 2)
    print(harness.format_summary(results))
    for note in notes:
        print(f"note: {note}")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(harness.to_json(meta, results) + "\n")
    print(f"\nwrote {args.json} ({meta['elapsed_s']} s)")

    wrong = [f"{w.id}:{r.name}" for w in results for r in w.impls if r.status == "wrong"]
    if wrong:
        print("DISAGREEMENT with the baseline (timings of these are withheld): " + ", ".join(wrong))
        return 1
    return 0


if __name__ == "__main__":
    one_thread_env()
    sys.exit(main())
