"""Lesson 4's bug oracle: does each typical mistake, written in TensorFlow as a student would,
get its own hint on several problems, a correct answer none, and garbage none?

The exercises below are TensorFlow code, independent of the NumPy rules they are judged by.
"""

import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from course_utils import hints_sam as hints
from course_utils.hints_sam import diagnose_eigen, diagnose_exception, diagnose_hvp, diagnose_sam
from course_utils.sharpness_problems import problem

SEEDS = (0, 1, 2)

# --- the exercises, right and wrong -------------------------------------------------------------


def _norm(tensors):
    return tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(t)) for t in tensors]))


class SAM(tf.Module):
    """Sharpness-aware minimization around a Keras optimizer, or one of its typical mistakes."""

    def __init__(self, base_optimizer, rho=0.05, epsilon=1e-12, bug=None):
        super().__init__()
        self.base_optimizer, self.rho, self.epsilon, self.bug = base_optimizer, rho, epsilon, bug

    def minimize(self, loss_fn, variables):
        with tf.GradientTape() as tape:
            loss = loss_fn()
        grads = tape.gradient(loss, variables)
        if self.bug == "sam_python_float_norm":
            norms = [float(_norm(grads))] * len(grads)
        elif self.bug == "sam_per_tensor_norm":
            norms = [_norm([g]) for g in grads]
        else:
            norms = [_norm(grads)] * len(grads)
        sign = -1.0 if self.bug == "sam_downhill" else 1.0
        saved = [tf.identity(v) for v in variables]
        for v, g, norm in zip(variables, grads, norms):
            v.assign_add(sign * self.rho * g / (norm + self.epsilon))
        with tf.GradientTape() as tape:
            sharp_loss = loss_fn()
        sharp = tape.gradient(sharp_loss, variables)
        if self.bug != "sam_not_restored":
            for v, w in zip(variables, saved):
                v.assign(w)
        handed = grads if self.bug == "sam_first_gradient" else sharp
        if self.bug != "no_update":
            self.base_optimizer.apply_gradients(zip(handed, variables))
        return loss


SAM_BUGS = (
    "sam_not_restored",
    "sam_per_tensor_norm",
    "sam_first_gradient",
    "sam_downhill",
    "no_update",
)
BASES = (("sgd", {"learning_rate": 0.1}), ("adam", {"learning_rate": 0.05}))


def keras(base):
    kind, kwargs = base
    return {"sgd": tf.keras.optimizers.SGD, "adam": tf.keras.optimizers.Adam}[kind](**kwargs)


def sam_path(seed, base, rho, steps, bug=None, compiled=False):
    """The variables after each of `steps` calls of SAM(base).minimize on "regression"."""
    p = problem("regression", seed)
    variables = p.variables()
    optimizer = keras(base)
    optimizer.build(variables)
    sam = SAM(optimizer, rho=rho, bug=bug)
    loss_fn = p.loss_fn(variables)
    step = tf.function(lambda: sam.minimize(loss_fn, variables)) if compiled else None
    path = []
    for _ in range(steps):
        step() if compiled else sam.minimize(loss_fn, variables)
        path.append([v.numpy() for v in variables])
    return path


def hessian_vector_product(loss_fn, variables, vectors, bug=None):
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = loss_fn()
        grads = inner.gradient(loss, variables)
        if bug == "hvp_gradient_times_vector":
            return [g * v for g, v in zip(grads, vectors)]
        dot = tf.add_n([tf.reduce_sum(g * v) for g, v in zip(grads, vectors)])
    return outer.gradient(dot, variables)


