"""Lesson 1's problems and drivers: they run the student's classes inside the sandbox.

- `course`: the lesson's L(x) = 2x^4 + 3x^3 + 2 of one variable;
- `weighted_quartics(variables)`: sum over several variables of c_i * L(x_i), element-wise, with a
  different weight per variable, so that every variable (scalar, vector, matrix) follows its own
  path and per-variable state is required.

The same functions run the solutions and the oracles when the references are built.
"""

import tensorflow as tf

from autograder.guest import drivers
from course_utils.convergence import (
    exact_graph_arithmetic,
    run_convergence,
    value_and_gradient_function,
)
from course_utils.losses import grad
from course_utils.losses import loss as course

WEIGHTS = (1.0, 0.5, 0.25, 0.125)


def weighted_quartics(variables):
    """sum_i WEIGHTS[i] * sum(L(x_i)) over the list `variables`."""
    return tf.add_n(
        [WEIGHTS[i % len(WEIGHTS)] * tf.reduce_sum(course(v)) for i, v in enumerate(variables)]
    )


def convergence(cls, kwargs, init, max_iters):
    """The lesson's convergence test on L(x) from `init`: outcome, iterations and path."""
    run = run_convergence(cls(**kwargs), course, init_val=init, max_iters=max_iters)
    return {"outcome": run.outcome, "iterations": run.iterations, "path": run.path}


def steps(cls, kwargs, init, count):
    """`count` plain updates on L(x) from `init`, with no stopping rule: the path."""
    optimizer, x = cls(**kwargs), tf.Variable(init, dtype=tf.float32)
    path = []
    with exact_graph_arithmetic():
        value_and_gradient = value_and_gradient_function(grad, course, x)
        _, gradient = value_and_gradient(x)
        for _ in range(count):
            optimizer.apply_gradients([gradient], [x])
            value, gradient = value_and_gradient(x)
            path.append(float(value))
    return {"path": path}


def variables(cls, kwargs, shapes, seed, count):
    """`count` updates of several variables at once (shapes may repeat) on weighted quartics."""
    starts = drivers.starting_values(shapes, seed)
    return drivers.several_variables(cls(**kwargs), starts, weighted_quartics, count)


def instances(cls, kwargs_a, kwargs_b, init_a, init_b, count):
    """Two instances with different settings updated in turn, each on its own variable."""
    runs = [
        (cls(**kwargs_a), tf.Variable(init_a, dtype=tf.float32)),
        (cls(**kwargs_b), tf.Variable(init_b, dtype=tf.float32)),
    ]
    with exact_graph_arithmetic():
        value_and_gradient = value_and_gradient_function(grad, course, runs[0][1])
        gradients = {id(x): value_and_gradient(x)[1] for _, x in runs}

        def step(optimizer, x):
            optimizer.apply_gradients([gradients[id(x)]], [x])
            value, gradients[id(x)] = value_and_gradient(x)
            return float(value)

        return drivers.in_turn(runs, step, count)


DRIVERS = {
    "convergence": convergence,
    "steps": steps,
    "variables": variables,
    "instances": instances,
}


def run_case(cls, driver, params):
    """Run one case: `params` are the keyword arguments of the named driver."""
    return DRIVERS[driver](cls, **params)
