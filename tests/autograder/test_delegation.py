"""The delegation check, on tiny synthetic notebooks and on the lesson notebooks' solutions."""

from pathlib import Path
from textwrap import dedent

import nbformat
import pytest

from autograder.delegation import COMMON_FORBIDDEN, find_delegation

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
IMPORTS = "import tensorflow as tf\n%matplotlib inline\n!pip install x\n"


def exercise(body: str) -> str:
    """An exercise class `Adam` whose apply_gradients runs `body` (its first line is line 4)."""
    method = "\n".join("        " + line for line in dedent(body).split("\n"))
    head = "class Adam(tf.Module):\n    '''Adam.'''\n    def apply_gradients(self, grads, vars):"
    return f"{head}\n{method}\n"


def found(cells: list[str], forbidden=COMMON_FORBIDDEN) -> list[tuple[str, int, int]]:
    return [(f.name, f.cell, f.line) for f in find_delegation(cells, ["Adam"], forbidden)]


DELEGATING = {
    "a call through tf": (
        [IMPORTS, exercise("tf.keras.optimizers.SGD(0.1).apply_gradients(zip(grads, vars))")],
        ("tensorflow.keras.optimizers.SGD", 1, 4),
    ),
    "an import alias that is not tf": (
        ["import tensorflow as tensor", exercise("tensor.keras.optimizers.Adam()")],
        ("tensorflow.keras.optimizers.Adam", 1, 4),
    ),
    "from tensorflow import keras": (
        [IMPORTS + "from tensorflow import keras", exercise("keras.optimizers.RMSprop()")],
        ("tensorflow.keras.optimizers.RMSprop", 1, 4),
    ),
    "from tensorflow.keras import optimizers as o": (
        [IMPORTS + "from tensorflow.keras import optimizers as o", exercise("x = 1\no.Adam()")],
        ("tensorflow.keras.optimizers.Adam", 1, 5),
    ),
    "import keras": (
        [IMPORTS + "import keras", exercise("keras.optimizers.SGD()")],
        ("keras.optimizers.SGD", 1, 4),
    ),
    "from keras.optimizers import SGD": (
        [IMPORTS, "from keras.optimizers import SGD", exercise("SGD(0.1)")],
        ("keras.optimizers.SGD", 2, 4),
    ),
    "import optax": (
        [IMPORTS + "import optax", exercise("optax.sgd(0.1)")],
        ("optax.sgd", 1, 4),
    ),
    "import torch.optim as optim": (
        [IMPORTS + "import torch.optim as optim", exercise("optim.SGD([], lr=0.1)")],
        ("torch.optim.SGD", 1, 4),
    ),
    "tf.compat.v1.train": (
        [IMPORTS, exercise("tf.compat.v1.train.MomentumOptimizer(0.1, 0.9)")],
        ("tensorflow.compat.v1.train.MomentumOptimizer", 1, 4),
    ),
    "a module-level alias of the module": (
        [IMPORTS, "opt_mod = tf.keras.optimizers", exercise("opt_mod.Adam()")],
        ("tensorflow.keras.optimizers.Adam", 2, 4),
    ),
    "an alias of an alias": (
        [IMPORTS, "K = tf.keras\nO = K.optimizers", exercise("O.Adam()")],
        ("tensorflow.keras.optimizers.Adam", 2, 4),
    ),
    "a base class": (
        [IMPORTS, "class Adam(tf.keras.optimizers.Adam):\n    pass"],
        ("tensorflow.keras.optimizers.Adam", 1, 1),
    ),
    "a default argument": (
        [IMPORTS, "class Adam:\n    def __init__(self, make=tf.keras.optimizers.Adam):\n        1"],
        ("tensorflow.keras.optimizers.Adam", 1, 2),
    ),
    "a decorator": (
        [IMPORTS + "import optax", "@optax.inject_hyperparams\nclass Adam:\n    pass"],
        ("optax.inject_hyperparams", 1, 1),
    ),
    "a helper function in another cell": (
        [IMPORTS, exercise("step(grads, vars)"), "def step(g, v):\n    tf.keras.optimizers.Adam()"],
        ("tensorflow.keras.optimizers.Adam", 2, 2),
    ),
    "a helper of a helper": (
        [
            IMPORTS,
            "def inner():\n    return optax.adam(1)\n\ndef outer():\n    return inner()",
            "import optax",
            exercise("outer()"),
        ],
        ("optax.adam", 1, 2),
    ),
    "a module-level optimizer object": (
        [IMPORTS, "opt = tf.keras.optimizers.SGD(0.1)", exercise("opt.apply_gradients([])")],
        ("tensorflow.keras.optimizers.SGD", 1, 1),
    ),
    "an import inside the method": (
        [IMPORTS, exercise("x = 0\nimport optax")],
        ("optax", 1, 5),
    ),
    "getattr of a module": (
        [IMPORTS, exercise('getattr(tf.keras, "optimizers").SGD()')],
        ("tensorflow.keras.optimizers.SGD", 1, 4),
    ),
    "importlib.import_module": (
        [IMPORTS + "import importlib", exercise('importlib.import_module("optax").adam(1)')],
        ("optax.adam", 1, 4),
    ),
    "import_module imported by name": (
        [IMPORTS + "from importlib import import_module", exercise('import_module("optax")')],
        ("optax", 1, 4),
    ),
    "__import__": (
        [IMPORTS, exercise('__import__("torch.optim")')],
        ("torch.optim", 1, 4),
    ),
    "sys.modules": (
        [IMPORTS + "import sys", exercise('sys.modules["optax"].adam(1)')],
        ("optax.adam", 1, 4),
    ),
    "eval of a forbidden expression": (
        [IMPORTS, exercise('eval("tf.keras.optimizers.SGD(0.1)")')],
        ("tensorflow.keras.optimizers.SGD", 1, 4),
    ),
    "exec of pieces of a forbidden name": (
        [IMPORTS, exercise('exec(f"o = {tf}.optimizers.SGD(" + ")")')],
        ("tensorflow.keras.optimizers", 1, 4),
    ),
    "the exercise as an alias of a library class": (
        [IMPORTS, "Adam = tf.keras.optimizers.Adam"],
        ("tensorflow.keras.optimizers.Adam", 1, 1),
    ),
    "the exercise imported from the library": (
        [IMPORTS, "from keras.optimizers import Adam"],
        ("keras.optimizers.Adam", 1, 1),
    ),
    "the last definition delegates": (
        [IMPORTS, exercise("pass"), "x = 1", exercise("\n\ntf.optimizers.Adam()")],
        ("tensorflow.optimizers.Adam", 3, 6),
    ),
    "a star import of a forbidden module": (
        [
            IMPORTS,
            "from course_utils import *\nfrom tensorflow.keras.optimizers import *",
            exercise("SGD(0.1)"),
        ],
        ("tensorflow.keras.optimizers.SGD", 2, 4),
    ),
    "keras' own module path": (
        [IMPORTS, exercise("import keras.src.optimizers.sgd as s")],
        ("keras.src.optimizers.sgd", 1, 4),
    ),
    "a raw optimizer kernel": (
        [IMPORTS, exercise("tf.raw_ops.ResourceApplyAdam(var=vars[0].handle)")],
        ("tensorflow.raw_ops.ResourceApplyAdam", 1, 4),
    ),
    "a compat.v2 spelling": (
        [IMPORTS, exercise("tf.compat.v2.keras.optimizers.Adam()")],
        ("tensorflow.compat.v2.keras.optimizers.Adam", 1, 4),
    ),
}


