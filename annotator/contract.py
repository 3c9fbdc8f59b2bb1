"""The annotator JSONL contract (v1), encoded and decoded in one place, and its read model.

A line is one document: `doc_id`, `source`, `title`, `text`, its `annotations` (each `id`, `kind`,
`start`, `end`, `text`, `status`, the kind's fields, `origin`) and, as an extension, `reviewed`
(every proposal decided). Extra fields may be added; these may not be renamed or removed.

`ContractDocument` (a document with its `Item`s) is what export, eval, qa and import all read,
whether it came from the store (`documents_from_store`) or from a file (`iter_contract`). The
store builds the same record text in SQL for speed (`Store.annotation_records`); a test holds the
two encoders to the same bytes.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sys
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotator.canonical import GOLD_STATUSES, STATUSES, document_id, to_json
from annotator.errors import AnnotatorError

if TYPE_CHECKING:
    from annotator.schemas import Annotation, Document
    from annotator.store import Store, StoredAnnotation

RECORD_KEYS = ("id", "kind", "start", "end", "text", "status")
"""The keys every annotation record opens with, in this order; the kind's fields follow, then `origin`."""
STATUS_FILTERS: dict[str, tuple[str, ...] | None] = {
    "gold": GOLD_STATUSES, "all": None, "proposed": ("proposed",), "unreviewed": ("proposed",),
}
"""Named sets of statuses (besides each status on its own): what `--status` and the review's filters select."""


def status_filter(status: str) -> tuple[str, ...] | None:
    """The statuses a `--status` value selects (None: all); AnnotatorError for an unknown one."""
    if status in STATUS_FILTERS:
        return STATUS_FILTERS[status]
    if status in STATUSES:
        return (status,)
    raise AnnotatorError(f"unknown status filter {status!r} (expected gold, all, proposed or one of {', '.join(STATUSES)})")


# ------------------------------------------------------------------------------ read model


@dataclass(frozen=True)
class Item:
    """One annotation as the contract holds it: span, status, the kind's fields and where it came from."""

    kind: str
    start: int
    end: int
    text: str
    fields: Mapping[str, Any]
    id: str | None = None
    status: str = "proposed"
    origin: Mapping[str, Any] | None = None
    model: Annotation | None = field(default=None, compare=False, repr=False)
    """The validated schema model, when the item was decoded or proposed as one."""

    @classmethod
    def of(cls, annotation: Annotation | StoredAnnotation) -> Item:
        """The item for a schema model (an engine's proposal, a decoded line) or an item of the store."""
        from annotator.schemas import Annotation

        if isinstance(annotation, Annotation):
            origin = annotation.origin.model_dump(mode="json") if annotation.origin else None
            return cls(annotation.kind, annotation.start, annotation.end, annotation.text, annotation.fields(),
                       annotation.id, annotation.status, origin, annotation)
        return cls(annotation.kind, annotation.start, annotation.end, annotation.text, annotation.fields(),
                   annotation.id, annotation.status, annotation.origin())

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Item:
        """The item a contract record describes, taken as it is (not validated: `qa` checks such records)."""
        fields = {key: value for key, value in record.items() if key not in RECORD_KEYS and key != "origin"}
        return cls(record.get("kind"), record.get("start"), record.get("end"), record.get("text"),  # type: ignore[arg-type]
                   fields, record.get("id"), record.get("status"), record.get("origin"))  # type: ignore[arg-type]

    def record(self) -> dict[str, Any]:
        """The contract record: the opening keys, the kind's fields, then `origin`."""
        return {"id": self.id, "kind": self.kind, "start": self.start, "end": self.end, "text": self.text,
                "status": self.status, **self.fields, "origin": dict(self.origin) if self.origin is not None else None}

    def annotation(self) -> Annotation:
        """The item as its kind's schema model."""
        if self.model is not None:
            return self.model
        from annotator.schemas import parse_annotation

        return parse_annotation({**self.record(), "origin": self.origin})


