"""The surfaces of lesson 2 and the loop that runs an optimizer on one."""

import numpy as np
import pytest
import tensorflow as tf

from course_utils import SADDLE, SURFACES, VALLEY, run_on_surface
from course_utils.surfaces import settled_at
from solutions.optimizers_core import GradientDescent, Momentum

IDS = [surface.name for surface in SURFACES]


def value_gradient_hessian(surface, point):
    """f, its gradient and its Hessian at `point`, in float64 (the functions take any dtype)."""
    v = tf.constant(point, dtype=tf.float64)
    with tf.GradientTape() as outer:
        outer.watch(v)
        with tf.GradientTape() as inner:
            inner.watch(v)
            value = surface(v)
        gradient = inner.gradient(value, v)
    return value.numpy(), gradient.numpy(), outer.jacobian(gradient, v).numpy()


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_known_minima_are_minima(surface):
    """Is every listed minimum a stationary point at the minimum value, with a positive definite
    Hessian, inside the plot bounds?"""
    for point in surface.minima:
        value, gradient, hessian = value_gradient_hessian(surface, point)
        assert value == pytest.approx(surface.minimum_value, abs=1e-12)
        assert np.abs(gradient).max() < 1e-6
        assert np.linalg.eigvalsh(hessian).min() > 0
        assert surface.x_range[0] < point[0] < surface.x_range[1]
        assert surface.y_range[0] < point[1] < surface.y_range[1]


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_no_point_of_the_plot_is_below_the_minimum(surface):
    """Is the minimum value a lower bound on the whole plotted grid, and the start inside it?"""
    _, _, values = surface.grid(120)
    assert values.min() >= surface.minimum_value - 1e-6
    assert surface.x_range[0] < surface.start[0] < surface.x_range[1]
    assert surface.y_range[0] < surface.start[1] < surface.y_range[1]


def test_saddle_is_a_saddle_bounded_below():
    """Is the saddle point stationary, with curvatures of both signs, above the minima?"""
    value, gradient, hessian = value_gradient_hessian(SADDLE, SADDLE.saddle)
    assert np.abs(gradient).max() == 0
    low, high = np.linalg.eigvalsh(hessian)
    assert low < 0 < high
    assert value > SADDLE.minimum_value


def test_valley_is_ill_conditioned():
    """Is the valley's condition number between 50 and 100, as the lesson says?"""
    _, _, hessian = value_gradient_hessian(VALLEY, (0.0, 0.0))
    eigenvalues = np.linalg.eigvalsh(hessian)
    assert 50 <= eigenvalues.max() / eigenvalues.min() <= 100


def test_nearest_minimum():
    """Does `nearest_minimum` pick the closest listed minimum?"""
    assert SADDLE.nearest_minimum((0.2, -0.7)) == (0.0, -1.0)
    assert SADDLE.nearest_minimum((0.0, 0.3)) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("gaps", "expected"),
    [
        ([5.0, 1e-3, 1e-7, 1e-8], 2),  # within from index 2 on
        ([1e-9, 1e-9], 0),  # within from the start
        ([5.0, 1e-7, 1.0, 1e-7], 3),  # passed through, left, came back
        ([5.0, 1e-7, 1.0], None),  # passed through and left
        ([5.0, 1e-7, np.nan], None),  # a NaN at the end is not within
    ],
)
def test_settled_at(gaps, expected):
    """Is `converged_at` the first index from which the gap stays within the tolerance?"""
    assert settled_at(np.array(gaps), 1e-6) == expected


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_run_records_path_losses_and_gradients(surface):
    """Does a run start at the start, take every step, and record f and its gradient there?"""
    run = run_on_surface(GradientDescent(1e-3), surface, steps=25)
    assert (
        run.path.shape == (26, 2) and run.losses.shape == (26,) and run.gradients.shape == (26, 2)
    )
    np.testing.assert_array_equal(run.path[0], np.float32(surface.start))
    np.testing.assert_allclose(run.losses, surface(run.path), rtol=1e-6)
    # One gradient-descent step from each point: the path is what the gradients say.
    np.testing.assert_array_equal(
        run.path[1:], run.path[:-1] - np.float32(1e-3) * run.gradients[:-1]
    )


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_hand_written_gradient_is_the_gradient(surface):
    """Does each surface's gradient formula agree with TensorFlow's autodiff (float64) over its
    plot?"""
    grid_x, grid_y, _ = surface.grid(15)
    for point in zip(grid_x.ravel(), grid_y.ravel()):
        v = tf.constant(point, dtype=tf.float64)
        with tf.GradientTape() as tape:
            tape.watch(v)
            value = surface(v)
        autodiff = tape.gradient(value, v).numpy()
        by_hand = surface.gradient(
            tf.constant(point[0], tf.float64), tf.constant(point[1], tf.float64)
        )
        np.testing.assert_allclose([g.numpy() for g in by_hand], autodiff, rtol=1e-9, atol=1e-9)