@pytest.mark.parametrize("form", DELEGATING)
def test_each_delegating_form_is_found(form):
    """Is each way of reaching a library optimizer found, at the right cell and line?"""
    cells, expected = DELEGATING[form]
    assert expected in found(cells)


ALLOWED = {
    "library optimizers in demo cells only": [
        IMPORTS,
        exercise("for g, v in zip(grads, vars):\n    v.assign_sub(0.1 * g)"),
        "keras_sgd = tf.keras.optimizers.SGD(0.1)\nkeras_sgd.apply_gradients([])",
        "def compare(make):\n    return tf.keras.optimizers.Adam(), make()\n\ncompare(Adam)",
    ],
    "a method named apply_gradients": [
        IMPORTS,
        exercise("self.apply_gradients(grads, vars)\napply_gradients = None"),
    ],
    "comments and strings": [
        IMPORTS,
        exercise(
            "# unlike tf.keras.optimizers.Adam, optax or torch.optim\n"
            "'''tf.keras.optimizers.Adam, optax'''\n"
            "print('compare with tf.keras.optimizers.Adam and optax.adam')"
        ),
    ],
    "tensorflow arithmetic": [
        IMPORTS,
        exercise(
            "v = tf.Variable(tf.zeros_like(vars[0]))\ntf.sqrt(v) + tf.square(grads[0])\n"
            "tf.raw_ops.Sqrt(x=grads[0]); tf.keras.layers.Dense(1); tf.keras.ops.sqrt(v)"
        ),
    ],
    "a local name shadowing a delegating module-level one": [
        IMPORTS,
        "opt = tf.keras.optimizers.SGD(0.1)\noptax = 1",
        exercise("opt = 0.5\n[optax for optax in grads]\nopt * grads[0]"),
    ],
    "a name tf that is not tensorflow": [
        "class Fake:\n    pass\n\ntf = Fake()",
        "class Adam:\n    def f(self):\n        tf.keras.optimizers.SGD()",
    ],
    "an overwritten delegating definition": [
        IMPORTS,
        exercise("tf.keras.optimizers.Adam()"),
        exercise("pass"),
    ],
}


