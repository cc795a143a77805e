"""Hangul (한글) word-processor files: .hwpx (OWPML, zip of XML) and binary .hwp (HWP 5.0).

Both give one Document for the file: paragraphs in order, each table row as a "cell | cell" line
(as the .docx loader does), footnotes and text boxes included, page headers and footers left out.

- .hwpx is read with zipfile + ElementTree from the standard library: the sections
  (Contents/section0.xml, ...) in the order of the package manifest, hp:p / hp:t for text, hp:tbl
  for tables; the title comes from Contents/content.hpf (opf:title or dc:title).
- .hwp (an OLE compound file) is converted in memory to the same OWPML parts by python-hwpx
  (Apache-2.0, pure Python), then read by the same code. Password-protected, DRM and
  distribution (배포용) documents are refused with the fix.

    >>> docs = load_hwpx(Path("보고서.hwpx"), "보고서.hwpx")
    >>> docs[0].metadata["source_type"], docs[0].page_content.splitlines()[0]
    ('hwpx', '1. 개요')
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

from langchain_core.documents import Document

from loaders.archive import ZIP_READ_ERRORS, check_zip
from loaders.base import check_readable_file, make_document, require_text
from loaders.errors import LoaderError

HWP_PIP = "pip install python-hwpx==6.9.0"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
HWP3_MAGIC = b"HWP Document File"
# A section part larger than this is not a word-processor document; refuse instead of exhausting memory.
MAX_PART_BYTES = 256 * 1024 * 1024
# Deeper XML is refused while it is parsed (as lxml does by default): the text walk is recursive.
MAX_XML_DEPTH = 256
_FEED_BYTES = 1 << 20

_SECTION_PART = re.compile(r"^Contents/section(\d+)\.xml$", re.IGNORECASE)
# Inline elements inside hp:t that stand for characters.
_INLINE_CHARS = {"tab": "\t", "lineBreak": "\n", "nbSpace": "\u00a0", "fwSpace": " ", "hyphen": "-"}
# Containers whose text is not body text (repeated on every page).
_SKIPPED = {"header", "footer"}
_RESAVE = "open it in Hangul (한글) and save it again, or save it as PDF and ingest that"


def load_hwpx(path: Path, source: str) -> list[Document]:
    check_readable_file(path, source)
    check_zip(path, source, ".hwpx")
    try:
        with zipfile.ZipFile(path) as archive:
            return _load_package(archive.namelist(), lambda name: _read_member(archive, name, source), source, path.stem, "hwpx")
    except ZIP_READ_ERRORS as exc:  # also a corrupt deflate stream or a header pointing outside the file
        raise LoaderError(source, f"not a valid .hwpx (not a zip package: {exc}); {_RESAVE}") from None


def load_hwp(path: Path, source: str) -> list[Document]:
    """Binary HWP 5.0 through python-hwpx; an .hwp that is really HWPX (zip) is read as HWPX."""
    check_readable_file(path, source)
    data = path.read_bytes()
    if data.startswith(ZIP_MAGIC):
        return load_hwpx(path, source)
    if data.startswith(HWP3_MAGIC):
        raise LoaderError(source, "HWP 3.0 files are not supported; open it in Hangul (한글) and save it as .hwpx")
    if not data.startswith(OLE_MAGIC):
        raise LoaderError(source, f"not a valid .hwp (no HWP 5.0 compound-file signature); {_RESAVE}")
    try:
        from hwpx.errors import HwpxError
        from hwpx.hwp5.package import convert
    except ImportError:
        raise LoaderError(source, f"reading binary .hwp files needs python-hwpx; run: {HWP_PIP}") from None
    try:
        files = convert(data).files
    except HwpxError as exc:
        raise LoaderError(source, _hwp5_reason(getattr(exc, "code", ""), str(exc))) from None
    except (ValueError, KeyError, IndexError, EOFError, OSError) as exc:  # struct.error and zlib.error too
        raise LoaderError(source, f"not a valid .hwp ({type(exc).__name__}: {exc}); {_RESAVE}") from None
    return _load_package(list(files), lambda name: files[name], source, path.stem, "hwp")


def _hwp5_reason(code: str, message: str) -> str:
    if code == "hwp5-password":
        return "the .hwp file is password-protected; remove the password in Hangul (한글) and save it again"
    if code == "hwp5-distribution":
        return "the .hwp file is a distribution (배포용) document with an encrypted body; ask for an editable copy or a PDF"
    if code == "hwp5-drm":
        return "the .hwp file is DRM-protected; export it from the DRM viewer as PDF and ingest that"
    if code == "hwp5-version-unsupported":
        return f"unsupported HWP version ({message}); open it in Hangul (한글) and save it as .hwpx"
    return f"not a valid .hwp ({message}); {_RESAVE}"


# --------------------------------------------------------------------------------------------------
# OWPML package -> text


def _load_package(
    names: list[str], read: Callable[[str], bytes], source: str, stem: str, source_type: str
) -> list[Document]:
    manifest = _parse(read("Contents/content.hpf"), source, "Contents/content.hpf") if "Contents/content.hpf" in names else None
    sections = _section_parts(names, manifest)
    if not sections:
        raise LoaderError(source, f"not a valid .{source_type} (no Contents/section*.xml); {_RESAVE}")
    lines: list[str] = []
    for name in sections:
        lines.extend(_block_lines(_parse(read(name), source, name)))
    title = _package_title(manifest) or stem
    return require_text([make_document("\n".join(lines), source, source_type, title=title)], source)


def _read_member(archive: zipfile.ZipFile, name: str, source: str) -> bytes:
    too_big = LoaderError(source, f"{name} is larger than {MAX_PART_BYTES // 2**20} MiB; split the document")
    if archive.getinfo(name).file_size > MAX_PART_BYTES:
        raise too_big
    with archive.open(name) as member:
        data = member.read(MAX_PART_BYTES + 1)  # never more than the cap, whatever the header says
    if len(data) > MAX_PART_BYTES:
        raise too_big
    return data


def _parse(data: bytes, source: str, name: str) -> ET.Element:
    """The part's root element; XML nested deeper than MAX_XML_DEPTH is refused as it is read."""
    parser = ET.XMLPullParser(events=("start", "end"))
    root: ET.Element | None = None
    depth = 0
    try:
        for start in range(0, len(data), _FEED_BYTES):
            parser.feed(data[start : start + _FEED_BYTES])
            for event, element in parser.read_events():
                if event == "end":
                    depth -= 1
                    continue
                depth += 1
                root = element if root is None else root
                if depth > MAX_XML_DEPTH:
                    raise LoaderError(source, f"{name} is nested more than {MAX_XML_DEPTH} levels deep, not a normal document; {_RESAVE}")
        parser.close()
    except ET.ParseError as exc:
        raise LoaderError(source, f"broken XML in {name} ({exc}); {_RESAVE}") from None
    if root is None:
        raise LoaderError(source, f"broken XML in {name} (no element found); {_RESAVE}")
    return root


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _section_parts(names: list[str], manifest: ET.Element | None) -> list[str]:
    """Section parts in spine order when the manifest lists them, else by number."""
    present = {name for name in names if _SECTION_PART.match(name)}
    ordered: list[str] = []
    if manifest is not None:
        hrefs = {
            item.get("id"): posixpath.normpath(item.get("href", ""))
            for item in manifest.iter()
            if _local(item.tag) == "item"
        }
        for itemref in manifest.iter():
            if _local(itemref.tag) == "itemref":
                href = hrefs.get(itemref.get("idref"), "")
                if href in present and href not in ordered:
                    ordered.append(href)
    rest = sorted(present - set(ordered), key=lambda name: int(_SECTION_PART.match(name).group(1)))
    return ordered + rest


