"""Kernel limits for a whole sandbox: a memory and a pids cgroup of the grader's own, per run.

Each runner (a cold bwrap sandbox, a warm zygote's child, an unprivileged process) goes into a
new child group of the grader's own cgroup before it runs student code, so the kernel counts
every page the sandbox holds, whatever holds it (anonymous memory, memfd, System V shared
memory, pipes, tmpfs files in /tmp and /dev/shm), OOM-kills it at the cap, and refuses forks
(threads included) beyond `max_tasks`. The group is killed and removed when the run ends,
whatever happened; `sweep` removes groups left by a grader that was itself killed.

Where: cgroup v1's `memory` and `pids` hierarchies (each is its own tree; the new groups go under
the grader's current group in each), or a cgroup v2 group whose `cgroup.subtree_control` already
enables `memory` and `pids`: the grader's own (the host's root) or the one named by the
environment variable AUTOGRADER_CGROUP (a delegated group, e.g. made by the administrator). The
grader never writes to a group it did not create: on v2 it does not enable controllers, nor move
itself, to make room.

Why cgroups and not seccomp: a filter refusing `memfd_create` still leaves tmpfs (/tmp,
/dev/shm), System V shared memory and pipe buffers outside RSS and RLIMIT_AS; only the memory
controller counts them all. Where no cgroup can be made (non-root, a container without a
writable hierarchy) the grader says so once and keeps its other limits (rlimits, the
supervisor's RSS and process counts, bwrap's size-limited /tmp); `describe()` says which, and
results.json records it.
"""

import contextlib
import dataclasses
import functools
import itertools
import os
import signal
import time
import warnings
from pathlib import Path

PREFIX = "autograder-"  # of every group this grader makes: autograder-<grader pid>-<n>
DELEGATED = "AUTOGRADER_CGROUP"  # a cgroup v2 group to make children in
KILL_SECONDS = 10.0
_counter = itertools.count()


@dataclasses.dataclass(frozen=True)
class Support:
    """Where groups can be made: cgroup `version` 1 or 2 and the parent folders (v1: memory's
    then pids'; v2: one), or version None and why not."""

    version: int | None
    parents: tuple = ()
    reason: str = ""


def _mounts(mountinfo="/proc/self/mountinfo"):
    """[(mount root, mount point, file system type, super options)] of the cgroup mounts."""
    found = []
    for line in Path(mountinfo).read_text().splitlines():
        fields, _, tail = line.partition(" - ")
        parts, tail = fields.split(), tail.split()
        if len(parts) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            found.append((parts[3], parts[4], tail[0], set(tail[2].split(","))))
    return found


def _own_groups(proc_cgroup="/proc/self/cgroup"):
    """{controller: path} of this process's groups; the v2 group under the key ''."""
    groups = {}
    for line in Path(proc_cgroup).read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            groups[name] = path
    return groups


def _folder(mount, path):
    root, point = mount[0], Path(mount[1])
    if root != "/" and (path == root or path.startswith(root + "/")):
        path = path[len(root) :]
    return point / path.lstrip("/")


def _candidates():
    """Parent folders worth probing, best first: [(version, (folder, ...))]."""
    mounts, groups = _mounts(), _own_groups()
    found = []
    delegated = os.environ.get(DELEGATED)
    if delegated:
        found.append((2, (Path(delegated),)))
    v2 = [m for m in mounts if m[2] == "cgroup2"]
    if v2 and "" in groups:
        found.append((2, (_folder(v2[0], groups[""]),)))
    v1 = {}
    for mount in mounts:
        for controller in ("memory", "pids"):
            if mount[2] == "cgroup" and controller in mount[3] and controller in groups:
                v1.setdefault(controller, _folder(mount, groups[controller]))
    if len(v1) == 2:
        found.append((1, (v1["memory"], v1["pids"])))
    return found


def _usable(version, parents):
    """None if a group can be made, limited and removed under `parents`, else why not."""
    if version == 2:
        enabled = (parents[0] / "cgroup.subtree_control").read_text().split()
        if not {"memory", "pids"} <= set(enabled):
            return f"{parents[0]} does not delegate the memory and pids controllers"
    probe = Group(Support(version, parents), memory_bytes=2**30, max_tasks=64)
    probe.remove()
    return None


@functools.cache
def support():
    """The cgroups this grader can make here (probed once per process, by making one)."""
    reasons = []
    try:
        candidates = _candidates()
    except OSError as error:
        candidates, reasons = [], [f"cannot read this process's cgroups ({error.strerror})"]
    for version, parents in candidates:
        try:
            problem = _usable(version, parents)
        except OSError as error:
            problem = f"cannot make a group in {parents[0]} ({error.strerror or error})"
        if problem is None:
            sweep(Support(version, parents))
            return Support(version, parents, _names(version))
        reasons.append(problem)
    reason = "; ".join(reasons) or "no cgroup v1 memory and pids hierarchies, no cgroup v2 here"
    warnings.warn(
        f"no cgroup for the sandbox ({reason}): memory held outside processes (tmpfs, memfd, "
        "shared memory) is not counted; the rlimits and the supervisor's checks remain",
        stacklevel=2,
    )
    return Support(None, (), reason)


