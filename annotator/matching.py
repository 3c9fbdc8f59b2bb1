"""How two sets of items of a document are paired, and which fields of a pair agree: eval's rule, which
agreement between reviewers and the gold of several reviewers (`teams`) use too.

Items are matched within a document and kind, one to one, by character overlap: `overlap` is the
share of the gold span that a proposal covers, and pairs are taken greedily, the largest share
first (ties: the closer span).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from annotator.names import same_name
from annotator.numbers import VALUE_TOLERANCE, canonical_unit, same_value

if TYPE_CHECKING:
    from annotator.contract import Item

MATCH = 0.3
"""The share of a gold span a proposal must cover to count as found."""
DEFAULT_TOLERANCE = VALUE_TOLERANCE
"""Relative tolerance for a figure's value: the schema's, which the edit form and qa apply too."""
FIELD_CHECKS: dict[str, tuple[str, ...]] = {
    "quote": ("speaker", "quote_type"),
    "figure": ("value", "unit", "qualifier"),
    "stance": ("holder", "polarity"),
}
"""The fields compared on a matched pair, per kind."""


def _same_text(a: Any, b: Any) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def field_checks(gold: Item, pred: Item, tolerance: float = DEFAULT_TOLERANCE) -> dict[str, bool]:
    """For a matched pair, which of the kind's compared fields the proposal got right."""
    checks = {}
    for name in FIELD_CHECKS.get(gold.kind, ()):
        a, b = gold.fields.get(name), pred.fields.get(name)
        if name in ("speaker", "holder"):
            checks[name] = same_name(a, b)
        elif name == "value":
            checks[name] = same_value(a, b, tolerance)
        elif name == "unit":  # one unit however written: "people"/"person", "km"/"kilometres", "$"/"USD"
            checks[name] = _same_text(canonical_unit(a), canonical_unit(b))
        else:
            checks[name] = a == b
    return checks


def match(gold: Sequence[Item], predicted: Sequence[Item]) -> list[tuple[int, int, float]]:
    """One-to-one pairs (gold index, prediction index, overlap) by largest share of the gold span first."""
    candidates = []
    by_start = sorted(range(len(predicted)), key=lambda j: predicted[j].start)
    for i, g in enumerate(gold):
        length = g.end - g.start
        for j in by_start:
            p = predicted[j]
            if p.start >= g.end:
                break
            covered = min(g.end, p.end) - max(g.start, p.start)
            if covered > 0:
                union = max(g.end, p.end) - min(g.start, p.start)
                candidates.append((covered / length, covered / union, i, j))
    candidates.sort(key=lambda c: (-c[0], -c[1], c[2], c[3]))
    pairs, used_gold, used_pred = [], set(), set()
    for share, _, i, j in candidates:
        if i not in used_gold and j not in used_pred:
            used_gold.add(i)
            used_pred.add(j)
            pairs.append((i, j, share))
    return pairs


def overlaps(a: Item, b: Item) -> bool:
    """Whether two spans match under eval's rule, whichever is taken as gold: what reviewers' items (and an
    engine's, as a rater) need to count as the same item."""
    covered = min(a.end, b.end) - max(a.start, b.start)
    return covered > 0 and covered >= MATCH * max(a.end - a.start, b.end - b.start, 1)
