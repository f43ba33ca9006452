"""Students' self-checks: public cases only, a verdict per case, the likely mistake named."""

import pytest

import solutions.optimizers_core as solutions
from course_utils import check
from course_utils.hints import HINTS
from course_utils.selfcheck import public_cases

from .test_hints import FrozenStep, NoBiasCorrection, NoLearningRate, SignFlipped


class Stub(solutions.Adam):
    def apply_gradients(self, grads, vars):
        raise NotImplementedError()


class SharedVelocity(solutions.Momentum):
    """The original guide's Momentum: one velocity for every variable."""

    def apply_gradients(self, grads, vars):
        self.change = getattr(self, "change", 0.0)
        for g, var in zip(grads, vars):
            self.change = self.learning_rate * g + self.momentum * self.change
            var.assign_sub(self.change)


class StepPerVariable(solutions.Adam):
    """Adam whose step counter grows once per variable."""

    def apply_gradients(self, grads, vars):
        for g, var in zip(grads, vars):
            super().apply_gradients([g], [var])


class ForgetfulAdam(solutions.Adam):
    def apply_gradients(self, grads, vars):
        self.v_dvar, self.s_dvar, self.t = {}, {}, 1
        super().apply_gradients(grads, vars)


class Forgetful(solutions.Momentum):
    def apply_gradients(self, grads, vars):
        self.velocities = {}
        super().apply_gradients(grads, vars)


@pytest.mark.parametrize("cls", [solutions.GradientDescent, solutions.Momentum, solutions.Adam])
def test_the_solutions_pass_every_public_case(cls, capsys):
    """Do the reference optimizers pass their own self-check, and does it say more is graded?"""
    report = check(cls, plot=False)
    assert report.passed and len(report.results) == len(public_cases())
    out = capsys.readouterr().out
    assert "The grader runs more cases than these." in out and "FAIL" not in out


@pytest.mark.parametrize(
    "cls, name, hint",
    [
        (SignFlipped, "GradientDescent", "sign"),
        (NoLearningRate, "GradientDescent", "learning_rate"),
        (Forgetful, "Momentum", "state_not_kept"),
        (SharedVelocity, "Momentum", "shared_state"),
        (NoBiasCorrection, "Adam", "bias_correction"),
        (FrozenStep, "Adam", "step_counter_not_advanced"),
        (ForgetfulAdam, "Adam", "state_not_kept"),
        (StepPerVariable, "Adam", "step_counter_per_variable"),
        (Stub, "Adam", "not_implemented"),
    ],
)
def test_each_classic_mistake_gets_its_hint(cls, name, hint, capsys):
    """Does the self-check fail and print the hint of the mistake actually made?"""
    report = check(cls, plot=False, name=name)
    assert not report.passed
    assert HINTS[hint] in capsys.readouterr().out


def test_failures_show_expected_and_got(capsys):
    """Is the first departing step shown with expected and actual values?"""
    check(SignFlipped, plot=False, name="GradientDescent")
    out = capsys.readouterr().out
    assert "FAIL  the guide's run, learning rate 0.001: at step 1: expected 1.9, got 2.1" in out


def test_the_figure_draws_yours_against_expected():
    """Is there one panel per public case with the expected and the student's lines?"""
    report = check(solutions.GradientDescent)
    axes = report.figure.axes
    assert len(axes) == len(public_cases())
    labels = [line.get_label() for line in axes[0].get_lines()]
    assert labels == ["expected", "yours"]


def test_unknown_classes_are_refused():
    class Lion:
        pass

    with pytest.raises(ValueError, match="GradientDescent, Momentum, Adam"):
        check(Lion)


@pytest.mark.parametrize(
    "cls, name, hint", [(Stub, "Adam", "not_implemented"), (SignFlipped, "GradientDescent", "sign")]
)
def test_each_hint_is_printed_once(cls, name, hint, capsys):
    """Does a message repeated over the public cases print in full once, then "as above."?"""
    report = check(cls, plot=False, name=name)
    out = capsys.readouterr().out
    failures = sum(not ok for _, ok, _, _ in report.results)
    assert failures > 1 and out.count(HINTS[hint]) == 1 and "as above." in out
