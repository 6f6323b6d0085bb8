"""The sandbox's /campaign, /analytics and call logs over HTTP: Vapi's shapes, a lifecycle on the clock, real aggregates."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx2 as httpx
import pytest

from tests.openapi import assert_valid, schema
from vapi_mcp.sandbox import Sandbox, analytics, campaigns
from vapi_mcp.sandbox.core import stamp


@pytest.fixture
def sandbox(either_world: Sandbox) -> Sandbox:
    """Every test here runs on a world in memory and on one in an SQLite file."""
    return either_world


BASE = "http://sandbox.vapi.local"


@pytest.fixture
def ids(sandbox, clock) -> dict[str, str]:
    assistant = stamp(clock, name="Riley", firstMessage="Hi, this is Riley.")
    twilio = stamp(clock, provider="twilio", number="+14155550101", name="Outbound", status="active")
    free = stamp(clock, provider="vapi", number="+14155550100", name="Free", status="active")
    sandbox.store.assistants[assistant["id"]] = assistant
    sandbox.store.phone_numbers.update({twilio["id"]: twilio, free["id"]: free})
    return {"assistantId": assistant["id"], "twilio": twilio["id"], "free": free["id"]}


def customers(n: int) -> list[dict[str, Any]]:
    return [{"number": f"+1212555{1000 + i:04d}", "name": f"Contact {i}"} for i in range(n)]


def campaign_body(ids: dict[str, str], n: int = 12, **extra: Any) -> dict[str, Any]:
    return {"name": "Recall", "assistantId": ids["assistantId"], "phoneNumberId": ids["twilio"], "customers": customers(n), **extra}


@pytest.mark.parametrize(
    ("rule", "name"),
    [
        (campaigns.CREATE_CAMPAIGN, "CreateCampaignDTO"),
        (campaigns.UPDATE_CAMPAIGN, "UpdateCampaignDTO"),
        (campaigns.DIAL_PLAN_ENTRY, "DialPlanEntry"),
        (analytics.ANALYTICS_QUERY, "AnalyticsQueryDTO"),
        (analytics.QUERY, "AnalyticsQuery"),
        (analytics.OPERATION, "AnalyticsOperation"),
        (analytics.TIME_RANGE, "TimeRange"),
    ],
)
def test_each_dto_declares_the_documents_fields(rule, name):
    assert rule.names == set(schema(name)["properties"])
    assert set(rule.required) == set(schema(name).get("required", []))


def test_the_enums_are_the_documents():
    props = schema("AnalyticsOperation")["properties"]
    assert analytics.OPERATIONS == tuple(props["operation"]["enum"]) and analytics.COLUMNS == tuple(props["column"]["enum"])
    assert analytics.GROUP_BY == tuple(schema("AnalyticsQuery")["properties"]["groupBy"]["items"]["enum"])
    assert analytics.STEPS == tuple(schema("TimeRange")["properties"]["step"]["enum"])
    assert campaigns.CONTACT_STATUSES == tuple(schema("CampaignContactWithOutcome")["properties"]["status"]["enum"])
    assert campaigns.SERVER_MESSAGES == tuple(schema("CreateCampaignDTO")["properties"]["serverMessages"]["items"]["enum"])
    assert set(campaigns.STATUSES) == set(schema("Campaign")["properties"]["status"]["enum"])


async def test_a_campaign_is_created_in_vapis_shape_and_dials_at_max_concurrency(api, ids, sandbox, clock):
    response = await api.post("/v2/campaign", json=campaign_body(ids, maxConcurrency=3))
    assert response.status_code == 201, response.text
    created = response.json()
    assert_valid("Campaign", created)
    assert created["status"] == "in-progress" and created["callsCounterScheduled"] == 9
    assert len(sandbox.store.calls) == 3, "three contacts dialled at once"
    assert all(call["campaignId"] == created["id"] for call in sandbox.store.calls.values())
    clock.advance(1000)
    summary = (await api.get(f"/v2/campaign/{created['id']}", params={"includeCounters": "true"})).json()
    assert_valid("CampaignSummary", summary)
    assert summary["status"] == "ended" and summary["endedReason"] == "campaign.ended.success"
    counters = summary["contactCounters"]
    assert sum(counters.values()) == 12 and counters["completed"] + counters["failed"] == 12
    assert summary["callMetrics"]["dialed"] == 12 and len(sandbox.store.calls) == 12
    calls = [(await api.get(f"/call/{i}")).json() for i in sandbox.store.calls]
    reasons = Counter(call["endedReason"] for call in calls)
    assert len(reasons) >= 5, "outcomes vary"
    assert summary["callMetrics"]["connected"] == sum(n for r, n in reasons.items() if r not in campaigns.NOT_CONNECTED)
    starts = sorted(call["createdAt"] for call in calls)
    assert all(sum(1 for c in calls if c["createdAt"] <= s < c["endedAt"]) <= 3 for s in starts), "never more than 3 at once"


async def test_a_campaign_from_a_free_vapi_number_dials_no_one(api, ids, sandbox, clock):
    """Free Vapi numbers take inbound calls only: every contact's call ends at its start, without a transport."""
    response = await api.post("/v2/campaign", json={**campaign_body(ids, 3), "phoneNumberId": ids["free"]})
    assert response.status_code == 201, response.text
    clock.advance(1000)
    summary = (await api.get(f"/v2/campaign/{response.json()['id']}", params={"includeCounters": "true"})).json()
    assert summary["contactCounters"]["failed"] == 3 and summary["callMetrics"]["connected"] == 0
    calls = [(await api.get(f"/call/{i}")).json() for i in sandbox.store.calls]
    assert {(c["endedReason"], c["endedAt"] == c["createdAt"]) for c in calls} == {("call.start.error-get-transport", True)}


