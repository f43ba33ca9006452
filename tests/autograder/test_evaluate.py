"""Scoring on plain data: which tests a run's results pass, and what no claim can earn.

Buggy optimizers are built here from the solutions and run in this process through the grader's
own drivers, as an honest sandbox would run them; forged runs are written by hand.
"""

import pytest
import tensorflow as tf

import solutions.optimizers_core as solutions
from autograder.assignments.optimizers_core.guest import run_case
from autograder.assignments.optimizers_core.spec import ASSIGNMENT
from autograder.evaluate import evaluate as evaluate_with
from autograder.guest import protocol
from autograder.run_submission import SubmissionRun
from course_utils.hints import HINTS

DEFINED = {"defined": True, "error": None}


class ShapeKeyedMomentum(solutions.Momentum):
    """Keeps one velocity per shape: variables of one shape share it."""

    def apply_gradients(self, grads, vars):
        for g, var in zip(grads, vars):
            key = tuple(var.shape)
            if key not in self.velocities:
                self.velocities[key] = tf.Variable(tf.zeros_like(var))
            velocity = self.velocities[key]
            velocity.assign(self.learning_rate * g + self.momentum * velocity)
            var.assign_sub(velocity)


class NoEpsilonAdam(solutions.Adam):
    """Divides by sqrt(s_hat) alone (epsilon forgotten)."""

    def apply_gradients(self, grads, vars):
        ep, self.ep = self.ep, 0.0
        super().apply_gradients(grads, vars)
        self.ep = ep


class RebindingGradientDescent(solutions.GradientDescent):
    """Computes the step, then `var = var - step`: no variable changes."""

    def apply_gradients(self, grads, vars):
        for g, var in zip(grads, vars):
            var = var - self.learning_rate * g  # noqa: F841 - the bug


@pytest.fixture(scope="module")
def stored():
    return ASSIGNMENT.references()


def evaluate(run, stored):
    return evaluate_with(run, stored, ASSIGNMENT)


def honest_run(optimizer, cls):
    """The SubmissionRun an honest sandbox reports for `cls` as `optimizer` (its cases only)."""
    results = {}
    for case in ASSIGNMENT.cases:
        if case.exercise == optimizer:
            result = run_case(cls, case.driver, case.params)
            results[case.id] = {"result": result, "error": None}
    return SubmissionRun(classes={optimizer: DEFINED}, results=results)


def outcomes(run, stored, optimizer):
    """{test key: CheckResult} of `optimizer`."""
    return {r.key: r for r in evaluate(run, stored) if r.exercise == optimizer}


@pytest.mark.slow
@pytest.mark.parametrize(
    "optimizer, cls, failing, hint",
    [
        ("Momentum", ShapeKeyedMomentum, {"variables"}, "state_keyed_by_shape"),
        ("Adam", NoEpsilonAdam, {"hyperparameters"}, "epsilon"),
    ],
)
def test_bugs_that_used_to_pass_fail_exactly_their_test(optimizer, cls, failing, hint, stored):
    """Does each bug that passed every test before fail the one test made for it, with its
    hint, and pass the others?"""
    results = outcomes(honest_run(optimizer, cls), stored, optimizer)
    assert {key for key, r in results.items() if not r.passed} == failing
    for key in failing:
        assert HINTS[hint] in results[key].output


@pytest.mark.slow
def test_an_update_that_changes_nothing_earns_nothing(stored):
    """Is "is defined" failed, with the no-update hint, when one update leaves x where it was?"""
    results = outcomes(
        honest_run("GradientDescent", RebindingGradientDescent), stored, "GradientDescent"
    )
    assert not any(r.passed for r in results.values())
    assert "left the variable where it was" in results["defined"].output
    assert HINTS["no_update"] in results["defined"].output
    assert HINTS["no_update"] in results["guide_0.01"].output


@pytest.mark.slow
def test_the_correct_classes_still_pass_everything(stored):
    """Do the solutions, run like a submission, pass every test (the cases catch bugs only)?"""
    for optimizer in ASSIGNMENT.exercises:
        results = outcomes(honest_run(optimizer, getattr(solutions, optimizer)), stored, optimizer)
        assert all(r.passed for r in results.values()), optimizer


def forged_run(defined_path):
    """Every class claimed defined; each one-update case claims `defined_path(start)`."""
    results = {}
    for case in ASSIGNMENT.cases:
        if case.test == "defined":
            path = defined_path(case.params["init"])
            results[case.id] = {"result": {"path": path}, "error": None}
    classes = {name: DEFINED for name in ASSIGNMENT.exercises}
    return SubmissionRun(classes=classes, results=results)


def test_a_claim_of_the_sandbox_earns_nothing(stored):
    """Do classes claimed defined, whose one update "succeeded" without moving, score zero?"""
    results = evaluate(forged_run(lambda start: [start]), stored)
    assert not any(r.passed for r in results)
    results = evaluate(SubmissionRun(classes={n: DEFINED for n in ASSIGNMENT.exercises}), stored)
    assert not any(r.passed for r in results)


def test_is_defined_is_judged_on_the_returned_path(stored):
    """Does "is defined" pass on a path where the variable moved (any finite value)?"""
    moved = evaluate(forged_run(lambda start: [start - 0.25]), stored)
    assert {r.key for r in moved if r.passed} == {"defined"}


@pytest.mark.parametrize("bad", [[float("nan")], [float("inf")], ["1.0"], [True], [], [1, 2], None])
def test_is_defined_needs_one_finite_number(bad, stored):
    """Does a one-update path that is not one finite number fail "is defined"?"""
    assert not any(r.passed for r in evaluate(forged_run(lambda start: bad), stored))


def test_a_timeout_is_told_by_the_limit_not_by_the_text(stored):
    """Is the timeout hint given to a case stopped at the time limit, whatever its message says,
    and never to an error that merely mentions "timed out"?"""
    case = ASSIGNMENT.cases_of("Adam", "other_runs")[0]
    classes = {name: DEFINED for name in ASSIGNMENT.exercises}

    def hint_for(record):
        run = SubmissionRun(classes=classes, results={case.id: record})
        return {r.key: r for r in evaluate(run, stored) if r.exercise == "Adam"}["other_runs"]

    stopped = hint_for({"result": None, "error": "stopped: whatever", "limit": protocol.TIME})
    assert stopped.hint == "timeout" and HINTS["timeout"] in stopped.output
    claimed = hint_for({"result": None, "error": "ValueError: timed out, longer than 4 s"})
    assert claimed.hint != "timeout" and HINTS["timeout"] not in claimed.output
