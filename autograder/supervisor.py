"""Watch one runner process tree from outside while it runs a job, and stop it at a limit.

The same loop supervises a cold runner (a new bwrap sandbox, `sandbox.run_job`) and a child
forked by a warm zygote (`warm.run_job`): a `Target` says which process tree to measure and how
to poll, kill and wait for it. The loop feeds the job on standard input, reads only JSON lines
from the events pipe, keeps a bounded prefix of what the code prints, and enforces wall-clock and
CPU time per cell and per case, the submission's deadline, memory and the number of processes.

The events are the student's process's words: they only ever move the current unit forward in
the job's own order (`Progress`), so no event extends an allowance, and the deadline
(`Limits.deadline`, shrunk by the caller across retries) bounds the whole submission whatever
the events say. With a cgroup (`Target.group`, see `autograder.cgroup`) memory is what the kernel
charged to the group (every page) and processes are the group's; without one, the summed RSS and
the process tree.
"""

import dataclasses
import json
import os
import selectors
import signal
import threading
import time

import psutil

from autograder.guest import protocol

OUT_OF_TIME = "the submission used up its time"
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
    limit: str | None = None  # the limit it was killed at: "memory", "processes", "time", "cpu"
    out_of_time: bool = False  # killed at the submission's deadline (see `Limits.deadline`)


def failed_start(reason, seconds=0.0):
    """The JobRun of a runner that could not even start."""
    return JobRun([], "", "", 0, 0, False, reason, None, seconds, ("startup",))


class Target:
    """The process tree of one job: `root` (a psutil.Process) and everything it starts.

    `overhead` is how many processes of the tree are the sandbox's own (not the job's).
    """

    overhead = 0
    root = None
    group = None  # its cgroup.Group, if it has one

    def processes(self):
        """Every process of the tree now (psutil.Process): its group's, or `root`'s tree."""
        if self.group is None:
            return tree(self.root)
        found = []
        for pid in self.group.pids():
            try:
                found.append(psutil.Process(pid))
            except psutil.Error:
                pass
        return found

    def poll(self):
        """The return code if the runner has exited, else None (without blocking)."""
        raise NotImplementedError

    def kill(self):
        """Kill every process of the tree (idempotent)."""
        raise NotImplementedError

    def wait(self):
        """Wait for the runner to be gone; its return code, or None if unknown."""
        raise NotImplementedError


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


def supervise(
    target, stdin, stdout_fd, stderr_fd, events_fd, job, limits, start, seconds_left=None
):
    """Feed `job` (a dict) to the runner on `stdin` (a binary file) and watch it to the end.

    `seconds_left`: the submission's remaining time from `start` (default: the job's own
    `limits.deadline`); the caller owns the descriptors; this returns once the runner is gone
    (killed if need be).
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
    progress = Progress(job, limits, time.monotonic())
    deadline = start + (limits.deadline(job) if seconds_left is None else seconds_left)
    finished, killed, limit = False, None, None
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
                if event["event"] == protocol.DONE:
                    finished = True
                if progress.moves_on(event):
                    progress.start_next(time.monotonic(), usage(target.processes())[1])
        processes = target.processes()
        rss, cpu = usage(processes)
        now = time.monotonic()
        wall, cpu_limit = progress.allowance()
        if _over_memory(target.group, rss, limits):
            gib = limits.memory_bytes / 2**30
            limit, killed = protocol.MEMORY, f"used more than {gib:g} GiB of memory"
        elif len(processes) > limits.max_processes + target.overhead or _refused(target.group):
            limit, killed = (
                protocol.PROCESSES,
                f"started more than {limits.max_processes} processes",
            )
        elif now > deadline:
            total = deadline - start
            limit, killed = protocol.TIME, f"{OUT_OF_TIME} ({total:.0f} s for the whole submission)"
        elif now - progress.started > wall + limits.grace_seconds:
            limit, killed = protocol.TIME, f"ran longer than {wall:g} s (wall clock)"
        elif cpu - progress.cpu_at_start > cpu_limit + limits.grace_seconds:
            limit, killed = protocol.CPU, f"used more than {cpu_limit:g} s of CPU time"
        if killed or (finished and target.poll() is not None):
            break
    if killed is None and target.group is not None and target.group.oom_kills():
        gib = limits.memory_bytes / 2**30  # the kernel killed it before a poll saw it
        limit, killed = protocol.MEMORY, f"used more than {gib:g} GiB of memory"
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
        finished and not killed,
        killed,
        returncode,
        time.monotonic() - start,
        None if finished and not killed else progress.unit,
        limit,
        limit == protocol.TIME and OUT_OF_TIME in killed,
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


class Progress:
    """Which unit of the job runs now: start-up, each cell, the check of the classes, each case,
    then the end. The events come from the student's process, so they are untrusted: the unit
    moves on only at the event that starts the next one in the job's own order, and never back,
    so each unit's allowance is given once, and a repeated or forged event changes nothing.
    """

    def __init__(self, job, limits, now):
        cells = [("cell", c.get("index")) for c in job.get("cells", [])]
        cases = [("case", c.get("id")) for c in job.get("cases", [])]
        self.units = [("startup",), *cells, ("classes",), *cases, ("end",)]
        self.limits, self.has_cells = limits, bool(cells)
        if not cells:  # no event starts the check of the classes: start-up's allowance covers it
            self.units.remove(("classes",))
        self.position, self.started, self.cpu_at_start = 0, now, 0.0

    @property
    def unit(self):
        return self.units[self.position]

    def moves_on(self, event):
        """Is `event` the one that starts the next unit?"""
        if self.position + 1 >= len(self.units):
            return False
        kind, following = event["event"], self.units[self.position + 1]
        if following[0] == "cell":
            return kind == protocol.CELL_START and event.get("index") == following[1]
        if following[0] == "case":
            return kind == protocol.CASE_START and event.get("id") == following[1]
        ended = {
            "cell": (protocol.CELL, "index"),
            "case": (protocol.CASE, "id"),
            "classes": (protocol.CLASSES, None),
        }
        end_kind, key = ended.get(self.unit[0], (None, None))  # the end of the current unit
        return kind == end_kind and (key is None or event.get(key) == self.unit[1])

    def start_next(self, now, cpu):
        self.position += 1
        self.started, self.cpu_at_start = now, cpu

    def allowance(self):
        """(wall-clock seconds, CPU seconds) of the current unit."""
        seconds = self.limits.unit_seconds(self.unit[0], self.has_cells)
        return seconds, 2 * seconds


def _over_memory(group, rss, limits):
    """Over the cap: the kernel OOM-killed in the group, or (without a group) the RSS is over."""
    if group is not None:
        return group.oom_kills() > 0 or group.memory_bytes() > limits.memory_bytes
    return rss > limits.memory_bytes


def _refused(group):
    return group is not None and group.refused_forks() > 0


def parse_event(line):
    """One event, or None: only JSON objects with a string "event" are accepted."""
    if len(line) > 16 * 2**20:
        return None
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event"), str) else None
