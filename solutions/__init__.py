"""Hidden reference solutions of the course (never released to students)."""

from solutions.optimizers import Adam, GradientDescent, Momentum

__all__ = ["Adam", "GradientDescent", "Momentum"]
