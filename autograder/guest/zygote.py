"""A pre-imported runner that forks one fresh, isolated child per submission (inside bwrap).

    python -I -m autograder.guest.zygote --control-fd N

It imports everything the runner preloads (TensorFlow, NumPy, Matplotlib, course_utils, the
drivers) without running a single TensorFlow operation: TensorFlow's runtime and its thread pools
start at the first operation, so the zygote stays single-threaded and forking it is safe. It
checks that before every fork, and never runs student code itself. Its objects are then frozen
(`gc.freeze`): a child's garbage collections neither scan nor copy them (10% of a child's CPU).

Protocol on the control socket N (SOCK_SEQPACKET, one JSON object per message):

    zygote -> grader: {"event": "ready", "pid": p, "threads": n}
    grader -> zygote: {"cpu_seconds": s, "address_bytes": b, "tmp_bytes": t, "file_bytes": f,
                       "keep": [read-only binds under /tmp]}
                      with four descriptors: the job's stdin, stdout, stderr and events pipes
    zygote -> grader: {"event": "started", "pid": p} then {"event": "exited", "pid": p,
                      "returncode": r}, or {"event": "failed", "error": text}

Between "started" and the job on its standard input, the grader moves the child into a cgroup of
its own (see `autograder.warm`): the child runs no student code before it has the job.

Per job: fork an intermediate process, which enters new namespaces (`isolate`) and forks the
child, PID 1 of its own PID namespace, then exits; the child comes back to the zygote (a child
subreaper), which reaps it. The child mounts its own /tmp and /dev/shm, takes the job's
pipes as descriptors 0-3 and closes every other one, sets its resource limits, drops every
capability, and runs the job like a cold runner would (`runner.serve`). The grader supervises it
from outside exactly like a cold runner, and kills it there: PID 1 gone, its namespace goes too.
"""

import gc
import json
import os
import resource
import socket
import sys
import traceback

from autograder.guest import isolate, runner

JOB_FDS = 4  # stdin, stdout, stderr, events: they become descriptors 0, 1, 2 and 3


def threads():
    """How many threads this process has."""
    for line in open("/proc/self/status"):
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def send(control, **message):
    control.send(json.dumps(message).encode())


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    control = socket.socket(fileno=int(argv[argv.index("--control-fd") + 1]))
    runner.preload()
    gc.collect()
    gc.freeze()  # children's collections skip (and so never copy) the zygote's objects
    isolate.prctl(isolate.PR_SET_DUMPABLE, 0)  # no one in the sandbox may trace the zygote
    isolate.prctl(isolate.PR_SET_CHILD_SUBREAPER, 1)
    send(control, event="ready", pid=os.getpid(), threads=threads())
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 16, JOB_FDS)
        except OSError:
            break
        if not message:
            break  # the grader closed the socket
        try:
            if len(fds) != JOB_FDS:
                raise ValueError(f"expected {JOB_FDS} descriptors, got {len(fds)}")
            if threads() != 1:
                raise RuntimeError(f"the zygote has {threads()} threads: forking is not safe")
            pid = spawn(control, json.loads(message), fds)
        except Exception as error:  # noqa: BLE001 - reported to the grader, which gives up
            send(control, event="failed", error=f"{type(error).__name__}: {error}")
            continue
        finally:
            for fd in fds:
                os.close(fd)
        send(control, event="started", pid=pid)
        _, status = os.waitpid(pid, 0)
        send(control, event="exited", pid=pid, returncode=os.waitstatus_to_exitcode(status))
    os._exit(0)


def spawn(control, request, fds):
    """Fork the isolated child for one job; return its PID (in the zygote's namespace)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the intermediate process
        code = 1
        try:
            os.close(read_end)
            isolate.enter_namespaces()
            child = os.fork()
            if child == 0:
                os.close(write_end)
                _child(control, request, fds)
            os.write(write_end, str(child).encode())
            code = 0
        except BaseException as error:  # noqa: BLE001
            os.write(write_end, f"{type(error).__name__}: {error}".encode()[:4000])
        finally:
            os._exit(code)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as answer:
        text = answer.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0 or not text.isdigit():
        raise RuntimeError(f"the isolated child could not start: {text or 'no answer'}")
    return int(text)


def _child(control, request, fds):
    """In the new namespaces, as PID 1: isolate, take the job's pipes, run the job. No return."""
    try:
        control.detach()  # its descriptor is closed below, with every other one
        isolate.fresh_mounts(int(request["tmp_bytes"]), [str(p) for p in request["keep"]])
        for target, fd in enumerate(fds):  # received descriptors are all above 2: no clash
            os.dup2(fd, target)
        os.closerange(JOB_FDS, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        cpu, address = int(request["cpu_seconds"]), int(request["address_bytes"])
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_AS, (address, address))
        files = int(request["file_bytes"])  # its writable places: its /tmp and /dev/shm
        resource.setrlimit(resource.RLIMIT_FSIZE, (files, files))
        isolate.prctl(isolate.PR_SET_DUMPABLE, 1)  # its own /proc entries, as in a cold runner
        isolate.drop_privileges()
        import numpy

        numpy.random.seed()  # a cold runner seeds NumPy afresh; forked children would share one
    except BaseException:  # noqa: BLE001 - without isolation, no student code may run
        os.write(2, traceback.format_exc().encode(errors="replace"))
        os._exit(70)
    runner.serve(JOB_FDS - 1)


if __name__ == "__main__":
    main()
