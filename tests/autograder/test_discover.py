"""Finding submissions in the layouts instructors have."""

import dataclasses
import os

import pytest

from autograder import assignments, discover
from autograder.assignments.optimizers_core.spec import ASSIGNMENT


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    return path


def test_one_notebook(tmp_path):
    """Is a single notebook one student named after the file?"""
    path = touch(tmp_path / "alice.ipynb")
    assert discover.find_submissions(path) == [discover.Found("alice", path)]


def test_folder_per_student_and_nbgrader_tree(tmp_path):
    """Are PATH/<student>/<nb> and submitted/<student>/<assignment>/<nb> both understood?"""
    a = touch(tmp_path / "alice" / "optimizers_core.ipynb")
    b = touch(tmp_path / "bob" / "optimizers" / "optimizers_core.ipynb")
    touch(tmp_path / "bob" / "optimizers" / ".ipynb_checkpoints" / "optimizers_core.ipynb")
    c = touch(tmp_path / "carol" / "my_work.ipynb")
    found = discover.find_submissions(tmp_path)
    assert [(f.student, f.notebook) for f in found] == [("alice", a), ("bob", b), ("carol", c)]


def test_missing_or_ambiguous_notebooks_are_explained(tmp_path):
    """Does a folder with no notebook, or several unnamed ones, give a reason instead?"""
    (tmp_path / "dave").mkdir()
    touch(tmp_path / "erin" / "a.ipynb")
    touch(tmp_path / "erin" / "b.ipynb")
    found = {f.student: f for f in discover.find_submissions(tmp_path)}
    assert found["dave"].notebook is None and "no notebook" in found["dave"].problem
    assert found["erin"].notebook is None and "several notebooks" in found["erin"].problem


def test_links_are_not_followed_out_of_the_submission(tmp_path):
    """Is a student folder that is a link, or a notebook linking outside, refused?"""
    secret = touch(tmp_path / "outside" / "optimizers_core.ipynb")
    subs = tmp_path / "subs"
    (subs / "frank").mkdir(parents=True)
    (subs / "frank" / "optimizers_core.ipynb").symlink_to(secret)
    (subs / "grace").symlink_to(secret.parent)
    found = {f.student: f for f in discover.find_submissions(subs)}
    assert found["frank"].notebook is None and "outside" in found["frank"].problem
    assert found["grace"].notebook is None and "link" in found["grace"].problem


def test_x_folder_and_x_notebook_are_reported_not_merged(tmp_path):
    """Do `X/` and `X.ipynb` give one student X whose problem names both, instead of one?"""
    touch(tmp_path / "x" / "optimizers_core.ipynb")
    touch(tmp_path / "x.ipynb")
    touch(tmp_path / "y.ipynb")
    found = {f.student: f for f in discover.find_submissions(tmp_path)}
    assert sorted(found) == ["x", "y"]
    assert found["x"].notebook is None
    assert "2 submissions are named x" in found["x"].problem and "x.ipynb" in found["x"].problem
    assert found["y"].notebook == tmp_path / "y.ipynb"


def test_names_that_are_not_utf8_or_not_printable_keep_a_faithful_printable_id(tmp_path):
    """Is a folder named with bytes that are not UTF-8, or with a newline, a printable id?"""
    raw = os.fsdecode(b"caf\xe9")  # Latin-1, not UTF-8
    touch(tmp_path / raw / "optimizers_core.ipynb")
    touch(tmp_path / "two\nlines" / "optimizers_core.ipynb")
    students = [f.student for f in discover.find_submissions(tmp_path)]
    assert students == ["caf\\xe9", "two\\nlines"]
    assert all(s.isprintable() and s.encode("utf-8") for s in students)


def test_one_unreadable_folder_does_not_stop_discovery(tmp_path, monkeypatch):
    """Does a folder that cannot be listed become that student's problem, the others found?"""
    touch(tmp_path / "alice" / "optimizers_core.ipynb")
    touch(tmp_path / "bob" / "optimizers_core.ipynb")
    candidates = discover._candidates

    def unreadable_bob(folder):
        if folder.name == "bob":
            raise PermissionError(13, "Permission denied")
        return candidates(folder)

    monkeypatch.setattr(discover, "_candidates", unreadable_bob)
    found = {f.student: f for f in discover.find_submissions(tmp_path)}
    assert found["alice"].notebook is not None
    assert found["bob"].notebook is None
    assert "could not be read: PermissionError: Permission denied" in found["bob"].problem


