"""HTML for the chat app: answers with clickable citation chips, the cited passage with its
supporting sentence highlighted, ingestion results and the sources table.

Pure functions over `Answer.to_dict()` (the SDK's JSON contract) and `SourceReport`/`SourceInfo`,
so they are tested without a browser. Every piece of text from documents, answers or users is
HTML-escaped here: nothing a document contains can inject markup into the page.

    >>> html = render_answer({"answer": "RAG는 검색 후 생성한다. [1]", "abstained": False,
    ...     "citations": [{"n": 1, "title": "RAG"}], "sentences": []}, turn=0, lang="ko")
    >>> 'class="cite-chip"' in html
    True
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import quote, unquote, urlparse

from rag_app.grounding import MARKER, markers_in, split_cited_sentences, strip_markers
from rag_app.ui.text import t

FILE_ROUTE = "/gradio_api/file="

# A paraphrased claim highlights the chunk's closest sentence when it shares at least half its
# content words (looser than the support check: this only shows where to look).
HIGHLIGHT_MIN_SUPPORT = 0.5


def esc(text: Any) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _lines(text: str) -> str:
    """Escaped text with line breaks kept."""
    return esc(text).replace("\n", "<br>")


# ---- answers ------------------------------------------------------------------------------
def chip(turn: int, n: int, lang: str, title: str | None = None) -> str:
    """A citation chip: a real <button>; the conversation's click handler sends (turn, n) to the server."""
    label = t(lang, "cite_tip", n=n) + (f": {title}" if title else "")
    return (
        f'<button type="button" class="cite-chip" data-turn="{turn}" data-n="{n}" '
        f'title="{esc(label)}" aria-label="{esc(label)}">{n}</button>'
    )


def _marked_text(raw: str, turn: int, titles: dict[int, str | None], lang: str) -> str:
    """Escape a sentence and turn its [n] markers into chips (markers without a citation stay text).
    Punctuation right after a marker ("생성합니다 [1].") goes before the chips."""
    out = []
    position = 0
    for match in MARKER.finditer(raw):
        out.append(esc(raw[position : match.start()]))
        position = match.end()
        trailing = re.match(r"[.!?。]+", raw[position:])
        if trailing:
            out.append(esc(trailing.group(0)))
            position += trailing.end()
        out.append(" ")
        for n in markers_in(match.group(0)):
            out.append(chip(turn, n, lang, titles.get(n)) if n in titles else f'<span class="cite-marker">[{n}]</span>')
    out.append(esc(raw[position:]))
    return "".join(out).strip()


def render_cited_text(text: str, sentences: Sequence[dict], titles: dict[int, str | None], turn: int, lang: str) -> str:
    """The answer text, sentence by sentence: markers become chips; sentences the SDK found
    unsupported by their citations get class "unsupported", a tooltip with the score and the
    judge's reason, and the reason in small text after the sentence."""
    supports = list(sentences)
    out: list[str] = []
    cursor = 0
    next_support = 0
    for raw in split_cited_sentences(text):
        start = text.find(raw, cursor)
        if start >= 0:
            gap = text[cursor:start]
            cursor = start + len(raw)
        else:
            gap = " "
        if out:
            out.append("<br>" * min(gap.count("\n"), 2) if "\n" in gap else " ")
        plain = strip_markers(raw)
        support = None
        for index in range(next_support, len(supports)):
            if supports[index].get("text") == plain:
                support, next_support = supports[index], index + 1
                break
        body = _marked_text(raw, turn, titles, lang)
        if support is not None and not support.get("supported", True):
            tip = f"{t(lang, 'unsupported_tip')} ({float(support.get('support', 0.0)):.0%})"
            reason = support.get("reason")
            if reason:  # the check's own words: "30일: 근거에 없음 (근거: 7일)"
                tip += f": {reason}"
                body += f' <small class="reason">{esc(reason)}</small>'
            out.append(f'<span class="sentence unsupported" title="{esc(tip)}">{body}</span>')
        else:
            out.append(f'<span class="sentence">{body}</span>')
    return "".join(out)


