"""Where Vapi asks a model to judge, extract or summarise, the sandbox applies written rules to the transcript.

A check passes only when the transcript supports it: a value is extracted only when the
conversation states it, otherwise it is null (a boolean is false). The rules, so that a test
(or an agent trying the sandbox) can make a check pass or fail on purpose:

**Reading a description.** A structured output's (or a judge's) words are read for: quoted
phrases ("..." or “...”); the *topic*, its content stems (language.content, camelCase and
snake_case names split) minus words that only say who or how (whether, did, the caller, the
assistant, mention, ask, true...); the *role* it is about, the first of assistant/agent/AI/bot
(the assistant's lines) or customer/caller/user/client/patient (the user's lines), else both; and
an *action* it asks about: book (book, schedule, reserve, appointment), reschedule, cancel,
transfer, order, enroll, pay.

**Eval judges** (`judge`): `exact` is a case-insensitive match of the whole reply; `regex`
searches the reply (a raw pattern or a literal like '/\\d+/i'); a checkpoint expecting tool
calls fails (the sandbox assistant calls none). An `ai` judge reads its messages (Liquid tags
such as {{messages}} removed): every quoted phrase must appear in the reply, except a phrase in a
negative clause ("must not say", "fail if it mentions", "without") which must not; unquoted
"must not mention X" / "fail if it mentions X" terms must not appear; the topic of the other
sentences (those not about the output format) must be covered at least half (a synonym counts; a
word naming a kind of fact, like "price", is covered by such a fact, like "$15") and a kind of
fact it names must be in the reply; a reply that says the assistant does not have the
information, or that repeats the user's last line, never covers it. A judge with nothing to
check fails and says how to write one the rules can check.

**Structured outputs** (`extract`), type `regex`: Vapi's documented rule on the transcript text
(boolean: matched; string: first capture group or match; number/integer: the first match as a
number; array: all matches). Type `ai`, by schema type:

- boolean, with quoted phrases: every phrase appears in the role's lines. About a social act or
  a sentiment: greeted (the assistant said hi/hello/welcome/thanks for calling), thanked,
  apologised, said goodbye, satisfied (the user said thanks/great/perfect/that works),
  frustrated/angry/upset (the user said so), in a sentence not negated. With an action: true
  only if an assistant sentence that is not a question says it is done (booked, scheduled,
  reserved, confirmed, "all set"; cancelled; transferring...), with no negation before it, not
  repeating the user's line, and the user asked for it (a user line names the action) or agreed
  ("yes" right after the assistant proposed it). Otherwise: true if a sentence of the role's
  lines (not negated, not "I don't have that information") covers at least half the topic (a
  question asking for a kind of fact, "How much...?", covers that kind: price).
  Else false.
- string: an `enum` value (the one mentioned last in the role's lines); `format` email, or an
  email topic → the first email address the user gave; date / time / date-time, or a date/time
  topic → the slot of the assistant's last confirmation (else last proposal), as YYYY-MM-DD,
  HH:MM or ISO 8601 (the year from `now`; without `now`, the slot as spoken); a name topic → a
  name the user gave ("my name is...", "this is...", "it's...", "my dog's name is..." for a pet);
  a phone topic → a phone number the user gave; quoted phrases → the first one that appears; a
  reason/purpose/intent topic → the user's first sentence that is not small talk (a leading
  greeting dropped); a summary topic → `summarise`; a price topic → the amount said in a line about the topic. Else null.
- number/integer: a price topic → the amount in the first line (assistant's, unless the role is
  the user) that shares the topic's other words (or any, when there are none); a duration →
  its minutes; "number of X" / count → the number the user put just before X (at most two words
  before); otherwise, in the first sentence of the role's lines that has a topic word, the number
  nearest that word. Else null.
- array: enum items mentioned; quoted phrases present; a "questions" topic → the user's
  questions; else [].
- object: each property by these rules, its name and description as its topic.

**Analysis** (`analyse`, the Assistant's deprecated but documented `analysisPlan`): nothing when
the conversation has fewer lines than `minMessagesThreshold` (default 2). `summarise` writes
what the user asked (quoted), how many the assistant answered from its prompt, the booking
outcome and how it ended. `evaluate_success` checks: the assistant replied to every user turn;
every question was answered from the prompt (if any was asked); a requested booking was
confirmed (if one was requested); no forbidden term of the prompt was said (if it forbids any),
and reports them in the plan's `rubric` (default PassFail: "true"/"false"; NumericScale 1-10,
PercentageScale "N%", DescriptiveScale, LikertScale from the share passed; Checklist "[x]/[ ]"
lines; Matrix "criterion: Meets / Does not meet" lines; AutomaticRubric "criterion: N/10" lines
and an overall score). `structuredDataPlan` (when enabled) extracts its schema like an `ai`
structured output named "structuredData" (a non-object value is returned as {"value": v});
`structuredDataMultiPlan` gives [{key: value}] for each enabled plan. `summaryPlan.enabled` /
`successEvaluationPlan.enabled` false leave those out. Custom `messages` cannot be followed by a
rule and are not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from . import language as lang
from .conversation import CANNOT_BOOK, Line, as_lines, parse_slot, parse_transcript, small_talk, transcript_text
from .prompt import Prompt, terms_of

__all__ = [
    "judge",
    "extract",
    "summarise",
    "evaluate_success",
    "analyse",
    "conditions_met",
    "at_path",
    "compare",
    "outputs_plan",
    "call_outputs",
    "quoted_phrases",
    "compile_pattern",
    "RUBRICS",
]

_QUOTED = re.compile(r'"([^"]+)"|\u201c([^\u201d]+)\u201d')
_LITERAL = re.compile(r"^/(.*)/([a-z]*)$", re.S)
_NO_INFO = re.compile(r"\bI don'?t have (?:that|this|any) information\b", re.I)


Transcript = Sequence[Line] | Sequence[Mapping[str, Any]] | str


def _lines(transcript: Transcript) -> list[Line]:
    lines = parse_transcript(transcript) if isinstance(transcript, str) else as_lines(transcript)  # type: ignore[arg-type]
    return [line for line in lines if line.role != "system"]


def quoted_phrases(*texts: str | None) -> list[str]:
    """Every double-quoted phrase in `texts`, in order."""
    return [a or b for text in texts if text for a, b in _QUOTED.findall(text)]


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A raw pattern or a regex literal like '/\\d+/gi' (flags i, m, s; g is implied)."""
    literal = _LITERAL.match(pattern)
    if literal is None:
        return re.compile(pattern)
    flags = 0
    for letter in literal.group(2):
        flags |= {"i": re.I, "m": re.M, "s": re.S}.get(letter, 0)
    return re.compile(literal.group(1), flags)


