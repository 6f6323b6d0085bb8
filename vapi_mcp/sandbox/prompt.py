"""What a sandbox assistant knows: its prompt and documents, read by written rules.

`Prompt(text, documents)` reads a rendered system prompt (and knowledge-base documents, each a
`Document(name, text)`) once; the conversation engine asks it questions. The rules:

**Where the prompt is** (`system_prompt`): every `model.messages` entry with role `system`, in
order (every model provider has them); for a workflow (an assistant's `model.workflow`, or a
Workflow object) its `globalPrompt` and its conversation nodes' `prompt`, the start node first.

**Units.** The text is read line by line (at most MAX_CHARS of it, and of each document). A
heading (`# Title`, `[Title]`, `**Title**`, a short line ending with a colon, a short all-capitals
line) opens a section; a bullet or numbered item is one unit ("Nail trim: $15" stays whole);
other lines are split into sentences (never inside double quotes). A unit is one of:

- a *prohibition*: "never / do not / don't / must not / should not / cannot / avoid / refrain
  from (mention | say | discuss | talk about | bring up | reveal | share | quote | ask about | ask
  for | recommend | promise | offer | use...) X", "avoid X", "X is off-limits", "X must never be
  mentioned". X (up to the clause's end, or "unless/because/even if...") is split on commas,
  "or", "and", "/" into terms (articles dropped; quoted terms taken as quoted). No reply the
  engine composes contains a term (compared by stems, so plurals and case do not matter): a
  sentence that would is left out.
- an *answer frame*: "If (the caller) asks about T, say/tell them/answer (that) A", "Tell
  callers (that) A", "Let them know (that) A", "Say: A". A is what the assistant says (quotes
  removed, exactly as written otherwise), found by the words of T as well as A's own.
- *identity*: "You are ...", "Your name is ..." (not "you are calling/able/not..."; the
  assistant's name is the capitalised words right after; its business the capitalised words
  after at/for/with/from/of).
- an *instruction*: a unit that starts with an imperative verb ("Ask for...", "Greet...", "Be
  friendly", "Sound..."), a conditional ("If/When..."), or "you should/must/need to/will...": it
  steers, it is never quoted as an answer.
- otherwise a *fact*, which answers questions, unless it is a question (one the assistant would
  ask is never an answer). A fact whose list items carry prices or durations ("Prices: bath $40,
  nail trim $15") is also split into one passage per item; an item keeps its list's label when the
  label names a thing ("Full groom: $75 small, $95 large" gives "Full groom: $95 large"), not when
  it only names the kind of fact ("Prices:").

Facts and frames from the prompt are spoken as the assistant: "you/your" (the assistant) become
"I/me/my" (a sentence starting with "Please" already speaks to the customer and keeps them),
then "the caller(s)/customer(s)/client(s)/patient(s)" become "you" where they are people (a
verb or the clause's end follows: "patients must", "remind patients of", not "patient visits")
and, in such a sentence, "their/they/them" become "your/you". Quoted words are said as written.
Documents are facts only (their "you" is the reader, left as written; their customers become
"you" by the same rule).

**Answering** (`answer`): a question's content stems (language.content), less the words that
only announce a question (calling, ask, tell, know, wondering, information...), those that ask what
is offered (services, offer, options, menu, treatments...) and those that only name a kind of fact
(price, cost, hours, open, long... with cues like "how much" and "when"), are matched against each
passage's stems (its words and its section heading): the same stem counts fully, a synonym
(price/cost/fee...) half. A list item split from a passage answers only when the question names words
of the item itself, not only its label, or when it is the one item of its list that carries the kind
of fact asked ("How much is a cleaning?" of "Cleaning: $120, about 45 minutes" gets "Cleaning: $120";
"a full groom" of "Full groom: $75 small, $95 large" gets the whole line, "a full groom for a large
dog" the large dog's price). Each stem weighs 1 + ln(N / df), df being how many of
the N passages have it (at least 1), so rare words count more. A passage answers when it matches
at least half of the question's weight; when the question asks for a price, a time or a duration,
a passage that carries none loses a quarter. The best one wins (ties: more kinds of fact in
common, then the denser match, then the earlier passage). A question made only of kind-of-fact
words ("What are your prices?", "When are you open?"; words that ask what is offered ask for the
prices: "What services do you offer?") gets up to LISTED (6) passages that carry such a fact (list
items split from a passage are left out), in prompt and document order. Nothing matching: no
answer (the engine then says NO_INFO). `topics` (for "what can you help with?"): the prompt's
sections that hold facts, then each document's headings, or its name (`price-list.txt`: "price list").

**Booking** (`booking`), from the prompt's units that mention booking, scheduling, reserving or
appointments: "redirect" if one sends people elsewhere (online, a website, an app, a link), its
clause being the reply; else "no" if one says the assistant cannot / is unable to / must never /
does not book, schedule or reserve (a unit naming a day or time is a restriction, not an
inability); else "yes" if any mentions them; "unknown" (treated as "no") if none does.

**Opening hours** (`hours`): day specs (Monday, Mon-Fri, Monday through Friday, weekdays,
weekends, daily, every day) and time ranges (9am-5pm, 9 to 5, 8:00-17:00, noon, midnight)
in units about hours (they say open/hours/close, sit under an "hours" heading, or name a day):
a range applies to the days named before it in the unit, else after it, else every day; "closed
on Sundays" / "Sunday: closed" closes a day. Ranges without am/pm read as business hours (9-5
is 9 AM to 5 PM). Times are taken on the sandbox clock's day (UTC), as the prompt states them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from . import language as lang

__all__ = ["Document", "Passage", "Prompt", "Hours", "system_prompt", "documents_from"]


@dataclass(frozen=True)
class Document:
    """A knowledge-base file the assistant answers from: its name and its text."""

    name: str
    text: str


def documents_from(items: Sequence[Document | Mapping[str, Any]] | None) -> list[Document]:
    """Documents from `Document`s or `{"name", "text"}` mappings (an empty text is skipped)."""
    out = []
    for item in items or ():
        doc = item if isinstance(item, Document) else Document(str(item.get("name") or "document"), str(item.get("text") or ""))
        if doc.text.strip():
            out.append(doc)
    return out


def system_prompt(config: Mapping[str, Any]) -> str:
    """The prompt text of an assistant (its system messages) or of a workflow (global prompt and node prompts)."""
    model = config.get("model") if isinstance(config.get("model"), Mapping) else {}
    parts = [
        m["content"]
        for m in (model or {}).get("messages") or []
        if isinstance(m, Mapping) and m.get("role") == "system" and isinstance(m.get("content"), str) and m["content"].strip()
    ]
    workflow = (model or {}).get("workflow") if isinstance((model or {}).get("workflow"), Mapping) else None
    for flow in (workflow, config if "nodes" in config or "globalPrompt" in config else None):
        if not flow:
            continue
        if isinstance(flow.get("globalPrompt"), str) and flow["globalPrompt"].strip():
            parts.append(flow["globalPrompt"])
        nodes = [n for n in flow.get("nodes") or [] if isinstance(n, Mapping) and isinstance(n.get("prompt"), str) and n["prompt"].strip()]
        nodes.sort(key=lambda n: not n.get("isStart"))
        parts += [n["prompt"] for n in nodes]
    return "\n\n".join(parts)


# ---------------------------------------------------------------- perspective

_CUSTOMER_NOUN = r"(?:callers?|customers?|clients?|patients?|users?|guests?|visitors?|pet owners?|dog owners?|owners?)"
_DETERMINER = r"(?:(?:the|a|an|each|every|all|any|our|your)\s+)?"
_VERB_S = {
    "is": "are", "was": "were", "has": "have", "does": "do", "goes": "go", "needs": "need", "wants": "want", "gets": "get",
    "pays": "pay", "brings": "bring", "arrives": "arrive", "receives": "receive", "books": "book", "calls": "call",
    "comes": "come", "makes": "make", "takes": "take", "gives": "give", "keeps": "keep", "asks": "ask", "cancels": "cancel",
    "checks": "check", "drops": "drop", "picks": "pick", "leaves": "leave", "says": "say", "must": "must", "can": "can",
}  # fmt: skip
_ASSISTANT_YOU = (
    (r"\byou are\b", "I am"), (r"\byou're\b", "I'm"), (r"\byou were\b", "I was"), (r"\byou have\b", "I have"),
    (r"\byou've\b", "I've"), (r"\byou'll\b", "I'll"), (r"\byou'd\b", "I'd"), (r"\byourself\b", "myself"),
    (r"\byours\b", "mine"), (r"\byour\b", "my"),
)  # fmt: skip


def _case_like(original: str, replacement: str) -> str:
    return replacement[:1].upper() + replacement[1:] if original[:1].isupper() else replacement


def _replacer(replacement: str, *, keep_case: bool) -> Callable[[re.Match[str]], str]:
    return lambda match: _case_like(match.group(0), replacement) if keep_case else replacement


def as_assistant(text: str) -> str:
    """Prompt text said by the assistant: you/your → I/me/my, then the customer becomes "you".

    Quoted words are left as written; a sentence that starts with "Please" speaks to the customer already."""
    if re.match(r"^\s*please\b", text, re.I):
        return address_customer(text)
    return address_customer(_outside_quotes(text, _assistant_you))


def _assistant_you(text: str) -> str:
    for pattern, replacement in _ASSISTANT_YOU:
        text = re.sub(pattern, _replacer(replacement, keep_case=not replacement.startswith("I")), text, flags=re.I)

    def you(match: re.Match[str]) -> str:
        before = text[max(0, match.start() - 16) : match.start()].rstrip()
        starts = not before or before[-1] in ".,;:!?(" or re.search(r"\b(?:and|but|or|so|if|when|then|because|that)$", before, re.I)
        return "I" if starts else "me"

    text = re.sub(r"\byou\b", you, text, flags=re.I)
    return text.replace("I am ", "I'm ")


def to_listener(text: str) -> str:
    """Words addressed to the customers ("tell callers to bring their records"): their/they/them → your/you."""
    return address_customer(text, force=True)


_AFTER_PERSON = (
    r"(?=\s*(?:[.,;:!?)]|$)|\s+(?:must|mustn't|should|shouldn't|can|can't|cannot|will|won't|may|might|need|needs|are|is|were|was|have|has|"
    r"get|gets|receive|receives|pay|pays|bring|brings|arrive|arrives|who|that|do|does|don't|doesn't|would|could|want|wants|call|calls|"
    r"book|books|like|likes|often|usually|always|never|also|only|of|about|to|for|when|if|before|after|with|at|on|in|and|or|by|from|as|so)\b)"
)
"""A customer noun is a person ("callers must...", "...to the caller.") when a verb or the clause's end follows it, not a modifier ("patient visits")."""


