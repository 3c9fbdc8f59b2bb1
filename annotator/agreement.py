"""How far reviewers (and, if asked, engines) agree with one another: figures a paper can cite.

The raters of a document are its reviewers as `teams` has them (those who decided every proposal of
it; `Store.reviewer_documents`); a rater's labels are the items their own decisions keep (accepted, edited,
added: a rejected item is not one of their labels). Per kind:

- **Spans.** For each pair of raters, over the documents both rated: their items matched one to one
  as `eval` matches them (`matching.match`), a pair counting when the shared characters are at least
  `MATCH` of either span (eval's rule whichever of the two is taken as gold, as `teams` groups items);
  F1 = 2·matched / (items of one + items of the other), pooled over the documents. `exact_f1` counts
  only identical offsets. `found_by_all`: the items of a document joined by those pairs into
  units (a rater's items with identical offsets count once); the share of units that every rater
  of the document found.
  The units are built from span matches rather than `teams`' units, which are keyed by proposal:
  two raters who keep the same span through different items (one rejects a proposal and adds a
  corrected one; two engines propose the same quote) found the same thing, and F1 says so too.
- **Fields** of the matched items (`matching.FIELD_CHECKS`: speaker and quote_type, value, unit
  and qualifier, holder and polarity), compared as `eval` compares them (names normalised, units
  canonical), a null or blank value being missing:
  Krippendorff's α over all raters, on the units (nominal; interval for a figure's `value`);
  `agreement`, the share of pairs of values within a unit that are the same; `used` the units with
  two values or more, `total` the units with two raters' items or more (a unit dropped for a
  missing value is counted in `total`, not hidden). Cohen's κ for each pair of raters on the items
  they matched (`kappa_used`/`kappa_total` per pair, likewise). A coefficient is None where it is
  undefined: nothing to compare, or a single category everywhere (no variation to agree on).

With `engines`, each engine run (`engine/model@prompt`, the origin of its proposals) is a rater
whose labels are its proposals as proposed, measured against the reviewers the same way. An
engine counts as a rater of a kind on the documents that a reviewer rated and where it proposed
anything (so it ran on them), if it proposes that kind at all somewhere in the store (a prompt for
quotes is not a rater of figures); on such a document, a kind it found nothing of counts as
nothing found. A run that found nothing at all in a document cannot be told from one that never
saw it, and is left out there.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from annotator.canonical import GOLD_STATUSES
from annotator.collector import collector_paused
from annotator.errors import AnnotatorError
from annotator.matching import FIELD_CHECKS, match, overlaps
from annotator.names import normalise_name
from annotator.numbers import canonical_unit

if TYPE_CHECKING:
    from annotator.store import Store

INTERVAL_FIELDS = frozenset({"value"})
"""Fields whose α is on the interval scale (a difference of 10 is worse than one of 1); the others are nominal."""


# ------------------------------------------------------------------ coefficients


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's κ of two raters from their (first, second) values on the same items; None where undefined.

    κ = (p_o − p_e) / (1 − p_e): p_o the share of items they agree on, p_e the agreement expected by
    chance from each rater's own share of each category. Undefined with no items, or when chance
    alone makes them agree (both gave one and the same category to every item).
    """
    return _kappa(Counter(pairs))


def _kappa(pairs: Counter[tuple[Hashable, Hashable]]) -> float | None:
    """`cohen_kappa` from how many times each (first, second) pair of values occurs."""
    n = sum(pairs.values())
    if not n:
        return None
    first: Counter[Hashable] = Counter()
    second: Counter[Hashable] = Counter()
    same = 0
    for (a, b), count in pairs.items():
        first[a] += count
        second[b] += count
        if a == b:
            same += count
    expected = sum(count * second[category] for category, count in first.items()) / (n * n)
    if math.isclose(expected, 1.0):
        return None
    return (same / n - expected) / (1 - expected)


