"""SQL databases through SQLAlchemy URLs: one Document per row, text as "column: value" lines.

    load_sql("postgresql://reader:pw@db.local/library", table="notes")
    -> [Document("note_id: 10\ntitle: 형태소\n...", metadata={"source": "postgresql://reader@db.local/library#notes",
                                                          "source_type": "sql", "title": "notes", "row_id": "10"}), ...]

- Reads only: PostgreSQL runs a READ ONLY transaction, SQLite a connection with `PRAGMA query_only`,
  and a --query must be one statement, so "SELECT 1; DELETE ..." cannot slip a write past either.
- Rows stream in batches of `batch_size` (a server-side cursor where the driver has one);
  `on_rows(rows_so_far)` is called after each batch.
- The password never leaves this module: not in `source`, metadata, log records or error messages
  (database error texts are scrubbed of it in every spelling the URL allows).
- `postgresql://` without a driver uses whichever of psycopg (3) / psycopg2 is installed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import quote, quote_plus, unquote, urlsplit

from langchain_core.documents import Document

from loaders.base import make_document
from loaders.errors import LoaderError

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
CONNECT_TIMEOUT_SECONDS = 10
_MAX_LISTED_TABLES = 40
_PG_DRIVERS = ("psycopg", "psycopg2")  # SQLAlchemy driver names, which are also the module names
# First words of statements that change a database; used only to explain a refusal.
_WRITE_WORDS = frozenset(
    "insert update delete merge upsert replace drop create alter truncate grant revoke copy "
    "vacuum reindex cluster comment rename attach detach lock call do refresh import".split()
)


def redact_url(url: str) -> str:
    """The URL without its password (also a `?password=` parameter), safe to store, log and show."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # make_url raises ArgumentError and ValueError on malformed URLs
        return url.split("@")[-1] if "@" in url else url
    # URL.set(password=None) keeps the password ("None" means "unchanged"); URL is a NamedTuple.
    parsed = parsed._replace(password=None)
    if any(key.lower() == "password" for key in parsed.query):
        parsed = parsed.difference_update_query([key for key in parsed.query if key.lower() == "password"])
    return parsed.render_as_string(hide_password=False)


