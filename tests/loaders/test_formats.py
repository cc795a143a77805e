"""JSON / JSON Lines, source code, Jupyter notebooks, and OCR of images and scanned PDFs (Tesseract),
on real files written by the tests; OCR inputs are drawn with Pillow in a Korean font."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from loaders import SUPPORTED_SUFFIXES, LoaderError, expand_sources, load_source


# ---- JSON and JSON Lines ----------------------------------------------------------------------
def test_json_array_one_document_per_element_with_pointer(tmp_path):
    path = tmp_path / "members.json"
    records = [
        {"이름": "김민지", "주소": {"시": "서울", "구": "강남구"}, "관심사": ["독서", "등산"], "메모": None, "활성": True},
        {"이름": "Lee", "주문": [{"번호": 7, "금액": 12000.5}, {"번호": 8, "금액": 3000}], "비고": ""},
        "그냥 문자열",
    ]
    path.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    docs = load_source(str(path))
    assert [doc.page_content for doc in docs] == [
        "이름: 김민지\n주소.시: 서울\n주소.구: 강남구\n관심사: 독서, 등산\n활성: true",
        "이름: Lee\n주문[0].번호: 7\n주문[0].금액: 12000.5\n주문[1].번호: 8\n주문[1].금액: 3000",
        "그냥 문자열",
    ]
    assert [doc.metadata for doc in docs] == [
        {"source": str(path), "source_type": "json", "title": "members", "location": f"/{i}"} for i in range(3)
    ]


def test_json_object_keys_and_record_lists(tmp_path):
    path = tmp_path / "shops.json"
    data = {
        "제목": "지점 목록",
        "items": [{"지점": "강남점", "전화": "02-555-0101"}, {"지점": "부산점", "전화": "051-700-0202"}],
        "설정": {"통화": "KRW", "세율": 0.1},
        "a/b~c": [1, 2],
    }
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    docs = load_source(str(path))
    assert [(doc.metadata["location"], doc.page_content) for doc in docs] == [
        ("/제목", "제목: 지점 목록"),
        ("/items/0", "지점: 강남점\n전화: 02-555-0101"),
        ("/items/1", "지점: 부산점\n전화: 051-700-0202"),
        ("/설정", "설정.통화: KRW\n설정.세율: 0.1"),
        ("/a~1b~0c", "a/b~c: 1, 2"),  # RFC 6901 escapes "/" as ~1 and "~" as ~0
    ]


def test_jsonl_one_document_per_line(tmp_path):
    path = tmp_path / "faq.jsonl"
    path.write_text(
        '{"q": "환불 기간은?", "a": "7일 이내"}\n\n{"q": "배송비는?", "a": "3000원"}\n"한 줄 메모"\n', encoding="utf-8"
    )
    docs = load_source(str(path))
    assert [(doc.metadata["location"], doc.page_content) for doc in docs] == [
        ("line 1", "q: 환불 기간은?\na: 7일 이내"),
        ("line 3", "q: 배송비는?\na: 3000원"),  # the blank line 2 still counts
        ("line 4", "한 줄 메모"),
    ]
    assert {doc.metadata["source_type"] for doc in docs} == {"jsonl"}
    assert {doc.metadata["title"] for doc in docs} == {"faq"}


def test_json_lines_saved_as_json_are_read_line_by_line(tmp_path):
    path = tmp_path / "export.json"
    path.write_text('{"id": 1, "본문": "첫째"}\n{"id": 2, "본문": "둘째"}\n', encoding="utf-8")
    docs = load_source(str(path))
    assert [(doc.metadata["location"], doc.page_content) for doc in docs] == [
        ("line 1", "id: 1\n본문: 첫째"),
        ("line 2", "id: 2\n본문: 둘째"),
    ]


def test_invalid_json_names_file_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "a": 1,\n  "b": 2\n  "c": 3\n}\n', encoding="utf-8")
    with pytest.raises(LoaderError) as info:
        load_source(str(path))
    message = str(info.value)
    assert message == f"{path}: invalid JSON at line 4, column 3 (Expecting ',' delimiter); fix the file there"
    assert "\n" not in message


def test_invalid_jsonl_line_is_named(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"ok": 1}\n{"ok": 2,}\n', encoding="utf-8")
    with pytest.raises(LoaderError, match=r"invalid JSON on line 2, column 10 .*each line must be one complete JSON value"):
        load_source(str(path))


def test_empty_json_array_is_an_error(tmp_path):
    path = tmp_path / "nothing.json"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(LoaderError, match="empty"):
        load_source(str(path))


# ---- source code ------------------------------------------------------------------------------
PYTHON_SOURCE = '''"""Module docstring."""
import os

LIMIT = 3


# Adds two numbers.
@staticmethod
def add(a, b):
    return a + b


class Store:
    """A store."""

    def get(self, key):
        return key


async def fetch(url):
    return url

if __name__ == "__main__":
    print(add(1, 2))
'''


def test_python_split_on_top_level_definitions(tmp_path):
    path = tmp_path / "tools.py"
    path.write_text(PYTHON_SOURCE, encoding="utf-8")
    docs = load_source(str(path))
    assert [(d.metadata["location"], d.metadata.get("symbol")) for d in docs] == [
        ("lines 1-4", None),
        ("lines 7-10", "add"),  # the comment and the decorator above belong to the function
        ("lines 13-17", "Store"),
        ("lines 20-21", "fetch"),
        ("lines 23-24", None),
    ]
    assert docs[1].page_content == "# Adds two numbers.\n@staticmethod\ndef add(a, b):\n    return a + b"
    assert docs[4].page_content.startswith('if __name__ == "__main__":')
    for doc in docs:
        assert doc.metadata["source_type"] == "code"
        assert doc.metadata["language"] == "python"
        assert doc.metadata["title"] == "tools.py"


def test_python2_file_falls_back_to_keyword_split(tmp_path):
    path = tmp_path / "legacy.py"
    path.write_text('print "hello"\n\ndef main():\n    print "hi"\n\nclass Old:\n    pass\n', encoding="utf-8")
    docs = load_source(str(path))
    assert [(d.metadata["location"], d.metadata.get("symbol")) for d in docs] == [
        ("line 1", None),
        ("lines 3-4", "main"),
        ("lines 6-7", "Old"),
    ]


CODE_SAMPLES = {
    "app.ts": (
        "typescript",
        'import x from "y";\n\nexport interface User {\n  name: string;\n}\n\n'
        "export const greet = (u: User): string => {\n  return u.name;\n};\n\n"
        "// Entry point.\nexport default async function main() {\n  greet({ name: 'a' });\n}\n\n"
        "class Repo {\n  find() { return 1; }\n}\n",
        [(None, "line 1"), ("User", "lines 3-5"), ("greet", "lines 7-9"), ("main", "lines 11-14"), ("Repo", "lines 16-18")],
    ),
    "Shop.java": (
        "java",
        "package shop;\n\npublic class Shop {\n    private int count;\n\n    @Override\n    public String toString() {\n"
        '        return "shop";\n    }\n\n    public static void main(String[] args) {\n        new Shop();\n    }\n}\n',
        [(None, "line 1"), ("Shop", "lines 3-4"), ("toString", "lines 6-9"), ("main", "lines 11-14")],
    ),
    "server.go": (
        "go",
        'package main\n\nimport "fmt"\n\ntype Server struct {\n\tport int\n}\n\n'
        "func (s *Server) Start() error {\n\treturn nil\n}\n\nfunc main() {\n\tfmt.Println(1)\n}\n",
        [(None, "lines 1-3"), ("Server", "lines 5-7"), ("Start", "lines 9-11"), ("main", "lines 13-15")],
    ),
    "lib.rs": (
        "rust",
        "use std::fmt;\n\n/// A point.\n#[derive(Debug)]\npub struct Point {\n    x: i32,\n}\n\n"
        "impl Point {\n    pub fn new(x: i32) -> Self {\n        Point { x }\n    }\n}\n",
        [(None, "line 1"), ("Point", "lines 3-7"), ("Point", "line 9"), ("new", "lines 10-13")],
    ),
    "util.c": (
        "c",
        "#include <stdio.h>\n\nstatic int\ncount_words(const char *text)\n{\n    return 0;\n}\n\n"
        "struct node {\n    int value;\n};\n\nint main(void) {\n    return count_words(\"a\");\n}\n",
        [(None, "line 1"), ("count_words", "lines 3-7"), ("node", "lines 9-11"), ("main", "lines 13-15")],
    ),
    "schema.sql": (
        "sql",
        "-- 회원 테이블\nCREATE TABLE members (\n  id INTEGER PRIMARY KEY\n);\n\n"
        "create or replace view active_members as\n  select * from members;\n",
        [("members", "lines 1-4"), ("active_members", "lines 6-7")],
    ),
    "deploy.sh": (
        "shell",
        "#!/bin/sh\nset -e\n\nbuild() {\n  make\n}\n\nfunction deploy {\n  build\n}\n\ndeploy\n",
        [(None, "lines 1-2"), ("build", "lines 4-6"), ("deploy", "lines 8-12")],
    ),
}


@pytest.mark.parametrize("name", sorted(CODE_SAMPLES))
def test_code_split_on_definitions_by_language(tmp_path, name):
    language, text, expected = CODE_SAMPLES[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    docs = load_source(str(path))
    assert [(d.metadata.get("symbol"), d.metadata["location"]) for d in docs] == expected
    assert {d.metadata["language"] for d in docs} == {language}
    # Every non-blank line of the file is in exactly one Document, in order.
    assert [line for d in docs for line in d.page_content.splitlines() if line.strip()] == [
        line for line in text.splitlines() if line.strip()
    ]


def test_chunking_keeps_each_definition_apart(tmp_path):
    from indexes.chunking import chunk_documents

    path = tmp_path / "tools.py"
    path.write_text(PYTHON_SOURCE, encoding="utf-8")
    chunks = chunk_documents(load_source(str(path)), chunk_size=1000, chunk_overlap=100)
    # The whole file would fit in one 1,000-character chunk; definitions still stay separate.
    assert [c.metadata.get("symbol") for c in chunks] == [None, "add", "Store", "fetch", None]
    assert "class Store" not in chunks[1].page_content


# ---- Jupyter notebooks ------------------------------------------------------------------------
def _notebook(cells: list[dict], language: str = "python") -> dict:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "ir" if language == "R" else "python3", "language": language}},
        "cells": cells,
    }


def test_notebook_cells_with_language_and_cell_numbers(tmp_path):
    path = tmp_path / "analysis.ipynb"
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# 매출 분석\n", "\n", "월별 매출을 본다."]},
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": 1,
            "source": "import pandas as pd\ndf = pd.read_csv('sales.csv')",
            "outputs": [{"output_type": "stream", "name": "stdout", "text": ["출력결과는 건너뛴다\n"]}],
        },
        {"cell_type": "code", "metadata": {}, "execution_count": None, "source": [], "outputs": []},
        {"cell_type": "raw", "metadata": {}, "source": "원시 셀"},
        {"cell_type": "markdown", "metadata": {}, "source": "결측치는 중앙값으로 채운다."},
    ]
    path.write_text(json.dumps(_notebook(cells), ensure_ascii=False), encoding="utf-8")
    docs = load_source(str(path))
    assert [(d.metadata["location"], d.page_content) for d in docs] == [
        ("cell 1", "# 매출 분석\n\n월별 매출을 본다."),
        ("cell 2", "```python\nimport pandas as pd\ndf = pd.read_csv('sales.csv')\n```"),
        ("cell 4", "원시 셀"),  # the empty code cell 3 is skipped but still counted
        ("cell 5", "결측치는 중앙값으로 채운다."),
    ]
    assert docs[1].metadata == {
        "source": str(path), "source_type": "ipynb", "title": "매출 분석", "location": "cell 2", "language": "python",
    }
    assert "language" not in docs[0].metadata
    assert not any("출력결과" in d.page_content for d in docs)  # outputs are skipped


def test_notebook_kernel_language_labels_code(tmp_path):
    path = tmp_path / "stats.ipynb"
    cells = [{"cell_type": "code", "metadata": {}, "source": "summary(cars)", "outputs": [], "execution_count": 1}]
    path.write_text(json.dumps(_notebook(cells, language="R")), encoding="utf-8")
    [doc] = load_source(str(path))
    assert doc.page_content == "```r\nsummary(cars)\n```"
    assert doc.metadata["language"] == "r"
    assert doc.metadata["title"] == "stats"  # no Markdown heading: the file name


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"cells": [', r"invalid notebook JSON at line 1, column 12 .*open it in Jupyter and save it again"),
        ('{"metadata": {}}', r'not a Jupyter notebook \(no "cells" list\)'),
        ('{"worksheets": [], "nbformat": 3}', r"nbformat 3\); convert it: jupyter nbconvert --to notebook --nbformat 4"),
    ],
)
def test_bad_notebooks_are_errors(tmp_path, content, expected):
    path = tmp_path / "bad.ipynb"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LoaderError, match=expected) as info:
        load_source(str(path))
    assert str(info.value).startswith(f"{path}: ")


# ---- OCR: images and scanned PDFs -------------------------------------------------------------
def _korean_font() -> Path | None:
    """NanumGothic (fonts-nanum, which .ci/run installs), else any font fontconfig lists for Korean."""
    nanum = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")
    if nanum.is_file():
        return nanum
    try:
        listed = subprocess.run(["fc-list", ":lang=ko", "file"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        return None
    files = sorted(line.strip().rstrip(":") for line in listed.splitlines() if line.strip())
    return Path(files[0]) if files else None


KOREAN_FONT = _korean_font()
PAGE_ONE = ["환불 규정 안내", "구매 후 7일 이내에 환불을 신청할 수 있습니다.", "Refunds are processed within three business days."]
PAGE_TWO = ["배송 안내", "제주 지역은 배송비 3000원이 추가됩니다.", "Express shipping arrives the next morning."]


@pytest.fixture(scope="module")
def ocr_ready():
    from loaders.ocr import tesseract_missing

    missing = tesseract_missing()
    if missing:
        pytest.skip(f"Tesseract is not usable here: {missing}")
    if KOREAN_FONT is None:
        pytest.skip("no Korean font to draw the test scans; run: apt-get install fonts-nanum")


def _scan(lines: list[str]):
    """A white A4 page at 200 DPI with the lines drawn in black, as a scanner would deliver it."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(KOREAN_FONT), 44)
    page = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(page)
    for number, line in enumerate(lines):
        draw.text((150, 150 + number * 80), line, font=font, fill=0)
    return page


