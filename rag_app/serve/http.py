"""Listening sockets and uvicorn servers for `rag-app api` and `rag-app mcp --transport streamable-http`.

The socket is bound before the server starts, so a taken port is one clear error, `--port 0` picks a
free port, and the printed URL is the real one.
"""

from __future__ import annotations

import socket

from starlette.exceptions import HTTPException

from rag_app.errors import ConfigError


def listen(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free port). ConfigError naming the fix when it cannot bind."""
    sock = None
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        if sock is not None:
            sock.close()
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); pass another --port or --host") from None
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def make_server(api, log_level: str = "WARNING"):
    """A uvicorn server for the ASGI app `api` (run it with `.run(sockets=[listen(...)])`); logs through the root logger (the CLI's format)."""
    import uvicorn

    level = log_level.lower()
    config = uvicorn.Config(api, log_config=None, log_level=level, access_log=level in ("debug", "info"))
    return uvicorn.Server(config)


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a body without Content-Length grows past the limit (an
    HTTPException, so frameworks that parse the body pass it on instead of answering 400)."""

    def __init__(self, message: str):
        super().__init__(status_code=413, detail=message)


class BodyLimit:
    """ASGI middleware: refuse request bodies over `limit` bytes (`per_path` overrides it for some
    paths) with a JSON 413, before the application reads them when Content-Length says so."""

    def __init__(self, app, limit: int, per_path: dict[str, int] | None = None, message: str = "request body too large"):
        self.app = app
        self.limit = limit
        self.per_path = per_path or {}
        self.message = message

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.limit)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(self.message)
            return message

        async def tracked_send(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(send)

    async def _refuse(self, send) -> None:
        from rag_app.serve.security import error_body

        body = error_body(self.message, "request_too_large")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
