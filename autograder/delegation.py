"""Delegation is not an implementation: find exercises that hand their work to a library.

An exercise (a class or function the student writes) scores zero if its code reaches a forbidden
library name: an optimizer module (`tf.keras.optimizers`, `tf.compat.v1.train`, optax, torch.optim
and the like, `COMMON_FORBIDDEN`) or an extra the assignment names (`tf.clip_by_global_norm`).
Code the exercise does not reach (demo cells comparing with Keras) may use them freely.

The check reads source text only: it never runs or imports the student's code. It looks at the
exercise's last definition and, transitively, at the notebook's module-level functions, classes
and assignments that it names; names resolve through the notebook's imports and aliases
(`import tensorflow as tf`, `K = tf.keras`, `from keras.optimizers import SGD`), local imports,
`getattr(x, "const")`, `importlib.import_module("const")`, `__import__("const")`,
`sys.modules["const"]`, and the string constants given to `eval`, `exec` or `compile`. Spellings
of one module count as one (`tf.compat.v2.X` is `tf.X`; `tf.keras`, `tf_keras`, `keras.src` are
`keras`); a forbidden entry may hold `*` wildcards. Magics become Python line by line (`%time code`
is read as `code`); a cell that still does not parse is skipped.

It is a rule check, not a security boundary: a determined student can defeat any static check
(names built at run time, `vars(tf)["ker" + "as"]`, a module that imports the library for them,
`model.compile(optimizer="sgd")`, a star import the check cannot see through...). It catches
the honest mistake and the obvious shortcut; the sandbox, not this module, is the boundary.
"""

import ast
import builtins
import fnmatch
import re
from collections import ChainMap
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

COMMON_FORBIDDEN: tuple[str, ...] = (
    "tensorflow.keras.optimizers",
    "keras.optimizers",
    "tf_keras.optimizers",
    "keras.optimizer_v2",
    "tensorflow.optimizers",
    "tensorflow.compat.v1.train",
    "tensorflow.train",
    "tensorflow.python.training",
    "tensorflow_addons.optimizers",
    "optax",
    "torch.optim",
    "jax.example_libraries.optimizers",
    "flax.optim",
    "tensorflow.raw_ops.*Apply*",  # the kernels of TensorFlow's optimizers (ResourceApplyAdam...)
)
# Spellings of one module (compat modules, Keras behind tf.keras); applied in order, for matching.
_SAME_MODULE = (
    ("tensorflow.compat.v1.", "tensorflow."),
    ("tensorflow.compat.v2.", "tensorflow."),
    ("tensorflow.python.keras.", "keras."),
    ("tensorflow.keras.", "keras."),
    ("tf_keras.src.", "keras."),
    ("tf_keras.", "keras."),
    ("keras.src.", "keras."),
)
_RUN_STRING = {"builtins.eval", "builtins.exec", "builtins.compile"}
_IMPORT_STRING = {"builtins.__import__", "importlib.import_module", "importlib.__import__"}
_STEPS = 200  # at most this many steps to resolve one name (aliases of aliases...)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_COMPOUND = (ast.If, ast.Try, getattr(ast, "TryStar", ast.Try), ast.While, ast.Match)
_COMPOUND += (ast.match_case, ast.ExceptHandler)


@dataclass(frozen=True)
class Finding:
    """An exercise reaching a forbidden name: `cell` indexes the cells given (the grader gives
    them at their notebook indices, as its other messages count them), `line` counts from 1 in
    that cell."""

    exercise: str
    name: str  # canonical dotted name reached, e.g. "tensorflow.keras.optimizers.SGD"
    cell: int
    line: int
    written: str = ""  # as the student wrote it, e.g. "tf.keras.optimizers.SGD"
    via: str = ""  # the module-level helper the exercise reaches it through, if any
    forbidden: str = ""  # the forbidden entry it falls under, e.g. "tensorflow.keras.optimizers"

    def message(self) -> str:
        """Student-facing explanation."""
        where = f"cell {self.cell}, line {self.line}" + (f", in {self.via}" if self.via else "")
        return (
            f"{self.exercise} uses {(self.written or self.name)[:80]} ({where}): an exercise must "
            f"implement its update itself, not hand it to {self.forbidden or self.name}; library "
            "optimizers may be used elsewhere in the notebook, e.g. to compare"
        )


@dataclass
class _Binding:
    node: ast.AST  # what to scan when the name is reached
    cell: int
    alias: str | None = None  # dotted module name bound by an import
    value: ast.expr | None = None  # right-hand side of `name = value`


def _normal(dotted: str) -> str:
    dotted += "."
    for prefix, same in _SAME_MODULE:
        if dotted.startswith(prefix):
            dotted = same + dotted[len(prefix) :]
    return dotted


def _matching(dotted: str, forbidden: Sequence[str]) -> str | None:
    """The forbidden entry `dotted` is or falls under (an entry may hold `*` wildcards), or None."""
    name = _normal(dotted)
    return next((f for f in forbidden if fnmatch.fnmatchcase(name, _normal(f) + "*")), None)


