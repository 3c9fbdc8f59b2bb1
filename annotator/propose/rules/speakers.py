"""Names and speakers: the `Speaker` rules of the package docstring (titles, appositives, one-word
names resolved to full names, pronouns and `the group`)."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from annotator.lexicon import CAPITAL_STOPWORDS, DAYS_MONTHS, JOINERS, PARTICLES, TITLES
from annotator.propose.rules.text import (
    _AUXILIARIES,
    _FILL,
    _FUNCTION_WORDS,
    _WORD,
    _strip_span,
)

# Titles that end a run of title words in front of a person's name.
_HEAD_TITLES = frozenset(
    """President Minister Secretary Governor Mayor Prince Princess King Queen Chancellor Senator Ambassador
    Spokesman Spokeswoman Commander Chairman Chairwoman Director Envoy Emir Sultan Sheikh Pope Premier
    Judge Justice General Colonel Admiral Lieutenant Captain Sergeant Leader Chief""".split()
)
_PERSON_TITLES = frozenset("Mr Mr. Mrs Mrs. Ms Ms. Miss Dr Dr. Sir Dame Lord Lady".split())
_ROLE_WORDS = frozenset(
    """activist spokesman spokeswoman spokesperson official minister leader commander president chief
    head director analyst resident witness doctor journalist correspondent researcher envoy ambassador
    secretary general member founder chairman chairwoman mayor governor senator lawyer professor expert
    medic nurse worker volunteer negotiator diplomat aide adviser advisor representative deputy lawmaker
    farmer teacher student mother father colonel officer soldier engineer economist politician
    candidate manager executive coordinator organiser organizer campaigner reporter photographer
    citizen survivor cleric priest imam rapporteur negotiator premier king queen prince emir sheikh
    man woman boy girl surgeon paramedic commentator editor writer author coach captain pilot driver
    owner shopkeeper trader son daughter brother sister husband wife widow grandmother grandfather
    neighbour neighbor refugee villager protester demonstrator defector prisoner detainee victim
    eyewitness mediator consultant democrat republican mp congressman congresswoman councillor councilman
    councilwoman legislator assemblyman assemblywoman peer tory conservative liberal chancellor
    strategist pollster spokesperson superintendent inspector detective sheriff prosecutor attorney
    solicitor barrister judge magistrate coroner fan supporter striker midfielder defender goalkeeper
    manager player""".split()
)
_TRADES = frozenset(
    """carmaker automaker retailer supermarket insurer lender chipmaker drugmaker brewer housebuilder regulator
    watchdog broadcaster publisher conglomerate""".split()
)
"""What a company does, said before its name ("Carmaker Volta will close…", "Watchdog Ofcom said"): no part of it."""
_ORG_NOUNS = _TRADES | frozenset(
    """ministry observatory government group faction monitor organisation organization agency coalition
    army movement party front forces force militia body channel broadcaster network newspaper affiliate
    company firm charity union council committee commission office department police court parliament
    assembly alliance brigade brigades battalion authority authorities administration bank fund
    institute foundation association federation service tv television radio outlet website league corps
    command military regime tribunal university hospital embassy mission programme program agency
    insurgents rebels militants activists""".split()
)
_COUNTRY_ACRONYMS = frozenset("US USA UK GB UAE DRC ROK DPRK PRC".split())
_ORG_KEYWORDS = frozenset(
    """Ministry Observatory Nations Council Committee Commission Army Forces Force Front Party Movement
    Group Organisation Organization Agency Office Department Government Union Association Institute
    Foundation Federation Bank Fund Court Parliament Assembly Alliance Brigade Brigades Corps Police
    Defence Defense Civil Rights Watch Amnesty Crescent Cross TV News Press Times Post Jazeera Reuters
    University Hospital Company Corporation Inc Ltd Service Services Authority Administration Command
    Coalition Centre Center Network Channel Media Directorate Secretariat Senate Congress Cabinet
    Kremlin Pentagon Tahrir Sham Qaeda Qaida Hezbollah Hamas Taliban Corp Co Plc PLC LLC Holdings
    Airlines Airways Motors Industries Partners Capital""".split()
)
_DEFINITE_ORG_NOUNS = frozenset(
    "group monitor ministry organisation organization agency faction observatory coalition militia "
    "movement body alliance network army".split()
)
_PRONOUNS = {"he": "person", "she": "person", "it": "org", "they": "group"}
_POSSESSIVE_PRONOUNS = {"his": "person", "her": "person", "its": "org", "their": "group"}
# "Her office later said": the source is whoever the possessive stands for.
_POSSESSIVE_PRONOUN_SOURCE = re.compile(
    r"(?P<x>his|her|its|their)\s+(?:(?:media|press|own|campaign|legal)\s+)?(?:statement|spokesman|spokeswoman|"
    r"spokesperson|office|team|campaign|lawyer|lawyers|attorney|attorneys|aides?|representatives?|account)",
    re.IGNORECASE,
)
_ADVERBIAL_OPENERS = frozenset(
    """on in at after before during earlier later meanwhile however separately last this speaking asked
    since until while when as although though despite amid following yesterday today overnight
    elsewhere instead also but and""".split()
)
_LEADING_DISCOURSE = frozenset("but and yet so however meanwhile also now then still instead or".split())
_DETERMINERS = frozenset("the a an".split())

_CAP_WORD = r"[A-Z\u00C0-\u00DE][^\W_]*(?:[’'][^\W\d_]{2,})?(?:-[^\W_]+)*"
_NAME_WORD = rf"(?:(?:al|el|bin|ibn|abu|bint|lil|de|da|di|du|van|von|der)[- ])?{_CAP_WORD}"
# Starts on a capital so `re` can skip ahead by character class; a particle in front ("al-Jabha",
# "al Qaida") is picked up afterwards by looking back from the capital.
_NAME = re.compile(rf"{_CAP_WORD}(?:[ ](?:(?:of|for)(?:[ ]the)?[ ])?{_NAME_WORD})*")
# Abbreviated titles end in a full stop, which ends a capitalised run: "Dr. Jane Smith" is joined up
# when the mention is cleaned, by looking back from the name.
_DOTTED_TITLES = frozenset("Mr Mrs Ms Dr Prof Gen Sen Rep Gov Lt Col Sgt Capt Rev".split())
_MODIFIER_TOKEN = re.compile(
    r"-(?:based|linked|backed|led|controlled|held|born|run|allied|aligned|affiliated|funded|owned)$"
)
_AGE = re.compile(r"(?:\d+|[a-z]+(?:-[a-z]+)?)-(?:year|month|week)-old")
"""An age in front of a name ("Ten-year-old Sam Patel", "52-year-old"): no part of it."""
_DESCRIPTORS = frozenset(
    """passenger pupil patient parent shopper customer commuter motorist tourist traveller traveler holidaymaker
    homeowner tenant landlord voter employee midwife carer pensioner graduate""".split()
)
"""Words for who someone is in the story, besides roles (`_ROLE_WORDS`), that a sentence may open with before their
name ("Passenger Aisha Malik said")."""
# A run of the characters that join a word for `_sentence_case` (`\w` and `-`).
_WORD_CHARS = re.compile(r"[\w-]+")
_QUOTE_OR_FILL = re.compile(rf"[“”\"{_FILL}]")
_BRACKET_OR_COMMA = re.compile(r"[(),]")
_CLAUSE_BREAK = re.compile(r"[:;]|\s[—–]\s")
_POSSESSIVE_SOURCE = re.compile(
    r"(?:the\s+)?(?P<x>.+?)[’']s?\s+(?:(?:media|press|own)\s+)?(?:statement|statements|spokesman|"
    r"spokeswoman|spokesperson|office|account|website|channel|report)$"
)
_SOURCE_OF = re.compile(
    r"(?:(?:a|an|the)\s+)?(?:(?:new|latest|written|joint|separate)\s+)?(?:statement|statements|comments|"
    r"remarks|report|reports|figures|data|estimates|tally|count|spokesman|spokeswoman|spokesperson|"
    r"official|officials)(?:\s+(?:on|late\s+on|early\s+on)\s+\w+)?\s+(?:(?:released|issued|published|"
    r"made|compiled|provided|given|posted)\s+)?(?:from|by|for|of)\s+(?P<x>.+)$",
    re.IGNORECASE,
)
_PLACE_OR_EMPLOYER = re.compile(r"\s+(?:at|of|from|with|for|in|on)\s")
_RELATIVE_CUT = re.compile(r"\s+(?:that|which|who|whose|where)\s|\s*\(")
_TRAILING_ORG_NOUN = re.compile(
    r"\s*(?:\([^)]*\))?\s*(?:group|faction|movement|militia|organi[sz]ation|alliance|coalition|network)?\s*$"
)


@dataclass(slots=True)
class _Mention:
    """A capitalised name in the narrative, with titles and leading modifiers removed."""

    start: int  # where the mention starts, title included ("Mr Assad")
    end: int
    text: str  # the name without its title ("Assad")
    keys: tuple[str, ...]  # the name's words for matching, without al-/el- prefixes
    title: bool
    kind: str | None = None  # "person", "org" or "unknown", worked out when first needed


@dataclass(slots=True)
class _Speaker:
    """Who a quote is attributed to: the canonical name, the mention in the text and its kind."""

    name: str | None
    start: int | None
    end: int | None
    kind: str  # "person", "org", "group" or "unknown"
    named: bool = False


class _Speakers:
    """The rules for names and speakers: mentions, their kinds and canonical names, and the speaker a phrase names.

    Mixed into `_Analysis`, whose views (text, narrative, paragraphs, name spans, speaker log) they read.
    """

    # -- names ----------------------------------------------------------------------------------

    def _mention(self, index: int) -> _Mention | None:
        """The cleaned mention of the index-th capitalised run, or None if it names nothing."""
        try:
            return self.cleaned[index]
        except KeyError:
            pass
        narrative = self.narrative
        start, end = self.name_spans[index]
        before = narrative[start - 1] if start else " "
        mention: _Mention | None = None
        if before.isalnum() or before in "’'":
            pass  # a capital inside a word ("iPhone", "Hay’Et")
        else:
            if before in "- ":
                particle = narrative[max(0, start - 5) : start - 1].rpartition(" ")[2]
                particle_start = start - len(particle) - 1
                if particle in PARTICLES and not narrative[particle_start - 1 : particle_start].isalnum():
                    start -= len(particle) + 1  # "al-Jabha", "al Qaida"
                elif before == "-":
                    start = -1  # "pro-Assad", "Turkey-Syria": part of a compound word
                elif narrative[start - 2 : start - 1] == ".":
                    title = narrative[max(0, start - 7) : start - 2].rpartition(" ")[2]
                    if title in _DOTTED_TITLES:
                        start -= len(title) + 2  # "Dr. Jane Smith"
            if start >= 0:
                raw = narrative[start:end]
                if " " not in raw and "-" not in raw:
                    # One plain word, the commonest case: no clean-up needed.
                    if raw not in CAPITAL_STOPWORDS and raw not in DAYS_MONTHS and raw not in TITLES:
                        mention = _Mention(start, end, raw, (raw,), False)
                else:
                    mention = _clean_mention(narrative, start, end)
        self.cleaned[index] = mention
        return mention

    def _mention_at(self, offset: int) -> _Mention | None:
        """The mention whose capitalised run covers `offset`."""
        index = bisect_right(self.name_starts, offset) - 1
        if index < 0 or self.name_spans[index][1] <= offset:
            return None
        return self._mention(index)

    def _mention_ending_at(self, end: int) -> _Mention | None:
        """The mention that ends exactly at `end`."""
        if self.name_by_end is None:
            self.name_by_end = {span_end: index for index, (_, span_end) in enumerate(self.name_spans)}
        index = self.name_by_end.get(end)
        return self._mention(index) if index is not None else None

    def _mentions_in(self, start: int, end: int) -> list[_Mention]:
        """The mentions lying wholly inside [start, end)."""
        # A run may begin a word or two before its mention ("But Ahmed Sheikho"): start a little early.
        index = bisect_left(self.name_starts, start - 12)
        found = []
        while index < len(self.name_spans):
            span_start, span_end = self.name_spans[index]
            if span_start >= end:
                break
            if span_end <= end:
                mention = self._mention(index)
                if mention is not None and mention.start >= start:
                    found.append(mention)
            index += 1
        return found

    def _mention_kind(self, mention: _Mention, look_up_full_name: bool = True) -> str:
        """person, org or unknown, from the title, the words around it and the name itself.

        A one-word name of unknown kind takes the kind of the full name it stands for; scans over
        many names (pronoun resolution) skip that look-up to stay cheap.
        """
        if mention.kind is not None:
            return mention.kind
        narrative = self.narrative
        if mention.title:
            kind = "person"
        elif any(key in _ORG_KEYWORDS for key in mention.keys) or (
            len(mention.text) >= 2
            and mention.text.isupper()
            and len(mention.keys) == 1
            and mention.text not in _COUNTRY_ACRONYMS
        ):
            kind = "org"
        else:
            before = narrative[max(0, mention.start - 30) : mention.start].split()
            previous = before[-1].lower() if before else ""
            if before and (previous in _ROLE_WORDS or _is_role(before[-1])) and len(mention.keys) >= 2:
                kind = "person"  # "activist Ahmed Husseinat", but not "chief UK economist"
            elif previous in _ORG_NOUNS and not previous.endswith("s"):
                kind = "org"  # "trade body UK Finance"
            else:
                kind = _appositive_kind(narrative, mention.end)
        if kind == "unknown" and len(mention.keys) == 1:
            if not look_up_full_name:
                return kind
            full = self._full_name(mention)
            if full is not None:
                kind = self._mention_kind(full, look_up_full_name=False)
        mention.kind = kind
        return kind

    def _full_name(self, mention: _Mention) -> _Mention | None:
        """The longer name a one-word mention stands for: nearest earlier, else later in its paragraph."""
        if len(mention.keys) != 1:
            return None
        starts, names = self._full_names_with(mention.keys[0])
        index = bisect_left(starts, mention.start)
        if index > 0:
            return names[index - 1]
        if index < len(starts) and starts[index] < self._paragraph_end(mention.start):
            return names[index]
        return None

    def _full_names_with(self, key: str) -> tuple[list[int], list[_Mention]]:
        """Every name of two or more words containing the word `key`, in order; found once per word."""
        cached = self.full_names.get(key)
        if cached is not None:
            return cached
        if _has_border(key):
            # Occurrences of "ABA" may overlap, and a scan that skips past each one finds only some:
            # such a key keeps that scan (it is rare), so the names found stay the same.
            runs = self._runs_scanned_for(key)
        else:
            if self.name_words is None:
                self.name_words = self._index_name_words()
            runs = self.name_words.get(key, ())
        starts: list[int] = []
        names: list[_Mention] = []
        for index in runs:
            candidate = self._mention(index)
            if candidate is not None and len(candidate.keys) >= 2 and key in candidate.keys:
                if not starts or starts[-1] != candidate.start:
                    starts.append(candidate.start)
                    names.append(candidate)
        self.full_names[key] = (starts, names)
        return starts, names

    def _runs_scanned_for(self, key: str) -> list[int]:
        """The capitalised runs in which a left-to-right scan of the narrative for `key` lands."""
        narrative = self.narrative
        runs: list[int] = []
        position = narrative.find(key)
        while position >= 0:
            index = bisect_right(self.name_starts, position) - 1
            if index >= 0 and self.name_spans[index][1] > position and (not runs or runs[-1] != index):
                runs.append(index)
            position = narrative.find(key, position + len(key))
        return runs

    def _index_name_words(self) -> dict[str, list[int]]:
        """For each word, the capitalised runs it starts in that may name someone in two or more words.

        Built once, so finding the full names of a word costs its own runs, not a scan of the whole
        narrative. A run's words are its space-separated words and what follows a prefix's dash
        (`al-Assad` → `Assad`), plus a dotted title the run ends in (`… Rev` before `.`). A run of one
        word gives a mention of one key unless a dotted title stands before it (`Rev. Smith`), so only
        runs with a space or after a dotted title are indexed.
        """
        narrative = self.narrative
        words: dict[str, list[int]] = {}
        for index, (start, end) in enumerate(self.name_spans):
            run = narrative[start:end]
            if " " not in run and narrative[start - 2 : start] != ". ":
                continue
            tokens = set(run.split(" "))
            tokens.update([token.partition("-")[2] for token in tokens if "-" in token])
            if narrative[end : end + 1] == ".":
                tokens.update(title + "." for title in _DOTTED_TITLES if run.endswith(title))
            for token in tokens:
                words.setdefault(token, []).append(index)
        return words

    def _paragraph_end(self, offset: int) -> int:
        """The end of the paragraph holding `offset`."""
        index = bisect_right(self.paragraph_starts, offset) - 1
        return self.paragraphs[index][1] if index >= 0 else len(self.text)

    def _canonical(self, mention: _Mention) -> str:
        """The full name a mention refers to: "Mr Assad" → "Bashar Assad"."""
        full = self._full_name(mention)
        return full.text if full is not None else mention.text

    # -- speakers -------------------------------------------------------------------------------

    def _speaker_from_region(self, start: int, end: int, subject_first: bool) -> _Speaker | None:
        """The speaker named by the phrase in [start, end): a subject with optional appositives.

        With `subject_first` the first comma-separated piece is the subject and the rest are
        appositives ("Suleiman Abdulqader, a local activist, told"); otherwise the region is a single
        noun phrase that may still carry appositives after it.
        """
        # A colon, semicolon or dash ends a clause: the subject starts after the last one.
        boundary = _CLAUSE_BREAK.search(self.narrative, start, end)
        while boundary is not None:
            start = boundary.end()
            boundary = _CLAUSE_BREAK.search(self.narrative, start, end)
        pieces = self._pieces(start, end)
        if not pieces:
            return None
        while len(pieces) > 1 and _first_word(self.narrative, pieces[0]).lower() in _ADVERBIAL_OPENERS:
            pieces.pop(0)
        if not subject_first:
            pieces = pieces[-1:]
        head, appositives = pieces[0], pieces[1:]
        speaker = self._speaker_from_phrase(head[0], head[1], appositives)
        if (speaker is None or not speaker.named) and appositives:
            for piece in appositives:
                named = self._leading_name(piece)
                if named is not None:
                    return self._named_speaker(named, appositives)
        return speaker

    def _speaker_from_phrase(
        self, start: int, end: int, appositives: Sequence[tuple[int, int]] = ()
    ) -> _Speaker | None:
        """The speaker named by one noun phrase."""
        narrative = self.narrative
        start, end = _strip_span(narrative, start, end, " \t,;:")
        # Drop "But", "And" and the like in front of the subject.
        while True:
            word = _WORD.match(narrative, start, end)
            if word is None or word.group().lower() not in _LEADING_DISCOURSE or word.end() >= end:
                break
            start, end = _strip_span(narrative, word.end(), end, " \t,")
        if end <= start:
            return None
        phrase = narrative[start:end]
        lowered = phrase.lower()
        if lowered in _PRONOUNS:
            return self._resolve_pronoun(start, end, _PRONOUNS[lowered])
        owner = _POSSESSIVE_PRONOUN_SOURCE.fullmatch(phrase)
        if owner is not None:
            pronoun_end = start + owner.end("x")
            return self._resolve_pronoun(start, pronoun_end, _POSSESSIVE_PRONOUNS[owner.group("x").lower()])
        if _QUOTE_OR_FILL.search(phrase):
            return None
        possessive = _POSSESSIVE_SOURCE.fullmatch(phrase) if "’" in phrase or "'" in phrase else None
        if possessive is not None:
            return self._speaker_from_phrase(start + possessive.start("x"), start + possessive.end("x"), appositives)
        source = _SOURCE_OF.match(phrase)
        if source is not None:
            inner = self._speaker_from_phrase(start + source.start("x"), start + source.end("x"), appositives)
            if inner is not None:
                return inner
        cut = _RELATIVE_CUT.search(phrase)
        head_end = start + cut.start() if cut else end
        if head_end <= start:
            return None
        mentions = self._mentions_in(start, head_end)
        if mentions and _PLACE_OR_EMPLOYER.match(narrative, mentions[0].end, head_end):
            # "Maria Gomez at the Port Authority", "Ed Lin of the Trade Council": the name is the
            # head; the phrase after it says where the person works or comes from.
            head_end = mentions[0].end
            mentions = mentions[:1]
        if mentions:
            last = mentions[-1]
            tail = narrative[last.end : head_end]
            if _TRAILING_ORG_NOUN.fullmatch(tail):
                words_before = narrative[start : last.start].split()
                previous = words_before[-1] if words_before else ""
                if (
                    not previous
                    or not previous[0].islower()
                    or previous.lower() in _ROLE_WORDS
                    or _is_role(previous)
                    or previous.lower() in _ORG_NOUNS
                    or previous.lower() in _DETERMINERS
                ):
                    if len(words_before) <= 4 or (len(words_before) <= 8 and _is_role(previous.lower())):
                        # "European Central Bank chief economist Philip Lane": a role ends the run
                        return self._named_speaker(last, appositives)
        return self._generic_speaker(start, head_end, end)

    def _generic_speaker(self, start: int, head_end: int, end: int) -> _Speaker | None:
        """A source without a name ("opposition activists", "Syrian state TV", "the group")."""
        narrative = self.narrative
        words = narrative[start:head_end].split()
        if not words or len(words) > 8:
            return None
        if any(w.lower() in _AUXILIARIES for w in words) or any(_FILL in w for w in words):
            return None
        if words[-1].lower() in _FUNCTION_WORDS or not words[-1][:1].isalpha():
            return None
        lowered = [w.lower() for w in words]
        if lowered[0] == "the" and len(words) == 2 and lowered[1] in _DEFINITE_ORG_NOUNS:
            # "the group (that tracks Syria’s war)": the nearest organisation named before.
            resolved = self._resolve_pronoun(start, end, "org")
            if resolved.name is not None:
                return _Speaker(resolved.name, start, end, "org", named=True)
        first = start
        if lowered[0] in _DETERMINERS and len(words) > 1:
            first = start + narrative[start:head_end].index(words[1], len(words[0]))
        name = self._sentence_case(narrative[first:head_end].strip(), first)
        head = words[-1].lower()
        if _is_role(words[-1]):
            kind = "person"
        elif head in _ORG_NOUNS and not head.endswith("s"):
            kind = "org"
        elif head.endswith("s") and not head.endswith("ss"):
            kind = "group"
        else:
            kind = "unknown"
        return _Speaker(name, first, first + len(name), kind)

    def _sentence_case(self, name: str, start: int) -> str:
        """A source without a name, written as mid-sentence: `Opposition activists` opening a
        sentence is `opposition activists` when the document writes that word in lower case too
        (a demonym such as `Syrian` never is, so it keeps its capital)."""
        word = name.split()[0]
        if not (word[:1].isupper() and word[1:].islower()):
            return name
        text = self.text
        before = start
        while before > 0 and text[before - 1] in " \t":
            before -= 1
        if before and text[before - 1] not in "\n.!?":
            return name
        if not self._written_as_word(word.lower()):
            return name
        return word.lower() + name[len(word):]

    def _written_as_word(self, word: str) -> bool:
        """Whether `word` stands in the text with no letter, digit, `_` or `-` against either side."""
        if _WORD_CHARS.fullmatch(word):
            # Such a word stands alone exactly where it is a whole run of word characters: one pass
            # over the text collects those runs for every word asked about.
            if self.text_words is None:
                self.text_words = frozenset(_WORD_CHARS.findall(self.text))
            return word in self.text_words
        found = self.written_words.get(word)
        if found is None:
            found = re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", self.text) is not None
            self.written_words[word] = found
        return found

    def _leading_name(self, piece: tuple[int, int]) -> _Mention | None:
        """The name an appositive starts with ("Hay’et Tahrir al-Sham (HTS) group")."""
        start, end = _strip_span(self.narrative, piece[0], piece[1], " \t")
        word = _WORD.match(self.narrative, start, end)
        if word is not None and word.group().lower() == "the":
            start = word.end() + 1
        for mention in self._mentions_in(start, end):
            if mention.start <= start + 1 and len(mention.keys) >= 2:
                return mention
            break
        return None

    def _named_speaker(self, mention: _Mention, appositives: Sequence[tuple[int, int]]) -> _Speaker:
        """The speaker a name gives, its kind taken from the name or else its appositives."""
        kind = self._mention_kind(mention)
        if kind == "unknown":
            for piece in appositives:
                if _first_word(self.narrative, piece).lower() == "who":
                    kind = "person"  # "Aisha Khan, who chairs the residents' group,"
                    break
                kind = _phrase_kind(self.narrative[piece[0] : piece[1]])
                if kind != "unknown":
                    break
        return _Speaker(self._canonical(mention), mention.start, mention.end, kind, named=True)

    def _resolve_pronoun(self, start: int, end: int, wanted: str) -> _Speaker:
        """The nearest earlier speaker or name of the wanted kind; the mention stays the pronoun.

        "they" looks only at plural speakers ("activists", "officials") of this or the previous
        paragraph: the groups it stands for are seldom names, and a far one is a poor guess.
        """
        accept = {"person": ("person",), "org": ("org",), "group": ("group",)}[wanted]
        log_index = len(self.speaker_log) - 1
        while log_index >= 0 and self.speaker_log[log_index][0] >= start:
            log_index -= 1
        mention_index = bisect_left(self.name_starts, start) - 1
        floor = -1
        if wanted == "group":
            mention_index = -1
            paragraph = bisect_right(self.paragraph_starts, start) - 1
            floor = self.paragraph_starts[max(0, paragraph - 1)] if paragraph >= 0 else 0
        steps = 0
        while (log_index >= 0 or mention_index >= 0) and steps < 400:
            steps += 1
            log_pos = self.speaker_log[log_index][0] if log_index >= 0 else -1
            mention_pos = self.name_spans[mention_index][0] if mention_index >= 0 else -1
            if max(log_pos, mention_pos) < floor:
                break
            if log_pos >= mention_pos:
                speaker = self.speaker_log[log_index][1]
                log_index -= 1
                if speaker.kind in accept and speaker.name:
                    return _Speaker(speaker.name, start, end, speaker.kind, named=True)
                if wanted == "person" and speaker.kind == "unknown" and _looks_like_person(speaker):
                    # "Tom Baker said …": a source with a full name and no organisation word is
                    # taken for a person by "he" and "she"; a name that is not a source is not.
                    return _Speaker(speaker.name, start, end, "person", named=True)
            else:
                mention = self._mention(mention_index)
                mention_index -= 1
                if mention is not None:
                    kind = self._mention_kind(mention, look_up_full_name=False)
                    if kind in accept:
                        return _Speaker(self._canonical(mention), start, end, kind, named=True)
        return _Speaker(None, start, end, wanted)

    def _pieces(self, start: int, end: int) -> list[tuple[int, int]]:
        """Comma-separated pieces of [start, end), not splitting inside brackets or quotes."""
        narrative = self.narrative
        if "," not in narrative[start:end]:
            only = _strip_span(narrative, start, end, " \t")
            return [only] if only[1] > only[0] else []
        pieces: list[tuple[int, int]] = []
        depth = 0
        piece_start = start
        for match in _BRACKET_OR_COMMA.finditer(narrative, start, end):
            char = match.group()
            index = match.start()
            if char == "(":
                depth += 1
            elif char == ")":
                depth = max(0, depth - 1)
            elif depth == 0 and (index + 1 >= end or narrative[index + 1] not in "”’\""):
                pieces.append((piece_start, index))
                piece_start = index + 1
        pieces.append((piece_start, end))
        cleaned = []
        for piece in pieces:
            s, e = _strip_span(narrative, piece[0], piece[1], " \t")
            if e > s:
                cleaned.append((s, e))
        return cleaned


def _has_border(word: str) -> bool:
    """Whether the word begins with what it ends with ("ABA"), so two of it may overlap in a text."""
    return any(word[:size] == word[-size:] for size in range(1, len(word)))


def _looks_like_person(speaker: _Speaker) -> bool:
    """A named source of two to four capitalised words, none of them an organisation's."""
    words = speaker.name.split() if speaker.named and speaker.name else []
    return 2 <= len(words) <= 4 and all(
        word[:1].isupper() and not word.isupper() and word not in _ORG_KEYWORDS for word in words
    )


