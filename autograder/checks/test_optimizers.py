"""Hidden tests of the three optimizers: one test per row of `autograder.cases.TESTS`."""

import pytest

from autograder.cases import GUIDE_LEARNING_RATES, OPTIMIZERS

each_optimizer = pytest.mark.parametrize("optimizer", OPTIMIZERS)


@each_optimizer
@pytest.mark.grade("defined")
def test_is_defined(optimizer, submission):
    """One update moves the variable to a finite value, seen on the returned path (how far is
    judged elsewhere); a claim of the sandbox that the class is defined is not enough."""
    submission.require_update(optimizer)


@each_optimizer
@pytest.mark.parametrize("learning_rate", GUIDE_LEARNING_RATES)
@pytest.mark.grade("guide_{learning_rate:g}")
def test_guide_run(optimizer, learning_rate, submission):
    """The notebook's own run from x0 = 2: same outcome and path as the reference."""
    submission.check(optimizer, f"guide_{learning_rate:g}")


@each_optimizer
@pytest.mark.grade("other_runs")
def test_other_runs(optimizer, submission):
    """Starting points and learning rates the notebook never shows."""
    submission.check(optimizer, "other_runs")


@each_optimizer
@pytest.mark.grade("hyperparameters")
def test_hyperparameters(optimizer, submission):
    """Momentum coefficients, betas and epsilons the notebook never shows (one epsilon as
    large as sqrt(s_hat), so that leaving it out shows)."""
    submission.check(optimizer, "hyperparameters")


@each_optimizer
@pytest.mark.grade("variables")
def test_several_variables(optimizer, submission):
    """A scalar, a vector, a matrix and a second vector of the first one's shape updated
    together: state must be per variable, not shared, nor keyed by shape."""
    submission.check(optimizer, "variables")


@each_optimizer
@pytest.mark.grade("instances")
def test_separate_instances(optimizer, submission):
    """Two instances used in turn must not share state."""
    submission.check(optimizer, "instances")


@each_optimizer
@pytest.mark.grade("oracle")
def test_independent_oracle(optimizer, submission):
    """Against Keras' SGD (GD, momentum) or a float64 NumPy Adam, not against our solution."""
    submission.check(optimizer, "oracle")
