"""`rag-app api`: an OpenAI-compatible HTTP API over the collections under RAG_APP_HOME.

    GET    /health                 {"status": "ok"} (no key needed)
    GET    /v1/models              one model per collection; a request's "model" picks the collection
    POST   /v1/chat/completions    the cited answer as the assistant message; "stream": true sends
                                   server-sent `chat.completion.chunk` events ending with `data: [DONE]`
    POST   /v1/retrieve            {"query", "k"?, "mode"?, "collection"?} -> ranked chunks with citations
    POST   /v1/ingest              multipart: "files" (repeatable), "collection"? -> one report per file
    GET    /v1/sources             ?collection= -> the collection's sources and chunk counts
    DELETE /v1/sources             ?source= (or a JSON body {"source"}), ?collection= -> chunks removed

Chat completions: the last user message is the question; earlier user/assistant pairs are the
conversation, so follow-ups are rewritten as in `rag-app chat`; system messages are ignored (the app
has its own prompt). The response adds two top-level fields: `citations` (as in `rag-app ask --json`)
and `rag_app` (the whole `ask --json` object: abstained, grounded, warning, rewritten_query...). A
stream sends both in its last chunk, whose `rag_app.answer` is the checked answer (a marker the
citation check removed is not in it). Extra request fields `k` and `mode` tune retrieval.

Errors are `{"error": {"message", "type"}}` with a matching status: 400 invalid_request_error,
401 authentication_error, 404 not_found_error, 413 request_too_large, 502 provider_error,
500 server_error. With settings.api_key (RAG_APP_API_KEY / --api-key), every request except
/health needs `Authorization: Bearer KEY`. Request bodies are limited: JSON to 1 MB, uploads to
`max_upload_mb` (50 MB) per request.

    from rag_app.config import Settings
    from rag_app.serve.api import create_app
    app = create_app(Settings(home="/data/rag"))   # any ASGI server can run it
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from itertools import chain
from pathlib import Path
from typing import Any, Iterator, Literal

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException

from rag_app.answer import Answer
from rag_app.config import Settings
from rag_app.llm.conversation import MAX_HISTORY_TURNS, Turn
from rag_app.errors import ConfigError, ProviderError, RagError
from rag_app.serve.records import chunk_record
from rag_app.serve import package_version
from rag_app.serve.http import BodyLimit, BodyTooLarge, listen, make_server, url_of
from rag_app.serve.security import BearerAuth, check_exposure, error_body

log = logging.getLogger(__name__)

MB = 1024 * 1024
MAX_JSON_BYTES = 1 * MB
DEFAULT_MAX_UPLOAD_MB = 50.0
Mode = Literal["hybrid", "dense", "bm25", "tfidf"]
_STATUS_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    415: "invalid_request_error",
}


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind or _STATUS_TYPES.get(status, "invalid_request_error")


# ---- request bodies ---------------------------------------------------------------------------
class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    # OpenAI clients send more (temperature, max_tokens, n, ...): accepted and ignored; the answer
    # settings are the server's.
    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    k: int | None = Field(None, gt=0, le=100)
    mode: Mode | None = None


class RetrieveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1)
    k: int | None = Field(None, gt=0, le=100)
    mode: Mode | None = None
    collection: str | None = None


class RemoveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1)
    collection: str | None = None


# ---- collections --------------------------------------------------------------------------------
class Collections:
    """One RagApp per collection, created on first use; writes (ingest, remove) one at a time."""

    def __init__(self, settings: Settings, app_factory=None):
        self.settings = settings
        self._factory = app_factory or _new_app
        self._apps: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.write_lock = threading.Lock()

    def names(self) -> list[str]:
        from rag_app.ui import list_collections

        return sorted(set(list_collections(self.settings.home, self.settings.manifest_url)) | {self.settings.collection})

    def get(self, name: str | None, *, must_exist: bool = True):
        name = name or self.settings.collection
        if must_exist and name not in self.names():
            raise ApiError(404, f"collection {name!r} not found; GET /v1/models lists the collections", "not_found_error")
        with self._lock:
            app = self._apps.get(name)
            if app is None:
                app = self._apps[name] = self._factory(self.settings.model_copy(update={"collection": name}))
        return app


def _new_app(settings: Settings):
    from rag_app.app import RagApp

    return RagApp(settings=settings)


# ---- the application ----------------------------------------------------------------------------
def create_app(settings: Settings, *, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB, app_factory=None) -> FastAPI:
    """The FastAPI application. `app_factory(settings) -> RagApp` replaces how apps are made."""
    if max_upload_mb <= 0:
        raise ConfigError(f"--max-upload-mb must be positive, got {max_upload_mb:g}")
    collections = Collections(settings, app_factory)
    api = FastAPI(
        title="rag-app API",
        version=package_version(),
        docs_url=None,  # the docs pages load scripts from a CDN; /openapi.json describes the API
        redoc_url=None,
    )
    api.state.collections = collections
    api.add_middleware(
        BodyLimit, limit=MAX_JSON_BYTES, per_path={"/v1/ingest": int(max_upload_mb * MB)},
        message=f"request body too large: JSON is limited to 1 MB, uploads to {max_upload_mb:g} MB per request",
    )
    key = settings.api_key.get_secret_value() if settings.api_key else None
    if key:  # added last, so it runs first: no body is read for a request without the key
        api.add_middleware(BearerAuth, key=key, open_paths=("/health",))
    _add_error_handlers(api)

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/v1/models")
    def models() -> dict[str, Any]:
        # "created" is required by OpenAI's schema; a collection has no single creation time: 0.
        data = [{"id": name, "object": "model", "created": 0, "owned_by": "rag-app"} for name in collections.names()]
        return {"object": "list", "data": data}

    @api.post("/v1/chat/completions")
    def chat_completions(body: ChatRequest):
        app = collections.get(body.model)
        question, history = _conversation(body.messages)
        model = app.collection
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        if not body.stream:
            answer = app.ask(question, k=body.k, mode=body.mode, history=history)
            return {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer.answer},
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                **_extras(answer),
            }
        items = app.stream(question, k=body.k, mode=body.mode, history=history)
        first = next(items)  # retrieval errors (empty collection, bad mode) become a JSON error, not a broken stream
        events = _stream_events(chain([first], items), completion_id, created, model)
        return StreamingResponse(events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @api.post("/v1/retrieve")
    def retrieve(body: RetrieveRequest) -> dict[str, Any]:
        app = collections.get(body.collection)
        mode = body.mode or app.settings.mode
        chunks = app.retrieve(body.query, k=body.k, mode=mode)
        return {
            "object": "list",
            "collection": app.collection,
            "query": body.query,
            "mode": mode,
            "data": [chunk_record(chunk, rank) for rank, chunk in enumerate(chunks, start=1)],
        }

    @api.post("/v1/ingest")
    def ingest(files: list[UploadFile] = File(...), collection: str | None = Form(None)) -> dict[str, Any]:
        app = collections.get(collection, must_exist=False)
        with collections.write_lock:
            reports = _ingest_uploads(app, files, max_upload_mb)
        return {"object": "list", "collection": app.collection, "data": reports}

    @api.get("/v1/sources")
    def sources(collection: str | None = None) -> dict[str, Any]:
        app = collections.get(collection)
        data = [
            {"source": i.source, "chunks": i.chunks, "source_type": i.source_type, "title": i.title, "updated_at": i.updated_at}
            for i in app.sources()
        ]
        return {"object": "list", "collection": app.collection, "data": data}

    @api.delete("/v1/sources")
    async def remove_source(request: Request, source: str | None = None, collection: str | None = None):
        if source is None:
            raw = await request.body()
            if not raw:
                raise ApiError(400, "say which source to remove: DELETE /v1/sources?source=... or a JSON body {\"source\": ...}")
            try:
                body = RemoveRequest.model_validate_json(raw)
            except ValidationError as exc:
                raise RequestValidationError(exc.errors()) from None
            source, collection = body.source, body.collection or collection
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(_remove, collections, source, collection)

    return api


def _remove(collections: Collections, source: str, collection: str | None) -> dict[str, Any]:
    from loaders import is_file_source
    from rag_app.uploads import uploads_root

    app = collections.get(collection)
    with collections.write_lock:
        removed = app.remove(source)
    if not removed:
        raise ApiError(404, f"{source}: not in collection {app.collection!r}; GET /v1/sources lists the sources", "not_found_error")
    uploads = uploads_root(app.settings).resolve()
    if is_file_source(source) and Path(source).resolve().is_relative_to(uploads):
        Path(source).unlink(missing_ok=True)  # an uploaded copy goes with its source, as in the chat app
    return {"object": "source.deleted", "collection": app.collection, "source": source, "removed": removed}


# ---- chat helpers -------------------------------------------------------------------------------
def _text(content: str | list[dict[str, Any]] | None) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(str(part.get("text", "")) for part in content if part.get("type") == "text")


def _conversation(messages: list[ChatMessage]) -> tuple[str, list[Turn]]:
    """(question, history): the last user message, and the earlier user/assistant pairs."""
    turns = [(m.role, _text(m.content)) for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
        raise ApiError(400, "the last message must be a non-empty user message: the question to answer")
    history: list[Turn] = []
    asked: str | None = None
    for role, text in turns[:-1]:
        if role == "user":
            asked = text
        elif asked is not None:
            previous = Answer(question=asked, answer=text, abstained=False, citations=[])
            history.append(Turn(question=asked, query=asked, answer=previous))
            asked = None
    return turns[-1][1].strip(), history[-MAX_HISTORY_TURNS:]


def _extras(answer: Answer) -> dict[str, Any]:
    payload = answer.to_dict()
    return {"citations": payload["citations"], "rag_app": payload}


def _chunk(completion_id: str, created: int, model: str, delta: dict[str, Any], finish: str | None = None, **extra) -> str:
    import json

    payload = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        **extra,
    }
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def _stream_events(items: Iterator[str | Answer], completion_id: str, created: int, model: str) -> Iterator[str]:
    """Server-sent events in OpenAI's chunk format; the last chunk carries the citations."""
    yield _chunk(completion_id, created, model, {"role": "assistant", "content": ""})
    streamed = False
    try:
        for item in items:
            if isinstance(item, Answer):
                if not streamed:  # an answer that arrives whole (an abstention) is still sent as text
                    yield _chunk(completion_id, created, model, {"content": item.answer})
                yield _chunk(completion_id, created, model, {}, "stop", **_extras(item))
                break
            streamed = True
            yield _chunk(completion_id, created, model, {"content": item})
    except RagError as exc:  # the response has started: report the error as an event
        _, kind = _rag_error_status(exc)
        yield f"data: {error_body(str(exc), kind).decode('utf-8')}\n\n"
    except Exception:  # noqa: BLE001 - logged with its traceback; the client gets one line
        log.exception("unexpected error while streaming an answer")
        yield f"data: {error_body('internal error while answering; see the server log', 'server_error').decode('utf-8')}\n\n"
    yield "data: [DONE]\n\n"


