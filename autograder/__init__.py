"""Instructor tools of the course: notebook generation and (soon) sandboxed grading."""
