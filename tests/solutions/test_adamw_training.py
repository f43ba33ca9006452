"""Lesson 3's solution notebook: its solutions against TensorFlow and Keras, its structure, and a
Run All in which every cell runs and every self-check passes."""

import re

import nbformat
import numpy as np
import pytest
import tensorflow as tf

from autograder import assignments, generate, paths
from autograder.execute import execute_notebook, stream_text
from tests.solutions.streams import gradient_steps, new_variables, notebook_exercises

NOTEBOOK = paths.SOLUTIONS_DIR / "adamw_training.ipynb"
EXERCISES = {  # grade_id: (name, how it is defined)
    "clip_by_global_norm": ("clip_by_global_norm", "def clip_by_global_norm(grads, clip_norm):"),
    "warmup_cosine_decay": ("WarmupCosineDecay", "class WarmupCosineDecay:"),
    "adamw": ("AdamW", "class AdamW(tf.Module):"),
}
# Calls that start a training run or draw a figure: never in a cell the grader runs.
EXPERIMENTS = ("train", "training_curves", "learning_rate_curves", "digit_grid", "check")


def solution_notebook():
    return generate.read_notebook(NOTEBOOK)


@pytest.fixture(scope="module")
def solutions():
    """The notebook's solutions, exec'd from its exercise cells (markers removed)."""
    namespace = notebook_exercises(NOTEBOOK)
    return {name: namespace[name] for name, _ in EXERCISES.values()}


def keras_cosine(peak_learning_rate, warmup_steps, decay_steps, alpha=0.0):
    return tf.keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps, alpha=alpha, warmup_target=peak_learning_rate, warmup_steps=warmup_steps
    )


def course_apply(optimizer, variables):
    return lambda grads: optimizer.apply_gradients(grads, variables)


def keras_apply(optimizer, variables):
    return lambda grads: optimizer.apply_gradients(zip(grads, variables))


# --- the solutions against TensorFlow and Keras -------------------------------------------------


@pytest.mark.parametrize("clip_norm", [0.3, 2.0, 50.0, 1e4])
def test_clipping_equals_tensorflow(solutions, clip_norm):
    """The norm is TensorFlow's to float32 rounding (its sum of halved squares, doubled); the
    clipped values too, except that within bounds ours are the gradients themselves, where
    TensorFlow multiplies by clip_norm * (1 / clip_norm), 1 within an ulp."""
    for grads in gradient_steps(7, 20):
        grads = [tf.constant(g) for g in grads]
        ours, our_norm = solutions["clip_by_global_norm"](grads, clip_norm)
        theirs, their_norm = tf.clip_by_global_norm(grads, clip_norm)
        assert float(our_norm) == pytest.approx(float(their_norm), rel=1e-6)
        for a, b, g in zip(ours, theirs, grads):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=3e-7, atol=0)
            if float(our_norm) <= clip_norm:
                assert np.array_equal(a.numpy(), g.numpy())


