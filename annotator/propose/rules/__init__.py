"""The `rules` engine: deterministic, offline proposals of quotes, figures and stances.

No model, no network, no randomness: the same text always gives the same proposals, in the same
order. It is what a user without a model gets and the baseline every LLM prompt has to beat, so
it aims for proposals a reviewer can accept as they stand, and prefers missing an item to
inventing one. Offsets are Python code-point offsets; `text[start:end] == annotation.text`
holds for every proposal, and every proposal is `status="proposed"`, `id=None`, with
`origin=Origin(engine="rules", model=None, prompt=RulesEngine.prompt)`. Output is sorted by
`(start, end, kind)`.

How it works: the quote marks of each paragraph are paired first and the quoted words masked out
of a copy of the text (same offsets), so the rules for attribution, reported speech, names and
stances read only what the narrator says. Each pattern is searched once over the whole text
(reporting words, number words and stance verbs share one search); names are cleaned up only when
a rule looks at them. Time grows linearly with the length of the text.

The package follows these sections: `quotes` (quote marks, the narrative view, direct, indirect and
mixed quotes), `speakers` (names, their kinds and canonical forms, pronouns), `figures` and
`stances`, each a part of the one `analysis` of a document; `text` holds what they share. Numbers
are read by `annotator.numbers` and names cleaned with the word lists of `annotator.lexicon`,
which the rest of the core uses too.

Quotes
------
* Quote marks: curly double (“ ”), straight double ("), curly single (‘ ’), straight single (')
  and guillemets. An apostrophe is never a quote mark: a single mark opens a quote only after a
  space or bracket and before a word, and only when a closing mark follows in the paragraph, so
  "Syria’s", "Hay’et" and "they’re" stay words. Single marks inside a double quote are nested
  quotes and stay part of the outer quote; they are not proposed on their own. A doubled single
  mark (`''…''`, `‘‘…’’`, ` ``…'' `) is one double mark.
* Not quotes: a quoted title, name, slogan or nickname (`author of “Lost Ground”`, `said on
  “Morning Talk Live”`, `nicknamed “the Trailblazers”`, `the so-called “peace dividend”`): a
  quoted phrase after a naming word (nicknamed, dubbed, titled, so-called, known as, slogan, …),
  or in title case after a lower-case word of the narrator's (after a reporting verb only when
  the sentence runs on past it: `told “Fox News Sunday” that …`). It stays masked, is never
  proposed, does not make a report mixed, and `said on “…”` skips it to the content.
* Direct quote span: the words spoken, WITHOUT the quotation marks and without the comma that
  closes a quote before its attribution (“We will stay,” he said → `We will stay`). Final `.`,
  `?` and `!` are kept.
* A quote re-opened at the start of the next paragraph without a closing mark on the previous
  one is one utterance: each paragraph's part is proposed as its own direct quote (spans never
  cover the paragraph break or the re-opening mark) and every part gets the speaker and cue found
  for any part.
* Attribution of a direct quote: `“…,” X said` / `“…,” said X` / `“…,” according to X` after the
  quote (when the quote ends in `,`, `?`, `!` or a dash, or the next word is lower-case);
  `X said: “…”` / `X told Y, “…”` before it, also when `X said:` ends the previous paragraph. The
  first reporting word after the quote is the cue, so in `“A,” Suleiman said. “B,” Ahmed Sheikho,
  a local activist, told Al Jazeera.` each quote gets its own speaker. A quote with no attribution
  of its own takes the speaker and cue of the previous quote in the same paragraph (`“A,” Sheikho
  said. “B.”`), or of the previous paragraph's last direct quote when the paragraph is nothing but
  the quote (the news convention for a speech running over paragraphs). Otherwise a quote of four
  or more words is proposed with no speaker; shorter unattributed ones are scare quotes (‘stuck’)
  and are skipped.
* Indirect quotes (`quote_type="indirect"`), one per reporting clause:
  `X said (that) …`, `X told Y (that) …`, `X said in a statement (that) …`, `…, X said.`,
  `…, said X.`, `According to X, …`, `…, according to X[, …]`, `X described Y as Z`, present-tense
  `X says/notes/warns that …`, a second verb sharing the subject (`… and said that …`) and
  `…, X said, adding that …` (cue `adding`). `added`, `wrote` and `tweeted` report speech only
  with `that` or a colon (`the army added 500 troops` is no quote); a reporting word after an
  article, a preposition or a form of "be" is no cue (`a reported attack`, `was told to leave`).
  The span is the reported content without `that` and the final full stop: for `…, X said.` and
  `…, according to X` it runs from the start of the sentence to the comma before the attribution;
  for `X said …` it runs from after the cue to the end of the sentence, stopping before
  `, without …`, `, adding …`, `, citing …` and a coordinated second reporting verb. For
  `X described Y as “Z”` the span is `Y as “Z”`. A wire dateline opening the paragraph
  (`KYIV, Ukraine (AP) — `) is left out of the span.
* Mixed quotes (`quote_type="mixed"`): an indirect quote whose content contains a quoted phrase
  (`said in a statement that its fighters carried out “a redeployment”, withdrawing …`). The span
  is the reported content as for an indirect quote, so it includes the partial quote and its marks;
  the phrase is not proposed again on its own. A quoted fragment that carries on the narrator's
  words (a letter right before its opening mark) never takes the words after it as its
  attribution (`a “must-win state” for the governor, Ms. Reyes said` is one mixed quote), and one
  that no reporting clause takes is not proposed at all (a scare quote). Adjacent quoted parts of
  one sentence (nothing but spaces, commas, an ellipsis or one and/or/but between them) are one
  quote, from the first spoken word to the last; parts separated by their attribution (`“A,” she
  said, “B.”`) are one quote each with the same speaker.
* Cue: the reporting phrase in its text form without auxiliaries: `said`, `told`, `added`,
  `said in a statement`, `according to`, `described ... as`, `adding`, `note`, `asked`,
  `quoted as saying`.
* Speaker: the subject of the cue. Titles (Mr, Dr., President, …), runs of titles (`NATO
  Secretary-General Jens Stoltenberg` → `Jens Stoltenberg`) and roles or organisation nouns in
  front of a name (`Local activist Ahmed Husseinat`, `trade body UK Finance`) are dropped from the
  name, as are appositives (`Suleiman Abdulqader, a local activist in southern Idlib, told …` →
  `Suleiman Abdulqader`); a leading article is dropped (`the Turkish Defence Ministry` →
  `Turkish Defence Ministry`); a clause before a colon or dash is no subject; `the insurgents’ statement`,
  `a statement from X`, `reports from X`, `comments released by X` give X; a subject without a
  name (`a statement … from the main faction in the area, Hay’et Tahrir al-Sham (HTS) group, …`)
  takes the name in its appositive. Sources without a name keep their words, less a leading
  article (`Syrian state TV`, `opposition activists`, `militant group and opposition activists`),
  and lose the capital of a sentence start when the document writes the word in lower case too
  (`Opposition activists also reported` → `opposition activists`), so one source has one name.
* `speaker_start`/`speaker_end` point at the mention in the text, titles included (`Mr Assad`,
  `President Volodymyr Zelenskyy`, `he`, `Observatory`); `speaker` is the canonical name:
  - a one-word name, with or without a title (`Mr Assad`, `Sheikho`, `Suleiman`, `the
    Observatory`), resolves to the nearest longer name earlier in the document that contains that
    word (`Bashar Assad`, `Ahmed Sheikho`, `Suleiman Abdulqader`, `Syrian Observatory for Human
    Rights`); `al-`/`el-` prefixes are ignored when comparing (`Assad` matches `Bashar al-Assad`).
    When nothing earlier fits, a longer name later in the same paragraph is used; otherwise the
    word stays as written.
  - `he`/`she` resolve to the nearest earlier speaker or name known to be a person (a title, a
    role word before a full name, or a role in its appositive: activist, doctor, spokesman, …);
    `it` to the nearest earlier organisation (an organisation word in the name, before it or in
    its appositive: Ministry, faction, monitor, trade body, …; an acronym other than a country's);
    `they` to the nearest earlier plural speaker (`activists`, `officials`) of the same or the
    previous paragraph. Places and names of unknown kind are skipped. An unresolved pronoun keeps
    its mention with `speaker=None`.
  - `the group`, `the monitor`, `the ministry` and the like (a bare definite organisation noun,
    optionally with a relative clause: `the group that tracks Syria’s war`) resolve to the nearest
    earlier organisation; with none before, the noun stays (`ministry`).

Figures
-------
* Recognised numbers: digits with thousands separators and decimals (`2,000`, `700,000`, `3.2`),
  number words (`three million`, `twenty-five`, `a million`, `a dozen`, `half a million`,
  `a quarter of a million`), currency (`$5m`, `£3.2 billion`, `€40bn` → unit `USD`/`GBP`/`EUR`),
  percentages (`40%`, `40 per cent` → unit `%`), and fractions of a group (`half of whom`,
  `a third of the town` → unit `%`, value 50 / 33.3).
* Vague quantities: `dozens of` → 12, `scores of` → 20, `hundreds of` → 100, `thousands of` →
  1000, `tens of thousands of` → 10000, `hundreds of thousands of` → 100000, `millions of` → 1e6,
  `several`/`a few` hundred or thousand → 100 / 1000; all with qualifier `at least` (the smallest
  round number the phrase guarantees).
* Qualifiers: nearly, almost, about, around, roughly, approximately, some, an estimated, close to
  → `approximately`; more than, over, at least, upwards of, in excess of, no fewer than → `at
  least`; up to, fewer than, less than, under, at most, as many as, no more than → `at most`;
  `between X and Y`, `from X to Y`, `X to Y`, `X-Y` → `range` with the LOWER bound as the value;
  none → `exact`.
* Span: qualifier, number and counted noun (`nearly half a million people`); in `nearly 700,000 of
  them` the span stops at the number and the unit comes from the figure the pronoun refers to.
* Unit: the counted noun after the number (`people`, `civilians`, `Syrians`), skipping up to two
  modifiers (`2,000 Syrian troops` → `troops`); `%` or a currency code where marked. A number
  without a noun borrows one: `35 of the 42 missiles` → `missiles`; in `killing 12 people and
  wounding more than 60` the second count takes the first's unit. `a 5,000-strong force` has no
  unit; its span runs to the noun and its subject is `force`.
* Subject: what is counted, built from the surrounding words: `forcing N people to flee` →
  `people forced to flee`; `killed N people` → `people killed`; `including N civilians` after such
  a figure → `civilians killed`; `N people have been forced to leave their homes` → `people forced
  to leave their homes`; `N of them displaced by fighting` → `people displaced by fighting`;
  `N people had been left without electricity` → `people left without electricity` (the verb and
  at most one prepositional phrase, also after a comma-enclosed aside: `40 people, aged 20 to 65,
  were arrested` → `people arrested`); `X is home to N people` → `population of X`; for rates and
  amounts the thing measured, `British inflation fell to 3.9%` → `British inflation`, `kept rates
  at 5.25%` → `rates`, `estimated the crowd at 10,000` → `crowd`; otherwise the unit, or null.
* `attributed_to`: the speaker of the quote (direct, indirect or mixed, including `according to
  X`) whose span contains the figure; otherwise null.
* Durations and ages are figures: `in 30 minutes`, `a 30-day truce` → unit `minute`/`day`;
  `the 52-year-old coach`, `Maria Lopez, 45,`, `aged 25`, `aged between 20 and 65` → unit `year of
  age`. Units written against or after the number (`512GB`, `5.8GHz`, `80 mph`, `a 37m hull` →
  metres, `5-10W`, `from 13.5 to 14.0 mm`), currencies (`RM45 million`, `$US40 million`, `EUR50m`,
  `9.5 million yuan`, `¥300 billion`, `$2.7b`), signs (`-4.5%`, `minus 12 degrees`), `5 thousand
  million`, `1.5e6`, `.500`, `3/4 of a cup`, `a quarter of voters`, `category 3`; a number with no
  noun after `from`/`to`/`compared with` takes the unit of the figure before it in the sentence;
  `rose 4% to $18.20` is two figures. Every unit is given its canonical singular name by
  `annotator.numbers.canonical_unit` (`person`, `kilometre`, `USD`, `%`).
* Not figures: years (a bare 4-digit 1500-2100 with no counted noun), dates (`April 30`, `30
  April`), times (`10:30`, `9am`, `11.30pm`), ordinals (`ninth year`, `9th`, `third consecutive day`),
  periods named (`the past 24 hours`, `two years ago`), ties and scores (`ended 1-1`), jersey numbers,
  numbers inside or before names (`M5 highway`, `F-16`, `Resolution
  2254`, `10 Downing Street`), scores (`won 3-1`), list markers opening a paragraph (`1.`), the
  word `one` without a scale (`one of its posts`), and small number words without a counted noun
  or after a determiner (`the two countries`, `the first three months`).

Stances
-------
Precision over recall: a stance is proposed only for an explicit evaluative verb in the active
voice whose subject is a name written immediately before it (`has`/`have`/`had` and adverbs such
as `also` and `strongly` may stand between), in narrative text (not inside a direct quote):

* against: condemned, condemns, denounced, criticised/criticized, slammed, deplored, decried,
  rejected, opposes/opposed, `is opposed to`;
* favor: welcomed, praised, hailed, applauded, endorsed, supports/supported, backs/backed.

`holder` is the canonical name of the subject, `target` the object phrase up to the end of the
clause (punctuation, `and`/`but`, `as`, `after`, `for`, `over`, `because`, `while`, `saying`, a
relative pronoun; at most twelve words), and the span runs from the holder to the end of the
target. It does NOT propose stances for passives (`was condemned by`), participles and compound
adjectives (`Backed by Russia`, `Turkish-backed`), relative clauses (`Russia and Turkey, which back
rival sides`), negated or modal verbs (`did not condemn`, `would back`), pronoun holders or
targets, common-noun holders (`the government criticised`), stances inside quotes, or stances
carried by nouns and adjectives (`strong opposition to`, `loyal to`). Polarity `neutral` is never
proposed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from annotator import lexicon, numbers
from annotator.propose.rules.analysis import _Analysis
from annotator.schemas import Annotation

__all__ = ["PROMPT", "RulesEngine"]


def _source_hash() -> str:
    """The first 12 hex digits of the sha256 of the rules' source: every module of this package,
    sorted by name, then the core modules whose words and numbers they read with."""
    sources = [*sorted(Path(__file__).parent.glob("*.py")), Path(numbers.__file__), Path(lexicon.__file__)]
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


PROMPT = "rules@" + _source_hash()
"""The version of these rules: a hash of their source, so a changed rule is a changed prompt."""


class RulesEngine:
    """Deterministic, offline proposals of quotes, figures and stances; see the package docstring."""

    name = "rules"
    model = None
    prompt = PROMPT

    def propose(self, text: str) -> list[Annotation]:
        """Every quote, figure and stance the rules find in `text`, sorted by (start, end, kind)."""
        if not text or not text.strip():
            return []
        return _Analysis(text).annotations()
