"""The sample submissions themselves: they build, and they are what they claim to be.

The optimizers of the correct and the buggy samples are run in this process against the reference
solutions, independently of the autograder; hostile samples are only built, never run.
"""

import functools
import inspect
import json

import nbformat
import numpy as np
import pytest
import tensorflow as tf

import solutions.optimizers_core as solutions
from autograder import submission
from autograder.assignments.optimizers_core.samples import (
    OPTIMIZERS,
    SAMPLES,
    SEMANTIC,
    SEVERAL_VARIABLES,
    class_index,
)
from autograder.guest import runner
from course_utils import loss

# scenario -> (settings, initial values of the variables, steps) on the course loss; a class
# runs the scenarios whose settings it takes (ep: Adam only).
FOUR_VARIABLES = [
    np.float32(1.5),
    np.array([-1.8, 0.4, 1.1], np.float32),
    np.array([[0.9, -0.3], [-1.4, 1.9]], np.float32),
    np.array([0.7, -1.2, 1.6], np.float32),  # the shape of the second one
]
SCENARIOS = {
    "one variable, lr 0.1": ({"learning_rate": 0.1}, [np.float32(2.0)], 50),
    "one variable, lr 0.01": ({"learning_rate": 0.01}, [np.float32(2.0)], 50),
    "one variable, ep 1": ({"learning_rate": 0.05, "ep": 1.0}, [np.float32(1.7)], 50),
    "two variables": ({"learning_rate": 0.01}, [np.float32(2.0), np.float32(-0.5)], 50),
    "four variables, two of one shape": ({"learning_rate": 0.01}, FOUR_VARIABLES, 50),
}
MATCH, DIFFER = 1e-4, 1e-3  # gaps relative to max(|reference|, 1)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """{sample name: path of its built submission}, each in a folder of its own."""
    folder = tmp_path_factory.mktemp("samples")
    return {name: sample.build(folder / name) for name, sample in SAMPLES.items()}


@pytest.mark.parametrize("name", SAMPLES)
def test_builds_the_file_it_returns(built, name):
    """Does every sample write one file, named like the assignment, in its own folder?"""
    path = built[name]
    assert path.is_file() and path.name == "optimizers_core.ipynb" and path.parent.name == name


@pytest.mark.parametrize("name", SAMPLES)
def test_is_a_valid_notebook_unless_bad_input(built, name):
    """Is every sample a valid nbformat v4 notebook, except the bad-input ones ({} expected):
    not a notebook, or one too large to be read at all?"""
    path = built[name]
    if SAMPLES[name].expect == {}:
        assert not is_notebook_json(path) or path.stat().st_size > submission.MAX_BYTES
    else:
        nbformat.validate(nbformat.read(str(path), as_version=4))


def is_notebook_json(path):
    """Is the file a JSON object with a list of cells?"""
    try:
        data = json.loads(path.read_bytes())
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        return False
    return isinstance(data, dict) and isinstance(data.get("cells"), list)


@pytest.mark.parametrize("name", [n for n, s in SAMPLES.items() if s.expect])
def test_defines_the_classes_it_should(built, name):
    """Does a compiling code cell define each class expected to score any point?"""
    nb = nbformat.read(str(built[name]), as_version=4)
    for cls, word in SAMPLES[name].expect.items():
        if word != "zero":
            assert defines(nb, cls), cls


def defines(nb, cls):
    """Is `cls` defined by its exercise cell (a code cell that compiles and declares it)?"""
    try:
        cell = nb.cells[class_index(nb, OPTIMIZERS[cls])]
        compile(cell.source, cls, "exec")
    except (LookupError, SyntaxError):
        return False
    return cell.cell_type == "code" and f"class {cls}(" in cell.source


def exercise_sources(path):
    """(imports cell, {class: exercise cell}) sources of the notebook at `path`."""
    nb = nbformat.read(str(path), as_version=4)
    setup = next(
        c.source for c in nb.cells if c.cell_type == "code" and "import tensorflow" in c.source
    )
    return setup, {cls: nb.cells[class_index(nb, gid)].source for cls, gid in OPTIMIZERS.items()}


def path_of(optimizer_class, scenario):
    """Every variable's values after every step of `scenario`, flattened: one row per step."""
    settings, inits, steps = SCENARIOS[scenario]
    optimizer = optimizer_class(**settings)
    xs = [tf.Variable(x) for x in inits]
    rows = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            total = tf.add_n([tf.reduce_sum(loss(x)) for x in xs])
        optimizer.apply_gradients(tape.gradient(total, xs), xs)
        rows.append(np.concatenate([np.ravel(x.numpy()) for x in xs]))
    return np.array(rows, dtype=np.float64)


@functools.cache
def cell_path(setup, source, cls, scenario):
    """path_of the class `cls` defined by the cell `source` after the cell `setup` (once each)."""
    namespace = {"get_ipython": runner._Shell}  # the setup cell holds a %config line
    exec(runner.to_python(setup), namespace)
    exec(compile(source, cls, "exec"), namespace)
    return path_of(namespace[cls], scenario)


def takes(cls, settings):
    """Does the reference class `cls` take every one of `settings`?"""
    return set(settings) <= set(inspect.signature(getattr(solutions, cls)).parameters)


@functools.cache
def reference_path(cls, scenario):
    return path_of(getattr(solutions, cls), scenario)


def gap(setup, source, cls, scenario):
    """Largest gap to the reference path, relative to max(|reference|, 1); inf if it raises."""
    try:
        path = cell_path(setup, source, cls, scenario)
    except Exception:
        return np.inf
    reference = reference_path(cls, scenario)
    same = (path == reference) | (np.isnan(path) & np.isnan(reference))
    with np.errstate(invalid="ignore"):
        gaps = np.abs(path - reference) / np.maximum(np.abs(reference), 1.0)
    return float(np.where(same, 0.0, np.nan_to_num(gaps, nan=np.inf)).max())


@pytest.mark.slow
@pytest.mark.parametrize("name", SEMANTIC)
def test_runs_like_the_reference_where_it_claims(built, name):
    """Do correct optimizers follow the reference, and buggy ones leave it where claimed?

    "full" matches in every scenario, "defined-only" and "zero" differ in every one, "partial"
    in some; a bug that must fail with several variables matches with one and differs with
    several.
    """
    sample = SAMPLES[name]
    setup, sources = exercise_sources(built[name])
    for cls, word in sample.expect.items():
        scenarios = [s for s in SCENARIOS if takes(cls, SCENARIOS[s][0])]
        gaps = {scenario: gap(setup, sources[cls], cls, scenario) for scenario in scenarios}
        matches = {s: g <= MATCH for s, g in gaps.items()}
        differs = {s: g > DIFFER for s, g in gaps.items()}
        if word == "full":
            assert all(matches.values()), (cls, gaps)
        elif word in ("defined-only", "zero"):
            assert all(differs.values()), (cls, gaps)
        elif SEVERAL_VARIABLES in sample.must_fail:
            single = {s: len(SCENARIOS[s][1]) == 1 for s in scenarios}
            assert all(matches[s] if single[s] else differs[s] for s in scenarios), (cls, gaps)
        else:
            assert word == "partial" and any(differs.values()), (cls, gaps)
