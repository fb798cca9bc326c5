"""Keras's optimizers, with Keras's arguments, defaults and update formulas.

They differ from PyTorch's (``tinygrad_edu.optim``) in ways that change results, so they
are implemented here, formula for formula with Keras 3:

- ``Adam``: ``epsilon=1e-7`` (PyTorch: 1e-8), and it is added to ``sqrt(v)`` *before* the
  bias correction: ``p -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``.
  PyTorch adds it after (``m_hat / (sqrt(v_hat) + eps)``), which is Keras's rule with a
  time-varying ``eps / sqrt(1 - b2^t)`` (10-30x larger in the first steps).
- ``SGD``: ``lr=0.01``; momentum as ``m = momentum * m - lr * g; p += m`` (PyTorch keeps
  ``m = momentum * m + g; p -= lr * m``: the same until the learning rate changes).
- ``RMSprop``: ``rho=0.9``, ``eps=1e-7`` inside the square root (PyTorch: alpha=0.99,
  eps=1e-8 outside).
- ``Adagrad``: ``initial_accumulator_value=0.1``, ``eps=1e-7`` inside the square root.
- ``Adadelta``: ``learning_rate=0.001`` (PyTorch: 1.0), ``rho=0.95``, ``eps=1e-7``.

A Keras optimizer is created without the model's weights (as in Keras, ``compile`` comes
before the weights may exist); ``fit`` binds it with ``build(weights)``, which returns the
``tinygrad_edu.optim.Optimizer`` that does the updates (so ``ReduceLROnPlateau`` and
``state_dict()`` work as for any optimizer). ``learning_rate`` reads and sets the bound
optimizer's rate. ``learning_rate`` may be a schedule from :mod:`.schedules`
(``keras.optimizers.schedules.ExponentialDecay(...)``): each update then uses
``schedule(iterations)``, counted in steps, as in Keras.

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> w = tg.tensor(np.array([1.0, -2.0]), requires_grad=True)
>>> opt = Adam(learning_rate=0.1)
>>> bound = opt.build([w])
>>> (w * w).sum().backward(); bound.step()
>>> [round(v, 6) for v in w.tolist()], opt.iterations       # a first step moves by ~lr
([0.9, -1.9], 1)
>>> get("adagrad"), get("adamax")
Traceback (most recent call last):
...
ValueError: unknown optimizer 'adamax'; known: adadelta, adagrad, adam, adamw, rmsprop, sgd
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import optim
from ..autograd.versions import bump_many
from ..tensor import Tensor
from . import schedules
from .backend import class_from_config
from .schedules import LearningRateSchedule


class _Bound(optim.Optimizer):
    """The ``tinygrad_edu.optim.Optimizer`` a Keras optimizer runs as once it knows its
    weights: one parameter group whose ``lr`` and ``iterations`` the Keras object reads."""

    def __init__(self, params: Any, rule: Optimizer) -> None:
        self.rule = rule
        super().__init__(params, {"lr": rule._initial_lr, "iterations": 0})

    def _validate_group(self, group: dict[str, Any]) -> None:
        if not group["lr"] >= 0:
            raise ValueError(f"Invalid learning rate: {group['lr']}")

    @property
    def lr_schedule(self) -> LearningRateSchedule | None:
        """The Keras schedule that sets ``lr`` before every update (or ``None``)."""
        return self.rule._schedule

    def _update_group(self, group: dict[str, Any]) -> None:
        self.update_pairs(group, [(p, p.grad.data) for p in group["params"]
                                  if p.grad is not None])

    def update_pairs(self, group: dict[str, Any], pairs: list[tuple[Tensor, np.ndarray]]
                     ) -> None:
        """One update of the weights in ``pairs`` with their gradients (numpy arrays)."""
        rule = self.rule
        if not pairs:
            return
        grads = rule._clip([g for _, g in pairs])
        if rule._schedule is not None:  # the rate of the step about to be taken
            group["lr"] = float(rule._schedule(group["iterations"]))
        lr = float(group["lr"])
        group["iterations"] += 1
        t = group["iterations"]
        wd = rule.weight_decay
        changed: list[np.ndarray] = []  # bumped together: one epoch per step, as in optim
        try:
            for (p, _), g in zip(pairs, grads):
                data = p.data
                changed.append(data)
                st = self.state.get(p)
                if st is None:
                    st = self.state[p] = rule._new_state(data)
                if wd:
                    data -= data * (wd * lr)
                rule._update(data, g.astype(data.dtype, copy=False), st, lr, t)
        finally:
            bump_many(changed)


class Optimizer:
    """Base class: ``learning_rate``, ``weight_decay`` (decoupled: ``p -= p * wd * lr``
    before the update), ``clipnorm`` (each gradient's norm), ``clipvalue`` (each entry),
    ``global_clipnorm`` (the norm of all gradients together); ``build(weights)`` binds it.
    Subclasses define ``_new_state(array)`` and ``_update(param, grad, state, lr, step)``,
    which update the numpy array ``param`` in place."""

    _config_keys: tuple[str, ...] = ()

    def __init__(self, learning_rate: float = 0.001, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        if "lr" in kwargs:  # Keras 2's spelling, still common in old scripts
            warnings.warn("the `lr` argument is deprecated; use `learning_rate`",
                          DeprecationWarning, stacklevel=3)
            learning_rate = kwargs.pop("lr")
        decay = kwargs.pop("decay", None)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword arguments "
                            f"{sorted(kwargs)}")
        if decay:  # Keras 2's lr / (1 + decay * iterations), now a schedule
            if isinstance(learning_rate, LearningRateSchedule):
                raise ValueError(f"{type(self).__name__}: pass decay or a learning-rate "
                                 "schedule, not both")
            warnings.warn("the `decay` argument is deprecated (Keras 2); it is Keras 2's "
                          "lr / (1 + decay * iterations), which is keras.optimizers.schedules."
                          f"InverseTimeDecay({learning_rate}, decay_steps=1, "
                          f"decay_rate={decay}): pass that as learning_rate",
                          DeprecationWarning, stacklevel=3)
            learning_rate = schedules.InverseTimeDecay(float(learning_rate), 1, float(decay))
        if sum(v is not None for v in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("only one of clipnorm, clipvalue and global_clipnorm can be set")
        for arg, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                           ("global_clipnorm", global_clipnorm)):
            if value is not None and (not isinstance(value, numbers.Real)
                                      or isinstance(value, bool) or not value > 0):
                raise ValueError(f"{type(self).__name__}: {arg} must be a positive number, "
                                 f"got {value!r}")
        self._schedule = learning_rate if isinstance(learning_rate, LearningRateSchedule) \
            else None
        if self._schedule is not None:
            learning_rate = self._schedule(0)
        elif callable(learning_rate):
            raise TypeError(f"{type(self).__name__}: learning_rate must be a number or a "
                            "keras.optimizers.schedules.LearningRateSchedule (subclass it and "
                            "define __call__(self, step)), got a plain function")
        lr = float(learning_rate)
        if not lr >= 0 or math.isinf(lr):
            raise ValueError(f"{type(self).__name__}: learning_rate must be a non-negative "
                             f"number, got {learning_rate!r}")
        self._initial_lr = lr
        self.weight_decay = float(weight_decay) if weight_decay else None
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.name = name or _snake(type(self).__name__)
        self._bound: _Bound | None = None

    # ----------------------------------------------------------------- binding
    def build(self, var_list: Iterable[Tensor]) -> optim.Optimizer:
        """Bind to the weights to train and return the optimizer that updates them (the
        same one on later calls with the same weights)."""
        params = list(var_list)
        if self._bound is not None:
            if [id(p) for p in self._bound.param_groups[0]["params"]] == [id(p) for p in params]:
                return self._bound
            raise ValueError(f"this {type(self).__name__} is already bound to other weights "
                             "(another model's, or this model's before layers were added); "
                             "use one optimizer per model, or compile() again with a new one")
        self._bound = _Bound(params, self)
        return self._bound

    @property
    def built(self) -> bool:
        return self._bound is not None

    def apply(self, grads: Iterable[Any], trainable_variables: Iterable[Tensor] | None = None
              ) -> None:
        """Keras 3's ``optimizer.apply(grads, variables)``: one update of ``variables``
        with ``grads`` (Tensors or arrays, e.g. ``[v.value.grad for v in weights]`` after
        ``loss.backward()`` in a ``train_step`` of your own). A ``None`` gradient leaves
        its variable as it is. The optimizer binds to the variables on first use (within
        ``fit``: to the model's weights)."""
        grads = list(grads)
        if trainable_variables is None:
            if self._bound is None:
                raise ValueError("optimizer.apply(grads): pass the variables too, the first "
                                 "time: optimizer.apply(grads, model.trainable_weights)")
            variables = list(self._bound.param_groups[0]["params"])
        else:
            variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"optimizer.apply: {len(grads)} gradients for {len(variables)} "
                             "variables; give one gradient per variable")
        bound = self._bound if self._bound is not None else self.build(variables)
        known = {id(p) for p in bound.param_groups[0]["params"]}
        strangers = [getattr(v, "path", tuple(v.shape)) for v in variables if id(v) not in known]
        if strangers:
            raise ValueError(f"optimizer.apply: the variables {strangers} are not among the "
                             "weights this optimizer updates (another model's?)")
        pairs = [(v, np.asarray(g.data if isinstance(g, Tensor) else g))
                 for g, v in zip(grads, variables) if g is not None]
        bound.update_pairs(bound.param_groups[0], pairs)

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Tensor]]) -> None:
        """Keras's ``apply_gradients(zip(grads, variables))``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    @property
    def learning_rate(self) -> float:
        """The current learning rate (``ReduceLROnPlateau`` changes it during ``fit``); with
        a schedule, the rate of the next update, ``schedule(iterations)``."""
        if self._schedule is not None:
            return float(self._schedule(self.iterations))
        if self._bound is not None:
            return float(self._bound.param_groups[0]["lr"])
        return self._initial_lr

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        if self._schedule is not None:
            raise TypeError(f"this {type(self).__name__} was created with a learning-rate "
                            f"schedule ({type(self._schedule).__name__}), so its learning "
                            "rate is not settable (as in Keras); create the optimizer with a "
                            "number instead")
        if self._bound is not None:
            self._bound.param_groups[0]["lr"] = float(value)
        else:
            self._initial_lr = float(value)

    @property
    def iterations(self) -> int:
        """How many updates have been applied."""
        return int(self._bound.param_groups[0]["iterations"]) if self._bound is not None else 0

    # ----------------------------------------------------------------- the update
    def _clip(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        if self.clipvalue is not None:
            c = float(self.clipvalue)
            return [np.clip(g, -c, c) for g in grads]
        if self.clipnorm is not None:
            c = float(self.clipnorm)
            out = []
            for g in grads:
                n = float(np.sqrt(np.vdot(g, g)))
                out.append(g * (c / n) if n > c else g)
            return out
        if self.global_clipnorm is not None:
            c = float(self.global_clipnorm)
            n = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
            return [g * (c / n) for g in grads] if n > c else grads
        return grads

    def _new_state(self, param: np.ndarray) -> dict[str, Any]:
        return {}

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], lr: float,
                step: int) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    # ----------------------------------------------------------------- configs
    def get_config(self) -> dict[str, Any]:
        """The optimizer's arguments (JSON-able), as ``from_config`` takes them."""
        lr: Any = (schedules.serialize(self._schedule) if self._schedule is not None
                   else self.learning_rate)
        config = {"name": self.name, "learning_rate": lr,
                  "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                  "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm}
        config.update({k: getattr(self, k) for k in self._config_keys})
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._config_keys)
        lr = repr(self._schedule) if self._schedule is not None else f"{self.learning_rate:g}"
        return f"{type(self).__name__}(learning_rate={lr}" + (
            f", {args})" if args else ")")


