"""Transcribers, models (the LLM) and voices of an assistant, each provider's schema declared after the document.

An assistant's `transcriber`, `model` and `voice` are unions chosen by `provider`; each branch
declares every field of its schema, with the document's enums (providers, model names, voice
ids where the document closes them, languages) and limits. Vapi's own message for a value
outside an enum lists the values it takes: `voice.provider must be one of the following
values: ...`, `model.model must be one of the following values: ...`.
"""

from __future__ import annotations

from .tools import CREATE_TOOL, LANGUAGES
from .validation import OPEN, SERVER, Any_, Arr, Bool, Either, Map, Num, Obj, Str, Tagged

FALLBACK_PLAN = Any_()
"""FallbackPlan (voices to fall back on, each a Fallback*Voice schema of its own): not modelled, accepted as sent."""
FALLBACK_TRANSCRIBER_PLAN = Any_()
"""FallbackTranscriberPlan (transcribers to fall back on): not modelled, accepted as sent."""

ASSEMBLYAI_TRANSCRIBER_LANGUAGE_CODES = (
    "en", "es", "fr", "de", "it", "pt", "tr", "nl", "sv", "no", "da", "fi", "hi", "vi", "ar", "he", "ja", "zh",
)  # fmt: skip

AZURE_SPEECH_TRANSCRIBER_LANGUAGES = (
    "af-ZA", "am-ET", "ar-AE", "ar-BH", "ar-DZ", "ar-EG", "ar-IL", "ar-IQ", "ar-JO", "ar-KW", "ar-LB", "ar-LY", "ar-MA", "ar-OM", "ar-PS", "ar-QA",
    "ar-SA", "ar-SY", "ar-TN", "ar-YE", "az-AZ", "bg-BG", "bn-IN", "bs-BA", "ca-ES", "cs-CZ", "cy-GB", "da-DK", "de-AT", "de-CH", "de-DE", "el-GR",
    "en-AU", "en-CA", "en-GB", "en-GH", "en-HK", "en-IE", "en-IN", "en-KE", "en-NG", "en-NZ", "en-PH", "en-SG", "en-TZ", "en-US", "en-ZA", "es-AR",
    "es-BO", "es-CL", "es-CO", "es-CR", "es-CU", "es-DO", "es-EC", "es-ES", "es-GQ", "es-GT", "es-HN", "es-MX", "es-NI", "es-PA", "es-PE", "es-PR",
    "es-PY", "es-SV", "es-US", "es-UY", "es-VE", "et-EE", "eu-ES", "fa-IR", "fi-FI", "fil-PH", "fr-BE", "fr-CA", "fr-CH", "fr-FR", "ga-IE", "gl-ES",
    "gu-IN", "he-IL", "hi-IN", "hr-HR", "hu-HU", "hy-AM", "id-ID", "is-IS", "it-CH", "it-IT", "ja-JP", "jv-ID", "ka-GE", "kk-KZ", "km-KH", "kn-IN",
    "ko-KR", "lo-LA", "lt-LT", "lv-LV", "mk-MK", "ml-IN", "mn-MN", "mr-IN", "ms-MY", "mt-MT", "my-MM", "nb-NO", "ne-NP", "nl-BE", "nl-NL", "pa-IN",
    "pl-PL", "ps-AF", "pt-BR", "pt-PT", "ro-RO", "ru-RU", "si-LK", "sk-SK", "sl-SI", "so-SO", "sq-AL", "sr-RS", "sv-SE", "sw-KE", "sw-TZ", "ta-IN",
    "te-IN", "th-TH", "tr-TR", "uk-UA", "ur-IN", "uz-UZ", "vi-VN", "wuu-CN", "yue-CN", "zh-CN", "zh-CN-shandong", "zh-CN-sichuan", "zh-HK", "zh-TW",
    "zu-ZA",
)  # fmt: skip

DEEPGRAM_TRANSCRIBER_LANGUAGES = (
    "ar", "az", "ba", "be", "bg", "bn", "br", "bs", "ca", "cs", "da", "da-DK", "de", "de-CH", "el", "en", "en-AU", "en-CA", "en-GB", "en-IE", "en-IN",
    "en-NZ", "en-US", "es", "es-419", "es-LATAM", "et", "eu", "fa", "fi", "fr", "fr-CA", "ha", "haw", "he", "hi", "hi-Latn", "hr", "hu", "id", "is", "it",
    "ja", "jw", "kn", "ko", "ko-KR", "ln", "lt", "lv", "mk", "mr", "ms", "multi", "nl", "nl-BE", "no", "pl", "pt", "pt-BR", "pt-PT", "ro", "ru", "sk",
    "sl", "sn", "so", "sr", "su", "sv", "sv-SE", "ta", "taq", "te", "th", "th-TH", "tl", "tr", "tt", "uk", "ur", "vi", "yo", "zh", "zh-CN", "zh-HK",
    "zh-Hans", "zh-Hant", "zh-TW",
)  # fmt: skip

ISO_LANGUAGES = LANGUAGES
"""ISO 639-1 codes (and `yue`), as the document lists them for most transcribers and voices."""

GLADIA_TRANSCRIBER_LANGUAGES = (
    "af", "sq", "am", "ar", "hy", "as", "az", "ba", "eu", "be", "bn", "bs", "br", "bg", "ca", "zh", "hr", "cs", "da", "nl", "en", "et", "fo", "fi", "fr",
    "gl", "ka", "de", "el", "gu", "ht", "ha", "haw", "he", "hi", "hu", "is", "id", "it", "ja", "jv", "kn", "kk", "km", "ko", "lo", "la", "lv", "ln", "lt",
    "lb", "mk", "mg", "ms", "ml", "mt", "mi", "mr", "mn", "my", "ne", "no", "nn", "oc", "ps", "fa", "pl", "pt", "pa", "ro", "ru", "sa", "sr", "sn", "sd",
    "si", "sk", "sl", "so", "es", "su", "sw", "sv", "tl", "tg", "ta", "tt", "te", "th", "bo", "tr", "tk", "uk", "ur", "uz", "vi", "cy", "yi", "yo",
)  # fmt: skip

GEMINI_MODELS = (
    "gemini-3.5-flash", "gemini-3.1-flash-lite", "gemini-3-flash-preview", "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite",
    "gemini-2.0-flash-thinking-exp", "gemini-2.0-pro-exp-02-05", "gemini-2.0-flash", "gemini-2.0-flash-lite", "gemini-2.0-flash-exp",
    "gemini-2.0-flash-realtime-exp", "gemini-1.5-flash", "gemini-1.5-flash-002", "gemini-1.5-pro", "gemini-1.5-pro-002", "gemini-1.0-pro",
)  # fmt: skip

GOOGLE_TRANSCRIBER_LANGUAGES = (
    "Multilingual", "Arabic", "Bengali", "Bulgarian", "Chinese", "Croatian", "Czech", "Danish", "Dutch", "English", "Estonian", "Finnish", "French",
    "German", "Greek", "Hebrew", "Hindi", "Hungarian", "Indonesian", "Italian", "Japanese", "Korean", "Latvian", "Lithuanian", "Norwegian", "Polish",
    "Portuguese", "Romanian", "Russian", "Serbian", "Slovak", "Slovenian", "Spanish", "Swahili", "Swedish", "Thai", "Turkish", "Ukrainian", "Vietnamese",
)  # fmt: skip

