"""The Gradio chat app (`rag-app serve`): chat with cited answers, a knowledge base, settings.

Every answer, ingestion and removal goes through the SDK (`RagApp`, `ChatSession`); this module
only keeps per-browser-session state and turns SDK results into HTML (rag_app/ui/render.py).
Gradio is imported inside `build`/`run`, so importing this module (the CLI does) stays light.

    from rag_app.config import Settings
    from rag_app import ui
    demo = ui.build(Settings(collection="samples"))
    demo.launch(server_name="127.0.0.1", server_port=7860, **ui.launch_kwargs(Settings(), 50))

Safe by default: binds to 127.0.0.1, `--share` is opt-in, optional username/password
(`--auth USER:PASS` or RAG_APP_AUTH), uploads are checked for type and size, URLs must be web or
YouTube addresses (never server paths or database URLs), and API keys typed into the app live in
that browser session's memory only: never shown again, logged or written to disk.
"""

# No `from __future__ import annotations`: Gradio reads the handlers' `gr.EventData` annotations
# at run time, and `gr` is imported inside `build`.
import argparse
import logging
import os
import shutil
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag_app.ui.text import LANGUAGES, t
from rag_app.uploads import ingest_staged, safe_filename, staging_path, uploads_root

log = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_MB = 50.0
MAX_SHARED_APPS = 4  # RagApp instances kept for questions (each holds an embedder and an open store)
ASK_CONCURRENCY = 4  # questions answered at the same time (ingestion runs in its own queue)
STREAM_INTERVAL_S = 0.08  # shortest time between two updates of a streaming answer
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
PROVIDERS = ("extractive", "openai", "gemini", "hf", "openai-compatible")
MODES = ("hybrid", "dense", "bm25", "tfidf")
KEY_FIELDS = {"openai": "openai_api_key", "gemini": "google_api_key"}


# ---- command line -------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--share", action="store_true", help="also open a public *.gradio.live link (off by default)")
    parser.add_argument(
        "--auth", metavar="USER:PASS",
        help="require this username and password (or set RAG_APP_AUTH=USER:PASS, which keeps it out of the process list)",
    )
    parser.add_argument(
        "--max-upload-mb", type=float, default=DEFAULT_MAX_UPLOAD_MB,
        help=f"largest file that can be uploaded, in MB (default {DEFAULT_MAX_UPLOAD_MB:g})",
    )
    parser.add_argument("--lang", choices=LANGUAGES, default="ko", help="interface language (default ko; switchable in the app)")


def parse_auth(spec: str | None) -> list[tuple[str, str]] | None:
    """"user:pass" or "user1:pass1,user2:pass2" -> [(user, pass), ...]; None when unset."""
    if not spec:
        return None
    pairs = []
    for item in spec.split(","):
        user, sep, password = item.strip().partition(":")
        if not sep or not user or not password:
            from rag_app.errors import ConfigError

            raise ConfigError("--auth / RAG_APP_AUTH must be USER:PASS (several: USER1:PASS1,USER2:PASS2)")
        pairs.append((user, password))
    return pairs


def run(args: argparse.Namespace, settings) -> int:
    auth = parse_auth(getattr(args, "auth", None) or os.environ.get("RAG_APP_AUTH"))
    if args.host not in LOCAL_HOSTS and not auth:
        log.warning("listening on %s without --auth: anyone who can reach this address can use the app", args.host)
    if args.max_upload_mb <= 0:
        from rag_app.errors import ConfigError

        raise ConfigError(f"--max-upload-mb must be positive, got {args.max_upload_mb:g}")
    demo = build(settings, lang=args.lang, max_upload_mb=args.max_upload_mb)
    options = launch_kwargs(settings, args.max_upload_mb)
    options["quiet"] = not args.share  # with --share, Gradio prints the public link
    try:
        demo.launch(
            server_name=args.host, server_port=args.port, share=args.share, auth=auth, prevent_thread_lock=True, **options
        )
    except OSError as exc:  # the port is taken, or the address is not this machine's
        from rag_app.errors import ConfigError

        raise ConfigError(f"cannot listen on {args.host}:{args.port} ({exc}); pass another --port or --host") from None
    print(f"rag-app: collection {settings.collection!r} at http://{_url_host(args.host)}:{args.port} (Ctrl-C stops)", flush=True)
    try:
        demo.block_thread()
    finally:
        demo.close()
    return 0


