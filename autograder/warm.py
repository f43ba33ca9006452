"""Warm starts: run each job in a fresh child of a pre-imported zygote, one zygote per worker.

A `Zygote` is `autograder.guest.zygote` started once in a bwrap sandbox like a cold runner's
(with a read-only /dev), where it imports TensorFlow and the rest once. For each job it forks a
child with its own user, mount, PID, IPC, UTS and network namespaces, its own empty /tmp and
/dev/shm (see `autograder.guest.isolate`), no capabilities, descriptors 0-3 connected to
this process's pipes: so nothing one submission leaves (files, processes, shared memory,
environment, module state) reaches the next, and the job costs no TensorFlow import. The child
is supervised exactly like a cold runner (`supervisor.supervise`), its limits applying to its
own process tree; where the host has cgroups, this process moves the child into a memory and
pids group of its own (`autograder.cgroup`) before sending it the job, so the kernel counts
every page it and its descendants touch (not the zygote's pages they share).

`run_job(job, limits)` uses the calling thread's zygote, starting it (again) when needed; if the
zygote cannot start twice in a row, the job's run says so, like a cold runner that could not.
"""

import json
import os
import select
import socket
import subprocess
import tempfile
import threading
import time

import psutil

from autograder import cgroup, sandbox, supervisor

ANSWER_SECONDS = 10.0  # for the zygote to answer a request or report an exit
LOG_BYTES = 4000  # of the zygote's own output, kept for error messages


class ZygoteError(RuntimeError):
    """The zygote could not start or stopped answering."""


class _Child(supervisor.Target):
    """One job's child of the zygote, as seen from this process."""

    overhead = 1  # the runner itself is PID 1 of its namespace

    def __init__(self, zygote, root, group):
        self.zygote, self.root, self.group, self.returncode = zygote, root, group, None

    def poll(self):
        if self.returncode is None:
            self.returncode = self.zygote.exit_code(timeout=0)
        return self.returncode

    def kill(self):
        supervisor.kill_tree(supervisor.tree(self.root))  # PID 1 first: its namespace dies
        if self.group is not None:
            self.group.kill()

    def wait(self):
        if self.returncode is None:
            self.returncode = self.zygote.exit_code(timeout=ANSWER_SECONDS)
        return self.returncode