SPEECHMATICS_TRANSCRIBER_LANGUAGES = (
    "auto", "ar", "ar_en", "ba", "eu", "be", "bn", "bg", "yue", "ca", "hr", "cs", "da", "nl", "en", "eo", "et", "fi", "fr", "gl", "de", "el", "he", "hi",
    "hu", "id", "ia", "ga", "it", "ja", "ko", "lv", "lt", "ms", "en_ms", "mt", "cmn", "cmn_en", "mr", "mn", "no", "fa", "pl", "pt", "ro", "ru", "sk",
    "sl", "es", "en_es", "sw", "sv", "tl", "ta", "en_ta", "th", "tr", "uk", "ur", "ug", "vi", "cy",
)  # fmt: skip

TALKSCRIBER_TRANSCRIBER_LANGUAGES = (
    "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl", "ar", "sv", "it", "id", "hi", "fi", "vi", "he", "uk", "el", "ms", "cs",
    "ro", "da", "hu", "ta", "no", "th", "ur", "hr", "bg", "lt", "la", "mi", "ml", "cy", "sk", "te", "fa", "lv", "bn", "sr", "az", "sl", "kn", "et", "mk",
    "br", "eu", "is", "hy", "ne", "mn", "bs", "kk", "sq", "sw", "gl", "mr", "pa", "si", "km", "sn", "yo", "so", "af", "oc", "ka", "be", "tg", "sd", "gu",
    "am", "yi", "lo", "uz", "fo", "ht", "ps", "tk", "nn", "mt", "sa", "lb", "my", "bo", "tl", "mg", "as", "tt", "haw", "ln", "ha", "ba", "jw", "su",
    "yue",
)  # fmt: skip

OPENAI_TRANSCRIBER_LANGUAGES = (
    "af", "ar", "hy", "az", "be", "bs", "bg", "ca", "zh", "hr", "cs", "da", "nl", "en", "et", "fi", "fr", "gl", "de", "el", "he", "hi", "hu", "is", "id",
    "it", "ja", "kn", "kk", "ko", "lv", "lt", "mk", "ms", "mr", "mi", "ne", "no", "fa", "pl", "pt", "ro", "ru", "sr", "sk", "sl", "es", "sw", "sv", "tl",
    "ta", "th", "tr", "uk", "ur", "vi", "cy",
)  # fmt: skip

XAI_TRANSCRIBER_LANGUAGES = (
    "ar", "cs", "da", "nl", "en", "fil", "fr", "de", "hi", "id", "it", "ja", "ko", "mk", "ms", "fa", "pl", "pt", "ro", "ru", "es", "sv", "th", "tr", "vi",
)  # fmt: skip

CARTESIA_VOICE_MODELS = (
    "sonic-3.5", "sonic-3.5-2026-05-04", "sonic-3", "sonic-3-2026-01-12", "sonic-3-2025-10-27", "sonic-2", "sonic-2-2025-06-11", "sonic-english",
    "sonic-multilingual", "sonic-preview", "sonic",
)  # fmt: skip

CARTESIA_VOICE_LANGUAGES = (
    "ar", "bg", "bn", "cs", "da", "de", "el", "en", "es", "fi", "fr", "gu", "he", "hi", "hr", "hu", "id", "it", "ja", "ka", "kn", "ko", "ml", "mr", "ms",
    "nl", "no", "pa", "pl", "pt", "ro", "ru", "sk", "sv", "ta", "te", "th", "tl", "tr", "uk", "vi", "zh",
)  # fmt: skip

DEEPGRAM_VOICE_VOICES = (
    "asteria", "luna", "stella", "athena", "hera", "orion", "arcas", "perseus", "angus", "orpheus", "helios", "zeus", "thalia", "andromeda", "helena",
    "apollo", "arcas", "aries", "amalthea", "asteria", "athena", "atlas", "aurora", "callista", "cora", "cordelia", "delia", "draco", "electra",
    "harmonia", "hera", "hermes", "hyperion", "iris", "janus", "juno", "jupiter", "luna", "mars", "minerva", "neptune", "odysseus", "ophelia", "orion",
    "orpheus", "pandora", "phoebe", "pluto", "saturn", "selene", "theia", "vesta", "zeus", "celeste", "estrella", "nestor", "sirio", "carina", "alvaro",
    "diana", "aquila", "selena", "javier", "viktoria", "kara", "fabian", "julius", "lara", "elara", "aurelia",
)  # fmt: skip

ELEVENLABS_VOICE_MODELS = (
    "eleven_multilingual_v2", "eleven_turbo_v2", "eleven_turbo_v2_5", "eleven_flash_v2", "eleven_flash_v2_5", "eleven_monolingual_v1", "eleven_v3",
)  # fmt: skip

LMNT_VOICE_LANGUAGES = (*LANGUAGES, "auto")

PLAYHT_VOICE_EMOTIONS = (
    "female_happy", "female_sad", "female_angry", "female_fearful", "female_disgust", "female_surprised", "male_happy", "male_sad", "male_angry",
    "male_fearful", "male_disgust", "male_surprised",
)  # fmt: skip

PLAYHT_VOICE_LANGUAGES = (
    "afrikaans", "albanian", "amharic", "arabic", "bengali", "bulgarian", "catalan", "croatian", "czech", "danish", "dutch", "english", "french",
    "galician", "german", "greek", "hebrew", "hindi", "hungarian", "indonesian", "italian", "japanese", "korean", "malay", "mandarin", "polish",
    "portuguese", "russian", "serbian", "spanish", "swedish", "tagalog", "thai", "turkish", "ukrainian", "urdu", "xhosa",
)  # fmt: skip

RIMEAI_VOICE_LANGUAGES = (
    "en", "es", "de", "fr", "ar", "hi", "ja", "he", "pt", "ta", "si",
)  # fmt: skip

VAPI_VOICE_LANGUAGES = (
    "en-US", "en-GB", "en-AU", "en-CA", "ja", "zh", "de", "hi", "fr-FR", "fr-CA", "ko", "pt-BR", "pt-PT", "it", "es-ES", "es-MX", "id", "nl", "tr", "fil",
    "pl", "sv", "bg", "ro", "ar-SA", "ar-AE", "cs", "el", "fi", "hr", "ms", "sk", "da", "ta", "uk", "ru", "hu", "no", "vi", "auto", "en", "ar", "ar-EG",
    "bn", "es", "fr", "gu", "he", "ka", "kn", "ml", "mr", "pa", "pt", "te", "th", "tl",
)  # fmt: skip

INWORLD_VOICE_VOICES = (
    "Alex", "Ashley", "Craig", "Deborah", "Dennis", "Edward", "Elizabeth", "Hades", "Julia", "Pixie", "Mark", "Olivia", "Priya", "Ronald", "Sarah",
    "Shaun", "Theodore", "Timothy", "Wendy", "Dominus", "Hana", "Clive", "Carter", "Blake", "Luna", "Yichen", "Xiaoyin", "Xinyi", "Jing", "Erik",
    "Katrien", "Lennart", "Lore", "Alain", "Hélène", "Mathieu", "Étienne", "Johanna", "Josef", "Gianni", "Orietta", "Asuka", "Satoshi", "Hyunwoo",
    "Minji", "Seojun", "Yoona", "Szymon", "Wojciech", "Heitor", "Maitê", "Diego", "Lupita", "Miguel", "Rafael", "Svetlana", "Elena", "Dmitry", "Nikolai",
    "Riya", "Manoj", "Yael", "Oren", "Nour", "Omar",
)  # fmt: skip

INWORLD_VOICE_LANGUAGES = (
    "en", "zh", "ko", "nl", "fr", "es", "ja", "de", "it", "pl", "pt", "ru", "hi", "he", "ar",
)  # fmt: skip

