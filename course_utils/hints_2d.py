"""What a wrong path of lesson 2's optimizers most likely means, found by a bug oracle.

`diagnose` replays, in float64 NumPy, the correct update rule and every typical wrong one of an
optimizer (Nesterov's momentum, Adagrad, RMSprop) along the path the student's optimizer took,
and names the one wrong rule that explains every step of it. Each rule is fed the gradients at the
student's own points (teacher forcing), so rounding never accumulates into a drift between two
trajectories and the verdict holds on any surface, from any start, with any hyperparameters.

No TensorFlow here: the grader imports this module outside the sandbox.
"""

import numpy as np

from course_utils import hints as lesson_1

# Mistakes of every lesson keep lesson 1's words.
SHARED = ("not_implemented", "no_update", "timeout", "delegation")

HINTS = {key: lesson_1.HINTS[key] for key in SHARED} | {
    "sign": "Your steps go uphill: the update subtracts the step, x <- x - step "
    "(var.assign_sub(step)); yours adds it.",
    "learning_rate": "Your steps point the right way but have the wrong size: the learning rate "
    "must scale the step exactly once (not zero times, not twice).",
    "state_not_kept": "Your first step is right, the later ones are not, as if every call started "
    "afresh: create each variable's state (velocity, accumulator, mean square) once, the first "
    "time you see the variable, keep it on self (e.g. in a dict keyed by var.ref()) and update "
    "that same tf.Variable at every later call.",
    "shared_state": "One variable works, several at once do not: each variable needs its own state "
    "(velocity, accumulator, mean square), a tf.Variable of its shape created for it alone, e.g. "
    "in a dict keyed by var.ref(); not one attribute for all, nor a key (shape, name) that two "
    "variables may share.",
    "nesterov_as_momentum": "Your steps are those of plain momentum, x <- x - v. Nesterov's move "
    "applies the new velocity once more on top of the fresh gradient step: after "
    "v <- momentum * v + learning_rate * g, move x <- x - (momentum * v + learning_rate * g).",
    "nesterov_lookahead_flipped": "The look-ahead term has the wrong sign: after "
    "v <- momentum * v + learning_rate * g, both terms are subtracted, "
    "x <- x - (momentum * v + learning_rate * g). (Keras stores m = -v and adds momentum * m - "
    "learning_rate * g: keep to one of the two conventions.)",
    "accumulator_not_squared": "The accumulator adds the square of the gradient, element-wise "
    "(tf.square(g)), not the gradient itself: a sum of raw gradients shrinks when they are "
    "negative, and its square root can fail (nan).",
    "accumulator_from_zero": "Adagrad's accumulator starts at initial_accumulator_value (0.1 by "
    "default), e.g. tf.Variable(tf.ones_like(var) * self.initial_accumulator_value), not at zero: "
    "from zero, your first step is about one learning rate in every coordinate, too big where "
    "the gradient is small.",
    "rho_swapped": "rho and 1 - rho are swapped: the mean square keeps rho of its old value and "
    "takes 1 - rho of the new squared gradient, S <- rho * S + (1 - rho) * g^2.",
    "sqrt_forgotten": "The step is divided by the square root of the accumulated squares, "
    "learning_rate * g / tf.sqrt(S + epsilon); yours divides by S + epsilon itself.",
    "epsilon_outside": "epsilon belongs inside the square root here, tf.sqrt(S + epsilon), as in "
    "Keras' Adagrad and RMSprop. Adam's sqrt(S) + epsilon is a different rule, which differs "
    "where the gradients are small or epsilon is large.",
}

# The same mistakes named for an instructor (the class report ranks them).
MISTAKES = {key: lesson_1.MISTAKES[key] for key in SHARED} | {
    "sign": "update with the wrong sign (adds the step instead of subtracting it)",
    "learning_rate": "step not scaled by the learning rate exactly once",
    "state_not_kept": "state (velocity, accumulator, mean square) rebuilt at every call",
    "shared_state": "one state shared by all variables instead of one per variable",
    "nesterov_as_momentum": "classical momentum (x -= v) instead of Nesterov's move",
    "nesterov_lookahead_flipped": "Nesterov's look-ahead term momentum * v with the wrong sign",
    "accumulator_not_squared": "accumulator adds the gradient, not its square",
    "accumulator_from_zero": "Adagrad's accumulator starts at 0, not initial_accumulator_value",
    "rho_swapped": "RMSprop's rho and 1 - rho swapped",
    "sqrt_forgotten": "step divided by S + epsilon instead of its square root",
    "epsilon_outside": "epsilon added outside the square root (Adam's rule, not Keras')",
}

