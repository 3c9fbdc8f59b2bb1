"""Quotes: quote marks paired per paragraph, the narrative view with quoted words masked, and the
direct, indirect and mixed quotes of the package docstring."""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from annotator.lexicon import ATTRIBUTION_VERBS
from annotator.propose.rules.speakers import (
    _BRACKET_OR_COMMA,
    _LEADING_DISCOURSE,
    _Speaker,
    _Speakers,
)
from annotator.propose.rules.text import _FILL, _FUNCTION_WORDS, _WORD, _alternation, _strip_span

# A reporting verb right after one of these is an adjective or a passive ("a reported attack",
# "was told"), not a report.
_CUE_BLOCKERS = frozenset(
    """a an the of by for with to in on at from his her its their this that these those widely was were
    is are be been being as not never""".split()
)
_QUOTE_MARK = re.compile(r"[“”„«»\"‘’'`]")
# Doubled single marks stand for one double mark in some archives and wires: ''…'', ‘‘…’’, ``…''.
_PAIR_OPENERS = frozenset("'‘`")
_PAIR_CLOSERS = frozenset("'’")
# Words before a quote mark that make the quoted words a name or a scare quote, not speech.
_NAMING_WORDS = frozenset(
    """nicknamed dubbed titled entitled so-called self-styled self-described self-proclaimed codenamed
    code-named hashtag slogan motto catchphrase quote-unquote""".split()
)
_NAMING_PAIRS = frozenset(("known as", "billed as", "branded as", "marketed as", "styled as"))
# Nouns whose title may follow after a comma or colon: `her new series, “The Long Road Back”`.
_WORK_NOUNS = frozenset(
    """book books novel memoir series show programme program podcast film movie documentary album song
    single play musical column report study paper article essay poem headline episode""".split()
)
# Words a title leaves in lower case: "Of Mice and Men", "the Trailblazers".
_TITLE_SMALL_WORDS = frozenset("a an and as at but by for from in into nor of on or per the to vs with".split())
# Before a quoted title after a reporting verb: `said on “Morning Talk Live”`, `told “Fox News Sunday”`.
_TITLE_LEAD = re.compile(r"\s*(?:(?:on|in|to|at|with)\s+)?")
# Between adjacent quoted parts of one statement: spaces, punctuation and at most one conjunction.
_ADJACENT_GAP = re.compile(r"[\s,;…]*(?:(?:and|or|but)\s+)?")
_SINGLE_CLOSER = re.compile(r"(?<=\S)[’'](?![^\W_])")
# A sentence ends at . ? or ! before a capital or an opening quote mark (whose words are masked).
_SENTENCE_END = re.compile(r"[.?!]+[”’\"')\]]*(?=\s+(?:[“‘\"'(\[]?[A-Z0-9\u00C0-\u00DE]|[“‘\"]))")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st gen col lt sgt capt gov sen rep jr sr no vs etc inc ltd co corp jan feb mar apr "
    "jun jul aug sep sept oct nov dec approx fig".split()
)

# What may follow a reporting verb before the quote it introduces: `said in a statement:`.
_BEFORE_TAIL = re.compile(rf"(?P<ext>[^“”\"‘{_FILL}:,]{{0,60}}?)\s*(?P<punct>[:,])?\s*")
# "went on to", "paused to", "was quick to" before an infinitive reporting verb.
_INFINITIVE_LEAD = re.compile(r"\s+[a-z]+(?:\s+(?:on|up))?\s+to\s*$")
# What cannot stand between a quote and its attribution's verb.
_LEAD_STOP = re.compile(rf"[;:!?“”\"{_FILL}]")
_PHRASE_END = re.compile(rf"[,.;:!?“”\"{_FILL}]")
_CUE_VERBS = frozenset(
    """said says told tells added adds stated states announced announces reported reports noted notes
    explained explains warned warns insisted insists argued argues claimed claims confirmed confirms
    denied denies acknowledged acknowledges admitted admits alleged alleges asserted declared stressed
    wrote writes tweeted estimated estimates""".split()
)
# Bare present forms report speech only before "that" ("activists note that …").
_BARE_CUES = frozenset("say note report claim warn insist argue estimate believe believes believed tell add".split())
_HEADLINE_CUES = frozenset("Says Said Warns Tells Claims Urges".split())
# Verbs that attribute a quotation next to them but do not report speech on their own.
_QUOTING_VERBS = ATTRIBUTION_VERBS | frozenset(
    "asked asks continued replied responded recalled conceded shouted recounted posted quoted".split()
)
# A reporting word at a known place (the verb after "and" in "… and said that …").
_CUE = re.compile(r"\b(?:" + _alternation([*_CUE_VERBS, *_BARE_CUES, *_QUOTING_VERBS, "described"]) + r")\b")
_AS_SAYING = re.compile(r"\s+as\s+saying\b")
# Verbs that report speech only with a clause ("added that …") or a colon, not with an object.
_CLAUSE_ONLY_CUES = frozenset("added adds wrote writes tweeted".split())
_TO = re.compile(r"\s+to\b")
_AS = re.compile(r"\s+as\s")
_THAT_AHEAD = re.compile(r"\s+that\b")
_THAT_WORD = re.compile(r"\bthat\b")
# Where a bare present verb reports without "that": "Analysts say the merger will …", "…, sources
# tell me."
_CLAUSE_AHEAD = re.compile(
    r"\s+(?!(?:so|no|yes|nothing|something|anything|much|more|what|how|why|whether|when|where|who|which|"
    r"goodbye|hello|sorry|thanks|thank|otherwise|little|less|about|in|on|to|for|with|of|at|by|a\s+few|"
    r"grace|prayers|hi|farewell|please|cheese)\b)[a-zA-Z0-9]"
)
_CLAUSE_END_AHEAD = re.compile(r"(?:\s+(?:me|us|him|her|them|reporters|journalists))?\s*[.,;]")
_MODALS = frozenset(
    "would will could can may might must should shall do does did don’t didn’t don't didn't won’t won't "
    "wouldn’t wouldn't cannot can’t can't let".split()
)
_WHETHER = re.compile(r"\b(?:whether|if|why|how|when|what|who)\b")
# The first finite verb of a sentence, whose subject a later reporting verb shares.
_FINITE_VERB = re.compile(
    r"(?<=\s)(?:[a-z]+ed|has|have|had|was|were|is|are|will|would|met|spoke|went|made|took|gave|wrote|sent|"
    r"sought|won|lost|led|held|kept|left|brought|built|bought|paid|put|set|cut|hit|ran|saw|began|became|"
    r"came|told|said|declined|refused)\b"
)
# An -ed word after one of these is an adjective ("a retired teacher"), not the sentence's verb.
_NOT_BEFORE_VERB = frozenset("a an the his her its their our my this that these those".split())
_QUOTE_AHEAD = re.compile(r"\s*[,:]\s*[“\"‘']")
_COORDINATED_CUE = re.compile(
    r"\s+and\s+(?:also\s+)?(?=(?:said|told|added|described|warned|noted|stressed|insisted|claimed|"
    r"denied|confirmed|announced|argued|explained|stated)\b)"
)
_DATELINE = re.compile(
    r"[A-Z][A-Z.'’-]+(?: [A-Z][A-Z.'’-]+)*(?:, [A-Z][\w.'’ -]{1,30}?)?(?: \([^)\n]{1,30}\))? ?[—–-]{1,2} "
)
# Words between a subject and its reporting verb: "activists have also said".
_SUBJECT_TAIL_WORDS = frozenset(
    "has have had also later earlier then again previously reportedly repeatedly would will was is".split()
)
_STATEMENT_EXTENSION = re.compile(
    r"\s+(?:in|on|via|through)\s+(?:a|an|the|its|his|her|their)\s+(?:(?:written|joint|televised|brief|"
    r"short|separate|online|video|recorded)\s+)?(?:statement|interview|tweet|post|video|speech|address|"
    r"briefing|news\s+conference|press\s+conference|message|letter)\b|"
    r"\s+on\s+(?:Twitter|Facebook|Telegram|X|Instagram|social\s+media|television|state\s+TV)\b"
)
_TIME_ADJUNCT = re.compile(
    r"\s+(?:(?:late|early)\s+)?(?:on|last|this|earlier|later)\s+(?:Monday|Tuesday|Wednesday|Thursday|"
    r"Friday|Saturday|Sunday|week|month|year|night|morning|evening|weekend)\b|"
    r"\s+(?:on\s+)?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|"
    r"\s+(?:yesterday|today|tonight|earlier|later|previously|separately|afterwards|also)\b"
)
_AUDIENCE_WORD = re.compile(
    r"\s+(?:reporters|journalists|me|us|him|her|them|lawmakers|parliament|supporters|residents|"
    r"officials|the\s+(?:[\w’'-]+\s+){0,3}?(?:agency|channel|newspaper|broadcaster|television|radio|"
    r"outlet|station|conference|briefing|crowd|audience|committee|meeting|gathering|press|BBC|AFP|AP)|"
    r"an?\s+(?:[\w’'-]+\s+){0,2}?(?:conference|briefing|crowd|audience|meeting|gathering|rally))\b"
)
_THAT = re.compile(r"\s*(?:that\s+)?")
_CONTENT_CUT = re.compile(r",\s+(?:without|adding|citing|according\s+to)\b")
_ADDING = re.compile(r",\s+(?P<cue>adding)\s+(?:that\s+)?")


