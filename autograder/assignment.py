"""What an assignment declares, and the one generic way the engine reads it.

An assignment is one lesson: a folder `autograder/assignments/<name>/` (or, for a test, anywhere)
holding
- `spec.py`: `ASSIGNMENT`, an `Assignment` (this module): its exercises, tests with points, cases,
  oracles, hints and the student-visible files generated from its solutions;
- `guest.py`: the problems and drivers that run the student's classes inside the sandbox (only
  this file of the folder is visible there), `run_case(cls, driver, params) -> JSON-ready data`;
- `samples.py`: sample submissions (correct, each typical bug, hostile) and what each must score;
- `references.json`: the expected result of every case, generated from the solutions.

Its source notebook is `solutions/<name>.ipynb` (nbgrader markers), from which `make student`
generates `notebooks/<name>.ipynb` and `solutions/<name>.py`.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import math
from collections.abc import Callable
from pathlib import Path

from autograder import paths

DEFINED = "defined"  # the key of the test "is defined and applies an update", in every assignment


@dataclasses.dataclass(frozen=True)
class Test:
    key: str
    title: str  # shown after "<Exercise>: "
    points: int
    public: bool


@dataclasses.dataclass(frozen=True)
class Case:
    """One run of a guest driver on one exercise with fixed parameters.

    `compare` says how its result is compared with the expected one (see `autograder.compare`):
    "convergence" ({outcome, iterations, path}), "path" ({path: numbers}), "rows" ({start, path:
    rows of numbers}), "paths" ({paths: [numbers, numbers]}) or "minimum" ({value: a number, what:
    its name}: at least the expected value minus `margin`, e.g. an accuracy after training).
    `oracle` names where its expected
    values come from: "solution" or a key of the assignment's `oracles`.
    """

    id: str
    exercise: str
    test: str  # the Test.key it belongs to
    driver: str
    params: dict
    public: bool
    compare: str = "path"
    oracle: str = "solution"
    shown: str = ""  # the settings in words, when the generic `settings()` cannot say them
    margin: float = 0.0  # "minimum": how far below the expected value still passes

    def job(self):
        """What the sandboxed runner needs to know of this case."""
        return {
            "id": self.id,
            "exercise": self.exercise,
            "driver": self.driver,
            "params": self.params,
        }

    def settings(self):
        """The case's settings in words (shown in feedback, hidden cases included)."""
        if self.shown:
            return self.shown
        params, parts = self.params, []
        if "surface" in params:
            parts.append(f"surface {params['surface']}")
        for key in ("init", "start"):
            if key in params:
                parts.append(f"{'x0' if key == 'init' else 'start'} = {_number(params[key])}")
        for key in ("kwargs", "kwargs_a", "kwargs_b"):
            if key in params:
                parts.append(", ".join(f"{k}={v:g}" for k, v in params[key].items()))
        if "shapes" in params:
            parts.append(
                "variables of shapes " + ", ".join(str(tuple(s)) for s in params["shapes"])
            )
        return "; ".join(parts)

    def starting_values(self):
        """The flat starting values of a one-update case ("init" or "start"), or None."""
        start = self.params.get("init", self.params.get("start"))
        if start is None:
            return None
        return [float(v) for v in (start if isinstance(start, (list, tuple)) else [start])]

    def learning_rate(self):
        """The (largest) learning rate of the case: it sets the absolute tolerance."""
        rates = [
            v.get("learning_rate", 1e-3) for k, v in self.params.items() if k.startswith("kwargs")
        ]
        return max(rates) if rates else 1e-3

    def element(self, i):
        """' (variable k of shape s, element j)' for flat index i of a several-variable case."""
        for k, shape in enumerate(self.params.get("shapes", ())):
            size = math.prod(shape)
            if i < size:
                return f" (variable {k + 1} of shape {tuple(shape)}, element {i})"
            i -= size
        if "start" in self.params and isinstance(self.params["start"], (list, tuple)):
            return f" ({'xy'[i] if len(self.params['start']) == 2 and i < 2 else f'element {i}'})"
        return ""


def _number(value):
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(f"{v:g}" for v in value) + ")"
    return f"{value:g}"


