"""OCR with Tesseract (Korean + English) for image files and PDF pages that have no text layer.

Tesseract is a program, not a Python package: Debian's `tesseract-ocr` and `tesseract-ocr-kor`,
called as a subprocess. PDF pages are rendered to grayscale bitmaps with pypdfium2 (BSD/Apache)
and piped to Tesseract as PGM images, so nothing is written to disk.

    >>> [doc] = load_image(Path("공지.png"), "공지.png")        # doctest: +SKIP
    >>> doc.metadata
    {'source': '공지.png', 'source_type': 'image', 'title': '공지'}

Choices measured on Tesseract 5.3 with Debian's kor/eng data (tessdata_fast):
- `--psm 4` (one column of text of varying sizes): the default automatic layout analysis (psm 3)
  dropped whole lines of clean Korean pages; psm 4 kept every line. Pages with several text
  columns are read line by line across the columns.
- `OMP_THREAD_LIMIT=1`: Tesseract's OpenMP threads made one page 5x slower (5.2 s vs 1.0 s, same
  text); pages run in parallel processes instead, one per CPU core.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
from pathlib import Path

from langchain_core.documents import Document

from loaders.base import check_readable_file, make_document
from loaders.errors import LoaderError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
OCR_LANGUAGES = ("kor", "eng")
INSTALL_TESSERACT = "apt-get install tesseract-ocr tesseract-ocr-kor"
INSTALL_PDFIUM = "pip install pypdfium2==5.15.2"
# 300 DPI is what Tesseract is trained for; the pixel cap keeps a poster-sized page (A0 is 140
# million pixels at 300 DPI) from taking gigabytes: such pages are rendered at a lower resolution.
RENDER_DPI = 300
MAX_PAGE_PIXELS = 40_000_000
# Larger images are refused rather than decoded: a small compressed file can declare a huge canvas
# (an A4 page scanned at 600 DPI is 35 million pixels).
MAX_IMAGE_PIXELS = 80_000_000
# One page or image; a clean A4 page takes about a second.
TESSERACT_TIMEOUT_SECONDS = 300


def tesseract_missing() -> str | None:
    """Why OCR cannot run here (the install command to run), or None when it can."""
    binary = shutil.which("tesseract")
    if binary is None:
        return f"OCR needs Tesseract, which is not installed; run: {INSTALL_TESSERACT}"
    listed = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=60)
    # The first line is a header ("List of available languages in ..."), then one code per line.
    available = {line.strip() for line in (listed.stdout + listed.stderr).splitlines()[1:]}
    missing = [language for language in OCR_LANGUAGES if language not in available]
    if missing:
        packages = " ".join(f"tesseract-ocr-{language}" for language in missing)
        return f"Tesseract has no {'+'.join(missing)} language data; run: apt-get install {packages}"
    return None


def require_tesseract(source: str) -> None:
    reason = tesseract_missing()
    if reason:
        raise LoaderError(source, reason)


def run_tesseract(image: bytes | Path, source: str, dpi: int | None = None) -> str:
    """Text of one image (a path, or the bytes of a PNG/PGM/... file). Pages of a multi-page TIFF
    are separated by form feeds ("\\f")."""
    # An absolute path: a relative name starting with "-" or named "stdin" would mean something else.
    command = ["tesseract", "stdin" if isinstance(image, bytes) else str(image.absolute()), "stdout"]
    command += ["-l", "+".join(OCR_LANGUAGES), "--psm", "4"]
    if dpi:
        command += ["--dpi", str(dpi)]
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        finished = subprocess.run(
            command,
            input=image if isinstance(image, bytes) else None,
            capture_output=True,
            env=environment,
            timeout=TESSERACT_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise LoaderError(
            source, f"OCR took longer than {TESSERACT_TIMEOUT_SECONDS} s for one page; use a smaller or cleaner scan"
        ) from None
    if finished.returncode != 0:
        # Tesseract's stderr mixes progress notes with the error and ends with a generic line.
        lines = [
            line.strip()
            for line in finished.stderr.decode("utf-8", "replace").splitlines()
            if line.strip() and line.strip() != "Error during processing."
        ]
        detail = lines[-1] if lines else f"exit code {finished.returncode}"
        raise LoaderError(source, f"Tesseract could not read the image ({detail}); save it as PNG or JPEG and retry")
    return finished.stdout.decode("utf-8", "replace")


def ocr_workers() -> int:
    return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------------------------------
# image files


def load_image(path: Path, source: str) -> list[Document]:
    """One Document per image; a multi-page TIFF gives one per page with text, with `page`."""
    check_readable_file(path, source)
    frames = _check_image(path, source)
    require_tesseract(source)
    # Tesseract separates the pages of a multi-page image with form feeds.
    pages = run_tesseract(path, source).split("\f")[:frames]
    if frames == 1:
        documents = [make_document(pages[0], source, "image", title=path.stem)]
    else:
        documents = [
            make_document(text, source, "image", title=path.stem, page=number)
            for number, text in enumerate(pages, start=1)
        ]
    documents = [doc for doc in documents if doc.page_content.strip()]
    if not documents:
        raise LoaderError(source, "OCR found no text in the image; check that it shows text (a 300 DPI scan works best)")
    return documents


def _check_image(path: Path, source: str) -> int:
    """Read only the image header: refuse files that are not images, and canvases too large.
    Returns the number of frames (pages of a TIFF)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
            frames = getattr(image, "n_frames", 1)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise LoaderError(source, f"not a readable image ({exc}); save it as PNG or JPEG and retry") from None
    if width * height > MAX_IMAGE_PIXELS:
        raise LoaderError(
            source,
            f"image is {width}x{height} pixels, more than {MAX_IMAGE_PIXELS:,}; scale it down (300 DPI is enough for OCR)",
        )
    return frames


