"""RMSprop (optionally centered, with momentum)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, check_range, scalars


class RMSprop(Optimizer):
    """PyTorch's RMSprop, update for update (float64 results agree to 1e-12):

    ``v = alpha v + (1 - alpha) g²``; centered: ``gavg = gavg + (1 - alpha)(g - gavg)`` and
    ``avg = sqrt(v - gavg²) + eps``, else ``avg = sqrt(v) + eps``; with momentum
    ``buf = momentum buf + g / avg`` and ``p -= lr buf``, else ``p -= lr g / avg``.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import optim
    >>> w = tg.tensor([1.0], requires_grad=True)
    >>> opt = optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> round(w.item(), 4)  # 1 - 0.01 * 2 / sqrt(0.01 * 4)
    0.9
    """

    def __init__(self, params: Any, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_range("learning rate", group["lr"])
        check_range("epsilon", group["eps"])
        check_range("momentum", group["momentum"])
        check_range("weight_decay", group["weight_decay"])
        check_range("alpha", group["alpha"])

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        wd, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
        maximize = group["maximize"]
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
                c = consts[data.dtype] = scalars(data.dtype, -lr, alpha, 1 - alpha, eps, wd,
                                                 momentum)
            neg_lr, alpha_, one_m_alpha, eps_, wd_, momentum_ = c
            st = state.get(p)
            if st is None:
                st = state[p] = {"step": 0, "square_avg": np.zeros_like(data)}
                if momentum > 0:
                    st["momentum_buffer"] = np.zeros_like(data)
                if centered:
                    st["grad_avg"] = np.zeros_like(data)
            if maximize:
                g = -g
            st["step"] += 1
            if wd != 0:
                g = g + data * wd_
            v = st["square_avg"]
            v *= alpha_
            v += (g * g) * one_m_alpha
            if centered:
                gavg = st["grad_avg"]
                gavg += (g - gavg) * one_m_alpha  # gavg.lerp_(g, 1 - alpha)
                avg = np.sqrt(v - gavg * gavg)
            else:
                avg = np.sqrt(v)
            avg += eps_
            if momentum > 0:
                buf = st["momentum_buffer"]
                buf *= momentum_
                buf += g / avg
                data += buf * neg_lr
            else:
                update = g * neg_lr
                update /= avg
                data += update
            p._bump_version()
