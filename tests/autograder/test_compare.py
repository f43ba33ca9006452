"""Comparisons of a submission's result with the expected one, on synthetic data."""

import math

import pytest

from autograder import compare
from autograder.assignments.optimizers_core.spec import ASSIGNMENT

GUIDE = ASSIGNMENT.cases_of("GradientDescent", "guide_0.01")[0]
HIDDEN = ASSIGNMENT.cases_of("GradientDescent", "other_runs")[0]


def run(outcome, path, iterations=None):
    return {"outcome": outcome, "iterations": iterations or len(path), "path": path}


def test_float32_noise_passes_and_a_real_difference_fails():
    """Is a relative 1e-5 difference accepted and a 1 % difference rejected?"""
    expected = run("exceeded", [1.0, 0.83, 0.7222561])
    assert compare.compare_result(GUIDE, run("exceeded", [1.0, 0.830008, 0.72226]), expected).passed
    verdict = compare.compare_result(GUIDE, run("exceeded", [1.0, 0.83, 0.73]), expected)
    assert not verdict.passed and verdict.step == 3


def test_public_messages_show_expected_values_hidden_ones_do_not():
    """Public cases show expected vs got; do hidden ones show only a magnitude?"""
    expected = run("exceeded", [1.0, 0.83, 0.7222561])
    got = run("exceeded", [1.0, 0.83, 0.75])
    public = compare.compare_result(GUIDE, got, expected).message
    assert "step 3" in public and "expected 0.7222561" in public and "got 0.75" in public
    hidden = compare.compare_result(HIDDEN, got, expected).message
    assert "step 3" in hidden and "0.72" not in hidden and "about 4e-02" in hidden


def test_an_exact_converged_iteration_is_never_required():
    """Is stopping a few iterations earlier or later at the same point accepted?"""
    expected = run("converged", [1.0, -1.0, -1.12, -1.125, -1.125])
    assert compare.compare_result(
        GUIDE, run("converged", [1.0, -1.0, -1.12, -1.125]), expected
    ).passed
    later = run("converged", [1.0, -1.0, -1.12, -1.1249999, -1.125, -1.125])
    assert compare.compare_result(GUIDE, later, expected).passed
    assert compare.compare_result(
        GUIDE, run("exceeded", [1.0, -1.0, -1.12, -1.125, -1.125]), expected
    ).passed


def test_stopping_too_early_fails():
    """Does a run that stops while the expected one keeps moving fail where they part?"""
    expected = run("exceeded", [1.0, 0.9, 0.8, 0.7])
    verdict = compare.compare_result(GUIDE, run("converged", [1.0, 0.9, 0.9]), expected)
    assert not verdict.passed and verdict.step == 3


def test_explosions_must_match():
    """Is a missing explosion, or an unexpected one, a failure with a clear message?"""
    exploded = run("exploded", [-8.0, 344.0, -math.inf], iterations=4)
    tame = compare.compare_result(GUIDE, run("exceeded", [-8.0, 344.0, -math.inf, 1.0]), exploded)
    assert not tame.passed and "explode" in tame.message
    assert compare.compare_result(GUIDE, exploded, exploded).passed
    wild = compare.compare_result(GUIDE, exploded, run("exceeded", [-8.0, 344.0, 7.0, 6.0]))
    assert not wild.passed


@pytest.mark.parametrize(
    "bad",
    [
        None,
        {},
        {"path": "x"},
        {"outcome": "converged", "path": [1, "a"]},
        {"outcome": "won", "path": [1.0]},
        {"outcome": "exceeded", "path": [True]},
    ],
)
def test_malformed_results_fail_cleanly(bad):
    """Does garbage returned from the sandbox fail the case instead of crashing the grader?"""
    expected = run("exceeded", [1.0])
    assert not compare.compare_result(GUIDE, bad, expected).passed


def test_several_variables_name_the_element_that_differs():
    """Does a multi-variable mismatch say which variable and element parted first?"""
    case = ASSIGNMENT.cases_of("Adam", "variables")[0]
    expected = {"path": [[0.0] * 10, [1.0] * 10]}
    got = {"path": [[0.0] * 10, [1.0] * 5 + [2.0] + [1.0] * 4]}
    verdict = compare.compare_result(case, got, expected)
    assert (
        "step 2" in verdict.message and "variable 3 of shape (2, 3), element 1" in verdict.message
    )


def test_a_minimum_passes_above_the_bar_and_says_the_bar_below():
    """Is a "minimum" result judged against the expected value minus the margin, a diverged
    run (NaN) or a missing value failing with its own message?"""
    import dataclasses

    case = dataclasses.replace(HIDDEN, compare="minimum", margin=0.05)
    expected = {"value": 0.95, "what": "validation accuracy"}
    assert compare.compare_result(case, {"value": 0.91}, expected).passed
    low = compare.compare_result(case, {"value": 0.5}, expected)
    assert not low.passed and "validation accuracy 0.5; at least 0.9 was expected" in low.message
    assert "diverged" in compare.compare_result(case, {"value": math.nan}, expected).message
    for bad in ({}, {"value": "0.99"}, {"value": True}, None):
        assert "no validation accuracy" in compare.compare_result(case, bad, expected).message
