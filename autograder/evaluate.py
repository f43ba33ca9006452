"""Score a SubmissionRun by running the hidden pytest tests on its data.

Runs in the trusted grader process: the tests only compare plain data with the reference data,
so nothing the student wrote executes here.
"""

import dataclasses
import math
import struct
from pathlib import Path

import pytest

from autograder import cases as catalogue
from autograder.compare import compare_result, step_tolerance
from course_utils.hints import HINTS, diagnose, diagnose_several
from course_utils.tolerance import first_departure

CHECKS_DIR = Path(__file__).with_name("checks")


@dataclasses.dataclass
class CheckResult:
    name: str  # "<Optimizer>: <title>"
    optimizer: str
    key: str
    score: float
    max_score: float
    passed: bool
    output: str
    hint: str | None = None  # the key in course_utils.hints.HINTS of the hint in `output`


class Submission:
    """What a hidden test sees: the run's data, the references, and two ways to fail."""

    def __init__(self, run, references):
        self.run, self.references = run, references
        self.last_hint = None  # key of the hint given by the running test, if any

    def require_class(self, optimizer):
        info = self.run.classes.get(optimizer)
        if not info or not info.get("defined"):
            pytest.fail(self.run.class_problem(optimizer), pytrace=False)

    def require_update(self, optimizer):
        """One update moves the variable to a finite value (any value): judged on the path.

        The sandbox's claim that the class is defined is never enough (student code runs in the
        sandbox's process and could write any event): the point needs a returned path in which
        the variable moved, as only a real update (right or wrong) gives it.
        """
        self.require_class(optimizer)
        for case in catalogue.cases_of(optimizer, "defined"):
            record = self.run.results.get(case.id) or {"error": "not run"}
            if record.get("error"):
                pytest.fail(
                    f"one update ({case.settings()}): {record['error']}{self.hint(case, record)}",
                    pytrace=False,
                )
            path = (record.get("result") or {}).get("path")
            if not (isinstance(path, list) and len(path) == 1 and _finite(path[0])):
                pytest.fail(
                    f"one update ({case.settings()}) did not leave a finite number", pytrace=False
                )
            if path[0] == _float32(case.params["init"]):
                self.last_hint = "no_update"
                pytest.fail(
                    f"one update ({case.settings()}) left the variable where it was. "
                    f"Hint: {HINTS['no_update']}",
                    pytrace=False,
                )

    def check(self, optimizer, key):
        """Fail with a student-facing message at the first case of this test that differs."""
        self.require_class(optimizer)
        for case in catalogue.cases_of(optimizer, key):
            record = self.run.results.get(case.id) or {"error": "not run"}
            settings = case.settings()
            if record.get("error"):
                pytest.fail(
                    f"{settings}: {record['error']}{self.hint(case, record)}", pytrace=False
                )
            verdict = compare_result(case, record.get("result"), self.references[case.id])
            if not verdict.passed:
                pytest.fail(
                    f"{settings}: {verdict.message}{self.hint(case, record)}", pytrace=False
                )

    def several_hint(self, case):
        """shared_state; state_keyed_by_shape when the first variable to go wrong has the shape
        of an earlier one; step_counter_per_variable when the second variable's first move has
        the size a per-variable step counter gives it."""
        expected = self.references[case.id]
        start, first = expected["start"], (self.run.results[case.id].get("result") or {})
        row = (first.get("path") or [None])[0]
        second = len(start) > 1 and isinstance(row, list) and len(row) == len(start)
        if not second or not all(isinstance(v, (int, float)) for v in row[:2]):
            return "shared_state"
        lr = case.params["kwargs"]["learning_rate"]
        first_moves = [row[0] - start[0], row[1] - start[1]]
        return diagnose_several(case.optimizer, first_moves, lr, self._shape_seen_before(case))

    def _shape_seen_before(self, case):
        """Is the first variable to leave its path of the same shape as an earlier one?"""
        expected = self.references[case.id]["path"]
        got = (self.run.results[case.id].get("result") or {}).get("path")
        width = len(expected[0])
        if not isinstance(got, list) or not all(
            isinstance(row, list) and len(row) == width for row in got
        ):
            return False
        departure = first_departure(got, expected, step_tolerance(case))
        if departure is None:
            return False
        shapes, index = [tuple(s) for s in case.params["shapes"]], departure[1]
        for k, shape in enumerate(shapes):
            index -= math.prod(shape)
            if index < 0:
                return shape in shapes[:k]
        return False

    def passes(self, case):
        record = self.run.results.get(case.id) or {}
        if record.get("error"):
            return False
        return compare_result(case, record.get("result"), self.references[case.id]).passed

    def hint(self, case, record):
        """' Hint: ...' from the shared vocabulary of course_utils.hints, or ''."""
        key = None
        error = record.get("error") or ""
        if "timed out" in error or "longer than" in error:
            key = "timeout"
        elif case.driver == "variables":
            singles = [
                c
                for c in catalogue.CASES
                if c.optimizer == case.optimizer and c.driver == "convergence"
            ]
            if all(self.passes(c) for c in singles):
                key = self.several_hint(case)
        elif case.driver in ("convergence", "steps") and not error and case.test != "defined":
            result = record.get("result") or {}
            key = diagnose(
                case.optimizer,
                case.params["init"],
                result.get("path"),
                self.references[case.id]["path"],
                case.params["kwargs"]["learning_rate"],
            )
        self.last_hint = key
        return f" Hint: {HINTS[key]}" if key else ""


