"""Checks of the training data against the model, run once when ``fit`` starts; each
returns the warning's text or ``None``.

- :func:`few_samples`: fewer training samples than trainable parameters and than 10 per
  input feature (seed 000 trained its 2-2-1 net on one sample), unless the inputs are a
  complete truth table (XOR's four cases are all there is to learn).
- :func:`input_squash`: a tanh/sigmoid applied to the raw inputs flattens the large ones
  (seed 002 applied tanh to its input layer: 3 looks like 2).

>>> import numpy as np
>>> print(few_samples(1, 9, np.array([[0.5, 0.5]]), features=2))   # doctest: +ELLIPSIS
1 training sample for 9 trainable parameters: one sample cannot teach a function; ...
>>> xor = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
>>> few_samples(4, 9, xor, features=2) is None                     # a complete truth table
True
"""

from __future__ import annotations

import math

import numpy as np

from .watches import SATURATION

_SLOPE_AT_LIMIT = {"Tanh": "1%", "Sigmoid": "18%"}  # of the slope at 0, at ±3


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def is_truth_table(x: np.ndarray) -> bool:
    """Integer-valued inputs, each feature taking at least 2 values, whose rows are every
    combination of those values (XOR's 4 cases, a 3-input parity's 8): the whole input
    space, so fitting it exactly is the task, not overfitting.

    >>> is_truth_table(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]))
    True
    >>> is_truth_table(np.array([[0.5, 0.5]])), is_truth_table(np.array([[0, 1], [1, 0]]))
    (False, False)
    """
    a = np.asarray(x).reshape(len(x), -1)
    if a.size == 0 or a.dtype.kind not in "biuf" or not np.isfinite(a).all() \
            or not (a == np.round(a)).all():
        return False
    levels = [len(np.unique(a[:, j])) for j in range(a.shape[1])]
    if min(levels) < 2 or math.prod(levels) > len(a):
        return False
    return len(np.unique(a, axis=0)) == math.prod(levels)


def few_samples(n: int, params: int, x: np.ndarray | None = None,
                features: int = 1) -> str | None:
    """The warning for ``n`` training samples (inputs ``x``, when known) that are fewer than
    the ``params`` trainable parameters and fewer than 10 per input feature (plus one): too
    few to pin down a function of ``features`` inputs. A complete truth table (XOR) is
    exempt: it is all there is to learn."""
    if n >= params or n >= 10 * (features + 1) or (x is not None and is_truth_table(x)):
        return None
    if n == 1:
        head = (f"1 training sample for {params} trainable parameters: one sample cannot "
                "teach a function; the net fits it exactly and its predictions anywhere else "
                "mean nothing (seed 000 trained its 2-2-1 net on the one sample 0.5 x 0.5 = "
                "0.25; such a net answers 0.9 x 0.9 with about 0.23).")
    else:
        head = (f"only {n} training samples for {params} trainable parameters and {features} "
                f"input feature{'s' if features != 1 else ''}: the net can fit them exactly "
                "without learning the function between them, so its predictions elsewhere "
                "mean little (seed 000 trained on one sample).")
    return (head + "\nTry: many more samples than parameters (seed 000's answer trains on "
            "1000 samples of x1 * x2), or a smaller net, and watch a held-out loss "
            "(validation_split=0.2).")


def input_squash(x: np.ndarray, name: str, kind: str) -> str | None:
    """The warning for a tanh/sigmoid (``kind``, module ``name``) applied to raw inputs
    ``x`` of which at least 1% lie where it is flat (|x| > 2 for tanh, > 4 for sigmoid:
    within 0.04 of its limits)."""
    a = np.asarray(x, dtype=np.float64).reshape(-1)[:200_000]
    a = a[np.isfinite(a)]
    if a.size == 0:
        return None
    flat = {"Tanh": 2.0, "Sigmoid": 4.0}[kind]  # tanh x = 2 sigmoid(2x) - 1
    share = float((np.abs(a) > flat).mean())
    if share < 0.01:
        return None
    fn = kind.lower()
    return (
        f"{fn} is applied to the raw inputs (module '{name}' comes before any layer with "
        f"weights): it squashes every |x| > {flat:g} to within 0.04 of its limits, and "
        f"{100 * share:.3g}% of the training inputs lie there (|x| up to "
        f"{_fmt(float(np.abs(a).max()))}), so the net cannot tell them apart: to it x = "
        f"{flat:g} and x = {1.5 * flat:g} look the same (seed 002 applied tanh to its input "
        "layer and asked for f(3)).\n"
        f"Try: remove the input {fn} and feed x to the first Linear/Dense layer; scale "
        "large inputs with StandardScaler (tinygrad_edu.data)."
    )


def saturation(share: float, saturated: int, units: int, name: str, kind: str,
               x_max: float | None, when: str) -> str:
    """The warning for a first layer whose tanh/sigmoid (module ``name``) gets
    pre-activations beyond its flat limit for most samples."""
    limit = SATURATION[kind]
    inputs = (f" The inputs reach |x| = {_fmt(x_max)}." if x_max is not None and x_max > 1.5
              else "")
    return (
        f"saturated first layer {when}: {100 * share:.3g}% of the pre-activations of "
        f"'{name}' ({kind.lower()}) lie beyond ±{limit:g} ({saturated} of {units} units "
        f"for most samples), where its slope is under {_SLOPE_AT_LIMIT[kind]} of its slope at "
        "0: those units pass little gradient and act as on/off switches, so the net does "
        "little better "
        f"than a constant (seed 002 fed raw x up to 4π to its tanh/sigmoid layer).{inputs}\n"
        "Try: scale the inputs to unit size (StandardScaler or MinMaxScaler, "
        "tinygrad_edu.data), a smaller initial weight scale, or ReLU units."
    )
