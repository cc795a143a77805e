"""Fuzz ingestion: generated malformed files through `rag-app ingest`; tracebacks must be 0.

    python bench/fuzz_ingest.py                       # 240 inputs, 40 of them also as real subprocesses
    python bench/fuzz_ingest.py --count 60 --cli 60   # fewer inputs, every one a subprocess
    python bench/fuzz_ingest.py --keep /tmp/fuzz      # keep the generated files to replay one

Inputs are made from small valid seeds built here (PDF, DOCX, XLSX, PPTX, HWP, HWPX, HTML, text,
Markdown, CSV, JSON, JSONL, notebook, Python, PNG), deterministically from `--seed`:
empty and whitespace-only files of every kind; truncated, bit-flipped, overwritten, spliced files;
zip packages with a garbage, truncated, missing, entity-bomb or 100,000-deep main part, zip bombs
(declared and lying sizes) and packages of 10,001 parts; invalid and mixed encodings, NUL bytes,
UTF-16 without a BOM; 1 MB lines; HTML and JSON nested up to a million deep.

Every input is ingested alone through `rag_app.cli.main(["ingest", FILE, ...])`, the CLI's own
code in this process (fast), and a sample also through `rag-app ingest FILE` in a fresh process
(its peak memory measured per process with wait4). Per input it checks:
- no traceback (no exception escapes the CLI, no "Traceback" on stderr);
- the exit code is 0 (ingested) or 1 (refused), nothing else;
- a refused input prints exactly one error line, `rag-app: error: FILE: ...`, and the summary.
The table ends with the inputs that broke a rule (none expected).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COLLECTION = "fuzz"
BIG_PART = 256 * 2**20 + 2**20  # just over loaders.archive.MAX_UNZIPPED_BYTES
WORDS = "검색 증강 생성 문서 질문 답변 형태소 분석 retrieval answer index chunk 토큰 벡터 서울 부산".split()


@dataclass
class FuzzInput:
    path: Path
    kind: str  # the seed's format: pdf, docx, ...
    mutation: str  # how it was made: empty, truncate, bomb, ...


@dataclass
class Outcome:
    input: FuzzInput
    code: int | None  # None: an exception escaped
    seconds: float
    stdout: str
    stderr: str
    traceback: bool
    peak_rss_kb: int | None = None  # subprocesses only
    messages: list[str] = field(default_factory=list)  # error messages before the CLI escaped them (in process only)
    problems: list[str] = field(default_factory=list)

    @property
    def unforeseen(self) -> bool:
        """Refused through the catch-all in loaders.limits (a reader's unexpected exception)."""
        return "cannot be read (unexpected " in self.stderr


# ---- seeds: one small valid file per format ------------------------------------------------
def pdf_bytes(pages: list[str]) -> bytes:
    """A minimal valid PDF (Helvetica text, one content stream per page) with a correct xref."""
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    kids = []
    for n, text in enumerate(pages):
        page, content = 4 + 2 * n, 5 + 2 * n
        kids.append(f"{page} 0 R")
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
        objects[page] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {content} 0 R >>"
        ).encode()
        objects[content] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode()
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for number in sorted(objects):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _saved(write, suffix: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"seed{suffix}"
        write(path)
        return path.read_bytes()


def seeds() -> dict[str, bytes]:
    """Valid files, by suffix (without the dot)."""
    import docx
    import hwpx
    import openpyxl
    import pptx
    from PIL import Image, ImageDraw

    def write_docx(path):
        document = docx.Document()
        document.add_heading("검색 증강 생성 안내", level=1)
        document.add_paragraph("RAG는 질문과 관련된 문서를 찾아 그 내용을 근거로 답한다.")
        table = document.add_table(rows=2, cols=2)
        table.cell(0, 0).text, table.cell(0, 1).text = "항목", "값"
        table.cell(1, 0).text, table.cell(1, 1).text = "청크 크기", "1000"
        document.save(str(path))

    def write_xlsx(path):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        for row in (["도시", "인구"], ["서울", 9400000], ["부산", 3300000]):
            sheet.append(row)
        workbook.save(str(path))

    def write_pptx(path):
        presentation = pptx.Presentation()
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = "하이브리드 검색"
        slide.placeholders[1].text = "BM25와 밀집 벡터를 함께 쓴다."
        presentation.save(str(path))

    def write_hwp(path):
        document = hwpx.HwpxDocument.new()
        document.add_paragraph("한국어 문단입니다. 형태소 분석이 검색을 돕습니다.")
        document.add_paragraph("두 번째 문단.")
        document.save_to_path(str(path))  # the suffix picks HWP 5.0 (.hwp) or HWPX

    def write_png(path):
        image = Image.new("L", (360, 80), 255)
        ImageDraw.Draw(image).text((10, 30), "Hybrid search 2026", fill=0)
        image.save(str(path))

    notebook = {
        "nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# 노트북\n", "검색 실험"]},
            {"cell_type": "code", "metadata": {}, "source": "print('hello')", "outputs": [], "execution_count": 1},
        ],
    }
    html = (
        '<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>형태소 분석</title></head><body>'
        "<article><h1>형태소 분석</h1><p>형태소 분석기는 어절을 형태소로 나눈다. 한국어 검색에서 조사를 떼어 낸다.</p>"
        "<p>BM25 검색은 형태소 단위 색인으로 재현율이 높아진다.</p></article></body></html>"
    )
    return {
        "pdf": pdf_bytes(["Hybrid retrieval combines BM25 and dense vectors.", "Page two: reciprocal rank fusion."]),
        "docx": _saved(write_docx, ".docx"),
        "xlsx": _saved(write_xlsx, ".xlsx"),
        "pptx": _saved(write_pptx, ".pptx"),
        "hwp": _saved(write_hwp, ".hwp"),
        "hwpx": _saved(write_hwp, ".hwpx"),
        "png": _saved(write_png, ".png"),
        "html": html.encode(),
        "txt": "검색 증강 생성은 문서를 찾아 답한다.\nRetrieval-augmented generation cites its sources.\n".encode(),
        "md": "# 안내\n\n청크는 1000자 단위로 나눈다.\n\n- BM25\n- 밀집 검색\n".encode(),
        "csv": "도시,인구,설명\n서울,9400000,대한민국의 수도\n부산,3300000,항구 도시\n".encode(),
        "json": json.dumps({"items": [{"title": "서울", "body": "수도"}, {"title": "부산", "body": "항구"}]}, ensure_ascii=False).encode(),
        "jsonl": '{"q": "RAG란?", "a": "검색 증강 생성"}\n{"q": "BM25란?", "a": "희소 검색"}\n'.encode(),
        "ipynb": json.dumps(notebook, ensure_ascii=False).encode(),
        "py": b'"""Module doc."""\n\n\ndef search(query):\n    """Find chunks."""\n    return [query]\n',
    }


