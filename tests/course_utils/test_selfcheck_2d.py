"""Lesson 2's self-checks: the notebook's own runs, a verdict per case, the likely mistake named."""

import json
import re

import matplotlib
import pytest
import tensorflow as tf

from autograder import generate
from autograder.build_references import same_values
from course_utils import selfcheck_2d
from course_utils.hints_2d import HINTS
from course_utils.selfcheck_2d import (
    EXPECTATIONS,
    OPTIMIZERS,
    SETTINGS,
    build_expectations,
    check,
    public_cases,
)
from course_utils.surfaces import SURFACES

from .test_hints_2d import (
    NAMES,
    NOTEBOOK,
    AdagradNoRate,
    AdagradNotSquared,
    AsMomentum,
    EpsilonOutside,
    Forgetful,
    FromZero,
    LookAheadFlipped,
    Nesterov,
    NesterovNoRateInMove,
    Rebinding,
    RhoSwapped,
    RMSprop,
    RMSpropNotSquared,
    SharedState,
    SignFlipped,
    SqrtForgotten,
    buggy,
    solutions,  # noqa: F401 - the fixture
)
from .test_hints_2d import Adagrad as WrittenAdagrad

matplotlib.use("Agg")


def test_public_cases_are_the_notebooks_own_settings():
    """Are the surfaces, starts and learning rates of the public cases those of the notebook's
    SETTINGS cell (each optimizer's family), on every surface, plus one case of two variables?"""
    cell = next(
        c.source for c in generate.read_notebook(NOTEBOOK).cells if "SETTINGS = {" in c.source
    )
    namespace = {surface.name.split()[-1].upper(): surface for surface in SURFACES}
    exec(cell, namespace)  # constants and two function definitions
    assert {s: rates[1:] for s, rates in namespace["SETTINGS"].items()} == SETTINGS
    for name, family in OPTIMIZERS.items():
        cases = public_cases(name)
        singles = [case for case in cases if len(case.starts) == 1]
        assert [(c.surface, c.starts[0]) for c in singles] == [(s, s.start) for s in SURFACES]
        assert all(c.learning_rate == SETTINGS[c.surface][family] for c in cases)
        assert [len(c.starts) for c in cases if c not in singles] == [2]


def test_expectations_are_current(solutions):  # noqa: F811
    """Does the shipped JSON hold what the notebook's solutions give now (as build-references
    judges it)?"""
    document = json.loads(EXPECTATIONS.read_text())
    assert "build-references" in document["about"]
    assert same_values(document["expected"], json.loads(json.dumps(build_expectations(solutions))))


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_the_solutions_pass_every_public_case(solutions, name, capsys):  # noqa: F811
    """Do the notebook's solutions (and the test's own correct classes) pass, and does the
    check say that more is graded?"""
    written = {"NesterovMomentum": Nesterov, "Adagrad": WrittenAdagrad, "RMSprop": RMSprop}[name]
    for cls in (solutions[name], written):
        report = check(cls, plot=False, name=name)
        out = capsys.readouterr().out
        assert report.passed and len(report.results) == len(public_cases(name)), out
        assert "The grader runs more cases than these." in out and "FAIL" not in out


class Stub(tf.Module):
    def __init__(self, learning_rate=1e-3):
        self.learning_rate = learning_rate

    def apply_gradients(self, grads, vars):
        raise NotImplementedError()


class Garbage(tf.Module):
    def __init__(self, learning_rate=1e-3):
        pass

    def apply_gradients(self, grads, vars):
        for var in vars:
            var.assign(var * float("nan"))
        return "done"


class Crashing(tf.Module):
    def __init__(self, learning_rate=1e-3):
        pass

    def apply_gradients(self, grads, vars):
        return vars[3]


