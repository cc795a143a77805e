"""Zip packages (.docx .pptx .xlsx .hwpx) are refused by their central directory before anything is
unpacked: a zip bomb costs neither time nor memory, and a part that lies about its size cannot
unpack past what it declared."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from loaders import load_source
from loaders.archive import MAX_UNZIPPED_BYTES, MAX_ZIP_ENTRIES
from loaders.errors import LoaderError

BOMB_BYTES = 2**30  # 1 GiB of spaces: about 1 MB once deflated


def small_docx(path: Path, text: str = "정상 문서입니다.") -> Path:
    import docx

    document = docx.Document()
    document.add_paragraph(text)
    document.save(str(path))
    return path


def small_pptx(path: Path) -> Path:
    import pptx

    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = "정상 슬라이드"
    presentation.save(str(path))
    return path


def small_xlsx(path: Path) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["품목", "가격"])
    workbook.active.append(["사과", 1200])
    workbook.save(str(path))
    return path


def small_hwpx(path: Path) -> Path:
    section = (
        '<hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph">'
        "<hp:p><hp:run><hp:t>정상 한글 문서입니다.</hp:t></hp:run></hp:p></hs:sec>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/hwp+zip")
        archive.writestr("Contents/section0.xml", section)
    return path


def add_bomb(source: Path, target: Path, member: str, size: int = BOMB_BYTES) -> Path:
    """`source` with one more part: `size` bytes of spaces, streamed into the zip (never in memory)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
        block = b" " * 2**20
        info = zipfile.ZipInfo(member)
        info.compress_type = zipfile.ZIP_DEFLATED
        with dst.open(info, "w", force_zip64=True) as handle:
            for _ in range(size // len(block)):
                handle.write(block)
    return target


@pytest.fixture(scope="module")
def docx_bomb(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bombs")
    return add_bomb(small_docx(folder / "ok.docx"), folder / "bomb.docx", "word/media/padding.xml")


def test_docx_bomb_is_refused_in_one_line_without_unpacking(docx_bomb):
    assert docx_bomb.stat().st_size < 5 * 2**20
    with pytest.raises(LoaderError) as info:
        load_source(str(docx_bomb))
    message = str(info.value)
    assert message.startswith(f"{docx_bomb}: the .docx package unpacks to 1,02")
    assert f" MB (more than {MAX_UNZIPPED_BYTES // 2**20} MB), like a zip bomb; refused." in message
    assert "\n" not in message


def test_docx_bomb_costs_no_memory(docx_bomb):
    """Peak memory of a fresh process that loads the bomb: about what importing the loaders costs."""
    code = (
        "import json, resource, sys\n"
        "from loaders import load_source\n"
        "from loaders.errors import LoaderError\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n    load_source(sys.argv[1])\nexcept LoaderError as exc:\n    error = str(exc)\n"
        "print(json.dumps({'before_kb': before, 'after_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, 'error': error}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(docx_bomb)], capture_output=True, text=True, cwd=str(REPO_ROOT), timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout)
    assert "zip bomb" in measured["error"]
    assert measured["after_kb"] - measured["before_kb"] < 50 * 1024  # under 50 MB more, for a 1 GB bomb


@pytest.mark.parametrize("kind", ["pptx", "xlsx", "hwpx"])
def test_other_zip_formats_are_capped_too(tmp_path, kind):
    make = {"pptx": small_pptx, "xlsx": small_xlsx, "hwpx": small_hwpx}[kind]
    good = make(tmp_path / f"ok.{kind}")
    assert load_source(str(good))  # the small valid file loads
    bomb = add_bomb(good, tmp_path / f"bomb.{kind}", "padding.bin", size=MAX_UNZIPPED_BYTES + 2**20)
    with pytest.raises(LoaderError, match=rf"the \.{kind} package unpacks to 257 MB \(more than 256 MB\), like a zip bomb"):
        load_source(str(bomb))


def test_too_many_entries_are_refused(tmp_path):
    good = small_docx(tmp_path / "ok.docx")
    crowded = tmp_path / "crowded.docx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(crowded, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        for n in range(MAX_ZIP_ENTRIES):
            dst.writestr(f"extra/part{n}.xml", "")
    with pytest.raises(LoaderError, match=r"the \.docx package has 10,0\d\d parts \(more than 10,000\)"):
        load_source(str(crowded))


def test_a_part_that_understates_its_size_fails_as_a_broken_file(tmp_path):
    """The central directory says word/document.xml is 200 bytes; the data unpacks to far more.
    zipfile stops at the declared size and the CRC check fails: one line, nothing more unpacked."""
    padded = small_docx(tmp_path / "ok.docx", "긴 문서 " * 20_000)
    data = bytearray(padded.read_bytes())
    with zipfile.ZipFile(padded) as archive:
        info = archive.getinfo("word/document.xml")
    name = info.filename.encode()
    # Find this entry's central-directory header: signature, then the name at offset 46.
    header = next(
        i for i in range(len(data)) if data[i : i + 4] == b"PK\x01\x02" and data[i + 46 : i + 46 + len(name)] == name
    )
    assert struct.unpack_from("<I", data, header + 24)[0] == info.file_size > 10_000
    struct.pack_into("<I", data, header + 24, 200)  # uncompressed size
    liar = tmp_path / "liar.docx"
    liar.write_bytes(bytes(data))
    with pytest.raises(LoaderError) as caught:
        load_source(str(liar))
    assert str(caught.value).startswith(f"{liar}: not a valid .docx (BadZipFile: Bad CRC-32")
