"""The repository as an nbgrader course folder (configured by the root's `nbgrader_config.py`).

- nbgrader reads the instructor version from `source/<assignment>/`; each lesson's single source
  of truth stays `solutions/<assignment>.ipynb`, so the committed `source/` only holds relative
  links to them (`source_link`; a test checks every assignment's).
- `FillReleaseLinks`: the last of generate_assignment's preprocessors, so that nbgrader's release
  is the committed student notebook (`make student`): release links filled in, the assignment
  named in its metadata.
- `place_feedback`: puts the grader's feedback where `nbgrader release_feedback` takes it,
  `feedback/<student>/<assignment>/<notebook>.html`, next to the submission's `timestamp.txt` and
  `submission_secret.txt` that release_feedback needs to address it to the student.
"""

import os
import shutil
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor

from autograder import assignments, discover, generate, grade
from autograder.submission import fingerprint

SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")  # written by nbgrader submit


def source_link(assignment):
    """source/<assignment>/<notebook>, a link to ../../solutions/<notebook>."""
    return Path("source", assignment.name, assignment.notebook)


class FillReleaseLinks(NbGraderPreprocessor):
    """Replace the placeholders COLAB_URL and RELEASE_ZIP_URL with the release's links and name
    the assignment in the notebook's metadata, as `make student` does."""

    def preprocess(self, nb, resources):
        name = (resources.get("nbgrader") or {}).get("assignment")
        return generate.for_release(nb, assignments.get(name)), resources


def place_feedback(out_dir, course_dir, assignment):
    """Copy each student's feedback.html (see `grade.student_dir`) into nbgrader's feedback folder.

    `out_dir`: where `grade` wrote the assignment's results (OUT/<assignment>).

    Covers every student with a `submitted/<student>/<assignment>/` folder. Returns (written
    paths, [(student, why not)]): a student is skipped when not graded, graded from another
    notebook than the one collected now, or when the submission lacks nbgrader's submission
    files.
    """
    out_dir, course_dir = Path(out_dir), Path(course_dir)
    written, skipped = [], []
    for submission in sorted((course_dir / "submitted").glob(f"*/{assignment.name}")):
        student = discover.student_id(submission.parent.name)  # as `grade` names it
        feedback = grade.student_dir(out_dir, student) / grade.FEEDBACK
        notebook, problem = _check(submission, feedback, assignment)
        if problem:
            skipped.append((student, problem))
            continue
        target = course_dir / "feedback" / submission.parent.name / assignment.name
        target.mkdir(parents=True, exist_ok=True)
        for name in SUBMISSION_FILES:
            shutil.copyfile(submission / name, target / name)
        html = target / f"{notebook.stem}.html"
        staging = target / f".{html.name}.tmp"
        shutil.copyfile(feedback, staging)
        os.replace(staging, html)
        written.append(html)
    return written, skipped


def _check(submission, feedback, assignment):
    """(the graded notebook, None), or (None, why its feedback cannot be placed)."""
    if not feedback.is_file():
        return None, f"not graded: no {feedback}"
    missing = [name for name in SUBMISSION_FILES if not (submission / name).is_file()]
    if missing:
        return None, f"no {' or '.join(missing)}: collect submissions with `nbgrader collect`"
    notebook, problem = discover.pick_notebook(submission, assignment.notebook)
    if notebook is not None and not _graded_as_it_is(notebook, feedback):
        return None, "collected again, with another notebook, after it was graded: grade again"
    return notebook, problem


def _graded_as_it_is(notebook, feedback):
    """Was the feedback page `feedback` made from `notebook` as it is now? Told by the
    notebook's SHA-256 that results.json beside it records; for results without it (an older
    grader), by the times."""
    graded = grade.graded_from(grade.read_results(feedback.with_name(grade.RESULTS)))
    if graded is None:
        return notebook.stat().st_ctime <= feedback.stat().st_mtime
    return graded == fingerprint(notebook)
