"""The course's convergence test: run an optimizer on a one-variable loss, record its path."""

import contextlib
import functools

import numpy as np
import tensorflow as tf

from course_utils.losses import grad


@contextlib.contextmanager
def _exact_graph_arithmetic():
    """Run graphs without Grappler's arithmetic rewrites, so they round exactly like eager code.

    Grappler folds `pow(x, 4 - 1)` into `pow(x, 3)` and then into multiplications, which changes
    the last bit of about a third of the gradients of the course's loss. The option is read when a
    graph runs, so it is switched off for the duration of a convergence test and then restored.
    """
    options = tf.config.optimizer.get_experimental_options()
    previous = options.get("arithmetic_optimization", True)
    tf.config.optimizer.set_experimental_options({"arithmetic_optimization": False})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({"arithmetic_optimization": previous})


@functools.cache
def _traced_gradient(grad_fn, loss_fn):
    """`grad_fn(loss_fn, x)` as a `tf.function` (one per pair of functions)."""
    return tf.function(lambda x: grad_fn(loss_fn, x), autograph=False)


def _gradient_function(grad_fn, loss_fn, x):
    """The fastest faithful way to evaluate `grad_fn(loss_fn, x)`: compiled, else eager.

    The compiled form is the concrete graph for variables like `x`, called directly. A `grad_fn`
    that cannot be traced (one that calls `.numpy()`, say) or functions that cannot be cached run
    eagerly, as in the original guide; an error raised eagerly too is the caller's to see.
    """
    try:
        compiled = _traced_gradient(grad_fn, loss_fn).get_concrete_function(x)
        compiled(x)
    except Exception:
        return lambda v: grad_fn(loss_fn, v)
    return compiled


def convergence_test(optimizer, loss_fn, grad_fn=grad, init_val=2.0, max_iters=2000):
    """Minimise `loss_fn` of one variable from `init_val` with `optimizer`; return the path.

    Each iteration computes the gradient g = L'(x) and stops with "Gradient exploded at iteration
    N" when g is NaN; otherwise it calls `optimizer.apply_gradients([g], [x])` and records the new
    x. It stops with "Converged in N iterations" when an update leaves x exactly unchanged (float
    equality, as in the original guide), or after `max_iters` iterations.

    Returns the list of iterates x_1, x_2, ... as Python floats (float32 values), including the
    ones that ran away before a gradient exploded. The gradient is evaluated as a compiled graph
    with Grappler's arithmetic rewrites off during the test, so every value is bit-identical to
    the guide's eager loop.
    """
    title = str(getattr(optimizer, "title", type(optimizer).__name__))
    print(title)
    print("-" * len(title))
    x_star = tf.Variable(init_val, dtype=tf.float32)
    param_path = []
    with _exact_graph_arithmetic():
        gradient_at = _gradient_function(grad_fn, loss_fn, x_star)
        x_old = x_star.numpy()
        for iteration in range(1, max_iters + 1):
            x_grad = gradient_at(x_star)
            if np.any(np.isnan(np.asarray(x_grad))):
                print(f"Gradient exploded at iteration {iteration}\n")
                return param_path
            optimizer.apply_gradients([x_grad], [x_star])
            x_new = x_star.numpy()
            param_path.append(float(x_new))
            if x_new == x_old:
                print(f"Converged in {iteration} iterations\n")
                return param_path
            x_old = x_new
    print(f"Exceeded maximum of {max_iters} iterations. Test terminated.\n")
    return param_path
