"""Lesson 4's drivers: they run the student's SAM and functions in the sandbox, on the small
float64 problems of course_utils.sharpness_problems (loss, gradient and Hessian exact in NumPy).

- `sam`: SAM(Keras SGD or Adam, rho) for a few calls of minimize on "regression", eagerly,
  compiled, or the same instance eagerly then inside a tf.function; each row is the variables'
  values, then the loss minimize returned;
- `recording`: SAM around `Recorder`, a base optimizer that records what it is handed: the rows
  are the weights at apply time (the unperturbed w), the gradient received (the one at w + e)
  and the loss returned;
- `product`: hessian_vector_product for several vectors (rows), eagerly or compiled;
- `eigen`: top_hessian_eigenvalue with `hessian_vector_product` rebound, for the call, in the
  notebook's namespace to the exact product H v of the problem's NumPy Hessian (so that a wrong
  product costs only its own points); the path is the eigenvalue, then the eigenvector with the
  sign that makes its largest entry positive;
- `public`: the self-check's own cases (course_utils.selfcheck_sam), run by its runners.

The same functions run the solutions and the oracles when the references are built.
"""

import numpy as np

from autograder.guest.runner import ContractError
from course_utils import sharpness_problems

# TensorFlow is imported where a driver runs (the sandbox preloads it): the grader reads
# `vectors` for its hints without it.

PRODUCT_NAME = "hessian_vector_product"


def check_exercise(name, obj):
    """What "is defined" means: SAM a class with minimize, the others functions."""
    if name == "SAM":
        if not isinstance(obj, type):
            raise ContractError("SAM is not a class")
        if not callable(getattr(obj, "minimize", None)):
            raise ContractError("SAM has no minimize method")
    elif isinstance(obj, type) or not callable(obj):
        raise ContractError(f"{name} is not a function")


def vectors(problem, seed, direction=None):
    """The vector v of H v, as float64 arrays shaped like the problem's variables: a normal
    draw from (problem, seed), or the unit vector along the flat index `direction`."""
    size = len(sharpness_problems.flatten(sharpness_problems.problem(problem).values))
    if direction is not None:
        flat = np.eye(size)[direction]
    else:
        flat = np.random.default_rng([sharpness_problems.NAMES.index(problem), seed]).normal(
            size=size
        )
    return sharpness_problems.unflatten(flat)


def flat(values):
    """Every element of every array of `values`, in order, as Python floats."""
    return [float(v) for x in values for v in np.ravel(np.asarray(x, dtype=np.float64))]


def _tf():
    import tensorflow

    return tensorflow


# --- SAM ----------------------------------------------------------------------------------------


def _keras(base, kwargs, variables):
    from course_utils import selfcheck_sam

    return selfcheck_sam.keras_optimizer((base, kwargs), variables)


def sam(cls, base, kwargs, rho, seed, steps, mode="eager", switch=0, shapes=None):
    """`steps` calls of cls(Keras `base`(**kwargs), rho=rho).minimize on "regression" (seed).

    mode "eager", "compiled" (every call in one tf.function) or "switch" (the same instance
    eagerly for `switch` calls, then compiled). {"start": row, "path": rows of the variables'
    values then the loss returned}. (`shapes` only describes the case to the grader.)"""
    tf = _tf()
    p = sharpness_problems.problem("regression", seed)
    variables = p.variables()
    optimizer = cls(_keras(base, kwargs, variables), rho=rho)
    loss_fn = p.loss_fn(variables)
    compiled = tf.function(optimizer.minimize)  # the student's code, converted
    path = []
    for step in range(steps):
        eager = mode == "eager" or (mode == "switch" and step < switch)
        call = optimizer.minimize if eager else compiled
        loss = call(loss_fn, variables)
        path.append(flat(v.numpy() for v in variables) + [float(loss)])
    return {"start": flat(p.values) + [p.loss(p.values)], "path": path}