def render_answer(answer: dict, turn: int, lang: str) -> str:
    """One answer bubble. Abstentions get class "abstained" and their own look; answers with
    weakly supported sentences carry the SDK's warning and a legend."""
    if answer.get("abstained"):
        return (
            '<div class="bubble answer abstained" data-abstained="true">'
            f'<span class="role abstained-badge">ⓘ {esc(t(lang, "abstained_badge"))}</span>'
            f'<p class="answer-text">{_lines(answer.get("answer", ""))}</p>'
            f'<p class="hint">{esc(t(lang, "abstained_hint"))}</p></div>'
        )
    citations = answer.get("citations") or []
    titles = {int(c["n"]): c.get("title") or _basename(c.get("source")) for c in citations}
    sentences = answer.get("sentences") or []
    body = render_cited_text(answer.get("answer", ""), sentences, titles, turn, lang)
    parts = ['<div class="bubble answer answered" data-abstained="false">', f'<span class="role">{esc(t(lang, "assistant"))}</span>']
    if answer.get("warning"):
        parts.append(f'<p class="answer-warning">⚠ {esc(answer["warning"])}</p>')
    parts.append(f'<p class="answer-text">{body}</p>')
    if any(not s.get("supported", True) for s in sentences):
        parts.append(f'<p class="legend">{esc(t(lang, "unsupported_legend"))}</p>')
    meta = []
    if answer.get("rewritten_query"):
        meta.append(f'<span class="rewritten">{esc(t(lang, "rewritten"))}: {esc(answer["rewritten_query"])}</span>')
    if answer.get("provider"):
        meta.append(f'<span class="provider">{esc(answer["provider"])}</span>')
    if meta:
        parts.append(f'<p class="answer-meta">{" · ".join(meta)}</p>')
    steps = answer.get("steps") or []
    if steps:
        items = "".join(
            f"<li><code>{esc(step.get('tool', '?'))}</code> {esc(json.dumps(step.get('input', {}), ensure_ascii=False))}</li>"
            for step in steps
        )
        parts.append(f'<details class="agent-steps"><summary>{esc(t(lang, "agent_steps", n=len(steps)))}</summary><ol>{items}</ol></details>')
    parts.append("</div>")
    return "".join(parts)


def render_turn(index: int, turn: dict, lang: str) -> str:
    """turn: {"question", "text" (streamed so far), "answer" (Answer.to_dict() or None), "error"}."""
    question = (
        f'<div class="bubble question"><span class="role">{esc(t(lang, "you"))}</span>'
        f'<p>{_lines(turn.get("question", ""))}</p></div>'
    )
    if turn.get("error"):
        reply = (
            f'<div class="bubble answer error"><span class="role">⚠ {esc(t(lang, "error"))}</span>'
            f'<p class="answer-text">{_lines(turn["error"])}</p></div>'
        )
    elif turn.get("answer") is not None:
        reply = render_answer(turn["answer"], index, lang)
    else:
        streamed = turn.get("text") or ""
        shown = _lines(streamed) if streamed else f'<span class="thinking">{esc(t(lang, "thinking"))}</span>'
        reply = (
            f'<div class="bubble answer streaming"><span class="role">{esc(t(lang, "assistant"))}</span>'
            f'<p class="answer-text">{shown}</p></div>'
        )
    return f'<div class="turn" data-turn="{index}">{question}{reply}</div>'


def render_conversation(turns: Sequence[dict], lang: str) -> str:
    if not turns:
        return f'<div class="rag-conversation empty"><p class="empty-hint">{esc(t(lang, "empty_conversation"))}</p></div>'
    return '<div class="rag-conversation">' + "".join(render_turn(i, turn, lang) for i, turn in enumerate(turns)) + "</div>"


# ---- the cited source ---------------------------------------------------------------------
_LOCATION = re.compile(r"^(page|slide|row) (.+)$")


