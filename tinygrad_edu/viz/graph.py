r"""``draw_graph``: a picture of the compute graph behind a Tensor (torchviz's make_dot, richer).

Conventions are torchviz's: boxes, monospace 10pt, left-to-right; leaves light blue labelled
``name`` and ``(shape) dtype``; ops grey with the op name and output shape; the output green;
node ids from ``id()``. Edges follow the data (input → op → output).

What the styles mean:

* parameters (named by ``params``) light blue; other leaves that require grad (inputs) light
  yellow; constants (leaves that do not require grad) white with a grey border. Plain numbers
  an op took are folded into its label (``Mul ×2``); plain arrays get a small ``const`` node;
* NaN or inf in a value or gradient: red, and ``nan appears here`` on the first op to make one;
* after a backward, a parameter whose ``.grad`` is ``None`` or all zero is greyed and dashed
  (a dead path or a detached branch), and so are parameters given in ``params`` that the output
  does not depend on at all (``not in graph``);
* ``highlight_path_from=`` a parameter (Tensor or name): every node and edge on its paths to
  the output in bold blue.

Graphs above ``max_nodes`` nodes are collapsed with a warning (see
:mod:`tinygrad_edu.viz.collapse` for the rules); every walk uses an explicit stack, so a chain
of 10^5 ops draws without ``RecursionError``.

>>> import tinygrad_edu as tg
>>> w = tg.tensor([[0.5, -0.3]], requires_grad=True)
>>> b = tg.tensor([0.1], requires_grad=True)
>>> x = tg.tensor([[1.0], [2.0]])
>>> y = (w @ x + b).sigmoid()
>>> dot = draw_graph(y, params={"w": w, "b": b}).to_dot()
>>> "MatMul" in dot and "Sigmoid" in dot and r'"w\n(1, 2) float32"' in dot
True
"""

from __future__ import annotations

import contextlib
import gc
import warnings
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import graphviz
import numpy as np

from ..tensor import Tensor
from . import _format
from . import collapse as _collapse
from .render import GraphDrawing
from .walk import Graph, Node, build, key, title

FILL = {
    "param": "lightblue",
    "input": "lightyellow",
    "const": "white",
    "value": "white",
    "op": "lightgrey",
    "output": "darkolivegreen1",
    "module": "lightsteelblue",
    "chain": "gainsboro",
    "write": "lightgrey",
    "more": "white",
}
NAN_COLOR = "red"
NAN_FILL = "mistyrose"
PATH_COLOR = "blue"
DEAD_COLOR = "gray55"
DEAD_FILL = "gray94"

NODE_ATTR = {
    "style": "filled",
    "shape": "box",
    "align": "left",
    "fontsize": "10",
    "height": "0.2",
    "fontname": "monospace",
}


def draw_graph(
    output: Any,
    params: Any = None,
    show_values: bool = False,
    show_grads: bool = False,
    max_nodes: int | None = 200,
    collapse_modules: bool = False,
    rankdir: str = "LR",
    highlight_path_from: Any = None,
    show_attrs: bool = False,
    show_saved: bool = False,
    max_attr_chars: int = 50,
) -> GraphDrawing:
    r"""Draw the graph that computed ``output`` (a Tensor, a list of them, or a dict name→Tensor).

    ``params`` names the leaves: a Module (its ``named_parameters()``), a dict name→Tensor, or
    an iterable of ``(name, tensor)`` pairs. ``show_values``/``show_grads`` add each tensor's
    value / ``.grad`` (in full when small, else mean/std/min/max); intermediate gradients exist
    only for tensors that called ``retain_grad()``. ``collapse_modules=True`` draws one box per
    module. ``show_attrs`` lists what each op kept besides values (``axis``, ``in_shape``;
    each cut to ``max_attr_chars``), ``show_saved`` the values it saved for backward (as
    torchviz's arguments of those names). Above ``max_nodes`` (``None``: no limit) the graph
    is collapsed with a
    ``UserWarning``. Returns a :class:`GraphDrawing` (``.save(path)``, ``.to_dot()``, inline
    SVG in Jupyter).

    >>> import tinygrad_edu as tg
    >>> x = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> loss = (x * 2.0).sum()
    >>> loss.backward()
    >>> dot = draw_graph(loss, {"x": x}, show_grads=True).to_dot()
    >>> for line in dot.splitlines():
    ...     if "label=" in line:
    ...         print(line.strip().split(" ", 1)[1])
    [label="x\n(2,) float32\ngrad [2., 2.]" fillcolor=lightblue]
    [label="Mul ×2\n(2,)" fillcolor=lightgrey]
    [label="Sum\n()" fillcolor=lightgrey]
    [label="output\n()" fillcolor=darkolivegreen1]
    """
    _check_options(max_nodes, rankdir)
    with _gc_paused():
        return _draw(output, params, show_values, show_grads, max_nodes, collapse_modules,
                     rankdir, highlight_path_from,
                     OpDetails(show_attrs, show_saved, max(int(max_attr_chars), 3)))


