"""/tool: Vapi tools (functions, API requests, transfers an assistant can call): create, list, get, update, delete.

Every type's Create*/Update*ToolDTO is declared field by field after the document, with the parts
agents send inside them (messages, rejection plans, destinations, functions, JSON schemas); an
Update DTO has the Create DTO's fields with none required. `CREATE_TOOL` is also what an
assistant's `model.tools` holds.
"""

from __future__ import annotations

from .core import DATE_FILTERS
from .phone_numbers import TRANSFER_DESTINATION_NUMBER, TRANSFER_DESTINATION_SIP
from .resource import Resource
from .validation import BACKOFF_PLAN, OPEN, SERVER, Arr, Bool, Either, Later, Map, Num, Obj, Rule, Str, Tagged, elsewhere

LANGUAGES = (
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh", "bi", "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch",
    "co", "cr", "cs", "cu", "cv", "cy", "da", "de", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy", "ga",
    "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja",
    "jv", "ka", "kg", "ki", "kj", "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln", "lo", "lt", "lu", "lv",
    "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb", "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or",
    "os", "pa", "pi", "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk", "sl", "sm", "sn", "so", "sq", "sr",
    "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi",
    "vo", "wa", "wo", "xh", "yi", "yue", "yo", "za", "zh", "zu",
)  # fmt: skip

SCHEMA_FORMATS = (
    "date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid",
)  # fmt: skip

TRANSFER_MODES = (
    "rolling-history", "swap-system-message-in-history", "swap-system-message-in-history-and-remove-transfer-tool-messages", "delete-history",
)  # fmt: skip

KNOWLEDGE_BASE_MODELS = (
    "gemini-3.5-flash", "gemini-3.1-flash-lite", "gemini-3-flash-preview", "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite",
    "gemini-2.0-flash-thinking-exp", "gemini-2.0-pro-exp-02-05", "gemini-2.0-flash", "gemini-2.0-flash-lite", "gemini-2.0-flash-exp",
    "gemini-2.0-flash-realtime-exp", "gemini-1.5-flash", "gemini-1.5-flash-002", "gemini-1.5-pro", "gemini-1.5-pro-002", "gemini-1.0-pro",
)  # fmt: skip

TRANSFER_PLAN_MODES = (
    "blind-transfer", "blind-transfer-add-summary-to-sip-header", "warm-transfer-say-message", "warm-transfer-say-summary", "warm-transfer-twiml",
    "warm-transfer-wait-for-operator-to-speak-first-and-then-say-message", "warm-transfer-wait-for-operator-to-speak-first-and-then-say-summary",
    "warm-transfer-experimental",
)  # fmt: skip

CONDITION = Obj(
    {
        "operator": Str(enum=("eq", "neq", "gt", "gte", "lt", "lte")),
        "param": Str(max_len=1000),
        "value": Str(max_len=1000),
    }, required=("operator", "param", "value"),
)
"""Condition."""

TEXT_CONTENT = Obj(
    {
        "type": Str(enum=("text",)),
        "text": Str(),
        "language": Str(enum=LANGUAGES),
    }, required=("type", "text", "language"),
)
"""TextContent."""

TOOL_MESSAGE_COMPLETE = Obj(
    {
        "contents": Arr(Tagged("type", {"text": TEXT_CONTENT})),
        "type": Str(enum=("request-complete",)),
        "role": Str(enum=("assistant", "system")),
        "endCallAfterSpokenEnabled": Bool(),
        "content": Str(max_len=1000),
        "conditions": Arr(CONDITION),
    }, required=("type",),
)
"""ToolMessageComplete."""

TOOL_MESSAGE_DELAYED = Obj(
    {
        "contents": Arr(Tagged("type", {"text": TEXT_CONTENT})),
        "type": Str(enum=("request-response-delayed",)),
        "timingMilliseconds": Num(minimum=100, maximum=120000),
        "content": Str(max_len=1000),
        "conditions": Arr(CONDITION),
    }, required=("type",),
)
"""ToolMessageDelayed."""

