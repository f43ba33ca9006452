"""Sample submissions of an assignment: the toolkit its `samples.py` builds them with.

A sample is built at test time from the committed student notebook (correct code comes from the
solution notebook's bodies), so no sample goes stale when the lesson changes. Each says what the
autograder should make of it, per exercise: "full" (every test of that exercise passes), "zero"
(none does: the class is missing or its update cannot even run), "defined-only" (only "is defined
and applies an update" passes: the update runs but is wrong) or "partial" (some but not all);
`{}` for a file that cannot be graded at all, which scores 0 as a whole.

    kit = Kit(ASSIGNMENT)
    Sample("sign", "...", kit.notebook_builder(lambda: kit.solved(adam=kit.edited(...))), ...)
"""

import copy
import functools
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

STUB = "        # YOUR CODE HERE\n        raise NotImplementedError()"
BODY_INDENT = " " * 8
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


@dataclass(frozen=True)
class Sample:
    """One submission and what the autograder should make of it."""

    name: str
    description: str
    build: Callable[[Path], Path]  # build(folder) writes the submission, returns its path
    expect: dict[str, str]  # exercise -> "full" | "zero" | "partial" | "defined-only"
    must_fail: tuple[str, ...] = ()  # substrings of names of tests that must fail
    must_pass: tuple[str, ...] = ()  # substrings of names of tests that must pass
    messages: tuple[str, ...] = ()  # substrings (any case) of the feedback on failures
    hint: str | None = None  # the hint key its failures must carry (the bug it stands for)


