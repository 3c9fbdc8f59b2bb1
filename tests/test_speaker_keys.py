"""The speaker keys: the picker, the previous quote's speaker, the offer to carry a speaker on, a speaker's quotes.

Pilot tests assert the decisions the store holds; the core's rules (candidates ordered by nearness, the
filter, the chain of following quotes) are tested on passages written here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotator.ingest import read_paths
from annotator.names import inside_quotation
from annotator.propose import RulesProposer, run_proposals
from annotator.speakers import (
    document_names,
    filter_candidates,
    following_quotes,
    mention_for,
    previous_speaker,
    quotes_of,
    speaker_candidates,
)
from annotator.store import StoredAnnotation, open_db
from annotator.tui.app import ReviewApp, create_app
from annotator.tui.keymap import REVIEW_BINDINGS, load_keymap
from annotator.tui.screens.confirm import ConfirmModal
from annotator.tui.screens.review import ReviewScreen
from annotator.tui.screens.speaker import SpeakerPickerModal
from annotator.tui.screens.speaker_quotes import SpeakerQuotesModal

SIZE = (120, 36)

BRIDGE = """Bridge closed after crash

“The bridge is closed until further notice,” he said on Tuesday. “Drivers should use the ring road.”

“Expect delays all week.”

Police spokesman Raj Patel confirmed that two lorries had collided on the eastern span. “It will take days to clear,” he said.

Helen Ward, who chairs the residents’ association, said the council had ignored years of warnings. “Nobody listened,” a neighbour said.

“We were told the bridge was safe,” said Ward.
"""
"""Three quotes the rules leave without a speaker ("he" with nobody before it), then named ones."""


# ----------------------------------------------------------------------------------- helpers


def quote(text: str, words: str, speaker: str | None = None, mention: str | None = None, *,
          status: str = "proposed", after: int = 0, item_id: str | None = None) -> StoredAnnotation:
    """A stored quote on `words` (first found after `after`) with `speaker` and the first `mention` after `after`."""
    start = text.index(words, after)
    fields = {"speaker": speaker, "speaker_start": None, "speaker_end": None, "cue": "said", "quote_type": "direct"}
    if mention is not None:
        at = text.index(mention, after)
        fields.update(speaker_start=at, speaker_end=at + len(mention))
    return StoredAnnotation(id=item_id or f"q{start}", document_id="d", kind="quote", start=start, end=start + len(words),
                            text=words, status=status, fields_json=json.dumps(fields), origin_json="{}",
                            proposal_id=item_id or f"q{start}", annotator=None)


def span_text(text: str, span: tuple[int, int] | None) -> str | None:
    return text[span[0]:span[1]] if span else None


@pytest.fixture
def bridge(tmp_path: Path) -> tuple[Path, str]:
    """A store with the BRIDGE article and its rules proposals: its path and the document's id."""
    source = tmp_path / "bridge.txt"
    source.write_text(BRIDGE, encoding="utf-8")
    documents = read_paths([source]).documents
    path = tmp_path / "labels.db"
    with open_db(path) as store:
        store.add_documents(documents)
        run_proposals(store, documents, RulesProposer())
    return path, documents[0].id


def stored_quote(path: Path, words: str) -> StoredAnnotation:
    with open_db(path) as store:
        return next(item for item in store.annotations(kinds=["quote"]) if item.text.startswith(words))


def decisions(path: Path, item_id: str) -> list[dict]:
    with open_db(path) as store:
        return store.decisions(item_id)


def all_decisions(path: Path) -> int:
    with open_db(path) as store:
        return sum(len(store.decisions(item.id)) for item in store.annotations())


async def on_quote(app: ReviewApp, pilot, words: str) -> StoredAnnotation:
    """Make the quote that starts with `words` the current item."""
    item = next(i for i in app.queue.all_items if i.kind == "quote" and i.text.startswith(words))
    assert app.queue.show_item(item.id)
    screen(app).show_current()
    await pilot.pause()
    return item


def screen(app: ReviewApp) -> ReviewScreen:
    assert isinstance(app.screen, ReviewScreen)
    return app.screen


def dialog(app: ReviewApp):
    """The box open over the review screen (a picker, a question, a list), or None."""
    return screen(app).dialog


