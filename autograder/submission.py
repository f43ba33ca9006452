"""Read a submitted notebook defensively and pick the code cells the grader runs.

Runs in the trusted grader: it only parses JSON and never executes anything. Anything that is
not a readable notebook raises `SubmissionError` with a message meant for the student.
"""

import dataclasses
import json
from pathlib import Path

from autograder import paths

MAX_BYTES = 256 * 2**20


class SubmissionError(Exception):
    """The file cannot be graded at all; the message says why, in the student's terms."""


@dataclasses.dataclass(frozen=True)
class CodeCell:
    index: int  # position among all cells of the submitted notebook, from 0
    source: str
    grade_id: str | None  # nbgrader's id of an exercise cell ("momentum", ...), if any


def read_notebook(path, max_bytes=MAX_BYTES):
    """The notebook at `path` as a dict, or SubmissionError."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise SubmissionError(
            f"{path.name} is {size / 2**20:.0f} MiB, more than the {max_bytes / 2**20:.0f} MiB "
            "a notebook may have; clear its outputs (Edit > Clear Outputs of All Cells) and "
            "submit it again"
        )
    try:
        nb = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SubmissionError(
            f"{path.name} is not valid JSON, so it is not a notebook ({error}); "
            "submit the .ipynb file saved by Jupyter"
        ) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise SubmissionError(
            f"{path.name} is JSON but not a Jupyter notebook (it has no list of cells)"
        )
    return nb


def _text(source):
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _skipped(tags):
    return any(tag in paths.SKIPPED_TAGS for tag in tags)


def _normalized(source):
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def demo_signatures(release_path=paths.STUDENT_NOTEBOOK):
    """Ids and normalized sources of the demonstration cells of the released notebook."""
    release = json.loads(Path(release_path).read_text())
    demo = [c for c in release["cells"] if _skipped(c.get("metadata", {}).get("tags", []))]
    return {c["id"] for c in demo if "id" in c}, {_normalized(_text(c["source"])) for c in demo}


def code_cells(nb, release_path=paths.STUDENT_NOTEBOOK):
    """The code cells to execute, in order, without the demonstration and self-check cells.

    A cell is skipped when it carries the `demo` or `self-check` tag, or has the id or the text
    of such a cell of the released notebook (students may drop tags or edit demos).
    """
    demo_ids, demo_sources = demo_signatures(release_path)
    cells = []
    for index, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        source = _text(cell.get("source", ""))
        tags = metadata.get("tags") if isinstance(metadata.get("tags"), list) else []
        if _skipped(tags) or cell.get("id") in demo_ids or _normalized(source) in demo_sources:
            continue
        nbgrader = metadata.get("nbgrader") if isinstance(metadata.get("nbgrader"), dict) else {}
        grade_id = nbgrader.get("grade_id") if isinstance(nbgrader.get("grade_id"), str) else None
        cells.append(CodeCell(index, source, grade_id))
    return cells
