import numpy as np
import pytest
import tensorflow as tf

from course_utils import convergence_test, grad, loss
from solutions.optimizers_core import Adam, GradientDescent, Momentum


class Still:
    """An optimizer that never moves."""

    title = "Still"

    def apply_gradients(self, grads, vars):
        pass


def seed_eager_loop(optimizer, loss_fn=loss, init_val=2.0, max_iters=2000):
    """The original guide's loop, eager all the way: the reference for bit-identity."""
    x_star = tf.Variable(init_val)
    path = []
    for iteration in range(1, max_iters + 1):
        x_grad = grad(loss_fn, x_star)
        if tf.math.is_nan(x_grad):
            return path, ("exploded", iteration)
        x_old = x_star.numpy()
        optimizer.apply_gradients([x_grad], [x_star])
        path.append(x_star.numpy())
        if x_star == x_old:
            return path, ("converged", iteration)
    return path, ("exceeded", max_iters)


def test_prints_title_rule_and_convergence(capsys):
    """Does a run print the title, a rule as long as it, and 'Converged in N iterations'?"""
    path = convergence_test(Still(), loss_fn=loss)
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == ["Still", "-----", "Converged in 1 iterations"]
    assert path == [2.0]


def test_reports_exceeded_maximum(capsys):
    """Does a run that never settles stop after max_iters with the guide's message?"""
    path = convergence_test(GradientDescent(1e-3), loss_fn=loss, max_iters=50)
    assert "Exceeded maximum of 50 iterations. Test terminated." in capsys.readouterr().out
    assert len(path) == 50


def test_reports_explosion_and_keeps_the_diverging_path(capsys):
    """Is a NaN gradient reported at iteration 6 for lr 0.1, with the path that ran away kept?"""
    path = convergence_test(GradientDescent(1e-1), loss_fn=loss)
    assert "Gradient exploded at iteration 6" in capsys.readouterr().out
    assert path[:2] == [-8.0, 344.0]
    assert len(path) == 5 and path[-1] == -np.inf


@pytest.mark.parametrize(
    "optimizer, max_iters",
    [(GradientDescent(1e-2), 2000), (Momentum(1e-2), 2000), (Adam(1e-1), 400)],
    ids=["gd", "momentum", "adam"],
)
def test_path_is_bit_identical_to_the_eager_loop(optimizer, max_iters, capsys):
    """Does compiling the gradient leave every bit of the path as the guide's eager loop has it?"""
    fresh = type(optimizer)(optimizer.learning_rate)
    expected, _ = seed_eager_loop(fresh, max_iters=max_iters)
    got = convergence_test(optimizer, loss_fn=loss, max_iters=max_iters)
    np.testing.assert_array_equal(np.float32(got), np.float32(expected))


def test_compiled_values_and_gradient_are_bit_identical_on_a_dense_grid():
    """Is the compiled gradient equal, bit for bit, to the eager one at 100001 points?"""
    from course_utils.convergence import exact_graph_arithmetic, value_and_gradient_function

    xs = tf.Variable(np.linspace(-3, 3, 100_001, dtype=np.float32))
    eager = grad(loss, xs).numpy().view(np.int32)
    with exact_graph_arithmetic():
        values, compiled = value_and_gradient_function(grad, loss, xs)(xs)
    np.testing.assert_array_equal(compiled.numpy().view(np.int32), eager)
    np.testing.assert_array_equal(values.numpy(), xs.numpy())


def test_the_course_gradient_is_bit_identical_to_autodiff_on_scalars():
    """Is L'(x) of `course_value_and_gradient` the tape's, bit for bit, at 2000 scalar points?

    Scalars take another kernel path than the grid above; the points span [-3, 3], every scale
    of float32 from subnormal to overflow, signed zeros, infinities and NaN.
    """
    from course_utils.convergence import course_value_and_gradient, value_and_gradient_function

    rng = np.random.default_rng(0)
    scales = 10.0 ** rng.uniform(-45, 39, 500)
    with np.errstate(over="ignore"):
        points = np.concatenate(
            [
                rng.uniform(-3, 3, 1500),
                rng.choice([-1.0, 1.0], 500) * scales,
                [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 3.4e38, -3.4e38],
            ]
        ).astype(np.float32)
    x = tf.Variable(0.0)
    assert value_and_gradient_function(grad, loss, x) is course_value_and_gradient
    for point in points:
        x.assign(point)
        value, fast = course_value_and_gradient(x)
        expected = grad(loss, x).numpy()
        assert value.numpy().tobytes() == point.tobytes()
        assert fast.numpy().tobytes() == expected.tobytes() or (
            np.isnan(fast.numpy()) and np.isnan(expected)
        ), point


def test_compiling_does_not_change_the_students_graph_settings():
    """Are Grappler's options as they were after a run?"""
    before = tf.config.optimizer.get_experimental_options()
    convergence_test(GradientDescent(1e-2), loss_fn=loss, max_iters=3)
    assert tf.config.optimizer.get_experimental_options().get(
        "arithmetic_optimization", True
    ) == before.get("arithmetic_optimization", True)


def test_an_untraceable_grad_fn_still_runs(capsys):
    """Does a grad_fn that only works eagerly (it calls .numpy()) fall back to eager execution?"""

    def numpy_grad(f, x):
        return tf.constant(8 * x.numpy() ** 3 + 9 * x.numpy() ** 2)

    path = convergence_test(GradientDescent(1e-2), loss_fn=loss, grad_fn=numpy_grad, max_iters=3)
    assert path[:2] == pytest.approx([1.0, 0.83])


def test_first_iterates_match_the_guide(capsys):
    """Are the first iterates those of the published guide (GD, Momentum, Adam)?"""
    gd = convergence_test(GradientDescent(1e-2), loss_fn=loss, max_iters=3)
    momentum = convergence_test(Momentum(1e-2), loss_fn=loss, max_iters=3)
    adam = convergence_test(Adam(1e-1), loss_fn=loss, max_iters=3)
    # NOTES.md prints them to 7 or 8 digits: equal within one float32 spacing.
    for got, printed in (
        (gd, [1.0, 0.83, 0.7222561]),
        (momentum, [1.0, 0.13, -0.4806967]),
        (adam, [1.9, 1.8005775, 1.7021496]),
    ):
        np.testing.assert_array_max_ulp(np.float32(got), np.float32(printed), maxulp=1)
