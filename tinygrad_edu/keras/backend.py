"""Keras's ``backend`` helpers that matter here: layer and model names, ``floatx``,
``image_data_format``, ``clear_session``.

Layers and models are named as Keras names them: the class name in snake case, then
``_1``, ``_2``, ... for later ones (``dense``, ``dense_1``, ...), counted per process until
``clear_session()``.

>>> clear_session()
>>> unique_name("Dense"), unique_name("Dense"), unique_name("Dropout")
('dense', 'dense_1', 'dropout')
>>> floatx(), image_data_format()
('float32', 'channels_last')
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

_counts: Counter[str] = Counter()


def snake_case(class_name: str) -> str:
    """``InputLayer`` -> ``input_layer`` (Keras's rule for default names: a capital starts
    a word only before a lower-case letter or after one, so digits and acronyms stay put).

    >>> snake_case("InputLayer"), snake_case("Dense"), snake_case("Conv2D")
    ('input_layer', 'dense', 'conv2d')
    >>> snake_case("MaxPooling2D"), snake_case("LeakyReLU")
    ('max_pooling2d', 'leaky_re_lu')
    """
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


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


def image_data_format() -> str:
    """Where images keep their channels: always ``'channels_last'``, (batch, height, width,
    channels), Keras's default, which the image layers here use (scripts branch on it to
    reshape their data)."""
    return "channels_last"


def set_image_data_format(data_format: str) -> None:
    """Accepts only ``'channels_last'`` (the image layers here support no other layout)."""
    if data_format != "channels_last":
        raise NotImplementedError(
            f"set_image_data_format({data_format!r}): tinygrad_edu.keras layers are "
            "channels_last only; transpose the data with np.transpose(x, (0, 2, 3, 1))")


def class_from_config(config: dict, classes: dict[str, type], kind: str) -> type:
    """The class a Keras config dict ``{"class_name": ..., "config": {...}}`` names, looked
    up in ``classes``; an unknown name lists the known ones.

    >>> class_from_config({"class_name": "Dense"}, {"Dense": int}, "layer")
    <class 'int'>
    >>> class_from_config({"class_name": "Danse"}, {"Dense": int}, "layer")
    Traceback (most recent call last):
    ...
    ValueError: unknown layer config {'class_name': 'Danse'}; known classes: Dense
    """
    cls: Any = classes.get(config.get("class_name", ""))
    if cls is None:
        raise ValueError(f"unknown {kind} config {config!r}; known classes: "
                         f"{', '.join(sorted(classes))}")
    return cls


def missing_name(module: str, name: str, available: Any) -> AttributeError:
    """The ``AttributeError`` of a Keras name a facade module lacks, listing what it has
    (for the modules' ``__getattr__``).

    >>> print(missing_name("keras.metrics", "Mean", ["AUC", "Precision"]))
    keras.metrics.Mean is not in tinygrad_edu.keras; keras.metrics has: AUC, Precision
    """
    if name.startswith("__"):
        return AttributeError(name)
    return AttributeError(f"{module}.{name} is not in tinygrad_edu.keras; {module} has: "
                          f"{', '.join(sorted(available))}")
