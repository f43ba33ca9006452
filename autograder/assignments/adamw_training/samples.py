"""Lesson 3's sample submissions, to test the autograder on (see `autograder.samples`).

The solution, a correct variant in another style, one sample per typical bug (each with the hint
its failures must carry), delegation, a training that does not learn, a broken cell, the
untouched notebook and lesson 1's notebook. Each is built from the committed student notebook:
a graded cell gets the solution notebook's cell (its solution markers dropped) or a whole cell of
this file (the variant and the bugs: the solution's text is not needed, so none goes stale).
"""

from autograder.assignments.adamw_training.spec import ASSIGNMENT
from autograder.samples import Kit, Sample

KIT = Kit(ASSIGNMENT)
CLIP, SCHEDULE, ADAMW = ASSIGNMENT.exercises.values()  # the grade_ids of the graded cells

# --- Whole cells ----------------------------------------------------------------------------------

# Correct, another style: the norm's square root of a sum of squares, a tf.where.
CLIP_VARIANT = """
def clip_by_global_norm(grads, clip_norm):
    squares = [tf.reduce_sum(tf.square(tf.cast(g, tf.float32))) for g in grads]
    global_norm = tf.sqrt(tf.add_n(squares))
    factor = tf.where(global_norm > clip_norm, clip_norm / global_norm, 1.0)
    return [g * factor for g in grads], global_norm
"""
# Correct, another style: the step clamped with tf.minimum, both branches computed.
SCHEDULE_VARIANT = """
class WarmupCosineDecay:
    def __init__(self, peak_learning_rate, warmup_steps, decay_steps, alpha=0.0):
        self.peak = float(peak_learning_rate)
        self.warmup_steps = float(warmup_steps)
        self.decay_steps = float(decay_steps)
        self.alpha = float(alpha)

    def __call__(self, step):
        step = tf.minimum(tf.cast(step, tf.float32), self.warmup_steps + self.decay_steps)
        warm = self.peak * step / max(self.warmup_steps, 1.0)
        fraction = (step - self.warmup_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + tf.cos(math.pi * fraction))
        decayed = self.peak * ((1.0 - self.alpha) * cosine + self.alpha)
        return tf.where(step < self.warmup_steps, warm, decayed)
"""
# Correct, another style: moments in dicts keyed by var.ref(), created on first sight; the
# textbook's m_hat and v_hat, epsilon scaled back to Keras' form.
ADAMW_VARIANT = """
class AdamW(tf.Module):
    def __init__(self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=0.004):
        super().__init__()
        self.learning_rate = learning_rate
        self.beta_1, self.beta_2 = beta_1, beta_2
        self.epsilon, self.weight_decay = epsilon, weight_decay
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.m, self.v = {}, {}

    def apply_gradients(self, grads, vars):
        lr = self.learning_rate
        lr = tf.cast(lr(self.iterations) if callable(lr) else lr, tf.float32)
        t = tf.cast(self.iterations + 1, tf.float32)
        for g, var in zip(grads, vars):
            if var.ref() not in self.m:
                self.m[var.ref()] = tf.Variable(tf.zeros_like(var), trainable=False)
                self.v[var.ref()] = tf.Variable(tf.zeros_like(var), trainable=False)
            m, v = self.m[var.ref()], self.v[var.ref()]
            var.assign(var - lr * self.weight_decay * var)
            m.assign(self.beta_1 * m + (1 - self.beta_1) * g)
            v.assign(self.beta_2 * v + (1 - self.beta_2) * tf.square(g))
            m_hat = m / (1 - self.beta_1**t)
            correction = tf.sqrt(1 - self.beta_2**t)
            var.assign(var - lr * m_hat * correction / (tf.sqrt(v) + self.epsilon))
        self.iterations.assign_add(1)
"""

# --- One typical bug each (an edit of a variant cell) ---------------------------------------------


def edited(cell, *changes):
    for old, new in changes:
        if old not in cell:
            raise ValueError(f"{old!r} is not in the cell")
        cell = cell.replace(old, new)
    return cell


