"""Reference optimizers of the course: the hidden solutions.

Generated from solutions/sam_sharpness.ipynb by `make student`. Edit the notebook, not this file.
"""

import tensorflow as tf


class SAM(tf.Module):
    """Sharpness-aware minimization (Foret et al., 2021) around a base optimizer.

    One call of minimize(loss_fn, vars), with w the variables' values and g = grad L(w):

        e = rho * g / (||g|| + epsilon)       ||g||: one norm over all the variables
        w <- w - base step with grad L(w + e)  (the weights are put back to w exactly first)

    The base optimizer is a Keras optimizer, called as apply_gradients(zip(grads, vars)).
    minimize returns the loss at w and works eagerly and inside a tf.function.
    """

    def __init__(self, base_optimizer, rho=0.05, epsilon=1e-12):
        super().__init__()
        self.base_optimizer = base_optimizer
        self.rho = rho
        self.epsilon = epsilon

    def minimize(self, loss_fn, vars):
        """One SAM step on `vars` for the loss computed by `loss_fn()`; returns that loss at the
        weights before the step."""
        vars = list(vars)
        zero = tf.UnconnectedGradients.ZERO
        with tf.GradientTape() as tape_w:
            loss_w = loss_fn()  # at w: returned
        grads = tape_w.gradient(loss_w, vars, unconnected_gradients=zero)
        norm = tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(g)) for g in grads]))
        scale = self.rho / (norm + self.epsilon)
        saved = [tf.identity(v) for v in vars]
        for v, g in zip(vars, grads):
            v.assign_add(tf.cast(scale, v.dtype) * g)
        with tf.GradientTape() as tape_w_e:
            loss_w_e = loss_fn()  # at w + e
        sharp_grads = tape_w_e.gradient(loss_w_e, vars, unconnected_gradients=zero)
        for var, value in zip(vars, saved):
            var.assign(value)
        self.base_optimizer.apply_gradients(zip(sharp_grads, vars))
        return loss_w


def hessian_vector_product(loss_fn, vars, vectors):
    """H v, where H is the Hessian of loss_fn() at the current values of `vars` and v the list
    of tensors `vectors` shaped like `vars`: the gradient of grad L . v with respect to `vars`,
    by two nested tapes. Returns a list of tensors shaped like `vars`."""
    vars = list(vars)
    zero = tf.UnconnectedGradients.ZERO
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = loss_fn()
        grads = inner.gradient(loss, vars, unconnected_gradients=zero)
        dot = tf.add_n([tf.reduce_sum(g * tf.stop_gradient(v)) for g, v in zip(grads, vectors)])
    return outer.gradient(dot, vars, unconnected_gradients=zero)


def top_hessian_eigenvalue(loss_fn, vars, iterations=50, seed=0):
    """The eigenvalue of largest magnitude of the Hessian of loss_fn() at `vars`, signed, and its
    unit eigenvector, by power iteration from a stateless normal start drawn with `seed`:

        v <- H v / ||H v||,   eigenvalue = v . H v   (v a unit vector, before the update)

    Returns (eigenvalue, vectors), vectors a list of tensors shaped like `vars`."""
    vars = list(vars)

    def global_norm(tensors):
        return tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(t)) for t in tensors]))

    start = []
    for i, v in enumerate(vars):
        start.append(tf.random.stateless_normal(tf.shape(v), seed=[seed, i], dtype=v.dtype))
    norm = global_norm(start)
    vectors = [u / norm for u in start]
    eigenvalue = tf.constant(0.0, dtype=vars[0].dtype)
    for _ in range(iterations):
        hv = hessian_vector_product(loss_fn, vars, vectors)
        eigenvalue = tf.add_n([tf.reduce_sum(h * u) for h, u in zip(hv, vectors)])
        norm = global_norm(hv)
        vectors = [h / norm for h in hv]
    return eigenvalue, vectors
