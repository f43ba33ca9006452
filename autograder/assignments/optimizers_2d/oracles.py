"""Lesson 2's independent oracles: Keras' own optimizers behind the course's interface."""

import tensorflow as tf


class KerasOptimizer:
    """A Keras optimizer behind the course's `apply_gradients(grads, vars)` interface."""

    def __init__(self, optimizer):
        self.optimizer = optimizer

    def apply_gradients(self, grads, vars):
        self.optimizer.apply_gradients(zip(grads, vars))


class KerasNesterov(KerasOptimizer):
    """Keras' SGD(momentum=..., nesterov=True)."""

    def __init__(self, learning_rate=1e-3, momentum=0.9):
        super().__init__(
            tf.keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum, nesterov=True)
        )


class KerasAdagrad(KerasOptimizer):
    """Keras' Adagrad."""

    def __init__(self, learning_rate=1e-3, initial_accumulator_value=0.1, epsilon=1e-7):
        super().__init__(
            tf.keras.optimizers.Adagrad(
                learning_rate=learning_rate,
                initial_accumulator_value=initial_accumulator_value,
                epsilon=epsilon,
            )
        )


class KerasRMSprop(KerasOptimizer):
    """Keras' RMSprop without momentum, not centered."""

    def __init__(self, learning_rate=1e-3, rho=0.9, epsilon=1e-7):
        super().__init__(
            tf.keras.optimizers.RMSprop(learning_rate=learning_rate, rho=rho, epsilon=epsilon)
        )