def localize_location(location: str | None, lang: str) -> str | None:
    """The SDK's "page 3" / "slide 5" / "row 17" / "02:03" in the interface language."""
    if not location:
        return None
    match = _LOCATION.match(location)
    if match:
        return t(lang, match.group(1), n=match.group(2))
    if re.fullmatch(r"\d+(?::\d\d){1,2}", location):
        return t(lang, "timestamp", t=location)
    return location


def source_href(link: str | None, served_roots: Iterable[Path] = ()) -> str | None:
    """A link the browser can open: web and YouTube URLs as they are; a file:// link to a file under
    one of `served_roots` (the app's uploads) through Gradio's file route; other file links as
    file:// (shown, though browsers do not open them from a web page). Anything else: None."""
    if not link:
        return None
    parsed = urlparse(link)
    if parsed.scheme in ("http", "https"):
        return link
    if parsed.scheme != "file":
        return None
    path = Path(unquote(parsed.path))
    for root in served_roots:
        try:
            path.resolve().relative_to(Path(root).resolve())
        except ValueError:
            continue
        fragment = f"#{parsed.fragment}" if parsed.fragment else ""
        return FILE_ROUTE + quote(str(path)) + fragment
    return link


def support_spans(chunk: str, claims: Iterable[str], judge=None) -> list[tuple[int, int]]:
    """Where in `chunk` the answer's sentences (`claims`) are supported: the claim itself when it
    is quoted verbatim (extractive answers), otherwise the chunk sentence the SDK's lexical support
    judge scores highest for it (when that reaches the SDK's "supported" threshold)."""
    spans: list[tuple[int, int]] = []
    paraphrased = []
    for claim in claims:
        claim = claim.strip()
        if not claim:
            continue
        span = find_quote(chunk, claim)
        if span is None and claim[-1:] in ".。!?":
            span = find_quote(chunk, claim[:-1])
        if span is not None:
            spans.append(span)
        else:
            paraphrased.append(claim)
    if paraphrased:
        from indexes.chunking import split_sentences
        from rag_app.support import LexicalJudge

        judge = judge or LexicalJudge()
        candidates = split_sentences(chunk)
        for claim in paraphrased:
            if not candidates:
                break
            scores = judge.score([(claim, sentence) for sentence in candidates])
            best = max(range(len(candidates)), key=scores.__getitem__)
            span = find_quote(chunk, candidates[best])
            if scores[best] >= HIGHLIGHT_MIN_SUPPORT and span is not None:
                spans.append(span)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def find_quote(chunk: str, quote: str) -> tuple[int, int] | None:
    """Where `quote` occurs in `chunk`, any run of whitespace matching any other (a sentence that
    a PDF wrapped over two lines is quoted with a space where the chunk has a line break)."""
    start = chunk.find(quote)
    if start >= 0:
        return start, start + len(quote)
    words = quote.split()
    if not words:
        return None
    match = re.search(r"\s+".join(map(re.escape, words)), chunk)
    return match.span() if match else None


def highlight(chunk: str, spans: Sequence[tuple[int, int]]) -> str:
    out = []
    position = 0
    for start, end in spans:
        out.append(esc(chunk[position:start]))
        out.append(f'<mark class="support">{esc(chunk[start:end])}</mark>')
        position = end
    out.append(esc(chunk[position:]))
    return "".join(out)


