"""How each kind of grading case drives an optimizer class; returns plain, JSON-ready data.

The same functions run the student's classes in the sandbox and the solutions (or an oracle
with the same interface) when the reference data is built, so both sides follow one procedure.
Every path value is a Python float (a float32 value), possibly inf or nan.
"""

import numpy as np
import tensorflow as tf

from autograder.sandboxed import problems
from course_utils.convergence import compiled_gradient, exact_graph_arithmetic, run_convergence
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
        gradient_at = compiled_gradient(grad, problems.course, x)
        for _ in range(count):
            optimizer.apply_gradients([gradient_at(x)], [x])
            path.append(float(x.numpy()))
    return {"path": path}


def variables(cls, kwargs, shapes, seed, count):
    """`count` updates of several variables of different shapes at once on weighted quartics.

    The path holds, for each step, every element of every variable, flattened in order; `start`
    the values before the first step, in the same order.
    """
    optimizer = cls(**kwargs)
    xs = [tf.Variable(v) for v in problems.starting_values(shapes, seed)]
    start = _flat(xs)
    path = []
    with exact_graph_arithmetic():
        gradients_at = compiled_gradient(grad, problems.weighted_quartics, xs)
        for _ in range(count):
            optimizer.apply_gradients(list(gradients_at(xs)), xs)
            path.append(_flat(xs))
    return {"start": start, "path": path}


def instances(cls, kwargs_a, kwargs_b, init_a, init_b, count):
    """Two instances with different settings updated in turn, each on its own variable."""
    runs = [
        (cls(**kwargs_a), tf.Variable(init_a, dtype=tf.float32)),
        (cls(**kwargs_b), tf.Variable(init_b, dtype=tf.float32)),
    ]
    paths = [[], []]
    with exact_graph_arithmetic():
        gradient_at = compiled_gradient(grad, problems.course, runs[0][1])
        for _ in range(count):
            for (optimizer, x), path in zip(runs, paths):
                optimizer.apply_gradients([gradient_at(x)], [x])
                path.append(float(x.numpy()))
    return {"paths": paths}


def _flat(variables):
    return [float(v) for x in variables for v in np.ravel(x.numpy())]


DRIVERS = {
    "convergence": convergence,
    "steps": steps,
    "variables": variables,
    "instances": instances,
}


def run_case(cls, driver, params):
    """Run one case: `params` are the keyword arguments of the named driver."""
    return DRIVERS[driver](cls, **params)
