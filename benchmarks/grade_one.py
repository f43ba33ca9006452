"""One submission, cold: this grader on the solution notebook vs nbconvert on the original guide.

    .venv/bin/python benchmarks/grade_one.py [--repeat N]

Both start as fresh processes, one after the other, in one run:

- `python -m autograder grade solutions/optimizers_core.ipynb --jobs 1`: the sandbox (bwrap),
  TensorFlow imported there and in the grader, every cell, the 33 points' worth of cases, the
  hidden tests, results.json and the feedback page with its plots;
- `jupyter nbconvert --execute benchmarks/seed_optimizers_core.ipynb`: the original guide's code
  run top to bottom in a fresh kernel, as nbgrader's autograde executes a submission.

Prints both wall times (medians), their ratio and the grader's peak memory.
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import measure

from autograder import paths

SEED = Path(__file__).with_name("seed_optimizers_core.ipynb")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each")
    args = parser.parse_args()
    print(measure.machine())
    bin_dir = Path(sys.executable).parent
    ours, theirs, peaks = [], [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            grader = [sys.executable, "-m", "autograder", "grade", str(paths.SOLUTION_NOTEBOOK)]
            run = measure.run(grader + ["--out", f"{tmp}/out", "--jobs", "1"])
            if run.returncode != 0 or "33 / 33" not in run.output:
                raise SystemExit(f"the grader failed:\n{run.output[-3000:]}")
            ours.append(run.seconds)
            peaks.append(run.worst())
            nbconvert = [str(bin_dir / "jupyter"), "nbconvert", "--to", "notebook", "--execute"]
            run = measure.run(nbconvert + ["--output-dir", tmp, str(SEED)])
            if run.returncode != 0:
                raise SystemExit(f"nbconvert failed:\n{run.output[-3000:]}")
            theirs.append(run.seconds)
    a, b = statistics.median(ours), statistics.median(theirs)
    rss, pss = (max(p[i] for p in peaks) / 2**20 for i in (0, 1))
    print(f"{'one submission, cold (fresh process)':<52}{'wall (s)':>10}")
    print(f"{'nbconvert --execute, original guide (seed)':<52}{b:>10.1f}")
    print(f"{'python -m autograder grade, solution (bwrap)':<52}{a:>10.1f}")
    print(f"{'speed-up (nbconvert / grader)':<52}{b / a:>9.1f}x")
    print(f"grader's peak memory: {rss:.0f} MiB RSS summed over its tree, {pss:.0f} MiB PSS")


if __name__ == "__main__":
    main()
