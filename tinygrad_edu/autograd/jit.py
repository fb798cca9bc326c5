"""A captured training step: trace one step's graph once, then replay it with new data
without building any Python objects (``compile_step``). Opt-in; eager mode is unchanged.

Eager execution pays, per op, for a Tensor, a graph node, the argument checks and, in
backward, the topological sort and the per-edge shape and dtype checks. On small nets that
is most of a step. A captured step runs the same primitives' ``forward`` and ``backward``
rules on the same arrays, in the same order, as straight-line generated code: the results
are bit-identical to eager, and what is left is numpy's own per-call cost. (Unless a pair of
ops is rewritten into one, which only a captured step can do since it knows the whole graph:
see :mod:`.jit_fusions`; those agree to rounding, and ``fuse=False`` turns them off.)

How it works. The first two calls run eagerly while every op is recorded (inputs, options,
which arrays flow where), and backward is recorded edge by edge (un-broadcasts, casts,
accumulations). If both recordings agree, the third and later calls replay the recording.
They agree when the step's graph depends only on the shapes of its inputs, which is the
contract (as with ``torch.jit.trace`` or CUDA graphs):

* the graph must not depend on the *values* of the data (no Python ``if`` on a tensor's
  value) — a difference between the two recordings is detected;
* constant arrays and tensors used by the step must outlive it (create them outside the
  function); arrays made afresh inside each call (a dropout mask, a target built from the
  labels in Python) cannot be replayed, and are detected: the step then stays eager, with a
  warning saying why;
* in-place changes inside the function (batch norm's running statistics) cannot be
  replayed either: detected, the step stays eager.

Parameters, and tensors the function reads from outside (closures), are read afresh on
every call, so updates (by the optimizer or by hand, in place or by assigning ``.data``)
are seen. A call whose inputs have other shapes or dtypes than the recorded ones, or made
under ``detect_anomaly()``, runs eagerly (and new shapes are recorded in turn).

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> from tinygrad_edu import nn, optim
>>> from tinygrad_edu.autograd import compile_step
>>> net = nn.Linear(2, 1)
>>> opt = optim.SGD(net.parameters(), lr=0.1)
>>> step = compile_step(lambda x, y: ((net(x) - y) ** 2).mean(), opt)
>>> x, y = tg.tensor(np.ones((4, 2), np.float32)), tg.tensor(np.zeros((4, 1), np.float32))
>>> losses = [step(x, y).item() for _ in range(5)]  # calls 3 to 5 are replays
>>> step.replays, losses[-1] < losses[0]
(3, True)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import function as _function
from .engine import (
    _check_versions,
    _leaf_accumulate,
    backward_order,
    cached_ones,
    root_gradient,
    unbroadcast,
)
from .function import _fix_output
from .grad_mode import flags
from .jit_fusions import find_fusions


class NotCapturable(Exception):
    """Raised while recording when a step cannot be replayed faithfully (the reason)."""


class _Tracer:
    """Collects the ops of one eager call: ``(cls, ctx, args, kwargs, output)``."""

    def __init__(self) -> None:
        self.ops: list[tuple] = []
        self.refused: str | None = None  # why the call cannot be replayed, if known

    def refuse(self, reason: str) -> None:
        """Mark the call as not replayable (Python code runs that a replay would skip)."""
        self.refused = self.refused or reason

    def record(self, cls: type, ctx: Any, args: tuple, kwargs: dict, out: Any) -> None:
        self.ops.append((cls, ctx, args, kwargs, out))


# ----------------------------------------------------------------------------- recording


def _same_const(a: Any, b: Any) -> bool:
    """Whether two recorded constants are interchangeable: arrays and tensors must be the
    same object (so they outlive the call); other values equal and of the same type."""
    if isinstance(a, np.ndarray | _function.Tensor) or isinstance(b, np.ndarray | _function.Tensor):
        return a is b
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(_same_const(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_const(a[k], b[k]) for k in a)
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:
        return False


class _Recording:
    """One recorded call: forward ops with resolved argument sources, and backward steps."""

    def __init__(self, inputs: list, ops: list, outputs: list) -> None:
        Tensor = _function.Tensor
        self.inputs = inputs
        self.ops = ops
        slot: dict[int, tuple] = {id(t): ("in", j) for j, t in enumerate(inputs)}
        # an input's array passed to an op as a plain array is that input on replay too
        in_array = {id(t.data): ("in", j) for j, t in enumerate(inputs)}
        self.exts: list = []  # tensors from outside the call, read afresh on every replay
        ext_index: dict[int, int] = {}
        self.fwd: list[tuple] = []  # (cls, ctx, [arg source], {kw: const})
        for i, (cls, ctx, args, kwargs, out) in enumerate(ops):
            srcs = []
            for a in args:
                if isinstance(a, Tensor):
                    s = slot.get(id(a))
                    if s is None:
                        if a._ctx is not None:
                            raise NotCapturable(
                                f"{cls.__name__} uses a tensor computed outside the step that "
                                "is part of a graph; detach() it or compute it inside"
                            )
                        k = ext_index.get(id(a))
                        if k is None:
                            k = ext_index[id(a)] = len(self.exts)
                            self.exts.append(a)
                        s = slot[id(a)] = ("ext", k)
                    srcs.append(s)
                elif isinstance(a, np.ndarray) and id(a) in in_array:
                    srcs.append(in_array[id(a)])
                else:
                    srcs.append(("const", a))
            for name, v in kwargs.items():
                if _holds(v, slot, in_array):
                    raise NotCapturable(
                        f"{cls.__name__}'s option {name!r} holds a tensor or array of the "
                        "step's inputs or results, which a replay could not update"
                    )
            self.fwd.append((cls, ctx, srcs, kwargs))
            slot[id(out)] = ("op", i)
        self.slot = slot
        self.outputs = outputs
        self.out_slots = []
        for o in outputs:
            s = slot.get(id(o))
            if s is None or s[0] != "op":
                raise NotCapturable("the step must return tensors computed by it (the loss first)")
            self.out_slots.append(s)
        self.bwd: list[tuple] = []
        self.seed: tuple = ()

    def matches(self, other: _Recording) -> str | None:
        """None when ``other`` recorded the same program; otherwise what differs."""
        if len(self.fwd) != len(other.fwd):
            return f"the two recorded calls ran {len(self.fwd)} and {len(other.fwd)} ops"
        for i, (a, b) in enumerate(zip(self.fwd, other.fwd)):
            cls_a, _, srcs_a, kw_a = a
            cls_b, _, srcs_b, kw_b = b
            where = f"op {i} ({cls_a.__name__})"
            if cls_a is not cls_b:
                return f"{where}: the second call ran {cls_b.__name__} there"
            if len(srcs_a) != len(srcs_b):
                return f"{where}: {len(srcs_a)} vs {len(srcs_b)} inputs"
            for j, (sa, sb) in enumerate(zip(srcs_a, srcs_b)):
                if sa[0] != sb[0]:
                    return f"{where}: input {j} comes from different places in the two calls"
                if sa[0] == "const":
                    if not _same_const(sa[1], sb[1]):
                        return (
                            f"{where}: input {j} is a constant made afresh in each call "
                            f"({type(sa[1]).__name__}); create it outside the step function"
                        )
                elif sa[0] == "ext":
                    if self.exts[sa[1]] is not other.exts[sb[1]]:
                        return (
                            f"{where}: input {j} is a tensor made afresh in each call outside "
                            "the recorded ops; create it outside the step function"
                        )
                elif sa != sb:
                    return f"{where}: input {j} comes from different ops in the two calls"
            if not _same_const(kw_a, kw_b):
                return (
                    f"{where}: its options differ between the two calls (or hold arrays made "
                    "in each call)"
                )
        if self.out_slots != other.out_slots:
            return "the step returned different tensors in the two calls"
        if self.seed != other.seed or self.bwd != other.bwd:
            return "backward ran differently in the two calls"
        return None


def _holds(v: Any, slot: dict, in_array: dict) -> bool:
    """Whether an op's option refers to a step input or a tensor computed in the step."""
    if isinstance(v, _function.Tensor):
        return id(v) in slot or id(v.data) in in_array
    if isinstance(v, np.ndarray):
        return id(v) in in_array
    if isinstance(v, tuple | list):
        return any(_holds(x, slot, in_array) for x in v)
    if isinstance(v, dict):
        return any(_holds(x, slot, in_array) for x in v.values())
    return False


