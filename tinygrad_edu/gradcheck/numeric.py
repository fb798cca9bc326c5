"""Central differences, in float64: the numerical side of every check.

Two kinds of callers:

* :func:`jacobian_columns` and :func:`directional_derivative` serve ``gradcheck``: the function
  takes a tuple of arrays (one per differentiable input) and returns a tuple of output arrays;
* :func:`partial_derivatives` serves the homework checker: the function takes a dict of
  parameter arrays and returns the scalar loss.

The error of a central difference ``(f(x+h) - f(x-h)) / 2h`` has two parts: truncation,
about ``h**2 * |f'''| / 6``, and rounding, about ``eps_machine * |f| / h``. With float64 and
``h = 1e-6`` both are near ``1e-10`` for values and derivatives of order one; with float32
the rounding part is near ``0.1 * |f|``, which is why the checks ask for float64.

>>> import numpy as np
>>> f = lambda p: float(np.sum(p["w"] ** 3))
>>> d = partial_derivatives(f, {"w": np.array([1.0, 2.0])}, "w", np.array([0, 1]))
>>> np.round(d.central, 6).tolist()
[3.0, 12.0]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

EPS_MACHINE = float(np.finfo(np.float64).eps)


def rounding_noise(value: float, eps: float, dtype: np.dtype | type = np.float64) -> float:
    """A generous bound on the rounding error of a central difference of a function whose
    value is about ``value``: ``64 * eps_machine(dtype) * |value| / eps``.

    Differences smaller than this cannot tell two derivatives apart.

    >>> rounding_noise(1.0, 1e-6) < 2e-8
    True
    """
    return 64.0 * float(np.finfo(dtype).eps) * max(abs(value), 1e-300) / eps


def _with_entry(base: np.ndarray, flat: int, value: float, dtype: np.dtype) -> np.ndarray:
    arr = base.copy()
    arr.flat[flat] = value
    return arr.astype(dtype, copy=False)


def jacobian_columns(
    evaluate: Callable[[dict[int, np.ndarray]], list],
    base: np.ndarray,
    position: int,
    dtype: np.dtype,
    eps: float,
    flat_indices: Sequence[int] | None = None,
) -> Iterator[tuple[int, list]]:
    """Yield ``(flat_index, columns)`` for each entry of one input: ``columns[k]`` is
    ``d output_k / d input[flat_index]`` flattened (``None`` for a non-float output).

    ``evaluate({position: array})`` runs the function with that input replaced. The step
    is the one actually taken after casting to ``dtype`` (float32 inputs round ``x + eps``).
    """
    indices = range(base.size) if flat_indices is None else flat_indices
    for flat in indices:
        x = float(base.flat[flat])
        plus = _with_entry(base, flat, x + eps, dtype)
        minus = _with_entry(base, flat, x - eps, dtype)
        step = float(plus.flat[flat]) - float(minus.flat[flat])
        if step == 0.0:
            raise ValueError(f"eps={eps:g} vanishes next to {x:g} in {np.dtype(dtype).name}: "
                             "use float64 inputs (or a larger eps)")
        f_plus = evaluate({position: plus})
        f_minus = evaluate({position: minus})
        yield flat, [
            None if p is None else ((p - m) / step).ravel() for p, m in zip(f_plus, f_minus)
        ]


def one_sided(
    evaluate: Callable[[dict[int, np.ndarray]], list],
    base: np.ndarray,
    position: int,
    dtype: np.dtype,
    eps: float,
    flat: int,
    output: int,
    out_flat: int,
) -> tuple[float, float, float]:
    """``(left, central, right)`` difference quotients of one output entry w.r.t. one input
    entry: ``(f(x) - f(x-h))/h``, ``(f(x+h) - f(x-h))/2h`` and ``(f(x+h) - f(x))/h``."""
    x = float(base.flat[flat])
    plus = _with_entry(base, flat, x + eps, dtype)
    minus = _with_entry(base, flat, x - eps, dtype)
    f0 = evaluate({position: base.astype(dtype, copy=False)})[output].flat[out_flat]
    fp = evaluate({position: plus})[output].flat[out_flat]
    fm = evaluate({position: minus})[output].flat[out_flat]
    hp = float(plus.flat[flat]) - x
    hm = x - float(minus.flat[flat])
    if hp <= 0 or hm <= 0:  # the step vanished when cast (float32 and a tiny eps)
        return float("nan"), float("nan"), float("nan")
    return (f0 - fm) / hm, (fp - fm) / (hp + hm), (fp - f0) / hp


def directional_derivative(
    evaluate: Callable[[dict[int, np.ndarray]], list],
    bases: Mapping[int, np.ndarray],
    directions: Mapping[int, np.ndarray],
    dtypes: Mapping[int, np.dtype],
    eps: float,
) -> list:
    """``J u`` for every output by one pair of evaluations: all inputs in ``directions``
    move together, ``x +- eps * u``. Returns one flattened array per output (``None`` for a
    non-float output)."""
    plus = {j: (bases[j] + eps * directions[j]).astype(dtypes[j], copy=False) for j in directions}
    minus = {j: (bases[j] - eps * directions[j]).astype(dtypes[j], copy=False) for j in directions}
    f_plus = evaluate(plus)
    f_minus = evaluate(minus)
    return [
        None if p is None else ((p - m) / (2 * eps)).ravel() for p, m in zip(f_plus, f_minus)
    ]


@dataclass
class Differences:
    """Difference quotients of a scalar function at some entries of one parameter.

    ``central`` is the estimate of the derivative; ``left``/``right`` are the one-sided
    quotients, which agree (up to ``eps * |f''|``) where the function is smooth and differ
    by the jump in slope where ``x +- eps`` straddles a kink.
    """

    indices: np.ndarray
    central: np.ndarray
    left: np.ndarray
    right: np.ndarray


def partial_derivatives(
    f: Callable[[dict[str, np.ndarray]], float],
    params: Mapping[str, np.ndarray],
    name: str,
    flat_indices: np.ndarray,
    eps: float = 1e-6,
    f0: float | None = None,
) -> Differences:
    """Central and one-sided differences of ``f(params)`` w.r.t. ``params[name]`` at the
    given flat indices (2 evaluations per entry, plus one for ``f0`` if not given)."""
    work = {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}
    if f0 is None:
        f0 = f(work)
    arr = work[name]
    n = len(flat_indices)
    central, left, right = np.empty(n), np.empty(n), np.empty(n)
    for i, flat in enumerate(flat_indices):
        x = float(arr.flat[flat])
        arr.flat[flat] = x + eps
        fp = f(work)
        arr.flat[flat] = x - eps
        fm = f(work)
        arr.flat[flat] = x
        central[i] = (fp - fm) / (2 * eps)
        right[i] = (fp - f0) / eps
        left[i] = (f0 - fm) / eps
    return Differences(np.asarray(flat_indices), central, left, right)


def is_kink(left: float, central: float, right: float, left_small: float,
            central_small: float, right_small: float) -> bool:
    """Whether one-sided quotients at ``eps`` and at ``eps/10`` show a kink rather than
    curvature.

    Where ``f`` is smooth, ``right - left`` is about ``eps * f''``: ten times smaller at
    ``eps/10``. At a kink inside ``[x - eps, x + eps]`` it is the jump in slope: the same at
    ``eps/10`` when the kink is at ``x`` itself, or gone at ``eps/10`` while the central
    difference moves by a sizeable part of the jump when ``x +- eps/10`` no longer straddles
    the kink.

    >>> is_kink(0.0, 0.5, 1.0, 0.0, 0.5, 1.0)                 # relu at 0
    True
    >>> is_kink(1.0 - 1e-6, 1.0, 1.0 + 1e-6, 1.0 - 1e-7, 1.0, 1.0 + 1e-7)   # x**2 / 2 at 1
    False
    """
    jump = abs(right - left)
    if not np.isfinite(jump) or jump == 0.0:
        return False
    small = abs(right_small - left_small)
    persistent = small > 0.3 * jump
    crossed = small < 0.03 * jump and abs(central_small - central) > 0.1 * jump
    return bool(persistent or crossed)
