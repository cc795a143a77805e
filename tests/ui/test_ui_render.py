"""The chat app's pure parts: answer/source/ingestion HTML, upload and URL checks, interface text,
command-line options, per-session settings and the shared app pool. No browser needed."""

import re
import string
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from rag_app import ui
from rag_app.ui import render
from rag_app.ui.text import TEXT, t

REPO = Path(__file__).resolve().parents[2]


def answer_dict(**overrides):
    answer = {
        "question": "RAG는 어떻게 작동하나요?",
        "answer": "RAG는 문서를 검색한다. [1] 그리고 답을 생성한다. [2]",
        "abstained": False,
        "citations": [
            {"n": 1, "source": "/docs/rag.md", "title": "RAG 개요", "page": None, "text": "서론. RAG는 문서를 검색한다. 끝.",
             "score": 0.9, "location": None, "link": "file:///docs/rag.md"},
            {"n": 2, "source": "https://example.com/gen", "title": None, "page": None, "text": "LLM이 답을 생성한다.",
             "score": 0.5, "location": None, "link": "https://example.com/gen"},
        ],
        "sentences": [
            {"text": "RAG는 문서를 검색한다.", "citations": [1], "support": 1.0, "supported": True},
            {"text": "그리고 답을 생성한다.", "citations": [2], "support": 0.2, "supported": False},
        ],
        "warning": None,
        "provider": "openai:gpt-4o-mini",
        "rewritten_query": None,
        "steps": [],
    }
    answer.update(overrides)
    return answer


