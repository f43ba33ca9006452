"""The lesson's four surfaces in NumPy alone, for the grader (hints and feedback plots).

`course_utils.surfaces` defines them for the students and the sandbox, but importing it imports
TensorFlow: seconds per grading worker for a hint or a plot. These are the same formulas, bounds
and minima (a test checks them against `course_utils.surfaces`), evaluated on NumPy arrays.
"""

import dataclasses
from collections.abc import Callable

import numpy as np


@dataclasses.dataclass(frozen=True)
class Formula:
    name: str  # course_utils.surfaces' Surface.name
    function: Callable  # f(x, y)
    gradient: Callable  # (df/dx, df/dy)
    minima: tuple
    x_range: tuple
    y_range: tuple
    saddle: tuple | None = None

    def gradient_at(self, point):
        """The gradient at one point (x, y), as an array of the point's dtype."""
        point = np.asarray(point)
        return np.array(self.gradient(point[0], point[1]), dtype=point.dtype)


def _himmelblau_parts(x, y):
    return x * x + y - 11.0, x + y * y - 7.0


FORMULAS = {
    f.name: f
    for f in (
        Formula(
            "Narrow valley",
            lambda x, y: 0.05 * x * x + 2.5 * y * y,
            lambda x, y: (0.1 * x, 5.0 * y),
            ((0.0, 0.0),),
            (-10.0, 10.0),
            (-2.5, 2.5),
        ),
        Formula(
            "Rosenbrock",
            lambda x, y: (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2,
            lambda x, y: (-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)),
            ((1.0, 1.0),),
            (-2.0, 2.0),
            (-1.0, 3.0),
        ),
        Formula(
            "Saddle",
            lambda x, y: x * x + (y * y - 1.0) ** 2,
            lambda x, y: (2.0 * x, 4.0 * y * (y * y - 1.0)),
            ((0.0, -1.0), (0.0, 1.0)),
            (-2.0, 2.0),
            (-2.0, 2.0),
            saddle=(0.0, 0.0),
        ),
        Formula(
            "Himmelblau",
            lambda x, y: sum(part * part for part in _himmelblau_parts(x, y)),
            lambda x, y: (
                4.0 * x * _himmelblau_parts(x, y)[0] + 2.0 * _himmelblau_parts(x, y)[1],
                2.0 * _himmelblau_parts(x, y)[0] + 4.0 * y * _himmelblau_parts(x, y)[1],
            ),
            (
                (3.0, 2.0),
                (-2.805118086952745, 3.131312518250573),
                (-3.779310253377747, -3.283185991286170),
                (3.584428340330492, -1.848126526964404),
            ),
            (-5.0, 5.0),
            (-5.0, 5.0),
        ),
    )
}


def draw(ax, formula, levels=12, grid_size=60):
    """Filled contours of loss - minimum (log-spaced levels; every minimum is 0), the minima as
    white stars and the saddle as a white cross, the view fixed to the surface's bounds."""
    import matplotlib.colors

    x = np.linspace(*formula.x_range, grid_size)
    y = np.linspace(*formula.y_range, grid_size)
    grid_x, grid_y = np.meshgrid(x, y)
    values = formula.function(grid_x, grid_y)
    high = float(values.max())
    positive = values[values > 0]
    low = max(float(positive.min()) if positive.size else high * 1e-6, high * 1e-6)
    bounds = np.geomspace(low, high, levels)
    ax.contourf(
        grid_x,
        grid_y,
        np.clip(values, low, high),
        levels=bounds,
        norm=matplotlib.colors.LogNorm(),
        cmap="viridis",
    )
    minima = np.array(formula.minima)
    ax.plot(minima[:, 0], minima[:, 1], "*", c="w", mec="k", ms=10, ls="none")
    if formula.saddle is not None:
        ax.plot(*formula.saddle, "X", c="w", mec="k", ms=8, ls="none")
    ax.set_xlim(formula.x_range)
    ax.set_ylim(formula.y_range)
