"""Several reviewers per document: claims, each reviewer's own labels, the gold rule, adjudication, import."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from typer.testing import CliRunner

from annotator.cli import app
from annotator.contract import documents_from_store, left_out_of_gold
from annotator.evaluate import gold_from_store
from annotator.ingest import read_paths
from annotator.propose import RulesProposer, run_proposals
from annotator.review import ReviewQueue
from annotator.store import manual_id, open_db
from annotator.teams import NOBODY, Adjudication, document_reviews, variants

runner = CliRunner()

ARTICLES = [
    "Mayor Ana Ruiz said: \u201cThe bridge opens in May.\u201d Officials counted 3,000 cars a day. "
    "\u201cWe will not wait,\u201d Ruiz told reporters.",
    "\u201cPrices will fall,\u201d said economist Tom Lee. About 40 percent of shops closed, the council said.",
    "\u201cThe river is rising,\u201d warned Sara Diaz. Some 120 people left their homes on Monday.",
]


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """A store of three short articles with their rules proposals, two reviewers per document."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for number, text in enumerate(ARTICLES):
        (folder / f"a{number}.txt").write_text(text)
    documents = read_paths([folder]).documents
    path = tmp_path / "labels.db"
    with open_db(path) as store:
        store.add_documents(documents)
        run_proposals(store, documents, RulesProposer())
        store.set_settings({"overlap": "2"})
    return path


def review_all(store, name: str, document_id: str, action: str = "accept", first: str | None = None) -> None:
    """`name` decides every proposal of a document: `action`, the first one `first` if given."""
    for index, item in enumerate(store.annotations(document_id, reviewer=name)):
        store.record_decision(item.id, first if index == 0 and first else action, name)


def gold_ids(store) -> dict[str, list[tuple[str, str]]]:
    return {document.id: [(item.id, item.status) for item in document.items]
            for document in documents_from_store(store, "gold")}


# ------------------------------------------------------------------------------ claims


def test_the_default_overlap_is_one_and_review_is_as_before(tmp_path: Path) -> None:
    with open_db(tmp_path / "one.db") as store:
        assert store.overlap() == 1
        assert store.setting("overlap") is None


def test_claims_give_each_document_to_overlap_reviewers_and_never_twice_to_one(team: Path) -> None:
    with open_db(team) as store:
        documents = store.document_ids()
        alice = store.claim_documents("alice", 10)
        bob = store.claim_documents("bob", 10)
        carol = store.claim_documents("carol", 10)
        assert alice == bob == documents  # each document still needs a second reviewer after alice
        assert carol == []  # two live claims on each: the overlap is reached
        assert store.claim_documents("alice", 10) == documents  # her own claims, renewed, not new ones


def test_a_claim_expires_and_another_reviewer_takes_the_document(team: Path) -> None:
    with open_db(team) as store:
        store.claim_documents("alice", 1, minutes=0.001)
        store.claim_documents("bob", 3, minutes=60)
        first = store.document_ids()[0]
        assert first not in store.claim_documents("carol", 3, minutes=60)
        time.sleep(0.1)  # alice's claim on the first document lapses
        assert first in store.claim_documents("carol", 3, minutes=60)


def test_a_decision_renews_the_claim_and_a_finished_review_keeps_its_place(team: Path) -> None:
    with open_db(team) as store:
        first = store.document_ids()[0]
        store.claim_documents("alice", 1, minutes=0.001)
        store.set_settings({"claim_minutes": "60"})
        item = next(store.annotations(first, reviewer="alice"))
        store.record_decision(item.id, "accept", "alice")  # renewed for an hour
        time.sleep(0.1)
        store.claim_documents("bob", 1)
        assert first not in store.claim_documents("carol", 1)
        # A batch renews the claims on its documents too.
        second = store.claim_documents("dave", 1, minutes=0.001)[0]
        store.record_decisions([next(store.annotations(second, reviewer="dave")).id], "accept", "dave")
        time.sleep(0.1)
        assert second not in store.claim_documents("erin", 3)
        # A reviewer who decided every proposal holds the place though the claim ran out.
        review_all(store, "alice", first)
        store.conn.execute("UPDATE claims SET expires_at = '2000-01-01' WHERE annotator = "
                           "(SELECT n FROM annotators WHERE name = 'alice')")
        assert first not in store.claim_documents("carol", 1)


