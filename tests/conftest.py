"""Test configuration: one BLAS thread, hypothesis profiles (fixed seeds, no deadline) and
shared fixtures."""

import os

# pytest-xdist already runs one worker per core; a BLAS or OpenMP pool per worker on top
# oversubscribes the cores, and OpenBLAS's spinning threads then make small-matrix training
# tens of times slower. Environment variables reach torch (imported later), the notebooks'
# kernels (subprocesses) and the demo's subprocess; threadpoolctl covers numpy, loaded already.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

_ONE_BLAS_THREAD = threadpool_limits(1)

import tinygrad_edu as tg  # noqa: E402

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
