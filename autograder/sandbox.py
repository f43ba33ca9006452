"""Run the sandboxed runner on one job and supervise it from outside.

The runner (`autograder.sandboxed.runner`) executes student code. It runs:

- with `bwrap` (bubblewrap): new user, PID, network, IPC and UTS namespaces (no network at all),
  all capabilities dropped, uid 65534; a read-only view of the system, the Python installation,
  the virtual environment, `course_utils` and the sandboxed runner, and nothing else: no
  solutions, reference data, other submissions or output folder; a fresh, size-limited /tmp as
  home. With `--die-with-parent` and its own PID namespace, nothing it starts outlives it.
- with `none`: as a plain subprocess (no isolation; only for machines without bwrap, on request).

In both modes this process enforces the limits by watching the runner from outside: wall-clock
and CPU time per cell and per test, total resident memory, number of processes; it reads only
JSON lines from the events pipe and keeps a bounded prefix of what the code prints.
"""

import dataclasses
import importlib.util
import json
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import psutil

MODES = ("auto", "bwrap", "none")
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


@dataclasses.dataclass
class JobRun:
    """What came back from one runner process."""

    events: list
    stdout: str
    stderr: str
    stdout_bytes: int
    stderr_bytes: int
    finished: bool  # the runner reported "done"
    killed: str | None  # why the supervisor killed it, if it did
    returncode: int | None
    seconds: float
    unit: tuple | None  # ("cell", i), ("case", id) or ("startup",): what ran when it stopped


