"""YouTube transcripts through youtube-transcript-api: consecutive caption snippets grouped into
Documents of at most `max_chars` characters, each with the `start_seconds` of its first snippet.

    >>> parse_video_id("https://youtu.be/GJLlxj_dtq8?t=42")
    'GJLlxj_dtq8'
    >>> canonical_url("GJLlxj_dtq8")
    'https://www.youtube.com/watch?v=GJLlxj_dtq8'

`source` is always the canonical watch URL, whatever form the user gave, so the same video ingested
as `youtube:ID` and as `https://youtu.be/ID` yields the same chunk ids. Errors name the input as the
user typed it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from langchain_core.documents import Document

from loaders.base import make_document, normalize_text
from loaders.errors import LoaderError

log = logging.getLogger(__name__)

WATCH_URL = "https://www.youtube.com/watch?v={video_id}"
OEMBED_URL = "https://www.youtube.com/oembed"
FETCH_TIMEOUT_SECONDS = 20
DEFAULT_LANGUAGES = ("ko", "en")

_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com"}
# Path prefixes whose next segment is the id: /shorts/ID, /embed/ID, /live/ID, /v/ID.
_ID_PATH_PREFIXES = {"shorts", "embed", "live", "v"}
_FORMS_HINT = "use youtube:VIDEO_ID or https://www.youtube.com/watch?v=VIDEO_ID (an id is 11 letters, digits, - or _)"

# Non-speech annotations in captions: "[음악]", "[Music]", "[박수]", "[Applause]". Only short
# bracketed runs of letters and spaces, so code such as "items[0]" survives.
_NOISE_MARKER = re.compile(r"\[[^\W\d_]+(?:[ '-][^\W\d_]+)*\]")
_MUSIC_ONLY = re.compile(r"^[\s♪♫♩♬]*$")
_SPACES = re.compile(r"\s+")


def canonical_url(video_id: str) -> str:
    return WATCH_URL.format(video_id=video_id)


def parse_video_id(source: str) -> str:
    """The 11-character video id in `youtube:ID`, a bare id, or a youtube.com / youtu.be URL.

    Accepted URLs: `https://www.youtube.com/watch?v=ID` (also `m.` and no `www.`), `https://youtu.be/ID`,
    and `/shorts/ID`, `/embed/ID`, `/live/ID`. Extra query parameters (`t=`, `list=`) are ignored.

        >>> parse_video_id("youtube:dQw4w9WgXcQ")
        'dQw4w9WgXcQ'
        >>> parse_video_id("https://m.youtube.com/shorts/dQw4w9WgXcQ?feature=share")
        'dQw4w9WgXcQ'
    """
    text = source.strip()
    if text[:8].lower() == "youtube:" and not text[8:].startswith("//"):
        return _checked_id(text[8:].strip(), source)
    if "://" not in text:
        return _checked_id(text, source)
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("http", "https"):
        raise LoaderError(source, f"not a YouTube URL; {_FORMS_HINT}")
    segments = [segment for segment in parts.path.split("/") if segment]
    if host == "youtu.be":
        if len(segments) != 1:
            raise LoaderError(source, f"youtu.be link without a video id; {_FORMS_HINT}")
        return _checked_id(segments[0], source)
    if host not in _YOUTUBE_HOSTS:
        raise LoaderError(source, f"not a YouTube URL (host {host or '(none)'!r}); {_FORMS_HINT}")
    if segments == ["watch"]:
        ids = parse_qs(parts.query).get("v", [])
        if len(ids) != 1:
            raise LoaderError(source, f"watch URL without a v= video id; {_FORMS_HINT}")
        return _checked_id(ids[0], source)
    if len(segments) == 2 and segments[0] in _ID_PATH_PREFIXES:
        return _checked_id(segments[1], source)
    raise LoaderError(source, f"not a YouTube video URL (playlists and channels are not supported); {_FORMS_HINT}")


def _checked_id(candidate: str, source: str) -> str:
    if not _VIDEO_ID.match(candidate):
        raise LoaderError(source, f"malformed YouTube video id {candidate!r}; {_FORMS_HINT}")
    return candidate


def load_youtube(
    source: str,
    *,
    languages: tuple[str, ...] = DEFAULT_LANGUAGES,
    http_client: Any = None,
    max_chars: int = 800,
) -> list[Document]:
    """Transcript of one video as Documents (`source_type` "youtube").

    Transcript choice: languages in the order given, and within a language a manually created
    transcript before an auto-generated one (so, with the default languages, Korean captions,
    even auto-generated, beat a manual English translation: the spoken words win).
    `http_client` is a `requests.Session` used for every request (the transcript and the oEmbed
    title); by default a fresh session with a request timeout.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    if isinstance(languages, str) or not languages:
        raise ValueError(f"languages must be a non-empty tuple of language codes, got {languages!r}")
    video_id = parse_video_id(source)
    from xml.etree.ElementTree import ParseError

    import requests
    from youtube_transcript_api import CouldNotRetrieveTranscript, YouTubeTranscriptApi

    session = http_client if http_client is not None else _default_session()
    api = YouTubeTranscriptApi(http_client=session)
    try:
        transcript_list = api.list(video_id)
        transcript = _pick_transcript(transcript_list, languages, source)
        fetched = transcript.fetch()
    except LoaderError:
        raise
    except requests.exceptions.JSONDecodeError as exc:  # a RequestException subclass: check first
        raise LoaderError(
            source, "YouTube sent an unexpected response; retry later or upgrade youtube-transcript-api"
        ) from exc
    except requests.RequestException as exc:
        raise LoaderError(
            source, f"network error ({type(exc).__name__}: {_one_line(exc)}); check your connection or proxy and retry"
        ) from exc
    except (CouldNotRetrieveTranscript, ParseError) as exc:  # ParseError: a broken transcript XML
        raise LoaderError(source, _reason_for_library_error(exc)) from exc
    kind = "generated" if transcript.is_generated else "manual"
    log.debug("video %s: %s transcript %r", video_id, kind, transcript.language_code)

    url = canonical_url(video_id)
    title = _oembed_title(session, url)
    documents = [
        make_document(text, url, "youtube", title=title, start_seconds=start)
        for start, text in group_snippets(((s.start, s.text) for s in fetched), max_chars)
    ]
    if not documents:
        raise LoaderError(
            source,
            f"the {transcript.language_code} transcript has no spoken text (only markers such as [Music]); pick another video",
        )
    return documents


