"""``python -m chimera.testing``: run one test server in the foreground until SIGINT/SIGTERM.

Prints ``listening on http://HOST:PORT`` (flushed) once the socket is bound (with
``--engine llamacpp``, once the model is loaded), so a parent process can wait for that line
and read the port when ``--port 0`` let the OS choose.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys
from collections.abc import Callable

from pydantic import ValidationError

from chimera.errors import ChimeraError
from chimera.testing.config import FAULT_KINDS, TestServerConfig
from chimera.testing.server import TestServer


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m chimera.testing",
        description="Run a protocol-faithful Ollama or OpenAI test server on loopback.",
    )
    p.add_argument("--protocol", choices=["ollama", "openai"], default="ollama")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = any free port (printed)")
    p.add_argument("--fast", action="store_true", help="no delays; one token a write")
    p.add_argument(
        "--models",
        help="comma-separated model names (default tiny:latest; with --engine llamacpp the "
        "model's alias or file name)",
    )
    p.add_argument(
        "--version",
        dest="server_version",
        default="0.12.6",
        help="the version /api/version reports",
    )
    p.add_argument(
        "--response",
        action="append",
        default=[],
        metavar="TEXT",
        help="a canned answer; repeat for several (served in order, cycling)",
    )
    p.add_argument("--tokens", type=int, default=32, help="tokens per answer without --response")
    p.add_argument(
        "--reasoning-apart",
        action="store_true",
        help="send a --response's leading <think>...</think> as reasoning apart from the "
        "answer (Ollama message.thinking, OpenAI delta.reasoning_content)",
    )
    p.add_argument("--load-ms", type=float, default=0.0)
    p.add_argument("--prefill-ms", type=float, default=0.0)
    p.add_argument("--token-interval-ms", type=float, default=0.0)
    p.add_argument("--slots", type=int, default=0, help="parallel generations (0 = unlimited)")
    p.add_argument(
        "--prompt-cache",
        action="store_true",
        help="model a prompt cache per slot: prefill only for what the slot has not cached",
    )
    p.add_argument("--fault", choices=FAULT_KINDS, default="none")
    p.add_argument("--fault-after-tokens", type=int, default=3)
    p.add_argument("--fault-from-request", type=int, default=1)
    p.add_argument(
        "--fault-every", type=int, default=1, help="every Nth request from --fault-from-request"
    )
    p.add_argument("--stall-s", type=float, default=3600.0)
    p.add_argument(
        "--api-key-env",
        metavar="VAR",
        help="require the API key held in this environment variable (openai)",
    )
    p.add_argument(
        "--llamacpp-timings", action="store_true", help="add llama-server's timings block (openai)"
    )
    p.add_argument(
        "--no-usage",
        action="store_true",
        help="ignore stream_options.include_usage, as some servers do (openai)",
    )
    p.add_argument(
        "--timeline",
        metavar="FILE",
        help="append one JSON line per generation to FILE: when it arrived and when its first "
        "and last bytes were written (time.monotonic_ns); written while no generation is in "
        "flight and at exit",
    )
    p.add_argument("--uvloop", action="store_true", help="run on uvloop")
    real = p.add_argument_group("real engine (--engine llamacpp)")
    real.add_argument(
        "--engine",
        choices=["modelled", "llamacpp"],
        default="modelled",
        help="modelled timings and canned answers, or real generation with llama.cpp",
    )
    real.add_argument("--model", help="a bundled model alias (smollm2) or a GGUF file path")
    real.add_argument("--parallel", type=int, default=1, help="slots, each its own context")
    real.add_argument("--threads", type=int, default=1, help="CPU threads per slot")
    real.add_argument("--ctx", type=int, default=2048, help="context length of each slot")
    return p


def config_from_args(args: argparse.Namespace) -> TestServerConfig:
    """The server settings the command line asks for; errors name the flag to fix."""
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            raise SystemExit(f"error: --api-key-env {args.api_key_env}: that variable is not set")
    if args.engine == "llamacpp" and not args.model:
        raise SystemExit(
            "error: --engine llamacpp needs --model (a bundled alias such as smollm2, or the "
            "path of a GGUF file)"
        )
    # only when given: the llamacpp engine names its model after the file by default
    models = {}
    if args.models is not None:
        models["models"] = [m.strip() for m in args.models.split(",") if m.strip()]
    try:
        return TestServerConfig(
            protocol=args.protocol,
            host=args.host,
            port=args.port,
            version=args.server_version,
            responses=args.response,
            default_tokens=args.tokens,
            reasoning_apart=args.reasoning_apart,
            load_ms=args.load_ms,
            prefill_ms=args.prefill_ms,
            token_interval_ms=args.token_interval_ms,
            slots=args.slots,
            prompt_cache=args.prompt_cache,
            fast=args.fast,
            fault=args.fault,
            fault_after_tokens=args.fault_after_tokens,
            fault_from_request=args.fault_from_request,
            fault_every=args.fault_every,
            stall_s=args.stall_s,
            api_key=api_key,
            usage_in_stream=not args.no_usage,
            llamacpp_timings=args.llamacpp_timings,
            record_requests=False,  # nobody can read them from another process
            timeline=args.timeline,
            engine=args.engine,
            model=args.model,
            parallel=args.parallel,
            threads=args.threads,
            ctx=args.ctx,
            **models,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        flag = "--" + str(first["loc"][0]).replace("_", "-") if first["loc"] else "arguments"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SystemExit(f"error: {flag}: {message}") from None


async def serve(config: TestServerConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with TestServer(config) as srv:
        # what the process holds once it serves (modules, pydantic's schemas, the engine) is
        # kept out of the collector's walks: a full collection over it took 11-23 ms, a
        # stall of every stream served across it that a client benchmark read as its own
        # error (benchmarks/client_overhead.py's "server read" part)
        gc.collect()
        gc.freeze()
        print(f"listening on {srv.url}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if args.uvloop:
        import uvloop

        loop_factory = uvloop.new_event_loop
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(serve(config))
    except OSError as exc:  # e.g. the port is in use
        raise SystemExit(f"error: cannot listen on {config.host}:{config.port}: {exc}") from None
    except ChimeraError as exc:  # e.g. the model cannot be found or loaded
        raise SystemExit(f"error: {exc}") from None
    sys.exit(0)


if __name__ == "__main__":
    main()
