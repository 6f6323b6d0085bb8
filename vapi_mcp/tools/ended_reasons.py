"""What a call's `endedReason` means and what to do next: one line each, for every value Vapi lists.

Vapi's `Call.endedReason` enum has some 600 values. Most of them (about 520) follow one pattern,
`<where><provider>-<problem>`, where <where> is `pipeline-error-`,
`call.in-progress.error-vapifault-` or `call.in-progress.error-providerfault-`; those are
explained from three small tables (FAULTS, PROVIDERS, PROBLEMS). Every other value is in EXACT.
tests/test_ended_reasons.py checks the tables against Vapi's OpenAPI document: every value of
the enum is explained, and no entry of a table explains nothing in it.
"""

from __future__ import annotations

Explanation = tuple[str, str]
"""(what happened, what to do next)"""

LOGS = "Read the call log (get_call with include logs) for the exact message."
LOGS_LOWER = "read the call log (get_call with include logs) for the exact message."
SUPPORT = "If it repeats, contact Vapi support with the call id."
NOTHING = "Nothing to fix."
FREE_NUMBER_STEP = "Import a number you own (import_number: Twilio, Telnyx, Vonage or a SIP trunk) and call from it."
FROM_A_FREE_NUMBER: Explanation = (
    "The calling number is a free Vapi number: Vapi's free numbers take inbound calls only, so the call was never dialled.",
    FREE_NUMBER_STEP + " The free number can still answer inbound calls.",
)
"""`call.start.error-get-transport` on a call whose `phoneCallProvider` is `vapi`: what certainly happened."""