def address_customer(text: str, *, force: bool = False) -> str:
    """Third-person customers ("the caller", "customers", "their") addressed as "you" (quoted words are left as written)."""
    return _outside_quotes(text, lambda part: _address_customer(part, force=force))


def _outside_quotes(text: str, change: Callable[[str], str]) -> str:
    parts = re.split(r'("[^"\n]*")', text)
    return "".join(part if i % 2 else change(part) for i, part in enumerate(parts))


def _address_customer(text: str, *, force: bool) -> str:
    text = re.sub(rf"\b{_DETERMINER}{_CUSTOMER_NOUN}(?:'s|')(?=\s)", lambda m: _case_like(m.group(0), "your"), text, flags=re.I)
    person = rf"\b{_DETERMINER}{_CUSTOMER_NOUN}\b{_AFTER_PERSON}"
    if not force and not re.search(person, text, re.I):
        return text
    text = re.sub(person, lambda m: _case_like(m.group(0), "you"), text, flags=re.I)
    for pattern, replacement in ((r"\btheir\b", "your"), (r"\bthey're\b", "you're"), (r"\bthey\b", "you"), (r"\bthem\b", "you"), (r"\bthemselves\b", "yourself")):
        text = re.sub(pattern, _replacer(replacement, keep_case=True), text, flags=re.I)
    return re.sub(r"\b(you|You) (\w+)\b", lambda m: f"{m.group(1)} {_VERB_S.get(m.group(2), m.group(2))}", text)


