"""Write a problem's pictures: loss plots (PNG, matplotlib), compute graphs (graphviz:
``.svg`` when the ``dot`` program exists, else the ``.dot`` source) and, with ``dot``, one
explorer page (``<problem>_explorer.html``: backprop step by step, offline, see
:mod:`tinygrad_edu.viz.explorer`).

>>> import tempfile
>>> from tinygrad_edu.demos.base import Outcome
>>> with tempfile.TemporaryDirectory() as d:
...     w = ArtifactWriter(d, plots=False)
...     w.write(Outcome("empty", "nothing drawn"))
[]
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

from .base import Outcome


def have_matplotlib() -> bool:
    """Whether matplotlib can be imported (a dependency, so only a broken install lacks it).

    >>> isinstance(have_matplotlib(), bool)
    True
    """
    return importlib.util.find_spec("matplotlib") is not None


def have_dot() -> bool:
    """Whether graphviz's ``dot`` program is on PATH (needed for ``.svg``).

    >>> isinstance(have_dot(), bool)
    True
    """
    return shutil.which("dot") is not None


def slug(text: str) -> str:
    """A file-name-safe version of ``text``.

    >>> slug("v1 as written (per pass)")
    'v1_as_written_per_pass'
    """
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


class ArtifactWriter:
    """Writes into ``out_dir`` (created on first use).  ``plots=None`` draws plots when
    matplotlib can be imported; ``svg=None`` renders graphs as SVG when ``dot`` exists, else
    writes ``.dot`` files (and no explorer page, which needs ``dot``'s layout).
    ``main_only=True`` (the demo's ``--quick``) draws only each problem's first loss figure,
    its graphs and its explorer page: a figure costs about 0.1 s per panel."""

    def __init__(self, out_dir: str | Path, plots: bool | None = None,
                 svg: bool | None = None, main_only: bool = False) -> None:
        self.out_dir = Path(out_dir)
        self.plots = have_matplotlib() if plots is None else plots
        self.svg = have_dot() if svg is None else svg
        self.main_only = main_only

    def write(self, outcome: Outcome) -> list[Path]:
        """Draw ``outcome``'s loss curves, extra plots, compute graphs and explorer page;
        return the paths."""
        paths: list[Path] = []
        if self.plots and (outcome.curves or outcome.extra_plots):
            self.out_dir.mkdir(parents=True, exist_ok=True)
            paths += self._plots(outcome)
        for label, (tensor, params) in outcome.graphs.items():
            self.out_dir.mkdir(parents=True, exist_ok=True)
            paths.append(self._graph(outcome.name, label, tensor, params))
        explore = outcome.explorer or outcome.graphs.get("") or next(
            iter(outcome.graphs.values()), None)
        if self.svg and explore is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            paths.append(self._explorer(outcome, *explore))
        return paths

    def _plots(self, outcome: Outcome) -> list[Path]:
        from tinygrad_edu.viz import plot_history
        from tinygrad_edu.viz.plots import close

        paths = []
        groups = list(outcome.curves.items())
        for plot_name, curves in groups[:1] if self.main_only else groups:
            path = self.out_dir / f"{outcome.name}_{slug(plot_name)}.png"
            fig = plot_history(curves, metrics=list(curves), logy=True,
                               title=f"{outcome.title}: {plot_name}", save=path)
            close(fig)
            paths.append(path)
        for extra in [] if self.main_only else outcome.extra_plots:
            path = self.out_dir / f"{outcome.name}_{slug(extra.name)}.png"
            extra.draw(path)
            paths.append(path)
        return paths

    def _graph(self, name: str, label: str, tensor: object, params: object) -> Path:
        from tinygrad_edu.viz import draw_graph

        drawing = draw_graph(tensor, params=params)
        stem = f"{name}_{slug(label)}_graph" if label else f"{name}_graph"
        path = self.out_dir / f"{stem}.{'svg' if self.svg else 'dot'}"
        drawing.save(path)
        return path

    def _explorer(self, outcome: Outcome, tensor: object, params: object) -> Path:
        from tinygrad_edu.viz import draw_graph

        page = draw_graph(tensor, params=params).explorer(
            title=f"Backprop explorer: {outcome.title}")
        return page.save(self.out_dir / f"{outcome.name}_explorer.html")
