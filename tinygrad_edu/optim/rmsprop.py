"""RMSprop (optionally centered, with momentum)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.versions import bump_many
from .flat import flat_group
from .optimizer import Optimizer, check_range


class RMSprop(Optimizer):
    """PyTorch's RMSprop, update for update (float64 results agree to 1e-12):

    ``v = alpha v + (1 - alpha) g²``; centered: ``gavg = gavg + (1 - alpha)(g - gavg)`` and
    ``avg = sqrt(v - gavg²) + eps``, else ``avg = sqrt(v) + eps``; with momentum
    ``buf = momentum buf + g / avg`` and ``p -= lr buf``, else ``p -= lr g / avg``.
    ``foreach`` chooses between updating the group at once and parameter by parameter (the
    same results, bit for bit; see :mod:`tinygrad_edu.optim.flat`).

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
                 maximize: bool = False, foreach: bool | None = None) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)
        self.foreach = foreach

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_range("learning rate", group["lr"])
        check_range("epsilon", group["eps"])
        check_range("momentum", group["momentum"])
        check_range("weight_decay", group["weight_decay"])
        check_range("alpha", group["alpha"])

    def _update_group(self, group: dict[str, Any]) -> None:
        options = (group["lr"], group["alpha"], group["eps"], group["weight_decay"],
                   group["momentum"], group["centered"], group["maximize"])
        calls, keys, consts = self._derived(group, options)
        flat = flat_group(self, group, keys, counts_steps=True, calls=calls)
        if flat is None:
            self._update_each(group, options, consts)
        else:
            self._update_flat(flat[0], options, consts)

    def _derive(self, options: tuple) -> tuple[int, list[str], dict]:
        """The numpy calls of the per-parameter update, the state keys and a dict for the
        options' 0-d constants per dtype (see ``_constants``)."""
        _, _, _, wd, momentum, centered, maximize = options
        keys = ["square_avg"]
        if momentum > 0:
            keys.append("momentum_buffer")
        if centered:
            keys.append("grad_avg")
        calls = 7 + 4 * centered + (momentum > 0) + maximize + 2 * (wd != 0)
        return calls, keys, {}

    @staticmethod
    def _constant_values(options: tuple) -> tuple[float, ...]:
        """``-lr, alpha, 1 - alpha, eps, weight_decay, momentum``."""
        lr, alpha, eps, wd, momentum = options[:5]
        return -lr, alpha, 1 - alpha, eps, wd, momentum

    def _update_flat(self, flat: Any, options: tuple, consts: dict) -> None:
        """The group at once; the same operations as ``_update_each``, on flat arrays."""
        _, _, _, wd, momentum, centered, maximize = options
        neg_lr, alpha_, one_m_alpha, eps_, wd_, momentum_ = self._constants(
            consts, flat.dtype, options
        )
        for st in flat.states:
            st["step"] += 1
        g = flat.grad
        if maximize:
            np.negative(g, out=g)
        if wd != 0:
            g += np.multiply(flat.gather_data(), wd_, out=flat.scratch)
        tmp, avg = flat.update, flat.scratch
        v = flat.buffers["square_avg"]
        v *= alpha_
        v += np.multiply(np.multiply(g, g, out=tmp), one_m_alpha, out=tmp)
        if centered:
            gavg = flat.buffers["grad_avg"]
            gavg += np.multiply(np.subtract(g, gavg, out=tmp), one_m_alpha, out=tmp)
            np.sqrt(np.subtract(v, np.multiply(gavg, gavg, out=tmp), out=avg), out=avg)
        else:
            np.sqrt(v, out=avg)
        avg += eps_
        if momentum > 0:
            buf = flat.buffers["momentum_buffer"]
            buf *= momentum_
            buf += np.divide(g, avg, out=tmp)
            update = np.multiply(buf, neg_lr, out=tmp)
        else:
            update = np.multiply(g, neg_lr, out=tmp)
            update /= avg
        flat.scatter_add(update)

    def _update_each(self, group: dict[str, Any], options: tuple, consts: dict) -> None:
        """Parameter by parameter (``foreach=False``, or a group the flat update cannot
        take or would not speed up)."""
        _, _, _, wd, momentum, centered, maximize = options
        state = self.state
        changed: list[np.ndarray] = []  # bumped together: one epoch per step
        try:
            for p in group["params"]:
                gt = p._grad
                if gt is None:
                    continue
                g = gt if type(gt) is np.ndarray else gt.data  # see Tensor.grad
                data = p._data
                changed.append(data)
                c = consts.get(data.dtype)
                if c is None:
                    c = self._constants(consts, data.dtype, options)
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
        finally:
            bump_many(changed, f"{type(self).__name__}.step()")
