"""Scriptable local stand-ins for the OpenAI Chat Completions and Gemini generateContent APIs.

Each server is a stdlib `ThreadingHTTPServer` on 127.0.0.1 (free port) running in a daemon thread.
The test scripts the answers with a *responder*: a callable `responder(request) -> Reply` that
sees every chat request normalised to one `ChatRequest` shape, whichever protocol carried it.
The server turns the `Reply` into the provider's wire format: a JSON completion, a server-sent
event stream (text split into several chunks so streaming really streams), tool calls, usage
counts, or the provider's JSON error body with an HTTP error status.

    with OpenAIServer(scripted([Reply(text="서울입니다 [1].")])) as server:
        ChatOpenAI(model="gpt-4o-mini", base_url=server.base_url, api_key="sk-test").invoke("hi")
        server.requests[0].messages[-1]["content"]   # "hi"

    with GeminiServer(Reply(tool_calls=[("search", {"q": "서울"})])) as server:
        ChatGoogleGenerativeAI(model="gemini-2.5-flash", google_api_key="x",
                               base_url=server.base_url).invoke("hi")

Wire facts these servers rely on (checked against openai 3.57 / langchain-openai 1.7.4 and
google-genai 2.34 / langchain-google-genai 4.4.2):

- OpenAI: `POST {base_url}/chat/completions` with `Authorization: Bearer <key>`; `stream: true`
  expects `data: {chat.completion.chunk}` lines ending in `data: [DONE]`; the usage chunk (empty
  `choices`) comes only when `stream_options.include_usage` is set, which langchain-openai does
  for a custom base_url only with `stream_usage=True`. Streamed tool calls arrive as deltas keyed
  by `index`: the first delta carries id and name, later ones append to `arguments`.
- Gemini: `POST {base_url}/v1beta/models/{model}:generateContent` and
  `:streamGenerateContent?alt=sse`, the key in the `x-goog-api-key` header. The system prompt is
  the top-level `systemInstruction`, assistant turns have role `model`, tool results are
  `functionResponse` parts inside a `user` turn (`response: {"output": ...}`), and tools arrive
  as `tools[].functionDeclarations[]`. Function calls are whole `functionCall {name, args}` parts
  (never split across stream chunks) and the finish reason stays `STOP`.
"""

from __future__ import annotations

import http.server
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "ChatRequest",
    "Reply",
    "Responder",
    "scripted",
    "OpenAIServer",
    "GeminiServer",
]


# --------------------------------------------------------------------------------------------
# The protocol-neutral request and reply
# --------------------------------------------------------------------------------------------


@dataclass
class ChatRequest:
    """One chat request as the server received it, normalised across both protocols.

    `messages` are dicts with `role` ("system", "user", "assistant", "tool") and `content`
    (text; several text parts are joined with "\\n"). Assistant messages that called tools have
    `tool_calls: [{"id", "name", "args"}]`; tool messages have `name` and `tool_call_id` (either
    may be None when the protocol does not carry it: Gemini has no ids, OpenAI tool messages no
    name unless an earlier assistant call with that id names it). `headers` has lower-cased names.
    """

    protocol: str  # "openai" or "gemini"
    model: str
    messages: list[dict[str, Any]]
    tools: list[str]
    stream: bool
    raw: dict[str, Any]
    headers: dict[str, str]
    path: str

    @property
    def api_key(self) -> str | None:
        """The key the client sent: OpenAI's bearer token, Gemini's x-goog-api-key (or ?key=)."""
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[len("bearer ") :]
        if "x-goog-api-key" in self.headers:
            return self.headers["x-goog-api-key"]
        keys = parse_qs(urlsplit(self.path).query).get("key")
        return keys[0] if keys else None

    @property
    def system(self) -> str:
        """All system messages' text, joined by newlines ("" when there is none)."""
        return "\n".join(m["content"] for m in self.messages if m["role"] == "system")

    @property
    def last_user(self) -> str:
        """The text of the last user message ("" when there is none)."""
        users = [m["content"] for m in self.messages if m["role"] == "user"]
        return users[-1] if users else ""

    @property
    def text(self) -> str:
        """Every message's text, one per line: handy for `assert "[1]" in request.text`."""
        return "\n".join(m["content"] for m in self.messages if m["content"])