@dataclass(slots=True)
class _Segment:
    """A stretch of directly quoted words inside one paragraph."""

    open: int  # offset of the opening mark
    close: int  # offset of the closing mark, or the paragraph end for a quote that runs on
    start: int  # first spoken character
    end: int  # one past the last spoken character
    closed: bool
    paragraph: int
    chain: int  # the parts of one quote running over paragraphs share a chain
    used: bool = False
    paired: bool = False  # opened (and closed) by a doubled mark: ''…'', ‘‘…’’, ``…''
    title: bool = False  # a title, name, nickname or marked scare quote: never a quote
    embedded: bool = False  # a fragment inside the narrator's clause that no attribution claimed


@dataclass(slots=True, frozen=True)
class _Cue:
    """A reporting word in the narrative and what kind of report it starts."""

    start: int
    end: int
    word: str  # as written; "according to" and "quoted as saying" for those phrases
    kind: str  # "verb", "according", "described" or "quoting" (attributes a quote, reports nothing)


@dataclass(slots=True)
class _QuoteDraft:
    """A quote found, before it becomes a `Quote`."""

    start: int
    end: int
    speaker: _Speaker | None
    cue: str | None
    quote_type: str
    paragraph: int
    chain: int | None = None


class _Quotes(_Speakers):
    """The rules for quotes: quote marks paired into segments, the narrative view, direct, indirect and mixed quotes.

    Mixed into `_Analysis`, whose views (text, narrative, paragraphs, segments, cues) they read.
    """

    # -- quote marks ----------------------------------------------------------------------------

    def _scan_quotes(self) -> list[_Segment]:
        """Pair the quote marks of each paragraph into segments of quoted words."""
        text = self.text
        segments: list[_Segment] = []
        chain = 0
        carried: int | None = None  # chain of a quote left open at the end of the previous paragraph
        marks = [match.start() for match in _QUOTE_MARK.finditer(text)]
        closers = _SingleClosers(text)
        next_mark = 0
        for index, (p_start, p_end) in enumerate(self.paragraphs):
            continuing, carried = carried, None
            while next_mark < len(marks) and marks[next_mark] < p_start:
                next_mark += 1
            if next_mark >= len(marks) or marks[next_mark] >= p_end:
                continue  # no quote marks in this paragraph
            first_content = p_start + (len(text[p_start:p_end]) - len(text[p_start:p_end].lstrip()))
            state: str | None = None
            open_at = -1
            opened: list[tuple[int, int, bool]] = []  # (open, close, closed)
            while next_mark < len(marks) and marks[next_mark] < p_end:
                pos = marks[next_mark]
                next_mark += 1
                mark = text[pos]
                if mark in _PAIR_OPENERS or mark in _PAIR_CLOSERS:
                    if pos + 1 < p_end and text[pos + 1] == mark:
                        # A doubled mark is one double mark; inside another quote it is nested and skipped.
                        next_mark += 1
                        before = text[pos - 1] if pos > p_start else " "
                        after = text[pos + 2] if pos + 2 < p_end else " "
                        if state is None and mark in _PAIR_OPENERS and _can_open(before, after):
                            state, open_at = "pair", pos
                        elif state == "pair" and mark in _PAIR_CLOSERS and _can_close(before, after):
                            opened.append((open_at, pos, True))
                            state = None
                        continue
                    if mark == "`" or state == "pair":
                        continue  # a lone backtick, or an apostrophe inside ''…''
                if mark == "’" and state != "single":
                    continue  # an apostrophe ("Syria’s"), or a nested quote's mark inside a double quote
                before = text[pos - 1] if pos > p_start else " "
                after = text[pos + 1] if pos + 1 < p_end else " "
                if state is None:
                    if mark in "“„«" or (mark == '"' and _can_open(before, after)):
                        state, open_at = "double", pos
                    elif mark in "‘'" and _can_open(before, after) and closers.any_in(pos + 2, p_end):
                        state, open_at = "single", pos
                elif state == "double":
                    if mark in "”»" or (mark == '"' and _can_close(before, after)):
                        opened.append((open_at, pos, True))
                        state = None
                    elif mark in "“„«":
                        # A new quote opened before the last one closed: end the broken one here.
                        opened.append((open_at, pos, False))
                        open_at = pos
                elif mark in "’'" and _can_close(before, after) and not _possessive_plural(text, pos, p_end, closers):
                    opened.append((open_at, pos, True))
                    state = None
            if state in ("double", "pair"):
                opened.append((open_at, p_end, False))
            for k, (open_pos, close_pos, closed) in enumerate(opened):
                paired = text[open_pos] in _PAIR_OPENERS and text[open_pos + 1 : open_pos + 2] == text[open_pos]
                start, end = _trim_quoted(text, open_pos + (2 if paired else 1), close_pos)
                if k == 0 and continuing is not None and open_pos == first_content:
                    seg_chain = continuing
                else:
                    chain += 1
                    seg_chain = chain
                if not closed and close_pos == p_end:
                    carried = seg_chain
                if end > start:
                    seg = _Segment(open_pos, close_pos, start, end, closed, index, seg_chain, paired=paired)
                    seg.title = _name_like(text, seg, p_start)
                    segments.append(seg)
            if carried is not None:
                # The open quote carries on only if the next paragraph re-opens it.
                nxt = index + 1
                if nxt < len(self.paragraphs):
                    n_start, n_end = self.paragraphs[nxt]
                    first = text[n_start:n_end].lstrip()[:2]
                    if first[:1] not in ("“", '"', "„", "«") and first not in ("''", "‘‘", "``"):
                        carried = None
        return segments

    def _mask(self) -> str:
        """The document with quoted words blanked out: what the narrator says, at the same offsets."""
        text = self.text
        pieces: list[str] = []
        last = 0
        for seg in self.segments:
            begin = seg.open + (2 if seg.paired else 1)
            stop = seg.close
            # Keep the quote's own closing punctuation: it tells whether attribution follows.
            keep = stop
            while keep > begin and text[keep - 1] in ",.?!":
                keep -= 1
            if begin < last:
                continue
            pieces.append(text[last:begin])
            pieces.append(_FILL * (keep - begin))
            if (
                text[keep:stop] == ","
                and seg.closed
                and (seg.title or _embedded(text, self.paragraphs[seg.paragraph][0], seg.open))
            ):
                # `author of “Lost Ground,” said`, `called it “a slap in the face,” Cole said`: the comma
                # of a title or a fragment is the narrator's; the view shows it after the closing mark,
                # where the rules that split a sentence at commas look.
                width = 2 if seg.paired else 1
                pieces.append(text[stop : stop + width] + ",")
                last = stop + width
                continue
            pieces.append(text[keep:stop])
            last = stop
            if seg.paired and seg.closed:
                # ,'' said X: the second closing mark reads as a space, so the rules that look right
                # after a closing mark find the attribution there as after a double mark.
                pieces.append(text[stop] + " ")
                last = stop + 2
        pieces.append(text[last:])
        return "".join(pieces)

    # -- quotes ---------------------------------------------------------------------------------

    def _find_quotes(self) -> None:
        """Direct, indirect and mixed quotes, sentence by sentence in document order."""
        segments = self.segments
        seg_index = 0
        chains: dict[int, list[_Segment]] = {}
        for seg in segments:
            chains.setdefault(seg.chain, []).append(seg)
        deferred: list[_Segment] = []
        cue_starts = self.cue_starts
        for p_index, (p_start, p_end) in enumerate(self.paragraphs):
            has_segment = seg_index < len(segments) and segments[seg_index].open < p_end
            cue_index = bisect_left(cue_starts, p_start)
            if not has_segment and (cue_index >= len(cue_starts) or cue_starts[cue_index] >= p_end):
                continue  # nothing quoted and nothing reported: no need to split the sentences
            for s_start, s_end in self._sentences(p_start, p_end):
                sentence_segments = []
                while seg_index < len(segments) and segments[seg_index].open < s_end:
                    seg = segments[seg_index]
                    if seg.title:
                        seg.used = True  # a title or nickname is part of the narrator's words, not a quote
                    elif seg.open >= s_start:
                        sentence_segments.append(seg)
                    seg_index += 1
                attributed = self._direct_quotes(s_start, s_end, sentence_segments, p_index)
                if not attributed:
                    self._indirect_quotes(s_start, s_end, p_index)
                for seg in sentence_segments:
                    if seg.used or (seg.embedded and len(chains[seg.chain]) == 1):
                        continue  # an embedded fragment no reported clause took is a scare quote
                    if len(chains[seg.chain]) > 1:
                        deferred.append(seg)
                    else:
                        self._unattributed(seg, p_index)
        # A quote running over paragraphs takes the attribution any of its parts found.
        attributed_chains: dict[int, _QuoteDraft] = {}
        for quote in self.quotes:
            if quote.chain is not None and quote.speaker is not None:
                attributed_chains.setdefault(quote.chain, quote)
        for seg in deferred:
            chain = chains[seg.chain]
            source = attributed_chains.get(seg.chain)
            if source is not None:
                self._add_quote(
                    seg.start, seg.end, source.speaker, source.cue, "direct", seg.paragraph, seg.chain, log=False
                )
            elif seg is chain[0] or all(not s.used for s in chain):
                self._unattributed(seg, seg.paragraph)

    def _sentences(self, p_start: int, p_end: int) -> list[tuple[int, int]]:
        """Sentence spans of one paragraph, split in the narrative so quotes never split."""
        narrative = self.narrative
        sentences = []
        start = p_start
        for match in _SENTENCE_END.finditer(narrative, p_start, p_end):
            if narrative[match.start()] == ".":
                word = _LAST_WORD.search(narrative, max(p_start, match.start() - 12), match.start())
                if word is not None:
                    token = word.group(1)
                    if token.lower() in _ABBREVIATIONS or "." in token or (len(token) == 1 and token.isupper()):
                        continue
            elif narrative[match.end() - 1] in "”’\"'" and self._attribution_follows(match.end(), p_end):
                continue  # "“Why was it idle?” Lewis said.": the attribution is part of the quote's sentence
            sentences.append((start, match.end()))
            start = match.end()
            while start < p_end and narrative[start].isspace():
                start += 1
        if start < p_end:
            sentences.append((start, p_end))
        return sentences

    def _attribution_follows(self, position: int, p_end: int) -> bool:
        """Whether a reporting verb follows a quote ending in ? or ! after at most a short name
        (`“…?” Lewis said.`, `“…!” Sen. Mark Lewis shouted`)."""
        index = bisect_left(self.cue_starts, position)
        if index >= len(self.cues) or self.cues[index].start >= min(p_end, position + 60):
            return False
        cue = self.cues[index]
        lead = self.narrative[position : cue.start]
        words = lead.split()
        return (
            cue.kind in ("verb", "quoting")
            and len(words) <= 5
            and not _LEAD_STOP.search(lead)
            and all(not word.endswith(".") or word[:-1].lower() in _ABBREVIATIONS for word in words)
        )

    def _direct_quotes(self, s_start: int, s_end: int, segs: list[_Segment], p_index: int) -> bool:
        """Attribute the quotes of one sentence from the words right after or before them."""
        if not segs:
            return False
        text = self.text
        narrative = self.narrative
        attributed = False
        last_attribution_end = None
        groups = _adjacent_groups(narrative, segs)
        for k, group in enumerate(groups):
            # Adjacent parts (`“A” and “B,” she said`) are one statement: attributed and proposed as one.
            seg, last = group[0], group[-1]
            region_end = groups[k + 1][0].open if k + 1 < len(groups) else s_end
            boundary = groups[k - 1][-1].close + 1 if k else s_start
            # A fragment inside the narrator's clause (`Ohio had become a “must-win state” for …`) has no
            # attribution of its own after it: the words there belong to the clause.
            embedded = _embedded(narrative, boundary, seg.open)
            attribution = None
            soft_end = False
            if last.closed and not embedded:
                last_char = text[last.close - 1] if last.close > last.open + 1 else ""
                soft_end = last_char in ",?!—–-"
                next_text = narrative[last.close + 1 : region_end].lstrip()
                if soft_end or (next_text[:1].islower()):
                    attribution = self._attribution_after(last.close + 1, region_end)
            if attribution is None:
                attribution = self._attribution_before(boundary, seg.open, seg)
                if attribution is None and not k:
                    attribution = self._colon_attribution(boundary, seg.open)
            if attribution is None:
                for part in group:
                    part.embedded = embedded or part is not seg
                continue
            speaker, cue, attribution_end = attribution
            for part in group:
                part.used = True
            attributed = True
            chain = seg.chain if last.closed else last.chain
            self._add_quote(seg.start, last.end, speaker, cue, "direct", p_index, chain)
            last_attribution_end = max(last_attribution_end or 0, attribution_end)
        if attributed and last_attribution_end is not None:
            self._adding(last_attribution_end, self._body_end(s_start, s_end), self.quotes[-1].speaker, p_index)
        return attributed

    def _attribution_after(self, start: int, end: int) -> tuple[_Speaker, str, int] | None:
        """`“…,” X said` / `“…,” said X` / `“…,” according to X` right after a quote."""
        narrative = self.narrative
        index = bisect_left(self.cue_starts, start)
        if index >= len(self.cues) or self.cues[index].start >= end:
            return None
        cue = self.cues[index]
        lead = narrative[start : cue.start]
        if cue.kind == "described":
            return None
        if not lead.strip(" \t,"):
            # "“…,” said Mr Assad" and "“…,” according to the ministry": the speaker follows the cue.
            np_end = _phrase_end(narrative, cue.end, end)
            if len(narrative[cue.end : np_end].split()) > 8:
                return None
            speaker = self._speaker_from_phrase(cue.end, np_end)
            if speaker is None or (cue.kind != "according" and not speaker.named):
                return None
            return speaker, cue.word, np_end
        if cue.kind == "according" or len(lead) > 160 or lead.count(",") > 3:
            return None
        if _FILL in lead or any(mark in lead for mark in "“”\"‘!?;:"):
            return None
        subject_end = _strip_auxiliaries(narrative, start, cue.start)
        speaker = self._speaker_from_region(start, subject_end, subject_first=True)
        if speaker is None:
            return None
        cue_text, cue_end = cue.word, cue.end
        extension = _STATEMENT_EXTENSION.match(narrative, cue_end, end)
        if extension is not None and cue_text == "said":
            cue_text = f"said {' '.join(extension.group().split())}"
            cue_end = extension.end()
        return speaker, cue_text, cue_end

    def _attribution_before(self, boundary: int, open_at: int, seg: _Segment) -> tuple[_Speaker, str, int] | None:
        """`X said: “…”` / `X told Y, “…”` right before a quote."""
        narrative = self.narrative
        index = bisect_left(self.cue_starts, open_at) - 1
        if index < 0:
            return None
        cue = self.cues[index]
        if cue.start < boundary or cue.kind not in ("verb", "quoting"):
            return None
        tail = _BEFORE_TAIL.fullmatch(narrative, cue.end, open_at)
        if tail is None:
            return None
        ext = tail.group("ext")
        if _THAT_WORD.search(ext):
            return None  # "said that “…”": a partial quote inside reported speech
        spoken = self.text[seg.start : seg.start + 1]
        if tail.group("punct") is None and (ext.strip() or not spoken.isupper()):
            return None
        subject_end = _strip_auxiliaries(narrative, boundary, cue.start)
        infinitive = _INFINITIVE_LEAD.search(narrative, boundary, subject_end)
        if infinitive is not None and cue.word in _BARE_CUES | _QUOTING_VERBS:
            # "He went on to say, “…”": the subject is the one of the verb before "to".
            subject_end = _strip_auxiliaries(narrative, boundary, infinitive.start())
        if subject_end <= boundary:
            return None
        speaker = self._speaker_from_region(boundary, subject_end, subject_first=False)
        if speaker is None:
            return None
        cue_text = cue.word
        extension = _STATEMENT_EXTENSION.match(narrative, cue.end, open_at)
        if extension is not None and cue_text == "said":
            cue_text = f"said {' '.join(extension.group().split())}"
        return speaker, cue_text, open_at

    def _colon_attribution(self, boundary: int, open_at: int) -> tuple[_Speaker, str | None, int] | None:
        """`Dana Reed, The Daily Planet: “…”`: a full name (and what it writes for) and a colon.

        No verb, so only a name of a person or of unknown kind, written in full or standing for
        a full name given earlier, that opens the sentence; "The message was clear: “…”" is no source.
        """
        narrative = self.narrative
        lead = narrative[boundary:open_at].rstrip()
        if not lead.endswith(":") or len(lead.split()) > 10:
            return None
        pieces = self._pieces(boundary, boundary + len(lead) - 1)
        if not pieces or len(pieces) > 3:
            return None
        head_start, head_end = pieces[0]
        mention = self._mention_at(head_start)
        if mention is None or mention.start != head_start or mention.end != head_end:
            return None
        if self._mention_kind(mention) == "org":
            return None
        canonical = self._canonical(mention)
        if len(canonical.split()) < 2:
            return None
        speaker = _Speaker(canonical, mention.start, mention.end, self._mention_kind(mention), named=True)
        return speaker, None, open_at

    def _unattributed(self, seg: _Segment, p_index: int) -> None:
        """A quote with no attribution of its own: continue the previous speaker, or stand alone."""
        if p_index > 0 and seg.open == self._first_content(p_index):
            # "The minister said:" closing one paragraph and the quote opening the next.
            prev_start, prev_end = self.paragraphs[p_index - 1]
            if self.narrative[prev_start:prev_end].rstrip().endswith(":"):
                last_sentence = self._sentences(prev_start, prev_end)[-1][0]
                attribution = self._attribution_before(last_sentence, seg.open, seg)
                if attribution is not None:
                    speaker, cue, _ = attribution
                    self._add_quote(seg.start, seg.end, speaker, cue, "direct", p_index, seg.chain)
                    seg.used = True
                    return
        previous = self.quotes[-1] if self.quotes else None
        if previous is not None and previous.speaker is not None and previous.speaker.name is not None:
            same_paragraph = previous.paragraph == p_index
            previous_paragraph = (
                previous.paragraph == p_index - 1 and previous.quote_type == "direct" and self._pure_quote(p_index)
            )
            if same_paragraph or previous_paragraph:
                self._add_quote(
                    seg.start, seg.end, previous.speaker, previous.cue, "direct", p_index, seg.chain, log=False
                )
                seg.used = True
                return
        if len(self.text[seg.start : seg.end].split()) >= 4:
            self._add_quote(seg.start, seg.end, None, None, "direct", p_index, seg.chain)
            seg.used = True

    def _first_content(self, p_index: int) -> int:
        """The offset of the first non-space character of a paragraph."""
        # Asked for every report and quote in the paragraph: worked out once, as a long paragraph
        # would otherwise be copied each time.
        found = self.first_contents.get(p_index)
        if found is None:
            p_start, p_end = self.paragraphs[p_index]
            line = self.text[p_start:p_end]
            found = self.first_contents[p_index] = p_start + len(line) - len(line.lstrip())
        return found

    def _pure_quote(self, p_index: int) -> bool:
        """Whether a paragraph holds nothing but quoted words."""
        found = self.pure_quotes.get(p_index)
        if found is None:
            p_start, p_end = self.paragraphs[p_index]
            rest = self.narrative[p_start:p_end]
            found = self.pure_quotes[p_index] = not any(char.isalnum() for char in rest)
        return found

    def _add_quote(
        self,
        start: int,
        end: int,
        speaker: _Speaker | None,
        cue: str | None,
        quote_type: str,
        p_index: int,
        chain: int | None = None,
        log: bool = True,
    ) -> None:
        """Record a quote; `log` adds its speaker to those pronouns may refer to."""
        start, end = _strip_span(self.text, start, end, " \t")
        if end <= start:
            return
        self.quotes.append(_QuoteDraft(start, end, speaker, cue, quote_type, p_index, chain))
        if log and speaker is not None and speaker.name is not None:
            position = speaker.start if speaker.start is not None else start
            self.speaker_log.append((position, speaker))

    def _body_end(self, s_start: int, s_end: int) -> int:
        """The sentence end without its closing full stop and trailing spaces."""
        narrative = self.narrative
        end = s_end
        while end > s_start and narrative[end - 1].isspace():
            end -= 1
        while end > s_start and narrative[end - 1] in ".!?;:":
            end -= 1
        return end

    def _indirect_quotes(self, s_start: int, s_end: int, p_index: int) -> None:
        """The first reporting clause of a sentence, and the clauses coordinated with it."""
        index = bisect_left(self.cue_starts, s_start)
        if index >= len(self.cues) or self.cues[index].start >= s_end:
            return
        body_end = self._body_end(s_start, s_end)
        while index < len(self.cues) and self.cues[index].start < body_end:
            cue = self.cues[index]
            index += 1
            if cue.kind != "quoting" and cue.end <= body_end and self._report(s_start, body_end, cue, p_index):
                return
            if cue.word == "saying" and self._saying(s_start, body_end, cue, p_index):
                return

    def _report(self, s_start: int, body_end: int, cue: _Cue, p_index: int) -> bool:
        """Build the indirect (or mixed) quote around one cue; False when the cue does not hold."""
        narrative = self.narrative
        cue_start, cue_end = cue.start, cue.end
        if cue.kind == "according":
            return self._according_to(s_start, body_end, cue, p_index)
        previous = narrative[max(s_start, cue_start - 20) : cue_start].split()
        if previous and previous[-1].lower() in _CUE_BLOCKERS:
            return False
        if cue.word in _BARE_CUES and previous and previous[-1].lower() in _MODALS:
            return False  # "officials would not say", "did not say": no report
        shared: _Speaker | None = None
        relative = False
        if previous and previous[-1].lower() in ("and", "but"):
            # "The minister praised staff and said …": the subject of the sentence's first verb.
            shared = self._clause_subject(s_start, cue_start)
            if shared is None:
                return False
        elif previous and previous[-1].lower() in ("who", "which"):
            # "three lawmakers, who said the plan would fail, voted …": the noun before the pronoun.
            pronoun_start = narrative.rindex(previous[-1], s_start, cue_start)
            np_end = _strip_span(narrative, s_start, pronoun_start, " \t,")[1]
            shared = self._speaker_from_region(_noun_phrase_start(narrative, s_start, np_end), np_end, False)
            if shared is None:
                return False
            relative = True
        if cue.word[:1].isupper() and not self._headline(s_start, body_end):
            return False  # "Says" only in a headline ("Lane Says Budget Will Pass")
        subject_end = _strip_auxiliaries(narrative, s_start, cue_start)
        cue_text = cue.word.lower()
        position = cue_end
        for _ in range(3):
            extension = _STATEMENT_EXTENSION.match(narrative, position, body_end)
            if extension is not None:
                if cue_text == "said":
                    cue_text = f"said {' '.join(extension.group().split())}"
                position = extension.end()
                continue
            adjunct = _TIME_ADJUNCT.match(narrative, position, body_end)
            if adjunct is not None:
                position = adjunct.end()
                continue
            named = self._title_after(position, body_end)
            if named is not None:
                position = named  # `said on “Morning Talk Live” that …`: where it was said, not what
                continue
            break
        if cue.kind == "described":
            if _AS.search(narrative, position, body_end) is None:
                return False
            cue_text = "described ... as"
        elif cue.word in ("told", "tells", "tell"):
            position = self._audience_end(position, body_end)
        elif cue.word in ("asked", "asks"):
            question = _WHETHER.search(narrative, position, body_end)
            if question is None:
                return False
            position = question.start()  # "asked (the minister) whether …": the question is the content
        rest = narrative[position:body_end]
        stripped = rest.lstrip()
        left_text = narrative[s_start:subject_end].rstrip()
        if shared is not None:
            that = _THAT.match(narrative, position, body_end)
            content_start = that.end() if that is not None else position
            if relative:
                # The relative clause ends at the comma that closes it.
                return self._emit_report(
                    (content_start, _next_comma(narrative, content_start, body_end)), shared, cue_text, p_index
                )
            return self._content_after(content_start, body_end, shared, cue_text, p_index)
        if not stripped or stripped.startswith(","):
            return self._report_after_content(s_start, subject_end, cue_text, position, body_end, p_index)
        if left_text.endswith(",") and cue.kind != "described":
            inverted_end = _next_comma(narrative, position, body_end)
            speaker = self._speaker_from_phrase(position, inverted_end)
            if speaker is not None and speaker.named and len(narrative[position:inverted_end].split()) <= 6:
                content = _strip_span(narrative, s_start, len(left_text) + s_start - 1, " \t,")
                return self._emit_report(content, speaker, cue_text, p_index)
        if stripped.startswith(":"):
            position = position + rest.index(":") + 1
        elif cue.word in _CLAUSE_ONLY_CUES and not _THAT_AHEAD.match(narrative, position, body_end):
            return False  # "the army added 500 troops": not speech without "that"
        speaker = self._speaker_from_region(s_start, subject_end, subject_first=left_text.endswith(","))
        if speaker is None:
            return False
        if cue.word[:1].isupper():
            speaker = self._headline_speaker(speaker)
        head_words = narrative[s_start:subject_end].split(",")[0].split()
        if len(head_words) > 14:
            return False
        that = _THAT.match(narrative, position, body_end)
        content_start = that.end() if that is not None else position
        return self._content_after(content_start, body_end, speaker, cue_text, p_index)

    def _clause_subject(self, s_start: int, limit: int) -> _Speaker | None:
        """The subject of the sentence's first verb, shared by a reporting verb later in the clause
        (`The minister praised staff and said …`, `The union criticised the offer, saying …`)."""
        narrative = self.narrative
        verb = _FINITE_VERB.search(narrative, s_start, limit)
        while verb is not None:
            before = narrative[max(s_start, verb.start() - 12) : verb.start()].split()
            if not before or before[-1].lower() not in _NOT_BEFORE_VERB:
                break
            verb = _FINITE_VERB.search(narrative, verb.end(), limit)  # "a retired teacher": an adjective
        if verb is None:
            return None
        subject_end = _strip_auxiliaries(narrative, s_start, verb.start())
        region = narrative[s_start:subject_end]
        if subject_end <= s_start or len(region.split()) > 10 or _LEAD_STOP.search(region):
            return None
        return self._speaker_from_region(s_start, subject_end, subject_first=True)

    def _saying(self, s_start: int, body_end: int, cue: _Cue, p_index: int) -> bool:
        """`X criticised the offer, saying (that) CONTENT`: the subject of the sentence says it."""
        narrative = self.narrative
        comma = narrative[s_start : cue.start].rstrip()
        if not comma.endswith(","):
            return False
        speaker = self._clause_subject(s_start, s_start + len(comma) - 1)
        if speaker is None:
            return False
        that = _THAT.match(narrative, cue.end, body_end)
        return self._content_after(that.end() if that else cue.end, body_end, speaker, "saying", p_index)

    def _headline(self, s_start: int, body_end: int) -> bool:
        """Whether a sentence is written in headline case: most of its longer words capitalised."""
        words = [word for word in self.narrative[s_start:body_end].split() if len(word) > 3]
        return len(words) >= 3 and sum(word[:1].isupper() for word in words) >= 0.8 * len(words)

    def _headline_speaker(self, speaker: _Speaker) -> _Speaker:
        """A headline names its source by surname before the story gives the full name: take the
        first full name later in the document (`Lane Says …` → `Philip Lane`)."""
        name = speaker.name
        if speaker.start is None or speaker.end is None or not name or " " in name or not name[:1].isupper():
            return speaker
        starts, names = self._full_names_with(name)
        later = bisect_left(starts, speaker.end)
        if later < len(names):
            return _Speaker(names[later].text, speaker.start, speaker.end, speaker.kind, named=True)
        return speaker

    def _content_after(
        self, content_start: int, body_end: int, speaker: _Speaker, cue_text: str, p_index: int
    ) -> bool:
        """`X said (that) CONTENT`: the content runs to the sentence end or the next reporting verb."""
        narrative = self.narrative
        content_end = body_end
        coordinated = _COORDINATED_CUE.search(narrative, content_start, body_end)
        if coordinated is not None:
            content_end = coordinated.start()
        cut = _CONTENT_CUT.search(narrative, content_start, content_end)
        if cut is not None:
            content_end = cut.start()
        if not self._emit_report((content_start, content_end), speaker, cue_text, p_index):
            return False
        if coordinated is not None:
            verb = _CUE.match(narrative, coordinated.end(), body_end)
            second = _cue_at(narrative, verb.group(), verb.start(), body_end) if verb else None
            if second is not None:
                self._second_report(second, body_end, speaker, p_index)
        return True

    def _second_report(self, cue: _Cue, body_end: int, speaker: _Speaker, p_index: int) -> None:
        """A reporting verb sharing the subject of the one before (`… and said that …`)."""
        narrative = self.narrative
        cue_text = cue.word
        position = cue.end
        extension = _STATEMENT_EXTENSION.match(narrative, position, body_end)
        if extension is not None:
            position = extension.end()
        adjunct = _TIME_ADJUNCT.match(narrative, position, body_end)
        if adjunct is not None:
            position = adjunct.end()
        if cue.kind == "described":
            if _AS.search(narrative, position, body_end) is None:
                return
            cue_text = "described ... as"
        elif cue.word in ("told", "tells"):
            position = self._audience_end(position, body_end)
        that = _THAT.match(narrative, position, body_end)
        self._content_after(that.end() if that else position, body_end, speaker, cue_text, p_index)

    def _report_after_content(
        self, s_start: int, subject_end: int, cue_text: str, after_cue: int, body_end: int, p_index: int
    ) -> bool:
        """`CONTENT, X said.`: the speaker is the last piece before the cue, the content the rest."""
        narrative = self.narrative
        pieces = self._pieces(s_start, subject_end)
        if len(pieces) < 2:
            return False
        if narrative[s_start:subject_end].rstrip().endswith(","):
            # "CONTENT, NAME, APPOSITIVE, said": step back over the appositives.
            j = len(pieces) - 1
            while j > 1 and _looks_appositive(narrative, pieces[j]):
                j -= 1
            speaker_pieces = pieces[j:]
        else:
            speaker_pieces = pieces[-1:]
        first = speaker_pieces[0]
        if len(narrative[first[0] : first[1]].split()) > 8:
            return False
        speaker = self._speaker_from_phrase(first[0], first[1], speaker_pieces[1:])
        if speaker is None:
            return False
        content = (s_start, _strip_span(narrative, s_start, first[0], " \t,")[1])
        if not self._emit_report(content, speaker, cue_text, p_index):
            return False
        self._adding(after_cue, body_end, speaker, p_index)
        return True

    def _according_to(self, s_start: int, body_end: int, cue: _Cue, p_index: int) -> bool:
        """`According to X, CONTENT` and `CONTENT, according to X[, …]`."""
        narrative = self.narrative
        np_start = cue.end
        np_end = _next_comma(narrative, np_start, body_end)
        speaker = self._speaker_from_phrase(np_start, np_end)
        if speaker is None:
            return False
        left = narrative[s_start : cue.start].strip(" \t,")
        if not left or left.lower() in _LEADING_DISCOURSE:
            content = (np_end + 1, body_end)
        else:
            content = (s_start, _strip_span(narrative, s_start, cue.start, " \t,")[1])
        return self._emit_report(content, speaker, "according to", p_index)

    def _adding(self, start: int, body_end: int, speaker: _Speaker | None, p_index: int) -> None:
        """`…, X said, adding that CONTENT`."""
        if speaker is None:
            return
        adding = _ADDING.match(self.narrative, start, body_end)
        if adding is not None:
            self._emit_report((adding.end(), body_end), speaker, "adding", p_index)

    def _emit_report(self, content: tuple[int, int], speaker: _Speaker, cue_text: str, p_index: int) -> bool:
        """Record an indirect or mixed quote whose content is `content`; False if it is too thin."""
        narrative = self.narrative
        start, end = _strip_span(narrative, content[0], content[1], " \t,;:")
        if start == self._first_content(p_index):
            dateline = _DATELINE.match(narrative, start, end)
            if dateline is not None:
                start = dateline.end()  # "KYIV, Ukraine (AP) — ": where the story was filed, not what was said
        if end <= start or len(self.text[start:end].split()) < 3 and _FILL not in narrative[start:end]:
            return False
        segments = self._segments_in(start, end)
        if segments and segments[-1].closed and end in (segments[-1].close, segments[-1].close + segments[-1].paired):
            # `called it “a slap in the face,” Cole said`: the view put the comma after the mark, and
            # the second mark of ''…'' reads as a space; the span ends after the closing mark.
            end = segments[-1].close + (2 if segments[-1].paired else 1)
        inner = [seg for seg in segments if not seg.used]
        if (
            inner
            and inner[0].open == start
            and inner[-1].close + 1 >= end
            and len(_adjacent_groups(narrative, inner)) == 1
        ):
            # The whole content is a quotation, or adjacent parts of one: a direct quote after all.
            for seg in inner:
                seg.used = True
            chain = inner[0].chain if len(inner) == 1 else None
            self._add_quote(inner[0].start, inner[-1].end, speaker, cue_text, "direct", p_index, chain)
            return True
        for seg in inner:
            seg.used = True
        self._add_quote(start, end, speaker, cue_text, "mixed" if inner else "indirect", p_index)
        return True

    def _title_after(self, position: int, end: int) -> int | None:
        """The end of a quoted title right after `position` (`on “Morning Talk Live”`), or None."""
        match = _TITLE_LEAD.match(self.narrative, position, end)
        if match is None:
            return None
        index = bisect_left(self.segment_opens, match.end())
        if index >= len(self.segments) or self.segment_opens[index] != match.end():
            return None
        seg = self.segments[index]
        if not seg.title:
            return None
        return min(end, seg.close + (2 if seg.paired else 1))

    def _segments_in(self, start: int, end: int) -> list[_Segment]:
        """The quote segments opening inside [start, end)."""
        index = bisect_left(self.segment_opens, start)
        found = []
        while index < len(self.segments) and self.segments[index].open < end:
            found.append(self.segments[index])
            index += 1
        return found

    def _audience_end(self, position: int, body_end: int) -> int:
        """Skip who was told: `told Al Jazeera`, `told reporters`, `told the state news agency`."""
        narrative = self.narrative
        start = position
        while start < body_end and narrative[start].isspace():
            start += 1
        word = _WORD.match(narrative, start, body_end)
        probe = word.end() + 1 if word is not None and word.group() == "the" else start
        mention = self._mention_at(probe)
        if mention is not None and mention.start <= probe and mention.end <= body_end:
            return mention.end
        audience = _AUDIENCE_WORD.match(narrative, position, body_end)
        if audience is not None:
            return audience.end()
        return position


