"""Reference optimizers of the course: the hidden solutions.

Generated from solutions/optimizers_2d.ipynb by `make student`. Edit the notebook, not this file.
"""

import tensorflow as tf


class NesterovMomentum(tf.Module):
    """Gradient descent with Nesterov's momentum.

    Each variable x keeps its own velocity v, zero before its first update. With g = dL/dx:

        v <- momentum * v + learning_rate * g
        x <- x - (momentum * v + learning_rate * g)

    the same as Keras' SGD(learning_rate, momentum, nesterov=True).
    """

    def __init__(self, learning_rate=1e-3, momentum=0.9):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.velocities = {}  # var.ref() -> tf.Variable holding that variable's velocity

    def apply_gradients(self, grads, vars):
        """Update each variable of `vars` in place with its gradient in `grads`."""
        for g, var in zip(grads, vars):
            if var.ref() not in self.velocities:
                self.velocities[var.ref()] = tf.Variable(tf.zeros_like(var))
            velocity = self.velocities[var.ref()]
            velocity.assign(self.momentum * velocity + self.learning_rate * g)
            var.assign_sub(self.momentum * velocity + self.learning_rate * g)


class Adagrad(tf.Module):
    """Adagrad (Duchi, Hazan and Singer, 2011).

    Each variable x keeps its own accumulator G, initial_accumulator_value at first. With
    g = dL/dx, element-wise:

        G <- G + g^2
        x <- x - learning_rate * g / sqrt(G + epsilon)

    the same as Keras' Adagrad(learning_rate, initial_accumulator_value, epsilon).
    """

    def __init__(self, learning_rate=1e-3, initial_accumulator_value=0.1, epsilon=1e-7):
        self.learning_rate = learning_rate
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon
        self.accumulators = {}  # var.ref() -> tf.Variable: that variable's sum of squares

    def apply_gradients(self, grads, vars):
        """Update each variable of `vars` in place with its gradient in `grads`."""
        for g, var in zip(grads, vars):
            if var.ref() not in self.accumulators:
                initial = tf.ones_like(var) * self.initial_accumulator_value
                self.accumulators[var.ref()] = tf.Variable(initial)
            accumulator = self.accumulators[var.ref()]
            accumulator.assign_add(tf.square(g))
            var.assign_sub(self.learning_rate * g / tf.sqrt(accumulator + self.epsilon))


class RMSprop(tf.Module):
    """RMSprop (Hinton, Srivastava and Swersky, 2012), without momentum, not centered.

    Each variable x keeps its own mean square S, zero at first. With g = dL/dx, element-wise:

        S <- rho * S + (1 - rho) * g^2
        x <- x - learning_rate * g / sqrt(S + epsilon)

    the same as Keras' RMSprop(learning_rate, rho, epsilon) (momentum=0, centered=False).
    """

    def __init__(self, learning_rate=1e-3, rho=0.9, epsilon=1e-7):
        self.learning_rate = learning_rate
        self.rho = rho
        self.epsilon = epsilon
        self.mean_squares = {}  # var.ref() -> tf.Variable: that variable's mean square gradient

    def apply_gradients(self, grads, vars):
        """Update each variable of `vars` in place with its gradient in `grads`."""
        for g, var in zip(grads, vars):
            if var.ref() not in self.mean_squares:
                self.mean_squares[var.ref()] = tf.Variable(tf.zeros_like(var))
            mean_square = self.mean_squares[var.ref()]
            mean_square.assign(self.rho * mean_square + (1 - self.rho) * tf.square(g))
            var.assign_sub(self.learning_rate * g / tf.sqrt(mean_square + self.epsilon))
