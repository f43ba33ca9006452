"""Our scores in nbgrader's gradebook: a gradebook made by nbgrader's own SaveCells from the
source notebook (as `nbgrader generate_assignment` makes it), results documents built from the
assignment's tests, and the scores read back through nbgrader's API."""

import dataclasses
import datetime
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from nbgrader.preprocessors import SaveCells

from autograder import assignments, generate
from autograder import nbgrader_gradebook as gradebook
from autograder.assignments.optimizers_core.spec import ASSIGNMENT

ID = ASSIGNMENT.name  # nbgrader's assignment id
COURSE_ID = "a-course"
DUE = datetime.datetime(2026, 12, 1, 12, 0)


def results(student, failed=(), assignment=ASSIGNMENT):
    """A results document of `student` that fails the tests named in `failed`, passes the rest."""
    tests = [
        {"name": name, "score": 0 if name in failed else test.points, "max_score": test.points}
        for exercise in assignment.exercises
        for test in assignment.tests_for(exercise)
        for name in [assignment.shown_name(exercise, test)]
    ]
    score = sum(t["score"] for t in tests)
    return {"score": score, "tests": tests, "extra_data": {"student": student}}


def expected_subtotal(document, exercise):
    return sum(t["score"] for t in document["tests"] if t["name"].split(": ")[0] == exercise)


def saved_cells(db_url, assignment=ASSIGNMENT, notebook=None):
    """Make the gradebook as generate_assignment does: the assignment, then SaveCells."""
    notebook = assignment.solution_notebook if notebook is None else notebook
    with pytest.MonkeyPatch.context() as patch:  # nbgrader runs `alembic` for a new gradebook
        patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        with Gradebook(db_url, COURSE_ID) as gb:
            gb.update_or_create_assignment(assignment.name, duedate=DUE)
        stem = Path(assignment.notebook).stem
        resources = {
            "nbgrader": {"db_url": db_url, "assignment": assignment.name, "notebook": stem}
        }
        SaveCells().preprocess(generate.read_notebook(notebook), resources)


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """{assignment name: a gradebook of its source notebook}, each made once, when first needed
    (nbgrader takes seconds to create one)."""
    made = {}

    def template(assignment=ASSIGNMENT):
        if assignment.name not in made:
            path = tmp_path_factory.mktemp("template") / "gradebook.db"
            saved_cells(f"sqlite:///{path}", assignment)
            made[assignment.name] = path
        return made[assignment.name]

    return template


@pytest.fixture
def template(templates):
    """The gradebook of lesson 1's source notebook."""
    return templates()


def make_course(tmp_path, template, db_name="elsewhere.db"):
    """A course whose nbgrader_config.py puts its gradebook (a copy of `template`) in `db_name`."""
    course = tmp_path / "course"
    (course / "submitted").mkdir(parents=True)
    shutil.copyfile(template, tmp_path / db_name)
    db_url = f"sqlite:///{tmp_path / db_name}"
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.db_url = {db_url!r}\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
    )
    return course, db_url


def submit(course, student, timestamp="2026-12-01 11:00:00.000000 UTC", assignment=ASSIGNMENT):
    folder = course / "submitted" / student / assignment.name
    folder.mkdir(parents=True)
    (folder / assignment.notebook).write_text("{}")
    if timestamp is not None:
        (folder / "timestamp.txt").write_text(timestamp)
    return folder


def scores(db_url, student, assignment=ASSIGNMENT):
    """{exercise: the score of its graded cell} for `student`, read through nbgrader's API."""
    stem = Path(assignment.notebook).stem
    with Gradebook(db_url, COURSE_ID) as gb:
        return {
            exercise: gb.find_grade(
                gradebook.tests_cell_id(exercise), stem, assignment.name, student
            ).score
            for exercise in assignment.exercises
        }


@pytest.mark.parametrize("assignment", assignments.all_assignments(), ids=lambda a: a.name)
def test_subtotals_land_in_the_graded_cells_with_the_submission_time(
    tmp_path, templates, assignment
):
    """Does each graded cell get the student's subtotal, and the submission its timestamp.txt?"""
    course, db_url = make_course(tmp_path, templates(assignment))
    first = next(iter(assignment.exercises))
    docs = {
        "alice": results("alice", assignment=assignment),
        "bob": results(
            "bob",
            failed={assignment.shown_name(first, assignment.tests_for(first)[0])},
            assignment=assignment,
        ),
        "carol": results("carol", failed=set(assignment.all_shown_names()), assignment=assignment),
    }
    submit(course, "alice", assignment=assignment)
    submit(course, "bob", timestamp=None, assignment=assignment)
    submit(course, "carol", timestamp="2026-12-02 12:00:00 UTC", assignment=assignment)  # late
    lines = []

    assert gradebook.write_gradebook(docs, course, assignment, log=lines.append)

    for student, document in docs.items():
        assert scores(db_url, student, assignment) == {
            e: expected_subtotal(document, e) for e in assignment.exercises
        }
    assert docs["carol"]["score"] == 0 and sum(scores(db_url, "carol", assignment).values()) == 0
    with Gradebook(db_url, COURSE_ID) as gb:
        alice = gb.find_submission(assignment.name, "alice")
        bob = gb.find_submission(assignment.name, "bob")
        assert alice.timestamp == datetime.datetime(2026, 12, 1, 11, 0) and bob.timestamp is None
        assert alice.score == docs["alice"]["score"] == alice.max_score == assignment.max_score()
        assert not any(g.needs_manual_grade for nb in alice.notebooks for g in nb.grades)
        assert gb.find_submission(assignment.name, "carol").total_seconds_late == 24 * 3600
    assert [line.split(":")[1].strip() for line in lines] == ["alice", "bob", "carol"]
    assert "no timestamp.txt" in lines[1] and "late" in lines[2]
    assert not (course / "gradebook.db").exists()  # the configured db_url, not the default


