"""The store's indexed queries give the answers a plain walk over every document and item gives."""

from __future__ import annotations

import secrets
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.errors import AnnotatorError
from annotator.review import ReviewQueue
from annotator.schemas import Document, Figure, Origin, Quote, Stance
from annotator.store import open_db

RULES = Origin(engine="rules", prompt="rules@test")
TEXT = "{n}: The minister said 40 people left. \"We stay,\" she said. Critics oppose the plan."

store_shapes = st.fixed_dictionaries({
    "proposals": st.lists(st.integers(0, 3), min_size=1, max_size=7),
    "decisions": st.lists(st.tuples(st.sampled_from(["accept", "reject", "edit", "undo", "add"]),
                                    st.integers(0, 40)), max_size=25),
    "titles": st.lists(st.sampled_from(["Flood", "flood barrier", "Budget", "50%_off", None]), min_size=7, max_size=7),
})


def _items(text: str, count: int) -> list:
    start = text.index("40 people")
    quote = text.index("We stay")
    stance = text.index("Critics")
    return [
        Figure(start=start, end=start + 9, text="40 people", value=40, unit="person", origin=RULES),
        Quote(start=quote, end=quote + 7, text="We stay", speaker="the minister", origin=RULES),
        Stance(start=stance, end=len(text) - 1, text=text[stance:-1], holder="Critics", target="the plan",
               polarity="against", origin=RULES),
    ][:count]


def _build(path: Path, shape: dict):
    store = open_db(path)
    documents = [Document.from_text(TEXT.format(n=n), f"news/{n}.txt", shape["titles"][n])
                 for n in range(len(shape["proposals"]))]
    store.add_documents(documents)
    ids = []
    for document, count in zip(documents, shape["proposals"]):
        ids += store.add_proposals(document.id, _items(document.text, count))
    for action, pick in shape["decisions"]:
        try:
            if action == "undo":
                store.undo("ann")
            elif action == "add":
                document = documents[pick % len(documents)]
                store.record_decision(f"m_{pick}", "add", "ann", _items(document.text, 1)[0], document_id=document.id)
            elif ids:
                item = ids[pick % len(ids)] if pick % 3 else f"m_{pick}"  # a third on items added by hand
                where = store.item_document(item)
                if where is None:
                    continue
                annotation = _items(store.document(where).text, 1)[0] if action == "edit" else None
                store.record_decision(item, action, "ann", annotation if action == "edit" else None)
        except AnnotatorError:
            pass  # e.g. an edit that does not fit the item's kind
    return store, documents


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=store_shapes)
def test_indexed_queries_answer_as_a_walk_over_everything(tmp_path: Path, shape: dict) -> None:
    store, documents = _build(tmp_path / f"{secrets.token_hex(4)}.db", shape)
    with store:
        items = {d.id: list(store.annotations(d.id)) for d in documents}
        proposals = {d: [i for i in its if i.proposal_id] for d, its in items.items()}
        undecided = {d: sum(i.status == "proposed" for i in its) for d, its in proposals.items()}
        decided = {d for d, its in items.items() if any(i.status != "proposed" for i in its)}
        ids = [d.id for d in documents]

        assert store.document_ids() == ids and store.document_count() == len(ids)
        assert store.fully_reviewed_document_ids() == [d for d in ids if d in decided and not undecided[d]]
        assert store.reviewed_document_ids() == decided
        assert store.undecided_counts() == {d: n for d, n in undecided.items() if d in decided and n}
        assert store.documents_without_proposals() == [d for d in ids if not proposals[d]]
        assert store.documents_without_proposals(ids[::-1]) == [d for d in ids[::-1] if not proposals[d]]

        every = [i for its in items.values() for i in its]
        assert store.stats()["by_status_kind"] == dict(Counter((i.status, i.kind) for i in every))
        all_proposals = [i for its in proposals.values() for i in its]
        assert store.review_counts() == (sum(i.status != "proposed" for i in all_proposals), len(all_proposals))

        for index, document_id in enumerate(ids):
            later = [d for d in ids[index + 1:] + ids[: index + 1] if undecided[d]]
            assert store.next_undecided_document(document_id) == (later[0] if later else None)
            figures = [d for d in ids[index + 1:] + ids[: index + 1]
                       if any(i.kind == "figure" and i.status == "proposed" for i in proposals[d])]
            assert store.next_undecided_document(document_id, ["figure"]) == (figures[0] if figures else None)

        for subset in (None, ids[::-1][:4]):
            order = ids if subset is None else subset
            for search in ("", "flood", "50%_", "news/3", "%"):
                for unfinished in (False, True):
                    wanted = [
                        d for d in order
                        if (not search or search.lower() in (store.document(d).title or "").lower()
                            or search.lower() in store.document(d).source.lower())
                        and (not unfinished or undecided[d])
                    ]
                    assert store.count_documents(subset, search, unfinished) == len(wanted)
                    summaries = store.document_summaries(subset, search, unfinished, offset=1, limit=2)
                    assert [s.id for s in summaries] == wanted[1:3]
                    for summary in summaries:
                        assert (summary.proposals, summary.reviewed, summary.added) == (
                            len(proposals[summary.id]),
                            sum(i.status != "proposed" for i in proposals[summary.id]),
                            sum(i.status == "added" for i in items[summary.id]),
                        )


