"""Lesson 4 as an assignment (work in progress: the exercises, their tests and cases)."""

from pathlib import Path

from autograder.assignment import DEFINED, Assignment, CaseList, Test
from course_utils import hints_sam

EXERCISES = {
    "SAM": "sam",
    "hessian_vector_product": "hessian_vector_product",
    "top_hessian_eigenvalue": "top_hessian_eigenvalue",
}


def _tests():
    return {name: [Test(DEFINED, "is defined and runs", 1, True)] for name in EXERCISES}


def _cases():
    cases = CaseList()
    for name in EXERCISES:
        cases.add(name, DEFINED, "defined", {})
    return tuple(cases.cases)


ASSIGNMENT = Assignment(
    name="sam_sharpness",
    title="Lesson 4: sharpness-aware minimization and how sharp a minimum is",
    teaches="sharpness-aware minimization (SAM) around a Keras optimizer, the Hessian-vector "
    "product with two tapes and the top Hessian eigenvalue by power iteration, then SAM against "
    "its base optimizer on digits with noisy labels and the sharpness of the minima they reach",
    exercises=EXERCISES,
    tests=_tests(),
    cases=_cases(),
    folder=Path(__file__).parent,
    hints=hints_sam.HINTS,
    mistakes=hints_sam.MISTAKES,
)
