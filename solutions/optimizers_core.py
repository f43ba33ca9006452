"""Reference optimizers of the course: the hidden solutions.

Generated from solutions/optimizers_core.ipynb by `make student`. Edit the notebook, not this file.
"""

import tensorflow as tf


class GradientDescent(tf.Module):
    """Gradient descent.

    Update rule, for each variable x with gradient g = dL/dx:

        x <- x - learning_rate * g
    """

    def __init__(self, learning_rate=1e-3):
        self.learning_rate = learning_rate
        self.title = f"Gradient descent optimizer: learning rate={self.learning_rate}"

    def apply_gradients(self, grads, vars):
        """Update each variable of `vars` in place with its gradient in `grads`."""
        for g, var in zip(grads, vars):
            var.assign_sub(self.learning_rate * g)


class Momentum(tf.Module):
    """Gradient descent with momentum.

    Each variable x keeps its own velocity v, zero before its first update:

        v <- learning_rate * g + momentum * v
        x <- x - v
    """

    def __init__(self, learning_rate=1e-3, momentum=0.7):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.velocities = {}  # var.ref() -> tf.Variable holding that variable's velocity
        self.title = (
            f"Momentum optimizer: learning rate={self.learning_rate}, momentum={self.momentum}"
        )

    def apply_gradients(self, grads, vars):
        """Update each variable of `vars` in place with its gradient in `grads`."""
        for g, var in zip(grads, vars):
            if var.ref() not in self.velocities:
                self.velocities[var.ref()] = tf.Variable(tf.zeros_like(var))
            velocity = self.velocities[var.ref()]
            velocity.assign(self.learning_rate * g + self.momentum * velocity)
            var.assign_sub(velocity)


class Adam(tf.Module):
    """Adam (Kingma and Ba, 2015).

    Each variable x keeps a first moment m and a second moment s, zero at first; a step counter t
    starts at 1 and grows by one per call. With g = dL/dx:

        m <- beta_1 * m + (1 - beta_1) * g
        s <- beta_2 * s + (1 - beta_2) * g^2
        m_hat = m / (1 - beta_1^t)
        s_hat = s / (1 - beta_2^t)
        x <- x - learning_rate * m_hat / (sqrt(s_hat) + ep)
    """

    def __init__(self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, ep=1e-7):
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.ep = ep
        self.t = 1
        self.v_dvar = {}  # var.ref() -> tf.Variable: first moment of that variable
        self.s_dvar = {}  # var.ref() -> tf.Variable: second moment of that variable
        self.title = f"Adam: learning rate={self.learning_rate}"

    def apply_gradients(self, grads, vars):
        """Update each variable of `vars` in place with its gradient in `grads`."""
        for d_var, var in zip(grads, vars):
            if var.ref() not in self.v_dvar:
                self.v_dvar[var.ref()] = tf.Variable(tf.zeros_like(var))
                self.s_dvar[var.ref()] = tf.Variable(tf.zeros_like(var))
            v_dvar, s_dvar = self.v_dvar[var.ref()], self.s_dvar[var.ref()]
            v = self.beta_1 * v_dvar + (1 - self.beta_1) * d_var
            s = self.beta_2 * s_dvar + (1 - self.beta_2) * tf.square(d_var)
            v_dvar.assign(v)
            s_dvar.assign(s)
            v_dvar_bc = v / (1 - self.beta_1**self.t)
            s_dvar_bc = s / (1 - self.beta_2**self.t)
            var.assign_sub(self.learning_rate * (v_dvar_bc / (tf.sqrt(s_dvar_bc) + self.ep)))
        self.t += 1
