"""Keras's utilities: ``set_random_seed`` (one call that makes a script reproducible) and
``to_categorical`` (one-hot labels).

>>> import numpy as np
>>> set_random_seed(0); a = np.random.random_sample(2)
>>> set_random_seed(0); b = np.random.random_sample(2)
>>> bool((a == b).all())
True
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import numpy as np

from ..random import manual_seed
from .backend import clear_session

__all__ = ["PyDataset", "clear_session", "plot_model", "set_random_seed", "to_categorical"]


class PyDataset:
    """Keras's ``PyDataset``: a dataset of whole **batches**. Subclass it, define
    ``__len__`` (the number of batches) and ``__getitem__(idx)`` returning the batch
    ``(x, y)``; ``fit`` calls ``on_epoch_end()`` after every epoch and, with
    ``shuffle=True``, visits the batches in a new order each epoch. ``workers``,
    ``use_multiprocessing`` and ``max_queue_size`` are accepted; batches are loaded in the
    main process. A batch may be ``(x, y, sample_weight)``.

    >>> import numpy as np
    >>> class Halves(PyDataset):
    ...     def __len__(self):
    ...         return 2
    ...     def __getitem__(self, idx):
    ...         return np.full((3, 2), idx), np.zeros(3)
    >>> [batch[0].shape for batch in Halves()]
    [(3, 2), (3, 2)]
    """

    yields_sample_weights = True  # a third item of a batch weighs its samples, as in Keras

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10) -> None:
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (the number of "
                                  "batches)")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(idx), "
                                  "returning the batch (x, y)")

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def on_epoch_end(self) -> None:
        """Called after every epoch of ``fit`` (e.g. to reshuffle the samples)."""


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, numpy's global generator (``np.random.*``, which seed
    scripts use to make their data) and tinygrad_edu's generator (weight initialisation,
    shuffling, dropout), as ``keras.utils.set_random_seed`` does."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    random.seed(int(seed))
    np.random.seed(int(seed))
    manual_seed(int(seed))


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot rows (float32) for integer class labels ``x``; ``num_classes`` defaults to
    ``max(x) + 1``. A trailing axis of size 1 is dropped first, as Keras does.

    >>> to_categorical([0, 2, 1]).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    labels = np.asarray(x)
    if labels.dtype.kind == "f" and not (np.mod(labels, 1) == 0).all():
        raise ValueError("to_categorical: labels must be whole numbers (class indices)")
    labels = labels.astype(np.int64)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    n = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    if labels.size and (labels.min() < 0 or labels.max() >= n):
        raise ValueError(f"to_categorical: labels must be in [0, {n}), got {labels.min()} .. "
                         f"{labels.max()}")
    return np.eye(n, dtype=np.float32)[labels]


def _layer_edges(model: Any) -> list[tuple[Any, Any]]:
    """``(from layer, to layer)`` pairs of a model's layer graph (a Sequential: a chain)."""
    nodes = getattr(model, "_nodes", None)
    if nodes is not None:
        return [(t.node.layer, node.layer) for node in nodes for t in node.inbound]
    chain = list(getattr(model, "_stack", model.layers))
    return list(itertools.pairwise(chain))


def plot_model(model: Any, to_file: str | None = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = True,
               rankdir: str = "TB", **kwargs: Any) -> Any:
    """Keras's ``plot_model``: the model's layers as boxes (name and class, with
    ``show_shapes`` the output shape, with ``show_dtype`` the dtype) and arrows for the
    data flowing between them, drawn with graphviz; saved to ``to_file`` (the format from
    its extension; rendering needs graphviz's ``dot`` program, ``.dot`` does not) and
    returned as a ``tinygrad_edu.viz.GraphDrawing``. Keras's other options (``expand_nested``,
    ``dpi``, ...) are accepted and ignored."""
    import graphviz

    from ..viz.render import GraphDrawing

    if not getattr(model, "built", False):
        raise ValueError("plot_model: the model is not built yet; call it on data or give it "
                         "an input shape first")
    graph = graphviz.Digraph(name=model.name, graph_attr={"rankdir": rankdir},
                             node_attr={"shape": "record"})
    for layer in getattr(model, "_stack", None) or model.layers:
        label = (f"{layer.name} ({type(layer).__name__})" if show_layer_names
                 else type(layer).__name__)
        if show_shapes:
            label += f" | output: {model._layer_shape(layer)}"
        if show_dtype:
            label += f" | {layer.dtype}"
        graph.node(str(id(layer)), label)
    for source, target in _layer_edges(model):
        graph.edge(str(id(source)), str(id(target)))
    drawing = GraphDrawing(graph)
    if to_file:
        drawing.save(to_file)
    return drawing
