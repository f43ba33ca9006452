"""What a wrong answer of lesson 4's exercises most likely means, found by a bug oracle.

Each `diagnose_*` replays, in float64 NumPy on a problem of course_utils.sharpness_problems, the
correct rule and every typical wrong one of an exercise, and names the one wrong rule that
explains the student's answer where the correct rule does not (None when the answer is right,
when no single mistake explains it, or when the answer is not numbers of the right shapes):

- `diagnose_sam(problem_name, seed, rho, base, steps, got_path, compiled=False, epsilon=1e-12)`:
  `got_path` holds the variables after each of `steps` calls of SAM(base).minimize;
- `diagnose_hvp(problem_name, seed, vectors, got, values=None)`: `got` is H v;
- `diagnose_eigen(problem_name, seed, got_eigenvalue, got_vector=None)`: what
  top_hessian_eigenvalue returned at the problem's point;
- `diagnose_exception(message, compiled, exercise=None)`: the key of an error that names a mistake.

Variables' values are lists of arrays shaped like the problem's (W, b, s) or flat vectors.
No TensorFlow here: the grader imports this module outside the sandbox.
"""

import functools

import numpy as np

from course_utils import hints as lesson_1
from course_utils import sharpness_problems
from course_utils.hints_training import _unique

# Mistakes of every lesson keep lesson 1's words.
SHARED = ("no_update", "timeout", "delegation")

HINTS = {key: lesson_1.HINTS[key] for key in SHARED} | {
    "not_implemented": "Your code still raises NotImplementedError: replace the stub (the line "
    "`raise NotImplementedError`) with your own code.",
    # SAM
    "sam_not_restored": "After your step the weights are off by the perturbation: the weights "
    "must be put back exactly where they were (save them with tf.identity before moving them, "
    "then assign them back) before the base optimizer applies the second gradient.",
    "sam_per_tensor_norm": "Each variable's perturbation was scaled by its own gradient's norm: "
    "SAM moves all the variables together, e = rho * g / (||g|| + epsilon), where ||g|| is one "
    "norm over every gradient, sqrt(sum over the variables of tf.reduce_sum(tf.square(g))).",
    "sam_first_gradient": "Your steps are plain steps of the base optimizer: it must be handed "
    "the gradient taken at the perturbed weights w + e, not the first gradient taken at w.",
    "sam_downhill": "Your perturbation goes downhill: SAM looks for the worst nearby loss, so it "
    "moves the weights up the gradient, w + rho * g / (||g|| + epsilon), not w - ...",
    "sam_python_float_norm": "Your SAM works eagerly but not inside tf.function: the norm was "
    "turned into a Python float (float(...), .numpy()), which a graph cannot do, or which is "
    "frozen at its value while tracing. Keep every quantity a tensor: tf.sqrt, tf.add_n, "
    "tf.reduce_sum.",
    # hessian_vector_product
    "hvp_gradient_times_vector": "Your product is the gradient times the vector, g * v: the "
    "Hessian-vector product is the gradient of the scalar g . v (sum over the variables of "
    "tf.reduce_sum(g * v)) with respect to the variables, taken by an outer tape around the "
    "inner one that computes g.",
    # top_hessian_eigenvalue
    "power_not_normalised": "Your vectors were never normalised: power iteration divides H v by "
    "its norm (one norm over all the variables together) at every iteration, or the numbers "
    "grow or shrink without bound and the vector returned is not a unit vector.",
    "eigen_norm_not_signed": "Your eigenvalue has the right size but no sign: ||H v|| is "
    "|lambda|. The signed eigenvalue is the Rayleigh quotient v . H v for the unit vector v "
    "(negative at a saddle).",
}

# The same mistakes named for an instructor (the class report ranks them).
MISTAKES = {key: lesson_1.MISTAKES[key] for key in SHARED} | {
    "not_implemented": "exercise not written (still raises NotImplementedError)",
    "sam_not_restored": "SAM: weights not restored after the perturbation",
    "sam_per_tensor_norm": "SAM: each tensor normalised by its own norm, not the global norm",
    "sam_first_gradient": "SAM: the first gradient applied instead of the perturbed one",
    "sam_downhill": "SAM: perturbation taken downhill (w - e)",
    "sam_python_float_norm": "SAM: norm a Python float (breaks under tf.function)",
    "hvp_gradient_times_vector": "Hessian-vector product returned as gradient times vector",
    "power_not_normalised": "power iteration without normalisation",
    "eigen_norm_not_signed": "eigenvalue returned as ||H v|| instead of the signed v . H v",
}

# Agreement: |got - predicted| <= RTOL * scale + GRAIN * |values| + TINY, with scale the size of
# the step (or product); float32 code passes, every mistake misses by far more.
RTOL = 1e-4
GRAIN = 2.0**-23
TINY = 1e-30
FEW = 10  # steps compared beyond the first one the correct rule does not explain
BASES = {
    "sgd": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
}


@functools.cache
def _problem(name, seed):
    return sharpness_problems.problem(name, seed)


