"""Training exports: chat fine-tuning JSONL, labelled spans, and document splits for every format."""

from __future__ import annotations

import inspect
import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scripted_server import ScriptedServer, reply_for
from test_export import TEXT, populate
from typer.testing import CliRunner

from annotator.chunking import CHUNK_CHARS, CHUNK_OVERLAP, split_chunks
from annotator.cli import app
from annotator.errors import AnnotatorError
from annotator.export import (
    Export,
    assign_splits,
    export_jsonl,
    export_openai_chat,
    export_spans,
    gold_answer,
    parse_split,
    split_counts,
    version_groups,
    write_files,
)
from annotator.propose import run_proposals
from annotator.propose.llm import LLMEngine
from annotator.propose.prompts import chat_messages, load_prompts
from annotator.schemas import Document, Figure, Quote, draft_models
from annotator.store import manual_id, open_db

runner = CliRunner()


def invoke(*args: str):
    """Run the CLI in-process, exceptions and all."""
    return runner.invoke(app, list(args), catch_exceptions=False)


def add_gold(store, document: Document, annotation) -> None:
    """Record `annotation` as added by a reviewer: a gold item of `document`."""
    store.record_decision(manual_id(), "add", "ann", annotation, document_id=document.id)


def figure_at(text: str, needle: str, start_from: int = 0) -> Figure:
    """A gold figure on the first `needle` at or after `start_from`."""
    start = text.index(needle, start_from)
    return Figure(start=start, end=start + len(needle), text=needle, value=7, unit="boats", qualifier="exact")


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def negative_document(store) -> Document:
    """A reviewed document whose only proposal was rejected: no gold items, still a label."""
    document = Document.from_text("The ferry left on time and nothing else happened.", "seeds/c.txt")
    store.add_documents([document])
    start = document.text.index("ferry")
    [item] = store.add_proposals(document.id, [Figure(start=start, end=start + 5, text="ferry", value=1)])
    store.record_decision(item, "reject", "ann")
    return document


# ------------------------------------------------------------------------ openai-chat


def test_openai_chat_examples_hold_the_engine_messages_and_only_gold_items(store) -> None:
    document = populate(store)
    negative = negative_document(store)
    prompts = load_prompts()
    # a.txt is still under review (its stance is undecided): by default only the negative document goes out.
    out = io.StringIO()
    assert export_openai_chat(store, out) == len(prompts)
    assert {m["content"] for e in lines(out.getvalue()) for m in e["messages"] if m["role"] == "user"} == {
        chat_messages(prompts["quote"], negative.text)[1]["content"]}
    out = io.StringIO()
    count = export_openai_chat(store, out, partial=True)
    examples = lines(out.getvalue())
    # One example per reviewed document and kind (each fits one chunk), documents in the order added.
    assert count == len(examples) == 2 * len(prompts)
    answers: dict[tuple[str, str], list[dict]] = {}
    for example, (doc, kind) in zip(examples, [(d, k) for d in (document, negative) for k in prompts]):
        messages = example["messages"]
        assert [m["role"] for m in messages] == ["system", "user", "assistant"]
        assert messages[:2] == chat_messages(prompts[kind], doc.text)
        answer = draft_models(kind)[1].model_validate_json(messages[2]["content"], context={"lenient": True})
        assert messages[2]["content"] == json.dumps(answer.model_dump(mode="json"), ensure_ascii=False,
                                                    separators=(",", ":"))
        answers[doc.id, kind] = json.loads(messages[2]["content"])["items"]
    # The edited quote as edited, with no offsets; not the rejected 40% nor the proposed stance.
    assert answers[document.id, "quote"] == [
        {"text": "The convoy is stuck", "speaker": "Suleiman Abdulqader", "cue": "told", "quote_type": "direct"}]
    assert [item["text"] for item in answers[document.id, "figure"]] == ["some 400,000 people"]
    assert answers[document.id, "figure"][0]["attributed_to"] == "UN"
    assert answers[document.id, "stance"] == [{"text": "UN", "holder": "UN", "target": "x", "polarity": "neutral"}]
    assert all(answers[negative.id, kind] == [] for kind in prompts)
    assert TEXT not in {m["content"] for e in examples[len(prompts):] for m in e["messages"]}


