"""The hidden tests, as pytest tests. They run in the trusted grader on plain data only.

Each test is parametrized by optimizer and marked with the key of its entry in
`autograder.cases.TESTS` (title and points). `autograder.evaluate` runs them with a plugin that
provides the `submission` fixture.
"""
