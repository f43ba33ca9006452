"""Grade one submission, or a whole batch into an output folder.

Per student: read its notebook here (`prepare`: JSON only), then, on a worker (local processes or
a Dask cluster, see `executors`), run it in a fresh sandboxed process and score its data with the
hidden tests (`grade_task`); back here, write `OUT/students/<folder>/results.json` and
`feedback.html` atomically (a folder staged in `OUT/.staging/`, renamed into place) and refresh
`OUT/grades.csv`. A student already graded from the very same notebook (its SHA-256 is in
results.json) is skipped unless `force`; a changed notebook, or a student whose grading failed
for the grader's reasons, is graded again. One batch is one
assignment (given, or inferred from the notebooks; in nbgrader's `submitted/` folder, one batch
per assignment submitted: `batch_assignments`); the command line makes OUT the assignment's own
folder, `--out`/<assignment>/.

Each student's folder name is readable, bounded and unique per student id (`student_folder`);
the class-level files (`grades.csv`, the class report) stay at the top of OUT, out of reach of any
student's name. The batch goes on whatever one submission or its grading does: every failure
becomes that student's "not graded" row, with its reason, and makes the batch return False.
"""

import contextlib
import dataclasses
import hashlib
import html
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder import (
    assignments,
    class_report,
    discover,
    executors,
    report,
    sandbox,
    submission,
)
from autograder.progress import Progress
from autograder.run_submission import (
    SubmissionRun,
    launcher,
    read_cells,
    run_cells,
)
from autograder.submission import printable, without_surrogates

RESULTS, FEEDBACK, GRADES = "results.json", "feedback.html", "grades.csv"
COURSE_GRADES = "course_grades.csv"  # --out/course_grades.csv: every lesson graded there
STUDENTS, STAGING = "students", ".staging"  # OUT/students/<folder>/, OUT/.staging/<temporary>
_PLAIN_FOLDER = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")  # ids used as their own folder name
PREFIX_CHARS, HASH_CHARS = 40, 12
TABLE_ID_CHARS = 40  # longer student ids are cut in `print_table`
SUBMISSION_SHA256 = "submission_sha256"  # results.json's extra_data: the notebook graded


class NothingToGrade(ValueError):
    """The path given holds no submission at all."""


@dataclasses.dataclass
class Grade:
    student: str
    tests: list
    notes: list
    error: str | None
    seconds: float
    printed: str = ""  # what the code printed (bounded by the sandbox)
    stops: list = dataclasses.field(default_factory=list)  # run_submission.add_stop records
    failed_cells: list = dataclasses.field(default_factory=list)  # (cell index, why)
    assignment: object = None  # the autograder.assignment.Assignment graded

    @property
    def score(self):
        return sum(t.score for t in self.tests)

    @property
    def max_score(self):
        return float(sum(t.max_score for t in self.tests))  # every test is listed, graded or not

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
    assignment: object  # autograder.assignment.Assignment (plain data and module functions)
    cells: tuple = ()
    problem: str | None = None


def prepare(found, assignment):
    """The Task of a discovered submission (reads and parses the notebook; never runs it)."""
    if found.notebook is None:
        return Task(found.student, assignment, problem=found.problem)
    if found.notebook.is_symlink() or not found.notebook.is_file():
        problem = f"{printable(found.notebook.name)} is not a regular file (a link or a folder)"
        return Task(found.student, assignment, problem=problem)
    cells, problem = read_cells(found.notebook, assignment)
    return Task(found.student, assignment, tuple(cells or ()), problem)


def _grade(student, run, assignment):
    from autograder import evaluate  # pytest (see `grade_task`)

    _SCORING_WARM_UP.wait()
    tests = evaluate.evaluate(run, assignment.references(), assignment)
    failed = [
        (i, c["error"] or "failed") for i, c in sorted(run.cells.items()) if c["status"] != "ok"
    ]
    return Grade(
        student,
        tests,
        list(run.notes),
        run.error,
        run.seconds,
        run.stdout,
        run.stops,
        failed,
        assignment,
    )