def _numeric(value):
    """`value` as a float64 array when it holds numbers (not strings, None or objects)."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return array.astype(np.float64) if array.dtype.kind in "biuf" else None


def _flat(values, size):
    """`values` (arrays like the problem's variables, or one flat vector) as a float64 vector of
    `size` numbers, or None when it is not numbers of those shapes."""
    if isinstance(values, (list, tuple)) and len(values) == len(sharpness_problems.SHAPES):
        arrays = [_numeric(v) for v in values]
        shapes = [tuple(shape) for shape in sharpness_problems.SHAPES]
        if any(a is None for a in arrays) or [a.shape for a in arrays] != shapes:
            return None
        return sharpness_problems.flatten(arrays)
    flat = _numeric(values)
    return flat if flat is not None and flat.shape == (size,) else None


def _number(value):
    number = _numeric(value)
    return float(number.ravel()[0]) if number is not None and number.size == 1 else None


# --- SAM ----------------------------------------------------------------------------------------


# A Python float in the norm fails to trace (diagnose_exception names it), so compiled and eager
# calls share these rules.
SAM_RULES = [
    (None, {}),
    ("sam_not_restored", {"restore": False}),
    ("sam_per_tensor_norm", {"norm": "per_tensor"}),
    ("sam_first_gradient", {"gradient": "first"}),
    ("sam_downhill", {"sign": -1.0}),
    ("no_update", {"base": False}),
]


def _sam_gradients(p, points, rho, epsilon, mistake):
    """(gradient handed to the base optimizer, perturbation e) at each of `points` (teacher
    forcing: the student's own weights before each call)."""
    sizes = [int(np.prod(shape)) for shape in sharpness_problems.SHAPES]
    handed, perturbations = [], []
    for x in points:
        g = sharpness_problems.flatten(p.gradient(sharpness_problems.unflatten(x)))
        if mistake.get("norm") == "per_tensor":
            pieces = np.split(g, np.cumsum(sizes)[:-1])
            norm = np.concatenate([np.full(len(q), np.linalg.norm(q)) for q in pieces])
        else:
            norm = np.linalg.norm(g)
        e = mistake.get("sign", 1.0) * rho * g / (norm + epsilon)
        sharp = sharpness_problems.flatten(p.gradient(sharpness_problems.unflatten(x + e)))
        handed.append(g if mistake.get("gradient") == "first" else sharp)
        perturbations.append(e)
    return np.array(handed), np.array(perturbations)


def _base_moves(kind, hp, gradients):
    """x_(t-1) - x_t of Keras' SGD or Adam fed `gradients` one call after the other."""
    moves = np.empty_like(gradients)
    first, second = np.zeros_like(gradients[0]), np.zeros_like(gradients[0])
    lr = hp["learning_rate"]
    for t, g in enumerate(gradients, start=1):
        if kind == "adam":
            b1, b2 = hp["beta_1"], hp["beta_2"]
            alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
            first = first + (g - first) * (1 - b1)
            second = second + (g * g - second) * (1 - b2)
            moves[t - 1] = first * alpha / (np.sqrt(second) + hp["epsilon"])
        elif hp["momentum"]:
            first = first * hp["momentum"] - g * lr
            step = first * hp["momentum"] - g * lr if hp["nesterov"] else first
            moves[t - 1] = -step
        else:
            moves[t - 1] = g * lr
    return moves


def _base_settings(base):
    if not isinstance(base, (list, tuple)) or len(base) != 2 or base[0] not in BASES:
        return None, None
    kind, kwargs = base
    if not isinstance(kwargs, dict) or not set(kwargs) <= set(BASES[kind]):
        return None, None
    hp = BASES[kind] | kwargs
    if not all(isinstance(v, (bool, int, float)) and np.isfinite(v) for v in hp.values()):
        return None, None
    return kind, hp


def diagnose_sam(
    problem_name, seed, rho, base, steps, got_path, compiled=False, epsilon=1e-12
) -> str | None:
    """The key of the likeliest mistake behind the path `got_path` of SAM(base, rho, epsilon)
    on sharpness_problems.problem(problem_name, seed), started at its point, or None.

    `base`: ("sgd", kwargs) or ("adam", kwargs), the Keras optimizer's arguments (learning_rate,
    momentum, nesterov; learning_rate, beta_1, beta_2, epsilon; missing ones take Keras'
    defaults); `got_path`: after each of the `steps` calls of minimize, the variables' values;
    `compiled`: whether the calls ran in a tf.function (the same rules hold: a norm made a Python
    float fails to trace, which `diagnose_exception` names).
    Each call is replayed from the student's own weights before it; every step up to FEW past
    the first one the correct rule does not explain must agree with the one wrong rule named."""
    kind, hp = _base_settings(base)
    rho, epsilon = _number(rho), _number(epsilon)
    if kind is None or rho is None or epsilon is None or not isinstance(got_path, (list, tuple)):
        return None
    if not isinstance(steps, (int, np.integer)) or not 0 < steps == len(got_path):
        return None
    p = _problem(problem_name, seed)
    start = sharpness_problems.flatten(p.values)
    rows = [_flat(values, len(start)) for values in got_path]
    if any(row is None for row in rows):
        return None
    points = np.array([start, *rows])
    before, after = points[:-1], points[1:]
    if not np.isfinite(before).all():
        return None

    def agreement(mistake):
        gradients, perturbations = _sam_gradients(p, before, rho, epsilon, mistake)
        moves = _base_moves(kind, hp, gradients) * mistake.get("base", True)
        if not mistake.get("restore", True):
            moves = moves - perturbations
        predicted = before - moves
        scale = np.abs(moves).max(axis=1, keepdims=True)
        agree = np.abs(after - predicted) <= RTOL * scale + GRAIN * np.abs(predicted) + TINY
        return agree.all(axis=1)

    with np.errstate(all="ignore"):
        (_, correct), *wrong = SAM_RULES
        explained = agreement(correct)
        if explained.all():
            return None
        window = min(len(explained), int(np.argmin(explained)) + 1 + FEW)
        found = set()
        for key, mistake in wrong:
            agree = agreement(mistake)
            if agree[:window].all() and (~explained[:window]).any():
                found.add(key)
    return _unique(found)


# --- hessian_vector_product ---------------------------------------------------------------------


def diagnose_hvp(problem_name, seed, vectors, got, values=None) -> str | None:
    """The key of the likeliest mistake behind `got`, what hessian_vector_product returned for
    `vectors` on sharpness_problems.problem(problem_name, seed) at `values` (its point by
    default), or None."""
    p = _problem(problem_name, seed)
    point = sharpness_problems.flatten(p.values if values is None else values)
    size = len(point)
    v, answer = _flat(vectors, size), _flat(got, size)
    if v is None or answer is None or not np.isfinite(v).all():
        return None
    hessian = p.hessian(sharpness_problems.unflatten(point))
    gradient = sharpness_problems.flatten(p.gradient(sharpness_problems.unflatten(point)))
    rules = [(None, hessian @ v, np.abs(hessian) @ np.abs(v))]
    rules.append(("hvp_gradient_times_vector", gradient * v, np.abs(gradient * v)))
    with np.errstate(all="ignore"):

        def agrees(predicted, scale):
            tolerance = RTOL * scale.max() + GRAIN * np.abs(predicted) + TINY
            return bool(np.all(np.abs(answer - predicted) <= tolerance))

        (_, product, scale), *wrong = rules
        if agrees(product, scale):
            return None
        found = {
            key
            for key, rule, rule_scale in wrong
            if agrees(rule, rule_scale) and not agrees(np.zeros(size), rule_scale)
        }
        return _unique(found)


# --- top_hessian_eigenvalue ---------------------------------------------------------------------


def diagnose_eigen(problem_name, seed, got_eigenvalue, got_vector=None) -> str | None:
    """The key of the likeliest mistake behind (got_eigenvalue, got_vector), what
    top_hessian_eigenvalue returned at sharpness_problems.problem(problem_name, seed)'s point,
    or None.

    An eigenvalue of the right size with the wrong sign is ||H v|| (= |lambda|) returned for
    v . H v; a vector far from unit length, or numbers that overflowed, are vectors never
    normalised."""
    p = _problem(problem_name, seed)
    eigenvalues, eigenvectors = np.linalg.eigh(p.hessian(p.values))
    top = int(np.argmax(np.abs(eigenvalues)))
    value, vector = eigenvalues[top], eigenvectors[:, top]
    got = _number(got_eigenvalue)
    if got is None:
        return None
    with np.errstate(all="ignore"):
        flat = None if got_vector is None else _flat(got_vector, len(vector))
        if flat is not None:
            norm = np.linalg.norm(flat)
            if not np.isfinite(norm) or abs(norm - 1.0) > 1e-3:
                return "power_not_normalised"
        if not np.isfinite(got) or not 1e-3 < abs(got / value) < 1e3:
            return "power_not_normalised"
        if value < 0 and abs(got + value) <= 1e-4 * abs(value):
            return "eigen_norm_not_signed"
    return None


def diagnose_exception(message: str, compiled: bool, exercise: str | None = None) -> str | None:
    """The key of an error whose text names a mistake: under tf.function, a tensor turned into a
    Python or NumPy number (float(), .numpy(), math or NumPy functions on a tensor; AutoGraph
    turns float(x) into a float32 cast, which float64 variables then refuse) in SAM's norm."""
    text = str(message)
    symbolic = (
        "SymbolicTensor" in text
        or "Cannot convert a symbolic" in text
        or ("float32" in text and "float64" in text)  # a float32 cast met float64 tensors
    )
    if compiled and symbolic and exercise in (None, "SAM"):
        return "sam_python_float_norm"
    if "NotImplementedError" in text and "symbolic" not in text:
        return "not_implemented"
    return None
