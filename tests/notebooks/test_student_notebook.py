"""The student notebooks: generated from the solutions, free of solution code, stubbed (every
lesson of the course; lesson-specific checks name their lesson)."""

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from autograder import assignments, generate
from autograder.execute import execute_notebook

LESSON_1 = assignments.get("optimizers_core")
COURSE = assignments.all_assignments()
each = pytest.mark.parametrize("lesson", COURSE, ids=[a.name for a in COURSE])


def code_lines(nb):
    return {
        line.strip()
        for cell in nb.cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if line.strip()
    }


@each
def test_committed_student_notebook_is_a_fresh_generation(lesson):
    """Is the committed student notebook (and solutions/<lesson>.py) what `make student` makes?"""
    assert generate.generate(lesson, check=True) == [], "run `make student` and commit the result"


@each
def test_contains_no_line_of_any_solution_body(lesson):
    """Does no line of any solution body appear in the student copy's code?"""
    solution = generate.read_notebook(lesson.solution_notebook)
    student_lines = code_lines(generate.read_notebook(lesson.student_notebook))
    bodies = generate.solution_bodies(solution)
    assert len(bodies) >= len(lesson.exercises)
    for body in bodies:
        assert not set(body) & student_lines


@each
def test_names_its_assignment_in_its_metadata(lesson):
    """Does the student copy say which lesson it is (the grader tells submissions apart by it)?"""
    student = generate.read_notebook(lesson.student_notebook)
    assert assignments.of_notebook(student, "renamed.ipynb") == lesson.name


@each
def test_each_exercise_is_one_whole_class_with_a_stubbed_apply_gradients(lesson):
    """Is each optimizer one cell with __init__ kept and only apply_gradients stubbed?"""
    student = generate.read_notebook(lesson.student_notebook)
    exercises = [c for c in student.cells if generate.is_solution_cell(c)]
    heads = [c.source.split("(")[0].split(":")[0] for c in exercises]
    assert [h.split()[-1] for h in heads] == list(lesson.exercises)
    for cell in exercises:
        assert "# YOUR CODE HERE\n" in cell.source and "raise NotImplementedError()" in cell.source
        if "def apply_gradients(self, grads, vars):" in cell.source:
            assert "def __init__(" in cell.source
            apply = cell.source.split("def apply_gradients(self, grads, vars):")[1]
            assert apply.rstrip().endswith("# YOUR CODE HERE\n        raise NotImplementedError()")
        assert "BEGIN SOLUTION" not in cell.source


def test_demo_cells_are_tagged_in_both_notebooks():
    """Are the runs and plots tagged `demo` so graders can skip them, the same in both copies?"""
    solution = generate.read_notebook(LESSON_1.solution_notebook)
    student = generate.read_notebook(LESSON_1.student_notebook)
    tags = [generate.is_demo_cell(c) for c in solution.cells]
    assert tags == [generate.is_demo_cell(c) for c in student.cells]
    demo_sources = [c.source for c in solution.cells if generate.is_demo_cell(c)]
    assert sum("convergence_test(" in s for s in demo_sources) == 3
    assert sum("viz_paths(" in s for s in demo_sources) == 3


def test_student_copy_and_preprocessors_on_a_tiny_notebook():
    """Are solution regions replaced by the stub and outputs cleared in a synthetic notebook?"""
    cell = nbformat.v4.new_code_cell(
        "def f():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION\n",
        outputs=[nbformat.v4.new_output("stream", text="42\n")],
        execution_count=3,
    )
    cell.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": "f",
        "locked": False,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "P"}
    out = generate.student_notebook(nb, LESSON_1).cells[0]
    assert out.source.rstrip() == "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    assert out.outputs == [] and out.execution_count is None
    assert nb.cells[0].outputs, "the input notebook is left unchanged"


@pytest.mark.slow
def test_runs_until_the_first_stub_and_stops_with_not_implemented():
    """Does Run All go through every cell before the first use of a stub, then raise there?"""
    with pytest.raises(CellExecutionError) as failure:
        execute_notebook(LESSON_1.student_notebook)
    assert failure.value.ename == "NotImplementedError"
    assert "GradientDescent(learning_rate=learning_rate)" in str(failure.value)


@each
def test_graded_cells_reach_the_student_copy_locked(lesson):
    """Are the graded cells in the student copy, as in the source, locked and checksummed, one
    per exercise with the exercise's points (nbgrader's gradebook records them)?"""
    solution = generate.read_notebook(lesson.solution_notebook)
    student = generate.read_notebook(lesson.student_notebook)
    source = [c for c in solution.cells if generate.is_graded_cell(c)]
    released = [c for c in student.cells if generate.is_graded_cell(c)]
    assert source and [c.source for c in released] == [c.source for c in source]
    for before, after in zip(source, released, strict=True):
        assert after.metadata.nbgrader.points == before.metadata.nbgrader.points
        assert after.metadata.nbgrader.checksum and after.metadata.deletable is False
    points = {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.points for c in source}
    assert points == {f"{e}_tests": n for e, n in lesson.subtotals().items()}