# Keras' defaults (learning rate: the course classes' own default).
DEFAULTS = {
    "NesterovMomentum": {"learning_rate": 1e-3, "momentum": 0.9},
    "Adagrad": {"learning_rate": 1e-3, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "RMSprop": {"learning_rate": 1e-3, "rho": 0.9, "epsilon": 1e-7},
}

# A predicted move agrees with the student's when they differ by at most
#   RTOL * scale + NOISE * gradient noise + GRAIN * (|x_before| + |x_after|) + TINY,
# where `scale` is the same rule run on |g| with positive coefficients (the size of the terms
# before any cancellation), the gradient noise is how much the rule's move changes between
# gradients evaluated in float64 and in float32, and GRAIN * |x| covers the rounding of the new
# value to float32. A float32 implementation is within 1e-6 of the scale per step (one to a few
# roundings of each term, accumulated in the state); the mistakes differ by far more than 1e-4.
RTOL = 1e-4
NOISE = 4.0
GRAIN = 2.0**-23
TINY = 1e-37
FEW = 10  # steps compared beyond the first one the correct rule does not explain
MAX_STEPS = 500  # longer paths are judged on their first MAX_STEPS steps
FIRST_LOOK = 40  # steps judged first; the rest only when the correct rule explains them all


# --- Update rules: the moves x_(t-1) - x_t of each step, given the gradients g_0, g_1, ... -----


def _nesterov(g, learning_rate, momentum, step_rate, look_ahead=1.0, classical=False, keep=True):
    """v <- momentum * v + learning_rate * g; x <- x - (look_ahead * momentum * v + step_rate * g),
    or x <- x - v (classical); `keep=False`: v starts from zero at every call."""
    velocity, moves = np.zeros_like(g[0]), np.empty_like(g)
    for t, gradient in enumerate(g):
        velocity = (momentum * velocity if keep else 0.0) + learning_rate * gradient
        moves[t] = (
            velocity if classical else look_ahead * momentum * velocity + step_rate * gradient
        )
    return moves


def _scaled(g, learning_rate, epsilon, decay, fresh, initial, square=True, keep=True, root="in"):
    """S <- decay * S + fresh * g^2 (from S = initial; from initial at every call if not `keep`;
    g instead of g^2 if not `square`), then x <- x - lr * g / d with d = sqrt(S + eps) ("in"),
    sqrt(S) + eps ("out") or S + eps ("none"). Adagrad: decay = fresh = 1; RMSprop: decay = rho,
    fresh = 1 - rho, initial = 0."""
    accumulator, moves = np.full_like(g[0], initial), np.empty_like(g)
    for t, gradient in enumerate(g):
        previous = accumulator if keep else np.full_like(gradient, initial)
        accumulator = decay * previous + fresh * (gradient * gradient if square else gradient)
        if root == "in":
            denominator = np.sqrt(accumulator + epsilon)
        elif root == "out":
            denominator = np.sqrt(accumulator) + epsilon
        else:
            denominator = accumulator + epsilon
        moves[t] = learning_rate * gradient / denominator
    return moves


def _still(g):
    return np.zeros_like(g)


def _rate(rule, rate):
    """Arguments that scale the whole step of `rule` by `rate` instead of the learning rate."""
    return {"learning_rate": rate} | ({"step_rate": rate} if rule is _nesterov else {})


def _rules(optimizer, hp):
    """[(key or None for the correct rule, function, keyword arguments, sign)] of `optimizer`."""
    lr = hp["learning_rate"]
    if optimizer == "NesterovMomentum":
        rule, base = _nesterov, {"learning_rate": lr, "momentum": hp["momentum"], "step_rate": lr}
        specific = [
            ("learning_rate", {"learning_rate": 1.0}),  # missing from the velocity
            ("learning_rate", {"step_rate": 1.0}),  # missing from the move
            ("nesterov_as_momentum", {"classical": True}),
            ("nesterov_lookahead_flipped", {"look_ahead": -1.0}),
        ]
    else:
        rule = _scaled
        if optimizer == "Adagrad":
            base = {"decay": 1.0, "fresh": 1.0, "initial": hp["initial_accumulator_value"]}
            specific = [("accumulator_from_zero", {"initial": 0.0})]
        else:
            rho = hp["rho"]
            base = {"decay": rho, "fresh": 1.0 - rho, "initial": 0.0}
            specific = [("rho_swapped", {"decay": 1.0 - rho, "fresh": rho})]
        base |= {"learning_rate": lr, "epsilon": hp["epsilon"]}
        specific += [
            ("accumulator_not_squared", {"square": False}),
            ("sqrt_forgotten", {"root": "none"}),
            ("epsilon_outside", {"root": "out"}),
        ]
    generic = [
        (None, {}, 1.0),
        ("sign", {}, -1.0),
        ("learning_rate", _rate(rule, 1.0), 1.0),  # missing
        ("learning_rate", _rate(rule, lr * lr), 1.0),  # applied twice
        ("state_not_kept", {"keep": False}, 1.0),
    ]
    rules = [(key, rule, base | change, sign) for key, change, sign in generic]
    rules += [(key, rule, base | change, 1.0) for key, change in specific]
    return rules + [("no_update", _still, {}, 1.0)]


def _positive(arguments):
    """The same arguments with every number made positive: the rule then adds sizes."""
    return {
        k: abs(v) if isinstance(v, float) and not isinstance(v, bool) else v
        for k, v in arguments.items()
    }


# --- Judging a path ------------------------------------------------------------------------------


class _Path:
    """A path (start first) with the gradients at its points, in float64 and in float32."""

    def __init__(self, points, gradient):
        self.points = points
        with np.errstate(all="ignore"):
            self.gradients = self._gradients(gradient, points[:-1])
            self.gradients32 = self._gradients(gradient, points[:-1].astype(np.float32))
            self.moves = points[:-1] - points[1:]

    @staticmethod
    def _gradients(gradient, points):
        rows = [
            np.asarray(gradient(point), dtype=np.float64).reshape(point.shape) for point in points
        ]
        return np.array(rows, dtype=np.float64)

    def agreement(self, function, arguments, sign, order=None):
        """(agrees, agrees on finite values), element-wise: does the rule explain each step?
        `order`: (interleave, undo), the gradients fed to the rule in another order and its moves
        put back, e.g. several variables taking turns through one shared state."""
        with np.errstate(all="ignore"):
            predicted = sign * self._run(function, arguments, self.gradients, order)
            rounded = sign * self._run(function, arguments, self.gradients32, order)
            scale = np.abs(self._run(function, _positive(arguments), np.abs(self.gradients), order))
            noise = np.where(np.isfinite(rounded), np.abs(predicted - rounded), 0.0)
            before, after = self.points[:-1], self.points[1:]
            tolerance = RTOL * scale + NOISE * noise + GRAIN * (np.abs(before) + np.abs(after))
            landed = (before - predicted).astype(np.float32)  # overflows as float32 does
            finite = np.isfinite(landed) & np.isfinite(after)
            close = np.abs(self.moves - predicted) <= tolerance + TINY
            agree = np.where(finite, close, np.isfinite(landed) == np.isfinite(after))
        return agree, agree & finite

    @staticmethod
    def _run(function, arguments, gradients, order):
        if order is None:
            return function(gradients, **arguments)
        interleave, undo = order
        return undo(function(interleave(gradients), **arguments))


def _verdict(path, rules, order=None):
    """The key of the one wrong rule that explains the path where the correct rule does not."""
    (_, function, arguments, sign), *wrong = rules
    correct, _ = path.agreement(function, arguments, sign)
    explained = correct.all(axis=1)
    if explained.all():
        return None
    window = min(len(explained), int(np.argmin(explained)) + 1 + FEW)
    found = set()
    for key, function, arguments, sign in wrong:
        agree, evidence = path.agreement(function, arguments, sign, order)
        if agree[:window].all() and (evidence[:window] & ~correct[:window]).any():
            found.add(key)
    return found.pop() if len(found) == 1 else None


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _points(start, got):
    """float32 start then the rows of `got` (at most MAX_STEPS) as a float64 array, or None."""
    try:
        start = np.asarray(start, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return None
    if start.size == 0 or not isinstance(got, (list, tuple, np.ndarray)) or len(got) == 0:
        return None
    rows = []
    for row in got[:MAX_STEPS]:
        values = row if isinstance(row, (list, tuple, np.ndarray)) else [row]
        if len(values) != start.size or not all(_is_number(v) for v in values):
            return None
        rows.append([float(v) for v in values])
    with np.errstate(all="ignore"):
        first = start.astype(np.float32).astype(np.float64)  # what the variable holds
    return np.vstack([first, np.array(rows, dtype=np.float64)])


def _hyperparameters(optimizer, kwargs):
    if optimizer not in DEFAULTS or not isinstance(kwargs, dict):
        return None
    hp = DEFAULTS[optimizer] | {k: v for k, v in kwargs.items() if k in DEFAULTS[optimizer]}
    if not all(_is_number(v) and np.isfinite(v) for v in hp.values()):
        return None
    return {k: float(v) for k, v in hp.items()}


def _prepare(optimizer, gradient, start, kwargs, got):
    """(the path with its gradients, the rules), or (None, None) when they cannot be had.

    The path is cut after FIRST_LOOK steps when the correct rule departs early enough there to
    leave FEW steps of evidence: gradients (a Python call per point) are the costly part."""
    hp, points = _hyperparameters(optimizer, kwargs), _points(start, got)
    if hp is None or points is None:
        return None, None
    rules = _rules(optimizer, hp)
    steps = len(points) - 1
    try:
        for length in sorted({min(FIRST_LOOK, steps), steps}):
            path = _Path(points[: length + 1], gradient)
            explained = path.agreement(*rules[0][1:])[0].all(axis=1)
            departs = not explained.all()
            if length == steps or (departs and np.argmin(explained) + 1 + FEW <= length):
                return path, rules
    except Exception:  # noqa: BLE001 - a gradient that fails on these points gives no hint
        pass
    return None, None


def diagnose(optimizer: str, gradient, start, kwargs: dict, got: list) -> str | None:
    """The key of the likeliest mistake behind a one-variable path `got` that departs from the
    correct one, or None when no single mistake explains it (or nothing is wrong).

    `optimizer`: "NesterovMomentum", "Adagrad" or "RMSprop"; `gradient(values)`: the gradient of
    the loss at the variable's values (a flat float64 NumPy array; any array of as many numbers
    back); `start`: the starting values; `kwargs`: the optimizer's arguments (missing ones take
    Keras' defaults); `got`: one row of the variable's values per step (flat), start excluded.
    Only the first MAX_STEPS rows count; each wrong rule must explain every step up to FEW past
    the first one the correct rule does not explain, within a tolerance float32 cannot break.
    """
    path, rules = _prepare(optimizer, gradient, start, kwargs, got)
    return None if path is None else _verdict(path, rules)


def diagnose_several(optimizer: str, gradient, starts: list, kwargs: dict, got: list) -> str | None:
    """The key for a run of several variables at once whose one-variable runs pass.

    `starts`: each variable's starting values; `got`: one row per step of all the variables'
    values, one after the other; `gradient(values)`: the gradient of the loss at such a row.
    None when the correct rule explains the path; the mistake of one variable when a single one
    explains its part (e.g. a loop that stops after the first variable: no_update); else
    "shared_state", which a run through one state in turn for each variable explains exactly,
    and which is the likeliest once each variable alone is handled right.
    """
    try:
        sizes = [np.asarray(start, dtype=np.float64).size for start in starts]
        flat = np.concatenate([np.asarray(start, dtype=np.float64).ravel() for start in starts])
    except (TypeError, ValueError):
        return None
    path, rules = _prepare(optimizer, gradient, flat, kwargs, got)
    if path is None:
        return None
    correct = path.agreement(*rules[0][1:])[0]
    if correct.all():
        return None
    if len(set(sizes)) == 1 and len(sizes) > 1:
        size = sizes[0]
        interleave = lambda g: g.reshape(-1, size)  # noqa: E731 - step by step, variable by variable
        undo = lambda moves: moves.reshape(-1, size * len(sizes))  # noqa: E731
        shared = [(None, *rules[0][1:])] + [("shared_state", *rules[0][1:])]
        if _verdict(path, shared, (interleave, undo)) == "shared_state":
            return "shared_state"
    bounds = np.cumsum([0] + sizes)
    for low, high in zip(bounds, bounds[1:]):
        if not correct[:, low:high].all():
            key = _verdict(_Slice(path, low, high), rules)
            if key is not None:
                return key
    return "shared_state"


class _Slice(_Path):
    """One variable's part of a path of several."""

    def __init__(self, path, low, high):
        self.points = path.points[:, low:high]
        self.gradients = path.gradients[:, low:high]
        self.gradients32 = path.gradients32[:, low:high]
        self.moves = path.moves[:, low:high]
