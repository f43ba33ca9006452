"""Grade one submission with this grader, and execute it whole with nbconvert (what nbgrader's
autograde does), one after the other in one run; print both wall times and their ratio.

    .venv/bin/python benchmarks/grader_vs_nbconvert.py [NOTEBOOK] [--repeat N]

Both start cold, as separate processes: `python -m autograder grade NOTEBOOK` (sandboxed, all
33 points' worth of hidden cases) and `jupyter nbconvert --execute` (a fresh kernel, every cell,
the nine 2000-step runs and the plots included). The default submission is the solution notebook.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder import assignments

LESSON_1 = assignments.get("optimizers_core")


def seconds(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", type=Path, default=LESSON_1.solution_notebook)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    ours, theirs = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            ours.append(
                seconds(
                    [
                        sys.executable,
                        "-m",
                        "autograder",
                        "grade",
                        str(args.notebook),
                        "--out",
                        f"{tmp}/out",
                        "--jobs",
                        "1",
                    ]
                )
            )
            theirs.append(
                seconds(
                    [
                        str(bin_dir / "jupyter"),
                        "nbconvert",
                        "--to",
                        "notebook",
                        "--execute",
                        "--output-dir",
                        tmp,
                        str(args.notebook),
                    ]
                )
            )
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"{'one submission, cold':<44}{'wall (s)':>10}")
    print(f"{'nbconvert --execute (nbgrader autograde)':<44}{b:>10.1f}")
    print(f"{'python -m autograder grade (sandboxed)':<44}{a:>10.1f}")
    print(f"{'speed-up':<44}{b / a:>9.1f}x")


if __name__ == "__main__":
    main()
