"""The command line only parses arguments and hands them to library functions."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import __main__ as cli
from autograder import assignments, examples, grade, sandbox
from autograder.assignments.optimizers_core.spec import ASSIGNMENT


@pytest.fixture
def subs(tmp_path, monkeypatch):
    """A class of one in the working directory: subs/ann/optimizers_core.ipynb."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    (tmp_path / "subs" / "ann" / "optimizers_core.ipynb").write_text("{}")
    return tmp_path / "subs"


def test_grade_flags_reach_grade_batch(monkeypatch, subs):
    """Do PATH, --out, --jobs, --timeout, --memory-gib, --sandbox and --force arrive intact?"""
    seen = {}
    monkeypatch.setattr(grade, "resolve", lambda mode: f"resolved-{mode}")

    def fake(path, out_dir, mode, jobs, force, limits, assignment):
        seen.update(path=path, out=out_dir, mode=mode, jobs=jobs, force=force, limits=limits)
        seen.update(assignment=assignment)
        return True

    monkeypatch.setattr(grade, "grade_batch", fake)
    code = cli.main(
        [
            "grade",
            "subs",
            "--out",
            "o",
            "--jobs",
            "3",
            "--timeout",
            "4.5",
            "--memory-gib",
            "1",
            "--sandbox",
            "none",
            "--force",
        ]
    )
    assert code == 0
    assert seen["path"] == Path("subs") and seen["out"] == Path("o") / ASSIGNMENT.name
    assert seen["jobs"] == 3 and seen["assignment"] == ASSIGNMENT  # told by the notebook's name
    assert seen["mode"] == "resolved-none" and seen["force"] is True
    assert seen["limits"].case_seconds == 4.5 and seen["limits"].memory_bytes == 2**30


def test_exit_code_says_whether_everything_was_graded(monkeypatch, subs):
    """Is the exit code 1 when a submission could not be graded, 2 without a sandbox?"""
    monkeypatch.setattr(grade, "resolve", lambda mode: "bwrap")
    monkeypatch.setattr(grade, "grade_batch", lambda *a, **k: False)
    assert cli.main(["grade", "subs", "--out", "o"]) == 1

    def unavailable(mode):
        raise sandbox.SandboxUnavailable("no bwrap")

    monkeypatch.setattr(grade, "resolve", unavailable)
    assert cli.main(["grade", "subs", "--out", "o"]) == 2


def test_an_nbgrader_course_is_graded_assignment_by_assignment(monkeypatch, tmp_path, capsys):
    """In nbgrader's submitted/ folder, is every assignment of the course that a student
    submitted graded (in course order, each into OUT/<assignment>/), and are the others named
    and left alone; does --assignment still pick one?"""
    course = assignments.all_assignments()
    first, last = course[0], course[-1]
    for student, lesson in [("ann", last), ("ann", first), ("bob", last)]:
        (tmp_path / "submitted" / student / lesson.name).mkdir(parents=True)
        (tmp_path / "submitted" / student / lesson.name / lesson.notebook).write_text("{}")
    (tmp_path / "submitted" / "bob" / "hw0").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(grade, "resolve", lambda mode: "none")
    calls = []
    monkeypatch.setattr(grade, "grade_batch", lambda *a, **k: calls.append((a, k)) or True)

    assert cli.main(["grade", "submitted", "--out", "o"]) == 0
    assert [(k["assignment"], a[1]) for a, k in calls] == [
        (first, Path("o", first.name)),
        (last, Path("o", last.name)),
    ]
    assert "left alone (not assignments of this course): hw0" in capsys.readouterr().out
    calls.clear()
    assert cli.main(["grade", "submitted", "--out", "o", "--assignment", last.name]) == 0
    assert [k["assignment"] for _, k in calls] == [last]
    monkeypatch.setattr(grade, "grade_batch", lambda *a, **k: k["assignment"] != first)
    assert cli.main(["grade", "submitted", "--out", "o"]) == 1  # one of them failed
    assert capsys.readouterr().err.count("\n") == 1


def test_out_is_required():
    with pytest.raises(SystemExit):
        cli.main(["grade", "subs"])


@pytest.mark.parametrize("assignment", assignments.all_assignments(), ids=lambda a: a.name)
def test_bundled_examples_are_current(assignment):
    """Is each assignment's examples/ what `make examples` builds from its samples (nothing
    edited by hand)?"""
    assert examples.update(assignment, check=True) == [], "run `make examples`"


# --- Foreseeable problems: one line on stderr, a non-zero exit, never a traceback ---------------


def _fake_bwrap(folder):
    """A bwrap that reports its version but cannot create namespaces."""
    exe = folder / "bwrap"
    exe.write_text(
        "#!/bin/sh\n[ \"$1\" = --version ] && echo 'bubblewrap 0.8.0' && exit 0\n"
        "echo 'bwrap: No permissions to create new namespace' >&2\nexit 1\n"
    )
    exe.chmod(0o755)
    return exe