def _claim(path: str, name: str, queue) -> None:
    with open_db(path) as store:
        queue.put((name, store.claim_documents(name, 50)))


def test_reviewers_starting_at_once_in_several_processes_never_exceed_the_overlap(team: Path) -> None:
    names = [f"r{number}" for number in range(6)]
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_claim, args=(str(team), name, queue)) for name in names]
    for process in processes:
        process.start()
    claimed = dict(queue.get(timeout=60) for _ in names)
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    with open_db(team) as store:
        for document_id in store.document_ids():
            takers = [name for name, documents in claimed.items() if document_id in documents]
            assert len(takers) == 2
        live = store.conn.execute("SELECT doc, count(*) FROM claims GROUP BY doc").fetchall()
        assert [count for _, count in live] == [2, 2, 2]


# ----------------------------------------------------------------- each reviewer's own labels


def test_a_reviewer_never_sees_or_changes_another_reviewers_decisions(team: Path) -> None:
    with open_db(team) as store:
        first = store.document_ids()[0]
        items = list(store.annotations(first, reviewer="alice"))
        store.record_decision(items[0].id, "reject", "alice")
        added = store.annotation(items[0].id, "alice")
        assert added is not None and added.status == "rejected"
        assert store.annotation(items[0].id, "bob").status == "proposed"  # bob sees the proposal as proposed
        store.record_decision(items[0].id, "accept", "bob")
        assert store.annotation(items[0].id, "alice").status == "rejected"  # bob's accept left alice's reject
        # An item alice adds is hers alone.
        text = store.document(first).text
        own = items[0]
        from annotator.schemas import parse_annotation

        annotation = parse_annotation({"kind": "figure", "start": own.start, "end": own.end,
                                       "text": text[own.start:own.end], "value": 1, "unit": "x",
                                       "qualifier": "exact", "subject": "y", "attributed_to": None})
        store.record_decision(manual_id(), "add", "alice", annotation, document_id=first)
        assert len(list(store.annotations(first, reviewer="alice"))) == len(items) + 1
        assert len(list(store.annotations(first, reviewer="bob"))) == len(items)
        # Undo stays per reviewer: bob's undo takes back bob's accept, not alice's add.
        undone = store.undo("bob", role="review")
        assert undone is not None and undone["action"] == "accept"
        assert store.annotation(items[0].id, "bob").status == "proposed"
        assert len(list(store.annotations(first, reviewer="alice"))) == len(items) + 1


def test_the_review_queue_of_a_team_store_shows_the_reviewers_own_labels(team: Path) -> None:
    with open_db(team) as store:
        first = store.document_ids()[0]
        review_all(store, "alice", first, "reject")
        queue = ReviewQueue(store, [first], "bob")
        queue.open(0)
        assert {item.status for item in queue.items} == {"proposed"}
        queue.accept()
        assert queue.items[0].status == "accepted"
        assert store.annotation(queue.items[0].id, "alice").status == "rejected"
        assert queue.overall_progress() == (1, len(queue.items))


# ------------------------------------------------------------------------------ gold rule


def test_an_item_is_gold_only_when_every_reviewer_agrees(team: Path) -> None:
    with open_db(team) as store:
        first, second, third = store.document_ids()
        review_all(store, "alice", first)
        assert gold_ids(store) == {}  # one reviewer of two: not gold yet
        assert left_out_of_gold(store, "gold") == 1
        review_all(store, "bob", first)
        gold = gold_ids(store)
        assert list(gold) == [first] and {status for _, status in gold[first]} == {"accepted"}
        # On the second document, bob rejects what alice accepted: that item waits for an adjudicator.
        review_all(store, "alice", second)
        review_all(store, "bob", second, "accept", first="reject")
        assert second not in gold_ids(store)
        [(_, review)] = [(d, r) for d, r in document_reviews(store) if d.id == second]
        assert len(review.disputed) == 1 and review.reviewers == ["alice", "bob"]
        # Both reject the third document's items: agreed hard negatives, and the document is gold.
        review_all(store, "alice", third, "reject")
        review_all(store, "bob", third, "reject")
        assert gold_ids(store)[third] == []
        golds, under_review = gold_from_store(store)
        assert [document.id for document in golds] == [first, third]
        assert under_review == 1
        everything = {d.id: d for d in documents_from_store(store, "all")}
        assert {item.status for item in everything[third].items} == {"rejected"}
        partial = {d.id: d for d in documents_from_store(store, "gold", partial=True)}
        assert len(partial[second].items) == len(everything[second].items) - 1  # the disputed one left out


