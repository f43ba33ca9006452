"""The command line only parses arguments and hands them to library functions."""

from pathlib import Path

import pytest

from autograder import __main__ as cli
from autograder import grade, sandbox


def test_grade_flags_reach_grade_batch(monkeypatch):
    """Do PATH, --out, --jobs, --timeout, --memory-gib, --sandbox and --force arrive intact?"""
    seen = {}
    monkeypatch.setattr(grade, "resolve", lambda mode: f"resolved-{mode}")

    def fake(path, out_dir, mode, jobs, force, limits):
        seen.update(path=path, out=out_dir, mode=mode, jobs=jobs, force=force, limits=limits)
        return True

    monkeypatch.setattr(grade, "grade_batch", fake)
    code = cli.main(
        [
            "grade",
            "subs",
            "--out",
            "o",
            "--jobs",
            "3",
            "--timeout",
            "4.5",
            "--memory-gib",
            "1",
            "--sandbox",
            "none",
            "--force",
        ]
    )
    assert code == 0
    assert seen["path"] == Path("subs") and seen["out"] == Path("o") and seen["jobs"] == 3
    assert seen["mode"] == "resolved-none" and seen["force"] is True
    assert seen["limits"].case_seconds == 4.5 and seen["limits"].memory_bytes == 2**30


def test_exit_code_says_whether_everything_was_graded(monkeypatch):
    """Is the exit code 1 when a submission could not be graded, 2 without a sandbox?"""
    monkeypatch.setattr(grade, "resolve", lambda mode: "bwrap")
    monkeypatch.setattr(grade, "grade_batch", lambda *a, **k: False)
    assert cli.main(["grade", "subs", "--out", "o"]) == 1

    def unavailable(mode):
        raise sandbox.SandboxUnavailable("no bwrap")

    monkeypatch.setattr(grade, "resolve", unavailable)
    assert cli.main(["grade", "subs", "--out", "o"]) == 2


def test_out_is_required():
    with pytest.raises(SystemExit):
        cli.main(["grade", "subs"])


def test_bundled_examples_are_current():
    """Is examples/ what `make examples` builds from the samples (nothing edited by hand)?"""
    from .examples import main

    assert main(["--check"]) == 0, "run `make examples`"
