"""Reference optimizers of the course: the hidden solutions.

Generated from solutions/adamw_training.ipynb by `make student`. Edit the notebook, not this file.
"""

import tensorflow as tf


def clip_by_global_norm(grads, clip_norm):
    """Scale `grads` (a list of tensors) by min(1, clip_norm / global_norm), where global_norm is
    the Euclidean norm of all their entries together.

    Returns (the list of clipped tensors, global_norm): the values of
    tf.clip_by_global_norm(grads, clip_norm). Gradients whose global norm is at most clip_norm
    come back unchanged.
    """
    global_norm = tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(g)) for g in grads]))
    scale = tf.minimum(1.0, clip_norm / global_norm)
    # As tf.clip_by_global_norm: a norm that is inf or nan makes every gradient nan.
    scale += global_norm - global_norm
    return [g * scale for g in grads], global_norm


class WarmupCosineDecay:
    """A learning rate that grows linearly from 0 to peak_learning_rate over warmup_steps, then
    decays along a cosine to alpha * peak_learning_rate over decay_steps, and stays there.

    Called with the number of updates done so far (0 for the first), it returns the learning
    rate as a float32 scalar: the values of Keras' CosineDecay(0.0, decay_steps, alpha=alpha,
    warmup_target=peak_learning_rate, warmup_steps=warmup_steps).
    """

    def __init__(self, peak_learning_rate, warmup_steps, decay_steps, alpha=0.0):
        self.peak_learning_rate = peak_learning_rate
        self.warmup_steps = warmup_steps
        self.decay_steps = decay_steps
        self.alpha = alpha

    def __call__(self, step):
        """The learning rate after `step` updates (a Python int or an integer tensor)."""
        peak = tf.constant(self.peak_learning_rate, tf.float32)
        warmup_steps = tf.constant(self.warmup_steps, tf.float32)
        decay_steps = tf.constant(self.decay_steps, tf.float32)
        step = tf.minimum(tf.cast(step, tf.float32), warmup_steps + decay_steps)
        pi = tf.constant(3.141592653589793, tf.float32)

        def warmup():
            return peak * (step / warmup_steps)

        def decay():
            cosine = 0.5 * (1.0 + tf.cos(pi * ((step - warmup_steps) / decay_steps)))
            return peak * ((1 - self.alpha) * cosine + self.alpha)

        return tf.cond(step < warmup_steps, warmup, decay)


class AdamW(tf.Module):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019), as Keras' AdamW.

    Each variable x keeps its own moments m and v, zero at first. At each call, with g = dL/dx,
    lr the learning rate (or the schedule at the number of updates done so far) and t that
    number plus one:

        x <- x - lr * weight_decay * x
        m <- m + (g - m) * (1 - beta_1)
        v <- v + (g^2 - v) * (1 - beta_2)
        x <- x - lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)

    It works eagerly and inside a tf.function: the step count is a tf.Variable and the moments
    are tf.Variables created once per variable.
    """

    def __init__(
        self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.004
    ):
        self.learning_rate = learning_rate  # a number, or a schedule: a callable of the step
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.weight_decay = weight_decay
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False)  # updates done
        self.momentums = {}  # var.ref() -> tf.Variable: that variable's first moment m
        self.velocities = {}  # var.ref() -> tf.Variable: its second moment v

    def apply_gradients(self, grads, vars):
        """Update each variable of `vars` in place with its gradient in `grads`."""
        lr = self.learning_rate
        if callable(lr):
            lr = lr(self.iterations)
        t = tf.cast(self.iterations + 1, tf.float32)
        for g, var in zip(grads, vars):
            if var.ref() not in self.momentums:
                with tf.init_scope():  # created once, outside any graph being traced
                    self.momentums[var.ref()] = tf.Variable(tf.zeros(var.shape, var.dtype))
                    self.velocities[var.ref()] = tf.Variable(tf.zeros(var.shape, var.dtype))
            m, v = self.momentums[var.ref()], self.velocities[var.ref()]
            lr_t = tf.cast(lr, var.dtype)
            var.assign_sub(var * tf.cast(self.weight_decay, var.dtype) * lr_t)
            beta_1_power = tf.pow(tf.cast(self.beta_1, var.dtype), t)
            beta_2_power = tf.pow(tf.cast(self.beta_2, var.dtype), t)
            alpha = lr_t * tf.sqrt(1 - beta_2_power) / (1 - beta_1_power)
            m.assign_add((g - m) * (1 - self.beta_1))
            v.assign_add((tf.square(g) - v) * (1 - self.beta_2))
            var.assign_sub((m * alpha) / (tf.sqrt(v) + self.epsilon))
        self.iterations.assign_add(1)
