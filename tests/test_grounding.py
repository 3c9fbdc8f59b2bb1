"""Grounding proposed spans to document offsets, and chunking long documents."""

from __future__ import annotations

import random
import re
import time

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from annotator.chunking import Chunk, split_chunks
from annotator.grounding import (
    CASEFOLDED_SCORE,
    DEFAULT_THRESHOLD,
    ELIDED_SCORE,
    FUZZY_WINDOW,
    NORMALIZED_SCORE,
    DocumentIndex,
    Grounding,
    clean_snippet,
    ground,
    normalize_text,
)

ARTICLE = (
    "IDLIB, Syria \u2014 The main insurgent group has pulled out of Khan Sheikhoun.\n\n"
    "\u201cWe will not leave our homes until the shelling stops,\u201d said Ahmed\u00a0Sheikho, "
    "a teacher who fled with his family.\n\n"
    "Nearly half a million people\u2014most of them women and children\u2014have been forced to flee "
    "since late April\u2026 according to the U.N.\n\n"
    "The government\u2019s offensive, backed by Russian air strikes, began in April.   It has killed "
    "hundreds of civilians, activists say.\n"
)


def span_of(document: str, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """The offsets of the `occurrence`-th `needle` in `document` (test helper)."""
    start = -1
    for _ in range(occurrence + 1):
        start = document.index(needle, start + 1)
    return start, start + len(needle)


def assert_consistent(document: str, grounding: Grounding) -> None:
    """The invariants every grounding keeps, whatever was asked."""
    assert 0.0 <= grounding.score <= 1.0
    if grounding.start is None:
        assert grounding.end is None and grounding.text is None
        assert grounding.method == "none"
        assert not grounding.grounded
    else:
        assert grounding.end is not None
        assert 0 <= grounding.start < grounding.end <= len(document)
        assert grounding.text == document[grounding.start : grounding.end]
        assert not grounding.text[0].isspace() and not grounding.text[-1].isspace()
        assert grounding.method in {"exact", "normalized", "fuzzy"}
        assert grounding.grounded and grounding.score >= grounding.threshold


# --- exact ---------------------------------------------------------------------------------------


def test_exact_snippet_returns_its_offsets() -> None:
    snippet = "pulled out of Khan Sheikhoun"
    result = ground(ARTICLE, snippet)
    assert (result.start, result.end) == span_of(ARTICLE, snippet)
    assert result.text == snippet
    assert result.method == "exact" and result.score == 1.0 and result.grounded


def test_repeated_snippet_takes_the_occurrence_nearest_the_hint() -> None:
    document = "He said yes. Then he said yes. Later they all said yes. The end."
    firsts = [span_of(document, "said yes", n)[0] for n in range(3)]
    assert ground(document, "said yes").start == firsts[0]
    assert ground(document, "said yes", hint=firsts[1] + 2).start == firsts[1]
    assert ground(document, "said yes", hint=firsts[2] - 3).start == firsts[2]
    assert ground(document, "said yes", hint=len(document) + 500).start == firsts[2]
    assert ground(document, "said yes", hint=-40).start == firsts[0]
    # Exactly between two occurrences the earlier one wins.
    middle = (firsts[0] + firsts[1]) // 2
    assert firsts[1] - middle == middle - firsts[0]
    assert ground(document, "said yes", hint=middle).start == firsts[0]


def test_hint_also_picks_among_normalized_occurrences() -> None:
    document = "\u201cNo\u201d, he said. \u201cNo\u201d, she said. \u201cNo\u201d, they said."
    hint = span_of(document, "she")[0]
    result = ground(document, '"No", she', hint=hint)
    assert result.method == "normalized"
    assert result.text == "\u201cNo\u201d, she"
    far = ground(document, '"no",', hint=len(document))
    assert (far.start, far.end) == (span_of(document, "\u201cNo\u201d,", 2))


def test_offsets_count_code_points_past_emoji() -> None:
    document = "\U0001f600\U0001f1fa\U0001f1f3 crowds cheered \U0001f44f as the convoy arrived"
    result = ground(document, "the convoy arrived")
    assert result.method == "exact"
    assert result.start == document.index("the convoy")
    assert document[result.start : result.end] == "the convoy arrived"


# --- normalized ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("snippet", "original"),
    [
        # curly quotes in the document, straight in the snippet
        (
            "\"We will not leave our homes until the shelling stops,\" said Ahmed Sheikho",
            "\u201cWe will not leave our homes until the shelling stops,\u201d said Ahmed\u00a0Sheikho",
        ),
        # apostrophe
        ("The government's offensive", "The government\u2019s offensive"),
        # em dashes written as hyphens, with and without spaces
        ("people-most of them women", "people\u2014most of them women"),
        ("people - most of them women and children - have", "people\u2014most of them women and children\u2014have"),
        ("IDLIB, Syria - The main", "IDLIB, Syria \u2014 The main"),
        # ellipsis written as three dots
        ("since late April... according to", "since late April\u2026 according to"),
        # runs of whitespace, newlines and NBSP collapsed to one space
        ("began in April. It has killed", "began in April.   It has killed"),
        ("Khan Sheikhoun. \u201cWe will", "Khan Sheikhoun.\n\n\u201cWe will"),
        ("said Ahmed Sheikho, a teacher", "said Ahmed\u00a0Sheikho, a teacher"),
        # zero-width characters the snippet picked up
        ("Russian air\u200b strikes", "Russian air strikes"),
    ],
)
def test_normalized_match_covers_the_original_characters(snippet: str, original: str) -> None:
    result = ground(ARTICLE, snippet)
    assert result.method == "normalized"
    assert result.score == NORMALIZED_SCORE
    assert (result.start, result.end) == span_of(ARTICLE, original)
    assert result.text == original == ARTICLE[result.start : result.end]