def make_dot(
    var: Any,
    params: Any = None,
    show_attrs: bool = False,
    show_saved: bool = False,
    max_attr_chars: int = 50,
) -> GraphDrawing:
    """torchviz's ``make_dot``, with its arguments in its order: :func:`draw_graph` of ``var``
    (a Tensor, or a tuple of them for several outputs). Code that does
    ``from torchviz import make_dot`` ports as ``from tinygrad_edu.viz import make_dot``; the
    result has the Digraph's ``render``, ``view``, ``source`` and ``format``.

    >>> import tinygrad_edu as tg
    >>> w = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> dot = make_dot((w * w).sum(), params={"w": w}, show_attrs=True)
    >>> "in_shape: (2,)" in dot.source
    True
    """
    return draw_graph(var, params, show_attrs=show_attrs, show_saved=show_saved,
                      max_attr_chars=max_attr_chars)


RANKDIRS = ("TB", "LR", "BT", "RL")


def _check_options(max_nodes: Any, rankdir: Any) -> None:
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int)
                                  or max_nodes < 1):
        raise ValueError(f"draw_graph: max_nodes={max_nodes!r}; pass a whole number of nodes "
                         "(at least 1) to draw, or None for no limit")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_graph: rankdir={rankdir!r}; use one of {', '.join(RANKDIRS)} "
                         "(LR: left to right, TB: top to bottom)")


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """The walk allocates a few objects per node and makes no cycles, while a big graph is
    many objects for each cyclic collection to traverse: pausing the collector halves the
    time on 10^5-node graphs."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _draw(
    output: Any,
    params: Any,
    show_values: bool,
    show_grads: bool,
    max_nodes: int | None,
    collapse_modules: bool,
    rankdir: str,
    highlight_path_from: Any,
    details: OpDetails,
) -> GraphDrawing:
    names, owners, classes, param_list = _params(params)
    layout = Layout(_outputs(output), names, owners, classes, param_list, show_values,
                    show_grads, max_nodes, collapse_modules, rankdir, highlight_path_from,
                    details)
    if collapse_modules and not classes:
        raise ValueError(
            "collapse_modules=True needs params= a Module (or a dict of dotted names such "
            "as 'layers.0.weight') to know which module each parameter belongs to"
        )
    base = layout.walk()
    g, steps = layout.collapse(base)
    if steps:
        warnings.warn(
            f"draw_graph: the graph has {len(base.nodes)} nodes, more than "
            f"max_nodes={max_nodes}, so it is drawn collapsed ({'; '.join(steps)}), as "
            f"{len(g.nodes)} nodes. Pass max_nodes=None (or a larger number) to draw every "
            f"node, or params=<your Module> with collapse_modules=True for one box per module.",
            UserWarning,
            stacklevel=3,
        )
    shown = displayed_ids(base, g)
    node_ids = {id(n.tensor): shown[k] for k, n in base.nodes.items()
                if n.tensor is not None and n.kind != "output"
                and shown[k] not in (None, "more_nodes")}
    return GraphDrawing(layout.digraph(g), total_nodes=len(base.nodes), num_nodes=len(g.nodes),
                        collapsed=tuple(steps), node_ids=node_ids, layout=layout)


@dataclass(frozen=True)
class OpDetails:
    """What an op's box shows besides its name and shape (torchviz's ``show_attrs``,
    ``show_saved`` and ``max_attr_chars``)."""

    attrs: bool = False
    saved: bool = False
    max_chars: int = 50

    def lines(self, ctx: Any) -> list[str]:
        """The op's attributes (``axis: 1``) and saved values (``saved[0] (3, 4) float32``)."""
        out = []
        if self.attrs:
            for k, v in vars(ctx).items():
                if not k.startswith("_") and k != "created_at":
                    value = _format.scalar_text(v) if _is_number(v) else repr(v)
                    text = f"{k}: {value}"
                    cut = self.max_chars
                    out.append(text if len(text) <= cut else text[:cut - 3] + "...")
        if self.saved:
            for i, v in enumerate(ctx.saved or ()):
                if isinstance(v, np.ndarray | Tensor):
                    out.append(f"saved[{i}] {_format.shape_text(v.shape)} {v.dtype}")
        return out


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.generic) and not isinstance(v, bool)


