"""A broken config file on the command line: exit 2 and one line on stderr naming the file,
the line (where the TOML parser gives one) and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Cli

BAD_SYNTAX = '# a scenario\nname = "x"\n[[agents]\nlabel = "A"\n'  # line 3
BAD_FIELD = '[[agents]]\nlabel = "A"\nidle_timeout_s = "soon"\n'
NOT_UTF8 = b'# caf\xc3\xa9 is fine\nname = "caf\xe9"\n[[agents]]\n'  # line 2 is latin-1
BAD_PERSONA = '[personas.auditor]\nlabel = "Auditor"\nprompt = "Audit."\ntarget_words = "many"\n'
BAD_SETTING = "[ingest]\nmax_file_bytes = -5\n"


def _command(kind: str, config: Path, data: Path) -> list[str]:
    if kind == "scenario":
        return ["multiagent", "--scenario-file", str(config), "--backend", "offline",
                "--output-dir", "out", "--no-store", str(data)]  # fmt: skip
    if kind == "personas":
        return ["run", str(data), "--backend", "offline", "--personas", str(config),
                "--persona", "auditor", "--output-dir", "out", "--no-store", "-q"]  # fmt: skip
    return ["ingest", str(data), "--config", str(config)]


CASES = [
    pytest.param("scenario", BAD_SYNTAX, ["line 3", "not valid TOML"], id="scenario-syntax"),
    pytest.param("scenario", BAD_FIELD, ["agents.0.idle_timeout_s"], id="scenario-field"),
    pytest.param("scenario", NOT_UTF8, ["line 2", "not UTF-8"], id="scenario-not-utf8"),
    pytest.param("personas", BAD_SYNTAX, ["line 3"], id="personas-syntax"),
    pytest.param(
        "personas", BAD_PERSONA, ["personas.auditor", "target_words"], id="personas-field"
    ),
    pytest.param("personas", NOT_UTF8, ["line 2"], id="personas-not-utf8"),
    pytest.param("settings", BAD_SYNTAX, ["line 3"], id="settings-syntax"),
    pytest.param("settings", BAD_SETTING, ["max_file_bytes"], id="settings-field"),
    pytest.param("settings", NOT_UTF8, ["line 2"], id="settings-not-utf8"),
]


@pytest.mark.parametrize(("kind", "content", "said"), CASES)
def test_a_bad_config_file_exits_2_with_one_line(
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    content: str | bytes,
    said: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("model,tokens_per_s\nm:1b,50.5\n", encoding="utf-8")
    config = tmp_path / "broken config.toml"
    if isinstance(content, bytes):
        config.write_bytes(content)
    else:
        config.write_text(content, encoding="utf-8")
    code = cli(*_command(kind, config, tmp_path / "data"))
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, (out, err)
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and str(config) in lines[0], lines[0]
    for words in said:
        assert words in lines[0], lines[0]