EXACT: dict[str, Explanation] = {
    # the call never started: the assistant or its resources could not be loaded
    "call-start-error-neither-assistant-nor-server-set": (
        "The call had no assistant, and the phone number has no server URL to ask for one.",
        "Assign an assistant, squad or workflow to the number (assign_assistant), or set its server URL.",
    ),
    "assistant-request-failed": (
        "Vapi asked your server URL for an assistant (assistant-request) and the request failed.",
        "Check that the number's server URL is reachable and answers within its timeout; your server's logs say why.",
    ),
    "assistant-request-returned-error": (
        "Your server answered the assistant-request with an error.",
        "Fix the error in your server's assistant-request handler.",
    ),
    "assistant-request-returned-unspeakable-error": (
        "Your server answered the assistant-request with an error that cannot be spoken to the caller.",
        "Return a valid assistant, or an error message that can be read aloud.",
    ),
    "assistant-request-returned-invalid-assistant": (
        "Your server answered the assistant-request with an assistant Vapi could not validate.",
        "Validate the returned assistant against CreateAssistantDTO (e.g. create it with create_assistant to see the errors).",
    ),
    "assistant-request-returned-no-assistant": (
        "Your server answered the assistant-request without an assistant.",
        "Return an assistant, assistantId, squadId or destination in the assistant-request response.",
    ),
    "assistant-request-returned-forwarding-phone-number": (
        "Your server answered the assistant-request with a number to forward the call to, so Vapi forwarded it.",
        NOTHING + " This is how forwarding by assistant-request ends a call.",
    ),
    "scheduled-call-deleted": (
        "The scheduled call was deleted before its time, so it never rang.",
        NOTHING + " Schedule it again with create_call if it is still wanted.",
    ),
    "call.start.error-vapifault-get-org": (
        "Vapi could not load your organization when starting the call (a Vapi-side fault).",
        "Place the call again; " + SUPPORT,
    ),
    "call.start.error-vapifault-get-subscription": (
        "Vapi could not load your subscription when starting the call (a Vapi-side fault).",
        "Place the call again; " + SUPPORT,
    ),
    "call.start.error-get-assistant": (
        "Vapi could not load the call's assistant.",
        "Check the assistantId exists (get_assistant) and is valid.",
    ),
    "call.start.error-get-phone-number": (
        "Vapi could not load the calling phone number.",
        "Check the phoneNumberId exists (get_phone_number) and is active.",
    ),
    "call.start.error-get-customer": (
        "Vapi could not load the customer for the call.",
        "Check the customer (or customerId) the call was given.",
    ),
    "call.start.error-get-resources-validation": (
        "The call's resources (assistant, number, customer, tools) did not pass Vapi's validation at start.",
        LOGS + " Then fix the named resource.",
    ),
    "call.start.error-vapi-number-international": (
        "A free Vapi number tried to call abroad; Vapi's free numbers take inbound calls only.",
        FREE_NUMBER_STEP,
    ),
    "call.start.error-vapi-number-outbound-daily-limit": (
        "The free Vapi number reached its daily limit of outbound calls.",
        "Wait until tomorrow, or import your own number (import_number) for volume.",
    ),
    "call.start.error-get-transport": (
        "Vapi found no transport to place the call: a free Vapi number takes inbound calls only, or the number's provider failed.",
        "From a free Vapi number (provider vapi): import a number you own (import_number) and call from it. "
        "Otherwise check the number's provider account (e.g. Twilio credentials).",
    ),
    "call.start.error-subscription-wallet-does-not-exist": (
        "The organization has no billing wallet, so Vapi could not start the call.",
        "Set up billing in the Vapi dashboard.",
    ),
    "call.start.error-fraud-check-failed": (
        "Vapi's fraud check refused the call.",
        "Check the destination number is legitimate; contact Vapi support if it should be allowed.",
    ),
    "call.start.error-subscription-frozen": (
        "The Vapi subscription is frozen (usually an unpaid bill), so no call can start.",
        "Resolve billing in the Vapi dashboard.",
    ),
    "call.start.error-subscription-insufficient-credits": (
        "The Vapi account has too few credits to start the call.",
        "Add credits in the Vapi dashboard (or turn on auto-reload), then place the call again.",
    ),
    "call.start.error-subscription-upgrade-failed": (
        "Vapi tried to upgrade the subscription to start the call and the upgrade failed.",
        "Check the payment method in the Vapi dashboard.",
    ),
    "call.start.error-subscription-concurrency-limit-reached": (
        "The account's limit on simultaneous calls was reached, so this call could not start.",
        "Lower maxConcurrency (campaigns) or wait for calls to end; buy more concurrency in the dashboard for volume.",
    ),
    "call.start.error-enterprise-feature-not-available-recording-consent": (
        "The assistant asks for recording consent (compliancePlan.recordingConsentPlan), an enterprise feature this plan lacks.",
        "Remove the recording consent plan, or upgrade to a plan that includes it.",
    ),
    "call.start.assistant-version-error-validation": (
        "The assistant version the call used did not pass validation.",
        "Check the assistant (get_assistant) and its version; " + LOGS,
    ),
    "assistant-not-valid": (
        "The assistant is not valid, so the call could not start.",
        "Fix the assistant: update_assistant shows Vapi's validation errors.",
    ),
    "call.start.error-vapifault-database-error": (
        "A Vapi database error stopped the call from starting (a Vapi-side fault).",
        "Place the call again; " + SUPPORT,
    ),
    "assistant-not-found": (
        "The call's assistant does not exist.",
        "Use an existing assistantId (list_assistants).",
    ),
    # the call ran and an internal or transport problem ended it
    "call.in-progress.error-pipeline-no-available-llm-model": (
        "No model was available to answer during the call (the model and every fallback failed or were unavailable).",
        "Add or fix model.fallbackModels, and check the model provider's status.",
    ),
    "worker-shutdown": (
        "The Vapi worker running the call shut down (for example during a deployment).",
        "Place the call again; " + SUPPORT,
    ),
    "vonage-disconnected": (
        "Vonage disconnected the call.",
        "Check the Vonage call logs for the reason; " + LOGS,
    ),
    "vonage-failed-to-connect-call": (
        "Vonage could not connect the call.",
        "Check the number, the Vonage application and its credentials (get_phone_number).",
    ),
    "vonage-completed": (
        "Vonage reported the call as completed.",
        NOTHING,
    ),
    "phone-call-provider-bypass-enabled-but-no-call-received": (
        "The number is set to bypass the phone provider, but no call arrived from it.",
        "Check the number's provider setup and the SIP or provider routing to Vapi.",
    ),
    "call.in-progress.error-providerfault-transport-never-connected": (
        "The phone or web transport never connected; Vapi files it as the provider's fault.",
        "Place the call again; check the provider's status if it repeats.",
    ),
    "call.in-progress.error-vapifault-worker-not-available": (
        "No Vapi worker was available to run the call (a Vapi-side fault).",
        "Place the call again later; " + SUPPORT,
    ),
    "call.in-progress.error-vapifault-transport-never-connected": (
        "The transport never connected to Vapi (a Vapi-side fault).",
        "Place the call again; " + SUPPORT,
    ),
    "call.in-progress.error-vapifault-transport-connected-but-call-not-active": (
        "The transport connected, but the call was no longer active (a Vapi-side fault).",
        "Place the call again; " + SUPPORT,
    ),
    "call.in-progress.error-vapifault-call-started-but-connection-to-transport-missing": (
        "The call started but lost its connection to the transport (a Vapi-side fault).",
        "Place the call again; " + SUPPORT,
    ),
    "call.in-progress.error-vapifault-worker-died": (
        "The Vapi worker running the call died mid-call (a Vapi-side fault).",
        "Place the call again; " + SUPPORT,
    ),
    "call.in-progress.twilio-completed-call": (
        "Twilio ended the call as completed.",
        NOTHING + " If the call ended too early, check the Twilio call log.",
    ),
    "call.in-progress.sip-completed-call": (
        "The SIP side ended the call as completed.",
        NOTHING + " If the call ended too early, check the SIP trunk's logs.",
    ),
    "call.in-progress.error-sip-inbound-call-failed-to-connect": (
        "An inbound SIP call failed to connect.",
        "Check the SIP trunk's configuration and credentials; " + LOGS,
    ),
    "call.in-progress.error-sip-outbound-call-failed-to-connect": (
        "An outbound SIP call failed to connect.",
        "Check the SIP trunk (gateway, credentials) and the dialled number format.",
    ),
    "call.ringing.error-sip-inbound-call-failed-to-connect": (
        "An inbound SIP call failed to connect while ringing.",
        "Check the SIP trunk's configuration and credentials; " + LOGS,
    ),
    "call.in-progress.error-providerfault-outbound-sip-503-service-unavailable": (
        "The SIP provider answered 503 Service Unavailable to the outbound call.",
        "Retry later; check the SIP provider's status and capacity.",
    ),
    "call.in-progress.error-providerfault-outbound-sip-403-forbidden": (
        "The SIP provider refused the outbound call (403 Forbidden).",
        "Check the SIP trunk credentials and that it may call this destination.",
    ),
    "call.in-progress.error-providerfault-outbound-sip-407-proxy-authentication-required": (
        "The SIP provider wanted proxy authentication for the outbound call (407).",
        "Add or fix the SIP trunk's authentication credentials.",
    ),
    "call.in-progress.error-providerfault-outbound-sip-408-request-timeout": (
        "The SIP provider timed out on the outbound call (408).",
        "Retry; check the SIP gateway address and that it is reachable.",
    ),
    "call.in-progress.error-providerfault-outbound-sip-480-temporarily-unavailable": (
        "The SIP provider reported the callee temporarily unavailable (480).",
        "Try the number again later.",
    ),
    "call.in-progress.error-vapifault-chat-pipeline-failed-to-start": (
        "The chat pipeline failed to start (a Vapi-side fault).",
        "Try again; " + SUPPORT,
    ),
    "call.in-progress.error-pipeline-ws-model-connection-failed": (
        "The websocket connection to the model failed during the call.",
        "Check the model provider (or custom LLM server) is reachable; add model.fallbackModels.",
    ),
    "call.in-progress.error-warm-transfer-max-duration": (
        "A warm transfer ran past its maximum duration.",
        "Raise the transfer assistant's maxDurationSeconds, or make the handover shorter.",
    ),
    "call.in-progress.error-warm-transfer-assistant-cancelled": (
        "The transfer assistant cancelled the warm transfer.",
        "Review the transfer assistant's instructions (transferPlan) and the transcript.",
    ),
    "call.in-progress.error-warm-transfer-silence-timeout": (
        "The warm transfer ended on silence.",
        "Check the transfer destination answers; raise the transfer assistant's silenceTimeoutSeconds if needed.",
    ),
    "call.in-progress.error-warm-transfer-microphone-timeout": (
        "The warm transfer ended because no audio came from the microphone in time.",
        "Check the destination's audio path; retry the transfer.",
    ),
    "call.in-progress.error-assistant-did-not-receive-customer-audio": (
        "The assistant received no audio from the customer.",
        "Check the caller's microphone or the phone line's audio (codecs, SIP media); " + LOGS,
    ),
    "call.in-progress.error-transfer-failed": (
        "A transfer to another number or assistant failed.",
        "Check the transfer destination (number, SIP URI) and the transferCall tool; " + LOGS,
    ),
    # normal endings
    "assistant-ended-call": (
        "The assistant ended the call.",
        NOTHING + " If it ended too soon, review the transcript and the assistant's end-call instructions.",
    ),
    "assistant-said-end-call-phrase": (
        "The assistant said one of its endCallPhrases, which ends the call.",
        NOTHING + " If it ended too soon, review endCallPhrases.",
    ),
    "assistant-ended-call-with-hangup-task": (
        "The assistant ended the call with its hang-up task.",
        NOTHING,
    ),
    "assistant-ended-call-after-message-spoken": (
        "The assistant ended the call after speaking its final message.",
        NOTHING,
    ),
    "assistant-forwarded-call": (
        "The assistant forwarded (transferred) the call.",
        NOTHING + " The transfer's outcome is in the transcript and the destination's records.",
    ),
    "assistant-join-timed-out": (
        "The assistant did not join the call in time.",
        "Place the call again; check the assistant's model and voice start quickly (" + LOGS + ")",
    ),
    "customer-busy": (
        "The customer's line was busy.",
        "Call again later.",
    ),
    "customer-ended-call": (
        "The customer hung up.",
        NOTHING + " If it was early, read the transcript for what made them leave.",
    ),
    "customer-ended-call-before-warm-transfer": (
        "The customer hung up before a warm transfer connected.",
        "Review the wait before transfers (hold audio, messages) in the transcript.",
    ),
    "customer-ended-call-after-warm-transfer-attempt": (
        "The customer hung up after a warm transfer attempt.",
        "Check the transfer destination answered; review the transcript.",
    ),
    "customer-ended-call-during-transfer": (
        "The customer hung up while the call was being transferred.",
        "Shorten the transfer wait, or tell the customer it may take a moment.",
    ),
    "customer-did-not-answer": (
        "The customer did not answer.",
        "Call again at another time (within calling hours).",
    ),
    "customer-did-not-give-microphone-permission": (
        "The web caller did not allow microphone access.",
        "Ask the user to allow the microphone in the browser and call again.",
    ),
    "exceeded-max-duration": (
        "The call reached the assistant's maxDurationSeconds and was ended.",
        "Raise maxDurationSeconds (update_assistant) if calls need longer, or make the assistant more concise.",
    ),
    "manually-canceled": (
        "The call was ended by hand (end_call, the dashboard or the API).",
        NOTHING,
    ),
    "phone-call-provider-closed-websocket": (
        "The phone provider closed its audio websocket to Vapi.",
        "Check the provider's call log (Twilio, Vonage, Telnyx); place the call again if it was cut off.",
    ),
    "call.forwarding.operator-busy": (
        "The number the call was forwarded to was busy.",
        "Try the forwarding destination again later, or add a fallback destination.",
    ),
    "call.forwarding.no-answer": (
        "The number the call was forwarded to did not answer.",
        "Check the forwarding destination is staffed, or add a fallback destination.",
    ),
    "silence-timed-out": (
        "The call ended after a long silence.",
        "Check the customer could hear the assistant (voice, audio); the assistant's silence timeout can be raised.",
    ),
    "call.ringing.hook-executed-say": (
        "A call-ringing hook on the number spoke a message and ended the call.",
        NOTHING + " It is the number's hooks (get_phone_number) at work.",
    ),
    "call.ringing.hook-executed-transfer": (
        "A call-ringing hook on the number transferred the call.",
        NOTHING + " It is the number's hooks (get_phone_number) at work.",
    ),
    "call.ending.hook-executed-say": (
        "A call-ending hook spoke a message as the call ended.",
        NOTHING,
    ),
    "call.ending.hook-executed-transfer": (
        "A call-ending hook transferred the call as it ended.",
        NOTHING,
    ),
    "call.ringing.sip-inbound-caller-hungup-before-call-connect": (
        "The SIP caller hung up before the call connected.",
        NOTHING,
    ),
    "twilio-failed-to-connect-call": (
        "Twilio could not connect the call.",
        "Check the number is valid and reachable, and the Twilio account (balance, geo permissions for the country).",
    ),
    "twilio-reported-customer-misdialed": (
        "Twilio reported the customer's number as misdialled.",
        "Check the number is complete and in E.164 form.",
    ),
    "vonage-rejected": (
        "Vonage rejected the call.",
        "Check the Vonage account (balance, permissions for the destination) and the number.",
    ),
    "voicemail": (
        "The call reached voicemail.",
        "Leave a voicemailMessage, or call again later (voicemailDetection decides what counts as voicemail).",
    ),
    "call-deleted": (
        "The call was deleted.",
        NOTHING,
    ),
}

