"""Lesson 3's problems and drivers: they run the student's functions and classes in the sandbox.

- `clip`: `clip_by_global_norm` on gradients of several shapes drawn from a seed (NumPy), scaled
  so their global norm is a given multiple of `clip_norm`; the path is every clipped value,
  flattened, then the global norm;
- `schedule`: a `WarmupCosineDecay` read at given steps (Python ints, int64 tensors, or inside
  a `tf.function`); the path is its values;
- `adamw`: `AdamW` on a stream of gradients drawn from a seed per step (never from a matrix
  product, so nothing depends on the order of a sum), several variables of different shapes
  (two of one shape), eagerly, compiled, or eagerly then compiled with the same instance;
  `learning_rate` a float or a plain Python callable of the step (`inverse_time`);
- `one_update`, `instances`: one update of one variable; two instances updated in turn;
- `train`: the lesson's network (`course_utils.digits`) trained with the submission's AdamW,
  WarmupCosineDecay and clip_by_global_norm; the result is the final validation accuracy.

The same functions run the solutions and the oracles when the references are built.
"""

import math

import numpy as np

from autograder.guest.runner import ContractError

# TensorFlow is imported where a driver runs (the sandbox preloads it): the grader reads the
# inputs below (`gradient_list`, `gradient_stream`, `starting_values`) for its hints without it.

EXERCISES = ("clip_by_global_norm", "WarmupCosineDecay", "AdamW")


def check_exercise(name, obj):
    """What "is defined" means for each exercise; raises ContractError saying what is missing."""
    if name == "clip_by_global_norm":
        if isinstance(obj, type) or not callable(obj):
            raise ContractError(f"{name} is not a function")
    elif name == "WarmupCosineDecay":
        if not isinstance(obj, type):
            raise ContractError(f"{name} is not a class")
        if not callable(obj(0.01, 10, 100)):
            raise ContractError(f"{name}(0.01, 10, 100) cannot be called with a step")
    elif not isinstance(obj, type):
        raise ContractError(f"{name} is not a class")
    elif not callable(getattr(obj(), "apply_gradients", None)):
        raise ContractError(f"{name} has no apply_gradients method")


# --- Inputs ---------------------------------------------------------------------------------------


def gradient_list(shapes, seed, norm=None, zero=()):
    """float32 arrays of the given shapes from `seed`; those at the indices `zero` all zeros;
    scaled so that their global norm is `norm` (when given)."""
    rng = np.random.default_rng(seed)
    grads = [rng.normal(size=tuple(shape)) for shape in shapes]
    for k in zero:
        grads[k] = np.zeros(tuple(shapes[k]))
    total = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
    if norm is not None and total > 0:
        grads = [g * (norm / total) for g in grads]
    return [g.astype(np.float32) for g in grads]


def gradient_stream(shapes, seed, step):
    """The gradients of step `step` (from 0): normal draws plus a drift of 0.3, so Adam's
    moments build up in one direction."""
    rng = np.random.default_rng([seed, step])
    return [(rng.normal(size=tuple(shape)) + 0.3).astype(np.float32) for shape in shapes]


def inverse_time(learning_rate, decay):
    """A plain Python schedule: learning_rate / (1 + decay * step), for a tensor step too."""

    def schedule(step):
        tf = _tf()
        return learning_rate / (1.0 + decay * tf.cast(step, tf.float32))

    return schedule