@pytest.mark.parametrize("form", ALLOWED)
def test_allowed_forms_are_not_flagged(form):
    """Are demo-only uses, mentions in text, shadowed names and plain tf ops left alone?"""
    assert found(ALLOWED[form]) == []


def test_the_demo_only_use_is_seen_when_reached():
    """Does the demo-only case pass because of reachability (its code is found when reached)?"""
    cells = ALLOWED["library optimizers in demo cells only"]
    reached = find_delegation(cells, ["keras_sgd", "compare"], COMMON_FORBIDDEN)
    assert {(f.exercise, f.cell) for f in reached} == {("keras_sgd", 2), ("compare", 3)}


ADAM = ("tensorflow.optimizers.Adam", 2)
HOSTILE = {  # a cell after an honest Adam: what it should leave found, as (name, cell)
    "a syntax error": ("def f(:\n", []),
    "a cell magic": ("%%time\nclass Adam:\n    x = tf.optimizers.Adam()", [ADAM]),
    "a bash cell": ("%%bash\necho tf.optimizers.Adam", []),
    "magics and help": ("x = !ls\nAdam?\n%load_ext autoreload", []),
    "a null byte": ("\x00 null byte", []),
    "deep parentheses": ("(" * 500 + ")" * 500, []),
    "a deep expression": ("x = " + "1 + " * 100_000 + "1", []),
    "a long chain of aliases": (
        "a0 = tf.optimizers.Adam\n"
        + "".join(f"a{i + 1} = a{i}\n" for i in range(2000))
        + "Adam = a2000",
        [ADAM],
    ),
    "a long chain of calls": (
        "f0 = tf.optimizers.Adam\n"
        + "".join(f"f{i + 1} = f{i}(1)\n" for i in range(2000))
        + "Adam = f2000.x",
        [ADAM],
    ),
    "a long chain of functions": (
        "".join(f"def f{i}():\n    f{i + 1}()\n" for i in range(2000))
        + "def f2000():\n    tf.optimizers.Adam()\nAdam = f0",
        [ADAM],
    ),
    "a deep argument": (
        "import importlib\nclass Adam:\n    importlib.import_module('optax', " + "-" * 900 + "1)",
        [("optax", 2)],
    ),
    "nested exec": ("exec('exec(' * 300 + ')' * 300)\nclass Adam:\n    exec('(' * 500)", []),
}


@pytest.mark.parametrize("form", HOSTILE)
def test_broken_or_hostile_cells_never_raise(form):
    """Are unparseable cells skipped, magics tolerated, hostile nesting and chains survived?"""
    cell, expected = HOSTILE[form]
    assert [(name, cell) for name, cell, _ in found([IMPORTS, exercise("pass"), cell])] == expected


def test_magics_keep_line_numbers_and_cell_magic_bodies_are_read():
    """After line magics the lines are those of the cell; is a %%time cell's body still read?"""
    line_magics = "%matplotlib inline\n!pip install x\n" + exercise("optax.adam(1)")
    assert found([IMPORTS + "import optax", line_magics]) == [("optax.adam", 1, 6)]
    cell_magic = "%%time\n" + exercise("optax.adam(1)")
    assert found([IMPORTS + "import optax", cell_magic]) == [("optax.adam", 1, 5)]
    timed = exercise("%timeit -n 3 optax.adam(1)\n%time opt = optax.sgd(1)\n%who")
    assert found([IMPORTS + "import optax", timed]) == [("optax.adam", 1, 4), ("optax.sgd", 1, 5)]


