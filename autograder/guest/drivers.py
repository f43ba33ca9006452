"""Driver pieces every assignment's guest file shares: they run inside the sandbox.

A guest driver runs the student's class (or, when references are built, the solution's or an
oracle's, through the very same function) and returns plain, JSON-ready data: every value a
Python float (a float32 value), possibly inf or nan.
"""

import numpy as np
import tensorflow as tf

from course_utils.convergence import exact_graph_arithmetic, value_and_gradient_function
from course_utils.losses import grad


def starting_values(shapes, seed, low=-1.5, high=2.0):
    """Deterministic float32 starting values in [low, high] for variables of the given shapes."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=tuple(shape)).astype(np.float32) for shape in shapes]


def flat(values):
    """Every element of every tensor of `values`, in order, as floats."""
    return [float(v) for x in values for v in np.ravel(np.asarray(x))]


def several_variables(optimizer, starts, loss, count):
    """`count` updates of variables started at `starts` (shapes may repeat) on `loss(variables)`.

    Returns {"start": the values before the first step, "path": one row per step}, each row every
    element of every variable, flattened in order.
    """
    xs = [tf.Variable(v) for v in starts]
    path = []
    with exact_graph_arithmetic():
        values_and_gradients = value_and_gradient_function(grad, loss, xs)
        values, gradients = values_and_gradients(xs)
        start = flat(v.numpy() for v in values)
        for _ in range(count):
            optimizer.apply_gradients(list(gradients), xs)
            values, gradients = values_and_gradients(xs)
            path.append(flat(v.numpy() for v in values))
    return {"start": start, "path": path}


def in_turn(runs, step, count):
    """Optimizers updated in turn, each on its own state: `runs` is [(optimizer, state)];
    `step(optimizer, state) -> the value to record` does one update. {"paths": [...]}"""
    paths = [[] for _ in runs]
    for _ in range(count):
        for (optimizer, state), path in zip(runs, paths):
            path.append(step(optimizer, state))
    return {"paths": paths}
