"""loaders.load_source / expand_sources on real files, a real HTTP server and real SQLite files."""

from __future__ import annotations

import shutil
import sqlite3
import unicodedata
from pathlib import Path

import pytest

from conftest import ARTICLE_HTML, make_corrupt_pdf, make_encrypted_pdf
from loaders import LoaderError, RagError, expand_sources, load_source

KO_TEXT = "한국어 문서는 형태소 분석이 필요하다. 조사가 명사에 붙기 때문이다."


# ---- text and markdown ------------------------------------------------------------------------
def test_markdown_title_from_heading_and_metadata(tmp_path):
    path = tmp_path / "note.md"
    path.write_text("Intro line\n\n# 검색 증강 생성 ##\n\n본문 내용이다.\n", encoding="utf-8")
    docs = load_source(str(path))
    assert len(docs) == 1
    assert docs[0].metadata == {"source": str(path), "source_type": "markdown", "title": "검색 증강 생성"}
    assert "본문 내용이다." in docs[0].page_content


def test_text_file_title_is_stem_and_newlines_unified(tmp_path):
    path = tmp_path / "plain_notes.txt"
    path.write_bytes("첫 줄\r\n둘째 줄\r셋째 줄\x07\n".encode("utf-8"))
    [doc] = load_source(str(path))
    assert doc.metadata == {"source": str(path), "source_type": "text", "title": "plain_notes"}
    assert doc.page_content == "첫 줄\n둘째 줄\n셋째 줄\n"


def test_markdown_without_heading_uses_stem(tmp_path):
    path = tmp_path / "no_heading.markdown"
    path.write_text("## 둘째 수준 제목\n내용\n", encoding="utf-8")
    [doc] = load_source(str(path))
    assert doc.metadata["title"] == "no_heading"
    assert doc.metadata["source_type"] == "markdown"


