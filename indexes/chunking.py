"""Korean-aware recursive chunking and sentence splitting.

Text is cut at the coarsest boundary that makes pieces fit: paragraphs, then lines, then sentence
ends (Korean "다." / "요." and ".", "?", "!"), then spaces, then characters. Pieces are merged back
greedily up to `chunk_size` characters, and each chunk starts with up to `chunk_overlap` characters
of whole pieces from the end of the previous chunk.

    >>> split_text("첫 문장이다. 둘째 문장이다.", chunk_size=8, chunk_overlap=0)
    ['첫 문장이다.', '둘째 문장이다.']
"""

from __future__ import annotations

import hashlib
import re

from langchain_core.documents import Document

# Chosen with bench/retrieval.py (see README, "Chunking").
DEFAULT_CHUNK_SIZE = 1000
DEFAULT_CHUNK_OVERLAP = 150

# Sentence ends: terminal punctuation followed by whitespace, or a Korean final ending ("다.",
# "요.") glued to the next sentence, which PDF extraction often produces.
SENTENCE_END = re.compile(r"(?<=[.?!。？！…])\s+|(?<=[다요죠까]\.)(?=[^\s\d.])")
_LEVELS = (re.compile(r"\n\s*\n"), re.compile(r"\n"), SENTENCE_END, re.compile(r"\s+"))


# Abbreviations whose period ends no sentence: always ("Dr. Kim", "e.g. this"), or when the next
# word is lower case or a number ("9 a.m. and", but "at 9 a.m. It closes" stays two sentences).
ALWAYS_JOINS = re.compile(r"(?:^|[\s(])(?:Dr|Mr|Mrs|Ms|Prof|St|Mt|No|Fig|Vol|vs|e\.g|i\.e|cf)\.$", re.IGNORECASE)
JOINS_BEFORE_LOWER = re.compile(r"(?:^|[\s(\d])(?:a\.m|p\.m|etc|approx|Inc|Ltd|Co|Jr|Sr|U\.S)\.$", re.IGNORECASE)
# A line that starts a new block: heading, list item, table row, quote.
BLOCK_START = re.compile(r"\s*(?:[#>*•·|\-–—]|\d{1,3}[.)]\s|[①-⑳]|[가-하][.)]\s)")
KEY_VALUE_LINE = re.compile(r"[^:：\n]{1,40}[:：]\s")
ENDS_CLAUSE = re.compile(r"[.?!。？！…:;|]\W*$")