def _url_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)


def launch_kwargs(settings, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB) -> dict[str, Any]:
    """Options for `Blocks.launch` (Gradio 6 takes theme, CSS and head there, not in `Blocks`)."""
    import gradio as gr

    from rag_app.ui.render import CSS, IME_GUARD

    theme = gr.themes.Soft(
        primary_hue="indigo",
        # System fonts only (nothing is fetched); Hangul falls back to whichever Korean font is installed.
        font=["Pretendard", "Noto Sans KR", "Nanum Gothic", "NanumGothic", "Apple SD Gothic Neo", "Malgun Gothic", "sans-serif"],
    )
    return {
        "theme": theme,
        "css": CSS,
        "head": IME_GUARD,
        "max_file_size": int(max_upload_mb * 1024 * 1024),
        "allowed_paths": [str(uploads_root(settings))],  # uploaded files open from the sources panel
        "run_history": False,  # the browser keeps no record of inputs (an API key among them)
        "footer_links": ["gradio", "settings"],
        "ssr_mode": False,
        "show_error": False,  # errors are shown in the app as one line, never a stack trace
        "quiet": True,
    }


# ---- collections ------------------------------------------------------------------------
def list_collections(home: Path, manifest_url: str | None = None) -> list[str]:
    """Names of the collections in the catalogue (under `home` unless `manifest_url` says where)."""
    from indexes.store import list_collections as stored_collections

    return stored_collections(home, manifest_url)


# ---- per-session state and shared apps ----------------------------------------------------
@dataclass
class UISession:
    """One browser session: language, collection, answer settings, its API key and its chat."""

    lang: str
    collection: str
    provider: str = "extractive"  # one of PROVIDERS ("openai-compatible" is openai with a base URL)
    model: str | None = None
    base_url: str | None = None
    mode: str = "hybrid"
    k: int = 5
    agent: bool = False
    keys: dict[str, Any] = field(default_factory=dict, repr=False)  # provider -> SecretStr, memory only
    history: list = field(default_factory=list)  # ChatSession history (the SDK keeps the last turns)
    turns: list[dict] = field(default_factory=list)  # everything shown: question, streamed text, answer dict
    own_app: tuple[str, Any] | None = field(default=None, repr=False)  # the app holding this session's key

    @classmethod
    def from_settings(cls, settings, lang: str) -> "UISession":
        provider = "openai-compatible" if settings.provider == "openai" and settings.base_url else settings.provider
        return cls(
            lang=lang, collection=settings.collection, provider=provider, model=settings.model,
            base_url=settings.base_url, mode=settings.mode, k=settings.k, agent=settings.agent,
        )

    @property
    def sdk_provider(self) -> str:
        return "openai" if self.provider == "openai-compatible" else self.provider

    def settings_update(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "provider": self.sdk_provider,
            "model": self.model or None,
            "base_url": self.base_url or None,
            "agent": self.agent,
        }

    def key_update(self) -> dict[str, Any]:
        field_name = KEY_FIELDS.get(self.sdk_provider)
        secret = self.keys.get(self.sdk_provider)
        return {field_name: secret} if field_name and secret is not None else {}

    def reset_chat(self) -> None:
        self.history.clear()
        self.turns.clear()

    def redact(self, text: str) -> str:
        for secret in self.keys.values():
            value = secret.get_secret_value()
            if value:
                text = text.replace(value, "***")
        return text


