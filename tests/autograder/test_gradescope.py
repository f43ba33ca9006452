"""Gradescope's autograder zip: what it holds, its scripts, its sandbox policy, and run_autograder
end to end on a tree laid out like Gradescope's (source/, submission/, results/).

The end-to-end tests run run_autograder with a Python prepared the way setup.sh prepares one: a
venv whose packages are this venv's (hard links instead of a pip install: no network) and a .pth
file that puts source/ on the path. The tree is made under /var/tmp, not /tmp: a sandbox mounts a
/tmp of its own over the real one.
"""

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import psutil
import pytest

from autograder import __main__ as cli
from autograder import assignments, generate, paths, sandbox
from autograder.assignments.optimizers_core import samples
from autograder.assignments.optimizers_core.spec import ASSIGNMENT
from autograder.gradescope import export, run

needs_bwrap = pytest.mark.needs("sandbox")
TREE_BASE = Path("/var/tmp")
EVERY_ASSIGNMENT = pytest.mark.parametrize(
    "assignment", assignments.all_assignments(), ids=lambda a: a.name
)


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    """zips(assignment): its autograder zip, built once."""
    folder, made = Path(tmp_path_factory.mktemp("gradescope")), {}

    def built(assignment):
        if assignment.name not in made:
            made[assignment.name] = folder / f"{assignment.name}.zip"
            export.build_zip(made[assignment.name], assignment)
        return made[assignment.name]

    return built


@pytest.fixture
def built(zips):
    """Lesson 1's autograder zip."""
    return zips(ASSIGNMENT)


def solution_updates():
    """The lines of every assignment's solutions that update a variable (what a leak shows)."""
    updates = set()
    for assignment in assignments.all_assignments():
        solution = generate.read_notebook(assignment.solution_notebook)
        updates |= {line for body in generate.solution_bodies(solution) for line in body}
    return {line for line in updates if ".assign" in line}


@EVERY_ASSIGNMENT
def test_the_zip_holds_the_grader_and_references_but_no_solutions_or_tests(zips, assignment):
    """Scripts, requirements, grader, its own assignment's hidden data and student notebook; no
    solutions, tests, samples, examples, other assignments or caches?"""
    with zipfile.ZipFile(zips(assignment)) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        texts = {name: archive.read(name).decode("utf-8", "replace") for name in infos}
    folder = f"autograder/assignments/{assignment.name}"
    for name in (
        "setup.sh",
        "run_autograder",
        "requirements.txt",
        "autograder/__main__.py",
        "autograder/assignment.py",
        "autograder/assignments/__init__.py",
        "autograder/gradescope/run.py",
        "autograder/guest/runner.py",
        "autograder/guest/protocol.py",
        "autograder/checks/test_exercises.py",
        f"{folder}/spec.py",
        f"{folder}/guest.py",
        f"{folder}/references.json",
        "course_utils/losses.py",
        f"notebooks/{assignment.notebook}",
    ):
        assert name in infos, name
    assert set(infos) == set(export.members(assignment))
    assert not [n for n in infos if n.split("/")[0] in ("solutions", "tests", "examples")]
    assert not [
        n for n in infos if n.startswith("notebooks/") and n != f"notebooks/{assignment.notebook}"
    ]
    assignment_files = [n for n in infos if n.startswith("autograder/assignments/")]
    others = [
        n for n in assignment_files if n.split("/")[2] not in (assignment.name, "__init__.py")
    ]
    assert others == []
    assert f"{folder}/samples.py" not in infos
    assert not [n for n in infos if n.startswith(f"{folder}/examples")]
    assert not [n for n in infos if "__pycache__" in n or n.endswith(".pyc")]
    for script in ("setup.sh", "run_autograder"):
        assert infos[script].external_attr >> 16 & 0o777 == 0o755
    dependencies = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    assert texts["requirements.txt"].splitlines() == dependencies["dependencies"]
    updates = solution_updates()
    assert len(updates) >= 4
    leaked = [(name, line) for name, text in texts.items() for line in updates if line in text]
    assert leaked == []


def test_the_zip_is_reproducible(built, tmp_path):
    """Does building twice give the same bytes (sorted entries, fixed dates)?"""
    again = tmp_path / "again.zip"
    export.build_zip(again, ASSIGNMENT)
    assert again.read_bytes() == built.read_bytes()


def test_export_gradescope_writes_one_zip_per_assignment(tmp_path, capsys):
    """`export-gradescope FOLDER` writes FOLDER/<assignment>.zip for each assignment, or only
    the one named by --assignment?"""
    assert cli.main(["export-gradescope", str(tmp_path / "all")]) == 0
    names = [a.name for a in assignments.all_assignments()]
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == sorted(f"{n}.zip" for n in names)
    one = tmp_path / "one"
    assert cli.main(["export-gradescope", str(one), "--assignment", ASSIGNMENT.name]) == 0
    assert [p.name for p in one.iterdir()] == [f"{ASSIGNMENT.name}.zip"]
    assert (one / f"{ASSIGNMENT.name}.zip").read_bytes() == (
        tmp_path / "all" / f"{ASSIGNMENT.name}.zip"
    ).read_bytes()


