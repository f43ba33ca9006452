"""Lesson 1's sample submissions, to test the autograder on (see `autograder.samples`).

Correct ones in other styles, one per typical bug (each with the hint it must get), broken files
and hostile code. Every sample is built from the committed student notebook, so none goes stale.

    for sample in SAMPLES.values():
        submission = sample.build(tmp_path / sample.name)
"""

import base64
import random

import nbformat
from nbformat import NotebookNode

from autograder import paths
from autograder.assignments.optimizers_core.spec import ASSIGNMENT, OPTIMIZERS
from autograder.samples import Kit, Sample, with_cell

KIT = Kit(ASSIGNMENT)
# with_bodies() argument -> grade_id.
BODY_ARGS = {"gd": "gradient_descent", "momentum": "momentum", "adam": "adam"}
# Substrings of the autograder's test names.
SEVERAL_VARIABLES = "several variables at once"
ONE_VARIABLE = ("the guide's run", "other starting points", "other hyperparameters")
REFERENCES_DIR = ASSIGNMENT.folder  # the grader's expected results (references.json)

student_notebook = KIT.student_notebook
class_index = KIT.class_index
solution_body = KIT.solution_body
edited = KIT.edited
solved_cell = KIT.solved_cell
file_builder = KIT.file_builder
notebook_builder = KIT.notebook_builder
per_class = KIT.per_class


def with_bodies(gd=None, momentum=None, adam=None, nb=None) -> NotebookNode:
    """A copy of `nb` (default: the student notebook) with the given apply_gradients bodies."""
    given = {"gd": gd, "momentum": momentum, "adam": adam}
    bodies = {BODY_ARGS[arg]: body for arg, body in given.items()}
    return KIT.with_bodies(bodies, nb)


def solved(**bodies: str) -> NotebookNode:
    """The student notebook with the solution bodies, except those given (gd=, momentum=, adam=)."""
    return KIT.solved({BODY_ARGS[arg]: body for arg, body in bodies.items()})


def without_classes(nb: NotebookNode, *grade_ids: str, retype: bool = False) -> NotebookNode:
    """`nb` with the given class cells deleted, or with `retype` turned into Markdown cells."""
    for grade_id in grade_ids:
        i = class_index(nb, grade_id)
        if retype:
            cell = nb.cells[i]
            nb.cells[i] = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)
        else:
            del nb.cells[i]
    return nb


def renamed(nb: NotebookNode, grade_id: str, old: str, new: str) -> NotebookNode:
    """`nb` with the class `old` of cell `grade_id` declared as `new`."""
    cell = nb.cells[class_index(nb, grade_id)]
    cell.source = cell.source.replace(f"class {old}(", f"class {new}(", 1)
    return nb


def random_bytes(size: int, seed: int) -> bytes:
    """`size` reproducible pseudo-random bytes."""
    return random.Random(seed).randbytes(size)


def huge_outputs(scale: float = 1.0) -> list[NotebookNode]:
    """Outputs as a kernel would store them: 30 MB of printed text and a 10 MB PNG (times
    `scale`)."""
    png = b"\x89PNG\r\n\x1a\n" + random_bytes(int(7_500_000 * scale), seed=0)
    text = ("spam " * 200 + "\n") * int(30_000 * scale)  # long lines: the file stays near 40 MB
    return [
        nbformat.v4.new_output("stream", name="stdout", text=text),
        nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(png).decode()}),
    ]


# --- Bodies ---------------------------------------------------------------------------------------

# Correct, the update written as `var.assign(var - ...)`, state in lists built on the first call
# (indexed by position: the same variables come in the same order at every call).
GD_ASSIGN = """
for g, var in zip(grads, vars):
    var.assign(var - self.learning_rate * g)
"""
MOMENTUM_LISTS = """
if not hasattr(self, "change"):
    self.change = [tf.zeros_like(var) for var in vars]
for i, (g, var) in enumerate(zip(grads, vars)):
    self.change[i] = self.learning_rate * g + self.momentum * self.change[i]
    var.assign(var - self.change[i])
"""
ADAM_LISTS = """
if not hasattr(self, "m"):
    self.m = [tf.zeros_like(var) for var in vars]
    self.s = [tf.zeros_like(var) for var in vars]
for i, (g, var) in enumerate(zip(grads, vars)):
    self.m[i] = self.beta_1 * self.m[i] + (1 - self.beta_1) * g
    self.s[i] = self.beta_2 * self.s[i] + (1 - self.beta_2) * g * g
    m_hat = self.m[i] / (1 - self.beta_1**self.t)
    s_hat = self.s[i] / (1 - self.beta_2**self.t)
    var.assign(var - self.learning_rate * m_hat / (tf.sqrt(s_hat) + self.ep))
self.t += 1
"""