class Recorder:
    """A base optimizer that records the weights it finds and the gradients it is handed, then
    takes a plain gradient step."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate
        self.calls = []

    def apply_gradients(self, grads_and_vars):
        pairs = list(grads_and_vars)
        self.calls.append(flat(v.numpy() for _, v in pairs) + flat(g.numpy() for g, _ in pairs))
        for g, v in pairs:
            v.assign_sub(self.learning_rate * g)


def recording(cls, rho, seed, steps, kwargs, shapes=None):
    """SAM around a Recorder, eagerly: {"path": rows of the weights at apply time, the gradient
    handed over and the loss returned}."""
    p = sharpness_problems.problem("regression", seed)
    variables = p.variables()
    recorder = Recorder(kwargs["learning_rate"])
    optimizer = cls(recorder, rho=rho)
    loss_fn = p.loss_fn(variables)
    losses = [float(optimizer.minimize(loss_fn, variables)) for _ in range(steps)]
    if len(recorder.calls) != steps:
        raise ValueError(f"{steps} calls of minimize applied {len(recorder.calls)} updates")
    return {"path": [row + [loss] for row, loss in zip(recorder.calls, losses)]}


# --- hessian_vector_product ---------------------------------------------------------------------


def product(cls, problem, seed, vector_seeds, directions=(), compiled=False, shapes=None):
    """H v for each vector of `vector_seeds` (random) and `directions` (unit), at the problem's
    point: {"path": one row of H v per vector}."""
    tf = _tf()
    p = sharpness_problems.problem(problem, seed)
    variables = p.variables()
    loss_fn = p.loss_fn(variables)
    call = tf.function(cls) if compiled else cls  # the student's code, converted
    rows = []
    chosen = [vectors(problem, s) for s in vector_seeds] + [
        vectors(problem, 0, d) for d in directions
    ]
    for v in chosen:
        v = [tf.constant(x) for x in v]
        answer = call(loss_fn, variables, v)
        if len(answer) != len(variables):
            raise ValueError(f"{len(variables)} variables in, {len(answer)} products out")
        rows.append(flat(np.asarray(a) for a in answer))
    return {"path": rows}


# --- top_hessian_eigenvalue ---------------------------------------------------------------------


def exact_product(p):
    """hessian_vector_product's interface, computed from the problem's exact NumPy Hessian at
    its point (where power iteration reads it)."""
    tf = _tf()
    hessian = tf.constant(p.hessian(p.values))

    def hessian_vector_product(loss_fn, variables, vectors):
        v = tf.concat([tf.reshape(tf.cast(x, tf.float64), [-1]) for x in vectors], axis=0)
        hv = tf.linalg.matvec(hessian, v)
        sizes = [int(np.prod(shape)) for shape in sharpness_problems.SHAPES]
        pieces = tf.split(hv, sizes)
        return [
            tf.cast(tf.reshape(x, shape), var.dtype)
            for x, shape, var in zip(pieces, sharpness_problems.SHAPES, variables)
        ]

    return hessian_vector_product


def _namespace(function):
    function = getattr(function, "python_function", function)  # a tf.function's Python function
    namespace = getattr(function, "__globals__", None)
    if not isinstance(namespace, dict):
        raise ContractError("top_hessian_eigenvalue is not a Python function")
    return namespace


def signed(vector):
    """`vector` times the sign of its largest-magnitude entry (eigenvectors are known up to
    sign)."""
    vector = np.asarray(vector, dtype=np.float64)
    top = vector[np.argmax(np.abs(vector))] if vector.size else 0.0
    return vector * (-1.0 if top < 0 else 1.0)


def eigen(cls, problem, seed, iterations=50, start_seed=0):
    """top_hessian_eigenvalue(loss_fn, variables, iterations, start_seed) at the problem's point,
    with the exact product: {"path": [eigenvalue, the eigenvector's entries, signed]}."""
    p = sharpness_problems.problem(problem, seed)
    variables = p.variables()
    namespace = _namespace(cls)
    missing = object()
    own = namespace.get(PRODUCT_NAME, missing)
    namespace[PRODUCT_NAME] = exact_product(p)
    try:
        eigenvalue, vector = cls(p.loss_fn(variables), variables, iterations, start_seed)
    finally:
        if own is missing:
            namespace.pop(PRODUCT_NAME, None)
        else:
            namespace[PRODUCT_NAME] = own
    row = flat(np.asarray(v) for v in vector)
    return {"path": [float(np.asarray(eigenvalue))] + signed(row).tolist()}


# --- Public cases: the self-check's own ---------------------------------------------------------


def public(cls, exercise, index, shapes=None, kwargs=None):
    """The self-check's public case `index` of `exercise` (`course_utils.selfcheck_sam`), run by
    its own runner: {"path": ...} flat like the hidden cases' (the eigenvector signed)."""
    from course_utils import selfcheck_sam

    case = selfcheck_sam.public_cases(exercise)[index]
    answer = selfcheck_sam.RUNNERS[exercise](cls, case)
    if exercise == "SAM":
        return {"path": [flat(row[1:]) + [float(row[0])] for row in answer]}
    if exercise == PRODUCT_NAME:
        return {"path": flat(answer)}
    eigenvalue, vector = answer
    return {"path": [float(eigenvalue)] + signed(flat(vector)).tolist()}


DRIVERS = {
    "sam": sam,
    "recording": recording,
    "product": product,
    "eigen": eigen,
    "public": public,
}


def run_case(cls, driver, params):
    """Run one case: `params` are the keyword arguments of the named driver."""
    return DRIVERS[driver](cls, **params)
