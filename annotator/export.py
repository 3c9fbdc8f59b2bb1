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

from annotator.contract import (
    ContractDocument,
    Item,
    documents_from_store,
    encode_line,
    iter_contract,
    left_out_of_gold,
    one_line,
    status_filter,
    store_lines,
)
from annotator.chunking import CHUNK_CHARS, CHUNK_OVERLAP, split_chunks
from annotator.errors import AnnotatorError
from annotator.options import name_and_number
from annotator.ingest import shown
from annotator.schemas import (
    ANNOTATION_KINDS,
    GOLD_STATUSES,
    Annotation,
    Document,
    draft_models,
    to_json,
)
from annotator.store import Store, StoredAnnotation, manual_id
from annotator.store.staging import ImportStaging, StagedItem

if TYPE_CHECKING:
    from annotator.propose.prompts import Prompt

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
    count = 0
    for line in store_lines(store, status, kinds, documents, partial):
        out.write(line + "\n")
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
        records = []
        for proposal in result.proposals:
            item = Item.of(proposal.annotation)
            origin = dict(item.origin or {})
            records.append(to_json(dataclasses.replace(
                item, id=item.id or proposal_id(document.id, proposal.annotation, to_json(origin)), status="proposed",
                origin=origin,
            ).record()))
        out.write(encode_line(document, records) + "\n")
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
    for document in documents_from_store(store, status, kinds, documents, partial):
        for item in document.items:
            origin = item.origin or {}
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


def gold_answer(kind: str, annotations: Iterable[Item | StoredAnnotation | Annotation]) -> str:
    """The answer a model should give for `kind` given these gold items: the kind's answer model as canonical JSON.

    Items come in span order, each with its `text` and the kind's fields but no offsets (speaker
    mentions are found by grounding, not asked for): exactly the shape the model is asked to fill.
    """
    item_model, answer_model = draft_models(kind)
    names = [name for name in item_model.model_fields if name != "text"]
    items = []
    for annotation in sorted(annotations, key=lambda a: (a.start, a.end)):
        fields = (annotation if isinstance(annotation, Item) else Item.of(annotation)).fields
        items.append({"text": annotation.text, **{name: fields[name] for name in names if name in fields}})
    try:
        # Lenient: the answer is ours, not a model's, so there is nothing to ground or re-ask.
        answer = answer_model.model_validate({"items": items}, context={"lenient": True})
    except ValidationError as error:
        raise AnnotatorError(f"a gold {kind} does not fit the {kind} answer model: {one_line(error)}") from None
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
    for document in documents_from_store(store, "gold", list(prompts), documents, partial):
        chunks = split_chunks(document.text, max_chars, overlap)
        for kind, prompt in prompts.items():
            items = [item for item in document.items if item.kind == kind]
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
    for document in documents_from_store(store, "gold", kinds, documents, partial):
        spans = [{"start": item.start, "end": item.end, "label": item.kind} for item in document.items]
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
        return (document.document for document in documents_from_store(store, self.status, self.kinds, partial=self.partial))

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
        try:
            name, number, ratio = name_and_number(part)
        except ValueError:
            raise AnnotatorError(f"split {part.strip()!r} is not NAME=NUMBER (e.g. train=0.8,dev=0.1,test=0.1)") from None
        if not _SPLIT_NAME.fullmatch(name):
            raise AnnotatorError(f"split name {name!r} may hold only letters, digits, '-' and '_' (it names a file)")
        if name in ratios:
            raise AnnotatorError(f"split {name!r} is named twice")
        if math.isnan(ratio):
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
class ImportReport:
    """What an import stored."""

    documents: int = 0
    new_documents: int = 0
    proposals: int = 0
    decisions: int = 0


def _label(item: StoredAnnotation) -> StagedItem:
    """A stored item in the form a staged import compares labels in."""
    return StagedItem(item.id, item.kind, item.status, item.start, item.end, item.text, item.fields_json,
                      item.proposal_id is not None)


