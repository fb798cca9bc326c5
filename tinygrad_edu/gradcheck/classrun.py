"""``tinygrad-edu check``: gradient-check one submission or a whole class.

:func:`check_submissions` runs each file in its own sandboxed process
(:func:`.sandbox.run_submission`), one after the other or ``jobs`` at a time, with a tqdm
progress bar on a terminal, and returns one :class:`~.sandbox.Outcome` per file, in the
order given. For one file the command prints the report that
:func:`~tinygrad_edu.gradcheck.check_backprop` prints (or why the file could not be
checked, with the student's traceback lines); for several, :func:`format_table` (one row per
submission: file, verdict, wrong parameters, the kind of mistake) and :func:`summary`.
:func:`class_json` is the gradebook file: every parameter's relative error and diagnosis.

The exit status is the worst over the submissions: 0 every gradient correct, 1 a gradient
wrong, 2 a submission could not be checked. :func:`add_parser` registers the command on the
``tinygrad-edu`` parser (:mod:`tinygrad_edu.cli`), :func:`command` runs it.

>>> from tinygrad_edu.gradcheck.sandbox import Outcome
>>> rows = [Outcome("ann.py", "correct"), Outcome("bob.py", "error", "NameError: name 'np' "
...         "is not defined", where="bob.py, line 3")]
>>> print(format_table(rows))
file    verdict  wrong parameters  mistake
------  -------  ----------------  ---------------------------------------------
ann.py  correct
bob.py  error                      NameError: name 'np' is not defined at line 3
>>> summary(rows, 1.25)
'2 submissions in 1.2 s: 1 correct, 0 wrong, 1 could not be checked (1 error)'
>>> exit_status(rows)
2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from .sandbox import CORRECT, STATUSES, WRONG, Limits, Outcome, parse_size, run_submission
from .submission import SUFFIXES, Names, load_data

HEADERS = ("file", "verdict", "wrong parameters", "mistake")
MAX_CELL = 90


def expand(paths: Sequence[str]) -> list[str]:
    """The files to check: each path as given, a folder replaced by its ``.py`` and
    ``.ipynb`` files (sorted, hidden ones and ``.ipynb_checkpoints`` left out)."""
    out = []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(f for f in os.listdir(p) if Path(f).suffix in SUFFIXES
                           and not f.startswith("."))
            out += [os.path.join(p, f) for f in found] or [p]
        else:
            out.append(p)
    return out


def check_submissions(files: Sequence[str], names: Names | None = None,
                      limits: Limits | None = None, *, data: str | None = None,
                      max_entries_per_param: int | None = None, jobs: int = 1,
                      progress: bool | None = None) -> list[Outcome]:
    """Check every file, ``jobs`` at a time; the outcomes in the order of ``files``.

    ``progress`` shows a tqdm bar on stderr (None: when stderr is a terminal and there is
    more than one file). Ctrl-C kills the running submissions and raises
    ``KeyboardInterrupt``.
    """
    from tqdm import tqdm

    cancel = threading.Event()
    outcomes: list[Outcome | None] = [None] * len(files)
    # tqdm's disable=None: shown only on a terminal
    disable = (True if len(files) < 2 else None) if progress is None else not progress
    with tqdm(total=len(files), desc="checking", unit="file", file=sys.stderr,
              disable=disable, leave=False) as bar, \
            ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(run_submission, f, names, limits, data=data,
                               max_entries_per_param=max_entries_per_param, cancel=cancel): i
                   for i, f in enumerate(files)}
        try:
            for future in as_completed(futures):
                outcome = future.result()
                outcomes[futures[future]] = outcome
                bar.update()
        except BaseException:
            cancel.set()
            pool.shutdown(cancel_futures=True)
            raise
    return [o for o in outcomes if o is not None]


def exit_status(outcomes: Sequence[Outcome]) -> int:
    """The worst exit status: 0 all correct, 1 a gradient wrong, 2 one could not be checked."""
    return max((o.exit_code for o in outcomes), default=0)


def _short(text: str, width: int = MAX_CELL) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _cells(o: Outcome) -> list[str]:
    wrong = ", ".join(o.wrong)
    if len(wrong) > 40:
        wrong = _short(wrong, 32) + f" ({len(o.wrong)})"
    reason = o.reason.replace(f" at {o.file}, ", " at ")  # the file is in the first column
    return [o.file, o.status, wrong, _short(reason)]


def format_table(outcomes: Sequence[Outcome]) -> str:
    """One row per submission: file, verdict, wrong parameters, the kind of mistake (or why
    it could not be checked)."""
    rows = [list(HEADERS)] + [_cells(o) for o in outcomes]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADERS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary(outcomes: Sequence[Outcome], seconds: float) -> str:
    """``"7 submissions in 3.1 s: 3 correct, 2 wrong, 2 could not be checked (1 timeout,
    1 error)"``."""
    counts = Counter(o.status for o in outcomes)
    n = len(outcomes)
    failed = [f"{counts[s]} {s}" for s in STATUSES if s not in (CORRECT, WRONG) and counts[s]]
    text = (f"{n} submission{'s' * (n != 1)} in {seconds:.1f} s: {counts[CORRECT]} correct, "
            f"{counts[WRONG]} wrong, {n - counts[CORRECT] - counts[WRONG]} could not be "
            "checked")
    return text + (f" ({', '.join(failed)})" if failed else "")


