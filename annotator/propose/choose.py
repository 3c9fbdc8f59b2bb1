"""Which engine to run: `choose_engine` makes the one asked for, or the one `auto` picks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotator.propose.engine import Engine
from annotator.propose.rules_proposer import RulesProposer

ENGINES = ("auto", "rules", "llm", "local")


@dataclass(frozen=True)
class EngineChoice:
    """An engine made ready to run, and why it was chosen, in words for the user."""

    engine: Engine
    reason: str


def choose_engine(
    engine: str = "auto",
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    kinds: Sequence[str] | None = None,
    concurrency: int = 8,
    gguf: str | None = None,
    prompts: Path | None = None,
    timeout: float | None = None,
) -> EngineChoice:
    """Make the engine asked for; `auto` is `llm` when a key or a base URL is configured, else `rules`.

    Every value is given: the caller reads the settings (`annotator.config`), not this function.
    `prompts` is a folder of prompt files for the model engines (None: the prompts setting, else the packaged ones);
    `timeout` is the seconds one request to a model server may take (the llm engine's default if None).
    """
    from annotator.errors import AnnotatorError

    if engine not in ENGINES:
        raise AnnotatorError(f"unknown engine {engine!r} (expected one of: {', '.join(ENGINES)})")
    base_url = base_url or None
    api_key = api_key or None
    if engine == "auto":
        engine = "llm" if (api_key or base_url) else "rules"
        why = "a key or base URL is configured" if engine == "llm" else "no OPENAI_API_KEY or base URL is configured"
    else:
        why = "asked for"
    if engine == "rules":
        return EngineChoice(RulesProposer(kinds), f"engine rules ({why})")
    if engine == "local":
        from annotator.propose.local import LocalEngine

        local = LocalEngine(gguf, kinds=kinds, prompts=_prompts(kinds, prompts))
        return EngineChoice(local, f"engine local: {local.model} ({why})")
    from annotator.propose.llm import DEFAULT_MODEL, LLMEngine, server_model

    if base_url is None and api_key is None:
        raise AnnotatorError("the llm engine needs OPENAI_API_KEY or --base-url (an OpenAI-compatible server)")
    if model is None:
        model = server_model(base_url, api_key) if base_url else DEFAULT_MODEL
    llm = LLMEngine(model, base_url=base_url, api_key=api_key, kinds=kinds, concurrency=concurrency,
                    prompts=_prompts(kinds, prompts), **({"timeout": timeout} if timeout is not None else {}))
    return EngineChoice(llm, f"engine llm: {model} at {base_url or 'api.openai.com'} ({why})")


def _prompts(kinds: Sequence[str] | None, folder: Path | None) -> dict[str, Any] | None:
    """The prompt files of `folder`, or None for the default folder (the engine loads those itself)."""
    if folder is None:
        return None
    from annotator.propose.prompts import load_prompts

    return load_prompts(kinds, folder)
