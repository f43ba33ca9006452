"""What a wrong answer of lesson 3's exercises most likely means, found by a bug oracle.

Each `diagnose_*` replays, in float64 NumPy, the correct rule and every typical wrong one of an
exercise on the very inputs the student's code was given, and names the one wrong rule that
explains the student's answer where the correct rule does not (None when the answer is right, when
no single mistake explains it, or when the answer is not numbers of the right shapes):

- `diagnose_clip(grads, clip_norm, got)`: `got` is what `clip_by_global_norm` returned;
- `diagnose_schedule(kwargs, steps, got)`: `got` is the learning rate at each of `steps`;
- `diagnose_adamw(gradient_stream, starts, kwargs, got, compiled=False)`: `got` is the path of the
  variables under AdamW, fed the gradients of `gradient_stream` one call after the other.
- `diagnose_exception(message, compiled)`: the key of an error that names a mistake.

No TensorFlow here: the grader imports this module outside the sandbox.
"""

import math

import numpy as np

from course_utils import hints as lesson_1

# Mistakes of every lesson keep lesson 1's words.
SHARED = ("no_update", "timeout", "delegation")

HINTS = {key: lesson_1.HINTS[key] for key in SHARED} | {
    "not_implemented": "Your code still raises NotImplementedError: replace the stub (the line "
    "`raise NotImplementedError`) with your own code.",
    # clip_by_global_norm
    "clip_per_tensor": "Each gradient was scaled by its own norm: clip_by_global_norm scales all "
    "of them by one factor, clip_norm / global_norm, where global_norm is the norm of all the "
    "gradients together, sqrt(sum of every tensor's sum of squares).",
    "clip_always": "The gradients were scaled although their global norm was within bounds: the "
    "factor is min(1, clip_norm / global_norm), so gradients whose norm is at most clip_norm "
    "come back unchanged.",
    "clip_never": "The gradients came back unchanged although their global norm exceeds "
    "clip_norm: then scale every one of them by clip_norm / global_norm.",
    "norm_not_rooted": "Your global norm is the sum of squares itself: take its square root, "
    "global_norm = sqrt(sum over the tensors of tf.reduce_sum(tf.square(g))).",
    # WarmupCosineDecay
    "schedule_step_from_one": "Your learning rates are one step ahead: the learning rate of an "
    "update is the schedule at the number of updates done so far, 0 on the first call (Keras "
    "passes optimizer.iterations before adding 1); the warm-up starts at 0.",
    "warmup_only": "The warm-up is right, but then the learning rate stays at its peak: after "
    "warmup_steps it must follow the cosine, peak * ((1 - alpha) * 0.5 * (1 + cos(pi * f)) + "
    "alpha), f = (step - warmup_steps) / decay_steps.",
    "cosine_only": "The cosine decay is there but not the warm-up: for step < warmup_steps the "
    "learning rate grows linearly, peak * step / warmup_steps, and the cosine starts after it, "
    "at step - warmup_steps.",
    "alpha_ignored": "Your schedule decays to 0: it must end at alpha * peak_learning_rate, "
    "peak * ((1 - alpha) * cosine + alpha).",
    "alpha_not_fraction": "alpha is a fraction of the peak learning rate: the schedule is "
    "peak * ((1 - alpha) * cosine + alpha), not peak * cosine + alpha.",
    "cosine_not_clamped": "After warmup_steps + decay_steps the learning rate must stay at "
    "alpha * peak; yours climbs back up the cosine. Clamp the step, "
    "min(step, warmup_steps + decay_steps).",
    # AdamW
    "l2_instead_of_decoupled": "Your weight decay is added to the gradient (L2 regularisation, "
    "g + weight_decay * x), so Adam's scaling rescales it. AdamW's decay is decoupled: shrink the "
    "variable directly, x <- x - learning_rate * weight_decay * x, before the Adam step, and "
    "leave the gradient alone.",
    "decay_not_scaled_by_lr": "Your weight decay shrinks the variables by weight_decay * x at each "
    "step: the decay is scaled by the learning rate too, x <- x - learning_rate * weight_decay * "
    "x (with a schedule, by its learning rate of that step).",
    "decay_missing": "Your steps are Adam's without weight decay: before the Adam step, shrink "
    "each variable, x <- x - learning_rate * weight_decay * x.",
    "state_rebuilt": "Your first step is right, the later ones are not, as if the moments were "
    "new at each call: create each variable's moments once (two tf.Variables, the first time "
    "you see the variable, kept on self in dicts keyed by var.ref()) and update those. Variables "
    "created at every call also fail inside tf.function, which allows tf.Variables to be created "
    "on its first call only.",
    "step_counter_python_int": "Your optimizer works eagerly but not compiled: under tf.function "
    "a Python int is read once, while tracing, and the graph keeps that value, so the bias "
    "correction (and the schedule) never see the step advance. Keep the step count in a "
    "tf.Variable (tf.Variable(0, dtype=tf.int64), created in __init__) and assign_add(1) to it "
    "after each update.",
    "step_counter_not_advanced": "Every step uses the step count of the first one: the count of "
    "updates must grow by one after each call of apply_gradients (iterations.assign_add(1)), "
    "once per call, not per variable.",
    "bias_correction": "The size of your Adam steps is off from the first one: Keras' AdamW "
    "multiplies the step by lr * sqrt(1 - beta_2**t) / (1 - beta_1**t), with t = 1 on the first "
    "call (the number of updates done so far plus one).",
    "bias_correction_form": "Close, but not Keras' form of the bias correction: Keras computes "
    "alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) and then x -= alpha * m / (sqrt(v) + "
    "epsilon), with epsilon added to the uncorrected sqrt(v); dividing m_hat by sqrt(v_hat) + "
    "epsilon differs wherever epsilon matters.",
    "epsilon": "Your steps differ where epsilon matters (small gradients, a large epsilon): "
    "epsilon is added outside the square root, m * alpha / (tf.sqrt(v) + epsilon).",
    "schedule_from_one_in_optimizer": "Your learning rates are one step ahead of the schedule: "
    "call it with the number of updates done so far (0 on the first call, before the step count "
    "is advanced), as Keras does.",
    "sign": "Your steps go uphill: the Adam step is subtracted, x <- x - alpha * m / (sqrt(v) + "
    "epsilon).",
    "learning_rate": "Your Adam steps have the wrong size: the learning rate must scale each step "
    "exactly once.",
}