def top_hessian_eigenvalue(loss_fn, variables, iterations=50, seed=0, bug=None):
    vectors = [
        tf.random.stateless_normal(tf.shape(v), seed=[seed, i], dtype=v.dtype)
        for i, v in enumerate(variables)
    ]
    vectors = [u / _norm(vectors) for u in vectors]
    for _ in range(iterations):
        hv = hessian_vector_product(loss_fn, variables, vectors)
        eigenvalue = tf.add_n([tf.reduce_sum(h * u) for h, u in zip(hv, vectors)])
        if bug == "eigen_norm_not_signed":
            eigenvalue = _norm(hv)
        vectors = hv if bug == "power_not_normalised" else [h / _norm(hv) for h in hv]
    return eigenvalue, vectors


def random_vectors(p, seed):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=np.shape(value)) for value in p.values]


# --- SAM ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("base", BASES, ids=lambda base: base[0])
@pytest.mark.parametrize("bug", (None, *SAM_BUGS))
def test_sam_mistakes_are_named(bug, base):
    """Does each SAM mistake get its key, for both base optimizers and several seeds and rho,
    and the correct SAM none?"""
    for seed, rho in zip(SEEDS, (0.05, 0.2, 0.01)):
        path = sam_path(seed, base, rho, steps=4, bug=bug)
        assert diagnose_sam("regression", seed, rho, base, 4, path) == bug, (seed, rho)


def test_sam_with_momentum_and_keras_defaults():
    """Are Keras SGD with Nesterov momentum and Adam with its defaults replayed exactly?"""
    for base in (("sgd", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}), ("adam", {})):
        assert diagnose_sam("regression", 0, 0.05, base, 5, sam_path(0, base, 0.05, 5)) is None
        wrong = sam_path(0, base, 0.05, 5, bug="sam_first_gradient")
        assert diagnose_sam("regression", 0, 0.05, base, 5, wrong) == "sam_first_gradient"


def test_python_float_norm_fails_only_compiled():
    """Does a Python float in the norm work eagerly and, compiled, fail with an error whose
    hint is its key?"""
    base = BASES[0]
    path = sam_path(0, base, 0.05, 3, bug="sam_python_float_norm")
    assert diagnose_sam("regression", 0, 0.05, base, 3, path) is None
    with pytest.raises(Exception) as error:  # noqa: B017 - whatever TensorFlow raises
        sam_path(0, base, 0.05, 1, bug="sam_python_float_norm", compiled=True)
    message = f"{type(error.value).__name__}: {error.value}"
    assert diagnose_exception(message, compiled=True, exercise="SAM") == "sam_python_float_norm"
    assert diagnose_exception(message, compiled=False, exercise="SAM") is None


@pytest.mark.parametrize(
    "message",
    [
        "AttributeError: 'SymbolicTensor' object has no attribute 'numpy'",
        "NotImplementedError: Cannot convert a symbolic tf.Tensor (Sum:0) to a numpy array.",
        "TypeError: must be real number, not SymbolicTensor",
    ],
)
def test_other_ways_to_a_python_number_are_named(message):
    assert diagnose_exception(message, compiled=True) == "sam_python_float_norm"
    assert diagnose_exception(message, compiled=True, exercise="hessian_vector_product") is None


def test_a_stub_is_named():
    assert diagnose_exception("NotImplementedError: ", compiled=False) == "not_implemented"


def test_compiled_correct_sam_gets_no_hint():
    base = BASES[1]
    path = sam_path(1, base, 0.1, 3, compiled=True)
    assert diagnose_sam("regression", 1, 0.1, base, 3, path, compiled=True) is None


@pytest.mark.parametrize(
    "got",
    [None, "path", [[1.0]], [[np.zeros((3, 4)), np.zeros(4)]], [[np.full((3, 4), np.nan)] * 3]],
)
def test_sam_garbage_gets_no_hint(got):
    steps = len(got) if isinstance(got, list) else 1
    assert diagnose_sam("regression", 0, 0.05, BASES[0], steps, got) is None


