#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu base image;
# 22.04 has Python 3.11 in its archive). It installs bubblewrap for the sandbox, makes a Python 3.11
# virtual environment in $ROOT/venv with the course's dependencies (requirements.txt), and makes the
# grader in $ROOT/source importable by that Python through a .pth file: the sandboxed runner is
# started with `python -I`, which ignores PYTHONPATH and the current folder.
set -euo pipefail

ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
VENV="$ROOT/venv"
export DEBIAN_FRONTEND=noninteractive

apt-get update -qq
apt-get install -y -qq bubblewrap
if ! apt-get install -y -qq python3.11 python3.11-venv; then
  # Ubuntu releases without Python 3.11 in their archive: the deadsnakes PPA has it.
  apt-get install -y -qq software-properties-common
  add-apt-repository -y ppa:deadsnakes/ppa
  apt-get update -qq
  apt-get install -y -qq python3.11 python3.11-venv
fi

python3.11 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r "$SOURCE/requirements.txt"
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
echo "$SOURCE" > "$SITE/course_autograder.pth"
# The unprivileged fallback runs the student's code as a uid of its own: it must be able to read
# and run the venv (the grader's own package is made root-only at grading time, not here).
chmod -R a+rX "$VENV"
"$VENV/bin/python" -c 'import autograder.guest.runner, course_utils, tensorflow'
