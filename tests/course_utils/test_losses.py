import numpy as np
import pytest
import tensorflow as tf

from course_utils import GLOBAL_MINIMUM, INFLECTION_POINT, grad, loss, loss_grid_x


def test_loss_is_the_guides_quartic():
    """Is L(x) = 2x^4 + 3x^3 + 2 at a few points?"""
    for x in (-2.0, -1.125, 0.0, 0.5, 2.0):
        assert float(loss(tf.constant(x))) == pytest.approx(2 * x**4 + 3 * x**3 + 2, rel=1e-6)


def test_grad_of_a_variable_is_the_derivative():
    """Does grad(loss, x) give 8x^3 + 9x^2 for a variable?"""
    x = tf.Variable(2.0)
    assert float(grad(loss, x)) == pytest.approx(100.0)


def test_grad_works_on_a_plain_tensor_grid():
    """Can grad() differentiate on a grid of points (a tensor, not a variable)?"""
    xs = loss_grid_x()
    expected = 8 * xs.numpy() ** 3 + 9 * xs.numpy() ** 2
    np.testing.assert_allclose(grad(loss, xs).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert xs.dtype == tf.float32 and xs.shape == (201,)


def test_stationary_points():
    """Are 0 and -9/8 the zeros of the gradient, with the minimum below the inflection point?"""
    for x in (INFLECTION_POINT, GLOBAL_MINIMUM):
        assert float(grad(loss, tf.Variable(x))) == pytest.approx(0.0, abs=1e-5)
    assert float(loss(GLOBAL_MINIMUM)) < float(loss(INFLECTION_POINT))
