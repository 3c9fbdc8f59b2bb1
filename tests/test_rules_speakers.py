"""The `rules` engine on speakers and reported speech: passages written for issue 16 in the styles
of wire copy, broadsheets and tabloids, US and UK, each pattern with variants and with passages
where nothing (or no speaker) must be proposed."""

from __future__ import annotations

import pytest

from annotator.propose.rules import RulesEngine
from annotator.schemas import Quote


def quotes(text: str) -> list[Quote]:
    """The quotes the engine proposes for a passage."""
    return [a for a in RulesEngine().propose(text) if isinstance(a, Quote)]


def only_quote(text: str) -> Quote:
    """The single quote proposed for a passage."""
    found = quotes(text)
    assert len(found) == 1, [(q.text, q.speaker) for q in found]
    return found[0]


def mention(text: str, quote: Quote) -> str | None:
    """The speaker mention a quote points at."""
    if quote.speaker_start is None or quote.speaker_end is None:
        return None
    return text[quote.speaker_start : quote.speaker_end]


# -- speaker found, canonical name given ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "speaker", "cue"),
    [
        # An infinitive after "went on to", "paused to", "was quick to".
        (
            'Mayor Tom Grady spoke for an hour. He went on to say, "We cannot keep borrowing."',
            "Tom Grady",
            "say",
        ),
        (
            'Ms Ruth Avery paused to add: "Nobody here is going anywhere."',
            "Ruth Avery",
            "add",
        ),
        # Verbs the engine did not know, before the quote.
        (
            'Governor Alice Marsh declared, "The state is open for business."',
            "Alice Marsh",
            "declared",
        ),
        (
            'Coach Lisa Park insisted, "We played well enough to win."',
            "Lisa Park",
            "insisted",
        ),
        (
            'Then Tom Reyes vowed: "We will rebuild every house on this street."',
            "Tom Reyes",
            "vowed",
        ),
        # A participle.
        (
            'The company cut 300 jobs, with spokesman Dan Lee saying, "This was a hard decision for everyone."',
            "Dan Lee",
            "saying",
        ),
        # A colon after a verb, and after a name alone (vox pops, Q&A).
        (
            'Prime Minister Sarah Carter was asked about the deal. Carter agreed: "It is not perfect, but it is fair."',
            "Sarah Carter",
            "agreed",
        ),
        (
            'Dana Reed, The Daily Planet: "The paper will keep printing on Sundays."',
            "Dana Reed",
            None,
        ),
        (
            'Owen Pryce, 34, a plumber from Swansea: "I have never seen prices like it."',
            "Owen Pryce",
            None,
        ),
        # After the quote: a title with a full stop, an of/at/from phrase.
        (
            '"We will not support this bill in its current form," said Rep. Ann Cole.',
            "Ann Cole",
            "said",
        ),
        (
            '"The ruling is a blow to renters," said Sen. Bill Ortiz, a Democrat from Texas.',
            "Bill Ortiz",
            "said",
        ),
        (
            '"The tariffs will hurt farmers in the Midwest," said Ed Lin of the Trade Council.',
            "Ed Lin",
            "said",
        ),
        (
            '"The port is full and ships are waiting," said Maria Gomez at the Port Authority.',
            "Maria Gomez",
            "said",
        ),
        (
            '"Our members are exhausted," said Jo Platt from the nurses\' union.',
            "Jo Platt",
            "said",
        ),
        (
            '"Demand is still strong," said Priya Nair of Goldman Sachs.',
            "Priya Nair",
            "said",
        ),
        # Unknown verbs after the quote, either order.
        (
            '"That is simply not true," interjected Paula Stein, the committee chair.',
            "Paula Stein",
            "interjected",
        ),
        (
            '"Vote for the measure and keep the schools open," urged Councillor Ray Burns.',
            "Ray Burns",
            "urged",
        ),
        (
            '"I\'ve seen better defending in a pub league," quipped manager Harry Dunn.',
            "Harry Dunn",
            "quipped",
        ),
        ('"We\'ll be back next season," Harry Dunn vowed.', "Harry Dunn", "vowed"),
        (
            '"It is far too early to say," replied Dr. Helen Shaw.',
            "Helen Shaw",
            "replied",
        ),
        (
            '"Not on my watch," Congresswoman Jane Holt retorted.',
            "Jane Holt",
            "retorted",
        ),
    ],
)
def test_speaker_before_or_after_with_a_verb_or_colon(
    text: str, speaker: str, cue: str | None
) -> None:
    quote = only_quote(text)
    assert quote.quote_type == "direct"
    assert (quote.speaker, quote.cue) == (speaker, cue)