CLIP_PER_TENSOR = edited(
    CLIP_VARIANT,
    (
        "return [g * factor for g in grads], global_norm",
        "return [g * tf.minimum(1.0, clip_norm / tf.norm(g)) for g in grads], global_norm",
    ),
)
CLIP_ALWAYS = edited(
    CLIP_VARIANT,
    ("tf.where(global_norm > clip_norm, clip_norm / global_norm, 1.0)", "clip_norm / global_norm"),
)
CLIP_DELEGATES = """
def clip_by_global_norm(grads, clip_norm):
    return tf.clip_by_global_norm(grads, clip_norm)
"""
SCHEDULE_WARMUP_ONLY = edited(
    SCHEDULE_VARIANT,
    (
        "return tf.where(step < self.warmup_steps, warm, decayed)",
        "return tf.where(step < self.warmup_steps, warm, self.peak)",
    ),
)
SCHEDULE_COSINE_ONLY = edited(
    SCHEDULE_VARIANT,
    (
        "fraction = (step - self.warmup_steps) / self.decay_steps",
        "fraction = tf.minimum(step, self.decay_steps) / self.decay_steps",
    ),
    ("return tf.where(step < self.warmup_steps, warm, decayed)", "return decayed"),
)
SCHEDULE_SYNTAX_ERROR = edited(
    SCHEDULE_VARIANT, ("def __call__(self, step):", "def __call__(self, step)")
)
ADAMW_L2 = edited(
    ADAMW_VARIANT,
    (
        "            var.assign(var - lr * self.weight_decay * var)\n",
        "            g = g + self.weight_decay * var\n",
    ),
)
ADAMW_DECAY_NOT_SCALED = edited(
    ADAMW_VARIANT,
    ("var.assign(var - lr * self.weight_decay * var)", "var.assign(var - self.weight_decay * var)"),
)
ADAMW_SCHEDULE_FROM_1 = edited(
    ADAMW_VARIANT, ("lr(self.iterations) if callable", "lr(self.iterations + 1) if callable")
)
ADAMW_STATE_PER_CALL = edited(
    ADAMW_VARIANT, ("if var.ref() not in self.m:", "if True:  # new moments at every call")
)
ADAMW_PYTHON_STEP = edited(
    ADAMW_VARIANT,
    ("self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False)", "self.iterations = 0"),
    ("self.iterations.assign_add(1)", "self.iterations += 1"),
)
ADAMW_SIGN = edited(
    ADAMW_VARIANT,
    (
        "var.assign(var - lr * m_hat * correction / (tf.sqrt(v) + self.epsilon))",
        "var.assign(var + lr * m_hat * correction / (tf.sqrt(v) + self.epsilon))",
    ),
)
ADAMW_DELEGATES = """
class AdamW(tf.Module):
    def __init__(self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=0.004):
        super().__init__()
        self.keras = tf.keras.optimizers.AdamW(learning_rate, weight_decay, beta_1, beta_2, epsilon)

    def apply_gradients(self, grads, vars):
        self.keras.apply_gradients(zip(grads, vars))
"""

# --- Building notebooks ---------------------------------------------------------------------------


def built(**cells):
    """The notebook with the given whole cells (each after `import math`: the variants use it),
    the solution's elsewhere."""
    return KIT.cells_builder(cells, "import math\n")


VARIANT = {CLIP: CLIP_VARIANT, SCHEDULE: SCHEDULE_VARIANT, ADAMW: ADAMW_VARIANT}


