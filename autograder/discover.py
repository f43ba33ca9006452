"""Find the submissions under a path: one notebook, a folder per student, or nbgrader's tree.

- `PATH` is a notebook: one student, named after the file;
- `PATH/<student>/<notebook>.ipynb`, or nbgrader's `submitted/<student>/<assignment>/<notebook>`:
  one student per subfolder, the notebook found below it (at most `MAX_DEPTH` folders down);
- `PATH/<name>.ipynb` files directly in the folder: one student per notebook.

In nbgrader's `submitted/` folder (`nbgrader_course_of`), a student's submission of an assignment
is `submitted/<student>/<assignment>/` and nothing else: `find_submissions(..., within=NAME)`
looks only there, and a student without that folder has not submitted it (is not in its batch).

A student's id is the file or folder name, printable (`student_id`). Whatever one entry is (a
link, a name that is not UTF-8, a folder too big to search), it becomes that student's `Found`
with a problem, never an exception; two entries with one id (`X/` and `X.ipynb`) are reported
as that student's problem, not merged.
"""

import contextlib
import dataclasses
import os
from pathlib import Path

from autograder import assignments
from autograder.submission import printable

MAX_DEPTH = 4  # folders searched below a student's folder (nbgrader's tree needs 1)
MAX_ENTRIES = 10_000  # files and folders looked at in one student's folder
NBGRADER_CONFIG = "nbgrader_config.py"
SUBMITTED = "submitted"  # nbgrader's default CourseDirectory.submitted_directory


@dataclasses.dataclass(frozen=True)
class Found:
    student: str
    notebook: Path | None  # None: the student's folder has no notebook to grade
    problem: str | None = None


def student_id(name: str) -> str:
    """The student id of a file or folder name: the name itself, with bytes that are not UTF-8
    and characters that are not printable as backslash escapes (`\\xff`, `\\n`)."""
    return printable(name)


def _candidates(folder):
    """(the notebooks below `folder`, sorted, or None; None or why the search stopped)."""
    found, pending, seen = [], [(Path(folder), 0)], 0
    while pending:
        current, depth = pending.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                seen += 1
                if seen > MAX_ENTRIES:
                    return None, f"the submission has more than {MAX_ENTRIES:,} files and folders"
                if entry.name.startswith("."):  # .ipynb_checkpoints, hidden files
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if depth < MAX_DEPTH:
                        pending.append((Path(entry.path), depth + 1))
                elif entry.name.endswith(".ipynb"):
                    found.append(Path(entry.path))
    return sorted(found), None


def pick_notebook(folder, name=None):
    """The notebook to grade in a student's folder: the one named `name` (the assignment's
    notebook; when None, any assignment's), else the only one; returns (path or None, problem
    or None)."""
    notebooks, problem = _candidates(folder)
    if problem:
        return None, problem
    wanted = {name} if name else {f"{n}.ipynb" for n in assignments.names()}
    named = [p for p in notebooks if p.name in wanted]
    if len(named) == 1 or (named and name):
        return named[0], None
    if len(notebooks) == 1:
        return notebooks[0], None
    expected = name or "a lesson's notebook"
    if not notebooks:
        return None, f"no notebook (.ipynb) was submitted; expected {expected}"
    listed = ", ".join(printable(p.name) for p in notebooks[:5])
    if named:
        return None, f"notebooks of several lessons: {listed}; submit one lesson at a time"
    return None, f"several notebooks and none named {expected}: {listed}"


def nbgrader_course_of(submissions) -> Path | None:
    """The nbgrader course whose `submitted/` folder is `submissions`, or None.

    A course is the folder above `submitted/` when it has an nbgrader_config.py or when some
    student's folder has nbgrader's `<student>/<assignment>/<notebook>` layout.
    """
    submissions = Path(submissions)
    if not submissions.is_dir() or submissions.resolve().name != SUBMITTED:
        return None
    course_dir = submissions.resolve().parent
    if (course_dir / NBGRADER_CONFIG).is_file() or any(submissions.glob("*/*/*.ipynb")):
        return course_dir
    return None


def nbgrader_assignments(submitted) -> list[str]:
    """The assignment folders in nbgrader's `submitted/<student>/<assignment>/`, sorted: every
    assignment that some student submitted (names as they are; links are not followed)."""
    names = set()
    for student in Path(submitted).iterdir():
        if student.name.startswith(".") or not _is_folder(student):
            continue
        with contextlib.suppress(OSError):
            names.update(
                student_id(a.name)
                for a in student.iterdir()
                if not a.name.startswith(".") and _is_folder(a)
            )
    return sorted(names)


def find_submissions(path, name=None, within=None):
    """The submissions under `path`, sorted by student; one per student id. `name`: the
    notebook file name to look for in a student's folder (see `pick_notebook`). `within`: the
    assignment folder inside each student's folder (nbgrader's tree); students without it are
    left out."""
    path = Path(path)
    if path.is_file():
        return [Found(student_id(path.stem), path)]
    if not path.is_dir():
        raise FileNotFoundError(f"no such file or folder: {path}")
    by_student = {}
    for entry in sorted(path.iterdir()):
        if entry.name.startswith("."):
            continue
        found = _found(entry, name, within)
        if found is not None:
            by_student.setdefault(found.student, []).append((entry, found))
    return [
        entries[0][1] if len(entries) == 1 else _duplicates(student, entries)
        for student, entries in sorted(by_student.items())
    ]


def _found(entry, name=None, within=None):
    """The submission an entry of the submissions folder is (None if it is none). `within`: the
    assignment folder to look in inside a student's folder (nbgrader's tree); None when the
    student has no such folder."""
    is_notebook = within is None and entry.suffix == ".ipynb"
    student = student_id(entry.stem if is_notebook and not _is_folder(entry) else entry.name)
    folder = entry if within is None else entry / within
    try:
        for part in (entry,) if within is None else (entry, folder):
            if part.is_symlink():
                return Found(student, None, f"{printable(part.name)} is a link, not a submission")
            if within is not None and not part.is_dir():
                return None
        if folder.is_dir():
            notebook, problem = pick_notebook(folder, name)
            if notebook is not None and not notebook.resolve().is_relative_to(folder.resolve()):
                notebook, problem = None, f"{printable(notebook.name)} links outside the submission"
            return Found(student, notebook, problem)
        return Found(student, entry) if is_notebook else None
    except Exception as error:  # noqa: BLE001 - one unreadable entry must not stop the batch
        return Found(student, None, f"{printable(entry.name)} could not be read: {_why(error)}")


def _is_folder(entry):
    try:
        return entry.is_dir() and not entry.is_symlink()
    except OSError:
        return False


def _why(error):
    text = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return printable(f"{type(error).__name__}: {text}")


def _duplicates(student, entries):
    names = ", ".join(printable(e.name) + ("/" if e.is_dir() else "") for e, _ in entries)
    return Found(
        student,
        None,
        f"{len(entries)} submissions are named {student} ({names}); keep one and grade again",
    )
