"""CLI conventions: `--version`, `--log-level` / RAG_APP_LOG_LEVEL, help text on every option,
and a parser that imports nothing heavy (so `rag-app --help` stays fast)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from importlib.metadata import version

import pytest

from conftest import REPO_ROOT
from rag_app.cli import build_parser


def _run(*args: str, code: str | None = None, **env_extra: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_APP_")}
    env.update(PYTHONIOENCODING="utf-8", **env_extra)
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "rag_app.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, encoding="utf-8", env=env, cwd=str(REPO_ROOT), timeout=120)


def _parsers(parser: argparse.ArgumentParser, path: str = "rag-app"):
    """Every parser reachable from `parser`, with its command path."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}")


def test_every_option_and_command_has_help():
    missing = []
    commands = set()
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    commands.add(f"{path} {choice.dest}")
                    if not choice.help:
                        missing.append(f"{path} {choice.dest}")
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    assert {"rag-app api", "rag-app mcp", "rag-app remove", "rag-app vectorize", "rag-app tokenizer train"} <= commands
    assert missing == []


def test_version_comes_from_package_metadata():
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout == f"rag-app {version('rag-app')}\n"


def test_new_commands_are_listed():
    help_text = build_parser().format_help()
    assert "api" in help_text and "mcp" in help_text
    assert "--version" in help_text and "--log-level" in help_text


def test_log_level_flag_and_environment(monkeypatch):
    assert build_parser().parse_args(["sources"]).log_level == "WARNING"
    assert build_parser().parse_args(["--log-level", "debug", "sources"]).log_level == "DEBUG"
    monkeypatch.setenv("RAG_APP_LOG_LEVEL", "info")
    assert build_parser().parse_args(["sources"]).log_level == "INFO"
    assert build_parser().parse_args(["--log-level", "error", "sources"]).log_level == "ERROR"  # the flag wins


@pytest.mark.parametrize(
    "args, env",
    [(["--log-level", "loud", "sources"], {}), (["sources"], {"RAG_APP_LOG_LEVEL": "loud"})],
)
def test_bad_log_level_is_a_usage_error(args, env):
    result = _run(*args, **env)
    assert result.returncode == 2
    assert "argument --log-level: 'loud' is not a log level; choose DEBUG, INFO, WARNING, ERROR" in result.stderr


def test_log_level_configures_logging():
    code = (
        "import logging, sys\n"
        "from rag_app.cli import main\n"
        "assert main(sys.argv[1:]) == 0\n"
        "print(logging.getLevelName(logging.getLogger().level))\n"
    )
    for extra, env, expected in (
        (["--log-level", "info"], {}, "INFO"),
        ([], {"RAG_APP_LOG_LEVEL": "DEBUG"}, "DEBUG"),
        ([], {}, "WARNING"),
    ):
        result = subprocess.run(
            [sys.executable, "-c", code, *extra, "vectorize", "사과 바나나", "바나나 포도", "--analyzer", "whitespace", "--json"],
            capture_output=True, text=True, encoding="utf-8", cwd=str(REPO_ROOT), timeout=120,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("RAG_APP_")}, **env},
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1] == expected


def test_building_the_parser_imports_nothing_heavy():
    heavy = ("fastapi", "uvicorn", "mcp", "gradio", "torch", "langchain_core", "chromadb", "openai", "numpy")
    code = (
        "import sys\n"
        "from rag_app.cli import build_parser\n"
        "build_parser().format_help()\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    result = _run(code=code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
