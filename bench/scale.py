"""How the app's own costs grow with the collection: 1k -> 100k chunks through the SDK.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/scale.py                      # 1k, 10k, 30k, 100k
    .venv/bin/python bench/scale.py --max 10000                          # stop earlier
    .venv/bin/python bench/scale.py --step-sizes 1000,5000,20000 --json out.json

Chunks are ~250-character Korean texts made from KorQuAD dev paragraphs (../shared/data, read in
place): the sentences of one paragraph in a shuffled order, prefixed by a document number, so
100,000 documents are all distinct. Each is one source and one chunk, ingested with
`RagApp.ingest_documents` in calls of 1,000. The embedder is a stand-in (hashed character
bigrams -> 384-d unit vectors in numpy, ~20 µs a text), so only the app's own work is timed:
Kiwi, chunking, Chroma, the catalogue, the lexical index and the vector moments.

At each size N:
  batch ingest s   time to grow from the previous size to N (calls of --batch documents)
  1-doc write s    one small new document into the N-chunk collection (median of --writes)
  first query ms   the first hybrid retrieve after that write, same process (median of --writes)
  warm p50/p95 ms  hybrid retrieve (k=5) of --queries KorQuAD questions
  fresh query ms   a new process (subprocess): the first hybrid retrieve after the writes, which
                   loads the lexical snapshot and applies the change log (Kiwi is loaded first,
                   and reported apart: it costs the same at any N)
  peak RSS MB      the benchmark process's peak resident memory so far, and the fresh process's
  disk MB          everything under the home (Chroma + catalogue + lexical snapshot)
  lexical B/chunk  LexicalIndex.memory_bytes() / N (numpy arrays), and the whole index as loaded
                   from its snapshot in the fresh process (tracemalloc: arrays + Python dicts/lists)

Numbers depend on the machine; the README's table came from a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data"
KORQUAD = DATA / "korquad_v1_dev" / "KorQuAD_v1.0_dev.shared.json"
COLLECTION = "scale"
DIMENSION = 384
TARGET_CHARS = 250
DEFAULT_STEPS = (1_000, 10_000, 30_000, 100_000)


class HashedBigramEmbedder:
    """Deterministic stand-in: a signed hash of each character bigram into 384 buckets, then L2
    normalised. Stable across processes (no Python `hash`), so a subprocess embeds queries alike.

        >>> e = HashedBigramEmbedder()
        >>> e.embed_query("연차는 15일이다").shape
        (384,)
    """

    name = "hashed-bigram-384"

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(text) for text in texts]) if texts else np.zeros((0, DIMENSION), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    @staticmethod
    def _vector(text: str) -> np.ndarray:
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        keys = codes[:-1] * np.uint64(1_000_003) + codes[1:] if len(codes) > 1 else codes
        hashed = keys * np.uint64(0x9E3779B97F4A7C15)  # wraps modulo 2**64
        buckets = ((hashed >> np.uint64(33)) % np.uint64(DIMENSION)).astype(np.int64)
        signs = ((hashed >> np.uint64(17)) & np.uint64(1)).astype(np.float64) * 2.0 - 1.0
        vector = np.bincount(buckets, weights=signs, minlength=DIMENSION).astype(np.float32)
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            vector[0], norm = 1.0, 1.0
        return vector / norm


# ---- corpus ---------------------------------------------------------------------------------
def load_korquad() -> tuple[list[tuple[str, list[str]]], list[str]]:
    """([(title, sentences of one paragraph)], questions), read from ../shared/data."""
    from indexes.chunking import split_sentences

    if not KORQUAD.is_file():
        sys.exit(f"missing {KORQUAD}; this benchmark reads KorQuAD dev from ../shared/data")
    data = json.loads(KORQUAD.read_text(encoding="utf-8"))
    paragraphs, questions = [], []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            paragraphs.append((article["title"], split_sentences(paragraph["context"])))
            questions.extend(q["question"] for q in paragraph["qas"])
    return paragraphs, questions


def make_text(number: int, paragraphs: list[tuple[str, list[str]]]) -> tuple[str, str]:
    """(title, ~250-character text) for document `number`: a paragraph's sentences, shuffled by
    the number, up to the target length, after the document number."""
    title, sentences = paragraphs[number % len(paragraphs)]
    rng = random.Random(number)
    order = sentences[:]
    rng.shuffle(order)
    parts = [f"[자료 {number}]"]
    length = len(parts[0])
    for sentence in order:
        if length >= TARGET_CHARS - 40:
            break
        parts.append(sentence)
        length += len(sentence) + 1
    text = " ".join(parts)
    if len(text) > TARGET_CHARS + 60:  # one very long sentence: cut at a space
        cut = text.rfind(" ", 0, TARGET_CHARS + 20)
        text = text[: cut if cut > TARGET_CHARS // 2 else TARGET_CHARS + 20]
    return title, text


def make_documents(start: int, stop: int, paragraphs):
    from langchain_core.documents import Document

    documents = []
    for number in range(start, stop):
        title, text = make_text(number, paragraphs)
        documents.append(
            Document(page_content=text, metadata={"source": f"bench://scale/{number:07d}", "source_type": "text", "title": title})
        )
    return documents


# ---- measurements ---------------------------------------------------------------------------
def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss over
    fork and exec, so a subprocess of a big process would report its parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def disk_mb(path: Path) -> float:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total / 2**20


def percentile(values: list[float], share: float) -> float:
    return float(np.percentile(np.asarray(values), share * 100))


def make_app(home: Path):
    from rag_app import RagApp

    return RagApp(home=home, collection=COLLECTION, embedder=HashedBigramEmbedder())


def fresh_process_query(home: Path, question: str) -> dict:
    """Run this script as a new process that answers one question first thing (see child_main)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    result = subprocess.run(
        [sys.executable, __file__, "--child", str(home), "--child-question", question],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800,
    )
    if result.returncode != 0:
        raise RuntimeError(f"fresh-process query failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def child_main(home: Path, question: str) -> None:
    """A new process: the app, Kiwi warmed (a fixed cost), then the first retrieve timed, with the
    time spent bringing the lexical index up to date (snapshot load + change log) inside it."""
    started = time.perf_counter()
    app = make_app(home)
    construct_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    app.terms("형태소 분석기를 불러온다")
    kiwi_ms = (time.perf_counter() - started) * 1000
    snapshot = app.store.snapshot_directory / "index.json"
    snapshot_seq = json.loads(snapshot.read_text())["seq"] if snapshot.is_file() else None

    spent = {"bm25": 0.0, "_collection": 0.0, "dense_search": 0.0}  # inclusive ms
    real_bm25 = app.store.bm25

    def timed(name):
        real = getattr(app.store, name)

        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                spent[name] += (time.perf_counter() - began) * 1000

        return wrapper

    # The retriever and dense_search call these through the store instance: the lexical index
    # (snapshot + change log), opening Chroma, and the dense search (which includes both).
    for name in spent:
        setattr(app.store, name, timed(name))
    started = time.perf_counter()
    app.retrieve(question, k=5, mode="hybrid")
    first_ms = (time.perf_counter() - started) * 1000
    lexical_first_ms = spent["bm25"]
    chroma_open_ms, dense_ms = spent["_collection"], spent["dense_search"]
    started = time.perf_counter()
    app.retrieve(question, k=5, mode="hybrid")
    second_ms = (time.perf_counter() - started) * 1000
    index = real_bm25()
    rss_mb = peak_rss_mb()

    # The whole lexical index as a replica holds it after loading the snapshot (numpy reports its
    # allocations to tracemalloc, so arrays and Python objects are both counted).
    import tracemalloc

    from indexes.lexical import LexicalIndex

    tracemalloc.start()
    loaded = LexicalIndex.load(app.store.snapshot_directory)
    footprint = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(
        json.dumps(
            {
                "construct_ms": construct_ms,
                "kiwi_ms": kiwi_ms,
                "first_ms": first_ms,
                "lexical_first_ms": lexical_first_ms,
                "chroma_open_ms": chroma_open_ms,
                "dense_search_ms": dense_ms,
                "second_ms": second_ms,
                "changes_applied": index.seq - snapshot_seq if snapshot_seq is not None else None,
                "peak_rss_mb": rss_mb,
                "lexical_footprint_bytes": footprint,
                "lexical_chunks": len(loaded) if loaded is not None else 0,
            }
        )
    )


def run(args) -> list[dict]:
    paragraphs, questions = load_korquad()
    rng = random.Random(0)
    queries = rng.sample(questions, args.queries + args.writes + 1)
    warm_queries, after_write_queries, fresh_question = (
        queries[: args.queries],
        queries[args.queries : args.queries + args.writes],
        queries[-1],
    )
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="rag-scale-"))
    if args.home and home.exists() and any(home.iterdir()):
        sys.exit(f"{home} is not empty; give a new --home")
    print(f"home: {home}", file=sys.stderr)
    app = make_app(home)
    app.terms("형태소 분석기를 불러온다")  # Kiwi's model load is a one-off, not part of any step
    steps = [size for size in args.step_sizes if size < args.max] + [args.max]
    rows: list[dict] = []
    size = 0
    extra = 10_000_000  # numbers of the one-document writes (outside the batch range)
    try:
        for target in steps:
            began = time.perf_counter()
            calls = []
            while size < target:
                stop = min(size + args.batch, target)
                documents = make_documents(size, stop, paragraphs)
                call_began = time.perf_counter()
                app.ingest_documents(documents)
                calls.append(time.perf_counter() - call_began)
                size = stop
            ingest_s = time.perf_counter() - began
            chunks_in_step = target - (rows[-1]["chunks"] if rows else 0)

            writes_s, first_ms = [], []
            for query in after_write_queries:
                [document] = make_documents(extra, extra + 1, paragraphs)
                document.metadata["source"] = f"bench://scale/write-{extra}"
                extra += 1
                write_began = time.perf_counter()
                app.ingest_documents([document])
                writes_s.append(time.perf_counter() - write_began)
                query_began = time.perf_counter()
                app.retrieve(query, k=5, mode="hybrid")
                first_ms.append((time.perf_counter() - query_began) * 1000)

            warm = []
            for query in warm_queries:
                query_began = time.perf_counter()
                app.retrieve(query, k=5, mode="hybrid")
                warm.append((time.perf_counter() - query_began) * 1000)

            fresh = fresh_process_query(home, fresh_question)
            chunks = app.store.count()
            lexical = app.store.bm25()
            row = {
                "chunks": chunks,
                "ingest_s": ingest_s,
                "ingest_chunks_per_s": chunks_in_step / ingest_s if ingest_s else 0.0,
                "last_call_s": calls[-1] if calls else 0.0,
                "write_s": statistics.median(writes_s),
                "writes_s": writes_s,
                "first_ms": statistics.median(first_ms),
                "firsts_ms": first_ms,
                "warm_p50_ms": percentile(warm, 0.50),
                "warm_p95_ms": percentile(warm, 0.95),
                "fresh_first_ms": fresh["first_ms"],
                "fresh": fresh,
                "peak_rss_mb": peak_rss_mb(),
                "disk_mb": disk_mb(home),
                "lexical_bytes_per_chunk": lexical.memory_bytes() / max(len(lexical), 1),
                "lexical_footprint_per_chunk": fresh["lexical_footprint_bytes"] / max(fresh["lexical_chunks"], 1),
            }
            rows.append(row)
            print(
                f"{chunks:>7,} chunks: ingest {ingest_s:.1f} s, write {row['write_s']:.3f} s, first {row['first_ms']:.1f} ms, "
                f"warm p95 {row['warm_p95_ms']:.1f} ms, fresh {row['fresh_first_ms']:.0f} ms",
                file=sys.stderr, flush=True,
            )
    finally:
        if not args.keep and not args.home:
            shutil.rmtree(home, ignore_errors=True)
    return rows


