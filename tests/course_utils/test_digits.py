"""Lesson 3's data, model and training loop."""

import numpy as np
import pytest
import tensorflow as tf

from course_utils import digits
from course_utils.digits import MLP, accuracy, cross_entropy, load_split, make_train_step, train


class SGD:
    """Plain gradient descent with the course's apply_gradients(grads, vars) contract."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    def apply_gradients(self, grads, vars):
        for g, var in zip(grads, vars):
            var.assign_sub(self.learning_rate * g)


def test_split_is_fixed_scaled_and_stratified():
    """Does the same seed give the same split, with every digit in proportion on both sides?"""
    data = load_split()
    assert data is load_split()  # cached
    total = len(data.y_train) + len(data.y_val)
    assert total == 1797 and len(data.y_val) == np.ceil(0.2 * total)  # as scikit-learn rounds
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int32
    assert data.x_train.shape[1] == 64
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    train_share = np.bincount(data.y_train) / len(data.y_train)
    val_share = np.bincount(data.y_val) / len(data.y_val)
    assert np.abs(train_share - val_share).max() < 0.01
    load_split.cache_clear()
    again = load_split(0)
    assert np.array_equal(again.x_val, data.x_val) and np.array_equal(again.y_val, data.y_val)
    assert not np.array_equal(load_split(1).y_val, data.y_val)
    with pytest.raises(ValueError):
        data.x_train[0, 0] = 1.0  # read-only: the cache is shared


def test_the_seed_fixes_the_initial_weights():
    first, second, other = MLP(seed=3), MLP(seed=3), MLP(seed=4)
    assert len(first.trainable_variables) == 4
    for a, b in zip(first.trainable_variables, second.trainable_variables):
        assert np.array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(first.layers[0].w.numpy(), other.layers[0].w.numpy())
    logits = first(load_split().x_val)
    assert logits.shape == (360, 10)


def test_untrained_model_is_at_chance():
    data = load_split()
    model = MLP(seed=0)
    assert abs(float(cross_entropy(model(data.x_val), data.y_val)) - np.log(10)) < 0.6
    assert 0.0 <= accuracy(model, data.x_val, data.y_val) < 0.3


def test_training_is_deterministic_and_learns():
    first = train(SGD(0.1), 60, eval_every=20)
    second = train(SGD(0.1), 60, eval_every=20)
    assert first.losses == second.losses and first.val_accuracy == second.val_accuracy
    assert first.steps == list(range(1, 61))
    assert [step for step, _ in first.val_accuracy] == [0, 20, 40, 60]
    assert len(first.weight_norm) == len(first.val_accuracy)
    assert first.final_accuracy > 0.6 > first.val_accuracy[0][1]
    other_seed = train(SGD(0.1), 60, seed=1)
    assert other_seed.losses != first.losses


def test_keras_and_course_optimizers_take_the_same_step():
    data = load_split()
    x, y = data.x_train[:128], data.y_train[:128]
    ours, theirs = MLP(seed=0), MLP(seed=0)
    keras = tf.keras.optimizers.SGD(0.1)
    assert digits.is_keras_optimizer(keras) and not digits.is_keras_optimizer(SGD(0.1))
    loss_ours = make_train_step(ours, SGD(0.1))(x, y)
    loss_theirs = make_train_step(theirs, keras)(x, y)
    assert float(loss_ours) == float(loss_theirs)
    for a, b in zip(ours.trainable_variables, theirs.trainable_variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=1e-7)


def test_clip_sees_the_gradients():
    seen = []

    def clip(grads):
        seen.append(len(grads))
        return [tf.zeros_like(g) for g in grads]

    model = MLP(seed=0)
    before = [v.numpy() for v in model.trainable_variables]
    history = train(SGD(0.1), 3, clip=clip, model=model)
    assert seen == [4]  # traced once
    assert len(history.losses) == 3
    for a, b in zip(before, model.trainable_variables):
        assert np.array_equal(a, b.numpy())  # zero gradients: no step


def test_a_run_that_diverges_stops_at_its_first_non_finite_loss():
    def poison_after_ten(grads):
        return [g * tf.where(step.read_value() >= 10, np.inf, 1.0) for g in grads]

    step = tf.Variable(0)

    class Counting(SGD):
        def apply_gradients(self, grads, vars):
            super().apply_gradients(grads, vars)
            step.assign_add(1)

    history = train(Counting(0.1), 50, clip=poison_after_ten)
    assert len(history.losses) == 12  # step 11 gives inf * 0 = nan weights, step 12 a nan loss
    assert history.diverged
    assert not np.isfinite(history.losses[-1])
    assert np.isfinite(history.losses[:-1]).all()
    assert len(history.losses) < 50 and history.steps[-1] == len(history.losses)


def test_batches_are_full_and_cover_each_epoch():
    batches = digits.batches(10, 4, seed=0)
    epoch = [next(batches) for _ in range(2)]
    assert all(len(b) == 4 for b in epoch)
    assert len(set(np.concatenate(epoch))) == 8


def test_label_noise_flips_a_fixed_fraction_of_training_labels_only():
    """Does load_split(label_noise=f) change exactly round(f * n) training labels, each to
    another class, the same for the same seed, leaving the images and validation set alone?"""
    clean, noisy = load_split(), load_split(label_noise=0.3)
    changed = clean.y_train != noisy.y_train
    assert changed.sum() == round(0.3 * len(clean.y_train))
    assert noisy.y_train.dtype == np.int32 and set(noisy.y_train) == set(range(10))
    assert np.array_equal(noisy.x_train, clean.x_train)
    assert np.array_equal(noisy.y_val, clean.y_val) and np.array_equal(noisy.x_val, clean.x_val)
    assert np.array_equal(digits.flip_labels(clean.y_train, 0.3), noisy.y_train)
    other = digits.flip_labels(clean.y_train, 0.3, seed=1)
    assert not np.array_equal(other, noisy.y_train)
    assert np.array_equal(digits.flip_labels(clean.y_train, 0.0), clean.y_train)


class Minimizing:
    """An optimizer with SAM's contract, minimize(loss_fn, vars) -> loss: here gradient descent."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate
        self.calls = 0

    def minimize(self, loss_fn, vars):
        self.calls += 1  # Python: counts traces, not steps
        with tf.GradientTape() as tape:
            loss = loss_fn()
        for g, var in zip(tape.gradient(loss, vars), vars):
            var.assign_sub(self.learning_rate * g)
        return loss