def test_the_same_edit_by_both_reviewers_is_gold_and_a_different_one_is_not(team: Path) -> None:
    with open_db(team) as store:
        first = store.document_ids()[0]
        quote = next(item for item in store.annotations(first, reviewer=NOBODY) if item.kind == "quote")
        from annotator.review import annotation_of

        for name, speaker in (("alice", "Ana Ruiz"), ("bob", "Ana Ruiz")):
            edited = annotation_of(quote).model_copy(update={"speaker": speaker})
            store.record_decision(quote.id, "edit", name, edited)
            for item in store.annotations(first, reviewer=name):
                if item.status == "proposed":
                    store.record_decision(item.id, "accept", name)
        agreed = {item.id: item for item in next(documents_from_store(store, "gold")).items}
        assert agreed[quote.id].status == "edited" and agreed[quote.id].fields["speaker"] == "Ana Ruiz"
        store.record_decision(quote.id, "edit", "bob", annotation_of(quote).model_copy(update={"speaker": "Ruiz Ana Jr"}))
        assert gold_ids(store) == {}


def test_export_says_what_it_left_out_and_why(team: Path) -> None:
    with open_db(team) as store:
        first = store.document_ids()[0]
        review_all(store, "alice", first)
        review_all(store, "bob", first, first="reject")
    result = runner.invoke(app, ["export", "--db", str(team)])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "left out 1 documents" in result.stderr and "1 items to adjudicate" in result.stderr


# ------------------------------------------------------------------------------ adjudication


def test_adjudication_settles_a_dispute_and_undo_takes_it_back(team: Path) -> None:
    with open_db(team) as store:
        first, second, _ = store.document_ids()
        review_all(store, "alice", first)
        review_all(store, "bob", first, first="reject")
        review_all(store, "alice", second, first="reject")
        review_all(store, "bob", second, first="accept", action="reject")
        adjudication = Adjudication(store, "carol")
        assert adjudication.document_ids[0] == second  # the most disputed first
        adjudication.open(adjudication.document_ids.index(first))
        unit = adjudication.current
        found = variants(unit)
        assert sorted(variant.annotators for variant in found) == [("alice",), ("bob",)]
        accept = next(variant for variant in found if variant.annotators == ("alice",))
        adjudication.pick(accept)
        assert first in gold_ids(store)
        role = store.conn.execute("SELECT role, action FROM decisions ORDER BY id DESC LIMIT 1").fetchone()
        assert role == ("adjudicate", "accept")
        adjudication.undo()
        assert first not in gold_ids(store)
        adjudication.open(adjudication.document_ids.index(first))
        adjudication.reject()
        assert first in gold_ids(store) and unit.proposal.id not in dict(gold_ids(store)[first])
        everything = {d.id: d for d in documents_from_store(store, "all")}
        assert {item.id: item.status for item in everything[first].items}[unit.proposal.id] == "rejected"


def test_merging_agreed_items_is_one_step(team: Path) -> None:
    with open_db(team) as store:
        first = store.document_ids()[0]
        review_all(store, "alice", first)
        review_all(store, "bob", first, first="reject")
        adjudication = Adjudication(store, "carol")
        adjudication.open(0)
        merged = adjudication.merge_agreed()
        assert merged == len(list(store.annotations(first, reviewer=NOBODY))) - 1
        batches = store.conn.execute("SELECT count(DISTINCT batch) FROM decisions WHERE role = 'adjudicate'").fetchone()
        assert batches == (1,)
        undone = adjudication.undo()
        assert undone is not None and undone["count"] == merged


# ------------------------------------------------------------------------------ import


