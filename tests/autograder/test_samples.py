"""End to end: grade every sample submission (correct, buggy, hostile, broken) in one batch.

The batch runs once per test session in the real sandbox, two submissions at a time, with short
time limits; each test then reads what the grader wrote for one sample.
"""

import csv
import json
import re

import pytest

from autograder import grade, sandbox
from autograder.assignments.optimizers_core.samples import SAMPLES
from autograder.assignments.optimizers_core.spec import ASSIGNMENT

# A submission's deadline of 36 s: the correct ones need a few; six 7 s cells do not fit.
LIMITS = sandbox.Limits(case_seconds=4, cell_seconds=8, grace_seconds=2, submission_seconds=36)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.needs("sandbox"),
]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    submissions = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("out")
    for sample in SAMPLES.values():
        sample.build(submissions / sample.name)
    log = []
    ok = grade.grade_batch(submissions, out, "bwrap", jobs=2, limits=LIMITS, log=log.append)
    return ok, out, log


def matches(word, passed):
    """Do the pass/fail flags of one optimizer's tests (first: 'is defined') fit `word`?"""
    if word == "full":
        return all(passed)
    if word == "zero":
        return not any(passed)
    if word == "defined-only":
        return passed[0] and not any(passed[1:])
    return any(passed) and not all(passed)  # partial


def document(graded, name):
    return json.loads((grade.student_dir(graded[1], name) / grade.RESULTS).read_text())


def test_the_whole_batch_is_graded(graded):
    """Does every sample get a row and files, and the batch report failure only for the files
    that cannot be graded at all, whose rows say why?"""
    ok, out, log = graded
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert sorted(r["student"] for r in rows) == sorted(SAMPLES)
    not_graded = {r["student"] for r in rows if r["not_graded"]}
    assert not_graded <= {name for name, sample in SAMPLES.items() if not sample.expect}, log
    assert ok == (not not_graded)
    for name in SAMPLES:
        assert (grade.student_dir(out, name) / grade.FEEDBACK).is_file()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_scores_as_expected(graded, name):
    """Does each sample score exactly as its expectation says, with the promised messages?"""
    sample, doc = SAMPLES[name], document(graded, name)
    tests = doc["tests"]
    feedback = " ".join(
        [doc["output"], *doc["extra_data"]["notes"]] + [t["output"] for t in tests]
    ).lower()
    if not sample.expect:
        assert doc["score"] == 0
    for optimizer, word in sample.expect.items():
        mine = [t for t in tests if t["name"].startswith(optimizer + ":")]
        passed = [t["status"] == "passed" for t in mine]
        expected = matches(word, passed)
        failures = {t["name"]: t["output"] for t in mine if t["status"] != "passed"}
        assert expected, f"{optimizer} should be {word}; failures: {failures}"
    for words in sample.must_fail:
        assert any(words in t["name"] and t["status"] == "failed" for t in tests), words
    for words in sample.must_pass:
        assert all(t["status"] == "passed" for t in tests if words in t["name"]), words
    for words in sample.messages:
        assert words.lower() in feedback, (words, feedback[:2000])
    if sample.hint:
        hints = {(t.get("extra_data") or {}).get("hint") for t in tests if t["status"] == "failed"}
        assert sample.hint in hints, hints


def test_feedback_never_shows_hidden_expected_values(graded):
    """Do failing hidden tests name their settings but never an expected value?"""
    hidden_titles = {
        t.title for e in ASSIGNMENT.exercises for t in ASSIGNMENT.tests_for(e) if not t.public
    }
    for name in SAMPLES:
        for test in document(graded, name)["tests"]:
            if test["name"].split(": ", 1)[1] in hidden_titles:
                assert not re.search(r"expected -?[0-9]", test["output"]), (name, test)


def test_plots_in_feedback_are_public_cases_only(graded):
    """Does the feedback plot only the notebook's own runs (x0 = 2), one figure per optimizer?"""
    page = (grade.student_dir(graded[1], "solution") / grade.FEEDBACK).read_text()
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page)
    assert [c.split(":")[0] for c in captions] == ["GradientDescent", "Momentum", "Adam"]
    assert all(c.count("x0 = ") == c.count("x0 = 2;") == 3 for c in captions)
