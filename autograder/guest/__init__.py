"""Code that runs inside the sandbox, next to the student's code.

It may import `course_utils`, TensorFlow and NumPy, and nothing hidden: no solutions, no reference
data. Everything it sends back is plain JSON. The trusted grader imports `problems` too, so that
the cases are built the same way on both sides.
"""
