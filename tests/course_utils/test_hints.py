"""Do the hints name the mistake behind a wrong path? (Buggy optimizers built here.)"""

import pytest

from course_utils import loss, run_convergence
from course_utils.hints import HINTS, diagnose, diagnose_several
from solutions.optimizers_core import Adam, GradientDescent, Momentum


class SignFlipped(GradientDescent):
    def apply_gradients(self, grads, vars):
        for g, var in zip(grads, vars):
            var.assign_add(self.learning_rate * g)


class NoLearningRate(GradientDescent):
    def apply_gradients(self, grads, vars):
        for g, var in zip(grads, vars):
            var.assign_sub(g)


class Forgetful(Momentum):
    """Momentum whose velocity is reset at every call: plain gradient descent."""

    def apply_gradients(self, grads, vars):
        self.velocities = {}
        super().apply_gradients(grads, vars)


class NoBiasCorrection(Adam):
    def apply_gradients(self, grads, vars):
        self.t = 10_000  # 1 - beta**t == 1: no correction at all
        super().apply_gradients(grads, vars)


class FrozenStep(Adam):
    def apply_gradients(self, grads, vars):
        super().apply_gradients(grads, vars)
        self.t = 1


def path(cls, learning_rate, steps=20):
    return run_convergence(cls(learning_rate), loss, init_val=2.0, max_iters=steps).path


@pytest.mark.parametrize(
    "buggy, reference, learning_rate, key",
    [
        (SignFlipped, GradientDescent, 1e-3, "sign"),
        (NoLearningRate, GradientDescent, 1e-3, "learning_rate"),
        (Forgetful, Momentum, 1e-2, "state_not_kept"),
        (NoBiasCorrection, Adam, 1e-1, "bias_correction"),
        (FrozenStep, Adam, 1e-1, "step_counter_not_advanced"),
    ],
)
def test_diagnose_names_the_mistake(buggy, reference, learning_rate, key):
    """Is each classic mistake recognised from its path alone?"""
    name = reference.__name__
    got, expected = path(buggy, learning_rate), path(reference, learning_rate)
    assert diagnose(name, 2.0, got, expected, learning_rate) == key
    assert HINTS[key]


class Rebinding(GradientDescent):
    def apply_gradients(self, grads, vars):
        for g, var in zip(grads, vars):
            var = var - self.learning_rate * g  # noqa: F841 - the bug


class NoEpsilon(Adam):
    def apply_gradients(self, grads, vars):
        ep, self.ep = self.ep, 0.0
        super().apply_gradients(grads, vars)
        self.ep = ep


def test_diagnose_names_an_update_that_changes_nothing():
    """Does a path that never leaves x0 get the no-update hint (x0 rounded to float32 or not)?"""
    expected = path(GradientDescent, 1e-2)
    assert diagnose("GradientDescent", 2.0, path(Rebinding, 1e-2), expected, 1e-2) == "no_update"
    assert diagnose("Momentum", -1.8, [-1.7999999523] * 3, [-1.7, -1.6, -1.5], 1e-2) == "no_update"


def test_diagnose_names_a_missing_epsilon():
    """Where epsilon matters (ep = 1 against a first gradient of 65), is a path without it told
    apart, and is the hint quiet where epsilon is negligible (the defaults)?"""

    def run(cls, ep):
        optimizer = cls(0.05, beta_1=0.8, beta_2=0.99, ep=ep)
        return run_convergence(optimizer, loss, init_val=1.7, max_iters=20).path

    got, expected = run(NoEpsilon, 1.0), run(Adam, 1.0)
    assert diagnose("Adam", 1.7, got, expected, 0.05) == "epsilon"
    flipped = [1.7 - (x - 1.7) for x in got]  # the same size uphill is a sign error
    assert diagnose("Adam", 1.7, flipped, expected, 0.05) == "sign"
    assert diagnose("Adam", 2.0, path(NoBiasCorrection, 0.1), path(Adam, 0.1), 0.1) != "epsilon"


def test_several_variables_of_one_shape_name_state_keyed_by_shape():
    """Is state that only goes wrong on a variable shaped like an earlier one told apart?"""
    assert diagnose_several("Momentum", [-0.1, -0.2], 0.01, shape_seen_before=True) == (
        "state_keyed_by_shape"
    )
    assert diagnose_several("Momentum", [-0.1, -0.2], 0.01) == "shared_state"


def test_diagnose_is_quiet_on_garbage():
    """Does a malformed path give no hint rather than an error?"""
    assert diagnose("Adam", 2.0, None, [1.9], 0.1) is None
    assert diagnose("Adam", 2.0, ["x"], [1.9], 0.1) is None
    assert diagnose("Adam", 2.0, [float("nan")], [1.9], 0.1) is None
