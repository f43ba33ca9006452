"""Shared helpers for the "Optimizers with Core APIs" course.

Students import these from their notebooks. Nothing in this package is a solution to an exercise.
"""

from course_utils.convergence import convergence_test
from course_utils.losses import GLOBAL_MINIMUM, INFLECTION_POINT, grad, loss, loss_grid_x
from course_utils.plotting import plot_loss_and_gradient, viz_paths

__all__ = [
    "GLOBAL_MINIMUM",
    "INFLECTION_POINT",
    "convergence_test",
    "grad",
    "loss",
    "loss_grid_x",
    "plot_loss_and_gradient",
    "viz_paths",
]