def _first_word(text: str, piece: tuple[int, int]) -> str:
    """The first word of a piece of text."""
    word = _WORD.match(text, piece[0], piece[1])
    return word.group() if word else ""


def _is_role(word: str) -> bool:
    """A word for what a person is or does: a listed role, or a lower-case -ist or -ian ("virologist",
    "physician"; "Syrian" is capitalised, so a demonym is no role)."""
    return word in _ROLE_WORDS or (
        len(word) > 5 and word.endswith(("ist", "ian")) and word.isalpha() and word.islower()
    )


def _phrase_kind(phrase: str) -> str:
    """person or org from the first role or organisation noun in a phrase, else unknown."""
    for word in phrase.replace("-", " ").split():
        word = word.strip(",.()")
        lowered = word.lower()
        if lowered in _ORG_NOUNS:
            return "org"
        if lowered in _ROLE_WORDS or _is_role(word):
            return "person"
    return "unknown"


def _appositive_kind(narrative: str, end: int) -> str:
    """The kind an appositive after a name gives it: `, a local activist,` → person."""
    window = narrative[end : end + 90]
    if not window.startswith(","):
        return "unknown"
    clause = window[1:].split(",", 1)[0]
    words = clause.split()
    if not words or words[0].lower() in ("which", "who", "where", "when", "whose"):
        return "unknown"
    return _phrase_kind(clause)


