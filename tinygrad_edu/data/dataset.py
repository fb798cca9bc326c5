"""Datasets: ``Dataset``, ``TensorDataset``, ``Subset`` and ``random_split`` (PyTorch's names).

A dataset is anything with ``__len__`` and ``__getitem__(i)``. A dataset that can also fetch
a whole batch at once defines ``__getitems__(indices)`` returning the collated batch; the
``DataLoader`` then slices arrays instead of looping over samples in Python.

>>> import numpy as np
>>> ds = TensorDataset(np.arange(6.0).reshape(3, 2), np.array([0, 1, 0]))
>>> len(ds)
3
>>> x, y = ds[1]
>>> x, y
(tensor([2., 3.], dtype=float64), tensor(1))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..random import Generator, numpy_rng
from ..tensor import Tensor


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__`` and ``__len__``.

    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return float(i), float(i * i)
    >>> Squares()[3]
    (3.0, 9.0)
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


def _as_array(t: Any) -> np.ndarray:
    if isinstance(t, Tensor):
        return t.data
    arr = np.asarray(t)
    if arr.dtype == object:
        raise TypeError(f"TensorDataset needs numeric arrays, got {type(t).__name__} of objects")
    return arr


class TensorDataset(Dataset):
    """Samples are the rows of equally long arrays or tensors: ``ds[i] = (x[i], y[i], ...)``.

    The arrays are kept as they are (no copy; dtypes unchanged); items and batches come out
    as Tensors. Fetching a batch (``__getitems__``) indexes each array once. A tensor that
    requires grad is indexed as a tensor, so its items and batches keep the gradient, as
    in PyTorch.

    >>> import numpy as np
    >>> ds = TensorDataset(np.zeros((5, 2)), np.ones(5))
    >>> [t.shape for t in ds.__getitems__([0, 3, 4])]
    [(3, 2), (3,)]
    >>> TensorDataset(np.zeros(3), np.zeros(4))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: TensorDataset: all arrays must have the same first dimension ... [3, 4]
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one array")
        arrays = [_as_array(t) for t in tensors]
        for a in arrays:
            if a.ndim == 0:
                raise ValueError("TensorDataset: arrays must have a first (sample) dimension")
        lengths = [len(a) for a in arrays]
        if len(set(lengths)) != 1:
            raise ValueError(
                "TensorDataset: all arrays must have the same first dimension (the number of "
                f"samples), got lengths {lengths}"
            )
        self.arrays: tuple[np.ndarray, ...] = tuple(arrays)
        # tensors in a graph (or parameters), by position: indexed as tensors, never as arrays
        self._in_graph = {i: t for i, t in enumerate(tensors)
                          if isinstance(t, Tensor) and t.requires_grad}

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """The arrays as Tensors (sharing memory), as in PyTorch."""
        return tuple(self._in_graph[i] if i in self._in_graph else Tensor._wrap(a)
                     for i, a in enumerate(self.arrays))

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        if self._in_graph:
            return tuple(t[index] for t in self.tensors)
        return tuple(Tensor._wrap(np.asarray(a[index])) for a in self.arrays)

    def __getitems__(self, indices: Any) -> tuple[Tensor, ...]:
        """A whole batch: ``indices`` is a sequence of ints, an int array or a slice."""
        if self._in_graph:
            rows = indices if isinstance(indices, slice) else np.asarray(indices, dtype=np.intp)
            return tuple(t[rows] for t in self.tensors)
        if isinstance(indices, slice):
            # a view, read-only so that an in-place op on a batch cannot change the data
            out = []
            for a in self.arrays:
                v = a[indices].view()
                v.flags.writeable = False
                out.append(Tensor._wrap(v))
            return tuple(out)
        idx = np.asarray(indices, dtype=np.intp)
        return tuple(Tensor._wrap(a[idx]) for a in self.arrays)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (in that order).

    >>> import numpy as np
    >>> s = Subset(TensorDataset(np.arange(5.0)), [4, 0])
    >>> len(s), s[0]
    (2, (tensor(4., dtype=float64),))
    """

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.intp).reshape(-1)
        n = len(dataset)
        if len(self.indices) and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(f"Subset: indices out of range for a dataset of {n} samples")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __getattr__(self, name: str) -> Any:
        if name == "__getitems__":
            inner = getattr(self.dataset, "__getitems__", None)
            if inner is None:
                raise AttributeError(name)
            return lambda indices: inner(self.indices[_index_array(indices)])
        raise AttributeError(name)


def _index_array(indices: Any) -> Any:
    return indices if isinstance(indices, slice) else np.asarray(indices, dtype=np.intp)


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    if any(x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must not be negative, got {lengths}")
    if all(isinstance(x, int | np.integer) for x in lengths):
        if sum(lengths) != n:
            raise ValueError(
                f"random_split: the lengths {lengths} sum to {sum(lengths)}, but the dataset "
                f"has {n} samples"
            )
        return [int(x) for x in lengths]
    if not math.isclose(sum(lengths), 1.0, abs_tol=1e-6):
        raise ValueError(
            f"random_split: fractions must sum to 1, got {lengths} (sum {sum(lengths):g}); "
            "or pass integer lengths that sum to the dataset's size"
        )
    # PyTorch's rule: floor each, then hand the remainder out round-robin
    sizes = [math.floor(n * f) for f in lengths]
    for i in range(n - sum(sizes)):
        sizes[i % len(sizes)] += 1
    return sizes


def random_split(dataset: Any, lengths: Sequence[float],
                 generator: Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset``\\ s.

    ``lengths`` are sample counts summing to ``len(dataset)`` or fractions summing to 1 (the
    remainder of the rounding goes to the first splits, as in PyTorch). Pass a seeded
    ``generator`` for a reproducible split.

    >>> import numpy as np
    >>> import tinygrad_edu as tg
    >>> train, test = random_split(TensorDataset(np.arange(10.0)), [0.8, 0.2],
    ...                            generator=tg.Generator().manual_seed(0))
    >>> len(train), len(test)
    (8, 2)
    >>> sorted(np.concatenate([train.indices, test.indices]).tolist()) == list(range(10))
    True
    """
    n = len(dataset)
    sizes = _split_lengths(n, lengths)
    perm = numpy_rng(generator).permutation(n)
    out, start = [], 0
    for size in sizes:
        out.append(Subset(dataset, perm[start:start + size]))
        start += size
    return out
