"""``--executor``, ``--ray-address``, ``--url`` repeated and ``--endpoints`` on the command
line: a bad value exits 2 with one line naming it; a Ray sweep over two servers."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from chimera.executor import read_endpoints
from chimera.testing import ServerThread

Cli = Callable[..., int]


def sweep_args(out: Path, *extra: str) -> list[str]:
    return [
        "sweep", "--model", "tiny:latest", "--num-ctx", "256,512", "--temperature", "0.5,0.7",
        "--runs", "2", "--warmup", "1", "--num-predict", "8", "--output-dir", str(out),
        "--quiet", *extra,
    ]  # fmt: skip


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (("--executor", "dask"), "--executor: unknown executor 'dask'; choose local or ray"),
        (("--ray-address", "auto"), "--ray-address needs --executor ray"),
        (("--executor", "ray", "--ray-address", "nowhere"), "not auto, HOST:PORT"),
        (
            ("--executor", "ray", "--ray-address", "127.0.0.1:9"),
            "cannot reach the Ray cluster at 127.0.0.1:9",
        ),
        (("--url", "http://127.0.0.1:9", "--url", "http://127.0.0.1:9"), "given twice"),
    ],
)
def test_a_bad_executor_or_pool_exits_2_naming_it(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], named: str
) -> None:
    assert cli(*sweep_args(tmp_path / "out", *extra)) == 2
    assert named in one_error_line(capsys)
    assert not (tmp_path / "out").exists()  # refused before anything ran


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[[endpoints]]\nkind = "ollama"\n', "endpoints.0.url: Field required"),
        ('[[endpoints]]\nurl = "http://a:1"\nhost = "x"\n', "endpoints.0.host: Extra inputs"),
        ('[[endpoints]]\nurl = "http://a:1"\nlabels = {gpu = 3}\n', "endpoints.0.labels.gpu"),
        ('url = "http://a:1"\n', "no [[endpoints]] table"),
        ("[[endpoints]\n", "is not valid TOML"),
    ],
)
def test_an_endpoints_file_with_a_missing_or_bad_field_exits_2(
    cli: Cli,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    named: str,
) -> None:
    path = tmp_path / "endpoints.toml"
    path.write_text(text, encoding="utf-8")
    assert cli(*sweep_args(tmp_path / "out", "--endpoints", str(path))) == 2
    line = one_error_line(capsys)
    assert str(path) in line and named in line


def test_an_endpoints_file_is_the_pool(tmp_path: Path) -> None:
    path = tmp_path / "endpoints.toml"
    path.write_text(
        '[[endpoints]]\nurl = "http://10.0.0.1:11434"\nlabels = {host = "gpu1", gpu = "A100"}\n'
        '[[endpoints]]\nurl = "http://10.0.0.2:8000"\nkind = "openai"\nmodel = "qwen"\n',
        encoding="utf-8",
    )
    pool = read_endpoints(path)
    assert [(e.url, e.kind, e.model) for e in pool] == [
        ("http://10.0.0.1:11434", None, None),
        ("http://10.0.0.2:8000", "openai", "qwen"),
    ]
    assert pool[0].name == "http://10.0.0.1:11434 (gpu=A100, host=gpu1)"


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_ray_sweep_from_the_command_line_starts_and_stops_its_own_ray(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, short_tmp: Path
) -> None:
    ray = pytest.importorskip("ray", reason="the ray extra: pip install 'chimera-bench[ray]'")
    monkeypatch.setenv("RAY_TMPDIR", str(short_tmp))
    timing = {"prefill_ms": 5, "token_interval_ms": 1, "default_tokens": 8}
    out = tmp_path / "sw"
    with ServerThread(**timing) as a, ServerThread(**timing) as b:
        args = sweep_args(out, "--url", a.url, "--url", b.url, "--executor", "ray", "--html")
        assert cli(*args, "--db", str(tmp_path / "runs.db")) == 0
        urls = {a.url, b.url}
    assert not ray.is_initialized()  # shut down after the sweep
    with (out / "sweep.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 and {r["endpoint"] for r in rows} == urls
    assert all(r["status"] == "ok" for r in rows)
    page = (out / "sweep.html").read_text(encoding="utf-8")
    assert all(u in page for u in urls)