def _snake(name: str) -> str:
    from .backend import snake_case

    return snake_case(name)


class SGD(Optimizer):
    """Gradient descent, with optional momentum (Keras's form) and Nesterov momentum.

    ``m = momentum * m - lr * g``; ``p += m`` (``p += momentum * m - lr * g`` with
    ``nesterov``); without momentum ``p -= lr * g``. Default ``learning_rate=0.01``.
    """

    _config_keys = ("momentum", "nesterov")

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1], got {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _new_state(self, param: np.ndarray) -> dict[str, Any]:
        return {"momentum": np.zeros_like(param)} if self.momentum else {}

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], lr: float,
                step: int) -> None:
        if not self.momentum:
            param -= grad * lr
            return
        m = state["momentum"]
        m *= self.momentum
        m -= grad * lr
        if self.nesterov:
            param += m * self.momentum - grad * lr
        else:
            param += m


class Adam(Optimizer):
    """Adam with Keras's defaults (``learning_rate=0.001, beta_1=0.9, beta_2=0.999,
    epsilon=1e-7``) and Keras's placement of ``epsilon``:

    ``m += (g - m)(1 - b1)``, ``v += (g² - v)(1 - b2)``,
    ``p -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)``
    (``amsgrad`` uses the running maximum of ``v``).
    """

    _config_keys = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        for what, b in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= b < 1:
                raise ValueError(f"{type(self).__name__}: {what} must be in [0, 1), got {b}")
        if not epsilon >= 0:
            raise ValueError(f"{type(self).__name__}: epsilon must be >= 0, got {epsilon}")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon, self.amsgrad = float(epsilon), bool(amsgrad)

    def _new_state(self, param: np.ndarray) -> dict[str, Any]:
        st = {"m": np.zeros_like(param), "v": np.zeros_like(param)}
        if self.amsgrad:
            st["v_hat"] = np.zeros_like(param)
        return st

    def _constants(self, lr: float, step: int, dtype: np.dtype) -> tuple[np.ndarray, ...]:
        """This step's constants as 0-d arrays of the weights' dtype (numpy combines those
        with small arrays ~1.6x faster than Python floats), computed once per step."""
        key = (lr, step, dtype)
        if self.__dict__.get("_const_key") != key:
            b1, b2 = self.beta_1, self.beta_2
            alpha = lr * math.sqrt(1 - b2**step) / (1 - b1**step)
            self._const_key = key
            self._const = tuple(np.array(c, dtype=dtype)
                                for c in (1 - b1, 1 - b2, self.epsilon, alpha))
        return self._const

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], lr: float,
                step: int) -> None:
        one_m_b1, one_m_b2, eps, alpha = self._constants(lr, step, param.dtype)
        m, v = state["m"], state["v"]
        t = grad - m
        t *= one_m_b1
        m += t                      # m += (g - m) * (1 - beta_1)
        t = grad * grad
        t -= v
        t *= one_m_b2
        v += t                      # v += (g**2 - v) * (1 - beta_2)
        if self.amsgrad:
            v_hat = state["v_hat"]
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        denom = np.sqrt(v)
        denom += eps
        update = m * alpha
        update /= denom
        param -= update             # p -= m * alpha / (sqrt(v) + epsilon)


