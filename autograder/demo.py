"""`make demo`: grade the bundled example submissions and print the class table."""

from autograder import grade, paths

EXAMPLES = paths.ROOT / "examples"


def run_demo(out_dir, sandbox_mode="auto"):
    """Grade every submission under examples/ into `out_dir` and print a table of the scores."""
    mode = grade.resolve(sandbox_mode)
    ok = grade.grade_batch(EXAMPLES, out_dir, mode, jobs=2, force=True)
    print()
    grade.print_table(out_dir)
    print(f"\nFeedback pages: {out_dir}/{grade.STUDENTS}/<student>/{grade.FEEDBACK}")
    return 0 if ok else 1
