"""The `rules` engine: every quote, speaker and figure of both seeds, hard passages, and offsets.

The seed expectations were read off the articles by hand; each names the span by its words in the
document (so non-breaking spaces in the seeds need no escaping) and every field the engine fills.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator import lexicon, numbers
from annotator.propose import rules
from annotator.propose.rules import RulesEngine
from annotator.schemas import Figure, Quote, Stance, parse_annotation

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
BELFAST = "000_abf700d5805d1a6d.txt"
AL_JAZEERA = "001_51e6285c5e7f3f86.txt"


@cache
def seed(name: str) -> str:
    """The text of a seed article."""
    return (SEEDS / name).read_text(encoding="utf-8")


@cache
def proposals(name: str) -> tuple:
    """The engine's proposals for a seed article (computed once)."""
    return tuple(RulesEngine().propose(seed(name)))


def propose(text: str) -> list:
    """The engine's proposals for a passage."""
    return RulesEngine().propose(text)


def span(document: str, first: str, last: str) -> str:
    """The text from the first occurrence of `first` through the next `last`."""
    start = document.index(first)
    end = document.index(last, start) + len(last)
    return document[start:end]


def quotes(annotations) -> list[Quote]:
    return [a for a in annotations if isinstance(a, Quote)]


def figures(annotations) -> list[Figure]:
    return [a for a in annotations if isinstance(a, Figure)]


def stances(annotations) -> list[Stance]:
    return [a for a in annotations if isinstance(a, Stance)]


def the_quote(annotations, text: str) -> Quote:
    found = [q for q in quotes(annotations) if q.text == text]
    assert len(found) == 1, f"expected one quote {text[:60]!r}; got {[q.text[:60] for q in quotes(annotations)]}"
    return found[0]


def mention(document: str, quote: Quote) -> str | None:
    """The words the speaker offsets point at."""
    if quote.speaker_start is None:
        return None
    return document[quote.speaker_start : quote.speaker_end]


def check_quote(document, annotations, text, speaker, said_by, cue, quote_type) -> Quote:
    quote = the_quote(annotations, text)
    assert (quote.speaker, mention(document, quote), quote.cue, quote.quote_type) == (
        speaker,
        said_by,
        cue,
        quote_type,
    )
    return quote


def check_figure(annotations, text, value, unit, qualifier, subject, attributed_to, nth: int = 0) -> Figure:
    found = [f for f in figures(annotations) if f.text == text]
    assert len(found) > nth, f"no figure {text!r}; got {[f.text for f in figures(annotations)]}"
    figure = found[nth]
    assert (figure.value, figure.unit, figure.qualifier, figure.subject, figure.attributed_to) == (
        value,
        unit,
        qualifier,
        subject,
        attributed_to,
    )
    return figure


# ---------------------------------------------------------------------------------------------
# Seed 000: Belfast Telegraph / Associated Press
# ---------------------------------------------------------------------------------------------

SOHR = "Syrian Observatory for Human Rights"
HTS = "Hayat Tahrir al-Sham"

BELFAST_QUOTES = [
    # (first words, last words, speaker, mention, cue, type)
    ("The main insurgent group", "amid intense bombardment and air strikes",
     "militant group and opposition activists", "militant group and opposition activists", "said", "indirect"),
    ("its fighters carried out", "south of the town of Khan Sheikhoun", HTS, HTS, "said in a statement", "mixed"),
    ("From there, they would", "defend the territory", HTS, "it", "said", "indirect"),
    ("government troops have expanded", "in the Khan Sheikhoun area", "Syrian state TV", "Syrian state TV", "said",
     "indirect"),
    ("The victories that were achieved", "until all parts of Syria are liberated", "Bashar Assad", "Mr Assad", "said",
     "direct"),
    # A capital that only opens the sentence is dropped from the name (the mention keeps it).
    ("intense bombardment on the rebel-held town", "edge of Idlib on Tuesday", "opposition activists",
     "Opposition activists", "reported", "indirect"),
    ("Backed by Russian air power", "parts of Khan Sheikhoun overnight", "opposition activists",
     "opposition activists", "according to", "indirect"),
    ("After fierce bombardment", "redeployed south of Khan Sheihoun", "insurgents", "insurgents", "said", "direct"),
    ("the al Qaida-linked Hayat Tahrir al-Sham and other", "villages south of the town", SOHR, SOHR, "said",
     "indirect"),
    ("Khan Sheikhoun was home to", "before the government offensive began in April", SOHR, "Observatory",
     "according to", "indirect"),
    ("In recent days hundreds of civilians", "remained in the town", SOHR, "the group that tracks Syria’s war",
     "according to", "indirect"),
]


