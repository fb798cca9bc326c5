"""A homework submission: its code (a ``.py`` file or a Jupyter notebook), run and checked.

This module is what runs *inside* the sandboxed process that :mod:`.sandbox` starts for
each submission of ``tinygrad-edu check``; its functions also work in-process.

* :func:`code_chunks` reads the submission: a ``.py`` file is one chunk; a notebook's code
  cells are chunks, in order. Shell and magic lines (``!pip ...``, ``%matplotlib``,
  ``get_ipython()...`` in an exported notebook) become ``pass`` with a note, so line numbers
  stay right; a cell magic (``%%bash``) skips its cell, except ``%%time``, ``%%timeit``,
  ``%%capture`` and ``%%prun``, whose body is Python and runs. Outputs are ignored.
* :func:`run_chunks` runs them in one namespace, as an import runs a ``.py`` file
  (``__name__`` is not ``"__main__"``, so code under ``if __name__ == "__main__":`` does
  not run) or as "Run all" runs a notebook.
* :func:`check_namespace` finds ``loss``, ``grads``, ``params``, ``x`` and ``y`` (any of
  them renamed, dotted names such as ``net.loss`` allowed), takes the learning rate from
  ``lr``, ``learning_rate`` or ``rate`` when one is a number (for the stale-weights
  diagnosis) and the student's other ``*_loss(params, x, y)`` functions as alternative
  losses (is the backprop the gradient of one of those?), then calls
  :func:`~tinygrad_edu.gradcheck.check_gradients`.
* :func:`check_file` does all three and returns a JSON-able result; an exception in the
  student's code is reported with the student's traceback lines only.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> path = os.path.join(folder, "hw.py")
>>> with open(path, "w") as f:
...     _ = f.write('''
... import numpy as np
... params = {"w": np.array([0.5, -1.0])}
... x, y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 0.0])
... def loss(p, x, y):
...     return np.sum((x @ p["w"] - y) ** 2)
... def grads(p, x, y):
...     return {"w": -2 * x.T @ (x @ p["w"] - y)}      # sign flipped
... ''')
>>> result = check_file(path)
>>> result["status"], result["report"]["passed"], result["report"]["mistakes"]
('checked', False, ['sign'])
"""

from __future__ import annotations

import contextlib
import inspect
import json
import linecache
import os
import re
import sys
import traceback
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..tensor import Tensor
from .diagnose import Hypothesis
from .homework import check_gradients
from .report import GradientReport, ParamCheck

SUFFIXES = (".py", ".ipynb")
LR_NAMES = ("lr", "learning_rate", "rate")
PYTHON_CELL_MAGICS = ("time", "timeit", "capture", "prun")
_MAGIC_LINE = re.compile(r"^\s*(!|%|get_ipython\(\))")
_HELP_LINE = re.compile(r"\s*[\w.]+\?\??\s*")  # `np.dot?`


class SubmissionError(Exception):
    """The submission cannot be checked for a reason that is not an exception in its code
    (not a notebook, a missing or wrong-typed name, ...)."""


@dataclass
class Names:
    """The names looked up in the submission (and in a ``--data`` file)."""

    loss: str = "loss"
    grads: str = "grads"
    params: str = "params"
    x: str = "x"
    y: str = "y"
    lr: str | None = None  # None: the first number among LR_NAMES


@dataclass
class Chunk:
    """A piece of code to run: a whole ``.py`` file or one notebook cell."""

    source: str
    filename: str  # shown in tracebacks: "hw.py" or "hw.ipynb, cell 3"
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- reading
def code_chunks(path: str | os.PathLike, display: str | None = None) -> list[Chunk]:
    """The code of a ``.py`` file or ``.ipynb`` notebook, as chunks to run in order.

    ``display`` is the name used in tracebacks and notes (default: ``path``).

    >>> import json, os, tempfile
    >>> nb = os.path.join(tempfile.mkdtemp(), "hw.ipynb")
    >>> cells = [{"cell_type": "markdown", "source": "# Homework"},
    ...          {"cell_type": "code", "source": ["%matplotlib inline\\n", "a = 1"],
    ...           "outputs": []}]
    >>> with open(nb, "w") as f:
    ...     json.dump({"nbformat": 4, "cells": cells}, f)
    >>> (chunk,) = code_chunks(nb, "hw.ipynb")
    >>> chunk.filename, chunk.source, chunk.notes
    ('hw.ipynb, cell 2', 'pass\\na = 1', ['hw.ipynb, cell 2, line 1: skipped `%matplotlib inline`'])
    """
    path = Path(path)
    display = display or str(path)
    if path.suffix not in SUFFIXES:
        raise SubmissionError(f"{display}: not a .py file or a .ipynb notebook; "
                              "tinygrad-edu check reads only those")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise SubmissionError(f"{display}: not UTF-8 text ({e}); save it as UTF-8") from None
    if path.suffix == ".py":
        return [_strip_magics(text, display)]
    return _notebook_chunks(text, display)


