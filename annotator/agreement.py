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

The documents are counted range by range (`_Counting.count`): on an archive, a range per core, each
but the first in a process of its own (`annotator.elsewhere`), side by side. α, the agreement share
and κ are worked out from sums (`Reliability`, `Kappa`), so the ranges add up (`KindFigures.merge`)
to the figures of one count of them all.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain, combinations, compress, repeat
from operator import itemgetter, mul
from typing import TYPE_CHECKING, Any, NamedTuple

from annotator.canonical import GOLD_STATUSES
from annotator.collector import collector_paused
from annotator.elsewhere import Elsewhere, cores
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
    counts = Kappa()
    counts.add(Counter(pairs))
    return counts.kappa()


def krippendorff_alpha(units: Iterable[Sequence[Any]], metric: str = "nominal") -> float | None:
    """Krippendorff's α of any number of raters, from the values each unit got (missing values left out).

    α = 1 − D_o / D_e (Krippendorff 2011, "Computing Krippendorff's alpha-reliability"): with n the
    pairable values (those in units of two values or more), D_o = 1/n Σ_u Σ δ²(pairs in u) / (m_u − 1)
    and D_e = 1/(n(n−1)) Σ δ²(every pair of the n). `metric` is `nominal` or `interval`. None where
    undefined: fewer than two pairable values, or no variation at all (D_e = 0).
    """
    counts = Reliability(metric)
    counts.add(Counter(tuple(unit) for unit in units))
    return counts.alpha()


def percent_agreement(units: Iterable[Sequence[Hashable]]) -> float | None:
    """The share of pairs of values within a unit that are the same (units of two values or more); None if none."""
    counts = Reliability("nominal")
    counts.add(Counter(tuple(unit) for unit in units))
    return counts.agreement()


@dataclass
class Kappa:
    """What Cohen's κ needs of two raters' values, added up from counts of (first, second) pairs (`add`), and of
    pairs of one value twice (`add_same`), over any ranges of documents (`merge`)."""

    n: int = 0
    same: int = 0
    first: Counter[Hashable] = field(default_factory=Counter)
    second: Counter[Hashable] = field(default_factory=Counter)

    def add(self, pairs: Counter[tuple[Hashable, Hashable]]) -> None:
        """Add how many times each (first, second) pair of values occurs."""
        first, second = self.first, self.second
        for (a, b), count in pairs.items():
            first[a] += count
            second[b] += count
            if a == b:
                self.same += count
        self.n += pairs.total()

    def add_same(self, values: Counter[Hashable]) -> None:
        """Add pairs in which both gave the same value: how many of each value."""
        total = values.total()
        self.n += total
        self.same += total
        self.first.update(values)
        self.second.update(values)

    def merge(self, other: Kappa) -> None:
        self.n += other.n
        self.same += other.same
        self.first.update(other.first)
        self.second.update(other.second)

    def kappa(self) -> float | None:
        """(p_o − p_e) / (1 − p_e); None with no pairs, or when chance alone makes the raters agree."""
        if not self.n:
            return None
        second = self.second
        expected = sum(map(mul, self.first.values(), map(second.get, self.first, repeat(0)))) / (self.n * self.n)
        if math.isclose(expected, 1.0):
            return None
        return (self.same / self.n - expected) / (1 - expected)


