"""The student release: what students get, and nothing hidden in it."""

import shutil
import zipfile

import pytest

from autograder import assignments, generate, release

LESSONS = assignments.all_assignments()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return release.build(tmp_path_factory.mktemp("dist"))


def test_bundle_holds_the_student_files(bundle):
    """Are every lesson's student notebook, course_utils with every lesson's self-check
    expectations, a README, environment.yml and pyproject inside?"""
    folder, archive = bundle
    names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    notebooks = sorted(n for n in names if n.startswith("notebooks/"))
    assert notebooks == sorted(f"notebooks/{lesson.notebook}" for lesson in LESSONS)
    assert "course_utils/expectations/optimizers_2d.json" in names
    assert (
        "course_utils/selfcheck.py" in names
        and "course_utils/expectations/optimizers_core.json" in names
    )
    assert {"README.md", "environment.yml", "pyproject.toml"} <= set(names)
    assert not any(n.startswith(("solutions", "autograder", "tests")) for n in names)
    with zipfile.ZipFile(archive) as zf:
        assert sorted(n.split("/", 1)[1] for n in zf.namelist()) == names


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.name for lesson in LESSONS])
def test_links_point_at_the_release(bundle, lesson):
    """Does the README list each lesson, in order, with its own Colab link, and does each
    notebook's setup cell point at the published release?"""
    folder, _ = bundle
    readme = (folder / "README.md").read_text()
    notebook = (folder / "notebooks" / lesson.notebook).read_text()
    colab = generate.release_links(lesson.notebook)["COLAB_URL"]
    assert f"**{lesson.title}**" in readme and f"({colab})" in readme
    assert "COLAB_URL" not in readme and "LESSONS" not in readme
    assert "archive/refs/heads/" in notebook and "RELEASE_ZIP_URL" not in notebook


def test_the_clean_bundle_has_no_leaks(bundle):
    """Does the leak check find nothing in the bundle as built?"""
    assert release.leaks(bundle[0]) == []


@pytest.mark.parametrize(
    "plant",
    [
        lambda f: shutil.copy(LESSONS[0].solutions_module, f / "course_utils" / "extra.py"),
        lambda f: shutil.copy(LESSONS[1].solution_notebook, f / "notebooks" / "copy.ipynb"),
        lambda f: (f / "notes.txt").write_text("            var.assign_sub(velocity)\n"),
        lambda f: shutil.copy(LESSONS[1].references_path, f / "data.json"),
        lambda f: (f / "notes.md").write_text(LESSONS[1].references_path.read_text()[:300]),
    ],
    ids=[
        "solutions-module",
        "lesson-2-solution-notebook",
        "one-solution-line",
        "lesson-2-reference-data",
        "lesson-2-reference-excerpt",
    ],
)
def test_hidden_material_is_caught(bundle, tmp_path, plant):
    """Is each kind of hidden material found when planted in a copy of the bundle?"""
    folder = tmp_path / "bundle"
    shutil.copytree(bundle[0], folder)
    plant(folder)
    assert release.leaks(folder) != []
