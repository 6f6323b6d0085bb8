"""/assistant and /squad: create, list, get, update, delete.

CreateAssistantDTO is declared field by field after the document, with the parts agents set:
its transcriber, model and voice (`providers.py`), first message, hooks, analysis and artifact
plans, speaking plans, voicemail detection, server. Where the sandbox does not model a part
(credentials, a compliance plan's filters and consent plans), the rule says so and
accepts it; the tests hold those to a reviewed list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core import ApiError
from .phone_numbers import LIST_QUERY
from .providers import MESSAGE, MODEL, REGEX_OPTION, TRANSCRIBER, VOICE
from .resource import Resource
from .tools import CREATE_TOOL, HANDOFF_DESTINATION_ASSISTANT, JSON_SCHEMA
from .validation import OPEN, SERVER, Any_, Arr, Bool, Either, Num, Obj, Rule, Str, Tagged, elsewhere

if TYPE_CHECKING:
    from . import Sandbox

FIRST_MESSAGE_MODES = (
    "assistant-speaks-first", "assistant-speaks-first-with-model-generated-message", "assistant-waits-for-user",
)  # fmt: skip

CLIENT_MESSAGES = (
    "conversation-update", "assistant.speechStarted", "function-call", "function-call-result", "hang", "language-changed", "metadata", "model-output",
    "speech-update", "status-update", "transcript", "tool-calls", "tool-calls-result", "tool.completed", "transfer-update", "user-interrupted",
    "voice-input", "workflow.node.started", "assistant.started",
)  # fmt: skip

SERVER_MESSAGES = (
    "assistant.started", "assistant.speechStarted", "conversation-update", "end-of-call-report", "function-call", "hang", "language-changed",
    "language-change-detected", "model-output", "phone-call-control", "speech-update", "status-update", "transcript",
    "transcript[transcriptType=\"final\"]", "tool-calls", "transfer-destination-request", "handoff-destination-request", "transfer-update",
    "user-interrupted", "voice-input", "chat.created", "chat.deleted", "session.created", "session.updated", "session.deleted", "call.deleted",
    "call.delete.failed", "call.artifact.upload",
)  # fmt: skip

RUBRICS = (
    "NumericScale", "DescriptiveScale", "Checklist", "Matrix", "PercentageScale", "LikertScale", "AutomaticRubric", "PassFail",
)  # fmt: skip

TWILIO_VOICEMAIL_DETECTION_TYPES = (
    "machine_start", "human", "fax", "unknown", "machine_end_beep", "machine_end_silence", "machine_end_other",
)  # fmt: skip

SUMMARY_PLAN = Obj(
    {
        "messages": Arr(OPEN),
        "enabled": Bool(),
        "timeoutSeconds": Num(minimum=1, maximum=60),
    },
)
"""SummaryPlan."""

STRUCTURED_DATA_PLAN = Obj(
    {
        "messages": Arr(OPEN),
        "enabled": Bool(),
        "schema": JSON_SCHEMA,
        "timeoutSeconds": Num(minimum=1, maximum=60),
    },
)
"""StructuredDataPlan."""

STRUCTURED_DATA_MULTI_PLAN = Obj(
    {
        "key": Str(),
        "plan": STRUCTURED_DATA_PLAN,
    }, required=("key", "plan"),
)
"""StructuredDataMultiPlan."""

SUCCESS_EVALUATION_PLAN = Obj(
    {
        "rubric": Str(enum=RUBRICS),
        "messages": Arr(OPEN),
        "enabled": Bool(),
        "timeoutSeconds": Num(minimum=1, maximum=60),
    },
)
"""SuccessEvaluationPlan."""

ANALYSIS_PLAN = Obj(
    {
        "minMessagesThreshold": Num(minimum=0),
        "summaryPlan": SUMMARY_PLAN,
        "structuredDataPlan": STRUCTURED_DATA_PLAN,
        "structuredDataMultiPlan": Arr(STRUCTURED_DATA_MULTI_PLAN),
        "successEvaluationPlan": SUCCESS_EVALUATION_PLAN,
        "outcomeIds": Arr(Str()),
    },
)
"""AnalysisPlan."""

TRANSCRIPT_PLAN = Obj(
    {
        "enabled": Bool(),
        "assistantName": Str(),
        "userName": Str(),
    },
)
"""TranscriptPlan."""

ARTIFACT_PLAN = Obj(
    {
        "recordingEnabled": Bool(),
        "recordingFormat": Str(enum=("wav;l16", "mp3")),
        "recordingUseCustomStorageEnabled": Bool(),
        "videoRecordingEnabled": Bool(),
        "fullMessageHistoryEnabled": Bool(),
        "pcapEnabled": Bool(),
        "pcapS3PathPrefix": Str(),
        "pcapUseCustomStorageEnabled": Bool(),
        "loggingEnabled": Bool(),
        "loggingUseCustomStorageEnabled": Bool(),
        "transcriptPlan": TRANSCRIPT_PLAN,
        "recordingPath": Str(),
        "structuredOutputIds": Arr(Str()),
        "structuredOutputs": Arr(elsewhere("structured_outputs", "CREATE")),
        "scorecardIds": Arr(Str()),
        "scorecards": Arr(elsewhere("scorecards", "CREATE")),
        "loggingPath": Str(),
    },
)
"""ArtifactPlan."""

FOURIER_DENOISING_PLAN = Obj(
    {
        "enabled": Bool(),
        "mediaDetectionEnabled": Bool(),
        "staticThreshold": Num(minimum=-80, maximum=0),
        "baselineOffsetDb": Num(minimum=-30, maximum=-5),
        "windowSizeMs": Num(minimum=1000, maximum=30000),
        "baselinePercentile": Num(minimum=1, maximum=99),
    },
)
"""FourierDenoisingPlan."""

SMART_DENOISING_PLAN = Obj(
    {
        "enabled": Bool(),
    },
)
"""SmartDenoisingPlan."""

BACKGROUND_SPEECH_DENOISING_PLAN = Obj(
    {
        "smartDenoisingPlan": SMART_DENOISING_PLAN,
        "fourierDenoisingPlan": FOURIER_DENOISING_PLAN,
    },
)
"""BackgroundSpeechDenoisingPlan."""

COMPLIANCE_PLAN = Obj(
    {
        "hipaaEnabled": Bool(),
        "pciEnabled": Bool(),
        "securityFilterPlan": Any_(),  # SecurityFilterPlan: not modelled
        "recordingConsentPlan": Any_(),  # RecordingConsentPlan*: not modelled
    },
)
"""CompliancePlan."""

KEYPAD_INPUT_PLAN = Obj(
    {
        "enabled": Bool(),
        "timeoutSeconds": Num(minimum=0, maximum=10),
        "delimiters": Str(enum=("#", "*", "")),
    },
)
"""KeypadInputPlan."""

LANGFUSE_OBSERVABILITY_PLAN = Obj(
    {
        "provider": Str(enum=("langfuse",)),
        "promptName": Str(),
        "promptVersion": Num(minimum=1),
        "traceName": Str(),
        "tags": Arr(Str()),
        "metadata": OPEN,
    }, required=("provider", "tags"),
)
"""LangfuseObservabilityPlan."""

MONITOR_PLAN = Obj(
    {
        "listenEnabled": Bool(),
        "listenAuthenticationEnabled": Bool(),
        "controlEnabled": Bool(),
        "controlAuthenticationEnabled": Bool(),
        "monitorIds": Arr(Str()),
    },
)
"""MonitorPlan."""

ASSISTANT_CUSTOM_ENDPOINTING_RULE = Obj(
    {
        "type": Str(enum=("assistant",)),
        "regex": Str(),
        "regexOptions": Arr(REGEX_OPTION),
        "timeoutSeconds": Num(minimum=0, maximum=15),
    }, required=("type", "regex", "timeoutSeconds"),
)
"""AssistantCustomEndpointingRule."""

BOTH_CUSTOM_ENDPOINTING_RULE = Obj(
    {
        "type": Str(enum=("both",)),
        "assistantRegex": Str(),
        "assistantRegexOptions": Arr(REGEX_OPTION),
        "customerRegex": Str(),
        "customerRegexOptions": Arr(REGEX_OPTION),
        "timeoutSeconds": Num(minimum=0, maximum=15),
    }, required=("type", "assistantRegex", "customerRegex", "timeoutSeconds"),
)
"""BothCustomEndpointingRule."""

CUSTOMER_CUSTOM_ENDPOINTING_RULE = Obj(
    {
        "type": Str(enum=("customer",)),
        "regex": Str(),
        "regexOptions": Arr(REGEX_OPTION),
        "timeoutSeconds": Num(minimum=0, maximum=15),
    }, required=("type", "regex", "timeoutSeconds"),
)
"""CustomerCustomEndpointingRule."""

CUSTOM_ENDPOINTING_RULE = Tagged("type", {"assistant": ASSISTANT_CUSTOM_ENDPOINTING_RULE, "customer": CUSTOMER_CUSTOM_ENDPOINTING_RULE, "both": BOTH_CUSTOM_ENDPOINTING_RULE})

TRANSCRIPTION_ENDPOINTING_PLAN = Obj(
    {
        "onPunctuationSeconds": Num(minimum=0, maximum=3),
        "onNoPunctuationSeconds": Num(minimum=0, maximum=3),
        "onNumberSeconds": Num(minimum=0, maximum=3),
    },
)
"""TranscriptionEndpointingPlan."""

VAPI_SMART_ENDPOINTING_PLAN = Obj(
    {
        "provider": Str(enum=("vapi", "livekit", "custom-endpointing-model")),
    }, required=("provider",),
)
"""VapiSmartEndpointingPlan."""

LIVEKIT_SMART_ENDPOINTING_PLAN = Obj(
    {
        "provider": Str(enum=("vapi", "livekit", "custom-endpointing-model")),
        "waitFunction": Str(),
    }, required=("provider",),
)
"""LivekitSmartEndpointingPlan."""

CUSTOM_ENDPOINTING_MODEL_SMART_ENDPOINTING_PLAN = Obj(
    {
        "provider": Str(enum=("vapi", "livekit", "custom-endpointing-model")),
        "server": SERVER,
    }, required=("provider",),
)
"""CustomEndpointingModelSmartEndpointingPlan."""

SMART_ENDPOINTING_PLAN = Tagged(
    "provider",
    {
        "vapi": VAPI_SMART_ENDPOINTING_PLAN,
        "livekit": LIVEKIT_SMART_ENDPOINTING_PLAN,
        "custom-endpointing-model": CUSTOM_ENDPOINTING_MODEL_SMART_ENDPOINTING_PLAN,
    },
)
"""StartSpeakingPlan.smartEndpointingPlan: each branch's `provider` enum lists all three providers; the branch is the one named after it."""

