# Sourced by the other scripts: make (or reuse) .venv and install the project with the given extras.
# Usage: install_project EXTRAS   e.g. install_project "llamacpp,test"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CHIMERA_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"

install_project() {
    local extras="$1"
    if [[ ! -x "$VENV/bin/python" ]]; then
        "$PY" -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
    fi
    # llama.cpp is compiled from source: a portable build (no -march=native) so pip's wheel
    # cache stays valid on any x86-64 machine; the first build takes about 6 minutes on 2 cores.
    export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[$extras]"
    export PATH="$VENV/bin:$PATH"
}