async def test_contacts_page_and_filter_by_status_with_each_outcome(api, ids, clock):
    created = (await api.post("/v2/campaign", json=campaign_body(ids, 12))).json()
    clock.advance(1000)
    page = (await api.get(f"/v2/campaign/{created['id']}/contacts", params={"limit": 5, "page": 2})).json()
    assert_valid("CampaignContactPaginatedResponse", page)
    assert [c["number"] for c in page["results"]] == [c["number"] for c in customers(12)[5:10]]
    assert page["metadata"] == {"itemsPerPage": 5, "totalItems": 12, "currentPage": 2, "totalPages": 3, "hasNextPage": True}
    failed = (await api.get(f"/v2/campaign/{created['id']}/contacts", params=[("status", "contact.failed"), ("limit", "100")])).json()
    assert failed["results"] and all(c["status"] == "contact.failed" and c["callId"] and c["endedReason"] in campaigns.FAILED for c in failed["results"])
    either = (await api.get(f"/v2/campaign/{created['id']}/contacts", params=[("status", "contact.failed"), ("status", "contact.completed")])).json()
    assert either["metadata"]["totalItems"] == 12
    bad = await api.get(f"/v2/campaign/{created['id']}/contacts", params={"status": "done"})
    assert bad.status_code == 400 and "status must be one of" in bad.text