def grade_task(task, mode, limits=None, warm_start=True, feedback=True):
    """Run and score one Task; returns (results document, {file name: text}) for its folder.

    This is the unit of work of every executor: it reads no submission and writes nothing.
    Every text in them is writable (no lone surrogate from the sandbox survives).
    `feedback=False` builds results.json only (Gradescope shows that, not a page with plots).
    Scoring is warmed up in a thread while the first sandbox of the process starts
    (`_ScoringWarmUp`), instead of after it.
    """
    assignment = assignments.known(task.assignment)  # its guest file must be in the sandbox
    _SCORING_WARM_UP.start_once(assignment, plots=feedback)
    if task.problem:
        run = SubmissionRun(error=task.problem)
    else:
        run = run_cells(list(task.cells), launcher(mode, warm_start), assignment, limits)
    grade = _grade(task.student, run, assignment)
    document = writable(report.results_json(grade))
    document["extra_data"].update(sandbox.record(mode))
    if grade.error:
        document["extra_data"]["not_graded"] = without_surrogates(grade.error)
    files = {RESULTS: report.dump_json(document)}
    if feedback:
        plots = report.public_plots(run, assignment) if not run.error else []
        files[FEEDBACK] = without_surrogates(report.feedback_html(grade, plots))
    return document, files


