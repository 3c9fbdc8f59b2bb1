"""Figures: numbers reported as fact, their unit, subject and source (the `Figures` section of the
package docstring). Numbers are read by `annotator.numbers`."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from annotator.lexicon import DAYS_MONTHS
from annotator.numbers import (
    FRACTION_WORDS,
    FRACTIONS,
    NUMBER_WORDS,
    QUALIFIERS,
    QUANTITY,
    RANGE_END,
    RANGE_JOIN,
    canonical_unit,
    has_scale,
    measure_unit,
    qualifier_before,
    quantity_value,
    range_start,
    words_before,
)
from annotator.propose.rules.quotes import _QuoteDraft
from annotator.propose.rules.speakers import _Speakers
from annotator.propose.rules.text import (
    _AUXILIARIES,
    _FUNCTION_WORDS,
    _end_of_word_before,
)

_TIME_UNITS = frozenset(
    """second seconds minute minutes hour hours day days week weeks month months year years decade decades
    century centuries night nights weekend weekends morning mornings evening evenings""".split()
)
_INVARIANT_COUNT_NOUNS = frozenset(
    """people police personnel staff aircraft cattle sheep livestock children men women km kg tonnes tons
    metres meters miles hectares acres barrels""".split()
)
_MODIFIERS = frozenset(
    """more other additional displaced internally new local armed foreign young innocent unarmed wounded
    injured dead registered extra further former""".split()
)
_CURRENCY_CODES = frozenset("USD EUR GBP JPY CNY AUD CAD CHF INR MYR HKD SGD NZD BRL KRW ZAR MXN RUB".split())
# Letters written against a number that are no unit: ordinals, decades, clock times.
_NOT_UNITS = frozenset("s st nd rd th am pm a d p c b h".split())
_CLOCK = frozenset(["am", "pm"])
# Words after a duration that make it a point in time ("two years ago"), not an amount of time.
_TIME_POINTS = frozenset("ago earlier later before after previously since".split())
# Determiners before a duration that make it a period named, not measured ("the past 24 hours").
_PERIOD_WORDS = frozenset("the its their this these those past next last first final coming recent previous".split())
# A metre, not a million, in "a 37m hull" and "37m long".
_METRE_AFTER = re.compile(r"\s*(?:-\s*)?(?:long|high|tall|deep|wide|away|across|in\s+(?:length|height|diameter))\b")
_SINGULAR_NOUN_AFTER = re.compile(r"\s+[a-z][a-z-]*[a-rt-z]\b")
_DIGIT_FRACTION = re.compile(r"/(?P<den>\d{1,2})\s+of\s+(?:a|an|the)\s+(?P<noun>[a-z]+)\b")
_NOT_COUNT_AFTER = re.compile(r"\s+(?:jersey|shirt)\b", re.IGNORECASE)
_HYPHEN_AGE = re.compile(r"-years?-old\b(?:\s+(?P<noun>[a-z]+)\b)?", re.IGNORECASE)
_HYPHEN_DURATION = re.compile(r"-(?P<unit>year|month|week|day|hour|minute|second|decade)s?\b(?!-)", re.IGNORECASE)
# The second number of "3.9 million units, up from 2.4 million" shares the first's unit.
_SHARED_UNIT_WORDS = frozenset("from to versus vs vs. against compared with".split())
# Verbs whose object is the counted group: "killed 2,000 people" counts people killed. Each entry is
# the participle and the other forms that map to it.
_TRANSITIVE_FORMS = {
    "killed": "killing kills kill",
    "wounded": "wounding wounds",
    "injured": "injuring injures",
    "displaced": "displacing displaces",
    "forced": "forcing forces force",
    "evacuated": "evacuating evacuates",
    "arrested": "arresting arrests",
    "detained": "detaining detains",
    "rescued": "rescuing rescues",
    "uprooted": "uprooting uproots",
    "affected": "affecting affects",
    "hosted": "hosting hosts",
    "sheltered": "sheltering shelters",
    "housed": "housing houses",
    "executed": "executing executes",
    "buried": "burying buries",
    "treated": "treating treats",
    "freed": "freeing frees",
    "released": "releasing releases",
    "captured": "capturing captures",
    "abducted": "abducting abducts",
    "kidnapped": "kidnapping kidnaps",
    "deported": "deporting deports",
    "expelled": "expelling expels",
    "relocated": "relocating relocates",
    "resettled": "resettling resettles",
    "jailed": "jailing jails",
    "imprisoned": "imprisoning imprisons",
    "deployed": "deploying deploys",
    "employed": "employing employs",
    "vaccinated": "vaccinating vaccinates",
}
_TRANSITIVE_PARTICIPLES = {
    form: participle for participle, forms in _TRANSITIVE_FORMS.items() for form in (participle, *forms.split())
}
_IRREGULAR_PAST = frozenset(
    """fled left died hurt held taken driven caught sent fallen lost kept slain struck hit trapped
    remained remain remains stayed live lived living gone become returned fleeing remaining""".split()
)
_PREPOSITIONS = frozenset(
    "by in from to into across at near inside on outside within towards toward through without".split()
)
# Words that end the noun phrase of a prepositional phrase ("by fighting | in other parts").
_PHRASE_BREAKS = _FUNCTION_WORDS - {"the", "a", "an", "their", "its", "his", "her"}
_NUMBER_ANCHOR_WORDS = frozenset(
    [
        *(word for word in NUMBER_WORDS if len(word) > 2),
        *"""hundred hundreds thousand thousands million millions billion billions trillion dozen dozens scores
        tens half several few quarter quarters third thirds""".split(),
    ]
)
_DIGIT_RUN = re.compile(r"\d[\d,.]*")
_CURRENCY_BEFORE = re.compile(
    r"(?:(?<![\w$])(?:-|−|minus\s+))?(?:US\$|\$US|\$A|A\$|AU\$|C\$|NZ\$|HK\$|S\$|R\$|RM|Rs\.?|EUR|GBP|USD|JPY|CNY|AUD|CAD|"
    r"CHF|INR|[$£€¥₹₩])?\s?$|(?<![\w$.,])(?:-|−|minus\s+|\.)$"
)
_ARTICLE_BEFORE = re.compile(r"(?<![^\W_])(?:a|an|A|An)\s+$")
_FRACTION_OF = re.compile(
    rf"(?<![\w-])(?P<frac>{FRACTION_WORDS})\s+of\s+(?=(?:whom|them|those|these|the|all|its|their)\b|[a-z]+s\b)",
    re.IGNORECASE,
)
_MONTH_AFTER = re.compile(
    r"(?:st|nd|rd|th)?\s+(?:of\s+)?(?:January|February|March|April|May|June|July|August|September|October|"
    r"November|December)\b"
)
_TIME_AFTER = re.compile(r"\s?(?:am|pm|a\.m\.|p\.m\.|GMT|BST|UTC|CET|EST|hrs|h\b)", re.IGNORECASE)
_OF = re.compile(r"\s+of\b")
_STRONG = re.compile(r"-strong\s+([a-z]+)")
_OF_THE = re.compile(r"\s+of\s+(?:the|its|their|these|those)\s+")
_WHOM = re.compile(r"(?:whom|them|those|these)\b")
_WHOLE = re.compile(r"(?:(?:the|all|its|their)\s+)?([\w’'-]+)")
_MONTHS = frozenset(
    "January February March April May June July August September October November December Jan Feb Mar "
    "Apr Jun Jul Aug Sep Sept Oct Nov Dec".split()
)
_NUMBER_DETERMINERS = frozenset(
    "the its their these those his her our your my all both first last next past every each other".split()
)
_NUMBERED_NAMES = frozenset(
    """Resolution Flight Route Highway Article Section Chapter Room Gate Platform Building Block Road Street
    Phase Stage Level Grade Class Category Apollo Boeing Airbus Model Version Paragraph Item Unit Camp
    Sector Zone Terminal Brigade Division Battalion Regiment Squadron Bus Line Channel Number""".split()
)
# Verbs reporting the level of a rate or amount: "inflation fell to 3.9%", "the toll stood at 45".
_CHANGE_VERBS = frozenset(
    """fell rose climbed dropped jumped slipped grew increased decreased declined stood reached hit was were is
    are remained falls rises climbs drops jumps slips grows increases decreases declines stands reaches hits
    remains risen fallen grown totalled totaled totals amounted amounts""".split()
)
_SETTING_VERBS = frozenset(
    """kept keeps held holds left leaves set sets raised raises cut cuts lowered lowers estimated estimates
    put puts""".split()
)
_HOME_VERBS = frozenset("is was are were has had remains remained".split())
# Words between a verb and the number it counts: "killed a total of 200", "killed another 12".
_COUNT_FILLERS = frozenset("a an total of further additional another estimated".split())
# A comma-enclosed aside between a counted group and its verb: ", including four children,",
# ", mostly women,", ", the UN said,".
_ASIDE = re.compile(r",\s[^,.;:“”\"]{1,60},")
_OF_PRONOUN = re.compile(r"\s+of\s+(?:them|whom|those|these)\b")
_UNIT_WORD = re.compile(r"\s+(?P<w>[^\W\d_][\w’'-]*)")
_RIGHT_VERB = re.compile(
    r"\s+(?:(?:have|has|had|were|was|are|is|will|would)\s+)?(?:(?:been|be|being)\s+)?"
    r"(?P<adv>(?:also|reportedly|now|already|internally|forcibly|still|so\s+far)\s+)?(?P<verb>[a-z]+)\b"
)
_SENTENCE_BREAK = re.compile(r"[.?!]\s+[A-Z“\"]")
_FORCED_TO = re.compile(r"\s+to\s+(?P<verb>[a-z]+)(?:\s+(?P<obj>(?:their|his|her|its|the)\s+[a-z]+))?\b")


@dataclass(slots=True)
class _FigureDraft:
    """A figure found, before it becomes a `Figure`."""

    start: int
    end: int
    value: float
    unit: str | None
    qualifier: str
    subject: str | None
    participle: str | None  # the verb that made the subject ("killed"), for "including N" figures
    paragraph: int
    attributed_to: str | None = None


class _Figures(_Speakers):
    """The rules for figures: numbers reported as fact, with value, qualifier, unit, subject and source.

    Mixed into `_Analysis`, whose views (text, paragraphs, number anchors, quotes) they read.
    """

    # -- figures --------------------------------------------------------------------------------

    def _find_figures(self) -> list[_FigureDraft]:
        """Numbers reported as fact, with value, qualifier, unit, subject and source."""
        text = self.text
        drafts: list[_FigureDraft] = []
        consumed_until = -1
        # Numbers may start at a number word or a digit; the full pattern runs only there.
        anchors = sorted({*self.number_anchors, *(m.start() for m in _DIGIT_RUN.finditer(text))})
        for anchor in anchors:
            if anchor < consumed_until:
                continue
            before = text[max(0, anchor - 12) : anchor]
            prefix = (_CURRENCY_BEFORE if text[anchor].isdigit() else _ARTICLE_BEFORE).search(before)
            starts = [anchor - (len(before) - prefix.start()), anchor] if prefix and prefix.group() else [anchor]
            p_index = bisect_right(self.paragraph_starts, anchor) - 1
            for start in starts:
                draft = None
                fraction = _FRACTION_OF.match(text, start)
                if fraction is not None:
                    draft = self._fraction_figure(fraction, p_index, drafts)
                else:
                    quantity = QUANTITY.match(text, start)
                    if quantity is not None and quantity.end() > anchor:
                        draft = self._quantity_figure(quantity, p_index, drafts)
                if draft is not None:
                    drafts.append(draft)
                    consumed_until = draft.end
                    break
        self._attribute_figures(drafts)
        for draft in drafts:
            # The rules read the text's own word; the figure gets its canonical singular name.
            draft.unit = canonical_unit(draft.unit)
        return drafts

    def _quantity_figure(
        self, match: re.Match[str], p_index: int, drafts: list[_FigureDraft]
    ) -> _FigureDraft | None:
        """A figure from a number match, or None where the number is not a reported count."""
        text = self.text
        start, end = match.span()
        value = quantity_value(match)
        if value is None:
            return None
        currency = match.group("cur") or match.group("cur2")
        percent = match.group("pct") is not None
        vague = match.group("vague") or match.group("several")
        words = match.group("words")
        digits = match.group("digits")
        scale = (match.group("dscale") or "").lower()
        attached = match.group("aunit")
        if words is not None and words.lower() in ("one", "a", "an"):
            return None  # "one of its posts", "one that Ankara wants"
        p_start = self.paragraphs[p_index][0] if p_index >= 0 else 0
        # Up to eight words before the number: the qualifier, and before it the words that say what
        # is counted ("killed", "is home to", "inflation fell to").
        before = words_before(text, p_start, start, count=8)
        last = before[-1][1].lower().rstrip(".") if before else ""
        measured: str | None = None  # a unit of measure or currency written with the number
        if attached:
            if attached.lower() in _CLOCK or _TIME_AFTER.match(text, end):
                return None  # "11.30pm"
            measured = None if attached in _NOT_UNITS else measure_unit(attached)
            if measured is None:
                return None  # "9th", "1990s", "M5"-like codes
        if scale == "m" and not currency and not percent and (
            _METRE_AFTER.match(text, end) or (last in ("a", "an", "the") and _SINGULAR_NOUN_AFTER.match(text, end))
        ):
            value /= 1e6  # "a 37m hull", "37m long": metres, not millions
            measured = "metre"
        age = False
        hyphen_age = _HYPHEN_AGE.match(text, end)
        hyphen_duration = _HYPHEN_DURATION.match(text, end) if hyphen_age is None else None
        if hyphen_age is not None or hyphen_duration is not None:
            if last in _PERIOD_WORDS - {"the"} or (words is not None and has_scale(words)):
                return None
        if digits and "/" == text[end : end + 1]:
            fraction = _DIGIT_FRACTION.match(text, end)
            if fraction is None or int(fraction.group("den")) == 0:
                return None  # "12/05": a date
            # "3/4 of a cup": a fraction of one unit.
            value = value / int(fraction.group("den"))
            return _FigureDraft(start, fraction.end(), value, fraction.group("noun"), "exact", None, None, p_index)
        if _NOT_COUNT_AFTER.match(text, end):
            return None  # "the 23 shirt", "a No. 10 jersey"
        if last in ("aged", "age", "ages"):
            age = True  # "aged 25": an age, counted in years of age
        elif (
            digits and not currency and not percent and not scale and not measured and len(digits) <= 3
            and before and before[-1][1].endswith(",") and before[-1][1][:1].isupper() and text[end : end + 1] == ","
            and int(float(digits)) <= 120
        ):
            age = True  # "Maria Lopez, 45, said"
        elif digits and not currency and not percent and not scale and not measured and not hyphen_age:
            if last == "category":
                pass  # "a category 3 storm": a figure on the category scale
            elif _not_a_count(text, start, end, digits, before):
                return None
        qualifier = "at least" if vague else "exact"
        span_start = start
        stated = qualifier_before(before)
        if stated is not None:
            qualifier, span_start = stated
        preceding = [word for word in before if word[0] < span_start]
        if not age and any(word.lower() in ("aged", "ages", "age") for _, word in preceding[-2:]):
            age = True  # "aged between 20 and 65": ages, as a range
        if age and preceding and preceding[-1][1].lower() in ("aged", "age", "ages"):
            span_start = preceding[-1][0]
        span_end = end
        # Ranges: "between 300 and 400", "from 2,000 to 3,000", "300-400", "two to three million".
        joined = None if hyphen_age or hyphen_duration else RANGE_JOIN.match(text, end)
        if joined is not None:
            joiner = joined.group().strip().lower()
            second = RANGE_END.match(text, joined.end()) if joiner != "and" or qualifier == "range" else None
            second_value = quantity_value(second) if second is not None else None
            if second is not None and second_value is not None and joiner in "-–—" and second_value <= value:
                if digits and second.group("digits") and not (percent or currency or measured):
                    return None  # "won 3-1", "ended 1-1": a score, not a count
            first_mark = "%" if percent else currency
            second_mark = "%" if second is not None and second.group("pct") else (second.group("cur") if second else None)
            if (first_mark and second_mark and (first_mark == "%") != (second_mark == "%")) or (
                joiner == "to" and qualifier != "range" and (last in _CHANGE_VERBS or last == "by")
            ):
                second = None  # "rose 4% to $18.20", "fell 0.2% to 4.1%": a change and a level, two figures
            if second is not None and second_value is not None and second_value >= value:
                value = range_start(match, value, second, second_value)
                qualifier = "range"
                span_end = end = second.end()
                percent = percent or second.group("pct") is not None
                currency = currency or second.group("cur")
                if second.group("aunit") and measured is None:
                    measured = measure_unit(second.group("aunit"))  # "5-10W"
                hyphen_age = _HYPHEN_AGE.match(text, end)
        if qualifier == "range" and span_end == match.end():
            # "from 2,000" with no "to …" is no range: the "from" is not part of the figure.
            qualifier = "exact"
            span_start = start
        unit: str | None = None
        unit_end = span_end
        inherited = False
        strength_of: str | None = None
        noun_after: str | None = None
        if hyphen_age is not None:
            # "the 52-year-old coach": an age; the noun after is whose age it is.
            unit, unit_end, age = "year of age", hyphen_age.end(), True
            noun_after = hyphen_age.group("noun")
        elif hyphen_duration is not None:
            # "a 30-day truce": a duration, counted in days.
            unit, unit_end = hyphen_duration.group("unit").lower(), hyphen_duration.end()
        elif age:
            unit = "year of age"
        elif percent:
            unit = "%"
        elif currency:
            unit = _currency_code(currency)
        elif measured is not None:
            unit = measured
        elif last == "category" and digits:
            unit, span_start = "category", before[-1][0]
        elif _STRONG.match(text, span_end):
            # "a 5,000-strong force": the size of the force; no unit is written.
            strong = _STRONG.match(text, span_end)
            unit_end = strong.end()
            strength_of = strong.group(1)
        elif _OF_PRONOUN.match(text, span_end):
            # "nearly 700,000 of them": the figure before says what "them" counts.
            previous = _previous_in_sentence(text, drafts, start)
            unit = previous.unit if previous is not None else None
            inherited = True
        else:
            scan_from = span_end
            if vague:
                of = _OF.match(text, span_end)
                scan_from = of.end() if of else span_end
            found = _unit_after(text, scan_from)
            if found == "name":
                return None  # part of a name ("10 Downing Street")
            if isinstance(found, tuple) and found[0].lower() in _TIME_UNITS:
                # "in 30 minutes", "200 days": a duration; "two years ago" is a point in time.
                after = _UNIT_WORD.match(text, found[1])
                if last in _PERIOD_WORDS or (after is not None and after.group("w").lower() in _TIME_POINTS):
                    return None
            if found is not None:
                unit, unit_end = found
            elif vague:
                return None
            else:
                whole = _OF_THE.match(text, span_end)
                whole_number = RANGE_END.match(text, whole.end()) if whole else None
                counted = _unit_after(text, whole_number.end()) if whole_number else None
                if isinstance(counted, tuple):
                    unit = counted[0]  # "35 of the 42 missiles": a part counted in the whole's unit
        context = [word for word in before if word[0] < span_start]
        if unit is None and not inherited and not (percent or currency or age) and (
            _counting_verb(context) or (context and context[-1][1].lower() in _SHARED_UNIT_WORDS)
        ):
            # "killing 12 people and wounding more than 60", "3.9 million units, up from 2.4 million":
            # the second number shares the first's unit.
            previous = _previous_in_sentence(text, drafts, start)
            shared = context[-1][1].lower() in _SHARED_UNIT_WORDS
            if previous is not None and previous.unit is not None and (
                shared or (previous.unit != "%" and previous.unit not in _CURRENCY_CODES)
            ):
                unit = previous.unit
        if words is not None:
            determined = bool(before) and before[-1][1].lower() in _NUMBER_DETERMINERS
            small_word = not has_scale(words)
            if small_word and (unit is None or determined):
                return None  # "the two countries", "the first three months"
            if determined and unit is None:
                return None
        if strength_of is not None:
            subject, participle = strength_of, None
        elif age:
            subject, participle = noun_after or _name_before(before), None
        else:
            subject, participle = self._figure_subject(context, span_start, span_end, unit_end, unit, inherited, drafts)
        return _FigureDraft(span_start, unit_end, float(value), unit, qualifier, subject, participle, p_index)

    def _fraction_figure(self, match: re.Match[str], p_index: int, drafts: list[_FigureDraft]) -> _FigureDraft | None:
        """`half of whom`, `a third of the town`: a share, as a percentage."""
        text = self.text
        fraction = " ".join(match.group("frac").lower().split())
        value, qualifier = FRACTIONS[fraction]
        start, end = match.span("frac")
        p_start = self.paragraphs[p_index][0] if p_index >= 0 else 0
        stated = qualifier_before(words_before(text, p_start, start))
        if stated is not None and stated[0] != "range":
            qualifier, start = stated
        previous = _previous_in_sentence(text, drafts, start)
        counted = previous.unit if previous is not None and previous.unit != "%" else None
        pronoun = _WHOM.match(text, match.end())
        if pronoun is not None:
            verb_phrase = _verb_phrase(text, pronoun.end())
            if verb_phrase and counted:
                subject = f"{counted} {verb_phrase}"
            else:
                subject = counted or verb_phrase
        else:
            # "a third of the town was destroyed": the share of the town destroyed.
            whole = _WHOLE.match(text, match.end())
            if whole is None:
                subject = None
            else:
                verb_phrase = _verb_phrase(text, whole.end())
                subject = f"{whole.group(1)} {verb_phrase}" if verb_phrase else whole.group(1)
        return _FigureDraft(start, end, value, "%", qualifier, subject, None, p_index)

    def _figure_subject(
        self,
        before: list[tuple[int, str]],
        span_start: int,
        number_end: int,
        unit_end: int,
        unit: str | None,
        inherited: bool,
        drafts: list[_FigureDraft],
    ) -> tuple[str | None, str | None]:
        """What a figure counts, from the words around it, and the verb that says so.

        `before` holds the words before the figure's span, with their offsets.
        """
        text = self.text
        counted = unit if unit not in (None, "%", "year of age", "category") and unit not in _CURRENCY_CODES and measure_unit(unit) is None else None
        lowered = [word.lower() for _, word in before]
        # "Idlib is home to three million people": the population of Idlib.
        if lowered[-2:] == ["home", "to"] and len(before) >= 3:
            verb = len(before) - 3
            if lowered[verb] == "also" and verb > 0:
                verb -= 1
            if lowered[verb] == "been" and verb > 0:
                verb -= 1
            if lowered[verb] in _HOME_VERBS:
                place = self._mention_ending_at(_end_of_word_before(text, before[verb][0]))
                return (f"population of {self._canonical(place)}" if place else "population"), None
        # "killed 2,000 people", "forcing half a million people to flee".
        participle = _counting_verb(before)
        if participle is not None and counted:
            if participle == "forced":
                forced = _FORCED_TO.match(text, unit_end)
                if forced is not None:
                    return f"{counted} forced to {_join(forced.group('verb'), forced.group('obj'))}", None
            return f"{counted} {participle}", participle
        # "…, including hundreds of civilians": counted by the verb of the figure before.
        if counted and (lowered[-1:] == ["including"] or lowered[-2:] in (["among", "them"], ["among", "whom"])):
            previous = _previous_in_sentence(text, drafts, span_start)
            if previous is not None and previous.participle:
                return f"{counted} {previous.participle}", previous.participle
        if counted is None:
            measured = _measured_quantity(before[-6:])
            if measured is not None:
                return measured, None
        after = unit_end
        if inherited:
            of_pronoun = _OF_PRONOUN.match(text, number_end)
            after = of_pronoun.end() if of_pronoun else number_end
        verb_phrase = _verb_phrase(text, after)
        if verb_phrase is None:
            aside = _ASIDE.match(text, after)
            if aside is not None:
                verb_phrase = _verb_phrase(text, aside.end())  # "12 civilians, including four children, were"
        if verb_phrase:
            participle = verb_phrase.split()[0] if verb_phrase.split()[0].endswith("ed") else None
            return (f"{counted} {verb_phrase}" if counted else verb_phrase), participle
        return counted, None

    def _attribute_figures(self, drafts: list[_FigureDraft]) -> None:
        """A figure inside a quote is the speaker's figure."""
        quotes = sorted(
            (q for q in self.quotes if q.speaker is not None and q.speaker.name),
            key=lambda q: (q.start, q.end),
        )
        starts = [q.start for q in quotes]
        for draft in drafts:
            index = bisect_right(starts, draft.start) - 1
            best: _QuoteDraft | None = None
            steps = 0
            while index >= 0 and steps < 12:
                quote = quotes[index]
                if quote.start <= draft.start and draft.end <= quote.end:
                    if best is None or quote.end - quote.start < best.end - best.start:
                        best = quote
                index -= 1
                steps += 1
            if best is not None and best.speaker is not None:
                draft.attributed_to = best.speaker.name


