"""The class report in a real Chromium: does the page open and does every image it shows load?

The report is written by `class_report.write` for a small made-up class, then `check_images.mjs`
opens it (file://) in headless Chromium through playwright-core. Needs node, Debian's chromium
and `npm ci --prefix tests/browser` (see tests/needs.py).
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from autograder import class_report
from autograder.assignments.optimizers_core.spec import ASSIGNMENT
from tests.autograder.test_class_report import graded

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TIMEOUT = 120  # seconds; opening the page takes about 1 s here

pytestmark = [pytest.mark.browser, pytest.mark.needs("browser")]


def test_the_class_report_opens_with_every_image_loaded(tmp_path):
    stop = {"where": "cell 4", "limit": "time", "reason": "timed out: cell 4 took longer than 10 s"}
    docs = {
        "ann": graded("ann", ["sign", "sign"]),
        "ben": graded("ben", ["shared_state"], [stop], seconds=9.0),
        "cy": graded("cy"),
    }
    page = class_report.write(tmp_path / "out", docs, ASSIGNMENT)
    expected = page.read_text().count("<img ")
    command = ["node", str(HERE / "check_images.mjs"), "--url", page.as_uri()]
    command += ["--chromium", CHROMIUM, "--timeout", str(TIMEOUT)]
    done = subprocess.run(command, cwd=HERE, capture_output=True, text=True, timeout=TIMEOUT + 60)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["title"] == "Class report"
    assert summary["images"] == expected > 0
    assert summary["broken"] == []