# ---------------------------------------------------------------- units

_HEADING = (
    re.compile(r"^#{1,6}\s+(.+?)\s*#*$"),
    re.compile(r"^\[(.+)\]$"),
    re.compile(r"^\*\*(.+?)\*\*:?$"),
    re.compile(r"^([A-Z][A-Z0-9 &/'-]{1,40})$"),
    re.compile(r"^([^.!?:]{1,40}):$"),
)
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+(.*)$")

_MENTION_VERBS = (
    r"mention(?:ing)?|say(?:ing)?|discuss(?:ing)?|talk(?:ing)? about|bring(?:ing)? up|reveal(?:ing)?|shar(?:e|ing)|disclos(?:e|ing)|"
    r"quot(?:e|ing)|ask(?:ing)? (?:about|for)|refer(?:ring)? to|recommend(?:ing)?|promis(?:e|ing)|offer(?:ing)?|suggest(?:ing)?|"
    r"use the (?:words?|phrases?|terms?)|use|give out|provide|tell (?:them|callers|customers|anyone) about|speak about|comment on"
)
_PROHIBITION = re.compile(
    r"\b(?:never|do not|don't|dont|must not|mustn't|should not|shouldn't|cannot|can't|may not|are not allowed to|aren't allowed to|"
    r"avoid|refrain from|under no circumstances(?: should you)?)\s+(?:ever\s+|at all\s+|any\s+)?(?:" + _MENTION_VERBS + r")\s+(?P<what>.+)",
    re.IGNORECASE,
)
_AVOID = re.compile(r"\b(?:avoid|no talk of|stay away from)\s+(?P<what>(?!being\b|using\b)[^.;]+)", re.IGNORECASE)
_PASSIVE = re.compile(
    r"(?<=\s)(?:(?:must|should|may)\s(?:never|not)\sbe\s(?:mentioned|discussed|said|brought up|revealed|shared)|(?:is|are) off[- ]limits)\b",
    re.IGNORECASE,
)
"""The verb of "X must never be mentioned" / "X is off-limits" (X: the words before it in its clause)."""
_CUT = re.compile(
    r"(?:,\s?(?:even|unless|except|but|because|since|as|if|when|and instead)\b|\b(?:unless|even if|except|because|since|instead)\b|[.;!?]).*$",
    re.IGNORECASE | re.S,
)
_LEAD = re.compile(
    r"^(?:(?:the|a|an|any|your|our|their|that|those|these|this|anything|something|things|topics|words|phrases|terms)\s+"
    r"(?:about|regarding|related to|like|such as|involving)?\s*)+",
    re.IGNORECASE,
)