def test_cp949_text_is_decoded(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes(KO_TEXT.encode("cp949"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the fixture really is not UTF-8
    [doc] = load_source(str(path))
    assert doc.page_content == KO_TEXT


def test_utf8_bom_is_stripped(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeff" .encode("utf-8") + KO_TEXT.encode("utf-8"))
    [doc] = load_source(str(path))
    assert doc.page_content == KO_TEXT


def test_nfd_text_becomes_nfc(tmp_path):
    nfd = unicodedata.normalize("NFD", KO_TEXT)
    assert nfd != KO_TEXT
    path = tmp_path / "mac.txt"
    path.write_text(nfd, encoding="utf-8")
    [doc] = load_source(str(path))
    assert doc.page_content == KO_TEXT
    assert unicodedata.is_normalized("NFC", doc.page_content)


def test_empty_text_file_is_an_error(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(LoaderError, match="empty") as info:
        load_source(str(path))
    assert str(path) in str(info.value)
    assert info.value.source == str(path)


def test_whitespace_only_text_file_is_an_error(tmp_path):
    path = tmp_path / "blank.md"
    path.write_text("  \n\n\t \n", encoding="utf-8")
    with pytest.raises(LoaderError, match="empty"):
        load_source(str(path))


def test_missing_file_is_an_error(tmp_path):
    missing = tmp_path / "nowhere.txt"
    with pytest.raises(LoaderError, match="file not found") as info:
        load_source(str(missing))
    assert str(missing) in str(info.value)
    assert isinstance(info.value, RagError)


def test_missing_file_with_unsupported_suffix_says_not_found(tmp_path):
    with pytest.raises(LoaderError, match="file not found"):
        load_source(str(tmp_path / "nowhere.docx"))


def test_unsupported_suffix_is_an_error(tmp_path):
    path = tmp_path / "report.odt"
    path.write_bytes(b"PK\x03\x04 an OpenDocument file")
    with pytest.raises(LoaderError, match="unsupported file type '.odt'") as info:
        load_source(str(path))
    assert str(path) in str(info.value)
    assert ".pdf" in str(info.value)  # names what is supported


def test_unsupported_url_scheme_is_an_error():
    with pytest.raises(LoaderError, match="unsupported URL scheme 'ftp'"):
        load_source("ftp://127.0.0.1/file.txt")


# ---- directories ------------------------------------------------------------------------------
def test_expand_sources_recursive_skips_hidden_and_unsupported(tmp_path):
    root = tmp_path / "docs"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".hidden_dir").mkdir()
    supported = ("a.md", "sub/b.txt", "sub/deeper/c.pdf", "sub/page.HTML", "z.markdown", "sub/data.csv", "sub/보고서.hwpx")
    for rel in supported:
        (root / rel).write_text("x", encoding="utf-8")
    for rel in (".git/config.md", ".hidden_dir/d.txt", ".secret.md", "clip.mp4", "sub/notes.odt", "noext"):
        (root / rel).write_text("x", encoding="utf-8")
    expanded = expand_sources([str(root)])
    assert expanded == sorted(str(root / rel) for rel in supported)


def test_expand_sources_passes_through_files_urls_and_db_urls(tmp_path):
    file = tmp_path / "one.txt"
    file.write_text("x", encoding="utf-8")
    sources = [str(file), "http://127.0.0.1:9/x", "sqlite:///db.sqlite", str(tmp_path / "missing.md")]
    assert expand_sources(sources) == sources


def test_directory_without_supported_files_is_an_error(tmp_path):
    empty_dir = tmp_path / "only_videos"
    empty_dir.mkdir()
    (empty_dir / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    assert expand_sources([str(empty_dir)]) == [str(empty_dir)]
    with pytest.raises(LoaderError, match="no supported files in directory") as info:
        load_source(str(empty_dir))
    assert str(empty_dir) in str(info.value)


# ---- PDF --------------------------------------------------------------------------------------
def test_korean_pdf_one_document_per_page(pdf_dir):
    path = pdf_dir / "ko" / "korean_texts_two_page.pdf"
    docs = load_source(str(path))
    assert [doc.metadata["page"] for doc in docs] == [1, 2]
    for doc in docs:
        assert doc.metadata["source"] == str(path)
        assert doc.metadata["source_type"] == "pdf"
        assert isinstance(doc.metadata["title"], str) and doc.metadata["title"]
    assert "제1조(목적)" in docs[0].page_content
    assert "보험계약" in docs[0].page_content
    assert unicodedata.is_normalized("NFC", docs[1].page_content)


def test_english_pdf_single_page(pdf_dir):
    path = pdf_dir / "en" / "baseball_1.pdf"
    [doc] = load_source(str(path))
    assert doc.metadata["page"] == 1
    assert doc.metadata["source_type"] == "pdf"
    assert "Layout of the Field" in doc.page_content
    assert "90-foot square" in doc.page_content


def test_encrypted_pdf_is_an_error(tmp_path):
    path = make_encrypted_pdf(tmp_path / "locked.pdf")
    with pytest.raises(LoaderError, match="encrypted") as info:
        load_source(str(path))
    assert str(path) in str(info.value)
    assert "secret" not in str(info.value)


def test_corrupt_pdf_is_an_error(tmp_path):
    path = make_corrupt_pdf(tmp_path / "broken.pdf")
    with pytest.raises(LoaderError) as info:
        load_source(str(path))
    assert str(path) in str(info.value)
    assert "PDF" in str(info.value)


def test_pdf_without_text_is_an_error(tmp_path):
    from pypdf import PdfWriter

    path = tmp_path / "scan.pdf"
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    with path.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(LoaderError, match="no extractable text"):
        load_source(str(path))


# ---- HTML file and URL ------------------------------------------------------------------------
def _assert_article_only(text: str) -> None:
    assert "형태소 분석기는 어절을 의미를 가진 가장 작은 단위인 형태소로 나누고" in text
    assert "사용자 사전을 추가하면" in text
    assert "aardvarkian tokenizer" in text
    assert "재현율이 크게 높아진다" in text
    assert "Zebracrumbmenu" not in text  # <nav>
    assert "Quetzalfooterco" not in text  # <footer>


def test_html_file_keeps_main_text_drops_boilerplate(tmp_path):
    path = tmp_path / "guide.html"
    path.write_text(ARTICLE_HTML, encoding="utf-8")
    [doc] = load_source(str(path))
    _assert_article_only(doc.page_content)
    assert doc.metadata == {"source": str(path), "source_type": "html", "title": "형태소 분석 안내서"}


def test_html_url_from_local_server(http_base, http_root):
    (http_root / "guide.html").write_text(ARTICLE_HTML, encoding="utf-8")
    url = f"{http_base}/guide.html"
    [doc] = load_source(url)
    _assert_article_only(doc.page_content)
    assert doc.metadata["source"] == url
    assert doc.metadata["source_type"] == "url"
    assert doc.metadata["title"] == "형태소 분석 안내서"


def test_plain_text_url(http_base, http_root):
    (http_root / "note.txt").write_text(KO_TEXT, encoding="utf-8")
    url = f"{http_base}/note.txt"
    [doc] = load_source(url)
    assert doc.page_content == KO_TEXT
    assert doc.metadata["source"] == url and doc.metadata["source_type"] == "url"


def test_html_url_without_charset_header_uses_meta_charset(http_base, http_root):
    """Content-Type "text/html" with no charset: the page's <meta charset="utf-8"> must win over
    the HTTP/1.1 default ISO-8859-1, or every Korean character turns into mojibake."""
    (http_root / "guide_nocharset.htm").write_text(ARTICLE_HTML, encoding="utf-8")
    url = f"{http_base}/guide_nocharset.htm"
    [doc] = load_source(url)
    _assert_article_only(doc.page_content)
    assert doc.metadata["title"] == "형태소 분석 안내서"


def test_plain_text_url_without_charset_header_is_utf8(http_base, http_root):
    (http_root / "note_nocharset.text").write_text(KO_TEXT, encoding="utf-8")
    [doc] = load_source(f"{http_base}/note_nocharset.text")
    assert doc.page_content == KO_TEXT


def test_http_404_is_an_error(http_base):
    url = f"{http_base}/does-not-exist.html"
    with pytest.raises(LoaderError, match="HTTP 404") as info:
        load_source(url)
    assert info.value.source == url
    assert url in str(info.value)


def test_unreachable_url_is_an_error():
    url = "http://127.0.0.1:1/x"
    with pytest.raises(LoaderError, match="cannot fetch URL") as info:
        load_source(url)
    assert str(info.value).startswith(url)


def test_pdf_over_http(pdf_dir, http_base, http_root):
    shutil.copy(pdf_dir / "ko" / "korean_texts_two_page.pdf", http_root / "policy.pdf")
    url = f"{http_base}/policy.pdf"
    docs = load_source(url)
    assert [doc.metadata["page"] for doc in docs] == [1, 2]
    assert all(doc.metadata["source"] == url for doc in docs)
    assert all(doc.metadata["source_type"] == "pdf" for doc in docs)
    assert "제1조(목적)" in docs[0].page_content


def test_unsupported_content_type_url(http_base, http_root):
    (http_root / "blob.bin").write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(LoaderError, match="unsupported content type"):
        load_source(f"{http_base}/blob.bin")


# ---- SQL --------------------------------------------------------------------------------------
@pytest.fixture()
def notes_db(tmp_path) -> Path:
    path = tmp_path / "notes.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (note_id INTEGER PRIMARY KEY, title TEXT, body TEXT, lang TEXT)")
        connection.executemany(
            "INSERT INTO notes VALUES (?, ?, ?, ?)",
            [
                (10, "형태소", "형태소 분석기는 어절을 나눈다.", "ko"),
                (20, "BM25", "BM25 ranks documents by term frequency.", "en"),
                (35, "빈 언어", "언어 칸이 비어 있다.", None),
            ],
        )
        connection.execute("CREATE TABLE tags (name TEXT)")
    connection.close()
    return path


def test_sqlite_table_one_document_per_row(notes_db):
    url = f"sqlite:///{notes_db}"
    docs = load_source(url, table="notes")
    assert len(docs) == 3
    assert [doc.metadata["row_id"] for doc in docs] == ["10", "20", "35"]
    assert all(doc.metadata["source"] == f"{url}#notes" for doc in docs)
    assert all(doc.metadata["source_type"] == "sql" and doc.metadata["title"] == "notes" for doc in docs)
    assert docs[0].page_content == "note_id: 10\ntitle: 형태소\nbody: 형태소 분석기는 어절을 나눈다.\nlang: ko"
    assert "lang" not in docs[2].page_content  # NULL columns are left out


def test_sqlite_query(notes_db):
    url = f"sqlite:///{notes_db}"
    docs = load_source(url, query="SELECT title, body FROM notes WHERE lang = 'en'")
    assert len(docs) == 1
    assert docs[0].page_content == "title: BM25\nbody: BM25 ranks documents by term frequency."
    assert docs[0].metadata["source"] == f"{url}#query"
    assert docs[0].metadata["row_id"] == "1"


def test_sqlite_missing_table_lists_tables(notes_db):
    with pytest.raises(LoaderError, match="no table 'nosuch'") as info:
        load_source(f"sqlite:///{notes_db}", table="nosuch")
    assert "notes" in str(info.value) and "tags" in str(info.value)


def test_sqlite_needs_table_or_query(notes_db):
    with pytest.raises(LoaderError, match="--table NAME or --query SQL") as info:
        load_source(f"sqlite:///{notes_db}")
    assert "notes" in str(info.value) and "tags" in str(info.value)


def test_sqlite_table_and_query_together_is_an_error(notes_db):
    with pytest.raises(LoaderError, match="not both"):
        load_source(f"sqlite:///{notes_db}", table="notes", query="SELECT 1")


def test_sqlite_bad_query_is_an_error(notes_db):
    with pytest.raises(LoaderError, match="database error"):
        load_source(f"sqlite:///{notes_db}", query="SELECT * FROM nosuch_table")


def test_sqlite_empty_table_is_an_error(notes_db):
    with pytest.raises(LoaderError, match="no rows"):
        load_source(f"sqlite:///{notes_db}", table="tags")


def test_sqlite_missing_file_is_an_error_and_not_created(tmp_path):
    missing = tmp_path / "absent.db"
    with pytest.raises(LoaderError, match="database file not found") as info:
        load_source(f"sqlite:///{missing}", table="notes")
    assert str(missing) in str(info.value)
    assert not missing.exists()


def test_sqlite_missing_directory_is_an_error():
    with pytest.raises(LoaderError, match="database file not found"):
        load_source("sqlite:////nonexistent/dir/x.db", table="t")
    assert not Path("/nonexistent/dir/x.db").exists()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://reader:hunter2@127.0.0.1:1/library",
        "postgresql+psycopg://reader:hunter2@127.0.0.1:1/library",
    ],
)
def test_database_password_never_in_error(url):
    """Unreachable server, and possibly no driver installed: either way a LoaderError, password hidden."""
    with pytest.raises(LoaderError) as info:
        load_source(url, table="books")
    message = str(info.value)
    assert "hunter2" not in message
    assert "127.0.0.1" in message
    assert "hunter2" not in info.value.source
