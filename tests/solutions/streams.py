"""What the solution tests of several lessons share: the exercises exec'd from a solution
notebook, and seeded gradient streams and variables (four shapes, two of them alike)."""

import numpy as np
import tensorflow as tf

from autograder import generate

SHAPES = [(), (3,), (2, 4), (2, 4)]  # two variables of the same shape


def notebook_exercises(path):
    """{name: object} of everything the notebook's exercise cells define (markers removed)."""
    namespace = {}
    source = generate.solutions_module_source(generate.read_notebook(path), path.name)
    exec(source, namespace)  # noqa: S102 - the course's own solution notebook
    return namespace


def gradient_steps(seed, steps, shapes=SHAPES):
    """Fixed pseudo-random gradients for `shapes`, of scales from 1e-3 to 1e2, one list per step."""
    rng = np.random.default_rng(seed)
    return [
        [
            (rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3)).astype(np.float32)
            for shape in shapes
        ]
        for _ in range(steps)
    ]


def new_variables(seed, shapes=SHAPES):
    """Variables of `shapes` with seeded values in [-2, 2]."""
    rng = np.random.default_rng(seed)
    return [tf.Variable(rng.uniform(-2, 2, shape).astype(np.float32)) for shape in shapes]