def _squared_differences(values: Sequence[Any], metric: str) -> float:
    """Σ δ² over every ordered pair of distinct positions of `values` (nominal δ² is 0 or 1; interval, the squared difference)."""
    m = len(values)
    if len(set(values)) == 1:  # all the same (most units): nothing differs
        return 0
    if metric == "interval":
        mean = sum(values) / m
        return 2 * m * sum((v - mean) ** 2 for v in values)  # Σ_i Σ_j (v_i − v_j)², without cancellation
    return m * m - sum(count * count for count in Counter(values).values())


def krippendorff_alpha(units: Iterable[Sequence[Any]], metric: str = "nominal") -> float | None:
    """Krippendorff's α of any number of raters, from the values each unit got (missing values left out).

    α = 1 − D_o / D_e (Krippendorff 2011, "Computing Krippendorff's alpha-reliability"): with n the
    pairable values (those in units of two values or more), D_o = 1/n Σ_u Σ δ²(pairs in u) / (m_u − 1)
    and D_e = 1/(n(n−1)) Σ δ²(every pair of the n). `metric` is `nominal` or `interval`. None where
    undefined: fewer than two pairable values, or no variation at all (D_e = 0).
    """
    return _alpha(Counter(tuple(unit) for unit in units), metric)


def _alpha(units: Counter[tuple[Any, ...]], metric: str) -> float | None:
    """`krippendorff_alpha` from how many units got each tuple of values."""
    if metric not in ("nominal", "interval"):
        raise ValueError(f"unknown metric {metric!r}")
    n = 0
    within = 0.0
    pooled: Counter[Any] = Counter()
    for unit, count in units.items():
        m = len(unit)
        if m < 2:
            continue
        n += m * count
        within += count * _squared_differences(unit, metric) / (m - 1)
        for value in unit:
            pooled[value] += count
    if n < 2:
        return None
    if metric == "interval":
        mean = sum(value * count for value, count in pooled.items()) / n
        overall = 2 * n * sum(count * (value - mean) ** 2 for value, count in pooled.items())
    else:
        overall = n * n - sum(count * count for count in pooled.values())
    if overall == 0:
        return None
    return 1 - (n - 1) * within / overall


def percent_agreement(units: Iterable[Sequence[Hashable]]) -> float | None:
    """The share of pairs of values within a unit that are the same (units of two values or more); None if none."""
    return _agreement_share(Counter(tuple(unit) for unit in units))


def _agreement_share(units: Counter[tuple[Hashable, ...]]) -> float | None:
    """`percent_agreement` from how many units got each tuple of values."""
    same = pairs = 0
    for unit, count in units.items():
        m = len(unit)
        if m < 2:
            continue
        pairs += count * m * (m - 1)
        if len(set(unit)) == 1:
            same += count * m * (m - 1)
        else:
            same += count * sum(k * (k - 1) for k in Counter(unit).values())
    return same / pairs if pairs else None


# ------------------------------------------------------------------ raters and values


def engine_rater(origin: Any) -> str:
    """The rater name of an engine run: `engine/model@prompt` (`-` for a part it lacks)."""
    origin = origin or {}
    return f"{origin.get('engine') or '-'}/{origin.get('model') or '-'}@{origin.get('prompt') or '-'}"


def field_value(name: str, value: Any) -> Hashable | None:
    """A field's value as compared (None: missing): names normalised, units canonical, values as floats."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if name in ("speaker", "holder") and isinstance(value, str):
        return normalise_name(value)
    if name == "unit" and isinstance(value, str):
        return canonical_unit(value)
    if name in INTERVAL_FIELDS:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return value


def pair_name(first: str, second: str) -> str:
    """The key of a pair of raters in the JSON: their names in order, joined by `|`."""
    return "|".join(sorted((first, second)))


# ------------------------------------------------------------------ accumulation


Values = tuple[Hashable | None, ...]
"""An item's compared fields (`field_value`), in `FIELD_CHECKS` order."""
Groups = dict[tuple[int, int], dict[str, list[Values]]]
"""A document's items of one kind by offsets, then by rater: each item's compared values."""