def bwrap_works():
    """Can bwrap create the namespaces we need here? Returns (ok, reason)."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False, "bwrap is not installed (Debian: apt-get install bubblewrap)"
    probe = subprocess.run(
        [exe, "--unshare-all", "--uid", "65534", "--ro-bind", "/", "/", "true"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode != 0:
        return False, f"bwrap cannot create namespaces here: {probe.stderr.strip()}"
    return True, "bwrap works"


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


def bwrap_command(limits, python=None):
    """The bwrap argument list that starts the runner (its events fd is appended later)."""
    binds, hide = visible_paths()
    cmd = [shutil.which("bwrap"), "--unshare-all", "--die-with-parent", "--new-session"]
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
    cmd += ["--chdir", "/tmp"]
    for key, value in sandbox_environment("/tmp").items():
        cmd += ["--setenv", key, value]
    return cmd + ["--", python or sys.executable, "-I", "-m", "autograder.sandboxed.runner"]


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


def _set_rlimits(limits, cpu_seconds):
    def apply():
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CPU, (int(cpu_seconds), int(cpu_seconds) + 5))
        # Address space: the cap plus room for TensorFlow's mappings (1.4 GiB of it is virtual).
        address = limits.memory_bytes + 3 * GIB
        resource.setrlimit(resource.RLIMIT_AS, (address, address))

    return apply


class _Capture:
    """Keeps the first `limit` bytes of a stream and counts the rest."""

    def __init__(self, limit):
        self.limit, self.kept, self.total = limit, bytearray(), 0

    def feed(self, data):
        self.total += len(data)
        room = self.limit - len(self.kept)
        if room > 0:
            self.kept += data[:room]

    def text(self):
        text = self.kept.decode("utf-8", errors="replace")
        if self.total > len(self.kept):
            text += f"\n[... {self.total - len(self.kept)} more bytes not kept]"
        return text


def _tree(process):
    try:
        return [process] + process.children(recursive=True)
    except psutil.Error:
        return []


def _usage(processes):
    rss = cpu = 0.0
    for p in processes:
        try:
            rss += p.memory_info().rss
            times = p.cpu_times()
            cpu += times.user + times.system
        except psutil.Error:
            pass
    return rss, cpu


def run_job(job, mode, limits=Limits()):
    """Run the runner on `job` (a JSON-ready dict) under `mode` ('bwrap' or 'none')."""
    read_fd, write_fd = os.pipe()
    os.set_inheritable(write_fd, True)
    cells, cases = len(job.get("cells", [])), len(job.get("cases", []))
    cpu_budget = 2 * (
        limits.startup_seconds + cells * limits.cell_seconds + cases * limits.case_seconds
    )
    with tempfile.TemporaryDirectory(prefix="grader-run-") as scratch:
        if mode == "bwrap":
            cmd = bwrap_command(limits)
            env, cwd = None, scratch
        else:
            cmd = [sys.executable, "-I", "-m", "autograder.sandboxed.runner"]
            env, cwd = sandbox_environment(scratch), scratch
            env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
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
            preexec_fn=_set_rlimits(limits, cpu_budget),
        )
        os.close(write_fd)
        try:
            return _supervise(proc, read_fd, json.dumps(job).encode(), limits, start)
        finally:
            _kill_everything(proc)
            os.close(read_fd)


def _supervise(proc, read_fd, job_bytes, limits, start):
    out, err = _Capture(limits.output_bytes), _Capture(limits.output_bytes)
    events, pending, events_read = [], b"", 0
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ, out)
    selector.register(proc.stderr, selectors.EVENT_READ, err)
    selector.register(read_fd, selectors.EVENT_READ, "events")
    try:
        proc.stdin.write(job_bytes)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    root = psutil.Process(proc.pid)
    unit, unit_start, unit_cpu = ("startup",), time.monotonic(), 0.0
    finished, killed = False, None
    while selector.get_map():
        for key, _ in selector.select(timeout=0.05):
            fd = key.fd
            data = os.read(fd, 1 << 16)
            if not data:
                selector.unregister(key.fileobj)
                continue
            if key.data != "events":
                key.data.feed(data)
                continue
            events_read += len(data)
            if events_read > limits.events_bytes:
                continue
            pending += data
            *lines, pending = pending.split(b"\n")
            for line in lines:
                event = _parse_event(line)
                if event is None:
                    continue
                events.append(event)
                kind = event.get("event")
                if kind == "done":
                    finished = True
                new_unit = {
                    "cell-start": ("cell", event.get("index")),
                    "case-start": ("case", event.get("id")),
                }.get(kind, ("between",))
                unit, unit_start = new_unit, time.monotonic()
                unit_cpu = _usage(_tree(root))[1]
        if finished and selector.get_map() and proc.poll() is not None:
            break
        processes = _tree(root)
        rss, cpu = _usage(processes)
        elapsed = time.monotonic() - unit_start
        wall, cpu_limit = _unit_limits(unit, limits)
        if rss > limits.memory_bytes:
            killed = f"used more than {limits.memory_bytes / GIB:g} GiB of memory"
        elif len(processes) > limits.max_processes + 3:  # bwrap, its init and the runner
            killed = f"started more than {limits.max_processes} processes"
        elif elapsed > wall + limits.grace_seconds:
            killed = f"ran longer than {wall:g} s (wall clock)"
        elif cpu - unit_cpu > cpu_limit + limits.grace_seconds:
            killed = f"used more than {cpu_limit:g} s of CPU time"
        if killed:
            break
        if finished and proc.poll() is not None:
            break
    if killed or not finished:
        _kill_everything(proc)
    for fileobj in list(selector.get_map().values()):
        _drain(fileobj.fileobj, fileobj.data)
    selector.close()
    returncode = proc.wait()
    return JobRun(
        events,
        out.text(),
        err.text(),
        out.total,
        err.total,
        finished,
        killed,
        returncode,
        time.monotonic() - start,
        None if finished else unit,
    )


def _drain(fileobj, capture):
    if capture == "events":
        return
    try:
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        os.set_blocking(fd, False)
        while data := os.read(fd, 1 << 16):
            capture.feed(data)
    except (BlockingIOError, OSError, ValueError):
        pass


def _unit_limits(unit, limits):
    seconds = {"cell": limits.cell_seconds, "case": limits.case_seconds}.get(
        unit[0], limits.startup_seconds
    )
    return seconds, 2 * seconds


def _parse_event(line):
    """One event, or None: only JSON objects with a string "event" are accepted."""
    if len(line) > 16 * 2**20:
        return None
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event"), str) else None


def _kill_everything(proc):
    """Kill the runner's whole process group and any descendant that left it."""
    try:
        descendants = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        descendants = []
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for p in descendants:
        try:
            p.kill()
        except psutil.Error:
            pass
    for stream in (proc.stdout, proc.stderr, proc.stdin):
        try:
            if stream and not stream.closed and stream is not proc.stdin:
                stream.close()
        except OSError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
