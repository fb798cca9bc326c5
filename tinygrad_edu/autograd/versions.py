"""Version counters on memory: every tensor that shares memory shares one counter.

A tensor's values live in a numpy array, and several tensors may look at the same memory: a
view (``x[0]``, ``x.T``, ``x.reshape(...)``), ``x.detach()``, or a numpy array the user holds.
An in-place change through any of them changes what the others see. So the version belongs
to the memory, not to a Tensor object: it is kept per *memory root* — the numpy array that
owns the buffer, found by following ``.base`` — and stamped with a global in-place epoch.

The engine uses it to refuse a backward that would read values changed after an op saved them
(``Context._epoch`` is the epoch at which the op was recorded):

>>> import numpy as np
>>> a = np.zeros(4)
>>> before = version(a)
>>> _ = bump(a[1:3], "add_")       # a change through a view ...
>>> version(a) > before            # ... is a change of the memory the view shares
True
>>> last_writer(a.reshape(2, 2))
'add_'
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np

from .grad_mode import flags

_versions: dict[int, int] = {}  # id(memory root) -> epoch of its last in-place change
_writers: dict[int, str] = {}  # id(memory root) -> the op that made that change


def memory_root(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s buffer (``array`` itself when it is not a view)."""
    base = array.base
    while isinstance(base, np.ndarray):
        array = base
        base = array.base
    return array


def _forget(key: int) -> None:
    _versions.pop(key, None)
    _writers.pop(key, None)


def bump(array: np.ndarray, op: str = "an in-place operation") -> int:
    """Record an in-place change of ``array``'s memory; returns the new epoch."""
    return bump_many((array,), op)


def bump_many(arrays: Sequence[np.ndarray], op: str = "an in-place operation") -> int:
    """Record one in-place change of the memory of all ``arrays`` (an optimizer step): they
    all get the same new epoch, which is later than that of any op recorded before, exactly
    as if each had been bumped in turn. Returns the new epoch; no arrays, nothing changed: the
    epoch stays (graphs recorded before keep skipping the in-place check).

    >>> a, b = np.zeros(2), np.zeros(3)
    >>> before = version(a)
    >>> epoch = bump_many([a, b[1:]], "step")
    >>> version(a) == version(b) == epoch > before
    True
    """
    if not arrays:
        return flags.inplace_epoch
    flags.inplace_epoch = epoch = flags.inplace_epoch + 1
    versions, writers = _versions, _writers
    for array in arrays:
        root = array if array.base is None else memory_root(array)
        key = id(root)
        if key not in versions:  # forget the root when it is freed (before its id is reused)
            weakref.finalize(root, _forget, key)
        versions[key] = epoch
        writers[key] = op
    return epoch


def version(array: np.ndarray) -> int:
    """The epoch of the last in-place change of ``array``'s memory (0 if never changed)."""
    return _versions.get(id(memory_root(array)), 0)


def last_writer(array: np.ndarray) -> str:
    """The name of the op that last changed ``array``'s memory in place."""
    return _writers.get(id(memory_root(array)), "an in-place operation")


def shares_root(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays are (views of) the same memory."""
    return memory_root(a) is memory_root(b)
