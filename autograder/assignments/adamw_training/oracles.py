"""Lesson 3's independent oracles behind each exercise's interface: `tf.clip_by_global_norm`,
Keras' `CosineDecay` with its warm-up, Keras' `AdamW`."""

import keras
import tensorflow as tf


def tf_clip_by_global_norm(grads, clip_norm):
    """TensorFlow's own: (clipped gradients, global norm)."""
    return tf.clip_by_global_norm(grads, clip_norm)


class KerasWarmupCosineDecay:
    """Keras' CosineDecay(0.0, decay_steps, alpha, warmup_target=peak, warmup_steps)."""

    def __init__(self, peak_learning_rate, warmup_steps, decay_steps, alpha=0.0):
        self.schedule = keras.optimizers.schedules.CosineDecay(
            0.0,
            decay_steps,
            alpha=alpha,
            warmup_target=peak_learning_rate,
            warmup_steps=warmup_steps,
        )

    def __call__(self, step):
        return self.schedule(step)


class _Schedule(keras.optimizers.schedules.LearningRateSchedule):
    """A plain callable of the step as a Keras schedule (Keras calls other callables with no
    argument)."""

    def __init__(self, function):
        self.function = function

    def __call__(self, step):
        return self.function(step)


class KerasAdamW:
    """Keras' AdamW behind the course's `apply_gradients(grads, vars)` interface."""

    def __init__(
        self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.004
    ):
        if callable(learning_rate):
            learning_rate = _Schedule(learning_rate)
        self.optimizer = keras.optimizers.AdamW(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            weight_decay=weight_decay,
        )

    def apply_gradients(self, grads, vars):
        self.optimizer.apply_gradients(zip(grads, vars))
