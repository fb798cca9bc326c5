"""``einsum``: the one primitive behind tensordot, inner, kron, dot of n-d arrays, trace...

Backward of operand k is again an einsum: the incoming gradient contracted with the other
operands, giving operand k's subscripts. Two details make that general:

* a subscript repeated in operand k (``"ii->i"``, a diagonal) is renamed in the result and tied
  back with an identity matrix, since an einsum result cannot repeat a subscript;
* a subscript that appears nowhere else (summed away in forward, ``"ij->i"``) or a size-1
  dimension broadcast against the others gets a vector of ones, which broadcasts the gradient.

The backward calls ``Einsum`` itself, so gradients of any order work.
"""

from __future__ import annotations

import string

import numpy as np

from ..autograd.function import Function

_LETTERS = string.ascii_letters


def parse(subscripts: str, shapes: list[tuple]) -> tuple[list[str], str]:
    """Explicit subscripts (no ellipsis, with an output) for operands of ``shapes``."""
    spec = subscripts.replace(" ", "")
    if "->" in spec:
        inputs, output = spec.split("->")
    else:
        inputs, output = spec, None
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {len(terms)} operand subscripts for {len(shapes)} operands")
    used = set(spec) - set(".,->")
    spare = [c for c in _LETTERS if c not in used]
    ell_dims = max(
        (len(s) - (len(t) - 3) for t, s in zip(terms, shapes) if "..." in t), default=0
    )
    ell = "".join(spare[:ell_dims])
    explicit = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            n = len(s) - (len(t) - 3)
            t = t.replace("...", ell[ell_dims - n:] if n else "")
        if len(t) != len(s):
            raise ValueError(
                f"einsum: subscripts {t!r} name {len(t)} dimensions for an operand of shape {s}"
            )
        explicit.append(t)
    if output is None:
        counts = {c: "".join(explicit).count(c) for c in set("".join(explicit))}
        output = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    else:
        output = output.replace("...", ell)
    return explicit, output


class Einsum(Function):
    _fresh_grads = True

    @staticmethod
    def forward(ctx, *operands, subscripts=""):
        shapes = [np.shape(o) for o in operands]
        ctx.terms, ctx.output = parse(subscripts, shapes)
        ctx.shapes = shapes
        ctx.save_for_backward(*operands)
        return np.asarray(np.einsum(subscripts, *operands, optimize=len(operands) > 2))

    @staticmethod
    def backward(ctx, g):
        operands = ctx.saved_tensors
        terms, output, shapes = ctx.terms, ctx.output, ctx.shapes
        sizes: dict[str, int] = {}
        for t, s in zip(terms, shapes):
            for c, n in zip(t, s):
                if n != 1 or c not in sizes:
                    sizes[c] = n
        spare = iter(c for c in _LETTERS if c not in "".join(terms) + output)
        grads = []
        for k, need in enumerate(ctx.needs_input_grad):
            if not need:
                grads.append(None)
                continue
            specs, args = [output], [g]
            for j, (t, s) in enumerate(zip(terms, shapes)):
                if j == k:
                    continue
                # a size-1 dimension broadcast against the others: a letter of its own
                specs.append("".join(c if n == sizes[c] else next(spare) for c, n in zip(t, s)))
                args.append(operands[j])
            target = []
            seen: set[str] = set()
            for c, n in zip(terms[k], shapes[k]):
                if c in seen or n != sizes[c]:  # repeated (a diagonal) or broadcast
                    fresh = next(spare)
                    if c in seen:
                        specs.append(c + fresh)
                        args.append(np.eye(n, dtype=g.dtype))
                    else:
                        specs.append(fresh)
                        args.append(np.ones(n, dtype=g.dtype))
                    target.append(fresh)
                else:
                    seen.add(c)
                    target.append(c)
            available = set("".join(specs))
            for c in target:
                if c not in available:  # summed away in forward: broadcast the gradient back
                    specs.append(c)
                    args.append(np.ones(sizes[c], dtype=g.dtype))
            grads.append(Einsum.call(*args, subscripts=",".join(specs) + "->" + "".join(target)))
        return tuple(grads)
