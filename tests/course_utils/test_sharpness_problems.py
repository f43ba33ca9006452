"""Lesson 4's small problems: exact NumPy loss, gradient and Hessian against TensorFlow."""

import numpy as np
import pytest
import tensorflow as tf

from course_utils.sharpness_problems import NAMES, flatten, problem, unflatten

SEEDS = range(4)
CASES = [(name, seed) for name in NAMES for seed in SEEDS]


def autodiff(p):
    """Loss, flat gradient and Hessian of p.loss_fn at p's point, by two float64 tapes."""
    variables = p.variables()
    loss_fn = p.loss_fn(variables)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = loss_fn()
        gradient = tf.concat([tf.reshape(g, [-1]) for g in inner.gradient(loss, variables)], 0)
    blocks = outer.jacobian(gradient, variables)
    hessian = np.hstack([np.reshape(block, (len(gradient), -1)) for block in blocks])
    return loss.numpy(), gradient.numpy(), hessian


@pytest.mark.parametrize(("name", "seed"), CASES)
def test_numpy_loss_gradient_hessian_equal_autodiff(name, seed):
    """Do the closed-form loss, gradient and Hessian equal TensorFlow's float64 autodiff?"""
    p = problem(name, seed)
    loss, gradient, hessian = autodiff(p)
    exact = p.hessian(p.values)
    assert p.loss(p.values) == pytest.approx(loss, rel=1e-13)
    np.testing.assert_allclose(flatten(p.gradient(p.values)), gradient, rtol=0, atol=1e-13)
    np.testing.assert_allclose(exact, hessian, rtol=0, atol=1e-12 * np.abs(exact).max())
    np.testing.assert_array_equal(exact, exact.T)


def test_variables_have_a_matrix_a_vector_and_a_scalar():
    """Are the variables shaped (3, 4), (4,) and (), and does flatten/unflatten round-trip?"""
    p = problem("regression")
    assert [np.shape(value) for value in p.values] == [(3, 4), (4,), ()]
    assert [v.shape.rank for v in p.variables()] == [2, 1, 0]
    for got, want in zip(unflatten(flatten(p.values)), p.values):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(("name", "sign"), [("minimum", 1.0), ("saddle", -1.0)])
@pytest.mark.parametrize("seed", SEEDS)
def test_dominant_eigenvalue_has_its_sign_and_a_clear_gap(name, sign, seed):
    """Is the largest-magnitude eigenvalue positive at the minimum and negative at the saddle,
    at least 1.5 times the next, at a stationary point whose other eigenvalues are positive?"""
    p = problem(name, seed)
    eigenvalues = np.linalg.eigvalsh(p.hessian(p.values))
    by_magnitude = eigenvalues[np.argsort(-np.abs(eigenvalues))]
    assert np.sign(by_magnitude[0]) == sign
    assert abs(by_magnitude[0]) >= 1.5 * abs(by_magnitude[1])
    assert (by_magnitude[1:] > 0).all()
    assert np.abs(flatten(p.gradient(p.values))).max() < 1e-12


def test_seed_changes_the_problem_and_the_same_seed_repeats_it():
    """Do two seeds give different points and one seed the same problem twice?"""
    again = problem("saddle", 1)
    np.testing.assert_array_equal(
        again.hessian(again.values), problem("saddle", 1).hessian(again.values)
    )
    assert not np.array_equal(flatten(problem("saddle", 0).values), flatten(again.values))


def test_float32_variables_compute_the_same_loss():
    """Does loss_fn follow the variables' dtype (float32 here) and agree with NumPy?"""
    p = problem("minimum", 2)
    loss = p.loss_fn(p.variables(tf.float32))()
    assert loss.dtype == tf.float32
    assert float(loss) == pytest.approx(p.loss(p.values), rel=1e-5)


def test_unknown_name_is_refused():
    with pytest.raises(ValueError, match="unknown problem"):
        problem("valley")