def _names(version):
    return "cgroup v2 memory+pids" if version == 2 else "cgroup v1 memory+pids"


def describe():
    """What enforces the limits here, for results.json (e.g. 'cgroup v1 memory+pids')."""
    found = support()
    if found.version:
        return f"{found.reason}, rlimits, supervisor"
    return f"rlimits and supervisor only (no cgroup: {found.reason})"


def create(memory_bytes, max_tasks):
    """A new Group with these limits, or None where cgroups are not available."""
    found = support()
    return Group(found, memory_bytes, max_tasks) if found.version else None


def _write(path, value):
    with open(path, "w") as f:
        f.write(str(value))


def _read(path, default=""):
    try:
        return Path(path).read_text()
    except OSError:
        return default


def _counter_in(text, key):
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


class Group:
    """One run's group (v1: one folder in the memory tree and one in the pids tree)."""

    def __init__(self, found, memory_bytes, max_tasks):
        self.version, self.folders = found.version, []
        name = f"{PREFIX}{os.getpid()}-{next(_counter)}"
        try:
            for parent in found.parents:
                folder = parent / name
                folder.mkdir()
                self.folders.append(folder)
            self._limit(memory_bytes, max_tasks)
        except BaseException:
            self.remove()
            raise

    def _limit(self, memory_bytes, max_tasks):
        if self.version == 2:
            (folder,) = self.folders
            _write(folder / "memory.max", memory_bytes)
            for name, value in (("memory.swap.max", 0), ("memory.oom.group", 1)):
                if (folder / name).exists():
                    _write(folder / name, value)
            _write(folder / "pids.max", max_tasks)
            return
        memory, pids = self.folders
        _write(memory / "memory.limit_in_bytes", memory_bytes)
        if (memory / "memory.memsw.limit_in_bytes").exists():  # swap counted too, when it is
            _write(memory / "memory.memsw.limit_in_bytes", memory_bytes)
        _write(pids / "pids.max", max_tasks)

    def procs_files(self):
        """Open cgroup.procs files (write-only), for a process to join with `join_self`."""
        return [os.open(folder / "cgroup.procs", os.O_WRONLY) for folder in self.folders]

    def add(self, pid):
        """Move process `pid` (with its threads) into the group."""
        for folder in self.folders:
            _write(folder / "cgroup.procs", pid)

    def pids(self):
        """The processes in the group now."""
        text = _read(self.folders[-1] / "cgroup.procs") if self.folders else ""
        return [int(p) for p in text.split()]

    def memory_bytes(self):
        """Memory charged to the group now (every page, page cache and tmpfs included)."""
        name = "memory.current" if self.version == 2 else "memory.usage_in_bytes"
        text = _read(self.folders[0] / name, "0").strip()
        return int(text) if text.isdigit() else 0

    def oom_kills(self):
        """How many processes the kernel killed for the group's memory limit."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        return _counter_in(_read(self.folders[0] / name), "oom_kill")

    def refused_forks(self):
        """How many forks (or new threads) the task limit refused."""
        return _counter_in(_read(self.folders[-1] / "pids.events"), "max")

    def kill(self):
        """SIGKILL every process in the group, until none is left (or KILL_SECONDS pass)."""
        if self.version == 2 and (self.folders[0] / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                _write(self.folders[0] / "cgroup.kill", 1)
        deadline = time.monotonic() + KILL_SECONDS
        while (pids := self.pids()) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def remove(self):
        """Kill what is left in the group and remove its folders (idempotent)."""
        if self.folders:
            self.kill()
        for folder in reversed(self.folders):
            _rmdir(folder)
        self.folders = []


def _rmdir(folder):
    deadline = time.monotonic() + KILL_SECONDS
    while True:
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)  # its last processes are still exiting


def join_self(files):
    """In a new process (a `preexec_fn`): enter the group through `Group.procs_files()`."""
    for fd in files:
        os.write(fd, b"0")


def sweep(found=None):
    """Remove the empty groups of graders that are no longer running (killed before cleanup)."""
    found = found or support()
    for parent in found.parents:
        for folder in parent.glob(f"{PREFIX}*-*"):
            pid = folder.name[len(PREFIX) :].split("-")[0]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                with contextlib.suppress(OSError):
                    folder.rmdir()


def leftovers(found=None):
    """The groups this process made and has not removed (for tests)."""
    found = found or support()
    return [f for p in found.parents for f in p.glob(f"{PREFIX}{os.getpid()}-*")]