def _package_title(manifest: ET.Element | None) -> str | None:
    if manifest is None:
        return None
    for element in manifest.iter():
        if _local(element.tag) == "title" and element.text and element.text.strip():
            return element.text.strip()
    return None


def _block_lines(element: ET.Element) -> list[str]:
    """Lines of every paragraph under `element`, in document order, tables as "a | b" rows."""
    lines: list[str] = []
    for child in element:
        name = _local(child.tag)
        if name == "p":
            lines.extend(_paragraph_lines(child))
        elif name == "tbl":
            lines.extend(_table_lines(child))
        elif name not in _SKIPPED:
            lines.extend(_block_lines(child))
    return lines


def _paragraph_lines(paragraph: ET.Element) -> list[str]:
    """A paragraph's own text as one line; tables and nested paragraphs (text boxes, footnotes)
    anchored in it become lines of their own, after the text that precedes them."""
    lines: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        text = "".join(buffer)
        buffer.clear()
        if text.strip():
            lines.append(text)

    def walk(element: ET.Element) -> None:
        for child in element:
            name = _local(child.tag)
            if name == "t":
                buffer.append(_t_text(child))
            elif name == "tbl":
                flush()
                lines.extend(_table_lines(child))
            elif name == "p":
                flush()
                lines.extend(_paragraph_lines(child))
            elif name not in _SKIPPED:
                walk(child)

    walk(paragraph)
    flush()
    return lines


def _t_text(t: ET.Element) -> str:
    parts = [t.text or ""]
    for child in t:
        parts.append(_INLINE_CHARS.get(_local(child.tag), ""))
        parts.append(child.tail or "")
    return "".join(parts)


def _table_lines(table: ET.Element) -> Iterator[str]:
    for row in table:
        if _local(row.tag) != "tr":
            continue
        cells = [" ".join(" ".join(_block_lines(cell)).split()) for cell in row if _local(cell.tag) == "tc"]
        if any(cells):
            yield " | ".join(cells)
