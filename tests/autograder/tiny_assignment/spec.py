"""The tiny assignment's declaration: one exercise, three tests, a NumPy oracle."""

from pathlib import Path

import nbformat

from autograder.assignment import DEFINED, Assignment, CaseList, Test

NAME = "sign_descent"
HINTS = {
    "no_update": "Change the variable in place with var.assign_sub(...).",
    "sign_missing": "Step by the sign of the gradient, not the gradient itself.",
    "timeout": "The code ran out of time.",
    "delegation": "Write the update yourself.",
}
MISTAKES = {key: f"mistake: {key}" for key in HINTS}
EXERCISE = '''class SignDescent(tf.Module):
    """x <- x - learning_rate * sign(g)."""

    def __init__(self, learning_rate=0.1):
        self.learning_rate = learning_rate

    def apply_gradients(self, grads, vars):
        ### BEGIN SOLUTION
        for g, var in zip(grads, vars):
            var.assign_sub(self.learning_rate * tf.sign(g))
        ### END SOLUTION
'''


def diagnose(submission, case, record):
    """ "sign_missing" when the first move has the size of a plain gradient step."""
    path = (
        (record.get("result") or {}).get("path") if isinstance(record.get("result"), dict) else None
    )
    if case.driver != "steps" or not isinstance(path, list) or not path:
        return None
    init, lr = case.params["init"], case.params["kwargs"]["learning_rate"]
    plain = init - lr * 2 * (init - 1.0)
    return "sign_missing" if abs(path[0] - plain) < 1e-5 else None


class NumpySign:
    """The oracle: sign descent written with NumPy."""

    def __init__(self, learning_rate=0.1):
        self.learning_rate = learning_rate

    def apply_gradients(self, grads, vars):
        import numpy as np

        for g, var in zip(grads, vars):
            var.assign(var.numpy() - np.float32(self.learning_rate) * np.sign(g.numpy()))


def _cases():
    cases = CaseList()
    cases.add(
        "SignDescent", DEFINED, "steps", {"kwargs": {"learning_rate": 0.1}, "init": 3.0, "count": 1}
    )
    cases.add(
        "SignDescent",
        "runs",
        "steps",
        {"kwargs": {"learning_rate": 0.1}, "init": 3.0, "count": 30},
        public=True,
    )
    cases.add(
        "SignDescent",
        "runs",
        "steps",
        {"kwargs": {"learning_rate": 0.07}, "init": -2.0, "count": 40},
    )
    cases.add(
        "SignDescent",
        "variables",
        "variables",
        {"kwargs": {"learning_rate": 0.05}, "shapes": [[], [2], [2]], "seed": 3, "count": 20},
        compare="rows",
    )
    cases.add(
        "SignDescent",
        "oracle",
        "steps",
        {"kwargs": {"learning_rate": 0.03}, "init": 2.5, "count": 20},
        oracle="numpy_sign",
    )
    return tuple(cases.cases)


def solution_notebook():
    """The source notebook, with nbgrader markers and a graded cell."""
    exercise = nbformat.v4.new_code_cell(EXERCISE)
    exercise.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": "sign_descent",
        "locked": False,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }
    graded = nbformat.v4.new_code_cell("# SignDescent's tests (points of the hidden tests)")
    graded.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": "SignDescent_tests",
        "locked": True,
        "points": 4,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    demo = nbformat.v4.new_code_cell("print(SignDescent().learning_rate)")
    demo.metadata["tags"] = ["demo"]
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Sign descent"),
            nbformat.v4.new_code_cell("import tensorflow as tf"),
            exercise,
            graded,
            demo,
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "language": "python",
        "display_name": "Python 3",
    }
    return nb


def make(folder):
    """The assignment, its files (guest, references, notebooks) in `folder`."""
    folder = Path(folder)
    return Assignment(
        name=NAME,
        title="Tiny: sign descent",
        teaches="a test fixture",
        exercises={"SignDescent": "sign_descent"},
        tests={
            "SignDescent": [
                Test(DEFINED, "is defined and applies an update", 1, True),
                Test("runs", "runs on the parabola", 1, False),
                Test("variables", "several variables", 1, False),
                Test("oracle", "agrees with NumPy", 1, False),
            ]
        },
        cases=_cases(),
        folder=folder,
        hints=HINTS,
        mistakes=MISTAKES,
        oracles={"numpy_sign": f"{__name__}:NumpySign"},
        diagnose=diagnose,
        solutions_dir=folder / "solutions",
        student_dir=folder / "notebooks",
    )