def test_curly_snippet_matches_straight_document() -> None:
    document = 'He said "it\'s over" - and left...'
    result = ground(document, "He said \u201cit\u2019s over\u201d \u2014 and left\u2026")
    assert result.method == "normalized"
    assert result.text == document


def test_case_difference_scores_below_typographic_difference() -> None:
    result = ground(ARTICLE, "the MAIN insurgent group")
    assert result.method == "normalized"
    assert result.score == CASEFOLDED_SCORE < NORMALIZED_SCORE
    assert result.text == "The main insurgent group"


def test_normalize_text_maps_the_variants_together() -> None:
    assert normalize_text("\u201cA\u201d \u2014 b\u2019s\u2026\u00a0\n C", casefold=False) == '"A"-b\'s... C'
    assert normalize_text("Stra\u00dfe") == normalize_text("STRASSE") == "strasse"


# --- fuzzy ---------------------------------------------------------------------------------------

QUOTE = "We will not leave our homes until the shelling stops,"


def test_dropped_word_grounds_fuzzily_to_the_whole_quote() -> None:
    result = ground(ARTICLE, "We will not leave our homes until shelling stops,")
    assert result.method == "fuzzy"
    assert DEFAULT_THRESHOLD <= result.score < 1.0
    assert (result.start, result.end) == span_of(ARTICLE, QUOTE)


def test_changed_word_grounds_fuzzily() -> None:
    result = ground(ARTICLE, "We will never leave our homes until the shelling stops,")
    assert result.method == "fuzzy"
    assert DEFAULT_THRESHOLD <= result.score < 1.0
    assert result.text == QUOTE


def test_fuzzy_span_does_not_start_or_end_mid_word() -> None:
    result = ground(ARTICLE, "insurgent groups have pulled out of Khan Sheikhoun town")
    assert result.method == "fuzzy"
    start, end = result.start, result.end
    assert start is not None and end is not None
    assert not (ARTICLE[start - 1].isalnum() and ARTICLE[start].isalnum())
    assert not (ARTICLE[end - 1].isalnum() and ARTICLE[end].isalnum())
    assert result.text == "insurgent group has pulled out of Khan Sheikhoun"


