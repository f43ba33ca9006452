"""Grade one submission, or a whole batch into an output folder.

Per student, in a fresh worker process: run the submission in the sandbox, score its data with
the hidden tests, write `OUT/<student>/results.json` and `feedback.html` atomically (a temporary
folder renamed into place), then refresh `OUT/grades.csv`. A student already graded is skipped
unless `force`. The batch goes on whatever a submission does.
"""

import concurrent.futures
import dataclasses
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from autograder import cases as catalogue
from autograder import discover, evaluate, references, report, sandbox
from autograder.run_submission import SubmissionRun, run_submission

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


def grade_notebook(path, mode, limits=None, student=None):
    """Grade the notebook at `path` in sandbox `mode`; returns (Grade, SubmissionRun)."""
    run = run_submission(path, mode, limits)
    return _grade(student or Path(path).stem, run), run


def _grade(student, run):
    tests = evaluate.evaluate(run, references.load())
    notes = list(run.notes)
    if run.stdout.strip():
        notes.append("your code printed (first part):\n" + run.stdout[:2000])
    return Grade(student, tests, notes, run.error, run.seconds)


def _problem_run(problem):
    run = SubmissionRun()
    run.error = problem
    return run


def grade_one(found, out_dir, mode, limits):
    """Grade one discovered submission and write its files; returns its results document."""
    if found.notebook is None:
        grade, run = _grade(found.student, _problem_run(found.problem)), None
    elif found.notebook.is_symlink() or not found.notebook.is_file():
        problem = f"{found.notebook.name} is not a regular file (a link or a folder)"
        grade, run = _grade(found.student, _problem_run(problem)), None
    else:
        grade, run = grade_notebook(found.notebook, mode, limits, found.student)
    document = report.results_json(grade)
    plots = report.public_plots(run, references.load()) if run and not run.error else []
    write_student(
        out_dir,
        found.student,
        {
            RESULTS: report.dump_json(document),
            FEEDBACK: report.feedback_html(grade, plots),
        },
    )
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


def write_grades(out_dir):
    """Rebuild OUT/grades.csv from every OUT/<student>/results.json (atomically)."""
    out_dir = Path(out_dir)
    docs = {}
    for results in sorted(out_dir.glob(f"*/{RESULTS}")):
        doc = json.loads(results.read_text())
        docs[doc["extra_data"]["student"]] = doc
    staging = out_dir / f".{GRADES}.tmp"
    staging.write_text(report.grades_csv(docs))
    os.replace(staging, out_dir / GRADES)
    return docs


def _work(found, out_dir, mode, limits):
    """Worker entry point: returns (student, document or None, error text or None)."""
    try:
        return found.student, grade_one(found, out_dir, mode, limits), None
    except Exception as error:  # noqa: BLE001 - a grader bug must not stop the batch
        return found.student, None, f"{type(error).__name__}: {error}"


def grade_batch(path, out_dir, mode, jobs=1, force=False, limits=None, log=print):
    """Grade every submission under `path` into `out_dir`; True if all of them were graded."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    found = discover.find_submissions(path)
    todo = [f for f in found if force or not (out_dir / safe_name(f.student) / RESULTS).exists()]
    if len(todo) < len(found):
        log(f"skipping {len(found) - len(todo)} already graded (use --force to regrade)")
    failures = []
    context = multiprocessing.get_context("spawn")
    start = time.monotonic()
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=max(1, jobs), mp_context=context, max_tasks_per_child=1
    ) as pool:
        futures = [pool.submit(_work, f, out_dir, mode, limits) for f in todo]
        for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            student, document, error = future.result()
            if error:
                failures.append(student)
                log(f"[{done}/{len(todo)}] {student}: NOT GRADED ({error})")
            else:
                log(
                    f"[{done}/{len(todo)}] {student}: {document['score']:g} / "
                    f"{document['extra_data']['max_score']:g}"
                )
            write_grades(out_dir)
    write_grades(out_dir)
    log(
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
