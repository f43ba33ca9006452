"""Lesson 2's declaration and its samples: public cases are the notebook's runs, references are
current, Keras agrees with the solutions, the feedback plots render, and every sample (correct,
each typical bug, delegation, another lesson's notebook, untouched) scores as declared, each
bug's failures with its hint."""

import json

import pytest

from autograder import sandbox
from autograder.assignment import DEFINED
from autograder.assignments.optimizers_2d.spec import ASSIGNMENT
from autograder.compare import compare_result
from autograder.guest.runner import load_guest

# A submission's deadline of 36 s: the correct ones need a few.
LIMITS = sandbox.Limits(case_seconds=4, cell_seconds=8, grace_seconds=2, submission_seconds=36)


# --- The declaration ------------------------------------------------------------------------------


def test_public_cases_are_the_self_checks_runs():
    """Is each public case one of the notebook's runs (surface, start, learning rate, steps) as
    the self-check shows it, and are they all there?"""
    from course_utils import selfcheck_2d

    for optimizer in ASSIGNMENT.exercises:
        shown = {
            (c.surface.name, tuple(c.starts[0]), c.learning_rate, c.steps)
            for c in selfcheck_2d.public_cases(optimizer)
            if len(c.starts) == 1
        }
        public = {
            (
                c.params["surface"],
                tuple(c.params["start"]),
                c.params["kwargs"]["learning_rate"],
                c.params["steps"],
            )
            for c in ASSIGNMENT.cases
            if c.exercise == optimizer and c.public
        }
        assert public == shown, optimizer
    assert all(set(c.params["kwargs"]) == {"learning_rate"} for c in ASSIGNMENT.cases if c.public)


def test_hidden_cases_use_settings_the_notebook_never_shows():
    """Does no hidden surface case repeat a public one's start with its learning rate?"""
    public = {
        (c.exercise, c.params["surface"], tuple(c.params["start"]), json.dumps(c.params["kwargs"]))
        for c in ASSIGNMENT.cases
        if c.public
    }
    for case in ASSIGNMENT.cases:
        if not case.public and case.driver == "surface":
            key = (
                case.exercise,
                case.params["surface"],
                tuple(case.params["start"]),
                json.dumps(case.params["kwargs"]),
            )
            assert key not in public, case.id


def test_points_and_names():
    """Does each exercise carry the same points, every test's name start with its exercise, and
    the declaration hold together?"""
    ASSIGNMENT.validate()
    subtotals = ASSIGNMENT.subtotals()
    assert set(subtotals) == {"NesterovMomentum", "Adagrad", "RMSprop"}
    assert len(set(subtotals.values())) == 1
    for exercise in ASSIGNMENT.exercises:
        for test in ASSIGNMENT.tests_for(exercise):
            assert ASSIGNMENT.shown_name(exercise, test).startswith(exercise + ": ")


def test_hyperparameters_cover_the_issue():
    """Are momentum 0 and 0.75, initial_accumulator_value, rho and epsilon all varied?"""
    varied = {
        (c.exercise, key, value)
        for c in ASSIGNMENT.cases
        if c.test == "hyperparameters"
        for key, value in c.params["kwargs"].items()
    }
    assert ("NesterovMomentum", "momentum", 0.0) in varied
    assert ("NesterovMomentum", "momentum", 0.75) in varied
    assert any(e == "Adagrad" and k == "initial_accumulator_value" for e, k, _ in varied)
    assert any(e == "Adagrad" and k == "epsilon" and v >= 1e-2 for e, k, v in varied)
    assert {v for e, k, v in varied if e == "RMSprop" and k == "rho"} >= {0.7, 0.99}


def test_several_variables_include_two_of_one_shape():
    for case in ASSIGNMENT.cases:
        if case.driver == "variables":
            shapes = [tuple(s) for s in case.params["shapes"]]
            assert 1 < len(set(shapes)) < len(shapes), case.id


# --- References, oracles and plots ----------------------------------------------------------------


@pytest.fixture(scope="module")
def guest():
    return load_guest(ASSIGNMENT.guest)


def test_the_solution_agrees_with_keras(guest):
    """Does each solution pass its oracle case, whose expected values come from Keras?"""
    references = ASSIGNMENT.references()
    oracle_cases = [c for c in ASSIGNMENT.cases if c.oracle != "solution"]
    assert {c.exercise for c in oracle_cases} == set(ASSIGNMENT.exercises)
    for case in oracle_cases:
        got = guest.run_case(ASSIGNMENT.solution_class(case.exercise), case.driver, case.params)
        assert compare_result(case, got, references[case.id]).passed, case.id


def test_every_defined_case_moves_the_solution():
    references = ASSIGNMENT.references()
    for case in ASSIGNMENT.cases:
        if case.test == DEFINED:
            assert references[case.id]["path"][0] != case.starting_values(), case.id