# Correct, arithmetic in float64 on state kept in the dicts keyed by var.ref(), cast back on assign.
GD_FLOAT64 = """
for g, var in zip(grads, vars):
    x = tf.cast(var, tf.float64) - self.learning_rate * tf.cast(g, tf.float64)
    var.assign(tf.cast(x, var.dtype))
"""
MOMENTUM_FLOAT64 = """
for g, var in zip(grads, vars):
    velocity = self.velocities.get(var.ref(), tf.constant(0.0, tf.float64))
    velocity = self.learning_rate * tf.cast(g, tf.float64) + self.momentum * velocity
    self.velocities[var.ref()] = velocity
    var.assign(tf.cast(tf.cast(var, tf.float64) - velocity, var.dtype))
"""
ADAM_FLOAT64 = """
zero = tf.constant(0.0, tf.float64)
for g, var in zip(grads, vars):
    g = tf.cast(g, tf.float64)
    m = self.beta_1 * self.v_dvar.get(var.ref(), zero) + (1 - self.beta_1) * g
    s = self.beta_2 * self.s_dvar.get(var.ref(), zero) + (1 - self.beta_2) * g**2
    self.v_dvar[var.ref()], self.s_dvar[var.ref()] = m, s
    m_hat = m / (1 - self.beta_1**self.t)
    s_hat = s / (1 - self.beta_2**self.t)
    x = tf.cast(var, tf.float64) - self.learning_rate * m_hat / (tf.sqrt(s_hat) + self.ep)
    var.assign(tf.cast(x, var.dtype))
self.t += 1
"""

# Correct, Keras' way: v = p*v - lr*g; slots and step counter are tf.Variables, moments
# updated as m += (1 - beta) * (g - m), beta**t computed in float32.
GD_INDEXED = """
for i in range(len(vars)):
    vars[i].assign_add(-self.learning_rate * grads[i])
"""
MOMENTUM_KERAS = """
for g, var in zip(grads, vars):
    if var.ref() not in self.velocities:
        self.velocities[var.ref()] = tf.Variable(tf.zeros_like(var), trainable=False)
    v = self.velocities[var.ref()]
    v.assign(self.momentum * v - self.learning_rate * g)
    var.assign_add(v)
"""
ADAM_SLOTS = """
if not hasattr(self, "step"):
    self.step = tf.Variable(1.0, trainable=False)
    self.slots = {}
beta_1_power = tf.pow(tf.cast(self.beta_1, tf.float32), self.step)
beta_2_power = tf.pow(tf.cast(self.beta_2, tf.float32), self.step)
for g, var in zip(grads, vars):
    if var.ref() not in self.slots:
        zeros = tf.zeros_like(var)
        self.slots[var.ref()] = (tf.Variable(zeros), tf.Variable(zeros))
    m, s = self.slots[var.ref()]
    m.assign_add((1 - self.beta_1) * (g - m))
    s.assign_add((1 - self.beta_2) * (tf.square(g) - s))
    m_hat = m / (1 - beta_1_power)
    s_hat = s / (1 - beta_2_power)
    var.assign_sub(self.learning_rate * (m_hat / (tf.sqrt(s_hat) + self.ep)))
self.step.assign_add(1.0)
"""

# The original guide's Momentum: one velocity shared by all variables.
MOMENTUM_SHARED = """
for g, var in zip(grads, vars):
    change = self.learning_rate * g + self.momentum * getattr(self, "change", 0.0)
    self.change = change
    var.assign_sub(change)
"""
# Adam with one first and one second moment for all variables.
ADAM_SHARED_SLOTS = """
for d_var, var in zip(grads, vars):
    self.m = self.beta_1 * getattr(self, "m", 0.0) + (1 - self.beta_1) * d_var
    self.s = self.beta_2 * getattr(self, "s", 0.0) + (1 - self.beta_2) * tf.square(d_var)
    m_hat = self.m / (1 - self.beta_1**self.t)
    s_hat = self.s / (1 - self.beta_2**self.t)
    var.assign_sub(self.learning_rate * (m_hat / (tf.sqrt(s_hat) + self.ep)))
self.t += 1
"""