def _notebook_chunks(text: str, display: str) -> list[Chunk]:
    try:
        nb = json.loads(text)
    except ValueError as e:
        raise SubmissionError(f"{display}: not a Jupyter notebook: the file is not JSON "
                              f"({e})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        hint = (" (an nbformat 3 notebook: open and save it in a current Jupyter)"
                if isinstance(nb, dict) and "worksheets" in nb else "")
        raise SubmissionError(f"{display}: not a Jupyter notebook: no list of 'cells'{hint}")
    chunks = []
    for number, cell in enumerate(nb["cells"], 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        label = f"{display}, cell {number}"
        first = source.lstrip().split("\n", 1)[0].strip()
        if first.startswith("%%"):
            magic = first[2:].split()[0] if first[2:].split() else ""
            if magic not in PYTHON_CELL_MAGICS:
                chunks.append(Chunk("", label, [f"{label}: skipped the whole cell "
                                                f"(cell magic `{first}`)"]))
                continue
        chunks.append(_strip_magics(source, label))
    return chunks


def _strip_magics(source: str, label: str) -> Chunk:
    lines, notes = source.split("\n"), []
    for i, line in enumerate(lines):
        if _MAGIC_LINE.match(line) or _HELP_LINE.fullmatch(line):
            indent = line[: len(line) - len(line.lstrip())]
            notes.append(f"{label}, line {i + 1}: skipped `{line.strip()}`")
            lines[i] = f"{indent}pass"
    return Chunk("\n".join(lines), label, notes)


# ----------------------------------------------------------------------------- running
class OsExit(BaseException):
    """Raised in place of ``os._exit`` in the sandboxed process, so it can be reported."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def student_traceback(exc: BaseException, filenames: set[str], last: str | None = None) -> str:
    """``exc``'s traceback with only the frames of ``filenames`` (the submission's); the
    last line is ``last`` if given, else the exception."""
    te = traceback.TracebackException.from_exception(exc)
    frames = [f for f in te.stack if f.filename in filenames]
    head = ""
    if frames:
        head = "Traceback (most recent call last):\n" + "".join(
            traceback.StackSummary.from_list(frames).format())
    tail = "".join(te.format_exception_only()) if last is None else last
    return (head + tail).rstrip("\n")


def _innermost(exc: BaseException, filenames: set[str]) -> str:
    """Where in the submission ``exc`` was raised: ``"hw.py, line 9 (in grads)"``."""
    if isinstance(exc, SyntaxError) and exc.filename in filenames:
        return f"{exc.filename}, line {exc.lineno}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in filenames]
    if not frames:
        return ""
    f = frames[-1]
    inside = "" if f.name == "<module>" else f" (in {f.name})"
    return f"{f.filename}, line {f.lineno}{inside}"


def run_chunks(chunks: list[Chunk], module_name: str = "__submission__",
               file: str | None = None) -> dict[str, Any]:
    """Run the chunks in order in one fresh module namespace and return it; whatever the
    code raises (a ``SyntaxError`` included) propagates."""
    module = types.ModuleType(module_name)
    module.__file__ = file
    ns = module.__dict__
    ns["display"] = lambda *args, **kwargs: None  # Jupyter's display(); outputs are ignored
    previous = sys.modules.get(module_name)
    sys.modules[module_name] = module
    try:
        for chunk in chunks:
            linecache.cache[chunk.filename] = (len(chunk.source), None,
                                               chunk.source.splitlines(True), chunk.filename)
            exec(compile(chunk.source, chunk.filename, "exec", dont_inherit=True), ns)
    finally:
        if previous is not None and module_name == "__main__":
            sys.modules[module_name] = previous
    return ns


# ----------------------------------------------------------------------------- data
def _as_array(value: Any) -> Any:
    return np.array(value.data) if isinstance(value, Tensor) else value


def load_data(path: str | os.PathLike, names: Names) -> dict[str, Any]:
    """The teacher's parameters and batch from an ``.npz`` or ``.safetensors`` file.

    ``x`` and ``y`` are the arrays named ``names.x``, ``names.y``; the parameters are the
    dict ``names.params`` of a file written by ``tinygrad_edu.save({"params": params, "x": x,
    "y": y}, path)``, or else every other array (``np.savez(path, x=x, y=y, W1=W1, ...)``).
    Returns a dict with the keys found among ``params``, ``x``, ``y``. Never runs code from
    the file.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "batch.npz")
    >>> np.savez(path, x=np.ones((2, 3)), y=np.zeros(2), W=np.eye(3))
    >>> data = load_data(path, Names())
    >>> sorted(data), sorted(data["params"])
    (['params', 'x', 'y'], ['W'])
    """
    from ..serialization import load

    obj = load(path)
    if not isinstance(obj, Mapping):
        raise SubmissionError(f"{path}: holds a {type(obj).__name__}, not named arrays "
                              f"{names.params}, {names.x}, {names.y}")
    out: dict[str, Any] = {}
    for key in ("x", "y"):
        name = getattr(names, key)
        if name in obj:
            out[key] = _as_array(obj[name])
    rest = {k: v for k, v in obj.items() if k not in (names.x, names.y)}
    if isinstance(rest.get(names.params), Mapping):
        params = rest[names.params]
    else:
        params = {k: v for k, v in rest.items() if isinstance(v, Tensor | np.ndarray)}
    if params:
        out["params"] = {k: _as_array(v) for k, v in params.items()}
    if not out:
        raise SubmissionError(f"{path}: holds none of {names.params}, {names.x}, {names.y} "
                              f"(its keys: {', '.join(map(str, obj)) or 'none'})")
    return out


# ----------------------------------------------------------------------------- checking
def _lookup(ns: Mapping[str, Any], dotted: str) -> Any:
    head, *attrs = dotted.split(".")
    if head not in ns:
        raise KeyError(head)
    value = ns[head]
    for a in attrs:
        value = getattr(value, a)
    return value


def _defined(ns: Mapping[str, Any]) -> str:
    shown = sorted(k for k, v in ns.items() if not k.startswith("_")
                   and not isinstance(v, types.ModuleType) and k != "display")
    return ", ".join(shown[:15]) + (", ..." if len(shown) > 15 else "") or "nothing"


def _find(ns: Mapping[str, Any], name: str, what: str, option: str, where: str,
          main_guard: bool) -> Any:
    try:
        return _lookup(ns, name)
    except (KeyError, AttributeError):
        hint = (" (code under `if __name__ == \"__main__\":` does not run when checking)"
                if main_guard else "")
        raise SubmissionError(
            f"{where} does not define {name!r}{hint}; it defines: {_defined(ns)}. Name your "
            f"{what} {name}, or pass {option} NAME") from None


def _accepts_three(fn: Any) -> bool:
    try:
        inspect.signature(fn).bind(None, None, None)
    except (TypeError, ValueError):
        return False
    return True


def check_namespace(ns: Mapping[str, Any], names: Names, where: str,
                    data: Mapping[str, Any] | None = None, *, main_guard: bool = False,
                    max_entries_per_param: int | None = None) -> GradientReport:
    """Find the functions and data in a run submission's namespace and check them.

    ``data`` (from :func:`load_data`) replaces the submission's ``params``, ``x``, ``y``.
    Raises :class:`SubmissionError` for a missing or wrong-typed name.
    """
    data = data or {}
    found = {}
    for key, what in (("loss", "loss function"), ("grads", "gradient function")):
        fn = _find(ns, getattr(names, key), what, f"--{key}", where, main_guard)
        if not callable(fn):
            raise SubmissionError(f"{where}: {getattr(names, key)} is a {type(fn).__name__}, "
                                  f"not a function {getattr(names, key)}(params, x, y)")
        found[key] = fn
    for key in ("params", "x", "y"):
        found[key] = data[key] if key in data else _find(
            ns, getattr(names, key), {"params": "parameter dict", "x": "inputs",
                                      "y": "targets"}[key], f"--{key}", where, main_guard)
    if not isinstance(found["params"], Mapping):
        raise SubmissionError(
            f"{where}: {names.params} is a {type(found['params']).__name__}; the checker needs "
            "a dict name -> array, e.g. {'W1': W1, 'b1': b1}")
    lr = None
    for name in [names.lr] if names.lr else LR_NAMES:
        try:
            value = _lookup(ns, name)
        except (KeyError, AttributeError):
            continue
        if isinstance(value, int | float | np.floating) and not isinstance(value, bool):
            lr = float(value)
            break
    own = ns.get("__name__")  # the student's own functions, not imported ones (log_loss)
    alternatives = {k: v for k, v in ns.items() if k.endswith("_loss") and not k.startswith("_")
                    and callable(v) and getattr(v, "__module__", None) == own
                    and v is not found["loss"] and _accepts_three(v)}
    return check_gradients(found["loss"], found["grads"], found["params"], found["x"],
                           found["y"], lr=lr or None, alternative_losses=alternatives,
                           max_entries_per_param=max_entries_per_param)


# ----------------------------------------------------------------------------- results
def _num(x: Any) -> float | None:
    """A JSON number: NaN and infinities become None."""
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else None


def hypothesis_dict(h: Hypothesis) -> dict[str, Any]:
    """A diagnosis as JSON-able data."""
    return {"kind": h.kind, "message": h.message, "confidence": h.confidence,
            "residual": _num(h.residual), "params": list(h.params), "factor": _num(h.factor)}


def param_dict(r: ParamCheck) -> dict[str, Any]:
    """One parameter's row as JSON-able data."""
    worst = None
    if r.worst is not None:
        idx, hand, num, auto = r.worst
        worst = {"index": [int(i) for i in idx], "hand": _num(hand), "numerical": _num(num),
                 "autograd": _num(auto)}
    d = r.diagnosis
    return {"name": r.name, "shape": list(r.shape), "checked": r.n_checked,
            "entries": r.n_entries, "rel_error": _num(r.rel_error),
            "rel_error_autograd": _num(r.rel_error_autograd), "abs_error": _num(r.abs_error),
            "verdict": r.verdict, "passed": r.passed, "reference": r.reference,
            "diagnosis": hypothesis_dict(d) if d else None,
            "hypotheses": [hypothesis_dict(h) for h in r.hypotheses], "notes": list(r.notes),
            "worst": worst}


