"""notebooks/: committed without outputs, in the python3 kernel, listed in their README, and
executed by the test suite (nbmake) in the Python that runs pytest.

The notebooks themselves run as test items of their own (``--nbmake`` in pyproject's pytest
options). To clear outputs before committing::

    python tests/test_notebooks.py            # every notebook in notebooks/
    python tests/test_notebooks.py path.ipynb
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _source(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def test_the_three_notebooks_are_there():
    names = [p.name for p in PATHS]
    assert {"01_build_a_net.ipynb", "02_gradient_check_homework.ipynb",
            "03_visualize_graphs.ipynb"} <= set(names), names


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_notebook_is_committed_without_outputs(path):
    nb = _load(path)
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, (
        f"{path.name}: code cells {dirty} have outputs or an execution count; clear them "
        f"before committing: python tests/test_notebooks.py {path.relative_to(ROOT)}"
    )
    assert nb["nbformat"] == 4
    assert nb["metadata"]["kernelspec"]["name"] == "python3", (
        f"{path.name}: kernel {nb['metadata']['kernelspec']['name']!r}; the test suite runs "
        "notebooks in 'python3', the kernel of the Python that runs pytest"
    )


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_notebook_teaches_and_checks_its_claims(path):
    nb = _load(path)
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert kinds[0] == "markdown" and kinds.count("markdown") >= 5
    asserts = [c for c in _code_cells(nb) if _source(c).lstrip().startswith("assert ")]
    assert len(asserts) >= 3, f"{path.name}: too few assert cells to fail on a broken library"


def test_readme_lists_every_notebook():
    readme = (NOTEBOOKS / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in PATHS if f"]({p.name})" not in readme]
    assert not missing, f"notebooks/README.md does not list {missing}"


def test_the_notebook_kernel_is_the_python_running_the_tests():
    """nbmake starts the notebooks' kernel, 'python3', through jupyter_client, which runs
    ipykernel's spec with ``python`` replaced by ``sys.executable``: the venv's Python."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    cmd = km.format_kernel_cmd()
    assert Path(cmd[0]).resolve() == Path(sys.executable).resolve(), cmd
    assert cmd[1:3] == ["-m", "ipykernel_launcher"]


def test_pytest_collects_each_notebook_once_and_no_python_file_as_a_notebook():
    """With --nbmake and --doctest-modules, a notebook is one nbmake item and a .py file only
    ever gives doctest items (nbmake collects .ipynb files alone)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0",
         "notebooks", "tinygrad_edu/viz"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    # nbmake names an item "path::file name", a doctest "path::dotted.name"
    items = [line.split("::", 1) for line in r.stdout.splitlines() if "::" in line]
    as_notebooks = sorted(path for path, name in items if name == Path(path).name)
    assert as_notebooks == [f"notebooks/{p.name}" for p in PATHS], items
    doctests = [path for path, name in items if path.startswith("tinygrad_edu/")]
    assert doctests and all(path.endswith(".py") for path in doctests), items


def strip(path: Path) -> bool:
    """Clear the outputs and execution counts of a notebook in place; True if it changed."""
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    for cell in _code_cells(nb):
        cell["outputs"] = []
        cell["execution_count"] = None
    new = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    targets = [Path(a) for a in sys.argv[1:]] or PATHS
    for target in targets:
        print(f"{target}: {'stripped' if strip(target) else 'already clean'}")