def _said_nothing_useful(text: str) -> bool:
    return not text.strip() or _NO_INFO.search(text) is not None


# ---------------------------------------------------------------- reading descriptions

_BOILERPLATE = frozenset(
    lang.stem(w)
    for w in """whether did does was were is are the customer customers caller callers user users client clients patient patients
    assistant assistants agent agents ai bot bots receptionist representative call calls conversation conversations chat true false
    if otherwise indicate indicates indicating extract extracted value values boolean flag yes no successfully success during mention
    mentioned mentions mentioning ask asked asks asking say said says saying talk talked discuss discussed provide provided give gave
    given request requested state stated inform informed tell told explicitly clearly correctly properly actually whole entire response
    responses reply replies replied answer answered message messages transcript pass passes passed fail fails failed judge judging
    evaluate evaluation evaluator evaluating check checks checking criteria criterion expected expect should must llm expert output
    respond only return word words exactly lowercase format result results verify ensure make sure any some""".split()
)
_ROLE_ASSISTANT = re.compile(r"\b(?:assistant|agent|ai|bot|receptionist|representative)\b", re.I)
_ROLE_USER = re.compile(r"\b(?:customer|caller|user|client|patient|person|tester)\b", re.I)

_ACTIONS: tuple[tuple[str, frozenset[str], re.Pattern[str]], ...] = (
    ("reschedule", frozenset({"reschedul"}), re.compile(r"\b(?:rescheduled|moved|changed)\b", re.I)),
    ("cancel", frozenset({"cancel", "cancellation"}), re.compile(r"\bcancell?ed\b", re.I)),
    (
        "book",
        frozenset(lang.stem(w) for w in "book booked booking appointment appointments schedule scheduled reserve reserved reservation".split()),
        re.compile(r"\b(?:booked|scheduled|reserved|confirmed|all set)\b", re.I),
    ),
    ("transfer", frozenset({"transfer", "connect", "forward"}), re.compile(r"\b(?:transferr(?:ed|ing)|connect(?:ed|ing) you|forward(?:ed|ing))\b", re.I)),
    ("order", frozenset({"order", "purchas", "buy"}), re.compile(r"\b(?:ordered|placed|purchased)\b", re.I)),
    ("enroll", frozenset({"enrol", "enroll", "regist", "signup"}), re.compile(r"\b(?:enrolled|registered|signed (?:you )?up)\b", re.I)),
    ("pay", frozenset({"pay", "payment", "paid"}), re.compile(r"\b(?:paid|processed|charged)\b", re.I)),
)
_AGREE = re.compile(r"^(?:yes|yeah|yep|yup|sure|ok|okay|please|that works|sounds good|perfect|great|go ahead|absolutely|definitely|book it)\b|\b(?:that works|works for me|sounds good)\b", re.I)


def _split_name(name: Any) -> str:
    if not isinstance(name, str):
        return ""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return re.sub(r"[_\-.]+", " ", spaced)


def _topic(text: str) -> list[str]:
    return [s for s in lang.content(text) if s not in _BOILERPLATE]


def _role(text: str) -> str | None:
    assistant = _ROLE_ASSISTANT.search(text)
    user = _ROLE_USER.search(text)
    if assistant and (not user or assistant.start() < user.start()):
        return "assistant"
    if user:
        return "user"
    return None


def _action(topic: list[str]) -> tuple[str, frozenset[str], re.Pattern[str]] | None:
    return next((a for a in _ACTIONS if any(s in a[1] for s in topic)), None)


def _scope(lines: list[Line], role: str | None) -> list[Line]:
    return [line for line in lines if role is None or line.role == role]