START_SPEAKING_PLAN = Obj(
    {
        "waitSeconds": Num(minimum=0, maximum=5),
        "smartEndpointingEnabled": Either(Bool(), Str(enum=("livekit",))),
        "smartEndpointingPlan": SMART_ENDPOINTING_PLAN,
        "customEndpointingRules": Arr(CUSTOM_ENDPOINTING_RULE),
        "transcriptionEndpointingPlan": TRANSCRIPTION_ENDPOINTING_PLAN,
    },
)
"""StartSpeakingPlan."""

STOP_SPEAKING_PLAN = Obj(
    {
        "numWords": Num(minimum=0, maximum=10),
        "voiceSeconds": Num(minimum=0, maximum=0.5),
        "backoffSeconds": Num(minimum=0, maximum=10),
        "acknowledgementPhrases": Arr(Str(max_len=240)),
        "interruptionPhrases": Arr(Str(max_len=240)),
    },
)
"""StopSpeakingPlan."""

TRANSPORT_CONFIGURATION_TWILIO = Obj(
    {
        "provider": Str(enum=("twilio",)),
        "timeout": Num(minimum=1, maximum=600),
        "record": Bool(),
        "recordingChannels": Str(enum=("mono", "dual")),
    }, required=("provider",),
)
"""TransportConfigurationTwilio."""