def test_tab_over_the_whole_store_goes_where_a_walk_would(tmp_path: Path) -> None:
    shape = {"proposals": [2, 0, 3, 1, 2], "decisions": [("accept", 1), ("accept", 2), ("reject", 4)],
             "titles": [None] * 7}
    store, documents = _build(tmp_path / "labels.db", shape)
    whole = ReviewQueue(store, None, "ann")
    listed = ReviewQueue(store, [d.id for d in documents], "ann")
    seen_whole, seen_listed = [], []
    for queue, seen in ((whole, seen_whole), (listed, seen_listed)):
        queue.open(0)
        for _ in range(7):  # round the store and on
            assert queue.next_unreviewed()
            seen.append((queue.document_index, queue.current.id, queue.current.status))
    assert seen_whole == seen_listed and {status for _, _, status in seen_whole} == {"proposed"}
    assert len({item for _, item, _ in seen_whole}) == 5  # every undecided proposal, then round again
    while whole.next_unreviewed():
        whole.accept()
    assert whole.store.review_counts() == (8, 8)
    # A document stored after the review began is found too.
    late = Document.from_text(TEXT.format(n="late"), "news/late.txt")
    store.add_documents([late])
    store.add_proposals(late.id, _items(late.text, 1))
    assert whole.next_unreviewed() and whole.document.id == late.id


async def test_the_document_list_opens_on_the_current_document_and_reads_pages_as_the_cursor_moves(tmp_path: Path) -> None:
    from textual.widgets import DataTable

    from annotator.tui.app import create_app
    from annotator.tui.screens.documents import PAGE

    db = tmp_path / "labels.db"
    with open_db(db) as store:
        documents = [Document.from_text(TEXT.format(n=n), f"news/{n:04d}.txt", f"Story {n}") for n in range(2 * PAGE + 50)]
        store.add_documents(documents)
        for document in documents:
            store.add_proposals(document.id, _items(document.text, 1))
    app = create_app(db, None, "ann")
    async with app.run_test(size=(100, 30)) as pilot:
        app.queue.open(PAGE + 30)
        app.screen.show_document()
        await pilot.press("d")
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        key = lambda: table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value  # noqa: E731
        assert key() == documents[PAGE + 30].id and table.row_count == PAGE  # one page, not every row
        for _ in range(PAGE):  # down past the end of the first window read
            await pilot.press("down")
        await pilot.pause()
        assert key() == documents[2 * PAGE + 30].id
        await pilot.press("enter")
        await pilot.pause()
        assert app.queue.document.id == documents[2 * PAGE + 30].id
