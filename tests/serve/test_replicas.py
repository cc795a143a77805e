"""Two replicas on real servers: two `rag-app api` processes with different homes share a Chroma
server (`chroma run`, RAG_APP_CHROMA_URL) and a catalogue on a throwaway PostgreSQL cluster
(RAG_APP_MANIFEST_URL). Each replica stays up for the whole test, so its in-memory BM25 index must
follow the other's writes through the catalogue's change log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from pg_server import PgCluster, PgUnavailable, free_port

RAG_APP = Path(sys.executable).with_name("rag-app")
CHROMA = Path(sys.executable).with_name("chroma")
COLLECTION = "공유문서"  # a Korean name: the store derives a Chroma-safe one
PASSWORD = "replica-secret"


def _wait(url: str, process: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not answer at {url}")


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """(chroma URL, catalogue URL): a Chroma server and a PostgreSQL database, both on 127.0.0.1."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed; pip install 'rag-app[postgres]'")
    if not CHROMA.exists():
        pytest.skip("the chroma command (chromadb package) is not installed")
    try:
        cluster = PgCluster.start()
    except PgUnavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    chroma = None
    try:
        with psycopg.connect(cluster.superuser_conninfo(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE rag LOGIN PASSWORD '{PASSWORD}'")
            conn.execute("CREATE DATABASE catalogue OWNER rag")
        port = free_port()
        chroma = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(tmp_path_factory.mktemp("chroma")), "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        chroma_url = f"http://127.0.0.1:{port}"
        _wait(f"{chroma_url}/api/v2/heartbeat", chroma, "chroma run")
        yield chroma_url, f"postgresql+psycopg://rag:{PASSWORD}@127.0.0.1:{cluster.port}/catalogue"
    finally:
        if chroma is not None:
            chroma.terminate()
            chroma.wait(timeout=30)
        cluster.stop()


class Replica:
    def __init__(self, name: str, home: Path, chroma_url: str, manifest_url: str):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_APP_")}
        env.update(RAG_APP_CHROMA_URL=chroma_url, RAG_APP_MANIFEST_URL=manifest_url, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        self.log = home.parent / f"{name}.log"
        self.process = subprocess.Popen(
            [str(RAG_APP), "api", "--home", str(home), "--collection", COLLECTION, "--port", str(self.port)],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            env=env,
        )
        _wait(f"{self.url}/health", self.process, f"replica {name}")

    def ingest(self, files: dict[str, str]) -> list[dict]:
        upload = [("files", (name, text.encode("utf-8"), "text/plain")) for name, text in files.items()]
        response = requests.post(f"{self.url}/v1/ingest", files=upload, data={"collection": COLLECTION}, timeout=600)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def sources(self) -> list[str]:
        response = requests.get(f"{self.url}/v1/sources", params={"collection": COLLECTION}, timeout=60)
        assert response.status_code == 200, response.text
        return sorted(row["source"] for row in response.json()["data"])

    def ask(self, question: str) -> dict:
        response = requests.post(
            f"{self.url}/v1/chat/completions",
            json={"model": COLLECTION, "messages": [{"role": "user", "content": question}]},
            timeout=120,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def cited(self, question: str) -> set[str]:
        body = self.ask(question)
        return {Path(c["source"]).name for c in body["citations"]}

    def remove(self, source: str) -> dict:
        response = requests.delete(f"{self.url}/v1/sources", json={"source": source, "collection": COLLECTION}, timeout=120)
        assert response.status_code == 200, response.text
        return response.json()

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(timeout=30)
        return self.log.read_text(errors="replace")


def note(name: str, code: str) -> dict[str, str]:
    body = " ".join(f"{name} 문서는 공유 카탈로그 시험용 {i}번째 문장을 담고 있다." for i in range(4))
    return {f"{name}.txt": f"# {name}\n\n{body}\n\n{name} 금고의 비밀 번호는 {code}이다.\n"}


def test_two_replicas_see_each_others_writes_and_agree_after_concurrent_ingests(servers, tmp_path):
    chroma_url, manifest_url = servers
    a = Replica("a", tmp_path / "home-a", chroma_url, manifest_url)
    b = Replica("b", tmp_path / "home-b", chroma_url, manifest_url)
    try:
        [alpha] = a.ingest(note("alpha", "1357"))
        assert alpha["status"] == "added"
        assert b.sources() == [alpha["source"]]  # B lists what A wrote
        reply = b.ask("alpha 금고 비밀 번호가 뭐야?")
        assert "1357" in reply["choices"][0]["message"]["content"]
        assert {Path(c["source"]).name for c in reply["citations"]} == {"alpha.txt"}

        [beta] = b.ingest(note("beta", "2468"))
        assert a.sources() == sorted([alpha["source"], beta["source"]])
        assert "beta.txt" in a.cited("beta 금고 비밀 번호는?")

        assert a.remove(alpha["source"])["removed"] == 1
        assert b.sources() == [beta["source"]]
        assert "alpha.txt" not in b.cited("alpha 금고 비밀 번호가 뭐야?")  # B stops citing it

        batches = {
            a: {k: v for i in range(15) for k, v in note(f"a{i:02d}", f"1{i:03d}").items()},
            b: {k: v for i in range(15) for k, v in note(f"b{i:02d}", f"2{i:03d}").items()},
        }
        reports: dict[Replica, list[dict]] = {}
        threads = [threading.Thread(target=lambda r=r: reports.__setitem__(r, r.ingest(batches[r]))) for r in (a, b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=900)
        assert all(row["status"] == "added" for r in (a, b) for row in reports[r]), reports
        expected = sorted([beta["source"]] + [row["source"] for r in (a, b) for row in reports[r]])
        assert len(expected) == 31
        assert a.sources() == b.sources() == expected
        assert "b07.txt" in a.cited("b07 금고 비밀 번호는?")
        assert "a11.txt" in b.cited("a11 금고 비밀 번호는?")
    finally:
        logs = a.stop() + b.stop()
    assert "Traceback" not in logs, logs[-3000:]

    # The catalogue and the Chroma server hold the same chunks, each once.
    import chromadb

    from indexes.catalogue import Catalogue
    from indexes.store import store_name

    catalogue_ids = sorted(Catalogue(manifest_url, COLLECTION).all_ids())
    host, port = chroma_url.rsplit(":", 1)
    client = chromadb.HttpClient(host=host.removeprefix("http://"), port=int(port))
    chroma_ids = sorted(client.get_collection(store_name(COLLECTION)).get(include=[])["ids"])
    assert chroma_ids == catalogue_ids and len(catalogue_ids) == 31
