"""The v1 contract: one encoder, whether a record is built by SQLite or by `contract.Item`."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.canonical import to_json
from annotator.contract import ContractDocument, Item, decode_line, documents_from_store, store_lines
from annotator.schemas import Document, Figure, Origin, Quote
from annotator.store import open_db

TEXT = "“We stay,” Ahmed Sheikho said. Nearly 400,000 people fled. Café owners welcomed the truce."


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(speaker=st.one_of(st.none(), st.text(max_size=12)), model=st.one_of(st.none(), st.text(max_size=8)),
       action=st.sampled_from([None, "accept", "reject", "edit"]))
def test_the_store_s_sql_record_is_the_contract_s(tmp_path_factory, speaker, model, action) -> None:
    """`Store.annotation_records` builds records in SQL for speed: byte for byte what `Item.record()` encodes."""
    path = tmp_path_factory.mktemp("contract") / "labels.db"
    with open_db(path) as store:
        document = Document.from_text(TEXT, "a.txt", "A")
        store.add_documents([document])
        origin = Origin(engine="llm", model=model, prompt="quotes@x")
        quote = Quote(start=1, end=8, text="We stay", speaker=speaker, cue="said", origin=origin)
        figure = Figure(start=TEXT.index("Nearly"), end=TEXT.index(" fled"), text="Nearly 400,000 people",
                        value=400000, unit="people", qualifier="approximately", origin=origin)
        ids = store.add_proposals(document.id, [quote, figure])
        if action is not None:
            edited = quote.model_copy(update={"speaker": (speaker or "") + "!"}) if action == "edit" else None
            store.record_decision(ids[0], action, "ann", edited)
        by_sql = [record for _, record in store.annotation_records()]
        [read] = documents_from_store(store)
        assert by_sql == [to_json(item.record()) for item in read.items]
        [line] = store_lines(store, "all")
        assert line == read.line()
        assert decode_line(line).items == read.items  # decoding gives back the same items


def test_a_document_under_review_is_partial_in_a_file_and_in_the_store() -> None:
    document = Document.from_text(TEXT, "a.txt")
    proposed = Item("quote", 1, 8, "We stay", {"speaker": None}, status="proposed")
    accepted = Item("quote", 1, 8, "We stay", {"speaker": None}, status="accepted")
    assert ContractDocument(document, [proposed, accepted]).partial  # a file without the mark
    assert not ContractDocument(document, [proposed]).partial  # nobody has started on it
    assert ContractDocument(document, [accepted], reviewed=False).partial  # a --include-partial export
    assert ContractDocument(document, [accepted]).fully_reviewed and not ContractDocument(document, []).fully_reviewed
    line = ContractDocument(document, [accepted], reviewed=True).line()
    assert json.loads(line)["reviewed"] is True and decode_line(line).fully_reviewed


def test_ids_are_hashed_from_canonical_json_and_old_ids_still_hold(store) -> None:
    """An origin's keys in another order give the same id; a store made before keeps its ids."""
    from annotator.store import legacy_proposal_id, proposal_id

    document = Document.from_text(TEXT, "a.txt")
    store.add_documents([document])
    quote = Quote(start=1, end=8, text="We stay", speaker="Ahmed Sheikho", origin=Origin(engine="llm", prompt="q@1"))
    origin_a, origin_b = '{"engine":"llm","model":null,"prompt":"q@1"}', '{"prompt":"q@1","model":null,"engine":"llm"}'
    assert proposal_id(document.id, quote, origin_a) == proposal_id(document.id, quote, origin_b)
    assert legacy_proposal_id(document.id, quote, origin_a) != legacy_proposal_id(document.id, quote, origin_b)
    # A proposal stored under its old id is found again, not stored twice.
    legacy = legacy_proposal_id(document.id, quote, origin_a)
    store.add_proposals(document.id, [quote.model_copy(update={"id": legacy})])
    assert store.add_proposals(document.id, [quote]) == [legacy]
    assert store.conn.execute("SELECT count(*) FROM items WHERE proposal = 1").fetchone()[0] == 1


def test_cache_keys_are_canonical_and_an_old_store_s_answers_are_still_read(store) -> None:
    """Parameters in another order are the same request; an answer cached under the old key is found."""
    from annotator.propose.run import cache_key, cached_answer, legacy_cache_key

    class Engine:
        name, model, prompt_hash = "llm", "m", "abc"

        def __init__(self, params: dict) -> None:
            self.params = params

    document = Document.from_text(TEXT, "a.txt")
    store.add_documents([document])
    one, other = Engine({"kinds": ["quote"], "temperature": 0}), Engine({"temperature": 0, "kinds": ["quote"]})
    assert cache_key(one, document) == cache_key(other, document)
    assert legacy_cache_key(one, document) != legacy_cache_key(other, document)
    store.cache_response(legacy_cache_key(one, document), "llm", "m", "abc", document.id, '{"old":1}')
    assert cached_answer(store, one, document)[0] == '{"old":1}'
    assert cached_answer(store, other, document) is None  # the old key depended on the order
