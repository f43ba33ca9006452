"""Do the hints name the mistake behind a wrong path? (Buggy optimizers built here.)"""

import pytest

from course_utils import loss, run_convergence
from course_utils.hints import HINTS, diagnose
from solutions import Adam, GradientDescent, Momentum


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


def test_diagnose_is_quiet_on_garbage():
    """Does a malformed path give no hint rather than an error?"""
    assert diagnose("Adam", 2.0, None, [1.9], 0.1) is None
    assert diagnose("Adam", 2.0, ["x"], [1.9], 0.1) is None
    assert diagnose("Adam", 2.0, [float("nan")], [1.9], 0.1) is None