def awkward_points(seed=0, count=400):
    """Points from 1e-30 to 1e15 in size, of both signs, with exact zeros: values whose squares
    and products are subnormal, overflow or cancel."""
    rng = np.random.default_rng(seed)
    magnitudes = 10.0 ** rng.uniform(-30, 15, (count, 2))
    points = (magnitudes * rng.choice([-1.0, 1.0], (count, 2))).astype(np.float32)
    points[::17, 0] = 0.0
    return np.concatenate([points, surface_points()])


def surface_points():
    return np.array([point for surface in SURFACES for point in surface.minima], np.float32)


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_numpy_evaluation_is_tensorflows_to_the_bit(surface):
    """Do the NumPy value and gradient that feed the eager loop equal, bit for bit, TensorFlow's
    eager evaluation of the same formulas (subnormals flushed, overflows and NaN included)?"""
    for point in awkward_points():
        value, gradient = surface.value_and_gradient(point)
        x, y = tf.constant(point[0]), tf.constant(point[1])
        expected_gradient = tf.stack(surface.gradient(x, y)).numpy()
        assert value.dtype == np.float32 and gradient.dtype == np.float32
        np.testing.assert_array_equal(value, surface.function(x, y).numpy(), err_msg=str(point))
        np.testing.assert_array_equal(gradient, expected_gradient, err_msg=str(point))
        assert (np.signbit(gradient) == np.signbit(expected_gradient)).all(), point


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
@pytest.mark.parametrize(
    ("ours", "keras"),
    [
        (lambda: GradientDescent(3e-3), lambda: tf.keras.optimizers.SGD(3e-3)),
        (lambda: Momentum(2e-3, 0.8), lambda: tf.keras.optimizers.SGD(2e-3, momentum=0.8)),
    ],
    ids=["gradient_descent", "momentum"],
)
def test_keras_loop_is_bit_identical_to_the_eager_loop(surface, ours, keras):
    """Does the compiled Keras loop follow the eager loop of an equivalent optimizer bit for bit
    (path, losses, gradients and convergence)?"""
    eager = run_on_surface(ours(), surface, steps=150, tol=1e-3)
    compiled = run_on_surface(keras(), surface, steps=150, tol=1e-3)
    for name in ("path", "losses", "gradients"):
        np.testing.assert_array_equal(getattr(eager, name), getattr(compiled, name))
    assert eager.converged_at == compiled.converged_at


@pytest.mark.parametrize(
    "make",
    [lambda: GradientDescent(0.5), lambda: tf.keras.optimizers.SGD(0.5)],
    ids=["eager", "keras"],
)
def test_a_diverging_run_stops_at_its_first_non_finite_loss(make):
    """Does a run that blows up end at the first point whose loss is not finite, unconverged?"""
    run = run_on_surface(make(), SADDLE, start=(3.0, 3.0), steps=200)
    assert len(run.path) < 201
    assert not np.isfinite(run.losses[-1]) and np.isfinite(run.losses[:-1]).all()
    assert run.converged_at is None


def test_a_converging_run_reports_when_it_settled():
    """Does Keras SGD on the valley settle within the tolerance at the iteration the losses say?"""
    run = run_on_surface(tf.keras.optimizers.SGD(0.3), VALLEY, steps=300, tol=1e-4)
    assert run.converged_at is not None
    assert (run.losses[run.converged_at :] <= 1e-4).all() and run.losses[
        run.converged_at - 1
    ] > 1e-4
    assert np.abs(run.end).max() < 1e-2


def test_keras_optimizers_sharing_a_compiled_loop_keep_their_own_state():
    """Does a Keras optimizer run twice (its second run from where the first ended) follow one
    run of twice the steps, while another of the same class and a different learning rate runs
    on another surface in between with the same compiled loop?"""
    whole = run_on_surface(tf.keras.optimizers.Adam(0.05), SADDLE, steps=40)
    adam = tf.keras.optimizers.Adam(0.05)
    first = run_on_surface(adam, SADDLE, steps=20)
    run_on_surface(tf.keras.optimizers.Adam(0.3), VALLEY, steps=20)
    second = run_on_surface(adam, SADDLE, start=tuple(first.end), steps=20)
    np.testing.assert_array_equal(np.concatenate([first.path, second.path[1:]]), whole.path)
    assert int(adam.iterations.numpy()) == 40
