"""Lesson 4's independent oracles behind each exercise's interface: SAM written another way
(tf.linalg.global_norm, the perturbation subtracted again), the product from the full Hessian
(GradientTape.jacobian) and the top eigenpair from numpy.linalg.eigh of that Hessian."""

import numpy as np
import tensorflow as tf


class TfSAM:
    """SAM with TensorFlow's global norm; the weights put back by subtracting e."""

    def __init__(self, base_optimizer, rho=0.05, epsilon=1e-12):
        self.base_optimizer, self.rho, self.epsilon = base_optimizer, rho, epsilon

    def minimize(self, loss_fn, variables):
        with tf.GradientTape() as tape:
            loss = loss_fn()
        grads = tape.gradient(loss, variables)
        scale = self.rho / (tf.linalg.global_norm(grads) + self.epsilon)
        moves = [scale * g for g in grads]
        for v, e in zip(variables, moves):
            v.assign_add(e)
        with tf.GradientTape() as tape:
            sharp = tape.gradient(loss_fn(), variables)
        for v, e in zip(variables, moves):
            v.assign_sub(e)
        self.base_optimizer.apply_gradients(zip(sharp, variables))
        return loss


def full_hessian(loss_fn, variables):
    """The Hessian over the flattened concatenation of the variables, by GradientTape.jacobian."""
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = loss_fn()
        grads = inner.gradient(loss, variables)
        flat = tf.concat([tf.reshape(g, [-1]) for g in grads], axis=0)
    blocks = outer.jacobian(flat, variables)
    return tf.concat([tf.reshape(b, [tf.shape(flat)[0], -1]) for b in blocks], axis=1)


def _split(flat, variables):
    sizes = [int(np.prod(v.shape)) for v in variables]
    pieces = np.split(np.asarray(flat), np.cumsum(sizes)[:-1])
    return [tf.constant(x.reshape(v.shape), dtype=v.dtype) for x, v in zip(pieces, variables)]


def jacobian_product(loss_fn, variables, vectors):
    """H v with H the full Hessian."""
    v = np.concatenate([np.ravel(np.asarray(x)) for x in vectors])
    return _split(full_hessian(loss_fn, variables).numpy() @ v, variables)


def eigh_top_eigenvalue(loss_fn, variables, iterations=50, seed=0):
    """The eigenpair of largest magnitude of the full Hessian, by numpy.linalg.eigh."""
    eigenvalues, eigenvectors = np.linalg.eigh(full_hessian(loss_fn, variables).numpy())
    top = int(np.argmax(np.abs(eigenvalues)))
    return eigenvalues[top], _split(eigenvectors[:, top], variables)