def render_source(answer: dict | None, n: int | None, lang: str, served_roots: Iterable[Path] = ()) -> str:
    """The sources panel for citation `n` of `answer`: title, location, link, and the cited chunk
    with the sentences that rely on it highlighted. Without a selection: a hint."""
    head = f'<div class="rag-sources"><h3>{esc(t(lang, "sources_title"))}</h3>'
    citation = None
    if answer is not None and n is not None:
        citation = next((c for c in answer.get("citations") or [] if int(c["n"]) == int(n)), None)
    if citation is None:
        return head + f'<p class="sources-hint">{esc(t(lang, "sources_hint"))}</p></div>'
    claims = [s["text"] for s in answer.get("sentences") or [] if int(n) in s.get("citations", [])]
    text = citation.get("text") or ""
    title = citation.get("title") or _basename(citation.get("source"))
    location = localize_location(citation.get("location"), lang)
    href = source_href(citation.get("link"), served_roots)
    meta = [f'<span class="source-location">{esc(location)}</span>'] if location else []
    meta.append(f'<span class="source-path" title="{esc(citation.get("source"))}">{esc(citation.get("source"))}</span>')
    link = (
        f'<a class="source-link" href="{esc(href)}" target="_blank" rel="noopener noreferrer">{esc(t(lang, "open_source"))} ↗</a>'
        if href
        else f'<span class="source-link none">{esc(t(lang, "no_link"))}</span>'
    )
    return (
        head
        + f'<div class="source-card" data-n="{int(n)}">'
        + f'<div class="source-head"><span class="cite-chip static">{int(n)}</span> <strong class="source-title">{esc(title)}</strong></div>'
        + f'<div class="source-meta">{" · ".join(meta)}</div>{link}'
        + f'<div class="source-text">{highlight(text, support_spans(text, claims))}</div></div></div>'
    )


def _basename(source: str | None) -> str:
    if not source:
        return ""
    if "://" in source:
        return source
    return Path(source).name or source


# ---- knowledge base -----------------------------------------------------------------------
def note(*lines: str, warn: bool = False) -> str:
    """A status line (or several), escaped."""
    return f'<p class="note{" warn" if warn else ""}">' + "<br>".join(esc(line) for line in lines) + "</p>"


def check_upload(name: str, size: int, max_mb: float, supported: Iterable[str], lang: str) -> str | None:
    """Why this upload is refused (type, size, empty), or None when it is fine."""
    suffix = Path(name).suffix.lower()
    types = ", ".join(sorted(supported))
    if suffix not in set(supported):
        return t(lang, "bad_type", suffix=suffix or "?", types=types)
    if size > max_mb * 1024 * 1024:
        return t(lang, "too_big", size=size / 1024 / 1024, mb=_mb(max_mb))
    if size == 0:
        return t(lang, "empty_file")
    return None


def _mb(value: float) -> str:
    return f"{value:g}"


def parse_urls(text: str, lang: str) -> tuple[list[str], list[tuple[str, str]]]:
    """One URL a line: (web and YouTube URLs, [(line, why refused)]). File paths and database URLs
    are refused: a web user must not make the server read its own files or databases."""
    from loaders import is_web_url, is_youtube

    urls, refused = [], []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if is_youtube(line) or is_web_url(line):
            urls.append(line)
        else:
            refused.append((line, t(lang, "bad_url")))
    return urls, refused


def render_reports(reports: Sequence[Any], lang: str, display: Callable[[str], str] = str) -> str:
    """Per-source results of an ingestion (SourceReport-like objects), one row each."""
    if not reports:
        return ""
    rows = []
    for report in reports:
        status = report.status
        if status == "failed":
            detail = report.error or ""
        elif status == "unchanged":
            detail = t(lang, "unchanged_detail", chunks=report.chunks)
        else:
            detail = t(lang, "chunks_detail", chunks=report.chunks, embedded=report.embedded)
        rows.append(
            f'<tr class="ingest-result status-{esc(status)}"><td class="result-source" title="{esc(report.source)}">'
            f'{esc(display(report.source))}</td><td class="result-status">{esc(t(lang, "status_" + status))}</td>'
            f'<td class="result-detail">{esc(detail)}</td></tr>'
        )
    return (
        f'<div class="ingest-results"><h4>{esc(t(lang, "results_title"))}</h4>'
        f'<table>{"".join(rows)}</table></div>'
    )


