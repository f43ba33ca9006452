"""The notebook's setup cell in a fresh environment with only TensorFlow and Matplotlib (as Colab).

The cell installs course_utils when it is missing; here from the locally built student release
instead of the published URL (the cell honours COURSE_UTILS_SOURCE), then the notebook's imports
and a self-check work. Slow: it creates a virtual environment and installs TensorFlow into it.
"""

import os
import subprocess
import sys

import pytest

from autograder import assignments, generate, release

pytestmark = pytest.mark.slow


def setup_cell_source(lesson="optimizers_core"):
    nb = generate.read_notebook(assignments.get(lesson).student_notebook)
    return next(c.source for c in nb.cells if c.cell_type == "code" and "find_spec" in c.source)


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory):
    venv = tmp_path_factory.mktemp("colab-like") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "tensorflow-cpu==2.21.*", "matplotlib"],
        check=True,
    )
    return python


def run(python, code, **env):
    """Run `code` with `python` outside the repository (so its folders are not importable)."""
    return subprocess.run(
        [python, "-c", code],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=python.parent,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg", **env},
    )


def test_setup_cell_installs_course_utils_then_does_nothing(fresh_python, tmp_path):
    """Without course_utils, does the setup cell install it, so the lesson's imports work?"""
    folder, _ = release.build(tmp_path / "dist")
    assert run(fresh_python, "import course_utils").returncode != 0
    first = run(fresh_python, setup_cell_source(), COURSE_UTILS_SOURCE=str(folder))
    assert first.returncode == 0, first.stderr
    lesson = run(
        fresh_python,
        "from course_utils import check, convergence_test, viz_paths\n"
        "from course_utils.selfcheck import expectations\n"
        "print(sorted(expectations()))",
    )
    assert lesson.returncode == 0, lesson.stderr
    assert "['Adam', 'GradientDescent', 'Momentum']" in lesson.stdout
    second = run(
        fresh_python,
        "from course_utils import SURFACES, contour_paths, run_on_surface\n"
        "from course_utils.selfcheck_2d import expectations\n"
        "print(sorted(expectations()))",
    )
    assert second.returncode == 0, second.stderr
    assert "['Adagrad', 'NesterovMomentum', 'RMSprop']" in second.stdout
    assert setup_cell_source("optimizers_2d") == setup_cell_source(), "one setup cell everywhere"
    again = run(fresh_python, setup_cell_source(), COURSE_UTILS_SOURCE="/nonexistent")
    assert again.returncode == 0, "with course_utils installed the cell must not call pip"
