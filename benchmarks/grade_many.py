"""Fifty submissions: amortized seconds per submission and peak memory per worker, by --jobs.

    .venv/bin/python benchmarks/grade_many.py [--count 50] [--jobs 1 2] [--no-cold-check]

The batch is built from the grader's test samples: mostly the solution, the rest correct
variants and buggy ones in turn (nothing hostile, nothing that times out). For each --jobs value,
`python -m autograder grade` grades it from a fresh process; the script prints, side by side, the
wall time, the amortized seconds per submission and each worker's peak memory (see `measure`).
Unless --no-cold-check, every results.json is compared with the one a cold sandboxed process
(a new bwrap runner, no zygote) gives for the same sample: they must be identical bit for bit,
apart from the timing.
"""

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

import measure

from autograder import grade, paths

sys.path.insert(0, str(paths.ROOT))
from tests.autograder.samples import SAMPLES, SEMANTIC  # noqa: E402

SOLUTION_SHARE = 0.6
OTHERS = SEMANTIC[1:] + (  # what a class hands in besides the solution; nothing that hangs
    "exception_in_adam",
    "syntax_error_momentum",
    "renamed_class",
    "cells_deleted",
    "untouched",
)


def batch(count):
    """Student name -> sample name, `count` of them."""
    solutions = round(count * SOLUTION_SHARE)
    names = ["solution"] * solutions + list(
        itertools.islice(itertools.cycle(OTHERS), count - solutions)
    )
    return {f"s{i:03d}_{name}": name for i, name in enumerate(names)}


def documents(out):
    """Student -> results.json without what may differ between two runs of one sample."""
    found = {}
    for student, document in grade.write_grades(out).items():
        document.pop("execution_time")
        document["extra_data"].pop("student")
        found[student] = document
    return found


def cold_documents(samples, tmp):
    """Sample name -> its results.json from a cold sandboxed process."""
    folder = tmp / "cold-submissions"
    for name in samples:
        SAMPLES[name].build(folder / name)
    out = tmp / "cold-out"
    if not grade.grade_batch(folder, out, "bwrap", jobs=2, log=lambda line: None, warm_start=False):
        raise SystemExit("the cold reference run failed")
    return documents(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50, help="submissions in the batch")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="values to compare")
    parser.add_argument("--no-cold-check", action="store_true", help="skip the cold comparison")
    args = parser.parse_args()
    print(measure.machine())
    students = batch(args.count)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for student, name in students.items():
            SAMPLES[name].build(tmp / "submissions" / student)
        runs, same = {}, {}
        for jobs in args.jobs:
            out = tmp / f"out-{jobs}"
            cmd = [sys.executable, "-m", "autograder", "grade", str(tmp / "submissions")]
            runs[jobs] = measure.run(cmd + ["--out", str(out), "--jobs", str(jobs)])
            if runs[jobs].returncode != 0:
                raise SystemExit(f"grading failed:\n{runs[jobs].output[-3000:]}")
            same[jobs] = documents(out)
        if not args.no_cold_check:
            cold = cold_documents(sorted(set(students.values())), tmp)
            for jobs, docs in same.items():
                same[jobs] = sum(docs[s] == cold[name] for s, name in students.items())
    solutions = sum(name == "solution" for name in students.values())
    title = f"{args.count} submissions ({solutions} solution, {args.count - solutions} others)"
    rows = [
        ("wall (s)", lambda r: f"{r.seconds:.1f}"),
        ("seconds per submission (amortized)", lambda r: f"{r.seconds / args.count:.2f}"),
        ("peak memory per worker, RSS sum (MiB)", lambda r: f"{r.worst()[0] / 2**20:.0f}"),
        ("peak memory per worker, PSS sum (MiB)", lambda r: f"{r.worst()[1] / 2**20:.0f}"),
    ]
    print(f"{title:<46}" + "".join(f"{f'--jobs {j}':>12}" for j in args.jobs))
    for label, cell in rows:
        print(f"{label:<46}" + "".join(f"{cell(runs[j]):>12}" for j in args.jobs))
    if not args.no_cold_check:
        identical = "".join(f"{f'{same[j]}/{args.count}':>12}" for j in args.jobs)
        print(f"{'results identical to a cold process':<46}" + identical)


if __name__ == "__main__":
    main()
