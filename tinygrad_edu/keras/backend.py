"""Keras's ``backend`` helpers that matter here: layer and model names, ``floatx``,
``clear_session``.

Layers and models are named as Keras names them: the class name in snake case, then
``_1``, ``_2``, ... for later ones (``dense``, ``dense_1``, ...), counted per process until
``clear_session()``.

>>> clear_session()
>>> unique_name("Dense"), unique_name("Dense"), unique_name("Dropout")
('dense', 'dense_1', 'dropout')
>>> floatx()
'float32'
"""

from __future__ import annotations

import re
from collections import Counter

_counts: Counter[str] = Counter()


def snake_case(class_name: str) -> str:
    """``InputLayer`` -> ``input_layer`` (Keras's rule for default names).

    >>> snake_case("InputLayer"), snake_case("Dense")
    ('input_layer', 'dense')
    """
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


def unique_name(class_name: str) -> str:
    """The next default name for an object of class ``class_name``."""
    base = snake_case(class_name)
    n = _counts[base]
    _counts[base] += 1
    return base if n == 0 else f"{base}_{n}"


def clear_session() -> None:
    """Restart the default names (``dense``, ``dense_1``, ...) from the beginning."""
    _counts.clear()


def floatx() -> str:
    """The float type of weights and computations: always ``'float32'``, as Keras's default."""
    return "float32"
