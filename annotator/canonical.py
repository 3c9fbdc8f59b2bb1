"""The canonical forms the whole tool agrees on: compact JSON and content ids.

Kept free of heavy imports, so that quick commands (`annotator stats`) start fast.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

STATUSES: tuple[str, ...] = ("proposed", "accepted", "edited", "rejected", "added", "flagged")
"""Every status of the contract; `flagged` (marked for discussion) is the extension old readers take for "not gold"."""
GOLD_STATUSES: tuple[str, ...] = ("accepted", "edited", "added")


def to_json(value: Any) -> str:
    """Canonical JSON: compact, UTF-8 kept as is. The store, export and import all use this form."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def canonical_key(value: Any) -> str:
    """The form a value is hashed in for an id or a cache key: compact JSON with sorted keys, so
    that the same content always gives the same hash, however its mappings were ordered."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def document_id(text: str) -> str:
    """The content id of a document: `sha256:` and the hex digest of its UTF-8 text."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
