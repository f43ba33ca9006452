"""Lesson 4's solution notebook: its solutions against independent references (an explicit float64
Hessian from GradientTape.jacobian and in closed form, NumPy's eigvalsh, SAM's step written in
NumPy around Keras SGD, Keras Adam eagerly and compiled), its structure, and a Run All whose
outcomes are those its Markdown states."""

import re

import nbformat
import numpy as np
import pytest
import tensorflow as tf

from autograder import generate, paths
from autograder.execute import execute_notebook, stream_text
from course_utils import sharpness_problems
from course_utils.sharpness_problems import flatten, unflatten
from tests.solutions.streams import SHAPES, notebook_exercises

NOTEBOOK = paths.SOLUTIONS_DIR / "sam_sharpness.ipynb"
EXERCISES = {  # grade_id: (name, how it is defined)
    "sam": ("SAM", "class SAM(tf.Module):"),
    "hessian_vector_product": (
        "hessian_vector_product",
        "def hessian_vector_product(loss_fn, vars, vectors):",
    ),
    "top_hessian_eigenvalue": (
        "top_hessian_eigenvalue",
        "def top_hessian_eigenvalue(loss_fn, vars, iterations=50, seed=0):",
    ),
}
# Calls that start a training run, draw a figure or build a full Hessian: only in demo cells.
EXPERIMENTS = ("train", "training_curves", "loss_slices", "check", "jacobian", "full_hessian")
# What the notebook's Markdown says of its runs: final validation accuracy and top eigenvalue.
STATED = {
    "Adam": (0.78, 7.0),
    "SAM(Adam), rho 0.05": (0.82, 4.5),
    "SAM(Adam), rho 0.3": (0.88, 1.6),
}


@pytest.fixture(scope="module")
def solutions():
    """The notebook's solutions, exec'd from its exercise cells (markers removed)."""
    namespace = notebook_exercises(NOTEBOOK)
    return {name: namespace[name] for name, _ in EXERCISES.values()}


def jacobian_hessian(loss_fn, variables):
    """The Hessian over the flattened variables by GradientTape.jacobian: the reference."""
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = loss_fn()
        grads = inner.gradient(loss, variables)
        flat = tf.concat([tf.reshape(g, [-1]) for g in grads], axis=0)
    rows = outer.jacobian(flat, variables)
    return tf.concat([tf.reshape(r, [flat.shape[0], -1]) for r in rows], axis=1).numpy()


def as_tensors(flat, like):
    """A flat float64 vector cut into constants shaped like `like` (arrays or variables)."""
    pieces = np.split(np.asarray(flat), np.cumsum([np.size(v) for v in like])[:-1])
    return [tf.constant(p.reshape(np.shape(v)), tf.float64) for p, v in zip(pieces, like)]


def flat_of(tensors):
    return np.concatenate([np.ravel(np.asarray(t)) for t in tensors])


def shapes_problem(seed):
    """Variables of streams.SHAPES (a scalar, a vector, two matrices) in float64 and a loss
    coupling all of them non-linearly, with a variable that enters only linearly."""
    rng = np.random.default_rng(seed)
    variables = [tf.Variable(rng.uniform(-1, 1, shape)) for shape in SHAPES]
    size = sum(int(np.prod(shape)) for shape in SHAPES)
    mixing = tf.constant(rng.normal(size=(5, size)))

    def loss_fn():
        theta = tf.concat([tf.reshape(v, [-1]) for v in variables], axis=0)
        z = tf.linalg.matvec(mixing, theta)
        return tf.reduce_sum(tf.tanh(z) ** 2) + 0.25 * tf.reduce_sum(theta**2) ** 2

    return variables, loss_fn


# --- the Hessian-vector product ------------------------------------------------------------------


