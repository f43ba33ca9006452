"""The sandbox and its supervisor, with tiny jobs (no TensorFlow needed unless a case runs)."""

import os
import subprocess
import time

import pytest

from autograder import bwrap_binary, paths, sandbox

BWRAP_OK, WHY = sandbox.bwrap_works()
needs_bwrap = pytest.mark.skipif(
    not BWRAP_OK and not os.environ.get("CI"), reason=f"bwrap unavailable here: {WHY}"
)
FAST = sandbox.Limits(cell_seconds=2, case_seconds=2, startup_seconds=30, grace_seconds=1)


def run_cells(*sources, mode="bwrap", limits=FAST):
    job = {
        "cells": [{"index": i, "source": s} for i, s in enumerate(sources)],
        "cases": [],
        "cell_timeout": limits.cell_seconds,
        "case_timeout": limits.case_seconds,
    }
    return sandbox.run_job(job, mode, limits)


def cell_events(run):
    return {e["index"]: e for e in run.events if e["event"] == "cell"}


@needs_bwrap
def test_the_sandbox_sees_no_solutions_references_or_network():
    """Inside bwrap: no solutions module, no reference data, no repository files, no network?"""
    run = run_cells(
        f"import os\nprint(sorted(os.listdir({str(paths.ROOT)!r})))",
        "import solutions",
        f"open({str(paths.ROOT / 'autograder' / 'references' / 'optimizers_core.json')!r})",
        "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=3)",
        "import os\nprint(os.getuid(), os.environ['HOME'], sorted(os.environ))",
        "open('/tmp/scratch', 'w').write('ok')\nprint(open('/tmp/scratch').read())",
    )
    cells = cell_events(run)
    assert run.finished and run.killed is None
    assert "['.venv', 'autograder', 'course_utils']" in run.stdout
    assert "No module named 'solutions'" in cells[1]["error"]
    assert "FileNotFoundError" in cells[2]["error"]
    assert cells[3]["status"] == "error"
    assert "65534 /tmp" in run.stdout and "GITHUB" not in run.stdout
    assert cells[5]["status"] == "ok"


@needs_bwrap
def test_a_python_loop_times_out_inside_and_the_next_cell_runs():
    """Is an endless loop stopped by the in-process timer, leaving later cells unaffected?"""
    run = run_cells("while True:\n    pass", "print('after')")
    cells = cell_events(run)
    assert "timed out" in cells[0]["error"] and cells[1]["status"] == "ok"
    assert run.finished


@needs_bwrap
def test_an_unstoppable_hang_is_killed_from_outside():
    """Is a cell that ignores the timer signal killed by the supervisor, and blamed?"""
    run = run_cells(
        "import signal, time\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "while True:\n    time.sleep(0.1)"
    )
    assert not run.finished and "longer than 2 s" in run.killed
    assert run.unit == ("cell", 0)


@needs_bwrap
def test_memory_above_the_cap_kills_the_run():
    """Is a submission that fills 1.5 GiB stopped under a 512 MiB cap?"""
    limits = sandbox.Limits(cell_seconds=20, memory_bytes=512 * 2**20, grace_seconds=1)
    run = run_cells("import numpy as np\nx = np.ones(3 * 2**26)", limits=limits)
    assert not run.finished
    assert "memory" in (run.killed or "") or "MemoryError" in str(run.events)


@needs_bwrap
def test_nothing_the_submission_started_survives():
    """After a run, is every process it started (even one in a new session) gone?"""
    marker = "987.654"
    run_cells(
        f"import subprocess\nsubprocess.Popen(['sleep', '{marker}'])\n"
        f"subprocess.Popen(['setsid', 'sleep', '{marker}'])"
    )
    time.sleep(0.5)
    survivors = subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True, text=True)
    assert survivors.stdout.strip() == ""


@needs_bwrap
def test_huge_output_is_truncated_and_counted():
    """Is a 5 MB print kept to the output limit, with the total size reported?"""
    run = run_cells("print('x' * 5_000_000)")
    assert run.finished and run.stdout_bytes >= 5_000_000
    assert len(run.stdout) < FAST.output_bytes + 100 and "more bytes not kept" in run.stdout


@needs_bwrap
def test_os_exit_is_reported_not_fatal():
    """Does an os._exit in a cell end the run without a 'done' event, blamed on that cell?"""
    run = run_cells("print('a')", "import os\nos._exit(3)")
    assert not run.finished and run.returncode == 3 and run.unit == ("cell", 1)


def test_garbage_on_the_events_pipe_is_ignored():
    """Are non-JSON, non-object and oversized event lines dropped?"""
    assert sandbox._parse_event(b"not json") is None
    assert sandbox._parse_event(b"[1, 2]") is None
    assert sandbox._parse_event(b'{"no": "event"}') is None
    assert sandbox._parse_event(b'{"event": "done"}') == {"event": "done"}
    assert sandbox._parse_event(b"[" * 100_000) is None


def test_auto_refuses_to_grade_without_bwrap(monkeypatch):
    """Does --sandbox auto refuse (rather than silently run unsandboxed) when bwrap is missing?"""

    def missing():
        raise bwrap_binary.NotFound("no bwrap found")

    monkeypatch.setattr(bwrap_binary, "locate", missing)
    with pytest.raises(sandbox.SandboxUnavailable, match="--sandbox none"):
        sandbox.resolve_mode("auto")
    with pytest.warns(UserWarning, match="WITHOUT A SANDBOX"):
        assert sandbox.resolve_mode("none") == "none"


def test_unsandboxed_mode_still_supervises():
    """Without bwrap, are time limits and the environment still enforced?"""
    run = run_cells("import os\nprint(sorted(os.environ))", "while True:\n    pass", mode="none")
    cells = cell_events(run)
    assert "timed out" in cells[1]["error"]
    assert "'MPLBACKEND'" in run.stdout and "'VIRTUAL_ENV'" not in run.stdout
