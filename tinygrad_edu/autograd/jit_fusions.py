"""Rewrites of a captured step (``compile_step``): pairs of ops that the replay runs as one,
because the whole step's graph is known there and not in eager execution.

One rewrite so far: a concatenation along the last axis whose result feeds nothing but a
matrix product (``@``, ``F.linear``/``nn.Linear``, Keras's ``Dense``) becomes
:class:`~tinygrad_edu.nn._functions.ConcatAffine`, which never builds the concatenated
matrix and gives each piece a contiguous gradient. A bias column, ``cat([ones, a], 1) @ w``
(seed 002's net), is the usual case. A rewritten step agrees with eager execution up to
rounding (the products are summed in another order); ``compile_step(..., fuse=False)``
replays without rewrites, bit for bit.

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> from tinygrad_edu.autograd import compile_step
>>> w = tg.tensor(np.ones((3, 1)), requires_grad=True)
>>> x, ones = tg.tensor(np.ones((4, 2))), tg.ones(4, 1, dtype=tg.float64)
>>> step = compile_step(lambda x: (tg.cat([ones, x], dim=1) @ w).sum())
>>> [step(x).item() for _ in range(3)], "ConcatAffine" in step.source
([12.0, 12.0, 12.0], True)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


@dataclass
class ConcatAffineFusion:
    """Op ``cat`` (a Concatenate) feeding a product (the op it is keyed by in
    :func:`find_fusions`' result), the two replayed as ``cls``."""

    cat: int
    cls: type
    ctx: Any  # the fused op's node
    srcs: list  # argument sources: the pieces', then the weight's (and the bias')
    kwargs: dict
    n_pieces: int

    def position(self, pos: int) -> int:
        """The fused op's input position of the product's input ``pos`` (1 or 2)."""
        return self.n_pieces + pos - 1


def _array(value: Any) -> np.ndarray | None:
    """A recorded argument's array (a Tensor's ``.data``), None for anything else."""
    if not isinstance(value, np.ndarray):
        value = getattr(value, "data", None)  # (an ndarray's own .data is a buffer)
    return value if isinstance(value, np.ndarray) else None


def _float_matrices(values: list, dtype: np.dtype) -> bool:
    arrays = [_array(v) for v in values]
    return all(a is not None and a.ndim == 2 and a.dtype == dtype for a in arrays)


def _bias_of(b: Any, out_features: int, dtype: np.dtype) -> bool:
    return b is not None and b.shape == (out_features,) and b.dtype == dtype


def _product_edge_plain(rec: Any, op: int, cat: int) -> bool:
    """Whether backward hands the product's gradient to the concatenation as it is (no
    un-broadcast, no cast, nothing to add to): then the pieces may get theirs directly."""
    for step in rec.bwd:
        if step[0] == "node" and step[1] == op:
            for _, ps, ub, cast, acc in step[3]:
                if ps == ("op", cat):
                    return ub is None and cast is None and not acc
    return True  # the concatenation gets no gradient at all


def find_fusions(rec: Any) -> dict[int, ConcatAffineFusion]:
    """The rewrites that apply to the recording ``rec`` (a ``jit._Recording`` whose tensors
    are still alive), keyed by the index of the product op."""
    from ..nn._functions import ConcatAffine, DenseOp, Linear
    from ..ops.linalg import MatMul
    from ..ops.movement import Concatenate

    uses = Counter(s for _, _, srcs, _ in rec.fwd for s in srcs if s[0] == "op")
    uses.update(rec.out_slots)
    fusions: dict[int, ConcatAffineFusion] = {}
    for i, (cls, ctx, srcs, kwargs) in enumerate(rec.fwd):
        if cls not in (MatMul, Linear, DenseOp) or kwargs or srcs[0][0] != "op":
            continue
        j = srcs[0][1]
        cat_cls, cat_ctx, cat_srcs, cat_kwargs = rec.fwd[j]
        if cat_cls is not Concatenate or uses[("op", j)] != 1:
            continue
        pieces, (_, weight, *bias) = rec.ops[j][2], rec.ops[i][2]
        w = _array(weight)
        if w is None or w.dtype not in _FLOATS or cat_kwargs.get("axis", 0) not in (1, -1):
            continue
        if not _float_matrices([*pieces, w], w.dtype) or not _product_edge_plain(rec, i, j):
            continue
        if bias and not _bias_of(_array(bias[0]), w.shape[0 if cls is Linear else 1], w.dtype):
            continue
        fused = ConcatAffine._backward_cls()
        fused.saved = ()
        fused.needs_input_grad = tuple(cat_ctx.needs_input_grad) + tuple(ctx.needs_input_grad[1:])
        fusions[i] = ConcatAffineFusion(
            cat=j, cls=ConcatAffine, ctx=fused, srcs=[*cat_srcs, *srcs[1:]],
            kwargs={"sizes": tuple(_array(p).shape[1] for p in pieces),
                    "weight_out_in": cls is Linear, "has_bias": bool(bias)},
            n_pieces=len(pieces),
        )
    return fusions