def test_clipping_a_non_finite_norm_gives_nan_like_tensorflow(solutions):
    grads = [tf.constant([1.0, np.inf]), tf.constant([2.0])]
    ours, norm = solutions["clip_by_global_norm"](grads, 1.0)
    assert np.isinf(float(norm)) and all(np.isnan(g.numpy()).all() for g in ours)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"peak_learning_rate": 0.01, "warmup_steps": 10, "decay_steps": 90},
        {"peak_learning_rate": 0.3, "warmup_steps": 0, "decay_steps": 17, "alpha": 0.25},
        {"peak_learning_rate": 1e-3, "warmup_steps": 33, "decay_steps": 1000, "alpha": 0.01},
    ],
)
def test_schedule_equals_keras_eagerly_and_compiled(solutions, kwargs):
    """Largest difference, eagerly and with the step an int64 tf.Variable in a tf.function: 0."""
    ours, theirs = solutions["WarmupCosineDecay"](**kwargs), keras_cosine(**kwargs)
    counter = tf.Variable(0, dtype=tf.int64)
    compiled = tf.function(ours.__call__)
    end = kwargs["warmup_steps"] + kwargs["decay_steps"] + 20
    for step in range(0, end, max(1, end // 150)):
        counter.assign(step)
        value = ours(step)
        assert value.dtype == tf.float32
        assert float(value) == float(theirs(step)) == float(compiled(counter)), step


@pytest.mark.slow
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize(
    "hyperparameters",
    [{}, {"weight_decay": 0.1, "epsilon": 1e-3}, {"beta_1": 0.8, "beta_2": 0.99}],
    ids=["defaults", "decay-epsilon", "betas"],
)
def test_adamw_follows_keras_bit_for_bit(solutions, compiled, hyperparameters):
    """Do two separate instances, one with a constant learning rate and one with a schedule, on
    four variables (two of the same shape), follow Keras' AdamW exactly at every step, eagerly
    and inside a tf.function? Largest difference measured at any step: 0."""
    steps = 120
    schedule = {"peak_learning_rate": 0.02, "warmup_steps": 10, "decay_steps": 80, "alpha": 0.1}
    ours = [
        solutions["AdamW"](0.03, **hyperparameters),
        solutions["AdamW"](solutions["WarmupCosineDecay"](**schedule), **hyperparameters),
    ]
    keras = [
        tf.keras.optimizers.AdamW(0.03, **hyperparameters),
        tf.keras.optimizers.AdamW(keras_cosine(**schedule), **hyperparameters),
    ]
    ours_vars = [new_variables(seed) for seed in (1, 2)]
    keras_vars = [new_variables(seed) for seed in (1, 2)]
    applies = [course_apply(o, vs) for o, vs in zip(ours, ours_vars)]
    keras_applies = [keras_apply(k, vs) for k, vs in zip(keras, keras_vars)]
    if compiled:
        applies = [tf.function(f) for f in applies]
        keras_applies = [tf.function(f) for f in keras_applies]
    streams = [gradient_steps(seed, steps) for seed in (3, 4)]
    largest = 0.0
    for step in range(steps):
        for k in (0, 1):  # the two instances interleaved: no state may be shared
            grads = [tf.constant(g) for g in streams[k][step]]
            applies[k](grads)
            keras_applies[k](grads)
            largest = max(
                largest,
                max(
                    float(np.abs(a.numpy() - b.numpy()).max())
                    for a, b in zip(ours_vars[k], keras_vars[k])
                ),
            )
    assert largest == 0.0
    assert int(ours[0].iterations.numpy()) == steps


# --- structure ----------------------------------------------------------------------------------


def test_exercise_cells_carry_nbgrader_metadata_and_markers():
    """Is each exercise one solution cell with its grade_id, defining its name, with the solution
    between markers, and followed by its graded comment cell?"""
    nb = solution_notebook()
    code = [c for c in nb.cells if c.cell_type == "code"]
    cells = {c.metadata.nbgrader.grade_id: c for c in code if generate.is_solution_cell(c)}
    assert set(cells) == set(EXERCISES)
    for grade_id, (name, definition) in EXERCISES.items():
        source = cells[grade_id].source
        assert definition in source
        assert source.count("### BEGIN SOLUTION") == source.count("### END SOLUTION") >= 1
        assert source.rstrip().endswith("### END SOLUTION")
        graded = code[code.index(cells[grade_id]) + 1]
        assert generate.is_graded_cell(graded)
        assert graded.metadata.nbgrader.grade_id == f"{name}_tests"
        assert graded.metadata.nbgrader.points > 0 and graded.source.startswith("#")
    assert all(len(body) > 0 for body in generate.solution_bodies(nb))
    assert "def apply_gradients" in cells["adamw"].source.split("### END SOLUTION", 1)[1]


def test_committed_without_outputs_with_colab_link_and_setup():
    nb = solution_notebook()
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    text = "\n".join(c.source for c in nb.cells)
    assert "(COLAB_URL)" in text and "RELEASE_ZIP_URL" in text
    assert nb.cells[0].source.startswith("# Lesson 3")


def test_student_copy_has_no_solution_and_raises_until_written():
    """Does the student copy keep the definitions but none of the solution lines, so that each
    stub raises NotImplementedError?"""
    nb = solution_notebook()
    student = generate.student_notebook(nb, assignments.get("adamw_training"))
    text = "\n".join(cell.source for cell in student.cells)
    for body in generate.solution_bodies(nb):
        for line in body:
            assert line not in text, line
    namespace = {"tf": tf}
    for cell in student.cells:
        if generate.is_solution_cell(cell):
            exec(cell.source, namespace)  # noqa: S102
    with pytest.raises(NotImplementedError):
        namespace["clip_by_global_norm"]([tf.constant(1.0)], 1.0)
    with pytest.raises(NotImplementedError):
        namespace["WarmupCosineDecay"](0.1, 5, 10)(0)
    with pytest.raises(NotImplementedError):
        namespace["AdamW"]()


def test_only_setup_imports_and_exercises_are_not_demos():
    """Is every code cell an exercise, a graded comment cell, the setup or the imports (which the
    grader runs), or tagged `demo` or `self-check`, and does no cell the grader runs train a
    network or draw?"""
    experiment = re.compile(r"\b(?:" + "|".join(EXPERIMENTS) + r")\(")
    tagged = {"demo": 0, "self-check": 0}
    for cell in solution_notebook().cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        for tag in tags:
            tagged[tag] = tagged.get(tag, 0) + 1
        if generate.is_solution_cell(cell) or generate.is_graded_cell(cell):
            assert not tags and not experiment.search(cell.source), cell.source
            continue
        setup_or_imports = cell.source.startswith(("# Setup", "import"))
        assert bool(tags) != setup_or_imports, cell.source
        if setup_or_imports:
            assert not experiment.search(cell.source), cell.source
        if "self-check" in tags:
            assert re.fullmatch(r"check\(\w+\);", cell.source.strip()), cell.source
    assert tagged["self-check"] == len(EXERCISES) and tagged["demo"] > 0


# --- Run All ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def executed():
    """The solution notebook run top to bottom in a fresh kernel."""
    return execute_notebook(NOTEBOOK, timeout=900, cwd=paths.ROOT)


@pytest.mark.slow
def test_every_cell_runs_and_every_self_check_passes(executed):
    for cell in executed.cells:
        if cell.cell_type == "code":
            assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
    checks = [c for c in executed.cells if "self-check" in c.metadata.get("tags", [])]
    for cell in checks:
        text = stream_text(nbformat.v4.new_notebook(cells=[cell]))
        passed = re.search(r"^(\d+) of (\d+) public cases pass\.$", text, re.M)
        assert passed and passed[1] == passed[2] and "FAIL" not in text, text


@pytest.mark.slow
def test_the_notebook_shows_no_difference_from_tensorflow_and_keras(executed):
    """Every comparison the notebook prints is 0, and the lesson's runs end where it says."""
    text = stream_text(executed)
    differences = re.findall(r"largest difference (\S+?)(?: eagerly, (\S+) compiled)?$", text, re.M)
    assert len(differences) >= 3 + 2 + 3 + 4
    assert all(value in ("0", "") for pair in differences for value in pair), differences
    assert "largest difference of the batch losses: 0.0" in text
    accuracy = dict(
        re.findall(
            r"^(your AdamW[^\n]*?)\s+final batch loss \S+, validation accuracy (\S+)", text, re.M
        )
    )
    assert accuracy and all(float(value) > 0.95 for value in accuracy.values())
    assert re.search(r"Keras SGD, lr 2 +final batch loss \S+, validation accuracy 0\.[0-2]", text)
