"""tools/make_venv.py: a virtual environment with pip, from nothing but Python."""

import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "make_venv.py"
sys.path.insert(0, str(TOOL.parent))
import make_venv  # noqa: E402


@pytest.mark.parametrize("version", [(3, 9), (3, 14)])
def test_an_unsupported_python_is_one_clear_line(version):
    with pytest.raises(make_venv.SetupError, match=r"use 3\.10 to 3\.13"):
        make_venv.check_python(version)


def test_the_supported_pythons_pass():
    for minor in range(10, 14):
        make_venv.check_python((3, minor))


def test_without_ensurepip_pip_comes_from_pypi(tmp_path):
    """As on Debian without python3-venv: the environment gets a working pip all the same."""
    target = tmp_path / "venv"
    done = subprocess.run(
        [sys.executable, TOOL, target, "--without-ensurepip"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    pip = subprocess.run([target / "bin" / "python", "-m", "pip", "--version"], capture_output=True)
    assert pip.returncode == 0
    again = subprocess.run([sys.executable, TOOL, target], capture_output=True, text=True)
    assert again.returncode == 0 and "bringing pip" not in again.stdout
