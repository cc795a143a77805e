"""loaders.sql against a real PostgreSQL server (a throwaway cluster started here), plus the SQLite
read-only and streaming checks that mirror them.

The cluster (tests/pg_server.py) runs on a free 127.0.0.1 port for the whole session; the tests
are skipped with the reason when no PostgreSQL server binaries are installed or it cannot start.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for pg_server
from pg_server import PgCluster, PgUnavailable  # noqa: E402

from loaders import LoaderError, load_source  # noqa: E402
from loaders.sql import load_sql  # noqa: E402

PASSWORD = "hunter2-secret"
ODD_PASSWORD = "s3cr:t/p@ss%word hunter2"  # needs %-encoding in a URL
ODD_SPELLINGS = (ODD_PASSWORD, quote(ODD_PASSWORD, safe=""), "hunter2")


@dataclass
class Pg:
    cluster: PgCluster
    port: int

    def url(self, scheme: str = "postgresql+psycopg", password: str = PASSWORD, db: str = "library", user: str = "reader") -> str:
        return f"{scheme}://{user}:{quote(password, safe='')}@127.0.0.1:{self.port}/{db}"

    def safe(self, scheme: str = "postgresql+psycopg", db: str = "library", user: str = "reader") -> str:
        return f"{scheme}://{user}@127.0.0.1:{self.port}/{db}"

    def admin(self, sql: str):
        """Run SQL as the cluster superuser over the unix socket; the rows, if any."""
        import psycopg

        with psycopg.connect(self.cluster.superuser_conninfo("library"), autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else None

    def state(self) -> tuple:
        """What a write would change: row counts, the tables that exist, the audit log."""
        return (
            self.admin("SELECT count(*), sum(note_id), string_agg(title, ',' ORDER BY note_id) FROM notes"),
            self.admin("SELECT count(*) FROM audit"),
            self.admin("SELECT schemaname, tablename FROM pg_tables WHERE schemaname IN ('public', 'archive') ORDER BY 1, 2"),
        )


SEED = """
CREATE TABLE notes (note_id integer PRIMARY KEY, title text, body text, lang text);
INSERT INTO notes VALUES
    (10, '형태소', '형태소 분석기는 어절을 나눈다.', 'ko'),
    (20, 'BM25', 'BM25 ranks documents by term frequency.', 'en'),
    (35, '빈 언어', '언어 칸이 비어 있다.', NULL);
