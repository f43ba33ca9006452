"""`make demo`: grade every assignment's bundled example submissions and print one table each."""

from autograder import class_report, grade


def run_demo(out_dir, mode, assignments):
    """Grade each assignment's examples into `out_dir`/<assignment>/ in sandbox `mode`
    (resolved: 'bwrap' or 'none') and print a table of the scores per lesson."""
    ok = True
    for assignment in assignments:
        out = out_dir / assignment.name
        print(f"\n== {assignment.title} ({assignment.name}) ==")
        ok &= grade.grade_batch(
            assignment.examples_dir, out, mode, jobs=2, force=True, assignment=assignment
        )
        print()
        grade.print_table(out, assignment)
        print(f"\nFeedback pages: {out}/{grade.STUDENTS}/<student>/{grade.FEEDBACK}")
        print(f"Class report:   {out}/{class_report.REPORT}")
    print(f"\nCourse grades:  {grade.write_course_grades(out_dir)}")
    return 0 if ok else 1