def _currency_code(mark: str) -> str:
    """The ISO code of a currency mark written before an amount ("$US" → "USD", "RM" → "MYR")."""
    return measure_unit(mark.strip()) or measure_unit(mark.strip().rstrip(".")) or mark.strip()


def _name_before(before: list[tuple[int, str]]) -> str | None:
    """Whose age "Maria Lopez, 45," gives: the capitalised words before the comma."""
    name: list[str] = []
    for _, word in reversed(before):
        word = word.rstrip(",")
        if not word[:1].isupper() or (name and before and word.endswith((".", ","))):
            break
        name.insert(0, word)
        if len(name) == 3:
            break
    return " ".join(name) or None


def _counting_verb(before: list[tuple[int, str]]) -> str | None:
    """The participle of a verb counting the number after it: "killed (a total of)" → "killed"."""
    index = len(before) - 1
    while index >= 0 and before[index][1].lower() in _COUNT_FILLERS:
        index -= 1
    if index < 0:
        return None
    return _TRANSITIVE_PARTICIPLES.get(before[index][1].lower())


def _measured_quantity(before: list[tuple[int, str]]) -> str | None:
    """What a rate or amount measures: "British inflation fell to" → "British inflation",
    "the BoE has kept rates at" → "rates"."""
    words = [word for _, word in before]
    lowered = [word.lower() for word in words]
    if lowered[-1:] == ["at"]:
        # "kept rates at 5.25%", "estimated the crowd at 10,000": the object between verb and "at".
        for verb in range(len(lowered) - 3, max(-1, len(lowered) - 6), -1):
            if lowered[verb] in _SETTING_VERBS:
                measured = [w for w in words[verb + 1 : -1] if w.lower() not in _NUMBER_DETERMINERS]
                return " ".join(measured) if measured and all(w.isalpha() for w in measured) else None
    verb = len(lowered) - (2 if lowered and lowered[-1] in ("to", "by", "at") else 1)
    if verb < 1 or lowered[verb] not in _CHANGE_VERBS:
        return None
    index = verb - 1
    while index >= 0 and lowered[index] in _AUXILIARIES | {"been", "also", "now"}:
        index -= 1
    subject: list[str] = []
    while index >= 0 and len(subject) < 2:
        word = words[index]
        if lowered[index] in _FUNCTION_WORDS or not word.replace("-", "").isalpha():
            break
        subject.insert(0, word)
        index -= 1
    return " ".join(subject) or None


