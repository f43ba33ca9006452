"""Lesson 2's sample submissions, to test the autograder on (see `autograder.samples`).

Correct ones in other styles, one per typical bug (each with the hint its failures must carry),
delegation, a notebook of the other lesson and broken ones. Every sample is built from the
committed student notebook, so none goes stale.
"""

from autograder.assignments.optimizers_2d.spec import ASSIGNMENT
from autograder.samples import Kit, Sample

KIT = Kit(ASSIGNMENT)
NESTEROV, ADAGRAD, RMSPROP = ASSIGNMENT.exercises.values()  # the grade_ids of the class cells

# --- Bodies ---------------------------------------------------------------------------------------

# Correct: arithmetic in float64 on state kept in the dicts keyed by var.ref(), cast back on assign.
NESTEROV_FLOAT64 = """
for g, var in zip(grads, vars):
    g = tf.cast(g, tf.float64)
    v = self.momentum * self.velocities.get(var.ref(), tf.constant(0.0, tf.float64))
    v = v + self.learning_rate * g
    self.velocities[var.ref()] = v
    x = tf.cast(var, tf.float64) - (self.momentum * v + self.learning_rate * g)
    var.assign(tf.cast(x, var.dtype))
"""
ADAGRAD_FLOAT64 = """
for g, var in zip(grads, vars):
    g = tf.cast(g, tf.float64)
    start = tf.fill(tf.shape(var), tf.constant(self.initial_accumulator_value, tf.float64))
    total = self.accumulators.get(var.ref(), start) + g * g
    self.accumulators[var.ref()] = total
    x = tf.cast(var, tf.float64) - self.learning_rate * g / tf.sqrt(total + self.epsilon)
    var.assign(tf.cast(x, var.dtype))
"""
RMSPROP_FLOAT64 = """
for g, var in zip(grads, vars):
    g = tf.cast(g, tf.float64)
    s = self.mean_squares.get(var.ref(), tf.zeros(tf.shape(var), tf.float64))
    s = self.rho * s + (1 - self.rho) * g * g
    self.mean_squares[var.ref()] = s
    x = tf.cast(var, tf.float64) - self.learning_rate * g / tf.sqrt(s + self.epsilon)
    var.assign(tf.cast(x, var.dtype))
"""

# Correct, Keras' way: m = momentum * m - lr * g, var += momentum * m - lr * g; slots in lists
# built on the first call (the same variables come in the same order at every call).
NESTEROV_KERAS = """
if not hasattr(self, "slots"):
    self.slots = [tf.Variable(tf.zeros_like(var)) for var in vars]
for m, g, var in zip(self.slots, grads, vars):
    m.assign(self.momentum * m - self.learning_rate * g)
    var.assign_add(self.momentum * m - self.learning_rate * g)
"""
ADAGRAD_LISTS = """
if not hasattr(self, "slots"):
    self.slots = [
        tf.Variable(tf.fill(tf.shape(var), float(self.initial_accumulator_value))) for var in vars
    ]
for i in range(len(vars)):
    self.slots[i].assign_add(tf.square(grads[i]))
    step = grads[i] * self.learning_rate / tf.sqrt(self.slots[i] + self.epsilon)
    vars[i].assign(vars[i] - step)
"""
RMSPROP_LISTS = """
if not hasattr(self, "slots"):
    self.slots = [tf.Variable(tf.zeros_like(var)) for var in vars]
for s, g, var in zip(self.slots, grads, vars):
    s.assign_add((1 - self.rho) * (tf.square(g) - s))
    var.assign_sub(self.learning_rate * g / tf.sqrt(s + self.epsilon))
"""

# One mean square for all the variables (fine for one variable, wrong for several).
RMSPROP_SHARED = """
for g, var in zip(grads, vars):
    self.s = self.rho * getattr(self, "s", 0.0) + (1 - self.rho) * tf.square(g)
    var.assign_sub(self.learning_rate * g / tf.sqrt(self.s + self.epsilon))
"""
# Hands the work to Keras inside the exercise.
NESTEROV_DELEGATES = """
if not hasattr(self, "keras"):
    self.keras = tf.keras.optimizers.SGD(self.learning_rate, self.momentum, nesterov=True)
self.keras.apply_gradients(zip(grads, vars))
"""


def solved(**bodies):
    return KIT.solved(bodies)


def bug(grade_id, *changes):
    """The student notebook solved, with the solution of `grade_id` edited by `changes`."""
    return KIT.notebook_builder(lambda: solved(**{grade_id: KIT.edited(grade_id, *changes)}))


