"""Does lesson 2's bug oracle name the mistake behind a wrong path, on any surface and with any
hyperparameters? (Buggy optimizers written here; the correct ones are the notebook's solutions.)"""

import numpy as np
import pytest
import tensorflow as tf

from autograder import generate, paths
from course_utils.hints_2d import HINTS, MISTAKES, diagnose, diagnose_several
from course_utils.selfcheck_2d import PublicCase, run_case
from course_utils.surfaces import HIMMELBLAU, ROSENBROCK, SADDLE, VALLEY, run_on_surface

NOTEBOOK = paths.SOLUTIONS_DIR / "optimizers_2d.ipynb"
STEPS = 30


@pytest.fixture(scope="module")
def solutions():
    """The notebook's solution classes, exec'd from its exercise cells."""
    namespace = {}
    exec(
        generate.solutions_module_source(generate.read_notebook(NOTEBOOK), NOTEBOOK.name), namespace
    )
    return {name: namespace[name] for name in ("NesterovMomentum", "Adagrad", "RMSprop")}


# --- Optimizers written the way students write them, each with one mistake ----------------------


class Written(tf.Module):
    """The shape of every exercise: state per variable, created on first sight; `accumulate`
    updates it, `step` is the move, `update` applies it."""

    def __init__(self, learning_rate=1e-3, **hyperparameters):
        self.learning_rate = learning_rate
        self.__dict__.update(self.DEFAULTS | hyperparameters)
        self.states = {}

    def state(self, var):
        if var.ref() not in self.states:
            self.states[var.ref()] = tf.Variable(tf.ones_like(var) * self.initial_state())
        return self.states[var.ref()]

    def initial_state(self):
        return 0.0

    def apply_gradients(self, grads, vars):
        for g, var in zip(grads, vars):
            state = self.state(var)
            self.accumulate(state, g)
            self.update(var, self.step(state, g))

    def update(self, var, step):
        var.assign_sub(step)


class Nesterov(Written):
    DEFAULTS = {"momentum": 0.9}

    def accumulate(self, v, g):
        v.assign(self.momentum * v + self.learning_rate * g)

    def step(self, v, g):
        return self.momentum * v + self.learning_rate * g


class Adagrad(Written):
    DEFAULTS = {"initial_accumulator_value": 0.1, "epsilon": 1e-7}

    def initial_state(self):
        return self.initial_accumulator_value

    def accumulate(self, s, g):
        s.assign_add(tf.square(g))

    def step(self, s, g):
        return self.learning_rate * g / tf.sqrt(s + self.epsilon)


class RMSprop(Adagrad):
    DEFAULTS = {"rho": 0.9, "epsilon": 1e-7}

    def initial_state(self):
        return 0.0

    def accumulate(self, s, g):
        s.assign(self.rho * s + (1 - self.rho) * tf.square(g))


class SignFlipped:
    def update(self, var, step):
        var.assign_add(step)


class Rebinding:
    def update(self, var, step):
        var = var - step  # noqa: F841 - the mistake


class Forgetful:
    def apply_gradients(self, grads, vars):
        self.states = {}
        super().apply_gradients(grads, vars)


class SharedState:
    def state(self, var):
        if not hasattr(self, "shared"):
            self.shared = tf.Variable(tf.ones_like(var) * self.initial_state())
        return self.shared


class OnlyTheFirst:
    def apply_gradients(self, grads, vars):
        super().apply_gradients(grads[:1], vars[:1])


class NesterovNoRateInMove(Nesterov):
    def step(self, v, g):
        return self.momentum * v + g


class NesterovRateTwice(Nesterov):
    def step(self, v, g):
        return self.learning_rate * super().step(v, g)


class AsMomentum(Nesterov):
    def step(self, v, g):
        return v


class LookAheadFlipped(Nesterov):
    """Keras' sign convention for the move, the course's for the velocity."""

    def step(self, v, g):
        return self.learning_rate * g - self.momentum * v


class AdagradNoRate(Adagrad):
    def step(self, s, g):
        return g / tf.sqrt(s + self.epsilon)


class RMSpropRateTwice(RMSprop):
    def step(self, s, g):
        return self.learning_rate * super().step(s, g)


class AdagradNotSquared(Adagrad):
    def accumulate(self, s, g):
        s.assign_add(g)


class RMSpropNotSquared(RMSprop):
    def accumulate(self, s, g):
        s.assign(self.rho * s + (1 - self.rho) * g)


class FromZero(Adagrad):
    def initial_state(self):
        return 0.0


class RhoSwapped(RMSprop):
    def accumulate(self, s, g):
        s.assign((1 - self.rho) * s + self.rho * tf.square(g))


class SqrtForgotten:
    def step(self, s, g):
        return self.learning_rate * g / (s + self.epsilon)


class EpsilonOutside:
    def step(self, s, g):
        return self.learning_rate * g / (tf.sqrt(s) + self.epsilon)


def buggy(mistake, base):
    return type(f"{mistake.__name__}{base.__name__}", (mistake, base), {})