def _phrase_end(text: str, start: int, end: int) -> int:
    """Where the noun phrase from `start` ends: the next punctuation, past the full stop of an
    abbreviated title (`said Rep. Ann Cole`)."""
    stop = _PHRASE_END.search(text, start, end)
    while stop is not None and stop.group() == ".":
        word = _LAST_WORD.search(text, max(start, stop.start() - 6), stop.start())
        if word is None or word.group(1).lower() not in _ABBREVIATIONS:
            break
        stop = _PHRASE_END.search(text, stop.end(), end)
    return stop.start() if stop else end


def _name_like(text: str, seg: _Segment, p_start: int) -> bool:
    """A title, show name, slogan, nickname or marked scare quote rather than a quote.

    `a group nicknamed “the Trailblazers”` and `the so-called “peace dividend”` by the word before
    the mark; `author of “Lost Ground”` and `said on “Morning Talk Live.”` by their capitals in the
    middle of the narrator's sentence. A phrase opening a sentence or following punctuation is never
    taken for a name (`“Thank You,” she said`, `said: “Never Again.”`).
    """
    if not seg.closed:
        return False
    lead = text[max(p_start, seg.open - 40) : seg.open].rstrip()
    words = lead.split()
    if not words:
        return False
    previous = words[-1].lower()
    if previous in _NAMING_WORDS or " ".join(words[-2:]).lower() in _NAMING_PAIRS:
        return True
    work = previous.strip(",:;—–(") in _WORK_NOUNS
    if not lead[-1].isalpha() and not work:
        return False
    quoted = text[seg.start : seg.end].rstrip(".!?")
    if any(char in quoted for char in ".?!;,") or not quoted:
        return False
    parts = quoted.split()
    if len(parts) > 8:
        return False
    capitals = 0
    for part in parts:
        initial = part.lstrip("(#‘'\"")[:1]
        if initial.isupper() or initial.isdigit():
            capitals += 1
        elif part.lower() not in _TITLE_SMALL_WORDS:
            return False  # a lower-case word: words someone said, not a name
    if not capitals or (not parts[0][:1].isupper() and parts[0].lower() != "the"):
        return False
    if _CUE.fullmatch(previous) and not work:
        # `told “Fox News Sunday” that …`, but `said “Thank You”.`: after a reporting verb only a
        # name of several words that the sentence runs on past is taken for a name.
        after = text[seg.close + (2 if seg.paired else 1) : seg.close + 12].lstrip()
        return len(parts) > 1 and after[:1].islower()
    return True


