"""Lesson 3's data, model and training loop: handwritten digits, a multilayer perceptron written
with TensorFlow's Core APIs, and a compiled training step that takes any optimizer.

    data = load_split()                      # 1,437 training and 360 validation images
    history = train(AdamW(1e-3), steps=300)  # the same seed gives the same run

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


@dataclasses.dataclass(frozen=True)
class Split:
    """Flattened images (float32 in [0, 1], 64 pixels each) and their labels (int32, 0 to 9)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


@functools.cache
def load_split(seed: int = 0) -> Split:
    """The digits split 80/20 into training and validation sets, stratified by label: the same
    split for the same seed. Pixels (0 to 16) are divided by 16."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int32)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=VALIDATION_FRACTION, random_state=seed, stratify=y
    )
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
    """A compiled step(x, y) -> loss: the gradients of the cross-entropy with respect to
    `model.trainable_variables`, passed through `clip(grads) -> grads` if given, then applied by
    `optimizer` (a course optimizer's apply_gradients(grads, vars) or a Keras optimizer's)."""
    keras = is_keras_optimizer(optimizer)

    @tf.function
    def step(x, y):
        variables = model.trainable_variables
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
    (step, accuracy) and the weight norm; `seconds` of training, evaluations excluded."""

    steps: list = dataclasses.field(default_factory=list)
    losses: list = dataclasses.field(default_factory=list)
    val_accuracy: list = dataclasses.field(default_factory=list)
    weight_norm: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    @property
    def diverged(self) -> bool:
        """Did the run stop on a loss that is not finite?"""
        return bool(self.losses) and not np.isfinite(self.losses[-1])

    @property
    def final_accuracy(self) -> float:
        """The validation accuracy at the last evaluation."""
        return self.val_accuracy[-1][1]


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
) -> History:
    """Train `model` (a new MLP(seed=seed) by default) on `data` (load_split() by default) for
    `steps` steps of the compiled step with `optimizer` and `clip`, on batches drawn from `seed`.

    The run stops early at the first loss that is not finite (then the last loss). Returns a
    History."""
    model = MLP(seed=seed) if model is None else model
    data = load_split() if data is None else data
    step = make_train_step(model, optimizer, clip)
    history = History()

    def evaluate(at):
        history.val_accuracy.append((at, accuracy(model, data.x_val, data.y_val)))
        history.weight_norm.append(weight_norm(model))

    evaluate(0)
    indices = batches(len(data.y_train), batch_size, seed)
    for t in range(1, steps + 1):
        batch = next(indices)
        started = time.perf_counter()
        loss = float(step(data.x_train[batch], data.y_train[batch]))
        history.seconds += time.perf_counter() - started
        history.steps.append(t)
        history.losses.append(loss)
        if not np.isfinite(loss):
            break
        if t % eval_every == 0 or t == steps:
            evaluate(t)
    return history
