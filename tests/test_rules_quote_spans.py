"""The `rules` engine's quote spans and types on passages it was not written against.

Mixed quotes whole, adjacent quoted parts of one statement as one quote, titles, names and scare
quotes left alone, and quotes written with doubled marks (''…''). The passages are made up, in the
styles of wires, broadsheets and tabloids, US and UK; each pattern has several variants and
passages where nothing may fire.
"""

from __future__ import annotations

import pytest

from annotator.propose.rules import RulesEngine
from annotator.schemas import Quote


def quotes_of(text: str) -> list[tuple[str, str, str | None, str | None]]:
    """(quote type, span text, speaker, cue) of every quote the engine proposes for `text`."""
    found = []
    for item in RulesEngine().propose(text):
        if isinstance(item, Quote):
            assert text[item.start : item.end] == item.text
            found.append((item.quote_type, item.text, item.speaker, item.cue))
    return found


# -- a quoted fragment inside a reported clause is one mixed quote over the clause ------------------

MIXED = [
    (
        'Ohio had become a "must-win state" for the governor, Ms. Reyes said.',
        ("mixed", 'Ohio had become a "must-win state" for the governor', "Reyes", "said"),
    ),
    (
        "The rail network was “at breaking point” after a decade of cuts, Mick Dalton, the union’s general "
        "secretary, said.",
        ("mixed", "The rail network was “at breaking point” after a decade of cuts", "Mick Dalton", "said"),
    ),
    (
        "She called the ruling “a slap in the face,” Mayor Ann Cole said.",
        ("mixed", "She called the ruling “a slap in the face,”", "Ann Cole", "said"),
    ),
    (
        "Ms. Reyes said Ohio had become a \"must-win state\" for the governor.",
        ("mixed", 'Ohio had become a "must-win state" for the governor', "Reyes", "said"),
    ),
    (
        "Mr Johnson told MPs the plan was 'oven-ready' and would be delivered 'within weeks'.",
        ("mixed", "the plan was 'oven-ready' and would be delivered 'within weeks'", "Johnson", "told"),
    ),
    (
        "According to Cole, the plan was \"dead on arrival\" in the Senate.",
        ("mixed", 'the plan was "dead on arrival" in the Senate', "Cole", "according to"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), MIXED)
def test_fragment_in_a_reported_clause_is_one_mixed_quote(text, expected):
    assert quotes_of(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        # A fragment with no reporting clause around it is no quote of its own, whatever follows it.
        'The deal left Ohio a "must-win state" for the governor and his allies in Congress.',
        "Critics have long dismissed what they call “a managed retreat from the coast” as a cost-cutting exercise.",
        "The club’s “project” is in tatters after a fourth straight defeat at home.",
    ],
)
def test_a_fragment_without_a_reporting_clause_is_not_a_direct_quote(text):
    assert [q for q in quotes_of(text) if q[0] == "direct"] == []


def test_a_full_quote_after_narration_keeps_its_own_attribution():
    # A quote opening the sentence (or after a dateline, a colon or a comma) is still a direct quote.
    text = (
        'WASHINGTON (AP) — "We will not be moved," Senator Amy Lin said Tuesday.\n\n'
        "Asked about the plan, Cole said: “It is dead.”\n\n"
        "Lewis, a House Democrat, said the vote was “a travesty.” “We’re fine,” Lewis said."
    )
    assert quotes_of(text) == [
        ("direct", "We will not be moved", "Amy Lin", "said"),
        ("direct", "It is dead.", "Cole", "said"),
        ("mixed", "the vote was “a travesty.”", "Lewis", "said"),
        ("direct", "We’re fine", "Lewis", "said"),
    ]


# -- adjacent quoted parts of one statement -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '"We will rebuild" and "we will do it fast," Mayor Ann Cole said.',
            [("direct", 'We will rebuild" and "we will do it fast', "Ann Cole", "said")],
        ),
        (
            "Mayor Ann Cole said: “We will rebuild”, “we will do it fast”.",
            [("direct", "We will rebuild”, “we will do it fast", "Ann Cole", "said")],
        ),
        (
            "‘Never again’ or ‘not on my watch,’ the chief constable, Sarah Pike, told reporters.",
            [("direct", "Never again’ or ‘not on my watch", "Sarah Pike", "told")],
        ),
    ],
)
def test_adjacent_parts_are_one_direct_quote(text, expected):
    assert quotes_of(text) == expected


def test_parts_around_an_attribution_are_two_quotes_with_one_speaker():
    # The span never swallows its attribution (guidelines, decision 3): one quote per part.
    text = (
        '"We have done nothing wrong," the company said in a statement, "and we will fight these claims in court."\n\n'
        "“It was a hard season,” said Tom Hart, the club’s chairman, “but the worst is behind us.”"
    )
    assert quotes_of(text) == [
        ("direct", "We have done nothing wrong", "company", "said in a statement"),
        ("direct", "and we will fight these claims in court.", "company", "said in a statement"),
        ("direct", "It was a hard season", "Tom Hart", "said"),
        ("direct", "but the worst is behind us.", "Tom Hart", "said"),
    ]


def test_fragments_of_one_clause_stay_in_one_mixed_quote():
    text = 'The minister said the reforms were "overdue", "badly drafted" and "unworkable in practice".'
    assert quotes_of(text) == [
        (
            "mixed",
            'the reforms were "overdue", "badly drafted" and "unworkable in practice"',
            "minister",
            "said",
        )
    ]