_FRAMES = (
    re.compile(
        r"^(?:if|when(?:ever)?)\s+(?:the\s+)?(?:someone|anyone|they|people|a\s+" + _CUSTOMER_NOUN + r"|" + _CUSTOMER_NOUN + r")\s+"
        r"(?:asks?|wants? to know|inquires?|enquires?|wonders?|asks? you)\s+(?:about\s+|for\s+|regarding\s+)?(?P<topic>.+?),\s*"
        r"(?:then\s+)?(?:say|tell (?:them|the \w+)|answer|respond|reply|let (?:them|the \w+) know|explain|inform (?:them|the \w+))"
        r"(?:\s+(?:that|with))?\s*:?\s*(?P<answer>.+)$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^(?:always\s+)?(?:tell|inform|remind|let)\s+(?:the\s+)?(?:" + _CUSTOMER_NOUN + r"|them|people|everyone|anyone)(?:\s+know)?\s+(?:that\s+)?(?P<answer>.+)$",
        re.IGNORECASE,
    ),
    re.compile(r"^say\s*:?\s*(?P<answer>[\"\u201c].+)$", re.IGNORECASE),
)
_IMPERATIVE = frozenset(
    """act acknowledge address always answer apologize apologise ask assist assume avoid be begin book call capture check clarify close
    collect confirm continue direct do don't double-check encourage end ensure escalate explain find focus follow gather get give greet
    guide handle help identify inform introduce keep lead let limit listen maintain make mention never note offer only please politely
    provide reassure recommend refer remain remember repeat reply request respond route say schedule sell share speak spell start stay
    suggest summarize summarise take talk tell thank transfer treat try use verify wait welcome write sound project adopt mirror match show
    convey express vary pause emphasize emphasise stick steer redirect deflect decline refuse wrap reference cite""".split()
)
_YOU_STEER = re.compile(r"^(?:you|your job|your task|your goal|your role)\s+(?:should|must|need to|will|have to|are to|is to|always|never|may|might)\b", re.I)
_IDENTITY = re.compile(r"^(?:you are|you're|your name is|you work as|you act as|you are called)\s+(?P<who>.+)$", re.IGNORECASE)
_PURPOSE = re.compile(
    r"\b(?:you are|you're|i am|i'm)?\s*calling\s+(?P<how>to|about|because|regarding)\s+(?P<what>.+)|"
    r"\b(?:the\s+)?(?:purpose|goal|reason)\s+(?:of|for)\s+(?:this|the|each)\s+call\s+is\s+(?:to\s+)?(?P<what2>.+)|"
    r"\byour\s+(?:goal|task|job|role)\s+is\s+to\s+(?P<what3>.+)",
    re.IGNORECASE,
)


@dataclass
class Passage:
    """Something the assistant can say: its words, where they come from, and what they match."""

    text: str
    source: str
    section: str
    order: int
    keys: list[str] = field(default_factory=list)
    concepts: set[str] = field(default_factory=set)
    own: list[str] | None = None
    """For a list item split from a passage: the stems of the item itself (the rest come from its label)."""
    distinct: set[str] = field(default_factory=set)
    """For a list item: the kinds of fact it carries and no other item of its list does ("$120" among "$120, 45 minutes")."""


@dataclass
class _Unit:
    text: str
    section: str
    source: str


def _units(text: str, source: str) -> list[_Unit]:
    units = []
    section = ""
    for raw in lang.plain(text).splitlines():
        line = raw.strip()
        if not line:
            continue
        heading = next((m.group(1).strip(" *:") for p in _HEADING if (m := p.match(line))), None)
        if heading is not None and len(heading.split()) <= 6:
            section = heading
            continue
        bullet = _BULLET.match(line)
        body = bullet.group(1) if bullet else line
        body = re.sub(r"\*\*(.+?)\*\*", r"\1", body)
        if bullet and re.match(r"^[^.!?]{1,40}:\s*\S", body):
            units.append(_Unit(body.strip(), section, source))  # "Nail trim: $15" stays one unit
            continue
        for sentence in lang.sentences(body):
            units.append(_Unit(sentence, section, source))
    return units


def terms_of(what: str) -> list[str]:
    """The terms of a list like "ID or insurance cards" (articles dropped; quoted terms as quoted)."""
    what = _CUT.sub("", what.strip()).strip()
    quoted = re.findall(r"[\"\u201c]([^\"\u201d]+)[\"\u201d]", what)
    if quoted:
        return [q.strip() for q in quoted if q.strip()]
    out = []
    for item in lang.split_list(what):
        item = _LEAD.sub("", item.strip(" '\"()")).strip()
        item = re.sub(r"^(?:to|about)\s+", "", item, flags=re.I)
        if item and len(item.split()) <= 6 and lang.content(item):
            out.append(item)
    return out


def prohibited_terms(unit: str) -> list[str]:
    """The terms a unit forbids the assistant to say (empty when it is not a prohibition)."""
    for pattern in (_PROHIBITION, _AVOID):
        match = pattern.search(unit)
        if match:
            terms = terms_of(match.group("what"))
            if terms:
                return terms
    passive = _PASSIVE.search(unit)
    if passive:
        clause = re.split(r"[.;:!?]|,\s*(?:and|but|so)?\s*", unit[: passive.start()])[-1]
        return terms_of(" ".join(clause.split()[-8:]))
    return []


def _is_instruction(unit: str) -> bool:
    """Whether a unit steers the assistant (an imperative, "you should...", a conditional) rather than states a fact."""
    first = re.sub(r"^(?:first|then|next|also|finally|always|please|politely|kindly)[,\s]+", "", unit.strip(), flags=re.I)
    word = re.match(r"[A-Za-z'-]*", first)
    verb = word.group(0).lower() if word else ""
    return verb in _IMPERATIVE or verb in ("if", "when", "whenever", "once", "after", "before") or _YOU_STEER.match(first) is not None