@dataclass
class Reply:
    """What the server answers to one request.

    `text` and/or `tool_calls` (a list of `(tool_name, args_dict)`) make a normal answer.
    `chunks` fixes how a streamed answer splits `text` (their concatenation should be `text`;
    when `text` is empty it is taken to be the concatenation); by default the text is split after
    each word. `status` other than 200 makes an HTTP error with the provider's JSON error body
    (`error_message` as its message). `finish_reason` overrides the protocol's default ("stop" /
    "tool_calls" for OpenAI, "STOP" for Gemini). `usage` is `(prompt_tokens, completion_tokens)`;
    by default both are rough word counts. `delay` sleeps that many seconds before answering
    (to test client timeouts). `headers` are extra response headers (e.g. Retry-After).
    """

    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    chunks: list[str] | None = None
    status: int = 200
    error_message: str | None = None
    finish_reason: str | None = None
    usage: tuple[int, int] | None = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, status: int, message: str | None = None, **kwargs: Any) -> Reply:
        """An HTTP error reply, e.g. `Reply.error(401)` or `Reply.error(429, headers=...)`."""
        return cls(status=status, error_message=message, **kwargs)

    def stream_pieces(self) -> list[str]:
        """The text pieces a streamed answer sends, in order."""
        if self.chunks is not None:
            return [c for c in self.chunks if c]
        return _split_words(self.text)


Responder = Callable[[ChatRequest], Reply]


def scripted(replies: Iterable[Reply | str]) -> Responder:
    """A responder that plays `replies` in order, one per request (a str means `Reply(text=...)`).

    A request after the last reply gets an error: the server answers 500 and records the
    message in `server.errors`, so a test that makes more calls than it scripted fails loudly.
    """
    queue = [Reply(text=r) if isinstance(r, str) else r for r in replies]
    lock = threading.Lock()
    played = itertools.count()

    def responder(request: ChatRequest) -> Reply:
        with lock:
            n = next(played)
        if n >= len(queue):
            raise RuntimeError(f"scripted responder has {len(queue)} replies; request {n + 1} has none")
        return queue[n]

    return responder


def _as_responder(responder: Responder | Reply | str | Iterable[Reply | str]) -> Responder:
    """Accept a callable, one fixed Reply (or str) for every request, or a list to script."""
    if isinstance(responder, str):
        responder = Reply(text=responder)
    if isinstance(responder, Reply):
        fixed = responder
        return lambda request: fixed
    if callable(responder):
        return responder
    return scripted(responder)


def _split_words(text: str) -> list[str]:
    """Split after each word (whitespace stays with the word before it); a lone word is halved
    so that even a one-word answer streams as two chunks."""
    pieces = re.findall(r"\s*\S+\s*", text) or ([text] if text else [])
    if len(pieces) == 1 and len(text) > 1:
        half = len(text) // 2
        pieces = [text[:half], text[half:]]
    return pieces


def _count_words(text: str) -> int:
    return len(text.split())


def _join_text(parts: Iterable[str]) -> str:
    return "\n".join(p for p in parts if p)


# --------------------------------------------------------------------------------------------
# The shared HTTP machinery
# --------------------------------------------------------------------------------------------


class _BadRequest(Exception):
    """A request the server refuses with 400 (bad JSON, wrong shape)."""


class _NotFound(Exception):
    """A path the server does not serve (404)."""


