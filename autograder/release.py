"""Build the bundle students get, and prove it holds nothing hidden.

    python -m autograder release --out dist    # dist/optimizers-core-student/ and its .zip

The bundle: every lesson's student notebook, `course_utils` (with the public self-check
expectations), a student README listing the lessons in order, each with its Colab link,
`environment.yml` and a `pyproject.toml` that installs `course_utils` (what the notebooks' Colab
setup cells install). Before anything is written out, every text file is checked against every
line of every lesson's solution bodies, the solution markers and the hidden reference data; the
build fails if any of it is inside.
"""

import shutil
import zipfile
from pathlib import Path

from autograder import assignments, generate, paths

NAME = "optimizers-core-student"
TEMPLATE = Path(__file__).with_name("release_template")
PACKAGE_FILES = ("*.py", "*.json", "expectations/*.json")
HIDDEN_NAMES = ("references.json",)


class ReleaseError(Exception):
    """The bundle would leak something hidden; the message lists what and where."""


def assemble(folder):
    """Write the bundle's files into `folder` (which must not exist)."""
    folder = Path(folder)
    (folder / "notebooks").mkdir(parents=True)
    lessons = assignments.all_assignments()
    for lesson in lessons:
        shutil.copy2(lesson.student_notebook, folder / "notebooks" / lesson.notebook)
    package = folder / "course_utils"
    package.mkdir()
    source = paths.ROOT / "course_utils"
    for pattern in PACKAGE_FILES:
        for path in sorted(source.glob(pattern)):
            target = package / path.relative_to(source)
            target.parent.mkdir(exist_ok=True)
            shutil.copy2(path, target)
    for template in sorted(TEMPLATE.iterdir()):
        text = template.read_text().replace("LESSONS", lesson_list(lessons))
        links = generate.release_links(lessons[0].notebook)
        for placeholder, url in links.items():
            text = text.replace(placeholder, url)
        (folder / template.name).write_text(text)


def lesson_list(lessons):
    """The README's list of lessons: title, what it teaches, its notebook and Colab link."""
    lines = []
    for number, lesson in enumerate(lessons, 1):
        colab = generate.release_links(lesson.notebook)["COLAB_URL"]
        lines.append(
            f"{number}. **{lesson.title}**: {lesson.teaches}. "
            f"`notebooks/{lesson.notebook}` ([open in Colab]({colab}))"
        )
    return "\n".join(lines)


def hidden_markers():
    """Lines and strings that must never be in the bundle, from every lesson."""
    lines, strings = set(), set(generate.SOLUTION_MARKERS)
    for lesson in assignments.all_assignments():
        solution = generate.read_notebook(lesson.solution_notebook)
        lines |= {line for body in generate.solution_bodies(solution) for line in body}
        about = lesson.references_path.read_text().splitlines()[1].strip()  # its "about" line
        strings.add(about)
    return lines, strings


def leaks(folder):
    """[(relative path, what)] for every hidden line, string or file found in `folder`."""
    folder = Path(folder)
    lines, strings = hidden_markers()
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if relative.parts[0] in ("solutions", "autograder", "tests") or path.name in HIDDEN_NAMES:
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