def mention_words(path: Path, item: StoredAnnotation) -> str | None:
    fields = item.fields()
    if fields["speaker_start"] is None:
        return None
    return BRIDGE[fields["speaker_start"]:fields["speaker_end"]]


# ------------------------------------------------------------------------------ core: nearness


COUNCIL = (
    "Maria Lopez, the mayor of Riverton, opened the budget meeting on Thursday. The Riverton Chamber of Commerce "
    "had asked for a delay. Tom Baker, a local farmer, stood up: “We cannot wait another year for the new road,” "
    "he said. After a long silence and a short recess, Lopez said that the plan was sound, and the chamber’s "
    "president, Jane Okafor, agreed.\n"
)


def test_candidates_are_ordered_by_their_nearest_mention_outside_the_quote() -> None:
    text = COUNCIL
    words = "We cannot wait another year for the new road"
    start = text.index(words)
    candidates = speaker_candidates(document_names(text), (start, start + len(words)))
    names = [c.name for c in candidates]
    # Tom Baker is named just before the quote, Lopez a sentence after it, Okafor further on.
    assert names.index("Tom Baker") < names.index("Maria Lopez") < names.index("Jane Okafor")
    assert names[0] == "Tom Baker"
    lopez = next(c for c in candidates if c.name == "Maria Lopez")
    # Her mentions nearest the quote first: "Lopez" after it, then "Maria Lopez" in the first sentence.
    assert [span_text(text, m) for m in lopez.mentions] == ["Lopez", "Maria Lopez"]
    assert all(not inside_quotation(text, *m) for c in candidates for m in c.mentions)


def test_a_name_only_quoted_is_no_mention_and_names_used_elsewhere_come_last() -> None:
    text = ("“Governor Hale promised us a clinic,” said Priya Nair, a nurse in the valley. "
            "The health department did not answer questions on Monday.\n")
    words = "Governor Hale promised us a clinic"
    start = text.index(words)
    candidates = speaker_candidates(document_names(text), (start, start + len(words)),
                                    used=["Priya Nair"], elsewhere=["Robert Hale", "Priya Nair", "Ana Silva"])
    names = [c.name for c in candidates]
    assert names[0] == "Priya Nair"
    assert names.count("Priya Nair") == 1  # one name, from wherever it was offered
    hale = next(c for c in candidates if c.name == "Robert Hale")
    assert hale.mentions == () and hale.distance is None  # "Hale" is only inside the quotation marks
    assert names[-2:] == ["Robert Hale", "Ana Silva"]  # not named here: last, in the store's order


def test_a_name_given_only_with_a_title_is_offered_with_it_too_and_a_role_is_no_part_of_a_name() -> None:
    text = ('"She was left alone with 22 patients," Lord Justice Harmon said in the ruling. '
            'Prosecutor Daniel Reeve said the appeal would be opposed. The Prime Minister said nothing.\n')
    words = "She was left alone with 22 patients"
    start = text.index(words)
    names = [c.name for c in speaker_candidates(document_names(text), (start, start + len(words)))]
    # No first name to go by: the surname as the rules name it, and right after it as the text gives it.
    assert names[:2] == ["Harmon", "Lord Justice Harmon"]
    assert "Daniel Reeve" in names and "Prosecutor Daniel Reeve" not in names
    assert "Prime Minister" not in names  # a title read as a name is not offered again with another title
    assert [c.name for c in filter_candidates(speaker_candidates(document_names(text), (start, start + len(words))),
                                              "lo")][:1] == ["Lord Justice Harmon"]


def test_the_filter_puts_word_starts_and_initials_first_and_forgives_a_typo() -> None:
    text = ("Ahmed Sheikho, a local activist, spoke to the Syrian Observatory for Human Rights. Later Sheikho "
            "met officials of Hayat Tahrir al-Sham and the National Liberation Front in Idlib.\n")
    candidates = speaker_candidates(document_names(text), (0, 0))
    assert filter_candidates(candidates, "sh")[0].name == "Ahmed Sheikho"
    assert filter_candidates(candidates, "ah sh")[0].name == "Ahmed Sheikho"
    assert filter_candidates(candidates, "sohr")[0].name == "Syrian Observatory for Human Rights"
    assert filter_candidates(candidates, "hts")[0].name == "Hayat Tahrir al-Sham"
    assert filter_candidates(candidates, "sheiko")[0].name == "Ahmed Sheikho"  # a typo
    assert filter_candidates(candidates, "zz") == []
    assert filter_candidates(candidates, "") == candidates