def test_sam_refuses_settings_it_does_not_know():
    path = sam_path(0, BASES[0], 0.05, 2, bug="sam_downhill")
    assert diagnose_sam("regression", 0, 0.05, ("rmsprop", {}), 2, path) is None
    assert diagnose_sam("regression", 0, 0.05, ("sgd", {"clipnorm": 1.0}), 2, path) is None
    assert diagnose_sam("regression", 0, "rho", BASES[0], 2, path) is None
    assert diagnose_sam("regression", 0, 0.05, BASES[0], 3, path) is None


# --- hessian_vector_product ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ("regression", "minimum", "saddle"))
def test_hvp_mistake_is_named_and_the_product_is_not(name):
    """Is g * v named wherever the gradient is not zero (at the stationary points it is zero
    and says nothing), and H v never?"""
    for seed in SEEDS:
        p = problem(name, seed)
        variables = p.variables()
        loss_fn = p.loss_fn(variables)
        vectors = random_vectors(p, seed)
        right = hessian_vector_product(loss_fn, variables, vectors)
        assert diagnose_hvp(name, seed, vectors, right) is None
        wrong = hessian_vector_product(loss_fn, variables, vectors, "hvp_gradient_times_vector")
        expected = "hvp_gradient_times_vector" if name == "regression" else None
        assert diagnose_hvp(name, seed, vectors, wrong) == expected


def test_hvp_at_another_point():
    p = problem("regression", 0)
    values = [value + 0.3 for value in p.values]
    variables = [tf.Variable(value) for value in values]
    vectors = random_vectors(p, 5)
    right = hessian_vector_product(p.loss_fn(variables), variables, vectors)
    assert diagnose_hvp("regression", 0, vectors, right, values=values) is None
    wrong = hessian_vector_product(
        p.loss_fn(variables), variables, vectors, "hvp_gradient_times_vector"
    )
    assert (
        diagnose_hvp("regression", 0, vectors, wrong, values=values) == "hvp_gradient_times_vector"
    )


@pytest.mark.parametrize("got", [None, [1.0, 2.0], "Hv", [np.zeros((4, 3)), np.zeros(4), 0.0]])
def test_hvp_garbage_gets_no_hint(got):
    p = problem("regression", 0)
    assert diagnose_hvp("regression", 0, random_vectors(p, 0), got) is None


# --- top_hessian_eigenvalue ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ("minimum", "saddle"))
@pytest.mark.parametrize("bug", (None, "power_not_normalised", "eigen_norm_not_signed"))
def test_eigen_mistakes_are_named(name, bug):
    """Is each power-iteration mistake named where it shows (a missing sign only at a saddle)?"""
    for seed in SEEDS:
        p = problem(name, seed)
        variables = p.variables()
        value, vectors = top_hessian_eigenvalue(p.loss_fn(variables), variables, seed=seed, bug=bug)
        expected = None if (bug == "eigen_norm_not_signed" and name == "minimum") else bug
        assert diagnose_eigen(name, seed, value, vectors) == expected
        if bug != "power_not_normalised":
            assert diagnose_eigen(name, seed, value) == expected


@pytest.mark.parametrize("got", [(None, None), ("big", None), (1.0, [np.zeros(3)])])
def test_eigen_garbage_gets_no_hint(got):
    assert diagnose_eigen("saddle", 0, *got) is None


def test_every_key_has_a_hint_and_a_name():
    assert hints.HINTS.keys() == hints.MISTAKES.keys()
    for key in (*SAM_BUGS, "sam_python_float_norm", "hvp_gradient_times_vector"):
        assert key in hints.HINTS
    assert {"power_not_normalised", "eigen_norm_not_signed", *hints.SHARED} <= set(hints.HINTS)


def test_the_checks_import_no_tensorflow():
    """Do the problems, the hints and the self-checks import without TensorFlow (the grader
    reads them outside the sandbox)?"""
    code = (
        "import sys, course_utils.sharpness_problems, course_utils.hints_sam, "
        "course_utils.selfcheck_sam; print('tensorflow' in sys.modules)"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "False"