@dataclass
class ContractDocument:
    """A document with its items, from the store or a contract file: what export, eval, qa and import read."""

    document: Document
    items: list[Item]
    reviewed: bool | None = None
    """Every proposal has a decision (the store's verdict, or the line's mark); None when a file does not say."""
    undecided: int = 0
    """How many of its proposals have no decision yet, in a document whose review has begun (else 0)."""

    @property
    def id(self) -> str:
        """The document's content id."""
        return self.document.id

    @property
    def source(self) -> str:
        """Where the document came from."""
        return self.document.source

    @property
    def text(self) -> str:
        """The document's text."""
        return self.document.text

    @property
    def fully_reviewed(self) -> bool:
        """Whether its gold is complete: marked so, or (unmarked) it has items and none is undecided; never
        while an item is flagged (marked for discussion: its label is still open)."""
        if any(item.status == "flagged" for item in self.items):
            return False
        if self.reviewed is not None:
            return self.reviewed
        return bool(self.items) and all(item.status != "proposed" for item in self.items)

    @property
    def partial(self) -> bool:
        """Its review has begun and is not finished: its gold is incomplete."""
        return self.undecided > 0 or (
            not self.fully_reviewed and any(item.status != "proposed" for item in self.items))

    @functools.cached_property
    def records(self) -> list[dict[str, Any]]:
        """Its items as contract records (dicts)."""
        return [item.record() for item in self.items]

    @property
    def gold(self) -> list[Item]:
        """Its gold items: accepted, edited and added."""
        return [item for item in self.items if item.status in GOLD_STATUSES]

    @property
    def rejected(self) -> list[Item]:
        """Its rejected items, the hard negatives."""
        return [item for item in self.items if item.status == "rejected"]

    def only(self, statuses: Container[str] | None = None, kinds: Container[str] | None = None) -> ContractDocument:
        """The same document with only the items of these statuses and kinds (None: all)."""
        items = [item for item in self.items
                 if (statuses is None or item.status in statuses) and (kinds is None or item.kind in kinds)]
        return ContractDocument(self.document, items, self.reviewed, self.undecided)

    def line(self) -> str:
        """The document as one contract JSONL line (without the newline)."""
        return encode_line(self.document, (to_json(item.record()) for item in self.items), self.reviewed)


# -------------------------------------------------------------------------------- encoding


def encode_line(document: Document, records: Iterable[str], reviewed: bool | None = None) -> str:
    """A contract JSONL line from a document and its annotation records, each already JSON text."""
    mark = "" if reviewed is None else f',"reviewed":{"true" if reviewed else "false"}'
    return (
        f'{{"doc_id":{json.dumps(document.id)},"source":{json.dumps(document.source, ensure_ascii=False)},'
        f'"title":{json.dumps(document.title, ensure_ascii=False)},"text":{json.dumps(document.text, ensure_ascii=False)},'
        f'"annotations":[{",".join(records)}]{mark}}}'
    )


def documents_from_store(
    store: Store,
    status: str = "all",
    kinds: Sequence[str] | None = None,
    only: Container[str] | None = None,
    partial: bool = False,
) -> Iterator[ContractDocument]:
    """The store's documents in the order added, each with its items that pass the filters.

    `all` keeps every document; `gold` keeps every fully reviewed document (a decision on each of
    its proposals), even when none of its items is gold, because "nothing to mark here" is a label
    too; with `partial`, documents still under review too. `proposed` and a single status keep
    documents that have a matching item. With `only`, just the documents whose id is in it.
    """
    if store.overlap() > 1:
        from annotator.teams import team_documents

        yield from team_documents(store, status, kinds, only, partial)
        return
    for document, stored, reviewed, undecided in _store_rows(store, status, kinds, only, partial, records=False):
        yield ContractDocument(document, [Item.of(item) for item in stored], reviewed, undecided)


def store_lines(
    store: Store,
    status: str = "gold",
    kinds: Sequence[str] | None = None,
    only: Container[str] | None = None,
    partial: bool = False,
) -> Iterator[str]:
    """The contract JSONL lines of `documents_from_store`, their records built by the store's own query."""
    if store.overlap() > 1:
        yield from (document.line() for document in documents_from_store(store, status, kinds, only, partial))
        return
    for document, records, reviewed, _ in _store_rows(store, status, kinds, only, partial, records=True):
        yield encode_line(document, (record for _, record in records), reviewed)


def _store_rows(
    store: Store,
    status: str,
    kinds: Sequence[str] | None,
    only: Container[str] | None,
    partial: bool,
    records: bool,
) -> Iterator[tuple[Document, list[Any], bool, int]]:
    statuses = status_filter(status)
    complete = set(store.fully_reviewed_document_ids())
    undecided = {} if records else store.undecided_counts()  # lines carry the reviewed mark, not the count
    if status == "gold":
        wanted = store.reviewed_document_ids() if partial else complete
    items: Iterator[Any]
    if records:
        items = store.annotation_records(statuses, kinds)
        document_of = lambda item: item[0]  # noqa: E731
    else:
        items = store.annotations(statuses=statuses, kinds=kinds)
        document_of = lambda item: item.document_id  # noqa: E731
    pending = next(items, None)
    for document in store.documents():
        annotations = []
        while pending is not None and document_of(pending) == document.id:
            annotations.append(pending)
            pending = next(items, None)
        keep = document.id in wanted if status == "gold" else bool(annotations) or status == "all"
        if keep and (only is None or document.id in only):
            yield document, annotations, document.id in complete, undecided.get(document.id, 0)


