"""Warnings for a classification loss given scores of the wrong kind: the classic mistakes
that train, only badly, so nothing else would tell the learner.

* probabilities (a ``Softmax`` at the end of the model) given to ``cross_entropy``, which
  applies ``log_softmax`` itself: the softmax is applied twice, the gradients shrink;
* scores with positive entries given to ``nll_loss``, which expects log-probabilities (all
  ``<= 0``): the loss is unbounded below and training drifts;
* a single class (a last layer of one output) given to ``cross_entropy``: the loss is 0
  whatever the scores, and nothing trains;
* targets outside [0, 1] (labels in {-1, 1}, or 1 and 2) given to a binary cross-entropy;
* the prediction and the target swapped (the target requires grad, the input does not).

Each check is a reduction or two over the input, only on the eager call (nothing in the graph).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


def _warn(message: str, stacklevel: int) -> None:
    """A UserWarning at the caller ``stacklevel`` frames above the checking function."""
    warnings.warn(message, UserWarning, stacklevel=stacklevel + 1)


def _class_axis(x: np.ndarray) -> int:
    return 1 if x.ndim >= 2 else 0


def warn_if_probabilities(x: np.ndarray, caller: str) -> None:
    """Warn when every entry of ``x`` is in [0, 1] and each sample's entries sum to 1.

    >>> import numpy as np, warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn_if_probabilities(np.array([[0.25, 0.75]]), "cross_entropy")
    >>> "applies log_softmax" in str(w[0].message)
    True
    """
    if x.dtype.kind != "f" or x.ndim == 0 or x.size == 0 or x.shape[_class_axis(x)] < 2:
        return
    if x.min() < 0 or x.max() > 1:  # logits almost always have a negative entry: one pass
        return
    if not np.allclose(x.sum(axis=_class_axis(x)), 1, rtol=0, atol=1e-3):
        return
    _warn(
        f"{caller}: the input looks like probabilities (every entry in [0, 1], each sample's "
        f"summing to 1), but {caller} applies log_softmax to its input itself, so a softmax "
        "before it is applied twice (the gradients shrink and training slows or stalls). Give "
        "it the raw scores (drop the model's final Softmax), or use nll_loss(probs.log(), "
        "target) if you need the probabilities.",
        3,
    )


def warn_if_not_log_probabilities(x: np.ndarray, caller: str) -> None:
    """Warn when ``x`` has a positive entry: log-probabilities are never above 0.

    >>> import numpy as np, warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn_if_not_log_probabilities(np.array([[2.0, -1.0]]), "nll_loss")
    >>> "log-probabilities" in str(w[0].message)
    True
    """
    if x.dtype.kind != "f" or x.size == 0:
        return
    top = x.max()
    if not top > 1e-2:  # (NaN: not this check's business; log(p + eps) for small eps passes)
        return
    _warn(
        f"{caller}: the input has positive entries (up to {float(top):.4g}), so it is not "
        f"log-probabilities, which {caller} expects (each is at most 0); on raw scores the "
        "loss has no lower bound and training drifts. Apply log_softmax over the classes "
        "first, or use cross_entropy on the raw scores (it does both).",
        3,
    )


def warn_if_single_class(x: np.ndarray, caller: str) -> None:
    """Warn when the class dimension has size 1: log_softmax over one class is 0.

    >>> import numpy as np, warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn_if_single_class(np.zeros((4, 1)), "cross_entropy")
    >>> "always 0" in str(w[0].message)
    True
    """
    if x.ndim and x.shape[_class_axis(x)] == 1:
        _warn(
            f"{caller}: the input has a single class (dim {_class_axis(x)} of size 1), so the "
            "loss is always 0 and no gradient flows: nothing will train. For a yes/no "
            "problem keep the one output and use binary_cross_entropy_with_logits (targets "
            "0.0/1.0 of the same shape), or give the last layer 2 outputs.",
            3,
        )


def warn_if_not_binary_targets(y: np.ndarray, caller: str, stacklevel: int = 3) -> None:
    """Warn when a binary cross-entropy target leaves [0, 1].

    >>> import numpy as np, warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn_if_not_binary_targets(np.array([-1.0, 1.0]), "binary_cross_entropy")
    >>> "(y + 1) / 2" in str(w[0].message)
    True
    """
    if y.size == 0 or y.dtype.kind not in "fiub":
        return
    low, high = y.min(), y.max()
    if low >= 0 and high <= 1:
        return
    hint = ("labels in {-1, 1} become 0/1 as (y + 1) / 2" if low == -1 and high == 1
            else "labels 1 and 2 become 0/1 as y - 1" if low == 1 and high == 2
            else "scale them into [0, 1]")
    _warn(
        f"{caller}: the target has values outside [0, 1] (min {float(low):.4g}, max "
        f"{float(high):.4g}), but it must hold 0/1 labels or probabilities; outside [0, 1] "
        f"the loss has no lower bound and training runs away ({hint}).",
        stacklevel,
    )


def warn_if_swapped(input: Any, target: Any, caller: str, stacklevel: int = 3) -> None:
    """Warn when the target requires grad and the input does not: ``loss(target, output)``.

    >>> import tinygrad_edu as tg, warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn_if_swapped(tg.ones(2), tg.ones(2, requires_grad=True), "kl_div")
    >>> "swapped" in str(w[0].message)
    True
    """
    if getattr(target, "requires_grad", False) and not input.requires_grad:
        _warn(
            f"{caller}: the target requires grad but the input does not: are the arguments "
            f"swapped? {caller}(input, target) takes the model's prediction first and the "
            "labels second, and it is not symmetric in them.",
            stacklevel,
        )