@pytest.mark.parametrize(("first", "last", "speaker", "said_by", "cue", "quote_type"), BELFAST_QUOTES)
def test_belfast_quote(first, last, speaker, said_by, cue, quote_type) -> None:
    document = seed(BELFAST)
    check_quote(document, proposals(BELFAST), span(document, first, last), speaker, said_by, cue, quote_type)


def test_belfast_finds_every_quote_and_no_other() -> None:
    assert len(quotes(proposals(BELFAST))) == len(BELFAST_QUOTES)


def test_belfast_direct_quote_excludes_marks_and_closing_comma() -> None:
    document = seed(BELFAST)
    quote = the_quote(proposals(BELFAST), span(document, "The victories", "are liberated"))
    assert document[quote.start - 1] == "“" and document[quote.end : quote.end + 2] == ",”"


@pytest.mark.parametrize(
    ("text", "value", "unit", "qualifier", "subject", "attributed_to", "nth"),
    [
        ("nearly half a million people", 500_000, "person", "approximately", "people forced to flee", None, 0),
        ("more than 2,000 people", 2000, "person", "at least", "people killed", None, 0),
        ("hundreds of civilians", 100, "civilian", "at least", "civilians killed", None, 0),
        ("about a million people", 1_000_000, "person", "approximately", "population of Khan Sheikhoun", SOHR, 0),
        ("nearly 700,000", 700_000, "person", "approximately", "people displaced by fighting", SOHR, 0),
        ("hundreds of civilians", 100, "civilian", "at least", "civilians remained in the town", SOHR, 1),
    ],
)
def test_belfast_figure(text, value, unit, qualifier, subject, attributed_to, nth) -> None:
    check_figure(proposals(BELFAST), text, value, unit, qualifier, subject, attributed_to, nth)


def test_belfast_has_no_other_figures() -> None:
    # Not figures: "since April 30", "held by militants since 2014", "now in its ninth year" (twice),
    # "the first three months" (a duration after an ordinal).
    assert len(figures(proposals(BELFAST))) == 6


def test_belfast_has_no_stance() -> None:
    # "Russia and Turkey, which back rival sides" is a relative clause; "Backed by Russian air power"
    # a participle: neither is proposed.
    assert stances(proposals(BELFAST)) == []


# ---------------------------------------------------------------------------------------------
# Seed 001: Al Jazeera
# ---------------------------------------------------------------------------------------------

SULEIMAN = "Suleiman Abdulqader"
SHEIKHO = "Ahmed Sheikho"
HAYET = "Hay’et Tahrir al-Sham"
TURKISH_MINISTRY = "Turkish Defence Ministry"

AL_JAZEERA_QUOTES = [
    ("Syrian opposition fighters have withdrawn", "northwest of the country",
     "local activists and a war monitor", "local activists and a war monitor", "said", "indirect"),
    ("Khan Shaikhoun has become completely surrounded", "withdrew early on Tuesday", SULEIMAN, SULEIMAN, "told",
     "direct"),
    ("They moved towards the north", "advancing to new points", SULEIMAN, "he", "said", "direct"),
    ("the fighters who withdrew", "part of the moderate opposition", "Ahmed Husseinat", "Ahmed Husseinat", "said",
     "indirect"),
    ("the withdrawal as “a redeployment”", "“a redeployment”", HAYET, HAYET, "described ... as", "mixed"),
    ("its fighters withdrew to the southern part", "continue to defend their territory", HAYET, HAYET, "said",
     "indirect"),
    ("fighters have withdrawn from a string", "bordering Idlib from the south", "activists", "activists", "note",
     "indirect"),
    ("On Monday, air raids struck", "making its way through Idlib", TURKISH_MINISTRY, TURKISH_MINISTRY, "said",
     "indirect"),
    ("the convoy was heading to one", "in Morek in northwest", TURKISH_MINISTRY, TURKISH_MINISTRY, "adding",
     "indirect"),
    ("it had entered the country carrying", "last rebel-held area", "Syrian government", "Syrian government", "said",
     "indirect"),
    ("the Turkish convoy remains on", "where it was targeted by warplanes", "activists", "Activists", "said",
     "indirect"),
    ("The Turkish convoy is still stuck", "north of Khan Sheikhoun", SULEIMAN, "Suleiman", "said", "direct"),
    ("It has not been able to move", "since yesterday’s attacks", SHEIKHO, SHEIKHO, "told", "direct"),
    ("some 400,000 people have been forced", "to leave their homes", "United Nations", "United Nations",
     "according to", "indirect"),
    ("There are virtually no civilians", "in the area", SHEIKHO, "Sheikho", "said", "direct"),
    ("Many want to return", "near the border for now.", SHEIKHO, "Sheikho", "said", "direct"),
]


