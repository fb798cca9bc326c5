"""Adam and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.versions import bump_many
from .flat import flat_group
from .optimizer import Optimizer, check_range, scalars


class Adam(Optimizer):
    """PyTorch's Adam, update for update (float64 results agree to 1e-12):

    ``m = m + (1 - b1)(g - m)``, ``v = b2 v + (1 - b2) g²``,
    ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``; ``amsgrad`` uses the
    running maximum of ``v``. ``weight_decay`` adds ``wd * p`` to the gradient (L2), or with
    ``decoupled_weight_decay=True`` (AdamW) scales ``p`` by ``1 - lr * wd`` first.
    ``foreach`` chooses between updating the group at once and parameter by parameter (the
    same results, bit for bit; see :mod:`tinygrad_edu.optim.flat`).

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import optim
    >>> w = tg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 6) for v in w.tolist()]  # the first step moves each weight by lr
    [0.9, -0.9]
    """

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False, decoupled_weight_decay: bool = False,
                 foreach: bool | None = None) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        self.foreach = foreach

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_range("learning rate", group["lr"])
        check_range("epsilon", group["eps"])
        b1, b2 = group["betas"]
        check_range("beta parameter at index 0", b1, 0.0, 1.0, open_high=True)
        check_range("beta parameter at index 1", b2, 0.0, 1.0, open_high=True)
        check_range("weight_decay", group["weight_decay"])

    def _update_group(self, group: dict[str, Any]) -> None:
        options = (group["lr"], group["betas"], group["eps"], group["weight_decay"],
                   group["amsgrad"], group["maximize"],
                   group.get("decoupled_weight_decay", False))
        calls, keys, consts = self._derived(group, options)
        flat = flat_group(self, group, keys, counts_steps=True, calls=calls)
        if flat is None:
            self._update_each(group, options, consts)
        else:
            self._update_flat(flat[0], options, consts)

    def _derive(self, options: tuple) -> tuple[int, tuple[str, ...], dict]:
        """The numpy calls of the per-parameter update, the state keys and a dict for the
        options' 0-d constants per dtype (see ``_constants``)."""
        _, _, _, wd, amsgrad, maximize, _ = options
        keys = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")[:3 if amsgrad else 2]
        return 10 + 2 * amsgrad + 2 * (wd != 0) + maximize, keys, {}

    @staticmethod
    def _constant_values(options: tuple) -> tuple[float, ...]:
        """``1 - beta1, beta2, 1 - beta2, eps`` (the bias corrections change every step)."""
        (b1, b2), eps = options[1:3]
        return 1 - b1, b2, 1 - b2, eps

    def _update_flat(self, flat: Any, options: tuple, consts: dict) -> None:
        """The group at once; the same operations as ``_update_each``, on flat arrays."""
        lr, (b1, b2), _, wd, amsgrad, maximize, decoupled = options
        for st in flat.states:
            st["step"] += 1
        step = flat.states[0]["step"]
        if wd != 0 and decoupled:
            flat.scale_data(1 - lr * wd)
        g = flat.grad
        if maximize:
            np.negative(g, out=g)
        if wd != 0 and not decoupled:
            data = flat.gather_data()
            data *= wd
            g += data
        one_m_b1, b2_, one_m_b2, eps_ = self._constants(consts, flat.dtype, options)
        neg_step_size, bc2_sqrt = scalars(flat.dtype, -lr / (1 - b1**step),
                                          (1 - b2**step) ** 0.5)
        m, v = flat.buffers["exp_avg"], flat.buffers["exp_avg_sq"]
        tmp = flat.update
        m += np.multiply(np.subtract(g, m, out=tmp), one_m_b1, out=tmp)  # m.lerp_(g, 1 - b1)
        v *= b2_
        v += np.multiply(np.multiply(g, g, out=tmp), one_m_b2, out=tmp)
        if amsgrad:
            vmax = flat.buffers["max_exp_avg_sq"]
            np.maximum(vmax, v, out=vmax)
            denom = np.sqrt(vmax, out=flat.scratch)
        else:
            denom = np.sqrt(v, out=flat.scratch)
        denom /= bc2_sqrt
        denom += eps_
        update = np.multiply(m, neg_step_size, out=flat.update)
        update /= denom
        flat.scatter_add(update)

    def _update_each(self, group: dict[str, Any], options: tuple, consts: dict) -> None:
        """Parameter by parameter (``foreach=False``, or a group the flat update cannot
        take or would not speed up)."""
        lr, (b1, b2), _, wd, amsgrad, maximize, decoupled = options
        state = self.state
        per_step: dict[tuple, tuple] = {}  # (dtype, step) -> the step's constants
        changed: list[np.ndarray] = []  # bumped together: one epoch per step
        try:
            for p in group["params"]:
                gt = p._grad
                if gt is None:
                    continue
                g = gt if type(gt) is np.ndarray else gt.data  # see Tensor.grad
                data = p._data
                changed.append(data)
                st = state.get(p)
                if st is None:
                    st = state[p] = {"step": 0, "exp_avg": np.zeros_like(data),
                                     "exp_avg_sq": np.zeros_like(data)}
                    if amsgrad:
                        st["max_exp_avg_sq"] = np.zeros_like(data)
                if maximize:
                    g = -g
                if wd != 0:
                    if decoupled:
                        data *= 1 - lr * wd
                    else:
                        g = g + wd * data
                step = st["step"] = st["step"] + 1
                key = (data.dtype, step)
                c = per_step.get(key)
                if c is None:  # the options' constants are kept per group; two change per step
                    c = per_step[key] = (
                        self._constants(consts, data.dtype, options)
                        + scalars(data.dtype, -lr / (1 - b1**step), (1 - b2**step) ** 0.5)
                    )
                one_m_b1, b2_, one_m_b2, eps_, neg_step_size, bc2_sqrt = c
                m, v = st["exp_avg"], st["exp_avg_sq"]
                m += (g - m) * one_m_b1  # m.lerp_(g, 1 - b1)
                v *= b2_
                v += (g * g) * one_m_b2
                if amsgrad:
                    vmax = st["max_exp_avg_sq"]
                    np.maximum(vmax, v, out=vmax)
                    denom = np.sqrt(vmax)
                else:
                    denom = np.sqrt(v)
                denom /= bc2_sqrt
                denom += eps_
                update = m * neg_step_size
                update /= denom
                data += update
        finally:
            bump_many(changed, f"{type(self).__name__}.step()")


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.01): ``p *= 1 - lr * weight_decay`` before
    the Adam update, as PyTorch's AdamW.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import optim
    >>> w = tg.tensor([1.0], requires_grad=True)
    >>> opt = optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * 0).sum().backward()  # zero gradient: only the decay acts
    >>> opt.step()
    >>> round(w.item(), 6)
    0.95
    """

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, foreach=foreach)
