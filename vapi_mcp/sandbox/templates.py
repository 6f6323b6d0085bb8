"""Templates rendered as Vapi renders them: LiquidJS, with Vapi's default variables.

Vapi renders `firstMessage`, the system prompt and the other text fields of an assistant with
LiquidJS (docs: "Dynamic variables"), filling `{{name}}` from `assistantOverrides.variableValues`
and providing these defaults, all from the sandbox clock in UTC (`call_variables`):

    {{now}}    Jan 1, 2024 12:00 PM        {{date}}  Jan 1, 2024     {{time}}  12:00 PM
    {{month}}  January    {{day}}  1        {{year}}  2024
    {{customer.number}}, {{customer.X}}    the call's customer (any of its properties)
    {{transport.conversationType}}         "voice" on calls, "chat" on chats

`variableValues` win over the defaults. The Liquid rendered here is the subset prompts use, with
LiquidJS's default (lenient) semantics:

- An undefined variable renders as nothing: "Hi {{customer.name}}" without a name is "Hi "
  (use `{{customer.name | default: "there"}}` for a fallback). An unknown filter is skipped.
- Output `{{ expr | filter: arg, key: value }}`; whitespace control `{{-`, `-}}`, `{%-`, `-%}`.
- Expressions: "strings", numbers, true/false/nil/empty/blank, ranges (1..3), paths a.b, a[0],
  a["key"], a[-1], .size/.first/.last.
- Tags: if/elsif/else, unless, case/when, for (limit, offset, reversed, forloop.*, else, break,
  continue), assign, capture, comment, raw, echo. Conditions: == != <> < > <= >= contains,
  and/or (right to left, as Liquid does); only false and nil are falsy.
- Filters: abs append at_least at_most capitalize ceil compact concat date default divided_by
  downcase escape first floor join json last lstrip map minus modulo newline_to_br plus prepend
  remove remove_first replace replace_first reverse round rstrip size slice sort split strip
  strip_html strip_newlines times truncate truncatewords uniq upcase url_encode where.
- `date`: "now"/"today" are the sandbox clock; strftime as LiquidJS (%a %A %b %B %c %d %e %H %I
  %j %k %l %L %m %M %p %P %q %s %S %u %w %x %X %y %Y %z %Z %%, flags - _ 0 ^ #); the second
  argument is an IANA time zone ("America/New_York") or LiquidJS's offset in minutes (positive
  west of UTC); without it, UTC (Vapi's servers).

A template LiquidJS would refuse (an unclosed tag, an unknown tag) raises TemplateError naming the
problem; `render_or_raw` keeps such text as written.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["TemplateError", "render", "render_or_raw", "call_variables", "strftime"]


class TemplateError(ValueError):
    """A template LiquidJS would not render."""


class _Undefined:
    """A variable that does not exist: renders as nothing, compares like nil."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Any = _Undefined()


class _Empty:
    """Liquid's `empty` literal."""


class _Blank:
    """Liquid's `blank` literal."""


EMPTY, BLANK = _Empty(), _Blank()

# ---------------------------------------------------------------- default variables


def call_variables(
    *,
    now: datetime,
    customer: Mapping[str, Any] | None = None,
    variable_values: Mapping[str, Any] | None = None,
    conversation_type: str = "voice",
) -> dict[str, Any]:
    """The variables a call's templates see: Vapi's defaults, then `variableValues` over them."""
    utc = now.astimezone(UTC)
    out: dict[str, Any] = {
        "now": strftime(utc, "%b %-d, %Y %-I:%M %p"),
        "date": strftime(utc, "%b %-d, %Y"),
        "time": strftime(utc, "%-I:%M %p"),
        "month": strftime(utc, "%B"),
        "day": strftime(utc, "%-d"),
        "year": strftime(utc, "%Y"),
        "customer": dict(customer or {}),
        "transport": {"conversationType": conversation_type},
    }
    out.update(variable_values or {})
    return out


# ---------------------------------------------------------------- lexing

@dataclass
class _Tok:
    kind: str  # "text", "out", "tag"
    value: str
    line: int


