"""Scalers: bring inputs and targets to unit scale, and back (scikit-learn's API).

A net learns badly from values far from unit scale: seed 001 feeds integers up to 500 and
asks for products up to 250 000, so the first gradients are huge and Adam's steps are far
too small for the target's scale. Fit a scaler on the *training* data, transform every
split with it, and ``inverse_transform`` the predictions.

- ``StandardScaler``: zero mean, unit variance per feature.
- ``MinMaxScaler(feature_range=(0, 1))``: each feature mapped linearly onto a range.
- ``LogScaler(offset=1.0)``: ``log(x + offset)``; a product becomes a sum, which a net
  with linear layers learns easily (seed 001's ``a * b``).

Arrays in, arrays out (float dtypes kept, integers become float64); Tensors in, Tensors out
(built from differentiable Tensor ops, so a scaler can sit inside a model).

>>> import numpy as np
>>> x = np.array([[0.0, 100.0], [2.0, 300.0]])
>>> s = StandardScaler().fit(x)
>>> s.transform(x)
array([[-1., -1.],
       [ 1.,  1.]])
>>> np.allclose(s.inverse_transform(s.transform(x)), x)
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..tensor import Tensor


class NotFittedError(ValueError, AttributeError):
    """A scaler was used before ``fit`` (as scikit-learn's ``NotFittedError``)."""


def _array(x: Any, who: str) -> np.ndarray:
    arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{who}: expected numbers, got an array of dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(f"{who}: expected an array of samples (n_samples, n_features), got a "
                         "scalar")
    return arr


def _float_out(x: Any) -> Any:
    """``x`` as a float array or float Tensor (integers: float64 array / default dtype)."""
    if isinstance(x, Tensor):
        return x if x.data.dtype.kind == "f" else x.astype(dtypes.get_default_dtype())
    arr = np.asarray(x)
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


def _const(value: np.ndarray, like: Any) -> Any:
    """A statistic in the dtype of the data it is applied to."""
    return value.astype(like.dtype, copy=False)


class _Scaler:
    """Shared machinery: fit bookkeeping, feature checks, the Tensor/array dispatch."""

    _stats: tuple[str, ...] = ()

    def _check_fitted(self, method: str) -> None:
        if getattr(self, self._stats[0], None) is None:
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet: call fit(x) (or fit_transform(x)) "
                f"on the training data before {method}()"
            )

    def _fit_array(self, x: Any) -> np.ndarray:
        arr = _array(x, f"{type(self).__name__}.fit")
        if len(arr) == 0:
            raise ValueError(f"{type(self).__name__}.fit: got no samples (shape {arr.shape})")
        arr = arr.astype(np.float64)
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(
                f"{type(self).__name__}.fit: the data has {int(bad.sum())} NaN/inf value(s); "
                "clean or impute them first"
            )
        return arr

    @property
    def n_features_in_(self) -> int:
        """The number of features seen by ``fit`` (1 for 1-D data)."""
        self._check_fitted("n_features_in_")
        return int(np.prod(self.feature_shape_, dtype=np.int64))

    @property
    def feature_shape_(self) -> tuple:
        self._check_fitted("feature_shape_")
        return getattr(self, self._stats[0]).shape

    def _check_features(self, x: Any, method: str) -> None:
        self._check_fitted(method)
        arr = _array(x, f"{type(self).__name__}.{method}")
        want = self.feature_shape_
        if arr.shape[1:] != want:
            def describe(shape: tuple) -> str:
                n = int(np.prod(shape, dtype=np.int64))
                return "1-D data (one feature)" if shape == () else (
                    f"{n} feature{'s' * (n != 1)} (per-sample shape {shape})")
            raise ValueError(
                f"{type(self).__name__}.{method}: the scaler was fitted on "
                f"{describe(want)}, but got {describe(arr.shape[1:])} in an array of shape "
                f"{arr.shape}. Use one scaler per kind of array (one for inputs, one for "
                "targets), fitted on data of the same layout."
            )

    def fit_transform(self, x: Any) -> Any:
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def fit(self, x: Any) -> _Scaler:  # pragma: no cover - overridden
        raise NotImplementedError

    def transform(self, x: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        """The fitted statistics (arrays), to ``tinygrad_edu.save`` alongside a model."""
        self._check_fitted("state_dict")
        return {k: np.array(getattr(self, k)) for k in self._stats}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore statistics saved by ``state_dict``."""
        missing = [k for k in self._stats if k not in state]
        if missing:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing {missing}")
        for k in self._stats:
            setattr(self, k, np.asarray(_array(state[k], "load_state_dict"), dtype=np.float64))

    def __repr__(self) -> str:
        fitted = getattr(self, self._stats[0], None) is not None
        return f"{type(self).__name__}({self._params()}){'' if fitted else ' (not fitted)'}"

    def _params(self) -> str:
        return ""


class StandardScaler(_Scaler):
    """Standardise each feature: ``(x - mean_) / scale_`` with the mean and standard
    deviation (``ddof=0``) of the training data. A constant feature gets ``scale_ = 1``.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(0, 500, size=(1000, 2))           # seed 001's inputs
    >>> z = StandardScaler().fit_transform(x)
    >>> bool(abs(z.mean()) < 1e-9), bool(np.allclose(z.std(axis=0), 1))
    (True, True)
    >>> StandardScaler().transform(x)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tinygrad_edu.data.scalers.NotFittedError: StandardScaler is not fitted yet: call fit(x) ...
    """

    _stats = ("mean_", "scale_", "var_")

    def __init__(self, with_mean: bool = True, with_std: bool = True) -> None:
        self.with_mean = with_mean
        self.with_std = with_std
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.var_: np.ndarray | None = None

    def _params(self) -> str:
        return f"with_mean={self.with_mean}, with_std={self.with_std}"

    def fit(self, x: Any) -> StandardScaler:
        """Learn the per-feature mean and standard deviation of ``x`` (samples on axis 0)."""
        arr = self._fit_array(x)
        mean = arr.mean(axis=0)
        var = arr.var(axis=0)
        self.var_ = var
        self.mean_ = mean if self.with_mean else np.zeros_like(mean)
        std = np.sqrt(var)
        # a (numerically) constant feature: leave it unscaled rather than divide by ~0
        std = np.where(std <= 1e-12 * np.maximum(np.abs(mean), 1.0), 1.0, std)
        self.scale_ = std if self.with_std else np.ones_like(std)
        return self

    def transform(self, x: Any) -> Any:
        """``(x - mean_) / scale_``."""
        self._check_features(x, "transform")
        x = _float_out(x)
        return (x - _const(self.mean_, x)) / _const(self.scale_, x)

    def inverse_transform(self, x: Any) -> Any:
        """``x * scale_ + mean_``: back to the original units."""
        self._check_features(x, "inverse_transform")
        x = _float_out(x)
        return x * _const(self.scale_, x) + _const(self.mean_, x)


class MinMaxScaler(_Scaler):
    """Map each feature linearly so that its training minimum and maximum land on
    ``feature_range``. A constant feature gets range 1 (it maps to ``feature_range[0]``).
    ``clip=True`` clips transformed values to the range (for data beyond the training range).

    >>> import numpy as np
    >>> s = MinMaxScaler(feature_range=(-1, 1)).fit(np.array([[0.0], [500.0]]))
    >>> s.transform(np.array([[250.0], [500.0]])).ravel().tolist()
    [0.0, 1.0]
    >>> s.inverse_transform(np.array([[-1.0]])).item()
    0.0
    """

    _stats = ("data_min_", "data_max_", "scale_", "min_")

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0), clip: bool = False) -> None:
        lo, hi = feature_range
        if not lo < hi:
            raise ValueError(
                f"MinMaxScaler: feature_range must be (min, max) with min < max, got "
                f"{tuple(feature_range)}"
            )
        self.feature_range = (float(lo), float(hi))
        self.clip = clip
        self.data_min_: np.ndarray | None = None
        self.data_max_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.min_: np.ndarray | None = None

    def _params(self) -> str:
        return f"feature_range={self.feature_range}, clip={self.clip}"

    @property
    def data_range_(self) -> np.ndarray:
        self._check_fitted("data_range_")
        return self.data_max_ - self.data_min_

    def fit(self, x: Any) -> MinMaxScaler:
        """Learn the per-feature minimum and maximum of ``x`` (samples on axis 0)."""
        arr = self._fit_array(x)
        lo, hi = self.feature_range
        self.data_min_ = arr.min(axis=0)
        self.data_max_ = arr.max(axis=0)
        rng = self.data_max_ - self.data_min_
        rng = np.where(rng == 0, 1.0, rng)
        self.scale_ = (hi - lo) / rng
        self.min_ = lo - self.data_min_ * self.scale_
        return self

    def transform(self, x: Any) -> Any:
        """``x * scale_ + min_`` (clipped to ``feature_range`` if ``clip``)."""
        self._check_features(x, "transform")
        x = _float_out(x)
        out = x * _const(self.scale_, x) + _const(self.min_, x)
        if self.clip:
            lo, hi = self.feature_range
            out = out.clamp(lo, hi) if isinstance(out, Tensor) else np.clip(out, lo, hi)
        return out

    def inverse_transform(self, x: Any) -> Any:
        """``(x - min_) / scale_``: back to the original units."""
        self._check_features(x, "inverse_transform")
        x = _float_out(x)
        return (x - _const(self.min_, x)) / _const(self.scale_, x)


class LogScaler:
    """``log(x + offset)`` and its inverse ``exp(y) - offset`` (``offset=1``: ``log1p``).

    In log space a product is a sum and a power a product, so a net built from linear
    layers can learn seed 001's ``a * b`` and ``x ** 2``. It compresses a target spanning
    0..250 000 into 0..12.4; combine with ``StandardScaler`` for unit scale. Stateless:
    ``fit`` only checks the domain, so ``transform`` works without it.

    >>> import numpy as np
    >>> s = LogScaler()
    >>> y = np.array([0.0, 9.0, 249001.0])
    >>> s.transform(y).round(3).tolist()
    [0.0, 2.303, 12.425]
    >>> np.allclose(s.inverse_transform(s.transform(y)), y)
    True
    >>> s.transform(np.array([-2.0]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: LogScaler(offset=1.0).transform: log(x + offset) needs x > -1.0, but ...
    """

    def __init__(self, offset: float = 1.0) -> None:
        self.offset = float(offset)

    def __repr__(self) -> str:
        return f"LogScaler(offset={self.offset})"

    def _check_domain(self, x: Any, method: str) -> None:
        arr = _array(x, f"LogScaler.{method}")
        bad = ~(arr + self.offset > 0)
        if bad.any():
            raise ValueError(
                f"{self!r}.{method}: log(x + offset) needs x > {-self.offset}, but the data has "
                f"values down to {float(np.nanmin(arr))} ({int(bad.sum())} of them out of range)"
                ". Use a larger offset, or StandardScaler for data of both signs."
            )

    def fit(self, x: Any) -> LogScaler:
        """Check that ``x`` is in the domain (nothing to learn)."""
        self._check_domain(x, "fit")
        return self

    def transform(self, x: Any) -> Any:
        """``log(x + offset)``."""
        self._check_domain(x, "transform")
        x = _float_out(x)
        if isinstance(x, Tensor):
            return (x + self.offset).log() if self.offset != 1 else x.log1p()
        return np.log(x + self.offset) if self.offset != 1 else np.log1p(x)

    def fit_transform(self, x: Any) -> Any:
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def inverse_transform(self, x: Any) -> Any:
        """``exp(x) - offset``."""
        _array(x, "LogScaler.inverse_transform")
        x = _float_out(x)
        if isinstance(x, Tensor):
            return x.exp() - self.offset if self.offset != 1 else x.expm1()
        return np.exp(x) - self.offset if self.offset != 1 else np.expm1(x)

    def state_dict(self) -> dict[str, float]:
        return {"offset": self.offset}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.offset = float(state["offset"])
