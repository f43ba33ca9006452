"""Lesson 4's declaration: public cases are the self-checks' own, hidden ones are not, each typical
bug has a case that tells it apart, the references and oracles agree with NumPy and the
solutions, the eigenvalue is graded with the exact product (a wrong product costs only its own
points), the grader's hints name the bugs, and the contract of each exercise."""

import nbformat
import numpy as np
import pytest

from autograder.assignment import DEFINED
from autograder.assignments.sam_sharpness import spec
from autograder.assignments.sam_sharpness.spec import ASSIGNMENT, EIGEN, PRODUCT, SAM
from autograder.compare import compare_result
from autograder.guest.runner import ContractError, load_guest
from course_utils import selfcheck_sam, sharpness_problems


def hidden(exercise, test=None):
    return [
        c
        for c in ASSIGNMENT.cases
        if c.exercise == exercise and not c.public and test in (None, c.test)
    ]


# --- The declaration ------------------------------------------------------------------------------


def test_public_cases_are_the_self_checks_own():
    """Is each exercise's public test the self-check's cases, in order, by name and index, and
    does each public SAM case's tolerance come from its base optimizer's learning rate?"""
    for exercise in ASSIGNMENT.exercises:
        public = [c for c in ASSIGNMENT.cases if c.exercise == exercise and c.public]
        cases = selfcheck_sam.public_cases(exercise)
        assert [c.settings() for c in public] == [case.name for case in cases], exercise
        assert [c.params["index"] for c in public] == list(range(len(cases)))
        assert all(c.driver == "public" and c.test == "public" for c in public)
    for case in (c for c in ASSIGNMENT.cases if c.exercise == SAM and c.public):
        base = selfcheck_sam.public_cases(SAM)[case.params["index"]].base
        assert case.learning_rate() == base[1]["learning_rate"]


def test_hidden_cases_use_inputs_the_notebook_never_shows():
    """No hidden case runs a self-check case, or a public problem with a public setting."""
    assert not any(c.driver == "public" for c in ASSIGNMENT.cases if not c.public)
    shown = {(c.seed, c.rho) for c in selfcheck_sam.public_cases(SAM)}
    for case in hidden(SAM):
        if case.test != DEFINED:
            assert (case.params["seed"], case.params["rho"]) not in shown, case.id
    shown = {(c.problem, c.seed) for c in selfcheck_sam.public_cases(EIGEN)}
    for case in hidden(EIGEN):
        if case.test != DEFINED:
            assert (case.params["problem"], case.params["seed"]) not in shown, case.id


def test_points_and_names_match_the_notebook():
    """Does each exercise carry the points of its self-check cell, every test's name start with
    its exercise, and the declaration hold together?"""
    ASSIGNMENT.validate()
    solution = nbformat.read(str(ASSIGNMENT.solution_notebook), as_version=4)
    points = {
        cell.metadata["nbgrader"]["grade_id"]: cell.metadata["nbgrader"].get("points")
        for cell in solution.cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    }
    for exercise, subtotal in ASSIGNMENT.subtotals().items():
        assert points[f"{exercise}_tests"] == subtotal, exercise
    for exercise in ASSIGNMENT.exercises:
        for test in ASSIGNMENT.tests_for(exercise):
            assert ASSIGNMENT.shown_name(exercise, test).startswith(exercise + ": ")


def test_each_sam_bug_has_a_case():
    """Several rho around SGD (with and without momentum) and Adam, compiled from the first call
    and after eager calls of the same instance, and a recording base optimizer."""
    cases = hidden(SAM)
    assert {c.params["base"] for c in cases if c.driver == "sam"} == {"sgd", "adam"}
    assert len({c.params["rho"] for c in cases if c.driver == "sam"}) >= 4
    assert {c.params.get("mode") for c in cases if c.test == "compiled"} == {"compiled", "switch"}
    assert [c.driver for c in cases if c.test == "restored"] == ["recording"]


def test_each_product_and_eigen_bug_has_a_case():
    """Products at every problem, unit vectors among random ones, compiled; eigenpairs at minima
    and at saddles whose top eigenvalue is negative and dominant."""
    products = hidden(PRODUCT)
    assert {c.params["problem"] for c in products} == set(sharpness_problems.NAMES)
    assert any(c.params["directions"] for c in products)
    assert any(c.params["compiled"] for c in products)
    for case in hidden(EIGEN):
        p = sharpness_problems.problem(case.params["problem"], case.params["seed"])
        eigenvalues = np.linalg.eigvalsh(p.hessian(p.values))
        top, second = sorted(np.abs(eigenvalues))[::-1][:2]
        assert top >= 1.5 * second, case.id
        assert (eigenvalues[0] < 0 and -eigenvalues[0] == top) == (
            case.params["problem"] == "saddle"
        ), case.id


def test_hidden_feedback_names_settings_not_values():
    for case in ASSIGNMENT.cases:
        assert case.settings(), case.id


# --- The drivers --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guest():
    return load_guest(ASSIGNMENT.guest)


def test_the_contract_of_each_exercise(guest):
    """SAM a class with minimize; the others functions; anything else says what is missing."""

    class Sam:
        def minimize(self, loss_fn, vars):
            return 0.0

    guest.check_exercise(SAM, Sam)
    guest.check_exercise(PRODUCT, lambda loss_fn, vars, vectors: vectors)
    for name, obj, words in [
        (SAM, Sam(), "not a class"),
        (SAM, type("NoMinimize", (), {}), "no minimize"),
        (PRODUCT, Sam, "not a function"),
        (EIGEN, 3.0, "not a function"),
    ]:
        with pytest.raises(ContractError, match=words):
            guest.check_exercise(name, obj)


