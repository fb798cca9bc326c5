"""Containers: ``Sequential`` (a chain of layers), ``ModuleList``, ``ModuleDict``,
``ParameterList`` and ``ParameterDict``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from ..tensor import Tensor
from .module import Module, _addindent
from .parameter import Parameter


def _index(i: Any, n: int, what: str) -> int:
    i = int(i)
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of range for a {what} of length {n}")
    return i % n


class Sequential(Module):
    """Layers applied one after another; ``Sequential(a, b)(x)`` is ``b(a(x))``.

    Supports indexing (an int gives the layer, a slice a new ``Sequential``), ``len``,
    iteration and ``append``. Layers are named ``"0"``, ``"1"``, ... unless given as an
    ``OrderedDict``.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    >>> net(tg.zeros(4, 2)).shape
    (4, 1)
    >>> len(net), net[-1]
    (3, Linear(in_features=8, out_features=1, bias=True))
    >>> net[:2]
    Sequential(
      (0): Linear(in_features=2, out_features=8, bias=True)
      (1): Tanh()
    )
    """

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        keys = list(self._modules)
        return self._modules[keys[_index(idx, len(keys), "Sequential")]]

    def __setitem__(self, idx: int, module: Module) -> None:
        keys = list(self._modules)
        self.add_module(keys[_index(idx, len(keys), "Sequential")], module)

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)
        if isinstance(idx, slice):
            doomed = keys[idx]
        else:
            doomed = [keys[_index(idx, len(keys), "Sequential")]]
        for k in doomed:
            del self._modules[k]
        if all(k.isdigit() for k in self._modules):  # renumber, as PyTorch does
            items = list(self._modules.values())
            self._modules.clear()
            for i, m in enumerate(items):
                self._modules[str(i)] = m

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add a layer at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        items = list(self._modules.values())
        n = len(items)
        if not -n <= index <= n:
            raise IndexError(f"index {index} is out of range for a Sequential of length {n}")
        items.insert(index % (n + 1) if index < 0 else index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)
        return self

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x


class ModuleList(Module):
    """A list of sub-modules, registered so their parameters are found; it has no forward.

    >>> from tinygrad_edu import nn
    >>> layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
    >>> len(layers), len(list(layers.parameters()))
    (3, 6)
    >>> layers
    ModuleList(
      (0-2): 3 x Linear(in_features=4, out_features=4, bias=True)
    )
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[str(_index(idx, len(self), "ModuleList"))]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(str(_index(idx, len(self), "ModuleList")), module)

    def __delitem__(self, idx: int | slice) -> None:
        items = list(self._modules.values())
        if isinstance(idx, slice):
            del items[idx]
        else:
            del items[_index(idx, len(items), "ModuleList")]
        self._modules.clear()
        for i, m in enumerate(items):
            self._modules[str(i)] = m

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def __repr__(self) -> str:
        """Like PyTorch: runs of identical layers are shown once, as ``(0-2): 3 x Layer``."""
        reprs = [repr(m) for m in self._modules.values()]
        if not reprs:
            return "ModuleList()"
        lines = []
        start = 0
        for i in range(1, len(reprs) + 1):
            if i < len(reprs) and reprs[i] == reprs[start]:
                continue
            count = i - start
            key = f"({start})" if count == 1 else f"({start}-{i - 1})"
            body = reprs[start] if count == 1 else f"{count} x {reprs[start]}"
            lines.append(f"{key}: " + _addindent(body, 2))
            start = i
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class _Registry:
    """The dict side of ModuleDict and ParameterDict, over one of the module's registries
    (``_store``); ``__setitem__`` registers, as each class does its kind."""

    _store: str

    def _entries(self) -> dict:
        return self.__dict__[self._store]

    def __getitem__(self, key: str) -> Any:
        return self._entries()[key]

    def __delitem__(self, key: str) -> None:
        del self._entries()[key]

    def __len__(self) -> int:
        return len(self._entries())

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries())

    def __contains__(self, key: str) -> bool:
        return key in self._entries()

    def keys(self) -> Iterable[str]:
        return self._entries().keys()

    def items(self) -> Iterable[tuple[str, Any]]:
        return self._entries().items()

    def values(self) -> Iterable[Any]:
        return self._entries().values()

    def get(self, key: str, default: Any = None) -> Any:
        return self._entries().get(key, default)

    def update(self, entries: Any) -> None:
        items = entries.items() if hasattr(entries, "items") else entries
        for k, v in items:
            self[k] = v

    def pop(self, key: str) -> Any:
        value = self[key]
        del self[key]
        return value


class ModuleDict(_Registry, Module):
    """A dict of sub-modules, registered under their keys.

    >>> from tinygrad_edu import nn
    >>> heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "box": nn.Linear(4, 4)})
    >>> sorted(heads.keys()), [k for k, _ in heads.named_parameters()][:2]
    (['box', 'cls'], ['cls.weight', 'cls.bias'])
    """

    _store = "_modules"

    def __init__(self, modules: Any = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

def _as_parameter(value: Any) -> Any:
    """A Tensor that is not yet a Parameter becomes one (sharing its memory), as in PyTorch."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _parameter_line(key: str, p: Any) -> str:
    if isinstance(p, Tensor):
        size = "x".join(str(n) for n in p.shape)
        return f"({key}): Parameter containing: [{p.dtype} of size {size}]"
    return f"({key}): Object of type: {type(p).__name__}"


class ParameterList(Module):
    """A list of parameters, registered as ``"0"``, ``"1"``, ... so that ``parameters()``,
    ``state_dict()`` and optimizers find them; a Tensor put in it becomes a Parameter.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> ws = nn.ParameterList([tg.ones(2, 2) for _ in range(3)])
    >>> len(ws), [name for name, _ in ws.named_parameters()]
    (3, ['0', '1', '2'])
    >>> ws[0].requires_grad
    True
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ParameterList(list(self)[idx])
        return self._parameters[str(_index(idx, len(self), "ParameterList"))]

    def __setitem__(self, idx: int, value: Any) -> None:
        self.register_parameter(str(_index(idx, len(self), "ParameterList")),
                                _as_parameter(value))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._parameters.values())

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def append(self, value: Any) -> ParameterList:
        self.register_parameter(str(len(self)), _as_parameter(value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_parameter_line(k, p) for k, p in self._parameters.items())


class ParameterDict(_Registry, Module):
    """A dict of parameters, registered under their keys; a Tensor put in it becomes a
    Parameter. Iterating gives the keys, as a dict does.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> pd = nn.ParameterDict({"scale": tg.ones(3), "shift": tg.zeros(3)})
    >>> list(pd), [name for name, _ in pd.named_parameters()]
    (['scale', 'shift'], ['scale', 'shift'])
    """

    _store = "_parameters"

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __setitem__(self, key: str, value: Any) -> None:
        self.register_parameter(key, _as_parameter(value))

    def extra_repr(self) -> str:
        return "\n".join(_parameter_line(k, p) for k, p in self._parameters.items())