@pytest.mark.parametrize(("first", "last", "speaker", "said_by", "cue", "quote_type"), AL_JAZEERA_QUOTES)
def test_al_jazeera_quote(first, last, speaker, said_by, cue, quote_type) -> None:
    document = seed(AL_JAZEERA)
    text = span(document, first, last)
    if last == "in Morek in northwest":
        text = span(document, first, "northwest\xa0Syria")
    check_quote(document, proposals(AL_JAZEERA), text, speaker, said_by, cue, quote_type)


def test_al_jazeera_finds_every_quote_and_no_other() -> None:
    assert len(quotes(proposals(AL_JAZEERA))) == len(AL_JAZEERA_QUOTES)
    # The headline's scare quote ("Turkish convoy ‘stuck’") has no speaker and is not proposed.
    assert not [q for q in quotes(proposals(AL_JAZEERA)) if "stuck" == q.text]


def test_multi_speaker_line_attributes_each_quote_to_its_own_speaker() -> None:
    document = seed(AL_JAZEERA)
    line = span(document, "“The Turkish convoy is still stuck", "told Al Jazeera.")
    first = the_quote(proposals(AL_JAZEERA), "The Turkish convoy is still stuck north of Khan Sheikhoun")
    second = the_quote(proposals(AL_JAZEERA), "It has not been able to move since yesterday’s attacks")
    assert (first.speaker, second.speaker) == (SULEIMAN, SHEIKHO)
    line_start = document.index(line)
    assert document[first.speaker_start : first.speaker_end] == "Suleiman"
    assert first.speaker_start < document.index("Ahmed Sheikho, a local activist and member", line_start)
    assert document[second.speaker_start : second.speaker_end] == "Ahmed Sheikho"


@pytest.mark.parametrize(
    ("text", "value", "unit", "qualifier", "subject", "attributed_to"),
    [
        ("three million people", 3_000_000, "person", "exact", "population of Idlib", None),
        ("half", 50, "%", "exact", "people internally displaced", None),
        ("some 400,000 people", 400_000, "person", "approximately", "people forced to leave their homes",
         "United Nations"),
    ],
)
def test_al_jazeera_figure(text, value, unit, qualifier, subject, attributed_to) -> None:
    check_figure(proposals(AL_JAZEERA), text, value, unit, qualifier, subject, attributed_to)


def test_al_jazeera_has_no_other_figures() -> None:
    # Not figures: "since 2014", "a third consecutive day", "the strategic M5 highway",
    # "one of the province’s largest towns", "one of its observation posts".
    assert len(figures(proposals(AL_JAZEERA))) == 3


def test_al_jazeera_stance() -> None:
    document = seed(AL_JAZEERA)
    (stance,) = stances(proposals(AL_JAZEERA))
    assert stance.text == "Ankara backs some of the rebels in northwest Syria"
    assert (stance.holder, stance.target, stance.polarity) == (
        "Ankara",
        "some of the rebels in northwest Syria",
        "favor",
    )
    assert document[stance.start : stance.end] == stance.text


# ---------------------------------------------------------------------------------------------
# Hard passages
# ---------------------------------------------------------------------------------------------


def test_nested_quotes_stay_inside_the_outer_quote() -> None:
    text = "“He told me ‘leave now or die’ and then he left,” said Omar Haddad, a nurse at the hospital."
    (quote,) = quotes(propose(text))
    assert quote.text == "He told me ‘leave now or die’ and then he left"
    assert (quote.speaker, mention(text, quote), quote.cue, quote.quote_type) == (
        "Omar Haddad",
        "Omar Haddad",
        "said",
        "direct",
    )


def test_quote_running_over_paragraphs_shares_the_speaker() -> None:
    text = (
        "Fatima Ali, a teacher in Maarat al-Numan, described the night the shelling began.\n\n"
        "“We heard the planes first. Then the walls shook and the children screamed.\n\n"
        "“By morning half the street was gone,” she said.\n"
    )
    found = quotes(propose(text))
    assert [q.text for q in found] == [
        "We heard the planes first. Then the walls shook and the children screamed.",
        "By morning half the street was gone",
    ]
    assert all((q.speaker, q.cue, q.quote_type) == ("Fatima Ali", "said", "direct") for q in found)
    assert mention(text, found[1]) == "she"


