"""The grading cases and the tests they belong to: one table, read by every other part.

A case runs one driver of `autograder.sandboxed.drivers` on one optimizer class with fixed
parameters. A test (what a student sees, with points) passes when all its cases match the
reference. Public cases are the runs the notebook itself shows (x0 = 2, the guide's three learning
rates); their expected values may appear in feedback. Hidden cases use starting points, learning
rates and hyperparameters the notebook never shows; feedback names their settings, never their
expected values.

Step budgets are small on purpose: a student's eager step costs about 1 ms here, and every common
bug shows within a few steps (most at the first or second; see `tests/autograder/samples.py`).
The guide's runs take 120 steps, enough to see Momentum at learning rate 0.01 converge (80).

Each common way to be wrong and still pass once needs a case that tells it apart (each has a
sample in `tests/autograder/samples.py`):
- state keyed by `tuple(var.shape)` or `var.name`: two of the several variables share a shape
  (and every variable is named "Variable:0");
- Adam without epsilon, or with it inside the square root: one hyperparameter case uses ep = 1,
  comparable to sqrt(s_hat) (Keras' documentation suggests 1.0 or 0.1 for some networks);
- an `apply_gradients` that changes nothing (`var = var - step`): "is defined" requires the
  variable to move, judged on the returned path.
"""

import dataclasses

OPTIMIZERS = ("GradientDescent", "Momentum", "Adam")
GUIDE_LEARNING_RATES = (1e-3, 1e-2, 1e-1)
GUIDE_STEPS = 120
OTHER_RUN_STEPS = 80
HYPERPARAMETER_STEPS = 80
ORACLE_STEPS = 100
MULTI_SHAPES = [[], [3], [2, 3], [3]]  # two of one shape: state per variable, not per shape
MULTI_STEPS = 45  # four variables for 45 steps cost what three did for 60


@dataclasses.dataclass(frozen=True)
class Test:
    key: str
    title: str  # shown after "<Optimizer>: "
    points: int
    public: bool


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    optimizer: str
    test: str  # the Test.key it belongs to
    driver: str
    params: dict
    public: bool
    oracle: str = "solution"  # where expected values come from: solution, keras or numpy

    def job(self):
        """What the sandboxed runner needs to know of this case."""
        return {
            "id": self.id,
            "optimizer": self.optimizer,
            "driver": self.driver,
            "params": self.params,
        }

    def settings(self):
        """The case's settings in words (shown in feedback, hidden cases included)."""
        params = self.params
        parts = []
        if "init" in params:
            parts.append(f"x0 = {params['init']:g}")
        for key in ("kwargs", "kwargs_a", "kwargs_b"):
            if key in params:
                parts.append(", ".join(f"{k}={v:g}" for k, v in params[key].items()))
        if "shapes" in params:
            parts.append(
                "variables of shapes " + ", ".join(str(tuple(s)) for s in params["shapes"])
            )
        return "; ".join(parts)


def _tests():
    tests = [Test("defined", "is defined and applies an update", 1, True)]
    tests += [
        Test(f"guide_{lr:g}", f"the guide's run, learning rate {lr:g}", 1, True)
        for lr in GUIDE_LEARNING_RATES
    ]
    tests += [
        Test("other_runs", "other starting points and learning rates", 2, False),
        Test("hyperparameters", "other hyperparameters", 1, False),
        Test("variables", "several variables at once", 2, False),
        Test("instances", "separate instances keep separate state", 1, False),
    ]
    return tests


TESTS = _tests()
ORACLE_TESTS = {
    "GradientDescent": Test("oracle", "agrees with Keras SGD", 1, False),
    "Momentum": Test("oracle", "agrees with Keras SGD with momentum", 1, False),
    "Adam": Test("oracle", "agrees with a float64 textbook Adam", 1, False),
}

# Settings the notebook never shows, per optimizer.
HYPERPARAMETERS = {
    "GradientDescent": [{"learning_rate": 0.003}, {"learning_rate": 0.035}],
    "Momentum": [
        {"learning_rate": 0.004, "momentum": 0.9},
        {"learning_rate": 0.02, "momentum": 0.3},
    ],
    "Adam": [
        {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.99, "ep": 1.0},
        {"learning_rate": 0.02, "beta_1": 0.95, "beta_2": 0.9999, "ep": 1e-8},
    ],
}
OTHER_RUNS = [(-1.8, 0.02), (0.6, 0.05), (1.4, 0.004)]
MULTI_LEARNING_RATE = {"GradientDescent": 0.01, "Momentum": 0.01, "Adam": 0.05}
ORACLE_SETTINGS = {
    "GradientDescent": {"learning_rate": 0.015},
    "Momentum": {"learning_rate": 0.015, "momentum": 0.8},
    "Adam": {"learning_rate": 0.02},
}


def tests_for(optimizer):
    """The tests of one optimizer, in the order students see them."""
    return TESTS + [ORACLE_TESTS[optimizer]]


def shown_name(optimizer, test):
    """What students, results.json and every report call a test: "<Optimizer>: <title>"."""
    return f"{optimizer}: {test.title}"


def all_shown_names():
    """Every test's shown name, optimizer by optimizer, in the order students read them."""
    return [shown_name(o, t) for o in OPTIMIZERS for t in tests_for(o)]


def _cases_for(optimizer):
    cases = []

    def add(test, driver, params, public=False, oracle="solution"):
        n = sum(c.test == test for c in cases)
        cases.append(
            Case(f"{optimizer}/{test}/{n}", optimizer, test, driver, params, public, oracle)
        )

    add("defined", "steps", {"kwargs": {"learning_rate": 0.01}, "init": 1.5, "count": 1})
    for lr in GUIDE_LEARNING_RATES:
        add(
            f"guide_{lr:g}",
            "convergence",
            {"kwargs": {"learning_rate": lr}, "init": 2.0, "max_iters": GUIDE_STEPS},
            public=True,
        )
    for init, lr in OTHER_RUNS:
        add(
            "other_runs",
            "convergence",
            {"kwargs": {"learning_rate": lr}, "init": init, "max_iters": OTHER_RUN_STEPS},
        )
    for kwargs in HYPERPARAMETERS[optimizer]:
        add(
            "hyperparameters",
            "convergence",
            {"kwargs": kwargs, "init": 1.7, "max_iters": HYPERPARAMETER_STEPS},
        )
    add(
        "variables",
        "variables",
        {
            "kwargs": {"learning_rate": MULTI_LEARNING_RATE[optimizer]},
            "shapes": MULTI_SHAPES,
            "seed": 7,
            "count": MULTI_STEPS,
        },
    )
    add(
        "instances",
        "instances",
        {
            "kwargs_a": {"learning_rate": 0.01},
            "kwargs_b": {"learning_rate": 0.03},
            "init_a": 1.5,
            "init_b": -1.7,
            "count": 40,
        },
    )
    add(
        "oracle",
        "steps",
        {"kwargs": ORACLE_SETTINGS[optimizer], "init": 1.2, "count": ORACLE_STEPS},
        oracle="numpy" if optimizer == "Adam" else "keras",
    )
    return cases


CASES = [case for optimizer in OPTIMIZERS for case in _cases_for(optimizer)]
CASES_BY_ID = {case.id: case for case in CASES}


def cases_of(optimizer, test_key):
    return [c for c in CASES if c.optimizer == optimizer and c.test == test_key]


def max_score():
    return sum(t.points for optimizer in OPTIMIZERS for t in tests_for(optimizer))
