""".docx / .pptx / .xlsx / .csv loaders on real files written in the test by the real libraries."""

from __future__ import annotations

import datetime as dt
import sys
import unicodedata
import zipfile

import pytest

from loaders import LoaderError, load_source

docx = pytest.importorskip("docx")
pptx = pytest.importorskip("pptx")
openpyxl = pytest.importorskip("openpyxl")


# ---- .docx ------------------------------------------------------------------------------------
def _write_docx(path, title=None):
    document = docx.Document()
    if title:
        document.core_properties.title = title
    document.add_heading("검색 증강 생성 개요", level=1)
    document.add_paragraph("첫 번째 문단은 한국어 본문이다.")
    document.add_paragraph("")  # blank paragraphs are dropped
    table = document.add_table(rows=2, cols=3)
    for row, values in zip(table.rows, [("항목", "값", "비고"), ("온도", "25도", "")]):
        for cell, value in zip(row.cells, values):
            cell.text = value
    document.add_paragraph("Table is followed by an English paragraph.")
    document.save(str(path))
    return path


def test_docx_body_order_with_table_rows_and_core_title(tmp_path):
    path = _write_docx(tmp_path / "report.docx", title="분기 보고서")
    [doc] = load_source(str(path))
    assert doc.metadata == {"source": str(path), "source_type": "docx", "title": "분기 보고서"}
    assert doc.page_content.splitlines() == [
        "검색 증강 생성 개요",
        "첫 번째 문단은 한국어 본문이다.",
        "항목 | 값 | 비고",
        "온도 | 25도 | ",
        "Table is followed by an English paragraph.",
    ]


def test_docx_title_falls_back_to_stem_and_merged_cells_appear_once(tmp_path):
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 2))
    merged.text = "병합된 제목"
    for cell, value in zip(table.rows[1].cells, ["가", "나", "다"]):
        cell.text = value
    path = tmp_path / "병합표.docx"
    document.save(str(path))
    [doc] = load_source(str(path))
    assert doc.metadata["title"] == "병합표"
    assert doc.page_content == "병합된 제목\n가 | 나 | 다"


def test_docx_text_is_nfc(tmp_path):
    document = docx.Document()
    document.add_paragraph(unicodedata.normalize("NFD", "한글 자모"))
    path = tmp_path / "nfd.docx"
    document.save(str(path))
    [doc] = load_source(str(path))
    assert doc.page_content == "한글 자모"
    assert unicodedata.is_normalized("NFC", doc.page_content)


@pytest.mark.parametrize("content", [b"", b"this is not a zip file", b"PK\x03\x04broken"])
def test_docx_corrupt_names_source(tmp_path, content):
    path = tmp_path / "broken.docx"
    path.write_bytes(content)
    with pytest.raises(LoaderError, match="not a valid .docx") as info:
        load_source(str(path))
    assert info.value.source == str(path)
    assert str(info.value).startswith(f"{path}: ")


def test_docx_zip_without_document_part(tmp_path):
    path = tmp_path / "other.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not word")
    with pytest.raises(LoaderError, match="not a valid .docx"):
        load_source(str(path))


def test_docx_without_text_is_empty_error(tmp_path):
    path = tmp_path / "blank.docx"
    docx.Document().save(str(path))
    with pytest.raises(LoaderError, match="empty") as info:
        load_source(str(path))
    assert info.value.source == str(path)


# ---- .pptx ------------------------------------------------------------------------------------
def _write_pptx(path):
    from pptx.util import Inches

    presentation = pptx.Presentation()
    presentation.core_properties.title = "발표 자료"
    # 1: title slide with notes
    slide = presentation.slides.add_slide(presentation.slide_layouts[0])
    slide.shapes.title.text = "하이브리드 검색"
    slide.placeholders[1].text = "BM25와 밀집 벡터"
    slide.notes_slide.notes_text_frame.text = "발표자 노트: 천천히 설명할 것"
    # 2: blank slide with a table and a group holding a text box
    slide = presentation.slides.add_slide(presentation.slide_layouts[6])
    table = slide.shapes.add_table(2, 2, Inches(1), Inches(1), Inches(4), Inches(1)).table
    for (r, c), value in {(0, 0): "모델", (0, 1): "점수", (1, 0): "BM25", (1, 1): "0.71"}.items():
        table.cell(r, c).text = value
    group = slide.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(3), Inches(3), Inches(1)).text_frame.text = "그룹 안의 글상자"
    # 3: no text at all -> no Document, later slides keep their numbers
    presentation.slides.add_slide(presentation.slide_layouts[6])
    # 4: text only in the notes
    slide = presentation.slides.add_slide(presentation.slide_layouts[6])
    slide.notes_slide.notes_text_frame.text = "Notes only slide"
    presentation.save(str(path))
    return path