VOICEMAIL_DETECTION_BACKOFF_PLAN = Obj(
    {
        "startAtSeconds": Num(minimum=0),
        "frequencySeconds": Num(minimum=2.5),
        "maxRetries": Num(minimum=1, maximum=10),
    },
)
"""VoicemailDetectionBackoffPlan."""

GOOGLE_VOICEMAIL_DETECTION_PLAN = Obj(
    {
        "beepMaxAwaitSeconds": Num(minimum=0, maximum=30),
        "provider": Str(enum=("google",)),
        "backoffPlan": VOICEMAIL_DETECTION_BACKOFF_PLAN,
        "type": Str(enum=("audio", "transcript")),
    }, required=("provider",),
)
"""GoogleVoicemailDetectionPlan."""

OPENAI_VOICEMAIL_DETECTION_PLAN = Obj(
    {
        "beepMaxAwaitSeconds": Num(minimum=0, maximum=30),
        "provider": Str(enum=("openai",)),
        "backoffPlan": VOICEMAIL_DETECTION_BACKOFF_PLAN,
        "type": Str(enum=("audio", "transcript")),
    }, required=("provider",),
)
"""OpenAIVoicemailDetectionPlan."""

TWILIO_VOICEMAIL_DETECTION_PLAN = Obj(
    {
        "provider": Str(enum=("twilio",)),
        "voicemailDetectionTypes": Arr(Str(enum=TWILIO_VOICEMAIL_DETECTION_TYPES)),
        "enabled": Bool(),
        "machineDetectionTimeout": Num(minimum=3, maximum=59),
        "machineDetectionSpeechThreshold": Num(minimum=1000, maximum=6000),
        "machineDetectionSpeechEndThreshold": Num(minimum=500, maximum=5000),
        "machineDetectionSilenceTimeout": Num(minimum=2000, maximum=10000),
    }, required=("provider",),
)
"""TwilioVoicemailDetectionPlan."""