def test_said_far_from_the_name() -> None:
    text = (
        "Ahmed Sheikho, a local activist and member of the Syrian Civil Defence who has documented air "
        "strikes in southern Idlib since the start of the offensive, said the convoy was hit twice."
    )
    (quote,) = quotes(propose(text))
    assert (quote.text, quote.speaker, mention(text, quote), quote.quote_type) == (
        "the convoy was hit twice",
        "Ahmed Sheikho",
        "Ahmed Sheikho",
        "indirect",
    )


def test_apostrophes_inside_quotes_are_not_quote_marks() -> None:
    text = "“We can’t go back to Khan Sheikhoun’s ruins, and the regime’s forces won’t let us,” a resident said."
    (quote,) = quotes(propose(text))
    assert quote.text == "We can’t go back to Khan Sheikhoun’s ruins, and the regime’s forces won’t let us"
    assert (quote.speaker, quote.cue) == ("resident", "said")


def test_pronoun_far_from_its_antecedent() -> None:
    text = (
        "Omar Haddad, a local doctor, arrived in the town on Monday.\n\n"
        "The hospital was shelled twice overnight. Ambulances could not reach the northern districts. "
        "Several roads were blocked by rubble and the power failed before dawn.\n\n"
        "“We are treating the wounded on the floor,” he said."
    )
    (quote,) = quotes(propose(text))
    assert (quote.speaker, mention(text, quote)) == ("Omar Haddad", "he")


def test_it_said_resolves_to_the_organisation_not_the_place() -> None:
    text = (
        "The Syrian Civil Defence, a rescue group, said its teams reached Khan Sheikhoun at dawn. "
        "The town was empty by noon, it said."
    )
    found = quotes(propose(text))
    assert [(q.text, q.speaker) for q in found] == [
        ("its teams reached Khan Sheikhoun at dawn", "Syrian Civil Defence"),
        ("The town was empty by noon", "Syrian Civil Defence"),
    ]


def test_straight_quotes_and_straight_apostrophes() -> None:
    text = (
        "\"We will not leave,\" the mayor said. \"Never.\"\n\n"
        "'We will stay until the end,' Mr Haddad said. The rebels' positions were shelled.\n"
    )
    found = quotes(propose(text))
    assert [(q.text, q.speaker, q.quote_type) for q in found] == [
        ("We will not leave", "mayor", "direct"),
        ("Never.", "mayor", "direct"),
        ("We will stay until the end", "Haddad", "direct"),
    ]
    assert mention(text, found[2]) == "Mr Haddad"


def test_title_resolves_to_the_full_name_said_earlier() -> None:
    text = (
        "Omar Haddad runs the clinic in Saraqeb.\n\n"
        "“The roads are closed,” said Mr Haddad.\n\n"
        "Haddad added that the clinic had run out of insulin."
    )
    found = quotes(propose(text))
    assert [(q.text, q.speaker, mention(text, q), q.cue, q.quote_type) for q in found] == [
        ("The roads are closed", "Omar Haddad", "Mr Haddad", "said", "direct"),
        ("the clinic had run out of insulin", "Omar Haddad", "Haddad", "added", "indirect"),
    ]


def test_surname_resolves_to_a_full_name_later_in_the_paragraph() -> None:
    text = (
        "Sheikho said the convoy was hit twice. Ahmed Sheikho, a local activist, has documented every "
        "strike since April.\n\nIdlib is quiet today, Sheikho said."
    )
    found = quotes(propose(text))
    assert [(q.text, q.speaker, mention(text, q)) for q in found] == [
        ("the convoy was hit twice", "Ahmed Sheikho", "Sheikho"),
        ("Idlib is quiet today", "Ahmed Sheikho", "Sheikho"),
    ]


def test_a_surname_with_no_full_name_stays_as_written() -> None:
    text = "Sheikho said the convoy was hit twice.\n\nAhmed Sheikho, a local activist, arrived later."
    (quote,) = quotes(propose(text))
    assert (quote.speaker, mention(text, quote)) == ("Sheikho", "Sheikho")


