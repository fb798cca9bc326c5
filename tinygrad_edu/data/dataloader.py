"""``DataLoader``: batches of a dataset, optionally shuffled by a seeded ``Generator``.

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> from tinygrad_edu.data import TensorDataset
>>> ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
>>> loader = DataLoader(ds, batch_size=2)
>>> len(loader)
3
>>> [tuple(x.shape) for x, y in loader]
[(2, 2), (2, 2), (1, 2)]
>>> g = tg.Generator().manual_seed(0)
>>> [y.tolist() for _, y in DataLoader(ds, batch_size=5, shuffle=True, generator=g)]
[[2, 4, 3, 0, 1]]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .. import dtypes
from ..random import Generator, numpy_rng
from ..tensor import Tensor


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, keeping the samples' structure.

    Tensors and arrays are stacked along a new first dimension; Python floats become a
    tensor of the default dtype, ints an int64 tensor; tuples, lists and dicts are collated
    field by field; strings stay a list.

    >>> import numpy as np
    >>> default_collate([(np.array([1.0, 2.0]), 0), (np.array([3.0, 4.0]), 1)])
    (tensor([[1., 2.],
            [3., 4.]], dtype=float64), tensor([0, 1]))
    >>> default_collate([{"x": 1.5}, {"x": 2.5}])
    {'x': tensor([1.5, 2.5])}
    """
    if not batch:
        raise ValueError("default_collate: empty batch")
    first = batch[0]
    if isinstance(first, Tensor):
        if any(isinstance(s, Tensor) and s.requires_grad for s in batch):
            from ..functional import stack  # samples in a graph: their batch keeps it

            return stack(batch)
        return Tensor._wrap(np.stack([s.data for s in batch]))
    if isinstance(first, np.ndarray | np.generic):
        return Tensor._wrap(np.stack([np.asarray(s) for s in batch]))
    if isinstance(first, bool):
        return Tensor._wrap(np.asarray(batch, dtype=np.bool_))
    if isinstance(first, int):
        return Tensor._wrap(np.asarray(batch, dtype=np.int64))
    if isinstance(first, float):
        return Tensor._wrap(np.asarray(batch, dtype=dtypes.get_default_dtype()))
    if isinstance(first, str | bytes):
        return list(batch)
    if isinstance(first, Mapping):
        return {k: default_collate([s[k] for s in batch]) for k in first}
    if isinstance(first, tuple | list):
        if any(len(s) != len(first) for s in batch):
            raise ValueError("default_collate: samples in a batch have different lengths")
        out = [default_collate(list(field)) for field in zip(*batch)]
        return tuple(out) if isinstance(first, tuple) else out
    raise TypeError(
        f"default_collate: cannot batch samples of type {type(first).__name__}; return "
        "arrays, tensors, numbers, or tuples/dicts of them, or pass a collate_fn"
    )


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples.

    - ``shuffle=True`` draws a new permutation every epoch (every ``iter()``) from
      ``generator`` (default: the global one, seeded by ``tinygrad_edu.manual_seed``).
    - ``drop_last=True`` drops the last, incomplete batch.
    - ``batch_size=None`` yields single samples, unbatched.
    - Datasets with ``__getitems__`` (``TensorDataset`` and ``Subset``\\ s of it) are
      batched by indexing their arrays once per batch; others by ``collate_fn``
      (``default_collate``) over a list of samples.

    >>> import numpy as np
    >>> from tinygrad_edu.data import TensorDataset
    >>> ds = TensorDataset(np.arange(5.0))
    >>> [b[0].tolist() for b in DataLoader(ds, batch_size=2, drop_last=True)]
    [[0.0, 1.0], [2.0, 3.0]]
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool = False,
                 drop_last: bool = False, generator: Generator | None = None,
                 collate_fn: Callable[[list], Any] | None = None) -> None:
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer)
            or batch_size <= 0
        ):
            raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"DataLoader needs a dataset with __len__ and __getitem__, got "
                f"{type(dataset).__name__}; wrap arrays in TensorDataset(x, y)"
            )
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _batches(self, n: int) -> Iterator[Any]:
        """Index batches: slices in order, index arrays when shuffled."""
        bs = self.batch_size
        stop = n - n % bs if self.drop_last else n
        if self.shuffle:
            perm = numpy_rng(self.generator).permutation(n)
            for start in range(0, stop, bs):
                yield perm[start:start + bs]
        else:
            for start in range(0, stop, bs):
                yield slice(start, min(start + bs, n))

    def __iter__(self) -> Iterator[Any]:
        ds = self.dataset
        n = len(ds)
        if self.batch_size is None:
            order = numpy_rng(self.generator).permutation(n) if self.shuffle else range(n)
            for i in order:
                yield ds[int(i)]
            return
        fast = getattr(ds, "__getitems__", None) if self.collate_fn is None else None
        collate = self.collate_fn or default_collate
        for idx in self._batches(n):
            if fast is not None:
                yield fast(idx)
            else:
                rng = range(n)[idx] if isinstance(idx, slice) else idx
                yield collate([ds[int(i)] for i in rng])

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last})")