@pytest.mark.parametrize(
    ("text", "speaker", "mention_text"),
    [
        (
            'Senator Mark Lewis toured the plant. "Why was it idle for so long?" Lewis said.',
            "Mark Lewis",
            "Lewis",
        ),
        (
            '"Get out of my office now!" Sen. Mark Lewis shouted at the aide.',
            "Mark Lewis",
            "Sen. Mark Lewis",
        ),
        (
            'Shelter manager Chloe Barnes showed us round. "Where are they supposed to go?" she asked.',
            "Chloe Barnes",
            "she",
        ),
        (
            '"What a goal!" exclaimed Jamie Fox, the Rovers manager.',
            "Jamie Fox",
            "Jamie Fox",
        ),
    ],
)
def test_speaker_after_a_question_or_exclamation(
    text: str, speaker: str, mention_text: str
) -> None:
    quote = only_quote(text)
    assert quote.speaker == speaker
    assert mention(text, quote) == mention_text
    assert quote.text.endswith(("?", "!"))


def test_an_of_phrase_that_is_part_of_the_name_stays() -> None:
    text = (
        '"Rates will stay high for longer," the Bank of England said. '
        '"Growth is weak," said the Democratic Republic of Congo\'s finance minister.'
    )
    assert quotes(text)[0].speaker == "Bank of England"


@pytest.mark.parametrize(
    ("text", "speaker", "mention_text"),
    [
        ('Prosecutor Daniel Reeve said the thefts ran for years. "He chose his victims well," he said.',
         "Daniel Reeve", "Prosecutor Daniel Reeve"),
        ('"He chose his victims well," said Prosecutor Daniel Reeve.', "Daniel Reeve", "Prosecutor Daniel Reeve"),
        ('Local MP Julie Carr spoke at the gates. "I will fight for every job," Carr said.', "Julie Carr", "Carr"),
        ('Ten-year-old Sam Patel read aloud. "He laughs at my voices," Sam Patel said.', "Sam Patel", "Sam Patel"),
        ('Watchdog Ofcom opened an inquiry. "We take this seriously," Ofcom said.', "Ofcom", "Ofcom"),
    ],
)
def test_what_someone_is_before_their_name_is_no_part_of_it(text: str, speaker: str, mention_text: str) -> None:
    # A sentence that opens with what the person is ("Prosecutor", "Ten-year-old", "Watchdog") capitalises it:
    # the name is what follows; a role stays in the mention, as a title does.
    found = quotes(text)
    assert found and {quote.speaker for quote in found} == {speaker}
    assert mention(text, found[0]) == mention_text


@pytest.mark.parametrize(
    "text",
    [
        'The message from the board was clear: "We will not back down on this."',
        'Breaking News: "The bridge will stay closed until further notice."',
        'Senator Mark Lewis toured the plant. "Why was it idle for so long?" The question hung over the meeting.',
        '"Is this the end of the high street as we know it?" Many shoppers think so.',
    ],
)
def test_no_speaker_without_an_attribution(text: str) -> None:
    assert all(q.speaker is None for q in quotes(text))


def test_verbs_that_attribute_quotes_report_nothing_alone() -> None:
    text = (
        "The mayor urged the council to act before winter. Residents replied to the survey in their "
        "thousands. The striker quipped about his haircut. The union vowed to fight on."
    )
    assert quotes(text) == []


# -- continued quotes and pronouns ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (
            '"We tried everything," said Mark Lewis, the union leader. "Nobody listened to us."',
            "Mark Lewis",
        ),
        (
            '"The tariffs are a tax on families," said Rep. Ann Cole. "We will fight them."',
            "Ann Cole",
        ),
        (
            '"This is a scandal," Dunn fumed after Harry Dunn\'s side lost. "An absolute scandal."',
            "Harry Dunn",
        ),
    ],
)
def test_a_continued_quote_takes_the_speaker_before(text: str, speaker: str) -> None:
    found = quotes(text)
    assert len(found) == 2
    assert [q.speaker for q in found] == [speaker, speaker]


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (
            'Mark Lewis, a House Democrat, said the vote would be close. "We\'re fine," he said.',
            "Mark Lewis",
        ),
        (
            "Congresswoman Jane Holt spoke first. Holt, a Republican from Ohio, said the bill was dead. "
            '"It\'s over," she said.',
            "Jane Holt",
        ),
        (
            'Tom Baker runs the bakery. Baker said sales had doubled. "People want real bread," he added.',
            "Tom Baker",
        ),
        (
            "Aisha Khan, who chairs the residents' group, said the council had ignored them.\n\n"
            '"We wrote three letters," she said.',
            "Aisha Khan",
        ),
    ],
)
def test_a_pronoun_resolves_to_the_full_name(text: str, speaker: str) -> None:
    assert quotes(text)[-1].speaker == speaker
    assert quotes(text)[-1].quote_type == "direct"