def load_sql(
    url: str,
    table: str | None = None,
    query: str | None = None,
    *,
    on_rows: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> list[Document]:
    """One Document per row of `table` (optionally "schema.table") or of the read-only `query`.

    `row_id` is the primary key ("/"-joined when composite) for tables, the 1-based row number
    otherwise. Raises LoaderError with the URL minus its password and the fix.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    safe_url = redact_url(url)
    scrub = _Scrubber(url, safe_url)

    def error(reason: str, source: str = safe_url) -> LoaderError:
        return LoaderError(source, scrub(reason))

    if table and query:
        raise error("pass either --table or --query, not both")
    if query:
        query = _single_statement(query, error)
    engine = _create_engine(url, safe_url, error)
    if engine.dialect.name == "sqlite":
        _check_sqlite_file(engine, safe_url)
    logger.debug("reading %s from %s", table or ("a query" if query else "nothing"), safe_url)

    import sqlalchemy as sa
    from sqlalchemy.exc import SQLAlchemyError

    name = table or "query"
    source = f"{safe_url}#{name}"
    documents: list[Document] = []
    rows_read = 0
    ran_query = False  # a write refusal can only come once the query has reached the database
    try:
        with engine.connect() as connection:
            connection = _read_only(connection)
            streaming = {"stream_results": True, "yield_per": batch_size}
            if table or not query:
                inspector = sa.inspect(connection)
                if not table:
                    raise error(f"say what to ingest with --table NAME or --query SQL (tables: {_list_tables(inspector)})")
                schema, table_name = _resolve_table(inspector, table, error)
                key_columns = inspector.get_pk_constraint(table_name, schema=schema).get("constrained_columns") or []
                columns = [sa.column(c["name"]) for c in inspector.get_columns(table_name, schema=schema)]
                selectable = sa.table(table_name, *columns, schema=schema)
                statement = sa.select(selectable).order_by(*[selectable.c[k] for k in key_columns])
                result = connection.execute(statement, execution_options=streaming)
            else:
                key_columns = []
                ran_query = True
                # The SQL goes to the driver as written: no ":name" binds (exec_driver_sql), and no
                # parameter collection, so drivers leave "%" alone (no_parameters).
                result = connection.exec_driver_sql(query, execution_options={**streaming, "no_parameters": True})
                if not result.returns_rows:
                    raise error("the query returned no rows; --query must be a SELECT that returns rows")
            column_names = list(result.keys())
            while batch := result.fetchmany(batch_size):
                for row in batch:
                    rows_read += 1
                    values = dict(zip(column_names, row))
                    row_id = "/".join(str(values[c]) for c in key_columns) if key_columns else str(rows_read)
                    lines = [f"{column}: {value}" for column, value in values.items() if value is not None]
                    documents.append(make_document("\n".join(lines), source, "sql", title=name, row_id=row_id))
                logger.debug("read %d rows from %s", rows_read, source)
                if on_rows is not None:
                    on_rows(rows_read)
    except LoaderError:
        raise
    except SQLAlchemyError as exc:
        reason = _first_line(exc.orig if getattr(exc, "orig", None) is not None else exc)
        if ran_query and _first_word(query) in _WRITE_WORDS:  # PostgreSQL says "syntax error" inside DECLARE
            raise error(f"--query must only read; {_first_word(query).upper()} statements are refused, use a SELECT") from None
        if ran_query and _is_write_refusal(exc):
            raise error(f"--query must only read, the database refused it: {reason}; use a single SELECT") from None
        raise error(f"database error: {reason}; check the URL, table and query") from None
    finally:
        engine.dispose()
    logger.info("read %d rows from %s", rows_read, source)
    documents = [doc for doc in documents if doc.page_content.strip()]
    if not documents:
        raise error("no rows to ingest; check the table or query", source)
    return documents


# ---- connecting --------------------------------------------------------------------------------
def _create_engine(url: str, safe_url: str, error: Callable[[str], LoaderError]):
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = _choose_driver(make_url(url))
        connect_args = {}
        if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS  # an unreachable host fails fast
        engine = sa.create_engine(parsed, connect_args=connect_args, hide_parameters=True)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise error(f"bad database URL ({type(exc).__name__}); use a SQLAlchemy URL such as sqlite:///path.db") from None
    except ImportError as exc:
        hint = "pip install 'rag-app[postgres]'" if "postgres" in safe_url.split(":", 1)[0] else f"pip install {exc.name}"
        raise error(f"the database driver {exc.name!r} is not installed; run: {hint}") from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_query_only)
    return engine


def _choose_driver(parsed):
    """`postgres://` is `postgresql://`; with no driver named, use SQLAlchemy's default if its
    module is installed, otherwise whichever PostgreSQL driver is (psycopg 3 first)."""
    from importlib.util import find_spec

    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    if backend != "postgresql":
        return parsed
    if not driver:
        default = parsed.set(drivername="postgresql").get_dialect().driver
        installed = [name for name in (default, *_PG_DRIVERS) if find_spec(name) is not None]
        driver = installed[0] if installed else default
    return parsed.set(drivername=f"{backend}+{driver}")


def _sqlite_query_only(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA query_only = ON")
    finally:
        cursor.close()
    # query_only refuses writes only after ATTACH DATABASE 'x' or VACUUM INTO 'x' has created the
    # file x; the authorizer refuses them (and DETACH) before SQLite touches the file system.
    if hasattr(dbapi_connection, "set_authorizer"):
        dbapi_connection.set_authorizer(_sqlite_authorizer)


def _sqlite_authorizer(action: int, *_args) -> int:
    import sqlite3

    return sqlite3.SQLITE_DENY if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH) else sqlite3.SQLITE_OK


def _read_only(connection):
    """The connection with writes refused by the database itself, before any statement runs."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return connection.execution_options(postgresql_readonly=True)
    if dialect != "sqlite":  # SQLite is read-only from the connect event (PRAGMA query_only)
        logger.warning("%s: read-only transactions are not enforced; only run queries you trust", dialect)
    return connection


def _check_sqlite_file(engine, safe_url: str) -> None:
    """SQLite silently creates a missing file; refuse instead of ingesting an empty new database."""
    from pathlib import Path

    database = engine.url.database
    if database and database != ":memory:" and not Path(database).exists():
        raise LoaderError(safe_url, "database file not found; check the path after sqlite:///")


# ---- tables ------------------------------------------------------------------------------------
def _resolve_table(inspector, table: str, error) -> tuple[str | None, str]:
    """(schema, name) for "name" in the default schema or "schema.name"; unknown -> LoaderError."""
    if table in inspector.get_table_names() or table in inspector.get_view_names():
        return None, table
    schema, dot, name = table.partition(".")
    if dot and schema in inspector.get_schema_names():
        if name in inspector.get_table_names(schema=schema) or name in inspector.get_view_names(schema=schema):
            return schema, name
    raise error(f"no table {table!r}; choose one of: {_list_tables(inspector)}")


def _list_tables(inspector) -> str:
    """Tables and views: the default schema's bare, other user schemas' as schema.name."""
    names = sorted(inspector.get_table_names()) + sorted(inspector.get_view_names())
    default = inspector.default_schema_name
    for schema in sorted(inspector.get_schema_names()):
        if schema == default or schema == "information_schema" or schema.startswith("pg_"):
            continue
        names += [f"{schema}.{name}" for name in sorted(inspector.get_table_names(schema=schema))]
        names += [f"{schema}.{name}" for name in sorted(inspector.get_view_names(schema=schema))]
    if not names:
        return "none"
    shown = ", ".join(names[:_MAX_LISTED_TABLES])
    return shown if len(names) <= _MAX_LISTED_TABLES else f"{shown} and {len(names) - _MAX_LISTED_TABLES} more"


# ---- queries -----------------------------------------------------------------------------------
# Comments, string literals, quoted names and dollar quotes, or a bare ";". Read twice: with
# backslash escapes inside quotes (MySQL, PostgreSQL E'...') and without (standard SQL); a ";"
# outside quotes under either reading refuses the query, so a quoting trick cannot hide one.
_LITERALS = {
    "standard": r"""'(?:[^']|'')*(?:'|\Z)|"(?:[^"]|"")*(?:"|\Z)""",
    "backslash": r"""'(?:[^'\\]|\\.|'')*(?:'|\Z)|"(?:[^"\\]|\\.|"")*(?:"|\Z)""",
}
_TOKENS = [
    re.compile(rf"--[^\n]*|/\*.*?(?:\*/|\Z)|{literals}|(\$\w*\$).*?(?:\1|\Z)|;", re.DOTALL)
    for literals in _LITERALS.values()
]


def _single_statement(query: str, error) -> str:
    """The query without trailing semicolons; a second statement ("SELECT 1; DELETE ...") is refused.

    Semicolons inside string literals, quoted names, dollar quotes and comments do not count. The
    databases refuse several statements too (SQLite's driver; PostgreSQL through the server-side
    cursor's extended protocol); this check makes that hold for every driver, with a clear message.
    """
    stripped = query.strip()
    while stripped.endswith(";"):
        stripped = stripped[:-1].rstrip()
    if not stripped:
        raise error("the query is empty; pass a SELECT statement with --query")
    for tokens in _TOKENS:
        for match in tokens.finditer(stripped):
            if match.group(0) == ";":
                if _first_word(stripped[match.end() :]):  # more than comments after the ";"
                    raise error("--query must be a single SELECT statement; remove everything after the first ';'")
                stripped = stripped[: match.start()].rstrip()
                break
    return stripped


def _first_word(query: str) -> str:
    without_comments = re.sub(r"--[^\n]*|/\*.*?(?:\*/|\Z)", " ", query, flags=re.DOTALL)
    match = re.search(r"[^\W\d]\w*|[^\s();]", without_comments)
    return match.group(0).lower() if match else ""


def _is_write_refusal(exc) -> bool:
    """Did the database refuse the query because it writes (read-only transaction or connection)?"""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) == "25006" or getattr(orig, "pgcode", None) == "25006":
        return True  # PostgreSQL read_only_sql_transaction
    text = str(orig if orig is not None else exc).lower()
    return "readonly database" in text or "read-only" in text or "data-modifying" in text


