"""How each kind of grading case drives an optimizer class; returns plain, JSON-ready data.

The same functions run the student's classes in the sandbox and the solutions (or an oracle
with the same interface) when the reference data is built, so both sides follow one procedure.
Every path value is a Python float (a float32 value), possibly inf or nan.
"""

import numpy as np
import tensorflow as tf

from autograder.sandboxed import problems
from course_utils.convergence import (
    exact_graph_arithmetic,
    run_convergence,
    value_and_gradient_function,
)
from course_utils.losses import grad


def convergence(cls, kwargs, init, max_iters):
    """The lesson's convergence test on L(x) from `init`: outcome, iterations and path."""
    run = run_convergence(cls(**kwargs), problems.course, init_val=init, max_iters=max_iters)
    return {"outcome": run.outcome, "iterations": run.iterations, "path": run.path}


def steps(cls, kwargs, init, count):
    """`count` plain updates on L(x) from `init`, with no stopping rule: the path."""
    optimizer, x = cls(**kwargs), tf.Variable(init, dtype=tf.float32)
    path = []
    with exact_graph_arithmetic():
        value_and_gradient = value_and_gradient_function(grad, problems.course, x)
        _, gradient = value_and_gradient(x)
        for _ in range(count):
            optimizer.apply_gradients([gradient], [x])
            value, gradient = value_and_gradient(x)
            path.append(float(value))
    return {"path": path}


def variables(cls, kwargs, shapes, seed, count):
    """`count` updates of several variables at once (shapes may repeat) on weighted quartics.

    The path holds, for each step, every element of every variable, flattened in order; `start`
    the values before the first step, in the same order.
    """
    optimizer = cls(**kwargs)
    xs = [tf.Variable(v) for v in problems.starting_values(shapes, seed)]
    path = []
    with exact_graph_arithmetic():
        values_and_gradients = value_and_gradient_function(grad, problems.weighted_quartics, xs)
        values, gradients = values_and_gradients(xs)
        start = _flat(values)
        for _ in range(count):
            optimizer.apply_gradients(list(gradients), xs)
            values, gradients = values_and_gradients(xs)
            path.append(_flat(values))
    return {"start": start, "path": path}


def instances(cls, kwargs_a, kwargs_b, init_a, init_b, count):
    """Two instances with different settings updated in turn, each on its own variable."""
    runs = [
        (cls(**kwargs_a), tf.Variable(init_a, dtype=tf.float32)),
        (cls(**kwargs_b), tf.Variable(init_b, dtype=tf.float32)),
    ]
    paths = [[], []]
    with exact_graph_arithmetic():
        value_and_gradient = value_and_gradient_function(grad, problems.course, runs[0][1])
        gradients = [value_and_gradient(x)[1] for _, x in runs]
        for _ in range(count):
            for i, ((optimizer, x), path) in enumerate(zip(runs, paths)):
                optimizer.apply_gradients([gradients[i]], [x])
                value, gradients[i] = value_and_gradient(x)
                path.append(float(value))
    return {"paths": paths}


def _flat(values):
    return [float(v) for x in values for v in np.ravel(x.numpy())]


DRIVERS = {
    "convergence": convergence,
    "steps": steps,
    "variables": variables,
    "instances": instances,
}


def run_case(cls, driver, params):
    """Run one case: `params` are the keyword arguments of the named driver."""
    return DRIVERS[driver](cls, **params)