TOOL_MESSAGE_FAILED = Obj(
    {
        "contents": Arr(Tagged("type", {"text": TEXT_CONTENT})),
        "type": Str(enum=("request-failed",)),
        "role": Str(enum=("assistant", "system")),
        "endCallAfterSpokenEnabled": Bool(),
        "content": Str(max_len=1000),
        "conditions": Arr(CONDITION),
    }, required=("type",),
)
"""ToolMessageFailed."""

TOOL_MESSAGE_START = Obj(
    {
        "contents": Arr(Tagged("type", {"text": TEXT_CONTENT})),
        "type": Str(enum=("request-start",)),
        "blocking": Bool(),
        "content": Str(max_len=1000),
        "conditions": Arr(CONDITION),
    }, required=("type",),
)
"""ToolMessageStart."""

TOOL_MESSAGE = Tagged("type", {"request-start": TOOL_MESSAGE_START, "request-complete": TOOL_MESSAGE_COMPLETE, "request-failed": TOOL_MESSAGE_FAILED, "request-response-delayed": TOOL_MESSAGE_DELAYED})

TOOL_PARAMETER = Obj(
    {
        "key": Str(),
        "value": Either(Str(), Num(), Bool(), OPEN, Arr()),
    }, required=("key", "value"),
)
"""ToolParameter."""

LIQUID_CONDITION = Obj(
    {
        "type": Str(enum=("liquid",)),
        "liquid": Str(),
    }, required=("type", "liquid"),
)
"""LiquidCondition."""

MESSAGE_TARGET = Obj(
    {
        "role": Str(enum=("user", "assistant")),
        "position": Num(),
    },
)
"""MessageTarget."""

REGEX_CONDITION = Obj(
    {
        "type": Str(enum=("regex",)),
        "regex": Str(),
        "target": MESSAGE_TARGET,
        "negate": Bool(),
    }, required=("type", "regex"),
)
"""RegexCondition."""

REJECTION_CONDITION = Tagged("type", {"regex": REGEX_CONDITION, "liquid": LIQUID_CONDITION, "group": Later(lambda: GROUP_CONDITION)})

TOOL_REJECTION_PLAN = Obj(
    {
        "conditions": Arr(REJECTION_CONDITION),
    },
)
"""ToolRejectionPlan."""

VARIABLE_EXTRACTION_ALIAS = Obj(
    {
        "key": Str(max_len=40, min_len=1, pattern="/^[a-zA-Z][a-zA-Z0-9_]*$/"),
        "value": Str(max_len=10000),
    }, required=("key", "value"),
)
"""VariableExtractionAlias."""

VARIABLE_EXTRACTION_PLAN = Obj(
    {
        "schema": Later(lambda: JSON_SCHEMA),
        "aliases": Arr(VARIABLE_EXTRACTION_ALIAS),
    },
)
"""VariableExtractionPlan."""

API_REQUEST_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("apiRequest",)),
        "name": Str(max_len=40, pattern="/^[a-zA-Z0-9_-]{1,40}$/"),
        "method": Str(enum=("POST", "GET", "PUT", "PATCH", "DELETE")),
        "timeoutSeconds": Num(minimum=1, maximum=300),
        "credentialId": Str(),
        "encryptedPaths": Arr(Str()),
        "parameters": Arr(TOOL_PARAMETER),
        "description": Str(),
        "url": Str(),
        "body": Later(lambda: JSON_SCHEMA),
        "headers": Later(lambda: JSON_SCHEMA),
        "backoffPlan": BACKOFF_PLAN,
        "variableExtractionPlan": VARIABLE_EXTRACTION_PLAN,
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type", "method", "url"),
)
"""CreateApiRequestToolDTO."""

CODE_TOOL_ENVIRONMENT_VARIABLE = Obj(
    {
        "name": Str(max_len=64, pattern="/^[A-Z][A-Z0-9_]*$/"),
        "value": Str(max_len=10000),
    }, required=("name", "value"),
)
"""CodeToolEnvironmentVariable."""

OPENAI_FUNCTION_PARAMETERS = Obj(
    {
        "type": Str(enum=("object",)),
        "properties": Map(Later(lambda: JSON_SCHEMA)),
        "required": Arr(Str()),
    }, required=("type", "properties"),
)
"""OpenAIFunctionParameters."""

