"""Figures of the course: the loss with its gradient, and optimizer paths over the log-loss
(lesson 1); optimizer paths over the contours of a surface, and loss curves (lesson 2); training
curves of several runs (lessons 3 and 4) and the loss along slices through minima (lesson 4).

Each function draws on a new figure and returns it (a `matplotlib.figure.Figure`), so a notebook
shows it and a test can inspect its artists. They work under any backend, Agg included.
"""

import itertools

import matplotlib.colors
import matplotlib.lines
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np

PATH_COLORS = ("r", "w", "c", "m", "y", "b")


def plot_loss_and_gradient(loss_fn=None, grad_fn=None, x_vals=None):
    """Plot L(x) and L'(x) on [-2, 2], marking the inflection point (0) and the minimum (-9/8).

    By default, the course's loss and `grad` (`course_utils.losses`, which imports TensorFlow:
    imported here on use, so that the surfaces' plots need no TensorFlow)."""
    from course_utils.losses import GLOBAL_MINIMUM, INFLECTION_POINT, grad, loss, loss_grid_x

    loss_fn = loss if loss_fn is None else loss_fn
    grad_fn = grad if grad_fn is None else grad_fn
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


# --- Lesson 2: optimizer paths on surfaces of two variables --------------------------------------

# Visible both on the viridis contours and on white (loss curves): one colour per label.
SURFACE_PATH_COLORS = ("tab:red", "tab:orange", "magenta", "deepskyblue", "lime", "k", "tab:brown")


def _path_colors(labels):
    return dict(zip(labels, itertools.cycle(SURFACE_PATH_COLORS)))


def _log_levels(gaps, num):
    """`num` log-spaced levels from the smallest positive gap (at most 1e-6 of the largest) up."""
    high = float(gaps.max())
    positive = gaps[gaps > 0]
    low = max(float(positive.min()) if positive.size else high * 1e-6, high * 1e-6)
    return np.geomspace(low, high, num)


def draw_surface(ax, surface, levels=20, grid_size=150):
    """Fill `ax` with the contours of `surface` (log-spaced levels of loss - minimum), mark its
    minima (white stars) and its saddle point (a white cross) and fix the view to its bounds.
    Returns the filled contour set."""
    grid_x, grid_y, values = surface.grid(grid_size)
    gaps = values - surface.minimum_value
    levels = _log_levels(gaps, levels)
    gaps = np.clip(gaps, levels[0], levels[-1])
    filled = ax.contourf(
        grid_x, grid_y, gaps, levels=levels, norm=matplotlib.colors.LogNorm(), cmap="viridis"
    )
    minima = np.array(surface.minima)
    ax.plot(minima[:, 0], minima[:, 1], "*", c="w", mec="k", ms=14, ls="none")
    if surface.saddle is not None:
        ax.plot(*surface.saddle, "X", c="w", mec="k", ms=10, ls="none")
    ax.set_xlim(surface.x_range)
    ax.set_ylim(surface.y_range)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    # Titles at y=1.0, where Matplotlib would place them anyway (no ticks or offset text on top):
    # placing them by hand skips a tick layout per title and draw (a third of a panel's cost).
    ax.set_title(f"{surface.name}: {surface.formula}", y=1.0)
    return filled


def _colorbar(fig, filled, ax):
    """A colour bar for `draw_surface`'s contours, with ticks at powers of ten (plain text:
    typesetting them as mathematics would double the time a figure takes to draw)."""
    bar = fig.colorbar(filled, ax=ax, label="loss - minimum")
    bar.locator = matplotlib.ticker.LogLocator()
    bar.formatter = matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}")
    bar.update_ticks()
    return bar


def _draw_path(ax, surface, path, color, label):
    """One path: a line through its finite points, a circle at the start, a square at the end.
    A path that left the view or stopped at a non-finite point is labelled "diverged"."""
    path = np.asarray(path, dtype=np.float64).reshape(-1, 2)
    finite = np.isfinite(path).all(axis=1)
    if not finite.any():
        return
    shown = path[: np.argmin(finite)] if not finite.all() else path
    (low_x, high_x), (low_y, high_y) = surface.x_range, surface.y_range
    end = shown[-1]
    inside = low_x <= end[0] <= high_x and low_y <= end[1] <= high_y
    if not (finite.all() and inside):
        label = f"{label} (diverged)"
    ax.plot(shown[:, 0], shown[:, 1], "-", c=color, lw=1.5, label=label)
    ax.plot(*shown[0], "o", c=color, mec="k", ms=8, ls="none")
    end = np.clip(end, [low_x, low_y], [high_x, high_y])
    ax.plot(*end, "s", c=color, mec="k", ms=8, ls="none")


