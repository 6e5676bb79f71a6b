"""GPU telemetry through NVML: read when pynvml is there (a fake one here), unknown when not."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from chimera.load.gpu import GpuProbe
from chimera.testing import ServerThread

GIB = 1 << 30


class FakeNvml:
    """pynvml's calls, for two GPUs whose use changes with each read."""

    class NVMLError(Exception):
        pass

    def __init__(self, gpus: int = 2, fail_init: bool = False) -> None:
        self.gpus, self.fail_init = gpus, fail_init
        self.reads = 0
        self.started = self.stopped = False
        self.fail_reads = False

    def nvmlInit(self) -> None:
        if self.fail_init:
            raise self.NVMLError("Driver Not Loaded")
        self.started = True

    def nvmlShutdown(self) -> None:
        self.stopped = True

    def nvmlDeviceGetCount(self) -> int:
        return self.gpus

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        return i

    def nvmlDeviceGetName(self, handle: int) -> str:
        return f"Fake GPU {handle}"

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:
        if self.fail_reads:
            raise self.NVMLError("GPU is lost")
        self.reads += 1
        return SimpleNamespace(used=(handle + 1) * GIB, total=8 * GIB, free=0)

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> Any:
        return SimpleNamespace(gpu=10 * (handle + 1) + self.reads, memory=5)


def test_every_gpu_read_and_summed(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    probe = GpuProbe()
    assert probe.source == {"source": "nvml", "gpus": 2}
    row = probe.read()
    assert row["gpu_memory_used_bytes"] == 3 * GIB and row["gpu_memory_total_bytes"] == 16 * GIB
    # utilisation as each GPU reported it: 11 after GPU 0's read, 22 after GPU 1's
    assert [g["utilization_percent"] for g in row["gpus"]] == [11.0, 22.0]
    assert row["gpu_utilization_percent"] == 16.5
    fake.fail_reads = True
    assert probe.read() == {"gpu": "unknown", "gpu_error": "GPU is lost"}  # never 0
    probe.close()
    assert fake.stopped and probe.read() == {"gpu": "unknown"}


def test_without_nvml_the_gpu_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml raises ImportError
    probe = GpuProbe()
    assert probe.source == {"gpu": "unknown", "reason": "pynvml (nvidia-ml-py) is not installed"}
    assert probe.read() == {"gpu": "unknown"}


@pytest.mark.parametrize(
    ("fake", "reason"),
    [(FakeNvml(fail_init=True), "NVML did not start (Driver Not Loaded)"),
     (FakeNvml(gpus=0), "NVML found no GPU")],
)  # fmt: skip
def test_nvml_without_a_gpu_is_unknown(
    monkeypatch: pytest.MonkeyPatch, fake: FakeNvml, reason: str
) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    probe = GpuProbe()
    assert probe.source == {"gpu": "unknown", "reason": reason}
    assert probe.read() == {"gpu": "unknown"}


@pytest.mark.parametrize("nvml", [True, False])
def test_load_samples_the_gpus_on_the_levels_clock(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, nvml: bool
) -> None:
    from chimera.cli.app import main

    fake = FakeNvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake if nvml else None)
    with ServerThread(prefill_ms=5, token_interval_ms=2, default_tokens=8) as srv:
        monkeypatch.setattr(
            "sys.argv",
            ["chimera", "load", srv.url, "--model", "tiny:latest", "-c", "2", "-n", "4",
             "--output-dir", str(tmp_path), "--no-store", "-q"],
        )  # fmt: skip
        with pytest.raises(SystemExit) as exit_:
            main()
    assert exit_.value.code in (0, None)
    doc = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    (level,) = doc["levels"]
    first = level["telemetry"][0]
    assert first["t_s"] < 1.0  # sampled from the level's start, on its clock
    if nvml:
        assert doc["environment"]["gpu_telemetry"] == {"source": "nvml", "gpus": 2}
        assert first["gpu_memory_used_bytes"] == 3 * GIB and len(first["gpus"]) == 2
        assert fake.stopped  # NVML shut down after the run
        assert doc["environment"]["client"]["gpus"][1]["name"] == "Fake GPU 1"
    else:
        assert doc["environment"]["gpu_telemetry"]["gpu"] == "unknown"
        assert first["gpu"] == "unknown" and "gpu_memory_used_bytes" not in first