# ---- secrets -----------------------------------------------------------------------------------
class _Scrubber:
    """Removes the URL's password, in every spelling a message could carry it, from text."""

    def __init__(self, url: str, safe_url: str):
        self.url, self.safe_url = url, safe_url
        secrets: set[str] = set()
        try:
            raw = urlsplit(url).password  # as written in the URL, possibly %-encoded
        except ValueError:
            raw = None
        if raw is None and "@" in url and "://" in url:  # unparsable URL: take what sits before "@"
            userinfo = url.split("://", 1)[1].rsplit("@", 1)[0]
            raw = userinfo.partition(":")[2] or None
        for candidate in (raw, _query_password(url)):
            if candidate:
                secrets.add(candidate)
                secrets.add(unquote(candidate))
        for secret in list(secrets):
            secrets.update({quote(secret, safe=""), quote_plus(secret), secret.replace("'", "''")})
        # Longest first, so a secret that contains another is removed whole.
        self.secrets = sorted((s for s in secrets if s), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        text = text.replace(self.url, self.safe_url)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def _query_password(url: str) -> str | None:
    from urllib.parse import parse_qs

    query = url.split("?", 1)[1] if "?" in url else ""
    for key, values in parse_qs(query, keep_blank_values=True).items():
        if key.lower() == "password" and values:
            return values[0]
    return None


def _first_line(value: object) -> str:
    lines = [line.strip() for line in str(value).splitlines() if line.strip()]
    return lines[0] if lines else type(value).__name__
