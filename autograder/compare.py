"""Compare a submission's result of one case with the expected one; explain the first difference.

Each case says which kind of result it has (`Case.compare`): "convergence", "path", "rows" or
"paths" (see `autograder.assignment.Case`). The tolerance is course_utils.tolerance's, the same
the students' self-checks use. A run that stops because x stopped changing counts as staying
where it stopped, so an exact "Converged in N" is never required.
"""

import dataclasses
import math

from course_utils.tolerance import absolute_tolerance, first_departure

MAX_PATH = 100_000


@dataclasses.dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str = ""
    step: int | None = None  # first step (from 1) where the path leaves the expected one


def step_tolerance(case):
    """The absolute part of the tolerance of a case, from its (largest) learning rate."""
    return absolute_tolerance(case.learning_rate())


def _numbers(path, width=None):
    """Is `path` a list of numbers (or of equal-length lists of numbers)?"""
    if not isinstance(path, list) or len(path) > MAX_PATH:
        return False
    if width is None:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in path)
    return all(isinstance(row, list) and len(row) == width and _numbers(row) for row in path)


def _extend(path, length, stopped):
    """A run that stopped because x stopped changing stays at its last value."""
    if stopped and path and len(path) < length:
        return path + [path[-1]] * (length - len(path))
    return path


def _describe(step, got, expected, public, where=""):
    at = f"at step {step}{where}"
    if public:
        return f"your path leaves the expected one {at}: expected {expected:.7g}, got {got:.7g}"
    if math.isfinite(got) and math.isfinite(expected) and expected != 0:
        off = abs(got - expected) / abs(expected)
        return f"your path leaves the expected one {at} (off by about {off:.0e} relative)"
    return f"your path leaves the expected one {at} (got {got:.7g})"


def compare_path(got, expected, public, atol, where=lambda i: ""):
    """First step where two equally long lists of numbers (or rows) differ, as a Verdict."""
    departure = first_departure(got, expected, atol)
    if departure is not None:
        step, i, gv, ev = departure
        return Verdict(False, _describe(step, gv, ev, public, where(i)), step)
    if len(got) != len(expected):
        return Verdict(
            False,
            f"your path has {len(got)} steps; {len(expected)} were expected",
            min(len(got), len(expected)) + 1,
        )
    return Verdict(True)


def compare_convergence(got, expected, public, atol):
    if not isinstance(got, dict) or not _numbers(got.get("path")):
        return Verdict(False, "the run returned no usable path")
    outcome, path = got.get("outcome"), got["path"]
    if outcome not in ("converged", "exploded", "exceeded"):
        return Verdict(False, "the run returned no usable outcome")
    exp_outcome, exp_path = expected["outcome"], expected["path"]
    if exp_outcome == "exploded" and outcome != "exploded":
        verdict = compare_path(path[: len(exp_path)], exp_path, public, atol)
        if not verdict.passed:
            return verdict
        when = f" at iteration {expected['iterations']}" if public else ""
        return Verdict(
            False,
            f"the gradient should explode (become NaN){when}, but your run "
            f"{'converged' if outcome == 'converged' else 'did not'}",
        )
    if outcome == "exploded" and exp_outcome != "exploded":
        verdict = compare_path(path, exp_path[: len(path)], public, atol)
        if not verdict.passed:
            return verdict
        return Verdict(
            False,
            f"your run exploded (NaN gradient) at iteration "
            f"{got.get('iterations')}; the expected run does not",
            len(path),
        )
    length = max(len(path), len(exp_path))
    return compare_path(
        _extend(path, length, outcome == "converged"),
        _extend(exp_path, length, exp_outcome == "converged"),
        public,
        atol,
    )


def compare_result(case, got, expected):
    """Verdict for one case given the submission's result dict and the expected one."""
    atol = step_tolerance(case)
    if case.compare == "convergence":
        return compare_convergence(got, expected, case.public, atol)
    if case.compare == "path":
        if not isinstance(got, dict) or not _numbers(got.get("path")):
            return Verdict(False, "the run returned no usable path")
        return compare_path(got["path"], expected["path"], case.public, atol)
    if case.compare == "rows":
        width = len(expected["path"][0])
        if not isinstance(got, dict) or not _numbers(got.get("path"), width):
            return Verdict(False, "the run returned no usable values")
        return compare_path(got["path"], expected["path"], case.public, atol, case.element)
    if case.compare == "paths":
        paths = got.get("paths") if isinstance(got, dict) else None
        count = len(expected["paths"])
        widths = [len(e[0]) if e and isinstance(e[0], list) else None for e in expected["paths"]]
        if (
            not isinstance(paths, list)
            or len(paths) != count
            or not all(_numbers(g, w) for g, w in zip(paths, widths))
        ):
            return Verdict(False, "the run returned no usable paths")
        for k, (g, e) in enumerate(zip(paths, expected["paths"])):
            verdict = compare_path(g, e, case.public, atol, case.element)
            if not verdict.passed:
                which = ("first", "second", "third")[k] if k < 3 else f"#{k + 1}"
                return Verdict(False, f"{which} instance: {verdict.message}", verdict.step)
        return Verdict(True)
    if case.compare == "minimum":
        return compare_minimum(case, got, expected)
    raise ValueError(f"unknown comparison {case.compare!r}")


def compare_minimum(case, got, expected):
    """At least the expected value minus the case's margin (the bar is shown: it is a goal, not
    a hidden value); a value that is not a finite number fails, saying so."""
    what = expected.get("what", "value")
    value = got.get("value") if isinstance(got, dict) else None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return Verdict(False, f"the run returned no {what}")
    bar = expected["value"] - case.margin
    if not math.isfinite(value):
        return Verdict(False, f"the {what} is not a finite number (the run diverged)")
    if value < bar:
        return Verdict(False, f"{what} {value:.4g}; at least {bar:.4g} was expected")
    return Verdict(True)
