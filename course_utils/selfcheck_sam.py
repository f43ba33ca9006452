"""Self-checks for lesson 4: run an exercise on the public cases and explain what differs.

    check(SAM)                      # in the notebook, after writing the class
    check(hessian_vector_product)
    check(top_hessian_eigenvalue)

The public cases run on the small problems of course_utils.sharpness_problems (float64): SAM for
a few steps on "regression" around Keras SGD and Keras Adam, eagerly and inside a tf.function;
the Hessian-vector product with three vectors; the top eigenvalue at "minimum" and at "saddle".
The expected answers ship in `expectations/sam_sharpness.json`, computed from the course's
solutions by the instructors' `python -m autograder build-references` (see `build_expectations`);
the grader runs these and many more cases, with settings that are not shown here.
"""

import dataclasses
import functools
import json
import textwrap
from pathlib import Path

import numpy as np

from course_utils import sharpness_problems
from course_utils.hints_sam import (
    HINTS,
    diagnose_eigen,
    diagnose_exception,
    diagnose_hvp,
    diagnose_sam,
)
from course_utils.selfcheck_report import HINT, SelfCheck, print_report
from course_utils.tolerance import ATOL, first_departure

EXPECTATIONS = Path(__file__).parent / "expectations" / "sam_sharpness.json"
EXERCISES = ("SAM", "hessian_vector_product", "top_hessian_eigenvalue")
SAM_STEPS = 10
# Power iterations of the eigenvalue cases: with the problems' spectral gap (3.6 or more), 20 meet
# eigvalsh to 1e-12, and a product written forward over backward (4 times the two tapes' time)
# stays well within a case's time limit.
ITERATIONS = 20
B_2 = int(np.prod(sharpness_problems.SHAPES[0])) + 2  # the flat index of b[2], after W


@dataclasses.dataclass(frozen=True)
class SamCase:
    name: str
    seed: int  # of the "regression" problem
    rho: float
    base: tuple  # ("sgd" or "adam", the Keras optimizer's arguments)
    compiled: bool


@dataclasses.dataclass(frozen=True)
class ProductCase:
    name: str
    problem: str
    seed: int
    direction: int | None  # a unit vector along this flat index, or None for a random vector

    @property
    def vectors(self):
        """Arrays shaped like the problem's variables: the vector v of H v."""
        size = sum(int(np.prod(shape)) for shape in sharpness_problems.SHAPES)
        if self.direction is None:
            flat = np.random.default_rng(self.seed + 100).normal(size=size)
        else:
            flat = np.eye(size)[self.direction]
        return sharpness_problems.unflatten(flat)


@dataclasses.dataclass(frozen=True)
class EigenCase:
    name: str
    problem: str
    seed: int


def public_cases(exercise: str) -> list:
    """The public cases of `exercise` (a name in EXERCISES), in the order they run."""
    if exercise == "SAM":
        sgd, adam = ("sgd", {"learning_rate": 0.1}), ("adam", {"learning_rate": 0.05})
        cases = []
        for compiled in (False, True):
            how = "inside a tf.function" if compiled else "eagerly"
            cases += [
                SamCase(f"rho 0.05 around SGD (learning rate 0.1), {how}", 0, 0.05, sgd, compiled),
                SamCase(f"rho 0.2 around Adam (learning rate 0.05), {how}", 1, 0.2, adam, compiled),
            ]
        return cases
    if exercise == "hessian_vector_product":
        return [
            ProductCase("a random vector, regression problem", "regression", 0, None),
            ProductCase("v along b[2] (a column of H), regression problem", "regression", 0, B_2),
            ProductCase("a random vector at a saddle point", "saddle", 0, None),
        ]
    if exercise == "top_hessian_eigenvalue":
        return [
            EigenCase("at a minimum (a positive top eigenvalue)", "minimum", 0),
            EigenCase("at a saddle point (a negative top eigenvalue)", "saddle", 0),
        ]
    raise ValueError(f"check() knows {', '.join(EXERCISES)}, not {exercise!r}")


def keras_optimizer(base, variables):
    """The Keras optimizer named by `base` ("sgd" or "adam", its arguments), built for
    `variables` (so that a tf.function calling it creates no variables)."""
    import tensorflow as tf

    kind, kwargs = base
    optimizer = {"sgd": tf.keras.optimizers.SGD, "adam": tf.keras.optimizers.Adam}[kind](**kwargs)
    optimizer.build(variables)
    return optimizer


