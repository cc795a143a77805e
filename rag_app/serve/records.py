"""One JSON shape for a retrieved chunk, shared by the LangChain retriever, the HTTP API and MCP.

The citation fields (source, title, page, location, link, score) are computed exactly as in an
answer's citations (`rag_app.answer.citation_for`), so a chunk found by search and the same chunk
cited in an answer look the same.

    chunk_record(chunk, rank=1)
    # {"rank": 1, "id": "...", "text": "...", "score": 0.83, "source": "/data/report.pdf",
    #  "title": "Report", "page": 3, "location": "page 3", "link": "file:///data/report.pdf#page=3",
    #  "metadata": {"source_type": "pdf", "chunk_index": 4, ...}}
"""

from __future__ import annotations

from typing import Any

from indexes.retrieval import RetrievedChunk
from rag_app.answer import citation_for

# Keys a Document from `RagApp.as_retriever()` always carries, on top of the stored metadata.
CITATION_KEYS = ("source", "title", "page", "location", "link", "score", "chunk_id", "rank")


def chunk_metadata(chunk: RetrievedChunk, rank: int) -> dict[str, Any]:
    """The chunk's stored metadata (source_type, chunk_index, content_hash...) plus the citation
    fields: source, title, page, location, link, score, chunk_id and rank (1 = best)."""
    citation = citation_for(rank, chunk)
    metadata = dict(chunk.metadata)
    metadata.update(
        source=citation.source,
        title=citation.title,
        page=citation.page,
        location=citation.location,
        link=citation.link,
        score=citation.score,
        chunk_id=chunk.id,
        rank=rank,
    )
    return metadata


def chunk_record(chunk: RetrievedChunk, rank: int) -> dict[str, Any]:
    """A retrieved chunk as JSON: rank, id, text, score, the citation fields, and all metadata."""
    metadata = chunk_metadata(chunk, rank)
    return {
        "rank": rank,
        "id": chunk.id,
        "text": chunk.text,
        "score": metadata["score"],
        "source": metadata["source"],
        "title": metadata["title"],
        "page": metadata["page"],
        "location": metadata["location"],
        "link": metadata["link"],
        "metadata": {key: value for key, value in metadata.items() if key not in CITATION_KEYS},
    }
