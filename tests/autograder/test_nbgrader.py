"""The repository as an nbgrader course: the source link, feedback placement, and the round trip
generate → release → fetch → submit → collect → our grader (and its gradebook: nbgrader export)
→ release_feedback → fetch_feedback
with the real nbgrader commands, in a temporary course folder with a temporary exchange.
"""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.utils import parse_utc

from autograder import __main__ as cli
from autograder import cases, grade, nbgrader_course, paths, sandbox

ASSIGNMENT = nbgrader_course.ASSIGNMENT
COURSE_ID = "optimizers-core"


def test_source_is_a_committed_relative_link_to_the_solution_notebook():
    """source/<assignment>/<notebook> → ../../solutions/<notebook>, in git as a link?"""
    link = paths.ROOT / nbgrader_course.SOURCE_LINK
    assert link.is_symlink() and not Path(os.readlink(link)).is_absolute()
    assert link.resolve() == paths.SOLUTION_NOTEBOOK.resolve()
    listed = subprocess.run(
        ["git", "ls-files", "-s", str(nbgrader_course.SOURCE_LINK)],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
    ).stdout
    if listed:  # in a git checkout (not in an unpacked copy): committed as a link
        assert listed.startswith("120000 ")


def submitted(course, student, files=("timestamp.txt", "submission_secret.txt")):
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / paths.NOTEBOOK_NAME).write_text("{}")
    for name in files:
        (folder / name).write_text(f"{name} of {student}")
    return folder


def graded(out, student, html="<p>feedback</p>"):
    folder = grade.student_dir(out, student)
    folder.mkdir(parents=True)
    (folder / grade.FEEDBACK).write_text(f"{html} {student}")
    return folder / grade.FEEDBACK


def test_feedback_goes_where_release_feedback_takes_it(tmp_path):
    """feedback/<student>/<assignment>/<notebook>.html with timestamp and secret; skips said?"""
    course, out = tmp_path / "course", tmp_path / "out"
    submitted(course, "alice")
    graded(out, "alice")
    submitted(course, "bob", files=("timestamp.txt",))  # copied by hand: no secret
    graded(out, "bob")
    submitted(course, "carol")  # not graded
    submitted(course, "dave")
    old = graded(out, "dave")
    os.utime(old, (1_000_000_000, 1_000_000_000))  # graded before this collection

    written, skipped = nbgrader_course.place_feedback(out, course)

    target = course / "feedback" / "alice" / ASSIGNMENT
    assert written == [target / f"{ASSIGNMENT}.html"]
    assert written[0].read_text() == "<p>feedback</p> alice"
    for name in nbgrader_course.SUBMISSION_FILES:
        assert (target / name).read_text() == f"{name} of alice"
    reasons = dict(skipped)
    assert set(reasons) == {"bob", "carol", "dave"}
    assert "submission_secret.txt" in reasons["bob"] and "not graded" in reasons["carol"]
    assert "--force" in reasons["dave"]
    assert not (course / "feedback" / "bob").exists()
    assert sorted(p.name for p in target.iterdir()) == sorted(
        [f"{ASSIGNMENT}.html", *nbgrader_course.SUBMISSION_FILES]
    )

    code = cli.main(["nbgrader-feedback", str(out), str(course)])
    assert code == 1  # some students were skipped


# The round trip with nbgrader's own commands ---------------------------------------------------