@dataclass
class Reliability:
    """What Krippendorff's α and the agreement share need of a set of units, on one `metric` (`nominal` or
    `interval`), added up from counts of the tuples of values units got (`add`) and of units in which every
    rater gave the same value (`add_same`), over any ranges of documents (`merge`)."""

    metric: str
    units: int = 0
    """Units of two values or more."""
    n: int = 0
    """Their values (the pairable values)."""
    within: float = 0.0
    """Σ over those units of Σ δ²(ordered pairs of their values) / (m_u − 1)."""
    pooled: Counter[Any] = field(default_factory=Counter)
    """The pairable values, how many of each."""
    pairs: int = 0
    """Ordered pairs of values within a unit."""
    differ: int = 0
    """Those of two different values."""

    def __post_init__(self) -> None:
        if self.metric not in ("nominal", "interval"):
            raise ValueError(f"unknown metric {self.metric!r}")

    def add(self, units: Counter[tuple[Any, ...]]) -> None:
        """Add units: how many got each tuple of values (units of fewer than two values do not count)."""
        pairable = Counter(dict(compress(units.items(), map((2).__le__, map(len, units)))))
        self.units += pairable.total()
        self.n += sum(map(mul, map(len, pairable), pairable.values()))
        self.pairs += sum(count * len(unit) * (len(unit) - 1) for unit, count in pairable.items())
        # Most units have one value throughout: nothing differs in them (sorted out in C).
        for unit, count in compress(pairable.items(), map((1).__lt__, map(len, map(set, pairable)))):
            m = len(unit)
            differing = m * m - sum(k * k for k in Counter(unit).values())  # ordered pairs of different values
            self.differ += count * differing
            if self.metric == "interval":
                mean = sum(unit) / m
                differing = 2 * m * sum((v - mean) ** 2 for v in unit)  # Σ_i Σ_j (v_i − v_j)², without cancellation
            self.within += count * differing / (m - 1)
        self.pooled.update(chain.from_iterable(pairable.elements()))

    def add_same(self, values: Counter[Any], m: int) -> None:
        """Add units of `m` values (two or more) all the same: how many units had each value."""
        total = values.total()
        self.units += total
        self.n += m * total
        self.pairs += m * (m - 1) * total
        self.pooled.update({value: m * count for value, count in values.items()})

    def merge(self, other: Reliability) -> None:
        self.units += other.units
        self.n += other.n
        self.within += other.within
        self.pooled.update(other.pooled)
        self.pairs += other.pairs
        self.differ += other.differ

    def alpha(self) -> float | None:
        """1 − D_o / D_e; None with fewer than two pairable values, or no variation at all."""
        n, pooled = self.n, self.pooled
        if n < 2:
            return None
        if self.metric == "interval":
            mean = sum(value * count for value, count in pooled.items()) / n
            overall = 2 * n * sum(count * (value - mean) ** 2 for value, count in pooled.items())
        else:
            overall = n * n - sum(count * count for count in pooled.values())
        if overall == 0:
            return None
        return 1 - (n - 1) * self.within / overall

    def agreement(self) -> float | None:
        """The share of ordered pairs of values within a unit that are the same; None without pairs."""
        return (self.pairs - self.differ) / self.pairs if self.pairs else None


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
    (per pair, and per unit), counted for the coefficients by `figures`."""

    kind: str
    documents: int = 0
    pairs: dict[str, SpanPair] = field(default_factory=dict)
    units: int = 0
    found_by_all: int = 0
    complete: dict[tuple[str, ...], list[tuple[tuple[Any, ...], ...]]] = field(default_factory=dict)
    """Units every rater of a document found once, by their raters: each unit's values field by field (one tuple
    per field, a value per rater in the raters' order)."""
    agreed: dict[tuple[str, ...], list[Values]] = field(default_factory=dict)
    """Units every rater of a document kept unchanged as proposed, by their raters: the one set of values they all
    gave (a complete unit whose values are all the same, kept unexpanded: most units of an archive)."""
    shared: list[tuple[tuple[Any, ...], ...]] = field(default_factory=list)
    """The other units two raters or more found, likewise field by field."""
    matched: dict[str, tuple[list[Values], list[Values]]] = field(default_factory=dict)
    """Per pair of raters, the values of the pairs of items they matched outside `complete` and `agreed` units."""
    pairings: dict[tuple[str, ...], list[tuple[str, str, SpanPair, list[Values], list[Values]]]] = field(
        default_factory=dict, repr=False)
    """Per group of raters, each pair of them with its counts and matched values."""

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
        if complete:
            units = self.complete.get(names)
            if units is None:
                units = self.complete[names] = []
            units.extend(tuple(zip(*(members[name][0] for name in names))) for members in complete)
        if agreed:
            kept = self.agreed.get(names)
            if kept is None:
                kept = self.agreed[names] = []
            kept.extend(agreed)
        self.units += len(complete) + len(agreed)
        self.found_by_all += len(complete) + len(agreed)
        parent: dict[tuple[int, int], tuple[int, int]] = {}
        pairings = self.pairings.get(names)
        if pairings is None:
            pairings = self.pairings[names] = []
            for first, second in combinations(names, 2):
                key = pair_name(first, second)
                if key not in self.pairs:
                    self.pairs[key] = SpanPair((first, second))
                    self.matched[key] = ([], [])
                pairings.append((first, second, self.pairs[key], *self.matched[key]))
        for first, second, counts, firsts, seconds in pairings:
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

    def figures(self) -> KindFigures:
        """What was counted, as `KindFigures`: per compared field, the counts α, the agreement share and κ need."""
        keys = sorted(self.pairs)
        fields = {}
        for index, name in enumerate(FIELD_CHECKS.get(self.kind, ())):
            column = itemgetter(index)
            reliability = Reliability("interval" if name in INTERVAL_FIELDS else "nominal")
            kappas = {key: Kappa() for key in keys}
            pairs = {key: Counter(zip(map(column, self.matched[key][0]), map(column, self.matched[key][1])))
                     for key in keys}
            # The field's values in the units: how many units got each tuple of values (a value per rater; counted
            # in C, most units repeat a few tuples), and in agreed units how many got each value, from every rater.
            patterns = Counter(map(column, self.shared))
            for names, units in self.complete.items():
                counted = Counter(map(column, units))
                patterns.update(counted)
                for key in keys:
                    first, second = self.pairs[key].raters
                    if first in names and second in names:
                        both = itemgetter(names.index(first), names.index(second))
                        for pattern, count in counted.items():
                            pairs[key][both(pattern)] += count
            given: Counter[tuple[Any, ...]] = Counter()
            for pattern, count in patterns.items():
                given[tuple(value for value in pattern if value is not None) if None in pattern else pattern] += count
            reliability.add(given)
            for names, values in self.agreed.items():
                counted = Counter(map(column, values))
                counted.pop(None, None)
                reliability.add_same(counted, len(names))
                for key in keys:
                    if set(self.pairs[key].raters) <= set(names):
                        kappas[key].add_same(counted)
            for key in keys:
                counted = pairs[key]
                for pair in [pair for pair in counted if pair[0] is None or pair[1] is None]:
                    del counted[pair]
                kappas[key].add(counted)
            fields[name] = (reliability, kappas)
        total = len(self.shared) + sum(map(len, self.complete.values())) + sum(map(len, self.agreed.values()))
        return KindFigures(self.kind, self.documents, {key: self.pairs[key] for key in keys}, self.units,
                           self.found_by_all, total, fields)


