"""Warm starts: each submission in a fresh, isolated child of a pre-imported zygote.

Consecutive jobs of one thread share its zygote, as consecutive students of one worker do.
"""

import subprocess
import time

import pytest

from autograder import cgroup, paths, run_submission, sandbox, submission, warm
from autograder.assignments.optimizers_core.samples import SAMPLES
from autograder.assignments.optimizers_core.spec import ASSIGNMENT
from autograder.guest import protocol

pytestmark = pytest.mark.needs("sandbox")
FAST = sandbox.Limits(cell_seconds=3, case_seconds=3, startup_seconds=60, grace_seconds=1)
MARKER = "987.321"

STUDENT_A = f"""
import ctypes, json, os, subprocess
open('/tmp/a.txt', 'w').write('secret')
open('relative.txt', 'w').write('secret')
open('/dev/shm/a', 'w').write('secret')
subprocess.Popen(['sleep', '{MARKER}'])
subprocess.Popen(['setsid', 'sleep', '{MARKER}'])
os.environ['LEFT_BY_A'] = '1'
json.LEFT_BY_A = 1
libc = ctypes.CDLL(None, use_errno=True)
print('shm', libc.shmget(4242, 4096, 0o1000 | 0o666))
for folder in ({str(ASSIGNMENT.folder)!r}, {str(ASSIGNMENT.folder / "__pycache__")!r},
               {str(paths.ROOT)!r}, '/'):
    try:
        os.makedirs(folder, exist_ok=True)
        open(os.path.join(folder, 'planted.py'), 'w').write('secret')
        print('PLANTED', folder)
    except OSError:
        pass
"""

STUDENT_B = """
import ctypes, json, os
print('tmp', sorted(os.listdir('/tmp')), 'cwd', sorted(os.listdir('.')))
print('shm-dir', sorted(os.listdir('/dev/shm')))
print('env', os.environ.get('LEFT_BY_A'), 'global', hasattr(json, 'LEFT_BY_A'))
libc = ctypes.CDLL(None, use_errno=True)
print('shm-seg', libc.shmget(4242, 0, 0))
sleeping = []
for pid in filter(str.isdigit, os.listdir('/proc')):
    try:
        sleeping += [pid] if b'sleep' in open(f'/proc/{pid}/cmdline', 'rb').read() else []
    except OSError:
        pass
print('sleeping', sleeping, 'pid', os.getpid())
print([l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')])
print('guest folder', sorted(os.listdir(os.path.dirname(GUEST))))
print('root', [f for f in (ROOT, '/') if 'planted.py' in os.listdir(f)])
"""


def job(*sources, case_list=()):
    return {
        "cells": [{"index": i, "source": s} for i, s in enumerate(sources)],
        "cases": [c.job() for c in case_list],
        "exercises": list(ASSIGNMENT.exercises),
        "guest": str(ASSIGNMENT.guest),
        "cell_timeout": FAST.cell_seconds,
        "case_timeout": FAST.case_seconds,
    }


def cell_errors(run):
    return {e["index"]: e["error"] for e in run.events if e["event"] == protocol.CELL}


@pytest.fixture
def fresh_zygote():
    warm.close()
    yield
    warm.close()


def test_the_zygote_is_single_threaded_and_never_ran_tensorflow(fresh_zygote):
    """After its imports, has the zygote one thread, and does a child still get TensorFlow?"""
    run = warm.run_job(job("import tensorflow as tf\nprint(float(tf.constant(2.0) * 3))"), FAST)
    assert run.finished and "6.0" in run.stdout, run.stderr
    zygote = warm._local.zygote
    assert zygote.host.num_threads() == 1


def test_nothing_of_one_student_reaches_the_next(fresh_zygote):
    """Files (in /tmp or next to the guest file), processes, SysV memory, environment and module
    state of A: does B see any?"""
    a = warm.run_job(job(STUDENT_A), FAST)
    assert a.finished and cell_errors(a) == {0: None}, (a.stdout, a.stderr, a.events)
    assert "shm -1" not in a.stdout  # A could create its segment
    if not paths.ROOT.is_relative_to("/tmp"):  # else the checkout is in A's own fresh /tmp
        assert "PLANTED" not in a.stdout  # nothing is writable outside /tmp and /dev/shm
    time.sleep(0.2)
    survivors = subprocess.run(["pgrep", "-f", f"sleep {MARKER}"], capture_output=True, text=True)
    assert survivors.stdout.strip() == ""
    student_b = f"GUEST, ROOT = {str(ASSIGNMENT.guest)!r}, {str(paths.ROOT)!r}\n" + STUDENT_B
    b = warm.run_job(job(student_b), FAST)
    assert b.finished and cell_errors(b) == {0: None}, (b.stdout, b.stderr)
    carried = sorted({p.relative_to("/tmp").parts[0] for p in sandbox.binds_under_tmp()})
    assert f"tmp {carried} cwd {carried}" in b.stdout and "shm-dir []" in b.stdout
    assert "env None global False" in b.stdout and "shm-seg -1" in b.stdout
    assert "sleeping [] pid 1" in b.stdout and "['0000000000000000']" in b.stdout
    assert "guest folder ['guest.py']" in b.stdout and "root []" in b.stdout


