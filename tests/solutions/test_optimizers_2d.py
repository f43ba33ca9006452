"""Lesson 2's solution notebook: its optimizers against Keras, its structure and its outcomes.

The outcomes of a Run All (iterations to the tolerance and where every run ends) are recorded in
`optimizers_2d_outcomes.json` beside this file; after a deliberate change of the lesson, rewrite
it with `UPDATE_OUTCOMES=1 .venv/bin/python -m pytest tests/solutions/test_optimizers_2d.py`
and review the diff (the README quotes the table).
"""

import json
import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import tensorflow as tf

from autograder import assignments, generate, paths
from autograder.execute import execute_notebook, stream_text
from tests.solutions.streams import gradient_steps, new_variables, notebook_exercises

NOTEBOOK = paths.SOLUTIONS_DIR / "optimizers_2d.ipynb"
OUTCOMES = Path(__file__).with_name("optimizers_2d_outcomes.json")
EXERCISES = {  # grade_id: (class name, its Keras counterpart with the same hyperparameters)
    "nesterov_momentum": (
        "NesterovMomentum",
        lambda lr, momentum=0.9: tf.keras.optimizers.SGD(lr, momentum=momentum, nesterov=True),
    ),
    "adagrad": ("Adagrad", tf.keras.optimizers.Adagrad),
    "rmsprop": ("RMSprop", tf.keras.optimizers.RMSprop),
}
# Hyperparameters the notebook never uses, epsilon large enough to change every step.
HIDDEN_LIKE = {
    "NesterovMomentum": [{"momentum": 0.75}, {"momentum": 0.0}, {}],
    "Adagrad": [{"initial_accumulator_value": 0.5, "epsilon": 1e-2}, {}],
    "RMSprop": [{"rho": 0.7, "epsilon": 1e-3}, {"rho": 0.99}, {}],
}
STEPS = 200
# Calls that draw one figure each (a self-check's `check` draws its paths).
PLOTS = ("contour_paths", "compare_on_surfaces", "loss_curves", "effective_learning_rates", "check")


def solution_notebook():
    return generate.read_notebook(NOTEBOOK)


@pytest.fixture(scope="module")
def classes():
    """The notebook's solution classes, exec'd from its exercise cells (markers removed)."""
    namespace = notebook_exercises(NOTEBOOK)
    return {name: namespace[name] for name, _ in EXERCISES.values()}


def largest_difference(ours, keras):
    return max(float(np.abs(a.numpy() - b.numpy()).max()) for a, b in zip(ours, keras))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "make_keras", "hyperparameters"),
    [
        pytest.param(name, make_keras, hyper, id=f"{name}{hyper or ' defaults'}")
        for name, make_keras in EXERCISES.values()
        for hyper in HIDDEN_LIKE[name]
    ],
)
def test_solution_follows_keras_bit_for_bit(classes, name, make_keras, hyperparameters):
    """Do two separate instances, each on four variables (two of the same shape), follow their
    own Keras optimizer with the same hyperparameters exactly, at every step?

    Largest difference measured at any step: 0 (the notebook's order of operations is Keras')."""
    learning_rates = (0.03, 0.002)
    ours = [classes[name](lr, **hyperparameters) for lr in learning_rates]
    keras = [make_keras(lr, **hyperparameters) for lr in learning_rates]
    ours_vars = [new_variables(seed) for seed in (1, 2)]
    keras_vars = [new_variables(seed) for seed in (1, 2)]
    steps = [gradient_steps(seed, STEPS) for seed in (3, 4)]
    largest = 0.0
    for step in range(STEPS):
        for k in (0, 1):  # the two instances interleaved: no state may be shared
            grads = [tf.constant(g) for g in steps[k][step]]
            ours[k].apply_gradients(grads, ours_vars[k])
            keras[k].apply_gradients(zip(grads, keras_vars[k]))
            largest = max(largest, largest_difference(ours_vars[k], keras_vars[k]))
    assert largest == 0.0


