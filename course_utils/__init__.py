"""Shared helpers for the "Optimizers with Core APIs" course.

Students import these from their notebooks. Nothing in this package is a solution to an exercise.

The names below are loaded on first use (PEP 562), so `import course_utils.tolerance` or
`course_utils.hints`, which the grader needs, does not import TensorFlow or Matplotlib.
"""

import importlib

_EXPORTS = {
    "ConvergenceRun": "convergence",
    "convergence_test": "convergence",
    "run_convergence": "convergence",
    "GLOBAL_MINIMUM": "losses",
    "INFLECTION_POINT": "losses",
    "grad": "losses",
    "loss": "losses",
    "loss_grid_x": "losses",
    "plot_loss_and_gradient": "plotting",
    "viz_paths": "plotting",
    "compare_on_surfaces": "plotting",
    "effective_learning_rates": "plotting",
    "contour_paths": "plotting",
    "loss_curves": "plotting",
    "training_curves": "plotting",
    "loss_slices": "plotting",
    "learning_rate_curves": "plotting",
    "digit_grid": "plotting",
    "HIMMELBLAU": "surfaces",
    "ROSENBROCK": "surfaces",
    "SADDLE": "surfaces",
    "SURFACES": "surfaces",
    "VALLEY": "surfaces",
    "Surface": "surfaces",
    "SurfaceRun": "surfaces",
    "run_on_surface": "surfaces",
    "check": "selfcheck",
    "MLP": "digits",
    "load_split": "digits",
    "flip_labels": "digits",
    "loss_slice": "digits",
    "filter_normalized_direction": "digits",
    "train": "digits",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"course_utils.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
