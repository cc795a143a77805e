"""loaders.youtube through the real youtube-transcript-api code path, offline.

A `requests.Session` whose adapter replays responses recorded by youtube-transcript-api itself
(youtube_transcript_api/test/assets: the watch page, the innertube player JSON, transcript XML,
captcha and error pages). Where no recording exists (a Korean transcript, an auto-generated-only
Korean track, the oEmbed reply), the body is an edited copy of a real one. Nothing leaves the
process: a request to anything unrecorded fails like an unreachable host.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

import youtube_transcript_api
import loaders.youtube
from loaders import is_youtube, load_source
from loaders.errors import LoaderError
from loaders.youtube import clean_snippet, group_snippets, load_youtube, parse_video_id

ASSETS = Path(youtube_transcript_api.__file__).parent / "test" / "assets"
VIDEO_ID = "GJLlxj_dtq8"  # the video the library's recordings are of
CANONICAL = f"https://www.youtube.com/watch?v={VIDEO_ID}"
TITLE = "Surface Go Review - It’s Awesome"  # videoDetails.title in youtube.innertube.json.static

HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=UTF-8"
XML = "text/xml; charset=UTF-8"


def asset(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


def transcript_xml(*snippets: tuple[float, float, str]) -> bytes:
    """A copy of the recorded transcript.xml.static with its <text> elements replaced."""
    from xml.sax.saxutils import escape

    body = "\n".join(f'    <text start="{s}" dur="{d}">{escape(t)}</text>' for s, d, t in snippets)
    original = asset("transcript.xml.static").decode("utf-8")
    edited = re.sub(r"<transcript>.*</transcript>", f"<transcript>\n{body}\n</transcript>", original, flags=re.S)
    assert edited != original
    return edited.encode("utf-8")


# Korean manual captions, as YouTube serves them: markers, line breaks inside a cue, an HTML
# entity, a cue whose Hangul is decomposed (NFD, as text typed on macOS), and an empty cue.
KO_SNIPPETS = (
    (0.0, 2.4, "[음악]"),
    (2.4, 4.4, "안녕하세요, 오늘은 검색 증강 생성,\n즉 RAG에 대해 알아보겠습니다."),
    (6.8, 3.3, "RAG는 질문과 관련된 문서를 먼저 찾고"),
    (10.1, 3.4, "그 문서를 근거로 답을 만드는 방식입니다."),
    (13.5, 1.7, "[박수]"),
    (15.2, 3.7, "한국어 문서는 조사가 명사에 붙어 있어서"),
    (18.9, 3.56, unicodedata.normalize("NFD", "형태소 분석을 하면 검색 품질이 좋아집니다.")),
    (22.46, 4.5, "BM25와 밀집 임베딩을 함께 쓰는\n하이브리드 검색도 살펴보겠습니다."),
    (27.0, 0.5, ""),
    (27.0, 2.0, "[음악] 질문 & 답변은 영상 끝에서 다룹니다."),
)
KO_XML = transcript_xml(*KO_SNIPPETS)
EN_MANUAL_XML = asset("transcript.xml.static")
# The auto-generated English track: same cues, lower-case and unpunctuated as ASR output is.
EN_ASR_XML = transcript_xml(
    (0.0, 1.54, "hey this is just a test"),
    (1.54, 4.16, "this is not the original transcript"),
    (5.7, 3.239, "just something shorter i made up for testing"),
)


def player_json_with_generated_korean() -> bytes:
    """The recorded player response with its manual Korean track turned into an ASR one."""
    data = json.loads(asset("youtube.innertube.json.static"))
    [track] = [t for t in data["captions"]["playerCaptionsTracklistRenderer"]["captionTracks"] if t["languageCode"] == "ko"]
    track.update(kind="asr", vssId="a.ko", name={"runs": [{"text": "Korean (auto-generated)"}]})
    track["baseUrl"] = track["baseUrl"].replace("&lang=ko", "&kind=asr&lang=ko")
    return json.dumps(data).encode("utf-8")


OEMBED_JSON = json.dumps(
    {
        "title": TITLE,
        "author_name": "Lon.TV",
        "author_url": "https://www.youtube.com/@lontv",
        "type": "video",
        "height": 113,
        "width": 200,
        "version": "1.0",
        "provider_name": "YouTube",
        "provider_url": "https://www.youtube.com/",
        "thumbnail_height": 360,
        "thumbnail_width": 480,
        "thumbnail_url": f"https://i.ytimg.com/vi/{VIDEO_ID}/hqdefault.jpg",
        "html": f'<iframe width="200" height="113" src="https://www.youtube.com/embed/{VIDEO_ID}?feature=oembed"></iframe>',
    },
    ensure_ascii=False,
).encode("utf-8")


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    content_type: str = HTML


class ReplayAdapter(BaseAdapter):
    """Answers from `routes[(METHOD, scheme://host/path)]`: a Reply, an exception to raise, or a
    function of the request returning either. Records every request in `calls`."""

    def __init__(self):
        super().__init__()
        self.routes: dict = {}
        self.calls: list[requests.PreparedRequest] = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.calls.append(request)
        url = urlsplit(request.url)
        route = self.routes.get((request.method, f"{url.scheme}://{url.netloc}{url.path}"))
        if callable(route):
            route = route(request)
        if route is None:
            route = requests.ConnectionError(f"no recorded response for {request.method} {request.url}")
        if isinstance(route, Exception):
            raise route
        response = requests.Response()
        response.status_code = route.status
        response.reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}.get(
            route.status, ""
        )
        response.headers = CaseInsensitiveDict({"Content-Type": route.content_type})
        response._content = route.body
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


class RecordedYouTube:
    """The YouTube endpoints youtube-transcript-api 1.2.5 and the loader call, replayed."""

    WATCH = ("GET", "https://www.youtube.com/watch")
    PLAYER = ("POST", "https://www.youtube.com/youtubei/v1/player")
    TIMEDTEXT = ("GET", "https://www.youtube.com/api/timedtext")
    OEMBED = ("GET", "https://www.youtube.com/oembed")

    def __init__(self):
        self.adapter = ReplayAdapter()
        self.session = requests.Session()
        self.session.mount("https://", self.adapter)
        self.session.mount("http://", self.adapter)
        # (language code, auto-generated?) -> transcript XML
        self.transcripts = {("ko", False): KO_XML, ("en", False): EN_MANUAL_XML, ("en", True): EN_ASR_XML}
        self.adapter.routes.update(
            {
                self.WATCH: Reply(asset("youtube.html.static")),
                self.PLAYER: Reply(asset("youtube.innertube.json.static"), content_type=JSON),
                self.TIMEDTEXT: self._timedtext,
                self.OEMBED: Reply(OEMBED_JSON, content_type=JSON),
            }
        )

    def route(self, key, reply) -> None:
        self.adapter.routes[key] = reply

    def _timedtext(self, request) -> Reply:
        query = parse_qs(urlsplit(request.url).query)
        key = (query["lang"][0], query.get("kind") == ["asr"])
        return Reply(self.transcripts[key], content_type=XML) if key in self.transcripts else Reply(b"", 404)

    def transcript_requests(self) -> list[tuple[str, bool]]:
        """(lang, auto-generated?) of each transcript download, in order."""
        found = []
        for call in self.adapter.calls:
            if call.url.startswith("https://www.youtube.com/api/timedtext"):
                query = parse_qs(urlsplit(call.url).query)
                found.append((query["lang"][0], query.get("kind") == ["asr"]))
        return found

    def hosts(self) -> set[str]:
        return {urlsplit(call.url).hostname for call in self.adapter.calls}


@pytest.fixture
def youtube() -> RecordedYouTube:
    return RecordedYouTube()


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Belt and braces: any name lookup other than the loopback address fails the test."""
    real_getaddrinfo = socket.getaddrinfo

    def loopback_only(host, *args, **kwargs):
        if host not in ("127.0.0.1", "localhost"):
            raise AssertionError(f"test tried to reach {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


# ---- video ids ---------------------------------------------------------------------------------
SOURCE_FORMS = [
    f"youtube:{VIDEO_ID}",
    f"https://www.youtube.com/watch?v={VIDEO_ID}",
    f"https://youtube.com/watch?feature=share&v={VIDEO_ID}&t=42s",
    f"http://m.youtube.com/watch?v={VIDEO_ID}",
    f"https://youtu.be/{VIDEO_ID}",
    f"https://youtu.be/{VIDEO_ID}?si=abc&t=10",
    f"https://www.youtube.com/shorts/{VIDEO_ID}",
    f"https://www.youtube.com/embed/{VIDEO_ID}?start=5",
    f"https://WWW.YouTube.com/live/{VIDEO_ID}",
]


@pytest.mark.parametrize("source", SOURCE_FORMS)
def test_parse_video_id_accepts_every_form(source):
    assert parse_video_id(source) == VIDEO_ID


@pytest.mark.parametrize("source", SOURCE_FORMS)
def test_every_source_form_gives_the_canonical_source(youtube, source):
    assert is_youtube(source)  # loaders.load_source sends it here
    docs = load_youtube(source, http_client=youtube.session)
    assert {doc.metadata["source"] for doc in docs} == {CANONICAL}
    assert youtube.adapter.calls[0].url == CANONICAL  # the library was given the id, not the URL


@pytest.mark.parametrize(
    "source, bad",
    [
        ("youtube:GJLlxj_dtq", "'GJLlxj_dtq'"),  # 10 characters
        ("youtube:GJLlxj_dtq8X", "'GJLlxj_dtq8X'"),  # 12 characters
        ("youtube:GJLlxj dtq8", "'GJLlxj dtq8'"),
        ("https://www.youtube.com/watch?v=GJLlxj.dtq8", "'GJLlxj.dtq8'"),
        ("https://youtu.be/", "without a video id"),
        ("https://www.youtube.com/watch?list=PL123", "without a v= video id"),
        ("https://www.youtube.com/@lontv", "not a YouTube video URL"),
        ("https://vimeo.com/GJLlxj_dtq8", "host 'vimeo.com'"),
        ("youtube:", "''"),
    ],
)
def test_malformed_ids_and_urls_raise(youtube, source, bad):
    with pytest.raises(LoaderError) as info:
        load_youtube(source, http_client=youtube.session)
    message = str(info.value)
    assert info.value.source == source
    assert message.startswith(f"{source}: ")
    assert bad in message
    assert "youtube:VIDEO_ID" in message  # the fix
    assert "\n" not in message
    assert youtube.adapter.calls == []  # rejected before any request


# ---- transcripts -------------------------------------------------------------------------------
def test_korean_transcript_becomes_grouped_documents(youtube):
    docs = load_youtube(f"youtube:{VIDEO_ID}", http_client=youtube.session, max_chars=60)

    assert youtube.transcript_requests() == [("ko", False)]  # "ko" is first in the default languages
    assert [(doc.metadata["start_seconds"], doc.page_content) for doc in docs] == [
        (2.4, "안녕하세요, 오늘은 검색 증강 생성, 즉 RAG에 대해 알아보겠습니다."),
        (6.8, "RAG는 질문과 관련된 문서를 먼저 찾고 그 문서를 근거로 답을 만드는 방식입니다."),
        (15.2, "한국어 문서는 조사가 명사에 붙어 있어서 형태소 분석을 하면 검색 품질이 좋아집니다."),
        # cue 22.46 s -> 22.5; this group is exactly 60 characters
        (22.5, "BM25와 밀집 임베딩을 함께 쓰는 하이브리드 검색도 살펴보겠습니다. 질문 & 답변은 영상 끝에서 다룹니다."),
    ]
    for doc in docs:
        assert doc.metadata == {
            "source": CANONICAL,
            "source_type": "youtube",
            "title": TITLE,
            "start_seconds": doc.metadata["start_seconds"],
        }
        assert 0 < len(doc.page_content) <= 60
        assert "[" not in doc.page_content and "\n" not in doc.page_content
        assert unicodedata.is_normalized("NFC", doc.page_content)
    starts = [doc.metadata["start_seconds"] for doc in docs]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    # the title came through the injected session, from the oEmbed endpoint
    [oembed] = [c for c in youtube.adapter.calls if c.url.startswith("https://www.youtube.com/oembed")]
    assert parse_qs(urlsplit(oembed.url).query) == {"url": [CANONICAL], "format": ["json"]}
    assert youtube.hosts() == {"www.youtube.com"}


def test_default_max_chars_keeps_a_short_transcript_in_one_document(youtube):
    [doc] = load_youtube(f"youtube:{VIDEO_ID}", http_client=youtube.session)
    assert doc.metadata["start_seconds"] == 2.4
    assert doc.page_content.startswith("안녕하세요, 오늘은 검색 증강 생성, 즉 RAG")
    assert doc.page_content.endswith("살펴보겠습니다. 질문 & 답변은 영상 끝에서 다룹니다.")
    assert len(doc.page_content) == 195  # 7 spoken cues, 6 joining spaces


def test_english_recorded_transcript_values(youtube):
    docs = load_youtube(CANONICAL, languages=("en",), http_client=youtube.session, max_chars=60)
    # The recorded cue "this is <i>not</i> the original transcript" loses its tags; the empty cue is gone.
    assert [(doc.metadata["start_seconds"], doc.page_content) for doc in docs] == [
        (0.0, "Hey, this is just a test this is not the original transcript"),
        (5.7, "just something shorter, I made up for testing"),
    ]


def test_manual_transcript_preferred_over_generated_in_the_same_language(youtube):
    [doc] = load_youtube(CANONICAL, languages=("en",), http_client=youtube.session)
    assert youtube.transcript_requests() == [("en", False)]
    assert doc.page_content.startswith("Hey, this is just a test")  # not the ASR "hey this is"


def test_language_preference_order(youtube):
    [en] = load_youtube(CANONICAL, languages=("en", "ko"), http_client=youtube.session)
    [ko] = load_youtube(CANONICAL, languages=("ko", "en"), http_client=youtube.session)
    [fr_missing_then_en] = load_youtube(CANONICAL, languages=("fr", "en", "ko"), http_client=youtube.session)
    assert youtube.transcript_requests() == [("en", False), ("ko", False), ("en", False)]
    assert en.page_content.startswith("Hey, this is just a test")
    assert ko.page_content.startswith("안녕하세요")
    assert fr_missing_then_en.page_content == en.page_content


def test_an_earlier_language_beats_a_manual_track_in_a_later_one(youtube):
    # Korean exists only auto-generated; English has a manual track: Korean (the spoken words) wins.
    youtube.route(RecordedYouTube.PLAYER, Reply(player_json_with_generated_korean(), content_type=JSON))
    youtube.transcripts[("ko", True)] = KO_XML
    [doc] = load_youtube(CANONICAL, languages=("ko", "en"), http_client=youtube.session)
    assert youtube.transcript_requests() == [("ko", True)]
    assert doc.page_content.startswith("안녕하세요")


def test_generated_transcript_used_when_no_manual_one_is_wanted(youtube):
    youtube.route(RecordedYouTube.PLAYER, Reply(player_json_with_generated_korean(), content_type=JSON))
    youtube.transcripts[("ko", True)] = KO_XML
    docs = load_youtube(CANONICAL, languages=("ko",), http_client=youtube.session)
    assert youtube.transcript_requests() == [("ko", True)]
    assert docs[0].page_content.startswith("안녕하세요")


def test_title_left_out_when_oembed_fails(youtube, caplog):
    youtube.route(RecordedYouTube.OEMBED, Reply(b"Unauthorized", status=401, content_type="text/html"))
    with caplog.at_level(logging.DEBUG, logger="loaders.youtube"):
        docs = load_youtube(f"youtube:{VIDEO_ID}", http_client=youtube.session)
    assert docs[0].metadata == {"source": CANONICAL, "source_type": "youtube", "start_seconds": 2.4}
    assert any("no oEmbed title" in r.getMessage() and "401" in r.getMessage() for r in caplog.records)
    assert all(r.levelno == logging.DEBUG for r in caplog.records if r.name == "loaders.youtube")


def test_title_left_out_when_oembed_is_unreachable(youtube):
    youtube.route(RecordedYouTube.OEMBED, requests.ConnectionError("connection refused"))
    docs = load_youtube(f"youtube:{VIDEO_ID}", http_client=youtube.session)
    assert "title" not in docs[0].metadata
    assert docs[0].page_content.startswith("안녕하세요")


def test_load_source_dispatches_with_the_default_session(youtube, monkeypatch):
    # load_source passes no http_client: the loader builds its own requests.Session, here the replay one.
    monkeypatch.setattr(loaders.youtube, "_default_session", lambda: youtube.session)
    docs = load_source(f"https://youtu.be/{VIDEO_ID}?t=3")
    assert docs[0].metadata["source"] == CANONICAL
    assert docs[0].metadata["title"] == TITLE
    assert youtube.hosts() == {"www.youtube.com"}


# ---- errors ------------------------------------------------------------------------------------
SOURCE = f"https://youtu.be/{VIDEO_ID}"


def load_error(youtube, **kwargs) -> str:
    with pytest.raises(LoaderError) as info:
        load_youtube(SOURCE, http_client=youtube.session, **kwargs)
    message = str(info.value)
    assert info.value.source == SOURCE
    assert message.startswith(f"{SOURCE}: ")
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "recording", ["youtube_transcripts_disabled.innertube.json.static", "youtube_transcripts_disabled2.innertube.json.static"]
)
def test_transcripts_disabled(youtube, recording):
    youtube.route(RecordedYouTube.PLAYER, Reply(asset(recording), content_type=JSON))
    assert load_error(youtube) == f"{SOURCE}: the video has transcripts disabled; pick another video"