def _covers(text: str, topic: list[str]) -> float:
    """The share of `topic` stems a text covers (same stem, a synonym, a fact of the kind a stem names, or a question asking for one)."""
    if not topic:
        return 0.0
    have = lang.content(text)
    carried = lang.concepts_carried(text) | (set(lang.concepts_asked(text)) if text.rstrip().endswith("?") else set())
    hit = 0
    for stem in topic:
        if any(lang.related(stem, h) for h in have) or any(stem in lang.CONCEPT_WORDS[k] for k in carried):
            hit += 1
    return hit / len(topic)


# ---------------------------------------------------------------- eval judges

_NEGATIVE_CLAUSE = re.compile(
    r"\bfail(?:s|ed)?\s+(?:if|when|whenever)\b|\b(?:does not|doesn't|do not|don't|must not|mustn't|should not|shouldn't|never|without|avoid(?:s)?|not)\s+"
    r"(?:ever\s+)?(?:mention|say|include|contain|use|talk about|discuss|reveal|state|bring up|quote|offer)",
    re.I,
)
_NEGATIVE_TERMS = re.compile(
    r"(?:\bfail(?:s|ed)?\s+(?:if|when|whenever)\s+(?:the\s+)?(?:assistant|reply|response|agent|it|bot)\s+(?:ever\s+)?|"
    r"\b(?:does not|doesn't|do not|don't|must not|mustn't|should not|shouldn't|never|without|avoids?|not)\s+(?:ever\s+)?)"
    r"(?:mentions?|mentioning|says?|saying|includes?|including|contains?|containing|uses?|using|talks? about|talking about|discuss(?:es)?|discussing|"
    r"reveals?|revealing|states?|stating|brings? up|bringing up|quotes?|quoting|offers?|offering)\s+(?P<what>[^.;!?]+)",
    re.I,
)
_FORMAT_ONLY = re.compile(r"\b(?:respond|reply|answer|output|return)\s+(?:only\s+)?(?:with|in)\b|\bonly\s+(?:respond|reply|return|output|say)\b|\b(?:pass|fail)\b[^.]*\b(?:or|and)\b[^.]*\b(?:pass|fail)\b", re.I)


def judge(plan: Mapping[str, Any], reply: str, *, history: Sequence[Line | Mapping[str, Any]] = ()) -> tuple[bool, str | None]:
    """An eval checkpoint's verdict on the assistant's reply: (passed, failure reason)."""
    kind = plan.get("type")
    if plan.get("toolCalls"):
        names = ", ".join(str(call.get("name", "?")) for call in plan["toolCalls"])
        return False, f"Expected tool call(s) {names} but the assistant called none."
    if kind == "exact":
        expected = plan.get("content") or ""
        if reply.strip().casefold() == expected.strip().casefold():
            return True, None
        return False, f"Expected exact match: '{expected}' but got: '{reply}'"
    if kind == "regex":
        try:
            matched = compile_pattern(plan.get("content") or "").search(reply) is not None
        except re.error as exc:
            return False, f"The judge's regex does not compile: {exc}."
        return (True, None) if matched else (False, f"Expected content matching /{plan.get('content')}/ but got: '{reply}'")
    messages = (plan.get("model") or {}).get("messages") or []
    criteria = "\n".join(m["content"] for m in messages if isinstance(m, Mapping) and isinstance(m.get("content"), str))
    return _ai_verdict(_without_tags(criteria), reply, as_lines(history))


def _without_tags(text: str) -> str:
    """`text` without Liquid output and tags ({{messages}}, {% ... %}), in one pass."""
    out: list[str] = []
    pos = 0
    while True:
        starts = [i for i in (text.find("{{", pos), text.find("{%", pos)) if i >= 0]
        if not starts:
            return "".join(out) + text[pos:]
        start = min(starts)
        end = text.find("}}" if text.startswith("{{", start) else "%}", start + 2)
        if end < 0:
            return "".join(out) + text[pos:]
        out.append(text[pos:start] + " ")
        pos = end + 2


def _ai_verdict(criteria: str, reply: str, history: list[Line]) -> tuple[bool, str | None]:
    if not reply.strip():
        return False, "The assistant said nothing."
    must: list[str] = []
    must_not: list[str] = []
    topic: list[str] = []
    for sentence in lang.sentences(lang.plain(criteria).replace("\n", ". ")):
        negative = _NEGATIVE_CLAUSE.search(sentence) is not None
        phrases = quoted_phrases(sentence)
        (must_not if negative else must).extend(phrases)
        for match in _NEGATIVE_TERMS.finditer(sentence):
            must_not.extend(t for t in terms_of(_QUOTED.sub("", match.group("what"))) if t not in must_not)
        if not negative and not phrases and not _FORMAT_ONLY.search(sentence):
            topic += [s for s in _topic(sentence) if s not in topic]
    missing = next((p for p in must if p.casefold() not in reply.casefold()), None)
    if missing is not None:
        return False, f'The reply does not contain "{missing}".'
    said = next((t for t in must_not if t.casefold() in reply.casefold() or lang.contains_phrase(reply, t)), None)
    if said is not None:
        return False, f'The reply mentions "{said}", which the judge forbids.'
    if topic:
        if _said_nothing_useful(reply):
            return False, "The assistant said it does not have that information."
        last_user = next((line.text for line in reversed(history) if line.role == "user"), "")
        if len(last_user) > 8 and lang.plain(last_user).strip(" .!?").casefold() in lang.plain(reply).casefold():
            return False, "The reply repeats the user's words instead of answering."
        kinds = [k for k, stems in lang.CONCEPT_WORDS.items() if stems & set(topic)]
        if kinds and not lang.concepts_carried(reply) & set(kinds):
            return False, f"The reply gives no {' or '.join(kinds)}, which the judge asks for."
        if _covers(reply, topic) < 0.5:
            absent = [s for s in topic if _covers(reply, [s]) == 0]
            return False, f"The reply does not address what the judge asks for (missing: {', '.join(absent)})."
    if not (must or must_not or topic):
        return False, (
            "The sandbox judges by written rules and found nothing to check in this judge's messages: quote the words the reply "
            'must contain ("...") or name what it must not mention.'
        )
    return True, None