def _embedded(narrative: str, start: int, open_at: int) -> bool:
    """Whether the quote opening at `open_at` carries on the narrator's words before it in the sentence
    (`a “must-win state”`), not after punctuation (`told reporters: “…”`) or at the sentence start."""
    i = open_at - 1
    while i >= start and narrative[i].isspace():
        i -= 1
    return i >= start and (narrative[i].isalnum() or narrative[i] in "%’'")


def _adjacent_groups(narrative: str, segs: list[_Segment]) -> list[list[_Segment]]:
    """The segments of one sentence in runs of adjacent parts: joined by nothing but spaces, commas,
    an ellipsis or one conjunction (`“A” and “B”`, `“A”, “B”`), no narrator's word between."""
    groups: list[list[_Segment]] = []
    for seg in segs:
        if groups:
            previous = groups[-1][-1]
            if previous.closed and _ADJACENT_GAP.fullmatch(narrative, previous.close + 1, seg.open):
                groups[-1].append(seg)
                continue
        groups.append([seg])
    return groups


def _can_open(before: str, after: str) -> bool:
    """A straight or single mark opens a quote after a space or bracket and before a word."""
    return (before.isspace() or before in "([{—–-/“") and not after.isspace()


def _can_close(before: str, after: str) -> bool:
    """A mark closes a quote after a word and before a space, punctuation or the end."""
    return not before.isspace() and not (after.isalnum() or after == "_")


