"""Instructor tools of the course: notebook generation, the student release, and the sandboxed
grader (`python -m autograder --help`)."""