def _squeeze(markup: str) -> str:
    """Markup with each run of whitespace outside quotes made one space (no pattern meets a long run)."""
    parts = re.split(r"(\"[^\"]*\"|'[^']*')", markup)
    return "".join(part if i % 2 else " ".join(part.split()) + (" " if part[-1:].isspace() and i + 1 < len(parts) else "") for i, part in enumerate(parts)).strip()


def _lex(source: str) -> list[_Tok]:
    """Text, output and tag tokens, in one pass (str.find, no backtracking), with whitespace control applied."""
    tokens: list[_Tok] = []
    pos = 0
    strip_next = False

    def line(at: int) -> int:
        return source.count("\n", 0, at) + 1

    def add_text(text: str, at: int, *, strip_right: bool) -> None:
        if strip_next:
            text = text.lstrip()
        if strip_right:
            text = text.rstrip()
        if text:
            tokens.append(_Tok("text", text, line(at)))

    while True:
        starts = [i for i in (source.find("{{", pos), source.find("{%", pos)) if i >= 0]
        if not starts:
            add_text(source[pos:], pos, strip_right=False)
            return tokens
        start = min(starts)
        is_out = source.startswith("{{", start)
        end = source.find("}}" if is_out else "%}", start + 2)
        if end < 0:
            raise TemplateError(f"unclosed '{source[start:start + 2]}' at line {line(start)}")
        body = source[start + 2 : end]
        left = body.startswith("-")
        right = body.endswith("-") and len(body) > 1
        body = body[1 if left else 0 : len(body) - (1 if right else 0)]
        add_text(source[pos:start], pos, strip_right=left)
        strip_next = right
        pos = end + 2
        if not is_out and body.strip() == "raw":
            close = re.compile(r"\{%-?\s*endraw\s*-?%\}").search(source, pos)
            if close is None:
                raise TemplateError(f"tag 'endraw' not found: the raw block at line {line(start)} is not closed")
            if close.start() > pos:
                tokens.append(_Tok("text", source[pos : close.start()], line(pos)))
            pos = close.end()
            strip_next = close.group(0).endswith("-%}")
            continue
        tokens.append(_Tok("out" if is_out else "tag", _squeeze(body), line(start)))


# ---------------------------------------------------------------- expressions