class AdamW(Adam):
    """Adam with decoupled weight decay, Keras's default ``weight_decay=0.004``
    (``p -= p * weight_decay * lr`` before each Adam update)."""

    def __init__(self, learning_rate: float = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                         weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    """RMSprop with Keras's defaults (``learning_rate=0.001, rho=0.9, momentum=0,
    epsilon=1e-7, centered=False``): ``v = rho v + (1 - rho) g²``,
    ``p -= lr * g / sqrt(v + epsilon)`` (``centered`` subtracts the squared running mean of
    ``g`` inside the root; ``momentum`` accumulates the increments)."""

    _config_keys = ("rho", "momentum", "epsilon", "centered")

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum = float(rho), float(momentum)
        self.epsilon, self.centered = float(epsilon), bool(centered)

    def _new_state(self, param: np.ndarray) -> dict[str, Any]:
        st = {"velocity": np.zeros_like(param)}
        if self.momentum > 0:
            st["momentum"] = np.zeros_like(param)
        if self.centered:
            st["average_gradient"] = np.zeros_like(param)
        return st

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], lr: float,
                step: int) -> None:
        rho = self.rho
        v = state["velocity"]
        v *= rho
        v += (1 - rho) * (grad * grad)
        if self.centered:
            avg = state["average_gradient"]
            avg *= rho
            avg += (1 - rho) * grad
            denom = v - avg * avg + self.epsilon
        else:
            denom = v + self.epsilon
        increment = (lr * grad) / np.sqrt(denom)
        if self.momentum > 0:
            mom = state["momentum"]
            mom *= self.momentum
            mom += increment
            param -= mom
        else:
            param -= increment


