"""Stored references count as current up to the last bits a CPU changes, and no further."""

import json
import math

import pytest

from autograder.build_references import ABS_TOL, REL_TOL, is_current, same_values

DOCUMENT = {
    "about": "expected results",
    "cases": {"a": [0.024548434907880168, -0.48000361968238564, 0.0], "b": [3, True, "x"]},
    "nan": math.nan,
}


def dumps(document):
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def with_a(values):
    return {**DOCUMENT, "cases": {**DOCUMENT["cases"], "a": values}}


def test_last_bit_differences_between_cpus_are_the_same_values():
    """Lesson 4's references built on two CPUs differ like this (4e-14 at most)."""
    other = with_a([0.02454843490788017, -0.4800036196823854, 1e-17])
    assert same_values(DOCUMENT, other)
    assert same_values(json.loads(dumps(DOCUMENT)), json.loads(dumps(other)))


@pytest.mark.parametrize(
    "other",
    [
        with_a([0.024548434907880168 * (1 + 100 * REL_TOL), -0.48000361968238564, 0.0]),
        with_a([0.024548434907880168, -0.48000361968238564, 100 * ABS_TOL]),
        with_a([0.024548434907880168, 0.48000361968238564, 0.0]),
        with_a([0.024548434907880168, -0.48000361968238564]),
        with_a([0.024548434907880168, -0.48000361968238564, math.nan]),
        {**DOCUMENT, "cases": {**DOCUMENT["cases"], "b": [3.0, True, "x"]}},
        {**DOCUMENT, "cases": {**DOCUMENT["cases"], "b": [3, 1, "x"]}},
        {**DOCUMENT, "cases": {**DOCUMENT["cases"], "c": []}},
        {**DOCUMENT, "about": "other results"},
        {**DOCUMENT, "nan": 0.0},
    ],
    ids=[
        "float",
        "near zero",
        "sign",
        "length",
        "nan",
        "int as float",
        "bool",
        "key",
        "text",
        "nan",
    ],
)
def test_any_other_difference_is_not(other):
    assert not same_values(DOCUMENT, other)


def test_a_file_is_current_when_its_text_or_values_agree(tmp_path):
    path = tmp_path / "references.json"
    assert not is_current(path, dumps(DOCUMENT))
    path.write_text(dumps(DOCUMENT))
    assert is_current(path, dumps(DOCUMENT))
    assert is_current(path, dumps(with_a([0.02454843490788017, -0.4800036196823854, 0.0])))
    assert not is_current(path, dumps(with_a([0.0245, -0.48, 0.0])))
    path.write_text("{ not json")
    assert not is_current(path, dumps(DOCUMENT))
    assert is_current(path, "{ not json")
