"""PyTorch's ``torch.autograd.functional``: Jacobians, Hessians and their products with
vectors, computed with the reverse-mode engine (``grad``), with PyTorch's signatures, shapes
and tuple conventions.

``jacobian(f, x)`` has shape ``f(x).shape + x.shape`` (one backward pass per output
element); a tuple of inputs (or outputs) gives a tuple (of tuples). ``jvp`` and ``hvp`` use
the double-backward trick, as PyTorch does, so they cost two backward passes.

>>> import tinygrad_edu as tg
>>> from tinygrad_edu.autograd.functional import hessian, jacobian
>>> jacobian(lambda x: x ** 2, tg.tensor([1.0, 2.0]))
tensor([[2., 0.],
        [0., 4.]])
>>> hessian(lambda x: (x ** 3).sum(), tg.tensor([1.0, 2.0]))
tensor([[ 6.,  0.],
        [ 0., 12.]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import function as _function
from .engine import grad
from .grad_mode import enable_grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _as_tuple(value: Any, what: str, caller: str) -> tuple[bool, tuple]:
    """``(was it a tuple, the values as a tuple)``, every value a Tensor."""
    Tensor = _function.Tensor
    is_tuple = isinstance(value, tuple | list)
    values = tuple(value) if is_tuple else (value,)
    for i, v in enumerate(values):
        if not isinstance(v, Tensor):
            where = f" (element {i})" if is_tuple else ""
            raise TypeError(
                f"{caller}: {what} must be a Tensor or a tuple of Tensors, but{where} got a "
                f"{type(v).__name__}"
            )
    return is_tuple, values


def _prepare(inputs: tuple, create_graph: bool, caller: str) -> tuple:
    """Fresh tensors that require grad: ``grad`` differentiates with respect to them. With
    ``create_graph`` an input that requires grad stays connected to its graph (a clone)."""
    out = []
    for i, x in enumerate(inputs):
        if x.data.dtype.kind not in "fc":
            raise TypeError(
                f"{caller}: input {i} is {x.dtype} (shape {tuple(x.shape)}); derivatives need "
                "floating-point inputs: convert it with .double() or .float()"
            )
        out.append(x.clone() if create_graph and x.requires_grad
                   else x.detach().requires_grad_())
    return tuple(out)


def _finish(values: Any, create_graph: bool) -> Any:
    """Detach results unless a graph was asked for (nested tuples kept)."""
    if isinstance(values, tuple):
        return tuple(_finish(v, create_graph) for v in values)
    if values is None or create_graph:
        return values
    return values.detach()


def _zeros(like: Any) -> Any:
    return _function.Tensor._wrap(np.zeros(like.shape, like.dtype))


def _grads(outputs: tuple, inputs: tuple, grad_outputs: tuple, create_graph: bool,
           strict: bool, caller: str) -> tuple:
    """``grad`` of the outputs that require grad; zeros (or, when ``strict``, an error) for
    an input they do not depend on."""
    keep = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    found: tuple = (None,) * len(inputs)
    if keep:
        found = grad([o for o, _ in keep], list(inputs), [g for _, g in keep],
                     retain_graph=True, create_graph=create_graph, allow_unused=True)
    out = []
    for i, (g, x) in enumerate(zip(found, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"{caller}: the output is independent of input {i} (shape "
                    f"{tuple(x.shape)}), which is not allowed in strict mode"
                )
            g = _zeros(x)
        out.append(g)
    return tuple(out)


def _check_v(v: Any, like: tuple, what: str, caller: str) -> tuple:
    """The vector(s) ``v`` as a tuple, one per tensor of ``like``, each of its shape."""
    _, vs = _as_tuple(v, "v", caller)
    if len(vs) != len(like):
        raise RuntimeError(
            f"{caller}: v has {len(vs)} tensor(s), but there are {len(like)} {what}s: give one "
            f"per {what}"
        )
    for i, (a, b) in enumerate(zip(vs, like)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(
                f"{caller}: v[{i}] has shape {tuple(a.shape)}, but {what} {i} has shape "
                f"{tuple(b.shape)}; they must match"
            )
    return tuple(a.detach().to(b.dtype) for a, b in zip(vs, like))


def _single(v: Any, values: tuple, what: str, caller: str) -> tuple:
    """``v``, or ones when ``v`` is None and there is a single one-element tensor."""
    if v is not None:
        return _check_v(v, values, what, caller)
    if len(values) != 1 or values[0].data.size != 1:
        raise RuntimeError(
            f"{caller}: v can only be None when the {what} is a single tensor with a single "
            f"element; here there are {len(values)} of shapes "
            f"{[tuple(t.shape) for t in values]}. Pass v="
        )
    return (_function.Tensor._wrap(np.ones(values[0].shape, values[0].dtype)),)


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``: ``J[i..., j...] = ∂out[i...]/∂in[j...]``.

    ``vectorize`` is accepted and changes nothing; ``strategy`` may be ``"reverse-mode"`` or
    ``"forward-mode"`` (the same values, computed in reverse mode here)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', "
                         f"got {strategy!r}")
    in_tuple, ins = _as_tuple(inputs, "inputs", "jacobian")
    with enable_grad():
        ins = _prepare(ins, create_graph, "jacobian")
        out_tuple, outs = _as_tuple(func(*ins), "the outputs of the function", "jacobian")
        rows = [_jacobian_of(o, ins, create_graph, strict) for o in outs]
    rows = _finish(tuple(rows), create_graph)
    if not out_tuple:
        return rows[0] if in_tuple else rows[0][0]
    return rows if in_tuple else tuple(r[0] for r in rows)


def _jacobian_of(out: Any, ins: tuple, create_graph: bool, strict: bool) -> tuple:
    """One output's Jacobian with respect to each input (one backward per element)."""
    from ..functional import stack

    per_input: list[list] = [[] for _ in ins]
    for j in range(out.data.size):
        onehot = np.zeros(out.data.size, out.dtype)
        onehot[j] = 1
        seed = _function.Tensor._wrap(onehot.reshape(out.shape))
        for k, g in enumerate(_grads((out,), ins, (seed,), create_graph, strict, "jacobian")):
            per_input[k].append(g)
    return tuple(
        stack(rows).reshape(tuple(out.shape) + tuple(x.shape)) if rows
        else _function.Tensor._wrap(np.zeros(tuple(out.shape) + tuple(x.shape), x.dtype))
        for rows, x in zip(per_input, ins))


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a function with a single-element output: shape ``x.shape + x.shape``
    (a tuple of tuples for a tuple of inputs), the Jacobian of its gradient."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "hessian")

    def scalar(*xs: Any) -> Any:
        out = func(*xs)
        if not isinstance(out, _function.Tensor):
            raise RuntimeError(f"hessian: the function must return a single Tensor, got a "
                               f"{type(out).__name__}")
        if out.data.size != 1:
            raise RuntimeError(f"hessian: the function must return a single element, got "
                               f"shape {tuple(out.shape)}")
        return out.reshape(())

    def gradient(*xs: Any) -> tuple:
        return jacobian(scalar, xs, create_graph=True, strict=strict)

    res = jacobian(gradient, ins, create_graph=create_graph, strict=strict,
                   strategy=outer_jacobian_strategy)
    return res if in_tuple else res[0][0]


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``(func(inputs), vᵀ·J)``: the vector-Jacobian product (one backward pass)."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "vjp")
    with enable_grad():
        ins = _prepare(ins, create_graph, "vjp")
        out = func(*ins)
        _, outs = _as_tuple(out, "the outputs of the function", "vjp")
        vs = _single(v, outs, "output", "vjp")
        res = _grads(outs, ins, vs, create_graph, strict, "vjp")
    return _finish(out if isinstance(out, _function.Tensor) else tuple(out), create_graph), \
        _finish(res if in_tuple else res[0], create_graph)


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``(func(inputs), J·v)``: the Jacobian-vector product, by the double-backward trick
    (``J·v`` is the gradient of ``uᵀ·J·v`` with respect to ``u``)."""
    _, ins = _as_tuple(inputs, "inputs", "jvp")
    with enable_grad():
        ins = _prepare(ins, create_graph, "jvp")
        vs = _single(v, ins, "input", "jvp")
        out = func(*ins)
        out_tuple, outs = _as_tuple(out, "the outputs of the function", "jvp")
        res = _double_backward(outs, ins, vs, create_graph, strict, "jvp")
    return _finish(out if not out_tuple else tuple(out), create_graph), \
        _finish(res if out_tuple else res[0], create_graph)


def _double_backward(outs: tuple, ins: tuple, vs: tuple, create_graph: bool, strict: bool,
                     caller: str) -> tuple:
    """``J·v`` for the Jacobian J of ``outs`` with respect to ``ins``, one per output."""
    us = tuple(_zeros(o).requires_grad_() for o in outs)
    first = _grads(outs, ins, us, True, strict, caller)
    keep = [(g, v) for g, v in zip(first, vs) if g.requires_grad]
    found: tuple = (None,) * len(us)
    if keep:
        found = grad([g for g, _ in keep], list(us), [v for _, v in keep],
                     retain_graph=True, create_graph=create_graph, allow_unused=True)
    return tuple(_zeros(u) if g is None else g for g, u in zip(found, us))


def _scalar_output(func: Callable, ins: tuple, caller: str) -> Any:
    out = func(*ins)
    if not isinstance(out, _function.Tensor) or out.data.size != 1:
        shape = tuple(out.shape) if isinstance(out, _function.Tensor) else type(out).__name__
        raise RuntimeError(f"{caller}: the function must return a single Tensor with a single "
                           f"element, got {shape}")
    return out


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``(func(inputs), vᵀ·H)`` for the Hessian H of a single-element function."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``(func(inputs), H·v)`` for the Hessian H of a single-element function (by the
    double-backward trick, as in PyTorch; equal to ``vhp`` for a symmetric Hessian)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool,
                     caller: str) -> tuple:
    """``vhp`` (the gradient's vector-Jacobian product) or ``hvp`` (its Jacobian-vector
    product, by double backward)."""
    in_tuple, ins = _as_tuple(inputs, "inputs", caller)
    with enable_grad():
        ins = _prepare(ins, create_graph, caller)
        vs = _single(v, ins, "input", caller)
        out = _scalar_output(func, ins, caller)
        first = _grads((out,), ins, (None,), True, strict, caller)
        second = _grads if caller == "vhp" else _double_backward
        res = second(first, ins, vs, create_graph, strict, caller)
    return _finish(out, create_graph), _finish(res if in_tuple else res[0], create_graph)