def test_more_reporting_shapes() -> None:
    text = (
        "The town has fallen, said Omar Haddad, a local doctor.\n\n"
        "The ministry says that the road is open again. Rescuers told reporters that the building collapsed.\n\n"
        "A statement from the Syrian Civil Defence said the team had pulled five people from the rubble.\n\n"
        "The rebels were pushed back. They said the retreat was temporary.\n"
    )
    found = quotes(propose(text))
    assert [(q.text, q.speaker, mention(text, q), q.cue) for q in found] == [
        ("The town has fallen", "Omar Haddad", "Omar Haddad", "said"),
        ("the road is open again", "ministry", "ministry", "says"),
        ("the building collapsed", "Rescuers", "Rescuers", "told"),
        ("the team had pulled five people from the rubble", "Syrian Civil Defence", "Syrian Civil Defence", "said"),
        # "They" are the rebels, who are named by no name: better no speaker than a wrong one.
        ("the retreat was temporary", None, "They", "said"),
    ]


def test_colon_introduces_the_quote_even_across_a_paragraph_break() -> None:
    text = (
        "The ministry said in a statement: \"The convoy was carrying supplies.\"\n\n"
        "The minister told reporters on Tuesday:\n\n"
        "“We will rebuild every school in the province.”\n"
    )
    found = quotes(propose(text))
    assert [(q.text, q.speaker, q.cue) for q in found] == [
        ("The convoy was carrying supplies.", "ministry", "said in a statement"),
        ("We will rebuild every school in the province.", "minister", "told"),
    ]


def test_quote_split_by_its_attribution() -> None:
    text = "“The shelling started at night,” Layla Mansour said, “and it has not stopped since.”"
    found = quotes(propose(text))
    assert [(q.text, q.speaker) for q in found] == [
        ("The shelling started at night", "Layla Mansour"),
        ("and it has not stopped since.", "Layla Mansour"),
    ]


def test_unattributed_long_quote_has_no_speaker_and_scare_quotes_are_skipped() -> None:
    text = "The so-called ‘safe zone’ was hit again. “Nobody is safe anywhere in this town anymore.”"
    (quote,) = quotes(propose(text))
    assert (quote.text, quote.speaker, quote.speaker_start, quote.cue) == (
        "Nobody is safe anywhere in this town anymore.",
        None,
        None,
        None,
    )


def test_possessive_pronoun_source() -> None:
    text = (
        "Senator Maria Lopez, who has long opposed the deal, said it was a disaster for working families. "
        "Her office later said she had been misquoted."
    )
    assert [q.speaker for q in quotes(propose(text))] == ["Maria Lopez", "Maria Lopez"]


def test_reporting_words_that_report_nothing() -> None:
    text = (
        "Smoke rose during a reported air attack on the town. The convoy was told to turn back. "
        "The army added 500 troops to the front. As he said, the road was closed."
    )
    assert quotes(propose(text)) == []


@pytest.mark.parametrize(
    ("text", "figure_text", "value", "unit", "qualifier"),
    [
        ("The UN appealed for $5m in aid.", "$5m", 5_000_000, "USD", "exact"),
        ("Britain pledged £3.2 billion.", "£3.2 billion", 3_200_000_000, "GBP", "exact"),
        ("Turnout was 40 per cent.", "40 per cent", 40, "%", "exact"),
        ("Prices rose by almost 35%.", "almost 35%", 35, "%", "approximately"),
        ("Between 300 and 400 people were killed.", "Between 300 and 400 people", 300, "person", "range"),
        ("They sent 2,000 to 3,000 soldiers.", "2,000 to 3,000 soldiers", 2000, "soldier", "range"),
        ("Up to 15,000 troops were deployed.", "Up to 15,000 troops", 15_000, "troop", "at most"),
        ("Fewer than 20 families stayed.", "Fewer than 20 families", 20, "family", "at most"),
        ("At least 12 civilians died.", "At least 12 civilians", 12, "civilian", "at least"),
        ("Dozens of children were hurt.", "Dozens of children", 12, "child", "at least"),
        ("Tens of thousands of people fled.", "Tens of thousands of people", 10_000, "person", "at least"),
        ("An estimated 1.5 million people were displaced.", "An estimated 1.5 million people", 1_500_000, "person",
         "approximately"),
        ("Two to three million people live there.", "Two to three million people", 2_000_000, "person", "range"),
        ("Twenty-five fighters were captured.", "Twenty-five fighters", 25, "fighter", "exact"),
        ("A quarter of a million people fled.", "A quarter of a million people", 250_000, "person", "exact"),
        ("The fighting killed 2,000 Syrians.", "2,000 Syrians", 2000, "Syrian", "exact"),
        ("The EU pledged €40bn.", "€40bn", 40_000_000_000, "EUR", "exact"),
        ("Several hundred families fled.", "Several hundred families", 100, "family", "at least"),
        ("As many as 500 fighters joined.", "As many as 500 fighters", 500, "fighter", "at most"),
        ("Half a million people live there.", "Half a million people", 500_000, "person", "exact"),
        ("The fund holds US$2.5 million.", "US$2.5 million", 2_500_000, "USD", "exact"),
    ],
)
def test_figure_forms(text, figure_text, value, unit, qualifier) -> None:
    found = figures(propose(text))
    assert [(f.text, f.value, f.unit, f.qualifier) for f in found] == [(figure_text, value, unit, qualifier)]