VAPI_VOICEMAIL_DETECTION_PLAN = Obj(
    {
        "beepMaxAwaitSeconds": Num(minimum=0, maximum=30),
        "provider": Str(enum=("vapi",)),
        "backoffPlan": VOICEMAIL_DETECTION_BACKOFF_PLAN,
        "type": Str(enum=("audio", "transcript")),
    }, required=("provider",),
)
"""VapiVoicemailDetectionPlan."""

VOICEMAIL_DETECTION_PLAN = Tagged("provider", {"google": GOOGLE_VOICEMAIL_DETECTION_PLAN, "openai": OPENAI_VOICEMAIL_DETECTION_PLAN, "twilio": TWILIO_VOICEMAIL_DETECTION_PLAN, "vapi": VAPI_VOICEMAIL_DETECTION_PLAN})

CALL_HOOK_FILTER = Obj(
    {
        "type": Str(enum=("oneOf",)),
        "key": Str(max_len=1000),
        "oneOf": Arr(Str(max_len=1000)),
    }, required=("type", "key", "oneOf"),
)
"""CallHookFilter."""

MESSAGE_ADD_HOOK_ACTION = Obj(
    {
        "type": Str(enum=("message.add",)),
        "message": MESSAGE,
        "triggerResponseEnabled": Bool(),
    }, required=("type", "message"),
)
"""MessageAddHookAction."""

TOOL_CALL_HOOK_ACTION = Obj(
    {
        "type": Str(enum=("tool",)),
        "tool": CREATE_TOOL,
        "toolId": Str(),
    }, required=("type",),
)
"""ToolCallHookAction."""

SAY_HOOK_ACTION = Obj(
    {
        "type": Str(enum=("say",)),
        "exact": Either(Str(), Arr(Str())),
        "prompt": Either(Str(), Arr(Any_())),  # messages the document names after a call transcript's: not modelled
    }, required=("type",),
)
"""SayHookAction."""

CALL_HOOK_CALL_ENDING = Obj(
    {
        "on": Str(enum=("call.ending",)),
        "do": Arr(Tagged("type", {"tool": TOOL_CALL_HOOK_ACTION, "message.add": MESSAGE_ADD_HOOK_ACTION})),
        "filters": Arr(CALL_HOOK_FILTER),
    }, required=("on", "do"),
)
"""CallHookCallEnding."""

CALL_HOOK_ASSISTANT_SPEECH_INTERRUPTED = Obj(
    {
        "on": Str(enum=("assistant.speech.interrupted",)),
        "do": Arr(Tagged("type", {"say": SAY_HOOK_ACTION, "tool": TOOL_CALL_HOOK_ACTION, "message.add": MESSAGE_ADD_HOOK_ACTION})),
    }, required=("on", "do"),
)
"""CallHookAssistantSpeechInterrupted."""