def test_grading_again_replaces_scores_and_flags_manual_ones(tmp_path, template):
    """Does a regrade overwrite auto scores, keep a grader's manual score and flag it for review?"""
    course, db_url = make_course(tmp_path, template)
    submit(course, "alice")
    assert gradebook.write_gradebook({"alice": results("alice")}, course, ASSIGNMENT, log=print)
    exercise = list(ASSIGNMENT.exercises)[-1]
    with Gradebook(db_url, COURSE_ID) as gb:
        manual = gb.find_grade(gradebook.tests_cell_id(exercise), ID, ID, "alice")
        manual.manual_score = 1
        gb.db.commit()
    worse = results(
        "alice",
        failed={ASSIGNMENT.shown_name(e, ASSIGNMENT.tests_for(e)[1]) for e in ASSIGNMENT.exercises},
    )

    assert gradebook.write_gradebook({"alice": worse}, course, ASSIGNMENT, log=print)

    with Gradebook(db_url, COURSE_ID) as gb:
        (notebook,) = gb.find_submission(ID, "alice").notebooks
        for grade in notebook.grades:
            name = grade.name.removesuffix(gradebook.TESTS_CELL_SUFFIX)
            assert grade.auto_score == expected_subtotal(worse, name)
            assert grade.needs_manual_grade == (name == exercise)
        assert len(gb.find_assignment(ID).submissions) == 1


def test_the_course_late_penalty_is_applied(tmp_path, template):
    """Does the course's LateSubmissionPlugin setting (here: zero) apply to a late submission?"""
    course, db_url = make_course(tmp_path, template)
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text() + "c.LateSubmissionPlugin.penalty_method = 'zero'\n")
    submit(course, "late", timestamp="2026-12-03 00:00:00 UTC")
    submit(course, "early")
    docs = {s: results(s) for s in ("late", "early")}

    assert gradebook.write_gradebook(docs, course, ASSIGNMENT, log=print)

    with Gradebook(db_url, COURSE_ID) as gb:
        late, early = (gb.find_submission(ID, s) for s in ("late", "early"))
        assert late.late_submission_penalty == late.score > 0
        assert early.late_submission_penalty == 0 and early.score > 0


BROKEN_TIMESTAMPS = ["", "not a time", "9" * 400, "2026-13-45 99:99:99 UTC", "\x00\xff"]


def test_a_broken_timestamp_is_no_timestamp(tmp_path, template):
    """Is a garbled timestamp.txt (it comes from the student's side) recorded as no timestamp?"""
    course, db_url = make_course(tmp_path, template)
    docs = {f"s{i}": results(f"s{i}") for i in range(len(BROKEN_TIMESTAMPS))}
    for student, timestamp in zip(docs, BROKEN_TIMESTAMPS, strict=True):
        submit(course, student, timestamp=timestamp)
    assert gradebook.write_gradebook(docs, course, ASSIGNMENT, log=print)
    with Gradebook(db_url, COURSE_ID) as gb:
        assert all(gb.find_submission(ID, s).timestamp is None for s in docs)


def test_students_without_a_submission_folder_are_left_out(tmp_path, template):
    """Is a graded student who has no submitted/<student>/<assignment>/ left out?"""
    course, db_url = make_course(tmp_path, template)
    submit(course, "alice")
    docs = {"alice": results("alice"), "ghost": results("ghost")}
    assert gradebook.write_gradebook(docs, course, ASSIGNMENT, log=print)
    with Gradebook(db_url, COURSE_ID) as gb:
        assert [s.id for s in gb.students] == ["alice"]


def test_without_a_gradebook_or_its_cells_nothing_is_written_and_it_says_why(tmp_path, template):
    """No gradebook, no assignment, or stale graded cells: False, a reason, no new database?"""
    course, db_url = make_course(tmp_path, template)
    submit(course, "alice")
    docs = {"alice": results("alice")}
    lines = []

    config = course / "nbgrader_config.py"
    configured = config.read_text()
    config.write_text("c = get_config()\n")  # the default gradebook.db, which does not exist
    assert not gradebook.write_gradebook(docs, course, ASSIGNMENT, log=lines.append)
    assert "generate_assignment" in lines[-1] and not (course / "gradebook.db").exists()
    config.write_text(configured)

    another = dataclasses.replace(ASSIGNMENT, name="another")
    assert not gradebook.write_gradebook(docs, course, another, log=lines.append)
    assert "no assignment 'another'" in lines[-1]

    stale = json.loads(ASSIGNMENT.solution_notebook.read_text())
    for cell in stale["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade"):
            cell["metadata"]["nbgrader"]["points"] += 1
    (tmp_path / "stale.ipynb").write_text(json.dumps(stale))
    saved_cells(db_url, ASSIGNMENT, tmp_path / "stale.ipynb")  # generated with other points
    assert not gradebook.write_gradebook(docs, course, ASSIGNMENT, log=lines.append)
    assert "--force" in lines[-1]


def test_grades_of_a_folder_that_is_no_course_go_nowhere(tmp_path):
    """Is nothing written (and nothing failed) when the graded folder is no nbgrader course?"""
    plain = tmp_path / "c" / "submitted" / "alice"  # <student>/<notebook>: not nbgrader's
    plain.mkdir(parents=True)
    (plain / ASSIGNMENT.notebook).write_text("{}")
    assert gradebook.record_grades(tmp_path / "c" / "submitted", {}, ASSIGNMENT, log=print)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["alice", "c", ID + ".ipynb", "submitted"]