_EXPR_TOKEN = re.compile(
    r" ?(?:(?P<str>\"[^\"]*\"|'[^']*')|(?P<range>\((?:[^()]*?)\.\.(?:[^()]*?)\))|(?P<num>-?\d+(?:\.\d+)?)(?![\w.])"
    r"|(?P<op>==|!=|<>|<=|>=|<|>)|(?P<punct>[|:,\[\].])|(?P<id>[A-Za-z_][\w-]*\??))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _EXPR_TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise TemplateError(f"cannot read {text[pos:]!r} in expression {text!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


@dataclass
class _Context:
    scopes: list[dict[str, Any]]
    now: datetime
    registers: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return UNDEFINED

    def set(self, name: str, value: Any) -> None:
        self.scopes[1][name] = value  # scopes: [variables, assigned, loop scopes...]


class _Expr:
    """A parsed value expression with its filters."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0
        self.value = self._primary()
        self.filters: list[tuple[str, list[Any], dict[str, Any]]] = []
        while self._peek() == ("punct", "|"):
            self.pos += 1
            kind, name = self._next()
            if kind != "id":
                raise TemplateError(f"expected a filter name in {text!r}")
            args: list[Any] = []
            kwargs: dict[str, Any] = {}
            if self._peek() == ("punct", ":"):
                self.pos += 1
                while True:
                    if self._peek()[0] == "id" and self._peek(1) == ("punct", ":"):
                        key = self._next()[1]
                        self.pos += 1
                        kwargs[key] = self._primary()
                    else:
                        args.append(self._primary())
                    if self._peek() != ("punct", ","):
                        break
                    self.pos += 1
            self.filters.append((name, args, kwargs))
        if self.pos != len(self.tokens):
            raise TemplateError(f"unexpected {self.tokens[self.pos][1]!r} in {text!r}")

    def _peek(self, ahead: int = 0) -> tuple[str, str]:
        index = self.pos + ahead
        return self.tokens[index] if index < len(self.tokens) else ("", "")

    def _next(self) -> tuple[str, str]:
        token = self._peek()
        self.pos += 1
        return token

    def _primary(self) -> Callable[[_Context], Any]:
        kind, text = self._next()
        if kind == "str":
            literal = text[1:-1]
            return lambda ctx: literal
        if kind == "num":
            number = float(text) if "." in text else int(text)
            return lambda ctx: number
        if kind == "range":
            low, high = (_Expr(part.strip()) for part in text[1:-1].split("..", 1))
            return lambda ctx: list(range(int(_num(low.eval(ctx))), int(_num(high.eval(ctx))) + 1))
        if kind == "punct" and text == "[":
            key = self._primary()
            self._expect("]")
            return self._path(lambda ctx: ctx.get(str(key(ctx))))
        if kind != "id":
            raise TemplateError(f"unexpected {text!r} in {self.text!r}")
        keyword = {"true": True, "false": False, "nil": None, "null": None, "empty": EMPTY, "blank": BLANK}
        if text in keyword and self._peek() not in (("punct", "."), ("punct", "[")):
            constant = keyword[text]
            return lambda ctx: constant
        name = text
        return self._path(lambda ctx: ctx.get(name))

    def _expect(self, punct: str) -> None:
        if self._next() != ("punct", punct):
            raise TemplateError(f"expected '{punct}' in {self.text!r}")

    def _path(self, base: Callable[[_Context], Any]) -> Callable[[_Context], Any]:
        getter = base
        while self._peek() in (("punct", "."), ("punct", "[")):
            _, punct = self._next()
            if punct == ".":
                kind, name = self._next()
                if kind not in ("id", "num"):
                    raise TemplateError(f"expected a property name in {self.text!r}")
                getter = (lambda g, n: lambda ctx: _member(g(ctx), n))(getter, name)
            else:
                key = self._primary()
                self._expect("]")
                getter = (lambda g, k: lambda ctx: _member(g(ctx), k(ctx)))(getter, key)
        return getter

    def eval(self, ctx: _Context) -> Any:
        value = self.value(ctx)
        for name, args, kwargs in self.filters:
            function = FILTERS.get(name)
            if function is None:
                continue  # LiquidJS (strictFilters off) skips an unknown filter
            value = function(ctx, value, *(a(ctx) for a in args), **{k: v(ctx) for k, v in kwargs.items()})
        return value


def _member(value: Any, key: Any) -> Any:
    if isinstance(value, Mapping):
        if key in value:
            return value[key]
        if key == "size":
            return len(value)
        return UNDEFINED
    if isinstance(value, (list, tuple, str)):
        if key == "size":
            return len(value)
        if isinstance(value, (list, tuple)):
            if key == "first":
                return value[0] if value else UNDEFINED
            if key == "last":
                return value[-1] if value else UNDEFINED
            if isinstance(key, int) or (isinstance(key, str) and re.fullmatch(r"-?\d+", key)):
                index = int(key)
                return value[index] if -len(value) <= index < len(value) else UNDEFINED
    return UNDEFINED


# ---------------------------------------------------------------- conditions

_COND_SPLIT = re.compile(r" (and|or) ")
_COMPARE = re.compile(r"^(.*?) ?(==|!=|<>|<=|>=|<|>|\bcontains\b) ?(.*)$", re.S)
"""Both read markup whose whitespace runs are already one space (`_squeeze`)."""


class _Condition:
    """`a == b and c or d`: comparisons joined by and/or, evaluated from the right as Liquid does."""

    def __init__(self, text: str) -> None:
        self.text = text
        masked = _mask_quotes(text)
        pieces, ops, pos = [], [], 0
        for match in _COND_SPLIT.finditer(masked):
            pieces.append(text[pos : match.start()].strip())
            ops.append(match.group(1))
            pos = match.end()
        pieces.append(text[pos:].strip())
        if any(not piece for piece in pieces):
            raise TemplateError(f"incomplete condition {text!r}")
        self.parts = [self._comparison(piece) for piece in pieces]
        self.ops = ops

    @staticmethod
    def _comparison(text: str) -> Callable[[_Context], bool]:
        match = _COMPARE.match(_mask_quotes(text))
        if match is None:
            expr = _Expr(text)
            return lambda ctx: _truthy(expr.eval(ctx))
        left_len = len(match.group(1))
        op = match.group(2)
        left = _Expr(text[:left_len])
        right = _Expr(text[match.start(3) :])
        return lambda ctx: _compare(left.eval(ctx), op, right.eval(ctx))

    def eval(self, ctx: _Context) -> bool:
        result = self.parts[-1](ctx)
        for part, op in zip(reversed(self.parts[:-1]), reversed(self.ops), strict=True):
            left = part(ctx)
            result = (left and result) if op == "and" else (left or result)
        return result


def _mask_quotes(text: str) -> str:
    return re.sub(r"\"[^\"]*\"|'[^']*'", lambda m: "x" * len(m.group(0)), text)


def _truthy(value: Any) -> bool:
    return value is not False and value is not None and value is not UNDEFINED


def _is_empty(value: Any) -> bool:
    return value in ("", [], {}) if isinstance(value, (str, list, dict)) else False


def _is_blank(value: Any) -> bool:
    return value is None or value is False or value is UNDEFINED or _is_empty(value) or (isinstance(value, str) and not value.strip())


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "contains":
        if isinstance(left, str):
            return _text(right) in left
        if isinstance(left, (list, tuple)):
            return right in left
        return False
    if right is EMPTY or left is EMPTY:
        other = left if right is EMPTY else right
        same = _is_empty(other)
        return same if op == "==" else (not same if op in ("!=", "<>") else False)
    if right is BLANK or left is BLANK:
        other = left if right is BLANK else right
        same = _is_blank(other)
        return same if op == "==" else (not same if op in ("!=", "<>") else False)
    left = None if left is UNDEFINED else left
    right = None if right is UNDEFINED else right
    if op == "==":
        return bool(left == right)
    if op in ("!=", "<>"):
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        return bool({"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op])
    except TypeError:
        return False


# ---------------------------------------------------------------- nodes


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


Node = Callable[[_Context, list[str]], None]

_BLOCK_ENDS = {"if": "endif", "unless": "endunless"}


def _tag_parts(markup: str) -> tuple[str, str]:
    match = re.match(r"(#|[A-Za-z_]\w*)\s*(.*)$", markup, re.S)
    if match is None:
        raise TemplateError(f"cannot read the tag {{% {markup} %}}")
    return match.group(1), match.group(2).strip()


class _Parser:
    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = tokens
        self.pos = 0

    def parse(self, until: tuple[str, ...] = ()) -> tuple[list[Node], str | None, str]:
        """Nodes up to one of the tags named in `until`; returns (nodes, that tag's name, its markup)."""
        nodes: list[Node] = []
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            self.pos += 1
            if token.kind == "text":
                nodes.append((lambda text: lambda ctx, out: out.append(text))(token.value))
            elif token.kind == "out":
                nodes.append(self._output(token.value))
            else:
                name, markup = _tag_parts(token.value)
                if name in until:
                    return nodes, name, markup
                nodes.append(self._tag(name, markup, token))
        if until:
            raise TemplateError(f"tag '{until[-1]}' not found: a block is not closed")
        return nodes, None, ""

    @staticmethod
    def _output(markup: str) -> Node:
        if not markup:
            return lambda ctx, out: None
        expr = _Expr(markup)
        return lambda ctx, out: out.append(_text(expr.eval(ctx)))

    def _tag(self, name: str, markup: str, token: _Tok) -> Node:
        if name in ("if", "unless"):
            return self._if(markup, negate=name == "unless", end=_BLOCK_ENDS[name])
        if name == "case":
            return self._case(markup)
        if name == "for":
            return self._for(markup)
        if name == "assign":
            target, eq, value = markup.partition("=")
            if not eq or not re.fullmatch(r"[A-Za-z_][\w-]*", target.strip()):
                raise TemplateError(f"illegal assign {markup!r} at line {token.line}")
            expr = _Expr(value)
            var = target.strip()
            return lambda ctx, out: ctx.set(var, expr.eval(ctx))
        if name == "capture":
            var = markup.strip().strip("'\"")
            body, _, _ = self.parse(("endcapture",))
            return lambda ctx, out: ctx.set(var, _run(body, ctx))
        if name == "comment":
            self._skip_raw("endcomment")
            return lambda ctx, out: None
        if name == "#":
            return lambda ctx, out: None
        if name == "echo":
            return self._output(markup)
        if name == "break":
            return lambda ctx, out: _raise(_Break())
        if name == "continue":
            return lambda ctx, out: _raise(_Continue())
        raise TemplateError(f"tag '{name}' not found (line {token.line})")

    def _skip_raw(self, end: str) -> None:
        """Skip everything up to `{% end %}` (a comment's body)."""
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            self.pos += 1
            if token.kind == "tag" and _tag_parts(token.value)[0] == end:
                return
        raise TemplateError(f"tag '{end}' not found: a block is not closed")

    def _if(self, markup: str, *, negate: bool, end: str) -> Node:
        branches: list[tuple[Callable[[_Context], bool] | None, list[Node]]] = []
        first = _Condition(markup)
        condition: Callable[[_Context], bool] | None = (lambda ctx: not first.eval(ctx)) if negate else first.eval
        while True:
            body, tag, next_markup = self.parse(("elsif", "else", end))
            branches.append((condition, body))
            if tag == end:
                break
            if tag == "else":
                body, _, _ = self.parse((end,))
                branches.append((None, body))
                break
            condition = _Condition(next_markup).eval

        def run(ctx: _Context, out: list[str]) -> None:
            for cond, body in branches:
                if cond is None or cond(ctx):
                    _run_into(body, ctx, out)
                    return

        return run

    def _case(self, markup: str) -> Node:
        subject = _Expr(markup)
        self.parse(("when", "else", "endcase"))  # text before the first when is ignored
        self.pos -= 1
        whens: list[tuple[list[_Expr] | None, list[Node]]] = []
        while True:
            token = self.tokens[self.pos]
            self.pos += 1
            name, tag_markup = _tag_parts(token.value)
            if name == "endcase":
                break
            values = None if name == "else" else [_Expr(v) for v in re.split(r"\s*,\s*|\s+or\s+", tag_markup.strip()) if v]
            body, _, _ = self.parse(("when", "else", "endcase"))
            self.pos -= 1
            whens.append((values, body))

        def run(ctx: _Context, out: list[str]) -> None:
            value = subject.eval(ctx)
            for values, body in whens:  # LiquidJS renders the first matching branch
                if values is None or any(_compare(value, "==", v.eval(ctx)) for v in values):
                    _run_into(body, ctx, out)
                    return

        return run

    def _for(self, markup: str) -> Node:
        match = re.match(r"^([A-Za-z_][\w-]*)\s+in\s+(\(.*?\)|\S+)(.*)$", markup)
        if match is None:
            raise TemplateError(f"illegal for {markup!r}")
        var, source, options = match.group(1), _Expr(match.group(2)), match.group(3)
        limit = re.search(r"limit\s*:\s*(\S+)", options)
        offset = re.search(r"offset\s*:\s*(\S+)", options)
        reverse = re.search(r"\breversed\b", options) is not None
        limit_expr = _Expr(limit.group(1)) if limit else None
        offset_expr = _Expr(offset.group(1)) if offset else None
        body, tag, _ = self.parse(("else", "endfor"))
        otherwise: list[Node] = []
        if tag == "else":
            otherwise, _, _ = self.parse(("endfor",))

        def run(ctx: _Context, out: list[str]) -> None:
            items = source.eval(ctx)
            if isinstance(items, Mapping):
                items = [[k, v] for k, v in items.items()]
            elif isinstance(items, str):
                items = [items] if items else []
            elif not isinstance(items, (list, tuple)):
                items = []
            items = list(items)
            if reverse:
                items.reverse()
            start = int(_num(offset_expr.eval(ctx))) if offset_expr else 0
            items = items[start:]
            if limit_expr:
                items = items[: int(_num(limit_expr.eval(ctx)))]
            if not items:
                _run_into(otherwise, ctx, out)
                return
            scope: dict[str, Any] = {}
            ctx.scopes.append(scope)
            try:
                for i, item in enumerate(items):
                    scope[var] = item
                    scope["forloop"] = {"index": i + 1, "index0": i, "first": i == 0, "last": i == len(items) - 1, "length": len(items), "rindex": len(items) - i, "rindex0": len(items) - i - 1}
                    try:
                        _run_into(body, ctx, out)
                    except _Continue:
                        continue
                    except _Break:
                        break
            finally:
                ctx.scopes.pop()

        return run


def _raise(exc: Exception) -> None:
    raise exc


def _run_into(nodes: list[Node], ctx: _Context, out: list[str]) -> None:
    for node in nodes:
        node(ctx, out)


def _run(nodes: list[Node], ctx: _Context) -> str:
    out: list[str] = []
    _run_into(nodes, ctx, out)
    return "".join(out)


# ---------------------------------------------------------------- values and filters


def _text(value: Any) -> str:
    if value is None or value is UNDEFINED or value is EMPTY or value is BLANK:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (list, tuple)):
        return "".join(_text(v) for v in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    return str(value)


def _num(value: Any) -> float | int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, (int, float)):
        return value
    try:
        number = float(str(value).strip())
    except ValueError:
        return 0
    return int(number) if number.is_integer() and "." not in str(value) else number


def _arith(function: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    return lambda ctx, value, other=0: function(_num(value), _num(other))


def _divided_by(ctx: _Context, value: Any, other: Any = 1, integer_arithmetic: Any = False) -> Any:
    divisor = _num(other)
    if divisor == 0:
        raise TemplateError("divided_by: division by zero")
    quotient = _num(value) / divisor
    return math.floor(quotient) if _truthy(integer_arithmetic) else quotient


def _default(ctx: _Context, value: Any, fallback: Any = "", allow_false: Any = False) -> Any:
    if value is False and allow_false:
        return value
    return fallback if (not _truthy(value) or _is_empty(value)) else value


def _round(ctx: _Context, value: Any, digits: Any = 0) -> Any:
    number, places = _num(value), int(_num(digits))
    scaled = math.floor(number * 10**places + 0.5) / 10**places  # JS rounds .5 up
    return int(scaled) if places == 0 else scaled


def _truncate(ctx: _Context, value: Any, length: Any = 50, ellipsis: Any = "...") -> str:
    text, n, tail = _text(value), int(_num(length)), _text(ellipsis)
    return text if len(text) <= n else text[: max(0, n - len(tail))] + tail


def _truncatewords(ctx: _Context, value: Any, count: Any = 15, ellipsis: Any = "...") -> str:
    parts, n = _text(value).split(), max(1, int(_num(count)))
    return " ".join(parts) if len(parts) <= n else " ".join(parts[:n]) + _text(ellipsis)


def _slice(ctx: _Context, value: Any, start: Any, length: Any = 1) -> Any:
    seq = value if isinstance(value, (list, tuple)) else _text(value)
    begin = int(_num(start))
    if begin < 0:
        begin += len(seq)
    return seq[begin : begin + int(_num(length))]


def _sequence(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    if value is None or value is UNDEFINED:
        return []
    return [value]


def _where(ctx: _Context, value: Any, key: Any, expected: Any = UNDEFINED) -> list[Any]:
    items = [i for i in _sequence(value) if isinstance(i, Mapping)]
    if expected is UNDEFINED:
        return [i for i in items if _truthy(i.get(key, UNDEFINED))]
    return [i for i in items if i.get(key) == expected]


def _sort(ctx: _Context, value: Any, key: Any = None) -> list[Any]:
    def order(item: Any) -> tuple[int, str, float]:
        item = item.get(key) if key is not None and isinstance(item, Mapping) else item
        number = isinstance(item, (int, float)) and not isinstance(item, bool)
        return (0 if number else 1, "" if number else _text(item), float(item) if number else 0.0)

    return sorted(_sequence(value), key=order)


def _date(ctx: _Context, value: Any, fmt: Any = None, tz: Any = None) -> Any:
    moment = _as_datetime(value, ctx.now)
    if moment is None:
        return value
    zone = _zone(tz)
    return strftime(moment.astimezone(zone), _text(fmt) if fmt not in (None, UNDEFINED) else "%A, %B %-e, %Y at %-l:%M %P %z")


def _zone(tz: Any) -> Any:
    if tz in (None, UNDEFINED, ""):
        return UTC
    if isinstance(tz, (int, float)) and not isinstance(tz, bool):
        return timezone(-timedelta(minutes=tz))  # LiquidJS: minutes, positive west of UTC
    try:
        return ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


_DATE_FORMATS = ("%b %d, %Y %I:%M %p", "%b %d, %Y", "%B %d, %Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%m/%d/%Y")


def _as_datetime(value: Any, now: datetime) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower() in ("now", "today"):
        return now
    if re.fullmatch(r"-?\d+(?:\.\d+)?", text):
        return datetime.fromtimestamp(float(text), UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _filters() -> dict[str, Callable[..., Any]]:
    t = _text
    return {
        "abs": lambda c, v: abs(_num(v)),
        "append": lambda c, v, s="": t(v) + t(s),
        "at_least": lambda c, v, n=0: max(_num(v), _num(n)),
        "at_most": lambda c, v, n=0: min(_num(v), _num(n)),
        "capitalize": lambda c, v: t(v)[:1].upper() + t(v)[1:].lower(),
        "ceil": lambda c, v: math.ceil(_num(v)),
        "compact": lambda c, v: [i for i in _sequence(v) if i is not None and i is not UNDEFINED],
        "concat": lambda c, v, other=(): _sequence(v) + _sequence(other),
        "date": _date,
        "default": _default,
        "divided_by": _divided_by,
        "downcase": lambda c, v: t(v).lower(),
        "escape": lambda c, v: html.escape(t(v)),
        "first": lambda c, v: (v[0] if v else UNDEFINED) if isinstance(v, (list, tuple, str)) else UNDEFINED,
        "floor": lambda c, v: math.floor(_num(v)),
        "join": lambda c, v, sep=" ": t(sep).join(t(i) for i in _sequence(v)),
        "json": lambda c, v, *a: json.dumps(None if v is UNDEFINED else v, default=str),
        "last": lambda c, v: (v[-1] if v else UNDEFINED) if isinstance(v, (list, tuple, str)) else UNDEFINED,
        "lstrip": lambda c, v: t(v).lstrip(),
        "map": lambda c, v, key: [i.get(key, UNDEFINED) if isinstance(i, Mapping) else UNDEFINED for i in _sequence(v)],
        "minus": _arith(lambda a, b: a - b),
        "modulo": _arith(lambda a, b: math.fmod(a, b) if b else 0),
        "newline_to_br": lambda c, v: t(v).replace("\n", "<br />\n"),
        "plus": _arith(lambda a, b: a + b),
        "prepend": lambda c, v, s="": t(s) + t(v),
        "remove": lambda c, v, s="": t(v).replace(t(s), ""),
        "remove_first": lambda c, v, s="": t(v).replace(t(s), "", 1),
        "replace": lambda c, v, a="", b="": t(v).replace(t(a), t(b)),
        "replace_first": lambda c, v, a="", b="": t(v).replace(t(a), t(b), 1),
        "reverse": lambda c, v: list(reversed(_sequence(v))),
        "round": _round,
        "rstrip": lambda c, v: t(v).rstrip(),
        "size": lambda c, v: len(v) if isinstance(v, (list, tuple, str, Mapping)) else 0,
        "slice": _slice,
        "sort": _sort,
        "split": lambda c, v, sep=" ": (t(v).split() if t(sep) == " " else (list(t(v)) if t(sep) == "" else t(v).split(t(sep)))),
        "strip": lambda c, v: t(v).strip(),
        "strip_html": lambda c, v: re.sub(r"<[^>]*>", "", t(v)),
        "strip_newlines": lambda c, v: t(v).replace("\r", "").replace("\n", ""),
        "times": _arith(lambda a, b: a * b),
        "truncate": _truncate,
        "truncatewords": _truncatewords,
        "uniq": lambda c, v: list(dict.fromkeys(_sequence(v))),
        "upcase": lambda c, v: t(v).upper(),
        "url_encode": lambda c, v: quote_plus(t(v)),
        "where": _where,
    }


FILTERS: dict[str, Callable[..., Any]] = _filters()

# ---------------------------------------------------------------- strftime (LiquidJS)

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")
_COMPOSITE = {"c": "%a %b %e %H:%M:%S %Y", "x": "%m/%d/%y", "X": "%H:%M:%S", "D": "%m/%d/%y", "F": "%Y-%m-%d", "R": "%H:%M", "T": "%H:%M:%S"}
_DIRECTIVE = re.compile(r"%([-_0^#:]*)(\d+)?([a-zA-Z%])")


def _ordinal(day: int) -> str:
    if day % 100 in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def strftime(moment: datetime, fmt: str) -> str:
    """`moment` formatted as LiquidJS's `date` filter does."""

    def one(match: re.Match[str]) -> str:
        flags, width, code = match.group(1), match.group(2), match.group(3)
        numeric: dict[str, tuple[int, int, str]] = {
            "C": (moment.year // 100, 2, "0"),
            "d": (moment.day, 2, "0"),
            "e": (moment.day, 2, " "),
            "H": (moment.hour, 2, "0"),
            "I": ((moment.hour % 12) or 12, 2, "0"),
            "j": (moment.timetuple().tm_yday, 3, "0"),
            "k": (moment.hour, 2, " "),
            "l": ((moment.hour % 12) or 12, 2, " "),
            "L": (moment.microsecond // 1000, 3, "0"),
            "m": (moment.month, 2, "0"),
            "M": (moment.minute, 2, "0"),
            "S": (moment.second, 2, "0"),
            "u": (moment.isoweekday(), 1, "0"),
            "w": (moment.isoweekday() % 7, 1, "0"),
            "y": (moment.year % 100, 2, "0"),
            "Y": (moment.year, 4, "0"),
            "U": (int(moment.strftime("%U")), 2, "0"),
            "W": (int(moment.strftime("%W")), 2, "0"),
        }
        if code in numeric:
            value, pad_width, pad = numeric[code]
            if "-" in flags:
                return str(value)
            if "_" in flags:
                pad = " "
            elif "0" in flags:
                pad = "0"
            return str(value).rjust(int(width) if width else pad_width, pad)
        words = {
            "a": _DAY_NAMES[moment.weekday()][:3],
            "A": _DAY_NAMES[moment.weekday()],
            "b": _MONTH_NAMES[moment.month - 1][:3],
            "h": _MONTH_NAMES[moment.month - 1][:3],
            "B": _MONTH_NAMES[moment.month - 1],
            "p": "AM" if moment.hour < 12 else "PM",
            "P": "am" if moment.hour < 12 else "pm",
            "q": _ordinal(moment.day),
            "s": str(int(moment.timestamp())),
            "z": _offset(moment, colon=":" in flags),
            "Z": moment.tzname() or "UTC",
            "%": "%",
        }
        if code in _COMPOSITE:
            text = strftime(moment, _COMPOSITE[code])
        elif code in words:
            text = words[code]
        else:
            return match.group(0)
        if "^" in flags:
            text = text.upper()
        elif "#" in flags:
            text = text.swapcase()
        return text.rjust(int(width)) if width else text

    return _DIRECTIVE.sub(one, fmt)


def _offset(moment: datetime, *, colon: bool) -> str:
    delta = moment.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{mins:02d}"


# ---------------------------------------------------------------- entry points


def render(template: str, variables: Mapping[str, Any], *, now: datetime) -> str:
    """`template` rendered with `variables` (see `call_variables`); `now` is the sandbox clock for `date`."""
    if "{{" not in template and "{%" not in template:
        return template
    try:
        nodes, _, _ = _Parser(_lex(template)).parse()
        return _run(nodes, _Context(scopes=[dict(variables), {}], now=now))
    except (_Break, _Continue):
        raise TemplateError("break or continue outside a for loop") from None
    except RecursionError:
        raise TemplateError("the template nests its tags too deeply") from None


def render_or_raw(template: str, variables: Mapping[str, Any], *, now: datetime) -> str:
    """`render`, or the template as written when LiquidJS would refuse it."""
    try:
        return render(template, variables, now=now)
    except TemplateError:
        return template
