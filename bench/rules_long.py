"""Benchmark the `rules` engine on one long document: megabytes per second by document length.

    python bench/rules_long.py [--sizes 0.25 0.5 1 2 5] [--repeat 5] [--small 1]

One news-like document is made by joining many varied articles: copies of the seed articles with
other names, places and numbers swapped in, and articles generated from templates (quotes with
"said", pronouns carrying a speaker on, sources opening a sentence, figures, organisations,
stances, datelines, quotes running over paragraphs). Everything is drawn from a seeded random
generator, so every run sees the same text. Each size is a prefix of the same article stream.

For each size the engine proposes the whole document as one text, as `annotator propose --engine
rules` does for one long article; the same articles are then proposed one at a time. A linear
engine gives the same MB/s for every size and for the small articles. Figures are medians over the
repeats (fewer for big sizes, which take longer), with the spread (min to max) beside them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from annotator.propose.rules import RulesEngine

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

FIRST_NAMES = """Omar Layla Yusuf Fatima Khaled Mahmoud Samir Rami Nadia Hana Tariq Leila Karim Amal Ziad
Maria Ana Pedro Lucia Tom Sarah James Emily David Rachel Peter Olga Ivan Dmitry Anna Kofi Amina Chen Wei
Priya Arjun Jens Ingrid Mateo Sofia""".split()
LAST_NAMES = """Haddad Mansour Karim Ali Issa Darwish Nasser Khalil Saleh Hamdan al-Masri al-Jabouri
Gomez Lopez Silva Baker Turner Wright Collins Reed Lane Cole Petrov Ivanova Mensah Okafor Zhang Liu Sharma
Patel Stoltenberg Lindqvist Moreau Rossi""".split()
TITLES = ["Mr", "Ms", "Dr.", "President", "Foreign Minister", "General", "Senator", "Prof."]
ROLES = [
    "a local activist",
    "a spokesman for the group",
    "a doctor at the main hospital",
    "an analyst at the Institute for Regional Studies",
    "the town's mayor",
    "a resident who fled last week",
    "a senior official",
    "a farmer from the area",
]
ORGS = [
    ("Syrian Observatory for Human Rights", "Observatory"),
    ("United Nations refugee agency", "agency"),
    ("Ministry of Defence", "ministry"),
    ("International Committee of the Red Cross", "committee"),
    ("National Bank of Commerce", "bank"),
    ("Hayat Tahrir al-Sham", "group"),
    ("World Health Organization", "organisation"),
    ("Trade Council", "council"),
    ("Amnesty International", "group"),
    ("European Central Bank", "bank"),
]
ACRONYMS = ["NATO", "HTS", "UNHCR", "WHO", "ICRC", "OPEC"]
PLACES = """Idlib Hama Aleppo Saraqeb Ariha Mosul Kherson Kharkiv Gaza Rafah Darfur Juba Goma Tigray Kabul
Herat Belfast Lyon Porto Naples""".split()
COUNTRIES = ["Syria", "Turkey", "Russia", "Iran", "Ukraine", "Sudan", "France", "Brazil", "Kenya", "Japan"]
NOUNS = "people civilians families troops fighters refugees children patients workers homes".split()
VERBS = "killed wounded displaced evacuated arrested rescued detained".split()
# Sources without a name, opening a sentence: their capital is dropped when the text has the word in lower case.
SOURCES = ["Opposition activists", "Local residents", "Witnesses", "Officials", "Rescue workers"]
STANCE_VERBS = "condemned welcomed criticised praised rejected backed denounced hailed".split()
TOPICS = [
    "the ceasefire",
    "the new budget",
    "the offensive",
    "the agreement",
    "the decision to close the border",
    "the strike",
    "the plan to rebuild the bridge",
    "the election results",
]
SPOKEN = [
    "We will not leave our homes, whatever happens",
    "The situation is getting worse every day and nobody is helping us",
    "This is a turning point for the whole region",
    "We have seen nothing like this in twenty years",
    "They have no food, no water and no medicine left",
    "Our priority is to get the wounded out before the roads close",
    "There is no military solution to this conflict",
    "Prices have doubled since the spring and wages have not moved",
    "Why was the convoy stopped at the checkpoint?",
    "We are ready to talk, but not under fire",
]
CLAUSES = [
    "the talks would resume next week",
    "the army had withdrawn from two villages south of the town",
    "aid convoys were blocked at the crossing for a third day",
    "the government would not accept any conditions",
    "the number of displaced people was likely to rise",
    "the hospital had run out of fuel",
    "inflation fell to 3.9% in the year to November",
    "the bank kept rates at 5.25% for a fourth time",
]


def _person(rng: random.Random) -> str:
    """A full name."""
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _figure(rng: random.Random) -> str:
    """A counted figure, in one of the shapes the rules read."""
    noun = rng.choice(NOUNS)
    number = f"{rng.randint(2, 950):,}" if rng.random() < 0.5 else f"{rng.randint(1, 99)},{rng.randint(100, 999)}"
    shapes = [
        f"{number} {noun}",
        f"more than {number} {noun}",
        f"nearly {number} {noun}",
        f"between {rng.randint(10, 90)} and {rng.randint(100, 400)} {noun}",
        f"hundreds of {noun}",
        f"tens of thousands of {noun}",
        f"about {rng.choice(['two', 'three', 'five'])} million {noun}",
        f"${rng.randint(2, 90)}m",
        f"{rng.randint(2, 60)}%",
        f"a {rng.randint(2, 90)}-day truce",
    ]
    return rng.choice(shapes)


def _article(rng: random.Random) -> str:
    """One generated news article of varied paragraphs."""
    place = rng.choice(PLACES)
    country = rng.choice(COUNTRIES)
    person, other = _person(rng), _person(rng)
    surname = person.split()[-1]
    org, org_noun = rng.choice(ORGS)
    acronym = rng.choice(ACRONYMS)
    topic = rng.choice(TOPICS)
    paragraphs = [
        (
            f"{rng.choice(['Fighting', 'Talks', 'Protests', 'Floods'])} in {place} "
            f"{rng.choice(['Leave', 'Force', 'Bring'])} {rng.randint(2, 900)} "
            f"{rng.choice(['Homeless', 'Jobs', 'Cases'])}"
        ),
        f"By {_person(rng)}, {rng.choice(['Associated Press', 'Reuters', 'Staff reporter'])}",
    ]
    if rng.random() < 0.4:
        paragraphs.append(
            f"{place.upper()}, {country} (AP) — {_figure(rng)} were {rng.choice(VERBS)} on "
            f"{rng.choice(['Monday', 'Tuesday', 'Friday'])}, officials said."
        )
    makers = [
        lambda: f"“{rng.choice(SPOKEN)},” {person}, {rng.choice(ROLES)}, "
        f"told {rng.choice(['Al Jazeera', 'reporters', 'the BBC'])}.",
        lambda: f"“{rng.choice(SPOKEN)},” {rng.choice(['he', 'she'])} said. “{rng.choice(SPOKEN)}.”",
        lambda: f"{rng.choice(TITLES)} {surname} said: “{rng.choice(SPOKEN)}.”",
        lambda: f"“{rng.choice(SPOKEN)},” said {other}, {rng.choice(ROLES)}.",
        lambda: f"{person} said the {org_noun} had {rng.choice(VERBS)} {_figure(rng)} in {place}.",
        lambda: f"{rng.choice(['He', 'She'])} added that {rng.choice(CLAUSES)}.",
        lambda: f"The {org} said in a statement that {rng.choice(CLAUSES)}.",
        lambda: f"It said {rng.choice(CLAUSES)}, adding that {rng.choice(CLAUSES)}.",
        lambda: f"{rng.choice(SOURCES)} "
        f"{rng.choice(['said', 'reported', 'told reporters'])} that {rng.choice(CLAUSES)}.",
        lambda: f"According to the {org_noun}, {_figure(rng)} have been {rng.choice(VERBS)} "
        "since the fighting began.",
        lambda: f"{rng.choice(CLAUSES).capitalize()}, "
        f"according to {rng.choice(['opposition activists', 'the ' + org, acronym])}.",
        lambda: f"{rng.choice(CLAUSES).capitalize()}, {acronym} said.",
        lambda: f"{rng.choice(COUNTRIES)} {rng.choice(STANCE_VERBS)} {topic}, calling it a mistake.",
        lambda: f"{person} has strongly {rng.choice(STANCE_VERBS)} {topic} as the talks stalled.",
        lambda: f"The fighting has {rng.choice(['forced', 'displaced', 'killed'])} {_figure(rng)}, "
        f"half of whom are children, in the past {rng.randint(2, 30)} days.",
        lambda: f"{place} is home to {_figure(rng)}, and {rng.randint(2, 40)}% of them live in camps, "
        f"the {org_noun} said on {rng.choice(['Twitter', 'state TV'])}.",
        lambda: f"They said {rng.choice(CLAUSES)}. {rng.choice(['Opposition', 'Local', 'Rescue'])} "
        f"activists said the {org_noun} was wrong.",
        lambda: f"The group, nicknamed “the {rng.choice(['Lions', 'Eagles', 'Wolves'])} of {place}”, "
        f"{rng.choice(['denied', 'confirmed'])} the report on {rng.choice(['Monday', 'Sunday'])}.",
        lambda: f"‘{rng.choice(SPOKEN)}’, the sign read, according to {other}.",
        lambda: f"\"{rng.choice(SPOKEN)},\" {other} wrote on Facebook, as {_figure(rng)} waited at the border.",
        lambda: f"“{rng.choice(SPOKEN)}.\n\n“{rng.choice(SPOKEN)},” {person} said.",
        lambda: f"In {rng.choice(['April', 'May', 'June'])} {rng.randint(1990, 2023)}, {rng.randint(2, 28)} "
        f"{rng.choice(['April', 'May'])}, the {org} described the raid as "
        f"“{rng.choice(['a massacre', 'a mistake', 'a provocation'])}”.",
        lambda: f"{other}, {rng.randint(20, 80)}, said she had {rng.choice(['fled', 'returned'])} "
        f"with her {rng.randint(2, 9)} children, while prices rose {rng.randint(2, 9)}% "
        f"to ${rng.randint(10, 99)}.{rng.randint(10, 99)}.",
        lambda: f"Mr {surname} went on to say, “{rng.choice(SPOKEN)}.”",
        lambda: f"{person} and {other} met in {place} on {rng.choice(['Monday', 'Wednesday'])} "
        f"as {rng.choice(['protests', 'strikes', 'talks'])} entered their {rng.choice(['third', 'ninth'])} week.",
    ]
    for _ in range(rng.randint(5, 14)):
        # Some paragraphs run to two or three sentences, as in print; most hold one.
        sentences = [rng.choice(makers)() for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


def _seed_article(rng: random.Random, originals: list[str]) -> str:
    """A seed article with other names, places and numbers swapped in, its body paragraphs shuffled."""
    text = rng.choice(originals)
    swaps = {
        "Suleiman Abdulqader": _person(rng),
        "Ahmed Sheikho": _person(rng),
        "Khan Sheikhoun": rng.choice(PLACES),
        "Idlib": rng.choice(PLACES),
    }
    for name, other in swaps.items():
        text = text.replace(name, other)
    text = "".join(str(rng.randint(1, 9)) if ch.isdigit() and rng.random() < 0.5 else ch for ch in text)
    paragraphs = text.split("\n\n")
    head, body = paragraphs[:3], paragraphs[3:]
    rng.shuffle(body)
    return "\n\n".join(head + body)


def articles(megabytes: float, seed: int = 11) -> list[str]:
    """Varied news articles, seed copies and generated ones, until they hold `megabytes` of UTF-8."""
    rng = random.Random(seed)
    originals = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]
    found: list[str] = []
    size = 0
    while size < megabytes * 1_000_000:
        article = _seed_article(rng, originals) if rng.random() < 0.2 else _article(rng)
        found.append(article)
        size += len(article.encode("utf-8")) + 2
    return found


def long_document(megabytes: float, seed: int = 11) -> str:
    """One document of about `megabytes` of UTF-8: the articles joined by blank lines."""
    return "\n\n".join(articles(megabytes, seed))


def _timings(documents: list[str], repeat: int) -> list[tuple[float, float]]:
    """Seconds to propose every document once, by the wall clock and in this process's CPU time,
    for each of `repeat` runs."""
    engine = RulesEngine()
    times = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        for document in documents:
            engine.propose(document)
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return times


def _row(label: str, megabytes: float, times: list[tuple[float, float]]) -> str:
    """One line of the table: median MB/s by the wall clock with its spread, and by CPU time."""
    wall = [megabytes / seconds for seconds, _ in times]
    cpu = [megabytes / seconds for _, seconds in times]
    return (
        f"{label:>14} {statistics.median(wall):>8.2f} {min(wall):>7.2f} – {max(wall):<6.2f}"
        f" {statistics.median(cpu):>9.2f} {len(times):>8}"
    )


def main() -> None:
    """Time each size as one document and as its articles one at a time; print them side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.25, 0.5, 1.0, 2.0, 5.0])
    parser.add_argument("--repeat", type=int, default=5, help="repeats for the smallest size")
    parser.add_argument("--small", type=float, default=1.0, help="megabytes of small articles to time")
    args = parser.parse_args()
    # On a shared machine the CPU-time figure is the steadier measure of one core.
    print(f"{'document':>14} {'MB/s':>8} {'spread (wall)':>16} {'MB/s CPU':>9} {'repeats':>8}")
    for size in args.sizes:
        document = long_document(size)
        megabytes = len(document.encode("utf-8")) / 1_000_000
        # Fewer repeats for bigger documents: one 5 MB run is already a long sample.
        repeat = max(1, round(args.repeat * min(1.0, args.sizes[0] / size)))
        print(_row(f"{megabytes:.2f} MB", megabytes, _timings([document], repeat)))
    small = articles(args.small)
    megabytes = sum(len(article.encode("utf-8")) for article in small) / 1_000_000
    print(_row(f"{len(small)} articles", megabytes, _timings(small, args.repeat)), f" ({megabytes:.2f} MB)")

if __name__ == "__main__":
    main()