def test_a_pronoun_does_not_take_an_organisation() -> None:
    text = 'The Trade Council said exports fell. "It is a worry," he said.'
    assert quotes(text)[-1].speaker is None


# -- reported speech -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "content", "speaker", "cue"),
    [
        # Relative subjects.
        (
            "The bill was opposed by three lawmakers, who said the plan would fail, and by the mayor.",
            "the plan would fail",
            "three lawmakers",
            "said",
        ),
        (
            "Acme Corp, which said its profits had doubled, shed 400 jobs.",
            "its profits had doubled",
            "Acme Corp",
            "said",
        ),
        # Coordinated verbs.
        (
            "The minister praised staff and said the hospital would reopen in May.",
            "the hospital would reopen in May",
            "minister",
            "said",
        ),
        (
            "Jane Holt declined to comment on the leak but said that the inquiry would go ahead.",
            "the inquiry would go ahead",
            "Jane Holt",
            "said",
        ),
        # Headline style.
        (
            "Lane Says Budget Will Pass Before Summer",
            "Budget Will Pass Before Summer",
            "Lane",
            "says",
        ),
        # ", saying …".
        (
            "The union criticised the offer, saying it would cut real wages.",
            "it would cut real wages",
            "union",
            "saying",
        ),
        (
            "Sen. Bill Ortiz blocked the vote on Tuesday, saying that the bill had been rushed.",
            "the bill had been rushed",
            "Bill Ortiz",
            "saying",
        ),
        # A bare present verb without "that".
        (
            "Analysts say the merger will raise prices.",
            "the merger will raise prices",
            "Analysts",
            "say",
        ),
        (
            "Economists say inflation has peaked.",
            "inflation has peaked",
            "Economists",
            "say",
        ),
        # Asked whether.
        (
            "Reporters asked whether the plan would survive the winter.",
            "whether the plan would survive the winter",
            "Reporters",
            "asked",
        ),
        (
            "Tom Reyes asked if the money had been spent.",
            "if the money had been spent",
            "Tom Reyes",
            "asked",
        ),
        # Content before the attribution.
        (
            "The plan is dead in the water, experts told me.",
            "The plan is dead in the water",
            "experts",
            "told",
        ),
        (
            "The deal will collapse by Friday, insiders say.",
            "The deal will collapse by Friday",
            "insiders",
            "say",
        ),
        (
            "The club is up for sale, sources tell me.",
            "The club is up for sale",
            "sources",
            "tell",
        ),
        # According to.
        (
            "Sales fell sharply in March, according to figures from the Office for National Statistics.",
            "Sales fell sharply in March",
            "Office for National Statistics",
            "according to",
        ),
        (
            "Prices rose 5% last year according to the central bank.",
            "Prices rose 5% last year",
            "central bank",
            "according to",
        ),
    ],
)
def test_reported_speech(text: str, content: str, speaker: str, cue: str) -> None:
    found = [q for q in quotes(text) if q.quote_type == "indirect"]
    assert [(q.text, q.speaker, q.cue) for q in found] == [(content, speaker, cue)]


def test_a_headline_surname_takes_the_full_name_given_later() -> None:
    text = (
        "Lane Says Rate Cuts Are Coming Soon\n\n"
        "European Central Bank chief economist Philip Lane said on Monday that inflation was easing."
    )
    assert [q.speaker for q in quotes(text)] == ["Philip Lane", "Philip Lane"]


def test_possessive_pronoun_sources() -> None:
    text = "Acme Corp lost the case. Its lawyers said an appeal was likely."
    assert [q.speaker for q in quotes(text)] == ["Acme Corp"]


@pytest.mark.parametrize(
    "text",
    [
        "Officials would not say whether the plan had been approved.",
        "He did not say the plan was dead.",
        "He was asked whether he would resign.",
        "Residents want to have their say in the plan.",
        "Simon Says is a game that children play at parties.",
        "The retired teacher praised staff and wanted more money for books.",
        "The mayor cut the ribbon, smiling at the crowd.",
        "Voters will tell you the truth, eventually.",
    ],
)
def test_no_reported_speech(text: str) -> None:
    assert quotes(text) == []
