"""Command line of the course's instructor tools: `python -m autograder --help`.

Each subcommand only parses its arguments and calls one library function.
"""

import argparse
import sys
from pathlib import Path

from autograder import demo, generate


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser(
        "generate", help="regenerate the student notebook and solutions/optimizers.py"
    )
    gen.add_argument("--check", action="store_true", help="only report files that are stale")

    dem = commands.add_parser("demo", help="the main job on the bundled examples")
    dem.add_argument("--out", type=Path, default=Path("out"), help="output folder")

    args = parser.parse_args(argv)
    if args.command == "generate":
        stale = generate.generate(check=args.check)
        for path in stale:
            print(f"{'stale' if args.check else 'wrote'}: {path}")
        return 1 if args.check and stale else 0
    if args.command == "demo":
        return demo.run_demo(out_dir=args.out)
    return 2


if __name__ == "__main__":
    sys.exit(main())