def _same_label(current: StagedItem, wanted: StagedItem) -> bool:
    if (current.status, current.start, current.end, current.text) != (wanted.status, wanted.start, wanted.end, wanted.text):
        return False
    # Both sides are canonical JSON of the same model, so equal text is the common case.
    return current.fields_json == wanted.fields_json or json.loads(current.fields_json) == json.loads(wanted.fields_json)


_ACTION_OF_STATUS = {"accepted": "accept", "rejected": "reject", "edited": "edit", "flagged": "flag"}
"""The decision a line's status records; `flagged` records a flag (the contract carries no comment)."""


def import_contract(store: Store, path: Path, annotator: str) -> ImportReport:
    """Import a contract JSONL file: all of it, or nothing on any error, without blocking reviewers.

    Documents are deduplicated by content; an annotation whose id is already stored with the same
    label is left alone, one whose label differs gets a new decision (the log keeps both).

    The file is read one line at a time and staged (see `annotator.store.staging`): nothing is
    stored, and no lock is held, until every line has passed; then the whole import is copied into
    the store in one transaction that does nothing but copy, so a reviewer's decision in another
    process waits at most for that copy (about a third of the import), and readers see all of
    the import or none of it.
    """
    report = ImportReport()
    name = shown(path)
    # With several reviewers per document, the file's labels are compared with the annotator's own.
    reviewer = annotator if store.overlap() > 1 else None
    with ImportStaging(store) as staging:
        for line, item in iter_contract(path):
            report.documents += 1
            try:
                _stage_document(store, staging, line, item, annotator, reviewer)
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
    if reviewer is not None:
        store.claim_reviewed(annotator)  # the labels count towards each document's reviewers
    return report


def _stage_document(
    store: Store, staging: ImportStaging, line: int, item: ContractDocument, annotator: str, reviewer: str | None = None
) -> None:
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
        current = {stored.id: _label(stored) for stored in store.annotations(document_id=document.id, reviewer=reviewer)}
        withdrawn = staging.added_item_ids(document.id) - current.keys()
    if where is not None and staging.has_items(document.id):  # the document came earlier in this file too
        current.update(staging.staged_items(document.id))
    # The decoded items carry their fields and origin as JSON-ready values already.
    entries = [(entry.annotation(), to_json(entry.origin) if entry.origin is not None else "{}", to_json(entry.fields))
               for entry in item.items]
    # The ids of proposals without one, found with one look at the store for the whole line.
    proposed = [(annotation, origin_json) for annotation, origin_json, _ in entries if annotation.status != "added"]
    proposal_ids = iter(store.proposal_ids(document.id, proposed))
    first_of_id: dict[str, int] = {}
    for index, (annotation, origin_json, fields_json) in enumerate(entries):
        if annotation.status == "added":
            item_id = annotation.id or manual_id()
        else:
            item_id = next(proposal_ids)
        if item_id in first_of_id:
            raise ValueError(f"annotations[{index}] is the same item as annotations[{first_of_id[item_id]}] "
                             "(same kind, span, fields and origin)")
        first_of_id[item_id] = index
        existing = current.get(item_id)
        problem = _refusal(item_id, annotation.kind, annotation.status, existing, item_id in withdrawn)
        if problem:
            raise ValueError(f"annotations[{index}]: {problem}")
        # Whether a model proposed it: an added item stays added, whatever the line says.
        proposal = annotation.status != "added" and (existing is None or existing.proposal)
        wanted = StagedItem(item_id, annotation.kind, annotation.status, annotation.start, annotation.end,
                            annotation.text, fields_json, proposal)
        if existing is not None and _same_label(existing, wanted):
            staging.add_item(line, document.id, existing)
            continue
        if annotation.status == "added":
            staging.add_decision(item_id, False, document.id, annotation.kind, "add", annotation, annotator)
        else:
            if existing is None:
                staging.add_proposal(item_id, document.id, annotation, origin_json, fields_json)
            action = _ACTION_OF_STATUS.get(annotation.status)
            if action == "edit" and not proposal:
                action = "add"  # an added item stays added when corrected: no model proposed it
            if action is not None:
                staging.add_decision(item_id, proposal, document.id, annotation.kind, action,
                                     annotation if action in ("edit", "add") else None, annotator)
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
