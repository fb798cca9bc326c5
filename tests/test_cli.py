"""The command line: ``tinygrad-edu demo`` end to end in a subprocess (``python -m
tinygrad_edu``), and its options in process: ``--list``, ``--only``, ``--json``, bad
arguments (usage message, exit status 2), failed thresholds (exit status 1), missing
matplotlib or graphviz.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tinygrad_edu import cli, demos
from tinygrad_edu.demos import Problem
from tinygrad_edu.demos.base import Outcome, Row

ROOT = Path(__file__).resolve().parent.parent


def _python_m(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "tinygrad_edu", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_demo_quick_end_to_end(tmp_path: Path) -> None:
    out_dir, json_path = tmp_path / "out", tmp_path / "x.json"
    proc = _python_m("demo", "--quick", "--out", str(out_dir), "--json", str(json_path),
                     cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = proc.stdout
    names = demos.names()
    for i, name in enumerate(names, 1):  # one line as each problem starts and finishes
        assert f"[{i}/{len(names)}] {name} (seed " in text
        assert f"[{i}/{len(names)}] {name}: ok" in text
    header = next(line for line in text.splitlines() if line.startswith("problem "))
    for column in ("variant", "architecture", "data", "epochs", "final loss", "test",
                   "rel.err", "check", "pass", "time"):
        assert column in header
    assert "data far from unit scale" in text, "seed 001's diagnostic is shown"
    assert f"pictures to {out_dir}" in text and "all " in text.splitlines()[-1]

    data = json.loads(json_path.read_text())
    assert data["mode"] == "quick" and data["passed"] is True
    assert list(data["problems"]) == names
    assert {r["problem"] for r in data["rows"]} == set(names)
    for row in data["rows"]:
        assert set(data["fields"]) == set(row)
        assert row["status"] in ("ok", "-")
    for name in names:
        files = [Path(f) for f in data["problems"][name]["files"]]
        assert any(f.suffix == ".png" for f in files), name
        assert out_dir / f"{name}_graph.svg" in files, name
        for f in files:
            assert f.is_file() and f.stat().st_size > 100, f
    assert (out_dir / "integers_graph.svg").read_text().count("<svg") == 1
    product = next(r for r in data["rows"] if r["variant"] == "a * b as written")
    assert product["final_loss"] > 1e8


def test_list_names_every_problem(capsys) -> None:
    assert cli.main(["demo", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == demos.names()
    assert "seed 001" in lines[1]


def _tiny(name: str):
    """A problem that trains nothing: one passing row, a loss curve and a small graph."""
    def run(quick: bool) -> Outcome:
        import tinygrad_edu as tg

        out = Outcome(name, f"tiny {name}")
        out.rows.append(Row(name, "v", "1-1", "none", "1 ep", 0.1, "rmse", 0.01,
                            check="rmse < 0.1", passed=True))
        out.curves["loss"] = {"v": [1.0, 0.5]}
        w = tg.tensor([1.0], requires_grad=True)
        out.graphs[""] = ((w * 2.0).sum(), {"w": w})
        return out
    return Problem(name, "999", f"tiny {name}", run)


def test_only_runs_the_named_problems(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(demos, "_PROBLEMS", {n: _tiny(n) for n in ("a", "b", "c")})
    json_path = tmp_path / "only.json"
    rc = cli.main(["demo", "--only", "c,a", "--out", str(tmp_path / "o"),
                   "--json", str(json_path)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "[1/2] a (seed 999)" in out and "[2/2] c" in out  # registry order
    assert "] b" not in out
    data = json.loads(json_path.read_text())
    assert list(data["problems"]) == ["a", "c"] and data["mode"] == "full"
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "a_explorer.html", "a_graph.svg", "a_loss.png", "c_explorer.html", "c_graph.svg",
        "c_loss.png"]


@pytest.mark.parametrize("argv, message", [
    (["demo", "--only", "division"], "unknown problem 'division'"),
    (["demo", "--only", "xor,nope"], "unknown problem 'nope'"),
    (["demo", "--only", ""], "--only"),
    (["demo", "--bogus"], "unrecognized arguments: --bogus"),
    ([], "the following arguments are required: COMMAND"),
    (["train"], "invalid choice: 'train'"),
])
def test_bad_arguments_give_usage_and_exit_2(argv, message, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage: tinygrad-edu" in err and message in err


def test_bad_arguments_exit_2_from_the_shell(tmp_path: Path) -> None:
    proc = _python_m("demo", "--only", "division", cwd=tmp_path)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr and "division" in proc.stderr and not proc.stdout.strip()


def _fake_registry(monkeypatch, run) -> None:
    monkeypatch.setattr(demos, "_PROBLEMS", {"fake": Problem("fake", "999", "a fake", run)})


def test_a_failed_threshold_is_marked_and_exits_1(tmp_path: Path, monkeypatch, capsys) -> None:
    def run(quick: bool) -> Outcome:
        out = Outcome("fake", "a fake")
        out.rows.append(Row("fake", "good", "1-1", "none", "1 ep", 0.1, "rmse", 0.01,
                            check="rmse < 0.1", passed=True))
        out.rows.append(Row("fake", "bad", "1-1", "none", "1 ep", 0.1, "rmse", 0.5,
                            check="rmse < 0.1", passed=False))
        return out

    _fake_registry(monkeypatch, run)
    assert cli.main(["demo", "--out", str(tmp_path), "--json", str(tmp_path / "f.json")]) == 1
    out = capsys.readouterr().out
    bad = next(line for line in out.splitlines() if line.split()[:2] == ["fake", "bad"])
    assert " FAIL " in bad
    assert "[1/1] fake: FAILED, 1/2 checks met" in out
    assert "1 of 2 checks FAILED (fake: bad)" in out
    assert json.loads((tmp_path / "f.json").read_text())["passed"] is False


def test_a_problem_that_raises_is_reported_and_exits_1(tmp_path: Path, monkeypatch,
                                                       capsys) -> None:
    def run(quick: bool) -> Outcome:
        raise ValueError("boom")

    _fake_registry(monkeypatch, run)
    assert cli.main(["demo", "--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "ValueError: boom" in captured.err
    assert "raised ValueError" in captured.out and "FAIL" in captured.out


def test_missing_matplotlib_and_dot_are_said_once(tmp_path: Path, monkeypatch,
                                                  capsys) -> None:
    from tinygrad_edu.demos import artifacts

    monkeypatch.setattr(artifacts, "have_matplotlib", lambda: False)
    monkeypatch.setattr(artifacts, "have_dot", lambda: False)
    monkeypatch.setattr(demos, "_PROBLEMS", {n: _tiny(n) for n in ("a", "b")})
    rc = cli.main(["demo", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    assert out.count("matplotlib is not installed") == 1
    assert out.count("`dot` program was not found") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_graph.dot", "b_graph.dot"]


def test_console_script_points_at_main() -> None:
    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts.get("tinygrad-edu") == "tinygrad_edu.cli:main"


# ------------------------------------------------------------------ paths checked first
def _never_run(monkeypatch) -> list[str]:
    """A registry whose problem records that it ran (the demo must not start)."""
    ran: list[str] = []

    def run(quick: bool) -> Outcome:
        ran.append("fake")
        return _tiny("fake").run(quick)

    _fake_registry(monkeypatch, run)
    return ran


@pytest.mark.parametrize("flag, target, message", [
    ("--json", "folder", "is a folder; give a file name, e.g. "),
    ("--json", "under_file/x.json", "is a file, so no folder can be made in it"),
    ("--out", "file", "is a file, so no folder can be made in it"),
    ("--out", "under_file/pictures", "is a file, so no folder can be made in it"),
    ("--out", "read_only/pictures", "read_only is not writable"),
    ("--json", "read_only/x.json", "read_only is not writable"),
])
def test_paths_that_cannot_be_written_exit_2_before_any_work(tmp_path, monkeypatch, capsys,
                                                              flag, target, message) -> None:
    """Before, `--json /tmp` trained everything and then failed with a traceback, and an
    --out that could not be written still exited 0."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    (tmp_path / "under_file").write_text("x")
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    real_access = os.access  # the tests run as root, who may write anywhere: pretend
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != read_only
                        and real_access(p, mode))
    ran = _never_run(monkeypatch)
    argv = ["demo", "--out", str(tmp_path / "out"), flag, str(tmp_path / target)]
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2 and ran == []
    err = capsys.readouterr().err
    assert f"error: {flag}: {tmp_path / target.split('/')[0]}" in err and message in err


