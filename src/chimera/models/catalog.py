"""What ``chimera model list`` shows: the bundled models, the generated presets, GGUF files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from chimera.errors import InputFileError
from chimera.models.bundled import BUNDLED, DEFAULT_MODEL, BundledModel, check_gguf
from chimera.models.tiny import PRESETS, TinyModelSpec


class BundledEntry(BaseModel):
    """A real model shipped inside a package; ``path`` and ``bytes`` only when installed."""

    model_config = ConfigDict(extra="forbid")

    alias: str
    aliases: list[str]
    installed: bool
    path: str | None
    bytes: int | None
    description: str
    licence: str
    origin: str
    package: str
    version: str | None
    default: bool
    problem: str | None = None  # installed, but the file is not a usable GGUF


class GeneratedEntry(BaseModel):
    """A random-weight preset ``chimera model tiny --size NAME`` writes."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    hidden: int
    layers: int
    parameters: int
    approx_bytes: int  # float32 weights; the tokenizer adds a little
    command: str


class FileEntry(BaseModel):
    """A ``.gguf`` file in a folder; ``problem`` says why it cannot be run."""

    model_config = ConfigDict(extra="forbid")

    name: str
    path: str
    bytes: int
    architecture: str | None = None
    model_name: str | None = None
    problem: str | None = None


class ModelCatalog(BaseModel):
    """Everything ``chimera model list`` reports."""

    model_config = ConfigDict(extra="forbid")

    default: str
    bundled: list[BundledEntry]
    generated: list[GeneratedEntry]
    folder: str | None = None
    files: list[FileEntry] | None = None


def bundled_entry(model: BundledModel) -> BundledEntry:
    found = model.find()
    problem = None
    if found is not None:
        try:
            check_gguf(found)
        except InputFileError as exc:
            problem = exc.reason
    return BundledEntry(
        alias=model.alias,
        aliases=list(model.other_names),
        installed=found is not None,
        path=str(found) if found else None,
        bytes=found.stat().st_size if found else None,
        description=model.description,
        licence=model.licence,
        origin=model.origin,
        package=model.distribution,
        version=model.version(),
        default=model.alias == DEFAULT_MODEL,
        problem=problem,
    )


def generated_entry(name: str, spec: TinyModelSpec) -> GeneratedEntry:
    s = spec.resolved()
    params = s.parameter_count()
    return GeneratedEntry(
        name=name,
        description=f"random weights, hidden {s.hidden}, {s.layers} layers: text is noise, "
        "timings are real",
        hidden=s.hidden,
        layers=s.layers,
        parameters=params,
        approx_bytes=params * 4,
        command=f"chimera model tiny {name}.gguf --size {name}",
    )


def file_entry(path: Path) -> FileEntry:
    """A GGUF file's size, architecture and name (from its metadata), or why it is unusable."""
    entry = FileEntry(name=path.name, path=str(path.resolve()), bytes=path.stat().st_size)
    try:
        check_gguf(path)
    except InputFileError as exc:
        return entry.model_copy(update={"problem": exc.reason})
    try:
        meta = _metadata(path, ("general.architecture", "general.name"))
    except Exception as exc:  # gguf raises bare ValueError/IndexError on a truncated file
        return entry.model_copy(update={"problem": f"unreadable GGUF metadata ({exc})"})
    return entry.model_copy(
        update={
            "architecture": meta.get("general.architecture"),
            "model_name": meta.get("general.name"),
        }
    )


def _metadata(path: Path, keys: tuple[str, ...]) -> dict[str, Any]:
    from gguf import GGUFReader  # imported here: only --dir needs it

    reader = GGUFReader(path)
    return {k: reader.fields[k].contents() for k in keys if k in reader.fields}


def folder_files(folder: Path) -> list[FileEntry]:
    """Every ``*.gguf`` directly in ``folder``, by name."""
    if not folder.is_dir():
        raise InputFileError(str(folder), "is not a folder; give the folder that holds GGUF files")
    return [file_entry(p) for p in sorted(folder.glob("*.gguf")) if p.is_file()]


def catalog(folder: Path | None = None) -> ModelCatalog:
    """The bundled models (installed or not), the generated presets, and ``folder``'s files."""
    return ModelCatalog(
        default=DEFAULT_MODEL,
        bundled=[bundled_entry(m) for m in BUNDLED.values()],
        generated=[generated_entry(name, spec) for name, spec in PRESETS.items()],
        folder=str(folder.resolve()) if folder is not None else None,
        files=folder_files(folder) if folder is not None else None,
    )