# ---------------------------------------------------------------- structured outputs


def extract(output: Mapping[str, Any], transcript: Transcript, *, now: datetime | None = None) -> Any:
    """The value a structured output (CreateStructuredOutputDTO) extracts from a conversation."""
    schema = output.get("schema") or {}
    if output.get("type") == "regex":
        text = transcript if isinstance(transcript, str) else transcript_text(_lines(transcript))
        return _by_regex(output.get("regex") or "", schema.get("type"), text)
    return _by_rule(schema, output.get("name"), output.get("description"), _lines(transcript), now)


def _by_regex(pattern: str, kind: str | None, transcript: str) -> Any:
    try:
        compiled = compile_pattern(pattern)
    except re.error:
        return None
    if kind == "boolean":
        return compiled.search(transcript) is not None
    if kind == "array":
        return [m.group(1) if m.groups() else m.group(0) for m in compiled.finditer(transcript)]
    found = compiled.search(transcript)
    if found is None:
        return None
    text = found.group(1) if found.groups() else found.group(0)
    return _as_number(text, kind) if kind in ("number", "integer") else text


def _by_rule(schema: Mapping[str, Any], name: Any, description: Any, lines: list[Line], now: datetime | None) -> Any:
    kind = schema.get("type")
    words = " ".join(t for t in (_split_name(name), description, schema.get("description"), schema.get("title")) if isinstance(t, str) and t)
    phrases = quoted_phrases(description if isinstance(description, str) else None, schema.get("description"))
    topic = _topic(_QUOTED.sub(" ", words))
    role = _role(words)
    if kind == "boolean":
        return _boolean(topic, phrases, role, lines)
    if kind == "string":
        return _string(schema, words, topic, phrases, role, lines, now)
    if kind in ("number", "integer"):
        return _number(kind, words, topic, role, lines)
    if kind == "array":
        items = schema.get("items") or {}
        enum = [str(v) for v in items.get("enum") or []]
        scope = " ".join(line.text for line in _scope(lines, role))
        if enum:
            return [v for v in enum if lang.contains_phrase(scope, v)]
        if phrases:
            return [p for p in phrases if p.casefold() in scope.casefold()]
        if "question" in topic:
            return [s for line in _scope(lines, role or "user") for s in lang.sentences(line.text) if s.rstrip().endswith("?")]
        return []
    if kind == "object":
        return {
            prop: _by_rule(sub, prop, sub.get("description"), lines, now)
            for prop, sub in (schema.get("properties") or {}).items()
            if isinstance(sub, Mapping)
        }
    return None


_ACTS: tuple[tuple[tuple[str, ...], re.Pattern[str], str | None], ...] = (
    (("greet", "welcom"), re.compile(r"^(?:hi|hello|hey|good (?:morning|afternoon|evening)|welcome)\b|\bthank(?:s| you) for calling\b", re.I), "assistant"),
    (("thank",), re.compile(r"\bthank", re.I), None),
    (("apolog", "sorry"), re.compile(r"\b(?:sorry|apologi[sz]e)", re.I), None),
    (("goodby", "farewell", "bye"), re.compile(r"\b(?:bye|goodbye|good-bye)\b", re.I), None),
    (("satisf", "happ"), re.compile(r"\b(?:thank|thanks|great|perfect|wonderful|awesome|appreciate|excellent|that works|sounds good)\b", re.I), "user"),
    (("frustrat", "angry", "upset", "annoy", "unhapp", "dissatisf"), re.compile(r"\b(?:frustrat|angry|upset|annoy|ridiculous|terrible|awful|useless|unacceptable|unhappy)\w*", re.I), "user"),
)
"""Social acts and sentiments a boolean may ask about (stem prefixes), the words that show them, and whose lines by default."""


