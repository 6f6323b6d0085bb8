"""/file: uploaded files: upload (multipart), list by purpose, get, rename, delete.

`POST /file` takes `multipart/form-data` (CreateFileDTO: `file`, required; `purpose`, one of the document's
three; `metadata`, a JSON-encoded string of at most 4096 characters), and refuses a file of a type Vapi's
knowledge bases do not take (`TYPES`, from Vapi's knowledge-base guide) with the document's 400 "Invalid file".
A file is `processing` when it arrives and, `PROCESSING` later on the sandbox clock, `done` when its text could be
read, `failed` when not. The sandbox reads the text formats as UTF-8 and a .docx by its document's XML; it
parses no PDF and no .doc (Vapi does), and a binary or empty file has no text: those fail. The text read is kept
apart (`file_texts`, at most prompt.MAX_CHARS characters) for the knowledge bases that attach the file.

`GET /file` requires `purpose` (the document marks the query parameter required) and lists the files uploaded
with that purpose. Deleting a file detaches it from every knowledge base (the links go with it).
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .clock import iso, parse_iso
from .core import ApiError, body_of, find, query_of, sandbox_of, stamp
from .prompt import MAX_CHARS
from .validation import Obj, Rule, Str, validate

if TYPE_CHECKING:
    from . import Sandbox

PURPOSES = ("assistant", "composer-attachment", "knowledge-base-v2")
"""CreateFileDTO.purpose."""
TYPES = {
    ".txt": "text/plain",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword",
    ".csv": "text/csv",
    ".md": "text/markdown",
    ".tsv": "text/tab-separated-values",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".json": "application/json",
    ".xml": "application/xml",
    ".log": "text/plain",
}
"""The file types Vapi's knowledge bases take (https://docs.vapi.ai/knowledge-base), by extension, with their MIME type."""
TEXT_TYPES = frozenset({".txt", ".csv", ".md", ".tsv", ".yaml", ".yml", ".json", ".xml", ".log"})
PROCESSING = timedelta(seconds=3)
"""How long a file is `processing` on the sandbox clock before it is `done` (or `failed`)."""
DOCX_XML_LIMIT = 20 * 1024 * 1024
"""Bytes of a .docx's document XML the sandbox reads (a zip bomb stops there)."""

FORM = Obj({"purpose": Str(enum=PURPOSES), "metadata": Str(max_len=4096)})
"""CreateFileDTO's fields besides the `file` part itself (multipart form fields, checked like a body)."""
UPDATE_FILE = Obj({"name": Str(min_len=1, max_len=40)})
"""UpdateFileDTO."""
LIST_QUERY: dict[str, Rule] = {"purpose": Str()}
"""GET /file's query parameters (`purpose` is required)."""
NAME_LENGTH = 40
"""File.name's maxLength: a longer original name is cut to it (`originalName` keeps it whole)."""


def read_text(suffix: str, data: bytes) -> str | None:
    """The text of an uploaded file, or None when the sandbox cannot read it (a PDF, a .doc, binary, empty)."""
    if suffix in TEXT_TYPES:
        if b"\x00" in data:
            return None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
    elif suffix == ".docx":
        found = _docx_text(data)
        if found is None:
            return None
        text = found
    else:
        return None
    text = text[:MAX_CHARS]
    return text if text.strip() else None


def _docx_text(data: bytes) -> str | None:
    """A Word document's paragraphs (word/document.xml's `w:t` runs), one per line; None if it is not one."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("word/document.xml") as part:
            xml = part.read(DOCX_XML_LIMIT).decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError):
        return None
    paragraphs = []
    for paragraph in re.split(r"</w:p>", xml):
        runs = re.findall(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>", paragraph)
        if runs:
            paragraphs.append(html.unescape("".join(runs)))
    return "\n".join(paragraphs)


def settle(file: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The stored file with its status as of `now`: `processing` turns `done` or `failed` once its time has come."""
    if file.get("status") == "processing" and now >= parse_iso(file["_readyAt"]):
        file["status"] = file["_outcome"]
        file["updatedAt"] = file["_readyAt"]
    return file


def text_of(sb: Sandbox, file_id: str) -> str | None:
    """The text of a file that is `done`, or None (still processing, failed, gone)."""
    file = sb.store.files.get(file_id)
    if file is None or settle(file, sb.now()).get("status") != "done":
        return None
    kept = sb.store.file_texts.get(file_id)
    return kept.get("text") if kept else None


def shown(file: dict[str, Any]) -> dict[str, Any]:
    """A File as answered (private bookkeeping left out)."""
    return {k: v for k, v in file.items() if not k.startswith("_")}