class Adagrad(Optimizer):
    """Adagrad with Keras's defaults (``learning_rate=0.001,
    initial_accumulator_value=0.1, epsilon=1e-7``): ``a += g²``,
    ``p -= lr * g / sqrt(a + epsilon)``."""

    _config_keys = ("initial_accumulator_value", "epsilon")

    def __init__(self, learning_rate: float = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def _new_state(self, param: np.ndarray) -> dict[str, Any]:
        return {"accumulator": np.full_like(param, self.initial_accumulator_value)}

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], lr: float,
                step: int) -> None:
        acc = state["accumulator"]
        acc += grad * grad
        param -= (lr * grad) / np.sqrt(acc + self.epsilon)


class Adadelta(Optimizer):
    """Adadelta with Keras's defaults (``learning_rate=0.001, rho=0.95, epsilon=1e-7``):
    ``a = rho a + (1 - rho) g²``, ``d = -sqrt(s + eps) / sqrt(a + eps) * g``,
    ``s = rho s + (1 - rho) d²``, ``p += lr * d`` (Keras 2's scripts pass
    ``learning_rate=1.0``, the original paper's step)."""

    _config_keys = ("rho", "epsilon")

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.95, epsilon: float = 1e-7,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def _new_state(self, param: np.ndarray) -> dict[str, Any]:
        return {"accumulated_grad": np.zeros_like(param),
                "accumulated_delta_var": np.zeros_like(param)}

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], lr: float,
                step: int) -> None:
        rho, eps = self.rho, self.epsilon
        acc_g, acc_d = state["accumulated_grad"], state["accumulated_delta_var"]
        acc_g *= rho
        acc_g += (1 - rho) * (grad * grad)
        delta = -np.sqrt(acc_d + eps) / np.sqrt(acc_g + eps) * grad
        acc_d *= rho
        acc_d += (1 - rho) * (delta * delta)
        param += lr * delta


