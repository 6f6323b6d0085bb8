from tests.openapi import errors


def test_strict_validator_refuses_unknown_and_too_long_fields():
    assert errors("CreateCallDTO", {"assistantId": "a", "customer": {"number": "+14155550123"}}) == []
    assert any("foo" in e for e in errors("CreateCallDTO", {"foo": 1}))
    assert any("name" in e for e in errors("CreateCallDTO", {"name": "x" * 41}))