def _source_name(s: tuple) -> str:
    kind, v = s
    return {"in": f"x{v}", "op": f"v{v}", "ext": f"e{v}"}[kind]


def _traced_backward(rec: _Recording, loss: Any) -> None:
    """``loss.backward()`` exactly as the engine runs it (create_graph=False,
    retain_graph=False), recording every step into ``rec.bwd`` by slot."""
    Tensor = _function.Tensor
    slot = rec.slot
    seed = root_gradient(loss, None, False, "backward()")
    rec.seed = (seed.shape, seed.dtype)
    order = backward_order([loss])
    grads: dict[int, Any] = {id(loss): seed}
    owned: set[int] = set()
    epoch = flags.inplace_epoch
    bwd = rec.bwd
    prev_mode = flags.grad_enabled
    flags.grad_enabled = False
    try:
        for t in order:
            g = grads.pop(id(t), None)
            ctx = t._ctx
            if g is None:
                if ctx is not None:
                    ctx.saved = None
                continue
            s = slot.get(id(t))
            if s is None:
                raise NotCapturable("backward reaches a tensor that the step did not record")
            if t._hooks:
                raise NotCapturable("a tensor in the step's graph has hooks (register_hook)")
            if ctx is not None and t._retains_grad:
                raise NotCapturable("a tensor in the step's graph calls retain_grad()")
            if ctx is None:
                own = not t._hooks and id(t) in owned
                _leaf_accumulate(t, g, False, own)
                bwd.append(("leaf", s, own))
                continue
            if s[0] != "op":
                raise NotCapturable("backward reaches a tensor that the step did not record")
            if ctx._epoch != epoch and ctx.saved:
                _check_versions(ctx)
            in_grads = ctx._function.backward(ctx, g)
            ctx.saved = None
            wrapped = type(in_grads) is not tuple
            if wrapped:
                in_grads = (in_grads,)
            if len(in_grads) != len(ctx.parents):
                raise RuntimeError(
                    f"{ctx.name}.backward returned {len(in_grads)} gradient(s), but forward "
                    f"took {len(ctx.parents)} input(s)"
                )
            edges = []
            fresh = ctx._function._fresh_grads
            for pos, (p, need, gp) in enumerate(zip(ctx.parents, ctx.needs_input_grad, in_grads)):
                if not need or gp is None:
                    continue
                if not isinstance(p, Tensor) or id(p) not in slot:
                    raise NotCapturable("backward reaches a tensor that the step did not record")
                pdata = p.data
                ub = None
                if gp.shape != pdata.shape:
                    ub = pdata.shape
                    gp = unbroadcast(gp, pdata.shape, ctx.name + "Backward")
                cast = None
                dt = gp.dtype
                if dt is not pdata.dtype and dt != pdata.dtype:
                    cast = pdata.dtype
                    gp = gp.astype(pdata.dtype)
                k = id(p)
                prev = grads.get(k)
                if prev is None:
                    grads[k] = gp
                    if fresh:
                        owned.add(k)
                else:
                    grads[k] = prev + gp
                    owned.add(k)
                edges.append((pos, slot[k], ub, cast, prev is not None))
            bwd.append(("node", s[1], wrapped, tuple(edges)))
    finally:
        flags.grad_enabled = prev_mode


