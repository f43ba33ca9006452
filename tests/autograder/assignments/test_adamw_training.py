"""Lesson 3's declaration: public cases are the self-checks' own, hidden ones are not, each typical
bug has a case that tells it apart, references are current, the oracles agree with the
solutions, the grader's hints and plots need no TensorFlow, and the contract of each exercise."""

import nbformat
import pytest

from autograder.assignment import DEFINED
from autograder.assignments.adamw_training import spec
from autograder.assignments.adamw_training.spec import ASSIGNMENT, CLIP, SCHEDULE
from autograder.compare import compare_result
from autograder.guest.runner import ContractError, load_guest


def hidden(exercise, test=None):
    return [
        c
        for c in ASSIGNMENT.cases
        if c.exercise == exercise and not c.public and test in (None, c.test)
    ]


# --- The declaration ------------------------------------------------------------------------------


def test_public_cases_are_the_self_checks_own():
    """Is each exercise's public test the self-check's cases, in order, by name and index?"""
    from course_utils import selfcheck_training

    for exercise in ASSIGNMENT.exercises:
        public = [c for c in ASSIGNMENT.cases if c.exercise == exercise and c.public]
        shown = [case.name for case in selfcheck_training.public_cases(exercise)]
        assert [c.settings() for c in public] == shown, exercise
        assert [c.params["index"] for c in public] == list(range(len(shown)))
        assert all(c.driver == "public" and c.test == "public" for c in public)


def test_public_adamw_cases_carry_their_learning_rate_and_shapes():
    """Does each public AdamW case's tolerance come from its own learning rate (the peak of its
    schedule), and its messages name the self-check's variables?"""
    from course_utils import selfcheck_training

    cases = selfcheck_training.public_cases("AdamW")
    for case in (c for c in ASSIGNMENT.cases if c.exercise == "AdamW" and c.public):
        rate = cases[case.params["index"]].kwargs["learning_rate"]
        peak = rate["peak_learning_rate"] if isinstance(rate, dict) else rate
        assert case.learning_rate() == peak
        assert [tuple(s) for s in case.params["shapes"]] == list(selfcheck_training.SHAPES)


def test_hidden_cases_use_inputs_the_notebook_never_shows():
    """Is no hidden case a self-check case, and no hidden schedule one of the notebook's?"""
    from course_utils import selfcheck_training

    assert not any(c.driver == "public" for c in ASSIGNMENT.cases if not c.public)
    shown = {
        tuple(
            case.kwargs.get(k, 0.0)
            for k in ("peak_learning_rate", "warmup_steps", "decay_steps", "alpha")
        )
        for case in selfcheck_training.public_cases(SCHEDULE)
    }
    for case in hidden(SCHEDULE):
        args = tuple(case.params["args"]) + (0.0,) * (4 - len(case.params["args"]))
        assert args not in shown, case.id


def test_points_and_names_match_the_notebook():
    """Does each exercise carry the points of its graded cell in the notebook, every test's
    name start with its exercise, and the declaration hold together?"""
    ASSIGNMENT.validate()
    solution = nbformat.read(str(ASSIGNMENT.solution_notebook), as_version=4)
    points = {
        cell.metadata["nbgrader"]["grade_id"]: cell.metadata["nbgrader"].get("points")
        for cell in solution.cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    }
    for exercise, subtotal in ASSIGNMENT.subtotals().items():
        assert points[f"{exercise}_tests"] == subtotal, exercise
    for exercise in ASSIGNMENT.exercises:
        for test in ASSIGNMENT.tests_for(exercise):
            assert ASSIGNMENT.shown_name(exercise, test).startswith(exercise + ": ")


def test_each_clipping_bug_has_a_case():
    """Within the bound (scaling always), above it with tensors of different norms (per-tensor
    clipping), all-zero gradients (a norm of 0), compiled."""
    cases = hidden(CLIP)
    assert any(
        c.params["norm"] is not None and c.params["norm"] < c.params["clip_norm"]
        for c in cases
        if c.test == "within_bounds"
    )
    assert any(
        c.params["norm"] is not None and c.params["norm"] > c.params["clip_norm"]
        for c in cases
        if c.test == "above"
    )
    assert any(c.params["norm"] is None for c in cases), "all gradients zero"
    assert any(c.params.get("compiled") for c in cases)
    assert all(len(c.params["shapes"]) > 1 for c in cases if c.test != DEFINED)


def test_each_schedule_bug_has_a_case():
    """Past warmup_steps + decay_steps, no warm-up, alpha > 0, a warm-up's every step, and steps
    as tensors, eagerly and compiled."""
    cases = hidden(SCHEDULE)
    assert any(c.params["steps"][-1] > sum(c.params["args"][1:3]) for c in cases)
    assert any(c.params["args"][1] == 0 for c in cases)
    assert any(len(c.params["args"]) == 4 and c.params["args"][3] > 0 for c in cases)
    assert any(set(range(c.params["args"][1] + 2)) <= set(c.params["steps"]) for c in cases)
    assert {c.params["kind"] for c in cases} == {"int", "tensor", "compiled"}


