"""nbgrader's gradebook: our grader's scores, written through nbgrader's own API.

After `python -m autograder grade <course>/submitted`, formgrader shows the scores and `nbgrader
export` writes them. The source notebook has one graded cell per exercise (grade_id
`<ClassName>_tests`, points = that exercise's subtotal in the assignment's spec, its body a
comment);
`nbgrader generate_assignment` records these cells in the gradebook, and each gets the student's
subtotal as its auto_score, as `nbgrader autograde` would give it. Scores come from our grader,
never from running those cells: deleting or editing one changes no score by itself (the runner
runs them as any other cell of the student's; a comment does nothing).

nbgrader is imported only when a course is found (it takes seconds to import), so grading any
other folder does not pay for it.
"""

import glob
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from autograder import discover

if TYPE_CHECKING:
    from nbgrader.coursedir import CourseDirectory

TESTS_CELL_SUFFIX = "_tests"  # an exercise's graded cell: grade_id "<ClassName>_tests"
MAX_TIMESTAMP_BYTES = 200  # timestamp.txt comes from the student's side of the exchange


def tests_cell_id(exercise: str) -> str:
    """The grade_id of the graded cell that holds `exercise`'s score ("Adam" -> "Adam_tests")."""
    return f"{exercise}{TESTS_CELL_SUFFIX}"


def exercise_scores(document: dict, assignment) -> dict[str, float]:
    """{exercise class: the student's subtotal}: the scores of the tests named after it."""
    return {
        exercise: sum(
            test["score"] for test in document["tests"] if test["name"].startswith(f"{exercise}: ")
        )
        for exercise in assignment.exercises
    }


