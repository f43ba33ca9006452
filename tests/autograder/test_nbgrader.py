"""The repository as an nbgrader course: the source link, feedback placement, and the round trip
generate → release → fetch → submit → collect → our grader (and its gradebook: nbgrader export)
→ release_feedback → fetch_feedback
with the real nbgrader commands, in a temporary course folder with a temporary exchange.
"""

import concurrent.futures
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
from autograder import assignments, grade, nbgrader_course, paths, sandbox
from autograder.assignments.optimizers_core.spec import ASSIGNMENT
from autograder.submission import fingerprint

COURSE_ID = "optimizers-core"
EVERY_ASSIGNMENT = pytest.mark.parametrize(
    "assignment", assignments.all_assignments(), ids=lambda a: a.name
)


@EVERY_ASSIGNMENT
def test_source_is_a_committed_relative_link_to_the_solution_notebook(assignment):
    """source/<assignment>/<notebook> → ../../solutions/<notebook>, in git as a link?"""
    source = nbgrader_course.source_link(assignment)
    assert source == Path("source", assignment.name, assignment.notebook)
    link = paths.ROOT / source
    assert link.is_symlink() and not Path(os.readlink(link)).is_absolute()
    assert link.resolve() == assignment.solution_notebook.resolve()
    listed = subprocess.run(
        ["git", "ls-files", "-s", str(source)],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
    ).stdout
    if listed:  # in a git checkout (not in an unpacked copy): committed as a link
        assert listed.startswith("120000 ")


def submitted(course, student, files=("timestamp.txt", "submission_secret.txt")):
    folder = course / "submitted" / student / ASSIGNMENT.name
    folder.mkdir(parents=True)
    (folder / ASSIGNMENT.notebook).write_text("{}")
    for name in files:
        (folder / name).write_text(f"{name} of {student}")
    return folder


def graded(out, student, html="<p>feedback</p>", notebook=None):
    """A graded student's feedback page; with `notebook`, results.json records its SHA-256."""
    folder = grade.student_dir(out, student)
    folder.mkdir(parents=True)
    (folder / grade.FEEDBACK).write_text(f"{html} {student}")
    if notebook is not None:
        extra = {"student": student, "max_score": 1, grade.SUBMISSION_SHA256: fingerprint(notebook)}
        document = {"score": 1, "tests": [], "extra_data": extra}
        (folder / grade.RESULTS).write_text(json.dumps(document))
    return folder / grade.FEEDBACK


def test_feedback_goes_where_release_feedback_takes_it(tmp_path):
    """feedback/<student>/<assignment>/<notebook>.html with timestamp and secret; skips said?"""
    course, out = tmp_path / "course", tmp_path / "out" / ASSIGNMENT.name  # as `grade` writes
    submitted(course, "alice")
    graded(out, "alice")
    submitted(course, "bob", files=("timestamp.txt",))  # copied by hand: no secret
    graded(out, "bob")
    submitted(course, "carol")  # not graded
    submitted(course, "dave")
    old = graded(out, "dave")
    os.utime(old, (1_000_000_000, 1_000_000_000))  # graded before this collection (no SHA-256)
    erin = submitted(course, "erin") / ASSIGNMENT.notebook
    os.utime(graded(out, "erin", notebook=erin), (1_000_000_000, 1_000_000_000))
    fay = submitted(course, "fay") / ASSIGNMENT.notebook
    graded(out, "fay", notebook=fay)
    fay.write_text('{"cells": []}')  # collected again, another notebook

    written, skipped = nbgrader_course.place_feedback(out, course, ASSIGNMENT)

    target = course / "feedback" / "alice" / ASSIGNMENT.name
    erins = course / "feedback" / "erin" / ASSIGNMENT.name / f"{ASSIGNMENT.name}.html"
    assert written == [target / f"{ASSIGNMENT.name}.html", erins]  # erin: the notebook graded
    assert written[0].read_text() == "<p>feedback</p> alice"
    for name in nbgrader_course.SUBMISSION_FILES:
        assert (target / name).read_text() == f"{name} of alice"
    reasons = dict(skipped)
    assert set(reasons) == {"bob", "carol", "dave", "fay"}
    assert "submission_secret.txt" in reasons["bob"] and "not graded" in reasons["carol"]
    assert "grade again" in reasons["dave"] and "another notebook" in reasons["fay"]
    assert not (course / "feedback" / "bob").exists()
    assert sorted(p.name for p in target.iterdir()) == sorted(
        [f"{ASSIGNMENT.name}.html", *nbgrader_course.SUBMISSION_FILES]
    )

    code = cli.main(["nbgrader-feedback", str(out.parent), str(course)])  # OUT/<assignment>/
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


