"""Walk a Tensor's graph (with an explicit stack, never recursion) into a plain node/edge list.

The result, :class:`Graph`, knows nothing about graphviz: it lists nodes in topological order
(inputs before the ops that use them) and edges in the direction of the data flow
(input → op → output). ``draw_graph`` collapses it if needed and then styles and emits it.

Node ids follow torchviz: ``str(id(obj))`` of the leaf Tensor, of the op's Context, of the
output Tensor (for the green output node) or of a plain array an op took as input.

>>> import tinygrad_edu as tg
>>> w = tg.tensor([1.0, 2.0], requires_grad=True)
>>> g = build([(None, (w * 2.0).sum())], {})
>>> [n.kind for n in g.nodes.values()]
['param', 'op', 'op', 'output']
>>> [title(n) for n in g.nodes.values()]
['', 'Mul ×2', 'Sum', 'output']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd.grad_mode import flags
from ..autograd.inplace import resolve_parents
from ..tensor import Tensor
from . import _format

# op name → symbol for folding a plain-number input into the op's label ("Mul ×2")
_SYMBOLS = {"Add": "+", "Sub": "−", "Mul": "×", "Div": "÷", "Pow": "^"}
_COMMUTATIVE = {"Add", "Mul"}


@dataclass(eq=False, slots=True)
class Node:
    """One node to draw.

    ``kind`` is one of: ``param`` (a named leaf that requires grad, or any such leaf when no
    names were given), ``input`` (a leaf that requires grad but is not a parameter), ``const``
    (a leaf Tensor that does not require grad), ``value`` (a plain array an op took), ``op``,
    ``output``, and, after collapsing, ``module``, ``chain`` and ``more``.
    """

    id: str
    kind: str
    title: str = ""  # for an op, filled from ``ctx`` when needed: use :func:`title`
    tensor: Any = None
    name: str | None = None
    requires_grad: bool = False
    is_output: bool = False
    nonfinite: bool = False
    first_nonfinite: bool = False
    dead: str | None = None  # why the gradient is missing or zero, after backward
    unused: bool = False  # a parameter that is not in the graph at all
    on_path: bool = False
    module: str | None = None  # for parameters: the dotted path of the module that owns it
    tooltip: str | None = None
    ctx: Any = None  # the op's Context
    lines: Sequence[str] = ()  # extra label lines (collapsed nodes)
    members: Sequence[str] = ()  # ids of the nodes a collapsed node stands for
    params: Sequence[Node] = ()  # the parameters inside a module box
    folded: int = 0  # constant inputs folded into this node's label


@dataclass(eq=False)
class Graph:
    nodes: dict[str, Node]
    edges: list[tuple[str, str]]
    outputs: list[str]
    path_edges: set[tuple[str, str]] = field(default_factory=set)
    after_backward: bool = False

    def predecessors(self) -> dict[str, list[str]]:
        preds: dict[str, list[str]] = {k: [] for k in self.nodes}
        for s, d in self.edges:
            preds[d].append(s)
        return preds

    def successors(self) -> dict[str, list[str]]:
        succ: dict[str, list[str]] = {k: [] for k in self.nodes}
        for s, d in self.edges:
            succ[s].append(d)
        return succ


def key(t: Tensor) -> str:
    """The id of the node that draws ``t``: its op for a computed tensor, itself for a leaf."""
    return str(id(t._ctx)) if t._ctx is not None else str(id(t))


@dataclass(slots=True)
class _Recorded:
    """What :func:`resolve_parents` reads of a Context, on a copy it may change freely."""

    _epoch: int
    parents: tuple


def parents(ctx: Any) -> tuple:
    """``ctx.parents`` as they were when the op was recorded: an input changed in place since
    (``z += 1`` after ``y = z.exp()``) is its value from before, the snapshot backward() uses,
    not the tensor's new history. Read-only: ``ctx`` is left as it was."""
    epoch = getattr(ctx, "_epoch", None)
    if epoch is None or epoch == flags.inplace_epoch:  # nothing changed in place since
        return ctx.parents
    return resolve_parents(_Recorded(epoch, ctx.parents))


def title(node: Node) -> str:
    """The first label line of a node; for an op, computed on first use (most ops of a big
    graph are never drawn one by one)."""
    if not node.title and node.ctx is not None:
        node.title = op_title(node.ctx)
    return node.title


def op_title(ctx: Any) -> str:
    """The op's name with its plain-number inputs folded in: ``Mul ×2``, ``Sub 1−·``."""
    name = ctx.name
    parents = ctx.parents
    for p in parents:
        if not isinstance(p, Tensor):
            break
    else:
        return name
    consts = [
        (i, p) for i, p in enumerate(parents) if not isinstance(p, Tensor | np.ndarray)
        or (isinstance(p, np.ndarray) and p.size <= 1)
    ]
    if not consts:
        return name
    sym = _SYMBOLS.get(name)
    if sym is not None and len(consts) == 1 and len(ctx.parents) == 2:
        i, c = consts[0]
        text = _format.scalar_text(c)
        if i == 1 or name in _COMMUTATIVE:
            return f"{name} {sym}{text}"
        return f"{name} {text}{sym}·"
    args = []
    const_at = dict(consts)
    for i, p in enumerate(ctx.parents):
        if i in const_at:
            args.append(_format.scalar_text(p))
        elif _is_array_node(p):
            args.append("c")
        else:
            args.append("·")
    return f"{name}({', '.join(args)})"