class Span(NamedTuple):
    """One rater's item as `matching.match` needs it: offsets, and its compared values."""

    start: int
    end: int
    values: Values


@dataclass
class SpanPair:
    """Two raters' spans of one kind, pooled over the documents both rated."""

    raters: tuple[str, str]
    documents: int = 0
    first: int = 0
    second: int = 0
    matched: int = 0
    exact: int = 0

    def f1(self, matched: int) -> float | None:
        """2·matched / (items of both), None without items."""
        total = self.first + self.second
        return 2 * matched / total if total else None


def _root(parent: dict[Any, Any], node: Any) -> Any:
    """The representative of `node`'s set (union-find; a node not in `parent` is alone)."""
    while node in parent:
        node = parent[node]
    return node


@dataclass
class KindAgreement:
    """Everything counted for one kind: span counts per pair, and the compared values of the matched items
    (per pair, and per unit), turned into coefficients by `to_dict`."""

    kind: str
    documents: int = 0
    pairs: dict[str, SpanPair] = field(default_factory=dict)
    units: int = 0
    found_by_all: int = 0
    complete: dict[tuple[str, ...], Counter[tuple[tuple[Any, ...], ...]]] = field(default_factory=dict)
    """Units every rater of a document found once, by their raters: how many had each set of values, field by
    field (one tuple per field, a value per rater in the raters' order)."""
    shared: list[tuple[tuple[Any, ...], ...]] = field(default_factory=list)
    """The other units two raters or more found, likewise field by field."""
    matched: dict[str, tuple[list[Values], list[Values]]] = field(default_factory=dict)
    """Per pair of raters, the values of the pairs of items they matched outside `complete` units."""

    def add_document(self, groups: Groups, names: Sequence[str], agreed: Sequence[Values] = ()) -> None:
        """Count one document's items of this kind (`groups`) rated by `names` (two raters or more), and the
        units every one of them kept unchanged as proposed, once each, with these values (`agreed`).

        Each pair of raters: items with identical offsets pair first, in order, as `matching.match` would
        pair them (they are its best candidates); only what is left goes through `match`, which is
        quadratic, a pair kept when `matching.overlaps`. Units: the offsets, joined by those pairs (a rater's
        items with identical offsets count once in a unit).
        """
        self.documents += 1
        names = tuple(sorted(names))
        everyone = len(names)
        raters = set(names)
        complete = []
        rest = {}
        for span, members in groups.items():
            if len(members) == everyone and members.keys() == raters and sum(map(len, members.values())) == everyone:
                complete.append(members)
            else:
                rest[span] = members
        if complete or agreed:
            units = self.complete.get(names)
            if units is None:
                units = self.complete[names] = Counter()
            units.update(tuple(zip(*(members[name][0] for name in names))) for members in complete)
            for values, count in Counter(agreed).items():  # the same values over and over: expanded once each
                units[tuple((value,) * everyone for value in values)] += count
            self.units += len(complete) + len(agreed)
            self.found_by_all += len(complete) + len(agreed)
        parent: dict[tuple[int, int], tuple[int, int]] = {}
        for first, second in combinations(names, 2):
            key = pair_name(first, second)
            counts = self.pairs.get(key)
            if counts is None:
                counts = self.pairs[key] = SpanPair((first, second))
                self.matched[key] = ([], [])
            firsts, seconds = self.matched[key]
            counts.documents += 1
            exact = len(complete) + len(agreed)
            counts.first += exact
            counts.second += exact
            left_a: list[Span] = []
            left_b: list[Span] = []
            for (start, end), members in rest.items():
                a, b = members.get(first), members.get(second)
                if a is not None:
                    counts.first += len(a)
                if b is not None:
                    counts.second += len(b)
                if a is not None and b is not None:
                    both = min(len(a), len(b))
                    exact += both
                    firsts.extend(a[:both])
                    seconds.extend(b[:both])
                    a, b = a[both:], b[both:]
                if a:
                    left_a.extend(Span(start, end, values) for values in a)
                if b:
                    left_b.extend(Span(start, end, values) for values in b)
            counts.exact += exact
            counts.matched += exact
            if left_a and left_b:
                for i, j, _ in match(left_a, left_b):
                    x, y = left_a[i], left_b[j]
                    if overlaps(x, y):
                        counts.matched += 1
                        firsts.append(x.values)
                        seconds.append(y.values)
                        root_x, root_y = _root(parent, (x.start, x.end)), _root(parent, (y.start, y.end))
                        if root_x != root_y:
                            parent[root_x] = root_y
        units: dict[tuple[int, int], dict[str, Values]] = {}
        for span, members in rest.items():
            unit = units.setdefault(_root(parent, span) if parent else span, {})
            for name in names:
                given = members.get(name)
                if given and name not in unit:
                    unit[name] = given[0]
        for unit in units.values():
            if not unit:
                continue
            self.units += 1
            if len(unit) == everyone:
                self.found_by_all += 1
            if len(unit) >= 2:
                self.shared.append(tuple(zip(*unit.values())))

    def to_dict(self) -> dict[str, Any]:
        """The kind's figures as JSON (see the module's doc)."""
        keys = sorted(self.pairs)
        total = len(self.shared) + sum(units.total() for units in self.complete.values())
        fields = {}
        for index, name in enumerate(FIELD_CHECKS.get(self.kind, ())):
            metric = "interval" if name in INTERVAL_FIELDS else "nominal"
            column = itemgetter(index)
            # How many units got each tuple of values (counted in C: most units repeat a few tuples).
            patterns = Counter(map(column, self.shared))
            for units in self.complete.values():
                for unit, count in units.items():
                    patterns[column(unit)] += count
            units = Counter()
            for pattern, count in patterns.items():
                given = tuple(value for value in pattern if value is not None) if None in pattern else pattern
                if len(given) >= 2:
                    units[given] += count
            pairs = {key: self._pair_values(key, index) for key in keys}
            fields[name] = {
                "alpha": _round(_alpha(units, metric)),
                "metric": metric,
                "kappa": {key: _round(_kappa(pairs[key])) for key in keys},
                "agreement": _round(_agreement_share(units)),
                "used": sum(units.values()),
                "total": total,
                "kappa_used": {key: sum(pairs[key].values()) for key in keys},
                "kappa_total": {key: self.pairs[key].matched for key in keys},
            }
        pairs = {key: self.pairs[key] for key in keys}
        return {
            "documents": self.documents,
            "span": {
                "f1": {key: _round(counts.f1(counts.matched)) for key, counts in pairs.items()},
                "exact_f1": {key: _round(counts.f1(counts.exact)) for key, counts in pairs.items()},
                "found_by_all": _round(self.found_by_all / self.units if self.units else None),
                "units": self.units,
                "pairs": {key: {"documents": counts.documents, "items": [counts.first, counts.second],
                                "matched": counts.matched, "exact": counts.exact} for key, counts in pairs.items()},
            },
            "fields": fields,
        }



    def _pair_values(self, key: str, index: int) -> Counter[tuple[Hashable, Hashable]]:
        """How many of the pair's matched items got each (first, second) value of field `index`, both given."""
        firsts, seconds = self.matched[key]
        column = itemgetter(index)
        counted: Counter[tuple[Hashable, Hashable]] = Counter(zip(map(column, firsts), map(column, seconds)))
        first, second = self.pairs[key].raters
        for names, units in self.complete.items():
            if first in names and second in names:
                i, j = names.index(first), names.index(second)
                for unit, count in units.items():
                    values = column(unit)
                    counted[(values[i], values[j])] += count
        for pair in [pair for pair in counted if pair[0] is None or pair[1] is None]:
            del counted[pair]
        return counted


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass
class Agreement:
    """Agreement per kind between the raters named in `annotators`."""

    annotators: list[str]
    kinds: dict[str, KindAgreement]

    def to_dict(self) -> dict[str, Any]:
        """`{"annotators": [...], "kinds": {KIND: {"span": {...}, "fields": {...}}}}` (see the module's doc)."""
        with collector_paused():
            return {"annotators": self.annotators, "kinds": {kind: self.kinds[kind].to_dict() for kind in self.kinds}}


