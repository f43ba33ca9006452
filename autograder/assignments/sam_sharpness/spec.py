"""Lesson 4 as an assignment: its tests, cases, oracles, hints and public files.

Three exercises: `SAM` (a class around a Keras optimizer), `hessian_vector_product` and
`top_hessian_eigenvalue` (functions). Every input is one of the small float64 problems of
`course_utils.sharpness_problems` made inside the sandbox from a seed (`guest.py`), whose loss,
gradient and Hessian are exact in NumPy. Public cases are the notebook's self-checks
(`course_utils.selfcheck_sam.public_cases`); hidden ones use other seeds, rho, base optimizers
and vectors, and feedback names their settings, never their expected values.

Each typical bug has a case that tells it apart (and a sample in `samples.py`):
- weights not restored, each tensor normalised by its own norm, the first gradient applied, the
  perturbation downhill: SAM's paths around SGD and Adam (several rho), and a recording base
  optimizer that sees the weights at apply time (the unperturbed w) and the gradient (at w + e);
- a Python float in the norm: the same instance eagerly then in a tf.function, and compiled from
  the first call (float64 variables: the float fails to trace or meets a float32 cast);
- the product as gradient times vector: H v for several vectors, unit ones picking columns;
- power iteration without normalisation, ||H v|| for the eigenvalue: the eigenpair at a minimum
  and at a saddle (a dominant negative eigenvalue), the eigenvector compared up to sign. These
  run with the exact product injected for `hessian_vector_product` (guest.eigen), so a wrong
  product costs only its own points; the problems' top eigenvalue outweighs the second by at
  least 3, so the cases' 20 iterations leave an error of about 3**-40 (eigvalsh met to 1e-12).
"""

import functools
from pathlib import Path

from autograder.assignment import DEFINED, Assignment, CaseList, Test
from autograder.assignments.sam_sharpness import guest
from course_utils import hints_sam, selfcheck_sam, sharpness_problems

EXERCISES = {
    "SAM": "sam",
    "hessian_vector_product": "hessian_vector_product",
    "top_hessian_eigenvalue": "top_hessian_eigenvalue",
}
SAM, PRODUCT, EIGEN = EXERCISES
SHAPES = [list(shape) for shape in sharpness_problems.SHAPES]
STEPS = 5
SGD, ADAM = "sgd", "adam"

# (base, its kwargs, rho, seed of "regression", mode)
SAM_SGD = [
    (SGD, {"learning_rate": 0.1}, 0.01, 2, "eager"),
    (SGD, {"learning_rate": 0.05, "momentum": 0.9}, 0.5, 3, "eager"),
]
SAM_ADAM = [
    (ADAM, {"learning_rate": 0.01}, 0.1, 4, "eager"),
    (ADAM, {"learning_rate": 0.05, "beta_1": 0.5}, 0.3, 5, "eager"),
]
SAM_COMPILED = [
    (SGD, {"learning_rate": 0.1, "momentum": 0.5}, 0.1, 7, "switch"),
    (ADAM, {"learning_rate": 0.02}, 0.2, 8, "compiled"),
]
SAM_ORACLE = [(SGD, {"learning_rate": 0.1}, 0.2, 9, "eager")]
SWITCH = 3
RECORDING = {"rho": 0.1, "seed": 6, "steps": 3, "kwargs": {"learning_rate": 0.1}}

# (problem, seed, random vectors' seeds, unit vectors' flat indices, compiled)
B_0, S = 12, 16  # the flat indices of b[0] and s, after W (3 x 4)
PRODUCT_VECTORS = [("regression", 1, [1, 2], [0, B_0, S], False)]
PRODUCT_POINTS = [("minimum", 1, [3], [], False), ("saddle", 2, [4], [S], False)]
PRODUCT_COMPILED = [("regression", 3, [5, 6], [], True)]
PRODUCT_ORACLE = [("regression", 4, [7], [], False), ("saddle", 3, [8], [], False)]

# (problem, seed, the seed of power iteration's start)
EIGEN_MINIMUM = [("minimum", 1, 0), ("minimum", 2, 3)]
EIGEN_SADDLE = [("saddle", 1, 0), ("saddle", 2, 5)]
EIGEN_ORACLE = [("minimum", 3, 1), ("saddle", 3, 2)]
ITERATIONS = selfcheck_sam.ITERATIONS