def _possessive_plural(text: str, pos: int, end: int, closers: _SingleClosers) -> bool:
    """`insurgents’ statement`: a plural possessive, not the end of a single-quoted phrase."""
    if pos == 0 or text[pos - 1] != "s" or pos + 2 >= end:
        return False
    if text[pos + 1] != " " or not text[pos + 2].islower():
        return False
    return closers.any_in(pos + 1, end)


class _SingleClosers:
    """Whether a single closing mark stands in [start, end), asked with `start` growing through a paragraph.

    A search runs to the paragraph's end when no mark closes, and is asked for at every opening
    mark: the last answer stands for every `start` up to the mark it found (or for all, if none).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.start = self.end = -1
        self.found = -1  # where the last search found a closing mark; -1 for none

    def any_in(self, start: int, end: int) -> bool:
        """`_SINGLE_CLOSER.search(text, start, end) is not None`."""
        if end != self.end or start < self.start or start > self.found >= 0:
            match = _SINGLE_CLOSER.search(self.text, start, end)
            self.start, self.end, self.found = start, end, match.start() if match else -1
        return self.found >= 0


def _trim_quoted(text: str, start: int, end: int) -> tuple[int, int]:
    """The spoken words between two marks: no spaces around, no comma or dash before the close."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;—–"):
        end -= 1
    return start, end