def render_sources_table(infos: Sequence[Any], lang: str, display: Callable[[str], str] = str) -> str:
    """The collection's sources (SourceInfo-like objects) with chunk counts and a remove button each."""
    if not infos:
        return f'<div class="sources-table empty"><p>{esc(t(lang, "no_sources"))}</p></div>'
    rows = []
    for info in infos:
        title = f'<div class="source-subtitle">{esc(info.title)}</div>' if info.title else ""
        rows.append(
            f'<tr data-source="{esc(info.source)}"><td class="source-name" title="{esc(info.source)}">{esc(display(info.source))}{title}</td>'
            f'<td class="source-type">{esc(info.source_type or "")}</td><td class="source-chunks">{int(info.chunks)}</td>'
            f'<td><button type="button" class="remove-source" data-source="{esc(info.source)}" '
            f'data-confirm="{esc(t(lang, "remove_confirm"))}">{esc(t(lang, "remove"))}</button></td></tr>'
        )
    return (
        '<div class="sources-table"><table><thead><tr>'
        f'<th>{esc(t(lang, "col_source"))}</th><th>{esc(t(lang, "col_type"))}</th><th>{esc(t(lang, "col_chunks"))}</th><th></th>'
        f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


# ---- browser side -------------------------------------------------------------------------
# Citation chips and remove buttons live in gr.HTML; one delegated listener per component sends
# the click to the server as a custom event (Gradio's `trigger`), so no other JavaScript is needed.
CHIP_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button.cite-chip');
  if (!button || !element.contains(button)) return;
  element.querySelectorAll('button.cite-chip.selected').forEach((b) => b.classList.remove('selected'));
  button.classList.add('selected');
  trigger('cite', {turn: Number(button.dataset.turn), n: Number(button.dataset.n)});
});
"""

REMOVE_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button.remove-source');
  if (!button || !element.contains(button)) return;
  if (!window.confirm(button.dataset.confirm)) return;
  trigger('remove', {source: button.dataset.source});
});
"""

# Enter while an IME is composing (Korean, Japanese, Chinese) commits the syllable; Gradio 6.31's
# Textbox submits on `keypress` without checking for that, so a half-typed question would be sent.
# Key events that belong to a composition are stopped before they reach any text box (the browser
# still commits the composition: keydown's default action is left alone): `isComposing`, keyCode 229 (Safari sends Enter after
# compositionend with it), or between compositionstart and compositionend.
IME_GUARD = """<script>
(() => {
  let composing = false;
  window.addEventListener('compositionstart', () => { composing = true; }, true);
  window.addEventListener('compositionend', () => { composing = false; }, true);
  const guard = (event) => {
    if (event.key !== 'Enter' || !(event.isComposing || event.keyCode === 229 || composing)) return;
    const target = event.target;
    if (!target || (target.tagName !== 'TEXTAREA' && target.tagName !== 'INPUT')) return;
    event.stopImmediatePropagation();
    // No keypress comes with a real IME's Enter; where one does, it must not add a line break either.
    if (event.type === 'keypress') event.preventDefault();
  };
  window.addEventListener('keydown', guard, true);
  window.addEventListener('keypress', guard, true);
  window.ragImeGuard = true;
})();
</script>"""