def _tests():
    return {
        SAM: [
            Test(DEFINED, "is defined and takes a step", 1, True),
            Test("public", "the notebook's checks, eagerly and in a tf.function", 2, True),
            Test("sgd", "around Keras SGD, other rho and momentum", 2, False),
            Test("adam", "around Keras Adam, other rho and betas", 2, False),
            Test(
                "restored", "hands the base optimizer grad L(w + e) with the weights at w", 2, False
            ),
            Test("compiled", "in a tf.function, after eager steps of the same instance", 2, False),
            Test("oracle", "agrees with SAM written with tf.linalg.global_norm", 1, False),
        ],
        PRODUCT: [
            Test(DEFINED, "is defined and returns a product", 1, True),
            Test("public", "the notebook's checks", 2, True),
            Test("vectors", "several vectors, columns of the Hessian", 2, False),
            Test("points", "at a minimum and at a saddle", 1, False),
            Test("compiled", "inside a tf.function", 1, False),
            Test("oracle", "agrees with the full Hessian from GradientTape.jacobian", 1, False),
        ],
        EIGEN: [
            Test(DEFINED, "is defined and returns an eigenpair", 1, True),
            Test("public", "the notebook's checks", 2, True),
            Test("minimum", "at other minima", 2, False),
            Test("saddle", "at saddles: the negative eigenvalue, signed", 2, False),
            Test("oracle", "agrees with numpy.linalg.eigh", 1, False),
        ],
    }


def _base_words(base, kwargs):
    name = {SGD: "Keras SGD", ADAM: "Keras Adam"}[base]
    return f"{name}({', '.join(f'{k}={v:g}' for k, v in kwargs.items())})"


def _sam(base, kwargs, rho, seed, mode, steps=STEPS):
    params = {"base": base, "kwargs": kwargs, "rho": rho, "seed": seed, "steps": steps}
    params |= {"shapes": SHAPES}
    how = {
        "eager": "eagerly",
        "compiled": "in a tf.function",
        "switch": f"the first {SWITCH} eagerly, the next in a tf.function",
    }[mode]
    if mode != "eager":
        params |= {"mode": mode, "switch": SWITCH if mode == "switch" else 0}
    shown = f"rho {rho:g} around {_base_words(base, kwargs)}, regression problem (seed {seed}); "
    return params, shown + f"{steps} calls of minimize, {how}"


def _product(problem, seed, vector_seeds, directions, compiled):
    params = {"problem": problem, "seed": seed, "vector_seeds": vector_seeds}
    params |= {"directions": directions, "compiled": compiled, "shapes": SHAPES}
    count = len(vector_seeds) + len(directions)
    units = f" ({len(directions)} of them unit vectors)" if directions else ""
    shown = f"{problem} problem (seed {seed}): {count} vectors{units}"
    return params, shown + ("; in a tf.function" if compiled else "")


def _eigen(problem, seed, start):
    params = {"problem": problem, "seed": seed, "iterations": ITERATIONS, "start_seed": start}
    shown = f"{problem} problem (seed {seed}), {ITERATIONS} iterations, seed={start}"
    return params, shown + "; with the exact Hessian-vector product"