FAULTS: dict[str, str] = {
    "pipeline-error-": "",
    "call.in-progress.error-vapifault-": " Vapi files it as a Vapi-side fault.",
    "call.in-progress.error-providerfault-": " Vapi files it as the provider's fault.",
}
"""How a provider failure value starts, and what that says about whose fault it was."""

PARTS = {"model": "model (LLM)", "voice": "voice (text-to-speech)", "transcriber": "transcriber (speech-to-text)", "video": "video avatar"}
FALLBACKS = {
    "model": "add model.fallbackModels so calls survive it",
    "voice": "set voice.fallbackPlan so calls survive it",
    "transcriber": "set transcriber.fallbackPlan so calls survive it",
    "video": "retry the call",
}

PROVIDERS: dict[str, tuple[str, str]] = {
    "openai": ("OpenAI", "model"),
    "azure-openai": ("Azure OpenAI", "model"),
    "azure-speech": ("Azure Speech", "transcriber"),
    "azure": ("Azure", "voice"),
    "cartesia": ("Cartesia", "voice"),
    "deepgram": ("Deepgram", "transcriber"),
    "eleven-labs": ("ElevenLabs", "voice"),
    "playht": ("PlayHT", "voice"),
    "lmnt": ("LMNT", "voice"),
    "rime-ai": ("Rime AI", "voice"),
    "smallest-ai": ("Smallest AI", "voice"),
    "vapi": ("Vapi", "model"),
    "neuphonic": ("Neuphonic", "voice"),
    "hume": ("Hume", "voice"),
    "sesame": ("Sesame", "voice"),
    "inworld": ("Inworld", "voice"),
    "minimax": ("MiniMax", "model"),
    "wellsaid": ("WellSaid", "voice"),
    "xai": ("xAI", "model"),
    "microsoft": ("Microsoft", "voice"),
    "tavus": ("Tavus", "video"),
    "gladia": ("Gladia", "transcriber"),
    "speechmatics": ("Speechmatics", "transcriber"),
    "assembly-ai": ("AssemblyAI", "transcriber"),
    "talkscriber": ("Talkscriber", "transcriber"),
    "google": ("Google", "model"),
    "soniox": ("Soniox", "transcriber"),
    "groq": ("Groq", "model"),
    "mistral": ("Mistral", "model"),
    "inflection-ai": ("Inflection AI", "model"),
    "cerebras": ("Cerebras", "model"),
    "deep-seek": ("DeepSeek", "model"),
    "baseten": ("Baseten", "model"),
    "anthropic": ("Anthropic", "model"),
    "anthropic-bedrock": ("Anthropic on Bedrock", "model"),
    "anthropic-vertex": ("Anthropic on Vertex", "model"),
    "together-ai": ("Together AI", "model"),
    "anyscale": ("Anyscale", "model"),
    "openrouter": ("OpenRouter", "model"),
    "perplexity-ai": ("Perplexity", "model"),
    "deepinfra": ("DeepInfra", "model"),
    "runpod": ("RunPod", "model"),
    "custom-llm": ("custom LLM", "model"),
    "custom": ("custom", "voice"),
}
"""Provider slug: (name, the part a bare status code refers to)."""