@dataclass(eq=False)
class Layout:
    """What ``draw_graph`` was asked to draw, kept by the drawing so that the graph can be
    laid out again: the explorer page draws each collapsed box once more, expanded."""

    outputs: list[tuple[str | None, Tensor]]
    names: dict[int, str]
    owners: dict[int, str]
    classes: dict[str, str | None]
    params: list[Tensor]
    show_values: bool
    show_grads: bool
    max_nodes: int | None
    collapse_modules: bool
    rankdir: str
    highlight_path_from: Any = None
    details: OpDetails = OpDetails()

    def walk(self) -> Graph:
        """The graph, every node (see :func:`~tinygrad_edu.viz.walk.build`)."""
        g = build(self.outputs, self.names, self.owners, self.params)
        if self.highlight_path_from is not None:
            _mark_path(g, _resolve(self.highlight_path_from, self.names, self.params))
        return g

    def collapse(self, g: Graph, keep: Collection[str] = ()) -> tuple[Graph, list[str]]:
        """``g`` as drawn: boxed by module if asked, then shrunk to ``max_nodes`` (the steps
        taken say how); nodes in ``keep`` stay as they are (``g`` itself is not changed)."""
        g = _collapse.group_writes(g, keep)
        if self.collapse_modules:
            g = _collapse.group_by_module(g, self.classes, keep)
        steps: list[str] = []
        if self.max_nodes is not None and len(g.nodes) > self.max_nodes + len(keep):
            g, steps = _shrink(g, self.max_nodes, None if self.collapse_modules else
                               self.classes, keep)
        return g, steps

    def digraph(self, g: Graph) -> graphviz.Digraph:
        """The styled graphviz source of a (collapsed) graph."""
        return _emit(g, self.show_values, self.show_grads, self.rankdir, self.details)


def displayed_ids(base: Graph, g: Graph) -> dict[str, str | None]:
    """For each node of the walked graph ``base``, the node of ``g`` (``base`` collapsed)
    that draws it: itself, the box or chain it is a member of, the ``more_nodes`` node if
    it was cut off, or ``None`` for a constant folded into its op."""
    shown: dict[str, str | None] = {m: n.id for n in g.nodes.values() for m in n.members}
    shown.update((k, k) for k in g.nodes)
    more = "more_nodes" if "more_nodes" in g.nodes else None
    for k, n in base.nodes.items():
        if k not in shown:
            shown[k] = None if n.kind in ("const", "value") else more
    return shown


# ---------------------------------------------------------------------------- inputs
def _outputs(output: Any) -> list[tuple[str | None, Tensor]]:
    if isinstance(output, Tensor):
        items: list[tuple[str | None, Any]] = [(None, output)]
    elif isinstance(output, Mapping):
        items = [(str(k), v) for k, v in output.items()]
    elif isinstance(output, Iterable) and not _is_single(output):
        items = [(None, v) for v in output]
    else:
        items = [(None, output)]
    if not items:
        raise ValueError("draw_graph: no output tensor given")
    for _, t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: output must be a Tensor (or a list/dict of Tensors), "
                            f"got {_what(t)}")
    seen: set[int] = set()
    unique = []
    for name, t in items:
        if id(t) not in seen:
            seen.add(id(t))
            unique.append((name, t))
    return unique


def _is_single(obj: Any) -> bool:
    """Iterable, but one object: a Module (iterating a Sequential gives its layers), an
    array, a string."""
    return hasattr(obj, "named_parameters") or isinstance(obj, np.ndarray | str | bytes)


def _what(obj: Any) -> str:
    """What was passed instead of a Tensor, and what to pass."""
    kind = type(obj).__name__
    if hasattr(obj, "named_parameters"):
        return (f"the Module {kind}: draw what it computes, draw_graph(model(x), "
                "params=model)")
    if isinstance(obj, np.ndarray | np.generic | float | int):
        return (f"a plain {kind} (no graph); compute it from tensors that require grad, "
                "e.g. tinygrad_edu.tensor(array, requires_grad=True)")
    return kind


