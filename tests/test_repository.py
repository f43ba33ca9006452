"""Rules of the repository itself: clean notebooks, matching dependency lists."""

import json
import re

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import yaml

from autograder import assignments, paths

ROOT = paths.ROOT


def tracked_notebooks():
    skip = {".venv", "out", "node_modules", ".ipynb_checkpoints"}
    return [
        p
        for p in ROOT.rglob("*.ipynb")
        if not skip.intersection(p.relative_to(ROOT).parts)
        and not any(part.startswith(".") for part in p.relative_to(ROOT).parts)
    ]


def test_no_notebook_carries_outputs():
    """Is every notebook in the repository committed without outputs and execution counts?"""
    notebooks = tracked_notebooks()
    for lesson in assignments.all_assignments():
        assert lesson.solution_notebook in notebooks and lesson.student_notebook in notebooks
    dirty = []
    for path in notebooks:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code" and (cell["outputs"] or cell["execution_count"]):
                dirty.append(path.relative_to(ROOT))
                break
    assert dirty == [], "clear them: jupyter nbconvert --clear-output --inplace <notebook>"


def requirement_name(spec):
    return re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_the_same_packages_as_pyproject():
    """Does environment.yml parse, pin a Python that pyproject allows and install exactly
    pyproject's packages?"""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    minimum = project["requires-python"].split(">=")[1].split()[0]
    version = tuple(int(n) for n in python.split("=")[1].split("."))
    assert version >= tuple(int(n) for n in minimum.split("."))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    env_specs = {requirement_name(s): s for s in pip if not s.startswith("-e")}
    wanted = project["dependencies"] + [
        s for extra in project["optional-dependencies"].values() for s in extra
    ]
    assert env_specs == {requirement_name(s): s for s in wanted}
    assert "-e ." in pip


def test_readme_lists_every_lesson_with_its_colab_link():
    """Does the README list each lesson, in order, with a Colab link pointing where
    [tool.course] says the release lives?"""
    from autograder.generate import release_links

    readme = (ROOT / "README.md").read_text()
    positions = []
    for lesson in assignments.all_assignments():
        link = f"]({release_links(lesson.notebook)['COLAB_URL']})"
        assert link in readme, lesson.name
        positions.append(readme.index(link))
    assert positions == sorted(positions)