@pytest.mark.parametrize(
    "text",
    [
        "The offensive began on April 30 and resumed on 3 May 2019.",
        "The town has been held by rebels since 2014, through the 1990s and 2019-20.",
        "The war is in its ninth year and the fighting entered a third consecutive day.",
        "Traffic on the M5 highway and the F-16 jets were cited under Resolution 2254.",
        "The meeting starts at 10:30 and ends at 9pm.",
        # Durations are figures ("a 30-day truce", "three days"), a period named is not; ages are figures
        # too ("A 5-year-old girl", "Maria Lopez, 45,"): tests/test_rules_figures.py.
        "The first three months were hard; the truce came two years ago, in the past 24 hours.",
        "One of its observation posts was hit, one that Ankara wants to keep.",
        "The two countries agreed.",
        "She lives at 10 Downing Street. The team won 3-1 on Sunday.",
    ],
)
def test_not_figures(text) -> None:
    assert figures(propose(text)) == []


def test_shares_of_a_group_are_percentages() -> None:
    text = "Idlib is home to three million people, half of whom are displaced. A third of the town was destroyed."
    found = figures(propose(text))
    assert [(f.text, f.value, f.unit, f.qualifier, f.subject) for f in found] == [
        ("three million people", 3_000_000, "person", "exact", "population of Idlib"),
        ("half", 50, "%", "exact", "people displaced"),
        ("A third", pytest.approx(100 / 3), "%", "approximately", "town destroyed"),
    ]


def test_figures_take_the_speaker_of_the_quote_around_them() -> None:
    text = (
        "“We buried 40 people in two days,” Omar Haddad said.\n\n"
        "Officials said 12 civilians, including four children, were killed in the strike."
    )
    found = figures(propose(text))
    assert [(f.text, f.attributed_to, f.subject) for f in found] == [
        ("40 people", "Omar Haddad", "people buried"),
        ("two days", "Omar Haddad", None),  # a duration is a figure
        ("12 civilians", "Officials", "civilians killed in the strike"),
        ("four children", "Officials", "children killed"),
    ]


def test_stances_are_only_proposed_for_explicit_active_verbs() -> None:
    text = (
        "Turkey condemned the attack on its convoy. Russia strongly criticised the Turkish deployment, "
        "saying it violated the deal. The convoy was condemned by Damascus. Moscow did not condemn the raid. "
        "The Russia backed forces advanced. The European Union welcomed the ceasefire and called for talks. "
        "“We condemn this attack,” Mr Erdogan said. Russia and Turkey, which back rival sides, met."
    )
    found = stances(propose(text))
    assert [(s.text, s.holder, s.target, s.polarity) for s in found] == [
        ("Turkey condemned the attack on its convoy", "Turkey", "the attack on its convoy", "against"),
        ("Russia strongly criticised the Turkish deployment", "Russia", "the Turkish deployment", "against"),
        ("European Union welcomed the ceasefire", "European Union", "the ceasefire", "favor"),
    ]


WIRE_STORY = (
    "KYIV, Ukraine (AP) — Russian forces launched a barrage of missiles and drones at Ukraine overnight, "
    "killing at least 12 people and wounding more than 60, officials said Tuesday.\n\n"
    "The Ukrainian air force said it shot down 35 of the 42 missiles launched by Russia.\n\n"
    "“This is pure terror,” President Volodymyr Zelenskyy wrote on Telegram. “Russia must be held accountable.”\n\n"
    "Zelenskyy said the attack hit a hospital. He added that about 1,200 people had been left without electricity.\n\n"
    "NATO Secretary-General Jens Stoltenberg praised Ukraine's resilience.\n"
)
MARKETS_STORY = (
    "LONDON (Reuters) - British inflation fell to 3.9% in November, official data showed on Wednesday.\n\n"
    "\"The fall was bigger than anyone predicted,\" said Paul Dales, chief UK economist at Capital Economics. "
    "He said the bank was likely to start cutting rates by May.\n\n"
    "Around 1.2 million households will see their deals expire next year, according to trade body UK Finance. "
    "Many of them face higher payments, it said.\n"
)


