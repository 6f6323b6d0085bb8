"""Every policy rule refuses by name before anything is sent, and lets through what it should."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from tests.mcp_kit import SANDBOX, result_json, result_text
from tests.guard_kit import (
    LA,
    LONDON,
    NY,
    add_number,
    answering,
    audit_lines,
    posts,
    serve,
    with_policy,
)
from vapi_mcp.config import Settings
from vapi_mcp.guard import describe_policy
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.sandbox.core import stamp


@pytest.fixture(autouse=True)
def test_tools(request: pytest.FixtureRequest) -> None:
    """The `dial` test tool, except for tests that use the real tools (they take `sandbox`, not `stub_sandbox`)."""
    if "stub_sandbox" in request.fixturenames:
        request.getfixturevalue("family")

TOLL_FREE = "+18005550100"
"""A North American toll-free number: it rings in every time zone from Guam to Newfoundland."""


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 2, hour, minute, tzinfo=timezone.utc)  # after DST: New York is UTC-5, LA UTC-8


async def dial(settings: Settings, sandbox: Sandbox, clock: ManualClock, args: dict[str, Any]) -> Any:
    async with serve(settings, sandbox, clock) as client:
        return await client.call_tool("dial", args)


def one(number: str, **fields: Any) -> dict[str, Any]:
    return {"customer": {"number": number, **fields}}


def assert_refused(result: Any, rule: str, sandbox: Sandbox, *words: str) -> None:
    text = result_text(result)
    assert result.is_error, text
    assert f"Refused by rule `{rule}`" in text and "Nothing was sent" in text
    for word in words:
        assert word in text
    assert sandbox.requests == [] or all(r.method == "GET" for r in sandbox.requests)
    assert posts(sandbox) == 0


def assert_previewed(result: Any, sandbox: Sandbox) -> None:
    assert not result.is_error, result_text(result)
    assert result_json(result)["confirmationRequired"] is True
    assert posts(sandbox) == 0


@pytest.mark.parametrize(
    "number, words",
    [
        ("+15555550123", ["'+15555550123' is not a valid phone number"]),  # well formed, no such US number
        ("4155550123", ["E.164"]),  # no country code
        ("+1 415 555", []),
        ("call me", []),
    ],
)
async def test_e164_refuses_numbers_that_are_not_valid_for_their_region(
    number: str, words: list[str], settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    result = await dial(settings, stub_sandbox, clock, one(number))
    assert_refused(result, "e164", stub_sandbox, *words)


async def test_e164_checks_every_customer_of_a_batch(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    result = await dial(settings, stub_sandbox, clock, {"customers": [{"number": NY}, {"number": "+1555"}, {"number": LA}]})
    assert_refused(result, "e164", stub_sandbox, "'+1555'")


async def test_a_customer_without_the_e164_check_only_needs_vapis_format(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    relaxed = one("sip1234", numberE164CheckEnabled=False)
    assert_previewed(await dial(settings, stub_sandbox, clock, relaxed), stub_sandbox)
    bad = one("12-34", numberE164CheckEnabled=False)
    assert_refused(await dial(settings, stub_sandbox, clock, bad), "e164", stub_sandbox, "only letters and digits")


async def test_deny_numbers(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    denied = with_policy(settings, deny_numbers=("+1 212 555 0123",))
    result = await dial(denied, stub_sandbox, clock, {"customers": [{"number": LA}, {"number": NY}]})
    assert_refused(result, "deny_numbers", stub_sandbox, NY)
    assert_previewed(await dial(denied, stub_sandbox, clock, one(LA)), stub_sandbox)


async def test_allow_numbers(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    allowed = with_policy(settings, allow_numbers=(LA,))
    assert_refused(await dial(allowed, stub_sandbox, clock, one(NY)), "allow_numbers", stub_sandbox, NY)
    assert_previewed(await dial(allowed, stub_sandbox, clock, one(LA)), stub_sandbox)


@pytest.mark.parametrize("entry", ["44", "+44", "GB", "gb"])
async def test_deny_countries_by_calling_code_or_region(
    entry: str, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    denied = with_policy(settings, deny_countries=(entry,))
    assert_refused(await dial(denied, stub_sandbox, clock, one(LONDON)), "deny_countries", stub_sandbox, "+44 GB")
    assert_previewed(await dial(denied, stub_sandbox, clock, one(NY)), stub_sandbox)


@pytest.mark.parametrize("entry", ["1", "US"])
async def test_allow_countries_by_calling_code_or_region(
    entry: str, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    allowed = with_policy(settings, allow_countries=(entry,))
    assert_refused(await dial(allowed, stub_sandbox, clock, one(LONDON)), "allow_countries", stub_sandbox, LONDON)
    assert_previewed(await dial(allowed, stub_sandbox, clock, one(NY)), stub_sandbox)


async def test_an_allow_list_of_countries_refuses_a_number_of_unknown_country(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    allowed = with_policy(settings, allow_countries=("US",))
    result = await dial(allowed, stub_sandbox, clock, one("sip1234", numberE164CheckEnabled=False))
    assert_refused(result, "allow_countries", stub_sandbox, "sip1234")


async def test_batch_cap(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    capped = with_policy(settings, batch_cap=2)
    three = {"customers": [{"number": NY}, {"number": LA}, {"number": "+13125550123"}]}
    assert_refused(await dial(capped, stub_sandbox, clock, three), "batch_cap", stub_sandbox, "3 customers", "cap of 2")
    assert_previewed(await dial(capped, stub_sandbox, clock, {"customers": three["customers"][:2]}), stub_sandbox)


@pytest.fixture
def quiet(settings: Settings) -> Settings:
    return with_policy(settings, quiet_hours=True)


@pytest.mark.parametrize("hour, ok", [(12, False), (13, True), (1, True), (2, False)])
async def test_quiet_hours_in_the_callees_local_time(
    hour: int, ok: bool, quiet: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    """New York is UTC-5: 12:00Z is 07:00 there (too early), 13:00Z 08:00, 01:00Z 20:00, 02:00Z 21:00 (too late)."""
    clock.set(at(hour))
    result = await dial(quiet, stub_sandbox, clock, one(NY))
    if ok:
        assert_previewed(result, stub_sandbox)
    else:
        assert_refused(result, "quiet_hours", stub_sandbox, "America/New_York", "08:00-21:00")


async def test_quiet_hours_depend_on_where_the_callee_is(quiet: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    clock.set(at(15))  # 10:00 in New York, 07:00 in Los Angeles
    assert_previewed(await dial(quiet, stub_sandbox, clock, one(NY)), stub_sandbox)
    assert_refused(await dial(quiet, stub_sandbox, clock, one(LA)), "quiet_hours", stub_sandbox, "07:00 in America/Los_Angeles")


async def test_a_number_in_several_time_zones_must_be_inside_hours_in_all_of_them(
    quiet: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    clock.set(at(18))  # 13:00 in New York, 10:00 in Los Angeles, 08:00 in Honolulu, 04:00 in Guam
    result = await dial(quiet, stub_sandbox, clock, one(TOLL_FREE))
    assert_refused(result, "quiet_hours", stub_sandbox, "strictest", "Pacific/Guam")


async def test_a_number_of_unknown_time_zone_is_refused_and_says_why(
    quiet: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    clock.set(at(18))
    result = await dial(quiet, stub_sandbox, clock, one("sip1234", numberE164CheckEnabled=False))
    assert_refused(result, "quiet_hours", stub_sandbox, "local time of sip1234 is unknown", "--no-quiet-hours")


async def test_a_scheduled_call_is_checked_at_its_earliest_time(
    quiet: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    clock.set(at(3))  # 22:00 in New York now
    morning = {**one(NY), "earliestAt": "2026-11-02T15:00:00Z"}  # 10:00 in New York
    assert_previewed(await dial(quiet, stub_sandbox, clock, morning), stub_sandbox)
    clock.set(at(15))
    night = {**one(NY), "earliestAt": "2026-11-03T03:30:00Z"}  # 22:30 in New York
    assert_refused(await dial(quiet, stub_sandbox, clock, night), "quiet_hours", stub_sandbox, "22:30")


async def test_an_earliest_time_in_the_past_is_checked_now_not_then(
    quiet: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    """Vapi starts a call whose earliestAt has passed at once: yesterday's noon must not pass a call at 22:00."""
    clock.set(at(3))  # 22:00 in New York now
    yesterday_noon = {**one(NY), "earliestAt": "2026-11-01T17:00:00Z"}  # 12:00 in New York, yesterday
    assert_refused(await dial(quiet, stub_sandbox, clock, yesterday_noon), "quiet_hours", stub_sandbox, "22:00 in America/New_York")


