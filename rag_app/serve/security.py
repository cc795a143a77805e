"""Bearer-token auth and the "no key, no public address" rule, shared by `rag-app api` and
`rag-app mcp --transport streamable-http`. Plain ASGI: no web framework is imported here.

The key (settings.api_key: RAG_APP_API_KEY or --api-key) is compared in constant time and never
logged or echoed back.
"""

from __future__ import annotations

import hmac
import json
from typing import Any, Awaitable, Callable

from rag_app.errors import ConfigError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def check_exposure(host: str, api_key: str | None, command: str) -> None:
    """Refuse to listen beyond this machine without a key (one line, naming the fix)."""
    if host not in LOCAL_HOSTS and not api_key:
        raise ConfigError(
            f"{command} --host {host} would accept requests from other machines without a key; "
            "set RAG_APP_API_KEY (or pass --api-key) so clients must send 'Authorization: Bearer KEY', "
            "or keep the default --host 127.0.0.1"
        )


def error_body(message: str, kind: str) -> bytes:
    """The JSON error shape every endpoint uses: {"error": {"message": ..., "type": ...}}."""
    return json.dumps({"error": {"message": message, "type": kind}}, ensure_ascii=False).encode("utf-8")


class BearerAuth:
    """ASGI middleware: HTTP requests need `Authorization: Bearer <key>`, except `open_paths`."""

    def __init__(self, app, key: str, open_paths: tuple[str, ...] = ("/health",)):
        self.app = app
        self._key = key.encode("utf-8")
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        scheme, _, token = header.partition(b" ")
        if scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._key):
            await self.app(scope, receive, send)
            return
        reason = "invalid API key" if header else "missing API key"
        body = error_body(f"{reason}; send the header 'Authorization: Bearer KEY' with the server's RAG_APP_API_KEY", "authentication_error")
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b"Bearer"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
