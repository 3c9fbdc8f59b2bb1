"""Cut long documents into overlapping chunks sized for a model's context.

The engines ask a model about one chunk at a time and ground its answers with the chunk's middle
as the hint; the training export cuts documents the same way, so a model is fine-tuned on exactly
the pieces it will be asked about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CHUNK_CHARS = 12_000
"""The longest chunk `split_chunks` cuts by default: what the llm engine sends in one request."""

CHUNK_OVERLAP = 1_000
"""How far consecutive chunks overlap by default, so a quote cut by one chunk is whole in the next."""


@dataclass(frozen=True)
class Chunk:
    """A piece of a document sized for a model's context, and where it starts."""

    start: int
    """Offset of the chunk's first character in the document."""
    text: str
    """`document[start:start + len(text)]`."""

    @property
    def end(self) -> int:
        """Offset after the chunk's last character in the document."""
        return self.start + len(self.text)

    @property
    def middle(self) -> int:
        """The document offset of the chunk's middle: the hint to ground its proposals with."""
        return self.start + len(self.text) // 2

    def document_span(self, start: int, end: int) -> tuple[int, int]:
        """The document offsets of the span `start:end` of this chunk's text."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span {start}:{end} is outside the chunk ({len(self.text)} characters)")
        return start + self.start, end + self.start


_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*(?=\s)")
_WORD_START = re.compile(r"(?<=\s)\S")


def split_chunks(document: str, max_chars: int = CHUNK_CHARS, overlap: int = CHUNK_OVERLAP) -> list[Chunk]:
    """Cut a document into chunks of at most `max_chars` that cover it, overlapping by about `overlap`.

    A chunk ends at the last paragraph break (blank line) in its second half, else the last
    sentence end there, else the last whitespace, and mid-word only when there is none. The next
    chunk starts `overlap` characters before that end, moved on to the next word start inside
    the overlap, so a quote cut by one chunk is whole in the next (if shorter than the overlap).
    """
    if max_chars <= 0 or overlap < 0:
        raise ValueError(f"max_chars must be positive and overlap non-negative, not {max_chars} and {overlap}")
    if max_chars <= overlap:
        raise ValueError(f"max_chars ({max_chars}) must be greater than overlap ({overlap})")
    chunks: list[Chunk] = []
    start = 0
    while len(document) - start > max_chars:
        # Cutting past start + overlap guarantees progress; past the middle keeps chunks large.
        end = _cut(document, start + max(overlap + 1, max_chars // 2), start + max_chars)
        chunks.append(Chunk(start, document[start:end]))
        start = end - overlap
        if overlap and (document[start].isspace() or not document[start - 1].isspace()):
            word = _WORD_START.search(document, start, end)
            if word is not None:
                start = word.start()
    chunks.append(Chunk(start, document[start:]))
    return chunks


def _cut(document: str, lo: int, hi: int) -> int:
    """Where to end a chunk: the best break in `document[lo:hi]`, or `hi` when there is none."""
    paragraph = document.rfind("\n\n", lo, hi)
    if paragraph >= 0:
        return paragraph + 2
    sentence = None
    for sentence in _SENTENCE_END.finditer(document, lo, hi):
        pass
    if sentence is not None:
        return sentence.end()
    for at in range(hi - 1, lo - 1, -1):
        if document[at].isspace():
            return at + 1
    return hi