MINIMAX_VOICE_LANGUAGE_BOOSTS = (
    "Chinese", "Chinese,Yue", "English", "Arabic", "Russian", "Spanish", "French", "Portuguese", "German", "Turkish", "Dutch", "Ukrainian", "Vietnamese",
    "Indonesian", "Japanese", "Italian", "Korean", "Thai", "Polish", "Romanian", "Greek", "Czech", "Finnish", "Hindi", "Bulgarian", "Danish", "Hebrew",
    "Malay", "Persian", "Slovak", "Swedish", "Croatian", "Filipino", "Hungarian", "Norwegian", "Slovenian", "Catalan", "Nynorsk", "Tamil", "Afrikaans",
    "auto",
)  # fmt: skip

XAI_VOICE_LANGUAGES = (
    "auto", "en", "ar-EG", "ar-SA", "ar-AE", "bn", "zh", "fr", "de", "hi", "id", "it", "ja", "ko", "pt-BR", "pt-PT", "ru", "es-MX", "es-ES", "tr", "vi",
)  # fmt: skip

MICROSOFT_VOICE_VOICES = (
    "de-DE-Klaus:MAI-Voice-2", "de-DE-Mia:MAI-Voice-2", "en-AU-Lisa:MAI-Voice-2", "en-US-Ethan:MAI-Voice-2", "en-US-Grant:MAI-Voice-2",
    "en-US-Harper:MAI-Voice-2", "en-US-Iris:MAI-Voice-2", "en-US-Jasper:MAI-Voice-2", "en-US-Olivia:MAI-Voice-2", "es-ES-Marta:MAI-Voice-2",
    "es-MX-Alejo:MAI-Voice-2", "es-MX-Valeria:MAI-Voice-2", "fr-FR-Marc:MAI-Voice-2", "fr-FR-Soleil:MAI-Voice-2", "hi-IN-Arjun:MAI-Voice-2",
    "hi-IN-Dhruv:MAI-Voice-2", "hi-IN-Kavya:MAI-Voice-2", "hi-IN-Priya:MAI-Voice-2", "hu-HU-Bence:MAI-Voice-2", "hu-HU-Levente:MAI-Voice-2",
    "hu-HU-Lilla:MAI-Voice-2", "hu-HU-Réka:MAI-Voice-2", "it-IT-Luca:MAI-Voice-2", "it-IT-Rosa:MAI-Voice-2", "ko-KR-Hana:MAI-Voice-2",
    "ko-KR-Junho:MAI-Voice-2", "nl-NL-Fleur:MAI-Voice-2", "nl-NL-Sander:MAI-Voice-2", "pt-BR-Caio:MAI-Voice-2", "pt-BR-Luana:MAI-Voice-2",
    "pt-BR-Pedro:MAI-Voice-2", "pt-BR-Rafael:MAI-Voice-2", "pt-PT-Rui:MAI-Voice-2", "ro-RO-Andrei:MAI-Voice-2", "ro-RO-Elena:MAI-Voice-2",
    "ro-RO-Ioana:MAI-Voice-2", "ro-RO-Radu:MAI-Voice-2", "ru-RU-Lev:MAI-Voice-2", "ru-RU-Masha:MAI-Voice-2", "th-TH-Krit:MAI-Voice-2",
    "th-TH-Nattapong:MAI-Voice-2", "tr-TR-Aydin:MAI-Voice-2", "tr-TR-Elif:MAI-Voice-2", "zh-CN-Bo:MAI-Voice-2", "zh-CN-Lan:MAI-Voice-2",
    "zh-CN-Mei:MAI-Voice-2",
)  # fmt: skip

MICROSOFT_VOICE_STYLES = (
    "adventurous", "angry", "caring", "cheerful", "confused", "curious", "determined", "disappointed", "disgusted", "embarrassed", "empathy",
    "encouraging", "excited", "fearful", "friendly", "happy", "hopeful", "jealous", "joyful", "nostalgic", "reflective", "regretful", "relieved", "sad",
    "serious", "shouting", "softvoice", "surprised", "whispering",
)  # fmt: skip

MICROSOFT_VOICE_ROLES = (
    "Girl", "Boy", "YoungAdultFemale", "YoungAdultMale", "OlderAdultFemale", "OlderAdultMale", "SeniorFemale", "SeniorMale",
)  # fmt: skip

ANTHROPIC_MODELS = (
    "claude-3-opus-20240229", "claude-3-sonnet-20240229", "claude-3-haiku-20240307", "claude-3-5-sonnet-20240620", "claude-3-5-sonnet-20241022",
    "claude-3-5-haiku-20241022", "claude-3-7-sonnet-20250219", "claude-opus-4-20250514", "claude-opus-4-5-20251101", "claude-opus-4-6",
    "claude-sonnet-4-20250514", "claude-sonnet-4-5-20250929", "claude-sonnet-4-6", "claude-sonnet-5", "claude-haiku-4-5-20251001",
)  # fmt: skip

ANTHROPIC_BEDROCK_MODELS = (
    "claude-3-opus-20240229", "claude-3-sonnet-20240229", "claude-3-haiku-20240307", "claude-3-5-sonnet-20240620", "claude-3-5-sonnet-20241022",
    "claude-3-5-haiku-20241022", "claude-3-7-sonnet-20250219", "claude-opus-4-20250514", "claude-opus-4-5-20251101", "claude-opus-4-6",
    "claude-sonnet-4-20250514", "claude-sonnet-4-5-20250929", "claude-sonnet-4-6", "claude-haiku-4-5-20251001",
    "global.anthropic.claude-haiku-4-5-20251001-v1:0",
)  # fmt: skip

GROQ_MODELS = (
    "openai/gpt-oss-20b", "openai/gpt-oss-120b", "deepseek-r1-distill-llama-70b", "llama-3.3-70b-versatile", "llama-3.1-405b-reasoning",
    "llama-3.1-8b-instant", "llama3-8b-8192", "llama3-70b-8192", "gemma2-9b-it", "moonshotai/kimi-k2-instruct-0905",
    "meta-llama/llama-4-scout-17b-16e-instruct", "mistral-saba-24b", "compound-beta", "compound-beta-mini",
)  # fmt: skip

