"""Every assignment of the course, checked against the engine's contract (no pinned counts)."""

import json
import subprocess
import sys

import pytest

from autograder import assignments, build_references, compare
from autograder.assignment import DEFINED
from autograder.guest.runner import load_guest
from autograder.paths import ROOT
from autograder.run_submission import SubmissionRun

COURSE = assignments.all_assignments()
each = pytest.mark.parametrize("assignment", COURSE, ids=[a.name for a in COURSE])


def test_the_course_lists_its_lessons_in_order():
    """Are lessons 1 and 2 the course's first assignments, each loadable by name?"""
    assert assignments.names()[:2] == ["optimizers_core", "optimizers_2d"]
    assert [a.name for a in COURSE] == assignments.names()


@each
def test_declaration_is_consistent(assignment):
    """Unique case ids; every test of every exercise owns a case; a "defined" test first; the
    maximum is the sum of the exercises' subtotals; each shown name starts with its exercise."""
    assignment.validate()
    assert all(assignment.tests_for(e)[0].key == DEFINED for e in assignment.exercises)
    assert assignment.max_score() == sum(assignment.subtotals().values())
    names = assignment.all_shown_names()
    assert len(set(names)) == len(names)
    for exercise in assignment.exercises:
        assert all(
            assignment.shown_name(exercise, t).startswith(f"{exercise}: ")
            for t in assignment.tests_for(exercise)
        )


@each
def test_public_cases_are_few_and_hidden_ones_many(assignment):
    """Does every exercise have public cases (shown in feedback) and hidden ones?"""
    for exercise in assignment.exercises:
        mine = [c for c in assignment.cases if c.exercise == exercise]
        assert any(c.public for c in mine) and any(not c.public for c in mine), exercise


@each
def test_stored_references_are_a_fresh_build(assignment):
    """Are the stored references exactly what `build-references` makes from the solutions?"""
    assert build_references.stale(assignment) == [], "run `python -m autograder build-references`"


@each
def test_references_are_plain_json_for_every_case(assignment):
    """Is there one result per case, readable as JSON without any code?"""
    document = json.loads(assignment.references_path.read_text())
    assert set(document["cases"]) == set(assignment.case_by_id)


def correct_run(assignment):
    """The SubmissionRun of a submission whose every case gave the expected result."""
    references = assignment.references()
    results = {c.id: {"result": references[c.id], "error": None} for c in assignment.cases}
    return SubmissionRun(
        classes=dict.fromkeys(assignment.exercises, {"defined": True}), results=results
    )


@each
def test_public_plots_draw_each_exercise_from_its_public_cases(assignment):
    """One PNG per exercise, in order, for a correct run; none for a run without results."""
    plots = assignment.public_plots(correct_run(assignment), assignment.references())
    assert [title.split(":")[0] for title, _ in plots] == list(assignment.exercises)
    assert all(png.startswith(b"\x89PNG") for _, png in plots)
    failed = SubmissionRun(results={c.id: {"error": "boom"} for c in assignment.cases})
    assert assignment.public_plots(failed, assignment.references()) == []


NO_TENSORFLOW = """
import sys
from autograder import assignments
from autograder.evaluate import Submission
from autograder.run_submission import SubmissionRun

assignment = assignments.get(sys.argv[1])
references = assignment.references()
run = SubmissionRun(results={c.id: {"result": references[c.id]} for c in assignment.cases})
submission = Submission(run, assignment.references(), assignment)
for case in assignment.cases:
    assignment.diagnose(submission, case, run.results[case.id])
assert assignment.public_plots(run, assignment.references())
assert "tensorflow" not in sys.modules, "tensorflow imported"
"""


@each
def test_scoring_hints_and_plots_import_no_tensorflow(assignment):
    """Do the declaration, its hints (replayed in NumPy) and its plots run in a process without
    TensorFlow (it costs seconds per grading worker)?"""
    subprocess.run([sys.executable, "-c", NO_TENSORFLOW, assignment.name], check=True, cwd=ROOT)


@each
def test_solutions_agree_with_the_oracles(assignment):
    """Does each solution pass its independent oracle's cases within the grader's tolerance?"""
    stored, guest = assignment.references(), load_guest(assignment.guest)
    oracle_cases = [c for c in assignment.cases if c.oracle != "solution"]
    assert oracle_cases, "every assignment is checked against an independent oracle"
    for case in oracle_cases:
        ours = guest.run_case(assignment.solution_class(case.exercise), case.driver, case.params)
        assert compare.compare_result(case, ours, stored[case.id]).passed, case.id


@pytest.mark.parametrize(
    "name",
    ["", "../optimizers_core", "optimizers_core/..", "a/b", "Optimizers_Core", "nope"]
    + ["optimizers_core\n", " optimizers_core", "optimizers_core\x00", "x" * 300],
)
def test_unknown_or_malformed_names_are_one_line_errors(name):
    """Is a name with "/" or "..", or one not in the course, refused with the choices listed?"""
    with pytest.raises(assignments.UnknownAssignment) as error:
        assignments.get(name)
    message = str(error.value)
    assert "\n" not in message and "optimizers_core" in message


def test_inference_from_notebook_names():
    """Is the assignment told by its notebook's name, and are none or several an error?"""
    assert assignments.infer(["x/optimizers_core.ipynb"]).name == "optimizers_core"
    with pytest.raises(assignments.UnknownAssignment, match="--assignment"):
        assignments.infer(["x/homework.ipynb"])
    with pytest.raises(assignments.UnknownAssignment, match="several"):
        assignments.infer(["a/optimizers_core.ipynb", "b/optimizers_2d.ipynb"])


def test_inference_from_notebook_metadata():
    """Does a notebook's `course.assignment` metadata name its assignment, whatever its file
    name, and is an unknown or malformed one ignored?"""
    nb = {"metadata": {"course": {"assignment": "optimizers_2d"}}}
    assert assignments.of_notebook(nb, "renamed.ipynb") == "optimizers_2d"
    for meta in ({"course": {"assignment": "../x"}}, {"course": "optimizers_2d"}, {}):
        assert assignments.of_notebook({"metadata": meta}, "renamed.ipynb") is None
