"""Ingestion settings: one pydantic model, loadable from a TOML file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chimera.configfile import problems, read_toml
from chimera.errors import ConfigError


class AliasSpec(BaseModel):
    """A user alias: the canonical metric a key means, and the unit its values are in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(min_length=1, description="canonical metric, e.g. tokens_per_s")
    unit: str | None = Field(None, description="unit of the values, e.g. ms; None: the metric's")


class IngestSettings(BaseModel):
    """Everything ``ingest_paths`` can be told; every field has a safe default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_file_bytes: int = Field(
        64 * 2**20, ge=1, description="files larger than this are skipped (over size cap)"
    )
    first_n: int = Field(5, ge=0, description="paths listed per type in the inventory")
    max_records_per_file: int = Field(
        100_000, ge=1, description="rows/objects read per file; the rest is left out (a finding)"
    )
    max_json_depth: int = Field(
        64, ge=2, description="JSON nesting flattened into facts; deeper subtrees are left out"
    )
    max_parse_depth: int = Field(
        512, ge=2, description="JSON nested deeper than this is skipped as too deep"
    )
    max_line_chars: int = Field(
        1_000_000, ge=80, description="Markdown/text lines longer than this are not scanned"
    )
    follow_symlinks: bool = Field(True, description="follow symlinked directories (loops skipped)")
    include_hidden: bool = Field(False, description="walk dot-files and dot-directories")
    aliases: dict[str, str | AliasSpec] = Field(
        default_factory=dict, description="extra metric aliases: key -> metric or {metric, unit}"
    )
    config_aliases: dict[str, str] = Field(
        default_factory=dict, description="extra configuration aliases: key -> config key"
    )
    model_families: list[str] = Field(
        default_factory=list, description="extra model family prefixes for names in paths"
    )
    failure_patterns: list[str] = Field(
        default_factory=list, description="extra regexes that mark a text field as an error"
    )
    digest_budget_tokens: int = Field(600, ge=100, description="default digest budget")
    workers: int = Field(
        0, ge=0, description="processes reading files: 0 = one per CPU for big trees, 1 = serial"
    )
    cache: bool = Field(
        True, description="reuse the parse of files unchanged since the last ingest of the paths"
    )
    parallel_min_files: int = Field(
        2000, ge=1, description="trees with fewer files are read in one process"
    )

    @field_validator("failure_patterns")
    @classmethod
    def _regexes_compile(cls, v: list[str]) -> list[str]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
        return v


def settings_from_mapping(values: dict[str, Any], *, where: str = "settings") -> IngestSettings:
    """Validate a mapping into IngestSettings, raising one clear ConfigError."""
    try:
        return IngestSettings.model_validate(values)
    except ValidationError as exc:
        known = ", ".join(IngestSettings.model_fields)
        raise ConfigError(f"invalid {where}: {problems(exc)}. Known settings: {known}") from None


def load_settings(path: Path | None = None, **overrides: Any) -> IngestSettings:
    """Settings from a TOML file (its ``[ingest]`` table, or the whole file) plus overrides."""
    values: dict[str, Any] = {}
    where = "settings"
    if path is not None:
        where = f"config file {path}"
        doc = read_toml(path, "config file")
        table = doc.get("ingest", doc)
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [ingest] must be a table of settings")
        values.update(table)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return settings_from_mapping(values, where=where)
