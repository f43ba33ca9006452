"""Run one submission in the sandbox and collect what it produced, surviving whatever it does.

The runner goes through the submission's cells, then the cases. When the supervisor has to kill
it (a hang the in-process timer could not stop, too much memory, `os._exit`, a crash), what
finished is kept, the cell or case that was running is charged with the failure, and a fresh
sandbox goes on with the rest: a broken cell costs only the tests that need what it defines.
Each attempt is a fresh runner: a child of a warm zygote, or a new process (see `launcher`).
"""

import dataclasses
import functools
import time

from autograder import sandbox, submission, warm
from autograder.guest import protocol

MAX_ATTEMPTS = 6
MAX_STRIKES = 2  # stopped cases of one exercise before its other cases are given up
LIMITS = protocol.LIMITS


@dataclasses.dataclass
class SubmissionRun:
    """Everything the grader knows of one submission's run (plain data only)."""

    error: str | None = None  # the whole file could not be graded
    cells: dict = dataclasses.field(default_factory=dict)  # index -> {"status", "error"}
    sources: dict = dataclasses.field(default_factory=dict)  # index -> (source, grade_id)
    classes: dict = dataclasses.field(default_factory=dict)  # name -> {"defined", "error"}
    results: dict = dataclasses.field(default_factory=dict)  # id -> {"result", "error", "limit"}
    stdout: str = ""
    notes: list = dataclasses.field(default_factory=list)
    stops: list = dataclasses.field(default_factory=list)  # see `add_stop`
    seconds: float = 0.0
    attempts: int = 0
    exercises: dict = dataclasses.field(default_factory=dict)  # class -> grade_id of its cell

    def class_problem(self, name):
        """Why `name` is unusable, with the failure of the cell that should define it."""
        info = self.classes.get(name) or {"error": f"{name} is not defined"}
        message = info.get("error") or f"{name} is not usable"
        cell = self.defining_cell(name)
        if cell is not None and self.cells.get(cell, {}).get("status") != "ok":
            failure = self.cells.get(cell, {}).get("error") or "it did not run"
            message += f"; the cell that should define it (cell {cell}) failed: {failure}"
        return message

    def defining_cell(self, name):
        for index, (source, grade_id) in self.sources.items():
            if grade_id == self.exercises.get(name) or f"class {name}" in source:
                return index
        return None


def read_cells(path, assignment):
    """(code cells to run, None), or (None, why the file cannot be graded). Never runs code."""
    try:
        nb = submission.read_notebook(path)
        submission.check_assignment(nb, path, assignment)
        return submission.code_cells(nb, assignment.student_notebook), None
    except submission.SubmissionError as error:
        return None, str(error)
    except OSError as error:
        return None, f"the submission could not be read: {error.strerror or error}"


def launcher(mode, warm_start=True):
    """The function that runs one job in `mode`: job, limits, seconds left -> sandbox.JobRun.

    With bwrap and `warm_start`, a fresh child of this thread's pre-imported zygote
    (`autograder.warm`); otherwise a new runner process per job (`sandbox.run_job`).
    """
    if mode == "bwrap" and warm_start:
        return warm.run_job
    return functools.partial(_cold, mode)


def _cold(mode, job, limits, seconds_left=None):
    return sandbox.run_job(job, mode, limits, seconds_left)


def run_submission(path, mode, assignment, limits=None, case_list=None, warm_start=True):
    """Run the notebook at `path` of `assignment` in sandbox `mode` ('bwrap' or 'none');
    return a SubmissionRun."""
    cells, error = read_cells(path, assignment)
    if error:
        return SubmissionRun(error=error)
    return run_cells(cells, launcher(mode, warm_start), assignment, limits, case_list)


