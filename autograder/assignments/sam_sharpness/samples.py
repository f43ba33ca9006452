"""Lesson 4's sample submissions, to test the autograder on (see `autograder.samples`).

The solution, a correct variant in another style, one sample per typical bug of issue 13 (each
with the hint its failures must carry), delegation, hostile code, a broken cell, the untouched
notebook and lesson 1's notebook. Each is built from the committed student notebook: a graded
cell gets the solution notebook's cell (its solution markers dropped) or a whole cell of this
file (the variant and the bugs).
"""

from autograder.assignments.sam_sharpness.spec import ASSIGNMENT
from autograder.samples import Kit, Sample

KIT = Kit(ASSIGNMENT)
SAM, PRODUCT, EIGEN = ASSIGNMENT.exercises.values()  # the grade_ids of the graded cells

# --- Whole cells ----------------------------------------------------------------------------------

# Correct, another style: one norm of the concatenated gradients, the moves kept.
SAM_VARIANT = """
class SAM(tf.Module):
    def __init__(self, base_optimizer, rho=0.05, epsilon=1e-12):
        super().__init__()
        self.base_optimizer = base_optimizer
        self.rho = rho
        self.epsilon = epsilon

    def minimize(self, loss_fn, vars):
        vars = list(vars)
        with tf.GradientTape() as tape:
            loss = loss_fn()
        grads = tape.gradient(loss, vars)
        norm = tf.norm(tf.concat([tf.reshape(g, [-1]) for g in grads], axis=0))
        moves = [self.rho * g / (norm + self.epsilon) for g in grads]
        saved = [tf.identity(v) for v in vars]
        for v, e in zip(vars, moves):
            v.assign_add(e)
        with tf.GradientTape() as tape:
            perturbed = loss_fn()
        sharp = tape.gradient(perturbed, vars)
        for v, w in zip(vars, saved):
            v.assign(w)
        self.base_optimizer.apply_gradients(zip(sharp, vars))
        return loss
"""
# Correct, another style: the outer tape's output_gradients weigh the gradient by v.
PRODUCT_VARIANT = """
def hessian_vector_product(loss_fn, vars, vectors):
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = loss_fn()
        grads = inner.gradient(loss, vars)
    return outer.gradient(grads, vars, output_gradients=list(vectors))
"""
# Correct, another style: normalise first, the Rayleigh quotient of the normalised vector.
EIGEN_VARIANT = """
def top_hessian_eigenvalue(loss_fn, vars, iterations=50, seed=0):
    vars = list(vars)
    vectors = [
        tf.random.stateless_normal(tf.shape(v), seed=[seed, i], dtype=v.dtype)
        for i, v in enumerate(vars)
    ]
    for _ in range(iterations):
        norm = tf.linalg.global_norm(vectors)
        vectors = [u / norm for u in vectors]
        hv = hessian_vector_product(loss_fn, vars, vectors)
        eigenvalue = tf.add_n([tf.reduce_sum(h * u) for h, u in zip(hv, vectors)])
        vectors = hv
    norm = tf.linalg.global_norm(vectors)
    return eigenvalue, [u / norm for u in vectors]
"""


def edited(cell, *changes):
    for old, new in changes:
        if old not in cell:
            raise ValueError(f"{old!r} is not in the cell")
        cell = cell.replace(old, new)
    return cell


# --- One typical bug each (an edit of a variant cell) ---------------------------------------------

SAM_NOT_RESTORED = edited(
    SAM_VARIANT, ("            v.assign(w)", "            pass  # left at w + e")
)
SAM_PER_TENSOR = edited(
    SAM_VARIANT, ("g / (norm + self.epsilon)", "g / (tf.norm(g) + self.epsilon)")
)
SAM_FIRST_GRADIENT = edited(
    SAM_VARIANT, ("apply_gradients(zip(sharp, vars))", "apply_gradients(zip(grads, vars))")
)
SAM_DOWNHILL = edited(SAM_VARIANT, ("v.assign_add(e)", "v.assign_sub(e)"))
SAM_PYTHON_FLOAT = edited(
    SAM_VARIANT, ("norm = tf.norm(", "norm = float(tf.norm("), ("axis=0))", "axis=0)))")
)
PRODUCT_TIMES_VECTOR = """
def hessian_vector_product(loss_fn, vars, vectors):
    with tf.GradientTape() as tape:
        loss = loss_fn()
    grads = tape.gradient(loss, vars)
    return [g * v for g, v in zip(grads, vectors)]
"""
PRODUCT_DELEGATES = """
def hessian_vector_product(loss_fn, vars, vectors):
    hessians = tf.hessians(loss_fn(), vars)
    return [tf.tensordot(h, v, axes=v.shape.rank) for h, v in zip(hessians, vectors)]
"""
PRODUCT_SYNTAX_ERROR = edited(
    PRODUCT_VARIANT,
    (
        "def hessian_vector_product(loss_fn, vars, vectors):",
        "def hessian_vector_product(loss_fn, vars, vectors)",
    ),
)
EIGEN_NOT_NORMALISED = edited(
    EIGEN_VARIANT,
    (
        "        norm = tf.linalg.global_norm(vectors)\n"
        "        vectors = [u / norm for u in vectors]\n",
        "",
    ),
    ("return eigenvalue, [u / norm for u in vectors]", "return eigenvalue, vectors"),
)
EIGEN_NORM_NOT_SIGNED = edited(
    EIGEN_VARIANT,
    (
        "eigenvalue = tf.add_n([tf.reduce_sum(h * u) for h, u in zip(hv, vectors)])",
        "eigenvalue = tf.linalg.global_norm(hv)",
    ),
)
EIGEN_INFINITE_LOOP = edited(EIGEN_VARIANT, ("for _ in range(iterations):", "while True:"))

