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


_NO_SKIP = (
    "this project's tests never skip (CI must exercise everything): install what the test "
    "needs with pip install -e '.[test]' and Debian's graphviz (apt-get install graphviz)"
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A skipped test is a failed test: a missing dependency must not pass silently."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"{report.longrepr}\n{_NO_SKIP}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """A module skipped at import (pytest.importorskip) fails too."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped:
        report.outcome = "failed"
        report.longrepr = f"{report.longrepr}\n{_NO_SKIP}"
