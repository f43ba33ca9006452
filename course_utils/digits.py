"""Lessons 3 and 4's data, model and training loop: handwritten digits (optionally with part of
the training labels flipped), a multilayer perceptron written with TensorFlow's Core APIs, a
compiled training step that takes any optimizer, and the loss along a line through the weights.

    data = load_split()                      # 1,437 training and 360 validation images
    history = train(AdamW(1e-3), steps=300)  # the same seed gives the same run
    noisy = load_split(label_noise=0.3)      # 30 % of the training labels flipped

The digits are scikit-learn's bundled copy of the UCI "Optical Recognition of Handwritten Digits"
test set (1,797 images of 8x8 pixels, shipped inside the package: nothing is downloaded).
"""

import dataclasses
import functools
import sys
import time

import numpy as np
import tensorflow as tf

VALIDATION_FRACTION = 0.2
SHARPNESS_BATCH = 256  # training images on which train() measures the top eigenvalue


@dataclasses.dataclass(frozen=True)
class Split:
    """Flattened images (float32 in [0, 1], 64 pixels each) and their labels (int32, 0 to 9)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def flip_labels(labels, fraction: float, seed: int = 0, classes: int = 10) -> np.ndarray:
    """A copy of `labels` in which round(fraction * len(labels)) of them, chosen by `seed`, are
    each replaced by another class drawn uniformly from the `classes` - 1 others."""
    labels = np.array(labels)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(labels), round(fraction * len(labels)), replace=False)
    labels[chosen] = (labels[chosen] + rng.integers(1, classes, len(chosen))) % classes
    return labels


@functools.cache
def load_split(seed: int = 0, label_noise: float = 0.0) -> Split:
    """The digits split 80/20 into training and validation sets, stratified by label: the same
    split for the same seed. Pixels (0 to 16) are divided by 16. With `label_noise`, that
    fraction of the training labels is flipped to another class (`flip_labels`, same seed); the
    images and the validation set are those of the clean split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int32)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=VALIDATION_FRACTION, random_state=seed, stratify=y
    )
    if label_noise:
        y_train = flip_labels(y_train, label_noise, seed).astype(np.int32)
    for array in (x_train, x_val, y_train, y_val):
        array.setflags(write=False)
    return Split(x_train, y_train, x_val, y_val)


class Dense(tf.Module):
    """y = x @ w + b, with w drawn uniformly in +-sqrt(6 / fan_in) (He's uniform initialisation,
    suited to ReLU) from a stateless seed, and b = 0."""

    def __init__(self, fan_in: int, fan_out: int, seed: tuple[int, int]):
        super().__init__()
        limit = np.sqrt(6.0 / fan_in)
        self.w = tf.Variable(
            tf.random.stateless_uniform((fan_in, fan_out), seed, -limit, limit), name="w"
        )
        self.b = tf.Variable(tf.zeros(fan_out), name="b")

    def __call__(self, x):
        return tf.matmul(x, self.w) + self.b


class MLP(tf.Module):
    """A multilayer perceptron: dense layers of the given `sizes` (inputs first, classes last),
    ReLU between them; it returns logits. The same seed gives the same initial weights."""

    def __init__(self, sizes=(64, 64, 10), seed: int = 0):
        super().__init__()
        self.layers = [
            Dense(fan_in, fan_out, seed=(seed, index))
            for index, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:]))
        ]

    def __call__(self, x):
        for layer in self.layers[:-1]:
            x = tf.nn.relu(layer(x))
        return self.layers[-1](x)


def cross_entropy(logits, labels):
    """The mean softmax cross-entropy of integer `labels` under `logits`."""
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    )


def accuracy(model, x, y) -> float:
    """The fraction of images in `x` whose largest logit is their label in `y`."""
    predicted = tf.argmax(model(x), axis=1, output_type=tf.int32)
    return float(tf.reduce_mean(tf.cast(predicted == y, tf.float32)))


def weight_norm(model) -> float:
    """The Euclidean norm of all the model's trainable values together."""
    return float(tf.sqrt(sum(tf.reduce_sum(tf.square(v)) for v in model.trainable_variables)))


def is_keras_optimizer(optimizer) -> bool:
    """Is `optimizer` a Keras optimizer (apply_gradients takes (gradient, variable) pairs)?"""
    keras = sys.modules.get("keras")  # not imported: it cannot be a Keras optimizer
    return keras is not None and isinstance(optimizer, keras.optimizers.Optimizer)


def make_train_step(model, optimizer, clip=None):
    """A compiled step(x, y) -> loss (the batch's cross-entropy before the update).

    An optimizer with `minimize(loss_fn, vars)` that is not a Keras optimizer (lesson 4's SAM)
    is handed the loss as a function of the weights' current values and returns the loss.
    Otherwise the gradients with respect to `model.trainable_variables`, passed through
    `clip(grads) -> grads` if given, are applied by `optimizer` (a course optimizer's
    apply_gradients(grads, vars) or a Keras optimizer's)."""
    keras = is_keras_optimizer(optimizer)
    minimizes = not keras and hasattr(optimizer, "minimize")
    if minimizes and clip is not None:
        raise ValueError("clip applies to gradients; an optimizer with minimize() takes a loss")

    @tf.function
    def step(x, y):
        variables = model.trainable_variables
        if minimizes:
            return optimizer.minimize(lambda: cross_entropy(model(x), y), variables)
        with tf.GradientTape() as tape:
            loss = cross_entropy(model(x), y)
        grads = tape.gradient(loss, variables)
        if clip is not None:
            grads = list(clip(grads))
        if keras:
            optimizer.apply_gradients(zip(grads, variables))
        else:
            optimizer.apply_gradients(grads, variables)
        return loss

    return step