# ----------------------------------------------------------------------------- code


def _generate(rec: _Recording, fuse: bool) -> Callable:
    """Straight-line Python for one replay: ``replay(I) -> list of output arrays``; with
    ``fuse``, pairs of ops that :mod:`.jit_fusions` rewrites run as one."""
    fusions = find_fusions(rec) if fuse else {}
    fused_cats = {f.cat: f for f in fusions.values()}
    ns: dict[str, Any] = {
        "ndarray": np.ndarray,
        "FIX": _fix_output,
        "UB": unbroadcast,
        "ACC": _leaf_accumulate,
        "EMPTY": (),
        "flags": flags,
    }
    lines = ["def replay(I, E):"]
    add = lines.append
    used_in = sorted({s[1] for _, _, srcs, _ in rec.fwd for s in srcs if s[0] == "in"})
    for j in used_in:
        add(f"    x{j} = I[{j}].data")
    for k in range(len(rec.exts)):
        add(f"    e{k} = E[{k}].data")
    for i, (cls, ctx, srcs, kwargs) in enumerate(rec.fwd):
        if i in fused_cats:  # computed by the fused op
            continue
        fusion = fusions.get(i)
        if fusion is not None:
            add(f"    # {cls.__name__} of the {rec.fwd[fusion.cat][0].__name__} op {fusion.cat}, "
                f"as {fusion.cls.__name__}")
            cls, ctx, srcs, kwargs = fusion.cls, fusion.ctx, fusion.srcs, fusion.kwargs
        ns[f"F{i}"] = cls.forward
        ns[f"C{i}"] = ctx
        ns[f"T{i}"] = cls
        args = [f"C{i}"]
        for j, s in enumerate(srcs):
            if s[0] == "const":
                ns[f"K{i}_{j}"] = s[1]
                args.append(f"K{i}_{j}")
            else:
                args.append(_source_name(s))
        for name, v in kwargs.items():
            ns[f"K{i}_{name}"] = v
            args.append(f"{name}=K{i}_{name}")
        add(f"    C{i}.saved = EMPTY")
        add(f"    v{i} = F{i}({', '.join(args)})")
        add(f"    if type(v{i}) is not ndarray: v{i} = FIX(T{i}, C{i}, v{i})")
    # backward
    loss_op = rec.out_slots[0][1]
    ns["SEED"] = cached_ones(*rec.seed)  # read-only: each replay seeds with a copy
    add("    prev_mode = flags.grad_enabled")
    add("    flags.grad_enabled = False")
    add("    try:")
    add(f"        g_v{loss_op} = SEED.copy()")
    n = 0
    for step in rec.bwd:
        if step[0] == "leaf":
            _, s, own = step
            target = f"I[{s[1]}]" if s[0] == "in" else f"E[{s[1]}]"
            add(f"        ACC({target}, g_{_source_name(s)}, False, {own})")
            add(f"        del g_{_source_name(s)}")
            continue
        _, i, wrapped, edges = step
        fusion = fusions.get(i)
        if i in fused_cats:  # the pieces' gradients, made by the fused op
            add(f"        r = R{i}")
            add(f"        del R{i}")
        else:
            call = f"B{i}(C{i}, g_v{i})"
            ns[f"B{i}"] = (rec.fwd[i][0] if fusion is None else fusion.cls).backward
            add(f"        r = ({call},)" if wrapped else f"        r = {call}")
            add(f"        C{i}.saved = EMPTY")
            add(f"        del g_v{i}")
        for pos, ps, ub, cast, acc in edges:
            if fusion is not None:
                if ps == ("op", fusion.cat):  # kept for the concatenation's turn
                    add(f"        R{fusion.cat} = r")
                    continue
                pos = fusion.position(pos)
            expr = f"r[{pos}]"
            if ub is not None:
                ns[f"S{n}"], ns[f"N{n}"] = ub, rec.fwd[i][0].__name__ + "Backward"
                expr = f"UB({expr}, S{n}, N{n})"
            if cast is not None:
                ns[f"D{n}"] = cast
                expr = f"{expr}.astype(D{n})"
            n += 1
            name = f"g_{_source_name(ps)}"
            add(f"        {name} = {name} + {expr}" if acc else f"        {name} = {expr}")
    add("    finally:")
    add("        flags.grad_enabled = prev_mode")
    add(f"    return [{', '.join(_source_name(s) for s in rec.out_slots)}]")
    code = "\n".join(lines)
    exec(compile(code, "<tinygrad_edu captured step>", "exec"), ns)
    replay = ns["replay"]
    replay.source = code
    return replay