def mistakes(report: GradientReport) -> list[str]:
    """The kinds of mistake found, most confident first: the diagnoses spanning parameters,
    then each wrong parameter's own."""
    kinds = [h.kind for h in report.hypotheses]
    kinds += [r.diagnosis.kind for r in report.rows if not r.passed and r.diagnosis]
    return list(dict.fromkeys(kinds))


def report_dict(report: GradientReport) -> dict[str, Any]:
    """The whole report as JSON-able data; ``text`` is what ``print(report)`` prints."""
    return {"passed": report.passed, "loss": _num(report.loss), "eps": report.eps,
            "headline": report.headline(), "text": str(report),
            "wrong": [r.name for r in report.rows if not r.passed],
            "mistakes": mistakes(report),
            "parameters": [param_dict(r) for r in report.rows],
            "diagnoses": [hypothesis_dict(h) for h in report.hypotheses],
            "notes": list(report.notes)}


def _error(status: str, message: str, notes: list[str], *, where: str = "", during: str = "",
           tb: str = "") -> dict[str, Any]:
    return {"status": status, "message": message, "where": where, "during": during,
            "traceback": tb, "notes": notes, "report": None}


def check_file(path: str | os.PathLike, names: Names | None = None, *,
               display: str | None = None, data: Mapping[str, Any] | None = None,
               max_entries_per_param: int | None = None,
               before_run: Any = None) -> dict[str, Any]:
    """Run and check one submission; returns a JSON-able dict.

    ``status`` is ``"checked"`` (``report`` holds :func:`report_dict`), ``"error"`` (the
    submission could not be checked), ``"memory"`` (a ``MemoryError``) or ``"exit"``
    (``sys.exit``, ``exit()`` or ``os._exit``). Otherwise ``message`` says what happened,
    ``where`` the student's line (``"hw.py, line 9 (in grads)"``), ``during`` whether it was
    while ``"running the submission"`` or ``"checking the gradients"``, and ``traceback``
    shows the student's frames only. ``notes`` lists the skipped notebook lines.
    ``before_run(chunks)`` is called just before the student's code starts.
    """
    names = names or Names()
    display = display or str(path)
    try:
        chunks = code_chunks(path, display)
    except (SubmissionError, OSError) as e:
        return _error("error", str(e), [])
    notes = [n for c in chunks for n in c.notes]
    filenames = {c.filename for c in chunks}
    if before_run is not None:
        before_run(chunks)
    during = "running the submission"
    try:
        notebook = Path(path).suffix == ".ipynb"
        ns = run_chunks(chunks, "__main__" if notebook else "__submission__",
                        str(Path(path).resolve()))
        during = "checking the gradients"
        main_guard = any("__main__" in c.source for c in chunks) and not notebook
        report = check_namespace(ns, names, display, data, main_guard=main_guard,
                                 max_entries_per_param=max_entries_per_param)
    except SubmissionError as e:
        return _error("error", str(e), notes)
    except (Exception, SystemExit, OsExit) as e:
        return _exception_result(e, filenames, during, notes)
    return {"status": "checked", "message": "", "where": "", "during": "", "traceback": "",
            "notes": notes, "report": report_dict(report)}


