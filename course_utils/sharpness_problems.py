"""Lesson 4's small problems: a loss of a few variables whose gradient and Hessian are known
exactly, in NumPy (float64), and the same loss written with TensorFlow for the exercises.

    p = problem("regression", seed=0)
    p.loss(p.values), p.gradient(p.values), p.hessian(p.values)   # NumPy
    variables = p.variables()                                     # fresh tf.Variables at p.values
    loss_fn = p.loss_fn(variables)                                # what SAM.minimize takes

Every problem has three variables: a 3x2 matrix W, a vector b of 2 and a scalar c (9 numbers;
flattened in that order, each in C order, for the Hessian).
- "regression": a tiny network on fixed data, c + tanh(X W + b) . u against targets y, with a
  squared error and an L2 term on W. Its Hessian is the complex-step derivative of its
  closed-form gradient (exact to rounding: no subtraction).
- "minimum" and "saddle": L(x) = 1/2 (x - m)' A (x - m) + k/12 sum((x - m)^4) at x = m, a
  minimum (A positive definite) or a saddle (A indefinite, its largest-magnitude eigenvalue
  negative). At m the Hessian is A, whose largest-magnitude eigenvalue is at least GAP times the
  next one's magnitude: power iteration converges fast.
TensorFlow is imported only by `variables` and `loss_fn`.
"""

import dataclasses

import numpy as np

NAMES = ("regression", "minimum", "saddle")
SHAPES = ((3, 2), (2,), ())
SIZE = sum(int(np.prod(s, dtype=int)) for s in SHAPES)
GAP = 1.6  # |largest eigenvalue| / |next one| at the "minimum" and "saddle" points
SAMPLES = 12  # data points of "regression"
L2 = 0.01
QUARTIC = 0.5


def flatten(values):
    """One float64 vector of every element of `values` (arrays of SHAPES), in order."""
    return np.concatenate([np.ravel(np.asarray(v)) for v in values])


def unflatten(x):
    """The arrays of SHAPES that `flatten` made `x` from."""
    out, at = [], 0
    for shape in SHAPES:
        size = int(np.prod(shape, dtype=int))
        out.append(np.reshape(x[at : at + size], shape))
        at += size
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class Problem:
    """A loss of W, b, c with its exact gradient and Hessian; `values` is the starting point."""

    name: str
    seed: int
    values: tuple  # float64 arrays of SHAPES
    data: dict  # the problem's constants (NumPy arrays)

    def loss(self, values):
        if self.name == "regression":
            return float(_regression(self.data, values)[0])
        return float(_polynomial(self.data, flatten(values))[0])

    def gradient(self, values):
        """dL/dW, dL/db, dL/dc: arrays shaped like `values`."""
        if self.name == "regression":
            return _regression(self.data, values)[1]
        return unflatten(_polynomial(self.data, flatten(values))[1])

    def hessian(self, values):
        """The SIZE x SIZE Hessian over the flattened variables."""
        x = flatten(values).astype(np.float64)
        if self.name != "regression":
            return _polynomial(self.data, x)[2]
        step = 1e-30  # complex step: Im g(x + i h e_j) / h is the exact column j
        columns = []
        for j in range(SIZE):
            z = x.astype(np.complex128)
            z[j] += 1j * step
            columns.append(flatten(_regression(self.data, unflatten(z))[1]).imag / step)
        hessian = np.stack(columns, axis=1)
        return (hessian + hessian.T) / 2

    def variables(self, dtype=None):
        """Fresh tf.Variables holding `values` (float64 unless `dtype` says otherwise)."""
        import tensorflow as tf

        dtype = dtype or tf.float64
        return [tf.Variable(np.asarray(v), dtype=dtype) for v in self.values]

    def loss_fn(self, variables):
        """A zero-argument callable: the loss at the variables' current values (TensorFlow)."""
        import tensorflow as tf

        dtype = variables[0].dtype
        data = {k: tf.constant(v, dtype=dtype) for k, v in self.data.items()}
        W, b, c = variables
        if self.name == "regression":

            def loss_fn():
                hidden = tf.tanh(data["X"] @ W + b)
                residual = c + tf.linalg.matvec(hidden, data["u"]) - data["y"]
                mean = tf.reduce_mean(tf.square(residual)) / 2
                return mean + L2 / 2 * tf.reduce_sum(tf.square(W))

            return loss_fn

        def loss_fn():
            x = tf.concat([tf.reshape(W, [-1]), tf.reshape(b, [-1]), tf.reshape(c, [-1])], 0)
            d = x - data["m"]
            quadratic = tf.reduce_sum(d * tf.linalg.matvec(data["A"], d)) / 2
            return quadratic + QUARTIC / 12 * tf.reduce_sum(d**4)

        return loss_fn


def _regression(data, values):
    """(loss, gradient) of the tiny network; complex-safe (no abs, no conjugate)."""
    W, b, c = values
    X, u, y = data["X"], data["u"], data["y"]
    hidden = np.tanh(X @ W + b)
    residual = c + hidden @ u - y
    n = len(y)
    loss = residual @ residual / (2 * n) + L2 / 2 * np.sum(W * W)
    d_out = residual / n
    d_pre = np.outer(d_out, u) * (1 - hidden * hidden)
    return loss, [X.T @ d_pre + L2 * W, d_pre.sum(axis=0), d_out.sum()]


def _polynomial(data, x):
    """(loss, gradient, Hessian) of 1/2 d'Ad + k/12 sum(d^4), d = x - m."""
    A, m = data["A"], data["m"]
    d = x - m
    loss = d @ A @ d / 2 + QUARTIC / 12 * np.sum(d**4)
    gradient = A @ d + QUARTIC / 3 * d**3
    return loss, gradient, A + np.diag(QUARTIC * d**2)


def _spectrum(rng, negative):
    """Eigenvalues: the top one of magnitude 4 to 6 (negative for a saddle), the others within
    1/GAP of it (some negative at a saddle, all positive at a minimum)."""
    top = rng.uniform(4.0, 6.0)
    bound = top / GAP
    rest = rng.uniform(-bound if negative else 0.2, bound, size=SIZE - 1)
    return np.concatenate([[-top if negative else top], rest])


def problem(name="regression", seed=0):
    """The problem `name` (one of NAMES) with data and starting point drawn from `seed`."""
    if name not in NAMES:
        raise ValueError(f"no problem {name!r}; choose from {', '.join(NAMES)}")
    rng = np.random.default_rng([NAMES.index(name), seed])
    if name == "regression":
        data = {
            "X": rng.normal(size=(SAMPLES, 3)),
            "u": np.array([1.5, -1.0]),
            "y": rng.normal(size=SAMPLES),
        }
        values = [rng.normal(scale=0.8, size=s) for s in SHAPES]
    else:
        q, _ = np.linalg.qr(rng.normal(size=(SIZE, SIZE)))
        A = q @ np.diag(_spectrum(rng, name == "saddle")) @ q.T
        data = {"A": (A + A.T) / 2, "m": rng.normal(size=SIZE)}
        values = unflatten(data["m"].copy())
    values = tuple(np.asarray(v, dtype=np.float64) for v in values)
    return Problem(name, seed, values, data)
