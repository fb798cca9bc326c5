"""Drawings of plain-numpy code: the graph of a loss written with numpy, as the checker and
``tg.numpy_grad`` run it (see :mod:`tinygrad_edu.numpy_mode`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ..numpy_mode import check_traced, trace
from .graph import draw_graph
from .render import GraphDrawing


def draw_numpy(fn: Callable, *args: Any, argnum: int = 0, show_values: bool = False,
               show_grads: bool = False, **options: Any) -> GraphDrawing:
    """Draw the graph of ``fn(*args)``, a function written in plain numpy (a homework loss),
    with respect to argument ``argnum``: an array, a number, or a dict/list/tuple of them,
    whose entries are drawn as parameters named after their keys (``W1``, ``b1``; ``w[0]``
    in a list; the argument's own name for a single array).

    ``show_grads=True`` runs backward first (the function must return one number), so each
    parameter shows its gradient, and the drawing's explorer page can step through it. The
    other options are :func:`draw_graph`'s.

    >>> import numpy as np
    >>> def loss(p, x):
    ...     return ((np.tanh(x @ p["W"]) - 1) ** 2).mean()
    >>> d = draw_numpy(loss, {"W": np.ones((3, 2))}, np.ones((4, 3)), show_grads=True)
    >>> "W\\\\n(3, 2) float64\\\\ngrad" in d.to_dot()
    True
    """
    out, boxed, _ = trace(fn, args, argnum)
    check_traced(out, argnum, "draw_numpy")
    if show_grads:
        if out.data.size != 1:
            raise ValueError(
                f"draw_numpy: show_grads=True needs the function to return one number (a "
                f"loss), got an array of shape {out.shape}; reduce it (np.sum, np.mean) or "
                "draw it without show_grads")
        if out.requires_grad:
            out.backward(retain_graph=True)  # retained: the explorer replays backward
    names = dict(_named_leaves(boxed, _argument_name(fn, argnum)))
    return draw_graph(out, names, show_values=show_values, show_grads=show_grads, **options)


def _argument_name(fn: Callable, argnum: int) -> str:
    try:
        positional = [p.name for p in inspect.signature(fn).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):  # a builtin or a callable without a signature
        positional = []
    return positional[argnum] if argnum < len(positional) else f"argument {argnum}"


def _named_leaves(value: Any, name: str, top: bool = True) -> list[tuple[str, Any]]:
    """(name, leaf) pairs in the order the argument was boxed: a top-level dict's entries by
    key (``W1``), nested ones by path (``layer1.W``), list and tuple entries by index
    (``w[0]``)."""
    if isinstance(value, dict):
        pairs = []
        for k, v in value.items():
            pairs += _named_leaves(v, str(k) if top else f"{name}.{k}", False)
        return pairs
    if isinstance(value, list | tuple):
        pairs = []
        for i, v in enumerate(value):
            pairs += _named_leaves(v, f"{name}[{i}]", False)
        return pairs
    return [(name, value)]
