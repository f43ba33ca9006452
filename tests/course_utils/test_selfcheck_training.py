"""Lesson 3's self-checks: do the solutions pass, does each typical mistake fail with its hint,
and are the shipped expectations the ones the solutions give?"""

import functools
import json

import nbformat
import pytest

from autograder import generate, paths
from autograder.build_references import same_values
from course_utils import selfcheck_training
from course_utils.hints_training import HINTS
from course_utils.selfcheck_training import EXERCISES, build_expectations, check
from tests.course_utils.test_hints_training import (
    CLIP_BUGS,
    EAGER_BUGS,
    SCHEDULE_BUGS,
    AdamW,
    Schedule,
    clip,
)

NOTEBOOK = paths.SOLUTIONS_DIR / "adamw_training.ipynb"


@pytest.fixture(scope="module")
def solutions():
    """{exercise: the solution's function or class}, from the solution notebook's exercise cells."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    namespace = {}
    exec(generate.solutions_module_source(nb, NOTEBOOK.name), namespace)  # noqa: S102 - our own
    return {name: namespace[name] for name in EXERCISES}


def hints_of(report):
    return [message.partition("Hint: ")[2] for _, ok, message, _ in report.results if not ok]


@pytest.mark.parametrize("name", EXERCISES)
def test_the_solutions_pass(solutions, name):
    report = check(solutions[name], plot=False)
    assert report.passed, report.results


def test_the_expectations_are_the_solutions_answers(solutions):
    """Is expectations/adamw_training.json current (as build-references judges it)?"""
    shipped = json.loads(selfcheck_training.EXPECTATIONS.read_text())
    assert set(shipped) == {"about", "tensorflow", "expected"}
    fresh = json.loads(json.dumps(build_expectations(solutions)))
    assert same_values(shipped["expected"], fresh)


BUGGY = [("clip_by_global_norm", functools.partial(clip, bug=bug), bug) for bug in CLIP_BUGS]
BUGGY += [("WarmupCosineDecay", functools.partial(Schedule, bug=bug), bug) for bug in SCHEDULE_BUGS]
BUGGY += [
    ("AdamW", functools.partial(AdamW, bug=bug), bug)
    for bug in (*EAGER_BUGS, "step_counter_python_int", "schedule_from_one_in_optimizer")
]


@pytest.mark.parametrize(("name", "buggy", "bug"), BUGGY, ids=[bug for _, _, bug in BUGGY])
def test_each_mistake_fails_with_its_hint(name, buggy, bug):
    report = check(buggy, plot=False, name=name)
    assert not report.passed
    given = hints_of(report)
    assert HINTS[bug] in given, report.results
    if bug != "step_counter_not_advanced":  # frozen at step 0, a warm-up never moves at all
        assert all(given), report.results  # every failing case explains itself
    assert set(given) <= {HINTS[bug], ""}, report.results  # and none with another's hint


def test_a_stub_is_told_to_be_written():
    def clip_by_global_norm(grads, clip_norm):
        raise NotImplementedError

    report = check(clip_by_global_norm, plot=False)
    assert [message for _, _, message, _ in report.results] == [HINTS["not_implemented"]] * 3


def test_check_refuses_what_it_does_not_know():
    with pytest.raises(ValueError, match="clip_by_global_norm"):
        check(print, plot=False)


def test_check_draws_one_panel_per_case(solutions):
    report = check(solutions["AdamW"], plot=True)
    visible = [ax for ax in report.figure.axes if ax.get_visible()]
    assert len(visible) == len(selfcheck_training.public_cases("AdamW"))
