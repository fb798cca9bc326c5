"""Training diagnostics: catch the mistakes of the seed threads while ``fit`` runs.

Cheap by design: every check works on numbers ``fit`` has anyway (the loss of each batch,
the epoch's loss) or on samples (a few batches' gradient norms and first-layer
pre-activations per epoch, the data once, ReLU outputs until every unit has fired once in
the epoch); nothing runs per op.

- divergence: the loss is NaN/inf, or it rose more than ``diverge_factor`` (1000x) above its
  best and above where it started and stayed there (smoothed over the last ~10 batches, for
  ``diverge_checks`` batches in a row: Adam with lr=1e6); raises ``TrainingDiverged`` at
  epoch e, step s, before the update, suggesting a lower learning rate, scaled data and
  ``detect_anomaly()`` to name the op. The other epoch checks are skipped while the loss
  runs away (its zero gradients are a symptom, not the cause).
- data scale: inputs or targets far from unit scale (seed 001: up to 500 and 250 000),
  with the magnitudes; suggests StandardScaler / MinMaxScaler / LogScaler.
- too few samples: fewer training samples than trainable parameters and than 10 per input
  feature (seed 000 trained on one), unless the inputs are a complete truth table such as
  XOR's four cases.
- saturation: a tanh/sigmoid on the raw inputs with 1% of them where it is flat, or a first
  tanh/sigmoid layer with most pre-activations beyond ±3 at the start (the initial weights), or
  at an epoch end while the loss is still at least half that of a constant prediction
  (seed 002 fed raw x up to 4π): suggests scaling the inputs.
- rising loss: the loss rose several epochs in a row: a sign error (gradient ascent,
  seed 000) or a learning rate too high.
- vanishing gradients: a weight matrix's gradient is a tiny fraction of its weights' while
  other layers' weights learn (biases are compared only in models without weight
  matrices); names the parameter.
- no gradient: every parameter's gradient was exactly 0 in an epoch's sampled batches (a
  dead ReLU output: seed 001's net predicts 0.0 while the loss sits at 7e9); checked
  every epoch.
- dead ReLUs: units of a ReLU layer output 0 for every sample of an epoch; checked every
  epoch, one warning per layer when it dies.
- shape mismatch: predictions ``(n, 1)`` against targets that broadcast to ``(n, n)``.

Each warning is a :class:`TrainingWarning`, is issued once per ``fit`` and kind (dead ReLUs:
and layer) and says what to try. ``fit(..., diagnostics=False)`` turns them all off;
``diagnostics=Diagnostics(...)`` tunes the thresholds.

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

from ..autograd.grad_mode import flags, no_grad
from ..tensor import Tensor
from . import data_checks
from .errors import TrainingDiverged, TrainingWarning, user_stacklevel
from .watches import LossTrend, ReluWatch, SaturationWatch, first_squash


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
    - ``diverge_factor``, ``diverge_checks``: raise ``TrainingDiverged`` when the smoothed
      loss stayed more than ``diverge_factor`` times above its best (and above its start)
      for ``diverge_checks`` batches in a row.
    - ``saturated_share``: warn when more than this share of the first tanh/sigmoid layer's
      pre-activations lie beyond ±3.
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
                 grad_samples: int = 4, diverge_factor: float = 1e3,
                 diverge_checks: int = 3, saturated_share: float = 0.5) -> None:
        self.scale_limit = scale_limit
        self.tiny_limit = tiny_limit
        self.diverge_factor = diverge_factor
        self.diverge_checks = diverge_checks
        self.saturated_share = saturated_share
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
        self._relus: list[ReluWatch] = []
        self._saturation: SaturationWatch | None = None
        self._grad_ratio: dict[str, list[float]] = {}
        self._weight_names: set[str] = set()
        self._losses: list[float] = []
        self._last_finite: float | None = None
        self._trend = LossTrend(diverge_factor, diverge_checks, 1)
        self._constant_loss: float | None = None
        self._x_max: float | None = None
        self._zero_predictions: bool | None = None
        self._input_squash: tuple[str, str] | None = None

    # ----------------------------------------------------------------- lifecycle
    def begin(self, model: Any, optimizer: Any, steps: int) -> None:
        """Bind to a model for one ``fit`` call and hook its ReLU layers and its first
        tanh/sigmoid layer."""
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
        self._saturation = None
        self._trend = LossTrend(self.diverge_factor, self.diverge_checks, self.steps)
        self._constant_loss = None
        self._x_max = None
        self._zero_predictions = None
        self._input_squash = None
        named = getattr(model, "named_modules", None)
        if named is None:
            return
        modules = dict(named())
        for name, mod in modules.items():
            if type(mod).__name__ == "ReLU" and hasattr(mod, "register_forward_hook"):
                watch = ReluWatch(name or type(mod).__name__)
                self._hooks.append(mod.register_forward_hook(watch))
                self._relus.append(watch)
        squash = first_squash(model)
        if squash is not None:
            name, kind, on_inputs = squash
            mod = modules.get(name, model if name == kind else None)
            if on_inputs:
                self._input_squash = (name, kind)
            elif mod is not None and hasattr(mod, "register_forward_hook"):
                self._saturation = SaturationWatch(name, kind)
                self._hooks.append(mod.register_forward_hook(self._saturation))

    def record(self, on: bool) -> None:
        """Watch ReLU outputs (training batches) or not (validation)."""
        for w in self._relus:
            w.recording = on
        if not on and self._saturation is not None:
            self._saturation.recording = False

    def begin_batch(self, epoch: int, step: int) -> None:
        """Before a training batch's forward pass: the first layer's pre-activations are
        recorded on the sampled batches (and the very first one)."""
        if self._saturation is not None:
            self._saturation.recording = step in self._sample_steps or (
                step == 0 and not self._losses)

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

    def check_data(self, x: np.ndarray, y: np.ndarray | None, where: str,
                   n_samples: int | None) -> None:
        """The checks of the training data, once per ``fit``: its scale, fewer samples than
        parameters (``n_samples`` known), a tanh/sigmoid squashing the raw inputs."""
        self.check_scale(x, y, where)
        if x.dtype.kind in "fiu" and x.size:
            head = np.abs(np.asarray(x[:20000], dtype=np.float64))
            head = head[np.isfinite(head)]
            self._x_max = float(head.max()) if head.size else None
        params = getattr(self.model, "parameters", None)
        if n_samples is not None and params is not None:
            count = sum(p.data.size for p in params() if p.requires_grad)
            features = int(np.prod(x.shape[1:])) if x.ndim > 1 else 1
            message = data_checks.few_samples(n_samples, count,
                                              x if n_samples == len(x) else None, features)
            if message:
                self.warn("few_samples", message)
        squash = self._input_squash
        if squash is not None and x.dtype.kind in "fiu":
            message = data_checks.input_squash(x, *squash)
            if message:
                self.warn("input_squash", message)

    def measure_constant(self, loss_fn: Any, pred: Any, y: np.ndarray | None,
                         target: Any) -> None:
        """The loss of the best constant prediction (the targets' mean) on this batch: the
        mark a saturated net fails to beat. Only for float targets shaped like the
        predictions (regression)."""
        t = target.data if isinstance(target, Tensor) else None
        p = pred.data if isinstance(pred, Tensor) else None
        if t is None or p is None or t.dtype.kind != "f" or t.shape != p.shape:
            return
        mean = (np.asarray(y, dtype=np.float64).mean(axis=0) if y is not None
                and np.shape(y)[1:] == t.shape[1:] else t.mean(axis=0))
        constant = Tensor._wrap(np.broadcast_to(mean, t.shape).astype(p.dtype))
        try:
            with no_grad():
                value = loss_fn(constant, target)
            self._constant_loss = float(value.data.reshape(()))
        except (ValueError, TypeError, RuntimeError, AttributeError):  # no baseline then
            self._constant_loss = None

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
        """Raise ``TrainingDiverged`` on a NaN/inf loss, or one that ran away by orders of
        magnitude (before the update is applied)."""
        if math.isfinite(value):
            self._last_finite = value
            if self._trend.update(value, epoch, step):
                self._raise_runaway(value, f"at epoch {epoch + 1} of {epochs}, step {step + 1} "
                                    f"of {self.steps}", epoch, step)
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

    def _raise_runaway(self, value: float, where: str, epoch: int, step: int | None) -> None:
        t = self._trend
        best_epoch, best_step = t.best_at
        lr = _lr(self.optimizer)
        lr_hint = (f"a much smaller learning rate (lr={lr:g} now: try {lr / 100:g} or less; "
                   "Adam and RMSprop take steps of about lr in size, so lr ~ 1e-3 suits "
                   "them)" if lr is not None else "a much smaller learning rate")
        raise TrainingDiverged(
            f"training diverged: the loss ran away by orders of magnitude: {_fmt(t.current)} "
            f"(smoothed over the recent batches; this batch {_fmt(value)}) {where}, against "
            f"{_fmt(t.best)} at its best (epoch {best_epoch + 1}, step {best_step + 1}) and "
            f"{_fmt(t.start)} at the start, above {self.diverge_factor:g}x its best for "
            f"{t.run} batches in a row. The weights have been thrown far from any minimum "
            "(a dead ReLU or a saturated unit after such a step is a symptom, not the "
            "cause); fit stopped before this update.\n"
            f"Try: {lr_hint}; inputs and targets scaled to unit size (StandardScaler / "
            "MinMaxScaler); gradient clipping (nn.utils.clip_grad_norm_ in a training step).",
            epoch=epoch, step=step, loss=value,
        )

    def wants_gradients(self, step: int) -> bool:
        return step in self._sample_steps

    def sample_gradients(self, model: Any, pred: Any = None) -> None:
        """Record ``|grad| / |weight|`` of every parameter (called after backward) and
        whether the batch's predictions were all exactly 0."""
        if isinstance(pred, Tensor):
            zero = not pred.data.any()
            self._zero_predictions = zero if self._zero_predictions is None else (
                self._zero_predictions and zero)
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
        """Run the epoch-level checks: rising loss, vanishing gradients, dead ReLUs,
        saturation. While the loss runs away (not yet long enough to raise) only the
        rising loss is checked: zero gradients and dead units are its symptoms."""
        if math.isfinite(loss):
            self._losses.append(loss)
            self._check_rising(epoch)
        if self._trend.rising:
            self._grad_ratio, self._zero_predictions = {}, None
            for w in self._relus:
                w.reset()
            if self._saturation is not None:
                self._saturation.reset()
            return
        self._check_gradients(epoch, loss)
        self._check_relus(epoch)
        self._check_saturation(epoch, loss)

    def finish(self) -> None:
        """After the last epoch: raise ``TrainingDiverged`` if the loss was running away at
        the last batch (too late to stay there for ``diverge_checks`` batches)."""
        if self._trend.rising:
            self._raise_runaway(self._last_finite if self._last_finite is not None
                                else math.nan, "at the end of training", len(self._losses) - 1,
                                None)

    def end(self) -> None:
        """Remove the hooks."""
        for h in self._hooks:
            h.remove()
        self._hooks = []

    def check_saturation_start(self) -> None:
        """After the first batch's forward pass: the first tanh/sigmoid layer saturated
        by the initial weights (a batch of at least 16 samples)."""
        watch = self._saturation
        if watch is None:
            return
        share, saturated, units = watch.shares()
        enough = watch.samples >= 16
        watch.reset()
        if enough and units and share > self.saturated_share:
            self.warn("saturation", data_checks.saturation(
                share, saturated, units, watch.name, watch.kind, self._x_max,
                "at the start of training (the initial weights, the first batch)"))

    def _check_saturation(self, epoch: int, loss: float) -> None:
        """At an epoch end: saturated, and the loss no better than half that of a constant
        prediction (a net that learned sharp on/off units on purpose beats that)."""
        watch = self._saturation
        if watch is None:
            return
        share, saturated, units = watch.shares()
        watch.reset()
        base = self._constant_loss
        if not units or share <= self.saturated_share or base is None or base <= 0 \
                or not (math.isfinite(loss) and loss >= 0.5 * base):
            return
        when = (f"in epoch {epoch + 1}, and the loss ({_fmt(loss)}) is still {loss / base:.2g}x "
                f"that of always predicting the targets' mean ({_fmt(base)})")
        self.warn("saturation", data_checks.saturation(share, saturated, units, watch.name,
                                                       watch.kind, self._x_max, when))

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
        zero_predictions = self._zero_predictions
        self._grad_ratio, self._zero_predictions = {}, None
        # Vanishing is a property of layers: compare weight matrices and kernels with each
        # other. A bias's ratio swings with its own size (an output bias near 0 has a huge
        # one), so biases are compared only in a model that has no weight matrices at all.
        weights = {n: r for n, r in ratios.items() if n in self._weight_names}
        if not ratios or not (math.isfinite(loss) and loss > 0):
            return
        if max((weights or ratios).values()) == 0.0:
            dead_output = (" Every prediction in the sampled batches was exactly 0.0: the "
                           "output unit is a dead ReLU (its input is negative for every "
                           "sample), so the net outputs 0 whatever the weights."
                           if zero_predictions else "")
            which = ("parameter's gradient was exactly 0 in the sampled batches"
                     if max(ratios.values()) == 0.0 else "weight matrix's gradient was exactly "
                     "0 in the sampled batches (only biases still learn)")
            self.warn("no_gradient", (
                f"no gradient reaches the weights in epoch {epoch + 1}: every {which}, so "
                f"training has stopped while the loss sits at {_fmt(loss)}.{dead_output} "
                "Typical causes: every unit of a ReLU layer is dead (an output layer with ReLU "
                "that outputs 0), a detach() or numpy round trip that cuts the graph, or "
                "saturated activations.\n"
                "Try: a linear output layer for regression, a smaller learning rate, inputs "
                "and targets scaled to unit size, LeakyReLU."
            ))
            return
        ratios = weights or ratios
        best_name = max(ratios, key=ratios.get)
        best = ratios[best_name]
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
        """Every epoch: a warning for each ReLU layer the first time it is dead."""
        for w in self._relus:
            frac, n = w.dead()
            w.reset()
            key = f"dead_relu:{w.name}"
            if not n or frac < self.dead_fraction or key in self._emitted:
                continue
            self.warn(key, (
                f"dead ReLUs in epoch {epoch + 1}: '{w.name}' ({round(frac * n)} of {n} units) "
                "output 0 for every training sample. A dead unit passes no gradient, so it "
                "never recovers; a dead output ReLU stops all learning.\nTry: a smaller "
                "learning rate, inputs scaled to unit size, He initialisation "
                "(nn.init.kaiming_normal_) or a small positive bias, LeakyReLU, and a linear "
                "(not ReLU) output layer for regression."
            ))