def test_a_mention_that_fits_stays_and_one_that_names_another_moves_to_the_nearest() -> None:
    text = COUNCIL
    words = "We cannot wait another year for the new road"
    start = text.index(words)
    span = (start, start + len(words))
    he = text.index("he said")
    names = document_names(text)
    assert mention_for(names, "Tom Baker", span, (he, he + 2)) == {"speaker_start": he, "speaker_end": he + 2}
    okafor = text.index("Jane Okafor")
    moved = mention_for(names, "Maria Lopez", span, (okafor, okafor + len("Jane Okafor")))
    assert span_text(text, (moved["speaker_start"], moved["speaker_end"])) == "Lopez"
    assert mention_for(names, "Nobody Here", span, (None, None)) == {"speaker_start": None, "speaker_end": None}


# -------------------------------------------------------------------------------- core: chain


SUMMIT = (
    "Prime Minister Ana Silva opened the summit on Monday. “We will not raise taxes,” she said. “Not this year.”\n"
    "Silva added that the budget was balanced.\n"
    "“The numbers are on our side.”\n"
    "Opposition leader Mark Chen was unconvinced. “This is a fantasy,” he said. “Silva knows it.”\n"
    "“It will end in cuts,” they said.\n"
    "Later, Silva said that the cabinet was united.\n"
)


def summit_quotes() -> list[StoredAnnotation]:
    text = SUMMIT
    chen = text.index("Mark Chen")
    return [
        quote(text, "We will not raise taxes", "Ana Silva", "she"),
        quote(text, "Not this year."),
        quote(text, "the budget was balanced", "Silva", "Silva"),
        quote(text, "The numbers are on our side."),
        quote(text, "This is a fantasy", "Mark Chen", "he", after=chen),
        quote(text, "Silva knows it."),
        quote(text, "It will end in cuts", None, "they"),
        quote(text, "the cabinet was united", "Silva", "Silva", after=text.index("Later")),
    ]


def test_the_chain_runs_to_the_next_quote_naming_another_speaker() -> None:
    quotes = summit_quotes()
    following = following_quotes(SUMMIT, quotes, quotes[0])
    # "Not this year." (no speaker), "Silva added" (the same source written short), "The numbers…" (no speaker);
    # Mark Chen ends the chain, so "Silva knows it." and "they said" stay; the later "Silva said" is the
    # same source written short: it is taken although the chain has ended.
    assert [q.text for q in following] == [
        "Not this year.", "the budget was balanced", "The numbers are on our side.", "the cabinet was united",
    ]


def test_the_same_mention_words_are_taken_anywhere_after_and_decided_quotes_are_left() -> None:
    text = (
        "Coach Dana Reyes named her squad on Friday. “We are ready,” Reyes said.\n"
        "Captain Leo Park, the team’s striker, disagreed. “We are not,” Park said.\n"
        "“Training starts Monday,” Reyes said.\n"
        "“The pitch is a mess,” Reyes told the club website.\n"
    )
    quotes = [
        quote(text, "We are ready", "Dana Reyes", "Reyes"),
        quote(text, "We are not", "Leo Park", "Park"),
        quote(text, "Training starts Monday", "Reyes", "Reyes", after=text.index("Training")),  # written short
        quote(text, "The pitch is a mess", "Park", "Reyes", after=text.index("The pitch"), status="accepted"),
    ]
    fixed = quote(text, "We are ready", "Dana Reyes", "Reyes")
    following = following_quotes(text, quotes, fixed)
    assert [q.text for q in following] == ["Training starts Monday"]  # the accepted one is the reviewer's