def _lists(values) -> list:
    return [np.asarray(value, dtype=np.float64).tolist() for value in values]


# --- Running a case: the answer as plain lists (JSON) and as given to the hints -----------------


def run_sam(sam_class, case):
    """After each of SAM_STEPS calls of minimize: [the loss it returned, W, b, s]."""
    import tensorflow as tf

    p = sharpness_problems.problem("regression", case.seed)
    variables = p.variables()
    sam = sam_class(keras_optimizer(case.base, variables), rho=case.rho)
    loss_fn = p.loss_fn(variables)

    def step():
        return sam.minimize(loss_fn, variables)

    if case.compiled:
        step = tf.function(step)
    return [[float(step()), *_lists(variables)] for _ in range(SAM_STEPS)]


def run_product(function, case):
    """H v as nested lists shaped like the variables."""
    import tensorflow as tf

    p = sharpness_problems.problem(case.problem, case.seed)
    variables = p.variables()
    vectors = [tf.constant(v) for v in case.vectors]
    return _lists(function(p.loss_fn(variables), variables, vectors))


def run_eigen(function, case):
    """[eigenvalue, vectors as nested lists] of function(loss_fn, variables, ITERATIONS, 0)."""
    p = sharpness_problems.problem(case.problem, case.seed)
    variables = p.variables()
    eigenvalue, vectors = function(p.loss_fn(variables), variables, ITERATIONS, 0)
    return [float(eigenvalue), _lists(vectors)]


RUNNERS = {
    "SAM": run_sam,
    "hessian_vector_product": run_product,
    "top_hessian_eigenvalue": run_eigen,
}


def build_expectations(solutions: dict[str, object]) -> dict:
    """{exercise: {public case: expected answer}} computed with the `solutions` (by name)."""
    return {
        name: {case.name: RUNNERS[name](solutions[name], case) for case in public_cases(name)}
        for name in EXERCISES
    }


@functools.cache
def expectations():
    """{exercise: {case name: expected answer}} from the shipped JSON file."""
    return json.loads(EXPECTATIONS.read_text())["expected"]


def _flat(name, answer) -> list:
    """An answer as flat floats: one row per SAM call (loss, then W, b, s), one row for H v, and
    [eigenvalue, *vector] for the eigenvalue."""
    if name == "SAM":
        return [[float(v) for values in row for v in np.ravel(values)] for row in answer]
    if name == "hessian_vector_product":
        return [float(v) for values in answer for v in np.ravel(values)]
    eigenvalue, vectors = answer
    return [float(eigenvalue)] + [float(v) for values in vectors for v in np.ravel(values)]


def _aligned(got, want):
    """An eigen answer's vector turned to the expected one's sign (either is an eigenvector)."""
    if np.dot(got[1:], want[1:]) < 0:
        return got[:1] + [-v for v in got[1:]]
    return got


def hint(name, case, answer):
    """The hint key for `answer` (as `check` gets it) on the public case `case` of exercise
    `name`, or None; the grader asks the same of its copy of a submission's public cases."""
    if name == "SAM":
        path = [row[1:] for row in answer]
        return diagnose_sam(
            "regression", case.seed, case.rho, case.base, SAM_STEPS, path, case.compiled
        )
    if name == "hessian_vector_product":
        return diagnose_hvp(case.problem, case.seed, case.vectors, answer)
    return diagnose_eigen(case.problem, case.seed, *answer)


def check(obj, plot=True, name=None):
    """Run an exercise (`SAM`, `hessian_vector_product` or `top_hessian_eigenvalue`) on its
    public cases, print what differs, plot yours against the expected answers.

    `obj` is checked as the exercise it is named after, or as `name` if given. Returns a
    `SelfCheck` (`.passed`, `.results`, and `.figure` when plotted)."""
    name = name or getattr(obj, "__name__", "")
    if name not in EXERCISES:
        raise ValueError(f"check() knows {', '.join(EXERCISES)}, not {name or obj!r}")
    expected, results = expectations()[name], []
    cases = public_cases(name)
    for case in cases:
        results.append((case.name, *_judge(obj, name, case, expected[case.name])))
    report = SelfCheck(name, _python_float_hints(cases, results))
    print_report(report, "small problems the notebook shows")
    if plot:
        report.figure = _plot(report, name, cases, expected)
    return report


