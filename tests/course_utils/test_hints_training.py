"""Lesson 3's bug oracle: does each typical mistake, written in TensorFlow as a student would,
get its own hint on several inputs, a correct answer none, and garbage none?

The buggy exercises below are TensorFlow code, independent of the NumPy rules they are judged by.
"""

import math

import numpy as np
import pytest
import tensorflow as tf

from course_utils import hints_training as hints
from course_utils.hints_training import diagnose_adamw, diagnose_clip, diagnose_schedule

SEEDS = (0, 1, 2)

# --- the exercises, right and wrong -------------------------------------------------------------


def clip(grads, clip_norm, bug=None):
    """clip_by_global_norm, or one of its typical mistakes."""
    squares = [tf.reduce_sum(tf.square(g)) for g in grads]
    norm = tf.add_n(squares) if bug == "norm_not_rooted" else tf.sqrt(tf.add_n(squares))
    if bug == "clip_per_tensor":
        return [g * tf.minimum(1.0, clip_norm / tf.sqrt(s)) for g, s in zip(grads, squares)], norm
    if bug == "clip_always":
        return [g * clip_norm / norm for g in grads], norm
    if bug == "clip_never":
        return list(grads), norm
    return [g * tf.minimum(1.0, clip_norm / norm) for g in grads], norm


CLIP_BUGS = ("clip_per_tensor", "clip_always", "clip_never", "norm_not_rooted")


class Schedule:
    """WarmupCosineDecay, or one of its typical mistakes (`bug`)."""

    def __init__(self, peak_learning_rate, warmup_steps, decay_steps, alpha=0.0, bug=None):
        self.peak, self.w, self.d, self.alpha, self.bug = (
            peak_learning_rate,
            float(warmup_steps),
            float(decay_steps),
            alpha,
            bug,
        )

    def __call__(self, step):
        s = tf.cast(step, tf.float32) + (1.0 if self.bug == "schedule_step_from_one" else 0.0)
        if self.bug != "cosine_not_clamped":
            s = tf.minimum(s, self.w + self.d)
        if self.bug == "cosine_only":
            fraction = tf.minimum(s, self.d) / self.d
        else:
            fraction = (s - self.w) / self.d
        cosine = 0.5 * (1.0 + tf.cos(math.pi * fraction))
        if self.bug == "alpha_not_fraction":
            decayed = self.peak * cosine + self.alpha
        else:
            alpha = 0.0 if self.bug == "alpha_ignored" else self.alpha
            decayed = self.peak * ((1 - alpha) * cosine + alpha)
        if self.bug == "warmup_only":
            decayed = tf.constant(self.peak, tf.float32)
        if self.bug == "cosine_only" or self.w == 0:
            return decayed
        return tf.where(s < self.w, self.peak * s / max(self.w, 1.0), decayed)


SCHEDULE_BUGS = (
    "schedule_step_from_one",
    "warmup_only",
    "cosine_only",
    "alpha_ignored",
    "alpha_not_fraction",
    "cosine_not_clamped",
)


class AdamW(tf.Module):
    """AdamW, or one of its typical mistakes (`bug`)."""

    def __init__(
        self,
        learning_rate=1e-3,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        weight_decay=0.004,
        bug=None,
    ):
        self.learning_rate, self.beta_1, self.beta_2 = learning_rate, beta_1, beta_2
        self.epsilon, self.weight_decay, self.bug = epsilon, weight_decay, bug
        self.count = 0 if bug == "step_counter_python_int" else tf.Variable(0, dtype=tf.int64)
        self.moments = {}

    def apply_gradients(self, grads, vars):
        count = self.count + 1 if self.bug == "schedule_from_one_in_optimizer" else self.count
        lr = self.learning_rate(count) if callable(self.learning_rate) else self.learning_rate
        lr = tf.cast(lr, tf.float32)
        t = tf.cast(self.count + 1, tf.float32)
        for g, var in zip(grads, vars):
            if var.ref() not in self.moments or self.bug == "state_rebuilt":
                self.moments[var.ref()] = (
                    tf.Variable(tf.zeros_like(var)),
                    tf.Variable(tf.zeros_like(var)),
                )
            m, v = self.moments[var.ref()]
            if self.bug == "l2_instead_of_decoupled":
                g = g + self.weight_decay * var
            elif self.bug == "decay_not_scaled_by_lr":
                var.assign_sub(self.weight_decay * var)
            elif self.bug != "decay_missing":
                var.assign_sub(lr * self.weight_decay * var)
            m.assign(self.beta_1 * m + (1 - self.beta_1) * g)
            v.assign(self.beta_2 * v + (1 - self.beta_2) * tf.square(g))
            if self.bug == "bias_correction":
                step = lr * m / (tf.sqrt(v) + self.epsilon)
            elif self.bug == "bias_correction_form":
                m_hat, v_hat = m / (1 - self.beta_1**t), v / (1 - self.beta_2**t)
                step = lr * m_hat / (tf.sqrt(v_hat) + self.epsilon)
            else:
                alpha = lr * tf.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
                root = tf.sqrt(v + self.epsilon) if self.bug == "epsilon" else tf.sqrt(v)
                step = alpha * m / (root + (0.0 if self.bug == "epsilon" else self.epsilon))
            if self.bug == "sign":
                var.assign_add(step)
            elif self.bug == "no_update":
                var = var - step
            else:
                var.assign_sub(step)
        if self.bug == "step_counter_python_int":
            self.count += 1
        elif self.bug != "step_counter_not_advanced":
            self.count.assign_add(1)


