"""SQL databases through SQLAlchemy URLs: one Document per row, text as "column: value" lines."""

from __future__ import annotations

from langchain_core.documents import Document

from loaders.base import make_document
from loaders.errors import LoaderError


def redact_url(url: str) -> str:
    """The URL without its password, safe to store, log and show."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # make_url raises ArgumentError and ValueError on malformed URLs
        return url.split("@")[-1] if "@" in url else url
    # URL.set(password=None) keeps the password ("None" means "unchanged"); URL is a NamedTuple.
    return parsed._replace(password=None).render_as_string(hide_password=False)


def load_sql(url: str, table: str | None = None, query: str | None = None) -> list[Document]:
    import sqlalchemy as sa
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    safe_url = redact_url(url)
    if table and query:
        raise LoaderError(safe_url, "pass either --table or --query, not both")
    try:
        engine = sa.create_engine(url)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise LoaderError(safe_url, f"bad database URL ({type(exc).__name__}); use a SQLAlchemy URL such as sqlite:///path.db") from None
    except ImportError as exc:
        hint = "pip install 'rag-app[postgres]'" if "postgres" in safe_url.split(":", 1)[0] else f"pip install {exc.name}"
        raise LoaderError(safe_url, f"the database driver {exc.name!r} is not installed; run: {hint}") from None
    if engine.dialect.name == "sqlite":
        _check_sqlite_file(engine, safe_url)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            if not table and not query:
                tables = ", ".join(inspector.get_table_names()) or "none"
                raise LoaderError(safe_url, f"say what to ingest with --table NAME or --query SQL (tables: {tables})")
            if table:
                if table not in inspector.get_table_names():
                    tables = ", ".join(inspector.get_table_names()) or "none"
                    raise LoaderError(safe_url, f"no table {table!r}; choose one of: {tables}")
                key_columns = inspector.get_pk_constraint(table).get("constrained_columns") or []
                statement = sa.select(sa.table(table, *[sa.column(c["name"]) for c in inspector.get_columns(table)]))
                name = table
            else:
                key_columns = []
                statement = sa.text(query)
                name = "query"
            result = connection.execute(statement)
            columns = list(result.keys())
            source = f"{safe_url}#{name}"
            documents = []
            for number, row in enumerate(result, start=1):
                values = dict(zip(columns, row))
                row_id = "/".join(str(values[c]) for c in key_columns) if key_columns else str(number)
                lines = [f"{column}: {value}" for column, value in values.items() if value is not None]
                documents.append(make_document("\n".join(lines), source, "sql", title=name, row_id=row_id))
    except LoaderError:
        raise
    except SQLAlchemyError as exc:
        reason = str(exc.orig if getattr(exc, "orig", None) is not None else exc).splitlines()[0]
        raise LoaderError(safe_url, f"database error: {reason}; check the URL, table and query") from None
    finally:
        engine.dispose()
    documents = [doc for doc in documents if doc.page_content.strip()]
    if not documents:
        raise LoaderError(source, "no rows to ingest; check the table or query")
    return documents


def _check_sqlite_file(engine, safe_url: str) -> None:
    """SQLite silently creates a missing file; refuse instead of ingesting an empty new database."""
    from pathlib import Path

    database = engine.url.database
    if database and database != ":memory:" and not Path(database).exists():
        raise LoaderError(safe_url, "database file not found; check the path after sqlite:///")
