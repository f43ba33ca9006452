"""Entry point inside the sandbox: run a submission's cells, then the grading cases.

    python -I -m autograder.guest.runner --events-fd N < job.json

(or `serve(N)` in a child forked by `autograder.guest.zygote`, with everything preloaded).

The job (JSON on standard input) holds the code cells to run, in order, with their notebook
indices; the assignment's exercises (class names) and its guest file (problems and drivers, see
`autograder.assignment`); the cases to run and the time limits. Events (`protocol`) go to file
descriptor N as JSON lines, each flushed at once, so that the supervisor outside knows what
finished even if this process is killed.

Nothing here decides a score: the grader compares the data outside, in a process that never runs
student code.
"""

import json
import linecache
import os
import signal
import sys
import traceback
import types
from pathlib import Path

from autograder.guest import protocol

MAX_TIMEOUTS = 2  # timed-out cases of one exercise before its other cases are skipped


class TimeLimit(BaseException):
    """Raised by the interval timer when a cell or a case runs past its time limit."""


class _Shell:
    """Stands in for `get_ipython()`: line and cell magics and shell escapes do nothing."""

    def run_line_magic(self, *args, **kwargs):
        return None

    run_cell_magic = system = getoutput = run_line_magic


def to_python(source):
    """Turn IPython syntax (%magic, !cmd) into plain Python calling `get_ipython()`."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython ships with the course's environment
        return source
    return TransformerManager().transform_cell(source)


def describe(error, limit=2000):
    """A short, student-facing description of an exception raised by submitted code."""
    if isinstance(error, TimeLimit):
        return "timed out: " + str(error)
    if isinstance(error, NotImplementedError):
        return "not implemented yet (raise NotImplementedError() is still there)"
    if isinstance(error, SyntaxError):
        return f"SyntaxError: {error.msg} (line {error.lineno})"
    frames = [
        f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith("<cell")
    ]
    where = f" ({frames[-1].filename[1:-1]}, line {frames[-1].lineno})" if frames else ""
    text = f"{type(error).__name__}: {error}{where}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def limit_of(error):
    """protocol.TIME or protocol.MEMORY when `error` is a limit of the runner, else None."""
    if isinstance(error, TimeLimit):
        return protocol.TIME
    return protocol.MEMORY if isinstance(error, MemoryError) else None


class Events:
    """Writes one JSON object per line to the events descriptor."""

    def __init__(self, fd):
        self.stream = os.fdopen(fd, "w", buffering=1)

    def __call__(self, **event):
        self.stream.write(json.dumps(event) + "\n")
        self.stream.flush()


def limited(seconds, what, fn, *args):
    """Call fn(*args), raising TimeLimit after `seconds` of wall-clock time."""

    def expire(signum, frame):
        raise TimeLimit(f"{what} took longer than {seconds:g} s")

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def preload():
    """Import what the notebook imports before any cell runs, under the start-up time limit.

    Importing TensorFlow takes seconds (more on a loaded machine): charged to a cell, it could eat
    that cell's time limit and leave `tf` undefined for reasons that are not the student's.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy.random  # noqa: F401 - the cases' starting values (NumPy loads it lazily)
    import tensorflow  # noqa: F401

    import autograder.guest.drivers  # noqa: F401
    import course_utils  # noqa: F401
    import course_utils.plotting  # noqa: F401 - course_utils loads its names on first use
    import course_utils.selfcheck  # noqa: F401

    to_python("")  # imports IPython's input transformers


def run_cells(cells, namespace, timeout, emit):
    """Execute each cell in `namespace`; a failing cell is reported and the next one runs."""
    for cell in cells:
        emit(event=protocol.CELL_START, index=cell["index"])
        try:
            name, source = f"<cell {cell['index']}>", to_python(cell["source"])
            # As IPython does: the source findable by name, so that tf.function's AutoGraph can
            # read (and convert) functions defined in cells, and tracebacks can quote them.
            linecache.cache[name] = (len(source), None, source.splitlines(True), name)
            code = compile(source, name, "exec")
            limited(timeout, f"cell {cell['index']}", exec, code, namespace)
        except BaseException as error:  # noqa: BLE001 - student code may raise anything, exit too
            emit(
                event=protocol.CELL,
                index=cell["index"],
                status="error",
                error=describe(error),
                limit=limit_of(error),
            )
        else:
            emit(event=protocol.CELL, index=cell["index"], status="ok", error=None)


