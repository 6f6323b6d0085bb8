"""/session: a conversation's memory across chats: create, list, get, update, delete.

A session holds who answers (an assistant or a squad, saved or transient, with overrides), the
customer and phone number it is for, and its `messages`. A chat given a `sessionId` (POST /chat)
answers with the session's assistant, after the session's messages, and adds its own input and
reply to them: two chats on one session share their history. The document gives
`expirationSeconds` (default 86400) and `status` (`active` by default) but not what a chat on an
expired or completed session does; the sandbox stores both and refuses neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .assistants import ASSISTANT, ASSISTANT_OVERRIDES, SQUAD
from .calls import CUSTOMER
from .chat import CHAT_MESSAGE, said
from .core import DATE_FILTERS, ApiError
from .phone_numbers import IMPORT_TWILIO
from .resource import Resource
from .validation import Arr, Bool, Num, Obj, Rule, Str

if TYPE_CHECKING:
    from . import Sandbox

STATUSES = ("active", "completed")
DEFAULT_EXPIRATION = 86400
_COMMON: dict[str, Rule] = {
    "name": Str(max_len=40),
    "status": Str(enum=STATUSES),
    "expirationSeconds": Num(minimum=60, maximum=2592000),
}
CREATE_SESSION = Obj(
    {
        **_COMMON,
        "assistantId": Str(),
        "assistant": ASSISTANT,
        "assistantOverrides": ASSISTANT_OVERRIDES,
        "squadId": Str(),
        "squad": SQUAD,
        "messages": Arr(CHAT_MESSAGE),
        "customer": CUSTOMER,
        "customerId": Str(),
        "phoneNumberId": Str(),
        "phoneNumber": IMPORT_TWILIO,
    }
)
"""CreateSessionDTO."""
UPDATE_SESSION = Obj({**_COMMON, "messages": Arr(CHAT_MESSAGE)})
"""UpdateSessionDTO: a session's name, status, expiry and messages change; who answers does not."""

LIST_QUERY: dict[str, Rule] = {
    "id": Str(),
    "idAny": Str(),
    "name": Str(),
    "assistantId": Str(),
    "assistantIdAny": Str(),
    "squadId": Str(),
    "workflowId": Str(),
    "numberE164CheckEnabled": Bool(),
    "extension": Str(max_len=10),
    "assistantOverrides": Str(),
    "squadOverrides": Str(),
    "number": Str(min_len=3, max_len=40),
    "sipUri": Str(),
    "email": Str(max_len=40),
    "externalId": Str(max_len=40),
    "customerNumberAny": Str(),
    "phoneNumberId": Str(),
    "phoneNumberIdAny": Str(),
    "page": Num(minimum=1),
    "sortOrder": Str(enum=("ASC", "DESC")),
    "sortBy": Str(enum=("createdAt", "duration", "cost")),
    "limit": Num(minimum=0, maximum=1000),
    **DATE_FILTERS,
}
"""GET /session's query parameters (`name` filters by the session's name; the customer's fields by its customer)."""
_CUSTOMER_FILTERS = ("number", "sipUri", "email", "externalId", "extension")


def check_references(sb: Sandbox, session: dict[str, Any]) -> None:
    """The assistant, squad and phone number a session names exist."""
    for key, kind, what in (("assistantId", "assistants", "Assistant"), ("squadId", "squads", "Squad"), ("phoneNumberId", "phone_numbers", "Phone Number")):
        ident = session.get(key)
        if ident is not None and ident not in sb.store.collection(kind):
            raise ApiError(400, f"Couldn't Get {what}. `{key}` {ident} Not Found.")


def keep(sb: Sandbox, session: dict[str, Any], query: Any) -> bool:
    """GET /session's filters beyond id, idAny, name and the time ranges."""
    for key in ("assistantId", "squadId", "workflowId", "phoneNumberId"):
        if key in query and session.get(key) != query[key]:
            return False
    for key in ("assistantIdAny", "phoneNumberIdAny"):
        if key in query and session.get(key.removesuffix("Any")) not in query[key].split(","):
            return False
    customer = session.get("customer") or {}
    if "customerNumberAny" in query and customer.get("number") not in query["customerNumberAny"].split(","):
        return False
    return all(customer.get(key) == query[key] for key in _CUSTOMER_FILTERS if key in query)


def stored(sb: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    """A session's system and user messages kept with both their `content` and the document's transcript fields (`chat.said`)."""
    if not body.get("messages"):
        return body
    return {**body, "messages": [said(m, sb.now()) for m in body["messages"]]}


SESSIONS = Resource(
    "/session",
    "sessions",
    "Session",
    CREATE_SESSION,
    UPDATE_SESSION,
    LIST_QUERY,
    page=True,
    defaults={"status": "active", "expirationSeconds": DEFAULT_EXPIRATION},
    check=check_references,
    keep=keep,
    stored=stored,
)

routes = SESSIONS.routes()
BODIES: dict[tuple[str, str], Rule] = {("POST", "/session"): CREATE_SESSION, ("PATCH", "/session/{id}"): UPDATE_SESSION}
"""The request bodies this module validates, by route (the tests compare each with the document)."""