def _exception_result(e: BaseException, filenames: set[str], during: str,
                      notes: list[str]) -> dict[str, Any]:
    where = _innermost(e, filenames)
    if isinstance(e, SystemExit | OsExit):
        call = f"{'os._exit' if isinstance(e, OsExit) else 'sys.exit'}({e.code!r})"
        return _error("exit", f"called {call}", notes, where=where, during=during,
                      tb=student_traceback(e, filenames, f"{call} ends the process"))
    tb = student_traceback(e, filenames)
    status = "memory" if isinstance(e, MemoryError) else "error"
    text = e.msg if isinstance(e, SyntaxError) else e  # its str() repeats file and line
    message = f"{type(e).__name__}: {text}"
    if status == "error" and not where:  # the checker's complaint (e.g. grads returned a list)
        return _error("error", message, notes, during=during)
    return _error(status, message, notes, where=where, during=during, tb=tb)


# ----------------------------------------------------------------------------- the child
def _limit(resource_id: int, value: int) -> None:
    import resource

    hard = resource.getrlimit(resource_id)[1]
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(resource_id, (value, value))


def _sandbox_process(request: Mapping[str, Any]) -> None:
    """Limits and hooks of the sandboxed process, set just before the student's code."""
    import faulthandler
    import resource
    import signal

    if request["memory"]:
        _limit(resource.RLIMIT_AS, int(request["memory"]))
    _limit(resource.RLIMIT_FSIZE, int(request["max_file_size"]))
    _limit(resource.RLIMIT_CORE, 0)
    where = open(request["where"], "w")  # noqa: SIM115 - kept open for the signal handler
    faulthandler.register(signal.SIGUSR1, file=where, all_threads=True, chain=False)
    faulthandler.enable(file=where, all_threads=True)  # where a segfault happened
    real_exit, pid = os._exit, os.getpid()

    def _exit(code: int) -> None:  # the student's os._exit, reported like sys.exit
        if os.getpid() != pid:  # a forked child of the student's code: exit for real
            real_exit(code)
        raise OsExit(code)

    os._exit = _exit