def test_a_cell_of_many_magics_is_still_read():
    """IPython's transformer gives up after 500 magics in a cell; is the exercise still found?"""
    cell = "x = !ls\n%who\nAdam?\n" * 1000 + exercise("tf.optimizers.Adam()")
    assert found([IMPORTS, cell]) == [("tensorflow.optimizers.Adam", 1, 3004)]


def test_per_assignment_extras_are_forbidden_only_where_declared():
    """Is tf.clip_by_global_norm (any spelling) flagged only when the assignment forbids it?"""
    cells = [IMPORTS, exercise("tf.clip_by_global_norm(grads, 1.0)\ntf.compat.v1.clip_by_norm")]
    extra = ("tensorflow.clip_by_global_norm", "tensorflow.clip_by_norm")
    assert found(cells) == []
    assert found(cells, COMMON_FORBIDDEN + extra) == [
        ("tensorflow.clip_by_global_norm", 1, 4),
        ("tensorflow.compat.v1.clip_by_norm", 1, 5),
    ]


def test_schedules_fall_under_the_optimizers_module():
    """Is a Keras learning-rate schedule, under tf.keras.optimizers, flagged?"""
    cells = [IMPORTS, exercise("tf.keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)")]
    assert found(cells) == [("tensorflow.keras.optimizers.schedules.ExponentialDecay", 1, 4)]


def test_findings_name_their_exercise_and_helper():
    """Does each finding name its own exercise, and the helper it goes through?"""
    cells = [
        IMPORTS + "import optax",
        "def step():\n    return optax.sgd(1)",
        "def sgd(g):\n    return step()",
        exercise("tf.keras.optimizers.Adam()"),
    ]
    findings = find_delegation(cells, ["sgd", "Adam", "Missing"], COMMON_FORBIDDEN)
    assert [(f.exercise, f.name, f.via) for f in findings] == [
        ("sgd", "optax.sgd", "step"),
        ("Adam", "tensorflow.keras.optimizers.Adam", ""),
    ]


def test_an_exercise_calling_another_is_not_blamed_for_its_delegation():
    """Is a delegating exercise found once, in itself, and not again in an exercise that calls
    it (each exercise is graded on its own), while a plain helper is still followed?"""
    cells = [
        IMPORTS,
        "def product(v):\n    return tf.hessians(v, v)",
        "def helper(v):\n    return tf.hessians(v, v)",
        "def power(v):\n    return product(v)",
        "def power_via_helper(v):\n    return helper(v)",
    ]
    findings = find_delegation(
        cells, ["product", "power", "power_via_helper"], ["tensorflow.hessians"]
    )
    assert [(f.exercise, f.via) for f in findings] == [
        ("product", ""),
        ("power_via_helper", "helper"),
    ]


def test_the_message_names_the_exercise_the_library_and_the_place():
    """Does the student read which exercise, what it used, where, and that it is not allowed?"""
    [finding] = find_delegation(
        [IMPORTS, "x = 1", exercise("\ntf.keras.optimizers.SGD()")], ["Adam"], COMMON_FORBIDDEN
    )
    message = finding.message()
    assert message.startswith("Adam uses tf.keras.optimizers.SGD (cell 2, line 5)")
    assert "not hand it to tensorflow.keras.optimizers" in message
    assert "may be used elsewhere in the notebook" in message


LESSONS = {
    "optimizers_core.ipynb": ["GradientDescent", "Momentum", "Adam"],
    "optimizers_2d.ipynb": ["NesterovMomentum", "Adagrad", "RMSprop"],
}


@pytest.mark.parametrize("notebook", LESSONS)
def test_the_lesson_solutions_do_not_delegate(notebook):
    """Do the solution notebooks pass, although their demo cells call Keras' optimizers?"""
    nb = nbformat.read(SOLUTIONS / notebook, as_version=4)
    cells = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    assert any("tf.keras.optimizers" in cell for cell in cells)
    assert find_delegation(cells, LESSONS[notebook], COMMON_FORBIDDEN) == []
    demo_names = [n for n in ("keras_sgd", "runs", "keras_nesterov") if any(n in c for c in cells)]
    assert find_delegation(cells, demo_names, COMMON_FORBIDDEN)  # the demos do reach Keras
