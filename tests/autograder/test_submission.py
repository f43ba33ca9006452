"""Reading submissions defensively and choosing the cells to run."""

import json

import nbformat
import pytest

from autograder import paths, submission


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


def test_demo_cells_are_skipped_by_tag_id_or_text():
    """Are demonstration cells skipped even when a student removed their tags?"""
    nb = json.loads(paths.STUDENT_NOTEBOOK.read_text())
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("tags", None)
    kept = submission.code_cells(nb)
    assert not any("convergence_test(" in c.source or "viz_paths(" in c.source for c in kept)
    assert [c.grade_id for c in kept if c.grade_id] == ["gradient_descent", "momentum", "adam"]


def test_an_edited_demo_cell_is_still_skipped_by_its_id():
    """Is a demo cell the student edited (same id, new text) still skipped?"""
    nb = json.loads(paths.STUDENT_NOTEBOOK.read_text())
    demo = next(c for c in nb["cells"] if "demo" in c.get("metadata", {}).get("tags", []))
    demo["source"] = "print('my own experiment')"
    demo["metadata"]["tags"] = []
    assert all("my own experiment" not in c.source for c in submission.code_cells(nb))


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
    kept = submission.code_cells(nb)
    assert [(c.index, c.source) for c in kept] == [(0, "x = 1\ny = 2"), (3, "")]


def test_the_released_notebook_is_a_valid_submission():
    """Does the untouched student notebook parse and yield its setup and exercise cells?"""
    nb = submission.read_notebook(paths.STUDENT_NOTEBOOK)
    assert nbformat.validate(nbformat.from_dict(nb)) is None
    assert len(submission.code_cells(nb)) == 5  # setup, imports, three exercises
