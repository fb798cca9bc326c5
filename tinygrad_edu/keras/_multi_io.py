"""Training a functional model with several inputs or outputs.

``fit`` / ``evaluate`` / ``predict`` take ``x`` as a list (in the order of the model's
inputs) or a dict (by the inputs' names) of arrays, and ``y`` likewise for the outputs.
Underneath, the arrays are packed side by side into one 2-D array per sample (a
:class:`Packing`), so shuffling, batching, ``validation_split`` and ``sample_weight`` work
as for one input; the model unpacks its inputs and packs its outputs while the packing is
active. The loss is Keras's: one loss per output (a list, a dict by output name, or one
loss for all), weighted by ``loss_weights``, summed; each output's own loss is logged as
``<output name>_loss`` and its metrics as ``<output name>_<metric>``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..tensor import Tensor
from ..train import metrics as _m
from . import losses
from . import metrics as _metrics


def _array(v: Any) -> np.ndarray:
    return v.data if isinstance(v, Tensor) else np.asarray(v)


def by_position(values: Any, names: list[str], what: str) -> list[np.ndarray]:
    """``values`` (a list in order, or a dict by name) as a list of arrays in ``names``'s
    order."""
    if isinstance(values, dict):
        missing = [n for n in names if n not in values]
        if missing:
            raise ValueError(f"{what}: no data for {missing}; the dict has keys "
                             f"{sorted(values)}, the model's are {names}")
        return [_array(values[n]) for n in names]
    values = list(values) if isinstance(values, list | tuple) else [values]
    if len(values) != len(names):
        raise ValueError(f"{what}: the model has {len(names)} ({names}), but {len(values)} "
                         "arrays were given")
    return [_array(v) for v in values]


class Packing:
    """The layout of several per-sample arrays side by side in one ``(n, total)`` array."""

    def __init__(self, shapes: list[tuple[int, ...]], dtypes: list[np.dtype]) -> None:
        self.shapes = [tuple(s) for s in shapes]
        self.dtypes = list(dtypes)
        sizes = [math.prod(s) for s in self.shapes]
        self.bounds = np.cumsum([0, *sizes]).tolist()

    @classmethod
    def of(cls, arrays: list[np.ndarray]) -> Packing:
        return cls([a.shape[1:] for a in arrays], [a.dtype for a in arrays])

    def pack(self, arrays: list[np.ndarray], dtype: np.dtype) -> np.ndarray:
        n = {len(a) for a in arrays}
        if len(n) != 1:
            raise ValueError(f"every input and target array must hold the same number of "
                             f"samples, got {[len(a) for a in arrays]}")
        for a, shape in zip(arrays, self.shapes):
            if a.shape[1:] != shape:
                raise ValueError(f"an array of shape {a.shape} where samples of shape {shape} "
                                 "are expected")
        return np.concatenate([a.reshape(len(a), -1).astype(dtype) for a in arrays], axis=1)

    def split(self, packed: Any) -> list[Any]:
        """The arrays (or Tensors) back from a packed batch, each in its dtype."""
        parts = []
        for (lo, hi), shape, dtype in zip(zip(self.bounds, self.bounds[1:]), self.shapes,
                                          self.dtypes):
            part = packed[:, lo:hi].reshape(len(packed), *shape)
            if dtype.kind in "biu":
                part = (part.astype(dtype) if isinstance(part, np.ndarray)
                        else Tensor._wrap(part.data.astype(dtype)))
            parts.append(part)
        return parts


@contextlib.contextmanager
def packed(model: Any, inputs: Packing, outputs: Packing | None) -> Iterator[None]:
    """While active, ``model`` takes packed inputs and returns packed outputs."""
    model.__dict__["_packing"] = (inputs, outputs)
    try:
        yield
    finally:
        model.__dict__.pop("_packing", None)


def join(values: list[Tensor]) -> Tensor:
    """Outputs side by side, one row per sample (the inverse of ``Packing.split``)."""
    from .. import functional

    return functional.cat([v.reshape(v.shape[0], -1) for v in values], 1)


def per_output(spec: Any, names: list[str], what: str) -> list[Any]:
    """One entry per output from a list, a dict by output name, or one value for all."""
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(f"In the dict argument `{what}`, key {unknown[0]!r} does not "
                             f"correspond to any model output; the outputs are {names}")
        return [spec.get(n) for n in names]
    if isinstance(spec, list | tuple):
        if len(spec) != len(names):
            raise ValueError(f"For a model with multiple outputs, when providing the `{what}` "
                             f"argument as a list, it should have as many entries as the model "
                             f"has outputs ({names}); got {len(spec)}")
        return list(spec)
    return [spec] * len(names)


class MultiLoss:
    """Keras's loss of a multi-output model: ``sum(loss_weight_i * loss_i(y_i, pred_i))``
    over the outputs given a loss (each the mean over its samples, sample weights
    applied)."""

    def __init__(self, loss: Any, loss_weights: Any, names: list[str],
                 shapes: list[tuple]) -> None:
        self.names = names
        self.pred_layout = Packing(shapes, [np.dtype("float64")] * len(shapes))
        self.fns = [None if spec is None else losses.as_training_loss(spec)
                    for spec in per_output(loss, names, "loss")]
        weights = per_output(1.0 if loss_weights is None else loss_weights, names,
                             "loss_weights")
        self.weights = [1.0 if w is None else float(w) for w in weights]
        self.target_layout: Packing | None = None

    def parts(self, pred: Tensor, target: Any) -> tuple[list[Tensor], list[Any]]:
        if self.target_layout is None:
            raise RuntimeError("the targets' layout is not known yet")
        return self.pred_layout.split(pred), self.target_layout.split(target)

    def output_loss(self, i: int, pred: Tensor, target: Any, sample_weight: Any = None
                    ) -> Tensor:
        preds, targets = self.parts(pred, target)
        fn = self.fns[i]
        t = targets[i] if isinstance(targets[i], Tensor) else Tensor._wrap(targets[i])
        return fn(preds[i], t) if sample_weight is None else fn(preds[i], t,
                                                                sample_weight=sample_weight)

    def __call__(self, pred: Tensor, target: Any, sample_weight: Any = None) -> Tensor:
        total = None
        for i, (fn, w) in enumerate(zip(self.fns, self.weights)):
            if fn is None:
                continue
            term = self.output_loss(i, pred, target, sample_weight) * w
            total = term if total is None else total + term
        if total is None:
            raise ValueError("compile: no output has a loss")
        return total


class OutputLoss(_m.Metric):
    """The logged loss of one output (``<name>_loss``), weighted as the total is."""

    takes_sample_weight = True

    def __init__(self, multi: MultiLoss, index: int) -> None:
        self.multi, self.index = multi, index
        super().__init__(f"{multi.names[index]}_loss")

    def update(self, pred: Any, target: Any, sample_weight: Any = None) -> None:
        value = self.multi.output_loss(self.index, pred, target, sample_weight)
        n = len(pred)
        self._sum += float(value.item()) * n
        self._count += n


class OnOutput(_m.Metric):
    """A compiled metric of one output (``<name>_<metric>``)."""

    def __init__(self, metric: Any, multi: MultiLoss, index: int) -> None:
        self.inner = _m.get(metric) if isinstance(metric, str) else metric
        self.multi, self.index = multi, index
        self.takes_sample_weight = getattr(self.inner, "takes_sample_weight", False)
        super().__init__(f"{multi.names[index]}_{self.inner.name}")

    def reset(self) -> None:
        if "inner" in self.__dict__:
            self.inner.reset()

    def update(self, pred: Any, target: Any, sample_weight: Any = None) -> None:
        preds, targets = self.multi.parts(pred, target)
        if self.takes_sample_weight:
            self.inner.update(preds[self.index], targets[self.index], sample_weight)
        else:
            self.inner.update(preds[self.index], targets[self.index])

    def result(self) -> float:
        return self.inner.result()


def output_metrics(multi: MultiLoss, metrics: Any, weighted_metrics: Any) -> list[_m.Metric]:
    """Each output's loss, then each output's metrics (Keras 3's log names)."""
    out: list[_m.Metric] = [OutputLoss(multi, i) for i, fn in enumerate(multi.fns)
                            if fn is not None]
    for spec, weighted in ((metrics, None), (weighted_metrics, True)):
        if not spec:
            continue
        for i, entry in enumerate(per_output(spec, multi.names,
                                             "weighted_metrics" if weighted else "metrics")):
            entries = entry if isinstance(entry, list | tuple) else [] if entry is None \
                else [entry]
            resolved = (_metrics.resolve(None, entries) if weighted
                        else _metrics.resolve(entries))
            out += [OnOutput(m, multi, i) for m in resolved]
    return out