def _cases():
    cases = CaseList()
    add = functools.partial(cases.add, SAM, compare="rows")
    params, shown = _sam(SGD, {"learning_rate": 0.1}, 0.05, 0, "eager", steps=1)
    add(DEFINED, "sam", params, shown=shown)
    for test, rows in (
        ("sgd", SAM_SGD),
        ("adam", SAM_ADAM),
        ("compiled", SAM_COMPILED),
        ("oracle", SAM_ORACLE),
    ):
        for row in rows:
            params, shown = _sam(*row)
            add(
                test,
                "sam",
                params,
                shown=shown,
                oracle="tf_sam" if test == "oracle" else "solution",
            )
    add(
        "restored",
        "recording",
        RECORDING | {"shapes": SHAPES},
        shown=f"rho {RECORDING['rho']:g} around a base optimizer that records the weights and "
        f"the gradient it is handed, regression problem (seed {RECORDING['seed']}); "
        f"{RECORDING['steps']} calls of minimize",
    )

    add = functools.partial(cases.add, PRODUCT, compare="rows")
    params, shown = _product("regression", 0, [1], [], False)
    add(DEFINED, "product", params, shown=shown)
    for test, rows in (
        ("vectors", PRODUCT_VECTORS),
        ("points", PRODUCT_POINTS),
        ("compiled", PRODUCT_COMPILED),
        ("oracle", PRODUCT_ORACLE),
    ):
        for row in rows:
            params, shown = _product(*row)
            oracle = "jacobian" if test == "oracle" else "solution"
            add(test, "product", params, shown=shown, oracle=oracle)

    add = functools.partial(cases.add, EIGEN)
    params, shown = _eigen("minimum", 0, 0)
    add(DEFINED, "eigen", params, shown=shown)
    for test, rows in (
        ("minimum", EIGEN_MINIMUM),
        ("saddle", EIGEN_SADDLE),
        ("oracle", EIGEN_ORACLE),
    ):
        for row in rows:
            params, shown = _eigen(*row)
            add(
                test,
                "eigen",
                params,
                shown=shown,
                oracle="eigh" if test == "oracle" else "solution",
            )

    for exercise in EXERCISES:
        for index, case in enumerate(selfcheck_sam.public_cases(exercise)):
            params = {"exercise": exercise, "index": index}
            if exercise == SAM:
                params |= {
                    "shapes": SHAPES,
                    "kwargs": {"learning_rate": case.base[1]["learning_rate"]},
                }
            compare = "rows" if exercise == SAM else "path"
            cases.add(exercise, "public", "public", params, True, compare, shown=case.name)
    return tuple(cases.cases)


# --- Hints ----------------------------------------------------------------------------------------


def _path(record):
    result = record.get("result")
    path = result.get("path") if isinstance(result, dict) else None
    return path if isinstance(path, list) and path else None


def _compiled(case):
    params = case.params
    if case.driver == "public":
        public = selfcheck_sam.public_cases(case.exercise)[params["index"]]
        return bool(getattr(public, "compiled", False))
    return params.get("mode", "eager") != "eager" or bool(params.get("compiled"))


def diagnose(submission, case, record):
    """The likeliest mistake behind a failed case, named by course_utils.hints_sam's bug oracles
    replayed in NumPy on the case's very inputs (the problems are made again from their seeds)."""
    if record.get("error"):
        return hints_sam.diagnose_exception(record["error"], _compiled(case), case.exercise)
    path, params = _path(record), case.params
    if path is None or case.driver == "recording":
        return None
    if case.driver == "public" and case.exercise == EIGEN and submission is not None:
        wrong = _wrong_product(submission)
        if wrong is not None:  # these cases run the notebook's own product: its mistake first
            return diagnose(submission, wrong, submission.run.results.get(wrong.id) or {})
    if case.driver == "public":
        public = selfcheck_sam.public_cases(case.exercise)[params["index"]]
        if case.exercise == SAM:
            return _sam_hint(public.seed, public.rho, public.base, path, public.compiled)
        if case.exercise == PRODUCT:
            return hints_sam.diagnose_hvp(public.problem, public.seed, public.vectors, path)
        return _eigen_hint(public.problem, public.seed, path)
    if case.driver == "sam":
        base = (params["base"], params["kwargs"])
        return _sam_hint(params["seed"], params["rho"], base, path, _compiled(case))
    if case.driver == "product":
        chosen = [guest.vectors(params["problem"], s) for s in params["vector_seeds"]]
        chosen += [guest.vectors(params["problem"], 0, d) for d in params["directions"]]
        found = [
            hints_sam.diagnose_hvp(params["problem"], params["seed"], v, row)
            for v, row in zip(chosen, path)
        ]
        return next((key for key in found if key), None)
    return _eigen_hint(params["problem"], params["seed"], path)


def _wrong_product(submission):
    """The first public product case the submission fails, or None."""
    cases = (c for c in ASSIGNMENT.cases if c.exercise == PRODUCT and c.public)
    return next((c for c in cases if not submission.passes(c)), None)


def _sam_hint(seed, rho, base, path, compiled):
    rows = [row[:-1] if isinstance(row, list) else None for row in path]
    return hints_sam.diagnose_sam("regression", seed, rho, base, len(rows), rows, compiled)