def for_each_student(work, students):
    """Run `work(student)` for each student (their own homes: independent), two at a time."""
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(work, students))  # raises what a student's work raised


@pytest.mark.slow
def test_nbgrader_round_trip_of_the_whole_course(tmp_path):
    """One nbgrader course with every lesson: students fetch and submit (alice every lesson,
    solved; bob the first and last, untouched); we collect, grade `submitted/` once (every
    lesson submitted, each into OUT/<lesson>/, nobody graded for a lesson not submitted),
    fill the gradebook that `nbgrader export` reads, and release feedback; students fetch it."""
    course_assignments = assignments.all_assignments()
    course, exchange = tmp_path / "course", tmp_path / "exchange"
    (course / "solutions").mkdir(parents=True)
    exchange.mkdir()
    shutil.copy(paths.ROOT / "nbgrader_config.py", course)
    for path in paths.SOLUTIONS_DIR.glob("*.*"):  # the notebooks and their modules
        shutil.copy(path, course / "solutions")
    shared = [f"--Exchange.root={exchange}"]
    instructor = tmp_path / "instructor-home"
    answers = {  # student -> {lesson: the notebook submitted, None: the copy fetched}
        "alice": {a.name: tmp_path / f"alice-{a.notebook}" for a in course_assignments},
        "bob": {course_assignments[0].name: None, course_assignments[-1].name: None},
    }

    for assignment in course_assignments:
        name, notebook = assignment.name, assignment.notebook
        source = nbgrader_course.source_link(assignment)
        link = course / source
        link.parent.mkdir(parents=True)
        link.symlink_to(os.readlink(paths.ROOT / source))
        nbgrader("generate_assignment", name, cwd=course, home=instructor)
        released = course / "release" / name
        assert [p.name for p in released.iterdir()] == [notebook]  # no solutions module
        student_copy = json.loads((released / notebook).read_text())
        assert "### BEGIN SOLUTION" not in json.dumps(student_copy)
        committed = json.loads(assignment.student_notebook.read_text())
        assert [c["source"] for c in student_copy["cells"]] == [
            c["source"] for c in committed["cells"]
        ]
        nbgrader("release_assignment", name, *shared, cwd=course, home=instructor)
        solved = with_graded_cells_edited(assignment.solution_notebook)  # no matter to scores
        answers["alice"][name].write_text(json.dumps(solved))

    def fetch_and_submit(student):
        home = tmp_path / student
        home.mkdir()
        course_args = ["--course", COURSE_ID, *shared]
        for name, answer in answers[student].items():
            nbgrader("fetch_assignment", name, *course_args, cwd=home, home=home)
            if answer:
                shutil.copy(answer, home / name / assignments.get(name).notebook)
            nbgrader("submit", name, *course_args, f"--student={student}", cwd=home, home=home)

    for_each_student(fetch_and_submit, answers)
    for assignment in course_assignments:
        nbgrader("collect", assignment.name, *shared, cwd=course, home=instructor)
    for student, submitted_lessons in answers.items():
        for name in submitted_lessons:
            folder = course / "submitted" / student / name
            assert {p.name for p in folder.iterdir()} == {
                assignments.get(name).notebook,
                *nbgrader_course.SUBMISSION_FILES,
            }

    out = tmp_path / "grades"
    mode = "bwrap" if sandbox.bwrap_works()[0] else "none"
    done = subprocess.run(  # no --assignment: every lesson submitted
        [sys.executable, "-m", "autograder", "grade", course / "submitted", "--out", out]
        + ["--sandbox", mode],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    scores = {}  # (student, lesson) -> score
    for assignment in course_assignments:
        rows = list(csv.DictReader((out / assignment.name / grade.GRADES).open()))
        graded_students = {s for s in answers if assignment.name in answers[s]}
        assert {row["student"] for row in rows} == graded_students
        for student in graded_students:
            results = grade.student_dir(out / assignment.name, student) / grade.RESULTS
            scores[student, assignment.name] = json.loads(results.read_text())["score"]
            expected = assignment.max_score() if answers[student][assignment.name] else 0
            assert scores[student, assignment.name] == expected, (student, assignment.name)
            line = f"nbgrader gradebook: {student}: {expected:g} / {assignment.max_score():g}"
            assert line in done.stdout

    most = sum(a.max_score() for a in course_assignments)
    sheet = {r["student"]: r for r in csv.DictReader((out / grade.COURSE_GRADES).open())}
    assert (
        f"course grades (every lesson graded in {out}): {out / grade.COURSE_GRADES}" in done.stdout
    )
    assert float(sheet["alice"]["total"]) == float(sheet["bob"]["max_total"]) == most
    assert float(sheet["bob"]["total"]) == 0 and sheet["alice"]["not_graded"] == ""
    assert [a.name for a in course_assignments if sheet["bob"][a.name] == ""] == [
        a.name for a in course_assignments if a.name not in answers["bob"]
    ]

    nbgrader("export", cwd=course, home=instructor)  # nbgrader's CSV, from its gradebook
    with (course / "grades.csv").open() as csv_file:
        exported = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(csv_file)}
    for (student, name), score in scores.items():
        row = exported[student, name]
        assert float(row["raw_score"]) == float(row["score"]) == score
        assert float(row["max_score"]) == assignments.get(name).max_score()
        stamp = course / "submitted" / student / name / "timestamp.txt"
        assert row["timestamp"] == str(parse_utc(stamp.read_text().strip()))
    not_submitted = set(exported) - set(scores)
    assert not_submitted == {
        ("bob", a.name) for a in course_assignments if a.name not in answers["bob"]
    }
    assert all(float(exported[key]["score"]) == 0 for key in not_submitted)

    assert cli.main(["nbgrader-feedback", str(out), str(course)]) == 0
    for student, name in scores:
        placed = course / "feedback" / student / name / f"{name}.html"
        feedback = grade.student_dir(out / name, student) / grade.FEEDBACK
        assert placed.read_text() == feedback.read_text()
    for assignment in course_assignments:
        nbgrader("release_feedback", assignment.name, *shared, cwd=course, home=instructor)

    def fetch_feedback(student):
        home = tmp_path / student
        for name in answers[student]:
            course_args = ["--course", COURSE_ID, *shared, f"--student={student}"]
            nbgrader("fetch_feedback", name, *course_args, cwd=home, home=home)
            (page,) = (home / name / "feedback").glob(f"*/{name}.html")
            text = page.read_text()
            score, most = scores[student, name], assignments.get(name).max_score()
            assert student in text and f"{score:g} / {most:g}" in text

    for_each_student(fetch_feedback, answers)


def with_graded_cells_edited(path):
    """The notebook at `path` with its first graded cell deleted and the next turned into code."""
    nb = json.loads(Path(path).read_text())
    graded = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
    assert len(graded) >= 2
    nb["cells"].remove(graded[0])
    graded[1]["source"] = "print('my own code in a graded cell')\nscore = 0\n"
    return nb
