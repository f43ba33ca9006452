"""Batch grading: the number of jobs, progress reporting, and grading on a Dask cluster."""

import csv
import io
import os
import subprocess
import sys

import pytest

from autograder import __main__ as cli
from autograder import assignments, executors, grade, report, sandbox
from autograder.assignments.optimizers_core.samples import SAMPLES
from autograder.assignments.optimizers_core.spec import ASSIGNMENT
from autograder.progress import Progress

MAX = float(ASSIGNMENT.max_score())
DOCUMENT = {"score": MAX, "extra_data": {"max_score": MAX}}


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_jobs_default_to_one_per_core():
    """Without --jobs, are as many submissions graded at once as there are cores?"""
    args = cli.parser().parse_args(["grade", "subs", "--out", "o"])
    assert args.jobs == os.cpu_count() == executors.default_jobs()
    assert args.executor == "local" and args.scheduler is None


def test_dask_needs_a_scheduler(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(grade, "resolve", lambda mode: "bwrap")
    (tmp_path / "alice.ipynb").write_text("{}")
    out = str(tmp_path / "o")
    assert cli.main(["grade", str(tmp_path), "--out", out, "--executor", "dask"]) == 2
    assert "--scheduler" in capsys.readouterr().err


def test_progress_is_plain_lines_when_not_on_a_terminal():
    """Off a terminal: one line per submission with its score, running counts and an ETA?"""
    stream = io.StringIO()
    progress = Progress(3, stream=stream)
    progress.update("alice", DOCUMENT, None)
    progress.update("bob", {"score": 0.0, "extra_data": {"max_score": MAX}}, None)
    progress.update("carol", None, "RuntimeError: lost")
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith(
        f"[1/3] alice: {MAX:g} / {MAX:g} (full 1, partial 0, zero 0, not graded 0, ETA"
    )
    assert lines[1].startswith(f"[2/3] bob: 0 / {MAX:g} (full 1, partial 0, zero 1")
    assert lines[2] == (
        "[3/3] carol: NOT GRADED (RuntimeError: lost) "
        "(full 1, partial 0, zero 1, not graded 1, done)"
    )


def test_progress_is_a_bar_on_a_terminal():
    """On a terminal: a bar with done/total and the counts, failures printed above it?"""
    stream = Terminal()
    progress = Progress(2, stream=stream)
    progress.update("alice", DOCUMENT, None)
    progress.update("bob", None, "RuntimeError: lost")
    progress.close()
    text = stream.getvalue()
    assert "2/2" in text and "not graded 1" in text and "bob: NOT GRADED" in text
    assert "[1/2]" not in text


def test_a_batch_prints_plain_lines_off_a_terminal(tmp_path, capsys):
    """Does grade_batch, by default and off a terminal, print one line per student, and say
    (and return) that a file that is no notebook, or no file at all, was not graded?"""
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    (tmp_path / "subs" / "ann" / "optimizers_core.ipynb").write_text("not json")
    (tmp_path / "subs" / "ben").mkdir()
    assert not grade.grade_batch(tmp_path / "subs", tmp_path / "out", "none", jobs=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[1/2] ann: NOT GRADED (optimizers_core.ipynb is not valid JSON")
    assert lines[1].startswith("[2/2] ben: NOT GRADED (no notebook")
    assert "not graded 2" in lines[1] and lines[2].startswith("graded 0 of 2")


def _documents(out):
    documents = {}
    for student, document in grade.write_grades(out, ASSIGNMENT).items():
        document.pop("execution_time")
        documents[student] = document
    return documents


@pytest.mark.slow
@pytest.mark.needs("sandbox")
def test_a_dask_cluster_grades_like_this_machine(tmp_path):
    """On a LocalCluster (2 worker processes), are the results those of local grading?"""
    distributed = pytest.importorskip("distributed")
    submissions = tmp_path / "submissions"
    for name in ("solution", "momentum_shared_state", "invalid_json"):
        SAMPLES[name].build(submissions / name)
    limits = sandbox.Limits(case_seconds=4, cell_seconds=8, grace_seconds=2)
    local_log, dask_log = [], []
    assert not grade.grade_batch(  # invalid_json is not graded
        submissions, tmp_path / "local", "bwrap", jobs=2, limits=limits, log=local_log.append
    )
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        assert not grade.grade_batch(
            submissions,
            tmp_path / "dask",
            "bwrap",
            limits=limits,
            log=dask_log.append,
            executor="dask",
            scheduler=cluster.scheduler_address,
        )
    local, remote = _documents(tmp_path / "local"), _documents(tmp_path / "dask")
    assert sorted(local) == ["invalid_json", "momentum_shared_state", "solution"]
    assert remote == local
    assert local["solution"]["score"] == MAX and local["momentum_shared_state"]["score"] < MAX
    assert (tmp_path / "dask" / "grades.csv").read_text() == (
        tmp_path / "local" / "grades.csv"
    ).read_text()


@pytest.mark.slow
def test_the_grading_process_does_not_import_tensorflow(tmp_path):
    """Does a worker grade (run, score, plot) with TensorFlow only in the process it sandboxes?"""
    script = (
        "import sys\n"
        "from autograder import discover, grade\n"
        "from autograder.assignments.optimizers_core.spec import ASSIGNMENT\n"
        "found = discover.Found('s', ASSIGNMENT.solution_notebook)\n"
        "task = grade.prepare(found, ASSIGNMENT)\n"
        "document, files = grade.grade_task(task, 'none')\n"
        "grade._SCORING_WARM_UP.wait()\n"
        "print(document['score'], 'tensorflow' in sys.modules, 'matplotlib' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(MAX), "False", "True"]


def test_course_grades_sum_up_every_lesson_graded_into_out(tmp_path):
    """Does OUT/course_grades.csv hold every lesson graded into OUT/<lesson>/ so far, in course
    order, rebuilt from their results (a stray folder or file ignored), and nothing without one?"""
    assert grade.write_course_grades(tmp_path) is None and not list(tmp_path.iterdir())
    course = assignments.all_assignments()
    first, last = course[0], course[-1]
    for lesson, students in ((last, ("ann", "bob")), (first, ("ann",))):
        for student in students:
            document = report.results_json(
                grade.Grade(student, [], [], None, 1.0, assignment=lesson)
            )
            document["score"] = 2.0
            grade.write_student(
                tmp_path / lesson.name, student, {grade.RESULTS: report.dump_json(document)}
            )
        grade.write_grades(tmp_path / lesson.name, lesson)
    (tmp_path / "notes").mkdir()
    sheet = grade.write_course_grades(tmp_path)
    assert sheet == tmp_path / grade.COURSE_GRADES
    rows = list(csv.reader(sheet.open()))
    assert rows[0] == ["student", first.name, last.name, "total", "max_total", "not_graded"]
    most = str(float(first.max_score() + last.max_score()))
    assert rows[1:] == [["ann", "2.0", "2.0", "4.0", most, ""], ["bob", "", "2.0", "2.0", most, ""]]