ZIP_MAIN_PART = {"docx": "word/document.xml", "xlsx": "xl/worksheets/sheet1.xml", "pptx": "ppt/slides/slide1.xml", "hwpx": "Contents/section0.xml"}
BINARY = ("pdf", "docx", "xlsx", "pptx", "hwp", "hwpx", "png")
TEXTUAL = ("html", "txt", "md", "csv", "json", "jsonl", "ipynb", "py")


# ---- mutations ---------------------------------------------------------------------------------
def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randint(1, max(1, len(data) - 1))]


def flip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 64)):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def overwrite(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    size = rng.randint(16, 1024)
    start = rng.randrange(max(1, len(out) - size))
    out[start : start + size] = rng.randbytes(size) if rng.random() < 0.7 else bytes(size)
    return bytes(out[: len(data)])


def splice(data: bytes, rng: random.Random) -> bytes:
    """Delete one block and repeat another elsewhere: offsets (xref, zip directory) go stale."""
    a, b = sorted(rng.randrange(len(data)) for _ in range(2))
    cut = data[:a] + data[b:]
    at = rng.randrange(max(1, len(cut)))
    block = data[a : a + rng.randint(1, 2048)]
    return cut[:at] + block + cut[at:]


BYTE_MUTATIONS = {"truncate": truncate, "flip": flip, "overwrite": overwrite, "splice": splice}


def rezip(data: bytes, replace: dict[str, bytes | None]) -> bytes:
    """The zip package `data` with parts replaced (None: removed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in replace:
                if replace[info.filename] is not None:
                    dst.writestr(info.filename, replace[info.filename])
            else:
                dst.writestr(info, src.read(info.filename))
    return out.getvalue()


def zip_bomb(data: bytes, size: int = BIG_PART) -> bytes:
    """One more part of `size` spaces, streamed into the package (about size/1000 bytes on disk)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        info = zipfile.ZipInfo("padding.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with dst.open(info, "w", force_zip64=True) as handle:
            block = b" " * 2**20
            for _ in range(size // len(block)):
                handle.write(block)
    return out.getvalue()


def lying_zip(data: bytes, part: str) -> bytes:
    """`part` padded to 3 MB of XML comment, then its central-directory size rewritten to 100 bytes."""
    import struct

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        original = archive.read(part)
    padded = bytearray(rezip(data, {part: original + b"<!--" + b" " * (3 * 2**20) + b"-->"}))
    name = part.encode()
    at = padded.find(b"PK\x01\x02")
    while at >= 0 and padded[at + 46 : at + 46 + len(name)] != name:
        at = padded.find(b"PK\x01\x02", at + 4)
    struct.pack_into("<I", padded, at + 24, 100)
    return bytes(padded)


def crowded_zip(data: bytes, parts: int = 10_001) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        for n in range(parts):
            dst.writestr(f"extra/{n}.xml", b"")
    return out.getvalue()


ENTITY_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lolololololololololol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10) for n in range(1, 10))
    + b"]><root>&lol9;</root>"
)


