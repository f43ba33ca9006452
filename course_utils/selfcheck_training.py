"""Self-checks for lesson 3: run an exercise on the public cases and explain what differs.

    check(clip_by_global_norm)   # in the notebook, after writing the function
    check(WarmupCosineDecay)
    check(AdamW)

The public cases are inputs the notebook shows: gradients made by a formula (no random numbers),
the notebook's schedules, and AdamW on three variables of different shapes fed a fixed stream of
gradients, eagerly and inside a tf.function. The expected answers ship in
`expectations/adamw_training.json`, computed from the course's solutions by the instructors'
`python -m autograder build-references` (see `build_expectations`); the grader runs these and
many more cases, with settings that are not shown here.
"""

import dataclasses
import functools
import json
import textwrap
from pathlib import Path

import numpy as np

from course_utils.hints_training import (
    HINTS,
    diagnose_adamw,
    diagnose_clip,
    diagnose_exception,
    diagnose_schedule,
)
from course_utils.selfcheck_report import HINT, SelfCheck, print_report
from course_utils.tolerance import absolute_tolerance, first_departure

EXPECTATIONS = Path(__file__).parent / "expectations" / "adamw_training.json"
EXERCISES = ("clip_by_global_norm", "WarmupCosineDecay", "AdamW")
SHAPES = ((3, 2), (2,), ())  # the variables of the AdamW cases
STARTS = (0.5, -1.0, 2.0)  # their starting values are STARTS[i] + formula
ADAMW_STEPS = 30


def formula_tensor(shape, seed: float, scale: float = 1.0) -> np.ndarray:
    """A float32 array of `shape` whose entries are scale * sin(seed * (k + 1) + k * k / 7): varied
    signs and sizes, the same on every machine."""
    k = np.arange(int(np.prod(shape, dtype=int)), dtype=np.float64)
    return (scale * np.sin(seed * (k + 1) + k * k / 7)).astype(np.float32).reshape(shape)


@dataclasses.dataclass(frozen=True)
class ClipCase:
    name: str
    grads: tuple  # float32 arrays
    clip_norm: float


@dataclasses.dataclass(frozen=True)
class ScheduleCase:
    name: str
    kwargs: dict
    steps: int


@dataclasses.dataclass(frozen=True)
class AdamWCase:
    name: str
    kwargs: dict  # AdamW's arguments; learning_rate a number or a dict of the schedule's
    compiled: bool

    @property
    def starts(self):
        return [
            s + formula_tensor(shape, 0.3 + i) for i, (s, shape) in enumerate(zip(STARTS, SHAPES))
        ]

    @property
    def gradient_stream(self):
        """The gradients of each call: every variable's shape, sizes from 1e-3 to 3."""
        return [
            [
                formula_tensor(shape, 1.1 + 0.7 * t + i, 10.0 ** (1.5 * np.sin(t + i) - 1))
                for i, shape in enumerate(SHAPES)
            ]
            for t in range(ADAMW_STEPS)
        ]


def public_cases(exercise: str) -> list:
    """The public cases of `exercise` (a name in EXERCISES), in the order they run."""
    if exercise == "clip_by_global_norm":
        three = tuple(
            formula_tensor(shape, 0.9 + i, 2.0) for i, shape in enumerate(((3, 4), (5,), ()))
        )
        lopsided = (formula_tensor((4,), 2.3, 6.0), formula_tensor((2, 2), 0.4, 0.05))
        return [
            ClipCase("three gradients of global norm 6.2, clip_norm 1 (clipped)", three, 1.0),
            ClipCase("the same gradients, clip_norm 10 (within bounds)", three, 10.0),
            ClipCase("a large and a small gradient, clip_norm 5 (clipped)", lopsided, 5.0),
        ]
    if exercise == "WarmupCosineDecay":
        return [
            ScheduleCase(
                "peak 0.01, 10 warm-up steps, 90 decay steps",
                {"peak_learning_rate": 0.01, "warmup_steps": 10, "decay_steps": 90},
                120,
            ),
            ScheduleCase(
                "peak 0.003, no warm-up, 50 decay steps, alpha 0.1",
                {"peak_learning_rate": 0.003, "warmup_steps": 0, "decay_steps": 50, "alpha": 0.1},
                60,
            ),
            ScheduleCase(
                "the notebook's schedule: peak 0.01, 30 warm-up steps, 270 decay steps, alpha 0.05",
                {"peak_learning_rate": 0.01, "warmup_steps": 30, "decay_steps": 270, "alpha": 0.05},
                320,
            ),
        ]
    if exercise == "AdamW":
        schedule = {"peak_learning_rate": 0.01, "warmup_steps": 5, "decay_steps": 20, "alpha": 0.1}
        cases = []
        for compiled in (False, True):
            how = "inside a tf.function" if compiled else "eagerly"
            cases += [
                AdamWCase(
                    f"learning rate 0.01, weight decay 0.1, {how}",
                    {"learning_rate": 0.01, "weight_decay": 0.1},
                    compiled,
                ),
                AdamWCase(
                    f"a warm-up cosine schedule (peak 0.01, 5 + 20 steps, alpha 0.1), weight "
                    f"decay 0.05, epsilon 1e-3, {how}",
                    {"learning_rate": schedule, "weight_decay": 0.05, "epsilon": 1e-3},
                    compiled,
                ),
            ]
        return cases
    raise ValueError(f"check() knows {', '.join(EXERCISES)}, not {exercise!r}")


