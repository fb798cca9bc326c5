"""Reproducible randomness: a ``Generator`` and the global ``manual_seed``.

Every random factory (``rand``, ``randn``, ``randint``, ``randperm``), initialiser and data
loader takes an optional ``generator``; without one it uses the default generator, which
``manual_seed`` reseeds.
"""

from __future__ import annotations

import numpy as np


class Generator:
    """A seedable source of random numbers (wraps ``numpy.random.Generator``).

    >>> import tinygrad_edu as tg
    >>> g = tg.Generator().manual_seed(0)
    >>> a = tg.rand(2, generator=g)
    >>> b = tg.rand(2, generator=tg.Generator().manual_seed(0))
    >>> bool((a == b).all())
    True
    """

    def __init__(self, seed: int | None = None) -> None:
        self.manual_seed(seed)

    def manual_seed(self, seed: int | None) -> Generator:
        """Reseed; returns the generator so calls chain."""
        self._seed = seed
        self.numpy = np.random.default_rng(seed)
        return self

    def initial_seed(self) -> int | None:
        """The seed last given (None: seeded from the operating system)."""
        return self._seed

    def get_state(self) -> dict:
        """The generator's state, to restore with ``set_state``."""
        return self.numpy.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.numpy.bit_generator.state = state

    def __repr__(self) -> str:
        return f"Generator(seed={self._seed})"


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (and return it) for reproducible runs.

    >>> import tinygrad_edu as tg
    >>> _ = tg.manual_seed(1); a = tg.randn(3)
    >>> _ = tg.manual_seed(1); b = tg.randn(3)
    >>> bool((a == b).all())
    True
    """
    return default_generator.manual_seed(seed)


def numpy_rng(generator: Generator | None = None) -> np.random.Generator:
    """The numpy generator behind ``generator`` (or the default one)."""
    return (generator or default_generator).numpy