def test_no_transcript_in_the_wanted_languages_names_wanted_and_available(youtube):
    # The recorded WW1 video has English only, manual and auto-generated.
    youtube.route(RecordedYouTube.PLAYER, Reply(asset("youtube_ww1_nl_en.innertube.json.static"), content_type=JSON))
    message = load_error(youtube, languages=("ko", "ja"))
    assert message == (
        f"{SOURCE}: no transcript in ko, ja (available: en; auto-generated: en); "
        "pass one of the available codes in languages="
    )
    assert youtube.transcript_requests() == []


def test_no_transcript_lists_every_available_language(youtube):
    message = load_error(youtube, languages=("fr",))
    assert "no transcript in fr (available: cs, de, en, es, hi, ja, ko, zh; auto-generated: en)" in message


def test_unavailable_video(youtube):
    youtube.route(RecordedYouTube.PLAYER, Reply(asset("youtube_video_unavailable.innertube.json.static"), content_type=JSON))
    assert load_error(youtube) == (
        f"{SOURCE}: the video is unavailable (removed, private or a wrong id); check the video id"
    )


BLOCKED = f"{SOURCE}: YouTube blocked the request; retry later or use a proxy"


def test_bot_check_is_reported_as_blocked(youtube):
    youtube.route(RecordedYouTube.PLAYER, Reply(asset("youtube_request_blocked.innertube.json.static"), content_type=JSON))
    assert load_error(youtube) == BLOCKED