def test_pptx_one_document_per_slide_with_tables_groups_and_notes(tmp_path):
    path = _write_pptx(tmp_path / "deck.pptx")
    docs = load_source(str(path))
    assert [doc.metadata["page"] for doc in docs] == [1, 2, 4]
    assert {doc.metadata["title"] for doc in docs} == {"발표 자료"}
    assert {doc.metadata["source_type"] for doc in docs} == {"pptx"}
    assert docs[0].page_content == "하이브리드 검색\nBM25와 밀집 벡터\n\n발표자 노트: 천천히 설명할 것"
    assert docs[1].page_content == "모델 | 점수\nBM25 | 0.71\n그룹 안의 글상자"
    assert docs[2].page_content == "Notes only slide"
    assert docs[0].metadata == {
        "source": str(path),
        "source_type": "pptx",
        "title": "발표 자료",
        "page": 1,
    }


def test_pptx_title_falls_back_to_stem(tmp_path):
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = "제목만"
    path = tmp_path / "untitled_deck.pptx"
    presentation.save(str(path))
    [doc] = load_source(str(path))
    assert doc.metadata["title"] == "untitled_deck"
    assert doc.page_content == "제목만"


@pytest.mark.parametrize("content", [b"", b"\x00" * 100])
def test_pptx_corrupt_names_source(tmp_path, content):
    path = tmp_path / "broken.pptx"
    path.write_bytes(content)
    with pytest.raises(LoaderError, match="not a valid .pptx") as info:
        load_source(str(path))
    assert info.value.source == str(path)


def test_pptx_without_text_is_empty_error(tmp_path):
    presentation = pptx.Presentation()
    presentation.slides.add_slide(presentation.slide_layouts[6])
    path = tmp_path / "blank.pptx"
    presentation.save(str(path))
    with pytest.raises(LoaderError, match="empty"):
        load_source(str(path))


