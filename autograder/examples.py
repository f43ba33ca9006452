"""Each assignment's example submissions, bundled for `make demo`, built from its samples.

    python -m autograder examples [--assignment NAME] [--check]

An example student is one sample of the assignment's `samples.py` (`Assignment.examples`: student
-> sample), written to `<assignment folder>/examples/<student>/<assignment>.ipynb`: a correct
submission in another style, typical bugs, a broken cell; they never drift from the lesson.
"""

import tempfile
from pathlib import Path

from autograder.samples import samples_of


def build(assignment, folder):
    """Write every example student's notebook under `folder`; return {relative path: bytes}."""
    samples, files = samples_of(assignment), {}
    for student, sample in assignment.examples.items():
        notebook = samples[sample].build(Path(folder) / student)
        files[notebook.relative_to(folder)] = notebook.read_bytes()
    return files


def update(assignment, check=False):
    """Rewrite the assignment's examples (or, with `check`, only list them): the stale paths."""
    target = assignment.examples_dir
    with tempfile.TemporaryDirectory() as tmp:
        fresh = build(assignment, Path(tmp))
    current = {p.relative_to(target): p.read_bytes() for p in target.rglob("*.ipynb")}
    stale = sorted(p for p in set(fresh) | set(current) if fresh.get(p) != current.get(p))
    if not check:
        for relative in stale:
            path = target / relative
            if relative in fresh:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(fresh[relative])
            else:
                path.unlink()
    return [target / p for p in stale]
