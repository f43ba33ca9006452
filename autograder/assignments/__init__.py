"""The course: its assignments, in order, and how a command finds the one it works on.

Each assignment is a folder here (see `autograder.assignment`). `COURSE` lists them in the order
students take them; `get(name)` loads one, `infer(...)` picks one from a notebook's name or
metadata. Only each folder's `guest.py` is visible inside the sandbox; this file and the specs
are not needed there (the sandbox imports nothing from them).
"""

import importlib
import re
from pathlib import Path

COURSE = ("optimizers_core", "optimizers_2d", "adamw_training", "sam_sharpness")
NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")  # no "/", "..", spaces or upper case
METADATA_KEY = "course"  # notebook metadata: {"course": {"assignment": name}}

_extra = {}  # assignments registered at run time (a test's fixture), by name


class UnknownAssignment(ValueError):
    """An assignment name that is not in the course, or that cannot be told from the input."""


def names():
    """Every assignment's name, the course's first, in order, then any registered ones. A
    course assignment whose folder is absent is left out (a Gradescope zip holds one)."""
    here = Path(__file__).parent
    present = [n for n in COURSE if (here / n / "spec.py").is_file()]
    return present + [n for n in _extra if n not in COURSE]


def _choices():
    return ", ".join(names())


def get(name):
    """The Assignment called `name`; a one-line UnknownAssignment otherwise."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise UnknownAssignment(f"{name!r} is not an assignment name (choose from {_choices()})")
    if name in _extra:
        return _extra[name]
    if name not in COURSE:
        raise UnknownAssignment(f"no assignment {name!r} in the course (choose from {_choices()})")
    return importlib.import_module(f"autograder.assignments.{name}.spec").ASSIGNMENT


def all_assignments():
    return [get(name) for name in names()]


def register(assignment):
    """Add an assignment defined elsewhere (a test's fixture); returns it."""
    if not NAME.fullmatch(assignment.name):
        raise UnknownAssignment(f"{assignment.name!r} is not an assignment name")
    assignment.validate()
    _extra[assignment.name] = assignment
    return assignment


def known(assignment):
    """`assignment`, registered in this process if it is not yet (a worker receives the
    Assignment of its task; the sandbox must show that assignment's guest file)."""
    if assignment.name not in names():
        _extra[assignment.name] = assignment
    return assignment


def unregister(name):
    _extra.pop(name, None)


def of_notebook(nb=None, path=None):
    """The name of the assignment a notebook belongs to, from its metadata, else its file name;
    None if neither names a known assignment."""
    if nb is not None:
        meta = nb.get("metadata", {}) if hasattr(nb, "get") else {}
        tagged = meta.get(METADATA_KEY, {}) if isinstance(meta, dict) else {}
        name = tagged.get("assignment") if isinstance(tagged, dict) else None
        if isinstance(name, str) and name in names():
            return name
    if path is not None and Path(path).stem in names():
        return Path(path).stem
    return None


def infer(paths_found):
    """The one assignment named by the notebooks `paths_found`; UnknownAssignment when they
    name none or several (the message lists the choices)."""
    found = sorted({Path(p).stem for p in paths_found} & set(names()))
    if len(found) == 1:
        return get(found[0])
    if not found:
        raise UnknownAssignment(
            f"cannot tell the assignment: no notebook named after one; use --assignment "
            f"(choose from {_choices()})"
        )
    raise UnknownAssignment(
        f"notebooks of several assignments ({', '.join(found)}): use --assignment to pick one"
    )
