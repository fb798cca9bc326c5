"""``tinygrad-edu check`` on real files written here: one submission (exit 0/1/2 and the
report ``check_backprop`` prints), a class run of files that misbehave (a syntax error, an
endless loop, a 10 GB allocation, sys.exit, a notebook) with its table and JSON, the seeds'
hand-written nets as students write them, ``--data`` and renamed functions, the sandbox's
limits, and ``assert_backprop``."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import cli
from tinygrad_edu.gradcheck import assert_backprop, check_backprop
from tinygrad_edu.gradcheck import diagnose as dg
from tinygrad_edu.gradcheck.sandbox import Limits, parse_size, run_submission
from tinygrad_edu.gradcheck.submission import (
    Names,
    SubmissionError,
    check_file,
    code_chunks,
    load_data,
)

from . import homework_files as hw

ROOT = Path(__file__).resolve().parent.parent


def _write(folder: Path, name: str, text: str) -> str:
    (folder / name).write_text(text, encoding="utf-8")
    return name


def _check(capsys, *args: str) -> tuple[int, str]:
    code = cli.main(["check", *args])
    captured = capsys.readouterr()
    return code, captured.out


def _namespace(source: str) -> dict:
    """The submission run here, in the test's process (its prints discarded)."""
    ns: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(source, "<submission>", "exec"), ns)
    return ns


def _line(source: str, text: str) -> int:
    """The number of the line of ``source`` that contains ``text``."""
    return next(i for i, line in enumerate(source.splitlines(), 1) if text in line)


def _our_frames(text: str) -> list[str]:
    """Traceback lines that point into tinygrad_edu or the standard library."""
    return [line for line in text.splitlines() if line.strip().startswith('File "')
            and ("tinygrad_edu" in line or "python3" in line)]


