"""What a load run ran on, stored with it: the client machine, the server and the model.

Telemetry never fails a run: what cannot be read is recorded as unknown (None) with the
reason, never as a made-up zero.
"""

from __future__ import annotations

import asyncio
import functools
import os
import platform
from pathlib import Path
from typing import Any

from chimera import __version__
from chimera.backends.base import Backend, ModelInfo
from chimera.errors import ChimeraError
from chimera.models.gguf import file_digest, human_number, quantization, read_header


def _first_line_with(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _ram_bytes() -> int | None:
    kib = _first_line_with("/proc/meminfo", "MemTotal")
    if kib and kib.split()[0].isdigit():
        return int(kib.split()[0]) * 1024
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _gpus() -> list[dict[str, Any]] | None:
    """NVIDIA GPUs through NVML when pynvml is installed; None (unknown) otherwise."""
    try:
        import pynvml  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        gpus = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
            gpus.append({"name": str(pynvml.nvmlDeviceGetName(handle)), "memory_bytes": mem.total})
        pynvml.nvmlShutdown()
    except Exception:  # no driver, no device: unknown, not an error of the run
        return None
    return gpus


def client_machine() -> dict[str, Any]:
    return {
        "chimera": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _first_line_with("/proc/cpuinfo", "model name") or platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "ram_bytes": _ram_bytes(),
        "gpus": _gpus(),
    }


def _model(entries: list[ModelInfo] | None, name: str) -> dict[str, Any] | None:
    names = {name} if ":" in name else {name, f"{name}:latest"}  # Ollama's implied tag
    for m in entries or []:
        if m.name in names:
            return m.model_dump(exclude_none=True)
    return None


@functools.lru_cache(maxsize=8)
def _gguf(path: Path, size: int, mtime_ns: int) -> dict[str, Any]:
    """A GGUF file's identity from its header, and its sha256 (read once per file state)."""
    kv = (header := read_header(path)).kv
    return {
        "name": str(path),
        "size_bytes": size,
        "parameter_size": human_number(header.parameter_count),
        "quantization": quantization(kv.get("general.file_type")),
        "family": kv.get("general.architecture"),
        "digest": f"sha256:{file_digest(path)}",
    }


async def gguf_model(backend: Backend, model: str) -> dict[str, Any]:
    """The in-process engine's model: its GGUF file's header and digest."""
    resolve = getattr(backend, "resolve", None)
    try:
        path = Path(resolve(model)) if resolve else Path(model)
        stat = path.stat()
        return await asyncio.to_thread(_gguf, path, stat.st_size, stat.st_mtime_ns)
    except (ChimeraError, OSError, ValueError) as exc:
        return {"error": str(exc) or type(exc).__name__}


async def server_snapshot(backend: Backend, model: str) -> dict[str, Any]:
    """The server's version, the model as it lists it, and (Ollama) the model as loaded:
    ``size_vram_bytes`` below ``size_bytes`` means part of it runs on the CPU.

    ``model_digest`` and ``quantization`` say what weights served the run: Ollama's digest
    and quantization level, the GGUF file's sha256 and file type in-process; None (unknown)
    where the server does not say (an OpenAI-compatible server's model list)."""
    try:
        info = await backend.server_info()
    except ChimeraError as exc:
        return {"error": str(exc)}
    loaded = _model(info.loaded, model)
    listed = _model(info.models, model)
    if backend.kind == "llamacpp":
        listed = await gguf_model(backend, model)
    snap: dict[str, Any] = {
        "kind": info.kind,
        "version": info.version,
        "model": listed,
        "loaded": loaded,
        "model_digest": (listed or {}).get("digest"),
        "quantization": (listed or {}).get("quantization"),
    }
    if loaded and loaded.get("size_bytes") and loaded.get("size_vram_bytes") is not None:
        snap["on_cpu_bytes"] = loaded["size_bytes"] - loaded["size_vram_bytes"]
    return snap
