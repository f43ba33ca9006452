"""The student notebook: generated from the solution, free of solution code, stubbed."""

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from autograder import generate, paths
from autograder.execute import execute_notebook


def code_lines(nb):
    return {
        line.strip()
        for cell in nb.cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if line.strip()
    }


def test_committed_student_notebook_is_a_fresh_generation():
    """Is the committed student notebook (and solutions/optimizers.py) what `make student` makes?"""
    assert generate.generate(check=True) == [], "run `make student` and commit the result"


def test_contains_no_line_of_any_solution_body():
    """Does no line between the solution markers reach the student notebook?"""
    solution = generate.read_notebook(paths.SOLUTION_NOTEBOOK)
    student_lines = code_lines(generate.read_notebook(paths.STUDENT_NOTEBOOK))
    bodies = generate.solution_bodies(solution)
    assert len(bodies) == 3 and all(bodies)
    leaked = [line for body in bodies for line in body if line in student_lines]
    assert leaked == []


def test_each_exercise_is_one_whole_class_with_a_stubbed_apply_gradients():
    """Is each optimizer one cell with __init__ kept and only apply_gradients stubbed?"""
    student = generate.read_notebook(paths.STUDENT_NOTEBOOK)
    exercises = [c for c in student.cells if generate.is_solution_cell(c)]
    assert [c.source.split("(")[0] for c in exercises] == [
        "class GradientDescent",
        "class Momentum",
        "class Adam",
    ]
    for cell in exercises:
        assert "def __init__(" in cell.source and "self.title = " in cell.source
        apply = cell.source.split("def apply_gradients(self, grads, vars):")[1]
        assert apply.rstrip().endswith("# YOUR CODE HERE\n        raise NotImplementedError()")
        assert "BEGIN SOLUTION" not in cell.source


def test_demo_cells_are_tagged_in_both_notebooks():
    """Are the runs and plots tagged `demo` so graders can skip them, the same in both copies?"""
    solution = generate.read_notebook(paths.SOLUTION_NOTEBOOK)
    student = generate.read_notebook(paths.STUDENT_NOTEBOOK)
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
    out = generate.student_notebook(nb).cells[0]
    assert out.source.rstrip() == "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    assert out.outputs == [] and out.execution_count is None
    assert nb.cells[0].outputs, "the input notebook is left unchanged"


@pytest.mark.slow
def test_runs_until_the_first_stub_and_stops_with_not_implemented():
    """Does Run All go through every cell before the first use of a stub, then raise there?"""
    with pytest.raises(CellExecutionError) as failure:
        execute_notebook(paths.STUDENT_NOTEBOOK)
    assert failure.value.ename == "NotImplementedError"
    assert "GradientDescent(learning_rate=learning_rate)" in str(failure.value)


def test_graded_cells_reach_the_student_copy_locked():
    """Are the graded cells in the student copy, as in the source, locked and checksummed?"""
    solution = generate.read_notebook(paths.SOLUTION_NOTEBOOK)
    student = generate.read_notebook(paths.STUDENT_NOTEBOOK)
    source = [c for c in solution.cells if generate.is_graded_cell(c)]
    released = [c for c in student.cells if generate.is_graded_cell(c)]
    assert source and [c.source for c in released] == [c.source for c in source]
    for before, after in zip(source, released, strict=True):
        assert after.metadata.nbgrader.points == before.metadata.nbgrader.points
        assert after.metadata.nbgrader.checksum and after.metadata.deletable is False