@pytest.mark.parametrize("name", sharpness_problems.NAMES)
@pytest.mark.parametrize("seed", [0, 1])
def test_product_equals_the_explicit_hessian_times_the_vector(solutions, name, seed):
    """Is H v the explicit float64 Hessian (jacobian and closed form) times v, for random and
    unit vectors, shaped like the variables (a matrix, a vector, a scalar)?"""
    problem = sharpness_problems.problem(name, seed)
    variables = problem.variables()
    loss_fn = problem.loss_fn(variables)
    reference = jacobian_hessian(loss_fn, variables)
    np.testing.assert_allclose(reference, problem.hessian(problem.values), rtol=0, atol=1e-12)
    rng = np.random.default_rng(seed)
    size = len(reference)
    for v in [rng.normal(size=size), rng.normal(size=size) * 1e3, np.eye(size)[seed]]:
        product = solutions["hessian_vector_product"](
            loss_fn, variables, as_tensors(v, problem.values)
        )
        assert [tuple(p.shape) for p in product] == [np.shape(x) for x in problem.values]
        expected = reference @ v
        np.testing.assert_allclose(
            flat_of(product), expected, rtol=1e-12, atol=1e-13 * abs(v).max()
        )
    for before, variable in zip(problem.values, variables):
        assert np.array_equal(before, variable.numpy())  # the product moves no weight


@pytest.mark.parametrize("seed", [3, 4])
def test_product_on_other_shapes_and_a_tuple_of_variables(solutions, seed):
    """Four variables (two alike, one scalar) passed as a tuple: H v as the jacobian's."""
    variables, loss_fn = shapes_problem(seed)
    reference = jacobian_hessian(loss_fn, variables)
    v = np.random.default_rng(seed).normal(size=len(reference))
    product = solutions["hessian_vector_product"](
        loss_fn, tuple(variables), as_tensors(v, variables)
    )
    np.testing.assert_allclose(flat_of(product), reference @ v, rtol=1e-11, atol=1e-12)


def test_product_with_a_variable_the_loss_does_not_use_is_zero_there(solutions):
    problem = sharpness_problems.problem("regression")
    variables = problem.variables()
    unused = tf.Variable(tf.ones((2,), tf.float64))
    vectors = as_tensors(np.ones(17 + 2), [*problem.values, np.ones(2)])
    product = solutions["hessian_vector_product"](
        problem.loss_fn(variables), [*variables, unused], vectors
    )
    assert np.array_equal(product[-1].numpy(), np.zeros(2))


# --- the top eigenvalue ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["minimum", "saddle"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eigenvalue_is_numpys_signed_top_eigenvalue_with_its_unit_eigenvector(
    solutions, name, seed
):
    """Is the eigenvalue eigvalsh's of largest magnitude, with its sign (negative at the saddle),
    and the vector a unit eigenvector, from any start?"""
    problem = sharpness_problems.problem(name, seed)
    hessian = problem.hessian(problem.values)
    eigenvalues, eigenvectors = np.linalg.eigh(hessian)
    top = int(np.argmax(np.abs(eigenvalues)))
    assert (eigenvalues[top] < 0) == (name == "saddle")
    variables = problem.variables()
    for start in (0, 7):
        value, vectors = solutions["top_hessian_eigenvalue"](
            problem.loss_fn(variables), variables, seed=start
        )
        assert value.dtype == tf.float64 and value.shape == ()
        assert float(value) == pytest.approx(eigenvalues[top], rel=1e-9)
        v = flat_of(vectors)
        assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-12)
        assert abs(v @ eigenvectors[:, top]) == pytest.approx(1.0, abs=1e-9)


