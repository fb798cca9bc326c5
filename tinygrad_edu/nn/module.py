"""``Module``: the base class of layers and models (PyTorch's ``nn.Module``).

A module registers the :class:`Parameter`s, buffers and sub-modules assigned to its attributes,
so that ``parameters()``, ``state_dict()``, ``train()``/``eval()`` and ``repr`` find them all,
with PyTorch's dotted names (``"0.weight"``, ``"encoder.bn.running_mean"``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import RemovableHandle, Tensor
from .parameter import Parameter


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` could not match (PyTorch's ``_IncompatibleKeys``).

    >>> from tinygrad_edu import nn
    >>> nn.Linear(2, 2).load_state_dict({"weight": nn.Linear(2, 2).weight}, strict=False)
    IncompatibleKeys(missing_keys=['bias'], unexpected_keys=[])
    """

    missing_keys: list[str]
    unexpected_keys: list[str]


def _addindent(s: str, spaces: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _as_array(value: Any) -> np.ndarray:
    """A state_dict value (our Tensor, a numpy array, a torch tensor, a number) as an array."""
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


class Module:
    """Base class for all layers and models.

    Subclasses assign parameters and sub-modules in ``__init__`` and define ``forward``;
    calling the module calls ``forward``.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> class TwoLayer(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = nn.Linear(2, 8)
    ...         self.out = nn.Linear(8, 1)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).tanh())
    >>> net = TwoLayer()
    >>> [name for name, _ in net.named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    >>> net(tg.zeros(5, 2)).shape
    (5, 1)
    >>> net.num_parameters()
    33
    >>> net
    TwoLayer(
      (hidden): Linear(in_features=2, out_features=8, bias=True)
      (out): Linear(in_features=8, out_features=1, bias=True)
    )
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _modules: dict[str, Module | None]

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers"] = set()
        d["_modules"] = {}
        d["_forward_hooks"] = {}
        d["_forward_pre_hooks"] = {}

    # ----------------------------------------------------------------- calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function: '
            "define forward(self, ...) in your subclass"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks or self._forward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward; a returned value
        replaces the output. Returns a handle whose ``remove()`` unregisters the hook."""
        key = max(self._forward_hooks, default=-1) + 1
        self._forward_hooks[key] = hook
        return RemovableHandle(self._forward_hooks, key)

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, inputs)`` before every forward; a returned value replaces the
        inputs. Returns a handle whose ``remove()`` unregisters the hook."""
        key = max(self._forward_pre_hooks, default=-1) + 1
        self._forward_pre_hooks[key] = hook
        return RemovableHandle(self._forward_pre_hooks, key)

    # ----------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() call: call "
                "super().__init__() first in your module's __init__"
            )
        params, buffers, modules = d["_parameters"], d["_buffers"], d["_modules"]
        if isinstance(value, Parameter):
            self._forget(name, keep="_parameters")
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep="_modules")
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} "
                    "(a Parameter or None is expected); wrap it: nn.Parameter(value)"
                )
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} "
                    "(a Module or None is expected)"
                )
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer {name!r} "
                    "(a Tensor or None is expected)"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: str = "") -> None:
        """Remove ``name`` from the instance dict and from every registry but ``keep`` (so
        re-assigning a parameter or module keeps its place in the order)."""
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            if key != keep:
                d[key].pop(name, None)
        if keep != "_buffers":
            d["_non_persistent_buffers"].discard(name)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            registry = d.get(key)
            if registry is not None and name in registry:
                return registry[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for key in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__[key]:
                del self.__dict__[key][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        extra = [*self._parameters, *self._buffers, *self._modules]
        return sorted(set(super().__dir__()) | set(extra))

    def _check_name(self, name: Any, kind: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f'{kind} name can\'t contain "." and can\'t be empty, got {name!r}')
        if hasattr(self, name) and not any(
            name in self.__dict__[k] for k in ("_parameters", "_buffers", "_modules")
        ):
            raise KeyError(f"attribute {name!r} already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or ``None``, a declared but absent parameter such as a bias)."""
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign {type(param).__name__} as parameter {name!r}: wrap it in "
                "nn.Parameter"
            )
        self._forget(name, keep="_parameters")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: state that is not learned (e.g. BatchNorm's running mean). It moves
        with ``to()``/``double()`` and, when ``persistent``, is part of ``state_dict``.

        >>> import tinygrad_edu as tg
        >>> from tinygrad_edu import nn
        >>> m = nn.Module()
        >>> m.register_buffer("steps", tg.tensor(0))
        >>> list(m.state_dict())
        ['steps']
        """
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign {type(tensor).__name__} as buffer {name!r} (a Tensor or None "
                "is expected)"
            )
        self._forget(name, keep="_buffers")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (same as assigning the attribute)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        self._forget(name, keep="_modules")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The sub-module at a dotted path, e.g. ``"encoder.0"`` (``""`` is self)."""
        mod = self
        if target == "":
            return mod
        for part in target.split("."):
            if part not in mod._modules or mod._modules[part] is None:
                raise AttributeError(f"{type(mod).__name__} has no submodule {part!r} ({target})")
            mod = mod._modules[part]
        return mod

    # ----------------------------------------------------------------- iteration
    def _named_members(self, get: Callable, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, value in get(mod):
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (mod_prefix + "." + name if mod_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs; a shared parameter is listed once."""
        return self._named_members(
            lambda m: m._parameters.items(), prefix, recurse, remove_duplicate
        )

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters of this module and (with ``recurse``) of all sub-modules."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, buffer)`` pairs (e.g. ``"bn.running_mean"``)."""
        return self._named_members(
            lambda m: m._buffers.items(), prefix, recurse, remove_duplicate
        )

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules with their names."""
        seen: set[int] = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and all sub-modules, depth first, with dotted names (self is ``""``).

        Walks with an explicit stack, so arbitrarily deep nesting cannot overflow.
        """
        memo = set() if memo is None else memo
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if remove_duplicate:
                if id(mod) in memo:
                    continue
                memo.add(id(mod))
            yield name, mod
            kids = [
                ((name + "." + k) if name else k, m)
                for k, m in mod._modules.items() if m is not None
            ]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    # ----------------------------------------------------------------- modes
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout active, BatchNorm uses batch statistics); returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be a boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``train(False)``); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch gradient computation on or off for every parameter (e.g. to freeze)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to ``None`` (default) or to zeros."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.data[...] = 0

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and then on self; returns self.

        >>> from tinygrad_edu import nn
        >>> net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
        >>> def init(m):
        ...     if isinstance(m, nn.Linear):
        ...         nn.init.zeros_(m.bias)
        >>> _ = net.apply(init)
        >>> net[0].bias.tolist()
        [0.0, 0.0]
        """
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ----------------------------------------------------------------- dtype
    def _apply_to_tensors(self, fn: Callable[[np.ndarray], np.ndarray]) -> Module:
        """Replace the array of every parameter and buffer (and gradient) by ``fn(array)``,
        keeping the Tensor objects (so optimizers keep working)."""
        for m in self.modules():
            for t in (*m._parameters.values(), *m._buffers.values()):
                if t is None:
                    continue
                t.data = fn(t.data)
                t._bump_version()
                if t.grad is not None:
                    t.grad = Tensor._wrap(fn(t.grad.data))
        return self

    def to(self, *args: Any, dtype: Any = None, **kwargs: Any) -> Module:
        """Cast floating parameters and buffers to ``dtype`` (a device ``'cpu'`` is accepted
        and ignored, as everything lives on the CPU)."""
        for a in args:
            if isinstance(a, str) and a.startswith("cpu"):
                continue
            dtype = a
        if dtype is None:
            return self
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"Module.to only accepts floating dtypes, got {dt}")
        return self._apply_to_tensors(
            lambda a: a.astype(dt) if a.dtype.kind == "f" and a.dtype != dt else a
        )

    def double(self) -> Module:
        """Cast floating parameters and buffers to float64."""
        return self.to(np.float64)

    def float(self) -> Module:
        """Cast floating parameters and buffers to float32."""
        return self.to(np.float32)

    def cpu(self) -> Module:
        return self

    # ----------------------------------------------------------------- state dict
    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """Parameters and persistent buffers by dotted name, with PyTorch's keys and shapes.

        Values share memory with the module (detached, unless ``keep_vars``). Load it into a
        PyTorch model of the same architecture with
        ``{k: torch.from_numpy(v.numpy()) for k, v in sd.items()}``.

        >>> from tinygrad_edu import nn
        >>> sd = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).state_dict()
        >>> [(k, v.shape) for k, v in sd.items()]  # doctest: +NORMALIZE_WHITESPACE
        [('0.weight', (2, 3)), ('0.bias', (2,)), ('1.weight', (2,)), ('1.bias', (2,)),
         ('1.running_mean', (2,)), ('1.running_var', (2,)), ('1.num_batches_tracked', ())]
        """
        out: OrderedDict[str, Tensor] = OrderedDict() if destination is None else destination
        for mod_prefix, mod in self.named_modules(prefix=prefix.rstrip("."),
                                                  remove_duplicate=False):
            p = mod_prefix + "." if mod_prefix else ""
            for name, t in mod._parameters.items():
                if t is not None:
                    out[p + name] = t if keep_vars else t.detach()
            for name, t in mod._buffers.items():
                if t is not None and name not in mod._non_persistent_buffers:
                    out[p + name] = t if keep_vars else t.detach()
        return out

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        Values may be our Tensors, numpy arrays or PyTorch tensors; they are cast to each
        parameter's dtype. With ``strict`` (default), missing or unexpected keys are an error;
        a shape mismatch always is. Errors name every offending key (and both shapes).
        Returns ``(missing_keys, unexpected_keys)``. With ``assign=True`` the module takes the
        arrays themselves instead of copying into its own.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"expected a dict-like state_dict, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict:
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.append("Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        arrays = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = _as_array(state_dict[key])
            if value.shape != target.data.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} "
                    f"from checkpoint, the shape in current model is {tuple(target.data.shape)}."
                )
                continue
            arrays[key] = value
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(e.strip() for e in errors)
            )
        with no_grad():
            for key, value in arrays.items():
                target = own[key]
                if assign:
                    target.data = np.array(value, dtype=target.data.dtype, copy=True)
                    target._bump_version()
                else:
                    target.copy_(value)
        return IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- size
    def num_parameters(self, only_trainable: bool = False) -> int:
        """The number of scalar parameters (counting a shared parameter once)."""
        return sum(
            p.data.size for p in self.parameters() if p.requires_grad or not only_trainable
        )

    def summary(self, input: Any = None) -> str:
        """A table of the leaf layers with their parameter counts (and output shapes, when an
        example ``input`` tensor or shape tuple is given), and the totals.

        >>> from tinygrad_edu import nn
        >>> print(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1)).summary((4, 2)))
        Layer (type)        Output shape     Param #
        ============================================
        0 (Linear)          (4, 8)                24
        1 (Tanh)            (4, 8)                 0
        2 (Linear)          (4, 1)                 9
        ============================================
        Total params: 33
        Trainable params: 33
        Non-trainable params: 0
        """
        from ..creation import zeros

        leaves = [(n, m) for n, m in self.named_modules() if not m._modules and n]
        if not leaves:
            leaves = [(type(self).__name__, self)]
        shapes: dict[int, Any] = {}
        if input is not None:
            x = input if isinstance(input, Tensor) else zeros(*tuple(input))
            handles = [
                m.register_forward_hook(
                    lambda mod, _i, out: shapes.__setitem__(id(mod), getattr(out, "shape", "?"))
                )
                for _, m in leaves
            ]
            was_training = self.training
            self.eval()
            try:
                with no_grad():
                    self(x)
            finally:
                self.train(was_training)
                for h in handles:
                    h.remove()
        rows = []
        for name, m in leaves:
            count = sum(p.data.size for p in m.parameters())
            shape = str(tuple(shapes[id(m)])) if id(m) in shapes else ("-" if input is not None
                                                                        else "")
            rows.append((f"{name} ({type(m).__name__})", shape, f"{count:,}"))
        w0 = max(20, *(len(r[0]) + 1 for r in rows))
        w1 = max(15, *(len(r[1]) + 1 for r in rows)) if input is not None else 0
        w2 = max(9, *(len(r[2]) for r in rows))
        header = "Layer (type)".ljust(w0) + ("Output shape".ljust(w1) if w1 else "") \
            + "Param #".rjust(w2)
        width = len(header)
        lines = [header, "=" * width]
        lines += [r[0].ljust(w0) + (r[1].ljust(w1) if w1 else "") + r[2].rjust(w2) for r in rows]
        total = self.num_parameters()
        trainable = self.num_parameters(only_trainable=True)
        lines += ["=" * width, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                  f"Non-trainable params: {total - trainable:,}"]
        return "\n".join(lines)

    # ----------------------------------------------------------------- printing
    def extra_repr(self) -> str:
        """The layer's arguments shown inside its repr; override in subclasses."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({key}): " + _addindent(repr(module), 2) for key, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"