def _default_session():
    import requests
    from requests.adapters import HTTPAdapter

    class _TimeoutAdapter(HTTPAdapter):
        # youtube-transcript-api calls session.get/post without a timeout; never hang forever.
        def send(self, request, **kwargs):
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = FETCH_TIMEOUT_SECONDS
            return super().send(request, **kwargs)

    session = requests.Session()
    session.mount("https://", _TimeoutAdapter())
    session.mount("http://", _TimeoutAdapter())
    return session


def _pick_transcript(transcript_list, languages: tuple[str, ...], source: str):
    from youtube_transcript_api import NoTranscriptFound

    for language in languages:
        for finder in (transcript_list.find_manually_created_transcript, transcript_list.find_generated_transcript):
            try:
                return finder([language])
            except NoTranscriptFound:
                continue
    manual = sorted({t.language_code for t in transcript_list if not t.is_generated})
    generated = sorted({t.language_code for t in transcript_list if t.is_generated})
    available = ", ".join(manual) or "none"
    if generated:
        available += f"; auto-generated: {', '.join(generated)}"
    raise LoaderError(
        source,
        f"no transcript in {', '.join(languages)} (available: {available}); "
        "pass one of the available codes in languages=",
    )


def _reason_for_library_error(exc: Exception) -> str:
    """One-line reason with the fix for a youtube-transcript-api error (or a transcript XML ParseError)."""
    from xml.etree.ElementTree import ParseError

    import youtube_transcript_api as yta

    if isinstance(exc, yta.RequestBlocked):  # IpBlocked too: HTTP 429 or a captcha page
        return "YouTube blocked the request; retry later or use a proxy"
    if isinstance(exc, yta.TranscriptsDisabled):
        return "the video has transcripts disabled; pick another video"
    if isinstance(exc, (yta.VideoUnavailable, yta.InvalidVideoId)):
        return "the video is unavailable (removed, private or a wrong id); check the video id"
    if isinstance(exc, yta.AgeRestricted):
        return "the video is age-restricted and needs a signed-in session, which is not supported; pick another video"
    if isinstance(exc, yta.VideoUnplayable):
        return f"the video is unplayable ({_one_line(exc.reason or 'no reason given')}); pick another video"
    if isinstance(exc, yta.YouTubeRequestFailed):
        # str(HTTPError) ends in "for url: ...?key=..."; the status line is what the user needs.
        status = exc.reason.split(" for url:", 1)[0]
        return f"request to YouTube failed ({_one_line(status)}); retry later"
    if isinstance(exc, yta.FailedToCreateConsentCookie):
        return "YouTube asked for cookie consent and it could not be given; retry later or use a proxy in another region"
    if isinstance(exc, (yta.YouTubeDataUnparsable, yta.PoTokenRequired, ParseError)):
        return (
            f"YouTube sent data that could not be read ({type(exc).__name__}); "
            "retry later or upgrade youtube-transcript-api"
        )
    return f"could not retrieve the transcript ({type(exc).__name__}); retry later or pick another video"


