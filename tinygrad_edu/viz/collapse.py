"""Make a big :class:`~tinygrad_edu.viz.walk.Graph` small enough to read.

Five rewrites, each replacing groups of nodes by one node (edges are re-pointed, duplicates
between collapsed nodes dropped, the highlighted path kept):

* :func:`group_writes` — one box per in-place change recorded through a graph: ``z[mask] = 0``
  or ``v += x`` on a view is recorded as where, scatter and reshape ops (see
  :mod:`tinygrad_edu.autograd.inplace`), which the drawing shows as the one change the user
  wrote (PyTorch's drawings show ``CopySlices``).
* :func:`group_by_module` — one box per module. The module of an op is inferred from the
  graph (no forward hooks are needed): a parameter belongs to the module that owns it
  directly (``layers.0.weight`` → ``layers.0``); an op whose only inputs are parameters of one
  module, its own such ops, or plain numbers and arrays (``weight.T``, ``2 * weight``)
  belongs to it too, and so does an op that takes such a value directly (the ``MatMul`` of
  ``x @ weight.T``, the ``Add`` of the bias). When several modules feed an op directly, the
  deepest one wins. Then each box is made convex: an op that owns nothing but lies on a path
  from one of a module's nodes to another (the ``Reshape`` between a convolution's ``MatMul``
  and its bias ``Add``) joins that box, so collapsing never draws a cycle. Ops fed by no
  parameter and outside every such path (an activation between two layers, the loss) stay as
  they are: a module's box holds the ops its parameters feed, not all of its forward.
* :func:`merge_chains` — a run of ops where each one's only consumer is the next op, and the
  next op takes no other op's output, becomes one ``chain`` node.
* :func:`fold_constants` — unnamed constant leaves disappear into a count on their consumer.
* :func:`truncate` — keep the ``max_nodes - 1`` nodes nearest the outputs (breadth first,
  against the data flow) and one ``… N more nodes`` node feeding the cut.

All of them are loops over lists; nothing recurses, and none changes the graph it is given
(the explorer page lays one walked graph out several times). ``keep`` names nodes that must
stay as they are: the explorer draws a collapsed box expanded by passing its members.

>>> import tinygrad_edu as tg
>>> from tinygrad_edu.viz.walk import build
>>> x = tg.tensor([1.0], requires_grad=True)
>>> y = x
>>> for _ in range(5):
...     y = y * 2.0
>>> g = merge_chains(build([(None, y)], {}))
>>> [n.kind for n in g.nodes.values()]
['param', 'chain', 'output']
"""

from __future__ import annotations

import dataclasses
from collections import Counter, deque
from collections.abc import Collection

from . import _format
from .walk import Graph, Node, title


def contract(g: Graph, rep: dict[str, str], new: dict[str, Node]) -> Graph:
    """Replace every node ``k`` in ``rep`` by the node ``new[rep[k]]``."""
    nodes: dict[str, Node] = {}
    for k, n in g.nodes.items():
        r = rep.get(k)
        if r is None:
            nodes[k] = n
        elif r not in nodes:
            nodes[r] = new[r]
    edges: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for s, d in g.edges:
        rs, rd = rep.get(s, s), rep.get(d, d)
        if rs == rd:
            continue
        if s in rep or d in rep:
            if (rs, rd) in seen:
                continue
            seen.add((rs, rd))
        edges.append((rs, rd))
    path = {(rep.get(s, s), rep.get(d, d)) for s, d in g.path_edges}
    outputs = list(dict.fromkeys(rep.get(o, o) for o in g.outputs))
    return Graph(nodes, edges, outputs, {(s, d) for s, d in path if s != d}, g.after_backward)


def write_title(op: str) -> str:
    """The label of an in-place change, from the name autograd.inplace was given (``+=``,
    ``clamp_``, ``__setitem__``).

    >>> write_title("__setitem__"), write_title("+="), write_title("clamp_")
    ('[…] = (in place)', '+= (in place)', 'clamp_ (in place)')
    """
    return f"{'[…] =' if op == '__setitem__' else op} (in place)"