def _parse(source: str) -> ast.Module | None:
    """The cell's syntax tree, IPython's magics, shell escapes and help lines made into `pass` or
    `None` (line by line: IPython's own transformer takes minutes on a cell of many magics), or
    None if the cell does not parse."""
    lines = source.split("\n")
    if lines[0].lstrip().startswith("%%"):  # a cell magic: its body is usually Python
        lines[0] = ""
    for attempt in (lines, [_without_magic(line) for line in lines]):
        try:
            return ast.parse("\n".join(attempt))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return None


def _without_magic(line: str) -> str:
    """The line with a magic made Python: `%time code` runs code, other magics become `pass`."""
    line = re.sub(r"^(\s*)%(?:time|timeit|prun)\s+(?:-\w+\s+(?:\d+\s+)?)*", r"\1", line)
    line = re.sub(r"^(\s*)(?:[%!]|\?\??[\w.]+\s*$|[\w.]+\?\??\s*$).*", r"\1pass", line)
    return re.sub(r"^(\s*[\w.\[\], ]+=\s*)[%!].*", r"\1None", line)


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, inside if/try/with/for blocks too, but not inside definitions."""
    for node in body:
        yield node
        if not isinstance(node, _DEFINITIONS):
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                yield from _statements(getattr(node, field, []))


def _imported(node: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, str]]:
    """(bound name, dotted name) of each alias of an import statement."""
    for alias in node.names:
        if isinstance(node, ast.Import):  # `import a.b` binds a; `import a.b as c` binds c
            top = alias.name.split(".")[0]
            yield (alias.asname, alias.name) if alias.asname else (top, top)
        elif not node.level and node.module and alias.name != "*":
            yield alias.asname or alias.name, f"{node.module}.{alias.name}"


def _stored(node: ast.AST) -> Iterator[str]:
    """Names a target (or a whole statement) binds."""
    yield from (
        n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    )


def _local_names(function: ast.AST) -> dict[str, str | None]:
    """Names bound inside a function (imports to their dotted names), minus `global` ones."""
    arguments = function.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    names: dict[str, str | None] = {
        a.arg: None for a in [*every, arguments.vararg, arguments.kwarg] if a is not None
    }
    shared: list[str] = []
    body = function.body if isinstance(function.body, list) else [function.body]
    for node in (n for statement in body for n in ast.walk(statement)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(_imported(node))
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            shared += node.names
        elif isinstance(node, (*_DEFINITIONS, ast.ExceptHandler)) and node.name:
            names[node.name] = None
    names.update(dict.fromkeys(name for statement in body for name in _stored(statement)))
    return {name: dotted for name, dotted in names.items() if name not in shared}


class _Notebook:
    """The module-level names of a notebook's code cells: what each is bound to, last one wins."""

    def __init__(self, cells: list[str], forbidden: Sequence[str]) -> None:
        self.forbidden = forbidden
        self.bindings: dict[str, list[_Binding]] = {}
        self.star_imports: list[str] = []  # forbidden modules imported with `*`
        for cell, source in enumerate(cells):
            tree = _parse(source) if isinstance(source, str) else None
            for node in _statements(tree.body if tree else []):
                self._bind(node, cell)

    def _bind(self, node: ast.stmt, cell: int) -> None:
        def add(name: str, binding: _Binding) -> None:
            if isinstance(node, ast.AugAssign):
                self.bindings.setdefault(name, []).append(binding)
            else:
                self.bindings[name] = [binding]

        if isinstance(node, _DEFINITIONS):
            add(node.name, _Binding(node, cell))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for name, dotted in _imported(node):
                add(name, _Binding(node, cell, alias=dotted))
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                if any(alias.name == "*" for alias in node.names):
                    if _matching(node.module, self.forbidden):
                        self.star_imports.append(node.module)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            for name in _stored(node.target):
                add(name, _Binding(node.iter, cell))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                for name in _stored(item.optional_vars) if item.optional_vars else ():
                    add(name, _Binding(item.context_expr, cell))
        elif not isinstance(node, _COMPOUND):
            single = isinstance(node, ast.Assign) and len(node.targets) == 1
            value = node.value if single and isinstance(node.targets[0], ast.Name) else None
            for name in _stored(node):
                add(name, _Binding(node, cell, value=value))

    def dotted(self, node: ast.AST, scope: Mapping) -> str | None:
        """The dotted name an expression such as `tf.keras.optimizers.SGD` stands for, or None
        (also when resolving it takes more than `_STEPS` steps: a hostile chain of aliases)."""
        self.steps_left = _STEPS
        return self._dotted(node, scope)

    def _dotted(self, node: ast.AST, scope: Mapping) -> str | None:
        parts: list[str] = []
        while True:
            self.steps_left -= 1
            if self.steps_left <= 0:
                return None
            if isinstance(node, ast.Attribute):
                parts.append(node.attr)
                node = node.value
            elif isinstance(node, ast.Name):
                binding = None if node.id in scope else self.bindings.get(node.id, [None])[-1]
                if binding is not None and binding.value is not None:  # `K = tf.keras`
                    node, scope = binding.value, {}
                    continue
                base = self._resolve(node.id, scope, binding)
                break
            elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
                is_modules = self._dotted(node.value, scope) == "sys.modules"
                base = node.slice.value if is_modules else None
                break
            elif isinstance(node, ast.Call) and node.args:
                function = self._dotted(node.func, scope)
                argument = node.args[-1 if function == "builtins.getattr" else 0]
                if not isinstance(argument, ast.Constant):
                    return None
                if function == "builtins.getattr" and len(node.args) == 2:
                    parts.append(argument.value)
                    node = node.args[0]
                    continue
                base = argument.value if function in _IMPORT_STRING else None
                break
            else:
                return None
        if not isinstance(base, str) or not all(isinstance(p, str) for p in parts):
            return None
        return ".".join([base, *reversed(parts)])

    def _resolve(self, name: str, scope: Mapping, binding: _Binding | None) -> str | None:
        if name in scope:
            return scope[name]
        if binding is not None:
            return binding.alias
        if hasattr(builtins, name):
            return f"builtins.{name}"
        return f"{self.star_imports[-1]}.{name}" if self.star_imports else None


