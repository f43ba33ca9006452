"""Lesson 1: gradient descent, momentum and Adam on a quartic of one variable (see `spec`)."""