class AppPool:
    """RagApp instances for the sessions. Sessions with the same settings share one app (an app
    loads the embedder and opens the store once); a session with its own API key gets its own app,
    kept in that session only, so a key never serves another user."""

    def __init__(self, base_settings, max_apps: int = MAX_SHARED_APPS, app_factory=None):
        self.base = base_settings
        self.app_factory = app_factory  # settings -> RagApp; default RagApp(settings=...)
        self.max_apps = max_apps
        self._apps: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def settings_for(self, session: UISession):
        return self.base.model_copy(update=session.settings_update())

    def _new(self, settings):
        if self.app_factory is not None:
            return self.app_factory(settings)
        from rag_app.app import RagApp

        return RagApp(settings=settings)

    def get(self, session: UISession):
        settings = self.settings_for(session)
        fingerprint = settings.model_dump_json(exclude={"openai_api_key", "google_api_key"})
        keys = session.key_update()
        if keys:
            if session.own_app is None or session.own_app[0] != fingerprint:
                session.own_app = (fingerprint, self._new(settings.model_copy(update=keys)))
            return session.own_app[1]
        with self._lock:
            app = self._apps.get(fingerprint)
            if app is None:
                app = self._new(settings)
                self._apps[fingerprint] = app
                while len(self._apps) > self.max_apps:
                    self._apps.popitem(last=False)
            self._apps.move_to_end(fingerprint)
            return app


