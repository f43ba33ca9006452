"""Self-checks for lesson 2: run an optimizer on the public cases and explain what differs.

    check(NesterovMomentum)   # in the notebook, after writing the class

The public cases are runs the notebook itself shows: each surface from its default start, at the
learning rate the notebook's SETTINGS give the optimizer's family (descent for Nesterov, adaptive
for Adagrad and RMSprop), for the first STEPS steps; and two variables of shape (2,) updated by one
call on the valley. Every optimizer keeps its default hyperparameters. The expected paths ship in
`expectations/optimizers_2d.json`, computed from the course's solutions by the instructors'
`python -m autograder build-references` (see `build_expectations`); the grader runs these and many
more cases, with settings that are not shown here.
"""

import dataclasses
import functools
import json
import textwrap
from pathlib import Path

import numpy as np
import tensorflow as tf

from course_utils.hints_2d import HINTS, diagnose, diagnose_several
from course_utils.selfcheck_report import HINT, SelfCheck, print_report
from course_utils.surfaces import HIMMELBLAU, ROSENBROCK, SADDLE, VALLEY, Surface
from course_utils.tolerance import absolute_tolerance, first_departure

EXPECTATIONS = Path(__file__).parent / "expectations" / "optimizers_2d.json"
# Each exercise's family: its learning rates are SETTINGS' first (descent) or second (adaptive).
OPTIMIZERS = {"NesterovMomentum": 0, "Adagrad": 1, "RMSprop": 1}
# The notebook's SETTINGS: surface -> (learning rate of the descent family, of the adaptive one).
SETTINGS = {
    VALLEY: (0.1, 0.3),
    ROSENBROCK: (1e-3, 0.1),
    SADDLE: (0.05, 0.05),
    HIMMELBLAU: (0.01, 0.1),
}
STEPS = 40
TWO_VARIABLE_STEPS = 30
TWO_VARIABLE_STARTS = (VALLEY.start, (6.0, -1.0))


@dataclasses.dataclass(frozen=True)
class PublicCase:
    """Variables of shape (2,) started at `starts`, all on `surface` (the loss is the sum), and
    `steps` calls of apply_gradients on all of them at once."""

    name: str
    surface: Surface
    starts: tuple
    learning_rate: float
    steps: int

    def gradient(self, values):
        """The gradient of the loss at the variables' values, one after the other (TensorFlow's
        bits: the very numbers the optimizer is given)."""
        points = np.asarray(values, dtype=np.float64).reshape(-1, 2)
        return np.concatenate([self.surface.value_and_gradient(p)[1] for p in points])


def _point(point):
    return "(" + ", ".join(f"{v:g}" for v in point) + ")"


def public_cases(optimizer):
    """The public cases of `optimizer` (a name in OPTIMIZERS), in the order they run."""
    family = OPTIMIZERS[optimizer]
    cases = [
        PublicCase(
            f"{surface.name} from {_point(surface.start)}, learning rate {rates[family]:g}",
            surface,
            (surface.start,),
            rates[family],
            STEPS,
        )
        for surface, rates in SETTINGS.items()
    ]
    rate = SETTINGS[VALLEY][family]
    starts = " and ".join(_point(start) for start in TWO_VARIABLE_STARTS)
    cases.append(
        PublicCase(
            f"two variables at once on the {VALLEY.name.lower()}, from {starts}, "
            f"learning rate {rate:g}",
            VALLEY,
            TWO_VARIABLE_STARTS,
            rate,
            TWO_VARIABLE_STEPS,
        )
    )
    return cases


def run_case(optimizer, case):
    """The path of `optimizer` on `case`: one row per step, the values of every variable one
    after the other (start excluded; floats, inf or nan once they blow up)."""
    variables = [tf.Variable(np.asarray(start, dtype=np.float32)) for start in case.starts]
    path = []
    for _ in range(case.steps):
        values = np.concatenate([v.numpy() for v in variables])
        gradients = case.gradient(values).reshape(len(variables), 2)
        optimizer.apply_gradients([tf.constant(g) for g in gradients], variables)
        path.append([float(v) for variable in variables for v in variable.numpy().ravel()])
    return path


def build_expectations(classes: dict[str, type]) -> dict:
    """{optimizer: {public case: expected path}} computed with the solution `classes` (by name)."""
    return {
        name: {
            case.name: run_case(classes[name](learning_rate=case.learning_rate), case)
            for case in public_cases(name)
        }
        for name in OPTIMIZERS
    }


