"""Generate the files derived from each assignment's solution notebook.

They are the student notebook `notebooks/<assignment>.ipynb` and `solutions/<assignment>.py`.

The solution notebook is the single source of truth. Its exercise cells carry nbgrader's
`### BEGIN SOLUTION` / `### END SOLUTION` markers and `nbgrader.solution` metadata; after each
exercise a graded cell (`nbgrader.grade`, a comment) holds its points for nbgrader's gradebook
(see `nbgrader_gradebook`):

- the student notebook is made by nbgrader's own preprocessors (solutions cleared to a
  `raise NotImplementedError()` stub, outputs cleared, checksums computed), as `nbgrader
  generate_assignment` does, without needing a course database; the placeholders COLAB_URL and
  RELEASE_ZIP_URL become links to the published student release ([tool.course] in
  pyproject.toml), and its metadata names its assignment (`course.assignment`), which the
  grader reads to tell lessons apart;
- `solutions/<assignment>.py` gathers the exercise cells, markers removed, so the autograder and
  the tests can import the reference optimizers.
"""

import copy
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import nbformat
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    LockCells,
)

from autograder import assignments, paths

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")

MODULE_HEADER = '''"""Reference optimizers of the course: the hidden solutions.

Generated from solutions/{notebook} by `make student`. Edit the notebook, not this file.
"""

import tensorflow as tf
'''


def read_notebook(path):
    """Read a notebook as nbformat v4."""
    return nbformat.read(str(path), as_version=4)


def is_solution_cell(cell):
    """Is this an exercise cell (nbgrader `solution: true`)?"""
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution", False))


def is_graded_cell(cell):
    """Is this a graded cell (nbgrader `grade: true`), which holds points in the gradebook?"""
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade", False))


def is_demo_cell(cell):
    """Is this a demonstration or self-check cell, which graders skip?"""
    return any(tag in paths.SKIPPED_TAGS for tag in cell.get("metadata", {}).get("tags", []))


def release_links(notebook_name, pyproject=paths.PYPROJECT):
    """{placeholder: URL} for a student notebook, from pyproject.toml's [tool.course]."""
    course = tomllib.loads(Path(pyproject).read_text())["tool"]["course"]
    repository, branch = course["release_repository"], course["release_branch"]
    notebook = f"notebooks/{notebook_name}"
    return {
        "COLAB_URL": f"https://colab.research.google.com/github/{repository}/blob/{branch}/"
        f"{notebook}",
        "RELEASE_ZIP_URL": f"https://github.com/{repository}/archive/refs/heads/{branch}.zip",
    }


def fill_release_links(nb, links):
    """Replace the release placeholders in every cell of `nb` (in place)."""
    for cell in nb.cells:
        for placeholder, url in links.items():
            cell.source = cell.source.replace(placeholder, url)
    return nb


def student_notebook(solution_nb, assignment):
    """The student copy of `solution_nb`, made by nbgrader's preprocessors (input unchanged)."""
    nb = copy.deepcopy(solution_nb)
    resources = {}
    for preprocessor in (
        CheckCellMetadata(),
        LockCells(),
        ClearSolutions(),
        ClearOutput(),
        ClearHiddenTests(),
        ClearMarkScheme(),
        ComputeChecksums(),
        CheckCellMetadata(),
    ):
        nb, resources = preprocessor.preprocess(nb, resources)
    return for_release(nb, assignment)


def for_release(nb, assignment):
    """`nb` (in place) with its release links filled in and its assignment in its metadata."""
    nb.metadata[assignments.METADATA_KEY] = {"assignment": assignment.name}
    return fill_release_links(nb, release_links(assignment.notebook))


def solution_bodies(solution_nb):
    """The code between the solution markers of each exercise cell, as lists of stripped lines."""
    bodies = []
    for cell in solution_nb.cells:
        if cell.cell_type != "code" or not is_solution_cell(cell):
            continue
        inside, body = False, []
        for line in cell.source.splitlines():
            marker = line.strip()
            if marker == SOLUTION_MARKERS[0]:
                inside = True
            elif marker == SOLUTION_MARKERS[1]:
                inside = False
                bodies.append(body)
                body = []
            elif inside and marker:
                body.append(marker)
    return bodies


def solutions_module_source(solution_nb, notebook_name):
    """Python source of `solutions/<assignment>.py`: every exercise cell, markers removed."""
    chunks = [MODULE_HEADER.format(notebook=notebook_name)]
    for cell in solution_nb.cells:
        if cell.cell_type == "code" and is_solution_cell(cell):
            lines = [
                line for line in cell.source.splitlines() if line.strip() not in SOLUTION_MARKERS
            ]
            chunks.append("\n".join(lines) + "\n")
    return "\n\n".join(chunks)


def generated_files(assignment):
    """{path: text} of every file derived from the assignment's solution notebook."""
    solution_nb = read_notebook(assignment.solution_notebook)
    return {
        assignment.student_notebook: nbformat.writes(student_notebook(solution_nb, assignment))
        + "\n",
        assignment.solutions_module: solutions_module_source(solution_nb, assignment.notebook),
    }


def generate(assignment, check=False):
    """Write the derived files, or with `check=True` only list those that are out of date."""
    stale = []
    for path, text in generated_files(assignment).items():
        current = path.read_text() if path.exists() else None
        if current != text:
            stale.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    return stale
