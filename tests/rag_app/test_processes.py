"""Real `rag-app` processes on one home: killed mid-write (SIGKILL at each step of a write, and at
random moments), and several writers plus readers at once. Each check reads the collection from a
fresh process, as the next user would: Chroma's ids must equal the catalogue's, every source once.

The kill points are the store's test hook (RAG_APP_TEST_PAUSE_AT, indexes/store.py): the write
prints "paused at POINT" and sleeps there, holding the write lock, until it is killed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

RAG_APP = Path(sys.executable).with_name("rag-app")
PAUSE_POINTS = ["after_intent", "inside_upsert", "after_upsert", "after_commit"]

# Prints the collection as a fresh process sees it (Chroma ids, catalogue ids, sources, intents).
STATE_SCRIPT = """
import json, sys
from pathlib import Path
from indexes.store import ChunkStore, chroma_client
home, collection = Path(sys.argv[1]), sys.argv[2]
store = ChunkStore(home, collection, "unused")
catalogue = store.catalogue
chroma = chroma_client(home / "chroma").get_or_create_collection(store.store_name, embedding_function=None)
print(json.dumps({
    "chroma": sorted(chroma.get(include=[])["ids"]),
    "catalogue": sorted(catalogue.all_ids()),
    "sources": [row[0] for row in catalogue.sources()],
    "intents": len(catalogue.intents()),
}))
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_APP_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", **extra)
    return env


def rag(home: Path, *args: str, env: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RAG_APP), *args, "--home", str(home)],
        capture_output=True,
        text=True,
        env=env or _env(),
        timeout=timeout,
    )


