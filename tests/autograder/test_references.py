"""The stored reference data: current, plain JSON, and confirmed by independent oracles."""

import json

import solutions
from autograder import build_references, cases, compare, references
from autograder.sandboxed.drivers import run_case


def test_stored_references_are_a_fresh_build():
    """Is autograder/references/*.json exactly what `build-references` makes from the solutions?"""
    assert build_references.is_current(), "run `python -m autograder build-references`"


def test_references_are_plain_json_for_every_case():
    """Is there one result per case, readable as JSON without any code?"""
    document = json.loads(references.REFERENCES.read_text())
    assert set(document["cases"]) == set(cases.CASES_BY_ID)


def test_solutions_agree_with_the_oracles():
    """Does each solution pass its own oracle case: Keras SGD bit for bit, NumPy Adam within
    the grader's tolerance (so that tolerance admits float32 vs float64 arithmetic)?"""
    stored = references.load()
    for case in cases.CASES:
        if case.oracle == "solution":
            continue
        ours = run_case(getattr(solutions, case.optimizer), case.driver, case.params)
        if case.oracle == "keras":
            assert ours == stored[case.id], case.id
        assert compare.compare_result(case, ours, stored[case.id]).passed, case.id