# Surfaces, starts (some off the notebook's) and hyperparameters that are never the defaults.
RUNS = {
    Nesterov: [
        (VALLEY, (-7.0, 2.0), {"learning_rate": 0.05, "momentum": 0.8}),
        (HIMMELBLAU, (1.0, -2.0), {"learning_rate": 0.005, "momentum": 0.6}),
        (ROSENBROCK, (-1.2, 1.0), {"learning_rate": 5e-4, "momentum": 0.95}),
    ],
    Adagrad: [
        (
            VALLEY,
            (-7.0, 2.0),
            {"learning_rate": 0.5, "initial_accumulator_value": 0.5, "epsilon": 1e-2},
        ),
        (
            SADDLE,
            (1.2, 0.3),
            {"learning_rate": 0.1, "initial_accumulator_value": 0.05, "epsilon": 1e-3},
        ),
        (
            HIMMELBLAU,
            (-0.3, -0.9),
            {"learning_rate": 0.2, "initial_accumulator_value": 1.0, "epsilon": 0.05},
        ),
    ],
    RMSprop: [
        (VALLEY, (-7.0, 2.0), {"learning_rate": 0.05, "rho": 0.8, "epsilon": 1e-3}),
        (SADDLE, (1.5, 1e-6), {"learning_rate": 0.02, "rho": 0.95, "epsilon": 1e-5}),
        (HIMMELBLAU, (-0.3, -0.9), {"learning_rate": 0.05, "rho": 0.7, "epsilon": 1e-2}),
    ],
}
NAMES = {Nesterov: "NesterovMomentum", Adagrad: "Adagrad", RMSprop: "RMSprop"}
MISTAKES_MADE = [  # (the class with the mistake, the optimizer it claims to be, the key)
    *[(buggy(SignFlipped, base), base, "sign") for base in RUNS],
    *[(buggy(Rebinding, base), base, "no_update") for base in RUNS],
    *[(buggy(Forgetful, base), base, "state_not_kept") for base in RUNS],
    (NesterovNoRateInMove, Nesterov, "learning_rate"),
    (NesterovRateTwice, Nesterov, "learning_rate"),
    (AdagradNoRate, Adagrad, "learning_rate"),
    (RMSpropRateTwice, RMSprop, "learning_rate"),
    (AsMomentum, Nesterov, "nesterov_as_momentum"),
    (LookAheadFlipped, Nesterov, "nesterov_lookahead_flipped"),
    (AdagradNotSquared, Adagrad, "accumulator_not_squared"),
    (RMSpropNotSquared, RMSprop, "accumulator_not_squared"),
    (FromZero, Adagrad, "accumulator_from_zero"),
    (RhoSwapped, RMSprop, "rho_swapped"),
    (buggy(SqrtForgotten, Adagrad), Adagrad, "sqrt_forgotten"),
    (buggy(SqrtForgotten, RMSprop), RMSprop, "sqrt_forgotten"),
    (buggy(EpsilonOutside, Adagrad), Adagrad, "epsilon_outside"),
    (buggy(EpsilonOutside, RMSprop), RMSprop, "epsilon_outside"),
]


def float32_gradient(surface):
    """The gradient as the optimizer was given it (TensorFlow's bits)."""
    return lambda values: surface.value_and_gradient(values)[1]


def float64_gradient(surface):
    """The same formula in float64: not the optimizer's bits."""
    return lambda values: np.array(surface.gradient(values[0], values[1]), dtype=np.float64)


def path_of(cls, surface, start, kwargs, steps=STEPS):
    return run_on_surface(cls(**kwargs), surface, start, steps=steps).path[1:].tolist()


def test_every_hint_has_its_mistake_named_for_instructors():
    assert HINTS.keys() == MISTAKES.keys()
    assert all(HINTS.values()) and all(MISTAKES.values())


@pytest.mark.parametrize(
    ("cls", "base", "key"),
    [pytest.param(*made, id=f"{made[0].__name__}-{made[2]}") for made in MISTAKES_MADE],
)
@pytest.mark.parametrize("gradient", [float32_gradient, float64_gradient])
def test_each_mistake_is_named_on_every_surface(cls, base, key, gradient):
    """Is each mistake named exactly, on three surfaces with hyperparameters the notebook never
    uses, whether the gradient given to the oracle has the optimizer's bits or not?"""
    for surface, start, kwargs in RUNS[base]:
        got = path_of(cls, surface, start, kwargs)
        found = diagnose(NAMES[base], gradient(surface), start, kwargs, got)
        assert found == key, f"{surface.name} from {start}, {kwargs}: {found}"


def test_a_mistake_that_shows_late_is_named():
    """Is a mistake invisible for dozens of steps named from the step where it shows? (Adagrad
    dividing by G instead of sqrt(G), with G = 1 while the run creeps away from the saddle.)"""
    kwargs, start = {"learning_rate": 0.05, "initial_accumulator_value": 1.0}, (1e-9, 1e-9)
    got = path_of(buggy(SqrtForgotten, Adagrad), SADDLE, start, kwargs, steps=150)
    right = path_of(Adagrad, SADDLE, start, kwargs, steps=150)
    np.testing.assert_allclose(got[:50], right[:50], rtol=1e-5, atol=0)  # looks right
    assert not np.allclose(got, right, rtol=1e-2, atol=0)  # is not
    assert diagnose("Adagrad", float32_gradient(SADDLE), start, kwargs, got) == "sqrt_forgotten"


