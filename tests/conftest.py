import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

# In CI every system package is installed by .ci/run, so a test that skips for want of
# one (bubblewrap, chromium, postgresql) is a broken set-up, not a pass: fail it.
NO_SKIPS = os.environ.get("NNFS_NO_SKIPS") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if NO_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, but NNFS_NO_SKIPS=1 (CI installs every dependency): {reason}"
