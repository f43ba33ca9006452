"""What Gradescope's `run_autograder` does: grade one submission into results.json.

    python -m autograder gradescope-run [--root /autograder] [--sandbox auto|bwrap|unprivileged]

The notebook graded is the one in ROOT/submission named like the assignment, else the only one;
ROOT/results/results.json gets the grader's results (Gradescope's schema).

Sandbox policy. `auto` uses bwrap when it works. Gradescope's containers often cannot create user
namespaces; then, and only as root, grading falls back to the `unprivileged` mode: no namespaces
(so no network or file system isolation), but the student's code runs as user `nobody`, in a home
of its own, while the reference data is made readable by root only and the results folder
writable by root only (the image holds no solutions at all). The results' output and extra_data
say so. Without bwrap and without root, it refuses to grade.
"""

import os
import tempfile
from pathlib import Path

from autograder import discover, grade, references, report, sandbox
from autograder.gradescope import MODES

DEFAULT_ROOT = Path("/autograder")
STUDENT = "submission"
WARNING = (
    "WARNING: GRADED WITHOUT THE BWRAP SANDBOX ({reason}). The submission ran unisolated as user "
    "nobody, with the reference data readable by root only."
)


def choose_sandbox(requested="auto"):
    """(mode, warning or None): the sandbox to grade in, by the policy above."""
    if requested not in MODES:
        raise ValueError(f"sandbox must be one of {MODES}, not {requested!r}")
    if requested == sandbox.UNPRIVILEGED:
        reason = "the unprivileged mode was requested"
    else:
        works, reason = sandbox.bwrap_works()
        if works:
            return "bwrap", None
        if requested == "bwrap":
            raise sandbox.SandboxUnavailable(reason)
    if os.geteuid() != 0:
        raise sandbox.SandboxUnavailable(
            f"{reason}; the fallback runs student code as user nobody, which needs root"
        )
    return sandbox.UNPRIVILEGED, WARNING.format(reason=reason)


def protect(results_dir, hidden=references.REFERENCES.parent):
    """Make the reference data readable, and the results folder writable, by their owner only."""
    hidden.chmod(0o700)
    for path in hidden.iterdir():
        path.chmod(0o600)
    results_dir.mkdir(parents=True, exist_ok=True)
    results_dir.chmod(0o755)


def grade_submission(root=DEFAULT_ROOT, requested="auto", limits=None, log=print):
    """Grade ROOT/submission into ROOT/results/results.json; returns the results document."""
    root = Path(root)
    results_dir = root / "results"
    mode, warning = choose_sandbox(requested)
    if warning:
        log(warning)
        protect(results_dir)
    notebook, problem = discover.pick_notebook(root / "submission")
    found = discover.Found(STUDENT, notebook, problem)
    with tempfile.TemporaryDirectory(prefix="gradescope-") as out_dir:
        document = grade.grade_one(found, out_dir, mode, limits)
    document["extra_data"]["sandbox"] = mode
    if warning:
        document["output"] = f"{warning}\n\n{document['output']}"
    results_dir.mkdir(parents=True, exist_ok=True)
    staging = results_dir / ".results.json.tmp"
    staging.write_text(report.dump_json(document))
    os.replace(staging, results_dir / "results.json")
    return document