def test_word_dropped_before_the_last_word_keeps_the_last_word() -> None:
    result = ground(ARTICLE, "We will not leave our homes until the stops,")
    assert result.method == "fuzzy"
    assert result.text == QUOTE


def test_word_added_at_the_end_does_not_pull_in_what_follows() -> None:
    result = ground(ARTICLE, "insurgent groups have pulled out of Khan Sheikhoun town")
    assert result.method == "fuzzy"
    assert result.text == "insurgent group has pulled out of Khan Sheikhoun"


def test_typo_in_the_last_word_keeps_the_last_word() -> None:
    result = ground(ARTICLE, "has pulled out of Khan Sheikhun")
    assert result.method == "fuzzy"
    assert result.text == "has pulled out of Khan Sheikhoun"


def test_dropped_word_at_the_very_end_of_the_document() -> None:
    # rapidfuzz's window is cut short by the end of the text; the span still reaches the first word.
    document = "Reported by AFP and Associated TV All Ankara Syrian April As Assad Backed"
    result = ground(document, "TV All Ankara April As Assad Backed")
    assert result.method == "fuzzy"
    assert result.text == "TV All Ankara Syrian April As Assad Backed"


def test_long_snippet_with_words_dropped_near_both_ends() -> None:
    words = [f"{w}{n}" for n, w in enumerate(["alpha", "bravo", "charlie", "delta", "echo"] * 60)]
    document = "Intro text here. " + " ".join(words) + " Outro text."
    quote = words[10:150]
    snippet = " ".join(quote[:2] + quote[3:-3] + quote[-2:])
    assert len(snippet) > 1000
    result = ground(document, snippet)
    assert result.method == "fuzzy"
    assert result.text == " ".join(quote)


def test_paraphrase_is_not_grounded() -> None:
    result = ground(ARTICLE, "Sheikho said residents refuse to go anywhere while bombs keep falling")
    assert result.method == "none"
    assert (result.start, result.end, result.text) == (None, None, None)
    assert 0.0 < result.score < DEFAULT_THRESHOLD
    assert not result.grounded


def test_absent_snippet_is_not_grounded() -> None:
    result = ground(ARTICLE, "The central bank raised interest rates by half a point on Tuesday")
    assert result.method == "none" and not result.grounded


def test_threshold_is_the_line_between_fuzzy_and_none() -> None:
    snippet = "We will not leave our homes until shelling stops,"
    lenient = ground(ARTICLE, snippet, threshold=0.5)
    strict = ground(ARTICLE, snippet, threshold=0.99)
    assert lenient.grounded and lenient.method == "fuzzy" and lenient.threshold == 0.5
    assert not strict.grounded and strict.method == "none" and strict.start is None
    assert strict.score == lenient.score
    with pytest.raises(ValueError, match="threshold"):
        ground(ARTICLE, snippet, threshold=1.5)


def test_elided_quote_spans_from_first_to_last_piece() -> None:
    result = ground(ARTICLE, "\u201cWe will not leave \u2026 until the shelling stops\u201d")
    assert result.method == "fuzzy" and result.score == ELIDED_SCORE
    assert result.text == "We will not leave our homes until the shelling stops"


