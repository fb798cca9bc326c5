"""Keras's weight initializers, drawing from tinygrad_edu's generator.

Shapes follow Keras: a Dense kernel is ``(fan_in, fan_out)``. ``glorot_uniform`` (Keras's
default for kernels) draws ``U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``; the
``*_normal`` variance-scaling initializers draw a normal truncated at two standard
deviations, scaled so the variance is the intended one, as Keras does. Without ``seed`` the
draws come from the default generator (``tinygrad_edu.manual_seed`` /
``keras.utils.set_random_seed``), so a seeded script builds the same weights every run.

>>> import tinygrad_edu as tg
>>> _ = tg.manual_seed(0)
>>> w = get("glorot_uniform")((2, 4))
>>> w.shape, w.dtype, bool(abs(w).max() <= (6 / 6) ** 0.5)
((2, 4), dtype('float32'), True)
>>> get("zeros")((3,)).tolist()
[0.0, 0.0, 0.0]
>>> get("glorot")
Traceback (most recent call last):
...
ValueError: unknown initializer 'glorot'; known: constant, glorot_normal, glorot_uniform, he_normal, he_uniform, lecun_normal, lecun_uniform, ones, random_normal, random_uniform, truncated_normal, variance_scaling, zeros
"""  # noqa: E501

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..random import Generator, numpy_rng
from .backend import class_from_config

_TRUNC_STD = 0.87962566103423978  # std of a unit normal truncated at +-2


class Initializer:
    """Base class: ``init(shape, dtype=None)`` returns a numpy array."""

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _Seeded(Initializer):
    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._gen = Generator(seed) if seed is not None else None

    def _rng(self) -> np.random.Generator:
        return numpy_rng(self._gen)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class Zeros(Initializer):
    """All zeros (Keras's default for biases)."""

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        return np.zeros(shape, dtype=dtype or np.float32)


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        return np.ones(shape, dtype=dtype or np.float32)


class Constant(Initializer):
    """Every entry ``value``."""

    def __init__(self, value: float = 0.0) -> None:
        self.value = float(value)

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        return np.full(shape, self.value, dtype=dtype or np.float32)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class RandomNormal(_Seeded):
    """``N(mean, stddev²)``; Keras's defaults ``mean=0, stddev=0.05``."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        return self._rng().normal(self.mean, self.stddev, shape).astype(dtype or np.float32)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Seeded):
    """``U(minval, maxval)``; Keras's defaults ``-0.05, 0.05``."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        return self._rng().uniform(self.minval, self.maxval, shape).astype(dtype or np.float32)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_unit_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal draws, those beyond +-2 redrawn (Keras's truncated normal)."""
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return out


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


class VarianceScaling(_Seeded):
    """Variance ``scale / n`` with ``n`` the fan in, fan out or their average (``mode``);
    ``distribution`` ``'uniform'`` or ``'truncated_normal'`` (Keras's rules)."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None) -> None:
        super().__init__(seed)
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        if distribution == "normal":  # Keras's alias
            distribution = "truncated_normal"
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError("distribution must be 'uniform', 'truncated_normal' or "
                             f"'untruncated_normal', got {distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        fan_in, fan_out = _fans(tuple(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        var = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "uniform":
            a = math.sqrt(3.0 * var)
            out = rng.uniform(-a, a, shape)
        elif self.distribution == "untruncated_normal":
            out = rng.standard_normal(shape) * math.sqrt(var)
        else:
            out = _truncated_unit_normal(rng, tuple(shape)) * (math.sqrt(var) / _TRUNC_STD)
        return np.asarray(out, dtype=dtype or np.float32)

    def get_config(self) -> dict[str, Any]:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class TruncatedNormal(_Seeded):
    """``N(mean, stddev²)`` with draws beyond two standard deviations redrawn; Keras's
    defaults ``mean=0, stddev=0.05``."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        out = _truncated_unit_normal(self._rng(), tuple(shape)) * self.stddev + self.mean
        return out.astype(dtype or np.float32)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class _Preset(VarianceScaling):
    """A ``VarianceScaling`` with fixed arguments; only ``seed`` is configurable."""

    _args: tuple[float, str, str] = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(*self._args, seed=seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class GlorotUniform(_Preset):
    """``U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))``: Keras's default for kernels.

    >>> w = GlorotUniform(seed=0)((30, 20))
    >>> bool(abs(w).max() <= (6 / 50) ** 0.5), w.shape
    (True, (30, 20))
    """

    _args = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    """Truncated normal with variance ``2 / (fan_in + fan_out)``."""

    _args = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_Preset):
    """``U(-a, a)``, ``a = sqrt(6 / fan_in)``."""

    _args = (2.0, "fan_in", "uniform")


class HeNormal(_Preset):
    """Truncated normal with variance ``2 / fan_in``."""

    _args = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_Preset):
    """``U(-a, a)``, ``a = sqrt(3 / fan_in)``."""

    _args = (1.0, "fan_in", "uniform")


class LecunNormal(_Preset):
    """Truncated normal with variance ``1 / fan_in``."""

    _args = (1.0, "fan_in", "truncated_normal")


_BY_NAME: dict[str, type] = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
}  # fmt: skip
_CLASSES = {cls.__name__: cls for cls in _BY_NAME.values()}


def get(identifier: Any) -> Initializer:
    """An initializer from a name (``'glorot_uniform'`` or ``'GlorotUniform'``), a config
    dict (``{'class_name': 'RandomNormal', 'config': {...}}``), a class, an instance or a
    callable ``fn(shape, dtype=None)`` returning an array.

    >>> get("GlorotUniform"), get(Zeros)
    (GlorotUniform(seed=None), Zeros())
    """
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower()) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"unknown initializer {identifier!r}; known: "
                             f"{', '.join(sorted(_BY_NAME))}")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()  # the class given instead of an instance
    if isinstance(identifier, dict):
        cls = class_from_config(identifier, _CLASSES, "initializer")
        return cls(**identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(f"an initializer is a name, a config dict or a callable, got "
                    f"{type(identifier).__name__}")


def serialize(init: Any) -> Any:
    """A JSON-able description (a name or a config dict) of an initializer, or ``None`` for
    a plain function, which cannot be stored.

    >>> serialize("glorot_uniform"), serialize(RandomNormal(stddev=0.1))
    ('glorot_uniform', {'class_name': 'RandomNormal', 'config': {'mean': 0.0, 'stddev': 0.1, 'seed': None}})
    """  # noqa: E501
    if isinstance(init, str):
        return init
    if isinstance(init, Initializer) and type(init).__name__ in _CLASSES:
        return {"class_name": type(init).__name__, "config": init.get_config()}
    return None