def keras_schedule(kwargs: dict):
    """Keras' CosineDecay with the warm-up of WarmupCosineDecay(**kwargs): the schedule the AdamW
    cases use (so that they check your AdamW whatever your schedule does)."""
    import tensorflow as tf

    return tf.keras.optimizers.schedules.CosineDecay(
        0.0,
        kwargs["decay_steps"],
        alpha=kwargs.get("alpha", 0.0),
        warmup_target=kwargs["peak_learning_rate"],
        warmup_steps=kwargs["warmup_steps"],
    )


# --- Running a case: the answer as plain lists (JSON) and as given to the hints -----------------


def run_clip(function, case):
    """(clipped gradients as lists, global norm) of function(grads, clip_norm)."""
    import tensorflow as tf

    clipped, norm = function([tf.constant(g) for g in case.grads], case.clip_norm)
    return [np.asarray(c, dtype=np.float64).tolist() for c in clipped], float(norm)


def run_schedule(schedule_class, case):
    """The learning rate at steps 0 .. case.steps - 1."""
    schedule = schedule_class(**case.kwargs)
    return [float(schedule(step)) for step in range(case.steps)]


def run_adamw(optimizer_class, case):
    """The path: after each call, the list of the variables' values (nested lists)."""
    import tensorflow as tf

    kwargs = dict(case.kwargs)
    if isinstance(kwargs["learning_rate"], dict):
        kwargs["learning_rate"] = keras_schedule(kwargs["learning_rate"])
    optimizer = optimizer_class(**kwargs)
    variables = [tf.Variable(start) for start in case.starts]
    apply = optimizer.apply_gradients
    if case.compiled:
        apply = tf.function(apply)
    path = []
    for grads in case.gradient_stream:
        apply([tf.constant(g) for g in grads], variables)
        path.append([np.asarray(v.numpy(), dtype=np.float64).tolist() for v in variables])
    return path


RUNNERS = {"clip_by_global_norm": run_clip, "WarmupCosineDecay": run_schedule, "AdamW": run_adamw}


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


def _flat(answer) -> list:
    """An answer as one flat list of floats per row: a clip answer is one row (every clipped
    value, then the norm), a schedule one value per step, a path one row per call."""
    if isinstance(answer, tuple):
        clipped, norm = answer
        return [float(v) for c in clipped for v in np.ravel(c)] + [float(norm)]
    if answer and isinstance(answer[0], list):
        return [[float(v) for values in row for v in np.ravel(values)] for row in answer]
    return [float(v) for v in answer]


def _tolerance(name, case):
    if name == "AdamW":
        rate = case.kwargs["learning_rate"]
        peak = rate["peak_learning_rate"] if isinstance(rate, dict) else rate
        return absolute_tolerance(peak)
    return 1e-6


def hint(name, case, answer):
    """The hint key for `answer` (as `check` gets it) on the public case `case` of exercise
    `name`, or None; the grader asks the same of its copy of a submission's public cases."""
    if name == "clip_by_global_norm":
        return diagnose_clip(list(case.grads), case.clip_norm, answer)
    if name == "WarmupCosineDecay":
        return diagnose_schedule(case.kwargs, list(range(case.steps)), answer)
    return diagnose_adamw(case.gradient_stream, case.starts, case.kwargs, answer, case.compiled)


