"""Lesson 3 as an assignment: its tests, cases, oracles, hints and public files.

Three exercises: `clip_by_global_norm` (a function), `WarmupCosineDecay` (a schedule) and
`AdamW` (an optimizer). Every input is made inside the sandbox from a seed with NumPy
(`guest.py`): gradients of several shapes, two of one shape, never from a matrix product, so
nothing depends on the order of a sum. Public cases are the inputs the notebook's self-checks
show; hidden ones use other shapes, norms, schedules and hyperparameters, and feedback names their
settings, never their expected values.

Each typical bug has a case that tells it apart (and a sample in `samples.py`):
- clipping each tensor by its own norm: gradients above the bound whose tensors' norms differ;
- scaling even within bounds: gradients within the bound (then nothing may change);
- all-zero gradients: a global norm of 0 must give zeros, not NaN;
- warm-up without the cosine part, or the cosine without the warm-up: values at every step from
  0 past warmup_steps + decay_steps;
- L2 added to the gradient, or the decay not scaled by the learning rate: weight_decay 0.5;
- the schedule called with a step that starts at 1: a schedule (a plain callable of the step,
  independent of the student's WarmupCosineDecay) as learning_rate;
- state created at each call, or the step counter a Python int: the same instance eagerly, then
  inside a `tf.function` (its path must be the eager one);
- Keras' bias correction form: epsilon 0.1 (the textbook form differs by then).

End to end, the submission's three pieces train the lesson's network (`course_utils.digits`)
with the notebook's recipe (300 steps, WarmupCosineDecay(0.01, 30, 270, alpha=0.05), default
weight decay, gradients clipped to norm 1) and must reach the solution's validation accuracy
(0.9722 with seed 0) minus END_TO_END_MARGIN. The solution's accuracy over seeds 0 to 4 (initial
weights and batches; the same split), measured with TensorFlow 2.21 on CPU: 0.9722, 0.9694,
0.9694, 0.9750, 0.9694 (spread 0.0056, two images of 360). The margin, 0.03 (11 images), is
five times that: room for another correct order of operations, far above a diverged run (NaN)
or an optimizer that does not learn (0.1 with the step's sign flipped, 0.86 with a frozen step
count). Each run takes about 0.4 s (1 s with the first trace).
"""

import functools
import math
from pathlib import Path

from autograder.assignment import DEFINED, Assignment, CaseList, Test
from autograder.assignments.adamw_training import guest
from course_utils import hints_training

EXERCISES = {
    "clip_by_global_norm": "clip_by_global_norm",
    "WarmupCosineDecay": "warmup_cosine_decay",
    "AdamW": "adamw",
}
CLIP, SCHEDULE, ADAMW = EXERCISES
SHAPES = [[], [3], [2, 3], [3]]  # two of one shape: state per variable, not per shape

# The public cases: the self-checks' (course_utils.selfcheck_training.public_cases, run by the
# guest's "public" driver on the very inputs the notebook shows), named as the self-check names
# them; for AdamW with its learning rate (the tolerance's scale).
PUBLIC = {
    "clip_by_global_norm": [
        ("three gradients of global norm 6.2, clip_norm 1 (clipped)", None),
        ("the same gradients, clip_norm 10 (within bounds)", None),
        ("a large and a small gradient, clip_norm 5 (clipped)", None),
    ],
    "WarmupCosineDecay": [
        ("peak 0.01, 10 warm-up steps, 90 decay steps", None),
        ("peak 0.003, no warm-up, 50 decay steps, alpha 0.1", None),
        (
            "the notebook's schedule: peak 0.01, 30 warm-up steps, 270 decay steps, alpha 0.05",
            None,
        ),
    ],
    "AdamW": [
        (f"{settings}, {how}", 0.01)
        for how in ("eagerly", "inside a tf.function")
        for settings in (
            "learning rate 0.01, weight decay 0.1",
            "a warm-up cosine schedule (peak 0.01, 5 + 20 steps, alpha 0.1), weight decay 0.05, "
            "epsilon 1e-3",
        )
    ],
}
PUBLIC_SHAPES = [[3, 2], [2], []]  # the self-check's AdamW variables