def test_a_pronoun_chain_ends_at_another_name_and_nothing_is_offered_without_a_name() -> None:
    text = "“Rain again,” she said. “Bring coats.” Farmer Jo Marsh said the harvest was lost. “Awful,” she said.\n"
    quotes = [
        quote(text, "Rain again", "Ella Stone", "she"),
        quote(text, "Bring coats."),
        quote(text, "the harvest was lost", "Jo Marsh", "Jo Marsh"),
        quote(text, "Awful", None, "she", after=text.index("Awful")),
    ]
    assert [q.text for q in following_quotes(text, quotes, quotes[0])] == ["Bring coats."]
    assert following_quotes(text, quotes, quotes[1]) == []  # the quote names nobody: nothing to carry on


def test_a_pronoun_chain_ends_where_the_narrative_names_another_person_between_the_quotes() -> None:
    text = ("“She was left alone with 22 patients,” Lord Justice Harmon said in the ruling. “No nurse could have done "
            "more.”\n\nGrace Adeyemi, 41, wept as the decision was read. “I became a nurse to help people,” she said.\n")
    quotes = [
        quote(text, "She was left alone with 22 patients", "Lord Justice Harmon", "Lord Justice Harmon"),
        quote(text, "No nurse could have done more."),
        quote(text, "I became a nurse to help people", "she", "she"),
    ]
    # "she" follows "Grace Adeyemi" in the narrative: she is not the judge, and is not offered his name.
    assert [q.text for q in following_quotes(text, quotes, quotes[0])] == ["No nurse could have done more."]
    # The name may come after the quote, in its own sentence; "His lawyer" is no mention of the prosecutor.
    text = ("Volta will close its plant, the company said. “This was a difficult decision,” said its UK director, "
            "Helen Brooks. Prosecutor Fiona Blake spoke. His lawyer, Andrew Chen, said the film was too dark.\n")
    quotes = [
        quote(text, "Volta will close its plant", "Volta", "the company"),
        quote(text, "This was a difficult decision"),
        quote(text, "the film was too dark", "Volta", "His"),
    ]
    assert following_quotes(text, quotes, quotes[0]) == []


def test_previous_speaker_skips_quotes_without_one_and_quotes_of_lists_one_name() -> None:
    quotes = summit_quotes()
    assert previous_speaker(quotes, quotes[3]).text == "the budget was balanced"
    assert previous_speaker(quotes, quotes[6]).fields()["speaker"] == "Mark Chen"
    assert previous_speaker(quotes, quotes[0]) is None
    assert [q.text for q in quotes_of(quotes, "ana silva")] == ["We will not raise taxes"]
    assert [q.text for q in quotes_of(quotes, "Silva")] == ["the budget was balanced", "the cabinet was united"]


# ----------------------------------------------------------------------------------- bindings


def test_the_speaker_bindings_have_ids_and_can_be_rebound(tmp_path: Path) -> None:
    ids = {binding.id for binding in REVIEW_BINDINGS}
    assert {"speaker_pick", "speaker_previous", "speaker_quotes", "speaker_next_quote", "speaker_previous_quote"} <= ids
    keys = tmp_path / "keys.toml"
    keys.write_text('[keys]\nspeaker_pick = "ctrl+k"\nconfirm_yes = "j"\nspeaker_pick_typed = "ctrl+t"\n')
    assert load_keymap(keys)["speaker_pick"] == "ctrl+k"
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for key in ("`p`", "`P`", "`o`", "`]`"):
        assert key in readme


# ----------------------------------------------------------------------------------- pilot: picker


async def test_picker_filter_and_enter_set_speaker_and_mention_in_one_decision(bridge) -> None:
    path, document_id = bridge
    app = create_app(path, [document_id], "tester")
    async with app.run_test(size=SIZE) as pilot:
        item = await on_quote(app, pilot, "The bridge is closed")
        await pilot.press("p")
        assert isinstance(dialog(app), SpeakerPickerModal)
        await pilot.press("r", "a", "enter")  # p, two letters, enter
        assert isinstance(dialog(app), ConfirmModal)  # the two quotes after it have no speaker: offered
        assert app.queue.current.id == item.id  # the card shows the fix while the question is asked
        await pilot.press("n")
        assert dialog(app) is None
        # The decision is complete: the review goes on to the next undecided item, the quote just declined.
        assert app.queue.current.text.startswith("Drivers should use") and app.queue.current.status == "proposed"
    [decision] = decisions(path, item.id)
    assert decision["action"] == "edit" and decision["annotator"] == "tester"
    stored = stored_quote(path, "The bridge is closed")
    assert stored.status == "edited" and stored.fields()["speaker"] == "Raj Patel"
    assert mention_words(path, stored) == "Raj Patel"
    assert not inside_quotation(BRIDGE, stored.fields()["speaker_start"], stored.fields()["speaker_end"])
    assert all_decisions(path) == 1  # refused: nothing else stored