# ---- .xlsx ------------------------------------------------------------------------------------
def _write_xlsx(path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "가격표"
    sheet.append(["품목", "가격", "원산지"])
    sheet.append(["사과", 1200, "경북"])
    sheet.append(["배", 3000.0, None])  # empty cell skipped, integral float shown as int
    sheet.append([None, None, None])  # blank row skipped, row numbers keep counting
    sheet.append(["귤", "=1000+500", "제주"])  # a formula: no cached value (never opened in Excel)
    other = workbook.create_sheet("재고")
    other["B3"] = "창고"  # header starts at row 3, column B
    other["C3"] = "입고일"
    other["B4"] = "서울"
    other["C4"] = dt.datetime(2026, 3, 1)
    other["B5"] = "부산"
    other["C5"] = dt.datetime(2026, 3, 2, 14, 30)
    other["D5"] = "메모"  # a column without a header is named by its letter
    workbook.create_sheet("빈 시트")
    workbook.save(str(path))
    return path


def test_xlsx_rows_as_records_per_sheet(tmp_path):
    path = _write_xlsx(tmp_path / "stock.xlsx")
    docs = load_source(str(path))
    assert [doc.metadata["row_id"] for doc in docs] == ["가격표!2", "가격표!3", "가격표!5", "재고!4", "재고!5"]
    assert [doc.metadata["title"] for doc in docs] == ["가격표"] * 3 + ["재고"] * 2
    assert docs[0].page_content == "품목: 사과\n가격: 1200\n원산지: 경북"
    assert docs[1].page_content == "품목: 배\n가격: 3000"
    # data_only=True: a formula never calculated by Excel has no cached value, so the cell is empty
    assert docs[2].page_content == "품목: 귤\n원산지: 제주"
    assert docs[3].page_content == "창고: 서울\n입고일: 2026-03-01"
    assert docs[4].page_content == "창고: 부산\n입고일: 2026-03-02 14:30:00\nD: 메모"
    assert docs[0].metadata == {
        "source": str(path),
        "source_type": "xlsx",
        "title": "가격표",
        "row_id": "가격표!2",
    }


def test_xlsx_rows_after_a_wrong_dimension_tag_are_still_read(tmp_path):
    """Some writers leave <dimension ref="A1"/>; read-only mode would otherwise stop at row 1."""
    path = tmp_path / "dim.xlsx"
    workbook = openpyxl.Workbook()
    for row in (["이름", "점수"], ["김", 90], ["이", 85]):
        workbook.active.append(row)
    workbook.save(str(path))
    patched = tmp_path / "dim_patched.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(patched, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:B3"/>', b'<dimension ref="A1"/>')
                assert b'<dimension ref="A1"/>' in data
            target.writestr(item, data)
    docs = load_source(str(patched))
    assert [doc.page_content for doc in docs] == ["이름: 김\n점수: 90", "이름: 이\n점수: 85"]


def test_xlsx_header_only_is_an_error(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["헤더", "만"])
    path = tmp_path / "header_only.xlsx"
    workbook.save(str(path))
    with pytest.raises(LoaderError, match="no data rows") as info:
        load_source(str(path))
    assert info.value.source == str(path)


@pytest.mark.parametrize("content", [b"", b"garbage bytes, not a workbook"])
def test_xlsx_corrupt_names_source(tmp_path, content):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(content)
    with pytest.raises(LoaderError, match="not a valid .xlsx") as info:
        load_source(str(path))
    assert info.value.source == str(path)


# ---- .csv -------------------------------------------------------------------------------------
def test_csv_cp949_comma(tmp_path):
    path = tmp_path / "주소록.csv"
    text = "이름,부서,전화\r\n홍길동,개발팀,010-1234-5678\r\n김철수,,02-555-0000\r\n\r\n이영희,\"기획, 전략\",\r\n"
    path.write_bytes(text.encode("cp949"))
    docs = load_source(str(path))
    assert [doc.page_content for doc in docs] == [
        "이름: 홍길동\n부서: 개발팀\n전화: 010-1234-5678",
        "이름: 김철수\n전화: 02-555-0000",
        "이름: 이영희\n부서: 기획, 전략",
    ]
    assert [doc.metadata["row_id"] for doc in docs] == ["1", "2", "4"]
    assert docs[0].metadata == {"source": str(path), "source_type": "csv", "title": "주소록", "row_id": "1"}


def test_csv_utf8_bom_semicolon(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_bytes("\ufeff품목;가격\n사과;1.200\n배;3.000\n".encode("utf-8"))
    docs = load_source(str(path))
    assert [doc.page_content for doc in docs] == ["품목: 사과\n가격: 1.200", "품목: 배\n가격: 3.000"]
    assert [doc.metadata["row_id"] for doc in docs] == ["1", "2"]


def test_csv_utf8_tab_with_extra_column_and_nfc(tmp_path):
    path = tmp_path / "tabs.csv"
    rows = ["word\tmeaning", unicodedata.normalize("NFD", "한글") + "\tKorean script\textra"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    [doc] = load_source(str(path))
    assert doc.page_content == "word: 한글\nmeaning: Korean script\ncolumn3: extra"


def test_csv_euc_kr_beyond_the_sniff_sample(tmp_path):
    """The UTF-8 check covers the whole file, not only its start: a late CP949 byte still decides."""
    path = tmp_path / "late.csv"
    ascii_rows = "".join(f"row{i},value{i}\n" for i in range(20000))  # > 64 KiB of ASCII first
    path.write_bytes(b"key,value\n" + ascii_rows.encode("ascii") + "마지막,행\n".encode("euc-kr"))
    docs = load_source(str(path))
    assert len(docs) == 20001
    assert docs[-1].page_content == "key: 마지막\nvalue: 행"
    assert docs[-1].metadata["row_id"] == "20001"


def test_csv_empty_header_only_and_undecodable(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(LoaderError, match="empty") as info:
        load_source(str(empty))
    assert info.value.source == str(empty)

    header_only = tmp_path / "header.csv"
    header_only.write_text("a,b\n\n", encoding="utf-8")
    with pytest.raises(LoaderError, match="no data rows"):
        load_source(str(header_only))

    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"a,b\n\x80\x81\xff,\x80\n")
    with pytest.raises(LoaderError, match="cannot decode") as info:
        load_source(str(garbage))
    assert str(info.value) == f"{garbage}: cannot decode text (not UTF-8 or CP949/EUC-KR); save it as UTF-8"


def test_missing_office_file_is_not_found(tmp_path):
    with pytest.raises(LoaderError, match="file not found"):
        load_source(str(tmp_path / "nope.xlsx"))


def test_missing_library_names_the_install_command(tmp_path, monkeypatch):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"irrelevant")
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # makes `import openpyxl` raise ImportError
    with pytest.raises(LoaderError, match=r"needs openpyxl; run: pip install openpyxl==3\.1\.5") as info:
        load_source(str(path))
    assert info.value.source == str(path)
