"""Export and import of the annotator JSONL contract (v1), and CSV export.

A JSONL line is one document: `doc_id`, `source`, `title`, `text` and its `annotations`, each with
`id`, `kind`, `start`, `end`, `text`, `status`, the kind's fields and `origin`. Export writes the
canonical compact form, so export → import into a fresh database → export is byte-identical.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from annotator.errors import AnnotatorError
from annotator.schemas import (
    ANNOTATION_KINDS,
    GOLD_STATUSES,
    STATUSES,
    Annotation,
    Document,
    document_id,
    parse_annotation,
    to_json,
)
from annotator.store import Store, StoredAnnotation, manual_id

STATUS_FILTERS: dict[str, tuple[str, ...] | None] = {"gold": GOLD_STATUSES, "all": None, "proposed": ("proposed",)}


def _status_filter(status: str) -> tuple[str, ...] | None:
    if status in STATUS_FILTERS:
        return STATUS_FILTERS[status]
    if status in STATUSES:
        return (status,)
    raise AnnotatorError(f"unknown status filter {status!r} (expected gold, all, proposed or one of {', '.join(STATUSES)})")


def _documents_to_export(
    store: Store, status: str, kinds: Sequence[str] | None, records: bool = False
) -> Iterator[tuple[Document, list[Any]]]:
    """Documents in the order they were added, each with its annotations that pass the filters.

    `all` keeps every document; `gold` keeps every reviewed document (one with any decision), even
    when none of its items is gold, because "nothing to mark here" is a label too; `proposed` and a
    single status keep documents that have a matching item. With `records`, annotations come as
    contract JSON text rather than `StoredAnnotation`s.
    """
    statuses = _status_filter(status)
    reviewed = store.reviewed_document_ids() if status == "gold" else set()
    if records:
        items: Iterator[Any] = store.annotation_records(statuses, kinds)
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
        if annotations or status == "all" or document.id in reviewed:
            yield document, annotations


def export_jsonl(store: Store, out: IO[str], status: str = "gold", kinds: Sequence[str] | None = None) -> int:
    """Write the contract JSONL; return the number of documents written."""
    count = 0
    for document, annotations in _documents_to_export(store, status, kinds, records=True):
        out.write(
            f'{{"doc_id":{json.dumps(document.id)},"source":{json.dumps(document.source, ensure_ascii=False)},'
            f'"title":{json.dumps(document.title, ensure_ascii=False)},"text":{json.dumps(document.text, ensure_ascii=False)},'
            f'"annotations":[{",".join(record for _, record in annotations)}]}}\n'
        )
        count += 1
    return count


def proposals_jsonl(out: IO[str], documents: Sequence[Document], results: dict[str, Any]) -> int:
    """Write proposals as contract JSONL with `status: proposed`, one line per document; return lines.

    `results` maps a document id to its `propose.DocumentResult`.
    """
    from annotator.store import proposal_id

    count = 0
    for document in documents:
        result = results.get(document.id)
        if result is None:
            continue
        annotations = []
        for proposal in result.proposals:
            annotation = proposal.annotation
            origin = annotation.origin.model_dump(mode="json") if annotation.origin else {}
            annotations.append(
                {"id": annotation.id or proposal_id(document.id, annotation, to_json(origin)), "kind": annotation.kind,
                 "start": annotation.start, "end": annotation.end, "text": annotation.text, "status": "proposed",
                 **annotation.fields(), "origin": origin}
            )
        out.write(to_json({"doc_id": document.id, "source": document.source, "title": document.title,
                           "text": document.text, "annotations": annotations}) + "\n")
        count += 1
    return count


def csv_columns() -> list[str]:
    """The CSV header: document and span columns, every kind's fields, then provenance."""
    kind_fields: list[str] = []
    for cls in ANNOTATION_KINDS.values():
        kind_fields += [name for name in cls.kind_fields() if name not in kind_fields]
    return ["doc_id", "source", "id", "kind", "start", "end", "text", "status", *kind_fields,
            "origin_engine", "origin_model", "origin_prompt"]


