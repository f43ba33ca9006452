"""Hidden reference solutions of the course (never released to students).

One module per assignment, generated from its notebook by `make student`:
`solutions.optimizers_core`, `solutions.optimizers_2d`.
"""
