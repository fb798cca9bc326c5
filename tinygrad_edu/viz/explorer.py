"""The explorer: one self-contained HTML page that steps through backprop on your graph.

``draw_graph(loss, model).save("graph.html")`` (or ``.explorer()``, which Jupyter shows
inline) writes a page with the graph as ``draw_graph`` draws it — the SVG laid out by
graphviz, inline, with the script and styles: no network request at all, so it works
offline in any browser. Step with **→ / ←** (or the buttons; space plays, Home resets):

* the **forward pass**, in topological order: each leaf's value, each op's formula, inputs
  and output;
* the **backward pass**, in the order ``backward()`` runs it: at each op its local derivative
  rule ("Mul: ∂out/∂a = b"), the gradient arriving at its output, and what each input gets;
  where a value feeds several ops, its gradient is shown adding up, contribution by
  contribution. Every number is computed by the op's own backward rule (see
  :mod:`tinygrad_edu.viz.replay`);
* a table of the leaves' gradients (parameters named as in the model, ``0.weight``) fills in
  as the backward pass reaches them, each compared with its ``.grad``.

The current node is outlined in orange and the edges its values travel along are orange;
nodes visited forward are outlined blue, backward red. A graph collapsed to fit
``max_nodes`` (or by ``collapse_modules=True``) is collapsed the same way on the page; click
a module box or a chain of ops to draw it expanded. Large tensors are shown as summaries.

>>> import tinygrad_edu as tg
>>> from tinygrad_edu.viz import draw_graph
>>> w = tg.tensor([1.0, -2.0], requires_grad=True)
>>> page = draw_graph((w * w).sum(), {"w": w}).explorer().html()
>>> page.startswith("<!DOCTYPE html>"), "src=" in page or "href=" in page
(True, False)
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import asdict
from pathlib import Path

from . import _explorer_page as page
from .graph import displayed_ids
from .render import GraphDrawing, write_atomic
from .replay import trace

#: At most this many collapsed boxes get an expanded drawing (each is one run of ``dot``).
MAX_EXPANDED = 16
#: The explorer steps through every node twice; past this many, the page would be many MB
#: and take seconds per thousand nodes to make, and no one steps through it.
MAX_NODES = 3000

INTRO = ("Step through the forward pass (inputs before the ops that use them), then the "
         "backward pass in the order backward() runs it. → and ← step, space plays, Home "
         "resets. In the backward pass each op shows its local derivative rule, the gradient "
         "arriving at its output and what each input gets; the table below fills in as the "
         "gradients reach the leaves.")


class Explorer:
    """The explorer page of a :class:`~tinygrad_edu.viz.render.GraphDrawing` (made by
    ``drawing.explorer()``): ``html()`` is the page, ``save(path)`` writes it, Jupyter shows
    it inline. Everything is computed when it is made, so later changes to the tensors
    (another ``backward()``, an optimizer step) do not change it.

    What the page shows is also data: ``steps`` (:class:`~tinygrad_edu.viz.replay.Step`,
    forward then backward), ``leaves`` (:class:`~tinygrad_edu.viz.replay.LeafGrad`, each
    leaf's gradient as shown at the end) and ``notice`` (why numbers are missing, if any).

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu.viz import draw_graph
    >>> x = tg.tensor(3.0, requires_grad=True)
    >>> page = draw_graph(x * x, {"x": x}).explorer()
    >>> [s.head for s in page.steps if s.phase == "backward"]
    ['output: the seed', 'Mul', 'x: its gradient']
    >>> page.leaves[0].lines, page.notice
    (['6.'], '')
    """

    def __init__(self, drawing: GraphDrawing, title: str | None = None) -> None:
        layout = drawing._layout
        base = layout.walk()
        if len(base.nodes) > MAX_NODES:
            raise ValueError(
                f"explorer: the graph has {len(base.nodes)} nodes, more than the explorer's "
                f"{MAX_NODES} (it steps through each one): draw it for a smaller batch or "
                "model, or a part of it (draw_graph(an intermediate tensor, ...)); the SVG "
                "(save('graph.svg')) draws graphs of any size")
        shown, _ = layout.collapse(base)
        t = trace(layout)
        self.steps, self.leaves, self.notice = t.steps, t.leaves, t.notice
        n_forward = sum(s.phase == "forward" for s in t.steps)
        views = [{"name": "the graph", "svg": _inline(drawing.svg()),
                  "map": displayed_ids(base, shown)}]
        expand = {}
        boxes = [n for n in shown.nodes.values() if n.kind in ("module", "chain", "write")]
        for box in boxes[:MAX_EXPANDED]:
            g, _ = layout.collapse(base, keep=box.members)
            expand[box.id] = len(views)
            views.append({"name": f"expanded: {box.title}",
                          "svg": _inline(GraphDrawing(layout.digraph(g)).svg()),
                          "map": displayed_ids(base, g)})
        names = [n for n, _ in layout.outputs if n] or ["the output"]
        self.title = title or f"Backprop explorer: {', '.join(names)} ({len(base.nodes)} nodes)"
        self._data = {
            "title": self.title,
            "intro": INTRO,
            "notice": t.notice,
            "counts": [n_forward, len(t.steps) - n_forward],
            "views": views,
            "expand": expand,
            "steps": [asdict(s) for s in t.steps],
            "leaves": [asdict(leaf) for leaf in t.leaves],
        }

    def html(self) -> str:
        """The page: one HTML document, with everything inline."""
        data = json.dumps(self._data, ensure_ascii=False, separators=(",", ":"))
        # inside <script>, "<" could open "</script>" or "<!--": JSON may spell it \u003c
        data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return page.HTML.format(title=html.escape(self.title), css=page.CSS, js=page.JS,
                                data=data)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to ``path`` (a failed write leaves no file). Returns the path."""
        path = Path(path)
        write_atomic(path, self.html().encode("utf-8"))
        return path

    def _repr_html_(self) -> str:
        """The page in an ``<iframe>``, so that its script and styles stay its own."""
        return (f'<iframe srcdoc="{html.escape(self.html(), quote=True)}" '
                'style="width: 100%; height: 640px; border: 1px solid #ddd" '
                f'title="{html.escape(self.title)}"></iframe>')

    def __repr__(self) -> str:
        return (f"<Explorer: {self._data['counts'][0]} forward and {self._data['counts'][1]} "
                f"backward steps; .save('graph.html')>")


def _inline(svg: str) -> str:
    """The SVG element alone (no XML prolog, DOCTYPE or comments before it)."""
    return svg[svg.index("<svg"):]