# =========================================================================== one file
def test_one_correct_file_prints_the_report_check_backprop_prints(tmp_path, capsys,
                                                                   monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    name = _write(tmp_path, "ann.py", hw.TWO_LAYER)
    code, out = _check(capsys, name)
    assert code == 0
    ns = _namespace(hw.TWO_LAYER)
    report = check_backprop(ns["loss"], ns["grads"], ns["params"], ns["x"], ns["y"])
    assert report.passed and out == str(report) + "\n"
    assert "training my net" not in out  # the student's prints do not reach the grader's output


def test_one_sign_flipped_file_exits_1_and_says_sign(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = _check(capsys, _write(tmp_path, "bob.py", hw.SIGN_FLIPPED))
    assert code == 1
    ns = _namespace(hw.SIGN_FLIPPED)
    assert out == str(check_backprop(ns["loss"], ns["grads"], ns["params"], ns["x"],
                                     ns["y"])) + "\n"
    assert re.search(r"^W2 .* wrong +sign$", out, flags=re.M)
    assert "W2: sign flipped" in out


def test_exception_in_grads_shows_the_students_traceback_only(tmp_path, capsys,
                                                              monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = _check(capsys, _write(tmp_path, "cat.py", hw.RAISES_IN_GRADS))
    assert code == 2
    n = _line(hw.RAISES_IN_GRADS, "len(xs)")
    first = out.splitlines()[0]
    assert first == ("cat.py: could not be checked (error): NameError: name 'xs' is not "
                     f"defined at cat.py, line {n} (in grads)")
    assert "while checking the gradients" in out
    assert f'File "cat.py", line {n}, in grads' in out
    assert "d_out = (h @ p[\"W2\"] - y) / len(xs)" in out
    assert _our_frames(out) == []


def test_missing_function_then_renamed_with_data_from_npz_and_safetensors(
        tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = hw.TWO_LAYER.replace("def loss(", "def my_loss(").replace("def grads(",
                                                                        "def backprop(")
    name = _write(tmp_path, "dan.py", source)
    code, out = _check(capsys, name)
    assert code == 2
    assert "dan.py does not define 'loss'" in out and "pass --loss NAME" in out
    assert "my_loss" in out and "backprop" in out  # what it does define

    # the teacher's own parameters and batch, the same for every submission
    rng = np.random.default_rng(7)
    teacher = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4),
               "W2": rng.normal(size=(4, 1))}
    x, y = rng.normal(size=(9, 3)), rng.normal(size=(9, 1))
    np.savez(tmp_path / "batch.npz", inputs=x, targets=y, **teacher)  # flat: params = the rest
    tg.save({"params": teacher, "inputs": x, "targets": y}, tmp_path / "batch.safetensors")
    ns = _namespace(hw.TWO_LAYER)
    expected = check_backprop(ns["loss"], ns["grads"], teacher, x, y)
    for data in ("batch.npz", "batch.safetensors"):
        code, out = _check(capsys, name, "--loss", "my_loss", "--grads", "backprop",
                           "--x", "inputs", "--y", "targets", "--data", data)
        assert code == 0, out
        assert out == str(expected) + "\n"


def test_bad_options_are_usage_errors(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    name = _write(tmp_path, "ann.py", hw.TWO_LAYER)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    for args, message in ((["--memory", "lots"], "--memory: not a memory size: 'lots'"),
                          (["--timeout", "0"], "--timeout must be positive"),
                          (["--data", "bad.npz"], "--data: bad.npz: not an .npz file"),
                          (["--data", "none.npz"], "--data: none.npz: no such file")):
        with pytest.raises(SystemExit) as exc:
            cli.main(["check", name, *args])
        assert exc.value.code == 2
        assert message in capsys.readouterr().err


# =========================================================================== a class
def test_class_run_table_json_and_every_way_to_fail(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    files = {
        "a_correct.py": hw.TWO_LAYER,
        "b_sign.py": hw.SIGN_FLIPPED,
        "c_notebook.ipynb": hw.notebook(hw.SEED002_ANSWER_CELLS),
        "d_syntax.py": hw.SYNTAX_ERROR,
        "e_loop.py": hw.LOOPS_FOREVER,
        "f_10gb.py": hw.ALLOCATES_10GB,
        "g_exit.py": hw.CALLS_SYS_EXIT,
        "h_after.py": hw.TWO_LAYER,  # the run goes on after all of the above
    }
    for name, text in files.items():
        _write(tmp_path, name, text)
    # 4 s: room for a loaded machine to check the correct files in time (the loop uses it all)
    code, out = _check(capsys, *files, "--timeout", "4", "--json", "out/class.json",
                       "-j", "2")
    assert code == 2  # the worst: some could not be checked
    lines = out.splitlines()
    header = lines[0].split()
    assert header[:2] == ["file", "verdict"] and "mistake" in lines[0]
    rows = {line.split()[0]: line for line in lines[2:2 + len(files)]}
    assert list(rows) == list(files)
    syntax_line = _line(hw.SYNTAX_ERROR, "def grads")
    loop = (_line(hw.LOOPS_FOREVER, "while True"), _line(hw.LOOPS_FOREVER, "steps += 1"))
    alloc_line = _line(hw.ALLOCATES_10GB, "np.zeros((10")
    expected = {
        "a_correct.py": r"correct$",
        "b_sign.py": r"wrong +W2 +sign$",
        "c_notebook.ipynb": r"wrong +W0, W1 +missing_activation_derivative$",
        "d_syntax.py": rf"error +SyntaxError: expected ':' at line {syntax_line}$",
        "e_loop.py": rf"timeout +killed after 4 s at line ({loop[0]}: while True:|"
                     rf"{loop[1]}: steps \+= 1)$",
        "f_10gb.py": rf"memory limit +over the 2 GB memory limit at line {alloc_line}$",
        "g_exit.py": rf"exited +called sys.exit\(0\) at line "
                     rf"{_line(hw.CALLS_SYS_EXIT, 'sys.exit(0)')}$",
        "h_after.py": r"correct$",
    }
    for name, pattern in expected.items():
        assert re.search(pattern, rows[name]), rows[name]
    assert lines[2 + len(files)].startswith("8 submissions in ")
    assert lines[2 + len(files)].endswith(": 2 correct, 2 wrong, 4 could not be checked "
                                          "(1 error, 1 timeout, 1 memory limit, 1 exited)")
    assert lines[-1] == "wrote every parameter's errors and diagnosis to out/class.json"

    data = json.loads((tmp_path / "out" / "class.json").read_text())
    assert data["exit_code"] == 2 and data["limits"]["timeout"] == 4.0
    assert data["summary"]["submissions"] == 8 and data["summary"]["correct"] == 2
    subs = {s["file"]: s for s in data["submissions"]}
    assert [subs[f]["exit_code"] for f in files] == [0, 1, 1, 2, 2, 2, 2, 0]
    sign = subs["b_sign.py"]
    assert sign["verdict"] == "wrong" and sign["wrong"] == ["W2"] and sign["mistakes"] == ["sign"]
    params = {p["name"]: p for p in sign["report"]["parameters"]}
    assert list(params) == ["W1", "b1", "W2"]
    assert params["W2"]["rel_error"] == pytest.approx(2.0)
    assert params["W2"]["diagnosis"]["kind"] == "sign"
    assert params["W2"]["diagnosis"]["confidence"] == "high"
    assert params["W1"]["verdict"] == "correct" and params["W1"]["rel_error"] < 1e-7
    assert params["W1"]["diagnosis"] is None and params["W1"]["shape"] == [3, 4]
    assert "training my net" in sign["output"]  # kept for the teacher, out of the table
    notebook = subs["c_notebook.ipynb"]
    assert notebook["notes"] == [
        "c_notebook.ipynb, cell 2, line 1: skipped `%matplotlib inline`",
        "c_notebook.ipynb, cell 2, line 2: skipped `!pip install numpy`",
        "c_notebook.ipynb, cell 5, line 1: skipped `%%time`",
        "c_notebook.ipynb, cell 6: skipped the whole cell (cell magic `%%bash`)"]
    syntax = subs["d_syntax.py"]
    assert f'File "d_syntax.py", line {syntax_line}' in syntax["traceback"]
    assert _our_frames(syntax["traceback"]) == []
    memory = subs["f_10gb.py"]
    assert "Unable to allocate 10.0 GiB" in memory["message"]
    assert memory["where"] == f"f_10gb.py, line {alloc_line}"
    exited = subs["g_exit.py"]
    assert exited["traceback"].splitlines()[-2:] == ["    sys.exit(0)",
                                                     "sys.exit(0) ends the process"]


def test_seed_nets_as_students_write_them_in_one_class_run(tmp_path) -> None:
    """Through the real entry point: each row names that student's mistake."""
    files = {"seed000_as_written.py": hw.SEED000_AS_WRITTEN}
    for mistake in hw.SEED000_FIXES:
        files[f"seed000_{mistake}.py"] = hw.seed000({mistake})
    files["seed000_corrected.py"] = hw.seed000(set())
    files["seed002_v1.py"] = hw.SEED002_V1
    files["seed002_v2.py"] = hw.SEED002_V2
    files["seed002_answer.ipynb"] = hw.notebook(hw.SEED002_ANSWER_CELLS)
    folder = tmp_path / "class"
    folder.mkdir()
    for name, text in files.items():
        _write(folder, name, text)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "tinygrad_edu", "check", "class", "-j", "2",
                           "--json", "class.json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # wrong gradients, all checked
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()[2:2 + len(files)]}
    assert sorted(rows) == sorted(f"class/{name}" for name in files)
    kinds = {name: json_row["mistakes"] for name, json_row in (
        (Path(s["file"]).name, s) for s in json.loads(
            (tmp_path / "class.json").read_text())["submissions"])}
    for mistake in hw.SEED000_FIXES:  # each mistake alone, named first
        assert kinds[f"seed000_{mistake}.py"][0] == mistake, kinds
        assert rows[f"class/seed000_{mistake}.py"].split("  ")[-1].strip().startswith(mistake)
    assert kinds["seed000_as_written.py"][0] == dg.WRONG_WEIGHTS
    assert {dg.SIGN, dg.ROUNDING} <= set(kinds["seed000_as_written.py"])
    assert kinds["seed002_answer.ipynb"] == [dg.MISSING_ACTIVATION_DERIVATIVE]
    assert rows["class/seed000_stale_weights.py"].split()[2:6] == ["w11,", "w12,", "w21,",
                                                                  "w22"]
    for name in ("seed000_corrected.py", "seed002_v1.py", "seed002_v2.py"):
        assert rows[f"class/{name}"].split()[1:] == ["correct"] and kinds[name] == []
    assert "9 submissions in" in proc.stdout and ": 3 correct, 6 wrong, 0 could not" \
        in proc.stdout


# =========================================================================== the sandbox
def test_sandbox_stops_output_floods_reports_os_exit_and_kills_the_group(tmp_path) -> None:
    flood = tmp_path / "flood.py"
    flood.write_text("while True:\n    print('x' * 100_000)\n")
    out = run_submission(flood, limits=Limits(max_file_size=1024**2))
    assert out.status == "error" and out.reason.startswith(
        "wrote more than the 1 MB file size limit (its output included): OSError: [Errno 27]")

    hard = tmp_path / "hard_exit.py"
    hard.write_text("import os\n\nos._exit(3)\n")
    out = run_submission(hard)
    assert out.status == "exited" and out.reason == f"called os._exit(3) at {hard}, line 3"

    pid_file = tmp_path / "pid"
    spawner = tmp_path / "spawner.py"
    spawner.write_text(f"import subprocess\np = subprocess.Popen(['sleep', '60'])\n"
                       f"open({str(pid_file)!r}, 'w').write(str(p.pid))\nwhile True:\n"
                       "    pass\n")
    out = run_submission(spawner, limits=Limits(timeout=0.5))
    assert out.status == "timeout"
    assert out.where in (f"{spawner}, line 4: while True:", f"{spawner}, line 5: pass")
    status = Path(f"/proc/{int(pid_file.read_text())}/status")
    for _ in range(500):  # SIGKILL is delivered at once; dying takes the process a moment
        state = status.read_text().split("State:")[1].split()[0] if status.exists() else "gone"
        if state in ("gone", "Z"):  # killed with its process group (a zombie until reaped)
            break
        time.sleep(0.02)
    assert state in ("gone", "Z")


def test_what_is_not_a_submission(tmp_path) -> None:
    assert run_submission(tmp_path / "none.py").message == f"{tmp_path / 'none.py'}: no such file"
    (tmp_path / "hw.txt").write_text("x = 1")
    assert "not a .py file" in run_submission(tmp_path / "hw.txt").message
    (tmp_path / "broken.ipynb").write_text("{not json")
    result = check_file(tmp_path / "broken.ipynb", display="broken.ipynb")
    assert result["status"] == "error"
    assert result["message"].startswith(
        "broken.ipynb: not a Jupyter notebook: the file is not JSON")
    (tmp_path / "old.ipynb").write_text(json.dumps({"nbformat": 3, "worksheets": []}))
    assert "nbformat 3" in check_file(tmp_path / "old.ipynb")["message"]


def test_params_must_be_a_dict_and_main_guard_hint(tmp_path) -> None:
    path = tmp_path / "e.py"
    path.write_text(hw.TWO_LAYER.replace('params = {"W1"', 'params = [{"W1"').replace(
        '"W2": rng.normal(size=(4, 1))}', '"W2": rng.normal(size=(4, 1))}]'))
    result = check_file(path, display="e.py")
    assert result["message"].startswith("e.py: params is a list; the checker needs a dict")
    guarded = hw.TWO_LAYER.replace("x, y = rng", "if __name__ == '__main__':\n    x, y = rng")
    path.write_text(guarded)
    message = check_file(path, display="e.py")["message"]
    assert message.startswith("e.py does not define 'x' (code under `if __name__ == "
                              "\"__main__\":` does not run when checking)")


def test_magic_lines_keep_line_numbers_and_python_cell_magics_run(tmp_path) -> None:
    nb = tmp_path / "n.ipynb"
    nb.write_text(hw.notebook([
        ("code", "for i in range(2):\n    %time z = i\n    !echo hi\nw = i"),
        ("code", "%%capture\nq = 1\nnp.dot?"),
        ("code", "get_ipython().run_line_magic('matplotlib', 'inline')\nr = 2")]))
    chunks = code_chunks(nb, "n.ipynb")
    assert chunks[0].source == "for i in range(2):\n    pass\n    pass\nw = i"
    assert chunks[1].source == "pass\nq = 1\npass"
    assert chunks[2].source == "pass\nr = 2"
    assert [c.filename for c in chunks] == ["n.ipynb, cell 1", "n.ipynb, cell 2",
                                            "n.ipynb, cell 3"]


def test_dotted_names_and_the_students_alternative_losses(tmp_path) -> None:
    """A class-based net checked with --loss net.loss; the student's own cross_entropy_loss is
    tried as the loss the backprop differentiates, an imported mse_loss is not."""
    code = [src for kind, src in hw.SEED002_ANSWER_CELLS if kind == "code"]
    source = "\n".join(["import numpy as np\nimport math",
                        "from tinygrad_edu.nn.functional import mse_loss", code[1], code[2],
                        "x, y = X, Y_scaled", '''
def cross_entropy_loss(p, X, Y):
    H = feedforward(p, X)[-1]
    return -np.sum(Y * np.log(H) + (1 - Y) * np.log(1 - H)) / X.shape[0]


class Net:
    loss = staticmethod(loss)
    grads = staticmethod(grads)


net = Net()
'''])
    path = tmp_path / "answer.py"
    path.write_text(source)
    report = check_file(path, Names(loss="net.loss", grads="net.grads"))["report"]
    # both are true of seed 002's answer: its delta skips the output sigmoid's derivative,
    # which makes it the gradient of the student's own cross-entropy loss
    assert set(report["mistakes"][:2]) == {dg.DIFFERENT_LOSS, dg.MISSING_ACTIVATION_DERIVATIVE}
    (different,) = [h for h in report["diagnoses"] if h["kind"] == dg.DIFFERENT_LOSS]
    assert "cross_entropy_loss" in different["message"] and different["confidence"] == "high"
    assert not any("mse_loss" in note for note in report["notes"])
    missing = check_file(path, Names(loss="net.los"), display="answer.py")["message"]
    assert missing.startswith("answer.py does not define 'net.los'")


def test_learning_rate_by_name_enables_the_stale_weights_diagnosis(tmp_path) -> None:
    path = tmp_path / "stale.py"
    path.write_text(hw.seed000({"stale_weights"}) + "\n\nclass Settings:\n    step = 0.5\n")
    kinds = {lr: check_file(path, Names(lr=lr))["report"]["mistakes"]
             for lr in (None, "Settings.step", "undefined")}
    assert kinds[None] == kinds["Settings.step"] == [dg.STALE_WEIGHTS]  # lr = 0.5 by default
    # without a usable learning rate the checker infers it from the update
    assert kinds["undefined"] == [dg.STALE_WEIGHTS]


def test_load_data_errors(tmp_path) -> None:
    np.savez(tmp_path / "empty.npz", z=np.ones(2))
    data = load_data(tmp_path / "empty.npz", Names())
    assert list(data) == ["params"]  # only parameters: x and y come from the submission
    tg.save({"other": [1, 2]}, tmp_path / "list.safetensors")
    with pytest.raises(SubmissionError, match="holds none of params, x, y"):
        load_data(tmp_path / "list.safetensors", Names())


def test_parse_size() -> None:
    assert parse_size("2GB") == parse_size("2g") == parse_size("2 GiB") == 2 * 1024**3
    assert parse_size("1.5G") == 3 * 1024**3 // 2 and parse_size("512k") == 512 * 1024
    assert parse_size("0") is None
    with pytest.raises(ValueError, match="not a memory size"):
        parse_size("-1GB")


# =========================================================================== assert_backprop
def test_assert_backprop_raises_with_the_report_and_prints_nothing(capsys) -> None:
    ns = _namespace(hw.SIGN_FLIPPED)
    args = (ns["loss"], ns["grads"], ns["params"], ns["x"], ns["y"])
    with pytest.raises(AssertionError) as exc:
        assert_backprop(*args)
    assert str(exc.value) == str(check_backprop(*args))
    ok = _namespace(hw.TWO_LAYER)
    report = assert_backprop(ok["loss"], ok["grads"], ok["params"], ok["x"], ok["y"])
    assert report.passed
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_assert_backprop_in_a_pytest_run(tmp_path) -> None:
    """The one-line autograder test: pytest fails it and shows the report."""
    _write(tmp_path, "student.py", hw.SIGN_FLIPPED)
    _write(tmp_path, "test_student.py", "from student import loss, grads, params, x, y\n"
           "from tinygrad_edu.gradcheck import assert_backprop\n\n\n"
           "def test_backprop():\n    assert_backprop(loss, grads, params, x, y)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-o", "addopts=", "test_student.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout
    assert "AssertionError: Gradient check of 3 parameters" in proc.stdout
    assert "W2: sign flipped: hand-written = -1 × the true gradient" in proc.stdout
    assert "assertions.py" not in proc.stdout  # __tracebackhide__: the student's line only