CREATE TABLE enrollments (student text, course text, grade text, PRIMARY KEY (student, course));
INSERT INTO enrollments VALUES ('김민지', 'ir201', 'B+'), ('lee', 'db101', 'A-'), ('김민지', 'db101', 'A');
CREATE SCHEMA archive;
CREATE TABLE archive.papers (paper_id integer PRIMARY KEY, title text);
INSERT INTO archive.papers VALUES (7, '한국어 검색 증강 생성');
CREATE TABLE big (id integer PRIMARY KEY, body text);
INSERT INTO big SELECT g, '문서 번호 ' || g FROM generate_series(1, 5000) AS g;
CREATE TABLE tags (name text);
CREATE TABLE audit (n integer);
CREATE FUNCTION bump() RETURNS integer LANGUAGE sql AS 'INSERT INTO audit VALUES (1) RETURNING n';
GRANT SELECT ON notes TO odd;
"""


@pytest.fixture(scope="session")
def pg():
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed; pip install 'rag-app[postgres]'")
    try:
        cluster = PgCluster.start()
    except PgUnavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    try:
        with psycopg.connect(cluster.superuser_conninfo(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE reader LOGIN PASSWORD '{PASSWORD}'")
            conn.execute(f"CREATE ROLE odd LOGIN PASSWORD '{ODD_PASSWORD}'")
            conn.execute("CREATE DATABASE library OWNER reader")
        # The tables belong to `reader`, who may write them: only the read-only transaction stops it.
        conninfo = f"host=127.0.0.1 port={cluster.port} user=reader password={PASSWORD} dbname=library"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(SEED)
        yield Pg(cluster, cluster.port)
    finally:
        cluster.stop()


# ---- ingest ------------------------------------------------------------------------------------
@pytest.mark.integration
@pytest.mark.parametrize("scheme", ["postgresql+psycopg", "postgresql", "postgres"])
def test_table_one_document_per_row_korean_intact(pg, scheme):
    docs = load_source(pg.url(scheme), table="notes")
    assert [doc.metadata["row_id"] for doc in docs] == ["10", "20", "35"]
    assert docs[0].page_content == "note_id: 10\ntitle: 형태소\nbody: 형태소 분석기는 어절을 나눈다.\nlang: ko"
    assert docs[2].page_content == "note_id: 35\ntitle: 빈 언어\nbody: 언어 칸이 비어 있다."  # NULL left out
    for doc in docs:
        assert doc.metadata == {"source": f"{pg.safe(scheme)}#notes", "source_type": "sql", "title": "notes", "row_id": doc.metadata["row_id"]}


@pytest.mark.integration
def test_composite_primary_key_row_id(pg):
    docs = load_sql(pg.url(), table="enrollments")
    # Ordered by the key (C collation: "lee" < "김민지"); row_id joins the key columns with "/".
    assert [doc.metadata["row_id"] for doc in docs] == ["lee/db101", "김민지/db101", "김민지/ir201"]
    assert docs[2].page_content == "student: 김민지\ncourse: ir201\ngrade: B+"


@pytest.mark.integration
def test_query_rows_numbered_and_sql_passed_as_written(pg):
    # '%' and ':30' must reach the server untouched (no driver or SQLAlchemy placeholder parsing).
    query = "SELECT title, body FROM notes WHERE body LIKE '%분석%' AND '10:30' <> ':x' ORDER BY note_id;"
    [doc] = load_sql(pg.url(), query=query)
    assert doc.page_content == "title: 형태소\nbody: 형태소 분석기는 어절을 나눈다."
    assert doc.metadata == {"source": f"{pg.safe()}#query", "source_type": "sql", "title": "query", "row_id": "1"}


@pytest.mark.integration
def test_schema_qualified_table(pg):
    [doc] = load_sql(pg.url(), table="archive.papers")
    assert doc.page_content == "paper_id: 7\ntitle: 한국어 검색 증강 생성"
    assert doc.metadata["source"] == f"{pg.safe()}#archive.papers"
    assert doc.metadata["row_id"] == "7" and doc.metadata["title"] == "archive.papers"


@pytest.mark.integration
def test_missing_table_lists_tables_with_schemas(pg):
    with pytest.raises(LoaderError, match="no table 'nosuch'; choose one of: ") as info:
        load_sql(pg.url(), table="nosuch")
    message = str(info.value)
    for name in ("notes", "enrollments", "big", "tags", "archive.papers"):
        assert name in message
    assert "pg_catalog" not in message and "information_schema" not in message
    with pytest.raises(LoaderError, match="--table NAME or --query SQL") as info:
        load_sql(pg.url())
    assert "archive.papers" in str(info.value)


@pytest.mark.integration
def test_empty_table_is_an_error(pg):
    with pytest.raises(LoaderError, match="no rows to ingest") as info:
        load_sql(pg.url(), table="tags")
    assert info.value.source == f"{pg.safe()}#tags"


# ---- connection errors -------------------------------------------------------------------------
@pytest.mark.integration
@pytest.mark.parametrize("scheme", ["postgresql+psycopg", "postgresql"])
def test_wrong_password_is_an_error_without_the_password(pg, scheme):
    url = pg.url(scheme, password="wrong-hunter2-secret")
    with pytest.raises(LoaderError, match="password authentication failed") as info:
        load_sql(url, table="notes")
    assert info.value.source == pg.safe(scheme)
    assert "hunter2" not in str(info.value) and "\n" not in str(info.value)


@pytest.mark.integration
def test_unknown_database_names_url_without_password(pg):
    with pytest.raises(LoaderError, match='database "nosuch_db" does not exist') as info:
        load_sql(pg.url(db="nosuch_db"), table="notes")
    assert str(info.value).startswith(pg.safe(db="nosuch_db") + ": ")
    assert "hunter2" not in str(info.value)


@pytest.mark.integration
def test_unreachable_port_names_url_without_password(pg):
    from pg_server import free_port

    port = free_port()  # nothing listens there
    url = f"postgresql://reader:{PASSWORD}@127.0.0.1:{port}/library"
    with pytest.raises(LoaderError, match="database error: .*(refused|failed)") as info:
        load_sql(url, table="notes")
    assert info.value.source == f"postgresql://reader@127.0.0.1:{port}/library"
    assert "hunter2" not in str(info.value) and "\n" not in str(info.value)


@pytest.mark.integration
def test_percent_encoded_password_connects_and_never_shows(pg, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    url = pg.url(user="odd", password=ODD_PASSWORD)
    assert "%40" in url  # the URL carries the password %-encoded
    docs = load_sql(url, table="notes")
    assert len(docs) == 3 and docs[0].metadata["source"] == f"{pg.safe(user='odd')}#notes"
    with pytest.raises(LoaderError) as info:
        load_sql(pg.url(user="odd", password=ODD_PASSWORD, db="nosuch_db"), table="notes")
    with pytest.raises(LoaderError) as wrong:
        load_sql(pg.url(user="odd", password=ODD_PASSWORD + "x"), table="notes")
    for text in (str(info.value), str(wrong.value), caplog.text, repr([d.metadata for d in docs])):
        for spelling in ODD_SPELLINGS:
            assert spelling not in text


@pytest.mark.integration
def test_password_in_query_string_is_used_and_hidden(pg):
    url = f"postgresql://reader@127.0.0.1:{pg.port}/library?password={PASSWORD}"
    docs = load_sql(url, table="notes")
    assert docs[0].metadata["source"] == f"postgresql://reader@127.0.0.1:{pg.port}/library#notes"
    with pytest.raises(LoaderError) as info:
        load_sql(url, table="nosuch")
    assert PASSWORD not in str(info.value)


@pytest.mark.integration
def test_password_absent_from_logs_metadata_and_messages(pg, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "psycopg"):  # SQLAlchemy sets its own loggers to WARNING on import
        caplog.set_level(logging.DEBUG, logger=name)
    docs = load_sql(pg.url("postgresql"), table="notes") + load_sql(pg.url(), query="SELECT * FROM big LIMIT 3")
    messages = []
    for kwargs in ({"table": "nosuch"}, {"query": "SELECT * FROM nosuch"}, {"query": "DELETE FROM notes"}):
        with pytest.raises(LoaderError) as info:
            load_sql(pg.url(), **kwargs)
        messages.append(str(info.value))
    assert caplog.records, "expected DEBUG records from the loader and SQLAlchemy"
    names = {record.name for record in caplog.records}
    assert "loaders.sql" in names and any(name.startswith("sqlalchemy.") for name in names), names
    everything = "\n".join([caplog.text, *messages, *(repr(r.args) for r in caplog.records), *(repr(d.metadata) for d in docs)])
    assert "hunter2" not in everything


# ---- read-only ---------------------------------------------------------------------------------
WRITES = [
    "INSERT INTO notes VALUES (99, 'x', 'y', 'ko')",
    "UPDATE notes SET title = 'changed'",
    "DELETE FROM notes",
    "DROP TABLE notes",
    "TRUNCATE notes",
    "CREATE TABLE sneaky (x int)",
    "WITH gone AS (DELETE FROM notes RETURNING *) SELECT * FROM gone",
    "SELECT bump()",  # a function that writes
    "SELECT 1; DELETE FROM notes",
    "COMMIT; DROP TABLE notes",
    "SET TRANSACTION READ WRITE; DELETE FROM notes",
    "SELECT 1 AS \"a;b\"; DELETE FROM notes",
]


@pytest.mark.integration
@pytest.mark.parametrize("query", WRITES)
def test_writing_query_fails_and_changes_nothing(pg, query):
    before = pg.state()
    with pytest.raises(LoaderError) as info:
        load_sql(pg.url(), query=query)
    message = str(info.value)
    assert "\n" not in message and message.startswith(pg.safe())
    assert "--query must" in message
    first_word = query.split()[0]
    if first_word not in ("SELECT", "WITH"):
        assert f"{first_word} statements are refused" in message or "single SELECT statement" in message
    assert pg.state() == before


@pytest.mark.integration
def test_semicolons_inside_literals_are_one_statement(pg):
    query = "SELECT 'a;b' AS x, $$c;d$$ AS y, \"title\" -- trailing; comment\nFROM notes WHERE note_id = 10 /* ; */ ; -- 끝"
    [doc] = load_sql(pg.url(), query=query)
    assert doc.page_content == "x: a;b\ny: c;d\ntitle: 형태소"


# ---- streaming ---------------------------------------------------------------------------------
@pytest.mark.integration
def test_large_table_streams_in_batches(pg):
    calls: list[int] = []
    server_queries: list[str] = []

    def on_rows(count: int) -> None:
        calls.append(count)
        # What the reader's backend runs right now: a server-side cursor, not one big SELECT.
        [(text,)] = pg.admin("SELECT query FROM pg_stat_activity WHERE usename = 'reader' AND state IS NOT NULL")
        server_queries.append(text)

    docs = load_sql(pg.url(), table="big", on_rows=on_rows, batch_size=700)
    assert len(docs) == 5000
    assert calls == [700 * n for n in range(1, 8)] + [5000]
    assert all(q.split()[0].upper() in {"FETCH", "DECLARE"} for q in server_queries), server_queries
    assert docs[0].page_content == "id: 1\nbody: 문서 번호 1" and docs[-1].metadata["row_id"] == "5000"


@pytest.mark.integration
def test_query_streams_with_default_batch(pg):
    calls: list[int] = []
    docs = load_sql(pg.url(), query="SELECT id FROM big ORDER BY id", on_rows=calls.append)
    assert calls == [1000, 2000, 3000, 4000, 5000]
    assert [doc.metadata["row_id"] for doc in docs[:2]] == ["1", "2"] and len(docs) == 5000


# ---- driver choice (no server needed) ----------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "installed", "expected"),
    [
        ("postgresql://u@h/d", {"psycopg"}, "postgresql+psycopg"),
        ("postgresql://u@h/d", {"psycopg2"}, "postgresql+psycopg2"),
        ("postgres://u@h/d", {"psycopg"}, "postgresql+psycopg"),
        ("postgresql+psycopg2://u@h/d", {"psycopg"}, "postgresql+psycopg2"),  # an explicit driver stays
        ("sqlite:///x.db", set(), "sqlite"),
    ],
)
def test_driver_choice_follows_installed_modules(monkeypatch, url, installed, expected):
    import importlib.util

    from sqlalchemy.engine import make_url

    from loaders.sql import _choose_driver

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name in installed else None)
    assert _choose_driver(make_url(url)).drivername == expected


# ---- SQLite: the same read-only and streaming guarantees ----------------------------------------
@pytest.fixture()
def sqlite_db(tmp_path) -> Path:
    path = tmp_path / "notes.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (note_id INTEGER PRIMARY KEY, title TEXT)")
        connection.executemany("INSERT INTO notes VALUES (?, ?)", [(n, f"제목 {n}") for n in range(1, 2501)])
    connection.close()
    return path


def _sqlite_state(path: Path) -> tuple:
    with sqlite3.connect(path) as connection:
        state = (
            connection.execute("SELECT count(*), sum(note_id), max(title) FROM notes").fetchall(),
            connection.execute("SELECT name FROM sqlite_master ORDER BY name").fetchall(),
        )
    connection.close()
    return state


@pytest.mark.parametrize(
    "query",
    [
        "INSERT INTO notes VALUES (9999, 'x')",
        "UPDATE notes SET title = 'changed'",
        "DELETE FROM notes",
        "DROP TABLE notes",
        "CREATE TABLE sneaky (x int)",
        "WITH doomed AS (SELECT 1) DELETE FROM notes",
        "SELECT 1; DELETE FROM notes",
        "PRAGMA query_only = OFF; DELETE FROM notes",
    ],
)
def test_sqlite_writing_query_fails_and_changes_nothing(sqlite_db, query):
    before = _sqlite_state(sqlite_db)
    with pytest.raises(LoaderError, match="--query must") as info:
        load_sql(f"sqlite:///{sqlite_db}", query=query)
    assert "\n" not in str(info.value)
    assert _sqlite_state(sqlite_db) == before


def test_sqlite_streams_in_batches(sqlite_db):
    calls: list[int] = []
    docs = load_sql(f"sqlite:///{sqlite_db}", table="notes", on_rows=calls.append)
    assert calls == [1000, 2000, 2500]
    assert len(docs) == 2500 and docs[-1].page_content == "note_id: 2500\ntitle: 제목 2500"


def test_batch_size_must_be_positive(sqlite_db):
    with pytest.raises(ValueError, match="batch_size"):
        load_sql(f"sqlite:///{sqlite_db}", table="notes", batch_size=0)
