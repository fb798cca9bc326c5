"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.versions import bump_many
from .flat import flat_group
from .optimizer import Optimizer, check_range


class SGD(Optimizer):
    """PyTorch's SGD, update for update (float64 results agree to 1e-12):

    ``g = ±grad + weight_decay * p``; with momentum, ``buf = g`` on the first step, then
    ``buf = momentum * buf + (1 - dampening) * g``, and ``g = g + momentum * buf`` (Nesterov)
    or ``g = buf``; finally ``p -= lr * g``. ``maximize`` ascends instead. ``foreach`` chooses
    between updating the group at once and parameter by parameter (the same results, bit for
    bit; see :mod:`tinygrad_edu.optim.flat`).

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
                 *, maximize: bool = False, foreach: bool | None = None) -> None:
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)
        self.foreach = foreach

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_range("learning rate", group["lr"])
        check_range("momentum", group["momentum"])
        check_range("weight_decay", group["weight_decay"])

    def _update_group(self, group: dict[str, Any]) -> None:
        options = (group["lr"], group["momentum"], group["dampening"], group["weight_decay"],
                   group["nesterov"], group["maximize"])
        calls, keys, consts = self._derived(group, options)
        flat = flat_group(self, group, keys, counts_steps=False, calls=calls)
        if flat is None:
            self._update_each(group, options, consts)
        else:
            self._update_flat(flat[0], flat[1], options, consts)

    def _derive(self, options: tuple) -> tuple[int, tuple[str, ...], dict]:
        """The numpy calls of the per-parameter update, the state keys and a dict for the
        options' 0-d constants per dtype (see ``_constants``)."""
        _, momentum, dampening, wd, nesterov, maximize = options
        calls = (2 + (momentum != 0) * (2 + (dampening != 0) + 2 * nesterov)
                 + 2 * (wd != 0) + maximize)
        return calls, ("momentum_buffer",) if momentum != 0 else (), {}

    @staticmethod
    def _constant_values(options: tuple) -> tuple[float, ...]:
        """``lr, weight_decay, momentum, 1 - dampening, -lr``."""
        lr, momentum, dampening, wd = options[:4]
        return lr, wd, momentum, 1 - dampening, -lr

    def _update_flat(self, flat: Any, fresh: bool, options: tuple, consts: dict) -> None:
        """The group at once; the same operations as ``_update_each``, on flat arrays."""
        _, momentum, dampening, wd, nesterov, maximize = options
        _, wd_, momentum_, one_m_damp, neg_lr = self._constants(consts, flat.dtype, options)
        g = flat.grad
        if maximize:
            np.negative(g, out=g)
        if wd != 0:
            g += np.multiply(flat.gather_data(), wd_, out=flat.scratch)
        if momentum != 0:
            buf = flat.buffers["momentum_buffer"]
            if fresh:
                np.copyto(buf, g)
            else:
                buf *= momentum_
                buf += np.multiply(g, one_m_damp, out=flat.scratch) if dampening else g
            if nesterov:
                g += np.multiply(buf, momentum_, out=flat.scratch)
            else:
                g = buf
        # p -= g * lr, as p += g * -lr: the same rounding
        flat.scatter_add(np.multiply(g, neg_lr, out=flat.update))

    def _update_each(self, group: dict[str, Any], options: tuple, consts: dict) -> None:
        """Parameter by parameter (``foreach=False``, or a group the flat update cannot
        take or would not speed up)."""
        _, momentum, dampening, wd, nesterov, maximize = options
        decay, with_momentum = wd != 0, momentum != 0
        state = self.state
        changed: list[np.ndarray] = []  # bumped together: one epoch per step
        dtype = None  # the constants' dtype (the parameters usually share one)
        try:
            for p in group["params"]:
                gt = p._grad
                if gt is None:
                    continue
                g = gt if type(gt) is np.ndarray else gt.data  # see Tensor.grad
                data = p._data
                changed.append(data)
                if data.dtype is not dtype:
                    dtype = data.dtype
                    c = consts.get(dtype)
                    if c is None:
                        c = self._constants(consts, dtype, options)
                    lr_, wd_, momentum_, one_m_damp, _ = c
                if maximize:
                    g = -g
                if decay:
                    g = g + data * wd_
                if with_momentum:
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
        finally:
            bump_many(changed, f"{type(self).__name__}.step()")