@pytest.mark.parametrize("base", list(RUNS))
@pytest.mark.parametrize("gradient", [float32_gradient, float64_gradient])
def test_correct_optimizers_get_no_hint(solutions, base, gradient):
    """Do the notebook's solutions and the test's own correct classes get None, over long runs
    too (200 steps, the notebook's length)?"""
    name = NAMES[base]
    for cls in (solutions[name], base):
        for surface, start, kwargs in RUNS[base]:
            got = path_of(cls, surface, start, kwargs, steps=200)
            assert diagnose(name, gradient(surface), start, kwargs, got) is None


def test_defaults_fill_missing_hyperparameters(solutions):
    """Are missing keyword arguments Keras' defaults (the notebook's own runs)?"""
    got = path_of(buggy(Forgetful, RMSprop), SADDLE, SADDLE.start, {})
    assert diagnose("RMSprop", float32_gradient(SADDLE), SADDLE.start, {}, got) == "state_not_kept"
    right = path_of(solutions["RMSprop"], SADDLE, SADDLE.start, {"learning_rate": 0.05})
    assert (
        diagnose("RMSprop", float32_gradient(SADDLE), SADDLE.start, {"learning_rate": 0.05}, right)
        is None
    )


@pytest.mark.parametrize(
    "got",
    [
        [[float("nan"), float("nan")]] * 5,
        [[1.0, 2.0, 3.0]] * 3,  # rows of the wrong length
        [[1.0]] * 3,
        [],
        None,
        "path",
        [["a", "b"]],
        [[True, False]],
        [["1.0", "2.0"]],
        [[1.0, None]],
    ],
)
def test_garbage_gets_no_hint(got):
    """Does a malformed path give None rather than an error?"""
    for name in NAMES.values():
        assert (
            diagnose(name, float32_gradient(VALLEY), VALLEY.start, {"learning_rate": 0.1}, got)
            is None
        )


def test_garbage_arguments_get_no_hint():
    """Unknown optimizers, broken hyperparameters, failing gradients: None, never an error."""
    got = path_of(buggy(SignFlipped, Nesterov), VALLEY, VALLEY.start, {"learning_rate": 0.1})
    good = float32_gradient(VALLEY)
    assert diagnose("NesterovMomentum", good, VALLEY.start, {"learning_rate": 0.1}, got) == "sign"
    assert diagnose("Adam", good, VALLEY.start, {"learning_rate": 0.1}, got) is None
    assert diagnose("NesterovMomentum", good, VALLEY.start, {"learning_rate": "0.1"}, got) is None
    assert diagnose("NesterovMomentum", good, VALLEY.start, None, got) is None
    assert diagnose("NesterovMomentum", good, "start", {}, got) is None

    def failing(values):
        raise ZeroDivisionError

    assert diagnose("NesterovMomentum", failing, VALLEY.start, {"learning_rate": 0.1}, got) is None
    assert diagnose("NesterovMomentum", lambda v: [1.0], VALLEY.start, {}, got) is None


# --- Several variables at once -------------------------------------------------------------------

TWO = {
    Nesterov: {"learning_rate": 0.05, "momentum": 0.7},
    Adagrad: {"learning_rate": 0.2, "initial_accumulator_value": 0.3, "epsilon": 1e-3},
    RMSprop: {"learning_rate": 0.03, "rho": 0.8, "epsilon": 1e-4},
}


def two_variables(surface, starts):
    return PublicCase("two variables", surface, starts, 0.0, STEPS)


@pytest.mark.parametrize("base", list(TWO))
@pytest.mark.parametrize("surface", [VALLEY, HIMMELBLAU])
def test_several_variables(solutions, base, surface):
    """With two variables: None for the correct classes, shared_state for one state shared by
    both, no_update for a loop that stops after the first variable."""
    name, kwargs = NAMES[base], TWO[base]
    case = two_variables(surface, (surface.start, (1.5, -1.0)))
    flat = [surface.start, (1.5, -1.0)]

    def verdict(cls):
        return diagnose_several(name, case.gradient, flat, kwargs, run_case(cls(**kwargs), case))

    assert verdict(solutions[name]) is None
    assert verdict(base) is None
    assert verdict(buggy(SharedState, base)) == "shared_state"
    assert verdict(buggy(OnlyTheFirst, base)) == "no_update"


def test_several_variables_garbage():
    case = two_variables(VALLEY, (VALLEY.start, (1.5, -1.0)))
    for got in (None, [[1.0, 2.0]], [["a"] * 4]):
        assert diagnose_several("Adagrad", case.gradient, case.starts, {}, got) is None
    assert diagnose_several("Adagrad", case.gradient, ["a", "b"], {}, [[1.0] * 4]) is None