OPENAI_MODELS = (
    "gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-5.5", "chat-latest", "gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano", "gpt-5.2", "gpt-5.2-chat-latest",
    "gpt-5.1", "gpt-5.1-chat-latest", "gpt-5", "gpt-5-chat-latest", "gpt-5-mini", "gpt-5-nano", "gpt-4.1-2025-04-14", "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano-2025-04-14", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "chatgpt-4o-latest", "o3", "o3-mini", "o4-mini", "o1-mini",
    "o1-mini-2024-09-12", "gpt-4o-realtime-preview-2024-10-01", "gpt-4o-realtime-preview-2024-12-17", "gpt-4o-mini-realtime-preview-2024-12-17",
    "gpt-realtime-2025-08-28", "gpt-realtime-mini-2025-12-15", "gpt-realtime-2", "gpt-4o-mini-2024-07-18", "gpt-4o-mini", "gpt-4o", "gpt-4o-2024-05-13",
    "gpt-4o-2024-08-06", "gpt-4o-2024-11-20", "gpt-4-turbo", "gpt-4-turbo-2024-04-09", "gpt-4-turbo-preview", "gpt-4-0125-preview", "gpt-4-1106-preview",
    "gpt-4", "gpt-4-0613", "gpt-3.5-turbo", "gpt-3.5-turbo-0125", "gpt-3.5-turbo-1106", "gpt-3.5-turbo-16k", "gpt-3.5-turbo-0613", "gpt-5.6-luna:westus3",
    "gpt-5.6-terra:westus3", "gpt-5.6-sol:westus3", "gpt-5.4:eastus2", "gpt-5.4:swedencentral", "gpt-5.4-mini:eastus2", "gpt-5.4-mini:swedencentral",
    "gpt-5.4-nano:eastus2", "gpt-5.4-nano:swedencentral", "gpt-5.2:eastus2", "gpt-5.2:swedencentral", "gpt-5.1:eastus2", "gpt-5.1:swedencentral",
    "gpt-5:eastus2", "gpt-5:swedencentral", "gpt-5:canadaeast", "gpt-5:eastus", "gpt-5:westeurope", "gpt-5:germanywestcentral", "gpt-5:polandcentral",
    "gpt-5:spaincentral", "gpt-5-mini:eastus2", "gpt-5-mini:swedencentral", "gpt-5-mini:westeurope", "gpt-5-mini:germanywestcentral",
    "gpt-5-mini:polandcentral", "gpt-5-mini:spaincentral", "gpt-5-nano:eastus2", "gpt-5-nano:swedencentral", "gpt-4.1-2025-04-14:westus",
    "gpt-4.1-2025-04-14:eastus2", "gpt-4.1-2025-04-14:eastus", "gpt-4.1-2025-04-14:westus3", "gpt-4.1-2025-04-14:northcentralus",
    "gpt-4.1-2025-04-14:southcentralus", "gpt-4.1-2025-04-14:westeurope", "gpt-4.1-2025-04-14:germanywestcentral", "gpt-4.1-2025-04-14:polandcentral",
    "gpt-4.1-2025-04-14:spaincentral", "gpt-4.1-mini-2025-04-14:westus", "gpt-4.1-mini-2025-04-14:eastus2", "gpt-4.1-mini-2025-04-14:eastus",
    "gpt-4.1-mini-2025-04-14:westus3", "gpt-4.1-mini-2025-04-14:northcentralus", "gpt-4.1-mini-2025-04-14:southcentralus",
    "gpt-4.1-mini-2025-04-14:westeurope", "gpt-4.1-mini-2025-04-14:germanywestcentral", "gpt-4.1-mini-2025-04-14:polandcentral",
    "gpt-4.1-mini-2025-04-14:spaincentral", "gpt-4.1-nano-2025-04-14:westus", "gpt-4.1-nano-2025-04-14:eastus2", "gpt-4.1-nano-2025-04-14:westus3",
    "gpt-4.1-nano-2025-04-14:northcentralus", "gpt-4.1-nano-2025-04-14:southcentralus", "gpt-4o-2024-11-20:swedencentral", "gpt-4o-2024-11-20:westus",
    "gpt-4o-2024-11-20:eastus2", "gpt-4o-2024-11-20:eastus", "gpt-4o-2024-11-20:westus3", "gpt-4o-2024-11-20:southcentralus",
    "gpt-4o-2024-11-20:westeurope", "gpt-4o-2024-11-20:germanywestcentral", "gpt-4o-2024-11-20:polandcentral", "gpt-4o-2024-11-20:spaincentral",
    "gpt-4o-2024-08-06:westus", "gpt-4o-2024-08-06:westus3", "gpt-4o-2024-08-06:eastus", "gpt-4o-2024-08-06:eastus2", "gpt-4o-2024-08-06:northcentralus",
    "gpt-4o-2024-08-06:southcentralus", "gpt-4o-mini-2024-07-18:westus", "gpt-4o-mini-2024-07-18:westus3", "gpt-4o-mini-2024-07-18:eastus",
    "gpt-4o-mini-2024-07-18:eastus2", "gpt-4o-mini-2024-07-18:northcentralus", "gpt-4o-mini-2024-07-18:southcentralus", "gpt-4o-2024-05-13:eastus2",
    "gpt-4o-2024-05-13:eastus", "gpt-4o-2024-05-13:northcentralus", "gpt-4o-2024-05-13:southcentralus", "gpt-4o-2024-05-13:westus3",
    "gpt-4o-2024-05-13:westus", "gpt-4-turbo-2024-04-09:eastus2", "gpt-4-0125-preview:eastus", "gpt-4-0125-preview:northcentralus",
    "gpt-4-0125-preview:southcentralus", "gpt-4-1106-preview:australiaeast", "gpt-4-1106-preview:canadaeast", "gpt-4-1106-preview:france",
    "gpt-4-1106-preview:india", "gpt-4-1106-preview:norway", "gpt-4-1106-preview:swedencentral", "gpt-4-1106-preview:uk", "gpt-4-1106-preview:westus",
    "gpt-4-1106-preview:westus3", "gpt-4-0613:canadaeast", "gpt-3.5-turbo-0125:canadaeast", "gpt-3.5-turbo-0125:northcentralus",
    "gpt-3.5-turbo-0125:southcentralus", "gpt-3.5-turbo-1106:canadaeast", "gpt-3.5-turbo-1106:westus", "gpt-4.1:australiaeast", "gpt-4o:australiaeast",
    "gpt-5.4-mini:australiaeast",
)  # fmt: skip

REALTIME_OPENAI_MODELS = (
    "gpt-4o-realtime-preview-2024-10-01", "gpt-4o-realtime-preview-2024-12-17", "gpt-4o-mini-realtime-preview-2024-12-17",
    "gpt-realtime-2025-08-28", "gpt-realtime-mini-2025-12-15", "gpt-realtime-2",
)  # fmt: skip
"""The speech-to-speech models only an assistant's model may name."""
WORKFLOW_OPENAI_MODELS = tuple(model for model in OPENAI_MODELS if model not in REALTIME_OPENAI_MODELS)
"""The OpenAI models a structured output, an eval's judge or a workflow may use (fewer than an assistant's)."""

XAI_MODELS = (
    "grok-beta", "grok-2", "grok-3", "grok-4-fast-reasoning", "grok-4-fast-non-reasoning", "grok-4.20-0309-reasoning", "grok-4.20-0309-non-reasoning",
    "grok-4.3",
)  # fmt: skip

PUNCTUATION_BOUNDARIES = (
    "。", "，", ".", "!", "?", ";", ")", "،", "۔", "।", "॥", "|", "||", ",", ":",
)  # fmt: skip

FORMATTERS = (
    "markdown", "asterisk", "quote", "dash", "newline", "colon", "acronym", "dollarAmount", "email", "date", "time", "distance", "unit", "percentage",
    "phoneNumber", "number", "stripAsterisk",
)  # fmt: skip

CARTESIA_EMOTIONS = (
    "anger:lowest", "anger:low", "anger:high", "anger:highest", "positivity:lowest", "positivity:low", "positivity:high", "positivity:highest",
    "surprise:lowest", "surprise:low", "surprise:high", "surprise:highest", "sadness:lowest", "sadness:low", "sadness:high", "sadness:highest",
    "curiosity:lowest", "curiosity:low", "curiosity:high", "curiosity:highest",
)  # fmt: skip

ASSEMBLYAI_TRANSCRIBER = Obj(
    {
        "provider": Str(enum=("assembly-ai",)),
        "language": Str(enum=("multi", "en")),
        "confidenceThreshold": Num(minimum=0, maximum=1),
        "formatTurns": Bool(),
        "endOfTurnConfidenceThreshold": Num(minimum=0, maximum=1),
        "minEndOfTurnSilenceWhenConfident": Num(minimum=0),
        "wordFinalizationMaxWaitTime": Num(minimum=0),
        "maxTurnSilence": Num(minimum=0),
        "vadAssistedEndpointingEnabled": Bool(),
        "mode": Str(enum=("max_accuracy", "min_latency", "balanced")),
        "prompt": Str(max_len=1750),
        "agentContext": Str(max_len=1750),
        "languageCodes": Arr(Str(enum=ASSEMBLYAI_TRANSCRIBER_LANGUAGE_CODES)),
        "speechModel": Str(enum=("universal-streaming-english", "universal-streaming-multilingual", "universal-3-5-pro")),
        "realtimeUrl": Str(),
        "wordBoost": Arr(Str(max_len=2500)),
        "keytermsPrompt": Arr(Str(max_len=50)),
        "endUtteranceSilenceThreshold": Num(),
        "disablePartialTranscripts": Bool(),
        "fallbackPlan": FALLBACK_TRANSCRIBER_PLAN,
    }, required=("provider",),
)
"""AssemblyAITranscriber."""