def _strip_auxiliaries(text: str, start: int, end: int) -> int:
    """Where the subject before a reporting verb ends: "activists have also | said"."""
    while True:
        while end > start and text[end - 1].isspace():
            end -= 1
        space = text.rfind(" ", start, end)
        word_start = space + 1 if space >= 0 else start
        if word_start >= end or text[word_start:end] not in _SUBJECT_TAIL_WORDS:
            return end
        end = word_start


def _next_comma(text: str, start: int, end: int) -> int:
    """The offset of the next comma outside brackets, or `end`."""
    depth = 0
    for match in _BRACKET_OR_COMMA.finditer(text, start, end):
        char = match.group()
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            return match.start()
    return end


def _noun_phrase_start(text: str, start: int, end: int) -> int:
    """Where the noun phrase ending at `end` begins: after the last preposition, verb form or comma
    before it ("opposed by | three lawmakers")."""
    position = end
    while position > start:
        space = text.rfind(" ", start, position - 1)
        word_start = space + 1 if space >= 0 else start
        word = text[word_start:position].strip()
        if (
            word.endswith((",", ";", ":"))
            or (word.lower() in _FUNCTION_WORDS and word.lower() not in ("the", "a", "an", "of", "for"))
            or (word.islower() and word.endswith("ed"))
        ):
            return position
        position = word_start if space >= 0 else start
        if space < 0:
            break
    return start


