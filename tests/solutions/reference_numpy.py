"""Textbook update rules in NumPy float64: an independent reference for the TensorFlow optimizers.

Each rule is `init(shape) -> state` and `step(x, g, state, t) -> (x, state)` with t = 1, 2, ...
"""

import numpy as np


def gradient_descent(learning_rate):
    def step(x, g, state, t):
        return x - learning_rate * g, state

    return (lambda shape: None), step


def momentum(learning_rate, momentum=0.7):
    def step(x, g, velocity, t):
        velocity = learning_rate * g + momentum * velocity
        return x - velocity, velocity

    return (lambda shape: np.zeros(shape)), step


def adam(learning_rate, beta_1=0.9, beta_2=0.999, ep=1e-7):
    def step(x, g, moments, t):
        m, s = moments
        m = beta_1 * m + (1 - beta_1) * g
        s = beta_2 * s + (1 - beta_2) * g**2
        m_hat = m / (1 - beta_1**t)
        s_hat = s / (1 - beta_2**t)
        return x - learning_rate * m_hat / (np.sqrt(s_hat) + ep), (m, s)

    return (lambda shape: (np.zeros(shape), np.zeros(shape))), step


def run(rule, initial_values, gradient_sequence):
    """Apply `rule` to every variable for each list of gradients.

    Returns the final values, the largest |x| and the largest single update |x_t - x_{t-1}| seen
    on the way (what bounds float32 rounding, see the tests).
    """
    init, step = rule
    xs = [np.asarray(x, dtype=np.float64) for x in initial_values]
    states = [init(x.shape) for x in xs]
    largest_x = max(float(np.max(np.abs(x))) for x in xs)
    largest_step = 0.0
    for t, grads in enumerate(gradient_sequence, start=1):
        for i, g in enumerate(grads):
            new, states[i] = step(xs[i], np.asarray(g, dtype=np.float64), states[i], t)
            largest_step = max(largest_step, float(np.max(np.abs(new - xs[i]))))
            largest_x = max(largest_x, float(np.max(np.abs(new))))
            xs[i] = new
    return xs, largest_x, largest_step