def group_writes(g: Graph, keep: Collection[str] = ()) -> Graph:
    """One ``write`` node (id ``write_<n>``) per in-place change recorded through the graph:
    the nodes autograd.inplace tagged, the ops numbered after the change began that lead to
    them, and the unnamed constants (masks, indices) only they read. Even a change recorded
    as one op is boxed (``z += b`` as ``+= (in place)``, its ``Add`` listed), so a drawing
    says where the code changed a tensor in place. A change with a member in ``keep`` is not
    boxed."""
    preds = g.predecessors()
    succ = g.successors()
    groups: dict[str, dict[str, None]] = {}
    titles: dict[str, str] = {}
    for k, n in g.nodes.items():
        write = getattr(n.ctx, "_write", None) if n.kind == "op" else None
        if write is None:
            continue
        op, first = write
        gid = f"write_{first}"
        titles[gid] = write_title(op)
        members = groups.setdefault(gid, {})
        stack = [k]
        while stack:
            x = stack.pop()
            if x in members:
                continue
            members[x] = None
            stack.extend(p for p in preds[x] if g.nodes[p].kind == "op"
                         and g.nodes[p].ctx._seq > first)
    rep: dict[str, str] = {}
    new: dict[str, Node] = {}
    for gid, members in groups.items():
        if any(m in keep for m in members):
            continue
        for m in list(members):
            for p in preds[m]:
                pn = g.nodes[p]
                if (pn.kind in ("const", "value") and pn.name is None and not pn.is_output
                        and all(s in members for s in succ[p])):
                    members[p] = None
        nodes = [n for k, n in g.nodes.items() if k in members]  # in topological order
        for n in nodes:
            rep[n.id] = gid
        ops = [n for n in nodes if n.kind == "op"]
        lines = [f"{len(ops)} op{'s' if len(ops) != 1 else ''}: "
                 + _listing([n.ctx.name for n in ops])]
        shapes = _out_shapes(g, set(members))
        if shapes:
            lines.append("→ " + ", ".join(shapes))
        new[gid] = _merge_flags(Node(gid, "write", titles[gid], lines=lines), nodes)
    return contract(g, rep, new) if new else g


def _depth(prefix: str) -> int:
    return 0 if prefix == "" else prefix.count(".") + 1


def _merge_flags(node: Node, members: list[Node]) -> Node:
    node.members = [m.id for m in members]
    node.nonfinite = any(m.nonfinite for m in members)
    node.first_nonfinite = any(m.first_nonfinite for m in members)
    node.on_path = any(m.on_path for m in members)
    node.is_output = any(m.is_output for m in members)
    node.folded = sum(m.folded for m in members)
    return node


def _out_shapes(g: Graph, ids: set[str]) -> list[str]:
    shapes = []
    for s, d in g.edges:
        if s in ids and d not in ids:
            t = g.nodes[s].tensor
            if t is not None and g.nodes[s].kind == "op":
                shapes.append(_format.shape_text(t.shape))
    return list(dict.fromkeys(shapes))


def module_of_params(g: Graph) -> dict[str, str]:
    """Node id → owning module path, for parameters and the ops inferred to belong to one."""
    preds = g.predecessors()
    owner: dict[str, str] = {}
    pure: dict[str, str] = {}
    for k, n in g.nodes.items():
        if n.kind == "param" and n.module is not None:
            owner[k] = pure[k] = n.module
        elif n.kind == "op":
            direct = [pure[p] for p in preds[k] if p in pure]
            if not direct:
                continue
            best = max(direct, key=_depth)  # max keeps the first of equal depths
            owner[k] = best
            if all(pure.get(p) == best or g.nodes[p].kind == "value" for p in preds[k]):
                pure[k] = best
    _fill_between(g, owner, preds)
    return owner


def _fill_between(g: Graph, owner: dict[str, str], preds: dict[str, list[str]]) -> None:
    """Give each module the unowned ops on paths between two of its nodes (in place).

    ``g.nodes`` is in topological order, so one forward sweep finds a module's descendants and
    one backward sweep its ancestors; both run only over the positions between the module's
    first node and its last op, which for a layer of a sequential net is a short stretch.
    """
    order = list(g.nodes)
    pos = {k: i for i, k in enumerate(order)}
    spans: dict[str, list[int]] = {}
    for k, m in owner.items():
        i = pos[k]
        span = spans.setdefault(m, [i, -1])
        span[0] = min(span[0], i)
        if g.nodes[k].kind == "op":
            span[1] = max(span[1], i)
    succ = g.successors()
    for m, (lo, hi) in spans.items():
        if hi - lo < 2:
            continue
        below: set[str] = set()  # reached from the module
        for k in order[lo:hi + 1]:
            if owner.get(k) == m or any(p in below for p in preds[k]):
                below.add(k)
        above: set[str] = set()  # reaching the module
        between = []
        for k in reversed(order[lo:hi + 1]):
            if owner.get(k) == m or any(s in above for s in succ[k]):
                above.add(k)
                if k in below and k not in owner and g.nodes[k].kind == "op":
                    between.append(k)
        for k in between:
            owner[k] = m


