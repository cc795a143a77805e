"""Office files: .docx (one Document), .pptx (one per slide), .xlsx and .csv (one per row).

Spreadsheet rows become records the way the SQL loader renders them: "header: value" lines, empty
cells left out, with `row_id` saying where the row lives ("Sheet1!7" for Excel, the data row number
for CSV). The third-party readers (python-docx, python-pptx, openpyxl) are imported inside the
functions, so importing this module costs nothing; a missing one raises LoaderError with the
`pip install` command.

    >>> docs = load_xlsx(Path("prices.xlsx"), "prices.xlsx")
    >>> docs[0].page_content, docs[0].metadata["row_id"]
    ('품목: 사과\\n가격: 1200', '가격표!2')
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from loaders.archive import ZIP_READ_ERRORS, check_zip
from loaders.base import check_readable_file, make_document, require_text
from loaders.errors import LoaderError

# Pinned to the versions this loader was written and tested against.
_PIP = {
    "docx": "pip install python-docx==1.2.0",
    "pptx": "pip install python-pptx==1.0.2",
    "openpyxl": "pip install openpyxl==3.1.5",
}

_CSV_DELIMITERS = ",;\t"
_SNIFF_CHARS = 64 * 1024
_READ_CHUNK = 1 << 20


def _require(module: str, source: str, what: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise LoaderError(source, f"reading {what} files needs {module}; run: {_PIP[module]}") from None


# --------------------------------------------------------------------------------------------------
# .docx


def load_docx(path: Path, source: str) -> list[Document]:
    """One Document: paragraphs in body order, each table row as a "cell | cell" line."""
    check_readable_file(path, source)
    check_zip(path, source, ".docx")
    docx = _require("docx", source, ".docx")
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(str(path))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                lines.extend(_docx_table_lines(block))
            elif block.text.strip():
                lines.append(block.text)
        title = (document.core_properties.title or "").strip() or path.stem
    except (PackageNotFoundError, *ZIP_READ_ERRORS, KeyError, ValueError, SyntaxError) as exc:
        # lxml's XMLSyntaxError is a SyntaxError; a zip without word/document.xml is a KeyError.
        raise LoaderError(
            source, f"not a valid .docx ({_why(exc)}); open it in Word or LibreOffice and save it again"
        ) from None
    return require_text([make_document("\n".join(lines), source, "docx", title=title)], source)


def _docx_table_lines(table) -> list[str]:
    lines = []
    for row in table.rows:
        cells, previous = [], None
        for cell in row.cells:
            if previous is not None and cell._tc is previous:  # a merged cell repeats across its span
                continue
            previous = cell._tc
            cells.append(_one_line(cell.text))
        if any(cells):
            lines.append(" | ".join(cells))
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _why(exc: BaseException) -> str:
    """"Type: message" on one line (openpyxl's messages span several), at most 300 characters."""
    return f"{type(exc).__name__}: {_one_line(str(exc))[:300]}"


# --------------------------------------------------------------------------------------------------
# .pptx


def load_pptx(path: Path, source: str) -> list[Document]:
    """One Document per slide with text (`page` = slide number): shapes, tables, groups, then notes."""
    check_readable_file(path, source)
    check_zip(path, source, ".pptx")
    pptx = _require("pptx", source, ".pptx")
    from pptx.exc import PackageNotFoundError

    try:
        presentation = pptx.Presentation(str(path))
        title = (presentation.core_properties.title or "").strip() or path.stem
        documents = []
        for number, slide in enumerate(presentation.slides, start=1):
            lines = list(_pptx_shape_lines(slide.shapes))
            if slide.has_notes_slide:
                notes = slide.notes_slide.notes_text_frame
                if notes is not None and notes.text.strip():
                    lines.append("")
                    lines.append(notes.text.strip())
            documents.append(make_document("\n".join(lines).strip(), source, "pptx", title=title, page=number))
    except (PackageNotFoundError, *ZIP_READ_ERRORS, KeyError, ValueError, SyntaxError) as exc:
        raise LoaderError(
            source,
            f"not a valid .pptx ({_why(exc)}); open it in PowerPoint or LibreOffice and save it again",
        ) from None
    return require_text(documents, source)


def _pptx_shape_lines(shapes) -> Iterator[str]:
    from pptx.shapes.group import GroupShape

    for shape in shapes:
        if isinstance(shape, GroupShape):
            yield from _pptx_shape_lines(shape.shapes)
        elif getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                cells = [_one_line(cell.text) for cell in row.cells if not cell.is_spanned]
                if any(cells):
                    yield " | ".join(cells)
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            text = shape.text_frame.text.strip()
            if text:
                yield text


# --------------------------------------------------------------------------------------------------
# .xlsx


def load_xlsx(path: Path, source: str) -> list[Document]:
    """One Document per data row; the first non-empty row of each sheet is its header.

    The workbook is streamed (read-only mode), and formulas give their cached values.
    """
    check_readable_file(path, source)
    check_zip(path, source, ".xlsx")
    openpyxl = _require("openpyxl", source, ".xlsx")
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException

    documents: list[Document] = []
    try:
        workbook = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except (InvalidFileException, *ZIP_READ_ERRORS, KeyError, ValueError, SyntaxError) as exc:
        raise LoaderError(
            source, f"not a valid .xlsx ({_why(exc)}); open it in Excel or LibreOffice and save it again"
        ) from None
    try:
        for sheet in workbook.worksheets:
            if not hasattr(sheet, "iter_rows"):  # chartsheets have no cells
                continue
            # Read every row even when the file's <dimension> tag is wrong (some writers omit it).
            sheet.reset_dimensions()
            header: list[str] | None = None
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                values = [_cell_text(value) for value in row]
                if not any(values):
                    continue
                if header is None:
                    header = [value or get_column_letter(i) for i, value in enumerate(values, start=1)]
                    continue
                text = _record(header, values, get_column_letter)
                documents.append(make_document(text, source, "xlsx", title=sheet.title, row_id=f"{sheet.title}!{number}"))
    except (*ZIP_READ_ERRORS, KeyError, ValueError, SyntaxError) as exc:
        raise LoaderError(
            source, f"not a valid .xlsx ({_why(exc)}); open it in Excel or LibreOffice and save it again"
        ) from None
    finally:
        workbook.close()
    if not documents:
        raise LoaderError(source, "no data rows (each sheet needs a header row and at least one row below it)")
    return documents


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _record(header: list[str], values: Iterable[str], column_name) -> str:
    lines = []
    for index, value in enumerate(values):
        if value:
            name = header[index] if index < len(header) else column_name(index + 1)
            lines.append(f"{name}: {value}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# .csv


def load_csv(path: Path, source: str) -> list[Document]:
    """One Document per data row. Encoding: UTF-8 (BOM or not), UTF-16 with BOM, else CP949/EUC-KR.
    Delimiter: comma, semicolon or tab, sniffed from the start of the file. `row_id` is the data row
    number (1 = the row after the header, blank lines counted)."""
    check_readable_file(path, source)
    encoding = _detect_encoding(path, source)
    documents: list[Document] = []
    try:
        with path.open(encoding=encoding, newline="") as handle:
            sample = handle.read(_SNIFF_CHARS)
            handle.seek(0)
            reader = csv.reader(handle, delimiter=_sniff_delimiter(sample))
            header: list[str] | None = None
            number = 0
            for row in reader:
                values = [value.strip() for value in row]
                if header is None:
                    if any(values):
                        header = [value or f"column{i}" for i, value in enumerate(values, start=1)]
                    continue
                number += 1
                if any(values):
                    text = _record(header, values, lambda i: f"column{i}")
                    documents.append(make_document(text, source, "csv", title=path.stem, row_id=str(number)))
    except UnicodeDecodeError:
        raise LoaderError(source, "cannot decode text (not UTF-8 or CP949/EUC-KR); save it as UTF-8") from None
    except csv.Error as exc:
        raise LoaderError(source, f"malformed CSV ({exc}); check quoting and save it as UTF-8 CSV") from None
    if header is None:
        raise LoaderError(source, "document is empty (no extractable text); check the file")
    if not documents:
        raise LoaderError(source, "CSV has a header row but no data rows; check the file")
    return documents


def _detect_encoding(path: Path, source: str) -> str:
    """Streamed check: the whole file is validated as UTF-8 chunk by chunk; CP949 otherwise."""
    with path.open("rb") as handle:
        start = handle.read(4)
        if start.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for chunk in iter(lambda: handle.read(_READ_CHUNK), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp949"
    return "utf-8"


def _sniff_delimiter(sample: str) -> str:
    # Sniff whole lines only: a cut-off last line confuses the sniffer.
    if "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=_CSV_DELIMITERS).delimiter
    except csv.Error:
        first_line = next(iter(io.StringIO(sample)), "")
        counts = {delimiter: first_line.count(delimiter) for delimiter in _CSV_DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","