def class_json(outcomes: Sequence[Outcome], seconds: float, *, names: Names, limits: Limits,
               data: str | None) -> dict[str, Any]:
    """The gradebook: the options, a summary and every submission's outcome with every
    parameter's relative errors, verdict and diagnosis (see :meth:`.Outcome.as_dict`)."""
    import numpy as np

    from .. import __version__

    counts = Counter(o.status for o in outcomes)
    return {
        "tinygrad_edu": __version__, "python": platform.python_version(),
        "numpy": np.__version__, "seconds": round(seconds, 3),
        "names": vars(names), "data": data,
        "limits": {"timeout": limits.timeout, "memory": limits.memory,
                   "max_file_size": limits.max_file_size},
        "exit_code": exit_status(outcomes),
        "summary": {"submissions": len(outcomes), **{s: counts[s] for s in STATUSES}},
        "submissions": [o.as_dict() for o in outcomes],
    }


def write_json(data: Any, path: str | os.PathLike) -> None:
    """Write ``data`` as JSON atomically (a temporary file renamed over ``path``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _print_one(o: Outcome, out: Any) -> None:
    print(o.details(), file=out)
    for note in o.notes:
        print(f"note: {note}", file=out)


def run_check(files: Sequence[str], names: Names, limits: Limits, *, data: str | None = None,
              max_entries_per_param: int | None = None, jobs: int = 1,
              json_path: str | None = None, verbose: bool = False, out: Any = None) -> int:
    """The ``check`` command: run, print, write the JSON; returns the exit status."""
    out = out or sys.stdout
    files = expand(files)
    start = time.monotonic()
    outcomes = check_submissions(files, names, limits, data=data,
                                 max_entries_per_param=max_entries_per_param, jobs=jobs)
    seconds = time.monotonic() - start
    if len(outcomes) == 1:
        _print_one(outcomes[0], out)
    else:
        if verbose:
            for o in outcomes:
                print(f"==== {o.file}: {o.status}", file=out)
                _print_one(o, out)
                print(file=out)
        print(format_table(outcomes), file=out)
        print(summary(outcomes, seconds), file=out)
    if json_path:
        write_json(class_json(outcomes, seconds, names=names, limits=limits, data=data),
                   json_path)
        print(f"wrote every parameter's errors and diagnosis to {json_path}", file=out)
    return exit_status(outcomes)


def command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``tinygrad-edu check`` with parsed arguments; bad ones end in ``parser.error``."""
    try:
        memory = parse_size(args.memory)
    except ValueError as e:
        parser.error(f"--memory: {e}")
    for option, value in (("--timeout", args.timeout), ("--jobs", args.jobs),
                          ("--max-entries", args.max_entries)):
        if value is not None and value <= 0:
            parser.error(f"{option} must be positive, got {value:g}")
    names = Names(args.loss, args.grads, args.params, args.x, args.y, args.lr)
    if args.data:
        try:
            load_data(args.data, names)  # a bad file fails here, not once per submission
        except (OSError, ValueError) as e:
            parser.error(f"--data: {e}")
    return run_check(args.files, names, Limits(timeout=args.timeout, memory=memory),
                     data=args.data, max_entries_per_param=args.max_entries, jobs=args.jobs,
                     json_path=args.json, verbose=args.verbose)


def add_parser(subparsers: Any) -> None:
    """Register the ``check`` command on the ``tinygrad-edu`` parser's subparsers."""
    check = subparsers.add_parser(
        "check", help="gradient-check homework files and notebooks, one or a whole class",
        description="Check the hand-written backprop of each .py file or .ipynb notebook: "
        "its loss(params, x, y) and grads(params, x, y), on its own params, x, y (or --data). "
        "Each runs in its own process with a time and a memory limit. One file: the report; "
        "several: a table and a summary. Exit status 0 all correct, 1 a gradient wrong, "
        "2 a submission could not be checked.",
    )
    check.add_argument("files", nargs="+", metavar="FILE",
                       help=".py files or .ipynb notebooks (a folder: its .py and .ipynb files)")
    for name, what in (("loss", "the loss function"), ("grads", "the gradient function"),
                       ("params", "the parameter dict"), ("x", "the inputs"),
                       ("y", "the targets")):
        check.add_argument(f"--{name}", default=name, metavar="NAME",
                           help=f"name of {what} in the submission (default: {name}; "
                           f"a dotted name such as net.{name} works)")
    check.add_argument("--lr", metavar="NAME", help="name of the learning rate, used to "
                       "diagnose stale weights (default: lr, learning_rate or rate)")
    check.add_argument("--data", metavar="FILE", help=".npz or .safetensors file with the "
                       "teacher's params (a dict 'params', or the other arrays), x and y, used "
                       "for every submission instead of its own")
    check.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                       help="wall time each submission's code may run (default: 60)")
    check.add_argument("--memory", default="2GB", metavar="SIZE",
                       help="memory limit per submission, e.g. 2GB, 512MB, 0 for none "
                       "(default: 2GB)")
    check.add_argument("--max-entries", type=int, metavar="N",
                       help="check at most N sampled entries per parameter by central "
                       "differences (default: all)")
    check.add_argument("--json", metavar="PATH", help="also write every submission's verdict "
                       "and every parameter's relative error and diagnosis to PATH")
    check.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                       help="check N submissions at a time (default: 1)")
    check.add_argument("-v", "--verbose", action="store_true",
                       help="with several files, print every report before the table")
    check.set_defaults(func=lambda args: command(args, check))
