"""Lesson 4's self-checks: do correct exercises pass, does each typical mistake fail with its
hint, and are the shipped expectations the ones the solutions give?"""

import functools
import json

import nbformat
import pytest

from autograder import generate, paths
from autograder.build_references import same_values
from course_utils import selfcheck_sam
from course_utils.hints_sam import HINTS
from course_utils.selfcheck_sam import EXERCISES, build_expectations, check
from course_utils.tolerance import ATOL, first_departure
from tests.course_utils.test_hints_sam import (
    SAM,
    SAM_BUGS,
    hessian_vector_product,
    top_hessian_eigenvalue,
)

NOTEBOOK = paths.SOLUTIONS_DIR / "sam_sharpness.ipynb"

# Correct exercises written independently of the solutions (test_hints_sam's, without a bug).
CORRECT = {
    "SAM": SAM,
    "hessian_vector_product": hessian_vector_product,
    "top_hessian_eigenvalue": top_hessian_eigenvalue,
}


@pytest.fixture(scope="module")
def solutions():
    """{exercise: the solution's function or class}, from the solution notebook's exercise cells."""
    if not NOTEBOOK.exists():
        pytest.skip("solutions/sam_sharpness.ipynb is not written yet")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    namespace = {}
    exec(generate.solutions_module_source(nb, NOTEBOOK.name), namespace)  # noqa: S102 - our own
    return {name: namespace[name] for name in EXERCISES}


def hints_of(report):
    return [message.partition("Hint: ")[2] for _, ok, message, _ in report.results if not ok]


@pytest.mark.parametrize("name", EXERCISES)
def test_independent_correct_exercises_pass(name):
    report = check(CORRECT[name], plot=False, name=name)
    assert report.passed, report.results


@pytest.mark.parametrize("name", EXERCISES)
def test_the_solutions_pass(solutions, name):
    report = check(solutions[name], plot=False)
    assert report.passed, report.results


def test_the_expectations_are_the_solutions_answers(solutions):
    """Is expectations/sam_sharpness.json current (as build-references judges it: floats to the
    last bits a CPU changes in float64 products)?"""
    shipped = json.loads(selfcheck_sam.EXPECTATIONS.read_text())
    assert set(shipped) == {"about", "tensorflow", "expected"}
    assert same_values(shipped["expected"], json.loads(json.dumps(build_expectations(solutions))))


def test_expectations_hold_the_exact_eigenvalues():
    """Are the shipped eigenvalues NumPy's eigvalsh of the exact Hessians (independent of TF)?"""
    import numpy as np

    from course_utils.sharpness_problems import problem

    expected = selfcheck_sam.expectations()["top_hessian_eigenvalue"]
    for case in selfcheck_sam.public_cases("top_hessian_eigenvalue"):
        p = problem(case.problem, case.seed)
        eigenvalues = np.linalg.eigvalsh(p.hessian(p.values))
        top = eigenvalues[np.argmax(np.abs(eigenvalues))]
        assert first_departure([expected[case.name][0]], [top], ATOL) is None


BUGGY = [("SAM", functools.partial(SAM, bug=bug), bug) for bug in SAM_BUGS]
BUGGY += [
    ("hessian_vector_product", functools.partial(hessian_vector_product, bug=bug), bug)
    for bug in ("hvp_gradient_times_vector",)
]
BUGGY += [
    ("top_hessian_eigenvalue", functools.partial(top_hessian_eigenvalue, bug=bug), bug)
    for bug in ("power_not_normalised", "eigen_norm_not_signed")
]


@pytest.mark.parametrize(("name", "buggy", "bug"), BUGGY, ids=[bug for _, _, bug in BUGGY])
def test_each_mistake_fails_with_its_hint(name, buggy, bug):
    report = check(buggy, plot=False, name=name)
    assert not report.passed
    given = hints_of(report)
    assert HINTS[bug] in given, report.results
    assert set(given) <= {HINTS[bug], ""}, report.results  # never another mistake's hint


def test_python_float_norm_fails_compiled_with_its_hint():
    """Does a Python float in the norm pass eagerly and fail compiled, with its hint?"""
    report = check(functools.partial(SAM, bug="sam_python_float_norm"), plot=False, name="SAM")
    for case, (_, ok, message, _) in zip(selfcheck_sam.public_cases("SAM"), report.results):
        assert ok != case.compiled, message
        assert ok or HINTS["sam_python_float_norm"] in message


def test_a_python_float_hint_needs_the_eager_cases_to_pass():
    """Is the Python-float hint withheld when the eager cases fail too (a broken dtype then)?"""

    def broken(base_optimizer, rho):
        return SAM(base_optimizer, rho=float("nan"), bug="sam_python_float_norm")

    report = check(broken, plot=False, name="SAM")
    assert not report.passed
    assert HINTS["sam_python_float_norm"] not in "".join(m for _, _, m, _ in report.results)


def test_a_stub_is_told_to_be_written():
    def hessian_vector_product(loss_fn, variables, vectors):
        raise NotImplementedError

    report = check(hessian_vector_product, plot=False)
    assert [message for _, _, message, _ in report.results] == [HINTS["not_implemented"]] * 3


def test_an_answer_of_the_wrong_shape_fails_without_a_hint():
    report = check(
        lambda loss_fn, variables, vectors: [0.0], plot=False, name="hessian_vector_product"
    )
    assert not report.passed and not any(hints_of(report))


def test_check_refuses_what_it_does_not_know():
    with pytest.raises(ValueError, match="hessian_vector_product"):
        check(print, plot=False)


@pytest.mark.parametrize("name", EXERCISES)
def test_check_draws_one_panel_per_case(name):
    buggy = {"SAM": functools.partial(SAM, bug="sam_downhill")}.get(name, CORRECT[name])
    report = check(buggy, plot=True, name=name)
    visible = [ax for ax in report.figure.axes if ax.get_visible()]
    assert len(visible) == len(selfcheck_sam.public_cases(name))
