import matplotlib.collections
import numpy as np
import pytest
from matplotlib.figure import Figure

from course_utils import loss, loss_grid_x, plot_loss_and_gradient, viz_paths


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
