"""Lesson 2 as an assignment: its tests, cases, oracles, hints and public files.

A case runs one driver of `guest.py` on one optimizer class with fixed parameters. Public cases are
the runs the notebook shows (each surface from its own start, at the learning rate its SETTINGS
give the optimizer's family, default hyperparameters), cut to the self-checks' first 40 steps;
hidden cases use other starts, learning rates and hyperparameters. Feedback names a hidden case's
settings, never its expected values.

Each typical bug has a case that tells it apart (and a sample in `samples.py`):
- epsilon outside the square root: a hyperparameter case with epsilon comparable to the
  accumulated squares (Adagrad: initial_accumulator_value 0.01, epsilon 0.1; RMSprop: 1e-3);
- an accumulator started at zero: every Adagrad case (its first step is then about one learning
  rate in each coordinate), and initial_accumulator_value 0.5 among the hyperparameters;
- Nesterov as classical momentum or its look-ahead flipped: every run with momentum > 0
  (momentum 0 is a case too: then all three rules are gradient descent);
- state shared between variables, or keyed by shape: two of the several variables share a shape;
- state kept on the class: two instances updated in turn.

Surfaces are named by `Surface.name` in the cases (plain JSON for the guest); the hints and plots
read them from `course_utils.surfaces`, which imports no TensorFlow.
"""

import functools
import math
from pathlib import Path

from autograder.assignment import DEFINED, Assignment, CaseList, Test
from course_utils import hints as lesson_1
from course_utils import hints_2d

OPTIMIZERS = {"NesterovMomentum": "nesterov_momentum", "Adagrad": "adagrad", "RMSprop": "rmsprop"}
FAMILY = {"NesterovMomentum": 0, "Adagrad": 1, "RMSprop": 1}  # 0: descent, 1: adaptive rates
VALLEY, ROSENBROCK, SADDLE, HIMMELBLAU = "Narrow valley", "Rosenbrock", "Saddle", "Himmelblau"
# The notebook's SETTINGS: surface -> (its start, descent learning rate, adaptive learning rate).
NOTEBOOK_RUNS = {
    VALLEY: ((-9.0, 1.5), 0.1, 0.3),
    ROSENBROCK: ((-1.2, 1.0), 1e-3, 0.1),
    SADDLE: ((1.5, 1e-6), 0.05, 0.05),
    HIMMELBLAU: ((-0.3, -0.9), 0.01, 0.1),
}
PUBLIC_STEPS = 40  # the self-checks' (course_utils.selfcheck_2d.STEPS)
OTHER_STEPS = 60
# Hidden runs: (surface, start, descent learning rate, adaptive learning rate).
OTHER_RUNS = [
    (VALLEY, (7.0, -2.0), 0.15, 0.5),
    (HIMMELBLAU, (1.0, 4.0), 0.005, 0.2),
    (SADDLE, (-1.0, -0.4), 0.08, 0.03),
]
# Hidden hyperparameters: (surface, start, kwargs).
HYPERPARAMETERS = {
    "NesterovMomentum": [
        (HIMMELBLAU, (2.0, -3.0), {"learning_rate": 0.02, "momentum": 0.0}),
        (VALLEY, (5.0, 2.0), {"learning_rate": 0.05, "momentum": 0.75}),
    ],
    "Adagrad": [
        (
            SADDLE,
            (0.8, 0.3),
            {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-2},
        ),
        (  # near a minimum, the gradients small: epsilon comparable to the accumulator
            SADDLE,
            (0.1, 0.95),
            {"learning_rate": 0.05, "initial_accumulator_value": 0.01, "epsilon": 0.1},
        ),
    ],
    "RMSprop": [
        (SADDLE, (0.8, 0.3), {"learning_rate": 0.05, "rho": 0.7, "epsilon": 1e-3}),
        (HIMMELBLAU, (2.0, -3.0), {"learning_rate": 0.02, "rho": 0.99, "epsilon": 1e-3}),
    ],
}
MULTI_SHAPES = [[], [3], [2, 3], [3]]  # two of one shape: state per variable, not per shape
MULTI_STEPS = 30
MULTI_LEARNING_RATE = (0.002, 0.05)  # descent, adaptive
INSTANCES = {
    "NesterovMomentum": ({"learning_rate": 0.01}, {"learning_rate": 0.005, "momentum": 0.6}),
    "Adagrad": ({"learning_rate": 0.1}, {"learning_rate": 0.2, "initial_accumulator_value": 1.0}),
    "RMSprop": ({"learning_rate": 0.05}, {"learning_rate": 0.02, "rho": 0.8}),
}
INSTANCE_STEPS = 30
ORACLE_STEPS = 60
ORACLES = {  # exercise -> (oracle, surface, start, kwargs)
    "NesterovMomentum": (
        "keras_nesterov",
        HIMMELBLAU,
        (0.5, 0.5),
        {"learning_rate": 0.01, "momentum": 0.8},
    ),
    "Adagrad": (
        "keras_adagrad",
        ROSENBROCK,
        (0.0, 0.0),
        {"learning_rate": 0.1, "initial_accumulator_value": 0.2, "epsilon": 1e-5},
    ),
    "RMSprop": ("keras_rmsprop", VALLEY, (-6.0, 2.0), {"learning_rate": 0.1, "rho": 0.8}),
}
ORACLE_NAMES = {
    "keras_nesterov": "Keras SGD with Nesterov momentum",
    "keras_adagrad": "Keras Adagrad",
    "keras_rmsprop": "Keras RMSprop",
}