class _Compared:
    """The compared values (`field_value`) of raw field values as stored, each distinct value compared once."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self.rows: dict[tuple[Any, ...], Values] = {}
        self.compared: dict[tuple[str, Any], Hashable | None] = {}

    def __call__(self, raw: tuple[Any, ...]) -> Values:
        values = self.rows.get(raw)
        if values is None:
            values = self.rows[raw] = tuple(self.value(name, value) for name, value in zip(self.names, raw))
        return values

    def value(self, name: str, value: Any) -> Hashable | None:
        """`field_value`, once per distinct value (a speaker's name is normalised once, not once per quote)."""
        key = (name, value)
        if key not in self.compared:
            self.compared[key] = field_value(name, value)
        return self.compared[key]


def agreement(
    store: Store, kinds: Sequence[str] | None = None, annotators: Sequence[str] | None = None, engines: bool = False
) -> Agreement:
    """Agreement between the reviewers of the store (only `annotators`, if named; engine runs too with
    `engines`), per kind (only `kinds`, if named). AnnotatorError for an unknown name, or when no two
    raters rated a document in common (see the module's doc).
    """
    with collector_paused():
        return _agreement(store, kinds, annotators, engines)


def _agreement(
    store: Store, kinds: Sequence[str] | None, annotators: Sequence[str] | None, engines: bool
) -> Agreement:
    """`agreement()`. The reviewers of a document are `teams`' (`Store.reviewer_documents`: those who decided
    every proposal of it; of a document without proposals, whoever labelled it); their labels are read
    straight from the store without the texts, the proposals each reviewer accepted unchanged as one
    row per proposal (`store.report.unchanged_labels`), so that an archive's agreement takes seconds.
    """
    from annotator.schemas import ANNOTATION_KINDS
    from annotator.store import report as queries

    known = store.annotator_names()
    unknown = [name for name in annotators or () if name not in known]
    if unknown:
        raise AnnotatorError(f"{store.path}: no reviewer named {', '.join(map(repr, unknown))} "
                             f"(reviewers: {', '.join(known) or 'none yet'})")
    chosen = set(annotators) if annotators else None
    wanted = list(kinds) if kinds else list(ANNOTATION_KINDS)
    fields = {kind: FIELD_CHECKS.get(kind, ()) for kind in wanted}
    # The reads run side by side (SQLite lets go of Python's lock as it works).
    others = queries.beside(store, lambda opened: list(queries.other_labels(opened, fields)))
    reviewed = queries.beside(store, lambda opened: opened.reviewer_documents())
    unchanged = list(queries.unchanged_labels(store, fields))
    numbers = queries.document_numbers(store)
    reviewers = {numbers[document_id]: names for document_id, names in reviewed.result().items()}
    proposed = queries.documents_with_proposals(store)
    people = {str(n): name for n, name in queries.annotator_numbers(store).items()}
    compared = {kind: _Compared(names) for kind, names in fields.items()}
    groups: dict[str, dict[int, Groups]] = {kind: {} for kind in wanted}  # kind → document → items by offsets, rater
    labelled: dict[int, set[str]] = {}
    # A proposal every rater of its document accepted unchanged (most of an archive) is one complete unit:
    # kept aside with its values (`agreed`), not grouped rater by rater, unless a rater has another item
    # with the same offsets, which sends it back to `groups` (`regroup`). Engines rate other documents.
    everyone: dict[int, tuple[str, ...]] = {}
    if not engines:
        for document, found in reviewers.items():
            humans = tuple(name for name in found if chosen is None or name in chosen)
            if len(humans) >= 2:
                everyone[document] = humans
    agreed: dict[tuple[int, str], dict[tuple[int, int], Values]] = {}
    named: dict[str, tuple[str, ...]] = {}  # the raters a row's `who` names (among those chosen)

    def regroup(document: int, kind: str, span: tuple[int, int]) -> None:
        values = agreed[(document, kind)].pop(span)
        members = groups[kind].setdefault(document, {}).setdefault(span, {})
        for name in everyone[document]:
            members.setdefault(name, []).append(values)

    last, spans = None, {}
    known = {kind: comparing.rows for kind, comparing in compared.items()}  # `_Compared`'s own cache, looked up here
    for row in unchanged:
        document, kind, start, end, who = row[:5]
        raw = row[5:]
        values = known[kind].get(raw) or compared[kind](raw)
        raters = everyone.get(document)
        if raters is not None:
            names = named.get(who)
            if names is None:
                names = named[who] = tuple(sorted(name for name in (people[n] for n in who.split(","))
                                                  if chosen is None or name in chosen))
            if names == raters:
                kept = agreed.get((document, kind))
                if kept is None:
                    kept = agreed[(document, kind)] = {}
                if (start, end) not in kept and (start, end) not in groups[kind].get(document, {}):
                    kept[(start, end)] = values
                    continue
                if (start, end) in kept:
                    regroup(document, kind, (start, end))
        if (document, kind) != last:  # rows come by proposal, mostly in document order
            last, spans = (document, kind), groups[kind].setdefault(document, {})
        members = spans.get((start, end))
        if members is None:
            members = spans[(start, end)] = {}
        for n in who.split(","):
            name = people[n]
            if name in members:
                members[name].append(values)
            else:
                members[name] = [values]
    for row in others.result():
        document, kind, annotator, status, start, end = row[:6]
        name = people[str(annotator)]
        if document not in proposed:
            labelled.setdefault(document, set()).add(name)
        if status in GOLD_STATUSES:
            if (start, end) in agreed.get((document, kind), ()):
                regroup(document, kind, (start, end))
            members = groups[kind].setdefault(document, {}).setdefault((start, end), {})
            members.setdefault(name, []).append(compared[kind](row[6:]))
    for document, found in labelled.items():  # no proposals: whoever labelled it reviewed it
        reviewers[document] = sorted(found)
    raters_of: dict[int, list[str]] = {}
    for document, found in reviewers.items():
        humans = [name for name in found if chosen is None or name in chosen]
        if humans:
            raters_of[document] = humans
    engine_kinds: dict[str, set[str]] = {}
    machines_of: dict[int, set[str]] = {}
    if engines:
        rater_of = {n: engine_rater(json.loads(origin)) for n, origin in queries.origin_numbers(store).items()}
        for origin, found in queries.origin_kinds(store).items():
            engine_kinds.setdefault(engine_rater(json.loads(origin)), set()).update(found)
        for row in queries.proposals_as_proposed(store, fields):
            document, kind, origin, start, end = row[:5]
            if document in raters_of:
                name = rater_of[origin]
                machines_of.setdefault(document, set()).add(name)
                members = groups[kind].setdefault(document, {}).setdefault((start, end), {})
                members.setdefault(name, []).append(compared[kind](row[5:]))
    counted = {kind: KindAgreement(kind) for kind in wanted}
    raters: set[str] = set()
    for document, humans in raters_of.items():
        machines = sorted(machines_of.get(document, ()))
        if len(humans) + len(machines) < 2:
            continue
        for kind, counts in counted.items():
            names = humans + [name for name in machines if kind in engine_kinds[name]]
            if len(names) < 2:
                continue
            counts.add_document(groups[kind].get(document, {}), names, list(agreed.get((document, kind), {}).values()))
            raters.update(names)
    if len(raters) < 2:
        who = "reviewers" + (" or engines" if engines else "")
        raise AnnotatorError(f"{store.path}: agreement needs two raters of the same documents; no document has two "
                             f"{who}{' among ' + ', '.join(sorted(chosen)) if chosen else ''} "
                             "(set an overlap with annotator assign --overlap 2, or add --engines)")
    if not kinds:  # only the kinds someone rated
        counted = {kind: counts for kind, counts in counted.items() if counts.units}
    return Agreement(sorted(raters), counted)