async def test_the_whole_window_up_to_latest_must_be_inside_calling_hours(
    quiet: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    clock.set(at(14))  # 09:00 in New York
    inside = {**one(NY), "earliestAt": "2026-11-02T15:00:00Z", "latestAt": "2026-11-02T20:00:00Z"}  # 10:00-15:00
    assert_previewed(await dial(quiet, stub_sandbox, clock, inside), stub_sandbox)
    into_the_night = {**one(NY), "earliestAt": "2026-11-02T20:00:00Z", "latestAt": "2026-11-03T04:00:00Z"}  # 15:00-23:00
    assert_refused(
        await dial(quiet, stub_sandbox, clock, into_the_night), "quiet_hours", stub_sandbox, "23:00", "from 21:00 on"
    )
    over_a_night = {**one(NY), "earliestAt": "2026-11-02T15:00:00Z", "latestAt": "2026-11-03T15:00:00Z"}
    assert_refused(await dial(quiet, stub_sandbox, clock, over_a_night), "quiet_hours", stub_sandbox, "from 21:00 on")


async def test_a_window_ending_before_it_starts_is_refused_before_anyone_is_asked(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    callback, asked = answering("accept")
    clock.set(at(15))
    backwards = {**one(NY), "earliestAt": "2026-11-02T18:00:00Z", "latestAt": "2026-11-02T17:00:00Z"}
    empty = {**one(NY), "earliestAt": "2026-11-02T18:00:00Z", "latestAt": "2026-11-02T18:00:00Z"}
    over = {**one(NY), "latestAt": "2026-11-02T14:00:00Z"}
    async with serve(settings, stub_sandbox, clock, elicitation_callback=callback) as client:
        for args, words in ((backwards, "must be after earliestAt"), (empty, "must be after earliestAt"), (over, "already past")):
            assert_refused(await client.call_tool("dial", args), "schedule", stub_sandbox, words)
    assert asked == []
    assert [line["decision"] for line in audit_lines(settings)] == ["refused"] * 3


async def test_a_refusal_names_every_number_that_breaks_the_rule(
    quiet: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    clock.set(at(15))  # 10:00 in New York, 07:00 in Los Angeles
    batch = {"customers": [{"number": NY}, {"number": LA}, {"number": "+13105550123"}]}
    result = await dial(quiet, stub_sandbox, clock, batch)
    assert_refused(result, "quiet_hours", stub_sandbox, "2 numbers break it", LA, "+13105550123")
    assert NY not in result_text(result)


async def test_quiet_hours_follow_the_configured_window(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    clock.set(at(15))  # 10:00 in New York
    late_start = with_policy(settings, quiet_hours=True, quiet_start=11, quiet_end=20)
    assert_refused(await dial(late_start, stub_sandbox, clock, one(NY)), "quiet_hours", stub_sandbox, "11:00-20:00")


@pytest.mark.parametrize("callee", [NY, LONDON])
async def test_a_free_vapi_number_places_no_outbound_call(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock, callee: str) -> None:
    """Vapi's documentation (docs.vapi.ai/phone-calling): free Vapi numbers take inbound calls only; outbound calls
    need an imported number. A dial from one is refused before anyone is asked, at home as abroad, saying what to import."""
    free = add_number(stub_sandbox, "vapi")
    result = await dial(settings, stub_sandbox, clock, {"phoneNumberId": free, **one(callee)})
    assert_refused(result, "free_number", stub_sandbox, "free Vapi number +14155550100 takes inbound calls only", callee)
    assert "import_number" in result_text(result) and "Twilio, Telnyx or Vonage" in result_text(result)
    assert "only the user" not in result_text(result)  # no setting lifts it: it is Vapi's rule
    assert [r.path for r in stub_sandbox.requests] == [f"/phone-number/{free}"]


async def test_an_imported_number_may_call_abroad(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    twilio = add_number(stub_sandbox, "twilio")
    assert_previewed(await dial(settings, stub_sandbox, clock, {"phoneNumberId": twilio, **one(LONDON)}), stub_sandbox)


async def test_an_unknown_calling_number_stops_the_dial(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    result = await dial(settings, stub_sandbox, clock, {"phoneNumberId": "5b1f6a52-3c1e-4c35-8a3f-1d2e3f4a5b6c", **one(NY)})
    assert_refused(result, "unknown_id", stub_sandbox, "`phoneNumberId` 5b1f6a52-3c1e-4c35-8a3f-1d2e3f4a5b6c names no phone number", "list_phone_numbers")
    assert audit_lines(settings)[-1]["decision"] == "refused"


async def test_a_calling_number_that_cannot_be_looked_up_stops_the_dial(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    """Any failure but a 404 is not proof of anything: the free-number rule cannot be checked, so nothing is dialled."""
    from vapi_mcp.sandbox import Fault

    twilio = add_number(stub_sandbox, "twilio")
    stub_sandbox.inject(Fault("GET", "/phone-number/", status=500, times=10))
    result = await dial(settings, stub_sandbox, clock, {"phoneNumberId": twilio, **one(NY)})
    assert result.is_error and "Vapi failed with 500" in result_text(result)
    assert posts(stub_sandbox) == 0
    assert audit_lines(settings)[-1]["decision"] == "failed"


async def test_daily_cap_counts_every_customer_of_a_batch(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    capped = with_policy(settings, daily_cap=3)
    callback, _ = answering("accept")
    async with serve(capped, stub_sandbox, clock, elicitation_callback=callback) as client:
        batch = await client.call_tool("dial", {"customers": [{"number": NY}, {"number": LA}]})
        assert not batch.is_error, result_text(batch)
        too_many = await client.call_tool("dial", {"customers": [{"number": NY}, {"number": LA}]})
        assert too_many.is_error and "Refused by rule `daily_cap`: 2 of today's 3" in result_text(too_many)
        assert posts(stub_sandbox) == 1
        last = await client.call_tool("dial", one(NY))
        assert not last.is_error
        over = await client.call_tool("dial", one(NY))
        assert over.is_error and "daily_cap" in result_text(over)
        clock.advance(24 * 3600)
        tomorrow = await client.call_tool("dial", one(NY))
        assert not tomorrow.is_error, result_text(tomorrow)
    assert posts(stub_sandbox) == 3


def test_describe_policy_names_every_rule(settings: Settings) -> None:
    text = describe_policy(with_policy(settings, quiet_hours=True, deny_countries=("44",), allow_numbers=(NY,)))
    for expected in ("08:00-21:00", "batch cap:           50", "daily cap:           100", "deny countries:      +44 GB/GG/IM/JE", NY, "300 s", str(settings.audit_log)):
        assert expected in text
    assert "off" in describe_policy(settings).split("quiet hours:")[1].splitlines()[0]


# relaxed numbers (numberE164CheckEnabled: false) are resolved once, and every rule uses that reading


@pytest.mark.parametrize(
    "given, denied",
    [("14155550123", LA), ("0014155550123", LA), ("011442079460958", LONDON), ("442079460958", LONDON)],
)
async def test_a_relaxed_number_is_on_the_deny_list_whatever_its_form(
    given: str, denied: str, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    policy = with_policy(settings, deny_numbers=(denied,))
    result = await dial(policy, stub_sandbox, clock, one(given, numberE164CheckEnabled=False))
    assert_refused(result, "deny_numbers", stub_sandbox, given)
    assert audit_lines(policy)[-1]["decision"] == "refused"


async def test_a_relaxed_number_does_not_escape_the_country_rules(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    denied = with_policy(settings, deny_countries=("GB",))
    international = await dial(denied, stub_sandbox, clock, one("00442079460958", numberE164CheckEnabled=False))
    assert_refused(international, "deny_countries", stub_sandbox, "00442079460958 is in a denied country (+44 GB)")
    plain = await dial(denied, stub_sandbox, clock, one("442079460958", numberE164CheckEnabled=False))
    assert_refused(plain, "deny_countries", stub_sandbox, "the country of 442079460958 cannot be determined", "E.164 with its + country code")
    allowed = with_policy(settings, allow_countries=("US",))
    result = await dial(allowed, stub_sandbox, clock, one("14155550123", numberE164CheckEnabled=False))
    assert_refused(result, "allow_countries", stub_sandbox, "cannot be determined", "national number", "E.164 with its + country code")
    ok = await dial(allowed, stub_sandbox, clock, one("0014155550123", numberE164CheckEnabled=False))
    assert_previewed(ok, stub_sandbox)
    assert [line["decision"] for line in audit_lines(settings)] == ["refused", "refused", "refused", "previewed"]


async def test_quiet_hours_read_a_relaxed_number_with_an_international_prefix(
    quiet: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    clock.set(at(3))  # 22:00 in New York
    result = await dial(quiet, stub_sandbox, clock, one("0012125550123", numberE164CheckEnabled=False))
    assert_refused(result, "quiet_hours", stub_sandbox, "22:00 in America/New_York")
    plain = await dial(quiet, stub_sandbox, clock, one("12125550123", numberE164CheckEnabled=False))
    assert_refused(plain, "quiet_hours", stub_sandbox, "local time of 12125550123 is unknown", "E.164")


# the E.164 refusal says what is wrong and what to do


@pytest.mark.parametrize(
    "number, why",
    [
        ("+11234567890", "area code 123 does not exist"),
        ("+15555550123", "area code 555 is not assigned"),
        ("+1555", "too short"),
        ("+4420794609581234", "too long"),
        ("+9991234567", "not a country calling code"),
        ("4155550123", "has no + and country code"),
    ],
)
async def test_the_e164_refusal_says_what_is_wrong_and_to_ask_the_user(
    number: str, why: str, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    result = await dial(settings, stub_sandbox, clock, one(number))
    assert_refused(result, "e164", stub_sandbox, why, "Ask the user for the real number")


async def test_no_refusal_points_the_agent_at_a_setting_without_saying_only_the_user_can_change_it(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    import re

    capped = with_policy(settings, batch_cap=1, daily_cap=0)
    texts = [result_text(await dial(capped, stub_sandbox, clock, {"customers": [{"number": NY}, {"number": LA}]}))]
    texts.append(result_text(await dial(capped, stub_sandbox, clock, one(NY))))
    quiet = with_policy(settings, quiet_hours=True)
    texts.append(result_text(await dial(quiet, stub_sandbox, clock, one("sip1234", numberE164CheckEnabled=False))))
    for text in texts:
        assert "Refused by rule" in text, text
        if re.search(r"VAPI_MCP_|--[a-z]", text):
            assert "only the user" in text.lower(), text


PREMIUM = "+19005550123"


@pytest.mark.parametrize(
    ("rule", "changes", "callee", "setting"),
    [
        ("quiet_hours", {"quiet_hours": True}, LONDON, "VAPI_MCP_NO_QUIET_HOURS"),
        ("deny_numbers", {"deny_numbers": (NY,)}, NY, "VAPI_MCP_DENY_NUMBERS"),
        ("allow_numbers", {"allow_numbers": (LA,)}, NY, "VAPI_MCP_ALLOW_NUMBERS"),
        ("premium_rate", {}, PREMIUM, "VAPI_MCP_ALLOW_NUMBERS"),
        ("deny_countries", {"deny_countries": ("GB",)}, LONDON, "VAPI_MCP_DENY_COUNTRIES"),
        ("allow_countries", {"allow_countries": ("US",)}, LONDON, "VAPI_MCP_ALLOW_COUNTRIES"),
        ("daily_cap", {"daily_cap": 0}, NY, "VAPI_MCP_DAILY_CAP"),
    ],
)
async def test_a_refusal_a_setting_could_lift_names_it_and_says_only_the_user_can_change_it(
    rule: str, changes: dict[str, Any], callee: str, setting: str, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    """Issue 16, point 5: the README promised it; quiet hours (the guard's most common refusal) did not name its setting."""
    clock.set(at(3))  # 03:00 in London, 22:00 in New York
    text = result_text(await dial(with_policy(settings, **changes), stub_sandbox, clock, one(callee)))
    assert f"Refused by rule `{rule}`" in text, text
    assert setting in text and "only the user can change that setting" in text.lower(), text


# the question is built from verified facts


async def test_an_agent_supplied_name_is_quoted_and_cannot_pose_as_a_fact(
    settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    riley = stamp(clock, name='Riley" approved by admin', firstMessage="Hi.")
    sandbox.store.assistants[riley["id"]] = riley
    line = add_number(sandbox, "twilio")
    callback, asked = answering("decline")
    name = "Jane (+14155550100)\nApproved by admin"
    async with serve(settings, sandbox, clock, elicitation_callback=callback) as client:
        result = await client.call_tool(
            "create_call", {"assistantId": riley["id"], "phoneNumberId": line, "customer": {"number": NY, "name": name}}
        )
    assert result_json(result)["decision"] == "declined"
    [question] = asked
    assert "\n" not in question
    assert question.startswith(f'{SANDBOX}Call "Jane (+14155550100) App\u2026" ({NY}) from +14155550100 with assistant "Riley\' approved by admin" ')
    assert sandbox.requests_to("POST", "/call") == []


async def test_a_batch_question_says_how_many_numbers_go_to_which_country(
    settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    riley = stamp(clock, name="Riley")
    sandbox.store.assistants[riley["id"]] = riley
    line = add_number(sandbox, "twilio")
    customers = [{"number": f"+1212555{100 + i:04d}"} for i in range(5)] + [{"number": f"+4420794600{i:02d}"} for i in range(40)]
    callback, asked = answering("decline")
    async with serve(settings, sandbox, clock, elicitation_callback=callback) as client:
        await client.call_tool("create_call", {"assistantId": riley["id"], "phoneNumberId": line, "customers": customers})
    [question] = asked
    assert question.startswith(f"{SANDBOX}Call 45 numbers (40 in +44 GB, 5 in +1 US): +12125550100, "), question
    assert "and 40 more" in question


async def test_numbers_are_shown_and_sent_exactly_as_normalized(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    riley = stamp(clock, name="Riley")
    sandbox.store.assistants[riley["id"]] = riley
    line = add_number(sandbox, "twilio")
    arguments = {"assistantId": riley["id"], "phoneNumberId": line, "customer": {"number": "＋１ (２１２) ５５５\u00a0０１２３"}}
    async with serve(settings, sandbox, clock) as client:
        preview = result_json(await client.call_tool("create_call", arguments))
        assert preview["wouldSend"]["body"]["customer"]["number"] == NY
        assert f"Call {NY} from" in preview["summary"]
        placed = await client.call_tool("create_call", {**arguments, "confirmToken": preview["confirmToken"]})
    assert not placed.is_error, result_text(placed)
    [sent] = sandbox.requests_to("POST", "/call")
    assert sent.body["customer"]["number"] == NY
    assert [line["request"]["body"]["customer"]["number"] for line in audit_lines(settings)] == [NY, NY]


# unknown ids are refused before anyone is asked


@pytest.mark.parametrize("field", ["assistantId", "squadId"])
async def test_an_unknown_assistant_or_squad_is_refused_before_the_human_is_asked(
    field: str, settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    line = add_number(sandbox, "twilio")
    missing = "5b1f6a52-3c1e-4c35-8a3f-1d2e3f4a5b6c"
    callback, asked = answering("accept")
    async with serve(settings, sandbox, clock, elicitation_callback=callback) as client:
        result = await client.call_tool("create_call", {field: missing, "phoneNumberId": line, "customer": {"number": NY}})
    text = result_text(result)
    assert result.is_error and "Refused by rule `unknown_id`" in text and f"`{field}` {missing}" in text, text
    assert asked == [] and sandbox.requests_to("POST", "/call") == []
    assert audit_lines(settings)[-1]["decision"] == "refused"