US_STORY = (
    "WASHINGTON (AP) — The U.S. said Monday it would send a 5,000-strong force. Dr. Jane Smith, a virologist "
    "at Johns Hopkins University, said COVID-19 cases rose by 12% in the week to Sunday.\n\n"
    "“Why would anyone stay?” she asked. “The hospitals are full — and the staff are exhausted.”\n\n"
    "About 40 people, aged between 20 and 65, were arrested, police said. Officials estimated the crowd at 10,000.\n"
)


def test_us_story() -> None:
    found = propose(US_STORY)
    # "Dr." keeps its full stop inside the mention, and makes "she" find Jane Smith.
    assert [(q.text, q.speaker, mention(US_STORY, q), q.cue) for q in quotes(found)][1:4] == [
        ("COVID-19 cases rose by 12% in the week to Sunday", "Jane Smith", "Dr. Jane Smith", "said"),
        ("Why would anyone stay?", "Jane Smith", "she", "asked"),
        ("The hospitals are full — and the staff are exhausted.", "Jane Smith", "she", "asked"),
    ]
    assert [(f.text, f.value, f.unit, f.qualifier, f.subject) for f in figures(found)] == [
        ("5,000-strong force", 5000, None, "exact", "force"),
        ("12%", 12, "%", "exact", "cases"),
        ("About 40 people", 40, "person", "approximately", "people arrested"),
        ("aged between 20 and 65", 20, "year of age", "range", None),  # ages are figures
        ("10,000", 10_000, None, "exact", "crowd"),
    ]


def test_wire_story() -> None:
    found = propose(WIRE_STORY)
    first = quotes(found)[0]
    # The dateline says where the story was filed; it is not part of what the officials said.
    assert first.text.startswith("Russian forces launched") and first.text.endswith("more than 60")
    assert (first.speaker, first.cue) == ("officials", "said")
    assert [(f.text, f.unit, f.subject, f.attributed_to) for f in figures(found)] == [
        ("at least 12 people", "person", "people killed", "officials"),
        ("more than 60", "person", "people wounded", "officials"),
        ("35", "missile", "missiles", "Ukrainian air force"),
        ("42 missiles", "missile", "missiles launched by Russia", "Ukrainian air force"),
        ("about 1,200 people", "person", "people left without electricity", "Volodymyr Zelenskyy"),
    ]
    assert [(q.text, q.speaker, mention(WIRE_STORY, q), q.cue) for q in quotes(found)[2:]] == [
        ("This is pure terror", "Volodymyr Zelenskyy", "President Volodymyr Zelenskyy", "wrote"),
        ("Russia must be held accountable.", "Volodymyr Zelenskyy", "President Volodymyr Zelenskyy", "wrote"),
        ("the attack hit a hospital", "Volodymyr Zelenskyy", "Zelenskyy", "said"),
        ("about 1,200 people had been left without electricity", "Volodymyr Zelenskyy", "He", "added"),
    ]
    (stance,) = stances(found)
    assert (stance.holder, stance.target, stance.polarity) == ("Jens Stoltenberg", "Ukraine's resilience", "favor")


def test_markets_story() -> None:
    found = propose(MARKETS_STORY)
    assert [(f.text, f.value, f.unit, f.subject, f.attributed_to) for f in figures(found)] == [
        ("3.9%", 3.9, "%", "British inflation", None),
        ("Around 1.2 million households", 1_200_000, "household", "households", "UK Finance"),
    ]
    assert [(q.text, q.speaker, mention(MARKETS_STORY, q), q.quote_type) for q in quotes(found)] == [
        ("The fall was bigger than anyone predicted", "Paul Dales", "Paul Dales", "direct"),
        # "chief UK economist" does not make "UK" a person: "He" is Paul Dales.
        ("the bank was likely to start cutting rates by May", "Paul Dales", "He", "indirect"),
        ("Around 1.2 million households will see their deals expire next year", "UK Finance", "UK Finance",
         "indirect"),
        # "trade body UK Finance" is an organisation, so "it" finds it.
        ("Many of them face higher payments", "UK Finance", "it", "indirect"),
    ]


# ---------------------------------------------------------------------------------------------
# Contract: origin, order, determinism, offsets
# ---------------------------------------------------------------------------------------------


