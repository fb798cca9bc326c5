"""Test configuration: hypothesis profiles (fixed seeds, no deadline) and shared fixtures."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import tinygrad_edu as tg

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "explore",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Every test starts with recording on, anomaly mode off and float32 as the default."""
    yield
    tg.set_default_dtype(np.float32)
    tg.set_grad_enabled(True)
    tg.set_detect_anomaly(False)
