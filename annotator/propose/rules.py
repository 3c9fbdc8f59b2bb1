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

Quotes
------
* Quote marks: curly double (“ ”), straight double ("), curly single (‘ ’), straight single (')
  and guillemets. An apostrophe is never a quote mark: a single mark opens a quote only after a
  space or bracket and before a word, and only when a closing mark follows in the paragraph, so
  "Syria’s", "Hay’et" and "they’re" stay words. Single marks inside a double quote are nested
  quotes and stay part of the outer quote; they are not proposed on their own.
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
  the phrase is not proposed again on its own.
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
* Not figures: years (a bare 4-digit 1500-2100 with no counted noun), dates (`April 30`, `30
  April`), times (`10:30`, `9am`), ordinals (`ninth year`, `9th`, `third consecutive day`),
  durations and ages (`three months`, `30-day`, `five-year-old`, `Maria Lopez, 45,`, `aged 25`,
  `aged between 20 and 65`), numbers inside or before names (`M5 highway`, `F-16`, `Resolution
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
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from annotator.schemas import Annotation, Figure, Origin, Quote, Stance

__all__ = ["RulesEngine", "figure_values"]

PROMPT = "rules@" + hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
"""The version of these rules: a hash of this file, so a changed rule is a changed prompt."""

# Masked quoted words in the narrative view: not a letter, digit, space or punctuation any rule
# looks for, so no rule fires inside a quote by accident and offsets stay those of the document.
_FILL = "\u2592"

# ---------------------------------------------------------------------------------------------
# Word lists (those without a leading underscore are shared with `annotator.qa`)
# ---------------------------------------------------------------------------------------------

DAYS_MONTHS = frozenset(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June "
    "July August September October November December Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec".split()
)
# Capitalised words that start sentences but never names.
CAPITAL_STOPWORDS = frozenset(
    """The A An But And Or Nor So Yet In On At As After Before During From For With Without By To Of Since
    Until While When Where Why How What Which Who Whom Whose This That These Those It Its He She They We
    I You His Her Their Our My Your There Here Then Now However Meanwhile Also According Many Some Most
    All Several Other Another Each Every Both Either Neither No Not If Although Though Because Despite
    Amid Among Over Under Between Into Through Across Against Around About Near Once Still Even Just Only
    Such Further Later Earlier Last Next First Second Third Backed Reports Report Filed Home Opposition
    Local Activists Smoke Thousands Hundreds Dozens Millions Nearly Almost More Less Fewer Up Some Few
    Instead Indeed Moreover Furthermore Separately Elsewhere Overall Finally Asked Speaking Read See
    Mr Mrs Ms Dr""".split()
)
TITLES = frozenset(
    """Mr Mr. Mrs Mrs. Ms Ms. Miss Dr Dr. Prof Prof. Professor President Vice Prime Minister Foreign
    Defence Defense Interior Secretary Secretary-General General Gen Gen. Lt Lt. Col Col. Colonel Major
    Maj Captain Capt Sergeant Sgt Admiral Commander King Queen Prince Princess Sheikh Emir Sultan Pope
    Senator Sen Sen. Rep Rep. Representative Governor Gov Gov. Mayor Chancellor Judge Justice Lord Lady
    Sir Dame Ambassador Imam Rev Reverend Ayatollah Crown Field Marshal Brigadier Deputy Chief
    Spokesman Spokeswoman""".split()
)
# Titles that end a run of title words in front of a person's name.
_HEAD_TITLES = frozenset(
    """President Minister Secretary Governor Mayor Prince Princess King Queen Chancellor Senator Ambassador
    Spokesman Spokeswoman Commander Chairman Chairwoman Director Envoy Emir Sultan Sheikh Pope Premier
    Judge Justice General Colonel Admiral Lieutenant Captain Sergeant Leader Chief""".split()
)
_PERSON_TITLES = frozenset("Mr Mr. Mrs Mrs. Ms Ms. Miss Dr Dr. Sir Dame Lord Lady".split())
# Lower-case words inside names: "Syrian Observatory for Human Rights", "Bashar al-Assad".
JOINERS = frozenset("of for the".split())
PARTICLES = frozenset("al el bin ibn abu bint lil de da di du van von der".split())
_ROLE_WORDS = frozenset(
    """activist spokesman spokeswoman spokesperson official minister leader commander president chief
    head director analyst resident witness doctor journalist correspondent researcher envoy ambassador
    secretary general member founder chairman chairwoman mayor governor senator lawyer professor expert
    medic nurse worker volunteer negotiator diplomat aide adviser advisor representative deputy lawmaker
    farmer teacher student mother father colonel officer soldier engineer economist politician
    candidate manager executive coordinator organiser organizer campaigner reporter photographer
    citizen survivor cleric priest imam rapporteur negotiator premier king queen prince emir sheikh
    man woman boy girl surgeon paramedic commentator editor writer author coach captain pilot driver
    owner shopkeeper trader son daughter brother sister husband wife widow grandmother grandfather
    neighbour neighbor refugee villager protester demonstrator defector prisoner detainee victim
    eyewitness mediator consultant""".split()
)
_ORG_NOUNS = frozenset(
    """ministry observatory government group faction monitor organisation organization agency coalition
    army movement party front forces force militia body channel broadcaster network newspaper affiliate
    company firm charity union council committee commission office department police court parliament
    assembly alliance brigade brigades battalion authority authorities administration bank fund
    institute foundation association federation service tv television radio outlet website league corps
    command military regime tribunal university hospital embassy mission programme program agency
    insurgents rebels militants activists""".split()
)
_COUNTRY_ACRONYMS = frozenset("US USA UK GB UAE DRC ROK DPRK PRC".split())
_ORG_KEYWORDS = frozenset(
    """Ministry Observatory Nations Council Committee Commission Army Forces Force Front Party Movement
    Group Organisation Organization Agency Office Department Government Union Association Institute
    Foundation Federation Bank Fund Court Parliament Assembly Alliance Brigade Brigades Corps Police
    Defence Defense Civil Rights Watch Amnesty Crescent Cross TV News Press Times Post Jazeera Reuters
    University Hospital Company Corporation Inc Ltd Service Services Authority Administration Command
    Coalition Centre Center Network Channel Media Directorate Secretariat Senate Congress Cabinet
    Kremlin Pentagon Tahrir Sham Qaeda Qaida Hezbollah Hamas Taliban""".split()
)
_DEFINITE_ORG_NOUNS = frozenset(
    "group monitor ministry organisation organization agency faction observatory coalition militia "
    "movement body alliance network army".split()
)
_PRONOUNS = {"he": "person", "she": "person", "it": "org", "they": "group"}
_ADVERBIAL_OPENERS = frozenset(
    """on in at after before during earlier later meanwhile however separately last this speaking asked
    since until while when as although though despite amid following yesterday today overnight
    elsewhere instead also but and""".split()
)
_LEADING_DISCOURSE = frozenset("but and yet so however meanwhile also now then still instead or".split())
_DETERMINERS = frozenset("the a an".split())
# A reporting verb right after one of these is an adjective or a passive ("a reported attack",
# "was told"), not a report.
_CUE_BLOCKERS = frozenset(
    """a an the of by for with to in on at from his her its their this that these those widely was were
    is are be been being as not never""".split()
)
_AUXILIARIES = frozenset("is are was were has have had will would could can may might must shall should".split())
_FUNCTION_WORDS = frozenset(
    """of to in on at by for from with and or but as than that which who whom whose the a an this these
    those it its their them they he she his her we our us is are was were be been being has have had do
    does did will would could can may might must shall should not no so if then there here when where
    while after before since until into over under about around between through during against among
    without within amid across per says said remains means goes comes makes seems looks according more
    less fewer most up out off""".split()
)
_TIME_UNITS = frozenset(
    """second seconds minute minutes hour hours day days week weeks month months year years decade decades
    century centuries night nights weekend weekends morning mornings evening evenings""".split()
)
_INVARIANT_COUNT_NOUNS = frozenset(
    """people police personnel staff aircraft cattle sheep livestock children men women km kg tonnes tons
    metres meters miles hectares acres barrels""".split()
)
_MODIFIERS = frozenset(
    """more other additional displaced internally new local armed foreign young innocent unarmed wounded
    injured dead registered extra further former""".split()
)
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "a": 1, "an": 1,
}
_SCALES = {
    "hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "dozen": 12.0,
    "k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9, "tn": 1e12,
}
_VAGUE = {
    "dozens": 12.0, "scores": 20.0, "hundreds": 100.0, "thousands": 1e3, "millions": 1e6, "billions": 1e9,
    "tens of thousands": 1e4, "hundreds of thousands": 1e5, "tens of millions": 1e7, "hundreds of millions": 1e8,
}
_FRACTIONS = {
    "half": (50.0, "exact"), "a half": (50.0, "exact"), "a third": (100 / 3, "approximately"),
    "one third": (100 / 3, "approximately"), "two thirds": (200 / 3, "approximately"),
    "two-thirds": (200 / 3, "approximately"), "a quarter": (25.0, "exact"), "one quarter": (25.0, "exact"),
    "three quarters": (75.0, "exact"), "three-quarters": (75.0, "exact"),
}
_CURRENCIES = {"US$": "USD", "$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY"}
_CURRENCY_NOUNS = {"dollars": "USD", "euros": "EUR", "yen": "JPY"}
_QUALIFIERS = {
    "nearly": "approximately", "almost": "approximately", "about": "approximately",
    "around": "approximately", "roughly": "approximately", "approximately": "approximately",
    "some": "approximately", "an estimated": "approximately", "estimated": "approximately",
    "close to": "approximately", "approx.": "approximately", "circa": "approximately",
    "more than": "at least", "over": "at least", "at least": "at least", "upwards of": "at least",
    "in excess of": "at least", "no fewer than": "at least", "no less than": "at least",
    "just over": "at least", "well over": "at least", "above": "at least",
    "up to": "at most", "fewer than": "at most", "less than": "at most", "under": "at most",
    "at most": "at most", "as many as": "at most", "no more than": "at most", "just under": "at most",
    "below": "at most", "a maximum of": "at most",
    "between": "range", "from": "range",
}
# Verbs whose object is the counted group: "killed 2,000 people" counts people killed. Each entry is
# the participle and the other forms that map to it.
_TRANSITIVE_FORMS = {
    "killed": "killing kills kill",
    "wounded": "wounding wounds",
    "injured": "injuring injures",
    "displaced": "displacing displaces",
    "forced": "forcing forces force",
    "evacuated": "evacuating evacuates",
    "arrested": "arresting arrests",
    "detained": "detaining detains",
    "rescued": "rescuing rescues",
    "uprooted": "uprooting uproots",
    "affected": "affecting affects",
    "hosted": "hosting hosts",
    "sheltered": "sheltering shelters",
    "housed": "housing houses",
    "executed": "executing executes",
    "buried": "burying buries",
    "treated": "treating treats",
    "freed": "freeing frees",
    "released": "releasing releases",
    "captured": "capturing captures",
    "abducted": "abducting abducts",
    "kidnapped": "kidnapping kidnaps",
    "deported": "deporting deports",
    "expelled": "expelling expels",
    "relocated": "relocating relocates",
    "resettled": "resettling resettles",
    "jailed": "jailing jails",
    "imprisoned": "imprisoning imprisons",
    "deployed": "deploying deploys",
    "employed": "employing employs",
    "vaccinated": "vaccinating vaccinates",
}
_TRANSITIVE_PARTICIPLES = {
    form: participle for participle, forms in _TRANSITIVE_FORMS.items() for form in (participle, *forms.split())
}
_IRREGULAR_PAST = frozenset(
    """fled left died hurt held taken driven caught sent fallen lost kept slain struck hit trapped
    remained remain remains stayed live lived living gone become returned fleeing remaining""".split()
)
_PREPOSITIONS = frozenset(
    "by in from to into across at near inside on outside within towards toward through without".split()
)
# Words that end the noun phrase of a prepositional phrase ("by fighting | in other parts").
_PHRASE_BREAKS = _FUNCTION_WORDS - {"the", "a", "an", "their", "its", "his", "her"}

# ---------------------------------------------------------------------------------------------
# Regular expressions, compiled once
# ---------------------------------------------------------------------------------------------


def _alternation(words: list[str]) -> str:
    """A pattern matching any of `words`, factored by shared prefixes.

    Python's `re` tries the branches of `a|b|c` one after another at every position; a prefix tree
    lets it reject most positions on the first letter, which makes the word lists below several
    times cheaper to search for.
    """
    trie: dict[str, dict] = {}
    for word in sorted(set(words)):
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


_PARAGRAPH = re.compile(r"[^\r\n]+")
_QUOTE_MARK = re.compile(r"[“”„«»\"‘’']")
_SINGLE_CLOSER = re.compile(r"(?<=\S)[’'](?![^\W_])")
# A sentence ends at . ? or ! before a capital or an opening quote mark (whose words are masked).
_SENTENCE_END = re.compile(r"[.?!]+[”’\"')\]]*(?=\s+(?:[“‘\"'(\[]?[A-Z0-9\u00C0-\u00DE]|[“‘\"]))")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st gen col lt sgt capt gov sen rep jr sr no vs etc inc ltd co corp jan feb mar apr "
    "jun jul aug sep sept oct nov dec approx fig".split()
)

_CAP_WORD = r"[A-Z\u00C0-\u00DE][^\W_]*(?:[’'][^\W\d_]{2,})?(?:-[^\W_]+)*"
_NAME_WORD = rf"(?:(?:al|el|bin|ibn|abu|bint|lil|de|da|di|du|van|von|der)[- ])?{_CAP_WORD}"
# Starts on a capital so `re` can skip ahead by character class; a particle in front ("al-Jabha",
# "al Qaida") is picked up afterwards by looking back from the capital.
_NAME = re.compile(rf"{_CAP_WORD}(?:[ ](?:(?:of|for)(?:[ ]the)?[ ])?{_NAME_WORD})*")
# Abbreviated titles end in a full stop, which ends a capitalised run: "Dr. Jane Smith" is joined up
# when the mention is cleaned, by looking back from the name.
_DOTTED_TITLES = frozenset("Mr Mrs Ms Dr Prof Gen Sen Rep Gov Lt Col Sgt Capt Rev".split())
_MODIFIER_TOKEN = re.compile(
    r"-(?:based|linked|backed|led|controlled|held|born|run|allied|aligned|affiliated|funded|owned)$"
)

# What may follow a reporting verb before the quote it introduces: `said in a statement:`.
_BEFORE_TAIL = re.compile(rf"(?P<ext>[^“”\"‘{_FILL}:,]{{0,60}}?)\s*(?P<punct>[:,])?\s*")
_QUOTE_OR_FILL = re.compile(rf"[“”\"{_FILL}]")
_PHRASE_END = re.compile(rf"[,.;:!?“”\"{_FILL}]")
_CUE_VERBS = frozenset(
    """said says told tells added adds stated states announced announces reported reports noted notes
    explained explains warned warns insisted insists argued argues claimed claims confirmed confirms
    denied denies acknowledged acknowledges admitted admits alleged alleges asserted declared stressed
    wrote writes tweeted estimated estimates""".split()
)
# Bare present forms report speech only before "that" ("activists note that …").
_BARE_CUES = frozenset("say note report claim warn insist argue estimate believe believes believed".split())
# Verbs that attribute a quotation next to them but do not report speech on their own.
_QUOTING_VERBS = frozenset(
    "asked asks continued replied responded recalled conceded shouted recounted posted quoted".split()
)
# A reporting word at a known place (the verb after "and" in "… and said that …").
_CUE = re.compile(r"\b(?:" + _alternation([*_CUE_VERBS, *_BARE_CUES, *_QUOTING_VERBS, "described"]) + r")\b")
_AS_SAYING = re.compile(r"\s+as\s+saying\b")
# Verbs that report speech only with a clause ("added that …") or a colon, not with an object.
_CLAUSE_ONLY_CUES = frozenset("added adds wrote writes tweeted".split())
_TO = re.compile(r"\s+to\b")
_AS = re.compile(r"\s+as\s")
_THAT_AHEAD = re.compile(r"\s+that\b")
_THAT_WORD = re.compile(r"\bthat\b")
_COORDINATED_CUE = re.compile(
    r"\s+and\s+(?:also\s+)?(?=(?:said|told|added|described|warned|noted|stressed|insisted|claimed|"
    r"denied|confirmed|announced|argued|explained|stated)\b)"
)
_BRACKET_OR_COMMA = re.compile(r"[(),]")
_CLAUSE_BREAK = re.compile(r"[:;]|\s[—–]\s")
_DATELINE = re.compile(
    r"[A-Z][A-Z.'’-]+(?: [A-Z][A-Z.'’-]+)*(?:, [A-Z][\w.'’ -]{1,30}?)?(?: \([^)\n]{1,30}\))? ?[—–-]{1,2} "
)
# Words between a subject and its reporting verb: "activists have also said".
_SUBJECT_TAIL_WORDS = frozenset(
    "has have had also later earlier then again previously reportedly repeatedly would will was is".split()
)
_STATEMENT_EXTENSION = re.compile(
    r"\s+(?:in|on|via|through)\s+(?:a|an|the|its|his|her|their)\s+(?:(?:written|joint|televised|brief|"
    r"short|separate|online|video|recorded)\s+)?(?:statement|interview|tweet|post|video|speech|address|"
    r"briefing|news\s+conference|press\s+conference|message|letter)\b|"
    r"\s+on\s+(?:Twitter|Facebook|Telegram|X|Instagram|social\s+media|television|state\s+TV)\b"
)
_TIME_ADJUNCT = re.compile(
    r"\s+(?:(?:late|early)\s+)?(?:on|last|this|earlier|later)\s+(?:Monday|Tuesday|Wednesday|Thursday|"
    r"Friday|Saturday|Sunday|week|month|year|night|morning|evening|weekend)\b|"
    r"\s+(?:on\s+)?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|"
    r"\s+(?:yesterday|today|tonight|earlier|later|previously|separately|afterwards|also)\b"
)
_AUDIENCE_WORD = re.compile(
    r"\s+(?:reporters|journalists|me|us|him|her|them|lawmakers|parliament|supporters|residents|"
    r"officials|the\s+(?:[\w’'-]+\s+){0,3}?(?:agency|channel|newspaper|broadcaster|television|radio|"
    r"outlet|station|conference|briefing|crowd|audience|committee|meeting|gathering|press|BBC|AFP|AP)|"
    r"an?\s+(?:[\w’'-]+\s+){0,2}?(?:conference|briefing|crowd|audience|meeting|gathering|rally))\b"
)
_THAT = re.compile(r"\s*(?:that\s+)?")
_CONTENT_CUT = re.compile(r",\s+(?:without|adding|citing|according\s+to)\b")
_ADDING = re.compile(r",\s+(?P<cue>adding)\s+(?:that\s+)?")
_POSSESSIVE_SOURCE = re.compile(
    r"(?:the\s+)?(?P<x>.+?)[’']s?\s+(?:(?:media|press|own)\s+)?(?:statement|statements|spokesman|"
    r"spokeswoman|spokesperson|office|account|website|channel|report)$"
)
_SOURCE_OF = re.compile(
    r"(?:(?:a|an|the)\s+)?(?:(?:new|latest|written|joint|separate)\s+)?(?:statement|statements|comments|"
    r"remarks|report|reports|figures|data|estimates|tally|count|spokesman|spokeswoman|spokesperson|"
    r"official|officials)(?:\s+(?:on|late\s+on|early\s+on)\s+\w+)?\s+(?:(?:released|issued|published|"
    r"made|compiled|provided|given|posted)\s+)?(?:from|by|for|of)\s+(?P<x>.+)$",
    re.IGNORECASE,
)
_RELATIVE_CUT = re.compile(r"\s+(?:that|which|who|whose|where)\s|\s*\(")
_TRAILING_ORG_NOUN = re.compile(
    r"\s*(?:\([^)]*\))?\s*(?:group|faction|movement|militia|organi[sz]ation|alliance|coalition|network)?\s*$"
)
_WORD = re.compile(r"[^\W_][\w’'-]*")

# Figures
_NUM_WORD = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-(?:one|two|three|four|five|six|"
    r"seven|eight|nine))?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
)
_SCALE_WORD = r"(?:hundred|thousand|million|billion|trillion)"
_QUANTITY_BODY = rf"""(?:
      (?P<cur>US\$|\$|£|€|¥)?\s?(?P<digits>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)
        (?:\s?(?P<dscale>{_SCALE_WORD}|bn|mn|tn|m|k)(?![\w-]))?
        (?P<aunit>km|kg|mph)?
    | (?P<cur2>US\$|\$|£|€|¥)?(?P<fraction>half\s+a|a\s+half|a\s+quarter(?:\s+of)?\s+a|three\s+quarters\s+of\s+a)
        \s+(?P<fscale>{_SCALE_WORD})
    | (?P<vague>(?:tens|hundreds)\s+of\s+(?:thousands|millions)|dozens|scores|hundreds|thousands|millions|billions)
        (?=\s+of\b)
    | (?P<several>several|a\s+few)\s+(?P<sscale>hundred|thousand|million|billion)
    | (?P<words>(?:{_NUM_WORD}|a|an)(?:\s+(?:and\s+a\s+half\s+)?(?:{_SCALE_WORD}|dozen))+(?:\s+(?:and\s+)?{_NUM_WORD})?
        |{_NUM_WORD})
    )(?P<pct>\s?(?:%|per\s?cent|percent))?(?![\w])"""
# A number does not start inside a word, a decimal or a code ("M5", "F-16", "10:30").
_QUANTITY = re.compile(r"(?<![\w.,:/'’-])" + _QUANTITY_BODY, re.IGNORECASE | re.VERBOSE)
# The second number of a range follows its "-" directly ("300-400").
_RANGE_END = re.compile(_QUANTITY_BODY, re.IGNORECASE | re.VERBOSE)
_NUMBER_ANCHOR_WORDS = frozenset(
    [
        *(word for word in _NUMBER_WORDS if len(word) > 2),
        *"""hundred hundreds thousand thousands million millions billion billions trillion dozen dozens scores
        tens half several few quarter quarters third thirds""".split(),
    ]
)
_STANCE_VERBS = frozenset(
    """condemned condemns denounced denounces criticised criticized criticises criticizes slammed slams
    deplored deplores decried decries rejected rejects opposes opposed welcomed welcomes praised praises
    hailed hails applauded applauds endorsed endorses supports supported backs backed""".split()
)
# Words that may stand between a stance's holder and its verb: "Russia has strongly criticised".
_STANCE_BETWEEN = frozenset(
    """has have had also strongly repeatedly again publicly swiftly firmly openly sharply roundly previously
    long is are was were""".split()
)
# One search, over the lower-cased text, finds reporting words, number words and stance verbs: each
# pass of `re` over a text costs about as much as the rest of a rule, so the lists share one tree.
_WORD_ANCHOR = re.compile(
    r"\b(?:"
    + _alternation(
        [*_CUE_VERBS, *_BARE_CUES, *_QUOTING_VERBS, "described", "according", *_NUMBER_ANCHOR_WORDS, *_STANCE_VERBS]
    )
    + r")\b"
)
_DIGIT_RUN = re.compile(r"\d[\d,.]*")
_CURRENCY_BEFORE = re.compile(r"(?:US\$|[$£€¥])\s?$")
_ARTICLE_BEFORE = re.compile(r"(?<![^\W_])(?:a|an|A|An)\s+$")
_FRACTION_WORDS = (
    r"half|a\s+half|a\s+third|one\s+third|two[- ]thirds|a\s+quarter|one\s+quarter|three[- ]quarters"
)
_FRACTION_OF = re.compile(
    rf"(?<![\w-])(?P<frac>{_FRACTION_WORDS})\s+of\s+(?=whom|them|those|these|the|all|its|their)",
    re.IGNORECASE,
)
# A share on its own, as a figure's span holds it ("half", "two-thirds").
_FRACTION = re.compile(rf"(?<![\w-])(?P<frac>{_FRACTION_WORDS})(?![\w-])", re.IGNORECASE)
_RANGE_JOIN = re.compile(r"\s*(?:-|–|—|to|and)\s*", re.IGNORECASE)
_MONTH_AFTER = re.compile(
    r"(?:st|nd|rd|th)?\s+(?:of\s+)?(?:January|February|March|April|May|June|July|August|September|October|"
    r"November|December)\b"
)
_TIME_AFTER = re.compile(r"\s?(?:am|pm|a\.m\.|p\.m\.|GMT|BST|UTC|CET|EST|hrs|h\b)", re.IGNORECASE)
_HYPHEN_UNIT = re.compile(r"-(?:year|month|week|day|hour|minute|second|decade)s?\b|-(?:old)\b", re.IGNORECASE)
_OF = re.compile(r"\s+of\b")
_STRONG = re.compile(r"-strong\s+([a-z]+)")
_OF_THE = re.compile(r"\s+of\s+(?:the|its|their|these|those)\s+")
_WHOM = re.compile(r"(?:whom|them|those|these)\b")
_WHOLE = re.compile(r"(?:the|all|its|their)\s+([\w’'-]+)")
_MONTHS = frozenset(
    "January February March April May June July August September October November December Jan Feb Mar "
    "Apr Jun Jul Aug Sep Sept Oct Nov Dec".split()
)
_NUMBER_DETERMINERS = frozenset(
    "the its their these those his her our your my all both first last next past every each other".split()
)
_NUMBERED_NAMES = frozenset(
    """Resolution Flight Route Highway Article Section Chapter Room Gate Platform Building Block Road Street
    Phase Stage Level Grade Class Category Apollo Boeing Airbus Model Version Paragraph Item Unit Camp
    Sector Zone Terminal Brigade Division Battalion Regiment Squadron Bus Line Channel Number""".split()
)
# Verbs reporting the level of a rate or amount: "inflation fell to 3.9%", "the toll stood at 45".
_CHANGE_VERBS = frozenset(
    """fell rose climbed dropped jumped slipped grew increased decreased declined stood reached hit was were is
    are remained falls rises climbs drops jumps slips grows increases decreases declines stands reaches hits
    remains risen fallen grown totalled totaled totals amounted amounts""".split()
)
_SETTING_VERBS = frozenset(
    """kept keeps held holds left leaves set sets raised raises cut cuts lowered lowers estimated estimates
    put puts""".split()
)
_HOME_VERBS = frozenset("is was are were has had remains remained".split())
# Words between a verb and the number it counts: "killed a total of 200", "killed another 12".
_COUNT_FILLERS = frozenset("a an total of further additional another estimated".split())
# A comma-enclosed aside between a counted group and its verb: ", including four children,",
# ", mostly women,", ", the UN said,".
_ASIDE = re.compile(r",\s[^,.;:“”\"]{1,60},")
_OF_PRONOUN = re.compile(r"\s+of\s+(?:them|whom|those|these)\b")
_UNIT_WORD = re.compile(r"\s+(?P<w>[^\W\d_][\w’'-]*)")
_RIGHT_VERB = re.compile(
    r"\s+(?:(?:have|has|had|were|was|are|is|will|would)\s+)?(?:(?:been|be|being)\s+)?"
    r"(?P<adv>(?:also|reportedly|now|already|internally|forcibly|still|so\s+far)\s+)?(?P<verb>[a-z]+)\b"
)
_FORCED_TO = re.compile(r"\s+to\s+(?P<verb>[a-z]+)(?:\s+(?P<obj>(?:their|his|her|its|the)\s+[a-z]+))?\b")

# Stances
_STANCE_VERB = re.compile(
    r" (?P<aux>(?:(?:has|have|had|also|strongly|repeatedly|again|publicly|swiftly|firmly|openly|sharply|"
    r"roundly|previously|long)\s+)*)(?P<verb>(?:is|are|was|were)\s+opposed\s+to|"
    + _alternation(sorted(_STANCE_VERBS))
    + r")\s+(?!by\b|to\b)"
)
_STANCE_AGAINST = frozenset(
    "condemned condemns denounced denounces criticised criticized criticises criticizes slammed slams "
    "deplored deplores decried decries rejected rejects opposes opposed".split()
)
_TARGET_STOP = re.compile(
    r"[,.;:!?“”\"()\[\]—–\n]|\s(?:and|but|as|after|for|over|because|while|saying|calling|which|who|whom|"
    r"whose|when|since|amid|despite|before|until|if)\b"
)
_PRONOUN_TARGETS = frozenset("it them this that him her these those us me you".split())


# ---------------------------------------------------------------------------------------------
# Working records
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Segment:
    """A stretch of directly quoted words inside one paragraph."""

    open: int  # offset of the opening mark
    close: int  # offset of the closing mark, or the paragraph end for a quote that runs on
    start: int  # first spoken character
    end: int  # one past the last spoken character
    closed: bool
    paragraph: int
    chain: int  # the parts of one quote running over paragraphs share a chain
    used: bool = False


@dataclass(slots=True)
class _Mention:
    """A capitalised name in the narrative, with titles and leading modifiers removed."""

    start: int  # where the mention starts, title included ("Mr Assad")
    end: int
    text: str  # the name without its title ("Assad")
    keys: tuple[str, ...]  # the name's words for matching, without al-/el- prefixes
    title: bool
    kind: str | None = None  # "person", "org" or "unknown", worked out when first needed


@dataclass(slots=True)
class _Speaker:
    """Who a quote is attributed to: the canonical name, the mention in the text and its kind."""

    name: str | None
    start: int | None
    end: int | None
    kind: str  # "person", "org", "group" or "unknown"
    named: bool = False


@dataclass(slots=True, frozen=True)
class _Cue:
    """A reporting word in the narrative and what kind of report it starts."""

    start: int
    end: int
    word: str  # as written; "according to" and "quoted as saying" for those phrases
    kind: str  # "verb", "according", "described" or "quoting" (attributes a quote, reports nothing)


@dataclass(slots=True)
class _QuoteDraft:
    """A quote found, before it becomes a `Quote`."""

    start: int
    end: int
    speaker: _Speaker | None
    cue: str | None
    quote_type: str
    paragraph: int
    chain: int | None = None


@dataclass(slots=True)
class _FigureDraft:
    """A figure found, before it becomes a `Figure`."""

    start: int
    end: int
    value: float
    unit: str | None
    qualifier: str
    subject: str | None
    participle: str | None  # the verb that made the subject ("killed"), for "including N" figures
    paragraph: int
    attributed_to: str | None = None


# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------


class RulesEngine:
    """Deterministic, offline proposals of quotes, figures and stances; see the module docstring."""

    name = "rules"
    model = None
    prompt = PROMPT

    def propose(self, text: str) -> list[Annotation]:
        """Every quote, figure and stance the rules find in `text`, sorted by (start, end, kind)."""
        if not text or not text.strip():
            return []
        return _Analysis(text).annotations()


class _Analysis:
    """One pass over one document; holds the views and indexes the rules share."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.paragraphs = _paragraphs(text)
        self.paragraph_starts = [start for start, _ in self.paragraphs]
        self.segments = self._scan_quotes()
        self.segment_opens = [seg.open for seg in self.segments]
        self.narrative = self._mask()
        # Capitalised runs are found in one pass and cleaned into mentions only when a rule asks:
        # most of them (sentence openers, places) are never looked at.
        self.name_spans = [match.span() for match in _NAME.finditer(self.narrative)]
        self.name_starts = [start for start, _ in self.name_spans]
        self.cleaned: dict[int, _Mention | None] = {}
        self.name_by_end: dict[int, int] | None = None
        self.full_names: dict[str, tuple[list[int], list[_Mention]]] = {}
        self.cues: list[_Cue] = []
        self.number_anchors: list[int] = []
        self.stance_anchors: list[int] = []
        self._find_anchors()
        self.cue_starts = [cue.start for cue in self.cues]
        self.speaker_log: list[tuple[int, _Speaker]] = []
        self.quotes: list[_QuoteDraft] = []

    def _find_anchors(self) -> None:
        """Where reporting words, number words and stance verbs stand, in one search."""
        text = self.text
        narrative = self.narrative
        lowered = text.lower()
        if len(lowered) == len(text):
            searched, anchor = lowered, _WORD_ANCHOR
        else:  # lower-casing changed some lengths ("İ"), so its offsets are not the text's
            searched, anchor = text, _word_anchor_any_case()
        for match in anchor.finditer(searched):
            position = match.start()
            word = match.group().lower()
            if word in _NUMBER_ANCHOR_WORDS:
                self.number_anchors.append(position)
            elif narrative[position] == _FILL:
                continue  # reporting words and stances inside quotes are the speaker's, not the story's
            elif word in _STANCE_VERBS:
                self.stance_anchors.append(position)
            else:
                cue = _cue_at(narrative, text[position : match.end()], position, len(text))
                if cue is not None:
                    self.cues.append(cue)

    # -- output ---------------------------------------------------------------------------------

    def annotations(self) -> list[Annotation]:
        """Run every rule and build the validated annotation models."""
        self._find_quotes()
        figures = self._find_figures()
        stances = self._find_stances()
        text = self.text
        seen: set[tuple[str, int, int]] = set()
        out: list[Annotation] = []
        for draft in self.quotes:
            key = ("quote", draft.start, draft.end)
            if key in seen or draft.end <= draft.start:
                continue
            seen.add(key)
            speaker = draft.speaker
            has_mention = speaker is not None and speaker.start is not None and speaker.end is not None
            out.append(
                Quote(
                    start=draft.start,
                    end=draft.end,
                    text=text[draft.start : draft.end],
                    speaker=speaker.name if speaker else None,
                    speaker_start=speaker.start if has_mention else None,
                    speaker_end=speaker.end if has_mention else None,
                    cue=draft.cue,
                    quote_type=draft.quote_type,
                    origin=_origin(),
                )
            )
        for figure in figures:
            key = ("figure", figure.start, figure.end)
            if key in seen:
                continue
            seen.add(key)
            out.append(
                Figure(
                    start=figure.start,
                    end=figure.end,
                    text=text[figure.start : figure.end],
                    value=figure.value,
                    unit=figure.unit,
                    qualifier=figure.qualifier,
                    subject=figure.subject,
                    attributed_to=figure.attributed_to,
                    origin=_origin(),
                )
            )
        for stance in stances:
            key = ("stance", stance.start, stance.end)
            if key not in seen:
                seen.add(key)
                out.append(stance)
        out.sort(key=lambda a: (a.start, a.end, a.kind))
        return out

    # -- quote marks ----------------------------------------------------------------------------

    def _scan_quotes(self) -> list[_Segment]:
        """Pair the quote marks of each paragraph into segments of quoted words."""
        text = self.text
        segments: list[_Segment] = []
        chain = 0
        carried: int | None = None  # chain of a quote left open at the end of the previous paragraph
        marks = [match.start() for match in _QUOTE_MARK.finditer(text)]
        next_mark = 0
        for index, (p_start, p_end) in enumerate(self.paragraphs):
            continuing, carried = carried, None
            while next_mark < len(marks) and marks[next_mark] < p_start:
                next_mark += 1
            if next_mark >= len(marks) or marks[next_mark] >= p_end:
                continue  # no quote marks in this paragraph
            first_content = p_start + (len(text[p_start:p_end]) - len(text[p_start:p_end].lstrip()))
            state: str | None = None
            open_at = -1
            opened: list[tuple[int, int, bool]] = []  # (open, close, closed)
            while next_mark < len(marks) and marks[next_mark] < p_end:
                pos = marks[next_mark]
                next_mark += 1
                mark = text[pos]
                if mark == "’" and state != "single":
                    continue  # an apostrophe ("Syria’s"), or a nested quote's mark inside a double quote
                before = text[pos - 1] if pos > p_start else " "
                after = text[pos + 1] if pos + 1 < p_end else " "
                if state is None:
                    if mark in "“„«" or (mark == '"' and _can_open(before, after)):
                        state, open_at = "double", pos
                    elif mark in "‘'" and _can_open(before, after) and _SINGLE_CLOSER.search(text, pos + 2, p_end):
                        state, open_at = "single", pos
                elif state == "double":
                    if mark in "”»" or (mark == '"' and _can_close(before, after)):
                        opened.append((open_at, pos, True))
                        state = None
                    elif mark in "“„«":
                        # A new quote opened before the last one closed: end the broken one here.
                        opened.append((open_at, pos, False))
                        open_at = pos
                elif mark in "’'" and _can_close(before, after) and not _possessive_plural(text, pos, p_end):
                    opened.append((open_at, pos, True))
                    state = None
            if state == "double":
                opened.append((open_at, p_end, False))
            for k, (open_pos, close_pos, closed) in enumerate(opened):
                start, end = _trim_quoted(text, open_pos + 1, close_pos)
                if k == 0 and continuing is not None and open_pos == first_content:
                    seg_chain = continuing
                else:
                    chain += 1
                    seg_chain = chain
                if not closed and close_pos == p_end:
                    carried = seg_chain
                if end > start:
                    segments.append(_Segment(open_pos, close_pos, start, end, closed, index, seg_chain))
            if carried is not None:
                # The open quote carries on only if the next paragraph re-opens it.
                nxt = index + 1
                if nxt < len(self.paragraphs):
                    n_start, n_end = self.paragraphs[nxt]
                    first = text[n_start:n_end].lstrip()[:1]
                    if first not in ("“", '"', "„", "«"):
                        carried = None
        return segments

    def _mask(self) -> str:
        """The document with quoted words blanked out: what the narrator says, at the same offsets."""
        text = self.text
        pieces: list[str] = []
        last = 0
        for seg in self.segments:
            begin = seg.open + 1
            stop = seg.close
            # Keep the quote's own closing punctuation: it tells whether attribution follows.
            keep = stop
            while keep > begin and text[keep - 1] in ",.?!":
                keep -= 1
            if begin < last:
                continue
            pieces.append(text[last:begin])
            pieces.append(_FILL * (keep - begin))
            pieces.append(text[keep:stop])
            last = stop
        pieces.append(text[last:])
        return "".join(pieces)

    # -- names ----------------------------------------------------------------------------------

    def _mention(self, index: int) -> _Mention | None:
        """The cleaned mention of the index-th capitalised run, or None if it names nothing."""
        try:
            return self.cleaned[index]
        except KeyError:
            pass
        narrative = self.narrative
        start, end = self.name_spans[index]
        before = narrative[start - 1] if start else " "
        mention: _Mention | None = None
        if before.isalnum() or before in "’'":
            pass  # a capital inside a word ("iPhone", "Hay’Et")
        else:
            if before in "- ":
                particle = narrative[max(0, start - 5) : start - 1].rpartition(" ")[2]
                particle_start = start - len(particle) - 1
                if particle in PARTICLES and not narrative[particle_start - 1 : particle_start].isalnum():
                    start -= len(particle) + 1  # "al-Jabha", "al Qaida"
                elif before == "-":
                    start = -1  # "pro-Assad", "Turkey-Syria": part of a compound word
                elif narrative[start - 2 : start - 1] == ".":
                    title = narrative[max(0, start - 7) : start - 2].rpartition(" ")[2]
                    if title in _DOTTED_TITLES:
                        start -= len(title) + 2  # "Dr. Jane Smith"
            if start >= 0:
                raw = narrative[start:end]
                if " " not in raw and "-" not in raw:
                    # One plain word, the commonest case: no clean-up needed.
                    if raw not in CAPITAL_STOPWORDS and raw not in DAYS_MONTHS and raw not in TITLES:
                        mention = _Mention(start, end, raw, (raw,), False)
                else:
                    mention = _clean_mention(narrative, start, end)
        self.cleaned[index] = mention
        return mention

    def _mention_at(self, offset: int) -> _Mention | None:
        """The mention whose capitalised run covers `offset`."""
        index = bisect_right(self.name_starts, offset) - 1
        if index < 0 or self.name_spans[index][1] <= offset:
            return None
        return self._mention(index)

    def _mention_ending_at(self, end: int) -> _Mention | None:
        """The mention that ends exactly at `end`."""
        if self.name_by_end is None:
            self.name_by_end = {span_end: index for index, (_, span_end) in enumerate(self.name_spans)}
        index = self.name_by_end.get(end)
        return self._mention(index) if index is not None else None

    def _mentions_in(self, start: int, end: int) -> list[_Mention]:
        """The mentions lying wholly inside [start, end)."""
        # A run may begin a word or two before its mention ("But Ahmed Sheikho"): start a little early.
        index = bisect_left(self.name_starts, start - 12)
        found = []
        while index < len(self.name_spans):
            span_start, span_end = self.name_spans[index]
            if span_start >= end:
                break
            if span_end <= end:
                mention = self._mention(index)
                if mention is not None and mention.start >= start:
                    found.append(mention)
            index += 1
        return found

    def _mention_kind(self, mention: _Mention, look_up_full_name: bool = True) -> str:
        """person, org or unknown, from the title, the words around it and the name itself.

        A one-word name of unknown kind takes the kind of the full name it stands for; scans over
        many names (pronoun resolution) skip that look-up to stay cheap.
        """
        if mention.kind is not None:
            return mention.kind
        narrative = self.narrative
        if mention.title:
            kind = "person"
        elif any(key in _ORG_KEYWORDS for key in mention.keys) or (
            len(mention.text) >= 2
            and mention.text.isupper()
            and len(mention.keys) == 1
            and mention.text not in _COUNTRY_ACRONYMS
        ):
            kind = "org"
        else:
            before = narrative[max(0, mention.start - 30) : mention.start].split()
            previous = before[-1].lower() if before else ""
            if before and (previous in _ROLE_WORDS or _is_role(before[-1])) and len(mention.keys) >= 2:
                kind = "person"  # "activist Ahmed Husseinat", but not "chief UK economist"
            elif previous in _ORG_NOUNS and not previous.endswith("s"):
                kind = "org"  # "trade body UK Finance"
            else:
                kind = _appositive_kind(narrative, mention.end)
        if kind == "unknown" and len(mention.keys) == 1:
            if not look_up_full_name:
                return kind
            full = self._full_name(mention)
            if full is not None:
                kind = self._mention_kind(full, look_up_full_name=False)
        mention.kind = kind
        return kind

    def _full_name(self, mention: _Mention) -> _Mention | None:
        """The longer name a one-word mention stands for: nearest earlier, else later in its paragraph."""
        if len(mention.keys) != 1:
            return None
        starts, names = self._full_names_with(mention.keys[0])
        index = bisect_left(starts, mention.start)
        if index > 0:
            return names[index - 1]
        if index < len(starts) and starts[index] < self._paragraph_end(mention.start):
            return names[index]
        return None

    def _full_names_with(self, key: str) -> tuple[list[int], list[_Mention]]:
        """Every name of two or more words containing the word `key`, in order; found once per word."""
        cached = self.full_names.get(key)
        if cached is not None:
            return cached
        narrative = self.narrative
        starts: list[int] = []
        names: list[_Mention] = []
        position = narrative.find(key)
        while position >= 0:
            candidate = self._mention_at(position)
            if candidate is not None and len(candidate.keys) >= 2 and key in candidate.keys:
                if not starts or starts[-1] != candidate.start:
                    starts.append(candidate.start)
                    names.append(candidate)
            position = narrative.find(key, position + len(key))
        self.full_names[key] = (starts, names)
        return starts, names

    def _paragraph_end(self, offset: int) -> int:
        """The end of the paragraph holding `offset`."""
        index = bisect_right(self.paragraph_starts, offset) - 1
        return self.paragraphs[index][1] if index >= 0 else len(self.text)

    def _canonical(self, mention: _Mention) -> str:
        """The full name a mention refers to: "Mr Assad" → "Bashar Assad"."""
        full = self._full_name(mention)
        return full.text if full is not None else mention.text

    # -- speakers -------------------------------------------------------------------------------

    def _speaker_from_region(self, start: int, end: int, subject_first: bool) -> _Speaker | None:
        """The speaker named by the phrase in [start, end): a subject with optional appositives.

        With `subject_first` the first comma-separated piece is the subject and the rest are
        appositives ("Suleiman Abdulqader, a local activist, told"); otherwise the region is a single
        noun phrase that may still carry appositives after it.
        """
        # A colon, semicolon or dash ends a clause: the subject starts after the last one.
        boundary = _CLAUSE_BREAK.search(self.narrative, start, end)
        while boundary is not None:
            start = boundary.end()
            boundary = _CLAUSE_BREAK.search(self.narrative, start, end)
        pieces = self._pieces(start, end)
        if not pieces:
            return None
        while len(pieces) > 1 and _first_word(self.narrative, pieces[0]).lower() in _ADVERBIAL_OPENERS:
            pieces.pop(0)
        if not subject_first:
            pieces = pieces[-1:]
        head, appositives = pieces[0], pieces[1:]
        speaker = self._speaker_from_phrase(head[0], head[1], appositives)
        if (speaker is None or not speaker.named) and appositives:
            for piece in appositives:
                named = self._leading_name(piece)
                if named is not None:
                    return self._named_speaker(named, appositives)
        return speaker

    def _speaker_from_phrase(
        self, start: int, end: int, appositives: Sequence[tuple[int, int]] = ()
    ) -> _Speaker | None:
        """The speaker named by one noun phrase."""
        narrative = self.narrative
        start, end = _strip_span(narrative, start, end, " \t,;:")
        # Drop "But", "And" and the like in front of the subject.
        while True:
            word = _WORD.match(narrative, start, end)
            if word is None or word.group().lower() not in _LEADING_DISCOURSE or word.end() >= end:
                break
            start, end = _strip_span(narrative, word.end(), end, " \t,")
        if end <= start:
            return None
        phrase = narrative[start:end]
        lowered = phrase.lower()
        if lowered in _PRONOUNS:
            return self._resolve_pronoun(start, end, _PRONOUNS[lowered])
        if _QUOTE_OR_FILL.search(phrase):
            return None
        possessive = _POSSESSIVE_SOURCE.fullmatch(phrase) if "’" in phrase or "'" in phrase else None
        if possessive is not None:
            return self._speaker_from_phrase(start + possessive.start("x"), start + possessive.end("x"), appositives)
        source = _SOURCE_OF.match(phrase)
        if source is not None:
            inner = self._speaker_from_phrase(start + source.start("x"), start + source.end("x"), appositives)
            if inner is not None:
                return inner
        cut = _RELATIVE_CUT.search(phrase)
        head_end = start + cut.start() if cut else end
        if head_end <= start:
            return None
        mentions = self._mentions_in(start, head_end)
        if mentions:
            last = mentions[-1]
            tail = narrative[last.end : head_end]
            if _TRAILING_ORG_NOUN.fullmatch(tail):
                words_before = narrative[start : last.start].split()
                previous = words_before[-1] if words_before else ""
                if (
                    not previous
                    or not previous[0].islower()
                    or previous.lower() in _ROLE_WORDS
                    or _is_role(previous)
                    or previous.lower() in _ORG_NOUNS
                    or previous.lower() in _DETERMINERS
                ):
                    if len(words_before) <= 4:
                        return self._named_speaker(last, appositives)
        return self._generic_speaker(start, head_end, end)

    def _generic_speaker(self, start: int, head_end: int, end: int) -> _Speaker | None:
        """A source without a name ("opposition activists", "Syrian state TV", "the group")."""
        narrative = self.narrative
        words = narrative[start:head_end].split()
        if not words or len(words) > 8:
            return None
        if any(w.lower() in _AUXILIARIES for w in words) or any(_FILL in w for w in words):
            return None
        if words[-1].lower() in _FUNCTION_WORDS or not words[-1][:1].isalpha():
            return None
        lowered = [w.lower() for w in words]
        if lowered[0] == "the" and len(words) == 2 and lowered[1] in _DEFINITE_ORG_NOUNS:
            # "the group (that tracks Syria’s war)": the nearest organisation named before.
            resolved = self._resolve_pronoun(start, end, "org")
            if resolved.name is not None:
                return _Speaker(resolved.name, start, end, "org", named=True)
        first = start
        if lowered[0] in _DETERMINERS and len(words) > 1:
            first = start + narrative[start:head_end].index(words[1], len(words[0]))
        name = self._sentence_case(narrative[first:head_end].strip(), first)
        head = words[-1].lower()
        if _is_role(words[-1]):
            kind = "person"
        elif head in _ORG_NOUNS and not head.endswith("s"):
            kind = "org"
        elif head.endswith("s") and not head.endswith("ss"):
            kind = "group"
        else:
            kind = "unknown"
        return _Speaker(name, first, first + len(name), kind)

    def _sentence_case(self, name: str, start: int) -> str:
        """A source without a name, written as mid-sentence: `Opposition activists` opening a
        sentence is `opposition activists` when the document writes that word in lower case too
        (a demonym such as `Syrian` never is, so it keeps its capital)."""
        word = name.split()[0]
        if not (word[:1].isupper() and word[1:].islower()):
            return name
        before = self.text[:start].rstrip(" \t")
        if before and before[-1] not in "\n.!?":
            return name
        if re.search(rf"(?<![\w-]){re.escape(word.lower())}(?![\w-])", self.text) is None:
            return name
        return word.lower() + name[len(word):]

    def _leading_name(self, piece: tuple[int, int]) -> _Mention | None:
        """The name an appositive starts with ("Hay’et Tahrir al-Sham (HTS) group")."""
        start, end = _strip_span(self.narrative, piece[0], piece[1], " \t")
        word = _WORD.match(self.narrative, start, end)
        if word is not None and word.group().lower() == "the":
            start = word.end() + 1
        for mention in self._mentions_in(start, end):
            if mention.start <= start + 1 and len(mention.keys) >= 2:
                return mention
            break
        return None

    def _named_speaker(self, mention: _Mention, appositives: Sequence[tuple[int, int]]) -> _Speaker:
        """The speaker a name gives, its kind taken from the name or else its appositives."""
        kind = self._mention_kind(mention)
        if kind == "unknown":
            for piece in appositives:
                kind = _phrase_kind(self.narrative[piece[0] : piece[1]])
                if kind != "unknown":
                    break
        return _Speaker(self._canonical(mention), mention.start, mention.end, kind, named=True)

    def _resolve_pronoun(self, start: int, end: int, wanted: str) -> _Speaker:
        """The nearest earlier speaker or name of the wanted kind; the mention stays the pronoun.

        "they" looks only at plural speakers ("activists", "officials") of this or the previous
        paragraph: the groups it stands for are seldom names, and a far one is a poor guess.
        """
        accept = {"person": ("person",), "org": ("org",), "group": ("group",)}[wanted]
        log_index = len(self.speaker_log) - 1
        while log_index >= 0 and self.speaker_log[log_index][0] >= start:
            log_index -= 1
        mention_index = bisect_left(self.name_starts, start) - 1
        floor = -1
        if wanted == "group":
            mention_index = -1
            paragraph = bisect_right(self.paragraph_starts, start) - 1
            floor = self.paragraph_starts[max(0, paragraph - 1)] if paragraph >= 0 else 0
        steps = 0
        while (log_index >= 0 or mention_index >= 0) and steps < 400:
            steps += 1
            log_pos = self.speaker_log[log_index][0] if log_index >= 0 else -1
            mention_pos = self.name_spans[mention_index][0] if mention_index >= 0 else -1
            if max(log_pos, mention_pos) < floor:
                break
            if log_pos >= mention_pos:
                speaker = self.speaker_log[log_index][1]
                log_index -= 1
                if speaker.kind in accept and speaker.name:
                    return _Speaker(speaker.name, start, end, speaker.kind, named=True)
            else:
                mention = self._mention(mention_index)
                mention_index -= 1
                if mention is not None:
                    kind = self._mention_kind(mention, look_up_full_name=False)
                    if kind in accept:
                        return _Speaker(self._canonical(mention), start, end, kind, named=True)
        return _Speaker(None, start, end, wanted)

    def _pieces(self, start: int, end: int) -> list[tuple[int, int]]:
        """Comma-separated pieces of [start, end), not splitting inside brackets or quotes."""
        narrative = self.narrative
        if "," not in narrative[start:end]:
            only = _strip_span(narrative, start, end, " \t")
            return [only] if only[1] > only[0] else []
        pieces: list[tuple[int, int]] = []
        depth = 0
        piece_start = start
        for match in _BRACKET_OR_COMMA.finditer(narrative, start, end):
            char = match.group()
            index = match.start()
            if char == "(":
                depth += 1
            elif char == ")":
                depth = max(0, depth - 1)
            elif depth == 0 and (index + 1 >= end or narrative[index + 1] not in "”’\""):
                pieces.append((piece_start, index))
                piece_start = index + 1
        pieces.append((piece_start, end))
        cleaned = []
        for piece in pieces:
            s, e = _strip_span(narrative, piece[0], piece[1], " \t")
            if e > s:
                cleaned.append((s, e))
        return cleaned

    # -- quotes ---------------------------------------------------------------------------------

    def _find_quotes(self) -> None:
        """Direct, indirect and mixed quotes, sentence by sentence in document order."""
        segments = self.segments
        seg_index = 0
        chains: dict[int, list[_Segment]] = {}
        for seg in segments:
            chains.setdefault(seg.chain, []).append(seg)
        deferred: list[_Segment] = []
        cue_starts = self.cue_starts
        for p_index, (p_start, p_end) in enumerate(self.paragraphs):
            has_segment = seg_index < len(segments) and segments[seg_index].open < p_end
            cue_index = bisect_left(cue_starts, p_start)
            if not has_segment and (cue_index >= len(cue_starts) or cue_starts[cue_index] >= p_end):
                continue  # nothing quoted and nothing reported: no need to split the sentences
            for s_start, s_end in self._sentences(p_start, p_end):
                sentence_segments = []
                while seg_index < len(segments) and segments[seg_index].open < s_end:
                    if segments[seg_index].open >= s_start:
                        sentence_segments.append(segments[seg_index])
                    seg_index += 1
                attributed = self._direct_quotes(s_start, s_end, sentence_segments, p_index)
                if not attributed:
                    self._indirect_quotes(s_start, s_end, p_index)
                for seg in sentence_segments:
                    if seg.used:
                        continue
                    if len(chains[seg.chain]) > 1:
                        deferred.append(seg)
                    else:
                        self._unattributed(seg, p_index)
        # A quote running over paragraphs takes the attribution any of its parts found.
        attributed_chains: dict[int, _QuoteDraft] = {}
        for quote in self.quotes:
            if quote.chain is not None and quote.speaker is not None:
                attributed_chains.setdefault(quote.chain, quote)
        for seg in deferred:
            chain = chains[seg.chain]
            source = attributed_chains.get(seg.chain)
            if source is not None:
                self._add_quote(
                    seg.start, seg.end, source.speaker, source.cue, "direct", seg.paragraph, seg.chain, log=False
                )
            elif seg is chain[0] or all(not s.used for s in chain):
                self._unattributed(seg, seg.paragraph)

    def _sentences(self, p_start: int, p_end: int) -> list[tuple[int, int]]:
        """Sentence spans of one paragraph, split in the narrative so quotes never split."""
        narrative = self.narrative
        sentences = []
        start = p_start
        for match in _SENTENCE_END.finditer(narrative, p_start, p_end):
            if narrative[match.start()] == ".":
                word = _LAST_WORD.search(narrative, max(p_start, match.start() - 12), match.start())
                if word is not None:
                    token = word.group(1)
                    if token.lower() in _ABBREVIATIONS or "." in token or (len(token) == 1 and token.isupper()):
                        continue
            sentences.append((start, match.end()))
            start = match.end()
            while start < p_end and narrative[start].isspace():
                start += 1
        if start < p_end:
            sentences.append((start, p_end))
        return sentences

    def _direct_quotes(self, s_start: int, s_end: int, segs: list[_Segment], p_index: int) -> bool:
        """Attribute the quotes of one sentence from the words right after or before them."""
        if not segs:
            return False
        text = self.text
        narrative = self.narrative
        attributed = False
        last_attribution_end = None
        for k, seg in enumerate(segs):
            region_end = segs[k + 1].open if k + 1 < len(segs) else s_end
            attribution = None
            soft_end = False
            if seg.closed:
                last_char = text[seg.close - 1] if seg.close > seg.open + 1 else ""
                soft_end = last_char in ",?!—–-"
                next_text = narrative[seg.close + 1 : region_end].lstrip()
                if soft_end or (next_text[:1].islower()):
                    attribution = self._attribution_after(seg.close + 1, region_end)
            if attribution is None:
                boundary = segs[k - 1].close + 1 if k else s_start
                attribution = self._attribution_before(boundary, seg.open, seg)
            if attribution is None:
                continue
            speaker, cue, attribution_end = attribution
            seg.used = True
            attributed = True
            self._add_quote(seg.start, seg.end, speaker, cue, "direct", p_index, seg.chain)
            last_attribution_end = max(last_attribution_end or 0, attribution_end)
        if attributed and last_attribution_end is not None:
            self._adding(last_attribution_end, self._body_end(s_start, s_end), self.quotes[-1].speaker, p_index)
        return attributed

    def _attribution_after(self, start: int, end: int) -> tuple[_Speaker, str, int] | None:
        """`“…,” X said` / `“…,” said X` / `“…,” according to X` right after a quote."""
        narrative = self.narrative
        index = bisect_left(self.cue_starts, start)
        if index >= len(self.cues) or self.cues[index].start >= end:
            return None
        cue = self.cues[index]
        lead = narrative[start : cue.start]
        if cue.kind == "described":
            return None
        if not lead.strip(" \t,"):
            # "“…,” said Mr Assad" and "“…,” according to the ministry": the speaker follows the cue.
            stop = _PHRASE_END.search(narrative, cue.end, end)
            np_end = stop.start() if stop else end
            if len(narrative[cue.end : np_end].split()) > 8:
                return None
            speaker = self._speaker_from_phrase(cue.end, np_end)
            if speaker is None or (cue.kind != "according" and not speaker.named):
                return None
            return speaker, cue.word, np_end
        if cue.kind == "according" or len(lead) > 160 or lead.count(",") > 3:
            return None
        if _FILL in lead or any(mark in lead for mark in "“”\"‘!?;:"):
            return None
        subject_end = _strip_auxiliaries(narrative, start, cue.start)
        speaker = self._speaker_from_region(start, subject_end, subject_first=True)
        if speaker is None:
            return None
        cue_text, cue_end = cue.word, cue.end
        extension = _STATEMENT_EXTENSION.match(narrative, cue_end, end)
        if extension is not None and cue_text == "said":
            cue_text = f"said {' '.join(extension.group().split())}"
            cue_end = extension.end()
        return speaker, cue_text, cue_end

    def _attribution_before(self, boundary: int, open_at: int, seg: _Segment) -> tuple[_Speaker, str, int] | None:
        """`X said: “…”` / `X told Y, “…”` right before a quote."""
        narrative = self.narrative
        index = bisect_left(self.cue_starts, open_at) - 1
        if index < 0:
            return None
        cue = self.cues[index]
        if cue.start < boundary or cue.kind not in ("verb", "quoting"):
            return None
        tail = _BEFORE_TAIL.fullmatch(narrative, cue.end, open_at)
        if tail is None:
            return None
        ext = tail.group("ext")
        if _THAT_WORD.search(ext):
            return None  # "said that “…”": a partial quote inside reported speech
        spoken = self.text[seg.start : seg.start + 1]
        if tail.group("punct") is None and (ext.strip() or not spoken.isupper()):
            return None
        subject_end = _strip_auxiliaries(narrative, boundary, cue.start)
        if subject_end <= boundary:
            return None
        speaker = self._speaker_from_region(boundary, subject_end, subject_first=False)
        if speaker is None:
            return None
        cue_text = cue.word
        extension = _STATEMENT_EXTENSION.match(narrative, cue.end, open_at)
        if extension is not None and cue_text == "said":
            cue_text = f"said {' '.join(extension.group().split())}"
        return speaker, cue_text, open_at

    def _unattributed(self, seg: _Segment, p_index: int) -> None:
        """A quote with no attribution of its own: continue the previous speaker, or stand alone."""
        if p_index > 0 and seg.open == self._first_content(p_index):
            # "The minister said:" closing one paragraph and the quote opening the next.
            prev_start, prev_end = self.paragraphs[p_index - 1]
            if self.narrative[prev_start:prev_end].rstrip().endswith(":"):
                last_sentence = self._sentences(prev_start, prev_end)[-1][0]
                attribution = self._attribution_before(last_sentence, seg.open, seg)
                if attribution is not None:
                    speaker, cue, _ = attribution
                    self._add_quote(seg.start, seg.end, speaker, cue, "direct", p_index, seg.chain)
                    seg.used = True
                    return
        previous = self.quotes[-1] if self.quotes else None
        if previous is not None and previous.speaker is not None and previous.speaker.name is not None:
            same_paragraph = previous.paragraph == p_index
            previous_paragraph = (
                previous.paragraph == p_index - 1 and previous.quote_type == "direct" and self._pure_quote(p_index)
            )
            if same_paragraph or previous_paragraph:
                self._add_quote(
                    seg.start, seg.end, previous.speaker, previous.cue, "direct", p_index, seg.chain, log=False
                )
                seg.used = True
                return
        if len(self.text[seg.start : seg.end].split()) >= 4:
            self._add_quote(seg.start, seg.end, None, None, "direct", p_index, seg.chain)
            seg.used = True

    def _first_content(self, p_index: int) -> int:
        """The offset of the first non-space character of a paragraph."""
        p_start, p_end = self.paragraphs[p_index]
        line = self.text[p_start:p_end]
        return p_start + len(line) - len(line.lstrip())

    def _pure_quote(self, p_index: int) -> bool:
        """Whether a paragraph holds nothing but quoted words."""
        p_start, p_end = self.paragraphs[p_index]
        rest = self.narrative[p_start:p_end]
        return not any(char.isalnum() for char in rest)

    def _add_quote(
        self,
        start: int,
        end: int,
        speaker: _Speaker | None,
        cue: str | None,
        quote_type: str,
        p_index: int,
        chain: int | None = None,
        log: bool = True,
    ) -> None:
        """Record a quote; `log` adds its speaker to those pronouns may refer to."""
        start, end = _strip_span(self.text, start, end, " \t")
        if end <= start:
            return
        self.quotes.append(_QuoteDraft(start, end, speaker, cue, quote_type, p_index, chain))
        if log and speaker is not None and speaker.name is not None:
            position = speaker.start if speaker.start is not None else start
            self.speaker_log.append((position, speaker))

    def _body_end(self, s_start: int, s_end: int) -> int:
        """The sentence end without its closing full stop and trailing spaces."""
        narrative = self.narrative
        end = s_end
        while end > s_start and narrative[end - 1].isspace():
            end -= 1
        while end > s_start and narrative[end - 1] in ".!?;:":
            end -= 1
        return end

    def _indirect_quotes(self, s_start: int, s_end: int, p_index: int) -> None:
        """The first reporting clause of a sentence, and the clauses coordinated with it."""
        index = bisect_left(self.cue_starts, s_start)
        if index >= len(self.cues) or self.cues[index].start >= s_end:
            return
        body_end = self._body_end(s_start, s_end)
        while index < len(self.cues) and self.cues[index].start < body_end:
            cue = self.cues[index]
            index += 1
            if cue.kind != "quoting" and cue.end <= body_end and self._report(s_start, body_end, cue, p_index):
                return

    def _report(self, s_start: int, body_end: int, cue: _Cue, p_index: int) -> bool:
        """Build the indirect (or mixed) quote around one cue; False when the cue does not hold."""
        narrative = self.narrative
        cue_start, cue_end = cue.start, cue.end
        if cue.kind == "according":
            return self._according_to(s_start, body_end, cue, p_index)
        previous = narrative[max(s_start, cue_start - 20) : cue_start].split()
        if previous and previous[-1].lower() in _CUE_BLOCKERS:
            return False
        if previous and previous[-1].lower() in ("and", "or", "but"):
            # "X attacked Y and said Z": the subject is out of reach of these rules.
            return False
        subject_end = _strip_auxiliaries(narrative, s_start, cue_start)
        cue_text = cue.word
        position = cue_end
        for _ in range(3):
            extension = _STATEMENT_EXTENSION.match(narrative, position, body_end)
            if extension is not None:
                if cue_text == "said":
                    cue_text = f"said {' '.join(extension.group().split())}"
                position = extension.end()
                continue
            adjunct = _TIME_ADJUNCT.match(narrative, position, body_end)
            if adjunct is not None:
                position = adjunct.end()
                continue
            break
        if cue.kind == "described":
            if _AS.search(narrative, position, body_end) is None:
                return False
            cue_text = "described ... as"
        elif cue.word in ("told", "tells"):
            position = self._audience_end(position, body_end)
        rest = narrative[position:body_end]
        stripped = rest.lstrip()
        left_text = narrative[s_start:subject_end].rstrip()
        if not stripped or stripped.startswith(","):
            return self._report_after_content(s_start, subject_end, cue_text, position, body_end, p_index)
        if left_text.endswith(",") and cue.kind != "described":
            inverted_end = _next_comma(narrative, position, body_end)
            speaker = self._speaker_from_phrase(position, inverted_end)
            if speaker is not None and speaker.named and len(narrative[position:inverted_end].split()) <= 6:
                content = _strip_span(narrative, s_start, len(left_text) + s_start - 1, " \t,")
                return self._emit_report(content, speaker, cue_text, p_index)
        if stripped.startswith(":"):
            position = position + rest.index(":") + 1
        elif cue.word in _CLAUSE_ONLY_CUES and not _THAT_AHEAD.match(narrative, position, body_end):
            return False  # "the army added 500 troops": not speech without "that"
        speaker = self._speaker_from_region(s_start, subject_end, subject_first=left_text.endswith(","))
        if speaker is None:
            return False
        head_words = narrative[s_start:subject_end].split(",")[0].split()
        if len(head_words) > 14:
            return False
        that = _THAT.match(narrative, position, body_end)
        content_start = that.end() if that is not None else position
        return self._content_after(content_start, body_end, speaker, cue_text, p_index)

    def _content_after(
        self, content_start: int, body_end: int, speaker: _Speaker, cue_text: str, p_index: int
    ) -> bool:
        """`X said (that) CONTENT`: the content runs to the sentence end or the next reporting verb."""
        narrative = self.narrative
        content_end = body_end
        coordinated = _COORDINATED_CUE.search(narrative, content_start, body_end)
        if coordinated is not None:
            content_end = coordinated.start()
        cut = _CONTENT_CUT.search(narrative, content_start, content_end)
        if cut is not None:
            content_end = cut.start()
        if not self._emit_report((content_start, content_end), speaker, cue_text, p_index):
            return False
        if coordinated is not None:
            verb = _CUE.match(narrative, coordinated.end(), body_end)
            second = _cue_at(narrative, verb.group(), verb.start(), body_end) if verb else None
            if second is not None:
                self._second_report(second, body_end, speaker, p_index)
        return True

    def _second_report(self, cue: _Cue, body_end: int, speaker: _Speaker, p_index: int) -> None:
        """A reporting verb sharing the subject of the one before (`… and said that …`)."""
        narrative = self.narrative
        cue_text = cue.word
        position = cue.end
        extension = _STATEMENT_EXTENSION.match(narrative, position, body_end)
        if extension is not None:
            position = extension.end()
        adjunct = _TIME_ADJUNCT.match(narrative, position, body_end)
        if adjunct is not None:
            position = adjunct.end()
        if cue.kind == "described":
            if _AS.search(narrative, position, body_end) is None:
                return
            cue_text = "described ... as"
        elif cue.word in ("told", "tells"):
            position = self._audience_end(position, body_end)
        that = _THAT.match(narrative, position, body_end)
        self._content_after(that.end() if that else position, body_end, speaker, cue_text, p_index)

    def _report_after_content(
        self, s_start: int, subject_end: int, cue_text: str, after_cue: int, body_end: int, p_index: int
    ) -> bool:
        """`CONTENT, X said.`: the speaker is the last piece before the cue, the content the rest."""
        narrative = self.narrative
        pieces = self._pieces(s_start, subject_end)
        if len(pieces) < 2:
            return False
        if narrative[s_start:subject_end].rstrip().endswith(","):
            # "CONTENT, NAME, APPOSITIVE, said": step back over the appositives.
            j = len(pieces) - 1
            while j > 1 and _looks_appositive(narrative, pieces[j]):
                j -= 1
            speaker_pieces = pieces[j:]
        else:
            speaker_pieces = pieces[-1:]
        first = speaker_pieces[0]
        if len(narrative[first[0] : first[1]].split()) > 8:
            return False
        speaker = self._speaker_from_phrase(first[0], first[1], speaker_pieces[1:])
        if speaker is None:
            return False
        content = (s_start, _strip_span(narrative, s_start, first[0], " \t,")[1])
        if not self._emit_report(content, speaker, cue_text, p_index):
            return False
        self._adding(after_cue, body_end, speaker, p_index)
        return True

    def _according_to(self, s_start: int, body_end: int, cue: _Cue, p_index: int) -> bool:
        """`According to X, CONTENT` and `CONTENT, according to X[, …]`."""
        narrative = self.narrative
        np_start = cue.end
        np_end = _next_comma(narrative, np_start, body_end)
        speaker = self._speaker_from_phrase(np_start, np_end)
        if speaker is None:
            return False
        left = narrative[s_start : cue.start].strip(" \t,")
        if not left or left.lower() in _LEADING_DISCOURSE:
            content = (np_end + 1, body_end)
        else:
            content = (s_start, _strip_span(narrative, s_start, cue.start, " \t,")[1])
        return self._emit_report(content, speaker, "according to", p_index)

    def _adding(self, start: int, body_end: int, speaker: _Speaker | None, p_index: int) -> None:
        """`…, X said, adding that CONTENT`."""
        if speaker is None:
            return
        adding = _ADDING.match(self.narrative, start, body_end)
        if adding is not None:
            self._emit_report((adding.end(), body_end), speaker, "adding", p_index)

    def _emit_report(self, content: tuple[int, int], speaker: _Speaker, cue_text: str, p_index: int) -> bool:
        """Record an indirect or mixed quote whose content is `content`; False if it is too thin."""
        narrative = self.narrative
        start, end = _strip_span(narrative, content[0], content[1], " \t,;:")
        if start == self._first_content(p_index):
            dateline = _DATELINE.match(narrative, start, end)
            if dateline is not None:
                start = dateline.end()  # "KYIV, Ukraine (AP) — ": where the story was filed, not what was said
        if end <= start or len(self.text[start:end].split()) < 3 and _FILL not in narrative[start:end]:
            return False
        inner = [seg for seg in self._segments_in(start, end) if not seg.used]
        if inner and len(inner) == 1 and inner[0].open == start and inner[0].close + 1 >= end:
            # The whole content is a quotation: a direct quote after all.
            inner[0].used = True
            self._add_quote(inner[0].start, inner[0].end, speaker, cue_text, "direct", p_index, inner[0].chain)
            return True
        for seg in inner:
            seg.used = True
        self._add_quote(start, end, speaker, cue_text, "mixed" if inner else "indirect", p_index)
        return True

    def _segments_in(self, start: int, end: int) -> list[_Segment]:
        """The quote segments opening inside [start, end)."""
        index = bisect_left(self.segment_opens, start)
        found = []
        while index < len(self.segments) and self.segments[index].open < end:
            found.append(self.segments[index])
            index += 1
        return found

    def _audience_end(self, position: int, body_end: int) -> int:
        """Skip who was told: `told Al Jazeera`, `told reporters`, `told the state news agency`."""
        narrative = self.narrative
        start = position
        while start < body_end and narrative[start].isspace():
            start += 1
        word = _WORD.match(narrative, start, body_end)
        probe = word.end() + 1 if word is not None and word.group() == "the" else start
        mention = self._mention_at(probe)
        if mention is not None and mention.start <= probe and mention.end <= body_end:
            return mention.end
        audience = _AUDIENCE_WORD.match(narrative, position, body_end)
        if audience is not None:
            return audience.end()
        return position

    # -- figures --------------------------------------------------------------------------------

    def _find_figures(self) -> list[_FigureDraft]:
        """Numbers reported as fact, with value, qualifier, unit, subject and source."""
        text = self.text
        drafts: list[_FigureDraft] = []
        consumed_until = -1
        # Numbers may start at a number word or a digit; the full pattern runs only there.
        anchors = sorted({*self.number_anchors, *(m.start() for m in _DIGIT_RUN.finditer(text))})
        for anchor in anchors:
            if anchor < consumed_until:
                continue
            before = text[max(0, anchor - 4) : anchor]
            prefix = (_CURRENCY_BEFORE if text[anchor].isdigit() else _ARTICLE_BEFORE).search(before)
            starts = [anchor - (len(before) - prefix.start()), anchor] if prefix else [anchor]
            p_index = bisect_right(self.paragraph_starts, anchor) - 1
            for start in starts:
                draft = None
                fraction = _FRACTION_OF.match(text, start)
                if fraction is not None:
                    draft = self._fraction_figure(fraction, p_index, drafts)
                else:
                    quantity = _QUANTITY.match(text, start)
                    if quantity is not None and quantity.end() > anchor:
                        draft = self._quantity_figure(quantity, p_index, drafts)
                if draft is not None:
                    drafts.append(draft)
                    consumed_until = draft.end
                    break
        self._attribute_figures(drafts)
        return drafts

    def _quantity_figure(
        self, match: re.Match[str], p_index: int, drafts: list[_FigureDraft]
    ) -> _FigureDraft | None:
        """A figure from a number match, or None where the number is not a reported count."""
        text = self.text
        start, end = match.span()
        value = _quantity_value(match)
        if value is None:
            return None
        currency = match.group("cur") or match.group("cur2")
        percent = match.group("pct") is not None
        vague = match.group("vague") or match.group("several")
        words = match.group("words")
        digits = match.group("digits")
        if words is not None and words.lower() in ("one", "a", "an"):
            return None  # "one of its posts", "one that Ankara wants"
        if _HYPHEN_UNIT.match(text, end):
            return None  # "30-day truce", "five-year-old"
        p_start = self.paragraphs[p_index][0] if p_index >= 0 else 0
        # Up to eight words before the number: the qualifier, and before it the words that say what
        # is counted ("killed", "is home to", "inflation fell to").
        before = _words_before(text, p_start, start, count=8)
        if digits and not currency and not percent and not match.group("dscale"):
            if _not_a_count(text, start, end, digits, before):
                return None
        qualifier = "at least" if vague else "exact"
        span_start = start
        stated = _qualifier_before(before)
        if stated is not None:
            qualifier, span_start = stated
        preceding = [word for word in before if word[0] < span_start]
        if any(word.lower() in ("aged", "ages", "age") for _, word in preceding[-4:]):
            return None  # "aged between 20 and 65": ages, not a count
        span_end = end
        # Ranges: "between 300 and 400", "from 2,000 to 3,000", "300-400", "two to three million".
        joined = _RANGE_JOIN.match(text, end)
        if joined is not None:
            joiner = joined.group().strip().lower()
            second = _RANGE_END.match(text, joined.end()) if joiner != "and" or qualifier == "range" else None
            second_value = _quantity_value(second) if second is not None else None
            if second is not None and second_value is not None and second_value < value and joiner in "-–—":
                return None  # "won 3-1": a score, not a count
            if second is not None and second_value is not None and second_value >= value:
                value = _range_start(match, value, second, second_value)
                qualifier = "range"
                span_end = end = second.end()
                percent = percent or second.group("pct") is not None
                currency = currency or second.group("cur")
        if qualifier == "range" and span_end == match.end():
            # "from 2,000" with no "to …" is no range: the "from" is not part of the figure.
            qualifier = "exact"
            span_start = start
        unit: str | None = None
        unit_end = span_end
        inherited = False
        strength_of: str | None = None
        if percent:
            unit = "%"
        elif currency:
            unit = _CURRENCIES[currency]
        elif match.group("aunit"):
            unit = match.group("aunit").lower()
        elif _STRONG.match(text, span_end):
            # "a 5,000-strong force": the size of the force; no unit is written.
            strong = _STRONG.match(text, span_end)
            unit_end = strong.end()
            strength_of = strong.group(1)
        elif _OF_PRONOUN.match(text, span_end):
            # "nearly 700,000 of them": the figure before says what "them" counts.
            previous = _previous_in_sentence(text, drafts, start)
            unit = previous.unit if previous is not None else None
            inherited = True
        else:
            scan_from = span_end
            if vague:
                of = _OF.match(text, span_end)
                scan_from = of.end() if of else span_end
            found = _unit_after(text, scan_from)
            if found in ("time", "name"):
                return None  # a duration ("three months") or part of a name ("10 Downing Street")
            if found is not None:
                unit, unit_end = found
                unit = _CURRENCY_NOUNS.get(unit, unit)
            elif vague:
                return None
            else:
                whole = _OF_THE.match(text, span_end)
                whole_number = _RANGE_END.match(text, whole.end()) if whole else None
                counted = _unit_after(text, whole_number.end()) if whole_number else None
                if isinstance(counted, tuple):
                    unit = counted[0]  # "35 of the 42 missiles": a part counted in the whole's unit
        context = [word for word in before if word[0] < span_start]
        if unit is None and not inherited and not (percent or currency) and _counting_verb(context):
            # "killing 12 people and wounding more than 60": the second count shares the first's unit.
            previous = _previous_in_sentence(text, drafts, start)
            if previous is not None and previous.unit not in (None, "%") and previous.unit not in _CURRENCIES.values():
                unit = previous.unit
        if words is not None:
            determined = bool(before) and before[-1][1].lower() in _NUMBER_DETERMINERS
            small_word = not _has_scale(words)
            if small_word and (unit is None or determined):
                return None  # "the two countries", "the first three months"
            if determined and unit is None:
                return None
        if strength_of is not None:
            subject, participle = strength_of, None
        else:
            subject, participle = self._figure_subject(context, span_start, span_end, unit_end, unit, inherited, drafts)
        return _FigureDraft(span_start, unit_end, float(value), unit, qualifier, subject, participle, p_index)

    def _fraction_figure(self, match: re.Match[str], p_index: int, drafts: list[_FigureDraft]) -> _FigureDraft | None:
        """`half of whom`, `a third of the town`: a share, as a percentage."""
        text = self.text
        fraction = " ".join(match.group("frac").lower().split())
        value, qualifier = _FRACTIONS[fraction]
        start, end = match.span("frac")
        p_start = self.paragraphs[p_index][0] if p_index >= 0 else 0
        stated = _qualifier_before(_words_before(text, p_start, start))
        if stated is not None and stated[0] != "range":
            qualifier, start = stated
        previous = _previous_in_sentence(text, drafts, start)
        counted = previous.unit if previous is not None and previous.unit != "%" else None
        pronoun = _WHOM.match(text, match.end())
        if pronoun is not None:
            verb_phrase = _verb_phrase(text, pronoun.end())
            if verb_phrase and counted:
                subject = f"{counted} {verb_phrase}"
            else:
                subject = counted or verb_phrase
        else:
            # "a third of the town was destroyed": the share of the town destroyed.
            whole = _WHOLE.match(text, match.end())
            if whole is None:
                subject = None
            else:
                verb_phrase = _verb_phrase(text, whole.end())
                subject = f"{whole.group(1)} {verb_phrase}" if verb_phrase else whole.group(1)
        return _FigureDraft(start, end, value, "%", qualifier, subject, None, p_index)

    def _figure_subject(
        self,
        before: list[tuple[int, str]],
        span_start: int,
        number_end: int,
        unit_end: int,
        unit: str | None,
        inherited: bool,
        drafts: list[_FigureDraft],
    ) -> tuple[str | None, str | None]:
        """What a figure counts, from the words around it, and the verb that says so.

        `before` holds the words before the figure's span, with their offsets.
        """
        text = self.text
        counted = unit if unit not in (None, "%") and unit not in _CURRENCIES.values() else None
        lowered = [word.lower() for _, word in before]
        # "Idlib is home to three million people": the population of Idlib.
        if lowered[-2:] == ["home", "to"] and len(before) >= 3:
            verb = len(before) - 3
            if lowered[verb] == "also" and verb > 0:
                verb -= 1
            if lowered[verb] == "been" and verb > 0:
                verb -= 1
            if lowered[verb] in _HOME_VERBS:
                place = self._mention_ending_at(_end_of_word_before(text, before[verb][0]))
                return (f"population of {self._canonical(place)}" if place else "population"), None
        # "killed 2,000 people", "forcing half a million people to flee".
        participle = _counting_verb(before)
        if participle is not None and counted:
            if participle == "forced":
                forced = _FORCED_TO.match(text, unit_end)
                if forced is not None:
                    return f"{counted} forced to {_join(forced.group('verb'), forced.group('obj'))}", None
            return f"{counted} {participle}", participle
        # "…, including hundreds of civilians": counted by the verb of the figure before.
        if counted and (lowered[-1:] == ["including"] or lowered[-2:] in (["among", "them"], ["among", "whom"])):
            previous = _previous_in_sentence(text, drafts, span_start)
            if previous is not None and previous.participle:
                return f"{counted} {previous.participle}", previous.participle
        if counted is None:
            measured = _measured_quantity(before[-6:])
            if measured is not None:
                return measured, None
        after = unit_end
        if inherited:
            of_pronoun = _OF_PRONOUN.match(text, number_end)
            after = of_pronoun.end() if of_pronoun else number_end
        verb_phrase = _verb_phrase(text, after)
        if verb_phrase is None:
            aside = _ASIDE.match(text, after)
            if aside is not None:
                verb_phrase = _verb_phrase(text, aside.end())  # "12 civilians, including four children, were"
        if verb_phrase:
            participle = verb_phrase.split()[0] if verb_phrase.split()[0].endswith("ed") else None
            return (f"{counted} {verb_phrase}" if counted else verb_phrase), participle
        return counted, None

    def _attribute_figures(self, drafts: list[_FigureDraft]) -> None:
        """A figure inside a quote is the speaker's figure."""
        quotes = sorted(
            (q for q in self.quotes if q.speaker is not None and q.speaker.name),
            key=lambda q: (q.start, q.end),
        )
        starts = [q.start for q in quotes]
        for draft in drafts:
            index = bisect_right(starts, draft.start) - 1
            best: _QuoteDraft | None = None
            steps = 0
            while index >= 0 and steps < 12:
                quote = quotes[index]
                if quote.start <= draft.start and draft.end <= quote.end:
                    if best is None or quote.end - quote.start < best.end - best.start:
                        best = quote
                index -= 1
                steps += 1
            if best is not None and best.speaker is not None:
                draft.attributed_to = best.speaker.name

    # -- stances --------------------------------------------------------------------------------

    def _find_stances(self) -> list[Stance]:
        """Explicit evaluative verbs with a named holder right before them; see the docstring."""
        narrative = self.narrative
        text = self.text
        stances: list[Stance] = []
        for verb_at in self.stance_anchors:
            # Step back over "has", "strongly" and the like to where the holder's name must end.
            end = verb_at
            while True:
                end = _end_of_word_before(narrative, end)
                space = narrative.rfind(" ", max(0, end - 20), end)
                if space < 0 or narrative[space + 1 : end] not in _STANCE_BETWEEN:
                    break
                end = space + 1
            holder = self._mention_ending_at(end)
            if holder is None:
                continue
            match = _STANCE_VERB.match(narrative, holder.end)
            if match is None or match.start("verb") > verb_at or match.end("verb") <= verb_at:
                continue
            before = narrative[max(0, holder.start - 12) : holder.start].split()
            previous = before[-1].lower() if before else ""
            if previous in ("the", "a", "an") and match.group("verb") in ("backed", "supported"):
                continue  # "the Russia backed forces": an adjective, not a verb
            if previous in ("which", "who", "that") or narrative[holder.start - 1 : holder.start] == "-":
                continue
            target_start = match.end()
            stop = _TARGET_STOP.search(narrative, target_start, min(len(narrative), target_start + 200))
            target_end = stop.start() if stop is not None else min(len(narrative), target_start + 200)
            target_start, target_end = _strip_span(narrative, target_start, target_end, " \t")
            words = narrative[target_start:target_end].split()
            if not words or len(words) > 12 or _FILL in narrative[target_start:target_end]:
                continue
            if len(words) == 1 and words[0].lower() in _PRONOUN_TARGETS:
                continue
            if words[0].lower() in ("to", "by", "that", "not"):
                continue
            verb = match.group("verb").split()[0]
            polarity = "against" if verb in _STANCE_AGAINST or "opposed" in match.group("verb") else "favor"
            stances.append(
                Stance(
                    start=holder.start,
                    end=target_end,
                    text=text[holder.start : target_end],
                    holder=self._canonical(holder),
                    target=text[target_start:target_end],
                    polarity=polarity,
                    origin=_origin(),
                )
            )
        return stances


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _word_anchor_any_case() -> re.Pattern[str]:
    """The anchor search for the rare text whose lower-casing changes its length; built on demand."""
    return re.compile(_WORD_ANCHOR.pattern, re.IGNORECASE)


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """The spans of the non-blank lines of `text`."""
    if "\r" in text:
        return [(m.start(), m.end()) for m in _PARAGRAPH.finditer(text) if m.group().strip()]
    # Splitting on newlines is several times faster than a regex over the whole text.
    spans = []
    position = 0
    for line in text.split("\n"):
        end = position + len(line)
        if line.strip():
            spans.append((position, end))
        position = end + 1
    return spans


def _origin() -> Origin:
    """Where every proposal of this engine comes from: one instance, shared (nothing changes it)."""
    global _ORIGIN
    if _ORIGIN is None:
        _ORIGIN = Origin(engine="rules", model=None, prompt=PROMPT)
    return _ORIGIN


_ORIGIN: Origin | None = None


def _can_open(before: str, after: str) -> bool:
    """A straight or single mark opens a quote after a space or bracket and before a word."""
    return (before.isspace() or before in "([{—–-/“") and not after.isspace()


def _can_close(before: str, after: str) -> bool:
    """A mark closes a quote after a word and before a space, punctuation or the end."""
    return not before.isspace() and not (after.isalnum() or after == "_")


def _possessive_plural(text: str, pos: int, end: int) -> bool:
    """`insurgents’ statement`: a plural possessive, not the end of a single-quoted phrase."""
    if pos == 0 or text[pos - 1] != "s" or pos + 2 >= end:
        return False
    if text[pos + 1] != " " or not text[pos + 2].islower():
        return False
    return _SINGLE_CLOSER.search(text, pos + 1, end) is not None


def _trim_quoted(text: str, start: int, end: int) -> tuple[int, int]:
    """The spoken words between two marks: no spaces around, no comma or dash before the close."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;—–"):
        end -= 1
    return start, end


def _strip_span(text: str, start: int, end: int, chars: str) -> tuple[int, int]:
    """Narrow [start, end) past any of `chars` at either edge."""
    piece = text[start:end]
    left = piece.lstrip(chars)
    start += len(piece) - len(left)
    return start, start + len(left.rstrip(chars))


def _strip_auxiliaries(text: str, start: int, end: int) -> int:
    """Where the subject before a reporting verb ends: "activists have also | said"."""
    while True:
        while end > start and text[end - 1].isspace():
            end -= 1
        space = text.rfind(" ", start, end)
        word_start = space + 1 if space >= 0 else start
        if word_start >= end or text[word_start:end] not in _SUBJECT_TAIL_WORDS:
            return end
        end = word_start


def _first_word(text: str, piece: tuple[int, int]) -> str:
    """The first word of a piece of text."""
    word = _WORD.match(text, piece[0], piece[1])
    return word.group() if word else ""


def _next_comma(text: str, start: int, end: int) -> int:
    """The offset of the next comma outside brackets, or `end`."""
    depth = 0
    for match in _BRACKET_OR_COMMA.finditer(text, start, end):
        char = match.group()
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            return match.start()
    return end


def _looks_appositive(text: str, piece: tuple[int, int]) -> bool:
    """`a local activist`, `Syria’s main faction`: a description, not a name."""
    words = text[piece[0] : piece[1]].split()
    if not words:
        return False
    first = words[0]
    return (
        first.lower() in ("a", "an", "the", "his", "her", "its", "their")
        or first[:1].islower()
        or first.endswith(("’s", "'s"))
    )


def _cue_at(narrative: str, word: str, start: int, limit: int) -> _Cue | None:
    """The cue the reporting word at `start` begins, or None where it reports nothing here."""
    end = start + len(word)
    if word in _CUE_VERBS:
        return _Cue(start, end, word, "verb")
    if word == "described":
        return _Cue(start, end, word, "described")
    if word in ("according", "According"):
        to = _TO.match(narrative, end, limit)
        return _Cue(start, to.end(), "according to", "according") if to else None
    if word in _BARE_CUES and _THAT_AHEAD.match(narrative, end, limit):
        return _Cue(start, end, word, "verb")
    if word == "quoted":
        saying = _AS_SAYING.match(narrative, end, limit)
        return _Cue(start, saying.end(), "quoted as saying", "quoting") if saying else None
    if word in _QUOTING_VERBS:
        return _Cue(start, end, word, "quoting")
    return None


def _is_role(word: str) -> bool:
    """A word for what a person is or does: a listed role, or a lower-case -ist or -ian ("virologist",
    "physician"; "Syrian" is capitalised, so a demonym is no role)."""
    return word in _ROLE_WORDS or (
        len(word) > 5 and word.endswith(("ist", "ian")) and word.isalpha() and word.islower()
    )


def _phrase_kind(phrase: str) -> str:
    """person or org from the first role or organisation noun in a phrase, else unknown."""
    for word in phrase.replace("-", " ").split():
        word = word.strip(",.()")
        lowered = word.lower()
        if lowered in _ORG_NOUNS:
            return "org"
        if lowered in _ROLE_WORDS or _is_role(word):
            return "person"
    return "unknown"


def _appositive_kind(narrative: str, end: int) -> str:
    """The kind an appositive after a name gives it: `, a local activist,` → person."""
    window = narrative[end : end + 90]
    if not window.startswith(","):
        return "unknown"
    clause = window[1:].split(",", 1)[0]
    words = clause.split()
    if not words or words[0].lower() in ("which", "who", "where", "when", "whose"):
        return "unknown"
    return _phrase_kind(clause)


def _clean_mention(narrative: str, start: int, end: int) -> _Mention | None:
    """Strip stop words, titles and modifiers off a raw capitalised run; None if nothing is left."""
    cleaned = _clean_run(narrative[start:end])
    if cleaned is None:
        return None
    mention_start, name_start, name_end, keys, title = cleaned
    name = narrative[start + name_start : start + name_end]
    return _Mention(start + mention_start, start + name_end, name, keys, title)


@lru_cache(maxsize=8192)
def _clean_run(raw: str) -> tuple[int, int, int, tuple[str, ...], bool] | None:
    """The clean-up of one capitalised run, as offsets into it; names recur, so it is cached."""
    words = raw.split(" ")
    offsets = []
    position = 0
    for word in words:
        offsets.append(position)
        position += len(word) + 1
    first, last = 0, len(words)
    title_start: int | None = None
    while first < last:
        word = words[first]
        lowered = word.lower()
        if word in CAPITAL_STOPWORDS and word not in _PERSON_TITLES:
            title_start = None
        elif word in TITLES and last - first > 1:
            # The title stays in the mention ("Mr Assad") but not in the name.
            if title_start is None:
                title_start = offsets[first]
        elif last - first > 1 and "-" in word and _MODIFIER_TOKEN.search(word):
            pass
        elif lowered in JOINERS:
            pass
        elif lowered in PARTICLES and not (last - first > 1 and words[first + 1][:1].isupper()):
            pass
        else:
            break
        first += 1
    while last > first and words[last - 1].lower() in JOINERS:
        last -= 1
    # "NATO Secretary-General Jens Stoltenberg", "Turkish Foreign Minister Mevlut Cavusoglu": the name
    # is what follows the last title, when two or more words follow it and none names an organisation.
    for index in range(last - 3, first - 1, -1):
        if words[index] in _HEAD_TITLES or words[index].endswith("-General"):
            if not any(word in _ORG_KEYWORDS for word in words[index + 1 : last]):
                if title_start is None:
                    title_start = offsets[first]
                first = index + 1
            break
    if first >= last:
        return None
    if last - first == 1 and (words[first] in DAYS_MONTHS or words[first] in _PERSON_TITLES):
        return None
    if "-" in words[first] and _MODIFIER_TOKEN.search(words[first]):
        return None
    keys = tuple(
        _without_prefix(word)
        for word in words[first:last]
        if word.lower() not in JOINERS and word.lower() not in PARTICLES
    )
    if not keys:
        return None
    name_start, name_end = offsets[first], offsets[last - 1] + len(words[last - 1])
    mention_start = title_start if title_start is not None else name_start
    return mention_start, name_start, name_end, keys, title_start is not None


def _without_prefix(word: str) -> str:
    """`al-Assad` → `Assad`, so "Assad" and "Bashar al-Assad" match."""
    head, dash, rest = word.partition("-")
    if dash and rest and head.lower() in PARTICLES:
        return rest
    return word


def figure_values(span_text: str) -> list[float]:
    """The numbers written in a figure's span, read as the figure finder reads them, in order.

    `nearly half a million people` → [500000.0], `2,000` → [2000.0], `hundreds of civilians` →
    [100.0], `between 300 and 400` → [300.0] (a range gives its lower bound, sharing a scale written
    once: `two to three million` → [2000000.0]), `half` → [50.0] (a share, as a percentage), `40%` →
    [40.0]. Qualifiers set no value. Empty when no number can be read.
    """
    found: list[tuple[int, int, float]] = []
    for match in _FRACTION.finditer(span_text):
        share = _FRACTIONS.get(" ".join(match.group("frac").lower().split()))
        if share is not None:
            found.append((match.start(), match.end(), share[0]))
    position = 0
    while (match := _QUANTITY.search(span_text, position)) is not None:
        position = match.end()
        value = _quantity_value(match)
        if value is None:
            continue
        joined = _RANGE_JOIN.match(span_text, match.end())
        if joined is not None:
            stated = _qualifier_before(_words_before(span_text, 0, match.start()))
            between = stated is not None and stated[0] == "range"
            joiner = joined.group().strip().lower()
            second = _RANGE_END.match(span_text, joined.end()) if joiner != "and" or between else None
            second_value = _quantity_value(second) if second is not None else None
            if second is not None and second_value is not None and second_value >= value:
                value = _range_start(match, value, second, second_value)
                position = second.end()
        found.append((match.start(), position, value))
    # Where two readings overlap the longer wins: "half a million" over "half", "two-thirds" over "two".
    found.sort(key=lambda item: (item[0], item[0] - item[1]))
    values: list[float] = []
    covered = 0
    for start, end, value in found:
        if start >= covered:
            values.append(value)
            covered = end
    return values


def _range_start(first: re.Match[str], value: float, second: re.Match[str], second_value: float) -> float:
    """The lower bound of a range; "two to three million" shares the scale written once → 2e6."""
    words = first.group("words")
    first_has_scale = bool(first.group("dscale")) or (words is not None and _has_scale(words))
    second_scale = _scale_of(second)
    if not first_has_scale and second_scale and value < second_value / second_scale * 10:
        return value * second_scale
    return value


def _quantity_value(match: re.Match[str]) -> float | None:
    """The number a quantity match stands for, before qualifiers."""
    digits = match.group("digits")
    if digits is not None:
        value = float(digits.replace(",", ""))
        scale = match.group("dscale")
        if scale:
            value *= _SCALES[scale.lower()]
        return value
    if match.group("fraction") is not None:
        fraction = " ".join(match.group("fraction").lower().split())
        share = 0.75 if fraction.startswith("three") else 0.25 if "quarter" in fraction else 0.5
        return share * _SCALES[match.group("fscale").lower()]
    if match.group("vague") is not None:
        return _VAGUE[" ".join(match.group("vague").lower().split())]
    if match.group("several") is not None:
        return _SCALES[match.group("sscale").lower()]
    if match.group("words") is not None:
        return _words_value(match.group("words"))
    return None


def _words_value(words: str) -> float | None:
    """`three million` → 3e6, `two hundred and fifty` → 250, `one and a half million` → 1.5e6."""
    tokens = words.lower().replace("-", " ").split()
    total = 0.0
    current = 0.0
    half = False
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "and" and tokens[index + 1 : index + 3] == ["a", "half"]:
            half = True
            index += 3
            continue
        if token == "and":
            index += 1
            continue
        if token in _NUMBER_WORDS:
            current += _NUMBER_WORDS[token]
        elif token == "hundred":
            current = (current or 1) * 100
        elif token in _SCALES:
            amount = (current or 1) + (0.5 if half else 0)
            total += amount * _SCALES[token]
            current = 0
            half = False
        else:
            return None
        index += 1
    return total + current


def _has_scale(words: str) -> bool:
    """Whether number words carry a scale ("three million"), not just a small number ("three")."""
    return any(token in _SCALES for token in words.lower().split())


def _scale_of(match: re.Match[str]) -> float | None:
    """The scale a number is written with ("3 million" → 1e6), if any."""
    if match.group("dscale"):
        return _SCALES[match.group("dscale").lower()]
    words = match.group("words")
    if words:
        scales = [_SCALES[t] for t in words.lower().split() if t in _SCALES and t != "hundred"]
        return scales[-1] if scales else None
    return None


def _words_before(text: str, floor: int, end: int, count: int = 4) -> list[tuple[int, str]]:
    """The last few words before `end` (not before `floor`), with their offsets."""
    window = max(floor, end - 12 * count - 12)
    piece = text[window:end]
    tokens = piece.split()
    if window > floor and window > 0 and not text[window - 1].isspace() and piece[:1].strip():
        tokens = tokens[1:]  # the window cut the first word in two
    tokens = tokens[-count:]
    # Locate the kept words from the right; each is the last occurrence before the one after it.
    words = []
    limit = len(piece)
    for token in reversed(tokens):
        at = piece.rfind(token, 0, limit)
        words.append((window + at, token))
        limit = at
    words.reverse()
    return words


def _end_of_word_before(text: str, offset: int) -> int:
    """The end of the word before the one starting at `offset`."""
    end = offset
    while end > 0 and text[end - 1].isspace():
        end -= 1
    return end


def _counting_verb(before: list[tuple[int, str]]) -> str | None:
    """The participle of a verb counting the number after it: "killed (a total of)" → "killed"."""
    index = len(before) - 1
    while index >= 0 and before[index][1].lower() in _COUNT_FILLERS:
        index -= 1
    if index < 0:
        return None
    return _TRANSITIVE_PARTICIPLES.get(before[index][1].lower())


def _measured_quantity(before: list[tuple[int, str]]) -> str | None:
    """What a rate or amount measures: "British inflation fell to" → "British inflation",
    "the BoE has kept rates at" → "rates"."""
    words = [word for _, word in before]
    lowered = [word.lower() for word in words]
    if lowered[-1:] == ["at"]:
        # "kept rates at 5.25%", "estimated the crowd at 10,000": the object between verb and "at".
        for verb in range(len(lowered) - 3, max(-1, len(lowered) - 6), -1):
            if lowered[verb] in _SETTING_VERBS:
                measured = [w for w in words[verb + 1 : -1] if w.lower() not in _NUMBER_DETERMINERS]
                return " ".join(measured) if measured and all(w.isalpha() for w in measured) else None
    verb = len(lowered) - (2 if lowered and lowered[-1] in ("to", "by", "at") else 1)
    if verb < 1 or lowered[verb] not in _CHANGE_VERBS:
        return None
    index = verb - 1
    while index >= 0 and lowered[index] in _AUXILIARIES | {"been", "also", "now"}:
        index -= 1
    subject: list[str] = []
    while index >= 0 and len(subject) < 2:
        word = words[index]
        if lowered[index] in _FUNCTION_WORDS or not word.replace("-", "").isalpha():
            break
        subject.insert(0, word)
        index -= 1
    return " ".join(subject) or None


def _qualifier_before(before: list[tuple[int, str]]) -> tuple[str, int] | None:
    """The qualifier written right before a number ("more than", "nearly") and where it starts."""
    for count in (3, 2, 1):
        if len(before) >= count:
            phrase = " ".join(word.lower() for _, word in before[-count:])
            qualifier = _QUALIFIERS.get(phrase)
            if qualifier is not None:
                return qualifier, before[-count][0]
    return None


def _not_a_count(text: str, start: int, end: int, digits: str, before: list[tuple[int, str]]) -> bool:
    """Years, dates, times, and numbers that are part of a name."""
    short = len(digits) <= 2
    last = before[-1][1] if before else ""
    if short and last.rstrip(".") in _MONTHS:
        return True  # "April 30"
    if short and _MONTH_AFTER.match(text, end):
        return True  # "30 April", "1st of May"
    if _TIME_AFTER.match(text, end) or text[end : end + 1] in (":", "/"):
        return True  # "10:30", "9am", "12/05"
    if "," not in digits and last[:1].isupper() and last.rstrip(".") not in _MONTHS and last not in DAYS_MONTHS:
        previous = before[-2][1][-1:] if len(before) >= 2 else "."
        inside_sentence = previous.islower() or previous in ",;:"
        if (inside_sentence and last.lower() not in _QUALIFIERS) or last in _NUMBERED_NAMES:
            return True  # "Resolution 2254", "Flight 17": part of a name
    if len(digits) == 4 and digits.isdigit() and 1500 <= int(digits) <= 2100:
        found = _unit_after(text, end)
        if not isinstance(found, tuple) or text[end : end + 1] == "s":
            return True  # "since 2014", "the 1990s"
    if last.lower() in ("aged", "age", "no", "no.", "number") or (
        last[-1:] == "," and last[:1].isupper() and text[end : end + 1] == "," and short
    ):
        return True  # ages ("Ms Haddad, 45, said", "aged 25") and numbered things
    if not before and text[end : end + 1] in (".", ")") and short:
        return True  # "1." or "2)" opening a paragraph: a list marker
    return False


def _unit_after(text: str, position: int) -> tuple[str, int] | str | None:
    """The counted noun after a number, skipping up to two modifiers; "time" for durations."""
    skipped = 0
    capitalised = False
    while skipped <= 2:
        word_match = _UNIT_WORD.match(text, position)
        if word_match is None:
            break
        word = word_match.group("w")
        lowered = word.lower()
        if lowered in _TIME_UNITS:
            return "time"
        if lowered in _FUNCTION_WORDS:
            break
        if word[:1].isupper() and not word.isupper():
            following = _UNIT_WORD.match(text, word_match.end())
            if lowered.endswith("s") and (following is None or not following.group("w")[:1].isupper()):
                return word, word_match.end()  # "2,000 Syrians"
            # A modifier such as "Syrian" or "Turkish"; the counted noun follows.
            capitalised = True
            skipped += 1
            position = word_match.end()
            continue
        if lowered in _MODIFIERS:
            skipped += 1
            position = word_match.end()
            continue
        if lowered in _INVARIANT_COUNT_NOUNS or lowered in _CURRENCY_NOUNS or (
            lowered.endswith("s") and not lowered.endswith("ss") and len(lowered) > 2 and word.isalpha()
        ):
            return lowered, word_match.end()
        break
    # "10 Downing Street", "200 Kurdish": a number inside or before a name, not a count.
    return "name" if capitalised else None


def _verb_phrase(text: str, position: int) -> str | None:
    """The predicate after a counted group: `have been forced to leave their homes` →
    `forced to leave their homes`; `displaced by fighting in …` → `displaced by fighting`."""
    match = _RIGHT_VERB.match(text, position)
    if match is None:
        return None
    verb = match.group("verb")
    if not (verb.endswith("ed") or verb in _IRREGULAR_PAST) or verb in ("need", "speed", "seed"):
        return None
    adverb = (match.group("adv") or "").strip()
    head = f"{adverb} {verb}".strip()
    if verb == "forced":
        forced = _FORCED_TO.match(text, match.end())
        if forced is not None:
            return f"{head} to {_join(forced.group('verb'), forced.group('obj'))}"
        return head
    words = []
    for word in re.finditer(r"\s+([\w’'-]+)|([,.;:!?)“”])", text[match.end() : match.end() + 80]):
        if word.group(2) or word.start() != (words[-1][1] if words else 0):
            break
        token = word.group(1)
        if not words:
            if token.lower() not in _PREPOSITIONS:
                break
        elif token.lower() in _PREPOSITIONS or token.lower() in _PHRASE_BREAKS:
            break
        words.append((token, word.end()))
        if len(words) >= 4:
            break
    if len(words) >= 2:
        return f"{head} {' '.join(w for w, _ in words)}"
    return head


def _join(verb: str, obj: str | None) -> str:
    """A verb and its object, when it has one."""
    return f"{verb} {obj}" if obj else verb


def _previous_in_sentence(text: str, drafts: list[_FigureDraft], start: int) -> _FigureDraft | None:
    """The figure before `start` in the same sentence, if any."""
    if not drafts:
        return None
    previous = drafts[-1]
    between = text[previous.end : start]
    if "\n" in between or re.search(r"[.?!]\s+[A-Z“\"]", between):
        return None
    return previous