def test_engine_identity() -> None:
    # The prompt hashes the rules' whole source: the package's modules by name, then the core
    # modules they read numbers and names with.
    package = sorted(Path(rules.__file__).parent.glob("*.py"))
    source = b"".join(path.read_bytes() for path in [*package, Path(numbers.__file__), Path(lexicon.__file__)])
    assert RulesEngine.name == "rules" and RulesEngine.model is None
    assert RulesEngine.prompt == "rules@" + hashlib.sha256(source).hexdigest()[:12]
    assert re.fullmatch(r"rules@[0-9a-f]{12}", RulesEngine().prompt)


@pytest.mark.parametrize("name", [BELFAST, AL_JAZEERA])
def test_seed_proposals_validate_and_are_sorted(name: str) -> None:
    document = seed(name)
    found = proposals(name)
    for annotation in found:
        parse_annotation(annotation.model_dump(), document=document)
        assert annotation.status == "proposed" and annotation.id is None
        assert annotation.origin.model_dump() == {"engine": "rules", "model": None, "prompt": RulesEngine.prompt}
    keys = [(a.start, a.end, a.kind) for a in found]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


@pytest.mark.parametrize("name", [BELFAST, AL_JAZEERA])
def test_output_is_deterministic(name: str) -> None:
    first = [a.model_dump() for a in RulesEngine().propose(seed(name))]
    second = [a.model_dump() for a in RulesEngine().propose(seed(name))]
    assert first == second


def test_text_whose_lower_case_is_longer() -> None:
    # "İ".lower() is two code points: offsets must still be those of the text.
    text = "İstanbul: officials said three million people fled. Damascus — The army said the town fell."
    found = propose(text)
    assert [(q.text, q.speaker) for q in quotes(found)] == [
        ("three million people fled", "officials"),
        ("the town fell", "army"),
    ]
    assert [(f.text, f.attributed_to) for f in figures(found)] == [("three million people", "officials")]
    for annotation in found:
        parse_annotation(annotation.model_dump(), document=text)


def test_empty_and_blank_text() -> None:
    assert propose("") == [] and propose(" \n\n\t") == []


FRAGMENTS = [
    "“", "”", "\"", "‘", "’", "'", "«", "»", ",", ".", ":", ";", "?", "!", "(", ")", "—", "-", "\n", "\n\n", " ",
    "said", "told", "told Al Jazeera", "according to", "said in a statement", "described the move as", "he said",
    "it said", "she", "they", "and said that", "adding that", "Mr Assad", "Bashar al-Assad", "Ahmed Sheikho",
    "Sheikho", "the Turkish Defence Ministry", "the group", "a local activist", "Hay’et Tahrir al-Sham", "Syria’s",
    "rebels'", "2,000", "700,000", "half a million", "a million", "three million", "hundreds of", "$5m",
    "£3.2 billion", "40%", "40 per cent", "nearly", "more than", "up to", "between 300 and 400", "people",
    "civilians", "killed", "forced to flee", "is home to", "half of whom", "April 30", "2014", "M5", "ninth",
    "condemned", "backs", "welcomed", "the attack", "Ankara", "Turkey", "the town", "We will stay",
    "İstanbul", "KYIV, Ukraine (AP) —", "3-1", "10:30", "half of whom", "the group that tracks",
]
news_like = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=60
).map(lambda parts: " ".join(parts) if len(parts) % 3 else "".join(parts))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(news_like)
def test_proposals_on_any_text_validate(text: str) -> None:
    found = RulesEngine().propose(text)
    keys = []
    for annotation in found:
        parse_annotation(annotation.model_dump(), document=text)
        assert text[annotation.start : annotation.end] == annotation.text
        if isinstance(annotation, Quote) and annotation.speaker_start is not None:
            assert 0 <= annotation.speaker_start < annotation.speaker_end <= len(text)
        keys.append((annotation.start, annotation.end, annotation.kind))
    assert keys == sorted(set(keys))  # in span order, and no span proposed twice as one kind
    assert [a.model_dump() for a in RulesEngine().propose(text)] == [a.model_dump() for a in found]


@settings(max_examples=40, deadline=None)
@given(st.permutations(seed(AL_JAZEERA).split("\n\n")))
def test_shuffled_seed_paragraphs_validate(paragraphs: list[str]) -> None:
    text = "\n\n".join(paragraphs)
    for annotation in RulesEngine().propose(text):
        parse_annotation(annotation.model_dump(), document=text)