# Delegation: the exercise hands its work to a library optimizer (the course-wide rule).
MOMENTUM_DELEGATES = """
if not hasattr(self, "keras"):
    self.keras = tf.keras.optimizers.SGD(self.learning_rate, momentum=self.momentum)
self.keras.apply_gradients(zip(grads, vars))
"""
KERAS_HELPER = """
import tensorflow as tf

def keras_step(optimizer, grads, vars):
    if not hasattr(optimizer, "keras"):
        optimizer.keras = tf.keras.optimizers.Adam(optimizer.learning_rate, epsilon=optimizer.ep)
    optimizer.keras.apply_gradients(zip(grads, vars))
"""

INFINITE_LOOP = """
while True:
    pass
"""
OS_EXIT = """
import os

os._exit(0)
"""
# Each tries its own way to reach the hidden reference optimizers and delegates to them.
IMPORT_SOLUTIONS_PACKAGE = f"""
import sys

sys.path.insert(0, {str(paths.ROOT)!r})
import solutions

solutions.GradientDescent.apply_gradients(self, grads, vars)
"""
IMPORT_SOLUTIONS_FILE = f"""
import importlib.util

spec = importlib.util.spec_from_file_location("reference", {str(ASSIGNMENT.solutions_module)!r})
reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reference)
reference.Momentum.apply_gradients(self, grads, vars)
"""
IMPORT_SOLUTIONS_NAME = """
from solutions import Adam as _A

_A.apply_gradients(self, grads, vars)
"""

# Extra cells, inserted after the imports.
PATCH_CHECKS = """
import builtins

import numpy as np

np.allclose = lambda *args, **kwargs: True
np.isclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_equal = lambda *args, **kwargs: None
builtins.print = lambda *args, **kwargs: None
"""
READ_OUTSIDE = f"""
import os
from pathlib import Path

for path in sorted(Path({str(REFERENCES_DIR)!r}).iterdir()):
    print(path, path.read_text()[:1000])
print(os.listdir(Path.home() / ".ssh"))
print(Path("/etc/shadow").read_text())
"""
WRITE_FAKE_RESULTS = """
import json
from pathlib import Path

fakes = {
    "results.json": json.dumps({"score": 100.0, "max_score": 100.0, "tests": []}),
    "grades.csv": "student,assignment,score,max_score\\nme,optimizers_core,100,100\\n",
    "feedback.html": "<html><body><h1>Score: 100 / 100</h1></body></html>",
}
cwd = Path.cwd()
folders = [cwd, cwd.parent, cwd.parent.parent, Path("/tmp"), Path.home()]
for folder in folders + [Path("/autograder/results")]:
    for name, text in fakes.items():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
        except OSError:
            pass
"""
PRINT_50MB = """
print("x" * 50_000_000)
"""
# The thread keeps a core busy but gives the interpreter lock up at every turn: a thread that
# never does makes every TensorFlow call of the student's own code wait for it (a convoy that can
# slow a case twentyfold), which times out their own cases, not the grader.
BACKGROUND_WORK = """
import subprocess
import threading
import time


def spin():
    while True:
        time.sleep(0)


subprocess.Popen(["sleep", "1000"])
threading.Thread(target=spin, daemon=True).start()
"""
ADAM_DEFINED_START = ASSIGNMENT.cases_of("Adam", "defined")[0].params["init"]
# Rewrites the events the grading runner sends out of this process: Adam "defined", and Adam's
# one-update case a success with the variable left at its start (what the old check accepted).
FORGE_EVENTS = f"""
import json

_dumps = json.dumps


def _forged(event, *args, **kwargs):
    if isinstance(event, dict) and event.get("event") == "classes":
        event["classes"]["Adam"] = {{"defined": True, "error": None}}
    if isinstance(event, dict) and str(event.get("id")).startswith("Adam/defined/"):
        event.update(result={{"path": [{ADAM_DEFINED_START!r}]}}, error=None)
    return _dumps(event, *args, **kwargs)


json.dumps = _forged
"""
UNCONSTRUCTIBLE = ("        self.t = 1\n", '        raise RuntimeError("unfinished")\n')
# Ignores the timer and re-sends the start event of its own cell (its code's file name is
# "<cell N>") to the runner's events descriptor, to be given a fresh allowance again and again.
FORGED_STARTS = """
import json, os, signal, sys, time

signal.signal(signal.SIGALRM, signal.SIG_IGN)
index = int(sys._getframe().f_code.co_filename[len("<cell ") : -1])
fd = int(sys.argv[sys.argv.index("--events-fd") + 1]) if "--events-fd" in sys.argv else 3
for _ in range(300):
    os.write(fd, (json.dumps({"event": "cell-start", "index": index}) + "\\n").encode())
    time.sleep(0.1)
"""
SLEEPY_CELL = "import time\n\ntime.sleep(7)  # just under test_samples' 8 s cell limit"
# 3.2 GiB in memfds (each under RLIMIT_FSIZE), mapped by no process: in no RSS, no RLIMIT_AS.
MEMFD_BALLAST = """
import os

self.ballast = []
for n in range(16):
    fd = os.memfd_create(f"ballast{n}")
    os.posix_fallocate(fd, 0, 200 * 2**20)  # 200 MiB of pages, at once: no copying to wait for
    self.ballast.append(fd)
"""
DAEMON_MARKER = "986.5"  # how long the daemon sleeps: its name for pgrep
DOUBLE_FORK_DAEMON = f"""
import subprocess

subprocess.run(["sh", "-c", "setsid sleep {DAEMON_MARKER} >/dev/null 2>&1 &"])
"""