def _one_line(value: object) -> str:
    return _SPACES.sub(" ", str(value)).strip()


def clean_snippet(text: str) -> str:
    """Caption text on one line without non-speech markers.

        >>> clean_snippet("[음악] 안녕하세요,\\n반갑습니다")
        '안녕하세요, 반갑습니다'
        >>> clean_snippet("[Music]")
        ''
    """
    # NFC first, so lengths (and max_chars) count composed Hangul syllables, as stored.
    text = _NOISE_MARKER.sub(" ", normalize_text(text))
    if _MUSIC_ONLY.match(text):
        return ""
    return _SPACES.sub(" ", text).strip()


def group_snippets(snippets: Iterable[tuple[float, str]], max_chars: int) -> list[tuple[float, str]]:
    """Consecutive (start, text) snippets joined with spaces into groups of at most `max_chars`.

    A group's start is its first snippet's start (rounded to 0.1 s). A single snippet longer than
    `max_chars` is split at spaces (or hard, if it has none) into pieces sharing its start.

        >>> group_snippets([(0.0, "one two"), (1.5, "[Music]"), (2.04, "three")], max_chars=9)
        [(0.0, 'one two'), (2.0, 'three')]
    """
    groups: list[tuple[float, str]] = []
    start: float | None = None
    parts: list[str] = []
    length = 0
    for snippet_start, raw_text in snippets:
        for piece in _split_long(clean_snippet(raw_text), max_chars):
            added = len(piece) + (1 if parts else 0)
            if parts and length + added > max_chars:
                groups.append((start, " ".join(parts)))
                parts, length = [], 0
                added = len(piece)
            if not parts:
                start = round(float(snippet_start), 1)
            parts.append(piece)
            length += added
    if parts:
        groups.append((start, " ".join(parts)))
    return groups


def _split_long(text: str, max_chars: int) -> list[str]:
    pieces: list[str] = []
    while len(text) > max_chars:
        cut = text.rfind(" ", 0, max_chars + 1)
        if cut <= 0:
            cut = max_chars
        pieces.append(text[:cut].strip())
        text = text[cut:].strip()
    if text:
        pieces.append(text)
    return pieces


def _oembed_title(session, url: str) -> str | None:
    """The video title from YouTube's oEmbed endpoint, or None (a missing title never fails a load)."""
    import requests

    try:
        response = session.get(
            OEMBED_URL, params={"url": url, "format": "json"}, timeout=FETCH_TIMEOUT_SECONDS
        )
        response.raise_for_status()
        title = response.json().get("title")
    except (requests.RequestException, ValueError, AttributeError) as exc:
        log.debug("no oEmbed title for %s: %s", url, _one_line(exc))
        return None
    if not isinstance(title, str) or not title.strip():
        log.debug("no oEmbed title for %s: response has no title", url)
        return None
    return title.strip()