# ----------------------------------------------------------------------------- the step


class _Program:
    """What a signature of inputs has become: recording, replaying, or eager for good."""

    __slots__ = ("ext_sig", "exts", "first", "reason", "replay", "several", "source")

    def __init__(self) -> None:
        self.first: _Recording | None = None
        self.several = False
        self.replay: Callable | None = None
        self.exts: list = []
        self.ext_sig: list = []
        self.reason: str | None = None
        self.source = ""


class CompiledStep:
    """A training step that is recorded on its first two calls and replayed afterwards.

    ``step(*inputs)`` runs ``optimizer.zero_grad()`` (when given), ``out = fn(*inputs)``,
    ``out.backward()`` (``out[0]`` when ``fn`` returns several tensors) and
    ``optimizer.step()``, and returns the result(s) detached from any graph. See the module
    docstring for the contract; ``reason`` says why a step stays eager, ``replays`` counts the
    replayed calls, ``source`` shows the generated code.
    """

    def __init__(self, fn: Callable, optimizer: Any = None, *, max_programs: int = 8,
                 fuse: bool = True) -> None:
        self.fn = fn
        self.optimizer = optimizer
        self.max_programs = max_programs
        self.fuse = fuse
        self.replays = 0
        self._programs: dict[tuple, _Program] = {}
        self._warned: set[str] = set()

    # the public view of the most recent program
    @property
    def reason(self) -> str | None:
        reasons = [p.reason for p in self._programs.values() if p.reason]
        return reasons[-1] if reasons else None

    @property
    def source(self) -> str:
        sources = [p.source for p in self._programs.values() if p.source]
        return sources[-1] if sources else ""

    def __call__(self, *inputs: Any) -> Any:
        Tensor = _function.Tensor
        inputs = tuple(
            x if isinstance(x, Tensor)
            else Tensor._wrap(x) if isinstance(x, np.ndarray) else Tensor(x)
            for x in inputs
        )
        sig = tuple((x.data.shape, x.data.dtype, x._requires_grad) for x in inputs)
        prog = self._programs.get(sig)
        if prog is None:
            if len(self._programs) >= self.max_programs:
                self._programs.pop(next(iter(self._programs)))
            prog = self._programs[sig] = _Program()
        if flags.slow or not flags.grad_enabled:  # anomaly mode, nested capture, no_grad
            return self._eager(inputs)
        if prog.replay is not None and all(
            (e.data.shape, e.data.dtype) == s for e, s in zip(prog.exts, prog.ext_sig)
        ):
            return self._replay(prog, inputs)
        if prog.reason is not None:
            return self._eager(inputs)
        return self._record(prog, inputs)

    # --------------------------------------------------------------------- modes
    def _outputs(self, out: Any) -> list:
        Tensor = _function.Tensor
        outs = list(out) if isinstance(out, tuple | list) else [out]
        if not outs or not all(isinstance(o, Tensor) for o in outs):
            raise TypeError("the step function must return a Tensor (the loss) or a tuple of them")
        return outs

    def _result(self, arrays: list, several: bool) -> Any:
        Tensor = _function.Tensor
        outs = [Tensor._wrap(a) for a in arrays]
        return tuple(outs) if several else outs[0]

    def _eager(self, inputs: tuple) -> Any:
        if self.optimizer is not None:
            self.optimizer.zero_grad()
        out = self.fn(*inputs)
        outs = self._outputs(out)
        outs[0].backward()
        if self.optimizer is not None:
            self.optimizer.step()
        return self._result([o.data for o in outs], isinstance(out, tuple | list))

    def _record(self, prog: _Program, inputs: tuple) -> Any:
        if self.optimizer is not None:
            self.optimizer.zero_grad()
        tracer = _Tracer()
        epoch = flags.inplace_epoch
        flags.tracer = tracer
        try:
            out = self.fn(*inputs)
        finally:
            flags.tracer = None
        outs = self._outputs(out)
        rec = None
        try:
            if tracer.refused:
                raise NotCapturable(tracer.refused)
            if flags.inplace_epoch != epoch:
                raise NotCapturable(
                    "the step function changes a tensor in place (e.g. batch norm's running "
                    "statistics), which a replay would skip"
                )
            rec = _Recording(list(inputs), tracer.ops, outs)
        except NotCapturable as e:
            self._give_up(prog, str(e))
        if rec is None:
            outs[0].backward()
        else:
            try:
                _traced_backward(rec, outs[0])
            except NotCapturable as e:  # nothing was accumulated yet for the failing node
                self._give_up(prog, str(e))
                raise RuntimeError(
                    f"compile_step: recording backward failed ({e}); the step was only half "
                    "done, call it again (it now runs eagerly)"
                ) from None
        if self.optimizer is not None:
            self.optimizer.step()
        if rec is not None and prog.reason is None:
            if prog.first is None:
                prog.first = rec
            else:
                why = prog.first.matches(rec)
                if why is not None:
                    self._give_up(prog, why)
                else:
                    prog.replay = _generate(rec, self.fuse)
                    prog.source = prog.replay.source
                    prog.exts = rec.exts
                    prog.ext_sig = [(e.data.shape, e.data.dtype) for e in rec.exts]
                    prog.several = isinstance(out, tuple | list)
                    # the replay reuses the second recording's nodes, not its tensors
                    prog.first = None
                    for _, ctx, _, _ in rec.fwd:
                        ctx.saved = ()
                        ctx.parents = ()
        return self._result([o.data for o in outs], isinstance(out, tuple | list))

    def _replay(self, prog: _Program, inputs: tuple) -> Any:
        opt = self.optimizer
        if opt is not None:
            opt.zero_grad()
        arrays = prog.replay(inputs, prog.exts)
        if opt is not None:
            opt.step()
        self.replays += 1
        return self._result(arrays, prog.several)

    def _give_up(self, prog: _Program, reason: str) -> None:
        prog.reason = reason
        prog.first = None
        if reason not in self._warned:
            self._warned.add(reason)
            warnings.warn(
                f"compile_step: this step cannot be replayed, it runs eagerly: {reason}",
                RuntimeWarning,
                stacklevel=4,
            )


def compile_step(fn: Callable, optimizer: Any = None, *, max_programs: int = 8,
                 fuse: bool = True) -> CompiledStep:
    """Capture a training step: ``fn(*inputs)`` returns the loss (or a tuple, loss first).

    Each call of the result does ``optimizer.zero_grad()``, ``fn``, ``backward`` and
    ``optimizer.step()``; from the third call on, by replaying a recording of the first two
    (see :mod:`tinygrad_edu.autograd.jit`). Results are bit-identical to eager execution,
    except where ``fuse`` lets a pair of ops run as one (see
    :mod:`tinygrad_edu.autograd.jit_fusions`: a concatenation that only feeds a matrix
    product), which agrees to rounding; ``fuse=False`` replays every op as recorded. Keep
    ``max_programs`` recordings (one per distinct input shapes).
    """
    return CompiledStep(fn, optimizer, max_programs=max_programs, fuse=fuse)