# The same mistakes named for an instructor (the class report ranks them).
MISTAKES = {key: lesson_1.MISTAKES[key] for key in SHARED} | {
    "not_implemented": "exercise not written (still raises NotImplementedError)",
    "clip_per_tensor": "each gradient clipped by its own norm, not by the global norm",
    "clip_always": "gradients scaled even when their global norm is within bounds",
    "clip_never": "gradients never scaled, even above clip_norm",
    "norm_not_rooted": "global norm without its square root (the sum of squares)",
    "schedule_step_from_one": "schedule evaluated one step ahead (the step counted from 1)",
    "warmup_only": "warm-up without the cosine decay after it",
    "cosine_only": "cosine decay without the warm-up before it",
    "alpha_ignored": "cosine decays to 0 instead of alpha * peak",
    "alpha_not_fraction": "alpha added as a learning rate, not as a fraction of the peak",
    "cosine_not_clamped": "cosine not held at its floor after warmup_steps + decay_steps",
    "l2_instead_of_decoupled": "L2 regularisation added to the gradient instead of decoupled decay",
    "decay_not_scaled_by_lr": "weight decay not scaled by the learning rate",
    "decay_missing": "weight decay missing (plain Adam)",
    "state_rebuilt": "moments created at every call (forgotten; fails under tf.function)",
    "step_counter_python_int": "step counter a Python int, frozen under tf.function",
    "step_counter_not_advanced": "step counter never advanced",
    "bias_correction": "bias correction missing or wrong (t = 1 on the first call)",
    "bias_correction_form": "textbook bias correction (epsilon after correcting), not Keras' form",
    "epsilon": "epsilon inside the square root",
    "schedule_from_one_in_optimizer": "optimizer calls its schedule with a step counted from 1",
    "sign": "Adam step added instead of subtracted",
    "learning_rate": "Adam step not scaled by the learning rate exactly once",
}

