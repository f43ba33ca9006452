"""The hidden tests: one per (exercise, test) of the assignment being graded.

`autograder.evaluate.GradingPlugin` parametrizes them from the assignment's declaration and
provides the `submission` fixture; each test compares plain data with the reference data.
"""

from autograder.assignment import DEFINED


def test_exercise(exercise, key, submission):
    """ "is defined" needs one update that moves the variables, seen on the returned path (a
    claim of the sandbox that the class is defined is not enough); every other test needs each
    of its cases to follow the reference within the tolerance."""
    if key == DEFINED:
        submission.require_update(exercise)
    else:
        submission.check(exercise, key)
