"""A third assignment that exists only for the tests: proof that the engine knows no lesson.

`make(folder)` declares it (sign descent on a parabola) with its files in `folder`; nothing
outside this package mentions it.
"""
