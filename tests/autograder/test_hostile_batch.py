"""One hostile submission, or one failure while grading it, costs that student only.

Each hostile student of issue 12 gets a row saying why, and the others are graded as if it were
not there. The fast tests use submissions that run no code (or a stand-in for the worker); the
slow one grades correct students in the real sandbox next to every hostile one.
"""

import csv
import json
import os

import pytest

from autograder import grade, report, sandbox, submission
from autograder.assignments.optimizers_core.samples import SAMPLES, solved, with_cell
from autograder.assignments.optimizers_core.spec import ASSIGNMENT

NOT_JSON = "not json"
LONG = "x" * 250  # with the staging prefix, past the 255-byte limit of a file name
NOT_UTF8 = os.fsdecode(b"caf\xe9")  # a Latin-1 folder name
NAMES = ["a b", "a_b", "a+b", "grades.csv", "students", "report", "=cmd", LONG, NOT_UTF8]


def notebook(folder, content=NOT_JSON):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ASSIGNMENT.notebook
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def rows(out):
    with (out / grade.GRADES).open(newline="", encoding="utf-8") as stream:
        return {row["student"]: row for row in csv.DictReader(stream)}


def leftovers(out):
    """Staging folders or files left in OUT."""
    staging = out / grade.STAGING
    return sorted(staging.iterdir()) if staging.exists() else []


def hostile_names(subs):
    """Students whose names collide once made plain, or with the grader's files, or are too long
    or not UTF-8, and `X/` next to `X.ipynb`; returns {student id: what its row must say}."""
    for name in NAMES:
        notebook(subs / name)
    notebook(subs / "X")
    (subs / "X.ipynb").write_text("{}")
    expected = {submission.printable(name): "not valid JSON" for name in NAMES}
    expected["X"] = "2 submissions are named X"
    return expected


def test_hostile_names_get_one_row_and_one_folder_each(tmp_path):
    """Does every hostile name get its own row and folder, OUT/grades.csv stay a file, and a
    second run without --force keep every row?"""
    subs, out = tmp_path / "subs", tmp_path / "out"
    expected = hostile_names(subs)
    assert not grade.grade_batch(subs, out, "none", jobs=1, log=lambda line: None)
    found = rows(out)
    assert "caf\\xe9" in found and found["'=cmd"]  # printable, and no formula
    found["=cmd"] = found.pop("'=cmd")
    assert sorted(found) == sorted(expected)
    for student, words in expected.items():
        assert words in found[student]["not_graded"], student
    folders = {student: grade.student_dir(out, student) for student in expected}
    assert len(set(folders.values())) == len(expected)
    for student, folder in folders.items():
        assert len(folder.name) <= 64 and not folder.name.startswith(".")
        document = json.loads((folder / grade.RESULTS).read_text(encoding="utf-8"))
        assert document["extra_data"]["student"] == student
    assert (out / grade.GRADES).is_file() and not leftovers(out)

    before, log = rows(out), []
    assert not grade.grade_batch(subs, out, "none", jobs=1, log=log.append)  # still not graded
    assert f"skipping {len(expected) - 1} already graded from the same notebook" in log[0]  # not X
    assert rows(out) == before


def test_student_folders_are_plain_or_prefix_and_hash():
    """Are plain ids their own folder, and every other id a bounded, unique, visible name?"""
    tricky = ["alice", "Alice", "a b", "a_b", "a+b", "a_b+" + "0" * 12, ".", "..", "../x", "-rf"]
    tricky += [LONG, LONG + "y", "caf\\xe9", "café", "\u202eevil", "日本語", "grades.csv"]
    folders = [grade.student_folder(student) for student in tricky]
    assert len(set(folders)) == len(tricky)
    assert folders[0] == "alice" and folders[tricky.index("grades.csv")] == "grades.csv"
    for folder in folders:
        assert 0 < len(folder.encode()) <= 64 and folder.isascii()
        assert "/" not in folder and not folder.startswith((".", "-"))


def fake_grading(failing):
    """A stand-in for grade_task: raises for the students in `failing`, else a 1-point result."""

    def grade_task(task, mode, limits=None, warm_start=True):
        if task.student in failing:
            raise RuntimeError(f"lost worker \ud800 {task.student}")
        result = grade.Grade(task.student, [], [], None, 0.1, assignment=task.assignment)
        document = report.results_json(result)
        document["score"] = 1.0
        return document, {grade.RESULTS: report.dump_json(document), grade.FEEDBACK: "<p>ok</p>"}

    return grade_task


