"""What students and instructors receive: Gradescope JSON, the feedback page, grades.csv."""

import csv
import io
import json

from autograder import grade, report
from autograder.evaluate import CheckResult


def make_grade(output="", student="alice"):
    tests = [
        CheckResult(
            "Momentum: is defined and applies an update", "Momentum", "defined", 1.0, 1.0, True, ""
        ),
        CheckResult(
            "Momentum: several variables at once", "Momentum", "variables", 0.0, 2.0, False, output
        ),
    ]
    return grade.Grade(student, tests, ["a note"], None, 1.5)


def test_results_json_follows_gradescopes_schema():
    """Does results.json carry score and tests with name, score, max_score, status, output,
    visibility?"""
    doc = report.results_json(make_grade("off at step 3"))
    assert doc["score"] == 1.0
    for test in doc["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] in ("passed", "failed")
    assert json.loads(report.dump_json(doc)) == doc


def test_feedback_escapes_everything_from_the_submission():
    """Is HTML in a message (from student code) shown as text, never as markup?"""
    page = report.feedback_html(make_grade("<script>alert(1)</script>", student="<b>x</b>"))
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "<b>x</b>" not in page


def test_grades_csv_has_a_row_per_student_and_defuses_formulas():
    """Is there one row per student, a column per test, and no formula a spreadsheet would run?"""
    docs = {s: report.results_json(make_grade(student=s)) for s in ("bob", "=cmd|calc")}
    rows = list(csv.reader(io.StringIO(report.grades_csv(docs))))
    assert rows[0][:3] == ["student", "score", "max_score"] and len(rows[0]) == 3 + 27
    assert [r[0] for r in rows[1:]] == ["'=cmd|calc", "bob"]
    assert rows[2][rows[0].index("Momentum: is defined and applies an update")] == "1.0"


def test_student_files_are_replaced_atomically(tmp_path):
    """Are a student's files written as a whole folder, replacing an earlier one, no leftovers?"""
    grade.write_student(tmp_path, "alice", {"results.json": "1"})
    grade.write_student(tmp_path, "alice", {"results.json": "2", "feedback.html": "x"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alice"]
    assert (tmp_path / "alice" / "results.json").read_text() == "2"
    assert grade.safe_name("../../etc") == "_.._etc"