def _python_float_hints(cases, results):
    """A compiled case fails for a Python float in the norm only if the eager cases pass."""
    eager_fails = any(
        not ok and not getattr(case, "compiled", True)
        for case, (_, ok, _, _) in zip(cases, results)
    )
    if not eager_fails:
        return results
    python_float = HINT + HINTS["sam_python_float_norm"]
    return [
        (case, ok, message.replace(python_float, ""), got) for case, ok, message, got in results
    ]


def _judge(obj, name, case, expected):
    """(passed, message, answer) for one case."""
    try:
        answer = RUNNERS[name](obj, case)
    except Exception as error:  # noqa: BLE001 - the student's code may raise anything
        text = f"{type(error).__name__}: {error}"
        key = diagnose_exception(text, getattr(case, "compiled", False), name)
        if key == "not_implemented":
            return False, HINTS[key], None
        message = f"your code raised {textwrap.shorten(text, 300)}"
        return False, message + (HINT + HINTS[key] if key else ""), None
    try:
        got, want = _flat(name, answer), _flat(name, expected)
    except (TypeError, ValueError):
        return False, "your answer is not numbers shaped like the variables.", answer
    if name == "top_hessian_eigenvalue" and len(got) == len(want):
        got = _aligned(got, want)
    if len(got) != len(want) or (name == "SAM" and {len(r) for r in got} != {len(want[0])}):
        return False, "your answer does not have the expected number of values.", answer
    departure = first_departure(got, want, ATOL)
    if departure is None:
        return True, "", answer
    step, index, got_value, want_value = departure
    if name == "SAM":
        value = "the loss returned" if index == 0 else f"value {index - 1} of the variables"
        where = f"call {step}, {value}"
    elif name == "hessian_vector_product":
        where = f"value {step - 1}"
    else:
        where = "the eigenvalue" if step == 1 else f"value {step - 2} of the eigenvector"
    message = f"at {where}: expected {want_value:.7g}, got {got_value:.7g}."
    key = hint(name, case, answer)
    return False, message + (HINT + HINTS[key] if key else ""), answer


def _plottable(name, answer):
    """`answer` as `_flat` gives it, or None when it cannot be drawn."""
    try:
        return None if answer is None else _flat(name, answer)
    except (TypeError, ValueError):
        return None


def _plot(report, name, cases, expected):
    """One panel per case: the expected answer (wide, grey) and yours (green where the case
    passes, red where it fails): SAM's loss at each call, the product's or the eigenvector's
    values."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(cases), figsize=(4.2 * len(cases), 3.6), squeeze=False)
    for ax, case, (_, ok, _, answer) in zip(axes.flat, cases, report.results):
        color = "tab:green" if ok else "tab:red"
        want, got, title = _flat(name, expected[case.name]), _plottable(name, answer), case.name
        if name == "SAM":
            ax.plot([row[0] for row in want], c="0.6", lw=5, label="expected")
            if got is not None:
                ax.plot([row[0] for row in got], c=color, lw=1.5, label="yours")
            ax.set_xlabel("call")
            ax.set_ylabel("loss returned")
        else:
            if name == "top_hessian_eigenvalue":
                title += f"; eigenvalue {want[0]:.5g}"
                if got is not None and len(got) == len(want):
                    got = _aligned(got, want)
                    title += f", yours {got[0]:.5g}"
                want, got = want[1:], None if got is None else got[1:]
            ax.plot(want, "s", c="0.6", ms=9, label="expected")
            if got is not None:
                ax.plot(got, "o", c=color, ms=4, label="yours")
            ax.set_xlabel("value (W, b, s one after the other)")
        ax.set_title(textwrap.fill(("PASS: " if ok else "FAIL: ") + title, 50), fontsize=8)
        ax.legend(fontsize=8)
    fig.suptitle(f"{name}: yours against the expected answers", fontsize=11)
    # Margins in inches, room for the tick labels and axis labels: the figure needs no cropping.
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=0.9 / width, right=1 - 0.1 / width, bottom=0.65 / height, top=0.75, wspace=0.25
    )
    return fig
