"""The primitive behind ``keras.layers.Dense``: ``x @ kernel + bias`` as one graph node, with
Keras's kernel layout ``(in, out)``.

``nn.Linear`` stores its weight as ``(out, in)`` (PyTorch's layout) and is one primitive for
speed (see :mod:`tinygrad_edu.nn._functions`). A Dense layer keeps Keras's layout so that
``layer.kernel``, ``get_weights()`` and saved files read as in Keras; as a composite
(``x @ kernel + bias``, two nodes) its training step on seed 001's 2-3-5-3-5-1 net took
~595 µs against ~473 µs with this primitive (batch 10, min of 10 interleaved blocks of 300
steps on a loaded 2-core machine). The backward is written with numpy operations, so under
``create_graph=True`` it runs on Tensors and is itself differentiable.

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> x = tg.tensor(np.ones((4, 3)), requires_grad=True)
>>> k = tg.tensor(np.full((3, 2), 0.5), requires_grad=True)
>>> b = tg.tensor(np.zeros(2), requires_grad=True)
>>> out = dense(x, k, b)
>>> out.shape, out.tolist()[0]
((4, 2), [1.5, 1.5])
>>> out.sum().backward()
>>> k.grad.tolist()[0], b.grad.tolist()
([4.0, 4.0], [4.0, 4.0])
"""

from __future__ import annotations

from ..autograd.function import Function
from ..tensor import Tensor


class DenseOp(Function):
    """``x @ k + b`` with ``k`` of shape (in, out); ``x`` (..., in); ``b`` (out,) or absent."""

    @staticmethod
    def forward(ctx, x, k, b=None):
        ctx.save_for_backward(x, k)
        out = x @ k
        return out if b is None else out + b

    @staticmethod
    def backward(ctx, g):
        x, k = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gx = g @ k.T if needs[0] else None
        gk = gb = None
        if needs[1] or (len(needs) > 2 and needs[2]):
            g2 = g.reshape(-1, g.shape[-1])
            if needs[1]:
                gk = x.reshape(-1, x.shape[-1]).T @ g2
            if len(needs) > 2 and needs[2]:
                gb = g2.sum(0)
        return (gx, gk) if len(needs) == 2 else (gx, gk, gb)


def dense(x: Tensor, kernel: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ kernel + bias`` (one graph node); ``kernel`` is ``(in, out)``."""
    if bias is None:
        return DenseOp.apply(x, kernel)
    return DenseOp.apply(x, kernel, bias)