class Zygote:
    """A sandboxed, pre-imported runner that forks a fresh, isolated child per job."""

    def __init__(self):
        self.proc = self.control = self.host = self.log = None
        self.pending_pid = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, limits):
        """Start the zygote in its sandbox and wait until it has imported everything."""
        self.stop()
        control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd = sandbox.bwrap_command(limits, "autograder.guest.zygote", read_only_dev=True)
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            cmd + ["--control-fd", str(theirs.fileno())],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            pass_fds=(theirs.fileno(),),
            env=sandbox.bwrap_environment(),
            start_new_session=True,
        )
        theirs.close()
        self.control = control
        ready = self._receive(limits.startup_seconds)
        if ready.get("event") != "ready":
            raise self._broken(f"it did not start ({ready})")
        if ready.get("threads") != 1:
            raise self._broken(f"it has {ready.get('threads')} threads after its imports")
        self.host = self._find(psutil.Process(self.proc.pid), ready.get("pid"))

    def run(self, job, limits, seconds_left=None):
        """Run `job` in a fresh child, in a cgroup of its own where the host has them; the
        supervised JobRun. `seconds_left`: what remains of the submission's time."""
        if not self.alive():
            self.start(limits)
        start = time.monotonic()
        stdin_r, stdin_w = os.pipe()
        pipes = [os.pipe() for _ in range(3)]  # stdout, stderr, events
        request = {
            "cpu_seconds": limits.cpu_seconds(job),
            "address_bytes": limits.memory_bytes + 3 * sandbox.GIB,
            "tmp_bytes": limits.tmp_bytes,
            "file_bytes": limits.tmp_bytes,
            "keep": [str(p) for p in sandbox.binds_under_tmp()],
        }
        theirs = [stdin_r] + [w for _, w in pipes]
        try:
            socket.send_fds(self.control, [json.dumps(request).encode()], theirs)
        except OSError as error:
            raise self._broken(f"it does not take requests ({error})") from None
        finally:
            for fd in theirs:
                os.close(fd)
        stdout_r, stderr_r, events_r = (r for r, _ in pipes)
        group = None
        with open(stdin_w, "wb") as stdin:
            try:
                started = self._receive(ANSWER_SECONDS)
                if started.get("event") != "started":
                    raise self._broken(f"it could not fork a child ({started})")
                self.pending_pid = started.get("pid")
                root = self._find(self.host, self.pending_pid)
                group = self._enclose(root, limits)
                child = _Child(self, root, group)
                return supervisor.supervise(
                    child, stdin, stdout_r, stderr_r, events_r, job, limits, start, seconds_left
                )
            finally:
                for fd in (stdout_r, stderr_r, events_r):
                    os.close(fd)
                if self.pending_pid is not None:  # the child never reported its exit
                    self.stop()
                if group is not None:
                    group.remove()

    def _enclose(self, root, limits):
        """Move the new child into a cgroup of its own (None without cgroups here). The child
        runs no student code before this: it waits for the job on its standard input."""
        try:
            group = cgroup.create(limits.memory_bytes, limits.max_tasks)
        except OSError as error:
            raise self._broken(f"no cgroup for its child ({error})") from None
        if group is not None:
            try:
                group.add(root.pid)
            except OSError as error:
                group.remove()
                raise self._broken(f"its child could not join its cgroup ({error})") from None
        return group

    def exit_code(self, timeout):
        """The pending child's exit code once the zygote reports it; None until then."""
        if self.pending_pid is None:
            return None
        if not select.select([self.control], [], [], timeout)[0]:
            return None
        answer = self._receive(0)
        if answer.get("event") != "exited" or answer.get("pid") != self.pending_pid:
            raise self._broken(f"unexpected answer {answer}")
        self.pending_pid = None
        return answer.get("returncode")

    def stop(self):
        """Kill the zygote's sandbox (everything in it dies with it)."""
        if self.proc is not None:
            try:
                supervisor.kill_tree(supervisor.tree(psutil.Process(self.proc.pid)))
            except psutil.Error:
                pass  # already gone (its sandbox went with it)
            self.proc.kill()
            self.proc.wait()
        if self.control is not None:
            self.control.close()
        if self.log is not None:
            self.log.close()
        self.proc = self.control = self.host = self.log = self.pending_pid = None

    def _receive(self, timeout):
        try:
            ready = select.select([self.control], [], [], timeout)[0] if timeout else True
            message = self.control.recv(1 << 16) if ready else b""
        except OSError as error:
            raise self._broken(f"its socket failed ({error})") from None
        try:
            answer = json.loads(message) if message else {}
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise self._broken(f"it sent {message[:200]!r}")
        return answer

    def _find(self, parent, pid):
        """The child of `parent` whose PID in the sandbox's namespace is `pid`."""
        for process in supervisor.tree(parent)[1:]:
            if _sandbox_pid(process) == pid:
                return process
        raise self._broken(f"its process {pid} is not there")

    def _broken(self, what):
        log = b""
        if self.log is not None:
            self.log.seek(0)
            log = self.log.read()[-LOG_BYTES:]
        self.stop()
        text = log.decode(errors="replace").strip()
        return ZygoteError(f"the warm sandbox failed: {what}" + (f"\n{text}" if text else ""))


def _sandbox_pid(process):
    """The PID of `process` in the sandbox's PID namespace (the second of its NSpid line)."""
    try:
        with open(f"/proc/{process.pid}/status") as status:
            for line in status:
                if line.startswith("NSpid:"):
                    pids = line.split()[1:]
                    return int(pids[1]) if len(pids) > 1 else None
    except OSError:
        return None
    return None


_local = threading.local()


def run_job(job, limits=None, seconds_left=None):
    """Run `job` in a fresh child of this thread's zygote (bwrap only); a JobRun.
    `seconds_left`: what remains of the submission's time (default: the job's own deadline)."""
    limits = limits or sandbox.Limits()
    zygote = getattr(_local, "zygote", None)
    if zygote is None:
        zygote = _local.zygote = Zygote()
    for _ in range(2):  # a zygote found dead is started again, once
        try:
            return zygote.run(job, limits, seconds_left)
        except ZygoteError as error:
            problem = str(error)
    return supervisor.failed_start(problem)


def close():
    """Stop this thread's zygote, if it has one."""
    zygote = getattr(_local, "zygote", None)
    if zygote is not None:
        zygote.stop()