def test_the_scripts_are_valid_bash(built, tmp_path):
    with zipfile.ZipFile(built) as archive:
        archive.extractall(tmp_path)
    for script in ("setup.sh", "run_autograder"):
        check = subprocess.run(["bash", "-n", tmp_path / script], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr


def test_auto_falls_back_to_nobody_only_as_root(monkeypatch):
    """auto: bwrap if it works; else unprivileged, with a warning, as root; else refusal."""
    monkeypatch.setattr(sandbox, "bwrap_works", lambda: (True, "works"))
    assert run.choose_sandbox("auto") == ("bwrap", None)
    monkeypatch.setattr(sandbox, "bwrap_works", lambda: (False, "no user namespaces"))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    mode, warning = run.choose_sandbox("auto")
    assert mode == sandbox.UNPRIVILEGED and "no user namespaces" in warning
    assert "WITHOUT THE BWRAP SANDBOX" in warning
    with pytest.raises(sandbox.SandboxUnavailable):
        run.choose_sandbox("bwrap")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(sandbox.SandboxUnavailable, match="needs root"):
        run.choose_sandbox("auto")
    with pytest.raises(sandbox.SandboxUnavailable, match="needs root"):
        run.choose_sandbox(sandbox.UNPRIVILEGED)
    with pytest.raises(ValueError):
        run.choose_sandbox("none")


def test_the_unprivileged_runner_has_a_uid_of_its_own_without_groups_in_its_own_home(tmp_path):
    """sandbox.unprivileged_user: a uid no account or process uses, owner of the home, no groups?"""
    if os.geteuid() != 0:
        pytest.skip("dropping privileges needs root")
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    user = sandbox.unprivileged_user(home)
    uid = sandbox.student_uid()
    assert uid in sandbox.STUDENT_UIDS and user["user"] == user["group"] == uid
    with pytest.raises(KeyError):
        pwd.getpwuid(uid)
    assert (home.stat().st_uid, home.stat().st_gid) == (uid, uid)
    ids = subprocess.run(["sh", "-c", "id -u; id -G"], capture_output=True, text=True, **user)
    assert ids.stdout.split() == [str(uid), str(uid)]


def test_every_process_of_the_student_uid_is_killed(tmp_path):
    """Does kill_user end a double-forked daemon of the student's uid, in a session of its own?"""
    if os.geteuid() != 0:
        pytest.skip("dropping privileges needs root")
    user = sandbox.unprivileged_user(tmp_path)
    marker = f"{samples.DAEMON_MARKER}1"
    subprocess.run(["sh", "-c", f"setsid sleep {marker} >/dev/null 2>&1 &"], **user, check=True)
    assert daemons(marker)
    sandbox.kill_user(user["user"])
    assert daemons(marker) == []


def daemons(marker):
    """The PIDs of processes sleeping `marker` seconds."""
    found = subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True, text=True)
    return found.stdout.split()


def test_the_unprivileged_runner_imports_only_what_the_sandbox_shows():
    """Does the copy the runner imports from hold the sandboxed package and course_utils only?"""
    guests = {
        sandbox.staged_guest(Path(), a.guest).as_posix(): a.guest
        for a in assignments.all_assignments()
    }
    with sandbox.student_packages() as stage:
        names = {p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file()}
        modes = {p.stat().st_mode & 0o777 for p in stage.rglob("*")}
        copied = {name: (stage / name).read_bytes() for name in guests}
    assert "autograder/__init__.py" in names and "autograder/guest/runner.py" in names
    assert "autograder/guest/protocol.py" in names
    assert any(n.startswith("course_utils/") for n in names)
    assert sorted(guests) == sorted(f"guests/{a.name}.py" for a in assignments.all_assignments())
    assert copied == {name: guest.read_bytes() for name, guest in guests.items()}
    outside = [n for n in names if not n.startswith(("autograder/guest/", "course_utils/"))]
    assert sorted(outside) == sorted(["autograder/__init__.py", *guests])
    assert modes <= {0o755, 0o644}


