"""Which endpoint an agent runs on: ``auto`` (Ollama if it answers and has the model, else
the offline narrator, with a note saying why), a named kind, and the backend for a spec."""

from __future__ import annotations

from typing import Annotated, Protocol

from pydantic import AfterValidator

from chimera.agent import narrate
from chimera.agent.spec import AgentSpec
from chimera.backends.base import (
    Backend,
    EndpointSettings,
    Timeouts,
    create_backend,
    known_kinds,
)
from chimera.backends.offline import OfflineBackend
from chimera.backends.ollama import OllamaBackend
from chimera.errors import BackendError, UnknownBackendError
from chimera.ingest.pipeline import IngestResult


def backend_choice(kind: str) -> str:
    """``kind`` if it is ``auto`` or a registered backend kind (the registry is the one list
    of kinds), else an UnknownBackendError listing them."""
    if kind != "auto" and kind not in known_kinds():
        raise UnknownBackendError(kind, ["auto", *known_kinds()])
    return kind


def _validated(kind: str) -> str:
    try:
        return backend_choice(kind)
    except UnknownBackendError as exc:
        raise ValueError(str(exc)) from None  # pydantic reports it with the field


# A backend kind, or auto (Ollama if it answers and has the model, else offline).
BackendChoice = Annotated[str, AfterValidator(_validated)]


class EndpointChoice(Protocol):
    """What ``resolve_endpoint`` reads: the settings of ``chimera run`` or of a scenario agent."""

    @property
    def backend(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def model(self) -> str: ...
    @property
    def api_key_env(self) -> str | None: ...
    @property
    def timeouts(self) -> Timeouts: ...


async def resolve_endpoint(settings: EndpointChoice) -> tuple[EndpointSettings, str | None]:
    """The endpoint to use, and a note when ``auto`` fell back to offline (and why)."""
    choice = settings.backend
    given = settings.timeouts
    if choice != "auto":
        endpoint = EndpointSettings(kind=choice, url=settings.url, api_key_env=settings.api_key_env)
        return given.applied(endpoint), None
    ollama = EndpointSettings(
        kind="ollama", url=settings.url, connect_timeout_s=given.connect_timeout_s or 3
    )
    async with OllamaBackend(ollama) as probe:
        try:
            installed = await probe.installed_models()
        except BackendError as exc:
            return EndpointSettings(kind="offline"), (
                f"No Ollama server answered at {probe.url} ({exc.__class__.__name__}); this "
                "report was written offline, from the computed facts, without an LLM."
            )
    wanted = {settings.model, f"{settings.model}:latest"}
    if not wanted.intersection(installed):
        return EndpointSettings(kind="offline"), (
            f"Ollama at {ollama.url or probe.url} does not have {settings.model} (installed: "
            f"{', '.join(installed) or 'none'}); this report was written offline, from the "
            f"computed facts, without an LLM. Run `ollama pull {settings.model}` to use it."
        )
    return given.applied(ollama.model_copy(update={"connect_timeout_s": 10.0})), None


def open_backend(spec: AgentSpec, facts: IngestResult) -> Backend:
    if spec.endpoint.kind == "offline":
        return OfflineBackend(spec.endpoint, responder=narrate.responder(facts, spec.persona))
    return create_backend(spec.endpoint)