def _boolean(topic: list[str], phrases: list[str], role: str | None, lines: list[Line]) -> bool:
    if phrases:
        scope = " ".join(line.text for line in _scope(lines, role)).casefold()
        return all(p.casefold() in scope for p in phrases)
    action = _action(topic)
    if action is not None:
        return _done(action, lines)
    act = next((a for a in _ACTS if any(s.startswith(a[0]) for s in topic)), None)
    if act is not None:
        _, shows, whose = act
        return any(shows.search(sentence) and not lang.negated(sentence) for line in _scope(lines, role or whose) for sentence in lang.sentences(line.text))
    if not topic:
        return False
    for line in _scope(lines, role):
        for sentence in lang.sentences(line.text):
            if lang.negated(sentence) or _said_nothing_useful(sentence):
                continue
            if _covers(sentence, topic) >= 0.5:
                return True
    return False


def _done(action: tuple[str, frozenset[str], re.Pattern[str]], lines: list[Line]) -> bool:
    """Whether an assistant sentence says the action is done, for a user who asked for it or agreed to it."""
    _, stems, done = action
    for i, line in enumerate(lines):
        if line.role != "assistant":
            continue
        previous_user = next((u.text for u in reversed(lines[:i]) if u.role == "user"), "")
        for sentence in lang.sentences(line.text):
            if sentence.rstrip().endswith("?"):
                continue
            match = done.search(sentence)
            if match is None or lang.negated(sentence[: match.start()]):
                continue
            if previous_user and len(previous_user) > 8 and lang.plain(previous_user).strip(" .!?").casefold() in sentence.casefold():
                continue  # an echo of the user's words is not the assistant doing anything
            if _asked_for(stems, lines[:i]):
                return True
    return False


def _asked_for(stems: frozenset[str], before: list[Line]) -> bool:
    for i, line in enumerate(before):
        if line.role != "user":
            continue
        for sentence in lang.sentences(line.text):
            if any(s in stems for s in lang.content(sentence)) and not re.search(r"\b(?:don'?t|do not|won'?t|never|no)\b", sentence, re.I):
                return True
        if _AGREE.search(line.text):
            proposal = next((p.text for p in reversed(before[:i]) if p.role == "assistant"), "")
            if proposal.rstrip().endswith("?") and any(s in stems for s in lang.content(proposal)):
                return True
    return False


_EMAIL_TOPIC = frozenset({"email", "mail"})
_NAME = re.compile(r"\b(?:my name is|my name's|this is|i am|i'm|it's|it is|name is|call me)\s+([A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?)")
_PET_NAME = re.compile(r"\b(?:dog|cat|pet|puppy)(?:'s name is|\s+is\s+(?:called|named)|\s+(?:called|named))\s+([A-Z][a-z'-]+)")


def _string(schema: Mapping[str, Any], words: str, topic: list[str], phrases: list[str], role: str | None, lines: list[Line], now: datetime | None) -> str | None:
    scope = _scope(lines, role)
    enum = [str(v) for v in schema.get("enum") or []]
    if enum:
        for line in reversed(scope):
            found = [(line.text.casefold().rfind(v.casefold()), v) for v in enum if lang.contains_phrase(line.text, v)]
            if found:
                return max(found)[1]
        return None
    fmt = schema.get("format")
    users = _scope(lines, "user") if role != "assistant" else scope
    if fmt == "email" or _EMAIL_TOPIC & set(topic):
        return next((m.group(0) for line in users for m in lang.EMAIL.finditer(line.text)), None)
    if fmt in ("date", "time", "date-time") or {"date", "time", "when", "slot"} & set(topic):
        return _slot_value(lines, fmt, now)
    if "name" in topic:
        pet = {"dog", "cat", "pet", "puppy"} & set(topic)
        pattern = _PET_NAME if pet else _NAME
        return next((m.group(1) for line in users for m in pattern.finditer(lang.plain(line.text))), None)
    if {"phone", "phon", "number"} & set(topic):
        return next((m.group(0).strip() for line in users for m in lang.PHONE.finditer(line.text)), None)
    if phrases:
        text = " ".join(line.text for line in scope).casefold()
        return next((p for p in phrases if p.casefold() in text), None)
    if {"reason", "purpos", "intent", "why"} & set(topic):
        said = (re.sub(r"^(?:hi|hello|hey|good (?:morning|afternoon|evening))[,!.]?\s+", "", s, flags=re.I) for line in _scope(lines, "user") for s in lang.sentences(line.text))
        return next((s for s in said if not small_talk(s)), None)
    if any(s.startswith("summar") for s in topic):
        return summarise(lines)
    if "price" in lang.concepts_asked(words):
        amount = _price(topic, role, lines)
        if amount is not None:
            return f"${amount:g}" if isinstance(amount, float) else f"${amount}"
    return None


