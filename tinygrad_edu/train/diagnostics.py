"""Training diagnostics: catch the mistakes of the seed threads while ``fit`` runs.

Cheap by design: every check works on numbers ``fit`` has anyway (the loss of each batch,
the epoch's loss) or on samples (a few batches' gradient norms per epoch, the data once,
ReLU outputs until every unit has fired once in the epoch); nothing runs per op.

- divergence: the loss is NaN/inf at epoch e, step s; raises ``TrainingDiverged``
  suggesting a lower learning rate, scaled data and ``detect_anomaly()`` to name the op.
- data scale: inputs or targets far from unit scale (seed 001: up to 500 and 250 000),
  with the magnitudes; suggests StandardScaler / MinMaxScaler / LogScaler.
- rising loss: the loss rose several epochs in a row: a sign error (gradient ascent,
  seed 000) or a learning rate too high.
- vanishing gradients: a weight matrix's gradient is a tiny fraction of its weights' while
  other layers' weights learn (biases are compared only in models without weight
  matrices); names the parameter.
- dead ReLUs: units of an ``nn.ReLU`` layer output 0 for every sample of an epoch; names
  the layer.
- shape mismatch: predictions ``(n, 1)`` against targets that broadcast to ``(n, n)``.

Each warning is a :class:`TrainingWarning`, is issued once per ``fit`` and says what to try.
``fit(..., diagnostics=False)`` turns them all off; ``diagnostics=Diagnostics(...)`` tunes
the thresholds.

>>> d = Diagnostics(scale_limit=100.0)
>>> import numpy as np, warnings
>>> with warnings.catch_warnings(record=True) as w:
...     warnings.simplefilter("always")
...     d.check_scale(np.array([[3.0, 499.0]]), np.array([[1497.0]]), "")
>>> msg = str(w[0].message)
>>> "inputs reach |x| = 499" in msg, "targets reach |y| = 1497" in msg, "StandardScaler" in msg
(True, True, True)
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np

from ..autograd.grad_mode import flags
from ..tensor import Tensor
from .errors import TrainingDiverged, TrainingWarning, user_stacklevel


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _lr(optimizer: Any) -> float | None:
    groups = getattr(optimizer, "param_groups", None)
    try:
        return float(groups[0]["lr"])
    except (TypeError, KeyError, IndexError, ValueError):
        return None


class Diagnostics:
    """The checks ``fit`` runs (see the module docstring). Thresholds:

    - ``scale_limit``: warn when |inputs| or |targets| exceed it; ``tiny_limit``: warn when
      all of them stay below it (but are not all zero).
    - ``rising_epochs``: warn when the loss rose this many epochs in a row, by a factor of
      at least ``rising_factor`` and by at least ``rising_share`` of the range of losses seen
      so far (so a small bump near a minimum is not flagged).
    - ``vanishing_ratio``: warn when a parameter's ``|grad| / |weight|`` stays below this
      fraction of the best-fed parameter's, for a whole epoch (exact zeros included).
    - ``dead_fraction``: warn when at least this fraction of an ``nn.ReLU`` layer's units
      output 0 for every sample of an epoch.
    - ``grad_samples``: how many batches per epoch have their gradient norms measured.
    """

    def __init__(self, scale_limit: float = 100.0, tiny_limit: float = 1e-3,
                 rising_epochs: int = 3, rising_factor: float = 1.05,
                 rising_share: float = 0.25,
                 vanishing_ratio: float = 1e-4, dead_fraction: float = 0.5,
                 grad_samples: int = 4) -> None:
        self.scale_limit = scale_limit
        self.tiny_limit = tiny_limit
        self.rising_epochs = rising_epochs
        self.rising_factor = rising_factor
        self.rising_share = rising_share
        self.vanishing_ratio = vanishing_ratio
        self.dead_fraction = dead_fraction
        self.grad_samples = grad_samples
        self.model: Any = None
        self.optimizer: Any = None
        self._emitted: set[str] = set()
        self._hooks: list[Any] = []
        self._relus: list[_ReluWatch] = []
        self._grad_ratio: dict[str, list[float]] = {}
        self._weight_names: set[str] = set()
        self._losses: list[float] = []
        self._last_finite: float | None = None

    # ----------------------------------------------------------------- lifecycle
    def begin(self, model: Any, optimizer: Any, steps: int) -> None:
        """Bind to a model for one ``fit`` call and hook its ReLU layers."""
        self.model, self.optimizer = model, optimizer
        self.steps = max(int(steps), 1)
        every = max(self.steps // max(self.grad_samples, 1), 1)
        self._sample_steps = {s for s in range(every - 1, self.steps, every)} | {self.steps - 1}
        self._emitted = set()
        self._losses = []
        self._last_finite = None
        self._grad_ratio = {}
        self._weight_names = set()
        self._relus = []
        named = getattr(model, "named_modules", None)
        if named is None:
            return
        for name, mod in named():
            if type(mod).__name__ == "ReLU" and hasattr(mod, "register_forward_hook"):
                watch = _ReluWatch(name or type(mod).__name__)
                self._hooks.append(mod.register_forward_hook(watch))
                self._relus.append(watch)

    def end(self) -> None:
        """Remove the hooks."""
        for h in self._hooks:
            h.remove()
        self._hooks = []

    def record(self, on: bool) -> None:
        """Watch ReLU outputs (training batches) or not (validation)."""
        for w in self._relus:
            w.recording = on

    def warn(self, key: str, message: str) -> None:
        """Issue a ``TrainingWarning`` once per ``fit`` and kind (``key``)."""
        if key in self._emitted:
            return
        self._emitted.add(key)
        warnings.warn(message, TrainingWarning, stacklevel=user_stacklevel())

    # ----------------------------------------------------------------- data
    def check_scale(self, x: np.ndarray | None, y: np.ndarray | None, where: str) -> None:
        """Warn when inputs or (float) targets are far from unit scale."""
        parts, big = [], False
        for label, sym, arr in (("inputs", "x", x), ("targets", "y", y)):
            if arr is None or arr.size == 0 or arr.dtype.kind not in "fiu":
                continue
            a = np.asarray(arr[:20000], dtype=np.float64)
            a = a[np.isfinite(a)]
            if a.size == 0:
                continue
            top = float(np.abs(a).max())
            if top > self.scale_limit:
                big = True
            elif not 0 < top < self.tiny_limit:
                continue
            parts.append(f"{label} reach |{sym}| = {_fmt(top)} (mean {_fmt(a.mean())}, std "
                         f"{_fmt(a.std())})")
        if not parts:
            return
        size = "far from" if big else "far below"
        self.warn("scale", (
            f"data {size} unit scale: {', '.join(parts)}{where}.\n"
            + ("Values this large make the first losses and gradients huge: the loss starts "
               "orders of magnitude above 1, plain SGD diverges and Adam, whose steps are "
               "about lr in size, needs a very long time to cover the distance (seed 001: "
               "integers up to 500, products up to 250 000, loss stuck near 7e9).\n"
               if big else
               "Values this small make the gradients of the first layer tiny.\n")
            + "Try: scale inputs and targets to unit size, fitted on the training data: "
            "x = StandardScaler().fit_transform(x) (or MinMaxScaler()), likewise for y, and "
            "inverse_transform the predictions (tinygrad_edu.data). For products and powers "
            "learn in log space (LogScaler): log(a*b) = log a + log b is easy for a linear "
            "layer."
        ))

    def check_shapes(self, pred: Any, target: Any) -> None:
        """Warn when predictions and float targets would broadcast in the loss."""
        p, t = getattr(pred, "shape", None), getattr(target, "shape", None)
        if p is None or t is None or p == t or getattr(target, "dtype", None) is None:
            return
        if np.dtype(target.dtype).kind != "f":
            return
        try:
            b = np.broadcast_shapes(p, t)
        except ValueError:
            return
        if b != p:
            self.warn("shapes", (
                f"predictions of shape {p} and targets of shape {t} broadcast to {b} in the "
                "loss: every prediction is compared with every target, so the loss is not what "
                "you mean. Reshape the targets to the predictions' shape (y.reshape(-1, 1))."
            ))

    # ----------------------------------------------------------------- per batch
    def check_loss(self, value: float, epoch: int, step: int, epochs: int,
                   batch: tuple | None = None) -> None:
        """Raise ``TrainingDiverged`` on a NaN/inf loss (before the update is applied)."""
        if math.isfinite(value):
            self._last_finite = value
            return
        last = ("no finite loss yet" if self._last_finite is None
                else f"the last finite loss was {_fmt(self._last_finite)}")
        lr = _lr(self.optimizer)
        bad_data = ""
        if batch is not None:
            for label, arr in zip(("inputs", "targets"), batch):
                a = arr.data if isinstance(arr, Tensor) else np.asarray(arr)
                if a.dtype.kind in "fc" and not np.isfinite(a).all():
                    bad_data += f" The batch's {label} contain NaN/inf: clean the data first."
        lr_hint = (f"a smaller learning rate (lr={lr:g} now: try {lr / 10:g})" if lr is not None
                   else "a smaller learning rate")
        anomaly = ("" if flags.anomaly else
                   " Rerun inside `with tinygrad_edu.detect_anomaly():` to make the op that "
                   "first produces NaN/inf raise and name itself.")
        raise TrainingDiverged(
            f"training diverged: the loss is {value} at epoch {epoch + 1} of {epochs}, step "
            f"{step + 1} of {self.steps} ({last}). fit stopped before this update, so the "
            f"weights are those of the step before.{bad_data}\nTry: {lr_hint}; inputs and "
            "targets scaled to unit size (StandardScaler / MinMaxScaler, or LogScaler for "
            f"products).{anomaly}",
            epoch=epoch, step=step, loss=value,
        )

    def wants_gradients(self, step: int) -> bool:
        return step in self._sample_steps

    def sample_gradients(self, model: Any) -> None:
        """Record ``|grad| / |weight|`` of every parameter (called after backward)."""
        named = getattr(model, "named_parameters", None)
        pairs = named() if named is not None else (
            (f"parameter {i}", p) for i, p in enumerate(model.parameters()))
        for name, p in pairs:
            g = p.grad
            if g is None or not p.requires_grad:
                continue
            gd, wd = g.data, p.data
            gn = float(np.sqrt(np.vdot(gd, gd).real)) if gd.size else 0.0
            wn = float(np.sqrt(np.vdot(wd, wd).real)) if wd.size else 0.0
            # weights near zero (a zero-initialised bias, Keras's default, or one that
            # converges to 0) have no scale to compare with: floor the norm at an RMS of
            # 1e-3, else such a parameter looks "best-fed" and flags all others as vanishing
            floor = 1e-3 * math.sqrt(wd.size) if wd.size else 1e-12
            self._grad_ratio.setdefault(name, []).append(gn / max(wn, floor))
            if wd.ndim >= 2:
                self._weight_names.add(name)

    # ----------------------------------------------------------------- per epoch
    def end_epoch(self, epoch: int, loss: float) -> None:
        """Run the epoch-level checks: rising loss, vanishing gradients, dead ReLUs."""
        if math.isfinite(loss):
            self._losses.append(loss)
            self._check_rising(epoch)
        self._check_gradients(epoch, loss)
        self._check_relus(epoch)

    def _check_rising(self, epoch: int) -> None:
        k = self.rising_epochs
        window = self._losses[-(k + 1):]
        if len(window) < k + 1:
            return
        rising = all(b > a for a, b in itertools.pairwise(window))
        if not (rising and window[-1] > window[0] * self.rising_factor):
            return
        # small bumps near a minimum (Adam near zero loss) are not worth a warning: the rise
        # must undo a good part of the progress made so far
        spread = max(self._losses) - min(self._losses)
        if window[-1] - window[0] < self.rising_share * spread:
            return
        start = len(self._losses) - k - 1
        when = "from the first epoch" if start == 0 else f"since epoch {start + 1}"
        lr = _lr(self.optimizer)
        lr_text = f" (lr={lr:g} now)" if lr is not None else ""
        self.warn("rising", (
            f"the training loss rose {k} epochs in a row {when}: "
            f"{' -> '.join(_fmt(v) for v in window)} (epoch {epoch + 1}).\n"
            "A loss that grows from the start usually means the update climbs the gradient "
            "instead of descending it: a sign error such as err = target - out followed by "
            "w -= lr * err * ... (seed 000), or p += lr * grad in a hand-written step. "
            f"Otherwise the learning rate is too high{lr_text}.\n"
            "Try: check a hand-written update or backward against autograd "
            "(tinygrad_edu.gradcheck), and a 10x smaller learning rate."
        ))

    def _check_gradients(self, epoch: int, loss: float) -> None:
        ratios = {name: max(v) for name, v in self._grad_ratio.items() if v}
        self._grad_ratio = {}
        # Vanishing is a property of layers: compare weight matrices and kernels with each
        # other. A bias's ratio swings with its own size (an output bias near 0 has a huge
        # one), so biases are compared only in a model that has no weight matrices at all.
        weights = {n: r for n, r in ratios.items() if n in self._weight_names}
        ratios = weights or ratios
        if not ratios or not (math.isfinite(loss) and loss > 0):
            return
        best_name = max(ratios, key=ratios.get)
        best = ratios[best_name]
        if best == 0.0:
            self.warn("vanishing", (
                f"no parameter received a nonzero gradient in epoch {epoch + 1}: the loss "
                f"({_fmt(loss)}) does not depend on the weights any more. Typical causes: every "
                "unit of a ReLU layer is dead (an output layer with ReLU that outputs 0), a "
                "detach() or numpy round trip that cuts the graph, or saturated activations.\n"
                "Try: a linear output layer for regression, a smaller learning rate, scaled "
                "inputs, LeakyReLU."
            ))
            return
        weak = {n: r for n, r in ratios.items() if r <= self.vanishing_ratio * best}
        if not weak:
            return
        listed = ", ".join(f"'{n}' ({r:.1e})" for n, r in list(weak.items())[:8])
        self.warn("vanishing", (
            f"vanishing gradients in epoch {epoch + 1}: |grad| / |weight| of {listed} stayed "
            f"below {self.vanishing_ratio:g} of that of '{best_name}' ({best:.1e}); those "
            "parameters barely learn (a ratio of exactly 0: no gradient at all).\n"
            "Try: ReLU/LeakyReLU instead of saturating sigmoid/tanh in hidden layers, He or "
            "Xavier initialisation (tinygrad_edu.nn.init), inputs scaled to unit size, fewer "
            "layers or normalisation layers; for exact zeros look for dead ReLUs or a "
            "detach() that cuts the graph."
        ))

    def _check_relus(self, epoch: int) -> None:
        dead = []
        for w in self._relus:
            frac, n = w.dead()
            if n and frac >= self.dead_fraction:
                dead.append(f"'{w.name}' ({round(frac * n)} of {n} units)")
            w.reset()
        if dead:
            self.warn("dead_relu", (
                f"dead ReLUs in epoch {epoch + 1}: {', '.join(dead)} output 0 for every "
                "training sample. A dead unit passes no gradient, so it never recovers; a dead "
                "output ReLU stops all learning.\nTry: a smaller learning rate, inputs scaled to "
                "unit size, He initialisation (nn.init.kaiming_normal_) or a small positive "
                "bias, LeakyReLU, and a linear (not ReLU) output layer for regression."
            ))


class _ReluWatch:
    """A forward hook: which units of a ReLU layer were positive at least once this epoch.
    Once every unit has fired it does nothing for the rest of the epoch."""

    __slots__ = ("alive", "done", "name", "recording")

    def __init__(self, name: str) -> None:
        self.name = name
        self.recording = True
        self.reset()

    def reset(self) -> None:
        self.alive: np.ndarray | None = None
        self.done = False

    def __call__(self, module: Any, inputs: Any, output: Any) -> None:
        if self.done or not self.recording:
            return
        out = output.data if isinstance(output, Tensor) else None
        if out is None or out.ndim < 2:
            return
        axes = (0,) if out.ndim == 2 else (0, *range(2, out.ndim))  # units: features/channels
        fired = (out > 0).any(axis=axes)
        if self.alive is None or self.alive.shape != fired.shape:
            self.alive = fired
        else:
            self.alive |= fired
        self.done = bool(self.alive.all())

    def dead(self) -> tuple[float, int]:
        if self.alive is None:
            return 0.0, 0
        return 1.0 - float(self.alive.mean()), int(self.alive.size)