def load_guest(path):
    """The assignment's guest module (problems and drivers), compiled from its source file:
    never from a bytecode cache, which a file system shared with earlier jobs could hold."""
    source = Path(path).read_text()
    module = types.ModuleType("assignment_guest")
    module.__file__ = str(path)
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


class ContractError(Exception):
    """An exercise is not what its assignment asks for (its message says what is missing)."""


def check_optimizer(name, obj):
    """The default contract of an exercise: a class that constructs with default arguments and
    has an apply_gradients method. Raises ContractError, or what the constructor raises."""
    if not isinstance(obj, type):
        raise ContractError(f"{name} is not a class")
    if not callable(getattr(obj(), "apply_gradients", None)):
        raise ContractError(f"{name} has no apply_gradients method")


def check_classes(namespace, exercises, check=check_optimizer):
    """Does each exercise meet its contract? `check(name, obj)` raises when it does not (the
    guest file's `check_exercise`, else `check_optimizer`)."""
    report = {}
    for name in exercises:
        obj = namespace.get(name)
        if obj is None:
            report[name] = {"defined": False, "error": f"{name} is not defined"}
            continue
        try:
            limited(10, f"checking {name}", check, name, obj)
        except ContractError as error:
            report[name] = {"defined": False, "error": str(error)}
        except BaseException as error:  # noqa: BLE001
            report[name] = {"defined": False, "error": f"{name}(): {describe(error)}"}
        else:
            report[name] = {"defined": True, "error": None}
    return report


def run_cases(cases, namespace, timeout, emit, run_case):
    """Run every case with the student's class; each result or error is emitted at once."""
    timeouts = {}
    for case in cases:
        name = case["exercise"]
        emit(event=protocol.CASE_START, id=case["id"])
        cls = namespace.get(name)
        if not callable(cls):
            emit(event=protocol.CASE, id=case["id"], result=None, error=f"{name} is not defined")
            continue
        if timeouts.get(name, 0) >= MAX_TIMEOUTS:
            emit(
                event=protocol.CASE,
                id=case["id"],
                result=None,
                error=f"not run: {MAX_TIMEOUTS} earlier tests of {name} timed out",
                limit=protocol.TIME,
            )
            continue
        try:
            result = limited(timeout, "this test", run_case, cls, case["driver"], case["params"])
        except BaseException as error:  # noqa: BLE001
            if isinstance(error, TimeLimit):
                timeouts[name] = timeouts.get(name, 0) + 1
            emit(
                event=protocol.CASE,
                id=case["id"],
                result=None,
                error=describe(error),
                limit=limit_of(error),
            )
        else:
            emit(event=protocol.CASE, id=case["id"], result=result, error=None)


def serve(events_fd):
    """Read the job on standard input, run it, report on `events_fd`, and exit at once."""
    job = json.load(sys.stdin)
    emit = Events(events_fd)
    preload()
    namespace = {"__name__": "__main__", "get_ipython": _Shell}
    guest = load_guest(job["guest"])  # before any student code runs
    run_case, check = guest.run_case, getattr(guest, "check_exercise", check_optimizer)
    run_cells(job["cells"], namespace, job["cell_timeout"], emit)
    emit(event=protocol.CLASSES, classes=check_classes(namespace, job["exercises"], check))
    run_cases(job["cases"], namespace, job["case_timeout"], emit, run_case)
    emit(event=protocol.DONE)
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: threads the student started must not delay us


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    serve(int(argv[argv.index("--events-fd") + 1]))


if __name__ == "__main__":
    main()
