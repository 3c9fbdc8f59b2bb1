"""Prompt files: one per annotation kind, named `<kind>.md`, identified by a hash of their content.

A prompt's id is `<kind>@<first 12 hex of sha256>`: the same words always give the same id, so a
proposal, an eval run or a cached response records exactly which prompt made it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from annotator.errors import AnnotatorError
from annotator.schemas import ANNOTATION_KINDS

# A folder of prompt files: a user's own folder (a Path) or the one shipped inside the package.
PromptFolder = Path | Traversable


@dataclass(frozen=True)
class Prompt:
    """The system prompt for one kind."""

    kind: str
    text: str

    @property
    def hash(self) -> str:
        """sha256 of the prompt's UTF-8 text."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def id(self) -> str:
        """`kind@hash-prefix`, as proposals and runs record it."""
        return f"{self.kind}@{self.hash[:12]}"


def packaged_prompts() -> Traversable:
    """The prompts shipped inside the package (`annotator/prompts/`).

    Found through `importlib.resources`, not a path relative to the source tree, so they are there
    in a wheel installed anywhere (pip, pipx, uv tool) as well as in a checkout.
    """
    return resources.files("annotator") / "prompts"


def prompts_dir() -> PromptFolder:
    """The prompts setting (`ANNOTATOR_PROMPTS`, the config file) if set, else the prompts shipped with the package."""
    from annotator.config import load_settings

    return load_settings().prompts or packaged_prompts()


def load_prompts(kinds: Sequence[str] | None = None, folder: PromptFolder | None = None) -> dict[str, Prompt]:
    """The prompts for `kinds` (default: every kind), read from `folder`."""
    folder = folder or prompts_dir()
    prompts = {}
    for kind in kinds or ANNOTATION_KINDS:
        path = folder / f"{kind}.md"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise AnnotatorError(f"{path}: cannot read the {kind} prompt ({error.strerror})") from None
        if not text.strip():
            raise AnnotatorError(f"{path}: the {kind} prompt is empty")
        prompts[kind] = Prompt(kind, text)
    return prompts


def prompted_kinds(folder: PromptFolder | None = None) -> list[str]:
    """The kinds, in `ANNOTATION_KINDS` order, that have a prompt file in `folder`."""
    folder = folder or prompts_dir()
    return [kind for kind in ANNOTATION_KINDS if (folder / f"{kind}.md").is_file()]


def chat_messages(prompt: Prompt, text: str) -> list[dict[str, str]]:
    """The chat messages that ask a model for `prompt`'s kind in `text` (a document or one chunk of it).

    The one place they are made: the engines send them and the training export writes them, so a
    model is fine-tuned on exactly what it will be asked.
    """
    return [{"role": "system", "content": prompt.text}, {"role": "user", "content": text}]


def prompt_set(prompts: dict[str, Prompt]) -> tuple[str, str]:
    """The name (`quote@…,figure@…`) and one hash of a set of prompts, for a run's provenance."""
    name = ",".join(prompt.id for prompt in prompts.values())
    return name, hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
