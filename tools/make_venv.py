"""Create the project's virtual environment with nothing but Python (standard library only).

    python3 tools/make_venv.py .venv

`make` runs this before installing the project. It checks that this Python is one TensorFlow
supports, then creates the environment with pip. Debian and Ubuntu ship Python without
`ensurepip` unless the `python3-venv` package is installed; there the environment is created
without pip, and pip is brought from PyPI: its newest wheel, checked against the SHA-256 that
PyPI publishes for it, run as a zip to install itself. No system package, no root.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import venv
from pathlib import Path

SUPPORTED = ((3, 10), (3, 13))  # the Pythons tensorflow-cpu 2.21 has wheels for
PIP_JSON = "https://pypi.org/pypi/pip/json"


class SetupError(Exception):
    """Something the user must fix; the message says what."""


def check_python(version=sys.version_info[:2]):
    low, high = SUPPORTED
    if not low <= tuple(version) <= high:
        raise SetupError(
            f"Python {version[0]}.{version[1]} is not supported by TensorFlow 2.21: use "
            f"{low[0]}.{low[1]} to {high[0]}.{high[1]}, e.g. `make PYTHON=python3.12 ...`"
        )


def has_ensurepip():
    try:
        import ensurepip  # noqa: F401
    except ImportError:
        return False
    return True


def pip_wheel(folder, index_json=PIP_JSON):
    """Download pip's newest wheel from PyPI into `folder`, verified; returns its path."""
    with urllib.request.urlopen(index_json, timeout=60) as response:
        release = json.load(response)
    wheel = next(f for f in release["urls"] if f["packagetype"] == "bdist_wheel")
    url = urllib.parse.urljoin(index_json, wheel["url"])  # mirrors may answer with relative URLs
    with urllib.request.urlopen(url, timeout=120) as response:
        content = response.read()
    if hashlib.sha256(content).hexdigest() != wheel["digests"]["sha256"]:
        raise SetupError(f"{wheel['filename']}: its SHA-256 is not the one PyPI publishes")
    path = Path(folder) / wheel["filename"]
    path.write_bytes(content)
    return path


def make_venv(target, use_ensurepip=None):
    """Create a virtual environment with pip at `target` (nothing done if it has one)."""
    target = Path(target)
    python = target / "bin" / "python"
    if (
        python.exists()
        and subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode == 0
    ):
        return python
    check_python()
    if use_ensurepip is None:
        use_ensurepip = has_ensurepip()
    venv.EnvBuilder(with_pip=use_ensurepip, clear=True).create(target)
    if not use_ensurepip:
        print("this Python has no ensurepip (Debian's python3-venv): bringing pip from PyPI")
        with tempfile.TemporaryDirectory() as folder:
            wheel = pip_wheel(folder)
            subprocess.run(
                [python, f"{wheel}/pip", "install", "--quiet", "--no-index", str(wheel)],
                check=True,
            )
    return python


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path, help="where to create the environment")
    parser.add_argument(
        "--without-ensurepip",
        action="store_true",
        help="bring pip from PyPI even if ensurepip exists (how tests try that path)",
    )
    args = parser.parse_args(argv)
    try:
        make_venv(args.target, use_ensurepip=False if args.without_ensurepip else None)
    except (SetupError, OSError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