OPENAI_FUNCTION = Obj(
    {
        "name": Str(max_len=64, pattern="/^[a-zA-Z0-9_-]{1,64}$/"),
        "strict": Bool(),
        "description": Str(),
        "parameters": OPENAI_FUNCTION_PARAMETERS,
    }, required=("name",),
)
"""OpenAIFunction."""

CODE_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("code",)),
        "async": Bool(),
        "server": SERVER,
        "code": Str(max_len=50000),
        "environmentVariables": Arr(CODE_TOOL_ENVIRONMENT_VARIABLE),
        "timeoutSeconds": Num(minimum=1, maximum=30),
        "credentialId": Str(),
        "variableExtractionPlan": VARIABLE_EXTRACTION_PLAN,
        "function": OPENAI_FUNCTION,
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type", "code"),
)
"""CreateCodeToolDTO."""

DTMF_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("dtmf",)),
        "sipInfoDtmfEnabled": Bool(),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateDtmfToolDTO."""

END_CALL_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("endCall",)),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateEndCallToolDTO."""

FUNCTION_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("function",)),
        "async": Bool(),
        "server": SERVER,
        "variableExtractionPlan": VARIABLE_EXTRACTION_PLAN,
        "parameters": Arr(TOOL_PARAMETER),
        "function": OPENAI_FUNCTION,
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateFunctionToolDTO."""

CUSTOM_MESSAGE = Obj(
    {
        "contents": Arr(Tagged("type", {"text": TEXT_CONTENT})),
        "type": Str(enum=("custom-message",)),
        "content": Str(max_len=1000),
    }, required=("type",),
)
"""CustomMessage."""

TRANSFER_DESTINATION_ASSISTANT = Obj(
    {
        "message": Either(Str(), Tagged("type", {"custom-message": CUSTOM_MESSAGE})),
        "type": Str(enum=("assistant",)),
        "transferMode": Str(enum=TRANSFER_MODES),
        "assistantName": Str(),
        "description": Str(),
    }, required=("type", "assistantName"),
)
"""TransferDestinationAssistant."""

TRANSFER_DESTINATION = Tagged("type", {"assistant": TRANSFER_DESTINATION_ASSISTANT, "number": TRANSFER_DESTINATION_NUMBER, "sip": TRANSFER_DESTINATION_SIP})

TRANSFER_CALL_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("transferCall",)),
        "destinations": Arr(TRANSFER_DESTINATION),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateTransferCallToolDTO."""

CONTEXT_ENGINEERING_PLAN_ALL = Obj(
    {
        "type": Str(enum=("all",)),
    }, required=("type",),
)
"""ContextEngineeringPlanAll."""

CONTEXT_ENGINEERING_PLAN_LAST_N_MESSAGES = Obj(
    {
        "type": Str(enum=("lastNMessages",)),
        "maxMessages": Num(minimum=0),
    }, required=("type", "maxMessages"),
)
"""ContextEngineeringPlanLastNMessages."""

CONTEXT_ENGINEERING_PLAN_NONE = Obj(
    {
        "type": Str(enum=("none",)),
    }, required=("type",),
)
"""ContextEngineeringPlanNone."""

CONTEXT_ENGINEERING_PLAN_PREVIOUS_ASSISTANT_MESSAGES = Obj(
    {
        "type": Str(enum=("previousAssistantMessages",)),
    }, required=("type",),
)
"""ContextEngineeringPlanPreviousAssistantMessages."""

CONTEXT_ENGINEERING_PLAN_USER_AND_ASSISTANT_MESSAGES = Obj(
    {
        "type": Str(enum=("userAndAssistantMessages",)),
    }, required=("type",),
)
"""ContextEngineeringPlanUserAndAssistantMessages."""

CONTEXT_ENGINEERING_PLAN = Tagged("type", {"lastNMessages": CONTEXT_ENGINEERING_PLAN_LAST_N_MESSAGES, "none": CONTEXT_ENGINEERING_PLAN_NONE, "all": CONTEXT_ENGINEERING_PLAN_ALL, "userAndAssistantMessages": CONTEXT_ENGINEERING_PLAN_USER_AND_ASSISTANT_MESSAGES, "previousAssistantMessages": CONTEXT_ENGINEERING_PLAN_PREVIOUS_ASSISTANT_MESSAGES})