# ---------------------------------------------------------------- opening hours

_DAY_NAMES = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2, "thu": 3, "thur": 3, "thurs": 3,
    "thursday": 3, "fri": 4, "friday": 4, "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}  # fmt: skip
_DAY = r"(?:mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:r|rs|rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)s?\.?"
_DAY_SPEC = re.compile(
    rf"\b(?P<a>{_DAY})(?:\s*(?:-|to|through|thru|until|till)\s*(?P<b>{_DAY}))?(?![a-z])|\b(?P<group>weekdays?|weekends?|daily|every\s+day|7\s+days\s+a\s+week|seven\s+days\s+a\s+week)\b",
    re.IGNORECASE,
)


def _clock(name: str) -> str:
    return rf"(?:(?P<{name}h>\d{{1,2}})(?::(?P<{name}m>\d{{2}}))?\s*(?P<{name}ap>a\.?m\.?|p\.?m\.?)?(?![\d:])|(?P<{name}w>noon|midnight))"


_RANGE = re.compile(rf"(?:from\s+)?{_clock('s')}\s*(?:-|to|until|till|through|thru)\s*{_clock('e')}", re.IGNORECASE)
_CLOSED = re.compile(r"\bclosed\b", re.IGNORECASE)


@dataclass
class Hours:
    """Opening hours by weekday (0 = Monday): a list of (open, close) in minutes after midnight."""

    days: dict[int, list[tuple[int, int]]]

    def open_at(self, moment: datetime) -> bool:
        minute = moment.hour * 60 + moment.minute
        return any(start <= minute and minute + SLOT_MINUTES <= end for start, end in self.days.get(moment.weekday(), []))

    def next_slot(
        self,
        now: datetime,
        *,
        weekday: int | None = None,
        on: date | None = None,
        at: int | None = None,
        window: tuple[int, int] | None = None,
        after: datetime | None = None,
    ) -> datetime | None:
        """The first bookable start time from `now` (at least an hour ahead, on the half hour) that fits the wishes."""
        earliest = now + timedelta(hours=1)
        earliest = earliest.replace(minute=0 if earliest.minute == 0 else 30 if earliest.minute <= 30 else 0, second=0, microsecond=0)
        if earliest < now + timedelta(hours=1):
            earliest += timedelta(minutes=30)
        if after is not None and after >= earliest:
            earliest = after + timedelta(minutes=30)
        for offset in range(0, 15):
            day = (now + timedelta(days=offset)).date()
            if (weekday is not None and day.weekday() != weekday) or (on is not None and day != on):
                continue
            for start, end in self.days.get(day.weekday(), []):
                low, high = start, end - SLOT_MINUTES
                if at is not None:
                    low = high = at if start <= at <= end - SLOT_MINUTES else -1
                elif window is not None:
                    low, high = max(low, window[0]), min(high, window[1] - SLOT_MINUTES)
                minute = low
                while 0 <= minute <= high:
                    moment = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=now.tzinfo)
                    if moment >= earliest:
                        return moment
                    minute += 30
        return None

    def describe(self) -> str:
        """"Monday to Friday 9:00 AM to 5:00 PM, Saturday 10:00 AM to 2:00 PM"."""
        groups: list[tuple[list[int], list[tuple[int, int]]]] = []
        for day in range(7):
            spans = self.days.get(day, [])
            if not spans:
                continue
            if groups and groups[-1][1] == spans and groups[-1][0][-1] == day - 1:
                groups[-1][0].append(day)
            else:
                groups.append(([day], spans))
        names = [d.capitalize() for d in lang.WEEKDAYS]
        parts = []
        for days, spans in groups:
            label = names[days[0]] if len(days) == 1 else f"{names[days[0]]} to {names[days[-1]]}"
            parts.append(label + " " + " and ".join(f"{_fmt_minutes(a)} to {_fmt_minutes(b)}" for a, b in spans))
        return ", ".join(parts)


SLOT_MINUTES = 30


def _fmt_minutes(minutes: int) -> str:
    hour, minute = divmod(minutes, 60)
    return f"{(hour % 12) or 12}:{minute:02d} {'AM' if hour % 24 < 12 else 'PM'}"


def _day_set(match: re.Match[str]) -> list[int]:
    group = (match.group("group") or "").lower()
    if group:
        if group.startswith("weekday"):
            return [0, 1, 2, 3, 4]
        if group.startswith("weekend"):
            return [5, 6]
        return list(range(7))
    first = _DAY_NAMES[re.sub(r"s?\.?$", "", match.group("a").lower()) or match.group("a").lower()]
    if not match.group("b"):
        return [first]
    last = _DAY_NAMES[re.sub(r"s?\.?$", "", match.group("b").lower())]
    return [(first + i) % 7 for i in range((last - first) % 7 + 1)]


def _day_key(token: str) -> int | None:
    word = token.lower().rstrip(".")
    for candidate in (word, word[:-1] if word.endswith("s") else word):
        if candidate in _DAY_NAMES:
            return _DAY_NAMES[candidate]
    return None


