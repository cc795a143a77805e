"""The catalogue: what each collection holds, in any SQLAlchemy database.

Sources, chunk ids and their lexical terms, the running sums of the vectors (for the hybrid
retriever's z-scores), a change log, and write intents. It is the source of truth: Chroma holds the
vectors and texts, and a chunk is in the collection when, and only when, the catalogue lists it.

    sqlite:///HOME/catalogue.sqlite      the default: one file under the home
    postgresql+psycopg://USER@HOST/DB    shared by replicas (RAG_APP_MANIFEST_URL / --manifest-url)

Every write appends to `rag_changes` (one row per chunk added or deleted, plus one per source
touched), so a process that already holds a collection's lexical index applies only the changes
after the last sequence number it saw: a replica learns of another's ingest on its next question.
Writers of one collection take a lock (an advisory lock on PostgreSQL, a file lock beside a
SQLite file) for the whole write, so change sequence numbers commit in order.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine, make_url

from indexes.errors import StoreError

# SQLite autoincrements only an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for a long log.
SEQUENCE = BigInteger().with_variant(Integer, "sqlite")
# How long a writer waits for another writer of the same collection before giving up.
WRITE_LOCK_TIMEOUT = float(os.environ.get("RAG_APP_WRITE_LOCK_TIMEOUT", "300"))

schema = MetaData()
meta_table = Table(
    "rag_meta",
    schema,
    Column("collection", String(255), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
sources_table = Table(
    "rag_sources",
    schema,
    Column("collection", String(255), primary_key=True),
    Column("source", Text, primary_key=True),
    Column("source_type", Text),
    Column("title", Text),
    Column("chunks", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
)
chunks_table = Table(
    "rag_chunks",
    schema,
    Column("collection", String(255), primary_key=True),
    Column("id", String(128), primary_key=True),
    Column("source", Text, nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("tokens", Text, nullable=False),  # JSON list of lexical terms
    Index("rag_chunks_by_source", "collection", "source"),
)
changes_table = Table(
    "rag_changes",
    schema,
    Column("seq", SEQUENCE, primary_key=True, autoincrement=True),
    Column("collection", String(255), nullable=False),
    Column("op", String(8), nullable=False),  # add | del | source
    Column("chunk_id", String(128)),
    Index("rag_changes_by_collection", "collection", "seq"),
)
moments_table = Table(
    "rag_moments",
    schema,
    Column("collection", String(255), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("dimension", Integer, nullable=False),
    Column("total", LargeBinary, nullable=False),  # float64 sum of the vectors
    Column("outer", LargeBinary, nullable=False),  # float64 sum of their outer products
)
intents_table = Table(
    "rag_intents",
    schema,
    Column("id", SEQUENCE, primary_key=True, autoincrement=True),
    Column("collection", String(255), nullable=False),
    Column("added", Text, nullable=False),  # JSON ids about to be written to the vector store
    Column("removed", Text, nullable=False),  # JSON ids about to be deleted from it
    Column("created_at", Float, nullable=False),
)

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
_thread_locks: dict[str, threading.Lock] = {}


def default_url(home: Path) -> str:
    return f"sqlite:///{Path(home) / 'catalogue.sqlite'}"


def _engine(url: str) -> Engine:
    with _engines_lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        try:
            parsed = make_url(url)
        except Exception:
            raise StoreError(
                f"invalid catalogue URL {url!r}; use sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DB"
            ) from None
        if parsed.get_backend_name() == "sqlite":
            if parsed.database:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(connection, _record):
                cursor = connection.cursor()
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()

        else:
            try:
                engine = create_engine(url, pool_pre_ping=True)
            except Exception as exc:  # a driver that is not installed, a malformed URL
                raise StoreError(f"cannot use catalogue URL {parsed.render_as_string(hide_password=True)} ({exc})") from None
        for attempt in range(5):
            try:
                if parsed.get_backend_name() == "sqlite":
                    _init_sqlite(engine, parsed.database)
                else:
                    schema.create_all(engine)
                break
            except Exception as exc:
                # Two processes creating the tables at once: the loser sees "already exists" (SQLite)
                # or a duplicate pg_type row (PostgreSQL); the tables are there on the next look.
                racing = "already exists" in str(exc) or "duplicate key" in str(exc)
                if racing and attempt < 4:
                    time.sleep(0.05 * (attempt + 1))
                    continue
                shown = parsed.render_as_string(hide_password=True)
                raise StoreError(f"cannot open the catalogue at {shown} ({str(exc).splitlines()[0]})") from None
        _engines[url] = engine
        return engine


def _init_sqlite(engine: Engine, database: str | None) -> None:
    """WAL mode (readers never wait for the writer) and the tables, set up by one process at a time.

    Switching a new file to WAL needs an exclusive lock, and two processes switching at once make
    one fail at once with "database is locked" (SQLite's deadlock rule skips the busy timeout), so
    the switch and the table creation run under a lock file beside the database. WAL mode is
    stored in the file: later connections need not set it again."""
    if not database or database == ":memory:":
        schema.create_all(engine)
        return
    with open(f"{database}.init-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # held for milliseconds; the busy timeout covers writers
        try:
            with engine.connect() as connection:
                if connection.exec_driver_sql("PRAGMA journal_mode").scalar() != "wal":
                    connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            schema.create_all(engine)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_key(collection: str) -> int:
    return int.from_bytes(hashlib.sha1(collection.encode()).digest()[:8], "big", signed=True)


class Catalogue:
    """One collection's rows in the catalogue database at `url`."""

    def __init__(self, url: str, collection: str):
        self.url = url
        self.collection = collection
        self.engine = _engine(url)
        self.dialect = self.engine.dialect.name

    # ---- locking --------------------------------------------------------------------------
    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Held for a whole write (vector store and catalogue) by one writer of this collection,
        in any process (and, on PostgreSQL, on any machine)."""
        key = f"{self.url}|{self.collection}"
        with _engines_lock:
            thread_lock = _thread_locks.setdefault(key, threading.Lock())
        if not thread_lock.acquire(timeout=WRITE_LOCK_TIMEOUT):
            raise self._lock_timeout()
        try:
            if self.dialect == "postgresql":
                with self._advisory_lock():
                    yield
            else:
                with self._file_lock():
                    yield
        finally:
            thread_lock.release()

    def _lock_timeout(self) -> StoreError:
        return StoreError(
            f"collection {self.collection!r} is being written by another process (waited {WRITE_LOCK_TIMEOUT:.0f} s); "
            "try again, or for many writers run a Chroma server with a shared catalogue (RAG_APP_CHROMA_URL, RAG_APP_MANIFEST_URL)"
        )

    @contextmanager
    def _advisory_lock(self) -> Iterator[None]:
        key = _lock_key(self.collection)
        with self.engine.connect() as connection:
            deadline = time.monotonic() + WRITE_LOCK_TIMEOUT
            while not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
                if time.monotonic() > deadline:
                    raise self._lock_timeout()
                time.sleep(0.05)
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        database = make_url(self.url).database or "catalogue"
        directory = Path(database).parent / "locks"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{hashlib.sha1(self.collection.encode()).hexdigest()[:16]}.lock"
        with open(path, "a") as handle:
            deadline = time.monotonic() + WRITE_LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise self._lock_timeout() from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # ---- reads ----------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(
                select(meta_table.c.value).where(meta_table.c.collection == self.collection, meta_table.c.key == key)
            ).scalar()

    def exists(self) -> bool:
        return self.meta("epoch") is not None

    def state(self) -> tuple[str | None, int]:
        """(epoch, last change number) in one round trip: what every question checks first. The
        epoch is made when the collection's first write commits; it tells a rebuilt catalogue from
        the old one."""
        epoch = select(meta_table.c.value).where(meta_table.c.collection == self.collection, meta_table.c.key == "epoch")
        seq = select(func.max(changes_table.c.seq)).where(changes_table.c.collection == self.collection)
        with self.engine.connect() as connection:
            row = connection.execute(select(epoch.scalar_subquery(), seq.scalar_subquery())).first()
        return row[0], int(row[1] or 0)

    def sources(self) -> list[tuple]:
        table = sources_table
        with self.engine.connect() as connection:
            return connection.execute(
                select(table.c.source, table.c.chunks, table.c.source_type, table.c.title, table.c.updated_at)
                .where(table.c.collection == self.collection)
                .order_by(table.c.source)
            ).all()

    def has_source(self, source: str) -> bool:
        with self.engine.connect() as connection:
            return (
                connection.execute(
                    select(sources_table.c.source).where(
                        sources_table.c.collection == self.collection, sources_table.c.source == source
                    )
                ).first()
                is not None
            )

    def chunk_ids(self, source: str) -> set[str]:
        with self.engine.connect() as connection:
            return set(
                connection.execute(
                    select(chunks_table.c.id).where(chunks_table.c.collection == self.collection, chunks_table.c.source == source)
                ).scalars()
            )

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).where(chunks_table.c.collection == self.collection)).scalar() or 0
            )

    def all_ids(self) -> list[str]:
        with self.engine.connect() as connection:
            return list(connection.execute(select(chunks_table.c.id).where(chunks_table.c.collection == self.collection)).scalars())

    def existing(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        with self.engine.connect() as connection:
            for start in range(0, len(ids), 500):
                found.update(
                    connection.execute(
                        select(chunks_table.c.id).where(
                            chunks_table.c.collection == self.collection, chunks_table.c.id.in_(ids[start : start + 500])
                        )
                    ).scalars()
                )
        return found

    def all_tokens(self) -> tuple[list[str], list[list[str]]]:
        """Every chunk's id and terms, in a stable order (a cold build of the lexical index)."""
        table = chunks_table
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(table.c.id, table.c.tokens)
                .where(table.c.collection == self.collection)
                .order_by(table.c.source, table.c.ordinal, table.c.id)
            ).all()
        return [row[0] for row in rows], [json.loads(row[1]) for row in rows]

    def changes_since(self, seq: int) -> tuple[int, list[tuple[str, str, list[str] | None]]]:
        """(last seq, [(op, chunk id, terms for an add still in the catalogue)]) after `seq`."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(changes_table.c.seq, changes_table.c.op, changes_table.c.chunk_id, chunks_table.c.tokens)
                .select_from(
                    changes_table.outerjoin(
                        chunks_table,
                        (chunks_table.c.collection == changes_table.c.collection) & (chunks_table.c.id == changes_table.c.chunk_id),
                    )
                )
                .where(changes_table.c.collection == self.collection, changes_table.c.seq > seq)
                .order_by(changes_table.c.seq)
            ).all()
        last = max([seq] + [row[0] for row in rows])
        changes = [(op, cid, json.loads(tokens) if tokens is not None else None) for _, op, cid, tokens in rows if op != "source"]
        return last, changes

    def moments(self) -> tuple[int, np.ndarray, np.ndarray] | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(moments_table.c.count, moments_table.c.dimension, moments_table.c.total, moments_table.c.outer).where(
                    moments_table.c.collection == self.collection
                )
            ).first()
        if row is None:
            return None
        count, dimension, total, outer = row
        return (
            int(count),
            np.frombuffer(total, dtype=np.float64).copy(),
            np.frombuffer(outer, dtype=np.float64).reshape(dimension, dimension).copy(),
        )

    def intents(self) -> list[tuple[int, list[str], list[str]]]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(intents_table.c.id, intents_table.c.added, intents_table.c.removed).where(
                    intents_table.c.collection == self.collection
                )
            ).all()
        return [(row[0], json.loads(row[1]), json.loads(row[2])) for row in rows]

    # ---- writes ---------------------------------------------------------------------------
    def record_settings(self, settings: dict[str, str]) -> None:
        """Keep the first value of each setting (the embedder and tokenizer that built the collection)."""
        with self.engine.begin() as connection:
            stored = set(
                connection.execute(select(meta_table.c.key).where(meta_table.c.collection == self.collection)).scalars()
            )
            for key, value in settings.items():
                if key not in stored:
                    connection.execute(insert(meta_table).values(collection=self.collection, key=key, value=value))

    def add_intent(self, added: list[str], removed: list[str]) -> int:
        with self.engine.begin() as connection:
            result = connection.execute(
                insert(intents_table).values(
                    collection=self.collection, added=json.dumps(added), removed=json.dumps(removed), created_at=time.time()
                )
            )
            return int(result.inserted_primary_key[0])

    def resolve_intent(self, intent_id: int) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(intents_table).where(intents_table.c.id == intent_id))

    def commit_write(
        self,
        removed_ids: list[str],
        sources: list[dict],
        chunk_rows: list[dict],
        moments_delta: tuple[int, np.ndarray, np.ndarray] | None,
        deleted_sources: list[str] = (),
    ) -> None:
        """One transaction: chunks out and in, sources' rows, the change log, the vector sums."""
        c = self.collection
        with self.engine.begin() as connection:
            if connection.execute(
                select(meta_table.c.value).where(meta_table.c.collection == c, meta_table.c.key == "epoch")
            ).scalar() is None:
                connection.execute(insert(meta_table).values(collection=c, key="epoch", value=uuid.uuid4().hex))
            for start in range(0, len(removed_ids), 500):
                batch = removed_ids[start : start + 500]
                connection.execute(delete(chunks_table).where(chunks_table.c.collection == c, chunks_table.c.id.in_(batch)))
            if chunk_rows:
                connection.execute(insert(chunks_table), [{"collection": c, **row} for row in chunk_rows])
            changes = [{"collection": c, "op": "del", "chunk_id": cid} for cid in removed_ids]
            changes += [{"collection": c, "op": "add", "chunk_id": row["id"]} for row in chunk_rows]
            changes.append({"collection": c, "op": "source", "chunk_id": None})  # every write moves the version
            connection.execute(insert(changes_table), changes)
            for source in deleted_sources:
                connection.execute(delete(sources_table).where(sources_table.c.collection == c, sources_table.c.source == source))
            for row in sources:
                total = connection.execute(
                    select(func.count()).where(chunks_table.c.collection == c, chunks_table.c.source == row["source"])
                ).scalar()
                previous = connection.execute(
                    select(sources_table.c.source_type, sources_table.c.title).where(
                        sources_table.c.collection == c, sources_table.c.source == row["source"]
                    )
                ).first()
                values = {
                    "source_type": row.get("source_type") or (previous[0] if previous else None),
                    "title": row.get("title") or (previous[1] if previous else None),
                    "chunks": int(total),
                    "updated_at": time.time(),
                }
                if previous is None:
                    connection.execute(insert(sources_table).values(collection=c, source=row["source"], **values))
                else:
                    connection.execute(
                        update(sources_table)
                        .where(sources_table.c.collection == c, sources_table.c.source == row["source"])
                        .values(**values)
                    )
            if moments_delta is not None:
                self._add_moments(connection, *moments_delta)

    def _add_moments(self, connection, count: int, total: np.ndarray, outer: np.ndarray) -> None:
        row = connection.execute(
            select(moments_table.c.count, moments_table.c.total, moments_table.c.outer).where(
                moments_table.c.collection == self.collection
            )
        ).first()
        dimension = int(total.shape[0])
        if row is None:
            connection.execute(
                insert(moments_table).values(
                    collection=self.collection, count=count, dimension=dimension, total=total.tobytes(), outer=outer.tobytes()
                )
            )
            return
        new_count = int(row[0]) + count
        new_total = np.frombuffer(row[1], dtype=np.float64) + total
        new_outer = np.frombuffer(row[2], dtype=np.float64).reshape(dimension, dimension) + outer
        if new_count <= 0:  # nothing left: drop the rounding residue too
            new_total, new_outer, new_count = np.zeros_like(new_total), np.zeros_like(new_outer), 0
        connection.execute(
            update(moments_table)
            .where(moments_table.c.collection == self.collection)
            .values(count=new_count, total=new_total.tobytes(), outer=new_outer.tobytes())
        )

    def set_moments(self, count: int, total: np.ndarray, outer: np.ndarray) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(moments_table).where(moments_table.c.collection == self.collection))
            self._add_moments(connection, count, total, outer)


def list_collections(url: str) -> list[str]:
    """Names of the collections with at least one committed write in the catalogue at `url`."""
    engine = _engine(url)
    with engine.connect() as connection:
        return sorted(
            connection.execute(select(meta_table.c.collection).where(meta_table.c.key == "epoch").distinct()).scalars()
        )