def starting_values(shapes, seed, low=-1.5, high=2.0):
    """Deterministic float32 starting values in [low, high] for variables of the given shapes
    (`autograder.guest.drivers.starting_values`, without TensorFlow)."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=tuple(shape)).astype(np.float32) for shape in shapes]


def flat(values):
    """Every element of every array of `values`, in order, as floats (float32 values)."""
    return [float(v) for x in values for v in np.ravel(np.asarray(x, dtype=np.float32))]


def _number(value):
    return float(np.asarray(value, dtype=np.float32))


def _tf():
    import tensorflow

    return tensorflow


# --- clip_by_global_norm --------------------------------------------------------------------------


def clip(cls, shapes, seed, clip_norm, norm=None, zero=(), compiled=False):
    """clip_by_global_norm on `gradient_list(...)`: {"path": clipped values..., global norm}."""
    tf = _tf()
    grads = [tf.constant(g) for g in gradient_list(shapes, seed, norm, zero)]
    call = tf.function(cls) if compiled else cls
    clipped, global_norm = call(grads, clip_norm)
    if len(clipped) != len(grads):
        raise ValueError(f"{len(grads)} gradients in, {len(clipped)} out")
    return {"path": flat(np.asarray(c, dtype=np.float32) for c in clipped) + [_number(global_norm)]}


# --- WarmupCosineDecay ----------------------------------------------------------------------------


def schedule(cls, args, steps, kind="int"):
    """cls(*args) read at `steps`: as Python ints, int64 tensors or inside a tf.function."""
    tf = _tf()
    learning_rate = cls(*args)
    if kind == "compiled":
        read = tf.function(learning_rate.__call__)  # the student's code, converted
        values = [read(tf.constant(step, tf.int64)) for step in steps]
    elif kind == "tensor":
        values = [learning_rate(tf.constant(step, tf.int64)) for step in steps]
    else:
        values = [learning_rate(step) for step in steps]
    return {"path": [_number(v) for v in values]}


# --- AdamW ----------------------------------------------------------------------------------------


def _learning_rate(kwargs, kwargs_schedule):
    if kwargs_schedule is None:
        return kwargs
    return kwargs | {"learning_rate": inverse_time(**kwargs_schedule)}


def adamw(cls, kwargs, shapes, seed, count, kwargs_schedule=None, mode="eager", switch=None):
    """`count` updates of variables of `shapes` (values from `seed`) on `gradient_stream`.

    mode "eager", "compiled" (every update in one tf.function), or "switch": the same instance
    eagerly for the first `switch` updates, then compiled. {"start": row, "path": rows}.
    """
    tf = _tf()
    optimizer = cls(**_learning_rate(kwargs, kwargs_schedule))
    xs = [tf.Variable(v) for v in starting_values(shapes, seed)]
    compiled = tf.function(optimizer.apply_gradients)  # the student's code, converted
    path = []
    for step in range(count):
        grads = [tf.constant(g) for g in gradient_stream(shapes, seed, step)]
        eager = mode == "eager" or (mode == "switch" and step < switch)
        if eager:
            optimizer.apply_gradients(grads, xs)
        else:
            compiled(grads, xs)
        path.append(flat(x.numpy() for x in xs))
    return {"start": flat(starting_values(shapes, seed)), "path": path}


def one_update(cls, kwargs, start):
    """One update of one variable from `start` with gradient 1 everywhere: {"path": [row]}."""
    tf = _tf()
    x = tf.Variable(np.asarray(start, dtype=np.float32))
    cls(**kwargs).apply_gradients([tf.ones_like(x)], [x])
    return {"start": flat([start]), "path": [flat([x.numpy()])]}


def instances(cls, kwargs_a, kwargs_b, shapes, seed, count):
    """Two instances with different settings updated in turn, each on its own variables."""
    tf = _tf()
    runs = [
        (cls(**kwargs_a), [tf.Variable(v) for v in starting_values(shapes, seed)]),
        (cls(**kwargs_b), [tf.Variable(v) for v in starting_values(shapes, seed + 1)]),
    ]
    steps = {id(xs): 0 for _, xs in runs}

    def step(optimizer, xs):
        grads = gradient_stream(shapes, seed, steps[id(xs)])
        steps[id(xs)] += 1
        optimizer.apply_gradients([tf.constant(g) for g in grads], xs)
        return flat(x.numpy() for x in xs)

    paths = [[] for _ in runs]
    for _ in range(count):
        for (optimizer, xs), path in zip(runs, paths):
            path.append(step(optimizer, xs))
    return {"paths": paths}


# --- Public cases: the self-check's own ---------------------------------------------------------


def public(cls, exercise, index, shapes=None, kwargs_scale=None):
    """The self-check's public case `index` of `exercise` (`course_utils.selfcheck_training`),
    run by the self-check's own runner: the very inputs the notebook shows. {"path": ...} as the
    hidden cases of the exercise give it (`shapes` and `kwargs_scale`, the variables' shapes and
    the learning rate, only describe the case to the grader)."""
    from course_utils import selfcheck_training

    case = selfcheck_training.public_cases(exercise)[index]
    answer = selfcheck_training.RUNNERS[exercise](cls, case)
    if exercise == "clip_by_global_norm":
        clipped, norm = answer
        return {"path": flat(clipped) + [_number(norm)]}
    if exercise == "WarmupCosineDecay":
        return {"path": [_number(v) for v in answer]}
    return {"start": flat(case.starts), "path": [flat(row) for row in answer]}


# --- End to end -----------------------------------------------------------------------------------


def _namespace(cls):
    """The globals of the module (the notebook) that defined `cls`'s methods."""
    for value in vars(cls).values():
        function = getattr(value, "python_function", value)  # a tf.function's Python function
        function = getattr(function, "__func__", function)
        if hasattr(function, "__globals__"):
            return function.__globals__
    raise ContractError("AdamW defines no method of its own")


def _needed(namespace, name):
    found = namespace.get(name)
    if not callable(found):
        raise ContractError(f"this test trains with your {name}, which is not defined")
    return found


def train(cls, kwargs, schedule, clip_norm, steps, seed):
    """The lesson's network trained for `steps` updates with the submission's AdamW (learning
    rate WarmupCosineDecay(*schedule)) and gradients clipped by its clip_by_global_norm to
    `clip_norm`: {"value": final validation accuracy (NaN if the loss stopped being finite),
    "what": "validation accuracy"}."""
    from course_utils import digits

    namespace = _namespace(cls)
    warmup_cosine = _needed(namespace, "WarmupCosineDecay")
    clip_by_global_norm = _needed(namespace, "clip_by_global_norm")
    optimizer = cls(learning_rate=warmup_cosine(*schedule), **kwargs)
    # AutoGraph converts the student's function itself (not this file's lambda, which it
    # cannot read): Python `if`s on tensors work as in the notebook.
    tf = _tf()
    clipped = tf.function(clip_by_global_norm)
    history = digits.train(
        optimizer,
        steps,
        clip=tf.autograph.experimental.do_not_convert(lambda grads: clipped(grads, clip_norm)[0]),
        seed=seed,
        eval_every=steps,
    )
    value = math.nan if history.diverged else float(history.final_accuracy)
    return {"value": value, "what": "validation accuracy"}


DRIVERS = {
    "clip": clip,
    "schedule": schedule,
    "adamw": adamw,
    "one_update": one_update,
    "instances": instances,
    "train": train,
    "public": public,
}


def run_case(cls, driver, params):
    """Run one case: `params` are the keyword arguments of the named driver."""
    return DRIVERS[driver](cls, **params)