def group_by_module(g: Graph, classes: dict[str, str | None],
                    keep: Collection[str] = ()) -> Graph:
    """One ``module`` node (id ``module_<path>``) per module that owns parameters (see the
    module docstring); a module with a node in ``keep`` is not boxed."""
    owner = module_of_params(g)
    kept = {owner[k] for k in keep if k in owner}
    groups: dict[str, list[Node]] = {}
    for k, n in g.nodes.items():  # in topological order, so each box lists its ops in order
        m = owner.get(k)
        if m is not None and m not in kept:
            groups.setdefault(m, []).append(n)
    rep: dict[str, str] = {}
    new: dict[str, Node] = {}
    for path, members in groups.items():
        gid = f"module_{path}"
        ids = {m.id for m in members}
        for m in members:
            rep[m.id] = gid
        params = [m for m in members if m.kind == "param"]
        cls = classes.get(path)
        head = (path or "(root)") + (f": {cls}" if cls else "")
        short = [(m.name or "").rsplit(".", 1)[-1] for m in params]
        lines = [_listing([f"{s} {_format.shape_text(m.tensor.shape)}" for s, m in
                           zip(short, params)])]
        shapes = _out_shapes(g, ids)
        if shapes:
            lines.append("→ " + ", ".join(shapes))
        ops = [m for m in members if m.kind == "op"]
        if ops:
            lines.append(f"{len(ops)} op{'s' if len(ops) != 1 else ''}: "
                         + _listing([m.ctx.name for m in ops]))
        node = _merge_flags(Node(gid, "module", head, lines=lines), members)
        node.tensor = None
        dead = [s for s, m in zip(short, params) if m.dead]
        if dead and len(dead) == len(params):
            node.dead = params[0].dead if len({m.dead for m in params}) == 1 else "no grad"
        elif dead:
            node.lines.append("no/zero grad: " + _listing(dead))
        node.params = params
        new[gid] = node
    return contract(g, rep, new)


def _listing(items: list[str], limit: int = 4) -> str:
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f", … +{len(items) - limit}"


def merge_chains(g: Graph, keep: Collection[str] = ()) -> Graph:
    """Merge runs of ops that feed only each other into ``chain`` nodes (none in ``keep``)."""
    preds = g.predecessors()
    succ = g.successors()
    head: dict[str, str] = {}
    for k, n in g.nodes.items():
        if n.kind != "op" or n.name is not None or k in keep:
            continue
        op_in = {p for p in preds[k] if g.nodes[p].kind == "op"}
        if len(op_in) != 1:
            continue
        (u,) = op_in
        if g.nodes[u].name is None and u not in keep and set(succ[u]) == {k}:
            head[k] = head.get(u, u)
    chains: dict[str, list[Node]] = {}
    for k, h in head.items():
        chains.setdefault(h, [g.nodes[h]]).append(g.nodes[k])
    rep: dict[str, str] = {}
    new: dict[str, Node] = {}
    for h, members in chains.items():
        cid = f"chain_{h}"
        for m in members:
            rep[m.id] = cid
        last = members[-1]
        counts = Counter(m.ctx.name for m in members)
        ends = [title(members[0]), title(last)]
        lines = [f"{ends[0]} → … → {ends[1]}" if len(members) > 2
                 else " → ".join(title(m) for m in members),
                 _listing([f"{op}×{c}" for op, c in counts.most_common()], 3)]
        node = _merge_flags(Node(cid, "chain", f"{len(members)} ops", last.tensor,
                                 lines=lines), members)
        new[cid] = node
    return contract(g, rep, new)


def fold_constants(g: Graph) -> Graph:
    """Drop unnamed constant leaves; each consumer counts them in ``folded``."""
    drop = {k for k, n in g.nodes.items()
            if n.kind in ("const", "value") and n.name is None and not n.is_output}
    added = Counter(d for s, d in g.edges if s in drop and d not in drop)
    nodes = {k: dataclasses.replace(n, folded=n.folded + added[k]) if k in added else n
             for k, n in g.nodes.items() if k not in drop}
    edges = [(s, d) for s, d in g.edges if s not in drop]
    path = {(s, d) for s, d in g.path_edges if s not in drop}
    return Graph(nodes, edges, g.outputs, path, g.after_backward)


def truncate(g: Graph, max_nodes: int, keep: Collection[str] = ()) -> Graph:
    """Keep the ``max_nodes - 1`` nodes nearest the outputs, plus one ``more`` node
    (id ``more_nodes``); the nodes in ``keep`` are kept on top of those."""
    extra = [k for k in keep if k in g.nodes]
    if len(g.nodes) <= max_nodes + len(extra):
        return g
    preds = g.predecessors()
    kept: dict[str, None] = dict.fromkeys(extra)
    budget = max(1, max_nodes - 1) + len(extra)
    queue = deque(g.outputs)
    while queue and len(kept) < budget:
        k = queue.popleft()
        if k in kept:
            continue
        kept[k] = None
        queue.extend(p for p in preds[k] if p not in kept)
    succ = g.successors()
    for k in g.nodes:  # isolated nodes (unused parameters) come last
        if len(kept) >= budget:
            break
        if not preds[k] and not succ[k]:
            kept[k] = None
    more = Node("more_nodes", "more",
                f"… {len(g.nodes) - len(kept)} more nodes",
                lines=[f"(max_nodes={max_nodes})"])
    nodes = {"more_nodes": more}
    nodes.update((k, g.nodes[k]) for k in kept)
    edges = []
    cut: dict[str, None] = {}
    for s, d in g.edges:
        if s in kept and d in kept:
            edges.append((s, d))
        elif d in kept:
            cut[d] = None
    edges = [("more_nodes", d) for d in cut] + edges
    path = {(s, d) for s, d in g.path_edges if s in kept and d in kept}
    return Graph(nodes, edges, g.outputs, path, g.after_backward)
