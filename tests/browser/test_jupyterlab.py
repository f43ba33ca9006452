"""End to end: the solution notebook runs in JupyterLab, in a real Chromium, with all its figures.

The test starts `jupyter lab` from the venv on a free loopback port, with a copy of the notebook
in a temporary root folder (the committed notebook is never opened, so it can never be saved
with outputs) and temporary Jupyter config, runtime, data, settings and workspace folders (so
nothing of the developer's own JupyterLab set-up interferes, and autosave is off anyway). Then
`run_all.mjs` opens the notebook in headless Chromium through playwright-core, runs *Run All*
and reports what the page shows.

Needs node, Debian's chromium and `npm ci --prefix tests/browser` (tests/needs.py: skipped
without them, unless COURSE_TESTS_REQUIRE lists `browser`).
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
NOTEBOOK = REPO / "solutions" / "optimizers_core.ipynb"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
RUN_ALL_TIMEOUT = 300  # seconds; opening the notebook and Run All take 25-45 s here
SERVER_START_TIMEOUT = 90

# User settings for the temporary JupyterLab: never save, render every cell, no news pop-up.
SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}

pytestmark = [pytest.mark.browser, pytest.mark.needs("browser")]


def _free_port():
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url, proc, log):
    """Poll `<url>/api/status` until it answers; fail with the server's log if it never does."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"jupyter lab did not answer {url} in {SERVER_START_TIMEOUT} s")


def _stop(proc, shutdown_url, runtime_dir):
    """Stop the server and its kernels, politely first (`POST /api/shutdown` ends the kernels),
    then by signals; at last kill any kernel still using a connection file of `runtime_dir`."""
    try:
        urllib.request.urlopen(urllib.request.Request(shutdown_url, method="POST"), timeout=10)
        proc.wait(timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if proc.poll() is None:
                os.killpg(proc.pid, sig)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    pass
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(runtime_dir).encode() in cmdline.read_bytes():
                os.kill(int(cmdline.parent.name), signal.SIGKILL)
        except OSError:
            pass


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab serving a copy of the solution notebook; yields (base URL with token, log)."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    settings_dir = tmp_path / "lab-settings"
    for plugin, values in SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))

    port, token = _free_port(), secrets.token_hex(16)
    runtime_dir = tmp_path / "runtime"
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(runtime_dir),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),  # notebook-signing key, not in ~/.local
        "JUPYTERLAB_SETTINGS_DIR": str(settings_dir),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    command = [
        str(Path(sys.executable).with_name("jupyter")),
        "lab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",  # run_all.mjs drives JupyterLab's own commands
    ]
    log = tmp_path / "jupyterlab.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(f"{base}/api/status?token={token}", proc, log)
        yield f"{base}/?token={token}", log
    finally:
        _stop(proc, f"{base}/api/shutdown?token={token}", runtime_dir)


def test_run_all_in_jupyterlab(jupyterlab, tmp_path):
    """Run All executes every code cell without an error and renders the four figures."""
    url, log = jupyterlab
    screenshot = tmp_path / "jupyterlab.png"
    command = ["node", str(HERE / "run_all.mjs"), "--url", url, "--notebook", NOTEBOOK.name]
    command += ["--screenshot", str(screenshot), "--timeout", str(RUN_ALL_TIMEOUT)]
    result = subprocess.run(
        command, cwd=HERE, capture_output=True, text=True, timeout=RUN_ALL_TIMEOUT + 120
    )
    if screenshot.exists():
        out = REPO / "out" / "browser"
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, out / screenshot.name)
    assert result.returncode == 0, (
        f"run_all.mjs exited with {result.returncode}\n{result.stderr}\n"
        f"server log (end):\n{log.read_text()[-3000:]}"
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    print(summary)

    assert summary["code_cells"] > 0
    assert summary["executed_cells"] == summary["code_cells"], summary
    assert summary["error_outputs"] == 0, summary
    assert summary["images"] >= 4, summary