def test_each_adamw_bug_has_a_case():
    """Weight decay 0 and large, a large epsilon, a plain schedule as learning rate (step from
    1), compiled from the first call and after eager calls of the same instance (state per call,
    a Python step count), two instances, two variables of one shape, and the training."""
    cases = hidden("AdamW")
    kwargs = [c.params.get("kwargs", {}) for c in cases]
    assert any(k.get("weight_decay") == 0.0 for k in kwargs)
    assert any(k.get("weight_decay", 0.0) >= 0.5 for k in kwargs)
    assert any(k.get("epsilon", 0.0) >= 0.1 for k in kwargs)
    assert any("kwargs_schedule" in c.params for c in cases if c.test == "schedule")
    modes = {c.params.get("mode") for c in cases if c.test == "compiled"}
    assert modes == {"compiled", "switch"}
    assert any(c.driver == "instances" for c in cases)
    for case in (c for c in cases if c.driver == "adamw"):
        shapes = [tuple(s) for s in case.params["shapes"]]
        assert 1 < len(set(shapes)) < len(shapes), case.id
    (end,) = [c for c in cases if c.test == "end_to_end"]
    assert end.compare == "minimum" and 0 < end.margin < 0.1


def test_hidden_feedback_names_settings_not_values():
    """Does every hidden case describe its settings in words?"""
    for case in ASSIGNMENT.cases:
        assert case.settings(), case.id


# --- The contract of each exercise ----------------------------------------------------------------


@pytest.fixture(scope="module")
def guest():
    return load_guest(ASSIGNMENT.guest)


def test_the_contract_of_each_exercise(guest):
    """A function, a schedule class constructible with (0.01, 10, 100) and callable, an optimizer
    class with defaults and apply_gradients; anything else says what is missing."""

    class Schedule:
        def __init__(self, peak, warmup, decay, alpha=0.0):
            pass

        def __call__(self, step):
            return 0.0

    class Optimizer:
        def apply_gradients(self, grads, vars):
            pass

    class NotCallable:
        def __init__(self, *args):
            pass

    guest.check_exercise(CLIP, lambda grads, clip_norm: (grads, 0.0))
    guest.check_exercise(SCHEDULE, Schedule)
    guest.check_exercise("AdamW", Optimizer)
    for name, obj, words in [
        (CLIP, Optimizer, "not a function"),
        (SCHEDULE, lambda step: 0.0, "not a class"),
        (SCHEDULE, NotCallable, "cannot be called"),
        ("AdamW", Schedule, "missing"),
        ("AdamW", type("NoUpdate", (), {}), "no apply_gradients"),
    ]:
        with pytest.raises((ContractError, TypeError), match=words):
            guest.check_exercise(name, obj)


# --- References, oracles, hints and plots ---------------------------------------------------------


def test_the_solution_agrees_with_tensorflow_and_keras(guest):
    """Does each solution pass its oracle cases (tf.clip_by_global_norm, Keras' CosineDecay and
    AdamW), and does its one update move the variable?"""
    references = ASSIGNMENT.references()
    oracle_cases = [c for c in ASSIGNMENT.cases if c.oracle != "solution"]
    assert {c.exercise for c in oracle_cases} == set(ASSIGNMENT.exercises)
    for case in oracle_cases:
        got = guest.run_case(ASSIGNMENT.solution_class(case.exercise), case.driver, case.params)
        assert compare_result(case, got, references[case.id]).passed, case.id
    for case in ASSIGNMENT.cases_of("AdamW", DEFINED):
        assert references[case.id]["path"][0] != case.starting_values()


def test_the_solution_trains_above_the_bar():
    """Is the reference accuracy a real training's, well above chance, the bar below it?"""
    (case,) = ASSIGNMENT.cases_of("AdamW", "end_to_end")
    expected = ASSIGNMENT.references()[case.id]
    assert expected["what"] == "validation accuracy"
    assert 0.9 < expected["value"] - case.margin < expected["value"] <= 1.0


def _record(path):
    return {"result": {"path": path}, "error": None}


def test_hints_replay_the_bugs_on_the_cases_inputs(guest):
    """Does the grader's diagnosis, on a hidden case's own inputs, name per-tensor clipping and
    a warm-up without its cosine (answers made here with NumPy)?"""
    import numpy as np

    (above, *_) = hidden(CLIP, "above")
    p = above.params
    grads = guest.gradient_list(p["shapes"], p["seed"], p["norm"], p.get("zero", ()))
    clipped = [g * min(1.0, p["clip_norm"] / float(np.linalg.norm(g))) for g in grads]
    path = guest.flat(clipped) + [p["norm"]]
    assert spec.diagnose(None, above, _record(path)) == "clip_per_tensor"

    (decay, *_) = hidden(SCHEDULE, "decay")
    peak, warmup = decay.params["args"][:2]
    path = [peak * s / warmup if s < warmup else peak for s in decay.params["steps"]]
    assert spec.diagnose(None, decay, _record(path)) == "warmup_only"


def test_an_error_under_tf_function_names_state_created_per_call():
    (case, *_) = [c for c in hidden("AdamW", "compiled") if c.params["mode"] == "compiled"]
    error = "ValueError: tf.function only supports singleton tf.Variables created on the first call"
    assert spec.diagnose(None, case, {"result": None, "error": error}) == "state_rebuilt"