def _clean_mention(narrative: str, start: int, end: int) -> _Mention | None:
    """Strip stop words, titles and modifiers off a raw capitalised run; None if nothing is left."""
    cleaned = _clean_run(narrative[start:end])
    if cleaned is None:
        return None
    mention_start, name_start, name_end, keys, title = cleaned
    name = narrative[start + name_start : start + name_end]
    return _Mention(start + mention_start, start + name_end, name, keys, title)


@lru_cache(maxsize=8192)
def _clean_run(raw: str) -> tuple[int, int, int, tuple[str, ...], bool] | None:
    """The clean-up of one capitalised run, as offsets into it; names recur, so it is cached."""
    words = raw.split(" ")
    offsets = []
    position = 0
    for word in words:
        offsets.append(position)
        position += len(word) + 1
    first, last = 0, len(words)
    title_start: int | None = None
    while first < last:
        word = words[first]
        lowered = word.lower()
        if word in CAPITAL_STOPWORDS and word not in _PERSON_TITLES:
            title_start = None
        elif word in TITLES and last - first > 1:
            # The title stays in the mention ("Mr Assad") but not in the name.
            if title_start is None:
                title_start = offsets[first]
        elif (last - first > 2 and (lowered in _ROLE_WORDS or lowered in _DESCRIPTORS)
              and not any(other in _ORG_KEYWORDS for other in words[first + 1 : last])):
            # What a person is, capitalised in front of their name at the start of a sentence ("Prosecutor Daniel
            # Reeve said", "Passenger Aisha Malik, stranded…"), is said as a title is: in the mention, not the name.
            if title_start is None:
                title_start = offsets[first]
        elif last - first > 1 and (("-" in word and (_MODIFIER_TOKEN.search(word) or _AGE.fullmatch(lowered)))
                                   or lowered in _TRADES):
            pass
        elif lowered in JOINERS:
            pass
        elif lowered in PARTICLES and not (last - first > 1 and words[first + 1][:1].isupper()):
            pass
        else:
            break
        first += 1
    while last > first and words[last - 1].lower() in JOINERS:
        last -= 1
    last = _person_before_of(words, first, last)
    # "NATO Secretary-General Jens Stoltenberg", "Turkish Foreign Minister Mevlut Cavusoglu": the name
    # is what follows the last title, when two or more words follow it and none names an organisation.
    for index in range(last - 3, first - 1, -1):
        if words[index] in _HEAD_TITLES or words[index].endswith("-General"):
            if not any(word in _ORG_KEYWORDS for word in words[index + 1 : last]):
                if title_start is None:
                    title_start = offsets[first]
                first = index + 1
            break
    if first >= last:
        return None
    if last - first == 1 and (words[first] in DAYS_MONTHS or words[first] in _PERSON_TITLES):
        return None
    if "-" in words[first] and _MODIFIER_TOKEN.search(words[first]):
        return None
    keys = tuple(
        _without_prefix(word)
        for word in words[first:last]
        if word.lower() not in JOINERS and word.lower() not in PARTICLES
    )
    if not keys:
        return None
    name_start, name_end = offsets[first], offsets[last - 1] + len(words[last - 1])
    mention_start = title_start if title_start is not None else name_start
    return mention_start, name_start, name_end, keys, title_start is not None