class _Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive, so every JSON response carries Content-Length; SSE
    # responses instead send `Connection: close` and end the stream by closing the socket.
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection frees its thread after this many seconds
    server: _ThreadingServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        """Quiet: pytest output stays clean; requests are recorded on the server instead."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        owner = self.server.owner
        self.response_started = False
        try:
            body = self._read_body()
            owner._handle(self, method, body)
        except ConnectionError:
            # The client hung up (e.g. stopped reading a stream): nothing left to answer.
            self.close_connection = True
        except _BadRequest as exc:
            self.send_json(400, owner._error_body(400, str(exc)))
        except _NotFound as exc:
            self.send_json(404, owner._error_body(404, str(exc)))
        except Exception as exc:  # a failing responder: answer 500, keep the message for the test
            owner.errors.append(f"{type(exc).__name__}: {exc}")
            if self.response_started:  # mid-stream: a status line can no longer be sent
                self.close_connection = True
            else:
                self.send_json(500, owner._error_body(500, f"test server error: {exc}"))

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size_line = self.rfile.readline().split(b";", 1)[0].strip()
                size = int(size_line, 16)
                if size == 0:
                    # Drain optional trailers up to the blank line.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()  # the CRLF after each chunk
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            return self.rfile.read(int(length))
        except ValueError as exc:
            raise _BadRequest(f"bad Content-Length: {length!r}") from exc

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.response_started = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def send_sse(self, events: Iterable[str], headers: dict[str, str] | None = None) -> None:
        """Send `data: <event>` lines, one flush per event, then close the connection."""
        self.response_started = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.close_connection = True
        for event in events:
            self.wfile.write(f"data: {event}\n\n".encode("utf-8"))
            self.wfile.flush()


class _ThreadingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # Clients keep connections alive; joining their handler threads on close would hang.
    block_on_close = False
    owner: _ChatServer


class _ChatServer:
    """Base: owns the HTTP server and thread, records requests, runs the responder."""

    protocol = ""
    default_models: tuple[str, ...] = ()

    def __init__(
        self, responder: Responder | Reply | str | Iterable[Reply | str] = "ok", *, models: Iterable[str] | None = None
    ) -> None:
        """`models`: what the server lists (GET .../models); the protocol's usual model by default."""
        self.responder = _as_responder(responder)
        self.models = list(models if models is not None else self.default_models)
        self._ids = itertools.count(1)
        self.requests: list[ChatRequest] = []
        self.errors: list[str] = []  # exceptions raised by the responder (answered with 500)
        self._httpd: _ThreadingServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> _ChatServer:
        if self._httpd is None:
            httpd = _ThreadingServer(("127.0.0.1", 0), _Handler)
            httpd.owner = self
            self._httpd = httpd
            # A short poll interval makes shutdown() (which waits for the next poll) fast.
            self._thread = threading.Thread(
                target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name=type(self).__name__, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._httpd = None
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The server root, "http://127.0.0.1:PORT"."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def last_request(self) -> ChatRequest:
        if not self.requests:
            raise AssertionError(f"{type(self).__name__} received no chat request")
        return self.requests[-1]

    # -- per request -------------------------------------------------------------------------

    def _record_and_reply(self, request: ChatRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
        reply = self.responder(request)
        if not isinstance(reply, Reply):
            raise TypeError(f"responder returned {type(reply).__name__}, expected Reply")
        if reply.delay:
            time.sleep(reply.delay)
        return reply

    def _reply_unless_error(self, handler: _Handler, request: ChatRequest) -> Reply | None:
        """The scripted reply, or None after answering with the provider's error body."""
        reply = self._record_and_reply(request)
        if reply.status != 200:
            handler.send_json(reply.status, self._error_body(reply.status, reply.error_message), reply.headers)
            return None
        return reply

    @staticmethod
    def _parse_json(body: bytes) -> dict[str, Any]:
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _BadRequest(f"request body is not JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise _BadRequest("request body must be a JSON object")
        return payload

    @staticmethod
    def _headers(handler: _Handler) -> dict[str, str]:
        return {name.lower(): value for name, value in handler.headers.items()}

    def _handle(self, handler: _Handler, method: str, body: bytes) -> None:
        raise NotImplementedError

    def _error_body(self, status: int, message: str) -> dict[str, Any]:
        raise NotImplementedError


# --------------------------------------------------------------------------------------------
# OpenAI Chat Completions
# --------------------------------------------------------------------------------------------

# (type, code) of OpenAI's error objects by HTTP status.
_OPENAI_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided: sk-***."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: ("invalid_request_error", "model_not_found", "Not found."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded."),
}


class OpenAIServer(_ChatServer):
    """OpenAI Chat Completions: `POST /v1/chat/completions`, `GET /v1/models[/{id}]`.

    Pass `base_url` to the client (it ends in /v1). `models` is what `GET /v1/models` lists.
    """

    protocol = "openai"
    default_models = ("gpt-4o-mini",)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def _error_body(self, status: int, message: str | None) -> dict[str, Any]:
        kind, code, default = _OPENAI_ERRORS.get(status, ("server_error", None, f"HTTP {status}"))
        return {"error": {"message": message or default, "type": kind, "param": None, "code": code}}

    def _handle(self, handler: _Handler, method: str, body: bytes) -> None:
        path = urlsplit(handler.path).path.rstrip("/")
        if method == "GET" and path == "/v1/models":
            handler.send_json(200, {"object": "list", "data": [self._model(m) for m in self.models]})
            return
        if method == "GET" and path.startswith("/v1/models/"):
            model = path[len("/v1/models/") :]
            if model not in self.models:
                raise _NotFound(f"The model '{model}' does not exist")
            handler.send_json(200, self._model(model))
            return
        if method == "POST" and path == "/v1/chat/completions":
            self._chat(handler, self._parse_json(body))
            return
        raise _NotFound(f"Invalid URL ({method} {handler.path})")

    @staticmethod
    def _model(model: str) -> dict[str, Any]:
        return {"id": model, "object": "model", "created": 0, "owned_by": "test"}

    def _chat(self, handler: _Handler, raw: dict[str, Any]) -> None:
        messages = raw.get("messages")
        if not isinstance(messages, list) or not raw.get("model"):
            raise _BadRequest("'model' and a 'messages' list are required")
        request = ChatRequest(
            protocol=self.protocol,
            model=str(raw["model"]),
            messages=_openai_messages(messages),
            tools=_openai_tool_names(raw),
            stream=bool(raw.get("stream")),
            raw=raw,
            headers=self._headers(handler),
            path=handler.path,
        )
        reply = self._reply_unless_error(handler, request)
        if reply is None:
            return

        completion_id = f"chatcmpl-test{next(self._ids)}"
        created = int(time.time())
        calls = [
            {
                "id": f"call_test{next(self._ids)}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)},
            }
            for name, args in reply.tool_calls
        ]
        finish = reply.finish_reason or ("tool_calls" if calls else "stop")
        text = reply.text or "".join(reply.stream_pieces())
        prompt_tokens, completion_tokens = reply.usage or (
            _count_words(request.text) + 1,
            _count_words(text) + len(calls),
        )
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        common = {"id": completion_id, "created": created, "model": request.model, "system_fingerprint": None}

        if not request.stream:
            message: dict[str, Any] = {"role": "assistant", "content": text or None, "refusal": None}
            if calls:
                message["tool_calls"] = calls
            handler.send_json(
                200,
                {
                    **common,
                    "object": "chat.completion",
                    "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
                    "usage": usage,
                },
                reply.headers,
            )
            return

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
            choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
            return json.dumps({**common, "object": "chat.completion.chunk", "choices": [choice]}, ensure_ascii=False)

        def events() -> Iterable[str]:
            yield chunk({"role": "assistant", "content": ""})
            for piece in reply.stream_pieces():
                yield chunk({"content": piece})
            for index, call in enumerate(calls):
                # First delta names the call; the arguments follow in two appended pieces.
                yield chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                             "function": {"name": call["function"]["name"], "arguments": ""}}]})
                arguments = call["function"]["arguments"]
                half = len(arguments) // 2
                for part in (arguments[:half], arguments[half:]):
                    if part:
                        yield chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
            yield chunk({}, finish)
            if (raw.get("stream_options") or {}).get("include_usage"):
                yield json.dumps({**common, "object": "chat.completion.chunk", "choices": [], "usage": usage})
            yield "[DONE]"

        handler.send_sse(events(), reply.headers)


