from tests.openapi import errors


def test_strict_validator_refuses_unknown_and_too_long_fields():
    assert errors("CreateCallDTO", {"assistantId": "a", "customer": {"number": "+14155550123"}}) == []
    assert any("foo" in e for e in errors("CreateCallDTO", {"foo": 1}))
    assert any("name" in e for e in errors("CreateCallDTO", {"name": "x" * 41}))


def test_an_enum_on_an_array_checks_each_item_as_vapi_does():
    query = {"table": "call", "name": "q", "operations": [{"operation": "count", "column": "id"}]}
    assert errors("AnalyticsQuery", {**query, "groupBy": ["assistantId", "endedReason"]}) == []
    assert errors("AnalyticsQuery", {**query, "groupBy": ["colour"]})