def _scanned_pdf(path: Path, pages: list[list[str]]) -> Path:
    # Pillow writes each page as one image and no text layer: exactly what a scanner produces.
    first, *rest = [_scan(lines) for lines in pages]
    first.save(path, save_all=True, append_images=rest, resolution=200)
    return path


def test_png_is_read_by_ocr(tmp_path, ocr_ready):
    path = tmp_path / "공지.png"
    _scan(PAGE_ONE).save(path)
    [doc] = load_source(str(path))
    assert doc.metadata == {"source": str(path), "source_type": "image", "title": "공지"}
    assert "환불 규정 안내" in doc.page_content
    assert "신청할 수 있습니다" in doc.page_content
    assert "Refunds are processed within three business days." in doc.page_content


def test_scanned_pdf_pages_are_read_by_ocr_with_page_numbers(tmp_path, ocr_ready):
    from pypdf import PdfReader

    path = _scanned_pdf(tmp_path / "scan.pdf", [PAGE_ONE, PAGE_TWO])
    assert all(not (page.extract_text() or "").strip() for page in PdfReader(path).pages)  # no text layer
    docs = load_source(str(path))
    assert [(d.metadata["page"], d.metadata["source_type"], d.metadata["title"]) for d in docs] == [
        (1, "pdf", "scan"),
        (2, "pdf", "scan"),
    ]
    assert "환불 규정 안내" in docs[0].page_content and "three business days" in docs[0].page_content
    assert "배송비 3000원" in docs[1].page_content and "Express shipping" in docs[1].page_content
    assert "배송" not in docs[0].page_content