def test_captcha_page_is_reported_as_blocked(youtube):
    youtube.route(RecordedYouTube.WATCH, Reply(asset("youtube_too_many_requests.html.static")))
    assert load_error(youtube) == BLOCKED


def test_too_many_requests_on_the_transcript_is_reported_as_blocked(youtube):
    youtube.route(RecordedYouTube.TIMEDTEXT, Reply(b"", status=429))
    assert load_error(youtube) == BLOCKED


def test_http_error_names_the_status_not_the_api_key(youtube):
    youtube.route(RecordedYouTube.PLAYER, Reply(b"", status=500))
    message = load_error(youtube)
    assert message == (
        f"{SOURCE}: request to YouTube failed (500 Server Error: Internal Server Error); retry later"
    )


def test_network_error(youtube):
    youtube.route(RecordedYouTube.WATCH, requests.ConnectionError("[Errno 101] Network is unreachable"))
    assert load_error(youtube) == (
        f"{SOURCE}: network error (ConnectionError: [Errno 101] Network is unreachable); "
        "check your connection or proxy and retry"
    )


def test_timeout(youtube):
    youtube.route(RecordedYouTube.TIMEDTEXT, requests.ReadTimeout("read timed out"))
    assert "network error (ReadTimeout: read timed out)" in load_error(youtube)


