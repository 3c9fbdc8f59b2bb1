"""Proposal engines behind one small interface: a document in, proposals out.

- `engine`: the interface (`Engine`, an async context manager) and what it answers.
- `run`: an engine over documents, with the response cache, resume and the store's records.
- `choose`: the engine factory (`choose_engine`, `auto` included).
- `chat`: the chat engines' common half (chunk, ask, ground, dedupe); two transports:
  `llm` (openai + instructor, any OpenAI-compatible endpoint) and `local` (llama.cpp in-process).
- `rules` (with its adapter `rules_proposer`): deterministic, offline, no model.

This module only re-exports what the rest of the code imports from `annotator.propose`.
"""

from annotator.propose.choose import ENGINES, EngineChoice, choose_engine
from annotator.propose.engine import (
    DocumentResult,
    Engine,
    Failure,
    Proposal,
    RunProgress,
    RunSummary,
    origin,
)
from annotator.propose.rules_proposer import RulesProposer
from annotator.propose.run import (
    answer_documents,
    cache_key,
    cache_result,
    propose_documents,
    redact_result,
    run_proposals,
)

__all__ = [
    "ENGINES",
    "DocumentResult",
    "Engine",
    "EngineChoice",
    "Failure",
    "Proposal",
    "RulesProposer",
    "RunProgress",
    "RunSummary",
    "answer_documents",
    "cache_key",
    "cache_result",
    "choose_engine",
    "origin",
    "propose_documents",
    "redact_result",
    "run_proposals",
]