def test_out_where_no_folder_can_be_made_exits_2_before_any_work(monkeypatch, capsys) -> None:
    """os.access answers yes to root for /proc; the demo used to train for minutes there and
    then fail to write every picture."""
    ran = _never_run(monkeypatch)
    target = "/proc/tinygrad-edu-no-such-folder/pictures"
    with pytest.raises(SystemExit) as exc:
        cli.main(["demo", "--out", target])
    assert exc.value.code == 2 and ran == []
    assert f"error: --out: {target} cannot be written: " in capsys.readouterr().err


def test_pictures_that_cannot_be_written_exit_1(tmp_path, monkeypatch, capsys) -> None:
    from tinygrad_edu.demos import artifacts

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(artifacts.ArtifactWriter, "_graph", disk_full)
    monkeypatch.setattr(demos, "_PROBLEMS", {n: _tiny(n) for n in ("a", "b")})
    assert cli.main(["demo", "--out", str(tmp_path / "o")]) == 1
    captured = capsys.readouterr()
    assert "[2/2] b: ok" in captured.out  # training went on; the results are all shown
    assert "[1/2] a: could not write its pictures: OSError: [Errno 28] No space" \
        in captured.err
    assert captured.err.splitlines()[-1] == (
        "FAILED to write the pictures of a, the pictures of b (the errors are above)")


def test_a_json_file_that_cannot_be_written_at_the_end_exits_1(tmp_path, monkeypatch,
                                                                capsys) -> None:
    json_path = tmp_path / "results.json"

    def run(quick: bool) -> Outcome:
        json_path.mkdir()  # something takes the name while the demo runs
        return _tiny("fake").run(quick)

    _fake_registry(monkeypatch, run)
    assert cli.main(["demo", "--out", str(tmp_path / "o"), "--json", str(json_path)]) == 1
    err = capsys.readouterr().err
    assert f"could not write the JSON table to {json_path}: [Errno 21]" in err
    assert err.splitlines()[-1] == "FAILED to write the JSON table (the errors are above)"