def variant(**bug):
    """The correct variant with the cells given replaced (one bug)."""
    return built(**(VARIANT | bug))


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
        "another style: a tf.where, a clamped step, moments in dicts keyed by var.ref()",
        variant(),
        per_class(),
    ),
    # Typical bugs, one at a time.
    Sample(
        "clip_per_tensor",
        "each gradient clipped by its own norm",
        variant(**{CLIP: CLIP_PER_TENSOR}),
        per_class(clip_by_global_norm="partial"),
        must_fail=("clip_by_global_norm: gradients above the bound",),
        hint="clip_per_tensor",
    ),
    Sample(
        "clip_always",
        "gradients scaled to clip_norm even when their norm is within bounds",
        variant(**{CLIP: CLIP_ALWAYS}),
        per_class(clip_by_global_norm="partial"),
        must_fail=("clip_by_global_norm: gradients within the bound",),
        hint="clip_always",
    ),
    Sample(
        "schedule_warmup_only",
        "the warm-up, then the peak learning rate for ever (no cosine)",
        variant(**{SCHEDULE: SCHEDULE_WARMUP_ONLY}),
        per_class(WarmupCosineDecay="partial"),
        must_fail=("WarmupCosineDecay: other decays",),
        hint="warmup_only",
    ),
    Sample(
        "schedule_cosine_only",
        "the cosine from step 0, no warm-up",
        variant(**{SCHEDULE: SCHEDULE_COSINE_ONLY}),
        per_class(WarmupCosineDecay="partial"),
        must_fail=("WarmupCosineDecay: other warm-ups",),
        hint="cosine_only",
    ),
    Sample(
        "adamw_l2_not_decoupled",
        "weight decay added to the gradient (L2), not decoupled",
        variant(**{ADAMW: ADAMW_L2}),
        per_class(AdamW="partial"),
        must_fail=("AdamW: other hyperparameters",),
        hint="l2_instead_of_decoupled",
    ),
    Sample(
        "adamw_decay_not_scaled",
        "weight decay not scaled by the learning rate",
        variant(**{ADAMW: ADAMW_DECAY_NOT_SCALED}),
        per_class(AdamW="partial"),
        must_fail=("AdamW: other hyperparameters",),
        hint="decay_not_scaled_by_lr",
    ),
    Sample(
        "adamw_schedule_from_one",
        "the schedule called with the step counted from 1",
        variant(**{ADAMW: ADAMW_SCHEDULE_FROM_1}),
        per_class(AdamW="partial"),
        must_fail=("AdamW: a schedule as learning rate",),
        must_pass=("AdamW: other hyperparameters",),
        hint="schedule_from_one_in_optimizer",
    ),
    Sample(
        "adamw_state_per_call",
        "new moments at every call (forgotten eagerly, refused by tf.function)",
        variant(**{ADAMW: ADAMW_STATE_PER_CALL}),
        per_class(AdamW="defined-only"),
        hint="state_rebuilt",
    ),
    Sample(
        "adamw_python_step",
        "the step count a Python int: right eagerly, frozen under tf.function",
        variant(**{ADAMW: ADAMW_PYTHON_STEP}),
        per_class(AdamW="partial"),
        must_fail=("AdamW: in a tf.function", "AdamW: trains the lesson's network"),
        must_pass=("AdamW: other hyperparameters", "AdamW: a schedule as learning rate"),
        hint="step_counter_python_int",
    ),
    Sample(
        "adamw_sign",
        "the Adam step added: training goes uphill and the network does not learn",
        variant(**{ADAMW: ADAMW_SIGN}),
        per_class(AdamW="defined-only"),
        must_fail=("AdamW: trains the lesson's network",),
        messages=("validation accuracy",),
        hint="sign",
    ),
    # Not an implementation, or not gradable.
    Sample(
        "clip_delegates",
        "clip_by_global_norm calls tf.clip_by_global_norm",
        variant(**{CLIP: CLIP_DELEGATES}),
        per_class(clip_by_global_norm="zero"),
        hint="delegation",
    ),
    Sample(
        "adamw_delegates",
        "AdamW hands its work to Keras' AdamW",
        variant(**{ADAMW: ADAMW_DELEGATES}),
        per_class(AdamW="zero"),
        hint="delegation",
    ),
    Sample(
        "syntax_error_schedule",
        "the WarmupCosineDecay cell does not parse (a missing colon); the training needs it",
        variant(**{SCHEDULE: SCHEDULE_SYNTAX_ERROR}),
        per_class(WarmupCosineDecay="zero", AdamW="partial"),
        must_fail=("AdamW: trains the lesson's network",),
        messages=("WarmupCosineDecay is not defined", "SyntaxError"),
    ),
    Sample(
        "lesson_1_notebook",
        "lesson 1's notebook submitted as lesson 3's: not graded",
        KIT.other_lesson(),
        {},
        messages=("optimizers_core",),
    ),
]

SAMPLES: dict[str, Sample] = {sample.name: sample for sample in _SAMPLES}
assert len(SAMPLES) == len(_SAMPLES), "sample names must be unique"
