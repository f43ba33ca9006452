"""Shared test set-up: quiet TensorFlow, a non-interactive Matplotlib, closed figures.

Matplotlib is switched to Agg in this process only (not through MPLBACKEND), so notebook kernels
started by the tests keep their inline backend and display their figures.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")