def _looks_appositive(text: str, piece: tuple[int, int]) -> bool:
    """`a local activist`, `Syria’s main faction`: a description, not a name."""
    words = text[piece[0] : piece[1]].split()
    if not words:
        return False
    first = words[0]
    return (
        first.lower() in ("a", "an", "the", "his", "her", "its", "their")
        or first[:1].islower()
        or first.endswith(("’s", "'s"))
    )


def _cue_at(narrative: str, word: str, start: int, limit: int) -> _Cue | None:
    """The cue the reporting word at `start` begins, or None where it reports nothing here."""
    end = start + len(word)
    if word in _CUE_VERBS:
        return _Cue(start, end, word, "verb")
    if word == "described":
        return _Cue(start, end, word, "described")
    if word in ("according", "According"):
        to = _TO.match(narrative, end, limit)
        return _Cue(start, to.end(), "according to", "according") if to else None
    if word in _BARE_CUES and _THAT_AHEAD.match(narrative, end, limit):
        return _Cue(start, end, word, "verb")
    if word in _BARE_CUES and _QUOTE_AHEAD.match(narrative, end, limit):
        return _Cue(start, end, word, "quoting")  # "went on to say, “…”"
    if word in ("say", "tell") and (
        _CLAUSE_AHEAD.match(narrative, end, limit) or _CLAUSE_END_AHEAD.match(narrative, end, limit)
    ):
        return _Cue(start, end, word, "verb")  # "Analysts say the merger …", "…, experts say."
    if word in _HEADLINE_CUES:
        return _Cue(start, end, word, "verb")  # "Lane Says Budget Will Pass": checked for headline case
    if word in ("asked", "asks") and _WHETHER.match(narrative, end + 1, limit):
        return _Cue(start, end, word, "verb")
    if word == "quoted":
        saying = _AS_SAYING.match(narrative, end, limit)
        return _Cue(start, saying.end(), "quoted as saying", "quoting") if saying else None
    if word in _QUOTING_VERBS:
        return _Cue(start, end, word, "quoting")
    return None
