"""Safe URL mode: only public addresses, checked after DNS and on every redirect hop, unless allowed.

Real HTTP servers on 127.0.0.1 record every request they get, so "refused before any connection"
is checked as "the server saw nothing". A "public" first hop is simulated honestly by allow-listing
only that server's address and port: its redirect to another port, to 169.254.169.254 or to
10.0.0.1 must then be refused by the same checks a real public site's redirect would meet.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading

import pytest
from pydantic import ValidationError

from conftest import REPO_ROOT
from loaders.errors import LoaderError
from loaders.html import fetch
from loaders.url_safety import UnsafeUrlError, UrlPolicy, check_url, refusal, safe_session


class RecordingServer:
    """A page server on 127.0.0.1 that records request paths. GET /redirect?to=URL answers 302."""

    def __init__(self, body: str = "<html><head><title>내부 문서</title></head><body><article><p>{text}</p></article></body></html>"):
        self.paths: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.paths.append(self.path)
                if self.path.startswith("/redirect?to="):
                    self.send_response(302)
                    self.send_header("Location", self.path.split("=", 1)[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path == "/robots.txt":
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                text = "내부 토큰은 zebra-4471 입니다. The internal token is zebra-4471, kept on this private server only."
                data = body.format(text=text).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = RecordingServer()
    yield s
    s.close()


@pytest.fixture
def second_server():
    s = RecordingServer()
    yield s
    s.close()


# ---- the check itself (no connection) ----------------------------------------------------------
@pytest.mark.parametrize(
    "url, why",
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://127.1/", "loopback"),
        ("http://0x7f000001/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://0177.0.0.1/", "loopback"),
        ("http://localhost:8080/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[64:ff9b::7f00:1]/", "loopback"),  # NAT64 form of 127.0.0.1
        ("http://10.0.0.1/", "private"),
        ("http://192.168.1.10/", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://[fd00::1]/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://224.0.0.1/", "multicast"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://100.64.0.1/", "not a public address"),  # carrier-grade NAT
        ("http://240.0.0.1/", "reserved"),
    ],
)
def test_non_public_addresses_are_refused_in_every_spelling(url, why):
    with pytest.raises(UnsafeUrlError) as info:
        check_url(url, UrlPolicy())
    assert why in str(info.value) and str(info.value).startswith(url)
    assert "RAG_APP_URL_ALLOW" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://127.0.0.1:70/", "http:///nohost"])
def test_other_schemes_and_hostless_urls_are_refused(url):
    with pytest.raises(UnsafeUrlError):
        check_url(url, UrlPolicy())


def test_public_addresses_pass():
    check_url("http://93.184.216.34/", UrlPolicy())
    check_url("https://[2606:2800:220:1:248:1893:25c8:1946]/x", UrlPolicy())
    assert refusal(__import__("ipaddress").ip_address("8.8.8.8")) is None


def test_policy_entries_allow_what_they_name():
    policy = UrlPolicy.parse("wiki.corp.example, *.lab.example 10.20.0.0/16, 127.0.0.1:8080, [::1]:9000")
    check_url("http://10.20.3.4/", policy)
    check_url("http://127.0.0.1:8080/", policy)
    check_url("http://[::1]:9000/", policy)
    with pytest.raises(UnsafeUrlError, match="private"):
        check_url("http://10.21.0.1/", policy)
    with pytest.raises(UnsafeUrlError, match="loopback"):
        check_url("http://127.0.0.1:8081/", policy)  # another port of an allowed address
    assert policy.allows("wiki.corp.example", 443) and policy.allows("a.b.lab.example", 80)
    assert not policy.allows("lab.example", 80) and not policy.allows("evil.example", 80)


@pytest.mark.parametrize("entry", ["not a host!", "10.0.0.0/33", "host:port", "[::1]x", "127.0.0.1:99999"])
def test_bad_allow_entries_are_refused_with_the_entry_named(entry):
    from rag_app.config import Settings

    with pytest.raises(ValueError, match="invalid RAG_APP_URL_ALLOW entry"):
        UrlPolicy.parse(entry)
    with pytest.raises(ValidationError, match="RAG_APP_URL_ALLOW"):
        Settings(url_allow=entry)


# ---- real connections --------------------------------------------------------------------------
def test_safe_session_refuses_a_local_server_before_connecting(server):
    with pytest.raises(UnsafeUrlError, match="loopback") as info:
        fetch(server.url + "/secret", safe_session(UrlPolicy()))
    assert str(info.value).startswith(server.url + "/secret: refused to fetch from 127.0.0.1")
    assert server.paths == []
    # Full access (no session given) still reaches it: the CLI runs as its user.
    assert "zebra-4471" in fetch(server.url + "/secret")[3]


def test_allow_listed_server_is_fetched(server):
    final, _, _, text = fetch(server.url + "/page", safe_session(UrlPolicy.parse(f"127.0.0.1:{server.port}")))
    assert final == server.url + "/page" and "zebra-4471" in text
    assert server.paths == ["/page"]


def test_redirect_to_another_local_port_is_refused_at_the_hop(server, second_server):
    policy = UrlPolicy.parse(f"127.0.0.1:{server.port}")  # only the first server stands for a public site
    with pytest.raises(UnsafeUrlError) as info:
        fetch(f"{server.url}/redirect?to={second_server.url}/secret", safe_session(policy))
    message = str(info.value)
    assert message.startswith(f"{server.url}/redirect?to=") and "redirects elsewhere" in message and "loopback" in message
    assert server.paths == [f"/redirect?to={second_server.url}/secret"]
    assert second_server.paths == []  # the hop was refused before anything there was contacted


def test_every_hop_of_a_redirect_chain_is_checked(server, second_server):
    """Two allowed hops, then a third to a refused address: refused there, and only there."""
    policy = UrlPolicy.parse(f"127.0.0.1:{server.port}")
    chain = f"{server.url}/redirect?to={server.url}/redirect?to=http://0x7f000001:{second_server.port}/secret"
    with pytest.raises(UnsafeUrlError, match="redirects elsewhere: refused to fetch from 0x7f000001 \\(127.0.0.1\\): a loopback address"):
        fetch(chain, safe_session(policy))
    assert len(server.paths) == 2 and second_server.paths == []
    # The same chain with the last hop allowed too is followed to the end.
    both = UrlPolicy.parse(f"127.0.0.1:{server.port} 127.0.0.1:{second_server.port}")
    final, _, _, text = fetch(chain.replace("0x7f000001", "127.0.0.1"), safe_session(both))
    assert final == f"{second_server.url}/secret" and "zebra-4471" in text and second_server.paths == ["/secret"]


@pytest.mark.parametrize("target, why", [("http://169.254.169.254/latest/meta-data/", "link-local"), ("http://10.0.0.1/admin", "private")])
def test_redirect_to_metadata_or_private_address_is_refused_before_connecting(server, target, why):
    # Nothing listens at these addresses here: a refusal (not a connection error) proves no connection was tried.
    with pytest.raises(UnsafeUrlError, match=why):
        fetch(f"{server.url}/redirect?to={target}", safe_session(UrlPolicy.parse(f"127.0.0.1:{server.port}")), timeout=5)


def test_the_checked_address_is_the_one_connected_to(server, monkeypatch):
    """DNS rebinding: the first lookup says public, a second would say 127.0.0.1. The safe session
    looks up once and connects to what it checked, so the local server is never reached."""
    real = socket.getaddrinfo
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.test":
            lookups.append(host)
            address = "93.184.216.34" if len(lookups) == 1 else "127.0.0.1"
            return real(address, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with pytest.raises(LoaderError) as info:
        fetch(f"http://rebind.test:{server.port}/secret", safe_session(UrlPolicy()), timeout=2)
    assert "cannot fetch URL" in str(info.value)  # the public address is unreachable from here
    assert lookups == ["rebind.test"] and server.paths == []


# ---- through the app and the CLI ---------------------------------------------------------------
def run_cli(*args: str, home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_APP_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONIOENCODING="utf-8", RAG_APP_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "rag_app.cli", *args], capture_output=True, text=True, encoding="utf-8",
        env=env, cwd=str(REPO_ROOT), timeout=300,
    )


def test_app_ingest_in_safe_mode(server, tmp_path):
    from rag_app.app import RagApp

    app = RagApp(home=tmp_path / "home", collection="web", mode="bm25")
    [refused] = app.ingest([server.url + "/page"], safe_urls=True)
    assert refused.status == "failed" and "loopback" in refused.error and server.paths == []
    [crawled] = app.ingest([server.url + "/"], safe_urls=True, crawl_depth=1)
    assert crawled.status == "failed" and "loopback" in crawled.error and server.paths == []

    allowed = RagApp(home=tmp_path / "home", collection="web", mode="bm25", url_allow=f"127.0.0.1:{server.port}")
    [report] = allowed.ingest([server.url + "/page"], safe_urls=True)
    assert report.status == "added"
    assert "zebra-4471" in allowed.ask("내부 토큰은 무엇인가요?").answer


def test_cli_keeps_full_access_and_refuses_with_safe_urls(server, tmp_path):
    home = tmp_path / "home"
    safe = run_cli("ingest", server.url + "/page", "--safe-urls", home=home)
    assert safe.returncode == 1 and server.paths == []
    assert safe.stderr.splitlines()[0].startswith(f"rag-app: error: {server.url}/page: refused to fetch from 127.0.0.1")
    assert "Traceback" not in safe.stderr and len(safe.stderr.splitlines()) == 2  # the error and the summary
    full = run_cli("ingest", server.url + "/page", home=home)
    assert full.returncode == 0, full.stderr
    assert server.paths == ["/page"]


def test_safe_mode_and_allow_list_from_the_environment(server, tmp_path):
    """RAG_APP_SAFE_URLS=1 turns safe mode on for the CLI without the flag; RAG_APP_URL_ALLOW lets
    the named host:port through; a bad allow entry is a usage error naming the setting."""
    home = tmp_path / "home"
    env_run = lambda *args, **env: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "rag_app.cli", *args], capture_output=True, text=True, encoding="utf-8", cwd=str(REPO_ROOT), timeout=300,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("RAG_APP_")}, "HF_HUB_OFFLINE": "1", "RAG_APP_HOME": str(home), **env},
    )
    refused = env_run("ingest", server.url + "/page", RAG_APP_SAFE_URLS="1")
    assert refused.returncode == 1 and "refused to fetch from 127.0.0.1: a loopback address" in refused.stderr
    assert server.paths == []
    allowed = env_run("ingest", server.url + "/page", RAG_APP_SAFE_URLS="1", RAG_APP_URL_ALLOW=f"127.0.0.1:{server.port}")
    assert allowed.returncode == 0, allowed.stderr
    assert server.paths == ["/page"]
    bad = env_run("ingest", server.url + "/page", "--safe-urls", RAG_APP_URL_ALLOW="10.0.0.0/33")
    assert bad.returncode == 2 and "invalid RAG_APP_URL_ALLOW entry '10.0.0.0/33'" in bad.stderr
    assert len(bad.stderr.splitlines()) == 1