# Words that make "X Y of Z" one name rather than a person and their employer or home town.
_NAME_OF_HEADS = _ORG_KEYWORDS | frozenset(
    """Republic Kingdom States State Emirates Islands Isle Church College School Academy Society Trust
    Board Chamber Chambers Museum Library Bureau Institutes Borough County District Province City Gulf
    Bay Sea Strait Straits Cape Port House Order Knights Friends Sons Daughters Sisters Brothers Statue
    Palace Tower Hall Club Orchestra Council Centre Center Clinic Federal National Royal Supreme
    High Central""".split()
)


def _person_before_of(words: list[str], first: int, last: int) -> int:
    """Where a person's name followed by `of …` ends: "Ed Lin of the Trade Council" → "Ed Lin".

    Only a name of two or three capitalised words, none of them an organisation's or a place's
    head ("Bank of England", "Democratic Republic of Congo" stay whole), and not an acronym.
    """
    for index in range(first + 2, min(first + 4, last)):
        if words[index] == "of":
            head = words[first:index]
            if all(
                word[:1].isupper() and not word.isupper() and word not in _NAME_OF_HEADS and word not in TITLES
                for word in head
            ):
                return index
            break
        if not words[index][:1].isupper():
            break
    return last


def _without_prefix(word: str) -> str:
    """`al-Assad` → `Assad`, so "Assad" and "Bashar al-Assad" match."""
    head, dash, rest = word.partition("-")
    if dash and rest and head.lower() in PARTICLES:
        return rest
    return word