def test_exercise_cells_carry_nbgrader_metadata_and_markers():
    """Is each exercise one solution cell with its grade_id, defining its class, with the body of
    apply_gradients between the solution markers?"""
    nb = solution_notebook()
    cells = {c.metadata.nbgrader.grade_id: c for c in nb.cells if generate.is_solution_cell(c)}
    assert set(cells) == set(EXERCISES)
    for grade_id, (name, _) in EXERCISES.items():
        source = cells[grade_id].source
        assert f"class {name}(tf.Module):" in source
        assert "### BEGIN SOLUTION" in source.split("def apply_gradients", 1)[1]
        assert source.rstrip().endswith("### END SOLUTION")
    assert all(len(body) > 0 for body in generate.solution_bodies(nb))


def test_student_copy_has_no_solution_and_raises_until_written():
    """Does the generated student copy keep the classes but none of the solution lines, so that
    each stub raises NotImplementedError when called?"""
    nb = solution_notebook()
    student = generate.student_notebook(nb, assignments.get("optimizers_2d"))
    text = "\n".join(cell.source for cell in student.cells)
    for body in generate.solution_bodies(nb):
        for line in body:
            assert line not in text, line
    namespace = {"tf": tf}
    for cell in student.cells:
        if generate.is_solution_cell(cell):
            exec(cell.source, namespace)
    for name, _ in EXERCISES.values():
        with pytest.raises(NotImplementedError):
            namespace[name]().apply_gradients([tf.constant(1.0)], [tf.Variable(1.0)])


def test_lesson_1_solutions_are_not_shipped():
    """Does lesson 2 use Keras for gradient descent, momentum and Adam, never lesson 1's classes
    or the hidden solutions package?"""
    text = "\n".join(cell.source for cell in solution_notebook().cells)
    for name in ("GradientDescent", "Momentum", "Adam"):
        assert not re.search(rf"class {name}\b", text)
    assert "solutions" not in re.findall(r"^\s*(?:from|import)\s+(\w+)", text, re.M)


def test_only_setup_and_exercises_are_not_demos():
    """Is every code cell an exercise, a graded comment cell, the setup or the imports (which the
    grader runs), or tagged `demo` or `self-check` (skipped), and does no cell the grader runs
    start an experiment or a figure?"""
    experiment = re.compile(r"\b(?:run_on_surface|run_everywhere|" + "|".join(PLOTS) + r")\(")
    for cell in solution_notebook().cells:
        if cell.cell_type != "code" or generate.is_solution_cell(cell):
            continue
        if generate.is_graded_cell(cell):  # a comment holding points for nbgrader
            assert cell.source.startswith("#") and not generate.is_demo_cell(cell)
            continue
        setup_or_imports = cell.source.startswith(("# Setup", "import"))
        assert generate.is_demo_cell(cell) != setup_or_imports, cell.source
        if setup_or_imports:
            assert not experiment.search(cell.source.split("from course_utils import")[0])


# --- Run All --------------------------------------------------------------------------------------

DUMP_OUTCOMES = """
import json as _json
print("OUTCOMES " + _json.dumps({
    "tol": TOL,
    "steps": {surface.name: SETTINGS[surface][0] for surface in SURFACES},
    "runs": {
        label: {
            surface.name: {
                "converged_at": run.converged_at,
                "end": [float(value) for value in run.end],
                "gap": float(run.losses[-1] - surface.minimum_value),
            }
            for surface, run in by_surface.items()
        }
        for label, by_surface in runs.items()
    },
}))
"""


@pytest.fixture(scope="module")
def executed():
    """The solution notebook run top to bottom in a fresh kernel, plus a cell that prints its
    outcomes as JSON."""
    return execute_notebook(NOTEBOOK, timeout=900, cwd=paths.ROOT, append=[DUMP_OUTCOMES])


def outcomes_of(executed):
    line = next(line for line in stream_text(executed).splitlines() if line.startswith("OUTCOMES "))
    return json.loads(line.removeprefix("OUTCOMES "))


