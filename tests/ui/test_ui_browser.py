"""The chat app in a real browser: Debian's Chromium (/usr/bin/chromium, never a downloaded one)
driven by Playwright, against the Gradio app launched in-process on 127.0.0.1 over a temporary
home with a few sample notes ingested.

Screenshots of the main states go to tests/artifacts/; with UPDATE_SCREENSHOT=1 the answer with its
cited source also becomes docs/screenshot.png (the README's picture).
"""

import logging
import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.browser,
    # Gradio 6.31's queue statistics use pandas options that pandas 3 deprecates; not ours to fix.
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
SAMPLE_FILES = ("ko/07_rag.md", "ko/01_tokenization.md", "ko/02_tfidf_bm25.md", "en/10_vector_databases.md")
MAX_UPLOAD_MB = 1
WAIT_MS = 60_000  # generous upper bounds for a loaded 2-core machine; tests never assert on time

PDF_HTML = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Zorblatt Protocol Brief</title><style>
body { font-family: sans-serif; font-variant-ligatures: none; font-size: 14px; }</style></head><body>
<h1>Zorblatt Protocol Brief</h1>
<p>The Zorblatt protocol was signed in 1987 by the Lunar Trade Council in Geneva.</p>
<p>Its members meet every seven years to review the lunar mining quotas.</p>
</body></html>"""

ANSWERED = "#conversation .turn:last-child .answer:is(.answered, .abstained, .error)"


class PacedGenerator:
    """The extractive answer, streamed a word at a time (as an LLM would) so the browser can see
    the answer grow before the verified final answer replaces it. Same `Generator` role."""

    def __init__(self, inner, pause: float = 0.05):
        self.inner = inner
        self.pause = pause
        self.name = inner.name

    def answer(self, question, chunks):
        return self.inner.answer(question, chunks)

    def stream(self, question, chunks):
        answer = self.inner.answer(question, chunks)
        for piece in re.findall(r"\S+\s*", answer.answer):
            time.sleep(self.pause)
            yield piece
        yield answer


# Ingesting a file named slow_*.md waits for this gate, so a test can hold an ingestion open.
INGEST_GATE = threading.Event()


def paced_app(settings):
    from rag_app.app import RagApp

    class PacedRagApp(RagApp):
        @property
        def generator(self):
            generator = super().generator
            return PacedGenerator(generator) if generator.name == "extractive" else generator

        def ingest(self, sources, **options):
            if any(Path(s).name.startswith("slow_") for s in sources):
                INGEST_GATE.wait(timeout=120)
            return super().ingest(sources, **options)

    return PacedRagApp(settings=settings)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from rag_app import RagApp

    home = tmp_path_factory.mktemp("ui-home")
    corpus = tmp_path_factory.mktemp("ui-corpus")
    for name in SAMPLE_FILES:
        target = corpus / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "samples" / name, target)
    reports = RagApp(home=home, collection="samples").ingest([str(corpus)])
    assert [r.status for r in reports] == ["added"] * len(SAMPLE_FILES)
    return home


@pytest.fixture(scope="module")
def server(home):
    from rag_app import ui
    from rag_app.config import Settings

    settings = Settings(home=home, collection="samples")
    demo = ui.build(settings, max_upload_mb=MAX_UPLOAD_MB, app_factory=paced_app)
    port = free_port()
    demo.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, **ui.launch_kwargs(settings, MAX_UPLOAD_MB)
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


def open_app(browser, server):
    context = browser.new_context(locale="ko-KR", viewport={"width": 1280, "height": 860})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(server, wait_until="load")
    page.wait_for_selector("#question textarea")
    return page


@pytest.fixture
def page(browser, server):
    page = open_app(browser, server)
    yield page
    page.context.close()


def wait_uploaded(page, *names: str):
    """Until the file component lists every name (Gradio shows name and suffix in separate elements)."""
    page.wait_for_function(
        "names => { const text = document.querySelector('#upload').innerText.replace(/\\s+/g, '');"
        " return names.every(n => text.includes(n)); }",
        arg=list(names),
    )


def shot(page, name: str, full_page: bool = False) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full_page)
    return path


def turn_count(page) -> int:
    return page.locator("#conversation .turn").count()


def wait_turns(page, n: int):
    page.wait_for_function(
        "n => document.querySelectorAll('#conversation .turn').length === n && "
        "!document.querySelector('#conversation .answer.streaming')",
        arg=n,
    )


# ---- chat ---------------------------------------------------------------------------------
def test_korean_question_streams_an_answer_with_citation_chips_and_a_chip_shows_the_cited_text(page):
    # Record what the conversation showed while the answer was streaming.
    page.evaluate(
        """() => {
        window.__streamed = [];
        new MutationObserver(() => {
            const bubble = document.querySelector('#conversation .answer.streaming .answer-text');
            if (bubble && !bubble.querySelector('.thinking')) window.__streamed.push(bubble.textContent);
        }).observe(document.querySelector('#conversation'), {childList: true, subtree: true, characterData: true});
    }"""
    )
    page.fill("#question textarea", "RAG는 어떻게 작동하나요?")
    page.press("#question textarea", "Enter")
    page.wait_for_selector("#conversation .answer.answered")
    answer = page.inner_text("#conversation .answer.answered .answer-text")
    streamed = page.evaluate("window.__streamed")
    assert streamed, "the answer was never shown while streaming"
    assert len(streamed[0]) < len(answer)  # it grew: the first partial text is shorter than the answer
    assert "RAG" in answer and "작동" in answer
    assert page.input_value("#question textarea") == ""  # the box is cleared for the next question

    chips = page.locator("#conversation .answer.answered button.cite-chip")
    assert chips.count() >= 1
    assert chips.first.inner_text() == "1"
    assert page.locator("#source-panel .source-card").count() == 0  # nothing selected yet
    shot(page, "chat_answer.png")

    chips.first.click()
    card = page.wait_for_selector("#source-panel .source-card[data-n='1']")
    title = card.query_selector(".source-title").inner_text()
    assert title == "RAG(검색 증강 생성)는 어떻게 작동하나요?"
    assert card.query_selector(".source-path").inner_text().endswith("07_rag.md")
    highlighted = [m.inner_text() for m in card.query_selector_all("mark.support")]
    assert highlighted, "the supporting sentence is not highlighted"
    # The highlighted sentence is the one the answer quotes with [1].
    assert any(h in answer for h in highlighted)
    assert "색인 단계" in card.query_selector(".source-text").inner_text()  # the rest of the chunk is shown too
    assert card.query_selector("a.source-link").get_attribute("href").startswith("file://")
    path = shot(page, "chat_citation.png")
    if os.environ.get("UPDATE_SCREENSHOT"):  # UPDATE_SCREENSHOT=1 pytest ... refreshes the README's picture
        shutil.copy(path, REPO / "docs" / "screenshot.png")


def test_follow_up_question_keeps_the_conversation_and_new_chat_clears_it(page):
    page.fill("#question textarea", "RAG는 어떻게 작동하나요?")
    page.press("#question textarea", "Enter")
    wait_turns(page, 1)
    page.fill("#question textarea", "그럼 하이브리드 검색은 무엇인가요?")
    page.click("#send")
    wait_turns(page, 2)
    second = page.locator("#conversation .turn").nth(1)
    assert second.locator(".question").inner_text().endswith("그럼 하이브리드 검색은 무엇인가요?")
    # The follow-up was searched with the topic of the first question carried over (the SDK's rewrite).
    assert "RAG" in second.locator(".rewritten").inner_text()
    assert second.locator(".answer.answered").count() == 1
    # Chips of the second answer point at the second turn.
    assert second.locator("button.cite-chip").first.get_attribute("data-turn") == "1"

    page.click("#new-chat")
    page.wait_for_selector("#conversation .rag-conversation.empty")
    assert turn_count(page) == 0


def test_unanswerable_question_is_shown_as_an_abstention(page):
    page.fill("#question textarea", "화성 탐사 로버의 바퀴는 몇 개인가요?")
    page.press("#question textarea", "Enter")
    bubble = page.wait_for_selector("#conversation .answer:is(.answered, .abstained, .error)")
    assert "abstained" in bubble.get_attribute("class")
    assert bubble.get_attribute("data-abstained") == "true"
    assert "찾을 수 없습니다" in bubble.inner_text()
    assert "답을 찾지 못함" in bubble.inner_text()
    assert page.locator("#conversation button.cite-chip").count() == 0
    # It looks different from an answer: dashed border, italic text.
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.querySelector('#conversation .answer.abstained'));"
        " return [s.borderTopStyle, s.fontStyle]; }"
    )
    assert style == ["dashed", "italic"]
    shot(page, "chat_abstention.png")


def test_enter_while_an_ime_is_composing_does_not_send(page):
    box = "#question textarea"
    page.click(box)
    page.keyboard.type("토큰화란 ")
    # A real composition through Chromium's input-method API: "무" is being composed, then Enter.
    # Chromium sends that Enter with isComposing=true (and Gradio 6.31 alone would submit on it).
    ime = page.context.new_cdp_session(page)
    ime.send("Input.imeSetComposition", {"text": "무", "selectionStart": 1, "selectionEnd": 1})
    page.keyboard.press("Enter")
    assert page.input_value(box) == "토큰화란 무"
    ime.send("Input.insertText", {"text": "무엇인가요?"})  # the IME commits the rest of the word
    assert page.input_value(box) == "토큰화란 무엇인가요?"
    page.keyboard.press("Enter")  # no composition now: this one sends
    page.wait_for_selector("#conversation .turn .answer:is(.answered, .abstained, .error)")
    wait_turns(page, 1)
    # One question, whole: had the composing Enter sent "토큰화란 무", there would be two turns.
    assert page.locator("#conversation .turn .question p").all_inner_texts() == ["토큰화란 무엇인가요?"]
    assert page.evaluate("window.ragImeGuard") is True


def test_language_switches_to_english(page):
    page.click("#language label:has-text('English')")
    page.wait_for_function("() => document.querySelector('#send').innerText.trim() === 'Send'")
    assert page.locator("#new-chat").inner_text().strip() == "New chat"
    page.wait_for_selector("button[role=tab]:has-text('Knowledge base')")
    assert page.locator("button[role=tab]").all_inner_texts() == ["Chat", "Knowledge base", "Settings"]
    assert "Ask anything" in page.inner_text("#conversation")
    page.fill("#question textarea", "What is a vector database?")
    page.press("#question textarea", "Enter")
    page.wait_for_selector("#conversation .answer.answered")
    assert page.locator("#conversation .answer .role").first.inner_text() == "Answer"


# ---- knowledge base -----------------------------------------------------------------------
def test_uploaded_pdf_is_listed_answerable_and_removable(page, tmp_path):
    pdf = tmp_path / "zorblatt_brief.pdf"
    maker = page.context.new_page()
    maker.set_content(PDF_HTML)
    maker.pdf(path=str(pdf), format="A5")
    maker.close()

    page.click("button[role=tab]:has-text('지식 베이스')")
    page.set_input_files("#upload input[type=file]", str(pdf))
    wait_uploaded(page, "zorblatt_brief.pdf")
    page.click("#ingest")
    row = page.wait_for_selector("#ingest-results tr.ingest-result")
    assert "status-added" in row.get_attribute("class"), row.inner_text()
    assert row.query_selector(".result-source").inner_text() == "zorblatt_brief.pdf"
    assert row.query_selector(".result-status").inner_text() == "추가됨"
    listed = page.locator("#sources tr[data-source$='zorblatt_brief.pdf']")
    listed.wait_for()
    assert listed.locator(".source-name").inner_text().startswith("zorblatt_brief.pdf")
    assert listed.locator(".source-type").inner_text() == "pdf"
    assert int(listed.locator(".source-chunks").inner_text()) >= 1
    assert "출처 5개" in page.inner_text("#kb-info")
    shot(page, "knowledge_base.png", full_page=True)

    # Uploading the same file again is skipped as unchanged.
    page.set_input_files("#upload input[type=file]", str(pdf))
    wait_uploaded(page, "zorblatt_brief.pdf")
    page.click("#ingest")
    page.wait_for_selector("#ingest-results tr.ingest-result.status-unchanged")

    page.click("button[role=tab]:has-text('채팅')")
    page.fill("#question textarea", "When was the Zorblatt protocol signed?")
    page.press("#question textarea", "Enter")
    page.wait_for_selector("#conversation .answer.answered")
    assert "1987" in page.inner_text("#conversation .answer-text")
    page.locator("#conversation button.cite-chip").first.click()
    card = page.wait_for_selector("#source-panel .source-card")
    assert card.query_selector(".source-location").inner_text() == "1쪽"
    assert "1987" in card.query_selector("mark.support").inner_text()
    href = card.query_selector("a.source-link").get_attribute("href")
    assert href.startswith("/gradio_api/file=") and href.endswith("#page=1")
    served = page.request.get(page.url.rstrip("/") + href.split("#")[0])
    assert served.ok and served.body()[:5] == b"%PDF-"
    shot(page, "chat_pdf_citation.png")

    page.click("button[role=tab]:has-text('지식 베이스')")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#sources tr[data-source$='zorblatt_brief.pdf'] button.remove-source")
    page.wait_for_selector("#ingest-results .remove-status")
    assert "zorblatt_brief.pdf 삭제됨" in page.inner_text("#ingest-results")
    assert page.locator("#sources tr[data-source$='zorblatt_brief.pdf']").count() == 0
    assert "출처 4개" in page.inner_text("#kb-info")


def test_bad_uploads_show_why_they_were_refused(page, tmp_path):
    script = tmp_path / "setup.exe"
    script.write_bytes(b"MZ\x90\x00 not a document")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    page.click("button[role=tab]:has-text('지식 베이스')")
    page.set_input_files("#upload input[type=file]", [str(script), str(empty)])
    wait_uploaded(page, "setup.exe", "empty.txt")
    page.fill("#urls textarea", "/etc/passwd\nsqlite:///etc/app.db")
    page.click("#ingest")
    page.wait_for_selector("#ingest-results tr.ingest-result")
    rows = page.locator("#ingest-results tr.ingest-result")
    assert rows.count() == 4
    texts = rows.all_inner_texts()
    assert all("status-failed" in rows.nth(i).get_attribute("class") for i in range(4))
    assert "setup.exe" in texts[0] and "지원하지 않는 파일 형식입니다 (.exe)" in texts[0] and ".pdf" in texts[0]
    assert "empty.txt" in texts[1] and "빈 파일입니다" in texts[1]
    assert "/etc/passwd" in texts[2] and "웹 주소" in texts[2]
    assert "sqlite:///etc/app.db" in texts[3] and "웹 주소" in texts[3]
    assert "출처 4개" in page.inner_text("#kb-info")  # nothing was added
    shot(page, "upload_errors.png", full_page=True)


def test_a_long_ingestion_shows_progress_and_does_not_block_another_users_question(page, browser, server, tmp_path):
    notes = tmp_path / "slow_notes.md"
    notes.write_text("# 느린 문서\n\n퀘이사 망원경은 2031년에 발사될 예정이다.\n", encoding="utf-8")
    INGEST_GATE.clear()
    page.click("button[role=tab]:has-text('지식 베이스')")
    page.set_input_files("#upload input[type=file]", str(notes))
    wait_uploaded(page, "slow_notes.md")
    page.click("#ingest")
    # The ingestion is running (held at the gate) and its progress names the file.
    page.wait_for_function("() => document.body.innerText.includes('추가하는 중: slow_notes.md')")
    other = open_app(browser, server)
    try:
        other.fill("#question textarea", "RAG는 어떻게 작동하나요?")
        other.press("#question textarea", "Enter")
        other.wait_for_selector("#conversation .answer.answered")
        assert other.locator("#conversation button.cite-chip").count() >= 1
        assert page.locator("#ingest-results tr.ingest-result").count() == 0  # still ingesting
    finally:
        INGEST_GATE.set()
        other.context.close()
    row = page.wait_for_selector("#ingest-results tr.ingest-result")
    assert "status-added" in row.get_attribute("class")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#sources tr[data-source$='slow_notes.md'] button.remove-source")
    page.wait_for_selector("#ingest-results .remove-status")


def test_too_large_upload_is_refused_with_the_limit(page, tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (MAX_UPLOAD_MB * 1024 * 1024 + 10))
    page.click("button[role=tab]:has-text('지식 베이스')")
    page.set_input_files("#upload input[type=file]", str(big))
    # Gradio refuses the upload itself (max_file_size) and says why, before anything reaches the server's disk.
    toast = page.wait_for_selector(".toast-body, [data-testid='toast-body']")
    assert "big.txt" in toast.inner_text() and re.search(r"1(\.0)?\s*mb", toast.inner_text(), re.IGNORECASE)
    page.click("#ingest")
    page.wait_for_selector("#ingest-results .ingest-empty")


def test_new_collection_starts_empty_and_the_chat_says_so(page):
    page.click("button[role=tab]:has-text('지식 베이스')")
    page.fill("#new-collection textarea, #new-collection input", "notes-2")
    page.click("#create-collection")
    page.wait_for_function("() => document.querySelector('#kb-info').innerText.includes('notes-2')")
    assert "아직 문서가 없습니다" in page.inner_text("#kb-info")
    assert "아직 출처가 없습니다" in page.inner_text("#sources")
    page.click("button[role=tab]:has-text('채팅')")
    page.fill("#question textarea", "RAG는 어떻게 작동하나요?")
    page.press("#question textarea", "Enter")
    bubble = page.wait_for_selector("#conversation .answer:is(.answered, .abstained, .error)")
    assert "error" in bubble.get_attribute("class")
    assert "notes-2" in bubble.inner_text() and "empty" in bubble.inner_text()
    assert "Traceback" not in page.content()

    page.click("button[role=tab]:has-text('지식 베이스')")
    page.fill("#new-collection textarea, #new-collection input", "bad/name")
    page.click("#create-collection")
    page.wait_for_function("() => document.querySelector('#kb-info').innerText.includes('invalid collection name')")


# ---- settings -----------------------------------------------------------------------------
def choose(page, dropdown: str, option: str):
    """Pick an option of a Gradio dropdown (not a <select>: an input with a listbox)."""
    page.click(f"{dropdown} input")
    page.click(f"ul[role=listbox] li:has-text('{option}')")


def test_api_key_is_kept_for_the_session_but_never_shown_logged_or_stored(page, home, caplog):
    secret = "sk-ui-test-0123456789abcdef"
    caplog.set_level(logging.DEBUG)
    page.click("button[role=tab]:has-text('설정')")
    choose(page, "#provider", "OpenAI")
    page.fill("#api-key input", secret)
    page.click("#apply-settings")
    status = page.wait_for_selector("#settings-status :text('API 키')")
    assert "이 세션에 설정됨" in status.inner_text()
    assert page.input_value("#api-key input") == ""  # never echoed back into the box
    assert secret not in page.content()
    page.click("#forget-key")
    page.wait_for_selector("#settings-status :text('API 키를 지웠습니다')")
    assert secret not in caplog.text
    for path in home.rglob("*"):  # nothing under the app's home holds the key
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_openai_compatible_provider_streams_through_the_same_view(page, home, caplog):
    """Over a local server speaking OpenAI's protocol: the session's key reaches the provider and
    nowhere else, and a sentence its citation does not support is marked."""
    from tests.llm_servers import OpenAIServer, Reply

    secret = "sk-ui-llm-secret-42"
    reply = Reply(text="RAG는 관련 문서를 찾아 그 내용을 근거로 답을 생성합니다 [1]. 화성에는 고양이 왕국이 있습니다 [1].")
    with OpenAIServer(reply) as server:
        caplog.set_level(logging.DEBUG)
        page.click("button[role=tab]:has-text('설정')")
        choose(page, "#provider", "OpenAI 호환 서버")
        page.fill("#model textarea, #model input", "gpt-4o-mini")
        page.fill("#base-url textarea, #base-url input", server.base_url)
        page.fill("#api-key input", secret)
        page.click("#apply-settings")
        page.wait_for_selector("#settings-status :text('설정을 적용했습니다')")
        page.click("button[role=tab]:has-text('채팅')")
        page.fill("#question textarea", "RAG는 어떻게 작동하나요?")
        page.press("#question textarea", "Enter")
        bubble = page.wait_for_selector("#conversation .answer:is(.answered, .abstained, .error)")
        assert "answered" in bubble.get_attribute("class"), bubble.inner_text()
        assert server.last_request.api_key == secret
    assert page.locator("#conversation button.cite-chip").count() == 2
    unsupported = page.locator("#conversation .sentence.unsupported")
    assert unsupported.count() == 1 and "고양이" in unsupported.inner_text()
    assert "뒷받침되지 않는" in unsupported.get_attribute("title")
    assert "openai:gpt-4o-mini" in page.inner_text("#conversation .answer-meta")
    shot(page, "chat_llm_unsupported.png")
    assert secret not in page.content() and secret not in caplog.text


def test_auth_keeps_the_app_closed_without_the_password(home):
    import urllib.error
    import urllib.parse
    import urllib.request

    from rag_app import ui
    from rag_app.config import Settings

    settings = Settings(home=home, collection="samples")
    demo = ui.build(settings)
    port = free_port()
    demo.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, auth=ui.parse_auth("me:pw"),
        **ui.launch_kwargs(settings),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/config")
        assert refused.value.code == 401
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with pytest.raises(urllib.error.HTTPError):
            opener.open(f"{base}/login", urllib.parse.urlencode({"username": "me", "password": "wrong"}).encode())
        opener.open(f"{base}/login", urllib.parse.urlencode({"username": "me", "password": "pw"}).encode())
        assert opener.open(f"{base}/config").status == 200
    finally:
        demo.close()