def test_text_pdf_with_one_scanned_page_reads_only_that_page_by_ocr(tmp_path, pdf_dir, ocr_ready):
    from pypdf import PdfWriter

    text_pdf = pdf_dir / "ko" / "korean_texts_two_page.pdf"
    scan = _scanned_pdf(tmp_path / "scan.pdf", [PAGE_TWO])
    writer = PdfWriter()
    writer.append(str(text_pdf))
    writer.append(str(scan))
    mixed = tmp_path / "mixed.pdf"
    with mixed.open("wb") as handle:
        writer.write(handle)
    docs = load_source(str(mixed))
    assert [d.metadata["page"] for d in docs] == [1, 2, 3]
    assert "제1조(목적)" in docs[0].page_content
    assert "배송비 3000원" in docs[2].page_content


def test_multipage_tiff_gives_one_document_per_page(tmp_path, ocr_ready):
    path = tmp_path / "fax.tiff"
    _scan(PAGE_ONE).save(path, save_all=True, append_images=[_scan(PAGE_TWO)], compression="tiff_deflate")
    docs = load_source(str(path))
    assert [d.metadata.get("page") for d in docs] == [1, 2]
    assert "환불 규정 안내" in docs[0].page_content
    assert "Express shipping" in docs[1].page_content


def test_blank_image_is_an_error(tmp_path, ocr_ready):
    from PIL import Image

    path = tmp_path / "blank.jpg"
    Image.new("L", (800, 600), 255).save(path)
    with pytest.raises(LoaderError, match="OCR found no text in the image"):
        load_source(str(path))


