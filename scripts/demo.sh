#!/usr/bin/env bash
# Install Chimera with the embedded llama.cpp backend and run the main job on its defaults.
set -euo pipefail
source "$(dirname "$0")/_venv.sh"
install_project "llamacpp"
cd "$ROOT"
exec chimera demo "$@"