AZURE_SPEECH_TRANSCRIBER = Obj(
    {
        "provider": Str(enum=("azure",)),
        "language": Str(enum=AZURE_SPEECH_TRANSCRIBER_LANGUAGES),
        "segmentationStrategy": Str(enum=("Default", "Time", "Semantic")),
        "segmentationSilenceTimeoutMs": Num(minimum=100, maximum=5000),
        "segmentationMaximumTimeMs": Num(minimum=20000, maximum=70000),
        "fallbackPlan": FALLBACK_TRANSCRIBER_PLAN,
    }, required=("provider",),
)
"""AzureSpeechTranscriber."""

CUSTOM_TRANSCRIBER = Obj(
    {
        "provider": Str(enum=("custom-transcriber",)),
        "server": SERVER,
        "fallbackPlan": FALLBACK_TRANSCRIBER_PLAN,
    }, required=("provider", "server"),
)
"""CustomTranscriber."""

DEEPGRAM_TRANSCRIBER = Obj(
    {
        "provider": Str(enum=("deepgram",)),
        "model": Str(),
        "language": Str(enum=DEEPGRAM_TRANSCRIBER_LANGUAGES),
        "smartFormat": Bool(),
        "mipOptOut": Bool(),
        "numerals": Bool(),
        "profanityFilter": Bool(),
        "redaction": Arr(Str(enum=("pci", "pii", "phi", "numbers"))),
        "confidenceThreshold": Num(minimum=0, maximum=1),
        "eotThreshold": Num(minimum=0.5, maximum=0.9),
        "eotTimeoutMs": Num(minimum=500, maximum=10000),
        "languages": Arr(Str()),
        "keywords": Arr(Str(pattern="/^\\p{L}[\\p{L}\\d]*(?::[+-]?\\d+)?$/u")),
        "keyterm": Arr(Str()),
        "endpointing": Num(minimum=10, maximum=500),
        "fallbackPlan": FALLBACK_TRANSCRIBER_PLAN,
    }, required=("provider",),
)
"""DeepgramTranscriber."""

ELEVENLABS_TRANSCRIBER = Obj(
    {
        "provider": Str(enum=("11labs",)),
        "model": Str(enum=("scribe_v1", "scribe_v2", "scribe_v2_realtime")),
        "language": Str(enum=ISO_LANGUAGES),
        "silenceThresholdSeconds": Num(minimum=0.3, maximum=3),
        "confidenceThreshold": Num(minimum=0.1, maximum=0.9),
        "minSpeechDurationMs": Num(minimum=50, maximum=2000),
        "minSilenceDurationMs": Num(minimum=50, maximum=2000),
        "fallbackPlan": FALLBACK_TRANSCRIBER_PLAN,
    }, required=("provider",),
)
"""ElevenLabsTranscriber."""

GLADIA_VOCABULARY_ITEM = Obj(
    {
        "value": Str(),
        "pronunciations": Arr(Str()),
        "intensity": Num(minimum=0, maximum=1),
        "language": Str(),
    }, required=("value",),
)
"""GladiaVocabularyItemDTO."""

GLADIA_CUSTOM_VOCABULARY_CONFIG = Obj(
    {
        "vocabulary": Arr(Either(Str(), GLADIA_VOCABULARY_ITEM)),
        "defaultIntensity": Num(minimum=0, maximum=1),
    }, required=("vocabulary",),
)
"""GladiaCustomVocabularyConfigDTO."""

GLADIA_TRANSCRIBER = Obj(
    {
        "provider": Str(enum=("gladia",)),
        "model": Str(enum=("fast", "accurate", "solaria-1")),
        "languageBehaviour": Str(enum=("manual", "automatic single language", "automatic multiple languages")),
        "language": Str(enum=GLADIA_TRANSCRIBER_LANGUAGES),
        "languages": Arr(Str(enum=GLADIA_TRANSCRIBER_LANGUAGES)),
        "transcriptionHint": Str(max_len=600),
        "prosody": Bool(),
        "audioEnhancer": Bool(),
        "confidenceThreshold": Num(minimum=0, maximum=1),
        "endpointing": Num(minimum=0.01, maximum=10),
        "speechThreshold": Num(minimum=0, maximum=1),
        "customVocabularyEnabled": Bool(),
        "customVocabularyConfig": GLADIA_CUSTOM_VOCABULARY_CONFIG,
        "region": Str(enum=("us-west", "eu-west")),
        "receivePartialTranscripts": Bool(),
        "fallbackPlan": FALLBACK_TRANSCRIBER_PLAN,
    }, required=("provider",),
)
"""GladiaTranscriber."""

GOOGLE_TRANSCRIBER = Obj(
    {
        "provider": Str(enum=("google",)),
        "model": Str(enum=GEMINI_MODELS),
        "language": Str(enum=GOOGLE_TRANSCRIBER_LANGUAGES),
        "fallbackPlan": FALLBACK_TRANSCRIBER_PLAN,
    }, required=("provider",),
)
"""GoogleTranscriber."""

SPEECHMATICS_CUSTOM_VOCABULARY_ITEM = Obj(
    {
        "content": Str(min_len=1),
        "soundsLike": Arr(Str()),
    }, required=("content",),
)
"""SpeechmaticsCustomVocabularyItem."""

SPEECHMATICS_TRANSCRIBER = Obj(
    {
        "provider": Str(enum=("speechmatics",)),
        "model": Str(enum=("default",)),
        "language": Str(enum=SPEECHMATICS_TRANSCRIBER_LANGUAGES),
        "operatingPoint": Str(enum=("standard", "enhanced")),
        "region": Str(enum=("eu", "us")),
        "enableDiarization": Bool(),
        "maxDelay": Num(minimum=500, maximum=10000),
        "customVocabulary": Arr(SPEECHMATICS_CUSTOM_VOCABULARY_ITEM),
        "numeralStyle": Str(enum=("written", "spoken")),
        "endOfTurnSensitivity": Num(minimum=0, maximum=1),
        "removeDisfluencies": Bool(),
        "minimumSpeechDuration": Num(minimum=0, maximum=5),
        "fallbackPlan": FALLBACK_TRANSCRIBER_PLAN,
    }, required=("provider", "customVocabulary"),
)
"""SpeechmaticsTranscriber."""

TALKSCRIBER_TRANSCRIBER = Obj(
    {
        "provider": Str(enum=("talkscriber",)),
        "model": Str(enum=("whisper",)),
        "language": Str(enum=TALKSCRIBER_TRANSCRIBER_LANGUAGES),
        "fallbackPlan": FALLBACK_TRANSCRIBER_PLAN,
    }, required=("provider",),
)
"""TalkscriberTranscriber."""

OPENAI_TRANSCRIBER = Obj(
    {
        "provider": Str(enum=("openai",)),
        "model": Str(enum=("gpt-4o-transcribe", "gpt-4o-mini-transcribe")),
        "language": Str(enum=OPENAI_TRANSCRIBER_LANGUAGES),
        "fallbackPlan": FALLBACK_TRANSCRIBER_PLAN,
    }, required=("provider", "model"),
)
"""OpenAITranscriber."""

