"""The `rules` engine on long documents: the same proposals, field for field and in the same order,
as the engine gave before it was made linear in document length.

The documents and the proposals expected for them are stored under `fixtures/rules_long/`, both
written by the engine as it was before that change (`python tests/test_rules_long.py --write`
rewrites them with the current engine; do that only when a rule's output changes on purpose):

* `long`: about 300 KB of news, many articles in one document (`bench/rules_long.py`: seed copies
  with other names swapped in and generated articles), then every passage of the other rules tests;
* `passages`: those passages alone, one after another;
* `crlf`: 40 KB of the articles with Windows line ends;
* `one_line`: 40 KB of the articles as one line (one paragraph);
* `dotted_i`: 20 KB of the articles with "İstanbul", whose lower-case form is longer.

The `origin` of a proposal is left out of the comparison: its prompt is a hash of the rules' source.
"""

from __future__ import annotations

import ast
import gzip
import importlib.util
import json
import re
import sys
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.propose.rules import RulesEngine
from annotator.propose.rules.analysis import _Analysis

FIXTURES = Path(__file__).parent / "fixtures" / "rules_long"
DOCUMENTS = FIXTURES / "documents.json.gz"
EXPECTED = FIXTURES / "proposals.json.gz"


def _read(path: Path) -> dict:
    """A gzipped JSON fixture."""
    return json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))


@cache
def documents() -> dict[str, str]:
    """The stored documents, by name."""
    return _read(DOCUMENTS)


@cache
def expected() -> dict[str, list[dict]]:
    """The stored proposals, by document name."""
    return _read(EXPECTED)


def proposed(text: str) -> list[dict]:
    """The engine's proposals for `text` as JSON objects, without their origin."""
    return [annotation.model_dump(mode="json", exclude={"origin"}) for annotation in RulesEngine().propose(text)]


def test_the_long_document_is_long_and_many_articles() -> None:
    long = documents()["long"]
    assert len(long.encode("utf-8")) > 250_000
    assert long.count("\n\n") > 2_000
    assert len(expected()["long"]) > 2_000


@pytest.mark.parametrize("name", ["long", "passages", "crlf", "one_line", "dotted_i"])
def test_proposals_are_unchanged(name: str) -> None:
    text = documents()[name]
    got = proposed(text)
    want = expected()[name]
    for index, (mine, theirs) in enumerate(zip(got, want, strict=False)):
        assert mine == theirs, f"proposal {index} of {name!r} differs"
    assert len(got) == len(want)


def test_every_proposal_comes_from_the_rules() -> None:
    text = documents()["passages"]
    assert {(a.origin.engine, a.origin.model) for a in RulesEngine().propose(text)} == {("rules", None)}


# -- the indexes against the scans they replace -----------------------------------------------------

# Words and what follows them, to stress the full-name index: words that overlap themselves ("ABA"),
# dotted titles ("Rev." is no title to the clean-up, so it stays a word of the name), prefixes and
# hyphens, apostrophes, "of the", sentence and line ends.
NAME_WORDS = st.sampled_from(
    ["ABA", "ABABA", "CDC", "Rev", "Rev.", "Capt.", "Dr.", "Jane", "Janet", "Smith", "Bashar", "al-Assad", "Assad",
     "al", "Abu-Bakr", "Bakr", "Hay’et", "Tahrir-Sham", "Sham", "Bank", "of the", "said", "Ölçer", "i"]
)
NAME_TEXT = st.lists(st.tuples(NAME_WORDS, st.sampled_from([" ", " ", " ", ". ", ", ", "\n", "-", "’s "])), max_size=30)
# Pieces of text that stress the word look-up of `_sentence_case`.
WORD_PIECES = st.sampled_from(["opposition", "Opposition", "-", "_", " ", ".", "’", "officials", "s", "\n", "é"])


def _scanned_full_names(analysis: _Analysis, key: str) -> list[int]:
    """The starts of the full names with `key`, found as the engine once did: by scanning the
    narrative for the key and taking the name at each place it stands."""
    starts: list[int] = []
    position = analysis.narrative.find(key)
    while position >= 0:
        candidate = analysis._mention_at(position)
        if candidate is not None and len(candidate.keys) >= 2 and key in candidate.keys:
            if not starts or starts[-1] != candidate.start:
                starts.append(candidate.start)
        position = analysis.narrative.find(key, position + len(key))
    return starts


@settings(max_examples=300, deadline=None)
@given(NAME_TEXT.map(lambda pairs: "".join(word + after for word, after in pairs)))
def test_full_names_are_those_a_scan_of_the_text_finds(text: str) -> None:
    analysis = _Analysis(text)
    keys = {key for index in range(len(analysis.name_spans)) if (m := analysis._mention(index)) for key in m.keys}
    for key in sorted(keys | {"ABA", "Rev.", "Capt.", "Assad", "Bakr", "Sham", "Hay’et"}):
        assert analysis._full_names_with(key)[0] == _scanned_full_names(analysis, key), key


@settings(max_examples=300, deadline=None)
@given(st.lists(WORD_PIECES, max_size=30).map("".join), st.lists(WORD_PIECES, min_size=1, max_size=4).map("".join))
def test_a_word_is_written_where_the_pattern_finds_it(text: str, word: str) -> None:
    analysis = _Analysis(text or " ")
    pattern = rf"(?<![\w-]){re.escape(word)}(?![\w-])"
    assert analysis._written_as_word(word) == (re.search(pattern, analysis.text) is not None)


# -- writing the fixtures -------------------------------------------------------------------------


def _bench_articles(megabytes: float) -> list[str]:
    """The articles `bench/rules_long.py` builds (loaded by path: `bench` is no package)."""
    path = Path(__file__).resolve().parent.parent / "bench" / "rules_long.py"
    spec = importlib.util.spec_from_file_location("rules_long_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.articles(megabytes)


def _passages() -> list[str]:
    """The passages of the other rules tests: every string constant of a few lines of prose."""
    found: list[str] = []
    for path in sorted(Path(__file__).parent.glob("test_rules_*.py")):
        if path.name == Path(__file__).name:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                value = node.value
                if len(value) >= 25 and " " in value and not value.lstrip().startswith(("The `rules`", "`")):
                    found.append(value)
    return list(dict.fromkeys(found))


def _write() -> None:
    """Write the documents and the current engine's proposals for them."""
    articles = _bench_articles(0.3)
    passages = "\n\n".join(_passages())
    few = "\n\n".join(articles[:60])
    docs = {
        "long": "\n\n".join(articles) + "\n\n" + passages,
        "passages": passages,
        "crlf": few[:40_000].replace("\n", "\r\n"),
        "one_line": " ".join(few[:40_000].split("\n")),
        "dotted_i": few[:20_000].replace("Aleppo", "İstanbul"),
    }
    FIXTURES.mkdir(parents=True, exist_ok=True)
    DOCUMENTS.write_bytes(gzip.compress(json.dumps(docs, ensure_ascii=False).encode("utf-8"), 9, mtime=0))
    proposals = {name: proposed(text) for name, text in docs.items()}
    EXPECTED.write_bytes(gzip.compress(json.dumps(proposals, ensure_ascii=False).encode("utf-8"), 9, mtime=0))


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python tests/test_rules_long.py --write")
    _write()