def _openai_text(content: Any) -> str:
    """A message's content as text: a string, or a list of parts of which the text ones count."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return _join_text(
            part.get("text", "") if isinstance(part, dict) else str(part) for part in content
        )
    raise _BadRequest(f"unsupported message content: {content!r}")


def _openai_messages(messages: list[Any]) -> list[dict[str, Any]]:
    normalised: list[dict[str, Any]] = []
    call_names: dict[str, str] = {}  # tool_call_id -> function name, to name tool results
    for message in messages:
        if not isinstance(message, dict) or "role" not in message:
            raise _BadRequest(f"a message needs a role: {message!r}")
        role = {"developer": "system", "function": "tool"}.get(message["role"], message["role"])
        entry: dict[str, Any] = {"role": role, "content": _openai_text(message.get("content"))}
        if role == "assistant" and message.get("tool_calls"):
            entry["tool_calls"] = []
            for call in message["tool_calls"]:
                function = call.get("function", {})
                try:
                    args = json.loads(function.get("arguments") or "{}")
                except json.JSONDecodeError:
                    args = function.get("arguments")  # keep what the client sent, unparsed
                entry["tool_calls"].append({"id": call.get("id"), "name": function.get("name"), "args": args})
                call_names[call.get("id")] = function.get("name")
        if role == "tool":
            entry["tool_call_id"] = message.get("tool_call_id")
            entry["name"] = message.get("name") or call_names.get(message.get("tool_call_id"))
        normalised.append(entry)
    return normalised


def _openai_tool_names(raw: dict[str, Any]) -> list[str]:
    names = [t.get("function", {}).get("name") for t in raw.get("tools") or [] if isinstance(t, dict)]
    names += [f.get("name") for f in raw.get("functions") or [] if isinstance(f, dict)]  # legacy
    return [n for n in names if n]


# --------------------------------------------------------------------------------------------
# Gemini generateContent
# --------------------------------------------------------------------------------------------

# Google's canonical status names by HTTP status (the `status` field of the error body).
_GEMINI_STATUS: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

_GEMINI_PATH = re.compile(
    r"^/(?P<version>v1(?:alpha|beta1?)?)/models/(?P<model>[^/:]+)"
    r":(?P<method>generateContent|streamGenerateContent|countTokens)$"
)


class GeminiServer(_ChatServer):
    """Gemini API: `POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent`
    (`?alt=sse` gives SSE, without it a JSON array), `:countTokens`, `GET /v1beta/models`.

    Pass `base_url` (the server root, no version) to `ChatGoogleGenerativeAI(base_url=...)`.
    """

    protocol = "gemini"
    default_models = ("gemini-2.5-flash",)

    @property
    def base_url(self) -> str:
        return self.url

    def _error_body(self, status: int, message: str | None) -> dict[str, Any]:
        default = {
            401: "API key not valid. Please pass a valid API key.",
            429: "Resource has been exhausted (e.g. check quota).",
            500: "An internal error has occurred.",
        }.get(status, f"HTTP {status}")
        return {"error": {"code": status, "message": message or default,
                          "status": _GEMINI_STATUS.get(status, "UNKNOWN")}}

    def _handle(self, handler: _Handler, method: str, body: bytes) -> None:
        split = urlsplit(handler.path)
        path = split.path.rstrip("/")
        if method == "GET" and re.fullmatch(r"/v1(?:alpha|beta1?)?/models", path):
            handler.send_json(200, {"models": [self._model(m) for m in self.models]})
            return
        match = _GEMINI_PATH.match(path)
        if method != "POST" or match is None:
            raise _NotFound(f"Requested entity was not found ({method} {handler.path})")
        raw = self._parse_json(body)
        if match["method"] == "countTokens":
            contents = raw.get("contents") or (raw.get("generateContentRequest") or {}).get("contents") or []
            handler.send_json(200, {"totalTokens": _count_words(_join_text(
                m["content"] for m in _gemini_messages({"contents": contents})))})
            return
        streaming = match["method"] == "streamGenerateContent"
        request = ChatRequest(
            protocol=self.protocol,
            model=match["model"],
            messages=_gemini_messages(raw),
            tools=_gemini_tool_names(raw),
            stream=streaming,
            raw=raw,
            headers=self._headers(handler),
            path=handler.path,
        )
        reply = self._reply_unless_error(handler, request)
        if reply is None:
            return

        text = reply.text or "".join(reply.stream_pieces())
        call_parts = [{"functionCall": {"name": name, "args": args}} for name, args in reply.tool_calls]
        finish = reply.finish_reason or "STOP"  # Gemini reports STOP for function calls too
        prompt_tokens, completion_tokens = reply.usage or (
            _count_words(request.text) + 1,
            _count_words(text) + len(call_parts),
        )
        usage = {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": completion_tokens,
            "totalTokenCount": prompt_tokens + completion_tokens,
        }
        response_id = f"resp-test{next(self._ids)}"

        def response(parts: list[dict[str, Any]], last: bool) -> dict[str, Any]:
            candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
            payload: dict[str, Any] = {"candidates": [candidate], "modelVersion": request.model,
                                       "responseId": response_id}
            if last:  # like the real API, only the last chunk finishes and counts the tokens
                candidate["finishReason"] = finish
                payload["usageMetadata"] = usage
            return payload

        if not streaming:
            parts = ([{"text": text}] if text else []) + call_parts
            handler.send_json(200, response(parts, last=True), reply.headers)
            return

        # Text streams one piece per chunk; function calls come whole in the last chunk.
        pieces = [[{"text": p}] for p in reply.stream_pieces()]
        if call_parts or not pieces:
            pieces.append(call_parts)
        # The last chunk (text piece or function calls) carries finishReason and usageMetadata.
        payloads = [response(parts, last=i == len(pieces) - 1) for i, parts in enumerate(pieces)]
        if parse_qs(split.query).get("alt") == ["sse"]:
            handler.send_sse((json.dumps(p, ensure_ascii=False) for p in payloads), reply.headers)
        else:  # without alt=sse the REST API streams one JSON array
            handler.send_json(200, payloads, reply.headers)

    @staticmethod
    def _model(model: str) -> dict[str, Any]:
        return {
            "name": f"models/{model}",
            "displayName": model,
            "supportedGenerationMethods": ["generateContent", "countTokens"],
        }


def _gemini_messages(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """`systemInstruction` + `contents` as normalised messages. A content's text parts make one
    message; its functionCall parts become that (assistant) message's tool_calls; each
    functionResponse part becomes its own tool message."""
    normalised: list[dict[str, Any]] = []
    system = raw.get("systemInstruction") or raw.get("system_instruction")
    if system:
        normalised.append({"role": "system", "content": _join_text(p.get("text", "") for p in system.get("parts", []))})
    contents = raw.get("contents")
    if not isinstance(contents, list):
        raise _BadRequest("'contents' must be a list")
    for content in contents:
        if not isinstance(content, dict):
            raise _BadRequest(f"a content must be an object: {content!r}")
        parts = content.get("parts") or []
        role = "assistant" if content.get("role") == "model" else "user"
        texts = [p["text"] for p in parts if isinstance(p, dict) and "text" in p and not p.get("thought")]
        calls = [p.get("functionCall") or p.get("function_call") for p in parts]
        calls = [c for c in calls if c]
        results = [p.get("functionResponse") or p.get("function_response") for p in parts]
        results = [r for r in results if r]
        if texts or calls or not results:
            entry: dict[str, Any] = {"role": role, "content": _join_text(texts)}
            if calls:
                entry["tool_calls"] = [{"id": c.get("id"), "name": c.get("name"), "args": c.get("args", {})}
                                       for c in calls]
            normalised.append(entry)
        for result in results:
            response = result.get("response", {})
            # langchain-google-genai wraps a ToolMessage's string content as {"output": "..."}.
            if isinstance(response, dict) and set(response) <= {"output"} and isinstance(response.get("output"), str):
                text = response["output"]
            else:
                text = json.dumps(response, ensure_ascii=False)
            normalised.append({"role": "tool", "content": text, "name": result.get("name"),
                               "tool_call_id": result.get("id")})
    return normalised


def _gemini_tool_names(raw: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for tool in raw.get("tools") or []:
        declarations = tool.get("functionDeclarations") or tool.get("function_declarations") or []
        names += [d.get("name") for d in declarations if d.get("name")]
    return names
