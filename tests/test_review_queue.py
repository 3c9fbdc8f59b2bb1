"""The review queue (the core under the review UI): navigation, filters and decisions in the store."""

from __future__ import annotations

import pytest

from annotator.errors import AnnotatorError
from annotator.review import ReviewQueue, annotation_of
from annotator.schemas import Document, Figure, Origin, Quote

RULES = Origin(engine="rules", prompt="rules@t")
TEXTS = [
    "“We stay,” Ahmed Sheikho said. Some 400,000 people fled. “No,” he said.",
    "Little is quoted here. About 3 million people live in Idlib.",
]


def _items(text: str) -> list:
    items = []
    for needle in ("We stay", "No"):
        if needle in text:
            start = text.index(needle)
            items.append(Quote(start=start, end=start + len(needle), text=needle, speaker="Ahmed Sheikho", origin=RULES))
    for needle in ("Some 400,000 people", "About 3 million people"):
        if needle in text:
            start = text.index(needle)
            items.append(Figure(start=start, end=start + len(needle), text=needle, value=1, origin=RULES))
    return items


@pytest.fixture
def queue(store) -> ReviewQueue:
    docs = [Document.from_text(text, f"{i}.txt") for i, text in enumerate(TEXTS)]
    store.add_documents(docs)
    for document in docs:
        store.add_proposals(document.id, _items(document.text))
    queue = ReviewQueue(store, [d.id for d in docs], "alice")
    queue.open(0)
    return queue


def test_accept_reject_and_advance(queue: ReviewQueue) -> None:
    assert [i.text for i in queue.items] == ["We stay", "Some 400,000 people", "No"]
    accepted = queue.accept()
    assert accepted is not None and accepted.status == "accepted" and queue.current.text == "Some 400,000 people"
    queue.reject()
    assert queue.current.text == "No"
    statuses = {a.text: a.status for a in queue.store.annotations(document_id=queue.document.id)}
    assert statuses == {"We stay": "accepted", "Some 400,000 people": "rejected", "No": "proposed"}
    assert {a.annotator for a in queue.store.annotations(statuses=["accepted", "rejected"])} == {"alice"}


def test_edit_is_one_decision_that_records_what_changed(queue: ReviewQueue) -> None:
    queue.move(2)
    item = queue.current
    corrected = annotation_of(item).model_copy(update={"speaker": "Ahmed Sheikho Jr"})
    edited = queue.edit(corrected)
    assert edited.status == "edited" and edited.fields()["speaker"] == "Ahmed Sheikho Jr"
    assert [d["action"] for d in queue.store.decisions(item.id)] == ["edit"]
    [change] = queue.changes(edited)
    assert (change.field, change.before, change.after) == ("speaker", "Ahmed Sheikho", "Ahmed Sheikho Jr")
    # An edit that changes nothing is an accept.
    queue.move(-2)
    assert queue.edit(annotation_of(queue.current)).status == "accepted"


def test_span_edit_records_the_new_boundaries(queue: ReviewQueue) -> None:
    item = queue.current
    text = queue.document.text
    wider = annotation_of(item).model_copy(update={"start": 0, "text": text[0 : item.end]})
    edited = queue.edit(wider)
    assert (edited.start, edited.end, edited.text) == (0, item.end, "“We stay")
    [change] = queue.changes(edited)
    assert change.field == "span" and change.before == "We stay"


def test_add_and_undo_across_documents(queue: ReviewQueue) -> None:
    queue.accept()
    queue.move_document(1)
    text = queue.document.text
    start = text.index("About")
    added = queue.add(Figure(start=start, end=start + 22, text=text[start : start + 22], value=3_000_000))
    assert added.status == "added" and added.origin()["engine"] == "manual" and queue.current.id == added.id
    queue.reject()  # withdraws the item just added
    assert added.id not in [i.id for i in queue.items]
    assert queue.undo().action == "reject"
    assert added.id in [i.id for i in queue.items]
    assert queue.undo().action == "add"
    assert all(i.status == "proposed" for i in queue.items)
    undone = queue.undo()  # back in the first document
    assert undone.action == "accept" and queue.document_index == 0 and queue.current.id == undone.item_id
    assert queue.current.status == "proposed"
    assert queue.undo() is None


