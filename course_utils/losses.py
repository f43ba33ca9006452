"""The course's sample loss L(x) = 2x^4 + 3x^3 + 2 and a gradient helper.

L'(x) = 8x^3 + 9x^2 = x^2 (8x + 9) vanishes twice:
- at x = 0, a stationary inflection point (L' = L'' = 0, L''' = 18 != 0): no saddle, no extremum;
- at x = -9/8, the global minimum, L(-9/8) = 0.93 (approximately).
"""

import tensorflow as tf

INFLECTION_POINT = 0.0
GLOBAL_MINIMUM = -9 / 8


def loss(x):
    """L(x) = 2x^4 + 3x^3 + 2, element-wise."""
    return 2 * (x**4) + 3 * (x**3) + 2


def grad(f, x):
    """The gradient of f at x, recorded with a GradientTape.

    `x` is a `tf.Variable` (a tape watches variables by itself) or a tensor; a tensor is watched
    explicitly so that `grad(loss, x_vals)` works on a plain grid of points too.
    """
    with tf.GradientTape() as tape:
        tape.watch(x)
        result = f(x)
    return tape.gradient(result, x)


def loss_grid_x(low=-2.0, high=2.0, num=201):
    """Evenly spaced float32 points on [low, high], for plotting the loss."""
    return tf.cast(tf.linspace(low, high, num), tf.float32)