def chips(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<button type="button" class="cite-chip" data-turn="(\d+)" data-n="(\d+)"', html)


# ---- answers ------------------------------------------------------------------------------
def test_markers_become_clickable_chips_that_name_their_turn():
    html = render.render_answer(answer_dict(), turn=3, lang="ko")
    assert chips(html) == [("3", "1"), ("3", "2")]
    assert "[1]" not in html and "[2]" not in html
    assert 'title="출처 1 보기: RAG 개요"' in html
    assert 'title="출처 2 보기: https://example.com/gen"' in html  # untitled: named by its source
    assert 'class="bubble answer answered"' in html and 'data-abstained="false"' in html


def test_weakly_supported_sentences_are_marked_with_a_tooltip_and_a_legend():
    html = render.render_answer(answer_dict(), turn=0, lang="ko")
    sentences = re.findall(r'<span class="sentence( unsupported)?"( title="([^"]*)")?>(.*?)</span>(?=<span|$|</p>| )', html)
    assert len(sentences) == 2
    (first_cls, _, _, first), (second_cls, _, tip, second) = sentences
    assert first_cls == "" and first.startswith("RAG는 문서를 검색한다.")
    assert second_cls == " unsupported" and second.startswith("그리고 답을 생성한다.")
    assert tip == "인용된 문서로 충분히 뒷받침되지 않는 문장입니다 (20%)"
    assert '<p class="legend">밑줄 친 문장은 근거가 약합니다.</p>' in html
    english = render.render_answer(answer_dict(), turn=0, lang="en")
    assert "not well supported by the cited documents (20%)" in english


def test_fully_supported_answer_has_no_marks_and_shows_warning_rewrite_and_steps():
    supported = [dict(s, supported=True, support=0.9) for s in answer_dict()["sentences"]]
    html = render.render_answer(
        answer_dict(
            sentences=supported, warning="주의: 확인 필요", rewritten_query="RAG 장점은?",
            steps=[{"tool": "search_documents", "input": {"query": "RAG 장점"}, "passages": [1]}],
        ),
        turn=0, lang="ko",
    )
    assert "unsupported" not in html and "legend" not in html
    assert '<p class="answer-warning">⚠ 주의: 확인 필요</p>' in html
    assert "검색한 질문: RAG 장점은?" in html
    assert "에이전트 검색 1단계" in html and "<code>search_documents</code>" in html and "RAG 장점" in html


def test_markers_without_a_citation_stay_plain_text():
    html = render.render_answer(answer_dict(answer="답이다. [1] 다른 말이다. [7]", sentences=[]), turn=0, lang="ko")
    assert chips(html) == [("0", "1")]
    assert '<span class="cite-marker">[7]</span>' in html


def test_punctuation_after_a_marker_goes_before_the_chip():
    html = render.render_answer(answer_dict(answer="검색한다 [1]. 생성한다 [2]!", sentences=[]), turn=0, lang="ko")
    assert re.search(r"검색한다\. <button[^>]*data-n=\"1\"[^>]*>1</button>", html)
    assert re.search(r"생성한다! <button[^>]*data-n=\"2\"", html)


def test_several_markers_and_line_breaks_are_kept():
    text = "첫째 항목이다. [1][2]\n\n둘째 항목이다. [2]"
    html = render.render_answer(answer_dict(answer=text, sentences=[]), turn=1, lang="ko")
    assert chips(html) == [("1", "1"), ("1", "2"), ("1", "2")]
    assert "<br><br>" in html


def test_abstention_has_its_own_class_and_no_chips():
    html = render.render_answer(
        answer_dict(answer="제공된 문서에서 이 질문에 대한 답을 찾을 수 없습니다.", abstained=True, citations=[], sentences=[]),
        turn=0, lang="ko",
    )
    assert 'class="bubble answer abstained"' in html and 'data-abstained="true"' in html
    assert "답을 찾지 못함" in html and "제공된 문서에서" in html
    assert not chips(html) and "answered" not in html


def test_everything_from_documents_and_users_is_escaped():
    evil = '<img src=x onerror="alert(1)">'
    html = render.render_answer(
        answer_dict(
            answer=f"위험한 {evil} 문장이다. [1]",
            citations=[dict(answer_dict()["citations"][0], title='"><script>x</script>')],
            sentences=[],
        ),
        turn=0, lang="ko",
    )
    assert "<img" not in html and "<script" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    turn = render.render_turn(0, {"question": evil, "answer": None, "text": "", "error": None}, "ko")
    assert "<img" not in turn and "답변을 찾는 중" in turn
    source = render.render_source(
        answer_dict(citations=[dict(answer_dict()["citations"][0], text=f"본문 {evil}", source=evil)]), 1, "ko"
    )
    assert "<img" not in source


def test_conversation_streaming_error_and_empty_states():
    assert 'class="rag-conversation empty"' in render.render_conversation([], "ko")
    assert "Ask anything" in render.render_conversation([], "en")
    turns = [
        {"question": "질문1", "text": "스트리밍 중인", "answer": None, "error": None},
        {"question": "질문2", "text": "", "answer": None, "error": "collection 'x' is empty; add documents first"},
    ]
    html = render.render_conversation(turns, "ko")
    assert html.count('class="turn"') == 2
    assert 'class="bubble answer streaming"' in html and "스트리밍 중인" in html
    assert 'class="bubble answer error"' in html and "collection &#x27;x&#x27; is empty" in html


# ---- the cited source ---------------------------------------------------------------------
def test_source_panel_highlights_the_quoted_sentence():
    html = render.render_source(answer_dict(), 1, "ko")
    assert 'data-n="1"' in html and '<strong class="source-title">RAG 개요</strong>' in html
    assert '서론. <mark class="support">RAG는 문서를 검색한다.</mark> 끝.' in html
    assert 'href="file:///docs/rag.md"' in html


def test_source_panel_finds_a_paraphrased_sentence_with_the_lexical_judge():
    citation = dict(
        answer_dict()["citations"][0],
        text="서울은 인구가 많다. 대한민국의 수도는 서울이다. 부산은 항구 도시이다.",
    )
    answer = answer_dict(
        citations=[citation], sentences=[{"text": "한국의 수도는 서울입니다.", "citations": [1], "support": 0.8, "supported": True}]
    )
    html = render.render_source(answer, 1, "ko")
    assert '<mark class="support">대한민국의 수도는 서울이다.</mark>' in html
    assert html.count("<mark") == 1


def test_no_highlight_when_nothing_in_the_chunk_supports_the_sentence():
    assert render.support_spans("고양이는 귀엽다. 개는 충성스럽다.", ["양자 컴퓨터는 큐비트를 쓴다."]) == []
    assert render.support_spans("A. B. C.", ["B.", "A. B."]) == [(0, 5)]  # overlapping spans merge


def test_source_panel_without_a_selection_shows_a_hint():
    assert "답변의 번호 버튼을 누르면" in render.render_source(None, None, "ko")
    assert "Click a citation number" in render.render_source(answer_dict(), 9, "en")


@pytest.mark.parametrize(
    "location, lang, expected",
    [("page 3", "ko", "3쪽"), ("page 3", "en", "page 3"), ("slide 5", "ko", "슬라이드 5"), ("row 17", "ko", "17행"),
     ("02:03", "ko", "02:03 지점"), ("1:02:03", "en", "at 1:02:03"), (None, "ko", None)],
)
def test_locations_in_the_interface_language(location, lang, expected):
    assert render.localize_location(location, lang) == expected


def test_links_the_browser_can_open(tmp_path):
    uploads = tmp_path / "uploads"
    pdf = uploads / "docs" / "보고서 1.pdf"
    assert render.source_href("https://www.youtube.com/watch?v=abc&t=83s") == "https://www.youtube.com/watch?v=abc&t=83s"
    served = render.source_href(pdf.as_uri() + "#page=2", [uploads])
    assert served.startswith("/gradio_api/file=") and served.endswith("#page=2")
    assert "%20" in served and str(uploads) in served.replace("%20", " ").replace("%EB%B3%B4%EA%B3%A0%EC%84%9C", "보고서")
    assert render.source_href((tmp_path / "elsewhere.md").as_uri(), [uploads]).startswith("file://")
    assert render.source_href("javascript:alert(1)") is None
    assert render.source_href(None) is None


# ---- knowledge base -----------------------------------------------------------------------
SUPPORTED = {".pdf", ".md", ".txt", ".html"}


def test_upload_checks_say_what_is_wrong():
    assert render.check_upload("report.PDF", 1000, 10, SUPPORTED, "ko") is None
    bad = render.check_upload("setup.exe", 1000, 10, SUPPORTED, "ko")
    assert bad == "지원하지 않는 파일 형식입니다 (.exe). 지원 형식: .html, .md, .pdf, .txt"
    assert "Unsupported file type (?)" in render.check_upload("Makefile", 10, 10, SUPPORTED, "en")
    assert render.check_upload("big.pdf", 3 * 1024 * 1024, 2, SUPPORTED, "ko") == "파일이 너무 큽니다 (3.0 MB). 최대 2 MB까지 올릴 수 있습니다."
    assert render.check_upload("empty.txt", 0, 2, SUPPORTED, "ko") == "빈 파일입니다."


def test_only_web_and_youtube_urls_are_accepted():
    text = "https://example.com/a\n\n  youtube:dQw4w9WgXcQ \nhttps://youtu.be/abc\n/etc/passwd\nsqlite:///app.db\nfile:///etc/hosts"
    urls, refused = render.parse_urls(text, "ko")
    assert urls == ["https://example.com/a", "youtube:dQw4w9WgXcQ", "https://youtu.be/abc"]
    assert [line for line, _ in refused] == ["/etc/passwd", "sqlite:///app.db", "file:///etc/hosts"]
    assert all("웹 주소" in why for _, why in refused)


def test_ingestion_results_one_row_per_source():
    from rag_app.app import SourceReport

    reports = [
        SourceReport("/u/a.pdf", "added", chunks=3, embedded=3),
        SourceReport("/u/b.md", "unchanged", chunks=2),
        SourceReport("/u/c.md", "updated", chunks=4, embedded=1, removed=1),
        SourceReport("x.exe", "failed", error="지원하지 않는 파일 형식입니다 (.exe)."),
    ]
    html = render.render_reports(reports, "ko", display=lambda s: Path(s).name)
    rows = re.findall(r'<tr class="ingest-result status-(\w+)">(.*?)</tr>', html)
    assert [status for status, _ in rows] == ["added", "unchanged", "updated", "failed"]
    assert "a.pdf" in rows[0][1] and "추가됨" in rows[0][1] and "청크 3개 (3개 새로 임베딩)" in rows[0][1]
    assert "변경 없음 (건너뜀)" in rows[1][1]
    assert "실패" in rows[3][1] and "지원하지 않는 파일 형식" in rows[3][1]
    assert render.render_reports([], "ko") == ""


def test_sources_table_has_a_remove_button_per_source():
    infos = [
        SimpleNamespace(source='/u/"odd".pdf', chunks=3, source_type="pdf", title="보고서"),
        SimpleNamespace(source="https://example.com/a", chunks=1, source_type="html", title=None),
    ]
    html = render.render_sources_table(infos, "ko", display=lambda s: s.rsplit("/", 1)[-1])
    buttons = re.findall(r'<button type="button" class="remove-source" data-source="([^"]*)"', html)
    assert buttons == ["/u/&quot;odd&quot;.pdf", "https://example.com/a"]
    assert 'data-confirm="이 출처를 컬렉션에서 삭제할까요?"' in html
    assert '<td class="source-chunks">3</td>' in html and "보고서" in html
    assert "아직 출처가 없습니다" in render.render_sources_table([], "ko")


# ---- interface text -----------------------------------------------------------------------
def test_every_text_exists_in_both_languages_with_the_same_placeholders():
    assert TEXT["ko"].keys() == TEXT["en"].keys()
    fields = lambda s: {name for _, name, _, _ in string.Formatter().parse(s) if name}  # noqa: E731
    for key in TEXT["ko"]:
        assert fields(TEXT["ko"][key]) == fields(TEXT["en"][key]), key
    assert t("fr", "send") == "보내기"  # unknown language: Korean


def test_chip_and_remove_scripts_use_gradio_custom_events():
    assert "trigger('cite'" in render.CHIP_JS and "trigger('remove'" in render.REMOVE_JS
    assert "isComposing" in render.IME_GUARD and "keypress" in render.IME_GUARD


# ---- command line -------------------------------------------------------------------------
def test_serve_options_are_safe_by_default():
    from rag_app.cli import build_parser

    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.share, args.auth, args.lang, args.max_upload_mb) == ("127.0.0.1", 7860, False, None, "ko", 50.0)
    args = build_parser().parse_args(
        ["serve", "--host", "0.0.0.0", "--port", "8000", "--share", "--auth", "me:pw", "--lang", "en", "--max-upload-mb", "5",
         "--collection", "samples", "--provider", "openai"]
    )
    assert (args.host, args.port, args.share, args.auth, args.lang, args.max_upload_mb) == ("0.0.0.0", 8000, True, "me:pw", "en", 5.0)


