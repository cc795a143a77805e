""".hwpx (zip of OWPML XML) and binary .hwp (HWP 5.0) loaders on files written in the test."""

from __future__ import annotations

import sys
import unicodedata
import zipfile

import pytest

from loaders import LoaderError, load_source

HP = "http://www.hancom.co.kr/hwpml/2011/paragraph"
HS = "http://www.hancom.co.kr/hwpml/2011/section"

VERSION_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>'
    '<hv:HCFVersion xmlns:hv="http://www.hancom.co.kr/hwpml/2011/version" tagetApplication="WORDPROCESSOR" '
    'major="5" minor="1" micro="0" buildNumber="1" os="1" xmlVersion="1.4" application="Hancom Office Hangul" '
    'appVersion="11, 0, 0, 0"/>'
)


def _content_hpf(title: str | None, sections: list[str]) -> str:
    title_xml = f"<dc:title>{title}</dc:title>" if title else "<opf:title/>"
    items = "".join(f'<opf:item id="s{i}" href="Contents/{name}" media-type="application/xml"/>' for i, name in enumerate(sections))
    spine = "".join(f'<opf:itemref idref="s{i}" linear="yes"/>' for i in range(len(sections)))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>'
        '<opf:package xmlns:opf="http://www.idpf.org/2007/opf/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<opf:metadata>{title_xml}<opf:language>ko</opf:language></opf:metadata>"
        f'<opf:manifest><opf:item id="header" href="Contents/header.xml" media-type="application/xml"/>{items}</opf:manifest>'
        f"<opf:spine>{spine}</opf:spine></opf:package>"
    )


def _p(inner: str) -> str:
    return f'<hp:p paraPrIDRef="0" styleIDRef="0"><hp:run charPrIDRef="0">{inner}</hp:run></hp:p>'


def _cell(text: str) -> str:
    return f'<hp:tc><hp:subList>{_p(f"<hp:t>{text}</hp:t>")}</hp:subList><hp:cellAddr colAddr="0" rowAddr="0"/></hp:tc>'


def _section(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes" ?><hs:sec xmlns:hs="{HS}" xmlns:hp="{HP}">{body}</hs:sec>'


SECTION0 = _section(
    _p('<hp:secPr id=""/><hp:ctrl><hp:header><hp:subList>' + _p("<hp:t>머리말은 빠진다</hp:t>") + "</hp:subList></hp:header></hp:ctrl>")
    + _p("<hp:t>1. 개요</hp:t>")
    + _p("<hp:t>한글 문서는 </hp:t></hp:run><hp:run charPrIDRef=\"1\"><hp:t>여러 run으로<hp:tab/>나뉜다.</hp:t>")
    + _p(
        '<hp:tbl rowCnt="2" colCnt="2">'
        f"<hp:tr>{_cell('구분')}{_cell('내용')}</hp:tr>"
        f"<hp:tr>{_cell('검색')}{_cell('BM25 &amp; 벡터')}</hp:tr>"
        "</hp:tbl>"
    )
    + _p("<hp:t>표 다음 문단.</hp:t>")
)
# Deliberately stored as section10 to check numeric (not string) and manifest ordering.
SECTION10 = _section(_p("<hp:t>" + unicodedata.normalize("NFD", "둘째 구역") + "</hp:t>"))


def write_hwpx(path, *, title: str | None = "사업 계획서", sections: dict[str, str] | None = None, spine=None):
    sections = sections if sections is not None else {"section0.xml": SECTION0, "section10.xml": SECTION10}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/hwp+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("version.xml", VERSION_XML)
        archive.writestr("Contents/content.hpf", _content_hpf(title, spine if spine is not None else list(sections)))
        for name, xml in sections.items():
            archive.writestr(f"Contents/{name}", xml)
    return path


# ---- .hwpx ------------------------------------------------------------------------------------
def test_hwpx_paragraphs_tables_sections_and_title(tmp_path):
    path = write_hwpx(tmp_path / "plan.hwpx")
    with zipfile.ZipFile(path) as archive:  # the package is valid: mimetype first and stored
        first = archive.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
    [doc] = load_source(str(path))
    assert doc.metadata == {"source": str(path), "source_type": "hwpx", "title": "사업 계획서"}
    assert doc.page_content.splitlines() == [
        "1. 개요",
        "한글 문서는 여러 run으로\t나뉜다.",
        "구분 | 내용",
        "검색 | BM25 & 벡터",
        "표 다음 문단.",
        "둘째 구역",
    ]
    assert "머리말" not in doc.page_content
    assert unicodedata.is_normalized("NFC", doc.page_content)


def test_hwpx_sections_follow_the_manifest_spine_and_title_falls_back_to_stem(tmp_path):
    path = write_hwpx(
        tmp_path / "순서.hwpx",
        title=None,
        sections={"section0.xml": _section(_p("<hp:t>가</hp:t>")), "section1.xml": _section(_p("<hp:t>나</hp:t>"))},
        spine=["section1.xml", "section0.xml"],
    )
    [doc] = load_source(str(path))
    assert doc.page_content == "나\n가"
    assert doc.metadata["title"] == "순서"


def test_hwpx_without_manifest_orders_sections_by_number(tmp_path):
    path = tmp_path / "bare.hwpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/hwp+zip")
        archive.writestr("Contents/section10.xml", _section(_p("<hp:t>열</hp:t>")))
        archive.writestr("Contents/section2.xml", _section(_p("<hp:t>둘</hp:t>")))
    [doc] = load_source(str(path))
    assert doc.page_content == "둘\n열"
    assert doc.metadata["title"] == "bare"