def test_the_child_cannot_reach_the_zygote_or_write_outside_its_tmp(fresh_zygote):
    """Is /dev read-only, and are the zygote's /proc entries out of the child's reach?"""
    probe = (
        "import os\n"
        "for path in ('/dev/x', '/proc/2/environ', '/proc/2/mem', '/proc/1/environ'):\n"
        "    try:\n"
        "        open(path, 'rb' if path.startswith('/proc') else 'w')\n"
        "        print('OPENED', path)\n"
        "    except OSError as error:\n"
        "        print(type(error).__name__, path)\n"
    )
    run = warm.run_job(job(probe), FAST)
    assert run.finished and "OPENED" not in run.stdout, run.stdout


def test_a_hang_is_killed_and_blamed_and_the_next_child_is_fine(fresh_zygote):
    """Is a cell ignoring the timer killed from outside, blamed, and the zygote still usable?"""
    hang = "import signal, time\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n"
    run = warm.run_job(job("x = 1", hang + "    time.sleep(0.1)"), FAST)
    assert not run.finished and "longer than 3 s" in run.killed and run.unit == ("cell", 1)
    assert run.limit in protocol.TIMEOUTS
    after = warm.run_job(job("print('next')"), FAST)
    assert after.finished and "next" in after.stdout


def test_a_hanging_case_is_blamed_on_that_case(fresh_zygote):
    """Is a test case whose optimizer hangs unstoppably charged to that case?"""
    source = (
        "import signal, time\n"
        "class GradientDescent:\n"
        "    def __init__(self, learning_rate=1e-3):\n"
        "        pass\n"
        "    def apply_gradients(self, grads, variables):\n"
        "        signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "        while True:\n"
        "            time.sleep(0.1)\n"
    )
    case = next(c for c in ASSIGNMENT.cases if c.exercise == "GradientDescent")
    run = warm.run_job(job(source, case_list=[case]), FAST)
    assert not run.finished and run.unit == ("case", case.id) and "wall clock" in run.killed
    assert run.limit in protocol.TIMEOUTS


def test_a_dead_zygote_is_started_again(fresh_zygote):
    """If the zygote dies between two students, does the next one still get graded?"""
    assert warm.run_job(job("x = 1"), FAST).finished
    warm._local.zygote.host.kill()
    run = warm.run_job(job("print('again')"), FAST)
    assert run.finished and "again" in run.stdout


def test_memory_above_the_cap_kills_the_child(fresh_zygote):
    """Is a child that fills 1.5 GiB stopped under a 512 MiB cap?"""
    limits = sandbox.Limits(cell_seconds=20, memory_bytes=512 * 2**20, grace_seconds=1)
    run = warm.run_job(job("import numpy as np\nx = np.ones(3 * 2**26)"), limits)
    assert not run.finished
    assert "memory" in (run.killed or "") or "MemoryError" in str(run.events)


def test_too_many_processes_are_stopped(fresh_zygote):
    """Is a child that starts more processes than allowed stopped?"""
    limits = sandbox.Limits(cell_seconds=10, max_processes=4, grace_seconds=1)
    source = "import subprocess\nps = [subprocess.Popen(['sleep', '30']) for _ in range(8)]\n"
    run = warm.run_job(job(source + "import time\ntime.sleep(30)"), limits)
    assert not run.finished and "processes" in run.killed


def _same(a, b):
    return (a.results, a.cells, a.classes, a.error) == (b.results, b.cells, b.classes, b.error)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["solution", "momentum_shared_state"])
def test_warm_results_are_those_of_a_cold_process(tmp_path, name, fresh_zygote):
    """Bit for bit, does a warm child produce what a new sandboxed process produces?"""
    notebook = SAMPLES[name].build(tmp_path / name)
    cold = run_submission.run_submission(notebook, "bwrap", ASSIGNMENT, warm_start=False)
    for _ in range(2):
        hot = run_submission.run_submission(notebook, "bwrap", ASSIGNMENT)
        assert _same(hot, cold) and hot.stdout == cold.stdout


