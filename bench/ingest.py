"""Ingest throughput per loader: load time alone, then the whole pipeline (chunk, embed, store).

    python bench/ingest.py

Sources come from ../shared/data (PDFs, HTML pages, Korean texts) plus a SQLite table, an .xlsx
sheet and a .docx built from the same 200 KorQuAD paragraphs. Each loader's sources are ingested through RagApp into a new temporary
collection, so nothing is cached. "units" are PDF pages, HTML/text files or table rows.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loaders import load_source  # noqa: E402
from rag_app.app import RagApp  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def korquad_paragraphs(rows: int) -> list[tuple[str, str]]:
    data = json.loads((DATA / "korquad_v1_dev" / "KorQuAD_v1.0_dev.shared.json").read_text())
    return [(a["title"], p["context"]) for a in data["data"] for p in a["paragraphs"]][:rows]


def korquad_docx(directory: Path, paragraphs: int = 200) -> str:
    import docx

    document = docx.Document()
    for title, context in korquad_paragraphs(paragraphs):
        document.add_heading(title, level=2)
        document.add_paragraph(context)
    path = directory / "korquad.docx"
    document.save(path)
    return str(path)


def korquad_xlsx(directory: Path, rows: int = 200) -> str:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["제목", "본문"])
    for row in korquad_paragraphs(rows):
        sheet.append(list(row))
    path = directory / "korquad.xlsx"
    workbook.save(path)
    return str(path)


def korquad_sqlite(directory: Path, rows: int = 200) -> str:
    paragraphs = korquad_paragraphs(rows)
    path = directory / "korquad.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE paragraphs (id INTEGER PRIMARY KEY, title TEXT, context TEXT)")
        connection.executemany("INSERT INTO paragraphs (title, context) VALUES (?, ?)", paragraphs)
    return f"sqlite:///{path}"


class TimedEmbedder:
    """Wraps the app's embedder to separate embedding time from the rest of the pipeline."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.seconds = 0.0

    def embed_documents(self, texts):
        started = time.perf_counter()
        try:
            return self.inner.embed_documents(texts)
        finally:
            self.seconds += time.perf_counter() - started

    def embed_query(self, text):
        return self.inner.embed_query(text)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="rag-ingest-bench-"))
    cases = {
        "pdf (ko+en)": ([str(p) for p in sorted((DATA / "docs_pdf").rglob("*.pdf"))], {}),
        "html files": ([str(p) for p in sorted((DATA / "docs_html").rglob("source.html"))], {}),
        "text (ko)": ([str(p) for p in sorted((DATA / "docs_txt_ko").rglob("*.txt"))], {}),
        "sqlite rows": ([korquad_sqlite(work)], {"table": "paragraphs"}),
        "xlsx rows": ([korquad_xlsx(work)], {}),
        "docx": ([korquad_docx(work)], {}),
    }
    print("| loader | sources | units | chars | load s | units/s (load) | chunks | total s | embed s | rest s | chunks/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for number, (name, (sources, options)) in enumerate(cases.items()):
        started = time.perf_counter()
        documents = [doc for source in sources for doc in load_source(source, **options)]
        load_seconds = time.perf_counter() - started
        app = RagApp(collection=f"ingest-bench-{number}", home=work / "home")
        app.embedder = TimedEmbedder(app.embedder)
        started = time.perf_counter()
        reports = app.ingest(sources, **options)
        total_seconds = time.perf_counter() - started
        failed = [r for r in reports if r.status == "failed"]
        if failed:
            sys.exit(f"{name}: {failed[0].error}")
        chunks = sum(r.chunks for r in reports)
        chars = sum(len(doc.page_content) for doc in documents)
        print(
            f"| {name} | {len(sources)} | {len(documents)} | {chars:,} | {load_seconds:.2f} | "
            f"{len(documents) / load_seconds:.0f} | {chunks} | {total_seconds:.1f} | {app.embedder.seconds:.1f} | "
            f"{total_seconds - app.embedder.seconds:.1f} | {chunks / total_seconds:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