def _range_minutes(match: re.Match[str]) -> tuple[int, int] | None:
    def part(name: str) -> tuple[int | None, int, str | None]:
        word = (match.group(f"{name}w") or "").lower()
        if word:
            return (12 if word == "noon" else 0), 0, ("pm" if word == "noon" else "am")
        ap = (match.group(f"{name}ap") or "").lower().replace(".", "") or None
        return int(match.group(f"{name}h")), int(match.group(f"{name}m") or 0), ap

    (h1, m1, a1), (h2, m2, a2) = part("s"), part("e")
    if h1 is None or h2 is None or h1 > 24 or h2 > 24:
        return None
    explicit = a1 or a2 or ":" in match.group(0) or match.group("sw") or match.group("ew")
    if not explicit and not (h2 < h1 or h1 >= 6):
        return None
    if a1 is None and a2 is None:
        if h1 > 12 or h2 > 12:  # 24-hour clock
            return h1 * 60 + m1, (h2 % 24 or (24 if h2 == 24 else 0)) * 60 + m2
        a1 = "am" if h1 >= 6 and h1 != 12 else "pm"
        a2 = "pm" if h2 <= h1 or h2 == 12 or h2 < 8 else "am"
    elif a1 is None:
        a1 = "am" if (a2 == "pm" and h1 > h2 and h1 != 12) else a2
    elif a2 is None:
        a2 = "pm" if h2 <= h1 or a1 == "pm" else a1
    start = (h1 % 12 + (12 if a1 == "pm" else 0)) * 60 + m1
    end = (h2 % 12 + (12 if a2 == "pm" else 0)) * 60 + m2
    if end == 0:
        end = 24 * 60
    return (start, end) if end > start else None


def parse_hours(units: Sequence[tuple[str, str]]) -> Hours | None:
    """Opening hours from (unit, section) pairs, or None when none are stated."""
    days: dict[int, list[tuple[int, int]]] = {}
    closed: set[int] = set()
    found = False
    for text, section in units:
        about_hours = re.search(r"\b(?:open|opens|hours?|close|closes|closed|available)\b", text, re.I) or "hour" in section.lower()
        specs = list(_DAY_SPEC.finditer(text))
        for closed_match in _CLOSED.finditer(text):
            # "closed on Sundays" names the days after it; "Sunday: closed" the days right before it
            after = [m for m in specs if closed_match.end() <= m.start() <= closed_match.end() + 12]
            before = [m for m in specs if closed_match.start() - 12 <= m.end() <= closed_match.start() and not _RANGE.search(text, m.end(), closed_match.start())]
            for m in after or before:
                closed.update(_day_set(m))
        ranges = [(m, r) for m in _RANGE.finditer(text) if (r := _range_minutes(m)) is not None]
        if not ranges or not (about_hours or specs):
            continue
        previous_end = 0
        for i, (match, span) in enumerate(ranges):
            before = [m for m in specs if previous_end <= m.start() < match.start()]
            next_start = ranges[i + 1][0].start() if i + 1 < len(ranges) else len(text)
            after = [m for m in specs if match.end() <= m.start() < next_start]
            chosen = before or after
            applies = sorted({d for m in chosen for d in _day_set(m)}) if chosen else list(range(7))
            for day in applies:
                days.setdefault(day, [])
                if span not in days[day]:
                    days[day].append(span)
            found = True
            previous_end = match.end()
    if not found:
        return None
    for day in closed:
        days.pop(day, None)
    return Hours({d: sorted(spans) for d, spans in sorted(days.items())})


# ---------------------------------------------------------------- the prompt


Booking = Literal["yes", "no", "redirect", "unknown"]
_BOOK = re.compile(r"\b(?:book(?:s|ed|ing|ings)?|schedul(?:e|es|ed|ing)|reserv(?:e|es|ed|ation|ations)|appointments?)\b", re.I)
_CANNOT_BOOK = re.compile(
    r"\b(?:cannot|can't|can not|unable to|not able to|don't|do not|never|won't|will not|not allowed to|aren't allowed to|are not allowed to|no)\s+"
    r"(?:\w+\s+){0,2}(?:book|schedul|reserv|make|take|set up)\w*",
    re.I,
)
_ONLINE = re.compile(r"\b(?:online|website|web site|app|portal|link|www\.|\w+\.(?:com|org|net|co|io))\b", re.I)


MAX_CHARS = 200_000
"""How much of a prompt, and of each document, is read (Vapi's models read far less)."""

_FILLER = frozenset(lang.stem(w) for w in "calling call ask asking asked wondering question questions info information inquire curious looking find out tell know".split())
"""Words that say a question is coming, not what it is about ("I'm calling to ask about...")."""


_OFFERINGS = frozenset(lang.stem(w) for w in "service services offer offers offering offerings option options menu product products treatment treatments package packages".split())
"""Words that ask what is offered, not which thing: answered by what carries a price ("What services do you offer?")."""
LISTED = 6
"""Passages a kind-of-fact question gets at most ("What are your prices?": a price list's items)."""


def _specific(label: str) -> bool:
    """Whether a list's label names a thing ("Full groom"), not only the kind of fact ("Prices", "Our services")."""
    generic = _OFFERINGS | set().union(*lang.CONCEPT_WORDS.values())
    return any(s not in generic for s in lang.content(label))


