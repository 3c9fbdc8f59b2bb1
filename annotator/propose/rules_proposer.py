"""The `rules` engine (`annotator.propose.rules`) behind the engine interface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from annotator.collector import collector_paused
from annotator.propose.engine import BaseEngine, DocumentResult, Proposal
from annotator.schemas import Document


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
        with collector_paused():
            annotations = self._rules.propose(document.text)
        if self.kinds is not None:
            annotations = [a for a in annotations if a.kind in self.kinds]
        return DocumentResult(proposals=[Proposal(a) for a in annotations])