def export_csv(store: Store, out: IO[str], status: str = "gold", kinds: Sequence[str] | None = None) -> int:
    """Write one CSV row per annotation; return the number of rows."""
    writer = csv.DictWriter(out, fieldnames=csv_columns(), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    count = 0
    for document, annotations in _documents_to_export(store, status, kinds):
        for item in annotations:
            origin = item.origin()
            writer.writerow(
                {"doc_id": document.id, "source": document.source, **item.record(),
                 "origin_engine": origin.get("engine"), "origin_model": origin.get("model"),
                 "origin_prompt": origin.get("prompt")}
            )
            count += 1
    return count


# ---------------------------------------------------------------------------- import


@dataclass
class ImportedDocument:
    """One parsed and validated line of a contract JSONL file."""

    document: Document
    annotations: list[Annotation]


@dataclass
class ImportReport:
    """What an import stored."""

    documents: int = 0
    new_documents: int = 0
    proposals: int = 0
    decisions: int = 0


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _parse_line(line: str) -> ImportedDocument:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"invalid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(record, dict):
        raise ValueError("a line must be a JSON object")
    text = record.get("text")
    if not isinstance(text, str) or not text:
        raise ValueError("'text' must be a non-empty string")
    doc_id = document_id(text)
    if record.get("doc_id", doc_id) != doc_id:
        raise ValueError(f"doc_id {record['doc_id']!r} is not the sha256 of the text ({doc_id})")
    source = record.get("source")
    if not isinstance(source, str) or not source:
        raise ValueError("'source' must be a non-empty string")
    title = record.get("title")
    annotations_data = record.get("annotations", [])
    if not isinstance(annotations_data, list):
        raise ValueError("'annotations' must be a list")
    annotations = []
    for index, data in enumerate(annotations_data):
        try:
            annotations.append(parse_annotation(data, document=text))
        except ValidationError as error:
            raise ValueError(f"annotations[{index}]: {_one_line(error)}") from None
        except ValueError as error:
            raise ValueError(f"annotations[{index}]: {error}") from None
    document = Document(id=doc_id, source=source, title=title if isinstance(title, str) else None, text=text)
    return ImportedDocument(document, annotations)


def read_contract(path: Path) -> list[ImportedDocument]:
    """Parse and validate a whole contract JSONL file; AnnotatorError `FILE:LINE: problem` on the first bad line."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise AnnotatorError(f"{path}: cannot read ({error.strerror})") from None
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AnnotatorError(f"{path}: not valid UTF-8 (byte offset {error.start})") from None
    parsed = []
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            parsed.append(_parse_line(line))
        except ValueError as error:
            raise AnnotatorError(f"{path}:{number}: {error}") from None
    if not parsed:
        raise AnnotatorError(f"{path}: no documents")
    return parsed


def _same_label(current: StoredAnnotation, wanted: Annotation) -> bool:
    return (
        current.status == wanted.status
        and (current.start, current.end, current.text) == (wanted.start, wanted.end, wanted.text)
        and current.fields() == wanted.fields()
    )


def import_contract(store: Store, path: Path, annotator: str) -> ImportReport:
    """Import a contract JSONL file in one transaction: all of it, or nothing on any error.

    Documents are deduplicated by content; an annotation whose id is already stored with the same
    label is left alone, one whose label differs gets a new decision (the log keeps both).
    """
    parsed = read_contract(path)
    report = ImportReport()
    with store.transaction():
        created = store.add_documents(item.document for item in parsed)
        report.documents = len(parsed)
        report.new_documents = sum(created)
        for item in parsed:
            current = {a.id: a for a in store.annotations(document_id=item.document.id)}
            for annotation in item.annotations:
                existing = current.get(annotation.id) if annotation.id else None
                if existing is not None and _same_label(existing, annotation):
                    continue
                if annotation.status == "added":
                    item_id = annotation.id or manual_id()
                    if existing is None and store.item_document(item_id) not in (None, item.document.id):
                        raise AnnotatorError(f"{path}: id {item_id!r} already belongs to another document")
                    store.record_decision(item_id, "add", annotator, annotation, document_id=item.document.id)
                    report.decisions += 1
                    continue
                if existing is None:
                    [item_id] = store.add_proposals(item.document.id, [annotation])
                    if store.item_document(item_id) != item.document.id:
                        raise AnnotatorError(f"{path}: id {item_id!r} already belongs to another document")
                    report.proposals += 1
                else:
                    item_id = existing.id
                action = {"accepted": "accept", "rejected": "reject", "edited": "edit"}.get(annotation.status)
                if action is not None:
                    store.record_decision(item_id, action, annotator, annotation if action == "edit" else None)
                    report.decisions += 1
    return report