def _not_a_count(text: str, start: int, end: int, digits: str, before: list[tuple[int, str]]) -> bool:
    """Years, dates, times, and numbers that are part of a name."""
    short = len(digits) <= 2
    last = before[-1][1] if before else ""
    if short and last.rstrip(".") in _MONTHS:
        return True  # "April 30"
    if short and _MONTH_AFTER.match(text, end):
        return True  # "30 April", "1st of May"
    if _TIME_AFTER.match(text, end) or text[end : end + 1] in (":", "/"):
        return True  # "10:30", "9am", "12/05"
    if "," not in digits and last[:1].isupper() and last.rstrip(".") not in _MONTHS and last not in DAYS_MONTHS:
        previous = before[-2][1][-1:] if len(before) >= 2 else "."
        inside_sentence = previous.islower() or previous in ",;:"
        if (inside_sentence and last.lower() not in QUALIFIERS) or last in _NUMBERED_NAMES:
            return True  # "Resolution 2254", "Flight 17": part of a name
    if len(digits) == 4 and digits.isdigit() and 1500 <= int(digits) <= 2100:
        found = _unit_after(text, end)
        if not isinstance(found, tuple) or text[end : end + 1] == "s":
            return True  # "since 2014", "the 1990s"
    if last.lower() in ("aged", "age", "no", "no.", "number") or (
        last[-1:] == "," and last[:1].isupper() and text[end : end + 1] == "," and short
    ):
        return True  # ages ("Ms Haddad, 45, said", "aged 25") and numbered things
    if not before and text[end : end + 1] in (".", ")") and short:
        return True  # "1." or "2)" opening a paragraph: a list marker
    return False


