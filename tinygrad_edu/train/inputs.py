"""Turning what ``fit`` is given into batches: arrays, Datasets, DataLoaders; validation split.

- ``(x, y)`` arrays or tensors become a ``TensorDataset``: integer inputs are cast to the
  model's float dtype, float inputs and targets too (once, up front); a 1-D ``x`` becomes a
  column ``(n, 1)`` (one feature per sample), as Keras does. Integer targets stay integers
  (class labels) until the first batch shows they are regression targets.
- ``(x, y, sample_weight)`` adds one weight per sample (Keras's ``sample_weight``): the
  loss of each sample is multiplied by it (see :func:`unpack`).
- A ``Dataset`` is batched by a ``DataLoader``; a ``DataLoader`` is used as it is.

>>> import numpy as np
>>> loader, arrays = as_loader((np.arange(5), np.arange(5) * 2.0), batch_size=2,
...                            shuffle=False, generator=None, dtype=np.float32, who="fit")
>>> [tuple(x.shape) for x, y in loader], arrays[0].dtype
([(2, 1), (2, 1), (1, 1)], dtype('float32'))
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..data import DataLoader, Subset, TensorDataset
from ..random import Generator, numpy_rng
from ..tensor import Tensor


def to_array(v: Any, what: str) -> np.ndarray:
    if isinstance(v, Tensor):
        return v.data
    arr = np.asarray(v)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be numbers (an array, tensor or nested lists), got "
                        f"{arr.dtype} data")
    return arr


def arrays_of(data: Any, dtype: np.dtype, who: str) -> tuple[np.ndarray, ...]:
    """``(x, y)`` or ``(x, y, sample_weight)`` as arrays ready for training (see the
    module docstring)."""
    if not (isinstance(data, tuple | list) and len(data) in (2, 3)):
        size = f" of length {len(data)}" if isinstance(data, tuple | list) else ""
        raise TypeError(
            f"{who}: data must be (x, y) or (x, y, sample_weight) arrays/tensors, a Dataset or "
            f"a DataLoader, got {type(data).__name__}{size}"
        )
    x = to_array(data[0], f"{who}: x")
    y = to_array(data[1], f"{who}: y")
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"{who}: x and y need a first (sample) dimension, got shapes "
                         f"{x.shape} and {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"{who}: x has {len(x)} samples but y has {len(y)} (shapes {x.shape} "
                         f"and {y.shape}); they must match sample for sample")
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if x.dtype != dtype:
        x = x.astype(dtype)
    if y.dtype.kind == "f" and y.dtype != dtype:
        y = y.astype(dtype)
    if len(data) == 2:
        return x, y
    return x, y, _sample_weights(data[2], len(x), dtype, who)


def _sample_weights(w: Any, n: int, dtype: np.dtype, who: str) -> np.ndarray:
    """One finite, non-negative float weight per sample, shape ``(n,)``."""
    arr = to_array(w, f"{who}: sample_weight")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.shape != (n,):
        raise ValueError(f"{who}: sample_weight must hold one weight per sample, shape ({n},), "
                         f"got shape {arr.shape}")
    arr = arr.astype(dtype)
    if not (np.isfinite(arr).all() and (arr >= 0).all()):
        raise ValueError(f"{who}: sample_weight must be finite and non-negative")
    return arr


class SampleWeighted(TensorDataset):
    """The ``TensorDataset`` of ``(x, y, sample_weight)`` arrays: its third array weighs
    each sample's loss. Only a dataset that says so (``yields_sample_weights = True``, as
    this one and Keras's ``PyDataset`` do) has its third item read as weights: a third
    item of any other dataset (an index, say) is refused, not silently used as a weight."""

    yields_sample_weights = True


def yields_sample_weights(loader: Any) -> bool:
    """Whether the batches of ``loader`` are ``(x, y, sample_weight)``."""
    return getattr(getattr(loader, "dataset", None), "yields_sample_weights", False) is True


def _dataset_arrays(ds: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The (x, y) arrays behind a TensorDataset (or a Subset of one), for the data checks."""
    if isinstance(ds, TensorDataset) and len(ds.arrays) in (2, 3):
        return ds.arrays[0], ds.arrays[1]
    if isinstance(ds, Subset):
        inner = _dataset_arrays(ds.dataset)
        if inner is not None:
            return inner[0][ds.indices], inner[1][ds.indices]
    return None


def as_loader(data: Any, batch_size: int | None, shuffle: bool, generator: Generator | None,
              dtype: np.dtype, who: str) -> tuple[Any, tuple | None]:
    """A loader of ``(x, y)`` batches and, when known, the full arrays (for data checks)."""
    if isinstance(data, DataLoader):
        if batch_size is not None and batch_size != data.batch_size:
            raise ValueError(
                f"{who}: batch_size={batch_size} was given with a DataLoader, whose batch size "
                f"({data.batch_size}) decides; leave batch_size out"
            )
        return data, _dataset_arrays(data.dataset)
    bs = 32 if batch_size is None else batch_size
    if hasattr(data, "__getitem__") and hasattr(data, "__len__") and not isinstance(
            data, tuple | list | np.ndarray | Tensor):
        return DataLoader(data, batch_size=bs, shuffle=shuffle, generator=generator), \
            _dataset_arrays(data)
    arrays = arrays_of(data, dtype, who)
    ds = SampleWeighted(*arrays) if len(arrays) == 3 else TensorDataset(*arrays)
    return DataLoader(ds, batch_size=bs, shuffle=shuffle, generator=generator), arrays[:2]