def test_file_that_is_not_an_image_is_an_error(tmp_path):
    path = tmp_path / "fake.png"
    path.write_text("이건 그림이 아니다", encoding="utf-8")
    with pytest.raises(LoaderError, match="not a readable image .*save it as PNG or JPEG") as info:
        load_source(str(path))
    assert str(info.value).startswith(f"{path}: ")


@pytest.fixture()
def without_tesseract(tmp_path, monkeypatch):
    """PATH without the tesseract program (python stays reachable by its absolute path)."""
    empty = tmp_path / "empty_bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("tesseract") is None


def test_scanned_pdf_without_tesseract_names_the_packages(tmp_path, without_tesseract):
    from pypdf import PdfWriter

    path = tmp_path / "scan.pdf"
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    with path.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(LoaderError) as info:
        load_source(str(path))
    assert str(info.value) == (
        f"{path}: PDF has no extractable text (scanned images?); OCR needs Tesseract, which is not installed;"
        " run: apt-get install tesseract-ocr tesseract-ocr-kor"
    )


def test_image_without_tesseract_names_the_packages(tmp_path, without_tesseract):
    from PIL import Image

    path = tmp_path / "photo.png"
    Image.new("L", (100, 100), 255).save(path)
    with pytest.raises(LoaderError, match=r"run: apt-get install tesseract-ocr tesseract-ocr-kor$"):
        load_source(str(path))