_BY_NAME: dict[str, type[Optimizer]] = {
    "sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad,
    "adadelta": Adadelta,
}
_CLASSES = {cls.__name__: cls for cls in _BY_NAME.values()}


def get(identifier: Any) -> Optimizer | optim.Optimizer:
    """An optimizer from a name (``'adam'``, ``'Adam'``), a config dict
    (``{'class_name': 'Adam', 'config': {...}}``), a Keras optimizer, or a
    ``tinygrad_edu.optim`` optimizer (already bound to its parameters, used as it is).

    >>> get("adam"), get("SGD").learning_rate
    (Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=False), 0.01)
    """
    if isinstance(identifier, Optimizer | optim.Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"unknown optimizer {identifier!r}; known: "
                             f"{', '.join(sorted(_BY_NAME))}")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, dict):
        cls = class_from_config(identifier, _CLASSES, "optimizer")
        return cls.from_config(dict(identifier.get("config", {})))
    raise TypeError(
        f"an optimizer is a name ({', '.join(sorted(_BY_NAME))}), a keras.optimizers "
        f"instance or a tinygrad_edu.optim instance, got {type(identifier).__name__}"
    )


def serialize(optimizer: Any) -> dict[str, Any] | None:
    """``{'class_name': ..., 'config': ...}`` for a Keras optimizer; ``None`` for a
    ``tinygrad_edu.optim`` one (its configuration is not saved with a model).

    >>> serialize(SGD(momentum=0.9))["config"]["momentum"]
    0.9
    """
    if isinstance(optimizer, Optimizer) and type(optimizer).__name__ in _CLASSES:
        return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
    return None


__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "get",
           "schedules", "serialize"]


def __getattr__(name: str) -> Any:
    from .backend import missing_name

    raise missing_name("keras.optimizers", name, __all__)
