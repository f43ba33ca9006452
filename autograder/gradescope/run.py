"""What Gradescope's `run_autograder` does: grade one submission into results.json.

    python -m autograder gradescope-run [--root /autograder] [--sandbox auto|bwrap|unprivileged]

The assignment is the one given, else the only one the zip holds (see `export`), else the one
the notebook's name or metadata names. The notebook graded is the one in ROOT/submission named
like the assignment, else the only one;
ROOT/results/results.json gets the grader's results (Gradescope's schema), and nothing else is
built: Gradescope shows that document's HTML outputs (see `report.results_json`), no page.

Sandbox policy. `auto` uses bwrap when it works. Gradescope's containers often cannot create user
namespaces; then, and only as root, grading falls back to the `unprivileged` mode: no namespaces
(so no network or file system isolation), but the student's code runs as a uid of its own that
no other process uses (`sandbox.student_uid`), in a home of its own, in a memory and pids cgroup
where the host allows one; every process of that uid is killed when grading ends (a double-forked
daemon too). The grader's own package (hidden tests, oracles, reference data) is made readable
by root only, and the results folder writable by root only (the image holds no solutions at
all): the runner imports a copy of only what the bwrap sandbox would show
(`sandbox.student_packages`), and grading is refused if the student's uid could still read the
grader. The results' output and extra_data say so. Without bwrap and without root, it refuses to
grade.
"""

import html
import os
from pathlib import Path

from autograder import assignments, discover, grade, report, sandbox, submission
from autograder.gradescope import MODES

DEFAULT_ROOT = Path("/autograder")
GRADER = Path(sandbox.__file__).resolve().parent  # the autograder package
STUDENT = "submission"
WARNING = (
    "WARNING: GRADED WITHOUT THE BWRAP SANDBOX ({reason}). The submission ran unisolated as a "
    "user of its own, with the grader's files and reference data readable by root only."
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
            f"{reason}; the fallback runs student code as a user of its own, which needs root"
        )
    return sandbox.UNPRIVILEGED, WARNING.format(reason=reason)


def protect(results_dir, grader=GRADER):
    """Make the assignments' folders (reference data) and the grader's package readable, and the
    results folder writable, by their owner (root) only; refuse if the student's uid can still
    read the grader."""
    for assignment in assignments.all_assignments():
        assignment.folder.chmod(0o700)
        assignment.references_path.chmod(0o600)
    grader.chmod(0o700)
    results_dir.mkdir(parents=True, exist_ok=True)
    results_dir.chmod(0o755)
    probe = grader / "assignment.py"
    if sandbox.readable_by_student(probe):
        raise sandbox.SandboxUnavailable(f"the student's user could read {probe}")


def choose_assignment(notebook, name=None):
    """The Assignment to grade `notebook` as (see the module's docstring)."""
    if name:
        return assignments.get(name)
    if len(assignments.names()) == 1:
        return assignments.get(assignments.names()[0])
    named = assignments.of_notebook(path=notebook) if notebook else None
    if named is None and notebook is not None:
        try:
            named = assignments.of_notebook(submission.read_notebook(notebook))
        except submission.SubmissionError:
            named = None
    if named is None:
        raise assignments.UnknownAssignment(
            f"cannot tell the assignment of the submission; choose from "
            f"{', '.join(assignments.names())} with --assignment"
        )
    return assignments.get(named)


def grade_submission(root=DEFAULT_ROOT, requested="auto", limits=None, log=print, assignment=None):
    """Grade ROOT/submission into ROOT/results/results.json; returns the results document."""
    root = Path(root)
    results_dir = root / "results"
    mode, warning = choose_sandbox(requested)
    if warning:
        log(warning)
        protect(results_dir)
    notebook, problem = discover.pick_notebook(root / "submission")
    spec = choose_assignment(notebook, assignment)
    if notebook is not None and notebook.name != spec.notebook:
        named, _ = discover.pick_notebook(root / "submission", spec.notebook)
        notebook = named or notebook
    found = discover.Found(STUDENT, notebook, problem)
    task = grade.prepare(found, spec)
    document, _ = grade.grade_task(task, mode, limits, feedback=False)
    document["extra_data"]["sandbox"] = mode
    if warning:  # the output is HTML (report.results_json)
        document["output"] = f"{html.escape(warning)}\n{document['output']}"
    results_dir.mkdir(parents=True, exist_ok=True)
    staging = results_dir / ".results.json.tmp"
    staging.write_text(report.dump_json(document))
    os.replace(staging, results_dir / "results.json")
    return document
