"""The ``tinygrad-edu`` command line (also ``python -m tinygrad_edu``).

``tinygrad-edu demo`` trains every seed problem (:mod:`tinygrad_edu.demos`) with fixed
seeds on the CPU, prints one line per problem as it starts and finishes, then a table of
the results with each row's threshold and whether it was met, and writes loss plots and
compute-graph drawings to ``--out``.  The exit status is 0 when every threshold was met,
1 when one was not (or a problem raised, or a picture or the ``--json`` file could not be
written), 2 for bad arguments (``--out`` and ``--json`` are checked before any training).

``tinygrad-edu check FILE [FILE ...]`` gradient-checks homework (``.py`` files and
notebooks), each in a sandboxed process: see :mod:`tinygrad_edu.gradcheck.classrun`. Exit
status 0 when every gradient is correct, 1 when one is wrong, 2 when a submission could not
be checked.

>>> main(["demo", "--list"])  # doctest: +ELLIPSIS
multiply  seed 000  multiply two numbers in [0, 1)...
0
>>> format_table([])
'(no rows)'
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .gradcheck import classrun as check_command

DEFAULT_OUT = "tinygrad_edu_demo"

COLUMNS = ("problem", "variant", "architecture", "data", "epochs", "final loss", "test",
           "rel.err", "prediction", "check", "pass", "time")


def _test_cell(row: Any) -> str:
    from .demos.base import fmt_float

    if row.value is None:
        return "-"
    if row.metric == "accuracy":
        return f"acc {row.value:.0%}"
    return f"{row.metric.upper()} {fmt_float(row.value)}"


def _cells(row: Any) -> list[str]:
    from .demos.base import fmt_float

    rel = "-" if row.rel_error is None else f"{row.rel_error:.2%}"
    return [row.problem, row.variant, row.architecture, row.data, row.epochs,
            fmt_float(row.final_loss), _test_cell(row), rel, row.query or "-",
            row.check or "-", row.status, f"{row.seconds:.1f}s"]


def format_table(rows: Sequence[Any]) -> str:
    r"""The results as an aligned text table, one line per row (numbers right-aligned).

    >>> import re
    >>> from tinygrad_edu.demos.base import Row
    >>> table = format_table([Row("xor", "fixed", "2-2-1 tanh", "4 cases", "300 ep", 1e-4,
    ...                           "accuracy", 1.0, check="acc = 100%", passed=True,
    ...                           seconds=0.25)])
    >>> header, rule, row = table.splitlines()
    >>> print(*re.split(r"\s{2,}", header), sep="|")
    problem|variant|architecture|data|epochs|final loss|test|rel.err|prediction|check|pass|time
    >>> print(*re.split(r"\s{2,}", row), sep="|")
    xor|fixed|2-2-1 tanh|4 cases|300 ep|1.00e-04|acc 100%|-|-|acc = 100%|ok|0.2s
    """
    if not rows:
        return "(no rows)"
    body = [_cells(r) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in body)) for i, h in enumerate(COLUMNS)]
    right = {"final loss", "test", "rel.err", "time"}

    def line(cells: Sequence[str]) -> str:
        out = [c.rjust(w) if h in right else c.ljust(w)
               for c, w, h in zip(cells, widths, COLUMNS)]
        return "  ".join(out).rstrip()

    lines = [line(COLUMNS), line(["-" * w for w in widths])]
    previous = None
    for row, cells in zip(rows, body):
        if previous is not None and row.problem != previous:
            lines.append("")
        previous = row.problem
        lines.append(line(cells))
    return "\n".join(lines)


def results_json(outcomes: Sequence[Any], files: dict[str, list[str]], quick: bool,
                 seconds: float) -> dict[str, Any]:
    """The table as JSON-able data, with enough context to compare runs across versions."""
    from . import __version__
    from .demos.base import Row

    rows = [r.as_dict() for o in outcomes for r in o.rows]
    return {
        "tinygrad_edu": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mode": "quick" if quick else "full",
        "seconds": round(seconds, 3),
        "passed": all(o.passed for o in outcomes),
        "fields": [f.name for f in dataclasses.fields(Row)] + ["status"],
        "rows": rows,
        "problems": {
            o.name: {
                "title": o.title,
                "seconds": round(o.seconds, 3),
                "passed": o.passed,
                "files": files.get(o.name, []),
                "diagnostics": [{"variant": v, "message": m} for v, m in o.diagnostics],
            }
            for o in outcomes
        },
    }


def _print(*args: Any, file: TextIO | None = None) -> None:
    print(*args, file=file or sys.stdout, flush=True)


def _error_outcome(name: str, title: str, exc: BaseException, seconds: float) -> Any:
    from .demos.base import Outcome, Row

    out = Outcome(name, title, seconds=seconds)
    out.rows.append(Row(name, "raised " + type(exc).__name__, "-", "-", "-", None, "rmse",
                        None, check="runs without error", passed=False, seconds=seconds,
                        note=str(exc)))
    return out


def _cmd_demo(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import demos
    from .demos.artifacts import ArtifactWriter

    registry = demos.problems()
    if args.list:
        for p in registry.values():
            _print(f"{p.name:<9} seed {p.seed}  {p.title}")
        return 0
    selected = list(registry)
    if args.only is not None:
        wanted = [n.strip() for n in args.only.split(",")]
        unknown = [n for n in wanted if n not in registry]
        if not [n for n in wanted if n] or unknown:
            what = ", ".join(repr(n) for n in unknown) if unknown else "nothing"
            parser.error(f"--only: unknown problem {what}; choose from {', '.join(registry)}")
        selected = [n for n in registry if n in wanted]

    out_dir = Path(args.out)
    for flag, problem in (("--out", _unwritable_folder(out_dir)),
                          ("--json", args.json and _unwritable_file(Path(args.json)))):
        if problem:
            parser.error(f"{flag}: {problem}")
    writer = ArtifactWriter(out_dir, main_only=args.quick)
    mode = "quick" if args.quick else "full"
    _print(f"tinygrad-edu demo ({mode}): {len(selected)} problem"
           f"{'s' * (len(selected) != 1)}, fixed seeds, CPU; pictures go to {out_dir}/")
    if not writer.plots:
        _print("matplotlib is not installed: skipping the loss plots "
               "(pip install 'tinygrad_edu[plot]'); graphs are still written")
    if not writer.svg:
        _print("graphviz's `dot` program was not found: writing the compute graphs as .dot "
               "source instead of .svg (install graphviz, e.g. apt-get install graphviz)")

    start = time.perf_counter()
    outcomes, files, unwritten = [], {}, []
    for i, name in enumerate(selected, 1):
        problem = registry[name]
        tag = f"[{i}/{len(selected)}] {name}"
        _print(f"{tag} (seed {problem.seed}): {problem.title} ...")
        t0 = time.perf_counter()
        try:
            outcome = problem.run(args.quick)
            outcome.seconds = time.perf_counter() - t0
        except Exception as exc:  # report, keep going, fail at the end
            outcome = _error_outcome(name, problem.title, exc, time.perf_counter() - t0)
            _print("".join(traceback.format_exception(exc)).rstrip(), file=sys.stderr)
        try:
            written = writer.write(outcome)
        except Exception as exc:  # report, keep training the others, fail at the end
            written = []
            unwritten.append(f"the pictures of {name}")
            _print(f"{tag}: could not write its pictures: {type(exc).__name__}: {exc}",
                   file=sys.stderr)
        files[name] = [str(p) for p in written]
        checked = [r for r in outcome.rows if r.passed is not None]
        ok = sum(bool(r.passed) for r in checked)
        verdict = "ok" if ok == len(checked) else "FAILED"
        _print(f"{tag}: {verdict}, {ok}/{len(checked)} checks met, {len(outcome.rows)} rows, "
               f"{outcome.seconds:.1f}s")
        outcomes.append(outcome)
    seconds = time.perf_counter() - start

    rows = [r for o in outcomes for r in o.rows]
    _print()
    _print(format_table(rows))
    _print_notes(outcomes)
    n_files = sum(len(v) for v in files.values())
    if n_files:
        _print(f"\nwrote {n_files} pictures to {out_dir}/ "
               f"({', '.join(sorted({Path(f).suffix for v in files.values() for f in v}))})")
    if args.json:
        path = Path(args.json)
        data = results_json(outcomes, files, args.quick, seconds)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            _print(f"wrote the table as JSON to {path}")
        except OSError as exc:
            unwritten.append("the JSON table")
            _print(f"could not write the JSON table to {path}: {exc}", file=sys.stderr)
    checked = [r for r in rows if r.passed is not None]
    failed = [r for r in checked if not r.passed]
    if failed:
        _print(f"{len(failed)} of {len(checked)} checks FAILED "
               f"({', '.join(f'{r.problem}: {r.variant}' for r in failed)}) in {seconds:.1f}s")
    else:
        _print(f"all {len(checked)} checks met in {seconds:.1f}s")
    if unwritten:
        _print(f"FAILED to write {', '.join(unwritten)} (the errors are above)",
               file=sys.stderr)
    return 1 if failed or unwritten else 0


def _unwritable_folder(folder: Path) -> str | None:
    """Why the demo could not write into ``folder`` (creating it), or None if it can.

    >>> _unwritable_folder(Path(__file__) / "pictures")  # doctest: +ELLIPSIS
    '.../cli.py is a file, so no folder can be made in it'
    """
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, so no folder can be made in it"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    try:  # os.access says yes to root everywhere (/proc, read-only mounts): really try
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        return f"{folder} cannot be written: {exc.strerror or exc}"
    return None


def _unwritable_file(path: Path) -> str | None:
    """Why the demo could not write the file ``path``, or None if it can."""
    if path.is_dir():
        return f"{path} is a folder; give a file name, e.g. {path / 'demo.json'}"
    if path.exists():
        return None if os.access(path, os.W_OK) else f"{path} is not writable"
    return _unwritable_folder(path.parent)


def _print_notes(outcomes: Sequence[Any]) -> None:
    notes = [(o.name, r.variant, r.note) for o in outcomes for r in o.rows if r.note]
    diagnostics = [(o.name, v, m) for o in outcomes for v, m in o.diagnostics]
    for title, items in (("notes", notes),
                         ("diagnostics that fit emitted (TrainingWarning)", diagnostics)):
        if not items:
            continue
        _print(f"\n{title}:")
        for problem, variant, message in items:
            first, *rest = message.splitlines()
            _print(f"- {problem}, {variant}: {first}")
            for line in rest:
                _print(f"    {line}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tinygrad-edu``."""
    parser = argparse.ArgumentParser(
        prog="tinygrad-edu",
        description="tinygrad_edu: a small autograd framework on numpy, and its demos.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser(
        "demo", help="train the seed problems and report the results",
        description="Train every seed problem with fixed seeds on the CPU and print a table "
        "of the results (exit status 1 if a threshold is not met). Writes loss plots "
        "(needs matplotlib) and compute graphs (.svg with graphviz's dot, else .dot) to "
        "--out.",
    )
    demo.add_argument("--list", action="store_true", help="list the problems and exit")
    demo.add_argument("--only", metavar="NAME[,NAME]",
                      help="run only these problems (see --list)")
    demo.add_argument("--quick", action="store_true",
                      help="fewer epochs and variants, for a smoke test (about 20 s)")
    demo.add_argument("--json", metavar="PATH", help="also write the table as JSON to PATH")
    demo.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                      help=f"folder for plots and graphs (default: ./{DEFAULT_OUT}/)")
    demo.set_defaults(func=lambda args: _cmd_demo(args, demo))
    check_command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (argparse exits with 2 on bad usage)."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