# --- clip_by_global_norm: (shapes, seed, clip_norm, global norm before clipping, zero indices) --
CLIP_WITHIN = [
    (SHAPES, 3, 2.0, 0.3, ()),
    ([[5], [2, 2], [1]], 4, 10.0, 9.0, ()),
]
CLIP_ABOVE = [
    (SHAPES, 5, 1.5, 7.5, ()),
    ([[4], [2, 3], [4]], 6, 0.1, 50.0, ()),
]
CLIP_ZERO = [
    (SHAPES, 7, 1.0, 4.0, (1,)),  # one zero gradient among others
    ([[3], [2, 2]], 8, 1.0, None, (0, 1)),  # all zero: norm 0, gradients stay 0 (no NaN)
]
CLIP_COMPILED = [(SHAPES, 9, 1.0, 3.0, ()), (SHAPES, 10, 5.0, 2.0, ())]
CLIP_ORACLE = [(SHAPES, 11, 0.7, 2.5, ()), ([[6], [3, 2]], 12, 3.0, 1.0, (0,))]

# --- WarmupCosineDecay: (args, steps, kind) ----------------------------------------------------
SCHEDULE_WARMUP = [((0.003, 7, 50), list(range(0, 12)), "int"), ((0.5, 1, 10), [0, 1, 2], "int")]
SCHEDULE_DECAY = [
    ((0.02, 5, 40, 0.1), list(range(0, 61, 3)), "int"),  # alpha > 0, beyond the decay
    ((0.01, 0, 30), list(range(0, 41, 2)), "int"),  # no warm-up
]
SCHEDULE_TENSOR = [
    ((0.004, 12, 60, 0.05), list(range(0, 81, 4)), "tensor"),
    ((0.004, 12, 60, 0.05), list(range(0, 81, 4)), "compiled"),
]
SCHEDULE_ORACLE = [((0.05, 15, 85, 0.2), list(range(0, 121, 3)), "int")]

# --- AdamW --------------------------------------------------------------------------------------
ADAMW_STEPS = 20
ADAMW_HYPERPARAMETERS = [
    {"learning_rate": 0.02, "weight_decay": 0.0},
    {"learning_rate": 0.02, "weight_decay": 0.5},
    {"learning_rate": 0.01, "epsilon": 0.1, "weight_decay": 0.1},
    {"learning_rate": 0.005, "beta_1": 0.5, "beta_2": 0.9},
]
INVERSE_TIME = {"learning_rate": 0.02, "decay": 0.3}  # guest.inverse_time: lr / (1 + decay * t)
INSTANCES = ({"learning_rate": 0.01}, {"learning_rate": 0.03, "weight_decay": 0.2})
SWITCH = 8  # "switch" mode: this many eager updates, then compiled ones, same instance
ORACLE_KWARGS = {"weight_decay": 0.3, "epsilon": 1e-3, "beta_2": 0.99}

# --- End to end: the notebook's training with the three pieces -----------------------------------
END_TO_END = {
    "kwargs": {"weight_decay": 0.004},
    "schedule": [0.01, 30, 270, 0.05],
    "clip_norm": 1.0,
    "steps": 300,
    "seed": 0,
}
END_TO_END_STEPS = END_TO_END["steps"]
END_TO_END_MARGIN = 0.03


def _tests():
    return {
        CLIP: [
            Test(DEFINED, "is defined and returns finite values", 1, True),
            Test("public", "the notebook's checks, within and above the bound", 2, True),
            Test("within_bounds", "gradients within the bound are left untouched", 2, False),
            Test("above", "gradients above the bound, several shapes", 2, False),
            Test("zero", "zero gradients (one of them, or all)", 1, False),
            Test("compiled", "inside a tf.function", 1, False),
            Test("oracle", "agrees with tf.clip_by_global_norm", 2, False),
        ],
        SCHEDULE: [
            Test(DEFINED, "is defined and returns finite values", 1, True),
            Test("public", "the notebook's checks", 2, True),
            Test("warmup", "other warm-ups", 2, False),
            Test("decay", "other decays: alpha, no warm-up, past the end", 2, False),
            Test("tensor", "steps as int64 tensors, eagerly and in a tf.function", 2, False),
            Test("oracle", "agrees with Keras' CosineDecay", 2, False),
        ],
        ADAMW: [
            Test(DEFINED, "is defined and applies an update", 1, True),
            Test("public", "the notebook's checks, eagerly and in a tf.function", 1, True),
            Test(
                "hyperparameters", "other hyperparameters (weight decay, epsilon, betas)", 2, False
            ),
            Test("schedule", "a schedule as learning rate", 1, False),
            Test("variables", "several variables at once", 1, False),
            Test("instances", "separate instances keep separate state", 1, False),
            Test(
                "compiled", "in a tf.function, after eager updates of the same instance", 1, False
            ),
            Test("oracle", "agrees with Keras' AdamW", 1, False),
            Test("end_to_end", "trains the lesson's network", 2, False),
        ],
    }


