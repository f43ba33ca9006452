"""Lesson 1 as an assignment: its tests, cases, oracles, hints and public files.

A case runs one driver of `guest.py` on one optimizer class with fixed parameters. A test (what a
student sees, with points) passes when all its cases match the reference. Public cases are the
runs the notebook itself shows (x0 = 2, the guide's three learning rates); their expected values
may appear in feedback. Hidden cases use starting points, learning rates and hyperparameters the
notebook never shows; feedback names their settings, never their expected values.

Step budgets are small on purpose: a student's eager step costs about 1 ms here, and every common
bug shows within a few steps (most at the first or second; see `samples.py`). The guide's runs
take 120 steps, enough to see Momentum at learning rate 0.01 converge (80).

Each common way to be wrong and still pass once needs a case that tells it apart (each has a
sample in `samples.py`):
- state keyed by `tuple(var.shape)` or `var.name`: two of the several variables share a shape
  (and every variable is named "Variable:0");
- Adam without epsilon, or with it inside the square root: one hyperparameter case uses ep = 1,
  comparable to sqrt(s_hat) (Keras' documentation suggests 1.0 or 0.1 for some networks);
- an `apply_gradients` that changes nothing (`var = var - step`): "is defined" requires the
  variable to move, judged on the returned path.
"""

import math
from pathlib import Path

from autograder.assignment import DEFINED, Assignment, CaseList, Test
from course_utils import hints as vocabulary
from course_utils.tolerance import absolute_tolerance, first_departure

OPTIMIZERS = {"GradientDescent": "gradient_descent", "Momentum": "momentum", "Adam": "adam"}
GUIDE_LEARNING_RATES = (1e-3, 1e-2, 1e-1)
GUIDE_STEPS = 120
OTHER_RUN_STEPS = 80
HYPERPARAMETER_STEPS = 80
ORACLE_STEPS = 100
MULTI_SHAPES = [[], [3], [2, 3], [3]]  # two of one shape: state per variable, not per shape
MULTI_STEPS = 45  # four variables for 45 steps cost what three did for 60

COMMON_TESTS = [
    Test(DEFINED, "is defined and applies an update", 1, True),
    *(
        Test(f"guide_{lr:g}", f"the guide's run, learning rate {lr:g}", 1, True)
        for lr in GUIDE_LEARNING_RATES
    ),
    Test("other_runs", "other starting points and learning rates", 2, False),
    Test("hyperparameters", "other hyperparameters", 1, False),
    Test("variables", "several variables at once", 2, False),
    Test("instances", "separate instances keep separate state", 1, False),
]
ORACLE_TESTS = {
    "GradientDescent": Test("oracle", "agrees with Keras SGD", 1, False),
    "Momentum": Test("oracle", "agrees with Keras SGD with momentum", 1, False),
    "Adam": Test("oracle", "agrees with a float64 textbook Adam", 1, False),
}

# Settings the notebook never shows, per optimizer.
HYPERPARAMETERS = {
    "GradientDescent": [{"learning_rate": 0.003}, {"learning_rate": 0.035}],
    "Momentum": [
        {"learning_rate": 0.004, "momentum": 0.9},
        {"learning_rate": 0.02, "momentum": 0.3},
    ],
    "Adam": [
        {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.99, "ep": 1.0},
        {"learning_rate": 0.02, "beta_1": 0.95, "beta_2": 0.9999, "ep": 1e-8},
    ],
}
OTHER_RUNS = [(-1.8, 0.02), (0.6, 0.05), (1.4, 0.004)]
MULTI_LEARNING_RATE = {"GradientDescent": 0.01, "Momentum": 0.01, "Adam": 0.05}
ORACLE_SETTINGS = {
    "GradientDescent": {"learning_rate": 0.015},
    "Momentum": {"learning_rate": 0.015, "momentum": 0.8},
    "Adam": {"learning_rate": 0.02},
}


def _cases():
    cases = CaseList()
    for optimizer in OPTIMIZERS:

        def add(test, driver, params, compare, optimizer=optimizer, **kwargs):
            cases.add(optimizer, test, driver, params, compare=compare, **kwargs)

        add(DEFINED, "steps", {"kwargs": {"learning_rate": 0.01}, "init": 1.5, "count": 1}, "path")
        for lr in GUIDE_LEARNING_RATES:
            params = {"kwargs": {"learning_rate": lr}, "init": 2.0, "max_iters": GUIDE_STEPS}
            add(f"guide_{lr:g}", "convergence", params, "convergence", public=True)
        for init, lr in OTHER_RUNS:
            params = {"kwargs": {"learning_rate": lr}, "init": init, "max_iters": OTHER_RUN_STEPS}
            add("other_runs", "convergence", params, "convergence")
        for kwargs in HYPERPARAMETERS[optimizer]:
            params = {"kwargs": kwargs, "init": 1.7, "max_iters": HYPERPARAMETER_STEPS}
            add("hyperparameters", "convergence", params, "convergence")
        params = {
            "kwargs": {"learning_rate": MULTI_LEARNING_RATE[optimizer]},
            "shapes": MULTI_SHAPES,
            "seed": 7,
            "count": MULTI_STEPS,
        }
        add("variables", "variables", params, "rows")
        params = {
            "kwargs_a": {"learning_rate": 0.01},
            "kwargs_b": {"learning_rate": 0.03},
            "init_a": 1.5,
            "init_b": -1.7,
            "count": 40,
        }
        add("instances", "instances", params, "paths")
        params = {"kwargs": ORACLE_SETTINGS[optimizer], "init": 1.2, "count": ORACLE_STEPS}
        oracle = "numpy_adam" if optimizer == "Adam" else "keras_sgd"
        add("oracle", "steps", params, "path", oracle=oracle)
    return tuple(cases.cases)


