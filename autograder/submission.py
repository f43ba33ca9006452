"""Read a submitted notebook defensively and pick the code cells the grader runs.

Runs in the trusted grader: it only parses JSON and never executes anything. Anything that is
not a readable notebook raises `SubmissionError` with a message meant for the student.

Parsing is bounded: a clean notebook is well under 1 MiB, so a file over `MAX_BYTES` is refused
before it is read, and one whose JSON holds more than `MAX_VALUES` values or nests deeper than
`MAX_DEPTH` is refused before it is parsed (40 MiB of `{}` would otherwise take about 1 GiB).
Fields of the wrong type (a list as a cell id, a number as a tag) are ignored, never trusted.
"""

import dataclasses
import errno
import hashlib
import itertools
import json
import os
import re
import stat
from pathlib import Path

from autograder import paths

MAX_BYTES = 8 * 2**20
MAX_VALUES = 200_000  # JSON values (strings, numbers, lists, objects...) in the whole file
MAX_DEPTH = 64  # nesting of lists and objects; a notebook needs about 8
CLEAR_OUTPUTS = "clear its outputs (Edit > Clear Outputs of All Cells), save it and submit it again"
# A JSON string, or an unterminated one up to the end: each match attempt succeeds, so one pass
# over the file suffices whatever it holds.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = bytes(set(range(256)) - set(b"[]{}"))
_DEPTH_STEP = [1 if byte in b"[{" else -1 for byte in range(256)]


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
    data = _read_regular_file(path, max_bytes)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SubmissionError(
            f"{_name(path)} is not valid JSON, so it is not a notebook (not UTF-8 text: "
            f"{error.reason} at byte {error.start}); submit the .ipynb file saved by Jupyter"
        ) from None
    _check_shape(data, _name(path))
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as error:
        raise SubmissionError(
            f"{_name(path)} is not valid JSON, so it is not a notebook ({error}); "
            "submit the .ipynb file saved by Jupyter"
        ) from None
    except (RecursionError, MemoryError):
        raise SubmissionError(f"{_name(path)} is too large or too deeply nested to read") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise SubmissionError(
            f"{_name(path)} is JSON but not a Jupyter notebook (it has no list of cells)"
        )
    return nb


def fingerprint(path, max_bytes=MAX_BYTES):
    """The SHA-256 (hex) of the submitted file at `path`, read as the grader reads it; None when
    it cannot be read as a notebook (a link, not a regular file, too big, unreadable)."""
    try:
        return hashlib.sha256(_read_regular_file(Path(path), max_bytes)).hexdigest()
    except (OSError, SubmissionError):
        return None


def _read_regular_file(path, max_bytes):
    """The bytes of `path`, a regular file (not a link) of at most `max_bytes`."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise SubmissionError(f"{_name(path)} is a link, not a notebook") from None
        raise
    with os.fdopen(fd, "rb") as stream:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise SubmissionError(f"{_name(path)} is not a regular file")
        data = stream.read(max_bytes + 1) if status.st_size <= max_bytes else b""
    size = max(status.st_size, len(data))
    if size > max_bytes:
        raise SubmissionError(
            f"{_name(path)} is {size / 2**20:.1f} MiB, more than the {max_bytes / 2**20:g} MiB "
            f"a notebook may have; {CLEAR_OUTPUTS}"
        )
    return data


def _check_shape(data, name):
    """SubmissionError if the JSON in `data` has too many values or nests too deeply.

    Works on the bytes, strings blanked out, without building any object.
    """
    skeleton = _STRING.sub(b'""', data)
    values = 1 + sum(skeleton.count(mark) for mark in (b",", b":", b"[", b"{"))
    if values > MAX_VALUES:
        raise SubmissionError(
            f"{name} holds more than {MAX_VALUES:,} JSON values, far more than a notebook; "
            f"{CLEAR_OUTPUTS}"
        )
    brackets = skeleton.translate(None, _NOT_BRACKET)
    depth = max(itertools.accumulate(_DEPTH_STEP[b] for b in brackets), default=0)
    if depth > MAX_DEPTH:
        raise SubmissionError(
            f"{name} nests lists or objects more than {MAX_DEPTH} deep, which no notebook does; "
            "submit the .ipynb file saved by Jupyter"
        )


def _name(path):
    return printable(path.name)


def printable(text):
    """`text` safe to print and to write anywhere: characters that are not printable, bytes that
    were not UTF-8 (os.fsdecode's surrogates) and lone surrogates as backslash escapes."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        if "\udc80" <= char <= "\udcff":  # an undecodable byte of a file name
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif char.isprintable():
            out.append(char)
        else:
            out.append(char.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def _text(source):
    if isinstance(source, list):
        text = "".join(s for s in source if isinstance(s, str))
    else:
        text = source if isinstance(source, str) else ""
    return without_surrogates(text)


def without_surrogates(text):
    """`text` with each lone surrogate (which no file can hold) as a backslash escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _tags(metadata):
    tags = metadata.get("tags")
    return [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else []


def _id(cell):
    return cell.get("id") if isinstance(cell.get("id"), str) else None


def _skipped(tags):
    return any(tag in paths.SKIPPED_TAGS for tag in tags)


def _normalized(source):
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def demo_signatures(release_path):
    """Ids and normalized sources of the demonstration cells of the released notebook."""
    release = json.loads(Path(release_path).read_text())
    demo = [c for c in release["cells"] if _skipped(c.get("metadata", {}).get("tags", []))]
    return {c["id"] for c in demo if "id" in c}, {_normalized(_text(c["source"])) for c in demo}


def check_assignment(nb, path, assignment):
    """Refuse (SubmissionError) a notebook of another lesson than `assignment`: its metadata
    names another assignment, or, without metadata, its file name does."""
    from autograder import assignments

    metadata = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    tagged = metadata.get(assignments.METADATA_KEY)
    name = tagged.get("assignment") if isinstance(tagged, dict) else None
    if not isinstance(name, str):
        stem = Path(path).stem
        name = stem if stem in assignments.names() else None
    if name is not None and name != assignment.name:
        other = name if name in assignments.names() else "an unknown assignment"
        raise SubmissionError(
            f"this is the notebook of {printable(other)}, not of {assignment.name}: "
            f"submit {assignment.notebook}"
        )


def code_cells(nb, release_path):
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
        if _skipped(_tags(metadata)) or _id(cell) in demo_ids:
            continue
        if _normalized(source) in demo_sources:
            continue
        nbgrader = metadata.get("nbgrader") if isinstance(metadata.get("nbgrader"), dict) else {}
        grade_id = nbgrader.get("grade_id") if isinstance(nbgrader.get("grade_id"), str) else None
        cells.append(CodeCell(index, source, without_surrogates(grade_id) if grade_id else None))
    return cells
