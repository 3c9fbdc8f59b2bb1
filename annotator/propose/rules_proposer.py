"""The `rules` engine (`annotator.propose.rules`) behind the engine interface."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from annotator.propose.engine import BaseEngine, DocumentResult, Proposal
from annotator.schemas import Document


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while one document is analysed.

    The analysis of a long document keeps tens of thousands of objects alive (the proposals among
    them) and makes none it leaves in cycles; each full collection would walk them all again, which
    cost a third of the speed on a 5 MB document. What the document needs is bounded by its size.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class RulesProposer(BaseEngine):
    """The `rules` engine behind the common interface: offline, instant, never cached."""

    name = "rules"
    model = None
    cacheable = False
    concurrency = 1

    def __init__(self, kinds: Sequence[str] | None = None) -> None:
        from annotator.propose.rules import RulesEngine

        self._rules = RulesEngine()
        self.kinds = tuple(kinds) if kinds else None
        self.prompt_name = self._rules.prompt
        self.prompt_hash = self._rules.prompt.rpartition("@")[2]
        self.params: dict[str, Any] = {"kinds": list(self.kinds)} if self.kinds else {}

    async def propose(self, document: Document) -> DocumentResult:
        """Every rule-based proposal for the document (spans are exact by construction)."""
        with _collector_paused():
            annotations = self._rules.propose(document.text)
        if self.kinds is not None:
            annotations = [a for a in annotations if a.kind in self.kinds]
        return DocumentResult(proposals=[Proposal(a) for a in annotations])
