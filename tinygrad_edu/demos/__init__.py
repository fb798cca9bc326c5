"""The seed problems end to end: one module per seed problem, and a registry.

=============  ===========  =================================================================
name           module       what it trains
=============  ===========  =================================================================
``multiply``   .multiply    seed 000: ``x1 * x2`` on [0, 1)^2, Keras's 2-2-4-1 relu model
                            and the hand-written 2-2-1 sigmoid net, corrected
``integers``   .integers    seed 001: ``a + b``, ``a * b`` and ``a**2`` on integers in
                            [0, 500): as written, with scalers, and in log space
``sine``       .sine        seed 002: the question's sine nets (v1, v2) and the answer's
                            online and offline runs, sigmoid and tanh, [1,6,1] and [1,6,4,1]
``xor``        .xor_identity  seed 002: XOR with a [2,2,1] tanh net
``identity``   .xor_identity  seed 002: the identity with a [1,3,1] tanh net
=============  ===========  =================================================================

Each problem's ``run(quick=False)`` seeds everything itself (so ``--only`` gives the same
numbers as a full run), trains on the CPU, and returns an :class:`Outcome` whose rows state
their thresholds and whether they were met.

>>> from tinygrad_edu import demos
>>> demos.names()
['multiply', 'integers', 'sine', 'xor', 'identity']
>>> demos.get("xor").seed
'002'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .base import Outcome, Row


@dataclass(frozen=True)
class Problem:
    """A registered demo problem: ``run(quick)`` trains it and returns an :class:`Outcome`."""

    name: str
    seed: str
    title: str
    run: Callable[[bool], Outcome]


def _registry() -> dict[str, Problem]:
    from . import integers, multiply, sine, xor_identity

    problems = [multiply.PROBLEM, integers.PROBLEM, sine.PROBLEM, *xor_identity.PROBLEMS]
    return {p.name: p for p in problems}


_PROBLEMS: dict[str, Problem] | None = None


def problems() -> dict[str, Problem]:
    """Every problem by name, in the order the demo runs them."""
    global _PROBLEMS
    if _PROBLEMS is None:
        _PROBLEMS = _registry()
    return _PROBLEMS


def names() -> list[str]:
    """The problem names, in order."""
    return list(problems())


def get(name: str) -> Problem:
    """The problem called ``name``; ``KeyError`` listing the known names otherwise.

    >>> get("nope")
    Traceback (most recent call last):
    ...
    KeyError: "unknown demo problem 'nope'; known: multiply, integers, sine, xor, identity"
    """
    try:
        return problems()[name]
    except KeyError:
        raise KeyError(f"unknown demo problem {name!r}; known: {', '.join(names())}") from None


def run(name: str, quick: bool = False) -> Outcome:
    """Train problem ``name`` and return its :class:`Outcome`."""
    return get(name).run(quick)


__all__ = ["Outcome", "Problem", "Row", "get", "names", "problems", "run"]
