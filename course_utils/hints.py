"""What a wrong optimizer path most likely means: one vocabulary for self-checks and the grader.

`diagnose` looks only at how a path departs from the expected one (and at the public loss), never
at code, so the same words reach a student from the notebook's self-check and from the
autograder's feedback.
"""

HINTS = {
    "not_implemented": "apply_gradients still raises NotImplementedError: replace the stub with "
    "your update.",
    "sign": "The first step goes the wrong way (uphill): the update must subtract the step "
    "(var.assign_sub(step)), not add it.",
    "learning_rate": "The first step has the right direction but the wrong size: check that the "
    "step is multiplied by the learning rate, once.",
    "bias_correction": "Adam's first step should move each variable by about one learning rate: "
    "check the bias correction, m / (1 - beta_1**t) and s / (1 - beta_2**t) with t = 1 on the "
    "first call.",
    "state_not_kept": "The first step is right and later ones are not, as if the optimizer forgot "
    "everything between calls: its state (a velocity, the moments) must be created once and "
    "carried from one call of apply_gradients to the next.",
    "step_counter_not_advanced": "The first step is right, the second is about 1.34 times too "
    "big: Adam's step counter t must grow by one at every call of apply_gradients.",
    "step_counter_per_variable": "One variable works; with several, the second variable's first "
    "step is too small (about 0.74 of the learning rate): t must grow once per call of "
    "apply_gradients, after the loop over the variables, not once per variable.",
    "shared_state": "One variable works, several at once do not: each variable needs its own "
    "state (velocity, moments), e.g. a tf.Variable per variable in a dict keyed by var.ref() "
    "(not by its shape or name, which several variables may share); and Adam's step counter t "
    "grows once per call, not once per variable.",
    "state_keyed_by_shape": "Variables of different shapes work, but a variable of the same shape "
    "as an earlier one does not: its state is shared with that one. Key the state by the variable "
    "(var.ref()), not by its shape.",
    "no_update": "apply_gradients ran but the variable did not move: update it in place with "
    "var.assign_sub(step) (or var.assign(...)); `var = var - step` only rebinds a local name.",
    "epsilon": "Adam's steps are too big where epsilon matters (a large ep, or tiny gradients): "
    "divide by (tf.sqrt(s_hat) + ep), with ep added outside the square root.",
    "timeout": "The code ran out of time: look for a loop that never ends or work repeated at "
    "every step.",
    "delegation": "Write the update yourself with TensorFlow operations (tf.Variable, "
    "assign_sub, tf.sqrt, ...): an exercise that hands its work to a library's optimizer scores "
    "nothing. The rest of the notebook may use them, to compare.",
}

# The same mistakes named for an instructor (the grader's class report ranks them).
MISTAKES = {
    "not_implemented": "optimizer not written (apply_gradients still raises NotImplementedError)",
    "sign": "update with the wrong sign (adds the step instead of subtracting it)",
    "learning_rate": "step not scaled by the learning rate exactly once",
    "bias_correction": "Adam's bias correction wrong (1 - beta**t with t = 1 on the first call)",
    "state_not_kept": "state (velocity, moments) not carried from one call to the next",
    "step_counter_not_advanced": "Adam's step counter t never advanced",
    "step_counter_per_variable": "Adam's step counter advanced once per variable, not per call",
    "shared_state": "one state shared by all variables instead of one per variable",
    "state_keyed_by_shape": "state keyed by the variable's shape, shared by variables of one shape",
    "no_update": "apply_gradients does not change the variable (e.g. `var = var - step`)",
    "epsilon": "Adam's epsilon missing or inside the square root",
    "timeout": "code too slow: an endless loop or work repeated at every step",
    "delegation": "exercise handed to a library optimizer (tf.keras.optimizers, optax, ...)",
}

BETA_1, BETA_2 = 0.9, 0.999  # Adam's defaults, which the public cases use


def adam_first_step(t, beta_1=BETA_1, beta_2=BETA_2):
    """|first move| / learning rate of an Adam whose bias correction uses t instead of 1."""
    return ((1 - beta_1) / (1 - beta_1**t)) / ((1 - beta_2) / (1 - beta_2**t)) ** 0.5


def course_gradient(x):
    """L'(x) = 8x^3 + 9x^2, the public derivative of the course's loss."""
    return 8 * x**3 + 9 * x**2


def _close(a, b, rel=0.02):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-12)


def diagnose(optimizer, init, got, expected, learning_rate):
    """The key of the likeliest hint for a one-variable path `got` (x_1, x_2, ...) that departs
    from `expected`, started at `init` on the course's loss; None when no rule fits."""
    try:
        xs = [float(init)] + [float(v) for v in got]
        want = [float(init)] + [float(v) for v in expected]
    except (TypeError, ValueError):
        return None
    if len(xs) < 2 or len(want) < 2 or want[1] == want[0] or xs[1] != xs[1]:
        return None
    if abs(xs[1] - xs[0]) <= 1e-3 * abs(want[1] - want[0]):  # float32 rounding of x0 aside
        return "no_update"
    if optimizer == "Adam" and _epsilon_ignored(xs[1] - xs[0], want[1] - want[0], learning_rate):
        return "epsilon"
    ratio = (xs[1] - xs[0]) / (want[1] - want[0])
    if _close(ratio, -1.0, 0.05):
        return "sign"
    if not _close(ratio, 1.0):
        if optimizer == "Adam" and ratio > 0:
            return "bias_correction"
        return "learning_rate"
    return _later_steps(optimizer, xs, want, learning_rate)


def _epsilon_ignored(move, expected_move, learning_rate):
    """Is Adam's first move exactly one learning rate where epsilon makes the expected one
    measurably shorter? Without epsilon, m_hat / sqrt(s_hat) is +-1 at the first step."""
    shorter = abs(expected_move) < 0.995 * learning_rate
    return move * expected_move > 0 and shorter and _close(abs(move), learning_rate, 1e-3)


def _later_steps(optimizer, xs, want, learning_rate):
    """The first step is right: what went wrong afterwards?"""
    moves = [b - a for a, b in zip(xs, xs[1:])]
    if len(moves) < 2:
        return None
    if optimizer == "Momentum" and all(
        _close(move, -learning_rate * course_gradient(x), 1e-3) for x, move in zip(xs, moves)
    ):
        return "state_not_kept"  # every step is a plain gradient step: the velocity is lost
    if optimizer == "Adam":
        if all(_close(abs(move), learning_rate, 1e-3) for move in moves):
            return "state_not_kept"  # every step is a fresh first step: the moments are lost
        if len(want) > 2 and _close(moves[1] / (want[2] - want[1]), 1 / adam_first_step(2), 0.01):
            return "step_counter_not_advanced"
    return "state_not_kept"


def diagnose_several(optimizer, first_moves, learning_rate, shape_seen_before=False):
    """Hint key when one variable works but several do not, from each variable's first move;
    `shape_seen_before`: the first variable to go wrong has the shape of an earlier one."""
    if shape_seen_before:
        return "state_keyed_by_shape"
    if (
        optimizer == "Adam"
        and len(first_moves) > 1
        and _close(abs(first_moves[1]) / learning_rate, adam_first_step(2), 0.01)
    ):
        return "step_counter_per_variable"
    return "shared_state"
