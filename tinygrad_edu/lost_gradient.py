"""``LostGradientError``: a value that requires grad turned into one without a gradient.

``float(v)``, ``math.exp(v)``, ``"%.3f" % v``, ``v.item()``, ``np.asarray([v1, v2])``,
``plain_array[i] = v``: each turns a differentiable value into a Python number, a string or
a plain numpy array, and the gradient is lost without a trace. Tensors (and the numpy-flavoured
:class:`~tinygrad_edu.numpy_mode.NumpyTensor`) raise this error instead, naming the conversion,
the user's line and what to write:

>>> import math
>>> import tinygrad_edu as tg
>>> from tinygrad_edu.numpy_mode import as_numpy_tensor
>>> v = as_numpy_tensor(0.5, requires_grad=True)
>>> try:
...     h = 1 / (1 + math.exp(-v))
... except LostGradientError as e:
...     print(e.what, "->", e.fix)
math.exp -> Use `np.exp`, which works on arrays and keeps the gradient.
"""

from __future__ import annotations

import linecache
import os
import re
import sys

import numpy as np

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__)) + os.sep


class LostGradientError(RuntimeError):
    """A value that requires grad was turned into one without a gradient (a Python float, a
    plain numpy array, a list, a string).

    A RuntimeError (as PyTorch's refusal of ``.numpy()`` on such a tensor), not a TypeError:
    numpy would catch a TypeError from ``__float__`` and raise a vaguer error of its own.
    ``what`` names the conversion (``"math.exp"``, ``"float()"``, ``"np.asarray"``...),
    ``filename``/``lineno``/``line`` the user's code that did it, ``fix`` what to write.
    """

    def __init__(self, what: str, fix: str, filename: str, lineno: int, line: str,
                 becomes: str) -> None:
        self.what, self.fix, self.becomes = what, fix, becomes
        self.filename, self.lineno, self.line = filename, lineno, line
        where = f"line {lineno} of {os.path.basename(filename)}" if lineno else "your code"
        code = f" (`{line}`)" if line else ""
        super().__init__(
            f"`{what}` turned a value that requires grad into {becomes} at {where}{code}: the "
            f"gradient cannot flow through it. {fix}"
        )


# ----------------------------------------------------------------------------- the user's line
def _user_site() -> tuple[str, int, str, str, str]:
    """(filename, line number, source line, the expression running on it, outermost numpy
    function) of the user's code that is running: the innermost frame outside tinygrad_edu
    and numpy. The expression comes from the instruction's source position (``float(v)`` or
    ``math.exp(v)`` when both are on the line)."""
    frame = sys._getframe(1)
    numpy_fn = ""
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if path.startswith(_NUMPY_DIR):
            numpy_fn = frame.f_code.co_name
        elif not path.startswith(_PACKAGE_DIR) and "contextlib" not in path:
            line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
            expr = ""
            try:
                start, end, col, end_col = list(frame.f_code.co_positions())[frame.f_lasti // 2]
                if start == end == frame.f_lineno and col is not None and end_col is not None:
                    expr = line[col:end_col]
            except (IndexError, ValueError, AttributeError):
                pass
            return frame.f_code.co_filename, frame.f_lineno, line.strip(), expr, numpy_fn
        frame = frame.f_back
    return "", 0, "", "", numpy_fn


_NUMPY_CALL = re.compile(r"\b(?:np|numpy)\.(\w+)\s*\(")
_MATH_CALL = re.compile(r"\b(math|cmath)\.(\w+)\s*\(")
_FORMAT = re.compile(r"""["'][^"']*%[-+ #0]*\d*(?:\.\d+)?[fgeFGE][^"']*["']\s*%""")


_ASSIGN_INTO = re.compile(r"\w[\w.]*\s*\[[^\]]*\]\s*(?:[-+*/]?=)(?!=)")
_DOT_METHOD = re.compile(r"\.dot\s*\(")


def lost(kind: str) -> LostGradientError:
    """The error for a conversion of ``kind`` (float, int, item, tolist, array) happening now,
    with the user's line and the most likely culprit read from it."""
    filename, lineno, line, expr, numpy_fn = _user_site()
    code = expr or line  # what ran, when its position is known

    def error(what: str, fix: str, becomes: str) -> LostGradientError:
        return LostGradientError(what, fix, filename, lineno, line, becomes)

    if kind in ("float", "array") and not numpy_fn and _ASSIGN_INTO.search(line) and not (
            _MATH_CALL.match(code) or code.startswith("float(")):
        return error("assignment into a numpy array",
                     "A plain numpy array (made by np.zeros, np.empty...) cannot hold a "
                     "gradient: make the array from the parameter (out = np.zeros_like(param)) "
                     "or collect the values in a list and np.stack it.", "a plain numpy array")
    if kind == "float":
        math_call = _MATH_CALL.match(code) or (None if expr else _MATH_CALL.search(line))
        if math_call:
            return error(f"{math_call.group(1)}.{math_call.group(2)}",
                         f"Use `np.{math_call.group(2)}`, which works on arrays and keeps the "
                         "gradient.", "a Python float")
        if _FORMAT.search(code) and not code.startswith("float("):
            return error("string formatting ('%.3f' % value)",
                         "Rounding this way also makes the loss piecewise constant; drop it "
                         "(or use np.round, whose gradient is 0). To print a value, "
                         "f'{v:.3f}' formats it without converting it.", "a Python float")
        return error("float()", "Keep the array (remove the conversion); return the numpy "
                     "value itself.", "a Python float")
    if kind == "int":
        return error("int()", "Integers have no gradient; keep the float array.", "a Python int")
    if kind in ("item", "tolist"):
        return error(f".{kind}()", "Keep the array: numpy functions and operators work on it "
                     "directly (to print it, print(v) or f'{v:.4f}' do not convert it).",
                     "a Python number" if kind == "item" else "a Python list")
    # The line is searched only when the running expression is unknown: on
    # ``s = x.dot(W); s = np.maximum(0, s)`` the culprit is x.dot, not np.maximum.
    numpy_call = _NUMPY_CALL.search(code) or (None if expr else _NUMPY_CALL.search(line))
    if numpy_fn and not numpy_fn.startswith("_"):
        what = f"np.{numpy_fn}"
    elif not numpy_call and _DOT_METHOD.search(code):
        return error("ndarray.dot", "The .dot method of a plain numpy array converts its "
                     "argument to a plain array; write `x @ w` or `np.dot(x, w)`, which keep "
                     "the gradient.", "a plain numpy array")
    elif numpy_call:
        what = f"np.{numpy_call.group(1)}"
    else:
        what = "a numpy conversion"
    return error(what, "numpy converted it to a plain array (np.asarray, a list of values "
                 "that require grad, or a function without a gradient): stack lists with "
                 "np.stack([...]) first, keep values as arrays, or detach() what needs no "
                 "gradient.", "a plain numpy array")


def lost_gradient_in(error: BaseException | None) -> LostGradientError | None:
    """The LostGradientError behind ``error`` (itself, or its cause or context: numpy turns
    some into ``ValueError: setting an array element with a sequence``), or None."""
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, LostGradientError):
            return error
        error = error.__cause__ or error.__context__
        seen += 1
    return None