def test_openai_chat_prompts_are_what_the_llm_engine_sends(store) -> None:
    """The same chunks and messages reach the model as the export trains it on."""
    filler = "\n\n".join(f"Paragraph {i} says nothing of note about the harbour today." for i in range(60))
    document = Document.from_text(filler + "\n\n" + TEXT, "long.txt")
    store.add_documents([document])
    add_gold(store, document, figure_at(document.text, "40%"))
    out = io.StringIO()
    export_openai_chat(store, out, kinds=["figure", "quote"], max_chars=1500, overlap=200)
    exported = [e["messages"][:2] for e in lines(out.getvalue())]
    assert len(exported) > 2  # several chunks for each of the two kinds
    with ScriptedServer(lambda request: reply_for(request, {"items": []})) as server:
        llm = LLMEngine("scripted", base_url=server.base_url, api_key="k", kinds=["figure", "quote"],
                        max_chars=1500, overlap=200, backoff=(0.01, 0.05))
        run_proposals(store, [document], llm)
        sent = [request.body["messages"] for request in server.requests]
    key = lambda messages: json.dumps(messages, sort_keys=True)  # noqa: E731
    assert sorted(map(key, sent)) == sorted(map(key, exported))
    # And by default both cut as the engine does.
    engine_defaults = inspect.signature(LLMEngine).parameters
    export_defaults = inspect.signature(export_openai_chat).parameters
    assert engine_defaults["max_chars"].default == export_defaults["max_chars"].default == CHUNK_CHARS
    assert engine_defaults["overlap"].default == export_defaults["overlap"].default == CHUNK_OVERLAP


def test_a_long_document_gives_one_example_per_chunk_with_the_items_inside_it(store) -> None:
    paragraph = "Boats came in all day and the harbour master counted them one by one, as he does. "
    body = "\n\n".join(f"Part {i}. " + paragraph * 4 for i in range(80))
    text = "Early on, 7 boats arrived.\n\n" + body + "\n\nLate at night, 9 boats left."
    assert len(text) > 2 * CHUNK_CHARS
    document = Document.from_text(text, "harbour.txt")
    store.add_documents([document])
    chunks = split_chunks(text)
    # A figure inside the overlap of the first two chunks belongs to both of them.
    overlap_at = text.index("Part", chunks[1].start)
    assert overlap_at + 10 < chunks[0].end
    # One across the end of the first chunk is whole only in the second.
    cut = chunks[0].end
    across = figure_at(text, text[cut - 8 : cut + 4], cut - 8)
    golds = [figure_at(text, "7 boats"), figure_at(text, "9 boats"), figure_at(text, "Part", chunks[1].start), across]
    for gold in golds:
        add_gold(store, document, gold)
    out = io.StringIO()
    assert export_openai_chat(store, out, kinds=["figure"]) == len(chunks) >= 3
    examples = lines(out.getvalue())
    for chunk, example in zip(chunks, examples):
        assert example["messages"][1]["content"] == chunk.text
        inside = [g.text for g in golds if chunk.start <= g.start and g.end <= chunk.end]
        assert [item["text"] for item in json.loads(example["messages"][2]["content"])["items"]] == inside
    items = [[item["text"] for item in json.loads(e["messages"][2]["content"])["items"]] for e in examples]
    assert items[0] == ["7 boats", "Part"] and items[1][:2] == ["Part", across.text] and items[-1] == ["9 boats"]
    assert all("7 boats" not in found for found in items[1:])


def test_gold_answer_orders_items_and_drops_offsets() -> None:
    text = "Ali said: “go now”. Later Ali said “stay”."
    late = Quote(start=text.index("stay"), end=text.index("stay") + 4, text="stay", speaker="Ali",
                 speaker_start=26, speaker_end=29, cue="said")
    early = Quote(start=text.index("go now"), end=text.index("go now") + 6, text="go now", speaker="Ali",
                  speaker_start=0, speaker_end=3, cue="said")
    answer = gold_answer("quote", [late, early])
    assert answer == ('{"items":[{"text":"go now","speaker":"Ali","cue":"said","quote_type":"direct"},'
                      '{"text":"stay","speaker":"Ali","cue":"said","quote_type":"direct"}]}')
    assert gold_answer("figure", []) == '{"items":[]}'


def test_openai_chat_uses_the_prompts_folder_and_skips_kinds_without_a_prompt(store, tmp_path: Path) -> None:
    populate(store)
    folder = tmp_path / "my-prompts"
    folder.mkdir()
    (folder / "figure.md").write_text("Find the figures.", encoding="utf-8")
    result = invoke("export", "--format", "openai-chat", "--prompts", str(folder), "--include-partial")
    assert result.exit_code == 0
    [example] = lines(result.stdout)
    assert example["messages"][0] == {"role": "system", "content": "Find the figures."}
    missing = invoke("export", "--format", "openai-chat", "--prompts", str(folder), "--kind", "quote")
    assert missing.exit_code == 1 and "quote.md: cannot read the quote prompt" in missing.stderr
    empty = invoke("export", "--format", "openai-chat", "--prompts", str(tmp_path / "nowhere"))
    assert empty.exit_code == 1 and "no prompt files" in empty.stderr


