"""The solution notebook runs top to bottom and reproduces the original guide's outcomes."""

import re

import numpy as np
import pytest

from autograder import assignments
from autograder.execute import execute_notebook, stream_text

# NOTES.md: what the published code prints (outcome, then the last x as printed there).
EXPECTED = {
    "Gradient descent optimizer: learning rate=0.001": ("Exceeded maximum of 2000", "0.0476441"),
    "Gradient descent optimizer: learning rate=0.01": ("Exceeded maximum of 2000", "0.00539083"),
    "Gradient descent optimizer: learning rate=0.1": ("Gradient exploded at iteration 6", None),
    "Momentum optimizer: learning rate=0.001": ("Exceeded maximum of 2000", "0.0153803"),
    "Momentum optimizer: learning rate=0.01": ("Converged in 80 iterations", "-1.1249987"),
    "Momentum optimizer: learning rate=0.1": ("Gradient exploded at iteration 6", None),
    "Adam: learning rate=0.001": ("Exceeded maximum of 2000", "0.822355"),
    "Adam: learning rate=0.01": ("Exceeded maximum of 2000", "0.0673983"),
    "Adam: learning rate=0.1": ("Converged in 1156 iterations", "-1.124997"),
}


@pytest.fixture(scope="module")
def executed():
    return execute_notebook(assignments.get("optimizers_core").solution_notebook)


def outputs(nb):
    """Every output of every code cell, in order."""
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def runs(text):
    """Split the printed text into {title: block} at each title line."""
    blocks = re.split(r"\n(?=\S.*\n-+\n)", "\n" + text)
    return {block.split("\n", 1)[0]: block for block in blocks if block.strip()}


@pytest.mark.slow
def test_every_cell_runs_without_error(executed):
    """Does every cell run in a fresh kernel with no error output?"""
    errors = [o for o in outputs(executed) if o.output_type == "error"]
    assert errors == []


@pytest.mark.slow
@pytest.mark.parametrize("title", EXPECTED)
def test_prints_the_guides_outcome(executed, title):
    """Does each of the nine runs end as in NOTES.md's table (outcome and last x)?"""
    found = {t: block for t, block in runs(stream_text(executed)).items() if t.startswith(title)}
    assert len(found) == 1, f"no single run titled {title!r}"
    block = next(iter(found.values()))
    outcome, last_x = EXPECTED[title]
    assert outcome in block
    printed = float(re.search(r"Last x: (\S+)", block).group(1))
    if last_x is None:
        assert not np.isfinite(printed)
    else:  # NOTES.md rounds: agree to half a unit of its last printed digit
        half_unit = 0.5 * 10.0 ** -len(last_x.split(".")[1])
        assert abs(printed - float(last_x)) <= half_unit + abs(
            float(np.spacing(np.float32(printed)))
        )


@pytest.mark.slow
def test_every_self_check_passes(executed):
    """Do the three self-checks report every public case passing?"""
    text = stream_text(executed)
    assert text.count("4 of 4 public cases pass.") == 3 and "FAIL" not in text


@pytest.mark.slow
def test_the_two_variable_demo_agrees_with_keras(executed):
    """Does the per-variable Momentum follow Keras' path to (-1.125, -1.125) in the demo cell?"""
    text = stream_text(executed)
    assert "Momentum (this notebook): a = -1.1250000, b = -1.1250000" in text
    assert "Keras SGD with momentum:  a = -1.1250000, b = -1.1250000" in text
    assert "Largest difference at any of the 100 steps: 0\n" in text


@pytest.mark.slow
def test_shows_every_figure(executed):
    """Are the loss figure, three path figures and three self-check figures displayed?"""
    images = [o for o in outputs(executed) if "image/png" in o.get("data", {})]
    assert len(images) == 7


@pytest.mark.parametrize("name", assignments.names())
def test_one_graded_cell_per_exercise_worth_its_subtotal(name):
    """Does each exercise of each lesson have one graded comment cell whose points are its
    tests' subtotal?"""
    from autograder import generate, nbgrader_gradebook

    lesson = assignments.get(name)
    nb = generate.read_notebook(lesson.solution_notebook)
    graded = {
        cell.metadata.nbgrader.grade_id: cell for cell in nb.cells if generate.is_graded_cell(cell)
    }
    assert set(graded) == {nbgrader_gradebook.tests_cell_id(e) for e in lesson.exercises}
    for exercise, points in lesson.subtotals().items():
        cell = graded[nbgrader_gradebook.tests_cell_id(exercise)]
        assert cell.metadata.nbgrader.points == points
        assert cell.cell_type == "code" and not generate.is_solution_cell(cell)
        lines = cell.source.splitlines()
        assert lines and all(line.startswith("#") for line in lines) and exercise in cell.source
    assert sum(cell.metadata.nbgrader.points for cell in graded.values()) == lesson.max_score()