ADAMW_DEFAULTS = {
    "learning_rate": 1e-3,
    "beta_1": 0.9,
    "beta_2": 0.999,
    "epsilon": 1e-7,
    "weight_decay": 0.004,
}
SCHEDULE_DEFAULTS = {"alpha": 0.0}
SCHEDULE_KEYS = ("peak_learning_rate", "warmup_steps", "decay_steps", "alpha")

# Agreement: |got - predicted| <= RTOL * scale + GRAIN * |values| + TINY, where scale is the size
# of the terms before any cancellation. float32 code is within 1e-6 of it; mistakes far beyond.
RTOL = 1e-4
GRAIN = 2.0**-23
TINY = 1e-30
FEW = 10  # steps compared beyond the first one the correct rule does not explain
MAX_STEPS = 500


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _array(value, shape=None):
    """`value` as a float64 array (of `shape` if given), or None when it is not numbers."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    if array.dtype != np.float64 or (shape is not None and array.shape != tuple(shape)):
        return None
    return array


def _unique(found):
    """The one key found; "no_update" gives way to a mistake that explains the same (a schedule
    frozen at a learning rate of 0 does not move either)."""
    if len(found) > 1:
        found = found - {"no_update"}
    return found.pop() if len(found) == 1 else None


# --- clip_by_global_norm ------------------------------------------------------------------------


def _clip_rules(grads, clip_norm):
    """[(key or None, clipped gradients, returned norm or None)]: the correct rule first."""
    squares = [float(np.sum(g * g)) for g in grads]
    norm = math.sqrt(sum(squares))

    def scaled(factor):
        return [g * factor for g in grads]

    def bounded(size):
        return min(1.0, clip_norm / size) if size > 0 else 1.0

    rules = [
        (None, scaled(bounded(norm)), norm),
        ("clip_always", scaled(clip_norm / norm if norm > 0 else 1.0), norm),
        ("clip_never", [g.copy() for g in grads], norm),
        ("clip_per_tensor", [g * bounded(math.sqrt(s)) for g, s in zip(grads, squares)], norm),
    ]
    total = sum(squares)
    rules.append(("norm_not_rooted", scaled(bounded(total)), total))
    return rules


def diagnose_clip(grads, clip_norm, got) -> str | None:
    """The key of the likeliest mistake behind `got`, what clip_by_global_norm(grads, clip_norm)
    returned ((clipped gradients, global norm): a list of arrays of the gradients' shapes and a
    number), or None.

    `grads`: the gradients given (arrays of numbers); `clip_norm`: a positive number. The
    clipped gradients decide; the returned norm must agree too where it is a number."""
    arrays = [_array(g) for g in grads] if isinstance(grads, (list, tuple)) else None
    if not arrays or any(a is None for a in arrays) or not _is_number(clip_norm):
        return None
    if clip_norm <= 0 or not all(np.isfinite(a).all() for a in arrays):
        return None
    if not isinstance(got, (list, tuple)) or len(got) != 2:
        return None
    clipped, norm = got
    if not isinstance(clipped, (list, tuple)) or len(clipped) != len(arrays):
        return None
    clipped = [_array(c, a.shape) for c, a in zip(clipped, arrays)]
    if any(c is None for c in clipped):
        return None
    norm = float(norm) if _is_number(norm) or _array(norm, ()) is not None else None

    def agrees(expected, expected_norm):
        values = all(
            np.all(np.abs(c - e) <= 1e-5 * np.abs(a) + TINY)
            for c, e, a in zip(clipped, expected, arrays)
        )
        return values and (norm is None or abs(norm - expected_norm) <= 1e-5 * expected_norm)

    (_, expected, expected_norm), *wrong = _clip_rules(arrays, float(clip_norm))
    if agrees(expected, expected_norm):
        return None
    return _unique({key for key, rule, rule_norm in wrong if agrees(rule, rule_norm)})


# --- WarmupCosineDecay --------------------------------------------------------------------------


def warmup_cosine(step, peak_learning_rate, warmup_steps, decay_steps, alpha=0.0, **mistake):
    """Keras' CosineDecay(0.0, decay_steps, alpha, warmup_target=peak_learning_rate,
    warmup_steps) at `step`, in float64; `mistake` switches a typical bug on (see
    _schedule_rules)."""
    peak, w, d = peak_learning_rate, warmup_steps, decay_steps
    step = step + mistake.get("shift", 0)
    if mistake.get("clamp", True):
        step = min(step, w + d)
    if mistake.get("no_warmup"):  # the cosine from step 0, as if there were no warm-up
        fraction = min(step, d) / d
    elif step < w:
        return peak * step / w
    elif mistake.get("no_cosine"):
        return peak
    else:
        fraction = (step - w) / d
    cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
    if mistake.get("absolute_alpha"):
        return peak * cosine + alpha
    alpha = 0.0 if mistake.get("no_alpha") else alpha
    return peak * ((1 - alpha) * cosine + alpha)


def _schedule_rules():
    """[(key or None, mistake switches)]: the correct rule first."""
    return [
        (None, {}),
        ("schedule_step_from_one", {"shift": 1}),
        ("warmup_only", {"no_cosine": True}),
        ("cosine_only", {"no_warmup": True}),
        ("alpha_ignored", {"no_alpha": True}),
        ("alpha_not_fraction", {"absolute_alpha": True}),
        ("cosine_not_clamped", {"clamp": False}),
    ]


def _schedule_settings(kwargs):
    if not isinstance(kwargs, dict):
        return None
    settings = SCHEDULE_DEFAULTS | {k: v for k, v in kwargs.items() if k in SCHEDULE_KEYS}
    if set(settings) != set(SCHEDULE_KEYS) or not all(_is_number(v) for v in settings.values()):
        return None
    settings = {k: float(v) for k, v in settings.items()}
    if settings["decay_steps"] <= 0 or settings["warmup_steps"] < 0:
        return None
    return settings


def diagnose_schedule(kwargs: dict, steps, got) -> str | None:
    """The key of the likeliest mistake behind `got`, the learning rates WarmupCosineDecay(
    **kwargs) returned at each step of `steps` (integers from 0), or None."""
    settings = _schedule_settings(kwargs)
    if settings is None or not isinstance(steps, (list, tuple, range)):
        return None
    if not all(_is_number(s) and s >= 0 for s in steps):
        return None
    values = _array(got, (len(steps),))
    if values is None or len(steps) == 0:
        return None
    tolerance = 1e-5 * abs(settings["peak_learning_rate"]) + 1e-6 * np.abs(values) + TINY

    def agrees(mistake):
        predicted = np.array([warmup_cosine(s, **settings, **mistake) for s in steps])
        return bool(np.all(np.abs(values - predicted) <= tolerance))

    (_, correct), *wrong = _schedule_rules()
    if agrees(correct):
        return None
    return _unique({key for key, mistake in wrong if agrees(mistake)})


# --- AdamW --------------------------------------------------------------------------------------


def _learning_rates(learning_rate, count):
    """The learning rate of updates 0 .. count (one more than needed: a shifted schedule), from a
    number, a dict of WarmupCosineDecay's arguments or a callable of the step; or None."""
    if _is_number(learning_rate):
        return np.full(count + 1, float(learning_rate))
    if isinstance(learning_rate, dict):
        settings = _schedule_settings(learning_rate)
        if settings is None:
            return None
        return np.array([warmup_cosine(k, **settings) for k in range(count + 1)])
    if callable(learning_rate):
        try:
            rates = np.array([float(learning_rate(k)) for k in range(count + 1)])
        except Exception:  # noqa: BLE001 - a schedule that fails gives no hint
            return None
        return rates if np.isfinite(rates).all() else None
    return None