def test_import_records_the_files_labels_as_the_annotators_own(team: Path, tmp_path: Path) -> None:
    with open_db(team) as store:
        first = store.document_ids()[0]
        review_all(store, "alice", first)
    exported = runner.invoke(app, ["export", "--status", "all", "--db", str(team)])
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    line = next(record for record in lines if record["doc_id"] == first)
    for record in line["annotations"]:
        record["status"] = "accepted"
    line["annotations"][0]["status"] = "rejected"
    path = tmp_path / "bob.jsonl"
    path.write_text(json.dumps(line) + "\n")
    result = runner.invoke(app, ["import", str(path), "--annotator", "bob", "--db", str(team)])
    assert result.exit_code == 0, result.output
    with open_db(team) as store:
        bob = {item.id: item.status for item in store.annotations(first, reviewer="bob")}
        assert sorted(set(bob.values())) == ["accepted", "rejected"]
        assert {item.status for item in store.annotations(first, reviewer="alice")} == {"accepted"}
        [(_, review)] = [(d, r) for d, r in document_reviews(store) if d.id == first]
        assert review.reviewers == ["alice", "bob"] and len(review.disputed) == 1
        assert "bob" in [row[0] for row in store.conn.execute(
            "SELECT a.name FROM claims c JOIN annotators a ON a.n = c.annotator")]


# ---------------------------------------------------------------------- the log is the truth


def derived_reviews(conn: sqlite3.Connection) -> dict[tuple[int, str, int], tuple[int | None, int | None]]:
    """Each (item, role, reviewer)'s decision and content in effect, folded from the log alone."""
    state: dict[tuple[int, str, int], tuple[int | None, int | None]] = {}
    undone = {row[0] for row in conn.execute("SELECT undoes FROM decisions WHERE undoes IS NOT NULL")}
    for id_, item, action, role, who in conn.execute(
        "SELECT id, item, action, role, annotator FROM decisions WHERE action != 'undo' ORDER BY id"
    ):
        key = (item, role, who)
        decision, content = state.get(key, (None, None))
        if id_ not in undone:
            decision = id_
            if action in ("edit", "add"):
                content = id_
        state[key] = (decision, content)
    return {key: value for key, value in state.items() if value[0] is not None}


class ReviewersMachine(RuleBasedStateMachine):
    """Random decisions, undos and redos by three reviewers and an adjudicator: `reviews` is the log's fold."""

    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self.folder = tempfile.TemporaryDirectory()
        path = Path(self.folder.name) / "labels.db"
        folder = Path(self.folder.name) / "a"
        folder.mkdir()
        (folder / "a.txt").write_text(ARTICLES[0])
        documents = read_paths([folder]).documents
        self.store = open_db(path)
        self.store.add_documents(documents)
        run_proposals(self.store, documents, RulesProposer())
        self.store.set_settings({"overlap": "3"})
        self.items = [item.id for item in self.store.annotations(reviewer=NOBODY)]

    @rule(who=st.sampled_from(["alice", "bob", "carol"]), index=st.integers(0, 20),
          action=st.sampled_from(["accept", "reject", "flag"]))
    def decide(self, who: str, index: int, action: str) -> None:
        item = self.items[index % len(self.items)]
        if action == "flag":
            self.store.flag(item, who, "why")
        else:
            self.store.record_decision(item, action, who)

    @rule(index=st.integers(0, 20), action=st.sampled_from(["accept", "reject"]))
    def adjudicate(self, index: int, action: str) -> None:
        self.store.record_decision(self.items[index % len(self.items)], action, "dana", role="adjudicate")

    @rule(who=st.sampled_from(["alice", "bob", "carol", "dana"]), role=st.sampled_from(["review", "adjudicate"]))
    def undo(self, who: str, role: str) -> None:
        self.store.undo(who, role=role)

    @rule(who=st.sampled_from(["alice", "bob", "carol", "dana"]))
    def redo(self, who: str) -> None:
        self.store.redo(who)

    @invariant()
    def reviews_are_the_fold_of_the_log(self) -> None:
        kept = {(item, role, who): (decision, content) for item, role, who, decision, content in self.store.conn.execute(
            "SELECT item, role, annotator, decision, content FROM reviews WHERE decision IS NOT NULL")}
        assert kept == derived_reviews(self.store.conn)
        # Each reviewer's view of the proposals is what their own decisions in effect say.
        for who in ("alice", "bob", "carol"):
            view = {item.id: item.status for item in self.store.annotations(reviewer=who)}
            own = dict(self.store.conn.execute(
                "SELECT i.id, d.action FROM reviews r JOIN items i ON i.n = r.item JOIN decisions d ON d.id = r.decision "
                "WHERE r.role = 'review' AND r.annotator = (SELECT n FROM annotators WHERE name = ?)", [who]))
            expected = {"accept": "accepted", "reject": "rejected", "flag": "flagged"}
            assert view == {item: expected[own[item]] if item in own else "proposed" for item in self.items}

    def teardown(self) -> None:
        self.store.close()
        self.folder.cleanup()


ReviewersMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
TestReviewers = ReviewersMachine.TestCase


# ------------------------------------------------------------------- adjudication through the UI


async def test_the_adjudication_screen_picks_rejects_merges_and_undoes(team: Path) -> None:
    from annotator.tui.app import AdjudicationApp
    from annotator.tui.screens.adjudicate import AdjudicationScreen

    with open_db(team) as store:
        first, second, _ = store.document_ids()
        review_all(store, "alice", first)
        review_all(store, "bob", first, first="reject")
        review_all(store, "alice", second, first="reject")
        review_all(store, "bob", second, action="reject", first="accept")
        disputed = {document_id: len(review.disputed) for document_id, review in
                    ((d.id, r) for d, r in document_reviews(store))}

    def adjudications() -> list[tuple[str, str]]:
        with open_db(team) as store:
            return store.conn.execute(
                "SELECT i.id, d.action FROM decisions d JOIN items i ON i.n = d.item WHERE d.role = 'adjudicate' "
                "ORDER BY d.id").fetchall()

    app = AdjudicationApp(open_db(team), "carol")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AdjudicationScreen)
        adjudication = screen.adjudication
        assert adjudication.document.id == max(disputed, key=disputed.get)  # the most disputed first
        unit = adjudication.current
        shown = variants(unit)
        # The variant most reviewers chose comes first and is highlighted: here one each, alice's first by name.
        assert shown[0].annotators == ("alice",)
        await pilot.press("1")
        assert adjudications() == [(unit.representative.id, "reject" if shown[0].item.status == "rejected" else
                                    "accept")]
        assert adjudication.current is not unit  # it went on to the next open item
        await pilot.press("u")
        assert adjudications()[-1][1] == "undo"
        await pilot.press("x")
        assert adjudications()[-1] == (unit.representative.id, "reject")
        await pilot.press("m")  # nothing agreed in this document: nothing merged
        assert len(adjudications()) == 3
        await pilot.press("J")
        assert adjudication.document.id == first
        await pilot.press("m")
        merged = adjudications()
        with open_db(team) as store:
            batch = store.conn.execute(
                "SELECT count(*) FROM decisions WHERE role = 'adjudicate' AND batch IS NOT NULL").fetchone()[0]
        assert batch == len(merged) - 3 and batch > 0  # the agreed items of the document, in one batch
        # e: the form opens on the highlighted variant; saving it is the adjudicator's own edit.
        from annotator.tui.screens.edit import EditModal

        target = adjudication.current
        await pilot.press("e")
        assert isinstance(app.screen, EditModal)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert adjudications()[-1] == (target.representative.id, "edit")
        with open_db(team) as store:
            [(_, review)] = [(d, r) for d, r in document_reviews(store) if d.id == first]
        assert review.complete  # its one disputed item settled, the rest merged: the document's gold is complete
        await pilot.press("q")


def test_assign_stores_the_overlap_and_review_refuses_a_reviewer_with_nothing_left(team: Path) -> None:
    result = runner.invoke(app, ["assign", "--overlap", "1", "--annotators", "alice,bob", "--db", str(team)])
    assert result.exit_code == 0 and "overlap 1" in result.stdout
    result = runner.invoke(app, ["assign", "--overlap", "2", "--claim-minutes", "30", "--db", str(team)])
    assert "overlap 2  annotators alice,bob  claims last 30 minutes" in result.stdout
    with open_db(team) as store:
        assert (store.overlap(), store.claim_minutes()) == (2, 30.0)
        store.claim_documents("alice", 10)
        store.claim_documents("bob", 10)
    result = runner.invoke(app, ["review", "--annotator", "carol", "--db", str(team)])
    assert result.exit_code == 1 and "'carol' is not one of this store's annotators (alice, bob)" in result.stderr
    runner.invoke(app, ["assign", "--annotators", "", "--db", str(team)])
    result = runner.invoke(app, ["review", "--annotator", "carol", "--db", str(team)])
    assert result.exit_code == 1 and "nothing left for carol to review" in result.stderr