# Limits the student cannot touch ----------------------------------------------------------------

needs_cgroup = pytest.mark.needs("cgroup")
# Memory in no RSS: four files or segments of 120 MiB (each under RLIMIT_FSIZE, two per tmpfs).
MEMFD = "files = [open(os.memfd_create(f'm{n}'), 'wb', buffering=0) for n in range(4)]"
TMPFS = (
    "files = [open(f'{d}/m{n}', 'wb', buffering=0) for d in ('/tmp', '/dev/shm') for n in (0, 1)]"
)
FILL = (
    "\nfor f in files:\n    for _ in range(120):\n        f.write(b'x' * 2**20)\nprint('SURVIVED')"
)
SYSV = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
for n in range(4):
    segment = libc.shmget(1000 + n, 120 * 2**20, 0o1000 | 0o600)
    address = libc.shmat(segment, None, 0)
    ctypes.memset(address, 1, 120 * 2**20)
    libc.shmdt(ctypes.c_void_p(address))  # unmapped: in no process's RSS any more
print('SURVIVED')
"""
UNMAPPED = {"memfd": "import os\n" + MEMFD + FILL, "tmpfs": TMPFS + FILL, "sysv": SYSV}


@needs_cgroup
@pytest.mark.parametrize("how", ["memfd", "tmpfs", "sysv"])
def test_unmapped_memory_is_counted_in_the_child(fresh_zygote, how):
    """Is 480 MiB held in memfds, tmpfs files or SysV segments stopped by a 384 MiB cap?"""
    limits = sandbox.Limits(cell_seconds=20, memory_bytes=384 * 2**20, grace_seconds=1)
    run = warm.run_job(job(UNMAPPED[how]), limits)
    assert "SURVIVED" not in run.stdout, run.stderr
    assert not run.finished and run.limit == "memory" and run.unit == ("cell", 0)
    after = warm.run_job(job("print('next')"), FAST)
    assert after.finished and "next" in after.stdout
    assert cgroup.leftovers() == []


@needs_cgroup
def test_each_child_has_a_cgroup_of_its_own_and_it_goes(fresh_zygote):
    """Does the kernel count a child's processes in a group of its own, removed after the run?"""
    source = (
        "import os, signal\n"
        "for _ in range(70):\n"
        "    if os.fork() == 0:\n"
        "        signal.pause()\n"
        "print('ALL')"
    )
    limits = sandbox.Limits(cell_seconds=10, max_processes=200, max_tasks=64, grace_seconds=1)
    run = warm.run_job(job(source), limits)
    assert "ALL" not in run.stdout and not run.finished and run.limit == "processes"
    assert cgroup.leftovers() == []


def test_forged_start_events_do_not_extend_a_warm_cell(fresh_zygote):
    """Is a warm cell that re-sends its start event on descriptor 3 killed at its own limit?"""
    forger = (
        "import os, signal, time\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "for _ in range(200):\n"
        '    os.write(3, b\'{"event": "cell-start", "index": 0}\\n\')\n'
        "    time.sleep(0.1)\n"
        "print('FORGER FINISHED')"
    )
    run = warm.run_job(job(forger), FAST)
    assert "FORGER FINISHED" not in run.stdout
    assert not run.finished and "longer than 3 s" in run.killed and run.unit == ("cell", 0)
    assert run.limit in protocol.TIMEOUTS


def test_six_sleepy_cells_meet_the_submission_deadline(fresh_zygote):
    """Cells that each sleep just under their limit: does the submission's deadline stop them,
    and are the rest of its cells and its cases charged?"""
    limits = sandbox.Limits(cell_seconds=2, case_seconds=2, submission_seconds=5, grace_seconds=1)
    cells = [submission.CodeCell(i, "import time\ntime.sleep(1.8)", None) for i in range(6)]
    case_list = ASSIGNMENT.cases[:2]
    run = run_submission.run_cells(cells, warm.run_job, ASSIGNMENT, limits, case_list)
    assert any("used up its time" in note for note in run.notes), run.notes
    assert any("used up its time" in (c["error"] or "") for c in run.cells.values())
    assert all("used up its time" in run.results[c.id]["error"] for c in case_list)
    assert sum(c["status"] == "ok" for c in run.cells.values()) < len(cells)