# ------------------------------------------------------------------------------ spans


def test_spans_lines_round_trip_and_hold_only_gold(store) -> None:
    document = populate(store)
    negative = negative_document(store)
    out = io.StringIO()
    assert export_spans(store, out) == 1  # a.txt is still under review
    assert lines(out.getvalue())[0]["doc_id"] == negative.id
    out = io.StringIO()
    assert export_spans(store, out, partial=True) == 2
    first, second = lines(out.getvalue())
    assert list(first) == ["text", "spans", "doc_id", "source"]
    assert (first["doc_id"], first["source"], first["text"]) == (document.id, "seeds/a.txt", TEXT)
    found = [(s["label"], first["text"][s["start"] : s["end"]]) for s in first["spans"]]
    assert found == [("quote", "The convoy is stuck"), ("stance", "UN"), ("figure", "some 400,000 people")]
    assert [s["start"] for s in first["spans"]] == sorted(s["start"] for s in first["spans"])
    assert second == {"text": negative.text, "spans": [], "doc_id": negative.id, "source": "seeds/c.txt"}
    out = io.StringIO()
    export_spans(store, out, kinds=["figure"], partial=True)
    assert [s["label"] for s in lines(out.getvalue())[0]["spans"]] == ["figure"]


@pytest.mark.parametrize("format", ["openai-chat", "spans"])
@pytest.mark.parametrize("status", ["all", "proposed", "accepted"])
def test_training_formats_refuse_statuses_other_than_gold(store, format: str, status: str) -> None:
    populate(store)
    result = invoke("export", "--format", format, "--status", status, "-o", "out.jsonl")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: --format {format} exports gold labels only (accepted, edited, added), not --status {status}")
    assert not Path("out.jsonl").exists()
    with pytest.raises(AnnotatorError, match="gold labels only"):
        export_spans(store, io.StringIO(), status)


# ----------------------------------------------------------------------------- splits


def many_documents(store, count: int, prefix: str = "Story") -> list[Document]:
    documents = [Document.from_text(f"{prefix} {i}: the council met.", f"src/{prefix}-{i}.txt") for i in range(count)]
    store.add_documents(documents)
    return documents


def split_ids(path: Path) -> list[str]:
    return [record["doc_id"] for record in lines(path.read_text(encoding="utf-8"))]


def test_split_writes_exact_counts_deterministically(store) -> None:
    documents = many_documents(store, 10)
    result = invoke("export", "--status", "all", "--split", "train=0.8,dev=0.1,test=0.1", "-o", "gold.jsonl")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "wrote 8 documents to gold.train.jsonl", "wrote 1 documents to gold.dev.jsonl",
        "wrote 1 documents to gold.test.jsonl"]
    first = {name: split_ids(Path(f"gold.{name}.jsonl")) for name in ("train", "dev", "test")}
    assert sorted(sum(first.values(), [])) == sorted(d.id for d in documents)  # each in exactly one split
    # Every line is the contract line the whole export writes.
    whole = io.StringIO()
    export_jsonl(store, whole, "all")
    split_lines = [line for name in first for line in Path(f"gold.{name}.jsonl").read_text().splitlines()]
    assert sorted(split_lines) == sorted(whole.getvalue().splitlines())
    again = invoke("export", "--status", "all", "--split", "train=0.8,dev=0.1,test=0.1", "-o", "again.jsonl")
    assert again.exit_code == 0
    for name in first:
        assert Path(f"again.{name}.jsonl").read_bytes() == Path(f"gold.{name}.jsonl").read_bytes()
    other = invoke("export", "--status", "all", "--split", "train=0.8,dev=0.1,test=0.1", "--seed", "1", "-o", "s1.jsonl")
    assert other.exit_code == 0
    assert {name: split_ids(Path(f"s1.{name}.jsonl")) for name in first} != first
    assert not list(Path().glob("*.partial"))


def test_split_does_not_depend_on_the_order_documents_were_added(store, tmp_path: Path) -> None:
    documents = many_documents(store, 12)
    with open_db(tmp_path / "reversed.db") as other:
        other.add_documents(reversed(documents))
        for seed in (0, 5):
            ratios = {"train": 0.5, "dev": 0.25, "test": 0.25}
            mine = assign_splits(version_groups(store, store.documents()), ratios, seed)
            theirs = assign_splits(version_groups(other, other.documents()), ratios, seed)
            assert {name: sorted(ids) for name, ids in mine.items()} == {n: sorted(i) for n, i in theirs.items()}
            assert [len(ids) for ids in mine.values()] == [6, 3, 3]


