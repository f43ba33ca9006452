"""Lesson 4 as an assignment: SAM, the Hessian-vector product and the top Hessian eigenvalue by
power iteration, on small problems with exact Hessians (see `spec.py`)."""