def left_out_of_gold(store: Store, status: str, partial: bool = False) -> int:
    """How many documents a `gold` export leaves out because their review is not finished (0 with `partial`)."""
    if status != "gold" or partial:
        return 0
    if store.overlap() > 1:
        from annotator.teams import left_out

        return left_out(store)[0]
    return len(store.undecided_counts().keys() | set(store.flagged_document_ids()))


# -------------------------------------------------------------------------------- decoding

MAX_NESTING = 32
"""How deep the free-form part of a record (an annotation's `origin`) may nest."""
_LARGEST_INTEGER = 2**63
# A lone surrogate can only come from a JSON escape: the line itself is valid UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def load_json(line: str, constants: bool = False) -> Any:
    """The JSON value of a line, or ValueError with a one-line reason for input Python's parser chokes on.

    The one JSONL reader: contract files (import, eval, qa) and `.jsonl` documents (ingest) alike.
    `NaN` and `Infinity` (which Python writes, but JSON has not) are refused unless `constants`:
    ingest reads only a record's text, id, source and title, and lets the rest be.
    """
    try:
        return json.loads(line, parse_constant=None if constants else _refuse_constant)
    except json.JSONDecodeError as error:
        raise ValueError(f"invalid JSON ({error.msg} at column {error.colno})") from None
    except RecursionError:
        raise ValueError("invalid JSON (nested too deeply)") from None
    except ValueError as error:
        if "integer string conversion" in str(error):  # a guard of Python's against slow parsing
            raise ValueError(f"invalid JSON (a number longer than {sys.get_int_max_str_digits():,} digits)") from None
        raise


def check_value(value: Any, path: tuple[str | int, ...] = (), nesting: int | None = None) -> None:
    """ValueError unless every string is text (no lone surrogates), every number fits, and (with `nesting`) it is shallow.

    Iterative, so that a value nested 100,000 deep is refused, never a RecursionError.
    """
    pending: list[tuple[Any, tuple[str | int, ...]]] = [(value, path)]
    while pending:
        item, where = pending.pop()
        if nesting is not None and len(where) - len(path) > nesting:
            raise ValueError(f"{_path(where[: len(path) + nesting + 1])}: nested deeper than {nesting} levels")
        if isinstance(item, str):
            found = _LONE_SURROGATE.search(item)
            if found:
                raise ValueError(f"{_path(where)}: not text (a lone surrogate \\u{ord(found.group()):04x})")
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -_LARGEST_INTEGER <= item < _LARGEST_INTEGER:
                raise ValueError(f"{_path(where)}: integer out of range (more than 64 bits)")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValueError(f"{_path(where)}: not a finite number")
        elif isinstance(item, dict):
            for key, child in item.items():
                if _LONE_SURROGATE.search(key):
                    raise ValueError(f"{_path(where)}: a key that is not text (a lone surrogate)")
                pending.append((child, (*where, key)))
        elif isinstance(item, list):
            pending.extend((child, (*where, index)) for index, child in enumerate(item))


def _plain_text(value: Any) -> bool:
    """Whether a value is an object of strings and nulls (the usual origin): on a line that escapes no
    surrogate, such a value has nothing `check_value` could find (the quick way past it)."""
    return isinstance(value, dict) and all(item is None or type(item) is str for item in value.values())


def has_surrogate_escape(line: str) -> bool:
    """Whether a JSON line escapes a surrogate (`\\ud800`): only then can a decoded string hold a lone one."""
    return _SURROGATE_ESCAPE.search(line) is not None


def _path(parts: Sequence[str | int]) -> str:
    """A JSON path for a message, `annotations[0].origin.x`; odd or long keys quoted and cut short."""
    shown = ""
    for number, part in enumerate(parts):
        if number == 8:
            return shown + "…"  # deep enough to say where
        if isinstance(part, int):
            shown += f"[{part}]"
        else:
            name = part if part.isidentifier() and len(part) <= 40 else repr(part[:40])
            shown += f".{name}" if shown else name
    return shown or "the line"