def _shapes(shapes):
    return ", ".join(str(tuple(s)) for s in shapes)


def _clip_params(shapes, seed, clip_norm, norm, zero, compiled=False):
    params = {"shapes": shapes, "seed": seed, "clip_norm": clip_norm, "norm": norm}
    if zero:
        params["zero"] = list(zero)
    if compiled:
        params["compiled"] = True
    if norm is None:
        before = "all zero"
    else:
        before = f"global norm {norm:g}" + (f", zero at {list(zero)}" if zero else "")
    shown = f"clip_norm {clip_norm:g}; gradients of shapes {_shapes(shapes)}, {before}"
    return params, shown + ("; in a tf.function" if compiled else "")


def _schedule_params(args, steps, kind):
    how = {"int": "", "tensor": " (int64 tensors)", "compiled": " (int64, in a tf.function)"}
    shown = f"WarmupCosineDecay{tuple(args)!r} at steps {steps[0]} to {steps[-1]}{how[kind]}"
    return {"args": list(args), "steps": steps, "kind": kind}, shown


def _adamw_shown(kwargs, shapes, count, schedule=None, mode="eager"):
    parts = [", ".join(f"{k}={v:g}" for k, v in kwargs.items())] if kwargs else []
    if schedule:
        parts.append(
            f"learning_rate a schedule {schedule['learning_rate']:g} / "
            f"(1 + {schedule['decay']:g} * step)"
        )
    parts.append(f"variables of shapes {_shapes(shapes)}; {count} updates")
    if mode == "compiled":
        parts.append("in a tf.function")
    elif mode == "switch":
        parts.append(f"the first {SWITCH} eager, the next in a tf.function")
    return "; ".join(p for p in parts if p)


def _adamw(kwargs, shapes=SHAPES, seed=1, count=ADAMW_STEPS, schedule=None, mode="eager"):
    params = {"kwargs": kwargs, "shapes": shapes, "seed": seed, "count": count}
    if schedule:
        params["kwargs_schedule"] = schedule  # its learning_rate sets the tolerance
    if mode != "eager":
        params["mode"] = mode
        params["switch"] = SWITCH if mode == "switch" else 0
    return params, _adamw_shown(kwargs, shapes, count, schedule, mode)


