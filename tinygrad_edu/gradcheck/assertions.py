"""``assert_backprop``: the homework gradient check as one line of a pytest test or of an
autograder cell (otter-grader, nbgrader, Gradescope).

It runs :func:`~tinygrad_edu.gradcheck.check_gradients` and raises ``AssertionError`` whose
message is the report, the table ``print(report)`` shows, when a gradient is wrong; it prints
nothing itself. Passing, it returns the report.

>>> import numpy as np
>>> def loss(p, x, y):
...     return np.sum((x @ p["w"] - y) ** 2)
>>> def grads(p, x, y):
...     return {"w": 2 * x.T @ (x @ p["w"] - y)}
>>> x, y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 0.0])
>>> assert_backprop(loss, grads, {"w": np.array([0.5, -1.0])}, x, y).passed
True
>>> def halved(p, x, y):
...     return {"w": x.T @ (x @ p["w"] - y)}
>>> try:
...     assert_backprop(loss, halved, {"w": np.array([0.5, -1.0])}, x, y)
... except AssertionError as e:
...     message = str(e)
>>> print(message.splitlines()[0])
Gradient check of 1 parameters at loss 12.5 (eps 1e-06): FAILED: 1 of 1 wrong
>>> print(message.splitlines()[-1])  # doctest: +ELLIPSIS
  - w: hand-written = 0.5 × the true gradient (factor 1/2: a lost 2, ...) [high]
"""

from __future__ import annotations

from typing import Any

from .homework import check_gradients
from .report import GradientReport


def assert_backprop(loss: Any, grads: Any = None, params: Any = None, x: Any = None,
                    y: Any = None, **kwargs: Any) -> GradientReport:
    """Check a hand-written backprop; raise ``AssertionError(report)`` if it is wrong.

    Takes what :func:`~tinygrad_edu.gradcheck.check_gradients` takes (``loss, grads, params,
    x, y`` or ``net, params, x, y``, and its keyword options) and returns its report when
    every parameter passes. In a pytest test::

        def test_backprop():
            assert_backprop(loss, grads, params, x, y)
    """
    __tracebackhide__ = True  # pytest shows the report, not this frame
    report = check_gradients(loss, grads, params, x, y, **kwargs)
    if not report.passed:
        raise AssertionError(str(report))
    return report
