"""The flags that say where a sweep, a search or a load runs: ``--executor``,
``--ray-address``, ``--url`` (repeatable), ``--endpoints FILE`` and ``--same-endpoint``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chimera.backends.base import check_options
from chimera.executor import Endpoint, ExecutorSettings, endpoint_pool
from chimera.executor.cluster import check_reachable, import_ray
from chimera.executor.pool import executor_settings

Executor = Annotated[
    str,
    typer.Option(
        help="Where the work runs: local (this process) or ray (tasks and actors of a Ray "
        "cluster; pip install 'chimera-bench[ray]'). See docs/scale.md."
    ),
]
RayAddress = Annotated[
    str | None,
    typer.Option(
        help="--executor ray: the cluster to join (auto, HOST:PORT, ray://HOST:PORT); "
        "default: start Ray on this machine for the run and stop it after."
    ),
]
Urls = Annotated[
    list[str] | None,
    typer.Option(
        "--url",
        help="Server URL (default: the kind's). Repeat it for a pool of servers: each point "
        "runs on one of them, the servers at once.",
    ),
]
EndpointsFile = Annotated[
    Path | None,
    typer.Option(
        "--endpoints",
        help="TOML file of [[endpoints]] (url, kind, model, labels): the pool of servers.",
    ),
]
SameEndpoint = Annotated[
    bool,
    typer.Option(
        "--same-endpoint",
        help="Every point on the pool's first server (comparisons must not mix hardware).",
    ),
]


def where(
    executor: str,
    ray_address: str | None,
    urls: list[str] | None,
    endpoints: Path | None,
    same_endpoint: bool,
) -> tuple[ExecutorSettings, str | None, list[Endpoint]]:
    """The executor, the one URL of a single server (None = the kind's default), and the
    pool when there are several; a bad value is a ConfigError naming the flag or file."""
    settings = executor_settings(executor, ray_address)
    if settings.kind == "ray":  # before anything starts: no run in the store for a typo
        import_ray()
        if settings.address is not None:
            check_reachable(settings.address)
    pool = endpoint_pool(urls or [], endpoints, same_endpoint)
    if len(pool) == 1 and endpoints is None:
        return settings, pool[0].url, []
    return settings, None, pool


def check_pool_options(kind: str, pool: list[Endpoint], names: list[str]) -> None:
    """Options a server of the pool cannot set are a usage error now, not failed runs later."""
    for name in dict.fromkeys([kind, *(ep.kind for ep in pool if ep.kind)]):
        check_options(name, names)