# --------------------------------------------------------------------------------------------------
# PDF pages


def ocr_pdf_pages(data: bytes, page_numbers: list[int], source: str) -> dict[int, str]:
    """OCR text of the given 1-based pages of a PDF. Pages are rendered a batch at a time (one
    rendered page per worker), so memory stays bounded however long the document is."""
    from concurrent.futures import ThreadPoolExecutor

    require_tesseract(source)
    try:
        import pypdfium2 as pdfium
    except ImportError:
        raise LoaderError(source, f"rendering scanned PDF pages for OCR needs pypdfium2; run: {INSTALL_PDFIUM}") from None
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise LoaderError(source, f"cannot render the PDF for OCR ({exc}); check that the file is a valid PDF") from None
    texts: dict[int, str] = {}
    workers = ocr_workers()

    def read(rendered: tuple[bytes, int]) -> str:
        image, dpi = rendered
        return run_tesseract(image, source, dpi=dpi)

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for start in range(0, len(page_numbers), workers):
                batch = page_numbers[start : start + workers]
                # pdfium is not thread-safe: render here, one page at a time; OCR runs in parallel.
                rendered = [_render_page_pgm(document, number, source) for number in batch]
                for number, text in zip(batch, pool.map(read, rendered)):
                    texts[number] = text.replace("\f", "\n")
    finally:
        document.close()
    return texts


def _render_page_pgm(document, number: int, source: str) -> tuple[bytes, int]:
    """Page `number` (1-based) as a binary PGM image (8-bit grayscale), and its resolution in DPI:
    RENDER_DPI, or less for a page too large for MAX_PAGE_PIXELS."""
    import pypdfium2 as pdfium

    try:
        page = document[number - 1]
        width_points, height_points = page.get_size()
        scale = RENDER_DPI / 72
        pixels = width_points * scale * height_points * scale
        if pixels > MAX_PAGE_PIXELS:
            scale *= (MAX_PAGE_PIXELS / pixels) ** 0.5
        bitmap = page.render(scale=scale, grayscale=True)
    except pdfium.PdfiumError as exc:
        raise LoaderError(source, f"cannot render page {number} for OCR ({exc}); check that the file is a valid PDF") from None
    width, height, stride = bitmap.width, bitmap.height, bitmap.stride
    buffer = bytes(bitmap.buffer)
    bitmap.close()
    page.close()
    image = io.BytesIO()
    image.write(f"P5\n{width} {height}\n255\n".encode("ascii"))
    # Bitmap rows may be padded to `stride` bytes; PGM rows are exactly `width` bytes.
    for row in range(height):
        image.write(buffer[row * stride : row * stride + width])
    return image.getvalue(), round(scale * 72)
