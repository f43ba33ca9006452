"""A third assignment, declared only in a test fixture (`tiny_assignment`), graded by the same
engine as the lessons: correct, buggy and hostile submissions, in the real sandbox.

Its files (guest, references, notebooks) are generated into a temporary folder by the engine's
own commands' functions; nothing outside the fixture knows it.
"""

import csv
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import assignments, build_references, generate, grade, sandbox
from autograder.samples import Kit

from .tiny_assignment import spec

pytestmark = [pytest.mark.slow, pytest.mark.needs("sandbox")]
LIMITS = sandbox.Limits(case_seconds=4, cell_seconds=8, grace_seconds=2, submission_seconds=30)
FIXTURE = Path(spec.__file__).parent


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    shutil.copy(FIXTURE / "guest.py", folder / "guest.py")
    assignment = spec.make(folder)
    assignment.solutions_dir.mkdir()
    nbformat.write(spec.solution_notebook(), str(assignment.solution_notebook))
    generate.generate(assignment)
    build_references.write(assignment)
    assignments.register(assignment)
    yield assignment
    assignments.unregister(assignment.name)


LOOP = "for g, var in zip(grads, vars):\n    "
SUBMISSIONS = {  # student -> (apply_gradients body, expected score or None)
    "correct": (LOOP + "var.assign_sub(self.learning_rate * tf.sign(g))", 4),
    "no_sign": (LOOP + "var.assign_sub(self.learning_rate * g)", 1),
    "shared": (LOOP + "vars[0].assign_sub(self.learning_rate * tf.sign(g))", None),
    "endless": ("while True:\n    pass", 0),
    "reads_references": (  # fails every test if the references can be read
        "import os\nif os.path.exists(REFERENCES) or os.path.exists(SOLUTIONS):\n"
        "    raise RuntimeError('the hidden files are visible')\n"
        "for g, var in zip(grads, vars):\n    var.assign_sub(self.learning_rate * tf.sign(g))",
        4,
    ),
    "delegates": (
        "import tensorflow as tf\nopt = tf.keras.optimizers.SGD(self.learning_rate)\n"
        "opt.apply_gradients(zip([tf.sign(g) for g in grads], vars))",
        0,
    ),
}


@pytest.fixture(scope="module")
def graded(tiny, tmp_path_factory):
    kit = Kit(tiny)
    submissions = tmp_path_factory.mktemp("submissions")
    hidden = {
        "REFERENCES": repr(str(tiny.references_path)),
        "SOLUTIONS": repr(str(tiny.solutions_module)),
    }
    for student, (body, _) in SUBMISSIONS.items():
        for name, value in hidden.items():
            body = body.replace(name, value)
        kit.notebook_builder(lambda body=body: kit.with_bodies({"sign_descent": body}))(
            submissions / student
        )
    lesson_1 = assignments.get("optimizers_core").student_notebook
    (submissions / "wrong_lesson").mkdir()
    shutil.copy(lesson_1, submissions / "wrong_lesson" / f"{tiny.name}.ipynb")
    out = tmp_path_factory.mktemp("out")
    ok = grade.grade_batch(submissions, out, "bwrap", jobs=2, limits=LIMITS, log=lambda line: None)
    with (out / grade.GRADES).open() as stream:
        rows = {row["student"]: row for row in csv.DictReader(stream)}
    return ok, out, rows


def results(out, student):
    return json.loads((grade.student_dir(out, student) / grade.RESULTS).read_text())


def test_the_fixture_assignment_is_inferred_and_graded(tiny, graded):
    """Is the batch told to be the tiny assignment by its notebooks' names, with one column per
    test of its declaration and the maximum its declaration gives?"""
    ok, out, rows = graded
    columns = list(next(iter(rows.values())))
    assert columns[3:-1] == tiny.all_shown_names()
    assert {float(r["max_score"]) for r in rows.values()} == {tiny.max_score()}
    assert not ok  # the notebook of another lesson is not graded, and says why


@pytest.mark.parametrize(
    "student", [s for s, (_, score) in SUBMISSIONS.items() if score is not None]
)
def test_each_submission_scores_as_declared(graded, student):
    """Do correct, buggy and hostile submissions get the score their code deserves?"""
    _, out, rows = graded
    assert float(rows[student]["score"]) == SUBMISSIONS[student][1], results(out, student)


def test_a_buggy_submission_gets_the_fixtures_hint(tiny, graded):
    """Does the fixture's own diagnosis reach the feedback of a plain gradient step?"""
    doc = results(graded[1], "no_sign")
    hints = {t["extra_data"]["hint"] for t in doc["tests"] if t["status"] == "failed"}
    assert "sign_missing" in hints
    assert tiny.hints["sign_missing"] in json.dumps(doc)


def test_shared_state_fails_the_several_variables_test(graded):
    """Does updating only the first variable fail the test made for several variables?"""
    doc = results(graded[1], "shared")
    status = {t["name"].split(": ", 1)[1]: t["status"] for t in doc["tests"]}
    assert status["several variables"] == "failed" and status["runs on the parabola"] == "passed"


def test_hostile_submissions_learn_nothing_and_stop_in_time(graded):
    """Does the sandbox hide the fixture's references (the guest file only is visible), and is
    an endless loop stopped with the timeout hint?"""
    _, out, rows = graded
    assert float(rows["reads_references"]["score"]) == 4, "the hidden files were visible"
    endless = results(out, "endless")
    assert any(t["extra_data"]["hint"] == "timeout" for t in endless["tests"])


def test_delegation_scores_zero_with_a_message(graded):
    """Is an exercise that hands its work to Keras' optimizer given zero, saying why?"""
    doc = results(graded[1], "delegates")
    assert all(t["status"] == "failed" for t in doc["tests"])
    assert "tf.keras.optimizers" in doc["tests"][0]["output"]


def test_another_lessons_notebook_is_not_graded(graded):
    """Is lesson 1's notebook, renamed as the tiny one, refused in one line, the batch going on?"""
    _, _, rows = graded
    reason = rows["wrong_lesson"]["not_graded"]
    assert "optimizers_core" in reason and "\n" not in reason