per_class = KIT.per_class
_SAMPLES = [
    Sample("solution", "the solution notebook's bodies", KIT.notebook_builder(solved), per_class()),
    Sample(
        "untouched",
        "the student notebook as released, every body a stub",
        KIT.notebook_builder(KIT.student_notebook),
        per_class("zero"),
        messages=("not implemented",),
    ),
    Sample(
        "correct_float64",
        "state in dicts keyed by var.ref(), arithmetic in float64, cast back on assign",
        KIT.notebook_builder(
            lambda: KIT.with_bodies(
                {NESTEROV: NESTEROV_FLOAT64, ADAGRAD: ADAGRAD_FLOAT64, RMSPROP: RMSPROP_FLOAT64}
            )
        ),
        per_class(),
    ),
    Sample(
        "correct_keras_slots",
        "Keras' convention m = momentum * m - lr * g; slots in lists built on the first call",
        KIT.notebook_builder(
            lambda: KIT.with_bodies(
                {NESTEROV: NESTEROV_KERAS, ADAGRAD: ADAGRAD_LISTS, RMSPROP: RMSPROP_LISTS}
            )
        ),
        per_class(),
    ),
    # Typical bugs, one at a time.
    Sample(
        "nesterov_as_momentum",
        "Nesterov done as classical momentum: x <- x - v",
        bug(
            NESTEROV,
            (
                "var.assign_sub(self.momentum * velocity + self.learning_rate * g)",
                "var.assign_sub(velocity)",
            ),
        ),
        per_class(NesterovMomentum="partial"),
        hint="nesterov_as_momentum",
    ),
    Sample(
        "nesterov_lookahead_flipped",
        "Nesterov's look-ahead term added instead of subtracted",
        bug(
            NESTEROV,
            (
                "var.assign_sub(self.momentum * velocity + self.learning_rate * g)",
                "var.assign_sub(-self.momentum * velocity + self.learning_rate * g)",
            ),
        ),
        per_class(NesterovMomentum="partial"),
        hint="nesterov_lookahead_flipped",
    ),
    Sample(
        "adagrad_not_squared",
        "Adagrad's accumulator adds the gradient, not its square",
        bug(ADAGRAD, ("accumulator.assign_add(tf.square(g))", "accumulator.assign_add(g)")),
        per_class(Adagrad="defined-only"),
        hint="accumulator_not_squared",
    ),
    Sample(
        "adagrad_from_zero",
        "Adagrad's accumulator starts at zero, not at initial_accumulator_value",
        bug(ADAGRAD, ("tf.ones_like(var) * self.initial_accumulator_value", "tf.zeros_like(var)")),
        # Where the gradients are large (Rosenbrock's, Himmelblau's) 0.1 more changes nothing.
        per_class(Adagrad="partial"),
        must_fail=("Adagrad: other hyperparameters", "Adagrad: agrees with Keras"),
        hint="accumulator_from_zero",
    ),
    Sample(
        "adagrad_state_not_kept",
        "Adagrad's accumulator is created anew at every call",
        bug(
            ADAGRAD, ("if var.ref() not in self.accumulators:", "if True:  # a new one every call")
        ),
        per_class(Adagrad="defined-only"),
        hint="state_not_kept",
    ),
    Sample(
        "adagrad_epsilon_outside",
        "Adagrad's epsilon added outside the square root (Adam's rule)",
        bug(
            ADAGRAD,
            (
                "tf.sqrt(accumulator + self.epsilon)",
                "(tf.sqrt(accumulator) + self.epsilon)",
            ),
        ),
        per_class(Adagrad="partial"),
        must_fail=("Adagrad: other hyperparameters",),
        hint="epsilon_outside",
    ),
    Sample(
        "rmsprop_rho_swapped",
        "RMSprop's rho and 1 - rho swapped",
        bug(
            RMSPROP,
            (
                "self.rho * mean_square + (1 - self.rho) * tf.square(g)",
                "(1 - self.rho) * mean_square + self.rho * tf.square(g)",
            ),
        ),
        per_class(RMSprop="defined-only"),
        hint="rho_swapped",
    ),
    Sample(
        "rmsprop_sqrt_forgotten",
        "RMSprop divides by S + epsilon, not its square root",
        bug(RMSPROP, ("tf.sqrt(mean_square + self.epsilon)", "(mean_square + self.epsilon)")),
        per_class(RMSprop="defined-only"),
        hint="sqrt_forgotten",
    ),
    Sample(
        "rmsprop_shared_state",
        "one mean square for all the variables",
        KIT.notebook_builder(lambda: solved(**{RMSPROP: RMSPROP_SHARED})),
        per_class(RMSprop="partial"),
        must_fail=("RMSprop: several variables at once",),
        hint="shared_state",
    ),
    # Not an implementation, or not gradable.
    Sample(
        "nesterov_delegates",
        "NesterovMomentum calls Keras' SGD inside apply_gradients",
        KIT.notebook_builder(lambda: solved(**{NESTEROV: NESTEROV_DELEGATES})),
        per_class(NesterovMomentum="zero"),
        hint="delegation",
    ),
    Sample(
        "syntax_error_adagrad",
        "the Adagrad cell does not parse (a missing colon)",
        bug(ADAGRAD, ("zip(grads, vars):", "zip(grads, vars)")),
        per_class(Adagrad="zero"),
        messages=("Adagrad is not defined", "SyntaxError"),
    ),
    Sample(
        "lesson_1_notebook",
        "lesson 1's notebook submitted as lesson 2's: not graded",
        KIT.other_lesson(),
        {},
        messages=("optimizers_core",),
    ),
]

SAMPLES: dict[str, Sample] = {sample.name: sample for sample in _SAMPLES}
assert len(SAMPLES) == len(_SAMPLES), "sample names must be unique"