class StepsPerEpoch:
    """Keras's ``steps_per_epoch``: each epoch takes the next ``steps`` batches of the
    loader, continuing where the last epoch stopped; when a pass over the data ends, the
    epoch ends there (with Keras's "ran out of data" warning if that cuts it short) and the
    next epoch starts a new pass (reshuffled)."""

    def __init__(self, loader: Any, steps: int) -> None:
        if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps <= 0:
            raise ValueError(f"fit: steps_per_epoch must be a positive int, got {steps!r}")
        self.loader = loader
        self.steps = int(steps)
        self.dataset = getattr(loader, "dataset", None)
        self.batch_size = getattr(loader, "batch_size", None)
        self._batches: Any = None
        self._seen = 0

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Any:
        total = len(self.loader)
        if self._batches is None:
            self._batches, self._seen = iter(self.loader), 0
        for _ in range(self.steps):
            if self._seen >= total:
                warnings.warn("Your input ran out of data; interrupting training. Make sure "
                              "that your dataset or generator can generate at least "
                              "`steps_per_epoch * epochs` batches.", UserWarning, stacklevel=2)
                break
            self._seen += 1
            yield next(self._batches)
        if self._seen >= total:
            self._batches = None


def split_validation(data: Any, fraction: float, shuffle_before_split: bool,
                     generator: Generator | None, dtype: np.dtype) -> tuple[Any, Any]:
    """Training and validation parts: the *last* ``fraction`` of the samples is held out
    (Keras's rule), after a seeded shuffle only with ``shuffle_before_split``."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {fraction}")
    if isinstance(data, DataLoader):
        raise ValueError(
            "validation_split needs (x, y) arrays or a Dataset, not a DataLoader: split the "
            "dataset with random_split and pass validation_data"
        )
    if isinstance(data, tuple | list):
        arrays = arrays_of(data, dtype, "fit")
        n = len(arrays[0])
    else:
        n = len(data)
    split_at = math.floor(n * (1.0 - fraction))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"fit: {n} samples cannot be split into training and validation sets with "
            f"validation_split={fraction} (training {split_at}, validation {n - split_at})"
        )
    order = numpy_rng(generator).permutation(n) if shuffle_before_split else None
    if isinstance(data, tuple | list):
        if order is not None:
            arrays = tuple(a[order] for a in arrays)
        return (tuple(a[:split_at] for a in arrays), tuple(a[split_at:] for a in arrays))
    idx = order if order is not None else np.arange(n)
    return Subset(data, idx[:split_at]), Subset(data, idx[split_at:])


def unpack(batch: Any, weighted: bool = False) -> tuple[Any, Any, Any]:
    """A batch as ``(inputs, targets, sample_weight)``: the weights are the third item of a
    ``weighted`` loader's batches (see :class:`SampleWeighted`), else ``None``."""
    if isinstance(batch, tuple | list) and (len(batch) == 2 or (weighted and len(batch) == 3)):
        return batch[0], batch[1], batch[2] if len(batch) == 3 else None
    size = f" of length {len(batch)}" if isinstance(batch, tuple | list) else ""
    raise TypeError(
        f"each batch must be (inputs, targets), got {type(batch).__name__}{size}; give fit a "
        "dataset whose items are (x, y) pairs (sample weights: pass (x, y, sample_weight) "
        "arrays)"
    )


def cast_input(x: Any, dtype: np.dtype) -> Tensor:
    """Inputs as a Tensor of the model's float dtype (integers and other floats cast)."""
    arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    if arr.dtype != dtype:
        arr = arr.astype(dtype)
    elif isinstance(x, Tensor):
        return x
    return Tensor._wrap(arr)


def align_target(pred: Any, y: Any) -> Tensor:
    """Targets shaped and typed like the predictions where that is clearly meant:
    ``(n,)`` against ``(n, 1)`` is reshaped (else the loss would broadcast to ``(n, n)``),
    integer regression targets and floats of another precision take the predictions' dtype.
    Class labels (integers whose shape differs from the predictions') stay as they are."""
    arr = y.data if isinstance(y, Tensor) else np.asarray(y)
    pshape = getattr(pred, "shape", None)
    pdtype = getattr(pred, "dtype", None)
    if pshape is None or pdtype is None:
        return y if isinstance(y, Tensor) else Tensor._wrap(arr)
    if arr.shape != pshape and arr.size == int(np.prod(pshape)) and (
            (len(pshape) == arr.ndim + 1 and pshape[-1] == 1)
            or (arr.ndim == len(pshape) + 1 and arr.shape[-1] == 1)):
        arr = arr.reshape(pshape)
    if np.dtype(pdtype).kind == "f" and arr.dtype != pdtype and (
            arr.dtype.kind == "f" or arr.shape == pshape):
        arr = arr.astype(pdtype)
    if isinstance(y, Tensor) and arr is y.data:
        return y
    return Tensor._wrap(arr)
