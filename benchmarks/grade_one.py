"""One submission, cold: this grader on the solution vs nbconvert and nbgrader on the guide.

    .venv/bin/python benchmarks/grade_one.py [--repeat N] [--no-nbgrader]

Every command starts as a fresh process, one after the other, in one run:

- `python -m autograder grade solutions/optimizers_core.ipynb --jobs 1`: the sandbox (bwrap),
  TensorFlow imported there, every cell, the 33 points' worth of cases, the hidden tests,
  results.json and the feedback page with its plots;
- `jupyter nbconvert --execute benchmarks/seed_optimizers_core.ipynb`: the original guide's code
  run top to bottom in a fresh kernel, which is what nbgrader's autograde executes;
- `nbgrader autograde` of that same notebook, submitted by one student in a temporary course
  (the database, the copies and the checks nbgrader adds around the execution);
- `python -c "import tensorflow"`: the floor of any grader that starts a fresh process, so
  nbconvert's time over it is the most any such grader could gain.

Prints the wall times (medians), the ratios and the grader's peak memory.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import measure

from autograder import assignments

LESSON_1 = assignments.get("optimizers_core")

SEED = Path(__file__).with_name("seed_optimizers_core.ipynb")
ASSIGNMENT = "seed_optimizers_core"
ROWS = [
    ("nbgrader", "nbgrader autograde, original guide (seed)"),
    ("nbconvert", "nbconvert --execute, original guide (seed)"),
    ("grader", "python -m autograder grade, solution (bwrap)"),
    ("import", "python -c 'import tensorflow' (floor of a fresh process)"),
]
RATIOS = [
    ("speed-up (nbgrader autograde / grader)", "nbgrader", "grader"),
    ("speed-up (nbconvert / grader)", "nbconvert", "grader"),
    ("most any fresh grader can gain (nbconvert / import)", "nbconvert", "import"),
    ("grader over the floor (grader / import; target <= 1.5x)", "grader", "import"),
]


def grader(tmp):
    cmd = [sys.executable, "-m", "autograder", "grade", str(LESSON_1.solution_notebook)]
    run = measure.run(cmd + ["--out", f"{tmp}/out", "--jobs", "1"])
    full = f"{LESSON_1.max_score()} / {LESSON_1.max_score()}"
    if run.returncode != 0 or full not in run.output:
        raise SystemExit(f"the grader failed:\n{run.output[-3000:]}")
    return run


def nbconvert(tmp):
    jupyter = Path(sys.executable).parent / "jupyter"
    cmd = [str(jupyter), "nbconvert", "--to", "notebook", "--execute", "--output-dir", tmp]
    run = measure.run(cmd + [str(SEED)])
    if run.returncode != 0:
        raise SystemExit(f"nbconvert failed:\n{run.output[-3000:]}")
    return run


def nbgrader_course(tmp):
    """A course folder whose one student submitted the guide's notebook; the nbgrader command."""
    course = Path(tmp) / "course"
    for folder in (course / "source" / ASSIGNMENT, course / "submitted" / "student" / ASSIGNMENT):
        folder.mkdir(parents=True)
        shutil.copy(SEED, folder / SEED.name)
    (course / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.course_id = "benchmark"\n'
        "c.ExecutePreprocessor.timeout = 600\nc.Execute.timeout = 600\n"
    )
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")  # alembic
    for args in (["db", "student", "add", "student"], ["generate_assignment", ASSIGNMENT]):
        done = subprocess.run(
            [bin_dir / "nbgrader", *args], cwd=course, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"nbgrader {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return course, [str(bin_dir / "nbgrader"), "autograde", ASSIGNMENT, "--force"], env


def nbgrader_autograde(tmp):
    course, cmd, env = nbgrader_course(tmp)
    run = measure.run(cmd, env=env, cwd=course)
    if run.returncode != 0 or not any((course / "autograded").rglob("*.ipynb")):
        raise SystemExit(f"nbgrader autograde failed:\n{run.output[-3000:]}")
    return run


def tensorflow_import(_tmp):
    return measure.run([sys.executable, "-c", "import tensorflow"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each")
    parser.add_argument("--no-nbgrader", action="store_true", help="skip nbgrader autograde")
    args = parser.parse_args()
    print(measure.machine())
    commands = {"grader": grader, "nbconvert": nbconvert, "import": tensorflow_import}
    if not args.no_nbgrader:
        commands["nbgrader"] = nbgrader_autograde
    seconds = {name: [] for name in commands}
    peaks = []
    for _ in range(args.repeat):
        for name, command in commands.items():
            with tempfile.TemporaryDirectory() as tmp:
                run = command(tmp)
            seconds[name].append(run.seconds)
            if name == "grader":
                peaks.append(run.worst())
    wall = {name: statistics.median(values) for name, values in seconds.items()}
    print(f"{'one submission, cold (fresh processes)':<56}{'wall (s)':>10}")
    for name, label in ROWS:
        if name in wall:
            print(f"{label:<56}{wall[name]:>10.1f}")
    for label, slow, fast in RATIOS:
        if slow in wall:
            print(f"{label:<56}{wall[slow] / wall[fast]:>9.1f}x")
    rss, pss = (max(p[i] for p in peaks) / 2**20 for i in (0, 1))
    print(f"grader's peak memory: {rss:.0f} MiB RSS summed over its tree, {pss:.0f} MiB PSS")


if __name__ == "__main__":
    main()
