"""The example submissions bundled under examples/ for `make demo`, built from the samples.

    python -m tests.autograder.examples          # rewrite examples/
    python -m tests.autograder.examples --check  # exit 1 if examples/ is stale

Each example student is one sample of `samples.py`, so the demo shows the grader on a correct
submission in another style, typical bugs and a broken cell, and never drifts from the lesson.
"""

import sys
import tempfile
from pathlib import Path

from autograder import paths

from .samples import SAMPLES

EXAMPLES_DIR = paths.ROOT / "examples"
STUDENTS = {
    "alice": "correct_assign_style",
    "bob": "momentum_shared_state",
    "carol": "untouched",
    "dave": "syntax_error_momentum",
    "erin": "adam_no_bias_correction",
}


def build(folder):
    """Write every example student's notebook under `folder`; return {relative path: bytes}."""
    files = {}
    for student, sample in STUDENTS.items():
        notebook = SAMPLES[sample].build(folder / student)
        files[notebook.relative_to(folder)] = notebook.read_bytes()
    return files


def main(argv):
    with tempfile.TemporaryDirectory() as tmp:
        fresh = build(Path(tmp))
    current = {p.relative_to(EXAMPLES_DIR): p.read_bytes() for p in EXAMPLES_DIR.rglob("*.ipynb")}
    if "--check" in argv:
        stale = sorted(str(p) for p in set(fresh) | set(current) if fresh.get(p) != current.get(p))
        print("\n".join(f"stale: examples/{p}" for p in stale) or "examples are current")
        return 1 if stale else 0
    build(EXAMPLES_DIR)
    print(f"wrote {len(fresh)} example submissions under {EXAMPLES_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
