"""The tiny assignment's problem and drivers (run inside the sandbox, loaded by file path)."""

import tensorflow as tf

from autograder.guest import drivers


def parabola(x):
    """(x - 1)^2, summed over the elements of x."""
    return tf.reduce_sum((x - 1.0) ** 2)


def steps(cls, kwargs, init, count):
    """`count` updates of one variable from `init` on the parabola: the path of x."""
    optimizer, x = cls(**kwargs), tf.Variable(float(init))
    path = []
    for _ in range(count):
        with tf.GradientTape() as tape:
            value = parabola(x)
        optimizer.apply_gradients([tape.gradient(value, x)], [x])
        path.append(float(x.numpy()))
    return {"path": path}


def variables(cls, kwargs, shapes, seed, count):
    """Several variables of the given shapes at once."""
    starts = drivers.starting_values(shapes, seed)
    return drivers.several_variables(
        cls(**kwargs), starts, lambda xs: tf.add_n([parabola(x) for x in xs]), count
    )


DRIVERS = {"steps": steps, "variables": variables}


def run_case(cls, driver, params):
    return DRIVERS[driver](cls, **params)
