"""What the chat-model engines share: chunk the document, ask, ground the answers, drop duplicates.

For each kind and each chunk of a document, a `ChatEngine` asks its model once (`ask`, the one
thing a transport provides: `llm` over HTTP, `local` through llama.cpp in this process) and reads
the `Reply`: items the answer model already accepted are grounded in the document; an answer still
to be read (what was left after the last re-ask, or an answer no one checked) is validated
leniently first. An item that does not ground, and an answer that is not valid JSON, is a
`Failure` with its reason. Chunks overlap, so a span found in two of them is kept once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from annotator.chunking import split_chunks
from annotator.grounding import DocumentIndex
from annotator.propose.engine import BaseEngine, DocumentResult, Failure, Proposal, origin
from annotator.propose.prompts import Prompt, load_prompts, prompt_set
from annotator.schemas import Annotation, Document, annotation_class, draft_models


@dataclass
class Reply:
    """What one request for one kind in one chunk brought back, before grounding."""

    items: Sequence[Any] | None = None
    """Drafted items the answer model accepted (grounding included, for a transport that re-asks)."""
    text: str | None = None
    """An answer not (or no longer) validated, to read leniently: the last re-ask's, or an unchecked one."""
    failure: Failure | None = None
    """Why there is no answer to read."""
    tokens_in: int = 0
    tokens_out: int = 0


class ChatEngine(BaseEngine):
    """A proposal engine that asks a chat model for each kind in each chunk of a document.

    A transport subclass sets `name` and implements `ask`; it may override `redact` (an engine
    with a secret) and `cost` (a priced model).
    """

    name: str
    cacheable = True
    concurrency = 1

    def __init__(
        self,
        model: str,
        *,
        kinds: Sequence[str] | None,
        prompts: dict[str, Prompt] | None,
        max_chars: int,
        overlap: int,
        temperature: float,
    ) -> None:
        self.model = model
        self.prompts = prompts or load_prompts(kinds)
        self.prompt_name, self.prompt_hash = prompt_set(self.prompts)
        self.max_chars = max_chars
        self.overlap = overlap
        self.temperature = temperature

    async def ask(self, kind: str, text: str, hint: int, index: DocumentIndex) -> Reply:
        """One request for `kind` in `text` (a chunk whose middle is document offset `hint`); never raises
        for a problem with that request."""
        raise NotImplementedError

    def redact(self, text: str) -> str:
        """`text` as it may be stored and shown: an engine without a secret masks nothing."""
        return text

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        """US dollars for the tokens of one document: nothing, unless the model has a price."""
        return 0.0

    async def propose(self, document: Document) -> DocumentResult:
        """Ask for every kind in every chunk of the document; ground and collect the answers."""
        index = DocumentIndex(document.text)
        chunks = split_chunks(document.text, self.max_chars, self.overlap)
        jobs = [self._answer(kind, chunk.text, chunk.middle, index) for kind in self.prompts for chunk in chunks]
        result = DocumentResult()
        seen: set[tuple[str, int, int]] = set()
        for proposals, failures, tokens_in, tokens_out in await asyncio.gather(*jobs):
            for proposal in proposals:
                key = (proposal.annotation.kind, proposal.annotation.start, proposal.annotation.end)
                if key not in seen:  # chunks overlap: the same span can come twice
                    seen.add(key)
                    result.proposals.append(proposal)
            result.failures += failures
            result.tokens_in += tokens_in
            result.tokens_out += tokens_out
        result.proposals.sort(key=lambda p: (p.annotation.start, p.annotation.end, p.annotation.kind))
        result.cost = self.cost(result.tokens_in, result.tokens_out)
        return result

    async def _answer(
        self, kind: str, text: str, hint: int, index: DocumentIndex
    ) -> tuple[list[Proposal], list[Failure], int, int]:
        """The grounded proposals and the failures of one request, and the tokens it took."""
        reply = await self.ask(kind, text, hint, index)
        if reply.failure is not None:
            proposals, failures = [], [reply.failure]
        elif reply.items is not None:
            proposals, failures = self._ground(kind, reply.items, index, hint)
        else:
            proposals, failures = self._read(kind, reply.text, index, hint)
        return proposals, failures, reply.tokens_in, reply.tokens_out

    def _read(
        self, kind: str, text: str | None, index: DocumentIndex, hint: int
    ) -> tuple[list[Proposal], list[Failure]]:
        """An answer not yet accepted: keep the items that ground, record the rest as failures."""
        _, answer_model = draft_models(kind)
        try:
            answer = answer_model.model_validate_json(text or "", context={"lenient": True})
        except ValidationError as error:
            snippet = self.redact((text or "")[:120])
            reason = f"the answer is not valid JSON for {kind} items ({error.error_count()} errors): {snippet!r}"
            return [], [Failure(kind, reason)]
        return self._ground(kind, answer.items, index, hint)

    def _ground(
        self, kind: str, items: Sequence[Any], index: DocumentIndex, hint: int
    ) -> tuple[list[Proposal], list[Failure]]:
        """Anchor each drafted item to exact offsets; an item that cannot be anchored is a failure."""
        document = index.document
        cls = annotation_class(kind)
        made = origin(self.name, self.model, self.prompts[kind].id)
        proposals, failures = [], []
        for item in items:
            draft = item.model_dump()
            grounding = index.ground(draft["text"], hint=hint)
            if not grounding.grounded or grounding.start is None or grounding.end is None:
                failures.append(Failure(kind, f"not found in the document (best match {grounding.score:.2f})", draft))
                continue
            fields = {name: draft.get(name) for name in cls.kind_fields() if name in draft}
            if kind == "quote":
                fields.update(_speaker_mention(document, draft.get("speaker"), grounding.start, grounding.end))
            try:
                annotation: Annotation = cls.model_validate(
                    {**fields, "kind": kind, "start": grounding.start, "end": grounding.end, "text": grounding.text,
                     "origin": made},
                    context={"document": document},
                )
            except ValidationError as error:
                failures.append(Failure(kind, f"invalid {kind}: {error.errors()[0]['msg']}", draft))
                continue
            claimed = draft["text"] if draft["text"] != grounding.text else None
            proposals.append(Proposal(annotation, grounding.score, grounding.method, claimed))
        return proposals, failures


def usage_tokens(usage: Any, name: str) -> int:
    """A token count of a completion's `usage` (`prompt_tokens`, `completion_tokens`), 0 when missing."""
    value = getattr(usage, name, None) if usage is not None else None
    return int(value) if isinstance(value, int) else 0


def completion_text(completion: Any) -> str | None:
    """The answer text of a chat completion: its content, or its first tool call's arguments."""
    try:
        message = completion.choices[0].message
    except (AttributeError, IndexError, TypeError):
        return None
    if message.tool_calls:
        return message.tool_calls[0].function.arguments
    return message.content


def _speaker_mention(document: str, speaker: str | None, start: int, end: int) -> dict[str, int | None]:
    """Offsets of the speaker's name (or surname) nearest the quote, if it is mentioned."""
    if not speaker:
        return {"speaker_start": None, "speaker_end": None}
    names = [speaker] + ([speaker.split()[-1]] if len(speaker.split()) > 1 else [])
    best: tuple[int, int, int] | None = None
    for name in names:
        for match in re.finditer(rf"\b{re.escape(name)}\b", document):
            distance = min(abs(match.start() - end), abs(start - match.end()))
            if best is None or distance < best[0]:
                best = (distance, match.start(), match.end())
        if best is not None and best[0] < 300:
            break
    if best is None:
        return {"speaker_start": None, "speaker_end": None}
    return {"speaker_start": best[1], "speaker_end": best[2]}