_KEY = "Check the {name} API key saved in Vapi (provider credentials); a wrong or revoked key fails every call."
_CREDIT = "Add credit or raise the plan with {name}; lower campaign maxConcurrency meanwhile."
_RATE = "Lower the number of simultaneous calls (maxConcurrency) or raise {name}'s rate limit; {fallback}."
_OUTAGE = "Likely a passing {name} outage: retry later, and {fallback}."
_VOICE_ID = "Choose another voice (voice.voiceId) or fix this one in your {name} account."
_UPGRADE = "Upgrade the {name} plan, or choose a voice or model the plan includes."

PROBLEMS: dict[str, tuple[str | None, str, str]] = {
    # (part, or None for the provider's default; what happened; next step)
    "400-bad-request-validation-failed": (None, "rejected a request as invalid (400)", "Check the assistant's {field} settings (model name, messages, tools, maxTokens) against {name}'s rules. " + LOGS),
    "401-unauthorized": (None, "refused the credentials (401)", _KEY),
    "401-incorrect-api-key": (None, "refused the API key as incorrect (401)", _KEY),
    "401-account-not-in-organization": (None, "refused the key: its account is not in the configured organization (401)", "Fix the organization of the {name} key saved in Vapi."),
    "403-model-access-denied": (None, "denied access to the requested model (403)", "Choose a model the {name} account may use, or ask {name} for access."),
    "403-forbidden-api-access-not-available": (None, "refused: the plan has no API access (403)", _UPGRADE),
    "403-forbidden-out-of-characters": (None, "refused: the plan's characters are used up (403)", _CREDIT),
    "429-exceeded-quota": (None, "refused: the account's quota is used up (429)", _CREDIT),
    "429-rate-limit-reached": (None, "rate-limited the requests (429)", _RATE),
    "500-server-error": (None, "failed with a server error (500)", _OUTAGE),
    "502-server-error": (None, "failed with a bad gateway (502)", _OUTAGE),
    "502-gateway-error": (None, "failed with a gateway error (502)", _OUTAGE),
    "503-server-error": (None, "was unavailable (503)", _OUTAGE),
    "503-server-overloaded-error": (None, "was overloaded (503)", _OUTAGE),
    "504-gateway-error": (None, "timed out at its gateway (504)", _OUTAGE),
    "522-server-error": (None, "could not be reached (522, connection timed out)", _OUTAGE),
    "llm-failed": ("model", "failed during the call", LOGS + " Then {fallback}."),
    "voice-failed": ("voice", "failed during the call", LOGS + " Then {fallback}."),
    "voice-request-canceled": ("voice", "cancelled a speech request", "Usually a one-off; if it repeats, " + LOGS_LOWER),
    "video-failed": ("video", "failed during the call", LOGS + " " + SUPPORT),
    "transcriber-failed": ("transcriber", "failed during the call", LOGS + " Then {fallback}."),
    "transcriber-api-key-missing": ("transcriber", "had no API key to use", "Add a {name} credential in Vapi, or choose a transcriber Vapi provides."),
    "transcriber-auth-failed": ("transcriber", "refused the credentials", _KEY),
    "transcriber-rate-limited": ("transcriber", "rate-limited the requests", _RATE),
    "transcriber-invalid-config": ("transcriber", "refused its configuration", "Check the transcriber's model and language settings (get_assistant). " + LOGS),
    "transcriber-server-error": ("transcriber", "failed with a server error", _OUTAGE),
    "socket-hang-up": ("voice", "closed its connection unexpectedly", _OUTAGE),
    "requested-payment": ("voice", "asked for payment (the account is out of credit)", _CREDIT),
    "voice-not-found": ("voice", "could not find the voice", _VOICE_ID),
    "quota-exceeded": ("voice", "refused: the quota is used up", _CREDIT),
    "unauthorized-access": ("voice", "refused access with the saved credentials", _KEY),
    "unauthorized-to-access-model": ("voice", "refused the voice model for this account", "Choose a voice.model the {name} plan includes."),
    "professional-voices-only-for-creator-plus": ("voice", "allows professional voice clones only on Creator plans and up", _UPGRADE),
    "blocked-free-plan-and-requested-upgrade": ("voice", "blocked the free plan and asked for an upgrade", _UPGRADE),
    "blocked-concurrent-requests-and-requested-upgrade": ("voice", "blocked too many simultaneous requests for the plan", "Lower maxConcurrency, or upgrade the {name} plan."),
    "blocked-using-instant-voice-clone-and-requested-upgrade": ("voice", "allows instant voice clones only on paid plans", _UPGRADE),
    "system-busy-and-requested-upgrade": ("voice", "was busy and offered priority on a higher plan", _OUTAGE),
    "voice-not-fine-tuned": ("voice", "could not use the voice: it is not fine-tuned yet", "Wait until the voice's fine-tuning finishes in {name}, or choose another voice."),
    "voice-not-fine-tuned-and-cannot-be-used": ("voice", "could not use the voice: it is not fine-tuned and cannot be used", _VOICE_ID),
    "invalid-api-key": ("voice", "refused the API key", _KEY),
    "invalid-voice-samples": ("voice", "found the voice clone's samples invalid", "Upload valid samples for the voice in {name}, or choose another voice."),
    "voice-disabled-by-owner": ("voice", "could not use the voice: its owner disabled it", _VOICE_ID),
    "vapi-voice-disabled-by-owner": ("voice", "could not use the Vapi-provided voice: its owner disabled it", "Choose another voice (voice.voiceId)."),
    "blocked-account-in-probation": ("voice", "blocked the account, which is in probation", "Contact {name} about the account."),
    "blocked-content-against-their-policy": ("voice", "refused text that breaks its content policy", "Review what the assistant says (prompt, firstMessage) against {name}'s policy."),
    "missing-samples-for-voice-clone": ("voice", "found no samples for the voice clone", "Add samples to the voice in {name}, or choose another voice."),
    "voice-not-allowed-for-free-users": ("voice", "does not allow the voice on a free plan", _UPGRADE),
    "max-character-limit-exceeded": ("voice", "refused a message over its character limit", "Make the assistant's replies shorter (model maxTokens, prompt), or check voice.chunkPlan."),
    "blocked-voice-potentially-against-terms-of-service-and-awaiting-verification": ("voice", "holds the voice for a terms-of-service review", "Wait for {name}'s verification, or choose another voice."),
    "request-timed-out": ("voice", "timed out", _OUTAGE),
    "invalid-voice": ("voice", "refused the voice", _VOICE_ID),
    "unexpected-error": ("voice", "had an unexpected error", LOGS + " Then {fallback}."),
    "out-of-credits": ("voice", "is out of credits", _CREDIT),
    "invalid-emotion": ("voice", "refused the emotion setting", "Fix or remove voice.emotion."),
    "voice-must-be-a-valid-voice-manifest-uri": ("voice", "needs the voice as a valid voice manifest URI", "Set voice.voiceId to a valid {name} voice manifest URI."),
    "returning-400-no-such-model-language-tier-combination": ("transcriber", "has no such combination of model and language (400)", "Pick a transcriber.model that supports transcriber.language."),
    "returning-400-insufficent-funds": ("transcriber", "refused: the account has insufficient funds (400)", _CREDIT),
    "returning-400-paid-only-feature": ("transcriber", "refused a feature only paid plans have (400)", "Upgrade the {name} plan, or turn the feature off in the transcriber settings."),
    "returning-401-invalid-credentials": ("transcriber", "refused the credentials (401)", _KEY),
    "returning-403-model-access-denied": ("transcriber", "denied access to the model (403)", "Choose a transcriber.model the {name} account may use."),
    "returning-404-not-found": ("transcriber", "answered 404: the model or endpoint was not found", "Check transcriber.model and language."),
    "returning-500-invalid-json": ("transcriber", "failed with invalid JSON (500)", _OUTAGE),
    "returning-500-invalid-schema": ("transcriber", "failed on the request's schema (500)", "Check the transcriber settings, then retry. " + LOGS),
    "returning-500-word-boost-parsing-failed": ("transcriber", "could not parse the word boost list (500)", "Fix transcriber.wordBoost (plain words or phrases)."),
    "returning-502-network-error": ("transcriber", "failed with a network error (502)", _OUTAGE),
    "returning-502-bad-gateway-ehostunreach": ("transcriber", "could not be reached (502, host unreachable)", _OUTAGE),
    "returning-econnreset": ("transcriber", "reset the connection", _OUTAGE),
}

