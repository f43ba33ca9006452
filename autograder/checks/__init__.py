"""The hidden tests, as pytest tests. They run in the trusted grader on plain data only.

`autograder.evaluate` runs them with a plugin that parametrizes them by the assignment's
exercises and tests and provides the `submission` fixture.
"""
