"""Where the course keeps its files: named once here, used everywhere else."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = ROOT / "solutions"
STUDENT_DIR = ROOT / "notebooks"

NOTEBOOK_NAME = "optimizers_core.ipynb"
SOLUTION_NOTEBOOK = SOLUTIONS_DIR / NOTEBOOK_NAME
STUDENT_NOTEBOOK = STUDENT_DIR / NOTEBOOK_NAME
SOLUTIONS_MODULE = SOLUTIONS_DIR / "optimizers.py"

# Cells carrying one of these tags only demonstrate (runs, plots) or self-check; graders skip them.
DEMO_TAG = "demo"
SELF_CHECK_TAG = "self-check"
SKIPPED_TAGS = (DEMO_TAG, SELF_CHECK_TAG)
PYPROJECT = ROOT / "pyproject.toml"
