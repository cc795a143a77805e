"""`rag-app mcp`: an MCP server (the official `mcp` package) that lets an assistant such as Claude
Desktop search one collection and get cited answers.

Tools:
    search(query, k?, mode?)  -> {"collection", "query", "mode", "results": [chunk with citation fields]}
    ask(question, k?, mode?)  -> the `rag-app ask --json` object (answer with [n] markers, citations, ...)
    list_sources()            -> {"collection", "sources": [{"source", "chunks", "title", "source_type"}]}

Transports: stdio (default; the client starts `rag-app mcp`), or `--transport streamable-http`
(http://HOST:PORT/mcp; with RAG_APP_API_KEY clients must send `Authorization: Bearer KEY`, and a
non-local --host needs one). Over stdio nothing but protocol messages reach stdout: logs go to stderr.
"""

from __future__ import annotations

from typing import Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from rag_app.config import Settings
from rag_app.errors import RagError
from rag_app.serve import package_version
from rag_app.serve.records import chunk_record

Mode = Literal["hybrid", "dense", "bm25", "tfidf"]
INSTRUCTIONS = (
    "Searches and answers from the user's documents in the rag-app collection {collection!r}. "
    "Use `search` to find passages (each with source, title, page/location and link), `ask` for a "
    "short answer whose [n] markers point at its citations, and `list_sources` to see what is indexed. "
    "Quote the citations when you use the results."
)


def build_server(settings: Settings, app=None, log_level: str = "WARNING") -> MCPServer:
    """The MCP server over `settings.collection` (`app`: an existing RagApp to use instead)."""
    state: dict[str, Any] = {"app": app}

    def rag_app():
        if state["app"] is None:
            from rag_app.app import RagApp

            state["app"] = RagApp(settings=settings)
        return state["app"]

    server = MCPServer(
        "rag-app",
        title=f"rag-app: {settings.collection}",
        instructions=INSTRUCTIONS.format(collection=settings.collection),
        version=package_version(),
        log_level=log_level,
    )

    @server.tool()
    def search(query: str, k: int | None = None, mode: Mode | None = None) -> dict[str, Any]:
        """Find the passages of the collection most relevant to `query` (Korean or English).
        Returns ranked chunks with text, score, source, title, page, location and link.
        `k`: how many (1-50, default 5); `mode`: hybrid (default), dense, bm25 or tfidf."""
        app = rag_app()
        _check_k(k)
        mode = mode or app.settings.mode
        try:
            chunks = app.retrieve(query, k=k, mode=mode)
        except RagError as exc:
            raise ToolError(str(exc)) from None
        results = [chunk_record(chunk, rank) for rank, chunk in enumerate(chunks, start=1)]
        return {"collection": app.collection, "query": query, "mode": mode, "results": results}

    @server.tool()
    def ask(question: str, k: int | None = None, mode: Mode | None = None) -> dict[str, Any]:
        """Answer `question` from the collection's documents. The answer's [n] markers refer to
        `citations` (source, title, page, location, link, quoted text); `abstained` is true when
        the documents do not hold the answer."""
        app = rag_app()
        _check_k(k)
        try:
            return app.ask(question, k=k, mode=mode).to_dict()
        except RagError as exc:
            raise ToolError(str(exc)) from None

    @server.tool()
    def list_sources() -> dict[str, Any]:
        """List the documents in the collection, with how many chunks each has."""
        app = rag_app()
        try:
            infos = app.sources()
        except RagError as exc:
            raise ToolError(str(exc)) from None
        sources = [{"source": i.source, "chunks": i.chunks, "title": i.title, "source_type": i.source_type} for i in infos]
        return {"collection": app.collection, "sources": sources}

    return server


def _check_k(k: int | None) -> None:
    if k is not None and not 1 <= k <= 50:
        raise ToolError(f"k={k} is out of range; pass a number from 1 to 50")


def run(settings: Settings, transport: str = "stdio", host: str = "127.0.0.1", port: int = 8000, log_level: str = "WARNING") -> int:
    """Serve until the client disconnects (stdio) or Ctrl-C (streamable-http)."""
    key = settings.api_key.get_secret_value() if settings.api_key else None
    if transport == "streamable-http":
        from rag_app.serve.security import check_exposure

        check_exposure(host, key, "mcp --transport streamable-http")
    from rag_app.app import RagApp

    app = RagApp(settings=settings)  # a bad setting (collection name, embedder) fails here, before serving
    server = build_server(settings, app, log_level=log_level)
    if transport == "stdio":
        server.run("stdio")
        return 0
    from rag_app.serve.http import listen, make_server, url_of
    from rag_app.serve.security import BearerAuth

    sock = listen(host, port)
    http_app = server.streamable_http_app(host=host)
    if key:
        http_app = BearerAuth(http_app, key, open_paths=())
    print(f"rag-app: MCP server for collection {settings.collection!r} at {url_of(sock)}/mcp (Ctrl-C stops)", flush=True)
    make_server(http_app, log_level).run(sockets=[sock])
    return 0
