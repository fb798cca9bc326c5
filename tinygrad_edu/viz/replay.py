"""The forward and backward pass of a drawn graph, step by step, with the true numbers.

The forward steps visit the walked graph in topological order (inputs before the ops that
use them). The backward steps are the engine's: the order of
:func:`~tinygrad_edu.autograd.engine.topological_order`, reversed, as ``backward()`` runs
it; at each op the op's own ``Function.backward`` rule is called on the gradient that
arrived (graph and saved values are left as they are, like ``retain_graph=True``), and the
result is un-broadcast and cast as the engine does. So every number shown is one that
``backward()`` computes: each input's contribution, the sums where a value feeds several
ops, and, at each leaf, the gradient that ``backward()`` puts in ``.grad`` (hooks are not
run). Nothing is accumulated into ``.grad``.

A graph already freed by ``backward()`` (without ``retain_graph=True``) has lost the values
the rules need: its backward steps then show each op's rule and each leaf's ``.grad``, and
the trace says why the numbers in between are missing.

>>> import tinygrad_edu as tg
>>> from tinygrad_edu.viz.graph import draw_graph
>>> w = tg.tensor([1.0, 2.0], requires_grad=True)
>>> t = trace(draw_graph((w * w).sum(), {"w": w})._layout)
>>> [(s.phase, s.head) for s in t.steps]
[('forward', 'w (2,) float32'), ('forward', 'Mul → (2,)'), ('forward', 'Sum → ()'), \
('forward', 'output ()'), ('backward', 'output: the seed'), ('backward', 'Sum'), \
('backward', 'Mul'), ('backward', 'w: its gradient')]
>>> t.leaves[0].name, t.leaves[0].lines, t.leaves[0].check
('w', ['[2., 4.]'], 'backward() will put this in .grad (it is None now)')
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd import engine, no_grad
from ..tensor import Tensor
from . import _format
from .rules import rule_for
from .walk import Graph, Node, key, parents, title


@dataclass
class Section:
    """A labelled value in a step's panel; ``sum`` is a running total shown under ``note``."""

    label: str
    lines: list[str]
    note: str = ""
    sum: list[str] = field(default_factory=list)


@dataclass
class Step:
    """One step: ``node`` is the walked graph's node id, ``flow`` the nodes whose edges into
    ``node`` carry this step's values (inputs forward, gradients backward)."""

    phase: str  # "forward" or "backward"
    node: str
    head: str
    rule: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    flow: list[str] = field(default_factory=list)


@dataclass
class LeafGrad:
    """A leaf that requires grad (a parameter, or an input) and its gradient; ``step`` is
    the index of the step after which it is known (-1: from the start)."""

    name: str
    node: str
    lines: list[str]
    step: int
    check: str


@dataclass
class Trace:
    steps: list[Step]
    leaves: list[LeafGrad]
    notice: str = ""  # why numbers are missing, when they are


def lines(value: Any) -> list[str]:
    """A value as a few lines: in full when small, else its statistics.

    >>> lines(np.arange(3.0)), lines(np.zeros((10, 10)))[0]
    (['[0., 1., 2.]'], 'mean 0 std 0')
    """
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, np.ndarray | np.generic | float | int):
        return [line[1:] for line in _format.summarize(np.asarray(value), "")]
    return [_format.scalar_text(value)]


def trace(layout: Any) -> Trace:
    """The steps of ``layout``'s graph (a :class:`~tinygrad_edu.viz.graph.Layout`)."""
    base = layout.walk()
    steps = _forward(base)
    roots = [t for _, t in layout.outputs if t.requires_grad]
    if not roots:
        return Trace(steps, _leaves(base, layout, {}, {}, False),
                     "Nothing in this graph requires grad, so there is no backward pass.")
    try:
        order = engine.topological_order(roots)
    except RuntimeError:  # the graph was freed by backward()
        return _freed(base, layout, steps, roots, FREED)
    n = len(steps)
    try:
        return _replay(base, layout, steps, roots, order)
    except RuntimeError as e:  # a value it needs was changed in place since the forward
        return _freed(base, layout, steps[:n], roots, f"The backward pass cannot be replayed: "
                      f"{e} Each leaf shows its .grad.")


# ---------------------------------------------------------------------------- forward
def _describe(base: Graph, p: Any) -> str:
    """How the panel names an op's input: a leaf by its name, a result by its op."""
    if not isinstance(p, Tensor):
        return "a constant"
    node = base.nodes.get(key(p))
    if node is None:
        return "a tensor"
    if node.kind == "op":
        return f"the output of {title(node)}"
    if node.name:
        return node.name
    return {"param": "a parameter", "input": "an input"}.get(node.kind, "a constant")