def test_auth_parsing():
    assert ui.parse_auth(None) is None
    assert ui.parse_auth("me:p:w") == [("me", "p:w")]
    assert ui.parse_auth("a:1, b:2") == [("a", "1"), ("b", "2")]
    from rag_app.errors import ConfigError

    with pytest.raises(ConfigError, match="USER:PASS"):
        ui.parse_auth("nopassword")


def test_bad_auth_is_a_one_line_error_before_anything_starts(capsys, monkeypatch):
    from rag_app.cli import main

    monkeypatch.setenv("RAG_APP_AUTH", "broken")
    assert main(["serve", "--home", "/nonexistent-never-created"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rag-app: error: --auth / RAG_APP_AUTH must be USER:PASS") and err.count("\n") == 1
    assert not Path("/nonexistent-never-created").exists()


def test_importing_the_ui_module_does_not_import_gradio():
    code = "import sys, rag_app.cli, rag_app.ui; rag_app.cli.build_parser(); print('gradio' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "False"


# ---- sessions, uploads, collections -------------------------------------------------------
def test_safe_filenames():
    assert ui.safe_filename("../../etc/passwd") == "passwd"
    assert ui.safe_filename("C:\\Users\\me\\보고서.pdf") == "보고서.pdf"
    assert ui.safe_filename(".hidden.md") == "hidden.md"
    assert ui.safe_filename('a<b>"c".txt') == "abc.txt"
    assert ui.safe_filename("..") == "upload"


def test_collections_are_listed_from_home(tmp_path):
    from indexes.catalogue import Catalogue, default_url

    assert ui.list_collections(tmp_path) == []
    assert not (tmp_path / "catalogue.sqlite").exists()  # listing creates nothing
    for name in ("beta", "회사규정"):
        catalogue = Catalogue(default_url(tmp_path), name)
        with catalogue.write_lock():
            catalogue.commit_write([], [{"source": "a.txt", "source_type": "text", "title": "a"}], [], None)
    half_made = Catalogue(default_url(tmp_path), "half-made")
    with half_made.write_lock():
        half_made.record_settings({"embedder": "hash"})  # settings only, never written to
    assert ui.list_collections(tmp_path) == ["beta", "회사규정"]


def test_session_settings_and_keys(tmp_path):
    from pydantic import SecretStr

    from rag_app.config import Settings

    session = ui.UISession.from_settings(Settings(home=tmp_path, provider="openai", base_url="http://127.0.0.1:9/v1"), "ko")
    assert session.provider == "openai-compatible" and session.sdk_provider == "openai"
    assert session.settings_update()["base_url"] == "http://127.0.0.1:9/v1"
    session.keys["openai"] = SecretStr("sk-abc123")
    assert session.key_update() == {"openai_api_key": SecretStr("sk-abc123")}
    assert "sk-abc123" not in repr(session)
    assert session.redact("bad key sk-abc123 rejected") == "bad key *** rejected"
    session.provider = "gemini"
    assert session.key_update() == {}  # an OpenAI key never goes to Gemini
    session.provider = "extractive"
    assert session.settings_update()["provider"] == "extractive"


def test_app_pool_shares_apps_but_never_a_sessions_key(tmp_path, monkeypatch):
    from pydantic import SecretStr

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    from rag_app.config import Settings

    pool = ui.AppPool(Settings(home=tmp_path, collection="docs"), max_apps=2)
    first, second = ui.UISession(lang="ko", collection="docs"), ui.UISession(lang="ko", collection="docs")
    assert pool.get(first) is pool.get(second)
    second.collection = "other"
    other = pool.get(second)
    assert other is not pool.get(first) and other.collection == "other"

    keyed = ui.UISession(lang="ko", collection="docs", provider="openai")
    keyed.keys["openai"] = SecretStr("sk-session-only")
    own = pool.get(keyed)
    assert own.settings.openai_api_key.get_secret_value() == "sk-session-only"
    assert pool.get(keyed) is own  # kept for the session
    plain = ui.UISession(lang="ko", collection="docs", provider="openai")
    shared = pool.get(plain)
    assert shared is not own and shared.settings.openai_api_key is None
    assert all(app.settings.openai_api_key is None for app in pool._apps.values())

    third = ui.UISession(lang="ko", collection="third")
    pool.get(third)
    assert len(pool._apps) == 2  # the least recently used app was let go


def test_unsupported_sentence_shows_the_judges_reason():
    sentences = [dict(s) for s in answer_dict()["sentences"]]
    sentences[1]["reason"] = "30일: 근거에 없음 (근거: 7일)"
    html = render.render_answer(answer_dict(sentences=sentences), turn=0, lang="ko")
    assert 'title="인용된 문서로 충분히 뒷받침되지 않는 문장입니다 (20%): 30일: 근거에 없음 (근거: 7일)"' in html
    assert '<small class="reason">30일: 근거에 없음 (근거: 7일)</small>' in html


def test_highlight_finds_a_sentence_the_pdf_wrapped_over_two_lines():
    chunk = "Brief\nThe protocol was signed in 1987 by the Council in\nGeneva.\nMembers meet yearly."
    start, end = render.support_spans(chunk, ["The protocol was signed in 1987 by the Council in Geneva."])[0]
    assert chunk[start:end] == "The protocol was signed in 1987 by the Council in\nGeneva."