def _unit_after(text: str, position: int) -> tuple[str, int] | str | None:
    """The counted noun or unit after a number, skipping up to two modifiers (`400 charging
    stations`, `14 first-team players`); "name" for a number before a name ("10 Downing Street")."""
    measure = _measure_after(text, position)
    if measure is not None:
        return measure
    skipped = 0
    capitalised = False
    while skipped <= 2:
        word_match = _UNIT_WORD.match(text, position)
        if word_match is None:
            break
        word = word_match.group("w")
        lowered = word.lower()
        if lowered in _TIME_UNITS:
            return (word, word_match.end()) if skipped == 0 else None
        if lowered in _FUNCTION_WORDS:
            break
        if word[:1].isupper() and not word.isupper():
            following = _UNIT_WORD.match(text, word_match.end())
            if lowered.endswith("s") and (following is None or not following.group("w")[:1].isupper()):
                return word, word_match.end()  # "2,000 Syrians"
            # A modifier such as "Syrian" or "Turkish"; the counted noun follows.
            capitalised = True
            skipped += 1
            position = word_match.end()
            continue
        if lowered in _INVARIANT_COUNT_NOUNS or (
            lowered.endswith("s") and not lowered.endswith("ss") and len(lowered) > 2 and word.isalpha()
        ):
            return lowered, word_match.end()
        if lowered in _MODIFIERS or (
            # "charging", "first-team": a modifier, but not a verb ("fled") nor a noun of its own.
            not lowered.endswith("ed") and lowered not in _IRREGULAR_PAST and word.replace("-", "").isalpha()
            and word.islower() and _UNIT_WORD.match(text, word_match.end()) is not None
        ):
            skipped += 1
            position = word_match.end()
            continue
        break
    # "10 Downing Street", "200 Kurdish": a number inside or before a name, not a count.
    return "name" if capitalised else None