@dataclasses.dataclass
class History:
    """A training run: the loss at each step (its batch's, before the update), and at each
    evaluation (step 0, every `eval_every` steps and the last step) the validation accuracy as
    (step, accuracy), the weight norm and, if measured, the top Hessian eigenvalue as (step,
    eigenvalue); `seconds` of training, evaluations excluded, of which `first_step_seconds` for
    the first step (which traces the compiled step)."""

    steps: list = dataclasses.field(default_factory=list)
    losses: list = dataclasses.field(default_factory=list)
    val_accuracy: list = dataclasses.field(default_factory=list)
    weight_norm: list = dataclasses.field(default_factory=list)
    sharpness: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    first_step_seconds: float = 0.0

    @property
    def diverged(self) -> bool:
        """Did the run stop on a loss that is not finite?"""
        return bool(self.losses) and not np.isfinite(self.losses[-1])

    @property
    def final_accuracy(self) -> float:
        """The validation accuracy at the last evaluation."""
        return self.val_accuracy[-1][1]

    @property
    def seconds_per_step(self) -> float:
        """The mean time of a step once compiled (the first step, which traces, left out)."""
        return (self.seconds - self.first_step_seconds) / max(1, len(self.losses) - 1)


def batches(size: int, batch_size: int, seed: int):
    """Endless index batches: a new permutation of range(size) per epoch, the same for the same
    seed, each epoch cut into full batches (the remainder is left out, so shapes never change)."""
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(size)
        for start in range(0, size - batch_size + 1, batch_size):
            yield order[start : start + batch_size]


def train(
    optimizer,
    steps: int,
    *,
    clip=None,
    batch_size: int = 128,
    seed: int = 0,
    eval_every: int = 25,
    model=None,
    data: Split | None = None,
    sharpness=None,
    sharpness_every: int | None = None,
    sharpness_batch: int = SHARPNESS_BATCH,
    sharpness_iterations: int = 20,
) -> History:
    """Train `model` (a new MLP(seed=seed) by default) on `data` (load_split() by default) for
    `steps` steps of the compiled step with `optimizer` and `clip`, on batches drawn from `seed`.

    With `sharpness`, a function like lesson 4's top_hessian_eigenvalue(loss_fn, variables,
    iterations) -> (eigenvalue, vectors), the top eigenvalue of the Hessian of the loss on the
    first `sharpness_batch` training images is measured (eagerly, `sharpness_iterations`
    iterations) at step 0, every `sharpness_every` steps (default `eval_every`) and the last.

    The run stops early at the first loss that is not finite (then the last loss). Returns a
    History."""
    model = MLP(seed=seed) if model is None else model
    data = load_split() if data is None else data
    step = make_train_step(model, optimizer, clip)
    history = History()
    sharpness_every = sharpness_every or eval_every
    fixed = data.x_train[:sharpness_batch], data.y_train[:sharpness_batch]

    def evaluate(at):
        history.val_accuracy.append((at, accuracy(model, data.x_val, data.y_val)))
        history.weight_norm.append(weight_norm(model))

    def measure(at):
        def loss_fn():
            return cross_entropy(model(fixed[0]), fixed[1])

        eigenvalue, _ = sharpness(loss_fn, model.trainable_variables, sharpness_iterations)
        history.sharpness.append((at, float(eigenvalue)))

    evaluate(0)
    if sharpness is not None:
        measure(0)
    indices = batches(len(data.y_train), batch_size, seed)
    for t in range(1, steps + 1):
        batch = next(indices)
        started = time.perf_counter()
        loss = float(step(data.x_train[batch], data.y_train[batch]))
        elapsed = time.perf_counter() - started
        history.seconds += elapsed
        if t == 1:
            history.first_step_seconds = elapsed
        history.steps.append(t)
        history.losses.append(loss)
        if not np.isfinite(loss):
            break
        if t % eval_every == 0 or t == steps:
            evaluate(t)
        if sharpness is not None and (t % sharpness_every == 0 or t == steps):
            measure(t)
    return history


def filter_normalized_direction(model, seed: int = 0) -> list:
    """A random direction in weight space, one tensor per trainable variable, normalised per
    filter (H. Li et al., "Visualizing the loss landscape of neural nets", NeurIPS 2018): each
    column of a weight matrix (one unit's incoming weights) is drawn from a standard normal and
    scaled to the norm of that column of the model's weights; the biases' entries are 0. A step
    of 1 along it moves every unit by as much as its own weights, whatever their scale."""
    direction = []
    for index, variable in enumerate(model.trainable_variables):
        if len(variable.shape) < 2:
            direction.append(tf.zeros_like(variable))
            continue
        draw = tf.random.stateless_normal(variable.shape, seed=(seed, index), dtype=variable.dtype)
        scale = tf.norm(variable, axis=0) / tf.norm(draw, axis=0)
        direction.append(draw * scale)
    return direction


def loss_slice(model, x, y, direction, offsets) -> np.ndarray:
    """The cross-entropy of `model` on (x, y) at the weights w + t * direction for each t of
    `offsets` (`direction` a list of tensors like model.trainable_variables). The weights are
    put back exactly afterwards. Returns a float64 array like `offsets`."""
    variables = model.trainable_variables
    saved = [tf.identity(v) for v in variables]
    losses = []
    try:
        for offset in offsets:
            for v, w, d in zip(variables, saved, direction):
                v.assign(w + tf.cast(offset, v.dtype) * tf.cast(d, v.dtype))
            losses.append(float(cross_entropy(model(x), y)))
    finally:
        for v, w in zip(variables, saved):
            v.assign(w)
    return np.asarray(losses, dtype=np.float64)
