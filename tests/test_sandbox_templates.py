"""Templates render as Vapi renders them (LiquidJS with Vapi's default variables), from the sandbox clock only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.engine_kit import NOW
from vapi_mcp.sandbox.templates import TemplateError, call_variables, render, render_or_raw


def variables(**values: object) -> dict[str, object]:
    return call_variables(now=NOW, customer={"number": "+14155550123", "name": "Ana"}, variable_values=values)


def test_customer_name_is_rendered_and_a_missing_one_renders_as_nothing_like_liquidjs() -> None:
    assert render("Hi {{customer.name}}", variables(), now=NOW) == "Hi Ana"
    assert render("Hi {{ customer.name }}!", call_variables(now=NOW), now=NOW) == "Hi !"
    assert render("Hi {{customer.name | default: 'there'}}!", call_variables(now=NOW), now=NOW) == "Hi there!"
    assert render("Your number is {{customer.number}}.", variables(), now=NOW) == "Your number is +14155550123."


def test_variable_values_fill_names_and_win_over_the_defaults() -> None:
    assert render("Hello, {{name}}!", variables(name="John"), now=NOW) == "Hello, John!"
    assert render("{{ name | upcase }} {{ missing | default: 'n/a' }}", variables(name="John"), now=NOW) == "JOHN n/a"
    assert render("{{date}}", variables(date="launch day"), now=NOW) == "launch day"


def test_default_variables_follow_vapis_table_on_the_sandbox_clock() -> None:
    noon = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    table = call_variables(now=noon)
    rendered = render("{{now}}|{{date}}|{{time}}|{{month}}|{{day}}|{{year}}", table, now=noon)
    assert rendered == "Jan 1, 2024 12:00 PM|Jan 1, 2024|12:00 PM|January|1|2024"
    assert render("{{transport.conversationType}}", call_variables(now=noon, conversation_type="chat"), now=noon) == "chat"


def test_the_date_filter_formats_now_in_a_time_zone_as_the_docs_show() -> None:
    late = datetime(2024, 1, 1, 23, 45, tzinfo=UTC)  # 3:45 PM in Los Angeles
    table = call_variables(now=late)
    assert render('{{"now" | date: "%A, %B %d, %Y, %I:%M %p", "America/Los_Angeles"}}', table, now=late) == "Monday, January 01, 2024, 03:45 PM"
    assert render('{{"now" | date: "%H:%M", "Europe/London"}}', table, now=late) == "23:45"
    assert render('{{"now" | date: "%Y-%m-%d"}} {{"now" | date: "%b %d, %Y"}} {{"now" | date: "%A"}}', table, now=late) == "2024-01-01 Jan 01, 2024 Monday"
    assert render('{{"now" | date: "%-d%q %B", -60}}', table, now=late) == "2nd January"  # LiquidJS offset: minutes west of UTC


def test_the_clock_passed_in_is_the_only_clock() -> None:
    template = "{{now}} {{'now' | date: '%s'}}"
    assert render(template, call_variables(now=NOW), now=NOW) == render(template, call_variables(now=NOW), now=NOW)
    later = datetime(2027, 3, 4, 5, 6, tzinfo=UTC)
    assert render(template, call_variables(now=later), now=later) == f"Mar 4, 2027 5:06 AM {int(later.timestamp())}"


def test_liquid_tags_prompts_use() -> None:
    chat = call_variables(now=NOW, conversation_type="chat", variable_values={"items": ["bath", "trim"], "n": 10, "tier": "gold"})
    assert render('{% if transport.conversationType == "chat" %}Text us.{% else %}Call us.{% endif %}', chat, now=NOW) == "Text us."
    assert render("{% for i in items %}{{ forloop.index }}.{{ i }}{% unless forloop.last %}, {% endunless %}{% endfor %}", chat, now=NOW) == "1.bath, 2.trim"
    assert render("{% assign total = n | plus: 5 %}{{ total }} {{ n | divided_by: 4 }}", chat, now=NOW) == "15 2.5"
    assert render("{% case tier %}{% when 'silver' %}S{% when 'gold', 'platinum' %}G{% else %}-{% endcase %}", chat, now=NOW) == "G"
    assert render("a  {{- tier -}}  b {% raw %}{{ kept }}{% endraw %}{% comment %} {{ gone }} {% endcomment %}", chat, now=NOW) == "agoldb {{ kept }}"
    assert render("{{ tier | no_such_filter | capitalize }}", chat, now=NOW) == "Gold"  # LiquidJS skips unknown filters


@pytest.mark.parametrize(
    ("template", "problem"),
    [("{% if x %}never closed", "not closed"), ("Hi {{ name", "unclosed '{{'"), ("{% greet %}", "tag 'greet' not found"), ("{{ a | }}", "filter name")],
)
def test_a_template_liquidjs_refuses_is_an_error_that_names_the_problem(template: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=problem):
        render(template, call_variables(now=NOW), now=NOW)
    assert render_or_raw(template, call_variables(now=NOW), now=NOW) == template


def test_hostile_templates_are_errors_or_render_never_a_crash() -> None:
    deep = "{% if true %}" * 400 + "x" + "{% endif %}" * 400
    with pytest.raises(TemplateError, match="too deeply"):
        render(deep, {}, now=NOW)
    long_condition = "{% if " + " and ".join(["true"] * 3000) + " %}yes{% endif %}"
    assert render(long_condition, {}, now=NOW) == "yes"
    with pytest.raises(TemplateError, match="unclosed"):
        render("{{" * 5000, {}, now=NOW)