def _adamw(gradients, points, rates, hp, mistake):
    """(moves, scales): the move x_(t-1) - x_t of each call predicted by the rule with `mistake`
    switched on, the decay fed the student's own x_(t-1) (teacher forcing), and the size of its
    terms before any cancellation."""
    b1, b2, eps, wd = hp["beta_1"], hp["beta_2"], hp["epsilon"], hp["weight_decay"]
    decay = mistake.get("decay", "decoupled")
    m = np.zeros_like(gradients[0])
    v = np.zeros_like(m)
    m_size = np.zeros_like(m)
    moves, scales = np.empty_like(gradients), np.empty_like(gradients)
    for k, (g, x) in enumerate(zip(gradients, points[:-1])):
        count = mistake.get("frozen", k)  # updates done so far, as the rule sees them
        lr = rates[count + mistake.get("shift", 0)]
        t = count + 1
        if decay == "l2":
            g = g + wd * x
        if not mistake.get("keep", True):
            m, v, m_size = np.zeros_like(m), np.zeros_like(v), np.zeros_like(m)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        m_size = m_size + (np.abs(g) - m_size) * (1 - b1)
        step_lr = lr * mistake.get("lr_factor", 1.0) if "lr_power" not in mistake else lr**2
        if mistake.get("bias") == "none":
            alpha = step_lr
        else:
            alpha = step_lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        if mistake.get("bias") == "textbook":
            denominator = np.sqrt(v / (1 - b2**t)) + eps
            alpha = step_lr / (1 - b1**t)
        elif mistake.get("epsilon_inside"):
            denominator = np.sqrt(v + eps)
        else:
            denominator = np.sqrt(v) + eps
        adam = alpha * m / denominator
        shrink = {"decoupled": lr * wd * x, "unscaled": wd * x}.get(decay, 0.0 * x)
        moves[k] = shrink + mistake.get("sign", 1.0) * adam
        scales[k] = np.abs(shrink) + np.abs(alpha * m_size / denominator)
    return moves, scales


