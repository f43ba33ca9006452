"""What some tests need from the machine, checked once per run.

A test marked `@pytest.mark.needs("sandbox")` (or "cgroup", "browser") is skipped, with the
reason, where that need is not met, unless the need is listed in the environment variable
`COURSE_TESTS_REQUIRE` (comma-separated; `.ci/run` sets `sandbox,cgroup,browser`): then it
fails, so a machine that cannot prove the sandbox never passes CI. At the end of the run,
`tests/conftest.py` prints one line per reason for every skip (README: "Tests that cannot run
here").
"""

import functools
import os
import shutil
from pathlib import Path

REQUIRE_VARIABLE = "COURSE_TESTS_REQUIRE"
BROWSER_DIR = Path(__file__).resolve().parent / "browser"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


def _sandbox():
    from autograder import sandbox

    ok, why = sandbox.bwrap_works()
    return None if ok else f"the bwrap sandbox cannot run here: {why}"


def _browser():
    missing = [
        what
        for what, there in [
            ("node", shutil.which("node")),
            (f"{CHROMIUM} (Debian: apt-get install chromium)", CHROMIUM.exists()),
            (
                "tests/browser/node_modules (npm ci --prefix tests/browser)",
                (BROWSER_DIR / "node_modules" / "playwright-core").is_dir(),
            ),
        ]
        if not there
    ]
    return "the browser tests need " + ", ".join(missing) if missing else None


def _cgroup():
    from autograder import cgroup

    support = cgroup.support()
    return None if support.version else f"no cgroup for the sandbox here: {support.reason}"


CHECKS = {"sandbox": _sandbox, "browser": _browser, "cgroup": _cgroup}


@functools.cache
def missing(need):
    """Why `need` is not met on this machine, or None when it is."""
    if need not in CHECKS:
        raise ValueError(f"unknown need {need!r}; known: {', '.join(CHECKS)}")
    return CHECKS[need]()


def required():
    """The needs that must be met here (from COURSE_TESTS_REQUIRE)."""
    names = {n.strip() for n in os.environ.get(REQUIRE_VARIABLE, "").split(",") if n.strip()}
    unknown = names - set(CHECKS)
    if unknown:
        raise ValueError(f"{REQUIRE_VARIABLE}: unknown {sorted(unknown)}; known: {list(CHECKS)}")
    return names
