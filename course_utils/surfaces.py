"""Loss surfaces of two variables for lesson 2, and a loop that runs an optimizer on one.

Each surface is a `Surface`: its loss f(x, y) and its gradient, written with arithmetic operators
only, so that the same formula runs on TensorFlow tensors (in eager code or in a graph) and on
NumPy arrays; its known minima and minimum value, a saddle point where it has one, a default
start and the bounds of its plots.

Importing this module does not import TensorFlow (the grader reads the surfaces without it);
the functions that run optimizers import it on use.

`run_on_surface` minimises a surface from a start with any optimizer that has
`apply_gradients(grads, vars)` (the course's classes) or is a Keras optimizer. A course
optimizer's `apply_gradients` runs as written (eagerly), fed gradients computed in NumPy with
TensorFlow's CPU rounding (subnormal results flushed to zero): a few microseconds a step instead
of a graph call. A Keras optimizer's whole loop is compiled, since it is nobody's exercise (traced
once per class and configuration for the four surfaces, the learning rate and the optimizer's state
passed in), and computes the same formulas in the graph, with Grappler (TensorFlow's graph
optimizer) off so that nothing is rewritten. Both give the same bits, so a correct optimizer and
its Keras counterpart follow the same path exactly.
"""

import contextlib
import dataclasses
from collections.abc import Callable

import numpy as np

Point = tuple[float, float]
_TINY = np.finfo(np.float32).tiny  # the smallest normal float32


class FlushToZero:
    """A float32 NumPy value whose +, - and * round like TensorFlow's CPU kernels.

    TensorFlow runs its CPU kernels with subnormal numbers flushed to zero (inputs and results);
    NumPy keeps them. Each operation here rounds to float32 as NumPy does, then flushes a
    subnormal result to a zero of the same sign, so a formula evaluated on these values gives
    TensorFlow's bits (tested against eager TensorFlow on tiny, huge and ordinary values).
    """

    __slots__ = ("value",)

    def __init__(self, value):
        value = np.asarray(value, dtype=np.float32)
        self.value = np.where(np.abs(value) < _TINY, np.copysign(np.float32(0), value), value)

    @staticmethod
    def _raw(other):
        return other.value if isinstance(other, FlushToZero) else np.float32(other)

    def _apply(self, operation, left, right):
        with np.errstate(all="ignore"):
            return FlushToZero(operation(left, right))

    def __add__(self, other):
        return self._apply(np.add, self.value, self._raw(other))

    def __radd__(self, other):
        return self._apply(np.add, self._raw(other), self.value)

    def __sub__(self, other):
        return self._apply(np.subtract, self.value, self._raw(other))

    def __rsub__(self, other):
        return self._apply(np.subtract, self._raw(other), self.value)

    def __mul__(self, other):
        return self._apply(np.multiply, self.value, self._raw(other))

    def __rmul__(self, other):
        return self._apply(np.multiply, self._raw(other), self.value)

    def __neg__(self):
        return FlushToZero(-self.value)