CARTESIA_TRANSCRIBER = Obj(
    {
        "provider": Str(enum=("cartesia",)),
        "model": Str(enum=("ink-whisper", "ink-2")),
        "language": Str(enum=ISO_LANGUAGES),
        "fallbackPlan": FALLBACK_TRANSCRIBER_PLAN,
    }, required=("provider",),
)
"""CartesiaTranscriber."""

SONIOX_CONTEXT_GENERAL_ITEM = Obj(
    {
        "key": Str(min_len=1),
        "value": Str(min_len=1),
    }, required=("key", "value"),
)
"""SonioxContextGeneralItem."""

SONIOX_TRANSCRIBER = Obj(
    {
        "provider": Str(enum=("soniox",)),
        "model": Str(enum=("stt-rt-v4", "stt-rt-v5")),
        "language": Str(enum=ISO_LANGUAGES),
        "languages": Arr(Str(enum=ISO_LANGUAGES)),
        "languageHintsStrict": Bool(),
        "maxEndpointDelayMs": Num(minimum=500, maximum=3000),
        "customVocabulary": Arr(Str()),
        "contextGeneral": Arr(SONIOX_CONTEXT_GENERAL_ITEM),
        "fallbackPlan": FALLBACK_TRANSCRIBER_PLAN,
    }, required=("provider",),
)
"""SonioxTranscriber."""

XAI_TRANSCRIBER = Obj(
    {
        "provider": Str(enum=("xai",)),
        "model": Str(enum=("default",)),
        "language": Str(enum=XAI_TRANSCRIBER_LANGUAGES),
        "fallbackPlan": FALLBACK_TRANSCRIBER_PLAN,
    }, required=("provider",),
)
"""XaiTranscriber."""

VAPI_TRANSCRIBER = Obj(
    {
        "provider": Str(enum=("vapi",)),
        "version": Str(enum=("latest", "1")),
        "language": Str(enum=ISO_LANGUAGES),
        "languages": Arr(Str(enum=ISO_LANGUAGES)),
        "keywords": Arr(Str()),
        "turnTaking": Str(enum=("intelligent", "manual")),
    }, required=("provider",),
)
"""VapiTranscriber."""

EXACT_REPLACEMENT = Obj(
    {
        "type": Str(enum=("exact",)),
        "replaceAllEnabled": Bool(),
        "key": Str(),
        "value": Str(max_len=1000),
    }, required=("type", "key", "value"),
)
"""ExactReplacement."""

REGEX_OPTION = Obj(
    {
        "type": Str(enum=("ignore-case", "whole-word", "multi-line")),
        "enabled": Bool(),
    }, required=("type", "enabled"),
)
"""RegexOption."""

REGEX_REPLACEMENT = Obj(
    {
        "type": Str(enum=("regex",)),
        "regex": Str(),
        "options": Arr(REGEX_OPTION),
        "value": Str(max_len=1000),
    }, required=("type", "regex", "value"),
)
"""RegexReplacement."""

FORMAT_PLAN = Obj(
    {
        "enabled": Bool(),
        "numberToDigitsCutoff": Num(minimum=0),
        "replacements": Arr(Tagged("type", {"exact": EXACT_REPLACEMENT, "regex": REGEX_REPLACEMENT})),
        "formattersEnabled": Arr(Str(enum=FORMATTERS)),
    },
)
"""FormatPlan."""

CHUNK_PLAN = Obj(
    {
        "enabled": Bool(),
        "minCharacters": Num(minimum=1, maximum=80),
        "punctuationBoundaries": Arr(Str(enum=PUNCTUATION_BOUNDARIES)),
        "formatPlan": FORMAT_PLAN,
    },
)
"""ChunkPlan."""

AZURE_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("azure",)),
        "voiceId": Str(),
        "chunkPlan": CHUNK_PLAN,
        "speed": Num(minimum=0.5, maximum=2),
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId"),
)
"""AzureVoice."""

CARTESIA_EXPERIMENTAL_CONTROLS = Obj(
    {
        "speed": Either(Str(enum=("slowest", "slow", "normal", "fast", "fastest")), Num(minimum=-1, maximum=1)),
        "emotion": Str(enum=CARTESIA_EMOTIONS),
    },
)
"""CartesiaExperimentalControls."""

CARTESIA_GENERATION_CONFIG_EXPERIMENTAL = Obj(
    {
        "accentLocalization": Num(minimum=0, maximum=1, integer=True),
    },
)
"""CartesiaGenerationConfigExperimental."""

CARTESIA_GENERATION_CONFIG = Obj(
    {
        "speed": Num(minimum=0.6, maximum=1.5),
        "volume": Num(minimum=0.5, maximum=2),
        "experimental": CARTESIA_GENERATION_CONFIG_EXPERIMENTAL,
    },
)
"""CartesiaGenerationConfig."""

CARTESIA_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("cartesia",)),
        "voiceId": Str(),
        "model": Str(enum=CARTESIA_VOICE_MODELS),
        "language": Str(enum=CARTESIA_VOICE_LANGUAGES),
        "experimentalControls": CARTESIA_EXPERIMENTAL_CONTROLS,
        "generationConfig": CARTESIA_GENERATION_CONFIG,
        "pronunciationDictId": Str(),
        "chunkPlan": CHUNK_PLAN,
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId"),
)
"""CartesiaVoice."""

CUSTOM_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("custom-voice",)),
        "voiceId": Str(),
        "chunkPlan": CHUNK_PLAN,
        "server": SERVER,
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "server"),
)
"""CustomVoice."""

DEEPGRAM_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("deepgram",)),
        "voiceId": Str(enum=DEEPGRAM_VOICE_VOICES),
        "model": Str(enum=("aura", "aura-2")),
        "mipOptOut": Bool(),
        "chunkPlan": CHUNK_PLAN,
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId"),
)
"""DeepgramVoice."""

ELEVENLABS_PRONUNCIATION_DICTIONARY_LOCATOR = Obj(
    {
        "pronunciationDictionaryId": Str(),
        "versionId": Str(),
    }, required=("pronunciationDictionaryId",),
)
"""ElevenLabsPronunciationDictionaryLocator."""

ELEVENLABS_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("11labs",)),
        "voiceId": Str(),
        "stability": Num(minimum=0, maximum=1),
        "similarityBoost": Num(minimum=0, maximum=1),
        "style": Num(minimum=0, maximum=1),
        "useSpeakerBoost": Bool(),
        "speed": Num(minimum=0.7, maximum=1.2),
        "optimizeStreamingLatency": Num(minimum=0, maximum=4),
        "enableSsmlParsing": Bool(),
        "autoMode": Bool(),
        "model": Str(enum=ELEVENLABS_VOICE_MODELS),
        "language": Str(),
        "chunkPlan": CHUNK_PLAN,
        "pronunciationDictionaryLocators": Arr(ELEVENLABS_PRONUNCIATION_DICTIONARY_LOCATOR),
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId"),
)
"""ElevenLabsVoice."""

HUME_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("hume",)),
        "model": Str(enum=("octave", "octave2")),
        "voiceId": Str(),
        "isCustomHumeVoice": Bool(),
        "chunkPlan": CHUNK_PLAN,
        "description": Str(),
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId"),
)
"""HumeVoice."""

LMNT_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("lmnt",)),
        "voiceId": Str(),
        "speed": Num(minimum=0.25, maximum=2),
        "language": Str(enum=LMNT_VOICE_LANGUAGES),
        "chunkPlan": CHUNK_PLAN,
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId"),
)
"""LMNTVoice."""

