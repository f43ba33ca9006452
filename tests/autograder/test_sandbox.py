"""The sandbox and its supervisor, with tiny jobs (no TensorFlow needed unless a case runs)."""

import subprocess
import threading
import time
from pathlib import Path

import pytest

from autograder import bwrap_binary, cgroup, paths, run_submission, sandbox, submission, supervisor
from autograder.assignments.optimizers_core.spec import ASSIGNMENT
from autograder.guest import protocol

needs_bwrap = pytest.mark.needs("sandbox")
FAST = sandbox.Limits(cell_seconds=2, case_seconds=2, startup_seconds=30, grace_seconds=1)


def run_cells(*sources, mode="bwrap", limits=FAST):
    job = {
        "cells": [{"index": i, "source": s} for i, s in enumerate(sources)],
        "cases": [],
        "exercises": list(ASSIGNMENT.exercises),
        "guest": str(ASSIGNMENT.guest),
        "cell_timeout": limits.cell_seconds,
        "case_timeout": limits.case_seconds,
    }
    return sandbox.run_job(job, mode, limits)


def cell_events(run):
    return {e["index"]: e for e in run.events if e["event"] == protocol.CELL}


@needs_bwrap
def test_the_sandbox_sees_no_solutions_references_or_network():
    """Inside bwrap: no solutions module, no reference data, no assignment spec (only its guest
    file), no repository files, no network, nothing writable outside /tmp?"""
    run = run_cells(
        f"import os\nprint(sorted(os.listdir({str(paths.ROOT)!r})))",
        "import solutions",
        f"open({str(ASSIGNMENT.references_path)!r})",
        "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=3)",
        "import os\nprint(os.getuid(), os.environ['HOME'], sorted(os.environ))",
        "open('/tmp/scratch', 'w').write('ok')\nprint(open('/tmp/scratch').read())",
        f"open({str(ASSIGNMENT.folder / 'spec.py')!r})",
        f"import autograder.assignments.{ASSIGNMENT.name}.spec",
        f"import os\nprint('GUEST FOLDER', sorted(os.listdir({str(ASSIGNMENT.folder)!r})))",
        f"open({str(ASSIGNMENT.folder / 'planted.py')!r}, 'w')",  # read-only outside /tmp
    )
    cells = cell_events(run)
    assert run.finished and run.killed is None
    assert "['.venv', 'autograder', 'course_utils']" in run.stdout
    assert "No module named 'solutions'" in cells[1]["error"]
    assert "FileNotFoundError" in cells[2]["error"]
    assert cells[3]["status"] == "error"
    assert "65534 /tmp" in run.stdout and "GITHUB" not in run.stdout
    assert cells[5]["status"] == "ok"
    assert "FileNotFoundError" in cells[6]["error"]
    assert cells[7]["status"] == "error"
    assert "GUEST FOLDER ['guest.py']" in run.stdout  # no bytecode cache written next to it
    if not ASSIGNMENT.folder.resolve().is_relative_to("/tmp"):
        assert "Read-only file system" in cells[9]["error"]
    # else the checkout lies under the sandbox's own /tmp, a fresh tmpfs per job: what a job
    # writes there dies with it (test_warm checks that nothing planted reaches the next job)


@needs_bwrap
def test_tf_function_converts_python_control_flow_in_cells():
    """Does AutoGraph convert a Python `if` on a tensor in a function defined in a cell (it
    reads the cell's source, as in Jupyter), instead of failing as plain tracing would?"""
    run = run_cells(
        "import tensorflow as tf\n"
        "@tf.function\n"
        "def halve_if_large(x):\n"
        "    if tf.reduce_sum(x) > 1.0:\n"
        "        x = x / 2.0\n"
        "    return x\n"
        "print('HALVED', float(halve_if_large(tf.constant(4.0))))",
        limits=sandbox.Limits(cell_seconds=20, startup_seconds=60, grace_seconds=2),
    )
    assert cell_events(run)[0]["status"] == "ok", cell_events(run)
    assert "HALVED 2.0" in run.stdout


def test_a_python_loop_times_out_inside_and_the_next_cell_runs():
    """Is an endless loop stopped by the in-process timer, leaving later cells unaffected?"""
    run = run_cells("while True:\n    pass", "print('after')")
    cells = cell_events(run)
    assert cells[0]["limit"] in protocol.TIMEOUTS and "timed out" in cells[0]["error"]
    assert cells[1]["status"] == "ok" and cells[1].get("limit") is None
    assert run.finished


@needs_bwrap
def test_an_unstoppable_hang_is_killed_from_outside():
    """Is a cell that ignores the timer signal killed by the supervisor, and blamed?"""
    run = run_cells(
        "import signal, time\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "while True:\n    time.sleep(0.1)"
    )
    assert not run.finished and "longer than 2 s" in run.killed
    assert run.limit in protocol.TIMEOUTS and run.unit == ("cell", 0)


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
    assert cells[1]["limit"] in protocol.TIMEOUTS and "timed out" in cells[1]["error"]
    assert "'MPLBACKEND'" in run.stdout and "'VIRTUAL_ENV'" not in run.stdout