_SLUGS = sorted(PROVIDERS, key=len, reverse=True)
FREE_NUMBER_REASONS = frozenset({"call.start.error-get-transport", "call.start.error-vapi-number-international"})


def explain(reason: str) -> Explanation | None:
    """What `reason` means and what to do next; None for a value this table does not know."""
    if reason in EXACT:
        return EXACT[reason]
    parsed = parse(reason)
    if parsed is None:
        return None
    prefix, slug, problem = parsed
    default_part, meaning, step = PROBLEMS[problem]
    name, part = PROVIDERS[slug][0], default_part or PROVIDERS[slug][1]
    fill = {"name": name, "field": part, "fallback": FALLBACKS[part]}
    return f"The {name} {PARTS[part]} {meaning}.{FAULTS[prefix]}", step.format(**fill)


def parse(reason: str) -> tuple[str, str, str] | None:
    """(where, provider slug, problem slug) of a provider failure value, or None."""
    for prefix in FAULTS:
        if reason.startswith(prefix):
            rest = reason[len(prefix) :]
            for slug in _SLUGS:
                if rest.startswith(slug + "-") and rest[len(slug) + 1 :] in PROBLEMS:
                    return prefix, slug, rest[len(slug) + 1 :]
    return None


def describe(reason: str | None, provider: str | None = None) -> dict[str, str]:
    """The `endedReason` help for a call view: its meaning and the next step (a generic one for an unknown value);
    `provider` is the call's `phoneCallProvider` (a free Vapi number explains a failed start)."""
    if not reason:
        return {}
    known = FROM_A_FREE_NUMBER if provider == "vapi" and reason in FREE_NUMBER_REASONS else explain(reason)
    if known is None:
        failed = "error" in reason or "failed" in reason
        known = (
            "A reason this server's table does not list yet" + (" (an error)." if failed else "."),
            (LOGS if failed else NOTHING) + " Vapi's documentation lists every endedReason.",
        )
    return {"endedBecause": known[0], "nextStep": known[1]}
