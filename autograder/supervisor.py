"""Watch one runner process tree from outside while it runs a job, and stop it at a limit.

The same loop supervises a cold runner (a new bwrap sandbox, `sandbox.run_job`) and a child
forked by a warm zygote (`warm.run_job`): a `Target` says which process tree to measure and how
to poll, kill and wait for it. The loop feeds the job on standard input, reads only JSON lines
from the events pipe, keeps a bounded prefix of what the code prints, and enforces wall-clock and
CPU time per cell and per case, total resident memory and the number of processes.
"""

import dataclasses
import json
import os
import selectors
import signal
import threading
import time

import psutil

_CHILDREN_FILES = os.path.exists(f"/proc/self/task/{threading.get_native_id()}/children")


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


def failed_start(reason, seconds=0.0):
    """The JobRun of a runner that could not even start."""
    return JobRun([], "", "", 0, 0, False, reason, None, seconds, ("startup",))


class Target:
    """The process tree of one job: `root` (a psutil.Process) and everything it starts.

    `overhead` is how many processes of the tree are the sandbox's own (not the job's).
    """

    overhead = 0
    root = None

    def poll(self):
        """The return code if the runner has exited, else None (without blocking)."""
        raise NotImplementedError

    def kill(self):
        """Kill every process of the tree (idempotent)."""
        raise NotImplementedError

    def wait(self):
        """Wait for the runner to be gone; its return code, or None if unknown."""
        raise NotImplementedError


def cpu_budget(job, limits):
    """CPU seconds the whole job may use (twice its wall-clock allowance: TensorFlow threads)."""
    cells, cases = len(job.get("cells", [])), len(job.get("cases", []))
    wall = limits.startup_seconds + cells * limits.cell_seconds + cases * limits.case_seconds
    return 2 * wall


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


def tree(process):
    """`process` and all its descendants (empty once it is gone).

    Read from each thread's /proc/PID/task/TID/children where the kernel has them: psutil would
    read every process of the machine, many times per second per submission.
    """
    if not _CHILDREN_FILES:
        try:
            return [process] + process.children(recursive=True)
        except psutil.Error:
            return []
    found, pending = [], [process]
    while pending:
        current = pending.pop()
        try:
            tasks = os.listdir(f"/proc/{current.pid}/task")
        except OSError:
            continue
        found.append(current)
        for tid in tasks:
            try:
                with open(f"/proc/{current.pid}/task/{tid}/children") as children:
                    pids = children.read().split()
            except OSError:
                continue
            for pid in pids:
                try:
                    pending.append(psutil.Process(int(pid)))
                except psutil.Error:
                    pass
    return found


def usage(processes):
    """(resident bytes, CPU seconds) summed over `processes`."""
    rss = cpu = 0.0
    for p in processes:
        try:
            rss += p.memory_info().rss
            times = p.cpu_times()
            cpu += times.user + times.system
        except psutil.Error:
            pass
    return rss, cpu


def kill_tree(processes):
    """SIGKILL each of `processes` (psutil.Process objects) that is still there."""
    for p in processes:
        try:
            p.send_signal(signal.SIGKILL)
        except psutil.Error:
            pass


def supervise(target, stdin, stdout_fd, stderr_fd, events_fd, job, limits, start):
    """Feed `job` (a dict) to the runner on `stdin` (a binary file) and watch it to the end.

    The caller owns the descriptors; this returns once the runner is gone (killed if need be).
    """
    out, err = _Capture(limits.output_bytes), _Capture(limits.output_bytes)
    events, pending, events_read = [], b"", 0
    selector = selectors.DefaultSelector()
    selector.register(stdout_fd, selectors.EVENT_READ, out)
    selector.register(stderr_fd, selectors.EVENT_READ, err)
    selector.register(events_fd, selectors.EVENT_READ, "events")
    try:
        stdin.write(json.dumps(job).encode())
        stdin.close()
    except (BrokenPipeError, OSError):
        pass
    unit, unit_start, unit_cpu = ("startup",), time.monotonic(), 0.0
    finished, killed = False, None
    while selector.get_map():
        for key, _ in selector.select(timeout=0.05):
            data = os.read(key.fd, 1 << 16)
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
                event = parse_event(line)
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
                unit_cpu = usage(tree(target.root))[1]
        processes = tree(target.root)
        rss, cpu = usage(processes)
        elapsed = time.monotonic() - unit_start
        wall, cpu_limit = _unit_limits(unit, limits)
        if rss > limits.memory_bytes:
            killed = f"used more than {limits.memory_bytes / 2**30:g} GiB of memory"
        elif len(processes) > limits.max_processes + target.overhead:
            killed = f"started more than {limits.max_processes} processes"
        elif elapsed > wall + limits.grace_seconds:
            killed = f"ran longer than {wall:g} s (wall clock)"
        elif cpu - unit_cpu > cpu_limit + limits.grace_seconds:
            killed = f"used more than {cpu_limit:g} s of CPU time"
        if killed or (finished and target.poll() is not None):
            break
    if killed or not finished:
        target.kill()
    for fd, key in list(selector.get_map().items()):
        _drain(fd, key.data)
    selector.close()
    returncode = target.wait()
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


def _drain(fd, capture):
    if capture == "events":
        return
    try:
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


def parse_event(line):
    """One event, or None: only JSON objects with a string "event" are accepted."""
    if len(line) > 16 * 2**20:
        return None
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event"), str) else None
