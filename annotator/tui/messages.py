"""Messages the review UI's workers post back to the screens: past-tense facts."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class ProposalsArrived(Message):
    """An engine finished a document in the background and its proposals are stored."""

    document_id: str
    proposals: int
    failures: int


@dataclass
class EngineStatusChanged(Message):
    """The background engine has something to say: started, progress, finished or failed."""

    text: str