PROBLEMS = {
    "grade: missing folder": ["grade", "{tmp}/nothing", "--out", "{tmp}/out"],
    "grade: empty folder": ["grade", "{tmp}/empty", "--out", "{tmp}/out"],
    "grade: nbgrader course of other assignments": ["grade", "{tmp}/submitted", "--out", "{tmp}/o"],
    "grade: output not writable": ["grade", "{tmp}/class", "--out", "{tmp}/file/out"],
    "grade: unknown sandbox": ["grade", "{tmp}/class", "--out", "{tmp}/out", "--sandbox", "vm"],
    "grade: jobs 0": ["grade", "{tmp}/class", "--out", "{tmp}/out", "--jobs", "0"],
    "grade: timeout not a number": ["grade", "{tmp}/class", "--out", "{tmp}/o", "--timeout", "x"],
    "grade: negative memory": ["grade", "{tmp}/class", "--out", "{tmp}/o", "--memory-gib", "-1"],
    "grade: sandbox unavailable": ["grade", "{tmp}/class", "--out", "{tmp}/out", "--bwrap"],
    "grade: dask without scheduler": [
        "grade",
        "{tmp}/class",
        "--out",
        "{tmp}/o",
        "--executor",
        "dask",
    ],
    "grade: unreadable notebook": [
        "grade",
        "{tmp}/broken.ipynb",
        "--out",
        "{tmp}/out",
        "--sandbox",
        "none",
        "--assignment",
        "optimizers_core",
    ],
    "grade: assignment cannot be told": ["grade", "{tmp}/broken.ipynb", "--out", "{tmp}/out"],
    "grade: unknown assignment": [
        "grade",
        "{tmp}/class",
        "--out",
        "{tmp}/o",
        "--assignment",
        "x/..",
    ],
    "export-gradescope: unknown assignment": [
        "export-gradescope",
        "{tmp}/zips",
        "--assignment",
        "x/..",
    ],
    "nbgrader-feedback: unknown assignment": [
        "nbgrader-feedback",
        "{tmp}/empty",
        "{tmp}/empty",
        "--assignment",
        "x/..",
    ],
    "nbgrader-feedback: nothing graded": ["nbgrader-feedback", "{tmp}/empty", "{tmp}/empty"],
    "demo: sandbox unavailable": ["demo", "--out", "{tmp}/out", "--bwrap"],
    "demo: output not writable": ["demo", "--out", "{tmp}/file/out"],
    "release: output not writable": ["release", "--out", "{tmp}/file/dist"],
    "export-gradescope: a zip, not a folder": ["export-gradescope", "{tmp}/a.zip"],
    "export-gradescope: a file, not a folder": ["export-gradescope", "{tmp}/file"],
    "export-gradescope: not writable": ["export-gradescope", "{tmp}/file/zips"],
    "gradescope-run: no submission": ["gradescope-run", "--root", "{tmp}/nothing"],
    "nbgrader-feedback: missing out": ["nbgrader-feedback", "{tmp}/nothing", "{tmp}/empty"],
    "nbgrader-feedback: missing course": ["nbgrader-feedback", "{tmp}/empty", "{tmp}/nothing"],
    "no command": [],
    "unknown command": ["frobnicate"],
}


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_a_foreseeable_problem_is_one_line(problem, tmp_path):
    """Each command answers a problem it can foresee with one line on stderr and exit code > 0."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "class" / "ann").mkdir(parents=True)
    (tmp_path / "class" / "ann" / "optimizers_core.ipynb").write_text("{}")
    (tmp_path / "file").write_text("a file, not a folder")
    (tmp_path / "broken.ipynb").write_bytes(b"\x00\xff not json")
    (tmp_path / "submitted" / "ann" / "hw0").mkdir(parents=True)  # nbgrader's, not ours
    (tmp_path / "submitted" / "ann" / "hw0" / "hw0.ipynb").write_text("{}")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    args = [a.format(tmp=tmp_path) for a in PROBLEMS[problem]]
    if "--bwrap" in args:
        args.remove("--bwrap")
        env["AUTOGRADER_BWRAP"] = str(_fake_bwrap(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert len(lines) == 1 and "error" in lines[0], done.stderr
    if "unknown assignment" in problem:
        assert done.returncode == 2 and "x/.." in lines[0]
        assert not (tmp_path / "zips").exists() and not (tmp_path / "o").exists()


@pytest.mark.slow
def test_a_notebook_of_another_lesson_is_not_graded(tmp_path):
    """Is lesson 1's notebook graded as lesson 2 one student "not graded", with a one-line
    reason, exit code 1, and nothing written outside OUT?"""
    other = assignments.get("optimizers_2d")
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    notebook = tmp_path / "subs" / "ann" / ASSIGNMENT.notebook
    notebook.write_bytes(ASSIGNMENT.student_notebook.read_bytes())
    before = sorted(p for p in tmp_path.rglob("*"))
    args = ["grade", "subs", "--out", "out", "--assignment", other.name, "--sandbox", "none"]
    done = subprocess.run(
        [sys.executable, "-m", "autograder", *args, "--jobs", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    out = tmp_path / "out"
    docs = grade.write_grades(out / other.name, other)
    reason = docs["ann"]["extra_data"]["not_graded"]
    assert f"not of {other.name}" in reason and "\n" not in reason
    assert docs["ann"]["score"] == 0 and docs["ann"]["extra_data"]["max_score"] == other.max_score()
    assert sorted(p for p in tmp_path.rglob("*") if out not in p.parents and p != out) == before
    assert notebook.read_bytes() == ASSIGNMENT.student_notebook.read_bytes()
