"""End to end: grade every lesson's sample submissions (correct, buggy, hostile, broken).

Each lesson's samples are graded once per test session, in one batch, in the real sandbox, two
submissions at a time, with short time limits; each test then reads what the grader wrote for
one sample. Nothing here names a lesson: the samples and their expectations come from each
assignment's `samples.py`.
"""

import csv
import json
import re

import pytest

from autograder import assignments, grade, sandbox
from autograder.samples import samples_of

# A submission's deadline of 36 s: the correct ones need a few; six 7 s cells do not fit.
LIMITS = sandbox.Limits(case_seconds=4, cell_seconds=8, grace_seconds=2, submission_seconds=36)
pytestmark = [pytest.mark.slow, pytest.mark.needs("sandbox")]
COURSE = [a for a in assignments.all_assignments() if samples_of(a)]
SAMPLES = {a.name: samples_of(a) for a in COURSE}
EACH_SAMPLE = [(lesson, name) for lesson, samples in SAMPLES.items() for name in sorted(samples)]
each_lesson = pytest.mark.parametrize("lesson", [a.name for a in COURSE])
_BATCHES = {}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """graded(lesson) -> (ok, OUT, log) of that lesson's batch, graded on first use."""

    def batch(lesson):
        if lesson not in _BATCHES:
            submissions = tmp_path_factory.mktemp(f"submissions-{lesson}")
            out = tmp_path_factory.mktemp(f"out-{lesson}")
            for sample in SAMPLES[lesson].values():
                sample.build(submissions / sample.name)
            log = []
            ok = grade.grade_batch(submissions, out, "bwrap", jobs=2, limits=LIMITS, log=log.append)
            _BATCHES[lesson] = ok, out, log
        return _BATCHES[lesson]

    yield batch
    _BATCHES.clear()


def matches(word, passed):
    """Do the pass/fail flags of one exercise's tests (first: 'is defined') fit `word`?"""
    if word == "full":
        return all(passed)
    if word == "zero":
        return not any(passed)
    if word == "defined-only":
        return passed[0] and not any(passed[1:])
    return any(passed) and not all(passed)  # partial


def document(out, name):
    return json.loads((grade.student_dir(out, name) / grade.RESULTS).read_text())


@each_lesson
def test_the_whole_batch_is_graded(graded, lesson):
    """Does every sample get a row and files (the lesson inferred from the notebooks), and the
    batch report failure only for the files that cannot be graded at all, whose rows say why?"""
    ok, out, log = graded(lesson)
    samples = SAMPLES[lesson]
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert sorted(r["student"] for r in rows) == sorted(samples)
    assert {float(r["max_score"]) for r in rows} == {assignments.get(lesson).max_score()}
    not_graded = {r["student"] for r in rows if r["not_graded"]}
    assert not_graded <= {name for name, sample in samples.items() if not sample.expect}, log
    assert ok == (not not_graded)
    for name in samples:
        assert (grade.student_dir(out, name) / grade.FEEDBACK).is_file()


@pytest.mark.parametrize(("lesson", "name"), EACH_SAMPLE)
def test_sample_scores_as_expected(graded, lesson, name):
    """Does each sample score exactly as its expectation says, with the promised messages, and
    do a bug's failures carry that bug's hint?"""
    sample, doc = SAMPLES[lesson][name], document(graded(lesson)[1], name)
    tests = doc["tests"]
    feedback = " ".join(
        [doc["output"], *doc["extra_data"]["notes"]] + [t["output"] for t in tests]
    ).lower()
    if not sample.expect:
        assert doc["score"] == 0
    for exercise, word in sample.expect.items():
        mine = [t for t in tests if t["name"].startswith(exercise + ":")]
        passed = [t["status"] == "passed" for t in mine]
        failures = {t["name"]: t["output"][:300] for t in mine if t["status"] != "passed"}
        assert matches(word, passed), f"{exercise} should be {word}; failures: {failures}"
    for words in sample.must_fail:
        assert any(words in t["name"] and t["status"] == "failed" for t in tests), words
    for words in sample.must_pass:
        assert all(t["status"] == "passed" for t in tests if words in t["name"]), words
    for words in sample.messages:
        assert words.lower() in feedback, (words, feedback[:2000])
    if sample.hint:
        hints = {(t.get("extra_data") or {}).get("hint") for t in tests if t["status"] == "failed"}
        assert sample.hint in hints and hints <= {sample.hint, None}, hints


@each_lesson
def test_feedback_never_shows_hidden_expected_values(graded, lesson):
    """Do failing hidden tests name their settings but never an expected value?"""
    assignment, out = assignments.get(lesson), graded(lesson)[1]
    hidden = {
        assignment.shown_name(e, t)
        for e in assignment.exercises
        for t in assignment.tests_for(e)
        if not t.public
    }
    for name in SAMPLES[lesson]:
        for test in document(out, name)["tests"]:
            if test["name"] in hidden:
                assert not re.search(r"expected -?\(?[0-9]", test["output"]), (name, test)


@each_lesson
def test_plots_in_feedback_are_public_cases_only(graded, lesson):
    """Does the solution's feedback draw one figure per exercise, in order, of public cases only
    (every panel's settings those of a public case)?"""
    assignment, out = assignments.get(lesson), graded(lesson)[1]
    page = (grade.student_dir(out, "solution") / grade.FEEDBACK).read_text()
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page)
    assert [c.split(":")[0] for c in captions] == list(assignment.exercises)
    hidden = {c.settings() for c in assignment.cases if not c.public} - {
        c.settings() for c in assignment.cases if c.public
    }
    assert not any(settings in page for settings in hidden if settings)
