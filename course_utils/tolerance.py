"""When two optimizer paths agree: the one rule shared by the self-checks and the autograder.

Values are compared step by step with a float32-aware tolerance,
    |got - expected| <= ATOL + RTOL * |expected| + STEP_TOL * learning_rate,
loose enough for any correct float32 implementation (another order of operations, `assign`
instead of `assign_sub`, float64 arithmetic cast back, Adam's beta powers computed in float32:
measured at most 0.3 % of a learning rate, 3e-5 relative) and tight enough for every common bug,
which is off by a sizeable fraction of a step within a few steps (a bias correction off by one
step is 26 % of a learning rate off at the first step). Infinities must match exactly.
"""

import math

RTOL = 5e-5
ATOL = 1e-6
STEP_TOL = 0.02


def absolute_tolerance(learning_rate):
    """The absolute part of the tolerance for an optimizer with this learning rate."""
    return ATOL + STEP_TOL * learning_rate


def close(got, expected, atol=ATOL):
    """Does `got` agree with `expected`? A non-number never does."""
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    if math.isnan(expected) or math.isnan(got):
        return math.isnan(expected) and math.isnan(got)
    if math.isinf(expected) or math.isinf(got):
        return got == expected
    return abs(got - expected) <= atol + RTOL * abs(expected)


def first_departure(got, expected, atol):
    """(step from 1, index in the row, got, expected) where two paths first disagree, or None.

    A path is a list of numbers, or of equally long rows of numbers (several variables).
    """
    for step, (g, e) in enumerate(zip(got, expected), start=1):
        rows = (g, e) if isinstance(e, list) else ([g], [e])
        for i, (gv, ev) in enumerate(zip(*rows)):
            if not close(gv, ev, atol):
                return step, i, gv, ev
    return None
