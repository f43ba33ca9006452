"""The reference optimizers against independent references: NumPy float64 rules and Keras."""

import numpy as np
import pytest
import tensorflow as tf

from course_utils import grad, loss
from solutions.optimizers_core import Adam, GradientDescent, Momentum

from . import reference_numpy

EPS32 = float(np.finfo(np.float32).eps)

# (optimizer, reference rule) with hyperparameters the notebook never uses.
CASES = {
    "gradient_descent": (lambda: GradientDescent(0.05), reference_numpy.gradient_descent(0.05)),
    "momentum": (lambda: Momentum(0.03, momentum=0.85), reference_numpy.momentum(0.03, 0.85)),
    "adam": (
        lambda: Adam(0.02, beta_1=0.8, beta_2=0.99, ep=1e-6),
        reference_numpy.adam(0.02, 0.8, 0.99, 1e-6),
    ),
}
SHAPES = [(), (3,), (2, 4)]
STEPS = 100


def gradient_sequence(seed=0, steps=STEPS, shapes=SHAPES):
    """Fixed pseudo-random gradients of wildly different scales, one list per step."""
    rng = np.random.default_rng(seed)
    return [
        [
            (rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3)).astype(np.float32)
            for shape in shapes
        ]
        for _ in range(steps)
    ]


def initial_values(seed=1, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-2, 2, shape).astype(np.float32) for shape in shapes]


def run_tf(optimizer, values, grads_per_step):
    variables = [tf.Variable(v) for v in values]
    for grads in grads_per_step:
        optimizer.apply_gradients([tf.constant(g) for g in grads], variables)
    return [v.numpy() for v in variables]


def tolerance(steps, largest_x, largest_step):
    """How far float32 arithmetic may drift from float64 on these runs (a worst-case bound).

    Each update rounds a handful of float32 operations (relative error at most ~10 eps of the
    update) and the stored x is rounded once more (at most eps |x|), every step; the gradients are
    fixed, not fed back, so the errors add up at worst linearly:
        n * eps * (10 * max|update| + max|x|).
    A wrong rule (sign, missing learning rate, shared or reset state, misplaced bias correction)
    is off by about one update per step, hundreds of times more.
    """
    return steps * EPS32 * (10 * largest_step + largest_x)


def assert_matches_reference(make_optimizer, rule, shapes=SHAPES):
    values, grads = initial_values(shapes=shapes), gradient_sequence(shapes=shapes)
    got = run_tf(make_optimizer(), values, grads)
    expected, largest_x, largest_step = reference_numpy.run(rule, values, grads)
    atol = tolerance(len(grads), largest_x, largest_step)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=0, atol=atol)


@pytest.mark.parametrize("name", CASES)
def test_several_variables_of_different_shapes_match_numpy(name):
    """Do scalar, vector and matrix variables updated together follow the float64 textbook rule?"""
    make_optimizer, rule = CASES[name]
    assert_matches_reference(make_optimizer, rule)


class SeedMomentum(tf.Module):
    """The original guide's momentum: one velocity shared by every variable (wrong)."""

    def __init__(self, learning_rate=1e-3, momentum=0.7):
        self.learning_rate, self.momentum, self.change = learning_rate, momentum, 0.0

    def apply_gradients(self, grads, vars):
        for grad_, var in zip(grads, vars):
            self.change = self.learning_rate * grad_ + self.momentum * self.change
            var.assign_sub(self.change)


def test_the_shared_state_bug_is_caught():
    """Does the multi-variable comparison fail the guide's shared-velocity Momentum?

    With variables of different shapes the shared velocity cannot even be added; with equal
    shapes it runs and drifts from the per-variable rule.
    """
    rule = reference_numpy.momentum(0.03, 0.85)
    with pytest.raises(tf.errors.InvalidArgumentError):
        assert_matches_reference(lambda: SeedMomentum(0.03, 0.85), rule)
    with pytest.raises(AssertionError):
        assert_matches_reference(lambda: SeedMomentum(0.03, 0.85), rule, shapes=[(3,), (3,)])


def test_the_guides_two_variable_example():
    """From (2.0, -0.5), does Momentum reach (-1.125, -1.125), and the shared state not?"""

    def run(optimizer):
        a, b = tf.Variable(2.0), tf.Variable(-0.5)
        for _ in range(200):
            with tf.GradientTape() as tape:
                total = loss(a) + loss(b)
            optimizer.apply_gradients(tape.gradient(total, [a, b]), [a, b])
        return [a.numpy(), b.numpy()]

    np.testing.assert_allclose(run(Momentum(1e-2)), [-1.125, -1.125], atol=1e-5)
    np.testing.assert_allclose(run(SeedMomentum(1e-2)), [0.0492, -1.1266], atol=1e-4)


@pytest.mark.parametrize("name", ["momentum", "adam"])
def test_instances_do_not_share_state(name):
    """Do two optimizers of one class, interleaved, behave as if each ran alone?"""
    make_optimizer, _ = CASES[name]
    grads = gradient_sequence(steps=20, shapes=[(3,)])
    alone = run_tf(make_optimizer(), [np.ones(3, np.float32)], grads)
    first, second = make_optimizer(), make_optimizer()
    a, b = tf.Variable(np.ones(3, np.float32)), tf.Variable(np.ones(3, np.float32))
    for (g,) in grads:
        first.apply_gradients([tf.constant(g)], [a])
        second.apply_gradients([tf.constant(g)], [b])
    np.testing.assert_array_equal(a.numpy(), alone[0])
    np.testing.assert_array_equal(b.numpy(), alone[0])


def keras_path(keras_optimizer, learning_rate, steps):
    x = tf.Variable(2.0)
    path = []
    for _ in range(steps):
        keras_optimizer.apply_gradients([(grad(loss, x), x)])
        path.append(x.numpy())
    return np.array(path)


def our_path(optimizer, steps):
    x = tf.Variable(2.0)
    path = []
    for _ in range(steps):
        optimizer.apply_gradients([grad(loss, x)], [x])
        path.append(x.numpy())
    return np.array(path)


@pytest.mark.slow
@pytest.mark.parametrize(
    "make_ours, momentum",
    [(lambda lr: GradientDescent(lr), 0.0), (lambda lr: Momentum(lr), 0.7)],
    ids=["gradient_descent", "momentum"],
)
def test_paths_equal_keras_sgd_bit_for_bit(make_ours, momentum):
    """Over 2000 steps from x = 2, is the path of each step equal to Keras SGD's, bit for bit?"""
    learning_rate = 1e-2
    keras = keras_path(
        tf.keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum),
        learning_rate,
        2000,
    )
    ours = our_path(make_ours(learning_rate), 2000)
    np.testing.assert_array_equal(ours.view(np.int32), keras.view(np.int32))


def test_adam_on_the_course_loss_tracks_float64_numpy():
    """On the course's loss from x = 2, lr 0.1, does Adam stay within float32 noise of float64?

    Here the gradient is fed back, so rounding errors can grow; over the first 50 steps (before
    the path reaches the flat spot) the gap stays below 1e-5, about 100 float32 spacings at |x|~2.
    """
    init, step = reference_numpy.adam(0.1)
    x64, state = np.float64(2.0), init(())
    expected = []
    for t in range(1, 51):
        x64, state = step(x64, 8 * x64**3 + 9 * x64**2, state, t)
        expected.append(x64)
    np.testing.assert_allclose(our_path(Adam(0.1), 50), expected, rtol=0, atol=1e-5)