HANDOFF_DESTINATION_ASSISTANT = Obj(
    {
        "type": Str(enum=("assistant",)),
        "contextEngineeringPlan": CONTEXT_ENGINEERING_PLAN,
        "assistantName": Str(),
        "assistantId": Str(),
        "assistant": elsewhere("assistants", "ASSISTANT"),
        "variableExtractionPlan": VARIABLE_EXTRACTION_PLAN,
        "assistantOverrides": elsewhere("assistants", "ASSISTANT_OVERRIDES"),
        "description": Str(),
    }, required=("type",),
)
"""HandoffDestinationAssistant."""

HANDOFF_DESTINATION_DYNAMIC = Obj(
    {
        "type": Str(enum=("dynamic",)),
        "server": SERVER,
        "description": Str(),
    }, required=("type",),
)
"""HandoffDestinationDynamic."""

HANDOFF_DESTINATION_SQUAD = Obj(
    {
        "type": Str(enum=("squad",)),
        "contextEngineeringPlan": CONTEXT_ENGINEERING_PLAN,
        "squadId": Str(),
        "squad": elsewhere("assistants", "SQUAD"),
        "entryAssistantName": Str(),
        "variableExtractionPlan": VARIABLE_EXTRACTION_PLAN,
        "squadOverrides": elsewhere("assistants", "ASSISTANT_OVERRIDES"),
        "description": Str(),
    }, required=("type",),
)
"""HandoffDestinationSquad."""

HANDOFF_DESTINATION = Tagged("type", {"assistant": HANDOFF_DESTINATION_ASSISTANT, "dynamic": HANDOFF_DESTINATION_DYNAMIC, "squad": HANDOFF_DESTINATION_SQUAD})

HANDOFF_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("handoff",)),
        "defaultResult": Str(),
        "destinations": Arr(HANDOFF_DESTINATION),
        "function": OPENAI_FUNCTION,
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateHandoffToolDTO."""

BASH_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("bash",)),
        "subType": Str(enum=("bash_20241022",)),
        "server": SERVER,
        "name": Str(enum=("bash",)),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type", "subType", "name"),
)
"""CreateBashToolDTO."""

COMPUTER_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("computer",)),
        "subType": Str(enum=("computer_20241022",)),
        "server": SERVER,
        "name": Str(enum=("computer",)),
        "displayWidthPx": Num(),
        "displayHeightPx": Num(),
        "displayNumber": Num(),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type", "subType", "name", "displayWidthPx", "displayHeightPx"),
)
"""CreateComputerToolDTO."""

TEXT_EDITOR_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("textEditor",)),
        "subType": Str(enum=("text_editor_20241022",)),
        "server": SERVER,
        "name": Str(enum=("str_replace_editor",)),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type", "subType", "name"),
)
"""CreateTextEditorToolDTO."""

KNOWLEDGE_BASE = Obj(
    {
        "name": Str(),
        "provider": Str(enum=("google",)),
        "model": Str(enum=KNOWLEDGE_BASE_MODELS),
        "description": Str(),
        "fileIds": Arr(Str()),
    }, required=("name", "provider", "description", "fileIds"),
)
"""KnowledgeBase."""

QUERY_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("query",)),
        "knowledgeBases": Arr(KNOWLEDGE_BASE),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateQueryToolDTO."""

GOOGLE_CALENDAR_CREATE_EVENT_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("google.calendar.event.create",)),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateGoogleCalendarCreateEventToolDTO."""

GOOGLE_SHEETS_ROW_APPEND_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("google.sheets.row.append",)),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateGoogleSheetsRowAppendToolDTO."""

GOOGLE_CALENDAR_CHECK_AVAILABILITY_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("google.calendar.availability.check",)),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateGoogleCalendarCheckAvailabilityToolDTO."""

SLACK_SEND_MESSAGE_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("slack.message.send",)),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateSlackSendMessageToolDTO."""

SMS_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("sms",)),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateSmsToolDTO."""

MCP_TOOL_MESSAGES = Obj(
    {
        "name": Str(),
        "messages": Arr(TOOL_MESSAGE),
    }, required=("name",),
)
"""McpToolMessages."""

MCP_TOOL_METADATA = Obj(
    {
        "protocol": Str(enum=("sse", "shttp")),
    },
)
"""McpToolMetadata."""

MCP_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("mcp",)),
        "server": SERVER,
        "toolMessages": Arr(MCP_TOOL_MESSAGES),
        "metadata": MCP_TOOL_METADATA,
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateMcpToolDTO."""

GOHIGHLEVEL_CALENDAR_AVAILABILITY_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("gohighlevel.calendar.availability.check",)),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateGoHighLevelCalendarAvailabilityToolDTO."""

GOHIGHLEVEL_CALENDAR_EVENT_CREATE_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("gohighlevel.calendar.event.create",)),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateGoHighLevelCalendarEventCreateToolDTO."""

GOHIGHLEVEL_CONTACT_CREATE_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("gohighlevel.contact.create",)),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateGoHighLevelContactCreateToolDTO."""

GOHIGHLEVEL_CONTACT_GET_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("gohighlevel.contact.get",)),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateGoHighLevelContactGetToolDTO."""

SIP_REQUEST_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("sipRequest",)),
        "verb": Str(enum=("INFO", "MESSAGE", "NOTIFY")),
        "headers": Later(lambda: JSON_SCHEMA),
        "body": Either(Str(), Later(lambda: JSON_SCHEMA)),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type", "verb"),
)
"""CreateSipRequestToolDTO."""

VOICEMAIL_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("voicemail",)),
        "beepDetectionEnabled": Bool(),
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }, required=("type",),
)
"""CreateVoicemailToolDTO."""

GROUP_CONDITION: Obj = Obj(
    {
        "type": Str(enum=("group",)),
        "operator": Str(enum=("AND", "OR")),
        "conditions": Arr(REJECTION_CONDITION),
    }, required=("type", "operator", "conditions"),
)
"""GroupCondition."""

JSON_SCHEMA: Obj = Obj(
    {
        "type": Str(enum=("string", "number", "integer", "boolean", "array", "object")),
        "items": Later(lambda: JSON_SCHEMA),
        "properties": Map(Later(lambda: JSON_SCHEMA)),
        "description": Str(),
        "pattern": Str(),
        "format": Str(enum=SCHEMA_FORMATS),
        "required": Arr(Str()),
        "enum": Arr(Str()),
        "title": Str(),
    }, required=("type",),
)
"""JsonSchema."""

TRANSFER_CONTEXT_ENGINEERING_PLAN = Tagged("type", {"lastNMessages": CONTEXT_ENGINEERING_PLAN_LAST_N_MESSAGES, "none": CONTEXT_ENGINEERING_PLAN_NONE, "all": CONTEXT_ENGINEERING_PLAN_ALL})

TRANSFER_FALLBACK_PLAN = Obj(
    {
        "message": Either(Str(), Tagged("type", {"custom-message": CUSTOM_MESSAGE})),
        "endCallEnabled": Bool(),
    }, required=("message",),
)
"""TransferFallbackPlan."""

TRANSFER_PLAN = Obj(
    {
        "mode": Str(enum=TRANSFER_PLAN_MODES),
        "message": Either(Str(), Tagged("type", {"custom-message": CUSTOM_MESSAGE})),
        "timeout": Num(minimum=1, maximum=600),
        "sipVerb": Str(enum=("refer", "bye", "dial")),
        "dialTimeout": Num(minimum=1, maximum=600),
        "holdAudioUrl": Str(),
        "transferCompleteAudioUrl": Str(),
        "contextEngineeringPlan": TRANSFER_CONTEXT_ENGINEERING_PLAN,
        "twiml": Str(max_len=4096),
        "summaryPlan": elsewhere("assistants", "SUMMARY_PLAN"),
        "sipHeadersInReferToEnabled": Bool(),
        "fallbackPlan": TRANSFER_FALLBACK_PLAN,
    }, required=("mode",),
)
"""TransferPlan."""