def _marker_keys(saddle):
    """Legend entries saying what the start, end, minimum (and saddle) markers mean."""
    keys = [("o", "start"), ("s", "end"), ("*", "minimum")] + ([("X", "saddle point")] * saddle)
    handles = [
        matplotlib.lines.Line2D([], [], marker=marker, c="w", mec="k", ls="none", ms=8)
        for marker, _ in keys
    ]
    return handles, [label for _, label in keys]


def _legend_with_markers(ax, surface, loc="best"):
    """A legend of the paths, then what the start, end, minimum and saddle markers mean."""
    handles, labels = ax.get_legend_handles_labels()
    key_handles, key_labels = _marker_keys(surface.saddle is not None)
    ax.legend(handles + key_handles, labels + key_labels, loc=loc, framealpha=0.8, fontsize="small")


def contour_paths(surface, paths, ax=None, title=None, levels=20):
    """Draw `paths` ({label: array of (x, y) points}) over the filled contours of `surface`.

    Each path is a line from a circle (its start) to a square (its end), in its own colour, with
    a legend; the colour bar shows loss - minimum on a log scale. Draws on `ax` when given (of a
    figure made by the caller), else on a new figure. Returns the figure.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 6.5))
    fig = ax.figure
    filled = draw_surface(ax, surface, levels=levels)
    _colorbar(fig, filled, ax)
    for label, color in _path_colors(paths).items():
        _draw_path(ax, surface, paths[label], color, label)
    _legend_with_markers(ax, surface)
    if title is not None:
        ax.set_title(title, y=1.0)
    return fig


def compare_on_surfaces(paths_by_surface, ncols=2, levels=20):
    """One panel per surface ({surface: {label: path}}), side by side, each drawn as
    `contour_paths` draws it; a label keeps its colour in every panel, and one legend below the
    panels names them all. Returns the figure."""
    surfaces = list(paths_by_surface)
    ncols = min(ncols, len(surfaces))
    nrows = -(-len(surfaces) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.8 * ncols, 4.9 * nrows), squeeze=False)
    labels = list(dict.fromkeys(label for paths in paths_by_surface.values() for label in paths))
    colors = _path_colors(labels)
    for ax, surface in zip(axes.flat, surfaces):
        paths = paths_by_surface[surface]
        filled = draw_surface(ax, surface, levels=levels)
        _colorbar(fig, filled, ax)
        for label, path in paths.items():
            _draw_path(ax, surface, path, colors[label], label)
    for ax in axes.flat[len(surfaces) :]:
        ax.set_visible(False)
    entries = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    key_handles, key_labels = _marker_keys(any(s.saddle is not None for s in surfaces))
    labels = list(entries) + key_labels
    rows = -(-len(labels) // 6)
    # Fixed margins in inches, room for the legend's rows below: a tight layout would measure the
    # figure with one more draw (and leave a layout engine that asks for another at each save).
    width, height = fig.get_size_inches()
    bottom = (0.3 * (rows + 1) + 0.6) / height
    fig.subplots_adjust(
        left=0.8 / width,
        right=1 - 0.35 / width,
        bottom=bottom,
        top=1 - 0.4 / height,
        wspace=0.22,
        hspace=0.3,
    )
    fig.legend(list(entries.values()) + key_handles, labels, loc="lower center", ncol=6)
    return fig


def loss_curves(losses, minimum=0.0, title="Loss against iteration", ax=None, floor=1e-16):
    """Plot loss - `minimum` against the iteration for each run ({label: losses}), log y axis.

    The first value is the start (iteration 0). Values that reach the minimum exactly (a gap of
    0, which a log axis cannot show) and non-finite values are left out of the line; the axis
    stops at `floor` (gaps below it are off the plot). Returns the figure.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 5))
    fig = ax.figure
    for label, color in _path_colors(losses).items():
        gaps = np.asarray(losses[label], dtype=np.float64) - minimum
        shown = np.where(np.isfinite(gaps) & (gaps > 0), gaps, np.nan)
        ax.plot(np.arange(gaps.size), shown, c=color, label=label)
    ax.set_yscale("log")
    if ax.get_ylim()[0] < floor:
        ax.set_ylim(bottom=floor)
    ax.set_xlabel("Iteration")
    ax.set_ylabel("loss - minimum")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    if losses:
        ax.legend()
    return fig


