"""Keras's ``keras.random``: ``normal``, ``uniform`` and ``SeedGenerator`` (the
reparameterisation trick of a VAE's sampling layer draws with them).

``seed`` is an int (the same draw every call), a ``SeedGenerator`` (a fresh draw every call,
reproducible from its seed) or ``None`` (the generator ``keras.utils.set_random_seed``
seeds). The result is a ``Tensor`` of constants: gradients flow around it, not into it.

>>> gen = SeedGenerator(1337)
>>> a, b = normal((2,), seed=gen), normal((2,), seed=gen)
>>> bool((a.numpy() != b.numpy()).all()), normal((2,), seed=gen).dtype
(True, dtype('float32'))
>>> bool((normal((3,), seed=7).numpy() == normal((3,), seed=7).numpy()).all())
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn import functional as F
from ..random import Generator, numpy_rng
from ..tensor import Tensor
from .backend import floatx


class SeedGenerator:
    """A seeded stream of random draws for layers (``keras.random.SeedGenerator(1337)``)."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self.generator = Generator(seed)


def _rng(seed: Any) -> np.random.Generator:
    if isinstance(seed, SeedGenerator):
        return seed.generator.numpy
    if seed is None:
        return numpy_rng()
    return np.random.default_rng(_seed_int(seed))


def _shape(shape: Any) -> tuple[int, ...]:
    values = [s.item() if isinstance(s, Tensor) else s for s in np.atleast_1d(
        np.asarray(shape, dtype=object)).tolist()] if not isinstance(shape, int) else [shape]
    return tuple(int(s) for s in values)


def normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
           seed: Any = None) -> Tensor:
    """Draws from ``N(mean, stddev²)`` of ``shape``."""
    out = _rng(seed).normal(mean, stddev, _shape(shape)).astype(dtype or floatx())
    return Tensor._wrap(out)


def uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None,
            seed: Any = None) -> Tensor:
    """Draws from ``U[minval, maxval)`` of ``shape``."""
    out = _rng(seed).uniform(minval, maxval, _shape(shape)).astype(dtype or floatx())
    return Tensor._wrap(out)


def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> Tensor:
    """Zero each input with probability ``rate`` and scale the rest by ``1 / (1 - rate)``
    (always: the caller decides whether it is training); gradients flow through the kept
    inputs."""
    if noise_shape is not None:
        raise NotImplementedError("keras.random.dropout: noise_shape is not supported by "
                                  "tinygrad_edu.keras (every element is dropped "
                                  "independently)")
    generator = (seed.generator if isinstance(seed, SeedGenerator)
                 else None if seed is None else Generator(_seed_int(seed)))
    x = inputs if isinstance(inputs, Tensor) else Tensor._wrap(np.asarray(inputs, floatx()))
    return F.dropout(x, float(rate), True, generator=generator)


def _seed_int(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"keras.random: seed must be an int, a keras.random.SeedGenerator or "
                        f"None, got {type(seed).__name__}")
    return int(seed)


__all__ = ["SeedGenerator", "dropout", "normal", "uniform"]
