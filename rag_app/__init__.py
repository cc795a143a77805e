"""rag_app: Korean-first bilingual retrieval-augmented generation with cited answers.

    from rag_app import RagApp
    app = RagApp(collection="docs")
    app.ingest(["samples/"])
    print(app.ask("RAG는 어떻게 작동하나요?").answer)

Imports are lazy so `rag-app --help` stays fast.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Answer", "Citation", "RagApp", "RagError", "Settings", "SourceReport"]


def __getattr__(name: str):
    if name in ("RagApp", "SourceReport"):
        from rag_app import app

        return getattr(app, name)
    if name in ("Answer", "Citation"):
        from rag_app import answer

        return getattr(answer, name)
    if name == "Settings":
        from rag_app.config import Settings

        return Settings
    if name == "RagError":
        from loaders.errors import RagError

        return RagError
    raise AttributeError(f"module 'rag_app' has no attribute {name!r}")