# --- Building notebooks ---------------------------------------------------------------------------


def built(**cells):
    """The notebook with the given whole cells, the solution's elsewhere."""
    return KIT.cells_builder(cells)


VARIANT = {SAM: SAM_VARIANT, PRODUCT: PRODUCT_VARIANT, EIGEN: EIGEN_VARIANT}


def variant(**bug):
    """The correct variant with the cells given replaced (one bug)."""
    return built(**(VARIANT | bug))


def sam_bug(name, description, cell, hint, must_fail=("SAM: around Keras SGD",), **more):
    return Sample(
        name,
        description,
        variant(**{SAM: cell}),
        per_class(SAM="partial"),
        must_fail=must_fail,
        hint=hint,
        **more,
    )


per_class = KIT.per_class
_SAMPLES = [
    Sample("solution", "the solution notebook's cells", built(), per_class()),
    Sample(
        "untouched",
        "the student notebook as released, every exercise a stub",
        KIT.notebook_builder(KIT.student_notebook),
        per_class("zero"),
        messages=("not implemented",),
    ),
    Sample(
        "correct_variant",
        "another style: one norm of the concatenated gradients, the outer tape's output_gradients, "
        "normalising before the product",
        variant(),
        per_class(),
    ),
    # Typical bugs, one at a time.
    sam_bug(
        "sam_not_restored",
        "the weights left at w + e before the base step",
        SAM_NOT_RESTORED,
        "sam_not_restored",
        must_fail=("SAM: around Keras SGD", "SAM: hands the base optimizer"),
    ),
    sam_bug(
        "sam_per_tensor_norm",
        "each variable's perturbation scaled by its own gradient's norm",
        SAM_PER_TENSOR,
        "sam_per_tensor_norm",
    ),
    sam_bug(
        "sam_first_gradient",
        "the base optimizer handed the gradient at w, not at w + e",
        SAM_FIRST_GRADIENT,
        "sam_first_gradient",
        must_fail=("SAM: around Keras SGD", "SAM: hands the base optimizer"),
    ),
    sam_bug("sam_downhill", "the perturbation taken downhill, w - e", SAM_DOWNHILL, "sam_downhill"),
    sam_bug(
        "sam_python_float_norm",
        "the norm a Python float: right eagerly, fails inside a tf.function",
        SAM_PYTHON_FLOAT,
        "sam_python_float_norm",
        must_fail=("SAM: in a tf.function",),
        must_pass=("SAM: around Keras SGD", "SAM: around Keras Adam"),
    ),
    Sample(
        "hvp_gradient_times_vector",
        "the product returned as the gradient times the vector (the eigenvalue, graded with the "
        "exact product, keeps its hidden points)",
        variant(**{PRODUCT: PRODUCT_TIMES_VECTOR}),
        per_class(hessian_vector_product="defined-only", top_hessian_eigenvalue="partial"),
        must_pass=("top_hessian_eigenvalue: at saddles",),
        hint="hvp_gradient_times_vector",
    ),
    Sample(
        "power_not_normalised",
        "power iteration that never normalises its vectors",
        variant(**{EIGEN: EIGEN_NOT_NORMALISED}),
        per_class(top_hessian_eigenvalue="defined-only"),
        hint="power_not_normalised",
    ),
    Sample(
        "eigen_norm_not_signed",
        "||H v|| returned as the eigenvalue: right at a minimum, wrong at a saddle",
        variant(**{EIGEN: EIGEN_NORM_NOT_SIGNED}),
        per_class(top_hessian_eigenvalue="partial"),
        must_fail=("top_hessian_eigenvalue: at saddles",),
        must_pass=("top_hessian_eigenvalue: at other minima",),
        hint="eigen_norm_not_signed",
    ),
    # Not an implementation, or not gradable.
    Sample(
        "hvp_delegates",
        "the product from tf.hessians (the full Hessian); the power iteration that calls it is "
        "not blamed for the delegation (each exercise is judged on its own) and keeps the cases "
        "where that product runs (tf.hessians raises eagerly: the notebook's own check fails)",
        variant(**{PRODUCT: PRODUCT_DELEGATES}),
        per_class(hessian_vector_product="zero", top_hessian_eigenvalue="partial"),
        must_fail=("top_hessian_eigenvalue: the notebook's checks",),
        must_pass=("top_hessian_eigenvalue: at saddles",),
        hint="delegation",
    ),
    Sample(
        "infinite_loop_eigen",
        "power iteration that never stops",
        variant(**{EIGEN: EIGEN_INFINITE_LOOP}),
        per_class(top_hessian_eigenvalue="zero"),
        messages=("time",),
    ),
    Sample(
        "syntax_error_product",
        "the hessian_vector_product cell does not parse (a missing colon); the power iteration "
        "keeps the points graded with the exact product",
        variant(**{PRODUCT: PRODUCT_SYNTAX_ERROR}),
        per_class(hessian_vector_product="zero", top_hessian_eigenvalue="partial"),
        must_fail=("top_hessian_eigenvalue: the notebook's checks",),
        must_pass=("top_hessian_eigenvalue: at saddles",),
        messages=("hessian_vector_product is not defined", "SyntaxError"),
    ),
    Sample(
        "lesson_1_notebook",
        "lesson 1's notebook submitted as lesson 4's: not graded",
        KIT.other_lesson(),
        {},
        messages=("optimizers_core",),
    ),
]

SAMPLES: dict[str, Sample] = {sample.name: sample for sample in _SAMPLES}
assert len(SAMPLES) == len(_SAMPLES), "sample names must be unique"
