"""Text helpers and word lists the sections of the rules engine share."""

from __future__ import annotations

import re

from annotator.schemas import Origin

# Masked quoted words in the narrative view: not a letter, digit, space or punctuation any rule
# looks for, so no rule fires inside a quote by accident and offsets stay those of the document.
_FILL = "\u2592"
_AUXILIARIES = frozenset("is are was were has have had will would could can may might must shall should".split())
_FUNCTION_WORDS = frozenset(
    """of to in on at by for from with and or but as than that which who whom whose the a an this these
    those it its their them they he she his her we our us is are was were be been being has have had do
    does did will would could can may might must shall should not no so if then there here when where
    while after before since until into over under about around between through during against among
    without within amid across per says said remains means goes comes makes seems looks according more
    less fewer most up out off""".split()
)
_WORD = re.compile(r"[^\W_][\w’'-]*")


def _alternation(words: list[str]) -> str:
    """A pattern matching any of `words`, factored by shared prefixes.

    Python's `re` tries the branches of `a|b|c` one after another at every position; a prefix tree
    lets it reject most positions on the first letter, which makes the word lists of the rules
    several times cheaper to search for.
    """
    trie: dict[str, dict] = {}
    for word in sorted(set(words)):
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


def _origin() -> Origin:
    """Where every proposal of this engine comes from: one instance, shared (nothing changes it)."""
    global _ORIGIN
    if _ORIGIN is None:
        # The package imports this module before it has its PROMPT, so it is read at first use.
        from annotator.propose.rules import PROMPT

        _ORIGIN = Origin(engine="rules", model=None, prompt=PROMPT)
    return _ORIGIN


_ORIGIN: Origin | None = None


def _strip_span(text: str, start: int, end: int, chars: str) -> tuple[int, int]:
    """Narrow [start, end) past any of `chars` at either edge."""
    piece = text[start:end]
    left = piece.lstrip(chars)
    start += len(piece) - len(left)
    return start, start + len(left.rstrip(chars))


def _end_of_word_before(text: str, offset: int) -> int:
    """The end of the word before the one starting at `offset`."""
    end = offset
    while end > 0 and text[end - 1].isspace():
        end -= 1
    return end
