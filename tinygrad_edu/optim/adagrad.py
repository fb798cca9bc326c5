"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.versions import bump_many
from .flat import flat_group
from .optimizer import Optimizer, check_range, scalars


class Adagrad(Optimizer):
    """PyTorch's Adagrad, update for update (float64 results agree to 1e-12):

    ``sum += g²``, ``p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps)``; ``sum``
    starts at ``initial_accumulator_value``. One difference: a parameter group's own
    ``initial_accumulator_value`` is honoured, where PyTorch 2.13 starts every group at the
    constructor's value. ``foreach`` chooses between updating the group at once and
    parameter by parameter (the same results, bit for bit; see :mod:`tinygrad_edu.optim.flat`).

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import optim
    >>> w = tg.tensor([1.0], requires_grad=True)
    >>> opt = optim.Adagrad([w], lr=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> round(w.item(), 6)  # 1 - 0.5 * 2 / 2
    0.5
    """

    def __init__(self, params: Any, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False,
                 foreach: bool | None = None) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value,
                        maximize=maximize)
        super().__init__(params, defaults)
        self.foreach = foreach
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p: Any, group: dict[str, Any]) -> dict[str, Any]:
        st = self.state[p] = {
            "step": 0,
            "sum": np.full_like(p.data, group["initial_accumulator_value"]),
        }
        return st

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_range("learning rate", group["lr"])
        check_range("lr_decay", group["lr_decay"])
        check_range("weight_decay", group["weight_decay"])
        check_range("initial_accumulator_value", group["initial_accumulator_value"])
        check_range("epsilon", group["eps"])

    def _update_group(self, group: dict[str, Any]) -> None:
        calls = 7 + group["maximize"] + 2 * (group["weight_decay"] != 0)
        flat = flat_group(self, group, ("sum",), counts_steps=True, calls=calls)
        if flat is None:
            self._update_each(group)
        else:
            self._update_flat(group, *flat)

    def _update_flat(self, group: dict[str, Any], flat: Any, fresh: bool) -> None:
        """The group at once; the same operations as ``_update_each``, on flat arrays."""
        acc = flat.buffers["sum"]
        if fresh:  # the state was cleared since the constructor made it
            acc.fill(group["initial_accumulator_value"])
        for st in flat.states:
            st["step"] += 1
        step = flat.states[0]["step"]
        neg_clr, eps_, wd_ = scalars(
            flat.dtype, -group["lr"] / (1 + (step - 1) * group["lr_decay"]), group["eps"],
            group["weight_decay"]
        )
        g = flat.grad
        if group["maximize"]:
            np.negative(g, out=g)
        if group["weight_decay"] != 0:
            g += np.multiply(flat.gather_data(), wd_, out=flat.scratch)
        acc += np.multiply(g, g, out=flat.update)
        std = np.sqrt(acc, out=flat.scratch)
        std += eps_
        update = np.multiply(g, neg_clr, out=flat.update)
        update /= std
        flat.scatter_add(update)

    def _update_each(self, group: dict[str, Any]) -> None:
        """Parameter by parameter (``foreach=False``, or a group the flat update cannot
        take or would not speed up)."""
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
        wd, maximize = group["weight_decay"], group["maximize"]
        state = self.state
        consts: dict[tuple, tuple] = {}  # (dtype, step) -> the constants as 0-d arrays
        changed: list[np.ndarray] = []  # bumped together: one epoch per step
        try:
            for p in group["params"]:
                gt = p._grad
                if gt is None:
                    continue
                g = gt if type(gt) is np.ndarray else gt.data  # see Tensor.grad
                data = p._data
                changed.append(data)
                st = state.get(p) or self._init_state(p, group)
                step = st["step"] = st["step"] + 1
                key = (data.dtype, step)
                c = consts.get(key)
                if c is None:
                    c = consts[key] = scalars(data.dtype, -lr / (1 + (step - 1) * lr_decay),
                                              eps, wd)
                neg_clr, eps_, wd_ = c
                if maximize:
                    g = -g
                if wd != 0:
                    g = g + data * wd_
                acc = st["sum"]
                acc += g * g
                std = np.sqrt(acc)
                std += eps_
                update = g * neg_clr
                update /= std
                data += update
        finally:
            bump_many(changed, f"{type(self).__name__}.step()")