_MEASURE_WORDS = re.compile(r"\s?(?P<w>[^\W\d_°][\w/]*|°[CF]?)(?:\s+(?P<w2>[^\W\d_][\w]*))?(?:\s+(?P<w3>[^\W\d_][\w]*))?")


def _measure_after(text: str, position: int) -> tuple[str, int] | None:
    """A unit of measure or currency written after a number ("80 mph", "14.0 mm", "9.5 million
    yuan", "30 miles per hour", "5 sq km"), by the unit vocabulary; the longest phrase wins."""
    match = _MEASURE_WORDS.match(text, position)
    if match is None or (match.start("w") == position and not text[position - 1 : position].isdigit()):
        return None
    words = [match.group(name) for name in ("w", "w2", "w3") if match.group(name)]
    ends = [match.end(name) for name in ("w", "w2", "w3") if match.group(name)]
    for count in range(len(words), 0, -1):
        phrase = " ".join(words[:count])
        lowered = phrase.lower()
        if count == 1 and (lowered in _FUNCTION_WORDS or lowered in _NOT_UNITS or len(phrase) < 2):
            return None
        if lowered in _TIME_UNITS or (count == 1 and lowered in _INVARIANT_COUNT_NOUNS and lowered not in ("km", "kg")):
            return None  # read as a duration or a counted noun
        found = measure_unit(phrase)
        if found is not None:
            return found, ends[count - 1]
    return None