def test_versions_of_one_article_land_in_the_same_split(store) -> None:
    many_documents(store, 9)
    versions = [Document.from_text(f"Version {v} of the port story.", "src/port.txt") for v in range(3)]
    for version in versions:  # one at a time: each new text links to the one before
        store.add_documents([version])
    many_documents(store, 4, prefix="Other")
    stored = [store.document(v.id) for v in versions]
    assert stored[1].previous_id == versions[0].id and stored[2].previous_id == versions[1].id
    for seed in range(25):
        result = invoke("export", "--status", "all", "--split", "train=0.6,dev=0.2,test=0.2", "--seed", str(seed),
                        "-o", "g.jsonl")
        assert result.exit_code == 0
        splits = {name: set(split_ids(Path(f"g.{name}.jsonl"))) for name in ("train", "dev", "test")}
        homes = [name for name, ids in splits.items() if ids & {v.id for v in versions}]
        assert len(homes) == 1 and {v.id for v in versions} <= splits[homes[0]]
        assert sum(len(ids) for ids in splits.values()) == 16


def test_versions_stay_together_even_through_an_unexported_version(store) -> None:
    versions = [Document.from_text(f"Version {v} of the port story.", "src/port.txt") for v in range(3)]
    for version in versions:
        store.add_documents([version])
    middle_missing = [store.document(versions[0].id), store.document(versions[2].id)]
    assert version_groups(store, middle_missing) == {versions[0].id: [versions[0].id, versions[2].id]}


def test_every_format_splits_and_every_split_file_is_written(store) -> None:
    document = populate(store)
    negative_document(store)
    result = invoke("export", "--format", "spans", "--split", "train=0.8,dev=0.1,test=0.1", "-o", "spans.jsonl",
                    "--include-partial")
    assert result.exit_code == 0
    # Two reviewed documents at 0.8/0.1/0.1: both in train, dev and test written empty.
    assert Path("spans.dev.jsonl").read_text() == Path("spans.test.jsonl").read_text() == ""
    assert {r["doc_id"] for r in lines(Path("spans.train.jsonl").read_text())} >= {document.id}
    chat = invoke("export", "--format", "openai-chat", "--split", "a=0.5,b=0.5", "-o", "chat.jsonl", "--include-partial")
    assert chat.exit_code == 0 and "wrote 1 documents (3 examples) to chat.a.jsonl" in chat.stderr
    csv_result = invoke("export", "--format", "csv", "--split", "a=0.5,b=0.5", "-o", "rows.csv")
    assert csv_result.exit_code == 0
    assert all(Path(f"rows.{n}.csv").read_text().startswith("doc_id,source,id,kind") for n in "ab")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("train=0.8,dev=0.1", "split ratios sum to 0.9, not 1"),
        ("train=0.8,dev=0.3,test=-0.1", "split 'test': the ratio -0.1 is negative"),
        ("train=0.5,train=0.5", "split 'train' is named twice"),
        ("train0.8,dev=0.2", "split 'train0.8' is not NAME=NUMBER"),
        ("train=,dev=1", "split 'train=' is not NAME=NUMBER"),
        ("train=most,dev=0.2", "split 'train': 'most' is not a number"),
        ("train=nan,dev=1", "split 'train': 'nan' is not a number"),
        ("../x=1", "split name '../x' may hold only letters"),
    ],
)
def test_bad_split_specs_are_one_line_errors(store, spec: str, message: str) -> None:
    many_documents(store, 3)
    result = invoke("export", "--status", "all", "--split", spec, "-o", "gold.jsonl")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: {message}")
    assert not list(Path().glob("gold*"))


def test_split_needs_an_output_file_and_a_known_format(store) -> None:
    result = invoke("export", "--split", "train=0.9,test=0.1")
    assert result.exit_code == 1 and result.stderr.startswith("error: --split needs -o FILE")
    result = invoke("export", "--format", "conll", "--split", "train=1", "-o", "x.jsonl")
    assert result.exit_code == 1 and "unknown format 'conll'" in result.stderr


def test_a_failed_split_leaves_no_file(tmp_path: Path) -> None:
    def broken(out) -> int:
        out.write("half")
        raise AnnotatorError("the store went away")

    with pytest.raises(AnnotatorError, match="went away"):
        write_files([(tmp_path / "a.jsonl", lambda out: out.write("whole\n")), (tmp_path / "b.jsonl", broken)])
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".jsonl", ".partial")) == []
    with pytest.raises(AnnotatorError, match="cannot write"):
        write_files([(tmp_path / "missing" / "a.jsonl", lambda out: 0)])


