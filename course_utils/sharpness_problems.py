"""Small deterministic problems for lesson 4, with their loss, gradient and Hessian exact in NumPy.

Every problem has three variables of different shapes, a matrix W (3 x 4), a vector b (4) and a
scalar s, and the same loss of theta = (W, b, s) flattened and concatenated:

    pred_i = s * sum_k v_k tanh(x_i W + b)_k                  (a one-hidden-layer tanh model)
    L(theta) = 1/(2n) sum_i (pred_i - y_i)^2 + lambda/2 |theta|^2
               - t . theta + 1/2 (theta - theta0)^T Q (theta - theta0)

on fixed data x (n x 3), y (n) and fixed output weights v (4), all drawn from the seed.

- "regression": t = 0, Q = 0; a point from which SAM around SGD or Adam makes visible progress.
- "minimum": a strict local minimum theta0 (t cancels the gradient there) whose Hessian is
  positive definite with one dominant eigenvalue: Q = alpha I + kappa q q^T.
- "saddle": the same stationary point with Q = alpha I - kappa q q^T: one negative eigenvalue,
  the largest in magnitude, all others positive.

alpha makes the rest of the Hessian positive definite (smallest eigenvalue at least 0.1) and
kappa = 4 times its largest eigenvalue, so the top eigenvalue outweighs the second by at least 3
(Weyl's interlacing for a rank-one update): power iteration converges to it quickly.

Importing this module does not import TensorFlow; `Problem.variables` and `Problem.loss_fn` do.
"""

import dataclasses

import numpy as np

NAMES = ("regression", "minimum", "saddle")
SHAPES = ((3, 4), (4,), ())  # W, b, s
SAMPLES = 16
WEIGHT_DECAY = 0.01
_GAP_FACTOR = 4.0  # kappa / largest eigenvalue of the rest of the Hessian
_MARGIN = 0.1  # smallest eigenvalue of the rest of the Hessian


def flatten(values) -> np.ndarray:
    """The values' entries concatenated in order (each array row-major) into one float64 vector."""
    return np.concatenate([np.ravel(np.asarray(value, dtype=np.float64)) for value in values])


def unflatten(theta) -> list[np.ndarray]:
    """The inverse of `flatten`: arrays shaped like the problems' variables (W, b, s)."""
    theta = np.asarray(theta, dtype=np.float64)
    sizes = [int(np.prod(shape)) for shape in SHAPES]
    pieces = np.split(theta, np.cumsum(sizes)[:-1])
    return [piece.reshape(shape) for piece, shape in zip(pieces, SHAPES)]