def _is_soft_wrap(line: str, following: str) -> bool:
    """Whether a line break inside a paragraph is only where a PDF page's line ran out: the line
    ends mid-sentence and the next line continues it, not a heading, item, table row or field."""
    line, following = line.strip(), following.strip()
    if not line or not following or ENDS_CLAUSE.search(line) or BLOCK_START.match(following):
        return False
    if BLOCK_START.match(line) and len(line) < 40 or KEY_VALUE_LINE.match(line) or KEY_VALUE_LINE.match(following):
        return False
    if following[0].islower():
        return True
    last_word = line.split()[-1]
    if re.fullmatch(r"[a-z][a-z'-]*,?|\S*[,\-]", last_word):
        return len(line) >= 40  # "...by the Lunar Trade Council in" / "Geneva."; a title is short
    # Korean lines wrap anywhere; a long line without a final ending before a Hangul line.
    return len(line) >= 30 and "\uac00" <= line[-1] <= "\ud7a3" and "\uac00" <= following[0] <= "\ud7a3"


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, split at sentence ends and at line breaks that end a block (a soft
    wrap inside a PDF paragraph is joined), stripped, blanks dropped.

        >>> split_sentences("The store opens at 9 a.m. and closes at 6 p.m. Dr. Kim said so.")
        ['The store opens at 9 a.m. and closes at 6 p.m.', 'Dr. Kim said so.']
    """
    lines = [line for line in re.split(r"\n+", text) if line.strip()]
    paragraphs: list[str] = []
    for line in lines:
        if paragraphs and _is_soft_wrap(paragraphs[-1].rsplit("\n", 1)[-1], line):
            paragraphs[-1] += " " + line.strip()
        else:
            paragraphs.append(line)
    sentences: list[str] = []
    for paragraph in paragraphs:
        for part in (p.strip() for p in SENTENCE_END.split(paragraph)):
            if not part:
                continue
            if sentences and sentences[-1] is not None and _joins_next(sentences[-1], part):
                sentences[-1] += " " + part
            else:
                sentences.append(part)
        sentences.append(None)  # a paragraph end: never join across it
    return [s for s in sentences if s]


def _joins_next(sentence: str, following: str) -> bool:
    if ALWAYS_JOINS.search(sentence):
        return True
    return bool(JOINS_BEFORE_LOWER.search(sentence)) and (following[0].islower() or following[0].isdigit())


def _pieces(text: str, chunk_size: int, level: int = 0) -> list[str]:
    """Split text into pieces no longer than chunk_size, each keeping its trailing separator."""
    if len(text) <= chunk_size:
        return [text]
    if level == len(_LEVELS):
        return [text[i : i + chunk_size] for i in range(0, len(text), chunk_size)]
    pieces: list[str] = []
    start = 0
    for match in _LEVELS[level].finditer(text):
        if match.end() > start:
            pieces.append(text[start : match.end()])
            start = match.end()
    pieces.append(text[start:])
    out: list[str] = []
    for piece in pieces:
        if piece:
            out.extend(_pieces(piece, chunk_size, level + 1) if len(piece) > chunk_size else [piece])
    return out


def split_text(text: str, chunk_size: int = DEFAULT_CHUNK_SIZE, chunk_overlap: int = DEFAULT_CHUNK_OVERLAP) -> list[str]:
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    if not 0 <= chunk_overlap < chunk_size:
        raise ValueError(f"chunk_overlap must be in [0, chunk_size), got {chunk_overlap}")
    chunks: list[str] = []
    current: list[str] = []
    length = 0
    for piece in _pieces(text, chunk_size):
        if current and length + len(piece) > chunk_size:
            chunks.append("".join(current))
            # Carry whole trailing pieces as overlap, as long as they leave room for the new piece.
            carried: list[str] = []
            carried_length = 0
            for previous in reversed(current):
                if carried_length + len(previous) > chunk_overlap or carried_length + len(previous) + len(piece) > chunk_size:
                    break
                carried.insert(0, previous)
                carried_length += len(previous)
            current, length = carried, carried_length
        current.append(piece)
        length += len(piece)
    if current:
        chunks.append("".join(current))
    return [c.strip() for c in chunks if c.strip()]


def chunk_id(source: str, location: str, text: str) -> str:
    """Stable id: the same text at the same place of the same source always gets the same id."""
    return hashlib.sha256(f"{source}\x1f{location}\x1f{text}".encode()).hexdigest()[:32]


def chunk_documents(
    documents: list[Document], chunk_size: int = DEFAULT_CHUNK_SIZE, chunk_overlap: int = DEFAULT_CHUNK_OVERLAP
) -> list[Document]:
    """Chunks with their source metadata, `chunk_index`, `content_hash` and a content-hash `id`.

    Identical chunks at the same location of a source are kept once.
    """
    chunks: list[Document] = []
    seen: set[str] = set()
    index_in_source: dict[str, int] = {}
    for doc in documents:
        source = doc.metadata["source"]
        location = "|".join(str(doc.metadata.get(k, "")) for k in ("page", "row_id", "start_seconds"))
        for text in split_text(doc.page_content, chunk_size, chunk_overlap):
            cid = chunk_id(source, location, text)
            if cid in seen:
                continue
            seen.add(cid)
            position = index_in_source.get(source, 0)
            index_in_source[source] = position + 1
            metadata = dict(doc.metadata)
            metadata["chunk_index"] = position
            metadata["content_hash"] = hashlib.sha256(text.encode()).hexdigest()
            chunks.append(Document(page_content=text, metadata=metadata, id=cid))
    return chunks