def _cases():
    cases = CaseList()

    add = functools.partial(cases.add, CLIP, driver="clip")
    params, shown = _clip_params([[3]], 0, 1.0, 0.5, ())
    add(DEFINED, params=params, shown=shown)
    for test, inputs in (
        ("within_bounds", CLIP_WITHIN),
        ("above", CLIP_ABOVE),
        ("zero", CLIP_ZERO),
        ("oracle", CLIP_ORACLE),
    ):
        for row in inputs:
            params, shown = _clip_params(*row)
            oracle = "tf_clip" if test == "oracle" else "solution"
            add(test, params=params, shown=shown, public=test == "public", oracle=oracle)
    for row in CLIP_COMPILED:
        params, shown = _clip_params(*row, compiled=True)
        add("compiled", params=params, shown=shown)

    add = functools.partial(cases.add, SCHEDULE, driver="schedule")
    params, shown = _schedule_params((0.01, 10, 100), [0, 5, 10, 50], "int")
    add(DEFINED, params=params, shown=shown)
    for test, inputs in (
        ("warmup", SCHEDULE_WARMUP),
        ("decay", SCHEDULE_DECAY),
        ("tensor", SCHEDULE_TENSOR),
        ("oracle", SCHEDULE_ORACLE),
    ):
        for row in inputs:
            params, shown = _schedule_params(*row)
            oracle = "keras_cosine_decay" if test == "oracle" else "solution"
            add(test, params=params, shown=shown, public=test == "public", oracle=oracle)

    add = functools.partial(cases.add, ADAMW, compare="rows")
    start = [1.0, -2.0, 0.5]
    add(
        DEFINED,
        "one_update",
        {"kwargs": {"learning_rate": 0.01}, "start": start},
        shown=f"learning_rate=0.01; one update of x = {tuple(start)} with gradient 1",
    )
    for kwargs in ADAMW_HYPERPARAMETERS:
        params, shown = _adamw(kwargs, seed=2)
        add("hyperparameters", "adamw", params, shown=shown)
    params, shown = _adamw({"weight_decay": 0.1}, seed=3, schedule=INVERSE_TIME)
    add("schedule", "adamw", params, shown=shown)
    params, shown = _adamw({"learning_rate": 0.01, "weight_decay": 0.05}, seed=4, count=30)
    add("variables", "adamw", params, shown=shown)
    kwargs_a, kwargs_b = INSTANCES
    add(
        "instances",
        "instances",
        {"kwargs_a": kwargs_a, "kwargs_b": kwargs_b, "shapes": SHAPES, "seed": 5, "count": 15},
        compare="paths",
        shown=f"two instances ({_adamw_shown(kwargs_a, SHAPES, 15)}) and "
        f"({', '.join(f'{k}={v:g}' for k, v in kwargs_b.items())}) updated in turn",
    )
    # Compiled from the first call first: a frozen Python step count then names its hint.
    params, shown = _adamw({"learning_rate": 0.01}, seed=7, mode="compiled")
    add("compiled", "adamw", params, shown=shown)
    params, shown = _adamw({"weight_decay": 0.1}, seed=6, schedule=INVERSE_TIME, mode="switch")
    add("compiled", "adamw", params, shown=shown)
    params, shown = _adamw(ORACLE_KWARGS, seed=8, count=30, schedule=INVERSE_TIME)
    add("oracle", "adamw", params, shown=shown, oracle="keras_adamw")
    peak, warmup, decay, alpha = END_TO_END["schedule"]
    add(
        "end_to_end",
        "train",
        END_TO_END,
        compare="minimum",
        margin=END_TO_END_MARGIN,
        shown=f"the lesson's network, {END_TO_END_STEPS} steps of AdamW (weight_decay="
        f"{END_TO_END['kwargs']['weight_decay']:g}) with WarmupCosineDecay({peak:g}, {warmup}, "
        f"{decay}, alpha={alpha:g}) and clip_by_global_norm(grads, {END_TO_END['clip_norm']:g})",
    )
    for exercise in EXERCISES:
        for index, (name, learning_rate) in enumerate(PUBLIC[exercise]):
            params = {"exercise": exercise, "index": index}
            if learning_rate is not None:
                params |= {
                    "shapes": PUBLIC_SHAPES,
                    "kwargs_scale": {"learning_rate": learning_rate},
                }
            compare = "rows" if exercise == ADAMW else "path"
            cases.add(exercise, "public", "public", params, True, compare, shown=name)
    return tuple(cases.cases)


# --- Hints ----------------------------------------------------------------------------------------


def _path(record):
    result = record.get("result")
    path = result.get("path") if isinstance(result, dict) else None
    return path if isinstance(path, list) else None


def _split(row, shapes):
    """A flat row of numbers cut into arrays of `shapes`, or None."""
    import numpy as np

    sizes = [math.prod(shape) for shape in shapes]
    if not isinstance(row, list) or len(row) != sum(sizes):
        return None
    arrays, at = [], 0
    for shape, size in zip(shapes, sizes):
        arrays.append(np.asarray(row[at : at + size], dtype=np.float64).reshape(shape))
        at += size
    return arrays


def _compiled(case):
    params = case.params
    return (
        bool(params.get("compiled"))
        or params.get("kind") == "compiled"
        or (params.get("mode", "eager") != "eager")
    )