def test_text_pdf_with_blank_page_without_tesseract_keeps_text_pages(tmp_path, pdf_dir, without_tesseract, caplog):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.append(str(pdf_dir / "ko" / "korean_texts_two_page.pdf"))
    writer.add_blank_page(width=595, height=842)
    path = tmp_path / "with_blank.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    with caplog.at_level(logging.WARNING, logger="loaders.pdf"):
        docs = load_source(str(path))
    assert [d.metadata["page"] for d in docs] == [1, 2]
    assert "1 page(s) without text skipped" in caplog.text


# ---- registration -----------------------------------------------------------------------------
def test_new_types_are_registered_and_listed_in_the_unsupported_type_error(tmp_path):
    for suffix in (".json", ".jsonl", ".ipynb", ".py", ".ts", ".java", ".go", ".sql", ".png", ".jpg", ".tiff"):
        assert suffix in SUPPORTED_SUFFIXES
    path = tmp_path / "movie.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    with pytest.raises(LoaderError, match="unsupported file type '.mp4'") as info:
        load_source(str(path))
    for suffix in (".json", ".ipynb", ".png", ".py"):
        assert f"{suffix}," in str(info.value) or str(info.value).endswith(suffix)


def test_directories_include_the_new_types(tmp_path):
    for name in ("data.json", "log.jsonl", "nb.ipynb", "main.py", "scan.png", "movie.mp4"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert expand_sources([str(tmp_path)]) == sorted(
        str(tmp_path / name) for name in ("data.json", "log.jsonl", "nb.ipynb", "main.py", "scan.png")
    )


# ---- end to end through the SDK ---------------------------------------------------------------
def test_sdk_ingests_json_and_notebook_and_cites_their_locations(tmp_path):
    from rag_app import RagApp

    shops = tmp_path / "지점.json"
    shops.write_text(
        json.dumps(
            {
                "items": [
                    {"지점": "강남점", "영업시간": "평일 오전 9시부터 오후 9시까지 영업한다."},
                    {"지점": "해운대점", "영업시간": "매일 오전 10시부터 오후 8시까지 영업하며 월요일은 쉰다."},
                ]
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    notebook = tmp_path / "정제.ipynb"
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "# 데이터 정제"},
        {"cell_type": "markdown", "metadata": {}, "source": "결측치는 각 열의 중앙값으로 채운다. 이상치는 3시그마 밖이면 제거한다."},
        {"cell_type": "code", "metadata": {}, "source": "df = df.fillna(df.median())", "outputs": [], "execution_count": 1},
    ]
    notebook.write_text(json.dumps(_notebook(cells), ensure_ascii=False), encoding="utf-8")

    app = RagApp(home=tmp_path / "home", collection="formats")
    reports = app.ingest([str(shops), str(notebook)])
    assert [(r.status, r.error) for r in reports] == [("added", None), ("added", None)]

    answer = app.ask("해운대점은 언제 쉬나요?")
    assert not answer.abstained
    assert "월요일" in answer.answer
    first = answer.citations[0]
    assert (first.source, first.location) == (str(shops.resolve()), "/items/1")

    answer = app.ask("결측치는 어떻게 채우나요?")
    assert not answer.abstained
    assert "중앙값" in answer.answer
    first = answer.citations[0]
    assert (first.source, first.location, first.title) == (str(notebook.resolve()), "cell 2", "데이터 정제")


def test_sdk_ingests_code_and_cites_the_definition_lines(tmp_path):
    from rag_app import RagApp

    code = tmp_path / "billing.py"
    code.write_text(
        "import math\n\n\n"
        "def convert_currency(amount, rate):\n"
        '    """원화 금액을 환율로 나누어 달러 금액으로 바꾼다."""\n'
        "    return amount / rate\n\n\n"
        "class Invoice:\n"
        '    """청구서는 고객 이름과 합계 금액을 담는다."""\n\n'
        "    def total(self):\n"
        "        return math.fsum(self.items)\n",
        encoding="utf-8",
    )
    server = tmp_path / "server.go"
    server.write_text(
        "package main\n\n// 서버는 8080 포트에서 요청을 받는다.\nfunc Listen() error {\n\treturn nil\n}\n", encoding="utf-8"
    )
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": 1,\n "b": }\n', encoding="utf-8")

    app = RagApp(home=tmp_path / "home", collection="code")
    reports = app.ingest([str(code), str(server), str(broken)])
    assert [r.status for r in reports] == ["added", "added", "failed"]
    assert reports[2].error == f"{broken}: invalid JSON at line 2, column 7 (Expecting value); fix the file there"

    answer = app.ask("원화 금액을 달러로 어떻게 바꾸나요?")
    assert not answer.abstained
    assert "달러 금액으로 바꾼다" in answer.answer
    first = answer.citations[0]
    assert (first.source, first.location, first.title) == (str(code.resolve()), "lines 4-6", "billing.py")

    answer = app.ask("서버는 몇 번 포트에서 요청을 받나요?")
    assert not answer.abstained
    first = answer.citations[0]
    assert (first.source, first.location) == (str(server.resolve()), "lines 3-6")
    records = app.store.get(_chroma_ids(app, str(server.resolve())))
    assert {(r["metadata"]["language"], r["metadata"].get("symbol")) for r in records.values()} == {
        ("go", None),
        ("go", "Listen"),
    }


def test_sdk_ingests_scanned_pdf_and_cites_its_page(tmp_path, ocr_ready):
    from rag_app import RagApp

    scan = _scanned_pdf(tmp_path / "안내문.pdf", [PAGE_ONE, PAGE_TWO])
    app = RagApp(home=tmp_path / "home", collection="scans")
    [report] = app.ingest([str(scan)])
    assert (report.status, report.error) == ("added", None)

    answer = app.ask("제주 지역 배송비는 얼마인가요?")
    assert not answer.abstained
    assert "3000원" in answer.answer
    first = answer.citations[0]
    assert (first.source, first.page, first.location) == (str(scan.resolve()), 2, "page 2")

    answer = app.ask("How long do refunds take to process?")
    assert not answer.abstained
    assert "three business days" in answer.answer
    assert answer.citations[0].page == 1


def _chroma_ids(app, source: str) -> list[str]:
    return app.store._collection().get(where={"source": source}, include=[])["ids"]


def test_image_without_korean_data_names_the_kor_package(tmp_path, monkeypatch):
    """A Tesseract that has only English data (a stand-in script answering --list-langs)."""
    from PIL import Image

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "tesseract"
    fake.write_text('#!/bin/sh\necho \'List of available languages in "/x/" (2):\'\necho eng\necho osd\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    path = tmp_path / "memo.png"
    Image.new("L", (100, 100), 255).save(path)
    with pytest.raises(LoaderError) as info:
        load_source(str(path))
    assert str(info.value) == f"{path}: Tesseract has no kor language data; run: apt-get install tesseract-ocr-kor"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000, "JSON nested too deeply to read"),
        ("deep.jsonl", "[" * 100_000 + "]" * 100_000 + "\n", "JSON nested too deeply to read"),
        ("big.json", '{"n": ' + "9" * 5000 + "}", "JSON value cannot be read (Exceeds the limit"),
    ],
)
def test_json_python_cannot_hold_is_one_line(tmp_path, name, content, message):
    from loaders import load_source
    from loaders.errors import LoaderError

    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LoaderError) as info:
        load_source(str(path))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_python_file_too_big_for_ast_falls_back_to_the_keyword_split(tmp_path):
    from loaders import load_source

    path = tmp_path / "long.py"
    path.write_text("def first():\n    return 1\n\nx = " + "1+" * 400_000 + "1\n", encoding="utf-8")
    docs = load_source(str(path))
    assert docs and docs[0].metadata["language"] == "python"
    assert "def first" in docs[0].page_content
