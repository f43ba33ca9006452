"""Tests that cannot run here are skipped with one line of reason, or fail where required."""

import pytest

from tests import needs

pytest_plugins = ["pytester"]

SUITE = """
import pytest

@pytest.mark.needs("sandbox")
def test_one():
    pass

@pytest.mark.needs("sandbox")
def test_two():
    pass

def test_plain():
    pass
"""


@pytest.fixture
def suite(pytester, monkeypatch):
    pytester.makeconftest("from tests.conftest import *  # noqa: F403")
    pytester.makepyfile(test_suite=SUITE)
    monkeypatch.setattr(needs, "CHECKS", {"sandbox": lambda: "no bwrap in this test"})
    needs.missing.cache_clear()
    yield pytester
    needs.missing.cache_clear()


def test_an_unmet_need_is_one_summary_line(suite, monkeypatch):
    monkeypatch.delenv(needs.REQUIRE_VARIABLE, raising=False)
    result = suite.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(
        ["*tests that could not run here*", "2 skipped: no bwrap in this test"]
    )


def test_a_required_need_fails_instead(suite, monkeypatch):
    monkeypatch.setenv(needs.REQUIRE_VARIABLE, "sandbox")
    result = suite.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(
        ["*no bwrap in this test (COURSE_TESTS_REQUIRE requires 'sandbox')*"]
    )


def test_an_unknown_requirement_is_refused(monkeypatch):
    monkeypatch.setenv(needs.REQUIRE_VARIABLE, "sandbox,gpu")
    with pytest.raises(ValueError, match="unknown"):
        needs.required()