# Limits the student cannot touch ----------------------------------------------------------------

needs_cgroup = pytest.mark.needs("cgroup")
# A cell that ignores the timer and keeps re-sending its own start event (a forgery).
FORGER = """
import json, os, signal, sys, time
signal.signal(signal.SIGALRM, signal.SIG_IGN)
fd = int(sys.argv[sys.argv.index('--events-fd') + 1]) if '--events-fd' in sys.argv else 3
for _ in range(200):
    os.write(fd, (json.dumps({'event': 'cell-start', 'index': 0}) + '\\n').encode())
    os.write(fd, (json.dumps({'event': 'between'}) + '\\n').encode())
    time.sleep(0.1)
print('FORGER FINISHED')
"""
# Memory the process does not map: several memfds (each under RLIMIT_FSIZE), 1 GiB in all.
MEMFD = """
import os
chunk = b'x' * 2**20
held = []
for n in range(8):
    fd = os.memfd_create(f'ballast{n}')
    for i in range(128):
        os.write(fd, chunk)
    held.append(fd)
print('MEMFD SURVIVED')
"""


def job_of(*sources, cases=()):
    return {
        "cells": [{"index": i, "source": s} for i, s in enumerate(sources)],
        "cases": [{"id": c} for c in cases],
    }


def test_events_only_move_a_unit_forward():
    """Do repeated, out-of-order or unknown events leave the current unit and its clock alone?"""
    progress = supervisor.Progress(job_of("a", "b", cases=("x",)), FAST, now=0.0)
    assert progress.unit == ("startup",)
    steps = [
        ({"event": "cell-start", "index": 1}, ("startup",)),  # not the next one
        ({"event": "cell-start", "index": 0}, ("cell", 0)),
        ({"event": "cell-start", "index": 0}, ("cell", 0)),  # a repeat
        ({"event": "between"}, ("cell", 0)),
        ({"event": "case-start", "id": "x"}, ("cell", 0)),
        ({"event": "cell", "index": 0}, ("cell", 0)),  # the end of a cell that is not the last
        ({"event": "cell-start", "index": 1}, ("cell", 1)),
        ({"event": "cell", "index": 1}, ("classes",)),  # the last cell ended: the classes
        ({"event": "cell-start", "index": 0}, ("classes",)),  # never back
        ({"event": "case-start", "id": "x"}, ("case", "x")),
        ({"event": "case", "id": "x"}, ("end",)),
        ({"event": "case-start", "id": "x"}, ("end",)),
    ]
    for now, (event, unit) in enumerate(steps, start=1):
        moved = progress.moves_on(event)
        if moved:
            progress.start_next(float(now), 0.0)
        assert progress.unit == unit, (event, progress.unit)
    assert progress.started == float(len(steps) - 1)  # the last move: ("end",)


def test_the_deadline_sums_the_allowances_and_is_capped():
    """Is a submission's deadline start-up + cells + classes + cases (+ grace), at most the cap?"""
    limits = sandbox.Limits(submission_seconds=10_000)
    job = job_of("a", "b", cases=("x", "y", "z"))
    expected = (
        limits.startup_seconds
        + 2 * limits.cell_seconds
        + limits.classes_seconds
        + 3 * limits.case_seconds
        + limits.grace_seconds
    )
    assert limits.deadline(job) == expected
    capped = sandbox.Limits(submission_seconds=expected / 2)
    assert capped.deadline(job) == expected / 2


def test_the_deadline_holds_across_retries():
    """Does each retry get only what is left, and is the rest charged once it is spent?"""
    limits = sandbox.Limits(submission_seconds=1.0)
    cells = [submission.CodeCell(i, f"x = {i}", None) for i in range(3)]
    given = []

    def launch(job, limits, seconds_left):  # each attempt is killed in its first cell
        given.append(seconds_left)
        index = job["cells"][0]["index"]
        events = [{"event": "cell-start", "index": index}]
        return supervisor.JobRun(
            events, "", "", 0, 0, False, "ran longer", -9, 0.4, ("cell", index), "time"
        )

    case_list = ASSIGNMENT.cases[:2]
    run = run_submission.run_cells(cells, launch, ASSIGNMENT, limits, case_list)
    assert given == pytest.approx([1.0, 0.6, 0.2])
    assert run.attempts == 3
    assert all("stopped" in run.cells[i]["error"] for i in range(3))
    assert all("used up its time" in run.results[c.id]["error"] for c in case_list)
    assert any("used up its time" in note for note in run.notes)