def diagnose(submission, case, record):
    """The likeliest mistake behind a failed case, named by course_utils.hints_training's bug
    oracles replayed on the case's very inputs (made again here from its seed, with NumPy)."""
    if case.test in (DEFINED, "end_to_end"):
        return None
    if record.get("error"):
        return hints_training.diagnose_exception(record["error"], _compiled(case))
    path, params = _path(record), case.params
    if path is None:
        return None
    if case.driver == "clip":
        grads = guest.gradient_list(
            params["shapes"], params["seed"], params["norm"], params.get("zero", ())
        )
        clipped = _split(path[:-1], params["shapes"])
        if clipped is None:
            return None
        return hints_training.diagnose_clip(grads, params["clip_norm"], (clipped, path[-1]))
    if case.driver == "schedule":
        kwargs = dict(zip(hints_training.SCHEDULE_KEYS, params["args"]))
        return hints_training.diagnose_schedule(kwargs, params["steps"], path)
    if case.driver == "adamw":
        return _adamw_hint(params, path, _compiled(case))
    if case.driver == "public":
        return _public_hint(case, path)
    return None


def _public_hint(case, path):
    """The self-check's own hint for a public case (the same inputs, the same words)."""
    from course_utils import selfcheck_training

    public = selfcheck_training.public_cases(case.exercise)[case.params["index"]]
    if case.exercise == "clip_by_global_norm":
        clipped = _split(path[:-1], [g.shape for g in public.grads])
        if clipped is None or not isinstance(path[-1], (int, float)):
            return None
        answer = (clipped, path[-1])
    elif case.exercise == "WarmupCosineDecay":
        answer = path
    else:
        answer = [_split(row, [s.shape for s in public.starts]) for row in path]
        if any(values is None for values in answer):
            return None
    return selfcheck_training.hint(case.exercise, public, answer)


def _adamw_hint(params, path, compiled):
    shapes, seed, count = params["shapes"], params["seed"], params["count"]
    kwargs = dict(params["kwargs"])
    if "kwargs_schedule" in params:
        rate, decay = params["kwargs_schedule"]["learning_rate"], params["kwargs_schedule"]["decay"]
        kwargs["learning_rate"] = lambda step: rate / (1.0 + decay * step)
    got = [_split(row, shapes) for row in path]
    if any(values is None for values in got):
        return None
    stream = [guest.gradient_stream(shapes, seed, step) for step in range(count)]
    starts = guest.starting_values(shapes, seed)
    return hints_training.diagnose_adamw(stream, starts, kwargs, got, compiled=compiled)


# --- Feedback plots -------------------------------------------------------------------------------


def public_plots(run, references):
    """(title, PNG bytes) per exercise, from its public cases only: the clipped values, the
    schedule and AdamW's path, each against the expected ones."""
    plots = []
    for exercise, draw in ((CLIP, _draw_clip), (SCHEDULE, _draw_schedule), (ADAMW, _draw_adamw)):
        panels = []
        for case in ASSIGNMENT.cases:
            if case.exercise == exercise and case.public:
                got = _numbers(_path(run.results.get(case.id) or {}))
                if got is not None:
                    panels.append((case, got, references[case.id]))
        if panels:
            plots.append(draw(panels))
    return plots


def _numbers(path):
    """`path` as a float array (rows or numbers; non-numbers as NaN), or None."""
    import numpy as np

    if not isinstance(path, list) or not path:
        return None
    width = len(path[0]) if isinstance(path[0], list) else None
    if width is not None and not all(isinstance(r, list) and len(r) == width for r in path):
        return None
    if width is None and any(isinstance(v, list) for v in path):
        return None
    rows = path if width is not None else [[v] for v in path]

    def number(v):
        return v if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan

    array = np.asarray([[number(v) for v in row] for row in rows], dtype=np.float64)
    return array if width is not None else array[:, 0]


def _figure(count):
    from autograder.report import new_figure

    fig = new_figure(figsize=(3.6 * count, 3.0))
    return fig, fig.subplots(1, count, squeeze=False)[0]


def _finish(fig, axes, title):
    from autograder.report import figure_png

    axes[0].legend(loc="best", fontsize=7)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.86, bottom=0.16, wspace=0.3)
    return title, figure_png(fig)