def _public_key(surface):
    return "public_" + surface.split()[-1].lower()


def _tests(optimizer):
    family = FAMILY[optimizer]
    oracle = ORACLES[optimizer][0]
    return [
        Test(DEFINED, "is defined and applies an update", 1, True),
        *(
            Test(
                _public_key(surface),
                f"the notebook's run on the {surface.lower()}, learning rate {rates[family]:g}",
                1,
                True,
            )
            for surface, (_, *rates) in NOTEBOOK_RUNS.items()
        ),
        Test("other_runs", "other starting points and learning rates", 1, False),
        Test("hyperparameters", "other hyperparameters", 2, False),
        Test("variables", "several variables at once", 1, False),
        Test("instances", "separate instances keep separate state", 1, False),
        Test("oracle", f"agrees with {ORACLE_NAMES[oracle]}", 1, False),
    ]


def _surface(surface, start, kwargs, steps):
    return {"kwargs": kwargs, "surface": surface, "start": list(start), "steps": steps}


def _cases():
    cases = CaseList()
    for optimizer in OPTIMIZERS:
        family = FAMILY[optimizer]

        add = functools.partial(cases.add, optimizer, compare="rows")

        # Both coordinates' gradients positive: one wrong update still gives finite numbers.
        add(DEFINED, "surface", _surface(VALLEY, (4.0, 1.0), {"learning_rate": 0.01}, 1))
        for surface, (start, *rates) in NOTEBOOK_RUNS.items():
            kwargs = {"learning_rate": rates[family]}
            params = _surface(surface, start, kwargs, PUBLIC_STEPS)
            add(_public_key(surface), "surface", params, public=True)
        for surface, start, *rates in OTHER_RUNS:
            kwargs = {"learning_rate": rates[family]}
            add("other_runs", "surface", _surface(surface, start, kwargs, OTHER_STEPS))
        for surface, start, kwargs in HYPERPARAMETERS[optimizer]:
            add("hyperparameters", "surface", _surface(surface, start, kwargs, OTHER_STEPS))
        params = {
            "kwargs": {"learning_rate": MULTI_LEARNING_RATE[family]},
            "shapes": MULTI_SHAPES,
            "seed": 7,
            "count": MULTI_STEPS,
        }
        add("variables", "variables", params)
        kwargs_a, kwargs_b = INSTANCES[optimizer]
        params = {
            "kwargs_a": kwargs_a,
            "kwargs_b": kwargs_b,
            "surface": HIMMELBLAU,
            "start_a": [1.0, 1.0],
            "start_b": [-1.0, -2.0],
            "count": INSTANCE_STEPS,
        }
        add("instances", "instances", params, compare="paths")
        oracle, surface, start, kwargs = ORACLES[optimizer]
        add("oracle", "surface", _surface(surface, start, kwargs, ORACLE_STEPS), oracle=oracle)
    return tuple(cases.cases)


# --- Hints ----------------------------------------------------------------------------------------


def _surface_named(name):
    """The course_utils surface called `name` (no TensorFlow is imported)."""
    from course_utils.surfaces import SURFACES

    return next(surface for surface in SURFACES if surface.name == name)


def _surface_gradient(name):
    """The gradient of the named surface at a point (x, y), an array of the point's dtype."""
    import numpy as np

    surface = _surface_named(name)

    def gradient(point):
        point = np.asarray(point)
        return np.array(surface.gradient(point[0], point[1]), dtype=point.dtype)

    return gradient


def _line_gradient(case):
    """The gradient of the guest's `himmelblau_line` at a row of all the variables' values."""
    import numpy as np

    weights = [(1.0, 0.5, 0.25, 0.125)[k % 4] for k in range(len(case.params["shapes"]))]
    weights = np.concatenate(
        [np.full(math.prod(s), w) for s, w in zip(case.params["shapes"], weights)]
    )

    def gradient(values):
        x = np.asarray(values, dtype=np.float64)
        dx, dy = _surface_named("Himmelblau").gradient(x, 1.0 - x)
        return weights * (dx - dy)

    return gradient


def _got(record):
    result = record.get("result")
    return result.get("path") if isinstance(result, dict) else None


def diagnose(submission, case, record):
    """The likeliest mistake behind a failed case, found by course_utils.hints_2d's bug oracle."""
    if case.test == DEFINED:
        return None
    if case.driver == "variables":
        return _several_hint(submission, case, record)
    if record.get("error"):
        return None
    if case.driver == "surface":
        return hints_2d.diagnose(
            case.exercise,
            _surface_gradient(case.params["surface"]),
            case.params["start"],
            case.params["kwargs"],
            _got(record),
        )
    return None


