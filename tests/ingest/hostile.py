"""Generators of test trees: the issue's hostile tree, and a large tree of small artifacts.

Plain functions (no pytest) so benchmarks/ingest_bench.py can build the same trees.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

FIFTY_MB = 50 * 2**20

GOOD_CSV = (
    "model,num_ctx,temperature,ttft_s,tokens_s,error\n"
    "llama3:8b,2048,0.2,0.21,41.5,\n"
    "llama3:8b,2048,0.2,0.19,42.5,\n"
    "llama3:8b,2048,0.2,0.20,42.0,\n"
)
GOOD_JSON = {
    "model": "qwen2:7b",
    "results": [
        {"ttft_ms": 180.0, "tokens_per_second": 55.0},
        {"ttft_ms": 175.0, "tokens_per_second": 56.0},
    ],
}
GOOD_MD = (
    "# Phi3 results\n\n| model | tokens/s | TTFT (s) |\n| --- | --- | --- |\n"
    "| phi3:mini | 88.1 | 0.31 |\n"
)

# name -> the skip reason the hostile file must get (None: ingested, with a finding)
EXPECTED_SKIPS: dict[str, str] = {
    "truncated.json": "malformed",
    "over_cap.csv": "over_size_cap",
    "binary.csv": "binary",
    "empty.csv": "empty",
    "empty.json": "empty",
    "blank.md": "empty",
    "deep.json": "too_deep",
    "loop": "symlink_loop",
    "self_link.csv": "symlink_loop",
    "fifo.csv": "unsupported_type",
    "vanish.csv": "vanished",
    "noperm.csv": "unreadable",
    "image.png": "binary",
    "script.py": "unsupported_type",
}
GOOD_FILES = (
    "good.csv",
    "good.json",
    "good.md",
    "utf16.csv",
    "latin1.csv",
    "ragged.csv",
    "long_line.txt",
    "runs.jsonl",
    "tabs.tsv",
    "notes",
    "mixed_newlines.md",
)


def build_hostile_tree(root: Path, *, over_cap_bytes: int = 65 * 2**20) -> Path:
    """Every case of the issue's 'Bad input' list, beside good files, under ``root/hostile``."""
    d = root / "hostile"
    d.mkdir(parents=True)
    (d / "good.csv").write_text(GOOD_CSV)
    (d / "good.json").write_text(json.dumps(GOOD_JSON))
    (d / "good.md").write_text(GOOD_MD)
    (d / "runs.jsonl").write_text(
        '{"model": "mistral:7b", "eval_count": 120, "eval_duration": 2000000000}\n'
        "{not json}\n"
        '{"model": "mistral:7b", "eval_count": 100, "eval_duration": 1600000000}\n'
    )
    (d / "tabs.tsv").write_text("model\tttft_s\ngemma2:2b\t0.11\ngemma2:2b\t0.12\n")
    (d / "notes").write_text("Model: gemma2:2b\n- Tokens per second: 150.5\n")
    (d / "mixed_newlines.md").write_bytes(b"# Notes\r\n- TTFT: 0.5 s\r- Throughput: 10 tok/s\n")
    # encodings
    (d / "utf16.csv").write_bytes("model,tokens_s\nqwen2:7b,50.5\nqwen2:7b,51.5\n".encode("utf-16"))
    (d / "latin1.csv").write_bytes(
        "model,tokens_s,note\nphi3:mini,90.0,caf\xe9\n".encode("latin-1")
    )
    # malformed content
    (d / "ragged.csv").write_text(
        "model,tokens_s,ttft_s\nphi3:mini,80.0\nphi3:mini,81.0,0.2,x\nphi3:mini,82.0,0.3\n"
    )
    (d / "truncated.json").write_text('{"model": "x", "results": [{"tokens_s": 1')
    (d / "binary.csv").write_bytes(bytes(range(256)) * 64)
    (d / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 256)
    (d / "script.py").write_text("print('not an artifact')\n")
    (d / "empty.csv").write_bytes(b"")
    (d / "empty.json").write_bytes(b"")
    (d / "blank.md").write_text("\n  \n")
    (d / "deep.json").write_text("[" * 10_000 + "]" * 10_000)
    with (d / "long_line.txt").open("w") as fh:
        fh.write("x" * FIFTY_MB)
    with (d / "over_cap.csv").open("wb") as fh:
        fh.truncate(over_cap_bytes)  # sparse: costs no disk
    noperm = d / "noperm.csv"
    noperm.write_text(GOOD_CSV)
    noperm.chmod(0)
    (d / "vanish.csv").write_text(GOOD_CSV)
    (d / "loop").symlink_to(".", target_is_directory=True)
    (d / "self_link.csv").symlink_to("self_link.csv")
    os.mkfifo(d / "fifo.csv")
    return d


def build_many(root: Path, n_files: int, seed: int = 7) -> Path:
    """``n_files`` small artifacts (CSV runs, JSON summaries, Markdown tables) in 100-file
    directories; deterministic for a seed."""
    rng = random.Random(seed)
    base = root / "many"
    models = ["llama3.1:8b-instruct-q4_0", "gemma3:latest", "qwen2.5:7b", "phi3:mini"]
    for i in range(n_files):
        d = base / f"run_{i // 100:04d}"
        if i % 100 == 0:
            d.mkdir(parents=True)
        model = models[i % len(models)]
        kind = i % 3
        if kind == 0:
            rows = "".join(
                f"{model},{rng.choice((1024, 2048))},{rng.random():.2f},"
                f"{rng.uniform(0.05, 0.3):.4f},{rng.uniform(40, 120):.2f},\n"
                for _ in range(5)
            )
            (d / f"bench_{i}_runs.csv").write_text(
                "model,num_ctx,temperature,ttft_s,tokens_s,error\n" + rows
            )
        elif kind == 1:
            doc = {
                "model": model,
                "options": {"num_ctx": 2048},
                "results": [
                    {"ttft_ms": rng.uniform(50, 300), "tokens_per_second": rng.uniform(40, 120)}
                    for _ in range(3)
                ],
            }
            (d / f"bench_{i}.json").write_text(json.dumps(doc))
        else:
            (d / f"report_{i}.md").write_text(
                f"# {model}\n\n| num_ctx | Tokens/s | TTFT (s) |\n| --- | --- | --- |\n"
                f"| 2048 | {rng.uniform(40, 120):.2f} | {rng.uniform(0.05, 0.3):.3f} |\n"
            )
    return base