def writable(value):
    """`value` (JSON-like data) with every string free of lone surrogates."""
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, dict):
        return {writable(k): writable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [writable(v) for v in value]
    return value


def not_graded(student, reason, assignment, mode=None):
    """(results document, files) of a student the grader could not grade, saying why."""
    reason = printable(reason)
    try:
        from autograder import evaluate

        tests = evaluate.not_graded(reason, assignment)
        grade = Grade(student, tests, [], reason, 0.0, assignment=assignment)
        document = writable(report.results_json(grade))
        page = without_surrogates(report.feedback_html(grade))
    except Exception:  # noqa: BLE001 - the report itself may be what failed
        document = {"score": 0.0, "output": f"Not graded: {reason}", "tests": []}
        most = float(assignment.max_score())
        document["extra_data"] = {"student": student, "max_score": most}
        page = f"<!doctype html><title>Not graded</title><p>Not graded: {html.escape(reason)}</p>"
    document["extra_data"]["not_graded"] = reason
    if mode:
        with contextlib.suppress(Exception):
            document["extra_data"].update(sandbox.record(mode))
    return document, {RESULTS: report.dump_json(document), FEEDBACK: page}


class _ScoringWarmUp:
    """Makes the first scoring of a process as quick as the next ones, in a thread that runs
    while the process's first sandbox starts (TensorFlow's import there takes seconds): imports
    pytest and Matplotlib, runs the hidden tests once on an empty run, and, when feedback pages
    are built, draws one small figure (fonts, Agg's first draw). About 1 s here, off the
    critical path of a lone submission. `wait` before scoring: pytest runs one session at a time.
    """

    def __init__(self):
        self.thread, self.lock = None, threading.Lock()

    def start_once(self, assignment, plots=True):
        with self.lock:
            if self.thread is None:
                args = (assignment, plots)
                self.thread = threading.Thread(target=self._run, args=args, daemon=True)
                self.thread.start()

    def wait(self):
        with self.lock:
            thread = self.thread
        if thread is not None:
            thread.join()

    @staticmethod
    def _run(assignment, plots):
        with contextlib.suppress(Exception):  # a warm-up only: the real scoring reports errors
            from autograder import evaluate

            evaluate.evaluate(SubmissionRun(), assignment.references(), assignment)
            if plots:
                report.warm_up()


_SCORING_WARM_UP = _ScoringWarmUp()


def student_folder(student):
    """The folder name of a student id: the id itself when it is short and plain (lowercase
    letters, digits, `._@-`), else its first characters made plain, `+` and a hash of the id.

    Unique per id (no plain id has a `+`), at most 64 characters, never hidden, and never a
    name of the grader's own files, since every student folder is under OUT/students/.
    """
    if _PLAIN_FOLDER.fullmatch(student):
        return student
    prefix = re.sub(r"[^A-Za-z0-9._@-]", "_", student).lstrip(".-")[:PREFIX_CHARS] or "_"
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{prefix}+{digest[:HASH_CHARS]}"


def student_dir(out_dir, student) -> Path:
    """Where a student's results.json and feedback.html are: OUT/students/<folder>/."""
    return Path(out_dir) / STUDENTS / student_folder(student)


def write_student(out_dir, student, files):
    """Write a student's files into their folder all at once (rename of a complete folder).

    The folder is staged under OUT/.staging/ (short names, whatever the student id), which
    holds nothing afterwards, whatever happens.
    """
    target = student_dir(out_dir, student)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging_root = Path(out_dir) / STAGING
    staging_root.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="s", dir=staging_root))
    try:
        new = staging / "new"
        new.mkdir()
        for name, text in files.items():
            (new / name).write_text(text, encoding="utf-8", errors="backslashreplace")
        if target.exists() or target.is_symlink():
            os.replace(target, staging / "old")  # a folder cannot replace a folder in one step
        os.replace(new, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_grades(out_dir):
    """{student: results document} of every OUT/students/*/results.json.

    A results.json that cannot be read, is not a results document or is in another student's
    folder is left out.
    """
    docs = {}
    for results in sorted((Path(out_dir) / STUDENTS).glob(f"*/{RESULTS}")):
        doc = read_results(results)
        if doc is not None:
            docs[doc["extra_data"]["student"]] = doc
    return docs


def write_grades(out_dir, assignment, docs=None):
    """Rebuild OUT/grades.csv (atomically) from `docs` (student -> results document), by default
    from every OUT/students/*/results.json (`read_grades`); returns the documents."""
    out_dir = Path(out_dir)
    docs = read_grades(out_dir) if docs is None else docs
    _write_text(out_dir / GRADES, report.grades_csv(docs, assignment))
    return docs


def write_course_grades(out_root):
    """Rebuild `out_root`/course_grades.csv from every lesson graded into `out_root`/<lesson>/
    (a row per student, a column per lesson: `report.course_grades_csv`); returns its path, or
    None when no lesson has been graded there."""
    out_root = Path(out_root)
    graded = [
        (lesson, read_grades(out_root / lesson.name))
        for lesson in assignments.all_assignments()
        if (out_root / lesson.name / GRADES).is_file()
    ]
    if not graded:
        return None
    return _write_text(out_root / COURSE_GRADES, report.course_grades_csv(graded))


def _write_text(path, text):
    """Write `text` to `path` atomically (through a hidden file beside it); returns `path`."""
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(text, encoding="utf-8", errors="backslashreplace")
    os.replace(staging, path)
    return path


def read_results(path):
    """The results document in `path`, or None if it is not a valid one of its folder."""
    try:
        doc = writable(json.loads(path.read_bytes()))
    except (OSError, ValueError, RecursionError):
        return None
    extra = doc.get("extra_data") if isinstance(doc, dict) else None
    if not (
        isinstance(extra, dict)
        and isinstance(extra.get("student"), str)
        and path.parent.name == student_folder(extra["student"])
        and _is_number(doc.get("score"))
        and _is_number(extra.get("max_score"))
        and isinstance(doc.get("tests"), list)
        and all(isinstance(test, dict) for test in doc["tests"])
    ):
        return None
    return doc


def graded_from(document):
    """The SHA-256 of the notebook that a results document (or None) was graded from, or None."""
    graded = document and document["extra_data"].get(SUBMISSION_SHA256)
    return graded if isinstance(graded, str) else None


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _why(error):
    """An exception in one line, safe to print and write."""
    return printable(f"{type(error).__name__}: {error}")


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
    assignment=None,
):
    """Grade every submission under `path` into `out_dir`; True if all of them are graded,
    now or in an earlier run (a submission that is no notebook, or whose grading failed, is
    not), and the nbgrader gradebook, if any, written. NothingToGrade if `path` holds no
    submission. A student graded before from the same notebook is skipped unless `force`.

    `assignment`: the Assignment (or its name) to grade them as; by default inferred from the
    notebooks' names or metadata (`infer_assignment`).

    `executor`: "local" (`jobs` worker processes, default one per core) or "dask" (the Dask
    cluster whose scheduler is at `scheduler`). `log`: a function taking one line per event
    (plain lines); by default a progress bar on a terminal, plain lines on standard output
    otherwise. `warm_start`: run submissions in children of a pre-imported zygote (bwrap only).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(assignment, str):
        assignment = assignments.get(assignment)
    found = _discover(path, assignment)
    assignment = assignment or infer_assignment(found)
    docs = read_grades(out_dir)
    prints = {f.student: f.notebook and submission.fingerprint(f.notebook) for f in found}
    todo = [
        f
        for f in found
        if force or not prints[f.student] or graded_from(docs.get(f.student)) != prints[f.student]
    ]
    progress = Progress(len(todo), log)
    if len(todo) < len(found):
        progress.note(
            f"skipping {len(found) - len(todo)} already graded from the same notebook "
            "(use --force to regrade)"
        )
    again = [f for f in todo if not force and f.student in docs]
    if again:
        progress.note(
            f"grading {len(again)} again: their notebook changed, or grading it failed, since"
        )
    write_grades(out_dir, assignment, docs)
    failures = []

    def finish(student, outcome, error):
        graded = prints[student] if error is None else None  # failed here: retried next time
        document, error = _write_outcome(out_dir, student, outcome, error, mode, assignment, graded)
        docs[student] = document
        reason = error or document["extra_data"].get("not_graded")  # e.g. not a notebook
        if reason:
            failures.append(student)
        try:
            write_grades(out_dir, assignment, docs)
        except Exception as failure:  # noqa: BLE001 - written again after the next student
            progress.note(f"{out_dir / GRADES} not written: {_why(failure)}")
        progress.update(student, None if reason else document, reason)

    start = time.monotonic()
    tasks = []
    for f in todo:
        try:
            tasks.append(prepare(f, assignment))
        except Exception as error:  # noqa: BLE001 - one submission must not stop the batch
            finish(f.student, None, f"its notebook could not be read: {_why(error)}")
    with executors.open_executor(executor, jobs=jobs, scheduler=scheduler) as pool:
        for task, outcome, error in pool.run_unordered(grade_task, tasks, mode, limits, warm_start):
            finish(task.student, outcome, error and printable(error))
    progress.close()
    with contextlib.suppress(OSError):
        (out_dir / STAGING).rmdir()  # empty unless another batch is writing into `out_dir`
    progress.note(
        f"graded {len(todo) - len(failures)} of {len(todo)} in {time.monotonic() - start:.1f} s; "
        f"grades in {out_dir / GRADES}"
    )
    from autograder import nbgrader_gradebook  # if `path` is an nbgrader course's submitted/

    recorded = nbgrader_gradebook.record_grades(path, docs, assignment, progress.note)
    try:
        progress.note(f"class report in {class_report.write(out_dir, docs, assignment)}")
    except Exception as failure:  # noqa: BLE001 - the grades are written; the report comes extra
        progress.note(f"{out_dir / class_report.REPORT} not written: {_why(failure)}")
    for line in class_report.common_mistakes(
        docs, assignment
    ):  # the summary ends with the common mistakes
        progress.note(line)
    return recorded and not any(
        (docs.get(f.student) or {}).get("extra_data", {}).get("not_graded") for f in found
    )  # every student of the batch graded, now or in an earlier run


def _write_outcome(out_dir, student, outcome, error, mode, assignment, graded=None):
    """Write what grading one student gave, or a "not graded" row saying why it failed.
    `graded`: the SHA-256 of the notebook graded, recorded in results.json (`SUBMISSION_SHA256`).

    Returns (results document, None) or (the not-graded document, why).
    """
    if error is None:
        try:
            document, files = outcome
            if graded:
                document["extra_data"][SUBMISSION_SHA256] = graded
                files = {**files, RESULTS: report.dump_json(document)}
            write_student(out_dir, student, files)
            return document, None
        except Exception as failure:  # noqa: BLE001 - e.g. a document that cannot be written
            error = f"its results could not be written: {_why(failure)}"
    document, files = not_graded(student, error, assignment, mode)
    with contextlib.suppress(Exception):  # its row in grades.csv still says why
        write_student(out_dir, student, files)
    return document, error


def print_table(out_dir, assignment, stream=sys.stdout):
    """A plain-text table of OUT/grades.csv: student, score and the tests failed."""
    docs = write_grades(out_dir, assignment)
    width = min(max([len(s) for s in docs] + [7]), TABLE_ID_CHARS)
    print(f"{'student':<{width}}  {'score':>9}  failed tests", file=stream)
    for student, doc in sorted(docs.items()):
        shown_id = student if len(student) <= width else student[: width - 3] + "..."
        failed = [str(t.get("name")) for t in doc["tests"] if t.get("status") != "passed"]
        shown = ", ".join(failed[:3]) + (f" (+{len(failed) - 3} more)" if len(failed) > 3 else "")
        reason = doc["extra_data"].get("not_graded")
        shown = f"not graded: {reason}" if reason else shown
        score = f"{doc['score']:g}/{doc['extra_data']['max_score']:g}"
        print(f"{shown_id:<{width}}  {score:>9}  {shown or '-'}", file=stream)


def _discover(path, assignment=None):
    """The submissions under `path` (NothingToGrade if none); of `assignment` only, in an
    nbgrader `submitted/` folder (`submitted/<student>/<assignment>/`)."""
    notebook = assignment.notebook if assignment else None
    within = assignment.name if assignment and discover.nbgrader_course_of(path) else None
    found = discover.find_submissions(path, notebook, within=within)
    if not found:
        raise NothingToGrade(
            f"no submissions in {path}: expected a notebook, one folder per student, "
            "or nbgrader's submitted/ folder"
            + (f" with {assignment.name}/ in a student's folder" if within else "")
        )
    return found


def batch_assignments(path, name=None):
    """The Assignments to grade the submissions under `path` as, in course order, and the
    assignment folders of an nbgrader course that are no assignment of this course.

    `name` given: that one. nbgrader's `submitted/` folder: every assignment some student
    submitted. Otherwise the one their notebooks belong to (`infer_assignment`). Raises
    UnknownAssignment or NothingToGrade (one line each)."""
    if name:
        return [assignments.get(name)], []
    if discover.nbgrader_course_of(path) is None:
        return [infer_assignment(_discover(path))], []
    folders = discover.nbgrader_assignments(path)
    chosen = [a for a in assignments.all_assignments() if a.name in folders]
    others = [f for f in folders if f not in {a.name for a in chosen}]
    if not chosen and others:
        raise assignments.UnknownAssignment(
            f"no assignment of this course in {path} (found {', '.join(others[:5])}; "
            f"the course has {', '.join(assignments.names())})"
        )
    if not chosen:
        _discover(path)  # NothingToGrade, or one student's folder with no assignment folder
        raise NothingToGrade(f"no submissions in {path}: expected <student>/<assignment>/ folders")
    return chosen, others


def infer_assignment(found):
    """The assignment of a batch, from its notebooks' names, else their metadata (bounded
    reads, no code run); UnknownAssignment (one line, listing the choices) otherwise."""
    notebooks = [f.notebook for f in found if f.notebook is not None]
    try:
        return assignments.infer(notebooks)
    except assignments.UnknownAssignment as unknown:
        named = set()
        for notebook in notebooks:
            with contextlib.suppress(Exception):
                named.add(assignments.of_notebook(submission.read_notebook(notebook)))
        named.discard(None)
        if len(named) != 1:
            raise unknown from None
        return assignments.get(named.pop())


def resolve(mode):
    """The sandbox mode to use for a requested one (see `sandbox.resolve_mode`)."""
    return sandbox.resolve_mode(mode)
