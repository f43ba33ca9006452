"""Build the bundle students get, and prove it holds nothing hidden.

    python -m autograder release --out dist    # dist/optimizers-core-student/ and its .zip

The bundle: the student notebook, `course_utils` (with the public self-check expectations), a
student README, `environment.yml` and a `pyproject.toml` that installs `course_utils` (what the
notebook's Colab setup cell installs). Before anything is written out, every text file is checked
against every line of every solution body, the solution markers and the hidden reference data;
the build fails if any of it is inside.
"""

import shutil
import zipfile
from pathlib import Path

from autograder import generate, paths, references

NAME = "optimizers-core-student"
TEMPLATE = Path(__file__).with_name("release_template")
PACKAGE_FILES = ("*.py", "*.json")


class ReleaseError(Exception):
    """The bundle would leak something hidden; the message lists what and where."""


def assemble(folder):
    """Write the bundle's files into `folder` (which must not exist)."""
    folder = Path(folder)
    (folder / "notebooks").mkdir(parents=True)
    shutil.copy2(paths.STUDENT_NOTEBOOK, folder / "notebooks" / paths.NOTEBOOK_NAME)
    package = folder / "course_utils"
    package.mkdir()
    source = paths.ROOT / "course_utils"
    for pattern in PACKAGE_FILES:
        for path in sorted(source.glob(pattern)):
            shutil.copy2(path, package / path.name)
    links = generate.release_links()
    for template in sorted(TEMPLATE.iterdir()):
        text = template.read_text()
        for placeholder, url in links.items():
            text = text.replace(placeholder, url)
        (folder / template.name).write_text(text)


def hidden_markers():
    """Lines and strings that must never be in the bundle."""
    solution = generate.read_notebook(paths.SOLUTION_NOTEBOOK)
    lines = {line for body in generate.solution_bodies(solution) for line in body}
    strings = set(generate.SOLUTION_MARKERS)
    strings.add(references.REFERENCES.read_text().splitlines()[1].strip())  # its "about" line
    return lines, strings


def leaks(folder):
    """[(relative path, what)] for every hidden line, string or file found in `folder`."""
    folder = Path(folder)
    lines, strings = hidden_markers()
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if (
            relative.parts[0] in ("solutions", "autograder", "tests")
            or path.name == references.REFERENCES.name
        ):
            found.append((str(relative), "a hidden file"))
            continue
        try:
            text = _text(path)
        except UnicodeDecodeError:
            found.append((str(relative), "a binary file"))
            continue
        found += [(str(relative), f"the string {s!r}") for s in strings if s in text]
        found += [
            (str(relative), f"the solution line {line!r}")
            for line in sorted({raw.strip() for raw in text.splitlines()} & lines)
        ]
    return found


def _text(path):
    """A file's text; for a notebook, the text of its cells and outputs, JSON decoded."""
    if path.suffix != ".ipynb":
        return path.read_text()
    nb = generate.read_notebook(path)
    parts = [cell.source for cell in nb.cells]
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(str(output.get("text", "")))
            parts += [str(v) for v in output.get("data", {}).values()]
    return "\n".join(parts)


def build(out_dir):
    """Assemble, check and zip the bundle under `out_dir`; return (folder, zip path)."""
    out_dir = Path(out_dir)
    folder, archive = out_dir / NAME, out_dir / f"{NAME}.zip"
    shutil.rmtree(folder, ignore_errors=True)
    archive.unlink(missing_ok=True)
    assemble(folder)
    problems = leaks(folder)
    if problems:
        shutil.rmtree(folder)
        listed = "\n".join(f"  {path}: {what}" for path, what in problems)
        raise ReleaseError(f"the student release would contain hidden material:\n{listed}")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            zf.write(path, Path(NAME) / path.relative_to(folder))
    return folder, archive
