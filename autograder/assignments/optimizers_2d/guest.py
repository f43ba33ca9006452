"""Lesson 2's problems and drivers: they run the student's classes inside the sandbox.

- `surface`: the lesson's own loop, `course_utils.surfaces.run_on_surface`, on one of its four
  surfaces from a given start; the path is one row [x, y] per step, the start apart;
- `variables`: several variables of different shapes (two of one shape) at once, on
  `himmelblau_line`: Himmelblau's function along the line y = 1 - x, element-wise, weighted
  differently per variable, so every element follows its own path and state must be per variable;
- `instances`: two instances with different settings, each on its own point, updated in turn.

The same functions run the solutions and the oracles when the references are built.
"""

import numpy as np
import tensorflow as tf

from autograder.guest import drivers
from course_utils.surfaces import SURFACES, run_on_surface

BY_NAME = {surface.name: surface for surface in SURFACES}
HIMMELBLAU = BY_NAME["Himmelblau"]
WEIGHTS = (1.0, 0.5, 0.25, 0.125)


def himmelblau_line(variables):
    """sum_i WEIGHTS[i] * sum(f(x_i, 1 - x_i)), f Himmelblau's function, over `variables`."""
    return tf.add_n(
        [
            WEIGHTS[i % len(WEIGHTS)] * tf.reduce_sum(HIMMELBLAU.function(v, 1.0 - v))
            for i, v in enumerate(variables)
        ]
    )


def _rows(points):
    return [[float(v) for v in row] for row in np.asarray(points, dtype=np.float32)]


def surface(cls, kwargs, surface, start, steps):
    """`steps` updates on the named surface from `start`: {"start": [x, y], "path": rows}."""
    run = run_on_surface(cls(**kwargs), BY_NAME[surface], start=tuple(start), steps=steps)
    rows = _rows(run.path)
    return {"start": rows[0], "path": rows[1:]}


def variables(cls, kwargs, shapes, seed, count):
    """`count` updates of several variables at once (shapes may repeat) on `himmelblau_line`."""
    starts = drivers.starting_values(shapes, seed)
    return drivers.several_variables(cls(**kwargs), starts, himmelblau_line, count)


def instances(cls, kwargs_a, kwargs_b, surface, start_a, start_b, count):
    """Two instances with different settings updated in turn, each on its own point."""
    where = BY_NAME[surface]
    runs = [
        (cls(**kwargs_a), tf.Variable(np.asarray(start_a, dtype=np.float32))),
        (cls(**kwargs_b), tf.Variable(np.asarray(start_b, dtype=np.float32))),
    ]

    def step(optimizer, point):
        _, gradient = where.value_and_gradient(point.numpy())
        optimizer.apply_gradients([tf.constant(gradient)], [point])
        return [float(v) for v in point.numpy()]

    return drivers.in_turn(runs, step, count)


DRIVERS = {"surface": surface, "variables": variables, "instances": instances}


def run_case(cls, driver, params):
    """Run one case: `params` are the keyword arguments of the named driver."""
    return DRIVERS[driver](cls, **params)
