"""`make demo`: grade the bundled example submissions and print the class table."""

from autograder import class_report, grade, paths

EXAMPLES = paths.ROOT / "examples"


def run_demo(out_dir, mode):
    """Grade every submission under examples/ into `out_dir` in sandbox `mode` (resolved:
    'bwrap' or 'none') and print a table of the scores."""
    ok = grade.grade_batch(EXAMPLES, out_dir, mode, jobs=2, force=True)
    print()
    grade.print_table(out_dir)
    print(f"\nFeedback pages: {out_dir}/{grade.STUDENTS}/<student>/{grade.FEEDBACK}")
    print(f"Class report:   {out_dir}/{class_report.REPORT}")
    return 0 if ok else 1
