"""``dense``, the op behind ``keras.layers.Dense``: ``x @ kernel + bias`` as one graph node
(the primitive :class:`tinygrad_edu.nn._functions.DenseOp`, beside ``nn.Linear``'s), with
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

from ..nn._functions import DenseOp
from ..tensor import Tensor


def dense(x: Tensor, kernel: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ kernel + bias`` (one graph node); ``kernel`` is ``(in, out)``."""
    if bias is None:
        return DenseOp.apply(x, kernel)
    return DenseOp.apply(x, kernel, bias)
