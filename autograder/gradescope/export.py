"""Build Gradescope's autograder zip: `python -m autograder export-gradescope OUT.zip`.

At its root: `setup.sh` and `run_autograder` (from this folder), `requirements.txt` (the project's
dependencies, from pyproject.toml), the packages `autograder` (with its hidden checks and
reference data) and `course_utils`, and the student notebook (the grader recognises the release's
demo cells by it). Never the solutions or the tests: the reference data is all grading needs.
The zip is reproducible (sorted entries, fixed dates).
"""

import os
import zipfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from autograder import paths

SCRIPTS_DIR = Path(__file__).parent
SCRIPTS = ("setup.sh", "run_autograder")
PACKAGES = ("autograder", "course_utils")
FILES = (paths.STUDENT_NOTEBOOK.relative_to(paths.ROOT),)
REQUIREMENTS = "requirements.txt"
DATE = (1980, 1, 1, 0, 0, 0)


def requirements(pyproject=paths.ROOT / "pyproject.toml"):
    """requirements.txt's text: the project's dependencies, one a line."""
    dependencies = tomllib.loads(Path(pyproject).read_text())["project"]["dependencies"]
    return "".join(f"{spec}\n" for spec in dependencies)


def _shipped(relative):
    return not any(
        part.startswith(".") or part == "__pycache__" for part in relative.parts
    ) and relative.suffix not in (".pyc", ".pyo")


def members(root=paths.ROOT):
    """{name in the zip: (content, executable)}."""
    root = Path(root)
    files = {name: ((SCRIPTS_DIR / name).read_bytes(), True) for name in SCRIPTS}
    files[REQUIREMENTS] = (requirements(root / "pyproject.toml").encode(), False)
    shipped = [root / name for name in FILES]
    for package in PACKAGES:
        shipped += sorted((root / package).rglob("*"))
    for path in shipped:
        relative = path.relative_to(root)
        if path.is_file() and not path.is_symlink() and _shipped(relative):
            files[relative.as_posix()] = (path.read_bytes(), False)
    return files


def build_zip(target, root=paths.ROOT):
    """Write the autograder zip to `target` (atomically); returns the names it holds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    files = members(root)
    staging = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(staging, "w") as archive:
        for name, (content, executable) in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            archive.writestr(info, content)
    os.replace(staging, target)
    return sorted(files)