def _draw_clip(panels):
    import numpy as np

    fig, axes = _figure(len(panels))
    for ax, (case, got, expected) in zip(axes, panels):
        want = np.asarray(expected["path"], dtype=np.float64)
        index = np.arange(len(want))
        ax.bar(index, want, color="0.8", label="expected")
        ax.plot(
            index[: len(got)],
            np.clip(got, -1e3, 1e3)[: len(want)],
            "o",
            c="tab:red",
            ms=4,
            label="yours",
        )
        ax.set_xlabel("clipped values, then the global norm", fontsize=7)
        ax.set_title(case.settings().split("; ")[-1], fontsize=8)
    return _finish(fig, axes, f"{CLIP}: the notebook's gradients")


def _draw_schedule(panels):
    import numpy as np

    fig, axes = _figure(len(panels))
    for ax, (case, got, expected) in zip(axes, panels):
        steps = np.arange(len(expected["path"]))  # the self-check reads steps 0, 1, ...
        ax.plot(steps, expected["path"], c="0.6", lw=4, alpha=0.7, label="expected")
        ax.plot(
            steps[: len(got)],
            np.clip(got, -1e3, 1e3)[: len(steps)],
            c="tab:red",
            lw=1.3,
            label="yours",
        )
        ax.set_xlabel("step", fontsize=7)
        ax.set_title(case.settings(), fontsize=8)
    return _finish(fig, axes, f"{SCHEDULE}: the notebook's schedule")


def _draw_adamw(panels):
    import numpy as np

    fig, axes = _figure(len(panels))
    for ax, (case, got, expected) in zip(axes, panels):
        want = np.vstack([expected["start"], expected["path"]])
        steps = np.arange(len(want))
        for k in range(want.shape[1]):
            ax.plot(
                steps, want[:, k], c="0.6", lw=4, alpha=0.6, label="expected" if k == 0 else None
            )
        if got.ndim == 2 and got.shape[1] == want.shape[1]:
            mine = np.vstack([want[:1], np.clip(got, -1e3, 1e3)])
            for k in range(mine.shape[1]):
                ax.plot(
                    steps[: len(mine)],
                    mine[: len(steps), k],
                    c="tab:red",
                    lw=1.1,
                    label="yours" if k == 0 else None,
                )
        ax.set_xlabel("update", fontsize=7)
        ax.set_title(case.settings().split("; ")[0] + ", every element", fontsize=8)
    return _finish(fig, axes, f"{ADAMW}: the notebook's check, every variable's elements")


# --- Student-visible files ------------------------------------------------------------------------


def public_files():
    """The self-checks' expected values (course_utils), computed from the solutions."""
    from course_utils import selfcheck_training

    solutions = {name: ASSIGNMENT.solution_class(name) for name in EXERCISES}
    return {
        selfcheck_training.EXPECTATIONS: (
            "expected",
            selfcheck_training.build_expectations(solutions),
        )
    }


ORACLES_MODULE = (
    "autograder.assignments.adamw_training.oracles"  # imported when references are built
)

ASSIGNMENT = Assignment(
    name="adamw_training",
    title="Lesson 3: train a real network with your own AdamW",
    teaches="gradient clipping by the global norm, a warm-up cosine learning-rate schedule and "
    "AdamW written by hand, checked against TensorFlow and Keras step by step, eagerly and "
    "inside tf.function, then training a multilayer perceptron on handwritten digits",
    exercises=EXERCISES,
    tests=_tests(),
    cases=_cases(),
    folder=Path(__file__).parent,
    hints=hints_training.HINTS,
    mistakes=hints_training.MISTAKES,
    oracles={
        "tf_clip": f"{ORACLES_MODULE}:tf_clip_by_global_norm",
        "keras_cosine_decay": f"{ORACLES_MODULE}:KerasWarmupCosineDecay",
        "keras_adamw": f"{ORACLES_MODULE}:KerasAdamW",
    },
    diagnose=diagnose,
    public_plots=public_plots,
    public_files=public_files,
    forbidden=(
        "tensorflow.clip_by_global_norm",
        "tensorflow.clip_by_norm",
        "keras.optimizers.schedules",
        "keras.ops.clip_by_global_norm",
    ),
    examples={
        "alice": "correct_variant",
        "bob": "adamw_l2_not_decoupled",
        "carol": "untouched",
        "dave": "syntax_error_schedule",
        "erin": "clip_per_tensor",
    },
)