def nbgrader(*args, cwd, home, check=True):
    """Run `nbgrader ARGS` from this venv (its alembic on PATH) with HOME=`home`."""
    env = {
        **os.environ,
        "HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "JUPYTER_CONFIG_DIR": str(Path(home) / ".jupyter"),
        "JUPYTER_DATA_DIR": str(Path(home) / ".local" / "share" / "jupyter"),
    }
    done = subprocess.run(
        [Path(sys.executable).with_name("nbgrader"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert done.returncode == 0, f"nbgrader {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_nbgrader_round_trip(tmp_path):
    """Students fetch and submit; we collect, grade and release feedback; students fetch it."""
    course, exchange = tmp_path / "course", tmp_path / "exchange"
    (course / "solutions").mkdir(parents=True)
    exchange.mkdir()
    shutil.copy(paths.ROOT / "nbgrader_config.py", course)
    for path in paths.SOLUTIONS_DIR.glob("*.*"):  # the notebook and optimizers.py
        shutil.copy(path, course / "solutions")
    link = course / nbgrader_course.SOURCE_LINK
    link.parent.mkdir(parents=True)
    link.symlink_to(os.readlink(paths.ROOT / nbgrader_course.SOURCE_LINK))
    shared = [f"--Exchange.root={exchange}"]
    instructor = tmp_path / "instructor-home"

    nbgrader("generate_assignment", ASSIGNMENT, cwd=course, home=instructor)
    released = course / "release" / ASSIGNMENT
    assert [p.name for p in released.iterdir()] == [paths.NOTEBOOK_NAME]  # no optimizers.py
    student_copy = json.loads((released / paths.NOTEBOOK_NAME).read_text())
    assert "### BEGIN SOLUTION" not in json.dumps(student_copy)
    committed = json.loads(paths.STUDENT_NOTEBOOK.read_text())
    assert [c["source"] for c in student_copy["cells"]] == [c["source"] for c in committed["cells"]]
    nbgrader("release_assignment", ASSIGNMENT, *shared, cwd=course, home=instructor)

    alice = tmp_path / "alice.ipynb"  # solved; her graded cells deleted or edited: no matter
    alice.write_text(json.dumps(with_graded_cells_edited(paths.SOLUTION_NOTEBOOK)))
    answers = {"alice": alice, "bob": None}  # bob submits it untouched
    for student, answer in answers.items():
        home = tmp_path / student
        home.mkdir()
        course_args = ["--course", COURSE_ID, *shared]
        nbgrader("fetch_assignment", ASSIGNMENT, *course_args, cwd=home, home=home)
        if answer:
            shutil.copy(answer, home / ASSIGNMENT / paths.NOTEBOOK_NAME)
        nbgrader("submit", ASSIGNMENT, *course_args, f"--student={student}", cwd=home, home=home)

    nbgrader("collect", ASSIGNMENT, *shared, cwd=course, home=instructor)
    for student in answers:
        folder = course / "submitted" / student / ASSIGNMENT
        assert {p.name for p in folder.iterdir()} == {
            paths.NOTEBOOK_NAME,
            *nbgrader_course.SUBMISSION_FILES,
        }

    out = tmp_path / "grades"
    mode = "bwrap" if sandbox.bwrap_works()[0] else "none"
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", course / "submitted", "--out", out]
        + ["--sandbox", mode],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    scores = {
        s: json.loads((grade.student_dir(out, s) / grade.RESULTS).read_text())["score"]
        for s in answers
    }
    assert scores == {"alice": cases.max_score(), "bob": 0}
    for student in answers:
        assert f"nbgrader gradebook: {student}: {scores[student]:g} / " in done.stdout

    nbgrader("export", cwd=course, home=instructor)  # nbgrader's CSV, from its gradebook
    with (course / "grades.csv").open() as csv_file:
        exported = {row["student_id"]: row for row in csv.DictReader(csv_file)}
    assert set(exported) == set(answers)
    for student, score in scores.items():
        row = exported[student]
        assert float(row["raw_score"]) == float(row["score"]) == score
        assert float(row["max_score"]) == cases.max_score()
        stamp = course / "submitted" / student / ASSIGNMENT / "timestamp.txt"
        assert row["timestamp"] == str(parse_utc(stamp.read_text().strip()))

    assert cli.main(["nbgrader-feedback", str(out), str(course)]) == 0
    for student in answers:
        placed = course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert placed.read_text() == (grade.student_dir(out, student) / grade.FEEDBACK).read_text()

    nbgrader("release_feedback", ASSIGNMENT, *shared, cwd=course, home=instructor)
    for student, score in scores.items():
        home = tmp_path / student
        nbgrader(
            "fetch_feedback",
            ASSIGNMENT,
            "--course",
            COURSE_ID,
            *shared,
            f"--student={student}",
            cwd=home,
            home=home,
        )
        (page,) = (home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")
        text = page.read_text()
        assert student in text and f"{score:g} / {cases.max_score():g}" in text


def with_graded_cells_edited(path):
    """The notebook at `path` with its first graded cell deleted and the next turned into code."""
    nb = json.loads(Path(path).read_text())
    graded = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
    assert len(graded) >= 2
    nb["cells"].remove(graded[0])
    graded[1]["source"] = "print('my own code in a graded cell')\nscore = 0\n"
    return nb