async def test_tab_steps_through_the_mentions_before_enter(bridge) -> None:
    path, document_id = bridge
    app = create_app(path, [document_id], "tester")
    async with app.run_test(size=SIZE) as pilot:
        item = await on_quote(app, pilot, "Nobody listened")
        await pilot.press("p", "w", "a")
        picker = dialog(app)
        assert isinstance(picker, SpeakerPickerModal) and picker.highlighted.name == "Helen Ward"
        mentions = picker.highlighted.mentions
        assert len(mentions) == 2 and picker.mention == mentions[0]
        await pilot.press("tab")
        assert picker.mention == mentions[1]
        await pilot.press("tab", "shift+tab")
        assert picker.mention == mentions[1]
        await pilot.press("enter")
        await pilot.pause()
    stored = stored_quote(path, "Nobody listened")
    assert (stored.fields()["speaker_start"], stored.fields()["speaker_end"]) == mentions[1]
    assert stored.fields()["speaker"] == "Helen Ward" and len(decisions(path, item.id)) == 1
    # The nearest first: the second mention is further from the quote than the first.
    start, end = item.start, item.end
    far = lambda m: max(0, start - m[1], m[0] - end)  # noqa: E731
    assert far(mentions[0]) <= far(mentions[1])


async def test_a_typed_name_not_in_the_list_is_taken_with_its_mention_or_none(bridge) -> None:
    path, document_id = bridge
    app = create_app(path, [document_id], "tester")
    async with app.run_test(size=SIZE) as pilot:
        await on_quote(app, pilot, "The bridge is closed")
        await pilot.press("p", *"Sergeant Mills", "enter")  # no name matches: the typed words
        if isinstance(dialog(app), ConfirmModal):
            await pilot.press("escape")
        await on_quote(app, pilot, "Expect delays")
        await pilot.press("p", *"Patel", "ctrl+n")  # "Patel" matches Raj Patel; ctrl+n takes the words as typed
        if isinstance(dialog(app), ConfirmModal):
            await pilot.press("escape")
        await pilot.pause()
    mills = stored_quote(path, "The bridge is closed")
    assert mills.fields()["speaker"] == "Sergeant Mills"
    assert (mills.fields()["speaker_start"], mills.fields()["speaker_end"]) == (None, None)  # never in the text
    patel = stored_quote(path, "Expect delays")
    assert patel.fields()["speaker"] == "Patel" and mention_words(path, patel) == "Patel"
    assert all_decisions(path) == 2


async def test_a_placeholder_name_is_refused_like_the_form_refuses_it(bridge) -> None:
    path, document_id = bridge
    app = create_app(path, [document_id], "tester")
    async with app.run_test(size=SIZE) as pilot:
        await on_quote(app, pilot, "The bridge is closed")
        await pilot.press("p", "?", "ctrl+n")
        await pilot.pause()
        assert dialog(app) is None
    assert all_decisions(path) == 0


async def test_escape_closes_the_picker_with_nothing_stored(bridge) -> None:
    path, document_id = bridge
    app = create_app(path, [document_id], "tester")
    async with app.run_test(size=SIZE) as pilot:
        await on_quote(app, pilot, "The bridge is closed")
        await pilot.press("p", "r", "escape")
        assert dialog(app) is None
    assert all_decisions(path) == 0


# --------------------------------------------------------------------------- pilot: propagation


