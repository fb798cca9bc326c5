"""Run one homework submission in its own process, with a wall-time and a memory limit.

:func:`run_submission` starts ``python`` on :func:`.submission.child_main` in a new process
group (its own session), with stdin closed, its output sent to a file (never parsed: the
result comes back as JSON in a file of a private temporary folder) and these limits, set just
before the student's code starts:

* **memory**: ``RLIMIT_AS`` (the process's address space) at ``Limits.memory`` bytes, so a
  too large allocation fails at once with ``MemoryError`` (verdict ``memory limit``);
* **file size**: ``RLIMIT_FSIZE`` at ``Limits.max_file_size``, so a submission printing in
  a loop cannot fill the disk (its next write fails with ``OSError: File too large``);
* **wall time**: ``Limits.timeout`` seconds from the moment the student's code starts (the
  interpreter's start-up does not count). Then the process is asked where it is
  (``faulthandler`` on ``SIGUSR1``) and its whole process group is killed (verdict
  ``timeout``, with the student's line that was running).

``sys.exit``, ``exit()`` and ``os._exit`` in the student's code are reported (verdict
``exited``); a process that dies otherwise gets ``crashed``. After the run, whatever the
submission left running in its process group is killed too. POSIX only (Linux, macOS).

>>> Limits().timeout, format_size(Limits().memory)
(60.0, '2 GB')
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .submission import SUFFIXES, Names

STARTUP_LIMIT = 60.0  # seconds for the interpreter to start, before the timeout counts
POLL = 0.02
_CHILD = "from tinygrad_edu.gradcheck.submission import child_main; child_main()"
_FRAME = re.compile(r'^\s*File "(.*)", line (\d+) in (.*)$')

CORRECT, WRONG, ERROR = "correct", "wrong", "error"
TIMEOUT, MEMORY, EXITED, CRASHED = "timeout", "memory limit", "exited", "crashed"
STATUSES = (CORRECT, WRONG, ERROR, TIMEOUT, MEMORY, EXITED, CRASHED)
"""Every verdict; all but the first two mean "could not be checked" (exit status 2)."""


def format_size(n: int | None) -> str:
    """``2147483648 -> '2 GB'`` (powers of 1024).

    >>> format_size(512 * 1024**2), format_size(None)
    ('512 MB', 'no limit')
    """
    if not n:
        return "no limit"
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def parse_size(text: str) -> int | None:
    """A memory size: ``"2GB"``, ``"512M"``, ``"1.5g"``, a bare number of GB, or ``0`` /
    ``"none"`` for no limit.

    >>> parse_size("2GB"), parse_size("512 MB"), parse_size("1"), parse_size("none")
    (2147483648, 536870912, 1073741824, None)
    """
    t = text.strip().lower()
    if t in ("0", "none", "unlimited"):
        return None
    m = re.fullmatch(r"(\d+(?:\.\d*)?)\s*([kmg]?)(?:i?b)?", t)
    if not m:
        raise ValueError(f"not a memory size: {text!r}; write e.g. 2GB, 512MB or 0 for no limit")
    unit = {"k": 1024, "m": 1024**2, "g": 1024**3, "": 1024**3}[m.group(2)]
    return int(float(m.group(1)) * unit)


@dataclass
class Limits:
    """What a submission may use: seconds of wall time, bytes of memory (None: no limit)
    and the largest file it may write (its output included)."""

    timeout: float = 60.0
    memory: int | None = 2 * 1024**3
    max_file_size: int = 64 * 1024**2


@dataclass
class Outcome:
    """What happened to one submission.

    ``status`` is one of :data:`STATUSES`; ``report`` is the checker's report as JSON-able
    data (see :func:`.submission.report_dict`) when the submission was checked. For the other
    verdicts ``message`` says what happened, ``where`` the student's line and ``traceback``
    the student's frames. ``output`` is the end of what the submission printed.
    """

    file: str
    status: str
    message: str = ""
    where: str = ""
    during: str = ""
    traceback: str = ""
    notes: list[str] = field(default_factory=list)
    report: dict[str, Any] | None = None
    output: str = ""
    seconds: float = 0.0
    limits: Limits = field(default_factory=Limits)

    @property
    def exit_code(self) -> int:
        """0 correct, 1 a gradient is wrong, 2 could not be checked."""
        return {CORRECT: 0, WRONG: 1}.get(self.status, 2)

    @property
    def wrong(self) -> list[str]:
        """The parameters whose gradient is wrong."""
        return list(self.report["wrong"]) if self.report else []

    @property
    def mistakes(self) -> list[str]:
        """The kinds of mistake found (``["sign"]``), most confident first."""
        return list(self.report["mistakes"]) if self.report else []

    @property
    def reason(self) -> str:
        """One line: the kinds of mistake, or why the submission could not be checked."""
        if self.status in (CORRECT, WRONG):
            return ", ".join(self.mistakes)
        at = f" at {self.where}" if self.where else ""
        if self.status == MEMORY:
            return f"over the {format_size(self.limits.memory)} memory limit{at}"
        if self.status == TIMEOUT:
            return f"killed after {self.limits.timeout:g} s{at}"
        return f"{self.message}{at}"

    def details(self) -> str:
        """The report, or what happened with the student's traceback lines."""
        if self.report is not None:
            return self.report["text"]
        lines = [f"{self.file}: could not be checked ({self.status}): {self.reason}"]
        if self.status == MEMORY:
            lines.append(f"{self.message} (raise the limit with --memory)")
        if self.during:
            lines.append(f"This happened while {self.during}.")
        if self.status == TIMEOUT:
            lines.append("An endless loop, or too slow: raise the limit with --timeout"
                         + (", or check fewer entries per parameter with --max-entries."
                            if self.during == "checking the gradients" else "."))
        if self.traceback:
            lines += ["", self.traceback]
        if self.status == CRASHED and self.output.strip():
            lines += ["", "The end of its output:", *self.output.rstrip().splitlines()[-10:]]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able: the file, verdict, exit status, reason, the report and the rest."""
        return {"file": self.file, "verdict": self.status, "exit_code": self.exit_code,
                "wrong": self.wrong, "mistakes": self.mistakes, "reason": self.reason,
                "message": self.message, "where": self.where, "during": self.during,
                "traceback": self.traceback, "notes": self.notes,
                "seconds": round(self.seconds, 3), "output": self.output,
                "report": self.report}


def _child_env() -> dict[str, str]:
    import tinygrad_edu

    env = dict(os.environ)
    root = str(Path(tinygrad_edu.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["MPLBACKEND"] = "Agg"  # plt.show() must not open a window or wait
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ in the submissions' folder
    env["PYTHONUNBUFFERED"] = "1"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    return env


def _has_exited(proc: subprocess.Popen) -> bool:
    """Whether the child has exited, without reaping it where the OS allows (its process
    group then stays reserved until :func:`_kill_group` has run)."""
    if hasattr(os, "waitid"):
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    return proc.poll() is not None


def _wait(proc: subprocess.Popen, ready: Path, timeout: float,
          cancel: threading.Event | None) -> bool:
    """Wait for the child; True if it ran out of time (start-up, then ``timeout``) or the
    run was cancelled."""
    deadline, started = time.monotonic() + STARTUP_LIMIT, False
    while not _has_exited(proc):
        now = time.monotonic()
        if not started and ready.exists():
            started, deadline = True, now + timeout
        if now >= deadline or (cancel is not None and cancel.is_set()):
            return True
        time.sleep(POLL)
    return False


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _ask_where(proc: subprocess.Popen, where: Path, patience: float = 3.0) -> None:
    """Make the child dump its Python stack (faulthandler on SIGUSR1) and wait until the
    dump stops growing (at most ``patience`` seconds)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGUSR1)
    end, sizes = time.monotonic() + patience, [-1, -1]
    while time.monotonic() < end and not _has_exited(proc):
        sizes.append(where.stat().st_size if where.exists() else 0)
        if sizes[-1] > 0 and sizes[-1] == sizes[-2] == sizes[-3]:
            return
        time.sleep(POLL)


