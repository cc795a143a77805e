"""Human-friendly citation locations and links, per source type."""

from __future__ import annotations

import pytest

from indexes.retrieval import RetrievedChunk
from rag_app.answer import citation_for, format_timestamp, link_of, location_of


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "00:00"), (7.9, "00:07"), (123, "02:03"), (3599, "59:59"), (3723, "1:02:03")]
)
def test_format_timestamp(seconds, text):
    assert format_timestamp(seconds) == text


@pytest.mark.parametrize(
    ("metadata", "location", "link"),
    [
        ({"source": "/docs/report.pdf", "source_type": "pdf", "page": 3}, "page 3", "file:///docs/report.pdf#page=3"),
        ({"source": "/docs/deck.pptx", "source_type": "pptx", "page": 5}, "slide 5", "file:///docs/deck.pptx"),
        (
            {"source": "https://www.youtube.com/watch?v=abcdefghijk", "source_type": "youtube", "start_seconds": 123.4},
            "02:03",
            "https://www.youtube.com/watch?v=abcdefghijk&t=123s",
        ),
        ({"source": "sqlite:////data/shop.db#products", "source_type": "sql", "row_id": "17"}, "row 17", None),
        ({"source": "https://example.com/a", "source_type": "url"}, None, "https://example.com/a"),
        ({"source": "/notes/한국어 메모.md", "source_type": "markdown"}, None, "file:///notes/%ED%95%9C%EA%B5%AD%EC%96%B4%20%EB%A9%94%EB%AA%A8.md"),
    ],
)
def test_location_and_link(metadata, location, link):
    assert location_of(metadata) == location
    assert link_of(metadata) == link


def test_citation_carries_location_and_link():
    chunk = RetrievedChunk("id1", "본문", {"source": "/docs/report.pdf", "source_type": "pdf", "page": 2, "title": "보고서"}, 0.91234)
    citation = citation_for(4, chunk)
    assert (citation.n, citation.page, citation.location, citation.link) == (4, 2, "page 2", "file:///docs/report.pdf#page=2")
    assert citation.score == 0.9123 and citation.title == "보고서" and citation.text == "본문"
