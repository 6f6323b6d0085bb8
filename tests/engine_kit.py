"""Shared by the conversation-engine tests (no tests here): the Sunny Paws receptionist of issue 16, a sandbox time, and a word finder."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

NOW = datetime(2026, 11, 2, 16, 0, tzinfo=UTC)
"""A Monday, 4 PM UTC (the ManualClock's default start)."""

SUNNY_PROMPT = """You are Riley, the friendly receptionist for Sunny Paws Dog Grooming.

## Services and prices
- Bath: $40
- Nail trim: {nail_trim}
- Full groom: $65 (includes a bath and a nail trim)

## Hours
We are open Monday to Friday, 9am to 5pm, and Saturday 10am to 2pm. Closed on Sundays.

## Rules
- {booking}
- Never mention ID or insurance cards.
- If a caller asks about parking, say "There is free parking behind the salon."
- Tell callers to bring a photo ID, their insurance card and their dog's vaccination records.
"""
"""Issue 16's receptionist. Its last rule contradicts the one before on purpose: the prohibition must win."""


def sunny(*, nail_trim: str = "$15", booking: str = "You can book grooming appointments.", **fields: Any) -> dict[str, Any]:
    """The Sunny Paws assistant as the sandbox stores it (a system prompt with prices, hours and rules)."""
    prompt = SUNNY_PROMPT.format(nail_trim=nail_trim, booking=booking)
    return {
        "name": "Sunny Paws Receptionist",
        "firstMessage": "Hi {{customer.name | default: 'there'}}, thanks for calling Sunny Paws! How can I help?",
        "model": {"provider": "openai", "model": "gpt-4o", "messages": [{"role": "system", "content": prompt}]},
        **fields,
    }


def says_word(text: str, word: str) -> bool:
    """Whether `word` occurs in `text` as a whole word (case-insensitive; a plural counts)."""
    return re.search(rf"\b{re.escape(word)}s?\b", text, re.IGNORECASE) is not None
