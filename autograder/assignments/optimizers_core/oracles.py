"""Lesson 1's independent oracles: Keras' SGD (with and without momentum) and a float64 Adam."""

import numpy as np
import tensorflow as tf


class KerasSGD:
    """Keras' SGD behind the course's `apply_gradients(grads, vars)` interface."""

    def __init__(self, learning_rate=1e-3, momentum=0.0):
        self.optimizer = tf.keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum)

    def apply_gradients(self, grads, vars):
        self.optimizer.apply_gradients(zip(grads, vars))


class NumpyAdam:
    """Textbook Adam in float64 NumPy, its own copy of each variable kept in float64."""

    def __init__(self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, ep=1e-7):
        self.lr, self.b1, self.b2, self.ep = learning_rate, beta_1, beta_2, ep
        self.t, self.state = 1, {}

    def apply_gradients(self, grads, vars):
        for g, var in zip(grads, vars):
            g = np.asarray(g, dtype=np.float64)
            x, m, s = self.state.get(var.ref(), (var.numpy().astype(np.float64), 0.0, 0.0))
            m = self.b1 * m + (1 - self.b1) * g
            s = self.b2 * s + (1 - self.b2) * g**2
            m_hat, s_hat = m / (1 - self.b1**self.t), s / (1 - self.b2**self.t)
            x = x - self.lr * m_hat / (np.sqrt(s_hat) + self.ep)
            self.state[var.ref()] = (x, m, s)
            var.assign(x.astype(np.float32))
        self.t += 1