def _verb_phrase(text: str, position: int) -> str | None:
    """The predicate after a counted group: `have been forced to leave their homes` →
    `forced to leave their homes`; `displaced by fighting in …` → `displaced by fighting`."""
    match = _RIGHT_VERB.match(text, position)
    if match is None:
        return None
    verb = match.group("verb")
    if not (verb.endswith("ed") or verb in _IRREGULAR_PAST) or verb in ("need", "speed", "seed"):
        return None
    adverb = (match.group("adv") or "").strip()
    head = f"{adverb} {verb}".strip()
    if verb == "forced":
        forced = _FORCED_TO.match(text, match.end())
        if forced is not None:
            return f"{head} to {_join(forced.group('verb'), forced.group('obj'))}"
        return head
    words = []
    for word in re.finditer(r"\s+([\w’'-]+)|([,.;:!?)“”])", text[match.end() : match.end() + 80]):
        if word.group(2) or word.start() != (words[-1][1] if words else 0):
            break
        token = word.group(1)
        if not words:
            if token.lower() not in _PREPOSITIONS:
                break
        elif token.lower() in _PREPOSITIONS or token.lower() in _PHRASE_BREAKS:
            break
        words.append((token, word.end()))
        if len(words) >= 4:
            break
    if len(words) >= 2:
        return f"{head} {' '.join(w for w, _ in words)}"
    return head


def _join(verb: str, obj: str | None) -> str:
    """A verb and its object, when it has one."""
    return f"{verb} {obj}" if obj else verb


def _previous_in_sentence(text: str, drafts: list[_FigureDraft], start: int) -> _FigureDraft | None:
    """The figure before `start` in the same sentence, if any."""
    if not drafts:
        return None
    previous = drafts[-1]
    # Searched in place, not in a copy of the text between: the figure before may be far back.
    if text.find("\n", previous.end, start) >= 0 or _SENTENCE_BREAK.search(text, previous.end, start):
        return None
    return previous