def deep_xml(depth: int) -> bytes:
    return b'<?xml version="1.0"?>' + b"<a>" * depth + b"text" + b"</a>" * depth


def zip_mutations(kind: str, data: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    """Structural damage to a zip package's main part, once each."""
    part = ZIP_MAIN_PART[kind]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        original = archive.read(part)
    return [
        ("part-garbage", rezip(data, {part: rng.randbytes(4096)})),
        ("part-truncated", rezip(data, {part: original[: len(original) // 2]})),
        ("part-missing", rezip(data, {part: None})),
        ("part-not-utf8", rezip(data, {part: original.replace(b"utf-8", b"utf-8", 1) + b"\xff\xfe\xc3\x28"})),
        ("part-entity-bomb", rezip(data, {part: ENTITY_BOMB})),
        ("part-100k-deep", rezip(data, {part: deep_xml(100_000)})),
        ("zip-bomb", zip_bomb(data)),
        ("zip-lying-size", lying_zip(data, part)),
        ("zip-10001-parts", crowded_zip(data)),
        ("zip-directory-gone", data[: data.rfind(b"PK\x01\x02")]),
    ]


def text_mutations(kind: str, data: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    text = data.decode("utf-8")
    # A 1 MB line: every chunk of it is the same text, so the run measures reading, splitting and
    # indexing one huge line, not embedding hundreds of chunks (see huge-line-60k-distinct).
    line = "검색 " * 330_000
    return [
        ("random-bytes", rng.randbytes(rng.randint(64, 8192))),
        ("utf16-no-bom", text.encode("utf-16-le")),
        ("cp949", text.encode("cp949", errors="replace")),
        ("invalid-utf8", data[: len(data) // 2] + b"\xff\xfe\xc3\x28\xa0\xa1\xed\xa0\x80\xf8\x88\x80\x80\x80" + data[len(data) // 2 :]),
        ("nul-bytes", data.replace(b" ", b"\x00")),
        ("bom-only", b"\xef\xbb\xbf"),
        ("whitespace-only", b" \n\t\r\n" * 100),
        ("huge-line-1m", line.encode()),
        ("huge-token-500k", b"x" * 500_000),
        ("truncate", truncate(data, rng)),
    ]


DEEP_HTML = [
    ("deep-1k", b"<div>" * 1_000 + "깊은 곳의 문장입니다. Deep text survives.".encode() + b"</div>" * 1_000),
    ("deep-10k", b"<div>" * 10_000 + "깊은 곳의 문장입니다.".encode() + b"</div>" * 10_000),
    ("deep-100k-unclosed", b"<span><b>" * 100_000 + "닫히지 않은 태그 속 글.".encode()),
    ("deep-1m-empty", b"<div>" * 1_000_000),
    ("table-nest-5k", b"<table><tr><td>" * 5_000 + b"cell" + b"</td></tr></table>" * 5_000),
    ("comment-only", b"<!--" + b"x" * 100_000 + b"-->"),
    ("script-only", b"<html><head><script>" + b"var a=1;" * 10_000 + b"</script></head><body></body></html>"),
    ("broken-tags", b"<<<>>><p <p <a href=<<>" * 2_000),
    ("nul-in-html", b"<html><body><p>abc\x00def</p>\x00\x00</body></html>"),
    ("huge-attribute", b'<p title="' + b"a" * 2_000_000 + b'">x</p>'),
]
DEEP_JSON = [
    ("deep-array-100k", b"[" * 100_000 + b"]" * 100_000),
    ("deep-object-50k", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
    ("unterminated", '{"items": [{"title": "서울"'.encode()),
    ("bare-scalar", b"42"),
    ("nan-and-huge-int", b'{"a": NaN, "b": ' + b"9" * 5_000 + b"}"),
]
PDF_SPECIALS = [
    ("pdf-header-only", b"%PDF-1.7\n"),
    ("pdf-no-xref", pdf_bytes(["no xref here"]).split(b"xref")[0]),
    ("pdf-page-cycle", pdf_bytes(["cycle"]).replace(b"/Kids [4 0 R]", b"/Kids [4 0 R 2 0 R]")),
    ("pdf-self-parent", pdf_bytes(["loop"]).replace(b"/Parent 2 0 R", b"/Parent 4 0 R")),
    ("pdf-huge-count", pdf_bytes(["count"]).replace(b"/Count 1", b"/Count 999999999")),
    ("pdf-bad-length", pdf_bytes(["length"]).replace(b"/Length ", b"/Length 99999")),
    ("pdf-bad-filter", pdf_bytes(["filter"]).replace(b"<< /Length", b"<< /Filter /FlateDecode /Length")),
    ("pdf-no-pages", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"),
]


def make_inputs(folder: Path, count: int = 240, seed: int = 2026) -> list[FuzzInput]:
    """`count` inputs (at least the fixed cases: about 170) written into `folder`."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    base = seeds()
    made: list[FuzzInput] = []

    def add(kind: str, mutation: str, data: bytes) -> None:
        path = folder / f"{len(made):03d}-{mutation}.{kind}"
        path.write_bytes(data)
        made.append(FuzzInput(path, kind, mutation))

    for kind in base:
        add(kind, "empty", b"")
    for kind in ("pdf", "docx", "hwp", "hwpx", "png"):
        add(kind, "text-renamed", base["txt"])  # a text file under the wrong suffix
    for kind in ZIP_MAIN_PART:
        for mutation, data in zip_mutations(kind, base[kind], rng):
            add(kind, mutation, data)
    for kind in TEXTUAL:
        for mutation, data in text_mutations(kind, base[kind], rng):
            add(kind, mutation, data)
    # One huge line of distinct words (~60 chunks to embed: about a minute on 2 cores).
    add("txt", "huge-line-60k-distinct", " ".join(rng.choice(WORDS) for _ in range(12_000)).encode())
    for mutation, data in DEEP_HTML:
        add("html", mutation, data)
    for mutation, data in DEEP_JSON:
        add("json", mutation, data)
    for mutation, data in PDF_SPECIALS:
        add("pdf", mutation, data)
    hwp = base["hwp"]
    add("hwp", "hwp3-header", b"HWP Document File V3.00 \x1a\x01\x02\x03\x04\x05" + rng.randbytes(512))
    add("hwp", "ole-header-only", hwp[:512])
    add("hwp", "ole-zero-body", hwp[:512] + bytes(len(hwp) - 512))
    # Random byte-level damage to the binary formats until `count` is reached.
    while len(made) < count:
        kind = rng.choice(BINARY)
        mutation = rng.choice(list(BYTE_MUTATIONS))
        add(kind, mutation, BYTE_MUTATIONS[mutation](base[kind], rng))
    return made


def sample_inputs(folder: Path) -> list[tuple[FuzzInput, str]]:
    """Eleven inputs every one of which must be refused, with a fragment of the expected reason:
    the test suite's sample (tests/loaders/test_fuzz_sample.py)."""
    rng = random.Random(14)
    base = seeds()
    folder.mkdir(parents=True, exist_ok=True)
    docx_part = ZIP_MAIN_PART["docx"]
    cases = [
        ("pdf", "empty", b"", "Cannot read an empty file"),
        ("pdf", "truncate", base["pdf"][:200], "unreadable PDF"),
        ("docx", "zip-bomb", zip_bomb(base["docx"]), "like a zip bomb; refused"),
        ("docx", "zip-directory-gone", base["docx"][: base["docx"].rfind(b"PK\x01\x02")], "not a valid .docx"),
        ("xlsx", "part-entity-bomb", rezip(base["xlsx"], {ZIP_MAIN_PART["xlsx"]: ENTITY_BOMB}), "not a valid .xlsx"),
        ("pptx", "zip-10001-parts", crowded_zip(base["pptx"]), "parts (more than 10,000)"),
        ("hwp", "ole-zero-body", base["hwp"][:512] + bytes(len(base["hwp"]) - 512), "not a valid .hwp"),
        ("hwpx", "part-100k-deep", rezip(base["hwpx"], {ZIP_MAIN_PART["hwpx"]: deep_xml(100_000)}), "nested more than 256 levels"),
        ("html", "deep-1m-empty", b"<div>" * 1_000_000, "document is empty"),
        ("txt", "invalid-bytes", b"\xff\xff\x80" * 100, "cannot decode text"),
        ("docx", "part-lying-size", lying_zip(base["docx"], docx_part), "Bad CRC-32"),
    ]
    made = []
    for n, (kind, mutation, data, reason) in enumerate(cases):
        path = folder / f"{n:02d}-{mutation}.{kind}"
        path.write_bytes(data)
        made.append((FuzzInput(path, kind, mutation), reason))
    return made


# ---- running -----------------------------------------------------------------------------------
class _CurrentStderr:
    """A stream that writes to whatever sys.stderr is now, so logging follows redirect_stderr."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def check(outcome: Outcome) -> Outcome:
    """Fill `outcome.problems` with the rules it breaks."""
    if outcome.traceback:
        outcome.problems.append("traceback")
    if outcome.code not in (0, 1):
        outcome.problems.append(f"exit {outcome.code}")
    lines = outcome.stderr.splitlines()
    if outcome.code == 1:
        expected_start = f"rag-app: error: {outcome.input.path}: "
        if len(lines) != 2 or not lines[0].startswith(expected_start) or "1 failed" not in lines[1]:
            outcome.problems.append(f"not one error line: {lines[:4]!r}")
    elif outcome.code == 0 and (len(lines) != 1 or "source(s) in collection" not in lines[0]):
        outcome.problems.append(f"stderr beyond the summary: {lines[:4]!r}")
    if any("\n" in message or "\r" in message for message in outcome.messages):
        outcome.problems.append("an error message spans lines (the CLI escapes it; the SDK's report, the app and the API show it as is)")
    return outcome


def run_in_process(inputs: list[FuzzInput], home: Path) -> list[Outcome]:
    """Each input through `rag_app.cli.main` in this process."""
    import traceback

    from rag_app import cli

    raw: list[str] = []
    escaping_fail = cli._fail

    def recording_fail(message: str) -> None:  # the message as the SDK reported it, then as the CLI prints it
        raw.append(message)
        escaping_fail(message)

    cli._fail = recording_fail
    logging.basicConfig(level=logging.WARNING, format="rag-app: %(levelname)s: %(message)s", stream=_CurrentStderr())
    outcomes = []
    for item in inputs:
        out, err = io.StringIO(), io.StringIO()
        started = time.perf_counter()
        escaped = False
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            raw.clear()
            try:
                code = cli.main(["ingest", str(item.path), "--home", str(home), "-c", COLLECTION])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # noqa: BLE001 - exactly what the fuzz run looks for
                escaped = True
                code = None
                traceback.print_exc()
        seconds = time.perf_counter() - started
        stderr = err.getvalue()
        outcome = Outcome(item, code, seconds, out.getvalue(), stderr, escaped or "Traceback" in stderr, messages=list(raw))
        outcomes.append(check(outcome))
        if len(outcomes) % 40 == 0:
            print(f"  {len(outcomes)}/{len(inputs)} in process", file=sys.stderr, flush=True)
    cli._fail = escaping_fail
    return outcomes


def rag_app_command() -> list[str]:
    script = Path(sys.executable).with_name("rag-app")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rag_app.cli"]


# A child's peak RSS starts at its parent's (Linux counts the memory shared at fork), and this
# process holds a loaded app: each rag-app is started by this small launcher instead, which reports
# the peak RSS of the one process it ran (wait4) on its last stderr line.
_LAUNCHER = """
import os, subprocess, sys
process = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(process.pid, 0)
process.returncode = os.waitstatus_to_exitcode(status)
print(f"peak_rss_kb={usage.ru_maxrss}", file=sys.stderr)
sys.exit(process.returncode)
"""


def run_cli(inputs: list[FuzzInput], home: Path, timeout: float = 600) -> list[Outcome]:
    """Each input through a fresh `rag-app ingest` process (started by _LAUNCHER, which measures
    that process's own peak RSS); one that runs past `timeout` seconds is killed (exit -9)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_APP_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONIOENCODING="utf-8")
    outcomes = []
    for item in inputs:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            started = time.perf_counter()
            command = [sys.executable, "-c", _LAUNCHER, *rag_app_command(), "ingest", str(item.path), "--home", str(home), "-c", COLLECTION]
            process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=str(ROOT), start_new_session=True)
            try:
                code = process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)  # the launcher and the rag-app it started
                code = process.wait()
            seconds = time.perf_counter() - started
            out.seek(0), err.seek(0)
            stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
        peak = None
        lines = stderr.splitlines()
        if lines and lines[-1].startswith("peak_rss_kb="):  # the launcher's line, not rag-app's
            peak = int(lines.pop().split("=", 1)[1])
            stderr = "".join(line + "\n" for line in lines)
        outcome = Outcome(item, code, seconds, stdout, stderr, "Traceback" in stderr)
        outcome.peak_rss_kb = peak
        outcomes.append(check(outcome))
    return outcomes


# ---- the table -----------------------------------------------------------------------------------
def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))] if ordered else 0.0


def table(label: str, outcomes: list[Outcome], peak_rss_mb: float) -> str:
    codes = Counter("traceback" if o.code is None else str(o.code) for o in outcomes)
    times = [o.seconds for o in outcomes]
    slowest = max(outcomes, key=lambda o: o.seconds) if outcomes else None
    bombs = [o.peak_rss_kb for o in outcomes if o.peak_rss_kb is not None and "bomb" in o.input.mutation]
    rows = [
        ("inputs", f"{len(outcomes)} ({len({o.input.kind for o in outcomes})} formats, {len({o.input.mutation for o in outcomes})} kinds of damage)"),
        ("tracebacks", str(sum(o.traceback for o in outcomes))),
        ("exit codes", ", ".join(f"{code}: {n}" for code, n in sorted(codes.items()))),
        ("rule breaks", str(sum(bool(o.problems) for o in outcomes))),
        ("safety net", f"{sum(o.unforeseen for o in outcomes)} (refused in one line, but through loaders.limits' net for errors a reader did not foresee)"),
        ("total time", f"{sum(times):.1f} s"),
        ("p95 time", f"{p95(times):.2f} s"),
        ("slowest", f"{slowest.seconds:.2f} s ({slowest.input.path.name})" if slowest else "-"),
        ("peak RSS", f"{peak_rss_mb:,.0f} MB"),
    ]
    if bombs:
        rows.append(("peak RSS, bombs", f"{max(bombs) / 1024:,.0f} MB (largest of {len(bombs)} zip/entity-bomb processes)"))
    width = max(len(name) for name, _ in rows)
    lines = [f"## {label}", ""] + [f"{name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


def by_format(outcomes: list[Outcome]) -> str:
    kinds = sorted({o.input.kind for o in outcomes})
    lines = ["", f"{'format':<7} {'inputs':>6} {'exit 0':>6} {'exit 1':>6} {'other':>5} {'p95 s':>6}"]
    for kind in kinds:
        mine = [o for o in outcomes if o.input.kind == kind]
        codes = Counter(o.code for o in mine)
        other = len(mine) - codes[0] - codes[1]
        lines.append(f"{kind:<7} {len(mine):>6} {codes[0]:>6} {codes[1]:>6} {other:>5} {p95([o.seconds for o in mine]):>6.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=240, help="inputs to generate (default 240; at least the ~170 fixed cases)")
    parser.add_argument(
        "--cli", type=int, default=40,
        help="of them, how many also run as a rag-app subprocess: every bomb and deep-nesting input, then random ones (default 40)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", type=Path, help="write the inputs here and keep them (default: a temporary folder)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="rag-fuzz-"))
    folder = args.keep or workdir / "inputs"
    try:
        inputs = make_inputs(folder, args.count, args.seed)
        print(f"{len(inputs)} inputs in {folder}", file=sys.stderr)
        in_process = run_in_process(inputs, workdir / "home-sdk")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(table("rag_app.cli.main in one process", in_process, peak))
        print(by_format(in_process))
        # Every bomb and deep-nesting input runs as its own process (its peak memory is its own),
        # then random others up to --cli.
        hostile = [item for item in inputs if any(word in item.mutation for word in ("bomb", "deep", "10001", "lying"))]
        others = [item for item in inputs if item not in hostile]
        sample = (hostile + random.Random(args.seed).sample(others, len(others)))[: max(args.cli, len(hostile))]
        subprocesses = run_cli(sample, workdir / "home-cli")
        peak_cli = max((o.peak_rss_kb or 0 for o in subprocesses), default=0) / 1024
        print()
        print(table("rag-app ingest, one fresh process per input (peak RSS: the largest process)", subprocesses, peak_cli))
        broken = [o for o in in_process + subprocesses if o.problems]
        unforeseen = [o for o in in_process if o.unforeseen]
        print()
        if unforeseen:
            print("## refused through the safety net (a reader's unexpected exception; worth fixing in that reader)")
            for outcome in unforeseen:
                print(f"{outcome.input.path.name}: {outcome.stderr.splitlines()[0][len('rag-app: error: '):][:200]}")
            print()
        if broken:
            print("## inputs that broke a rule")
            for outcome in broken:
                print(f"{outcome.input.path.name}: {'; '.join(outcome.problems)}")
                print("   " + outcome.stderr.strip().replace("\n", "\n   ")[:2000])
        else:
            print("no input broke a rule: no traceback, exit 0 or 1, one error line per refused input")
        return 1 if broken else 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
