"""Error hierarchy shared by every package.

`RagError` lives here, at the start of the data flow, so that `loaders`, `indexes` and `rag_app`
can all raise and catch the same family without `loaders` importing anything downstream.
Every message names the bad input and the fix, on one line.
"""

from __future__ import annotations


class RagError(Exception):
    """Base of every error this project raises on purpose."""


class LoaderError(RagError):
    """A source could not be read. `source` is the input as the user gave it."""

    def __init__(self, source: str, reason: str):
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")