def _params(
    params: Any,
) -> tuple[dict[int, str], dict[int, str], dict[str, str | None], list[Tensor]]:
    """names (id → name), owners (id → module path), classes (module path → class name),
    and the parameter tensors in order."""
    if params is None:
        return {}, {}, {}, []
    classes: dict[str, str | None] = {}
    if hasattr(params, "named_parameters"):
        pairs = list(params.named_parameters())
        if hasattr(params, "named_modules"):
            classes = {str(p): type(m).__name__ for p, m in params.named_modules()}
    elif isinstance(params, Mapping):
        pairs = list(params.items())
    else:
        pairs = list(params)
    names: dict[int, str] = {}
    owners: dict[int, str] = {}
    tensors: list[Tensor] = []
    for item in pairs:
        if isinstance(item, Tensor):
            raise TypeError(
                "draw_graph: params gives names to the parameters, but got a Tensor without a "
                f"name (shape {tuple(item.shape)}), as model.parameters() gives; pass "
                "params=model, dict(model.named_parameters()) or {'w': w, ...}"
            )
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Tensor)):
            raise TypeError(
                "draw_graph: params must be a Module, a dict name→Tensor or (name, Tensor) "
                f"pairs; got an item {item!r:.60}"
            )
        name, t = str(item[0]), item[1]
        if id(t) in names:
            continue  # shared parameter: keep its first name, as named_parameters() does
        names[id(t)] = name
        tensors.append(t)
        if "." in name or classes:
            path = name.rsplit(".", 1)[0] if "." in name else ""
            owners[id(t)] = path
            classes.setdefault(path, None)
    if not any("." in n for n in names.values()) and not hasattr(params, "named_parameters"):
        classes = {}
    if hasattr(params, "named_buffers"):  # running statistics etc.: named constants
        for name, b in params.named_buffers():
            if isinstance(b, Tensor):
                names.setdefault(id(b), str(name))
    return names, owners, classes, tensors


def _resolve(target: Any, names: dict[int, str], params: list[Tensor]) -> Tensor:
    if isinstance(target, Tensor):
        return target
    if isinstance(target, str):
        for t in params:
            if names[id(t)] == target:
                return t
        raise ValueError(
            f"highlight_path_from={target!r}: no parameter of that name in params "
            f"(names: {', '.join(sorted(names.values())[:8]) or 'none given'})"
        )
    raise TypeError("highlight_path_from must be a Tensor or a parameter name (str)")


def _mark_path(g: Graph, source: Tensor) -> None:
    start = key(source)
    if start not in g.nodes or g.nodes[start].unused:
        raise ValueError(
            f"highlight_path_from: that tensor (shape {tuple(source.shape)}) is not in the graph "
            "of the output (detached or unused), so there is no path to draw"
        )
    succ = g.successors()
    on = {start}
    stack = [start]
    while stack:
        k = stack.pop()
        for d in succ[k]:
            g.path_edges.add((k, d))
            if d not in on:
                on.add(d)
                stack.append(d)
    for k in on:
        g.nodes[k].on_path = True


def _shrink(g: Graph, max_nodes: int, classes: dict | None,
            keep: Collection[str] = ()) -> tuple[Graph, list[str]]:
    steps = []
    limit = max_nodes + len(keep)  # an expanded box's nodes come on top of max_nodes
    if classes:
        n = len(g.nodes)
        g = _collapse.group_by_module(g, classes, keep)
        steps.append(f"one box per module: {n} → {len(g.nodes)} nodes")
    if len(g.nodes) > limit:
        n = len(g.nodes)
        g = _collapse.merge_chains(g, keep)
        if len(g.nodes) < n:
            steps.append(f"chains of ops merged: {n} → {len(g.nodes)} nodes")
    if len(g.nodes) > limit:
        n = len(g.nodes)
        g = _collapse.fold_constants(g)
        if len(g.nodes) < n:
            steps.append(f"constants folded into their ops: {n} → {len(g.nodes)} nodes")
    if len(g.nodes) > limit:
        n = len(g.nodes)
        g = _collapse.truncate(g, max_nodes, keep)
        steps.append(f"only the {len(g.nodes) - 1} nodes nearest the output kept of {n}")
    return g, steps


