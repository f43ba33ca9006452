"""Score a SubmissionRun by running the hidden pytest tests on its data.

Runs in the trusted grader process: the tests only compare plain data with the reference data,
so nothing the student wrote executes here. The tests (`checks/`) are generic: one per (exercise,
test) of the assignment, which a plugin provides with the `submission` fixture.
"""

import dataclasses
import math
import struct
from pathlib import Path

import pytest

from autograder import delegation
from autograder.assignment import DEFINED
from autograder.compare import compare_result
from autograder.guest import protocol

CHECKS_DIR = Path(__file__).with_name("checks")
DELEGATION = "delegation"  # the hint key of the course-wide rule; its text is the message


@dataclasses.dataclass
class CheckResult:
    name: str  # "<Exercise>: <title>"
    exercise: str
    key: str
    score: float
    max_score: float
    passed: bool
    output: str
    hint: str | None = None  # the key in the assignment's hints of the hint in `output`


class Submission:
    """What a hidden test sees: the run's data, the references, and two ways to fail."""

    def __init__(self, run, references, assignment, delegated=None):
        self.run, self.references, self.assignment = run, references, assignment
        self.delegated = delegated or {}  # exercise -> delegation.Finding
        self.last_hint = None  # key of the hint given by the running test, if any

    def require_class(self, exercise):
        finding = self.delegated.get(exercise)
        if finding is not None:
            self.last_hint = DELEGATION
            pytest.fail(finding.message(), pytrace=False)
        info = self.run.classes.get(exercise)
        if not info or not info.get("defined"):
            pytest.fail(self.run.class_problem(exercise), pytrace=False)

    def require_update(self, exercise):
        """One update moves the variables to finite values (any values): judged on the path.
        (An exercise whose "defined" case has no starting values, a function or a schedule,
        must return a non-empty path of finite numbers instead.)

        The sandbox's claim that the class is defined is never enough (student code runs in the
        sandbox's process and could write any event): the point needs a returned path in which
        the variable moved, as only a real update (right or wrong) gives it.
        """
        self.require_class(exercise)
        for case in self.assignment.cases_of(exercise, DEFINED):
            record = self.run.results.get(case.id) or {"error": "not run"}
            if record.get("error"):
                pytest.fail(
                    f"one update ({case.settings()}): {record['error']}{self.hint(case, record)}",
                    pytrace=False,
                )
            result = record.get("result")
            path = result.get("path") if isinstance(result, dict) else None
            start = case.starting_values()
            if start is None:  # a function or a schedule: it must return finite values
                if not (isinstance(path, list) and path and all(map(_finite_row, path))):
                    pytest.fail(
                        f"one call ({case.settings()}) did not return finite numbers",
                        pytrace=False,
                    )
                continue
            first = path[0] if isinstance(path, list) and len(path) == 1 else None
            values = first if isinstance(first, list) else [first]
            if not (all(map(_finite, values)) and len(values) == len(start)):
                pytest.fail(
                    f"one update ({case.settings()}) did not leave a finite number", pytrace=False
                )
            if [float(v) for v in values] == [_float32(v) for v in start]:
                self.last_hint = "no_update"
                pytest.fail(
                    f"one update ({case.settings()}) left the variable where it was. "
                    f"Hint: {self.assignment.hints['no_update']}",
                    pytrace=False,
                )

    def check(self, exercise, key):
        """Fail with a student-facing message at the first case of this test that differs."""
        self.require_class(exercise)
        for case in self.assignment.cases_of(exercise, key):
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

    def passes(self, case):
        record = self.run.results.get(case.id) or {}
        if record.get("error"):
            return False
        return compare_result(case, record.get("result"), self.references[case.id]).passed

    def hint(self, case, record):
        """' Hint: ...' from the assignment's vocabulary, or ''."""
        key = None
        if record.get("limit") in protocol.TIMEOUTS:
            key = "timeout"
        elif self.assignment.diagnose is not None:
            key = self.assignment.diagnose(self, case, record)
        if key not in self.assignment.hints:
            key = None
        self.last_hint = key
        return f" Hint: {self.assignment.hints[key]}" if key else ""


def _float32(value):
    """`value` rounded to float32, as a variable holds it."""
    return struct.unpack("f", struct.pack("f", value))[0]


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _finite_row(row):
    """A finite number, or a non-empty list of them."""
    if isinstance(row, list):
        return bool(row) and len(row) <= 100_000 and all(map(_finite, row))
    return _finite(row)


class GradingPlugin:
    """Provides the `submission` fixture, the tests' parameters, and records each test's outcome
    with its points."""

    def __init__(self, run, references, assignment, delegated=None):
        self._submission = Submission(run, references, assignment, delegated)
        self.assignment = assignment
        self.results = []

    def pytest_generate_tests(self, metafunc):
        if "exercise" in metafunc.fixturenames and "key" in metafunc.fixturenames:
            pairs = [
                (e, t.key) for e in self.assignment.exercises for t in self.assignment.tests[e]
            ]
            ids = [f"{e}-{k}" for e, k in pairs]
            metafunc.parametrize(("exercise", "key"), pairs, ids=ids)

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
            self.results.append(_result(self.assignment, item, report, hint))


def _result(assignment, item, report, hint=None):
    exercise, key = item.callspec.params["exercise"], item.callspec.params["key"]
    test = next(t for t in assignment.tests_for(exercise) if t.key == key)
    return CheckResult(
        name=assignment.shown_name(exercise, test),
        exercise=exercise,
        key=key,
        score=float(test.points) if report.passed else 0.0,
        max_score=float(test.points),
        passed=report.passed,
        output="" if report.passed else _message(report),
        hint=hint,
    )


def _message(report):
    return report.longreprtext.strip().removeprefix("Failed: ")


def delegated_exercises(run, assignment):
    """{exercise: first Finding} of the exercises that hand their work to a library."""
    last = max(run.sources, default=-1)
    cells = [run.sources[i][0] if i in run.sources else "" for i in range(last + 1)]
    forbidden = delegation.COMMON_FORBIDDEN + tuple(assignment.forbidden)
    found = {}
    for finding in delegation.find_delegation(cells, list(assignment.exercises), forbidden):
        found.setdefault(finding.exercise, finding)
    return found


def evaluate(run, references, assignment):
    """The CheckResults of a SubmissionRun, in the order students read them."""
    if run.error:
        return not_graded(run.error, assignment)
    plugin = GradingPlugin(run, references, assignment, delegated_exercises(run, assignment))
    # No terminal reporter: pytest prints nothing, so no stream needs redirecting (which would
    # silence every thread of the process) and a warm-up may run it in a thread (grade.py).
    args = [str(CHECKS_DIR), "-c", str(CHECKS_DIR / "pytest.ini"), "-p", "no:terminal"]
    code = pytest.main(args + ["-p", "no:randomly"], plugins=[plugin])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise RuntimeError(f"the hidden tests could not run (pytest exit code {code})")
    order = assignment.all_shown_names()
    return sorted(plugin.results, key=lambda result: order.index(result.name))


def not_graded(reason, assignment):
    """A zero for every test, each saying why."""
    return [
        CheckResult(
            assignment.shown_name(exercise, test),
            exercise,
            test.key,
            0.0,
            float(test.points),
            False,
            f"not graded: {reason}",
        )
        for exercise in assignment.exercises
        for test in assignment.tests_for(exercise)
    ]