def child_main(argv: list[str] | None = None) -> None:
    """Entry point of the sandboxed process: ``argv[0]`` is a JSON request file written by
    :func:`~tinygrad_edu.gradcheck.sandbox.run_submission`. Writes the result of
    :func:`check_file` as JSON to the request's ``result`` path, then exits at once
    (threads the student started are not waited for)."""
    argv = sys.argv[1:] if argv is None else argv
    request = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    real_exit = os._exit
    names = Names(**request["names"])
    path = Path(request["path"])
    data = load_data(request["data"], names) if request.get("data") else None

    def before_run(chunks: list[Chunk]) -> None:
        os.chdir(path.parent)
        sys.path.insert(0, str(path.parent))
        _sandbox_process(request)
        ready = {"files": {c.filename: c.source for c in chunks}}
        Path(request["ready"]).write_text(json.dumps(ready), encoding="utf-8")

    result = check_file(path, names, display=request["display"], data=data,
                        max_entries_per_param=request.get("max_entries"),
                        before_run=before_run)
    tmp = request["result"] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f)
    os.replace(tmp, request["result"])
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # the student may have closed or replaced it
            stream.flush()
    real_exit(0)


__all__ = ["Chunk", "Names", "SubmissionError", "check_file", "code_chunks", "load_data",
           "report_dict", "run_chunks"]