def _is_array_node(p: Any) -> bool:
    """A plain array input big enough to get its own constant node."""
    return isinstance(p, np.ndarray) and p.size > 1


def _topological(outputs: Sequence[Tensor]) -> list[Tensor]:
    """Every tensor the outputs depend on, inputs first (iterative depth-first post-order)."""
    order: list[Tensor] = []
    visited: set[int] = set()  # ids of the nodes (a computed tensor is its op)
    stack: list[tuple[Tensor, bool]] = [(t, False) for t in reversed(outputs)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        ctx = t._ctx
        k = id(t) if ctx is None else id(ctx)
        if k in visited:
            continue
        visited.add(k)
        stack.append((t, True))
        if ctx is not None:
            for p in reversed(parents(ctx)):
                if isinstance(p, Tensor):
                    stack.append((p, False))
    return order


def _leaf_kind(t: Tensor, name: str | None, have_names: bool) -> str:
    if not t.requires_grad:
        return "const"
    if name is not None or not have_names:
        return "param"
    return "input"


def _dead_reason(t: Tensor) -> str | None:
    if t.grad is None:
        return "no grad"
    if _format.is_all_zero(t.grad.data):
        return "grad all zero"
    return None


def build(
    outputs: Sequence[tuple[str | None, Tensor]],
    names: dict[int, str],
    modules: dict[int, str] | None = None,
    params: Sequence[Tensor] = (),
) -> Graph:
    """The graph of ``outputs`` as nodes and edges (see the module docstring).

    ``names`` maps ``id(tensor)`` to a display name; ``modules`` maps ``id(parameter)`` to the
    dotted path of the module that owns it; ``params`` are drawn even when the outputs do not
    depend on them (greyed out: a detached or unused parameter).
    """
    modules = modules or {}
    have_names = bool(names)
    tensors = _topological([t for _, t in outputs])
    nodes: dict[str, Node] = {}
    edges: list[tuple[str, str]] = []
    finite: dict[str, bool] = {}
    leaves_with_grad: list[Node] = []
    freed = False
    for t in tensors:
        ctx = t._ctx
        k = str(id(t)) if ctx is None else str(id(ctx))
        name = names.get(id(t))
        bad = _format.nonfinite(t.data)
        finite[k] = not bad
        if ctx is None:
            node = Node(k, _leaf_kind(t, name, have_names), "", t, name, t.requires_grad,
                        module=modules.get(id(t)))
            if t.requires_grad:
                leaves_with_grad.append(node)
        else:
            freed = freed or ctx._freed
            node = Node(k, "op", "", t, name, True, ctx=ctx, tooltip=ctx.created_at)
            inputs_finite = True
            for p in parents(ctx):
                if isinstance(p, Tensor):
                    pk = key(p)
                    edges.append((pk, k))
                    inputs_finite = inputs_finite and finite[pk]
                elif _is_array_node(p):
                    pk = str(id(p))
                    if pk not in nodes:
                        nodes[pk] = Node(pk, "value", "", np.asarray(p))
                    edges.append((pk, k))
            node.first_nonfinite = bad and inputs_finite
        g = t._grad  # not .grad: reading a non-leaf's .grad warns
        node.nonfinite = bad or (g is not None and _format.nonfinite(getattr(g, "data", g)))
        nodes[k] = node

    out_ids: list[str] = []
    for i, (oname, t) in enumerate(outputs):
        k = key(t)
        if t._ctx is None:
            nodes[k].is_output = True
            if oname is not None:
                nodes[k].name = oname
            out_ids.append(k)
            continue
        ok = str(id(t))
        if ok in nodes:
            continue
        title = oname if oname is not None else ("output" if len(outputs) == 1 else f"output {i}")
        nodes[ok] = Node(ok, "output", title, t, None, True, is_output=True,
                         nonfinite=nodes[k].nonfinite)
        edges.append((k, ok))
        out_ids.append(ok)

    after_backward = freed or any(n.tensor.grad is not None for n in leaves_with_grad)
    if after_backward:
        for n in nodes.values():
            t = n.tensor
            if n.kind in ("param", "input") or (n.kind == "op" and t._retains_grad):
                n.dead = _dead_reason(t)

    for p in params:
        if key(p) in nodes or not p.requires_grad:
            continue
        nodes[key(p)] = Node(
            key(p), "param", "", p, names.get(id(p)), True, unused=True,
            dead="not in graph", module=modules.get(id(p)),
            nonfinite=_format.nonfinite(p.data),
        )
    return Graph(nodes, edges, out_ids, after_backward=after_backward)