def test_age_restricted_and_unplayable(youtube):
    youtube.route(RecordedYouTube.PLAYER, Reply(asset("youtube_age_restricted.innertube.json.static"), content_type=JSON))
    assert "age-restricted" in load_error(youtube)
    youtube.route(RecordedYouTube.PLAYER, Reply(asset("youtube_unplayable.innertube.json.static"), content_type=JSON))
    assert load_error(youtube) == f"{SOURCE}: the video is unplayable (Custom Reason); pick another video"


def test_transcript_with_only_markers(youtube):
    youtube.transcripts[("ko", False)] = transcript_xml((0.0, 3.0, "[음악]"), (3.0, 2.0, "♪ ♪"), (5.0, 1.0, "[박수]"))
    assert load_error(youtube) == (
        f"{SOURCE}: the ko transcript has no spoken text (only markers such as [Music]); pick another video"
    )


# ---- helpers -----------------------------------------------------------------------------------
def test_clean_snippet():
    assert clean_snippet("[Music]") == ""
    assert clean_snippet("[음악]\n") == ""
    assert clean_snippet("♪♪") == ""
    assert clean_snippet("[Applause] thank you\nall") == "thank you all"
    assert clean_snippet("print(items[0])") == "print(items[0])"


def test_group_snippets_never_exceeds_max_chars():
    snippets = [(float(i), f"문장{i} " * (i % 7 + 1)) for i in range(60)] + [(60.0, "가" * 130)]
    groups = group_snippets(snippets, max_chars=50)
    assert all(0 < len(text) <= 50 for _, text in groups)
    assert [start for start, _ in groups] == sorted(start for start, _ in groups)
    assert "".join(text.replace(" ", "") for _, text in groups) == "".join(t.replace(" ", "") for _, t in snippets)
    assert groups[-3:] == [(60.0, "가" * 50), (60.0, "가" * 50), (60.0, "가" * 30)]


def test_invalid_arguments(youtube):
    with pytest.raises(ValueError, match="max_chars"):
        load_youtube(SOURCE, http_client=youtube.session, max_chars=0)
    with pytest.raises(ValueError, match="languages"):
        load_youtube(SOURCE, http_client=youtube.session, languages="ko")


def test_import_is_lazy():
    code = "import sys, loaders.youtube; print('youtube_transcript_api' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "False"


def test_garbled_responses(youtube):
    # A player reply that is not JSON (a proxy's HTML error page), then a truncated transcript.
    youtube.route(RecordedYouTube.PLAYER, Reply(asset("youtube_consent_page.html.static")))
    assert load_error(youtube) == (
        f"{SOURCE}: YouTube sent an unexpected response; retry later or upgrade youtube-transcript-api"
    )
    youtube.route(RecordedYouTube.PLAYER, Reply(asset("youtube.innertube.json.static"), content_type=JSON))
    youtube.transcripts[("ko", False)] = KO_XML[: len(KO_XML) // 2]
    assert load_error(youtube) == (
        f"{SOURCE}: YouTube sent data that could not be read (ParseError); "
        "retry later or upgrade youtube-transcript-api"
    )
