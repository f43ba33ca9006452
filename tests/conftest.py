"""Shared test set-up: quiet TensorFlow, a non-interactive Matplotlib, closed figures.

Matplotlib is switched to Agg in this process only (not through MPLBACKEND), so notebook kernels
started by the tests keep their inline backend and display their figures.
"""

import collections
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from tests import needs  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- Needs and skips (tests/needs.py) ------------------------------------------------------------


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "needs(name): needs 'sandbox' (bwrap works), 'cgroup' or 'browser' (node, chromium)",
    )
    needs.required()  # an unknown name in COURSE_TESTS_REQUIRE stops the run at once


def pytest_runtest_setup(item):
    for marker in item.iter_markers("needs"):
        for name in marker.args:
            why = needs.missing(name)
            if why is None:
                continue
            if name in needs.required():
                pytest.fail(f"{why} ({needs.REQUIRE_VARIABLE} requires {name!r})", pytrace=False)
            pytest.skip(why)


def pytest_terminal_summary(terminalreporter):
    """One line per reason for the tests that could not run here (pytest's own summary lists
    them per test file; this says why, once)."""
    reasons = collections.Counter()
    for report in terminalreporter.stats.get("skipped", []):
        if isinstance(report.longrepr, tuple):
            reasons[report.longrepr[2].removeprefix("Skipped: ")] += 1
    if not reasons:
        return
    terminalreporter.section("tests that could not run here (README: 'Tests that cannot run here')")
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count} skipped: {reason}")
