"""Figures of the course: the loss with its gradient, and optimizer paths over the log-loss.

Each function draws on a new figure and returns it (a `matplotlib.figure.Figure`), so a notebook
shows it and a test can inspect its artists. They work under any backend, Agg included.
"""

import itertools

import matplotlib.pyplot as plt
import numpy as np

from course_utils.losses import GLOBAL_MINIMUM, INFLECTION_POINT, grad, loss, loss_grid_x

PATH_COLORS = ("r", "w", "c", "m", "y", "b")


def plot_loss_and_gradient(loss_fn=loss, grad_fn=grad, x_vals=None):
    """Plot L(x) and L'(x) on [-2, 2], marking the inflection point (0) and the minimum (-9/8)."""
    x_vals = loss_grid_x() if x_vals is None else x_vals
    fig, ax = plt.subplots(figsize=(9, 6))
    ax.plot(x_vals, loss_fn(x_vals), c="k", label="Loss function")
    ax.plot(x_vals, grad_fn(loss_fn, x_vals), c="tab:blue", label="Gradient function")
    for x, color, label in (
        (INFLECTION_POINT, "g", "Inflection point"),
        (GLOBAL_MINIMUM, "r", "Global minimum"),
    ):
        ax.plot(x, float(loss_fn(x)), marker="o", c=color, linestyle="none", label=label)
    ax.axhline(0, c="grey", lw=0.5)
    ax.set_ylim(-5, 5)
    ax.set_xlabel("x")
    ax.set_ylabel("L(x), L'(x)")
    ax.set_title("Sample loss function and its gradient")
    ax.legend()
    return fig


def viz_paths(param_map, x_vals, loss_fn, title, max_iters=2000):
    """Draw each path of `param_map` ({learning rate: [x_1, x_2, ...]}) over log L(t, x).

    The background colours log L(x) for every iteration t (it does not depend on t); each path is
    a line of x_t against t ending in a marker at its last finite value. A path that ran away
    (non-finite or off the plotted range) is labelled "diverged".
    """
    x_vals = np.asarray(x_vals, dtype=np.float32)
    t_range = np.array([1, max_iters + 99], dtype=np.float32)
    log_loss = np.log(np.asarray(loss_fn(x_vals), dtype=np.float64))
    fig, ax = plt.subplots(figsize=(9, 6))
    # log L(x) is the same at every t: two columns of cells, one per end of the range, paint it
    # (one cell per iteration looks the same and takes a thousand times longer to draw).
    mesh = ax.pcolormesh(
        t_range, x_vals, np.repeat(log_loss[:, None], 2, axis=1), vmin=0, shading="nearest"
    )
    fig.colorbar(mesh, ax=ax, label="log L(x)")
    low, high = float(x_vals.min()), float(x_vals.max())
    for color, (learning_rate, path) in zip(itertools.cycle(PATH_COLORS), param_map.items()):
        path = np.asarray(path, dtype=np.float64)
        if path.size == 0:
            continue
        iterations = np.arange(1, path.size + 1)
        ax.plot(iterations, path, c=color)
        finite = np.isfinite(path)
        last = int(np.flatnonzero(finite)[-1]) if finite.any() else None
        diverged = not finite.all() or not (low <= path[-1] <= high)
        label = f"x*: learning rate={learning_rate}" + (" (diverged)" if diverged else "")
        if last is not None:
            x_end = min(max(path[last], low), high)
            ax.plot(last + 1, x_end, marker="o", c=color, linestyle="none", label=label)
    ax.set_xlim(t_range[0], t_range[1])
    ax.set_ylim(low, high)
    ax.set_xlabel("Iteration")
    ax.set_ylabel("Parameter value")
    ax.set_title(f"{title} parameter paths")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right")
    return fig