def _document_topic(name: str) -> str:
    """A document's name as a topic: `price-list.txt` is "price list"."""
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", name)
    return " ".join(re.split(r"[-_\s]+", stem)).strip().lower()


class Prompt:
    """A prompt and documents, read once (see the module docstring for the rules)."""

    def __init__(self, text: str, documents: Sequence[Document] = ()) -> None:
        text = text[:MAX_CHARS]
        self.text = text
        self.documents = list(documents)
        self.forbidden: list[str] = []
        self.passages: list[Passage] = []
        self.identity: str | None = None
        self.name: str | None = None
        self.business: str | None = None
        self.purpose: str | None = None
        self.booking: Booking = "unknown"
        self.booking_reply: str | None = None
        self.sections: list[str] = []
        units = _units(text, "prompt")
        doc_units = [u for d in self.documents for u in _units(d.text[:MAX_CHARS], d.name)]
        self._read_prompt(units)
        for unit in doc_units:
            self._add_fact(unit, unit.text, spoken=address_customer(unit.text))
        self.hours = parse_hours([(u.text, u.section) for u in units + doc_units])
        self._weights()

    # reading

    def _read_prompt(self, units: list[_Unit]) -> None:
        verdicts: list[str] = []
        for unit in units:
            terms = prohibited_terms(unit.text)
            if terms:
                self.forbidden += [t for t in terms if t not in self.forbidden]
            verdicts.append(self._booking_verdict(unit.text, prohibition=bool(terms)))
            purpose = _PURPOSE.search(unit.text)
            if purpose and self.purpose is None:
                how = purpose.group("how") or "to"
                what = purpose.group("what") or purpose.group("what2") or purpose.group("what3") or ""
                self.purpose = lang.ensure_period(address_customer(f"I'm calling {how} {as_assistant(what.rstrip('.'))}"))
            if terms:
                continue
            identity = _IDENTITY.match(unit.text)
            if identity and not _YOU_STEER.match(unit.text) and not re.match(r"(?:calling|going|here|about|to|not|able|allowed|unable|responsible)\b", identity.group("who"), re.I):
                self._read_identity(identity.group("who"), unit)
                continue
            frame = next((m for p in _FRAMES if (m := p.match(unit.text))), None)
            if frame:
                answer = frame.group("answer").strip()
                answer = re.sub(r"^[\"\u201c](.+?)[\"\u201d]\.?$", r"\1", answer)
                topic = frame.groupdict().get("topic") or ""
                spoken = answer if answer != frame.group("answer").strip() else as_assistant(answer)
                if frame.re is _FRAMES[1]:
                    spoken = to_listener(as_assistant(answer))
                    if re.match(r"^to\s+", answer, re.I):
                        spoken = "Please " + spoken[3:]
                self._add_fact(unit, f"{topic} {answer}", spoken=spoken)
                continue
            if _is_instruction(unit.text):
                continue
            self._add_fact(unit, unit.text, spoken=as_assistant(unit.text))
        if "redirect" in verdicts:
            self.booking = "redirect"
            unit_text = next(u.text for u, v in zip(units, verdicts, strict=True) if v == "redirect")
            clause = next((c for c in re.split(r"\s*(?:;|,\s*but\b|\.\s)\s*", unit_text) if _ONLINE.search(c)), unit_text)
            self.booking_reply = lang.ensure_period(lang.first_upper(as_assistant(clause.strip())))
        elif "no" in verdicts:
            self.booking = "no"
        elif "yes" in verdicts:
            self.booking = "yes"

    @staticmethod
    def _booking_verdict(text: str, *, prohibition: bool) -> str:
        if not _BOOK.search(text):
            return ""
        names_time = lang.DAY.search(text) or lang.CLOCK.search(text)
        if _ONLINE.search(text) and not re.search(r"\b(?:you|i) can (?:book|schedul|reserv)", text, re.I):
            return "redirect"
        if _CANNOT_BOOK.search(text) or (prohibition and re.search(r"\b(?:offer|promise)\w*\s+(?:to\s+)?(?:book|schedul|appointment)", text, re.I)):
            return "" if names_time else "no"
        return "yes"

    def _read_identity(self, who: str, unit: _Unit) -> None:
        who = who.strip().rstrip(".")
        spoken = lang.ensure_period(f"I'm {as_assistant(who)}")
        if self.identity is None:
            self.identity = spoken
        name = re.match(r"^([A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?)\b", who)
        if name and self.name is None and name.group(1).split()[0] not in ("A", "An", "The"):
            self.name = name.group(1)
        business = re.search(r"\b(?:at|for|with|from|of)\s+(?:the\s+)?((?:[A-Z][\w'&-]*)(?:\s+(?:&\s+)?[A-Z][\w'&-]*)*)", who)
        if business and self.business is None:
            self.business = business.group(1)
        self._add_fact(unit, f"name who {who}", spoken=spoken)

    def _add_fact(self, unit: _Unit, match_text: str, *, spoken: str) -> None:
        if re.search(r"\?[\"')\]]*\.?$", spoken.strip()):
            return  # a question the assistant would ask is never an answer
        spoken = lang.ensure_period(lang.first_upper(spoken.strip()))
        if unit.section and unit.section not in self.sections and unit.source == "prompt":
            self.sections.append(unit.section)
        keys = lang.content(match_text) + [s for s in lang.content(unit.section) if s not in lang.content(match_text)]
        concepts = lang.concepts_carried(match_text)
        self.passages.append(Passage(spoken, unit.source, unit.section, len(self.passages), keys, concepts))
        label, sep, rest = match_text.partition(":")
        labelled = bool(sep) and len(label.split()) <= 5
        items = lang.split_list(rest if labelled else match_text)
        priced = [i for i in items if lang.concepts_carried(i) & {"price", "duration"}]
        if len(items) >= 2 and len(priced) >= 2:
            named = labelled and _specific(label)  # "Full groom: $75 small, $95 large": each item says what it prices
            carried = [lang.concepts_carried(item) for item in priced]
            for i, item in enumerate(priced):
                own = lang.content(item)
                item_keys = own + [s for s in lang.content(label if labelled else "") if s not in own]
                said = f"{label.strip()}: {item}" if named else item
                text = address_customer(said) if unit.source != "prompt" else as_assistant(said)
                distinct = carried[i] - set().union(*(c for j, c in enumerate(carried) if j != i))
                self.passages.append(
                    Passage(lang.ensure_period(lang.first_upper(text)), unit.source, unit.section, len(self.passages), item_keys, carried[i], own, distinct)
                )

    def _weights(self) -> None:
        count = max(len(self.passages), 1)
        df: dict[str, int] = {}
        for passage in self.passages:
            for key in set(passage.keys):
                df[key] = df.get(key, 0) + 1
        self._df = df
        self._n = count

    def _weight(self, stem: str) -> float:
        return 1.0 + math.log(self._n / max(self._df.get(stem, 1), 1))

    # asking

    def answer(self, question: str) -> list[Passage]:
        """The passages that answer `question` (best first; several only for a kind-of-fact question), or []."""
        asked = [s for s in lang.content(question) if s not in _FILLER]
        kinds = lang.concepts_asked(question)
        if asked and all(s in _OFFERINGS or s in lang.CONCEPT_WORDS["price"] for s in asked):
            kinds = list(dict.fromkeys([*kinds, "price"]))  # "What services do you offer?": what is offered, at what price
        asked = [s for s in asked if s not in _OFFERINGS]
        kind_words = set().union(*(lang.CONCEPT_WORDS[k] for k in kinds)) if kinds else set()
        specific = [s for s in asked if s not in kind_words]
        if not specific:
            if not kinds:
                return []
            carrying = [p for p in self.passages if p.concepts & set(kinds) and not self._is_sub(p)]
            return carrying[:LISTED]
        weight = {s: self._weight(s) for s in specific}
        total = sum(weight.values())
        best: list[tuple[tuple[float, int, float, int], Passage]] = []
        for passage in self.passages:
            keys = set(passage.keys)
            exact = [s for s in specific if s in keys]
            near = [s for s in specific if s not in keys and any(lang.related(s, k) for k in keys)]
            matched = exact + near
            if not matched:
                continue
            if passage.own is not None and not passage.distinct & set(kinds) and not any(s in passage.own or any(lang.related(s, k) for k in passage.own) for s in matched):
                continue  # it matches by its label only, and is not the one item with the kind asked: the whole passage answers
            coverage = (sum(weight[s] for s in exact) + 0.5 * sum(weight[s] for s in near)) / total
            if coverage < 0.5:
                continue
            in_common = len(passage.concepts & set(kinds))
            if kinds and not in_common and any(k in ("price", "time", "duration") for k in kinds):
                coverage -= 0.25  # a price question is answered by a passage with a price, if there is one
            density = len(matched) / max(len(passage.keys), 1)
            best.append(((coverage, in_common, density, -passage.order), passage))
        best.sort(key=lambda item: item[0], reverse=True)
        return [best[0][1]] if best else []

    @staticmethod
    def _is_sub(passage: Passage) -> bool:
        """Whether a passage is a list item split from the passage before it (kind-of-fact answers use the whole)."""
        return passage.own is not None

    def violation(self, text: str) -> str | None:
        """The forbidden term `text` contains, if any."""
        return next((term for term in self.forbidden if lang.contains_phrase(text, term)), None)

    def keep_rules(self, text: str) -> str:
        """`text` without its sentences that contain a forbidden term."""
        if not self.forbidden:
            return text
        kept = [s for s in lang.sentences(text) if self.violation(s) is None]
        return " ".join(kept)

    def topics(self) -> list[str]:
        """Section headings that hold facts, lower-cased (for "what can you help with?"): the prompt's, then each
        document's (its headings, or else its name: `price-list.txt` is "price list")."""
        with_facts = {p.section for p in self.passages if p.source == "prompt" and p.section}
        found = [s.lower() for s in self.sections if s in with_facts and not re.search(r"identity|style|tone|guideline|rule|instruction|task|role|persona|behavio", s, re.I)]
        for document in self.documents:
            headings = list(dict.fromkeys(p.section.lower() for p in self.passages if p.source == document.name and p.section))
            found += headings or [_document_topic(document.name)]
        return list(dict.fromkeys(t for t in found if t))
