"""PDF files through pypdf: one Document per page, `page` 1-based.

Pages without a text layer (scans) are read by OCR (loaders/ocr.py: Tesseract, Korean + English);
their Documents look like any other page's, `page` included, so citations keep page numbers.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

from langchain_core.documents import Document

from loaders.base import check_readable_file, make_document, require_text
from loaders.errors import LoaderError

log = logging.getLogger(__name__)


def load_pdf(path: Path, source: str) -> list[Document]:
    check_readable_file(path, source)
    return load_pdf_bytes(path.read_bytes(), source, default_title=path.stem)


def load_pdf_bytes(data: bytes, source: str, default_title: str | None = None) -> list[Document]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs a warning per malformed object; those are noise for users of a RAG app.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Many PDFs are "encrypted" with an empty user password only to restrict printing.
            try:
                opened = reader.decrypt("")
            except Exception as exc:  # pypdf raises several types for unsupported crypto
                raise LoaderError(source, f"PDF is encrypted ({exc}); decrypt it first, e.g. qpdf --decrypt") from exc
            if not opened:
                raise LoaderError(source, "PDF is encrypted with a password; decrypt it first, e.g. qpdf --decrypt")
        title = _pdf_title(reader) or default_title
        documents = []
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            documents.append(make_document(text, source, "pdf", title=title, page=number))
    except LoaderError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise LoaderError(source, f"unreadable PDF ({' '.join(str(exc).split())[:300]}); check that the file is a valid PDF") from exc
    documents = _ocr_pages_without_text(data, documents, source)
    if not any(doc.page_content.strip() for doc in documents):
        raise LoaderError(source, "PDF has no extractable text, and OCR found none either; check that the pages show text")
    return require_text(documents, source)


def _ocr_pages_without_text(data: bytes, documents: list[Document], source: str) -> list[Document]:
    from loaders.ocr import ocr_pdf_pages, tesseract_missing

    blank = [doc.metadata["page"] for doc in documents if not doc.page_content.strip()]
    if not blank:
        return documents
    missing = tesseract_missing()
    if missing:
        if len(blank) == len(documents):
            raise LoaderError(source, f"PDF has no extractable text (scanned images?); {missing}")
        # Blank separator pages are common in text PDFs: skip the pages rather than fail the file.
        log.warning("%s: %d page(s) without text skipped; %s", source, len(blank), missing)
        return documents
    texts = ocr_pdf_pages(data, blank, source)
    return [
        make_document(texts[doc.metadata["page"]], source, "pdf", title=doc.metadata.get("title"), page=doc.metadata["page"])
        if doc.metadata["page"] in texts
        else doc
        for doc in documents
    ]


def _pdf_title(reader) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:  # broken metadata dictionaries are common and never worth failing a load
        log.debug("unreadable PDF metadata", exc_info=True)
        return None
    return title.strip() if isinstance(title, str) and title.strip() else None
