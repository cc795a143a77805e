"""POST /v1/ingest stages a re-upload beside the stored copy (HOME/uploads/COLLECTION/.pending/)
and replaces the stored copy only once the new bytes are in the index: a failed re-upload leaves
the file the index still matches, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import pytest
import requests

from rag_app.config import Settings
from serve_corpus import serving

GOOD = "# 예산\n\n올해 연구 예산은 3억 원이다."


@pytest.fixture
def api(tmp_path):
    from rag_app.serve.api import create_app

    app = create_app(Settings(home=tmp_path / "home", collection="inbox", mode="bm25"), max_upload_mb=1)
    with serving(app) as url:
        yield url, tmp_path / "home"


def upload(url: str, data: bytes) -> dict:
    response = requests.post(f"{url}/v1/ingest", files=[("files", ("budget.md", data, "text/markdown"))], timeout=120)
    assert response.status_code == 200, response.text
    [report] = response.json()["data"]
    return report


def test_failed_reupload_keeps_the_stored_copy(api):
    from rag_app import RagApp

    url, home = api
    stored = home / "uploads" / "inbox" / "budget.md"
    first = upload(url, GOOD.encode())
    assert first["status"] == "added" and stored.read_text(encoding="utf-8") == GOOD

    failed = upload(url, b"\xff\xfe\xfd not text \xff\xff")
    assert failed["status"] == "failed" and "cannot decode text" in failed["error"]
    assert stored.read_text(encoding="utf-8") == GOOD
    assert list((stored.parent / ".pending").iterdir()) == []
    app = RagApp(home=home, collection="inbox", mode="bm25")
    assert [info.source for info in app.sources()] == [str(stored)]
    assert "3억 원" in app.ask("올해 연구 예산은 얼마인가요?").answer

    replaced = upload(url, "# 예산\n\n올해 연구 예산은 5억 원으로 늘었다.".encode())
    assert replaced["status"] == "updated"
    assert "5억 원" in stored.read_text(encoding="utf-8")
