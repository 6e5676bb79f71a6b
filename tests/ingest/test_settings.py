"""Settings: defaults, validation (extra keys refused), TOML loading with [ingest] aliases."""

from __future__ import annotations

from pathlib import Path

import pytest

from chimera.errors import ConfigError
from chimera.ingest import ingest_paths
from chimera.ingest.settings import AliasSpec, IngestSettings, load_settings


def test_defaults() -> None:
    s = IngestSettings()
    assert s.max_file_bytes == 64 * 2**20 and s.first_n == 5 and s.digest_budget_tokens == 600


def test_unknown_and_invalid_settings_are_one_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[ingest]\nmax_file_byte = 10\n")
    with pytest.raises(ConfigError, match=r"c\.toml: max_file_byte: Extra inputs"):
        load_settings(cfg)
    cfg.write_text('[ingest]\nfailure_patterns = ["(unclosed"]\n')
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        load_settings(cfg)
    cfg.write_text("[ingest\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(cfg)
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(tmp_path / "missing.toml")


def test_toml_aliases_reach_the_facts(tmp_path: Path) -> None:
    cfg = tmp_path / "chimera.toml"
    cfg.write_text(
        "[ingest]\nfirst_n = 2\n"
        "[ingest.aliases]\n"
        'gen_tps = "tokens_per_s"\n'
        'first_tok_us = { metric = "ttft_s", unit = "us" }\n'
        "[ingest.config_aliases]\n"
        'ngl = "num_gpu"\n'
    )
    s = load_settings(cfg, first_n=None, max_file_bytes=1000)
    assert s.first_n == 2 and s.max_file_bytes == 1000
    assert s.aliases["first_tok_us"] == AliasSpec(metric="ttft_s", unit="us")
    data = tmp_path / "d"
    data.mkdir()
    (data / "r.csv").write_text("model,ngl,gen_tps,first_tok_us\nm,33,12.5,250000\n")
    facts = {f.metric: f for f in ingest_paths([data], s).facts}
    assert facts["tokens_per_s"].value == 12.5 and facts["ttft_s"].value == 0.25
    assert facts["ttft_s"].config == (("num_gpu", "33"),)


def test_a_file_without_an_ingest_table_is_the_table(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("first_n = 1\n")
    assert load_settings(cfg).first_n == 1