def print_table(rows: list[dict]) -> None:
    print(
        "| chunks | batch ingest s (chunks/s) | last 1k call s | 1-doc write s | first query ms | warm p50 ms | warm p95 ms "
        "| fresh-process first query ms (lexical load + log) | peak RSS MB (bench / fresh process) | disk MB (KB/chunk) "
        "| lexical B/chunk (arrays / whole) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        fresh = r["fresh"]
        print(
            f"| {r['chunks']:,} | {r['ingest_s']:.1f} ({r['ingest_chunks_per_s']:.0f}) | {r['last_call_s']:.2f} | {r['write_s']:.3f} "
            f"| {r['first_ms']:.1f} | {r['warm_p50_ms']:.1f} | {r['warm_p95_ms']:.1f} "
            f"| {r['fresh_first_ms']:.0f} ({fresh['lexical_first_ms']:.0f} + {fresh['changes_applied']} changes) "
            f"| {r['peak_rss_mb']:.0f} / {fresh['peak_rss_mb']:.0f} | {r['disk_mb']:.0f} ({r['disk_mb'] * 1024 / r['chunks']:.1f}) "
            f"| {r['lexical_bytes_per_chunk']:.0f} / {r['lexical_footprint_per_chunk']:.0f} |"
        )
    fresh = rows[-1]["fresh"]
    print(
        f"\n(fresh process, largest size: app construction {fresh['construct_ms']:.0f} ms and Kiwi load "
        f"{fresh['kiwi_ms']:.0f} ms before the first query; inside it: lexical index {fresh['lexical_first_ms']:.0f} ms, "
        f"opening Chroma {fresh['chroma_open_ms']:.0f} ms, dense search {fresh['dense_search_ms']:.0f} ms (includes both); "
        f"second query {fresh['second_ms']:.0f} ms)"
    )


def print_targets(rows: list[dict]) -> None:
    first, last = rows[0], rows[-1]
    print("\nTargets (issue 13):")

    def line(name: str, ok: bool | None, detail: str) -> None:
        verdict = "n/a " if ok is None else ("PASS" if ok else "FAIL")
        print(f"- [{verdict}] {name}: {detail}")

    if last["chunks"] >= 100_000 and first["chunks"] <= 1_100 and len(rows) > 1:
        ratio = last["write_s"] / first["write_s"]
        line("one-document write at 100k within 3x the write at 1k", ratio <= 3,
             f"{last['write_s']:.3f} s vs {first['write_s']:.3f} s = {ratio:.2f}x")
    else:
        line("one-document write at 100k within 3x the write at 1k", None,
             f"needs steps at 1k and 100k (ran {first['chunks']:,}..{last['chunks']:,})")
    for r in rows:
        ratio = r["first_ms"] / r["warm_p50_ms"]
        is_last = r is last
        line(f"first query after the write within 3x a warm query ({r['chunks']:,} chunks)", ratio <= 3,
             f"{r['first_ms']:.1f} ms vs warm p50 {r['warm_p50_ms']:.1f} ms = {ratio:.2f}x" + ("" if is_last else " (info)"))
    if last["chunks"] >= 100_000:
        line("warm hybrid retrieve p95 <= 100 ms at 100k", last["warm_p95_ms"] <= 100, f"{last['warm_p95_ms']:.1f} ms")
    else:
        line("warm hybrid retrieve p95 <= 100 ms at 100k", None, f"stopped at {last['chunks']:,} ({last['warm_p95_ms']:.1f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max", type=int, default=DEFAULT_STEPS[-1], help="stop at this many chunks (default 100,000)")
    parser.add_argument("--step-sizes", type=lambda s: sorted(int(x) for x in s.split(",")), default=list(DEFAULT_STEPS),
                        help="collection sizes to measure at, comma-separated (default 1000,10000,30000,100000)")
    parser.add_argument("--batch", type=int, default=1_000, help="documents (= chunks) per ingest call")
    parser.add_argument("--queries", type=int, default=50, help="warm queries per step")
    parser.add_argument("--writes", type=int, default=3, help="one-document writes per step (the median is shown)")
    parser.add_argument("--home", help="an empty directory to build in (kept); default: a temporary one")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    parser.add_argument("--json", help="also write the rows here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-question", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(Path(args.child), args.child_question)
        return
    if args.max <= 0 or args.batch <= 0:
        parser.error("--max and --batch must be positive")
    rows = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    print_table(rows)
    print_targets(rows)


if __name__ == "__main__":
    main()