def test_a_cap_on_cells():
    """Are code cells past `max_cells` not run, and said so?"""
    cells = [submission.CodeCell(i, f"x = {i}", None) for i in range(5)]
    jobs = []

    def launch(job, limits, seconds_left):
        jobs.append(job)
        return supervisor.JobRun([{"event": "done"}], "", "", 0, 0, True, None, 0, 0.1, None)

    run = run_submission.run_cells(cells, launch, ASSIGNMENT, sandbox.Limits(max_cells=3), [])
    assert [c["index"] for c in jobs[0]["cells"]] == [0, 1, 2]
    assert "not run" in run.cells[4]["error"] and any("first 3" in n for n in run.notes)


@needs_bwrap
def test_forged_start_events_do_not_extend_a_cell():
    """Is a cell that keeps re-sending its start event still killed at its own limit?"""
    run = run_cells(FORGER, "print('after')")
    assert "FORGER FINISHED" not in run.stdout
    assert not run.finished and "longer than 2 s" in run.killed and run.unit == ("cell", 0)
    assert run.limit in protocol.TIMEOUTS


@needs_bwrap
@needs_cgroup
def test_memory_in_memfds_is_counted():
    """Is 1 GiB held in unmapped memfds (in no RSS) stopped by a 512 MiB cap, blamed on memory,
    and is the run's cgroup gone afterwards?"""
    limits = sandbox.Limits(cell_seconds=20, memory_bytes=512 * 2**20, grace_seconds=1)
    run = run_cells(MEMFD, limits=limits)
    assert "MEMFD SURVIVED" not in run.stdout
    assert not run.finished and run.limit == "memory" and "memory" in run.killed
    assert run.unit == ("cell", 0)
    assert cgroup.leftovers() == []


def watch_groups(seen, stop):
    """Collect the command lines of the processes in this process's groups until `stop`."""
    while not stop.is_set():
        for folder in cgroup.leftovers():
            for pid in (folder / "cgroup.procs").read_text().split() if folder.exists() else ():
                try:
                    seen.add((folder.parent, Path(f"/proc/{pid}/cmdline").read_bytes()))
                except OSError:
                    pass
        time.sleep(0.05)


@needs_bwrap
@needs_cgroup
def test_the_runner_is_in_a_cgroup_of_its_own():
    """Is the whole sandbox (bwrap and the runner) in groups of this grader's, removed after?"""
    seen, stop = set(), threading.Event()
    watcher = threading.Thread(target=watch_groups, args=(seen, stop))
    watcher.start()
    try:
        run = run_cells("import time\ntime.sleep(2)")
    finally:
        stop.set()
        watcher.join()
    assert run.finished
    for parent in cgroup.support().parents:
        lines = [cmd for where, cmd in seen if where == parent]
        assert any(b"bwrap" in c for c in lines) and any(b"guest.runner" in c for c in lines)
    assert cgroup.leftovers() == []


def test_without_cgroups_the_grader_says_so_once_and_records_it(monkeypatch):
    """No cgroup hierarchy: one warning, results.json says 'rlimits and supervisor only'?"""
    cgroup.support.cache_clear()
    monkeypatch.setattr(cgroup, "_candidates", lambda: [])
    try:
        with pytest.warns(UserWarning, match="no cgroup"):
            assert cgroup.support().version is None
        assert cgroup.create(2**30, 64) is None
        assert sandbox.record("none")["limits"].startswith("rlimits and supervisor only")
    finally:
        cgroup.support.cache_clear()


def test_a_group_that_cannot_be_made_is_a_fallback_not_a_crash(monkeypatch, tmp_path):
    """A hierarchy where no group can be made (non-root, read-only): a reason, no exception?"""
    cgroup.support.cache_clear()
    missing = (tmp_path / "memory", tmp_path / "pids")
    monkeypatch.setattr(cgroup, "_candidates", lambda: [(1, missing)])
    try:
        with pytest.warns(UserWarning):
            found = cgroup.support()
        assert found.version is None and "cannot make a group" in found.reason
    finally:
        cgroup.support.cache_clear()


def test_the_grader_finds_its_own_groups_from_proc(tmp_path):
    """From /proc/self/{mountinfo,cgroup}: the v1 memory and pids folders, the v2 folder, with a
    mount whose root is the grader's own group (a container) as well as the host's root?"""
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    )
    own = tmp_path / "cgroup"
    own.write_text("8:pids:/grading\n4:memory:/docker/abc\n1:cpu,cpuacct:/\n0::/user/grader\n")
    mounts, groups = cgroup._mounts(mountinfo), cgroup._own_groups(own)
    assert groups["memory"] == "/docker/abc" and groups["cpuacct"] == "/" and groups[""]
    folders = {m[2] + ",".join(sorted(m[3] & {"memory", "pids"})): m for m in mounts}
    memory = cgroup._folder(folders["cgroupmemory"], groups["memory"])
    assert memory == Path("/sys/fs/cgroup/memory")
    assert cgroup._folder(folders["cgrouppids"], groups["pids"]) == Path(
        "/sys/fs/cgroup/pids/grading"
    )
    assert cgroup._folder(folders["cgroup2"], groups[""]) == Path(
        "/sys/fs/cgroup/unified/user/grader"
    )
