"""Finding submissions in the layouts instructors have."""

from autograder import discover


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