@functools.cache
def expectations():
    """{optimizer: {case name: expected path}} from the shipped JSON file."""
    return json.loads(EXPECTATIONS.read_text())["expected"]


def check(optimizer_class, plot=True, name=None):
    """Run `optimizer_class` on the public cases, print what differs, plot the paths.

    The class is checked as the optimizer it is named after, or as `name` if given. Returns a
    `SelfCheck` (`.passed`, `.results`, and `.figure` when plotted).
    """
    name = name or getattr(optimizer_class, "__name__", "")
    if name not in OPTIMIZERS:
        raise ValueError(f"check() knows {', '.join(OPTIMIZERS)}, not {name or optimizer_class!r}")
    expected, results = expectations()[name], []
    for case in public_cases(name):
        singles_pass = all(ok for _, ok, _, _ in results)
        verdict = _judge(optimizer_class, name, case, expected[case.name], singles_pass)
        results.append((case.name, *verdict))
    report = SelfCheck(name, results)
    print_report(report, "the notebook's own runs, their first steps")
    if plot:
        report.figure = _plot(report, public_cases(name), expected)
    return report


def _judge(optimizer_class, name, case, expected, singles_pass):
    """(passed, message, path) for one case."""
    try:
        path = run_case(optimizer_class(learning_rate=case.learning_rate), case)
    except NotImplementedError:
        return False, HINTS["not_implemented"], None
    except Exception as error:  # noqa: BLE001 - the student's code may raise anything
        return False, f"your code raised {type(error).__name__}: {error}", None
    departure = first_departure(path, expected, absolute_tolerance(case.learning_rate))
    if departure is None:
        return True, "", path
    step, index, got, want = departure
    message = f"at step {step}, {_coordinate(case, index)}: expected {want:.7g}, got {got:.7g}."
    kwargs = {"learning_rate": case.learning_rate}
    if len(case.starts) == 1:
        key = diagnose(name, case.gradient, case.starts[0], kwargs, path)
    else:
        key = (
            diagnose_several(name, case.gradient, case.starts, kwargs, path)
            if singles_pass
            else None
        )
    return False, message + (HINT + HINTS[key] if key else ""), path


def _coordinate(case, index):
    """'x' or 'y' of the variable; with several, which variable too."""
    axis = "xy"[index % 2]
    return axis if len(case.starts) == 1 else f"{axis} of variable {'ab'[index // 2]}"


def _plot(report, cases, expected):
    """One panel per case: the expected paths (wide, white) and yours (green where the case
    passes, red where it fails) over the surface's contours."""
    import matplotlib.pyplot as plt

    from course_utils.plotting import draw_surface

    ncols = 3
    nrows = -(-len(cases) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.6 * nrows), squeeze=False)
    for ax, case, (_, ok, _, path) in zip(axes.flat, cases, report.results):
        draw_surface(ax, case.surface, levels=12, grid_size=80)
        width = 2 * len(case.starts)
        want = _with_start(case, expected[case.name])
        got = _with_start(case, path) if path is not None else np.empty((0, width))
        for k in range(len(case.starts)):
            columns = slice(2 * k, 2 * k + 2)
            first = k == 0
            ax.plot(
                *want[:, columns].T, c="w", lw=4, alpha=0.7, label="expected" if first else None
            )
            ax.plot(*want[0, columns], "o", c="w", mec="k", ms=7)
            if len(got):
                color = "lime" if ok else "tab:red"
                ax.plot(*got[:, columns].T, c=color, lw=1.5, label="yours" if first else None)
        title = textwrap.fill(("PASS: " if ok else "FAIL: ") + case.name, 62)
        ax.set_title(title, fontsize=8, y=1.0)
        for axis in (ax.xaxis, ax.yaxis):  # no axis labels: placing them would cost a tick layout
            axis.set_label_text("")
            axis.set_label_coords(0.5, 0.5)
    for ax in axes.flat[len(cases) :]:
        ax.set_visible(False)
    axes.flat[0].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"{report.optimizer}: your paths against the expected ones", fontsize=11)
    # Fixed margins: a "tight" layout would draw the figure twice.
    fig.subplots_adjust(left=0.04, right=0.99, bottom=0.05, top=0.88, wspace=0.15, hspace=0.4)
    return fig


def _with_start(case, path):
    """The path as a float array, the start first, non-finite values as gaps."""
    start = np.concatenate([np.asarray(s, dtype=np.float32) for s in case.starts])
    rows = np.vstack([start, np.asarray(path, dtype=np.float64)])
    return np.where(np.isfinite(rows), rows, np.nan)
