"""Reading submissions defensively and choosing the cells to run."""

import dataclasses
import hashlib
import json
import os

import nbformat
import pytest

from autograder import assignments, submission
from autograder.assignments.optimizers_core.spec import ASSIGNMENT

RELEASE = ASSIGNMENT.student_notebook  # its demo cells are the ones to skip


def write(tmp_path, content, name="optimizers_core.ipynb"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.mark.parametrize(
    "content, words",
    [
        ('{"cells": [', "not valid JSON"),
        ("[1, 2, 3]", "not a Jupyter notebook"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        ('{"cells": 5}', "not a Jupyter notebook"),
    ],
)
def test_unreadable_files_get_a_clear_message(tmp_path, content, words):
    """Is each kind of broken file refused with a message naming the problem?"""
    with pytest.raises(submission.SubmissionError, match=words):
        submission.read_notebook(write(tmp_path, content))


def test_oversized_files_are_refused_before_parsing(tmp_path):
    """Is a file over the size limit refused with advice to clear outputs?"""
    path = write(tmp_path, "{}" + " " * 2000)
    with pytest.raises(submission.SubmissionError, match="Clear Outputs"):
        submission.read_notebook(path, max_bytes=1000)


def grade_ids(nb):
    """The nbgrader grade_ids of the notebook's cells (exercises and graded cells), in order."""
    return [
        c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"] if "nbgrader" in c["metadata"]
    ]


def test_demo_cells_are_skipped_by_tag_id_or_text():
    """Are demonstration cells skipped even when a student removed their tags?"""
    nb = json.loads(ASSIGNMENT.student_notebook.read_text())
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("tags", None)
    kept = submission.code_cells(nb, RELEASE)
    assert not any("convergence_test(" in c.source or "viz_paths(" in c.source for c in kept)
    assert [c.grade_id for c in kept if c.grade_id] == grade_ids(nb)  # no exercise skipped


def test_an_edited_demo_cell_is_still_skipped_by_its_id():
    """Is a demo cell the student edited (same id, new text) still skipped?"""
    nb = json.loads(ASSIGNMENT.student_notebook.read_text())
    demo = next(c for c in nb["cells"] if "demo" in c.get("metadata", {}).get("tags", []))
    demo["source"] = "print('my own experiment')"
    demo["metadata"]["tags"] = []
    assert all("my own experiment" not in c.source for c in submission.code_cells(nb, RELEASE))


def test_odd_cells_do_not_break_selection():
    """Are cells with missing or odd fields tolerated (list sources, no metadata, retyped)?"""
    nb = {
        "cells": [
            {"cell_type": "code", "source": ["x = 1\n", "y = 2"]},
            {"cell_type": "markdown", "source": "class Adam: pass"},
            "not a cell",
            {"cell_type": "code", "source": 42, "metadata": "odd"},
        ]
    }
    kept = submission.code_cells(nb, RELEASE)
    assert [(c.index, c.source) for c in kept] == [(0, "x = 1\ny = 2"), (3, "")]


def test_the_released_notebook_is_a_valid_submission():
    """Does the untouched student notebook parse and yield its setup and exercise cells?"""
    nb = submission.read_notebook(ASSIGNMENT.student_notebook)
    assert nbformat.validate(nbformat.from_dict(nb)) is None
    kept = submission.code_cells(nb, RELEASE)
    assert [c.grade_id for c in kept if c.grade_id] == grade_ids(nb)  # exercises, graded cells
    assert len(kept) == 2 + len(grade_ids(nb))  # and the setup and the imports


@pytest.mark.parametrize(
    "content, words",
    [
        ("[" * 100_000 + "]" * 100_000, "nests lists or objects"),
        ('{"cells": [' + "{}," * 300_000 + "{}]}", "JSON values"),
        ('{"cells": [' + '"",' * 300_000 + '""]}', "JSON values"),
    ],
    ids=["nested 100,000 deep", "300,000 empty objects", "300,000 empty strings"],
)
def test_hostile_json_is_refused_before_it_is_parsed(tmp_path, content, words, monkeypatch):
    """Is JSON nested too deep, or with too many values, refused without being parsed?"""

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed")

    monkeypatch.setattr(submission.json, "loads", no_parsing)
    with pytest.raises(submission.SubmissionError, match=words):
        submission.read_notebook(write(tmp_path, content))


def test_a_clean_notebook_is_far_below_every_bound():
    """Is the released notebook far below the size and value bounds (a tenth at most)?"""
    data = ASSIGNMENT.student_notebook.read_bytes()
    assert len(data) * 10 < submission.MAX_BYTES
    skeleton = submission._STRING.sub(b'""', data)
    values = sum(skeleton.count(mark) for mark in (b",", b":", b"[", b"{"))
    assert values * 10 < submission.MAX_VALUES


def test_strings_with_brackets_and_escapes_do_not_count_as_nesting(tmp_path):
    """Are brackets and escaped quotes inside strings ignored by the depth bound?"""
    source = '"' + "[{" * 1000 + "\\\\" + '\\"' * 10 + '"'  # JSON: "[{[{...\\\"\"...\""
    path = write(tmp_path, '{"cells": [{"cell_type": "code", "source": ' + source + "}]}")
    (cell,) = submission.code_cells(submission.read_notebook(path), RELEASE)
    assert cell.source == "[{" * 1000 + "\\" + '"' * 10


def test_links_and_special_files_are_not_read(tmp_path):
    """Is a link or a FIFO refused, instead of followed or blocking the grader?"""
    target = write(tmp_path, "{}", name="real.ipynb")
    (tmp_path / "link.ipynb").symlink_to(target)
    os.mkfifo(tmp_path / "fifo.ipynb")
    with pytest.raises(submission.SubmissionError, match="link"):
        submission.read_notebook(tmp_path / "link.ipynb")
    with pytest.raises(submission.SubmissionError, match="not a regular file"):
        submission.read_notebook(tmp_path / "fifo.ipynb")


def test_fields_of_the_wrong_type_are_ignored():
    """Do ids, tags and sources of the wrong type (lists, numbers, dicts) never break selection?"""
    nb = {
        "cells": [
            {"cell_type": "code", "id": ["a", "list"], "source": "x = 1"},
            {"cell_type": "code", "id": {"a": 1}, "source": "y = 2", "metadata": {"tags": 5}},
            {"cell_type": "code", "source": "z = 3", "metadata": {"tags": [["demo"], 7, None]}},
            {"cell_type": ["code"], "source": "w = 4"},
            {"cell_type": "code", "source": {"text": "v"}, "metadata": {"nbgrader": []}},
            {"cell_type": "code", "source": "u = 5", "metadata": {"tags": ["demo"]}},
        ]
    }
    kept = submission.code_cells(nb, RELEASE)
    expected = [(0, "x = 1"), (1, "y = 2"), (2, "z = 3"), (4, "")]
    assert [(c.index, c.source) for c in kept] == expected


def test_lone_surrogates_never_reach_the_grader(tmp_path):
    """Is a lone surrogate in a source or a grade_id (valid JSON: "\ud800") made writable?"""
    cell = '{"cell_type": "code", "source": "print(\\"\\ud800\\")", "metadata": {"nbgrader": '
    cell += '{"grade_id": "adam\\udfff"}}}'
    path = write(tmp_path, '{"cells": [' + cell + "]}")
    (kept,) = submission.code_cells(submission.read_notebook(path), RELEASE)
    assert kept.source == 'print("\\ud800")' and kept.grade_id == "adam\\udfff"
    assert kept.source.encode("utf-8") and kept.grade_id.encode("utf-8")


@pytest.fixture
def other_lesson():
    """A second assignment of the course, "other_lesson" (lesson 1 renamed)."""
    assignments.register(dataclasses.replace(ASSIGNMENT, name="other_lesson"))
    yield
    assignments.unregister("other_lesson")


@pytest.mark.parametrize(
    "metadata, name, refused",
    [
        ({}, "optimizers_core.ipynb", None),
        ({}, "my_work.ipynb", None),
        ({}, "other_lesson.ipynb", "of other_lesson"),
        ({"course": {"assignment": "other_lesson"}}, "optimizers_core.ipynb", "of other_lesson"),
        ({"course": {"assignment": "optimizers_core"}}, "other_lesson.ipynb", None),
        ({"course": {"assignment": "../x"}}, "optimizers_core.ipynb", "an unknown assignment"),
        ({"course": {"assignment": 5}}, "optimizers_core.ipynb", None),
    ],
)
def test_a_notebook_of_another_lesson_is_refused(tmp_path, other_lesson, metadata, name, refused):
    """Is a notebook whose metadata (else file name) names another lesson refused, in words?"""
    nb = {"cells": [], "metadata": metadata}
    if refused is None:
        assert submission.check_assignment(nb, tmp_path / name, ASSIGNMENT) is None
    else:
        with pytest.raises(submission.SubmissionError, match=refused) as error:
            submission.check_assignment(nb, tmp_path / name, ASSIGNMENT)
        assert ASSIGNMENT.notebook in str(error.value) and "\n" not in str(error.value)


def test_fingerprint_is_the_files_sha256_or_none_when_it_cannot_be_read(tmp_path):
    """Is a submission's fingerprint the SHA-256 of its bytes, and None for a link, a folder,
    a missing file or one over the size limit (never read whole)?"""
    notebook = tmp_path / "a.ipynb"
    notebook.write_bytes(b'{"cells": []}')
    assert submission.fingerprint(notebook) == hashlib.sha256(b'{"cells": []}').hexdigest()
    (tmp_path / "link.ipynb").symlink_to(notebook)
    assert submission.fingerprint(tmp_path / "link.ipynb") is None
    assert submission.fingerprint(tmp_path) is None
    assert submission.fingerprint(tmp_path / "missing.ipynb") is None
    assert submission.fingerprint(notebook, max_bytes=4) is None
