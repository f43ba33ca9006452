"""Grading on Gradescope: the autograder zip (`export`) and what its run_autograder does (`run`).

Gradescope unpacks the zip into /autograder/source and runs `setup.sh` once, as root, when it
builds the autograder's image; then, for each submission, `run_autograder`, as root, with the
student's files in /autograder/submission. It shows /autograder/results/results.json.
"""

from autograder.sandbox import UNPRIVILEGED

MODES = ("auto", "bwrap", UNPRIVILEGED)  # sandboxes of `gradescope-run` (see `run`)
