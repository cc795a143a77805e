"""Integrations that serve a collection to other programs.

- `retriever.RagAppRetriever`: a LangChain retriever (`RagApp.as_retriever()`).
- `api`: an OpenAI-compatible HTTP API (`rag-app api`).
- `mcp_server`: an MCP server with search / ask / list_sources tools (`rag-app mcp`).

Nothing heavy is imported here, so `import rag_app.serve` stays light; each module imports its
framework (FastAPI, uvicorn, mcp) only when it is used.
"""


def package_version() -> str:
    """The installed rag-app version (package metadata), or the source tree's when not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rag-app")
    except PackageNotFoundError:
        from rag_app import __version__

        return __version__
