"""Run All of the course's solution notebook against the original guide's eager code.

Both notebooks run top to bottom in a fresh kernel (nbclient), one after the other, in one run;
the script prints both wall times (medians), the median of the ratios of each pair of runs (the
machine's speed drifts less within a pair than across the run), and whether the nine runs ended
alike.

    .venv/bin/python benchmarks/notebook_vs_seed.py [--repeat N]
"""

import argparse
import re
import statistics
import time
from pathlib import Path

from autograder import assignments
from autograder.execute import execute_notebook, stream_text

LESSON_1 = assignments.get("optimizers_core")

SEED_NOTEBOOK = Path(__file__).with_name("seed_optimizers_core.ipynb")
OUTCOME = re.compile(
    r"(Converged in \d+ iterations|Gradient exploded at iteration \d+|"
    r"Exceeded maximum of \d+ iterations)"
)


def timed_run(path):
    start = time.perf_counter()
    nb = execute_notebook(path)
    return time.perf_counter() - start, OUTCOME.findall(stream_text(nb))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each notebook")
    args = parser.parse_args()
    course, seed = [], []
    for _ in range(args.repeat):
        seconds, course_outcomes = timed_run(LESSON_1.solution_notebook)
        course.append(seconds)
        seconds, seed_outcomes = timed_run(SEED_NOTEBOOK)
        seed.append(seconds)
    c, s = statistics.median(course), statistics.median(seed)
    paired = statistics.median(b / a for a, b in zip(course, seed))
    print(f"{'notebook':<40}{'Run All (s)':>12}")
    print(f"{'original guide, eager (seed)':<40}{s:>12.1f}")
    print(f"{'course solution notebook':<40}{c:>12.1f}")
    print(f"{'speed-up (seed / course, median pair)':<40}{paired:>11.2f}x")
    print(f"pairs: {', '.join(f'{b / a:.2f}x' for a, b in zip(course, seed))}")
    print(f"same nine outcomes: {course_outcomes == seed_outcomes} ({len(seed_outcomes)} runs)")


if __name__ == "__main__":
    main()