def check(obj, plot=True, name=None):
    """Run an exercise (`clip_by_global_norm`, `WarmupCosineDecay` or `AdamW`) on its public
    cases, print what differs, plot yours against the expected answers.

    `obj` is checked as the exercise it is named after, or as `name` if given. Returns a
    `SelfCheck` (`.passed`, `.results`, and `.figure` when plotted)."""
    name = name or getattr(obj, "__name__", "")
    if name not in EXERCISES:
        raise ValueError(f"check() knows {', '.join(EXERCISES)}, not {name or obj!r}")
    expected, results = expectations()[name], []
    for case in public_cases(name):
        results.append((case.name, *_judge(obj, name, case, expected[case.name])))
    report = SelfCheck(name, _step_count_hints(name, results))
    print_report(report, "inputs the notebook shows")
    if plot:
        report.figure = _plot(report, name, public_cases(name), expected)
    return report


def _step_count_hints(name, results):
    """A step count frozen in the compiled cases is a Python int only if the eager cases pass."""
    cases = public_cases(name) if name == "AdamW" else []
    if not any(not ok and not case.compiled for case, (_, ok, _, _) in zip(cases, results)):
        return results
    python_int, frozen = HINTS["step_counter_python_int"], HINTS["step_counter_not_advanced"]
    return [
        (case, ok, message.replace(python_int, frozen), got) for case, ok, message, got in results
    ]


def _judge(obj, name, case, expected):
    """(passed, message, answer) for one case."""
    try:
        answer = RUNNERS[name](obj, case)
    except NotImplementedError:
        return False, HINTS["not_implemented"], None
    except Exception as error:  # noqa: BLE001 - the student's code may raise anything
        message = f"your code raised {type(error).__name__}: {textwrap.shorten(str(error), 300)}"
        key = diagnose_exception(str(error), getattr(case, "compiled", False))
        return False, message + (HINT + HINTS[key] if key else ""), None
    got, want = _flat(answer), _flat(tuple(expected) if name == "clip_by_global_norm" else expected)
    if len(got) != len(want):
        return False, f"expected {len(want)} values, got {len(got)}.", answer
    departure = first_departure(got, want, _tolerance(name, case))
    if departure is None:
        return True, "", answer
    step, index, got_value, want_value = departure
    where = {
        "clip_by_global_norm": "the global norm" if index == len(want) - 1 else f"value {index}",
        "WarmupCosineDecay": f"step {step - 1}",
        "AdamW": f"call {step}, value {index} of the variables",
    }[name]
    message = f"at {where}: expected {want_value:.7g}, got {got_value:.7g}."
    key = hint(name, case, answer)
    return False, message + (HINT + HINTS[key] if key else ""), answer


def _plot(report, name, cases, expected):
    """One panel per case: the expected answer (wide, grey) and yours (green where the case
    passes, red where it fails)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(cases), figsize=(4.6 * len(cases), 3.6), squeeze=False)
    for ax, case, (_, ok, _, answer) in zip(axes.flat, cases, report.results):
        color = "tab:green" if ok else "tab:red"
        if name == "clip_by_global_norm":
            want = np.array(_flat(tuple(expected[case.name]))[:-1])
            ax.plot(want, "s", c="0.6", ms=9, label="expected")
            if answer is not None:
                ax.plot(np.array(_flat(answer)[:-1]), "o", c=color, ms=4, label="yours")
            ax.set_xlabel("clipped value (all gradients, one after the other)")
        elif name == "WarmupCosineDecay":
            ax.plot(expected[case.name], c="0.6", lw=5, label="expected")
            if answer is not None:
                ax.plot(answer, c=color, lw=1.5, label="yours")
            ax.set_xlabel("step")
            ax.set_ylabel("learning rate")
        else:
            want = np.array(_flat(expected[case.name]))
            for k in range(3):
                ax.plot(want[:, k], c="0.6", lw=5, label="expected" if k == 0 else None)
            if answer is not None:
                got = np.array(_flat(answer), dtype=np.float64)
                for k in range(3):
                    ax.plot(got[:, k], c=color, lw=1.5, label="yours" if k == 0 else None)
            ax.set_xlabel("call")
            ax.set_ylabel("first three values")
        ax.set_title(textwrap.fill(("PASS: " if ok else "FAIL: ") + case.name, 55), fontsize=8)
        ax.legend(fontsize=8)
    fig.suptitle(f"{name}: yours against the expected answers", fontsize=11)
    # Margins in inches, room for the tick labels and axis labels: the figure needs no cropping.
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=0.9 / width, right=1 - 0.1 / width, bottom=0.65 / height, top=0.78, wspace=0.25
    )
    return fig