def test_a_failure_while_grading_one_student_is_that_students_row(tmp_path, monkeypatch):
    """Does a failure in a worker (with a lone surrogate in its message) become a written
    "not graded" row, the other students graded and the batch returning False?"""
    subs, out = tmp_path / "subs", tmp_path / "out"
    for student in ("ann", "bad", "zed"):
        notebook(subs / student, '{"cells": []}')
    monkeypatch.setattr(grade, "grade_task", fake_grading({"bad"}))
    assert not grade.grade_batch(subs, out, "none", jobs=1, log=lambda line: None)
    found = rows(out)
    assert found["ann"]["score"] == found["zed"]["score"] == "1.0"
    assert found["ann"]["not_graded"] == found["zed"]["not_graded"] == ""
    assert found["bad"]["not_graded"] == "RuntimeError: lost worker \\ud800 bad"
    page = (grade.student_dir(out, "bad") / grade.FEEDBACK).read_text(encoding="utf-8")
    assert "lost worker \\ud800 bad" in page and not leftovers(out)
    results = json.loads((grade.student_dir(out, "bad") / grade.RESULTS).read_text())
    assert [t["name"] for t in results["tests"]] == ASSIGNMENT.all_shown_names()  # each at 0
    assert not any(t["score"] for t in results["tests"])


def test_a_second_run_grades_what_changed_or_failed_and_skips_the_rest(tmp_path, monkeypatch):
    """Run again without --force: is a student whose notebook changed graded again (even with
    the same file time), one whose grading failed for the grader's reasons retried, and one
    with the very same notebook skipped; does --force grade everyone; does the result say
    whether every student of the batch is graded?"""
    subs, out = tmp_path / "subs", tmp_path / "out"
    for student in ("ann", "bad", "cid"):
        notebook(subs / student, '{"cells": []}')
    monkeypatch.setattr(grade, "grade_task", fake_grading({"bad"}))
    assert not grade.grade_batch(subs, out, "none", jobs=1, log=lambda line: None)
    graded = json.loads((grade.student_dir(out, "ann") / grade.RESULTS).read_text())
    sha = graded["extra_data"][grade.SUBMISSION_SHA256]
    assert sha == submission.fingerprint(subs / "ann" / ASSIGNMENT.notebook)
    changed = notebook(subs / "cid", '{"cells": [], "metadata": {}}')
    os.utime(changed, (1_000_000_000, 1_000_000_000))  # older than its results: no matter

    seen, log = [], []

    def counting(task, *args, **kwargs):
        seen.append(task.student)
        return fake_grading(set())(task, *args, **kwargs)

    monkeypatch.setattr(grade, "grade_task", counting)
    assert grade.grade_batch(subs, out, "none", jobs=1, log=log.append)
    assert seen == ["bad", "cid"] and rows(out)["bad"]["not_graded"] == ""
    assert "skipping 1 already graded from the same notebook" in log[0]
    assert "grading 2 again" in log[1]
    seen.clear()
    assert grade.grade_batch(subs, out, "none", jobs=1, force=True, log=lambda line: None)
    assert seen == ["ann", "bad", "cid"]


def test_a_failure_in_a_worker_process_is_that_students_row(tmp_path, monkeypatch):
    """With worker processes: does a task that makes grade_task fail in its worker become that
    student's row, written like any other, the other student graded by the same pool?"""
    subs, out = tmp_path / "subs", tmp_path / "out"
    for student in ("ann", "bad"):
        notebook(subs / student)
    prepare = grade.prepare

    def junk_cells(found, assignment):  # cells that are not CodeCells: run_cells fails there
        task = prepare(found, assignment)
        junk = grade.Task(task.student, assignment, ("not a cell",))
        return junk if task.student == "bad" else task

    monkeypatch.setattr(grade, "prepare", junk_cells)
    assert not grade.grade_batch(subs, out, "none", jobs=2, log=lambda line: None)
    found = rows(out)
    assert "not valid JSON" in found["ann"]["not_graded"]
    assert found["bad"]["not_graded"].startswith("AttributeError: ")
    assert (grade.student_dir(out, "bad") / grade.FEEDBACK).is_file() and not leftovers(out)


