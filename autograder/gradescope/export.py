"""Build Gradescope's autograder zips, one per assignment (Gradescope has one autograder per
assignment): `python -m autograder export-gradescope DIR` writes DIR/<assignment>.zip.

At its root: `setup.sh` and `run_autograder` (from this folder), `requirements.txt` (the project's
dependencies, from pyproject.toml), the packages `autograder` (the engine, with its hidden checks,
and this assignment's folder only: its spec, guest file and reference data) and `course_utils`,
and the assignment's student notebook (the grader recognises the release's demo cells by it).
Never the solutions, the tests, the sample submissions or another assignment: the reference
data is all grading needs, and the only assignment in the zip is the one `gradescope-run`
grades. The zip is reproducible (sorted entries, fixed dates).
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


ASSIGNMENTS_DIR = Path("autograder", "assignments")
NOT_SHIPPED = ("samples.py", "examples")  # in an assignment's folder: for tests and the demo


def _kept(relative, assignment):
    """Is `relative` (a path in the packages) part of `assignment`'s zip?"""
    if not relative.is_relative_to(ASSIGNMENTS_DIR) or len(relative.parts) < 4:
        return True  # the engine, and autograder/assignments/__init__.py
    own = relative.parts[2] == assignment.name
    return own and relative.parts[3] not in NOT_SHIPPED


def members(assignment, root=paths.ROOT):
    """{name in the zip: (content, executable)} of `assignment`'s autograder."""
    root = Path(root)
    files = {name: ((SCRIPTS_DIR / name).read_bytes(), True) for name in SCRIPTS}
    files[REQUIREMENTS] = (requirements(root / "pyproject.toml").encode(), False)
    shipped = [assignment.student_notebook]
    for package in PACKAGES:
        shipped += sorted((root / package).rglob("*"))
    for path in shipped:
        relative = path.relative_to(root)
        if (
            path.is_file()
            and not path.is_symlink()
            and _shipped(relative)
            and _kept(relative, assignment)
        ):
            files[relative.as_posix()] = (path.read_bytes(), False)
    return files


def build_zip(target, assignment, root=paths.ROOT):
    """Write `assignment`'s autograder zip to `target` (atomically); returns the names it holds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    files = members(assignment, root)
    staging = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(staging, "w") as archive:
        for name, (content, executable) in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            archive.writestr(info, content)
    os.replace(staging, target)
    return sorted(files)
