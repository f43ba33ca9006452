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
