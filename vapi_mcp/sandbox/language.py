"""The sandbox's reading of English: sentences, words, light stems, and the few concepts its rules use.

Everything the conversation engine and the judges compare goes through here, so that "How much
is a nail trim?" meets "Nail trims: $15" and a rule against "insurance cards" also catches
"insurance card". The normalisation is deliberately light and predictable:

- **Words** are lower-cased; curly quotes become straight ones; a possessive 's is dropped.
- **Stems** strip one English ending: -ies/-ied → -y, -es after s/x/z/ch/sh, -s (not -ss, -us,
  -is), -ing and -ed (a doubled final consonant is undoubled: trimming → trim), then a final -e on
  words longer than four letters (schedule, scheduled, scheduling → schedul). A few irregular
  plurals are mapped (teeth → tooth).
- **Numbers**: number words up to twenty and the tens become digits; "15.00" is "15".
- **Money**: "$15", "$15.00", "15 dollars", "15 bucks", "USD 15" are the token "$15".
- **Concepts**: a question's cue words (how much, when, where, how long...) name what kind of
  fact answers it; a passage has the concept when it carries that kind of fact (a price has a
  money amount, opening hours a clock time or a weekday). SYNONYMS group the stems that mean the
  same thing for matching (price/cost/fee/charge/rate).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": " - "})

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}  # fmt: skip

IRREGULAR = {"teeth": "tooth", "feet": "foot", "children": "child", "people": "person", "men": "man", "women": "woman", "mice": "mouse"}

STOPWORDS = frozenset(
    """a about above after again all also am an and any are aren't as at be because been before being below between both
    but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each few for from further
    had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how how's i
    i'd i'll i'm i've if in into is isn't it it's its itself just let's me more most mustn't my myself no nor not of off
    on once only or other ought our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so
    some such than that that's the their theirs them themselves then there there's these they they'd they'll they're
    they've this those through to too under until up very was wasn't we we'd we'll we're we've were weren't what what's
    when when's where where's which while who who's whom why why's will with won't would wouldn't you you'd you'll you're
    you've your yours yourself yourselves hi hello hey please thanks thank okay ok yes yeah yep no nope sure well like
    want wanted wants need needs know tell get got give just really much many anything something everything lot kind
    quick question wondering wonder could would maybe also already still even ever us let say said go going""".split()
)
"""Words that say nothing about what is asked (function words and conversational filler)."""

_SYNONYM_WORDS = (
    "price prices pricing cost costs fee fees charge charges rate rates pay expensive cheap",
    "hours open opening close closing closed",
    "book booking appointment appointments reserve reservation schedule slot",
    "location located address directions where",
    "phone number call",
    "long duration minutes take",
    "cancel cancellation",
    "parking park",
    "service services offer provide",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december")

MONEY = re.compile(
    r"(?:\$|usd\s?|£|€)\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s?(?:dollars?|bucks|usd|euros?|pounds?)\b", re.IGNORECASE
)
CLOCK = re.compile(r"\b\d{1,2}(?::\d{2})?\s?(?:a\.?m\.?|p\.?m\.?)(?![a-z])|\b\d{1,2}:\d{2}\b|\bnoon\b|\bmidnight\b", re.IGNORECASE)
DAY = re.compile(r"\b(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day)?s?\b|\bweekdays?\b|\bweekends?\b|\bdaily\b", re.IGNORECASE)
DURATION = re.compile(r"\b\d+(?:\.\d+)?\s?(?:-\s?\d+\s?)?(?:minutes?|mins?|hours?|hrs?)\b", re.IGNORECASE)
PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}\b")
PLACE = re.compile(r"\b\d+\s+\w+(?:\s\w+)?\s(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|way|plaza|suite)\b", re.IGNORECASE)

CONCEPT_FEATURES: dict[str, re.Pattern[str]] = {
    "price": MONEY,
    "time": re.compile(f"{CLOCK.pattern}|{DAY.pattern}", re.IGNORECASE),
    "duration": DURATION,
    "phone": PHONE,
    "place": PLACE,
    "email": EMAIL,
}
"""What a passage must carry to have a concept."""

_CONCEPT_WORDS = {
    "price": "price prices pricing cost costs fee fees charge rate rates expensive cheap",
    "time": "hours open opening close closing time times day days",
    "duration": "long duration",
    "phone": "phone",
    "place": "location located address directions",
    "email": "email",
}

_CUES = (
    (re.compile(r"\bhow much\b|\bhow expensive\b", re.I), "price"),
    (re.compile(r"\bwhen\b|\bwhat time\b|\bwhat days?\b", re.I), "time"),
    (re.compile(r"\bhow long\b", re.I), "duration"),
    (re.compile(r"\bwhere\b", re.I), "place"),
)

NEGATION = re.compile(
    r"\b(?:not|no|never|cannot|can't|cant|won't|don't|doesn't|didn't|isn't|aren't|wasn't|couldn't|unable|without|nor)\b|n't\b",
    re.IGNORECASE,
)

_SPACES = re.compile(r"[^\S\n]+")
_SENTENCE = re.compile(r"(?<=[.!?\x01])[\"')\]]*\s+(?=[\"'(\[\x00]?[A-Z0-9$\x00])")
_WORD = re.compile(r"\$\d+(?:\.\d+)?|[a-z0-9]+(?:'[a-z]+)?")


def plain(text: str) -> str:
    """Straight quotes and dashes, and one space for any run of spaces and tabs (so no pattern meets a long run)."""
    return _SPACES.sub(" ", text.translate(_QUOTES))


def sentences(text: str) -> list[str]:
    """The sentences of one paragraph (split after . ! ? before a capital or a digit; never inside double quotes)."""
    text = plain(text).strip()
    quoted: list[str] = []

    def hide(match: re.Match[str]) -> str:
        quoted.append(match.group(0))
        ends = match.group(0)[-2:-1] in (".", "!", "?")
        return f"\x00{len(quoted) - 1}{chr(1) if ends else chr(0)}"  # \x01: the quote ends a sentence

    masked = re.sub(r'"[^"\n]{1,2000}"', hide, text)
    parts = [s.strip() for s in _SENTENCE.split(masked) if s.strip()]
    return [re.sub(r"\x00(\d+)[\x00\x01]", lambda m: quoted[int(m.group(1))], part) for part in parts]


def normalise(text: str) -> str:
    """Lower-case text with money amounts as `$N` and number words as digits."""
    text = plain(text).lower()
    text = re.sub(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", lambda m: str(NUMBER_WORDS[m.group(1)]), text)

    def money(match: re.Match[str]) -> str:
        digits = re.search(r"\d[\d,]*(?:\.\d+)?", match.group(0))
        return " $" + _number(digits.group(0) if digits else "0") + " "

    return MONEY.sub(money, text)


def _number(text: str) -> str:
    value = float(text.replace(",", ""))
    return str(int(value)) if value.is_integer() else str(value)


def words(text: str) -> list[str]:
    """The words of `text`, normalised (see the module docstring), in order."""
    out = []
    for word in _WORD.findall(normalise(text)):
        if word.endswith("'s"):
            word = word[:-2]
        if re.fullmatch(r"\d+\.0+", word):
            word = word.split(".")[0]
        out.append(word)
    return out


def stem(word: str) -> str:
    """A light stem (see the module docstring)."""
    if word in IRREGULAR:
        return IRREGULAR[word]
    if len(word) <= 3 or not word.isalpha():
        return word
    w = word
    if w.endswith(("ies", "ied")) and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith(("shes", "ches", "xes", "zes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    elif w.endswith("ing") and len(w) > 5:
        w = _undouble(w[:-3])
    elif w.endswith("ed") and len(w) > 4:
        w = _undouble(w[:-2])
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


def _undouble(w: str) -> str:
    if len(w) > 2 and w[-1] == w[-2] and w[-1] not in "lsz":
        return w[:-1]
    return w


def stems(text: str) -> list[str]:
    """Stems of every word of `text`, in order (stopwords included)."""
    return [stem(w) for w in words(text)]


def content(text: str) -> list[str]:
    """Stems of the words that carry meaning (stopwords dropped), in order, without repeats."""
    seen: dict[str, None] = {}
    for word in words(text):
        if word not in STOPWORDS:
            seen.setdefault(stem(word), None)
    return list(seen)


def related(a: str, b: str) -> bool:
    """Whether two stems are the same or synonyms."""
    return a == b or any(a in group and b in group for group in SYNONYMS)


def concepts_asked(text: str) -> list[str]:
    """The kinds of fact a question asks for, from its cue phrases and words."""
    found: dict[str, None] = {}
    for pattern, concept in _CUES:
        if pattern.search(text):
            found.setdefault(concept, None)
    for s in content(text):
        for concept, cue in CONCEPT_WORDS.items():
            if s in cue:
                found.setdefault(concept, None)
    return list(found)


def concepts_carried(text: str) -> set[str]:
    """The kinds of fact a passage carries (a money amount, a clock time or weekday...)."""
    text = normalise(text)
    return {concept for concept, pattern in CONCEPT_FEATURES.items() if pattern.search(text)}


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether the stems of `phrase` occur in order, contiguously, in `text` (so plurals and case do not matter)."""
    needle = stems(phrase)
    if not needle:
        return False
    hay = stems(text)
    n = len(needle)
    return any(hay[i : i + n] == needle for i in range(len(hay) - n + 1))


def negated(clause: str) -> bool:
    return NEGATION.search(plain(clause)) is not None


def join_list(items: Sequence[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def split_list(text: str) -> list[str]:
    """The items of "a, b or c" / "a and b" / "a/b" (empty items dropped)."""
    parts = re.split(r"\s*(?:,|;|/|\bor\b|\band\b|\bnor\b|&)\s*", text)
    return [p.strip() for p in parts if p and p.strip()]


def first_upper(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def ensure_period(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


SYNONYMS: tuple[frozenset[str], ...] = tuple(frozenset(stem(w) for w in group.split()) for group in _SYNONYM_WORDS)
"""Stems that stand for one another when a question is matched against a passage."""

CONCEPT_WORDS: dict[str, frozenset[str]] = {k: frozenset(stem(w) for w in v.split()) for k, v in _CONCEPT_WORDS.items()}
"""Stems that ask for a concept: a question made only of these is answered by passages having it."""
