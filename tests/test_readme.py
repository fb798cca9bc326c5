"""README.md's Python blocks run as written, in order, in one namespace; its set-up commands
are the ones CI runs."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_blocks_run_as_written_without_warnings(tmp_path, monkeypatch,
                                                              capsys) -> None:
    """In order, in one namespace; a warning (a training diagnostic, a deprecation) fails,
    because a reader copying the example would see it."""
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    namespace: dict = {"__name__": "__readme__"}
    blocks = _blocks("python")
    assert blocks, "README.md has no python examples"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i, code in enumerate(blocks):
            try:
                exec(compile(code, f"README.md python block {i + 1}", "exec"), namespace)
            except Exception as e:  # pragma: no cover - the message is the point
                raise AssertionError(f"README python block {i + 1} failed: {e!r}\n{code}") from e
    out = capsys.readouterr().out
    assert "Total params: 33" in out  # the Keras summary
    rmses = [float(v) for v in re.findall(r"validation RMSE:? ([0-9.]+)", out)]
    assert len(rmses) == 2 and max(rmses) < 0.06  # the nn and the Keras examples


def test_readme_gives_the_two_setup_commands_and_ci_runs_the_test_one() -> None:
    commands = [line for block in _blocks("bash") for line in block.splitlines()]
    assert "pip install -e . && tinygrad-edu demo" in commands
    assert 'pip install -e ".[test]" && pytest' in commands
    ci = (README.parent / ".ci" / "run").read_text()
    assert "grep -m1 -E '^pip install -e \"\\.\\[test\\]\" && pytest' README.md" in ci
