"""The Gradio chat app (`rag-app serve`): chat with cited answers, a knowledge base, settings.

    app.py      the Blocks, per-browser-session state, shared RagApp instances, the command line
    render.py   SDK results -> HTML (answers, citations, sources table, ingestion reports) and CSS
    text.py     the Korean and English interface texts

    from rag_app.config import Settings
    from rag_app import ui
    demo = ui.build(Settings(collection="samples"))

Importing this package stays light (Gradio loads inside `build`/`run`/`launch_kwargs`).
"""

from rag_app.ui.app import (
    DEFAULT_MAX_UPLOAD_MB,
    AppPool,
    UISession,
    add_arguments,
    build,
    launch_kwargs,
    list_collections,
    parse_auth,
    run,
)
from rag_app.uploads import PENDING_DIR, safe_filename, uploads_root

__all__ = [
    "DEFAULT_MAX_UPLOAD_MB",
    "PENDING_DIR",
    "AppPool",
    "UISession",
    "add_arguments",
    "build",
    "launch_kwargs",
    "list_collections",
    "parse_auth",
    "run",
    "safe_filename",
    "uploads_root",
]
