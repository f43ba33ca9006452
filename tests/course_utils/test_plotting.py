import matplotlib.collections
import numpy as np
import pytest
from matplotlib.figure import Figure

from course_utils import (
    HIMMELBLAU,
    ROSENBROCK,
    SADDLE,
    SURFACES,
    VALLEY,
    compare_on_surfaces,
    contour_paths,
    effective_learning_rates,
    loss,
    loss_curves,
    loss_grid_x,
    plot_loss_and_gradient,
    run_on_surface,
    viz_paths,
)
from solutions.optimizers_core import GradientDescent


def legend_labels(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_loss_figure_has_curves_markers_and_legend():
    """Does the loss figure draw both curves and mark the inflection point and the minimum?"""
    fig = plot_loss_and_gradient()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    labels = legend_labels(ax)
    assert labels == ["Loss function", "Gradient function", "Inflection point", "Global minimum"]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert len(lines["Loss function"].get_xdata()) == 201
    assert lines["Inflection point"].get_marker() == "o"
    np.testing.assert_allclose(lines["Inflection point"].get_xydata(), [[0.0, 2.0]])
    minimum = lines["Global minimum"].get_xydata()[0]
    assert minimum[0] == -1.125 and minimum[1] == pytest.approx(0.9321, abs=1e-4)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_viz_paths_draws_a_line_and_an_end_marker_per_path():
    """Does each non-empty path get a line and a labelled end marker over a log-loss mesh?"""
    param_map = {1e-3: [1.9, 1.8, 1.7], 1e-2: [1.0, 0.5, -1.0, -1.125], 1e-1: []}
    fig = viz_paths(param_map, loss_grid_x(), loss, "Test")
    ax = fig.axes[0]
    meshes = [c for c in ax.collections if isinstance(c, matplotlib.collections.QuadMesh)]
    assert len(meshes) == 1
    assert meshes[0].get_array().shape == (201, 2)
    assert ax.get_xlim() == (1, 2099)
    lines = ax.get_lines()
    assert len(lines) == 4  # two paths, two markers; the empty path draws nothing
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(lines[1].get_xydata(), [[3, 1.7]])
    assert legend_labels(ax) == ["x*: learning rate=0.001", "x*: learning rate=0.01"]
    assert ax.get_title() == "Test parameter paths"
    assert ax.get_ylabel() == "Parameter value"


def test_viz_paths_labels_a_diverged_path_and_keeps_the_view():
    """Is a path that ran off to infinity labelled 'diverged' without stretching the axes?"""
    fig = viz_paths({0.1: [-8.0, 344.0, -3e7, 2.8e22, -np.inf]}, loss_grid_x(), loss, "GD")
    ax = fig.axes[0]
    assert legend_labels(ax) == ["x*: learning rate=0.1 (diverged)"]
    assert ax.get_ylim() == (-2.0, 2.0)
    marker = ax.get_lines()[-1].get_xydata()[0]
    assert marker[0] == 4 and marker[1] == 2.0  # the last finite value, clipped to the view


# --- Lesson 2: paths on surfaces -----------------------------------------------------------------


def marker_lines(ax, marker):
    return [line for line in ax.get_lines() if line.get_marker() == marker]


def test_contour_paths_draws_log_contours_paths_and_their_ends():
    """Are the surface's log-spaced filled contours drawn, and each path as a line from a circle at
    its start to a square at its end, with a legend of the paths and the markers?"""
    paths = {"first": [[-1.2, 1.0], [-1.0, 0.9], [0.5, 0.3]], "second": [[0.0, 0.0], [1.0, 1.0]]}
    fig = contour_paths(ROSENBROCK, paths)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    (filled,) = [c for c in ax.collections if hasattr(c, "levels")]
    assert filled.filled and isinstance(filled.norm, matplotlib.colors.LogNorm)
    ratios = filled.levels[1:] / filled.levels[:-1]
    np.testing.assert_allclose(ratios, ratios[0])  # log-spaced
    assert filled.levels[0] > 0
    assert legend_labels(ax) == ["first", "second", "start", "end", "minimum"]
    for label, path in paths.items():
        (line,) = [line for line in ax.get_lines() if line.get_label() == label]
        np.testing.assert_allclose(line.get_xydata(), path)
    starts = [tuple(line.get_xydata()[0]) for line in marker_lines(ax, "o")]
    ends = [tuple(line.get_xydata()[0]) for line in marker_lines(ax, "s")]
    assert starts == [(-1.2, 1.0), (0.0, 0.0)] and ends == [(0.5, 0.3), (1.0, 1.0)]
    (minimum,) = marker_lines(ax, "*")
    np.testing.assert_allclose(minimum.get_xydata(), ROSENBROCK.minima)
    assert ax.get_xlim() == ROSENBROCK.x_range and ax.get_ylim() == ROSENBROCK.y_range


def test_contour_paths_marks_the_saddle_and_labels_a_diverged_path():
    """Is the saddle point marked and listed, and a path that left the view labelled 'diverged'
    with its end marker clipped to the view?"""
    paths = {"ran off": [[1.5, 0.1], [5.0, 40.0], [np.inf, np.nan]], "stayed": [[1.0, 0.5]]}
    fig = contour_paths(SADDLE, paths)
    ax = fig.axes[0]
    assert legend_labels(ax) == ["ran off (diverged)", "stayed", "start", "end", "minimum"] + [
        "saddle point"
    ]
    assert len(marker_lines(ax, "X")) == 1
    end = marker_lines(ax, "s")[0].get_xydata()[0]
    assert tuple(end) == (2.0, 2.0)


def test_compare_on_surfaces_gives_each_label_one_colour_in_every_panel():
    """Is there one panel per surface, each with its paths, a label keeping its colour?"""
    runs = {
        surface: {
            label: run_on_surface(GradientDescent(rate), surface, steps=20).path
            for label, rate in (("slow", 1e-4), ("fast", 1e-3))
        }
        for surface in SURFACES
    }
    fig = compare_on_surfaces(runs)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    assert [ax.get_title().split(":")[0] for ax in panels] == [s.name for s in SURFACES]
    (legend,) = fig.legends
    labels = [text.get_text() for text in legend.get_texts()]
    assert labels == ["slow", "fast", "start", "end", "minimum", "saddle point"]
    colours = {}
    for ax in panels:
        assert ax.get_legend() is None
        for line in ax.get_lines():
            if line.get_label() in ("slow", "fast"):
                colours.setdefault(line.get_label(), set()).add(line.get_color())
    assert all(len(found) == 1 for found in colours.values()) and len(colours) == 2
    assert colours["slow"] != colours["fast"]


def test_compare_on_surfaces_hides_unused_panels():
    """With three surfaces on two columns, is the fourth cell of the grid hidden?"""
    fig = compare_on_surfaces({surface: {} for surface in (VALLEY, SADDLE, HIMMELBLAU)})
    grid = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(grid) == 4 and [ax.get_visible() for ax in grid] == [True, True, True, False]


def test_loss_curves_uses_a_log_axis_and_leaves_out_zero_gaps():
    """Is there one curve per run, on a log y axis, with exact zeros and non-finite values left
    out and the minimum subtracted?"""
    losses = {"a": [4.0, 1.0, 0.25, 0.0], "b": [3.0, 2.0, np.nan, np.inf]}
    fig = loss_curves(losses, minimum=-1.0)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert legend_labels(ax) == ["a", "b"]
    a, b = ax.get_lines()
    np.testing.assert_array_equal(a.get_ydata(), [5.0, 2.0, 1.25, 1.0])
    np.testing.assert_array_equal(b.get_xdata(), [0, 1, 2, 3])
    assert np.isnan(b.get_ydata()[2:]).all()
    zero = loss_curves({"zero": [1.0, 1e-30, 0.0]}).axes[0]
    assert np.isnan(zero.get_lines()[0].get_ydata()[2]) and zero.get_ylim()[0] == 1e-16


def test_effective_learning_rates_of_gradient_descent_is_its_learning_rate():
    """For gradient descent, is |step| / |gradient| the learning rate in both coordinates, drawn
    as two lines (x solid, y dashed) on a log axis?"""
    run = run_on_surface(GradientDescent(0.01), HIMMELBLAU, steps=10)
    fig = effective_learning_rates({"GD": run})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and legend_labels(ax) == ["GD: x", "GD: y"]
    x_line, y_line = ax.get_lines()
    assert x_line.get_linestyle() == "-" and y_line.get_linestyle() == "--"
    np.testing.assert_array_equal(x_line.get_xdata(), np.arange(1, 11))
    np.testing.assert_allclose(x_line.get_ydata(), 0.01, rtol=1e-3)
    np.testing.assert_allclose(y_line.get_ydata(), 0.01, rtol=1e-3)


def test_training_curves_adds_a_sharpness_panel_with_each_runs_eigenvalues():
    """Does `sharpness=True` add a last panel with one line per run through its (step,
    eigenvalue) pairs, the other panels unchanged?"""
    from course_utils import training_curves
    from course_utils.digits import History

    runs = {
        label: History(
            steps=[1, 2, 3],
            losses=[2.0, 1.0, 0.5],
            val_accuracy=[(0, 0.1), (3, 0.9)],
            weight_norm=[1.0, 2.0],
            sharpness=[(0, 4.0), (3, top)],
        )
        for label, top in (("plain", 9.0), ("SAM", 2.0))
    }
    axes = training_curves(runs, sharpness=True).axes
    assert [ax.get_ylabel() for ax in axes] == [
        "training loss (batch)",
        "validation accuracy",
        "top Hessian eigenvalue",
    ]
    lines = axes[-1].get_lines()
    assert [line.get_label() for line in lines] == ["plain", "SAM"]
    assert [list(line.get_ydata()) for line in lines] == [[4.0, 9.0], [4.0, 2.0]]
    assert len(training_curves(runs, weight_norm=True, sharpness=True).axes) == 4
    assert len(training_curves(runs).axes) == 2


def test_loss_slices_draws_one_panel_per_direction_runs_overlaid_in_fixed_colours():
    """Does each direction get a panel with every run's slice, a run keeping its colour?"""
    from course_utils import loss_slices

    t = np.linspace(-1, 1, 5)
    slices = {
        "top eigenvector": {"plain": (t, 3 * t**2), "SAM": (t, t**2)},
        "random direction": {"SAM": (t, 0.5 * t**2), "plain": (t, 2 * t**2)},
    }
    fig = loss_slices(slices, title="slices")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    colors = []
    for ax, (panel, runs) in zip(fig.axes, slices.items()):
        assert ax.get_title() == panel
        drawn = {line.get_label(): line for line in ax.get_lines() if line.get_label() in runs}
        assert set(drawn) == set(runs) == set(legend_labels(ax))
        for label, (offsets, losses) in runs.items():
            np.testing.assert_array_equal(drawn[label].get_xdata(), offsets)
            np.testing.assert_array_equal(drawn[label].get_ydata(), losses)
        colors.append({label: line.get_color() for label, line in drawn.items()})
    assert colors[0] == colors[1] and colors[0]["plain"] != colors[0]["SAM"]
