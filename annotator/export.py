"""Export and import of the annotator JSONL contract (v1), and CSV export.

A JSONL line is one document: `doc_id`, `source`, `title`, `text` and its `annotations`, each with
`id`, `kind`, `start`, `end`, `text`, `status`, the kind's fields and `origin`. Export writes the
canonical compact form, so export → import into a fresh database → export is byte-identical.

For training, gold labels also go out as chat fine-tuning JSONL (`openai-chat`: what the llm engine
asks, with the gold answer) and as text with labelled character spans (`spans`); any format can be
split by document into train/dev/test files (`parse_split`, `assign_splits`, `export_split`).
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import json
import math
import re
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pydantic import ValidationError

from annotator.errors import AnnotatorError
from annotator.grounding import CHUNK_CHARS, CHUNK_OVERLAP, split_chunks
from annotator.ingest import shown
from annotator.schemas import (
    ANNOTATION_KINDS,
    GOLD_STATUSES,
    STATUSES,
    Annotation,
    Document,
    document_id,
    draft_models,
    parse_annotation,
    to_json,
)
from annotator.store import Store, StoredAnnotation, manual_id, proposal_id
from annotator.store.staging import ImportStaging, StagedItem

if TYPE_CHECKING:
    from annotator.propose.prompts import Prompt

STATUS_FILTERS: dict[str, tuple[str, ...] | None] = {"gold": GOLD_STATUSES, "all": None, "proposed": ("proposed",)}


def status_filter(status: str) -> tuple[str, ...] | None:
    if status in STATUS_FILTERS:
        return STATUS_FILTERS[status]
    if status in STATUSES:
        return (status,)
    raise AnnotatorError(f"unknown status filter {status!r} (expected gold, all, proposed or one of {', '.join(STATUSES)})")


def documents_to_export(
    store: Store,
    status: str,
    kinds: Sequence[str] | None,
    records: bool = False,
    only: Container[str] | None = None,
    partial: bool = False,
) -> Iterator[tuple[Document, list[Any]]]:
    """Documents in the order they were added, each with its annotations that pass the filters.

    `all` keeps every document; `gold` keeps every fully reviewed document (a decision on each of its
    proposals), even when none of its items is gold, because "nothing to mark here" is a label too;
    with `partial`, documents still under review too, though their undecided items are missing from
    their gold. `proposed` and a single status keep documents that have a matching item. With
    `records`, annotations come as contract JSON text rather than `StoredAnnotation`s. With `only`,
    just the documents whose id is in it.
    """
    statuses = status_filter(status)
    if status == "gold":
        reviewed = store.reviewed_document_ids() if partial else set(store.fully_reviewed_document_ids())
    else:
        reviewed = set()
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
        if status == "gold":
            wanted = document.id in reviewed
        else:
            wanted = bool(annotations) or status == "all"
        if wanted and (only is None or document.id in only):
            yield document, annotations


def left_out_of_gold(store: Store, status: str, partial: bool = False) -> int:
    """How many documents a `gold` export leaves out because their review is not finished (0 with `partial`)."""
    if status != "gold" or partial:
        return 0
    return len(store.undecided_counts())


def export_jsonl(
    store: Store,
    out: IO[str],
    status: str = "gold",
    kinds: Sequence[str] | None = None,
    documents: Container[str] | None = None,
    partial: bool = False,
) -> int:
    """Write the contract JSONL (only the `documents` ids, if given); return the number of documents written.

    Each line also says whether its document is fully `reviewed` (a decision on every proposal), so
    that a reader such as `eval --gold` takes the same documents as gold as the store does.
    """
    complete = set(store.fully_reviewed_document_ids())
    count = 0
    for document, annotations in documents_to_export(store, status, kinds, records=True, only=documents, partial=partial):
        out.write(
            f'{{"doc_id":{json.dumps(document.id)},"source":{json.dumps(document.source, ensure_ascii=False)},'
            f'"title":{json.dumps(document.title, ensure_ascii=False)},"text":{json.dumps(document.text, ensure_ascii=False)},'
            f'"annotations":[{",".join(record for _, record in annotations)}],'
            f'"reviewed":{"true" if document.id in complete else "false"}}}\n'
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


def export_csv(
    store: Store,
    out: IO[str],
    status: str = "gold",
    kinds: Sequence[str] | None = None,
    documents: Container[str] | None = None,
    partial: bool = False,
) -> int:
    """Write one CSV row per annotation (of the `documents` ids, if given); return the number of rows."""
    writer = csv.DictWriter(out, fieldnames=csv_columns(), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    count = 0
    for document, annotations in documents_to_export(store, status, kinds, only=documents, partial=partial):
        for item in annotations:
            origin = item.origin()
            writer.writerow(
                {"doc_id": document.id, "source": document.source, **item.record(),
                 "origin_engine": origin.get("engine"), "origin_model": origin.get("model"),
                 "origin_prompt": origin.get("prompt")}
            )
            count += 1
    return count


# -------------------------------------------------------------------------- training

EXPORT_FORMATS: tuple[str, ...] = ("jsonl", "csv", "openai-chat", "spans")
GOLD_ONLY_FORMATS: tuple[str, ...] = ("openai-chat", "spans")
"""Formats that train a model: they make sense only for gold labels."""


def check_gold_only(format: str, status: str) -> None:
    """AnnotatorError unless `format` can export `status` (a training format takes gold labels only)."""
    if format in GOLD_ONLY_FORMATS and status != "gold":
        raise AnnotatorError(
            f"--format {format} exports gold labels only ({', '.join(GOLD_STATUSES)}), not --status {status}"
        )


def training_prompts(kinds: Sequence[str] | None = None, folder: Path | None = None) -> dict[str, Prompt]:
    """The prompts to train with: those of `kinds`, or of every kind that has a prompt file in `folder`.

    A kind named in `kinds` without a prompt file is an error, not silently left out.
    """
    from annotator.propose.prompts import load_prompts, prompted_kinds, prompts_dir

    folder = folder or prompts_dir()
    chosen = list(kinds) if kinds else prompted_kinds(folder)
    if not chosen:
        raise AnnotatorError(f"{folder}: no prompt files (expected <kind>.md for {', '.join(ANNOTATION_KINDS)})")
    return load_prompts(chosen, folder)


def gold_answer(kind: str, annotations: Iterable[StoredAnnotation | Annotation]) -> str:
    """The answer a model should give for `kind` given these gold items: the kind's answer model as canonical JSON.

    Items come in span order, each with its `text` and the kind's fields but no offsets (speaker
    mentions are found by grounding, not asked for): exactly the shape the model is asked to fill.
    """
    item_model, answer_model = draft_models(kind)
    names = [name for name in item_model.model_fields if name != "text"]
    items = []
    for annotation in sorted(annotations, key=lambda a: (a.start, a.end)):
        fields = annotation.fields()
        items.append({"text": annotation.text, **{name: fields[name] for name in names if name in fields}})
    try:
        # Lenient: the answer is ours, not a model's, so there is nothing to ground or re-ask.
        answer = answer_model.model_validate({"items": items}, context={"lenient": True})
    except ValidationError as error:
        raise AnnotatorError(f"a gold {kind} does not fit the {kind} answer model: {_one_line(error)}") from None
    return to_json(answer.model_dump(mode="json"))


def export_openai_chat(
    store: Store,
    out: IO[str],
    status: str = "gold",
    kinds: Sequence[str] | None = None,
    documents: Container[str] | None = None,
    partial: bool = False,
    *,
    prompts: Mapping[str, Prompt] | None = None,
    max_chars: int = CHUNK_CHARS,
    overlap: int = CHUNK_OVERLAP,
) -> int:
    """Write chat fine-tuning JSONL as OpenAI's fine-tuning API reads it; return the number of examples.

    One line `{"messages": [system, user, assistant]}` per reviewed document, kind and chunk, in
    that order. The system and user messages are what the llm engine sends for that chunk
    (`chat_messages`, chunks cut by `split_chunks` with the engine's defaults); the assistant's
    is `gold_answer` for the gold items that lie wholly inside the chunk. A chunk without gold
    items still makes an example, answered `{"items":[]}`: saying "nothing here" is learnt too.
    `prompts` default to `training_prompts(kinds)`.
    """
    from annotator.propose.prompts import chat_messages

    check_gold_only("openai-chat", status)
    if prompts is None:
        prompts = training_prompts(kinds)
    elif kinds:
        prompts = {kind: prompt for kind, prompt in prompts.items() if kind in kinds}
    count = 0
    for document, annotations in documents_to_export(store, "gold", list(prompts), only=documents, partial=partial):
        chunks = split_chunks(document.text, max_chars, overlap)
        for kind, prompt in prompts.items():
            items = [item for item in annotations if item.kind == kind]
            for chunk in chunks:
                inside = [item for item in items if chunk.start <= item.start and item.end <= chunk.end]
                answer = {"role": "assistant", "content": gold_answer(kind, inside)}
                out.write(to_json({"messages": [*chat_messages(prompt, chunk.text), answer]}) + "\n")
                count += 1
    return count


def export_spans(
    store: Store,
    out: IO[str],
    status: str = "gold",
    kinds: Sequence[str] | None = None,
    documents: Container[str] | None = None,
    partial: bool = False,
) -> int:
    """Write each fully reviewed document with its gold spans labelled by kind; return the number of documents.

    A line is `{"text", "spans": [{"start", "end", "label"}], "doc_id", "source"}`, spans in start
    order, offsets in code points so that `text[start:end]` is the span: what spaCy's
    `Doc.char_span` and Hugging Face token-classification conversions read. A reviewed document
    without gold items has no spans, and is kept as a negative.
    """
    check_gold_only("spans", status)
    count = 0
    for document, annotations in documents_to_export(store, "gold", kinds, only=documents, partial=partial):
        spans = [{"start": item.start, "end": item.end, "label": item.kind} for item in annotations]
        out.write(to_json({"text": document.text, "spans": spans, "doc_id": document.id, "source": document.source}))
        out.write("\n")
        count += 1
    return count


@dataclass(frozen=True)
class Export:
    """One export, checked before anything is written: a format, its filters and, for openai-chat, its prompts.

    A `gold` export takes fully reviewed documents only, unless `partial` (`--include-partial`).
    """

    format: str
    status: str = "gold"
    kinds: tuple[str, ...] | None = None
    prompts: Mapping[str, Prompt] | None = None
    partial: bool = False

    @classmethod
    def of(
        cls,
        format: str,
        status: str = "gold",
        kinds: Sequence[str] | None = None,
        prompts_folder: Path | None = None,
        partial: bool = False,
    ) -> Export:
        """An export; AnnotatorError on an unknown format or status, a status the format cannot export, or no prompt."""
        if format not in EXPORT_FORMATS:
            raise AnnotatorError(f"unknown format {format!r} (expected: {', '.join(EXPORT_FORMATS)})")
        status_filter(status)
        check_gold_only(format, status)
        if format == "openai-chat":
            prompts = training_prompts(kinds, prompts_folder)
            return cls(format, status, tuple(prompts), prompts, partial)
        return cls(format, status, tuple(kinds) if kinds else None, None, partial)

    def write(self, store: Store, out: IO[str], documents: Container[str] | None = None) -> int:
        """Write the export (only the `documents` ids, if given); return what the format counts."""
        if self.format == "openai-chat":
            return export_openai_chat(store, out, self.status, self.kinds, documents, self.partial, prompts=self.prompts)
        writers = {"jsonl": export_jsonl, "csv": export_csv, "spans": export_spans}
        return writers[self.format](store, out, self.status, self.kinds, documents, self.partial)

    def documents(self, store: Store) -> Iterator[Document]:
        """The documents this export writes, in the order they were added."""
        return (document for document, _ in documents_to_export(store, self.status, self.kinds, partial=self.partial))

    def left_out(self, store: Store) -> int:
        """How many documents this export leaves out because their review is not finished."""
        return left_out_of_gold(store, self.status, self.partial)


# ----------------------------------------------------------------------------- splits

_SPLIT_NAME = re.compile(r"[A-Za-z0-9_-]+")
RATIO_TOLERANCE = 1e-6
"""How far split ratios may sum from 1 (0.333333 three times is fine)."""


def parse_split(spec: str) -> dict[str, float]:
    """`train=0.8,dev=0.1,test=0.1` as ratios by split name, in order; AnnotatorError naming what is wrong."""
    ratios: dict[str, float] = {}
    for part in spec.split(","):
        name, equals, number = (piece.strip() for piece in part.partition("="))
        if not equals or not name or not number:
            raise AnnotatorError(f"split {part.strip()!r} is not NAME=NUMBER (e.g. train=0.8,dev=0.1,test=0.1)")
        if not _SPLIT_NAME.fullmatch(name):
            raise AnnotatorError(f"split name {name!r} may hold only letters, digits, '-' and '_' (it names a file)")
        if name in ratios:
            raise AnnotatorError(f"split {name!r} is named twice")
        try:
            ratio = float(number)
        except ValueError:
            ratio = math.nan
        if not math.isfinite(ratio):
            raise AnnotatorError(f"split {name!r}: {number!r} is not a number")
        if ratio < 0:
            raise AnnotatorError(f"split {name!r}: the ratio {number} is negative")
        ratios[name] = ratio
    total = math.fsum(ratios.values())
    if abs(total - 1) > RATIO_TOLERANCE:
        raise AnnotatorError(f"split ratios sum to {total:g}, not 1 ({spec})")
    return ratios


def split_counts(total: int, ratios: Sequence[float]) -> list[int]:
    """How many of `total` documents each split gets, by largest-remainder rounding of its share.

    The counts sum to `total` exactly and each is within 1 of `ratio / sum(ratios) * total`;
    of equal remainders, the split named first gets the extra document.
    """
    if total < 0 or not ratios or any(ratio < 0 for ratio in ratios) or not any(ratios):
        raise ValueError(f"cannot split {total} documents by {list(ratios)}")
    # Exact fractions: float shares can miss a whole number by an ulp and misplace a document.
    exact = [Fraction(ratio) for ratio in ratios]
    whole = sum(exact)
    shares = [total * ratio / whole for ratio in exact]
    counts = [math.floor(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda index: (counts[index] - shares[index], index))
    for index in by_remainder[: total - sum(counts)]:
        counts[index] += 1
    return counts


def version_groups(store: Store, documents: Iterable[Document]) -> dict[str, list[str]]:
    """The ids of `documents` grouped by the first stored version of their source (its id is the key).

    A new text of a known source is linked to the one before it (`Document.previous_id`); walking
    those links back to the root keeps every version of an article in one group, even through a
    version that is not among `documents`.
    """
    previous: dict[str, str | None] = {}
    members: list[str] = []
    for document in documents:
        previous[document.id] = document.previous_id
        members.append(document.id)

    def before(doc_id: str) -> str | None:
        if doc_id not in previous:
            found = store.document(doc_id)
            previous[doc_id] = found.previous_id if found is not None else None
        return previous[doc_id]

    groups: dict[str, list[str]] = {}
    for doc_id in members:
        root, seen = doc_id, {doc_id}
        while (earlier := before(root)) is not None and earlier not in seen:
            seen.add(earlier)
            root = earlier
        groups.setdefault(root, []).append(doc_id)
    return groups


def assign_splits(groups: Mapping[str, Sequence[str]], ratios: Mapping[str, float], seed: int = 0) -> dict[str, list[str]]:
    """Document ids by split name: whole groups, deterministic for a seed, whatever order documents came in.

    Groups are ordered by sha256 of `f"{seed}:{group_id}"` and each goes to the first split (in
    `ratios` order) with room left for all of it, room being `split_counts` of the documents; a
    group that fits nowhere goes where most room is left. With one document per group this cuts
    the ordered documents at the exact counts; larger groups move a count by at most their size.
    """
    names = list(ratios)
    room = dict(zip(names, split_counts(sum(len(ids) for ids in groups.values()), list(ratios.values()))))
    assigned: dict[str, list[str]] = {name: [] for name in names}
    for group in sorted(groups, key=lambda group: hashlib.sha256(f"{seed}:{group}".encode()).hexdigest()):
        size = len(groups[group])
        name = next((name for name in names if room[name] >= size), None)
        if name is None:
            name = max(names, key=lambda candidate: room[candidate])
        room[name] -= size
        assigned[name].extend(groups[group])
    return assigned


def split_paths(output: Path, names: Iterable[str]) -> dict[str, Path]:
    """Where each split goes: `<stem>.<split><suffix>` beside `output` (gold.jsonl → gold.train.jsonl)."""
    return {name: output.with_name(f"{output.stem}.{name}{output.suffix}") for name in names}


def write_files(targets: Sequence[tuple[Path, Callable[[IO[str]], int]]]) -> list[int]:
    """Write each target through its writer; return what each writer returned.

    Each file is written beside its target as `<name>.partial` and renamed into place only once
    every file is written, so a failed export never leaves half a file (nor half a split).
    """
    partials = [path.with_name(path.name + ".partial") for path, _ in targets]
    try:
        counts = []
        for (path, write), partial in zip(targets, partials):
            try:
                with partial.open("w", encoding="utf-8", newline="") as out:
                    counts.append(write(out))
            except OSError as error:
                raise AnnotatorError(f"{path}: cannot write ({error.strerror})") from None
        for (path, _), partial in zip(targets, partials):
            try:
                partial.replace(path)
            except OSError as error:
                raise AnnotatorError(f"{path}: cannot write ({error.strerror})") from None
        return counts
    finally:
        for partial in partials:
            partial.unlink(missing_ok=True)


@dataclass(frozen=True)
class SplitFile:
    """One file of a split export."""

    split: str
    path: Path
    documents: int
    count: int
    """What the format counts: documents, CSV rows or chat examples."""


def export_split(
    store: Store, export: Export, output: Path, ratios: Mapping[str, float], seed: int = 0
) -> list[SplitFile]:
    """Write `export` split by document into one file per split beside `output`; every split gets a file, even empty.

    Versions of one article (linked by `previous_id`) always land in the same split, so none leaks
    from train into test.
    """
    assigned = assign_splits(version_groups(store, export.documents(store)), ratios, seed)
    paths = split_paths(output, ratios)
    counts = write_files(
        [(paths[name], functools.partial(export.write, store, documents=set(assigned[name]))) for name in ratios]
    )
    return [SplitFile(name, paths[name], len(assigned[name]), count) for name, count in zip(ratios, counts)]


# ---------------------------------------------------------------------------- import


@dataclass
class ImportedDocument:
    """One parsed and validated line of a contract JSONL file."""

    document: Document
    annotations: list[Annotation]
    reviewed: bool | None = None
    """The line's `reviewed` mark (every item decided), when the file has one."""

    @property
    def undecided(self) -> int:
        """How many of its annotations are still `proposed`."""
        return sum(1 for annotation in self.annotations if annotation.status == "proposed")

    @property
    def fully_reviewed(self) -> bool:
        """Whether its gold is complete: the line says so, or (unmarked) it has annotations and none is undecided."""
        if self.reviewed is not None:
            return self.reviewed
        return bool(self.annotations) and self.undecided == 0


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


MAX_NESTING = 32
"""How deep the free-form part of a record (an annotation's `origin`) may nest."""
_LARGEST_INTEGER = 2**63
# A lone surrogate can only come from a JSON escape: the line itself is valid UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _load_json(line: str) -> Any:
    """The JSON value of a line, or ValueError with a one-line reason for input Python's parser chokes on."""
    try:
        return json.loads(line, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise ValueError(f"invalid JSON ({error.msg} at column {error.colno})") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply to read") from None
    except ValueError as error:
        if "integer string conversion" in str(error):  # Python refuses ints of more than 4,300 digits
            raise ValueError("a number with more than 4,300 digits") from None
        raise


def _check_value(value: Any, path: tuple[str | int, ...], nesting: int | None) -> None:
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


def _parse_line(line: str) -> ImportedDocument:
    record = _load_json(line)
    if not isinstance(record, dict):
        raise ValueError("a line must be a JSON object")
    if _SURROGATE_ESCAPE.search(line):
        _check_value(record, (), None)
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
    annotations = []
    first_of_id: dict[str, int] = {}
    for index, data in enumerate(annotations_data):
        if isinstance(data, dict) and not isinstance(data.get("kind"), str):
            raise ValueError(f"annotations[{index}]: 'kind' must be a string")
        if isinstance(data, dict) and "origin" in data:
            # The origin is stored as it comes, extra fields and all: it must be JSON any reader takes.
            _check_value(data["origin"], ("annotations", index, "origin"), MAX_NESTING)
        try:
            annotation = parse_annotation(data, document=text)
        except ValidationError as error:
            raise ValueError(f"annotations[{index}]: {_one_line(error)}") from None
        except ValueError as error:
            raise ValueError(f"annotations[{index}]: {error}") from None
        if annotation.id:
            if annotation.id in first_of_id:
                raise ValueError(
                    f"annotations[{index}]: id {annotation.id[:80]!r} is used twice in this document "
                    f"(first by annotations[{first_of_id[annotation.id]}])"
                )
            first_of_id[annotation.id] = index
        annotations.append(annotation)
    document = Document(id=doc_id, source=source, title=title if isinstance(title, str) else None, text=text)
    reviewed = record.get("reviewed")
    return ImportedDocument(document, annotations, reviewed if isinstance(reviewed, bool) else None)


def iter_contract(path: Path) -> Iterator[tuple[int, ImportedDocument]]:
    """Each document of a contract JSONL file with its line number, read one line at a time.

    AnnotatorError `FILE:LINE: problem` on the first bad line (invalid UTF-8 or JSON, a lone
    surrogate, a number too large, nesting too deep, an invalid annotation, an id used twice).
    """
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
                    parsed = _parse_line(line)
                except ValueError as error:
                    raise AnnotatorError(f"{name}:{number}: {error}") from None
                except RecursionError:  # a value nested just shallow enough to load, too deep to validate or show
                    raise AnnotatorError(f"{name}:{number}: JSON nested too deeply to read") from None
                yield number, parsed
        except OSError as error:
            raise AnnotatorError(f"{name}:{number + 1}: cannot read ({error.strerror})") from None


def read_contract(path: Path) -> list[ImportedDocument]:
    """Parse and validate a whole contract JSONL file; AnnotatorError `FILE:LINE: problem` on the first bad line."""
    parsed = [document for _, document in iter_contract(path)]
    if not parsed:
        raise AnnotatorError(f"{shown(path)}: no documents")
    return parsed


def _label(item: StoredAnnotation) -> StagedItem:
    """A stored item in the form a staged import compares labels in."""
    return StagedItem(item.id, item.kind, item.status, item.start, item.end, item.text, item.fields_json,
                      item.proposal_id is not None)


def _same_label(current: StagedItem, wanted: StagedItem) -> bool:
    if (current.status, current.start, current.end, current.text) != (wanted.status, wanted.start, wanted.end, wanted.text):
        return False
    # Both sides are canonical JSON of the same model, so equal text is the common case.
    return current.fields_json == wanted.fields_json or json.loads(current.fields_json) == json.loads(wanted.fields_json)


_ACTION_OF_STATUS = {"accepted": "accept", "rejected": "reject", "edited": "edit"}


def import_contract(store: Store, path: Path, annotator: str) -> ImportReport:
    """Import a contract JSONL file: all of it, or nothing on any error, without blocking reviewers.

    Documents are deduplicated by content; an annotation whose id is already stored with the same
    label is left alone, one whose label differs gets a new decision (the log keeps both).

    The file is read one line at a time and staged (see `annotator.store.staging`): nothing is
    stored, and no lock is held, until every line has passed; then the whole import is copied into
    the store in one transaction that does nothing but copy, so a reviewer's decision in another
    process waits at most for that copy (about a quarter of the import), and readers see all of
    the import or none of it.
    """
    report = ImportReport()
    name = shown(path)
    with ImportStaging(store) as staging:
        for line, item in iter_contract(path):
            report.documents += 1
            try:
                _stage_document(store, staging, line, item, annotator)
            except ValueError as error:
                raise AnnotatorError(f"{name}:{line}: {error}") from None
        if not report.documents:
            raise AnnotatorError(f"{name}: no documents")
        conflict = staging.conflict()
        if conflict is not None:
            raise AnnotatorError(
                f"{name}:{conflict.line}: id {conflict.item_id[:80]!r} already belongs to another document "
                f"(in {conflict.where})"
            )
        report.proposals, report.decisions = staging.counts
        report.new_documents = staging.publish().documents
    return report


def _stage_document(store: Store, staging: ImportStaging, line: int, item: ImportedDocument, annotator: str) -> None:
    """Stage one line: its document if new, and what each annotation needs (a proposal, a decision, or nothing).

    The rules are `Store.record_decision`'s, checked here so that a bad line is refused before any
    of the import is stored: an added item is never accepted (it is gold already) and an edit of
    it stays an add; an id keeps its kind and its document.
    """
    document = item.document
    where = staging.where_is(document.id)
    if where is None:
        staging.add_document(line, document, staging.latest_of_source(document.source))
    current: dict[str, StagedItem] = {}
    withdrawn: set[str] = set()
    if where == "store":
        current = {stored.id: _label(stored) for stored in store.annotations(document_id=document.id)}
        withdrawn = staging.added_item_ids(document.id) - current.keys()
    if staging.has_items(document.id):  # the document came earlier in this file too
        current.update(staging.staged_items(document.id))
    first_of_id: dict[str, int] = {}
    for index, annotation in enumerate(item.annotations):
        origin_json = to_json(annotation.origin.model_dump(mode="json")) if annotation.origin else "{}"
        if annotation.status == "added":
            item_id = annotation.id or manual_id()
        else:
            item_id = annotation.id or proposal_id(document.id, annotation, origin_json)
        if item_id in first_of_id:
            raise ValueError(f"annotations[{index}] is the same item as annotations[{first_of_id[item_id]}] "
                             "(same kind, span, fields and origin)")
        first_of_id[item_id] = index
        wanted = StagedItem(item_id, annotation.kind, annotation.status, annotation.start, annotation.end,
                            annotation.text, to_json(annotation.fields()), annotation.status != "added")
        existing = current.get(item_id)
        problem = _refusal(item_id, annotation.kind, annotation.status, existing, item_id in withdrawn)
        if problem:
            raise ValueError(f"annotations[{index}]: {problem}")
        if existing is not None and _same_label(existing, wanted):
            staging.add_item(line, document.id, existing)
            continue
        if annotation.status == "added":
            staging.add_decision(item_id, False, document.id, annotation.kind, "add", annotation, annotator)
        else:
            if existing is None:
                staging.add_proposal(item_id, document.id, annotation, origin_json, wanted.fields_json)
            proposal = existing is None or existing.proposal
            action = _ACTION_OF_STATUS.get(annotation.status)
            if action == "edit" and not proposal:
                action = "add"  # an added item stays added when corrected: no model proposed it
            if action is not None:
                staging.add_decision(item_id, proposal, document.id, annotation.kind, action,
                                     annotation if action in ("edit", "add") else None, annotator)
            wanted = dataclasses.replace(wanted, proposal=proposal)
            if action is None and existing is not None:
                wanted = existing  # a `proposed` line never takes back a decision
        staging.add_item(line, document.id, wanted)


def _refusal(item_id: str, kind: str, status: str, existing: StagedItem | None, withdrawn: bool) -> str | None:
    """Why this annotation cannot be imported over what the store holds under its id, if it cannot."""
    named = repr(item_id[:80])
    if existing is not None and existing.kind != kind:
        return f"id {named} is a {existing.kind} in the store, not a {kind}"
    if status == "added" and existing is not None and existing.proposal:
        return f"id {named} is a proposal: only an item added by hand can be `added`"
    if status == "accepted" and existing is not None and not existing.proposal:
        return f"id {named} was added by hand: it is gold already and cannot be `accepted`"
    if withdrawn and status != "added":
        return f"id {named} is an item added by hand that no longer stands: only `added` brings it back"
    return None