async def test_cancelling_stops_dialling_and_lets_calls_in_progress_finish(api, ids, sandbox, clock):
    created = (await api.post("/v2/campaign", json=campaign_body(ids, 12, maxConcurrency=2))).json()
    clock.advance(6)
    await api.get(f"/v2/campaign/{created['id']}")  # the sandbox moves campaigns on whenever a request arrives
    dialled = len(sandbox.store.calls)
    assert 2 < dialled < 12
    cancelled = await api.patch(f"/v2/campaign/{created['id']}", json={"status": "cancelled"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["endedReason"] == "campaign.in-progress.ended-by-user"
    clock.advance(1000)
    summary = (await api.get(f"/v2/campaign/{created['id']}", params={"includeCounters": True})).json()
    assert len(sandbox.store.calls) == dialled
    assert summary["contactCounters"]["skipped"] == 12 - dialled and summary["contactCounters"]["dispatched"] == 0
    again = await api.patch(f"/v2/campaign/{created['id']}", json={"status": "cancelled"})
    assert again.status_code == 400


async def test_a_scheduled_campaign_waits_and_only_then_may_change(api, ids, sandbox, clock):
    body = campaign_body(ids, 4, schedulePlan={"earliestAt": "2026-11-02T18:00:00Z", "latestAt": "2026-11-02T19:00:00Z"})
    created = (await api.post("/campaign", json=body)).json()
    assert created["status"] == "scheduled" and not sandbox.store.calls
    renamed = await api.patch(f"/campaign/{created['id']}", json={"name": "Recall 2", "dialPlan": [{"phoneNumberId": ids["twilio"], "customers": customers(6)}]})
    assert renamed.status_code == 200 and len(renamed.json()["dialPlan"][0]["customers"]) == 6
    clock.set(clock.now().replace(hour=18, minute=0, second=1))
    running = (await api.get(f"/v2/campaign/{created['id']}")).json()
    assert running["status"] == "in-progress" and sandbox.store.calls
    late = await api.patch(f"/campaign/{created['id']}", json={"schedulePlan": {"earliestAt": "2026-11-03T18:00:00Z"}})
    assert late.status_code == 400 and "only a scheduled campaign" in late.text


async def test_contacts_left_after_the_window_are_skipped(api, ids, sandbox, clock):
    body = campaign_body(ids, 10, maxConcurrency=1, schedulePlan={"earliestAt": "2026-11-02T16:00:00Z", "latestAt": "2026-11-02T16:00:08Z"})
    created = (await api.post("/v2/campaign", json=body)).json()
    clock.advance(1000)
    summary = (await api.get(f"/v2/campaign/{created['id']}", params={"includeCounters": "true"})).json()
    counters = summary["contactCounters"]
    assert 1 < summary["callMetrics"]["dialed"] < 10 and counters["skipped"] == 10 - summary["callMetrics"]["dialed"]
    assert summary["status"] == "ended"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda i: {"customers": [{"number": "+11234567890"}]}, "E.164"),
        (lambda i: {"squadId": i["assistantId"]}, "Need Exactly One Of"),
        (lambda i: {"dialPlan": [{"phoneNumberId": i["twilio"], "customers": customers(1)}]}, "Mutually Exclusive"),
        (lambda i: {"customers": customers(1) * 10_001}, "at most 10000"),
        (lambda i: {"maxConcurrency": 0}, "maxConcurrency must not be less than 1"),
        (lambda i: {"predialPlan": {"enabled": True}}, "predialPlan requires server"),
        (lambda i: {"colour": "blue"}, "property colour should not exist"),
        (lambda i: {"schedulePlan": {"earliestAt": "2026-11-02T18:00:00Z", "latestAt": "2026-11-02T17:00:00Z"}}, "latestAt must be after"),
    ],
)
async def test_vapis_rules_refuse_a_broken_campaign(api, ids, sandbox, change, message):
    response = await api.post("/v2/campaign", json={**campaign_body(ids, 2), **change(ids)})
    assert response.status_code == 400 and message in response.text, response.text
    assert not sandbox.store.campaigns and not sandbox.store.calls


async def test_list_and_delete(api, ids, clock):
    first = (await api.post("/v2/campaign", json=campaign_body(ids, 2))).json()
    clock.advance(1)
    await api.post("/v2/campaign", json={**campaign_body(ids, 2), "name": "Second"})
    listed = (await api.get("/v2/campaign", params={"limit": 1, "includeCounters": "true"})).json()
    assert_valid("CampaignSummaryPaginatedResponse", listed)
    assert listed["metadata"]["totalItems"] == 2 and listed["results"][0]["name"] == "Second"
    assert_valid("CampaignPaginatedResponse", (await api.get("/campaign")).json())
    deleted = await api.delete(f"/v2/campaign/{first['id']}")
    assert deleted.status_code == 200
    assert (await api.get(f"/v2/campaign/{first['id']}")).status_code == 404


# analytics