def _student_line(dump: str, files: dict[str, str]) -> str:
    """The innermost frame of the submission in a faulthandler dump: ``file, line N: code``."""
    for line in dump.splitlines():
        m = _FRAME.match(line)
        if m and m.group(1) in files:
            name, lineno, func = m.group(1), int(m.group(2)), m.group(3).strip()
            source = files[name].splitlines()
            code = source[lineno - 1].strip() if 0 < lineno <= len(source) else ""
            inside = "" if func == "<module>" else f" (in {func})"
            return f"{name}, line {lineno}{inside}" + (f": {code}" if code else "")
    return ""


def _tail(path: Path, n: int = 4000) -> str:
    if not path.exists():
        return ""
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - n))
        return f.read().decode("utf-8", "replace")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def run_submission(path: str | os.PathLike, names: Names | None = None,
                   limits: Limits | None = None, *, data: str | os.PathLike | None = None,
                   max_entries_per_param: int | None = None,
                   cancel: threading.Event | None = None) -> Outcome:
    """Check one submission in a sandboxed process; never raises for the submission's sake.

    ``data`` is an ``.npz``/``.safetensors`` file with the teacher's ``params``, ``x``, ``y``
    (see :func:`.submission.load_data`). Setting ``cancel`` kills the process (Ctrl-C in a
    class run).
    """
    if os.name != "posix":
        raise OSError("checking submissions in a sandbox needs a POSIX system (Linux, macOS): "
                      "it limits each one with resource limits and a process group")
    names, limits = names or Names(), limits or Limits()
    file = os.fspath(path)
    source = Path(file)
    if not source.is_file():
        why = "is a folder" if source.is_dir() else "no such file"
        return Outcome(file, ERROR, f"{file}: {why}", limits=limits)
    if source.suffix not in SUFFIXES:
        return Outcome(file, ERROR, f"{file}: not a .py file or a .ipynb notebook",
                       limits=limits)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tinygrad-edu-check-") as tmp:
        folder = Path(tmp)
        request = {
            "path": str(source.resolve()), "display": file, "names": asdict(names),
            "data": None if data is None else str(Path(data).resolve()),
            "memory": limits.memory, "max_file_size": limits.max_file_size,
            "max_entries": max_entries_per_param, "result": str(folder / "result.json"),
            "ready": str(folder / "ready.json"), "where": str(folder / "where.txt"),
        }
        (folder / "request.json").write_text(json.dumps(request), encoding="utf-8")
        with open(folder / "output.txt", "wb") as output:
            proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(folder / "request.json")], cwd=folder,
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                env=_child_env(), start_new_session=True)
            try:
                timed_out = _wait(proc, folder / "ready.json", limits.timeout, cancel)
                if timed_out and not (cancel is not None and cancel.is_set()):
                    _ask_where(proc, folder / "where.txt")
            finally:
                _kill_group(proc)  # the child and anything it started
                returncode = proc.wait()
        seconds = time.monotonic() - start
        return _outcome(file, folder, timed_out, returncode, limits, seconds)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _outcome(file: str, folder: Path, timed_out: bool, returncode: int, limits: Limits,
             seconds: float) -> Outcome:
    output = _tail(folder / "output.txt")
    common = {"output": output, "seconds": seconds, "limits": limits}
    result = None if timed_out else _read_json(folder / "result.json")
    if isinstance(result, dict) and "status" in result:
        status = {"checked": None, "error": ERROR, "memory": MEMORY,
                  "exit": EXITED}.get(result["status"], CRASHED)
        report = result.get("report")
        if status is None:
            status = CORRECT if report and report.get("passed") else WRONG
        message = result.get("message", "")
        if f"[Errno {errno.EFBIG}]" in message:
            message = (f"wrote more than the {format_size(limits.max_file_size)} file size "
                       f"limit (its output included): {message}")
        return Outcome(file, status, message, result.get("where", ""),
                       result.get("during", ""), result.get("traceback", ""),
                       result.get("notes", []), report, **common)
    ready = _read_json(folder / "ready.json")
    files = ready.get("files", {}) if isinstance(ready, dict) else {}
    where_text = (folder / "where.txt").read_text("utf-8", "replace") \
        if (folder / "where.txt").exists() else ""
    where = _student_line(where_text, files)
    if timed_out:
        if ready is None:
            return Outcome(file, TIMEOUT, f"did not start within {STARTUP_LIMIT:g} s: killed",
                           **common)
        checking = re.search(r"gradcheck[/\\]homework\.py", where_text) is not None
        return Outcome(file, TIMEOUT, f"still running after {limits.timeout:g} s: killed", where,
                       "checking the gradients" if checking else "running the submission",
                       **common)
    if "MemoryError" in output:
        return Outcome(file, MEMORY, "MemoryError (the process could not report it)", where,
                       **common)
    how = (f"was killed by {_signal_name(-returncode)}" if returncode < 0
           else f"exited with status {returncode} without a result")
    return Outcome(file, CRASHED, f"the process {how}", where,
                   **common)