def test_hwpx_written_by_python_hwpx(tmp_path):
    hwpx = pytest.importorskip("hwpx")
    document = hwpx.HwpxDocument.new()
    document.add_paragraph("라이브러리로 만든 문서")
    table = document.add_table(1, 2)
    table.set_cell_text(0, 0, "왼쪽")
    table.set_cell_text(0, 1, "오른쪽")
    path = tmp_path / "made.hwpx"
    document.save_to_path(str(path))
    [doc] = load_source(str(path))
    assert doc.page_content == "라이브러리로 만든 문서\n왼쪽 | 오른쪽"
    assert doc.metadata["title"] == "made"  # the library writes an empty <opf:title/>


@pytest.mark.parametrize("content", [b"", b"not a zip at all"])
def test_hwpx_corrupt_names_source(tmp_path, content):
    path = tmp_path / "broken.hwpx"
    path.write_bytes(content)
    with pytest.raises(LoaderError, match="not a valid .hwpx") as info:
        load_source(str(path))
    assert info.value.source == str(path)


def test_hwpx_without_sections_broken_xml_and_empty_text(tmp_path):
    no_sections = tmp_path / "nosec.hwpx"
    with zipfile.ZipFile(no_sections, "w") as archive:
        archive.writestr("mimetype", "application/hwp+zip")
    with pytest.raises(LoaderError, match=r"no Contents/section\*\.xml"):
        load_source(str(no_sections))

    broken = write_hwpx(tmp_path / "badxml.hwpx", sections={"section0.xml": "<hs:sec><unclosed>"})
    with pytest.raises(LoaderError, match="broken XML in Contents/section0.xml") as info:
        load_source(str(broken))
    assert info.value.source == str(broken)

    empty = write_hwpx(tmp_path / "empty.hwpx", sections={"section0.xml": _section(_p("<hp:t>  </hp:t>"))})
    with pytest.raises(LoaderError, match="empty"):
        load_source(str(empty))


# ---- .hwp (binary HWP 5.0) --------------------------------------------------------------------
def _write_hwp(path):
    hwpx = pytest.importorskip("hwpx")
    document = hwpx.HwpxDocument.new()
    document.add_paragraph("한국어 첫 문단입니다.")
    document.add_paragraph("두 번째 문단: 검색 증강 생성.")
    table = document.add_table(2, 2)
    for (row, col), value in {(0, 0): "이름", (0, 1): "값", (1, 0): "온도", (1, 1): "25도"}.items():
        table.set_cell_text(row, col, value)
    document.add_paragraph("표 다음 문단.")
    document.save_to_path(str(path))  # the .hwp suffix makes python-hwpx write HWP 5.0
    return path


def test_hwp_binary_text_and_table(tmp_path):
    path = _write_hwp(tmp_path / "공문.hwp")
    assert path.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE compound file, not a zip
    [doc] = load_source(str(path))
    assert doc.metadata == {"source": str(path), "source_type": "hwp", "title": "공문"}
    assert doc.page_content.splitlines() == [
        "한국어 첫 문단입니다.",
        "두 번째 문단: 검색 증강 생성.",
        "이름 | 값",
        "온도 | 25도",
        "표 다음 문단.",
    ]


def test_hwp_that_is_really_hwpx_is_read_as_hwpx(tmp_path):
    path = write_hwpx(tmp_path / "renamed.hwp")
    [doc] = load_source(str(path))
    assert doc.metadata["source_type"] == "hwpx"
    assert doc.page_content.startswith("1. 개요\n")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not a valid .hwp"),
        (b"random bytes that are no HWP", "not a valid .hwp"),
        (b"HWP Document File V3.00 \x1a\x01\x02\x03\x04\x05", "HWP 3.0 files are not supported"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "not a valid .hwp"),
    ],
)
def test_hwp_corrupt_names_source(tmp_path, content, reason):
    pytest.importorskip("hwpx")
    path = tmp_path / "broken.hwp"
    path.write_bytes(content)
    with pytest.raises(LoaderError, match=reason) as info:
        load_source(str(path))
    assert info.value.source == str(path)


def test_hwp_truncated_file_is_an_error(tmp_path):
    path = _write_hwp(tmp_path / "whole.hwp")
    truncated = tmp_path / "truncated.hwp"
    truncated.write_bytes(path.read_bytes()[:1500])
    with pytest.raises(LoaderError, match="not a valid .hwp") as info:
        load_source(str(truncated))
    assert info.value.source == str(truncated)


def test_hwp_without_python_hwpx_names_the_install_command(tmp_path, monkeypatch):
    path = tmp_path / "x.hwp"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    for name in [m for m in sys.modules if m == "hwpx" or m.startswith("hwpx.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "hwpx", None)  # makes `import hwpx...` raise ImportError
    with pytest.raises(LoaderError, match=r"pip install python-hwpx==6\.9\.0") as info:
        load_source(str(path))
    assert info.value.source == str(path)


@pytest.mark.parametrize(
    ("flag", "reason"),
    [(0x02, "password-protected; remove the password"), (0x04, r"distribution \(배포용\) document")],
)
def test_hwp_protected_documents_are_refused_with_the_fix(tmp_path, flag, reason):
    """FileHeader property bits (HWP 5.0 spec): bit 1 = password, bit 2 = distribution document."""
    data = bytearray(_write_hwp(tmp_path / "plain.hwp").read_bytes())
    header = data.find(b"HWP Document File")  # the FileHeader stream's signature inside the compound file
    assert header > 0 and data[header + 36] & 0x06 == 0
    data[header + 36] |= flag
    path = tmp_path / "protected.hwp"
    path.write_bytes(bytes(data))
    with pytest.raises(LoaderError, match=reason) as info:
        load_source(str(path))
    assert info.value.source == str(path)