CALL_HOOK_CUSTOMER_SPEECH_INTERRUPTED = Obj(
    {
        "on": Str(enum=("customer.speech.interrupted",)),
        "do": Arr(Tagged("type", {"say": SAY_HOOK_ACTION, "tool": TOOL_CALL_HOOK_ACTION, "message.add": MESSAGE_ADD_HOOK_ACTION})),
    }, required=("on", "do"),
)
"""CallHookCustomerSpeechInterrupted."""

CUSTOMER_SPEECH_TIMEOUT_OPTIONS = Obj(
    {
        "triggerResetMode": Str(enum=("onUserSpeech", "never")),
        "timeoutSeconds": Num(minimum=1, maximum=1000),
        "triggerMaxCount": Num(minimum=1, maximum=10),
    }, required=("timeoutSeconds",),
)
"""CustomerSpeechTimeoutOptions."""

CALL_HOOK_CUSTOMER_SPEECH_TIMEOUT = Obj(
    {
        "on": Str(max_len=1000),
        "do": Arr(Tagged("type", {"say": SAY_HOOK_ACTION, "tool": TOOL_CALL_HOOK_ACTION, "message.add": MESSAGE_ADD_HOOK_ACTION})),
        "options": CUSTOMER_SPEECH_TIMEOUT_OPTIONS,
        "name": Str(max_len=1000),
    }, required=("on", "do"),
)
"""CallHookCustomerSpeechTimeout."""

SESSION_CREATED_HOOK = Obj(
    {
        "on": Str(enum=("session.created",)),
        "do": Arr(Tagged("type", {"tool": TOOL_CALL_HOOK_ACTION})),
        "name": Str(max_len=1000),
    }, required=("on", "do"),
)
"""SessionCreatedHook."""

CALL_HOOK = Tagged(
    "on",
    {
        "call.ending": CALL_HOOK_CALL_ENDING,
        "assistant.speech.interrupted": CALL_HOOK_ASSISTANT_SPEECH_INTERRUPTED,
        "customer.speech.interrupted": CALL_HOOK_CUSTOMER_SPEECH_INTERRUPTED,
        "customer.speech.timeout": CALL_HOOK_CUSTOMER_SPEECH_TIMEOUT,
        "session.created": SESSION_CREATED_HOOK,
    },
    key=lambda on: "customer.speech.timeout" if on.startswith("customer.speech.timeout[") else on,
)
"""An assistant's hook, by its event (`customer.speech.timeout[property=value]` is a timeout hook too)."""

FIELDS: dict[str, Rule] = {
    "transcriber": TRANSCRIBER,
    "model": MODEL,
    "voice": VOICE,
    "firstMessage": Str(),
    "firstMessageInterruptionsEnabled": Bool(),
    "firstMessageMode": Str(enum=FIRST_MESSAGE_MODES),
    "voicemailDetection": Either(Str(enum=("off",)), VOICEMAIL_DETECTION_PLAN),
    "clientMessages": Arr(Str(enum=CLIENT_MESSAGES)),
    "serverMessages": Arr(Str(enum=SERVER_MESSAGES)),
    "maxDurationSeconds": Num(minimum=10, maximum=43200),
    "backgroundSound": Str(),
    "modelOutputInMessagesEnabled": Bool(),
    "transportConfigurations": Arr(Tagged("provider", {"twilio": TRANSPORT_CONFIGURATION_TWILIO})),
    "observabilityPlan": Tagged("provider", {"langfuse": LANGFUSE_OBSERVABILITY_PLAN}),
    "credentials": Arr(Any_()),  # 57 providers' Create*CredentialDTO: not modelled
    "hooks": Arr(CALL_HOOK),
    "name": Str(max_len=40),
    "voicemailMessage": Str(max_len=1000),
    "endCallMessage": Str(max_len=1000),
    "endCallPhrases": Arr(Str(max_len=140, min_len=2)),
    "compliancePlan": COMPLIANCE_PLAN,
    "metadata": OPEN,
    "backgroundSpeechDenoisingPlan": BACKGROUND_SPEECH_DENOISING_PLAN,
    "analysisPlan": ANALYSIS_PLAN,
    "artifactPlan": ARTIFACT_PLAN,
    "startSpeakingPlan": START_SPEAKING_PLAN,
    "stopSpeakingPlan": STOP_SPEAKING_PLAN,
    "monitorPlan": MONITOR_PLAN,
    "credentialIds": Arr(Str()),
    "server": SERVER,
    "keypadInputPlan": KEYPAD_INPUT_PLAN,
}
"""The fields of CreateAssistantDTO (UpdateAssistantDTO has the same)."""
ASSISTANT = Obj(FIELDS)
"""CreateAssistantDTO and UpdateAssistantDTO (nothing required: a blank assistant is a valid one)."""
ASSISTANT_OVERRIDES = Obj({**FIELDS, "tools:append": Arr(CREATE_TOOL), "variableValues": OPEN})
"""AssistantOverrides: an assistant's fields, tools to add, and `variableValues` for its templates."""