KNOWLEDGE_BASE_TOOL_FUNCTION = Obj(
    {
        "name": Str(max_len=64, pattern="/^[a-zA-Z0-9_-]{1,64}$/"),
        "strict": Bool(),
        "description": Str(),
        "parameters": OPENAI_FUNCTION_PARAMETERS,
    },
    required=("name", "description", "parameters"),
)
"""KnowledgeBaseToolFunction."""
UPDATE_KNOWLEDGE_BASE_TOOL = Obj(
    {
        "messages": Arr(TOOL_MESSAGE),
        "type": Str(enum=("knowledgeBase",)),
        "knowledgeBaseId": Str(nullable=True, uuid=True),
        "function": KNOWLEDGE_BASE_TOOL_FUNCTION,
        "rejectionPlan": TOOL_REJECTION_PLAN,
    }
)
"""UpdateKnowledgeBaseToolDTO (a knowledge-base tool is made elsewhere; only PATCH /tool/{id} knows it)."""

CREATE_TOOL = Tagged(
    "type",
    {
        "apiRequest": API_REQUEST_TOOL,
        "code": CODE_TOOL,
        "dtmf": DTMF_TOOL,
        "endCall": END_CALL_TOOL,
        "function": FUNCTION_TOOL,
        "transferCall": TRANSFER_CALL_TOOL,
        "handoff": HANDOFF_TOOL,
        "bash": BASH_TOOL,
        "computer": COMPUTER_TOOL,
        "textEditor": TEXT_EDITOR_TOOL,
        "query": QUERY_TOOL,
        "google.calendar.event.create": GOOGLE_CALENDAR_CREATE_EVENT_TOOL,
        "google.sheets.row.append": GOOGLE_SHEETS_ROW_APPEND_TOOL,
        "google.calendar.availability.check": GOOGLE_CALENDAR_CHECK_AVAILABILITY_TOOL,
        "slack.message.send": SLACK_SEND_MESSAGE_TOOL,
        "sms": SMS_TOOL,
        "mcp": MCP_TOOL,
        "gohighlevel.calendar.availability.check": GOHIGHLEVEL_CALENDAR_AVAILABILITY_TOOL,
        "gohighlevel.calendar.event.create": GOHIGHLEVEL_CALENDAR_EVENT_CREATE_TOOL,
        "gohighlevel.contact.create": GOHIGHLEVEL_CONTACT_CREATE_TOOL,
        "gohighlevel.contact.get": GOHIGHLEVEL_CONTACT_GET_TOOL,
        "sipRequest": SIP_REQUEST_TOOL,
        "voicemail": VOICEMAIL_TOOL,
    },
)
"""POST /tool's body (the document's union, in its order), and each item of an assistant's `model.tools`."""
TOOL_TYPES = tuple(CREATE_TOOL.branches)
"""POST /tool's discriminator values, in the document's order."""
UPDATE_TYPES = (*TOOL_TYPES[:5], "knowledgeBase", *TOOL_TYPES[5:])
"""PATCH /tool/{id} also knows `knowledgeBase` tools (made elsewhere); POST /tool takes TOOL_TYPES."""


def _update(rule: Rule) -> Obj:
    assert isinstance(rule, Obj)
    return Obj(rule.fields, also=rule.also)


UPDATE_TOOL: dict[str, Obj] = {t: UPDATE_KNOWLEDGE_BASE_TOOL if t == "knowledgeBase" else _update(CREATE_TOOL.branches[t]) for t in UPDATE_TYPES}
"""PATCH bodies by the stored tool's type (`type` is optional and cannot change)."""
FUNCTION = OPENAI_FUNCTION
FUNCTION_PARAMETERS = OPENAI_FUNCTION_PARAMETERS

LIST_QUERY = {
    "limit": Num(minimum=0, maximum=1000),
    **DATE_FILTERS,
}


TOOLS = Resource("/tool", "tools", "Tool", CREATE_TOOL, lambda tool: UPDATE_TOOL[tool["type"]], LIST_QUERY, nulls="set")

routes = TOOLS.routes()
BODIES: dict[tuple[str, str], Rule] = {("POST", "/tool"): CREATE_TOOL, ("PATCH", "/tool/{id}"): Tagged("type", UPDATE_TOOL)}
"""The request bodies this module validates, by route (the tests compare each with the document)."""
