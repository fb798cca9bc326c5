"""``Optimizer``: the base class of the update rules, with PyTorch's parameter groups and
state_dict layout.

Updates run directly on the parameters' numpy arrays (in place, with ``out=``), never through
the autograd graph, so they need no ``no_grad`` and cost only the numpy calls themselves. Each
update bumps the parameter's version counter, so a graph that saved the old values notices.

The built-in optimizers can update a whole parameter group at once (``foreach``, as PyTorch
calls it): gradients and state in flat buffers (:mod:`tinygrad_edu.optim.flat`), so a step
costs a dozen numpy calls per group rather than per parameter. By default they do so where
it is faster (small parameters, an update of many calls: Adam on the seeds' nets takes half
the time); ``foreach=True`` always, ``foreach=False`` never. Both give bit-identical results.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor

# The first steps check that the gradients were reset in between (a forgotten zero_grad()
# shows at the second step); later steps pay nothing for it.
WATCHED_STEPS = 8


class _Required:
    """Marks an option that every parameter group must give (PyTorch's ``required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def _state_value(value: Any, dtype: np.dtype, key: str) -> Any:
    """A loaded state entry in our layout: numpy arrays (in the parameter's dtype for floats)
    and a plain number for ``step``."""
    if isinstance(value, Tensor):
        value = value.data
    elif hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if key == "step":
        v = float(np.asarray(value))
        return int(v) if v.is_integer() else v
    if isinstance(value, np.ndarray | np.generic):
        arr = np.array(value, copy=True)
        return arr.astype(dtype) if arr.dtype.kind == "f" else arr
    return value


_SCALARS: dict[tuple, tuple[np.ndarray, ...]] = {}


def scalars(dtype: np.dtype, *values: float) -> tuple[np.ndarray, ...]:
    """``values`` as 0-d arrays of ``dtype``: numpy combines those with small arrays about
    twice as fast as Python floats (no scalar conversion per call), with the same result.

    The arrays are read-only and cached (making them costs more than a small update), so a
    step with unchanged options reuses the previous step's constants.

    >>> import numpy as np
    >>> lr, eps = scalars(np.dtype(np.float32), 0.1, 1e-8)
    >>> lr.dtype, lr.ndim
    (dtype('float32'), 0)
    """
    key = (dtype, *values)
    c = _SCALARS.get(key)
    if c is None:
        if len(_SCALARS) >= 512:  # step-dependent constants (Adam's bias corrections)
            _SCALARS.clear()
        arrays = []
        for v in values:
            a = np.array(v, dtype=dtype)
            a.flags.writeable = False
            arrays.append(a)
        c = _SCALARS[key] = tuple(arrays)
    return c


_IMMUTABLE = (bool, int, float, complex, str, bytes, type(None), np.generic)


def _unchangeable(value: Any) -> bool:
    """Whether ``value`` cannot change in place (a number, a string, a tuple of those): then
    ``==`` with the value an earlier step read tells whether it is still the same.

    >>> _unchangeable((0.9, 0.999)), _unchangeable([0.9, 0.999]), _unchangeable(np.array(0.1))
    (True, False, False)
    """
    if type(value) is tuple:
        return all(map(_unchangeable, value))
    return isinstance(value, _IMMUTABLE)


def check_range(name: str, value: float, low: float = 0.0, high: float = math.inf,
                open_high: bool = False) -> None:
    """Raise ``ValueError('Invalid <name> value: ...')`` like PyTorch when out of range.

    >>> check_range("momentum", -0.5)
    Traceback (most recent call last):
    ...
    ValueError: Invalid momentum value: -0.5
    """
    bad = not (low <= value < high if open_high else low <= value <= high)
    if bad or value != value:
        what = name if name == "learning rate" or name.startswith("beta") else f"{name} value"
        raise ValueError(f"Invalid {what}: {value}")


class Optimizer:
    """Base class: keeps ``param_groups`` (a list of dicts, each with ``'params'`` and its own
    options) and per-parameter ``state``; subclasses implement ``_update_group(group)``.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs (``named_parameters()``),
    or of dicts (one per group; options missing from a dict take the optimizer's defaults).

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn, optim
    >>> net = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    >>> opt = optim.SGD([{"params": net[0].parameters()},
    ...                  {"params": net[2].parameters(), "lr": 0.01}], lr=0.1, momentum=0.9)
    >>> [g["lr"] for g in opt.param_groups]
    [0.1, 0.01]
    >>> nn.MSELoss()(net(tg.ones(3, 2)), tg.zeros(3, 1)).backward()
    >>> opt.step()
    >>> opt.zero_grad()
    >>> net[0].weight.grad is None
    True
    """

    # The built-in optimizers' ``foreach`` argument: None updates a group with flat buffers
    # when that is faster (small parameters, an update of several numpy calls), True whenever
    # the group allows it (one dtype, parameters in the same state), False never (always the
    # per-parameter loop). See tinygrad_edu.optim.flat.
    foreach: bool | None = None

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self._flat_groups: dict[tuple, Any] = {}  # the flat layouts (optim.flat.FlatGroup)
        self._memos: dict[int, tuple[tuple, Any]] = {}  # id(group) -> (options, _derive(...))
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        self._step_count = 0
        self._used_grads: dict[int, np.ndarray] = {}  # the gradients the last step used
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                "dicts, but got a Tensor; wrap it in a list: [tensor]"
            )
        if isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        # a Module passes only if it lists its parameters (ParameterList), not its layers
        model = callable(getattr(params, "parameters", None))
        if model and not isinstance(params, Iterable):
            raise _model_given(params)
        groups = list(params)
        if model and groups and not isinstance(groups[0], Tensor | dict):
            raise _model_given(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    # ----------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. a lower ``lr`` for a
        pre-trained part); options not given take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError("a parameter group needs a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        if params and isinstance(params[0], tuple):
            group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but parameter {i} of the group is "
                    f"a {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"can't optimize a non-leaf Tensor (parameter {i} of the group, shape "
                    f"{tuple(p.shape)}); optimize the leaf it was computed from, or detach() it "
                    "and set requires_grad"
                )
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            group.setdefault(name, default)
        self._validate_group(group)
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check a group's options (subclasses raise ValueError for invalid values)."""

    # ----------------------------------------------------------------- stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to ``None`` (default) or to zeros."""
        for group in self.param_groups:
            if set_to_none:  # ._grad: the property's setter checks only non-None values
                for p in group["params"]:
                    if p._grad is not None:
                        p._grad = None
            else:
                for p in group["params"]:
                    if p._grad is not None:
                        p.grad.data[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient. ``closure``, if given, re-evaluates
        the model and returns the loss (it runs with gradients enabled); its result is
        returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        if self._step_count < WATCHED_STEPS:
            self._check_gradients_were_reset()
        for group in self.param_groups:
            self._update_group(group)
        self._step_count += 1
        return loss

    def _check_gradients_were_reset(self) -> None:
        """Warn when a gradient was added onto the one the previous step used, which still
        holds values: ``zero_grad()`` was forgotten, so each step descends the sum of all
        gradients so far. (Accumulating over several batches between steps is fine; so is
        ``zero_grad(set_to_none=False)``, which zeroes that array in place.)"""
        used = self._used_grads
        now = {}
        stale = []
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                now[id(p)] = g = g if type(g) is np.ndarray else g.data
                before = used.get(id(p))
                base = p._grad_base  # (not p.__dict__: reading that slows p's attributes)
                if before is not None and base is not None and base() is before and before.any():
                    stale.append(p)
        # kept for the next watched step only (then the arrays are let go)
        self._used_grads = now if self._step_count + 1 < WATCHED_STEPS else {}
        if stale:
            shapes = ", ".join(str(tuple(p.shape)) for p in stale[:4])
            warnings.warn(
                f"{type(self).__name__}.step(): the gradients of {len(stale)} parameter(s) "
                f"(shapes {shapes}{', ...' if len(stale) > 4 else ''}) still hold those of the "
                "previous step: zero_grad() was not called since the last step(), so each step "
                "descends the sum of every gradient so far and training oscillates or "
                "diverges. Call optimizer.zero_grad() before loss.backward() in every step (to "
                "accumulate gradients over several batches on purpose, call it after step()).",
                UserWarning,
                stacklevel=3,
            )

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

    def _derived(self, group: dict[str, Any], options: tuple) -> Any:
        """``self._derive(options)`` for ``group``, whose option values a step has just read
        into ``options``: derived once and kept while the values stay equal, derived anew
        when one changes (a scheduler writing ``group['lr']``, any option set by hand)."""
        hit = self._memos.get(id(group))
        if hit is not None:
            try:
                if hit[0] == options:
                    return hit[1]
            except (ValueError, RuntimeError, TypeError):  # now an array: derive
                pass
        derived = self._derive(options)
        # kept unless an option can change in place (a list, an array): that one would still
        # be equal to itself after a change, so such options are derived anew at every step
        if all(map(_unchangeable, options)):
            if len(self._memos) >= 64:
                self._memos.clear()
            self._memos[id(group)] = (options, derived)
        return derived

    def _constants(self, consts: dict, dtype: np.dtype, options: tuple) -> tuple:
        """``self._constant_values(options)`` as 0-d arrays of ``dtype`` (see ``scalars``),
        kept in ``consts`` (the dict ``_derive`` returns for the options in force)."""
        c = consts.get(dtype)
        if c is None:
            c = consts[dtype] = scalars(dtype, *self._constant_values(options))
        return c

    def _constant_values(self, options: tuple) -> tuple[float, ...]:
        """The numbers an update multiplies by, worked out from its group's options."""
        raise NotImplementedError

    def _derive(self, options: tuple) -> Any:
        """What an update computes from its group's options alone (subclasses that call
        ``_derived``): e.g. its number of numpy calls and its constants per dtype."""
        raise NotImplementedError

    # ----------------------------------------------------------------- state dict
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}`` —
        PyTorch's layout, parameters replaced by their index in group order. State arrays
        are numpy arrays shared with the optimizer (copy them to keep a snapshot).

        >>> import tinygrad_edu as tg
        >>> from tinygrad_edu import optim
        >>> w = tg.tensor([1.0], requires_grad=True)
        >>> opt = optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> sd = opt.state_dict()
        >>> sorted(sd["state"][0]), sd["param_groups"][0]["params"]
        (['exp_avg', 'exp_avg_sq', 'step'], [0])
        """
        index: dict[int, int] = {}
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            ids = []
            for p in g["params"]:
                if id(p) not in index:
                    index[id(p)] = len(index)
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore state and group options saved by ``state_dict`` — ours or PyTorch's
        (torch tensors become numpy arrays in each parameter's dtype; ``step`` a number)."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, but the optimizer "
                f"has {len(self.param_groups)}"
            )
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {i} has {len(s['params'])} parameters in the "
                    f"state dict and {len(g['params'])} here"
                )
        id_map = {
            old: p for g, s in zip(self.param_groups, saved_groups)
            for old, p in zip(s["params"], g["params"])
        }
        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, value in state_dict["state"].items():
            p = id_map.get(key)
            if p is None:
                continue
            dtype = p.data.dtype
            new_state[p] = {k: _state_value(v, dtype, k) for k, v in value.items()}
        new_groups = []
        for g, s in zip(self.param_groups, saved_groups):
            ng = dict(s)
            ng["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                ng["param_names"] = g["param_names"]
            new_groups.append(ng)
        self.state = new_state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        out = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            out += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    out += f"    {key}: {group[key]}\n"
        return out + ")"


def _model_given(model: Any) -> TypeError:
    return TypeError(
        "params argument given to the optimizer should be an iterable of Tensors or dicts, "
        f"but got the model itself ({type(model).__name__}); pass model.parameters()"
    )