def state(home: Path, collection: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", STATE_SCRIPT, str(home), collection],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_consistent(home: Path, collection: str) -> dict:
    seen = state(home, collection)
    assert seen["chroma"] == seen["catalogue"], "Chroma and the catalogue disagree"
    assert len(seen["sources"]) == len(set(seen["sources"])), "a source is listed twice"
    return seen


def note(folder: Path, name: str, fact: str, sentences: int = 4) -> Path:
    """A short Korean note whose one fact (a code word) only this note holds."""
    folder.mkdir(parents=True, exist_ok=True)
    filler = " ".join(f"{name} 문서의 {i}번째 문장은 사내 규정의 일반적인 내용을 설명한다." for i in range(sentences))
    path = folder / f"{name}.txt"
    path.write_text(f"# {name}\n\n{filler}\n\n{name} 담당자의 내선 번호는 {fact}번이다.\n", encoding="utf-8")
    return path


def kill_when_paused(process: subprocess.Popen, point: str, timeout: float = 180) -> None:
    """Wait for the write to reach `point`, then SIGKILL it."""
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        if f"paused at {point}" in line:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            return
    process.kill()
    pytest.fail(f"the ingest never paused at {point}: {''.join(lines)[-2000:]}")


def cited_sources(home: Path, collection: str, question: str) -> set[str]:
    done = rag(home, "ask", question, "--collection", collection, "--json")
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    return {Path(c["source"]).name for c in json.loads(done.stdout)["citations"]}


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


def test_sigkill_at_every_step_of_a_write_never_serves_unlisted_chunks_and_a_rerun_completes(tmp_path, home):
    docs = tmp_path / "docs"
    for i in range(3):
        note(docs, f"base{i}", f"10{i}")
    done = rag(home, "ingest", str(docs), "--collection", "kills")
    assert done.returncode == 0, done.stderr
    expected = len(assert_consistent(home, "kills")["catalogue"])

    for n, point in enumerate(PAUSE_POINTS):
        new = note(docs, f"new{n}", f"7{n}{n}{n}")
        process = subprocess.Popen(
            [str(RAG_APP), "ingest", str(docs), "--collection", "kills", "--home", str(home)],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=_env(RAG_APP_TEST_PAUSE_AT=point),
        )
        kill_when_paused(process, point)
        seen = state(home, "kills")
        committed = str(new) in seen["sources"]
        assert committed == (point == "after_commit"), (point, seen["sources"])
        assert seen["intents"] == 1  # the killed write's intent is left for the next writer
        if point in ("inside_upsert", "after_upsert"):
            assert set(seen["chroma"]) > set(seen["catalogue"])  # vectors written, not committed
        # Served only if listed: the unlisted new note is never cited.
        cited = cited_sources(home, "kills", f"new{n} 담당자 내선 번호가 뭐야?")
        assert (new.name in cited) == committed, (point, cited)

        rerun = rag(home, "ingest", str(docs), "--collection", "kills")
        assert rerun.returncode == 0, rerun.stderr
        assert "Traceback" not in rerun.stderr
        if point != "after_intent":
            assert "interrupted write" in rerun.stderr  # the reconcile says what it did, in one line
        seen = assert_consistent(home, "kills")
        assert seen["intents"] == 0
        assert sorted(seen["sources"]) == sorted(str(p) for p in docs.glob("*.txt"))
        chunks_per_note = expected // 3
        assert len(seen["catalogue"]) == chunks_per_note * len(seen["sources"])
        assert new.name in cited_sources(home, "kills", f"new{n} 담당자 내선 번호가 뭐야?")


def test_sigkill_at_random_moments_of_a_large_ingest_then_rerun(tmp_path, home):
    docs = tmp_path / "docs"
    for i in range(24):
        note(docs, f"doc{i:02d}", f"5{i:02d}", sentences=12)
    generator = random.Random(13)
    for _ in range(3):
        process = subprocess.Popen(
            [str(RAG_APP), "ingest", str(docs), "--collection", "random", "--home", str(home)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        time.sleep(generator.uniform(4.0, 9.0))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stderr.close()
        if (home / "catalogue.sqlite").exists():
            seen = state(home, "random")
            assert set(seen["chroma"]) >= set(seen["catalogue"])  # nothing listed is missing its vector
    rerun = rag(home, "ingest", str(docs), "--collection", "random")
    assert rerun.returncode == 0 and "Traceback" not in rerun.stderr, rerun.stderr
    seen = assert_consistent(home, "random")
    assert sorted(seen["sources"]) == sorted(str(p) for p in docs.glob("*.txt"))
    again = rag(home, "ingest", str(docs), "--collection", "random")
    assert again.returncode == 0
    assert assert_consistent(home, "random")["catalogue"] == seen["catalogue"]  # idempotent


def test_three_writers_a_remover_and_a_reader_on_one_home(tmp_path, home):
    shared = note(tmp_path / "shared", "shared", "4444")
    folders = []
    for w in range(3):
        folder = tmp_path / f"writer{w}"
        for i in range(5):
            note(folder, f"w{w}doc{i}", f"{w}{i}{w}{i}", sentences=8)
        folders.append(folder)
    doomed = [note(tmp_path / "doomed", f"doomed{i}", f"9{i}9{i}") for i in range(4)]
    assert rag(home, "ingest", str(tmp_path / "doomed"), "--collection", "mix").returncode == 0

    writers = [
        subprocess.Popen(
            [str(RAG_APP), "ingest", str(folder), str(shared), "--collection", "mix", "--home", str(home)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        for folder in folders
    ]
    # While they write: remove the doomed notes one by one, asking between removals.
    answers = []
    for path in doomed:
        removed = rag(home, "remove", str(path), "--collection", "mix")
        assert removed.returncode == 0 and "Traceback" not in removed.stderr, removed.stderr
        asked = rag(home, "ask", "doomed3 담당자 내선 번호는?", "--collection", "mix", "--json")
        assert asked.returncode == 0 and "Traceback" not in asked.stderr, asked.stderr
        answers.append({Path(c["source"]).name for c in json.loads(asked.stdout)["citations"]})
    outputs = [writer.communicate(timeout=600) for writer in writers]
    for writer, (out, err) in zip(writers, outputs):
        assert writer.returncode == 0, err
        assert "Traceback" not in err
    # Once doomed3 was removed (the last removal), no answer may cite it.
    assert "doomed3.txt" not in answers[-1]

    seen = assert_consistent(home, "mix")
    expected = sorted([str(p) for folder in folders for p in folder.glob("*.txt")] + [str(shared)])
    assert sorted(seen["sources"]) == expected  # nothing lost, nothing doubled, the removed gone
    assert "w2doc4.txt" in cited_sources(home, "mix", "w2doc4 담당자 내선 번호는?")


def test_two_processes_ingesting_the_same_source_agree(tmp_path, home):
    folder = tmp_path / "same"
    for i in range(6):
        note(folder, f"same{i}", f"6{i}6{i}", sentences=10)
    writers = [
        subprocess.Popen(
            [str(RAG_APP), "ingest", str(folder), "--collection", "same", "--home", str(home)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        for _ in range(2)
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=600)
        assert writer.returncode == 0 and "Traceback" not in err, err
    seen = assert_consistent(home, "same")
    assert sorted(seen["sources"]) == sorted(str(p) for p in folder.glob("*.txt"))
    single = tmp_path / "single"
    assert rag(single, "ingest", str(folder), "--collection", "same").returncode == 0
    assert len(seen["catalogue"]) == len(state(single, "same")["catalogue"])  # no chunk twice


def test_eight_threads_asking_one_instance_get_the_answers_one_thread_gets(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from rag_app import RagApp

    docs = tmp_path / "docs"
    for i in range(8):
        note(docs, f"team{i}", f"3{i}0{i}")
    app = RagApp(home=tmp_path / "home", collection="threads")
    app.ingest([str(docs)])
    questions = [f"team{i} 담당자 내선 번호가 뭐야?" for i in range(8)]
    alone = [app.ask(q) for q in questions]
    fresh = RagApp(home=tmp_path / "home", collection="threads")  # its own answer caches: the first asks race
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(fresh.ask, questions))
    for i, (one, many) in enumerate(zip(alone, together)):
        assert f"3{i}0{i}" in one.answer
        assert many.answer == one.answer
        assert [c.source for c in many.citations] == [c.source for c in one.citations]


def test_a_writer_that_waits_too_long_gets_one_line_pointing_to_server_mode(tmp_path, home):
    docs = tmp_path / "docs"
    note(docs, "first", "1111")
    holder = subprocess.Popen(
        [str(RAG_APP), "ingest", str(docs), "--collection", "busy", "--home", str(home)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(RAG_APP_TEST_PAUSE_AT="after_intent"),
    )
    try:
        for line in holder.stderr:  # the holder now sits inside its write, lock held
            if "paused at after_intent" in line:
                break
        other = note(tmp_path / "other", "second", "2222")
        waited = rag(home, "ingest", str(other), "--collection", "busy", env=_env(RAG_APP_WRITE_LOCK_TIMEOUT="2"))
        assert waited.returncode == 1
        assert "Traceback" not in waited.stderr
        [line] = [l for l in waited.stderr.splitlines() if "being written by another process" in l]
        assert "RAG_APP_CHROMA_URL" in line and "RAG_APP_MANIFEST_URL" in line
        asked = rag(home, "sources", "--collection", "busy")  # readers are not blocked by the writer
        assert "Traceback" not in asked.stderr
    finally:
        holder.kill()
        holder.wait(timeout=30)


# Opens the catalogue, or the vector store, of a home at the moment its parent sends (on stdin),
# so that all workers of a round reach the first open together.
OPEN_AT_ONCE_SCRIPT = """
import os, sys, time
from pathlib import Path
import numpy as np
from indexes.catalogue import Catalogue, default_url
from indexes.store import ChunkStore
what, home = sys.argv[1], Path(sys.argv[2])
print("ready", flush=True)
start = float(sys.stdin.readline())
while time.time() < start:  # a busy wait: the race windows are a millisecond wide
    pass
try:
    if what == "catalogue":
        Catalogue(default_url(home), "race").sources()
    else:
        ChunkStore(home, "race", "test")._collection().upsert(ids=[f"p{os.getpid()}"], embeddings=np.ones((1, 3)))
    print("ok", flush=True)
except Exception as exc:  # what a user would see
    print(f"{type(exc).__name__}: {exc}".splitlines()[0], flush=True)
"""


def _open_at_once(tmp_path, what: str, rounds: int, processes: int) -> list[str]:
    """Each round, `processes` workers open `what` in one fresh home at the same moment; what
    each one that failed said."""
    failures = []
    for round_ in range(rounds):
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_AT_ONCE_SCRIPT, what, str(tmp_path / f"home{round_}")],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env=_env(),
            )
            for _ in range(processes)
        ]
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        start = time.time() + 0.3
        for worker in workers:
            worker.stdin.write(f"{start}\n")
            worker.stdin.flush()
        for worker in workers:
            out, _ = worker.communicate(timeout=120)
            if out.strip() != "ok":
                failures.append(out.strip())
    return failures


def test_processes_opening_a_new_catalogue_at_once_all_succeed(tmp_path):
    # Two ingests starting together on a fresh home once failed with "database is locked": both
    # switched the new file to WAL at the same moment, and SQLite fails one of them at once.
    assert _open_at_once(tmp_path, "catalogue", rounds=12, processes=6) == []


def test_processes_opening_a_new_vector_store_at_once_all_succeed(tmp_path):
    # Embedded Chroma's migrations and collection creation race between processes
    # ("table collections already exists", "database is locked") unless they take turns.
    assert _open_at_once(tmp_path, "vectors", rounds=8, processes=4) == []