async def _form(request: Request) -> tuple[UploadFile, dict[str, Any]]:
    """The multipart form: its one `file` part and its other fields, checked as CreateFileDTO."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise ApiError(400, ["file should not be empty"])
    try:
        form = await request.form(max_files=2, max_fields=10)
    except MultiPartException as exc:
        raise ApiError(400, [f"Multipart: {exc.message}"]) from None
    uploads = [value for key, value in form.multi_items() if key == "file" and isinstance(value, UploadFile)]
    fields: dict[str, Any] = {}
    errors: list[str] = []
    for key, value in form.multi_items():
        if key == "file":
            if not isinstance(value, UploadFile):
                errors.append("file must be a file")
            continue
        if isinstance(value, UploadFile):
            errors.append(f"property {key} should not exist")
            continue
        fields[key] = value
    errors += validate(FORM, fields)
    if not uploads:
        errors.append("file should not be empty")
    elif len(uploads) > 1:
        errors.append("file must be a single file")
    if errors:
        raise ApiError(400, errors)
    return uploads[0], fields


async def create_file(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    upload, fields = await _form(request)
    original = PurePosixPath((upload.filename or "").replace("\\", "/")).name or "file"
    suffix = PurePosixPath(original).suffix.lower()
    if suffix not in TYPES:
        raise ApiError(400, [f"Invalid file: {original} is not a supported type ({', '.join(sorted(set(TYPES) - {'.yml'}))})"])
    metadata: Any = None
    if "metadata" in fields:
        try:
            metadata = json.loads(fields["metadata"])
        except ValueError:
            raise ApiError(400, ["metadata must be a JSON string"]) from None
        if not isinstance(metadata, dict):
            raise ApiError(400, ["metadata must be a JSON object"])
    data = await upload.read()
    text = read_text(suffix, data)
    now = sb.now()
    item = stamp(sb, object="file", status="processing", name=original[:NAME_LENGTH], originalName=original, bytes=len(data))
    ident = item["id"]
    mimetype = (upload.content_type or "").split(";")[0].strip()
    item.update(
        purpose=fields.get("purpose"),
        mimetype=mimetype if mimetype and mimetype != "application/octet-stream" else TYPES[suffix],
        key=f"{ident}{suffix}",
        path=f"sandbox/{ident}{suffix}",
        bucket="sandbox-files",
        url=f"https://storage.vapi.ai/sandbox/{ident}{suffix}",
        metadata=metadata,
        _readyAt=iso(now + PROCESSING),
        _outcome="done" if text is not None else "failed",
    )
    if text is not None:
        item.update(parsedTextUrl=f"https://storage.vapi.ai/sandbox/{ident}-parsed.txt", parsedTextBytes=len(text.encode()))
        sb.store.file_texts[ident] = {"id": ident, "text": text}
    item = {k: v for k, v in item.items() if v is not None}
    sb.store.files[ident] = item
    return JSONResponse(shown(item), status_code=201)


async def list_files(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    query = query_of(request, LIST_QUERY)
    if "purpose" not in query:
        raise ApiError(400, ["purpose should not be empty"])
    now = sb.now()
    found = [settle(f, now) for f in sb.store.files.values() if f.get("purpose") == query["purpose"]]
    found.sort(key=lambda f: f["createdAt"], reverse=True)
    return JSONResponse([shown(f) for f in found])


async def get_file(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    return JSONResponse(shown(settle(find(sb.store.files, request, "File"), sb.now())))


async def update_file(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    item = settle(find(sb.store.files, request, "File"), sb.now())
    body = await body_of(request, UPDATE_FILE)
    if body.get("name") is not None:
        item.update(name=body["name"], updatedAt=iso(sb.now()))
    return JSONResponse(shown(item))


async def delete_file(request: Request) -> JSONResponse:
    """DELETE /file/{id}: the file, its text, and its links to knowledge bases."""
    sb = sandbox_of(request)
    item = settle(find(sb.store.files, request, "File"), sb.now())
    for link_id, link in sb.store.knowledge_base_files.items():
        if link.get("fileId") == item["id"]:
            del sb.store.knowledge_base_files[link_id]
    sb.store.file_texts.pop(item["id"], None)
    del sb.store.files[item["id"]]
    return JSONResponse(shown(item))


routes = [
    Route("/file", create_file, methods=["POST"]),
    Route("/file", list_files, methods=["GET"]),
    Route("/file/{id}", get_file, methods=["GET"]),
    Route("/file/{id}", update_file, methods=["PATCH"]),
    Route("/file/{id}", delete_file, methods=["DELETE"]),
]
BODIES: dict[tuple[str, str], Rule] = {("PATCH", "/file/{id}"): UPDATE_FILE}
"""The JSON request bodies this module validates, by route (the tests compare each with the document);
POST /file's multipart fields are `FORM` (compared with CreateFileDTO by the files tests)."""
