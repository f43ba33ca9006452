"""Run All of each lesson's solution notebook, side by side, as ratios to lesson 1's.

Each lesson's solution notebook runs top to bottom in a fresh kernel (nbclient); the lessons run
one after the other within each round, so that the machine's drift (20 to 50 % within minutes
here) touches a round's runs alike. The script prints each lesson's median wall time and the
median, over the rounds, of its ratio to lesson 1's time in the same round; then the same for the
time its cells ran (the sum of each cell's execution, as the kernel reports it: without the
kernel's start, which is the same for every lesson and only adds noise).

    .venv/bin/python benchmarks/lessons_run_all.py [--repeat N] [--assignment NAME ...]
"""

import argparse
import statistics
import time
from datetime import datetime

from autograder import assignments
from autograder.execute import execute_notebook


def timed_run(path):
    """(wall seconds of Run All in a fresh kernel, seconds its cells ran)."""
    start = time.perf_counter()
    nb = execute_notebook(path)
    return time.perf_counter() - start, sum(map(cell_seconds, nb.cells))


def cell_seconds(cell):
    """How long a code cell ran, from nbclient's timing metadata (0 for other cells)."""
    timing = cell.metadata.get("execution", {})
    begin, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if begin is None or end is None:
        return 0.0
    stamp = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (begin, end)]  # 3.10
    return (stamp[1] - stamp[0]).total_seconds()


def print_table(title, seconds, first):
    print(f"{title:<30}{'median (s)':>12}{'ratio to ' + first:>28}")
    for name, times in seconds.items():
        ratios = [t / f for t, f in zip(times, seconds[first])]
        spread = f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
        print(f"{name:<30}{statistics.median(times):>12.1f}{spread:>28}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds")
    parser.add_argument("--assignment", nargs="+", default=assignments.names(), help="lessons")
    args = parser.parse_args()
    lessons = [assignments.get(name) for name in args.assignment]
    wall = {lesson.name: [] for lesson in lessons}
    cells = {lesson.name: [] for lesson in lessons}
    for _ in range(args.repeat):
        for lesson in lessons:
            seconds, ran = timed_run(lesson.solution_notebook)
            wall[lesson.name].append(seconds)
            cells[lesson.name].append(ran)
    first = lessons[0].name
    print_table("Run All, solution notebook", wall, first)
    print_table("its cells only", cells, first)


if __name__ == "__main__":
    main()