def test_adjudicate_refuses_a_store_with_one_reviewer_per_document(tmp_path: Path) -> None:
    with open_db(tmp_path / "one.db"):
        pass
    result = runner.invoke(app, ["adjudicate", "--db", str(tmp_path / "one.db")])
    assert result.exit_code == 1 and "nothing to adjudicate" in result.stderr


def test_the_speaker_picker_suggests_only_the_reviewers_own_gold_names(team: Path) -> None:
    from annotator.review import annotation_of

    with open_db(team) as store:
        first = store.document_ids()[0]
        quote = next(item for item in store.annotations(first, reviewer=NOBODY) if item.kind == "quote")
        store.record_decision(quote.id, "edit", "alice", annotation_of(quote).model_copy(update={"speaker": "Ana Ruiz"}))
        assert "Ana Ruiz" in store.gold_speakers(reviewer="alice")
        assert "Ana Ruiz" not in store.gold_speakers(reviewer="bob")
        assert "Ana Ruiz" in store.gold_speakers()


def test_items_added_by_each_reviewer_are_matched_across_reviewers(team: Path) -> None:
    from annotator.schemas import parse_annotation

    with open_db(team) as store:
        first = store.document_ids()[0]
        text = store.document(first).text
        start = text.index("3,000 cars")

        def figure(end: int):
            return parse_annotation({"kind": "figure", "start": start, "end": end, "text": text[start:end],
                                     "value": 3000, "unit": "cars", "qualifier": "exact", "subject": "cars a day",
                                     "attributed_to": None})

        review_all(store, "alice", first)
        review_all(store, "bob", first)
        # Both add the figure the engine missed; bob's span is a word longer: the spans still match.
        alice_id, bob_id = manual_id(), manual_id()
        store.record_decision(alice_id, "add", "alice", figure(start + len("3,000 cars")), document_id=first)
        store.record_decision(bob_id, "add", "bob", figure(start + len("3,000 cars a")), document_id=first)
        [(_, review)] = [(d, r) for d, r in document_reviews(store) if d.id == first]
        [unit] = [unit for unit in review.units if unit.proposal is None]
        assert set(unit.votes) == {"alice", "bob"} and unit.settled.status == "added"
        assert first in gold_ids(store)
        # Only alice adds a second one: bob did not find it, so it waits for an adjudicator.
        other = text.index("Officials")
        store.record_decision(manual_id(), "add", "alice", parse_annotation({
            "kind": "figure", "start": other, "end": other + 9, "text": text[other:other + 9], "value": 1,
            "unit": "officials", "qualifier": "exact", "subject": "officials", "attributed_to": None}), document_id=first)
        [(_, review)] = [(d, r) for d, r in document_reviews(store) if d.id == first]
        [disputed] = review.disputed
        assert [(variant.item is None, variant.annotators) for variant in variants(disputed)] == [
            (False, ("alice",)), (True, ("bob",))]
        assert first not in gold_ids(store)
        # An adjudicator sides with bob ("not an item"): the document's gold is complete again, without it.
        adjudication = Adjudication(store, "carol")
        adjudication.open(0)
        adjudication.pick(variants(adjudication.current)[1])
        assert first in gold_ids(store) and len(gold_ids(store)[first]) == len(review.units) - 1


def test_the_document_list_counts_the_reviewers_own_decisions(team: Path) -> None:
    with open_db(team) as store:
        first = store.document_ids()[0]
        review_all(store, "alice", first)
        [alice] = store.document_summaries([first], reviewer="alice")
        [bob] = store.document_summaries([first], reviewer="bob")
        assert alice.reviewed == alice.proposals > 0 and bob.reviewed == 0
        assert store.count_documents([first], unfinished=True, reviewer="bob") == 1
        assert store.count_documents([first], unfinished=True, reviewer="alice") == 0


def test_eval_says_why_a_team_store_has_no_gold_yet(team: Path) -> None:
    with open_db(team) as store:
        review_all(store, "alice", store.document_ids()[0])  # one reviewer of the two the document needs
    result = runner.invoke(app, ["eval", "--engine", "rules", "--db", str(team)])
    assert result.exit_code == 1
    assert "1 documents wait for all their reviewers or for agreement" in result.stderr
