"""Loss surfaces of two variables for lesson 2, and a loop that runs an optimizer on one.

Each surface is a `Surface`: a TensorFlow function of a point v = (x, y) (any tensor whose last
axis has length 2, so the same function evaluates one point or a whole grid), its known minima
and minimum value, a saddle point where it has one, a default start and the bounds of its plots.

`run_on_surface` minimises a surface from a start with any optimizer that has
`apply_gradients(grads, vars)` (the course's classes) or is a Keras optimizer. The surface's
value and gradient are compiled with `tf.function`; a course optimizer's `apply_gradients` runs
as written (eagerly), while a Keras optimizer's whole loop is compiled, since it is nobody's
exercise. Both round exactly like eager code (Grappler, TensorFlow's graph optimizer, is off
while a run lasts), so a correct optimizer and its Keras counterpart follow the same path bit for
bit.
"""

import contextlib
import dataclasses
import functools
from collections.abc import Callable

import numpy as np
import tensorflow as tf

Point = tuple[float, float]


@dataclasses.dataclass(frozen=True)
class Surface:
    """A loss of two variables with what is known about it.

    `function(v)` takes a float32 tensor whose last axis holds (x, y) and returns the loss over
    the other axes; `minimum_value` is its global minimum, reached at each point of `minima`.
    """

    name: str
    formula: str  # LaTeX, for titles and the notebook's prose
    function: Callable[[tf.Tensor], tf.Tensor]
    minima: tuple[Point, ...]
    minimum_value: float
    start: Point
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    saddle: Point | None = None

    def __call__(self, v):
        return self.function(tf.convert_to_tensor(v, dtype=tf.float32))

    def grid(self, num: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(X, Y, Z): a `num` x `num` grid over the plot bounds and the loss on it (float64)."""
        x = np.linspace(*self.x_range, num, dtype=np.float32)
        y = np.linspace(*self.y_range, num, dtype=np.float32)
        grid_x, grid_y = np.meshgrid(x, y)
        values = self(np.stack([grid_x, grid_y], axis=-1)).numpy()
        return grid_x.astype(np.float64), grid_y.astype(np.float64), values.astype(np.float64)

    def nearest_minimum(self, point) -> Point:
        """The known minimum closest to `point`."""
        distances = [np.hypot(point[0] - mx, point[1] - my) for mx, my in self.minima]
        return self.minima[int(np.argmin(distances))]


def _xy(v):
    return v[..., 0], v[..., 1]


def _valley(v):
    x, y = _xy(v)
    return 0.05 * tf.square(x) + 2.5 * tf.square(y)


def _rosenbrock(v):
    x, y = _xy(v)
    return tf.square(1.0 - x) + 100.0 * tf.square(y - tf.square(x))


def _saddle(v):
    x, y = _xy(v)
    return tf.square(x) + tf.square(tf.square(y) - 1.0)


def _himmelblau(v):
    x, y = _xy(v)
    return tf.square(tf.square(x) + y - 11.0) + tf.square(x + tf.square(y) - 7.0)


VALLEY = Surface(
    name="Narrow valley",
    formula=r"$0.05\,x^2 + 2.5\,y^2$",
    function=_valley,
    minima=((0.0, 0.0),),
    minimum_value=0.0,
    start=(-9.0, 1.5),
    x_range=(-10.0, 10.0),
    y_range=(-2.5, 2.5),
)
"""An ill-conditioned quadratic: curvatures 0.1 along x and 5 along y, condition number 50."""

ROSENBROCK = Surface(
    name="Rosenbrock",
    formula=r"$(1 - x)^2 + 100\,(y - x^2)^2$",
    function=_rosenbrock,
    minima=((1.0, 1.0),),
    minimum_value=0.0,
    start=(-1.2, 1.0),
    x_range=(-2.0, 2.0),
    y_range=(-1.0, 3.0),
)
"""Rosenbrock's banana (H. H. Rosenbrock, The Computer Journal 3(3), 1960), from his start."""

SADDLE = Surface(
    name="Saddle",
    formula=r"$x^2 + (y^2 - 1)^2$",
    function=_saddle,
    minima=((0.0, -1.0), (0.0, 1.0)),
    minimum_value=0.0,
    start=(1.5, 1e-6),
    x_range=(-2.0, 2.0),
    y_range=(-2.0, 2.0),
    saddle=(0.0, 0.0),
)
"""A saddle at the origin (curvatures 2 and -4, loss 1) between two minima: bounded below."""

HIMMELBLAU = Surface(
    name="Himmelblau",
    formula=r"$(x^2 + y - 11)^2 + (x + y^2 - 7)^2$",
    function=_himmelblau,
    minima=(
        (3.0, 2.0),
        (-2.805118086952745, 3.131312518250573),
        (-3.779310253377747, -3.283185991286170),
        (3.584428340330492, -1.848126526964404),
    ),
    minimum_value=0.0,
    start=(-0.3, -0.9),
    x_range=(-5.0, 5.0),
    y_range=(-5.0, 5.0),
)
"""Himmelblau's function (D. M. Himmelblau, Applied Nonlinear Programming, 1972): four minima."""

SURFACES = (VALLEY, ROSENBROCK, SADDLE, HIMMELBLAU)


def _point_value_and_gradient(function, v):
    with tf.GradientTape() as tape:
        tape.watch(v)
        value = function(v)
    return tf.identity(v), value, tape.gradient(value, v)


@functools.cache
def value_and_gradient(surface: Surface):
    """The surface's compiled `v -> (v, f(v), df/dv)` for one float32 point of shape (2,).

    It returns the point too, so a loop reads its value, loss and gradient in one graph call
    (a concrete function: calling it skips `tf.function`'s dispatch, a third of the cost here).
    """
    compute = functools.partial(_point_value_and_gradient, surface.function)
    signature = [tf.TensorSpec([2], tf.float32)]
    return tf.function(compute, input_signature=signature, autograph=False).get_concrete_function()


@dataclasses.dataclass
class SurfaceRun:
    """One run on a surface: the points visited (start included), the loss and the gradient at
    each, and the iteration from which the loss stayed within the tolerance of the minimum (None
    if it did not end there)."""

    path: np.ndarray  # (iterations + 1, 2)
    losses: np.ndarray  # (iterations + 1,)
    gradients: np.ndarray  # (iterations + 1, 2)
    converged_at: int | None

    @property
    def end(self) -> np.ndarray:
        """The last point of the path."""
        return self.path[-1]


def run_on_surface(
    optimizer, surface: Surface, start: Point | None = None, steps: int = 500, tol: float = 1e-6
) -> SurfaceRun:
    """Minimise `surface` from `start` (default: its own) with `steps` calls of `optimizer`.

    The point is one `tf.Variable` of shape (2,); each step computes the gradient there and calls
    `optimizer.apply_gradients([gradient], [point])` (for a Keras optimizer, with (gradient,
    variable) pairs). All `steps` are taken; the run stops early only when the loss is no longer
    finite, and then its path ends at that point. `converged_at` is the first iteration t from
    which f(v) - minimum <= tol at every later point (0 if the whole path is within tol): a run
    that passes through the tolerance and leaves it again has not converged there.
    """
    start = surface.start if start is None else start
    point = tf.Variable(np.asarray(start, dtype=np.float32))
    with graphs_as_written():
        if isinstance(optimizer, tf.keras.optimizers.Optimizer):
            points, losses, gradients = _run_keras(optimizer, surface, point, steps)
        else:
            points, losses, gradients = _run_eager(optimizer, surface, point, steps)
    gaps = losses - np.float32(surface.minimum_value)
    return SurfaceRun(points, losses, gradients, settled_at(gaps, tol))


@contextlib.contextmanager
def graphs_as_written():
    """Run graphs without Grappler while the block lasts, then restore the previous setting.

    Grappler's arithmetic rewrites change the last bit of some results (see
    `course_utils.convergence.exact_graph_arithmetic`); without any rewrite a graph computes
    exactly what its eager operations would, and the compiled Keras loops are also quicker to
    prepare (a third of their cost here is optimizing a graph that runs once).
    """
    key = "disable_meta_optimizer"
    previous = tf.config.optimizer.get_experimental_options().get(key, False)
    tf.config.optimizer.set_experimental_options({key: True})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({key: previous})


def settled_at(gaps: np.ndarray, tol: float) -> int | None:
    """The first index from which every gap is at most `tol` (None if the last one is not)."""
    outside = np.flatnonzero(~(gaps <= tol))  # NaN counts as outside
    if outside.size == 0:
        return 0
    return None if outside[-1] == gaps.size - 1 else int(outside[-1] + 1)


def _run_eager(optimizer, surface, point, steps):
    compute = value_and_gradient(surface)
    here, value, gradient = compute(point)
    points, losses, gradients = [here.numpy()], [value.numpy()], [gradient.numpy()]
    for _ in range(steps):
        if not np.isfinite(losses[-1]):
            break
        optimizer.apply_gradients([gradient], [point])
        here, value, gradient = compute(point)
        points.append(here.numpy())
        losses.append(value.numpy())
        gradients.append(gradient.numpy())
    return np.array(points), np.array(losses), np.array(gradients)


def _run_keras(optimizer, surface, point, steps):
    """The same loop as `_run_eager`, compiled whole: one graph call for all the steps."""
    optimizer.build([point])
    compute = value_and_gradient(surface)

    def body(t, points, losses, gradients):
        _, value, gradient = compute(point.read_value())
        optimizer.apply_gradients([(gradient, point)])
        losses, gradients = losses.write(t - 1, value), gradients.write(t - 1, gradient)
        return t + 1, points.write(t, point.read_value()), losses, gradients

    def loop():
        arrays = [tf.TensorArray(tf.float32, size=steps + 1) for _ in range(3)]
        arrays[0] = arrays[0].write(0, point.read_value())
        _, *arrays = tf.while_loop(lambda t, *_: t <= steps, body, (tf.constant(1), *arrays))
        _, value, gradient = compute(point.read_value())
        arrays[1], arrays[2] = arrays[1].write(steps, value), arrays[2].write(steps, gradient)
        return [array.stack() for array in arrays]

    # Each optimizer needs its own graph: TensorFlow's warning about retracing says nothing here.
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        points, losses, gradients = (t.numpy() for t in tf.function(loop, autograph=False)())
    finally:
        logger.setLevel(level)
    finite = np.isfinite(losses)
    if not finite.all():  # end where the eager loop would have stopped
        end = np.argmin(finite) + 1
        points, losses, gradients = points[:end], losses[:end], gradients[:end]
    return points, losses, gradients
