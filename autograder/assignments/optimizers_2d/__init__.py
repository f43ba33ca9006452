"""Lesson 2 as an assignment: Nesterov's momentum, Adagrad and RMSprop on surfaces of two
variables (see `spec.py`)."""
