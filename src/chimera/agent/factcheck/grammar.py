"""The number grammar of the fact check (pure): how a number is written (digits, thousands
separators, decimals, exponents, scale words, multipliers), and what around it makes it no
claim (dates, versions, model sizes, names, small counts, code, proposals)."""

from __future__ import annotations

import re

from chimera.agent.junk import CONTROL_TOKEN
from chimera.quantities import NUMERAL_IN_TEXT

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b\.?"
)
_FAMILY = (
    r"(?:gemma|llama|codellama|tinyllama|qwen|mistral|mixtral|phi|deepseek|granite|starcoder"
    r"|falcon|vicuna|smollm|olmo|gpt|claude|nemotron|zephyr|internlm|baichuan|chatglm|glm)"
)
# Applied in order to each line; each span is blanked so later patterns and the number scan
# never see it. A span counts once in FactCheck.ignored_kinds when it holds a digit.
MASKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("control-token", CONTROL_TOKEN),
    ("url", re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+")),
    ("date", re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{4}/\d{1,2}/\d{1,2}\b")),
    (
        "path",
        re.compile(
            r"(?:~|\.{1,2})?/?(?:[\w.-]+/)+[\w.-]*\.[A-Za-z]\w{0,8}\b"
            r"|(?:[\w.-]+/){2,}[\w.-]*|\b[A-Za-z]:\\\S+"
        ),
    ),
    (
        "file",
        re.compile(
            r"\b[\w-]+(?:\.[\w-]+)*\.(?:jsonl?|csv|tsv|md|txt|py|log|ya?ml|toml|gguf|bin"
            r"|safetensors|parquet|html?|ipynb|sh|xlsx|pdf|png|jpe?g|svg|zip|gz|tar)\b",
            re.I,
        ),
    ),
    (
        "date",
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z\b|[+-]\d{2}:?\d{2})?)?"
        ),
    ),
    (
        "date",
        re.compile(r"\b(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:[-_T]?\d{4,6})?\b"),
    ),
    (
        "date",
        re.compile(
            rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?"
            rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}}\b)?"
            rf"|\b{_MONTH}\s+\d{{4}}\b"
        ),
    ),
    ("date", re.compile(r"\b(?:Q[1-4]|H[12]|FY)\s?'?\d{2,4}\b")),
    (
        "time",
        re.compile(
            r"\b\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp]\.?[Mm]\b\.?)?(?:\s*(?:UTC|GMT)\b)?"
            r"|\b\d{1,2}\s*[AaPp]\.?[Mm]\b\.?"
        ),
    ),
    (
        "version",
        re.compile(
            r"\b[vV]\d+(?:\.\d+)*\b|\b\d+\.\d+\.\d+(?:\.\d+)*\b"
            r"|\b(?:version|ver\.|python|cuda|cudnn|ollama|pytorch|torch|transformers|llama\.cpp"
            r"|rocm|driver|ubuntu|macos|windows|release|node|numpy|vllm)\s+v?\d+(?:\.\d+)*\b",
            re.I,
        ),
    ),
    (
        "model",
        re.compile(
            r"\b[A-Za-z][\w.-]*\d[\w.-]*:[\w.-]+"  # gemma3:1b, qwen2.5:7b, llama3.1:latest
            r"|\b[A-Za-z][\w.-]*:(?:\d+(?:\.\d+)?[bBmMkK]\b|latest\b)[\w.-]*"  # mistral:7b
        ),
    ),
    (
        "model",
        re.compile(
            rf"\b{_FAMILY}[\w.:-]*(?:\s+\d(?:\.\d)?(?![\d.]))?(?:[\s_-]+\d+(?:\.\d+)?[bBmMkK]\b)?",
            re.I,
        ),
    ),
    (
        "model",
        re.compile(
            r"\b(?:RTX|GTX|RX|Quadro|Tesla|Radeon|GeForce|Titan|Arc)\s+[A-Z]?\d{2,5}\w*"
            r"|\bRyzen\s+\d\s+\d{3,5}\w*"
        ),
    ),
    (
        "ordinal",
        re.compile(
            r"^\s*(?:>\s*)*(?:[-*+•]\s+)?(?:\*\*|__)?\(?\d{1,3}(?:\.\d{1,2})*[.)](?=\s|\*\*|__|$)"
            r"|^\s*#{1,6}\s*(?:\*\*|__)?\s*\d{1,3}(?:\.\d{1,2})*\b"
        ),
    ),
    (
        "ordinal",
        re.compile(
            r"\b(?:(?i:step|section|phase|part|table|figure|fig\.|option|recommendation|finding"
            r"|chapter|appendix|stage|tier|priority|iteration|scenario|question|experiment|epoch"
            r"|page|slide)|Run|Test|Trial|Round|Rank|Level|Row|Line|Column|Item|Agent|Case|Day"
            r"|Week)\s*#?\s*\d+\b"
            r"|#\d+\b|\b\d+(?:st|nd|rd|th)\b|\[\d+\]|\^\d+"
        ),
    ),
)
QUOTED = re.compile(r'"(?:[^"\\\n]|\\.)*"')
DATA_LANGS = frozenset({"json", "jsonc", "json5", "yaml", "yml", "toml", "ini"})
PROSE_LANGS = frozenset({"", "csv", "tsv", "text", "txt", "plaintext", "markdown", "md"})
FENCE = re.compile(r"^\s{0,3}(?:`{3,}|~{3,})\s*([^\s`]*)")
NUMBER = NUMERAL_IN_TEXT  # the one numeral grammar (chimera.quantities)
EXPONENT = re.compile(r"[eE][-+]?\d+(?![\w])")
SCALE = re.compile(r"(?P<s>[kK]|M)(?![A-Za-z0-9])|\s+(?P<w>thousand|million|billion)\b")
SCALES = {"k": 1e3, "K": 1e3, "M": 1e6, "thousand": 1e3, "million": 1e6, "billion": 1e9}
MULTIPLIER = re.compile(r"[x×](?![A-Za-z0-9])")
MODEL_SIZE = re.compile(r"[bBm](?![A-Za-z0-9])")  # 7B, 1b, 270m: model sizes, not amounts
ATTACHED = re.compile(r"[A-Za-z_]|\.[A-Za-z]")  # gemma3b, x86_64, report1.json
DESCRIPTORS = frozenset({"bit", "bits", "way", "shot"})
COMPOUND = re.compile(r"-([A-Za-z]+)")  # "10-second", "128-token"
RANGE_JOIN = re.compile(r"\s*(?:-|–|—|to)\s*")
RANGE_AHEAD = re.compile(r"\s*(?:-|–|—|to)\s*\.?\d")
SMALL_INT = 10
DATA_BEFORE = re.compile(r"[:=][\s*_`]*$")
# "Markdown: 13", "**JSON**: 88", "13 Markdown files": the word that labels a number directly.
# "CSV: 28 (28%)": the share in parentheses has the count's subject.
SUBJECT_BEFORE = re.compile(r"\b([A-Za-z][A-Za-z0-9]*)[*_`]*\s*[:=][\s*_`]*(?:[\d.,]+\s*\(\s*)?$")
SUBJECT_AFTER = re.compile(r"\s+([A-Za-z][A-Za-z0-9]*)\s+files?\b")
YEAR_CONTEXT = re.compile(r"\b(?:ctx|context|window|length|size|batch|max|limit|num_\w+)\b", re.I)
COUNT_NOUN = re.compile(
    r"\s+(?:tokens?|files?|rows?|requests?|runs?|samples?|items?|records?|entries|prompts?"
    r"|words?|characters?|calls?|steps?|iterations?)\b",
    re.I,
)
IMPERATIVE = re.compile(
    r"(?i:raise|set|increase|reduce|lower|decrease|keep|try|use|cap|limit|switch|move|bump"
    r"|change|adjust|tune|consider|enable|target|aim|allocate|double|halve|pin|restrict"
    r"|experiment|test|benchmark|start|run|configure|update|upgrade|downgrade)\b"
)
TARGET_BEFORE = re.compile(r"(?:\b(?:to|at|by|around|about|under|below|above|over)|=)\s*$")
LABEL = re.compile(r"^[^:]{1,40}:\s+(?=\S)")
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z*_\"'(\[`])")
LEADING_MARKER = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
