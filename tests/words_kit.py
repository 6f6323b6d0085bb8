"""Reading what a person reads (questions, refusals, results) the way a careful person would (issue 18).

`problems(text)` lists what a reader would call wrong in one text; `question_problems(question)` adds what a
question a human approves must say. Each rule is a defect that once shipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
PLURAL_NOUNS = (
    "others", "calls", "contacts", "numbers", "zones", "simulations", "iterations", "checkpoints", "evaluations",
    "assistants", "countries", "entries", "members", "turns", "items",
)  # fmt: skip
SANDBOX_FIRST = "SANDBOX (no real phone rings, nothing is billed): "


def problems(text: str) -> list[str]:
    """What reads wrong in any text the agent or the human gets."""
    found = []
    if re.search(r"(?<!\.)\.\.(?!\.)", text):
        found.append("a doubled full stop ('..')")
    one = re.search(r"\b1 (?:%s)\b" % "|".join(PLURAL_NOUNS), text)
    if one:
        found.append(f"a count of one with a plural noun: {one.group(0)!r}")
    if re.search(r"\b\d+ \d+ zones\b", text):
        found.append("two counts in a row ('1 2 zones')")
    if "(s)" in text:
        found.append("a hedged plural '(s)'")
    if re.search(r"\b0\.0 min\b", text):
        found.append("'0.0 min': a duration that rounds to nothing")
    vowel = re.search(r"\ba (?:assistant|exact|eval|inline|AI|unknown|hour|ai)\b", text)
    if vowel:
        found.append(f"'a' before a vowel sound: {vowel.group(0)!r}")
    if "Traceback" in text or "Unknown tool" in text:
        found.append("a crash or a bare 'Unknown tool'")
    if re.search(r"VAPI_MCP_[A-Z_]+", text) and "only the user" not in text.lower() and "only they can" not in text.lower():
        found.append("a setting named without saying only the user can change it")
    found += counts_that_do_not_add_up(text)
    return found


def counts_that_do_not_add_up(text: str) -> list[str]:
    """'call 20 contacts (by country: 12 in US (+1), 8 in GB (+44); by time zone: ...)': each tally sums to the whole."""
    found = []
    for whole, tallies in re.findall(r"call (\d+) contacts? \((by country: .*?)\) from ", text):
        for tally in re.findall(r"by (?:country|time zone): ([^;]*)", tallies):
            parts = [int(n) for n in re.findall(r"(?:^|, )(?:and )?(\d+) (?:more )?in ", tally)]
            if sum(parts) != int(whole):
                found.append(f"a tally of {sum(parts)} for {whole} contacts: {tally}")
    for started, total in re.findall(r"(\d+) can start now \(.*?\); the other (\d+) wait", text):
        if int(started) <= 0 or int(total) <= 0:
            found.append("a split of calls that does not add up")
    return found


def question_problems(question: str) -> list[str]:
    """What a question a human approves must say: the rehearsal first, names with ids (or, for what has no name,
    the facts that tell it apart first: 'the call to +1212... (ended, created ...; id ...)'), local time beside UTC."""
    found = problems(question)
    if not question.startswith(SANDBOX_FIRST):
        found.append("it does not say SANDBOX first")
    if re.search(r"\bbills?\b", question):
        found.append("it says something is billed, on the sandbox")
    for match in re.finditer(UUID, question):
        before = question[: match.start()]
        if not re.search(r'"[^"]+" \($|; id $', before):
            found.append(f"a bare id, without the name Vapi has for it: ...{question[max(0, match.start() - 40) : match.end()]}")
    if "not before" in question and "local time" not in question:
        found.append("a scheduled time in UTC only")
    return found


def every_problem(texts: Iterable[tuple[str, str]]) -> list[str]:
    """Each problem of each (where, text), where: 'question', or the tool and step that gave the text."""
    out = []
    for where, text in texts:
        for problem in question_problems(text) if where == "question" else problems(text):
            out.append(f"{where}: {problem}\n    {text[:400]}")
    return out
