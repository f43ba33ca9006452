"""The class report: common mistakes ranked by students, pass rates, stops, times, its files."""

import re

import pytest

from autograder import assignments, class_report, grade, report
from autograder.assignments.optimizers_core.spec import ASSIGNMENT
from autograder.evaluate import CheckResult

HOSTILE = "<script>alert(1)</script>"


def graded(student, hints=(), stops=(), seconds=2.0):
    """The results document of a student who fails the first tests, one per hint in `hints`
    (None: a failure without a hint), and passes every other test."""
    tests, hints = [], list(hints)
    for exercise in ASSIGNMENT.exercises:
        for test in ASSIGNMENT.tests_for(exercise):
            failed = bool(hints)
            hint = hints.pop(0) if failed else None
            tests.append(
                CheckResult(
                    ASSIGNMENT.shown_name(exercise, test),
                    exercise,
                    test.key,
                    0.0 if failed else float(test.points),
                    float(test.points),
                    not failed,
                    f"wrong Hint: {ASSIGNMENT.hints[hint]}"
                    if hint
                    else ("wrong" if failed else ""),
                    hint,
                )
            )
    return report.results_json(
        grade.Grade(student, tests, [], None, seconds, "", list(stops), assignment=ASSIGNMENT)
    )


@pytest.mark.parametrize("assignment", assignments.all_assignments(), ids=lambda a: a.name)
def test_every_hint_has_a_name_for_instructors(assignment):
    """Can each hint the grader gives be named in the class report?"""
    assert set(assignment.mistakes) == set(assignment.hints)


def test_mistakes_are_ranked_by_students_counted_once_each():
    """Is a hint counted once per student however many tests gave it, most students first?"""
    docs = {
        "a": graded("a", ["sign", "sign", "sign"]),
        "b": graded("b", ["shared_state", "sign"]),
        "c": graded("c", ["shared_state", None]),
        "d": graded("d", ["timeout"]),
        "e": graded("e"),
    }
    ranked = class_report.mistakes(docs, ASSIGNMENT)
    assert [(key, students) for key, students, _ in ranked] == [
        ("shared_state", 2),
        ("sign", 2),
        ("timeout", 1),
    ]
    sign_tests = dict(ranked[1][2])
    assert sum(sign_tests.values()) == 4  # three tests of a, one of b

    lines = class_report.common_mistakes(docs, ASSIGNMENT)
    assert lines[-3:] == [f"  {n}/{len(docs)}: {ASSIGNMENT.mistakes[k]}" for k, n, _ in ranked]
    assert class_report.common_mistakes({"e": docs["e"]}, ASSIGNMENT) == [
        "common mistakes: none (no failed test came with a hint)"
    ]


def test_pass_rates_cover_every_test_in_order():
    docs = {"a": graded("a", ["sign"]), "b": graded("b")}
    rates = class_report.pass_rates(docs, ASSIGNMENT)
    assert [name for name, _ in rates] == [
        f"{e}: {t.title}" for e in ASSIGNMENT.exercises for t in ASSIGNMENT.tests_for(e)
    ]
    assert rates[0][1] == 1 and all(passed == 2 for _, passed in rates[1:])


def test_the_report_shows_its_images_and_escapes_submissions(tmp_path):
    """report.html and the PNGs it links, every student string escaped, stops listed?"""
    stop = {"where": "cell 2", "limit": "memory", "reason": f"MemoryError: {HOSTILE}"}
    docs = {
        HOSTILE: graded(HOSTILE, ["sign"], [stop], seconds=3.5),
        "bob": graded("bob", ["learning_rate", "sign"]),
    }
    page = class_report.write(tmp_path, docs, ASSIGNMENT)
    assert page == tmp_path / "report.html"
    text = page.read_text()
    assert "<script" not in text and text.count("&lt;script&gt;") == 2  # id and reason
    images = re.findall(r'<img src="([^"]+)"', text)
    assert images and all(
        (tmp_path / src).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for src in images
    )
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == sorted(
        src.split("/")[-1] for src in images
    )
    assert text.index(ASSIGNMENT.mistakes["sign"]) < text.index(
        ASSIGNMENT.mistakes["learning_rate"]
    )
    assert "memory" in text and "cell 2" in text
    assert "1 of 2 submissions" in text  # stopped


def test_an_empty_batch_still_gets_a_report(tmp_path):
    text = class_report.write(tmp_path, {}, ASSIGNMENT).read_text()
    assert "No submission has been graded yet" in text and "<img" not in text


def test_a_batch_writes_the_report_and_ends_its_summary_with_the_common_mistakes(tmp_path):
    """Does grade_batch write OUT/report.html and print the common mistakes last?"""
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    (tmp_path / "subs" / "ann" / "optimizers_core.ipynb").write_text("not json")
    (tmp_path / "subs" / "ben").mkdir()
    lines = []
    out = tmp_path / "out"
    grade.grade_batch(tmp_path / "subs", out, "none", jobs=1, log=lines.append)
    docs = grade.write_grades(out, ASSIGNMENT)
    mistakes = class_report.common_mistakes(docs, ASSIGNMENT)
    assert len(docs) == 2 and lines[-len(mistakes) :] == mistakes
    assert f"class report in {tmp_path / 'out' / 'report.html'}" in lines
    assert (tmp_path / "out" / "report.html").is_file()


def test_a_document_missing_fields_does_not_stop_the_report(tmp_path):
    """Is a results document without score, times or extra_data counted as zero, not a crash?"""
    docs = {"a": graded("a", ["sign"]), "b": {"tests": [{"name": "x", "status": "failed"}]}}
    text = class_report.write(tmp_path, docs, ASSIGNMENT).read_text()
    assert "2 graded submissions" in text and (tmp_path / "report" / "scores.png").is_file()