# ---- the app ------------------------------------------------------------------------------
def build(settings=None, *, lang: str = "ko", max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB, app_factory=None):
    """The Gradio Blocks of the app over `settings` (home, collection, provider...). Launch it with
    `launch_kwargs(settings, max_upload_mb)`. `app_factory(settings) -> RagApp` replaces how the
    apps are made (a RagApp subclass, say); by default `RagApp(settings=settings)`."""
    import gradio as gr

    from loaders import SUPPORTED_SUFFIXES, is_file_source
    from loaders.errors import RagError
    from rag_app.app import SourceReport
    from rag_app.config import Settings
    from rag_app.llm.conversation import ChatSession
    from rag_app.ui import render

    settings = settings or Settings()
    lang = lang if lang in LANGUAGES else "ko"
    pool = AppPool(settings, app_factory=app_factory)
    uploads = uploads_root(settings)
    uploads.mkdir(parents=True, exist_ok=True)
    served = [uploads]
    types = ", ".join(sorted(SUPPORTED_SUFFIXES))

    def display(source: str) -> str:
        """Files by their name (the full path is in the tooltip), URLs as they are."""
        return Path(source).name if is_file_source(source) else source

    def new_session() -> UISession:
        return UISession.from_settings(settings, lang)

    # -- rendering of the session's dynamic parts
    def conversation_html(session: UISession) -> str:
        return render.render_conversation(session.turns, session.lang)

    def source_html(session: UISession, turn: int | None = None, n: int | None = None) -> str:
        answer = session.turns[turn]["answer"] if turn is not None and 0 <= turn < len(session.turns) else None
        return render.render_source(answer, n, session.lang, served)

    def kb_views(session: UISession):
        """(sources table, collection line, collection choices) for the session's collection."""
        try:
            infos = pool.get(session).sources()
        except RagError as exc:
            return render.render_sources_table([], session.lang), render.note(f"⚠ {exc}", warn=True), gr.update()
        chunks = sum(info.chunks for info in infos)
        info_line = render.note(
            t(session.lang, "collection_info", name=session.collection, sources=len(infos), chunks=chunks)
            if infos
            else t(session.lang, "collection_empty", name=session.collection)
        )
        choices = sorted(set(list_collections(settings.home, settings.manifest_url)) | {session.collection})
        return (
            render.render_sources_table(infos, session.lang, display),
            info_line,
            gr.update(choices=choices, value=session.collection),
        )

    def unexpected(session: UISession, exc: Exception, what: str) -> str:
        # Only the type and a redacted message reach the log: never a key, never a traceback in the UI.
        log.error("%s failed: %s: %s", what, type(exc).__name__, session.redact(str(exc))[:300])
        return t(session.lang, "unexpected", kind=type(exc).__name__)

    translated: list[tuple[Any, dict[str, Any]]] = []  # (component, {property: text key or fn(lang)})

    def tr(component, **props):
        translated.append((component, props))
        return component

    def provider_choices(lang_: str):
        keys = {"openai-compatible": "provider_compatible"}
        return [(t(lang_, keys.get(p, f"provider_{p}")), p) for p in PROVIDERS]

    def mode_choices(lang_: str):
        return [(t(lang_, f"mode_{m}"), m) for m in MODES]

    def flow_choices(lang_: str):
        return [(t(lang_, "flow_chain"), "chain"), (t(lang_, "flow_agent"), "agent")]

    initial = new_session()
    # delete_cache: Gradio's copies of uploaded files go after a day (ours are under home/uploads).
    with gr.Blocks(title="RAG 문서 도우미 · Document Q&A", analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        session_state = gr.State(new_session)
        with gr.Row(equal_height=True):
            tr(gr.Markdown(f"## {t(lang, 'title')}\n{t(lang, 'subtitle')}", elem_id="header"), value=lambda l: f"## {t(l, 'title')}\n{t(l, 'subtitle')}")
            language = gr.Radio(
                [("한국어", "ko"), ("English", "en")], value=lang, label="언어 / Language", show_label=False,
                container=False, elem_id="language", scale=0, min_width=220,
            )
        with gr.Tabs():
            with tr(gr.Tab(t(lang, "tab_chat"), id="chat", elem_id="tab-chat"), label="tab_chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=420):
                        conversation = gr.HTML(
                            conversation_html(initial), elem_id="conversation", js_on_load=render.CHIP_JS,
                            max_height=640, autoscroll=True, padding=True,
                        )
                        with gr.Row(equal_height=True):
                            question = tr(
                                gr.Textbox(
                                    label=t(lang, "question_label"), show_label=False, placeholder=t(lang, "question_placeholder"),
                                    lines=1, max_lines=6, scale=8, elem_id="question", autofocus=True,
                                ),
                                label="question_label", placeholder="question_placeholder",
                            )
                            send = tr(gr.Button(t(lang, "send"), variant="primary", scale=1, min_width=90, elem_id="send"), value="send")
                            new_chat = tr(gr.Button(t(lang, "new_chat"), variant="secondary", scale=1, min_width=90, elem_id="new-chat"), value="new_chat")
                    with gr.Column(scale=2, min_width=320):
                        source_panel = gr.HTML(source_html(initial), elem_id="source-panel", js_on_load=None, padding=True)
            with tr(gr.Tab(t(lang, "tab_kb"), id="kb", elem_id="tab-kb"), label="tab_kb"):
                with gr.Row():
                    collection = tr(
                        gr.Dropdown(
                            choices=sorted(set(list_collections(settings.home, settings.manifest_url)) | {initial.collection}),
                            value=initial.collection, label=t(lang, "collection"), elem_id="collection", scale=2,
                        ),
                        label="collection",
                    )
                    new_name = tr(
                        gr.Textbox(label=t(lang, "new_collection"), placeholder=t(lang, "new_collection_placeholder"), elem_id="new-collection", scale=2),
                        label="new_collection", placeholder="new_collection_placeholder",
                    )
                    create = tr(gr.Button(t(lang, "create_collection"), elem_id="create-collection", scale=1), value="create_collection")
                kb_info = gr.HTML("", elem_id="kb-info", js_on_load=None)
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1):
                        files = tr(
                            gr.File(
                                label=t(lang, "upload_label", types=types, mb=render._mb(max_upload_mb)),
                                file_count="multiple", type="filepath", elem_id="upload",
                            ),
                            label=lambda l: t(l, "upload_label", types=types, mb=render._mb(max_upload_mb)),
                        )
                        urls = tr(
                            gr.Textbox(label=t(lang, "urls_label"), placeholder=t(lang, "urls_placeholder"), lines=3, elem_id="urls"),
                            label="urls_label", placeholder="urls_placeholder",
                        )
                        ingest_button = tr(gr.Button(t(lang, "ingest"), variant="primary", elem_id="ingest"), value="ingest")
                        results = gr.HTML("", elem_id="ingest-results", js_on_load=None)
                    with gr.Column(scale=1):
                        tr(gr.Markdown(f"#### {t(lang, 'sources_table')}"), value=lambda l: f"#### {t(l, 'sources_table')}")
                        sources_table = gr.HTML(render.render_sources_table([], lang), elem_id="sources", js_on_load=render.REMOVE_JS)
            with tr(gr.Tab(t(lang, "tab_settings"), id="settings", elem_id="tab-settings"), label="tab_settings"):
                with gr.Row():
                    with gr.Column():
                        provider = tr(
                            gr.Dropdown(provider_choices(lang), value=initial.provider, label=t(lang, "provider"), elem_id="provider"),
                            label="provider", choices=provider_choices,
                        )
                        model = tr(
                            gr.Textbox(value=initial.model or "", label=t(lang, "model"), placeholder=t(lang, "model_placeholder"), elem_id="model"),
                            label="model", placeholder="model_placeholder",
                        )
                        base_url = tr(
                            gr.Textbox(value=initial.base_url or "", label=t(lang, "base_url"), placeholder=t(lang, "base_url_placeholder"), elem_id="base-url"),
                            label="base_url", placeholder="base_url_placeholder",
                        )
                        api_key = tr(
                            gr.Textbox(value="", type="password", label=t(lang, "api_key"), placeholder=t(lang, "api_key_placeholder"), elem_id="api-key"),
                            label="api_key", placeholder="api_key_placeholder",
                        )
                    with gr.Column():
                        mode = tr(
                            gr.Dropdown(mode_choices(lang), value=initial.mode, label=t(lang, "mode"), elem_id="mode"),
                            label="mode", choices=mode_choices,
                        )
                        k = tr(gr.Slider(1, max(20, initial.k), value=initial.k, step=1, label=t(lang, "k"), elem_id="k"), label="k")
                        flow = tr(
                            gr.Radio(flow_choices(lang), value="agent" if initial.agent else "chain", label=t(lang, "flow"), elem_id="flow"),
                            label="flow", choices=flow_choices,
                        )
                        with gr.Row():
                            apply = tr(gr.Button(t(lang, "apply"), variant="primary", elem_id="apply-settings"), value="apply")
                            forget = tr(gr.Button(t(lang, "clear_key"), elem_id="forget-key"), value="clear_key")
                settings_status = gr.HTML("", elem_id="settings-status", js_on_load=None)

        # -- chat
        def ask(text: str, session: UISession):
            text = (text or "").strip()
            if not text:
                yield gr.update(), gr.update()
                return
            turn = {"question": text, "text": "", "answer": None, "error": None}
            session.turns.append(turn)
            yield "", conversation_html(session)
            try:
                chat = ChatSession(pool.get(session), history=session.history)
                last = time.monotonic()
                for item in chat.stream(text, k=session.k, mode=session.mode):
                    if isinstance(item, str):
                        turn["text"] += item
                        if time.monotonic() - last >= STREAM_INTERVAL_S:
                            last = time.monotonic()
                            yield gr.update(), conversation_html(session)
                    else:
                        turn["answer"] = item.to_dict()  # the final, verified text replaces the streamed one
            except RagError as exc:
                turn["error"] = session.redact(str(exc))
            except Exception as exc:  # noqa: BLE001 - shown as one line, details in the server log
                turn["error"] = unexpected(session, exc, "question")
            if turn["answer"] is None and turn["error"] is None:
                turn["error"] = t(session.lang, "unexpected", kind="no answer")
            yield gr.update(), conversation_html(session)

        def reset(session: UISession):
            session.reset_chat()
            return conversation_html(session), source_html(session), ""

        def show_source(session: UISession, evt: gr.EventData):
            data = getattr(evt, "_data", None) or {}
            try:
                turn, n = int(data.get("turn")), int(data.get("n"))
            except (TypeError, ValueError):
                return gr.update()
            return source_html(session, turn, n)

        ask_options = dict(
            inputs=[question, session_state], outputs=[question, conversation],
            concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask", show_progress="minimal",
        )
        question.submit(ask, **ask_options)
        send.click(ask, **ask_options)
        new_chat.click(reset, inputs=[session_state], outputs=[conversation, source_panel, question])
        conversation.cite(show_source, inputs=[session_state], outputs=[source_panel], show_progress="hidden")

        # -- knowledge base
        def ingest(paths, url_text, session: UISession, progress=gr.Progress()):
            lang_ = session.lang
            # (source to ingest, refusal, where an upload is kept once it is in the index). An upload
            # is staged in .pending/ beside the stored copy and replaces it only after its ingestion
            # succeeded, so a failed re-upload leaves the old file, which the index still matches.
            jobs: list[tuple[str, str | None, Path | None]] = []
            for path in paths or []:
                name = safe_filename(Path(path).name)
                refusal = render.check_upload(name, Path(path).stat().st_size, max_upload_mb, SUPPORTED_SUFFIXES, lang_)
                if refusal:
                    jobs.append((name, refusal, None))
                    continue
                target = uploads / session.collection / name
                staged = staging_path(target)
                shutil.copyfile(path, staged)
                jobs.append((str(staged), None, target))
            good_urls, refused = render.parse_urls(url_text, lang_)
            jobs += [(url, None, None) for url in good_urls] + [(line, why, None) for line, why in refused]
            if not jobs:
                return f'<p class="ingest-empty">{render.esc(t(lang_, "nothing_to_ingest"))}</p>', *kb_views(session), gr.update(), gr.update()
            reports = []
            todo = sum(1 for _, refusal, _ in jobs if refusal is None)
            done = 0
            for source, refusal, target in jobs:
                if refusal is not None:
                    reports.append(SourceReport(source=source, status="failed", error=refusal))
                    continue
                progress((done, todo), desc=t(lang_, "ingesting", name=display(source)))
                # URLs typed into the app are fetched in safe mode: public addresses only, unless
                # the operator allows more (RAG_APP_URL_ALLOW); every redirect is checked.
                # Through a function, so that a session whose app cannot be made still has its
                # staged upload deleted by ingest_staged.
                def ingest_one(sources, **options):
                    return pool.get(session).ingest(sources, safe_urls=True, **options)

                try:
                    if target is None:
                        report = ingest_one([source])[0]
                    else:  # the staged upload replaces the stored copy only if it ingested
                        report = ingest_staged(ingest_one, Path(source), target)
                except RagError as exc:
                    report = SourceReport(source=source, status="failed", error=session.redact(str(exc)))
                except Exception as exc:  # noqa: BLE001 - one bad source never stops the others
                    report = SourceReport(source=source, status="failed", error=unexpected(session, exc, "ingestion"))
                reports.append(report)
                done += 1
            progress((todo, todo))
            # Uploaded files by their name; refused lines exactly as typed.
            names = {source: display(source) if refusal is None else source for source, refusal, _ in jobs}
            return render.render_reports(reports, lang_, lambda s: names.get(s, display(s))), *kb_views(session), None, ""

        def remove(session: UISession, evt: gr.EventData):
            source = (getattr(evt, "_data", None) or {}).get("source")
            if not source:
                return gr.update(), *kb_views(session)
            try:
                removed = pool.get(session).remove(source)
            except RagError as exc:
                return f'<p class="remove-status error">⚠ {render.esc(exc)}</p>', *kb_views(session)
            if removed and is_file_source(source) and Path(source).resolve().is_relative_to(uploads.resolve()):
                Path(source).unlink(missing_ok=True)
            key = "removed" if removed else "not_removed"
            message = t(session.lang, key, source=display(source), n=removed)
            return f'<p class="remove-status">{render.esc(message)}</p>', *kb_views(session)

        def switch_collection(name: str, session: UISession, created: bool = False):
            from indexes.store import check_collection_name

            try:
                check_collection_name(name or "")
            except RagError as exc:
                return (render.note(f"⚠ {exc}", warn=True), gr.update(), gr.update(), gr.update(), gr.update(), gr.update())
            if name != session.collection:
                session.collection = name
                session.reset_chat()
            table, info_line, choices = kb_views(session)
            note = t(session.lang, "collection_created" if created else "collection_switched", name=name)
            return info_line + render.note(note), table, choices, conversation_html(session), source_html(session), ""

        def create_collection(name: str, session: UISession):
            return switch_collection((name or "").strip(), session, created=True)

        kb_outputs = [results, sources_table, kb_info, collection]
        ingest_button.click(
            ingest, inputs=[files, urls, session_state], outputs=[*kb_outputs, files, urls],
            concurrency_limit=1, concurrency_id="ingest",
        )
        sources_table.remove(remove, inputs=[session_state], outputs=kb_outputs)
        switch_outputs = [kb_info, sources_table, collection, conversation, source_panel, new_name]
        collection.input(switch_collection, inputs=[collection, session_state], outputs=switch_outputs)
        create.click(create_collection, inputs=[new_name, session_state], outputs=switch_outputs)
        new_name.submit(create_collection, inputs=[new_name, session_state], outputs=switch_outputs)

        # -- settings
        def key_status(session: UISession) -> str:
            if session.sdk_provider not in KEY_FIELDS:
                return ""
            if session.keys.get(session.sdk_provider) is not None:
                return t(session.lang, "key_set")
            base_key = pool.base.model_copy(update={"provider": session.sdk_provider}).provider_key()
            return t(session.lang, "key_env" if base_key else "key_none")

        def apply_settings(provider_, model_, base_url_, key_, mode_, k_, flow_, session: UISession):
            from pydantic import SecretStr

            notes = []
            if provider_ == "openai-compatible" and not (base_url_ or "").strip():
                return render.note(f"⚠ {t(session.lang, 'base_url_needed')}", warn=True), ""
            session.provider = provider_ if provider_ in PROVIDERS else "extractive"
            session.model = (model_ or "").strip() or None
            session.base_url = (base_url_ or "").strip() or None
            session.mode = mode_ if mode_ in MODES else "hybrid"
            session.k = max(1, min(int(k_ or 5), 100))
            session.agent = flow_ == "agent"
            if key_ and key_.strip():
                if session.sdk_provider in KEY_FIELDS:
                    session.keys[session.sdk_provider] = SecretStr(key_.strip())
                else:
                    notes.append(t(session.lang, "key_ignored"))
            label = next((text for text, value in provider_choices(session.lang) if value == session.provider), session.provider)
            mode_label = next((text for text, value in mode_choices(session.lang) if value == session.mode), session.mode)
            flow_label = t(session.lang, "flow_agent" if session.agent else "flow_chain").split(":")[0]
            lines = [t(session.lang, "settings_saved", provider=label, mode=mode_label, k=session.k, flow=flow_label)]
            lines += [key_status(session)] + notes
            return render.note(*(line for line in lines if line)), ""  # the key box is always emptied

        def forget_key(session: UISession):
            session.keys.clear()
            session.own_app = None
            return render.note(t(session.lang, "key_cleared")), ""

        apply.click(
            apply_settings, inputs=[provider, model, base_url, api_key, mode, k, flow, session_state],
            outputs=[settings_status, api_key],
        )
        forget.click(forget_key, inputs=[session_state], outputs=[settings_status, api_key])

        # -- language and first load
        def switch_language(lang_: str, session: UISession):
            session.lang = lang_ if lang_ in LANGUAGES else "ko"
            updates = []
            for _component, props in translated:
                values = {}
                for prop, key in props.items():
                    values[prop] = key(session.lang) if callable(key) else t(session.lang, key)
                updates.append(gr.update(**values))
            table, info_line, choices = kb_views(session)
            return (*updates, conversation_html(session), source_html(session), table, info_line)

        language.input(
            switch_language, inputs=[language, session_state],
            outputs=[c for c, _ in translated] + [conversation, source_panel, sources_table, kb_info],
        )

        def on_load(session: UISession):
            table, info_line, choices = kb_views(session)
            return table, info_line, choices

        demo.load(on_load, inputs=[session_state], outputs=[sources_table, kb_info, collection])
    # Every event returns HTML rendered for this page, so none is an API: private events are left
    # out of /gradio_api/info and the API page, and gradio_client refuses them. Programs use
    # `rag-app api` (JSON, OpenAI-compatible; rag_app/serve/api.py) over the same RagApp.
    for event in demo.fns.values():
        event.api_visibility = "private"
    demo.queue(default_concurrency_limit=8)
    return demo