def test_filters_and_next_unreviewed(queue: ReviewQueue) -> None:
    queue.set_kind_filter(["figure"])
    assert [i.kind for i in queue.items] == ["figure"]
    queue.set_kind_filter(None)
    assert queue.current.kind == "figure"  # the filter keeps the reviewer on the same item
    queue.move(-5)
    queue.accept()
    queue.accept()
    queue.accept()  # the document's last undecided item: the queue goes on to the next document's, as tab does
    assert queue.document_index == 1 and queue.current.status == "proposed"
    queue.move_document(-1)
    assert queue.cycle_status_filter() == "unreviewed" and queue.items == []
    assert queue.next_unreviewed() and queue.document_index == 1 and queue.current.status == "proposed"
    queue.accept()
    assert not queue.next_unreviewed(), [(i.text, i.status) for i in queue.store.annotations()]


def test_a_decision_goes_on_to_the_next_undecided_item_here_then_before_then_in_the_next_document(queue) -> None:
    _, second, third = (item.id for item in queue.items)
    queue.move(1)
    queue.accept()  # the second item
    assert queue.current.id == third
    queue.move(-2)
    queue.accept()  # the first: the second is decided, so on to the third
    assert queue.current.id == third
    queue.move(-1)
    queue.reject()  # the second again (a change of mind): the third is still undecided
    assert queue.current.id == third and queue.document_index == 0
    queue.move(-2)
    queue.store.record_decision(third, "accept", "bob", document_id=queue.document.id)
    queue.reload()
    assert queue.advance()  # nothing undecided here: the next document's first undecided item
    assert queue.document_index == 1 and queue.current.status == "proposed"
    queue.accept()  # the last undecided item anywhere: nothing to go on to, the next item as before
    assert queue.document_index == 1 and not queue.advance()
    assert [d["action"] for d in queue.store.decisions(second)] == ["accept", "reject"]
    assert {i.status for i in queue.store.annotations()} == {"accepted", "rejected"}


def test_an_empty_list_of_documents_is_refused(store) -> None:
    with pytest.raises(AnnotatorError, match="no documents"):
        ReviewQueue(store, [], "alice")


REVIEWER = """
import sys
from annotator.review import ReviewQueue
from annotator.store import open_db
db, name, action, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open_db(db) as store:
    ids = [d.id for d in store.document_summaries()]
    queue = ReviewQueue(store, ids, name)
    for _ in range(rounds):
        for index in range(len(ids)):
            queue.open(index)
            for _ in range(len(queue.items)):
                queue.accept() if action == "accept" else queue.reject()
"""


def test_two_reviewers_in_two_processes_lose_no_write(tmp_path, seeds) -> None:
    import subprocess
    import sys

    from annotator.ingest import read_paths
    from annotator.propose import RulesProposer, run_proposals
    from annotator.store import open_db

    db = tmp_path / "labels.db"
    documents = read_paths([seeds]).documents
    with open_db(db) as store:
        store.add_documents(documents)
        run_proposals(store, documents, RulesProposer())
        items = len(list(store.annotations()))
    rounds = 5
    reviewers = [
        subprocess.Popen([sys.executable, "-c", REVIEWER, str(db), name, action, str(rounds)], stderr=subprocess.PIPE)
        for name, action in (("alice", "accept"), ("bob", "reject"))
    ]
    for reviewer in reviewers:
        assert reviewer.wait(timeout=120) == 0, reviewer.stderr.read().decode()
    with open_db(db) as store:
        decisions = [d for item in store.annotations() for d in store.decisions(item.id)]
        by = {name: [d for d in decisions if d["annotator"] == name] for name in ("alice", "bob")}
        assert len(by["alice"]) == len(by["bob"]) == items * rounds
        assert {d["action"] for d in by["alice"]} == {"accept"} and {d["action"] for d in by["bob"]} == {"reject"}
        for item in store.annotations():  # each item's label is its latest decision, whoever made it
            latest = store.decisions(item.id)[-1]
            assert item.status == {"accept": "accepted", "reject": "rejected"}[latest["action"]]
            assert item.annotator == latest["annotator"]


def test_overall_progress_counts_every_document_and_stays_in_step(queue: ReviewQueue) -> None:
    total = sum(len(_items(text)) for text in TEXTS)
    assert queue.overall_progress() == (0, total)
    queue.accept()
    queue.move(-1)
    queue.reject()  # the same item again: still one reviewed
    assert queue.overall_progress() == (1, total) == queue.store.review_counts()
    queue.move_document(1)
    queue.accept()
    assert queue.overall_progress() == (2, total) == queue.store.review_counts()
    queue.undo()
    assert queue.overall_progress() == (1, total)
