"""The settings: flags over the environment over the config file, a key no string shows, one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from annotator.cli import SETTING_OF_FLAG, app
from annotator.config import Settings, config_file, load_settings
from annotator.errors import AnnotatorError
from annotator.ingest import DEFAULT_MAX_BYTES, parse_size
from annotator.schemas import VALUE_TOLERANCE
from conftest import SEEDS

runner = CliRunner()
KEY = "sk-test-SECRETSECRET-0123456789"


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def write_config(text: str) -> Path:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_every_test_starts_without_the_developers_settings(tmp_path: Path) -> None:
    assert not [name for name in os.environ if name.startswith(("ANNOTATOR_", "OPENAI_"))]
    assert config_file().is_relative_to(tmp_path) and not config_file().exists()
    assert load_settings().model_fields_set == set()  # every setting at its default


def test_a_flag_wins_over_the_environment_which_wins_over_the_config_file(tmp_path: Path, monkeypatch) -> None:
    write_config('db = "file.db"\nmodel = "file-model"\nconcurrency = 3\n')
    invoke("ingest", str(SEEDS))
    assert (tmp_path / "file.db").exists() and not (tmp_path / "labels.db").exists()
    monkeypatch.setenv("ANNOTATOR_DB", "env.db")
    invoke("ingest", str(SEEDS))
    assert (tmp_path / "env.db").exists()
    invoke("ingest", str(SEEDS), "--db", "flag.db")
    assert (tmp_path / "flag.db").exists()

    monkeypatch.setenv("ANNOTATOR_MODEL", "env-model")
    settings = load_settings()
    assert (settings.model, settings.concurrency, settings.db) == ("env-model", 3, Path("env.db"))
    assert load_settings(model="flag-model").model == "flag-model"


def test_the_key_and_base_url_come_from_the_openai_variables_too(monkeypatch) -> None:
    write_config('api_key = "from-the-file"\nbase_url = "http://file/v1"\n')
    assert load_settings().secret_key() == "from-the-file"
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://openai/v1")
    settings = load_settings()
    assert settings.secret_key() == KEY and settings.base_url == "http://openai/v1"
    monkeypatch.setenv("ANNOTATOR_BASE_URL", "http://annotator/v1")
    assert load_settings().base_url == "http://annotator/v1"
    assert load_settings(base_url="http://flag/v1").base_url == "http://flag/v1"


def test_no_string_form_of_the_settings_shows_the_key(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    settings = load_settings()
    assert settings.secret_key() == KEY
    for shown in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump()),
                  repr(settings.api_key), f"{settings.api_key}"):
        assert KEY not in shown and "SECRETSECRET" not in shown


@pytest.mark.parametrize(
    "content",
    [
        f'api_key = ["{KEY}"]\n',  # a wrong type for the key itself
        f'api_key = "{KEY}"\nconcurrency = "many"\n',  # a bad value beside it
        f'openai_api_key = "{KEY}"\n',  # the key under a name that is not a setting
        f'api_key = "{KEY}\n',  # a string never closed
    ],
)
def test_no_error_message_shows_the_key(content: str, monkeypatch) -> None:
    write_config(content)
    with pytest.raises(AnnotatorError) as raised:
        load_settings()
    assert KEY not in str(raised.value) and "SECRETSECRET" not in str(raised.value)
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 1 and "SECRETSECRET" not in result.output
    monkeypatch.setenv("ANNOTATOR_API_KEY", KEY)
    monkeypatch.setenv("ANNOTATOR_CONCURRENCY", "0")
    with pytest.raises(AnnotatorError) as raised:
        load_settings()
    assert "SECRETSECRET" not in str(raised.value)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('model = "m"\nmodle = "x"\n', "unknown setting 'modle'"),
        ("model = \n", "cannot read settings"),
        ('concurrency = "lots"\n', "concurrency: Input should be a valid integer"),
        ('max_size = "huge"\n', "max_size: cannot read size 'huge'"),
    ],
)
def test_a_bad_config_file_is_a_one_line_error_naming_it(content: str, problem: str) -> None:
    path = write_config(content)
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 1
    line = result.output.strip()
    assert "\n" not in line and line.startswith(f"error: {path}: ") and problem in line, line


def test_annotator_config_names_another_file(tmp_path: Path, monkeypatch) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text('db = "mine.db"\n', encoding="utf-8")
    monkeypatch.setenv("ANNOTATOR_CONFIG", str(mine))
    assert load_settings().db == Path("mine.db")
    monkeypatch.setenv("ANNOTATOR_CONFIG", str(tmp_path / "missing.toml"))
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 1 and "missing.toml: no such config file" in result.output


def test_a_bad_environment_variable_is_a_one_line_error_naming_it(monkeypatch) -> None:
    monkeypatch.setenv("ANNOTATOR_CONCURRENCY", "many")
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: ANNOTATOR_CONCURRENCY: concurrency: Input should be a valid integer, unable to parse string as an integer"
    )


@pytest.mark.parametrize("where", ["environment", "config file"])
def test_max_size_applies_to_ingest_propose_and_review(where: str, monkeypatch) -> None:
    from annotator.tui.app import ReviewApp

    monkeypatch.setattr(ReviewApp, "run", lambda self: None)
    if where == "environment":
        monkeypatch.setenv("ANNOTATOR_MAX_SIZE", "1KB")
    else:
        write_config('max_size = "1KB"\n')
    for command in ("ingest", "propose", "review"):
        result = runner.invoke(app, [command, str(SEEDS)])
        assert result.exit_code == 1, (command, result.output)
        assert "over the size limit of 1,024 bytes" in result.output, command
    result = runner.invoke(app, ["propose", str(SEEDS), "--max-size", "5MB"])  # the flag wins
    assert result.exit_code == 0 and "proposed" in result.output


def test_the_keys_file_and_the_annotators_name_are_settings(tmp_path: Path, monkeypatch) -> None:
    from annotator.tui import app as tui

    keys = tmp_path / "my-keys.toml"
    keys.write_text('[keys]\naccept = "y"\n', encoding="utf-8")
    write_config(f'keys = "{keys}"\nname = "ana"\n')
    made: list[tuple] = []
    monkeypatch.setattr(tui.ReviewApp, "run", lambda self: None)
    real = tui.create_app

    def spy(db, ids, who, **options):
        made.append((who, options["keymap"]))
        return real(db, ids, who, **options)

    monkeypatch.setattr(tui, "create_app", spy)
    result = invoke("review", str(SEEDS))
    assert result.exit_code == 0, result.output
    assert made == [("ana", {"accept": "y"})]
    invoke("review", str(SEEDS), "--annotator", "bo")
    assert made[-1][0] == "bo"


def test_eval_with_gold_needs_no_store_unless_one_is_named(tmp_path: Path, monkeypatch) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"source": "a.txt", "text": "Nothing here.", "annotations": [], "reviewed": true}\n',
                    encoding="utf-8")
    result = runner.invoke(app, ["eval", "--engine", "rules", "--gold", str(gold)])
    assert result.exit_code == 0 and "not stored" in result.output, result.output
    write_config('db = "missing.db"\ntolerance = 0.05\n')
    result = runner.invoke(app, ["eval", "--engine", "rules", "--gold", str(gold)])
    assert result.exit_code == 1 and "missing.db: no such database" in result.output
    assert load_settings().tolerance == 0.05


def test_the_defaults_the_cli_shows_are_the_settings_defaults() -> None:
    settings = Settings()
    defaults = {**settings.model_dump(), "max_size": settings.size_limit(), "tolerance": settings.value_tolerance()}
    assert defaults["tolerance"] == VALUE_TOLERANCE and defaults["max_size"] == DEFAULT_MAX_BYTES
    checked = set()
    for name, command in typer.main.get_command(app).commands.items():
        for param in command.params:
            setting = SETTING_OF_FLAG.get(param.name, param.name)
            if setting not in Settings.model_fields or param.default is None:
                continue
            expected = defaults[setting]
            shown = parse_size(param.default) if setting == "max_size" else type(expected)(param.default)
            assert shown == expected, (name, param.name)
            checked.add(setting)
    assert checked == {"db", "engine", "concurrency", "max_size", "tolerance"}
