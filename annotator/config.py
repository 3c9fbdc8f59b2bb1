"""The settings: one object, read from flags over the environment over a config file.

Each field of `Settings` is one setting. `load_settings()` reads them, the first found winning:

1. a flag on the command line (the CLI passes only the flags the user typed);
2. the environment: `ANNOTATOR_<SETTING>` (`ANNOTATOR_DB`, `ANNOTATOR_MAX_SIZE`, …), and for the
   key and the server also `OPENAI_API_KEY` and `OPENAI_BASE_URL`, where users already keep them;
3. the TOML file `config_file()` names, beside `keys.toml`:

       # ~/.config/annotator/config.toml
       model = "qwen2.5:7b"
       base_url = "http://localhost:11434/v1"
       concurrency = 4

4. the defaults below.

The API key is a `SecretStr`: no string form of the settings (repr, str, JSON) shows it, and no
error message quotes a value that may be it.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from annotator.errors import AnnotatorError
from annotator.store import DEFAULT_DB

OPENAI_VARIABLES = {"api_key": "OPENAI_API_KEY", "base_url": "OPENAI_BASE_URL"}
"""Settings also read from the variables the OpenAI tools use, under `ANNOTATOR_<SETTING>` in precedence."""


def config_dir() -> Path:
    """`$XDG_CONFIG_HOME/annotator` (default `~/.config/annotator`): the config file and `keys.toml`."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "annotator"


def config_file() -> Path:
    """`ANNOTATOR_CONFIG` if set, else `config.toml` in `config_dir()`."""
    return Path(os.environ.get("ANNOTATOR_CONFIG") or config_dir() / "config.toml")


class Settings(BaseSettings):
    """Every setting of annotator; get one from `load_settings()`."""

    # Attribute docstrings document each setting in the source (and the README); they are not loaded as
    # field descriptions (`use_attribute_docstrings`), which would cost every command ~20 ms of parsing.
    model_config = SettingsConfigDict(env_prefix="ANNOTATOR_", env_ignore_empty=True, extra="forbid")

    db: Path = Path(DEFAULT_DB)
    """The SQLite gold store (`--db`)."""
    engine: str = "auto"
    """auto (llm if a key or base URL is set, else rules), rules, llm or local (`--engine`)."""
    model: str | None = None
    """Model name (`--model`); unset: the model the server lists, or the llm engine's default at OpenAI."""
    base_url: str | None = None
    """An OpenAI-compatible server (`--base-url`; also `OPENAI_BASE_URL`)."""
    api_key: SecretStr | None = None
    """The API key of the model server (also `OPENAI_API_KEY`); never shown, never stored."""
    concurrency: int = Field(8, ge=1)
    """Requests in flight at once (`--concurrency`)."""
    timeout: float | None = None
    """Seconds one request to a model server may take (`--timeout`); unset: the llm engine's default."""
    max_size: int | None = None
    """Bytes: larger files are skipped by ingest, propose and review (`--max-size`: 5MB, 512KB or a number)."""
    prompts: Path | None = None
    """Folder of <kind>.md prompt files (`--prompts`); unset: the prompts shipped in the package."""
    keys: Path = Field(default_factory=lambda: config_dir() / "keys.toml")
    """TOML file of key bindings for the review UI (`--keys`)."""
    name: str | None = None
    """Your name on every decision (`--annotator`); unset: the OS user."""
    tolerance: float | None = Field(None, ge=0)
    """Relative tolerance for a figure's value in eval (`--tolerance`); unset: the schema's `VALUE_TOLERANCE`."""

    @field_validator("max_size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        """A size may be written `5MB`, `512k` or in bytes."""
        if isinstance(value, str):
            from annotator.ingest import parse_size

            try:
                return parse_size(value)
            except AnnotatorError as error:
                raise ValueError(str(error)) from None
        return value

    # The next two defaults are the core's own, read only when asked for: importing ingest and schemas
    # here would slow every command, `stats` included, that only needs the store's path.
    def size_limit(self) -> int:
        """`max_size`, else ingest's default (5MB)."""
        from annotator.ingest import DEFAULT_MAX_BYTES

        return self.max_size if self.max_size is not None else DEFAULT_MAX_BYTES

    def value_tolerance(self) -> float:
        """`tolerance`, else the schema's `VALUE_TOLERANCE`, which the edit form and qa apply too."""
        from annotator.schemas import VALUE_TOLERANCE

        return self.tolerance if self.tolerance is not None else VALUE_TOLERANCE

    def secret_key(self) -> str | None:
        """The API key in clear, for the one client that sends it (and the redaction of its errors)."""
        return self.api_key.get_secret_value() if self.api_key is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags, then `ANNOTATOR_*`, then `OPENAI_*`, then the config file (no .env, no secrets folder)."""
        return init_settings, env_settings, _OpenAIVariables(settings_cls), _ConfigFile(settings_cls)


class _OpenAIVariables(PydanticBaseSettingsSource):
    """`OPENAI_API_KEY` and `OPENAI_BASE_URL`, as the key and base URL settings."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        """Unused: `__call__` reads the two variables itself."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {name: os.environ[variable] for name, variable in OPENAI_VARIABLES.items() if os.environ.get(variable)}


class _ConfigFile(PydanticBaseSettingsSource):
    """The settings in the TOML config file; one that cannot be read or names an unknown setting is an error."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        """Unused: `__call__` reads the whole file."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = config_file()
        if not path.exists():
            if os.environ.get("ANNOTATOR_CONFIG"):
                raise AnnotatorError(f"{path}: no such config file (named by ANNOTATOR_CONFIG)")
            return {}
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise AnnotatorError(f"{path}: cannot read settings ({error})") from None
        known = self.settings_cls.model_fields
        for name in data:
            if name not in known:
                raise AnnotatorError(f"{path}: unknown setting {name!r} (known: {', '.join(known)})")
        return data


def load_settings(**flags: Any) -> Settings:
    """The settings, with `flags` (settings given on the command line) over the environment over the file.

    A bad value is an AnnotatorError of one line that says where it came from, and never quotes the
    value: it may be the key.
    """
    try:
        return Settings(**flags)
    except ValidationError as error:
        problem = error.errors(include_url=False, include_input=False)[0]
        name = str(problem["loc"][0]) if problem["loc"] else "settings"
        message = problem["msg"].removeprefix("Value error, ")
        raise AnnotatorError(f"{_source(name, flags)}: {name}: {message}") from None


def _source(name: str, flags: dict[str, Any]) -> str:
    """Where the value of setting `name` came from: the command line, a variable, or the config file."""
    if name in flags:
        return "command line"
    for variable in (f"ANNOTATOR_{name.upper()}", OPENAI_VARIABLES.get(name)):
        if variable and os.environ.get(variable):
            return variable
    return str(config_file())
