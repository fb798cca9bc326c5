"""The benchmark harness runs: every implementation agrees with the baseline on every
workload, and one ``--quick`` run of a small subset completes and writes its JSON.

No timing is asserted anywhere (timings on a shared machine say nothing about correctness).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the benchmarks package lives at the repository root
    sys.path.insert(0, str(ROOT))

from benchmarks.run import main  # noqa: E402
from benchmarks.workloads import WORKLOADS, check_agreement  # noqa: E402

# every workload with an agreement check (W5-1e6 and W6 have none)
CHECKED = [w.id for w in WORKLOADS.values() if w.check and w.id != "W5-1e5"]


@pytest.mark.parametrize("workload", CHECKED)
def test_implementations_agree_with_the_baseline(workload: str) -> None:
    report = check_agreement(workload)  # raises CheckFailed on a mismatch or an error
    assert report["tinygrad_edu"]["status"] == "ok", report["tinygrad_edu"]
    for name, r in report.items():
        assert r["status"] in ("ok", "n/a"), (name, r)


def test_quick_run_writes_a_complete_report(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    assert main(["--quick", "--only", "W1,W2", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    workloads = {w["id"]: w for w in data["workloads"]}
    assert set(workloads) == {"W1", "W2", "W2-sgd"}
    for w in workloads.values():
        impls = {i["name"]: i for i in w["impls"]}
        assert impls["numpy"]["status"] == "ok" and impls["numpy"]["ratio"] == pytest.approx(1)
        ours = impls["tinygrad_edu"]
        assert ours["status"] == "ok", ours["reason"]
        assert ours["median_s"] > 0 and ours["ratio"] > 0 and ours["times_s"]


def test_budget_splits_a_step_and_leaves_the_primitives_unwrapped(tmp_path: Path,
                                                                  capsys) -> None:
    from benchmarks import budget
    from tinygrad_edu.autograd.function import Function
    from tinygrad_edu.nn._functions import Linear

    forward, backward = Linear.forward, Linear.backward
    out = tmp_path / "budget.json"
    assert budget.main(["--only", "W2", "--repeats", "2", "--block", "0.002",
                        "--variants", "--json", str(out)]) == 0
    assert (Linear.forward, Linear.backward) == (forward, backward)
    assert all("timed" not in getattr(c.forward, "__qualname__", "")
               for c in Function.__subclasses__())
    samples = json.loads(out.read_text())["samples_us"]["W2"]
    assert set(samples) == {"default", *budget.VARIANTS}
    for values in samples.values():
        for key in ("forward numpy", "backward numpy", "forward total", "step total",
                    "numpy step", "optimizer numpy"):
            assert len(values[key]) == 2 and min(values[key]) > 0, key
    text = capsys.readouterr().out
    assert "W2 [foreach=False]" in text and "ratio to numpy" in text


@pytest.mark.parametrize("floor_name", ["rules_only", "bare_engine"])
def test_the_floor_steps_are_the_eager_step_without_the_engine(floor_name: str) -> None:
    """``benchmarks.floor`` times W1's rules called directly, and through a feature-free
    engine: both must compute the same training step as the eager runner, bit for bit, or the
    floors it reports mean nothing."""
    import numpy as np

    from benchmarks import floor

    w = WORKLOADS["W1"]
    s = w.setup(True)
    lower, eager = getattr(floor, floor_name)(s), w.impls["tinygrad_edu"](s)
    for _ in range(5):
        lower.step()
        eager.step()
    for a, b in zip(lower.params(), eager.params(), strict=True):
        assert np.array_equal(a, b)
    assert lower.params()[0].shape == s.params[0].shape
    assert not np.array_equal(lower.params()[0], s.params[0])  # it trained


def test_the_steady_allocator_serves_megabyte_temporaries_from_the_heap() -> None:
    """After ``steady_allocator()`` a 1 MB block is not a fresh mmap (glibc's default for
    blocks over 128 KiB): checked in a child process, which the setting would otherwise
    outlive in this one."""
    import subprocess

    code = """
import ctypes, numpy as np
from benchmarks.run import steady_allocator
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
def mmapped():
    base = libc.mallinfo2().hblks
    a = np.ones(1 << 17)  # 1 MiB, alive while counted
    return libc.mallinfo2().hblks - base
before = mmapped()
note = steady_allocator()
print(before, mmapped(), note)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], check=True).stdout.split()
    assert out[:2] == ["1", "0"]  # mmapped before, from the heap after
    assert " ".join(out[2:]).startswith("allocator: glibc fixed in its steady state")