# ---------------------------------------------------------------------------- output
def _emit(g: Graph, show_values: bool, show_grads: bool, rankdir: str,
          details: OpDetails = OpDetails()) -> graphviz.Digraph:
    graph_attr = {"rankdir": rankdir, "nodesep": "0.15", "ranksep": "0.25"}
    n = len(g.nodes)
    if n > 40:  # an upper bound in inches: big graphs scale down instead of growing forever
        side = int(min(60, max(12, 0.25 * n)))
        # no ratio=compress: with it, dot spends minutes on 200 nodes fed by one shared input
        graph_attr.update(size=f"{side},{side}")
    dg = graphviz.Digraph(graph_attr=graph_attr, node_attr=NODE_ATTR,
                          edge_attr={"arrowsize": "0.7"})
    output_tensors = {id(g.nodes[o].tensor) for o in g.outputs if g.nodes[o].kind == "output"}
    for node in g.nodes.values():
        lines = _label(node, show_values, show_grads, output_tensors)
        if node.kind == "op" and (details.attrs or details.saved):
            lines[2:2] = [_escape(x) for x in details.lines(node.ctx)]
        label = "\\n".join(lines)
        dg.node(node.id, label, **_node_style(node))
    dead = {k for k, n in g.nodes.items() if n.dead}
    for s, d in g.edges:
        attrs = {}
        if (s, d) in g.path_edges:
            attrs = {"color": PATH_COLOR, "penwidth": "2.5"}
        elif s in dead:
            attrs = {"color": DEAD_COLOR, "style": "dashed"}
        dg.edge(s, d, **attrs)
    return dg


def _node_style(node: Node) -> dict[str, str]:
    attrs = {"fillcolor": FILL["output"] if node.is_output else FILL[node.kind]}
    styles = ["filled"]
    if node.kind == "module":
        styles.append("rounded")
    if node.kind in ("const", "value"):
        attrs["color"] = "gray50"
    if node.kind == "chain":
        attrs["peripheries"] = "2"
    if node.kind == "write":
        styles.append("diagonals")
    if node.kind == "more":
        styles.append("dashed")
    if node.dead:
        styles.append("dashed")
        attrs.update(fillcolor=DEAD_FILL, color=DEAD_COLOR, fontcolor="gray40")
    if node.nonfinite:
        attrs.update(color=NAN_COLOR, fontcolor=NAN_COLOR, fillcolor=NAN_FILL, penwidth="2")
    if node.on_path:
        attrs.update(color=PATH_COLOR, penwidth="3")
    if styles != ["filled"]:
        attrs["style"] = ",".join(dict.fromkeys(styles))
    if node.tooltip:  # where the op was created (recorded in anomaly mode)
        attrs["tooltip"] = _escape(node.tooltip)
    return attrs


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\")


def _label(node: Node, show_values: bool, show_grads: bool, outputs: set[int]) -> list[str]:
    t = node.tensor
    kind = node.kind
    lines: list[str] = []
    if kind in ("param", "input", "const", "value"):
        name = node.name
        if name is None and kind == "input":
            name = "input"
        elif name is None and kind in ("const", "value"):
            name = "const"
        if name is not None:
            lines.append(_escape(name))
        lines.append(f"{_format.shape_text(t.shape)} {t.dtype}")
    elif kind in ("op", "output"):
        head = _escape(title(node))
        lines.append(f"{_escape(node.name)} = {head}" if node.name else head)
        dtype = "" if t.dtype == np.float32 else f" {t.dtype}"
        lines.append(_format.shape_text(t.shape) + dtype)
    else:
        lines.append(_escape(node.title))
        lines.extend(_escape(x) for x in node.lines)
        if kind == "chain":
            lines.append(_format.shape_text(t.shape))
    if kind == "module":
        if show_grads:
            for p in node.params[:4]:
                g = p.tensor.grad
                if g is not None:
                    short = (p.name or "").rsplit(".", 1)[-1]
                    lines.append(f"|grad| {short} {float(np.linalg.norm(g.data)):.4g}")
    elif t is not None and kind != "more":
        data = t.data if isinstance(t, Tensor) else t
        if show_values and not (kind == "op" and id(t) in outputs):
            lines.extend(_format.summarize(data, "data"))
        grad = getattr(t, "_grad", None)  # not .grad: reading a non-leaf's .grad warns
        if show_grads and grad is not None:
            lines.extend(_format.summarize(getattr(grad, "data", grad), "grad"))
    if node.folded:
        lines.append(f"+{node.folded} constant input{'s' if node.folded > 1 else ''}")
    if node.nonfinite:
        lines.append("nan appears here" if node.first_nonfinite else "nan/inf")
    if node.dead:
        lines.append(node.dead)
    return lines