NEUPHONIC_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("neuphonic",)),
        "voiceId": Str(),
        "model": Str(enum=("neu_hq", "neu_fast")),
        "language": OPEN,
        "speed": Num(minimum=0.25, maximum=2),
        "chunkPlan": CHUNK_PLAN,
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId", "language"),
)
"""NeuphonicVoice."""

OPENAI_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("openai",)),
        "voiceId": Str(),
        "model": Str(enum=("tts-1", "tts-1-hd", "gpt-4o-mini-tts")),
        "instructions": Str(max_len=10000),
        "speed": Num(minimum=0.25, maximum=4),
        "chunkPlan": CHUNK_PLAN,
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId"),
)
"""OpenAIVoice."""

PLAYHT_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("playht",)),
        "voiceId": Str(),
        "speed": Num(minimum=0.1, maximum=5),
        "temperature": Num(minimum=0.1, maximum=2),
        "emotion": Str(enum=PLAYHT_VOICE_EMOTIONS),
        "voiceGuidance": Num(minimum=1, maximum=6),
        "styleGuidance": Num(minimum=1, maximum=30),
        "textGuidance": Num(minimum=1, maximum=2),
        "model": Str(enum=("PlayHT2.0", "PlayHT2.0-turbo", "Play3.0-mini", "PlayDialog")),
        "language": Str(enum=PLAYHT_VOICE_LANGUAGES),
        "chunkPlan": CHUNK_PLAN,
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId"),
)
"""PlayHTVoice."""

WELL_SAID_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("wellsaid",)),
        "voiceId": Str(),
        "model": Str(enum=("caruso", "legacy")),
        "enableSsml": Bool(),
        "libraryIds": Arr(Str()),
        "chunkPlan": CHUNK_PLAN,
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId"),
)
"""WellSaidVoice."""

RIMEAI_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("rime-ai",)),
        "voiceId": Str(),
        "model": Str(enum=("arcana", "mistv2", "mist")),
        "speed": Num(minimum=0.1),
        "pauseBetweenBrackets": Bool(),
        "phonemizeBetweenBrackets": Bool(),
        "reduceLatency": Bool(),
        "inlineSpeedAlpha": Str(),
        "language": Str(enum=RIMEAI_VOICE_LANGUAGES),
        "chunkPlan": CHUNK_PLAN,
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId"),
)
"""RimeAIVoice."""

SMALLESTAI_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("smallest-ai",)),
        "voiceId": Str(),
        "model": Str(enum=("lightning",)),
        "speed": Num(),
        "chunkPlan": CHUNK_PLAN,
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId"),
)
"""SmallestAIVoice."""

TAVUS_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("tavus",)),
        "voiceId": Str(),
        "chunkPlan": CHUNK_PLAN,
        "personaId": Str(),
        "callbackUrl": Str(),
        "conversationName": Str(),
        "conversationalContext": Str(),
        "customGreeting": Str(),
        "properties": Any_(),  # TavusConversationProperties: not modelled
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId"),
)
"""TavusVoice."""

VAPI_PRONUNCIATION_DICTIONARY_LOCATOR = Obj(
    {
        "pronunciationDictId": Str(),
        "versionId": Str(),
        "provider": Str(enum=("cartesia", "11labs")),
    }, required=("pronunciationDictId",),
)
"""VapiPronunciationDictionaryLocator."""

VAPI_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("vapi",)),
        "voiceId": Str(),
        "version": Either(Str(enum=("1", "2", "latest")), Num()),
        "speed": Num(minimum=0.25, maximum=2),
        "language": Str(enum=VAPI_VOICE_LANGUAGES),
        "pronunciationDictionary": Arr(VAPI_PRONUNCIATION_DICTIONARY_LOCATOR),
        "chunkPlan": CHUNK_PLAN,
    }, required=("provider", "voiceId"),
)
"""VapiVoice."""

SESAME_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("sesame",)),
        "voiceId": Str(),
        "model": Str(enum=("csm-1b",)),
        "chunkPlan": CHUNK_PLAN,
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId", "model"),
)
"""SesameVoice."""

INWORLD_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("inworld",)),
        "voiceId": Str(enum=INWORLD_VOICE_VOICES),
        "model": Str(enum=("inworld-tts-1",)),
        "languageCode": Str(enum=INWORLD_VOICE_LANGUAGES),
        "temperature": Num(minimum=0.1, maximum=2),
        "speakingRate": Num(minimum=0.5, maximum=1.5),
        "chunkPlan": CHUNK_PLAN,
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId"),
)
"""InworldVoice."""

MINIMAX_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("minimax",)),
        "voiceId": Str(),
        "model": Str(enum=("speech-02-hd", "speech-02-turbo", "speech-2.5-turbo-preview")),
        "emotion": Str(),
        "subtitleType": Str(enum=("word", "sentence")),
        "pitch": Num(minimum=-12, maximum=12),
        "speed": Num(minimum=0.5, maximum=2),
        "volume": Num(minimum=0.5, maximum=2),
        "region": Str(enum=("worldwide", "china")),
        "languageBoost": Str(enum=MINIMAX_VOICE_LANGUAGE_BOOSTS),
        "textNormalizationEnabled": Bool(),
        "chunkPlan": CHUNK_PLAN,
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId"),
)
"""MinimaxVoice."""

XAI_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("xai",)),
        "voiceId": Str(enum=("eve", "ara", "rex", "sal", "leo")),
        "language": Str(enum=XAI_VOICE_LANGUAGES),
        "speed": Num(minimum=0.7, maximum=1.5),
        "chunkPlan": CHUNK_PLAN,
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId"),
)
"""XaiVoice."""

MICROSOFT_VOICE = Obj(
    {
        "cachingEnabled": Bool(),
        "provider": Str(enum=("microsoft",)),
        "voiceId": Str(enum=MICROSOFT_VOICE_VOICES),
        "style": Str(enum=MICROSOFT_VOICE_STYLES),
        "styleDegree": Num(minimum=0.01, maximum=2),
        "role": Str(enum=MICROSOFT_VOICE_ROLES),
        "chunkPlan": CHUNK_PLAN,
        "speed": Num(minimum=0.5, maximum=2),
        "fallbackPlan": FALLBACK_PLAN,
    }, required=("provider", "voiceId"),
)
"""MicrosoftVoice."""

ANTHROPIC_THINKING_CONFIG = Obj(
    {
        "type": Str(enum=("enabled",)),
        "budgetTokens": Num(minimum=1024, maximum=100000),
    }, required=("type", "budgetTokens"),
)
"""AnthropicThinkingConfig."""

CUSTOM_KNOWLEDGE_BASE = Obj(
    {
        "provider": Str(enum=("custom-knowledge-base",)),
        "server": SERVER,
    }, required=("provider", "server"),
)
"""CreateCustomKnowledgeBaseDTO."""

MESSAGE = Obj(
    {
        "content": Str(max_len=100000000),
        "role": Str(enum=("assistant", "function", "user", "system", "tool")),
    }, required=("content", "role"),
)
"""OpenAIMessage."""

TOOL_REF = Obj(
    {
        "toolId": Str(uuid=True),
        "version": Str(),
    }, required=("toolId", "version"),
)
"""ToolRef."""

ANTHROPIC_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "model": Str(enum=ANTHROPIC_MODELS),
        "provider": Str(enum=("anthropic",)),
        "thinking": ANTHROPIC_THINKING_CONFIG,
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("model", "provider"),
)
"""AnthropicModel."""

ANTHROPIC_BEDROCK_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "provider": Str(enum=("anthropic-bedrock",)),
        "model": Str(enum=ANTHROPIC_BEDROCK_MODELS),
        "thinking": ANTHROPIC_THINKING_CONFIG,
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("provider", "model"),
)
"""AnthropicBedrockModel."""

