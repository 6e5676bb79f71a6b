"""GPU memory and utilisation through NVML, sampled with the server telemetry.

NVML is read through ``pynvml`` (the ``nvidia-ml-py`` package) when it can be imported and
initialised; Chimera does not depend on it. It sees the GPUs of the machine Chimera runs on:
the server's only when the server runs here (always so for the in-process engine). Without
NVML, or when a read fails, a sample says ``gpu: "unknown"``, never 0.
"""

from __future__ import annotations

import contextlib
import importlib
from types import ModuleType
from typing import Any

from chimera.load.telemetry import Probe

UNKNOWN = "unknown"


def _load_nvml() -> tuple[ModuleType | None, str | None]:
    """The initialised pynvml module, or None and why not."""
    try:
        nvml = importlib.import_module("pynvml")
    except ImportError:
        return None, "pynvml (nvidia-ml-py) is not installed"
    try:
        nvml.nvmlInit()
    except Exception as exc:  # NVMLError: no driver, no device
        return None, f"NVML did not start ({_short(exc)})"
    return nvml, None


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


class GpuProbe:
    """Each call reads every GPU's memory used and total and its utilisation: per GPU in
    ``gpus``, and over all of them as ``gpu_memory_used_bytes``, ``gpu_memory_total_bytes``
    (sums) and ``gpu_utilization_percent`` (the mean)."""

    def __init__(self) -> None:
        self.nvml, self.unknown = _load_nvml()
        self.handles: list[Any] = []
        if self.nvml is not None:
            try:
                count = self.nvml.nvmlDeviceGetCount()
                self.handles = [self.nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            except Exception as exc:
                self.unknown = f"NVML listed no GPU ({_short(exc)})"
            if not self.handles and self.unknown is None:
                self.unknown = "NVML found no GPU"

    @property
    def source(self) -> dict[str, Any]:
        """What the run's environment says of the GPU telemetry."""
        if self.unknown is not None:
            return {"gpu": UNKNOWN, "reason": self.unknown}
        return {"source": "nvml", "gpus": len(self.handles)}

    def read(self) -> dict[str, Any]:
        if self.nvml is None or not self.handles:
            return {"gpu": UNKNOWN}
        try:
            gpus = []
            for handle in self.handles:
                mem = self.nvml.nvmlDeviceGetMemoryInfo(handle)
                util = self.nvml.nvmlDeviceGetUtilizationRates(handle)
                gpus.append(
                    {
                        "memory_used_bytes": int(mem.used),
                        "memory_total_bytes": int(mem.total),
                        "utilization_percent": float(util.gpu),
                    }
                )
        except Exception as exc:  # a read that fails is unknown, not 0
            return {"gpu": UNKNOWN, "gpu_error": _short(exc)}
        return {
            "gpu_memory_used_bytes": sum(g["memory_used_bytes"] for g in gpus),
            "gpu_memory_total_bytes": sum(g["memory_total_bytes"] for g in gpus),
            "gpu_utilization_percent": sum(g["utilization_percent"] for g in gpus) / len(gpus),
            "gpus": gpus,
        }

    def probe(self) -> Probe:
        async def read() -> dict[str, Any]:
            return self.read()

        return read

    def close(self) -> None:
        if self.nvml is not None:
            with contextlib.suppress(Exception):  # a failed shutdown says nothing new
                self.nvml.nvmlShutdown()
            self.nvml = None
