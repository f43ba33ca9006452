"""Fresh namespaces for one forked child of the zygote (Linux system calls through ctypes).

The zygote lives inside the bwrap sandbox, which already hides the file system, the network and
the host's processes. Each child it forks for a submission additionally gets, from these calls:

- `enter_namespaces()` (in the intermediate process): new user, mount, PID, IPC, UTS and network
  namespaces, mapping the sandbox user onto itself; its next child is PID 1 of the new PID
  namespace, so that everything the submission starts dies with it, and no process of the
  sandbox (the zygote, an earlier submission) can be named, signalled or traced from inside.
  SysV shared memory, message queues and abstract sockets are per IPC and network namespace.
- `fresh_mounts()` (in that child): a new empty tmpfs on /tmp and /dev/shm, the only writable
  places (bwrap's /dev is read-only for the zygote).
- `drop_privileges()`: no capabilities left (not even in the new user namespace), no new
  privileges through exec.

/proc stays the sandbox's: the kernel refuses a new procfs in a nested user namespace when the
existing one has locked mounts over parts of it (bwrap covers /proc/irq, /proc/bus). It shows the
child's processes, bwrap's init and the zygote, but the latter two belong to another user
namespace: no ptrace, no /proc/PID/{environ,mem,root,fd} for the child. A new PID namespace still
makes them unnameable (no kill), and an earlier submission has no process left to show.
"""

import ctypes
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NAMESPACES = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET

MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 0x1000, 0x2000, 0x4000, 0x40000

PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CAPABILITY_VERSION_3 = 0x20080522
LAST_CAPABILITY = 63

_libc = ctypes.CDLL(None, use_errno=True)


class IsolationError(OSError):
    """A namespace, mount or privilege call failed: the child must not run student code."""


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise IsolationError(errno, f"{what}: {os.strerror(errno)}")


def prctl(option, arg=0):
    _check(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl({option})")


def enter_namespaces():
    """Unshare every namespace (see the module doc); the caller's next child is PID 1 there."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(NAMESPACES), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", None)):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text if text is not None else f"{gid} {gid} 1")


def _mount(source, target, fstype, flags, data=None):
    _check(
        _libc.mount(
            source and source.encode(),
            target.encode(),
            fstype and fstype.encode(),
            ctypes.c_ulong(flags),
            data and data.encode(),
        ),
        f"mount {target}",
    )


def fresh_mounts(tmp_bytes, keep=()):
    """Mount an empty /tmp and /dev/shm; go to the new /tmp.

    `keep` lists the sandbox's read-only binds that live under /tmp (a checkout or a virtual
    environment there): the new /tmp is assembled on /dev/shm with those binds carried over
    (still read-only), then moved onto /tmp, and /dev/shm gets a tmpfs of its own.
    """
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    flags, data = MS_NOSUID | MS_NODEV, f"size={tmp_bytes},mode=0755"
    _mount("tmpfs", "/dev/shm", "tmpfs", flags, data)
    for path in keep:
        staged = os.path.join("/dev/shm", os.path.relpath(path, "/tmp"))
        if os.path.isdir(path):
            os.makedirs(staged, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(staged), exist_ok=True)
            open(staged, "a").close()
        _mount(path, staged, None, MS_BIND | MS_REC)  # a bind of a read-only mount stays so
    _mount("/dev/shm", "/tmp", None, MS_MOVE)
    _mount("tmpfs", "/dev/shm", "tmpfs", flags, data)
    os.chdir("/tmp")  # the old working directory was the zygote's /tmp


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in ("effective", "permitted", "inheritable")]


def drop_privileges():
    """Empty the bounding, ambient, effective, permitted and inheritable capability sets."""
    for cap in range(LAST_CAPABILITY + 1):
        if _libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header, data = _CapHeader(CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")
    prctl(PR_SET_NO_NEW_PRIVS, 1)