def _adamw_rules(compiled, scheduled):
    """[(key or None, mistake switches)]: the correct rule first."""
    frozen = "step_counter_python_int" if compiled else "step_counter_not_advanced"
    rules = [
        (None, {}),
        ("l2_instead_of_decoupled", {"decay": "l2"}),
        ("decay_not_scaled_by_lr", {"decay": "unscaled"}),
        ("decay_missing", {"decay": "none"}),
        ("state_rebuilt", {"keep": False}),
        ("state_rebuilt", {"keep": False, "frozen": 0}),
        ("bias_correction", {"bias": "none"}),
        ("bias_correction_form", {"bias": "textbook"}),
        ("epsilon", {"epsilon_inside": True}),
        ("sign", {"sign": -1.0}),
        ("learning_rate", {"lr_power": 2}),
    ]
    # A Python int is frozen at its value when the function was traced: tf.function traces twice
    # when the first call creates variables.
    rules += [(frozen, {"frozen": count}) for count in range(3)]
    if scheduled:
        rules.append(("schedule_from_one_in_optimizer", {"shift": 1}))
    # No update at all, or the decay only (the Adam step only rebinds a local name).
    return rules + [
        ("no_update", {"decay": "none", "lr_factor": 0.0}),
        ("no_update", {"lr_factor": 0.0}),
    ]