def _shown(node: ast.AST) -> str:
    """The expression as written (without a hostile depth of arguments), or ""."""
    try:
        return ast.unparse(node)
    except RecursionError:
        return ""


class _Scan:
    """The findings of one exercise: its definition and the module-level code it names."""

    def __init__(self, notebook: _Notebook, exercise: str, others: frozenset = frozenset()) -> None:
        self.notebook, self.exercise, self.others = notebook, exercise, others
        self.found: dict[tuple[str, int, int], Finding] = {}
        bindings = notebook.bindings.get(exercise, [])
        self.seen = {id(binding.node) for binding in bindings}
        self.todo = [(binding.node, binding.cell, "") for binding in bindings]
        while self.todo:
            self.scan(*self.todo.pop())

    def report(self, name: str, written: str, cell: int, line: int, via: str) -> None:
        if rule := _matching(name, self.notebook.forbidden):
            finding = Finding(self.exercise, name, cell, line, written[:80] or name, via, rule)
            self.found.setdefault((name, cell, line), finding)

    def scan(self, root: ast.AST, cell: int, via: str) -> None:
        notebook = self.notebook
        stack: list[tuple[ast.AST, Mapping, int]] = [(root, {}, 0)]
        while stack:
            node, scope, line_of_string = stack.pop()
            line = line_of_string or getattr(node, "lineno", 0)
            children = list(ast.iter_child_nodes(node))
            if isinstance(node, _FUNCTIONS):  # defaults and decorators outside, body inside
                inner = ChainMap(_local_names(node), scope)
                body = {id(c) for c in (node.body if isinstance(node.body, list) else [node.body])}
                for child in children:
                    stack.append((child, inner if id(child) in body else scope, line_of_string))
                continue
            if isinstance(node, _COMPREHENSIONS):
                scope = ChainMap(
                    {n: None for g in node.generators for n in _stored(g.target)}, scope
                )
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.report(alias.name, alias.name, cell, line, via)
            elif isinstance(node, ast.ImportFrom):
                for _, dotted in _imported(node):
                    self.report(dotted, dotted, cell, line, via)
            loaded = not isinstance(getattr(node, "ctx", None), (ast.Store, ast.Del))
            if loaded and isinstance(node, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)):
                dotted = notebook.dotted(node, scope)
                if dotted is not None:  # a library name: nothing more to see inside it
                    self.report(dotted, _shown(node), cell, line, via)
                    continue
            name = node.id if isinstance(node, ast.Name) and loaded else None
            if name is not None and name not in scope and name not in self.others:
                for binding in notebook.bindings.get(name, []):
                    if binding.alias is None and id(binding.node) not in self.seen:
                        self.seen.add(id(binding.node))
                        self.todo.append((binding.node, binding.cell, name))
            if isinstance(node, ast.Call) and node.args:
                if notebook.dotted(node.func, scope) in _RUN_STRING:
                    text = "".join(
                        n.value
                        for n in ast.walk(node.args[0])
                        if isinstance(n, ast.Constant) and isinstance(n.value, str)
                    )
                    code = _parse(text)
                    if code is not None:
                        stack.append((code, scope, line))
                    words = set(re.findall(r"\w+", text)) if code is None else set()
                    for rule in (r for r in notebook.forbidden if r.split(".")[-1] in words):
                        self.report(rule, "a string given to eval/exec", cell, line, via)
                        break
            stack += [(child, scope, line_of_string) for child in children]


def find_delegation(
    cells: list[str], exercises: list[str], forbidden: Sequence[str]
) -> list[Finding]:
    """Findings, exercise by exercise, of forbidden dotted names (or names under them) reached by
    the exercise's code or the module-level code it names, except the other exercises: each is
    judged on its own (an eigenvalue exercise that calls a delegating product exercise keeps its
    points; the product loses its own). Cells that do not parse are skipped."""
    notebook = _Notebook(cells, forbidden)
    findings: list[Finding] = []
    for exercise in exercises:
        found = _Scan(notebook, exercise, frozenset(exercises) - {exercise}).found.values()
        findings += sorted(found, key=lambda f: (f.cell, f.line, f.name))
    return findings