def one_line(error: Any) -> str:
    """A pydantic ValidationError's first problem on one line, `where: message`."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def decode_line(line: str) -> ContractDocument:
    """One contract JSONL line as a document with its validated items; ValueError with a one-line reason."""
    from pydantic import ValidationError

    from annotator.schemas import Document, parse_annotation

    record = load_json(line)
    if not isinstance(record, dict):
        raise ValueError("a line must be a JSON object")
    escaped = has_surrogate_escape(line)
    if escaped:
        check_value(record)
    text = record.get("text")
    if not isinstance(text, str) or not text:
        raise ValueError("'text' must be a non-empty string")
    doc_id = document_id(text)
    given = record.get("doc_id", doc_id)
    if not isinstance(given, str):
        raise ValueError("'doc_id' must be a string")
    if given != doc_id:
        raise ValueError(f"doc_id {given[:80]!r} is not the sha256 of the text ({doc_id})")
    source = record.get("source")
    if not isinstance(source, str) or not source:
        raise ValueError("'source' must be a non-empty string")
    title = record.get("title")
    annotations_data = record.get("annotations", [])
    if not isinstance(annotations_data, list):
        raise ValueError("'annotations' must be a list")
    items = []
    first_of_id: dict[str, int] = {}
    for index, data in enumerate(annotations_data):
        if isinstance(data, dict) and not isinstance(data.get("kind"), str):
            raise ValueError(f"annotations[{index}]: 'kind' must be a string")
        if isinstance(data, dict) and "origin" in data and (escaped or not _plain_text(data["origin"])):
            # The origin is stored as it comes, extra fields and all: it must be JSON any reader takes.
            check_value(data["origin"], ("annotations", index, "origin"), MAX_NESTING)
        try:
            annotation = parse_annotation(data, document=text)
        except ValidationError as error:
            raise ValueError(f"annotations[{index}]: {one_line(error)}") from None
        except ValueError as error:
            raise ValueError(f"annotations[{index}]: {error}") from None
        if annotation.id:
            if annotation.id in first_of_id:
                raise ValueError(
                    f"annotations[{index}]: id {annotation.id[:80]!r} is used twice in this document "
                    f"(first by annotations[{first_of_id[annotation.id]}])"
                )
            first_of_id[annotation.id] = index
        items.append(Item.of(annotation))
    document = Document(id=doc_id, source=source, title=title if isinstance(title, str) else None, text=text)
    reviewed = record.get("reviewed")
    proposed = sum(1 for item in items if item.status == "proposed")
    undecided = proposed if proposed < len(items) else 0  # only a document whose review has begun
    return ContractDocument(document, items, reviewed if isinstance(reviewed, bool) else None, undecided)


def iter_contract(path: Path) -> Iterator[tuple[int, ContractDocument]]:
    """Each document of a contract JSONL file with its line number, read one line at a time.

    AnnotatorError `FILE:LINE: problem` on the first bad line (invalid UTF-8 or JSON, a lone
    surrogate, a number too large, nesting too deep, an invalid annotation, an id used twice).
    """
    from annotator.ingest import shown

    name = shown(path)  # a file name cannot forge or garble the error line
    try:
        stream = path.open("rb")
    except OSError as error:
        raise AnnotatorError(f"{name}: cannot read ({error.strerror})") from None
    with stream:
        offset = 0
        number = 0
        try:
            for number, raw in enumerate(stream, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise AnnotatorError(f"{name}:{number}: not valid UTF-8 (byte offset {offset + error.start})") from None
                offset += len(raw)
                if not line.strip():
                    continue
                try:
                    parsed = decode_line(line)
                except ValueError as error:
                    raise AnnotatorError(f"{name}:{number}: {error}") from None
                except RecursionError:  # a value nested just shallow enough to load, too deep to validate or show
                    raise AnnotatorError(f"{name}:{number}: invalid JSON (nested too deeply)") from None
                yield number, parsed
        except OSError as error:
            raise AnnotatorError(f"{name}:{number + 1}: cannot read ({error.strerror})") from None


def read_contract(path: Path) -> list[ContractDocument]:
    """Parse and validate a whole contract JSONL file; AnnotatorError `FILE:LINE: problem` on the first bad line."""
    from annotator.ingest import shown

    parsed = [document for _, document in iter_contract(path)]
    if not parsed:
        raise AnnotatorError(f"{shown(path)}: no documents")
    return parsed
