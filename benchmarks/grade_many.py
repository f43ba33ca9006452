"""Fifty submissions per lesson: amortized seconds per submission and peak memory per worker.

    .venv/bin/python benchmarks/grade_many.py [--count 50] [--jobs 1 2] [--assignment NAME ...]
                                              [--no-cold-check]

For each lesson (default: every lesson of the course), a batch built from its samples: mostly the
solution, the rest its example students' samples in turn (a correct variant, typical bugs, the
untouched notebook, a broken cell: nothing that hangs). For each --jobs value, `python -m
autograder grade` grades it from a fresh process; the script prints, side by side, the wall time,
the amortized seconds per submission and each worker's peak memory (see `measure`), and each
lesson's cost per submission as a ratio to the first lesson's, measured in the same run. Unless
--no-cold-check, every results.json is compared with the one a cold sandboxed process (a new
bwrap runner, no zygote) gives for the same sample: they must be identical bit for bit, apart
from the timing.
"""

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

import measure

from autograder import assignments, grade
from autograder.samples import samples_of

SOLUTION_SHARE = 0.6


def batch(assignment, count):
    """Student name -> sample name, `count` of them."""
    others = [name for name in assignment.examples.values() if name != "solution"]
    solutions = round(count * SOLUTION_SHARE)
    names = ["solution"] * solutions + list(
        itertools.islice(itertools.cycle(others), count - solutions)
    )
    return {f"s{i:03d}_{name}": name for i, name in enumerate(names)}


def documents(out, assignment):
    """Student -> results.json without what may differ between two runs of one sample."""
    found = {}
    for student, document in grade.write_grades(out, assignment).items():
        document.pop("execution_time")
        document["extra_data"].pop("student")
        found[student] = document
    return found


def cold_documents(assignment, names, tmp):
    """Sample name -> its results.json from a cold sandboxed process."""
    folder, samples = tmp / "cold-submissions", samples_of(assignment)
    for name in names:
        samples[name].build(folder / name)
    out = tmp / "cold-out"
    graded = grade.grade_batch(
        folder, out, "bwrap", jobs=2, log=lambda line: None, warm_start=False, assignment=assignment
    )
    if not graded:
        raise SystemExit("the cold reference run failed")
    return documents(out, assignment)


def measure_lesson(assignment, count, jobs_values, cold_check, tmp):
    """({jobs: measure run}, {jobs: results identical to a cold process, or None})."""
    students, samples = batch(assignment, count), samples_of(assignment)
    for student, name in students.items():
        samples[name].build(tmp / "submissions" / student)
    runs, same = {}, {}
    for jobs in jobs_values:
        out = tmp / f"out-{jobs}"
        cmd = [sys.executable, "-m", "autograder", "grade", str(tmp / "submissions")]
        cmd += ["--out", str(out), "--jobs", str(jobs), "--assignment", assignment.name]
        runs[jobs] = measure.run(cmd)
        if runs[jobs].returncode != 0:
            raise SystemExit(f"grading failed:\n{runs[jobs].output[-3000:]}")
        same[jobs] = documents(out / assignment.name, assignment)
    if cold_check:
        cold = cold_documents(assignment, sorted(set(students.values())), tmp)
        for jobs, docs in same.items():
            same[jobs] = sum(docs[s] == cold[name] for s, name in students.items())
    else:
        same = dict.fromkeys(jobs_values)
    return runs, same


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50, help="submissions per lesson")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="values to compare")
    parser.add_argument("--assignment", nargs="+", default=assignments.names(), help="lessons")
    parser.add_argument("--no-cold-check", action="store_true", help="skip the cold comparison")
    args = parser.parse_args()
    print(measure.machine())
    lessons = [assignments.get(name) for name in args.assignment]
    results = {}
    for lesson in lessons:
        with tempfile.TemporaryDirectory() as tmp:
            results[lesson.name] = measure_lesson(
                lesson, args.count, args.jobs, not args.no_cold_check, Path(tmp)
            )
    columns = [(lesson.name, jobs) for lesson in lessons for jobs in args.jobs]
    first = lessons[0].name
    rows = [
        ("wall (s)", lambda r, j, n: f"{r.seconds:.1f}"),
        ("seconds per submission (amortized)", lambda r, j, n: f"{r.seconds / args.count:.2f}"),
        (
            f"ratio to {first} at the same --jobs",
            lambda r, j, n: f"{r.seconds / results[first][0][j].seconds:.2f}x",
        ),
        ("peak memory per worker, RSS sum (MiB)", lambda r, j, n: f"{r.worst()[0] / 2**20:.0f}"),
        ("peak memory per worker, PSS sum (MiB)", lambda r, j, n: f"{r.worst()[1] / 2**20:.0f}"),
        (
            "results identical to a cold process",
            lambda r, j, n: "-" if results[n][1][j] is None else f"{results[n][1][j]}/{args.count}",
        ),
    ]
    width = max(len(n) for n, _ in columns) + 9
    print(
        f"{f'{args.count} submissions per lesson':<42}"
        + "".join(f"{n:>{width}}" for n, _ in columns)
    )
    print(f"{'':<42}" + "".join(f"{f'--jobs {j}':>{width}}" for _, j in columns))
    for label, cell in rows:
        cells = "".join(f"{cell(results[n][0][j], j, n):>{width}}" for n, j in columns)
        print(f"{label:<42}" + cells)


if __name__ == "__main__":
    main()