def test_eigenvalue_follows_the_seed_and_the_iterations(solutions):
    """Does the start come from stateless_normal(seed=[seed, i]) per variable (one iteration
    from it gives v . H v of that start), and do more iterations get closer?"""
    problem = sharpness_problems.problem("minimum")
    variables = problem.variables()
    hessian = problem.hessian(problem.values)
    start = flat_of(
        [
            tf.random.stateless_normal(tf.shape(v), seed=[5, i], dtype=tf.float64)
            for i, v in enumerate(variables)
        ]
    )
    start /= np.linalg.norm(start)
    value, vectors = solutions["top_hessian_eigenvalue"](
        problem.loss_fn(variables), variables, iterations=1, seed=5
    )
    assert float(value) == pytest.approx(start @ hessian @ start, rel=1e-12)
    step = hessian @ start
    np.testing.assert_allclose(flat_of(vectors), step / np.linalg.norm(step), atol=1e-12)
    top = np.max(np.linalg.eigvalsh(hessian))
    errors = [
        abs(
            float(solutions["top_hessian_eigenvalue"](problem.loss_fn(variables), variables, n)[0])
            - top
        )
        for n in (2, 8, 30)
    ]
    assert errors[0] > errors[1] > errors[2]


# --- SAM -----------------------------------------------------------------------------------------


def sam_step(sam, problem, variables, compiled):
    """A function of no arguments taking one SAM step on the problem's loss, or its tf.function."""

    def step():
        return sam.minimize(problem.loss_fn(variables), variables)

    return tf.function(step) if compiled else step