MISTAKES_MADE = [  # (class, checked as, hint key); RMSprop's epsilon matters on the saddle
    (buggy(SignFlipped, Nesterov), "NesterovMomentum", "sign"),
    (buggy(Rebinding, WrittenAdagrad), "Adagrad", "no_update"),
    (buggy(Forgetful, RMSprop), "RMSprop", "state_not_kept"),
    (NesterovNoRateInMove, "NesterovMomentum", "learning_rate"),
    (AdagradNoRate, "Adagrad", "learning_rate"),
    (AsMomentum, "NesterovMomentum", "nesterov_as_momentum"),
    (LookAheadFlipped, "NesterovMomentum", "nesterov_lookahead_flipped"),
    (AdagradNotSquared, "Adagrad", "accumulator_not_squared"),
    (RMSpropNotSquared, "RMSprop", "accumulator_not_squared"),
    (FromZero, "Adagrad", "accumulator_from_zero"),
    (RhoSwapped, "RMSprop", "rho_swapped"),
    (buggy(SqrtForgotten, WrittenAdagrad), "Adagrad", "sqrt_forgotten"),
    (buggy(EpsilonOutside, RMSprop), "RMSprop", "epsilon_outside"),
    (buggy(SharedState, Nesterov), "NesterovMomentum", "shared_state"),
    (buggy(SharedState, WrittenAdagrad), "Adagrad", "shared_state"),
    (buggy(SharedState, RMSprop), "RMSprop", "shared_state"),
    (Stub, "Adagrad", "not_implemented"),
]


@pytest.mark.parametrize(
    ("cls", "name", "key"),
    [pytest.param(*made, id=f"{made[0].__name__}-{made[2]}") for made in MISTAKES_MADE],
)
def test_each_mistake_gets_its_hint(cls, name, key, capsys):
    """Does the self-check fail and print the hint of the mistake actually made, and no other?"""
    report = check(cls, plot=False, name=name)
    out = capsys.readouterr().out
    assert not report.passed
    assert HINTS[key] in out, out
    assert all(HINTS[other] not in out for other in HINTS if other != key), out


def test_shared_state_is_told_only_once_single_variables_pass(capsys):
    """Is the two-variable failure of a class that fails alone too left without a hint?"""
    check(buggy(Forgetful, RMSprop), plot=False, name="RMSprop")
    out = capsys.readouterr().out
    assert HINTS["shared_state"] not in out
    assert re.search(r"FAIL  two variables at once[^\n]*: at step 2, \w of variable a", out), out


def test_failures_show_the_first_departure(capsys):
    """Is the first departing step shown, with the coordinate, expected and actual values?"""
    check(buggy(SignFlipped, Nesterov), plot=False, name="NesterovMomentum")
    out = capsys.readouterr().out
    case = public_cases("NesterovMomentum")[0].name
    assert f"FAIL  {case}: at step 1, x: expected -8.829, got -9.171." in out, out


@pytest.mark.parametrize("cls", [Garbage, Crashing])
def test_broken_classes_get_a_message_not_a_traceback(cls, capsys):
    report = check(cls, plot=True, name="RMSprop")
    out = capsys.readouterr().out
    assert not report.passed and "Traceback" not in out
    assert out.count("FAIL") == len(public_cases("RMSprop"))
    assert report.figure is not None


def test_the_figure_draws_yours_against_expected(solutions):  # noqa: F811
    """Is there one panel per public case with the expected and the student's paths?"""
    report = check(solutions["Adagrad"], plot=True)
    shown = [ax for ax in report.figure.axes if ax.get_visible() and ax.get_title()]
    assert len(shown) == len(public_cases("Adagrad"))
    assert all(ax.get_title().startswith("PASS: ") for ax in shown)
    labels = [line.get_label() for line in shown[0].get_lines()]
    assert "expected" in labels and "yours" in labels


def test_unknown_classes_are_refused():
    class Lion:
        pass

    with pytest.raises(ValueError, match=", ".join(OPTIMIZERS)):
        check(Lion)


def test_names_match_the_hint_oracle():
    assert set(OPTIMIZERS) == set(NAMES.values()) == set(selfcheck_2d.expectations())
