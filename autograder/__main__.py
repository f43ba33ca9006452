"""Command line of the course's instructor tools: `python -m autograder --help`.

Each subcommand only parses its arguments and calls one library function. Every command works on
the course's assignments (`autograder.assignments.COURSE`): all of them, or the one named by
`--assignment NAME`; `grade` infers it from the submitted notebooks' names or metadata (in
nbgrader's `submitted/` folder: every assignment submitted), and writes into OUT/<assignment>/.
A foreseeable problem (no sandbox, a missing or empty folder, an unreadable file, a bad option
value, an output folder that cannot be written) ends the command with one line on stderr and a
non-zero exit code: 2 for a problem with the command itself, 1 when it ran but not everything
succeeded.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

from autograder import assignments, sandbox


class CommandError(Exception):
    """A problem the user can fix; its message is the whole of what is printed."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (usage is one `--help` away)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be more than 0")
        return value

    parse.__name__ = kind.__name__
    return parse


def writable_folder(path):
    """Create `path` if needed and prove that a file can be written in it (CommandError if not)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise CommandError(f"cannot write to {path}: {error.strerror or error}") from None
    return path


def _limits(args):
    return sandbox.Limits(
        case_seconds=args.timeout, memory_bytes=int(args.memory_gib * sandbox.GIB)
    )


def _sandbox_mode(requested):
    """The mode to grade in, said once on the terminal (which bwrap, or that there is none)."""
    from autograder import grade

    mode = grade.resolve(requested)
    if mode == "bwrap":
        print(f"sandbox: {sandbox.record(mode)['bwrap']}")
    return mode


def _chosen(args):
    """The assignments a command works on: the one named by --assignment, else all of them."""
    if getattr(args, "assignment", None):
        return [assignments.get(args.assignment)]
    return assignments.all_assignments()


def _grade(args):
    from autograder import grade

    if args.executor == "dask" and not args.scheduler:
        raise CommandError("--executor dask needs --scheduler ADDRESS")
    try:
        chosen, others = grade.batch_assignments(args.path, args.assignment)
    except grade.NothingToGrade as error:
        raise CommandError(str(error)) from None
    outs = {a.name: writable_folder(args.out / a.name) for a in chosen}
    if others:
        print(f"left alone (not assignments of this course): {', '.join(others)}")
    mode = _sandbox_mode(args.sandbox)
    cluster = {"executor": "dask", "scheduler": args.scheduler} if args.executor == "dask" else {}
    failed = []
    for assignment in chosen:
        out = outs[assignment.name]
        print(f"assignment: {assignment.name} ({assignment.title}); output in {out}")
        ok = grade.grade_batch(
            args.path,
            out,
            mode,
            jobs=args.jobs,
            force=args.force,
            limits=_limits(args),
            assignment=assignment,
            **cluster,
        )
        if not ok:
            failed.append(out)
    try:
        sheet = grade.write_course_grades(args.out)
    except OSError as error:
        print(f"{args.out / grade.COURSE_GRADES} not written: {error}")
    else:
        if sheet:
            print(f"course grades (every lesson graded in {args.out}): {sheet}")
    if failed:
        where = ", ".join(f"{out}/grades.csv" for out in failed)
        print(
            f"error: not everything was graded or recorded; the lines above and the rows in "
            f"{where} say why",
            file=sys.stderr,
        )
    return 1 if failed else 0


def _build_references(args):
    from autograder import build_references

    stale = []
    for assignment in _chosen(args):
        if args.check:
            stale += build_references.stale(assignment)
        else:
            for path in build_references.write(assignment):
                print(f"wrote: {path}")
    for path in stale:
        print(f"stale: {path}: run `python -m autograder build-references`")
    if args.check and not stale:
        print("references are current")
    return 1 if stale else 0


def _generate(args):
    from autograder import generate

    stale = [path for a in _chosen(args) for path in generate.generate(a, check=args.check)]
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'}: {path}")
    return 1 if args.check and stale else 0


def _examples(args):
    from autograder import examples

    stale = []
    for assignment in _chosen(args):
        stale += examples.update(assignment, check=args.check)
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'}: {path}")
    if args.check and not stale:
        print("examples are current")
    return 1 if args.check and stale else 0


def _demo(args):
    from autograder import demo

    writable_folder(args.out)
    return demo.run_demo(args.out, _sandbox_mode(args.sandbox), _chosen(args))


def _release(args):
    from autograder import release

    writable_folder(args.out)
    try:
        folder, archive = release.build(args.out)
    except release.ReleaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"student release: {folder}\n                 {archive}")
    return 0


def _export_gradescope(args):
    from autograder.gradescope import export

    if args.folder.suffix == ".zip" or args.folder.is_file():
        raise CommandError(f"{args.folder} is not a folder: the zips are written into one")
    chosen = _chosen(args)  # an unknown --assignment creates nothing
    writable_folder(args.folder)
    for assignment in chosen:
        target = args.folder / f"{assignment.name}.zip"
        names = export.build_zip(target, assignment)
        print(f"wrote {target}: {len(names)} files (setup.sh, run_autograder, the grader)")
    return 0


def _gradescope_run(args):
    from autograder.gradescope import run

    if not (args.root / "submission").is_dir():
        raise CommandError(f"no submission folder: {args.root / 'submission'}")
    document = run.grade_submission(args.root, args.sandbox, assignment=args.assignment)
    print(f"{document['score']:g} / {document['extra_data']['max_score']:g} ({args.root})")
    return 0


def _nbgrader_feedback(args):
    from autograder import nbgrader_course

    for folder, what in ((args.out, "the grader's output folder"), (args.course, "the course")):
        if not folder.is_dir():
            raise CommandError(f"{what} is not a folder: {folder}")
    chosen = [a for a in _chosen(args) if args.assignment or (args.out / a.name).is_dir()]
    if not chosen:
        raise CommandError(f"no graded assignment in {args.out} (expected OUT/<assignment>/)")
    written, skipped = [], []
    for assignment in chosen:
        done, passed_over = nbgrader_course.place_feedback(
            args.out / assignment.name, args.course, assignment
        )
        written += done
        skipped += passed_over
    for path in written:
        print(f"wrote: {path}")
    for student, why in skipped:
        print(f"skipped {student}: {why}", file=sys.stderr)
    return 1 if skipped else 0


def parser():
    p = _Parser(prog="python -m autograder", description=__doc__)
    commands = p.add_subparsers(dest="command", required=True)

    g = commands.add_parser("grade", help="grade submissions into an output folder")
    g.add_argument(
        "path",
        type=Path,
        help="a notebook, a folder with one subfolder per student, or nbgrader's submitted/ folder",
    )
    g.add_argument(
        "--out", type=Path, required=True, help="output folder (results in OUT/<assignment>/)"
    )
    _assignment_option(g, "default: told by the notebooks' names or metadata")
    g.add_argument(
        "--jobs",
        type=_positive(int),
        default=os.cpu_count() or 1,
        help="submissions graded in parallel on this machine (default: one per core)",
    )
    g.add_argument(
        "--timeout",
        type=_positive(float),
        default=sandbox.Limits.case_seconds,
        help="wall-clock seconds allowed per test case (CPU time: twice that)",
    )
    g.add_argument(
        "--memory-gib", type=_positive(float), default=2.0, help="memory cap per submission"
    )
    g.add_argument(
        "--sandbox",
        choices=sandbox.MODES,
        default="auto",
        help="auto: bwrap if it works, else refuse; none: no isolation (unsafe)",
    )
    g.add_argument(
        "--force",
        action="store_true",
        help="regrade every student, also those graded before from the same notebook",
    )
    g.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="local: worker processes here; dask: the workers of a Dask cluster",
    )
    g.add_argument("--scheduler", help="the Dask scheduler's address (tcp://host:8786)")
    g.set_defaults(func=_grade)

    b = commands.add_parser("build-references", help="regenerate the hidden reference data")
    b.add_argument("--check", action="store_true", help="only check that they are current")
    _assignment_option(b)
    b.set_defaults(func=_build_references)

    gen = commands.add_parser(
        "generate", help="regenerate notebooks/<assignment>.ipynb and solutions/<assignment>.py"
    )
    gen.add_argument("--check", action="store_true", help="only report files that are stale")
    _assignment_option(gen)
    gen.set_defaults(func=_generate)

    ex = commands.add_parser(
        "examples", help="rebuild each assignment's example submissions from its samples"
    )
    ex.add_argument("--check", action="store_true", help="only report files that are stale")
    _assignment_option(ex)
    ex.set_defaults(func=_examples)

    r = commands.add_parser("release", help="build the student bundle (folder and zip)")
    r.add_argument("--out", type=Path, default=Path("dist"), help="output folder")
    r.set_defaults(func=_release)

    d = commands.add_parser("demo", help="grade the bundled example submissions")
    d.add_argument("--out", type=Path, default=Path("out"), help="output folder")
    d.add_argument("--sandbox", choices=sandbox.MODES, default="auto")
    _assignment_option(d)
    d.set_defaults(func=_demo)

    from autograder import gradescope

    x = commands.add_parser(
        "export-gradescope", help="build Gradescope's autograder zips, one per assignment"
    )
    x.add_argument("folder", type=Path, help="where to write <assignment>.zip")
    _assignment_option(x)
    x.set_defaults(func=_export_gradescope)

    gs = commands.add_parser(
        "gradescope-run", help="grade a Gradescope submission (what run_autograder runs)"
    )
    gs.add_argument("--root", type=Path, default=Path("/autograder"), help="Gradescope's tree")
    gs.add_argument(
        "--sandbox",
        choices=gradescope.MODES,
        default="auto",
        help="auto: bwrap if it works, else (as root) unprivileged: unisolated, as user nobody",
    )
    _assignment_option(gs, "default: the only one in the zip, else told by the notebook")
    gs.set_defaults(func=_gradescope_run)

    nf = commands.add_parser(
        "nbgrader-feedback",
        help="copy graded feedback to nbgrader's feedback/ folder for release_feedback",
    )
    nf.add_argument("out", type=Path, help="the grader's output folder (`grade --out`)")
    nf.add_argument("course", type=Path, help="the nbgrader course folder")
    _assignment_option(nf, "default: every assignment graded into OUT")
    nf.set_defaults(func=_nbgrader_feedback)
    return p


def _assignment_option(command, default="default: every assignment of the course"):
    command.add_argument(
        "--assignment",
        metavar="NAME",
        help=f"one of {', '.join(assignments.names())} ({default})",
    )


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (CommandError, sandbox.SandboxUnavailable, assignments.UnknownAssignment) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a missing, unreadable or unwritable file or folder
        where = f"{error.filename}: " if error.filename else ""
        print(f"error: {where}{error.strerror or error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