ANYSCALE_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "provider": Str(enum=("anyscale",)),
        "model": Str(),
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("provider", "model"),
)
"""AnyscaleModel."""

CEREBRAS_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "model": Str(enum=("llama3.1-8b", "llama-3.3-70b")),
        "provider": Str(enum=("cerebras",)),
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("model", "provider"),
)
"""CerebrasModel."""

CUSTOM_LLM_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "provider": Str(enum=("custom-llm",)),
        "metadataSendMode": Str(enum=("off", "variable", "destructured")),
        "headers": Map(Str()),
        "url": Str(),
        "wordLevelConfidenceEnabled": Bool(),
        "timeoutSeconds": Num(minimum=0, maximum=300),
        "model": Str(),
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("provider", "url", "model"),
)
"""CustomLLMModel."""

DEEPINFRA_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "provider": Str(enum=("deepinfra",)),
        "model": Str(),
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("provider", "model"),
)
"""DeepInfraModel."""

DEEPSEEK_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "model": Str(enum=("deepseek-chat", "deepseek-reasoner")),
        "provider": Str(enum=("deep-seek",)),
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("model", "provider"),
)
"""DeepSeekModel."""

GOOGLE_REALTIME_CONFIG = Obj(
    {
        "topP": Num(),
        "topK": Num(),
        "presencePenalty": Num(),
        "frequencyPenalty": Num(),
        "speechConfig": Any_(),  # GeminiMultimodalLiveSpeechConfig: not modelled
    },
)
"""GoogleRealtimeConfig."""

GOOGLE_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "model": Str(enum=GEMINI_MODELS),
        "provider": Str(enum=("google",)),
        "realtimeConfig": GOOGLE_REALTIME_CONFIG,
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("model", "provider"),
)
"""GoogleModel."""

GROQ_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "model": Str(enum=GROQ_MODELS),
        "provider": Str(enum=("groq",)),
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("model", "provider"),
)
"""GroqModel."""

INFLECTIONAI_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "model": Str(enum=("inflection_3_pi",)),
        "provider": Str(enum=("inflection-ai",)),
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("model", "provider"),
)
"""InflectionAIModel."""

MINIMAX_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "provider": Str(enum=("minimax",)),
        "model": Str(enum=("MiniMax-M2.7",)),
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("provider", "model"),
)
"""MinimaxLLMModel."""

OPENAI_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "provider": Str(enum=("openai",)),
        "model": Str(enum=OPENAI_MODELS),
        "fallbackModels": Arr(Str(enum=OPENAI_MODELS)),
        "toolStrictCompatibilityMode": Str(enum=("strip-parameters-with-unsupported-validation", "strip-unsupported-validation")),
        "promptCacheRetention": Str(enum=("in_memory", "24h")),
        "promptCacheKey": Str(max_len=64),
        "reasoningEffort": Str(enum=("minimal", "none", "low", "medium", "high", "xhigh")),
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("provider", "model"),
)
"""OpenAIModel."""

OPEN_ROUTER_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "provider": Str(enum=("openrouter",)),
        "model": Str(),
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("provider", "model"),
)
"""OpenRouterModel."""

PERPLEXITYAI_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "provider": Str(enum=("perplexity-ai",)),
        "model": Str(),
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("provider", "model"),
)
"""PerplexityAIModel."""

TOGETHERAI_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "provider": Str(enum=("together-ai",)),
        "model": Str(),
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("provider", "model"),
)
"""TogetherAIModel."""

XAI_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "model": Str(enum=XAI_MODELS),
        "provider": Str(enum=("xai",)),
        "temperature": Num(minimum=0, maximum=2),
        "maxTokens": Num(minimum=50, maximum=10000),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("model", "provider"),
)
"""XaiModel."""

VAPI_MODEL = Obj(
    {
        "messages": Arr(MESSAGE),
        "tools": Arr(CREATE_TOOL),
        "toolIds": Arr(Str()),
        "toolRefs": Arr(TOOL_REF),
        "knowledgeBase": Tagged("provider", {"custom-knowledge-base": CUSTOM_KNOWLEDGE_BASE}),
        "model": Str(),
        "version": Str(enum=("latest", "1")),
        "provider": Str(enum=("vapi",)),
        "workflowId": Str(),
        "workflow": Any_(),  # WorkflowUserEditable: not modelled (the sandbox runs no workflows)
        "temperature": Num(minimum=0, maximum=2),
        "emotionRecognitionEnabled": Bool(),
        "numFastTurns": Num(minimum=0),
    }, required=("provider",),
)
"""VapiModel."""


TRANSCRIBER = Tagged(
    "provider",
    {
        "assembly-ai": ASSEMBLYAI_TRANSCRIBER,
        "azure": AZURE_SPEECH_TRANSCRIBER,
        "custom-transcriber": CUSTOM_TRANSCRIBER,
        "deepgram": DEEPGRAM_TRANSCRIBER,
        "11labs": ELEVENLABS_TRANSCRIBER,
        "gladia": GLADIA_TRANSCRIBER,
        "google": GOOGLE_TRANSCRIBER,
        "speechmatics": SPEECHMATICS_TRANSCRIBER,
        "talkscriber": TALKSCRIBER_TRANSCRIBER,
        "openai": OPENAI_TRANSCRIBER,
        "cartesia": CARTESIA_TRANSCRIBER,
        "soniox": SONIOX_TRANSCRIBER,
        "xai": XAI_TRANSCRIBER,
        "vapi": VAPI_TRANSCRIBER,
    },
)
"""A transcriber, by provider (the document's union)."""
VOICE = Tagged(
    "provider",
    {
        "azure": AZURE_VOICE,
        "cartesia": CARTESIA_VOICE,
        "custom-voice": CUSTOM_VOICE,
        "deepgram": DEEPGRAM_VOICE,
        "11labs": ELEVENLABS_VOICE,
        "hume": HUME_VOICE,
        "lmnt": LMNT_VOICE,
        "neuphonic": NEUPHONIC_VOICE,
        "openai": OPENAI_VOICE,
        "playht": PLAYHT_VOICE,
        "wellsaid": WELL_SAID_VOICE,
        "rime-ai": RIMEAI_VOICE,
        "smallest-ai": SMALLESTAI_VOICE,
        "tavus": TAVUS_VOICE,
        "vapi": VAPI_VOICE,
        "sesame": SESAME_VOICE,
        "inworld": INWORLD_VOICE,
        "minimax": MINIMAX_VOICE,
        "xai": XAI_VOICE,
        "microsoft": MICROSOFT_VOICE,
    },
)
"""A voice, by provider."""
MODEL = Tagged(
    "provider",
    {
        "anthropic": ANTHROPIC_MODEL,
        "anthropic-bedrock": ANTHROPIC_BEDROCK_MODEL,
        "anyscale": ANYSCALE_MODEL,
        "cerebras": CEREBRAS_MODEL,
        "custom-llm": CUSTOM_LLM_MODEL,
        "deepinfra": DEEPINFRA_MODEL,
        "deep-seek": DEEPSEEK_MODEL,
        "google": GOOGLE_MODEL,
        "groq": GROQ_MODEL,
        "inflection-ai": INFLECTIONAI_MODEL,
        "minimax": MINIMAX_MODEL,
        "openai": OPENAI_MODEL,
        "openrouter": OPEN_ROUTER_MODEL,
        "perplexity-ai": PERPLEXITYAI_MODEL,
        "together-ai": TOGETHERAI_MODEL,
        "xai": XAI_MODEL,
        "vapi": VAPI_MODEL,
    },
)
"""A model (the LLM), by provider."""