def _flat_path(gradient_stream, starts, got):
    """(gradients (T, N), points (T + 1, N)) flattened variable after variable, or (None, None)."""
    try:
        shapes = [np.shape(s) for s in starts]
        start = np.concatenate([np.ravel(np.asarray(s, dtype=np.float32)) for s in starts])
    except (TypeError, ValueError):
        return None, None
    if not isinstance(got, (list, tuple)) or not 0 < len(got) <= len(gradient_stream):
        return None, None

    def row(values):
        if not isinstance(values, (list, tuple)) or len(values) != len(shapes):
            return None
        arrays = [_array(v, shape) for v, shape in zip(values, shapes)]
        return (
            None if any(a is None for a in arrays) else np.concatenate([a.ravel() for a in arrays])
        )

    steps = min(len(got), MAX_STEPS)
    gradients = [row(g) for g in gradient_stream[:steps]]
    points = [start.astype(np.float64)] + [row(values) for values in got[:steps]]
    if any(r is None for r in gradients + points):
        return None, None
    return np.array(gradients), np.array(points)


def diagnose_adamw(gradient_stream, starts, kwargs: dict, got, compiled: bool = False):
    """The key of the likeliest mistake behind the path `got` of an AdamW(**kwargs), or None.

    `gradient_stream`: the gradients of each call, a list (one entry per call) of lists of arrays
    (one per variable); `starts`: the variables' starting values (arrays, float32 like the
    variables); `kwargs`: AdamW's arguments (missing ones take Keras' defaults), its
    learning_rate a number, a dict of WarmupCosineDecay's arguments or a callable of the step
    returning a float; `got`: after each call, the list of the variables' values; `compiled`:
    whether the calls ran inside a tf.function (a step count that never advances is then a
    Python int frozen by tracing). Every step up to FEW past the first one the correct rule does
    not explain must agree with the one wrong rule named."""
    if not isinstance(kwargs, dict) or not isinstance(gradient_stream, (list, tuple)):
        return None
    hp = ADAMW_DEFAULTS | {k: v for k, v in kwargs.items() if k in ADAMW_DEFAULTS}
    numbers = {k: v for k, v in hp.items() if k != "learning_rate"}
    if not all(_is_number(v) and np.isfinite(v) for v in numbers.values()):
        return None
    gradients, points = _flat_path(gradient_stream, starts, got)
    if gradients is None:
        return None
    rates = _learning_rates(hp["learning_rate"], len(gradients) + 3)  # frozen and shifted counts
    if rates is None:
        return None
    hp = {k: float(v) for k, v in numbers.items()}
    (_, correct), *wrong = _adamw_rules(compiled, not _is_number(kwargs.get("learning_rate", 0)))
    with np.errstate(all="ignore"):
        before, after = points[:-1], points[1:]
        got_moves = before - after
        grain = GRAIN * (np.abs(before) + np.abs(after)) + TINY

        def agreement(mistake):
            moves, scales = _adamw(gradients, points, rates, hp, mistake)
            landed = (before - moves).astype(np.float32)
            finite = np.isfinite(landed) & np.isfinite(after)
            close = np.abs(got_moves - moves) <= RTOL * scales + grain
            agree = np.where(finite, close, np.isfinite(landed) == np.isfinite(after))
            return agree.all(axis=1), (agree & finite).all(axis=1)

        explained, _ = agreement(correct)
        if explained.all():
            return None
        window = min(len(explained), int(np.argmin(explained)) + 1 + FEW)
        found = set()
        for key, mistake in wrong:
            agree, evidence = agreement(mistake)
            if agree[:window].all() and (evidence[:window] & ~explained[:window]).any():
                found.add(key)
    return _unique(found)


def diagnose_exception(message: str, compiled: bool) -> str | None:
    """The key of an error whose text names a mistake: tf.Variables created at a later call of a
    tf.function (state created at every call)."""
    text = str(message)
    if compiled and "tf.Variable" in text and ("first call" in text or "singleton" in text):
        return "state_rebuilt"
    if "NotImplementedError" in text:
        return "not_implemented"
    return None