CSS = """
.rag-conversation { display: flex; flex-direction: column; gap: 14px; padding: 6px 2px; }
.rag-conversation.empty .empty-hint { color: var(--body-text-color-subdued); margin: 24px 4px; }
.rag-conversation .turn { display: flex; flex-direction: column; gap: 8px; }
.rag-conversation .bubble { border-radius: 12px; padding: 10px 14px; line-height: 1.7; max-width: 92%; }
.rag-conversation .bubble p { margin: 2px 0; }
.rag-conversation .bubble .role { display: block; font-size: 0.78em; font-weight: 600; opacity: 0.7; margin-bottom: 2px; }
.rag-conversation .question { align-self: flex-end; background: var(--color-accent-soft); }
.rag-conversation .answer { align-self: flex-start; background: var(--block-background-fill); border: 1px solid var(--border-color-primary); }
.rag-conversation .answer.abstained { background: repeating-linear-gradient(-45deg, var(--background-fill-secondary), var(--background-fill-secondary) 8px, transparent 8px, transparent 16px); border: 1px dashed var(--border-color-accent); color: var(--body-text-color-subdued); font-style: italic; }
.rag-conversation .answer.abstained .abstained-badge { font-style: normal; color: #b45309; opacity: 1; }
.rag-conversation .answer.error { border-color: #dc2626; background: #fef2f2; color: #991b1b; }
.rag-conversation .answer.streaming .thinking { opacity: 0.6; }
.rag-conversation .hint, .rag-conversation .legend, .rag-conversation .answer-meta { font-size: 0.82em; color: var(--body-text-color-subdued); }
.rag-conversation .answer-warning { font-size: 0.88em; color: #b45309; }
.rag-conversation .sentence .reason { font-size: 0.8em; color: #92400e; text-decoration: none; display: inline-block; }
.rag-conversation .sentence.unsupported { text-decoration: underline wavy #d97706; text-underline-offset: 4px; background: rgba(217, 119, 6, 0.08); cursor: help; }
button.cite-chip, span.cite-chip { display: inline-flex; align-items: center; justify-content: center; min-width: 1.5em; height: 1.5em; padding: 0 6px; margin: 0 2px; border-radius: 999px; border: 1px solid var(--color-accent); background: var(--color-accent-soft); color: var(--color-accent); font-size: 0.78em; font-weight: 700; line-height: 1; vertical-align: 0.15em; cursor: pointer; }
button.cite-chip:hover, button.cite-chip.selected { background: var(--color-accent); color: white; }
span.cite-chip.static { cursor: default; }
.cite-marker { color: var(--body-text-color-subdued); font-size: 0.8em; }
.rag-sources h3 { margin: 0 0 8px 0; font-size: 1em; }
.rag-sources .sources-hint { color: var(--body-text-color-subdued); font-size: 0.9em; }
.rag-sources .source-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px; }
.rag-sources .source-meta { font-size: 0.82em; color: var(--body-text-color-subdued); margin: 4px 0; word-break: break-all; }
.rag-sources .source-location { font-weight: 600; color: var(--body-text-color); }
.rag-sources .source-link { font-size: 0.88em; }
.rag-sources .source-text { white-space: pre-wrap; margin-top: 8px; font-size: 0.9em; line-height: 1.65; max-height: 420px; overflow-y: auto; background: var(--background-fill-secondary); padding: 8px 10px; border-radius: 8px; }
.rag-sources mark.support { background: #fde68a; color: #111827; padding: 1px 0; border-radius: 3px; }
.ingest-results table, .sources-table table { width: 100%; border-collapse: collapse; border: none; font-size: 0.9em; }
.ingest-results .result-status { white-space: nowrap; }
.ingest-results table td, .sources-table table td, .sources-table table th { padding: 6px 8px; border: none; border-bottom: 1px solid var(--border-color-primary); text-align: left; vertical-align: top; }
.sources-table table th { white-space: nowrap; font-weight: 600; }
.ingest-result.status-added .result-status, .ingest-result.status-updated .result-status { color: #15803d; font-weight: 600; }
.ingest-result.status-unchanged .result-status { color: var(--body-text-color-subdued); }
.ingest-result.status-failed .result-status, .ingest-result.status-failed .result-detail { color: #b91c1c; font-weight: 600; }
.sources-table .source-name { word-break: break-all; }
.sources-table .source-subtitle { font-size: 0.85em; color: var(--body-text-color-subdued); }
.sources-table .source-chunks { text-align: right; }
button.remove-source { white-space: nowrap; font-size: 0.85em; border: 1px solid #dc2626; color: #dc2626; border-radius: 6px; padding: 2px 10px; background: transparent; cursor: pointer; }
button.remove-source:hover { background: #dc2626; color: white; }
#conversation { min-height: 420px; }
p.note { margin: 4px 2px; font-size: 0.92em; }
p.note.warn { color: #b91c1c; }
"""