def test_an_optimizer_with_minimize_takes_the_same_step_compiled():
    """Is an optimizer with minimize(loss_fn, vars) handed the batch's loss inside the compiled
    step, taking the step gradient descent takes, and traced once?"""
    data = load_split()
    x, y = data.x_train[:128], data.y_train[:128]
    ours, theirs = MLP(seed=0), MLP(seed=0)
    minimizing = Minimizing(0.1)
    step = make_train_step(ours, minimizing)
    for _ in range(3):
        loss_ours = step(x, y)
        loss_theirs = make_train_step(theirs, tf.keras.optimizers.SGD(0.1))(x, y)
        assert float(loss_ours) == float(loss_theirs)
    assert minimizing.calls == 1
    for a, b in zip(ours.trainable_variables, theirs.trainable_variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="clip"):
        make_train_step(ours, minimizing, clip=lambda grads: grads)


def test_sharpness_is_measured_on_a_fixed_batch_when_asked():
    """Does train() call the sharpness function at step 0, every sharpness_every steps and the
    last, with the loss of the first sharpness_batch training images at the current weights?"""
    data = load_split()
    model = MLP(seed=0)
    seen = []

    def top_eigenvalue(loss_fn, variables, iterations):
        seen.append((iterations, [v.numpy().copy() for v in variables]))
        expected = cross_entropy(model(data.x_train[:64]), data.y_train[:64])
        assert float(loss_fn()) == float(expected)
        return tf.constant(float(len(seen))), None

    history = train(
        SGD(0.1),
        7,
        model=model,
        eval_every=2,
        sharpness=top_eigenvalue,
        sharpness_every=3,
        sharpness_batch=64,
        sharpness_iterations=5,
    )
    assert history.sharpness == [(0, 1.0), (3, 2.0), (6, 3.0), (7, 4.0)]
    assert all(iterations == 5 for iterations, _ in seen)
    assert not np.array_equal(seen[0][1][0], seen[-1][1][0])  # measured as training goes
    assert train(SGD(0.1), 3).sharpness == []
    assert 0 < history.first_step_seconds <= history.seconds
    assert history.seconds_per_step > 0


def test_loss_slice_evaluates_along_the_line_and_restores_the_weights():
    """Is loss_slice(model, x, y, d, ts) the loss at w + t d for each t, with w put back exactly,
    and is the filter-normalised direction as large as the weights per unit, zero on biases?"""
    data = load_split()
    x, y = data.x_val, data.y_val
    model = MLP(seed=0)
    before = [v.numpy().copy() for v in model.trainable_variables]
    direction = digits.filter_normalized_direction(model, seed=2)
    for d, v in zip(direction, model.trainable_variables):
        assert d.shape == v.shape
        if len(v.shape) == 1:
            assert not np.any(d.numpy())
        else:
            np.testing.assert_allclose(
                np.linalg.norm(d.numpy(), axis=0), np.linalg.norm(v.numpy(), axis=0), rtol=1e-5
            )
    offsets = [-1.0, 0.0, 0.5]
    losses = digits.loss_slice(model, x, y, direction, offsets)
    assert losses.shape == (3,) and losses.dtype == np.float64
    for a, b in zip(before, model.trainable_variables):
        assert np.array_equal(a, b.numpy())
    assert losses[1] == float(cross_entropy(model(x), y))
    moved = MLP(seed=0)
    for v, d in zip(moved.trainable_variables, direction):
        v.assign_add(0.5 * d)
    assert losses[2] == pytest.approx(float(cross_entropy(moved(x), y)), rel=1e-6)
    other = digits.filter_normalized_direction(model, seed=3)
    matrices = [i for i, v in enumerate(model.trainable_variables) if len(v.shape) == 2]
    assert matrices and not np.array_equal(other[matrices[0]], direction[matrices[0]])
