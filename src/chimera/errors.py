"""The exception tree: every error Chimera raises on purpose is a ChimeraError.

Each message says what happened, names the server, file or field involved, and what to do.
The CLI prints ``str(error)`` on one line and exits with ``error.exit_code``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chimera.calls import CallResult


class ChimeraError(Exception):
    """Root of every error Chimera raises on purpose."""

    exit_code = 1


# --- configuration and input -------------------------------------------------------------


class ConfigError(ChimeraError):
    """A setting, option, scenario or config file is invalid."""

    exit_code = 2


class InputFileError(ChimeraError):
    """An input file cannot be read or parsed: bad input, exit 2."""

    exit_code = 2

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class OutputError(ChimeraError):
    """An output file or folder cannot be written."""


# --- backends ------------------------------------------------------------------------------


class BackendError(ChimeraError):
    """A call to an inference backend failed."""

    exit_code = 3

    def __init__(self, message: str, *, url: str | None = None) -> None:
        self.url = url
        super().__init__(message)


class UnknownBackendError(ConfigError):
    """A backend kind that is not registered."""

    def __init__(self, kind: str, known: list[str]) -> None:
        self.kind = kind
        self.known = known
        super().__init__(f"unknown backend kind {kind!r}; known kinds: {', '.join(known)}")


class ServerUnreachableError(BackendError):
    """Nothing answers at the server's URL (refused, DNS failure, reset before a response)."""

    def __init__(self, url: str, detail: str = "", hint: str | None = None) -> None:
        self.detail = detail
        msg = f"cannot reach the server at {url}"
        if detail:
            msg += f" ({detail})"
        msg += ". " + (
            hint
            or "Is it running? Start Ollama with `ollama serve` (or set OLLAMA_HOST / --url "
            "to where it listens)."
        )
        super().__init__(msg, url=url)


class ModelNotFoundError(BackendError):
    """The server does not have the requested model."""

    def __init__(
        self, model: str, url: str, available: list[str] | None = None, hint: str | None = None
    ) -> None:
        self.model = model
        self.available = list(available or [])
        msg = f"model {model!r} is not available on {url}. "
        msg += hint if hint is not None else f"Pull it with `ollama pull {model}`."
        if available is not None:
            msg += (
                (" Installed: " + ", ".join(self.available) + ".")
                if self.available
                else " No models are installed."
            )
        super().__init__(msg, url=url)


class ServerHTTPError(BackendError):
    """The server answered with an HTTP error status."""

    def __init__(self, url: str, status: int, server_message: str) -> None:
        self.status = status
        self.server_message = server_message
        super().__init__(f"{url} answered HTTP {status}: {server_message}", url=url)


class StreamError(BackendError):
    """The server reported an error inside a stream that had started."""

    def __init__(self, url: str, server_message: str) -> None:
        self.server_message = server_message
        super().__init__(f"{url} reported an error mid-stream: {server_message}", url=url)


class StreamCutError(BackendError):
    """The stream ended before the server said it was done."""

    def __init__(self, url: str, detail: str = "") -> None:
        msg = f"the stream from {url} ended before it was done"
        if detail:
            msg += f" ({detail})"
        msg += "; the server may have crashed or been restarted. Check its log."
        super().__init__(msg, url=url)


class MalformedResponseError(BackendError):
    """A response line or body that is not what the protocol allows."""

    def __init__(self, url: str, detail: str, line: bytes | str = b"") -> None:
        shown = line if isinstance(line, str) else line.decode("utf-8", "replace")
        if len(shown) > 120:
            shown = shown[:117] + "..."
        msg = f"malformed response from {url}: {detail}"
        if shown:
            msg += f" (got {shown!r})"
        msg += ". Is this URL the right kind of server for the backend?"
        super().__init__(msg, url=url)


class BackendTimeoutError(BackendError):
    """A configured timeout expired."""

    phase = "request"

    def __init__(self, url: str, seconds: float, option: str) -> None:
        self.seconds = seconds
        super().__init__(
            f"{url}: no {self.phase} within {seconds:g} s. "
            f"Raise {option} if the server is just slow (a large model may take minutes to load).",
            url=url,
        )


class ConnectTimeoutError(BackendTimeoutError):
    """The TCP connection was not made in time."""

    phase = "connection"


class FirstTokenTimeoutError(BackendTimeoutError):
    """The first token did not arrive in time (covers model load and prompt evaluation)."""

    phase = "first token"


class IdleTimeoutError(BackendTimeoutError):
    """The stream stalled between two tokens."""

    phase = "token after the previous one"


class EmptyResponseError(BackendError):
    """A call the server answered as finished but with no answer: never a success.

    ``result`` is the call as measured when the stream finished (None when it did not): its
    timings and the tokens the server counted, which are counts all the same (a prompt's
    size, reasoning tokens generated)."""

    what = "an empty completion"

    def __init__(
        self, url: str, detail: str, hint: str | None = None, *, result: CallResult | None = None
    ) -> None:
        self.detail = detail
        self.result = result
        super().__init__(
            f"{url} answered with {self.what} ({detail}). "
            + (
                hint
                or "If other requests were in flight, the server may serve one request at a "
                "time and answer the others this way: send one request at a time (chimera load "
                "-c 1, chimera multiagent --max-in-flight 1), or give the server more parallel "
                "slots. Otherwise the model ended its answer at once."
            ),
            url=url,
        )


class ReasoningOnlyError(EmptyResponseError):
    """A call that streamed reasoning (sent apart from the answer, or a leading
    ``<think>`` block) and no answer text after it.

    ``at_cap``: it ended on its output-token cap (finish reason ``length``), which fell inside
    the reasoning. Its tokens were generated, so a load benchmark, which measures the
    server's work, counts such a call as ok; a call whose answer is read fails."""

    what = "reasoning and no answer"

    def __init__(self, url: str, result: CallResult) -> None:
        self.at_cap = result.done_reason == "length"
        tokens = result.metrics.output_tokens
        detail = (f"{tokens} tokens, " if tokens is not None else "") + (
            f"finish reason {result.done_reason!r}"
        )
        if self.at_cap:
            hint = (
                "The model reasoned and gave no answer: the output-token cap (num_predict, "
                "max_tokens) fell inside its reasoning. Allow more output tokens, or turn the "
                "model's reasoning off."
            )
        else:
            hint = (
                "The model reasoned and gave no answer: it ended before answering. Try "
                "another prompt or seed, or turn the model's reasoning off."
            )
        super().__init__(url, detail, hint, result=result)
