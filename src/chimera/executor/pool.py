"""The executor's settings and the pool of endpoints (``--url`` repeated, or ``[[endpoints]]``
in a TOML file: url, kind, model, labels such as host and GPU)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chimera.backends.base import EndpointSettings
from chimera.configfile import problems, read_toml
from chimera.errors import ConfigError

ExecutorKind = Literal["local", "ray"]
EXECUTORS: tuple[str, ...] = ("local", "ray")


class ExecutorSettings(BaseModel):
    """Where the work runs. ``ray`` with no address starts a Ray instance on this machine
    (loopback only) and stops it after; ``auto`` joins the running cluster; ``HOST:PORT`` or
    ``ray://HOST:PORT`` joins that one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ExecutorKind = "local"
    address: str | None = Field(None, description="ray: the cluster to join; None = start one")
    num_cpus: int | None = Field(
        None, ge=1, description="ray, started here: the CPUs it may use (None = all)"
    )


def executor_settings(kind: str, address: str | None) -> ExecutorSettings:
    """The executor named on the command line; a bad name or an address without Ray is a
    ConfigError naming the flag."""
    if kind not in EXECUTORS:
        raise ConfigError(f"--executor: unknown executor {kind!r}; choose local or ray")
    if address is not None and kind != "ray":
        raise ConfigError("--ray-address needs --executor ray")
    if address is not None and not address.strip():
        raise ConfigError("--ray-address is empty; give auto, HOST:PORT or ray://HOST:PORT")
    return ExecutorSettings(kind="ray" if kind == "ray" else "local", address=address)


class Endpoint(BaseModel):
    """One server of the pool. ``model`` replaces the command's model on it (the same model
    may have another tag or path there); ``labels`` say where it is (host, gpu, ...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(min_length=1)
    kind: str | None = Field(None, description="backend kind; None = the command's --backend")
    model: str | None = Field(None, min_length=1)
    labels: dict[str, str] = Field(default_factory=dict)

    def settings(self, base: EndpointSettings) -> EndpointSettings:
        """``base`` (timeouts, API key variable) aimed at this endpoint."""
        return base.model_copy(update={"url": self.url, "kind": self.kind or base.kind})

    @property
    def name(self) -> str:
        """How rows and pages name it: its URL, with its labels when it has any."""
        if not self.labels:
            return self.url
        return f"{self.url} ({', '.join(f'{k}={v}' for k, v in sorted(self.labels.items()))})"


class _EndpointsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoints: list[Endpoint] = Field(min_length=1)


def read_endpoints(path: Path) -> list[Endpoint]:
    """The ``[[endpoints]]`` tables of a TOML file; a missing or bad field is a ConfigError
    naming the file and the field."""
    data = read_toml(path, "endpoints file")
    if "endpoints" not in data:
        raise ConfigError(
            f"{path}: no [[endpoints]] table; give one per server with url (and kind, model, "
            "labels)"
        )
    try:
        return _EndpointsFile.model_validate(data).endpoints
    except ValidationError as exc:
        raise ConfigError(f"{path}: {problems(exc)}") from None


def endpoint_pool(
    urls: Sequence[str], endpoints_file: Path | None, same_endpoint: bool = False
) -> list[Endpoint]:
    """The pool: each ``--url``, then the file's endpoints; empty = the command's one server.
    ``same_endpoint`` keeps the first only (every point on one server: no mixed hardware).
    The same URL twice is a ConfigError (its points would overlap on one server)."""
    pool = [Endpoint(url=u) for u in urls]
    if endpoints_file is not None:
        pool += read_endpoints(endpoints_file)
    seen: set[str] = set()
    for ep in pool:
        if ep.url in seen:
            raise ConfigError(f"endpoint {ep.url} is given twice; give each server once")
        seen.add(ep.url)
    return pool[:1] if same_endpoint else pool


def pool_of(
    endpoint: EndpointSettings, endpoints: Sequence[Endpoint]
) -> list[tuple[EndpointSettings, str | None]]:
    """Each server work goes to, with its own model name (None = the command's): the pool's
    servers with ``endpoint``'s timeouts and key, or ``endpoint`` alone."""
    if not endpoints:
        return [(endpoint, None)]
    return [(ep.settings(endpoint), ep.model) for ep in endpoints]