def effective_learning_rates(runs, title="Effective learning rate per coordinate"):
    """Plot, for each run ({label: SurfaceRun}), the step each coordinate took divided by the
    gradient it was given, |v_t - v_(t-1)| / |g_(t-1)|, against t on a log y axis: x solid, y
    dashed. For gradient descent it is the learning rate; for the adaptive methods it is the
    learning rate they actually applied. Steps with a (nearly) zero gradient or step are left
    out. Returns the figure."""
    fig, ax = plt.subplots(figsize=(8, 5))
    for label, color in _path_colors(runs).items():
        path = np.asarray(runs[label].path, dtype=np.float64)
        gradients = np.abs(np.asarray(runs[label].gradients, dtype=np.float64)[:-1])
        steps = np.abs(np.diff(path, axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            rates = np.where((gradients > 1e-30) & (steps > 0), steps / gradients, np.nan)
        iterations = np.arange(1, len(rates) + 1)
        ax.plot(iterations, rates[:, 0], "-", c=color, label=f"{label}: x")
        ax.plot(iterations, rates[:, 1], "--", c=color, label=f"{label}: y")
    ax.set_yscale("log")
    ax.set_xlabel("Iteration")
    ax.set_ylabel("|step| / |gradient|")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    if runs:
        ax.legend(fontsize="small")
    return fig


def training_curves(histories, title=None, weight_norm=False, dashed=(), sharpness=False):
    """Plot training runs ({label: digits.History}) side by side: the training loss of each step
    (log y axis), the validation accuracy, then if `weight_norm` the norm of the weights and if
    `sharpness` the top Hessian eigenvalue, against the step. Labels in `dashed` are drawn dashed
    and on top (e.g. a run that should coincide with another). A run that stopped on a loss that
    is not finite ends with a cross. Returns the figure."""
    names = ["training loss (batch)", "validation accuracy"]
    names += ["norm of the weights"] * weight_norm + ["top Hessian eigenvalue"] * sharpness
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 4.2))
    for label, color in _path_colors(histories).items():
        history = histories[label]
        style = {"c": color, "label": label}
        style |= {"ls": "--", "lw": 2.2, "zorder": 3} if label in dashed else {"lw": 1.2}
        losses = np.asarray(history.losses, dtype=np.float64)
        steps = np.asarray(history.steps)
        finite = np.isfinite(losses) & (losses > 0)
        axes[0].plot(steps, np.where(finite, losses, np.nan), **style)
        if history.diverged:
            last = np.flatnonzero(finite)
            if last.size:
                axes[0].plot(steps[last[-1]], losses[last[-1]], "x", c=color, ms=10, mew=2)
        at, accuracy = zip(*history.val_accuracy)
        axes[1].plot(at, accuracy, marker=".", **style)
        if weight_norm:
            axes[2].plot(at, history.weight_norm, marker=".", **style)
        if sharpness and history.sharpness:
            axes[-1].plot(*zip(*history.sharpness), marker="o", **style)
    axes[0].set_yscale("log")
    for ax, name in zip(axes, names):
        ax.set_xlabel("Step")
        ax.set_ylabel(name)
        ax.grid(True, which="major", alpha=0.3)
    axes[1].set_ylim(top=1.0)
    if histories:
        axes[1].legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def loss_slices(slices, title=None, ylabel="loss"):
    """The loss along one-dimensional slices t -> L(w + t d) through minima: one panel per
    direction ({panel title: {run label: (offsets t, losses)}}), the runs overlaid, a run keeping
    its colour in every panel, and a dotted line at t = 0 (the minimum itself). Returns the
    figure."""
    fig, axes = plt.subplots(1, len(slices), figsize=(5.6 * len(slices), 4.2), squeeze=False)
    labels = list(dict.fromkeys(label for runs in slices.values() for label in runs))
    colors = _path_colors(labels)
    for ax, (panel, runs) in zip(axes.flat, slices.items()):
        for label, (offsets, losses) in runs.items():
            ax.plot(offsets, losses, c=colors[label], lw=1.5, label=label)
        ax.axvline(0.0, c="grey", ls=":", lw=1)
        ax.set_xlabel("t")
        ax.set_ylabel(ylabel)
        ax.set_title(panel)
        ax.grid(True, which="major", alpha=0.3)
        if runs:
            ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def learning_rate_curves(rates, title="Learning rate against step"):
    """Plot learning rates ({label: one value per step from 0}) against the step. Returns the
    figure."""
    fig, ax = plt.subplots(figsize=(8, 4))
    for label, color in _path_colors(rates).items():
        ax.plot(np.arange(len(rates[label])), rates[label], c=color, label=label)
    ax.set_xlabel("Step (updates done so far)")
    ax.set_ylabel("learning rate")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    if rates:
        ax.legend()
    return fig


def digit_grid(images, labels, columns=10, rows=2):
    """The first rows * columns 8x8 images (flattened, values in [0, 1]) with their labels.
    Returns the figure."""
    fig, axes = plt.subplots(rows, columns, figsize=(0.9 * columns, 1.1 * rows))
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.9, wspace=0.1, hspace=0.3)
    for ax, image, label in zip(axes.flat, images, labels):
        ax.imshow(np.reshape(image, (8, 8)), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(str(label), fontsize=9)
        ax.axis("off")
    return fig