@dataclass
class KindFigures:
    """One kind's agreement as counted (`KindAgreement.figures`): span counts per pair of raters, and per compared
    field what α, the agreement share and κ need; added up over ranges of documents (`merge`)."""

    kind: str
    documents: int
    pairs: dict[str, SpanPair]
    units: int
    found_by_all: int
    shared_units: int
    """Units that items of two raters or more are in."""
    fields: dict[str, tuple[Reliability, dict[str, Kappa]]]

    def merge(self, other: KindFigures) -> None:
        """Add the counts of `other`, the same kind counted over other documents."""
        self.documents += other.documents
        self.units += other.units
        self.found_by_all += other.found_by_all
        self.shared_units += other.shared_units
        for key, counts in other.pairs.items():
            mine = self.pairs.setdefault(key, SpanPair(counts.raters))
            mine.documents += counts.documents
            mine.first += counts.first
            mine.second += counts.second
            mine.matched += counts.matched
            mine.exact += counts.exact
        self.pairs = dict(sorted(self.pairs.items()))
        for name, (reliability, kappas) in other.fields.items():
            mine_reliability, mine_kappas = self.fields[name]
            mine_reliability.merge(reliability)
            for key, kappa in kappas.items():
                mine_kappas.setdefault(key, Kappa()).merge(kappa)

    def to_dict(self) -> dict[str, Any]:
        """The kind's figures as JSON (see the module's doc)."""
        keys = sorted(self.pairs)
        fields = {}
        for name, (reliability, kappas) in self.fields.items():
            fields[name] = {
                "alpha": _round(reliability.alpha()),
                "metric": reliability.metric,
                "kappa": {key: _round(kappas[key].kappa()) if key in kappas else None for key in keys},
                "agreement": _round(reliability.agreement()),
                "used": reliability.units,
                "total": self.shared_units,
                "kappa_used": {key: kappas[key].n if key in kappas else 0 for key in keys},
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


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass
class Agreement:
    """Agreement per kind between the raters named in `annotators`."""

    annotators: list[str]
    kinds: dict[str, KindFigures]

    def to_dict(self) -> dict[str, Any]:
        """`{"annotators": [...], "kinds": {KIND: {"span": {...}, "fields": {...}}}}` (see the module's doc)."""
        with collector_paused():
            return {"annotators": self.annotators, "kinds": {kind: self.kinds[kind].to_dict() for kind in self.kinds}}


class _Compared:
    """The compared values (`field_value`) of raw field values as stored, each distinct row and value compared once
    (a speaker's name is normalised once, not once per quote)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self.rows: dict[tuple[Any, ...], Values] = {}
        self.caches: list[dict[Any, Hashable | None]] = [{} for _ in self.names]

    def __call__(self, raw: tuple[Any, ...]) -> Values:
        values = self.rows.get(raw)
        if values is None:
            values = self.rows[raw] = tuple(map(_compared, self.names, self.caches, raw))
        return values


def _compared(name: str, cache: dict[Any, Hashable | None], value: Any) -> Hashable | None:
    """`field_value` of a field's value, through `cache`."""
    if value in cache:
        return cache[value]
    compared = cache[value] = field_value(name, value)
    return compared


SHARD_DOCUMENTS = 2_000
"""The fewest documents worth a process of their own: below that, starting one costs more than it saves."""


def agreement(
    store: Store, kinds: Sequence[str] | None = None, annotators: Sequence[str] | None = None, engines: bool = False,
    processes: int | None = None,
) -> Agreement:
    """Agreement between the reviewers of the store (only `annotators`, if named; engine runs too with
    `engines`), per kind (only `kinds`, if named). AnnotatorError for an unknown name, or when no two
    raters rated a document in common (see the module's doc).

    The documents are counted in `processes` ranges side by side, each in a process of its own reading the
    store (default: one per core, with at least `SHARD_DOCUMENTS` documents each), and the counts added up.
    """
    from annotator.schemas import ANNOTATION_KINDS
    from annotator.store import report as queries

    known = store.annotator_names()
    unknown = [name for name in annotators or () if name not in known]
    if unknown:
        raise AnnotatorError(f"{store.path}: no reviewer named {', '.join(map(repr, unknown))} "
                             f"(reviewers: {', '.join(known) or 'none yet'})")
    wanted = list(kinds) if kinds else list(ANNOTATION_KINDS)
    engine_kinds: dict[str, set[str]] | None = None
    if engines:
        engine_kinds = {}
        for origin, found in queries.origin_kinds(store).items():
            engine_kinds.setdefault(engine_rater(json.loads(origin)), set()).update(found)
    counting = _Counting({kind: FIELD_CHECKS.get(kind, ()) for kind in wanted},
                         frozenset(annotators) if annotators else None, engine_kinds)
    # The first range is counted here, the others each in a process that takes a moment to start: a little more here.
    shards = queries.document_ranges(store, [1.1] + [1.0] * (_processes(store, processes) - 1),
                                     fewest=SHARD_DOCUMENTS if processes is None else 1)
    with collector_paused():
        elsewhere = [Elsewhere(f"{store.path}: counting agreement", _count_range, counting, str(store.path), shard)
                     for shard in shards[1:]]
        try:
            parts = [counting.count(store, shards[0])] + [process.result() for process in elsewhere]
        finally:
            for process in elsewhere:
                process.stop()
        counted, raters = parts[0]
        for more, named in parts[1:]:
            for kind, figures in more.items():
                counted[kind].merge(figures)
            raters |= named
    if len(raters) < 2:
        who = "reviewers" + (" or engines" if engines else "")
        chosen = f" among {', '.join(sorted(annotators))}" if annotators else ""
        raise AnnotatorError(f"{store.path}: agreement needs two raters of the same documents; no document has two "
                             f"{who}{chosen} (set an overlap with annotator assign --overlap 2, or add --engines)")
    if not kinds:  # only the kinds someone rated
        counted = {kind: counts for kind, counts in counted.items() if counts.units}
    return Agreement(sorted(raters), counted)


def _processes(store: Store, asked: int | None) -> int:
    """How many processes may count the store's documents: as asked, else one per core (the cores this process may
    use); one for a store in memory."""
    if str(store.path) == ":memory:":
        return 1
    return max(1, asked if asked is not None else cores())


@dataclass(frozen=True)
class _Counting:
    """What to count in a range of documents: each kind's compared fields, the reviewers chosen (None: all), and
    with engines as raters, the kinds each engine run proposes anywhere (None: no engines)."""

    fields: dict[str, Sequence[str]]
    chosen: frozenset[str] | None
    engine_kinds: dict[str, set[str]] | None

    def count(self, store: Store, documents: tuple[int, int]) -> tuple[dict[str, KindFigures], set[str]]:
        """Each kind's counts over the documents numbered `documents` (first, last), and the raters counted.

        The reviewers of a document are `teams`' (`Store.reviewer_documents`: those who decided every proposal of
        it; of a document without proposals, whoever labelled it); their labels are read straight from the store
        without the texts, the proposals each reviewer accepted unchanged as one row per proposal
        (`store.report.unchanged_labels`).
        """
        from annotator.store import report as queries

        chosen, fields, engines = self.chosen, self.fields, self.engine_kinds is not None
        wanted = list(fields)
        numbers = queries.document_numbers(store)
        reviewers = {numbers[document_id]: names for document_id, names in store.reviewer_documents(documents).items()}
        proposed = queries.documents_with_proposals(store, documents)
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
        for row in queries.unchanged_labels(store, fields, documents):
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
        for row in queries.other_labels(store, fields, documents):
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
        machines_of: dict[int, set[str]] = {}
        if engines:
            rater_of = {n: engine_rater(json.loads(origin)) for n, origin in queries.origin_numbers(store).items()}
            for row in queries.proposals_as_proposed(store, fields, documents):
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
                names = humans + [name for name in machines if kind in self.engine_kinds[name]]
                if len(names) < 2:
                    continue
                counts.add_document(groups[kind].get(document, {}), names,
                                    list(agreed.get((document, kind), {}).values()))
                raters.update(names)
        return {kind: counts.figures() for kind, counts in counted.items()}, raters


def _count_range(counting: _Counting, path: str, documents: tuple[int, int]) -> tuple[dict[str, KindFigures], set[str]]:
    """`counting` of the documents numbered `documents` in the store at `path`, opened to read (in a second process)."""
    from annotator.store import open_read_only

    with open_read_only(path) as store, collector_paused():
        return counting.count(store, documents)