EAGER_BUGS = (
    "l2_instead_of_decoupled",
    "decay_not_scaled_by_lr",
    "decay_missing",
    "state_rebuilt",
    "step_counter_not_advanced",
    "bias_correction",
    "bias_correction_form",
    "epsilon",
    "sign",
    "no_update",
)


# --- inputs -------------------------------------------------------------------------------------


def random_grads(seed, shapes=((3, 4), (5,), ()), scale=3.0):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=s) * scale * rng.uniform(0.1, 1)).astype(np.float32) for s in shapes]


def gradient_stream(seed, steps=30, shapes=((3, 2), (4,), ())):
    rng = np.random.default_rng(seed)
    return [
        [(rng.normal(size=s) * 10 ** rng.uniform(-3, 0.5)).astype(np.float32) for s in shapes]
        for _ in range(steps)
    ]


def run_adamw(optimizer, stream, starts, compiled):
    variables = [tf.Variable(s) for s in starts]
    apply = tf.function(optimizer.apply_gradients) if compiled else optimizer.apply_gradients
    path = []
    for grads in stream:
        apply([tf.constant(g) for g in grads], variables)
        path.append([v.numpy() for v in variables])
    return path


def adamw_case(seed):
    """(AdamW's keyword arguments, the schedule's or None, stream, starts) of a seed."""
    rng = np.random.default_rng(100 + seed)
    kwargs = {
        "learning_rate": float(rng.choice([1e-3, 1e-2, 0.05])),
        "weight_decay": float(rng.choice([0.02, 0.1, 0.3])),
        "epsilon": float(rng.choice([1e-7, 1e-4])),
        "beta_1": float(rng.choice([0.9, 0.8])),
    }
    starts = [rng.normal(size=s).astype(np.float32) * 2 for s in ((3, 2), (4,), ())]
    return kwargs, gradient_stream(seed), starts


SCHEDULE_KWARGS = (
    {"peak_learning_rate": 0.01, "warmup_steps": 10, "decay_steps": 40, "alpha": 0.1},
    {"peak_learning_rate": 0.2, "warmup_steps": 7, "decay_steps": 23, "alpha": 0.05},
    {"peak_learning_rate": 0.003, "warmup_steps": 3, "decay_steps": 30, "alpha": 0.2},
)

# --- tests --------------------------------------------------------------------------------------


def test_hints_and_mistakes_have_the_same_keys():
    """Does every hint have its words for the class report, and the reverse?"""
    assert set(hints.HINTS) == set(hints.MISTAKES)
    for key in ("not_implemented", "no_update", "timeout", "delegation"):
        assert key in hints.HINTS


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("clip_norm", [0.5, 2.0])
def test_correct_clipping_gets_no_hint(seed, clip_norm):
    grads = random_grads(seed)
    got = tf.clip_by_global_norm([tf.constant(g) for g in grads], clip_norm)
    answer = ([c.numpy() for c in got[0]], float(got[1]))
    assert diagnose_clip(grads, clip_norm, answer) is None


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("bug", CLIP_BUGS)
def test_each_clipping_mistake_is_named(seed, bug):
    grads = random_grads(seed)
    norm = math.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads))
    # Clipped: below the norm and above the largest tensor's; within bounds for clip_always.
    largest = max(float(np.linalg.norm(g)) for g in grads)
    clip_norm = norm * 1.5 if bug == "clip_always" else (norm + largest) / 2 * 0.9
    clip_norm = min(clip_norm, largest * 0.95) if bug == "clip_per_tensor" else clip_norm
    clipped, got_norm = clip([tf.constant(g) for g in grads], clip_norm, bug)
    answer = ([c.numpy() for c in clipped], float(got_norm))
    assert diagnose_clip(grads, clip_norm, answer) == bug


@pytest.mark.parametrize(
    "answer",
    [None, "garbage", ([1.0], 1.0), ([np.zeros(3)], None), (["x", "y", "z"], 1.0), (1, 2, 3)],
)
def test_garbage_clipping_gets_no_hint(answer):
    assert diagnose_clip(random_grads(0), 1.0, answer) is None