class Kit:
    """Notebook surgery on one assignment's student and solution notebooks."""

    def __init__(self, assignment):
        self.assignment = assignment

    def student_notebook(self) -> NotebookNode:
        """A fresh copy of the released student notebook."""
        return nbformat.read(str(self.assignment.student_notebook), as_version=4)

    @staticmethod
    def class_index(nb: NotebookNode, grade_id: str) -> int:
        """Index of the one cell of `nb` whose nbgrader grade_id is `grade_id`."""
        found = [
            i
            for i, cell in enumerate(nb.cells)
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id
        ]
        if len(found) != 1:
            raise LookupError(f"expected one cell with grade_id {grade_id!r}, found {len(found)}")
        return found[0]

    @functools.cache  # noqa: B019 - one kit per assignment, alive as long as the process
    def solution_body(self, grade_id: str) -> str:
        """The dedented code between the solution markers of the exercise `grade_id`."""
        solution = nbformat.read(str(self.assignment.solution_notebook), as_version=4)
        source = solution.cells[self.class_index(solution, grade_id)].source
        between = source.split(SOLUTION_MARKERS[0], 1)[1].split(SOLUTION_MARKERS[1], 1)[0]
        body = between.split("\n", 1)[1].rsplit("\n", 1)[0]  # whole lines only
        return textwrap.dedent(body) + "\n"

    def with_bodies(self, bodies: dict, nb: NotebookNode | None = None) -> NotebookNode:
        """A copy of `nb` (default: the student notebook) with the given {grade_id: body} of
        apply_gradients; each body replaces its class's stub, at any indentation."""
        nb = self.student_notebook() if nb is None else copy.deepcopy(nb)
        for grade_id, body in bodies.items():
            if body is None:
                continue
            cell = nb.cells[self.class_index(nb, grade_id)]
            if cell.source.count(STUB) != 1:
                raise ValueError(f"the {grade_id} cell has no stub left to replace")
            code = textwrap.indent(textwrap.dedent(body).strip("\n"), BODY_INDENT)
            cell.source = cell.source.replace(STUB, code)
        return nb

    def solved(self, bodies: dict | None = None) -> NotebookNode:
        """The student notebook with the solution bodies, except those given {grade_id: body}."""
        correct = {gid: self.solution_body(gid) for gid in self.assignment.exercises.values()}
        return self.with_bodies(correct | (bodies or {}))

    def edited(self, grade_id: str, *changes: tuple[str, str]) -> str:
        """The solution body of `grade_id` with each (old, new) text replaced: one bug."""
        body = self.solution_body(grade_id)
        for old, new in changes:
            if old not in body:
                raise ValueError(f"{old!r} is not in the solution body of {grade_id}")
            body = body.replace(old, new)
        return body

    def solved_cell(self, grade_id: str, *changes: tuple[str, str]) -> NotebookNode:
        """`solved()` with each (old, new) text replaced in the whole cell `grade_id`."""
        nb = self.solved()
        cell = nb.cells[self.class_index(nb, grade_id)]
        for old, new in changes:
            if old not in cell.source:
                raise ValueError(f"{old!r} is not in the cell {grade_id}")
            cell.source = cell.source.replace(old, new)
        return nb

    def solution_cell(self, grade_id: str) -> str:
        """The solution notebook's cell `grade_id` without its solution markers' lines."""
        solution = nbformat.read(str(self.assignment.solution_notebook), as_version=4)
        lines = solution.cells[self.class_index(solution, grade_id)].source.split("\n")
        return "\n".join(line for line in lines if line.strip() not in SOLUTION_MARKERS)

    def with_cells(self, cells: dict, prefix: str = "") -> NotebookNode:
        """The student notebook with each graded cell the solution's, except those given
        {grade_id: whole cell} (for exercises that are functions: no stub to fill), each of
        these after `prefix` (e.g. an import the cells use)."""
        nb = self.student_notebook()
        for grade_id in self.assignment.exercises.values():
            given = cells.get(grade_id)
            source = self.solution_cell(grade_id) if given is None else prefix + given.strip()
            nb.cells[self.class_index(nb, grade_id)].source = source
        return nb

    def cells_builder(self, cells: dict, prefix: str = "") -> Callable[[Path], Path]:
        """build(folder) for `with_cells(cells, prefix)`."""
        return self.notebook_builder(lambda: self.with_cells(cells, prefix))

    def file_builder(self, make: Callable[[], bytes]) -> Callable[[Path], Path]:
        """build(folder): write `make()` as folder/<assignment>.ipynb and return its path."""

        def build(folder: Path) -> Path:
            folder = Path(folder)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / self.assignment.notebook
            path.write_bytes(make())
            return path

        return build

    def notebook_builder(self, make: Callable[[], NotebookNode]) -> Callable[[Path], Path]:
        """build(folder) for a notebook made by `make()`."""
        return self.file_builder(lambda: nbformat.writes(make()).encode())

    def other_lesson(self, name: str = "optimizers_core") -> Callable[[Path], Path]:
        """build(folder) for lesson `name`'s released notebook saved under this assignment's
        notebook name (a student who handed in the wrong lesson)."""
        from autograder import assignments

        return self.file_builder(lambda: assignments.get(name).student_notebook.read_bytes())

    def per_class(self, word: str = "full", **exceptions: str) -> dict[str, str]:
        """An expectation: `word` for every exercise, except those given by name."""
        return {name: exceptions.get(name, word) for name in self.assignment.exercises}


def with_cell(nb: NotebookNode, source: str, outputs: list | None = None) -> NotebookNode:
    """`nb` with a new code cell (with stored `outputs`) right after the first code cell."""
    setup = next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code")
    cell = nbformat.v4.new_code_cell(textwrap.dedent(source).strip("\n"), outputs=outputs or [])
    nb.cells.insert(setup + 1, cell)
    return nb


def samples_of(assignment):
    """{name: Sample} of `assignment` (its folder's samples.py; {} if it has none)."""
    import importlib.util

    path = assignment.folder / "samples.py"
    if not path.is_file():
        return {}
    module_name = f"autograder.assignments.{assignment.name}.samples"
    try:
        return importlib.import_module(module_name).SAMPLES
    except ModuleNotFoundError:  # an assignment outside the package (a test's fixture)
        spec = importlib.util.spec_from_file_location(f"samples_{assignment.name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.SAMPLES