def test_parse_split_keeps_the_order_given() -> None:
    assert list(parse_split(" test = 0.2 , train=0.8")) == ["test", "train"]
    assert parse_split("a=0.333333,b=0.333333,c=0.333334") == {"a": 0.333333, "b": 0.333333, "c": 0.333334}


def test_split_counts_examples() -> None:
    assert split_counts(10, [0.8, 0.1, 0.1]) == [8, 1, 1]
    assert split_counts(100, [0.29, 0.71]) == [29, 71]
    assert split_counts(3, [0.5, 0.5]) == [2, 1]
    assert split_counts(0, [0.8, 0.2]) == [0, 0]
    assert split_counts(7, [1, 0]) == [7, 0]


@given(
    total=st.integers(0, 5000),
    ratios=st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=6).filter(lambda r: sum(r) > 1e-3),
)
def test_split_counts_sum_to_the_total_and_stay_within_one_of_the_share(total: int, ratios: list[float]) -> None:
    counts = split_counts(total, ratios)
    assert sum(counts) == total and all(count >= 0 for count in counts)
    for count, ratio in zip(counts, ratios):
        assert abs(count - ratio / sum(ratios) * total) < 1 + 1e-9


@given(
    sizes=st.lists(st.integers(1, 4), min_size=0, max_size=40),
    ratios=st.lists(st.integers(0, 10), min_size=1, max_size=4).filter(any),
    seed=st.integers(0, 2**32),
)
def test_assign_splits_places_each_document_once_and_groups_whole(sizes: list[int], ratios: list[int], seed: int) -> None:
    groups = {f"g{g}": [f"g{g}-d{d}" for d in range(size)] for g, size in enumerate(sizes)}
    named = {f"s{i}": ratio / sum(ratios) for i, ratio in enumerate(ratios)}
    assigned = assign_splits(groups, named, seed)
    placed = sorted(doc for ids in assigned.values() for doc in ids)
    assert placed == sorted(doc for ids in groups.values() for doc in ids)
    for ids in groups.values():
        assert sum(1 for members in assigned.values() if set(ids) <= set(members)) == 1
    if all(size == 1 for size in sizes):
        assert [len(ids) for ids in assigned.values()] == split_counts(len(sizes), list(named.values()))
    reordered = assign_splits(dict(reversed(groups.items())), named, seed)
    assert {name: set(ids) for name, ids in reordered.items()} == {name: set(ids) for name, ids in assigned.items()}


def test_export_objects_check_everything_before_writing(store) -> None:
    with pytest.raises(AnnotatorError, match="unknown status filter"):
        Export.of("jsonl", "done")
    with pytest.raises(AnnotatorError, match="gold labels only"):
        Export.of("openai-chat", "all")
    populate(store)
    job = Export.of("openai-chat", kinds=["quote"], partial=True)
    assert list(job.prompts) == ["quote"] and job.kinds == ("quote",)
    out = io.StringIO()
    assert job.write(store, out) == 1


def test_a_half_reviewed_document_is_left_out_of_every_gold_export_unless_asked(store, tmp_path: Path) -> None:
    """1 of 4 items decided: exporting its gold would teach a model to miss the other 3."""
    document = Document.from_text(TEXT, "seeds/a.txt")
    store.add_documents([document])
    figures = [figure_at(TEXT, needle) for needle in ("400,000", "40%")]
    ids = store.add_proposals(document.id, [*figures, Quote(start=1, end=20, text=TEXT[1:20], speaker="Suleiman")])
    store.record_decision(ids[0], "accept", "ann")
    store.close()
    note = "left out 1 documents still under review (--include-partial to export their partial gold)"
    for format in ("jsonl", "csv", "openai-chat", "spans"):
        result = invoke("export", "--format", format, "--db", str(tmp_path / "labels.db"))
        assert result.exit_code == 0 and result.stderr.strip() == note
        assert TEXT[:30] not in result.stdout and "400,000" not in result.stdout
        partial = invoke("export", "--format", format, "--include-partial", "--db", str(tmp_path / "labels.db"))
        assert partial.exit_code == 0 and partial.stderr == "" and "400,000" in partial.stdout
    with open_db(tmp_path / "labels.db") as reopened:
        for item_id in ids[1:]:
            reopened.record_decision(item_id, "reject", "ann")
    done = invoke("export", "--format", "spans", "--db", str(tmp_path / "labels.db"))
    assert done.stderr == "" and [s["label"] for s in lines(done.stdout)[0]["spans"]] == ["figure"]
