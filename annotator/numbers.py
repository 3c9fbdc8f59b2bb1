"""The number reader: the numbers written in a figure's span, as the rules engine finds them.

`figure_values` reads digits (`2,000`, `3.2`, `$5m`), number words (`three million`, `half a
million`), vague quantities (`hundreds of` → 100), shares (`half` → 50, a percentage) and ranges
(their lower bound). The schemas check a figure's value with it, the review offers a drafted
figure's value with it, and the rules engine (`annotator.propose.rules.figures`) finds figures
with the same patterns, so all three read a number one way.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

VALUE_TOLERANCE = 0.01
"""Relative tolerance between two values that are the same number."""


def same_value(a: Any, b: Any, tolerance: float = VALUE_TOLERANCE) -> bool:
    """Whether two values are one number within a relative tolerance (two nulls are the same value)."""
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=tolerance, abs_tol=1e-9)


NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "a": 1, "an": 1,
}
_SCALES = {
    "hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "dozen": 12.0,
    "k": 1e3, "m": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9, "tn": 1e12,
}
_VAGUE = {
    "dozens": 12.0, "scores": 20.0, "hundreds": 100.0, "thousands": 1e3, "millions": 1e6, "billions": 1e9,
    "tens of thousands": 1e4, "hundreds of thousands": 1e5, "tens of millions": 1e7, "hundreds of millions": 1e8,
}
FRACTIONS = {
    "half": (50.0, "exact"), "a half": (50.0, "exact"), "a third": (100 / 3, "approximately"),
    "one third": (100 / 3, "approximately"), "two thirds": (200 / 3, "approximately"),
    "two-thirds": (200 / 3, "approximately"), "a quarter": (25.0, "exact"), "one quarter": (25.0, "exact"),
    "three quarters": (75.0, "exact"), "three-quarters": (75.0, "exact"),
}
QUALIFIERS = {
    "nearly": "approximately", "almost": "approximately", "about": "approximately",
    "around": "approximately", "roughly": "approximately", "approximately": "approximately",
    "some": "approximately", "an estimated": "approximately", "estimated": "approximately",
    "close to": "approximately", "approx.": "approximately", "circa": "approximately",
    "more than": "at least", "over": "at least", "at least": "at least", "upwards of": "at least",
    "in excess of": "at least", "no fewer than": "at least", "no less than": "at least",
    "just over": "at least", "well over": "at least", "above": "at least",
    "up to": "at most", "fewer than": "at most", "less than": "at most", "under": "at most",
    "at most": "at most", "as many as": "at most", "no more than": "at most", "just under": "at most",
    "below": "at most", "a maximum of": "at most",
    "between": "range", "from": "range",
}
_NUM_WORD = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-(?:one|two|three|four|five|six|"
    r"seven|eight|nine))?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
)
_SCALE_WORD = r"(?:hundred|thousand|million|billion|trillion)"
# Currency written before the amount: symbols, the Australian and Asian press's forms ("$US40
# million", "$A58 million", "RM45 million") and ISO codes ("EUR50m"); letters match in their case.
_CURRENCY_MARK = (
    r"(?:(?-i:US\$|\$US|\$A|A\$|AU\$|C\$|NZ\$|HK\$|S\$|R\$|RM|Rs\.?|EUR|GBP|USD|JPY|CNY|AUD|CAD|CHF|INR)"
    r"|\$|£|€|¥|₹|₩)"
)
_QUANTITY_BODY = rf"""(?:
      (?P<neg>-|−|minus\s+)?(?P<cur>{_CURRENCY_MARK})?\s?
        (?P<digits>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
        (?P<sci>(?:e|\s?[x×]\s?10\^?)[-−]?\d{{1,3}}(?![\d,]))?
        (?:\s?(?P<dscale>{_SCALE_WORD}(?:\s+{_SCALE_WORD})?|bn|mn|tn|m|k|b)(?![\w-]))?
        (?P<aunit>(?-i:[^\W\d_][^\W\d_/]{{0,3}}(?:/[a-z]{{1,2}})?|°[CF]?))?
    | (?P<cur2>{_CURRENCY_MARK})?(?P<fraction>half\s+a|a\s+half|a\s+quarter(?:\s+of)?\s+a|three\s+quarters\s+of\s+a)
        \s+(?P<fscale>{_SCALE_WORD})
    | (?P<vague>(?:tens|hundreds)\s+of\s+(?:thousands|millions)|dozens|scores|hundreds|thousands|millions|billions)
        (?=\s+of\b)
    | (?P<several>several|a\s+few)\s+(?P<sscale>hundred|thousand|million|billion)
    | (?P<words>(?:{_NUM_WORD}|a|an)(?:\s+(?:and\s+a\s+half\s+)?(?:{_SCALE_WORD}|dozen))+(?:\s+(?:and\s+)?{_NUM_WORD})?
        |{_NUM_WORD})
    )(?P<pct>\s?(?:%|per\s?cent|percent))?(?![\w])"""
# A number does not start inside a word, a decimal or a code ("M5", "F-16", "10:30").
QUANTITY = re.compile(r"(?<![\w.,:/'’-])" + _QUANTITY_BODY, re.IGNORECASE | re.VERBOSE)
# The second number of a range follows its "-" directly ("300-400").
RANGE_END = re.compile(_QUANTITY_BODY, re.IGNORECASE | re.VERBOSE)
FRACTION_WORDS = (
    r"half|a\s+half|a\s+third|one\s+third|two[- ]thirds|a\s+quarter|one\s+quarter|three[- ]quarters"
)
# A share on its own, as a figure's span holds it ("half", "two-thirds").
_FRACTION = re.compile(rf"(?<![\w-])(?P<frac>{FRACTION_WORDS})(?![\w-])", re.IGNORECASE)
RANGE_JOIN = re.compile(r"\s*(?:-|–|—|to|and)\s*", re.IGNORECASE)


def figure_values(span_text: str) -> list[float]:
    """The numbers written in a figure's span, read as the figure finder reads them, in order.

    `nearly half a million people` → [500000.0], `2,000` → [2000.0], `hundreds of civilians` →
    [100.0], `between 300 and 400` → [300.0] (a range gives its lower bound, sharing a scale written
    once: `two to three million` → [2000000.0]), `half` → [50.0] (a share, as a percentage), `40%` →
    [40.0]. Qualifiers set no value. Empty when no number can be read.
    """
    found: list[tuple[int, int, float]] = []
    for match in _FRACTION.finditer(span_text):
        share = FRACTIONS.get(" ".join(match.group("frac").lower().split()))
        if share is not None:
            found.append((match.start(), match.end(), share[0]))
    position = 0
    while (match := QUANTITY.search(span_text, position)) is not None:
        position = match.end()
        value = quantity_value(match)
        if value is None:
            continue
        joined = RANGE_JOIN.match(span_text, match.end())
        if joined is not None:
            stated = qualifier_before(words_before(span_text, 0, match.start()))
            between = stated is not None and stated[0] == "range"
            joiner = joined.group().strip().lower()
            second = RANGE_END.match(span_text, joined.end()) if joiner != "and" or between else None
            second_value = quantity_value(second) if second is not None else None
            if second is not None and second_value is not None and second_value >= value:
                value = range_start(match, value, second, second_value)
                position = second.end()
        found.append((match.start(), position, value))
    # Where two readings overlap the longer wins: "half a million" over "half", "two-thirds" over "two".
    found.sort(key=lambda item: (item[0], item[0] - item[1]))
    values: list[float] = []
    covered = 0
    for start, end, value in found:
        if start >= covered:
            values.append(value)
            covered = end
    return values


def range_start(first: re.Match[str], value: float, second: re.Match[str], second_value: float) -> float:
    """The lower bound of a range; "two to three million" shares the scale written once → 2e6."""
    words = first.group("words")
    first_has_scale = bool(first.group("dscale")) or (words is not None and has_scale(words))
    second_scale = _scale_of(second)
    if not first_has_scale and second_scale and value < second_value / second_scale * 10:
        return value * second_scale
    return value


def quantity_value(match: re.Match[str]) -> float | None:
    """The number a quantity match stands for, before qualifiers."""
    digits = match.group("digits")
    if digits is not None:
        value = float(digits.replace(",", ""))
        exponent = match.group("sci")
        if exponent:
            # "1.5e6", "3 x 10^8": scientific notation.
            power = re.search(r"[-−]?\d+$", exponent)
            value *= 10.0 ** int(power.group().replace("−", "-")) if power else 1
        for scale in (match.group("dscale") or "").lower().split():
            value *= _SCALES[scale]
        if match.group("neg"):
            value = -value  # "-4.5%", "minus 12 degrees": the sign is written
        return value
    if match.group("fraction") is not None:
        fraction = " ".join(match.group("fraction").lower().split())
        share = 0.75 if fraction.startswith("three") else 0.25 if "quarter" in fraction else 0.5
        return share * _SCALES[match.group("fscale").lower()]
    if match.group("vague") is not None:
        return _VAGUE[" ".join(match.group("vague").lower().split())]
    if match.group("several") is not None:
        return _SCALES[match.group("sscale").lower()]
    if match.group("words") is not None:
        return _words_value(match.group("words"))
    return None


def _words_value(words: str) -> float | None:
    """`three million` → 3e6, `two hundred and fifty` → 250, `one and a half million` → 1.5e6."""
    tokens = words.lower().replace("-", " ").split()
    total = 0.0
    current = 0.0
    half = False
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "and" and tokens[index + 1 : index + 3] == ["a", "half"]:
            half = True
            index += 3
            continue
        if token == "and":
            index += 1
            continue
        if token in NUMBER_WORDS:
            current += NUMBER_WORDS[token]
        elif token == "hundred":
            current = (current or 1) * 100
        elif token in _SCALES:
            amount = (current or 1) + (0.5 if half else 0)
            total += amount * _SCALES[token]
            current = 0
            half = False
        else:
            return None
        index += 1
    return total + current


def has_scale(words: str) -> bool:
    """Whether number words carry a scale ("three million"), not just a small number ("three")."""
    return any(token in _SCALES for token in words.lower().split())


def _scale_of(match: re.Match[str]) -> float | None:
    """The scale a number is written with ("3 million" → 1e6), if any."""
    if match.group("dscale"):
        return _SCALES[match.group("dscale").lower().split()[-1]]
    words = match.group("words")
    if words:
        scales = [_SCALES[t] for t in words.lower().split() if t in _SCALES and t != "hundred"]
        return scales[-1] if scales else None
    return None


def words_before(text: str, floor: int, end: int, count: int = 4) -> list[tuple[int, str]]:
    """The last few words before `end` (not before `floor`), with their offsets."""
    window = max(floor, end - 12 * count - 12)
    piece = text[window:end]
    tokens = piece.split()
    if window > floor and window > 0 and not text[window - 1].isspace() and piece[:1].strip():
        tokens = tokens[1:]  # the window cut the first word in two
    tokens = tokens[-count:]
    # Locate the kept words from the right; each is the last occurrence before the one after it.
    words = []
    limit = len(piece)
    for token in reversed(tokens):
        at = piece.rfind(token, 0, limit)
        words.append((window + at, token))
        limit = at
    words.reverse()
    return words


def qualifier_before(before: list[tuple[int, str]]) -> tuple[str, int] | None:
    """The qualifier written right before a number ("more than", "nearly") and where it starts."""
    for count in (3, 2, 1):
        if len(before) >= count:
            phrase = " ".join(word.lower() for _, word in before[-count:])
            qualifier = QUALIFIERS.get(phrase)
            if qualifier is not None:
                return qualifier, before[-count][0]
    return None


# ---------------------------------------------------------------------------------------- units
#
# A figure's `unit` is one canonical singular name per unit: "kilometre", "mile per hour",
# "gigabyte", "%", currencies as ISO codes ("USD"), counted nouns in the singular ("person",
# "civilian", "charging station"). Units of measure and currencies come from quantulum3's unit
# vocabulary (its `units.json`: names, surfaces, symbols, SI prefixes and ISO currency codes), read
# as data on first use: importing quantulum3 itself would build its parser and pluralise every
# surface with `inflect`, seconds of start-up that a figure's unit does not need.

# Units news writes that quantulum3's vocabulary lacks, in its own format.
_EXTRA_UNITS: dict[str, dict[str, object]] = {
    "malaysian ringgit": {"entity": "currency", "surfaces": ["ringgit"], "symbols": ["RM", "MYR"],
                          "currency_code": "MYR"},
    "hong kong dollar": {"entity": "currency", "surfaces": ["hong kong dollar"], "symbols": ["HK$", "HKD"],
                         "currency_code": "HKD"},
    "singapore dollar": {"entity": "currency", "surfaces": ["singapore dollar"], "symbols": ["S$", "SGD"],
                         "currency_code": "SGD"},
    "hectare": {"entity": "area", "surfaces": ["hectare"], "symbols": ["ha"]},
    "year of age": {"entity": "time", "surfaces": ["year of age"], "symbols": []},
}
# Symbols written for one currency in news whatever else the vocabulary lets them mean:
# "$" is the US dollar, "¥" the yen ("¥300 billion"), "$US"/"$A" the Australian press's forms.
_PREFERRED_SYMBOLS = {
    "$": "USD", "US$": "USD", "$US": "USD", "USD": "USD", "¥": "JPY", "$A": "AUD", "A$": "AUD", "AU$": "AUD",
    "£": "GBP", "€": "EUR", "C$": "CAD", "NZ$": "NZD", "R$": "BRL", "₹": "INR", "Rs": "INR", "Rs.": "INR",
    "₩": "KRW", "RM": "MYR", "%": "%", "pct": "%", "km/h": "kilometre per hour", "kph": "kilometre per hour",
    # "35C", "95F": news writes temperatures without the degree sign.
    "C": "degree Celsius", "F": "degree fahrenheit",
}
# "minus 12 degrees" is a temperature as often as an angle: the vocabulary's "degree angle" would
# decide for the angle.
_PREFERRED_SURFACES = {
    "degree": "degree", "degrees": "degree", "degrees celsius": "degree Celsius",
    "degrees fahrenheit": "degree fahrenheit", "pounds sterling": "GBP",
}
# Surfaces that are more often another word after a number ("won 3-1", "a real threat", "10 mil").
_AMBIGUOUS_SURFACES = frozenset("won real mill mil rand penny dime cent franc pound pounds unit units".split())
_PLURAL_EXCEPTIONS = {
    "people": "person", "men": "man", "women": "woman", "children": "child", "feet": "foot", "teeth": "tooth",
    "mice": "mouse", "geese": "goose", "lives": "life", "wives": "wife", "knives": "knife", "halves": "half",
    "leaves": "leaf", "thieves": "thief", "wolves": "wolf", "shelves": "shelf", "calves": "calf",
    "loaves": "loaf", "data": "data", "media": "media", "criteria": "criterion", "phenomena": "phenomenon",
    "indices": "index", "bacteria": "bacterium", "cacti": "cactus", "buses": "bus", "viruses": "virus",
    "bonuses": "bonus", "campuses": "campus", "censuses": "census",
}
_INVARIANT_NOUNS = frozenset(
    """police staff personnel cattle sheep livestock aircraft series species news fish deer offspring
    yen yuan ringgit headquarters crossroads means""".split()
)


def _plural(surface: str) -> str:
    """A regular plural of a unit's surface ("kilometre" → "kilometres", "inch" → "inches")."""
    head, _, tail = surface.partition(" per ")
    if head.endswith(("s", "x", "z", "ch", "sh")):
        head += "es"
    elif head.endswith("y") and head[-2:-1] not in ("a", "e", "o", "u"):
        head = head[:-1] + "ies"
    elif head == "foot":
        head = "feet"
    else:
        head += "s"
    return f"{head} per {tail}" if tail else head


@functools.cache
def unit_vocabulary() -> tuple[dict[str, str], dict[str, str]]:
    """(symbols, surfaces): each a map to a canonical unit name, loaded once.

    Symbols are case-sensitive (`GB`, `km`, `$`, `RM`); surfaces are lower-case names and their
    plurals (`kilometres`, `miles per hour`, `euros`). A currency maps to its ISO code.
    """
    spec = importlib.util.find_spec("quantulum3")
    entries: dict[str, dict[str, Any]] = {}
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "units.json"
        entries = json.loads(path.read_text(encoding="utf-8"))
    entries = {**entries, **_EXTRA_UNITS}
    symbols: dict[str, str] = {}
    surfaces: dict[str, str] = {}
    ambiguous: set[str] = set()
    for name, entry in entries.items():
        for unit_name, unit in _prefixed(name, entry):
            canonical = str(unit.get("currency_code") or unit_name)
            if unit.get("entity") == "dimensionless" and canonical != "percentage":
                continue  # "dozen", "pair", "score": counts, not units
            canonical = "%" if canonical == "percentage" else canonical
            for symbol in unit.get("symbols", []):
                if symbols.get(symbol, canonical) != canonical:
                    ambiguous.add(symbol)
                symbols.setdefault(symbol, canonical)
            for surface in [unit_name, *unit.get("surfaces", [])]:
                lowered = surface.lower()
                if lowered in _AMBIGUOUS_SURFACES:
                    continue
                for form in (lowered, _plural(lowered)):
                    if surfaces.get(form, canonical) != canonical:
                        ambiguous.add(form)
                    surfaces.setdefault(form, canonical)
    for symbol in ambiguous:
        symbols.pop(symbol, None)
        surfaces.pop(symbol, None)
    symbols.update(_PREFERRED_SYMBOLS)
    surfaces.update(_PREFERRED_SURFACES)
    return symbols, surfaces


_PREFIXES = {
    "T": "tera", "G": "giga", "M": "mega", "k": "kilo", "h": "hecto", "c": "centi", "m": "milli",
    "µ": "micro", "n": "nano",
}


def _prefixed(name: str, entry: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """A vocabulary entry and its SI-prefixed forms (`metre` → `kilometre`/`km`), as quantulum3
    expands them, for the prefixes news uses."""
    yield name, entry
    for prefix in entry.get("prefixes", []):
        word = _PREFIXES.get(prefix)
        if word is None:
            continue
        yield word + name, {
            "entity": entry.get("entity"),
            "surfaces": [word + surface for surface in entry.get("surfaces", [])],
            "symbols": [prefix + symbol for symbol in entry.get("symbols", [])],
        }


def measure_unit(word: str) -> str | None:
    """The canonical name of a unit of measure or currency as written (`GB`, `mph`, `kilometres`,
    `euros`, `RM`), or None when the vocabulary does not know the word."""
    symbols, surfaces = unit_vocabulary()
    found = symbols.get(word)
    if found is None:
        found = surfaces.get(" ".join(word.lower().split()))
    return found


def singular(noun: str) -> str:
    """The singular of a counted noun: `people` → `person`, `civilians` → `civilian`, `Syrians` →
    `Syrian`, `charging stations` → `charging station` (the last word is the head)."""
    head, space, last = noun.rpartition(" ")
    lowered = last.lower()
    if lowered in _PLURAL_EXCEPTIONS:
        one = _PLURAL_EXCEPTIONS[lowered]
    elif lowered in _INVARIANT_NOUNS or not lowered.endswith("s") or lowered.endswith(("ss", "us", "is")):
        one = last
    elif lowered.endswith("ies") and len(lowered) > 4:
        one = last[:-3] + "y"
    elif lowered.endswith(("ches", "shes", "xes", "sses", "zzes")):
        one = last[:-2]
    else:
        one = last[:-1]
    return head + space + one


@functools.lru_cache(maxsize=65536)
def canonical_unit(unit: str | None) -> str | None:
    """One canonical singular name per unit: `km`/`kilometres` → `kilometre`, `mph` → `mile per hour`,
    `$`/`dollars` → `USD`, `per cent` → `%`, `people` → `person`, `civilians` → `civilian`. Remembered for
    the units met most (comparing an archive's figures asks for the same few again and again).

    Units of measure and currencies come from the vocabulary (`unit_vocabulary`); any other word is
    a counted noun and is put in the singular. Blank gives None.
    """
    if unit is None or not unit.strip():
        return None
    written = " ".join(unit.split())
    if written.lower() in ("per cent", "percent", "percentage", "percentage points", "percentage point"):
        return "%"
    found = measure_unit(written)
    if found is not None:
        return found
    # A name keeps its capital ("Syrians" → "Syrian"); a sentence's capital does not make one.
    keep_case = written.isupper() or (written[:1].isupper() and len(written.split()) == 1)
    return singular(written if keep_case else written.lower())