def _float32(value):
    """`value` rounded to float32, as a variable holds it."""
    return struct.unpack("f", struct.pack("f", value))[0]


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class GradingPlugin:
    """Provides the `submission` fixture and records each test's outcome with its points."""

    def __init__(self, run, references):
        self._submission = Submission(run, references)
        self.results = []

    @pytest.fixture
    def submission(self):
        return self._submission

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when == "setup":
            self._submission.last_hint = None
        if report.when == "call" or (report.when == "setup" and report.failed):
            hint = None if report.passed else self._submission.last_hint
            self.results.append(_result(item, report, hint))


def _result(item, report, hint=None):
    params = item.callspec.params
    key = item.get_closest_marker("grade").args[0].format(**params)
    optimizer = params["optimizer"]
    test = next(t for t in catalogue.tests_for(optimizer) if t.key == key)
    message = "" if report.passed else _message(report)
    return CheckResult(
        name=catalogue.shown_name(optimizer, test),
        optimizer=optimizer,
        key=key,
        score=float(test.points) if report.passed else 0.0,
        max_score=float(test.points),
        passed=report.passed,
        output=message,
        hint=hint,
    )


def _message(report):
    return report.longreprtext.strip().removeprefix("Failed: ")


def evaluate(run, references):
    """The CheckResults of a SubmissionRun, in the order of the hidden test files."""
    if run.error:
        return not_graded(run.error)
    plugin = GradingPlugin(run, references)
    # No terminal reporter: pytest prints nothing, so no stream needs redirecting (which would
    # silence every thread of the process) and a warm-up may run it in a thread (grade.py).
    args = [str(CHECKS_DIR), "-c", str(CHECKS_DIR / "pytest.ini"), "-p", "no:terminal"]
    code = pytest.main(args + ["-p", "no:randomly"], plugins=[plugin])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise RuntimeError(f"the hidden tests could not run (pytest exit code {code})")
    return sorted(plugin.results, key=_order)


def _order(result):
    """Students read the tests optimizer by optimizer, in the catalogue's order."""
    keys = [t.key for t in catalogue.tests_for(result.optimizer)]
    return catalogue.OPTIMIZERS.index(result.optimizer), keys.index(result.key)


def not_graded(reason):
    """A zero for every test, each saying why."""
    return [
        CheckResult(
            catalogue.shown_name(optimizer, test),
            optimizer,
            test.key,
            0.0,
            float(test.points),
            False,
            f"not graded: {reason}",
        )
        for optimizer in catalogue.OPTIMIZERS
        for test in catalogue.tests_for(optimizer)
    ]
