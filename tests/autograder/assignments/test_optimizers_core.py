"""Lesson 1's declaration: its public cases are the notebook's runs, its hidden ones are not,
and each typical way to be wrong has a case that tells it apart."""

from autograder.assignments.optimizers_core import spec
from autograder.assignments.optimizers_core.spec import ASSIGNMENT
from course_utils.hints import course_gradient


def test_public_cases_are_exactly_the_notebooks_runs():
    """Are the public cases the guide's runs from x0 = 2, and every other case hidden?"""
    for case in ASSIGNMENT.cases:
        guide = case.test.startswith("guide_")
        assert case.public == guide
        if guide:
            assert case.params["init"] == 2.0
            assert case.params["kwargs"]["learning_rate"] in spec.GUIDE_LEARNING_RATES


def test_hidden_cases_use_settings_the_notebook_never_shows():
    """Do hidden cases avoid x0 = 2 with the guide's learning rates and default hyperparameters?"""
    for case in ASSIGNMENT.cases:
        if case.public or case.driver in ("variables", "instances"):
            continue
        kwargs = case.params["kwargs"]
        shown = (
            case.params["init"] == 2.0
            and set(kwargs) == {"learning_rate"}
            and (kwargs["learning_rate"] in spec.GUIDE_LEARNING_RATES)
        )
        assert not shown, case.id


def test_points():
    """Does lesson 1 keep its 33 points, 11 per optimizer, in the order students read them?"""
    assert ASSIGNMENT.max_score() == 33
    assert ASSIGNMENT.subtotals() == {"GradientDescent": 11, "Momentum": 11, "Adam": 11}
    assert [t.points for t in ASSIGNMENT.tests_for("Adam")] == [1, 1, 1, 1, 2, 1, 2, 1, 1]


def test_settings_are_readable():
    """Does a case describe its settings in words a student can reproduce?"""
    case = ASSIGNMENT.cases_of("Momentum", "hyperparameters")[0]
    assert case.settings() == "x0 = 1.7; learning_rate=0.004, momentum=0.9"
    multi = ASSIGNMENT.cases_of("Adam", "variables")[0]
    assert "variables of shapes (), (3,), (2, 3), (3,)" in multi.settings()


def test_several_variables_include_two_of_one_shape():
    """Does the several-variables case hold two variables of one shape (state keyed by shape
    shares them) as well as different shapes (state shared by all cannot even be added)?"""
    for case in ASSIGNMENT.cases:
        if case.driver == "variables":
            shapes = [tuple(s) for s in case.params["shapes"]]
            assert len(set(shapes)) < len(shapes), case.id
            assert len(set(shapes)) > 1, case.id


def test_an_adam_case_where_epsilon_matters():
    """Is there a hidden Adam case whose epsilon is comparable to sqrt(s_hat) at its start
    (the first gradient's size), so that leaving epsilon out shows?"""
    assert any(
        case.params["kwargs"].get("ep", 0) > 0.01 * abs(course_gradient(case.params["init"]))
        for case in ASSIGNMENT.cases
        if case.exercise == "Adam" and not case.public and "init" in case.params
    )