def _eigen_hint(problem, seed, path):
    return hints_sam.diagnose_eigen(problem, seed, path[0], path[1:])


# --- Feedback plots -------------------------------------------------------------------------------


def public_plots(run, references):
    """(title, PNG bytes) per exercise from its public cases only, against the expected ones:
    the loss SAM returned at each step, the product's elements, the eigenvalue and eigenvector."""
    plots = []
    for exercise in EXERCISES:
        panels = []
        for case in ASSIGNMENT.cases:
            if case.exercise == exercise and case.public:
                got = _numbers(exercise, run.results.get(case.id) or {})
                if got is not None:
                    panels.append((case, got, _numbers(exercise, {"result": references[case.id]})))
        if panels:
            plots.append(_draw(exercise, panels))
    return plots


def _numbers(exercise, record):
    """What is drawn of a result, as a float array (SAM: the loss column; otherwise the path),
    or None."""
    import numpy as np

    path = _path(record)
    if path is None:
        return None
    if exercise == SAM:
        path = [row[-1] if isinstance(row, list) and row else None for row in path]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in path):
        return None
    return np.asarray(path, dtype=np.float64)


def _draw(exercise, panels):
    import textwrap

    import numpy as np

    from autograder.report import figure_png, new_figure

    what = {
        SAM: "call of minimize: the loss it returned",
        PRODUCT: "H v, element by element",
        EIGEN: "the eigenvalue, then the eigenvector",
    }[exercise]
    fig = new_figure(figsize=(3.2 * len(panels), 3.0))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (case, got, want) in zip(axes, panels):
        index = np.arange(len(want))
        shown = np.clip(got[: len(want)], -1e3, 1e3)
        if exercise == SAM:
            ax.plot(index + 1, want, c="0.6", lw=4, alpha=0.7, label="expected")
            ax.plot(index[: len(shown)] + 1, shown, c="tab:red", lw=1.2, label="yours")
        else:
            ax.bar(index, want, color="0.8", label="expected")
            ax.plot(index[: len(shown)], shown, "o", c="tab:red", ms=3, label="yours")
        ax.set_title("\n".join(textwrap.wrap(case.settings(), 40)), fontsize=7)
    axes[0].legend(loc="best", fontsize=7)
    axes[0].set_xlabel(what, fontsize=7)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.8, bottom=0.16, wspace=0.3)
    return f"{exercise}: the notebook's checks", figure_png(fig)


# --- Student-visible files ------------------------------------------------------------------------


def public_files():
    """The self-checks' expected answers (course_utils), computed from the solutions."""
    solutions = {name: ASSIGNMENT.solution_class(name) for name in EXERCISES}
    return {
        selfcheck_sam.EXPECTATIONS: ("expected", selfcheck_sam.build_expectations(solutions)),
    }


ORACLES_MODULE = "autograder.assignments.sam_sharpness.oracles"  # imported for references

ASSIGNMENT = Assignment(
    name="sam_sharpness",
    title="Lesson 4: sharpness-aware minimization and how sharp a minimum is",
    teaches="sharpness-aware minimization (SAM) around a Keras optimizer, the Hessian-vector "
    "product with two tapes and the top Hessian eigenvalue by power iteration, then SAM against "
    "its base optimizer on digits with noisy labels and the sharpness of the minima they reach",
    exercises=EXERCISES,
    tests=_tests(),
    cases=_cases(),
    folder=Path(__file__).parent,
    hints=hints_sam.HINTS,
    mistakes=hints_sam.MISTAKES,
    oracles={
        "tf_sam": f"{ORACLES_MODULE}:TfSAM",
        "jacobian": f"{ORACLES_MODULE}:jacobian_product",
        "eigh": f"{ORACLES_MODULE}:eigh_top_eigenvalue",
    },
    diagnose=diagnose,
    public_plots=public_plots,
    public_files=public_files,
    # Base optimizers are passed in (Keras' may be); computing the result with a library is not.
    forbidden=(
        "tensorflow.hessians",
        "tensorflow.gradients",
        "keras_cv",
        "jax.hessian",
        "torch.autograd.functional",
    ),
    examples={
        "alice": "correct_variant",
        "bob": "sam_not_restored",
        "carol": "untouched",
        "dave": "syntax_error_product",
        "erin": "eigen_norm_not_signed",
    },
)
