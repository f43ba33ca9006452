"""Self-checks for students: run an optimizer on the public cases and explain what differs.

    check(GradientDescent)   # in the notebook, after writing the class

The public cases are inputs the notebook itself shows: the guide's three runs from x = 2 and the
two-variable example from (2.0, -0.5). Their expected paths ship in
`expectations/optimizers_core.json` (generated from the course's solutions by the instructors'
`build-references` command); the autograder runs these and many more cases, with settings that
are not shown here.
"""

import functools
import json
from pathlib import Path

import numpy as np
import tensorflow as tf

from course_utils.convergence import exact_graph_arithmetic, value_and_gradient_function
from course_utils.hints import HINTS, diagnose, diagnose_several
from course_utils.losses import grad, loss
from course_utils.selfcheck_report import HINT, SelfCheck, print_report
from course_utils.tolerance import absolute_tolerance, first_departure

EXPECTATIONS = Path(__file__).parent / "expectations" / "optimizers_core.json"
OPTIMIZERS = ("GradientDescent", "Momentum", "Adam")
GUIDE_STEPS = 40
TWO_VARIABLE_STEPS = 30


def public_cases():
    """The public cases: {name: settings}, the same for every optimizer."""
    cases = {
        f"the guide's run, learning rate {lr:g}": {
            "learning_rate": lr,
            "init": [2.0],
            "steps": GUIDE_STEPS,
        }
        for lr in (1e-3, 1e-2, 1e-1)
    }
    cases["two variables at once, from (2.0, -0.5), learning rate 0.01"] = {
        "learning_rate": 1e-2,
        "init": [2.0, -0.5],
        "steps": TWO_VARIABLE_STEPS,
    }
    return cases


def run_case(optimizer, settings):
    """`settings["steps"]` updates of variables started at `settings["init"]` on sum L(x_i).

    Returns the path: one row of variable values per step (floats; inf or nan once they blow up).
    """
    xs = [tf.Variable(v, dtype=tf.float32) for v in settings["init"]]
    path = []
    with exact_graph_arithmetic():
        values_and_gradients = value_and_gradient_function(grad, total_loss, xs)
        _, gradients = values_and_gradients(xs)
        for _ in range(settings["steps"]):
            optimizer.apply_gradients(list(gradients), xs)
            values, gradients = values_and_gradients(xs)
            path.append([float(value) for value in values])
    return path


def total_loss(variables):
    """The sum of L over a list of variables."""
    return tf.add_n([loss(v) for v in variables])


@functools.cache
def expectations():
    """{optimizer: {case name: expected path}} from the shipped JSON file."""
    return json.loads(EXPECTATIONS.read_text())["expected"]


def check(optimizer_class, plot=True, name=None):
    """Run `optimizer_class` on the public cases, print what differs, plot the paths.

    The class is checked as the optimizer it is named after, or as `name` if given.
    """
    name = name or optimizer_class.__name__
    if name not in OPTIMIZERS:
        raise ValueError(f"check() knows {', '.join(OPTIMIZERS)}, not {name}")
    expected, results = expectations()[name], []
    for case, settings in public_cases().items():
        singles_pass = all(ok for _, ok, _, _ in results)
        results.append(
            (case, *_judge(optimizer_class, name, settings, expected[case], singles_pass))
        )
    report = SelfCheck(name, results)
    print_report(report, "the notebook's own runs")
    if plot:
        report.figure = _plot(report, expected)
    return report


def _judge(optimizer_class, name, settings, expected, singles_pass):
    """(passed, message, path) for one case."""
    try:
        path = run_case(optimizer_class(learning_rate=settings["learning_rate"]), settings)
    except NotImplementedError:
        return False, HINTS["not_implemented"], None
    except Exception as error:  # noqa: BLE001 - the student's code may raise anything
        return False, f"your code raised {type(error).__name__}: {error}", None
    departure = first_departure(path, expected, absolute_tolerance(settings["learning_rate"]))
    if departure is None:
        return True, "", path
    step, i, got, want = departure
    where = f", variable {'ab'[i]}" if len(settings["init"]) > 1 else ""
    message = f"at step {step}{where}: expected {want:.7g}, got {got:.7g}."
    key = _hint(name, settings, path, expected, i, singles_pass)
    return False, message + (HINT + HINTS[key] if key else ""), path


def _hint(name, settings, path, expected, index, singles_pass):
    """A hint key; the one-variable cases run first, so a two-variable failure after them
    passing points at state that is not kept per variable."""
    lr = settings["learning_rate"]
    if len(settings["init"]) > 1:
        if not singles_pass:
            return None
        return diagnose_several(name, [v - x0 for v, x0 in zip(path[0], settings["init"])], lr)
    got = [row[index] for row in path]
    want = [row[index] for row in expected]
    return diagnose(name, settings["init"][index], got, want, lr)


def _plot(report, expected):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(report.results), figsize=(4 * len(report.results), 3))
    for ax, (case, ok, _, path) in zip(axes, report.results):
        want = np.asarray(expected[case], dtype=float)
        ax.plot(np.arange(1, len(want) + 1), want, c="k", lw=3, alpha=0.3, label="expected")
        if path is not None:
            got = np.clip(np.asarray(path, dtype=float), -1e3, 1e3)
            ax.plot(
                np.arange(1, len(got) + 1),
                got,
                c="tab:green" if ok else "tab:red",
                lw=1,
                label="yours",
            )
        ax.set_ylim(-2.5, 2.5)
        ax.set_title(("PASS " if ok else "FAIL ") + case, fontsize=8)
        ax.set_xlabel("step")
    axes[0].set_ylabel("x")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{report.optimizer}: your paths against the expected ones", fontsize=10)
    fig.tight_layout()
    return fig
