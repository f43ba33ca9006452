"""Find the submissions under a path: one notebook, a folder per student, or nbgrader's tree.

- `PATH` is a notebook: one student, named after the file;
- `PATH/<student>/<notebook>.ipynb`, or nbgrader's `submitted/<student>/<assignment>/<notebook>`:
  one student per subfolder, the notebook found anywhere below it;
- `PATH/<name>.ipynb` files directly in the folder: one student per notebook.
"""

import dataclasses
from pathlib import Path

from autograder import paths


@dataclasses.dataclass(frozen=True)
class Found:
    student: str
    notebook: Path | None  # None: the student's folder has no notebook to grade
    problem: str | None = None


def _candidates(folder):
    return sorted(
        p
        for p in folder.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and not p.name.startswith(".")
    )


def pick_notebook(folder, name=paths.NOTEBOOK_NAME):
    """The notebook to grade in a student's folder: the one named like the assignment, else the
    only one; returns (path or None, problem or None)."""
    notebooks = _candidates(folder)
    named = [p for p in notebooks if p.name == name]
    if named:
        return named[0], None
    if len(notebooks) == 1:
        return notebooks[0], None
    if not notebooks:
        return None, f"no notebook (.ipynb) was submitted; expected {name}"
    listed = ", ".join(p.name for p in notebooks[:5])
    return None, f"several notebooks and none named {name}: {listed}"


def find_submissions(path):
    """The submissions under `path`, sorted by student."""
    path = Path(path)
    if path.is_file():
        return [Found(path.stem, path)]
    if not path.is_dir():
        raise FileNotFoundError(f"no such file or folder: {path}")
    found = []
    for entry in sorted(path.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            found.append(Found(entry.stem, None, f"{entry.name} is a link, not a submission"))
        elif entry.is_dir():
            notebook, problem = pick_notebook(entry)
            if notebook is not None and not notebook.resolve().is_relative_to(entry.resolve()):
                notebook, problem = None, f"{notebook.name} links outside the submission"
            found.append(Found(entry.name, notebook, problem))
        elif entry.suffix == ".ipynb":
            found.append(Found(entry.stem, entry))
    return found
