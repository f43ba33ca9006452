"""Losses and starting points of the grading cases, shared by the sandbox and the reference builder.

- `course`: the lesson's L(x) = 2x^4 + 3x^3 + 2 of one variable;
- `weighted_quartics(shapes)`: sum over several variables of c_i * L(x_i), element-wise, with a
  different weight c_i per variable, so that every variable (scalar, vector, matrix) follows its
  own path and per-variable state is required.
"""

import numpy as np
import tensorflow as tf

from course_utils.losses import loss as course

WEIGHTS = (1.0, 0.5, 0.25, 0.125)


def weighted_quartics(variables):
    """sum_i WEIGHTS[i] * sum(L(x_i)) over the list `variables`."""
    return tf.add_n(
        [WEIGHTS[i % len(WEIGHTS)] * tf.reduce_sum(course(v)) for i, v in enumerate(variables)]
    )


def starting_values(shapes, seed):
    """Deterministic float32 starting values in [-1.5, 2] for variables of the given shapes."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.5, 2.0, size=tuple(shape)).astype(np.float32) for shape in shapes]
