"""Zip packages (.docx, .pptx, .xlsx, .hwpx) are checked before any part is unpacked.

A zip bomb is a small file whose parts unpack to gigabytes; the readers (python-docx, python-pptx,
openpyxl, the HWPX reader) unpack whole parts into memory. `check_zip` reads only the package's
central directory and refuses one that declares more than `MAX_UNZIPPED_BYTES` in total or more than
`MAX_ZIP_ENTRIES` entries. Declared sizes bound the actual reads too: Python's `zipfile` stops
every part at its declared size and then checks its CRC, so a part that lies about its size fails
as a broken file instead of unpacking further.

    >>> check_zip(Path("bomb.docx"), "bomb.docx", ".docx")     # doctest: +SKIP
    LoaderError: bomb.docx: the .docx package unpacks to 2048 MB (more than 256 MB); ...
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from loaders.errors import LoaderError

MAX_UNZIPPED_BYTES = 256 * 2**20
MAX_ZIP_ENTRIES = 10_000
# What reading a damaged package raises besides BadZipFile: a corrupt deflate stream (zlib.error),
# a local header pointing outside the file (OSError "Invalid argument", EOFError), a compression
# method zipfile lacks (NotImplementedError), an encrypted part (RuntimeError).
ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)


def check_zip(path: Path, source: str, kind: str) -> None:
    """Refuse (LoaderError) a package over the caps. A file that is not a zip passes: the format's
    own reader then says what is wrong with it."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    if len(entries) > MAX_ZIP_ENTRIES:
        raise LoaderError(
            source, f"the {kind} package has {len(entries):,} parts (more than {MAX_ZIP_ENTRIES:,}); it is not a normal document, refused"
        )
    total = sum(entry.file_size for entry in entries)
    if total > MAX_UNZIPPED_BYTES:
        raise LoaderError(
            source,
            f"the {kind} package unpacks to {total / 2**20:,.0f} MB (more than {MAX_UNZIPPED_BYTES // 2**20} MB), "
            "like a zip bomb; refused. If it is a real document, save it again without embedded media or split it",
        )
