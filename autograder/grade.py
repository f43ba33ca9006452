"""Grade one submission, or a whole batch into an output folder.

Per student: read its notebook here (`prepare`: JSON only), then, on a worker (local processes or
a Dask cluster, see `executors`), run it in a fresh sandboxed process and score its data with the
hidden tests (`grade_task`); back here, write `OUT/<student>/results.json` and `feedback.html`
atomically (a temporary folder renamed into place) and refresh `OUT/grades.csv`. A student
already graded is skipped unless `force`. The batch goes on whatever a submission does.
"""

import dataclasses
import importlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder import cases as catalogue
from autograder import discover, executors, references, report, sandbox
from autograder.progress import Progress
from autograder.run_submission import (
    SubmissionRun,
    launcher,
    read_cells,
    run_cells,
    run_submission,
)

RESULTS, FEEDBACK, GRADES = "results.json", "feedback.html", "grades.csv"


@dataclasses.dataclass
class Grade:
    student: str
    tests: list
    notes: list
    error: str | None
    seconds: float

    @property
    def score(self):
        return sum(t.score for t in self.tests)

    @property
    def max_score(self):
        return float(catalogue.max_score())

    def summary(self):
        if self.error:
            return f"Not graded: {self.error}"
        passed = sum(t.passed for t in self.tests)
        return f"{passed} of {len(self.tests)} tests passed."


@dataclasses.dataclass(frozen=True)
class Task:
    """One submission, ready to be graded on any worker: its code cells, or why there are none.

    Built where the submissions are (`prepare`, which only parses JSON), so that a worker needs
    no access to the submissions' folder; it sends back the files to write.
    """

    student: str
    cells: tuple = ()
    problem: str | None = None


def prepare(found):
    """The Task of a discovered submission (reads and parses the notebook; never runs it)."""
    if found.notebook is None:
        return Task(found.student, problem=found.problem)
    if found.notebook.is_symlink() or not found.notebook.is_file():
        problem = f"{found.notebook.name} is not a regular file (a link or a folder)"
        return Task(found.student, problem=problem)
    cells, problem = read_cells(found.notebook)
    return Task(found.student, tuple(cells or ()), problem)


def grade_notebook(path, mode, limits=None, student=None):
    """Grade the notebook at `path` in sandbox `mode`; returns (Grade, SubmissionRun)."""
    run = run_submission(path, mode, limits)
    return _grade(student or Path(path).stem, run), run


def _grade(student, run):
    from autograder import evaluate  # pytest (see `grade_task`)

    tests = evaluate.evaluate(run, references.load())
    notes = list(run.notes)
    if run.stdout.strip():
        notes.append("your code printed (first part):\n" + run.stdout[:2000])
    return Grade(student, tests, notes, run.error, run.seconds)


def grade_task(task, mode, limits=None, warm_start=True):
    """Run and score one Task; returns (results document, {file name: text}) for OUT/<student>/.

    This is the unit of work of every executor: it reads no submission and writes nothing.
    The scoring modules (pytest, Matplotlib: about half a second here) load in a thread while
    the first sandbox of the process starts, instead of after it.
    """
    _SCORING_IMPORT.start_once()
    if task.problem:
        run = SubmissionRun(error=task.problem)
    else:
        run = run_cells(list(task.cells), launcher(mode, warm_start), limits)
    grade = _grade(task.student, run)
    document = report.results_json(grade)
    document["extra_data"].update(sandbox.record(mode))
    plots = report.public_plots(run, references.load()) if not run.error else []
    files = {RESULTS: report.dump_json(document), FEEDBACK: report.feedback_html(grade, plots)}
    return document, files


class _BackgroundImport:
    """Imports modules in a thread, at most once per process."""

    def __init__(self, *names):
        self.names, self.thread, self.lock = names, None, threading.Lock()

    def start_once(self):
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, daemon=True)
                self.thread.start()

    def _run(self):
        for name in self.names:
            importlib.import_module(name)


_SCORING_IMPORT = _BackgroundImport("autograder.evaluate", "matplotlib.figure")