def test_a_failure_while_reading_or_writing_one_student_is_that_students_row(tmp_path, monkeypatch):
    """Does a failure in `prepare` or in `write_student` cost that student only?"""
    subs, out = tmp_path / "subs", tmp_path / "out"
    for student in ("ann", "unreadable", "unwritable", "zed"):
        notebook(subs / student, '{"cells": []}')
    prepare, write_student = grade.prepare, grade.write_student

    def failing_prepare(found, assignment):
        if found.student == "unreadable":
            raise TypeError("unhashable type: 'list'")
        return prepare(found, assignment)

    def failing_write(out_dir, student, files):
        if student == "unwritable":  # its results, then its not-graded files
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return write_student(out_dir, student, files)

    monkeypatch.setattr(grade, "prepare", failing_prepare)
    monkeypatch.setattr(grade, "write_student", failing_write)
    monkeypatch.setattr(grade, "grade_task", fake_grading(set()))
    assert not grade.grade_batch(subs, out, "none", jobs=1, log=lambda line: None)
    found = rows(out)
    assert [found[s]["score"] for s in ("ann", "zed")] == ["1.0", "1.0"]
    assert "could not be read: TypeError" in found["unreadable"]["not_graded"]
    assert "could not be written: UnicodeEncodeError" in found["unwritable"]["not_graded"]
    assert not leftovers(out)


def test_a_corrupt_results_file_is_left_out_not_fatal(tmp_path):
    """Is a results.json that is not JSON, not a results document, or in another student's
    folder left out of grades.csv, the others kept?"""
    document = report.results_json(grade.Grade("ann", [], [], None, 0.1, assignment=ASSIGNMENT))
    grade.write_student(tmp_path, "ann", {grade.RESULTS: report.dump_json(document)})
    for folder, text in {
        "broken": "{",
        "list": "[]",
        "nested": "[" * 100_000,
        "no-score": json.dumps({"extra_data": {"student": "no-score"}, "tests": []}),
        "elsewhere": report.dump_json(document),  # ann's document in another folder
        "odd-tests": report.dump_json({**document, "tests": ["\ud800"]}),
    }.items():
        grade.write_student(tmp_path, folder, {grade.RESULTS: text})
    surrogate = report.results_json(
        grade.Grade("sur", [], ["note \ud800"], None, 0.1, assignment=ASSIGNMENT)
    )
    grade.write_student(tmp_path, "sur", {grade.RESULTS: report.dump_json(surrogate)})
    docs = grade.write_grades(tmp_path, ASSIGNMENT)
    assert sorted(docs) == sorted(rows(tmp_path)) == ["ann", "sur"]
    assert docs["sur"]["extra_data"]["notes"] == ["note \\ud800"]


def solution_with_odd_types():
    """The solution notebook with a list as every cell's id and junk added to every cell's tags."""
    nb = solved()
    for cell in nb.cells:
        cell["id"] = ["a", "list"]
        cell.setdefault("metadata", {})["tags"] = cell.metadata.get("tags", []) + [["demo"], 7]
    return json.dumps(nb)


@pytest.mark.slow
@pytest.mark.needs("sandbox")
def test_correct_students_are_graded_in_full_next_to_every_hostile_one(tmp_path):
    """In one batch with every hostile submission of issue 12, do the correct students (and the
    hostile ones that are correct) get full marks, and every other one a row saying why?"""
    subs, out = tmp_path / "subs", tmp_path / "out"
    for student in ("alice", "zoe"):
        SAMPLES["solution"].build(subs / student)
    expected = hostile_names(subs)
    notebook(subs / "deep", "[" * 100_000 + "]" * 100_000)
    notebook(subs / "empty-objects", "[" + "{}," * (40 * 2**20 // 3) + "{}]")
    notebook(subs / "list-ids", solution_with_odd_types())
    raising = with_cell(solved(), 'raise ValueError("\\ud800")')  # a lone surrogate at run time
    notebook(subs / "surrogate", json.dumps(raising))
    expected |= {"deep": "nests lists or objects", "empty-objects": "clear its outputs"}
    limits = sandbox.Limits(case_seconds=4, cell_seconds=8, grace_seconds=2)
    log = []
    assert not grade.grade_batch(subs, out, "bwrap", jobs=2, limits=limits, log=log.append)
    found = rows(out)
    found["=cmd"] = found.pop("'=cmd")
    for student in ("alice", "zoe", "list-ids", "surrogate"):
        assert float(found[student]["score"]) == float(found[student]["max_score"]), log
        assert found[student]["not_graded"] == ""
    for student, words in expected.items():
        assert words in found[student]["not_graded"], (student, log)
    assert len(found) == len(expected) + 4
    surrogate = grade.student_dir(out, "surrogate")
    document = json.loads((surrogate / grade.RESULTS).read_text(encoding="utf-8"))
    text = json.dumps(document, ensure_ascii=False)
    assert "\\ud800" in text and text.encode("utf-8")  # escaped, never a lone surrogate
    assert (out / grade.GRADES).is_file() and not leftovers(out)