async def test_analytics_sums_costs_by_assistant_and_counts_reasons(api, ids, clock):
    await api.post("/v2/campaign", json=campaign_body(ids, 16, maxConcurrency=16))
    clock.advance(60)
    calls = [c for c in (await api.get("/call", params={"limit": 1000})).json()]
    query = {
        "queries": [
            {"table": "call", "name": "cost", "groupBy": ["assistantId"], "operations": [{"operation": "sum", "column": "cost"}, {"operation": "count", "column": "id"}]},
            {"table": "call", "name": "reasons", "groupBy": ["endedReason"], "operations": [{"operation": "count", "column": "id", "alias": "calls"}]},
            {"table": "call", "name": "daily", "timeRange": {"step": "day", "timezone": "America/New_York"}, "operations": [{"operation": "max", "column": "concurrency"}]},
        ]
    }
    response = await api.post("/analytics", json=query)
    assert response.status_code == 201
    results = response.json()
    for result in results:
        assert_valid("AnalyticsQueryResult", result)
    [cost] = results[0]["result"]
    assert cost["assistantId"] == ids["assistantId"] and cost["countId"] == 16
    assert cost["sumCost"] == pytest.approx(sum(c.get("cost", 0) for c in calls))
    assert {r["endedReason"]: r["calls"] for r in results[1]["result"]} == Counter(c["endedReason"] for c in calls)
    [day] = results[2]["result"]
    assert day["date"] == "2026-11-02T05:00:00.000Z" and day["maxConcurrency"] == 16


async def test_analytics_validates_like_vapi(api):
    response = await api.post("/analytics", json={"queries": [{"table": "calls", "name": "x", "operations": [{"operation": "median", "column": "cost"}]}]})
    assert response.status_code == 400
    assert response.json()["message"] == [
        "queries.0.table must be one of the following values: call, subscription",
        "queries.0.operations.0.operation must be one of the following values: sum, avg, count, min, max, history",
    ]


# call logs


async def test_call_logs_redirect_to_a_presigned_url_that_needs_no_key_and_expires(api, ids, sandbox, clock):
    created = (await api.post("/v2/campaign", json=campaign_body(ids, 8, maxConcurrency=8))).json()
    early = next(iter(sandbox.store.calls))
    assert (await api.get(f"/call/{early}/call-logs")).status_code == 404, "no log before the call ends"
    clock.advance(60)
    failed = next(c for c in (await api.get(f"/v2/campaign/{created['id']}/contacts")).json()["results"] if c["endedReason"].startswith("call.in-progress.error"))
    redirect = await api.get(f"/call/{failed['callId']}/call-logs")
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith("http://storage.sandbox.vapi.local/presigned/call-logs/"), "on a storage host of its own, as at Vapi"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), headers={"Authorization": "Bearer test"}, follow_redirects=True) as sdk_like:
        followed = await sdk_like.get(f"http://sandbox.vapi.local/call/{failed['callId']}/call-logs")
        assert followed.status_code == 200, "a client that follows the redirect drops its key on the way to another host"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app)) as bare:
        log = await bare.get(location)
        assert log.status_code == 200
        lines = [__import__("json").loads(line) for line in log.text.splitlines()]
        assert any(line["level"] == "error" and "OpenAI" in line["message"] for line in lines)
        assert lines[-1]["message"] == f"Call ended: {failed['endedReason']}"
        with_key = await bare.get(location, headers={"Authorization": "Bearer test"})
        assert with_key.status_code == 400 and "Only one auth mechanism" in with_key.text
        clock.advance(3601)
        assert (await bare.get(location)).status_code == 403


async def test_ended_calls_carry_performance_metrics_and_log_links(api, ids, sandbox, clock):
    await api.post("/v2/campaign", json=campaign_body(ids, 1))
    clock.advance(60)
    [call_id] = sandbox.store.calls
    call = (await api.get(f"/call/{call_id}")).json()
    assert_valid("Call", call)
    metrics = call["artifact"]["performanceMetrics"]
    assert_valid("PerformanceMetrics", metrics)
    answers = [m for m in call["messages"] if m["role"] == "bot"][1:]
    assert len(metrics["turnLatencies"]) == len(answers) == 2, "Riley's two answers after its first message"
    assert max(t["turnLatency"] for t in metrics["turnLatencies"]) == metrics["turnLatencies"][-1]["turnLatency"] > 1500
    assert call["artifact"]["presignedUrlsExpiresAt"] == "2026-11-02T17:01:00.000Z"