def grade_one(found, out_dir, mode, limits):
    """Grade one discovered submission and write its files; returns its results document."""
    document, files = grade_task(prepare(found), mode, limits)
    write_student(out_dir, found.student, files)
    return document


def write_student(out_dir, student, files):
    """Write a student's files into OUT/<student>/ all at once (rename of a complete folder)."""
    out_dir = Path(out_dir)
    target = out_dir / safe_name(student)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=out_dir))
    for name, text in files.items():
        (staging / name).write_text(text)
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=out_dir))
        os.replace(target, old / target.name)
        os.replace(staging, target)
        shutil.rmtree(old)
    else:
        os.replace(staging, target)


def safe_name(student):
    """A folder name for a student id: no separators, no leading dots."""
    cleaned = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in student).lstrip(".")
    return cleaned or "_"


def write_grades(out_dir, docs=None):
    """Rebuild OUT/grades.csv (atomically) from `docs` (student -> results document), by default
    every OUT/<student>/results.json; returns the documents."""
    out_dir = Path(out_dir)
    if docs is None:
        docs = {}
        for results in sorted(out_dir.glob(f"*/{RESULTS}")):
            doc = json.loads(results.read_text())
            docs[doc["extra_data"]["student"]] = doc
    staging = out_dir / f".{GRADES}.tmp"
    staging.write_text(report.grades_csv(docs))
    os.replace(staging, out_dir / GRADES)
    return docs


def grade_batch(
    path,
    out_dir,
    mode,
    jobs=None,
    force=False,
    limits=None,
    log=None,
    executor="local",
    scheduler=None,
    warm_start=True,
):
    """Grade every submission under `path` into `out_dir`; True if all of them were graded.

    `executor`: "local" (`jobs` worker processes, default one per core) or "dask" (the Dask
    cluster whose scheduler is at `scheduler`). `log`: a function taking one line per event
    (plain lines); by default a progress bar on a terminal, plain lines on standard output
    otherwise. `warm_start`: run submissions in children of a pre-imported zygote (bwrap only).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    found = discover.find_submissions(path)
    todo = [f for f in found if force or not (out_dir / safe_name(f.student) / RESULTS).exists()]
    progress = Progress(len(todo), log)
    if len(todo) < len(found):
        progress.note(f"skipping {len(found) - len(todo)} already graded (use --force to regrade)")
    docs = write_grades(out_dir)
    failures = []
    start = time.monotonic()
    with executors.open_executor(executor, jobs=jobs, scheduler=scheduler) as pool:
        tasks = (prepare(f) for f in todo)
        for task, outcome, error in pool.run_unordered(grade_task, tasks, mode, limits, warm_start):
            if error:
                failures.append(task.student)
            else:
                document, files = outcome
                write_student(out_dir, task.student, files)
                docs[task.student] = document
                write_grades(out_dir, docs)
            progress.update(task.student, None if error else outcome[0], error)
    progress.close()
    progress.note(
        f"graded {len(todo) - len(failures)} of {len(todo)} in {time.monotonic() - start:.1f} s; "
        f"grades in {out_dir / GRADES}"
    )
    return not failures


def print_table(out_dir, stream=sys.stdout):
    """A plain-text table of OUT/grades.csv: student, score and the tests failed."""
    docs = write_grades(out_dir)
    width = max([len(s) for s in docs] + [7])
    print(f"{'student':<{width}}  {'score':>9}  failed tests", file=stream)
    for student, doc in sorted(docs.items()):
        failed = [t["name"] for t in doc["tests"] if t["status"] != "passed"]
        shown = ", ".join(failed[:3]) + (f" (+{len(failed) - 3} more)" if len(failed) > 3 else "")
        score = f"{doc['score']:g}/{doc['extra_data']['max_score']:g}"
        print(f"{student:<{width}}  {score:>9}  {shown or '-'}", file=stream)


def resolve(mode):
    """The sandbox mode to use for a requested one (see `sandbox.resolve_mode`)."""
    return sandbox.resolve_mode(mode)
