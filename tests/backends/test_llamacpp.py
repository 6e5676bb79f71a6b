"""The embedded llama.cpp backend: option mapping, text assembly, and real in-process runs."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import pytest

from chimera.backends.base import (
    CallResult,
    ChatMessage,
    EndpointSettings,
    GenerationRequest,
    TextChunk,
    create_backend,
    generate,
)
from chimera.backends.llamacpp import (
    DEFAULT_N_CTX,
    LlamaCppBackend,
    TextAssembler,
    plan_call,
)
from chimera.errors import ConfigError, InputFileError, ModelNotFoundError
from chimera.models import write_tiny_gguf
from chimera.options import InferenceOptions

# --- option mapping (no llama.cpp needed) ------------------------------------------------


def test_load_time_options_map_to_llama_arguments() -> None:
    plan = plan_call(
        InferenceOptions(
            num_ctx=512, num_gpu=-1, num_thread=2, num_batch=64, use_mmap=False, use_mlock=True
        )
    )
    assert plan.load == {
        "n_ctx": 512,
        "n_gpu_layers": -1,
        "n_threads": 2,
        "n_threads_batch": 2,  # num_thread reads the prompt too, as in Ollama
        "n_batch": 64,
        "use_mmap": False,
        "use_mlock": True,
    }
    assert plan_call(InferenceOptions()).load == {"n_ctx": DEFAULT_N_CTX}
    assert plan.load != plan_call(InferenceOptions(num_ctx=1024)).load


def test_sampling_options_map_to_generate_arguments() -> None:
    plan = plan_call(
        InferenceOptions(
            temperature=0.2,
            top_p=0.9,
            top_k=10,
            min_p=0.1,
            typical_p=0.8,
            repeat_penalty=1.2,
            presence_penalty=0.5,
            frequency_penalty=0.4,
            mirostat=2,
            mirostat_tau=4.0,
            mirostat_eta=0.2,
            num_predict=12,
            seed=7,
            stop=["\n", ""],
            repeat_last_n=32,
        )
    )
    assert plan.sample == {
        "temp": 0.2,
        "top_p": 0.9,
        "top_k": 10,
        "min_p": 0.1,
        "typical_p": 0.8,
        "repeat_penalty": 1.2,
        "presence_penalty": 0.5,
        "frequency_penalty": 0.4,
        "mirostat_mode": 2,
        "mirostat_tau": 4.0,
        "mirostat_eta": 0.2,
    }
    assert (plan.max_tokens, plan.seed, plan.stop, plan.repeat_last_n) == (12, 7, ("\n",), 32)
    assert plan.load == {"n_ctx": DEFAULT_N_CTX}  # sampling never reloads the model


def test_unset_and_unbounded_options() -> None:
    plan = plan_call(InferenceOptions())
    assert plan.sample == {}
    assert (plan.max_tokens, plan.seed, plan.stop, plan.repeat_last_n) == (None, None, (), None)
    assert plan_call(InferenceOptions(num_predict=-1)).max_tokens is None
    assert plan_call(InferenceOptions(num_predict=-2)).max_tokens is None


def test_options_llama_cpp_cannot_apply_are_refused() -> None:
    with pytest.raises(ConfigError, match="cannot apply low_vram, tfs_z"):
        plan_call(InferenceOptions(low_vram=True, tfs_z=1.0, top_k=3))


# --- text assembly -------------------------------------------------------------------------


def feed(asm: TextAssembler, pieces: list[bytes]) -> tuple[list[str], bool]:
    out: list[str] = []
    for p in pieces:
        text, stopped = asm.push(p)
        out.append(text)
        if stopped:
            return out, True
    out.append(asm.flush())
    return out, False


def test_utf8_split_across_tokens_is_emitted_whole() -> None:
    snow = "☃".encode()
    out, stopped = feed(TextAssembler(), [b"a", snow[:1], snow[1:2], snow[2:] + b"b"])
    assert out == ["a", "", "", "☃b", ""]
    assert not stopped


def test_stop_string_across_tokens_is_cut_and_never_shown() -> None:
    out, stopped = feed(TextAssembler(("END",)), [b"abc E", b"N", b"Dxyz"])
    assert stopped
    assert "".join(out) == "abc "
    assert out == ["abc ", "", ""]


def test_a_near_miss_is_released() -> None:
    out, stopped = feed(TextAssembler(("END",)), [b"E", b"N", b"d", b"!"])
    assert not stopped
    assert out == ["", "", "ENd", "!", ""]
    out, _ = feed(TextAssembler(("END",)), [b"xEN"])
    assert out == ["x", "EN"]  # held to the end, then flushed


def test_earliest_of_several_stop_strings_wins() -> None:
    out, stopped = feed(TextAssembler(("yz", "b")), [b"abcxyz"])
    assert stopped and out == ["a"]


# --- errors without a model ----------------------------------------------------------------


def test_missing_llama_cpp_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    with pytest.raises(ConfigError, match=r"pip install 'chimera-bench\[llamacpp\]'"):
        create_backend(kind="llamacpp")


# --- real runs with the tiny model ---------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("llama_cpp")
    path = write_tiny_gguf(tmp_path_factory.mktemp("models") / "tiny.gguf", ctx=512)
    return path.resolve()


@pytest.fixture
async def backend(tiny: Path) -> AsyncIterator[LlamaCppBackend]:
    b = create_backend(kind="llamacpp")
    assert isinstance(b, LlamaCppBackend)
    async with b:
        yield b


def completion(model: Path, n: int | None, **options: object) -> GenerationRequest:
    return GenerationRequest(
        model=str(model),
        prompt="Why is the sky blue? Answer briefly.",
        options=InferenceOptions.parse({"num_predict": n, "seed": 1, **options}),
    )


def chat(model: Path, n: int) -> GenerationRequest:
    return GenerationRequest(
        model=str(model),
        messages=(
            ChatMessage(role="system", content="You are terse."),
            ChatMessage(role="user", content="Name three colours."),
        ),
        options=InferenceOptions(num_predict=n),
    )


def assert_consistent(r: CallResult, n: int) -> None:
    m = r.metrics
    assert r.done_reason == m.done_reason == "length"
    assert m.output_tokens == m.chunks == n
    assert m.estimated == []
    assert m.prompt_tokens is not None and m.prompt_tokens > 1
    assert m.ttft_ms is not None and m.e2e_ms is not None and 0 < m.ttft_ms <= m.e2e_ms
    assert m.prompt_eval_ms is not None and m.prompt_eval_ms > 0
    assert m.prefill_tokens_per_s == pytest.approx(m.prompt_tokens / m.prompt_eval_ms * 1000)
    assert m.server_total_ms is not None and m.server_total_ms <= m.e2e_ms
    assert m.server_total_ms >= m.prompt_eval_ms + (m.eval_ms or 0)
    if n >= 2:
        # n tokens cost n - 1 decode steps: the last sampled token is never fed back.
        assert m.eval_ms is not None and m.eval_ms > 0
        assert m.decode_tokens_per_s == pytest.approx((n - 1) / m.eval_ms * 1000)
        assert m.itl_ms_p50 is not None and m.itl_ms_p50 > 0
    assert r.text and r.text.isprintable()


@pytest.mark.parametrize("n", [1, 2, 17, 200])
async def test_completion_yields_exactly_n_tokens_with_engine_timings(
    backend: LlamaCppBackend, tiny: Path, n: int
) -> None:
    chunks: list[TextChunk] = []
    result: CallResult | None = None
    async for event in backend.stream(completion(tiny, n)):
        if isinstance(event, TextChunk):
            chunks.append(event)
        else:
            result = event
    assert result is not None
    assert_consistent(result, n)
    assert "".join(c.text for c in chunks) == result.text
    assert [c.t_ns for c in chunks] == sorted(c.t_ns for c in chunks)
    assert result.endpoint == "in-process"
    assert result.model == str(tiny)
    assert result.options == {"num_predict": n, "seed": 1}


async def test_chat_uses_the_models_template_and_yields_n_tokens(
    backend: LlamaCppBackend, tiny: Path
) -> None:
    r = await generate(backend, chat(tiny, 40))
    assert_consistent(r, 40)
    # ChatML around both messages: far more tokens than the words alone.
    assert r.metrics.prompt_tokens is not None and r.metrics.prompt_tokens > 30


async def test_load_time_is_reported_on_the_call_that_loads(
    backend: LlamaCppBackend, tiny: Path
) -> None:
    first = await generate(backend, completion(tiny, 5))
    again = await generate(backend, completion(tiny, 5))
    assert first.metrics.load_ms is not None and first.metrics.load_ms > 0
    assert first.metrics.ttft_ms is not None and first.metrics.ttft_ms > first.metrics.load_ms
    assert again.metrics.load_ms is None


async def test_load_time_options_are_applied_by_a_load_never_by_a_call(
    backend: LlamaCppBackend, tiny: Path
) -> None:
    first = await generate(backend, completion(tiny, 5))  # loaded on first use, defaults
    assert first.metrics.load_ms is not None
    # A call cannot change a load-time option: refused, naming it, both values and the cure.
    with pytest.raises(ConfigError, match=r"num_ctx 256 \(loaded with 2048\).*backend\.load"):
        await generate(backend, completion(tiny, 5, num_ctx=256))
    # A load applies it (a reload, timed), and calls asking the same run on that load.
    loaded = await backend.load(str(tiny), options=InferenceOptions(num_ctx=256, seed=3))
    assert loaded.metrics.load_ms is not None and loaded.metrics.load_ms > 0
    assert loaded.options == {"num_ctx": 256}  # the load-time options it applied, only
    bigger = await generate(backend, completion(tiny, 5, num_ctx=256))
    assert bigger.metrics.load_ms is None
    unset = await generate(backend, completion(tiny, 5))  # unset: as loaded
    assert unset.metrics.load_ms is None
    same = await backend.load(str(tiny), options=InferenceOptions(num_ctx=256))
    assert same.metrics.load_ms is not None and same.metrics.load_ms < loaded.metrics.load_ms


async def test_load_call(backend: LlamaCppBackend, tiny: Path) -> None:
    loaded = await backend.load(str(tiny))
    assert loaded.done_reason == "load" and loaded.text == ""
    assert loaded.metrics.load_ms is not None and loaded.metrics.load_ms > 0
    assert loaded.metrics.output_tokens is None
    after = await generate(backend, completion(tiny, 3))
    assert after.metrics.load_ms is None  # already loaded with the same options


async def test_same_seed_same_text(backend: LlamaCppBackend, tiny: Path) -> None:
    a = await generate(backend, completion(tiny, 30, seed=5))
    b = await generate(backend, completion(tiny, 30, seed=5))
    c = await generate(backend, completion(tiny, 30, seed=6))
    assert a.text == b.text != c.text
    assert a.metrics.prompt_tokens == b.metrics.prompt_tokens  # whole prompt each call


async def test_stop_string_ends_the_generation(backend: LlamaCppBackend, tiny: Path) -> None:
    full = await generate(backend, completion(tiny, 60, seed=3))
    stop = full.text[20:23]
    cut = await generate(backend, completion(tiny, 60, seed=3, stop=[stop]))
    assert cut.done_reason == "stop"
    assert cut.text == full.text[: full.text.index(stop)]
    assert cut.metrics.output_tokens is not None and cut.metrics.output_tokens < 60


async def test_num_predict_zero_only_reads_the_prompt(backend: LlamaCppBackend, tiny: Path) -> None:
    r = await generate(backend, completion(tiny, 0))
    assert r.text == ""
    assert r.metrics.output_tokens == 0 and r.metrics.chunks == 0
    assert r.metrics.prompt_eval_ms is not None and r.metrics.prompt_eval_ms > 0
    assert r.metrics.eval_ms is None and r.metrics.decode_tokens_per_s is None


async def test_unbounded_generation_fills_the_context(backend: LlamaCppBackend, tiny: Path) -> None:
    r = await generate(backend, completion(tiny, None, num_ctx=64))
    assert r.metrics.prompt_tokens is not None
    assert r.metrics.output_tokens == 64 - r.metrics.prompt_tokens
    assert r.done_reason == "length"


async def test_prompt_longer_than_the_context(backend: LlamaCppBackend, tiny: Path) -> None:
    with pytest.raises(ConfigError, match=r"holds 16; raise num_ctx"):
        await generate(backend, completion(tiny, 4, num_ctx=16))
    long = GenerationRequest(model=str(tiny), prompt="many words " * 200)
    await backend.load(str(tiny), options=InferenceOptions(num_ctx=256))
    with pytest.raises(ConfigError, match=r"the prompt is \d+ tokens.*holds 256"):
        await generate(backend, long.model_copy(update={"options": InferenceOptions(num_ctx=256)}))


async def test_stopping_early_frees_the_model_for_the_next_call(
    backend: LlamaCppBackend, tiny: Path
) -> None:
    seen = 0
    async with aclosing(backend.stream(completion(tiny, 1000))) as events:
        async for event in events:
            assert isinstance(event, TextChunk)
            seen += 1
            if seen == 3:
                break
    r = await generate(backend, completion(tiny, 4))
    assert r.metrics.output_tokens == 4


async def test_relative_model_names_resolve_against_the_url_directory(tiny: Path) -> None:
    settings = EndpointSettings(kind="llamacpp", url=str(tiny.parent))
    async with LlamaCppBackend(settings) as b:
        info = await b.server_info()
        assert [m.name for m in info.models] == [str(tiny)]
        assert info.loaded == []
        r = await generate(b, completion(Path(tiny.name), 3))
        assert r.model == str(tiny)
        info = await b.server_info()
        assert info.version is not None and info.version.startswith("llama-cpp-python ")
        assert info.loaded is not None and len(info.loaded) == 1
        assert info.loaded[0].family == "llama" and info.loaded[0].parameter_size == "172K"
        assert [m.name for m in info.models] == [str(tiny)]


async def test_missing_model_names_the_path_and_how_to_make_one(
    backend: LlamaCppBackend, tmp_path: Path
) -> None:
    with pytest.raises(ModelNotFoundError, match="chimera model tiny PATH") as exc:
        await generate(backend, completion(tmp_path / "nope.gguf", 3))
    assert str(tmp_path / "nope.gguf") in str(exc.value)


async def test_a_file_that_is_not_gguf(backend: LlamaCppBackend, tmp_path: Path) -> None:
    bad = tmp_path / "notes.gguf"
    bad.write_text("hello")
    with pytest.raises(InputFileError, match=r"is not a GGUF model.*chimera model tiny") as exc:
        await generate(backend, completion(bad, 3))
    assert exc.value.path == str(bad)


@pytest.fixture
def truncated(tiny: Path, tmp_path: Path) -> Path:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny.read_bytes()[:50_000])
    return cut


async def test_a_truncated_gguf(backend: LlamaCppBackend, truncated: Path) -> None:
    with pytest.raises(InputFileError, match=r"llama\.cpp could not load it") as exc:
        await backend.load(str(truncated))
    assert exc.value.path == str(truncated)
