"""Word lists of news English shared by the core: the words around names that are not names.

The rules engine (`annotator.propose.rules`) cleans mentions with them and `annotator.qa` reads
proper names with them, so both agree on what a name is.
"""

from __future__ import annotations

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
    Spokesman Spokeswoman Congressman Congresswoman Councillor Councilman Councilwoman Assemblyman
    Assemblywoman Commissioner Superintendent Inspector Detective Coach Bishop Archbishop Rabbi""".split()
)
# Verbs that attribute a quotation written next to them ("“…,” Dunn vowed"; "quipped manager Harry
# Dunn") without reporting speech on their own: "urged the council to act" is no quote.
ATTRIBUTION_VERBS = frozenset(
    """vowed vows quipped quips interjected urged urges replied replies responded responds retorted
    countered exclaimed shouted yelled screamed cried whispered muttered snapped joked jokes laughed
    sighed mused pleaded pleads demanded demands cautioned cautions conceded concedes recalled recalls
    remarked remarks observed predicted predicts promised promises pledged pledges boasted complained
    complains protested lamented agreed agrees answered answers suggested suggests continued continues
    recounted posted asked asks wondered shrugged beamed gushed fumed raged ranted barked chimed
    offered offers reflected reflects elaborated explained emphasised emphasized reiterated testified
    texted emailed saying""".split()
)
# Lower-case words inside names: "Syrian Observatory for Human Rights", "Bashar al-Assad".
JOINERS = frozenset("of for the".split())
PARTICLES = frozenset("al el bin ibn abu bint lil de da di du van von der".split())
