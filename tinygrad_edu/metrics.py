"""Metrics as plain functions and streaming objects (``tinygrad_edu.metrics.rmse(pred, y)``).

The implementation lives in :mod:`tinygrad_edu.train.metrics`; this module is its public
name.

>>> from tinygrad_edu import metrics
>>> metrics.rmse([3.0, 4.0], [0.0, 0.0])      # sqrt(mean(9, 16)), not sqrt(9 + 16)
3.5355339059327378
"""

from .train.metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    MeanAbsoluteError,
    MeanMetricWrapper,
    MeanSquaredError,
    Metric,
    R2Score,
    RootMeanSquaredError,
    SparseCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    get,
    mae,
    mse,
    r2,
    rmse,
)

__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "MeanAbsoluteError",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "Metric",
    "R2Score",
    "RootMeanSquaredError",
    "SparseCategoricalAccuracy",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "get",
    "mae",
    "mse",
    "r2",
    "rmse",
]