def keras_cosine(kwargs):
    return tf.keras.optimizers.schedules.CosineDecay(
        0.0,
        kwargs["decay_steps"],
        alpha=kwargs["alpha"],
        warmup_target=kwargs["peak_learning_rate"],
        warmup_steps=kwargs["warmup_steps"],
    )


@pytest.mark.parametrize("kwargs", SCHEDULE_KWARGS)
def test_keras_schedule_gets_no_hint(kwargs):
    keras = keras_cosine(kwargs)
    steps = list(range(80))
    assert diagnose_schedule(kwargs, steps, [float(keras(s)) for s in steps]) is None


@pytest.mark.parametrize("kwargs", SCHEDULE_KWARGS)
@pytest.mark.parametrize("bug", SCHEDULE_BUGS)
def test_each_schedule_mistake_is_named(kwargs, bug):
    schedule = Schedule(**kwargs, bug=bug)
    steps = list(range(80))
    assert diagnose_schedule(kwargs, steps, [float(schedule(s)) for s in steps]) == bug


@pytest.mark.parametrize("got", [None, [1.0, 2.0], ["a"] * 80, [[0.1]] * 80, 3.0])
def test_garbage_schedule_gets_no_hint(got):
    assert diagnose_schedule(SCHEDULE_KWARGS[0], list(range(80)), got) is None


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("scheduled", [False, True])
def test_keras_adamw_gets_no_hint(seed, compiled, scheduled):
    kwargs, stream, starts = adamw_case(seed)
    keras_kwargs = dict(kwargs)
    if scheduled:
        kwargs["learning_rate"] = dict(SCHEDULE_KWARGS[seed])
        keras_kwargs["learning_rate"] = keras_cosine(SCHEDULE_KWARGS[seed])
    keras = tf.keras.optimizers.AdamW(**keras_kwargs)
    variables = [tf.Variable(s) for s in starts]

    def apply(grads):
        keras.apply_gradients(zip(grads, variables))

    apply = tf.function(apply) if compiled else apply
    path = []
    for grads in stream:
        apply([tf.constant(g) for g in grads])
        path.append([v.numpy() for v in variables])
    assert diagnose_adamw(stream, starts, kwargs, path, compiled) is None


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("bug", EAGER_BUGS)
def test_each_adamw_mistake_is_named_eagerly(seed, bug):
    kwargs, stream, starts = adamw_case(seed)
    path = run_adamw(AdamW(**kwargs, bug=bug), stream, starts, compiled=False)
    assert diagnose_adamw(stream, starts, kwargs, path) == bug


@pytest.mark.parametrize("seed", SEEDS)
def test_a_python_int_step_count_is_named_when_compiled(seed):
    kwargs, stream, starts = adamw_case(seed)
    optimizer = AdamW(**kwargs, bug="step_counter_python_int")
    path = run_adamw(optimizer, stream, starts, compiled=True)
    assert diagnose_adamw(stream, starts, kwargs, path, compiled=True) == "step_counter_python_int"
    eager = run_adamw(AdamW(**kwargs, bug="step_counter_python_int"), stream, starts, False)
    assert diagnose_adamw(stream, starts, kwargs, eager) is None  # eagerly it is right


@pytest.mark.parametrize("seed", SEEDS)
def test_a_schedule_called_from_one_is_named(seed):
    kwargs, stream, starts = adamw_case(seed)
    schedule = SCHEDULE_KWARGS[seed]
    kwargs["learning_rate"] = schedule
    optimizer = AdamW(
        **kwargs | {"learning_rate": Schedule(**schedule)}, bug="schedule_from_one_in_optimizer"
    )
    path = run_adamw(optimizer, stream, starts, compiled=False)
    assert diagnose_adamw(stream, starts, kwargs, path) == "schedule_from_one_in_optimizer"


def test_state_created_at_every_call_fails_compiled_and_is_named():
    kwargs, stream, starts = adamw_case(0)
    with pytest.raises(ValueError) as error:
        run_adamw(AdamW(**kwargs, bug="state_rebuilt"), stream, starts, compiled=True)
    assert hints.diagnose_exception(str(error.value), compiled=True) == "state_rebuilt"


@pytest.mark.parametrize(
    "got",
    [
        None,
        [],
        [[1.0, 2.0]] * 30,
        [["a", "b", "c"]] * 30,
        [[np.zeros((3, 2)), np.zeros(4), 0.0]] * 31,
        [[np.full((3, 2), 7.0), np.full(4, -3.0), 1.0]] * 30,
    ],
)
def test_garbage_paths_get_no_hint(got):
    kwargs, stream, starts = adamw_case(0)
    assert diagnose_adamw(stream, starts, kwargs, got) is None


def test_hints_import_no_tensorflow():
    """The grader imports the hints outside the sandbox, without TensorFlow."""
    import subprocess
    import sys

    code = "import sys, course_utils.hints_training; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