def _leaf_head(node: Node) -> str:
    t = node.tensor
    name = node.name or {"param": "parameter", "input": "input"}.get(node.kind, "const")
    dtype = getattr(t, "dtype", None)
    return f"{name} {_format.shape_text(np.shape(t.data if isinstance(t, Tensor) else t))}" + (
        f" {dtype}" if dtype is not None else "")


_LEAF_WORDS = {
    "param": "a parameter: a leaf that requires grad; backward() fills its .grad",
    "input": "an input that requires grad; backward() fills its .grad",
    "const": "a constant: it requires no gradient",
    "value": "a plain array the op took: a constant",
}


def _forward(base: Graph) -> list[Step]:
    steps = []
    for k, node in base.nodes.items():
        if node.unused:
            continue
        if node.kind == "op":
            ctx = node.ctx
            rule = rule_for(ctx.name, ctx._function)
            sections = [Section(f"{rule.input_name(i)} = {_describe(base, p)}", lines(p))
                        for i, p in enumerate(parents(ctx))]
            sections.append(Section("out", lines(node.tensor)))
            steps.append(Step("forward", k, f"{title(node)} → "
                              f"{_format.shape_text(node.tensor.shape)}", [rule.forward],
                              sections, _tensor_inputs(ctx)))
        elif node.kind == "output":
            steps.append(Step("forward", k, f"{title(node)} "
                              f"{_format.shape_text(node.tensor.shape)}",
                              ["the result"], [Section("value", lines(node.tensor))],
                              [key(node.tensor)]))
        else:
            steps.append(Step("forward", k, _leaf_head(node), [_LEAF_WORDS[node.kind]],
                              [Section("value", lines(node.tensor))]))
    return steps


def _tensor_inputs(ctx: Any) -> list[str]:
    inputs = parents(ctx)
    return [key(p) for p in inputs if isinstance(p, Tensor)] + [
        str(id(p)) for p in inputs if isinstance(p, np.ndarray) and p.size > 1]


# ---------------------------------------------------------------------------- backward
def _seed(base: Graph, roots: list[Tensor]) -> tuple[list[Step], dict[int, np.ndarray]]:
    steps, grads = [], {}
    for r in roots:
        seed = np.ones(r.data.shape, r.data.dtype)
        grads[id(r)] = seed if id(r) not in grads else grads[id(r)] + seed
        node = str(id(r)) if str(id(r)) in base.nodes else key(r)
        words = ("∂L/∂L = 1: the gradient of the output with respect to itself"
                 if r.data.size == 1 else
                 "a gradient of ones, as for output.sum() (backward() needs gradient= here)")
        head = f"{base.nodes[node].title or base.nodes[node].name or 'output'}: the seed"
        steps.append(Step("backward", node, head, [words], [Section("gradient", lines(seed))]))
    return steps, grads


def _uses(order: list[Tensor]) -> Counter:
    """How many gradients each tensor will receive (one per use by an op that needs it)."""
    uses: Counter = Counter()
    for t in order:
        ctx = t._ctx
        if ctx is not None:
            for p, need in zip(parents(ctx), ctx.needs_input_grad):
                if need:
                    uses[id(p)] += 1
    return uses


def _replay(base: Graph, layout: Any, steps: list[Step], roots: list[Tensor],
            order: list[Tensor]) -> Trace:
    seed_steps, grads = _seed(base, roots)
    steps += seed_steps
    uses = _uses(order)
    got: Counter = Counter()
    final: dict[int, tuple[np.ndarray, int]] = {}
    for t in reversed(order):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        ctx = t._ctx
        if ctx is None:
            final[id(t)] = (g, len(steps))
            node = base.nodes[key(t)]
            steps.append(Step("backward", key(t), f"{node.name or 'input'}: its gradient",
                              [_leaf_words(uses[id(t)])], [Section("∂L/∂" + (
                                  node.name or "input"), lines(g))]))
            continue
        steps.append(_op_step(base, t, g, grads, uses, got))
    hooked = sum(bool(t._hooks) for t in order)
    notice = (f"{hooked} tensor(s) here have hooks (register_hook): backward() runs them, the "
              "explorer does not, so where a hook changes a gradient the numbers differ."
              if hooked else "")
    return Trace(steps, _leaves(base, layout, final, {}, True), notice)


def _leaf_words(n_uses: int) -> str:
    if n_uses > 1:
        return (f"a leaf used {n_uses} times: its gradient is the sum of the {n_uses} "
                "contributions; backward() accumulates it into .grad")
    return "a leaf: backward() accumulates this into .grad"


