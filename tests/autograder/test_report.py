"""What students and instructors receive: Gradescope JSON, the feedback page, grades.csv."""

import csv
import dataclasses
import html
import io
import json

import pytest

from autograder import evaluate, grade, report
from autograder.assignments.optimizers_core.spec import ASSIGNMENT
from autograder.evaluate import CheckResult
from autograder.run_submission import SubmissionRun
from course_utils.hints import HINTS

HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(2)> ```\n# title\n[a](javascript:x)"


def make_grade(output="", student="alice", hint=None, **extra):
    tests = [
        CheckResult(
            "Momentum: is defined and applies an update", "Momentum", "defined", 1.0, 1.0, True, ""
        ),
        CheckResult(
            "Momentum: several variables at once",
            "Momentum",
            "variables",
            0.0,
            2.0,
            False,
            output,
            hint,
        ),
    ]
    return grade.Grade(student, tests, ["a note"], None, 1.5, **extra, assignment=ASSIGNMENT)


def test_results_json_follows_gradescopes_schema():
    """Does results.json carry Gradescope's fields, HTML outputs declared as such, and a hint
    key per test in extra_data?"""
    doc = report.results_json(make_grade("off at step 3"))
    assert doc["score"] == 1.0 and doc["output_format"] == "html"
    assert {"execution_time", "output", "visibility", "stdout_visibility"} <= set(doc)
    for test in doc["tests"]:
        assert set(test) == {
            *("name", "score", "max_score", "status", "output", "output_format", "visibility"),
            "extra_data",
        }
        assert test["status"] in ("passed", "failed") and test["output_format"] == "html"
        assert test["extra_data"] == {"hint": None}
    assert json.loads(report.dump_json(doc)) == doc


def test_gradescope_shows_the_hint_apart_and_records_its_key():
    """Is a failure's hint shown once, in a paragraph of its own, and its key in extra_data?"""
    message = f"x0 = 2: your path leaves the expected one at step 2 Hint: {HINTS['sign']}"
    failed = report.results_json(make_grade(message, hint="sign"))["tests"][1]
    assert failed["extra_data"] == {"hint": "sign"}
    assert failed["output"].count(html.escape(HINTS["sign"])) == 1
    assert f"<b>Hint:</b> {html.escape(HINTS['sign'])}" in failed["output"]
    assert "at step 2</p>" in failed["output"]


def test_gradescope_shows_what_the_code_printed_and_why_it_was_stopped_escaped_and_bounded():
    """Do the printed text, failed cells and stops reach the shown output as inert text, the
    printed text cut at PRINTED_CHARS?"""
    printed = HOSTILE + "z" * (3 * report.PRINTED_CHARS)
    stop = {"where": "the test case Adam/other_runs/1", "limit": "time", "reason": HOSTILE}
    doc = report.results_json(
        make_grade(
            HOSTILE, printed=printed, stops=[stop], failed_cells=[(3, f"stopped: {HOSTILE}")]
        )
    )
    shown = doc["output"] + "".join(t["output"] for t in doc["tests"])
    for tag in ("<script", "<img", "<a "):
        assert tag not in shown
    assert shown.count(html.escape(HOSTILE)) == 4  # printed, cell, stop, test message
    assert "cell 3: stopped:" in doc["output"] and "Adam/other_runs/1" in doc["output"]
    assert len(doc["output"]) < 2 * report.PRINTED_CHARS
    assert f"({len(printed) - report.PRINTED_CHARS} more characters)" in doc["output"]
    assert doc["extra_data"]["stopped"] == [stop]


def test_a_failed_test_records_the_hint_it_gave():
    """Scored for real by the hidden tests: does the test whose path goes uphill say so, with
    the 'sign' hint recorded, and do the tests that pass record none?"""
    refs = ASSIGNMENT.references()
    run = SubmissionRun(classes={o: {"defined": True, "error": None} for o in ASSIGNMENT.exercises})
    run.results = {case.id: {"result": refs[case.id], "error": None} for case in ASSIGNMENT.cases}
    wrong = next(c for c in ASSIGNMENT.cases if c.public and c.driver == "convergence")
    start = wrong.params["init"]
    uphill = [2 * start - x for x in refs[wrong.id]["path"]]
    run.results[wrong.id] = {"result": {**refs[wrong.id], "path": uphill}, "error": None}
    results = evaluate.evaluate(run, refs, ASSIGNMENT)
    failed = [r for r in results if not r.passed]
    assert [(r.exercise, r.key, r.hint) for r in failed] == [(wrong.exercise, wrong.test, "sign")]
    assert all(r.hint is None for r in results if r.passed)


def test_feedback_escapes_everything_from_the_submission():
    """Is HTML in a message (from student code) shown as text, never as markup?"""
    page = report.feedback_html(make_grade("<script>alert(1)</script>", student="<b>x</b>"))
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "<b>x</b>" not in page


def test_grades_csv_has_a_row_per_student_and_a_column_per_test():
    """Is there one row per student, a column per test of the catalogue, and the reason last?"""
    docs = {s: report.results_json(make_grade(student=s)) for s in ("bob", "carol")}
    docs["carol"]["extra_data"]["not_graded"] = "its notebook is not JSON"
    rows = list(csv.reader(io.StringIO(report.grades_csv(docs, ASSIGNMENT))))
    tests = [t for o in ASSIGNMENT.exercises for t in ASSIGNMENT.tests_for(o)]
    assert rows[0][:3] == ["student", "score", "max_score"] and rows[0][-1] == "not_graded"
    assert len(rows[0]) == 3 + len(tests) + 1
    assert [(r[0], r[-1]) for r in rows[1:]] == [("bob", ""), ("carol", "its notebook is not JSON")]
    assert rows[1][rows[0].index("Momentum: is defined and applies an update")] == "1.0"


def test_course_grades_have_a_row_per_student_and_a_column_per_lesson():
    """Over two lessons: is a lesson not submitted an empty cell (0 in the total), the total's
    maximum the lessons' maximums, a lesson not graded named last, and a student id defused?"""
    second = dataclasses.replace(ASSIGNMENT, name="second_lesson")
    first_docs = {s: report.results_json(make_grade(student=s)) for s in ("bob", "=carol")}
    first_docs["=carol"]["extra_data"]["not_graded"] = "its notebook is not JSON"
    first_docs["=carol"]["score"] = 0.0
    second_docs = {"bob": report.results_json(make_grade(student="bob"))}
    text = report.course_grades_csv([(ASSIGNMENT, first_docs), (second, second_docs)])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "student",
        ASSIGNMENT.name,
        "second_lesson",
        "total",
        "max_total",
        "not_graded",
    ]
    carol, bob = sorted(rows, key=lambda row: row["student"])
    assert bob == {
        "student": "bob",
        ASSIGNMENT.name: "1.0",
        "second_lesson": "1.0",
        "total": "2.0",
        "max_total": str(2.0 * ASSIGNMENT.max_score()),
        "not_graded": "",
    }
    assert carol["student"] == "'=carol" and carol["second_lesson"] == ""
    assert carol["total"] == "0.0" and carol["not_graded"] == ASSIGNMENT.name


FORMULAS = [
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-1+1",
    "@SUM(A1)",
    " =1+1",  # leading space
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "\u00a0=1+1",  # no-break space
    "\u200b=1+1",  # zero-width space
    "\ufeff=1+1",  # byte order mark
    "\uff1d1+1",  # full-width equals sign
    "\uff0b1",  # full-width plus
    "\uff0d1",  # full-width minus
    "\uff20SUM(A1)",  # full-width commercial at
    "\ufe661+1",  # small equals sign
    "\u22121+1",  # minus sign
    "\tplain",  # a control character first, even without a formula after it
]


@pytest.mark.parametrize("text", FORMULAS)
def test_grades_csv_defuses_every_formula_like_cell(text):
    """Does any cell that a spreadsheet could read as a formula start with a quote?"""
    docs = {text: report.results_json(make_grade(student=text))}
    docs[text]["extra_data"]["not_graded"] = text
    row = list(csv.reader(io.StringIO(report.grades_csv(docs, ASSIGNMENT), newline="")))[1]
    assert row[0] == row[-1] == "'" + text


def test_grades_csv_keeps_plain_names_as_they_are():
    """Are names that are no formula (hyphens inside, accents, an apostrophe) left alone?"""
    names = ["jean-luc", "José", "o'brien", "a+b", "1 - 2"]
    docs = {s: report.results_json(make_grade(student=s)) for s in names}
    rows = list(csv.reader(io.StringIO(report.grades_csv(docs, ASSIGNMENT))))
    assert sorted(r[0] for r in rows[1:]) == sorted(names)


def test_student_files_are_replaced_atomically(tmp_path):
    """Are a student's files written as a whole folder, replacing an earlier one, no leftovers?"""
    grade.write_student(tmp_path, "alice", {"results.json": "1"})
    grade.write_student(tmp_path, "alice", {"results.json": "2", "feedback.html": "x"})
    folder = grade.student_dir(tmp_path, "alice")
    assert sorted(p.name for p in folder.parent.iterdir()) == ["alice"]
    assert sorted(p.name for p in folder.iterdir()) == ["feedback.html", "results.json"]
    assert (folder / "results.json").read_text() == "2"
    assert not any((tmp_path / grade.STAGING).iterdir())


@pytest.mark.slow
def test_code_stopped_by_a_limit_is_recorded_and_shown():
    """A cell stopped by its own timer, one that only the supervisor can stop: both recorded in
    extra_data.stopped with their limit, once each, and shown in the output?"""
    from autograder import sandbox
    from autograder.submission import CodeCell

    ignore_timer = "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
    cells = (
        CodeCell(0, "while True:\n    pass", None),
        CodeCell(1, ignore_timer + "while True:\n    pass", None),
    )
    limits = sandbox.Limits(cell_seconds=1, grace_seconds=1)
    task = grade.Task("s", ASSIGNMENT, cells)
    document, files = grade.grade_task(task, "none", limits, feedback=False)
    stops = document["extra_data"]["stopped"]
    assert [(s["where"], s["limit"]) for s in stops] == [("cell 0", "time"), ("cell 1", "time")]
    assert "cell 0: timed out" in document["output"] and "cell 1: stopped" in document["output"]
    assert list(files) == ["results.json"]