def test_parts_in_two_sentences_are_not_adjacent():
    # Two quoted sentences in a row may be two speakers (an exchange): each stands on its own.
    text = "“Are you leaving the party tonight?” “No, I am staying,” Cole said."
    assert quotes_of(text) == [
        ("direct", "Are you leaving the party tonight?", None, None),
        ("direct", "No, I am staying", "Cole", "said"),
    ]


# -- titles, names, slogans, nicknames and scare quotes are not quotes -----------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Jane Doe, author of “Lost Ground,” spoke to a packed hall at the library on Tuesday evening.",
        'Members of a group nicknamed "the Trailblazers" marched through the town centre on Saturday.',
        "The campaign adopted the slogan ‘Take Back Control’ in the spring of that year.",
        "Supporters chanted “Build the Wall” as the president took the stage at the rally.",
        "He is known as “the Iron Chancellor” in Berlin and far beyond it.",
        "The so-called “peace dividend” never reached the towns that needed it most.",
        "Her new series, “The Long Road Back to Nowhere,” opens on BBC Two next month.",
        "The film was dubbed “the summer’s biggest flop” by the trade press within a week.",
    ],
)
def test_titles_and_names_in_quote_marks_are_not_quotes(text):
    assert quotes_of(text) == []


def test_a_title_after_the_attribution_is_not_a_continued_quote():
    text = (
        '"People forget how close we came," said Jane Doe, author of "Lost Ground."\n\n'
        "“We are ready for this fight,” Cole said on “Morning Talk Live.” “Nobody should doubt it.”\n\n"
        "“This is not a game,” Hart told “Good Morning Britain” on Monday."
    )
    assert quotes_of(text) == [
        ("direct", "People forget how close we came", "Jane Doe", "said"),
        ("direct", "We are ready for this fight", "Cole", "said"),
        ("direct", "Nobody should doubt it.", "Cole", "said"),
        ("direct", "This is not a game", "Hart", "told"),
    ]


def test_a_title_where_something_was_said_is_not_the_content():
    text = (
        'The senator said on "Morning Talk Live" that the bill would pass.\n\n'
        "Cole told “Fox News Sunday” that the deal was dead.\n\n"
        "Jane Doe, author of “Lost Ground,” said the book took ten years to write.\n\n"
        "The company’s “Project Phoenix” plan will cut hundreds of jobs, the union said."
    )
    assert quotes_of(text) == [
        ("indirect", "the bill would pass", "senator", "said"),
        ("indirect", "the deal was dead", "Cole", "told"),
        ("indirect", "the book took ten years to write", "Jane Doe", "said"),
        ("indirect", "The company’s “Project Phoenix” plan will cut hundreds of jobs", "union", "said"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Capitals at the start of a sentence or after punctuation are speech, not a title.
        ("“Thank You,” she told the crowd at the Ohio rally.", ("direct", "Thank You")),
        ("Cole told reporters: “Never Again.”", ("direct", "Never Again.")),
        ("The minister said the UK was “open for business”.", ("mixed", "the UK was “open for business”")),
    ],
)
def test_capitals_in_speech_are_not_a_title(text, expected):
    assert [q[:2] for q in quotes_of(text)] == [expected]


# -- quotes written with doubled marks --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("''We are not going anywhere,'' Mr. Cole said.", ("direct", "We are not going anywhere", "Cole", "said")),
        (
            "''It's the governors' money, not ours,'' said Mr. Cole.",
            ("direct", "It's the governors' money, not ours", "Cole", "said"),
        ),
        (
            "Mayor Tom Hart told reporters, ''It is a good day for the city of Akron.''",
            ("direct", "It is a good day for the city of Akron.", "Tom Hart", "told"),
        ),
        ("``We are done here,'' the coach said after the game.", ("direct", "We are done here", "coach", "said")),
        (
            "‘‘We won’t back down,’’ said Senator Amy Lin of Ohio.",
            ("direct", "We won’t back down", "Amy Lin", "said"),
        ),
    ],
)
def test_doubled_marks_are_one_quote_mark(text, expected):
    assert quotes_of(text) == [expected]


def test_doubled_marks_over_sentences_and_paragraphs():
    text = (
        "''We need more time,'' Senator Amy Lin said. ''The bill is not ready for a vote.''\n\n"
        "The mayor said the plan was ''a good start'' for the city.\n\n"
        "''We will keep going until the last house is rebuilt,'' Lin said.\n\n"
        "''And we will not stop there."
    )
    assert quotes_of(text) == [
        ("direct", "We need more time", "Amy Lin", "said"),
        ("direct", "The bill is not ready for a vote.", "Amy Lin", "said"),
        ("mixed", "the plan was ''a good start'' for the city", "mayor", "said"),
        ("direct", "We will keep going until the last house is rebuilt", "Amy Lin", "said"),
        ("direct", "And we will not stop there.", "Amy Lin", "said"),
    ]


def test_apostrophes_are_not_doubled_marks():
    text = "The farmers' union said the growers' costs had doubled since the drought began."
    assert quotes_of(text) == [("indirect", "the growers' costs had doubled since the drought began", "farmers' union", "said")]