def course_directory(course_dir) -> "CourseDirectory":
    """nbgrader's CourseDirectory of `course_dir`, configured by its nbgrader_config.py if any
    (rooted at `course_dir` unless the configuration says otherwise)."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    course_dir = Path(course_dir).resolve()
    config = Config()
    if (course_dir / discover.NBGRADER_CONFIG).is_file():
        config = PyFileConfigLoader(discover.NBGRADER_CONFIG, path=str(course_dir)).load_config()
    coursedir = CourseDirectory(config=config)
    if "root" not in config.CourseDirectory:
        coursedir.root = str(course_dir)
    return coursedir


def record_grades(submissions, docs: dict, assignment, log=print) -> bool:
    """After grading `submissions`: write `docs` to its course's gradebook if it is nbgrader's
    `submitted/` folder (else do nothing). False if the gradebook could not be written."""
    course_dir = discover.nbgrader_course_of(submissions)
    if course_dir is None:
        return True
    return write_gradebook(docs, course_dir, assignment, log)


def write_gradebook(docs: dict, course_dir, assignment, log=print) -> bool:
    """Write each student's subtotals into the course's gradebook, as `nbgrader autograde` would.

    `docs`: {student id: results document}; only students with a
    `submitted/<student>/<assignment>/` folder are written. The assignment must be in the
    gradebook (`nbgrader generate_assignment` puts it there with its graded cells). Per student:
    the student and the submission (with the time in timestamp.txt) are created or updated, each
    exercise's graded cell gets the student's subtotal as auto_score, and the course's late
    penalty is applied. One line per student goes to `log`. False if anything was not written.
    `assignment`: an autograder Assignment (its name is nbgrader's assignment id).
    """
    spec, assignment = assignment, assignment.name
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import AssignLatePenalties
    from sqlalchemy.exc import SAWarning

    coursedir = course_directory(course_dir)
    database = _sqlite_file(coursedir.db_url)
    if database is not None and not database.is_file():
        log(
            f"nbgrader gradebook not written: {database} does not exist; run "
            f"`nbgrader generate_assignment {assignment}` in {coursedir.root}, then grade again"
        )
        return False
    submitted = Path(coursedir.root, coursedir.submitted_directory)
    folders = {  # nbgrader's student id (the folder's name) -> the submission's folder
        folder.parent.name: folder
        for folder in sorted(submitted.glob(f"*/{glob.escape(assignment)}"))
        if folder.is_dir()
    }
    try:
        with (
            warnings.catch_warnings(),
            Gradebook(coursedir.db_url, coursedir.course_id) as gradebook,
        ):
            # nbgrader's add_submission makes SQLAlchemy warn (as in `nbgrader autograde`)
            warnings.simplefilter("ignore", SAWarning)
            problem = _check_assignment(gradebook, spec)
            if problem:
                log(f"nbgrader gradebook not written: {problem}")
                return False
            penalties = AssignLatePenalties(config=coursedir.config)
            penalties.init_plugin()
            written = True
            for student, folder in folders.items():
                document = docs.get(discover.student_id(student))  # as the grader named it
                if document is None:  # not graded: the batch said why
                    continue
                try:
                    args = gradebook, spec, student, document, folder, penalties
                    log(_write_student(*args))
                except Exception as error:  # noqa: BLE001 - the others are still written
                    gradebook.db.rollback()
                    log(f"nbgrader gradebook: {discover.student_id(student)} not written: {error}")
                    written = False
    except Exception as error:  # noqa: BLE001 - a locked or broken database; grades stay in OUT
        log(f"nbgrader gradebook not written: {type(error).__name__}: {error}")
        return False
    return written


def _sqlite_file(db_url):
    prefix = "sqlite:///"
    return Path(db_url[len(prefix) :]) if db_url.startswith(prefix) else None


def _check_assignment(gradebook, spec):
    """None, or why the gradebook cannot take the scores of the Assignment `spec`."""
    from nbgrader.api import MissingEntry

    assignment = spec.name
    try:
        record = gradebook.find_assignment(assignment)
    except MissingEntry:
        return (
            f"no assignment {assignment!r} in the gradebook; run "
            f"`nbgrader generate_assignment {assignment}` first"
        )
    cells = {cell.name: cell for notebook in record.notebooks for cell in notebook.grade_cells}
    wanted = {tests_cell_id(exercise): points for exercise, points in spec.subtotals().items()}
    stale = [
        name
        for name, points in wanted.items()
        if name not in cells or cells[name].max_score != points
    ]
    if stale:
        return (
            f"the graded cells {', '.join(stale)} of {assignment!r} are missing or have other "
            f"points than the grader; run `nbgrader generate_assignment {assignment} --force`"
        )
    return None


def _write_student(gradebook, spec, student, document, folder, penalties):
    """Record one student's submission and scores; returns the line to log."""
    assignment = spec.name
    gradebook.update_or_create_student(student)
    timestamp = _timestamp(folder)
    extra = {"timestamp": timestamp} if timestamp else {}
    submission = gradebook.update_or_create_submission(assignment, student, **extra)
    scores = exercise_scores(document, spec)
    for notebook in submission.notebooks:
        for grade_record in notebook.grades:
            exercise = grade_record.name.removesuffix(TESTS_CELL_SUFFIX)
            if grade_record.name.endswith(TESTS_CELL_SUFFIX) and exercise in scores:
                grade_record.auto_score = scores[exercise]
                # as nbgrader's SaveAutoGrades: a grader's manual score is flagged for review
                grade_record.needs_manual_grade = grade_record.manual_score is not None
        gradebook.db.commit()
        _late_penalty(notebook, submission, student, penalties)
    gradebook.db.commit()
    late = f", {submission.total_seconds_late:g} s late" if submission.total_seconds_late else ""
    when = f"submitted {timestamp:%Y-%m-%d %H:%M:%S} UTC{late}" if timestamp else "no timestamp.txt"
    total, most = sum(scores.values()), spec.max_score()
    return f"nbgrader gradebook: {discover.student_id(student)}: {total:g} / {most:g} ({when})"


def _late_penalty(notebook, submission, student, penalties):
    """The course's late-submission penalty for `notebook`, as nbgrader's AssignLatePenalties."""
    notebook.late_submission_penalty = None
    if submission.total_seconds_late > 0:
        penalty = penalties.plugin_inst.late_submission_penalty(
            student, notebook.score, submission.total_seconds_late
        )
        if penalty is not None:
            notebook.late_submission_penalty = min(max(penalty, 0), notebook.score)


def _timestamp(folder):
    """The UTC time in the submission's timestamp.txt, or None (missing, empty or unreadable)."""
    from nbgrader.utils import parse_utc

    path = folder / "timestamp.txt"
    if path.is_symlink() or not path.is_file():
        return None
    with path.open("rb") as stream:
        text = stream.read(MAX_TIMESTAMP_BYTES).decode("utf-8", "replace").strip()
    try:
        return parse_utc(text) if text else None
    except (ValueError, OverflowError, TypeError):
        return None
