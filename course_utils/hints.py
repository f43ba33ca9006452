"""What a wrong optimizer path most likely means: one vocabulary for self-checks and the grader.

`diagnose` looks only at how a path departs from the expected one (never at code), so the same
words reach a student from the notebook's self-check and from the autograder's feedback.
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
    "state_not_kept": "The first step is right and later ones are not: the optimizer's state (a "
    "velocity, moments, a step counter) must persist from one call of apply_gradients to the next "
    "and be updated as the rule says.",
    "shared_state": "One variable works, several at once do not: each variable needs its own "
    "state (velocity, moments), e.g. a tf.Variable per variable kept in a dict keyed by "
    "var.ref(); Adam's step counter t grows once per call, not once per variable.",
    "timeout": "The code ran out of time: look for a loop that never ends or work repeated at "
    "every step.",
}


def _close(a, b, rel=0.05):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-12)


def diagnose(optimizer, init, got, expected, learning_rate):
    """The key of the likeliest hint for a one-variable path `got` that departs from `expected`.

    `init` is the starting value and `learning_rate` the optimizer's; returns None when no rule
    recognizes the departure.
    """
    try:
        step, want = float(got[0]) - init, float(expected[0]) - init
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    if want == 0 or step != step:  # no expected move, or a NaN
        return None
    ratio = step / want
    if _close(ratio, -1.0):
        return "sign"
    if not _close(ratio, 1.0, rel=0.02):
        if (
            optimizer == "Adam"
            and ratio > 0
            and not (_close(ratio, 1 / learning_rate) or _close(ratio, learning_rate))
        ):
            return "bias_correction"
        return "learning_rate"
    return "state_not_kept"