def diagnose(submission, case, record):
    """The likeliest mistake behind a failed case, from course_utils.hints' vocabulary."""
    if case.driver == "variables":
        singles = [
            c for c in ASSIGNMENT.cases if c.exercise == case.exercise and c.driver == "convergence"
        ]
        return several_hint(submission, case) if all(map(submission.passes, singles)) else None
    if case.driver in ("convergence", "steps") and not record.get("error") and case.test != DEFINED:
        result = record.get("result") or {}
        return vocabulary.diagnose(
            case.exercise,
            case.params["init"],
            result.get("path") if isinstance(result, dict) else None,
            submission.references[case.id]["path"],
            case.params["kwargs"]["learning_rate"],
        )
    return None


def several_hint(submission, case):
    """shared_state; state_keyed_by_shape when the first variable to go wrong has the shape of
    an earlier one; step_counter_per_variable when the second variable's first move has the size
    a per-variable step counter gives it."""
    expected = submission.references[case.id]
    start, first = expected["start"], (submission.run.results[case.id].get("result") or {})
    row = (first.get("path") or [None])[0] if isinstance(first, dict) else None
    second = len(start) > 1 and isinstance(row, list) and len(row) == len(start)
    if not second or not all(isinstance(v, (int, float)) for v in row[:2]):
        return "shared_state"
    lr = case.params["kwargs"]["learning_rate"]
    first_moves = [row[0] - start[0], row[1] - start[1]]
    shape_seen = _shape_seen_before(submission, case)
    return vocabulary.diagnose_several(case.exercise, first_moves, lr, shape_seen)


def _shape_seen_before(submission, case):
    """Is the first variable to leave its path of the same shape as an earlier one?"""
    expected = submission.references[case.id]["path"]
    got = ((submission.run.results[case.id].get("result") or {}) or {}).get("path")
    width = len(expected[0])
    if not isinstance(got, list) or not all(
        isinstance(row, list) and len(row) == width for row in got
    ):
        return False
    departure = first_departure(got, expected, absolute_tolerance(case.learning_rate()))
    if departure is None:
        return False
    shapes, index = [tuple(s) for s in case.params["shapes"]], departure[1]
    for k, shape in enumerate(shapes):
        index -= math.prod(shape)
        if index < 0:
            return shape in shapes[:k]
    return False


def public_plots(run, references):
    """(title, PNG bytes) per optimizer: its paths of the guide's runs against the expected ones."""
    from autograder.report import figure_png, new_figure

    plots = []
    for optimizer in OPTIMIZERS:
        panels = []
        for case in ASSIGNMENT.cases:
            if case.exercise != optimizer or not case.public or case.driver != "convergence":
                continue
            result = (run.results.get(case.id) or {}).get("result")
            path = result.get("path") if isinstance(result, dict) else None
            if isinstance(path, list) and path:
                panels.append((case, path, references[case.id]["path"]))
        if not panels:
            continue
        fig = new_figure(figsize=(3.6 * len(panels), 2.9))
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
        for ax, (case, path, expected) in zip(axes, panels):
            ax.plot(range(1, len(expected) + 1), expected, c="k", lw=2.5, alpha=0.35)
            ax.plot(range(1, len(path) + 1), _clip(path), c="tab:red", lw=1)
            ax.set_ylim(-2.5, 2.5)
            ax.set_xlabel("iteration")
            ax.set_title(case.settings(), fontsize=9)
        axes[0].set_ylabel("x")
        axes[0].legend(["expected", "yours"], loc="lower left", fontsize=8)
        # Fixed margins: a "tight" bounding box would draw the figure twice.
        fig.subplots_adjust(left=0.07, right=0.99, top=0.88, bottom=0.17, wspace=0.08)
        title = f"{optimizer}: " + "; ".join(case.settings() for case, _, _ in panels)
        plots.append((title, figure_png(fig)))
    return plots


def _clip(path):
    return [min(max(v, -1e3), 1e3) if isinstance(v, (int, float)) else float("nan") for v in path]


def public_files():
    """The self-checks' expected paths (course_utils), computed from the solutions."""
    from course_utils import selfcheck

    classes = {name: ASSIGNMENT.solution_class(name) for name in OPTIMIZERS}
    expected = {
        name: {
            case: selfcheck.run_case(cls(settings["learning_rate"]), settings)
            for case, settings in selfcheck.public_cases().items()
        }
        for name, cls in classes.items()
    }
    return {selfcheck.EXPECTATIONS: ("expected", expected)}


ORACLES_MODULE = (
    "autograder.assignments.optimizers_core.oracles"  # imported when references are built
)

ASSIGNMENT = Assignment(
    name="optimizers_core",
    title="Lesson 1: optimizers with Core APIs",
    teaches="gradient descent, momentum and Adam written by hand, raced on a quartic of one "
    "variable; learning rates, convergence and divergence (TensorFlow's guide)",
    exercises=OPTIMIZERS,
    tests={optimizer: COMMON_TESTS + [ORACLE_TESTS[optimizer]] for optimizer in OPTIMIZERS},
    cases=_cases(),
    folder=Path(__file__).parent,
    hints=vocabulary.HINTS,
    mistakes=vocabulary.MISTAKES,
    oracles={
        "keras_sgd": f"{ORACLES_MODULE}:KerasSGD",
        "numpy_adam": f"{ORACLES_MODULE}:NumpyAdam",
    },
    diagnose=diagnose,
    public_plots=public_plots,
    public_files=public_files,
    examples={
        "alice": "correct_assign_style",
        "bob": "momentum_shared_state",
        "carol": "untouched",
        "dave": "syntax_error_momentum",
        "erin": "adam_no_bias_correction",
    },
)
