"""Where the course keeps its files: named once here, used everywhere else."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = ROOT / "solutions"  # solutions/<assignment>.ipynb, the sources of truth
STUDENT_DIR = ROOT / "notebooks"  # notebooks/<assignment>.ipynb, generated

# Cells carrying one of these tags only demonstrate (runs, plots) or self-check; graders skip them.
DEMO_TAG = "demo"
SELF_CHECK_TAG = "self-check"
SKIPPED_TAGS = (DEMO_TAG, SELF_CHECK_TAG)
PYPROJECT = ROOT / "pyproject.toml"
