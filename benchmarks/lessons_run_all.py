"""Run All of each lesson's solution notebook, side by side, as ratios to lesson 1's.

Each lesson's solution notebook runs top to bottom in a fresh kernel (nbclient); the lessons run
one after the other within each round, so that the machine's drift (20 to 50 % within minutes
here) touches a round's runs alike. The script prints each lesson's median wall time and the
median, over the rounds, of its ratio to lesson 1's time in the same round.

    .venv/bin/python benchmarks/lessons_run_all.py [--repeat N] [--assignment NAME ...]
"""

import argparse
import statistics
import time

from autograder import assignments
from autograder.execute import execute_notebook


def timed_run(path):
    start = time.perf_counter()
    execute_notebook(path)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds")
    parser.add_argument("--assignment", nargs="+", default=assignments.names(), help="lessons")
    args = parser.parse_args()
    lessons = [assignments.get(name) for name in args.assignment]
    seconds = {lesson.name: [] for lesson in lessons}
    for _ in range(args.repeat):
        for lesson in lessons:
            seconds[lesson.name].append(timed_run(lesson.solution_notebook))
    first = lessons[0].name
    print(f"{'Run All, solution notebook':<30}{'median (s)':>12}{'ratio to ' + first:>28}")
    for lesson in lessons:
        times = seconds[lesson.name]
        ratios = [t / f for t, f in zip(times, seconds[first])]
        spread = f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
        print(f"{lesson.name:<30}{statistics.median(times):>12.1f}{spread:>28}")


if __name__ == "__main__":
    main()