SQUAD_MEMBER = Obj(
    {
        "assistantVersion": Str(nullable=True),
        "assistantDestinations": Arr(Tagged("type", {"assistant": HANDOFF_DESTINATION_ASSISTANT})),
        "assistantId": Str(nullable=True),
        "assistant": ASSISTANT,
        "assistantOverrides": ASSISTANT_OVERRIDES,
    },
)
"""SquadMemberDTO."""
SQUAD = Obj({"name": Str(), "members": Arr(SQUAD_MEMBER), "membersOverrides": ASSISTANT_OVERRIDES}, required=("members",))
"""CreateSquadDTO; UpdateSquadDTO has the same fields (members required too)."""


MODEL_PROVIDERS = tuple(MODEL.branches)
"""The model providers, in the document's order."""

DTOS: dict[str, Rule] = {
    "CreateAssistantDTO": ASSISTANT,
    "UpdateAssistantDTO": ASSISTANT,
    "AssistantOverrides": ASSISTANT_OVERRIDES,
    "CreateSquadDTO": SQUAD,
    "UpdateSquadDTO": SQUAD,
    "SquadMemberDTO": SQUAD_MEMBER,
    "OpenAIMessage": MESSAGE,
}
"""Rules of this module by the OpenAPI schema they mirror (for the tests)."""

SQUAD_QUERY: dict[str, Rule] = {**LIST_QUERY, "idAny": Str()}


def check_members(sb: Sandbox, squad: dict[str, Any]) -> None:
    """A squad's members name assistants that exist."""
    missing = [
        f"members.{i}.assistantId {member['assistantId']} does not exist in this org"
        for i, member in enumerate(squad.get("members") or [])
        if member.get("assistantId") and member["assistantId"] not in sb.store.assistants
    ]
    if missing:
        raise ApiError(400, missing)


def used_by_numbers(what: str, field: str) -> Any:
    """A `Resource.refuse`: deleting what a phone number answers with is refused, naming the numbers.

    The OpenAPI document is silent on it; Vapi would leave the number pointing at nothing."""

    def refuse(sb: Sandbox, item: dict[str, Any], verb: str) -> str | None:
        users = [n.get("number") or n["id"] for n in sb.store.phone_numbers.values() if n.get(field) == item["id"]] if verb == "delete" else []
        if not users:
            return None
        return f"{what} is in use by phone number(s) {', '.join(users)}. Unassign it first (PATCH /phone-number/{{id}} with another {field} or null)"

    return refuse


ASSISTANTS = Resource("/assistant", "assistants", "Assistant", ASSISTANT, ASSISTANT, LIST_QUERY, refuse=used_by_numbers("Assistant", "assistantId"))
SQUADS = Resource("/squad", "squads", "Squad", SQUAD, SQUAD, SQUAD_QUERY, check=check_members, refuse=used_by_numbers("Squad", "squadId"))

routes = [*ASSISTANTS.routes(), *SQUADS.routes()]
BODIES: dict[tuple[str, str], Rule] = {
    ("POST", "/assistant"): ASSISTANT,
    ("PATCH", "/assistant/{id}"): ASSISTANT,
    ("POST", "/squad"): SQUAD,
    ("PATCH", "/squad/{id}"): SQUAD,
}
"""The request bodies this module validates, by route (the tests compare each with the document)."""