def _several_hint(submission, case, record):
    """For several variables at once, when each one alone is handled right: the bug oracle's
    verdict, else "shared_state" (also when the run fails, e.g. one state of mismatched shape)."""
    singles = [
        c
        for c in ASSIGNMENT.cases
        if c.exercise == case.exercise and c.driver == "surface" and c.test != DEFINED
    ]
    if not all(map(submission.passes, singles)):
        return None
    if record.get("error"):
        return "shared_state"
    expected = submission.references[case.id]
    starts, at = [], 0
    for shape in case.params["shapes"]:
        size = math.prod(shape)
        starts.append(expected["start"][at : at + size])
        at += size
    key = hints_2d.diagnose_several(
        case.exercise, _line_gradient(case), starts, case.params["kwargs"], _got(record)
    )
    return key or "shared_state"


# --- Feedback plots -------------------------------------------------------------------------------


def public_plots(run, references):
    """(title, PNG bytes) per optimizer: its public runs over the surfaces' contours, against
    the expected paths."""
    import numpy as np

    from autograder.report import figure_png, new_figure
    from course_utils.plotting import draw_surface

    plots = []
    for optimizer in OPTIMIZERS:
        panels = []
        for case in ASSIGNMENT.cases:
            if case.exercise != optimizer or not case.public:
                continue
            got = _rows(_got(run.results.get(case.id) or {}))
            if got is not None:
                panels.append((case, got, references[case.id]))
        if not panels:
            continue
        fig = new_figure(figsize=(3.4 * len(panels), 3.2))
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for ax, (case, got, expected) in zip(axes, panels):
            surface = _surface_named(case.params["surface"])
            draw_surface(ax, surface, levels=12, grid_size=60)
            start = np.asarray([expected["start"]], dtype=np.float64)
            want = np.vstack([start, np.asarray(expected["path"], dtype=np.float64)])
            mine = np.vstack([start, got])
            ax.plot(*want.T, c="w", lw=4, alpha=0.7, label="expected")
            ax.plot(*np.clip(mine, -1e3, 1e3).T, c="tab:red", lw=1.3, label="yours")
            ax.plot(*start[0], "o", c="w", mec="k", ms=6)
            ax.set_title(f"{surface.name}, {case.settings().split('; ')[-1]}", fontsize=8)
        axes[0].legend(loc="lower right", fontsize=7)
        fig.subplots_adjust(left=0.04, right=0.99, top=0.88, bottom=0.1, wspace=0.25)
        title = f"{optimizer}: the notebook's runs, first {PUBLIC_STEPS} steps"
        plots.append((title, figure_png(fig)))
    return plots


def _rows(path):
    """`path` as a float array of rows (x, y), non-numbers as NaN; None if it has no such rows."""
    import numpy as np

    if not isinstance(path, list) or not path:
        return None
    if not all(isinstance(row, list) and len(row) == 2 for row in path):
        return None
    numbers = [
        [v if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan for v in row]
        for row in path
    ]
    return np.asarray(numbers, dtype=np.float64)


# --- Student-visible files ------------------------------------------------------------------------


def public_files():
    """The self-checks' expected paths (course_utils), computed from the solutions."""
    from course_utils import selfcheck_2d

    classes = {name: ASSIGNMENT.solution_class(name) for name in OPTIMIZERS}
    return {selfcheck_2d.EXPECTATIONS: ("expected", selfcheck_2d.build_expectations(classes))}


ORACLES_MODULE = (
    "autograder.assignments.optimizers_2d.oracles"  # imported when references are built
)

ASSIGNMENT = Assignment(
    name="optimizers_2d",
    title="Lesson 2: optimizers on surfaces of two variables",
    teaches="Nesterov's momentum, Adagrad and RMSprop written by hand and checked against Keras "
    "on surfaces of two variables (a narrow valley, Rosenbrock's banana, a saddle, Himmelblau's "
    "four minima); contour plots of their paths and of how fast each converges",
    exercises=OPTIMIZERS,
    tests={optimizer: _tests(optimizer) for optimizer in OPTIMIZERS},
    cases=_cases(),
    folder=Path(__file__).parent,
    # The course-wide delegation rule says the same in both lessons.
    hints={**hints_2d.HINTS, "delegation": lesson_1.HINTS["delegation"]},
    mistakes={**hints_2d.MISTAKES, "delegation": lesson_1.MISTAKES["delegation"]},
    oracles={
        "keras_nesterov": f"{ORACLES_MODULE}:KerasNesterov",
        "keras_adagrad": f"{ORACLES_MODULE}:KerasAdagrad",
        "keras_rmsprop": f"{ORACLES_MODULE}:KerasRMSprop",
    },
    diagnose=diagnose,
    public_plots=public_plots,
    public_files=public_files,
    examples={
        "alice": "correct_float64",
        "bob": "nesterov_as_momentum",
        "carol": "untouched",
        "dave": "syntax_error_adagrad",
        "erin": "rmsprop_shared_state",
    },
)