@dataclasses.dataclass(frozen=True, eq=False)
class Problem:
    """A loss of (W, b, s) as the module docstring writes it, and the point `values` to study.

    `loss`, `gradient` and `hessian` take a list of arrays like `values`; the Hessian is over the
    flattened concatenation (see `flatten`). `variables()` makes fresh tf.Variables at the point
    and `loss_fn(variables)` the zero-argument callable computing the same loss with TensorFlow.
    """

    name: str
    seed: int
    x: np.ndarray  # (n, 3)
    y: np.ndarray  # (n,)
    v: np.ndarray  # (4,) output weights
    weight_decay: float
    tilt: np.ndarray  # t, flat
    center: np.ndarray  # theta0, flat
    curvature: np.ndarray  # Q, (p, p) symmetric
    values: tuple[np.ndarray, ...]

    def _forward(self, values):
        weights, bias, scale = (np.asarray(value, dtype=np.float64) for value in values)
        hidden = np.tanh(self.x @ weights + bias)  # a, (n, h)
        output = hidden @ self.v  # u, (n,)
        return hidden, output, scale * output - self.y, float(scale)

    def loss(self, values) -> float:
        _, _, residual, _ = self._forward(values)
        theta = flatten(values)
        offset = theta - self.center
        return float(
            0.5 * np.mean(residual**2)
            + 0.5 * self.weight_decay * theta @ theta
            - self.tilt @ theta
            + 0.5 * offset @ self.curvature @ offset
        )

    def _regression_gradient(self, values) -> np.ndarray:
        hidden, output, residual, scale = self._forward(values)
        inputs = np.hstack([self.x, np.ones((len(self.x), 1))])  # [x_i, 1]: z = inputs @ [W; b]
        slope = scale * self.v * (1.0 - hidden**2)  # d pred_i / d z_ik
        d_layer = inputs.T @ (residual[:, None] * slope) / len(self.x)  # ((d+1), h)
        d_scale = np.mean(residual * output)
        return np.concatenate([d_layer.ravel(), [d_scale]])

    def gradient(self, values) -> list[np.ndarray]:
        theta = flatten(values)
        flat = (
            self._regression_gradient(values)
            + self.weight_decay * theta
            - self.tilt
            + self.curvature @ (theta - self.center)
        )
        return unflatten(flat)

    def hessian(self, values) -> np.ndarray:
        hidden, output, residual, scale = self._forward(values)
        n, hidden_size = hidden.shape
        inputs = np.hstack([self.x, np.ones((n, 1))])
        derivative = 1.0 - hidden**2  # tanh'
        # Jacobian of pred_i: scale * v_k * tanh'(z_ik) * inputs_ij for (j, k); output_i for s.
        jac_layer = inputs[:, :, None] * (scale * self.v * derivative)[:, None, :]
        jacobian = np.hstack([jac_layer.reshape(n, -1), output[:, None]])  # (n, p)
        hessian = jacobian.T @ jacobian
        # Plus sum_i r_i times the Hessian of pred_i: diagonal in k within the layer block, ...
        curvature = residual[:, None] * scale * self.v * (-2.0 * hidden * derivative)  # (n, h)
        layer = np.einsum("ij,il,ik->jkl", inputs, inputs, curvature)  # [j, k, j']
        block = np.einsum("jkl,km->jklm", layer, np.eye(hidden_size))  # delta_kk'
        size = inputs.shape[1] * hidden_size
        hessian[:size, :size] += block.reshape(size, size)
        # ... and d^2 pred_i / d z_ik d s = v_k tanh'(z_ik).
        cross = inputs.T @ (residual[:, None] * self.v * derivative)  # (d+1, h)
        hessian[:size, size] += cross.ravel()
        hessian[size, :size] += cross.ravel()
        hessian /= n
        return hessian + self.weight_decay * np.eye(len(hessian)) + self.curvature

    def variables(self, dtype=None) -> list:
        """Fresh tf.Variables (float64 unless `dtype` says otherwise) at the point `values`."""
        import tensorflow as tf

        dtype = tf.float64 if dtype is None else dtype
        return [
            tf.Variable(tf.constant(value, dtype=dtype), name=name)
            for value, name in zip(self.values, ("W", "b", "s"))
        ]

    def loss_fn(self, variables):
        """A zero-argument callable: the loss at the variables' current values, in TensorFlow."""
        import tensorflow as tf

        weights, bias, scale = variables
        dtype = weights.dtype
        x, y, v = (tf.constant(array, dtype=dtype) for array in (self.x, self.y, self.v))
        tilt, center = tf.constant(self.tilt, dtype=dtype), tf.constant(self.center, dtype=dtype)
        curvature = tf.constant(self.curvature, dtype=dtype)
        decay = tf.constant(self.weight_decay, dtype=dtype)
        quadratic = bool(np.any(self.tilt) or np.any(self.curvature))

        def loss_fn():
            residual = scale * tf.linalg.matvec(tf.tanh(x @ weights + bias), v) - y
            theta = tf.concat([tf.reshape(variable, [-1]) for variable in variables], axis=0)
            loss = 0.5 * tf.reduce_mean(tf.square(residual))
            loss += 0.5 * decay * tf.reduce_sum(tf.square(theta))
            if quadratic:
                offset = theta - center
                loss += 0.5 * tf.reduce_sum(offset * tf.linalg.matvec(curvature, offset))
                loss -= tf.reduce_sum(tilt * theta)
            return loss

        return loss_fn


def _random_values(rng, spread) -> tuple[np.ndarray, ...]:
    return tuple(
        np.asarray(rng.normal(0.0, scale, shape), dtype=np.float64)
        for shape, scale in zip(SHAPES, spread)
    )


def problem(name: str, seed: int = 0) -> Problem:
    """The problem `name` (one of NAMES); `seed` draws its data and point."""
    if name not in NAMES:
        raise ValueError(f"unknown problem {name!r}; choose one of {NAMES}")
    rng = np.random.default_rng([NAMES.index(name), seed])
    x = rng.normal(0.0, 1.0, (SAMPLES, SHAPES[0][0]))
    v = rng.normal(0.0, 1.0, SHAPES[1])
    teacher = _random_values(rng, (1.0, 0.5, 1.0))
    hidden = np.tanh(x @ teacher[0] + teacher[1])
    y = float(teacher[2]) * hidden @ v + rng.normal(0.0, 0.1, SAMPLES)
    values = _random_values(rng, (0.5, 0.1, 0.5))
    size = len(flatten(values))
    zero = np.zeros(size)
    base = Problem(name, seed, x, y, v, WEIGHT_DECAY, zero, zero, np.zeros((size, size)), values)
    if name == "regression":
        return _frozen(base)
    theta = flatten(values)
    rest = base.hessian(values)
    eigenvalues = np.linalg.eigvalsh(rest)
    alpha = max(0.0, _MARGIN - eigenvalues[0])
    kappa = _GAP_FACTOR * (eigenvalues[-1] + alpha)
    direction = rng.normal(0.0, 1.0, size)
    direction /= np.linalg.norm(direction)
    sign = 1.0 if name == "minimum" else -1.0
    curvature = alpha * np.eye(size) + sign * kappa * np.outer(direction, direction)
    tilt = flatten(base.gradient(values))  # cancels the gradient at theta0
    return _frozen(dataclasses.replace(base, tilt=tilt, center=theta, curvature=curvature))


def _frozen(result: Problem) -> Problem:
    for array in (result.x, result.y, result.v, result.tilt, result.center, result.curvature):
        array.setflags(write=False)
    for value in result.values:
        value.setflags(write=False)
    return result
