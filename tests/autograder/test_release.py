"""The student release: what students get, and nothing hidden in it."""

import shutil
import zipfile

import pytest

from autograder import paths, release


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return release.build(tmp_path_factory.mktemp("dist"))


def test_bundle_holds_the_student_files(bundle):
    """Are the student notebook, course_utils, a README, environment.yml and pyproject inside?"""
    folder, archive = bundle
    names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert "notebooks/optimizers_core.ipynb" in names
    assert "course_utils/selfcheck.py" in names and "course_utils/expectations/optimizers_core.json" in names
    assert {"README.md", "environment.yml", "pyproject.toml"} <= set(names)
    assert not any(n.startswith(("solutions", "autograder", "tests")) for n in names)
    with zipfile.ZipFile(archive) as zf:
        assert sorted(n.split("/", 1)[1] for n in zf.namelist()) == names


def test_links_point_at_the_release(bundle):
    """Do the README's Colab link and the notebook's setup cell point at the published release?"""
    folder, _ = bundle
    readme = (folder / "README.md").read_text()
    notebook = (folder / "notebooks" / paths.NOTEBOOK_NAME).read_text()
    assert "https://colab.research.google.com/github/" in readme and "COLAB_URL" not in readme
    assert "archive/refs/heads/" in notebook and "RELEASE_ZIP_URL" not in notebook


def test_the_clean_bundle_has_no_leaks(bundle):
    """Does the leak check find nothing in the bundle as built?"""
    assert release.leaks(bundle[0]) == []


@pytest.mark.parametrize(
    "plant",
    [
        lambda f: shutil.copy(paths.SOLUTIONS_MODULE, f / "course_utils" / "extra.py"),
        lambda f: shutil.copy(paths.SOLUTION_NOTEBOOK, f / "notebooks" / "copy.ipynb"),
        lambda f: (f / "notes.txt").write_text("            var.assign_sub(velocity)\n"),
        lambda f: shutil.copytree(paths.ROOT / "autograder" / "references", f / "data"),
    ],
    ids=["solutions-module", "solution-notebook", "one-solution-line", "reference-data"],
)
def test_hidden_material_is_caught(bundle, tmp_path, plant):
    """Is each kind of hidden material found when planted in a copy of the bundle?"""
    folder = tmp_path / "bundle"
    shutil.copytree(bundle[0], folder)
    plant(folder)
    assert release.leaks(folder) != []