def test_gradescope_run_builds_only_what_gradescope_shows(monkeypatch, tmp_path):
    """results.json and nothing else (no feedback page, no plots), its output HTML showing what
    the code printed, escaped, after the sandbox warning?"""
    from autograder import grade, report
    from autograder.run_submission import SubmissionRun

    def nothing_else(*args, **kwargs):
        raise AssertionError("built something Gradescope does not show")

    printed = "<b>loss</b> & <script>x</script>"
    monkeypatch.setattr(grade, "run_cells", lambda *args: SubmissionRun(stdout=printed))
    monkeypatch.setattr(report, "public_plots", nothing_else)
    monkeypatch.setattr(report, "feedback_html", nothing_else)
    monkeypatch.setattr(run, "choose_sandbox", lambda requested: ("bwrap", "WARNING: <test>"))
    monkeypatch.setattr(run, "protect", lambda results_dir: results_dir.mkdir(parents=True))
    (tmp_path / "submission").mkdir()
    shutil.copy(ASSIGNMENT.student_notebook, tmp_path / "submission" / ASSIGNMENT.notebook)

    document = run.grade_submission(tmp_path, log=lambda line: None)  # the notebook's assignment
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["results.json"]
    assert json.loads((tmp_path / "results" / "results.json").read_text()) == document
    assert document["output"].startswith("WARNING: &lt;test&gt;\n<p>")
    shown = "<pre>&lt;b&gt;loss&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;</pre>"
    assert shown in document["output"]
    assert document["output_format"] == "html"
    assert [t["name"] for t in document["tests"]] == ASSIGNMENT.all_shown_names()


def test_gradescope_run_refuses_with_exit_code_2(monkeypatch, tmp_path):
    def unavailable(root, requested, assignment=None):
        raise sandbox.SandboxUnavailable("no bwrap, not root")

    monkeypatch.setattr(run, "grade_submission", unavailable)
    assert cli.main(["gradescope-run", "--root", str(tmp_path)]) == 2


# End to end ------------------------------------------------------------------------------------


def base_python():
    """A Python 3.11 for the test venv: the system's (user nobody can run it), else ours."""
    for candidate in ("/usr/bin/python3.11", "/usr/local/bin/python3.11"):
        if os.access(candidate, os.X_OK):
            return candidate
    return sys._base_executable


def make_python(target, source):
    """A venv at `target` with this venv's packages and `source` on its path (as setup.sh does)."""
    subprocess.run([base_python(), "-m", "venv", "--without-pip", target], check=True)
    (site,) = Path(target).glob("lib/python3*/site-packages")
    copy = subprocess.run(
        ["cp", "-al", f"{sysconfig.get_path('purelib')}/.", site], capture_output=True, text=True
    )
    if copy.returncode != 0:
        pytest.skip(f"cannot hard-link this venv's packages: {copy.stderr.strip()}")
    for editable in site.glob("__editable__*"):  # this repository's own install: not wanted
        editable.unlink()
    (site / "course_autograder.pth").write_text(f"{source}\n")
    return Path(target) / "bin" / "python3"


@pytest.fixture
def trees():
    """trees(zip): a Gradescope tree of `zip` (see `gradescope_tree`), removed afterwards."""
    made = []

    def tree(built):
        made.append(gradescope_tree(built))
        return made[-1]

    yield tree
    for root, _ in made:
        shutil.rmtree(root.parent, ignore_errors=True)


@pytest.fixture
def gradescope(trees, built):
    """(root, environment) of lesson 1's zip."""
    return trees(built)


def gradescope_tree(built):
    """(root, environment): a fresh Gradescope tree and what run_autograder is run with."""
    if not TREE_BASE.is_dir():
        pytest.skip(f"no {TREE_BASE}")
    top = Path(tempfile.mkdtemp(prefix="gradescope-test-", dir=TREE_BASE))
    top.chmod(0o755)
    root = top / "autograder"
    for name in ("source", "submission", "results"):
        (root / name).mkdir(parents=True)
    with zipfile.ZipFile(built) as archive:
        archive.extractall(root / "source")
    for folder, _, files in os.walk(root / "source"):  # as unzip leaves them
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    python = make_python(top / "python", root / "source")
    env = {
        "PATH": f"{python.parent}:/usr/bin:/bin",
        "AUTOGRADER_ROOT": str(root),
        "HOME": str(top),
        "LANG": "C.UTF-8",
    }
    return root, env


def run_autograder(root, env, notebook, assignment=ASSIGNMENT):
    """Put `notebook` in submission/, run run_autograder; returns results.json's document."""
    shutil.copy(notebook, root / "submission" / assignment.notebook)
    done = subprocess.run(
        [root / "run_autograder"], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text()), done.stdout