def numpy_sam_path(problem, rho, learning_rate, steps, epsilon=1e-12):
    """SAM around plain gradient descent in NumPy: w <- w - lr * grad(w + rho g / (|g| + eps)),
    with Keras' learning rate rounded to float32."""
    lr = float(np.float32(learning_rate))
    w, path = flatten(problem.values), []
    for _ in range(steps):
        g = flatten(problem.gradient(unflatten(w)))
        e = rho * g / (np.linalg.norm(g) + epsilon)
        path.append(
            (problem.loss(unflatten(w)), w - lr * flatten(problem.gradient(unflatten(w + e))))
        )
        w = path[-1][1]
    return path


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("rho", [0.01, 0.05, 0.5])
def test_sam_around_sgd_follows_the_numpy_path(solutions, compiled, rho):
    """Do the loss returned and the weights after each of 15 steps follow SAM written in NumPy
    (global norm, uphill, weights restored, the perturbed gradient applied)?"""
    problem = sharpness_problems.problem("regression", seed=2)
    variables = problem.variables()
    sgd = tf.keras.optimizers.SGD(0.1)
    sgd.build(variables)
    step = sam_step(solutions["SAM"](sgd, rho=rho), problem, variables, compiled)
    for loss, expected in numpy_sam_path(problem, rho, 0.1, 15):
        assert float(step()) == pytest.approx(loss, rel=1e-12)
        np.testing.assert_allclose(flat_of(variables), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("base", ["SGD", "Adam"])
@pytest.mark.parametrize("rho", [0.05, 0.2])
def test_sam_is_the_same_eagerly_and_compiled(solutions, base, rho):
    """Are 20 SAM steps around Keras' SGD or Adam the same eagerly and inside a tf.function
    (base optimizers built first)? To float64 rounding: the compiled loss of the problem may
    round differently in the last bit (measured: at most 1.1e-16 over 20 steps, often 0)."""
    problem = sharpness_problems.problem("regression", seed=1)
    paths_taken = []
    for compiled in (False, True):
        variables = problem.variables()
        optimizer = getattr(tf.keras.optimizers, base)(0.05)
        optimizer.build(variables)
        step = sam_step(solutions["SAM"](optimizer, rho=rho), problem, variables, compiled)
        paths_taken.append([(float(step()), flat_of(variables)) for _ in range(20)])
    for (loss_eager, w_eager), (loss_compiled, w_compiled) in zip(*paths_taken):
        assert loss_eager == pytest.approx(loss_compiled, rel=1e-14)
        np.testing.assert_allclose(w_eager, w_compiled, rtol=1e-14, atol=1e-15)


def test_sam_step_is_the_base_step_from_the_unperturbed_weights(solutions):
    """After minimize, are the weights those a second Adam reaches by applying grad L(w + e)
    (computed in NumPy) to the original weights, and is the loss returned L(w)?"""
    problem = sharpness_problems.problem("regression", seed=3)
    ours, theirs = problem.variables(), problem.variables()
    sam = solutions["SAM"](tf.keras.optimizers.Adam(0.05), rho=0.1)
    adam = tf.keras.optimizers.Adam(0.05)
    for _ in range(5):
        w = flat_of(theirs)
        g = flatten(problem.gradient(unflatten(w)))
        sharp = problem.gradient(unflatten(w + 0.1 * g / (np.linalg.norm(g) + 1e-12)))
        loss = sam.minimize(problem.loss_fn(ours), ours)
        assert float(loss) == pytest.approx(problem.loss(unflatten(w)), rel=1e-12)
        adam.apply_gradients(zip([tf.constant(s) for s in sharp], theirs))
        np.testing.assert_allclose(flat_of(ours), flat_of(theirs), rtol=1e-10, atol=1e-12)


def test_sam_leaves_a_variable_the_loss_does_not_use_where_it_was(solutions):
    problem = sharpness_problems.problem("regression")
    variables = problem.variables()
    unused = tf.Variable(tf.constant([1.5, -2.0], tf.float64))
    sam = solutions["SAM"](tf.keras.optimizers.SGD(0.1))
    sam.minimize(problem.loss_fn(variables), [*variables, unused])
    assert unused.numpy().tolist() == [1.5, -2.0]
    assert not np.array_equal(flat_of(variables), flatten(problem.values))


# --- structure -----------------------------------------------------------------------------------


def solution_notebook():
    return generate.read_notebook(NOTEBOOK)


def test_exercise_cells_carry_nbgrader_metadata_and_markers():
    """Is each exercise one solution cell with its grade_id, defining its name, with the solution
    between markers, and followed by its graded comment cell?"""
    nb = solution_notebook()
    code = [c for c in nb.cells if c.cell_type == "code"]
    cells = {c.metadata.nbgrader.grade_id: c for c in code if generate.is_solution_cell(c)}
    assert set(cells) == set(EXERCISES)
    for grade_id, (name, definition) in EXERCISES.items():
        source = cells[grade_id].source
        assert source.startswith(definition) or f"\n{definition}" in source
        assert source.count("### BEGIN SOLUTION") == source.count("### END SOLUTION") == 1
        assert source.rstrip().endswith("### END SOLUTION")
        graded = code[code.index(cells[grade_id]) + 1]
        assert generate.is_graded_cell(graded)
        assert graded.metadata.nbgrader.grade_id == f"{name}_tests"
        assert graded.metadata.nbgrader.points > 0 and graded.source.startswith("#")
    assert "def __init__" in cells["sam"].source.split("### BEGIN SOLUTION")[0]


def test_committed_without_outputs_with_colab_link_and_setup():
    nb = solution_notebook()
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    text = "\n".join(c.source for c in nb.cells)
    assert "(COLAB_URL)" in text and "RELEASE_ZIP_URL" in text
    assert nb.cells[0].source.startswith("# Lesson 4")
    assert "Apache License 2.0" in nb.cells[0].source


def test_student_copy_has_no_solution_and_raises_until_written():
    """Does the student copy keep the definitions but none of the solution lines, so that each
    stub raises NotImplementedError (SAM's constructor still works)?"""
    from autograder import assignments

    nb = solution_notebook()
    student = generate.student_notebook(nb, assignments.get("sam_sharpness"))
    text = "\n".join(cell.source for cell in student.cells)
    for body in generate.solution_bodies(nb):
        for line in body:
            assert line not in text, line
    namespace = {"tf": tf}
    for cell in student.cells:
        if generate.is_solution_cell(cell):
            exec(cell.source, namespace)  # noqa: S102
    sam = namespace["SAM"](tf.keras.optimizers.SGD(0.1), rho=0.1)
    assert sam.rho == 0.1
    variables = [tf.Variable(1.0)]
    with pytest.raises(NotImplementedError):
        sam.minimize(lambda: variables[0] ** 2, variables)
    with pytest.raises(NotImplementedError):
        namespace["hessian_vector_product"](lambda: variables[0] ** 2, variables, [1.0])
    with pytest.raises(NotImplementedError):
        namespace["top_hessian_eigenvalue"](lambda: variables[0] ** 2, variables)


def test_only_setup_imports_and_exercises_are_not_demos():
    """Is every code cell an exercise, a graded comment cell, the setup or the imports (which the
    grader runs), or tagged `demo` or `self-check`, and does no cell the grader runs train a
    network, draw or build a full Hessian?"""
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


# --- Run All -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def executed():
    """The solution notebook run top to bottom in a fresh kernel."""
    return execute_notebook(NOTEBOOK, timeout=900, cwd=paths.ROOT)


@pytest.mark.slow
def test_every_cell_runs_shows_its_figures_and_every_self_check_passes(executed):
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        plots = len(re.findall(r"\b(?:training_curves|loss_slices|check)\(", cell.source))
        assert len(images) == plots, cell.source
    checks = [c for c in executed.cells if "self-check" in c.metadata.get("tags", [])]
    assert len(checks) == len(EXERCISES)
    for cell in checks:
        text = stream_text(nbformat.v4.new_notebook(cells=[cell]))
        passed = re.search(r"^(\d+) of (\d+) public cases pass\.$", text, re.M)
        assert passed and passed[1] == passed[2] and "FAIL" not in text, text


@pytest.mark.slow
def test_the_checks_against_references_show_rounding_only(executed):
    """SAM against the step by hand, the products against the jacobian's Hessian, and power
    iteration against eigvalsh: float64 rounding everywhere."""
    text = stream_text(executed)
    differences = [float(d) for d in re.findall(r": largest difference (\S+)$", text, re.M)]
    by_hand = [float(d) for d in re.findall(r"from the step by hand (\S+),", text)]
    assert len(by_hand) == 2 and max(by_hand) < 1e-14
    assert len(differences) == 3 and max(differences) < 1e-13, differences
    eigen = re.findall(r"eigvalsh (\S+) \(next \S+\), power iteration (\S+),", text)
    assert len(eigen) == 2 and float(eigen[1][0]) < 0
    for expected, ours in eigen:
        assert float(ours) == pytest.approx(float(expected), rel=1e-9)


@pytest.mark.slow
def test_the_runs_end_as_the_notebook_says(executed):
    """Do the three runs end near the accuracies and eigenvalues the Markdown states, SAM with
    rho 0.3 well above Adam and far flatter, and does no SAM step cost more than 3 plain ones?"""
    text = stream_text(executed)
    runs = {
        label.strip(): (float(accuracy), float(eigenvalue))
        for label, accuracy, eigenvalue in re.findall(
            r"^(.+?)\s+final validation accuracy (\S+) \(best \S+\), top eigenvalue (\S+)$",
            text,
            re.M,
        )
    }
    assert runs.keys() == STATED.keys()
    for label, (accuracy, eigenvalue) in runs.items():
        stated_accuracy, stated_eigenvalue = STATED[label]
        assert accuracy == pytest.approx(stated_accuracy, abs=0.04), label
        assert eigenvalue == pytest.approx(stated_eigenvalue, rel=0.25), label
    assert runs["SAM(Adam), rho 0.3"][0] > runs["Adam"][0] + 0.05
    eigenvalues = [runs[label][1] for label in STATED]
    assert eigenvalues == sorted(eigenvalues, reverse=True)
    ratios = [float(r) for r in re.findall(r"s an epoch, (\S+) x Adam's$", text, re.M)]
    assert len(ratios) == 3 and ratios[0] == 1.0 and all(0.5 < r < 3 for r in ratios)