# ---- ingestion helpers --------------------------------------------------------------------------
def _ingest_uploads(app, files: list[UploadFile], max_upload_mb: float) -> list[dict[str, Any]]:
    """Save each upload under HOME/uploads/COLLECTION and ingest it, as the chat app does: the file
    is staged in .pending/ and replaces a stored copy of the same name only once it is in the index.
    A refused or failed file is reported and not kept; the others still ingest."""
    from loaders import SUPPORTED_SUFFIXES
    from rag_app.ui.render import check_upload
    from rag_app.uploads import ingest_staged, safe_filename, staging_path, uploads_root

    folder = uploads_root(app.settings) / app.collection
    results = []
    for upload in files:
        name = safe_filename(upload.filename or "upload")
        size = upload.size if upload.size is not None else _size(upload)
        refusal = check_upload(name, size, max_upload_mb, SUPPORTED_SUFFIXES, "en")
        if refusal:
            results.append(_report(name, None, "failed", error=f"{name}: {refusal}"))
            continue
        target = folder / name
        staged = staging_path(target)
        upload.file.seek(0)
        with staged.open("wb") as out:
            shutil.copyfileobj(upload.file, out)
        report = ingest_staged(app.ingest, staged, target)
        source = None if report.status == "failed" else report.source
        results.append(_report(name, source, report.status, report.chunks, report.embedded, report.removed, report.error))
    return results