def _slot_value(lines: list[Line], fmt: Any, now: datetime | None) -> str | None:
    said = [line.text for line in lines if line.role == "assistant"]
    confirmed = [t for t in said if re.search(r"\b(?:booked|scheduled|confirmed|reserved)\b", t, re.I) and not lang.negated(t)]
    for text in reversed(confirmed or said):
        if now is None:
            match = re.search(r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \w+ \d{1,2} at \d{1,2}:\d{2} (?:AM|PM)\b", text)
            if match:
                return match.group(0)
            continue
        moment = parse_slot(text, now)
        if moment is not None:
            if fmt == "date":
                return moment.strftime("%Y-%m-%d")
            if fmt == "time":
                return moment.strftime("%H:%M")
            return moment.isoformat()
    return None


_NUMBER = re.compile(r"\$?\d+(?:\.\d+)?")


def _numbers(text: str) -> list[tuple[int, float]]:
    """(position, value) of every number in the normalised text (money, digits, number words)."""
    normal = lang.normalise(text)
    return [(m.start(), float(m.group(0).lstrip("$"))) for m in _NUMBER.finditer(normal)]


def _price(topic: list[str], role: str | None, lines: list[Line]) -> float | None:
    specific = [s for s in topic if s not in lang.CONCEPT_WORDS["price"]]
    for line in _scope(lines, role or "assistant"):
        for sentence in lang.sentences(line.text):
            amounts = [m for m in re.finditer(r"\$(\d+(?:\.\d+)?)", lang.normalise(sentence))]
            if amounts and (not specific or any(s in lang.content(sentence) for s in specific)):
                return float(amounts[0].group(1))
    return None


def _number(kind: str, words: str, topic: list[str], role: str | None, lines: list[Line]) -> int | float | None:
    value: float | None = None
    asked = lang.concepts_asked(words)
    if "price" in asked or {"price", "pric", "cost"} & set(topic):
        value = _price(topic, role, lines)
    elif "duration" in asked or "minut" in topic:
        value = next((float(m.group(1)) for line in _scope(lines, role) for m in re.finditer(r"(\d+(?:\.\d+)?)\s*(?:-\s*\d+\s*)?(?:minutes?|mins?)\b", lang.normalise(line.text))), None)
    else:
        specific = [s for s in topic if s not in ("number", "count", "many", "amount", "total")]
        counting = re.search(r"\b(?:number of|how many|count)\b", words, re.I) is not None
        value = _near(specific, _scope(lines, "user" if counting and role is None else role), before_only=counting)
    return _as_number(str(value), kind) if value is not None else None


def _near(topic: list[str], lines: list[Line], *, before_only: bool) -> float | None:
    """The number nearest a topic word (just before it when counting)."""
    if not topic:
        return None
    for line in lines:
        for sentence in lang.sentences(line.text):
            normal = lang.normalise(sentence)
            tokens = list(re.finditer(r"\$?\d+(?:\.\d+)?|[a-z]+(?:'[a-z]+)?", normal))
            positions = [i for i, t in enumerate(tokens) if lang.stem(t.group(0)) in topic]
            if not positions:
                continue
            first = positions[0]
            numbers = [i for i, t in enumerate(tokens) if re.fullmatch(r"\$?\d+(?:\.\d+)?", t.group(0))]
            if before_only:
                numbers = [i for i in numbers if 0 < first - i <= 2]
            if numbers:
                best = min(numbers, key=lambda i: (abs(i - first), i))  # nearest the first topic word
                return float(tokens[best].group(0).lstrip("$"))
    return None


def _as_number(text: str, kind: str | None) -> int | float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if math.isnan(value) or math.isinf(value):
        return None
    return int(value) if kind == "integer" or value.is_integer() else value


# ---------------------------------------------------------------- structured outputs on calls (kept from extraction.py)


def at_path(value: Any, path: str | None) -> Any:
    """A primitive leaf of an object output by dot-notation path."""
    for part in (path or "").split(".") if path else ():
        value = value.get(part) if isinstance(value, dict) else None
    return value


def compare(actual: Any, comparator: str, expected: Any) -> bool:
    """`actual <comparator> expected`, as evaluation plans and scorecard conditions use it; no value never passes."""
    if actual is None or isinstance(actual, (dict, list)):
        return False
    if comparator == "=":
        return bool(actual == expected)
    if comparator == "!=":
        return bool(actual != expected)
    numeric = (int, float)
    if isinstance(actual, bool) or isinstance(expected, bool) or not (isinstance(actual, numeric) and isinstance(expected, numeric)):
        return False
    return {">": actual > expected, "<": actual < expected, ">=": actual >= expected, "<=": actual <= expected}.get(comparator, False)


def conditions_met(output: Mapping[str, Any], *, messages: int, seconds: float | None = None, ended_reason: str | None = None) -> bool:
    """Whether a structured output's `conditions` (minMessages, minCallDuration, endedReason; all must hold) let it run."""
    for condition in output.get("conditions") or []:
        kind = condition.get("type")
        if kind == "minMessages" and messages < (condition.get("count") or 0):
            return False
        if kind == "minCallDuration" and (seconds or 0) < (condition.get("seconds") or 0):
            return False
        if kind == "endedReason":
            listed = ended_reason in (condition.get("values") or [])
            if listed != (condition.get("operator") == "oneOf"):
                return False
    return True


def outputs_plan(
    artifact_plan: Mapping[str, Any] | None,
    saved: Mapping[str, Mapping[str, Any]],
    new_id: Callable[[], str],
    saved_scorecards: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """What a call will extract when it ends, from its assistant's `artifactPlan`: saved outputs by id, inline ones,
    saved scorecards by id (`scorecardIds`, keyed by their own id, with the saved outputs they read) and inline ones."""
    plan = artifact_plan or {}
    outputs = [(i, saved[i]) for i in plan.get("structuredOutputIds") or [] if i in saved]
    outputs += [(new_id(), o) for o in plan.get("structuredOutputs") or [] if isinstance(o, Mapping)]
    cards = saved_scorecards or {}
    scorecards = [(i, cards[i]) for i in plan.get("scorecardIds") or [] if isinstance(i, str) and i in cards]
    scorecards += [(new_id(), s) for s in plan.get("scorecards") or [] if isinstance(s, Mapping)]
    extracted = {i for i, _ in outputs}
    for _, card in scorecards:
        for metric in card.get("metrics") or []:
            ident = metric.get("structuredOutputId") if isinstance(metric, Mapping) else None
            if isinstance(ident, str) and ident in saved and ident not in extracted:
                outputs.append((ident, saved[ident]))
                extracted.add(ident)
    return {"outputs": outputs, "scorecards": scorecards} if outputs or scorecards else None


def call_outputs(
    call: Mapping[str, Any], transcript: Transcript, *, now: datetime | None = None, seconds: float | None = None, ended_reason: str | None = None
) -> dict[str, Any]:
    """`artifact.structuredOutputs` and `artifact.scorecards` of an ended call (reruns overwrite extracted values; gated outputs are skipped)."""
    plan = call.get("_outputs_plan") or {}
    lines = _lines(transcript)
    values = {
        i: {"name": o.get("name"), "result": extract(o, transcript, now=now)}
        for i, o in plan.get("outputs", [])
        if conditions_met(o, messages=len(lines), seconds=seconds, ended_reason=ended_reason)
    }
    values.update(call.get("_structured_outputs") or {})
    out: dict[str, Any] = {"structuredOutputs": values} if values else {}
    cards = {}
    for card_id, card in plan.get("scorecards", []):
        points, top = {}, 0.0
        for metric in card.get("metrics") or []:
            result = (values.get(metric.get("structuredOutputId")) or {}).get("result")
            conditions = metric.get("conditions") or []
            top += sum(c.get("points", 0) for c in conditions)
            points[metric.get("structuredOutputId")] = sum(c.get("points", 0) for c in conditions if compare(result, c.get("comparator", "="), c.get("value")))
        score = sum(points.values())
        normalized = -(-score * 100 // top) if top else 0  # ceil(score / maxPoints * 100)
        cards[card_id] = {"name": card.get("name"), "score": score, "scoreNormalized": normalized, "metricPoints": points}
    if cards:
        out["scorecards"] = cards
    return out


# ---------------------------------------------------------------- analysis

RUBRICS = ("NumericScale", "DescriptiveScale", "Checklist", "Matrix", "PercentageScale", "LikertScale", "AutomaticRubric", "PassFail")
"""SuccessEvaluationPlan.rubric values, each formatted by `evaluate_success`."""

_GOODBYE = re.compile(r"\b(?:bye|goodbye|good-bye|have a (?:good|great|nice) day|that'?s all)\b", re.I)
_BOOK_REQUEST = re.compile(r"\b(?:book|schedule|reschedule|reserve|appointment|reservation)\b", re.I)


def _questions(lines: list[Line]) -> list[tuple[int, str]]:
    """(line index, sentence) of every question the user asked."""
    return [(i, s) for i, line in enumerate(lines) if line.role == "user" for s in lang.sentences(line.text) if s.rstrip().endswith("?")]


def _reply_after(lines: list[Line], index: int) -> str | None:
    nxt = lines[index + 1] if index + 1 < len(lines) else None
    return nxt.text if nxt is not None and nxt.role == "assistant" else None


def _booking_state(lines: list[Line]) -> tuple[bool, bool, str | None, bool]:
    """(requested, confirmed, slot spoken, refused) for the conversation."""
    requested = any(line.role == "user" and _BOOK_REQUEST.search(line.text) for line in lines)
    book = next(a for a in _ACTIONS if a[0] == "book")
    confirmed = _done(book, lines)
    slot_re = re.compile(r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \w+ \d{1,2} at \d{1,2}:\d{2} (?:AM|PM)\b")
    slots = [m.group(0) for line in lines if line.role == "assistant" for m in slot_re.finditer(line.text)]
    refused = any(line.role == "assistant" and (CANNOT_BOOK in line.text or "can't book" in line.text) for line in lines)
    return requested, confirmed, (slots[-1] if slots else None), refused


def summarise(transcript: Transcript, plan: Mapping[str, Any] | None = None, *, ended_reason: str | None = None) -> str | None:
    """`analysis.summary` by rule (None when the plan disables it or nobody spoke)."""
    if plan is not None and plan.get("enabled") is False:
        return None
    lines = _lines(transcript)
    if not lines:
        return None
    parts = []
    questions = _questions(lines)
    if questions:
        shown = "; ".join(f'"{q}"' for _, q in questions[:3])
        more = f" and {len(questions) - 3} more" if len(questions) > 3 else ""
        parts.append(f"The user asked {shown}{more}.")
        unanswered = sum(1 for i, _ in questions if _said_nothing_useful(_reply_after(lines, i) or ""))
        answered = len(questions) - unanswered
        text = f"The assistant answered {answered} of {len(questions)} from its prompt"
        parts.append(text + (f" and said it did not have the information for {unanswered}." if unanswered else "."))
    else:
        parts.append("The user asked no questions.")
    requested, confirmed, slot, refused = _booking_state(lines)
    if confirmed:
        parts.append(f"A booking was confirmed for {slot}." if slot else "A booking was confirmed.")
    elif requested and refused:
        parts.append("The user asked to book; the assistant said it could not.")
    elif requested and slot:
        parts.append(f"The assistant offered {slot}; no booking was confirmed.")
    elif requested:
        parts.append("The user asked to book; no booking was confirmed.")
    if any(_GOODBYE.search(line.text) for line in lines[-2:]):
        parts.append("The conversation ended with a goodbye.")
    if ended_reason:
        parts.append(f"Ended reason: {ended_reason}.")
    return " ".join(parts)


def _criteria(lines: list[Line], system_prompt: str) -> list[tuple[str, bool]]:
    users = [i for i, line in enumerate(lines) if line.role == "user"]
    out: list[tuple[str, bool]] = []
    if not users:
        return [("The user said something", False)]
    unanswered_turns = [i for i in users if _reply_after(lines, i) is None and not (i == len(lines) - 1 and _GOODBYE.search(lines[i].text))]
    out.append(("The assistant replied to every user turn", not unanswered_turns))
    questions = _questions(lines)
    if questions:
        out.append(("Every question was answered from the prompt", all(not _said_nothing_useful(_reply_after(lines, i) or "") for i, _ in questions)))
    requested, confirmed, _, _ = _booking_state(lines)
    if requested:
        out.append(("The requested booking was confirmed", confirmed))
    prompt = Prompt(system_prompt) if system_prompt else None
    if prompt is not None and prompt.forbidden:
        said = " ".join(line.text for line in lines if line.role == "assistant")
        out.append(("No forbidden term was said", prompt.violation(said) is None))
    return out


def evaluate_success(
    transcript: Transcript, plan: Mapping[str, Any] | None = None, *, system_prompt: str = "", ended_reason: str | None = None
) -> str | None:
    """`analysis.successEvaluation` by rule, in the plan's rubric (None when the plan disables it)."""
    if plan is not None and plan.get("enabled") is False:
        return None
    criteria = _criteria(_lines(transcript), system_prompt)
    share = sum(ok for _, ok in criteria) / len(criteria)
    rubric = (plan or {}).get("rubric") or "PassFail"
    if rubric == "NumericScale":
        return str(round(1 + 9 * share))
    if rubric == "PercentageScale":
        return f"{round(100 * share)}%"
    if rubric == "DescriptiveScale":
        return "Excellent" if share == 1 else "Good" if share >= 0.75 else "Fair" if share >= 0.5 else "Poor"
    if rubric == "LikertScale":
        return "Strongly Agree" if share == 1 else "Agree" if share >= 0.75 else "Neutral" if share >= 0.5 else "Disagree" if share >= 0.25 else "Strongly Disagree"
    if rubric == "Checklist":
        return "\n".join(f"[{'x' if ok else ' '}] {name}" for name, ok in criteria)
    if rubric == "Matrix":
        return "\n".join(f"{name}: {'Meets' if ok else 'Does not meet'}" for name, ok in criteria)
    if rubric == "AutomaticRubric":
        return "\n".join([*(f"{name}: {10 if ok else 0}/10" for name, ok in criteria), f"Overall: {round(10 * share)}/10"])
    return "true" if share == 1 else "false"


def analyse(
    transcript: Transcript,
    analysis_plan: Mapping[str, Any] | None,
    *,
    system_prompt: str = "",
    ended_reason: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A Call's `analysis` by rule, from the assistant's `analysisPlan` (see the module docstring)."""
    plan = analysis_plan or {}
    lines = _lines(transcript)
    threshold = plan.get("minMessagesThreshold")
    if len(lines) < (threshold if isinstance(threshold, (int, float)) else 2):
        return {}
    out: dict[str, Any] = {}
    summary = summarise(lines, plan.get("summaryPlan"), ended_reason=ended_reason)
    if summary is not None:
        out["summary"] = summary
    success = evaluate_success(lines, plan.get("successEvaluationPlan"), system_prompt=system_prompt, ended_reason=ended_reason)
    if success is not None:
        out["successEvaluation"] = success
    data_plan = plan.get("structuredDataPlan") or {}
    if data_plan.get("enabled") and isinstance(data_plan.get("schema"), Mapping):
        value = extract({"name": "structuredData", "schema": data_plan["schema"]}, lines, now=now)
        out["structuredData"] = value if isinstance(value, dict) else {"value": value}
    multi = [
        {item["key"]: extract({"name": item["key"], "schema": item["plan"]["schema"]}, lines, now=now)}
        for item in plan.get("structuredDataMultiPlan") or []
        if isinstance(item, Mapping) and isinstance(item.get("plan"), Mapping) and item["plan"].get("enabled", True) is not False and isinstance(item["plan"].get("schema"), Mapping) and item.get("key")
    ]
    if multi:
        out["structuredDataMulti"] = multi
    return out