def run_cells(cells, launch, assignment, limits=None, case_list=None):
    """Run the code `cells` of a submission, then the cases, with `launch` (see `launcher`).

    The whole submission has one time budget (`Limits.deadline` of its first job), spent across
    retries: each attempt gets only what is left, and what did not run by then is charged. (The
    budget counts the attempts' own time, not a warm zygote's start.)
    """
    limits = limits or sandbox.Limits()
    start = time.monotonic()
    run = SubmissionRun(exercises=dict(assignment.exercises))
    run.sources = {c.index: (c.source, c.grade_id) for c in cells}
    cells = _capped(run, cells, limits.max_cells)
    killed_cells, strikes = set(), {}
    pending_cases = list(assignment.cases if case_list is None else case_list)
    budget, used = None, 0.0
    while run.attempts < MAX_ATTEMPTS:
        run.attempts += 1
        job = {
            "cells": [
                {"index": c.index, "source": c.source} for c in cells if c.index not in killed_cells
            ],
            "cases": [c.job() for c in pending_cases],
            "exercises": list(assignment.exercises),
            "guest": str(assignment.guest),
            "cell_timeout": limits.cell_seconds,
            "case_timeout": limits.case_seconds,
        }
        budget = limits.deadline(job) if budget is None else budget
        outcome = launch(job, limits, budget - used)
        used += outcome.seconds
        _absorb(run, outcome, assignment)
        if outcome.finished:
            break
        reason = outcome.killed or _exit_reason(outcome.returncode)
        unit = outcome.unit or ("startup",)
        run.notes.append(f"the sandbox was stopped during {_unit_name(unit)}: {reason}")
        add_stop(run, _unit_name(unit), outcome.limit, reason)
        if unit[0] == "cell":
            killed_cells.add(unit[1])
            run.cells[unit[1]] = {"status": "error", "error": f"stopped: {reason}"}
        elif unit[0] == "case" and unit[1] in assignment.case_by_id:
            run.results[unit[1]] = {
                "result": None,
                "error": f"stopped: {reason}",
                "limit": protocol.limit(outcome.limit),
            }
            exercise = assignment.case_by_id[unit[1]].exercise
            strikes[exercise] = strikes.get(exercise, 0) + 1
        elif not outcome.events:  # it could not even start: trying again would not help
            break
        if outcome.out_of_time or used >= budget:
            _charge_the_rest(run, job["cells"], pending_cases, budget)
            break
        for case in pending_cases:
            if strikes.get(case.exercise, 0) >= MAX_STRIKES and case.id not in run.results:
                stopped = f"not run: {MAX_STRIKES} earlier tests of {case.exercise} were stopped"
                run.results[case.id] = {"result": None, "error": stopped}
        pending_cases = [c for c in pending_cases if c.id not in run.results]
        if run.classes and not pending_cases:
            break
    for case in pending_cases:
        run.results.setdefault(
            case.id, {"result": None, "error": "not run: the sandbox kept failing (see the notes)"}
        )
    run.seconds = time.monotonic() - start
    return run


def _capped(run, cells, max_cells):
    """The first `max_cells` code cells; the others are charged as not run."""
    if len(cells) <= max_cells:
        return cells
    run.notes.append(f"only the first {max_cells} of the {len(cells)} code cells were run")
    for cell in cells[max_cells:]:
        run.cells[cell.index] = {"status": "error", "error": f"not run: over {max_cells} cells"}
    return cells[:max_cells]


def _charge_the_rest(run, job_cells, pending_cases, seconds):
    """Past the deadline: every cell and case of the job that did not finish is charged."""
    why = f"not run: the submission used up its time ({seconds:.0f} s in all)"
    run.notes.append(
        f"the submission used up its time ({seconds:.0f} s in all): the rest was not run"
    )
    for cell in job_cells:
        run.cells.setdefault(cell["index"], {"status": "error", "error": why})
    for case in pending_cases:
        run.results.setdefault(case.id, {"result": None, "error": why})


def add_stop(run, where, limit, reason):
    """Record in `run.stops`, once, that code was stopped: where (e.g. 'cell 3'), at which limit
    (one of LIMITS, or None when it crashed or exited) and why, in words."""
    record = {"where": where, "limit": limit if limit in LIMITS else None, "reason": reason}
    if record not in run.stops:
        run.stops.append(record)


def _absorb(run, outcome, assignment):
    run.stdout += outcome.stdout
    for event in outcome.events:
        kind = event["event"]
        if kind == protocol.CELL and isinstance(event.get("index"), int):
            run.cells[event["index"]] = {
                "status": str(event.get("status")),
                "error": _text(event.get("error")),
            }
            if protocol.limit(event.get("limit")):
                where = _unit_name(("cell", event["index"]))
                add_stop(run, where, event["limit"], run.cells[event["index"]]["error"])
        elif kind == protocol.CLASSES and isinstance(event.get("classes"), dict):
            run.classes = {
                name: {"defined": bool(info.get("defined")), "error": _text(info.get("error"))}
                for name, info in event["classes"].items()
                if name in assignment.exercises and isinstance(info, dict)
            }
        elif kind == protocol.CASE and event.get("id") in assignment.case_by_id:
            run.results[event["id"]] = {
                "result": event.get("result"),
                "error": _text(event.get("error")),
                "limit": protocol.limit(event.get("limit")),
            }
            if protocol.limit(event.get("limit")):
                where = _unit_name(("case", event["id"]))
                add_stop(run, where, event["limit"], run.results[event["id"]]["error"])


def _text(value, limit=2000):
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _exit_reason(returncode):
    if returncode is None:
        return "it did not finish"
    if returncode < 0:
        return f"it was killed by signal {-returncode}"
    return f"the process exited early (exit code {returncode})"


def _unit_name(unit):
    if unit[0] == "cell":
        return f"cell {unit[1]}"
    if unit[0] == "case":
        return f"the test case {unit[1]}"
    return "start-up" if unit[0] == "startup" else "the run"
