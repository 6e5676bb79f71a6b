#!/usr/bin/env bash
# Install everything (including the llama.cpp server built from source) and run the whole test
# suite: fast tests, slow tests and the real-server tests. Tests needing a live Ollama are skipped.
set -euo pipefail
source "$(dirname "$0")/_venv.sh"
install_project "llamacpp,test,ray"
# CI also installs Chromium (Debian's package) so that the HTML report's browser test runs
# there; elsewhere that test skips when no Chromium is installed.
if [[ "${CI:-}" == "true" ]] && ! command -v chromium >/dev/null && command -v apt-get >/dev/null \
        && [[ $(id -u) == 0 ]]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
        >/dev/null) || echo "chromium could not be installed: the browser test will skip"
fi
cd "$ROOT"
ruff check src tests benchmarks
ruff format --check src tests benchmarks
mypy
pytest -m "not ollama" "$@"