def test_fuzzy_prefers_the_match_near_the_hint_and_falls_back_to_the_whole_document() -> None:
    filler = " ".join(f"filler{n}" for n in range(FUZZY_WINDOW // 4))
    document = f"The minister said the talks had failed completely. {filler} The minister said the talks had failed completely."
    snippet = "The minister said talks had failed completely"
    first = ground(document, snippet)
    late = ground(document, snippet, hint=len(document) - 10)
    assert first.method == late.method == "fuzzy"
    assert first.start == 0
    assert late.start == document.rindex("The minister")
    # Far from the only match, the hint window finds nothing and the whole document is searched.
    lonely = document[: document.index(" The minister said the talks", 10)]
    assert ground(lonely, snippet, hint=len(lonely)).start == 0


# --- snippet cleaning and edge cases -------------------------------------------------------------


@pytest.mark.parametrize(
    "snippet",
    [
        f"\u201c{QUOTE}\u201d",
        f'"{QUOTE}"',
        f"  '{QUOTE}'\n",
        f"\u00ab{QUOTE}\u00bb",
        f'"{QUOTE}',
        f"{QUOTE}\u201d ",
    ],
)
def test_quote_marks_around_the_snippet_are_stripped(snippet: str) -> None:
    result = ground(ARTICLE, snippet)
    assert result.method == "exact"
    assert result.text == QUOTE


def test_inner_quote_marks_keep_the_outer_ones() -> None:
    snippet = '"Yes," he said, "we will."'
    assert clean_snippet(snippet) == snippet
    assert clean_snippet("the workers'") == "the workers'"
    assert clean_snippet(" \u201chello\u201d ") == "hello"


@pytest.mark.parametrize(("document", "snippet"), [(ARTICLE, ""), (ARTICLE, "  \n "), (ARTICLE, "\u201c\u201d"), ("", "x")])
def test_empty_snippet_or_document_is_none(document: str, snippet: str) -> None:
    assert ground(document, snippet) == Grounding(None, None, None, 0.0, "none")


def test_document_index_gives_the_same_answers_as_ground() -> None:
    index = DocumentIndex(ARTICLE)
    for snippet in ["Khan Sheikhoun", "people-most", "We will never leave our homes", "nothing like this at all"]:
        assert index.ground(snippet) == ground(ARTICLE, snippet)


def test_many_snippets_in_a_long_document_are_fast() -> None:
    rng = random.Random(3)
    sentences = [s.strip() for s in re.split(r"(?<=[.,])\s", ARTICLE) if len(s.strip()) > 20]
    words = ARTICLE.split()
    # About 20,000 words in which every sentence is slightly different.
    paragraphs, count = [], 0
    while count < 20_000:
        sentence = [rng.choice(words) if rng.random() < 0.2 else w for w in rng.choice(sentences).split()]
        paragraphs.append(" ".join(sentence))
        count += len(sentence)
    document = "\n\n".join(paragraphs)
    index = DocumentIndex(document)
    starts = [0] + [m.end() for m in re.finditer("\n\n", document)]
    long_ones = [k for k, paragraph in enumerate(paragraphs) if len(paragraph.split()) >= 10]
    snippets = []
    for n in range(500):
        # Dropping a word from a short sentence rightly falls below the threshold, so only long ones.
        k = rng.choice(long_ones) if n % 2 else rng.randrange(len(paragraphs))
        text = paragraphs[k]
        if n % 2:
            text = " ".join(w for position, w in enumerate(text.split()) if position != 3)
        snippets.append((text, starts[k]))
    began = time.perf_counter()
    results = [index.ground(text, hint=at) for text, at in snippets]
    elapsed = time.perf_counter() - began
    assert all(r.grounded for r in results)
    assert sum(r.method == "fuzzy" for r in results) >= 200
    # Measured at about 0.5 s; the bound only catches a quadratic mistake, not a slow machine.
    assert elapsed < 15


# --- properties ----------------------------------------------------------------------------------

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\u00e9\u00df\u4e2d\U0001f600\U0001f1fa\U0001f1f3"
PUNCTUATION = ".,;:!?()"
WHITESPACE = " \n\u00a0\t"
DOUBLES = '"\u201c\u201d\u201e\u00ab\u00bb'
SINGLES = "'\u2018\u2019"
DASH_CHARS = "-\u2010\u2013\u2014\u2212"
ALPHABET = LETTERS * 4 + PUNCTUATION + WHITESPACE * 3 + DOUBLES + SINGLES + DASH_CHARS + "\u2026"


def plain(char: str) -> bool:
    """A character normalisation leaves alone (apart from case)."""
    return char.isalnum() or char in "\U0001f600\U0001f1fa\U0001f1f3"


documents = st.text(alphabet=ALPHABET, min_size=1, max_size=300)


@st.composite
def document_and_slice(draw: st.DrawFn) -> tuple[str, int, int]:
    """A document and a slice of it that starts and ends on a plain character."""
    document = draw(documents)
    positions = [k for k, char in enumerate(document) if plain(char)]
    assume(positions)
    i = draw(st.sampled_from(positions))
    j = draw(st.sampled_from([k + 1 for k in positions if k >= i]))
    return document, i, j


def respell(draw: st.DrawFn, text: str) -> str:
    """`text` with each quote mark, dash, ellipsis and whitespace run swapped for an equivalent."""
    out = []
    for token in re.findall(r"\s+|\.\.\.|.", text, flags=re.DOTALL):
        if token.isspace():
            out.append(draw(st.text(alphabet=WHITESPACE, min_size=1, max_size=3)))
        elif token in ("...", "\u2026"):
            out.append(draw(st.sampled_from(["...", "\u2026"])))
        else:
            for group in (DOUBLES, SINGLES, DASH_CHARS):
                if token in group:
                    out.append(draw(st.sampled_from(group)))
                    break
            else:
                out.append(token)
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(document_and_slice())
def test_any_slice_grounds_exactly_to_itself(case: tuple[str, int, int]) -> None:
    document, i, j = case
    snippet = document[i:j]
    at_hint = ground(document, snippet, hint=i)
    assert at_hint.method == "exact" and at_hint.score == 1.0
    assert (at_hint.start, at_hint.end) == (i, j)
    first = ground(document, snippet)
    assert first.start == document.find(snippet)
    assert first.text == snippet == document[first.start : first.end]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_respelled_slice_grounds_to_the_original_slice(data: st.DataObject) -> None:
    document, i, j = data.draw(document_and_slice())
    original = document[i:j]
    variant = respell(data.draw, original)
    result = ground(document, variant, hint=i)
    assert_consistent(document, result)
    if variant in document:
        assert result.method == "exact" and result.text == variant
    else:
        assert result.method == "normalized"
        assert (result.start, result.end) == (i, j)
        assert result.text == original


@settings(max_examples=300, deadline=None)
@given(documents, st.text(alphabet=ALPHABET, max_size=60), st.none() | st.integers(-10, 400))
def test_any_snippet_gives_a_consistent_grounding(document: str, snippet: str, hint: int | None) -> None:
    assert_consistent(document, ground(document, snippet, hint=hint))


@settings(max_examples=200, deadline=None)
@given(document_and_slice(), st.integers(0, 2))
def test_a_slice_with_a_word_dropped_never_breaks_the_invariants(case: tuple[str, int, int], which: int) -> None:
    document, i, j = case
    words = document[i:j].split(" ")
    if len(words) > 2:
        del words[which % len(words)]
    assert_consistent(document, ground(document, " ".join(words), hint=i, threshold=0.5))


VOCABULARY = sorted(set(re.findall(r"[A-Za-z]{2,}", ARTICLE)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(VOCABULARY), min_size=12, max_size=60, unique=True), st.data())
def test_a_phrase_with_an_inner_word_dropped_grounds_to_the_whole_phrase(words: list[str], data: st.DataObject) -> None:
    document = " ".join(words)
    i = data.draw(st.integers(0, len(words) - 8))
    j = data.draw(st.integers(i + 8, min(len(words), i + 30)))
    k = data.draw(st.integers(i + 2, j - 3))
    start = len(" ".join(words[:i])) + (1 if i else 0)
    result = ground(document, " ".join(words[i:k] + words[k + 1 : j]), hint=start)
    assert_consistent(document, result)
    # A long word dropped from a short phrase may rightly fall below the threshold; found, it is whole.
    if result.grounded:
        assert result.method == "fuzzy"
        assert (result.start, result.text) == (start, " ".join(words[i:j]))


# --- chunking ------------------------------------------------------------------------------------

chunk_documents = st.text(alphabet=LETTERS * 3 + " \n.!?\u201d", max_size=600)


@st.composite
def chunk_sizes(draw: st.DrawFn) -> tuple[int, int]:
    """A `max_chars` and an `overlap` smaller than it."""
    max_chars = draw(st.integers(2, 200))
    return max_chars, draw(st.integers(0, max_chars - 1))


def word_start(document: str, k: int) -> bool:
    return not document[k].isspace() and (k == 0 or document[k - 1].isspace())


@settings(max_examples=400, deadline=None)
@given(chunk_documents, chunk_sizes())
def test_chunks_cover_the_document_and_overlap_as_promised(document: str, sizes: tuple[int, int]) -> None:
    max_chars, overlap = sizes
    chunks = split_chunks(document, max_chars=max_chars, overlap=overlap)
    assert chunks[0].start == 0 and chunks[-1].end == len(document)
    for chunk in chunks:
        assert chunk.text == document[chunk.start : chunk.end]
        assert len(chunk.text) <= max_chars
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.text
        assert before.end - overlap <= after.start < before.end or (overlap == 0 and after.start == before.end)
        assert after.start > before.start
        if overlap and any(word_start(document, k) for k in range(before.end - overlap, before.end)):
            assert word_start(document, after.start), "the overlap starts mid-word although a word starts inside it"
        # The cut: after a blank line when one is in reach, otherwise never mid-word when avoidable.
        lo, hi = before.start + max(overlap + 1, max_chars // 2), before.start + max_chars
        if "\n\n" in document[lo:hi]:
            assert before.text.endswith("\n\n")
        elif any(char.isspace() for char in document[lo:hi]):
            assert document[before.end - 1].isspace() or document[before.end].isspace()


@settings(max_examples=200, deadline=None)
@given(chunk_documents, chunk_sizes(), st.data())
def test_a_span_inside_a_chunk_maps_back_to_the_document(document: str, sizes: tuple[int, int], data: st.DataObject) -> None:
    chunks = split_chunks(document, *sizes)
    chunk = data.draw(st.sampled_from(chunks))
    i = data.draw(st.integers(0, len(chunk.text)))
    j = data.draw(st.integers(i, len(chunk.text)))
    start, end = chunk.document_span(i, j)
    assert document[start:end] == chunk.text[i:j]
    assert (start, end) == (chunk.start + i, chunk.start + j)


@given(st.text(alphabet=ALPHABET, max_size=100), st.integers(100, 500))
def test_a_short_document_is_one_chunk(document: str, max_chars: int) -> None:
    assert split_chunks(document, max_chars=max_chars, overlap=10) == [Chunk(0, document)]


def test_chunks_cut_at_paragraphs_then_sentences() -> None:
    paragraph = "One sentence here. Another one there. " * 3
    document = "\n\n".join([paragraph.strip()] * 6)
    chunks = split_chunks(document, max_chars=300, overlap=60)
    assert len(chunks) > 2
    assert all(chunk.text.endswith("\n\n") for chunk in chunks[:-1])
    no_paragraphs = document.replace("\n\n", " ")
    for chunk in split_chunks(no_paragraphs, max_chars=300, overlap=60)[:-1]:
        assert chunk.text.endswith(".")


def test_chunk_size_must_exceed_overlap() -> None:
    with pytest.raises(ValueError, match="greater than overlap"):
        split_chunks("text", max_chars=100, overlap=100)
    with pytest.raises(ValueError):
        split_chunks("text", max_chars=0, overlap=0)
    with pytest.raises(ValueError, match="outside the chunk"):
        Chunk(5, "abc").document_span(1, 4)


def test_a_quote_cut_by_one_chunk_is_whole_in_the_next() -> None:
    words = [f"word{n}" for n in range(3000)]
    document = " ".join(words)
    quote = " ".join(words[1200:1230])
    chunks = split_chunks(document, max_chars=2000, overlap=400)
    whole = [chunk for chunk in chunks if quote in chunk.text]
    assert whole
    chunk = whole[0]
    index = DocumentIndex(document)
    result = index.ground(quote, hint=chunk.middle)
    assert (result.start, result.end) == chunk.document_span(chunk.text.index(quote), chunk.text.index(quote) + len(quote))