def check_schema(document, assignment=ASSIGNMENT):
    """Gradescope's fields, and scores that add up."""
    assert {"score", "execution_time", "output", "tests", "visibility", "stdout_visibility"} <= set(
        document
    )
    assert [t["name"] for t in document["tests"]] == assignment.all_shown_names()
    assert document["output_format"] == "html"
    for test in document["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] in ("passed", "failed") and test["output_format"] == "html"
    assert document["score"] == pytest.approx(sum(t["score"] for t in document["tests"]))
    assert sum(t["max_score"] for t in document["tests"]) == assignment.max_score()
    assert document["extra_data"]["max_score"] == assignment.max_score()


@pytest.mark.slow
@needs_bwrap
@EVERY_ASSIGNMENT
def test_run_autograder_grades_the_solution_and_the_untouched_notebook(trees, zips, assignment):
    """In bwrap, each assignment's zip: full marks for the solution, 0 for the student notebook
    as released?"""
    root, env = trees(zips(assignment))
    document, _ = run_autograder(root, env, assignment.solution_notebook, assignment)
    check_schema(document, assignment)
    assert document["score"] == assignment.max_score()
    assert document["extra_data"]["sandbox"] == "bwrap"
    assert "WARNING" not in document["output"]
    assert [p.name for p in (root / "results").iterdir()] == ["results.json"]

    document, _ = run_autograder(root, env, assignment.student_notebook, assignment)
    check_schema(document, assignment)
    assert document["score"] == 0  # every body a stub: no class is usable (samples: "untouched")
    assert all(t["status"] == "failed" for t in document["tests"])
    assert "not implemented" in json.dumps(document["tests"]).lower()


GRADER_MODULES = (
    "autograder.assignment",
    "autograder.assignments",
    f"autograder.assignments.{ASSIGNMENT.name}.spec",
    "autograder.build_references",
    "autograder.checks",
)
SPY = """import os, subprocess
print("uid", os.getuid())
try:
    open({references!r}).read()
    print("REFERENCES READABLE")
except PermissionError:
    print("REFERENCES DENIED")
for name in {grader_modules!r}:
    try:
        __import__(name)
        print("GRADER IMPORTED", name)
    except ImportError:
        pass
try:
    open({checks!r}).read()
    print("GRADER READABLE")
except PermissionError:
    pass
subprocess.run(["sh", "-c", "setsid sleep {marker} >/dev/null 2>&1 &"])
if subprocess.run(["pgrep", "-f", "sleep {marker}"], capture_output=True).stdout.strip():
    print("DAEMON RUNNING")
"""


def student_can_run(python):
    uid = sandbox.student_uid()
    try:
        done = subprocess.run([python, "-c", "pass"], user=uid, group=uid, capture_output=True)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


@pytest.mark.slow
def test_without_bwrap_run_autograder_grades_as_its_own_user_and_says_so(gradescope, tmp_path):
    """bwrap broken (a stand-in that fails): graded as a uid of its own, the grader's files
    unreadable and unimportable, no process of that uid left afterwards (a daemon included),
    full marks for a correct submission, and a warning?"""
    if os.geteuid() != 0:
        pytest.skip("the fallback needs root")
    root, env = gradescope
    python = Path(env["PATH"].split(":")[0]) / "python3"
    if not student_can_run(python):
        pytest.skip(f"the student's uid cannot run {python.resolve()}")
    broken = tmp_path / "bin"
    broken.mkdir()
    (broken / "bwrap").write_text(
        "#!/bin/sh\necho 'No permissions to create namespace' >&2\nexit 1\n"
    )
    (broken / "bwrap").chmod(0o755)
    env = {**env, "PATH": f"{broken}:{env['PATH']}"}
    references = root / "source" / ASSIGNMENT.references_path.relative_to(paths.ROOT)
    marker = f"{samples.DAEMON_MARKER}2"
    spied = json.loads(ASSIGNMENT.solution_notebook.read_text())
    spied["cells"].append(
        {
            "cell_type": "code",
            "id": "spy",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": SPY.format(
                references=str(references),
                checks=str(root / "source" / "autograder" / "checks" / "test_exercises.py"),
                grader_modules=GRADER_MODULES,
                marker=marker,
            ),
        }
    )
    notebook = tmp_path / ASSIGNMENT.notebook
    notebook.write_text(json.dumps(spied))

    document, stdout = run_autograder(root, env, notebook)
    check_schema(document)
    assert document["score"] == ASSIGNMENT.max_score()
    assert document["extra_data"]["sandbox"] == sandbox.UNPRIVILEGED
    assert document["output"].startswith("WARNING: GRADED WITHOUT THE BWRAP SANDBOX")
    assert "No permissions to create namespace" in document["output"]
    assert "WITHOUT THE BWRAP SANDBOX" in stdout
    printed = document["output"]  # shown to the student (HTML)
    (uid,) = [int(w) for w in re.findall(r"uid (\d+)", printed)]
    assert uid in sandbox.STUDENT_UIDS and "REFERENCES DENIED" in printed
    assert "GRADER IMPORTED" not in printed and "GRADER READABLE" not in printed
    assert "DAEMON RUNNING" in printed and daemons(marker) == []
    assert not [p for p in psutil.process_iter(["uids"]) if uid in p.info["uids"]]
    assert references.stat().st_mode & 0o777 == 0o600