def _size(upload: UploadFile) -> int:
    upload.file.seek(0, 2)
    size = upload.file.tell()
    upload.file.seek(0)
    return size


def _report(filename, source, status, chunks=0, embedded=0, removed=0, error=None) -> dict[str, Any]:
    return {
        "filename": filename,
        "source": source,
        "status": status,
        "chunks": chunks,
        "embedded": embedded,
        "removed": removed,
        "error": error,
    }


# ---- errors -------------------------------------------------------------------------------------
def _rag_error_status(exc: RagError) -> tuple[int, str]:
    if isinstance(exc, ProviderError):
        return 502, "provider_error"
    return 400, "invalid_request_error"


def _json_error(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status, headers=headers)


def _add_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return _json_error(exc.status, exc.message, exc.kind)

    @api.exception_handler(RagError)
    async def rag_error(request: Request, exc: RagError):
        status, kind = _rag_error_status(exc)
        return _json_error(status, str(exc), kind)

    @api.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge):
        return _json_error(413, exc.detail, "request_too_large", {"Connection": "close"})

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        message = {
            404: f"no endpoint {request.method} {request.url.path}; see GET /openapi.json",
            405: f"{request.method} is not allowed on {request.url.path}; see GET /openapi.json",
            413: "request body too large: JSON is limited to 1 MB, uploads to --max-upload-mb per request",
        }.get(exc.status_code, str(exc.detail))
        kind = _STATUS_TYPES.get(exc.status_code, "invalid_request_error" if exc.status_code < 500 else "server_error")
        return _json_error(exc.status_code, message, kind, getattr(exc, "headers", None))

    @api.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        problems = []
        for error in exc.errors():
            loc = list(error.get("loc", ()))
            if loc and loc[0] in ("body", "query", "path", "header", "cookie"):  # where it was, not what
                loc = loc[1:]
            where = ".".join(str(part) for part in loc)
            problems.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
        return _json_error(400, f"invalid request ({'; '.join(problems)}); see GET /openapi.json", "invalid_request_error")

    @api.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc)
        return _json_error(500, f"internal error ({type(exc).__name__}); see the server log", "server_error")


# ---- serving ------------------------------------------------------------------------------------
def serve(
    settings: Settings, host: str = "127.0.0.1", port: int = 8000, *, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
    log_level: str = "WARNING",
) -> int:
    """Run the API until Ctrl-C. Refuses a non-local --host without an API key."""
    check_exposure(host, settings.api_key.get_secret_value() if settings.api_key else None, "api")
    api = create_app(settings, max_upload_mb=max_upload_mb)
    sock = listen(host, port)
    server = make_server(api, log_level)
    names = ", ".join(repr(n) for n in api.state.collections.names())
    print(f"rag-app: API at {url_of(sock)}/v1 (collections: {names}; Ctrl-C stops)", flush=True)
    server.run(sockets=[sock])
    return 0