async def test_the_offer_accepted_applies_the_speaker_to_each_following_quote(bridge) -> None:
    path, document_id = bridge
    app = create_app(path, [document_id], "tester")
    async with app.run_test(size=SIZE) as pilot:
        await on_quote(app, pilot, "The bridge is closed")
        await pilot.press("p", "r", "a", "enter")
        confirm = dialog(app)
        assert isinstance(confirm, ConfirmModal)
        assert confirm.question == "Apply Raj Patel to 2 following quotes?"
        await pilot.press("y")
        await pilot.pause()
        assert dialog(app) is None
        # The review goes on past the quotes the offer decided, to the first item still undecided.
        undecided = [i for i in app.queue.items if i.status == "proposed"]
        assert app.queue.current.id == undecided[0].id
        assert app.queue.current.start > stored_quote(path, "Expect delays").start
    for words in ("The bridge is closed", "Drivers should use", "Expect delays"):
        stored = stored_quote(path, words)
        assert stored.status == "edited" and stored.fields()["speaker"] == "Raj Patel"
        assert [d["action"] for d in decisions(path, stored.id)] == ["edit"]
    assert all_decisions(path) == 3
    assert stored_quote(path, "Nobody listened").fields()["speaker"] == "neighbour"  # after another named speaker


async def test_enter_confirms_and_the_edit_form_changing_a_speaker_offers_too(bridge) -> None:
    path, document_id = bridge
    app = create_app(path, [document_id], "tester")
    async with app.run_test(size=SIZE) as pilot:
        await on_quote(app, pilot, "The bridge is closed")
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#field-speaker").value = "Raj Patel"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(dialog(app), ConfirmModal)
        await pilot.press("enter")
        await pilot.pause()
    assert all_decisions(path) == 3
    assert stored_quote(path, "Expect delays").fields()["speaker"] == "Raj Patel"


# ------------------------------------------------------------------------ pilot: previous speaker


async def test_previous_speaker_is_one_key_and_one_decision(bridge) -> None:
    path, document_id = bridge
    app = create_app(path, [document_id], "tester")
    async with app.run_test(size=SIZE) as pilot:
        item = await on_quote(app, pilot, "Nobody listened")
        await pilot.press("P")
        await pilot.pause()
        assert dialog(app) is None  # "Ward" already has her speaker: nothing to offer
        # One key decides it and goes on to the next undecided item, as accept does.
        assert app.queue.current.text.startswith("We were told") and app.queue.current.status == "proposed"
        first = await on_quote(app, pilot, "The bridge is closed")
        await pilot.press("P")  # no quote before the first one names anyone: nothing happens
        await pilot.pause()
        assert app.queue.current.id == first.id  # nothing decided: the review stays
    stored = stored_quote(path, "Nobody listened")
    assert stored.fields()["speaker"] == "Helen Ward"  # the speaker of the quote before it
    assert mention_words(path, stored) == "neighbour"  # a description still fits her: it stays
    assert [d["action"] for d in decisions(path, item.id)] == ["edit"]
    assert decisions(path, first.id) == []
    assert all_decisions(path) == 1


# ------------------------------------------------------------------------- pilot: speaker's quotes


async def test_a_speakers_quotes_are_listed_and_enter_jumps_to_one(bridge) -> None:
    path, document_id = bridge
    app = create_app(path, [document_id], "tester")
    async with app.run_test(size=SIZE) as pilot:
        first = await on_quote(app, pilot, "two lorries")
        await pilot.press("o")
        listing = dialog(app)  # a box over the review, not a screen of its own
        assert isinstance(listing, SpeakerQuotesModal) and listing.speaker == "Raj Patel"
        assert [q.text[:12] for q in listing.quotes] == ["two lorries ", "It will take"]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert dialog(app) is None
        assert app.queue.current.text.startswith("It will take days")
        await pilot.press("left_square_bracket")
        assert app.queue.current.id == first.id
        await pilot.press("right_square_bracket")
        assert app.queue.current.text.startswith("It will take days")
        await pilot.press("right_square_bracket")  # no later quote of Raj Patel: it stays
        assert app.queue.current.text.startswith("It will take days")
    assert all_decisions(path) == 0  # going somewhere decides nothing


# ------------------------------------------------------------------------------------- snapshot


def test_snapshot_speaker_picker(bridge, snap_compare) -> None:
    path, document_id = bridge

    async def run_before(pilot) -> None:
        app = pilot.app
        item = next(i for i in app.queue.all_items if i.text.startswith("Nobody listened"))
        app.queue.show_item(item.id)
        screen(app).show_current()
        await pilot.press("p", "w", "tab")
        await pilot.pause()

    assert snap_compare(create_app(path, [document_id], "tester"), terminal_size=SIZE, run_before=run_before)