@dataclasses.dataclass(frozen=True)
class Surface:
    """A loss of two variables with what is known about it.

    `function(x, y)` is the loss and `gradient(x, y)` the pair (df/dx, df/dy), both written with
    +, - and * only (TensorFlow tensors, NumPy arrays or `FlushToZero` values); `minimum_value` is
    the global minimum, reached at each point of `minima`.
    """

    name: str
    formula: str  # LaTeX, for titles and the notebook's prose
    function: Callable
    gradient: Callable
    minima: tuple[Point, ...]
    minimum_value: float
    start: Point
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    saddle: Point | None = None

    def __call__(self, v):
        """f at v, whose last axis holds (x, y): a tensor for a tensor, else a float32 array."""
        if isinstance(v, (list, tuple, int, float, np.ndarray, np.generic)):
            v = np.asarray(v, dtype=np.float32)
        return self.function(v[..., 0], v[..., 1])

    def value_and_gradient(self, point) -> tuple[np.float32, np.ndarray]:
        """f and its gradient at one point (x, y), in NumPy, bit for bit as TensorFlow's CPU
        kernels compute the same formulas."""
        x, y = FlushToZero(point[0]), FlushToZero(point[1])
        gradient_x, gradient_y = self.gradient(x, y)
        gradient = np.array([gradient_x.value, gradient_y.value], dtype=np.float32)
        return self.function(x, y).value[()], gradient

    def grid(self, num: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(X, Y, Z): a `num` x `num` grid over the plot bounds and the loss on it (float64)."""
        x = np.linspace(*self.x_range, num, dtype=np.float32)
        y = np.linspace(*self.y_range, num, dtype=np.float32)
        grid_x, grid_y = np.meshgrid(x, y)
        with np.errstate(all="ignore"):
            values = self.function(grid_x, grid_y)
        return grid_x.astype(np.float64), grid_y.astype(np.float64), values.astype(np.float64)

    def nearest_minimum(self, point) -> Point:
        """The known minimum closest to `point`."""
        distances = [np.hypot(point[0] - mx, point[1] - my) for mx, my in self.minima]
        return self.minima[int(np.argmin(distances))]


# Each loss with its gradient, by hand; tests compare them with TensorFlow's autodiff.


def _valley(x, y):
    return 0.05 * (x * x) + 2.5 * (y * y)


def _valley_gradient(x, y):
    return 0.1 * x, 5.0 * y


def _rosenbrock(x, y):
    across, along = 1.0 - x, y - x * x
    return across * across + 100.0 * (along * along)


def _rosenbrock_gradient(x, y):
    across, along = 1.0 - x, y - x * x
    return -2.0 * across - 400.0 * x * along, 200.0 * along


def _saddle(x, y):
    well = y * y - 1.0
    return x * x + well * well


def _saddle_gradient(x, y):
    return 2.0 * x, 4.0 * y * (y * y - 1.0)


def _himmelblau(x, y):
    first, second = x * x + y - 11.0, x + y * y - 7.0
    return first * first + second * second


def _himmelblau_gradient(x, y):
    first, second = x * x + y - 11.0, x + y * y - 7.0
    return 4.0 * x * first + 2.0 * second, 2.0 * first + 4.0 * y * second


VALLEY = Surface(
    name="Narrow valley",
    formula=r"$0.05\,x^2 + 2.5\,y^2$",
    function=_valley,
    gradient=_valley_gradient,
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
    gradient=_rosenbrock_gradient,
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
    gradient=_saddle_gradient,
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
    gradient=_himmelblau_gradient,
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
    import tensorflow as tf

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
    prepare (optimizing a graph that runs once costs more than it saves).
    """
    import tensorflow as tf

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
    import tensorflow as tf

    here = point.numpy()
    value, gradient = surface.value_and_gradient(here)
    points, losses, gradients = [here], [value], [gradient]
    for _ in range(steps):
        if not np.isfinite(value):
            break
        optimizer.apply_gradients([tf.constant(gradient)], [point])
        here = point.numpy()
        value, gradient = surface.value_and_gradient(here)
        points.append(here)
        losses.append(value)
        gradients.append(gradient)
    return np.array(points), np.array(losses), np.array(gradients)


def _run_keras(optimizer, surface, point, steps):
    """The same loop as `_run_eager`, compiled whole: one graph call for all the steps. The graph
    records only the points; their losses and gradients, the same bits, come from NumPy."""
    optimizer.build([point])
    points = _compiled_loop(optimizer, surface)(optimizer, point, surface, steps)
    x, y = FlushToZero(points[:, 0]), FlushToZero(points[:, 1])
    losses = surface.function(x, y).value
    gradient_x, gradient_y = surface.gradient(x, y)
    gradients = np.stack([gradient_x.value, gradient_y.value], axis=1)
    finite = np.isfinite(losses)
    if not finite.all():  # end where the eager loop would have stopped
        end = np.argmin(finite) + 1
        points, losses, gradients = points[:end], losses[:end], gradients[:end]
    return points, losses, gradients


_LOOPS = {}  # (optimizer class, configuration but the learning rate, surfaces) -> _CompiledLoop


def _compiled_loop(optimizer, surface):
    """The compiled loop shared by every Keras optimizer of `optimizer`'s class and configuration
    (its learning rate aside) on `surface`: one graph for the four surfaces of the course."""
    config = optimizer.get_config()
    config.pop("name")
    if isinstance(config["learning_rate"], float):  # a variable, set at each run
        config.pop("learning_rate")
    surfaces = SURFACES if surface in SURFACES else (surface,)
    key = (type(optimizer), repr(sorted(config.items())), surfaces)
    if key not in _LOOPS:
        _LOOPS[key] = _CompiledLoop(optimizer, surfaces)
    return _LOOPS[key]


class _CompiledLoop:
    """`steps` calls of a Keras optimizer on one of `surfaces`, traced once: the surface's index
    and the number of steps are arguments, and the state of the optimizer that runs (learning rate,
    iteration count, slots) is copied into this loop's own optimizer before the run and back after
    it, so each run computes what a graph of its own would, from the same state."""

    def __init__(self, optimizer, surfaces):
        import tensorflow as tf

        self.surfaces = surfaces
        self.point = tf.Variable(tf.zeros(2, tf.float32))
        self.optimizer = type(optimizer).from_config(optimizer.get_config())
        self.optimizer.build([self.point])

        def loop(index, steps):
            def body(t, points):
                v = self.point.read_value()
                gradients = [_gradient_on(surface, v) for surface in surfaces]
                gradient = tf.switch_case(index, gradients)
                self.optimizer.apply_gradients([(gradient, self.point)])
                return t + 1, points.write(t, self.point.read_value())

            points = tf.TensorArray(tf.float32, size=steps + 1).write(0, self.point.read_value())
            _, points = tf.while_loop(lambda t, _: t <= steps, body, (tf.constant(1), points))
            return points.stack()

        spec = tf.TensorSpec([], tf.int32)
        self.loop = tf.function(loop, autograph=False, input_signature=[spec, spec])

    def __call__(self, optimizer, point, surface, steps):
        """The points of the run (start included); `optimizer` and `point` end as after it."""
        import tensorflow as tf

        for mine, theirs in zip(self.optimizer.variables, optimizer.variables, strict=True):
            mine.assign(theirs)
        self.point.assign(point)
        # Each class and configuration needs a graph of its own: TensorFlow's warning about
        # retracing (it counts the traces of every loop together) says nothing here.
        logger = tf.get_logger()
        level = logger.level
        logger.setLevel("ERROR")
        try:
            points = self.loop(self.surfaces.index(surface), steps).numpy()
        finally:
            logger.setLevel(level)
        for mine, theirs in zip(self.optimizer.variables, optimizer.variables, strict=True):
            theirs.assign(mine)
        point.assign(self.point)
        return points


def _gradient_on(surface, v):
    """A branch of `tf.switch_case`: the gradient of `surface` at the point tensor `v`."""
    import tensorflow as tf

    return lambda: tf.stack(surface.gradient(v[0], v[1]))
