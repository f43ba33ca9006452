"""Shared helpers for the "Optimizers with Core APIs" course.

Students import these from their notebooks. Nothing in this package is a solution to an exercise.
"""

from course_utils.convergence import ConvergenceRun, convergence_test, run_convergence
from course_utils.losses import GLOBAL_MINIMUM, INFLECTION_POINT, grad, loss, loss_grid_x
from course_utils.plotting import plot_loss_and_gradient, viz_paths
from course_utils.selfcheck import check

__all__ = [
    "ConvergenceRun",
    "run_convergence",
    "GLOBAL_MINIMUM",
    "check",
    "INFLECTION_POINT",
    "convergence_test",
    "grad",
    "loss",
    "loss_grid_x",
    "plot_loss_and_gradient",
    "viz_paths",
]
