"""The course's convergence test: run an optimizer on a one-variable loss, record its path."""

import contextlib
import dataclasses
import functools

import numpy as np
import tensorflow as tf

from course_utils.losses import grad, loss


@contextlib.contextmanager
def exact_graph_arithmetic():
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


def _value_and_gradient(grad_fn, loss_fn):
    def value_and_gradient(x):
        return tf.nest.map_structure(tf.convert_to_tensor, x), grad_fn(loss_fn, x)

    return value_and_gradient


@functools.cache
def _traced_value_and_gradient(grad_fn, loss_fn):
    """`_value_and_gradient` as a `tf.function` (one per pair of functions)."""
    return tf.function(_value_and_gradient(grad_fn, loss_fn), autograph=False)


def value_and_gradient_function(grad_fn, loss_fn, x):
    """The fastest faithful function of the variables `x` returning (their values, the gradient).

    The gradient is `grad_fn(loss_fn, x)`, bit for bit as the guide's eager code computes it:
    - for the course's own loss and `grad` on one float32 variable, `course_value_and_gradient`;
    - otherwise one call of the concrete graph for variables like `x`, values read there too;
    - eagerly when `grad_fn` cannot be traced (one that calls `.numpy()`, say) or the functions
      cannot be cached, as in the original guide; an error raised eagerly too is the caller's.
    """
    if grad_fn is grad and loss_fn is loss and _is_float32_scalar_variable(x):
        return course_value_and_gradient
    try:
        compiled = _traced_value_and_gradient(grad_fn, loss_fn).get_concrete_function(x)
        compiled(x)
    except Exception:
        return _value_and_gradient(grad_fn, loss_fn)
    return compiled


def _is_float32_scalar_variable(x):
    return isinstance(x, tf.Variable) and x.dtype == tf.float32 and x.shape.rank == 0


@functools.cache
def _exponents():
    return tf.constant(3.0), tf.constant(2.0)  # made on first use: importing runs no TF op


def course_value_and_gradient(x):
    """(x, L'(x)) for the course's loss at the float32 scalar variable `x`, in three eager ops.

    TensorFlow's autodiff of L(x) = 2x^4 + 3x^3 + 2 computes each power's gradient as
    (upstream * n) * pow(x, n - 1) and adds the two terms: L'(x) = 8 * pow(x, 3) + 9 * pow(x, 2),
    with float32 rounding after each operation. The same Pow kernel, then the same IEEE float32
    products and sum in NumPy, give every bit of it, inf and NaN included (tested on a dense set
    of values), at a third of the cost of calling the gradient's graph.
    """
    value = x.read_value()
    three, two = _exponents()
    with np.errstate(over="ignore", invalid="ignore"):
        gradient = (
            np.float32(8) * tf.pow(value, three).numpy()
            + np.float32(9) * tf.pow(value, two).numpy()
        )
    return value, tf.constant(gradient)


@dataclasses.dataclass
class ConvergenceRun:
    """How a convergence test ended: "converged", "exploded" or "exceeded", after `iterations`."""

    outcome: str
    iterations: int
    path: list


def run_convergence(optimizer, loss_fn, grad_fn=grad, init_val=2.0, max_iters=2000):
    """`convergence_test` without printing: returns a `ConvergenceRun`.

    Each iteration computes the gradient g = L'(x) and stops ("exploded") when g is NaN;
    otherwise it calls `optimizer.apply_gradients([g], [x])` and records the new x. It stops
    ("converged") when an update leaves x exactly unchanged (float equality, as in the original
    guide), or after `max_iters` iterations ("exceeded"). The gradient comes from
    `value_and_gradient_function` (graphs run with Grappler's arithmetic rewrites off), so every
    value is bit-identical to the guide's eager loop.
    """
    x_star = tf.Variable(init_val, dtype=tf.float32)
    path = []
    with exact_graph_arithmetic():
        value_and_gradient = value_and_gradient_function(grad_fn, loss_fn, x_star)
        x_old, x_grad = value_and_gradient(x_star)
        x_old = x_old.numpy()
        for iteration in range(1, max_iters + 1):
            if np.any(np.isnan(np.asarray(x_grad))):
                return ConvergenceRun("exploded", iteration, path)
            optimizer.apply_gradients([x_grad], [x_star])
            x_new, x_grad = value_and_gradient(x_star)  # x after this step, L'(x) for the next
            x_new = x_new.numpy()
            path.append(float(x_new))
            if x_new == x_old:
                return ConvergenceRun("converged", iteration, path)
            x_old = x_new
    return ConvergenceRun("exceeded", max_iters, path)


def convergence_test(optimizer, loss_fn, grad_fn=grad, init_val=2.0, max_iters=2000):
    """Minimise `loss_fn` of one variable from `init_val` with `optimizer`; return the path.

    Prints the optimizer's title and a rule, then how the run ended: "Gradient exploded at
    iteration N" (a NaN gradient), "Converged in N iterations" (an update left x exactly
    unchanged) or "Exceeded maximum of N iterations. Test terminated." (see `run_convergence`).

    Returns the list of iterates x_1, x_2, ... as Python floats (float32 values), including the
    ones that ran away before a gradient exploded.
    """
    title = str(getattr(optimizer, "title", type(optimizer).__name__))
    print(title)
    print("-" * len(title))
    run = run_convergence(optimizer, loss_fn, grad_fn, init_val, max_iters)
    print(MESSAGES[run.outcome].format(n=run.iterations) + "\n")
    return run.path


MESSAGES = {
    "exploded": "Gradient exploded at iteration {n}",
    "converged": "Converged in {n} iterations",
    "exceeded": "Exceeded maximum of {n} iterations. Test terminated.",
}