def test_searching_a_student_folder_is_bounded(tmp_path, monkeypatch):
    """Is a student's folder with too many files refused, and a notebook too deep ignored?"""
    monkeypatch.setattr(discover, "MAX_ENTRIES", 20)
    for i in range(25):
        touch(tmp_path / "many" / f"file{i}.txt")
    deep = tmp_path / "deep" / "/".join("d" * (discover.MAX_DEPTH + 1)) / "optimizers_core.ipynb"
    touch(deep)
    found = {f.student: f for f in discover.find_submissions(tmp_path)}
    assert "more than 20 files" in found["many"].problem
    assert found["deep"].notebook is None and "no notebook" in found["deep"].problem


@pytest.fixture
def second_lesson():
    """A second assignment of the course, "other_lesson" (lesson 1 renamed)."""
    assignments.register(dataclasses.replace(ASSIGNMENT, name="other_lesson"))
    yield "other_lesson.ipynb"
    assignments.unregister("other_lesson")


def test_the_assignments_notebook_is_picked_among_several(tmp_path, second_lesson):
    """With the assignment given, is its notebook picked among others; without it, are two
    lessons' notebooks in one folder refused, and one lesson's next to other files picked?"""
    mine = touch(tmp_path / "ann" / ASSIGNMENT.notebook)
    other = touch(tmp_path / "ann" / second_lesson)
    touch(tmp_path / "ann" / "scratch.ipynb")
    (lone,) = discover.find_submissions(tmp_path, ASSIGNMENT.notebook)
    assert lone == discover.Found("ann", mine)
    assert discover.find_submissions(tmp_path, second_lesson)[0].notebook == other
    (both,) = discover.find_submissions(tmp_path)
    assert both.notebook is None and "notebooks of several lessons" in both.problem
    other.unlink()
    assert discover.find_submissions(tmp_path)[0].notebook == mine  # named after a lesson
    missing = discover.find_submissions(tmp_path, second_lesson)[0]
    assert missing.notebook is None and f"none named {second_lesson}" in missing.problem


def test_a_course_is_its_submitted_folder_with_a_config_or_nbgrader_layout(tmp_path):
    """Is a course found above submitted/ (config or layout), and nothing else taken for one?"""
    with_config = tmp_path / "a"
    (with_config / "submitted").mkdir(parents=True)
    (with_config / "nbgrader_config.py").write_text("")
    touch(tmp_path / "b" / "submitted" / "alice" / ASSIGNMENT.name / ASSIGNMENT.notebook)
    plain = touch(tmp_path / "c" / "submitted" / "alice" / ASSIGNMENT.notebook)  # not nbgrader's
    (tmp_path / "c" / "examples").mkdir()
    (tmp_path / "c" / "nbgrader_config.py").write_text("")

    assert discover.nbgrader_course_of(with_config / "submitted") == with_config.resolve()
    assert discover.nbgrader_course_of(tmp_path / "b" / "submitted") == (tmp_path / "b").resolve()
    assert discover.nbgrader_course_of(tmp_path / "c" / "examples") is None  # not its submitted/
    assert discover.nbgrader_course_of(plain) is None
    (tmp_path / "c" / "nbgrader_config.py").unlink()
    assert discover.nbgrader_course_of(tmp_path / "c" / "submitted") is None


def test_in_nbgrader_tree_a_submission_is_the_assignments_folder_only(tmp_path, second_lesson):
    """In submitted/<student>/<assignment>/, does each assignment's batch hold exactly the
    students who submitted it (the notebook found in that folder, whatever its name), with
    links refused and the other lessons' folders never taken for it?"""
    submitted = tmp_path / "submitted"
    mine = touch(submitted / "ann" / ASSIGNMENT.name / ASSIGNMENT.notebook)
    other = touch(submitted / "ann" / "other_lesson" / second_lesson)
    renamed = touch(submitted / "bob" / "other_lesson" / "my copy.ipynb")
    touch(submitted / "bob" / "hw0" / "hw0.ipynb")  # an assignment of nbgrader's, not ours
    (submitted / "carol" / ASSIGNMENT.name).mkdir(parents=True)  # submitted nothing in it
    (submitted / "dave").mkdir()
    (submitted / "dave" / ASSIGNMENT.name).symlink_to(mine.parent)
    touch(submitted / "stray.ipynb")  # no student's folder

    assert discover.nbgrader_assignments(submitted) == sorted(
        [ASSIGNMENT.name, "hw0", "other_lesson"]
    )
    found = discover.find_submissions(submitted, ASSIGNMENT.notebook, within=ASSIGNMENT.name)
    assert [f.student for f in found] == ["ann", "carol", "dave"]
    assert found[0] == discover.Found("ann", mine)
    assert found[1].notebook is None and "no notebook" in found[1].problem
    assert found[2].notebook is None and "link" in found[2].problem
    found = discover.find_submissions(submitted, second_lesson, within="other_lesson")
    assert found == [discover.Found("ann", other), discover.Found("bob", renamed)]
    assert discover.find_submissions(submitted, "nothing.ipynb", within="nothing") == []