def _op_step(base: Graph, t: Tensor, g: Any, grads: dict[int, Any], uses: Counter,
             got: Counter) -> Step:
    ctx = t._ctx
    rule = rule_for(ctx.name, ctx._function)
    engine._check_versions(ctx)
    with no_grad():
        in_grads = ctx._function.backward(ctx, g)
    if type(in_grads) is not tuple:
        in_grads = (in_grads,)
    if len(in_grads) != len(ctx.parents):
        engine._wrong_count(ctx, in_grads)
    incoming = "∂L/∂out (the incoming gradient)"
    if uses[id(t)] > 1:
        incoming += f", the sum of {uses[id(t)]} contributions"
    sections = [Section(incoming, lines(g))]
    flow = []
    for i, (p, need, gp) in enumerate(zip(parents(ctx), ctx.needs_input_grad, in_grads)):
        if not need or gp is None:
            continue
        gp = _as_input_grad(np.asarray(getattr(gp, "data", gp)), p, ctx.name)
        prev = grads.get(id(p))
        total = gp if prev is None else prev + gp
        grads[id(p)] = total
        got[id(p)] += 1
        section = Section(f"→ {rule.input_name(i)} = {_describe(base, p)}", lines(gp))
        if uses[id(p)] > 1:
            section.note = (f"contribution {got[id(p)]} of {uses[id(p)]}; "
                            + ("the sum so far:" if got[id(p)] < uses[id(p)] else "the sum:"))
            section.sum = lines(total)
        sections.append(section)
        flow.append(key(p))
    return Step("backward", key(t), title(base.nodes[key(t)]), [rule.backward], sections, flow)


def _as_input_grad(gp: np.ndarray, p: Tensor, op: str) -> np.ndarray:
    """Sum a broadcast gradient back to the input's shape and cast it, as the engine does."""
    if gp.shape != p.data.shape:
        gp = engine.unbroadcast(gp, p.data.shape, op + "Backward")
    return gp if gp.dtype == p.data.dtype else gp.astype(p.data.dtype)


FREED = ("backward() has freed this graph's saved values, so the gradients between the "
         "output and the leaves cannot be shown; each leaf shows its .grad. Draw the graph "
         "before calling backward(), or call backward(retain_graph=True), to see every number.")


def _freed(base: Graph, layout: Any, steps: list[Step], roots: list[Tensor],
           notice: str) -> Trace:
    """Backward steps without numbers: each op's rule, each leaf's ``.grad``."""
    seed_steps, _ = _seed(base, roots)
    steps += seed_steps
    final = {}
    for k, node in reversed(base.nodes.items()):
        t = node.tensor
        if node.kind == "op":
            ctx = node.ctx
            steps.append(Step("backward", k, title(node),
                              [rule_for(ctx.name, ctx._function).backward],
                              flow=[key(p) for p, need in zip(parents(ctx), ctx.needs_input_grad)
                                    if need]))
        elif node.kind in ("param", "input") and not node.unused:
            final[id(t)] = len(steps)
            shown = lines(t.grad) if t.grad is not None else ["None"]
            steps.append(Step("backward", k, f"{node.name or 'input'}: its gradient",
                              ["its .grad, as backward() left it"],
                              [Section(f".grad of {node.name or 'input'}", shown)]))
    return Trace(steps, _leaves(base, layout, {}, final, False), notice)


# ---------------------------------------------------------------------------- leaves
def _leaves(base: Graph, layout: Any, replayed: dict[int, tuple[np.ndarray, int]],
            freed_at: dict[int, int], did_replay: bool) -> list[LeafGrad]:
    """One row per leaf that requires grad: parameters in the model's order, then inputs."""
    nodes = [n for n in base.nodes.values() if n.kind in ("param", "input")]
    rank = {id(p): i for i, p in enumerate(layout.params)}
    nodes.sort(key=lambda n: rank.get(id(n.tensor), len(rank)))
    out = []
    for n in nodes:
        t = n.tensor
        name = n.name or "input " + _format.shape_text(t.shape)
        if n.unused:
            out.append(LeafGrad(name, n.id, ["no gradient: not in the graph"], -1,
                                ".grad is None" if t.grad is None else ".grad is not from "
                                "this graph"))
        elif id(t) in replayed:
            g, step = replayed[id(t)]
            out.append(LeafGrad(name, n.id, lines(g), step, _check(g, t)))
        elif id(t) in freed_at:
            out.append(LeafGrad(name, n.id, lines(t.grad) if t.grad is not None else
                                ["None"], freed_at[id(t)], "this is .grad"))
        else:
            why = "no gradient reaches it" if did_replay else "no backward pass"
            out.append(LeafGrad(name, n.id, [why], -1, ""))
    return out


def _check(g: np.ndarray, t: Tensor) -> str:
    if t.grad is None:
        return "backward() will put this in .grad (it is None now)"
    have = t.grad.data
    scale = float(np.max(np.abs(g))) if g.size and np.isfinite(g).all() else 1.0
    if have.shape == g.shape and np.allclose(have, g, rtol=1e-5, atol=1e-6 * max(scale, 1e-30),
                                             equal_nan=True):
        return "= .grad ✓"
    return (".grad differs: " + " ".join(lines(have)) + " (.grad adds up over backward() "
            "calls: was zero_grad() called?)")