def with_cells_at_end(nb: NotebookNode, *sources: str) -> NotebookNode:
    """`nb` with new code cells appended."""
    nb.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    return nb


# --- The samples ----------------------------------------------------------------------------------

_SAMPLES = [
    # The reference and the release.
    Sample(
        "solution",
        "the solution notebook's bodies",
        notebook_builder(solved),
        per_class(),
    ),
    Sample(
        "untouched",
        "the student notebook as released, every body a stub",
        notebook_builder(student_notebook),
        per_class("zero"),
        messages=("not implemented",),
    ),
    # Correct, in other styles.
    Sample(
        "correct_assign_style",
        "var.assign(var - ...), state in plain lists built on the first call",
        notebook_builder(lambda: with_bodies(GD_ASSIGN, MOMENTUM_LISTS, ADAM_LISTS)),
        per_class(),
    ),
    Sample(
        "correct_ref_dict_float64",
        "state in dicts keyed by var.ref(), arithmetic in float64, cast back on assign",
        notebook_builder(lambda: with_bodies(GD_FLOAT64, MOMENTUM_FLOAT64, ADAM_FLOAT64)),
        per_class(),
    ),
    Sample(
        "correct_slots_tf_pow",
        "Keras style: v = p*v - lr*g; Adam slots and step in tf.Variables, beta**t in float32",
        notebook_builder(lambda: with_bodies(GD_INDEXED, MOMENTUM_KERAS, ADAM_SLOTS)),
        per_class(),
    ),
    # Typical bugs, one at a time.
    Sample(
        "gd_sign_flipped",
        "gradient descent climbs: assign_add instead of assign_sub",
        notebook_builder(
            lambda: solved(gd=edited("gradient_descent", ("assign_sub", "assign_add")))
        ),
        per_class(GradientDescent="defined-only"),
    ),
    Sample(
        "gd_lr_not_applied",
        "gradient descent steps by the raw gradient, without the learning rate",
        notebook_builder(
            lambda: solved(gd=edited("gradient_descent", ("self.learning_rate * g", "g")))
        ),
        per_class(GradientDescent="defined-only"),
    ),
    Sample(
        "momentum_state_not_kept",
        "the velocity is created anew at every call: plain gradient descent",
        notebook_builder(
            lambda: solved(
                momentum=edited(  # no `if ... not in`: a new zero velocity at every call
                    "momentum", ("    if var.ref() not in self.velocities:\n    ", "")
                )
            )
        ),
        per_class(Momentum="defined-only"),
    ),
    Sample(
        "momentum_shared_state",
        "the original guide's single self.change, shared by all variables",
        notebook_builder(lambda: solved(momentum=MOMENTUM_SHARED)),
        per_class(Momentum="partial"),
        must_fail=(SEVERAL_VARIABLES,),
        must_pass=ONE_VARIABLE,
        messages=("each variable needs its own state",),
    ),
    Sample(
        "adam_no_bias_correction",
        "Adam divides the raw moments: no bias correction",
        notebook_builder(
            lambda: solved(
                adam=edited(
                    "adam",
                    (" / (1 - self.beta_1**self.t)", ""),
                    (" / (1 - self.beta_2**self.t)", ""),
                )
            )
        ),
        per_class(Adam="defined-only"),
        messages=("check the bias correction",),
    ),
    Sample(
        "adam_bias_correction_off_by_one",
        "Adam's bias correction uses beta**(t + 1)",
        notebook_builder(lambda: solved(adam=edited("adam", ("**self.t", "**(self.t + 1)")))),
        per_class(Adam="defined-only"),  # 26 % of a learning rate off at the first step
        must_fail=("the guide's run, learning rate 0.001",),
    ),
    Sample(
        "adam_step_per_variable",
        "Adam advances t once per variable instead of once per call",
        notebook_builder(
            lambda: solved(adam=edited("adam", ("\nself.t += 1", "\n    self.t += 1")))
        ),
        per_class(Adam="partial"),
        must_fail=(SEVERAL_VARIABLES,),
        must_pass=ONE_VARIABLE,
        messages=("about 0.74 of the learning rate",),
    ),
    Sample(
        "adam_step_not_advanced",
        "Adam never advances t: the bias correction of step 1 forever",
        notebook_builder(lambda: solved(adam=edited("adam", ("self.t += 1\n", "")))),
        per_class(Adam="defined-only"),
        messages=("must grow by one at every call",),
    ),
    Sample(
        "adam_shared_slots",
        "Adam keeps one first and one second moment for all variables",
        notebook_builder(lambda: solved(adam=ADAM_SHARED_SLOTS)),
        per_class(Adam="partial"),
        must_fail=(SEVERAL_VARIABLES,),
        must_pass=ONE_VARIABLE,
    ),
    Sample(
        "state_keyed_by_shape",
        "Momentum and Adam key their state by tuple(var.shape): variables of one shape share it",
        notebook_builder(
            lambda: solved(
                momentum=edited("momentum", ("var.ref()", "tuple(var.shape)")),
                adam=edited("adam", ("var.ref()", "tuple(var.shape)")),
            )
        ),
        per_class(Momentum="partial", Adam="partial"),
        must_fail=(SEVERAL_VARIABLES,),
        must_pass=ONE_VARIABLE,
        messages=("same shape as an earlier one",),
    ),
    Sample(
        "adam_no_epsilon",
        "Adam divides by sqrt(s_hat) alone: no epsilon",
        notebook_builder(lambda: solved(adam=edited("adam", (" + self.ep", "")))),
        per_class(Adam="partial"),
        must_fail=("other hyperparameters",),
        must_pass=("the guide's run", "other starting points", SEVERAL_VARIABLES),
        messages=("outside the square root",),
    ),
    Sample(
        "update_rebinds_name",
        "every apply_gradients computes its step but writes var = var - step: nothing moves",
        notebook_builder(
            lambda: solved(
                gd=edited("gradient_descent", ("var.assign_sub(", "var = var - (")),
                momentum=edited("momentum", ("var.assign_sub(", "var = var - (")),
                adam=edited("adam", ("var.assign_sub(", "var = var - (")),
            )
        ),
        per_class("zero"),
        messages=("left the variable where it was", "only rebinds a local name"),
    ),
    Sample(
        "adam_seed_misprint",
        "the original guide's misprint: S decays V (S = beta_2 * V + ...)",
        notebook_builder(
            lambda: solved(adam=edited("adam", ("self.beta_2 * s_dvar", "self.beta_2 * v_dvar")))
        ),
        per_class(Adam="defined-only"),
    ),
    # Hostile or broken code.
    Sample(
        "infinite_loop_momentum",
        "Momentum.apply_gradients never returns",
        notebook_builder(lambda: solved(momentum=INFINITE_LOOP)),
        per_class(Momentum="zero"),
        messages=("time",),
    ),
    Sample(
        "infinite_loop_top_level",
        "correct optimizers, and a cell after the imports that never ends",
        notebook_builder(lambda: with_cell(solved(), INFINITE_LOOP)),
        per_class(),
    ),
    Sample(
        "exception_in_adam",
        'Adam.apply_gradients raises ValueError("boom")',
        notebook_builder(lambda: solved(adam='raise ValueError("boom")')),
        per_class(Adam="zero"),
        messages=("boom",),
    ),
    Sample(
        "syntax_error_momentum",
        "the Momentum cell does not parse (a missing colon)",
        notebook_builder(
            lambda: solved(momentum=edited("momentum", ("zip(grads, vars):", "zip(grads, vars)")))
        ),
        per_class(Momentum="zero"),
        messages=("Momentum is not defined", "SyntaxError"),
    ),
    Sample(
        "momentum_delegates_to_keras",
        "Momentum hands its work to Keras' SGD (same rule, so every path matches): zero for it",
        notebook_builder(lambda: solved(momentum=MOMENTUM_DELEGATES)),
        per_class(Momentum="zero"),
        messages=("tf.keras.optimizers", "must implement its update itself"),
        hint="delegation",
    ),
    Sample(
        "adam_delegates_through_a_helper",
        "Adam calls a module-level helper (in another cell) that uses Keras' Adam: zero for it",
        notebook_builder(
            lambda: with_cell(solved(adam="keras_step(self, grads, vars)"), KERAS_HELPER)
        ),
        per_class(Adam="zero"),
        messages=("tf.keras.optimizers", "Adam uses"),
        hint="delegation",
    ),
    Sample(
        "renamed_class",
        "class Momentum renamed to MomentumOptimizer",
        notebook_builder(lambda: renamed(solved(), "momentum", "Momentum", "MomentumOptimizer")),
        per_class(Momentum="zero"),
        messages=("Momentum is not defined",),
    ),
    Sample(
        "memory_hog",
        "Adam.apply_gradients keeps 4 GiB of NumPy ones before updating",
        notebook_builder(
            lambda: solved(adam="self.ballast = np.ones(2**29)\n" + solution_body("adam"))
        ),
        per_class(Adam="zero"),
        messages=("memory",),
    ),
    Sample(
        "patches_numpy",
        "stubs, and a cell that makes NumPy's comparisons always agree and silences print",
        notebook_builder(lambda: with_cell(student_notebook(), PATCH_CHECKS)),
        per_class("zero"),
    ),
    Sample(
        "imports_solutions",
        "delegates to the hidden solutions: import solutions, by file path, from solutions",
        notebook_builder(
            lambda: with_bodies(
                IMPORT_SOLUTIONS_PACKAGE, IMPORT_SOLUTIONS_FILE, IMPORT_SOLUTIONS_NAME
            )
        ),
        per_class("zero"),
    ),
    Sample(
        "reads_outside",
        "correct optimizers, and a cell reading the references, ~/.ssh and /etc/shadow",
        notebook_builder(lambda: with_cell(solved(), READ_OUTSIDE)),
        per_class(),
    ),
    Sample(
        "writes_fake_results",
        "stubs, and a cell writing perfect results.json, grades.csv, feedback.html everywhere",
        notebook_builder(lambda: with_cell(student_notebook(), WRITE_FAKE_RESULTS)),
        per_class("zero"),
    ),
    Sample(
        "forged_class_check",
        "an Adam whose constructor raises, and a cell forging the runner's events: Adam "
        '"defined", its one-update case a success that leaves the variable where it was',
        notebook_builder(lambda: with_cell(solved_cell("adam", UNCONSTRUCTIBLE), FORGE_EVENTS)),
        per_class(Adam="zero"),
        messages=("left the variable where it was",),  # the forged events reached the grader
    ),
    Sample(
        "os_exit",
        "GradientDescent.apply_gradients kills its process with os._exit(0)",
        notebook_builder(lambda: solved(gd=OS_EXIT)),
        per_class(GradientDescent="zero"),
    ),
    Sample(
        "prints_50mb",
        "correct optimizers, and a cell printing 50 MB",
        notebook_builder(lambda: with_cell(solved(), PRINT_50MB)),
        per_class(),
    ),
    Sample(
        "fork_bomb_lite",
        "correct optimizers, and a cell leaving a sleeping child and a busy thread behind",
        notebook_builder(lambda: with_cell(solved(), BACKGROUND_WORK)),
        per_class(),
    ),
    Sample(
        "forged_start_events",
        "correct optimizers, and a cell ignoring the timer that keeps re-sending its start event",
        notebook_builder(lambda: with_cell(solved(), FORGED_STARTS)),
        per_class(),
        messages=("longer than",),
    ),
    Sample(
        "six_sleepy_cells",
        "correct optimizers, then six cells that each sleep just under the cell limit",
        notebook_builder(lambda: with_cells_at_end(solved(), *[SLEEPY_CELL] * 6)),
        per_class("zero"),  # past the submission's deadline: its cases are charged
        messages=("used up its time",),
    ),
    Sample(
        "memfd_ballast",
        "Adam.apply_gradients keeps 3.2 GiB in memfds that no process maps",
        notebook_builder(lambda: solved(adam=MEMFD_BALLAST + solution_body("adam"))),
        per_class(Adam="zero"),
        messages=("memory",),
    ),
    Sample(
        "double_fork_daemon",
        "correct optimizers, and a cell leaving a double-forked daemon in a session of its own",
        notebook_builder(lambda: with_cell(solved(), DOUBLE_FORK_DAEMON)),
        per_class(),
    ),
    # Bad input.
    Sample(
        "invalid_json",
        "a truncated JSON file",
        file_builder(lambda: b'{"cells": ['),
        {},
        messages=("json",),
    ),
    Sample(
        "not_a_notebook",
        "valid JSON, but a list",
        file_builder(lambda: b"[1, 2, 3]"),
        {},
        messages=("notebook",),
    ),
    Sample(
        "empty_notebook",
        "a valid notebook without a single cell",
        notebook_builder(lambda: nbformat.v4.new_notebook(metadata=student_notebook().metadata)),
        per_class("zero"),
        messages=("is not defined",),
    ),
    Sample(
        "cells_retyped",
        "the three (correct) class cells turned into Markdown cells",
        notebook_builder(lambda: without_classes(solved(), *OPTIMIZERS.values(), retype=True)),
        per_class("zero"),
        messages=("is not defined",),
    ),
    Sample(
        "cells_deleted",
        "correct optimizers, the Adam cell deleted",
        notebook_builder(lambda: without_classes(solved(), "adam")),
        per_class(Adam="zero"),
        messages=("Adam is not defined",),
    ),
    Sample(
        "outputs_kept",
        "correct optimizers, and a cell storing 1.5 MB of text and a 0.5 MB PNG as outputs",
        notebook_builder(
            lambda: with_cell(
                solved(), "# outputs of an earlier run", outputs=huge_outputs(scale=0.05)
            )
        ),
        per_class(),
    ),
    Sample(
        "huge_outputs",
        "correct optimizers, but a cell storing 30 MB of text and a 10 MB PNG as outputs: "
        "refused before it is parsed, with advice to clear the outputs",
        notebook_builder(
            lambda: with_cell(solved(), "# outputs of an earlier run", outputs=huge_outputs())
        ),
        {},
        messages=("clear its outputs",),
    ),
    Sample(
        "binary_garbage",
        "1 MiB of random bytes named optimizers_core.ipynb",
        file_builder(lambda: random_bytes(2**20, seed=1)),
        {},
        messages=("json",),
    ),
]

SAMPLES: dict[str, Sample] = {sample.name: sample for sample in _SAMPLES}

# Samples whose class cells are safe to run anywhere (no hang, no hog), correct or with a claim
# about their numbers: the solution, the other correct styles and the typical bugs.
SEMANTIC = (
    "solution",
    "correct_assign_style",
    "correct_ref_dict_float64",
    "correct_slots_tf_pow",
    "gd_sign_flipped",
    "gd_lr_not_applied",
    "momentum_state_not_kept",
    "momentum_shared_state",
    "adam_no_bias_correction",
    "adam_bias_correction_off_by_one",
    "adam_step_per_variable",
    "adam_step_not_advanced",
    "adam_shared_slots",
    "adam_seed_misprint",
    "state_keyed_by_shape",
    "adam_no_epsilon",
    "update_rebinds_name",
)
assert len(SAMPLES) == len(_SAMPLES), "sample names must be unique"
