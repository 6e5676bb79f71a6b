#!/usr/bin/env bash
# Install everything (including the llama.cpp server built from source) and run the whole test
# suite: fast tests, slow tests and the real-server tests. Tests needing a live Ollama are skipped.
set -euo pipefail
source "$(dirname "$0")/_venv.sh"
install_project "llamacpp,test"
cd "$ROOT"
ruff check src tests benchmarks
ruff format --check src tests benchmarks
mypy
pytest -m "not ollama" "$@"