@dataclasses.dataclass(frozen=True)
class Assignment:
    """A lesson as the engine sees it. Everything lesson-specific is a field here.

    Hooks (all run in the trusted grader, on plain data):
    - `oracles`: {name: "module:attribute"}, the class (or function) with the exercise's
      interface that gives the expected values of the cases naming it: an independent
      implementation (Keras, NumPy), imported only when references are built;
    - `diagnose(submission, case, record) -> hint key | None`: the likeliest mistake behind a
      failed case (`submission` is `autograder.evaluate.Submission`), keys of `hints`;
    - `public_plots(run, references) -> [(title, PNG bytes)]`: the student's public runs drawn
      against the expected ones on the feedback page;
    - `public_files() -> {path: text}`: student-visible files generated from the solutions
      (the self-checks' expected paths), rewritten by `build-references`.
    """

    name: str  # the folder, the notebook's stem and nbgrader's assignment id
    title: str
    teaches: str  # one sentence for the README's list of lessons
    exercises: dict  # exercise (class) name -> grade_id of the cell defining it, in order
    tests: dict  # exercise -> [Test], in the order students read them
    cases: tuple
    folder: Path
    hints: dict = dataclasses.field(default_factory=dict)  # key -> student-facing text
    mistakes: dict = dataclasses.field(default_factory=dict)  # key -> instructor-facing text
    oracles: dict = dataclasses.field(default_factory=dict)
    diagnose: Callable | None = None
    public_plots: Callable | None = None
    public_files: Callable | None = None
    forbidden: tuple = ()  # dotted names its exercises may not use, beyond the course-wide ones
    examples: dict = dataclasses.field(default_factory=dict)  # example student -> sample name
    solutions_dir: Path = paths.SOLUTIONS_DIR
    student_dir: Path = paths.STUDENT_DIR

    # --- files ---------------------------------------------------------------------------------
    @property
    def notebook(self):
        return f"{self.name}.ipynb"

    @property
    def solution_notebook(self):
        return self.solutions_dir / self.notebook

    @property
    def student_notebook(self):
        return self.student_dir / self.notebook

    @property
    def solutions_module(self):
        return self.solutions_dir / f"{self.name}.py"

    @property
    def guest(self):
        """The file that runs inside the sandbox: problems and drivers."""
        return self.folder / "guest.py"

    @property
    def references_path(self):
        return self.folder / "references.json"

    @property
    def examples_dir(self):
        return self.folder / "examples"

    # --- tests and cases -----------------------------------------------------------------------
    def tests_for(self, exercise):
        return self.tests[exercise]

    def shown_name(self, exercise, test):
        """What students, results.json and every report call a test: "<Exercise>: <title>"."""
        return f"{exercise}: {test.title}"

    def all_shown_names(self):
        return [self.shown_name(e, t) for e in self.exercises for t in self.tests_for(e)]

    def cases_of(self, exercise, key):
        return [c for c in self.cases if c.exercise == exercise and c.test == key]

    @functools.cached_property
    def case_by_id(self):
        return {case.id: case for case in self.cases}

    def max_score(self):
        return sum(t.points for e in self.exercises for t in self.tests_for(e))

    def subtotals(self):
        """{exercise: its points}."""
        return {e: sum(t.points for t in self.tests_for(e)) for e in self.exercises}

    def references(self):
        """{case id: expected result}, from the generated file."""
        return _load_references(self.references_path)

    def solution_class(self, exercise):
        """The hidden solution of an exercise, from the module generated from the notebook."""
        namespace = _solutions_namespace(self.solutions_module)
        return namespace[exercise]

    def oracle_class(self, case):
        """The class whose behaviour defines the expected result of `case`."""
        if case.oracle == "solution":
            return self.solution_class(case.exercise)
        module, _, attribute = self.oracles[case.oracle].partition(":")
        return getattr(importlib.import_module(module), attribute)

    def validate(self):
        """Raise ValueError when the declaration contradicts itself (checked at registration)."""
        if list(self.tests) != list(self.exercises):
            raise ValueError(f"{self.name}: tests must be given for each exercise, in order")
        keys = {(e, t.key) for e in self.exercises for t in self.tests_for(e)}
        for case in self.cases:
            if (case.exercise, case.test) not in keys:
                raise ValueError(f"{self.name}: case {case.id} belongs to no test")
            if case.oracle != "solution" and case.oracle not in self.oracles:
                raise ValueError(f"{self.name}: case {case.id} names an unknown oracle")
        for name, target in self.oracles.items():
            if not isinstance(target, str) or ":" not in target:
                raise ValueError(f"{self.name}: oracle {name} is not 'module:attribute'")
        empty = [k for k in keys if not any((c.exercise, c.test) == k for c in self.cases)]
        if empty:
            raise ValueError(f"{self.name}: tests without a case: {sorted(empty)}")
        if len(self.case_by_id) != len(self.cases):
            raise ValueError(f"{self.name}: two cases share an id")


class CaseList:
    """Builds an assignment's cases with numbered ids: "<Exercise>/<test>/<n>"."""

    def __init__(self):
        self.cases = []

    def add(
        self,
        exercise,
        test,
        driver,
        params,
        public=False,
        compare="path",
        oracle="solution",
        shown="",
        margin=0.0,
    ):
        n = sum(c.exercise == exercise and c.test == test for c in self.cases)
        case_id = f"{exercise}/{test}/{n}"
        self.cases.append(
            Case(case_id, exercise, test, driver, params, public, compare, oracle, shown, margin)
        )


@functools.cache
def _load_references(path):
    return json.loads(Path(path).read_text())["cases"]


@functools.cache
def _solutions_namespace(path):
    namespace = {"__name__": f"solutions_{Path(path).stem}"}
    exec(compile(Path(path).read_text(), str(path), "exec"), namespace)
    return namespace