@pytest.mark.slow
def test_every_cell_runs_and_shows_its_figures(executed):
    """Does every cell run without error, and does each plotting call show one figure?"""
    for cell in executed.cells[:-1]:
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        calls = len(re.findall(r"\b(?:" + "|".join(PLOTS) + r")\(", cell.source))
        assert len(images) == calls, cell.source


@pytest.mark.slow
def test_solutions_equal_keras_on_every_surface(executed):
    """Does the notebook report a difference of 0 from Keras on every surface, per exercise?"""
    text = stream_text(executed)
    reports = re.findall(r"^(.+?)\s+(\d+) steps, largest difference: (\S+)$", text, re.M)
    surfaces = outcomes_of(executed)["steps"]
    assert len(reports) == len(EXERCISES) * len(surfaces)
    assert all(difference == "0" for _, _, difference in reports)
    assert "different lengths" not in text


@pytest.mark.slow
def test_every_self_check_passes(executed):
    """Does each exercise's self-check cell report all its public cases passing?"""
    checks = [c for c in executed.cells if "self-check" in c.metadata.get("tags", [])]
    assert len(checks) == len(EXERCISES)
    for cell in checks:
        text = stream_text(nbformat.v4.new_notebook(cells=[cell]))
        passed = re.search(r"^(\d+) of (\d+) public cases pass\.$", text, re.M)
        assert passed and passed[1] == passed[2] and "FAIL" not in text, text


@pytest.mark.slow
def test_outcomes_are_the_recorded_ones(executed):
    """Do the iterations to the tolerance and the end of every run match the recorded table?"""
    found = outcomes_of(executed)
    if os.environ.get("UPDATE_OUTCOMES"):
        OUTCOMES.write_text(json.dumps(found, indent=1) + "\n")
    expected = json.loads(OUTCOMES.read_text())
    assert found["tol"] == expected["tol"] and found["steps"] == expected["steps"]
    assert found["runs"].keys() == expected["runs"].keys()
    for label, by_surface in expected["runs"].items():
        for surface, outcome in by_surface.items():
            got = found["runs"][label][surface]
            where = f"{label} on {surface}"
            assert got["converged_at"] == outcome["converged_at"], where
            np.testing.assert_allclose(
                got["end"], outcome["end"], rtol=1e-5, atol=1e-6, err_msg=where
            )
            # A gap below 1e-9 is float32 rounding at the minimum: only its size counts.
            assert got["gap"] == pytest.approx(outcome["gap"], rel=1e-3, abs=1e-9), where


def test_recorded_outcomes_cover_every_exercise_on_every_surface():
    """Does the recorded table hold every run on every surface of course_utils, the three
    exercises' among them?"""
    from course_utils import SURFACES

    recorded = json.loads(OUTCOMES.read_text())
    assert set(recorded["steps"]) == {surface.name for surface in SURFACES}
    assert {"Nesterov", "Adagrad", "RMSprop"} <= set(recorded["runs"])
    assert all(
        set(by_surface) == set(recorded["steps"]) for by_surface in recorded["runs"].values()
    )


def outcome_table(outcomes):
    """The README's table of lesson 2's outcomes (Markdown), from the recorded JSON."""
    surfaces = list(outcomes["steps"])
    head = "| optimizer | " + " | ".join(f"{s} ({outcomes['steps'][s]})" for s in surfaces) + " |"
    rows = [head, "|---" * (len(surfaces) + 1) + "|"]
    for label, by_surface in outcomes["runs"].items():
        cells = []
        for surface in surfaces:
            run = by_surface[surface]
            end = "({:.3g}, {:.3g})".format(*run["end"])
            settled = run["converged_at"]
            cells.append(f"{settled} at {end}" if settled is not None else f"- ends at {end}")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def test_readme_quotes_the_outcome_table():
    """Does the README show the recorded outcomes of lesson 2's solution notebook, as they are?"""
    table = outcome_table(json.loads(OUTCOMES.read_text()))
    assert table in (paths.ROOT / "README.md").read_text(), table