def test_the_exact_product_is_the_problems_hessian(guest):
    """Is the product injected into the power iteration H v of the NumPy Hessian, shaped like
    the variables?"""
    p = sharpness_problems.problem("saddle", 1)
    variables = p.variables()
    vectors = guest.vectors("saddle", 4)
    got = guest.exact_product(p)(p.loss_fn(variables), variables, vectors)
    assert [tuple(g.shape) for g in got] == list(sharpness_problems.SHAPES)
    want = p.hessian(p.values) @ sharpness_problems.flatten(vectors)
    np.testing.assert_allclose(guest.flat(got), want, rtol=1e-12, atol=1e-12)


POWER_ITERATION_WITH_A_WRONG_PRODUCT = """
def hessian_vector_product(loss_fn, vars, vectors):
    return vectors

def top_hessian_eigenvalue(loss_fn, vars, iterations=50, seed=0):
    vectors = [tf.ones_like(v) for v in vars]
    for _ in range(iterations):
        hv = hessian_vector_product(loss_fn, vars, vectors)
        value = tf.add_n([tf.reduce_sum(h * u) for h, u in zip(hv, vectors)])
        norm = tf.linalg.global_norm(hv)
        vectors = [h / norm for h in hv]
    return value, vectors
"""


def test_a_wrong_product_costs_the_eigenvalue_nothing(guest):
    """Does the eigen driver run the student's power iteration on the exact product, whatever
    `hessian_vector_product` the notebook defines, and put the notebook's own back?"""
    import tensorflow as tf

    namespace = {"tf": tf}
    exec(POWER_ITERATION_WITH_A_WRONG_PRODUCT, namespace)
    own = namespace["hessian_vector_product"]
    (case, *_) = hidden(EIGEN, "saddle")
    got = guest.run_case(namespace["top_hessian_eigenvalue"], case.driver, case.params)
    assert compare_result(case, got, ASSIGNMENT.references()[case.id]).passed
    assert namespace["hessian_vector_product"] is own


# --- References, oracles and hints ----------------------------------------------------------------


def test_the_solution_agrees_with_the_oracles(guest):
    """Does each solution pass its oracle cases (SAM with tf.linalg.global_norm, the product of
    the jacobian Hessian, eigh's top eigenpair)?"""
    references = ASSIGNMENT.references()
    oracle_cases = [c for c in ASSIGNMENT.cases if c.oracle != "solution"]
    assert {c.exercise for c in oracle_cases} == set(ASSIGNMENT.exercises)
    for case in oracle_cases:
        got = guest.run_case(ASSIGNMENT.solution_class(case.exercise), case.driver, case.params)
        assert compare_result(case, got, references[case.id]).passed, case.id


def test_the_references_match_numpy(guest):
    """Are the expected products H v of the exact Hessian, and the expected eigenvalues
    eigvalsh's of largest magnitude?"""
    references = ASSIGNMENT.references()
    for case in hidden(PRODUCT):
        params = case.params
        p = sharpness_problems.problem(params["problem"], params["seed"])
        chosen = [guest.vectors(params["problem"], s) for s in params["vector_seeds"]]
        chosen += [guest.vectors(params["problem"], 0, d) for d in params["directions"]]
        want = [p.hessian(p.values) @ sharpness_problems.flatten(v) for v in chosen]
        np.testing.assert_allclose(references[case.id]["path"], want, rtol=1e-9, atol=1e-12)
    for case in hidden(EIGEN):
        p = sharpness_problems.problem(case.params["problem"], case.params["seed"])
        eigenvalues = np.linalg.eigvalsh(p.hessian(p.values))
        top = eigenvalues[np.argmax(np.abs(eigenvalues))]
        assert references[case.id]["path"][0] == pytest.approx(top, rel=1e-9), case.id


def _record(path):
    return {"result": {"path": path}, "error": None}


def test_hints_name_the_bugs_on_the_cases_inputs(guest):
    """Does the grader's diagnosis, on hidden cases' own inputs, name the product as gradient
    times vector and ||H v|| for the eigenvalue (answers made here with NumPy), and a Python
    float in SAM's norm from its error under tf.function?"""
    (case, *_) = hidden(PRODUCT, "vectors")
    params = case.params
    p = sharpness_problems.problem(params["problem"], params["seed"])
    gradient = sharpness_problems.flatten(p.gradient(p.values))
    chosen = [guest.vectors(params["problem"], s) for s in params["vector_seeds"]]
    path = [(gradient * sharpness_problems.flatten(v)).tolist() for v in chosen]
    assert spec.diagnose(None, case, _record(path)) == "hvp_gradient_times_vector"

    (case, *_) = hidden(EIGEN, "saddle")
    p = sharpness_problems.problem(case.params["problem"], case.params["seed"])
    eigenvalues, eigenvectors = np.linalg.eigh(p.hessian(p.values))
    path = [abs(eigenvalues[0])] + guest.signed(eigenvectors[:, 0]).tolist()
    assert spec.diagnose(None, case, _record(path)) == "eigen_norm_not_signed"

    (case, *_) = [c for c in hidden(SAM, "compiled") if c.params["mode"] == "compiled"]
    error = "TypeError: Cannot convert a symbolic tf.Tensor to a numpy array."
    assert spec.diagnose(None, case, {"result": None, "error": error}) == "sam_python_float_norm"
