"""Uploaded files, shared by the front-ends that accept them (the chat app and the HTTP API).

An upload is kept under HOME/uploads/COLLECTION/NAME. A new upload first waits in .pending/
beside that copy and replaces it only once its ingestion succeeded, so a failed re-upload leaves
the file the index still matches (and its citation link serves the right bytes).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

PENDING_DIR = ".pending"  # uploads wait here, beside the stored copies, until they are in the index


def uploads_root(settings) -> Path:
    return Path(settings.home) / "uploads"


def safe_filename(name: str) -> str:
    """The last path component, without characters that mean something to a file system."""
    base = Path(name.replace("\\", "/")).name.strip().lstrip(".")
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"/\\|?*')
    return base or "upload"


def staging_path(target: Path) -> Path:
    """Where the upload that will become `target` waits (its folder is created)."""
    staged = target.parent / PENDING_DIR / target.name
    staged.parent.mkdir(parents=True, exist_ok=True)
    return staged


def ingest_staged(ingest: Callable[..., list], staged: Path, target: Path, **options: Any):
    """Ingest `staged` as the source `target` (`ingest` is `RagApp.ingest`); the SourceReport.

    Succeeded: `staged` replaces `target`. Failed or raised: `staged` is deleted and a stored copy
    at `target`, if any, stays as it is."""
    try:
        report = ingest([str(staged)], stored_as={str(staged): str(target)}, **options)[0]
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    if report.status == "failed":
        staged.unlink(missing_ok=True)
    else:
        os.replace(staged, target)
    return report
