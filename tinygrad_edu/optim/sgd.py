"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, check_range, scalars


class SGD(Optimizer):
    """PyTorch's SGD, update for update (float64 results agree to 1e-12):

    ``g = ±grad + weight_decay * p``; with momentum, ``buf = g`` on the first step, then
    ``buf = momentum * buf + (1 - dampening) * g``, and ``g = g + momentum * buf`` (Nesterov)
    or ``g = buf``; finally ``p -= lr * g``. ``maximize`` ascends instead.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import optim
    >>> w = tg.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()  # grad = 2w
    >>> opt.step()
    >>> w.tolist()
    [0.800000011920929, -1.600000023841858]
    """

    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, maximize: bool = False) -> None:
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_range("learning rate", group["lr"])
        check_range("momentum", group["momentum"])
        check_range("weight_decay", group["weight_decay"])

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
        state = self.state
        consts: dict[np.dtype, tuple] = {}  # dtype -> the constants as 0-d arrays
        for p in group["params"]:
            gt = p.grad
            if gt is None:
                continue
            g = gt.data
            data = p.data
            c = consts.get(data.dtype)
            if c is None:
                c = consts[data.dtype] = scalars(data.dtype, lr, wd, momentum, 1 - dampening)
            lr_, wd_, momentum_, one_m_damp = c
            if maximize:
                g = -g
            if wd != 0:
                g = g + data * wd_
            if momentum != 0:
                st = state.get(p)
                buf = None if st is None else st.get("momentum_buffer")
                if buf is None:
                    buf = np.array(g, dtype=data.dtype, copy=True)
                    state.setdefault(p, {})["momentum_buffer"] = buf
                else:
                    buf *= momentum_
                    buf += g * one_m_damp if dampening else g  # g * 1 is g: skip a pass
                g = g + buf * momentum_ if nesterov else buf
            data -= g * lr_
            p._bump_version()
